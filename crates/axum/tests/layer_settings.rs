//! A `CustodiaLayer` setting (`audit`, `audit_reads`, `buffer_reads`,
//! `with_clock`) takes effect on the layer it is called on, even when that
//! layer was cloned first, and leaves the other clones as they were.
//!
//! The crate's promise (lib.rs): the handler "cannot commit a change
//! without its audit event". The settings once went through
//! `Arc::get_mut`, which did nothing once the layer had been cloned: a
//! layer cloned for a second router before `.audit(sink)` served every
//! mutation with no audit event and no error.
//!
//! The handlers here take no transaction, so the lazy pool is never used
//! and no PostgreSQL is needed.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::request::Parts;
use axum::http::{Method, Request, StatusCode};
use axum::routing::{get, post};
use custodia_audit::{Action, ActorKind, Event, Target};
use custodia_axum::{
    Audit, AuditSink, AuthFuture, Authenticator, CustodiaLayer, Identity, SinkFuture,
};
use custodia_core::{ActorId, ManualClock, Region, SubjectId, TenantId, Timestamp};
use custodia_tenant::TenantContext;
use sqlx_postgres::PgPoolOptions;
use tower::ServiceExt as _;

struct Agent(TenantId);

impl Authenticator for Agent {
    fn authenticate<'a>(&'a self, _: &'a Parts) -> AuthFuture<'a> {
        let actor = ActorId::from_external_key(self.0, "test", "agent");
        let context = TenantContext::new(self.0, actor, Region::EU);
        Box::pin(async move { Ok(Identity::new(context, ActorKind::Agent)) })
    }
}

#[derive(Clone, Default)]
struct Recorded(Arc<Mutex<Vec<Event>>>);

impl Recorded {
    fn events(&self) -> Vec<Event> {
        self.0.lock().unwrap().clone()
    }
}

impl AuditSink for Recorded {
    fn record(&self, event: Event) -> SinkFuture<'_> {
        self.0.lock().unwrap().push(event);
        Box::pin(async { Ok(()) })
    }
}

fn base(tenant: TenantId) -> CustodiaLayer {
    let pool = PgPoolOptions::new()
        .connect_lazy("postgres://unused@127.0.0.1:1/none")
        .unwrap();
    CustodiaLayer::new(Agent(tenant), pool)
}

/// A POST that changes nothing, and a GET that reads a subject's record.
fn router(layer: CustodiaLayer) -> Router {
    Router::new()
        .route("/tickets", post(|| async { StatusCode::CREATED }))
        .route(
            "/tickets/1",
            get(|| async {
                let tenant = TenantId::random();
                let subject = SubjectId::from_external_key(tenant, "helpdesk.contact", "42");
                (
                    Audit::new(Target::new("ticket", "1").unwrap()).subject(subject),
                    "ticket 1",
                )
            }),
        )
        .layer(layer)
}

async fn send(router: &Router, method: Method, uri: &str) -> StatusCode {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .body(axum::body::Body::empty())
        .unwrap();
    router.clone().oneshot(request).await.unwrap().status()
}

#[tokio::test]
async fn a_layer_given_an_audit_sink_audits_every_mutation_even_if_it_was_cloned_first() {
    let base = base(TenantId::random());
    // e.g. one copy for the public routes, one for the tenant routes.
    let _other_routers_copy = base.clone();
    let audit = Recorded::default();
    let router = router(base.audit(audit.clone()));
    assert_eq!(
        send(&router, Method::POST, "/tickets").await,
        StatusCode::CREATED
    );
    assert_eq!(
        audit.events().len(),
        1,
        "a POST answered 201 through a layer given `.audit(sink)` left no audit event"
    );
}

