//! Erasure: the per-field policy, crypto-shredding of the subject key, and the
//! certificate that says what was erased, what was kept and why.
//!
//! # Certificate format (version 1)
//!
//! [`ErasureCertificate::to_json`] writes, and [`ErasureCertificate::from_json`]
//! reads back:
//!
//! ```json
//! {
//!   "schema": "custodia.dsr.erasure_certificate",
//!   "version": 1,
//!   "request": "…uuid…", "tenant": "…uuid…", "subject": "…uuid…",
//!   "received_at": "2026-03-02T09:00:00Z",
//!   "issued_at": "2026-03-05T14:00:00Z",
//!   "sources": ["contacts", "tickets"],
//!   "erased": [{"source": "tickets", "record": {"record_type": "ticket", "id": "T-1"},
//!               "deleted_record": false, "deleted_fields": [],
//!               "anonymized_fields": ["requester_name"]}],
//!   "kept": [{"source": "invoices", "record": {"record_type": "invoice", "id": "I-9"},
//!             "exception": "legal_obligation", "reason": "tax law: 10 years",
//!             "until": "2036-01-01T00:00:00Z"}],
//!   "subject_key": {"status": "shredded", "at": "2026-03-05T14:00:00Z"},
//!   "backups_clear_by": "2026-04-04T14:00:00Z",
//!   "recipients_to_inform": ["Transactional email provider (US)"]
//! }
//! ```
//!
//! `subject_key.status` is `shredded`, `deferred` (records are kept, so the
//! key is not shredded yet: `{"status": "deferred", "records_kept": 1,
//! "reasons": ["legal_obligation: tax law: 10 years"], "until":
//! "2036-01-01T00:00:00Z"}`, `until` `null` while a hold without end date
//! applies; re-running the erasure after nothing is kept shreds the key) or
//! `no_key_vault` (no [`KeyShredder`] configured); `backups_clear_by` is `null` when no
//! [`BackupHorizon`](crate::retention::BackupHorizon) is known.

use std::fmt::Write as _;

use custodia_core::{ActorId, DataCategory, SubjectId, TenantId, Timestamp};
use custodia_crypt::{KeyStore, ShredReceipt, SubjectVault};
use serde::{Deserialize, Serialize};

use crate::error::{BoxError, Error};
use crate::request::RequestId;
use crate::source::{ErasedRecord, ErasurePlan, FieldAction, FieldErasure, KeptRecord, Located};

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

impl<K: KeyShredder + ?Sized> KeyShredder for std::sync::Arc<K> {
    fn shred_subject(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        actor: ActorId,
    ) -> Result<ShredReceipt, BoxError> {
        (**self).shred_subject(tenant, subject, actor)
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
    },
    /// Not shredded yet because the erasure keeps records (legal hold or
    /// Art. 17(3) retention) that may be sealed under the key: shredding
    /// would make the kept data unreadable, so the hold would not really be
    /// respected. A later re-run of the erasure shreds the key once no record
    /// is kept any more.
    Deferred {
        /// How many records are kept.
        records_kept: usize,
        /// Why, as `exception: reason`, deduplicated.
        reasons: Vec<String>,
        /// The latest end date of the kept records; `None` when at least
        /// one of them is kept until a hold is released.
        until: Option<Timestamp>,
    },
    /// No key vault was configured on the desk.
    NoKeyVault,
}

impl SubjectKeyStatus {
    /// The deferral for these kept records (none kept: `None`).
    pub fn deferred_for(kept: &[KeptRecord]) -> Option<Self> {
        if kept.is_empty() {
            return None;
        }
        let mut reasons: Vec<String> = kept
            .iter()
            .map(|k| format!("{}: {}", k.exception, k.reason))
            .collect();
        reasons.sort();
        reasons.dedup();
        let until = if kept.iter().any(|k| k.until.is_none()) {
            None
        } else {
            kept.iter().filter_map(|k| k.until).max()
        };
        Some(Self::Deferred {
            records_kept: kept.len(),
            reasons,
            until,
        })
    }

    /// One line saying what became of the key.
    pub fn describe(&self) -> String {
        match self {
            Self::Shredded { at } => format!("shredded at {}", at.to_rfc3339()),
            Self::Deferred {
                records_kept,
                reasons,
                until,
            } => format!(
                "key shred deferred: {records_kept} records kept under {} until {}",
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
    /// When the erased data leaves the last backup; `None` if unknown.
    pub backups_clear_by: Option<Timestamp>,
    /// Recipients to tell of the erasure (Art. 19), as `name (region)`, from
    /// the record of processing; empty without one.
    #[serde(default)]
    pub recipients_to_inform: Vec<String>,
}

impl ErasureCertificate {
    /// The format version this build writes and reads.
    pub const VERSION: u32 = 1;

    /// The certificate as pretty JSON (format above).
    pub fn to_json(&self) -> Result<String, Error> {
        crate::json::encode(self, "erasure certificate")
    }

    /// Reads a certificate, checking its version.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let doc: Self = crate::json::decode_versioned(text, "erasure certificate", Self::VERSION)?;
        crate::json::check_schema(&doc.schema, CERTIFICATE_SCHEMA, "erasure certificate")?;
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
            let what = if e.deleted_record {
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
            let _ = writeln!(
                md,
                "- {} / {} `{}`: {} — {}; {until}",
                k.source, k.record.record_type, k.record.id, k.exception, k.reason
            );
        }
        let _ = writeln!(md, "\n## Encrypted copies and backups\n");
        match &self.subject_key {
            SubjectKeyStatus::Shredded { at } => {
                let _ = writeln!(
                    md,
                    "The person's encryption key was destroyed at {}: data sealed under it, including in audit logs and backups, can no longer be read.",
                    at.to_rfc3339()
                );
            }
            SubjectKeyStatus::Deferred { .. } => {
                let _ = writeln!(
                    md,
                    "The person's encryption key is kept for now ({}): the kept records may be sealed under it. It is destroyed when the erasure is run again after nothing is kept any more.",
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
