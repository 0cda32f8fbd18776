//! Envelopes computed independently (Python `cryptography`: AESGCM and HKDF)
//! from the documented format, associated-data encoding and key derivation.
//! Envelopes are stored data: if one of these fails, stored ciphertexts would
//! stop decrypting.

use custodia_core::TenantId;
use custodia_core::uuid::Uuid;
use custodia_crypt::{FieldCipher, FieldContext, KeyId, Keyring, SecretKey};

fn ctx() -> FieldContext<'static> {
    let tenant = TenantId::from_uuid(Uuid::from_u128(0x0123456789abcdef0123456789abcdef));
    FieldContext::new(tenant, "contact", "1017", "email").unwrap()
}

#[test]
fn field_cipher_opens_an_independently_made_envelope() {
    let envelope = hex::decode(
        "01010100000003000102030405060708090a0b2d413d2bf9634646ff5e7687b792e6ec40\
         5a8cdbd9d5a3cae2fc5bd5a920516b15",
    )
    .unwrap();
    let cipher = FieldCipher::new(
        KeyId::Tenant { version: 3 },
        &SecretKey::from_bytes([42; 32]),
    )
    .unwrap();
    assert_eq!(
        cipher.open(&ctx(), &envelope).unwrap(),
        b"alice@example.com"
    );
}

#[test]
fn keyring_derives_the_documented_tenant_key() {
    let envelope = hex::decode(
        "01010100000001000102030405060708090a0b3a2a37546474ceb00b7f6bfcdf0d30f626\
         c3b06159ae7cd47e02b0aaf117f8763b",
    )
    .unwrap();
    let keyring = Keyring::new(SecretKey::from_bytes([7; 32]));
    assert_eq!(
        keyring.open(&ctx(), &envelope).unwrap(),
        b"alice@example.com"
    );
}
