//! Sweeps: the dry-run report, already-done records, holds, cursors and order.

use chrono::{TimeZone, Utc};
use custodia_core::{DataCategory, TenantId, Timestamp};
use custodia_retention::{
    Cursor, Disposition, Error, HeldItem, HoldScope, LegalHold, RetentionPolicy, RetentionRecord,
    Sweep,
};

fn ymd(y: i32, m: u32, d: u32) -> Timestamp {
    Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
}

fn policy() -> RetentionPolicy {
    RetentionPolicy::from_toml(
        r#"
        version = 1
        [[rule]]
        name = "logs"
        applies_to = { category = "system.operations.log" }
        trigger = "created"
        retain = "7d"
        then = "delete"
        [[rule]]
        name = "tickets"
        applies_to = { category = "user.content.ticket" }
        trigger = "closed"
        retain = "1y"
        then = "anonymize"
        [[hold]]
        id = "case-1"
        reason = "litigation"
        applies_to = { records = ["t-3"] }
        "#,
        "sweep.toml",
    )
    .unwrap()
}

fn records() -> Vec<RetentionRecord> {
    let tenant = TenantId::from_external_key("test", "acme");
    let log = |id: &str, created| {
        RetentionRecord::new(id, tenant, DataCategory::SYSTEM_OPERATIONS_LOG, created)
    };
    let ticket = |id: &str, closed| {
        RetentionRecord::new(
            id,
            tenant,
            DataCategory::USER_CONTENT_TICKET,
            ymd(2024, 1, 1),
        )
        .with_event("closed", closed)
    };
    vec![
        log("l-1", ymd(2026, 1, 1)),
        log("l-2", ymd(2026, 1, 30)),
        ticket("t-1", ymd(2024, 6, 1)),
        ticket("t-2", ymd(2024, 6, 1)).with_event("anonymized", ymd(2025, 6, 2)),
        ticket("t-3", ymd(2024, 6, 1)),
        ticket("t-4", ymd(2025, 6, 1)),
    ]
}

#[test]
fn plans_what_is_due_and_reports_it() {
    let policy = policy();
    let plan = Sweep::new(&policy, ymd(2026, 2, 1))
        .plan(records())
        .unwrap();
    let due: Vec<(&str, Disposition)> = plan
        .items
        .iter()
        .map(|i| (i.id.as_str(), i.action))
        .collect();
    assert_eq!(
        due,
        [
            ("l-1", Disposition::Delete),
            ("t-1", Disposition::Anonymize)
        ]
    );
    assert_eq!(
        (plan.examined, plan.held, plan.already_done, plan.kept),
        (6, 1, 1, 2)
    );
    assert_eq!(plan.items[1].rules, ["tickets"]);
    assert_eq!(plan.items[1].due_at, ymd(2025, 6, 1));
    let report = plan.to_string();
    assert!(report.starts_with("examined 6 records: delete 1, anonymize 1, archive 0, review 0, held 1, kept 2, already done 1, skipped 0\n"), "{report}");
    assert!(
        report.contains("  delete    l-1 (due 2026-01-08T00:00:00Z; rule logs)"),
        "{report}"
    );
    assert!(report.ends_with("complete\n"), "{report}");
}

/// A held record past its period is listed with the hold that keeps it and
/// the hold's reason, so the report says why it outlived its period; one
/// held but not yet due is only counted. Without the hold it is planned.
#[test]
fn a_held_record_that_is_due_is_reported_as_withheld_with_the_holds_reason() {
    let policy = policy()
        .with_hold(LegalHold {
            id: "restriction".into(),
            reason: "restriction of processing".into(),
            applies_to: HoldScope {
                records: vec!["t-4".into()],
                ..HoldScope::default()
            },
        })
        .unwrap();
    let plan = Sweep::new(&policy, ymd(2026, 2, 1))
        .plan(records())
        .unwrap();
    assert_eq!(plan.held, 2);
    assert_eq!(
        plan.withheld,
        [HeldItem {
            id: "t-3".into(),
            action: Disposition::Anonymize,
            due_at: ymd(2025, 6, 1),
            rules: vec!["tickets".into()],
            holds: vec!["case-1".into()],
            reason: "legal hold case-1 (litigation)".into(),
        }]
    );
    assert!(plan.items.iter().all(|i| i.id != "t-3"));
    let report = plan.to_string();
    assert!(
        report.contains(
            "  held      t-3 (anonymize due 2025-06-01T00:00:00Z; rule tickets; kept by legal hold case-1 (litigation))\n"
        ),
        "{report}"
    );
    // Past its own due date, the restricted record is withheld too.
    let later = Sweep::new(&policy, ymd(2026, 6, 1))
        .plan(records())
        .unwrap();
    let t4 = later.withheld.iter().find(|i| i.id == "t-4").unwrap();
    assert_eq!(
        (t4.holds.as_slice(), t4.reason.as_str()),
        (
            &["restriction".to_owned()][..],
            "legal hold restriction (restriction of processing)"
        )
    );

    let lifted = RetentionPolicy::new(policy.rules().to_vec(), Vec::new(), None).unwrap();
    let plan = Sweep::new(&lifted, ymd(2026, 2, 1))
        .plan(records())
        .unwrap();
    assert!(plan.withheld.is_empty() && plan.held == 0);
    assert!(
        plan.items
            .iter()
            .any(|i| i.id == "t-3" && i.action == Disposition::Anonymize)
    );
}

