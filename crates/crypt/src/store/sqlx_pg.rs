//! [`SqlxKeyStore`]: the PostgreSQL key store on a sqlx pool (feature
//! `sqlx`), for async hosts. Same schema, statements, transactions and
//! row checks as [`PostgresKeyStore`](crate::PostgresKeyStore): both run the
//! SQL core (`store::sql`), so sync and async processes share one store.
//!
//! The core is synchronous (one implementation of every compare-and-swap for
//! all drivers); this driver runs it on tokio's blocking pool and awaits each
//! statement there with `Handle::block_on`, so the network I/O is sqlx's,
//! driven by the runtime's reactor, and no runtime worker ever waits on it.

use std::future::Future;

use sqlx_core::column::Column as _;
use sqlx_core::query::{Query, query};
use sqlx_core::raw_sql::raw_sql;
use sqlx_core::row::Row as _;
use sqlx_core::transaction::Transaction;
use sqlx_core::type_info::TypeInfo as _;
use sqlx_postgres::{PgArguments, PgPool, PgRow, Postgres};
use tokio::runtime::{Handle, RuntimeFlavor};

use super::sql::{self, Param, SqlConnection, SqlExec, SqlKeyStore, Value};
use crate::Error;
use crate::runtime::on_blocking_pool;

/// Wrapped keys, tombstones, the keyring record and nonce counts in
/// PostgreSQL, reached through a sqlx pool: the fleet's key store for
/// async app servers.
///
/// It is a [`KeyStore`](crate::KeyStore) whose calls block until the server
/// answers, so use it through the async types, which make those calls on
/// tokio's blocking pool:
///
/// * [`AsyncKeyring::from_store`](crate::AsyncKeyring::from_store) and
///   [`AsyncSubjectVault::new`](crate::AsyncSubjectVault::new) for sealing,
///   opening and shredding;
/// * [`AsyncKeyStore`](crate::AsyncKeyStore) for the store's own operations
///   (e.g. reading a tombstone).
///
/// Called directly from a runtime worker (a keyring's or vault's sync
/// method inside a task) it fails with [`Error::WouldBlock`] instead of
/// blocking or panicking; from a plain thread it blocks, as the sync stores
/// do, when its runtime is multi-threaded.
///
/// ```no_run
/// use std::sync::Arc;
/// use custodia_core::{ActorId, SubjectId, SystemClock, TenantId};
/// use custodia_crypt::{
///     AsyncKeyring, AsyncSubjectVault, DataKeyMode, FieldContext, SecretKey, SqlxKeyStore,
/// };
/// # async fn demo(pool: sqlx_postgres::PgPool, root: SecretKey) -> Result<(), custodia_crypt::Error> {
/// let store = Arc::new(SqlxKeyStore::new(pool).await?);
/// let keyring = AsyncKeyring::from_store(store.clone(), root, DataKeyMode::Random).await?;
/// let vault = AsyncSubjectVault::new(&keyring, store, Arc::new(SystemClock));
///
/// let tenant = TenantId::from_external_key("crm", "ACME");
/// let alice = SubjectId::from_external_key(tenant, "contact", "1017");
/// let ctx = FieldContext::new(tenant, "ticket", "T-1", "requester_email")?;
/// let sealed = vault.seal(alice, &ctx, b"alice@example.com").await?;
/// assert_eq!(vault.open(&ctx, &sealed).await?, b"alice@example.com");
/// # Ok(()) }
/// ```
pub struct SqlxKeyStore {
    inner: SqlKeyStore<SqlxConnection>,
}

/// The pool, and the runtime its connections live on.
struct SqlxConnection {
    pool: PgPool,
    runtime: Handle,
}

fn db(e: sqlx_core::Error) -> Error {
    Error::Sqlx { source: e.into() }
}

