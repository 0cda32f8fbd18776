//! The layer over real HTTP on loopback against a real PostgreSQL: tenant
//! isolation, refusals that write nothing, rollback on error responses, and
//! audit events that verify.
//!
//! Needs `CUSTODIA_PG_ADMIN_URL` (a superuser) and `CUSTODIA_PG_APP_URL` (the
//! non-owner application role), which `scripts/postgres` exports. Without
//! them every test here fails: they never pass by skipping.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{Method, StatusCode, header};
use axum::routing::{get, post};
use custodia_audit::store::PostgresStore;
use custodia_audit::{Action, AuditLog, Outcome, Personal, Query, SqlxAuditStore, Target};
use custodia_axum::jwt::JwtAuthenticator;
use custodia_axum::{
    Audit, AuditSink, CustodiaLayer, Error, Json, SinkFuture, SqlxAuditSink, Tenant, Tx,
};
use custodia_core::{SubjectId, SystemClock, TenantId};
use custodia_crypt::{AsyncKeyring, AsyncSubjectVault, DataKeyMode, MemoryKeyStore, SecretKey};
use custodia_tenant::rls::{RlsPolicy, TenantTable};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use sqlx_core::query::query;
use sqlx_core::raw_sql::raw_sql;
use sqlx_core::row::Row as _;
use sqlx_postgres::{PgConnection, PgPool, PgPoolOptions, Postgres};

const ISSUER: &str = "https://login.test";
const AUDIENCE: &str = "helpdesk-api";
const SEED: [u8; 32] = [7; 32];
const BODY_LIMIT: usize = 4096;

fn env_url(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!(
            "{var} is not set: the PostgreSQL tests need a real server. Run them with \
             `scripts/postgres cargo test -p custodia-axum --all-features --test http`, \
             which starts a throwaway PostgreSQL and exports CUSTODIA_PG_ADMIN_URL and CUSTODIA_PG_APP_URL"
        )
    })
}

async fn pool(var: &str, max: u32) -> PgPool {
    PgPoolOptions::new()
        .max_connections(max)
        .connect(&env_url(var))
        .await
        .unwrap_or_else(|e| panic!("cannot connect with {var}: {e}"))
}

/// PKCS#8 v1 of the Ed25519 key with seed `seed` (RFC 8410).
fn ed25519_key(seed: [u8; 32]) -> EncodingKey {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&seed);
    EncodingKey::from_ed_der(&der)
}

fn signing_key() -> EncodingKey {
    ed25519_key(SEED)
}

fn public_key() -> Vec<u8> {
    use ring::signature::KeyPair as _;
    ring::signature::Ed25519KeyPair::from_seed_unchecked(&SEED)
        .unwrap()
        .public_key()
        .as_ref()
        .to_vec()
}

fn now() -> i64 {
    custodia_core::chrono::Utc::now().timestamp()
}

fn token_with(claims: Value) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims, &signing_key()).unwrap()
}

fn token(tenant: TenantId, agent: &str) -> String {
    token_with(
        json!({"iss": ISSUER, "aud": AUDIENCE, "sub": agent, "exp": now() + 600,
        "tid": tenant.to_string(), "roles": ["agent"]}),
    )
}

/// The schema, tenants and audit log of one test, and the server over them.
struct Fixture {
    schema: String,
    tenants: Vec<TenantId>,
    log: String,
    addr: SocketAddr,
    admin: PgPool,
    vault: AsyncSubjectVault<Arc<MemoryKeyStore>>,
    store: Arc<SqlxAuditStore>,
    /// Events the layer staged in a request's transaction, and queued
    /// (`record_soon`), through [`Sink::BufferingReads`].
    calls: Arc<SinkCalls>,
}

#[derive(Clone)]
struct App {
    table: Arc<str>,
}

#[derive(serde::Deserialize)]
struct NewTicket {
    title: String,
    requester: String,
}

#[derive(serde::Deserialize)]
struct Patch {
    title: String,
}

fn requester(tenant: TenantId, key: &str) -> SubjectId {
    SubjectId::from_external_key(tenant, "helpdesk.contact", key)
}

fn ticket_audit(tenant: TenantId, id: i64, requester_key: &str) -> Audit {
    Audit::new(Target::new("ticket", id.to_string()).unwrap())
        .subject(requester(tenant, requester_key))
}

/// Inserts `new` as a ticket of `tenant` through the request's transaction;
/// its id.
async fn insert_ticket(
    app: &App,
    tenant: TenantId,
    tx: &mut Tx,
    new: &NewTicket,
) -> Result<i64, sqlx_core::Error> {
    let row = query::<Postgres>(&format!(
        "INSERT INTO {} (tenant_id, title, requester) VALUES ($1, $2, $3) RETURNING id",
        app.table
    ))
    .bind(*tenant.as_uuid())
    .bind(&new.title)
    .bind(&new.requester)
    .fetch_one(&mut **tx)
    .await?;
    row.try_get(0)
}

async fn create(
    State(app): State<App>,
    Tenant(ctx): Tenant,
    mut tx: Tx,
    Json(new): Json<NewTicket>,
) -> Result<(StatusCode, Audit, Json<Value>), Error> {
    let id = insert_ticket(&app, ctx.tenant(), &mut tx, &new).await?;
    if new.title == "fail after insert" {
        // The handler wrote, then failed: the layer must roll back.
        return Err(Error::BadRequest {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: "refused after writing".into(),
        });
    }
    let audit = ticket_audit(ctx.tenant(), id, &new.requester);
    Ok((StatusCode::CREATED, audit, Json(json!({ "id": id }))))
}

/// Inserts a ticket, then lets a statement fail and ignores its error (a
/// host bug, or a "best effort" step): PostgreSQL has aborted the
/// transaction, so its `COMMIT` rolls back, with no error on the wire.
async fn create_then_swallow(
    State(app): State<App>,
    Tenant(ctx): Tenant,
    mut tx: Tx,
    Json(new): Json<NewTicket>,
) -> Result<(StatusCode, Audit, Json<Value>), Error> {
    let id = insert_ticket(&app, ctx.tenant(), &mut tx, &new).await?;
    let _ = query::<Postgres>("SELECT 1 / 0").execute(&mut *tx).await;
    let audit = ticket_audit(ctx.tenant(), id, &new.requester);
    Ok((StatusCode::CREATED, audit, Json(json!({ "id": id }))))
}

/// Inserts a ticket, then panics (a host bug: an `unwrap` on a value it
/// did not expect). The message names a person, as panic messages do.
async fn create_then_panic(
    State(app): State<App>,
    Tenant(ctx): Tenant,
    mut tx: Tx,
    Json(new): Json<NewTicket>,
) -> StatusCode {
    insert_ticket(&app, ctx.tenant(), &mut tx, &new)
        .await
        .unwrap();
    panic!("no manager for {}", new.requester)
}

/// Reads a ticket's requester, then panics before it can return the
/// [`Audit`] that would have named them.
async fn read_then_panic(State(app): State<App>, mut tx: Tx, Path(id): Path<i64>) -> Json<Value> {
    let requester: String = query::<Postgres>(&format!(
        "SELECT requester FROM {} WHERE id = $1",
        app.table
    ))
    .bind(id)
    .fetch_one(&mut *tx)
    .await
    .unwrap()
    .get(0);
    panic!("cannot render the ticket of {requester}")
}

/// Inserts a ticket, then loses its connection (the backend is terminated,
/// as by an administrator or a failover) and answers an error: the layer's
/// `ROLLBACK` cannot be sent.
async fn create_then_lose_connection(
    State(app): State<App>,
    Tenant(ctx): Tenant,
    mut tx: Tx,
    Json(new): Json<NewTicket>,
) -> Result<StatusCode, Error> {
    insert_ticket(&app, ctx.tenant(), &mut tx, &new).await?;
    let _ = query::<Postgres>("SELECT pg_terminate_backend(pg_backend_pid())")
        .execute(&mut *tx)
        .await;
    Err(Error::BadRequest {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        message: "refused after writing".into(),
    })
}

/// A read of a subject's ticket whose connection then dies: it answers
/// 200 with its audit part, and the layer's `COMMIT` fails.
async fn read_then_lose_connection(
    state: State<App>,
    tenant: Tenant,
    mut tx: Tx,
    id: Path<i64>,
) -> Result<(Audit, Json<Value>), Error> {
    let row = query::<Postgres>(&format!(
        "SELECT requester FROM {} WHERE id = $1",
        state.table
    ))
    .bind(id.0)
    .fetch_one(&mut *tx)
    .await?;
    let requester: String = row.try_get(0)?;
    let _ = query::<Postgres>("SELECT pg_terminate_backend(pg_backend_pid())")
        .execute(&mut *tx)
        .await;
    let audit = ticket_audit(tenant.0.tenant(), id.0, &requester);
    Ok((audit, Json(json!({ "id": id.0 }))))
}

