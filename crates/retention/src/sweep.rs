//! Sweeps: what to delete, anonymize, archive and review now.

use std::borrow::Borrow;
use std::fmt;

use custodia_core::Timestamp;

use crate::eval::RetentionAction;
use crate::model::Disposition;
use crate::record::RetentionRecord;
use crate::{Error, RetentionPolicy};

/// Where a sweep stopped: the last record id it examined.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Cursor {
    /// The last id examined; a resumed sweep starts after it.
    pub after: String,
    /// Records examined so far, over all batches.
    pub examined: u64,
}

/// One record due now.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PlanItem {
    /// The record's id.
    pub id: String,
    /// What to do.
    pub action: Disposition,
    /// Since when it has been due.
    pub due_at: Timestamp,
    /// The rule(s) behind it.
    pub rules: Vec<String>,
}

/// One record due now that a hold keeps: it outlives its period for the
/// hold's reason, and the report says so.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HeldItem {
    /// The record's id.
    pub id: String,
    /// What the rules would do now without the hold.
    pub action: Disposition,
    /// Since when it would have been due.
    pub due_at: Timestamp,
    /// The rule(s) behind that.
    pub rules: Vec<String>,
    /// The holds that keep it.
    pub holds: Vec<String>,
    /// Why it is kept: the first hold and its reason, as in the decision's
    /// [`RetentionReason::Held`](crate::RetentionReason::Held).
    pub reason: String,
}

/// The outcome of planning one sweep (or one batch of it).
///
/// A plan is a snapshot of the policy and the records at planning time.
/// Whatever changes before an item is carried out is not in it: a legal
/// hold added to the policy (or a record newly under one, e.g. by a
/// subject an Art. 18 restriction now holds), the disposition carried out
/// by another process, a trigger event that moved, a rule edited. Right
/// before changing a record, re-read it (in the transaction that changes
/// it, locking the row, e.g. `SELECT .. FOR UPDATE`), take the current
/// policy, and act only if [`RetentionPolicy::still_due`] says the item
/// still stands; otherwise skip it (the next sweep plans it afresh). A
/// store whose change statement itself re-checks the condition (an
/// `UPDATE .. WHERE` on a column the hold is kept in) needs no re-read.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct SweepPlan {
    /// Records due now, in input order.
    pub items: Vec<PlanItem>,
    /// Records examined in this batch.
    pub examined: u64,
    /// Records skipped because they were at or before the resume cursor.
    pub skipped: u64,
    /// Records a legal hold froze.
    pub held: u64,
    /// Of those, the ones due now but for the hold, in input order.
    #[serde(default)]
    pub withheld: Vec<HeldItem>,
    /// Records not due yet (or no rule applies).
    pub kept: u64,
    /// Records whose due disposition was already applied.
    pub already_done: u64,
    /// Where to resume, if the batch limit stopped the sweep; `None` once
    /// the input is exhausted.
    pub next: Option<Cursor>,
}

impl SweepPlan {
    /// The items with one disposition.
    pub fn with_action(&self, action: Disposition) -> impl Iterator<Item = &PlanItem> {
        self.items.iter().filter(move |i| i.action == action)
    }

    /// How many items have `action`.
    pub fn count(&self, action: Disposition) -> usize {
        self.with_action(action).count()
    }

    /// Whether the sweep went through all its input.
    pub fn is_complete(&self) -> bool {
        self.next.is_none()
    }
}

impl fmt::Display for SweepPlan {
    /// The dry-run report: counts, then one line per record due.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "examined {} records:", self.examined)?;
        for action in Disposition::ALL {
            write!(f, " {action} {},", self.count(action))?;
        }
        writeln!(
            f,
            " held {}, kept {}, already done {}, skipped {}",
            self.held, self.kept, self.already_done, self.skipped
        )?;
        for item in &self.items {
            writeln!(
                f,
                "  {:<9} {} (due {}; rule {})",
                item.action.as_str(),
                item.id,
                item.due_at
                    .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                item.rules.join(", ")
            )?;
        }
        for item in &self.withheld {
            writeln!(
                f,
                "  held      {} ({} due {}; rule {}; kept by {})",
                item.id,
                item.action.as_str(),
                item.due_at
                    .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                item.rules.join(", "),
                item.reason
            )?;
        }
        match &self.next {
            Some(cursor) => writeln!(f, "stopped after {:?}; resume from there", cursor.after),
            None => writeln!(f, "complete"),
        }
    }
}