/// The statement with its parameters bound: i64 for BIGINT, bytes for BYTEA.
fn bound<'q>(sql: &'q str, params: &[Param<'q>]) -> Query<'q, Postgres, PgArguments> {
    params
        .iter()
        .fold(query::<Postgres>(sql), |q, param| match *param {
            Param::Int(n) => q.bind(n),
            Param::Bytes(b) => q.bind(b),
        })
}

fn decode(row: &PgRow) -> Result<Vec<Value>, Error> {
    (0..row.len())
        .map(|i| {
            Ok(match row.column(i).type_info().name() {
                "BYTEA" => row
                    .try_get::<Option<Vec<u8>>, _>(i)
                    .map_err(db)?
                    .map_or(Value::Null, Value::Bytes),
                "INT8" => row
                    .try_get::<Option<i64>, _>(i)
                    .map_err(db)?
                    .map_or(Value::Null, Value::Int),
                _ => Value::Other("an unexpected column type"),
            })
        })
        .collect()
}

/// Whether this thread may wait for a future on `runtime`: on the blocking
/// pool, or on a plain thread when the runtime has worker threads of its
/// own to drive the I/O.
fn may_block_on(runtime: &Handle) -> bool {
    on_blocking_pool()
        || (Handle::try_current().is_err()
            && runtime.runtime_flavor() == RuntimeFlavor::MultiThread)
}

impl SqlxConnection {
    /// Fails with [`Error::WouldBlock`] where waiting would stall async tasks.
    fn permit(&self) -> Result<(), Error> {
        if may_block_on(&self.runtime) {
            Ok(())
        } else {
            Err(Error::WouldBlock)
        }
    }

    /// Waits for `work` on this thread, inside the pool's runtime (sqlx
    /// returns connections to the pool with a spawned task).
    fn wait<F: Future>(&self, work: F) -> F::Output {
        let _context = self.runtime.enter();
        self.runtime.block_on(work)
    }
}

impl SqlExec for SqlxConnection {
    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Vec<Value>>, Error> {
        self.permit()?;
        let rows = self
            .wait(bound(sql, params).fetch_all(&self.pool))
            .map_err(db)?;
        rows.iter().map(decode).collect()
    }

    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, Error> {
        self.permit()?;
        let done = self
            .wait(bound(sql, params).execute(&self.pool))
            .map_err(db)?;
        Ok(done.rows_affected())
    }
}

/// A transaction on one pooled connection; dropped uncommitted, it rolls back.
struct SqlxTransaction<'c> {
    tx: Transaction<'static, Postgres>,
    conn: &'c SqlxConnection,
}

impl SqlExec for SqlxTransaction<'_> {
    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Vec<Value>>, Error> {
        let rows = self
            .conn
            .wait(bound(sql, params).fetch_all(&mut *self.tx))
            .map_err(db)?;
        rows.iter().map(decode).collect()
    }

    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, Error> {
        let done = self
            .conn
            .wait(bound(sql, params).execute(&mut *self.tx))
            .map_err(db)?;
        Ok(done.rows_affected())
    }
}

impl SqlConnection for SqlxConnection {
    fn transaction<T>(
        &mut self,
        f: impl FnOnce(&mut dyn SqlExec) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.permit()?;
        // The rollback of a dropped transaction is queued in the runtime.
        let _context = self.runtime.enter();
        let tx = self.wait(self.pool.begin()).map_err(db)?;
        let mut tx = SqlxTransaction { tx, conn: &*self };
        let value = f(&mut tx)?;
        self.wait(tx.tx.commit()).map_err(db)?;
        Ok(value)
    }
}

impl SqlxKeyStore {
    /// Opens the store in the schema the pool's connections use (their
    /// `search_path`). Fails if the schema was not migrated or is another
    /// version, and outside a tokio runtime.
    pub async fn new(pool: PgPool) -> Result<Self, Error> {
        let runtime = Handle::try_current()
            .map_err(|_| Error::Store("SqlxKeyStore::new needs a tokio runtime".into()))?;
        let conn = SqlxConnection { pool, runtime };
        crate::runtime::blocking(move || {
            Ok(Self {
                inner: SqlKeyStore::new(conn)?,
            })
        })
        .await
    }

    /// Creates the key store's tables in the current schema if missing
    /// (as [`PostgresKeyStore::migrate`](crate::PostgresKeyStore::migrate):
    /// same schema, same lock). Run it as the tables' owner.
    pub async fn migrate(pool: &PgPool) -> Result<(), Error> {
        let mut tx = pool.begin().await.map_err(db)?;
        query::<Postgres>(sql::MIGRATE_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        raw_sql(sql::SCHEMA).execute(&mut *tx).await.map_err(db)?;
        tx.commit().await.map_err(db)
    }

    /// Gives `role` exactly `SELECT, INSERT, UPDATE` on the key store's
    /// tables (as [`PostgresKeyStore::grant`](crate::PostgresKeyStore::grant)).
    pub async fn grant(pool: &PgPool, role: &str) -> Result<(), Error> {
        let grant = sql::grant_sql(role)?;
        let mut tx = pool.begin().await.map_err(db)?;
        query::<Postgres>(sql::MIGRATE_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        raw_sql(&grant).execute(&mut *tx).await.map_err(db)?;
        tx.commit().await.map_err(db)
    }
}

super::delegate_key_store!(SqlxKeyStore, |store| store.inner);

impl std::fmt::Debug for SqlxKeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The pool's options hold the password: never print them.
        f.debug_struct("SqlxKeyStore").finish_non_exhaustive()
    }
}
