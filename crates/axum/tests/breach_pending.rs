//! `POST /breaches` while the register is still auditing the new incident
//! (`BreachRecorded`): the incident is pending, and every other request
//! sees it as missing. The register's sink here stops inside that audit
//! until the test lets it go on (or fail), so the requests run exactly in
//! that moment.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::request::Parts;
use axum::http::{Method, Request, StatusCode, header};
use custodia_audit::ActorKind;
use custodia_axum::dsr::{DsrRoutes, IncidentStore, MemoryIncidents, MemoryRequests};
use custodia_axum::{AuthFuture, Authenticator, CustodiaLayer, Identity};
use custodia_core::{ActorId, Region, SystemClock, TenantId};
use custodia_dsr::breach::{BreachRegister, Contact, Incident};
use custodia_dsr::{BoxError, Desk, DsrAction, DsrEvent, DsrEventSink, MemorySink};
use custodia_tenant::{RoleName, TenantContext};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use sqlx_postgres::PgPoolOptions;
use tower::ServiceExt as _;

/// Every caller is the DPO of one tenant.
struct Officer(TenantId);

impl Authenticator for Officer {
    fn authenticate<'a>(&'a self, _: &'a Parts) -> AuthFuture<'a> {
        let actor = ActorId::from_external_key(self.0, "test", "officer");
        let role = RoleName::new("dpo").unwrap();
        let context = TenantContext::new(self.0, actor, Region::EU).with_role(role);
        Box::pin(async move { Ok(Identity::new(context, ActorKind::Agent)) })
    }
}

/// The register's sink: on the first `BreachRecorded` it says so on
/// `entered` and waits for the test's word on `release` (`true`: the event
/// is kept; `false`: the audit fails). Every other event is kept at once.
struct Held {
    kept: MemorySink,
    entered: tokio::sync::mpsc::UnboundedSender<()>,
    release: Mutex<Option<Receiver<bool>>>,
}

impl DsrEventSink for Held {
    fn record(&self, event: &DsrEvent) -> Result<(), BoxError> {
        if matches!(event.action, DsrAction::BreachRecorded { .. }) {
            let release = self.release.lock().unwrap().take();
            if let Some(release) = release {
                self.entered.send(()).unwrap();
                if !release.recv().unwrap() {
                    return Err("the audit log is down".into());
                }
            }
        }
        self.kept.record(event)
    }
}

struct Harness {
    router: Router,
    tenant: TenantId,
    store: Arc<MemoryIncidents>,
    sink: Arc<Held>,
    entered: tokio::sync::mpsc::UnboundedReceiver<()>,
    release: Sender<bool>,
}

fn harness() -> Harness {
    let tenant = TenantId::random();
    let clock = Arc::new(SystemClock);
    let (entered_tx, entered) = tokio::sync::mpsc::unbounded_channel();
    let (release, release_rx) = channel();
    let sink = Arc::new(Held {
        kept: MemorySink::new(),
        entered: entered_tx,
        release: Mutex::new(Some(release_rx)),
    });
    let register = BreachRegister::new(clock.clone(), sink.clone());
    let desk = Desk::new(clock, Arc::new(MemorySink::new()));
    let store = Arc::new(MemoryIncidents::default());
    let routes = DsrRoutes::new(
        Arc::new(desk),
        Arc::new(MemoryRequests::default()),
        RoleName::new("dpo").unwrap(),
    )
    .with_breaches(Arc::new(register), store.clone());
    // The routes take no transaction: the lazy pool is never used.
    let pool = PgPoolOptions::new()
        .connect_lazy("postgres://unused@127.0.0.1:1/none")
        .unwrap();
    let router: Router = Router::new()
        .nest("/privacy", routes.router())
        .layer(CustodiaLayer::new(Officer(tenant), pool));
    Harness {
        router,
        tenant,
        store,
        sink,
        entered,
        release,
    }
}

fn incident(tenant: TenantId) -> Incident {
    let mut incident = Incident::new(
        custodia_core::Role::Controller,
        custodia_core::chrono::Utc::now(),
        "laptop lost",
        Contact {
            name: "DPO".into(),
            contact: "dpo@example.com".into(),
        },
    );
    incident.tenants = [tenant].into();
    incident
}

async fn send(
    router: &Router,
    method: Method,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    let body = match body {
        Some(body) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            axum::body::Body::from(body.to_string())
        }
        None => axum::body::Body::empty(),
    };
    let answer = router
        .clone()
        .oneshot(request.body(body).unwrap())
        .await
        .unwrap();
    let status = answer.status();
    let bytes = answer.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// What every other request gets while `incident` is pending: the 404 of
