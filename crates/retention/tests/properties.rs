//! Property tests: the conflict principles, monotonicity in time, the
//! compiled index against a naive reference, sweeps, and parsers on arbitrary
//! input.

use std::sync::Arc;

use chrono::TimeDelta;
use custodia_core::Timestamp;
use custodia_retention::arbitrary::{record, rule, timestamp};
use custodia_retention::{
    Cursor, Disposition, HoldScope, Keep, LegalHold, Period, RetentionAction, RetentionDecision,
    RetentionPolicy, RetentionRecord, Rule, Selector, Sweep, Trigger,
};
use proptest::prelude::*;

/// When the record's personal data goes: the due date of a destructive
/// disposition, or `None` (never, as far as this policy says).
fn life(decision: &RetentionDecision<'_>) -> Option<Timestamp> {
    match (decision.action, decision.scheduled) {
        (RetentionAction::Hold, _) => None,
        (_, Some(then)) if then.is_destructive() => decision.due_at,
        _ => None,
    }
}

/// `a` is no earlier than `b`, with `None` as "never".
fn no_earlier(a: Option<Timestamp>, b: Option<Timestamp>) -> bool {
    match (a, b) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(a), Some(b)) => a >= b,
    }
}

fn hold_on(record: &RetentionRecord) -> LegalHold {
    LegalHold {
        id: Arc::from("new-hold"),
        reason: "litigation".into(),
        applies_to: HoldScope {
            records: vec![record.id.clone()],
            ..HoldScope::default()
        },
    }
}

