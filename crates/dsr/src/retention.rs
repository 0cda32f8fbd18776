//! Retention in erasure: legal holds, Art. 17(3) exceptions and the backup horizon.
//!
//! The documentation is on the main item; the crate root re-exports the
//! module's public items.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono::{SecondsFormat, TimeDelta};
use custodia_core::{Clock, DataCategory, SubjectId, TenantId, Timestamp};
use custodia_retention::{
    BackupSchedule, Keep, RetentionAction, RetentionPolicy, RetentionRecord, Rule,
};
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
pub struct ErasureHold {
    /// The exception that applies.
    pub exception: ErasureException,
    /// The reason in words: a case number, a statute, a policy label.
    pub reason: String,
    /// Until when; `None` while a hold lasts until lifted.
    pub until: Option<Timestamp>,
}

/// Decides whether a record must survive an erasure request.
///
/// [`PolicyRetention`] implements it from a retention policy and its legal holds.
///
/// Retention in erasure: legal holds, Art. 17(3) exceptions and the backup horizon.
///
/// Erasure must keep what the law requires to keep, and must say when the data
/// leaves the backups. Both facts belong to the retention policy. This module
/// defines the two questions the [`Desk`](crate::Desk) asks —
///
/// * [`RetentionCheck`]: "keep this record, because, until when";
/// * [`BackupHorizon`]: "data deleted now is gone from every backup by".
///
/// — and answers them from a `custodia-retention` [`RetentionPolicy`] with
/// [`PolicyRetention`] (holds and unexpired retentions keep records, the
/// policy's backup schedule gives the horizon; [`BackupSchedule`] alone is a
/// horizon too). Simpler answers, for hosts without a policy file and for
/// tests: [`NoHolds`], [`StaticHolds`] (a list of held records),
/// [`FixedBackupWindow`] (backups kept for a fixed time, e.g. DeskDirector's
/// 30 days) and [`UnknownBackups`].
pub trait RetentionCheck: Send + Sync {
    /// The hold on `located` (in source `source`), if any. An error keeps the
    /// record untouched and the erasure resumable.
    fn hold(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        source: &str,
        located: &Located,
    ) -> Result<Option<ErasureHold>, BoxError>;
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
    ) -> Result<Option<ErasureHold>, BoxError> {
        Ok(None)
    }
}

/// Holds on named records, for hosts without a retention engine yet (and tests).
#[derive(Debug, Clone, Default)]
pub struct StaticHolds {
    holds: BTreeMap<(TenantId, String, RecordRef), ErasureHold>,
}

impl StaticHolds {
    /// No holds yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Holds `record` of `source` in `tenant`.
    pub fn hold(
        mut self,
        tenant: TenantId,
        source: &str,
        record: RecordRef,
        hold: ErasureHold,
    ) -> Self {
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
    ) -> Result<Option<ErasureHold>, BoxError> {
        Ok(self
            .holds
            .get(&(tenant, source.to_owned(), located.record.clone()))
            .cloned())
    }
}

/// When data deleted from the live stores is gone from the backups too.
///
/// [`PolicyRetention`] and [`BackupSchedule`] implement it from a backup schedule.
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

/// A [`RetentionCheck`] and [`BackupHorizon`] backed by a compiled
/// `custodia-retention` [`RetentionPolicy`].
///
/// # What is kept
///
/// Each located record is evaluated by [`RetentionPolicy::evaluate`] at the clock's
/// time (the erasure), as a `custodia_retention::RetentionRecord` built from the
/// request and the record's [`RecordMeta`](crate::source::RecordMeta):
///
/// | `RetentionRecord` field | from |
/// |---|---|
/// | `id` | the [`RecordRef`]'s `id` (what a hold's `records` names) |
/// | `tenant`, `subject` | the request |
/// | `category` | `meta.category`; without it, **each field's category** is evaluated and the record is kept if any of them keeps it (a record with no fields either is asked as `user`) |
/// | `region`, `events` | `meta.region`, `meta.events` |
/// | `labels` | `meta.labels`, plus `source` (the source's name) and `record_type` unless the source set them |
/// | `created` | `meta.created_at`; when the source does not know it, the erasure instant, so a retention counted from creation keeps the record for its whole period (the reason says so) |
///
/// A record is kept when:
///
/// * **a legal hold covers it** ([`RetentionAction::Hold`]): kept with no end date,
///   "until the hold is released"; or
/// * **a retention has not expired** (retention beats deletion): a
///   `retain` rule whose due date is after the erasure, kept until that date;
///   or one whose trigger event has not happened yet (an open ticket), kept
///   with no end date.
///
/// A `delete_after` rule is a deletion only, never a duty to keep: the
/// erasure request goes first. A retention already expired keeps nothing.
///
/// # Which Art. 17(3) exception
///
/// Policy files have no key for it, so the exception is found, in order:
///
/// 1. set by the host for a rule name or hold id with
///    [`PolicyRetention::exception`];
/// 2. written in the policy by convention: a hold's `reason` or `id`, or a
///    rule's `name`, containing an article tag `17(3)(a)` … `17(3)(e)`
///    (e.g. `reason = "litigation, 17(3)(e)"`, `name = "invoices-17(3)(b)"`);
/// 3. by default: a **hold** is (e) *legal claims* (a litigation or
///    investigation hold preserves evidence); a **retention rule** is (b)
///    *legal obligation* (a duty to keep is presumed statutory, like keeping
///    invoices for the tax authority).
///
/// The kept record's reason is the policy's own explanation (which rule or
/// hold, the period and trigger), ending in "until the hold is released" for
/// holds.
///
/// # Backups
///
/// As a [`BackupHorizon`], the policy's backup schedule gives
/// [`BackupSchedule::horizon`] of the erasure time; a policy without a
/// `[backups]` section gives `None` (unknown), not "no backups".
/// [`BackupSchedule`] is a [`BackupHorizon`] on its own too.
#[derive(Clone)]
pub struct PolicyRetention {
    policy: Arc<RetentionPolicy>,
    clock: Arc<dyn Clock>,
    exceptions: BTreeMap<String, ErasureException>,
}

