//! Field encryption for Custodia: each sensitive field of each record sealed
//! under its tenant's key and bound to its place.
//!
//! # Model
//!
//! * A [`Keyring`] holds versions of a key, one of them primary. Each
//!   tenant's data key is either derived from the version key with
//!   HKDF-SHA256 (nothing stored per tenant) or 32 random bytes stored
//!   wrapped under a key-encryption key ([`DataKeyMode`]), so tenants never
//!   share a key; random keys let [`Keyring::shred_tenant`] erase a whole
//!   tenant. Rotation adds a primary; old versions keep decrypting until a
//!   [`KeyUsage`] scan proves nothing uses them and they are retired. The
//!   version list and the wrapped keys persist in a [`KeyStore`]
//!   ([`Keyring::from_store`]).
//! * A field value becomes an [`envelope`]: AES-256-GCM with a random 96-bit
//!   nonce, in a versioned binary format (or `cst1.` text for text columns) that
//!   names the key that sealed it. The associated data binds the envelope
//!   header and a [`FieldContext`] — tenant, record type, record id, field — so
//!   a ciphertext copied into another row, field or tenant, or relabelled with
//!   another key id, does not decrypt.
//! * Personal data that must outlive its row (audit trails, backups) is sealed
//!   under the data subject's own key in a [`SubjectVault`]; shredding that key
//!   erases every copy at once ([`subject`]).
//! * Equality search without decrypting: a [`blind`] index (truncated
//!   HMAC-SHA256 tokens) when the value need not come back, or
//!   [`deterministic`] AES-256-SIV when it must, both keyed by the tenant's
//!   rotation-stable search key ([`Keyring::blind_index`],
//!   [`Keyring::deterministic`]). Each module documents what it leaks.
//! * AES-GCM sits behind a [`CryptoProvider`] trait, in the manner of rustls:
//!   [`RING`] by default, [`RUST_CRYPTO`] as an independent second
//!   implementation; the tests prove each opens the other's output and both
//!   pass Project Wycheproof.
//!
//! The key design decision is that **the context is part of the ciphertext's
//! authentication, not of its storage**: nothing about tenant, row or field is
//! stored in the envelope beyond the key id, yet nothing decrypts anywhere but
//! where it was sealed. The second is **expand once**: AES key schedules and
//! HKDF run once per (tenant, key version) and are cached; nonces come from a
//! per-thread ChaCha generator seeded by the OS, not a syscall per field.
//!
//! Secrets: [`SecretKey`] is zeroized on drop, prints as `[redacted]` and
//! compares in constant time; errors never hold key bytes or plaintext.
//!
//! ```
//! use custodia_core::TenantId;
//! use custodia_crypt::{Error, FieldContext, Keyring, SecretKey};
//!
//! let keyring = Keyring::new(SecretKey::generate()?);
//! let acme = TenantId::from_external_key("billing.account", "ACME-0042");
//! let email = FieldContext::new(acme, "contact", "1017", "email")?;
//!
//! let sealed = keyring.seal(&email, b"alice@example.com")?;
//! assert_eq!(keyring.open(&email, &sealed)?, b"alice@example.com");
//!
//! // Another tenant, or another row, cannot read it.
//! let globex = TenantId::from_external_key("billing.account", "GLOBEX-7");
//! let elsewhere = FieldContext::new(globex, "contact", "1017", "email")?;
//! assert_eq!(keyring.open(&elsewhere, &sealed), Err(Error::Decrypt));
//! # Ok::<(), Error>(())
//! ```

#![forbid(unsafe_code)]
// Library code returns typed errors; only tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(missing_docs)]

#[cfg(feature = "proptest")]
pub mod arbitrary;
pub mod blind;
mod context;
pub mod deterministic;
pub mod encrypted;
pub mod envelope;
mod error;
pub mod file_store;
mod kdf;
pub mod keyring;
mod nonce;
pub mod provider;
mod secret;
pub mod store;
pub mod subject;

pub use context::{FieldContext, MAX_CONTEXT_PART};
pub use encrypted::Encrypted;
pub use envelope::{Envelope, FieldCipher, KeyId};
pub use error::Error;
pub use file_store::FileKeyStore;
pub use keyring::{DataKeyMode, KeyUsage, Keyring, NONCE_LIMIT, NonceBudget, NonceUsage};
pub use provider::{CryptoProvider, RING, RUST_CRYPTO};
pub use secret::SecretKey;
pub use store::{
    KeyStore, KeyringRecord, MemoryKeyStore, NonceCount, ShredReceipt, StoredSubjectKey,
    StoredTenantKeys, StoredVersion, TenantKeySlot, TenantShredReceipt,
};
pub use subject::SubjectVault;