/// A straightforward, unindexed implementation of the documented resolution,
/// to check the compiled policy against.
fn reference(
    policy: &RetentionPolicy,
    record: &RetentionRecord,
) -> (Option<Disposition>, Option<Timestamp>, Vec<String>) {
    let held = policy.holds().iter().any(|h| h.applies_to.matches(record));
    let matching: Vec<&Rule> = policy
        .rules()
        .iter()
        .filter(|r| r.applies_to.matches(record))
        .collect();
    let due = |r: &Rule| {
        r.trigger
            .time(record)
            .and_then(|t| r.keep.period().after(t))
    };
    if held {
        return (None, None, vec![]);
    }
    let retentions: Vec<&&Rule> = matching.iter().filter(|r| r.keep.is_retention()).collect();
    if retentions.iter().any(|r| due(r).is_none()) {
        return (None, None, vec![]);
    }
    let floor = retentions.iter().filter_map(|r| due(r)).max();
    let spec = |r: &Rule| {
        let depth = r
            .applies_to
            .categories
            .iter()
            .filter(|c| record.category.is_within(c))
            .map(|c| c.depth())
            .max()
            .unwrap_or(0);
        r.applies_to.specificity(depth)
    };
    let deletion = matching
        .iter()
        .filter(|r| r.then.is_destructive())
        .filter_map(|r| due(r).map(|d| (r, d)))
        .min_by(|(a, da), (b, db)| {
            (std::cmp::Reverse(spec(a)), da, a.then, &a.name).cmp(&(
                std::cmp::Reverse(spec(b)),
                db,
                b.then,
                &b.name,
            ))
        });
    match (deletion, floor) {
        (Some((rule, d)), floor) => {
            let due = floor.map_or(d, |f| f.max(d));
            (Some(rule.then), Some(due), vec![rule.name.to_string()])
        }
        (None, Some(f)) => {
            let rule = retentions
                .iter()
                .filter(|r| due(r) == Some(f))
                .max_by(|a, b| {
                    (spec(a), std::cmp::Reverse(&a.name))
                        .cmp(&(spec(b), std::cmp::Reverse(&b.name)))
                });
            match rule {
                Some(rule) => (Some(rule.then), Some(f), vec![rule.name.to_string()]),
                None => (None, None, vec![]),
            }
        }
        (None, None) => (None, None, vec![]),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_hold_always_wins(policy in any::<RetentionPolicy>(), record in record(), now in timestamp()) {
        let held = policy.with_hold(hold_on(&record)).unwrap();
        let decision = held.evaluate(&record, now);
        prop_assert_eq!(decision.action, RetentionAction::Hold);
        prop_assert_eq!(decision.due_at, None);
        prop_assert!(decision.held_by.contains(&"new-hold"));
    }

    #[test]
    fn adding_a_pure_retention_never_shortens_a_life(
        policy in any::<RetentionPolicy>(),
        extra in rule("extra".into()),
        record in record(),
    ) {
        let mut extra = extra;
        extra.keep = Keep::Retain(extra.keep.period());
        extra.then = if extra.then.is_destructive() { Disposition::Archive } else { extra.then };
        let before = life(&policy.decide(&record));
        let after = life(&policy.with_rule(extra).unwrap().decide(&record));
        prop_assert!(no_earlier(after, before), "life went from {before:?} to {after:?}");
    }

    #[test]
    fn adding_a_longer_retention_never_shortens_a_life(
        policy in any::<RetentionPolicy>(),
        selector in custodia_retention::arbitrary::selector(),
        years in 8u32..20,
        then in any::<Disposition>(),
        record in record(),
    ) {
        // An org-wide deletion gives most records a finite life to compare.
        let policy = policy.with_rule(Rule {
            name: Arc::from("org-wide"),
            applies_to: Selector::default(),
            trigger: Trigger::Created,
            keep: Keep::DeleteAfter(Period::ZERO),
            then: Disposition::Delete,
        }).unwrap();
        let before = life(&policy.decide(&record));
        let extra = Rule {
            name: Arc::from("longer"),
            applies_to: selector,
            trigger: Trigger::Created,
            keep: Keep::Retain(Period::years(years).unwrap()),
            then,
        };
        let extra_due = extra.keep.period().after(record.created);
        // "Longer" for this record: due no earlier than its current life.
        // A record held or waiting for a trigger lives forever: nothing is longer.
        prop_assume!(no_earlier(extra_due, before));
        let after = life(&policy.with_rule(extra).unwrap().decide(&record));
        prop_assert!(no_earlier(after, before), "life went from {before:?} to {after:?}");
    }

    #[test]
    fn once_due_stays_due(policy in any::<RetentionPolicy>(), record in record(), t in timestamp(), later in 0..4_000i64) {
        let first = policy.evaluate(&record, t);
        let second = policy.evaluate(&record, t + TimeDelta::days(later));
        if first.is_due() {
            prop_assert_eq!(second.action, first.action);
            prop_assert_eq!(second.due_at, first.due_at);
        }
        // Not due yet means due later exactly when the due date is passed.
        if let Some(due) = first.due_at {
            prop_assert_eq!(second.is_due(), due <= t + TimeDelta::days(later));
        }
    }

    #[test]
    fn compiled_index_agrees_with_the_reference(policy in any::<RetentionPolicy>(), record in record()) {
        let decision = policy.decide(&record);
        let (then, due, rules) = reference(&policy, &record);
        prop_assert_eq!(decision.scheduled, then);
        prop_assert_eq!(decision.due_at, due);
        if let Some(first) = rules.first() {
            prop_assert_eq!(decision.rule.iter().next(), Some(first.as_str()));
        }
    }

    #[test]
    fn hold_index_finds_exactly_the_matching_holds_in_file_order(
        policy in custodia_retention::arbitrary::policy_with(3, 80),
        record in record(),
    ) {
        // Up to 64 holds go through the index by record id, subject and
        // tenant; more fall back to a scan. Both must agree with a scan.
        let decision = policy.decide(&record);
        let expected: Vec<&str> = policy.holds().iter().filter(|h| h.applies_to.matches(&record)).map(|h| &*h.id).collect();
        prop_assert_eq!(&decision.held_by, &expected);
        prop_assert_eq!(decision.action == RetentionAction::Hold, !expected.is_empty());
    }

    #[test]
    fn compiled_index_agrees_with_the_reference_beyond_the_match_buffer(
        policy in custodia_retention::arbitrary::policy_with(48, 1),
        record in record(),
    ) {
        // More matching rules than the 32 gathered in the first pass, and
        // names (rule-10 < rule-9) whose order differs from file order.
        let decision = policy.decide(&record);
        let (then, due, rules) = reference(&policy, &record);
        prop_assert_eq!(decision.scheduled, then);
        prop_assert_eq!(decision.due_at, due);
        if let Some(first) = rules.first() {
            prop_assert_eq!(decision.rule.iter().next(), Some(first.as_str()));
        }
        if then.is_none() && !policy.holds().iter().any(|h| h.applies_to.matches(&record)) {
            // Kept: a waiting retention is named by the least name among them.
            let waiting = policy.rules().iter().filter(|r| {
                r.applies_to.matches(&record) && r.keep.is_retention() && r.trigger.time(&record).is_none()
            }).map(|r| &*r.name).min();
            if let Some(name) = waiting {
                prop_assert_eq!(decision.rule.iter().next(), Some(name));
            }
        }
    }

    #[test]
    fn decisions_name_only_matching_rules_and_every_matching_hold(policy in any::<RetentionPolicy>(), record in record()) {
        let decision = policy.decide(&record);
        for name in decision.rule.iter() {
            let rule = policy.rule(name).unwrap();
            prop_assert!(rule.applies_to.matches(&record), "{name} does not match");
        }
        let expected: Vec<&str> = policy.holds().iter().filter(|h| h.applies_to.matches(&record)).map(|h| &*h.id).collect();
        prop_assert_eq!(&decision.held_by, &expected);
        if decision.due_at.is_some() || decision.action == RetentionAction::Hold {
            prop_assert!(!decision.reason.to_string().is_empty());
        }
        if decision.due_at.is_some() {
            prop_assert!(!decision.rule.is_empty());
        }
    }

    #[test]
    fn batched_sweeps_equal_one_sweep(
        policy in any::<RetentionPolicy>(),
        records in proptest::collection::btree_map(0..200u16, record(), 0..40),
        now in timestamp(),
        batch in 1..10u64,
    ) {
        let records: Vec<RetentionRecord> = records.into_iter().map(|(i, mut r)| { r.id = format!("r-{i:03}"); r }).collect();
        let whole = Sweep::new(&policy, now).plan(&records).unwrap();
        prop_assert!(whole.is_complete());
        prop_assert_eq!(Sweep::new(&policy, now).plan(&records).unwrap(), whole.clone());
        let mut items = Vec::new();
        let mut cursor: Option<Cursor> = None;
        loop {
            let mut sweep = Sweep::new(&policy, now).limit(batch);
            if let Some(c) = cursor.take() { sweep = sweep.resume(c); }
            // The host re-sends everything; the cursor skips what was done.
            let plan = sweep.plan(&records).unwrap();
            items.extend(plan.items);
            match plan.next { Some(next) => cursor = Some(next), None => break }
        }
        prop_assert_eq!(items, whole.items.clone());

        // Carrying the plan out and sweeping again plans nothing new.
        let mut after: Vec<RetentionRecord> = Vec::new();
        for mut r in records {
            match whole.items.iter().find(|i| i.id == r.id) {
                Some(item) if item.action == Disposition::Delete => continue,
                Some(item) => {
                    let event = item.action.done_event().unwrap();
                    r.events.insert(event.to_owned(), now);
                    after.push(r);
                }
                None => after.push(r),
            }
        }
        let again = Sweep::new(&policy, now).plan(&after).unwrap();
        prop_assert!(again.items.is_empty(), "{again}");
    }

    /// The plan is `evaluate` record by record, and what it withholds is
    /// exactly what the same policy without holds plans.
    #[test]
    fn a_sweep_withholds_what_the_holds_keep_and_nothing_else(
        policy in any::<RetentionPolicy>(),
        records in proptest::collection::btree_map(0..200u16, record(), 0..40),
        now in timestamp(),
    ) {
        let records: Vec<RetentionRecord> = records.into_iter().map(|(i, mut r)| { r.id = format!("r-{i:03}"); r }).collect();
        let plan = Sweep::new(&policy, now).plan(&records).unwrap();
        for item in &plan.items {
            let record = records.iter().find(|r| r.id == item.id).unwrap();
            prop_assert_eq!(policy.evaluate(record, now).action, item.action.into());
        }
        for item in &plan.withheld {
            let record = records.iter().find(|r| r.id == item.id).unwrap();
            let decision = policy.evaluate(record, now);
            prop_assert_eq!(decision.action, RetentionAction::Hold);
            prop_assert_eq!(&decision.held_by, &item.holds);
        }
        prop_assert!(plan.withheld.len() as u64 <= plan.held);
        let unheld = RetentionPolicy::new(policy.rules().to_vec(), Vec::new(), policy.backups().copied()).unwrap();
        let free = Sweep::new(&unheld, now).plan(&records).unwrap();
        let planned: Vec<_> = free.items.iter().filter(|i| !plan.items.contains(i)).map(|i| (&i.id, i.action, i.due_at, &i.rules)).collect();
        let withheld: Vec<_> = plan.withheld.iter().map(|i| (&i.id, i.action, i.due_at, &i.rules)).collect();
        prop_assert_eq!(planned, withheld);
    }

    #[test]
    fn toml_parser_never_panics(text in "\\PC{0,300}") {
        if let Err(e) = RetentionPolicy::from_toml(&text, "fuzz.toml") {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn json_parser_never_panics(text in "\\PC{0,300}") {
        if let Err(e) = RetentionPolicy::from_json(&text, "fuzz.json") {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn mutated_policies_give_located_errors_not_panics(
        at in any::<prop::sample::Index>(),
        cut in 0..20usize,
        insert in "[\\[\\]{}=\",.:a-z0-9 \\n-]{0,8}",
        json in any::<bool>(),
    ) {
        let source = if json { include_str!("data/issue.json") } else { include_str!("data/issue.toml") };
        let mut start = at.index(source.len());
        while !source.is_char_boundary(start) { start -= 1; }
        let mut end = (start + cut).min(source.len());
        while !source.is_char_boundary(end) { end -= 1; }
        let text = format!("{}{}{}", &source[..start], insert, &source[end..]);
        let parsed = if json { RetentionPolicy::from_json(&text, "m") } else { RetentionPolicy::from_toml(&text, "m") };
        if let Err(e) = parsed {
            let location = e.location().expect("policy errors from text are located");
            prop_assert!(location.line >= 1 && location.line <= text.lines().count().max(1) + 1);
        }
    }

    #[test]
    fn periods_parse_or_refuse_and_round_trip(text in "\\PC{0,24}") {
        if let Ok(period) = text.parse::<Period>() {
            prop_assert_eq!(period.to_string().parse::<Period>().unwrap(), period);
        }
    }

    #[test]
    fn generated_periods_round_trip(period in any::<Period>(), start in timestamp()) {
        prop_assert_eq!(period.to_string().parse::<Period>().unwrap(), period);
        let end = period.after(start).unwrap();
        prop_assert!(end >= start);
    }

    /// Monotone, except that months clamp to a shorter month's last day and
    /// keep the time of day (as chrono and PostgreSQL do): 45 months after
    /// 2027-05-28T06:36 is 2031-02-28T06:36, after 2027-05-30T00:00 it is
    /// 2031-02-28T00:00. A later start is never due a whole day earlier.
    #[test]
    fn period_addition_is_monotone_to_within_a_clamped_day(
        period in any::<Period>(), a in timestamp(), b in timestamp(),
    ) {
        let (a, b) = if a <= b { (a, b) } else { (b, a) };
        let (due_a, due_b) = (period.after(a).unwrap(), period.after(b).unwrap());
        if period.is_fixed() {
            prop_assert!(due_a <= due_b);
        }
        prop_assert!(due_a - due_b < custodia_core::chrono::TimeDelta::days(1));
    }

    #[test]
    fn record_lines_never_panic(text in "\\PC{0,200}") {
        let _ = RetentionRecord::from_json(&text);
    }
}

#[test]
fn a_clamped_month_keeps_the_time_of_day() {
    let at = |text: &str| text.parse::<custodia_core::Timestamp>().unwrap();
    let months = Period::new(45, 0, 0).unwrap();
    assert_eq!(
        months.after(at("2027-05-28T06:36:39Z")),
        Some(at("2031-02-28T06:36:39Z"))
    );
    assert_eq!(
        months.after(at("2027-05-30T00:00:00Z")),
        Some(at("2031-02-28T00:00:00Z"))
    );
}

#[test]
fn selectors_cover_nested_categories_once() {
    // A rule naming a category and one within it is visited once.
    let rule = Rule {
        name: Arc::from("both"),
        applies_to: Selector {
            categories: vec![
                custodia_core::DataCategory::USER_CONTENT,
                custodia_core::DataCategory::USER_CONTENT_TICKET,
            ],
            ..Selector::default()
        },
        trigger: Trigger::Created,
        keep: Keep::Retain(Period::years(1).unwrap()),
        then: Disposition::Delete,
    };
    let policy = RetentionPolicy::new(vec![rule], vec![], None).unwrap();
    let created = timestamp_at(2020);
    let record = RetentionRecord::new(
        "x",
        custodia_core::TenantId::from_external_key("a", "b"),
        custodia_core::DataCategory::USER_CONTENT_TICKET,
        created,
    );
    let decision = policy.decide(&record);
    assert_eq!(decision.rule.len(), 1);
    assert_eq!(decision.due_at, Some(timestamp_at(2021)));
}

#[test]
fn a_rule_naming_nested_categories_counts_the_deepest_that_covers_the_record() {
    // `wide` names system.operations and system.operations.log; for a log
    // it is as explicit as `narrow`, so among the two deletions the
    // shorter (wide's, 1 year) wins, as the reference resolution says.
    let delete = |name: &str, categories: Vec<custodia_core::DataCategory>, years: u32| Rule {
        name: Arc::from(name),
        applies_to: Selector {
            categories,
            ..Selector::default()
        },
        trigger: Trigger::Created,
        keep: Keep::DeleteAfter(Period::years(years).unwrap()),
        then: Disposition::Delete,
    };
    let policy = RetentionPolicy::new(
        vec![
            delete(
                "wide",
                vec![
                    custodia_core::DataCategory::SYSTEM_OPERATIONS_LOG,
                    custodia_core::DataCategory::SYSTEM_OPERATIONS,
                ],
                1,
            ),
            delete(
                "narrow",
                vec![custodia_core::DataCategory::SYSTEM_OPERATIONS_LOG],
                3,
            ),
        ],
        vec![],
        None,
    )
    .unwrap();
    let record = RetentionRecord::new(
        "x",
        custodia_core::TenantId::from_external_key("a", "b"),
        custodia_core::DataCategory::SYSTEM_OPERATIONS_LOG,
        timestamp_at(2020),
    );
    let decision = policy.decide(&record);
    assert_eq!(decision.rule.iter().next(), Some("wide"));
    assert_eq!(decision.due_at, Some(timestamp_at(2021)));
    assert_eq!(reference(&policy, &record).1, decision.due_at);
    // For a metrics record only its system.operations entry covers it.
    let metrics = RetentionRecord::new(
        "y",
        custodia_core::TenantId::from_external_key("a", "b"),
        custodia_core::DataCategory::SYSTEM_OPERATIONS_METRICS,
        timestamp_at(2020),
    );
    assert_eq!(policy.decide(&metrics).rule.iter().next(), Some("wide"));
}

fn timestamp_at(year: i32) -> Timestamp {
    use chrono::TimeZone;
    chrono::Utc.with_ymd_and_hms(year, 1, 1, 0, 0, 0).unwrap()
}

proptest! {
    /// Record timestamps parse exactly as chrono parses them (the common
    /// `YYYY-MM-DDTHH:MM:SSZ` form takes a fast path).
    #[test]
    fn record_timestamps_parse_like_chrono(s in "[0-9]{4}-[0-3][0-9]-[0-3][0-9]T[0-2][0-9]:[0-6][0-9]:[0-6][0-9](Z|\\.[0-9]{1,3}Z|[+-]0[0-9]:00)") {
        let line = format!(
            r#"{{"id":"x","tenant":"6a1e52c4-0b8e-4a57-9d3f-2c7e8f10c057","category":"user","created":"{s}","events":{{"closed":"{s}"}}}}"#
        );
        let parsed = RetentionRecord::from_json(&line).ok();
        let expected = s.parse::<Timestamp>().ok();
        prop_assert_eq!(parsed.as_ref().map(|r| r.created), expected);
        prop_assert_eq!(parsed.and_then(|r| r.events.get("closed").copied()), expected);
    }
}
