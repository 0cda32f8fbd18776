//! The JSON form of inclusion proofs: versioned, and proofs written before the
//! version field existed still read.

use custodia_audit::merkle::{MerkleTree, leaf_hash};
use custodia_audit::{InclusionProof, PROOF_FORMAT};

fn proof(index: u64) -> InclusionProof {
    let mut tree = MerkleTree::new();
    for i in 0..10u32 {
        tree.push(&i.to_be_bytes());
    }
    InclusionProof {
        index,
        size: tree.size(),
        leaf_hash: leaf_hash(&(index as u32).to_be_bytes()),
        root: tree.root(),
        path: tree.inclusion_proof(index, tree.size()).unwrap(),
    }
}

#[test]
fn proofs_name_their_format_and_round_trip() {
    let p = proof(3);
    let json: serde_json::Value = serde_json::to_value(&p).unwrap();
    assert_eq!(json["format"], PROOF_FORMAT);
    assert_eq!(json["index"], 3);
    let back: InclusionProof = serde_json::from_value(json).unwrap();
    assert_eq!(back, p);
    back.verify().unwrap();
}

#[test]
fn proofs_without_a_format_field_still_read() {
    let p = proof(7);
    let mut json: serde_json::Value = serde_json::to_value(&p).unwrap();
    json.as_object_mut().unwrap().remove("format").unwrap();
    let old = serde_json::to_string(&json).unwrap();
    assert!(!old.contains("format"));
    let back: InclusionProof = serde_json::from_str(&old).unwrap();
    assert_eq!(back, p);
    back.verify().unwrap();
}

#[test]
fn proofs_of_another_format_are_refused() {
    let mut json: serde_json::Value = serde_json::to_value(proof(1)).unwrap();
    json["format"] = "custodia.audit.inclusion-proof/v2".into();
    let err = serde_json::from_value::<InclusionProof>(json)
        .unwrap_err()
        .to_string();
    assert!(err.contains("unsupported inclusion proof format"), "{err}");
}

/// The decoder (`serde_json` into [`InclusionProof`]) on arbitrary input:
/// a proof or a typed [`serde_json::Error`], never a panic; a decoded proof
/// re-encodes to one that decodes the same, and checking it answers
/// (`Ok` or a typed error) whatever its index, size and path.
mod arbitrary_input {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use custodia_audit::merkle::{Hash, MerkleTree};
    use custodia_audit::{InclusionProof, PROOF_FORMAT};
    use proptest::prelude::*;

    /// What decoding `bytes` gives, with the checks every outcome must pass.
    fn decode(bytes: &[u8]) -> Result<InclusionProof, serde_json::Error> {
        let decoded = serde_json::from_slice::<InclusionProof>(bytes);
        if let Ok(proof) = &decoded {
            let again = serde_json::to_vec(proof).unwrap();
            assert_eq!(
                serde_json::from_slice::<InclusionProof>(&again).unwrap(),
                *proof
            );
            // Arbitrary index, size and path: an answer, not a panic.
            let _ = proof.verify();
        }
        decoded
    }

    /// A hash field's text: a real hash's base64 or anything.
    fn hash_text() -> impl Strategy<Value = (String, bool)> {
        prop_oneof![
            any::<[u8; 32]>().prop_map(|h| (STANDARD.encode(h), true)),
            "[A-Za-z0-9+/=]{0,50}".prop_map(|t| {
                let ok = STANDARD.decode(&t).is_ok_and(|b| b.len() == 32);
                (t, ok)
            }),
            proptest::collection::vec(any::<u8>(), 0..40)
                .prop_map(|b| (STANDARD.encode(&b), b.len() == 32)),
        ]
    }

    fn format() -> impl Strategy<Value = (Option<String>, bool)> {
        prop_oneof![
            Just((None, true)),
            Just((Some(PROOF_FORMAT.to_owned()), true)),
            "\\PC{0,40}".prop_map(|f| {
                let ok = f == PROOF_FORMAT;
                (Some(f), ok)
            }),
        ]
    }

