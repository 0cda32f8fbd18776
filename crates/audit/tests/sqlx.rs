//! The async PostgreSQL store and log (feature `sqlx`) against a real
//! server, cross-checked with the sync store and `AuditLog` (feature
//! `postgres`). Needs
//! `CUSTODIA_PG_ADMIN_URL` and `CUSTODIA_PG_APP_URL` (`scripts/postgres`
//! exports them); without them the tests fail, never skip.
#![cfg(all(feature = "sqlx", feature = "postgres"))]

use std::sync::Arc;

use custodia_audit::store::PostgresStore;
use custodia_audit::{
    Action, Actor, ActorKind, AsyncAuditLog, AuditLog, AuditStore, Error, Event, Query,
    SqlxAuditStore, Target, checkpoint, merkle,
};
use custodia_core::{ActorId, SubjectId, SystemClock, TenantId};
use custodia_crypt::{AsyncKeyring, AsyncSubjectVault, DataKeyMode, MemoryKeyStore, SecretKey};
use sqlx_postgres::{PgPool, PgPoolOptions};

const TASKS: u32 = 8;
const PER_TASK: u32 = 25;
const SYNC_APPENDS: u32 = 20;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run `scripts/postgres cargo test -p custodia-audit --all-features --test sqlx`, which starts a server and exports it"
        )
    })
}

async fn pool(var: &str, max: u32) -> PgPool {
    PgPoolOptions::new()
        .max_connections(max)
        .connect(&env(var))
        .await
        .unwrap_or_else(|e| panic!("cannot connect with {var}: {e}"))
}

fn event(writer: &str, n: u32) -> Event {
    let tenant = TenantId::from_external_key("crm", "ACME");
    Event::builder(
        tenant,
        Actor::new(
            ActorKind::System,
            ActorId::from_external_key(tenant, "writer", writer),
        ),
        Action::Create,
        Target::new(format!("writer-{writer}"), n.to_string()).unwrap(),
    )
    .build(&SystemClock)
    .unwrap()
}

/// A fresh log name, with the tables created and granted to the app role.
async fn fresh_log(prefix: &str) -> String {
    let admin = pool("CUSTODIA_PG_ADMIN_URL", 1).await;
    SqlxAuditStore::migrate(&admin).await.unwrap();
    SqlxAuditStore::grant(&admin, "custodia_app").await.unwrap();
    admin.close().await;
    format!("{prefix}-{}", custodia_core::uuid::Uuid::new_v4())
}

