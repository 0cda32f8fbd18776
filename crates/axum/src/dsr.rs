//! Data-subject request endpoints (feature `dsr`): a [`Router`] the host
//! nests under its tenant routes, behind `CustodiaLayer`.
//!
//! | route | does | answer |
//! |---|---|---|
//! | `POST /requests` | logs a request (`Desk::receive`) and records how identity was checked (`Desk::verify`) | 201, the request |
//! | `GET /requests/{id}` | the request's status, deadline and history (a refusal or an answer after its deadline flagged: `rejection.late`, `completed_late`) | 200, the request |
//! | `POST /requests/{id}/run` | runs it (`Desk::run`): an access or portability export comes back as a download (`Content-Disposition: attachment`, `Cache-Control: no-store`: the person's data must not stay in a cache), an erasure as its certificate, a rectification or restriction as the updated request | 200 |
//!
//! With [`DsrRoutes::with_breaches`], the breach register too:
//!
//! | route | does | answer |
//! |---|---|---|
//! | `POST /breaches` | records a new incident concerning the caller's tenant (Art. 33(5); `BreachRegister::record`) | 201, the incident and its notification deadline; 409 if its id is recorded already; 422 if it is of another format version, carries notifications (they are recorded as they are sent, with the time and lateness the register gives them), a processor delay outside 0 to 8,760 hours, an `aware_at` in the future (more than `AWARENESS_SKEW_SECONDS` past the register's clock: it would push the deadline out) or a `window` that starts after it ends |
//! | `GET /breaches` | the tenant's incidents, with their deadlines | 200 |
//! | `GET /breaches/{id}` | one incident | 200 |
//! | `POST /breaches/{id}/notifications` | records a notification sent now (the register stamps the time and judges it late or not, `BreachRegister::notification`; a late one needs `delay_reason`, Art. 33(1)); body `{"recipient": {"to": "authority", "name": …}, "delay_reason": …}` | 200, the incident; 404 as for `GET`; 409 if late without a reason, or if another request changed the incident meanwhile (try again: nothing was recorded, and the register audits a notification only once the store has taken it); 422 if the stored incident's `aware_at` is in the future (a store edited behind the register: lateness cannot be judged from it) |
//!
//! A new incident is checked (`BreachRegister::check_record`), stored
//! ([`IncidentStore::insert`], which refuses an id stored already) and only
//! then audited by the register (`BreachRecorded`,
//! `BreachRegister::record`): of two `POST`s of one id, even at once, only
//! the stored one is audited, so the log holds one `BreachRecorded` per
//! stored incident, with the stored content; the other answers 409 and
//! leaves only the layer's failure event. Should that audit fail, the
//! incident is removed ([`IncidentStore::remove`]) and the answer is 500.
//! Should the removal fail too (the store fails, or a notification was
//! recorded on it meanwhile), the answer is the same 500 and, with feature
//! `tracing`, an error-level event names the tenant and the incident id:
//! that incident is stored without its `BreachRecorded` event. For the
//! moment between the store and the audit, the incident can be read, and
//! notified, before its `BreachRecorded` event is written.
//!
//! A notification is audited by the register (`BreachNotified`,
//! `BreachRegister::audit_notification`) only after
//! [`IncidentStore::replace`] stored it: one that loses the
//! compare-and-swap changed nothing and leaves no such event, only the
//! layer's failure event of the refused request. Should the register's
//! audit then fail, the incident is put back as it was read and the answer
//! is 500, so no stored notification lacks its event. Should the put-back
//! fail too (the store fails, or another request changed the incident
//! meanwhile), the answer is the same 500 and, with feature `tracing`, an
//! error-level event names the tenant and the incident id (nothing else):
//! that notification is stored without its audit event.
//!
//! Every route needs the privacy role given to [`DsrRoutes::new`] in the
//! caller's verified context (403 otherwise), and sees only the caller's
//! tenant: a request id of another tenant is the same 404 as a missing one
//! (the store is asked by tenant and id). Requests are kept by the host's
//! [`RequestStore`] ([`MemoryRequests`] in memory); the desk and the store
//! are synchronous and run on tokio's blocking pool. Each desk step is
//! audited by the desk's own sink; the layer additionally records the HTTP
//! request: target `dsr_request` and the subject, action `create` for
//! `POST /requests` and, for `POST /requests/{id}/run`, `export`, `erase`,
//! `update` (a rectification) or `restrict` (a restriction or objection)
//! by the outcome; a run that fails (a source down, a step the request's
//! state does not allow) is recorded the same way, as a `failure`. The breach
//! routes' changes are recorded with target `breach` and no subject; reads
//! (`GET`) carry no audit part and are not recorded by the layer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custodia_audit::{Action, Target};
use custodia_core::Timestamp;
use custodia_core::{SubjectId, TenantId};
use custodia_dsr::breach::{BreachRegister, Incident, IncidentId, NotificationRecipient};
use custodia_dsr::{
    BoxError, Desk, Request, RequestId, RequestKind, RequestOutcome, VerificationMethod,
};
use custodia_tenant::{RoleName, TenantContext};

