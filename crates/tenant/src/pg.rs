//! PostgreSQL: tenant binding per transaction and the isolation lint
//! (feature `postgres`, on the sync [`postgres`] client).
//!
//! * [`TenantTransaction`] opens a transaction and binds the tenant for that
//!   transaction only (`SET LOCAL`, the statement form of
//!   `set_config('app.tenant_id', $1, true)`): the binding ends with the
//!   transaction, so a pooled connection never carries one tenant into the
//!   next request. `BEGIN` and the binding share one round trip.
//! * [`lint`] inspects the catalog and lists every table or view with a tenant
//!   column that row-level security does not protect against the application
//!   role: RLS off or not forced, no tenant policy, any other permissive
//!   policy (permissive policies are OR-ed, so each one widens access), a
//!   view over a tenant table that runs with its owner's rights (whether or
//!   not it shows the tenant column), a materialized view over one (RLS
//!   never applies to those), an application role that owns tables, is a
//!   superuser, has `BYPASSRLS`, or is a member of a role that is or has
//!   either (`SET ROLE` leaves RLS behind), one that has `CREATEROLE` or is
//!   a member of a role that has it (on PostgreSQL 15 and earlier it may
//!   grant itself a tenant table's owner;
//!   [`LintFinding::AppRoleCanCreateRoles`]), and one that holds
//!   `TRUNCATE`, `REFERENCES` or `TRIGGER` on a tenant table (RLS governs
//!   none of them).
//!
//!   Constraint checks see every row, whatever RLS hides, so the lint also
//!   reports a unique key on a tenant table without the tenant column (a
//!   unique violation tells one tenant that another holds the value; a
//!   single-column key on a `uuid` or a database-numbered id is exempt,
//!   see [`LintFinding::UniqueKeyWithoutTenantColumn`]), an exclusion
//!   constraint that compares the tenant column with no equality operator
//!   ([`LintFinding::ExclusionWithoutTenantEquality`]), a foreign key
//!   between tenant tables that does not pair their tenant columns (a row
//!   may reference another tenant's row), and a foreign key from a table
//!   without the tenant column to a tenant table
//!   ([`LintFinding::ForeignKeyFromGlobalTable`]); a foreign key to an
//!   inspected table is reported whatever schema the referencing table is
//!   in. It reports every schema in which the application role may create
//!   objects ([`LintFinding::AppRoleCanCreateInSchema`]: its own tables
//!   with such keys, functions for other roles to run), inspected or not,
//!   and `CREATE` on the database, with which it makes schemas of its own
//!   ([`LintFinding::AppRoleCanCreateInDatabase`]). And it reports every
//!   `SECURITY DEFINER` function the application role may execute
//!   (`EXECUTE` is granted to `PUBLIC` by default), in any schema, whose
//!   owner RLS does not bind on an inspected tenant table
//!   ([`LintFinding::SecurityDefinerFunction`]): what a function reads is
//!   not in the catalog, so each one is reported.
//!
//!   A policy is the tenant policy only when its `USING` and `WITH CHECK`
//!   (each where present), as PostgreSQL prints them, are exactly the
//!   predicate [`RlsPolicy`](crate::rls::RlsPolicy) generates for the
//!   table's tenant column: `tenant_id` equal to the bound `app.tenant_id`,
//!   with or without the scalar subselect, white space aside. Merely reading
//!   `app.tenant_id` is not enough: `tenant_id = .. OR
//!   current_setting('app.tenant_id', true) IS NULL` lets a connection with
//!   no tenant bound read every tenant's rows, and is reported
//!   ([`LintFinding::UnrecognisedTenantPolicy`]), as is a permissive policy
//!   that ignores the setting ([`LintFinding::PermissivePolicyWithoutTenant`]).
//!   Restrictive policies are AND-ed, only narrow access, and are not
//!   reported.
//!
//! ```no_run
//! use custodia_core::TenantId;
//! use custodia_tenant::pg::{LintOptions, TenantTransaction, lint};
//!
//! # fn main() -> Result<(), custodia_tenant::Error> {
//! let app_url = std::env::var("DATABASE_URL").unwrap_or_default();
//! let mut client = postgres::Client::connect(&app_url, postgres::NoTls)
//!     .map_err(|source| custodia_tenant::Error::Postgres { doing: "connecting", source })?;
//!
//! let tenant = TenantId::from_external_key("billing.account", "ACME-0042");
//! let mut tx = TenantTransaction::begin(&mut client, tenant)?;
//! // No WHERE tenant_id: the policy adds it.
//! let rows = tx.query("SELECT id, subject FROM tickets ORDER BY id", &[])
//!     .map_err(|source| custodia_tenant::Error::Postgres { doing: "listing tickets", source })?;
//! tx.commit()?;
//!
//! // In CI or at start-up: fail if any tenant table is unprotected.
//! let report = lint(&mut client, &LintOptions::new("custodia_app"))?;
//! assert!(report.is_clean(), "{report}");
//! # let _ = rows;
//! # Ok(())
//! # }
//! ```

