//! The policy model: rules, selectors, triggers, holds and the backup schedule.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use custodia_core::{DataCategory, Region, SubjectId, TenantId, Timestamp};

use crate::Period;
use crate::record::RetentionRecord;

/// What happens to a record when its rule comes due.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Erase the record.
    Delete,
    /// Remove what identifies the person and keep the rest.
    Anonymize,
    /// Move the record to archive storage.
    Archive,
    /// Put the record in front of a person to decide.
    Review,
}

impl Disposition {
    /// The event a record carries once the host has carried this disposition
    /// out (`anonymized`, `archived`, `reviewed`), so the next sweep counts it
    /// as done; `None` for delete, whose record is gone.
    pub fn done_event(self) -> Option<&'static str> {
        match self {
            Disposition::Delete => None,
            Disposition::Anonymize => Some("anonymized"),
            Disposition::Archive => Some("archived"),
            Disposition::Review => Some("reviewed"),
        }
    }

    /// Every disposition.
    pub const ALL: [Disposition; 4] = [Self::Delete, Self::Anonymize, Self::Archive, Self::Review];

    /// Whether the disposition removes personal data (delete, anonymize): a
    /// *deletion* in the sense of the conflict principles.
    pub fn is_destructive(self) -> bool {
        matches!(self, Self::Delete | Self::Anonymize)
    }

    /// The lower-case name used in policy files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delete => "delete",
            Self::Anonymize => "anonymize",
            Self::Archive => "archive",
            Self::Review => "review",
        }
    }

    /// Parses the lower-case name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

impl fmt::Display for Disposition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The event a rule's period counts from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Trigger {
    /// The record's creation time (always known).
    Created,
    /// The `closed` event (tickets, chats).
    Closed,
    /// The `last_activity` event; a record without one counts from its creation.
    LastActivity,
    /// The `account_terminated` event.
    AccountTerminated,
    /// A custom event, declared in the policy's `events`.
    ///
    /// Its name must not be a built-in trigger's ([`Trigger::BUILTIN`]):
    /// [`RetentionPolicy::new`](crate::RetentionPolicy::new) and
    /// [`RetentionPolicy::with_rule`](crate::RetentionPolicy::with_rule)
    /// refuse `Custom("closed")` with
    /// [`Problem::CustomTriggerIsBuiltin`](crate::Problem::CustomTriggerIsBuiltin),
    /// as a policy file cannot express it either (there `closed` is
    /// [`Trigger::Closed`]); [`Trigger::from_name`] picks the right variant.
    Custom(Arc<str>),
}

