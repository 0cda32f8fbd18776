//! The AEAD primitive behind a small trait, so backends can be swapped and
//! cross-tested.

use std::fmt;

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes256Gcm, KeyInit};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

use crate::{Error, SecretKey};

/// Bytes in an AES-GCM nonce.
pub const NONCE_LEN: usize = 12;
/// Bytes in an AES-GCM authentication tag.
pub const TAG_LEN: usize = 16;

/// A source of AES-256-GCM keys.
///
/// The AEAD primitive behind a small trait, so backends can be swapped and
/// cross-tested.
///
/// In the manner of rustls's `CryptoProvider`, Custodia never calls an AES-GCM
/// library directly: it asks a [`CryptoProvider`] for an [`AeadKey`] once per key
/// version (the AES key schedule is expanded then, not per field), and seals and
/// opens through that. Two providers ship:
///
/// * [`RingProvider`] ([`RING`]), the default: ring's assembly AES-GCM, the
///   fastest available (6–7 GB/s with AES-NI).
/// * [`RustCryptoProvider`] ([`RUST_CRYPTO`]): RustCrypto's pure-Rust `aes-gcm`,
///   a second, independent implementation. The test suite proves that each
///   opens what the other sealed and that both pass Project Wycheproof.
///
/// Both are AES-256-GCM with a 96-bit nonce and a 128-bit tag, so ciphertexts do
/// not record which provider made them.
pub trait CryptoProvider: Send + Sync + fmt::Debug {
    /// A short name for diagnostics: `"ring"`, `"rustcrypto"`.
    fn name(&self) -> &'static str;

    /// Expands `key` into a ready-to-use AES-256-GCM key.
    fn aes_256_gcm(&self, key: &SecretKey) -> Result<Box<dyn AeadKey>, Error>;
}

/// An expanded AES-256-GCM key.
///
/// Callers supply unique nonces; Custodia draws them at random (see the
/// envelope module) and counts uses per key version.
pub trait AeadKey: Send + Sync {
    /// Encrypts `in_out` in place and returns the tag.
    fn seal_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<[u8; TAG_LEN], Error>;

    /// Decrypts `ciphertext_and_tag` in place; returns the plaintext part.
    ///
    /// Fails with [`Error::Decrypt`] if the tag does not verify, in which case
    /// the buffer's contents are unspecified.
    fn open_in_place<'a>(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        ciphertext_and_tag: &'a mut [u8],
    ) -> Result<&'a mut [u8], Error>;
}

/// A backend refusing a 32-byte key: both accept every AES-256 key, so this
/// only guards against a backend change.
fn key_rejected() -> Error {
    Error::InvalidKeyLength {
        expected: SecretKey::LEN,
        actual: SecretKey::LEN,
    }
}

/// The ring backend: the default.
#[derive(Debug, Clone, Copy, Default)]
pub struct RingProvider;

/// The ring provider, for `&'static dyn CryptoProvider` use.
pub static RING: RingProvider = RingProvider;

struct RingKey(LessSafeKey);

impl CryptoProvider for RingProvider {
    fn name(&self) -> &'static str {
        "ring"
    }

    fn aes_256_gcm(&self, key: &SecretKey) -> Result<Box<dyn AeadKey>, Error> {
        let unbound =
            UnboundKey::new(&AES_256_GCM, key.expose_secret()).map_err(|_| key_rejected())?;
        Ok(Box::new(RingKey(LessSafeKey::new(unbound))))
    }
}

impl AeadKey for RingKey {
    fn seal_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<[u8; TAG_LEN], Error> {
        let nonce = Nonce::assume_unique_for_key(*nonce);
        let tag = self
            .0
            .seal_in_place_separate_tag(nonce, Aad::from(aad), in_out)
            // ring refuses only inputs beyond GCM's 64 GiB limit.
            .map_err(|_| Error::PlaintextTooLarge {
                len: in_out.len(),
                max: crate::envelope::MAX_PLAINTEXT_LEN,
            })?;
        let mut out = [0u8; TAG_LEN];
        out.copy_from_slice(tag.as_ref());
        Ok(out)
    }

    fn open_in_place<'a>(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        ciphertext_and_tag: &'a mut [u8],
    ) -> Result<&'a mut [u8], Error> {
        let nonce = Nonce::assume_unique_for_key(*nonce);
        self.0
            .open_in_place(nonce, Aad::from(aad), ciphertext_and_tag)
            .map_err(|_| Error::Decrypt)
    }
}

/// The RustCrypto backend: pure Rust, for cross-checking and for platforms
/// ring does not support.
#[derive(Debug, Clone, Copy, Default)]
pub struct RustCryptoProvider;

/// The RustCrypto provider, for `&'static dyn CryptoProvider` use.
pub static RUST_CRYPTO: RustCryptoProvider = RustCryptoProvider;

impl CryptoProvider for RustCryptoProvider {
    fn name(&self) -> &'static str {
        "rustcrypto"
    }

    fn aes_256_gcm(&self, key: &SecretKey) -> Result<Box<dyn AeadKey>, Error> {
        let cipher = Aes256Gcm::new_from_slice(key.expose_secret()).map_err(|_| key_rejected())?;
        Ok(Box::new(cipher))
    }
}

impl AeadKey for Aes256Gcm {
    fn seal_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<[u8; TAG_LEN], Error> {
        let tag = self
            .encrypt_in_place_detached(nonce.into(), aad, in_out)
            .map_err(|_| Error::PlaintextTooLarge {
                len: in_out.len(),
                max: crate::envelope::MAX_PLAINTEXT_LEN,
            })?;
        Ok(tag.into())
    }

    fn open_in_place<'a>(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        ciphertext_and_tag: &'a mut [u8],
    ) -> Result<&'a mut [u8], Error> {
        let split = ciphertext_and_tag
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(Error::Decrypt)?;
        let (ciphertext, tag) = ciphertext_and_tag.split_at_mut(split);
        self.decrypt_in_place_detached(nonce.into(), aad, ciphertext, (&*tag).into())
            .map_err(|_| Error::Decrypt)?;
        Ok(ciphertext)
    }
}
