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
//! | `POST /breaches` | records a new incident concerning the caller's tenant (Art. 33(5); `BreachRegister::record`) | 201, the incident and its notification deadline; 409 if its id is recorded already, or pending (being recorded by another request, see below); 422 if it is of another format version, carries notifications (they are recorded as they are sent, with the time and lateness the register gives them), a processor delay outside 0 to 8,760 hours, an `aware_at` in the future (more than `AWARENESS_SKEW_SECONDS` past the register's clock: it would push the deadline out) or a `window` that starts after it ends |
//! | `GET /breaches` | the tenant's incidents, with their deadlines (none pending) | 200 |
//! | `GET /breaches/{id}` | one incident | 200; 404 for an id of another tenant, or pending, as for one that exists nowhere |
//! | `POST /breaches/{id}/notifications` | records a notification sent now (the register stamps the time and judges it late or not, `BreachRegister::notification`; a late one needs `delay_reason`, Art. 33(1)); body `{"recipient": {"to": "authority", "name": …}, "delay_reason": …}` | 200, the incident; 404 as for `GET`; 409 if late without a reason, or if another request changed the incident meanwhile (try again: nothing was recorded, and the register audits a notification only once the store has taken it); 422 if the stored incident's `aware_at` is in the future (a store edited behind the register: lateness cannot be judged from it) |
//!
//! A new incident is checked (`BreachRegister::check_record`), then
//! stored by [`IncidentStore::insert`], which refuses an id stored (or
//! pending) already and holds the new incident *pending* while the
//! register audits it (`BreachRecorded`, `BreachRegister::record`). A
//! pending incident is invisible to every other request: `GET
//! /breaches/{id}` and a notification of it get the 404 of a missing id,
//! `GET /breaches` leaves it out. It is stored for all to see only once
//! its event is written, so no notification of it can be logged before
//! its `BreachRecorded` event. Of two `POST`s of one id, even at once,
//! only the one the store takes is audited: the other answers 409 (a
//! store may have it wait for the first and then answer as after it: 409,
//! or recorded if the first one's audit failed). So the log holds one
//! `BreachRecorded` per stored incident, with the stored content. Should
//! the audit fail, the pending incident is dropped
//! (nothing could have changed it meanwhile), nothing is stored, the id
//! may be recorded again, and the answer is 500. A pending incident does
//! not outlive its `POST`: [`MemoryIncidents`] drops it even if the audit
//! panics, and a store shared by processes drops it when the process dies
//! (see [`IncidentStore::insert`]), so a crash does not leave its id
//! blocked. Should the store fail after the audit succeeded (it could not
//! store the incident), the answer is 502 as for any failure of the store
//! (500 if it answered that it stored nothing) and, with feature
//! `tracing`, an error-level event names the tenant and the incident id:
//! the log then holds a `BreachRecorded` event for an incident the store
//! does not hold, and recording it again adds a second one.
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
///
/// A new incident is *pending* while [`IncidentStore::insert`] has it
/// audited: until then no `list`, `get` or `replace` sees it, as if it
/// did not exist.
pub trait IncidentStore: Send + Sync + 'static {
    /// The incidents concerning `tenant`, none pending.
    fn list(&self, tenant: TenantId) -> Result<Vec<Incident>, BoxError>;
    /// The incident `id` of `tenant`, if there is one: `None` alike for an
    /// id that exists nowhere, for another tenant's and for a pending one
    /// (the routes answer all with the same 404). The routes that need one
    /// incident ask for it by id rather than list the tenant's register.
    fn get(&self, tenant: TenantId, id: IncidentId) -> Result<Option<Incident>, BoxError>;
    /// Stores `incident` for `tenant` as new, once `audit` (the register's
    /// `BreachRecorded` event) has succeeded:
    ///
    /// * if an incident with its id is stored, or pending, for `tenant`
    ///   already, nothing is written, `audit` is not called and the answer
    ///   is `Ok(false)` (a store may instead wait for the pending one's
    ///   `insert` to end, and answer as after it). A recorded incident is
    ///   never replaced through this call: the register's record of it
    ///   (Art. 33(5)) is not rewritten by a second `POST` of the same id;
    /// * otherwise the incident is held pending and `audit` is called,
    ///   once. If it fails, the pending incident is dropped (nothing is
    ///   stored) and its error is the answer; if it succeeds, the incident
    ///   is stored, from then on seen by `list`, `get` and `replace`, and
    ///   the answer is `Ok(true)`.
    ///
    /// A pending incident does not outlive the call: it is dropped if
    /// `audit` panics, and a store that several processes share drops it
    /// when the process holding it dies (as PostgreSQL rolls back the
    /// transaction of a connection that ends), so that no crash leaves its
    /// id blocked. Any other error means nothing was stored if `audit` was
    /// not called, and that the incident could not be stored although its
    /// event was written if `audit` succeeded.
    fn insert(
        &self,
        tenant: TenantId,
        incident: &Incident,
        audit: &mut dyn FnMut() -> Result<(), BoxError>,
    ) -> Result<bool, BoxError>;
    /// Replaces `current`, as it was read, with `next` (the same incident,
    /// a notification added) for `tenant`, only while the stored incident
    /// still equals `current`: otherwise (changed, gone, or pending)
    /// nothing is written and the answer is `false`, so a notification
    /// another request recorded meanwhile is never lost.
    fn replace(
        &self,
        tenant: TenantId,
        current: &Incident,
        next: &Incident,
    ) -> Result<bool, BoxError>;
}

