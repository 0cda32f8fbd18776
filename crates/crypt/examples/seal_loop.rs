//! Seals a 64-byte field in a loop, for profilers (`valgrind --tool=callgrind`).

use custodia_core::TenantId;
use custodia_crypt::{FieldContext, Keyring, SecretKey};

fn main() -> Result<(), custodia_crypt::Error> {
    let keyring = Keyring::new(SecretKey::from_bytes([9; 32]));
    let tenant = TenantId::from_external_key("bench", "acme");
    let ctx = FieldContext::new(tenant, "ticket", "T-100234", "requester_email")?;
    let plaintext = [0x5Au8; 64];
    let mut total = 0usize;
    for _ in 0..200_000 {
        total += keyring.seal(&ctx, &plaintext)?.len();
    }
    println!("{total}");
    Ok(())
}
