//! The async types (feature `tokio`) from tasks: inline while cached, on the
//! blocking pool when the store is needed, never a panic or a blocked
//! worker; and (features `sqlx`, `postgres`) SqlxKeyStore from tasks on
//! current-thread and multi-threaded runtimes against the server
//! `scripts/postgres` starts (`CUSTODIA_PG_ADMIN_URL`, `CUSTODIA_PG_APP_URL`;
//! without them those tests fail, they do not skip).
#![cfg(feature = "tokio")]

use std::sync::Arc;
use std::time::Duration;

use std::future::Future as _;

use custodia_core::chrono::{TimeZone, Utc};
use custodia_core::{ActorId, ManualClock, SubjectId, TenantId};
use custodia_crypt::{
    AsyncKeyStore, AsyncKeyring, AsyncSubjectVault, BlindIndexConfig, DataKeyMode, Error,
    FieldContext, KeyStore, Keyring, MemoryKeyStore, SecretKey, StoredSubjectKey,
};

const BOUND: Duration = Duration::from_millis(200);

fn tenant(name: &str) -> TenantId {
    TenantId::from_external_key("test", name)
}

fn ctx(tenant: TenantId, record: &str) -> FieldContext<'_> {
    FieldContext::new(tenant, "ticket", record, "body").unwrap()
}

fn root() -> SecretKey {
    SecretKey::from_bytes([7; 32])
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap(),
    ))
}

fn dpo(tenant: TenantId) -> ActorId {
    ActorId::from_external_key(tenant, "psa.user", "dpo")
}

async fn keyring<S: KeyStore + 'static>(store: S) -> AsyncKeyring {
    AsyncKeyring::from_store_with(store, root(), DataKeyMode::Random, |k| {
        k.with_staleness_bound(BOUND)
    })
    .await
    .unwrap()
}

fn vault<S: KeyStore + 'static>(keyring: &AsyncKeyring, store: S) -> AsyncSubjectVault<S> {
    AsyncSubjectVault::new_with(keyring, store, clock(), |v| v.with_staleness_bound(BOUND))
}

/// A cold vault needs the store, so its sync face refuses on a worker
/// (typed, nothing done) and its async face goes to the pool; warm, both run
/// inline. Once the bound passes, the sync face refuses again: the
/// generation check is due.
#[tokio::test]
async fn cold_calls_go_to_the_pool_and_warm_calls_stay_inline() {
    let store = Arc::new(MemoryKeyStore::default());
    let keyring = keyring(store.clone()).await;
    let vault = vault(&keyring, store.clone());
    let acme = tenant("acme");
    let alice = SubjectId::from_external_key(acme, "psa", "alice");

    assert_eq!(
        vault.vault().seal(alice, &ctx(acme, "e-1"), b"ip"),
        Err(Error::WouldBlock)
    );
    assert_eq!(
        store.get(acme, alice).unwrap(),
        None,
        "the refusal wrote nothing"
    );
    let sealed = vault.seal(alice, &ctx(acme, "e-1"), b"ip").await.unwrap();
    assert_eq!(
        vault.vault().open(&ctx(acme, "e-1"), &sealed).unwrap(),
        b"ip"
    );
    assert_eq!(vault.open(&ctx(acme, "e-1"), &sealed).await.unwrap(), b"ip");

    tokio::time::sleep(BOUND).await;
    assert_eq!(
        vault.vault().open(&ctx(acme, "e-1"), &sealed),
        Err(Error::WouldBlock)
    );
    assert_eq!(vault.open(&ctx(acme, "e-1"), &sealed).await.unwrap(), b"ip");

    // A blind index: its search key cold, the sync face refuses and the
    // async one goes to the pool; warm, both give the same tokens inline.
    let config = BlindIndexConfig::default();
    let cold = keyring
        .keyring()
        .blind_index(acme, "contact", "email", config);
    assert!(matches!(cold, Err(Error::WouldBlock)));
    let pooled = keyring
        .blind_index(acme, "contact", "email", config)
        .await
        .unwrap();
    let warm = keyring
        .keyring()
        .blind_index(acme, "contact", "email", config)
        .unwrap();
    let inline = keyring
        .blind_index(acme, "contact", "email", config)
        .await
        .unwrap();
    for index in [&warm, &inline] {
        assert_eq!(
            index.compute("alice@example.com"),
            pooled.compute("alice@example.com")
        );
    }

    let tenant_sealed = keyring.seal(&ctx(acme, "T"), b"t").await.unwrap();
    assert_eq!(
        keyring
            .keyring()
            .open(&ctx(acme, "T"), &tenant_sealed)
            .unwrap(),
        b"t"
    );
    vault.shred(acme, alice, dpo(acme)).await.unwrap();
    assert_eq!(
        vault.open(&ctx(acme, "e-1"), &sealed).await,
        Err(Error::Shredded { subject: alice })
    );
    // The store's own operations, async.
    let gated = AsyncKeyStore::new(store);
    assert!(matches!(
        gated.get(acme, alice).await.unwrap(),
        Some(StoredSubjectKey::Shredded(_))
    ));
}

