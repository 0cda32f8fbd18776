//! C2SP signed-note checkpoints: signing, verification, parsing, and
//! detecting truncated and forked logs from an old checkpoint.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use custodia_audit::Error;
use custodia_audit::checkpoint::{
    self, Checkpoint, Signer, Verifier, key_hash, open, parse_unverified, split_note,
    verify_extension,
};
use custodia_audit::merkle::MerkleTree;
use proptest::prelude::*;

fn tree(n: u32) -> MerkleTree {
    let mut tree = MerkleTree::new();
    for i in 0..n {
        tree.push(format!("event {i}").as_bytes());
    }
    tree
}

const ORIGIN: &str = "audit.example.com/acme";

#[test]
fn signed_note_has_the_c2sp_shape() {
    let signer = Signer::generate(ORIGIN).unwrap();
    let t = tree(5);
    let note = signer.sign(&Checkpoint::new(ORIGIN, t.head())).unwrap();
    let lines: Vec<&str> = note.split('\n').collect();
    assert_eq!(lines[0], ORIGIN);
    assert_eq!(lines[1], "5");
    assert_eq!(lines[2], B64.encode(t.root()));
    assert_eq!(lines[3], "");
    let sig = lines[4]
        .strip_prefix("\u{2014} audit.example.com/acme ")
        .unwrap();
    let blob = B64.decode(sig).unwrap();
    assert_eq!(blob.len(), 4 + 64);
    assert_eq!(blob[..4], signer.verifier().key_hash());
    assert_eq!(lines[5], "");
    assert_eq!(lines.len(), 6);
}

#[test]
fn key_hash_follows_the_note_spec() {
    // key hash = SHA-256(name || "\n" || 0x01 || public key)[:4]
    let signer = Signer::generate("example.com/log").unwrap();
    let text = signer.verifier().to_string();
    let parts: Vec<&str> = text.splitn(3, '+').collect();
    let key = B64.decode(parts[2]).unwrap();
    assert_eq!(key[0], 0x01);
    let mut input = b"example.com/log\n\x01".to_vec();
    input.extend_from_slice(&key[1..]);
    let digest = ring::digest::digest(&ring::digest::SHA256, &input);
    assert_eq!(parts[1], hex::encode(&digest.as_ref()[..4]));
    let public: [u8; 32] = key[1..].try_into().unwrap();
    assert_eq!(
        key_hash("example.com/log", &public),
        signer.verifier().key_hash()
    );
}

#[test]
fn keys_round_trip_through_their_text_forms() {
    let signer = Signer::generate(ORIGIN).unwrap();
    let text = signer.to_key_string();
    assert!(text.starts_with("PRIVATE+KEY+audit.example.com/acme+"));
    let again = Signer::from_key_string(&text).unwrap();
    assert_eq!(again.verifier(), signer.verifier());
    let verifier = Verifier::from_key_string(&signer.verifier().to_string()).unwrap();
    assert_eq!(verifier, signer.verifier());
    assert!(!format!("{signer:?}").contains(&text[20..]));
    // A wrong hash is refused.
    let mut bad = signer.verifier().to_string();
    let at = bad.find('+').unwrap() + 1;
    bad.replace_range(at..at + 1, if &bad[at..at + 1] == "0" { "1" } else { "0" });
    assert!(Verifier::from_key_string(&bad).is_err());
    assert!(Signer::from_key_string("PRIVATE+KEY+x").is_err());
    assert!(Verifier::from_key_string("").is_err());
}

/// The example of golang.org/x/mod/sumdb/note: Ed25519 is deterministic, so
/// the note must come out byte for byte, and Go's verifier key must open it.
#[test]
fn go_sumdb_note_example_interoperates() {
    let skey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    let vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    let text = "If you think cryptography is the answer to your problem,\n\
                then you don't know what your problem is.\n";
    let want = format!(
        "{text}\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
    );
    let signer = Signer::from_key_string(skey).unwrap();
    assert_eq!(signer.verifier().to_string(), vkey);
    assert_eq!(signer.sign_text(text).unwrap(), want);
    let verifier = Verifier::from_key_string(vkey).unwrap();
    assert_eq!(checkpoint::open_text(&want, &verifier).unwrap(), text);
    let altered = want.replace("cryptography", "cryptographY");
    assert!(checkpoint::open_text(&altered, &verifier).is_err());
}

