//! The DSR and breach routes over an in-process router (no socket, no
//! database: the routes take no transaction, so the pool is never used):
//! what a breach whose times cannot be right is answered, and how an
//! export download is sent.

use std::sync::Arc;

use axum::Router;
use axum::http::request::Parts;
use axum::http::{Method, Request, Response, StatusCode, header};
use custodia_audit::ActorKind;
use custodia_axum::dsr::{DsrRoutes, MemoryIncidents, MemoryRequests};
use custodia_axum::{AuthFuture, Authenticator, CustodiaLayer, Identity};
use custodia_core::chrono::{TimeDelta, Utc};
use custodia_core::{ActorId, Region, SystemClock, TenantId};
use custodia_dsr::breach::{BreachRegister, Contact, Incident};
use custodia_dsr::{Desk, MemorySink};
use custodia_tenant::{RoleName, TenantContext};
use http_body_util::BodyExt as _;
use sqlx_postgres::PgPoolOptions;
use tower::ServiceExt as _;

/// Every caller is the DPO of one tenant.
struct Officer(TenantId);

impl Authenticator for Officer {
    fn authenticate<'a>(&'a self, _: &'a Parts) -> AuthFuture<'a> {
        let actor = ActorId::from_external_key(self.0, "test", "officer");
        let context = TenantContext::new(self.0, actor, Region::EU).with_role(dpo());
        Box::pin(async move { Ok(Identity::new(context, ActorKind::Agent)) })
    }
}

fn dpo() -> RoleName {
    RoleName::new("dpo").unwrap()
}

/// The privacy routes over `desk` with the breach register, for the DPO
/// of `tenant`.
fn router(tenant: TenantId, desk: Desk) -> Router {
    let clock = Arc::new(SystemClock);
    let register = BreachRegister::new(clock, Arc::new(MemorySink::new()));
    let routes = DsrRoutes::new(Arc::new(desk), Arc::new(MemoryRequests::default()), dpo())
        .with_breaches(Arc::new(register), Arc::new(MemoryIncidents::default()));
    let pool = PgPoolOptions::new()
        .connect_lazy("postgres://unused@127.0.0.1:1/none")
        .unwrap();
    Router::new()
        .nest("/privacy", routes.router())
        .layer(CustodiaLayer::new(Officer(tenant), pool))
}

fn post(uri: &str, body: serde_json::Value) -> Request<axum::body::Body> {
    Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap()
}

