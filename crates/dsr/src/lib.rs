//! Data-subject requests, breach incidents and records of processing: the
//! GDPR duties a helpdesk's privacy policy promises, as typed Rust.
//!
//! # Model
//!
//! * A [`Request`] (access, rectification, erasure, restriction, objection,
//!   portability) belongs to a tenant and a subject, records how identity was
//!   verified, and moves through a checked state machine (received → verified
//!   → in progress → completed / rejected / extended, or forwarded by a
//!   processor). Its deadline is one month after receipt, extendable once by
//!   two months, by the EU rule for periods of months ([`period`]).
//! * The host implements [`PersonalDataSource`] for each store (tickets,
//!   contacts, attachments). A [`Desk`] runs a request across every source,
//!   keeps per-source [`Progress`] on the request, and produces an
//!   [`ExportBundle`] (access, portability), a [`RectificationReport`], a
//!   [`RestrictionReport`] or an [`ErasureCertificate`].
//! * Erasure deletes or anonymizes per field ([`ErasurePolicy`]), keeps what a
//!   [`RetentionCheck`] holds under Art. 17(3) (saying why and until when;
//!   [`PolicyRetention`] asks a `custodia-retention` policy), shreds the
//!   subject's key through a [`KeyShredder`] (implemented for
//!   `custodia_crypt::SubjectVault`), and states when the data leaves the
//!   backups ([`BackupHorizon`], e.g. the policy's backup schedule).
//!   A kept record delays the key shred only while it **needs** the key:
//!   a source says per record whether it is sealed under the subject key
//!   ([`RecordMeta::sealed_under_subject_key`], default `true`), and the
//!   desk first asks it to re-seal kept records under another key (a
//!   tenant or legal-hold key: [`PersonalDataSource::reseal_kept`], a
//!   `RecordsResealed` event). Then the key is shredded at once — the
//!   subject's other sealed values and audit personal data become
//!   unreadable while the held record stays readable for its exception.
//!   Only records that still need the key defer the shred
//!   ([`SubjectKeyStatus::Deferred`] lists them, a `SubjectKeyShredDeferred`
//!   event); [`Desk::resume_deferred_erasures`], run on a schedule over the
//!   stored requests, erases what is no longer held and shreds the key as
//!   soon as nothing needs it.
//! * Subject-level state: some of what a source keeps is about the person
//!   as a whole, not in a record — a contact register saying their
//!   processing is restricted (Art. 18) or which purposes they objected to
//!   (Art. 21), so that records stored later inherit it. The desk asks
//!   every source once per request for it
//!   ([`PersonalDataSource::subject_step`], default: nothing kept),
//!   whether or not records were located, so a person with no record is
//!   reached too. Access bundles list the subject-level records with the
//!   source's others (under the source's record type, e.g.
//!   `contact_register`: an additive use of `records`, so the bundle stays
//!   version 1 and a version-1 reader shows them); a restriction, lift or
//!   objection is applied to them before the records are located, and the
//!   [`RestrictionReport`] lists them; an erasure removes them, also
//!   before the records, and the certificate lists each as erased with
//!   `subject_level: true`. Every such step is audited
//!   ([`DsrAction::SubjectStep`]: source, step, records) and kept in the
//!   request's progress (`subject_records`, and `subject_step_ran` once it
//!   ran). A restriction's or erasure's step runs once per request: a
//!   rerun takes its answer from the progress, and a pass over a deferred
//!   erasure ([`Desk::resume_deferred_erasures`]) never runs it, so state
//!   written after the erasure (a later restriction of the same person)
//!   stays; records a pass locates are still erased, as before.
//! * Deadlines: one month to decide (act, extend, or refuse with reasons,
//!   Art. 12(3)–(4)); an extension is refused after it, a refusal after it
//!   is recorded as late, and [`Desk::late_requests`] lists open requests
//!   with no decision after a month or past their extended deadline.
//! * [`breach`]: incidents with the Art. 33(3) contents, the 72-hour and
//!   processor clocks, affected people from events, the Art. 34 decision and
//!   Markdown drafts. [`records`]: the Art. 30 record of processing.
//! * [`remote`]: the source protocol, so sources kept in the host's own
//!   program serve the `custodia dsr` command (JSON lines over stdio,
//!   [`remote::SourceServer`] on the host's side, [`remote::RemoteSources`]
//!   on the command's).
//! * Every step emits a typed [`DsrEvent`] to an [`DsrEventSink`]: in
//!   production an [`AuditTrail`] on a `custodia-audit` Merkle log.
//!
//! The key design decision is that **the request is the unit of durability**:
//! it carries its own per-source progress, so a run that fails half-way (a
//! source down, the audit sink refusing) leaves a request that is still open
//! and can simply be run again. Sources that finished are skipped, failed ones
//! retried, the key is shredded once; a completed request is never reported
//! done before every source is. The second decision is that **state changes
//! are audited before they count**: the desk applies a step to a copy, records
//! the event, and only then commits.
//!
//! # Integrations with other crates
//!
//! `custodia-retention` is connected: [`PolicyRetention`] answers both
//! [`RetentionCheck`] (legal holds and unexpired retentions keep records,
//! with the Art. 17(3) exception, reason and end date; the mapping is
//! documented on the type) and [`BackupHorizon`] (the policy's
//! `[backups]` schedule) from a compiled policy file. Records carry what the
//! policy needs in [`Located::meta`] ([`RecordMeta`]: category, region,
//! creation time, labels, trigger events).
//!
//! `custodia-audit` is connected through one type, [`AuditTrail`] (module
//! [`AuditTrail`]), which holds an `AuditLog` and the `SubjectVault`:
//!
//! | desk seam | [`AuditTrail`] does | without it |
//! |---|---|---|
//! | [`DsrEventSink`] (every step's event) | appends one audit event per [`DsrEvent`] (mapping to audit actions documented on [`AuditTrail`]), details sealed | [`MemorySink`], or the host's log |
//! | [`SubjectAuditHistory`] (audit events in the bundle) | the subject's events, opened with their key; erased values shown as erased, other people's withheld, ones that cannot be read marked unreadable and counted in `audit.unreadable` (a vault that cannot read fails it) | bundles say `"status": "not_connected"` |
//! | affected people in a breach | [`AuditTrail::affected`]: the log's events in a window, filtered by a query, each counting every subject it concerns | any `(time, tenant, subject)` iterator into [`breach::affected_in_window`] |
//!
//! [`NoHolds`], [`StaticHolds`], [`FixedBackupWindow`] and [`UnknownBackups`]
//! remain for hosts without a retention policy.
//!
//! With the record of processing on the desk ([`Desk::with_records`]), access
//! bundles also explain the processing (Art. 15(1)), and rectification,
//! erasure and restriction list the recipients to inform (Art. 19).
//!
//! An access bundle the host still has to deliver (write to disk, send) goes
//! through [`Desk::export_with`]: the request is completed only once the
//! delivery succeeded, and stays open ([`Error::Delivery`]) when it failed.
//!
//! # Example: an erasure under a retention policy
//!
//! The other requests have their examples on [`Desk::export`] (access and
//! portability), [`Desk::rectify`], [`Desk::forward`] (processor mode),
//! [`Desk::erase`] (holds listed by the host) and in [`breach`].
//!
//! ```
//! use std::sync::Arc;
//! use chrono::{TimeZone, Utc};
//! use custodia_core::{ActorId, Clock, DataCategory, LegalBasis, ManualClock, Role, SubjectId, TenantId};
//! use custodia_dsr::*;
//! use custodia_retention::RetentionPolicy;
//!
//! let policy = Arc::new(RetentionPolicy::from_toml(r#"
//!     version = 1
//!
//!     [[rule]]                       # "Invoices are kept ten years."
//!     name = "invoices"
//!     applies_to = { category = "user.financial.billing" }
//!     trigger = "created"
//!     retain = "10y"
//!     then = "delete"
//!
//!     [[hold]]
//!     id = "case-2026-17"
//!     reason = "litigation"
//!     applies_to = { records = "T-9" }
//!
//!     [backups]                      # daily, each kept 30 days
//!     every = "1d"
//!     keep = "30d"
//!     anchor = "2026-01-01T02:00:00Z"
//! "#, "helpdesk.toml")?);
//!
//! let day = |m, d, h| Utc.with_ymd_and_hms(2026, m, d, h, 0, 0).unwrap();
//! let clock = Arc::new(ManualClock::new(day(3, 2, 9)));
//! let tenant = TenantId::from_external_key("billing.account", "ACME-0042");
//! let alice = SubjectId::from_external_key(tenant, "psa.contact", "1017");
//! let dpo = ActorId::from_external_key(tenant, "psa.user", "dpo");
//!
//! let tickets = Arc::new(MemorySource::new("tickets"));
//! for id in ["T-1", "T-9"] {
//!     tickets.insert(tenant, alice, RecordRef::new("ticket", id), LegalBasis::Contract,
//!         [("description", DataCategory::USER_CONTENT_TICKET, "Printer on fire", true)]);
//! }
//! let invoices = Arc::new(MemorySource::new("invoices"));
//! let invoice = RecordRef::new("invoice", "INV-7");
//! invoices.insert(tenant, alice, invoice.clone(), LegalBasis::LegalObligation,
//!     [("billing_name", DataCategory::USER_NAME, "Alice Example", true)]);
//! // What the policy evaluates the invoice by.
//! invoices.set_meta(tenant, &invoice, RecordMeta::default()
//!     .category(DataCategory::USER_FINANCIAL_BILLING)
//!     .created_at(day(1, 15, 0)));
//!
//! let retention = Arc::new(PolicyRetention::new(policy.clone(), clock.clone()));
//! let desk = Desk::new(clock.clone(), Arc::new(MemorySink::new()))
//!     .with_source(tickets.clone())?
//!     .with_source(invoices.clone())?
//!     .with_retention(retention.clone())
//!     .with_backup_horizon(retention);
//! let mut request = desk.receive(tenant, alice, RequestKind::Erasure, Role::Controller, dpo)?;
//! desk.verify(&mut request, VerificationMethod::AuthenticatedSession, "", dpo)?;
//! let certificate = desk.erase(&mut request, dpo)?;
//!
//! // T-1 is erased; the held ticket and the invoice are kept, saying why and until when.
//! assert_eq!(certificate.erased.len(), 1);
//! let held = certificate.kept.iter().find(|k| k.record.id == "T-9").unwrap();
//! assert_eq!((held.exception, held.until), (ErasureException::LegalClaims, None));
//! assert!(held.reason.ends_with("until the hold is released"));
//! let kept = certificate.kept.iter().find(|k| k.record.id == "INV-7").unwrap();
//! assert_eq!(kept.exception, ErasureException::LegalObligation);
//! assert_eq!(kept.until, Some(Utc.with_ymd_and_hms(2036, 1, 15, 0, 0, 0).unwrap()));
//! // The last backup before the erasure ran at 02:00; it expires 30 days later.
//! assert_eq!(certificate.backups_clear_by, Some(Utc.with_ymd_and_hms(2026, 4, 1, 2, 0, 0).unwrap()));
//! assert_eq!(certificate.backups_clear_by, policy.backups().unwrap().horizon(clock.now()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Serialised formats
//!
//! Every document carries a `"version"` and is read back by a `from_json`
//! that checks it: the export bundle ([`ExportBundle`], 1), the erasure
//! certificate ([`ErasureCertificate`], 2; version 1 is still read), the record of
//! processing ([`records`], 1), the request ([`Request::to_json`], 1; fields
//! added since — `kept[].subject_key`, `rejection.late`, the progress's
//! `subject_records`, `erased[].subject_level`, `subject_step_ran` (done
//! and failed sources) and a failed source's `categories` and
//! `subject_records` — read with safe defaults from older requests; the
//! certificate's `erased[].subject_level` likewise) and the incident
//! ([`breach::Incident::to_json`], 1).
//!
//! A done source without `subject_step_ran` reads as "subject-level step
//! not yet run": a restriction or erasure stored part-done by an older
//! build (before the step existed, or before it was recorded) runs that
//! source again once when resumed, step included (its records are located
//! and restricted or erased again, which sources do idempotently), so the
//! person's subject-level state is reached once. A source of a completed
//! erasure is not: a deferred erasure's pass never runs the step. The
//! field is written only when true, so progress without subject-level
//! steps (rectification, older requests) encodes as before.
//!
//! With feature `proptest`, the `arbitrary` module has strategies for the
//! main types.