impl Trigger {
    /// The built-in trigger names.
    pub const BUILTIN: [&'static str; 4] =
        ["created", "closed", "last_activity", "account_terminated"];

    /// The event name as written in policies and records.
    pub fn name(&self) -> &str {
        match self {
            Self::Created => "created",
            Self::Closed => "closed",
            Self::LastActivity => "last_activity",
            Self::AccountTerminated => "account_terminated",
            Self::Custom(name) => name,
        }
    }

    /// A built-in trigger by name, or a custom one.
    pub fn from_name(name: &str) -> Self {
        match name {
            "created" => Self::Created,
            "closed" => Self::Closed,
            "last_activity" => Self::LastActivity,
            "account_terminated" => Self::AccountTerminated,
            other => Self::Custom(other.into()),
        }
    }

    /// When the trigger happened for `record`, or `None` if it has not.
    #[inline]
    pub fn time(&self, record: &RetentionRecord) -> Option<Timestamp> {
        match self {
            Self::Created => Some(record.created),
            Self::LastActivity => Some(
                record
                    .events
                    .get("last_activity")
                    .copied()
                    .unwrap_or(record.created),
            ),
            other => record.events.get(other.name()).copied(),
        }
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How long a rule keeps records before its disposition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Keep {
    /// `retain = "3y"`: a *retention*: the record must be kept at least this
    /// long after the trigger, then the disposition applies.
    Retain(Period),
    /// `delete_after = "10y"`: a deletion only, with no duty to keep the
    /// record until then (Purview's "delete only"). The disposition must be
    /// delete or anonymize.
    DeleteAfter(Period),
}

impl Keep {
    /// The period.
    pub fn period(&self) -> Period {
        match self {
            Self::Retain(p) | Self::DeleteAfter(p) => *p,
        }
    }

    /// Whether this is a retention (`retain`).
    pub fn is_retention(&self) -> bool {
        matches!(self, Self::Retain(_))
    }
}

/// Which records a rule covers. Every non-empty dimension must match (and);
/// within a dimension any listed value matches (or). An empty selector covers
/// every record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selector {
    /// Categories, each covering itself and everything within it.
    pub categories: Vec<DataCategory>,
    /// Tenants.
    pub tenants: Vec<TenantId>,
    /// Regions the record is stored in; `EU` covers its member states too
    /// ([`Region::covers`]), so a rule for the EU governs a record stored
    /// in `DE`.
    pub regions: Vec<Region>,
    /// Labels the record must carry, each with exactly this value.
    pub labels: BTreeMap<String, String>,
}

impl Selector {
    /// A selector for one category.
    pub fn category(category: DataCategory) -> Self {
        Self {
            categories: vec![category],
            ..Self::default()
        }
    }

    /// Whether `record` is in scope.
    pub fn matches(&self, record: &RetentionRecord) -> bool {
        (self.categories.is_empty() || self.categories.iter().any(|c| record.category.is_within(c)))
            && self.matches_except_category(record)
    }

    #[inline]
    pub(crate) fn matches_except_category(&self, record: &RetentionRecord) -> bool {
        (self.tenants.is_empty() || self.tenants.contains(&record.tenant))
            && (self.regions.is_empty()
                || record
                    .region
                    .is_some_and(|r| self.regions.iter().any(|s| s.covers(r))))
            && self
                .labels
                .iter()
                .all(|(k, v)| record.labels.get(k).is_some_and(|have| have == v))
    }

    /// How explicit the selector is, for "explicit beats implicit": compared
    /// lexicographically by labels required, then tenant scope, then region
    /// scope, then the depth of the category that matched (0 for none).
    pub fn specificity(&self, category_depth: usize) -> Specificity {
        Specificity {
            labels: u16::try_from(self.labels.len()).unwrap_or(u16::MAX),
            tenant: !self.tenants.is_empty(),
            region: !self.regions.is_empty(),
            category_depth: u16::try_from(category_depth).unwrap_or(u16::MAX),
        }
    }
}

/// How explicit a rule's selector is for one record; more is more explicit.
///
/// Ordered lexicographically: labels (item-level, like a Purview retention
/// label) beat tenant scope, which beats region scope, which beats a deeper
/// category, which beats a shallower one or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Specificity {
    /// Labels the selector requires.
    pub labels: u16,
    /// Whether it names tenants.
    pub tenant: bool,
    /// Whether it names regions.
    pub region: bool,
    /// Depth of the matching category (1 for `user`), 0 when it names none;
    /// of several it names that cover the record, the deepest.
    pub category_depth: u16,
}

/// One retention rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Unique name, quoted in every decision the rule takes part in.
    pub name: Arc<str>,
    /// Which records it covers.
    pub applies_to: Selector,
    /// What the period counts from.
    pub trigger: Trigger,
    /// The period, as a retention or as a deletion only.
    pub keep: Keep,
    /// What happens when it comes due.
    pub then: Disposition,
}

/// Which records a legal hold freezes. Every non-empty dimension must match;
/// at least one must be non-empty.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HoldScope {
    /// Tenants.
    pub tenants: Vec<TenantId>,
    /// Data subjects.
    pub subjects: Vec<SubjectId>,
    /// Categories, each covering everything within it.
    pub categories: Vec<DataCategory>,
    /// Record ids.
    pub records: Vec<String>,
}

impl HoldScope {
    /// Whether the scope names nothing (which [`RetentionPolicy::new`](crate::RetentionPolicy::new) refuses).
    pub fn is_empty(&self) -> bool {
        self.tenants.is_empty()
            && self.subjects.is_empty()
            && self.categories.is_empty()
            && self.records.is_empty()
    }

