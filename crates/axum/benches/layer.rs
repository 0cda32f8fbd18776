//! What `CustodiaLayer` adds to a request that needs no database, against the
//! same router without it and against the raw primitive it is built on
//! (`jsonwebtoken::decode` of the same HS256 token), in the same run.
//!
//! `cargo bench -p custodia-axum --all-features --bench layer -- --warm-up-time 1 --measurement-time 3`
//!
//! In process (`tower::ServiceExt::oneshot`), no socket and no PostgreSQL: the
//! pool is lazy and the handler takes only `Tenant`, so the figure is
//! authentication, extension plumbing and response mapping. The database and
//! audit costs of a real request are the sqlx binding's and the audit store's
//! (their own benches).

use std::collections::HashSet;
use std::hint::black_box;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use custodia_axum::jwt::JwtAuthenticator;
use custodia_axum::{CustodiaLayer, Tenant};
use custodia_core::TenantId;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};
use tower::ServiceExt as _;

const SECRET: [u8; 32] = [42; 32];

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

fn request(token: &str) -> Request<Body> {
    Request::get("/me")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap()
}

fn layer(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let _guard = rt.enter();
    let tenant = TenantId::random();
    let token = token(tenant);
    let pool = sqlx_postgres::PgPoolOptions::new()
        .connect_lazy("postgres://nobody@127.0.0.1:1/none")
        .unwrap();
    let auth = JwtAuthenticator::hs256(&SECRET, "iss", "aud").unwrap();
    let bare = Router::new().route("/me", get(|| async { "ok" }));
    let guarded = Router::new()
        .route(
            "/me",
            get(|Tenant(ctx): Tenant| async move { ctx.tenant().to_string() }),
        )
        .layer(CustodiaLayer::new(auth, pool));

    let mut raw = Validation::new(Algorithm::HS256);
    raw.set_issuer(&["iss"]);
    raw.set_audience(&["aud"]);
    raw.required_spec_claims =
        HashSet::from(["exp".into(), "iss".into(), "aud".into(), "sub".into()]);
    let key = DecodingKey::from_secret(&SECRET).unwrap();

    let mut group = c.benchmark_group("layer");
    group.bench_function("raw jsonwebtoken::decode (HS256)", |b| {
        b.iter(|| jsonwebtoken::decode::<Value>(black_box(token.as_bytes()), &key, &raw).unwrap())
    });
    group.bench_function("router without the layer", |b| {
        b.iter(|| rt.block_on(bare.clone().oneshot(request(&token))).unwrap())
    });
    group.bench_function("router with CustodiaLayer (HS256, Tenant)", |b| {
        b.iter(|| {
            let response = rt
                .block_on(guarded.clone().oneshot(request(&token)))
                .unwrap();
            assert!(response.status().is_success());
            response
        })
    });
    group.finish();
}

criterion_group!(benches, layer);
criterion_main!(benches);
