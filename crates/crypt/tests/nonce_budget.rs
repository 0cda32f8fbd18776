//! The NIST SP 800-38D nonce budget of stored keyrings: counted in the key
//! store, shared by every keyring over it, kept across restarts.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use custodia_core::TenantId;
use custodia_crypt::{
    DataKeyMode, Error, FieldContext, FileKeyStore, KeyId, KeyStore, Keyring, MemoryKeyStore,
    NONCE_LIMIT, NonceBudget, NonceCount, SecretKey,
};

fn tenant(name: &str) -> TenantId {
    TenantId::from_external_key("test", name)
}

fn ctx(tenant: TenantId) -> FieldContext<'static> {
    FieldContext::new(tenant, "ticket", "T-9", "body").unwrap()
}

fn root() -> SecretKey {
    SecretKey::from_bytes([7; 32])
}

fn budget(limit: u64, warning: u64, block: u64) -> NonceBudget {
    NonceBudget::new(limit, warning, block).unwrap()
}

fn open(store: &Arc<MemoryKeyStore>, mode: DataKeyMode, budget: NonceBudget) -> Keyring {
    Keyring::from_store(store.clone(), &root(), mode)
        .unwrap()
        .with_nonce_budget(budget)
}

fn limit_error(version: u32) -> Error {
    Error::NonceLimit {
        key: KeyId::Tenant { version },
    }
}

#[test]
fn the_default_budget_is_nists() {
    let budget = NonceBudget::default();
    assert_eq!(budget.limit(), NONCE_LIMIT);
    assert_eq!(budget.warning(), NONCE_LIMIT / 2);
    assert_eq!(budget.block(), 1 << 20);
    assert!(NonceBudget::new(NONCE_LIMIT + 1, 1, 1).is_err());
    assert!(NonceBudget::new(0, 0, 1).is_err());
    assert!(NonceBudget::new(10, 11, 1).is_err());
    assert!(NonceBudget::new(10, 5, 0).is_err());
}

#[test]
fn sealing_reserves_a_block_in_the_store_and_opening_reserves_nothing() {
    for mode in [DataKeyMode::Derived, DataKeyMode::Random] {
        let store = Arc::new(MemoryKeyStore::default());
        let keyring = open(&store, mode, budget(1000, 500, 100));
        let acme = tenant("acme");
        let sealed = keyring.seal(&ctx(acme), b"x").unwrap();
        keyring.open(&ctx(acme), &sealed).unwrap();
        assert_eq!(
            store.nonce_counts().unwrap(),
            [NonceCount {
                tenant: acme,
                version: 1,
                reserved: 100
            }],
            "{mode:?}"
        );
        let usage = keyring.nonce_usage(acme, 1).unwrap();
        assert_eq!(
            (usage.reserved, usage.limit, usage.remaining()),
            (100, 1000, 900)
        );
        assert!(usage.sealed >= 1 && usage.sealed <= 32, "{usage:?}");
        // Another tenant's key is another GCM key: its own count.
        keyring.seal(&ctx(tenant("globex")), b"x").unwrap();
        assert_eq!(store.nonces_reserved(tenant("globex"), 1).unwrap(), 100);
        assert_eq!(store.nonces_reserved(acme, 1).unwrap(), 100);
    }
}

#[test]
fn two_keyrings_over_one_store_share_the_budget() {
    let store = Arc::new(MemoryKeyStore::default());
    let first = open(&store, DataKeyMode::Random, budget(100, 80, 10));
    let second = open(&store, DataKeyMode::Random, budget(100, 80, 10));
    let acme = tenant("acme");
    let mut done = 0u64;
    let (mut first_done, mut second_done) = (false, false);
    while !(first_done && second_done) {
        for (keyring, finished) in [(&first, &mut first_done), (&second, &mut second_done)] {
            if *finished {
                continue;
            }
            match keyring.seal(&ctx(acme), b"x") {
                Ok(_) => done += 1,
                Err(e) => {
                    assert_eq!(e, limit_error(1));
                    *finished = true;
                }
            }
        }
    }
    // Together, not each: 100 seals, not 200.
    assert_eq!(done, 100);
    assert_eq!(store.nonces_reserved(acme, 1).unwrap(), 100);
    let usage = first.nonce_usage(acme, 1).unwrap();
    assert_eq!((usage.reserved, usage.remaining()), (100, 0));
    assert!(usage.sealed < 100, "each keyring did only its share");
}

