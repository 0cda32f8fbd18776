//! Stored keyrings: random wrapped tenant data keys, the persisted version
//! list, whole-tenant crypto-shredding and rotation-stable search keys.

use std::sync::Arc;

use custodia_core::chrono::{TimeZone, Utc};
use custodia_core::{ActorId, ManualClock, SubjectId, TenantId};
use custodia_crypt::{
    BlindIndexConfig, DataKeyMode, Envelope, Error, FieldContext, FileKeyStore, KeyId, KeyStore,
    KeyUsage, Keyring, MemoryKeyStore, RUST_CRYPTO, SecretKey, StoredTenantKeys, SubjectVault,
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

fn clock() -> ManualClock {
    ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap())
}

fn open(store: &Arc<MemoryKeyStore>, mode: DataKeyMode) -> Keyring {
    Keyring::from_store(store.clone(), &root(), mode).unwrap()
}

#[test]
fn random_data_keys_are_stored_wrapped_per_tenant_and_version() {
    let store = Arc::new(MemoryKeyStore::default());
    let keyring = open(&store, DataKeyMode::Random);
    assert_eq!(keyring.mode(), DataKeyMode::Random);
    let acme = tenant("acme");
    let sealed = keyring.seal(&ctx(acme), b"hello").unwrap();
    assert_eq!(keyring.open(&ctx(acme), &sealed).unwrap(), b"hello");

    let Some(StoredTenantKeys::Active {
        data_keys,
        search_key,
    }) = store.tenant_keys(acme).unwrap()
    else {
        panic!("no keys stored for acme");
    };
    assert_eq!(data_keys.keys().copied().collect::<Vec<_>>(), [1]);
    assert!(search_key.is_none(), "no search key until one is asked for");
    // The stored form is an envelope under the version-1 key-encryption key,
    // never the 32 key bytes themselves.
    let wrapped = &data_keys[&1];
    assert_eq!(
        Envelope::decode(wrapped).unwrap().key_id(),
        KeyId::Tenant { version: 1 }
    );
    assert_eq!(Envelope::decode(wrapped).unwrap().plaintext_len(), 32);

    // Another tenant gets its own, independent key.
    let globex = tenant("globex");
    keyring.seal(&ctx(globex), b"x").unwrap();
    assert!(store.tenant_keys(globex).unwrap().is_some());
    assert_eq!(keyring.open(&ctx(globex), &sealed), Err(Error::Decrypt));
}

#[test]
fn a_reopened_keyring_reads_what_the_first_one_sealed() {
    for mode in [DataKeyMode::Derived, DataKeyMode::Random] {
        let store = Arc::new(MemoryKeyStore::default());
        let acme = tenant("acme");
        let first = open(&store, mode);
        let v1 = first.seal(&ctx(acme), b"one").unwrap();
        assert_eq!(first.rotate(SecretKey::generate().unwrap()).unwrap(), 2);
        let v2 = first.seal(&ctx(acme), b"two").unwrap();
        drop(first);

        let record = store.keyring().unwrap().unwrap();
        assert_eq!((record.mode, record.primary), (mode, 2));
        let second = open(&store, mode);
        assert_eq!(second.versions(), [1, 2]);
        assert_eq!(second.primary(), 2);
        assert_eq!(second.open(&ctx(acme), &v1).unwrap(), b"one");
        assert_eq!(second.open(&ctx(acme), &v2).unwrap(), b"two");
        // A keyring over another, empty store has other keys.
        let stranger = open(&Arc::new(MemoryKeyStore::default()), mode);
        assert!(matches!(
            stranger.open(&ctx(acme), &v1),
            Err(Error::Decrypt | Error::UnknownKey(_))
        ));
    }
}

