//! crates/axum/src/lib.rs: "the handler ... cannot commit a change without
//! its audit event". `CustodiaLayer` is `Clone`, and its settings
//! (`audit`, `audit_reads`, `buffer_reads`, `clock`) go through
//! `Arc::get_mut`, which silently does nothing once the layer has been
//! cloned (layer.rs `fn with`). A layer cloned for a second router before
//! `.audit(sink)` serves every mutation with no audit event and no error.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::request::Parts;
use axum::http::{Method, Request, StatusCode};
use axum::routing::post;
use custodia_audit::ActorKind;
use custodia_axum::{AuditSink, AuthFuture, Authenticator, CustodiaLayer, Identity, SinkFuture};
use custodia_core::{ActorId, Region, TenantId};
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
struct Recorded(Arc<Mutex<Vec<custodia_audit::Event>>>);

impl AuditSink for Recorded {
    fn record(&self, event: custodia_audit::Event) -> SinkFuture<'_> {
        self.0.lock().unwrap().push(event);
        Box::pin(async { Ok(()) })
    }
}

#[tokio::test]
async fn a_layer_given_an_audit_sink_audits_every_mutation_even_if_it_was_cloned_first() {
    let tenant = TenantId::random();
    // The handler takes no transaction: the lazy pool is never used.
    let pool = PgPoolOptions::new()
        .connect_lazy("postgres://unused@127.0.0.1:1/none")
        .unwrap();
    let base = CustodiaLayer::new(Agent(tenant), pool);
    // e.g. one copy for the public routes, one for the tenant routes.
    let _other_routers_copy = base.clone();
    let audit = Recorded::default();
    let audited = base.audit(audit.clone());
    let router: Router = Router::new()
        .route("/tickets", post(|| async { StatusCode::CREATED }))
        .layer(audited);
    let request = Request::builder()
        .method(Method::POST)
        .uri("/tickets")
        .body(axum::body::Body::empty())
        .unwrap();
    let answer = router.oneshot(request).await.unwrap();
    assert_eq!(answer.status(), StatusCode::CREATED);
    assert_eq!(
        audit.0.lock().unwrap().len(),
        1,
        "a POST answered 201 through a layer given `.audit(sink)` left no audit event"
    );
}

/// The control: the same request through a layer that was not cloned
/// before `.audit(sink)` is audited (passes on main).
#[tokio::test]
async fn control_an_uncloned_layer_audits_the_mutation() {
    let tenant = TenantId::random();
    let pool = PgPoolOptions::new()
        .connect_lazy("postgres://unused@127.0.0.1:1/none")
        .unwrap();
    let audit = Recorded::default();
    let router: Router = Router::new()
        .route("/tickets", post(|| async { StatusCode::CREATED }))
        .layer(CustodiaLayer::new(Agent(tenant), pool).audit(audit.clone()));
    let request = Request::builder()
        .method(Method::POST)
        .uri("/tickets")
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(
        router.oneshot(request).await.unwrap().status(),
        StatusCode::CREATED
    );
    assert_eq!(audit.0.lock().unwrap().len(), 1);
}