use std::fmt;

use custodia_core::TenantId;
use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, Row, Statement, ToStatement};

use crate::pgsql::{
    CatalogRow, DATABASE_SQL, DefinerFunction, FUNCTIONS_SQL, POLICIES_SQL, Policy, RELATIONS_SQL,
    ROLE_SQL, Relation, RoleAttrs, SCHEMAS_SQL, SchemaCreate, TxAccess, begin_bound_sql,
};
pub use crate::pgsql::{LintFinding, LintOptions, LintReport};
use crate::{Error, TenantContext};

/// [`TenantTransaction::commit`]'s one simple query: the `SELECT 1` fails on
/// an aborted transaction, and PostgreSQL then skips the `COMMIT`.
const COMMIT_IF_LIVE: &str = "SELECT 1; COMMIT";

fn pg(doing: &'static str) -> impl FnOnce(postgres::Error) -> Error {
    move |source| Error::Postgres { doing, source }
}

/// A transaction bound to one tenant: every statement in it sees and writes
/// only that tenant's rows in RLS-protected tables.
///
/// `BEGIN` and the binding go to the server together in one round trip, so a
/// bound transaction costs no more round trips than an unbound one. Dropping
/// it without [`commit`](Self::commit) rolls back; either way the binding ends
/// with the transaction and the connection goes back to the pool unbound.
/// [`commit`](Self::commit) fails, rather than reporting success, when an
/// earlier statement's failure had aborted the transaction.
pub struct TenantTransaction<'a> {
    client: &'a mut Client,
    tenant: TenantId,
    open: bool,
}

impl<'a> TenantTransaction<'a> {
    /// Begins a transaction and binds `tenant` for its duration.
    pub fn begin(client: &'a mut Client, tenant: TenantId) -> Result<Self, Error> {
        custodia_core::op_span!(DEBUG, "custodia.tenant.bind");
        client
            .batch_execute(&begin_bound_sql(tenant, TxAccess::ReadWrite))
            .map_err(pg("beginning a transaction bound to the tenant"))?;
        Ok(Self {
            client,
            tenant,
            open: true,
        })
    }

    /// Begins a transaction bound to `ctx`'s tenant.
    pub fn begin_for(client: &'a mut Client, ctx: &TenantContext) -> Result<Self, Error> {
        Self::begin(client, ctx.tenant())
    }

