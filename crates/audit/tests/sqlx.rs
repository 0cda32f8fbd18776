//! The async PostgreSQL store (feature `sqlx`) against a real server, verified
//! by the sync store and `AuditLog` (feature `postgres`). Needs
//! `CUSTODIA_PG_ADMIN_URL` and `CUSTODIA_PG_APP_URL` (`scripts/postgres`
//! exports them); without them the tests fail, never skip.
#![cfg(all(feature = "sqlx", feature = "postgres"))]

use std::sync::Arc;

use custodia_audit::store::PostgresStore;
use custodia_audit::{
    Action, Actor, ActorKind, AuditLog, AuditStore, Event, Query, SqlxAuditStore, Target,
};
use custodia_core::{ActorId, SystemClock, TenantId};
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
    });
}
