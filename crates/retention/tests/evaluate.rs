//! Evaluation and conflict resolution, case by case (Purview's worked cases
//! included). The invariants are property-tested in `properties.rs`.

use chrono::{TimeZone, Utc};
use custodia_core::{DataCategory, Region, SubjectId, TenantId, Timestamp};
use custodia_retention::{
    Disposition, RetentionAction, RetentionPolicy, RetentionReason, RetentionRecord,
};

fn ymd(y: i32, m: u32, d: u32) -> Timestamp {
    Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
}

fn tenant() -> TenantId {
    TenantId::from_external_key("test", "acme")
}

fn policy(rules: &str) -> RetentionPolicy {
    RetentionPolicy::from_toml(
        &format!("version = 1\nevents = [\"contract_ended\"]\n{rules}"),
        "test.toml",
    )
    .unwrap()
}

fn rule(name: &str, applies_to: &str, trigger: &str, keep: &str, then: &str) -> String {
    let keep = match keep.strip_prefix("delete_after ") {
        Some(p) => format!("delete_after = \"{p}\""),
        None => format!("retain = \"{keep}\""),
    };
    format!(
        "[[rule]]\nname = \"{name}\"\napplies_to = {applies_to}\ntrigger = \"{trigger}\"\n{keep}\nthen = \"{then}\"\n"
    )
}

fn mail(created: Timestamp) -> RetentionRecord {
    RetentionRecord::new("m-1", tenant(), DataCategory::USER_CONTENT_TICKET, created)
}

fn names(decision: &custodia_retention::RetentionDecision<'_>) -> Vec<String> {
    decision.rule.iter().map(str::to_owned).collect()
}

#[test]
fn purview_retention_wins_over_deletion() {
    // A policy deletes at 3 years; a label retains 5 years: deleted at 5 years.
    let p = policy(&format!(
        "{}{}",
        rule("org-delete", "{}", "created", "delete_after 3y", "delete"),
        rule(
            "label-retain",
            "{ labels = { legal = \"yes\" } }",
            "created",
            "5y",
            "archive"
        ),
    ));
    let labelled = mail(ymd(2020, 1, 1)).with_label("legal", "yes");
    let d = p.evaluate(&labelled, ymd(2024, 1, 1));
    assert_eq!(d.action, RetentionAction::Keep);
    assert_eq!(d.scheduled, Some(Disposition::Delete));
    assert_eq!(d.due_at, Some(ymd(2025, 1, 1)));
    assert_eq!(names(&d), ["org-delete", "label-retain"]);
    assert!(matches!(d.reason, RetentionReason::Deferred { from, .. } if from == ymd(2023, 1, 1)));
    assert_eq!(
        p.evaluate(&labelled, ymd(2025, 1, 1)).action,
        RetentionAction::Delete
    );
    // Without the label, the 3-year deletion applies.
    let plain = mail(ymd(2020, 1, 1));
    assert_eq!(
        p.evaluate(&plain, ymd(2023, 1, 1)).action,
        RetentionAction::Delete
    );
}

#[test]
fn purview_longest_retention_wins() {
    let p = policy(&format!(
        "{}{}",
        rule(
            "five",
            "{ category = \"user.content\" }",
            "created",
            "5y",
            "delete"
        ),
        rule(
            "ten",
            "{ category = \"user.content\" }",
            "created",
            "10y",
            "delete"
        ),
    ));
    let d = p.evaluate(&mail(ymd(2020, 1, 1)), ymd(2026, 1, 1));
    assert_eq!(d.due_at, Some(ymd(2030, 1, 1)));
    assert_eq!(d.action, RetentionAction::Keep);
    assert!(d.rule.contains("ten"));
}

