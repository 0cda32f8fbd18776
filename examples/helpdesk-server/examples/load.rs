//! A bounded load run over loopback HTTP: ticket-create and ticket-read on
//! the helpdesk server with the Custodia layers, and on a plain axum server
//! doing the same SQL without them, in the same run.
//!
//! ```text
//! scripts/postgres cargo run --release -p custodia-example-helpdesk-server --example load \
//!     [-- --requests 10000 --concurrency 32]
//! ```
//!
//! * **custodia**: the helpdesk server (`custodia_example_helpdesk_server::start`)
//!   on a fresh schema: every request's bearer token verified (EdDSA), a
//!   transaction bound to the tenant under row-level security, contact fields
//!   sealed (create: four seals and a blind index) or opened (read: four
//!   opens, field access per role), and the request audited into the shared
//!   log (the create; the read too, as a read of personal data, unless
//!   `--no-audit-reads`; with `--buffer-reads` its event is queued for the
//!   next background drain instead of staged in the read's transaction).
//! * **plain**: an axum router with the same two routes, the same JSON, the
//!   same tables and statements (fields in clear, the contact found by clear
//!   email), the helpdesk's own input rules and trimming
//!   ([`NewTicket::check`]), and no authentication, binding, sealing or
//!   audit: what the handlers cost without Custodia.
//!
//! Both run in this process on one tokio runtime, with the client; each
//! route is measured on both servers back to back. Every request must
//! succeed (the run fails otherwise). Reported: throughput (requests/s over
//! the wall time of the batch), p50/p99 latency, and CPU milliseconds a
//! request on each side of the socket: this process (client and servers)
//! and the PostgreSQL cluster, read from `/proc` (Linux). The CPU ratio is
//! the steadier figure on a shared machine: throughput moves with whatever
//! else runs, the work a request costs does not.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use custodia_core::SystemClock;
use custodia_example_helpdesk_server::NewTicket;
use custodia_example_helpdesk_server::config::{DataDir, Options};
use custodia_example_helpdesk_server::{start, tokens};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use sqlx_core::query::query;
use sqlx_core::raw_sql::raw_sql;
use sqlx_core::row::Row as _;
use sqlx_postgres::{PgPool, PgPoolOptions, Postgres};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The command line.
struct Args {
    requests: usize,
    concurrency: usize,
    audit_reads: bool,
    /// Audited reads queued, not staged (`--buffer-reads`).
    buffer_reads: bool,
    rounds: usize,
    /// Print each batch's statements per request (needs `pg_stat_statements`).
    statements: bool,
    /// Only this server's batches (`plain` or `custodia`), e.g. under a profiler.
    only: Option<String>,
    /// Only this route's batches (`create` or `read`).
    route: Option<String>,
}