/// An async log on its own pool of `max` connections, as a server has.
async fn open_log(log: &str, max: u32) -> Arc<AsyncAuditLog> {
    let store = SqlxAuditStore::new(pool("CUSTODIA_PG_APP_URL", max).await, log).unwrap();
    Arc::new(AsyncAuditLog::open(Arc::new(store)).await.unwrap())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn concurrent_tasks_and_writers_keep_one_gap_free_log_that_verifies() {
    let rt = runtime();
    let log = format!("sqlx-{}", custodia_core::uuid::Uuid::new_v4());
    rt.block_on(async {
        let admin = pool("CUSTODIA_PG_ADMIN_URL", 1).await;
        SqlxAuditStore::migrate(&admin).await.unwrap();
        SqlxAuditStore::grant(&admin, "custodia_app").await.unwrap();
        admin.close().await;
    });

    // A sync writer in another thread, racing the async ones on the same log.
    let sync_writer = {
        let log = log.clone();
        std::thread::spawn(move || {
            let store = PostgresStore::connect(&env("CUSTODIA_PG_APP_URL"), &log).unwrap();
            let mut audit = AuditLog::open(store).unwrap();
            for n in 0..SYNC_APPENDS {
                audit.append(&event("sync", n)).unwrap();
            }
        })
    };

    let (first_store_heads, batches) = rt.block_on(async {
        // Two async stores (as two processes would have), one pool each.
        let a = Arc::new(SqlxAuditStore::new(pool("CUSTODIA_PG_APP_URL", 4).await, &log).unwrap());
        let b = Arc::new(SqlxAuditStore::new(pool("CUSTODIA_PG_APP_URL", 2).await, &log).unwrap());
        let mut set = tokio::task::JoinSet::new();
        for task in 0..TASKS {
            let store = if task % 2 == 0 { a.clone() } else { b.clone() };
            set.spawn(async move {
                let writer = format!("task{task}");
                let mut indexes = Vec::new();
                for n in 0..PER_TASK {
                    if n % 5 == 0 {
                        // A batch of two: contiguous indexes.
                        let first = store
                            .append_batch(&[event(&writer, n), event(&writer, n + 1)])
                            .await
                            .unwrap();
                        indexes.push(first);
                        indexes.push(first + 1);
                    } else if n % 5 == 1 {
                        continue;
                    } else {
                        indexes.push(store.append(&event(&writer, n)).await.unwrap());
                    }
                }
                indexes
            });
        }
        let mut all = Vec::new();
        while let Some(joined) = set.join_next().await {
            let indexes = joined.unwrap();
            // A task's own appends land in its order.
            assert!(indexes.windows(2).all(|w| w[0] < w[1]), "{indexes:?}");
            all.extend(indexes);
        }
        all.sort_unstable();
        all.dedup();
        assert_eq!(
            all.len(),
            (TASKS * PER_TASK) as usize,
            "two appends got one index"
        );
        a.catch_up().await.unwrap();
        (a.head().await, all)
    });
    sync_writer.join().unwrap();
    let total = u64::from(TASKS * PER_TASK + SYNC_APPENDS);
    assert!(batches.iter().all(|&i| i < total));

    // The sync verifier: no gap, every checksum, every head any writer recorded.
    let store = PostgresStore::connect(&env("CUSTODIA_PG_APP_URL"), &log).unwrap();
    let audit = AuditLog::open(store).unwrap();
    assert_eq!(audit.len(), total);
    let anchors = audit.store().anchors().unwrap();
    for anchor in &anchors {
        assert_eq!(
            audit.tree().root_at(anchor.head.size).unwrap(),
            anchor.head.root
        );
    }
    // Group commit: never more heads than appends (one per transaction).
    assert!(anchors.len() as u64 <= total);
    // The async store's view of the tree is a prefix of the verified one.
    assert!(first_store_heads.size <= total);
    assert_eq!(
        audit.tree().root_at(first_store_heads.size).unwrap(),
        first_store_heads.root
    );
    for task in 0..TASKS {
        let writer = format!("task{task}");
        let found: Vec<String> = audit
            .query(&Query::new().target(format!("writer-{writer}"), None))
            .unwrap()
            .into_iter()
            .map(|(_, e)| e.target.id)
            .collect();
        let want: Vec<String> = (0..PER_TASK).map(|n| n.to_string()).collect();
        assert_eq!(found, want, "{writer}");
    }
    let sync_found = audit
        .query(&Query::new().target("writer-sync", None))
        .unwrap()
        .len();
    assert_eq!(sync_found, SYNC_APPENDS as usize);
}

#[test]
fn bad_input_appends_nothing_and_removed_records_are_detected() {
    let rt = runtime();
    let log = format!("sqlx-bad-{}", custodia_core::uuid::Uuid::new_v4());
    rt.block_on(async {
        let admin = pool("CUSTODIA_PG_ADMIN_URL", 1).await;
        SqlxAuditStore::migrate(&admin).await.unwrap();
        SqlxAuditStore::grant(&admin, "custodia_app").await.unwrap();
        let store = SqlxAuditStore::new(pool("CUSTODIA_PG_APP_URL", 2).await, &log).unwrap();
        assert!(SqlxAuditStore::new(admin.clone(), "").is_err());
        assert_eq!(store.append(&event("w", 0)).await.unwrap(), 0);
        assert!(store.append_encoded(&[b"not an event"]).await.is_err());
        assert_eq!(store.append(&event("w", 1)).await.unwrap(), 1);
        assert_eq!(store.head().await.size, 2);

        // The owner deletes the last record: the next append refuses.
        sqlx_core::query::query::<sqlx_postgres::Postgres>(
            "DELETE FROM custodia_audit_records WHERE log = $1 AND idx = 1",
        )
        .bind(&log)
        .execute(&admin)
        .await
        .unwrap();
        let err = store.append(&event("w", 2)).await.unwrap_err();
        assert!(err.to_string().contains("records were removed"), "{err}");
        admin.close().await;
    });
}

/// What a multi-threaded runtime needs, checked at compile time.
#[test]
fn the_store_and_its_futures_are_send_and_sync() {
    fn send<T: Send>(_: &T) {}
    fn send_sync<T: Send + Sync>() {}
    send_sync::<SqlxAuditStore>();
    send_sync::<AsyncAuditLog>();
    let rt = runtime();
    rt.block_on(async {
        let pool = PgPoolOptions::new()
            .connect_lazy("postgres://localhost/x")
            .unwrap();
        let store = SqlxAuditStore::new(pool, "log").unwrap();
        let e = event("w", 0);
        let append = store.append(&e);
        send(&append);
        drop(append);
        let catch_up = store.catch_up();
        send(&catch_up);
        drop(catch_up);
        let log = AsyncAuditLog::open(Arc::new(store));
        send(&log);
    });
}

#[test]
fn async_logs_on_two_pools_stay_gap_free_verify_and_extend_an_earlier_checkpoint() {
    runtime().block_on(async {
        let name = fresh_log("async-log").await;
        let (a, b) = (open_log(&name, 4).await, open_log(&name, 2).await);
        let signer = checkpoint::Signer::generate("audit.example.com/fleet").unwrap();
        a.append_batch(&[event("a", 0), event("a", 1), event("a", 2)])
            .await
            .unwrap();
        let note = a
            .checkpoint("audit.example.com/fleet", &signer)
            .await
            .unwrap();
        let trusted =
            checkpoint::open(&note, &signer.verifier(), "audit.example.com/fleet").unwrap();
        assert_eq!(trusted.size, 3);

        let mut set = tokio::task::JoinSet::new();
        for task in 0..TASKS {
            let log = if task % 2 == 0 { a.clone() } else { b.clone() };
            set.spawn(async move {
                let writer = format!("t{task}");
                let mut indexes = Vec::new();
                for n in (0..PER_TASK).step_by(2) {
                    let first = if n % 4 == 0 {
                        log.append_batch(&[event(&writer, n), event(&writer, n + 1)])
                            .await
                            .unwrap()
                    } else {
                        let first = log.append(&event(&writer, n)).await.unwrap();
                        indexes.push(log.append(&event(&writer, n + 1)).await.unwrap());
                        first
                    };
                    indexes.push(first);
                    if n % 4 == 0 {
                        indexes.push(first + 1);
                    }
                }
                indexes
            });
        }
        let mut indexes = vec![0, 1, 2];
        while let Some(joined) = set.join_next().await {
            indexes.extend(joined.unwrap());
        }
        indexes.sort_unstable();
        let total = indexes.len() as u64;
        // Every append got its own index, and together they leave no gap.
        assert_eq!(indexes, (0..total).collect::<Vec<_>>());

        // Both views catch up to the same verified head, which extends the
        // checkpoint taken before the writers ran.
        a.catch_up().await.unwrap();
        b.catch_up().await.unwrap();
        let head = a.head().await;
        assert_eq!(head.size, total);
        assert_eq!(b.head().await, head);
        a.check_checkpoint("audit.example.com/fleet", &trusted)
            .await
            .unwrap();
        let proof = b.consistency_proof(trusted.size).await.unwrap();
        merkle::verify_consistency(trusted.size, head.size, &trusted.root, &head.root, &proof)
            .unwrap();
        let inclusion = b.prove(total - 1).await.unwrap();
        inclusion
            .verify_event(&b.get(total - 1).await.unwrap())
            .unwrap();

        // A fresh verifier with its own pool agrees, from the first record.
        let report = AsyncAuditLog::verify(
            pool("CUSTODIA_PG_APP_URL", 1).await,
            &name,
            Some(("audit.example.com/fleet", &trusted)),
        )
        .await
        .unwrap();
        assert_eq!(report.head, head);
        // And so does the sync log, which reads the same tables.
        let sync_head = tokio::task::spawn_blocking(move || {
            let store = PostgresStore::connect(&env("CUSTODIA_PG_APP_URL"), &name).unwrap();
            AuditLog::open(store).unwrap().head()
        })
        .await
        .unwrap();
        assert_eq!(sync_head, head);
    });
}

#[test]
fn the_async_log_refuses_clear_personal_values_and_seals_them_with_the_async_vault() {
    runtime().block_on(async {
        let name = fresh_log("async-sealed").await;
        let log = open_log(&name, 2).await;
        let with_ip = read_with_clear_ip();
        let err = log.append(&with_ip).await.unwrap_err();
        assert!(matches!(err, Error::ClearPersonalData { .. }), "{err}");
        assert_eq!(log.len().await, 0, "a refused event appended something");

        let keyring = AsyncKeyring::from_store(
            MemoryKeyStore::default(),
            SecretKey::generate().unwrap(),
            DataKeyMode::Random,
        )
        .await
        .unwrap();
        let vault =
            AsyncSubjectVault::new(&keyring, MemoryKeyStore::default(), Arc::new(SystemClock));
        let index = log.append_sealed(&vault, with_ip.clone()).await.unwrap();
        let stored = log.get(index).await.unwrap();
        assert!(stored.actor.ip.as_ref().is_some_and(|ip| ip.is_sealed()));
        assert_ne!(stored, with_ip);
    });
}

#[test]
fn a_changed_record_or_head_and_a_forked_checkpoint_are_reported() {
    runtime().block_on(async {
        let name = fresh_log("async-tamper").await;
        let log = open_log(&name, 2).await;
        for n in 0..4 {
            log.append(&event("w", n)).await.unwrap();
        }
        let signer = checkpoint::Signer::generate("audit.example.com/t").unwrap();
        let verifier = signer.verifier();
        let good = checkpoint::open(
            &log.checkpoint("audit.example.com/t", &signer)
                .await
                .unwrap(),
            &verifier,
            "audit.example.com/t",
        )
        .unwrap();
        // A checkpoint of another log of the same size: a fork.
        let other = open_log(&fresh_log("async-other").await, 1).await;
        for n in 0..4 {
            other.append(&event("x", n)).await.unwrap();
        }
        let forked = checkpoint::open(
            &other
                .checkpoint("audit.example.com/t", &signer)
                .await
                .unwrap(),
            &verifier,
            "audit.example.com/t",
        )
        .unwrap();
        let err = log
            .check_checkpoint("audit.example.com/t", &forked)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Forked { size: 4 }), "{err}");

        let admin = pool("CUSTODIA_PG_ADMIN_URL", 1).await;
        let set_root = |root: Vec<u8>| {
            let (admin, name) = (admin.clone(), name.clone());
            async move {
                sqlx_core::query::query::<sqlx_postgres::Postgres>(
                    "UPDATE custodia_audit_heads SET root = $2 WHERE log = $1 AND size = 4",
                )
                .bind(&name)
                .bind(root)
                .execute(&admin)
                .await
                .unwrap();
            }
        };
        // The owner rewrites a recorded head: a fresh open reports it.
        set_root(vec![7; 32]).await;
        let err = AsyncAuditLog::verify(admin.clone(), &name, Some(("audit.example.com/t", &good)))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Tampered { .. }), "{err}");
        set_root(good.root.to_vec()).await;
        AsyncAuditLog::verify(admin.clone(), &name, Some(("audit.example.com/t", &good)))
            .await
            .unwrap();
        // A record rewritten with a fitting checksum: its leaf no longer
        // matches what the open log read, nor the recorded heads.
        let replacement = custodia_audit::canonical::encode(&event("w", 99));
        sqlx_core::query::query::<sqlx_postgres::Postgres>(
            "UPDATE custodia_audit_records SET payload = $2, crc = $3 WHERE log = $1 AND idx = 1",
        )
        .bind(&name)
        .bind(&replacement)
        .bind(record_crc(1, &replacement))
        .execute(&admin)
        .await
        .unwrap();
        let err = log.get(1).await.unwrap_err();
        assert!(err.to_string().contains("changed"), "{err}");
        let err = AsyncAuditLog::verify(admin.clone(), &name, None)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Tampered { .. }), "{err}");
        admin.close().await;
    });
}