    fn proof() -> impl Strategy<Value = InclusionProof> {
        (
            any::<u64>(),
            any::<u64>(),
            any::<Hash>(),
            any::<Hash>(),
            proptest::collection::vec(any::<Hash>(), 0..70),
        )
            .prop_map(|(index, size, leaf_hash, root, path)| InclusionProof {
                index,
                size,
                leaf_hash,
                root,
                path,
            })
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_decode_or_fail_typed(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = decode(&bytes);
        }

        #[test]
        fn arbitrary_text_decodes_or_fails_typed(text in "\\PC{0,300}") {
            let _ = decode(text.as_bytes());
        }

        /// Proof-shaped documents with arbitrary values: decoded exactly
        /// when the format is known and every hash is 32 bytes of base64,
        /// else a data error (not a syntax error: the JSON is fine).
        #[test]
        fn proof_shaped_documents_decode_exactly_when_valid(
            (format, format_ok) in format(),
            index in any::<u64>(),
            size in any::<u64>(),
            (leaf, leaf_ok) in hash_text(),
            (root, root_ok) in hash_text(),
            path in proptest::collection::vec(hash_text(), 0..8),
            extra in proptest::option::of(("[a-z_]{1,10}", any::<i64>())),
        ) {
            let mut json = serde_json::json!({
                "index": index,
                "size": size,
                "leaf_hash": leaf,
                "root": root,
                "path": path.iter().map(|(t, _)| t.clone()).collect::<Vec<_>>(),
            });
            if let Some(format) = format {
                json["format"] = format.into();
            }
            let known = |k: &str| ["format", "index", "size", "leaf_hash", "root", "path"].contains(&k);
            if let Some((key, value)) = &extra && !known(key) {
                json[key] = (*value).into();
            }
            let valid = format_ok && leaf_ok && root_ok && path.iter().all(|(_, ok)| *ok);
            match decode(json.to_string().as_bytes()) {
                Ok(proof) => {
                    prop_assert!(valid, "{json}");
                    prop_assert_eq!((proof.index, proof.size), (index, size));
                    prop_assert_eq!(proof.path.len(), path.len());
                }
                Err(e) => {
                    prop_assert!(!valid, "{json}: {e}");
                    prop_assert!(e.is_data(), "{json}: {e}");
                }
            }
        }

        /// Every proof survives the round trip, with and without its
        /// format field (proofs written before it existed).
        #[test]
        fn proofs_round_trip(proof in proof()) {
            let text = serde_json::to_string(&proof).unwrap();
            prop_assert_eq!(serde_json::from_str::<InclusionProof>(&text).unwrap(), proof.clone());
            let mut old: serde_json::Value = serde_json::from_str(&text).unwrap();
            prop_assert!(old.as_object_mut().unwrap().remove("format").is_some());
            prop_assert_eq!(serde_json::from_value::<InclusionProof>(old).unwrap(), proof);
        }

        /// Real proofs of a tree of any size still verify after the trip,
        /// and one flipped bit of the path does not.
        #[test]
        fn real_proofs_verify_after_the_round_trip(size in 1u64..300, pick in any::<u64>(), bit in any::<u8>()) {
            let mut tree = MerkleTree::new();
            for i in 0..size {
                tree.push(&i.to_be_bytes());
            }
            let index = pick % size;
            let proof = InclusionProof {
                index,
                size,
                leaf_hash: custodia_audit::merkle::leaf_hash(&index.to_be_bytes()),
                root: tree.root(),
                path: tree.inclusion_proof(index, size).unwrap(),
            };
            let back: InclusionProof =
                serde_json::from_str(&serde_json::to_string(&proof).unwrap()).unwrap();
            prop_assert_eq!(&back, &proof);
            back.verify().unwrap();
            if !back.path.is_empty() {
                let mut bent = back.clone();
                let step = usize::from(bit) % bent.path.len();
                bent.path[step][usize::from(bit) % 32] ^= 1 << (bit % 8);
                prop_assert!(bent.verify().is_err());
            }
        }
    }
}
