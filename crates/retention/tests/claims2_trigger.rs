//! wt-claims2: `Trigger::Custom` is a public variant ("A custom event,
//! declared in the policy's `events`") and `Trigger::time` says "When the
//! trigger happened for `record`". A policy built in code whose custom
//! trigger has the name of a built-in one (`Trigger::Custom("closed")`)
//! next to a rule on `Trigger::Closed` compiles (`RetentionPolicy::new`
//! accepts it), `Trigger::time` finds the event, but evaluation never does:
//! the second trigger slot for "closed" is never filled, so its `retain`
//! rule waits for ever and keeps the record with no due date.
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use custodia_core::{DataCategory, TenantId};
use custodia_retention::{
    Disposition, Keep, Period, RetentionAction, RetentionPolicy, RetentionRecord, Rule, Selector,
    Trigger,
};

fn rule(name: &str, trigger: Trigger, years: u32, then: Disposition) -> Rule {
    Rule {
        name: Arc::from(name),
        applies_to: Selector::category(DataCategory::USER_CONTENT_TICKET),
        trigger,
        keep: Keep::Retain(Period::years(years).unwrap()),
        then,
    }
}

#[test]
fn a_custom_trigger_named_like_a_builtin_is_seen_by_evaluation() {
    let custom = Trigger::Custom(Arc::from("closed"));
    let policy = RetentionPolicy::new(
        vec![
            rule("a-closed", Trigger::Closed, 1, Disposition::Delete),
            rule("b-custom-closed", custom.clone(), 2, Disposition::Delete),
        ],
        vec![],
        None,
    )
    .expect("RetentionPolicy::new accepts the policy");
    let created = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap();
    let closed = Utc.with_ymd_and_hms(2020, 2, 1, 0, 0, 0).unwrap();
    let record = RetentionRecord::new(
        "t-1",
        TenantId::from_external_key("crm", "acme"),
        DataCategory::USER_CONTENT_TICKET,
        created,
    )
    .with_event("closed", closed);
    assert_eq!(custom.time(&record), Some(closed), "Trigger::time sees the event");
    let now = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
    let decision = policy.evaluate(&record, now);
    assert_eq!(
        decision.action,
        RetentionAction::Delete,
        "both retentions ended years ago, but: {} ({:?})",
        decision.reason,
        decision.due_at
    );
}
