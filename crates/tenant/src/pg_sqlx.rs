//! PostgreSQL on sqlx (feature `sqlx`): the async tenant binding and isolation
//! lint, for hosts on a multi-threaded tokio runtime.
//!
//! The SQL and the lint's semantics are the sync `pg` (feature `postgres`) path's
//! (one driver-free implementation, `pgsql`); only sending and decoding
//! differ. Every future here is `Send`, and the pool, connections and
//! transactions are sqlx's own (`Send + Sync` where sqlx makes them so).
//!
//! # Nothing about a binding survives its transaction
//!
//! [`begin_bound`] sends `BEGIN; SET LOCAL app.tenant_id = '<uuid>'` as one
//! simple query (one round trip, no prepared statement). `SET LOCAL` is
//! `set_config(.., true)`: PostgreSQL drops the value at `COMMIT` or
//! `ROLLBACK`, including the rollback sqlx issues when a [`Transaction`] is
//! dropped uncommitted (an error or a panic mid-transaction). No session-level
//! `SET` is ever sent, so a connection goes back to the pool unbound, and a
//! connection that is used unbound sees no rows (the policies compare with
//! `NULL`).
//!
//! That is also why it is safe behind a transaction-pooling proxy such as
//! pgbouncer (`pool_mode = transaction`): the proxy hands a server connection
//! to one client transaction at a time, and the binding lives exactly as long
//! as that transaction, on that server connection. A session-level binding
//! would stay on the server connection and reach another client's next
//! transaction. Separately from the binding: sqlx caches named prepared
//! statements per connection, which a transaction-pooling proxy supports only
//! with prepared-statement tracking (pgbouncer 1.21+, `max_prepared_statements`)
//! or with `persistent(false)` queries. The lint uses only unnamed statements
//! inside one read-only transaction, so it runs behind such a proxy as is.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use custodia_core::TenantId;
//! use custodia_tenant::{LintOptions, begin_bound, commit_bound, sqlx_lint};
//! use sqlx_core::row::Row as _;
//!
//! let pool = sqlx_postgres::PgPool::connect("postgres://custodia_app@db/helpdesk").await?;
//! let tenant = TenantId::from_external_key("billing.account", "ACME-0042");
//!
//! let mut tx = begin_bound(&pool, tenant).await?;
//! // No WHERE tenant_id: the policy adds it.
//! let rows = sqlx_core::query::query::<sqlx_postgres::Postgres>("SELECT subject FROM tickets")
//!     .fetch_all(&mut *tx)
//!     .await?;
//! // Fails, rather than reporting a commit, if a statement's failure had
//! // aborted the transaction (sqlx's `tx.commit()` would answer `Ok`).
//! commit_bound(tx).await?;
//! let subjects: Vec<String> = rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?;
//!
//! // In CI or at start-up: fail if any tenant table is unprotected.
//! let report = sqlx_lint(&pool, &LintOptions::new("custodia_app")).await?;
//! assert!(report.is_clean(), "{report}");
//! # let _ = subjects;
//! # Ok(())
//! # }
//! ```

use custodia_core::TenantId;
use sqlx_core::acquire::Acquire;
use sqlx_core::connection::Connection as _;
use sqlx_core::executor::Executor;
use sqlx_core::query::query;
use sqlx_core::row::Row as _;
use sqlx_core::transaction::Transaction;
use sqlx_postgres::types::Oid;
use sqlx_postgres::{PgConnection, PgPool, PgRow, Postgres};

use crate::pgsql::{
    CatalogRow, DATABASE_SQL, DefinerFunction, FUNCTIONS_SQL, LintOptions, LintReport,
    POLICIES_SQL, Policy, RELATIONS_SQL, ROLE_SQL, Relation, RoleAttrs, SCHEMAS_SQL, SchemaCreate,
    TxAccess, begin_bound_sql,
};
#[cfg(doc)]
use crate::rls::BIND_TENANT_SQL;
use crate::{Error, TenantContext};

fn db(doing: &'static str) -> impl FnOnce(sqlx_core::Error) -> Error {
    move |source| Error::Sqlx { doing, source }
}