/// A read that writes (a host bug, or a "last seen" update): inserts a
/// ticket through its transaction and answers 200 with no audit part.
async fn read_that_writes(
    State(app): State<App>,
    Tenant(ctx): Tenant,
    mut tx: Tx,
) -> Result<StatusCode, Error> {
    query::<Postgres>(&format!(
        "INSERT INTO {} (tenant_id, title, requester) VALUES ($1, 'written by a GET', 'c')",
        app.table
    ))
    .bind(*ctx.tenant().as_uuid())
    .execute(&mut *tx)
    .await?;
    Ok(StatusCode::OK)
}

async fn read(
    State(app): State<App>,
    Tenant(ctx): Tenant,
    mut tx: Tx,
    Path(id): Path<i64>,
) -> Result<(Audit, Json<Value>), Error> {
    let row = query::<Postgres>(&format!(
        "SELECT title, requester FROM {} WHERE id = $1",
        app.table
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let row = Error::found(row, "ticket")?;
    let (title, requester): (String, String) = (row.try_get(0)?, row.try_get(1)?);
    let audit = ticket_audit(ctx.tenant(), id, &requester);
    Ok((audit, Json(json!({ "id": id, "title": title }))))
}

async fn list(State(app): State<App>, mut tx: Tx) -> Result<Json<Vec<i64>>, Error> {
    let rows = query::<Postgres>(&format!("SELECT id FROM {} ORDER BY id", app.table))
        .fetch_all(&mut *tx)
        .await?;
    let ids = rows
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    Ok(Json(ids))
}

async fn update(
    State(app): State<App>,
    mut tx: Tx,
    Path(id): Path<i64>,
    Json(patch): Json<Patch>,
) -> Result<StatusCode, Error> {
    let sql = format!(
        "UPDATE {} SET title = $2 WHERE id = $1 RETURNING id",
        app.table
    );
    change_one(&mut tx, &sql, id, Some(&patch.title)).await
}

async fn delete(
    State(app): State<App>,
    mut tx: Tx,
    Path(id): Path<i64>,
) -> Result<StatusCode, Error> {
    let sql = format!("DELETE FROM {} WHERE id = $1 RETURNING id", app.table);
    change_one(&mut tx, &sql, id, None).await
}

/// Runs `sql` on ticket `id` (`$1`, and `title` as `$2` if given): 204, or
/// 404 when it touched no row (missing, or another tenant's).
async fn change_one(
    tx: &mut Tx,
    sql: &str,
    id: i64,
    title: Option<&str>,
) -> Result<StatusCode, Error> {
    let mut statement = query::<Postgres>(sql).bind(id);
    if let Some(title) = title {
        statement = statement.bind(title);
    }
    let row = statement.fetch_optional(&mut **tx).await?;
    Error::found(row, "ticket").map(|_| StatusCode::NO_CONTENT)
}

/// Serves `router` on 127.0.0.1 (a free port) with client addresses.
async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, service).await.unwrap();
    });
    addr
}

/// A handler that asks for the request's transaction twice (a host bug).
async fn two_transactions(first: Tx, second: Tx) -> StatusCode {
    drop((first, second));
    StatusCode::OK
}

impl Fixture {
    /// `event` with its sealed values opened (on the blocking pool, where
    /// the vault reaches its store).
    async fn reveal(
        &self,
        event: &custodia_audit::Event,
    ) -> custodia_audit::personal::RevealedEvent {
        let event = event.clone();
        self.vault
            .run(move |vault| Ok(custodia_audit::personal::reveal_event(vault, &event)))
            .await
            .unwrap()
            .unwrap()
    }

    /// A fresh schema with an RLS-protected `tickets` table, `tenants` tenants
    /// served, a fresh audit log behind the layer's `sink`, and the server
    /// on 127.0.0.1:0.
    async fn start(tenants: usize, audit_reads: bool, sink: Sink) -> Self {
        let admin = pool("CUSTODIA_PG_ADMIN_URL", 2).await;
        let app_pool = pool("CUSTODIA_PG_APP_URL", 8).await;
        let app_role: String = query::<Postgres>("SELECT current_user::text")
            .fetch_one(&app_pool)
            .await
            .unwrap()
            .get(0);
        let schema = format!("custodia_axum_{}", TenantId::random().as_uuid().simple());
        raw_sql(&format!(
            "CREATE SCHEMA {schema};
             GRANT USAGE ON SCHEMA {schema} TO {app_role};
             CREATE TABLE {schema}.tickets (
                 tenant_id uuid   NOT NULL,
                 id        bigint GENERATED ALWAYS AS IDENTITY,
                 title     text   NOT NULL,
                 requester text   NOT NULL,
                 PRIMARY KEY (tenant_id, id),
                 UNIQUE (id)
             );
             -- A change that fails only at COMMIT (a deferred check).
             CREATE FUNCTION {schema}.refuse_doomed() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN
                     IF NEW.title = 'fail at commit' THEN
                         RAISE EXCEPTION 'doomed ticket';
                     END IF;
                     RETURN NEW;
                 END $$;
             CREATE CONSTRAINT TRIGGER doomed AFTER INSERT ON {schema}.tickets
                 DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
                 EXECUTE FUNCTION {schema}.refuse_doomed();"
        ))
        .execute(&admin)
        .await
        .unwrap();
        let table = TenantTable::new(&schema, "tickets").unwrap();
        let rls = RlsPolicy::new(&app_role)
            .unwrap()
            .table(table.clone())
            .sql();
        raw_sql(&rls).execute(&admin).await.unwrap();
        SqlxAuditStore::migrate(&admin).await.unwrap();
        SqlxAuditStore::grant(&admin, &app_role).await.unwrap();

        let log = format!("axum-{}", TenantId::random().as_uuid().simple());
        let store = Arc::new(SqlxAuditStore::new(app_pool.clone(), &log).unwrap());
        let keys = Arc::new(MemoryKeyStore::default());
        let keyring = AsyncKeyring::from_store(
            keys.clone(),
            SecretKey::generate().unwrap(),
            DataKeyMode::Random,
        )
        .await
        .unwrap();
        let vault = AsyncSubjectVault::new(&keyring, keys, Arc::new(SystemClock));
        let tenants: Vec<TenantId> = (0..tenants).map(|_| TenantId::random()).collect();
        let auth = JwtAuthenticator::ed25519(&public_key(), ISSUER, AUDIENCE)
            .unwrap()
            .serve_only(tenants.iter().copied());
        let layer = CustodiaLayer::new(auth, app_pool).audit_reads(audit_reads);
        let to_log = SqlxAuditSink::new(store.clone(), vault.clone());
        let calls = Arc::new(SinkCalls::default());
        let layer = match sink {
            Sink::Off => layer,
            Sink::WriteAhead => layer.audit(WriteAhead(to_log)),
            Sink::Log => layer.audit(to_log),
            Sink::Down => layer.audit(FailingSink),
            Sink::StageRefused => layer.audit(StageRefused(to_log)),
            Sink::BufferingReads => layer
                .audit(Counted(to_log, calls.clone()))
                .buffer_reads(true),
        };
        let router = Router::new()
            .route("/tickets", post(create).get(list))
            .route("/tickets/{id}", get(read).patch(update).delete(delete))
            .route("/two-transactions", post(two_transactions))
            .route("/swallowed", post(create_then_swallow))
            .route("/panics", post(create_then_panic))
            .route("/read-panics/{id}", get(read_then_panic))
            .route("/read-that-writes", get(read_that_writes))
            .route("/connection-lost", post(create_then_lose_connection))
            .route("/read-connection-lost/{id}", get(read_then_lose_connection))
            .layer(layer)
            .layer(DefaultBodyLimit::max(BODY_LIMIT))
            .with_state(App {
                table: table.qualified().into(),
            });
        let addr = serve(router).await;
        Self {
            schema,
            tenants,
            log,
            addr,
            admin,
            vault,
            store,
            calls,
        }
    }

    /// Tickets of `tenant` as the database owner sees them: (id, title).
    async fn rows(&self, tenant: TenantId) -> Vec<(i64, String)> {
        query::<Postgres>(&format!(
            "SELECT id, title FROM {}.tickets WHERE tenant_id = $1 ORDER BY id",
            self.schema
        ))
        .bind(*tenant.as_uuid())
        .fetch_all(&self.admin)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
    }

