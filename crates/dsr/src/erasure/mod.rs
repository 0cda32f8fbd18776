//! Erasure: the per-field policy, crypto-shredding of the subject key, and the
//! certificate that says what was erased, what was kept and why.
//!
//! The documentation is on the main item; the crate root re-exports the
//! module's public items.

mod workflow;

use std::fmt::Write as _;

use custodia_core::{ActorId, DataCategory, SubjectId, TenantId, Timestamp};
use custodia_crypt::{KeyStore, ShredOutcome, ShredReceipt, SubjectVault};
use serde::{Deserialize, Serialize};

use crate::error::{BoxError, Error};
use crate::request::RequestId;
use crate::source::{
    ErasedRecord, ErasurePlan, FieldAction, FieldErasure, KeptKey, KeptRecord, Located, RecordRef,
};
pub use workflow::{ResumeReport, Resumed};

/// Which fields are deleted and which anonymized.
///
/// The most specific rule whose category contains the field's category wins;
/// fields no rule covers get the default ([`FieldAction::Delete`] unless
/// changed). A record whose fields are all deleted is deleted whole.
///
/// ```
/// use custodia_core::DataCategory;
/// use custodia_dsr::{ErasurePolicy, FieldAction};
///
/// // Keep tickets for statistics, but with the person's text anonymized.
/// let policy = ErasurePolicy::delete_all()
///     .rule(DataCategory::USER_CONTENT_TICKET, FieldAction::Anonymize);
/// assert_eq!(policy.action_for(&DataCategory::USER_CONTENT_TICKET), FieldAction::Anonymize);
/// assert_eq!(policy.action_for(&DataCategory::USER_CONTACT_EMAIL), FieldAction::Delete);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasurePolicy {
    rules: Vec<(DataCategory, FieldAction)>,
    default: FieldAction,
}

impl Default for ErasurePolicy {
    fn default() -> Self {
        Self::delete_all()
    }
}

impl ErasurePolicy {
    /// Delete every field (and so every record).
    pub fn delete_all() -> Self {
        Self {
            rules: Vec::new(),
            default: FieldAction::Delete,
        }
    }

    /// Adds a rule for `category` and everything within it.
    pub fn rule(mut self, category: DataCategory, action: FieldAction) -> Self {
        self.rules.retain(|(c, _)| c != &category);
        self.rules.push((category, action));
        self
    }

    /// Changes the action for fields no rule covers.
    pub fn otherwise(mut self, action: FieldAction) -> Self {
        self.default = action;
        self
    }

    /// The action for a field of `category`.
    pub fn action_for(&self, category: &DataCategory) -> FieldAction {
        self.rules
            .iter()
            .filter(|(rule, _)| category.is_within(rule))
            .max_by_key(|(rule, _)| rule.depth())
            .map_or(self.default, |(_, action)| *action)
    }

    /// The plan for one located record.
    pub fn plan(&self, located: &Located) -> ErasurePlan {
        let fields: Vec<FieldErasure> = located
            .fields
            .iter()
            .map(|f| FieldErasure {
                name: f.name.clone(),
                action: self.action_for(&f.category),
            })
            .collect();
        ErasurePlan {
            record: located.record.clone(),
            delete_record: fields.iter().all(|f| f.action == FieldAction::Delete),
            fields,
        }
    }
}

/// Destroys a subject's key, so everything sealed under it becomes unreadable.
///
/// Implemented for [`custodia_crypt::SubjectVault`]; a host with its own key
/// management implements it there.
pub trait KeyShredder: Send + Sync {
    /// Destroys the key of `subject` in `tenant`, recording `actor`.
    fn shred_subject(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        actor: ActorId,
    ) -> Result<ShredReceipt, BoxError>;
}

impl<S: KeyStore> KeyShredder for SubjectVault<S> {
    fn shred_subject(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        actor: ActorId,
    ) -> Result<ShredReceipt, BoxError> {
        Ok(self.shred(tenant, subject, actor)?)
    }
}

