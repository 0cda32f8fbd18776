//! Per-subject keys and crypto-shredding.

use std::sync::Arc;

use custodia_core::chrono::{TimeZone, Utc};
use custodia_core::{ActorId, ManualClock, SubjectId, TenantId};
use custodia_crypt::{
    Error, FieldContext, KeyId, KeyStore, Keyring, MemoryKeyStore, SecretKey, StoredSubjectKey,
    SubjectVault,
};

struct World {
    tenant: TenantId,
    alice: SubjectId,
    bob: SubjectId,
    dpo: ActorId,
    clock: Arc<ManualClock>,
    keyring: Arc<Keyring>,
}

fn world() -> World {
    let tenant = TenantId::from_external_key("test", "acme");
    World {
        tenant,
        alice: SubjectId::from_external_key(tenant, "psa", "alice"),
        bob: SubjectId::from_external_key(tenant, "psa", "bob"),
        dpo: ActorId::from_external_key(tenant, "psa.user", "dpo"),
        clock: Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap(),
        )),
        keyring: Arc::new(Keyring::new(SecretKey::from_bytes([1; 32]))),
    }
}

fn new_vault(w: &World, store: Arc<MemoryKeyStore>) -> SubjectVault<Arc<MemoryKeyStore>> {
    SubjectVault::new(w.keyring.clone(), store, w.clock.clone())
}

