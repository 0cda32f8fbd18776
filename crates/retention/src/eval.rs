//! Evaluation: what must happen to a record, and when.

use std::fmt;

use custodia_core::Timestamp;

use crate::RetentionPolicy;
use crate::duration::CivilTime;
use crate::model::{Disposition, Keep, Specificity, Trigger};
use crate::record::RetentionRecord;

/// What must be done to a record now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetentionAction {
    /// Nothing yet: not due, waiting for a trigger, or no rule applies.
    Keep,
    /// Nothing, because a legal hold covers the record.
    Hold,
    /// Erase it now.
    Delete,
    /// Anonymize it now.
    Anonymize,
    /// Archive it now.
    Archive,
    /// Send it to review now.
    Review,
}

impl RetentionAction {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keep => "keep",
            Self::Hold => "hold",
            Self::Delete => "delete",
            Self::Anonymize => "anonymize",
            Self::Archive => "archive",
            Self::Review => "review",
        }
    }

    /// The disposition to carry out, if this action is one.
    pub fn disposition(self) -> Option<Disposition> {
        match self {
            Self::Keep | Self::Hold => None,
            Self::Delete => Some(Disposition::Delete),
            Self::Anonymize => Some(Disposition::Anonymize),
            Self::Archive => Some(Disposition::Archive),
            Self::Review => Some(Disposition::Review),
        }
    }
}

impl From<Disposition> for RetentionAction {
    fn from(d: Disposition) -> Self {
        match d {
            Disposition::Delete => Self::Delete,
            Disposition::Anonymize => Self::Anonymize,
            Disposition::Archive => Self::Archive,
            Disposition::Review => Self::Review,
        }
    }
}

impl fmt::Display for RetentionAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The names of the rules behind a decision: at most two (the rule whose
/// disposition applies, and the retention that deferred it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rules<'p>([Option<&'p str>; 2]);

impl<'p> Rules<'p> {
    fn one(name: &'p str) -> Self {
        Self([Some(name), None])
    }

    /// The names, the deciding rule first.
    pub fn iter(&self) -> impl Iterator<Item = &'p str> + '_ {
        self.0.iter().flatten().copied()
    }

    /// How many rules.
    pub fn len(&self) -> usize {
        self.0.iter().flatten().count()
    }

    /// Whether no rule took part.
    pub fn is_empty(&self) -> bool {
        self.0[0].is_none()
    }

    /// Whether the rule named `name` took part.
    pub fn contains(&self, name: &str) -> bool {
        self.iter().any(|n| n == name)
    }
}

/// Why a decision is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetentionReason<'p> {
    /// No rule covers the record.
    NoRule,
    /// Legal holds cover it.
    Held {
        /// The first hold's id.
        hold: &'p str,
        /// Its reason.
        reason: &'p str,
        /// How many holds cover it.
        count: usize,
    },
    /// A retention counts from an event that has not happened.
    Waiting {
        /// The rule.
        rule: &'p str,
        /// Its period.
        keep: Keep,
        /// The event it waits for.
        trigger: &'p Trigger,
    },
    /// A retention comes due beyond the range of a timestamp.
    Unbounded {
        /// The rule.
        rule: &'p str,
    },
    /// A rule's own period sets the date.
    Scheduled {
        /// The disposition.
        then: Disposition,
        /// The rule.
        rule: &'p str,
        /// The period as written (canonical form).
        keep: Keep,
        /// What it counts from.
        trigger: &'p Trigger,
    },
    /// A destructive rule came due earlier but a longer retention holds it back.
    Deferred {
        /// The disposition.
        then: Disposition,
        /// The destructive rule.
        rule: &'p str,
        /// Its own due date.
        from: Timestamp,
        /// The retention rule that defers it.
        by: &'p str,
    },
}