/// What became of the subject's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SubjectKeyStatus {
    /// Destroyed at this time: every copy of data sealed under it, in backups
    /// and audit logs too, is unreadable from then on.
    Shredded {
        /// When.
        at: Timestamp,
        /// Whether a key was destroyed, or none existed and only the
        /// tombstone that stops one being made was written (the wrong
        /// tenant or person named, or nothing was ever sealed for them).
        /// From the shred receipt; absent (`unrecorded`) in certificates
        /// and receipts made before receipts said.
        #[serde(default, skip_serializing_if = "is_unrecorded")]
        outcome: ShredOutcome,
    },
    /// Not shredded yet because the erasure keeps records (legal hold or
    /// Art. 17(3) retention) that still need the key: their fields are
    /// sealed under it and the source could not re-seal them under another
    /// key. Shredding would make the kept data unreadable, so the hold would
    /// not really be respected. Kept records that do not need the key (not
    /// sealed under it, or re-sealed) do not defer the shred. A later re-run
    /// ([`Desk::resume_deferred_erasures`](crate::Desk::resume_deferred_erasures))
    /// shreds the key once none blocks it any more.
    Deferred {
        /// How many kept records still need the key: `blocking.len()`. (The
        /// name is version 1's, where every kept record deferred the shred;
        /// kept so that code matching on it keeps compiling.)
        records_kept: usize,
        /// Only the kept records that still need the key.
        #[serde(default)]
        blocking: Vec<BlockingRecord>,
        /// Why they are kept, as `exception: reason`, deduplicated.
        reasons: Vec<String>,
        /// The latest end date of the blocking records; `None` when at
        /// least one of them is kept until a hold is released.
        until: Option<Timestamp>,
    },
    /// No key vault was configured on the desk.
    NoKeyVault,
}

pub(crate) fn is_unrecorded(outcome: &ShredOutcome) -> bool {
    *outcome == ShredOutcome::Unrecorded
}

/// A kept record that holds up the subject-key shred.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BlockingRecord {
    /// The source.
    pub source: String,
    /// The record.
    pub record: RecordRef,
}

impl SubjectKeyStatus {
    /// The deferral for these kept records: `None` when none of them still
    /// needs the subject key ([`KeptKey::blocks_shred`]), otherwise
    /// `Deferred` listing only those that do.
    pub fn deferred_for(kept: &[KeptRecord]) -> Option<Self> {
        let blocking: Vec<&KeptRecord> = kept
            .iter()
            .filter(|k| k.subject_key.blocks_shred())
            .collect();
        if blocking.is_empty() {
            return None;
        }
        let mut reasons: Vec<String> = blocking
            .iter()
            .map(|k| format!("{}: {}", k.exception, k.reason))
            .collect();
        reasons.sort();
        reasons.dedup();
        let until = if blocking.iter().any(|k| k.until.is_none()) {
            None
        } else {
            blocking.iter().filter_map(|k| k.until).max()
        };
        let mut records: Vec<BlockingRecord> = blocking
            .iter()
            .map(|k| BlockingRecord {
                source: k.source.clone(),
                record: k.record.clone(),
            })
            .collect();
        records.sort();
        Some(Self::Deferred {
            records_kept: records.len(),
            blocking: records,
            reasons,
            until,
        })
    }

    /// One line saying what became of the key.
    pub fn describe(&self) -> String {
        match self {
            Self::Shredded {
                at,
                outcome: ShredOutcome::NoKeyExisted,
            } => format!("no key existed; tombstone written at {}", at.to_rfc3339()),
            Self::Shredded { at, .. } => format!("shredded at {}", at.to_rfc3339()),
            Self::Deferred {
                blocking,
                reasons,
                until,
                ..
            } => format!(
                "key shred deferred: {} kept records still need it ({}) under {} until {}",
                blocking.len(),
                blocking
                    .iter()
                    .map(|b| format!("{}/{} {}", b.source, b.record.record_type, b.record.id))
                    .collect::<Vec<_>>()
                    .join(", "),
                reasons.join("; "),
                until.map_or_else(|| "hold release".to_owned(), |t| t.to_rfc3339())
            ),
            Self::NoKeyVault => "no key vault".to_owned(),
        }
    }
}

/// The schema name of erasure certificates.
pub const CERTIFICATE_SCHEMA: &str = "custodia.dsr.erasure_certificate";