/// An [`IncidentStore`] in memory. A pending incident holds its id (as
/// `None`) without the lock: reads go on meanwhile, and miss it.
#[derive(Debug, Default)]
pub struct MemoryIncidents(Mutex<HashMap<(TenantId, IncidentId), Option<Incident>>>);

type Held = HashMap<(TenantId, IncidentId), Option<Incident>>;

impl MemoryIncidents {
    fn lock(&self) -> std::sync::MutexGuard<'_, Held> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A pending incident's slot: dropped (the id freed) unless stored, also
/// when the audit panics.
struct Pending<'a> {
    store: &'a MemoryIncidents,
    key: (TenantId, IncidentId),
    stored: bool,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if !self.stored {
            self.store.lock().remove(&self.key);
        }
    }
}

impl IncidentStore for MemoryIncidents {
    fn list(&self, tenant: TenantId) -> Result<Vec<Incident>, BoxError> {
        Ok(self
            .lock()
            .iter()
            .filter(|((t, _), _)| *t == tenant)
            .filter_map(|(_, incident)| incident.clone())
            .collect())
    }

    fn get(&self, tenant: TenantId, id: IncidentId) -> Result<Option<Incident>, BoxError> {
        Ok(self.lock().get(&(tenant, id)).cloned().flatten())
    }

    fn insert(
        &self,
        tenant: TenantId,
        incident: &Incident,
        audit: &mut dyn FnMut() -> Result<(), BoxError>,
    ) -> Result<bool, BoxError> {
        let key = (tenant, incident.id);
        match self.lock().entry(key) {
            std::collections::hash_map::Entry::Occupied(_) => return Ok(false),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(None);
            }
        }
        let mut pending = Pending {
            store: self,
            key,
            stored: false,
        };
        audit()?;
        self.lock().insert(key, Some(incident.clone()));
        pending.stored = true;
        Ok(true)
    }

    fn replace(
        &self,
        tenant: TenantId,
        current: &Incident,
        next: &Incident,
    ) -> Result<bool, BoxError> {
        match self.lock().get_mut(&(tenant, current.id)) {
            Some(Some(stored)) if stored == current && next.id == current.id => {
                *stored = next.clone();
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
            // Checked, then stored pending and audited, and only then seen
            // by other requests: of two `POST`s of one new id (even at
            // once) only the one `insert` takes is audited, so the log
            // holds one `BreachRecorded` per stored incident, with the
            // stored content, ahead of any notification of it. The check
            // first, so that nothing `record` would refuse for its times
            // is stored even pending.
            register.check_record(&incident)?;
            // The register's own error, kept typed for the answer.
            let mut refused = None;
            let mut audited = false;
            let stored = incidents.insert(tenant, &incident, &mut || match register
                .record(&incident, ctx.actor())
            {
                Ok(()) => {
                    audited = true;
                    Ok(())
                }
                Err(e) => {
                    refused = Some(e);
                    Err("the register's audit of the new incident failed".into())
                }
            });
            if let Some(e) = refused {
                // The store dropped the pending incident: nothing stored,
                // unless it broke its contract and kept it anyway, which
                // leaves a stored incident without its event.
                if matches!(stored, Ok(true)) {
                    unmatched(
                        tenant,
                        incident.id,
                        Unmatched::NewIncident { audited: false },
                    );
                }
                return Err(e.into());
            }
            match (stored, audited) {
                (Ok(true), true) => Ok(incident),
                (Ok(false), false) => Err(already_recorded(&incident)),
                (Err(e), false) => Err(store_error(e)),
                // The event and the store disagree: the store failed after
                // the audit, or broke its contract.
                (stored, audited) => {
                    unmatched(tenant, incident.id, Unmatched::NewIncident { audited });
                    Err(match stored {
                        Err(e) => store_error(e),
                        Ok(_) => Error::Misconfigured(
                            "the incident store did not store a new incident with its audit",
                        ),
                    })
                }
            }
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
                    put_back => unmatched(
                        tenant,
                        next.id,
                        Unmatched::PutBack {
                            changed: put_back.is_ok(),
                        },
                    ),
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

/// Where a breach's store and its audit events came to disagree.
#[derive(Clone, Copy)]
enum Unmatched {
    /// A notification whose audit failed could not be put back: the
    /// incident `changed` again, or the store failed.
    PutBack { changed: bool },
    /// A new incident: `audited` but not stored (the store failed after
    /// the audit), or stored though never audited (a store breaking the
    /// contract of `IncidentStore::insert`).
    NewIncident { audited: bool },
}

/// Logs (feature `tracing`, level error) a change whose stored state and
/// audit events disagree. Ids only: neither the store's error (the
/// host's, which may quote anything) nor the incident's text.
fn unmatched(tenant: TenantId, incident: IncidentId, what: Unmatched) {
    #[cfg(feature = "tracing")]
    match what {
        Unmatched::PutBack { changed } => {
            let cause = if changed {
                "the incident changed again"
            } else {
                "the incident store failed"
            };
            tracing::error!(
                %tenant,
                %incident,
                cause,
                "custodia.axum.breach: a notification whose audit failed could not be put back; \
                 it is stored without its audit event"
            );
        }
        Unmatched::NewIncident { audited: true } => tracing::error!(
            %tenant,
            %incident,
            "custodia.axum.breach: a new incident was audited but the incident store failed to \
             store it; the log records an incident the store does not hold"
        ),
        Unmatched::NewIncident { audited: false } => tracing::error!(
            %tenant,
            %incident,
            "custodia.axum.breach: the incident store stored a new incident without its audit; \
             it is stored without its audit event"
        ),
    }
    #[cfg(not(feature = "tracing"))]
    let _ = (tenant, incident, what);
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