/// The stored checksum (`pgsql::crc`): CRC-32 of the index and payload.
fn record_crc(index: u64, payload: &[u8]) -> i64 {
    let mut h = crc32fast::Hasher::new();
    h.update(&index.to_be_bytes());
    h.update(payload);
    i64::from(h.finalize())
}

/// A read of contact 1's data by an agent, the agent's IP in the clear.
fn read_with_clear_ip() -> Event {
    let tenant = TenantId::from_external_key("crm", "ACME");
    Event::builder(
        tenant,
        Actor::new(
            ActorKind::Agent,
            ActorId::from_external_key(tenant, "user", "7"),
        )
        .with_ip("203.0.113.7"),
        Action::Read,
        Target::new("contact", "1").unwrap(),
    )
    .subject(SubjectId::from_external_key(tenant, "contact", "1"))
    .build(&SystemClock)
    .unwrap()
}

/// Staged events of log `log` still in the outbox.
async fn staged_count(pool: &PgPool, log: &str) -> i64 {
    use sqlx_core::row::Row as _;
    sqlx_core::query::query::<sqlx_postgres::Postgres>(
        "SELECT count(*) FROM custodia_audit_outbox WHERE log = $1",
    )
    .bind(log)
    .fetch_one(pool)
    .await
    .unwrap()
    .get(0)
}