/// Plans a sweep of a policy at an instant.
///
/// A [`Sweep`] plans over an iterator of records and returns a [`SweepPlan`]:
/// the records due now, by disposition, with the rules behind each, plus
/// counts of what was held, kept and already done, and the held records
/// that would be due now ([`SweepPlan::withheld`], with the hold's reason). Planning changes nothing,
/// so a plan *is* the dry-run report (its `Display` prints one); the host
/// carries the plan out against its store.
///
/// * **Idempotent.** Planning is a pure function of the policy, the records
///   and the instant. A deleted record is gone from the next sweep's input; a
///   record that was anonymized, archived or reviewed carries the event
///   `anonymized`, `archived` or `reviewed` (at or after its due date), and is
///   then counted as already done instead of planned again.
/// * **Resumable.** Records must come in strictly ascending id order, by
///   bytes: `ORDER BY id COLLATE "C"` in PostgreSQL (a plain `ORDER BY id`
///   follows the column's collation, where `B` may come after `a`; a batch
///   resumed with `WHERE id > $cursor` in that order would start with ids
///   the cursor skips as already seen). With [`Sweep::limit`] a plan stops after that many
///   records and hands back a [`Cursor`]; [`Sweep::resume`] skips every id up
///   to the cursor, so a crashed or batched sweep picks up where it stopped,
///   whether or not the host re-sends records it already saw.
#[derive(Debug, Clone)]
pub struct Sweep<'p> {
    policy: &'p RetentionPolicy,
    now: Timestamp,
    limit: Option<u64>,
    cursor: Option<Cursor>,
}

impl<'p> Sweep<'p> {
    /// A sweep of everything, at `now`.
    pub fn new(policy: &'p RetentionPolicy, now: Timestamp) -> Self {
        Self {
            policy,
            now,
            limit: None,
            cursor: None,
        }
    }

    /// A sweep of everything, at the clock's current time.
    pub fn with_clock(policy: &'p RetentionPolicy, clock: &impl custodia_core::Clock) -> Self {
        Self::new(policy, clock.now())
    }

    /// Stops after `records` records (at least one) and returns a cursor.
    pub fn limit(mut self, records: u64) -> Self {
        self.limit = Some(records.max(1));
        self
    }

    /// Resumes after `cursor`.
    pub fn resume(mut self, cursor: Cursor) -> Self {
        self.cursor = Some(cursor);
        self
    }

    /// Plans over `records`, which must be in strictly ascending id order.
    pub fn plan<I>(&self, records: I) -> Result<SweepPlan, Error>
    where
        I: IntoIterator,
        I::Item: Borrow<RetentionRecord>,
    {
        custodia_core::op_span!(
            DEBUG,
            "custodia.retention.sweep",
            items = tracing::field::Empty
        );
        let mut plan = SweepPlan::default();
        let mut previous: Option<String> = self.cursor.as_ref().map(|c| c.after.clone());
        let resumed_from = self.cursor.as_ref().map(|c| c.examined).unwrap_or(0);
        let mut records = records.into_iter().peekable();
        while let Some(record) = records.next() {
            let record = record.borrow();
            if let Some(prev) = &previous
                && record.id <= *prev
            {
                if plan.examined == 0 && self.cursor.is_some() {
                    plan.skipped += 1;
                    continue;
                }
                return Err(Error::SweepOrder {
                    previous: prev.clone(),
                    next: record.id.clone(),
                });
            }
            previous = Some(record.id.clone());
            plan.examined += 1;
            match self.policy.sweep_outcome(record, self.now) {
                Outcome::Held(withheld) => {
                    plan.held += 1;
                    plan.withheld.extend(withheld);
                }
                Outcome::Done => plan.already_done += 1,
                Outcome::Due(item) => plan.items.push(item),
                Outcome::Kept => plan.kept += 1,
            }
            if self.limit.is_some_and(|limit| plan.examined >= limit) && records.peek().is_some() {
                plan.next = Some(Cursor {
                    after: record.id.clone(),
                    examined: resumed_from + plan.examined,
                });
                break;
            }
        }
        custodia_core::op_record!(items = plan.items.len());
        Ok(plan)
    }
}