#[test]
fn purview_explicit_deletion_beats_org_wide() {
    // Org-wide deletion at 10 years, a tenant-scoped deletion at 5: 5 years.
    let p = policy(&format!(
        "{}{}",
        rule("org", "{}", "created", "delete_after 10y", "delete"),
        rule(
            "acme",
            &format!("{{ tenant = \"{}\" }}", tenant()),
            "created",
            "delete_after 5y",
            "delete"
        ),
    ));
    let d = p.evaluate(&mail(ymd(2020, 1, 1)), ymd(2025, 1, 1));
    assert_eq!(
        (d.action, d.due_at),
        (RetentionAction::Delete, Some(ymd(2025, 1, 1)))
    );
    assert_eq!(names(&d), ["acme"]);
    // Explicit wins even when it is the longer deletion.
    let p = policy(&format!(
        "{}{}",
        rule("org", "{}", "created", "delete_after 5y", "delete"),
        rule(
            "acme",
            &format!("{{ tenant = \"{}\" }}", tenant()),
            "created",
            "delete_after 10y",
            "anonymize"
        ),
    ));
    let d = p.evaluate(&mail(ymd(2020, 1, 1)), ymd(2026, 1, 1));
    assert_eq!(
        (d.scheduled, d.due_at),
        (Some(Disposition::Anonymize), Some(ymd(2030, 1, 1)))
    );
}

#[test]
fn among_equally_explicit_deletions_the_shortest_wins() {
    let p = policy(&format!(
        "{}{}",
        rule(
            "slow",
            "{ category = \"user.content.ticket\" }",
            "created",
            "delete_after 2y",
            "delete"
        ),
        rule(
            "fast",
            "{ category = \"user.content.ticket\" }",
            "created",
            "delete_after 1y",
            "anonymize"
        ),
    ));
    let d = p.evaluate(&mail(ymd(2020, 1, 1)), ymd(2021, 1, 1));
    assert_eq!(d.action, RetentionAction::Anonymize);
    assert_eq!(names(&d), ["fast"]);
}

#[test]
fn a_deeper_category_is_more_explicit() {
    let p = policy(&format!(
        "{}{}",
        rule(
            "user",
            "{ category = \"user\" }",
            "created",
            "delete_after 1y",
            "delete"
        ),
        rule(
            "tickets",
            "{ category = \"user.content.ticket\" }",
            "created",
            "delete_after 2y",
            "delete"
        ),
    ));
    let d = p.evaluate(&mail(ymd(2020, 1, 1)), ymd(2021, 6, 1));
    assert_eq!(d.action, RetentionAction::Keep);
    assert_eq!(names(&d), ["tickets"]);
    let chat = RetentionRecord::new(
        "c",
        tenant(),
        DataCategory::USER_CONTENT_CHAT,
        ymd(2020, 1, 1),
    );
    assert_eq!(names(&p.evaluate(&chat, ymd(2021, 6, 1))), ["user"]);
}

#[test]
fn a_hold_beats_everything_and_names_itself() {
    let subject = SubjectId::from_external_key(tenant(), "crm", "42");
    let p = policy(&format!(
        "{}[[hold]]\nid = \"case-7\"\nreason = \"litigation\"\napplies_to = {{ subject = \"{subject}\" }}\n\
         [[hold]]\nid = \"case-8\"\nreason = \"regulator\"\napplies_to = {{ category = \"user.content\", tenant = \"{}\" }}\n",
        rule("logs", "{}", "created", "1d", "delete"),
        tenant()
    ));
    let held = mail(ymd(2020, 1, 1)).with_subject(subject);
    let d = p.evaluate(&held, ymd(2030, 1, 1));
    assert_eq!((d.action, d.due_at), (RetentionAction::Hold, None));
    assert_eq!(d.held_by, ["case-7", "case-8"]);
    assert_eq!(
        d.reason.to_string(),
        "legal hold case-7 (litigation) and 1 more"
    );
    assert!(d.rule.contains("logs"));
    let other_tenant = RetentionRecord::new(
        "x",
        TenantId::from_external_key("test", "other"),
        DataCategory::USER_CONTENT_TICKET,
        ymd(2020, 1, 1),
    );
    assert_eq!(
        p.evaluate(&other_tenant, ymd(2030, 1, 1)).action,
        RetentionAction::Delete
    );
}

