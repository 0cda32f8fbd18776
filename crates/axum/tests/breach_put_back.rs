//! `POST /breaches/{id}/notifications` when the register's audit of a
//! stored notification fails and putting the incident back fails too: the
//! answer is the audit failure's 500 as when the put-back works, and (with
//! feature `tracing`) an error-level event names the tenant and the
//! incident, nothing else. Its own test binary: the handler runs on
//! tokio's blocking pool, which only a global subscriber sees.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::request::Parts;
use axum::http::{Method, Request, StatusCode, header};
use custodia_audit::ActorKind;
use custodia_axum::dsr::{DsrRoutes, IncidentStore, MemoryIncidents, MemoryRequests};
use custodia_axum::{AuthFuture, Authenticator, CustodiaLayer, Identity};
use custodia_core::{ActorId, Region, SystemClock, TenantId};
use custodia_dsr::breach::{BreachRegister, Contact, Incident, IncidentId};
use custodia_dsr::{BoxError, Desk, DsrAction, DsrEvent, DsrEventSink, MemorySink};
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

/// The register's sink: refuses every `BreachNotified` event.
struct NoNotifiedEvents(MemorySink);

impl DsrEventSink for NoNotifiedEvents {
    fn record(&self, event: &DsrEvent) -> Result<(), BoxError> {
        if matches!(event.action, DsrAction::BreachNotified { .. }) {
            return Err("the audit log is down".into());
        }
        self.0.record(event)
    }
}

/// How the store answers the put-back (the second `replace`).
#[derive(Clone, Copy, Debug, PartialEq)]
enum PutBack {
    Works,
    Fails,
    FindsItChanged,
}

struct Store {
    inner: MemoryIncidents,
    put_back: PutBack,
    replaces: Mutex<usize>,
}

impl IncidentStore for Store {
    fn list(&self, tenant: TenantId) -> Result<Vec<Incident>, BoxError> {
        self.inner.list(tenant)
    }
    fn get(&self, tenant: TenantId, id: IncidentId) -> Result<Option<Incident>, BoxError> {
        self.inner.get(tenant, id)
    }
    fn insert(
        &self,
        tenant: TenantId,
        incident: &Incident,
        audit: &mut dyn FnMut() -> Result<(), BoxError>,
    ) -> Result<bool, BoxError> {
        self.inner.insert(tenant, incident, audit)
    }
    fn replace(
        &self,
        tenant: TenantId,
        current: &Incident,
        next: &Incident,
    ) -> Result<bool, BoxError> {
        let mut replaces = self.replaces.lock().unwrap();
        *replaces += 1;
        match (*replaces, self.put_back) {
            (1, _) | (_, PutBack::Works) => self.inner.replace(tenant, current, next),
            (_, PutBack::Fails) => Err("the incident store is down".into()),
            (_, PutBack::FindsItChanged) => Ok(false),
        }
    }
}

/// Records an incident of a new tenant and notifies it with the put-back
/// answering as `put_back`: the notification's status and body, the
/// tenant, the incident and what the store holds after.
async fn notify(
    put_back: PutBack,
) -> (StatusCode, serde_json::Value, TenantId, Incident, Incident) {
    let tenant = TenantId::random();
    let clock = Arc::new(SystemClock);
    let register =
        BreachRegister::new(clock.clone(), Arc::new(NoNotifiedEvents(MemorySink::new())));
    let desk = Desk::new(clock, Arc::new(MemorySink::new()));
    let store = Arc::new(Store {
        inner: MemoryIncidents::default(),
        put_back,
        replaces: Mutex::new(0),
    });
    let routes = DsrRoutes::new(Arc::new(desk), Arc::new(MemoryRequests::default()), dpo())
        .with_breaches(Arc::new(register), store.clone());
    // The routes take no transaction: the lazy pool is never used.
    let pool = PgPoolOptions::new()
        .connect_lazy("postgres://unused@127.0.0.1:1/none")
        .unwrap();
    let router: Router = Router::new()
        .nest("/privacy", routes.router())
        .layer(CustodiaLayer::new(Officer(tenant), pool));
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
    let post = |uri: String, body: serde_json::Value| {
        Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(axum::body::Body::from(body.to_string()))
            .unwrap()
    };
    let recorded = router
        .clone()
        .oneshot(post(
            "/privacy/breaches".into(),
            serde_json::to_value(&incident).unwrap(),
        ))
        .await
        .unwrap();
    assert_eq!(recorded.status(), StatusCode::CREATED);
    let uri = format!("/privacy/breaches/{}/notifications", incident.id);
    let body = serde_json::json!({"recipient": {"to": "authority", "name": "OPC"}});
    let answer = router.oneshot(post(uri, body)).await.unwrap();
    let status = answer.status();
    let bytes = answer.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap();
    let stored = store.inner.get(tenant, incident.id).unwrap().unwrap();
    (status, body, tenant, incident, stored)
}

#[test]
fn a_failed_put_back_answers_as_before_and_is_logged_with_ids_only() {
    #[cfg(feature = "tracing")]
    let written = {
        let written = tempfile::tempfile().unwrap();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::ERROR)
            .with_ansi(false)
            .with_writer(written.try_clone().unwrap())
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        written
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (status, answer, tenant, incident, stored) = rt.block_on(notify(PutBack::Works));
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{answer}");
    assert!(stored.notifications.is_empty(), "put back");
    let mut failed = Vec::new();
    for put_back in [PutBack::Fails, PutBack::FindsItChanged] {
        let (status_now, answer_now, tenant, incident, stored) = rt.block_on(notify(put_back));
        // The same answer as when the put-back works.
        assert_eq!(status_now, status, "{put_back:?}");
        assert_eq!(answer_now, answer, "{put_back:?}");
        // The notification stayed, without its event.
        assert_eq!(stored.notifications.len(), 1, "{put_back:?}");
        failed.push((put_back, tenant, incident));
    }
    #[cfg(feature = "tracing")]
    {
        use std::io::{Read as _, Seek as _};
        let mut written = written;
        let mut log = String::new();
        written.rewind().unwrap();
        written.read_to_string(&mut log).unwrap();
        let lines: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("could not be put back"))
            .collect();
        assert_eq!(lines.len(), 2, "{log}");
        for ((put_back, tenant, incident), line) in failed.iter().zip(&lines) {
            assert!(line.contains("ERROR"), "{line}");
            assert!(line.contains(&format!("tenant={tenant}")), "{line}");
            assert!(
                line.contains(&format!("incident={}", incident.id)),
                "{line}"
            );
            let cause = match put_back {
                PutBack::Fails => "the incident store failed",
                _ => "the incident changed again",
            };
            assert!(line.contains(cause), "{line}");
            // Nothing of the incident's text, the store's error or the audit's.
            for value in ["laptop", "dpo@example.com", "OPC", "is down"] {
                assert!(!line.contains(value), "{value} in {line}");
            }
        }
        // The put-back that worked logged nothing.
        assert!(!log.contains(&tenant.to_string()), "{log}");
        let _ = incident;
    }
    #[cfg(not(feature = "tracing"))]
    let _ = (tenant, incident, failed);
}
