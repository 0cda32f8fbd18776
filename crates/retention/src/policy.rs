//! A validated, compiled policy.

use std::collections::HashMap;

use custodia_core::{DataCategory, Timestamp};
use rustc_hash::FxHashMap;

use crate::Trigger;
use crate::error::{Error, Problem};
use crate::model::{BackupSchedule, Keep, LegalHold, Rule, Specificity};

/// A retention policy, validated and compiled for evaluation.
///
/// Build one from a file with [`RetentionPolicy::from_toml`], [`RetentionPolicy::from_json`] or
/// [`RetentionPolicy::from_path`], or in code with [`RetentionPolicy::new`]. Compiling indexes
/// the rules by category, so evaluating a record costs a few hash lookups (one
/// per level of its category) plus the rules that actually match, however
/// many rules the policy has.
#[derive(Debug, Clone)]
pub struct RetentionPolicy {
    pub(crate) rules: Vec<Rule>,
    pub(crate) holds: Vec<LegalHold>,
    pub(crate) backups: Option<BackupSchedule>,
    /// For each category the rules name: the rules indexed under it and
    /// under every named ancestor, each with the depth of the category it
    /// was named under. A record finds all its category rules with the one
    /// lookup of its deepest named ancestor.
    ///
    /// Each list also holds the rules that name no category (depth 0), and
    /// is sorted by rule name, so the first retention found waiting for its
    /// trigger is the one a decision names and the scan can stop there.
    pub(crate) by_category: FxHashMap<Box<str>, Box<[Entry]>>,
    /// Rules that name no category, sorted by name: the candidates of a
    /// record whose category no rule names.
    pub(crate) any_category: Box<[Entry]>,
    /// Legal holds indexed by the most selective dimension they name: a
    /// bitmask of hold indices per record id, subject and tenant, and the
    /// holds that name only categories. Used when there are at most 64 holds.
    pub(crate) hold_index: HoldIndex,
    /// The triggers read from a record's events, for the first slots an
    /// evaluation caches: (event name, slot, whether a record without the
    /// event counts from its creation, as for `last_activity`).
    pub(crate) event_slots: Box<[(Box<str>, u8, bool)]>,
    /// The distinct triggers, by slot.
    pub(crate) triggers: Vec<crate::Trigger>,
}

/// One candidate rule of a category, with what evaluation needs of it
/// precomputed so the scan touches one small array.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    /// The rule's index.
    pub(crate) rule: u32,
    /// Its trigger's slot.
    pub(crate) slot: u16,
    /// Whether its selector has more than categories to check.
    pub(crate) filtered: bool,
    /// Whether it is a retention (`retain`).
    pub(crate) retention: bool,
    /// Whether its trigger may not have happened (not `created` or `last_activity`).
    pub(crate) may_wait: bool,
    /// How explicit its selector is for a record found under this category.
    pub(crate) specificity: Specificity,
}

/// Holds indexed by record id, subject and tenant (see [`RetentionPolicy`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct HoldIndex {
    /// Whether the index is used (at most 64 holds).
    pub(crate) enabled: bool,
    pub(crate) by_record: FxHashMap<Box<str>, u64>,
    pub(crate) by_subject: FxHashMap<custodia_core::SubjectId, u64>,
    pub(crate) by_tenant: FxHashMap<custodia_core::TenantId, u64>,
    /// Holds naming only categories: checked for every record.
    pub(crate) unanchored: u64,
}

impl HoldIndex {
    fn new(holds: &[LegalHold]) -> Self {
        let mut index = Self {
            enabled: holds.len() <= 64,
            ..Self::default()
        };
        if !index.enabled {
            return index;
        }
        for (i, hold) in holds.iter().enumerate() {
            let bit = 1u64 << i;
            let scope = &hold.applies_to;
            if !scope.records.is_empty() {
                for id in &scope.records {
                    *index.by_record.entry(id.as_str().into()).or_default() |= bit;
                }
            } else if !scope.subjects.is_empty() {
                for subject in &scope.subjects {
                    *index.by_subject.entry(*subject).or_default() |= bit;
                }
            } else if !scope.tenants.is_empty() {
                for tenant in &scope.tenants {
                    *index.by_tenant.entry(*tenant).or_default() |= bit;
                }
            } else {
                index.unanchored |= bit;
            }
        }
        index
    }

    /// The holds that may cover `record` (a superset of those that do).
    #[inline]
    pub(crate) fn candidates(&self, record: &crate::RetentionRecord) -> u64 {
        let mut mask = self.unanchored;
        if !self.by_record.is_empty() {
            mask |= self.by_record.get(record.id.as_str()).copied().unwrap_or(0);
        }
        if let (false, Some(subject)) = (self.by_subject.is_empty(), record.subject) {
            mask |= self.by_subject.get(&subject).copied().unwrap_or(0);
        }
        if !self.by_tenant.is_empty() {
            mask |= self.by_tenant.get(&record.tenant).copied().unwrap_or(0);
        }
        mask
    }
}