    /// Whether `record` is frozen by this scope.
    pub fn matches(&self, record: &RetentionRecord) -> bool {
        !self.is_empty()
            && (self.tenants.is_empty() || self.tenants.contains(&record.tenant))
            && (self.subjects.is_empty()
                || record.subject.is_some_and(|s| self.subjects.contains(&s)))
            && (self.categories.is_empty()
                || self.categories.iter().any(|c| record.category.is_within(c)))
            && (self.records.is_empty() || self.records.contains(&record.id))
    }

    /// [`matches`](Self::matches) for a scope the policy's hold index found
    /// `record` by: the anchor it was indexed under (its record ids, else its
    /// subjects, else its tenants) is known to match and is not searched
    /// again, so a hold over many records costs a lookup a record, not a
    /// scan of the list (a restriction hold names every restricted row).
    pub(crate) fn matches_anchored(&self, record: &RetentionRecord) -> bool {
        let tenant = || self.tenants.is_empty() || self.tenants.contains(&record.tenant);
        let subject = || {
            self.subjects.is_empty() || record.subject.is_some_and(|s| self.subjects.contains(&s))
        };
        let category = || {
            self.categories.is_empty()
                || self.categories.iter().any(|c| record.category.is_within(c))
        };
        if !self.records.is_empty() {
            tenant() && subject() && category()
        } else if !self.subjects.is_empty() {
            tenant() && category()
        } else if !self.tenants.is_empty() {
            category()
        } else {
            !self.is_empty() && category()
        }
    }
}

/// A legal hold: while it is in the policy, nothing it covers is deleted,
/// anonymized, archived or sent to review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegalHold {
    /// Unique id, e.g. a case number.
    pub id: Arc<str>,
    /// Why (litigation, investigation, regulator request).
    pub reason: String,
    /// What it freezes.
    pub applies_to: HoldScope,
}

/// The backup schedule: a backup every `every`, each kept for `keep`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupSchedule {
    /// How often a backup is taken (a fixed length: days, hours, ...).
    pub every: Period,
    /// How long each backup is kept (may be calendar: `"3mo"`).
    pub keep: Period,
    /// When one backup was (or will be) taken, to place the others. Without
    /// it, a backup is assumed possible at any instant.
    pub anchor: Option<Timestamp>,
}

impl BackupSchedule {
    /// The latest backup instant at or before `t`: `t` itself without an
    /// anchor (conservative), else the last scheduled backup.
    pub fn last_backup_at_or_before(&self, t: Timestamp) -> Timestamp {
        let (Some(anchor), Some(every)) = (self.anchor, self.every.fixed_length()) else {
            return t;
        };
        let nanos = |t: Timestamp| {
            i128::from(t.timestamp()) * 1_000_000_000 + i128::from(t.timestamp_subsec_nanos())
        };
        let step = i128::from(every.num_seconds()) * 1_000_000_000;
        if step <= 0 {
            return t;
        }
        let back = (nanos(t) - nanos(anchor)).rem_euclid(step);
        let secs = i64::try_from(back / 1_000_000_000).unwrap_or(i64::MAX);
        let subsec = i64::try_from(back % 1_000_000_000).unwrap_or(0);
        chrono::TimeDelta::try_seconds(secs)
            .and_then(|d| t.checked_sub_signed(d + chrono::TimeDelta::nanoseconds(subsec)))
            .unwrap_or(t)
    }

    /// The backup horizon: the instant by which a record deleted at
    /// `deleted_at` has left every backup ("erasure complete everywhere").
    ///
    /// The last backup that can still hold the record is the last one taken
    /// at or before the deletion; it expires `keep` later. `None` if that is
    /// beyond the range of a timestamp.
    pub fn horizon(&self, deleted_at: Timestamp) -> Option<Timestamp> {
        self.keep.after(self.last_backup_at_or_before(deleted_at))
    }

    /// How many backups exist at any time once the schedule is running
    /// (`keep / every`, rounded up), for fixed-length periods.
    pub fn copies(&self) -> Option<u64> {
        let every = self.every.fixed_length()?.num_seconds();
        let keep = self.keep.fixed_length()?.num_seconds();
        if every <= 0 {
            return None;
        }
        u64::try_from((keep + every - 1) / every).ok()
    }
}