/// Outside a tokio runtime the async types fail with a typed error.
#[test]
fn outside_a_runtime_the_async_types_say_so() {
    let store = Arc::new(MemoryKeyStore::default());
    let future = AsyncKeyring::from_store(store, root(), DataKeyMode::Random);
    let waker = std::task::Waker::noop();
    let mut context = std::task::Context::from_waker(waker);
    let mut future = std::pin::pin!(future);
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(Err(Error::Store(message))) => {
            assert!(message.contains("tokio runtime"), "{message}")
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[cfg(all(feature = "sqlx", feature = "postgres"))]
mod on_postgres {
    use std::str::FromStr;

    use super::*;
    use custodia_crypt::{NonceBudget, SqlxKeyStore};
    use sqlx_postgres::{PgConnectOptions, PgPool, PgPoolOptions};

    fn env(name: &str) -> String {
        std::env::var(name).unwrap_or_else(|_| {
            panic!(
                "{name} is not set: run `scripts/postgres cargo test -p custodia-crypt --all-features --test async`, which starts a server and exports it"
            )
        })
    }

    async fn pool(var: &str, schema: &str) -> PgPool {
        let options = PgConnectOptions::from_str(&env(var))
            .unwrap()
            .options([("search_path", schema)]);
        PgPoolOptions::new()
            .max_connections(3)
            .connect_with(options)
            .await
            .unwrap()
    }

    /// A fresh schema, migrated and granted by the admin with the async API.
    async fn fresh() -> String {
        let schema = format!("keys_{}", custodia_core::uuid::Uuid::new_v4().simple());
        let admin = pool("CUSTODIA_PG_ADMIN_URL", &schema).await;
        sqlx_core::query::query::<sqlx_postgres::Postgres>(&format!("CREATE SCHEMA {schema}"))
            .execute(&admin)
            .await
            .unwrap();
        sqlx_core::query::query::<sqlx_postgres::Postgres>(&format!(
            "GRANT USAGE ON SCHEMA {schema} TO custodia_app"
        ))
        .execute(&admin)
        .await
        .unwrap();
        SqlxKeyStore::migrate(&admin).await.unwrap();
        SqlxKeyStore::grant(&admin, "custodia_app").await.unwrap();
        schema
    }

    /// One app server: its own pool, store, keyring and vault.
    async fn server(schema: &str) -> (AsyncKeyring, AsyncSubjectVault<Arc<SqlxKeyStore>>) {
        let store = Arc::new(
            SqlxKeyStore::new(pool("CUSTODIA_PG_APP_URL", schema).await)
                .await
                .unwrap(),
        );
        let keyring = keyring(store.clone()).await;
        let vault = vault(&keyring, store);
        (keyring, vault)
    }

    /// Task A shreds on its pool; B's next open after the bound fails, on a
    /// current-thread runtime (the test's), for a subject and a tenant.
    #[tokio::test]
    async fn shreds_reach_a_vault_on_another_pool_within_the_bound() {
        let schema = fresh().await;
        let (a_keyring, a) = server(&schema).await;
        let (_, b) = server(&schema).await;
        let acme = tenant("acme");
        let (alice, bob) = (
            SubjectId::from_external_key(acme, "psa", "alice"),
            SubjectId::from_external_key(acme, "psa", "bob"),
        );
        let alices = a
            .seal(alice, &ctx(acme, "e-1"), b"203.0.113.7")
            .await
            .unwrap();
        let bobs = a.seal(bob, &ctx(acme, "e-2"), b"bob").await.unwrap();
        assert_eq!(
            b.open(&ctx(acme, "e-1"), &alices).await.unwrap(),
            b"203.0.113.7"
        );
        assert_eq!(b.open(&ctx(acme, "e-2"), &bobs).await.unwrap(), b"bob");

        let task = tokio::spawn({
            let a = a.clone();
            async move { a.shred(acme, alice, dpo(acme)).await }
        });
        let receipt = task.await.unwrap().unwrap();
        assert_eq!(receipt.subject, alice);
        tokio::time::sleep(BOUND).await;
        assert_eq!(
            b.open(&ctx(acme, "e-1"), &alices).await,
            Err(Error::Shredded { subject: alice })
        );
        assert_eq!(b.open(&ctx(acme, "e-2"), &bobs).await.unwrap(), b"bob");

        a_keyring
            .shred_tenant(acme, dpo(acme), clock())
            .await
            .unwrap();
        tokio::time::sleep(BOUND).await;
        assert_eq!(
            b.open(&ctx(acme, "e-2"), &bobs).await,
            Err(Error::TenantShredded { tenant: acme })
        );
    }

    /// Used synchronously from a task, the sqlx store refuses (typed, no
    /// panic, no blocked worker); through the async types it works.
    #[tokio::test]
    async fn the_sync_face_refuses_on_a_worker() {
        let schema = fresh().await;
        let store = Arc::new(
            SqlxKeyStore::new(pool("CUSTODIA_PG_APP_URL", &schema).await)
                .await
                .unwrap(),
        );
        assert!(matches!(
            Keyring::from_store(store.clone(), &root(), DataKeyMode::Random),
            Err(Error::WouldBlock)
        ));
        assert_eq!(store.generation(), Err(Error::WouldBlock));
        let store = AsyncKeyStore::new(store);
        assert_eq!(store.keyring().await.unwrap(), None);
        assert_eq!(store.generation().await.unwrap(), 1);
    }

    /// Tasks of two app servers (two pools) seal concurrently against one
    /// small budget: together they never pass it, and the store counts
    /// exactly the blocks handed out.
    #[test]
    fn concurrent_tasks_on_two_pools_share_one_nonce_budget() {
        const LIMIT: u64 = 300;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let schema = fresh().await;
            let acme = tenant("acme");
            let budget = NonceBudget::new(LIMIT, LIMIT / 2, 7).unwrap();
            let mut tasks = Vec::new();
            for _ in 0..2 {
                let store = Arc::new(
                    SqlxKeyStore::new(pool("CUSTODIA_PG_APP_URL", &schema).await)
                        .await
                        .unwrap(),
                );
                let keyring =
                    AsyncKeyring::from_store_with(store, root(), DataKeyMode::Random, move |k| {
                        k.with_nonce_budget(budget)
                    })
                    .await
                    .unwrap();
                for t in 0..4 {
                    let keyring = keyring.clone();
                    tasks.push(tokio::spawn(async move {
                        let mut sealed = 0u64;
                        loop {
                            let record = format!("t{t}-{sealed}");
                            match keyring.seal(&ctx(acme, &record), b"x").await {
                                Ok(_) => sealed += 1,
                                Err(Error::NonceLimit { .. }) => return sealed,
                                Err(other) => panic!("unexpected {other}"),
                            }
                        }
                    }));
                }
            }
            let mut total = 0;
            for task in tasks {
                total += task.await.unwrap();
            }
            assert!(total <= LIMIT, "{total} seals passed a budget of {LIMIT}");
            let store = AsyncKeyStore::new(Arc::new(
                SqlxKeyStore::new(pool("CUSTODIA_PG_APP_URL", &schema).await)
                    .await
                    .unwrap(),
            ));
            // Every block was handed out once; what threads still hold is lost, not reused.
            assert_eq!(store.nonces_reserved(acme, 1).await.unwrap(), LIMIT);
            assert!(total > 0);
        });
    }

    /// A corrupted row reached from a task is the typed error naming it.
    #[tokio::test]
    async fn a_corrupted_row_is_named_through_the_async_path() {
        let schema = fresh().await;
        let (_, vault) = server(&schema).await;
        let acme = tenant("acme");
        let (alice, bob) = (
            SubjectId::from_external_key(acme, "psa", "alice"),
            SubjectId::from_external_key(acme, "psa", "bob"),
        );
        let alices = vault.seal(alice, &ctx(acme, "e"), b"a").await.unwrap();
        let bobs = vault.seal(bob, &ctx(acme, "e"), b"b").await.unwrap();
        let admin = pool("CUSTODIA_PG_ADMIN_URL", &schema).await;
        sqlx_core::query::query::<sqlx_postgres::Postgres>(
            "UPDATE custodia_subject_keys SET receipt = '\\x7b7d' WHERE subject = $1",
        )
        .bind(alice.as_bytes().as_slice())
        .execute(&admin)
        .await
        .unwrap();
        let (_, fresh_vault) = server(&schema).await;
        let row = format!("custodia_subject_keys (tenant {acme}, subject {alice})");
        assert!(matches!(
            fresh_vault.open(&ctx(acme, "e"), &alices).await,
            Err(Error::KeyStoreRow { row: r, .. }) if r == row
        ));
        assert_eq!(
            fresh_vault.open(&ctx(acme, "e"), &bobs).await.unwrap(),
            b"b"
        );
    }
}