impl fmt::Display for RetentionReason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RetentionReason::NoRule => f.write_str("no rule applies; kept"),
            RetentionReason::Held {
                hold,
                reason,
                count,
            } => {
                write!(f, "legal hold {hold} ({reason})")?;
                if *count > 1 {
                    write!(f, " and {} more", count - 1)?;
                }
                Ok(())
            }
            RetentionReason::Waiting {
                rule,
                keep,
                trigger,
            } => write!(
                f,
                "rule {rule}: retain {} after {trigger}, which has not happened yet",
                keep.period()
            ),
            RetentionReason::Unbounded { rule } => {
                write!(
                    f,
                    "rule {rule} comes due beyond the last representable date"
                )
            }
            RetentionReason::Scheduled {
                then,
                rule,
                keep,
                trigger,
            } => match keep {
                Keep::Retain(p) => {
                    write!(f, "rule {rule}: retain {p} after {trigger}, then {then}")
                }
                Keep::DeleteAfter(p) => write!(f, "rule {rule}: {then} {p} after {trigger}"),
            },
            RetentionReason::Deferred {
                then,
                rule,
                from,
                by,
            } => write!(
                f,
                "rule {rule}: {then} due {}, deferred by the longer retention of rule {by}",
                from.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
            ),
        }
    }
}

/// What a policy says about one record at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionDecision<'p> {
    /// What to do now.
    pub action: RetentionAction,
    /// The disposition that applies at `due_at` (also before it is due).
    pub scheduled: Option<Disposition>,
    /// When `scheduled` applies; `None` when nothing is scheduled (no rule, a
    /// trigger still to come, or a hold). Under a hold, `rule` still names the
    /// rules that would apply without it.
    pub due_at: Option<Timestamp>,
    /// The rule(s) behind the decision, the deciding one first.
    pub rule: Rules<'p>,
    /// The holds that cover the record (empty when none).
    pub held_by: Vec<&'p str>,
    /// Why.
    pub reason: RetentionReason<'p>,
}

impl RetentionDecision<'_> {
    /// Whether a disposition is due now.
    pub fn is_due(&self) -> bool {
        self.action.disposition().is_some()
    }
}

/// A due date as whole seconds since the epoch and the nanoseconds of its
/// trigger (a period never changes those), so candidates compare as integers
/// and only the winner becomes a [`Timestamp`].
type Due = (i64, u32);

/// The best candidate seen so far for one role in the resolution.
#[derive(Clone, Copy)]
struct Candidate {
    rule: u32,
    due: Due,
    specificity: Specificity,
}

/// How many distinct triggers an evaluation remembers.
pub(crate) const TRIGGER_CACHE: usize = 8;

/// Trigger times of one record, found in one pass over its events the first
/// time a trigger other than `created` is needed.
struct TriggerCache {
    filled: bool,
    times: [Option<Timestamp>; TRIGGER_CACHE],
    /// The last trigger split into a civil date, by slot.
    civil: Option<(usize, CivilTime, u32)>,
}

impl TriggerCache {
    #[inline]
    fn new() -> Self {
        Self {
            filled: false,
            times: [None; TRIGGER_CACHE],
            civil: None,
        }
    }

    /// Fills every cached slot from one pass over the record's events.
    fn fill(&mut self, policy: &RetentionPolicy, record: &RetentionRecord) {
        for &(_, slot, from_creation) in &policy.event_slots {
            if let Some(time) = self.times.get_mut(usize::from(slot)) {
                *time = from_creation.then_some(record.created);
            }
        }
        for (name, at) in &record.events {
            let name = name.as_bytes();
            for (wanted, slot, _) in &policy.event_slots {
                if wanted.len() == name.len() && wanted.as_bytes() == name {
                    if let Some(time) = self.times.get_mut(usize::from(*slot)) {
                        *time = Some(*at);
                    }
                    // Slot names are distinct: distinct triggers have
                    // distinct names, since a custom trigger may not take a
                    // built-in one's (`check_rule`).
                    break;
                }
            }
        }
        self.filled = true;
    }