fn parse_args() -> Result<Args, Error> {
    let mut args = Args {
        requests: 10_000,
        concurrency: 32,
        audit_reads: true,
        buffer_reads: false,
        rounds: 3,
        statements: false,
        only: None,
        route: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--requests" => args.requests = it.next().ok_or("--requests N")?.parse()?,
            "--concurrency" => args.concurrency = it.next().ok_or("--concurrency N")?.parse()?,
            "--rounds" => args.rounds = it.next().ok_or("--rounds N")?.parse()?,
            "--no-audit-reads" => args.audit_reads = false,
            "--buffer-reads" => args.buffer_reads = true,
            "--statements" => args.statements = true,
            "--only" => args.only = Some(one_of(it.next(), &["plain", "custodia"], "--only")?),
            "--route" => args.route = Some(one_of(it.next(), &["create", "read"], "--route")?),
            "-h" | "--help" => {
                println!(
                    "usage: load [--requests N] [--concurrency N] [--rounds N] [--no-audit-reads] [--buffer-reads] [--statements] [--only plain|custodia] [--route create|read]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    if args.requests == 0 || args.concurrency == 0 || args.rounds == 0 {
        return Err("--requests, --concurrency and --rounds must be at least 1".into());
    }
    Ok(args)
}

/// `value` if it is one of `allowed`.
fn one_of(value: Option<String>, allowed: &[&str], flag: &str) -> Result<String, Error> {
    value
        .filter(|v| allowed.contains(&v.as_str()))
        .ok_or_else(|| format!("{flag} {}", allowed.join("|")).into())
}

fn env(var: &str) -> Result<String, Error> {
    std::env::var(var).map_err(|_| {
        format!("{var} is not set: run under scripts/postgres, which starts PostgreSQL and sets it")
            .into()
    })
}

/// The baseline's table: the helpdesk's columns, fields in clear.
const PLAIN_SCHEMA: &str = "CREATE TABLE tickets (
         tenant_id    uuid NOT NULL,
         id           text NOT NULL,
         subject_id   text,
         owner        text NOT NULL,
         created_at   text NOT NULL,
         status       text NOT NULL,
         subject_line text NOT NULL,
         name         text,
         email        text,
         phone        text,
         body         text,
         PRIMARY KEY (tenant_id, id)
     );
     CREATE INDEX tickets_email ON tickets (tenant_id, email);
     CREATE UNIQUE INDEX tickets_id ON tickets (id);
     CREATE SEQUENCE ticket_ids START 3001;
     CREATE TABLE ticket_tenants (id text PRIMARY KEY, tenant_id uuid NOT NULL);";

/// The tenant every baseline row belongs to (the same as the server's).
fn acme() -> custodia_core::TenantId {
    custodia_example_helpdesk_server::config::tenant_id("ACME-0042")
}

async fn plain_create(
    State(pool): State<PgPool>,
    axum::Json(new): axum::Json<NewTicket>,
) -> Result<(StatusCode, axum::Json<Value>), StatusCode> {
    // The helpdesk's own input rules and trimming (not Custodia's work).
    new.check().map_err(|_| StatusCode::UNPROCESSABLE_ENTITY)?;
    let (email, name) = (new.email.trim(), new.name.trim());
    let failed = |_| StatusCode::INTERNAL_SERVER_ERROR;
    let mut tx = pool.begin().await.map_err(failed)?;
    let n: i64 = query::<Postgres>("SELECT nextval('ticket_ids')")
        .fetch_one(&mut *tx)
        .await
        .and_then(|r| r.try_get(0))
        .map_err(failed)?;
    let id = format!("T-{n}");
    // The helpdesk's steps, in clear: the contact by email, the id's route.
    let known = query::<Postgres>(
        "SELECT subject_id FROM tickets WHERE tenant_id = $1 AND email = $2 \
         AND subject_id IS NOT NULL ORDER BY created_at, id LIMIT 1",
    )
    .bind(acme().as_uuid())
    .bind(email)
    .fetch_optional(&mut *tx)
    .await
    .map_err(failed)?;
    let contact = match known {
        Some(row) => row.try_get::<String, _>(0).map_err(failed)?,
        None => custodia_core::SubjectId::random().to_string(),
    };
    query::<Postgres>("INSERT INTO ticket_tenants (id, tenant_id) VALUES ($1, $2)")
        .bind(&id)
        .bind(acme().as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(failed)?;
    query::<Postgres>(
        "INSERT INTO tickets (tenant_id, id, subject_id, owner, created_at, status, subject_line, \
         name, email, phone, body) VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $9, $10)",
    )
    .bind(acme().as_uuid())
    .bind(&id)
    .bind(&contact)
    .bind("agent")
    .bind(custodia_core::chrono::Utc::now().to_rfc3339())
    .bind(new.subject_line.trim())
    .bind(name)
    .bind(email)
    .bind(new.phone.trim())
    .bind(&new.body)
    .execute(&mut *tx)
    .await
    .map_err(failed)?;
    tx.commit().await.map_err(failed)?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"id": id, "contact": contact})),
    ))
}

