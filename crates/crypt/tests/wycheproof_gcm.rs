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

/// Both providers refuse the same forgeries, whichever sealed: a wrong
/// associated data, a flipped bit anywhere, a body shorter than a tag (down
/// to empty), a wrong nonce; and a refused open never leaves the plaintext
/// (unauthenticated, but right under a wrong associated data) in the buffer.
#[test]
fn providers_refuse_the_same_forgeries_and_release_no_plaintext() {
    let providers: [&dyn CryptoProvider; 2] = [&RING, &RUST_CRYPTO];
    let secret = SecretKey::from_bytes([0x5a; 32]);
    let nonce = [7u8; NONCE_LEN];
    let plaintext = b"alice@example.com, a field value".to_vec();
    for sealer in providers {
        let mut body = plaintext.clone();
        let tag = sealer
            .aes_256_gcm(&secret)
            .unwrap()
            .seal_in_place(&nonce, b"aad", &mut body)
            .unwrap();
        body.extend_from_slice(&tag);
        for opener in providers {
            let key = opener.aes_256_gcm(&secret).unwrap();
            let names = format!("{} sealed, {} opened", sealer.name(), opener.name());
            let open = |nonce: &[u8; NONCE_LEN], aad: &[u8], input: &[u8]| {
                let mut buffer = input.to_vec();
                let result = key
                    .open_in_place(nonce, aad, &mut buffer)
                    .map(|p| p.to_vec());
                if result.is_err() {
                    assert!(
                        !buffer
                            .windows(8)
                            .any(|w| plaintext.windows(8).any(|p| p == w)),
                        "{names}: a refused open left plaintext behind"
                    );
                }
                result
            };
            assert_eq!(open(&nonce, b"aad", &body).unwrap(), plaintext, "{names}");
            assert!(open(&nonce, b"aae", &body).is_err(), "{names}: wrong aad");
            assert!(open(&nonce, b"", &body).is_err(), "{names}: empty aad");
            assert!(
                open(&[8; NONCE_LEN], b"aad", &body).is_err(),
                "{names}: nonce"
            );
            for bit in 0..body.len() * 8 {
                let mut flipped = body.clone();
                flipped[bit / 8] ^= 1 << (bit % 8);
                assert!(
                    open(&nonce, b"aad", &flipped).is_err(),
                    "{names}: bit {bit}"
                );
            }
            for len in 0..body.len() {
                assert!(
                    open(&nonce, b"aad", &body[..len]).is_err(),
                    "{names}: {len} bytes"
                );
            }
        }
    }
}