#[test]
fn keyrings_on_many_threads_never_pass_the_budget_together() {
    let store = Arc::new(MemoryKeyStore::default());
    let limit = 1000;
    let keyrings: Vec<Keyring> = (0..4)
        .map(|_| open(&store, DataKeyMode::Derived, budget(limit, limit, 64)))
        .collect();
    let done = AtomicU64::new(0);
    std::thread::scope(|s| {
        for keyring in &keyrings {
            for _ in 0..2 {
                let done = &done;
                s.spawn(move || {
                    while keyring.seal(&ctx(tenant("acme")), b"x").is_ok() {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        }
    });
    assert_eq!(done.into_inner(), limit);
    assert_eq!(store.nonces_reserved(tenant("acme"), 1).unwrap(), limit);
}

#[test]
fn a_reopened_keyring_keeps_counting_from_the_store() {
    let store = Arc::new(MemoryKeyStore::default());
    let acme = tenant("acme");
    {
        let keyring = open(&store, DataKeyMode::Random, budget(1000, 500, 100));
        for _ in 0..5 {
            keyring.seal(&ctx(acme), b"x").unwrap();
        }
    }
    // The restart lost the unused 95 of the first block: the safe direction.
    let keyring = open(&store, DataKeyMode::Random, budget(1000, 500, 100));
    assert_eq!(keyring.nonce_usage(acme, 1).unwrap().reserved, 100);
    assert_eq!(keyring.nonce_usage(acme, 1).unwrap().sealed, 0);
    keyring.seal(&ctx(acme), b"x").unwrap();
    assert_eq!(keyring.nonce_usage(acme, 1).unwrap().reserved, 200);
}

#[test]
fn the_count_survives_a_restart_in_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.cst");
    let master = SecretKey::from_bytes([3; 32]);
    let acme = tenant("acme");
    let tiny = budget(30, 20, 10);
    let open_file = || {
        Keyring::from_store(
            FileKeyStore::open(&path, &master).unwrap(),
            &root(),
            DataKeyMode::Derived,
        )
        .unwrap()
        .with_nonce_budget(tiny)
    };
    for _ in 0..2 {
        let keyring = open_file();
        keyring.seal(&ctx(acme), b"x").unwrap();
    }
    let keyring = open_file();
    let usage = keyring.nonce_usage(acme, 1).unwrap();
    assert_eq!(usage.reserved, 20);
    assert!(usage.needs_rotation());
    assert!(keyring.needs_rotation().unwrap());
    // One block left, then the limit, although this process sealed little.
    for _ in 0..10 {
        keyring.seal(&ctx(acme), b"x").unwrap();
    }
    assert_eq!(keyring.seal(&ctx(acme), b"x"), Err(limit_error(1)));
    drop(keyring);
    assert_eq!(
        open_file().seal(&ctx(acme), b"x"),
        Err(limit_error(1)),
        "a restart does not reset the count"
    );
}

#[test]
fn an_exhausted_key_fails_until_rotation_and_signals_it_first() {
    let store = Arc::new(MemoryKeyStore::default());
    let keyring = open(&store, DataKeyMode::Random, budget(25, 20, 10));
    let acme = tenant("acme");
    let mut sealed = Vec::new();
    for i in 0..25 {
        sealed.push(keyring.seal(&ctx(acme), b"x").unwrap());
        let due = keyring.nonce_usage(acme, 1).unwrap().needs_rotation();
        // Blocks of 10: the store says 10, 20, 25 reserved.
        assert_eq!(due, i >= 10, "after {} seals", i + 1);
    }
    assert!(keyring.needs_rotation().unwrap());
    assert_eq!(keyring.seal(&ctx(acme), b"x"), Err(limit_error(1)));
    assert_eq!(keyring.nonce_usage(acme, 1).unwrap().remaining(), 0);
    // Opening needs no nonce.
    assert_eq!(keyring.open(&ctx(acme), &sealed[0]).unwrap(), b"x");

    let v2 = keyring.rotate(SecretKey::generate().unwrap()).unwrap();
    assert!(!keyring.needs_rotation().unwrap());
    let fresh = keyring.seal(&ctx(acme), b"y").unwrap();
    assert_eq!(keyring.open(&ctx(acme), &fresh).unwrap(), b"y");
    let usage = keyring.stored_nonce_usage().unwrap();
    let summary: Vec<(KeyId, u64)> = usage.iter().map(|u| (u.key, u.reserved)).collect();
    assert_eq!(
        summary,
        [
            (KeyId::Tenant { version: 1 }, 25),
            (KeyId::Tenant { version: v2 }, 10)
        ]
    );
}

#[test]
fn in_memory_keyrings_honour_a_smaller_budget_too() {
    let keyring = Keyring::new(SecretKey::from_bytes([1; 32])).with_nonce_budget(budget(3, 2, 1));
    let acme = tenant("acme");
    for _ in 0..3 {
        keyring.seal(&ctx(acme), b"x").unwrap();
    }
    assert_eq!(keyring.seal(&ctx(acme), b"x"), Err(limit_error(1)));
    let usage = keyring.nonce_usage(acme, 1).unwrap();
    assert_eq!((usage.reserved, usage.remaining()), (3, 0));
    assert!(keyring.needs_rotation().unwrap());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Whatever mix of keyrings sealing, restarting and sharing one
        /// store: the stored count never falls below the seals done (no
        /// undercount), never passes the limit, wastes at most one block per
        /// keyring opened, and sealing fails only once the store is spent.
        #[test]
        fn the_stored_count_bounds_every_seal(
            limit in 1u64..120,
            block in 1u64..40,
            ops in proptest::collection::vec((0usize..3, 0u8..4, 1u64..30), 1..20),
        ) {
            let store = Arc::new(MemoryKeyStore::default());
            let budget = budget(limit, limit, block);
            let acme = tenant("acme");
            let mut keyrings: Vec<Keyring> =
                (0..3).map(|_| open(&store, DataKeyMode::Derived, budget)).collect();
            let mut opened = 3u64;
            let mut done = 0u64;
            for (which, op, seals) in ops {
                if op == 0 {
                    keyrings[which] = open(&store, DataKeyMode::Derived, budget);
                    opened += 1;
                    continue;
                }
                for _ in 0..seals {
                    match keyrings[which].seal(&ctx(acme), b"x") {
                        Ok(_) => done += 1,
                        Err(e) => {
                            prop_assert_eq!(e, limit_error(1));
                            prop_assert_eq!(store.nonces_reserved(acme, 1).unwrap(), limit);
                        }
                    }
                }
                let reserved = store.nonces_reserved(acme, 1).unwrap();
                prop_assert!(done <= reserved, "{} seals, {} reserved", done, reserved);
                prop_assert!(reserved <= limit);
                prop_assert!(reserved - done <= opened * block);
            }
        }
    }
}
