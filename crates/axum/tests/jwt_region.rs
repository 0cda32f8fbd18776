//! Through the layer: a tenant's region (what residency and transfer checks
//! run against) is the deployment's, and a token's `region` claim cannot
//! move it, also for a tenant the deployment did not list in
//! `home_regions`; unless the host trusts its identity provider's region
//! claims (`trust_region_claims`).
//!
//! The handler takes no transaction, so the lazy pool is never used and no
//! PostgreSQL is needed.

use axum::Router;
use axum::http::{Request, StatusCode, header};
use axum::routing::get;
use custodia_axum::jwt::JwtAuthenticator;
use custodia_axum::{CustodiaLayer, Identity};
use custodia_core::{Region, TenantId};
use http_body_util::BodyExt as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sqlx_postgres::PgPoolOptions;
use tower::ServiceExt as _;

const SECRET: [u8; 32] = [42; 32];

fn token(tenant: TenantId, region: Option<&str>) -> String {
    let mut claims = serde_json::json!({"iss": "iss", "aud": "aud", "sub": "agent-7",
        "exp": 4_000_000_000_i64, "tid": tenant.to_string(), "roles": ["agent"]});
    if let Some(region) = region {
        claims["region"] = serde_json::json!(region);
    }
    let key = EncodingKey::from_secret(&SECRET).unwrap();
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap()
}

/// A router whose one route answers with the identity's region.
fn router(auth: JwtAuthenticator) -> Router {
    let pool = PgPoolOptions::new()
        .connect_lazy("postgres://unused@127.0.0.1:1/none")
        .unwrap();
    Router::new()
        .route(
            "/region",
            get(|identity: Identity| async move { identity.context().region().to_string() }),
        )
        .layer(CustodiaLayer::new(auth, pool))
}

/// The status and body of `GET /region` with `token`.
async fn region(router: &Router, token: &str) -> (StatusCode, String) {
    let request = Request::builder()
        .uri("/region")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let answer = router.clone().oneshot(request).await.unwrap();
    let status = answer.status();
    let body = answer.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

fn authenticator() -> JwtAuthenticator {
    JwtAuthenticator::hs256(&SECRET, "iss", "aud")
        .unwrap()
        .default_region(Region::EU)
}

#[tokio::test]
async fn an_undeclared_tenants_token_cannot_claim_another_region() {
    let tenant = TenantId::random();
    let router = router(authenticator());
    let (status, body) = region(&router, &token(tenant, Some("US"))).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a token claiming US for a tenant the deployment places in EU was served as {body:?}"
    );
    assert!(!body.contains("US"), "{body}");
    assert_eq!(
        region(&router, &token(tenant, None)).await,
        (StatusCode::OK, "EU".to_owned())
    );
    // A claim that agrees with the deployment is accepted.
    assert_eq!(
        region(&router, &token(tenant, Some("EU"))).await,
        (StatusCode::OK, "EU".to_owned())
    );
}

#[tokio::test]
async fn a_declared_home_wins_over_any_claim() {
    let tenant = TenantId::random();
    let router = router(
        authenticator()
            .home_regions([(tenant, Region::AU)])
            .trust_region_claims(),
    );
    assert_eq!(
        region(&router, &token(tenant, None)).await,
        (StatusCode::OK, "AU".to_owned())
    );
    assert_eq!(
        region(&router, &token(tenant, Some("US"))).await.0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_host_that_trusts_region_claims_takes_an_undeclared_tenants_from_the_token() {
    let tenant = TenantId::random();
    let router = router(authenticator().trust_region_claims());
    assert_eq!(
        region(&router, &token(tenant, Some("US"))).await,
        (StatusCode::OK, "US".to_owned())
    );
    assert_eq!(
        region(&router, &token(tenant, None)).await,
        (StatusCode::OK, "EU".to_owned())
    );
}