#[test]
fn retirement_is_recorded_and_deletes_that_versions_data_keys() {
    let store = Arc::new(MemoryKeyStore::default());
    let keyring = open(&store, DataKeyMode::Random);
    let acme = tenant("acme");
    let old = keyring.seal(&ctx(acme), b"x").unwrap();
    keyring.rotate(SecretKey::generate().unwrap()).unwrap();
    let new = keyring.reencrypt(&ctx(acme), &old).unwrap();
    keyring
        .retire(1, &KeyUsage::scan([new.as_slice()]))
        .unwrap();
    assert_eq!((keyring.versions(), keyring.retired()), (vec![2], vec![1]));

    let Some(StoredTenantKeys::Active { data_keys, .. }) = store.tenant_keys(acme).unwrap() else {
        panic!("acme lost its keys");
    };
    assert_eq!(data_keys.keys().copied().collect::<Vec<_>>(), [2]);

    let reopened = open(&store, DataKeyMode::Random);
    assert_eq!(
        (reopened.versions(), reopened.retired()),
        (vec![2], vec![1])
    );
    assert_eq!(
        reopened.open(&ctx(acme), &old),
        Err(Error::UnknownKey(KeyId::Tenant { version: 1 }))
    );
    assert_eq!(reopened.open(&ctx(acme), &new).unwrap(), b"x");
    // A retired number is never handed out again.
    assert_eq!(reopened.rotate(SecretKey::generate().unwrap()).unwrap(), 3);
}

/// A stored keyring knows the subject keys in its own store: each is
/// wrapped under the version that was primary when it was made, so retiring
/// that version before `SubjectVault::rewrap` would erase every person whose
/// values are sealed under a subject key. `retire` refuses, whatever scan of
/// other data it is given, until the keys are rewrapped.
#[test]
fn retire_refuses_while_the_store_holds_subject_keys_wrapped_under_the_version() {
    for mode in [DataKeyMode::Random, DataKeyMode::Derived] {
        let store = Arc::new(MemoryKeyStore::default());
        let keyring = Arc::new(open(&store, mode));
        let acme = tenant("acme");
        let alice = SubjectId::from_external_key(acme, "psa", "alice");
        let vault = SubjectVault::new(Arc::clone(&keyring), store.clone(), Arc::new(clock()));
        let sealed = vault.seal(alice, &ctx(acme), b"203.0.113.7").unwrap();
        keyring.rotate(SecretKey::generate().unwrap()).unwrap();

        assert_eq!(
            keyring.retire(1, &KeyUsage::default()),
            Err(Error::KeyInUse {
                version: 1,
                envelopes: 1
            }),
            "{mode:?}"
        );
        assert_eq!(keyring.versions(), [1, 2], "nothing was retired");

        assert_eq!(vault.rewrap().unwrap(), 1);
        keyring.retire(1, &KeyUsage::default()).unwrap();
        let restarted = SubjectVault::new(
            Arc::new(open(&store, mode)),
            store.clone(),
            Arc::new(clock()),
        );
        assert_eq!(
            restarted.open(&ctx(acme), &sealed).unwrap(),
            b"203.0.113.7",
            "{mode:?}"
        );
    }
}

#[test]
fn the_store_refuses_a_wrong_root_key_and_a_mode_change() {
    let store = Arc::new(MemoryKeyStore::default());
    drop(open(&store, DataKeyMode::Random));
    let wrong = Keyring::from_store(
        store.clone(),
        &SecretKey::from_bytes([8; 32]),
        DataKeyMode::Random,
    );
    assert_eq!(wrong.err(), Some(Error::Decrypt));
    let other_mode = Keyring::from_store(store.clone(), &root(), DataKeyMode::Derived);
    assert!(matches!(other_mode, Err(Error::InvalidConfig(_))));
}

#[test]
fn two_keyrings_over_one_store_do_not_overwrite_each_others_rotation() {
    let store = Arc::new(MemoryKeyStore::default());
    let a = open(&store, DataKeyMode::Derived);
    let b = open(&store, DataKeyMode::Derived);
    a.rotate(SecretKey::generate().unwrap()).unwrap();
    assert!(matches!(
        b.rotate(SecretKey::generate().unwrap()),
        Err(Error::KeyringChanged)
    ));
    assert_eq!(b.versions(), [1], "a failed rotation changes nothing");
    assert_eq!(open(&store, DataKeyMode::Derived).versions(), [1, 2]);
}

