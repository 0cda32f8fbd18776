//! The one error type of `custodia-crypt`.

/// Everything that can go wrong when encrypting, decrypting or managing keys.
///
/// Errors never carry key material or plaintext. Decoding errors say which rule
/// the input broke; authentication failures are deliberately one variant,
/// [`Error::Decrypt`], because AES-GCM cannot tell a wrong key from a wrong
/// context or a flipped bit, and guessing would help an attacker.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Key bytes of the wrong length.
    #[error("key must be {expected} bytes, got {actual}")]
    InvalidKeyLength {
        /// Required length.
        expected: usize,
        /// Length supplied.
        actual: usize,
    },
    /// The operating system's random source failed.
    #[error("the system random number generator failed")]
    Random,
    /// A ciphertext shorter than the smallest valid envelope.
    #[error("ciphertext truncated: {len} bytes, an envelope needs at least {min}")]
    Truncated {
        /// Bytes supplied.
        len: usize,
        /// Smallest valid envelope.
        min: usize,
    },
    /// A ciphertext longer than Custodia will decrypt.
    #[error("ciphertext of {len} bytes exceeds the {max}-byte limit")]
    Oversized {
        /// Bytes supplied.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// An envelope format version this build does not know.
    #[error("unsupported envelope version {0}")]
    UnsupportedVersion(u8),
    /// An algorithm id this build does not know.
    #[error("unsupported algorithm id {0}")]
    UnsupportedAlgorithm(u8),
    /// Bytes that cannot be an envelope (a bad text prefix, bad base64, an
    /// unknown key kind).
    #[error("malformed ciphertext: {0}")]
    Malformed(&'static str),
    /// Authentication failed: wrong key, wrong context (tenant, record, field)
    /// or a modified ciphertext.
    #[error("decryption failed: wrong key or context, or the ciphertext was modified")]
    Decrypt,
    /// The record or field context cannot be bound (e.g. an empty record id).
    #[error("invalid encryption context: {0}")]
    InvalidContext(&'static str),
    /// A plaintext too large to encrypt in one envelope.
    #[error("plaintext of {len} bytes exceeds the {max}-byte limit")]
    PlaintextTooLarge {
        /// Bytes supplied.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The envelope names a key that the cipher or keyring does not hold.
    #[error("no key {0} to decrypt with")]
    UnknownKey(crate::KeyId),
    /// More key material requested from HKDF-SHA256 than it can give
    /// (255 × 32 bytes).
    #[error("cannot derive {len} bytes of key material, HKDF-SHA256 gives at most {max}")]
    KdfOutputTooLong {
        /// Bytes requested.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A configuration value out of its allowed range (e.g. a blind-index
    /// length outside 4..=32 bytes).
    #[error("invalid configuration: {0}")]
    InvalidConfig(&'static str),
    /// Text or bytes that cannot be a blind-index token (not hex, or not
    /// 4 to 32 bytes long).
    #[error("malformed blind token: {0}")]
    InvalidToken(&'static str),
    /// A key version cannot be retired: it is primary, or envelopes still use it.
    #[error("key version {version} is still in use ({envelopes} envelopes, or it is primary)")]
    KeyInUse {
        /// The version.
        version: u32,
        /// Envelopes found sealed under it (0 when it is the primary).
        envelopes: u64,
    },
    /// A key reached its safe number of random-nonce encryptions (its
    /// [`NonceBudget`](crate::NonceBudget), 2^32 by default, counted across
    /// processes for a stored keyring): rotate.
    #[error(
        "key {key} has used its random-nonce budget (2^32 encryptions by default, NIST SP 800-38D); rotate the keyring"
    )]
    NonceLimit {
        /// The exhausted key.
        key: crate::KeyId,
    },
    /// The data subject's key was destroyed (crypto-shredding): everything
    /// sealed under it, in every copy and backup, is gone for good.
    #[error("the key of data subject {subject} was shredded; the value is erased")]
    Shredded {
        /// The erased person.
        subject: custodia_core::SubjectId,
    },
    /// The tenant's keys were destroyed (whole-tenant crypto-shredding, e.g.
    /// at offboarding): everything sealed under them, in every copy and
    /// backup, is gone for good, and the tenant can get no new keys.
    #[error("the keys of tenant {tenant} were shredded; its data is erased")]
    TenantShredded {
        /// The erased tenant.
        tenant: custodia_core::TenantId,
    },
    /// The key store failed (a store file of an unknown format, a record it
    /// refused or lost, a key variable that is not set).
    #[error("key store: {0}")]
    Store(String),
    /// Another process changed the stored keyring (a rotation, a
    /// retirement) after this one loaded it: nothing was written. Reopen the
    /// keyring and try again.
    #[error("key store: the keyring changed since this process opened it; reopen it")]
    KeyringChanged,
    /// Reading or writing a key file or key store file failed.
    #[error("key store: {}: {source}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The operating system's error.
        source: custodia_core::Shared<std::io::Error>,
    },
    /// A key store file whose (authenticated) contents do not decode, or
    /// state that does not encode.
    #[error("key store: {}: contents do not decode: {source}", path.display())]
    Decode {
        /// The file.
        path: std::path::PathBuf,
        /// The JSON error.
        source: custodia_core::Shared<serde_json::Error>,
    },
    /// The SQLite key store's database failed (feature `sqlite`).
    #[cfg(feature = "sqlite")]
    #[error("key store: {place}: {source}")]
    Sqlite {
        /// `sqlite:<path>`.
        place: String,
        /// The driver's error.
        source: custodia_core::Shared<rusqlite::Error>,
    },
    /// The PostgreSQL key store's server or driver failed (feature `postgres`).
    #[cfg(feature = "postgres")]
    #[error("key store: postgres: {}", custodia_core::postgres_detail(source))]
    Postgres {
        /// The driver's error (with the SQLSTATE, when the server sent one).
        source: custodia_core::Shared<postgres::Error>,
    },
    /// The sqlx PostgreSQL key store's server or driver failed (feature `sqlx`).
    #[cfg(feature = "sqlx")]
    #[error("key store: postgres (sqlx): {}", custodia_core::sqlx_detail(source))]
    Sqlx {
        /// The driver's error (with the SQLSTATE, when the server sent one).
        source: custodia_core::Shared<sqlx_core::Error>,
    },
    /// A key-store call was about to block a thread that runs async tasks
    /// (only with feature `tokio`). Nothing was changed. [`AsyncKeyring`](crate::AsyncKeyring),
    /// [`AsyncSubjectVault`](crate::AsyncSubjectVault) and
    /// [`AsyncKeyStore`](crate::AsyncKeyStore) catch it and run the call on
    /// tokio's blocking pool; it reaches callers that use their keyring,
    /// vault or [`SqlxKeyStore`](crate::SqlxKeyStore) synchronously from a task.
    #[error(
        "key store: this call would block an async runtime thread; use AsyncKeyring, AsyncSubjectVault or AsyncKeyStore"
    )]
    WouldBlock,
    /// A key-store row (or a stored key) that does not decode or does not
    /// belong where it is: corrupted, or written by another store or build.
    /// It is left as it is; nothing overwrites it.
    #[error("key store row {row}: {reason}")]
    KeyStoreRow {
        /// The table and key of the row, e.g. `custodia_subject_keys (tenant …, subject …)`.
        row: String,
        /// What is wrong with it.
        reason: String,
        /// The JSON parser's error, when a column does not decode.
        #[source]
        source: Option<custodia_core::Shared<serde_json::Error>>,
    },
    /// A key-store record that does not serialise (a bug, not bad input).
    #[error("key store: encoding a key-store row: {source}")]
    Encode {
        /// The serialiser's error.
        source: custodia_core::Shared<serde_json::Error>,
    },
    /// A key-store call on tokio's blocking pool panicked or was cancelled
    /// (feature `tokio`).
    #[cfg(feature = "tokio")]
    #[error("key store: a key-store task on the blocking pool failed: {source}")]
    Task {
        /// The runtime's error.
        source: custodia_core::Shared<tokio::task::JoinError>,
    },
}
