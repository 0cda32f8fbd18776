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
            // What `evaluate` does, with the rules' own verdict kept aside
            // so a held record that is due can be reported as withheld.
            let mut decision = self.policy.decide_by_rules(record);
            let due = match (decision.scheduled, decision.due_at) {
                (Some(then), Some(due_at)) if due_at <= self.now => {
                    let done = then
                        .done_event()
                        .and_then(|event| record.events.get(event))
                        .is_some_and(|at| *at >= due_at);
                    Some((then, due_at, done))
                }
                _ => None,
            };
            self.policy.apply_holds(record, &mut decision);
            // A hold leaves `rule` naming the rules that would apply.
            let rules = || decision.rule.iter().map(str::to_owned).collect();
            match (decision.action, due) {
                (RetentionAction::Hold, due) => {
                    plan.held += 1;
                    if let Some((action, due_at, false)) = due {
                        plan.withheld.push(HeldItem {
                            id: record.id.clone(),
                            action,
                            due_at,
                            rules: rules(),
                            holds: decision.held_by.iter().map(|h| (*h).to_owned()).collect(),
                            reason: decision.reason.to_string(),
                        });
                    }
                }
                (_, Some((_, _, true))) => plan.already_done += 1,
                (_, Some((action, due_at, false))) => plan.items.push(PlanItem {
                    id: record.id.clone(),
                    action,
                    due_at,
                    rules: rules(),
                }),
                (_, None) => plan.kept += 1,
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
