//! Data-subject requests and breaches: custodia-dsr's desk over the
//! embedded example's sync backend, served by `custodia_axum::dsr::DsrRoutes`
//! under `/privacy`, plus two routes a DPO needs to use them (find a
//! contact by email; read a contact's audit history).
//!
//! The desk is synchronous, and `DsrRoutes` runs it on tokio's blocking
//! pool, where sync PostgreSQL clients may block. So it gets the embedded
//! example's own pieces on the `postgres` client, over the server's tables:
//! `Tickets` (the personal-data source and email directory),
//! `PostgresKeyStore` under a `SubjectVault` (which it shreds), and an
//! `AuditTrail` over `PostgresStore` (the same log the layer appends to
//! through sqlx). Requests and incidents are kept in tables under row-level
//! security, so every server process answers for every request.
//!
//! The contact register is reached by the desk itself, once per request
//! whether or not the contact has a ticket, through the tickets source's
//! subject-level step (`PersonalDataSource::subject_step`): a restriction
//! or objection of a contact with no ticket is written to it, so their
//! next ticket is stored restricted or with their objection; an access
//! request's export lists the contact's row (record type
//! `contact_register`: state and objections, under the pseudonymous
//! contact id); an erasure removes it and its certificate says so.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::extract::{Path, State};
use custodia_audit::{AuditLog, PostgresStore};
use custodia_axum::dsr::{DsrRoutes, IncidentStore, RequestStore};
use custodia_axum::{Json, Tenant, Tx};
use custodia_core::{Clock, DataCategory, SubjectId, TenantId};
use custodia_crypt::{DataKeyMode, KeyStore, Keyring, PostgresKeyStore, SecretKey, SubjectVault};
use custodia_dsr::breach::{BreachRegister, Incident, IncidentId};
use custodia_dsr::{
    AuditTrail, BoxError, Desk, ErasureException, ErasurePolicy, FieldAction, PersonalDataSource,
    PolicyRetention, RenderedAuditEvent, Request, RequestId, SubjectAuditHistory,
};
use custodia_example_helpdesk::Tickets;
use custodia_retention::RetentionPolicy;
use custodia_tenant::pg::TenantTransaction;
use custodia_tenant::{RoleName, TenantContext};
use serde::Deserialize;
use serde_json::Value;
use sqlx_core::query::query;
use sqlx_core::row::Row as _;
use sqlx_postgres::Postgres;

use crate::access::DPO;
use crate::app::{ApiError, App, Query, bad_request, forbidden};
use crate::{AUDIT_LOG, Error};

/// The desk's audit trail: the shared log on the sync client.
type Trail = AuditTrail<PostgresStore, Arc<dyn KeyStore>>;

/// The data-subject desk and the breach register of one process.
///
/// Its sync clients must not be closed on a thread that drives async tasks
/// (the `postgres` client blocks on a runtime of its own): dropped, it
/// hands its parts to a thread of their own.
pub(crate) struct Desks {
    parts: Option<Parts>,
}

struct Parts {
    desk: Arc<Desk>,
    trail: Arc<Trail>,
    requests: Arc<PgRequests>,
    incidents: Arc<PgIncidents>,
    register: Arc<BreachRegister>,
}

impl Drop for Desks {
    fn drop(&mut self) {
        if let Some(parts) = self.parts.take() {
            let _ = std::thread::spawn(move || drop(parts)).join();
        }
    }
}

/// A sync client whose tables are `schema`'s (a startup option).
fn connect(url: &str, schema: &str) -> Result<postgres::Client, Error> {
    let mut config: postgres::Config = url.parse()?;
    config.options(&format!("-c search_path={schema}"));
    Ok(config.connect(postgres::NoTls)?)
}