#[test]
fn shredding_a_tenant_erases_every_copy_of_its_data() {
    let store = Arc::new(MemoryKeyStore::default());
    let keyring = open(&store, DataKeyMode::Random);
    let (acme, globex) = (tenant("acme"), tenant("globex"));
    let sealed = keyring.seal(&ctx(acme), b"ticket text").unwrap();
    let backup_copy = sealed.clone();
    keyring.rotate(SecretKey::generate().unwrap()).unwrap();
    let newer = keyring.seal(&ctx(acme), b"newer").unwrap();
    let theirs = keyring.seal(&ctx(globex), b"globex").unwrap();
    let index = keyring
        .blind_index(acme, "contact", "email", BlindIndexConfig::default())
        .unwrap();
    let token = index.compute("alice@example.com");

    let dpo = ActorId::from_external_key(acme, "psa.user", "dpo");
    let receipt = keyring.shred_tenant(acme, dpo, &clock()).unwrap();
    assert_eq!(receipt.tenant, acme);
    assert_eq!(receipt.actor, dpo);
    assert_eq!(
        receipt.at,
        Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap()
    );
    assert_eq!(receipt.key_versions, [1, 2]);
    assert_eq!(
        store.tenant_keys(acme).unwrap(),
        Some(StoredTenantKeys::Shredded(receipt.clone()))
    );

    let erased = Err(Error::TenantShredded { tenant: acme });
    for envelope in [&sealed, &backup_copy, &newer] {
        assert_eq!(keyring.open(&ctx(acme), envelope), erased);
    }
    assert_eq!(keyring.seal(&ctx(acme), b"again"), erased);
    assert!(matches!(
        keyring.blind_index(acme, "contact", "email", BlindIndexConfig::default()),
        Err(Error::TenantShredded { tenant }) if tenant == acme
    ));
    assert!(matches!(
        keyring.deterministic(acme, "contact", "tax_id"),
        Err(Error::TenantShredded { .. })
    ));
    // The index built before still computes (it holds its own derived key),
    // which is why the shred receipt must be followed by dropping it.
    assert_eq!(index.compute("alice@example.com"), token);

    // Other tenants are untouched.
    assert_eq!(keyring.open(&ctx(globex), &theirs).unwrap(), b"globex");

    // After a restart, from the store alone, still erased.
    let reopened = open(&store, DataKeyMode::Random);
    assert_eq!(reopened.open(&ctx(acme), &backup_copy), erased);
    assert_eq!(reopened.open(&ctx(globex), &theirs).unwrap(), b"globex");

    // Shredding again returns the first receipt.
    let later = ActorId::from_external_key(acme, "psa.user", "someone-else");
    assert_eq!(
        reopened.shred_tenant(acme, later, &clock()).unwrap(),
        receipt
    );
}

#[test]
fn a_tenant_shredded_before_it_had_keys_never_gets_any() {
    let store = Arc::new(MemoryKeyStore::default());
    let keyring = open(&store, DataKeyMode::Random);
    let acme = tenant("acme");
    let dpo = ActorId::from_external_key(acme, "psa.user", "dpo");
    let receipt = keyring.shred_tenant(acme, dpo, &clock()).unwrap();
    assert!(receipt.key_versions.is_empty());
    assert_eq!(
        keyring.seal(&ctx(acme), b"x"),
        Err(Error::TenantShredded { tenant: acme })
    );
}

#[test]
fn shredding_a_tenant_also_erases_its_subjects() {
    let store = Arc::new(MemoryKeyStore::default());
    let keyring = Arc::new(open(&store, DataKeyMode::Random));
    let acme = tenant("acme");
    let alice = SubjectId::from_external_key(acme, "psa", "alice");
    let vault = SubjectVault::new(keyring.clone(), store.clone(), Arc::new(clock()));
    let audit = FieldContext::new(acme, "audit_event", "e-1", "ip").unwrap();
    let sealed = vault.seal(alice, &audit, b"203.0.113.7").unwrap();
    assert_eq!(vault.open(&audit, &sealed).unwrap(), b"203.0.113.7");

    let dpo = ActorId::from_external_key(acme, "psa.user", "dpo");
    keyring.shred_tenant(acme, dpo, &clock()).unwrap();
    // The vault that had alice's key cached drops it...
    assert_eq!(
        vault.open(&audit, &sealed),
        Err(Error::TenantShredded { tenant: acme })
    );
    assert_eq!(
        vault.seal(alice, &audit, b"x"),
        Err(Error::TenantShredded { tenant: acme })
    );
    // ...and a fresh vault (nothing cached) cannot unwrap it either.
    let restarted = SubjectVault::new(keyring, store, Arc::new(clock()));
    assert_eq!(
        restarted.open(&audit, &sealed),
        Err(Error::TenantShredded { tenant: acme })
    );
}