async fn body(response: Response<axum::body::Body>) -> serde_json::Value {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// `POST /breaches` with an awareness time in the future (it would push the
/// 72-hour deadline out) or a window that ends before it starts: 422 with
/// the register's reason, and nothing recorded.
#[test]
fn a_breach_whose_times_cannot_be_right_is_422() {
    runtime().block_on(async {
        let tenant = TenantId::random();
        let router = router(
            tenant,
            Desk::new(Arc::new(SystemClock), Arc::new(MemorySink::new())),
        );
        let incident = |aware| {
            let mut incident = Incident::new(
                custodia_core::Role::Controller,
                aware,
                "laptop lost",
                Contact {
                    name: "DPO".into(),
                    contact: "dpo@example.com".into(),
                },
            );
            incident.tenants = [tenant].into();
            incident
        };
        let future = incident(Utc::now() + TimeDelta::days(3));
        let mut reversed = incident(Utc::now() - TimeDelta::hours(1));
        reversed.window = Some((
            Utc::now() - TimeDelta::hours(2),
            Utc::now() - TimeDelta::hours(5),
        ));
        for (incident, reason) in [(&future, "is in the future"), (&reversed, "after its end")] {
            let answer = router
                .clone()
                .oneshot(post(
                    "/privacy/breaches",
                    serde_json::to_value(incident).unwrap(),
                ))
                .await
                .unwrap();
            assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
            let answer = body(answer).await;
            let message = answer["message"].as_str().unwrap_or_default();
            assert!(message.contains(reason), "{answer}");
            assert!(message.contains(&incident.id.to_string()), "{answer}");
        }
        let listed = router
            .oneshot(
                Request::builder()
                    .uri("/privacy/breaches")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(body(listed).await, serde_json::json!([]));
    });
}

/// An access export is everything held about a person: its download says
/// `Cache-Control: no-store`, so no browser or proxy keeps a copy.
#[test]
fn the_export_download_is_not_stored_by_caches() {
    use custodia_core::{DataCategory, LegalBasis};
    use custodia_dsr::{MemorySource, RecordRef};
    runtime().block_on(async {
        let tenant = TenantId::random();
        let alice = custodia_core::SubjectId::from_external_key(tenant, "contact", "alice");
        let tickets = Arc::new(MemorySource::new("tickets"));
        tickets.insert(
            tenant,
            alice,
            RecordRef::new("ticket", "T-1"),
            LegalBasis::Contract,
            [(
                "description",
                DataCategory::USER_CONTACT_EMAIL,
                "alice@example.com",
                true,
            )],
        );
        let desk = Desk::new(Arc::new(SystemClock), Arc::new(MemorySink::new()))
            .with_source(tickets)
            .unwrap();
        let router = router(tenant, desk);
        let received = router
            .clone()
            .oneshot(post(
                "/privacy/requests",
                serde_json::json!({"subject": alice.to_string(), "request": {"kind": "access"},
                    "verification": "contact_challenge"}),
            ))
            .await
            .unwrap();
        assert_eq!(received.status(), StatusCode::CREATED);
        let id = body(received).await["id"].as_str().unwrap().to_owned();
        let download = router
            .oneshot(post(
                &format!("/privacy/requests/{id}/run"),
                serde_json::json!({}),
            ))
            .await
            .unwrap();
        assert_eq!(download.status(), StatusCode::OK);
        let headers = download.headers().clone();
        assert!(
            headers[header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .starts_with("attachment;")
        );
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
        assert!(
            body(download)
                .await
                .to_string()
                .contains("alice@example.com")
        );
    });
}

/// A source that is down: every call fails (with no personal data in the
/// message).
struct Down;

impl custodia_dsr::PersonalDataSource for Down {
    fn name(&self) -> &str {
        "down"
    }
    fn locate(
        &self,
        _: TenantId,
        _: custodia_core::SubjectId,
    ) -> Result<Vec<custodia_dsr::Located>, custodia_dsr::BoxError> {
        Err("the tickets database is unreachable".into())
    }
    fn export(
        &self,
        _: TenantId,
        _: custodia_core::SubjectId,
        _: &custodia_dsr::RecordRef,
    ) -> Result<custodia_dsr::ExportedRecord, custodia_dsr::BoxError> {
        Err("down".into())
    }
    fn rectify(
        &self,
        _: TenantId,
        _: custodia_core::SubjectId,
        _: &custodia_dsr::RecordRef,
        _: &[custodia_dsr::FieldUpdate],
    ) -> Result<(), custodia_dsr::BoxError> {
        Err("down".into())
    }
    fn erase(
        &self,
        _: TenantId,
        _: custodia_core::SubjectId,
        _: &custodia_dsr::ErasurePlan,
    ) -> Result<(), custodia_dsr::BoxError> {
        Err("down".into())
    }
    fn restrict(
        &self,
        _: TenantId,
        _: custodia_core::SubjectId,
        _: &custodia_dsr::RecordRef,
        _: &custodia_dsr::Restriction,
    ) -> Result<(), custodia_dsr::BoxError> {
        Err("down".into())
    }
}

/// The layer's record of what happened to whom.
#[derive(Clone, Default)]
struct Recorded(Arc<std::sync::Mutex<Vec<custodia_audit::Event>>>);

impl custodia_axum::AuditSink for Recorded {
    fn record(&self, event: custodia_audit::Event) -> custodia_axum::SinkFuture<'_> {
        self.0.lock().unwrap().push(event);
        Box::pin(async { Ok(()) })
    }
}

/// A run that fails (here: a source is down mid-erasure) is on the layer's
/// record as what it was: a failed erasure of that request's subject. It
/// was recorded as `create` of target `route` with no subject, as if a
/// POST to some route had failed.
#[test]
fn a_failed_run_is_recorded_as_the_failed_step_on_its_subject() {
    runtime().block_on(async {
        let tenant = TenantId::random();
        let alice = custodia_core::SubjectId::from_external_key(tenant, "contact", "alice");
        let desk = Desk::new(Arc::new(SystemClock), Arc::new(MemorySink::new()))
            .with_source(Arc::new(Down))
            .unwrap();
        let routes = DsrRoutes::new(Arc::new(desk), Arc::new(MemoryRequests::default()), dpo());
        let pool = PgPoolOptions::new()
            .connect_lazy("postgres://unused@127.0.0.1:1/none")
            .unwrap();
        let audit = Recorded::default();
        let router = Router::new()
            .nest("/privacy", routes.router())
            .layer(CustodiaLayer::new(Officer(tenant), pool).audit(audit.clone()));
        let received = router
            .clone()
            .oneshot(post(
                "/privacy/requests",
                serde_json::json!({"subject": alice.to_string(), "request": {"kind": "erasure"},
                    "verification": "contact_challenge"}),
            ))
            .await
            .unwrap();
        assert_eq!(received.status(), StatusCode::CREATED);
        let id = body(received).await["id"].as_str().unwrap().to_owned();
        let run = router
            .oneshot(post(
                &format!("/privacy/requests/{id}/run"),
                serde_json::json!({}),
            ))
            .await
            .unwrap();
        assert!(run.status().is_server_error(), "{}", run.status());
        let events = audit.0.lock().unwrap().clone();
        let failed = events.last().unwrap();
        assert_eq!(
            (
                failed.action.clone(),
                failed.outcome,
                failed.target.kind.as_str(),
                failed.target.id.as_str(),
                failed.subject
            ),
            (
                custodia_audit::Action::Erase,
                custodia_audit::Outcome::Failure,
                "dsr_request",
                id.as_str(),
                Some(alice)
            )
        );
    });
}