#[tokio::test]
async fn every_setting_takes_effect_on_a_layer_cloned_before_it_was_set() {
    let base = base(TenantId::random());
    let _other = base.clone();
    let audit = Recorded::default();
    let start: Timestamp = "2026-01-31T09:00:00Z".parse().unwrap();
    let layer = base.audit(audit.clone()).audit_reads(true);
    let _another = layer.clone();
    let layer = layer.buffer_reads(true);
    let _yet_another = layer.clone();
    let layer = layer.with_clock(Arc::new(ManualClock::new(start)));
    // buffer_reads only changes how a read's transaction is used; these
    // handlers take none, so the layer's own account of itself shows it.
    let described = format!("{layer:?}");
    assert!(
        described.contains("audit: true")
            && described.contains("audit_reads: true")
            && described.contains("buffer_reads: true"),
        "{described}"
    );
    let router = router(layer);
    assert_eq!(
        send(&router, Method::POST, "/tickets").await,
        StatusCode::CREATED
    );
    assert_eq!(
        send(&router, Method::GET, "/tickets/1").await,
        StatusCode::OK
    );
    let events = audit.events();
    let actions: Vec<Action> = events.iter().map(|e| e.action.clone()).collect();
    assert_eq!(
        actions,
        [Action::Create, Action::Read],
        "audit and audit_reads set after a clone must both apply"
    );
    assert!(
        events.iter().all(|e| e.time == start),
        "the clock set after a clone must timestamp the events: {:?}",
        events.iter().map(|e| e.time).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_setting_leaves_the_other_clones_as_they_were() {
    let audit = Recorded::default();
    let start: Timestamp = "2026-01-31T09:00:00Z".parse().unwrap();
    let shared = base(TenantId::random()).audit(audit.clone());
    let plain = shared.clone();
    let changed = shared
        .audit_reads(true)
        .buffer_reads(true)
        .with_clock(Arc::new(ManualClock::new(start)))
        .audit(Recorded::default());
    let described = format!("{plain:?}");
    assert!(
        described.contains("audit_reads: false") && described.contains("buffer_reads: false"),
        "{described}"
    );
    let plain = router(plain);
    let _changed = router(changed);
    assert_eq!(
        send(&plain, Method::GET, "/tickets/1").await,
        StatusCode::OK
    );
    assert_eq!(
        send(&plain, Method::POST, "/tickets").await,
        StatusCode::CREATED
    );
    let events = audit.events();
    // Reads stay unaudited, the sink stays the first one, the clock the
    // system's.
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].action, Action::Create);
    assert_ne!(events[0].time, start);
}

/// The control: an uncloned layer audits the mutation (passed before the
/// fix too).
#[tokio::test]
async fn an_uncloned_layer_audits_the_mutation() {
    let audit = Recorded::default();
    let router = router(base(TenantId::random()).audit(audit.clone()));
    assert_eq!(
        send(&router, Method::POST, "/tickets").await,
        StatusCode::CREATED
    );
    assert_eq!(audit.events().len(), 1);
}

/// Which of the sink's calls an event came through.
#[derive(Clone, Default)]
struct Calls(Arc<Mutex<Vec<&'static str>>>);

impl AuditSink for Calls {
    fn record(&self, _: Event) -> SinkFuture<'_> {
        self.0.lock().unwrap().push("record");
        Box::pin(async { Ok(()) })
    }

    fn record_soon(&self, _: Event) -> SinkFuture<'_> {
        self.0.lock().unwrap().push("record_soon");
        Box::pin(async { Ok(()) })
    }
}

/// `buffer_reads` promises audited reads "without a write in the request's
/// path": queued through `record_soon`. A read whose handler took no
/// transaction (it read a cache, another service, a file) once had its
/// event written at once through `record`, before the response, like an
/// unbuffered read.
#[tokio::test]
async fn a_buffered_read_without_a_transaction_is_queued_not_written() {
    let calls = Calls::default();
    let layer = base(TenantId::random())
        .audit(calls.clone())
        .audit_reads(true)
        .buffer_reads(true);
    let router = router(layer);
    assert_eq!(
        send(&router, Method::GET, "/tickets/1").await,
        StatusCode::OK
    );
    assert_eq!(*calls.0.lock().unwrap(), ["record_soon"]);
    // HEAD runs the same handler: the same queued read.
    assert_eq!(
        send(&router, Method::HEAD, "/tickets/1").await,
        StatusCode::OK
    );
    assert_eq!(*calls.0.lock().unwrap(), ["record_soon", "record_soon"]);
    // Changes are never buffered.
    assert_eq!(
        send(&router, Method::POST, "/tickets").await,
        StatusCode::CREATED
    );
    assert_eq!(
        *calls.0.lock().unwrap(),
        ["record_soon", "record_soon", "record"]
    );
}
