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
//! * Every step emits a typed [`DsrEvent`] to an [`AuditSink`]: in
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
//! [`audit_log`]), which holds an `AuditLog` and the `SubjectVault`:
//!
//! | desk seam | [`AuditTrail`] does | without it |
//! |---|---|---|
//! | [`AuditSink`] (every step's event) | appends one audit event per [`DsrEvent`] (mapping to audit actions documented in [`audit_log`]), details sealed | [`MemorySink`], or the host's log |
//! | [`SubjectAuditHistory`] (audit events in the bundle) | the subject's events, opened with their key; erased values shown as erased, other people's withheld | bundles say `"status": "not_connected"` |
//! | affected people in a breach | [`AuditTrail::affected`]: the log's events in a window, filtered by a query | any `(time, tenant, subject)` iterator into [`breach::affected_in_window`] |
//!
//! The workspace test `tests/dsr_flow.rs` runs access, portability,
//! rectification and erasure across three sources and a real audit log: after
//! the erasure a record under a legal hold is kept with its reason and stays
//! readable (its source re-sealed it under the tenant's key), while the
//! subject's other sealed fields and her audit values are unreadable at once
//! (`Shredded`), and the log verifies end to end and against a checkpoint
//! taken before. A second case, with a source that cannot re-seal, shows the
//! deferral and the shred on the scheduled re-run after the hold's release.
//!
//! [`NoHolds`], [`StaticHolds`], [`FixedBackupWindow`] and [`UnknownBackups`]
//! remain for hosts without a retention policy.
//!
//! With the record of processing on the desk ([`Desk::with_records`]), access
//! bundles also explain the processing (Art. 15(1)), and rectification,
//! erasure and restriction list the recipients to inform (Art. 19).
//!
//! # Example: an erasure under a retention policy
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
//! # Example: an erasure across sources, with a hold listed by the host
//!
//! ```
//! use std::sync::Arc;
//! use chrono::{TimeDelta, TimeZone, Utc};
//! use custodia_core::{ActorId, Clock, DataCategory, LegalBasis, ManualClock, Role, SubjectId, TenantId};
//! use custodia_crypt::{FieldContext, Keyring, MemoryKeyStore, SecretKey, SubjectVault};
//! use custodia_dsr::*;
//! use custodia_dsr::erasure::SubjectKeyStatus;
//!
//! let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()));
//! let audit = Arc::new(MemorySink::new());
//! let tenant = TenantId::from_external_key("billing.account", "ACME-0042");
//! let alice = SubjectId::from_external_key(tenant, "psa.contact", "1017");
//! let dpo = ActorId::from_external_key(tenant, "psa.user", "dpo");
//!
//! // Two stores, and a vault holding Alice's key. The invoice store can
//! // re-seal a kept invoice under the tenant's key.
//! let contacts = Arc::new(MemorySource::new("contacts"));
//! contacts.insert(tenant, alice, RecordRef::new("contact", "1017"), LegalBasis::Contract,
//!     [("email", DataCategory::USER_CONTACT_EMAIL, "alice@example.com", true)]);
//! let invoices = Arc::new(MemorySource::new("invoices").resealing_under("tenant data key"));
//! invoices.insert(tenant, alice, RecordRef::new("invoice", "INV-7"), LegalBasis::LegalObligation,
//!     [("billing_name", DataCategory::USER_NAME, "Alice Example", true)]);
//! let vault = Arc::new(SubjectVault::new(
//!     Arc::new(Keyring::new(SecretKey::generate()?)), MemoryKeyStore::default(), clock.clone()));
//! let ctx = FieldContext::new(tenant, "audit_event", "e-1", "ip")?;
//! let sealed = vault.seal(alice, &ctx, b"203.0.113.7")?;
//!
//! // Invoices are kept ten years for the tax authority.
//! let until = Utc.with_ymd_and_hms(2036, 1, 1, 0, 0, 0).unwrap();
//! let holds = StaticHolds::new().hold(tenant, "invoices", RecordRef::new("invoice", "INV-7"),
//!     ErasureHold { exception: ErasureException::LegalObligation, reason: "tax law".into(), until: Some(until) });
//!
//! let desk = Desk::new(clock.clone(), audit.clone())
//!     .with_source(contacts.clone())?
//!     .with_source(invoices.clone())?
//!     .with_retention(Arc::new(holds))
//!     .with_key_shredder(vault.clone())
//!     .with_backup_horizon(Arc::new(FixedBackupWindow(TimeDelta::days(30))));
//!
//! let mut request = desk.receive(tenant, alice, RequestKind::Erasure, Role::Controller, dpo)?;
//! assert_eq!(request.due, Utc.with_ymd_and_hms(2026, 4, 2, 23, 59, 59).unwrap()
//!     + TimeDelta::nanoseconds(999_999_999));
//! desk.verify(&mut request, VerificationMethod::AuthenticatedSession, "", dpo)?;
//! let certificate = desk.erase(&mut request, dpo)?;
//!
//! assert_eq!(request.state, RequestState::Completed);
//! assert!(contacts.is_empty());
//! assert_eq!(certificate.kept[0].exception, ErasureException::LegalObligation);
//! assert_eq!(invoices.len(), 1);
//! // The kept invoice was re-sealed under the tenant's key, so it no longer
//! // needs Alice's key: that is shredded now, and data sealed under it
//! // (here an audit value) is unreadable at once.
//! assert!(matches!(certificate.kept[0].subject_key, KeptKey::Resealed { .. }));
//! assert_eq!(certificate.records_resealed, 1);
//! assert!(matches!(certificate.subject_key, SubjectKeyStatus::Shredded { .. }));
//! assert!(vault.open(&ctx, &sealed).is_err());
//! assert_eq!(certificate.backups_clear_by, Some(clock.now() + TimeDelta::days(30)));
//! // Running it again is safe and returns the same certificate.
//! assert_eq!(desk.erase(&mut request, dpo)?, certificate);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Example: access and portability
//!
//! ```
//! use std::sync::Arc;
//! use custodia_core::{ActorId, DataCategory, LegalBasis, ManualClock, Role, SubjectId, TenantId};
//! use custodia_dsr::*;
//!
//! let clock = Arc::new(ManualClock::new(custodia_core::chrono::Utc::now()));
//! let tenant = TenantId::from_external_key("crm", "acme");
//! let bob = SubjectId::from_external_key(tenant, "contact", "2");
//! let agent = ActorId::from_external_key(tenant, "agent", "7");
//! let tickets = Arc::new(MemorySource::new("tickets"));
//! tickets.insert(tenant, bob, RecordRef::new("ticket", "T-1"), LegalBasis::Contract, [
//!     ("description", DataCategory::USER_CONTENT_TICKET, "Printer on fire", true),
//!     ("agent_note", DataCategory::USER_CONTENT_TICKET, "Customer sounded upset", false),
//! ]);
//! let desk = Desk::new(clock, Arc::new(MemorySink::new())).with_source(tickets)?;
//!
//! let mut request = desk.receive(tenant, bob, RequestKind::Portability, Role::Controller, agent)?;
//! desk.verify(&mut request, VerificationMethod::ContactChallenge, "code returned", agent)?;
//! let bundle = desk.export(&mut request, agent)?;
//! // Portability carries only what Bob provided.
//! assert_eq!(bundle.records[0].fields.len(), 1);
//! assert_eq!(bundle.manifest[0].csv, "tickets-ticket.csv");
//! assert_eq!(bundle.audit.status, AuditStatus::NotConnected);
//! let csv = &bundle.csv_files()[0];
//! assert_eq!(csv.content, "id,created_at,description\r\nT-1,,Printer on fire\r\n");
//! assert_eq!(ExportBundle::from_json(&bundle.to_json()?)?, bundle);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Example: rectification, with the deadline extended
//!
//! ```
//! use std::sync::Arc;
//! use chrono::{NaiveDate, TimeZone, Utc};
//! use custodia_core::{ActorId, DataCategory, LegalBasis, ManualClock, Role, SubjectId, TenantId};
//! use custodia_dsr::*;
//!
//! let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 31, 17, 0, 0).unwrap()));
//! let tenant = TenantId::from_external_key("crm", "acme");
//! let carol = SubjectId::from_external_key(tenant, "contact", "3");
//! let agent = ActorId::from_external_key(tenant, "agent", "7");
//! let contacts = Arc::new(MemorySource::new("contacts"));
//! let record = RecordRef::new("contact", "C-3");
//! contacts.insert(tenant, carol, record.clone(), LegalBasis::Contract,
//!     [("email", DataCategory::USER_CONTACT_EMAIL, "carol@old.example", true)]);
//! let desk = Desk::new(clock, Arc::new(MemorySink::new())).with_source(contacts.clone())?;
//!
//! let kind = RequestKind::Rectification { corrections: vec![
//!     Correction { category: DataCategory::USER_CONTACT_EMAIL, value: "carol@new.example".into() },
//!     Correction { category: DataCategory::USER_CONTACT_PHONE, value: "+44 20 7946 0000".into() },
//! ]};
//! let mut request = desk.receive(tenant, carol, kind, Role::Controller, agent)?;
//! // Received 31 December: due 31 January; extended: 31 March.
//! assert_eq!(request.due.date_naive(), NaiveDate::from_ymd_opt(2027, 1, 31).unwrap());
//! desk.verify(&mut request, VerificationMethod::AuthenticatedSession, "", agent)?;
//! desk.extend(&mut request, "records spread over three regional stores", agent)?;
//! assert_eq!(request.due.date_naive(), NaiveDate::from_ymd_opt(2027, 3, 31).unwrap());
//! assert!(matches!(desk.extend(&mut request, "again", agent), Err(Error::AlreadyExtended { .. })));
//!
//! let report = desk.rectify(&mut request, agent)?;
//! assert_eq!(report.records_updated, 1);
//! // No phone number on file: the host completes the data itself (Art. 16).
//! assert_eq!(report.unmatched, [DataCategory::USER_CONTACT_PHONE]);
//! assert_eq!(contacts.get(tenant, &record).unwrap().fields[0].value, "carol@new.example");
//! # Ok::<(), Error>(())
//! ```
//!
//! # Example: processor mode
//!
//! ```
//! use std::sync::Arc;
//! use custodia_core::{ActorId, ManualClock, Role, SubjectId, TenantId};
//! use custodia_dsr::*;
//!
//! struct Email;
//! impl ControllerForwarder for Email {
//!     fn forward(&self, _: &Request, _: &Party) -> Result<Option<String>, BoxError> {
//!         Ok(Some("ACME-DSR-118".into()))
//!     }
//! }
//!
//! let desk = Desk::new(Arc::new(ManualClock::new(custodia_core::chrono::Utc::now())),
//!     Arc::new(MemorySink::new()));
//! let tenant = TenantId::from_external_key("msp", "acme");
//! let user = SubjectId::from_external_key(tenant, "portal.user", "9");
//! let agent = ActorId::from_external_key(tenant, "agent", "1");
//! let mut request = desk.receive(tenant, user, RequestKind::Erasure, Role::Processor, agent)?;
//! // A processor does not answer...
//! assert!(matches!(desk.run(&mut request, agent), Err(Error::ProcessorMustForward { .. })));
//! // ...it forwards to the controller, and that is recorded.
//! let acme = Party { name: "Acme Ltd".into(), contact: "privacy@acme.example".into(), tenant: Some(tenant) };
//! desk.forward(&mut request, acme, &Email, agent)?;
//! assert_eq!(request.state, RequestState::Forwarded);
//! assert_eq!(request.forwarding.unwrap().reference.as_deref(), Some("ACME-DSR-118"));
//! # Ok::<(), Error>(())
//! ```
//!
//! # Example: a breach
//!
//! ```
//! use chrono::{TimeDelta, TimeZone, Utc};
//! use custodia_core::{DataCategory, Role};
//! use custodia_dsr::breach::{Art34Assessment, Art34Decision, Contact, Incident, Lateness};
//!
//! let aware = Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).unwrap();
//! let dpo = Contact { name: "DPO".into(), contact: "dpo@example.com".into() };
//! let mut incident = Incident::new(Role::Controller, aware, "Misdirected export", dpo);
//! incident.data_categories.insert(DataCategory::USER_HEALTH);
//! incident.nature.confidentiality = true;
//! assert_eq!(incident.authority_deadline(), aware + TimeDelta::hours(72));
//! assert_eq!(incident.lateness(aware + TimeDelta::hours(80)), Lateness::Late(TimeDelta::hours(8)));
//! let assessment = Art34Assessment {
//!     high_risk: Art34Assessment::suggest_high_risk(&incident),
//!     ..Default::default()
//! };
//! assert_eq!(assessment.decide(), Art34Decision::NotifySubjects);
//! assert!(incident.authority_draft(aware).contains("user.health"));
//! ```
//!
//! # Serialised formats
//!
//! Every document carries a `"version"` and is read back by a `from_json`
//! that checks it: the export bundle ([`export`], 1), the erasure
//! certificate ([`erasure`], 2; version 1 is still read), the record of
//! processing ([`records`], 1), the request ([`Request::to_json`], 1; fields
//! added since — `kept[].subject_key`, `rejection.late` — read with safe
//! defaults from older requests) and the incident
//! ([`breach::Incident::to_json`], 1).
//!
//! With feature `proptest`, the `arbitrary` module has strategies for the
//! main types.