    #[inline]
    fn time(
        &mut self,
        policy: &RetentionPolicy,
        slot: usize,
        record: &RetentionRecord,
    ) -> Option<Timestamp> {
        let trigger = &policy.triggers[slot];
        if matches!(trigger, Trigger::Created) {
            return Some(record.created);
        }
        if slot >= TRIGGER_CACHE {
            return trigger.time(record);
        }
        if !self.filled {
            self.fill(policy, record);
        }
        self.times[slot]
    }

    #[inline]
    fn civil(
        &mut self,
        policy: &RetentionPolicy,
        slot: usize,
        record: &RetentionRecord,
    ) -> Option<(CivilTime, u32)> {
        if let Some((cached, civil, nanos)) = self.civil
            && cached == slot
        {
            return Some((civil, nanos));
        }
        let t = self.time(policy, slot, record)?;
        // A leap second (nanoseconds past 1e9) counts as the second before it ends.
        let civil = CivilTime::from_timestamp(&t);
        let nanos = t.timestamp_subsec_nanos().min(999_999_999);
        self.civil = Some((slot, civil, nanos));
        Some((civil, nanos))
    }
}

/// How many matching rules an evaluation gathers before resolving them.
const MATCH_BUFFER: usize = 32;

fn timestamp((secs, nanos): Due) -> Option<Timestamp> {
    chrono::DateTime::from_timestamp(secs, nanos)
}