fn ctx(tenant: TenantId, record_id: &'static str) -> FieldContext<'static> {
    FieldContext::new(tenant, "audit_event", record_id, "ip").unwrap()
}

#[test]
fn a_subject_key_is_created_once_and_stored_wrapped() {
    let w = world();
    let store = Arc::new(MemoryKeyStore::default());
    let vault = new_vault(&w, store.clone());
    let first = vault
        .seal(w.alice, &ctx(w.tenant, "e-1"), b"203.0.113.7")
        .unwrap();
    let second = vault
        .seal(w.alice, &ctx(w.tenant, "e-2"), b"198.51.100.1")
        .unwrap();
    assert_eq!(
        vault.open(&ctx(w.tenant, "e-1"), &first).unwrap(),
        b"203.0.113.7"
    );
    assert_eq!(
        vault.open(&ctx(w.tenant, "e-2"), &second).unwrap(),
        b"198.51.100.1"
    );
    match store.get(w.tenant, w.alice).unwrap() {
        Some(StoredSubjectKey::Wrapped { envelope }) => {
            // Wrapped under the tenant key, never stored in the clear.
            assert_eq!(
                custodia_crypt::Envelope::decode(&envelope)
                    .unwrap()
                    .key_id(),
                KeyId::Tenant { version: 1 }
            );
        }
        other => panic!("{other:?}"),
    }
    // A fresh vault over the same store (a restart) reads the same key.
    let restarted = new_vault(&w, store);
    assert_eq!(
        restarted.open(&ctx(w.tenant, "e-1"), &first).unwrap(),
        b"203.0.113.7"
    );
}

#[test]
fn shredding_erases_every_copy_and_leaves_a_receipt() {
    let w = world();
    let store = Arc::new(MemoryKeyStore::default());
    let vault = new_vault(&w, store.clone());
    let live = vault
        .seal(w.alice, &ctx(w.tenant, "e-1"), b"203.0.113.7")
        .unwrap();
    let backup_copy = live.clone();
    let bobs = vault
        .seal(w.bob, &ctx(w.tenant, "e-2"), b"192.0.2.1")
        .unwrap();

    w.clock.advance(custodia_core::chrono::TimeDelta::hours(5));
    let receipt = vault.shred(w.tenant, w.alice, w.dpo).unwrap();
    assert_eq!((receipt.subject, receipt.actor), (w.alice, w.dpo));
    assert_eq!(
        receipt.at,
        Utc.with_ymd_and_hms(2026, 11, 22, 14, 0, 0).unwrap()
    );

    let erased = Err(Error::Shredded { subject: w.alice });
    assert_eq!(vault.open(&ctx(w.tenant, "e-1"), &live), erased);
    // A restored backup, read by a new process, is just as erased.
    let restored = new_vault(&w, store.clone());
    assert_eq!(restored.open(&ctx(w.tenant, "e-1"), &backup_copy), erased);
    // No fresh key for an erased person.
    assert_eq!(
        vault.seal(w.alice, &ctx(w.tenant, "e-3"), b"x"),
        Err(Error::Shredded { subject: w.alice })
    );
    // Bob is untouched.
    assert_eq!(
        vault.open(&ctx(w.tenant, "e-2"), &bobs).unwrap(),
        b"192.0.2.1"
    );
    assert_eq!(
        store.get(w.tenant, w.alice).unwrap(),
        Some(StoredSubjectKey::Shredded(receipt))
    );
}

#[test]
fn shredding_a_subject_without_a_key_blocks_future_keys() {
    let w = world();
    let vault = new_vault(&w, Arc::new(MemoryKeyStore::default()));
    vault.shred(w.tenant, w.bob, w.dpo).unwrap();
    assert_eq!(
        vault.seal(w.bob, &ctx(w.tenant, "e-1"), b"x"),
        Err(Error::Shredded { subject: w.bob })
    );
}

#[test]
fn subject_envelopes_stay_bound_to_place_and_tenant() {
    let w = world();
    let vault = new_vault(&w, Arc::new(MemoryKeyStore::default()));
    let sealed = vault.seal(w.alice, &ctx(w.tenant, "e-1"), b"ip").unwrap();
    assert_eq!(
        vault.open(&ctx(w.tenant, "e-2"), &sealed),
        Err(Error::Decrypt)
    );
    let other = TenantId::from_external_key("test", "globex");
    let key = KeyId::Subject {
        subject: w.alice,
        version: 1,
    };
    assert_eq!(
        vault.open(&ctx(other, "e-1"), &sealed),
        Err(Error::UnknownKey(key))
    );
}

#[test]
fn the_vault_also_opens_tenant_key_envelopes() {
    let w = world();
    let vault = new_vault(&w, Arc::new(MemoryKeyStore::default()));
    let sealed = w
        .keyring
        .seal(&ctx(w.tenant, "e-1"), b"not personal")
        .unwrap();
    assert_eq!(
        vault.open(&ctx(w.tenant, "e-1"), &sealed).unwrap(),
        b"not personal"
    );
}

#[test]
fn rotation_rewraps_subject_keys_before_the_old_version_retires() {
    let w = world();
    let store = Arc::new(MemoryKeyStore::default());
    let vault = new_vault(&w, store.clone());
    let alices = vault
        .seal(w.alice, &ctx(w.tenant, "e-1"), b"203.0.113.7")
        .unwrap();
    let bobs = vault
        .seal(w.bob, &ctx(w.tenant, "e-2"), b"192.0.2.1")
        .unwrap();
    vault.shred(w.tenant, w.bob, w.dpo).unwrap();

    w.keyring.rotate(SecretKey::from_bytes([2; 32])).unwrap();
    // The wrapped key still uses v1: retiring now would erase everyone.
    let before = vault.key_usage().unwrap();
    assert_eq!(before.tenant_count(1), 1);
    assert!(matches!(
        w.keyring.retire(1, &before),
        Err(Error::KeyInUse { .. })
    ));

    assert_eq!(vault.rewrap().unwrap(), 1);
    assert_eq!(vault.rewrap().unwrap(), 0, "idempotent");
    let after = vault.key_usage().unwrap();
    assert_eq!((after.tenant_count(1), after.tenant_count(2)), (0, 1));
    w.keyring.retire(1, &after).unwrap();

    // A fresh process (no cached keys) still reads Alice; Bob stays erased.
    let restarted = new_vault(&w, store);
    assert_eq!(
        restarted.open(&ctx(w.tenant, "e-1"), &alices).unwrap(),
        b"203.0.113.7"
    );
    assert_eq!(
        restarted.open(&ctx(w.tenant, "e-2"), &bobs),
        Err(Error::Shredded { subject: w.bob })
    );
}

/// Two processes over one store (two vaults, one `MemoryKeyStore`): B has
/// Alice's key cached when A shreds her. Within its staleness bound B may
/// still seal under the cached key (as it may still open): that is the
/// documented window, and a value sealed in it is lost, not kept readable.
/// B's seal writes nothing to the store, and from B's next check on, B
/// neither seals nor opens under her key, nor makes her a new one.
#[test]
fn a_shred_elsewhere_stops_sealing_at_the_next_check_and_nothing_comes_back() {
    use std::time::Duration;

    let w = world();
    let store = Arc::new(MemoryKeyStore::default());
    let a = new_vault(&w, store.clone());
    // A bound no test outlives: B checks only when asked to.
    let b = new_vault(&w, store.clone()).with_staleness_bound(Duration::from_secs(3600));
    let before = b
        .seal(w.alice, &ctx(w.tenant, "e-1"), b"203.0.113.7")
        .unwrap();
    let receipt = a.shred(w.tenant, w.alice, w.dpo).unwrap();

    // The window: B has not checked yet.
    let late = b.seal(w.alice, &ctx(w.tenant, "e-2"), b"late").unwrap();
    assert_eq!(
        store.get(w.tenant, w.alice).unwrap(),
        Some(StoredSubjectKey::Shredded(receipt.clone()))
    );
    let erased = Err(Error::Shredded { subject: w.alice });
    assert_eq!(a.open(&ctx(w.tenant, "e-2"), &late), erased);

    // B's next check ends it, for sealing as for opening.
    b.refresh().unwrap();
    assert_eq!(b.seal(w.alice, &ctx(w.tenant, "e-3"), b"x"), erased);
    assert_eq!(b.open(&ctx(w.tenant, "e-1"), &before), erased);
    assert_eq!(b.open(&ctx(w.tenant, "e-2"), &late), erased);
    assert_eq!(
        store.get(w.tenant, w.alice).unwrap(),
        Some(StoredSubjectKey::Shredded(receipt))
    );
}

/// A store that answers like `MemoryKeyStore` until told to fail its
/// change checks (a database down, a network partition).
struct Flaky {
    inner: MemoryKeyStore,
    down: std::sync::atomic::AtomicBool,
}

impl Flaky {
    fn check(&self) -> Result<(), Error> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            Err(Error::Store("down".into()))
        } else {
            Ok(())
        }
    }
}