    /// The bound tenant.
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// Runs a statement and returns its rows ([`Client::query`]).
    pub fn query<T: ?Sized + ToStatement>(
        &mut self,
        query: &T,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, postgres::Error> {
        self.client.query(query, params)
    }

    /// Runs a statement that returns exactly one row ([`Client::query_one`]).
    pub fn query_one<T: ?Sized + ToStatement>(
        &mut self,
        query: &T,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, postgres::Error> {
        self.client.query_one(query, params)
    }

    /// Runs a statement that returns at most one row ([`Client::query_opt`]).
    pub fn query_opt<T: ?Sized + ToStatement>(
        &mut self,
        query: &T,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, postgres::Error> {
        self.client.query_opt(query, params)
    }

    /// Runs a statement and returns the number of rows it affected ([`Client::execute`]).
    pub fn execute<T: ?Sized + ToStatement>(
        &mut self,
        query: &T,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, postgres::Error> {
        self.client.execute(query, params)
    }

    /// Prepares a statement ([`Client::prepare`]).
    pub fn prepare(&mut self, query: &str) -> Result<Statement, postgres::Error> {
        self.client.prepare(query)
    }

    /// Runs statements in the simple query protocol ([`Client::batch_execute`]).
    /// Do not `COMMIT` or `ROLLBACK` here: use [`commit`](Self::commit) and
    /// [`rollback`](Self::rollback).
    pub fn batch_execute(&mut self, query: &str) -> Result<(), postgres::Error> {
        self.client.batch_execute(query)
    }

    /// Commits; the binding ends with the transaction.
    ///
    /// Fails with [`Error::TransactionAborted`], and rolls back, when a
    /// statement in the transaction failed and the caller went on: PostgreSQL
    /// has then aborted the transaction, and would answer a bare `COMMIT`
    /// with a rollback and no error, so that every write would be lost while
    /// the commit looked successful. The check costs no extra round trip:
    /// `SELECT 1; COMMIT` goes as one simple query, the `SELECT 1` fails on
    /// an aborted transaction (SQLSTATE `25P02`), and PostgreSQL skips the
    /// rest of the string, so the `COMMIT` never runs. It does cost the
    /// server one more statement (tens of microseconds on a busy machine,
    /// any statement alike), which a second round trip would cost as well;
    /// the driver reports neither the transaction status nor `COMMIT`'s
    /// command tag (`ROLLBACK` for an aborted transaction), which would be
    /// free. To tolerate a statement that may fail, run it in a savepoint
    /// and roll back to the savepoint when it fails.
    ///
    /// A `COMMIT` that fails itself (a deferred constraint, a serialization
    /// failure) is [`Error::Postgres`], as before; nothing was committed
    /// either.
    pub fn commit(mut self) -> Result<(), Error> {
        match self.client.batch_execute(COMMIT_IF_LIVE) {
            Ok(()) => {
                self.open = false;
                Ok(())
            }
            // `open` stays set: drop sends `ROLLBACK`, which ends a
            // transaction the `SELECT 1` found aborted (or a cancelled one)
            // and draws only a warning after a `COMMIT` that failed.
            Err(source) if source.code() == Some(&SqlState::IN_FAILED_SQL_TRANSACTION) => {
                Err(Error::TransactionAborted)
            }
            Err(source) => Err(pg("committing")(source)),
        }
    }

    /// Rolls back; the binding ends with the transaction.
    pub fn rollback(mut self) -> Result<(), Error> {
        self.open = false;
        self.client
            .batch_execute("ROLLBACK")
            .map_err(pg("rolling back"))
    }
}

impl Drop for TenantTransaction<'_> {
    fn drop(&mut self) {
        if self.open {
            // Best effort, as the driver's own transactions do: a broken
            // connection is discarded by its pool anyway.
            let _ = self.client.batch_execute("ROLLBACK");
        }
    }
}

impl fmt::Debug for TenantTransaction<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantTransaction")
            .field("tenant", &self.tenant)
            .field("open", &self.open)
            .finish_non_exhaustive()
    }
}

/// Runs `f` in a transaction bound to `tenant` and commits if it returns `Ok`
/// (rolls back otherwise).
///
/// `Ok` means the commit happened. If a statement in `f` failed and `f`
/// returned `Ok` anyway (it handled the error), PostgreSQL has aborted the
/// transaction and nothing can be committed: this fails with
/// [`Error::TransactionAborted`] and rolls back (see
/// [`TenantTransaction::commit`]). Run a statement whose failure `f` means
/// to tolerate in a savepoint (`SAVEPOINT s`, then `ROLLBACK TO SAVEPOINT s`
/// when it fails) to keep the transaction's other writes.
pub fn with_tenant<T>(
    client: &mut Client,
    tenant: TenantId,
    f: impl FnOnce(&mut TenantTransaction<'_>) -> Result<T, Error>,
) -> Result<T, Error> {
    let mut tx = TenantTransaction::begin(client, tenant)?;
    let value = f(&mut tx)?;
    tx.commit()?;
    Ok(value)
}

impl CatalogRow for Row {
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

fn get<'a, T: postgres::types::FromSql<'a>>(row: &'a Row, idx: usize) -> Result<T, Error> {
    row.try_get(idx).map_err(pg("reading the catalog"))
}

/// Inspects the catalog for tenant tables the application role could read
/// across tenants. Needs a connection that can read `pg_catalog` (any role).
pub fn lint(client: &mut Client, options: &LintOptions) -> Result<LintReport, Error> {
    let mut report = LintReport::default();
    let role = &options.app_role;
    let attrs = client
        .query_opt(ROLE_SQL, &[role])
        .map_err(pg("reading the application role"))?
        .map(|row| RoleAttrs::from_row(&row))
        .transpose()?;
    let role_exists = report.add_role(role, attrs);
    let rows = client
        .query(
            RELATIONS_SQL,
            &[role, &options.tenant_column, &role_exists, &options.schemas],
        )
        .map_err(pg("listing tenant tables"))?;
    for row in &rows {
        let oid: postgres::types::Oid = get(row, 8)?;
        let rel = Relation::from_row(row)?;
        if let Some(table) = report.add_relation(rel) {
            let mut policies = Vec::new();
            for p in &client
                .query(POLICIES_SQL, &[&oid])
                .map_err(pg("listing policies"))?
            {
                policies.push(Policy::from_row(p)?);
            }
            report.add_policies(table, policies);
        }
    }
    if role_exists {
        let mut functions = Vec::new();
        for row in &client
            .query(
                FUNCTIONS_SQL,
                &[role, &options.tenant_column, &options.schemas],
            )
            .map_err(pg("listing SECURITY DEFINER functions"))?
        {
            functions.push(DefinerFunction::from_row(row)?);
        }
        report.add_functions(functions);
        let mut schemas = Vec::new();
        for row in &client
            .query(SCHEMAS_SQL, &[role])
            .map_err(pg("listing schemas the application role may create in"))?
        {
            schemas.push(SchemaCreate::from_row(row)?);
        }
        report.add_schemas(role, schemas);
        let mut database = Vec::new();
        for row in &client.query(DATABASE_SQL, &[role]).map_err(pg(
            "reading whether the application role may create schemas",
        ))? {
            database.push(SchemaCreate::from_row(row)?);
        }
        report.add_database(role, database);
    }
    Ok(report)
}
