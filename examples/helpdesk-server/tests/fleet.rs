//! Two `custodia-helpdesk-server` processes on one PostgreSQL database,
//! driven over real HTTP on loopback: tenant isolation on either instance,
//! an erasure on one seen by the other within the key staleness bound, one
//! audit log for both verifying against a checkpoint taken before, and bad
//! requests refused with a clear 4xx that write nothing.
//!
//! Needs `CUSTODIA_PG_ADMIN_URL` (a superuser) and `CUSTODIA_PG_APP_URL`
//! (the non-owner application role), which `scripts/postgres` exports.
//! Without them every test here fails: they never pass by skipping.

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use custodia_audit::checkpoint::{self, Signer};
use custodia_audit::{Action, AuditLog, MemoryStore, Outcome, PostgresStore, Query};
use custodia_core::{ManualClock, SystemClock};
use custodia_example_helpdesk_server::config::{DataDir, TokenRequest, tenant_id};
use custodia_example_helpdesk_server::tokens;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::http::{Method, StatusCode, header};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use sqlx_core::query::query;
use sqlx_core::raw_sql::raw_sql;
use sqlx_core::row::Row as _;
use sqlx_postgres::{PgPool, PgPoolOptions, Postgres};

const ACME: &str = "ACME-0042";
const GLOBEX: &str = "GLOBEX-7";
/// The key cache staleness bound the servers run with.
const STALENESS_MS: u64 = 300;

fn env_url(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!(
            "{var} is not set: these tests need a real PostgreSQL. Run them with \
             `scripts/postgres cargo test -p custodia-example-helpdesk-server --test fleet`, \
             which starts a throwaway PostgreSQL and exports CUSTODIA_PG_ADMIN_URL and CUSTODIA_PG_APP_URL"
        )
    })
}