#[test]
fn open_checks_the_signature() {
    let signer = Signer::generate(ORIGIN).unwrap();
    let other = Signer::generate(ORIGIN).unwrap();
    let note = signer
        .sign(&Checkpoint::new(ORIGIN, tree(3).head()))
        .unwrap();
    let cp = open(&note, &signer.verifier(), ORIGIN).unwrap();
    assert_eq!(cp.size, 3);
    assert!(matches!(
        open(&note, &other.verifier(), ORIGIN),
        Err(Error::Signature(_))
    ));
    // Change the size: the signature no longer covers the text.
    let forged = note.replacen("\n3\n", "\n4\n", 1);
    assert!(matches!(
        open(&forged, &signer.verifier(), ORIGIN),
        Err(Error::Signature(_))
    ));
    assert_eq!(parse_unverified(&forged).unwrap().size, 4);
}

#[test]
fn notes_with_several_signatures() {
    let a = Signer::generate("witness-a").unwrap();
    let b = Signer::generate("witness-b").unwrap();
    let cp = Checkpoint::new(ORIGIN, tree(2).head());
    let note_a = a.sign(&cp).unwrap();
    let note_b = b.sign(&cp).unwrap();
    let sig_b = note_b.rsplit_once("\n\n").unwrap().1;
    let both = format!("{note_a}{sig_b}");
    assert_eq!(split_note(&both).unwrap().1.len(), 2);
    assert_eq!(open(&both, &a.verifier(), ORIGIN).unwrap(), cp);
    assert_eq!(open(&both, &b.verifier(), ORIGIN).unwrap(), cp);
}

#[test]
fn bodies_parse_strictly() {
    // The Go sumdb tree note (golang.org/x/mod/sumdb/tlog note_test.go).
    let go = "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n";
    let cp = Checkpoint::parse_body(go).unwrap();
    assert_eq!(cp.origin, "go.sum database tree");
    assert_eq!(cp.size, 123456789012);
    assert_eq!(cp.root, custodia_audit::merkle::leaf_hash(b"hello world"));
    assert_eq!(cp.body().unwrap(), go);
    for bad in [
        "go.sum database tree\n0xabcdef\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
        "go.sum database tree\n0123\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
        "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBTOOBIG=\n",
        "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=",
        "\n1\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
        "origin\n1\n",
    ] {
        assert!(Checkpoint::parse_body(bad).is_err(), "{bad:?}");
    }
    let mut with_ext = Checkpoint::new(ORIGIN, tree(1).head());
    with_ext.extensions.push("timestamp 1700000000".into());
    let body = with_ext.body().unwrap();
    assert_eq!(Checkpoint::parse_body(&body).unwrap(), with_ext);
}

#[test]
fn a_newer_checkpoint_extends_an_older_one() {
    let t = tree(20);
    let old = Checkpoint::new(
        ORIGIN,
        custodia_audit::TreeHead {
            size: 7,
            root: t.root_at(7).unwrap(),
        },
    );
    let new = Checkpoint::new(ORIGIN, t.head());
    let proof = t.consistency_proof(7, 20).unwrap();
    verify_extension(&old, &new, &proof).unwrap();
    // From the empty tree, anything extends.
    let empty = Checkpoint::new(ORIGIN, MerkleTree::new().head());
    verify_extension(&empty, &new, &[]).unwrap();
    // Another origin is refused.
    let elsewhere = Checkpoint::new("other", t.head());
    assert!(verify_extension(&old, &elsewhere, &proof).is_err());
}

/// A monitor holding log A's checkpoint is offered a newer one of log B,
/// signed by the same key (one key, one origin per tenant) and even
/// extending A's tree (two logs can hold the same records): it is another
/// log's, a finding with both origins named, as `open` reports it.
#[test]
fn another_logs_checkpoint_does_not_extend_this_ones() {
    const LOG_A: &str = "audit.example.com/acme";
    const LOG_B: &str = "audit.example.com/globex";
    let t = tree(20);
    let old = Checkpoint::new(
        LOG_A,
        custodia_audit::TreeHead {
            size: 7,
            root: t.root_at(7).unwrap(),
        },
    );
    let proof = t.consistency_proof(7, 20).unwrap();
    verify_extension(&old, &Checkpoint::new(LOG_A, t.head()), &proof).unwrap();
    for old in [old, Checkpoint::new(LOG_A, MerkleTree::new().head())] {
        let err = verify_extension(&old, &Checkpoint::new(LOG_B, t.head()), &proof).unwrap_err();
        assert!(
            matches!(&err, Error::Origin { expected, found } if expected == LOG_A && found == LOG_B),
            "{err}"
        );
        assert!(err.is_finding(), "{err}");
    }
}

#[test]
fn truncation_is_detected_from_an_old_checkpoint() {
    let t = tree(20);
    let old = Checkpoint::new(ORIGIN, t.head());
    let truncated = tree(15);
    let new = Checkpoint::new(ORIGIN, truncated.head());
    assert!(matches!(
        verify_extension(&old, &new, &[]),
        Err(Error::Truncated {
            trusted: 20,
            found: 15
        })
    ));
}