/// an id that exists nowhere on reads and on a notification, an empty
/// list, and 409 for the same id again.
async fn pending_is_missing(h: &Harness, incident: &Incident) {
    // A random id of the right form, naming nothing.
    let missing = format!("/privacy/breaches/{}", TenantId::random());
    let nowhere = send(&h.router, Method::GET, &missing, None).await;
    assert_eq!(nowhere.0, StatusCode::NOT_FOUND, "{}", nowhere.1);
    let one = format!("/privacy/breaches/{}", incident.id);
    assert_eq!(send(&h.router, Method::GET, &one, None).await, nowhere);
    let (status, listed) = send(&h.router, Method::GET, "/privacy/breaches", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed, json!([]));
    let notice = json!({"recipient": {"to": "authority", "name": "OPC"}});
    let (status, body) = send(
        &h.router,
        Method::POST,
        &format!("{one}/notifications"),
        Some(notice),
    )
    .await;
    assert_eq!((status, &body), (nowhere.0, &nowhere.1));
    let again = serde_json::to_value(incident).unwrap();
    let (status, body) = send(&h.router, Method::POST, "/privacy/breaches", Some(again)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    // The store has nothing to show for it either.
    assert!(h.store.list(h.tenant).unwrap().is_empty());
    assert_eq!(h.store.get(h.tenant, incident.id).unwrap(), None);
}

/// Found in review: the incident was stored before its `BreachRecorded`
/// event, so in the moment between them it could be read and notified,
/// and a notification logged ahead of the incident's own record. Now it is
/// invisible until audited, and visible once its event is written.
#[test]
fn an_incident_being_audited_is_missing_to_reads_and_notifications() {
    runtime().block_on(async {
        let mut h = harness();
        let incident = incident(h.tenant);
        let recording = tokio::spawn({
            let (router, body) = (h.router.clone(), serde_json::to_value(&incident).unwrap());
            async move { send(&router, Method::POST, "/privacy/breaches", Some(body)).await }
        });
        h.entered.recv().await.unwrap();
        pending_is_missing(&h, &incident).await;
        h.release.send(true).unwrap();
        let (status, body) = recording.await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        // Audited, so now visible, and notified after its record.
        let one = format!("/privacy/breaches/{}", incident.id);
        let (status, body) = send(&h.router, Method::GET, &one, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let notice = json!({"recipient": {"to": "authority", "name": "OPC"}});
        let (status, body) = send(
            &h.router,
            Method::POST,
            &format!("{one}/notifications"),
            Some(notice),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let actions = h.sink.kept.actions();
        assert!(
            matches!(
                actions.as_slice(),
                [
                    DsrAction::BreachRecorded { .. },
                    DsrAction::BreachNotified { .. }
                ]
            ),
            "{actions:?}"
        );
    });
}

/// An audit that fails after the pending moment leaves nothing stored
/// (nothing could have changed the incident meanwhile), and the id can
/// be recorded afterwards.
#[test]
fn a_pending_incident_whose_audit_fails_leaves_nothing() {
    runtime().block_on(async {
        let mut h = harness();
        let incident = incident(h.tenant);
        let body = serde_json::to_value(&incident).unwrap();
        let recording = tokio::spawn({
            let (router, body) = (h.router.clone(), body.clone());
            async move { send(&router, Method::POST, "/privacy/breaches", Some(body)).await }
        });
        h.entered.recv().await.unwrap();
        pending_is_missing(&h, &incident).await;
        h.release.send(false).unwrap();
        let (status, answer) = recording.await.unwrap();
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{answer}");
        assert!(h.store.list(h.tenant).unwrap().is_empty());
        assert_eq!(h.store.get(h.tenant, incident.id).unwrap(), None);
        assert!(h.sink.kept.actions().is_empty());
        // The id is free: recorded now (the sink no longer holds).
        let (status, answer) = send(&h.router, Method::POST, "/privacy/breaches", Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        assert_eq!(h.store.list(h.tenant).unwrap(), vec![incident]);
    });
}

/// `MemoryIncidents::insert` itself: while `audit` runs the incident is
/// seen by no `get`, `list` or `replace` and blocks a second `insert` of
/// its id (unaudited); a failed or panicking audit leaves nothing and frees
/// the id.
#[test]
fn memory_incidents_hold_a_pending_incident_out_of_sight() {
    let store = MemoryIncidents::default();
    let tenant = TenantId::random();
    let first = incident(tenant);
    let mut changed = first.clone();
    changed.measures.push("disk wiped remotely".into());
    let mut seen = None;
    let stored = store
        .insert(tenant, &first, &mut || {
            let mut second_audited = false;
            let second = store
                .insert(tenant, &first, &mut || {
                    second_audited = true;
                    Ok(())
                })
                .unwrap();
            seen = Some((
                store.get(tenant, first.id).unwrap(),
                store.list(tenant).unwrap(),
                store.replace(tenant, &first, &changed).unwrap(),
                second,
                second_audited,
            ));
            Ok(())
        })
        .unwrap();
    assert!(stored);
    assert_eq!(seen, Some((None, vec![], false, false, false)));
    assert_eq!(store.get(tenant, first.id).unwrap(), Some(first.clone()));

    let other = incident(tenant);
    let refused = store.insert(tenant, &other, &mut || Err("the audit log is down".into()));
    assert_eq!(refused.unwrap_err().to_string(), "the audit log is down");
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        store.insert(tenant, &other, &mut || panic!("the sink panicked"))
    }));
    assert!(panicked.is_err());
    assert_eq!(store.list(tenant).unwrap(), vec![first]);
    // The id is free again.
    assert!(store.insert(tenant, &other, &mut || Ok(())).unwrap());
}