#[test]
fn derived_keyrings_cannot_shred_a_tenant() {
    let acme = tenant("acme");
    let dpo = ActorId::from_external_key(acme, "psa.user", "dpo");
    let in_memory = Keyring::new(root());
    let stored = open(&Arc::new(MemoryKeyStore::default()), DataKeyMode::Derived);
    for keyring in [in_memory, stored] {
        let sealed = keyring.seal(&ctx(acme), b"x").unwrap();
        assert!(matches!(
            keyring.shred_tenant(acme, dpo, &clock()),
            Err(Error::InvalidConfig(_))
        ));
        assert_eq!(keyring.open(&ctx(acme), &sealed).unwrap(), b"x");
    }
}

#[test]
fn search_keys_survive_rotation_retirement_and_restart() {
    for mode in [DataKeyMode::Derived, DataKeyMode::Random] {
        let store = Arc::new(MemoryKeyStore::default());
        let keyring = open(&store, mode);
        let acme = tenant("acme");
        let config = BlindIndexConfig::default();
        let token = keyring
            .blind_index(acme, "contact", "email", config)
            .unwrap()
            .compute("alice@example.com");
        let sealed = keyring
            .deterministic(acme, "contact", "tax_id")
            .unwrap()
            .encrypt(b"GB123")
            .unwrap();

        keyring.rotate(SecretKey::generate().unwrap()).unwrap();
        keyring.retire(1, &KeyUsage::default()).unwrap();
        let reopened = open(&store, mode);
        for k in [&keyring, &reopened] {
            let index = k.blind_index(acme, "contact", "email", config).unwrap();
            assert_eq!(index.compute("alice@example.com"), token, "{mode:?}");
            let cipher = k.deterministic(acme, "contact", "tax_id").unwrap();
            assert_eq!(cipher.encrypt(b"GB123").unwrap(), sealed, "{mode:?}");
            assert_eq!(cipher.decrypt(&sealed).unwrap(), b"GB123");
        }

        // Per tenant and per field: other fields and tenants get other tokens.
        let phone = keyring
            .blind_index(acme, "contact", "phone", config)
            .unwrap();
        assert_ne!(phone.compute("alice@example.com"), token);
        let globex = keyring
            .blind_index(tenant("globex"), "contact", "email", config)
            .unwrap();
        assert_ne!(globex.compute("alice@example.com"), token);
    }
}

#[test]
fn in_memory_search_keys_survive_rotation() {
    let keyring = Keyring::new(root());
    let acme = tenant("acme");
    let config = BlindIndexConfig::default();
    let before = keyring
        .blind_index(acme, "contact", "email", config)
        .unwrap()
        .compute("a@example.com");
    keyring.rotate(SecretKey::generate().unwrap()).unwrap();
    keyring.retire(1, &KeyUsage::default()).unwrap();
    let after = keyring
        .blind_index(acme, "contact", "email", config)
        .unwrap()
        .compute("a@example.com");
    assert_eq!(before, after);
    // The search key is not the master key itself.
    let from_master = custodia_crypt::BlindIndex::new(&root(), acme, "contact", "email", config)
        .unwrap()
        .compute("a@example.com");
    assert_ne!(from_master, before);
}