impl fmt::Debug for PolicyRetention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyRetention")
            .field("rules", &self.policy.rules().len())
            .field("holds", &self.policy.holds().len())
            .field("backups", &self.policy.backups())
            .field("exceptions", &self.exceptions)
            .finish_non_exhaustive()
    }
}

impl PolicyRetention {
    /// Checks against `policy`, at `clock`'s time (use the desk's clock).
    pub fn new(policy: Arc<RetentionPolicy>, clock: Arc<dyn Clock>) -> Self {
        Self {
            policy,
            clock,
            exceptions: BTreeMap::new(),
        }
    }

    /// States the exception for the rule named, or the hold with id, `name`
    /// (overrides the tag convention and the defaults).
    pub fn exception(mut self, name: &str, exception: ErasureException) -> Self {
        self.exceptions.insert(name.to_owned(), exception);
        self
    }

    /// The policy.
    pub fn policy(&self) -> &RetentionPolicy {
        &self.policy
    }

    /// The records the policy is asked about for `located`: one, or one per
    /// distinct field category when the source reports no record category.
    pub fn records(
        tenant: TenantId,
        subject: SubjectId,
        source: &str,
        located: &Located,
        erased_at: Timestamp,
    ) -> Vec<RetentionRecord> {
        let meta = &located.meta;
        let categories: Vec<DataCategory> = match &meta.category {
            Some(category) => vec![category.clone()],
            None => {
                let mut seen: Vec<DataCategory> = Vec::new();
                for f in &located.fields {
                    if !seen.contains(&f.category) {
                        seen.push(f.category.clone());
                    }
                }
                if seen.is_empty() {
                    // Still subject to holds by tenant, subject or record id.
                    seen.push(DataCategory::USER);
                }
                seen
            }
        };
        let mut labels = meta.labels.clone();
        labels
            .entry("source".to_owned())
            .or_insert_with(|| source.to_owned());
        labels
            .entry("record_type".to_owned())
            .or_insert_with(|| located.record.record_type.clone());
        categories
            .into_iter()
            .map(|category| RetentionRecord {
                id: located.record.id.clone(),
                tenant,
                category,
                subject: Some(subject),
                region: meta.region,
                labels: labels.clone(),
                created: meta.created_at.unwrap_or(erased_at),
                events: meta.events.clone(),
            })
            .collect()
    }

    /// [`RetentionCheck::hold`] at an explicit instant.
    pub fn hold_at(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        source: &str,
        located: &Located,
        now: Timestamp,
    ) -> Option<ErasureHold> {
        // (held by a legal hold, the hold): a legal hold beats a retention,
        // and among retentions the one that keeps the record longest wins.
        let mut best: Option<(bool, ErasureHold)> = None;
        for record in Self::records(tenant, subject, source, located, now) {
            let Some((legal_hold, mut hold)) = self.keep(&record, now) else {
                continue;
            };
            if !legal_hold && located.meta.created_at.is_none() {
                hold.reason.push_str(
                    " (creation time not reported by the source: counted from the erasure)",
                );
            }
            let better = match &best {
                None => true,
                Some((best_legal_hold, current)) => {
                    (legal_hold && !best_legal_hold)
                        || (legal_hold == *best_legal_hold
                            && match (current.until, hold.until) {
                                (Some(_), None) => true,
                                (Some(a), Some(b)) => b > a,
                                (None, _) => false,
                            })
                }
            };
            if better {
                best = Some((legal_hold, hold));
            }
            if best.as_ref().is_some_and(|(legal_hold, _)| *legal_hold) {
                break;
            }
        }
        best.map(|(_, hold)| hold)
    }