/// Stages `event` in a transaction of `pool` and commits or rolls it back.
async fn stage_in_transaction(log: &AsyncAuditLog, pool: &PgPool, event: &Event, commit: bool) {
    let mut tx = pool.begin().await.unwrap();
    log.stage(&mut tx, event).await.unwrap();
    if commit {
        tx.commit().await.unwrap();
    } else {
        tx.rollback().await.unwrap();
    }
}

#[test]
fn staged_events_reach_the_log_only_when_their_transaction_commits() {
    runtime().block_on(async {
        let name = fresh_log("staged").await;
        let app = pool("CUSTODIA_PG_APP_URL", 2).await;
        let log = open_log(&name, 2).await;
        stage_in_transaction(&log, &app, &event("staged", 1), true).await;
        stage_in_transaction(&log, &app, &event("staged", 2), false).await;
        log.append(&event("direct", 0)).await.unwrap();
        stage_in_transaction(&log, &app, &event("staged", 3), true).await;
        assert_eq!(log.len().await, 1, "staged events are not in the log yet");
        assert_eq!(
            staged_count(&app, &name).await,
            2,
            "the rolled-back one is gone"
        );

        // Another process drains: the committed ones, oldest first.
        let other = open_log(&name, 2).await;
        assert_eq!(other.drain().await.unwrap(), 2);
        assert_eq!(other.drain().await.unwrap(), 0);
        assert_eq!(log.catch_up().await.unwrap(), 2);
        let mut targets = Vec::new();
        for i in 0..3 {
            targets.push(log.get(i).await.unwrap().target);
        }
        let expected = [("direct", 0), ("staged", 1), ("staged", 3)]
            .map(|(writer, n)| event(writer, n).target);
        assert_eq!(targets, expected);
        AsyncAuditLog::verify(app.clone(), &name, None)
            .await
            .unwrap();

        // Clear personal values are refused at staging, as at appending.
        let clear = read_with_clear_ip();
        let mut tx = app.begin().await.unwrap();
        let err = log.stage(&mut tx, &clear).await.unwrap_err();
        assert!(matches!(err, Error::ClearPersonalData { .. }), "{err}");
        tx.commit().await.unwrap();
        assert_eq!(staged_count(&app, &name).await, 0);
    });
}