#[test]
fn an_open_ticket_is_kept_with_no_due_date() {
    let p = policy(&rule(
        "closed",
        "{ category = \"user.content.ticket\" }",
        "closed",
        "3y",
        "anonymize",
    ));
    let open = mail(ymd(2020, 1, 1));
    let d = p.evaluate(&open, ymd(2040, 1, 1));
    assert_eq!(
        (d.action, d.due_at, d.scheduled),
        (RetentionAction::Keep, None, None)
    );
    assert!(
        matches!(d.reason, RetentionReason::Waiting { rule: "closed", .. }),
        "{:?}",
        d.reason
    );
    let closed = open.with_event("closed", ymd(2021, 2, 28));
    let d = p.evaluate(&closed, ymd(2024, 2, 27));
    assert_eq!(
        (d.action, d.due_at),
        (RetentionAction::Keep, Some(ymd(2024, 2, 28)))
    );
    assert_eq!(
        d.reason.to_string(),
        "rule closed: retain 3y after closed, then anonymize"
    );
    assert_eq!(
        p.evaluate(&closed, ymd(2024, 2, 28)).action,
        RetentionAction::Anonymize
    );
}

#[test]
fn a_waiting_retention_blocks_an_earlier_deletion() {
    let p = policy(&format!(
        "{}{}",
        rule(
            "terminated",
            "{ category = \"user\" }",
            "account_terminated",
            "30d",
            "delete"
        ),
        rule("logs", "{}", "created", "delete_after 1y", "delete"),
    ));
    let d = p.evaluate(&mail(ymd(2020, 1, 1)), ymd(2030, 1, 1));
    assert_eq!(d.action, RetentionAction::Keep);
    assert_eq!(names(&d), ["terminated"]);
}

#[test]
fn no_rule_means_kept() {
    let p = policy(&rule(
        "logs",
        "{ category = \"system.operations.log\" }",
        "created",
        "7d",
        "delete",
    ));
    let d = p.evaluate(&mail(ymd(2000, 1, 1)), ymd(2030, 1, 1));
    assert_eq!(
        (d.action, d.due_at, d.rule.is_empty()),
        (RetentionAction::Keep, None, true)
    );
    assert_eq!(d.reason, RetentionReason::NoRule);
}

#[test]
fn selectors_match_on_every_dimension() {
    let p = policy(&rule(
        "eu-vip",
        "{ category = [\"user.contact\", \"user.content\"], region = \"EU\", labels = { vip = \"yes\" } }",
        "created",
        "1d",
        "review",
    ));
    let base = mail(ymd(2020, 1, 1));
    let now = ymd(2021, 1, 1);
    assert_eq!(p.evaluate(&base, now).action, RetentionAction::Keep);
    let eu = base.clone().with_region(Region::EU);
    assert_eq!(p.evaluate(&eu, now).action, RetentionAction::Keep);
    assert_eq!(
        p.evaluate(&eu.clone().with_label("vip", "no"), now).action,
        RetentionAction::Keep
    );
    assert_eq!(
        p.evaluate(&eu.clone().with_label("vip", "yes"), now).action,
        RetentionAction::Review
    );
    let us = base
        .clone()
        .with_region(Region::US)
        .with_label("vip", "yes");
    assert_eq!(p.evaluate(&us, now).action, RetentionAction::Keep);
    // A record stored in a member state is stored in the EU (it used to
    // fall outside every `region = "EU"` rule, kept or deleted by another).
    let [de, no] = ["DE", "NO"].map(|c| Region::custom(c).unwrap());
    let german = base.clone().with_region(de).with_label("vip", "yes");
    assert_eq!(p.evaluate(&german, now).action, RetentionAction::Review);
    let norwegian = base.with_region(no).with_label("vip", "yes");
    assert_eq!(p.evaluate(&norwegian, now).action, RetentionAction::Keep);
}

#[test]
fn a_member_state_rule_does_not_cover_the_eu_as_a_whole() {
    let p = policy(&rule(
        "de",
        "{ region = \"DE\" }",
        "created",
        "1d",
        "delete",
    ));
    let now = ymd(2021, 1, 1);
    let record = mail(ymd(2020, 1, 1));
    let de = Region::custom("DE").unwrap();
    assert_eq!(
        p.evaluate(&record.clone().with_region(de), now).action,
        RetentionAction::Delete
    );
    assert_eq!(
        p.evaluate(&record.with_region(Region::EU), now).action,
        RetentionAction::Keep
    );
}