/// Proof of an erasure: what was erased where, what was kept and why until
/// when, the subject key's fate and when the backups are clear.
///
/// Erasure: the per-field policy, crypto-shredding of the subject key, and the
/// certificate that says what was erased, what was kept and why.
///
/// # Crypto-shredding and kept records
///
/// The subject key is the per-person data key of crypto-shredding (as in
/// MongoDB's scheme: delete the key and every copy sealed under it — live
/// rows, backups, the audit log's sealed values — is gone; for an
/// append-only Merkle log it is the only way to erase without breaking
/// verification). A record kept under Art. 17(3) — (b) a legal obligation
/// such as tax law, (e) legal claims, modelled as holds with a reason — must
/// stay readable, so the key cannot go while a kept record depends on it.
///
/// A hold, however, suspends the deletion of *what it covers* (retention
/// principle: holds suspend deletion of the held items), not of everything
/// else about the person. Deferring the whole shred for one invoice kept ten
/// years would keep her audit IPs and every other sealed value readable for
/// ten years, which Art. 17(1) does not allow. So the shred waits only for
/// kept records that still **need** the key:
///
/// 1. a source says per record whether it is sealed under the subject key
///    ([`RecordMeta::sealed_under_subject_key`](crate::RecordMeta::sealed_under_subject_key);
///    default `true`, the safe answer for sources that do not say);
/// 2. for kept records that are, the desk asks the source to re-seal them
///    under a key that is not the subject's
///    ([`PersonalDataSource::reseal_kept`](crate::PersonalDataSource::reseal_kept)):
///    the tenant's data key or a legal-hold key from `custodia_crypt::Keyring`,
///    the way a key-management service rewraps data under another key;
/// 3. the key is shredded at once if none still needs it, and the
///    certificate records how many were re-sealed; otherwise the shred is
///    deferred listing only the blocking records, and
///    [`Desk::resume_deferred_erasures`](crate::Desk::resume_deferred_erasures)
///    finishes it on a schedule once they are released.
///
/// Re-sealing moves the kept record from the person's key to a key whose
/// lifetime follows the hold; the old envelopes (in backups) die with the
/// subject key. Every step is audited by ids and counts, never values.
///
/// # Certificate format (version 2)
///
/// [`ErasureCertificate::to_json`] writes, and [`ErasureCertificate::from_json`]
/// reads back:
///
/// ```json
/// {
///   "schema": "custodia.dsr.erasure_certificate",
///   "version": 2,
///   "request": "…uuid…", "tenant": "…uuid…", "subject": "…uuid…",
///   "received_at": "2026-03-02T09:00:00Z",
///   "issued_at": "2026-03-05T14:00:00Z",
///   "sources": ["contacts", "invoices", "tickets"],
///   "erased": [{"source": "tickets", "record": {"record_type": "ticket", "id": "T-1"},
///               "deleted_record": false, "deleted_fields": [],
///               "anonymized_fields": ["requester_name"]}],
///   "kept": [{"source": "invoices", "record": {"record_type": "invoice", "id": "I-9"},
///             "exception": "legal_obligation", "reason": "tax law: 10 years",
///             "until": "2036-01-01T00:00:00Z",
///             "subject_key": {"status": "resealed", "at": "2026-03-05T14:00:00Z",
///                             "fields": 1, "under": "tenant data key"}}],
///   "subject_key": {"status": "shredded", "at": "2026-03-05T14:00:00Z",
///                   "outcome": "key_destroyed"},
///   "records_resealed": 1,
///   "backups_clear_by": "2026-04-04T14:00:00Z",
///   "recipients_to_inform": ["Transactional email provider (US)"]
/// }
/// ```
///
/// `kept[].subject_key.status` says whether a kept record still needs the
/// subject key: `needed` (sealed under it and not re-sealed; optional `why`:
/// the source cannot re-seal, or its error), `not_sealed` (the source stores
/// it in the clear or under another key) or `resealed` (re-sealed by this
/// erasure under the key named in `under`; see
/// [`PersonalDataSource::reseal_kept`](crate::PersonalDataSource::reseal_kept)).
///
/// `subject_key.status` is `shredded`, `deferred` or `no_key_vault` (no
/// [`KeyShredder`] configured). A `shredded` key's `outcome`, from the
/// shred receipt ([`ShredOutcome`]), is `key_destroyed`, or
/// `no_key_existed` when there was no key to destroy (only the tombstone
/// that stops one being made was written: often the wrong tenant or person
/// was named); it is absent in certificates issued before receipts said,
/// and reads as `unrecorded`. `deferred` lists only the kept records that
/// still need the key: `{"status": "deferred", "records_kept": 1, "blocking": [{"source":
/// "attachments", "record": {"record_type": "attachment", "id": "A-2"}}],
/// "reasons": ["legal_claims: legal hold case-2026-17 …"], "until": null}`
/// (`until` is the latest end date of the blocking records, `null` while a
/// hold without end date applies); re-running the erasure after they are
/// released shreds the key. `backups_clear_by` is `null` when no
/// [`BackupHorizon`](crate::retention::BackupHorizon) is known.
///
/// An `erased` entry with `"subject_level": true` (absent otherwise) is
/// state a source kept about the person as a whole, such as a contact
/// register's row, removed by its subject-level step
/// ([`PersonalDataSource::subject_step`](crate::PersonalDataSource::subject_step));
/// it has `deleted_record: true`. This is additive within version 2: a
/// reader that does not know the field still lists it as a deleted record.
///
/// ## Versions
///
/// * **2**: adds `kept[].subject_key` and `records_resealed`; a `deferred`
///   key lists its `blocking` records, and its `records_kept` counts only
///   them, because kept records that do not need the key no longer defer the
///   shred.
/// * **1**: every kept record deferred the shred. [`ErasureCertificate::from_json`]
///   still reads it: `kept[].subject_key` reads as `needed`,
///   `records_resealed` as 0, and a `deferred` key lists every kept record
///   as blocking (which is what version 1 meant); `version` stays 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureCertificate {
    /// Always [`CERTIFICATE_SCHEMA`].
    pub schema: String,
    /// Format version ([`ErasureCertificate::VERSION`]).
    pub version: u32,
    /// The request.
    pub request: RequestId,
    /// The tenant.
    pub tenant: TenantId,
    /// The person.
    pub subject: SubjectId,
    /// When the request was received.
    pub received_at: Timestamp,
    /// When the certificate was issued.
    pub issued_at: Timestamp,
    /// Every source searched.
    pub sources: Vec<String>,
    /// What was erased or anonymized.
    pub erased: Vec<ErasedRecord>,
    /// What was kept, why, until when.
    pub kept: Vec<KeptRecord>,
    /// The subject key.
    pub subject_key: SubjectKeyStatus,
    /// How many kept records were re-sealed under another key so that the
    /// subject key could go (version 2; 0 when read from version 1).
    #[serde(default)]
    pub records_resealed: usize,
    /// When the erased data leaves the last backup; `None` if unknown.
    pub backups_clear_by: Option<Timestamp>,
    /// Recipients to tell of the erasure (Art. 19), as `name (region)`, from
    /// the record of processing; empty without one.
    #[serde(default)]
    pub recipients_to_inform: Vec<String>,
}