use crate::{Audit, Error, Json, Tenant};

/// Where the host keeps data-subject requests, by tenant.
pub trait RequestStore: Send + Sync + 'static {
    /// The request `id` of `tenant`, if there is one.
    fn get(&self, tenant: TenantId, id: RequestId) -> Result<Option<Request>, BoxError>;
    /// Stores (inserts or replaces) `request`.
    fn put(&self, request: &Request) -> Result<(), BoxError>;
}

/// A [`RequestStore`] in memory (tests, single-process desks).
#[derive(Debug, Default)]
pub struct MemoryRequests(Mutex<HashMap<(TenantId, RequestId), Request>>);

impl RequestStore for MemoryRequests {
    fn get(&self, tenant: TenantId, id: RequestId) -> Result<Option<Request>, BoxError> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(map.get(&(tenant, id)).cloned())
    }

    fn put(&self, request: &Request) -> Result<(), BoxError> {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.insert((request.tenant, request.id), request.clone());
        Ok(())
    }
}

/// Where the host keeps breach incidents, by tenant.
pub trait IncidentStore: Send + Sync + 'static {
    /// The incidents concerning `tenant`.
    fn list(&self, tenant: TenantId) -> Result<Vec<Incident>, BoxError>;
    /// The incident `id` of `tenant`, if there is one: `None` alike for an
    /// id that exists nowhere and for another tenant's (the routes answer
    /// both with the same 404). The routes that need one incident ask for
    /// it by id rather than list the tenant's register.
    fn get(&self, tenant: TenantId, id: IncidentId) -> Result<Option<Incident>, BoxError>;
    /// Stores `incident` for `tenant` unless an incident with its id is
    /// stored for `tenant` already: then nothing is written and the answer
    /// is `false`. A recorded incident is never replaced through this
    /// call: the register's record of it (Art. 33(5)) is not rewritten by
    /// a second `POST` of the same id.
    fn insert(&self, tenant: TenantId, incident: &Incident) -> Result<bool, BoxError>;
    /// Replaces `current`, as it was read, with `next` (the same incident,
    /// a notification added) for `tenant`, only while the stored incident
    /// still equals `current`: otherwise nothing is written and the answer
    /// is `false`, so a notification another request recorded meanwhile is
    /// never lost.
    fn replace(
        &self,
        tenant: TenantId,
        current: &Incident,
        next: &Incident,
    ) -> Result<bool, BoxError>;
    /// Removes `incident` of `tenant`, only while the stored incident
    /// still equals it: otherwise (changed, or gone) nothing is written and
    /// the answer is `false`. `POST /breaches` stores a new incident before
    /// the register audits it, and removes it with this when that audit
    /// fails, so that no stored incident lacks its `BreachRecorded` event.
    fn remove(&self, tenant: TenantId, incident: &Incident) -> Result<bool, BoxError>;
}

/// An [`IncidentStore`] in memory.
#[derive(Debug, Default)]
pub struct MemoryIncidents(Mutex<HashMap<(TenantId, IncidentId), Incident>>);

