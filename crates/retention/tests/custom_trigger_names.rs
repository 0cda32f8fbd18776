//! `Trigger::Custom` with the name of a built-in trigger.
//!
//! Found in review (wt-claims2): a policy built in code whose custom trigger
//! had the name of a built-in one (`Trigger::Custom("closed")`) next to a
//! rule on `Trigger::Closed` was accepted by `RetentionPolicy::new`;
//! `Trigger::time` found the event, but evaluation never did (the second
//! trigger slot for "closed" was never filled), so its `retain` rule waited
//! for ever and kept the record with no due date. A policy file cannot say
//! this (it maps `closed` to `Trigger::Closed`), so code may not either: the
//! constructors refuse such a trigger, naming it.
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use custodia_core::{DataCategory, TenantId};
use custodia_retention::{
    Disposition, Keep, Period, Problem, RetentionAction, RetentionPolicy, RetentionRecord, Rule,
    Selector, Trigger,
};
use proptest::prelude::*;

fn rule(name: &str, trigger: Trigger, years: u32, then: Disposition) -> Rule {
    Rule {
        name: Arc::from(name),
        applies_to: Selector::category(DataCategory::USER_CONTENT_TICKET),
        trigger,
        keep: Keep::Retain(Period::years(years).unwrap()),
        then,
    }
}

fn refused_as_builtin(result: Result<RetentionPolicy, custodia_retention::Error>, name: &str) {
    let err = result.expect_err("a custom trigger with a built-in name is refused");
    assert!(err.location().is_none(), "built in code: no location");
    match err.problem() {
        Some(Problem::CustomTriggerIsBuiltin { rule, trigger }) => {
            assert_eq!(rule, "b-custom");
            assert_eq!(trigger, name);
        }
        other => panic!("wrong problem for {name:?}: {other:?}"),
    }
    assert!(err.to_string().contains(name), "{err}");
}

#[test]
fn a_custom_trigger_with_a_builtin_name_is_refused() {
    for name in Trigger::BUILTIN {
        let custom = Trigger::Custom(Arc::from(name));
        // Alone, next to its built-in twin, and added later with `with_rule`.
        refused_as_builtin(
            RetentionPolicy::new(
                vec![rule("b-custom", custom.clone(), 2, Disposition::Delete)],
                vec![],
                None,
            ),
            name,
        );
        refused_as_builtin(
            RetentionPolicy::new(
                vec![
                    rule(
                        "a-builtin",
                        Trigger::from_name(name),
                        1,
                        Disposition::Delete,
                    ),
                    rule("b-custom", custom.clone(), 2, Disposition::Delete),
                ],
                vec![],
                None,
            ),
            name,
        );
        let base = RetentionPolicy::new(
            vec![rule(
                "a-builtin",
                Trigger::from_name(name),
                1,
                Disposition::Delete,
            )],
            vec![],
            None,
        )
        .unwrap();
        refused_as_builtin(
            base.with_rule(rule("b-custom", custom, 2, Disposition::Delete)),
            name,
        );
    }
}

#[test]
fn the_builtin_trigger_and_a_real_custom_one_are_both_seen_by_evaluation() {
    // What the refused policy meant, written the accepted way.
    let policy = RetentionPolicy::new(
        vec![
            rule("a-closed", Trigger::Closed, 1, Disposition::Delete),
            rule(
                "b-closed",
                Trigger::from_name("closed"),
                2,
                Disposition::Delete,
            ),
            rule(
                "c-custom",
                Trigger::Custom(Arc::from("contract_ended")),
                3,
                Disposition::Delete,
            ),
        ],
        vec![],
        None,
    )
    .unwrap();
    let created = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap();
    let closed = Utc.with_ymd_and_hms(2020, 2, 1, 0, 0, 0).unwrap();
    let ended = Utc.with_ymd_and_hms(2020, 3, 1, 0, 0, 0).unwrap();
    let record = RetentionRecord::new(
        "t-1",
        TenantId::from_external_key("crm", "acme"),
        DataCategory::USER_CONTENT_TICKET,
        created,
    )
    .with_event("closed", closed)
    .with_event("contract_ended", ended);
    let now = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
    let decision = policy.evaluate(&record, now);
    assert_eq!(
        decision.action,
        RetentionAction::Delete,
        "every retention ended years ago, but: {} ({:?})",
        decision.reason,
        decision.due_at
    );
    // Before `contract_ended`, the custom rule's retention holds the record.
    let waiting = RetentionRecord::new(
        "t-2",
        TenantId::from_external_key("crm", "acme"),
        DataCategory::USER_CONTENT_TICKET,
        created,
    )
    .with_event("closed", closed);
    assert_eq!(policy.evaluate(&waiting, now).action, RetentionAction::Keep);
}

proptest! {
    #[test]
    fn custom_triggers_are_refused_exactly_for_builtin_names(
        name in prop_oneof![
            proptest::sample::select(Trigger::BUILTIN.to_vec()).prop_map(str::to_owned),
            "[a-z_]{1,20}",
        ],
    ) {
        let result = RetentionPolicy::new(
            vec![rule("b-custom", Trigger::Custom(Arc::from(name.as_str())), 1, Disposition::Delete)],
            vec![],
            None,
        );
        let builtin = Trigger::BUILTIN.contains(&name.as_str());
        prop_assert_eq!(result.is_err(), builtin);
        if builtin {
            let is_refusal = matches!(
                result.unwrap_err().problem(),
                Some(Problem::CustomTriggerIsBuiltin { .. })
            );
            prop_assert!(is_refusal);
        }
    }
}
