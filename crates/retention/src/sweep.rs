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
/// counts of what was held, kept and already done. Planning changes nothing,
/// so a plan *is* the dry-run report (its `Display` prints one); the host
/// carries the plan out against its store.
///
/// * **Idempotent.** Planning is a pure function of the policy, the records
///   and the instant. A deleted record is gone from the next sweep's input; a
///   record that was anonymized, archived or reviewed carries the event
///   `anonymized`, `archived` or `reviewed` (at or after its due date), and is
///   then counted as already done instead of planned again.
/// * **Resumable.** Records must come in strictly ascending id order (as
///   `ORDER BY id` gives). With [`Sweep::limit`] a plan stops after that many
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
            let decision = self.policy.evaluate(record, self.now);
            match (decision.action, decision.due_at) {
                (RetentionAction::Hold, _) => plan.held += 1,
                (action, Some(due_at)) if action.disposition().is_some() => {
                    let Some(disposition) = action.disposition() else {
                        continue;
                    };
                    let done = disposition
                        .done_event()
                        .and_then(|event| record.events.get(event))
                        .is_some_and(|at| *at >= due_at);
                    if done {
                        plan.already_done += 1;
                    } else {
                        plan.items.push(PlanItem {
                            id: record.id.clone(),
                            action: disposition,
                            due_at,
                            rules: decision.rule.iter().map(str::to_owned).collect(),
                        });
                    }
                }
                _ => plan.kept += 1,
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