#[test]
fn last_activity_counts_from_creation_until_there_is_activity() {
    let p = policy(&rule("inactive", "{}", "last_activity", "2y", "delete"));
    let r = mail(ymd(2020, 1, 1));
    assert_eq!(
        p.evaluate(&r, ymd(2022, 1, 1)).action,
        RetentionAction::Delete
    );
    let active = r.with_event("last_activity", ymd(2021, 6, 1));
    assert_eq!(
        p.evaluate(&active, ymd(2022, 1, 1)).action,
        RetentionAction::Keep
    );
    assert_eq!(
        p.evaluate(&active, ymd(2022, 1, 1)).due_at,
        Some(ymd(2023, 6, 1))
    );
}

#[test]
fn custom_events_trigger_rules() {
    let p = policy(&rule("contracts", "{}", "contract_ended", "P6Y", "delete"));
    let r = mail(ymd(2020, 1, 1)).with_event("contract_ended", ymd(2020, 2, 29));
    assert_eq!(
        p.evaluate(&r, ymd(2021, 1, 1)).due_at,
        Some(ymd(2026, 2, 28))
    );
}

#[test]
fn without_a_deletion_the_longest_retention_disposes() {
    let p = policy(&format!(
        "{}{}",
        rule("review", "{}", "created", "1y", "review"),
        rule("archive", "{}", "created", "2y", "archive"),
    ));
    let d = p.evaluate(&mail(ymd(2020, 1, 1)), ymd(2022, 1, 1));
    assert_eq!(
        (d.action, d.due_at),
        (RetentionAction::Archive, Some(ymd(2022, 1, 1)))
    );
}

#[test]
fn due_dates_beyond_the_calendar_keep_the_record() {
    let p = policy(&rule("forever", "{}", "created", "10000y", "delete"));
    let r = RetentionRecord::new(
        "x",
        tenant(),
        DataCategory::USER,
        Utc.with_ymd_and_hms(260_000, 1, 1, 0, 0, 0).unwrap(),
    );
    let d = p.evaluate(&r, ymd(2030, 1, 1));
    assert_eq!((d.action, d.due_at), (RetentionAction::Keep, None));
    assert!(matches!(d.reason, RetentionReason::Unbounded { .. }));
}

#[test]
fn backup_horizon() {
    let p = RetentionPolicy::from_toml(
        "version = 1\n[backups]\nevery = \"1d\"\nkeep = \"30d\"\nanchor = \"2026-01-01T02:00:00Z\"\n",
        "b.toml",
    )
    .unwrap();
    let deleted = Utc.with_ymd_and_hms(2026, 3, 10, 14, 0, 0).unwrap();
    // The last backup holding it ran at 02:00 that day and is kept 30 days.
    assert_eq!(
        p.erasure_complete(deleted),
        Some(Utc.with_ymd_and_hms(2026, 4, 9, 2, 0, 0).unwrap())
    );
    // Deleted exactly at a backup: that backup may hold it.
    let at_backup = Utc.with_ymd_and_hms(2026, 3, 10, 2, 0, 0).unwrap();
    assert_eq!(
        p.erasure_complete(at_backup),
        Some(Utc.with_ymd_and_hms(2026, 4, 9, 2, 0, 0).unwrap())
    );
    // Before the anchor, the schedule extends backwards.
    let early = Utc.with_ymd_and_hms(2025, 12, 31, 1, 0, 0).unwrap();
    assert_eq!(
        p.erasure_complete(early),
        Some(Utc.with_ymd_and_hms(2026, 1, 29, 2, 0, 0).unwrap())
    );

    // Without an anchor: conservatively, a backup at the deletion instant.
    let zoho = RetentionPolicy::from_toml(
        "version = 1\n[backups]\nevery = \"1d\"\nkeep = \"3mo\"\n",
        "z.toml",
    )
    .unwrap();
    assert_eq!(
        zoho.erasure_complete(ymd(2026, 11, 30)),
        Some(ymd(2027, 2, 28))
    );
    // Without backups, erasure is complete at deletion.
    let none = RetentionPolicy::from_toml("version = 1\n", "n.toml").unwrap();
    assert_eq!(
        none.erasure_complete(ymd(2026, 1, 1)),
        Some(ymd(2026, 1, 1))
    );
}