/// Found in review (nineteenth session): a plan is a snapshot. A hold added
/// between planning and carrying the plan out is not in it, and a host that
/// works through `plan.items` would anonymize a record a court has just
/// frozen. `RetentionPolicy::still_due` re-checks one item against the
/// current policy and the record as it is now, right before the change.
#[test]
fn a_planned_item_is_rechecked_against_the_current_policy_and_record() {
    let policy = policy();
    let now = ymd(2026, 2, 1);
    let records = records();
    let plan = Sweep::new(&policy, now).plan(&records).unwrap();
    let item = plan.items.iter().find(|i| i.id == "t-1").unwrap();
    let t1 = records.iter().find(|r| r.id == "t-1").unwrap();
    assert!(policy.still_due(item, t1, now));

    // A hold added after planning: the plan still lists t-1, the re-check
    // keeps it.
    let held = policy
        .with_hold(LegalHold {
            id: "case-2".into(),
            reason: "subpoena".into(),
            applies_to: HoldScope {
                records: vec!["t-1".into()],
                ..HoldScope::default()
            },
        })
        .unwrap();
    assert!(!held.still_due(item, t1, now));
    // So does one over the record's subject, which it gained since.
    let subject = custodia_core::SubjectId::random();
    let by_subject = policy
        .with_hold(LegalHold {
            id: "case-3".into(),
            reason: "subpoena".into(),
            applies_to: HoldScope {
                subjects: vec![subject],
                ..HoldScope::default()
            },
        })
        .unwrap();
    assert!(by_subject.still_due(item, t1, now));
    assert!(!by_subject.still_due(item, &t1.clone().with_subject(subject), now));

    // Carried out meanwhile (another process's sweep): already done.
    let done = t1.clone().with_event("anonymized", now);
    assert!(!policy.still_due(item, &done, now));
    // Closed again since (reopened, then closed): its period starts over.
    let reclosed = t1.clone().with_event("closed", ymd(2025, 12, 1));
    assert!(!policy.still_due(item, &reclosed, now));

    // The rules changed: the record is now due for deletion, not for the
    // anonymization the item says.
    let mut rules = policy.rules().to_vec();
    for rule in &mut rules {
        if &*rule.name == "tickets" {
            rule.then = Disposition::Delete;
        }
    }
    let stricter = RetentionPolicy::new(rules, policy.holds().to_vec(), None).unwrap();
    assert!(!stricter.still_due(item, t1, now));

    // Another record is not this item's, even when it is due the same way.
    let mut other = t1.clone();
    other.id = "t-9".into();
    assert!(!policy.still_due(item, &other, now));
}

#[test]
fn a_cursor_resumes_after_the_last_record() {
    let policy = policy();
    let first = Sweep::new(&policy, ymd(2026, 2, 1))
        .limit(2)
        .plan(records())
        .unwrap();
    assert_eq!(first.examined, 2);
    let cursor = first.next.clone().unwrap();
    assert_eq!(
        cursor,
        Cursor {
            after: "l-2".into(),
            examined: 2
        }
    );
    assert!(first.to_string().contains("stopped after \"l-2\""));
    let rest = Sweep::new(&policy, ymd(2026, 2, 1))
        .resume(cursor)
        .plan(records())
        .unwrap();
    assert_eq!((rest.skipped, rest.examined), (2, 4));
    assert!(rest.is_complete());
    // A cursor survives a restart as JSON.
    let json = serde_json::to_string(&first.next).unwrap();
    assert_eq!(json, r#"{"after":"l-2","examined":2}"#);
}

#[test]
fn records_out_of_order_are_refused() {
    let policy = policy();
    let mut input = records();
    input.swap(0, 1);
    let err = Sweep::new(&policy, ymd(2026, 2, 1))
        .plan(input)
        .unwrap_err();
    assert_eq!(
        err,
        Error::SweepOrder {
            previous: "l-2".into(),
            next: "l-1".into()
        }
    );
}

#[test]
fn time_comes_from_a_clock() {
    let policy = policy();
    let clock = custodia_core::ManualClock::new(ymd(2026, 1, 7));
    let log = &records()[0];
    assert!(!policy.evaluate_now(log, &clock).is_due());
    assert!(
        Sweep::with_clock(&policy, &clock)
            .plan(records())
            .unwrap()
            .items
            .iter()
            .all(|i| i.id != "l-1")
    );
    clock.set(ymd(2026, 1, 8));
    assert!(policy.evaluate_now(log, &clock).is_due());
    assert_eq!(
        Sweep::with_clock(&policy, &clock)
            .plan(records())
            .unwrap()
            .items[0]
            .id,
        "l-1"
    );
}