/// The plain read's answer, serialized as the helpdesk's is (from a
/// struct, not a JSON tree: the baseline does no work the server was spared).
/// Keys in name order, as `json!` wrote them.
#[derive(serde::Serialize)]
struct PlainReading {
    contact: Option<String>,
    created_at: Option<String>,
    erased: [&'static str; 0],
    fields: PlainFields,
    hidden: [&'static str; 1],
    id: Option<String>,
    masked: [&'static str; 0],
    owner: Option<String>,
    status: Option<String>,
}

#[derive(serde::Serialize)]
struct PlainFields {
    body: Option<String>,
    email: Option<String>,
    name: Option<String>,
    subject_line: Option<String>,
}

async fn plain_read(
    State(pool): State<PgPool>,
    Path(id): Path<String>,
) -> Result<axum::Json<PlainReading>, StatusCode> {
    let failed = |_| StatusCode::INTERNAL_SERVER_ERROR;
    let mut tx = pool.begin().await.map_err(failed)?;
    let row = query::<Postgres>(
        "SELECT id, subject_id, owner, created_at, status, subject_line, name, email, phone, body \
         FROM tickets WHERE id = $1",
    )
    .bind(&id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(failed)?
    .ok_or(StatusCode::NOT_FOUND)?;
    tx.commit().await.map_err(failed)?;
    let text = |i: usize| row.try_get::<Option<String>, _>(i).map_err(failed);
    Ok(axum::Json(PlainReading {
        id: text(0)?,
        contact: text(1)?,
        owner: text(2)?,
        created_at: text(3)?,
        status: text(4)?,
        fields: PlainFields {
            subject_line: text(5)?,
            name: text(6)?,
            email: text(7)?,
            body: text(9)?,
        },
        hidden: ["phone"],
        masked: [],
        erased: [],
    }))
}

/// The plain server on `schema` (made by the owner, used by the same
/// application role as the helpdesk server's), on 127.0.0.1, with a pool
/// like the server's.
async fn plain_server(admin: &PgPool, schema: &str) -> Result<SocketAddr, Error> {
    let options = env("CUSTODIA_PG_APP_URL")?
        .parse::<sqlx_postgres::PgConnectOptions>()?
        .options([("search_path", schema)]);
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .connect_with(options)
        .await?;
    let role: String = query::<Postgres>("SELECT current_user::text")
        .fetch_one(&pool)
        .await?
        .try_get(0)?;
    let role = custodia_tenant::rls::Ident::new(&role)?;
    raw_sql(&format!(
        "CREATE SCHEMA {schema}; SET search_path = {schema}; {PLAIN_SCHEMA}
         GRANT USAGE ON SCHEMA {schema} TO {role};
         GRANT SELECT, INSERT ON {schema}.tickets, {schema}.ticket_tenants TO {role};
         GRANT USAGE ON SEQUENCE {schema}.ticket_ids TO {role};"
    ))
    .execute(admin)
    .await?;
    let router = Router::new()
        .route("/tickets", post(plain_create))
        .route("/tickets/{id}", get(plain_read))
        .with_state(pool);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(addr)
}

/// The HTTP client: one pool of keep-alive connections.
#[derive(Clone)]
struct Http {
    client: Client<HttpConnector, Full<Bytes>>,
    addr: SocketAddr,
    token: Option<Arc<str>>,
}

impl Http {
    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<(u16, Bytes), Error> {
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr))
            .header("user-agent", "custodia-load/1.0");
        if let Some(token) = &self.token {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        let bytes = match body {
            Some(b) => {
                req = req.header("content-type", "application/json");
                Bytes::copy_from_slice(b)
            }
            None => Bytes::new(),
        };
        let resp = self.client.request(req.body(Full::new(bytes))?).await?;
        let status = resp.status().as_u16();
        Ok((status, resp.into_body().collect().await?.to_bytes()))
    }
}

/// The body of create `i` (the example's VPN ticket), from one of 500
/// contacts.
fn ticket(i: usize) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "subject_line": format!("VPN keeps dropping ({i})"),
        "name": "Alice Ng",
        "email": format!("contact{}@example.com", i % 500),
        "phone": "+61 412 345 678",
        "body": custodia_example_helpdesk::demo::VPN_BODY,
    }))
    .unwrap_or_default()
}

/// What one batch measured.
struct Measured {
    wall: Duration,
    latencies: Vec<Duration>,
}

/// CPU time (user + system) spent by this process (client and both servers)
/// and by the PostgreSQL cluster, from `/proc`. On two shared cores the
/// wall-clock ratio moves with whatever else runs; CPU per request does not,
/// and says on which side of the socket a layer's cost lands.
#[derive(Clone, Copy)]
struct Cpu {
    process: f64,
    postgres: f64,
}

impl Cpu {
    /// Now. The cluster is the postmaster named in `data_directory`'s
    /// `postmaster.pid`, its live children, and the children it reaped.
    fn now(data_directory: &std::path::Path) -> Result<Self, Error> {
        let pid = std::fs::read_to_string(data_directory.join("postmaster.pid"))?;
        let postmaster: u32 = pid
            .lines()
            .next()
            .ok_or("empty postmaster.pid")?
            .trim()
            .parse()?;
        let mut postgres = 0.0;
        for entry in std::fs::read_dir("/proc")? {
            let Ok(pid) = entry?.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            // A process may end between listing and reading.
            let Ok(stat) = ProcStat::read(pid) else {
                continue;
            };
            if pid == postmaster {
                postgres += stat.own + stat.reaped;
            } else if stat.parent == postmaster {
                postgres += stat.own;
            }
        }
        Ok(Self {
            process: ProcStat::read(std::process::id())?.own,
            postgres,
        })
    }