#![forbid(unsafe_code)]
// Library code returns typed errors; only tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(missing_docs)]
#![warn(unreachable_pub)]

#[cfg(feature = "proptest")]
pub mod arbitrary;
mod audit_log;
pub mod breach;
mod desk;
mod erasure;
mod error;
mod event;
mod export;
mod json;
mod memory;
pub mod period;
pub mod records;
pub mod remote;
mod request;
mod retention;
mod source;

pub use audit_log::{
    AuditTrail, DESK_KEY, DESK_SYSTEM, DetailsKey, ERASED, UNREADABLE, WITHHELD, desk_actor,
    desk_subject,
};
pub use desk::{
    ControllerForwarder, Desk, LateRequest, RectificationReport, RequestOutcome, RestrictionReport,
};
pub use erasure::{
    BlockingRecord, CERTIFICATE_SCHEMA, ErasureCertificate, ErasurePolicy, KeyShredder,
    ResumeReport, Resumed, SubjectKeyStatus,
};
pub use error::{BoxError, Error, HostError};
pub use event::{DsrAction, DsrEvent, DsrEventSink, MemorySink};
pub use export::{
    AuditSection, AuditStatus, BUNDLE_SCHEMA, BundleKind, CsvFile, ExportBundle, ManifestEntry,
    ProcessingInfo, RenderedAuditEvent, SubjectAuditHistory,
};
pub use memory::{ANONYMIZED, MemorySource};
pub use request::{
    Correction, DeadlineStatus, EXTENSION_MONTHS, Extension, Forwarding, IdentityVerification,
    Party, RESPONSE_MONTHS, Rejection, RejectionReason, Request, RequestId, RequestKind,
    RequestState, Transition, VerificationMethod, due_after_receipt, extended_due,
};
pub use retention::{
    BackupHorizon, ErasureException, ErasureHold, FixedBackupWindow, NoHolds, PolicyRetention,
    RetentionCheck, StaticHolds, UnknownBackups, article_tag,
};
pub use source::{
    ErasedRecord, ErasurePlan, ExportedRecord, FieldAction, FieldErasure, FieldInfo, FieldUpdate,
    FieldValue, KeptKey, KeptRecord, Located, PersonalDataSource, Progress, RecordMeta, RecordRef,
    ResealOutcome, Restriction, SourceProgress, SubjectOutcome, SubjectRecord, SubjectStep,
};
