//! Seams to retention: legal holds, Art. 17(3) exceptions and the backup horizon.
//!
//! Erasure must keep what the law requires to keep, and must say when the data
//! leaves the backups. Both facts belong to the retention policy, which the
//! `custodia-retention` crate will own. **That crate is being built in
//! parallel and is not yet connected**: this module defines the two traits it
//! will implement —
//!
//! * [`RetentionCheck`]: "keep this record, because, until when";
//! * [`BackupHorizon`]: "data deleted now is gone from every backup by".
//!
//! — with simple implementations a host can use today: [`NoHolds`],
//! [`StaticHolds`] (a list of held records), [`FixedBackupWindow`] (backups
//! kept for a fixed time, e.g. DeskDirector's 30 days) and [`UnknownBackups`].

use std::collections::BTreeMap;
use std::fmt;

use chrono::TimeDelta;
use custodia_core::{SubjectId, TenantId, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::BoxError;
use crate::source::{Located, RecordRef};

/// The exceptions to the right to erasure of GDPR Art. 17(3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErasureException {
    /// (a) exercising the right of freedom of expression and information.
    FreedomOfExpression,
    /// (b) a legal obligation, or a task in the public interest or official
    /// authority (e.g. keeping invoices for the tax authority).
    LegalObligation,
    /// (c) public health.
    PublicHealth,
    /// (d) archiving in the public interest, research or statistics.
    ArchivingOrResearch,
    /// (e) the establishment, exercise or defence of legal claims (a legal hold).
    LegalClaims,
}

impl ErasureException {
    /// All five, in the order of Art. 17(3).
    pub const ALL: [ErasureException; 5] = [
        ErasureException::FreedomOfExpression,
        ErasureException::LegalObligation,
        ErasureException::PublicHealth,
        ErasureException::ArchivingOrResearch,
        ErasureException::LegalClaims,
    ];

    /// `"Art. 17(3)(a)"` … `"Art. 17(3)(e)"`.
    pub const fn article(&self) -> &'static str {
        match self {
            ErasureException::FreedomOfExpression => "Art. 17(3)(a)",
            ErasureException::LegalObligation => "Art. 17(3)(b)",
            ErasureException::PublicHealth => "Art. 17(3)(c)",
            ErasureException::ArchivingOrResearch => "Art. 17(3)(d)",
            ErasureException::LegalClaims => "Art. 17(3)(e)",
        }
    }

    /// A short description in English.
    pub const fn describe(&self) -> &'static str {
        match self {
            ErasureException::FreedomOfExpression => "freedom of expression and information",
            ErasureException::LegalObligation => "compliance with a legal obligation",
            ErasureException::PublicHealth => "public interest in public health",
            ErasureException::ArchivingOrResearch => {
                "archiving in the public interest, research or statistics"
            }
            ErasureException::LegalClaims => "establishment, exercise or defence of legal claims",
        }
    }
}

impl fmt::Display for ErasureException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.article(), self.describe())
    }
}

/// Why a record must be kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// The exception that applies.
    pub exception: ErasureException,
    /// The reason in words: a case number, a statute, a policy label.
    pub reason: String,
    /// Until when; `None` while a hold lasts until lifted.
    pub until: Option<Timestamp>,
}

/// Decides whether a record must survive an erasure request.
///
/// `custodia-retention` will implement this from its policies and legal holds.
pub trait RetentionCheck: Send + Sync {
    /// The hold on `located` (in source `source`), if any. An error keeps the
    /// record untouched and the erasure resumable.
    fn hold(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        source: &str,
        located: &Located,
    ) -> Result<Option<Hold>, BoxError>;
}

/// No record is ever held.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHolds;

impl RetentionCheck for NoHolds {
    fn hold(
        &self,
        _: TenantId,
        _: SubjectId,
        _: &str,
        _: &Located,
    ) -> Result<Option<Hold>, BoxError> {
        Ok(None)
    }
}

/// Holds on named records, for hosts without a retention engine yet (and tests).
#[derive(Debug, Clone, Default)]
pub struct StaticHolds {
    holds: BTreeMap<(TenantId, String, RecordRef), Hold>,
}

impl StaticHolds {
    /// No holds yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Holds `record` of `source` in `tenant`.
    pub fn hold(mut self, tenant: TenantId, source: &str, record: RecordRef, hold: Hold) -> Self {
        self.holds.insert((tenant, source.to_owned(), record), hold);
        self
    }
}

impl RetentionCheck for StaticHolds {
    fn hold(
        &self,
        tenant: TenantId,
        _: SubjectId,
        source: &str,
        located: &Located,
    ) -> Result<Option<Hold>, BoxError> {
        Ok(self
            .holds
            .get(&(tenant, source.to_owned(), located.record.clone()))
            .cloned())
    }
}

/// When data deleted from the live stores is gone from the backups too.
///
/// `custodia-retention` will implement this from its backup schedule.
pub trait BackupHorizon: Send + Sync {
    /// For data of `tenant` erased at `erased_at`: when the last backup holding
    /// it expires, or `None` if unknown.
    fn clear_by(&self, tenant: TenantId, erased_at: Timestamp) -> Option<Timestamp>;
}

/// Backups kept for a fixed time, e.g. `FixedBackupWindow(TimeDelta::days(30))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedBackupWindow(pub TimeDelta);

impl BackupHorizon for FixedBackupWindow {
    fn clear_by(&self, _: TenantId, erased_at: Timestamp) -> Option<Timestamp> {
        erased_at.checked_add_signed(self.0)
    }
}

/// No backup schedule known: certificates say so.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnknownBackups;

impl BackupHorizon for UnknownBackups {
    fn clear_by(&self, _: TenantId, _: Timestamp) -> Option<Timestamp> {
        None
    }
}
