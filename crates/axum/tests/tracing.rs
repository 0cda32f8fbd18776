//! With feature `tracing`: one span per request naming the method, the route
//! template and the status, never the path's ids, the token or the tenant.
#![cfg(all(feature = "tracing", feature = "jwt"))]

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::get;
use custodia_axum::jwt::JwtAuthenticator;
use custodia_axum::{CustodiaLayer, Tenant};
use custodia_core::TenantId;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use tower::ServiceExt as _;
use tracing_subscriber::fmt::format::FmtSpan;

const SECRET: [u8; 32] = [42; 32];

/// A writer into a shared buffer, for the subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn token(tenant: TenantId) -> String {
    let claims = json!({"iss": "iss", "aud": "aud", "sub": "agent-7", "exp": 4_102_444_800_i64,
        "tid": tenant.to_string(), "roles": ["agent"]});
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(&SECRET).unwrap(),
    )
    .unwrap()
}

#[test]
fn a_request_span_names_route_and_status_only() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = rt.enter();
    let tenant = TenantId::random();
    let token = token(tenant);
    // The handler takes only `Tenant`: the lazy pool is never used.
    let pool = sqlx_postgres::PgPoolOptions::new()
        .connect_lazy("postgres://nobody@127.0.0.1:1/none")
        .unwrap();
    let auth = JwtAuthenticator::hs256(&SECRET, "iss", "aud").unwrap();
    let router = Router::new()
        .route(
            "/tickets/{id}",
            get(|Tenant(ctx): Tenant| async move { ctx.tenant().to_string() }),
        )
        .layer(CustodiaLayer::new(auth, pool));
    let request = |bearer: &str| {
        Request::get("/tickets/T-8841")
            .header(header::AUTHORIZATION, format!("Bearer {bearer}"))
            .body(Body::empty())
            .unwrap()
    };

    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let ok = rt
            .block_on(router.clone().oneshot(request(&token)))
            .unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        let refused = rt
            .block_on(router.clone().oneshot(request("forged")))
            .unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    });
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert_eq!(log.matches("custodia.axum.request").count(), 2, "{log}");
    assert!(log.contains("route=/tickets/{id}"), "{log}");
    assert!(log.contains("method=GET"), "{log}");
    assert!(
        log.contains("status=200") && log.contains("status=401"),
        "{log}"
    );
    assert!(log.contains("time.busy"), "{log}");
    for value in ["T-8841", token.as_str(), "forged", &tenant.to_string()] {
        assert!(!log.contains(value), "{value} leaked into {log}");
    }
}
