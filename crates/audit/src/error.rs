//! The one error type of `custodia-audit`.

use std::path::PathBuf;

/// Everything that can go wrong recording, storing, proving or verifying audit
/// events.
///
/// [`Error::Tampered`] is the finding a verifier reports: a committed record
/// that is corrupt, missing, out of order or inconsistent with the log's own
/// anchors. Personal data never appears in an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An event that breaks the model's rules (a bad custom name, an over-long
    /// field, …).
    #[error("invalid event: {0}")]
    InvalidEvent(String),
    /// Bytes that are not a canonical event.
    #[error("cannot decode event at byte {offset}: {reason}")]
    Decode {
        /// Byte offset into the encoding.
        offset: usize,
        /// What rule the input broke.
        reason: String,
    },
    /// A tree size beyond the tree.
    #[error("tree size {requested} requested, but the tree has {size} leaves")]
    TreeSize {
        /// The size asked for.
        requested: u64,
        /// The tree's size.
        size: u64,
    },
    /// A leaf index outside the tree.
    #[error("leaf index {index} is outside a tree of {size} leaves")]
    IndexOutOfRange {
        /// The index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A consistency proof between sizes that do not allow one (`old` must be
    /// in `1..=new`).
    #[error("no consistency proof from size {old} to size {new}: need 0 < old <= new")]
    ConsistencyRange {
        /// The older size.
        old: u64,
        /// The newer size.
        new: u64,
    },
    /// A proof that does not verify.
    #[error("proof verification failed: {0}")]
    ProofMismatch(&'static str),
    /// A hash that is not 32 bytes.
    #[error("{what} is {len} bytes, not 32")]
    HashLength {
        /// Which hash.
        what: &'static str,
        /// Its length.
        len: usize,
    },
    /// A malformed checkpoint, note or key.
    #[error("bad checkpoint: {0}")]
    Checkpoint(String),
    /// A checkpoint signature that is missing or does not verify.
    #[error("checkpoint signature: {0}")]
    Signature(String),
    /// A checkpoint of another log: its origin is not the one the caller
    /// named. One key may sign several logs (one origin per tenant, say), so
    /// a valid signature alone does not say which log a checkpoint is of.
    #[error(
        "checkpoint of log {:?}, not of {:?}",
        custodia_core::echo(found),
        custodia_core::echo(expected)
    )]
    Origin {
        /// The origin the caller expected.
        expected: String,
        /// The checkpoint's origin.
        found: String,
    },
    /// The log is shorter than a checkpoint someone trusted: records were
    /// removed from its end.
    #[error("log truncated: a trusted checkpoint covers {trusted} records, the log has {found}")]
    Truncated {
        /// The trusted size.
        trusted: u64,
        /// The size found.
        found: u64,
    },
    /// The log does not match a trusted checkpoint: a record before the
    /// checkpoint's size was changed, removed or reordered, or the log was forked.
    #[error("log does not match the checkpoint at size {size}: root differs")]
    Forked {
        /// The checkpoint's size.
        size: u64,
    },
    /// A committed record or segment was altered, removed, reordered or replaced.
    #[error("tampering detected in {} at byte {offset}{}: {reason}", path.display(), index.map(|i| format!(" (record {i})")).unwrap_or_default())]
    Tampered {
        /// The segment file.
        path: PathBuf,
        /// Byte offset of the bad record or header.
        offset: u64,
        /// The record index, when known.
        index: Option<u64>,
        /// What is wrong.
        reason: String,
    },
    /// An event still holds personal data in the clear, or a value labelled
    /// sealed that is not an envelope under the labelled subject's key
    /// ([`Personal::is_sealed`](crate::Personal::is_sealed)), but the log
    /// requires it sealed under the subject's key.
    #[error(
        "event {event} holds personal data in {field} not sealed under its subject's key (in the clear, or labelled sealed but not that subject's envelope): seal it first"
    )]
    ClearPersonalData {
        /// The event id.
        event: String,
        /// The field path, e.g. `actor.ip`.
        field: String,
    },
    /// A personal value has no data subject whose key could seal it.
    #[error("event {event}: {field} has no data subject to seal it under")]
    NoSubject {
        /// The event id.
        event: String,
        /// The field path.
        field: String,
    },
    /// Another writer appended to a shared store first; [`crate::AuditLog`]
    /// catches up and retries on its own.
    #[error(
        "another writer appended first: expected the log to hold {expected} records, it holds {found}"
    )]
    Stale {
        /// The length this writer knew.
        expected: u64,
        /// The length found.
        found: u64,
    },
    /// Another writer (this process or another one) holds the segment
    /// directory's lock file; only one writer may open a log at a time.
    #[error("{} is locked by another writer", path.display())]
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// A store configuration or usage error.
    #[error("store: {0}")]
    Store(String),
    /// Damage that [`SegmentStore::recover`](crate::SegmentStore::recover)
    /// will not mend by cutting the log's tail: the first segment's header
    /// (the cut would remove the whole log) or a file that is not a
    /// segment. Nothing was changed.
    #[error("{finding}: {why}; nothing was changed")]
    Unrecoverable {
        /// The damage found, in words.
        finding: String,
        /// Why cutting cannot mend it.
        why: &'static str,
        /// The finding itself (an [`Error::Tampered`]), when loading the
        /// log raised one rather than finding a torn final record.
        #[source]
        source: Option<Box<Error>>,
    },
    /// The SQLite database failed (feature `sqlite`).
    #[cfg(feature = "sqlite")]
    #[error("{}: {source}", path.display())]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// The driver's error.
        source: rusqlite::Error,
    },
    /// The PostgreSQL server or driver failed (feature `postgres`).
    #[cfg(feature = "postgres")]
    #[error("postgres: {}", custodia_core::postgres_detail(source))]
    Postgres {
        /// The driver's error (SQLSTATE and message).
        source: postgres::Error,
    },
    /// The sqlx PostgreSQL store's server or driver failed (feature `sqlx`).
    #[cfg(feature = "sqlx")]
    #[error("store: postgres: {}", custodia_core::sqlx_detail(source))]
    Sqlx {
        /// The driver's error (with the SQLSTATE, when the server sent one).
        source: sqlx_core::Error,
    },
    /// A group commit of the sqlx store failed: nothing of the group was
    /// appended (feature `sqlx`). Every append of the group gets this error;
    /// they share the one cause.
    #[cfg(feature = "sqlx")]
    #[error("store: group commit failed, nothing appended: {source}")]
    GroupCommit {
        /// Why the group's transaction failed (usually [`Error::Sqlx`]).
        source: custodia_core::Shared<Error>,
    },
    /// An encryption error from custodia-crypt (other than erasure, which
    /// reads as erased).
    #[error(transparent)]
    Crypt(#[from] custodia_crypt::Error),
    /// An I/O error on a file of the log.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

impl Error {
    /// Whether this error is a failure of the store itself (its database,
    /// its files, its configuration) rather than a finding about the log's
    /// contents: [`Error::Store`], [`Error::Io`], `Error::Sqlite`,
    /// `Error::Postgres`, `Error::Sqlx` and `Error::GroupCommit`.
    ///
    /// ```
    /// let e = custodia_audit::Error::Store("the store is read-only".into());
    /// assert!(e.is_store());
    /// assert!(!e.is_finding());
    /// ```
    pub fn is_store(&self) -> bool {
        match self {
            Error::Store(_) | Error::Io { .. } => true,
            #[cfg(feature = "sqlite")]
            Error::Sqlite { .. } => true,
            #[cfg(feature = "postgres")]
            Error::Postgres { .. } => true,
            #[cfg(feature = "sqlx")]
            Error::Sqlx { .. } | Error::GroupCommit { .. } => true,
            _ => false,
        }
    }

    /// Whether this error is a verification finding (tampering, truncation,
    /// a fork, a bad proof or signature, a checkpoint of another log, damage
    /// recovery will not cut) rather than a usage
    /// or I/O problem.
    pub fn is_finding(&self) -> bool {
        matches!(
            self,
            Error::Tampered { .. }
                | Error::Unrecoverable { .. }
                | Error::Truncated { .. }
                | Error::Forked { .. }
                | Error::ProofMismatch(_)
                | Error::Signature(_)
                | Error::Origin { .. }
        )
    }
}

/// `Ok` when `index` is within a log or tree of `size` records, else
/// [`Error::IndexOutOfRange`].
pub(crate) fn check_index(index: u64, size: u64) -> Result<(), Error> {
    if index < size {
        Ok(())
    } else {
        Err(Error::IndexOutOfRange { index, size })
    }
}

pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { path, source }
}
