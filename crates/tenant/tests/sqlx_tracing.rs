//! The sqlx binding's span (features `sqlx` and `tracing`), against a real
//! PostgreSQL (`CUSTODIA_PG_APP_URL`, which `scripts/postgres` exports).
//!
//! A test binary of its own, and so a process of its own, on purpose: the
//! test counts the spans a thread-scoped subscriber
//! (`tracing::subscriber::with_default`) sees, and tracing caches each
//! callsite's interest process-wide. In tracing-core (0.1.36,
//! `callsite::register`, `Dispatchers::rebuilder`), while at most one
//! dispatcher has been registered, a callsite's first registration asks
//! only the registering thread's default (a thread with no subscriber:
//! `NoSubscriber`, never), without a lock. Installing the scoped
//! subscriber rebuilds the interest of the callsites registered so far,
//! but a callsite first reached on another thread after that (or whose
//! registration began before and stores after) is cached as "never" for
//! every thread, and the subscriber's thread then loses its spans. In
//! `tests/sqlx.rs` the other tests bind on other threads at the same time
//! (the first binding of the run often is theirs), so the count was 0 once
//! in a full run. Here the test thread is the only one that reaches the
//! binding's callsite, so no other thread can register it; rebuilding the
//! cache once the subscriber is installed also covers a callsite cached
//! before (should a later test join this binary, it must not bind on
//! another thread while this one runs).

#![cfg(all(feature = "sqlx", feature = "tracing"))]

use std::io::{Read as _, Seek as _};

use custodia_core::TenantId;
use custodia_tenant::{begin_bound, commit_bound};
use sqlx_core::query::query;
use sqlx_core::row::Row as _;
use sqlx_postgres::{PgPoolOptions, Postgres};

/// A binding is one `custodia.tenant.bind` span with its time, and never
/// names the tenant.
#[test]
fn a_binding_is_a_span_that_names_no_tenant() {
    let url = std::env::var("CUSTODIA_PG_APP_URL").unwrap_or_else(|_| {
        panic!(
            "CUSTODIA_PG_APP_URL is not set: run `scripts/postgres cargo test -p \
             custodia-tenant --all-features --test sqlx_tracing`"
        )
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // A file, since the subscriber's writer must outlive the closure.
    let mut written = tempfile::tempfile().unwrap();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(written.try_clone().unwrap())
        .finish();
    let tenant = TenantId::random();
    tracing::subscriber::with_default(subscriber, || {
        // Interest cached before the subscriber, recomputed with it.
        tracing::callsite::rebuild_interest_cache();
        rt.block_on(async {
            let pool = PgPoolOptions::new()
                .max_connections(1)
                .connect(&url)
                .await
                .unwrap();
            let mut tx = begin_bound(&pool, tenant).await.unwrap();
            let bound: Option<String> =
                query::<Postgres>("SELECT current_setting('app.tenant_id', true)")
                    .fetch_one(&mut *tx)
                    .await
                    .unwrap()
                    .get(0);
            assert_eq!(bound, Some(tenant.as_uuid().to_string()));
            commit_bound(tx).await.unwrap();
            pool.close().await;
        })
    });
    let mut log = String::new();
    written.rewind().unwrap();
    written.read_to_string(&mut log).unwrap();
    assert_eq!(log.matches("custodia.tenant.bind").count(), 1, "{log}");
    assert!(log.contains("time.busy"), "{log}");
    assert!(
        !log.contains(&tenant.to_string()),
        "the tenant leaked into {log}"
    );
}
