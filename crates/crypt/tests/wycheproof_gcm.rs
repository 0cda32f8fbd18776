//! Project Wycheproof AES-256-GCM vectors (96-bit nonces) against both providers.

use custodia_crypt::SecretKey;
use custodia_crypt::{CryptoProvider, NONCE_LEN, RING, RUST_CRYPTO, TAG_LEN};
use serde_json::Value;

const VECTORS: &str = include_str!("../testdata/aes_gcm_256_test.json");

fn bytes(test: &Value, field: &str) -> Vec<u8> {
    hex::decode(test[field].as_str().unwrap()).unwrap()
}

fn check(provider: &dyn CryptoProvider) -> usize {
    let file: Value = serde_json::from_str(VECTORS).unwrap();
    let mut checked = 0;
    for group in file["testGroups"].as_array().unwrap() {
        for test in group["tests"].as_array().unwrap() {
            let id = &test["tcId"];
            let key = provider
                .aes_256_gcm(&SecretKey::try_from_slice(&bytes(test, "key")).unwrap())
                .unwrap();
            let nonce: [u8; NONCE_LEN] = bytes(test, "iv").try_into().unwrap();
            let (aad, msg) = (bytes(test, "aad"), bytes(test, "msg"));
            let (ct, tag) = (bytes(test, "ct"), bytes(test, "tag"));
            let valid = test["result"] == "valid";

            let mut sealed = msg.clone();
            let computed = key.seal_in_place(&nonce, &aad, &mut sealed).unwrap();
            if valid {
                assert_eq!(
                    (&sealed, &computed[..]),
                    (&ct, &tag[..]),
                    "{} seal tc {id}",
                    provider.name()
                );
            }

            let mut body = [ct.clone(), tag.clone()].concat();
            let opened = key
                .open_in_place(&nonce, &aad, &mut body)
                .map(|p| p.to_vec());
            if valid {
                assert_eq!(opened.unwrap(), msg, "{} open tc {id}", provider.name());
            } else {
                assert!(
                    opened.is_err(),
                    "{} accepted invalid tc {id}",
                    provider.name()
                );
            }
            assert_eq!(tag.len(), TAG_LEN);
            checked += 1;
        }
    }
    assert_eq!(checked as u64, file["numberOfTests"].as_u64().unwrap());
    checked
}

#[test]
fn ring_passes_wycheproof() {
    assert_eq!(check(&RING), 66);
}

#[test]
fn rustcrypto_passes_wycheproof() {
    assert_eq!(check(&RUST_CRYPTO), 66);
}