/// One server process; killed when dropped.
struct Instance {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a server process on `schema` with data directory `data`, and
/// waits for the line saying where it listens.
fn spawn(schema: &str, data: &std::path::Path, name: &str, seed: bool) -> Instance {
    let stderr = data.join(format!("{name}.stderr"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_custodia-helpdesk-server"));
    if !seed {
        command.arg("--no-seed");
    }
    let mut child = command
        .args(["--listen", "127.0.0.1:0", "--schema", schema])
        .args([
            "--sweep-every",
            "0",
            "--staleness-ms",
            &STALENESS_MS.to_string(),
        ])
        .arg("--data")
        .arg(data)
        .env("CUSTODIA_PG_APP_URL", env_url("CUSTODIA_PG_APP_URL"))
        .env("CUSTODIA_PG_ADMIN_URL", env_url("CUSTODIA_PG_ADMIN_URL"))
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(addr) = line.strip_prefix("helpdesk-server: listening on http://") {
                let _ = tx.send(addr.to_owned());
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(180)) {
        Ok(addr) => Instance {
            child,
            addr: addr.parse().unwrap(),
        },
        Err(_) => {
            let _ = child.kill();
            panic!(
                "server {name} did not start:\n{}",
                std::fs::read_to_string(&stderr).unwrap_or_default()
            );
        }
    }
}

/// Two servers sharing a fresh schema and data directory.
struct Fleet {
    instances: Vec<Instance>,
    schema: String,
    dir: tempfile::TempDir,
    seed: [u8; 32],
    admin: PgPool,
}

impl Fleet {
    /// Two servers on a new schema without the example's tickets.
    async fn start() -> Self {
        Self::start_with(2, false).await
    }

    /// `n` servers on a new schema, the first seeding it with the
    /// example's tickets if `demo`.
    async fn start_with(n: usize, demo: bool) -> Self {
        Self::start_in(tempfile::tempdir().unwrap(), n, demo).await
    }

    /// One server seeded with the example's tickets, whose data directory
    /// holds `policy` as its retention policy.
    async fn start_with_policy(policy: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("retention.toml"), policy).unwrap();
        Self::start_in(dir, 1, true).await
    }

    async fn start_in(dir: tempfile::TempDir, n: usize, demo: bool) -> Self {
        let seed = DataDir::new(dir.path()).token_seed().unwrap();
        let schema = format!(
            "hds_{}",
            custodia_core::TenantId::random().as_uuid().simple()
        );
        // The first creates the schema, the others find it.
        let instances = (0..n)
            .map(|i| spawn(&schema, dir.path(), &format!("server-{i}"), demo))
            .collect();
        let admin = PgPoolOptions::new()
            .max_connections(2)
            .connect(&env_url("CUSTODIA_PG_ADMIN_URL"))
            .await
            .unwrap();
        Self {
            instances,
            schema,
            dir,
            seed,
            admin,
        }
    }

    fn http(&self, i: usize) -> Http {
        Http::new(self.instances[i].addr)
    }

    fn token(&self, tenant: &str, roles: &[&str], subject: &str) -> String {
        tokens::mint_for(&self.seed, tenant, roles, subject, &SystemClock).unwrap()
    }

    /// (id, subject_line) of every ticket of `tenant`, as the owner sees them.
    async fn rows(&self, tenant: &str) -> Vec<(String, String)> {
        query::<Postgres>(&format!(
            "SELECT id, subject_line FROM {}.tickets WHERE tenant_id = $1 ORDER BY id",
            self.schema
        ))
        .bind(tenant_id(tenant).as_uuid())
        .fetch_all(&self.admin)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
    }

    /// Creates a ticket (`body`, on `http` as `agent`) while a restriction
    /// of contact `subject` of ACME is landing: a transaction of the owner
    /// holds the contact's lock and has run `landing` (in the schema; `$1`
    /// the tenant, `$2` the contact id), not yet committed. Commits it once
    /// the creation waits for the lock (or, if it took none, is done), and
    /// returns the creation's answer.
    async fn create_while_landing(
        &self,
        http: &Http,
        agent: &str,
        subject: &str,
        landing: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let mut restricting = self.admin.begin().await.unwrap();
        raw_sql(&format!("SET LOCAL search_path = {}", self.schema))
            .execute(&mut *restricting)
            .await
            .unwrap();
        query::<Postgres>(custodia_example_helpdesk::store::CONTACT_LOCK)
            .bind(custodia_example_helpdesk::store::contact_lock_key(
                tenant_id(ACME),
                subject.parse().unwrap(),
            ))
            .execute(&mut *restricting)
            .await
            .unwrap();
        query::<Postgres>(landing)
            .bind(tenant_id(ACME).as_uuid())
            .bind(subject)
            .execute(&mut *restricting)
            .await
            .unwrap();
        let creating = tokio::spawn({
            let (http, agent) = (Http::new(http.addr), agent.to_owned());
            async move { http.json(Method::POST, "/tickets", &agent, body).await }
        });
        while !creating.is_finished() {
            let waiting: i64 = query::<Postgres>(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted \
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            )
            .fetch_one(&self.admin)
            .await
            .unwrap()
            .get(0);
            if waiting > 0 {
                break;
            }
            tokio::task::yield_now().await;
        }
        restricting.commit().await.unwrap();
        creating.await.unwrap()
    }

    /// Waits until `count` (a query counting with `$1` bound to `arg`)
    /// counts something, or `task` ended: a request blocked on what the
    /// test holds.
    async fn wait_until<T>(&self, count: &str, arg: &str, task: &tokio::task::JoinHandle<T>) {
        // A guard against a hang, not a timing assertion: a wait that
        // never comes fails the test, naming it, instead of spinning
        // until CI's own limit (seen once: the second breach `POST` held
        // up before its insert while the log's table was locked).
        let give_up = std::time::Instant::now() + std::time::Duration::from_secs(180);
        while !task.is_finished() {
            assert!(
                std::time::Instant::now() < give_up,
                "waited 180 s for `{count}` ({arg}) to count a row"
            );
            let counted: i64 = query::<Postgres>(count)
                .bind(arg)
                .fetch_one(&self.admin)
                .await
                .unwrap()
                .get(0);
            if counted > 0 {
                break;
            }
            tokio::task::yield_now().await;
        }
    }

    /// The shared audit log, with what the servers staged drained into it,
    /// opened (and so verified) by the sync reader.
    fn audit_log(&self) -> AuditLog<PostgresStore> {
        let options = env_url("CUSTODIA_PG_APP_URL")
            .parse::<sqlx_postgres::PgConnectOptions>()
            .unwrap()
            .options([("search_path", self.schema.as_str())]);
        let drain = async {
            let pool = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await
                .unwrap();
            let store = custodia_audit::SqlxAuditStore::new(pool.clone(), "helpdesk").unwrap();
            store.drain().await.unwrap();
            pool.close().await;
        };
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(drain);
        let mut config: postgres::Config = env_url("CUSTODIA_PG_APP_URL").parse().unwrap();
        config.options(&format!("-c search_path={}", self.schema));
        let client = config.connect(postgres::NoTls).unwrap();
        let store = PostgresStore::with_client(client, "helpdesk").unwrap();
        // Opening reads (and verifies) every record there is.
        AuditLog::open(store).expect("the audit log verifies")
    }

    fn verifier(&self) -> checkpoint::Verifier {
        let key = std::fs::read_to_string(DataDir::new(self.dir.path()).checkpoint_key()).unwrap();
        Signer::from_key_string(key.trim()).unwrap().verifier()
    }

    async fn stop(self) {
        drop(self.instances);
        raw_sql(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema))
            .execute(&self.admin)
            .await
            .unwrap();
    }
}

/// A real HTTP/1.1 client on loopback.
struct Http {
    client: Client<HttpConnector, Full<Bytes>>,
    addr: SocketAddr,
}

impl Http {
    fn new(addr: SocketAddr) -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build_http(),
            addr,
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
    ) -> (StatusCode, Value) {
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr))
            .header(header::USER_AGENT, "fleet-test/1.0");
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
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let value = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&body)
                .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&body)))
        };
        (status, value)
    }

    async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, Some(token), None).await
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

    /// Creates a ticket; returns (id, contact).
    async fn create(&self, token: &str, line: &str, name: &str, email: &str) -> (String, String) {
        let (status, body) = self
            .json(
                Method::POST,
                "/tickets",
                token,
                json!({"subject_line": line, "name": name, "email": email,
                       "phone": "+61 400 123 456", "body": format!("{name} here, reach me at {email}")}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (
            body["id"].as_str().unwrap().to_owned(),
            body["contact"].as_str().unwrap().to_owned(),
        )
    }
}

impl Http {
    /// Logs a data-subject `request` of `subject` as the DPO (verified by
    /// the portal's session), asserting 201, and runs it: its answer.
    async fn run_request(&self, dpo: &str, subject: &str, request: Value) -> (StatusCode, Value) {
        let body = json!({"subject": subject, "request": request,
                          "verification": "authenticated_session", "note": "portal"});
        let (status, request) = self
            .json(Method::POST, "/privacy/requests", dpo, body)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{request}");
        let path = format!("/privacy/requests/{}/run", request["id"].as_str().unwrap());
        self.json(Method::POST, &path, dpo, json!({})).await
    }

    /// [`Http::run_request`], asserting it completed.
    async fn complete_request(&self, dpo: &str, subject: &str, request: Value) {
        let (status, done) = self.run_request(dpo, subject, request).await;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert_eq!(done["state"], "completed", "{done}");
    }

    /// `POST /tickets/{id}/summary`.
    async fn summarise(&self, token: &str, id: &str) -> (StatusCode, Value) {
        self.send(
            Method::POST,
            &format!("/tickets/{id}/summary"),
            Some(token),
            None,
        )
        .await
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn not_found() -> (StatusCode, Value) {
    (
        StatusCode::NOT_FOUND,
        json!({"error": "not_found", "message": "no ticket with the requested id"}),
    )
}

#[test]
fn an_agent_cannot_read_list_search_or_guess_another_tenants_tickets_on_either_instance() {
    let rt = runtime();
    let fleet = rt.block_on(Fleet::start());
    let (acme, globex) = (
        fleet.token(ACME, &["agent"], "sam"),
        fleet.token(GLOBEX, &["agent"], "kim"),
    );
    let (ours, theirs, priya) = rt.block_on(async {
        let mut ours = BTreeSet::new();
        let mut theirs = Vec::new();
        let mut priya = String::new();
        for i in 0..4 {
            let http = fleet.http(i % 2);
            ours.insert(
                http.create(&acme, &format!("acme {i}"), "Alice Ng", "alice@example.com")
                    .await
                    .0,
            );
            let (id, contact) = http
                .create(
                    &globex,
                    &format!("globex {i}"),
                    "Priya Shah",
                    "priya@example.co.uk",
                )
                .await;
            theirs.push(id);
            priya = contact;
        }
        (ours, theirs, priya)
    });
    let before = rt.block_on(fleet.rows(GLOBEX));
    assert_eq!(before.len(), 4);

    for i in 0..2 {
        let http = fleet.http(i);
        // The list is exactly ACME's own tickets, on either instance.
        let (status, listed) = rt.block_on(http.get("/tickets", &acme));
        assert_eq!(status, StatusCode::OK);
        let listed: BTreeSet<String> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(listed, ours);
        // GLOBEX's contact email finds nothing in ACME (indexes are per tenant).
        let (status, found) = rt.block_on(http.get("/tickets?email=priya@example.co.uk", &acme));
        assert_eq!((status, found), (StatusCode::OK, json!([])));
        let (_, found) = rt.block_on(http.get("/tickets?email=ALICE@example.com", &acme));
        assert_eq!(found.as_array().unwrap().len(), 4);
    }

    // Every ticket route, on either instance, with GLOBEX's ids, ids that
    // exist nowhere and made-up ones: the same 404 as for a missing ticket.
    let max: u64 = ours
        .iter()
        .chain(&theirs)
        .map(|id| id.trim_start_matches("T-").parse::<u64>().unwrap())
        .max()
        .unwrap();
    let strategy = (
        0..2usize,
        prop_oneof![
            Just(Method::GET),
            Just(Method::PATCH),
            Just(Method::DELETE),
            Just(Method::POST)
        ],
        prop_oneof![
            proptest::sample::select(theirs.clone()),
            (max + 1..max + 100_000).prop_map(|n| format!("T-{n}")),
            (1..3000u64).prop_map(|n| format!("T-{n}")),
            "[A-Za-z0-9_-]{1,12}",
        ],
    );
    let mut runner = TestRunner::new(Config {
        cases: 32,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&strategy, |(i, method, id)| {
            let http = fleet.http(i);
            let got = rt.block_on(async {
                match method {
                    Method::PATCH => {
                        http.json(
                            method,
                            &format!("/tickets/{id}"),
                            &acme,
                            json!({"subject_line": "taken"}),
                        )
                        .await
                    }
                    Method::POST => {
                        http.send(method, &format!("/tickets/{id}/summary"), Some(&acme), None)
                            .await
                    }
                    _ => {
                        http.send(method, &format!("/tickets/{id}"), Some(&acme), None)
                            .await
                    }
                }
            });
            prop_assert_eq!(got, not_found());
            Ok(())
        })
        .unwrap();

    // Nor through the privacy routes: ACME's DPO finds nothing of GLOBEX's
    // contact, and an access request about her exports nothing; GLOBEX's
    // DPO cannot see that request.
    let (acme_dpo, globex_dpo) = (
        fleet.token(ACME, &["dpo"], "dee"),
        fleet.token(GLOBEX, &["dpo"], "dan"),
    );
    rt.block_on(async {
        for i in 0..2 {
            let http = fleet.http(i);
            let history = format!("/privacy/subjects/{priya}/audit");
            assert_eq!(
                http.get(&history, &acme_dpo).await,
                (StatusCode::OK, json!([]))
            );
            let search = "/privacy/subjects?email=priya@example.co.uk";
            assert_eq!(
                http.get(search, &acme_dpo).await,
                (StatusCode::OK, json!([]))
            );
        }
        for i in 0..2 {
            let http = fleet.http(i);
            let (status, request) = http
                .json(
                    Method::POST,
                    "/privacy/requests",
                    &acme_dpo,
                    json!({"subject": priya, "request": {"kind": "access"},
                           "verification": "authenticated_session"}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{request}");
            let path = format!("/privacy/requests/{}", request["id"].as_str().unwrap());
            let (status, bundle) = http
                .json(Method::POST, &format!("{path}/run"), &acme_dpo, json!({}))
                .await;
            assert_eq!(status, StatusCode::OK, "{bundle}");
            assert_eq!(bundle["records"], json!([]), "{bundle}");
            // Its audit section: only ACME's own request about the id.
            assert!(
                bundle["audit"]["events"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|e| !e["target"].as_str().unwrap().starts_with("ticket")),
                "{bundle}"
            );
            let (status, _) = fleet.http(1 - i).get(&path, &globex_dpo).await;
            assert_eq!(status, StatusCode::NOT_FOUND);
        }
    });

    // GLOBEX's tickets are untouched, and GLOBEX still reads them anywhere.
    assert_eq!(rt.block_on(fleet.rows(GLOBEX)), before);
    for i in 0..2 {
        let (status, body) = rt.block_on(
            fleet
                .http(i)
                .get(&format!("/tickets/{}", theirs[0]), &globex),
        );
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["fields"]["name"], "Priya Shah");
    }
    rt.block_on(fleet.stop());
}

#[test]
fn an_erasure_on_one_instance_is_honoured_by_the_other_within_the_staleness_bound() {
    let rt = runtime();
    let fleet = rt.block_on(Fleet::start());
    let (a, b) = (fleet.http(0), fleet.http(1));
    let agent = fleet.token(ACME, &["agent"], "sam");
    let supervisor = fleet.token(ACME, &["supervisor"], "sue");
    let dpo = fleet.token(ACME, &["dpo"], "dee");
    rt.block_on(async {
        let (id, dana) = b.create(&agent, "Printer jams", "Dana Lee", "dana@example.com").await;
        let (other, _) = b.create(&agent, "Laptop", "Bob Li", "bob@example.org").await;
        // B opens Dana's fields (her key is now cached there) and her audit
        // history shows the client IP of those requests, opened with her key.
        let (status, ticket) = b.get(&format!("/tickets/{id}"), &supervisor).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(ticket["fields"]["email"], "dana@example.com");
        let history = format!("/privacy/subjects/{dana}/audit");
        let (status, events) = b.get(&history, &dpo).await;
        assert_eq!(status, StatusCode::OK, "{events}");
        let ips: Vec<&Value> = events.as_array().unwrap().iter().filter_map(|e| e["details"].get("ip")).collect();
        assert!(!ips.is_empty() && ips.iter().all(|ip| *ip == "127.0.0.1"), "{events}");

        // A backup of the row, taken before the erasure.
        let backup = query::<Postgres>(&format!(
            "SELECT name, email, phone, body, subject_id, sealed_by, subject_line FROM {}.tickets WHERE id = $1",
            fleet.schema
        ))
        .bind(&id)
        .fetch_one(&fleet.admin)
        .await
        .unwrap();

        // The erasure runs on A.
        let (status, request) = a
            .json(
                Method::POST,
                "/privacy/requests",
                &dpo,
                json!({"subject": dana, "request": {"kind": "erasure"},
                       "verification": "authenticated_session", "note": "portal session"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{request}");
        let run = format!("/privacy/requests/{}/run", request["id"].as_str().unwrap());
        let (status, certificate) = a.json(Method::POST, &run, &dpo, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{certificate}");
        assert_eq!(certificate["subject"], dana.as_str());
        assert_eq!(certificate["subject_key"]["status"], "shredded", "{certificate}");

        // Within the bound, B honours it: the live row is gone from her...
        tokio::time::sleep(Duration::from_millis(STALENESS_MS * 3 + 500)).await;
        let (status, live) = b.get(&format!("/tickets/{id}"), &supervisor).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(live["contact"], Value::Null);
        assert!(live["fields"].get("email").is_none(), "{live}");
        // ... a restored backup of it cannot be opened ...
        let restore = format!(
            "UPDATE {}.tickets SET name = $2, email = $3, phone = $4, body = $5, subject_id = $6, \
             sealed_by = $7, subject_line = $8 WHERE id = $1",
            fleet.schema
        );
        let mut restore = query::<Postgres>(&restore).bind(&id);
        for column in 0..4 {
            restore = restore.bind(backup.get::<Option<Vec<u8>>, _>(column));
        }
        restore
            .bind(backup.get::<Option<String>, _>(4))
            .bind(backup.get::<String, _>(5))
            .bind(backup.get::<String, _>(6))
            .execute(&fleet.admin)
            .await
            .unwrap();
        for http in [&b, &a] {
            let (status, restored) = http.get(&format!("/tickets/{id}"), &supervisor).await;
            assert_eq!(status, StatusCode::OK, "{restored}");
            assert_eq!(restored["erased"], json!(["name", "email", "phone", "body"]), "{restored}");
            assert_eq!(restored["fields"], json!({"subject_line": "Printer jams"}));
        }
        // ... and her IP addresses in the audit log read as erased.
        let (status, events) = b.get(&history, &dpo).await;
        assert_eq!(status, StatusCode::OK);
        let ips: Vec<&Value> = events.as_array().unwrap().iter().filter_map(|e| e["details"].get("ip")).collect();
        assert!(!ips.is_empty() && ips.iter().all(|ip| *ip == "[erased]"), "{events}");
        // Bob, on the same instances, is untouched.
        let (_, bob) = b.get(&format!("/tickets/{other}"), &supervisor).await;
        assert_eq!(bob["fields"]["email"], "bob@example.org");
    });
    rt.block_on(fleet.stop());
}

#[test]
fn both_instances_audit_into_one_log_that_verifies_against_an_earlier_checkpoint() {
    let rt = runtime();
    let fleet = rt.block_on(Fleet::start());
    // The platform's role: the shared log's size and checkpoints.
    let auditor = fleet.token(ACME, &["operator"], "ops");
    let (acme, globex) = (
        fleet.token(ACME, &["agent"], "sam"),
        fleet.token(GLOBEX, &["agent"], "kim"),
    );
    let (note, created) = rt.block_on(async {
        let (a, b) = (fleet.http(0), fleet.http(1));
        a.create(
            &acme,
            "before the checkpoint",
            "Ann Bell",
            "ann@example.com",
        )
        .await;
        let (status, checkpoint) = a
            .send(Method::POST, "/audit/checkpoint", Some(&auditor), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{checkpoint}");
        let note = checkpoint["note"].as_str().unwrap().to_owned();
        // Both instances write, interleaved and concurrently.
        let mut created = Vec::new();
        for round in 0..3 {
            let (on_a, on_b) = (format!("on A {round}"), format!("on B {round}"));
            let (x, y) = tokio::join!(
                a.create(&acme, &on_a, "Cy Dunn", "cy@example.com"),
                b.create(&globex, &on_b, "Di Ely", "di@example.co.uk"),
            );
            created.push(x.0);
            created.push(y.0);
        }
        let (status, _) = b
            .json(
                Method::PATCH,
                &format!("/tickets/{}", created[1]),
                &globex,
                json!({"status": "closed"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        // Each instance re-reads the whole log and checks it extends the checkpoint.
        for http in [&a, &b] {
            let (status, report) = http
                .json(
                    Method::POST,
                    "/audit/verify",
                    &auditor,
                    json!({"checkpoint": note}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{report}");
            assert_eq!(report["ok"], true, "{report}");
            assert_eq!(report["checkpoint_size"], checkpoint["size"]);
            assert!(report["size"].as_u64().unwrap() > checkpoint["size"].as_u64().unwrap());
        }
        // A checkpoint signed by another key is refused, not trusted.
        let forged = Signer::generate("helpdesk.example/audit").unwrap();
        let fake = AuditLog::open(MemoryStore::new())
            .unwrap()
            .checkpoint("helpdesk.example/audit", &forged)
            .unwrap();
        let (status, refused) = b
            .json(
                Method::POST,
                "/audit/verify",
                &auditor,
                json!({"checkpoint": fake}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        (note, created)
    });
    // Read independently: one log holding both instances' events, extending
    // the checkpoint.
    let log = fleet.audit_log();
    let trusted = checkpoint::open(&note, &fleet.verifier(), "helpdesk.example/audit").unwrap();
    log.check_checkpoint("helpdesk.example/audit", &trusted)
        .unwrap();
    let events = log.query(&Query::new()).unwrap();
    let created_events: BTreeSet<String> = events
        .iter()
        .filter(|(_, e)| e.action == Action::Create && e.target.kind == "ticket")
        .map(|(_, e)| e.target.id.clone())
        .collect();
    for id in &created {
        assert!(created_events.contains(id), "no create event for {id}");
    }
    assert!(events.iter().any(|(_, e)| e.tenant == tenant_id(ACME)));
    assert!(events.iter().any(|(_, e)| e.tenant == tenant_id(GLOBEX)));
    assert!(events.iter().all(|(_, e)| !e.has_clear_personal_data()));
    rt.block_on(fleet.stop());
}

/// A refused request and the refusal expected.
struct Case {
    what: &'static str,
    token: Option<String>,
    content_type: &'static str,
    body: Vec<u8>,
    status: StatusCode,
    kind: &'static str,
    says: &'static str,
}

#[test]
fn bad_requests_get_a_clear_4xx_and_write_nothing() {
    let rt = runtime();
    let fleet = rt.block_on(Fleet::start());
    let good = fleet.token(ACME, &["agent"], "sam");
    let claims = |org: Value, exp: i64| {
        json!({"iss": tokens::ISSUER, "aud": tokens::AUDIENCE, "sub": "sam", "exp": exp,
               "org": org, "roles": ["agent"]})
    };
    let now = custodia_core::chrono::Utc::now().timestamp();
    let signed = |claims: Value| tokens::sign(&fleet.seed, &claims).unwrap();
    let an_hour_ago = Arc::new(ManualClock::new(
        custodia_core::chrono::Utc::now() - custodia_core::chrono::TimeDelta::hours(2),
    ));
    let expired = tokens::mint(
        &fleet.seed,
        &TokenRequest {
            tenant: ACME.into(),
            roles: vec!["agent".into()],
            subject: Some("sam".into()),
            ttl: Duration::from_secs(600),
        },
        an_hour_ago.as_ref(),
    )
    .unwrap();
    let ticket = serde_json::to_vec(
        &json!({"subject_line": "x", "name": "N", "email": "n@example.com", "body": "b"}),
    )
    .unwrap();
    let huge = serde_json::to_vec(
        &json!({"subject_line": "x", "name": "N", "email": "n@example.com",
        "body": "b".repeat(100 * 1024)}),
    )
    .unwrap();
    let json_type = "application/json";
    let case = |what, token: Option<String>, content_type, body: &[u8], status, kind, says| Case {
        what,
        token,
        content_type,
        body: body.to_vec(),
        status,
        kind,
        says,
    };
    let unauthorized = StatusCode::UNAUTHORIZED;
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let g = || Some(good.clone());
    let cases = [
        case("no token", None, json_type, &ticket, unauthorized, "unauthorized", "no bearer token"),
        case("not a JWT", Some("not-a-jwt".into()), json_type, &ticket, unauthorized, "unauthorized", "malformed"),
        case(
            "signed by another key",
            Some(tokens::mint_for(&[7; 32], ACME, &["agent"], "sam", &SystemClock).unwrap()),
            json_type, &ticket, unauthorized, "unauthorized", "signature",
        ),
        case("expired", Some(expired), json_type, &ticket, unauthorized, "unauthorized", "expired"),
        case("no tenant claim", Some(signed(claims(Value::Null, now + 600))), json_type, &ticket,
            unauthorized, "unauthorized", "tenant claim"),
        case("a tenant not served here", Some(signed(claims(json!("INITECH-1"), now + 600))), json_type,
            &ticket, StatusCode::FORBIDDEN, "forbidden", "not served"),
        case("malformed JSON", g(), json_type, b"{\"subject_line\": ", StatusCode::BAD_REQUEST,
            "bad_request", "JSON"),
        case("a missing field", g(), json_type, b"{\"subject_line\": \"x\"}", unprocessable,
            "unprocessable", "missing field"),
        case("an unknown field", g(), json_type,
            br#"{"subject_line": "x", "name": "N", "email": "n@example.com", "body": "b", "tenant_id": "x"}"#,
            unprocessable, "unprocessable", "unknown field"),
        case("not an email", g(), json_type,
            br#"{"subject_line": "x", "name": "N", "email": "nobody", "body": "b"}"#,
            unprocessable, "unprocessable", "email is not an email address"),
        case("another content type", g(), "text/plain", &ticket, StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type", "Content-Type"),
        case("an oversized body", g(), json_type, &huge, StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large", "limit"),
    ];
    rt.block_on(async {
        for i in 0..2 {
            let http = fleet.http(i);
            for case in &cases {
                let body = Some((case.content_type, case.body.clone()));
                let (status, json) = http
                    .send(Method::POST, "/tickets", case.token.as_deref(), body)
                    .await;
                assert_eq!(status, case.status, "{}: {json}", case.what);
                assert_eq!(json["error"], case.kind, "{}: {json}", case.what);
                let message = json["message"].as_str().unwrap();
                assert!(
                    message.contains(case.says),
                    "{}: {message:?} should say {:?}",
                    case.what,
                    case.says
                );
                if let Some(token) = &case.token {
                    assert!(
                        !message.contains(token.as_str()),
                        "{}: the token came back",
                        case.what
                    );
                }
            }
        }
        // Nothing was written: no ticket, no ticket number, no contact key,
        // and the log holds only the refused attempts, about nobody.
        assert!(fleet.rows(ACME).await.is_empty());
        let count = |sql: String| {
            let admin = fleet.admin.clone();
            async move {
                query::<Postgres>(&sql)
                    .fetch_one(&admin)
                    .await
                    .unwrap()
                    .get::<i64, _>(0)
            }
        };
        let s = &fleet.schema;
        assert_eq!(count(format!("SELECT count(*) FROM {s}.tickets")).await, 0);
        assert_eq!(
            count(format!("SELECT count(*) FROM {s}.ticket_tenants")).await,
            0
        );
        let used: bool = query::<Postgres>(&format!("SELECT is_called FROM {s}.ticket_ids"))
            .fetch_one(&fleet.admin)
            .await
            .unwrap()
            .get(0);
        assert!(!used, "a ticket number was drawn");
        assert_eq!(
            count(format!("SELECT count(*) FROM {s}.custodia_subject_keys")).await,
            0
        );
    });
    let events = fleet.audit_log().query(&Query::new()).unwrap();
    assert!(
        events.iter().all(|(_, e)| e.outcome == Outcome::Failure
            && e.action == Action::Create
            && e.subject.is_none()
            && e.actor.ip.is_none()),
        "{events:?}"
    );
    // The body refusals are on the record (the credential refusals never
    // reach a handler): six per instance.
    assert_eq!(events.len(), 12);
    rt.block_on(fleet.stop());
}

#[test]
fn roles_see_fields_as_their_policy_says_and_the_summariser_sees_only_tokens() {
    let rt = runtime();
    let fleet = rt.block_on(Fleet::start_with(1, true));
    let http = fleet.http(0);
    let agent = fleet.token(ACME, &["agent"], "sam");
    let supervisor = fleet.token(ACME, &["supervisor"], "sue");
    let dpo = fleet.token(ACME, &["dpo"], "dee");
    let auditor = fleet.token(ACME, &["auditor"], "ada");
    rt.block_on(async {
        // The example's six tickets: four ACME's, two GLOBEX's.
        let (_, listed) = http.get("/tickets", &agent).await;
        assert_eq!(listed.as_array().unwrap().len(), 4);

        let (status, seen) = http.get("/tickets/T-1002", &agent).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(seen["fields"]["email"], "Alice.Ng@example.com");
        assert_eq!(seen["hidden"], json!(["phone"]));
        assert!(seen["fields"].get("phone").is_none());
        let (_, seen) = http.get("/tickets/T-1002", &supervisor).await;
        assert_eq!(seen["fields"]["phone"], "+61 412 345 678");
        let (_, seen) = http.get("/tickets/T-1002", &dpo).await;
        assert_eq!(
            seen["masked"],
            json!(["subject_line", "name", "email", "phone", "body"])
        );
        assert_eq!(seen["fields"]["email"], "A***@example.com");
        let shown = seen["fields"].to_string().to_lowercase();
        for secret in ["alice.ng@", "alice ng", "412 345"] {
            assert!(!shown.contains(secret), "{secret} shown masked: {shown}");
        }
        // The subject line is the ticket text's category: masked for the
        // DPO, read and listed, as the body is (found in review: it was
        // shown clear to a role whose access to it is masked).
        let line = "Call Zoe Park on +61 400 000 000 or zoe.park@example.com";
        let (id, _) = http
            .create(&agent, line, "Zoe Park", "zoe.park@example.com")
            .await;
        let created = json!({ "id": id });
        let path = format!("/tickets/{}", created["id"].as_str().unwrap());
        let (_, as_agent) = http.get(&path, &agent).await;
        assert_eq!(as_agent["fields"]["subject_line"], line);
        let (_, as_dpo) = http.get(&path, &dpo).await;
        let (_, listed) = http.get("/tickets", &dpo).await;
        let entry = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == created["id"])
            .cloned()
            .unwrap();
        for shown in [&as_dpo["fields"]["subject_line"], &entry["subject_line"]] {
            let shown = shown.as_str().unwrap();
            for secret in ["zoe.park@", "400 000", "Zoe Park"] {
                assert!(!shown.contains(secret), "{secret} in {shown:?}");
            }
        }
        let (_, listed) = http.get("/tickets", &agent).await;
        assert!(
            listed
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["subject_line"] == line)
        );
        let (status, refused) = http.get("/tickets/T-1002", &auditor).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");

        // The summariser gets tokens; the agent gets the values back.
        let (status, summary) = http
            .send(Method::POST, "/tickets/T-1002/summary", Some(&agent), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{summary}");
        let sent = summary["sent"].to_string().to_lowercase();
        for secret in [
            "alice.ng@example.com",
            "412 345 678",
            "alice ng",
            "10.20.30.40",
        ] {
            assert!(!sent.contains(secret), "{secret} left: {sent}");
        }
        assert!(
            sent.contains("<email_1>") && sent.contains("<phone_1>"),
            "{sent}"
        );
        assert!(
            summary["reply"]
                .as_str()
                .unwrap()
                .contains("alice.ng@example.com")
        );

        assert!(
            summary["transfer"].as_str().unwrap().contains("AU"),
            "{summary}"
        );

        // GLOBEX's ticket text is homed in the UK; the summariser would
        // process it in the US, outside the UK-US data bridge: nothing leaves.
        let globex = fleet.token(GLOBEX, &["agent"], "kim");
        let (_, theirs) = http.get("/tickets", &globex).await;
        let id = theirs[0]["id"].as_str().unwrap().to_owned();
        let (status, refused) = http
            .send(
                Method::POST,
                &format!("/tickets/{id}/summary"),
                Some(&globex),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
        let says = refused["message"].as_str().unwrap();
        assert!(
            says.contains("nothing was sent") && says.contains("US"),
            "{says}"
        );

        // Agents change their own tickets only; supervisors delete.
        let (status, refused) = http
            .json(
                Method::PATCH,
                "/tickets/T-1002",
                &agent,
                json!({"subject_line": "mine now"}),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
        let (own, _) = http
            .create(&agent, "Mine", "Eve Fox", "eve@example.com")
            .await;
        let (status, changed) = http
            .json(
                Method::PATCH,
                &format!("/tickets/{own}"),
                &agent,
                json!({"subject_line": "Mine, renamed", "status": "closed"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{changed}");
        assert_eq!(changed["status"], "closed");
        let path = format!("/tickets/{own}");
        let delete = |token| http.send(Method::DELETE, &path, Some(token), None);
        assert_eq!(delete(&agent).await.0, StatusCode::FORBIDDEN);
        assert_eq!(delete(&supervisor).await.0, StatusCode::NO_CONTENT);
        assert_eq!(delete(&supervisor).await, not_found());
    });
    // The rename is on the record, its old and new values sealed.
    let events = fleet
        .audit_log()
        .query(&Query::new().action(Action::Update))
        .unwrap();
    let rename = events
        .iter()
        .find(|(_, e)| !e.changes.is_empty())
        .expect("the rename's event");
    assert!(
        rename.1.changes[0]
            .after
            .as_ref()
            .is_some_and(|v| v.is_sealed())
    );
    rt.block_on(fleet.stop());
}

#[test]
fn the_retention_sweep_deletes_and_anonymizes_what_is_due_once() {
    let rt = runtime();
    let fleet = rt.block_on(Fleet::start_with(1, true));
    let http = fleet.http(0);
    let supervisor = fleet.token(ACME, &["supervisor"], "sue");
    rt.block_on(async {
        let globex_before = fleet.rows(GLOBEX).await;
        let agent = fleet.token(ACME, &["agent"], "sam");
        let (status, _) = http
            .send(Method::POST, "/retention/sweep", Some(&agent), None)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let ids = |v: &Value, key: &str| -> BTreeSet<String> {
            v[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_str().unwrap().to_owned())
                .collect()
        };
        // A dry run plans and changes nothing. (The example's dates: spam
        // T-1003 is past its 30 days, closed T-1001 past its 3 years, open
        // T-1004 idle over a year.)
        let before = fleet.rows(ACME).await;
        let (status, plan) = http
            .send(
                Method::POST,
                "/retention/sweep?dry_run=true",
                Some(&supervisor),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{plan}");
        let due: Vec<(String, String)> = plan["due"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["id"].as_str().unwrap().to_owned(),
                    d["action"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        for expected in [
            ("T-1003", "delete"),
            ("T-1001", "anonymize"),
            ("T-1004", "anonymize"),
        ] {
            assert!(
                due.contains(&(expected.0.into(), expected.1.into())),
                "{plan}"
            );
        }
        assert_eq!(fleet.rows(ACME).await, before);

        let (status, done) = http
            .send(Method::POST, "/retention/sweep", Some(&supervisor), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert!(ids(&done, "deleted").contains("T-1003"), "{done}");
        let anonymized = ids(&done, "anonymized");
        assert!(
            anonymized.contains("T-1001") && anonymized.contains("T-1004"),
            "{done}"
        );
        let (_, t1001) = http.get("/tickets/T-1001", &supervisor).await;
        assert_eq!(t1001["contact"], Value::Null);
        assert_eq!(t1001["fields"], json!({"subject_line": "[anonymized]"}));
        assert_eq!(http.get("/tickets/T-1003", &supervisor).await, not_found());
        // Once: the next sweep finds it all done.
        let (_, again) = http
            .send(Method::POST, "/retention/sweep", Some(&supervisor), None)
            .await;
        assert!(
            ids(&again, "deleted").is_empty() && ids(&again, "anonymized").is_empty(),
            "{again}"
        );
        // Only the caller's tenant was swept.
        assert_eq!(fleet.rows(GLOBEX).await, globex_before);
    });
    let events = fleet
        .audit_log()
        .query(&Query::new().target("ticket", Some("T-1003".into())))
        .unwrap();
    assert!(events.iter().any(|(_, e)| e.action == Action::Delete
        && e.actor.id == custodia_example_helpdesk::retention_actor(tenant_id(ACME))));
    rt.block_on(fleet.stop());
}

/// Found in review: the retention sweep listed a ticket due for archiving
/// under `review`, as if a person had to decide on it. Now an archive rule's
/// due tickets are listed under `archive` (reported, as this server has no
/// archive), and only a review rule's under `review`.
/// Found in review: `DELETE /tickets/{id}` checked access and the
/// contact's restriction but not the retention policy's legal holds, so a
/// supervisor deleted a ticket the sweep withheld for a hold. Now it is
/// refused (409) and kept; a ticket no hold covers is deleted as before.
#[test]
fn a_ticket_under_a_legal_hold_is_not_deleted_by_hand() {
    let rt = runtime();
    let fleet = rt.block_on(Fleet::start_with_policy(
        r#"
        version = 1
        [[rule]]
        name = "tickets"
        applies_to = { category = "user.content.ticket" }
        trigger = "created"
        retain = "10y"
        then = "delete"
        [[hold]]
        id = "case-17"
        reason = "litigation"
        applies_to = { records = ["T-1001"] }
        "#,
    ));
    let supervisor = fleet.token(ACME, &["supervisor"], "sue");
    rt.block_on(async {
        let http = fleet.http(0);
        let before = fleet.rows(ACME).await;
        assert!(before.iter().any(|(id, _)| id == "T-1001"), "{before:?}");
        let (status, refused) = http
            .send(Method::DELETE, "/tickets/T-1001", Some(&supervisor), None)
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{refused}");
        assert!(refused.to_string().contains("legal hold"), "{refused}");
        assert!(!refused.to_string().contains("case-17"), "{refused}");
        assert_eq!(fleet.rows(ACME).await, before);
        let (status, _) = http
            .send(Method::DELETE, "/tickets/T-1002", Some(&supervisor), None)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let after = fleet.rows(ACME).await;
        assert!(after.iter().any(|(id, _)| id == "T-1001"), "{after:?}");
        assert!(!after.iter().any(|(id, _)| id == "T-1002"), "{after:?}");
    });
    rt.block_on(fleet.stop());
}

#[test]
fn the_retention_sweep_reports_archive_and_review_apart() {
    let rt = runtime();
    let fleet = rt.block_on(Fleet::start_with_policy(
        r#"
        version = 1
        [[rule]]
        name = "archive-closed"
        applies_to = { category = "user.content.ticket", labels = { status = "closed" } }
        trigger = "closed"
        retain = "1y"
        then = "archive"
        [[rule]]
        name = "review-spam"
        applies_to = { category = "user.content.ticket", labels = { status = "spam" } }
        trigger = "created"
        retain = "30d"
        then = "review"
        "#,
    ));
    let supervisor = fleet.token(ACME, &["supervisor"], "sue");
    rt.block_on(async {
        let before = fleet.rows(ACME).await;
        let (status, done) = fleet
            .http(0)
            .send(Method::POST, "/retention/sweep", Some(&supervisor), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert_eq!(done["archive"], json!(["T-1001"]), "{done}");
        assert_eq!(done["review"], json!(["T-1003"]), "{done}");
        assert_eq!(done["deleted"], json!([]), "{done}");
        assert_eq!(done["anonymized"], json!([]), "{done}");
        assert_eq!(fleet.rows(ACME).await, before);
    });
    rt.block_on(fleet.stop());
}

/// Found in review: the retention sweep appended each change's audit event
/// to the log at once, outside the tenant's transaction, so a sweep that
/// failed part-way rolled its deletions back and left events saying they
/// happened. Now the events are staged in that transaction: with T-1004's
/// anonymization refused by the database (a trigger of the owner), the
/// sweep fails, T-1001 and T-1003 are as they were, and the log holds no
/// event for them; once the trigger is gone the next sweep deletes T-1003
/// and the log holds that one deletion.
#[test]
fn a_retention_sweep_failing_part_way_leaves_no_audit_event_for_what_it_rolled_back() {
    let rt = runtime();
    let fleet = rt.block_on(Fleet::start_with(1, true));
    let http = fleet.http(0);
    let supervisor = fleet.token(ACME, &["supervisor"], "sue");
    let refuse = format!(
        "CREATE FUNCTION {schema}.refuse_t1004() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$; \
         CREATE TRIGGER refuse_t1004 BEFORE UPDATE ON {schema}.tickets FOR EACH ROW \
         WHEN (OLD.id = 'T-1004') EXECUTE FUNCTION {schema}.refuse_t1004();",
        schema = fleet.schema
    );
    let before = rt.block_on(async {
        raw_sql(&refuse).execute(&fleet.admin).await.unwrap();
        let before = fleet.rows(ACME).await;
        let (status, failed) = http
            .send(Method::POST, "/retention/sweep", Some(&supervisor), None)
            .await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{failed}");
        assert_eq!(fleet.rows(ACME).await, before);
        before
    });
    assert!(before.iter().any(|(id, _)| id == "T-1003"));
    let events = |log: &AuditLog<PostgresStore>, id: &str| {
        log.query(&Query::new().target("ticket", Some(id.into())))
            .unwrap()
            .into_iter()
            .filter(|(_, e)| {
                e.actor.id == custodia_example_helpdesk::retention_actor(tenant_id(ACME))
            })
            .map(|(_, e)| e.action)
            .collect::<Vec<_>>()
    };
    let log = fleet.audit_log();
    assert_eq!(events(&log, "T-1003"), []);
    assert_eq!(events(&log, "T-1001"), []);

    rt.block_on(async {
        raw_sql(&format!(
            "DROP TRIGGER refuse_t1004 ON {}.tickets",
            fleet.schema
        ))
        .execute(&fleet.admin)
        .await
        .unwrap();
        let (status, done) = http
            .send(Method::POST, "/retention/sweep", Some(&supervisor), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert_eq!(done["deleted"], json!(["T-1003"]), "{done}");
    });
    let log = fleet.audit_log();
    assert_eq!(events(&log, "T-1003"), [Action::Delete]);
    rt.block_on(fleet.stop());
}

/// Found in review: the retention sweep read the tenant's tickets without
/// a lock and then deleted each planned one by id (and `processing`) only,
/// so a spam ticket an agent reopened between the read and the delete was
/// deleted as spam. Now the change statement re-checks every column the
/// plan was made from: while an owner's transaction holds the reopening of
/// T-1003, the sweep's delete waits for it, then finds the row changed and
/// leaves it (not deleted, not audited); the next sweep plans it afresh
/// (an open ticket, not due).
#[test]
fn the_retention_sweep_leaves_a_ticket_changed_since_it_was_planned() {
    // The sweep's delete waiting for another transaction's row.
    const DELETE_WAITS: &str = "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) \
         WHERE NOT l.granted AND l.locktype = 'transactionid' AND starts_with(a.query, $1)";
    let rt = runtime();
    let fleet = rt.block_on(Fleet::start_with(1, true));
    let supervisor = fleet.token(ACME, &["supervisor"], "sue");
    rt.block_on(async {
        let mut reopening = fleet.admin.begin().await.unwrap();
        let reopened = query::<Postgres>(&format!(
            "UPDATE {}.tickets SET status = 'open' WHERE tenant_id = $1 AND id = 'T-1003' \
             AND status = 'spam'",
            fleet.schema
        ))
        .bind(tenant_id(ACME).as_uuid())
        .execute(&mut *reopening)
        .await
        .unwrap();
        assert_eq!(reopened.rows_affected(), 1);
        let sweeping = tokio::spawn({
            let (http, supervisor) = (fleet.http(0), supervisor.clone());
            async move {
                http.send(Method::POST, "/retention/sweep", Some(&supervisor), None)
                    .await
            }
        });
        fleet
            .wait_until(DELETE_WAITS, "DELETE FROM tickets", &sweeping)
            .await;
        reopening.commit().await.unwrap();
        let (status, done) = sweeping.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{done}");
        let planned = done["due"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == "T-1003" && d["action"] == "delete");
        assert!(planned, "the sweep read T-1003 as spam: {done}");
        assert!(
            !done["deleted"]
                .as_array()
                .unwrap()
                .contains(&json!("T-1003")),
            "{done}"
        );
        assert!(
            fleet.rows(ACME).await.iter().any(|(id, _)| id == "T-1003"),
            "the reopened ticket was deleted"
        );
        // The next sweep sees it open (idle for three months): not due.
        let (status, again) = fleet
            .http(0)
            .send(Method::POST, "/retention/sweep", Some(&supervisor), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert!(
            again["due"]
                .as_array()
                .unwrap()
                .iter()
                .all(|d| d["id"] != "T-1003"),
            "{again}"
        );
    });
    let deletes = fleet
        .audit_log()
        .query(
            &Query::new()
                .target("ticket", Some("T-1003".into()))
                .action(Action::Delete),
        )
        .unwrap();
    assert!(deletes.is_empty());
    rt.block_on(fleet.stop());
}

/// Found in review: the retention sweep deleted and anonymized a
/// restricted contact's due tickets (Art. 18(1)(b), (c): they must be kept
/// while restricted). Now Bob's due spam and idle ticket are kept and
/// listed as withheld for the restriction, Alice's due ticket is
/// anonymized, and once the restriction is lifted the next sweep deletes
/// and anonymizes Bob's.
#[test]
fn the_retention_sweep_keeps_a_restricted_contacts_due_tickets_until_lifted() {
    let rt = runtime();
    let fleet = rt.block_on(Fleet::start_with(1, true));
    let http = fleet.http(0);
    let supervisor = fleet.token(ACME, &["supervisor"], "sue");
    let dpo = fleet.token(ACME, &["dpo"], "dee");
    rt.block_on(async {
        let (status, bob) = http
            .get("/privacy/subjects?email=bob.li@example.org", &dpo)
            .await;
        assert_eq!(status, StatusCode::OK, "{bob}");
        let bob = bob[0].as_str().unwrap().to_owned();
        let run = |request: Value| {
            let body = json!({"subject": bob, "request": request,
                              "verification": "authenticated_session", "note": "portal"});
            let http = Http::new(http.addr);
            let dpo = dpo.clone();
            async move {
                let (status, request) = http
                    .json(Method::POST, "/privacy/requests", &dpo, body)
                    .await;
                assert_eq!(status, StatusCode::CREATED, "{request}");
                let path = format!("/privacy/requests/{}/run", request["id"].as_str().unwrap());
                let (status, done) = http.json(Method::POST, &path, &dpo, json!({})).await;
                assert_eq!(
                    (status, &done["state"]),
                    (StatusCode::OK, &json!("completed")),
                    "{done}"
                );
            }
        };
        let sweep = || async {
            let (status, done) = http
                .send(Method::POST, "/retention/sweep", Some(&supervisor), None)
                .await;
            assert_eq!(status, StatusCode::OK, "{done}");
            done
        };
        let ids = |v: &Value, key: &str| -> Vec<String> {
            v[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_str().unwrap().to_owned())
                .collect()
        };
        run(json!({"kind": "restriction"})).await;
        let before = fleet.rows(ACME).await;

        let done = sweep().await;
        assert_eq!(ids(&done, "deleted"), Vec::<String>::new(), "{done}");
        assert_eq!(ids(&done, "anonymized"), ["T-1001"], "{done}");
        let withheld: Vec<(&str, &str)> = done["withheld"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| (w["id"].as_str().unwrap(), w["action"].as_str().unwrap()))
            .collect();
        assert_eq!(
            withheld,
            [("T-1003", "delete"), ("T-1004", "anonymize")],
            "{done}"
        );
        for w in done["withheld"].as_array().unwrap() {
            assert_eq!(w["holds"], json!(["gdpr-art18-restriction"]), "{done}");
            assert!(
                w["reason"]
                    .as_str()
                    .unwrap()
                    .contains("restriction of processing (GDPR Art. 18)"),
                "{done}"
            );
        }
        assert_eq!(done["held"], 2, "{done}");
        let after = fleet.rows(ACME).await;
        for id in ["T-1003", "T-1004"] {
            let row = |rows: &[(String, String)]| rows.iter().find(|r| r.0 == id).cloned();
            assert_eq!(row(&after), row(&before));
            assert!(row(&after).is_some());
        }

        run(json!({"kind": "restriction", "lift": true})).await;
        let done = sweep().await;
        assert_eq!(ids(&done, "deleted"), ["T-1003"], "{done}");
        assert_eq!(ids(&done, "anonymized"), ["T-1004"], "{done}");
        assert_eq!(done["withheld"], json!([]), "{done}");
        assert_eq!(http.get("/tickets/T-1003", &supervisor).await, not_found());
    });
    // Deleted once, by the sweep after the lift.
    let deletes = fleet
        .audit_log()
        .query(
            &Query::new()
                .target("ticket", Some("T-1003".into()))
                .action(Action::Delete),
        )
        .unwrap();
    assert_eq!(deletes.len(), 1);
    rt.block_on(fleet.stop());
}

/// The breach register on PostgreSQL, across instances: an incident
/// recorded on one instance is notified on the other and listed on the
/// first; its id again is 409, and another tenant's officer gets 404.
#[test]
fn a_breach_recorded_on_one_instance_is_notified_on_the_other() {
    let rt = runtime();
    let fleet = rt.block_on(Fleet::start());
    let (a, b) = (fleet.http(0), fleet.http(1));
    let dpo = fleet.token(ACME, &["dpo"], "dee");
    let other = fleet.token(GLOBEX, &["dpo"], "gus");
    rt.block_on(async {
        let contact = custodia_dsr::breach::Contact {
            name: "DPO".into(),
            contact: "dpo@example.com".into(),
        };
        let incident = custodia_dsr::breach::Incident::new(
            custodia_core::Role::Controller,
            custodia_core::chrono::Utc::now(),
            "a laptop with exports was stolen",
            contact,
        );
        let id = incident.id.to_string();
        let incident = serde_json::to_value(&incident).unwrap();
        let (status, recorded) = a
            .json(Method::POST, "/privacy/breaches", &dpo, incident.clone())
            .await;
        assert_eq!(status, StatusCode::CREATED, "{recorded}");
        let (status, again) = b
            .json(Method::POST, "/privacy/breaches", &dpo, incident)
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{again}");
        let path = &format!("/privacy/breaches/{id}/notifications");
        let notice = json!({"recipient": {"to": "authority", "name": "OAIC"}});
        let (status, told) = b.json(Method::POST, path, &dpo, notice.clone()).await;
        assert_eq!(status, StatusCode::OK, "{told}");
        let (status, _) = b.json(Method::POST, path, &other, notice).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, listed) = a.get("/privacy/breaches", &dpo).await;
        assert_eq!(status, StatusCode::OK);
        let notes = &listed[0]["incident"]["notifications"];
        assert_eq!(notes.as_array().map(Vec::len), Some(1), "{listed}");
        assert_eq!(notes[0]["recipient"]["name"], "OAIC");
        assert_eq!(
            listed[0]["incident"]["description"],
            "a laptop with exports was stolen"
        );
        // One incident by id (`IncidentStore::get` on PostgreSQL): the
        // other tenant's officer gets the 404 of an id that exists nowhere.
        let one = format!("/privacy/breaches/{id}");
        let (status, got) = b.get(&one, &dpo).await;
        assert_eq!(status, StatusCode::OK, "{got}");
        assert_eq!(got["incident"], listed[0]["incident"]);
        let missing = format!("/privacy/breaches/{}", custodia_core::TenantId::random());
        let nowhere = a.get(&missing, &dpo).await;
        assert_eq!(nowhere.0, StatusCode::NOT_FOUND);
        assert_eq!(a.get(&one, &other).await, nowhere);
        assert_eq!(a.get("/privacy/breaches/not-an-id", &dpo).await, nowhere);
    });
    rt.block_on(fleet.stop());
}

/// Found in review: `POST /privacy/breaches` stored the incident before
/// the register audited it, so in that moment either instance could read
/// and notify it, and a notification reach the log ahead of the incident's
/// `BreachRecorded` event. Now, while that audit waits (a transaction of
/// the owner locks the log's records table), the incident is missing on
/// both instances: the 404 of an id that exists nowhere for a read and for
/// a notification, left out of the list; the same id posted on the other
/// instance waits for it, then is 409. An audit that fails (the
/// application role may no longer append to the log) leaves no row, for
/// the first `POST` and for the one that waited; the id is recorded once
/// the log takes events again.
#[test]
fn a_breach_being_audited_is_missing_on_both_instances_and_a_failed_audit_stores_nothing() {
    // The register's append (the sync client's one-record insert) waiting
    // for the records table `$1`.
    const APPEND_WAITS: &str = "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) \
         WHERE NOT l.granted AND l.locktype = 'relation' AND l.relation = to_regclass($1) \
         AND a.query LIKE 'INSERT INTO custodia_audit_records (log, idx, payload, crc) VALUES%'";
    // A statement starting `$1` waiting for another transaction's row.
    const ROW_WAITS: &str = "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) \
         WHERE NOT l.granted AND l.locktype = 'transactionid' AND starts_with(a.query, $1)";
    let rt = runtime();
    let fleet = rt.block_on(Fleet::start());
    let dpo = fleet.token(ACME, &["dpo"], "dee");
    rt.block_on(async {
        let app_role = env_url("CUSTODIA_PG_APP_URL")
            .parse::<sqlx_postgres::PgConnectOptions>()
            .unwrap()
            .get_username()
            .to_owned();
        let records = format!("{}.custodia_audit_records", fleet.schema);
        let rows = async |id: custodia_dsr::breach::IncidentId| -> i64 {
            query::<Postgres>(&format!(
                "SELECT count(*) FROM {}.breach_incidents WHERE id = $1",
                fleet.schema
            ))
            .bind(id.as_uuid())
            .fetch_one(&fleet.admin)
            .await
            .unwrap()
            .get(0)
        };
        for audit_fails in [false, true] {
            let incident = custodia_dsr::breach::Incident::new(
                custodia_core::Role::Controller,
                custodia_core::chrono::Utc::now(),
                "a laptop with exports was stolen",
                custodia_dsr::breach::Contact {
                    name: "DPO".into(),
                    contact: "dpo@example.com".into(),
                },
            );
            let id = incident.id;
            let body = serde_json::to_value(&incident).unwrap();
            let post = |i: usize| {
                let (http, dpo, body) = (fleet.http(i), dpo.clone(), body.clone());
                tokio::spawn(async move {
                    http.json(Method::POST, "/privacy/breaches", &dpo, body)
                        .await
                })
            };
            let mut holding = fleet.admin.begin().await.unwrap();
            raw_sql(&format!("LOCK TABLE {records} IN EXCLUSIVE MODE"))
                .execute(&mut *holding)
                .await
                .unwrap();
            let recording = post(0);
            fleet.wait_until(APPEND_WAITS, &records, &recording).await;
            assert!(!recording.is_finished());
            let missing = format!("/privacy/breaches/{}", custodia_core::TenantId::random());
            let one = format!("/privacy/breaches/{id}");
            let notice = json!({"recipient": {"to": "authority", "name": "OAIC"}});
            for http in [fleet.http(0), fleet.http(1)] {
                let nowhere = http.get(&missing, &dpo).await;
                assert_eq!(nowhere.0, StatusCode::NOT_FOUND, "{}", nowhere.1);
                assert_eq!(http.get(&one, &dpo).await, nowhere);
                let (status, listed) = http.get("/privacy/breaches", &dpo).await;
                assert_eq!(status, StatusCode::OK);
                assert!(
                    listed
                        .as_array()
                        .unwrap()
                        .iter()
                        .all(|i| i["incident"]["id"] != id.to_string()),
                    "{listed}"
                );
                let path = format!("{one}/notifications");
                let told = http.json(Method::POST, &path, &dpo, notice.clone()).await;
                assert_eq!(told, nowhere);
            }
            // The same id on the other instance waits for the first.
            let again = post(1);
            fleet
                .wait_until(ROW_WAITS, "INSERT INTO breach_incidents", &again)
                .await;
            if audit_fails {
                raw_sql(&format!("REVOKE INSERT ON {records} FROM {app_role}"))
                    .execute(&mut *holding)
                    .await
                    .unwrap();
            }
            holding.commit().await.unwrap();
            let (status, recorded) = recording.await.unwrap();
            let (again_status, again_body) = again.await.unwrap();
            if audit_fails {
                assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{recorded}");
                // It found no row once the first was rolled back, and its
                // own audit failed as well.
                assert_eq!(
                    again_status,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "{again_body}"
                );
                assert_eq!(rows(id).await, 0);
                raw_sql(&format!("GRANT INSERT ON {records} TO {app_role}"))
                    .execute(&fleet.admin)
                    .await
                    .unwrap();
                let (status, body) = post(1).await.unwrap();
                assert_eq!(status, StatusCode::CREATED, "{body}");
            } else {
                assert_eq!(status, StatusCode::CREATED, "{recorded}");
                assert_eq!(again_status, StatusCode::CONFLICT, "{again_body}");
            }
            assert_eq!(rows(id).await, 1);
            for http in [fleet.http(0), fleet.http(1)] {
                let (status, got) = http.get(&one, &dpo).await;
                assert_eq!(status, StatusCode::OK, "{got}");
            }
        }
    });
    // The log verifies: the refused appends left nothing in it.
    drop(fleet.audit_log());
    rt.block_on(fleet.stop());
}

/// Found in review: the tickets source refused restriction, so a
/// restriction request's run answered 500. Now it succeeds on one instance,
/// and on the other the contact's ticket is kept but not processed (no
/// read by an agent, change, deletion, summary, listing or search) while
/// another contact's is; the DPO still reads it, and lifting the
/// restriction (an objection to AI use afterwards) gives it back.
#[test]
fn a_restricted_contacts_ticket_is_kept_but_not_processed_until_lifted() {
    let rt = runtime();
    let fleet = rt.block_on(Fleet::start());
    let (a, b) = (fleet.http(0), fleet.http(1));
    let agent = fleet.token(ACME, &["agent"], "sam");
    let supervisor = fleet.token(ACME, &["supervisor"], "sue");
    let dpo = fleet.token(ACME, &["dpo"], "dee");
    rt.block_on(async {
        let (dana_ticket, dana) = a
            .create(&agent, "Printer jams", "Dana Lee", "dana@example.com")
            .await;
        let (bob_ticket, _) = a
            .create(&agent, "Laptop", "Bob Li", "bob@example.org")
            .await;
        let (status, done) = a
            .run_request(&dpo, &dana, json!({"kind": "restriction"}))
            .await;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert_eq!(done["state"], "completed", "{done}");
        let processing: String = query::<Postgres>(&format!(
            "SELECT processing FROM {}.tickets WHERE id = $1",
            fleet.schema
        ))
        .bind(&dana_ticket)
        .fetch_one(&fleet.admin)
        .await
        .unwrap()
        .get(0);
        assert_eq!(processing, "restricted");

        let dana_path = format!("/tickets/{dana_ticket}");
        let bob_path = format!("/tickets/{bob_ticket}");
        let patch = json!({"subject_line": "Printer fixed"});
        let refused = |(status, body): (StatusCode, Value)| {
            assert_eq!(status, StatusCode::CONFLICT, "{body}");
            assert!(
                body["message"].as_str().unwrap().contains("Art. 18"),
                "{body}"
            );
        };
        refused(
            b.json(Method::PATCH, &dana_path, &agent, patch.clone())
                .await,
        );
        refused(
            b.send(
                Method::POST,
                &format!("{dana_path}/summary"),
                Some(&agent),
                None,
            )
            .await,
        );
        refused(b.get(&dana_path, &agent).await);
        refused(
            b.send(Method::DELETE, &dana_path, Some(&supervisor), None)
                .await,
        );
        let (status, listed) = b.get("/tickets", &agent).await;
        assert_eq!(status, StatusCode::OK);
        let ids: Vec<&str> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [bob_ticket.as_str()]);
        let (_, found) = b.get("/tickets?email=dana@example.com", &agent).await;
        assert_eq!(found, json!([]));
        // Kept, unchanged; the DPO reads it and still finds the contact.
        assert!(
            fleet
                .rows(ACME)
                .await
                .contains(&(dana_ticket.clone(), "Printer jams".into()))
        );
        let (status, seen) = b.get(&dana_path, &dpo).await;
        assert_eq!(status, StatusCode::OK, "{seen}");
        let (_, subjects) = b
            .get("/privacy/subjects?email=dana@example.com", &dpo)
            .await;
        assert_eq!(subjects, json!([dana]));
        // Bob's ticket is processed as ever.
        let (status, changed) = b
            .json(Method::PATCH, &bob_path, &agent, patch.clone())
            .await;
        assert_eq!(status, StatusCode::OK, "{changed}");
        let (status, summary) = b
            .send(
                Method::POST,
                &format!("{bob_path}/summary"),
                Some(&agent),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{summary}");

        // Lifted (on the other instance): processed again, but for what
        // she then objects to.
        let (status, done) = b
            .run_request(&dpo, &dana, json!({"kind": "restriction", "lift": true}))
            .await;
        assert_eq!(status, StatusCode::OK, "{done}");
        let (status, objected) = a
            .run_request(
                &dpo,
                &dana,
                json!({"kind": "objection", "purposes": ["ai_assistance"]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{objected}");
        let (status, changed) = a.json(Method::PATCH, &dana_path, &agent, patch).await;
        assert_eq!(status, StatusCode::OK, "{changed}");
        let (status, listed) = a.get("/tickets", &agent).await;
        assert_eq!(
            (status, listed.as_array().unwrap().len()),
            (StatusCode::OK, 2)
        );
        let (status, body) = a
            .send(
                Method::POST,
                &format!("{dana_path}/summary"),
                Some(&agent),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(
            body["message"].as_str().unwrap().contains("Art. 21"),
            "{body}"
        );
    });
    rt.block_on(fleet.stop());
}

/// Found in review: a ticket created for a contact whose processing was
/// restricted was stored active: listed, searched and summarised as if
/// nothing were restricted (Art. 18(1), (3): the restriction covers their
/// data until lifted). Now it is accepted (201, `"processing":
/// "restricted"`) and withheld as her others are, another contact's new
/// ticket is active, the lift frees it; and a ticket created while her
/// restriction is landing (its transaction holding her lock, her tickets
/// restricted but not yet committed) waits for it and is stored restricted.
#[test]
fn a_ticket_created_for_a_restricted_contact_is_withheld_until_lifted() {
    let rt = runtime();
    let fleet = rt.block_on(Fleet::start());
    let (a, b) = (fleet.http(0), fleet.http(1));
    let agent = fleet.token(ACME, &["agent"], "sam");
    let dpo = fleet.token(ACME, &["dpo"], "dee");
    rt.block_on(async {
        let (_, dana) = a
            .create(&agent, "Printer jams", "Dana Lee", "dana@example.com")
            .await;
        let (bob_ticket, _) = a
            .create(&agent, "Laptop", "Bob Li", "bob@example.org")
            .await;
        let new_ticket = |line: &str, name: &str, email: &str| {
            json!({"subject_line": line, "name": name, "email": email, "body": "Hello"})
        };
        a.complete_request(&dpo, &dana, json!({"kind": "restriction"})).await;

        // Her new ticket (found by her email): stored, restricted.
        let (status, created) = b
            .json(
                Method::POST,
                "/tickets",
                &agent,
                new_ticket("Toner", "Dana Lee", "dana@example.com"),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["contact"], json!(dana), "{created}");
        assert_eq!(created["processing"], "restricted", "{created}");
        let dana_new = created["id"].as_str().unwrap().to_owned();
        let dana_path = format!("/tickets/{dana_new}");
        assert!(fleet.rows(ACME).await.contains(&(dana_new.clone(), "Toner".into())));
        // Bob's new ticket: active.
        let (status, created) = b
            .json(
                Method::POST,
                "/tickets",
                &agent,
                new_ticket("Mouse", "Bob Li", "bob@example.org"),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["processing"], "active", "{created}");
        let bob_new = created["id"].as_str().unwrap().to_owned();

        let ids = |listed: Value| -> BTreeSet<String> {
            listed
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_str().unwrap().to_owned())
                .collect()
        };
        let (status, listed) = a.get("/tickets", &agent).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(ids(listed), BTreeSet::from([bob_ticket.clone(), bob_new.clone()]));
        let (_, found) = a.get("/tickets?email=dana@example.com", &agent).await;
        assert_eq!(found, json!([]));
        let (status, body) = a.summarise(&agent, &dana_new).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(body["message"].as_str().unwrap().contains("Art. 18"), "{body}");
        assert_eq!(a.get(&dana_path, &agent).await.0, StatusCode::CONFLICT);
        let (status, body) = a.summarise(&agent, &bob_new).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        // Lifted: listed, summarised.
        b.complete_request(&dpo, &dana, json!({"kind": "restriction", "lift": true})).await;
        let (_, found) = a.get("/tickets?email=dana@example.com", &agent).await;
        assert_eq!(ids(found).len(), 2, "both of hers");
        let (status, body) = a.summarise(&agent, &dana_new).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        // Her restriction landing while a ticket is created for her.
        let (status, created) = fleet
            .create_while_landing(
                &a,
                &agent,
                &dana,
                "UPDATE tickets SET processing = 'restricted' WHERE tenant_id = $1 AND subject_id = $2",
                new_ticket("Paper", "Dana Lee", "dana@example.com"),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["processing"], "restricted", "{created}");
        let (_, found) = a.get("/tickets?email=dana@example.com", &agent).await;
        assert_eq!(found, json!([]));
    });
    rt.block_on(fleet.stop());
}

/// Found in review: a contact restricted while they had no ticket (the
/// desk located nothing) got an active first ticket, and an objection to
/// AI use stayed on the tickets of the day, so a new ticket was
/// summarised. Now the contact register keeps both: Carol, restricted
/// with no ticket, gets her first ticket (by contact key) stored
/// restricted, withheld until the lift; Erin, who objected with no ticket,
/// gets hers refused to the summariser (409, Art. 21); Bob's are processed
/// as ever; an erasure removes Erin's row; and a ticket created while a
/// restriction is landing (its transaction holding the contact's lock, the
/// register row written but not committed) waits and is stored
/// restricted, also when found by an email of a ticket that spells the
/// contact id another way. Carol's and Erin's access exports list their
/// register row (found in review: they did not).
#[test]
fn a_contact_restricted_or_objecting_with_no_ticket_covers_their_new_tickets() {
    let rt = runtime();
    let fleet = rt.block_on(Fleet::start());
    let (a, b) = (fleet.http(0), fleet.http(1));
    let agent = fleet.token(ACME, &["agent"], "sam");
    let dpo = fleet.token(ACME, &["dpo"], "dee");
    let contact = |key: &str| {
        custodia_core::SubjectId::from_external_key(tenant_id(ACME), "psa.contact", key).to_string()
    };
    let (carol, erin, fay) = (contact("2001"), contact("2002"), contact("2003"));
    rt.block_on(async {
        let registered = |subject: String| {
            let (admin, schema) = (fleet.admin.clone(), fleet.schema.clone());
            async move {
                query::<Postgres>(&format!(
                    "SELECT processing, objections FROM {schema}.contact_processing \
                     WHERE subject_id = $1"
                ))
                .bind(subject)
                .fetch_optional(&admin)
                .await
                .unwrap()
                .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1)))
            }
        };
        let create = |http: &Http, key: &str| {
            let (http, agent) = (Http::new(http.addr), agent.clone());
            let body = json!({"subject_line": "Toner", "name": "Someone",
                              "email": format!("c{key}@example.com"), "body": "Hello",
                              "contact_key": key});
            async move {
                let (status, created) = http.json(Method::POST, "/tickets", &agent, body).await;
                assert_eq!(status, StatusCode::CREATED, "{created}");
                created
            }
        };
        let (bob_ticket, _) = a
            .create(&agent, "Laptop", "Bob Li", "bob@example.org")
            .await;

        // Carol: restricted with no ticket.
        a.complete_request(&dpo, &carol, json!({"kind": "restriction"}))
            .await;
        assert_eq!(
            registered(carol.clone()).await,
            Some(("restricted".into(), String::new()))
        );
        // Her access export (Art. 15) lists the register row, on either
        // instance: before, it had no record at all.
        let (status, bundle) = b.run_request(&dpo, &carol, json!({"kind": "access"})).await;
        assert_eq!(status, StatusCode::OK, "{bundle}");
        assert_eq!(
            bundle["records"],
            json!([{"source": "tickets", "record_type": "contact_register", "id": carol,
                    "legal_basis": "legal_obligation",
                    "fields": [
                        {"name": "processing", "category": "user.account.settings",
                         "value": "restricted", "provided_by_subject": false},
                        {"name": "objections", "category": "user.account.settings",
                         "value": "", "provided_by_subject": false}]}]),
            "{bundle}"
        );
        let created = create(&b, "2001").await;
        assert_eq!(
            (&created["contact"], &created["processing"]),
            (&json!(carol), &json!("restricted")),
            "{created}"
        );
        let carol_ticket = created["id"].as_str().unwrap().to_owned();
        let (status, listed) = b.get("/tickets", &agent).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
        assert_eq!(listed[0]["id"], json!(bob_ticket));
        let (status, body) = b.summarise(&agent, &carol_ticket).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(
            body["message"].as_str().unwrap().contains("Art. 18"),
            "{body}"
        );
        // Lifted: listed, summarised, no row left.
        b.complete_request(&dpo, &carol, json!({"kind": "restriction", "lift": true}))
            .await;
        assert_eq!(registered(carol.clone()).await, None);
        let (_, listed) = a.get("/tickets", &agent).await;
        assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
        let (status, body) = a.summarise(&agent, &carol_ticket).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        // Erin: objected to AI use with no ticket.
        a.complete_request(
            &dpo,
            &erin,
            json!({"kind": "objection", "purposes": ["ai_assistance"]}),
        )
        .await;
        assert_eq!(
            registered(erin.clone()).await,
            Some(("active".into(), "ai_assistance".into()))
        );
        let (status, bundle) = a.run_request(&dpo, &erin, json!({"kind": "access"})).await;
        assert_eq!(status, StatusCode::OK, "{bundle}");
        assert_eq!(
            bundle["records"][0]["fields"][1]["value"], "ai_assistance",
            "{bundle}"
        );
        let created = create(&b, "2002").await;
        assert_eq!(created["processing"], "active", "{created}");
        let erin_ticket = created["id"].as_str().unwrap().to_owned();
        let (status, body) = a.summarise(&agent, &erin_ticket).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(
            body["message"].as_str().unwrap().contains("Art. 21"),
            "{body}"
        );
        let (status, seen) = a.get(&format!("/tickets/{erin_ticket}"), &agent).await;
        assert_eq!(status, StatusCode::OK, "{seen}");
        let (status, body) = a.summarise(&agent, &bob_ticket).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // Her erasure removes the row.
        let (status, certificate) = b.run_request(&dpo, &erin, json!({"kind": "erasure"})).await;
        assert_eq!(status, StatusCode::OK, "{certificate}");
        assert_eq!(certificate["subject"], json!(erin), "{certificate}");
        assert_eq!(registered(erin.clone()).await, None);

        // Fay's restriction landing while a ticket is created for her.
        let (status, created) = fleet
            .create_while_landing(
                &a,
                &agent,
                &fay,
                "INSERT INTO contact_processing (tenant_id, subject_id, processing) \
                 VALUES ($1, $2, 'restricted')",
                json!({"subject_line": "Toner", "name": "Someone",
                       "email": "c2003@example.com", "body": "Hello", "contact_key": "2003"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["processing"], "restricted", "{created}");

        // Gus's stored ticket spells his contact id in capitals (as another
        // writer may): a ticket found by his email still waits for his
        // landing restriction (its lock is keyed by the id as parsed, as
        // the desk's is, not as stored) and is stored restricted.
        let gus = contact("2004");
        create(&a, "2004").await;
        query::<Postgres>(&format!(
            "UPDATE {}.tickets SET subject_id = upper(subject_id) WHERE subject_id = $1",
            fleet.schema
        ))
        .bind(&gus)
        .execute(&fleet.admin)
        .await
        .unwrap();
        let (status, created) = fleet
            .create_while_landing(
                &a,
                &agent,
                &gus,
                "INSERT INTO contact_processing (tenant_id, subject_id, processing) \
                 VALUES ($1, $2, 'restricted')",
                json!({"subject_line": "Toner", "name": "Someone",
                       "email": "c2004@example.com", "body": "Hello"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(
            (&created["contact"], &created["processing"]),
            (&json!(gus), &json!("restricted")),
            "{created}"
        );
    });
    rt.block_on(fleet.stop());
}

/// Found in review: every tenant's auditor got the shared log's size and
/// root (from `/audit/verify` and `/audit/checkpoint`), i.e. how much the
/// other tenants did. Now a tenant's auditor gets no checkpoint (403) and a
/// verdict with their own tenant's event count only, the same answer
/// however busy another tenant is; the operator still gets the figures.
#[test]
fn a_tenant_auditor_learns_nothing_of_other_tenants_activity() {
    let rt = runtime();
    let fleet = rt.block_on(Fleet::start());
    let (a, b) = (fleet.http(0), fleet.http(1));
    let auditor = fleet.token(ACME, &["auditor"], "ada");
    let operator = fleet.token(ACME, &["operator"], "ops");
    let (acme, globex) = (
        fleet.token(ACME, &["agent"], "sam"),
        fleet.token(GLOBEX, &["agent"], "kim"),
    );
    let counted = rt.block_on(async {
        a.create(&acme, "before", "Ann Bell", "ann@example.com")
            .await;
        let (status, refused) = a
            .send(Method::POST, "/audit/checkpoint", Some(&auditor), None)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
        let (status, note) = a
            .send(Method::POST, "/audit/checkpoint", Some(&operator), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{note}");
        let note = note["note"].as_str().unwrap().to_owned();

        let verify = |http: &Http, body: Value| {
            let (http, auditor) = (Http::new(http.addr), auditor.clone());
            async move {
                let (status, report) = http
                    .json(Method::POST, "/audit/verify", &auditor, body)
                    .await;
                assert_eq!(status, StatusCode::OK, "{report}");
                report
            }
        };
        let before = verify(&a, json!({})).await;
        assert_eq!(before["ok"], true, "{before}");
        let keys: BTreeSet<&str> = before
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, BTreeSet::from(["ok", "tenant_events"]), "{before}");
        let count = before["tenant_events"].as_u64().unwrap();
        // GLOBEX gets busy, on both instances: ACME's count grows by its
        // auditor's own verifications (each is audited), nothing else.
        for i in 0..3 {
            b.create(
                &globex,
                &format!("globex {i}"),
                "Di Ely",
                "di@example.co.uk",
            )
            .await;
            a.create(
                &globex,
                &format!("globex {i}"),
                "Di Ely",
                "di@example.co.uk",
            )
            .await;
        }
        for (n, http) in [&a, &b].into_iter().enumerate() {
            let n = u64::try_from(n).unwrap();
            assert_eq!(
                verify(http, json!({})).await,
                json!({"ok": true, "tenant_events": count + n + 1})
            );
        }
        let against = verify(&b, json!({"checkpoint": note})).await;
        assert_eq!(
            against,
            json!({"ok": true, "tenant_events": count + 3, "checkpoint": "extended"})
        );
        // The operator's answer has the figures, GLOBEX's events in them.
        let (status, full) = b
            .json(Method::POST, "/audit/verify", &operator, json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{full}");
        assert!(
            full["size"].as_u64().unwrap() > before["tenant_events"].as_u64().unwrap() + 6,
            "{full}"
        );
        before["tenant_events"].as_u64().unwrap()
    });
    // The count is ACME's own events in the log.
    let log = fleet.audit_log();
    let acme_events = log.query(&Query::new().tenant(tenant_id(ACME))).unwrap();
    // Each verify (and refused checkpoint) is itself an ACME event, after the count.
    assert!(
        counted >= 1 && counted as usize <= acme_events.len(),
        "{counted}"
    );
    let first_verify = acme_events
        .iter()
        .position(|(_, e)| e.target.id == "/audit/verify")
        .unwrap();
    assert_eq!(counted as usize, first_verify);
    rt.block_on(fleet.stop());
}

/// The server's schema passes custodia-tenant's isolation lint, as a host
/// would run it in CI against its migrated database: every tenant table
/// (tickets, DSR requests, breach incidents) is clean; the one table it
/// reports is the id router `ticket_tenants` (ticket id to tenant, no
/// content), which is global by design: the app role inserts a row per
/// ticket so ids stay unique across tenants.
#[test]
fn the_schema_passes_the_isolation_lint_but_for_the_id_router() {
    let rt = runtime();
    let mut fleet = rt.block_on(Fleet::start_with(1, false));
    let lint = |fleet: &Fleet| {
        rt.block_on(async {
            let app = PgPoolOptions::new()
                .max_connections(1)
                .connect(&env_url("CUSTODIA_PG_APP_URL"))
                .await
                .unwrap();
            let role: String = query::<Postgres>("SELECT current_user::text")
                .fetch_one(&app)
                .await
                .unwrap()
                .get(0);
            let options =
                custodia_tenant::LintOptions::new(&role).schemas(&[fleet.schema.as_str()]);
            custodia_tenant::sqlx_lint(&fleet.admin, &options)
                .await
                .unwrap()
        })
    };
    let clean_but_for_the_router = |report: custodia_tenant::LintReport, s: &str| {
        for table in [
            "tickets",
            "contact_processing",
            "dsr_requests",
            "breach_incidents",
        ] {
            let name = format!("{s}.{table}");
            assert!(report.checked.contains(&name), "{report:?}");
            assert_eq!(report.about(&name).count(), 0, "{report:?}");
        }
        let router = format!("{s}.ticket_tenants");
        assert!(
            report
                .findings
                .contains(&custodia_tenant::LintFinding::RlsDisabled {
                    table: router.clone()
                }),
            "{report:?}"
        );
        assert_eq!(
            report.about(&router).count(),
            report.findings.len(),
            "only the router is reported: {report:?}"
        );
    };
    clean_but_for_the_router(lint(&fleet), &fleet.schema);

    // A schema made before the contact register existed gains it, under
    // row-level security, when a server starts on it.
    rt.block_on(
        raw_sql(&format!("DROP TABLE {}.contact_processing", fleet.schema)).execute(&fleet.admin),
    )
    .unwrap();
    fleet
        .instances
        .push(spawn(&fleet.schema, fleet.dir.path(), "server-late", false));
    clean_but_for_the_router(lint(&fleet), &fleet.schema);
    rt.block_on(fleet.stop());
}

/// The calls README's helpdesk-server section and the route table show
/// that no other test drives: `/health` without a token, `/me`, `/roles`,
/// `/agents`, and the blind-index search by an email typed in another case
/// (`?email=ALICE.NG@example.com`).
#[test]
fn the_documented_calls_answer_as_the_readme_shows() {
    let rt = runtime();
    let fleet = rt.block_on(Fleet::start_with(1, true));
    let http = fleet.http(0);
    let agent = fleet.token(ACME, &["agent"], "sam");
    rt.block_on(async {
        let (status, health) = http.send(Method::GET, "/health", None, None).await;
        assert_eq!(status, StatusCode::OK, "{health}");
        assert_eq!(health["status"], "ok", "{health}");
        assert!(health["staleness_bound_ms"].is_u64(), "{health}");

        // The tenant, the roles, and what each ticket field shows the caller.
        let (status, me) = http.get("/me", &agent).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(me["billing_account"], ACME, "{me}");
        assert_eq!(me["roles"], json!(["agent"]), "{me}");
        assert_eq!(me["others_ticket"]["fields"]["phone"], "hidden", "{me}");
        assert_eq!(me["own_ticket"]["fields"]["email"], "read", "{me}");

        let (status, roles) = http.get("/roles", &agent).await;
        assert_eq!(status, StatusCode::OK, "{roles}");
        assert!(roles.to_string().contains("supervisor"), "{roles}");

        let (status, agents) = http.get("/agents", &agent).await;
        assert_eq!(status, StatusCode::OK, "{agents}");
        let agents = agents.as_array().unwrap();
        assert!(!agents.is_empty());
        assert!(agents.iter().all(|a| a["agent"].is_string()
            && a["tickets"].as_u64().unwrap() >= a["open"].as_u64().unwrap()));

        // The search normalises the address before the blind index.
        let (status, typed) = http
            .get("/tickets?email=ALICE.NG@example.com", &agent)
            .await;
        assert_eq!(status, StatusCode::OK, "{typed}");
        let (_, lower) = http
            .get("/tickets?email=alice.ng@example.com", &agent)
            .await;
        assert!(!typed.as_array().unwrap().is_empty(), "{typed}");
        assert_eq!(typed, lower);
    });
    rt.block_on(fleet.stop());
}