#[test]
fn a_staged_row_that_is_not_an_event_is_reported_and_left_in_place() {
    runtime().block_on(async {
        let name = fresh_log("staged-junk").await;
        let app = pool("CUSTODIA_PG_APP_URL", 2).await;
        let log = open_log(&name, 2).await;
        stage_in_transaction(&log, &app, &event("staged", 1), true).await;
        sqlx_core::query::query::<sqlx_postgres::Postgres>(
            "INSERT INTO custodia_audit_outbox (log, payload) VALUES ($1, $2)",
        )
        .bind(&name)
        .bind(&b"not an event"[..])
        .execute(&app)
        .await
        .unwrap();
        let err = log.drain().await.unwrap_err();
        assert!(matches!(err, Error::Tampered { .. }), "{err}");
        assert_eq!(
            log.len().await,
            0,
            "nothing of the failed drain is in the tree"
        );
        assert_eq!(
            staged_count(&app, &name).await,
            2,
            "the rows stay for the operator"
        );
        AsyncAuditLog::verify(app.clone(), &name, None)
            .await
            .unwrap();
    });
}

#[test]
fn drain_soon_moves_what_was_staged_in_the_background() {
    runtime().block_on(async {
        let name = fresh_log("staged-soon").await;
        let app = pool("CUSTODIA_PG_APP_URL", 2).await;
        let log = open_log(&name, 2).await;
        for n in 0..20 {
            stage_in_transaction(&log, &app, &event("soon", n), true).await;
            log.store().drain_soon();
        }
        // Liveness, not timing: the background drain gets there.
        let mut waited = 0;
        while staged_count(&app, &name).await > 0 {
            assert!(waited < 600, "staged events were never drained");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            waited += 1;
        }
        log.catch_up().await.unwrap();
        assert_eq!(log.len().await, 20);
        // At shutdown: settle waits for the background drain and leaves
        // nothing staged.
        stage_in_transaction(&log, &app, &event("soon", 20), true).await;
        log.store().drain_soon();
        log.store().settle().await.unwrap();
        assert_eq!(staged_count(&app, &name).await, 0);
        log.catch_up().await.unwrap();
        assert_eq!(log.len().await, 21);
        AsyncAuditLog::verify(app.clone(), &name, None)
            .await
            .unwrap();
    });
}

