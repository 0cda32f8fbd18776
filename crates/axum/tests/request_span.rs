//! The layer's request span (feature `tracing`): one span per request
//! naming the method, the route template and the status, never the path's
//! ids, the token or the tenant.
//!
//! A test binary of its own, and so a process of its own, on purpose: the
//! test counts the spans a thread-scoped subscriber
//! (`tracing::subscriber::with_default`) sees, and tracing caches each
//! callsite's interest process-wide. While at most one dispatcher has been
//! registered, a callsite's first registration asks only the registering
//! thread's default (tracing-core 0.1.36, `callsite::register`), so a
//! request served on another test's thread at the same moment could cache
//! the span as "never" for every thread and this count would fail now and
//! then (as `custodia-tenant`'s binding span test did; see its
//! `tests/sqlx_tracing.rs`). Here the test thread is the only one that
//! reaches the span's callsite.

#![cfg(all(feature = "tracing", feature = "jwt"))]

use axum::Router;
use axum::http::{StatusCode, header};
use axum::routing::get;
use custodia_axum::jwt::JwtAuthenticator;
use custodia_axum::{CustodiaLayer, Tenant};
use custodia_core::TenantId;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use sqlx_postgres::PgPoolOptions;

const ISSUER: &str = "https://login.test";
const AUDIENCE: &str = "helpdesk-api";
const SEED: [u8; 32] = [7; 32];

fn public_key() -> Vec<u8> {
    use ring::signature::KeyPair as _;
    ring::signature::Ed25519KeyPair::from_seed_unchecked(&SEED)
        .unwrap()
        .public_key()
        .as_ref()
        .to_vec()
}

/// An agent's EdDSA token for `tenant`, valid for ten minutes.
fn token(tenant: TenantId, agent: &str) -> String {
    // PKCS#8 v1 of the Ed25519 key with seed `SEED` (RFC 8410).
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&SEED);
    let now = custodia_core::chrono::Utc::now().timestamp();
    let claims = json!({"iss": ISSUER, "aud": AUDIENCE, "sub": agent, "exp": now + 600,
        "tid": tenant.to_string(), "roles": ["agent"]});
    jsonwebtoken::encode(
        &Header::new(Algorithm::EdDSA),
        &claims,
        &EncodingKey::from_ed_der(&der),
    )
    .unwrap()
}

/// With feature `tracing`: one span per request naming the method, the route
/// template and the status, never the path's ids, the token or the tenant.
/// In process (`oneshot`), so the subscriber sees only this test's requests.
#[test]
fn a_request_span_names_route_and_status_only() {
    use std::io::{Read as _, Seek as _};
    use tower::ServiceExt as _;

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = rt.enter();
    let tenant = TenantId::random();
    let token = token(tenant, "agent-7");
    // The handler takes only `Tenant`: the lazy pool is never used.
    let pool = PgPoolOptions::new()
        .connect_lazy("postgres://unused@127.0.0.1:1/none")
        .unwrap();
    let auth = JwtAuthenticator::ed25519(&public_key(), ISSUER, AUDIENCE).unwrap();
    let router = Router::new()
        .route(
            "/tickets/{id}",
            get(|Tenant(ctx): Tenant| async move { ctx.tenant().to_string() }),
        )
        .layer(CustodiaLayer::new(auth, pool));
    let request = |bearer: &str| {
        axum::http::Request::get("/tickets/T-8841")
            .header(header::AUTHORIZATION, format!("Bearer {bearer}"))
            .body(axum::body::Body::empty())
            .unwrap()
    };

    // A file, since the subscriber's writer must outlive the closure.
    let mut written = tempfile::tempfile().unwrap();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(written.try_clone().unwrap())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        // Interest cached before the subscriber, recomputed with it.
        tracing::callsite::rebuild_interest_cache();
        let ok = rt
            .block_on(router.clone().oneshot(request(&token)))
            .unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        let refused = rt
            .block_on(router.clone().oneshot(request("forged")))
            .unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    });
    let mut log = String::new();
    written.rewind().unwrap();
    written.read_to_string(&mut log).unwrap();
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