impl Desks {
    /// Opens the desk's connections and the log (verifying it). Blocks: run
    /// it on the blocking pool.
    pub(crate) fn open(
        url: &str,
        schema: &str,
        root: &SecretKey,
        policy: Arc<RetentionPolicy>,
        clock: Arc<dyn Clock>,
        staleness: Duration,
        staged: Staged,
    ) -> Result<Self, Error> {
        let key_store: Arc<dyn KeyStore> =
            Arc::new(PostgresKeyStore::with_client(connect(url, schema)?)?);
        let keyring = Arc::new(
            Keyring::from_store(Arc::clone(&key_store), root, DataKeyMode::Random)?
                .with_staleness_bound(staleness),
        );
        let vault = Arc::new(
            SubjectVault::new(Arc::clone(&keyring), key_store, Arc::clone(&clock))
                .with_staleness_bound(staleness),
        );
        let tickets = Arc::new(Tickets::postgres(
            connect(url, schema)?,
            keyring,
            Arc::clone(&vault),
        ));
        let requests = Arc::new(PgRequests {
            client: Mutex::new(connect(url, schema)?),
        });
        let log = AuditLog::open(PostgresStore::with_client(
            connect(url, schema)?,
            AUDIT_LOG,
        )?)?
        .require_sealed(true);
        let trail = Arc::new(
            AuditTrail::new(log, Arc::clone(&vault))
                .with_vendor_tenant(custodia_example_helpdesk::vendor_tenant()),
        );
        // The embedded example's desk (`Helpdesk::desk`), on these pieces.
        let retention = Arc::new(
            PolicyRetention::new(policy, Arc::clone(&clock))
                .exception("closed-tickets", ErasureException::LegalClaims),
        );
        let desk = Desk::new(Arc::clone(&clock), trail.clone())
            .with_source(tickets as Arc<dyn PersonalDataSource>)?
            .with_key_shredder(vault)
            .with_retention(retention.clone())
            .with_backup_horizon(retention)
            .with_audit_history(Arc::new(CaughtUp(trail.clone(), staged)))
            .with_erasure_policy(
                ErasurePolicy::delete_all()
                    .rule(DataCategory::USER_CONTENT_TICKET, FieldAction::Anonymize),
            );
        let register = Arc::new(BreachRegister::new(clock, trail.clone()));
        Ok(Self {
            parts: Some(Parts {
                desk: Arc::new(desk),
                trail,
                requests,
                incidents: Arc::new(PgIncidents {
                    client: Mutex::new(connect(url, schema)?),
                    pending: Mutex::new(connect(url, schema)?),
                }),
                register,
            }),
        })
    }

    fn parts(&self) -> Result<&Parts, ApiError> {
        self.parts
            .as_ref()
            .ok_or_else(|| ApiError::Internal("the data-subject desk is closed".into()))
    }

    /// The `/privacy` routes of custodia-axum over this desk, for the DPO role.
    pub(crate) fn routes(&self) -> Result<DsrRoutes, Error> {
        let parts = self
            .parts()
            .map_err(|_| Error::Config("the data-subject desk is closed".into()))?;
        Ok(DsrRoutes::new(
            Arc::clone(&parts.desk),
            parts.requests.clone(),
            RoleName::new(DPO)?,
        )
        .with_breaches(Arc::clone(&parts.register), parts.incidents.clone()))
    }

    /// The audit trail the desk writes to.
    pub(crate) fn trail(&self) -> Result<Arc<Trail>, ApiError> {
        Ok(Arc::clone(&self.parts()?.trail))
    }
}

/// Moves the events requests staged in their transactions into the log,
/// from the desk's blocking threads (the requests' events reach the log
/// just after their commit; a history or export must not miss one).
#[derive(Clone)]
pub(crate) struct Staged {
    pub(crate) log: Arc<custodia_audit::AsyncAuditLog>,
    pub(crate) runtime: tokio::runtime::Handle,
}

impl Staged {
    /// Blocks until staged events are drained. On the blocking pool only.
    fn drain(&self) -> Result<u64, custodia_audit::Error> {
        self.runtime.block_on(self.log.drain())
    }
}

/// The subject's audit history from the shared log, after draining staged
/// events and reading what every other writer (this process's async side,
/// other processes) appended since: the sync log's view grows only by its
/// own appends and catch-ups.
struct CaughtUp(Arc<Trail>, Staged);

impl SubjectAuditHistory for CaughtUp {
    fn events_for(
        &self,
        tenant: TenantId,
        subject: SubjectId,
    ) -> Result<Vec<RenderedAuditEvent>, BoxError> {
        self.1.drain()?;
        self.0.with_log(|log| log.catch_up())?;
        self.0.events_for(tenant, subject)
    }
}

