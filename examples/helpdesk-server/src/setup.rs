//! The schema, made by the tables' owner, and the example's tickets.
//!
//! Any number of processes may start at once: the owner's part runs under
//! an advisory lock and creates only what is missing, so the first process
//! creates the schema and the others find it.

use custodia_audit::{Action, Actor, ActorKind, Event, SqlxAuditStore, Target};
use custodia_core::ActorId;
use custodia_crypt::SqlxKeyStore;
use custodia_example_helpdesk::demo::{self, Cast};
use custodia_example_helpdesk::store::{
    CONTACT_REGISTER, POSTGRES_REGISTER, POSTGRES_SCHEMA, PROCESSING_COLUMNS,
};
use custodia_tenant::rls::{Ident, RlsPolicy, TenantTable};
use custodia_tenant::{begin_bound, commit_bound};
use sqlx_core::connection::Connection as _;
use sqlx_core::query::query;
use sqlx_core::raw_sql::raw_sql;
use sqlx_core::row::Row as _;
use sqlx_postgres::{PgConnection, PgPoolOptions, Postgres};

use crate::Error;
use crate::app::{App, connect_options};
use crate::tickets::{self, NewRow};

/// What the server adds to the embedded example's tables: a marker for
/// tickets the retention job anonymized, ticket numbers shared by every
/// process, and the data-subject requests and breach incidents the desk
/// keeps (each a tenant's, under row-level security).
const SERVER_SCHEMA: &str = "ALTER TABLE tickets ADD COLUMN anonymized_at text;
     CREATE SEQUENCE ticket_ids START 3001;
     CREATE TABLE dsr_requests (
         tenant_id uuid NOT NULL,
         id        uuid NOT NULL,
         request   text NOT NULL,
         PRIMARY KEY (tenant_id, id)
     );
     CREATE TABLE breach_incidents (
         tenant_id uuid NOT NULL,
         id        uuid NOT NULL,
         incident  text NOT NULL,
         PRIMARY KEY (tenant_id, id)
     );";

/// The tenant tables, under row-level security (the contact register is
/// the embedded example's `contact_processing`).
const TENANT_TABLES: [&str; 4] = [
    "tickets",
    CONTACT_REGISTER,
    "dsr_requests",
    "breach_incidents",
];