    /// The outcomes of [`Fixture::audit_events`], in log order.
    async fn outcomes(&self) -> Vec<Outcome> {
        let events = self.audit_events().await;
        events.into_iter().map(|e| e.outcome).collect()
    }

    /// The audit log, opened (and so verified) by the sync reader, and its
    /// events, once what committed requests staged is drained into it.
    async fn audit_events(&self) -> Vec<custodia_audit::Event> {
        self.store.drain().await.unwrap();
        let log = self.log.clone();
        tokio::task::spawn_blocking(move || {
            let store = PostgresStore::connect(&env_url("CUSTODIA_PG_APP_URL"), &log).unwrap();
            let audit = AuditLog::open(store).expect("the audit log verifies");
            audit
                .query(&Query::new())
                .unwrap()
                .into_iter()
                .map(|(_, e)| e)
                .collect()
        })
        .await
        .unwrap()
    }

    async fn stop(self) {
        raw_sql(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema))
            .execute(&self.admin)
            .await
            .unwrap();
    }
}

/// Which audit sink a fixture's layer gets.
#[derive(Clone, Copy)]
enum Sink {
    /// No audit sink at all.
    Off,
    /// The log, through a sink that only records ([`WriteAhead`]: the
    /// trait's default `stage`).
    WriteAhead,
    /// The PostgreSQL log.
    Log,
    /// A log that is down ([`FailingSink`]).
    Down,
    /// The log, but staging in the request's transaction fails
    /// ([`StageRefused`]).
    StageRefused,
    /// The log, counting its calls ([`Counted`]), with reads buffered.
    BufferingReads,
}

/// How often a [`Counted`] sink was asked to stage and to record soon.
#[derive(Default)]
struct SinkCalls {
    staged: std::sync::atomic::AtomicUsize,
    soon: std::sync::atomic::AtomicUsize,
}

/// The PostgreSQL log's sink, counting stage and `record_soon` calls.
struct Counted(SqlxAuditSink<Arc<MemoryKeyStore>>, Arc<SinkCalls>);

impl AuditSink for Counted {
    fn record(&self, event: custodia_audit::Event) -> SinkFuture<'_> {
        self.0.record(event)
    }

    fn stage<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: custodia_audit::Event,
    ) -> SinkFuture<'a> {
        self.1
            .staged
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.0.stage(conn, event)
    }

    fn committed(&self) {
        self.0.committed();
    }

    fn record_soon(&self, event: custodia_audit::Event) -> SinkFuture<'_> {
        self.1
            .soon
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.0.record_soon(event)
    }
}

/// The PostgreSQL log's sink, refusing to stage (say, the outbox table is
/// missing) while recording outside a transaction still works.
struct StageRefused(SqlxAuditSink<Arc<MemoryKeyStore>>);

impl AuditSink for StageRefused {
    fn record(&self, event: custodia_audit::Event) -> SinkFuture<'_> {
        self.0.record(event)
    }

    fn stage<'a>(&'a self, _: &'a mut PgConnection, _: custodia_audit::Event) -> SinkFuture<'a> {
        Box::pin(async { Err(custodia_audit::Error::Store("the outbox is gone".into())) })
    }
}

/// The PostgreSQL log's sink with only `record`: `stage` is the trait's
/// default (the event is written ahead, outside the request's transaction).
struct WriteAhead(SqlxAuditSink<Arc<MemoryKeyStore>>);

impl AuditSink for WriteAhead {
    fn record(&self, event: custodia_audit::Event) -> SinkFuture<'_> {
        self.0.record(event)
    }
}

/// A sink that keeps nothing, with the trait's default `stage`.
struct Discard;

impl AuditSink for Discard {
    fn record(&self, _: custodia_audit::Event) -> SinkFuture<'_> {
        Box::pin(async { Ok(()) })
    }
}

/// An audit log that is down.
struct FailingSink;

impl AuditSink for FailingSink {
    fn record(&self, _: custodia_audit::Event) -> SinkFuture<'_> {
        Box::pin(async {
            Err(custodia_audit::Error::Store(
                "the audit database is down".into(),
            ))
        })
    }
}

/// A real HTTP/1.1 client on loopback.
struct Http {
    client: Client<HttpConnector, Full<Bytes>>,
    addr: SocketAddr,
    /// The headers of the last response.
    headers: std::sync::Mutex<axum::http::HeaderMap>,
}

