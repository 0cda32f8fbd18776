//! Tamper-evident audit records for Custodia.
//!
//! # Model
//!
//! * An [`Event`] records who ([`Actor`], with IP address and user agent) did
//!   what ([`Action`]) to which record ([`Target`]), about which data subject,
//!   when, why (purpose, legal basis), with which [`Outcome`], field by field
//!   ([`FieldChange`] with a `DataCategory` and before/after values). Events
//!   are built with [`Event::builder`] and have a JSON form (serde).
//! * Each event has one [`canonical`] byte encoding (versioned, documented),
//!   and that encoding is a leaf of an RFC 6962 / RFC 9162 [`merkle`] tree:
//!   inclusion proofs show an event is in the log, consistency proofs show a
//!   later log extends an earlier one.
//! * [`checkpoint`]s are C2SP signed notes (Ed25519) of a tree head. Whoever
//!   keeps an old checkpoint can detect a log that was later truncated,
//!   rewritten or forked.
//! * The log lives in a [`store::AuditStore`]: [`MemoryStore`], the
//!   [`SegmentStore`] (append-only checksummed segment files with group
//!   commit and crash recovery, the embedded default), `SqliteStore`
//!   (feature `sqlite`) or `PostgresStore` (feature `postgres`, several
//!   appending processes share one gap-free log). [`AuditLog`] ties a store
//!   to its tree, verifies on open, and answers proofs, queries (by tenant,
//!   subject, actor, target, action, time range) and subject exports.
//!   On tokio, `AsyncAuditLog` (feature `sqlx`) does the same over
//!   `SqlxAuditStore` for the tasks of a process (appends, proofs,
//!   checkpoints, verification; no queries or exports), with the same rules:
//!   both call one implementation of them.
//!
//! The key design decision is **erasure without rewriting**: personal values
//! (IP, user agent, before/after values, free text) are sealed under the data
//! subject's key from `custodia_crypt::SubjectVault` *before* hashing, so the
//! Merkle leaves cover ciphertext. Shredding the subject's key makes those
//! values unreadable everywhere while every hash, proof and checkpoint still
//! verifies ([`personal`]).
//!
//! The second is **opening is verifying**: [`AuditLog::open`] re-hashes every
//! record and checks each segment's anchored root, so a flipped byte, a
//! deleted, reordered or inserted record or a replaced segment is reported as
//! [`Error::Tampered`] naming the file, the byte offset and the record — never
//! silently dropped — while a record torn by a crash is truncated. Only
//! what a crash can leave is taken for one: at most one record cut short,
//! with no intact record after it; anything more is refused, and cutting it
//! away is the explicit, copied-aside [`SegmentStore::recover`] (see
//! [`store::segment`]).
//! Verification checks and hashes records on every core and folds the tree
//! level by level in parallel, reading each segment once; if several records
//! are bad, the lowest index is the one reported. [`verify_with_progress`]
//! and [`AuditLog::open_with_progress`] report progress for large logs.
//!
//! # Formats
//!
//! Every persisted format carries a version and is documented where it is
//! implemented: the event encoding (`CAE`, version 1) in [`canonical`]; segment
//! files (`CSTAUDSG`, version 2 with a record header checksum; version 1
//! still read) in [`store::segment`]; the SQL schemas
//! (version 1) in the `sqlite` and `postgres` store modules; checkpoints in the
//! C2SP signed-note format in [`checkpoint`] (byte-compatible with Go's
//! `golang.org/x/mod/sumdb/note`); the JSON form of events on [`Event`]; inclusion proofs
//! ([`PROOF_FORMAT`], version 1) on [`InclusionProof`] and subject exports
//! ([`EXPORT_FORMAT`], version 1, and [`EXPORT_FORMAT_V2`] for an export
//! with values that could not be read) on [`SubjectExport`].
//!
//! # Features
//!
//! `sqlite`, `postgres`: the SQL stores. `sqlx`: `SqlxAuditStore`, the
//! PostgreSQL store for async hosts (same tables and SQL), and
//! `AsyncAuditLog` over it. `proptest`:
//! strategies in `arbitrary`. Serde is always on: events, proofs and exports
//! have a JSON form.
//!
//! # Public surface
//!
//! Every type is at the crate root; a module stays public only as a format or
//! protocol namespace of free functions and constants: [`canonical`],
//! [`checkpoint`], [`merkle`], [`personal`] and [`store`] (with
//! [`store::segment`] and the SQL stores' schemas).
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use custodia_audit::{Action, Actor, ActorKind, AuditLog, Event, FieldChange, MemoryStore,
//!     Personal, Target, checkpoint};
//! use custodia_core::{ActorId, DataCategory, ManualClock, SubjectId, TenantId, chrono::Utc};
//! use custodia_crypt::{Keyring, MemoryKeyStore, SecretKey, SubjectVault};
//!
//! let clock = Arc::new(ManualClock::new(Utc::now()));
//! let vault = SubjectVault::new(
//!     Arc::new(Keyring::new(SecretKey::generate()?)), MemoryKeyStore::default(), clock.clone());
//! let tenant = TenantId::from_external_key("billing.account", "ACME-0042");
//! let alice = SubjectId::from_external_key(tenant, "psa.contact", "1017");
//! let agent = ActorId::from_external_key(tenant, "psa.user", "17");
//!
//! let mut log = AuditLog::open(MemoryStore::new())?;
//! let event = Event::builder(
//!         tenant,
//!         Actor::new(ActorKind::Agent, agent).with_ip("203.0.113.7"),
//!         Action::Update,
//!         Target::new("contact", "1017")?,
//!     )
//!     .subject(alice)
//!     .change(FieldChange::new("email", DataCategory::USER_CONTACT_EMAIL,
//!         Some("old@example.com".into()), Some("new@example.com".into())))
//!     .build(clock.as_ref())?;
//! let index = log.append_sealed(&vault, event)?;
//!
//! // A signed checkpoint, and an inclusion proof against it.
//! let signer = checkpoint::Signer::generate("audit.example.com/acme")?;
//! let note = log.checkpoint("audit.example.com/acme", &signer)?;
//! let trusted = checkpoint::open(&note, &signer.verifier(), "audit.example.com/acme")?;
//! let proof = log.prove(index)?;
//! assert_eq!(proof.root, trusted.root);
//! proof.verify_event(&log.get(index)?)?;
//!
//! // Erase Alice: the log still verifies, her values read as erased.
//! vault.shred(tenant, alice, agent)?;
//! log.check_checkpoint("audit.example.com/acme", &trusted)?;
//! let export = log.export_subject(Some(tenant), alice, Some(&vault))?;
//! assert_eq!(export.events[0].erased, ["actor.ip", "changes.0.before", "changes.0.after"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
// Library code returns typed errors; only tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(missing_docs)]
#![warn(unreachable_pub)]

// Format and protocol namespaces: free functions and constants that read
// well only qualified (`canonical::encode`, `merkle::leaf_hash`,
// `checkpoint::open`, `personal::seal_event`, `store::segment::SEGMENT_MAGIC`).
pub mod canonical;
pub mod checkpoint;
pub mod merkle;
pub mod personal;
pub mod store;
// A feature's add-on.
#[cfg(feature = "proptest")]
pub mod arbitrary;

#[cfg(feature = "sqlx")]
mod async_log;
mod b64;
mod error;
mod event;
mod log;

// Events.
pub use event::{
    Action, Actor, ActorKind, Event, EventBuilder, EventId, FieldChange, MAX_CHANGES,
    MAX_LABEL_LEN, MAX_NAME_LEN, MAX_VALUE_LEN, Outcome, Personal, Target,
};
// The log, its proofs, queries and exports.
#[cfg(feature = "sqlx")]
pub use async_log::{AsyncAuditLog, seal_event_async};
pub use log::{
    AuditLog, EXPORT_FORMAT, EXPORT_FORMAT_V2, ExportedEvent, InclusionProof, Incomplete,
    PROOF_FORMAT, Query, SubjectExport, VerifyReport, verify, verify_with_progress,
};
pub use merkle::{Hash, MerkleTree, TreeHead};
// Checkpoints.
pub use checkpoint::{Checkpoint, Signer, Verifier};
// Stores.
#[cfg(feature = "postgres")]
pub use store::PostgresStore;
#[cfg(feature = "sqlite")]
pub use store::SqliteStore;
pub use store::{AuditStore, Durability, MemoryStore, SegmentOptions, SegmentStore};
#[cfg(feature = "sqlx")]
pub use store::{DRAIN_LINGER, SqlxAuditStore};
// Errors.
pub use error::Error;