/// As the owner (`owner_url`): creates `schema` and its tables if missing
/// (after dropping it, with `reset`), and grants the role of `app_url` only
/// what it needs. Returns whether the tickets were created just now.
pub(crate) async fn prepare(
    owner_url: &str,
    app_url: &str,
    schema: &str,
    reset: bool,
) -> Result<bool, Error> {
    let mut app = PgConnection::connect_with(&connect_options(app_url, schema)?).await?;
    let app_role: String = query::<Postgres>("SELECT current_user::text")
        .fetch_one(&mut app)
        .await?
        .try_get(0)?;
    let _ = app.close().await;
    let role = Ident::new(&app_role)?;
    let name = Ident::new(schema)?;
    let owner = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(connect_options(owner_url, schema)?)
        .await?;
    let mut tx = owner.begin().await?;
    query::<Postgres>("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(format!("custodia helpdesk-server setup {schema}"))
        .execute(&mut *tx)
        .await?;
    if reset {
        raw_sql(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
            .execute(&mut *tx)
            .await?;
    }
    raw_sql(&format!(
        "CREATE SCHEMA IF NOT EXISTS {name}; GRANT USAGE ON SCHEMA {name} TO {role};"
    ))
    .execute(&mut *tx)
    .await?;
    let exists: bool = query::<Postgres>("SELECT to_regclass($1) IS NOT NULL")
        .bind(format!("{name}.tickets"))
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    if !exists {
        raw_sql(POSTGRES_SCHEMA).execute(&mut *tx).await?;
        raw_sql(POSTGRES_REGISTER).execute(&mut *tx).await?;
        raw_sql(SERVER_SCHEMA).execute(&mut *tx).await?;
        let mut rls = RlsPolicy::new(&app_role)?;
        for table in TENANT_TABLES {
            rls = rls.table(TenantTable::new(schema, table)?);
        }
        raw_sql(&rls.sql()).execute(&mut *tx).await?;
        raw_sql(&format!(
            "GRANT SELECT, INSERT ON {name}.ticket_tenants TO {role};
             GRANT USAGE ON SEQUENCE {name}.ticket_ids TO {role};"
        ))
        .execute(&mut *tx)
        .await?;
    } else {
        // A schema made before restriction was built gains its columns,
        // every ticket active (asked first: the ALTER would lock the table
        // against the running fleet on every start).
        for (column, declaration) in PROCESSING_COLUMNS {
            let missing: bool = query::<Postgres>(
                "SELECT NOT EXISTS (SELECT 1 FROM information_schema.columns \
                 WHERE table_schema = $1 AND table_name = 'tickets' AND column_name = $2)",
            )
            .bind(schema)
            .bind(column)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            if missing {
                raw_sql(&format!(
                    "ALTER TABLE {name}.tickets ADD COLUMN {column} {declaration}"
                ))
                .execute(&mut *tx)
                .await?;
            }
        }
        // And one made before the contact register existed gains it, under
        // row-level security as the other tenant tables are.
        let register: bool = query::<Postgres>("SELECT to_regclass($1) IS NOT NULL")
            .bind(format!("{name}.{CONTACT_REGISTER}"))
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        if !register {
            raw_sql(POSTGRES_REGISTER).execute(&mut *tx).await?;
            let rls = RlsPolicy::new(&app_role)?.table(TenantTable::new(schema, CONTACT_REGISTER)?);
            raw_sql(&rls.sql()).execute(&mut *tx).await?;
        }
    }
    tx.commit().await?;
    SqlxKeyStore::migrate(&owner).await?;
    SqlxKeyStore::grant(&owner, &app_role).await?;
    SqlxAuditStore::migrate(&owner).await?;
    SqlxAuditStore::grant(&owner, &app_role).await?;
    owner.close().await;
    Ok(!exists)
}

/// Adds the example's six tickets (those of served tenants), each audited
/// as created by its agent, and Alice's sign-in to the portal (her IP
/// address sealed under her key), as the embedded example does.
pub(crate) async fn seed(app: &App) -> Result<(), Error> {
    let cast = Cast::new();
    let served = |tenant| app.tenants.iter().any(|(_, id)| *id == tenant);
    let seeding =
        |e: crate::app::ApiError| Error::Config(format!("seeding the tickets failed: {e:?}"));
    for t in demo::tickets(&cast).iter().filter(|t| served(t.tenant)) {
        let mut tx = begin_bound(&app.pool, t.tenant).await?;
        let row = NewRow {
            id: Some(t.id),
            subject: Some(t.subject),
            owner: t.owner,
            created: t.created,
            closed: t.closed,
            status: t.status,
            subject_line: t.subject_line,
            name: t.name,
            email: t.email,
            phone: t.phone,
            body: t.body,
        };
        let stored = tickets::insert(app, &mut tx, t.tenant, &row)
            .await
            .map_err(seeding)?;
        let event = Event::builder(
            t.tenant,
            Actor::new(ActorKind::Agent, t.owner),
            Action::Create,
            Target::new(custodia_example_helpdesk::store::RECORD_TYPE, stored.id)?,
        )
        .subject(stored.subject)
        .note("fields name, email, phone, body sealed")
        .build(app.clock.as_ref())?;
        app.record(event).await?;
        // Fails, rather than reporting a seed that was not stored, if
        // PostgreSQL aborted the transaction.
        commit_bound(tx).await?;
    }
    if served(cast.acme) {
        let portal = ActorId::from_external_key(cast.acme, "portal.user", &cast.alice.to_string());
        let login = Event::builder(
            cast.acme,
            Actor::new(ActorKind::User, portal)
                .as_subject(cast.alice)
                .with_ip(demo::ALICE_PORTAL_IP),
            Action::Login,
            Target::new("portal", "support")?,
        )
        .subject(cast.alice)
        .note("signed in with password and one-time code")
        .build(app.clock.as_ref())?;
        app.record(login).await?;
    }
    Ok(())
}
