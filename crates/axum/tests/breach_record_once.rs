//! `POST /breaches` leaves exactly one `BreachRecorded` event per stored
//! incident: the store holds the new incident pending (an insert that
//! refuses an existing id), the register audits it, and only then is it
//! stored; a failed audit stores nothing. Its own test binary: the handler
//! runs on tokio's blocking pool, which only a global subscriber sees.

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

/// The register's sink: keeps every event, or refuses `BreachRecorded`.
struct Sink {
    kept: MemorySink,
    refuse_recorded: bool,
}

impl DsrEventSink for Sink {
    fn record(&self, event: &DsrEvent) -> Result<(), BoxError> {
        if self.refuse_recorded && matches!(event.action, DsrAction::BreachRecorded { .. }) {
            return Err("the audit log is down".into());
        }
        self.kept.record(event)
    }
}

/// How the store ends an insert: after an audit that succeeded, or
/// breaking the contract around it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum AfterAudit {
    /// Stores the incident, as `MemoryIncidents` does.
    Stores,
    /// Fails (say, the commit is refused): the event is written, the
    /// incident not stored.
    Fails,
    /// Answers `false` (a store breaking the contract).
    Refuses,
    /// Stores the incident without calling `audit` (a store breaking the
    /// contract).
    SkipsAudit,
    /// Calls `audit`, ignores its failure and stores the incident anyway
    /// (a store breaking the contract).
    IgnoresFailure,
}

/// An incident store whose `get` never finds anything: every `POST` of an
/// id passes the handler's look-up, as two racing `POST`s of one new id
/// both do.
struct Store {
    inner: MemoryIncidents,
    after_audit: AfterAudit,
    inserts: Mutex<usize>,
}

impl IncidentStore for Store {
    fn list(&self, tenant: TenantId) -> Result<Vec<Incident>, BoxError> {
        self.inner.list(tenant)
    }
    fn get(&self, _: TenantId, _: IncidentId) -> Result<Option<Incident>, BoxError> {
        Ok(None)
    }
    fn insert(
        &self,
        tenant: TenantId,
        incident: &Incident,
        audit: &mut dyn FnMut() -> Result<(), BoxError>,
    ) -> Result<bool, BoxError> {
        *self.inserts.lock().unwrap() += 1;
        match self.after_audit {
            AfterAudit::Stores => self.inner.insert(tenant, incident, audit),
            AfterAudit::Fails => {
                audit()?;
                Err("the incident store is down".into())
            }
            AfterAudit::Refuses => {
                audit()?;
                Ok(false)
            }
            AfterAudit::SkipsAudit => self.inner.insert(tenant, incident, &mut || Ok(())),
            AfterAudit::IgnoresFailure => {
                let _ = audit();
                self.inner.insert(tenant, incident, &mut || Ok(()))
            }
        }
    }
    fn replace(
        &self,
        tenant: TenantId,
        current: &Incident,
        next: &Incident,
    ) -> Result<bool, BoxError> {
        self.inner.replace(tenant, current, next)
    }
}

struct Harness {
    router: Router,
    tenant: TenantId,
    store: Arc<Store>,
    sink: Arc<Sink>,
}