impl IncidentStore for MemoryIncidents {
    fn list(&self, tenant: TenantId) -> Result<Vec<Incident>, BoxError> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(map
            .iter()
            .filter(|((t, _), _)| *t == tenant)
            .map(|(_, incident)| incident.clone())
            .collect())
    }

    fn get(&self, tenant: TenantId, id: IncidentId) -> Result<Option<Incident>, BoxError> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(map.get(&(tenant, id)).cloned())
    }

    fn insert(&self, tenant: TenantId, incident: &Incident) -> Result<bool, BoxError> {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match map.entry((tenant, incident.id)) {
            std::collections::hash_map::Entry::Occupied(_) => Ok(false),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(incident.clone());
                Ok(true)
            }
        }
    }

    fn replace(
        &self,
        tenant: TenantId,
        current: &Incident,
        next: &Incident,
    ) -> Result<bool, BoxError> {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match map.get_mut(&(tenant, current.id)) {
            Some(stored) if stored == current && next.id == current.id => {
                *stored = next.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn remove(&self, tenant: TenantId, incident: &Incident) -> Result<bool, BoxError> {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match map.entry((tenant, incident.id)) {
            std::collections::hash_map::Entry::Occupied(stored) if stored.get() == incident => {
                stored.remove();
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

/// An incident and the deadline of its first notification (to the
/// authority, or to the controller for a processor).
#[derive(Debug, serde::Serialize)]
pub struct IncidentStatus {
    /// The incident.
    pub incident: Incident,
    /// `Incident::deadline`.
    pub deadline: Timestamp,
}

impl From<Incident> for IncidentStatus {
    fn from(incident: Incident) -> Self {
        let deadline = incident.deadline();
        Self { incident, deadline }
    }
}

/// The body of `POST /requests`.
#[derive(Debug, serde::Deserialize)]
pub struct NewRequest {
    /// Whose data.
    pub subject: SubjectId,
    /// What is asked (`{"kind": "access"}`, `{"kind": "erasure"}`, ...).
    pub request: RequestKind,
    /// How the requester's identity was checked.
    pub verification: VerificationMethod,
    /// A note on the check (no document numbers).
    #[serde(default)]
    pub note: String,
}

/// The DSR routes: the desk, the request store and the role they require.
#[derive(Clone)]
pub struct DsrRoutes {
    desk: Arc<Desk>,
    requests: Arc<dyn RequestStore>,
    role: RoleName,
    as_role: custodia_core::Role,
    breaches: Option<(Arc<BreachRegister>, Arc<dyn IncidentStore>)>,
}

impl std::fmt::Debug for DsrRoutes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DsrRoutes")
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl DsrRoutes {
    /// Routes over `desk` and `requests`, for callers with `role`
    /// (e.g. `dpo`), answering as data controller.
    pub fn new(desk: Arc<Desk>, requests: Arc<dyn RequestStore>, role: RoleName) -> Self {
        Self {
            desk,
            requests,
            role,
            as_role: custodia_core::Role::Controller,
            breaches: None,
        }
    }

    /// Adds the breach-register routes over `register` and `incidents`.
    #[must_use]
    pub fn with_breaches(
        mut self,
        register: Arc<BreachRegister>,
        incidents: Arc<dyn IncidentStore>,
    ) -> Self {
        self.breaches = Some((register, incidents));
        self
    }

    /// The router, to nest (`Router::nest("/privacy", routes.router())`)
    /// inside the routes `CustodiaLayer` wraps.
    pub fn router<S: Clone + Send + Sync + 'static>(self) -> Router<S> {
        let router = Router::new()
            .route("/requests", post(receive))
            .route("/requests/{id}", get(status))
            .route("/requests/{id}/run", post(run));
        let router = match self.breaches {
            Some(_) => router
                .route("/breaches", post(record_breach).get(list_breaches))
                .route("/breaches/{id}", get(breach))
                .route("/breaches/{id}/notifications", post(notify_breach)),
            None => router,
        };
        router.with_state(self)
    }

    /// The caller's tenant's incidents, for an officer with the role.
    async fn incidents(&self, ctx: &TenantContext) -> Result<Vec<Incident>, Error> {
        self.allow(ctx)?;
        let (_, incidents) = self.breaches()?;
        let tenant = ctx.tenant();
        self.blocking(move |_, _| incidents.list(tenant).map_err(store_error))
            .await
    }

    fn breaches(&self) -> Result<(Arc<BreachRegister>, Arc<dyn IncidentStore>), Error> {
        self.breaches.clone().ok_or(Error::Misconfigured(
            "the breach routes need DsrRoutes::with_breaches",
        ))
    }

    fn allow(&self, ctx: &TenantContext) -> Result<(), Error> {
        if ctx.roles().contains(&self.role) {
            Ok(())
        } else {
            Err(Error::Forbidden {
                reason: format!("data-subject requests need the {} role", self.role).into(),
            })
        }
    }

    /// Runs `f` (desk and store work) on the blocking pool.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Desk, &dyn RequestStore) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let (desk, requests) = (Arc::clone(&self.desk), Arc::clone(&self.requests));
        tokio::task::spawn_blocking(move || f(&desk, requests.as_ref()))
            .await
            .map_err(|source| Error::Task {
                doing: "running a data-subject request step",
                source,
            })?
    }
}

fn store_error(e: BoxError) -> Error {
    Error::Upstream {
        service: "request store",
        cause: e,
    }
}

/// The request, or the one 404 for missing and foreign ids alike.
fn load(requests: &dyn RequestStore, tenant: TenantId, id: &str) -> Result<Request, Error> {
    let not_found = || Error::NotFound {
        kind: "data-subject request",
    };
    let id: RequestId = id.parse().map_err(|_| not_found())?;
    Error::found(
        requests.get(tenant, id).map_err(store_error)?,
        "data-subject request",
    )
}

fn audit(request: &Request, action: Option<Action>) -> Result<Audit, Error> {
    let audit =
        Audit::new(Target::new("dsr_request", request.id.to_string())?).subject(request.subject);
    Ok(match action {
        Some(action) => audit.action(action),
        None => audit,
    })
}

async fn receive(
    State(routes): State<DsrRoutes>,
    Tenant(ctx): Tenant,
    Json(new): Json<NewRequest>,
) -> Result<Response, Error> {
    routes.allow(&ctx)?;
    let as_role = routes.as_role;
    let request = routes
        .blocking(move |desk, requests| {
            let (tenant, actor) = (ctx.tenant(), ctx.actor());
            let mut request = desk.receive(tenant, new.subject, new.request, as_role, actor)?;
            desk.verify(&mut request, new.verification, &new.note, actor)?;
            requests.put(&request).map_err(store_error)?;
            Ok(request)
        })
        .await?;
    Ok((StatusCode::CREATED, audit(&request, None)?, Json(request)).into_response())
}

async fn status(
    State(routes): State<DsrRoutes>,
    Tenant(ctx): Tenant,
    Path(id): Path<String>,
) -> Result<Json<Request>, Error> {
    routes.allow(&ctx)?;
    let tenant = ctx.tenant();
    let request = routes
        .blocking(move |_, requests| load(requests, tenant, &id))
        .await?;
    Ok(Json(request))
}

async fn run(
    State(routes): State<DsrRoutes>,
    Tenant(ctx): Tenant,
    Path(id): Path<String>,
) -> Result<Response, Error> {
    routes.allow(&ctx)?;
    let (request, outcome) = routes
        .blocking(move |desk, requests| {
            let mut request = load(requests, ctx.tenant(), &id)?;
            let outcome = desk.run(&mut request, ctx.actor());
            // The request records its progress even when a source failed.
            requests.put(&request).map_err(store_error)?;
            Ok((request, outcome))
        })
        .await?;
    let outcome = match outcome {
        Ok(outcome) => outcome,
        // On the layer's record as the step that failed, on its subject,
        // not as a failed POST to a route.
        Err(e) => {
            let attempted = audit(&request, Some(attempted(&request.kind)))?;
            return Ok((attempted, Error::from(e)).into_response());
        }
    };
    let (action, body, download) = match &outcome {
        RequestOutcome::Bundle(bundle) => (Action::Export, bundle.to_json()?, true),
        RequestOutcome::Erased(certificate) => (Action::Erase, certificate.to_json()?, false),
        // Their reports have no JSON form: the request shows the new state.
        RequestOutcome::Rectified(_) => (Action::Update, serde_json::to_string(&request)?, false),
        RequestOutcome::Restricted(_) => {
            (Action::Restrict, serde_json::to_string(&request)?, false)
        }
    };
    let mut response = (
        audit(&request, Some(action))?,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response();
    if download {
        let disposition = format!("attachment; filename=\"access-{}.json\"", request.id);
        if let Ok(value) = disposition.parse() {
            response
                .headers_mut()
                .insert(header::CONTENT_DISPOSITION, value);
        }
        // Everything held about a person: no browser or proxy keeps a copy.
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
    }
    Ok(response)
}

/// The action a run of a request of `kind` performs, as its outcome
/// would name it.
fn attempted(kind: &RequestKind) -> Action {
    match kind {
        RequestKind::Access | RequestKind::Portability => Action::Export,
        RequestKind::Erasure => Action::Erase,
        RequestKind::Rectification { .. } => Action::Update,
        RequestKind::Restriction { .. } | RequestKind::Objection { .. } => Action::Restrict,
    }
}

async fn record_breach(
    State(routes): State<DsrRoutes>,
    Tenant(ctx): Tenant,
    Json(incident): Json<Incident>,
) -> Result<(StatusCode, Audit, Json<IncidentStatus>), Error> {
    routes.allow(&ctx)?;
    let tenant = ctx.tenant();
    // A tenant's officer records breaches of that tenant only.
    if incident.tenants.iter().any(|t| *t != tenant) {
        return Err(Error::Forbidden {
            reason: "an incident recorded here may concern only the caller's tenant".into(),
        });
    }
    recordable(&incident)?;
    let (register, incidents) = routes.breaches()?;
    let target = Target::new("breach", incident.id.to_string())?;
    let incident = routes
        .blocking(move |_, _| {
            let mut incident = incident;
            incident.tenants = [tenant].into();
            // Checked, stored, then audited: of two `POST`s of one new id
            // (even at once) only the one `insert` takes is audited, so
            // the log holds one `BreachRecorded` per stored incident, with
            // the stored content. The check first, so that nothing `record`
            // would refuse for its times is stored even for a moment.
            register.check_record(&incident)?;
            if !incidents.insert(tenant, &incident).map_err(store_error)? {
                return Err(already_recorded(&incident));
            }
            if let Err(e) = register.record(&incident, ctx.actor()) {
                // No stored incident without its event: remove it (unless
                // it changed meanwhile). The answer is the audit's error
                // either way.
                match incidents.remove(tenant, &incident) {
                    Ok(true) => {}
                    removal => not_undone(tenant, incident.id, Undo::Removal, removal.is_ok()),
                }
                return Err(e.into());
            }
            Ok(incident)
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Audit::new(target),
        Json(incident.into()),
    ))
}

/// The longest processor delay `POST /breaches` takes, in hours (a year):
/// Art. 33(2) asks a processor to tell its controller "without undue
/// delay", so a longer one is a typing error, not an agreement.
pub const MAX_PROCESSOR_DELAY_HOURS: i64 = 8_760;

/// 422 unless `incident` can be recorded as new: this build's format
/// version, no notifications (each is recorded as it is sent, timed and
/// judged late or not by the register, never taken from a body), and a
/// processor delay from 0 to [`MAX_PROCESSOR_DELAY_HOURS`].
fn recordable(incident: &Incident) -> Result<(), Error> {
    let refuse = |message: String| Error::BadRequest {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        message,
    };
    if incident.version != Incident::VERSION {
        return Err(refuse(format!(
            "incident format version {} is not {}",
            incident.version,
            Incident::VERSION
        )));
    }
    if !incident.notifications.is_empty() {
        return Err(refuse(
            "a new incident carries no notifications: each is recorded as it is sent".into(),
        ));
    }
    if !(0..=MAX_PROCESSOR_DELAY_HOURS).contains(&incident.processor_delay_hours) {
        return Err(refuse(format!(
            "processor_delay_hours must be from 0 to {MAX_PROCESSOR_DELAY_HOURS}"
        )));
    }
    Ok(())
}

/// 409: the caller's tenant has recorded an incident with this id.
fn already_recorded(incident: &Incident) -> Error {
    Error::BadRequest {
        status: StatusCode::CONFLICT,
        message: format!("breach incident {} is recorded already", incident.id),
    }
}

/// The body of `POST /breaches/{id}/notifications`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewNotification {
    /// Who was told.
    pub recipient: NotificationRecipient,
    /// Why it came after its deadline, when it did (Art. 33(1)).
    #[serde(default)]
    pub delay_reason: Option<String>,
}

async fn notify_breach(
    State(routes): State<DsrRoutes>,
    Tenant(ctx): Tenant,
    Path(id): Path<String>,
    Json(notice): Json<NewNotification>,
) -> Result<(Audit, Json<IncidentStatus>), Error> {
    routes.allow(&ctx)?;
    let (register, incidents) = routes.breaches()?;
    let tenant = ctx.tenant();
    let incident = routes
        .blocking(move |_, _| {
            let current = load_incident(incidents.as_ref(), tenant, &id)?;
            // Stamped now, audited only once stored: a notification that
            // loses the compare-and-swap changed nothing, and must not read
            // as made in the register's log (the layer records the refused
            // request as a failure).
            let notification =
                register.notification(&current, notice.recipient, notice.delay_reason.as_deref())?;
            let mut next = current.clone();
            next.notifications.push(notification.clone());
            if !incidents
                .replace(tenant, &current, &next)
                .map_err(store_error)?
            {
                return Err(Error::BadRequest {
                    status: StatusCode::CONFLICT,
                    message: format!(
                        "breach incident {id} changed while this notification was recorded: nothing was recorded, try again"
                    ),
                });
            }
            if let Err(e) = register.audit_notification(&next, &notification, ctx.actor()) {
                // No stored notification without its event: put the
                // incident back as it was read (unless it changed again).
                // The answer is the audit's error either way.
                match incidents.replace(tenant, &next, &current) {
                    Ok(true) => {}
                    put_back => not_undone(tenant, next.id, Undo::PutBack, put_back.is_ok()),
                }
                return Err(e.into());
            }
            Ok(next)
        })
        .await?;
    // From the stored id, not the path: any path that finds no incident is
    // the one 404, and the log names the incident as `POST /breaches` did.
    let target = Target::new("breach", incident.id.to_string())?;
    Ok((Audit::new(target), Json(incident.into())))
}

/// What a failed audit left stored without its event, which undoing it
/// then failed to take back.
#[derive(Clone, Copy)]
enum Undo {
    /// A notification: the incident was to be put back as it was.
    PutBack,
    /// A new incident: it was to be removed.
    Removal,
}

/// Logs (feature `tracing`, level error) a change left stored without its
/// audit event: undoing it after its failed audit found the incident
/// `changed` (a notification recorded meanwhile), or the store failed. Ids
/// only: neither the store's error (the host's, which may quote anything)
/// nor the incident's text.
fn not_undone(tenant: TenantId, incident: IncidentId, undo: Undo, changed: bool) {
    #[cfg(feature = "tracing")]
    {
        let (what, undone, when_changed) = match undo {
            Undo::PutBack => ("a notification", "put back", "the incident changed again"),
            Undo::Removal => (
                "a new incident",
                "removed",
                "the incident changed meanwhile",
            ),
        };
        let cause = if changed {
            when_changed
        } else {
            "the incident store failed"
        };
        tracing::error!(
            %tenant,
            %incident,
            cause,
            "custodia.axum.breach: {what} whose audit failed could not be {undone}; \
             it is stored without its audit event"
        );
    }
    #[cfg(not(feature = "tracing"))]
    let _ = (tenant, incident, undo, changed);
}

/// The incident `id` of `tenant`, or the one 404 for missing and foreign
/// ids alike.
fn load_incident(
    incidents: &dyn IncidentStore,
    tenant: TenantId,
    id: &str,
) -> Result<Incident, Error> {
    let kind = "breach incident";
    let id: IncidentId = id.parse().map_err(|_| Error::NotFound { kind })?;
    Error::found(incidents.get(tenant, id).map_err(store_error)?, kind)
}

async fn list_breaches(
    State(routes): State<DsrRoutes>,
    Tenant(ctx): Tenant,
) -> Result<Json<Vec<IncidentStatus>>, Error> {
    let mut list = routes.incidents(&ctx).await?;
    list.sort_by_key(|i| i.aware_at);
    Ok(Json(list.into_iter().map(IncidentStatus::from).collect()))
}

async fn breach(
    State(routes): State<DsrRoutes>,
    Tenant(ctx): Tenant,
    Path(id): Path<String>,
) -> Result<Json<IncidentStatus>, Error> {
    routes.allow(&ctx)?;
    let (_, incidents) = routes.breaches()?;
    let tenant = ctx.tenant();
    let incident = routes
        .blocking(move |_, _| load_incident(incidents.as_ref(), tenant, &id))
        .await?;
    Ok(Json(incident.into()))
}

impl From<custodia_dsr::Error> for Error {
    /// A step the request's state or kind does not allow is 409 with the
    /// desk's reason (the caller's own tenant's request); an incident whose
    /// times cannot be right (awareness in the future, a window that ends
    /// before it starts) is 422 with the register's reason; everything else
    /// (a source, the audit sink, the key shredder failing) is 500.
    fn from(e: custodia_dsr::Error) -> Self {
        use custodia_dsr::Error as D;
        match e {
            D::AwareInFuture { .. } | D::WindowReversed { .. } => Error::BadRequest {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                message: e.to_string(),
            },
            D::InvalidTransition { .. }
            | D::AlreadyExtended { .. }
            | D::ExtensionTooLate { .. }
            | D::Empty { .. }
            | D::WrongKind { .. }
            | D::ProcessorMustForward { .. }
            | D::NotProcessor { .. }
            | D::InvalidTime { .. }
            | D::DeadlineOutOfRange { .. } => Error::BadRequest {
                status: StatusCode::CONFLICT,
                message: e.to_string(),
            },
            other => Error::Dsr(other),
        }
    }
}