/// What a sweep at one instant does with one record.
enum Outcome {
    /// A hold keeps it; the item is there when it is due but for the hold.
    Held(Option<HeldItem>),
    /// Its due disposition was already carried out.
    Done,
    /// Due now.
    Due(PlanItem),
    /// Not due (or no rule applies).
    Kept,
}

impl RetentionPolicy {
    /// What a sweep at `now` does with `record`: what `evaluate` does, with
    /// the rules' own verdict kept aside so a held record that is due can
    /// be reported as withheld. [`Sweep::plan`] and [`Self::still_due`]
    /// share it, so a re-check cannot disagree with a plan made alike.
    fn sweep_outcome(&self, record: &RetentionRecord, now: Timestamp) -> Outcome {
        let mut decision = self.decide_by_rules(record);
        let due = match (decision.scheduled, decision.due_at) {
            (Some(then), Some(due_at)) if due_at <= now => {
                let done = then
                    .done_event()
                    .and_then(|event| record.events.get(event))
                    .is_some_and(|at| *at >= due_at);
                Some((then, due_at, done))
            }
            _ => None,
        };
        self.apply_holds(record, &mut decision);
        // A hold leaves `rule` naming the rules that would apply.
        let rules = || decision.rule.iter().map(str::to_owned).collect();
        match (decision.action, due) {
            (RetentionAction::Hold, due) => Outcome::Held(match due {
                Some((action, due_at, false)) => Some(HeldItem {
                    id: record.id.clone(),
                    action,
                    due_at,
                    rules: rules(),
                    holds: decision.held_by.iter().map(|h| (*h).to_owned()).collect(),
                    reason: decision.reason.to_string(),
                }),
                _ => None,
            }),
            (_, Some((_, _, true))) => Outcome::Done,
            (_, Some((action, due_at, false))) => Outcome::Due(PlanItem {
                id: record.id.clone(),
                action,
                due_at,
                rules: rules(),
            }),
            (_, None) => Outcome::Kept,
        }
    }

    /// Whether `item`, from a [`SweepPlan`] made earlier, still stands for
    /// `record` under this policy at `now`: the record is the item's (same
    /// id), and a sweep now would plan the same disposition for it (not
    /// held, not already done, not kept).
    ///
    /// A plan is a snapshot (see [`SweepPlan`]): call this right before
    /// carrying out each item, with the policy as it is now (holds
    /// included) and the record as the store holds it now, read in the
    /// transaction that changes it. A hold added since planning, a record
    /// that came under one, a disposition carried out meanwhile or a rule
    /// that now says otherwise all make it `false`; skip the item then.
    ///
    /// ```
    /// # use custodia_core::{DataCategory, TenantId};
    /// # use custodia_retention::{HoldScope, LegalHold, RetentionPolicy, RetentionRecord, Sweep};
    /// # let policy = RetentionPolicy::from_toml(r#"
    /// # version = 1
    /// # [[rule]]
    /// # name = "logs"
    /// # applies_to = { category = "system.operations.log" }
    /// # trigger = "created"
    /// # retain = "7d"
    /// # then = "delete"
    /// # "#, "policy.toml").unwrap();
    /// # let tenant = TenantId::from_external_key("crm", "acme");
    /// # let created = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
    /// # let now = created + chrono::Duration::days(30);
    /// let log = RetentionRecord::new("l-1", tenant, DataCategory::SYSTEM_OPERATIONS_LOG, created);
    /// let plan = Sweep::new(&policy, now).plan([&log])?;
    /// let item = &plan.items[0];
    ///
    /// // Meanwhile a hold is added to the policy.
    /// let policy = policy.with_hold(LegalHold {
    ///     id: "case-7".into(),
    ///     reason: "litigation".into(),
    ///     applies_to: HoldScope { records: vec!["l-1".into()], ..HoldScope::default() },
    /// })?;
    /// // Re-read the record, then:
    /// assert!(!policy.still_due(item, &log, now), "held since planning: keep it");
    /// # Ok::<(), custodia_retention::Error>(())
    /// ```
    pub fn still_due(&self, item: &PlanItem, record: &RetentionRecord, now: Timestamp) -> bool {
        record.id == item.id
            && matches!(
                self.sweep_outcome(record, now),
                Outcome::Due(PlanItem { action, .. }) if action == item.action
            )
    }
}
