//! Seals a field in a loop, for profilers (`valgrind --tool=callgrind`).
//!
//! `seal_loop [keyring|keyring_into|cipher|cipher_into|raw|raw_offset] [rounds] [bytes]`
//! (default `keyring`, 200,000 rounds, 64 bytes): `raw` is ring's AES-256-GCM into a fresh buffer with 58 bytes
//! of associated data, the same amount the envelope authenticates here, so
//! instruction counts of the modes compare directly.

use custodia_core::TenantId;
use custodia_crypt::{FieldCipher, FieldContext, KeyId, Keyring, SecretKey};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

fn main() -> Result<(), custodia_crypt::Error> {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "keyring".into());
    let rounds: usize = std::env::args()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(200_000);
    let size: usize = std::env::args()
        .nth(3)
        .and_then(|n| n.parse().ok())
        .unwrap_or(64);
    let key = SecretKey::from_bytes([9; 32]);
    let keyring = Keyring::new(key.clone());
    let cipher = FieldCipher::new(KeyId::Tenant { version: 1 }, &key)?;
    let tenant = TenantId::from_external_key("bench", "acme");
    let ctx = FieldContext::new(tenant, "ticket", "T-100234", "requester_email")?;
    let plaintext = vec![0x5Au8; size];
    let mut buffer = Vec::with_capacity(256);
    let total = match mode.as_str() {
        "keyring" => repeat(rounds, || Ok(keyring.seal(&ctx, &plaintext)?.len()))?,
        "keyring_into" => repeat(rounds, || {
            buffer.clear();
            keyring.seal_into(&ctx, &plaintext, &mut buffer)?;
            Ok(buffer.len())
        })?,
        "cipher" => repeat(rounds, || Ok(cipher.seal(&ctx, &plaintext)?.len()))?,
        "cipher_into" => repeat(rounds, || {
            buffer.clear();
            cipher.seal_into(&ctx, &plaintext, &mut buffer)?;
            Ok(buffer.len())
        })?,
        "raw" => raw_seals(&key, &plaintext, 0, rounds)?,
        // The raw seal at the envelope body's offset in its buffer (after
        // header and nonce), to show what the body's alignment costs.
        "raw_offset" => {
            let offset = keyring.seal(&ctx, b"")?.len() - 16;
            raw_seals(&key, &plaintext, offset, rounds)?
        }
        other => {
            eprintln!("unknown mode {other}");
            std::process::exit(2);
        }
    };
    println!("{total}");
    Ok(())
}

/// Runs `seal` `rounds` times; the total of the lengths it returns.
fn repeat(
    rounds: usize,
    mut seal: impl FnMut() -> Result<usize, custodia_crypt::Error>,
) -> Result<usize, custodia_crypt::Error> {
    let mut total = 0;
    for _ in 0..rounds {
        total += seal()?;
    }
    Ok(total)
}

/// ring's AES-256-GCM seal of `plaintext`, `rounds` times, each into a
/// fresh buffer at `offset`, with 58 bytes of associated data; the total
/// length of the buffers.
fn raw_seals(
    key: &SecretKey,
    plaintext: &[u8],
    offset: usize,
    rounds: usize,
) -> Result<usize, custodia_crypt::Error> {
    let raw = UnboundKey::new(&AES_256_GCM, key.expose_secret())
        .map(LessSafeKey::new)
        .map_err(|_| custodia_crypt::Error::InvalidConfig("ring refused the key"))?;
    let aad = [0xA5u8; 58];
    let mut total = 0;
    for counter in 0..rounds as u64 {
        let mut nonce = [0u8; 12];
        nonce[4..].copy_from_slice(&counter.to_be_bytes());
        let mut out = Vec::with_capacity(offset + plaintext.len() + 16);
        out.resize(offset, 0);
        out.extend_from_slice(plaintext);
        let tag = raw
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(&aad),
                &mut out[offset..],
            )
            .map_err(|_| custodia_crypt::Error::Decrypt)?;
        out.extend_from_slice(tag.as_ref());
        total += out.len();
    }
    Ok(total)
}
