//! Tenant isolation, access control and data residency for Custodia.
//!
//! # Model
//!
//! * **Who is acting** is a [`TenantContext`] (tenant, actor, roles, teams,
//!   home region), built once after authentication and passed explicitly.
//!   Values proven to belong to the context's tenant are [`Scoped<T>`]; the
//!   guard ([`TenantContext::admit`], [`TenantContext::guard`]) refuses any
//!   record, id, cache key or job of another tenant with
//!   [`Error::CrossTenant`], which names both tenants and never the record's
//!   content. Helpers cover the known leaks: tenant-qualified [`CacheKey`]s,
//!   background [`TenantJob`]s that carry their context, and ids from URLs
//!   resolved against the context ([`TenantContext::resolve`], IDOR).
//! * **What they may do** is an [`access::AccessPolicy`] per tenant: roles →
//!   permissions on resources and actions within a sharing scope (own, team,
//!   tenant), and field rules per [`DataCategory`](custodia_core::DataCategory)
//!   (hidden, masked, read, write). Deny by default; every decision names the
//!   grant or the rule behind it; administrators cannot grant across tenants.
//! * **Where the data may go** is [`residency`]: each tenant has a home
//!   region; a transfer or sub-processor location is allowed (same region,
//!   EEA, adequacy, SCCs with an assessment) or denied, with the basis. The
//!   adequacy list is versioned JSON data with its date, not code.
//! * **The database enforces it too**: [`rls`] generates PostgreSQL
//!   row-level security for tenant tables, and with feature `postgres`,
//!   [`pg`] binds the tenant per transaction and lints the catalog for tables
//!   the application role could read across tenants.
//!
//! The key design decision is **defence in depth without ambient state**: the
//! tenant is an explicit value checked in Rust at every boundary (request,
//! cache, queue), *and* PostgreSQL refuses other tenants' rows even when a
//! query forgets its `WHERE tenant_id = ...`. Neither layer relies on a
//! thread-local or a session variable that could outlive its request.
//!
//! ```
//! use custodia_core::{ActorId, DataCategory, Region, TenantId};
//! use custodia_tenant::access::{AccessPolicy, Operation, FieldAccess, FieldRule, Permission, PolicyChange, Ownership, Scope};
//! use custodia_tenant::{Error, RoleName, TenantContext, TenantOwned};
//!
//! struct Ticket { tenant: TenantId, owner: ActorId, subject: String }
//! impl TenantOwned for Ticket {
//!     const KIND: &'static str = "ticket";
//!     fn tenant(&self) -> TenantId { self.tenant }
//! }
//!
//! let acme = TenantId::from_external_key("billing.account", "ACME-0042");
//! let globex = TenantId::from_external_key("billing.account", "GLOBEX-7");
//! let agent = ActorId::from_external_key(acme, "psa.user", "17");
//! let ctx = TenantContext::new(acme, agent, Region::EU).with_role(RoleName::new("agent")?);
//!
//! // The guard: another tenant's ticket never gets in, and the error shows no content.
//! let theirs = Ticket { tenant: globex, owner: agent, subject: "payroll".into() };
//! let err = ctx.admit(theirs).err().ok_or("admitted")?;
//! assert!(err.is_cross_tenant() && !err.to_string().contains("payroll"));
//!
//! // Access control: agents read their own tickets; email is masked.
//! let agent_role = RoleName::new("agent")?;
//! let mut policy = AccessPolicy::new(acme);
//! for change in [
//!     PolicyChange::DefineRole(agent_role.clone()),
//!     PolicyChange::Grant(agent_role.clone(), Permission::new("ticket", Operation::Read, Scope::Own)?),
//!     PolicyChange::SetField(agent_role.clone(), FieldRule { category: DataCategory::USER_CONTACT_EMAIL, access: FieldAccess::Masked }),
//! ] {
//!     policy.apply_unchecked(change)?;
//! }
//! let ours = ctx.admit(Ticket { tenant: acme, owner: agent, subject: "printer".into() })?;
//! let meta = Ownership { tenant: ours.tenant(), owner: Some(ours.owner), team: None };
//! let decision = policy.decide(&ctx, "ticket", Operation::Read, &meta);
//! assert_eq!(decision.to_string(), "granted by role agent: read ticket (own scope)");
//! let email = policy.field_access(&ctx, "ticket", &meta, &DataCategory::USER_CONTACT_EMAIL);
//! assert_eq!(email.access, FieldAccess::Masked);
//! assert!(!policy.decide(&ctx, "ticket", Operation::Delete, &meta).allowed); // deny by default
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The PostgreSQL setup a helpdesk backend copies
//!
//! 1. Two roles: the migration role owns the tables; the application logs in
//!    as a role that does **not** own them and is neither superuser nor
//!    `BYPASSRLS`:
//!
//!    ```sql
//!    CREATE ROLE custodia_app LOGIN PASSWORD '...' NOSUPERUSER NOBYPASSRLS;
//!    GRANT USAGE ON SCHEMA public TO custodia_app;
//!    ```
//!
//! 2. Tenant tables lead every key and index with `tenant_id`:
//!
//!    ```sql
//!    CREATE TABLE tickets (
//!        tenant_id uuid   NOT NULL,
//!        id        bigint GENERATED ALWAYS AS IDENTITY,
//!        subject   text   NOT NULL,
//!        PRIMARY KEY (tenant_id, id)
//!    );
//!    ```
//!
//! 3. In a migration (as the owner), run the SQL [`rls::RlsPolicy`] generates:
//!
//!    ```
//!    use custodia_tenant::rls::{RlsPolicy, TenantTable};
//!    let sql = RlsPolicy::new("custodia_app")?
//!        .table(TenantTable::new("public", "tickets")?)
//!        .table(TenantTable::new("public", "contacts")?)
//!        .sql();
//!    assert!(sql.contains(r#"ALTER TABLE "public"."tickets" FORCE ROW LEVEL SECURITY;"#));
//!    assert!(sql.contains("WITH CHECK (\"tenant_id\" = NULLIF(current_setting('app.tenant_id', true), '')::uuid)"));
//!    // client.batch_execute(&sql)?;
//!    # Ok::<(), custodia_tenant::Error>(())
//!    ```
//!
//! 4. In the application, every unit of work is a transaction bound to the
//!    request's tenant (feature `postgres`, see `pg`). A query that forgets
//!    `WHERE tenant_id` still sees one tenant; an insert with another
//!    tenant's id fails; a pooled connection used without binding sees no
//!    rows:
//!
//!    ```no_run
//!    # #[cfg(feature = "postgres")]
//!    # mod handler {
//!    use custodia_tenant::pg::with_tenant;
//!    use custodia_tenant::{Error, TenantContext};
//!
//!    /// GET /tickets: the tenant comes from the authenticated context only.
//!    pub fn list_tickets(db: &mut postgres::Client, ctx: &TenantContext) -> Result<Vec<String>, Error> {
//!        with_tenant(db, ctx.tenant(), |tx| {
//!            let rows = tx
//!                .query("SELECT subject FROM tickets ORDER BY id DESC LIMIT 50", &[])
//!                .map_err(|source| Error::Postgres { doing: "listing tickets", source })?;
//!            Ok(rows.iter().map(|row| row.get(0)).collect())
//!        })
//!    }
//!    # }
//!    ```
//!
//! 5. In CI and at start-up, `pg::lint` fails when a table with a
//!    `tenant_id` column lacks enabled-and-forced RLS, when its permissive
//!    policies are anything but the predicate step 3 generates (a policy
//!    that reads `app.tenant_id` in another way, e.g. one that admits every
//!    row when no tenant is bound, is reported too), when a view over a
//!    tenant table bypasses RLS (whether or not it shows the tenant
//!    column), or when the application role could bypass it (owner,
//!    superuser, `BYPASSRLS`, a member of a role that is either,
//!    `CREATEROLE` (on PostgreSQL 15 and earlier it grants itself the
//!    tables' owner), or `EXECUTE` on a `SECURITY DEFINER` function, in any
//!    schema, whose owner bypasses it).
//!    Constraint checks see every tenant's rows, so it also fails on a
//!    unique key or a foreign key between tenant tables without the tenant
//!    column, and on `REFERENCES`, `TRUNCATE` or `TRIGGER` held by the
//!    application role.
//!
//! The crate's integration tests (`tests/postgres.rs`) run exactly this setup
//! against a real PostgreSQL that `scripts/test` starts.
//!
//! # Features
//!
//! * `postgres`: [`pg`], on the sync `postgres` 0.19 client.
//! * `sqlx`: the same binding and lint on sqlx 0.8 (tokio) for async hosts:
//!   `begin_bound`, `begin_bound_on`, `commit_bound` and `sqlx_lint`,
//!   sending the same SQL as [`pg`].
//! * `proptest`: strategies for the main types (`arbitrary`).
//!
//! # Public surface
//!
//! The tenant context, its helpers and [`Error`] are at the crate root; each
//! of the three concerns above keeps its own public module ([`access`],
//! [`residency`], [`rls`], and `pg`), because their names (`Scope`,
//! `Operation`, `Basis`, `Ident`, `lint`) only read well qualified.

#![forbid(unsafe_code)]
// Library code returns typed errors; only tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(missing_docs)]
#![warn(unreachable_pub)]

// Namespaces: each concern's names read well only qualified.
pub mod access;
#[cfg(feature = "postgres")]
pub mod pg;
#[cfg(feature = "sqlx")]
mod pg_sqlx;
#[cfg(any(feature = "postgres", feature = "sqlx"))]
mod pgsql;
pub mod residency;
pub mod rls;
// A feature's add-on.
#[cfg(feature = "proptest")]
pub mod arbitrary;

mod context;
mod error;

// The tenant context and the values it vouches for.
pub use context::{
    CacheKey, MAX_NAME, RoleName, Scoped, TeamId, TenantContext, TenantJob, TenantOwned,
};
// Errors.
pub use error::Error;
#[cfg(feature = "sqlx")]
pub use pg_sqlx::{begin_bound, begin_bound_for, begin_bound_on, commit_bound, sqlx_lint};
#[cfg(feature = "sqlx")]
pub use pgsql::{LintFinding, LintOptions, LintReport};
#[cfg(any(feature = "postgres", feature = "sqlx"))]
pub use pgsql::{TxAccess, begin_bound_sql};