/// Takes a connection from `pool` and begins a transaction bound to `tenant`:
/// every statement in it sees and writes only that tenant's rows in
/// RLS-protected tables.
///
/// `BEGIN` and the binding share one round trip (the same statement the sync
/// `pg::TenantTransaction` sends; [`BIND_TENANT_SQL`] is its
/// `set_config` form). Commit with [`commit_bound`]; dropping it uncommitted
/// rolls back. Either way the binding ends with the transaction and the
/// connection returns to the pool unbound.
///
/// What this returns is sqlx's own [`Transaction`], and its
/// [`Transaction::commit`] reports success for a transaction PostgreSQL had
/// aborted: when a statement in it failed and the caller handled the error
/// and went on, the server answers `COMMIT` with a rollback and no error,
/// and sqlx returns `Ok` although every write is gone. [`commit_bound`]
/// fails instead.
pub async fn begin_bound(
    pool: &PgPool,
    tenant: TenantId,
) -> Result<Transaction<'static, Postgres>, Error> {
    custodia_core::op_future!(
        pool.begin_with(begin_bound_sql(tenant, TxAccess::ReadWrite)),
        DEBUG,
        "custodia.tenant.bind"
    )
    .await
    .map_err(db("beginning a transaction bound to the tenant"))
}

/// Commits `tx` (from [`begin_bound`], [`begin_bound_on`] or any sqlx
/// transaction), failing with [`Error::TransactionAborted`] instead of
/// reporting success when PostgreSQL had aborted it.
///
/// A statement that failed in the transaction aborts it, even if the caller
/// handled the error and went on; PostgreSQL then answers `COMMIT` with a
/// rollback and no error, and [`Transaction::commit`] returns `Ok` although
/// nothing was stored. This first runs `SELECT 1`, which fails on an aborted
/// transaction (SQLSTATE `25P02`): the transaction is then rolled back and
/// the error is [`Error::TransactionAborted`]. Otherwise it commits with
/// [`Transaction::commit`]; a `COMMIT` that fails itself (a deferred
/// constraint, a serialization failure) is [`Error::Sqlx`].
///
/// The check costs one round trip more than [`Transaction::commit`]: sqlx
/// reports neither the transaction status nor `COMMIT`'s command tag, and
/// sending `SELECT 1; COMMIT` as one query (as the sync
/// `pg::TenantTransaction::commit` does) would leave sqlx believing the
/// transaction open. The `SELECT 1` is a simple query (no prepared
/// statement), so this also works behind a transaction-pooling proxy.
///
/// To tolerate a statement that may fail, run it in a nested transaction
/// (sqlx's `tx.begin()`, a savepoint) and roll that back when it fails.
pub async fn commit_bound(mut tx: Transaction<'_, Postgres>) -> Result<(), Error> {
    // A bare string: the simple protocol, no prepared statement.
    match Executor::execute(&mut *tx, "SELECT 1").await {
        Ok(_) => {}
        Err(sqlx_core::Error::Database(e))
            if e.code().as_deref() == Some(IN_FAILED_SQL_TRANSACTION) =>
        {
            // Best effort: if the connection broke, the server rolls back a
            // transaction whose session ends, and nothing was committed either way.
            let _ = tx.rollback().await;
            return Err(Error::TransactionAborted);
        }
        // Dropping `tx` queues sqlx's `ROLLBACK`.
        Err(source) => return Err(db("checking the transaction before committing")(source)),
    }
    tx.commit().await.map_err(db("committing"))
}

/// SQLSTATE `in_failed_sql_transaction`: a statement sent to an aborted
/// transaction.
const IN_FAILED_SQL_TRANSACTION: &str = "25P02";

/// [`begin_bound`] on a connection the caller already holds. Fails if the
/// connection is already in a transaction (a binding must start its own).
pub async fn begin_bound_on(
    conn: &mut PgConnection,
    tenant: TenantId,
) -> Result<Transaction<'_, Postgres>, Error> {
    custodia_core::op_future!(
        conn.begin_with(begin_bound_sql(tenant, TxAccess::ReadWrite)),
        DEBUG,
        "custodia.tenant.bind"
    )
    .await
    .map_err(db("beginning a transaction bound to the tenant"))
}