#![forbid(unsafe_code)]
// Library code returns typed errors; only tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(missing_docs)]

#[cfg(feature = "proptest")]
pub mod arbitrary;
pub mod audit_log;
pub mod breach;
mod desk;
pub mod erasure;
mod error;
pub mod event;
pub mod export;
mod json;
mod memory;
pub mod period;
pub mod records;
pub mod remote;
pub mod request;
pub mod retention;
pub mod source;

pub use audit_log::{AuditTrail, DetailsKey};
pub use desk::{
    ControllerForwarder, Desk, LateRequest, RectificationReport, RequestOutcome, RestrictionReport,
    ResumeReport, Resumed,
};
pub use erasure::{
    BlockingRecord, ErasureCertificate, ErasurePolicy, KeyShredder, SubjectKeyStatus,
};
pub use error::{BoxError, Error};
pub use event::{AuditSink, DsrAction, DsrEvent, MemorySink};
pub use export::{AuditStatus, ExportBundle, RenderedAuditEvent, SubjectAuditHistory};
pub use memory::{ANONYMIZED, MemorySource};
pub use request::{
    Correction, DeadlineStatus, Party, RejectionReason, Request, RequestId, RequestKind,
    RequestState, VerificationMethod,
};
pub use retention::{
    BackupHorizon, ErasureException, ErasureHold, FixedBackupWindow, NoHolds, PolicyRetention,
    RetentionCheck, StaticHolds, UnknownBackups,
};
pub use source::{
    ErasurePlan, ExportedRecord, FieldAction, KeptKey, Located, PersonalDataSource, Progress,
    RecordMeta, RecordRef, ResealOutcome, Restriction, SourceProgress,
};