    /// Why the policy keeps `record` at `now`, and whether by a legal hold.
    fn keep(&self, record: &RetentionRecord, now: Timestamp) -> Option<(bool, ErasureHold)> {
        let decision = self.policy.decide(record);
        if decision.action == RetentionAction::Hold {
            let id = decision.held_by.first().copied().unwrap_or_default();
            let hold = self.policy.holds().iter().find(|h| &*h.id == id);
            let exception = self
                .exceptions
                .get(id)
                .copied()
                .or_else(|| hold.and_then(|h| article_tag(&h.reason)))
                .or_else(|| article_tag(id))
                .unwrap_or(ErasureException::LegalClaims);
            return Some((
                true,
                ErasureHold {
                    exception,
                    reason: format!("{}; kept until the hold is released", decision.reason),
                    until: None,
                },
            ));
        }
        // Retention beats deletion: the longest retention not yet expired,
        // whatever rule the decision's disposition comes from.
        let mut best: Option<(&Rule, Option<Timestamp>, Option<Timestamp>)> = None;
        for rule in self.policy.rules() {
            let Keep::Retain(period) = rule.keep else {
                continue;
            };
            if !rule.applies_to.matches(record) {
                continue;
            }
            let started = rule.trigger.time(record);
            let until = match started.map(|t| period.after(t)) {
                Some(Some(due)) if due <= now => continue,
                Some(Some(due)) => Some(due),
                // Waiting for its trigger, or due beyond the last timestamp.
                None | Some(None) => None,
            };
            let longer = match &best {
                None => true,
                Some((_, _, current)) => match (current, until) {
                    (Some(_), None) => true,
                    (Some(a), Some(b)) => b > *a,
                    (None, _) => false,
                },
            };
            if longer {
                best = Some((rule, started, until));
            }
        }
        let (rule, started, until) = best?;
        let exception = self
            .exceptions
            .get(&*rule.name)
            .copied()
            .or_else(|| article_tag(&rule.name))
            .unwrap_or(ErasureException::LegalObligation);
        let period = rule.keep.period();
        let reason = match (started, until) {
            (None, _) => format!(
                "rule {}: retain {period} after {}, which has not happened yet",
                rule.name, rule.trigger
            ),
            (Some(t), None) => format!(
                "rule {}: retain {period} after {} ({}), beyond the last representable date",
                rule.name,
                rule.trigger,
                t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
            ),
            (Some(t), Some(due)) => format!(
                "rule {}: retain {period} after {} ({}), until {}",
                rule.name,
                rule.trigger,
                t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
                due.to_rfc3339_opts(SecondsFormat::AutoSi, true)
            ),
        };
        Some((
            false,
            ErasureHold {
                exception,
                reason,
                until,
            },
        ))
    }
}

/// The Art. 17(3) exception an article tag in `text` names: the first
/// `17(3)(a)` … `17(3)(e)` in it (case-insensitive), if any.
///
/// ```
/// use custodia_dsr::{ErasureException, article_tag};
/// assert_eq!(article_tag("invoices-17(3)(b)"), Some(ErasureException::LegalObligation));
/// assert_eq!(article_tag("litigation, Art. 17(3)(E)"), Some(ErasureException::LegalClaims));
/// assert_eq!(article_tag("17(3)(f)"), None);
/// assert_eq!(article_tag("litigation"), None);
/// ```
pub fn article_tag(text: &str) -> Option<ErasureException> {
    const TAG: &str = "17(3)(";
    let mut rest = text;
    while let Some(at) = rest.find(TAG) {
        let after = &rest[at + TAG.len()..];
        let mut chars = after.chars();
        if let (Some(letter), Some(')')) = (chars.next(), chars.next()) {
            let found = match letter.to_ascii_lowercase() {
                'a' => Some(ErasureException::FreedomOfExpression),
                'b' => Some(ErasureException::LegalObligation),
                'c' => Some(ErasureException::PublicHealth),
                'd' => Some(ErasureException::ArchivingOrResearch),
                'e' => Some(ErasureException::LegalClaims),
                _ => None,
            };
            if found.is_some() {
                return found;
            }
        }
        rest = after;
    }
    None
}

impl RetentionCheck for PolicyRetention {
    fn hold(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        source: &str,
        located: &Located,
    ) -> Result<Option<ErasureHold>, BoxError> {
        Ok(self.hold_at(tenant, subject, source, located, self.clock.now()))
    }
}

impl BackupHorizon for PolicyRetention {
    fn clear_by(&self, tenant: TenantId, erased_at: Timestamp) -> Option<Timestamp> {
        self.policy.backups()?.clear_by(tenant, erased_at)
    }
}

impl BackupHorizon for BackupSchedule {
    fn clear_by(&self, _: TenantId, erased_at: Timestamp) -> Option<Timestamp> {
        self.horizon(erased_at)
    }
}