impl ErasureCertificate {
    /// The format version this build writes.
    pub const VERSION: u32 = 2;

    /// The certificate as pretty JSON (format above).
    pub fn to_json(&self) -> Result<String, Error> {
        crate::json::encode(self, "erasure certificate")
    }

    /// Reads a certificate of version 2, or of version 1 (upgraded in
    /// memory: in version 1 every kept record deferred the shred, so a
    /// deferred key lists them all as blocking; the `version` field keeps
    /// saying 1).
    pub fn from_json(text: &str) -> Result<Self, Error> {
        const WHAT: &str = "erasure certificate";
        let v1 = crate::json::decode_versioned::<Self>(text, WHAT, 1);
        let doc = match v1 {
            Err(Error::UnsupportedVersion { found, .. }) if found == Self::VERSION => {
                crate::json::decode_versioned::<Self>(text, WHAT, Self::VERSION)?
            }
            Err(Error::UnsupportedVersion { found, .. }) => {
                return Err(Error::UnsupportedVersion {
                    what: WHAT,
                    found,
                    supported: Self::VERSION,
                });
            }
            other => {
                let mut doc = other?;
                if let SubjectKeyStatus::Deferred { blocking, .. } = &mut doc.subject_key
                    && blocking.is_empty()
                {
                    *blocking = doc
                        .kept
                        .iter()
                        .map(|k| BlockingRecord {
                            source: k.source.clone(),
                            record: k.record.clone(),
                        })
                        .collect();
                    blocking.sort();
                }
                doc
            }
        };
        crate::json::check_schema(&doc.schema, CERTIFICATE_SCHEMA, WHAT)?;
        Ok(doc)
    }