impl KeyStore for Flaky {
    fn get(&self, t: TenantId, s: SubjectId) -> Result<Option<StoredSubjectKey>, Error> {
        self.inner.get(t, s)
    }
    fn insert_if_absent(
        &self,
        t: TenantId,
        s: SubjectId,
        w: Vec<u8>,
    ) -> Result<StoredSubjectKey, Error> {
        self.inner.insert_if_absent(t, s, w)
    }
    fn shred(
        &self,
        r: &custodia_crypt::ShredReceipt,
    ) -> Result<custodia_crypt::ShredReceipt, Error> {
        self.inner.shred(r)
    }
    fn wrapped_keys(&self) -> Result<Vec<(TenantId, SubjectId, Vec<u8>)>, Error> {
        self.inner.wrapped_keys()
    }
    fn replace_wrapped(
        &self,
        t: TenantId,
        s: SubjectId,
        old: &[u8],
        new: Vec<u8>,
    ) -> Result<bool, Error> {
        self.inner.replace_wrapped(t, s, old, new)
    }
    fn keyring(&self) -> Result<Option<custodia_crypt::KeyringRecord>, Error> {
        self.inner.keyring()
    }
    fn replace_keyring(
        &self,
        expected: Option<&custodia_crypt::KeyringRecord>,
        new: custodia_crypt::KeyringRecord,
    ) -> Result<bool, Error> {
        self.inner.replace_keyring(expected, new)
    }
    fn tenant_keys(&self, t: TenantId) -> Result<Option<custodia_crypt::StoredTenantKeys>, Error> {
        self.inner.tenant_keys(t)
    }
    fn insert_tenant_key_if_absent(
        &self,
        t: TenantId,
        slot: custodia_crypt::TenantKeySlot,
        w: Vec<u8>,
    ) -> Result<custodia_crypt::StoredTenantKeys, Error> {
        self.inner.insert_tenant_key_if_absent(t, slot, w)
    }
    fn shred_tenant(
        &self,
        r: &custodia_crypt::TenantShredReceipt,
    ) -> Result<custodia_crypt::TenantShredReceipt, Error> {
        self.inner.shred_tenant(r)
    }
    fn remove_tenant_keys(&self, version: u32) -> Result<u64, Error> {
        self.inner.remove_tenant_keys(version)
    }
    fn nonces_reserved(&self, t: TenantId, version: u32) -> Result<u64, Error> {
        self.inner.nonces_reserved(t, version)
    }
    fn replace_nonces_reserved(
        &self,
        t: TenantId,
        version: u32,
        expected: u64,
        new: u64,
    ) -> Result<bool, Error> {
        self.inner
            .replace_nonces_reserved(t, version, expected, new)
    }
    fn nonce_counts(&self) -> Result<Vec<custodia_crypt::NonceCount>, Error> {
        self.inner.nonce_counts()
    }
    fn generation(&self) -> Result<u64, Error> {
        self.check()?;
        self.inner.generation()
    }
    fn changes_since(&self, seen: u64) -> Result<custodia_crypt::KeyStoreChanges, Error> {
        self.check()?;
        self.inner.changes_since(seen)
    }
}

/// A check that fails is not a check: the vault neither counts it as
/// fresh nor falls back to its cache, so an unreachable store cannot
/// stretch the staleness window past the bound. (Bound zero: every call
/// checks, so no test waits for a clock.)
#[test]
fn a_failed_check_does_not_extend_the_window() {
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    let w = world();
    let store = Arc::new(Flaky {
        inner: MemoryKeyStore::default(),
        down: false.into(),
    });
    let a = SubjectVault::new(w.keyring.clone(), store.clone(), w.clock.clone());
    let b = SubjectVault::new(w.keyring.clone(), store.clone(), w.clock.clone())
        .with_staleness_bound(Duration::ZERO);
    let sealed = b.seal(w.alice, &ctx(w.tenant, "e-1"), b"ip").unwrap();
    let bobs = b.seal(w.bob, &ctx(w.tenant, "e-2"), b"ip2").unwrap();
    a.shred(w.tenant, w.alice, w.dpo).unwrap();

    store.down.store(true, Ordering::SeqCst);
    for _ in 0..3 {
        assert_eq!(
            b.open(&ctx(w.tenant, "e-1"), &sealed),
            Err(Error::Store("down".into()))
        );
        assert_eq!(
            b.seal(w.alice, &ctx(w.tenant, "e-3"), b"x"),
            Err(Error::Store("down".into()))
        );
    }
    store.down.store(false, Ordering::SeqCst);
    assert_eq!(
        b.open(&ctx(w.tenant, "e-1"), &sealed),
        Err(Error::Shredded { subject: w.alice })
    );
    assert_eq!(b.open(&ctx(w.tenant, "e-2"), &bobs).unwrap(), b"ip2");
}