    /// Milliseconds a request, each side, since `before`.
    fn per_request(&self, before: &Cpu, requests: usize) -> (f64, f64) {
        let per = |a: f64, b: f64| (a - b) * 1000.0 / requests as f64;
        (
            per(self.process, before.process),
            per(self.postgres, before.postgres),
        )
    }
}

/// The fields of `/proc/PID/stat` the CPU count needs, in seconds.
struct ProcStat {
    parent: u32,
    own: f64,
    reaped: f64,
}

impl ProcStat {
    /// Linux's clock tick (`getconf CLK_TCK`), 100 on every mainstream build.
    const TICKS: f64 = 100.0;

    fn read(pid: u32) -> Result<Self, Error> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // The command name may hold spaces and parentheses: fields follow the last ')'.
        let rest = stat.rsplit_once(')').ok_or("bad /proc stat")?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |i: usize| -> Result<f64, Error> {
            Ok(fields.get(i).ok_or("short /proc stat")?.parse::<f64>()? / Self::TICKS)
        };
        Ok(Self {
            parent: fields.get(1).ok_or("short /proc stat")?.parse()?,
            own: field(11)? + field(12)?,
            reaped: field(13)? + field(14)?,
        })
    }
}

impl Measured {
    fn throughput(&self) -> f64 {
        self.latencies.len() as f64 / self.wall.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1]
    }
}

/// Sends `requests` requests, `concurrency` at a time; request `i` is
/// `make(i)`: (method, path, body, expected status).
async fn batch(
    http: &Http,
    requests: usize,
    concurrency: usize,
    make: impl Fn(usize) -> (&'static str, String, Option<Vec<u8>>, u16) + Send + Sync + 'static,
) -> Result<Measured, Error> {
    let next = Arc::new(AtomicUsize::new(0));
    let make = Arc::new(make);
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (http, next, make) = (http.clone(), next.clone(), make.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= requests {
                    return Ok::<_, Error>(latencies);
                }
                let (method, path, body, expected) = make(i);
                let at = Instant::now();
                let (status, reply) = http.send(method, &path, body.as_deref()).await?;
                latencies.push(at.elapsed());
                if status != expected {
                    return Err(format!(
                        "{method} {path}: {status} {}",
                        String::from_utf8_lossy(&reply)
                    )
                    .into());
                }
            }
        }));
    }
    let mut latencies = Vec::with_capacity(requests);
    for worker in workers {
        latencies.extend(worker.await??);
    }
    Ok(Measured {
        wall: started.elapsed(),
        latencies,
    })
}

