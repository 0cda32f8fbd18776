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
//!   erases every copy at once.
//! * Equality search without decrypting: a [`BlindIndex`] (truncated
//!   HMAC-SHA256 tokens) when the value need not come back, or
//!   [`deterministic`] AES-256-SIV when it must, both keyed by the tenant's
//!   rotation-stable search key ([`Keyring::blind_index`],
//!   [`Keyring::deterministic`]). Each documents what it leaks. Text people
//!   type is indexed under [`Normalization::Caseless`] (NFKC and Unicode
//!   case folding), so its spellings find each other.
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
//! Async hosts (feature `tokio`; `sqlx` adds [`SqlxKeyStore`], the
//! PostgreSQL key store on a sqlx pool) use [`AsyncKeyring`],
//! [`AsyncSubjectVault`] and [`AsyncKeyStore`]. The decision there is
//! **inline while cached, blocking pool when the store is needed**: the
//! keyring and vault stay the one synchronous implementation, their store
//! is wrapped in [`PoolOnly`] so that a call needing it fails with
//! [`Error::WouldBlock`] on a runtime worker before doing anything, and the
//! async types then rerun it on tokio's blocking pool. A warm seal or open
//! never leaves the task; the SQL stays in one driver-free core that the
//! sync and async PostgreSQL drivers share.
//!
//! Secrets: [`SecretKey`] is zeroized on drop, prints as `[redacted]` and
//! compares in constant time; errors never hold key bytes or plaintext.
//!
//! Every type is at the crate root; only the two wire formats keep a public
//! module, [`envelope`] and [`deterministic`], for their free functions and
//! format constants, and [`durable`] its file writer (`arbitrary` comes with
//! feature `proptest`).
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
#![warn(unreachable_pub)]

// Wire-format namespaces: free functions and constants (`VERSION`, ...)
// that read well only qualified; their main types are re-exported below too.
pub mod deterministic;
pub mod envelope;
// A feature's add-on.
#[cfg(feature = "proptest")]
pub mod arbitrary;

mod blind;
mod context;
pub mod durable;
mod encrypted;
mod error;
mod file_store;
mod kdf;
mod keyring;
mod nonce;
mod provider;
#[cfg(feature = "tokio")]
mod runtime;
mod secret;
mod store;
mod subject;
#[cfg(test)]
mod wycheproof;

// Keys and keyrings.
pub use keyring::{DataKeyMode, KeyUsage, Keyring, NONCE_LIMIT, NonceBudget, NonceUsage};
pub use secret::{MAX_KEY_FILE, SecretKey, read_key_file};
// Field encryption.
pub use context::{FieldContext, MAX_CONTEXT_PART};
pub use encrypted::Encrypted;
pub use envelope::{Envelope, FieldCipher, KeyId};
// Search: blind indexes and deterministic encryption.
pub use blind::{BlindIndex, BlindIndexConfig, BlindToken, Normalization};
pub use deterministic::DeterministicCipher;
// Data subjects and crypto-shredding.
pub use subject::{DEFAULT_CACHE_CAPACITY, SUBJECT_KEY_VERSION, SubjectVault};
// Key stores.
pub use file_store::FileKeyStore;
#[cfg(feature = "tokio")]
pub use runtime::{AsyncKeyStore, AsyncKeyring, AsyncSubjectVault, PoolOnly};
#[cfg(feature = "postgres")]
pub use store::postgres::PostgresKeyStore;
pub use store::sql::{KEY_STORE_SCHEMA_VERSION, SqlKeyRow};
#[cfg(feature = "sqlite")]
pub use store::sqlite::SqliteKeyStore;
#[cfg(feature = "sqlx")]
pub use store::sqlx_pg::SqlxKeyStore;
pub use store::{
    DEFAULT_STALENESS_BOUND, KeyStore, KeyStoreChanges, KeyringRecord, MemoryKeyStore, NonceCount,
    ShredOutcome, ShredReceipt, StoredSubjectKey, StoredTenantKeys, StoredVersion, TenantKeySlot,
    TenantShredReceipt,
};
// AEAD providers.
pub use provider::{
    AeadKey, CryptoProvider, NONCE_LEN, RING, RUST_CRYPTO, RingProvider, RustCryptoProvider,
    TAG_LEN,
};
// Errors.
pub use error::Error;