#[test]
fn events_appended_soon_reach_the_log_at_the_next_drain_and_not_before() {
    runtime().block_on(async {
        let name = fresh_log("append-soon").await;
        let app = pool("CUSTODIA_PG_APP_URL", 2).await;
        let log = open_log(&name, 2).await;
        // Queued in memory, from a thread outside the runtime (so no
        // background drain starts): nothing is written until a drain.
        std::thread::scope(|s| {
            s.spawn(|| {
                log.append_soon(&event("soon", 0)).unwrap();
                log.append_soon(&event("soon", 1)).unwrap();
            });
        });
        stage_in_transaction(&log, &app, &event("staged", 2), true).await;
        let other = open_log(&name, 2).await;
        assert_eq!(other.len().await, 0);
        assert_eq!(staged_count(&app, &name).await, 1);
        // A drain writes them, the staged one first (it committed before
        // the drain began), then the queued ones, in one log.
        assert_eq!(log.drain().await.unwrap(), 1);
        assert_eq!(staged_count(&app, &name).await, 0);
        assert_eq!(other.catch_up().await.unwrap(), 3);
        let mut targets = Vec::new();
        for i in 0..3 {
            targets.push(other.get(i).await.unwrap().target);
        }
        let expected = [("staged", 2), ("soon", 0), ("soon", 1)].map(|(w, n)| event(w, n).target);
        assert_eq!(targets, expected);
        AsyncAuditLog::verify(app.clone(), &name, None)
            .await
            .unwrap();
        // Clear personal values are refused, as at appending; a refused
        // event is not queued. In the runtime, a background drain writes
        // what is queued; settle waits for it.
        let err = log.append_soon(&read_with_clear_ip()).unwrap_err();
        assert!(matches!(err, Error::ClearPersonalData { .. }), "{err}");
        log.append_soon(&event("soon", 3)).unwrap();
        log.store().settle().await.unwrap();
        assert_eq!(other.catch_up().await.unwrap(), 1);
        assert_eq!(other.get(3).await.unwrap().target, event("soon", 3).target);
    });
}