impl RetentionPolicy {
    /// Validates and compiles a policy built in code.
    ///
    /// Refuses what a policy file would be refused for: duplicate rule names or
    /// hold ids, a hold with no scope, a `delete_after` rule whose disposition
    /// is not destructive, an empty name, and a [`Trigger::Custom`] with the
    /// name of a built-in trigger ([`Problem::CustomTriggerIsBuiltin`]; a
    /// file's `closed` is always [`Trigger::Closed`]). Errors carry no
    /// location.
    pub fn new(
        rules: Vec<Rule>,
        holds: Vec<LegalHold>,
        backups: Option<BackupSchedule>,
    ) -> Result<Self, Error> {
        let fail = |problem| Error::Policy {
            location: None,
            problem,
        };
        let mut names = HashMap::new();
        for rule in &rules {
            check_rule(rule).map_err(fail)?;
            if names.insert(rule.name.clone(), ()).is_some() {
                return Err(fail(Problem::DuplicateRule {
                    name: rule.name.to_string(),
                    first_line: 0,
                }));
            }
        }
        let mut ids = HashMap::new();
        for hold in &holds {
            check_hold(hold).map_err(fail)?;
            if ids.insert(hold.id.clone(), ()).is_some() {
                return Err(fail(Problem::DuplicateHold {
                    id: hold.id.to_string(),
                    first_line: 0,
                }));
            }
        }
        if let Some(backups) = &backups {
            check_backups(backups).map_err(fail)?;
        }
        Ok(Self::compile(rules, holds, backups))
    }

    pub(crate) fn compile(
        rules: Vec<Rule>,
        holds: Vec<LegalHold>,
        backups: Option<BackupSchedule>,
    ) -> Self {
        let mut by_category: FxHashMap<Box<str>, Vec<u32>> = FxHashMap::default();
        let mut any_category = Vec::new();
        let mut base_specificity = Vec::with_capacity(rules.len());
        let mut triggers: Vec<crate::Trigger> = Vec::new();
        let mut trigger_slot = Vec::with_capacity(rules.len());
        let mut filtered = Vec::with_capacity(rules.len());
        for (index, rule) in rules.iter().enumerate() {
            let slot = match triggers.iter().position(|t| *t == rule.trigger) {
                Some(slot) => slot,
                None => {
                    triggers.push(rule.trigger.clone());
                    triggers.len() - 1
                }
            };
            trigger_slot.push(slot);
            let selector = &rule.applies_to;
            filtered.push(
                !(selector.tenants.is_empty()
                    && selector.regions.is_empty()
                    && selector.labels.is_empty()),
            );
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            base_specificity.push(rule.applies_to.specificity(0));
            let categories = &rule.applies_to.categories;
            if categories.is_empty() {
                any_category.push(index);
                continue;
            }
            // Indexed under every category it names (once each); the merge
            // below keeps one entry per rule, at the deepest category that
            // covers the record, which is the depth its specificity counts.
            for (i, category) in categories.iter().enumerate() {
                if categories[..i].contains(category) {
                    continue;
                }
                by_category
                    .entry(category.as_str().into())
                    .or_default()
                    .push(index);
            }
        }
        let entry = |rule: u32, depth: usize| {
            let i = rule as usize;
            let r = &rules[i];
            Entry {
                rule,
                slot: u16::try_from(trigger_slot[i]).unwrap_or(u16::MAX),
                filtered: filtered[i],
                retention: r.keep.is_retention(),
                may_wait: !matches!(
                    r.trigger,
                    crate::Trigger::Created | crate::Trigger::LastActivity
                ),
                specificity: r.applies_to.specificity(depth),
            }
        };
        let by_name = |a: &Entry, b: &Entry| {
            rules[a.rule as usize]
                .name
                .cmp(&rules[b.rule as usize].name)
        };
        let by_category = by_category
            .keys()
            .map(|category| {
                let mut merged: Vec<Entry> = Vec::new();
                let mut seen = rustc_hash::FxHashSet::default();
                let mut depth = category.bytes().filter(|&b| b == b'.').count() + 1;
                let mut prefix: &str = category;
                loop {
                    if let Some(rules) = by_category.get(prefix) {
                        // Deepest first: a rule also named under an ancestor
                        // is already in, with the deeper depth.
                        merged.extend(
                            rules
                                .iter()
                                .filter(|&&rule| seen.insert(rule))
                                .map(|&rule| entry(rule, depth)),
                        );
                    }
                    match prefix.rfind('.') {
                        Some(dot) => {
                            prefix = &prefix[..dot];
                            depth -= 1;
                        }
                        None => break,
                    }
                }
                merged.extend(any_category.iter().map(|&rule| entry(rule, 0)));
                merged.sort_by(by_name);
                (category.clone(), merged.into_boxed_slice())
            })
            .collect();
        let mut any: Vec<Entry> = any_category.iter().map(|&rule| entry(rule, 0)).collect();
        any.sort_by(by_name);
        let any_category = any.into_boxed_slice();
        let hold_index = HoldIndex::new(&holds);
        let event_slots = triggers
            .iter()
            .enumerate()
            .take(crate::eval::TRIGGER_CACHE)
            .filter(|(_, t)| !matches!(t, crate::Trigger::Created))
            .filter_map(|(slot, t)| {
                let slot = u8::try_from(slot).ok()?;
                Some((
                    Box::from(t.name()),
                    slot,
                    matches!(t, crate::Trigger::LastActivity),
                ))
            })
            .collect();
        Self {
            rules,
            holds,
            backups,
            by_category,
            any_category,
            hold_index,
            event_slots,
            triggers,
        }
    }

