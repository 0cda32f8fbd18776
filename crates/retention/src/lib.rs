//! Retention for Custodia: policies, legal holds, evaluation, sweeps and the
//! backup horizon.
//!
//! A helpdesk promises things like "app logs are kept for a week", "backups
//! are kept 30 days", "customer data is deleted within 30 days of account
//! termination" and "deleted data leaves the backups after 3 months". This
//! crate turns such promises into a versioned policy file and answers, for
//! any record at any instant, what must happen to it and when.
//!
//! # The model
//!
//! * A [`Rule`] covers records by [`Selector`] (category, tenant, region,
//!   labels), counts a [`Period`] from a [`Trigger`] event (`created`,
//!   `closed`, `last_activity`, `account_terminated` or a declared custom
//!   event, whose name may not be a built-in one's) and then applies a [`Disposition`]: delete, anonymize, archive or
//!   review. `retain = "3y"` is a *retention* (keep at least that long);
//!   `delete_after = "10y"` is a deletion only, with no duty to keep.
//! * A [`LegalHold`] (litigation, investigation) freezes every record in its
//!   scope (tenants, subjects, categories, record ids).
//! * A [`BackupSchedule`] says how often backups are taken and how long they
//!   are kept, which gives the [backup horizon](BackupSchedule::horizon): the
//!   instant by which a record deleted at `t` has left every backup.
//! * [`RetentionPolicy::evaluate`] takes a [`RetentionRecord`]'s metadata and an instant and
//!   returns a [`RetentionDecision`] `{ action, due_at, rule, held_by, reason }`;
//!   a [`Sweep`] plans over many records, resumably, and lists the records
//!   a hold keeps past their due date with the hold's reason. A plan is a
//!   snapshot: [`RetentionPolicy::still_due`] re-checks each item against
//!   the current policy and record right before it is carried out.
//!
//! The key design decision is that **conflicts resolve by fixed, documented
//! principles**, after Microsoft Purview's principles of retention, so adding a
//! rule can be reasoned about: a hold beats everything; retention wins over
//! deletion; the longest retention wins; an explicit selector beats a general
//! one for deletion; among deletions the shortest wins. [Conflict resolution](#conflict-resolution)
//! spells the algorithm out; property tests pin it. Every decision names the
//! rules and holds behind it.
//!
//! The second is **compile once, evaluate many**: a [`RetentionPolicy`] indexes its
//! rules by category: one hash lookup of the record's category (or its
//! deepest named ancestor) yields a precomputed, name-sorted list of the
//! only rules that can match, each with its specificity and trigger slot,
//! so evaluation tests those and not one rule in turn; legal holds are
//! indexed by record id, subject and tenant the same way. Decisions borrow
//! rule names from the policy and allocate nothing unless a hold applies;
//! their reason is rendered only when displayed.
//!
//! # Policy file format, version 1
//!
//! TOML (or the same shape in JSON, see [`RetentionPolicy::from_json`]):
//!
//! ```toml
//! version = 1                      # required; this build reads 1
//! events = ["contract_ended"]      # custom trigger events (optional)
//! categories = ["user.content.ticket.internal_note"]  # custom categories (optional)
//!
//! [[rule]]
//! name = "closed-tickets"          # unique
//! applies_to = { category = "user.content.ticket" }   # also tenant, region, labels
//! trigger = "closed"               # created | closed | last_activity | account_terminated | a declared event
//! retain = "3y"                    # or delete_after = "3y"; short or ISO 8601 ("P3Y", "P30D", "PT12H")
//! then = "anonymize"               # delete | anonymize | archive | review
//!
//! [[hold]]
//! id = "case-2026-17"
//! reason = "litigation"
//! applies_to = { subject = "0f8fad5b-d9cb-469f-a165-70867728950e" }  # tenant, subject, category, records
//!
//! [backups]
//! every = "1d"                     # a fixed length
//! keep = "30d"                     # may be calendar: "3mo"
//! anchor = "2026-01-01T02:00:00Z"  # optional: when one backup ran
//! ```
//!
//! In `applies_to`, `category`, `tenant`, `region`, `subject` and `records`
//! take one string or a list (any of them matches); `labels` is a table that
//! must all match. Unknown keys are errors. Every error names the file, line
//! and column and what is wrong: a syntax error, an unknown trigger or action
//! (with a suggestion for typos), a negative, unparsable or overflowing
//! duration, a rule that can never match (a category not in the taxonomy, an
//! empty list), two rules with one name, a hold with no scope.
//!
//! **`retain` or `delete_after`?** A promise to *keep* data ("invoices are
//! kept 10 years") is a `retain`: nothing deletes the record earlier, and
//! while its trigger has not happened the record is kept. A promise to
//! *delete* ("deleted within 30 days of account termination") is a
//! `delete_after`: it never holds a record back, and a more explicit rule
//! (a narrower category, a tenant, a label) overrides it.
//!
//! Records are evaluated from their metadata ([`RetentionRecord`], one JSON object
//! per line in the CLI's `custodia retention eval`); the decision's JSON
//! line is `{"id","action","due","rule","held_by","reason"}`.
//!
//! # Conflict resolution
//!
//! Several rules may cover one record. [`RetentionPolicy::evaluate`] resolves them in
//! the spirit of Microsoft Purview's principles of retention:
//!
//! 0. **A legal hold beats everything.** A record any hold covers is
//!    [`RetentionAction::Hold`], with no due date, whatever the rules say.
//! 1. **Retention wins over deletion.** A `retain` rule is a duty to keep the
//!    record until its due date; no deletion happens before the latest such
//!    date. A `retain` rule whose trigger has not happened (the ticket is
//!    still open) keeps the record with no due date.
//! 2. **The longest retention wins.** Of several `retain` rules the one due
//!    last sets the earliest date anything may happen.
//! 3. **Explicit beats implicit, for deletion.** Among the destructive rules
//!    (`then = "delete"` or `"anonymize"`) whose trigger has happened, the
//!    most explicit selector ([`Specificity`]: labels, then
//!    tenant, then region, then category depth) chooses the disposition.
//! 4. **Among deletions the shortest wins.** Among equally explicit
//!    destructive rules, the one due first (a tie: delete before anonymize,
//!    then rule name).
//!
//! The record is then disposed of by the chosen destructive rule, at its due
//! date or, if later, at the end of the longest retention. Without any
//! destructive rule, the longest retention's own disposition (archive or
//! review) applies at its end. A record no rule covers is kept.
//!
//! Purview's worked cases hold: a policy deleting at 3 years and a retention
//! of 5 years delete at 5 years; retentions of 5 and 10 years end at 10; an
//! org-wide deletion at 10 years and a narrower deletion at 5 delete at 5.
//!
//! A decision depends only on the record and the policy; the instant only
//! decides whether it is due. So evaluation is monotone in time: once a record
//! is due it stays due, unless a hold is added.
//!
//! # Example: a helpdesk's promises as a policy
//!
//! ```
//! use custodia_core::{DataCategory, SubjectId, TenantId};
//! use custodia_core::chrono::{TimeZone, Utc};
//! use custodia_retention::{RetentionAction, Disposition, RetentionPolicy, RetentionRecord};
//!
//! let policy = RetentionPolicy::from_toml(r#"
//!     version = 1
//!
//!     ## "App logs are kept for a week."
//!     [[rule]]
//!     name = "app-logs"
//!     applies_to = { category = "system.operations.log" }
//!     trigger = "created"
//!     retain = "7d"
//!     then = "delete"
//!
//!     ## "All customer data is deleted within 30 days of account termination."
//!     [[rule]]
//!     name = "terminated-accounts"
//!     applies_to = { category = "user" }
//!     trigger = "account_terminated"
//!     delete_after = "30d"
//!     then = "delete"
//!
//!     ## Closed tickets are anonymized after three years.
//!     [[rule]]
//!     name = "closed-tickets"
//!     applies_to = { category = "user.content.ticket" }
//!     trigger = "closed"
//!     retain = "3y"
//!     then = "anonymize"
//!
//!     ## "Backups are kept 30 days" and "deleted data leaves the backups after 3 months":
//!     ## daily backups, the oldest purged after three months.
//!     [backups]
//!     every = "1d"
//!     keep = "3mo"
//! "#, "helpdesk.toml")?;
//!
//! let tenant = TenantId::from_external_key("billing", "ACME");
//! let jan = |d| Utc.with_ymd_and_hms(2026, 1, d, 0, 0, 0).unwrap();
//!
//! // A log line from 1 January is deleted on 8 January.
//! let log = RetentionRecord::new("log-1", tenant, DataCategory::SYSTEM_OPERATIONS_LOG, jan(1));
//! let decision = policy.evaluate(&log, jan(8));
//! assert_eq!(decision.action, RetentionAction::Delete);
//! assert!(decision.rule.contains("app-logs"));
//! assert_eq!(policy.evaluate(&log, jan(7)).action, RetentionAction::Keep);
//!
//! // An open ticket waits for its `closed` event: kept, no due date.
//! let ticket = RetentionRecord::new("t-1", tenant, DataCategory::USER_CONTENT_TICKET, jan(1));
//! let decision = policy.evaluate(&ticket, jan(31));
//! assert_eq!((decision.action, decision.due_at), (RetentionAction::Keep, None));
//!
//! // Closed, it is anonymized three years later...
//! let closed = ticket.clone().with_event("closed", jan(2));
//! let decision = policy.evaluate(&closed, jan(31));
//! assert_eq!(decision.scheduled, Some(Disposition::Anonymize));
//! assert_eq!(decision.due_at, Some(Utc.with_ymd_and_hms(2029, 1, 2, 0, 0, 0).unwrap()));
//!
//! // When the account ends, the account-wide rule would delete it 30 days later,
//! // but the ticket rule is more explicit (a deeper category) and a retention:
//! // it still decides, and the decision says so.
//! let terminated = closed.with_event("account_terminated", jan(10));
//! let decision = policy.evaluate(&terminated, jan(31));
//! assert_eq!(decision.scheduled, Some(Disposition::Anonymize));
//! assert_eq!(decision.rule.iter().collect::<Vec<_>>(), ["closed-tickets"]);
//!
//! // A legal hold beats everything.
//! let held = policy.with_hold(custodia_retention::LegalHold {
//!     id: "case-2026-17".into(),
//!     reason: "litigation".into(),
//!     applies_to: custodia_retention::HoldScope { records: vec!["log-1".into()], ..Default::default() },
//! })?;
//! let decision = held.evaluate(&log, jan(31));
//! assert_eq!((decision.action, decision.held_by.as_slice()), (RetentionAction::Hold, &["case-2026-17"][..]));
//!
//! // A contact's email address has no retention: deleted 30 days after termination,
//! // and gone from every backup three months after that.
//! let email = RetentionRecord::new("c-1", tenant, DataCategory::USER_CONTACT_EMAIL, jan(1))
//!     .with_subject(SubjectId::from_external_key(tenant, "crm", "1017"))
//!     .with_event("account_terminated", jan(10));
//! let decision = policy.evaluate(&email, jan(31));
//! let deleted_at = decision.due_at.unwrap();
//! assert_eq!(deleted_at, Utc.with_ymd_and_hms(2026, 2, 9, 0, 0, 0).unwrap());
//! assert_eq!(policy.erasure_complete(deleted_at), Some(Utc.with_ymd_and_hms(2026, 5, 9, 0, 0, 0).unwrap()));
//! # Ok::<(), custodia_retention::Error>(())
//! ```
//!
//! With feature `proptest`, the `arbitrary` module has strategies for
//! policies, rules, holds and records.
//!
//! The public surface is the flat re-export list at the crate root; the only
//! public module is `arbitrary`, a feature's add-on.

#![forbid(unsafe_code)]
// Library code returns typed errors; only tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(missing_docs)]
#![warn(unreachable_pub)]

mod duration;
mod error;
mod eval;
mod model;
mod parse;
mod policy;
mod record;
mod sweep;

#[cfg(feature = "proptest")]
pub mod arbitrary;

// Policies and their parts.
pub use model::{
    BackupSchedule, Disposition, HoldScope, Keep, LegalHold, Rule, Selector, Specificity, Trigger,
};
pub use parse::{Format, MAX_POLICY_BYTES};
pub use policy::RetentionPolicy;
// Periods.
pub use duration::{MAX_YEARS, Period};
// Records and their evaluation.
pub use eval::{RetentionAction, RetentionDecision, RetentionReason, Rules};
pub use record::RetentionRecord;
// Sweeps.
pub use sweep::{Cursor, HeldItem, PlanItem, Sweep, SweepPlan};
// Errors.
pub use error::{Error, Location, Problem};

/// The policy file format version this build reads and writes.
pub const POLICY_VERSION: u32 = 1;
