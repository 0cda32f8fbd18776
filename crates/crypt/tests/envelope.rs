//! Field envelopes: interop between providers, binding to context, bad input.

use custodia_core::{SubjectId, TenantId};
use custodia_crypt::envelope::{self, Envelope, MIN_ENVELOPE_LEN};
use custodia_crypt::{Error, FieldCipher, FieldContext, KeyId, RING, RUST_CRYPTO, SecretKey};
use proptest::prelude::*;

fn tenant(name: &str) -> TenantId {
    TenantId::from_external_key("test", name)
}

fn ctx(tenant_name: &str, record_id: &'static str) -> FieldContext<'static> {
    FieldContext::new(tenant(tenant_name), "ticket", record_id, "requester_email").unwrap()
}

fn key() -> SecretKey {
    SecretKey::from_bytes([42; 32])
}

const TENANT_KEY: KeyId = KeyId::Tenant { version: 3 };

#[test]
fn providers_open_each_others_envelopes() {
    let ring = FieldCipher::with_provider(&RING, TENANT_KEY, &key()).unwrap();
    let rust = FieldCipher::with_provider(&RUST_CRYPTO, TENANT_KEY, &key()).unwrap();
    let ctx = ctx("acme", "T-1");
    for plaintext in [&b""[..], b"x", b"alice@example.com", &[0xFF; 4096]] {
        assert_eq!(
            rust.open(&ctx, &ring.seal(&ctx, plaintext).unwrap())
                .unwrap(),
            plaintext
        );
        assert_eq!(
            ring.open(&ctx, &rust.seal(&ctx, plaintext).unwrap())
                .unwrap(),
            plaintext
        );
    }
}

#[test]
fn same_plaintext_seals_differently_each_time() {
    let cipher = FieldCipher::new(TENANT_KEY, &key()).unwrap();
    let ctx = ctx("acme", "T-1");
    assert_ne!(
        cipher.seal(&ctx, b"same").unwrap(),
        cipher.seal(&ctx, b"same").unwrap()
    );
}

#[test]
fn ciphertext_moved_to_another_place_fails() {
    let cipher = FieldCipher::new(TENANT_KEY, &key()).unwrap();
    let home = FieldContext::new(tenant("acme"), "ticket", "T-1", "requester_email").unwrap();
    let sealed = cipher.seal(&home, b"alice@example.com").unwrap();
    let elsewhere = [
        FieldContext::new(tenant("globex"), "ticket", "T-1", "requester_email").unwrap(),
        FieldContext::new(tenant("acme"), "contact", "T-1", "requester_email").unwrap(),
        FieldContext::new(tenant("acme"), "ticket", "T-2", "requester_email").unwrap(),
        FieldContext::new(tenant("acme"), "ticket", "T-1", "cc_email").unwrap(),
        // Shifting bytes between parts must not give the same associated data.
        FieldContext::new(tenant("acme"), "ticketT", "-1", "requester_email").unwrap(),
    ];
    for other in elsewhere {
        assert_eq!(
            cipher.open(&other, &sealed),
            Err(Error::Decrypt),
            "{other:?}"
        );
    }
    assert_eq!(cipher.open(&home, &sealed).unwrap(), b"alice@example.com");
}

#[test]
fn relabelled_key_id_fails() {
    // Same key bytes under another version label: the header is authenticated.
    let v3 = FieldCipher::new(TENANT_KEY, &key()).unwrap();
    let v4 = FieldCipher::new(KeyId::Tenant { version: 4 }, &key()).unwrap();
    let ctx = ctx("acme", "T-1");
    let mut sealed = v3.seal(&ctx, b"secret").unwrap();
    sealed[6] = 4;
    assert_eq!(v4.open(&ctx, &sealed), Err(Error::Decrypt));
    assert_eq!(
        v3.open(&ctx, &sealed),
        Err(Error::UnknownKey(KeyId::Tenant { version: 4 }))
    );
}

#[test]
fn wrong_key_fails() {
    let ctx = ctx("acme", "T-1");
    let sealed = FieldCipher::new(TENANT_KEY, &key())
        .unwrap()
        .seal(&ctx, b"secret")
        .unwrap();
    let other = FieldCipher::new(TENANT_KEY, &SecretKey::from_bytes([7; 32])).unwrap();
    assert_eq!(other.open(&ctx, &sealed), Err(Error::Decrypt));
}

#[test]
fn subject_keys_carry_the_subject() {
    let subject = SubjectId::from_external_key(tenant("acme"), "psa", "1017");
    let key_id = KeyId::Subject {
        subject,
        version: 1,
    };
    let cipher = FieldCipher::new(key_id, &key()).unwrap();
    let ctx = ctx("acme", "T-1");
    let sealed = cipher.seal(&ctx, b"203.0.113.9").unwrap();
    let envelope = Envelope::decode(&sealed).unwrap();
    assert_eq!(envelope.key_id(), key_id);
    assert_eq!(envelope.plaintext_len(), 11);
    assert_eq!(sealed.len(), 7 + 16 + 12 + 11 + 16);
    assert_eq!(cipher.open(&ctx, &sealed).unwrap(), b"203.0.113.9");
}

#[test]
fn every_malformation_has_its_own_error() {
    let cipher = FieldCipher::new(TENANT_KEY, &key()).unwrap();
    let ctx = ctx("acme", "T-1");
    let sealed = cipher.seal(&ctx, b"0123456789").unwrap();

    for len in 0..MIN_ENVELOPE_LEN {
        assert!(
            matches!(
                Envelope::decode(&sealed[..len]),
                Err(Error::Truncated { .. })
            ),
            "{len}"
        );
    }
    let mut wrong_version = sealed.clone();
    wrong_version[0] = 2;
    assert_eq!(
        Envelope::decode(&wrong_version),
        Err(Error::UnsupportedVersion(2))
    );
    let mut wrong_algorithm = sealed.clone();
    wrong_algorithm[1] = 9;
    assert_eq!(
        Envelope::decode(&wrong_algorithm),
        Err(Error::UnsupportedAlgorithm(9))
    );
    let mut wrong_kind = sealed.clone();
    wrong_kind[2] = 7;
    assert!(matches!(
        Envelope::decode(&wrong_kind),
        Err(Error::Malformed(_))
    ));
    let oversized = vec![1u8; envelope::MAX_ENVELOPE_LEN + 1];
    assert!(matches!(
        Envelope::decode(&oversized),
        Err(Error::Oversized { .. })
    ));

    // Every single bit flip after the header is caught by the tag.
    for byte in 7..sealed.len() {
        for bit in 0..8 {
            let mut flipped = sealed.clone();
            flipped[byte] ^= 1 << bit;
            assert_eq!(
                cipher.open(&ctx, &flipped),
                Err(Error::Decrypt),
                "byte {byte} bit {bit}"
            );
        }
    }
    // Truncating the tag is caught too, never mistaken for a shorter plaintext.
    assert!(cipher.open(&ctx, &sealed[..sealed.len() - 1]).is_err());
}

#[test]
fn text_form_round_trips_and_rejects_garbage() {
    let cipher = FieldCipher::new(TENANT_KEY, &key()).unwrap();
    let ctx = ctx("acme", "T-1");
    let sealed = cipher.seal(&ctx, &[0u8; 64]).unwrap();
    let text = envelope::to_text(&sealed);
    assert!(text.starts_with("cst1."));
    assert!(
        text.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    );
    assert_eq!(envelope::from_text(&text).unwrap(), sealed);
    assert!(matches!(
        envelope::from_text("cst2.AAAA"),
        Err(Error::Malformed(_))
    ));
    assert!(matches!(
        envelope::from_text("cst1.a+b/"),
        Err(Error::Malformed(_))
    ));
    assert!(matches!(envelope::from_text(""), Err(Error::Malformed(_))));
}

#[test]
fn empty_record_id_is_refused() {
    assert_eq!(
        FieldContext::new(tenant("acme"), "ticket", "", "email"),
        Err(Error::InvalidContext("empty record id"))
    );
}

proptest! {
    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = Envelope::decode(&bytes);
        let cipher = FieldCipher::new(TENANT_KEY, &key()).unwrap();
        prop_assert!(cipher.open(&ctx("acme", "T-1"), &bytes).is_err());
    }

    #[test]
    fn from_text_never_panics(text in any::<String>()) {
        let _ = envelope::from_text(&text);
        let _ = envelope::from_text(&format!("cst1.{text}"));
    }

    #[test]
    fn seal_then_open_round_trips(
        plaintext in proptest::collection::vec(any::<u8>(), 0..512),
        record_id in "[A-Za-z0-9-]{1,16}",
        version in any::<u32>(),
    ) {
        let cipher = FieldCipher::new(KeyId::Tenant { version }, &key()).unwrap();
        let ctx = FieldContext::new(tenant("acme"), "ticket", &record_id, "body").unwrap();
        let sealed = cipher.seal(&ctx, &plaintext).unwrap();
        prop_assert_eq!(sealed.len(), MIN_ENVELOPE_LEN + plaintext.len());
        prop_assert_eq!(cipher.open(&ctx, &sealed).unwrap(), plaintext);
    }
}