fn harness(refuse_recorded: bool, after_audit: AfterAudit) -> Harness {
    let tenant = TenantId::random();
    let clock = Arc::new(SystemClock);
    let sink = Arc::new(Sink {
        kept: MemorySink::new(),
        refuse_recorded,
    });
    let register = BreachRegister::new(clock.clone(), sink.clone());
    let desk = Desk::new(clock, Arc::new(MemorySink::new()));
    let store = Arc::new(Store {
        inner: MemoryIncidents::default(),
        after_audit,
        inserts: Mutex::new(0),
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
    Harness {
        router,
        tenant,
        store,
        sink,
    }
}

fn incident(tenant: TenantId, description: &str) -> Incident {
    let mut incident = Incident::new(
        custodia_core::Role::Controller,
        custodia_core::chrono::Utc::now(),
        description,
        Contact {
            name: "DPO".into(),
            contact: "dpo@example.com".into(),
        },
    );
    incident.tenants = [tenant].into();
    incident
}

async fn post(router: &Router, incident: &Incident) -> (StatusCode, serde_json::Value) {
    let request = Request::builder()
        .method(Method::POST)
        .uri("/privacy/breaches")
        .header(header::CONTENT_TYPE, "application/json")
        .body(axum::body::Body::from(
            serde_json::to_string(incident).unwrap(),
        ))
        .unwrap();
    let answer = router.clone().oneshot(request).await.unwrap();
    let status = answer.status();
    let bytes = answer.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

fn recorded_events(sink: &Sink) -> usize {
    sink.kept
        .actions()
        .iter()
        .filter(|a| matches!(a, DsrAction::BreachRecorded { .. }))
        .count()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Found in review: the handler audited `BreachRecorded` before
/// `IncidentStore::insert`, so two `POST`s of one new id that both passed
/// the `get` check were both audited, and the log held two events (the
/// second with the other request's content) for one stored incident.
#[test]
fn two_posts_of_one_new_id_leave_one_recorded_event() {
    runtime().block_on(async {
        let h = harness(false, AfterAudit::Stores);
        let first = incident(h.tenant, "laptop lost");
        let mut second = first.clone();
        second.description = "a different account of it".into();
        let (status, body) = post(&h.router, &first).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = post(&h.router, &second).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(recorded_events(&h.sink), 1, "{:?}", h.sink.kept.actions());
        // The refused request wrote nothing: neither an event nor the store.
        assert_eq!(h.sink.kept.actions().len(), 1);
        assert_eq!(h.store.inner.list(h.tenant).unwrap(), vec![first]);
        assert_eq!(*h.store.inserts.lock().unwrap(), 2);
    });
}

/// Both `POST`s at once, through a store whose `get` misses: exactly one
/// is stored and audited, whichever wins.
#[test]
fn two_concurrent_posts_of_one_new_id_leave_one_recorded_event() {
    runtime().block_on(async {
        for _ in 0..20 {
            let h = harness(false, AfterAudit::Stores);
            let first = incident(h.tenant, "laptop lost");
            let mut second = first.clone();
            second.description = "a different account of it".into();
            let (a, b) = tokio::join!(post(&h.router, &first), post(&h.router, &second));
            let mut statuses = [a.0, b.0];
            statuses.sort();
            assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);
            assert_eq!(recorded_events(&h.sink), 1);
            assert_eq!(h.sink.kept.actions().len(), 1);
            let stored = h.store.inner.list(h.tenant).unwrap();
            let won = if a.0 == StatusCode::CREATED {
                &first
            } else {
                &second
            };
            assert_eq!(stored, vec![won.clone()]);
        }
    });
}

/// An audit that fails leaves nothing stored: no incident without its
/// `BreachRecorded` event (`breach_pending.rs` records the id again).
#[test]
fn a_failed_audit_stores_nothing() {
    runtime().block_on(async {
        let h = harness(true, AfterAudit::Stores);
        let incident = incident(h.tenant, "laptop lost");
        let (status, body) = post(&h.router, &incident).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
        assert!(h.store.inner.list(h.tenant).unwrap().is_empty());
        assert_eq!(h.store.inner.get(h.tenant, incident.id).unwrap(), None);
        assert!(h.sink.kept.actions().is_empty());
    });
}

/// A store that fails after the audit succeeded (the event is written,
/// the incident not stored), or that refuses the incident only then:
/// the store's error, or a 500, and (with feature `tracing`) an
/// error-level event naming the tenant and the incident id, nothing
/// else. A failed audit logs no such event: nothing disagrees. A store
/// that keeps the incident without its audit (never called, or failed) is
/// logged alike. (One test: the subscriber is the process's global one.)
#[test]
fn an_incident_audited_but_not_stored_is_logged_with_ids_only() {
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
    let rt = runtime();
    // The lazy pool is made inside the runtime.
    let _in_runtime = rt.enter();
    let refused = harness(true, AfterAudit::Stores);
    let (status, answer) = rt.block_on(post(
        &refused.router,
        &incident(refused.tenant, "laptop lost"),
    ));
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{answer}");
    let mut failed = Vec::new();
    for (after_audit, expected) in [
        (AfterAudit::Fails, StatusCode::BAD_GATEWAY),
        (AfterAudit::Refuses, StatusCode::INTERNAL_SERVER_ERROR),
    ] {
        let h = harness(false, after_audit);
        let incident = incident(h.tenant, "laptop lost");
        let (status, answer) = rt.block_on(post(&h.router, &incident));
        assert_eq!(status, expected, "{after_audit:?}: {answer}");
        assert!(h.store.inner.list(h.tenant).unwrap().is_empty());
        // The register's event was written: it is what the store lacks.
        assert_eq!(recorded_events(&h.sink), 1, "{after_audit:?}");
        failed.push((h.tenant, incident));
    }
    // Found in review: a store that kept the incident although its audit
    // failed (or was never called) answered the register's error with no
    // error-level event, though the incident is stored without its
    // `BreachRecorded` event. Both are now logged, ids only.
    let mut unaudited = Vec::new();
    for (after_audit, refuse_recorded) in [
        (AfterAudit::SkipsAudit, false),
        (AfterAudit::IgnoresFailure, true),
    ] {
        let h = harness(refuse_recorded, after_audit);
        let incident = incident(h.tenant, "laptop lost");
        let (status, answer) = rt.block_on(post(&h.router, &incident));
        assert_eq!(
            status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{after_audit:?}: {answer}"
        );
        assert_eq!(
            h.store.inner.list(h.tenant).unwrap(),
            vec![incident.clone()]
        );
        assert_eq!(recorded_events(&h.sink), 0, "{after_audit:?}");
        unaudited.push((h.tenant, incident));
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
            .filter(|l| l.contains("was audited but the incident store failed to store it"))
            .collect();
        assert_eq!(lines.len(), 2, "{log}");
        for ((tenant, incident), line) in failed.iter().zip(&lines) {
            assert!(line.contains("ERROR"), "{line}");
            assert!(line.contains(&format!("tenant={tenant}")), "{line}");
            assert!(
                line.contains(&format!("incident={}", incident.id)),
                "{line}"
            );
            for value in ["laptop", "dpo@example.com", "is down"] {
                assert!(!line.contains(value), "{value} in {line}");
            }
        }
        // The failed audit logged nothing of the kind.
        assert!(!log.contains(&refused.tenant.to_string()), "{log}");
        let lines: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("stored a new incident without its audit"))
            .collect();
        assert_eq!(lines.len(), 2, "{log}");
        for ((tenant, incident), line) in unaudited.iter().zip(&lines) {
            assert!(line.contains("ERROR"), "{line}");
            assert!(line.contains(&format!("tenant={tenant}")), "{line}");
            assert!(
                line.contains(&format!("incident={}", incident.id)),
                "{line}"
            );
            for value in ["laptop", "dpo@example.com", "is down"] {
                assert!(!line.contains(value), "{value} in {line}");
            }
        }
    }
    #[cfg(not(feature = "tracing"))]
    let _ = (failed, unaudited);
}