impl Http {
    fn new(addr: SocketAddr) -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build_http(),
            addr,
            headers: Default::default(),
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
    ) -> (StatusCode, Value) {
        let mut req = axum::http::Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr))
            .header(header::USER_AGENT, "custodia-test/1.0");
        if let Some(token) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let bytes = match body {
            Some((content_type, bytes)) => {
                req = req.header(header::CONTENT_TYPE, content_type);
                bytes
            }
            None => Vec::new(),
        };
        let resp = self
            .client
            .request(req.body(Full::new(Bytes::from(bytes))).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        *self.headers.lock().unwrap() = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let value = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&body)
                .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&body)))
        };
        (status, value)
    }

    async fn json(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let bytes = serde_json::to_vec(&body).unwrap();
        self.send(method, path, Some(token), Some(("application/json", bytes)))
            .await
    }

    async fn create(&self, token: &str, title: &str, requester: &str) -> i64 {
        let (status, body) = self
            .json(
                Method::POST,
                "/tickets",
                token,
                json!({"title": title, "requester": requester}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_i64().unwrap()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `test` on a fresh one-tenant fixture with that tenant's agent token
/// and a client, then drops the fixture's schema.
fn with_one_tenant(
    audit_reads: bool,
    sink: Sink,
    test: impl AsyncFnOnce(&Fixture, TenantId, &str, &Http),
) {
    runtime().block_on(async {
        let fixture = Fixture::start(1, audit_reads, sink).await;
        let tenant = fixture.tenants[0];
        let http = Http::new(fixture.addr);
        test(&fixture, tenant, &token(tenant, "agent-1"), &http).await;
        fixture.stop().await;
    });
}

#[test]
fn an_agent_cannot_read_list_change_or_guess_another_tenants_tickets() {
    let rt = runtime();
    let (fixture, ids) = rt.block_on(async {
        let fixture = Fixture::start(2, false, Sink::Log).await;
        let http = Http::new(fixture.addr);
        let mut ids = Vec::new();
        for (i, tenant) in fixture.tenants.iter().enumerate() {
            let token = token(*tenant, "agent-1");
            let mut mine = Vec::new();
            for n in 0..3 {
                mine.push(http.create(&token, &format!("t{i}-{n}"), "contact-1").await);
            }
            ids.push(mine);
        }
        (fixture, ids)
    });
    let (a, b) = (fixture.tenants[0], fixture.tenants[1]);
    let token_a = token(a, "agent-1");
    let http = Http::new(fixture.addr);
    let before_b = rt.block_on(fixture.rows(b));

    // Listing shows exactly A's own tickets.
    let (status, listed) = rt.block_on(http.send(Method::GET, "/tickets", Some(&token_a), None));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed, json!(ids[0]));

    // Every route on B's ids, and on ids that exist nowhere, answers the same 404.
    let max = *ids.iter().flatten().max().unwrap();
    let strategy = (
        prop_oneof![Just(Method::GET), Just(Method::PATCH), Just(Method::DELETE)],
        prop_oneof![
            proptest::sample::select(ids[1].clone()),
            (max + 1..max + 1_000_000),
        ],
    );
    let mut runner = TestRunner::new(Config {
        cases: 48,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&strategy, |(method, id)| {
            let path = format!("/tickets/{id}");
            let (status, body) = rt.block_on(async {
                match method {
                    Method::PATCH => {
                        http.json(method, &path, &token_a, json!({"title": "taken"}))
                            .await
                    }
                    _ => http.send(method, &path, Some(&token_a), None).await,
                }
            });
            prop_assert_eq!(status, StatusCode::NOT_FOUND);
            prop_assert_eq!(
                body,
                json!({"error": "not_found", "message": "no ticket with the requested id"})
            );
            Ok(())
        })
        .unwrap();

    // B's tickets are untouched, and B still reads them.
    assert_eq!(rt.block_on(fixture.rows(b)), before_b);
    let (status, body) = rt.block_on(http.send(
        Method::GET,
        &format!("/tickets/{}", ids[1][0]),
        Some(&token(b, "agent-1")),
        None,
    ));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["title"], "t1-0");
    rt.block_on(fixture.stop());
}

/// A refused request and the refusal expected.
struct Case {
    token: Option<String>,
    content_type: &'static str,
    body: Vec<u8>,
    status: StatusCode,
    kind: &'static str,
    says: &'static str,
}

#[test]
fn bad_requests_get_a_clear_4xx_and_write_nothing() {
    with_one_tenant(false, Sink::Log, async |fixture, tenant, good, http| {
        let claims = |tid: Value, exp: i64| json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "agent-1", "exp": exp, "tid": tid});
        // Right claims, signed by another key.
        let forged = jsonwebtoken::encode(
            &Header::new(Algorithm::EdDSA),
            &claims(json!(tenant.to_string()), now() + 600),
            &ed25519_key([8; 32]),
        )
        .unwrap();
        let hs256 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims(json!(tenant.to_string()), now() + 600),
            &EncodingKey::from_secret(&public_key()).unwrap(),
        )
        .unwrap();
        let ticket = serde_json::to_vec(&json!({"title": "x", "requester": "c"})).unwrap();
        let big =
            serde_json::to_vec(&json!({"title": "x".repeat(2 * BODY_LIMIT), "requester": "c"}))
                .unwrap();
        let json_type = "application/json";
        let case = |token: &Option<String>, content_type, body: &[u8], status, kind, says| Case {
            token: token.clone(),
            content_type,
            body: body.to_vec(),
            status,
            kind,
            says,
        };
        let (good, none) = (Some(good.to_owned()), None);
        let expired = Some(token_with(claims(json!(tenant.to_string()), now() - 3600)));
        let not_a_tenant = Some(token_with(claims(json!("acme"), now() + 600)));
        let unserved = Some(token(TenantId::random(), "agent-1"));
        let unauthorized = (StatusCode::UNAUTHORIZED, "unauthorized");
        let cases = [
            (
                &none,
                json_type,
                &ticket[..],
                unauthorized,
                "no bearer token",
            ),
            (
                &Some("not-a-jwt".into()),
                json_type,
                &ticket,
                unauthorized,
                "malformed",
            ),
            (&Some(forged), json_type, &ticket, unauthorized, "signature"),
            (&Some(hs256), json_type, &ticket, unauthorized, "algorithm"),
            (&expired, json_type, &ticket, unauthorized, "expired"),
            (
                &not_a_tenant,
                json_type,
                &ticket,
                unauthorized,
                "tenant claim",
            ),
            (
                &unserved,
                json_type,
                &ticket,
                (StatusCode::FORBIDDEN, "forbidden"),
                "not served",
            ),
            (
                &good,
                json_type,
                b"{\"title\": ",
                (StatusCode::BAD_REQUEST, "bad_request"),
                "JSON",
            ),
            (
                &good,
                json_type,
                b"{\"title\": \"x\"}",
                (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable"),
                "requester",
            ),
            (
                &good,
                "text/plain",
                &ticket,
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
                "Content-Type",
            ),
            (
                &good,
                json_type,
                &big,
                (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
                "limit",
            ),
        ]
        .map(|(token, content_type, body, (status, kind), says)| {
            case(token, content_type, body, status, kind, says)
        });
        for case in cases {
            let body = Some((case.content_type, case.body));
            let (got, json) = http
                .send(Method::POST, "/tickets", case.token.as_deref(), body)
                .await;
            assert_eq!(got, case.status, "{json}");
            assert_eq!(json["error"], case.kind, "{json}");
            let message = json["message"].as_str().unwrap();
            assert!(
                message.contains(case.says),
                "{message:?} should say {:?}",
                case.says
            );
            if let Some(token) = &case.token {
                assert!(!message.contains(token.as_str()), "the token came back");
            }
        }
        assert!(
            fixture.rows(tenant).await.is_empty(),
            "a refused request wrote"
        );
        // Refused credentials never reach the audit; refused bodies are
        // recorded as failed attempts, with nothing else.
        let events = fixture.audit_events().await;
        assert_eq!(events.len(), 4);
        assert!(
            events
                .iter()
                .all(|e| e.outcome == Outcome::Failure && e.action == Action::Create)
        );
    });
}

#[test]
fn an_error_response_rolls_back_what_the_handler_wrote() {
    with_one_tenant(false, Sink::Log, async |fixture, tenant, token, http| {
        let kept = http.create(token, "kept", "contact-1").await;
        let (status, body) = http
            .json(
                Method::POST,
                "/tickets",
                token,
                json!({"title": "fail after insert", "requester": "c"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            body["message"],
            "bad request (422 Unprocessable Entity): refused after writing"
        );
        assert_eq!(fixture.rows(tenant).await, vec![(kept, "kept".to_owned())]);
        assert_eq!(
            fixture.outcomes().await,
            [Outcome::Success, Outcome::Failure]
        );
    });
}

#[test]
fn mutations_and_marked_reads_are_audited_with_sealed_client_details() {
    with_one_tenant(true, Sink::Log, async |fixture, tenant, token, http| {
        let id = http.create(token, "printer", "contact-9").await;
        let path = format!("/tickets/{id}");
        assert_eq!(
            http.send(Method::GET, &path, Some(token), None).await.0,
            StatusCode::OK
        );
        // A list carries no Audit part: not a read of personal data.
        assert_eq!(
            http.send(Method::GET, "/tickets", Some(token), None)
                .await
                .0,
            StatusCode::OK
        );
        let patch = http
            .json(
                Method::PATCH,
                &path,
                token,
                json!({"title": "printer on fire"}),
            )
            .await;
        assert_eq!(patch.0, StatusCode::NO_CONTENT);
        assert_eq!(
            http.send(Method::DELETE, &path, Some(token), None).await.0,
            StatusCode::NO_CONTENT
        );

        let events = fixture.audit_events().await;
        let summary: Vec<(Action, String, String, Outcome)> = events
            .iter()
            .map(|e| {
                (
                    e.action.clone(),
                    e.target.kind.clone(),
                    e.target.id.clone(),
                    e.outcome,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    Action::Create,
                    "ticket".into(),
                    id.to_string(),
                    Outcome::Success
                ),
                (
                    Action::Read,
                    "ticket".into(),
                    id.to_string(),
                    Outcome::Success
                ),
                (
                    Action::Update,
                    "route".into(),
                    "/tickets/{id}".into(),
                    Outcome::Success
                ),
                (
                    Action::Delete,
                    "route".into(),
                    "/tickets/{id}".into(),
                    Outcome::Success
                ),
            ]
        );
        let agent = custodia_core::ActorId::from_external_key(tenant, "jwt.sub", "agent-1");
        assert!(
            events
                .iter()
                .all(|e| e.actor.id == agent && e.tenant == tenant)
        );
        // The create concerned contact-9: IP and user agent sealed under their key.
        let created = &events[0];
        let subject = requester(tenant, "contact-9");
        assert_eq!(created.subject, Some(subject));
        assert!(created.actor.ip.as_ref().is_some_and(|v| v.is_sealed()));
        assert!(
            created
                .actor
                .user_agent
                .as_ref()
                .is_some_and(|v| v.is_sealed())
        );
        assert!(!created.has_clear_personal_data());
        let revealed = fixture.reveal(created).await;
        assert_eq!(revealed.event.actor.ip, Some(Personal::clear("127.0.0.1")));
        assert_eq!(
            revealed.event.actor.user_agent,
            Some(Personal::clear("custodia-test/1.0"))
        );
        // Erasing contact-9 erases them from the log, which still verifies.
        let dpo = custodia_core::ActorId::from_external_key(tenant, "helpdesk.user", "dpo");
        fixture.vault.shred(tenant, subject, dpo).await.unwrap();
        let events = fixture.audit_events().await;
        let revealed = fixture.reveal(&events[0]).await;
        assert_eq!(revealed.erased, ["actor.ip", "actor.user_agent"]);
        // Without a subject there is no key to seal under: no client details.
        assert!(events[2].actor.ip.is_none() && events[2].actor.user_agent.is_none());
    });
}

#[test]
fn buffered_reads_are_queued_not_staged_and_reach_the_log_sealed() {
    with_one_tenant(
        true,
        Sink::BufferingReads,
        async |fixture, tenant, token, http| {
            use std::sync::atomic::Ordering::SeqCst;
            let id = http.create(token, "printer", "contact-9").await;
            let path = format!("/tickets/{id}");
            for _ in 0..3 {
                assert_eq!(
                    http.send(Method::GET, &path, Some(token), None).await.0,
                    StatusCode::OK
                );
            }
            // The change was staged in its transaction; the reads were queued,
            // their transactions left read-only.
            assert_eq!(fixture.calls.staged.load(SeqCst), 1);
            assert_eq!(fixture.calls.soon.load(SeqCst), 3);
            fixture.store.settle().await.unwrap();
            let events = fixture.audit_events().await;
            let actions: Vec<Action> = events.iter().map(|e| e.action.clone()).collect();
            assert_eq!(
                actions,
                [Action::Create, Action::Read, Action::Read, Action::Read]
            );
            let subject = requester(tenant, "contact-9");
            for read in &events[1..] {
                assert_eq!(read.subject, Some(subject));
                assert!(read.actor.ip.as_ref().is_some_and(|v| v.is_sealed()));
                assert!(!read.has_clear_personal_data());
            }
            // A change is never buffered.
            let patch = http
                .json(Method::PATCH, &path, token, json!({"title": "jammed"}))
                .await;
            assert_eq!(patch.0, StatusCode::NO_CONTENT);
            assert_eq!(fixture.calls.staged.load(SeqCst), 2);
            assert_eq!(fixture.calls.soon.load(SeqCst), 3);
        },
    );
}

/// The layer's promise: "If the commit fails, a second event for the same
/// request id records the failure", and refused attempts are on the
/// record. A buffered read whose `COMMIT` failed once answered 500 with no
/// event at all: the commit's error returned before the event was queued.
#[test]
fn a_buffered_read_whose_commit_fails_is_recorded_as_a_failure() {
    with_one_tenant(
        true,
        Sink::BufferingReads,
        async |fixture, tenant, token, http| {
            let id = http.create(token, "printer", "contact-9").await;
            let (status, body) = http
                .send(
                    Method::GET,
                    &format!("/read-connection-lost/{id}"),
                    Some(token),
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
            fixture.store.settle().await.unwrap();
            let events = fixture.audit_events().await;
            let summary: Vec<_> = events
                .iter()
                .map(|e| (e.action.clone(), e.outcome, e.subject))
                .collect();
            let subject = Some(requester(tenant, "contact-9"));
            assert_eq!(
                summary,
                [
                    (Action::Create, Outcome::Success, subject),
                    (Action::Read, Outcome::Failure, subject),
                ]
            );
            assert!(!events[1].has_clear_personal_data());
        },
    );
}

#[test]
fn a_change_whose_audit_event_fails_is_rolled_back() {
    with_one_tenant(false, Sink::Down, async |fixture, tenant, token, http| {
        let (status, body) = http
            .json(
                Method::POST,
                "/tickets",
                token,
                json!({"title": "t", "requester": "c"}),
            )
            .await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        // The cause is for the host's logs, not the client.
        assert_eq!(
            body,
            json!({"error": "internal", "message": "internal error"})
        );
        assert!(
            fixture.rows(tenant).await.is_empty(),
            "an unaudited change was committed"
        );
    });
}

#[test]
fn an_event_is_on_the_record_exactly_when_its_change_commits() {
    with_one_tenant(false, Sink::Log, async |fixture, tenant, token, http| {
        let id = http.create(token, "kept", "c").await;
        let (status, _) = http
            .json(
                Method::POST,
                "/tickets",
                token,
                json!({"title": "fail at commit", "requester": "c"}),
            )
            .await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(fixture.rows(tenant).await, vec![(id, "kept".to_owned())]);
        // The staged success rolled back with the change: the failed commit
        // is on the record once, as a failure.
        assert_eq!(
            fixture.outcomes().await,
            [Outcome::Success, Outcome::Failure]
        );
    });
}

#[test]
fn a_failed_stage_commits_nothing_and_is_on_the_record_as_a_failure() {
    with_one_tenant(
        false,
        Sink::StageRefused,
        async |fixture, tenant, token, http| {
            let (status, body) = http
                .json(
                    Method::POST,
                    "/tickets",
                    token,
                    json!({"title": "not staged", "requester": "c"}),
                )
                .await;
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
            assert!(
                fixture.rows(tenant).await.is_empty(),
                "an unaudited change was committed"
            );
            assert_eq!(fixture.outcomes().await, [Outcome::Failure]);
        },
    );
}

#[test]
fn a_second_transaction_in_one_request_is_an_error_not_a_deadlock() {
    with_one_tenant(false, Sink::Log, async |fixture, _, token, http| {
        let (status, body) = http
            .json(Method::POST, "/two-transactions", token, json!({}))
            .await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            body,
            json!({"error": "internal", "message": "internal error"})
        );
        // The failure is on the record like any other refused mutation.
        let events = fixture.audit_events().await;
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].outcome, Outcome::Failure);
    });
}

/// An audit sink that keeps events in memory.
#[derive(Clone, Default)]
struct Recorded(Arc<std::sync::Mutex<Vec<custodia_audit::Event>>>);

impl AuditSink for Recorded {
    fn record(&self, event: custodia_audit::Event) -> SinkFuture<'_> {
        self.0.lock().unwrap().push(event);
        Box::pin(async { Ok(()) })
    }
}