#[test]
fn long_contexts_and_reused_buffers_seal_and_open() {
    let v1 = KeyId::Tenant { version: 1 };
    let ring = FieldCipher::with_provider(&RING, v1, &key()).unwrap();
    let rust = FieldCipher::with_provider(&RUST_CRYPTO, v1, &key()).unwrap();
    let long_id = "r".repeat(custodia_crypt::MAX_CONTEXT_PART);
    let other_id = format!("{}s", &long_id[1..]);
    let t = tenant("acme");
    // Associated data past the stack buffer takes the heap path.
    let long = FieldContext::new(t, "ticket", &long_id, "body").unwrap();
    let other = FieldContext::new(t, "ticket", &other_id, "body").unwrap();
    let mut buffer = b"prefix".to_vec();
    ring.seal_into(&long, b"hello", &mut buffer).unwrap();
    assert_eq!(&buffer[..6], b"prefix", "appended, not overwritten");
    let sealed = buffer[6..].to_vec();
    assert_eq!(rust.open(&long, &sealed).unwrap(), b"hello");
    assert_eq!(rust.open(&other, &sealed), Err(Error::Decrypt));

    // A failed seal leaves the buffer as it was.
    let too_big = vec![0u8; envelope::MAX_PLAINTEXT_LEN + 1];
    let before = buffer.clone();
    assert!(matches!(
        ring.seal_into(&long, &too_big, &mut buffer),
        Err(Error::PlaintextTooLarge { .. })
    ));
    assert_eq!(buffer, before);
}

/// One envelope has one text spelling: non-zero trailing bits, padding or
/// white space are refused, so a text column cannot hold two different
/// strings of one ciphertext (which would defeat a uniqueness check or a
/// hash over the column).
#[test]
fn the_text_form_has_one_spelling() {
    let cipher = FieldCipher::new(TENANT_KEY, &key()).unwrap();
    let ctx = ctx("acme", "T-1");
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    // Plaintext lengths 0, 1, 2 give envelopes of every length modulo 3.
    for n in 0..3 {
        let sealed = cipher.seal(&ctx, &vec![0u8; n]).unwrap();
        let text = envelope::to_text(&sealed);
        let spellings = alphabet
            .iter()
            .filter(|&&c| {
                let mut other = text.clone();
                other.pop();
                other.push(char::from(c));
                envelope::from_text(&other).is_ok_and(|b| b == sealed)
            })
            .count();
        assert_eq!(spellings, 1, "{n}");
        for suffix in ["=", "==", " ", "\n"] {
            assert!(envelope::from_text(&format!("{text}{suffix}")).is_err());
        }
    }
}