fn lock(client: &Mutex<postgres::Client>) -> MutexGuard<'_, postgres::Client> {
    client.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `f` in a transaction bound to `tenant` (row-level security).
fn bound<T>(
    client: &Mutex<postgres::Client>,
    tenant: TenantId,
    f: impl FnOnce(&mut TenantTransaction<'_>) -> Result<T, BoxError>,
) -> Result<T, BoxError> {
    let mut client = lock(client);
    let mut tx = TenantTransaction::begin(&mut client, tenant)?;
    let value = f(&mut tx)?;
    tx.commit()?;
    Ok(value)
}

/// Data-subject requests in table `dsr_requests` (JSON, one row each).
struct PgRequests {
    client: Mutex<postgres::Client>,
}

impl RequestStore for PgRequests {
    fn get(&self, tenant: TenantId, id: RequestId) -> Result<Option<Request>, BoxError> {
        bound(&self.client, tenant, |tx| {
            let row = tx.query_opt(
                "SELECT request FROM dsr_requests WHERE id = $1",
                &[id.as_uuid()],
            )?;
            Ok(row
                .map(|r| serde_json::from_str(r.get::<_, &str>(0)))
                .transpose()?)
        })
    }

    fn put(&self, request: &Request) -> Result<(), BoxError> {
        let json = serde_json::to_string(request)?;
        bound(&self.client, request.tenant, |tx| {
            tx.execute(
                "INSERT INTO dsr_requests (tenant_id, id, request) VALUES ($1, $2, $3) \
                 ON CONFLICT (tenant_id, id) DO UPDATE SET request = EXCLUDED.request",
                &[request.tenant.as_uuid(), request.id.as_uuid(), &json],
            )?;
            Ok(())
        })
    }
}

/// Breach incidents in table `breach_incidents`, per tenant.
///
/// A new incident is pending as an uncommitted insert: `insert` writes the
/// row in a transaction of its own connection (`pending`), has it audited,
/// and commits only then. Until the commit no other connection, of this
/// process or another, sees the row (`GET` answers 404, the list leaves it
/// out); another `insert` of its id waits for the row's transaction and
/// then finds it stored (409) or, after a failed audit, inserts it. A
/// failed audit rolls the row back; so does PostgreSQL when the process
/// dies or its connection breaks before the commit, so a crash leaves no
/// pending row to block the id. No schema change: no row is ever marked
/// pending. The cost is a transaction held open, and that connection
/// busy, for the audit (this process's new incidents are recorded one at
/// a time); a server `idle_in_transaction_session_timeout` shorter than an
/// audit would end it (the audit written, the incident not stored: the
/// error-level event of `custodia_axum::dsr` names it).
struct PgIncidents {
    /// Reads and notifications.
    client: Mutex<postgres::Client>,
    /// New incidents, each in a transaction held open across its audit.
    pending: Mutex<postgres::Client>,
}

impl IncidentStore for PgIncidents {
    fn list(&self, tenant: TenantId) -> Result<Vec<Incident>, BoxError> {
        bound(&self.client, tenant, |tx| {
            let rows = tx.query("SELECT incident FROM breach_incidents ORDER BY id", &[])?;
            Ok(rows
                .iter()
                .map(|r| serde_json::from_str(r.get::<_, &str>(0)))
                .collect::<Result<_, _>>()?)
        })
    }

    fn get(&self, tenant: TenantId, id: IncidentId) -> Result<Option<Incident>, BoxError> {
        bound(&self.client, tenant, |tx| {
            // Row-level security shows only `tenant`'s rows: another
            // tenant's id finds none, as a missing one does (and a pending
            // one, not yet committed).
            let row = tx.query_opt(
                "SELECT incident FROM breach_incidents WHERE id = $1",
                &[id.as_uuid()],
            )?;
            Ok(row
                .map(|r| serde_json::from_str(r.get::<_, &str>(0)))
                .transpose()?)
        })
    }

    fn insert(
        &self,
        tenant: TenantId,
        incident: &Incident,
        audit: &mut dyn FnMut() -> Result<(), BoxError>,
    ) -> Result<bool, BoxError> {
        let json = serde_json::to_string(incident)?;
        let mut client = lock(&self.pending);
        let mut tx = TenantTransaction::begin(&mut client, tenant)?;
        // Waits for another transaction's uncommitted row of this id, and
        // writes nothing if that one commits.
        let written = tx.execute(
            "INSERT INTO breach_incidents (tenant_id, id, incident) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant_id, id) DO NOTHING",
            &[tenant.as_uuid(), incident.id.as_uuid(), &json],
        )?;
        if written != 1 {
            return Ok(false);
        }
        // On failure `tx` is dropped, and rolls the row back.
        audit()?;
        tx.commit()?;
        Ok(true)
    }

    fn replace(
        &self,
        tenant: TenantId,
        current: &Incident,
        next: &Incident,
    ) -> Result<bool, BoxError> {
        if next.id != current.id {
            return Ok(false);
        }
        let json = serde_json::to_string(next)?;
        bound(&self.client, tenant, |tx| {
            // Locked while compared, so two servers' notifications of one
            // incident cannot both replace what they read.
            let row = tx.query_opt(
                "SELECT incident FROM breach_incidents WHERE id = $1 FOR UPDATE",
                &[current.id.as_uuid()],
            )?;
            let Some(row) = row else {
                return Ok(false);
            };
            let stored: Incident = serde_json::from_str(row.get::<_, &str>(0))?;
            if stored != *current {
                return Ok(false);
            }
            tx.execute(
                "UPDATE breach_incidents SET incident = $2 WHERE id = $1",
                &[current.id.as_uuid(), &json],
            )?;
            Ok(true)
        })
    }
}

/// 403 unless the caller has the DPO role.
fn require_dpo(ctx: &TenantContext) -> Result<(), ApiError> {
    if ctx.roles().iter().any(|r| r.as_str() == DPO) {
        Ok(())
    } else {
        Err(forbidden(format!("this route needs the {DPO} role")))
    }
}

/// The query of `GET /privacy/subjects`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubjectsQuery {
    email: String,
}