#[test]
fn a_stored_random_keyring_survives_a_restart_in_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.cst");
    let acme = tenant("acme");
    let globex = tenant("globex");
    let file = || FileKeyStore::open(&path, &root()).unwrap();

    let keyring = Keyring::from_store(file(), &root(), DataKeyMode::Random).unwrap();
    let acmes = keyring.seal(&ctx(acme), b"acme data").unwrap();
    let globexes = keyring.seal(&ctx(globex), b"globex data").unwrap();
    keyring.rotate(SecretKey::generate().unwrap()).unwrap();
    drop(keyring);

    let keyring =
        Keyring::from_store_with_provider(&RUST_CRYPTO, file(), &root(), DataKeyMode::Random)
            .unwrap();
    assert_eq!(keyring.versions(), [1, 2]);
    assert_eq!(keyring.open(&ctx(acme), &acmes).unwrap(), b"acme data");
    let dpo = ActorId::from_external_key(acme, "psa.user", "dpo");
    keyring.shred_tenant(acme, dpo, &clock()).unwrap();
    drop(keyring);

    let keyring = Keyring::from_store(file(), &root(), DataKeyMode::Random).unwrap();
    assert_eq!(
        keyring.open(&ctx(acme), &acmes),
        Err(Error::TenantShredded { tenant: acme })
    );
    assert_eq!(
        keyring.open(&ctx(globex), &globexes).unwrap(),
        b"globex data"
    );
    // The file holds no trace of the data key in the clear, only wrapped
    // keys and the tombstone.
    let Some(StoredTenantKeys::Shredded(receipt)) = file().tenant_keys(acme).unwrap() else {
        panic!("no tombstone in the file");
    };
    assert_eq!(receipt.key_versions, [1]);
}

#[test]
fn the_keyring_record_round_trips_through_json() {
    let store = Arc::new(MemoryKeyStore::default());
    let keyring = open(&store, DataKeyMode::Random);
    keyring.rotate(SecretKey::generate().unwrap()).unwrap();
    keyring.retire(1, &KeyUsage::default()).unwrap();
    let record = store.keyring().unwrap().unwrap();
    let json = serde_json::to_value(&record).unwrap();
    assert_eq!(json["format"], 1);
    assert_eq!(json["mode"], "random");
    assert_eq!(json["primary"], 2);
    assert_eq!(json["retired"], serde_json::json!([1]));
    assert_eq!(json["versions"][0]["version"], 2);
    let back: custodia_crypt::KeyringRecord = serde_json::from_value(json).unwrap();
    assert_eq!(back, record);
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Whatever tenants seal and whichever are shredded, the shredded
        /// ones read nothing (before and after a restart) and the others
        /// read everything.
        #[test]
        fn shredding_erases_exactly_the_shredded_tenants(
            writes in proptest::collection::vec((0u8..4, proptest::collection::vec(any::<u8>(), 0..64)), 1..12),
            shredded in proptest::collection::btree_set(0u8..4, 0..4),
            rotate_after in 0usize..12,
        ) {
            let store = Arc::new(MemoryKeyStore::default());
            let keyring = open(&store, DataKeyMode::Random);
            let t = |n: u8| tenant(&format!("t{n}"));
            let mut sealed = Vec::new();
            for (i, (n, plaintext)) in writes.iter().enumerate() {
                if i == rotate_after {
                    keyring.rotate(SecretKey::generate().unwrap()).unwrap();
                }
                sealed.push((*n, plaintext.clone(), keyring.seal(&ctx(t(*n)), plaintext).unwrap()));
            }
            for &n in &shredded {
                let dpo = ActorId::from_external_key(t(n), "psa.user", "dpo");
                keyring.shred_tenant(t(n), dpo, &clock()).unwrap();
            }
            let reopened = open(&store, DataKeyMode::Random);
            for k in [&keyring, &reopened] {
                for (n, plaintext, envelope) in &sealed {
                    let opened = k.open(&ctx(t(*n)), envelope);
                    if shredded.contains(n) {
                        prop_assert_eq!(opened, Err(Error::TenantShredded { tenant: t(*n) }));
                    } else {
                        prop_assert_eq!(opened, Ok(plaintext.clone()));
                    }
                }
            }
        }

        /// Blind tokens and deterministic ciphertexts do not change however
        /// often the data keys rotate.
        #[test]
        fn search_tokens_are_rotation_stable(
            value in "[a-z@.]{1,24}",
            rotations in 1usize..4,
            random in any::<bool>(),
        ) {
            let mode = if random { DataKeyMode::Random } else { DataKeyMode::Derived };
            let keyring = open(&Arc::new(MemoryKeyStore::default()), mode);
            let acme = tenant("acme");
            let config = BlindIndexConfig::default();
            let token = keyring.blind_index(acme, "c", "f", config).unwrap().compute(&value);
            let det = keyring.deterministic(acme, "c", "f").unwrap().encrypt(value.as_bytes()).unwrap();
            for _ in 0..rotations {
                let old = keyring.primary();
                keyring.rotate(SecretKey::generate().unwrap()).unwrap();
                keyring.retire(old, &KeyUsage::default()).unwrap();
            }
            prop_assert_eq!(keyring.blind_index(acme, "c", "f", config).unwrap().compute(&value), token);
            prop_assert_eq!(keyring.deterministic(acme, "c", "f").unwrap().encrypt(value.as_bytes()).unwrap(), det);
        }
    }
}

