//! RFC 6962 / RFC 9162 conformance: the transparency-dev JSON probes (196
//! inclusion and consistency cases, including failures) and the published
//! leaf, node and root hashes (see `data/merkle/RFC6962_VECTORS.md`).

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use custodia_audit::merkle::{
    self, EMPTY_ROOT, MerkleTree, leaf_hash, node_hash_raw, verify_consistency_raw,
    verify_inclusion_raw,
};
use serde_json::Value;

fn b64(v: &Value) -> Vec<u8> {
    B64.decode(v.as_str().unwrap_or("")).unwrap()
}

fn proof(v: &Value) -> Vec<Vec<u8>> {
    v.as_array()
        .map(|a| a.iter().map(b64).collect())
        .unwrap_or_default()
}

fn probes(kind: &str) -> Vec<(String, Value)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/merkle")
        .join(kind);
    let mut out = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((
                    path.display().to_string(),
                    serde_json::from_str(&text).unwrap(),
                ));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn inclusion_probes() {
    let probes = probes("inclusion");
    assert!(probes.len() > 60, "found {}", probes.len());
    for (name, p) in &probes {
        let path = proof(&p["proof"]);
        let refs: Vec<&[u8]> = path.iter().map(Vec::as_slice).collect();
        let got = verify_inclusion_raw(
            p["leafIdx"].as_u64().unwrap(),
            p["treeSize"].as_u64().unwrap(),
            &b64(&p["leafHash"]),
            &refs,
            &b64(&p["root"]),
        );
        let want_err = p["wantErr"].as_bool().unwrap();
        assert_eq!(got.is_err(), want_err, "{name}: {got:?}");
    }
}

#[test]
fn consistency_probes() {
    let probes = probes("consistency");
    assert!(probes.len() > 60, "found {}", probes.len());
    for (name, p) in &probes {
        let path = proof(&p["proof"]);
        let refs: Vec<&[u8]> = path.iter().map(Vec::as_slice).collect();
        let got = verify_consistency_raw(
            p["size1"].as_u64().unwrap(),
            p["size2"].as_u64().unwrap(),
            &b64(&p["root1"]),
            &b64(&p["root2"]),
            &refs,
        );
        let want_err = p["wantErr"].as_bool().unwrap();
        assert_eq!(got.is_err(), want_err, "{name}: {got:?}");
    }
}

/// `testonly/constants.go` leaf inputs.
const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// `testonly/constants.go` root hashes for the first n leaves.
const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

fn h(text: &str) -> Vec<u8> {
    hex::decode(text).unwrap()
}

fn tree() -> MerkleTree {
    let mut tree = MerkleTree::new();
    for leaf in LEAVES {
        tree.push(&h(leaf));
    }
    tree
}

#[test]
fn single_hash_vectors() {
    assert_eq!(EMPTY_ROOT.to_vec(), h(ROOTS[0]));
    assert_eq!(
        leaf_hash(b"").to_vec(),
        h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    );
    assert_eq!(
        leaf_hash(b"L123456").to_vec(),
        h("395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56")
    );
    assert_eq!(
        node_hash_raw(b"N123", b"N456").to_vec(),
        h("aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb")
    );
    assert_eq!(
        B64.encode(leaf_hash(b"hello world")),
        "TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0="
    );
}

#[test]
fn roots_of_the_first_n_leaves() {
    let tree = tree();
    for (n, root) in ROOTS.iter().enumerate() {
        assert_eq!(tree.root_at(n as u64).unwrap().to_vec(), h(root), "n = {n}");
    }
    assert_eq!(tree.root().to_vec(), h(ROOTS[8]));
}

#[test]
fn generated_proofs_match_the_published_ones() {
    let tree = tree();
    // (index, size, proof) from cmd/proofgen and RFC 6962 §2.1.3.
    let inclusion: &[(u64, u64, &[&str])] = &[
        (0, 1, &[]),
        (
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            3,
            &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        ),
        (
            1,
            5,
            &[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
        (
            6,
            7,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
    ];
    for (index, size, expected) in inclusion {
        let got: Vec<Vec<u8>> = tree
            .inclusion_proof(*index, *size)
            .unwrap()
            .iter()
            .map(|x| x.to_vec())
            .collect();
        let want: Vec<Vec<u8>> = expected.iter().map(|x| h(x)).collect();
        assert_eq!(got, want, "inclusion {index} in {size}");
        let proof = tree.inclusion_proof(*index, *size).unwrap();
        merkle::verify_inclusion(
            *index,
            *size,
            &tree.leaf(*index).unwrap(),
            &proof,
            &tree.root_at(*size).unwrap(),
        )
        .unwrap();
    }
    let consistency: &[(u64, u64, &[&str])] = &[
        (1, 1, &[]),
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
        (
            3,
            7,
            &[
                "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
                "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
                "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                "837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e",
            ],
        ),
        (
            4,
            7,
            &["837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e"],
        ),
    ];
    for (old, new, expected) in consistency {
        let got: Vec<Vec<u8>> = tree
            .consistency_proof(*old, *new)
            .unwrap()
            .iter()
            .map(|x| x.to_vec())
            .collect();
        let want: Vec<Vec<u8>> = expected.iter().map(|x| h(x)).collect();
        assert_eq!(got, want, "consistency {old} -> {new}");
    }
}
