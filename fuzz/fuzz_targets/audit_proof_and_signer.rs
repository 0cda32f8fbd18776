//! Two inputs `custodia audit` reads from files, on arbitrary bytes: the
//! inclusion-proof JSON decoder (`InclusionProof`, what `audit prove` and
//! `audit export` write and a verifier reads back) and the checkpoint
//! signer key parser (`Signer::from_key_string`, the `--key` and
//! `--checkpoint-key` files). Typed errors, never a panic; a decoded proof
//! re-encodes to one that decodes the same and is checked without a panic
//! whatever its index, size and path; a parsed signer key writes out a key
//! that parses to the same signer, signs notes its verifier opens, and
//! never shows its secret in `Debug`.

#![no_main]

use custodia_audit::checkpoint::{self, Signer, Verifier};
use custodia_audit::{Error, InclusionProof};
use libfuzzer_sys::fuzz_target;

fn proof(data: &[u8]) {
    let Ok(proof) = serde_json::from_slice::<InclusionProof>(data) else {
        return;
    };
    let again = serde_json::to_vec(&proof).unwrap_or_else(|e| panic!("{e}"));
    let back = serde_json::from_slice::<InclusionProof>(&again).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, proof);
    if let Err(e) = proof.verify() {
        assert!(
            matches!(e, Error::ProofMismatch(_) | Error::IndexOutOfRange { .. }),
            "{e:?}"
        );
    }
}

fn signer(text: &str) {
    let signer = match Signer::from_key_string(text) {
        Ok(signer) => signer,
        Err(e) => {
            assert!(matches!(e, Error::Checkpoint(_)), "{e:?}");
            return;
        }
    };
    let written = signer.to_key_string();
    let again = Signer::from_key_string(&written).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.verifier(), signer.verifier());
    let verifier = signer.verifier();
    let public = verifier.to_string();
    assert_eq!(
        Verifier::from_key_string(&public).ok().as_ref(),
        Some(&verifier)
    );
    let body = "custodia fuzz\n";
    let note = signer.sign_text(body).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(checkpoint::open_text(&note, &verifier).ok(), Some(body));
    // The secret (the base64 after name and hash) never shows, unless the
    // key's name itself spells it.
    let mut parts = written.splitn(5, '+').skip(2);
    let (name, secret) = (
        parts.next().unwrap_or_default(),
        parts.nth(1).unwrap_or_default(),
    );
    assert!(!secret.is_empty());
    assert!(!format!("{signer:?}").contains(secret) || name.contains(secret));
}

fuzz_target!(|data: &[u8]| {
    proof(data);
    if let Ok(text) = std::str::from_utf8(data) {
        signer(text);
    }
});