#[test]
fn keyring_seal_into_appends_and_counts() {
    let keyring = Keyring::new(root());
    let acme = tenant("acme");
    let mut buffer = Vec::new();
    keyring.seal_into(&ctx(acme), b"one", &mut buffer).unwrap();
    let first_len = buffer.len();
    keyring.seal_into(&ctx(acme), b"two", &mut buffer).unwrap();
    assert_eq!(buffer.len(), 2 * first_len);
    let (first, second) = buffer.split_at(first_len);
    assert_eq!(keyring.open(&ctx(acme), first).unwrap(), b"one");
    assert_eq!(keyring.open(&ctx(acme), second).unwrap(), b"two");
    assert_eq!(
        keyring.open(&ctx(tenant("globex")), second),
        Err(Error::Decrypt)
    );
}

#[test]
fn a_wrapped_key_copied_to_another_tenant_or_version_does_not_unwrap() {
    let store = Arc::new(MemoryKeyStore::default());
    let keyring = open(&store, DataKeyMode::Random);
    let (acme, globex) = (tenant("acme"), tenant("globex"));
    keyring.seal(&ctx(acme), b"x").unwrap();
    let Some(StoredTenantKeys::Active { data_keys, .. }) = store.tenant_keys(acme).unwrap() else {
        panic!("no keys for acme");
    };
    // Plant acme's wrapped key as globex's, and as acme's version 2.
    store
        .insert_tenant_key_if_absent(
            globex,
            custodia_crypt::TenantKeySlot::Data { version: 1 },
            data_keys[&1].clone(),
        )
        .unwrap();
    assert_eq!(keyring.seal(&ctx(globex), b"x"), Err(Error::Decrypt));
    keyring.rotate(SecretKey::generate().unwrap()).unwrap();
    store
        .insert_tenant_key_if_absent(
            acme,
            custodia_crypt::TenantKeySlot::Data { version: 2 },
            data_keys[&1].clone(),
        )
        .unwrap();
    // Refused before decryption: the envelope names the version-1 key.
    assert_eq!(
        keyring.seal(&ctx(acme), b"x"),
        Err(Error::UnknownKey(KeyId::Tenant { version: 1 }))
    );
}

