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
