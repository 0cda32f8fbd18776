//! Keyring: versions, rotation, re-encryption, retirement, tenant separation.

use custodia_core::TenantId;
use custodia_crypt::{
    Error, FieldCipher, FieldContext, KeyId, KeyUsage, Keyring, RUST_CRYPTO, SecretKey,
};

fn ctx(tenant: &str) -> FieldContext<'static> {
    FieldContext::new(
        TenantId::from_external_key("test", tenant),
        "ticket",
        "T-9",
        "body",
    )
    .unwrap()
}

fn master(byte: u8) -> SecretKey {
    SecretKey::from_bytes([byte; 32])
}

#[test]
fn rotation_keeps_old_ciphertexts_readable_and_seals_with_the_new_primary() {
    let keyring = Keyring::new(master(1));
    let acme = ctx("acme");
    let v1 = keyring.seal(&acme, b"before").unwrap();
    assert_eq!(keyring.rotate(master(2)).unwrap(), 2);
    let v2 = keyring.seal(&acme, b"after").unwrap();
    assert_eq!(keyring.open(&acme, &v1).unwrap(), b"before");
    assert_eq!(keyring.open(&acme, &v2).unwrap(), b"after");
    let usage = KeyUsage::scan([v1.as_slice(), v2.as_slice(), b"garbage"]);
    assert_eq!(usage.tenant_count(1), 1);
    assert_eq!(usage.tenant_count(2), 1);
    assert_eq!(usage.undecodable(), 1);
}

#[test]
fn retire_refuses_while_anything_uses_the_version() {
    let keyring = Keyring::new(master(1));
    let acme = ctx("acme");
    let old = keyring.seal(&acme, b"x").unwrap();
    keyring.rotate(master(2)).unwrap();
    let usage = KeyUsage::scan([old.as_slice()]);
    assert_eq!(
        keyring.retire(1, &usage),
        Err(Error::KeyInUse {
            version: 1,
            envelopes: 1
        })
    );
    assert!(matches!(
        keyring.retire(2, &KeyUsage::default()),
        Err(Error::KeyInUse { .. })
    ));

    let moved = keyring.reencrypt(&acme, &old).unwrap();
    keyring
        .retire(1, &KeyUsage::scan([moved.as_slice()]))
        .unwrap();
    assert_eq!(keyring.versions(), [2]);
    assert_eq!(keyring.open(&acme, &moved).unwrap(), b"x");
    assert_eq!(
        keyring.open(&acme, &old),
        Err(Error::UnknownKey(KeyId::Tenant { version: 1 }))
    );
}

#[test]
fn reencrypt_leaves_primary_envelopes_alone_but_checks_them() {
    let keyring = Keyring::new(master(1));
    let acme = ctx("acme");
    let sealed = keyring.seal(&acme, b"x").unwrap();
    assert_eq!(keyring.reencrypt(&acme, &sealed).unwrap(), sealed);
    let mut forged = sealed.clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    assert_eq!(keyring.reencrypt(&acme, &forged), Err(Error::Decrypt));
}

#[test]
fn tenants_get_independent_keys() {
    let keyring = Keyring::new(master(1));
    let sealed = keyring.seal(&ctx("acme"), b"acme only").unwrap();
    assert_eq!(keyring.open(&ctx("globex"), &sealed), Err(Error::Decrypt));
    // And the other way round. (That the derived key itself includes the
    // tenant is pinned by tests/known_answers.rs.)
    let globex_sealed = keyring.seal(&ctx("globex"), b"y").unwrap();
    assert_eq!(
        keyring.open(&ctx("acme"), &globex_sealed),
        Err(Error::Decrypt)
    );
}

#[test]
fn keyrings_on_either_provider_read_each_other() {
    let ring = Keyring::new(master(5));
    let rust = Keyring::with_provider(&RUST_CRYPTO, master(5));
    let acme = ctx("acme");
    assert_eq!(
        rust.open(&acme, &ring.seal(&acme, b"a").unwrap()).unwrap(),
        b"a"
    );
    assert_eq!(
        ring.open(&acme, &rust.seal(&acme, b"b").unwrap()).unwrap(),
        b"b"
    );
}

#[test]
fn subject_envelopes_are_not_opened_with_tenant_keys() {
    let keyring = Keyring::new(master(1));
    let acme = ctx("acme");
    let subject = custodia_core::SubjectId::from_external_key(acme.tenant(), "psa", "1");
    let key = KeyId::Subject {
        subject,
        version: 1,
    };
    let sealed = FieldCipher::new(key, &master(1))
        .unwrap()
        .seal(&acme, b"ip")
        .unwrap();
    assert_eq!(keyring.open(&acme, &sealed), Err(Error::UnknownKey(key)));
}

#[test]
fn usage_counts_encryptions_per_tenant_key() {
    let keyring = Keyring::new(master(1));
    // A thread reserves seals in batches and gives back the unused part when
    // it exits, so the counts are exact once the sealing thread is done.
    std::thread::scope(|scope| {
        // Joined explicitly: that waits for thread-local destructors too.
        scope
            .spawn(|| {
                for _ in 0..3 {
                    keyring.seal(&ctx("acme"), b"x").unwrap();
                }
                keyring.seal(&ctx("globex"), b"x").unwrap();
            })
            .join()
            .unwrap();
    });
    let mut counts: Vec<u64> = keyring.usage().iter().map(|u| u.sealed).collect();
    counts.sort();
    assert_eq!(counts, [1, 3]);
    assert!(
        keyring
            .usage()
            .iter()
            .all(|u| u.remaining() == custodia_crypt::NONCE_LIMIT - u.sealed)
    );
}

#[test]
fn debug_shows_versions_not_keys() {
    let keyring = Keyring::new(master(0xCD));
    let printed = format!("{keyring:?}");
    assert!(printed.contains("primary: 1"), "{printed}");
    assert!(
        !printed.to_lowercase().contains("cd, cd") && !printed.contains("205"),
        "{printed}"
    );
}

/// `Encrypted<T>` and text columns hold the `cst1.` text form: a scan of
/// such a column must count it, or `retire` would accept a "nothing uses
/// it" that is false and every value under the version would be lost.
#[test]
fn a_scan_of_text_envelopes_keeps_their_version_from_retiring() {
    let keyring = Keyring::new(master(1));
    let acme = ctx("acme");
    let text = custodia_crypt::envelope::to_text(&keyring.seal(&acme, b"x").unwrap());
    keyring.rotate(master(2)).unwrap();
    let usage = KeyUsage::scan([text.as_bytes()]);
    assert_eq!(usage.tenant_count(1), 1);
    assert_eq!(usage.undecodable(), 0);
    assert_eq!(
        keyring.retire(1, &usage),
        Err(Error::KeyInUse {
            version: 1,
            envelopes: 1
        })
    );
    // Text that only looks like an envelope is still not one.
    let usage = KeyUsage::scan([&b"cst1.!!"[..], b"cst1."]);
    assert_eq!(usage.undecodable(), 2);
    assert_eq!(
        keyring
            .open(&acme, &custodia_crypt::envelope::from_text(&text).unwrap())
            .unwrap(),
        b"x"
    );
}