/// A tenant shred leaves its subjects' keys in the store, still wrapped
/// under the tenant key of their day, but unreadable for good. They must
/// neither stop [`SubjectVault::rewrap`] from moving every other tenant's
/// subject keys after a rotation, nor keep the old version from retiring:
/// otherwise one offboarded customer pins every old key version forever.
#[test]
fn a_shredded_tenant_blocks_neither_rewrap_nor_retirement() {
    let store = Arc::new(MemoryKeyStore::default());
    let keyring = Arc::new(open(&store, DataKeyMode::Random));
    let vault = SubjectVault::new(keyring.clone(), store.clone(), Arc::new(clock()));
    let audit = |t| FieldContext::new(t, "audit_event", "e-1", "ip").unwrap();
    let mut sealed = Vec::new();
    // Several tenants, so the shredded one is neither only first nor only last.
    for name in ["acme", "globex", "initech", "umbrella"] {
        let t = tenant(name);
        let subject = SubjectId::from_external_key(t, "psa", "alice");
        sealed.push((t, vault.seal(subject, &audit(t), name.as_bytes()).unwrap()));
    }
    let acme = tenant("acme");
    // A tenant-key envelope too, under the version about to retire.
    sealed.push((acme, keyring.seal(&audit(acme), b"acme").unwrap()));
    let dpo = ActorId::from_external_key(acme, "psa.user", "dpo");
    keyring.shred_tenant(acme, dpo, &clock()).unwrap();
    keyring.rotate(SecretKey::generate().unwrap()).unwrap();

    // Every live subject key moves; the shredded tenant's cannot, and need not.
    assert_eq!(vault.rewrap(), Ok(3));
    assert_eq!(vault.rewrap(), Ok(0));
    assert_eq!(keyring.retire(1, &KeyUsage::default()), Ok(()));
    for (t, envelope) in &sealed {
        let opened = vault.open(&audit(*t), envelope);
        if *t == acme {
            // Erased, not merely sealed under a retired version.
            assert_eq!(opened, Err(Error::TenantShredded { tenant: acme }));
        } else {
            assert!(opened.is_ok(), "{t}: {opened:?}");
        }
    }
}

/// The keyring record's version list is plain metadata in the store (only
/// each key inside is sealed under the root key), so whoever can write the
/// store but holds no root key could set the primary back to an older
/// version — one rotated away from because it leaked — and every process
/// would seal new data under it at its next sync. The primary is always the
/// newest version a keyring ever had, so a record that says otherwise is
/// refused, loudly, instead of followed.
#[test]
fn a_record_whose_primary_is_not_the_newest_version_is_refused() {
    let store = Arc::new(MemoryKeyStore::default());
    let keyring = open(&store, DataKeyMode::Derived);
    let acme = tenant("acme");
    keyring.rotate(SecretKey::generate().unwrap()).unwrap();
    let genuine = store.keyring().unwrap().unwrap();

    let tampered = |change: &dyn Fn(&mut custodia_crypt::KeyringRecord)| {
        let mut record = genuine.clone();
        change(&mut record);
        record
    };
    let rolled_back = tampered(&|r| r.primary = 1);
    let retired_and_live = tampered(&|r| r.retired.push(1));
    let beyond_retired = tampered(&|r| r.retired.push(3));
    let listed_twice = tampered(&|r| {
        let first = r.versions[0].clone();
        r.versions.push(first);
    });
    for (what, bad) in [
        ("primary rolled back", rolled_back),
        ("a version both live and retired", retired_and_live),
        ("a retired version newer than the primary", beyond_retired),
        ("a version listed twice", listed_twice),
    ] {
        let current = store.keyring().unwrap().unwrap();
        assert!(store.replace_keyring(Some(&current), bad).unwrap());
        let refused = Keyring::from_store(store.clone(), &root(), DataKeyMode::Derived);
        assert!(
            matches!(&refused, Err(Error::Store(_))),
            "{what}: {refused:?}"
        );
        // A process already running refuses it at its next sync, and seals
        // nothing under what the record names.
        assert!(matches!(keyring.refresh(), Err(Error::Store(_))), "{what}");
        assert_eq!(keyring.primary(), 2, "{what}");
        if let Ok(sealed) = keyring.seal(&ctx(acme), b"x") {
            let key = Envelope::decode(&sealed).unwrap().key_id();
            assert_eq!(key, KeyId::Tenant { version: 2 }, "{what}");
        }
        let current = store.keyring().unwrap().unwrap();
        assert!(
            store
                .replace_keyring(Some(&current), genuine.clone())
                .unwrap()
        );
    }
    keyring.refresh().unwrap();
    let sealed = keyring.seal(&ctx(acme), b"x").unwrap();
    assert_eq!(
        Envelope::decode(&sealed).unwrap().key_id(),
        KeyId::Tenant { version: 2 }
    );
}