    /// The rules, in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rule named `name`.
    pub fn rule(&self, name: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| &*r.name == name)
    }

    /// The legal holds, in file order.
    pub fn holds(&self) -> &[LegalHold] {
        &self.holds
    }

    /// The backup schedule, if the policy has one.
    pub fn backups(&self) -> Option<&BackupSchedule> {
        self.backups.as_ref()
    }

    /// A copy of this policy with one more rule, refused as
    /// [`RetentionPolicy::new`] refuses.
    pub fn with_rule(&self, rule: Rule) -> Result<Self, Error> {
        let mut rules = self.rules.clone();
        rules.push(rule);
        Self::new(rules, self.holds.clone(), self.backups)
    }

    /// A copy of this policy with one more hold.
    pub fn with_hold(&self, hold: LegalHold) -> Result<Self, Error> {
        let mut holds = self.holds.clone();
        holds.push(hold);
        Self::new(self.rules.clone(), holds, self.backups)
    }

    /// The instant by which a record deleted at `deleted_at` has left every
    /// backup (see [`BackupSchedule::horizon`]); `deleted_at` itself when the
    /// policy has no backups. `None` if beyond the range of a timestamp.
    pub fn erasure_complete(&self, deleted_at: Timestamp) -> Option<Timestamp> {
        match &self.backups {
            Some(backups) => backups.horizon(deleted_at),
            None => Some(deleted_at),
        }
    }

    /// The categories the rules name, for checking them against a taxonomy.
    pub fn categories(&self) -> impl Iterator<Item = &DataCategory> {
        self.rules
            .iter()
            .flat_map(|r| r.applies_to.categories.iter())
    }
}

pub(crate) fn rule_what(name: &str) -> String {
    format!("rule {name:?}")
}

pub(crate) fn check_name(what: &str, name: &str) -> Result<(), Problem> {
    if name.trim().is_empty() {
        return Err(Problem::Invalid {
            what: what.to_owned(),
            reason: "must not be empty".into(),
            source: None,
        });
    }
    if name.len() > 200 || name.chars().any(char::is_control) {
        return Err(Problem::Invalid {
            what: what.to_owned(),
            reason: "must be at most 200 bytes with no control characters".into(),
            source: None,
        });
    }
    Ok(())
}

pub(crate) fn check_rule(rule: &Rule) -> Result<(), Problem> {
    check_name("rule name", &rule.name)?;
    // Evaluation keys trigger times by name, so a custom trigger named like
    // a built-in one would share (and lose) the built-in one's event.
    if let Trigger::Custom(name) = &rule.trigger
        && Trigger::BUILTIN.contains(&&**name)
    {
        return Err(Problem::CustomTriggerIsBuiltin {
            rule: rule.name.to_string(),
            trigger: name.to_string(),
        });
    }
    if let Keep::DeleteAfter(_) = rule.keep
        && !rule.then.is_destructive()
    {
        return Err(Problem::Invalid {
            what: rule_what(&rule.name),
            reason: format!(
                "delete_after needs then = \"delete\" or \"anonymize\", not {:?}; use retain for {}",
                rule.then.as_str(),
                rule.then
            ),
            source: None,
        });
    }
    Ok(())
}

pub(crate) fn check_hold(hold: &LegalHold) -> Result<(), Problem> {
    check_name("hold id", &hold.id)?;
    if hold.applies_to.is_empty() {
        return Err(Problem::HoldWithoutScope {
            id: hold.id.to_string(),
        });
    }
    Ok(())
}

pub(crate) fn check_backups(backups: &BackupSchedule) -> Result<(), Problem> {
    if !backups.every.is_fixed() || backups.every.is_zero() {
        return Err(Problem::InvalidDuration {
            field: "backups.every".into(),
            input: backups.every.to_string(),
            reason:
                "must be a fixed, non-zero length (weeks, days, hours, ...), not months or years"
                    .into(),
        });
    }
    Ok(())
}