/// Creates `n` tickets; returns their ids.
async fn seed(http: &Http, n: usize) -> Result<Vec<String>, Error> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let (status, body) = http.send("POST", "/tickets", Some(&ticket(i))).await?;
        if status != 201 {
            return Err(format!("seeding: {status} {}", String::from_utf8_lossy(&body)).into());
        }
        let body: Value = serde_json::from_slice(&body)?;
        ids.push(body["id"].as_str().ok_or("no id")?.to_owned());
    }
    Ok(ids)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn run(args: Args) -> Result<(), Error> {
    // The server's own warnings and errors (the cause of a 500) to stderr.
    custodia_example_helpdesk_server::init_logging(false);
    let admin = PgPoolOptions::new()
        .max_connections(2)
        .connect(&env("CUSTODIA_PG_ADMIN_URL")?)
        .await?;
    let suffix = custodia_core::TenantId::random()
        .as_uuid()
        .simple()
        .to_string();
    let (custodia_schema, plain_schema) = (format!("load_{suffix}"), format!("plain_{suffix}"));
    let data = tempfile::tempdir()?;
    let options = Options {
        listen: "127.0.0.1:0".parse()?,
        database: Some(env("CUSTODIA_PG_APP_URL")?),
        owner: Some(env("CUSTODIA_PG_ADMIN_URL")?),
        schema: custodia_schema.clone(),
        seed: false,
        data: data.path().to_owned(),
        sweep_every: None,
        audit_reads: args.audit_reads,
        buffer_reads: args.buffer_reads,
        ..Options::default()
    };
    let server = start(options).await?.spawn()?;
    let seed_key = DataDir::new(data.path()).token_seed()?;
    let token: Arc<str> =
        tokens::mint_for(&seed_key, "ACME-0042", &["agent"], "load", &SystemClock)?.into();
    let client = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(args.concurrency)
        .build_http();
    let custodia = Http {
        client: client.clone(),
        addr: server.addr(),
        token: Some(token),
    };
    let plain = Http {
        client,
        addr: plain_server(&admin, &plain_schema).await?,
        token: None,
    };

    let (n, c) = (args.requests, args.concurrency);
    let app_role = env("CUSTODIA_PG_APP_URL")?
        .parse::<sqlx_postgres::PgConnectOptions>()?
        .get_username()
        .to_owned();
    if args.statements {
        raw_sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements SCHEMA public")
            .execute(&admin)
            .await
            .map_err(|e| {
                format!("--statements needs pg_stat_statements in shared_preload_libraries: {e}")
            })?;
    }
    println!(
        "loopback load run: {n} requests per batch, {c} concurrent, {} rounds, reads {}",
        args.rounds,
        match (args.audit_reads, args.buffer_reads) {
            (false, _) => "not audited",
            (true, false) => "audited (staged)",
            (true, true) => "audited (buffered)",
        }
    );
    let data_directory: String = query::<Postgres>("SHOW data_directory")
        .fetch_one(&admin)
        .await?
        .try_get(0)?;
    // CPU is read from /proc: the cluster must run on this machine.
    let cpu_dir = match Cpu::now(std::path::Path::new(&data_directory)) {
        Ok(_) => Some(std::path::PathBuf::from(data_directory)),
        Err(e) => {
            eprintln!(
                "load: CPU a request not measured ({e}): PostgreSQL must run on this machine, its data directory readable"
            );
            None
        }
    };
    let cpu_now = || cpu_dir.as_deref().map(Cpu::now).transpose();
    println!(
        "{:<6} {:<8} {:<9} {:>12} {:>9} {:>9} {:>8} {:>14} {:>13}",
        "round",
        "route",
        "layers",
        "requests/s",
        "p50 ms",
        "p99 ms",
        "staged",
        "cpu ms: self",
        "postgres"
    );
    let outbox = format!("SELECT count(*) FROM {custodia_schema}.custodia_audit_outbox");
    let logged = format!(
        "SELECT COALESCE(MAX(idx) + 1, 0) FROM {custodia_schema}.custodia_audit_records WHERE log = '{}'",
        custodia_example_helpdesk_server::AUDIT_LOG
    );
    let mut ratios: Vec<(&str, Vec<f64>)> = vec![("create", Vec::new()), ("read", Vec::new())];
    let mut cpu_ratios: Vec<Vec<f64>> = vec![Vec::new(), Vec::new()];
    for round in 1..=args.rounds {
        for ((route, route_ratios), route_cpu) in ratios.iter_mut().zip(&mut cpu_ratios) {
            let (mut rates, mut cpus) = (Vec::new(), Vec::new());
            for (name, http) in [("plain", &plain), ("custodia", &custodia)] {
                let skipped = |f: &Option<String>, v: &str| f.as_deref().is_some_and(|f| f != v);
                if skipped(&args.only, name) || skipped(&args.route, route) {
                    rates.push(f64::NAN);
                    cpus.push(f64::NAN);
                    continue;
                }
                // Warm up (connections, caches, prepared statements) and, for
                // reads, the tickets to read; start with the log drained.
                let ids = Arc::new(seed(http, 200).await?);
                drained(&admin, &outbox).await?;
                if args.statements {
                    raw_sql("SELECT public.pg_stat_statements_reset()")
                        .execute(&admin)
                        .await?;
                }
                let cpu_before = cpu_now()?;
                let logged_before = if name == "custodia" {
                    log_size(&admin, &logged).await?
                } else {
                    0
                };
                let mut measured = match *route {
                    "create" => {
                        batch(http, n, c, |i| {
                            ("POST", "/tickets".into(), Some(ticket(i)), 201)
                        })
                        .await?
                    }
                    _ => {
                        batch(http, n, c, move |i| {
                            ("GET", format!("/tickets/{}", ids[i % ids.len()]), None, 200)
                        })
                        .await?
                    }
                };
                // The batch ends when its events are in the log, not only
                // staged or queued: the drain's work is part of the cost.
                let started = Instant::now();
                let staged = if name == "custodia" {
                    let audited = *route == "create" || args.audit_reads;
                    let expected = logged_before + if audited { n as i64 } else { 0 };
                    let staged = drained(&admin, &outbox).await?;
                    logged_up_to(&admin, &logged, expected).await?;
                    staged
                } else {
                    0
                };
                measured.wall += started.elapsed();
                let (cpu_self, cpu_pg) = match (cpu_now()?, cpu_before) {
                    (Some(after), Some(before)) => after.per_request(&before, n),
                    _ => (f64::NAN, f64::NAN),
                };
                println!(
                    "{round:<6} {route:<8} {name:<9} {:>12.0} {:>9.2} {:>9.2} {staged:>8} {cpu_self:>14.3} {cpu_pg:>13.3}",
                    measured.throughput(),
                    ms(measured.percentile(50.0)),
                    ms(measured.percentile(99.0))
                );
                rates.push(measured.throughput());
                cpus.push(cpu_self + cpu_pg);
                if args.statements {
                    statements(&admin, &app_role, n).await?;
                }
            }
            route_ratios.push(rates[0] / rates[1]);
            route_cpu.push(cpus[1] / cpus[0]);
        }
    }
    // A filtered run has no pairs to compare.
    let paired = args.only.is_none();
    for ((route, each), cpu) in ratios.into_iter().zip(cpu_ratios) {
        if !paired || args.route.as_deref().is_some_and(|r| r != route) {
            continue;
        }
        println!(
            "{route}: plain/custodia throughput, median {}; custodia/plain CPU a request (self + postgres), median {}",
            median_of(each),
            median_of(cpu)
        );
    }
    server.stop().await;
    for schema in [custodia_schema, plain_schema] {
        raw_sql(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .execute(&admin)
            .await?;
    }
    Ok(())
}

/// `1.23x (rounds: 1.20, 1.23, 1.31)`.
fn median_of(mut rounds: Vec<f64>) -> String {
    rounds.sort_by(f64::total_cmp);
    let listed: Vec<String> = rounds.iter().map(|r| format!("{r:.2}")).collect();
    format!(
        "{:.2}x (rounds: {})",
        rounds[rounds.len() / 2],
        listed.join(", ")
    )
}

/// Prints the statements the application role ran since the last reset,
/// per request of a batch of `n` (calls / n), most frequent first.
async fn statements(admin: &PgPool, role: &str, n: usize) -> Result<(), Error> {
    let rows = query::<Postgres>(
        "SELECT calls, total_exec_time, query FROM public.pg_stat_statements \
         WHERE userid = (SELECT oid FROM pg_roles WHERE rolname = $1) ORDER BY calls DESC",
    )
    .bind(role)
    .fetch_all(admin)
    .await?;
    let (mut total, mut total_us) = (0.0, 0.0);
    for row in &rows {
        let calls = row.try_get::<i64, _>(0)? as f64 / n as f64;
        // Execution time only: parsing, the network and the commit's flush are not in it.
        let us = row.try_get::<f64, _>(1)? * 1000.0 / n as f64;
        total += calls;
        total_us += us;
        let text: String = row.try_get(2)?;
        let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if calls >= 0.001 {
            println!(
                "         {calls:>8.3} {us:>8.1} µs  {}",
                text.chars().take(100).collect::<String>()
            );
        }
    }
    println!("         {total:>8.3} {total_us:>8.1} µs  statements and execution time per request");
    Ok(())
}

/// The audit log's size (`size` query).
async fn log_size(admin: &PgPool, size: &str) -> Result<i64, Error> {
    Ok(query::<Postgres>(size).fetch_one(admin).await?.try_get(0)?)
}

/// Waits until the audit log (`size` query) holds `expected` records: the
/// events of buffered reads are queued in the server's memory, not staged.
async fn logged_up_to(admin: &PgPool, size: &str, expected: i64) -> Result<(), Error> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = log_size(admin, size).await?;
        if now >= expected {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(
                format!("the audit log holds {now} records, not {expected}, after 60 s").into(),
            );
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Waits until the outbox (`count` query) is empty; returns how many events
/// were still staged when it started.
async fn drained(admin: &PgPool, count: &str) -> Result<i64, Error> {
    let staged: i64 = query::<Postgres>(count)
        .fetch_one(admin)
        .await?
        .try_get(0)?;
    let (mut left, deadline) = (staged, Instant::now() + Duration::from_secs(60));
    while left > 0 {
        if Instant::now() > deadline {
            return Err(format!("{left} staged audit events were not drained in 60 s").into());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
        left = query::<Postgres>(count)
            .fetch_one(admin)
            .await?
            .try_get(0)?;
    }
    Ok(staged)
}

fn main() -> std::process::ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("load: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("load: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("load: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
