//! The canonical audit-event decoder and the checkpoint note parser on
//! arbitrary bytes: typed errors, never a panic; whatever decodes re-encodes
//! to the same bytes.

#![no_main]

use custodia_audit::{canonical, checkpoint};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let decoded = canonical::decode(data);
    assert_eq!(canonical::check(data).is_ok(), decoded.is_ok());
    if let Ok(event) = decoded {
        assert_eq!(canonical::encode(&event), data);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = checkpoint::parse_unverified(text);
        let _ = checkpoint::Verifier::from_key_string(text);
    }
});
