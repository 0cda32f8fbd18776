//! [`PostgresKeyStore`]: the key store in PostgreSQL (feature `postgres`,
//! the synchronous `postgres` client), the shared backbone of a fleet. The
//! schema and its semantics are the SQL core's (see the crate's `store::sql`
//! docs): one store per schema (`search_path`).
//!
//! [`PostgresKeyStore::migrate`] creates the tables as an owner;
//! [`PostgresKeyStore::grant`] gives the application role `SELECT, INSERT,
//! UPDATE` on them and nothing else (no `DELETE`, `TRUNCATE` or DDL): a
//! shred overwrites the wrapped key with its tombstone.
//!
//! Propagation polls: each cache asks for the generation counter at most
//! once per staleness bound (one indexed single-row read). `LISTEN/NOTIFY`
//! would save those reads but needs a connection per process held open for
//! notifications and still a poll for missed ones; at one read per second
//! per process the poll alone is cheaper to operate.

use postgres::types::{ToSql, Type};
use postgres::{Client, GenericClient, NoTls};

use super::sql::{self, Param, SqlConnection, SqlExec, SqlKeyStore, Value};
use crate::Error;

/// Wrapped keys, tombstones, the keyring record and nonce counts in
/// PostgreSQL, shared by every process and machine using the schema.
pub struct PostgresKeyStore {
    inner: SqlKeyStore<PostgresConnection>,
}

struct PostgresConnection {
    client: Client,
}

fn pg(e: postgres::Error) -> Error {
    Error::Postgres { source: e.into() }
}

/// The parameters as the client wants them: i64 for BIGINT, &[u8] for BYTEA.
fn with_params<T>(params: &[Param<'_>], f: impl FnOnce(&[&(dyn ToSql + Sync)]) -> T) -> T {
    let ints: Vec<i64> = params
        .iter()
        .map(|p| match p {
            Param::Int(n) => *n,
            Param::Bytes(_) => 0,
        })
        .collect();
    let refs: Vec<&(dyn ToSql + Sync)> = params
        .iter()
        .zip(&ints)
        .map(|(p, n)| match p {
            Param::Int(_) => n as &(dyn ToSql + Sync),
            Param::Bytes(b) => b as &(dyn ToSql + Sync),
        })
        .collect();
    f(&refs)
}

fn query(
    client: &mut impl GenericClient,
    sql: &str,
    params: &[Param<'_>],
) -> Result<Vec<Vec<Value>>, Error> {
    let rows = with_params(params, |p| client.query(sql, p)).map_err(pg)?;
    rows.iter()
        .map(|row| {
            (0..row.len())
                .map(|i| {
                    let ty = row.columns()[i].type_();
                    Ok(if *ty == Type::BYTEA {
                        row.try_get::<_, Option<Vec<u8>>>(i)
                            .map_err(pg)?
                            .map_or(Value::Null, Value::Bytes)
                    } else if *ty == Type::INT8 {
                        row.try_get::<_, Option<i64>>(i)
                            .map_err(pg)?
                            .map_or(Value::Null, Value::Int)
                    } else {
                        Value::Other("an unexpected column type")
                    })
                })
                .collect()
        })
        .collect()
}

fn execute(client: &mut impl GenericClient, sql: &str, params: &[Param<'_>]) -> Result<u64, Error> {
    with_params(params, |p| client.execute(sql, p)).map_err(pg)
}

struct PostgresTransaction<'a>(postgres::Transaction<'a>);

impl SqlExec for PostgresTransaction<'_> {
    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Vec<Value>>, Error> {
        query(&mut self.0, sql, params)
    }

    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, Error> {
        execute(&mut self.0, sql, params)
    }
}

impl SqlExec for PostgresConnection {
    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Vec<Value>>, Error> {
        query(&mut self.client, sql, params)
    }

    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, Error> {
        execute(&mut self.client, sql, params)
    }
}

impl SqlConnection for PostgresConnection {
    fn transaction<T>(
        &mut self,
        f: impl FnOnce(&mut dyn SqlExec) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut tx = PostgresTransaction(self.client.transaction().map_err(pg)?);
        // Dropping an uncommitted transaction rolls it back.
        let value = f(&mut tx)?;
        tx.0.commit().map_err(pg)?;
        Ok(value)
    }
}

impl PostgresKeyStore {
    /// Connects to `url` (a libpq connection string, e.g. with
    /// `options=-csearch_path%3Dkeys` for a store in schema `keys`) and opens
    /// the store there. Fails if the schema was not migrated or is another
    /// version.
    pub fn connect(url: &str) -> Result<Self, Error> {
        Self::with_client(Client::connect(url, NoTls).map_err(pg)?)
    }

    /// Opens the store over an existing connection (its `search_path`
    /// decides the schema).
    pub fn with_client(client: Client) -> Result<Self, Error> {
        Ok(Self {
            inner: SqlKeyStore::new(PostgresConnection { client })?,
        })
    }

    /// Creates the key store's tables in the current schema if missing and
    /// records the schema version
    /// ([`KEY_STORE_SCHEMA_VERSION`](crate::KEY_STORE_SCHEMA_VERSION)). Run it
    /// as the tables' owner (not the application role). Idempotent; safe to
    /// run from several processes at once.
    pub fn migrate(client: &mut Client) -> Result<(), Error> {
        let mut tx = client.transaction().map_err(pg)?;
        tx.execute(sql::MIGRATE_LOCK, &[]).map_err(pg)?;
        tx.batch_execute(sql::SCHEMA).map_err(pg)?;
        tx.commit().map_err(pg)
    }

    /// Gives `role` exactly what a key store needs: `SELECT, INSERT, UPDATE`
    /// on its tables. Whatever else it held there (say `DELETE` from
    /// `ALTER DEFAULT PRIVILEGES`) is revoked first. The role also needs
    /// `USAGE` on the schema, which this does not grant.
    pub fn grant(client: &mut Client, role: &str) -> Result<(), Error> {
        let grant = sql::grant_sql(role)?;
        let mut tx = client.transaction().map_err(pg)?;
        tx.execute(sql::MIGRATE_LOCK, &[]).map_err(pg)?;
        tx.batch_execute(&grant).map_err(pg)?;
        tx.commit().map_err(pg)
    }
}

super::delegate_key_store!(PostgresKeyStore, |store| store.inner);

impl std::fmt::Debug for PostgresKeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The connection string may hold a password: never print it.
        f.debug_struct("PostgresKeyStore").finish_non_exhaustive()
    }
}