/// [`begin_bound`] for `ctx`'s tenant.
pub async fn begin_bound_for(
    pool: &PgPool,
    ctx: &TenantContext,
) -> Result<Transaction<'static, Postgres>, Error> {
    begin_bound(pool, ctx.tenant()).await
}

impl CatalogRow for PgRow {
    fn text(&self, idx: usize) -> Result<String, Error> {
        get(self, idx)
    }

    fn flag(&self, idx: usize) -> Result<bool, Error> {
        get(self, idx)
    }

    fn texts(&self, idx: usize) -> Result<Vec<String>, Error> {
        get(self, idx)
    }
}

fn get<'r, T>(row: &'r PgRow, idx: usize) -> Result<T, Error>
where
    T: sqlx_core::decode::Decode<'r, Postgres> + sqlx_core::types::Type<Postgres>,
{
    row.try_get(idx).map_err(db("reading the catalog"))
}

/// The isolation lint of `pg::lint` on sqlx: lists every tenant
/// table or view the application role could read across tenants.
///
/// `conn` is a pool, a connection or a transaction (any role can read
/// `pg_catalog`). The queries run in one read-only transaction as unnamed
/// statements, so this also works behind a transaction-pooling proxy.
pub async fn sqlx_lint<'c, A>(conn: A, options: &LintOptions) -> Result<LintReport, Error>
where
    A: Acquire<'c, Database = Postgres>,
{
    let mut conn = conn.acquire().await.map_err(db("acquiring a connection"))?;
    let mut tx = conn
        .begin_with("BEGIN READ ONLY")
        .await
        .map_err(db("beginning the lint's transaction"))?;
    let mut report = LintReport::default();
    let role = options.app_role.as_str();
    let attrs = query::<Postgres>(ROLE_SQL)
        .persistent(false)
        .bind(role)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db("reading the application role"))?
        .map(|row| RoleAttrs::from_row(&row))
        .transpose()?;
    let role_exists = report.add_role(role, attrs);
    let rows = query::<Postgres>(RELATIONS_SQL)
        .persistent(false)
        .bind(role)
        .bind(options.tenant_column.as_str())
        .bind(role_exists)
        .bind(options.schemas.clone())
        .fetch_all(&mut *tx)
        .await
        .map_err(db("listing tenant tables"))?;
    for row in &rows {
        let oid: Oid = get(row, 8)?;
        let rel = Relation::from_row(row)?;
        if let Some(table) = report.add_relation(rel) {
            let mut policies = Vec::new();
            for p in &query::<Postgres>(POLICIES_SQL)
                .persistent(false)
                .bind(oid)
                .fetch_all(&mut *tx)
                .await
                .map_err(db("listing policies"))?
            {
                policies.push(Policy::from_row(p)?);
            }
            report.add_policies(table, policies);
        }
    }
    if role_exists {
        let mut functions = Vec::new();
        for row in &query::<Postgres>(FUNCTIONS_SQL)
            .persistent(false)
            .bind(role)
            .bind(options.tenant_column.as_str())
            .bind(options.schemas.clone())
            .fetch_all(&mut *tx)
            .await
            .map_err(db("listing SECURITY DEFINER functions"))?
        {
            functions.push(DefinerFunction::from_row(row)?);
        }
        report.add_functions(functions);
        let mut schemas = Vec::new();
        for row in &query::<Postgres>(SCHEMAS_SQL)
            .persistent(false)
            .bind(role)
            .fetch_all(&mut *tx)
            .await
            .map_err(db("listing schemas the application role may create in"))?
        {
            schemas.push(SchemaCreate::from_row(row)?);
        }
        report.add_schemas(role, schemas);
        let mut database = Vec::new();
        for row in &query::<Postgres>(DATABASE_SQL)
            .persistent(false)
            .bind(role)
            .fetch_all(&mut *tx)
            .await
            .map_err(db(
                "reading whether the application role may create schemas",
            ))?
        {
            database.push(SchemaCreate::from_row(row)?);
        }
        report.add_database(role, database);
    }
    tx.rollback()
        .await
        .map_err(db("ending the lint's transaction"))?;
    Ok(report)
}