impl RetentionPolicy {
    /// Evaluates `record` at `now`; see the [crate docs](crate#conflict-resolution) for
    /// how rules and holds combine.
    #[inline]
    pub fn evaluate<'p>(
        &'p self,
        record: &RetentionRecord,
        now: Timestamp,
    ) -> RetentionDecision<'p> {
        custodia_core::op_span!(
            TRACE,
            "custodia.retention.evaluate",
            action = tracing::field::Empty
        );
        let mut decision = self.decide(record);
        if let (Some(then), Some(due)) = (decision.scheduled, decision.due_at)
            && due <= now
        {
            decision.action = then.into();
        }
        custodia_core::op_record!(action = tracing::field::debug(decision.action));
        decision
    }

    /// [`RetentionPolicy::evaluate`] at the clock's current time.
    pub fn evaluate_now<'p>(
        &'p self,
        record: &RetentionRecord,
        clock: &impl custodia_core::Clock,
    ) -> RetentionDecision<'p> {
        self.evaluate(record, clock.now())
    }

    /// The time-independent part of [`RetentionPolicy::evaluate`]: the action is
    /// [`RetentionAction::Keep`] or [`RetentionAction::Hold`].
    pub fn decide<'p>(&'p self, record: &RetentionRecord) -> RetentionDecision<'p> {
        let mut decision = self.decide_by_rules(record);
        self.apply_holds(record, &mut decision);
        decision
    }

    /// [`RetentionPolicy::decide`] as if the policy had no holds: what the
    /// rules alone say (a sweep reports what a hold withheld).
    pub(crate) fn decide_by_rules<'p>(&'p self, record: &RetentionRecord) -> RetentionDecision<'p> {
        let mut resolver = Resolver::default();
        let mut triggers = TriggerCache::new();
        let candidates = self.candidates(record);
        // First pass: gather the matching rules and look for a retention still
        // waiting for its trigger, which decides (keep) without any date math.
        // The candidates are sorted by rule name, so the first waiting
        // retention is the one the decision names.
        let mut matched = [0u16; MATCH_BUFFER];
        let mut count = 0;
        let mut overflow = false;
        let mut waiting: Option<u32> = None;
        for (n, entry) in candidates.iter().enumerate() {
            if entry.filtered
                && !self.rules[entry.rule as usize]
                    .applies_to
                    .matches_except_category(record)
            {
                continue;
            }
            if entry.retention
                && entry.may_wait
                && triggers
                    .time(self, usize::from(entry.slot), record)
                    .is_none()
            {
                waiting = Some(entry.rule);
                break;
            }
            match (matched.get_mut(count), u16::try_from(n)) {
                (Some(slot), Ok(n)) => {
                    *slot = n;
                    count += 1;
                }
                _ => overflow = true,
            }
        }
        if let Some(index) = waiting {
            resolver.open = Some((index, true));
        } else if overflow {
            for entry in candidates {
                if !entry.filtered
                    || self.rules[entry.rule as usize]
                        .applies_to
                        .matches_except_category(record)
                {
                    self.consider(&mut resolver, &mut triggers, record, entry);
                }
            }
        } else {
            for &n in &matched[..count] {
                if let Some(entry) = candidates.get(usize::from(n)) {
                    self.consider(&mut resolver, &mut triggers, record, entry);
                }
            }
        }

        self.resolve(&resolver)
    }

    /// Turns `decision` into a hold if any hold covers `record`.
    #[inline]
    pub(crate) fn apply_holds<'p>(
        &'p self,
        record: &RetentionRecord,
        decision: &mut RetentionDecision<'p>,
    ) {
        if !self.holds.is_empty() {
            if self.hold_index.enabled {
                let mut mask = self.hold_index.candidates(record);
                while mask != 0 {
                    let i = mask.trailing_zeros() as usize;
                    mask &= mask - 1;
                    if let Some(hold) = self.holds.get(i)
                        && hold.applies_to.matches_anchored(record)
                    {
                        decision.held_by.push(&hold.id);
                    }
                }
            } else {
                for hold in &self.holds {
                    if hold.applies_to.matches(record) {
                        decision.held_by.push(&hold.id);
                    }
                }
            }
            if let Some(first) = decision.held_by.first() {
                let hold = self.holds.iter().find(|h| &*h.id == *first);
                decision.action = RetentionAction::Hold;
                decision.scheduled = None;
                decision.due_at = None;
                decision.reason = RetentionReason::Held {
                    hold: first,
                    reason: hold.map_or("", |h| h.reason.as_str()),
                    count: decision.held_by.len(),
                };
            }
        }
    }

    /// The candidate rules of the record's category: those indexed under
    /// its deepest named ancestor (which hold every named ancestor's too)
    /// and those naming no category.
    #[inline]
    fn candidates(&self, record: &RetentionRecord) -> &[crate::policy::Entry] {
        let mut prefix = record.category.as_str();
        loop {
            if let Some(rules) = self.by_category.get(prefix) {
                return rules;
            }
            match prefix.rfind('.') {
                Some(dot) => prefix = &prefix[..dot],
                None => return &self.any_category,
            }
        }
    }

    /// Folds one rule whose selector matches into the resolution.
    #[inline]
    fn consider(
        &self,
        resolver: &mut Resolver,
        triggers: &mut TriggerCache,
        record: &RetentionRecord,
        entry: &crate::policy::Entry,
    ) {
        let index = entry.rule;
        let rule = &self.rules[index as usize];
        let retention = entry.retention;
        if resolver.open.is_some() && !retention {
            // A retention without a due date already decides: keep.
            return;
        }
        let period = rule.keep.period();
        let slot = usize::from(entry.slot);
        let (started, due) = if period.has_months() {
            let started = triggers.civil(self, slot, record);
            (
                started.is_some(),
                started.and_then(|(civil, nanos)| Some((period.after_civil(&civil)?, nanos))),
            )
        } else {
            // A fixed length: no calendar arithmetic.
            let started = triggers.time(self, slot, record);
            (
                started.is_some(),
                started.and_then(|t| {
                    // A leap second (nanoseconds past 1e9) counts as the second before it ends.
                    let nanos = t.timestamp_subsec_nanos().min(999_999_999);
                    Some((period.after_fixed(t.timestamp())?, nanos))
                }),
            )
        };
        if retention {
            let Some(due) = due else {
                if resolver
                    .open
                    .is_none_or(|(other, _)| self.name_of(index) < self.name_of(other))
                {
                    resolver.open = Some((index, !started));
                }
                return;
            };
            if resolver.open.is_some() {
                return;
            }
            let specificity = entry.specificity;
            let better = match resolver.floor {
                None => true,
                Some(floor) => {
                    (due, specificity, std::cmp::Reverse(self.name_of(index)))
                        > (
                            floor.due,
                            floor.specificity,
                            std::cmp::Reverse(self.name_of(floor.rule)),
                        )
                }
            };
            if better {
                resolver.floor = Some(Candidate {
                    rule: index,
                    due,
                    specificity,
                });
            }
        }
        if let (true, Some(due)) = (rule.then.is_destructive(), due) {
            let candidate = Candidate {
                rule: index,
                due,
                specificity: entry.specificity,
            };
            let better = match resolver.deletion {
                None => true,
                Some(best) => {
                    let key = |c: &Candidate| {
                        (
                            std::cmp::Reverse(c.specificity),
                            c.due,
                            self.rules[c.rule as usize].then,
                            self.name_of(c.rule),
                        )
                    };
                    key(&candidate) < key(&best)
                }
            };
            if better {
                resolver.deletion = Some(candidate);
            }
        }
    }

    fn name_of(&self, index: u32) -> &str {
        &self.rules[index as usize].name
    }

    fn resolve<'p>(&'p self, resolver: &Resolver) -> RetentionDecision<'p> {
        let keep = |rule: Rules<'p>, reason: RetentionReason<'p>| RetentionDecision {
            action: RetentionAction::Keep,
            scheduled: None,
            due_at: None,
            rule,
            held_by: Vec::new(),
            reason,
        };
        if let Some((index, waiting)) = resolver.open {
            let rule = &self.rules[index as usize];
            let reason = if waiting {
                RetentionReason::Waiting {
                    rule: &rule.name,
                    keep: rule.keep,
                    trigger: &rule.trigger,
                }
            } else {
                RetentionReason::Unbounded { rule: &rule.name }
            };
            return keep(Rules::one(&rule.name), reason);
        }
        let scheduled = |rule: &'p crate::Rule| RetentionReason::Scheduled {
            then: rule.then,
            rule: &rule.name,
            keep: rule.keep,
            trigger: &rule.trigger,
        };
        match (resolver.deletion, resolver.floor) {
            (Some(deletion), floor) => {
                let rule = &self.rules[deletion.rule as usize];
                let mut decision = RetentionDecision {
                    action: RetentionAction::Keep,
                    scheduled: Some(rule.then),
                    due_at: timestamp(deletion.due),
                    rule: Rules::one(&rule.name),
                    held_by: Vec::new(),
                    reason: scheduled(rule),
                };
                if let Some(floor) = floor.filter(|f| f.due > deletion.due) {
                    let by = &self.rules[floor.rule as usize].name;
                    decision.due_at = timestamp(floor.due);
                    decision.rule.0[1] = Some(by);
                    decision.reason = RetentionReason::Deferred {
                        then: rule.then,
                        rule: &rule.name,
                        from: timestamp(deletion.due).unwrap_or_default(),
                        by,
                    };
                }
                decision
            }
            (None, Some(floor)) => {
                let rule = &self.rules[floor.rule as usize];
                RetentionDecision {
                    action: RetentionAction::Keep,
                    scheduled: Some(rule.then),
                    due_at: timestamp(floor.due),
                    rule: Rules::one(&rule.name),
                    held_by: Vec::new(),
                    reason: scheduled(rule),
                }
            }
            (None, None) => keep(Rules::default(), RetentionReason::NoRule),
        }
    }
}

#[derive(Default)]
struct Resolver {
    /// A retention with no due date (waiting for its trigger, or unbounded).
    open: Option<(u32, bool)>,
    /// The retention due last.
    floor: Option<Candidate>,
    /// The chosen destructive rule.
    deletion: Option<Candidate>,
}
