//! The field-envelope decoder and text form on arbitrary bytes: a typed error or
//! a decoded envelope, never a panic; opening garbage never succeeds.

#![no_main]

use custodia_core::TenantId;
use custodia_crypt::envelope::{self, Envelope};
use custodia_crypt::{FieldCipher, FieldContext, KeyId, SecretKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = Envelope::decode(data) {
        let _ = envelope.key_id();
        let _ = envelope.plaintext_len();
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = envelope::from_text(text);
    }
    let tenant = TenantId::from_external_key("fuzz", "tenant");
    let Ok(ctx) = FieldContext::new(tenant, "ticket", "1", "body") else {
        return;
    };
    let Ok(cipher) = FieldCipher::new(
        KeyId::Tenant { version: 1 },
        &SecretKey::from_bytes([1; 32]),
    ) else {
        return;
    };
    // Forging a tag by chance is 2^-128: any success here is a bug.
    assert!(cipher.open(&ctx, data).is_err());
});