/// `GET /privacy/subjects?email=`: the contacts of the caller's tenant with
/// this email (by blind index), for a DPO opening a request.
pub(crate) async fn subjects(
    State(app): State<Arc<App>>,
    Tenant(ctx): Tenant,
    mut tx: Tx,
    Query(q): Query<SubjectsQuery>,
) -> Result<Json<Vec<SubjectId>>, ApiError> {
    require_dpo(&ctx)?;
    if q.email.len() > 254 {
        return Err(bad_request(
            axum::http::StatusCode::BAD_REQUEST,
            "email is longer than 254 bytes",
        ));
    }
    let index = crate::tickets::email_index(&app, ctx.tenant(), &q.email).await?;
    let rows = query::<Postgres>(
        "SELECT DISTINCT subject_id FROM tickets WHERE email_index = $1 AND subject_id IS NOT NULL \
         ORDER BY subject_id",
    )
    .bind(index)
    .fetch_all(&mut *tx)
    .await?;
    let mut subjects = Vec::new();
    for row in &rows {
        let text: String = row.try_get(0)?;
        subjects.push(
            text.parse()
                .map_err(|_| ApiError::Internal("a stored contact id does not parse".into()))?,
        );
    }
    Ok(Json(subjects))
}

/// `GET /privacy/subjects/{id}/audit`: every audit event about the contact
/// in the caller's tenant, their values opened with their key
/// (`[erased]` once it is shredded, `[withheld]` for other people's). An
/// id of another tenant, or none, has no events here.
pub(crate) async fn subject_audit(
    State(app): State<Arc<App>>,
    Tenant(ctx): Tenant,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    require_dpo(&ctx)?;
    let subject: SubjectId = id.parse().map_err(|_| crate::app::not_found("contact"))?;
    let trail = app.desks.trail()?;
    let tenant = ctx.tenant();
    let staged = app.staged();
    let events = tokio::task::spawn_blocking(move || {
        CaughtUp(trail, staged)
            .events_for(tenant, subject)
            .map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("the audit history task failed: {e}")))??;
    Ok(Json(serde_json::to_value(events)?))
}