    /// A human-readable rendering, for the person and the file.
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# Erasure certificate\n");
        let _ = writeln!(md, "- Request: `{}`", self.request);
        let _ = writeln!(md, "- Tenant: `{}`", self.tenant);
        let _ = writeln!(md, "- Data subject: `{}`", self.subject);
        let _ = writeln!(md, "- Received: {}", self.received_at.to_rfc3339());
        let _ = writeln!(md, "- Issued: {}", self.issued_at.to_rfc3339());
        let _ = writeln!(md, "- Sources searched: {}", self.sources.join(", "));
        let _ = writeln!(md, "\n## Erased\n");
        if self.erased.is_empty() {
            let _ = writeln!(md, "Nothing needed erasing.");
        }
        for e in &self.erased {
            let what = if e.subject_level {
                "subject-level record deleted (state kept about the person as a whole)".to_owned()
            } else if e.deleted_record {
                "record deleted".to_owned()
            } else {
                let mut parts = Vec::new();
                if !e.deleted_fields.is_empty() {
                    parts.push(format!("deleted: {}", e.deleted_fields.join(", ")));
                }
                if !e.anonymized_fields.is_empty() {
                    parts.push(format!("anonymized: {}", e.anonymized_fields.join(", ")));
                }
                parts.join("; ")
            };
            let _ = writeln!(
                md,
                "- {} / {} `{}`: {what}",
                e.source, e.record.record_type, e.record.id
            );
        }
        let _ = writeln!(md, "\n## Kept\n");
        if self.kept.is_empty() {
            let _ = writeln!(md, "Nothing was kept.");
        }
        for k in &self.kept {
            let until = k.until.map_or_else(
                || "no end date yet".to_owned(),
                |t| format!("until {}", t.to_rfc3339()),
            );
            let key = match &k.subject_key {
                KeptKey::Needed { .. } => "sealed under the person's key".to_owned(),
                KeptKey::NotSealed => "not sealed under the person's key".to_owned(),
                KeptKey::Resealed { under, .. } => format!("re-sealed under the {under}"),
            };
            let _ = writeln!(
                md,
                "- {} / {} `{}`: {} — {}; {until}; {key}",
                k.source, k.record.record_type, k.record.id, k.exception, k.reason
            );
        }
        let _ = writeln!(md, "\n## Encrypted copies and backups\n");
        match &self.subject_key {
            SubjectKeyStatus::Shredded {
                at,
                outcome: ShredOutcome::NoKeyExisted,
            } => {
                let _ = writeln!(
                    md,
                    "No encryption key of the person's existed in this tenant, so there was none to destroy: check that the right tenant and person were named. At {} a tombstone was written so that none can be made for them later.",
                    at.to_rfc3339()
                );
            }
            SubjectKeyStatus::Shredded { at, .. } => {
                let _ = writeln!(
                    md,
                    "The person's encryption key was destroyed at {}: data sealed under it, including in audit logs and backups, can no longer be read.",
                    at.to_rfc3339()
                );
                if self.records_resealed > 0 {
                    let _ = writeln!(
                        md,
                        "{} kept records were first re-sealed under another key, so they stay readable for their exception.",
                        self.records_resealed
                    );
                }
            }
            SubjectKeyStatus::Deferred { .. } => {
                let _ = writeln!(
                    md,
                    "The person's encryption key is kept for now ({}): those records are sealed under it and could not be re-sealed. It is destroyed when the erasure is run again after they are released.",
                    self.subject_key.describe()
                );
            }
            SubjectKeyStatus::NoKeyVault => {
                let _ = writeln!(md, "No per-person encryption key was in use.");
            }
        }
        match self.backups_clear_by {
            Some(t) => {
                let _ = writeln!(
                    md,
                    "Backups holding erased data expire by {}.",
                    t.to_rfc3339()
                );
            }
            None => {
                let _ = writeln!(md, "When backups holding erased data expire is not known.");
            }
        }
        if !self.recipients_to_inform.is_empty() {
            let _ = writeln!(
                md,
                "\n## Recipients to inform (Art. 19)\n\n{}",
                self.recipients_to_inform.join("; ")
            );
        }
        md
    }
}