/// Serves `routes` under `/privacy` behind the layer. The DSR routes need no
/// database of their own: the pool is lazy and never used.
async fn privacy_server(routes: custodia_axum::dsr::DsrRoutes, audit: Recorded) -> Http {
    let pool = PgPoolOptions::new()
        .connect_lazy("postgres://unused@127.0.0.1:1/none")
        .unwrap();
    let auth = JwtAuthenticator::ed25519(&public_key(), ISSUER, AUDIENCE).unwrap();
    let router = Router::new()
        .nest("/privacy", routes.router())
        .layer(CustodiaLayer::new(auth, pool).audit(audit));
    Http::new(serve(router).await)
}

/// A token for user `officer` of `tenant` with one role.
fn officer(tenant: TenantId, role: &str) -> String {
    token_with(
        json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "officer", "exp": now() + 600,
        "tid": tenant.to_string(), "roles": [role]}),
    )
}

/// Memory sources, a lazy pool, and this test still goes over real HTTP.: a lazy pool that is never
/// used, memory sources, and this test still goes over real HTTP.
#[test]
fn a_dpo_receives_exports_and_erases_only_in_their_own_tenant() {
    use custodia_axum::dsr::{DsrRoutes, MemoryRequests};
    use custodia_core::{DataCategory, LegalBasis};
    use custodia_dsr::{Desk, MemorySink, MemorySource, RecordRef};

    runtime().block_on(async {
        let (a, b) = (TenantId::random(), TenantId::random());
        let alice = requester(a, "alice");
        let tickets = Arc::new(MemorySource::new("tickets"));
        let record = RecordRef::new("ticket", "T-1");
        let fields = [("description", DataCategory::USER_CONTACT_EMAIL, "alice@example.com", true)];
        tickets.insert(a, alice, record.clone(), LegalBasis::Contract, fields);
        let desk = Desk::new(Arc::new(SystemClock), Arc::new(MemorySink::new()))
            .with_source(tickets.clone())
            .unwrap();
        let dpo = custodia_tenant::RoleName::new("dpo").unwrap();
        let routes = DsrRoutes::new(Arc::new(desk), Arc::new(MemoryRequests::default()), dpo);
        let audit = Recorded::default();
        let http = privacy_server(routes, audit.clone()).await;
        let (dpo_a, agent_a, dpo_b) = (officer(a, "dpo"), officer(a, "agent"), officer(b, "dpo"));
        let new = |kind: &str| {
            json!({"subject": alice.to_string(), "request": {"kind": kind},
                "verification": "contact_challenge", "note": "code returned"})
        };

        // An agent without the role is refused, and nothing is logged as received.
        let (status, body) = http.json(Method::POST, "/privacy/requests", &agent_a, new("access")).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body["message"], "forbidden: data-subject requests need the dpo role");

        // Access: received, verified, run; the export is a download with Alice's ticket.
        let (status, access) = http.json(Method::POST, "/privacy/requests", &dpo_a, new("access")).await;
        assert_eq!(status, StatusCode::CREATED, "{access}");
        assert_eq!(access["state"], "verified");
        let id = access["id"].as_str().unwrap().to_owned();
        let status_path = format!("/privacy/requests/{id}");
        let run_path = format!("{status_path}/run");
        // Tenant B's DPO cannot see or run it: the same 404 as a made-up id.
        let missing = format!("/privacy/requests/{}", custodia_dsr::RequestId::random());
        let not_found = (StatusCode::NOT_FOUND,
            json!({"error": "not_found", "message": "no data-subject request with the requested id"}));
        assert_eq!(http.send(Method::GET, &status_path, Some(&dpo_b), None).await, not_found);
        assert_eq!(http.send(Method::GET, &missing, Some(&dpo_a), None).await, not_found);
        assert_eq!(http.json(Method::POST, &run_path, &dpo_b, json!({})).await, not_found);
        let (status, bundle) = http.json(Method::POST, &run_path, &dpo_a, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{bundle}");
        assert_eq!(bundle["subject"], alice.to_string());
        let disposition = http.headers.lock().unwrap()[header::CONTENT_DISPOSITION].clone();
        assert_eq!(disposition, format!("attachment; filename=\"access-{id}.json\"").as_str());
        assert!(bundle.to_string().contains("alice@example.com"));
        let (status, done) = http.send(Method::GET, &status_path, Some(&dpo_a), None).await;
        assert_eq!((status, &done["state"]), (StatusCode::OK, &json!("completed")));
        // Running it again is a conflict with the desk's reason, not a second export.
        let (status, again) = http.json(Method::POST, &run_path, &dpo_a, json!({})).await;
        assert_eq!((status, &again["error"]), (StatusCode::CONFLICT, &json!("conflict")), "{again}");

        // Erasure: the ticket's personal field is gone, and a certificate comes back.
        let (_, erasure) = http.json(Method::POST, "/privacy/requests", &dpo_a, new("erasure")).await;
        let run_erasure = format!("/privacy/requests/{}/run", erasure["id"].as_str().unwrap());
        let (status, certificate) = http.json(Method::POST, &run_erasure, &dpo_a, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{certificate}");
        assert_eq!(certificate["subject"], alice.to_string());
        assert!(!format!("{:?}", tickets.get(a, &record)).contains("alice@example.com"));

        // The layer recorded each mutating call against the request and Alice.
        let events = audit.0.lock().unwrap().clone();
        let actions: Vec<(Action, Outcome)> = events.iter().map(|e| (e.action.clone(), e.outcome)).collect();
        assert_eq!(actions[..2], [(Action::Create, Outcome::Denied), (Action::Create, Outcome::Success)]);
        assert!(actions.contains(&(Action::Export, Outcome::Success)));
        assert!(actions.contains(&(Action::Erase, Outcome::Success)));
        assert!(events.iter().filter(|e| e.outcome == Outcome::Success).all(|e| e.subject == Some(alice)));
    });
}

#[test]
fn a_dpo_records_breaches_of_their_own_tenant_only() {
    use custodia_axum::dsr::{DsrRoutes, MemoryIncidents, MemoryRequests};
    use custodia_dsr::breach::{BreachRegister, Contact, Incident};
    use custodia_dsr::{Desk, MemorySink};

    runtime().block_on(async {
        let (a, b) = (TenantId::random(), TenantId::random());
        let clock = Arc::new(SystemClock);
        let sink = Arc::new(MemorySink::new());
        let register = Arc::new(BreachRegister::new(clock.clone(), sink.clone()));
        let desk = Arc::new(Desk::new(clock, sink.clone()));
        let dpo = custodia_tenant::RoleName::new("dpo").unwrap();
        let routes = DsrRoutes::new(desk, Arc::new(MemoryRequests::default()), dpo)
            .with_breaches(register, Arc::new(MemoryIncidents::default()));
        let http = privacy_server(routes, Recorded::default()).await;
        let aware = custodia_core::chrono::Utc::now();
        let contact = Contact {
            name: "DPO".into(),
            contact: "dpo@example.com".into(),
        };
        let incident = |tenant: TenantId| {
            let mut i = Incident::new(
                custodia_core::Role::Controller,
                aware,
                "laptop lost",
                contact.clone(),
            );
            i.tenants = [tenant].into();
            serde_json::to_value(&i).unwrap()
        };

        let refused = http
            .json(
                Method::POST,
                "/privacy/breaches",
                &officer(a, "agent"),
                incident(a),
            )
            .await;
        assert_eq!(refused.0, StatusCode::FORBIDDEN);
        let foreign = http
            .json(
                Method::POST,
                "/privacy/breaches",
                &officer(a, "dpo"),
                incident(b),
            )
            .await;
        assert_eq!(foreign.0, StatusCode::FORBIDDEN);
        assert!(
            foreign.1["message"]
                .as_str()
                .unwrap()
                .contains("only the caller's tenant")
        );

        let (status, recorded) = http
            .json(
                Method::POST,
                "/privacy/breaches",
                &officer(a, "dpo"),
                incident(a),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{recorded}");
        let id = recorded["incident"]["id"].as_str().unwrap().to_owned();
        let deadline: custodia_core::Timestamp =
            serde_json::from_value(recorded["deadline"].clone()).unwrap();
        assert_eq!(deadline - aware, custodia_core::chrono::Duration::hours(72));
        assert_eq!(sink.events().len(), 1, "the register audits the recording");

        let path = format!("/privacy/breaches/{id}");
        let (status, listed) = http
            .send(
                Method::GET,
                "/privacy/breaches",
                Some(&officer(a, "dpo")),
                None,
            )
            .await;
        assert_eq!(
            (status, listed.as_array().unwrap().len()),
            (StatusCode::OK, 1)
        );
        assert_eq!(
            http.send(Method::GET, &path, Some(&officer(a, "dpo")), None)
                .await
                .0,
            StatusCode::OK
        );
        // Tenant B's officer sees nothing of it.
        let (status, listed) = http
            .send(
                Method::GET,
                "/privacy/breaches",
                Some(&officer(b, "dpo")),
                None,
            )
            .await;
        assert_eq!((status, listed), (StatusCode::OK, json!([])));
        assert_eq!(
            http.send(Method::GET, &path, Some(&officer(b, "dpo")), None)
                .await
                .0,
            StatusCode::NOT_FOUND
        );

        // The record is not rewritten: the same id again is 409, with no
        // second audit event, whatever the body says (found in review: a
        // second POST replaced the incident, awareness and all).
        let mut again = recorded["incident"].clone();
        again["description"] = json!("nothing happened");
        again["aware_at"] = json!("2020-01-01T00:00:00Z");
        let (status, answer) = http
            .json(Method::POST, "/privacy/breaches", &officer(a, "dpo"), again)
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{answer}");
        assert!(
            answer["message"]
                .as_str()
                .unwrap()
                .contains("recorded already")
        );
        assert_eq!(sink.events().len(), 1);
        // Refused as unprocessable, nothing written or audited: a delay
        // past a year (or past the calendar: it used to panic the deadline
        // and then every listing), notifications carried in the body (their
        // lateness is the register's to judge), another format version.
        let notified = {
            let mut i = incident(a);
            i["notifications"] = json!([{
                "recipient": {"to": "authority", "name": "OPC"},
                "at": "2020-01-01T00:00:00Z",
                "late": false
            }]);
            i
        };
        let mut bad = vec![(notified, "carries no notifications")];
        for (field, value, why) in [
            (
                "processor_delay_hours",
                json!(i64::MAX),
                "processor_delay_hours must be",
            ),
            (
                "processor_delay_hours",
                json!(-1),
                "processor_delay_hours must be",
            ),
            (
                "processor_delay_hours",
                json!(8_761),
                "processor_delay_hours must be",
            ),
            ("version", json!(0), "format version 0"),
        ] {
            let mut i = incident(a);
            i[field] = value;
            bad.push((i, why));
        }
        for (body, why) in bad {
            let (status, answer) = http
                .json(
                    Method::POST,
                    "/privacy/breaches",
                    &officer(a, "dpo"),
                    body.clone(),
                )
                .await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{answer} for {body}"
            );
            let message = answer["message"].as_str().unwrap_or_default();
            assert!(message.contains(why), "{message:?} for {body}");
        }
        assert_eq!(sink.events().len(), 1);
        let (status, listed) = http
            .send(
                Method::GET,
                "/privacy/breaches",
                Some(&officer(a, "dpo")),
                None,
            )
            .await;
        assert_eq!(
            (status, listed.as_array().unwrap().len()),
            (StatusCode::OK, 1)
        );
        assert_eq!(listed[0]["incident"]["description"], "laptop lost");

        // Notifications are recorded as they are sent: timed by the
        // register, judged late or not, audited; a late one needs a reason.
        let notify = format!("/privacy/breaches/{id}/notifications");
        let authority = json!({"recipient": {"to": "authority", "name": "OPC"}});
        let (status, told) = http
            .json(Method::POST, &notify, &officer(a, "dpo"), authority.clone())
            .await;
        assert_eq!(status, StatusCode::OK, "{told}");
        let notes = told["incident"]["notifications"].as_array().unwrap();
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0]["late"], false);
        assert_eq!(notes[0]["recipient"]["name"], "OPC");
        assert_eq!(
            sink.events().len(),
            2,
            "the register audits the notification"
        );
        // Another tenant's officer gets the same 404 as for a missing id.
        let (status, _) = http
            .json(Method::POST, &notify, &officer(b, "dpo"), authority.clone())
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let missing = format!(
            "/privacy/breaches/{}/notifications",
            custodia_core::TenantId::random()
        );
        let (status, _) = http
            .json(
                Method::POST,
                &missing,
                &officer(a, "dpo"),
                authority.clone(),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // Past the 72 hours: refused without a reason, late with one.
        let mut old = incident(a);
        old["aware_at"] = json!("2020-01-01T00:00:00Z");
        old["id"] = json!(custodia_core::TenantId::random().to_string());
        let (status, recorded) = http
            .json(Method::POST, "/privacy/breaches", &officer(a, "dpo"), old)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{recorded}");
        let late = format!(
            "/privacy/breaches/{}/notifications",
            recorded["incident"]["id"].as_str().unwrap()
        );
        let (status, refused) = http
            .json(Method::POST, &late, &officer(a, "dpo"), authority.clone())
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{refused}");
        let (status, told) = http
            .json(
                Method::POST,
                &late,
                &officer(a, "dpo"),
                json!({"recipient": {"to": "authority", "name": "OPC"},
                       "delay_reason": "the breach was found in a backup audit"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{told}");
        assert_eq!(told["incident"]["notifications"][0]["late"], true);
    });
}

/// A notification replaces an incident only as it was read: one that
/// changed meanwhile (another request's notification) is not overwritten.
#[test]
fn an_incident_is_replaced_only_as_it_was_read() {
    use custodia_axum::dsr::{IncidentStore, MemoryIncidents};
    use custodia_dsr::breach::{Contact, Incident};
    let store = MemoryIncidents::default();
    let tenant = TenantId::random();
    let contact = Contact {
        name: "DPO".into(),
        contact: "dpo@example.com".into(),
    };
    let first = Incident::new(
        custodia_core::Role::Controller,
        custodia_core::chrono::Utc::now(),
        "laptop lost",
        contact,
    );
    assert!(store.insert(tenant, &first, &mut || Ok(())).unwrap());
    let mut audited = false;
    let mut audit = || {
        audited = true;
        Ok(())
    };
    assert!(
        !store.insert(tenant, &first, &mut audit).unwrap(),
        "inserted twice"
    );
    assert!(!audited, "a refused insert was audited");
    let mut second = first.clone();
    second.description = "laptop lost, found again".into();
    let mut third = first.clone();
    third.description = "laptop stolen".into();
    assert!(store.replace(tenant, &first, &second).unwrap());
    assert!(
        !store.replace(tenant, &first, &third).unwrap(),
        "a stale read replaced"
    );
    assert!(!store.replace(TenantId::random(), &second, &third).unwrap());
    assert_eq!(store.list(tenant).unwrap(), [second]);
}

// The request span's test is in `tests/request_span.rs`, a binary of its
// own: tracing's process-wide interest cache races a thread-scoped
// subscriber while this file's other tests serve requests on other threads.

/// `IncidentStore::get` finds an incident by tenant and id: another
/// tenant's id is `None`, as a missing one is.
#[test]
fn an_incident_is_got_by_tenant_and_id_only() {
    use custodia_axum::dsr::{IncidentStore, MemoryIncidents};
    use custodia_dsr::breach::IncidentId;
    let store = MemoryIncidents::default();
    let (tenant, other) = (TenantId::random(), TenantId::random());
    let incident = laptop_lost();
    assert!(store.insert(tenant, &incident, &mut || Ok(())).unwrap());
    assert_eq!(
        store.get(tenant, incident.id).unwrap(),
        Some(incident.clone())
    );
    assert_eq!(store.get(other, incident.id).unwrap(), None);
    assert_eq!(store.get(tenant, IncidentId::random()).unwrap(), None);
}

/// An incident store where another request always notifies first: every
/// `replace` finds the incident changed.
struct Raced(custodia_axum::dsr::MemoryIncidents);

impl custodia_axum::dsr::IncidentStore for Raced {
    fn list(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<custodia_dsr::breach::Incident>, custodia_dsr::BoxError> {
        self.0.list(tenant)
    }
    fn get(
        &self,
        tenant: TenantId,
        id: custodia_dsr::breach::IncidentId,
    ) -> Result<Option<custodia_dsr::breach::Incident>, custodia_dsr::BoxError> {
        self.0.get(tenant, id)
    }
    fn insert(
        &self,
        tenant: TenantId,
        incident: &custodia_dsr::breach::Incident,
        audit: &mut dyn FnMut() -> Result<(), custodia_dsr::BoxError>,
    ) -> Result<bool, custodia_dsr::BoxError> {
        self.0.insert(tenant, incident, audit)
    }
    fn replace(
        &self,
        tenant: TenantId,
        current: &custodia_dsr::breach::Incident,
        _: &custodia_dsr::breach::Incident,
    ) -> Result<bool, custodia_dsr::BoxError> {
        let mut theirs = current.clone();
        theirs.measures.push("another officer's change".into());
        assert!(self.0.replace(tenant, current, &theirs)?);
        self.0.replace(tenant, current, &theirs)
    }
}

/// Found in review: a notification that lost the store's compare-and-swap
/// (409) left the register's `BreachNotified` event behind, so the log
/// read as a notification made while the register recorded none (and the
/// retry made a second one). Now the register audits only what the store
/// took; the refused request is on the record as a failure.
#[test]
fn a_notification_that_loses_the_race_leaves_no_notified_event() {
    use custodia_axum::dsr::{DsrRoutes, IncidentStore, MemoryIncidents, MemoryRequests};
    use custodia_dsr::breach::BreachRegister;
    use custodia_dsr::{Desk, DsrAction, MemorySink};

    runtime().block_on(async {
        let tenant = TenantId::random();
        let clock = Arc::new(SystemClock);
        let sink = Arc::new(MemorySink::new());
        let register = Arc::new(BreachRegister::new(clock.clone(), sink.clone()));
        let desk = Arc::new(Desk::new(clock, sink.clone()));
        let incidents = Arc::new(Raced(MemoryIncidents::default()));
        let dpo = custodia_tenant::RoleName::new("dpo").unwrap();
        let routes = DsrRoutes::new(desk, Arc::new(MemoryRequests::default()), dpo)
            .with_breaches(register, incidents.clone());
        let audit = Recorded::default();
        let http = privacy_server(routes, audit.clone()).await;
        let mut incident = laptop_lost();
        incident.tenants = [tenant].into();
        let officer = officer(tenant, "dpo");
        let (status, recorded) = http
            .json(
                Method::POST,
                "/privacy/breaches",
                &officer,
                serde_json::to_value(&incident).unwrap(),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{recorded}");
        let notify = format!("/privacy/breaches/{}/notifications", incident.id);
        let (status, refused) = http
            .json(
                Method::POST,
                &notify,
                &officer,
                json!({"recipient": {"to": "authority", "name": "OPC"}}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{refused}");
        assert!(
            refused["message"]
                .as_str()
                .unwrap()
                .contains("nothing was recorded"),
            "{refused}"
        );
        let actions = sink.actions();
        assert!(
            !actions
                .iter()
                .any(|a| matches!(a, DsrAction::BreachNotified { .. })),
            "{actions:?}"
        );
        assert_eq!(actions.len(), 1, "only the recording: {actions:?}");
        let stored = incidents.get(tenant, incident.id).unwrap().unwrap();
        assert!(stored.notifications.is_empty());
        // The layer has the refused request, as a failure.
        let events = audit.0.lock().unwrap().clone();
        let last = events.last().unwrap();
        assert_eq!(last.target.id, "/privacy/breaches/{id}/notifications");
        assert_eq!(last.outcome, Outcome::Failure);
    });
}

/// A lost laptop the DPO was told of now.
fn laptop_lost() -> custodia_dsr::breach::Incident {
    custodia_dsr::breach::Incident::new(
        custodia_core::Role::Controller,
        custodia_core::chrono::Utc::now(),
        "laptop lost",
        custodia_dsr::breach::Contact {
            name: "DPO".into(),
            contact: "dpo@example.com".into(),
        },
    )
}

/// Found in review: `POST /breaches/{id}/notifications` built the audit
/// target from the raw path before looking the incident up, so an id
/// longer than an audit label (1,024 bytes) answered 500, not the 404 every
/// other unknown id gets.
#[test]
fn a_notification_for_any_unknown_id_is_the_one_404() {
    use custodia_axum::dsr::{DsrRoutes, MemoryIncidents, MemoryRequests};
    use custodia_dsr::breach::BreachRegister;
    use custodia_dsr::{Desk, MemorySink};

    runtime().block_on(async {
        let tenant = TenantId::random();
        let clock = Arc::new(SystemClock);
        let sink = Arc::new(MemorySink::new());
        let register = Arc::new(BreachRegister::new(clock.clone(), sink.clone()));
        let desk = Arc::new(Desk::new(clock, sink));
        let dpo = custodia_tenant::RoleName::new("dpo").unwrap();
        let routes = DsrRoutes::new(desk, Arc::new(MemoryRequests::default()), dpo)
            .with_breaches(register, Arc::new(MemoryIncidents::default()));
        let http = privacy_server(routes, Recorded::default()).await;
        let officer = officer(tenant, "dpo");
        let notice = json!({"recipient": {"to": "authority", "name": "OPC"}});
        let missing = format!(
            "/privacy/breaches/{}/notifications",
            custodia_dsr::breach::IncidentId::random()
        );
        let (status, expected) = http
            .json(Method::POST, &missing, &officer, notice.clone())
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{expected}");
        for id in ["not-an-id".to_owned(), "a".repeat(1100)] {
            let path = format!("/privacy/breaches/{id}/notifications");
            let (status, body) = http
                .json(Method::POST, &path, &officer, notice.clone())
                .await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{}: {body}", id.len());
            assert_eq!(body, expected);
        }
    });
}

/// Found in review: the trait's default `stage` checked the transaction
/// with a prepared `SELECT 1` (the extended protocol), where
/// `custodia_tenant::commit_bound` sends it as a simple query: behind a
/// transaction-pooling proxy (PgBouncer) a statement prepared on one
/// server connection may be missing on the next. Now nothing is prepared.
#[test]
fn the_default_stage_checks_the_transaction_without_a_prepared_statement() {
    use sqlx_core::connection::Connection as _;
    runtime().block_on(async {
        let mut conn = PgConnection::connect(&env_url("CUSTODIA_PG_APP_URL"))
            .await
            .unwrap();
        raw_sql("BEGIN").execute(&mut conn).await.unwrap();
        let tenant = TenantId::random();
        let event = custodia_audit::Event::builder(
            tenant,
            custodia_audit::Actor::new(
                custodia_audit::ActorKind::Agent,
                custodia_core::ActorId::from_external_key(tenant, "test", "agent"),
            ),
            Action::Create,
            Target::new("ticket", "1").unwrap(),
        )
        .build(&SystemClock)
        .unwrap();
        Discard.stage(&mut conn, event).await.unwrap();
        let prepared: i64 = query::<Postgres>(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement = 'SELECT 1'",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get(0);
        assert_eq!(prepared, 0);
        raw_sql("ROLLBACK").execute(&mut conn).await.unwrap();
    });
}

/// Found in review: a handler that let a statement fail and answered 201
/// anyway had its transaction "committed" without error, because
/// PostgreSQL answers `COMMIT` in an aborted transaction with a rollback,
/// not an error. Without an audit sink, or with one that records ahead
/// (the trait's default `stage`), the client got 201 for a change that was
/// never stored, and the log a `success` event for it.
#[test]
fn a_change_postgresql_rolled_back_is_never_answered_as_done() {
    for sink in [Sink::Off, Sink::WriteAhead, Sink::Log] {
        with_one_tenant(false, sink, async |fixture, tenant, token, http| {
            let (status, body) = http
                .json(
                    Method::POST,
                    "/swallowed",
                    token,
                    json!({"title": "half done", "requester": "alice"}),
                )
                .await;
            let rows = fixture.rows(tenant).await;
            assert!(rows.is_empty(), "{rows:?}");
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
            assert_eq!(
                body,
                json!({"error": "internal", "message": "internal error"})
            );
            let outcomes = fixture.outcomes().await;
            match sink {
                Sink::Off => assert!(outcomes.is_empty()),
                _ => assert_eq!(outcomes, [Outcome::Failure]),
            }
        });
    }
}

#[test]
fn a_panicking_handler_is_a_500_on_the_record_with_nothing_stored() {
    for sink in [Sink::Off, Sink::Log] {
        with_one_tenant(false, sink, async |fixture, tenant, token, http| {
            let (status, body) = http
                .json(
                    Method::POST,
                    "/panics",
                    token,
                    json!({"title": "half done", "requester": "alice@example.com"}),
                )
                .await;
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
            // Nothing of the panic's message (which names alice) goes out.
            assert_eq!(
                body,
                json!({"error": "internal", "message": "internal error"})
            );
            let rows = fixture.rows(tenant).await;
            assert!(rows.is_empty(), "{rows:?}");
            let events = fixture.audit_events().await;
            let summary: Vec<_> = events
                .iter()
                .map(|e| (e.action.clone(), e.target.id.clone(), e.outcome))
                .collect();
            match sink {
                Sink::Off => assert!(summary.is_empty()),
                _ => assert_eq!(
                    summary,
                    [(Action::Create, "/panics".to_owned(), Outcome::Failure)]
                ),
            }
            // The server goes on serving, on a clean connection.
            http.create(token, "after", "bob").await;
            assert_eq!(fixture.rows(tenant).await.len(), 1);
        });
    }
}

/// Found in review: a read (GET) whose handler panicked was answered 500
/// but left no trace, even with reads audited, since the panic took the
/// [`Audit`] part that would have named the subject. Now, with reads
/// audited, the attempt is recorded: `read`, `failure`, the route's pattern,
/// no subject (nothing personal: not the panic's message, not the id in the
/// URL). Without read auditing nothing is recorded, as for any read.
#[test]
fn a_panicking_read_is_on_the_record_when_reads_are_audited() {
    for audit_reads in [true, false] {
        with_one_tenant(audit_reads, Sink::Log, async |fixture, _, token, http| {
            let id = http.create(token, "printer", "alice@example.com").await;
            let before = fixture.audit_events().await.len();
            let (status, body) = http
                .send(
                    Method::GET,
                    &format!("/read-panics/{id}"),
                    Some(token),
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
            assert_eq!(
                body,
                json!({"error": "internal", "message": "internal error"})
            );
            let events = fixture.audit_events().await;
            let added: Vec<_> = events[before..]
                .iter()
                .map(|e| {
                    (
                        e.action.clone(),
                        e.target.kind.clone(),
                        e.target.id.clone(),
                        e.outcome,
                        e.subject,
                        e.actor.ip.is_none(),
                    )
                })
                .collect();
            if audit_reads {
                assert_eq!(
                    added,
                    [(
                        Action::Read,
                        "route".to_owned(),
                        "/read-panics/{id}".to_owned(),
                        Outcome::Failure,
                        None,
                        true
                    )]
                );
            } else {
                assert!(added.is_empty(), "{added:?}");
            }
            let encoded = serde_json::to_string(&events).unwrap();
            assert!(!encoded.contains("alice@example.com"));
        });
    }
}

#[test]
fn an_error_response_whose_rollback_fails_is_still_on_the_record() {
    with_one_tenant(false, Sink::Log, async |fixture, tenant, token, http| {
        let (status, body) = http
            .json(
                Method::POST,
                "/connection-lost",
                token,
                json!({"title": "half done", "requester": "alice"}),
            )
            .await;
        // The ROLLBACK failed: that is the server's error to answer.
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
        let rows = fixture.rows(tenant).await;
        assert!(rows.is_empty(), "{rows:?}");
        let events = fixture.audit_events().await;
        let summary: Vec<_> = events
            .iter()
            .map(|e| (e.action.clone(), e.target.id.clone(), e.outcome))
            .collect();
        assert_eq!(
            summary,
            [(
                Action::Create,
                "/connection-lost".to_owned(),
                Outcome::Failure
            )]
        );
        http.create(token, "after", "bob").await;
        assert_eq!(fixture.rows(tenant).await.len(), 1);
    });
}

#[test]
fn a_read_cannot_change_anything_through_its_transaction() {
    // Only changes (POST, PUT, PATCH, DELETE) are audited as such: a write
    // a GET made would commit with no event. Its transaction is read-only.
    for (audit_reads, sink) in [(false, Sink::Off), (true, Sink::Log)] {
        with_one_tenant(audit_reads, sink, async |fixture, tenant, token, http| {
            let (status, body) = http
                .send(Method::GET, "/read-that-writes", Some(token), None)
                .await;
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
            let rows = fixture.rows(tenant).await;
            assert!(rows.is_empty(), "{rows:?}");
            // Audited reads are still staged in their transaction.
            let id = http.create(token, "printer", "contact-9").await;
            let (status, _) = http
                .send(Method::GET, &format!("/tickets/{id}"), Some(token), None)
                .await;
            assert_eq!(status, StatusCode::OK);
            let actions: Vec<_> = fixture
                .audit_events()
                .await
                .into_iter()
                .map(|e| (e.action, e.outcome))
                .collect();
            match sink {
                Sink::Off => assert!(actions.is_empty()),
                _ => assert_eq!(
                    actions,
                    [
                        (Action::Create, Outcome::Success),
                        (Action::Read, Outcome::Success)
                    ]
                ),
            }
        });
    }
}