/// Process A shreds while B holds the key cached and B's check is due
/// (bound zero: always). B's inline attempts end in `WouldBlock`, never in
/// the cached plaintext, however often they are retried: a refusal is not
/// a check, so it does not restart the window; the pooled call then checks
/// and reports the shred.
#[tokio::test]
async fn a_deferred_check_is_not_counted_as_fresh() {
    let store = Arc::new(MemoryKeyStore::default());
    let keyring = keyring(store.clone()).await;
    let a = vault(&keyring, store.clone());
    let b = AsyncSubjectVault::new_with(&keyring, store.clone(), clock(), |v| {
        v.with_staleness_bound(Duration::ZERO)
    });
    let acme = tenant("acme");
    let alice = SubjectId::from_external_key(acme, "psa", "alice");
    let sealed = b.seal(alice, &ctx(acme, "e-1"), b"ip").await.unwrap();
    a.shred(acme, alice, dpo(acme)).await.unwrap();
    for _ in 0..3 {
        assert_eq!(
            b.vault().open(&ctx(acme, "e-1"), &sealed),
            Err(Error::WouldBlock)
        );
        assert_eq!(
            b.vault().seal(alice, &ctx(acme, "e-2"), b"x"),
            Err(Error::WouldBlock)
        );
    }
    let erased = Err(Error::Shredded { subject: alice });
    assert_eq!(b.open(&ctx(acme, "e-1"), &sealed).await, erased);
    assert_eq!(b.seal(alice, &ctx(acme, "e-2"), b"x").await, erased);
}

/// `new_with` configures the cache too: a vault that caches nothing needs
/// the store for every use, so its sync face always refuses on a worker and
/// its async face always goes to the pool — and works.
#[tokio::test]
async fn an_uncached_vault_always_goes_to_the_pool() {
    let store = Arc::new(MemoryKeyStore::default());
    let keyring = keyring(store.clone()).await;
    let vault = AsyncSubjectVault::new_with(&keyring, store.clone(), clock(), |v| {
        v.with_staleness_bound(BOUND).with_cache_capacity(0)
    });
    let acme = tenant("acme");
    let alice = SubjectId::from_external_key(acme, "psa", "alice");
    let sealed = vault.seal(alice, &ctx(acme, "e-1"), b"ip").await.unwrap();
    for _ in 0..3 {
        assert_eq!(vault.open(&ctx(acme, "e-1"), &sealed).await.unwrap(), b"ip");
        assert_eq!(
            vault.vault().open(&ctx(acme, "e-1"), &sealed),
            Err(Error::WouldBlock)
        );
    }
    vault.shred(acme, alice, dpo(acme)).await.unwrap();
    assert_eq!(
        vault.open(&ctx(acme, "e-1"), &sealed).await,
        Err(Error::Shredded { subject: alice })
    );
}
