//! The ciphertext decoders on arbitrary bytes: the field envelope (binary and
//! text form, and `KeyUsage`, which reads both) and the deterministic
//! (AES-SIV) format give a typed error or a value, never a panic; opening or
//! decrypting garbage never succeeds.

#![no_main]

use custodia_core::TenantId;
use custodia_crypt::envelope::{self, Envelope};
use custodia_crypt::{DeterministicCipher, FieldCipher, FieldContext, KeyId, KeyUsage, SecretKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = Envelope::decode(data) {
        let _ = envelope.key_id();
        let _ = envelope.plaintext_len();
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = envelope::from_text(text);
    }
    let usage = KeyUsage::scan([data]);
    assert_eq!(usage.iter().map(|(_, n)| n).sum::<u64>() + usage.undecodable(), 1);
    let tenant = TenantId::from_external_key("fuzz", "tenant");
    let key = SecretKey::from_bytes([1; 32]);
    if let Ok(deterministic) = DeterministicCipher::new(&key, tenant, "contact", "tax_id") {
        // As for the envelope: a forged SIV tag is a 2^-128 chance.
        assert!(deterministic.decrypt(data).is_err());
    }
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