#[test]
fn a_fork_is_detected_from_an_old_checkpoint() {
    let honest = tree(10);
    let old = Checkpoint::new(ORIGIN, honest.head());
    // The operator rewrites record 3 and keeps appending.
    let mut forked = MerkleTree::new();
    for i in 0..25u32 {
        let leaf = if i == 3 {
            "rewritten".to_owned()
        } else {
            format!("event {i}")
        };
        forked.push(leaf.as_bytes());
    }
    let new = Checkpoint::new(ORIGIN, forked.head());
    let proof = forked.consistency_proof(10, 25).unwrap();
    assert!(verify_extension(&old, &new, &proof).is_err());
    // Even a proof from the honest tree cannot bridge to the forked head.
    let mut honest_25 = honest.clone();
    for i in 10..25u32 {
        honest_25.push(format!("event {i}").as_bytes());
    }
    let honest_proof = honest_25.consistency_proof(10, 25).unwrap();
    assert!(verify_extension(&old, &new, &honest_proof).is_err());
    let honest_new = Checkpoint::new(ORIGIN, honest_25.head());
    verify_extension(&old, &honest_new, &honest_proof).unwrap();
}

proptest! {
    #[test]
    fn note_parsing_never_panics(text in "\\PC{0,200}") {
        let _ = checkpoint::parse_unverified(&text);
        let _ = Checkpoint::parse_body(&text);
        let _ = Verifier::from_key_string(&text);
        let _ = Signer::from_key_string(&text);
    }

    #[test]
    fn notes_with_arbitrary_lines_never_panic(lines in proptest::collection::vec("[\\PC\u{2014} +/=a-zA-Z0-9]{0,40}", 0..8)) {
        let text = lines.join("\n");
        let _ = checkpoint::parse_unverified(&text);
        let signer = Signer::generate("k").unwrap();
        prop_assert!(open(&text, &signer.verifier(), ORIGIN).is_err());
    }
}

/// One key signs the logs of two tenants (per-tenant origins). A valid
/// checkpoint of log A, presented as the trusted checkpoint of log B (whose
/// store was swapped for a copy of A's records), must not be taken for B.
#[test]
fn a_checkpoint_of_another_log_signed_by_the_same_key_is_refused() {
    use custodia_audit::{AuditLog, MemoryStore};
    const LOG_A: &str = "audit.example.com/tenant-a";
    const LOG_B: &str = "audit.example.com/tenant-b";
    let signer = Signer::generate("audit.example.com").unwrap();
    let mut a = AuditLog::open(MemoryStore::new()).unwrap();
    let copy_of_a = MemoryStore::new();
    let mut b = AuditLog::open(copy_of_a).unwrap();
    for log in [&mut a, &mut b] {
        let event = custodia_audit::Event::builder(
            custodia_core::TenantId::from_external_key("crm", "a"),
            custodia_audit::Actor::new(
                custodia_audit::ActorKind::System,
                custodia_core::ActorId::from_external_key(
                    custodia_core::TenantId::from_external_key("crm", "a"),
                    "svc",
                    "1",
                ),
            ),
            custodia_audit::Action::Read,
            custodia_audit::Target::new("ticket", "T-1").unwrap(),
        )
        .id(custodia_audit::EventId::from_uuid(
            custodia_core::uuid::Uuid::from_u128(1),
        ))
        .build(&custodia_core::ManualClock::new(
            custodia_core::chrono::DateTime::UNIX_EPOCH,
        ))
        .unwrap();
        log.append(&event).unwrap();
    }
    let note_a = a.checkpoint(LOG_A, &signer).unwrap();
    let verifier = signer.verifier();
    // Opened as log B's checkpoint: refused, naming both logs.
    let err = open(&note_a, &verifier, LOG_B).unwrap_err();
    assert!(
        matches!(&err, Error::Origin { expected, found } if expected == LOG_B && found == LOG_A),
        "{err}"
    );
    assert!(err.is_finding());
    // As log A's, it opens; checking log B against it still names the log.
    let trusted_a = open(&note_a, &verifier, LOG_A).unwrap();
    a.check_checkpoint(LOG_A, &trusted_a).unwrap();
    assert!(matches!(
        b.check_checkpoint(LOG_B, &trusted_a),
        Err(Error::Origin { .. })
    ));
    assert!(matches!(
        AuditLog::open_extending(b.store().clone(), LOG_B, &trusted_a),
        Err(Error::Origin { .. })
    ));
    assert!(matches!(
        custodia_audit::verify(b.store().clone(), Some((LOG_B, &trusted_a))),
        Err(Error::Origin { .. })
    ));
}
