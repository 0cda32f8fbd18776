//! Erasure against a real `custodia-retention` policy: legal holds and
//! unexpired retentions keep records (with the Art. 17(3) exception, the
//! reason and the end date), everything else is erased, and the certificate's
//! backup horizon is the policy's backup schedule.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use custodia_core::{
    ActorId, Clock, DataCategory, LegalBasis, ManualClock, Region, Role, SubjectId, TenantId,
    Timestamp,
};
use custodia_dsr::KeptRecord;
use custodia_dsr::article_tag;
use custodia_dsr::*;
use custodia_retention::{BackupSchedule, HoldScope, Period, RetentionPolicy};
use proptest::prelude::*;

/// The helpdesk's promises: invoices kept ten years (tax law), chat logs a
/// year, everything deleted 30 days after the account ends, a litigation
/// hold on one ticket, daily backups kept three months.
const POLICY: &str = r#"
version = 1

[[rule]]
name = "invoices"
applies_to = { category = "user.financial.billing" }
trigger = "created"
retain = "10y"
then = "delete"

[[rule]]
name = "chat-logs"
applies_to = { category = "user.content.chat" }
trigger = "created"
retain = "1y"
then = "delete"

[[rule]]
name = "terminated-accounts"
applies_to = { category = "user" }
trigger = "account_terminated"
delete_after = "30d"
then = "delete"

[[hold]]
id = "case-2026-17"
reason = "litigation"
applies_to = { records = "T-9" }

[backups]
every = "1d"
keep = "3mo"
anchor = "2026-01-01T02:00:00Z"
"#;

fn at(y: i32, m: u32, d: u32, h: u32) -> Timestamp {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
}

struct World {
    clock: Arc<ManualClock>,
    tenant: TenantId,
    alice: SubjectId,
    dpo: ActorId,
    contacts: Arc<MemorySource>,
    tickets: Arc<MemorySource>,
    invoices: Arc<MemorySource>,
    chats: Arc<MemorySource>,
}

fn world() -> World {
    let tenant = TenantId::from_external_key("billing.account", "ACME-0042");
    let alice = SubjectId::from_external_key(tenant, "psa.contact", "1017");
    let clock = Arc::new(ManualClock::new(at(2026, 3, 2, 9)));

    let contacts = Arc::new(MemorySource::new("contacts"));
    let contact = RecordRef::new("contact", "C-1");
    contacts.insert(
        tenant,
        alice,
        contact.clone(),
        LegalBasis::Contract,
        [(
            "email",
            DataCategory::USER_CONTACT_EMAIL,
            "alice@example.com",
            true,
        )],
    );
    // Terminated ten days ago: the 30-day deletion is not due yet, but it is
    // a deletion only, so the erasure request goes first.
    contacts.set_meta(
        tenant,
        &contact,
        RecordMeta::default()
            .created_at(at(2024, 5, 1, 0))
            .event("account_terminated", at(2026, 2, 20, 0)),
    );

    let tickets = Arc::new(MemorySource::new("tickets"));
    for id in ["T-1", "T-9"] {
        tickets.insert(
            tenant,
            alice,
            RecordRef::new("ticket", id),
            LegalBasis::Contract,
            [(
                "description",
                DataCategory::USER_CONTENT_TICKET,
                "Printer on fire",
                true,
            )],
        );
        tickets.set_meta(
            tenant,
            &RecordRef::new("ticket", id),
            RecordMeta::default().created_at(at(2025, 11, 3, 10)),
        );
    }

    let invoices = Arc::new(MemorySource::new("invoices"));
    let invoice = RecordRef::new("invoice", "INV-7");
    invoices.insert(
        tenant,
        alice,
        invoice.clone(),
        LegalBasis::LegalObligation,
        [(
            "billing_name",
            DataCategory::USER_NAME,
            "Alice Example",
            true,
        )],
    );
    invoices.set_meta(
        tenant,
        &invoice,
        RecordMeta::default()
            .category(DataCategory::USER_FINANCIAL_BILLING)
            .created_at(at(2025, 6, 1, 0))
            .region(Region::EU),
    );

    // A chat from 2024: its one-year retention has expired.
    let chats = Arc::new(MemorySource::new("chats"));
    let chat = RecordRef::new("chat", "CH-1");
    chats.insert(
        tenant,
        alice,
        chat.clone(),
        LegalBasis::Contract,
        [(
            "transcript",
            DataCategory::USER_CONTENT_CHAT,
            "Hello, my printer...",
            true,
        )],
    );
    chats.set_meta(
        tenant,
        &chat,
        RecordMeta::default().created_at(at(2024, 1, 15, 0)),
    );

    World {
        clock,
        tenant,
        alice,
        dpo: ActorId::from_external_key(tenant, "psa.user", "dpo"),
        contacts,
        tickets,
        invoices,
        chats,
    }
}

fn desk(w: &World, retention: PolicyRetention) -> Result<Desk, Error> {
    let retention = Arc::new(retention);
    Ok(Desk::new(w.clock.clone(), Arc::new(MemorySink::new()))
        .with_source(w.contacts.clone())?
        .with_source(w.tickets.clone())?
        .with_source(w.invoices.clone())?
        .with_source(w.chats.clone())?
        .with_retention(retention.clone())
        .with_backup_horizon(retention))
}

fn erase(w: &World, retention: PolicyRetention) -> ErasureCertificate {
    let desk = desk(w, retention).unwrap();
    let mut request = desk
        .receive(
            w.tenant,
            w.alice,
            RequestKind::Erasure,
            Role::Controller,
            w.dpo,
        )
        .unwrap();
    desk.verify(
        &mut request,
        VerificationMethod::AuthenticatedSession,
        "",
        w.dpo,
    )
    .unwrap();
    let certificate = desk.erase(&mut request, w.dpo).unwrap();
    assert_eq!(request.state, RequestState::Completed);
    certificate
}

fn kept<'c>(certificate: &'c ErasureCertificate, id: &str) -> &'c KeptRecord {
    certificate
        .kept
        .iter()
        .find(|k| k.record.id == id)
        .unwrap_or_else(|| panic!("{id} not kept: {:?}", certificate.kept))
}

#[test]
fn holds_and_unexpired_retentions_are_kept_the_rest_erased() {
    let w = world();
    let policy = Arc::new(RetentionPolicy::from_toml(POLICY, "helpdesk.toml").unwrap());
    let certificate = erase(&w, PolicyRetention::new(policy.clone(), w.clock.clone()));

    // Exactly the held ticket and the invoice are kept.
    let mut kept_ids: Vec<_> = certificate.kept.iter().map(|k| &*k.record.id).collect();
    kept_ids.sort_unstable();
    assert_eq!(kept_ids, ["INV-7", "T-9"]);

    let ticket = kept(&certificate, "T-9");
    assert_eq!(ticket.source, "tickets");
    assert_eq!(ticket.exception, ErasureException::LegalClaims);
    assert_eq!(ticket.until, None);
    assert!(ticket.reason.contains("case-2026-17"), "{}", ticket.reason);
    assert!(ticket.reason.contains("litigation"), "{}", ticket.reason);
    assert!(
        ticket.reason.ends_with("until the hold is released"),
        "{}",
        ticket.reason
    );

    let invoice = kept(&certificate, "INV-7");
    assert_eq!(invoice.source, "invoices");
    assert_eq!(invoice.exception, ErasureException::LegalObligation);
    // Created 1 June 2025, retained ten years.
    assert_eq!(invoice.until, Some(at(2035, 6, 1, 0)));
    assert!(
        invoice.reason.contains("rule invoices"),
        "{}",
        invoice.reason
    );
    assert!(invoice.reason.contains("10y"), "{}", invoice.reason);

    // Everything else is erased, and gone from the stores.
    let mut erased_ids: Vec<_> = certificate.erased.iter().map(|e| &*e.record.id).collect();
    erased_ids.sort_unstable();
    assert_eq!(erased_ids, ["C-1", "CH-1", "T-1"]);
    assert!(w.contacts.is_empty());
    assert!(w.chats.is_empty());
    assert_eq!(w.tickets.len(), 1);
    assert!(
        w.tickets
            .get(w.tenant, &RecordRef::new("ticket", "T-9"))
            .is_some()
    );
    assert_eq!(w.invoices.len(), 1);

    // The backup horizon is the schedule's for the erasure time: the last
    // daily backup before 09:00 on 2 March ran at 02:00, and is kept 3 months.
    let schedule = policy.backups().unwrap();
    assert_eq!(
        certificate.backups_clear_by,
        schedule.horizon(w.clock.now())
    );
    assert_eq!(certificate.backups_clear_by, Some(at(2026, 6, 2, 2)));

    // The certificate says all of it, and reads back.
    let md = certificate.to_markdown();
    assert!(md.contains("until the hold is released"), "{md}");
    assert!(md.contains("2035-06-01"), "{md}");
    assert!(
        md.contains("Art. 17(3)(e)") && md.contains("Art. 17(3)(b)"),
        "{md}"
    );
    assert!(md.contains("2026-06-02T02:00:00"), "{md}");
    assert_eq!(
        ErasureCertificate::from_json(&certificate.to_json().unwrap()).unwrap(),
        certificate
    );
}

#[test]
fn once_the_hold_is_released_and_the_retention_expired_all_is_erased() {
    let w = world();
    // The same promises, without the hold, ten years later.
    let text = POLICY.replace(
        "[[hold]]\nid = \"case-2026-17\"\nreason = \"litigation\"\napplies_to = { records = \"T-9\" }\n",
        "",
    );
    assert_ne!(text, POLICY);
    let policy = Arc::new(RetentionPolicy::from_toml(&text, "helpdesk.toml").unwrap());
    w.clock.set(at(2035, 6, 1, 0));
    let certificate = erase(&w, PolicyRetention::new(policy, w.clock.clone()));
    assert!(certificate.kept.is_empty(), "{:?}", certificate.kept);
    assert_eq!(certificate.erased.len(), 5);
    assert!(w.invoices.is_empty() && w.tickets.is_empty());
}

#[test]
fn retention_beats_a_later_deletion_and_an_open_trigger_keeps_without_end() {
    let w = world();
    let policy = Arc::new(
        RetentionPolicy::from_toml(
            r#"
            version = 1
            [[rule]]
            name = "tickets-after-close"
            applies_to = { category = "user.content.ticket" }
            trigger = "closed"
            retain = "2y"
            then = "anonymize"

            [[rule]]
            name = "contact-retention"
            applies_to = { category = "user.contact", labels = { record_type = "contact" } }
            trigger = "created"
            retain = "3y"
            then = "archive"

            [[rule]]
            name = "contact-cleanup"
            applies_to = { category = "user.contact" }
            trigger = "created"
            delete_after = "5y"
            then = "delete"
            "#,
            "p.toml",
        )
        .unwrap(),
    );
    let check = PolicyRetention::new(policy, w.clock.clone());
    let now = w.clock.now();

    // Contact: retained 3y from creation (May 2024), though the deletion
    // that decides its disposition is at 5y.
    let contact = w.contacts.locate(w.tenant, w.alice).unwrap();
    let hold = check
        .hold_at(w.tenant, w.alice, "contacts", &contact[0], now)
        .unwrap();
    assert_eq!(hold.until, Some(at(2027, 5, 1, 0)));
    assert!(hold.reason.contains("contact-retention"), "{}", hold.reason);
    // The label `record_type` is the desk's: another record type is not retained.
    let mut other = contact[0].clone();
    other.record.record_type = "lead".into();
    assert_eq!(
        check.hold_at(w.tenant, w.alice, "contacts", &other, now),
        None
    );

    // Tickets not closed yet: kept with no end date, and the reason says why.
    let tickets = w.tickets.locate(w.tenant, w.alice).unwrap();
    let hold = check
        .hold_at(w.tenant, w.alice, "tickets", &tickets[0], now)
        .unwrap();
    assert_eq!(
        (hold.exception, hold.until),
        (ErasureException::LegalObligation, None)
    );
    assert!(
        hold.reason.contains("has not happened yet"),
        "{}",
        hold.reason
    );

    // Closed in January 2024: the two years ran out in January 2026.
    let mut closed = tickets[0].clone();
    closed.meta = closed.meta.event("closed", at(2024, 1, 10, 0));
    assert_eq!(
        check.hold_at(w.tenant, w.alice, "tickets", &closed, now),
        None
    );
}

#[test]
fn without_a_record_category_each_field_is_asked_and_unknown_creation_is_counted_from_now() {
    let w = world();
    let policy = Arc::new(RetentionPolicy::from_toml(POLICY, "helpdesk.toml").unwrap());
    let check = PolicyRetention::new(policy, w.clock.clone());
    let now = w.clock.now();
    let mut invoice = w.invoices.locate(w.tenant, w.alice).unwrap().remove(0);
    invoice.meta.category = None;
    // Only a name field: no billing rule applies.
    assert_eq!(
        check.hold_at(w.tenant, w.alice, "invoices", &invoice, now),
        None
    );
    // A billing field on the record: kept, ten years from its creation.
    invoice.fields.push(custodia_dsr::FieldInfo {
        name: "amount".into(),
        category: DataCategory::USER_FINANCIAL_BILLING,
        provided_by_subject: false,
    });
    let hold = check
        .hold_at(w.tenant, w.alice, "invoices", &invoice, now)
        .unwrap();
    assert_eq!(hold.until, Some(at(2035, 6, 1, 0)));
    // Creation unknown: counted from the erasure, and said so.
    invoice.meta.created_at = None;
    let hold = check
        .hold_at(w.tenant, w.alice, "invoices", &invoice, now)
        .unwrap();
    assert_eq!(hold.until, Some(at(2036, 3, 2, 9)));
    assert!(
        hold.reason.contains("creation time not reported"),
        "{}",
        hold.reason
    );
}

#[test]
fn the_exception_comes_from_the_host_a_tag_or_the_default() {
    let w = world();
    let policy = RetentionPolicy::from_toml(POLICY, "helpdesk.toml")
        .unwrap()
        .with_hold(custodia_retention::LegalHold {
            id: "dpa-inquiry".into(),
            reason: "supervisory authority request, 17(3)(b)".into(),
            applies_to: HoldScope {
                records: vec!["C-1".into()],
                ..HoldScope::default()
            },
        })
        .unwrap();
    let policy = Arc::new(policy);
    let now = w.clock.now();
    let contact = w.contacts.locate(w.tenant, w.alice).unwrap().remove(0);
    let invoice = w.invoices.locate(w.tenant, w.alice).unwrap().remove(0);

    let check = PolicyRetention::new(policy.clone(), w.clock.clone());
    let tagged = check
        .hold_at(w.tenant, w.alice, "contacts", &contact, now)
        .unwrap();
    assert_eq!(tagged.exception, ErasureException::LegalObligation);
    assert!(tagged.reason.contains("dpa-inquiry"), "{}", tagged.reason);

    let check = PolicyRetention::new(policy, w.clock.clone())
        .exception("dpa-inquiry", ErasureException::PublicHealth)
        .exception("invoices", ErasureException::ArchivingOrResearch);
    assert_eq!(
        check
            .hold_at(w.tenant, w.alice, "contacts", &contact, now)
            .unwrap()
            .exception,
        ErasureException::PublicHealth
    );
    assert_eq!(
        check
            .hold_at(w.tenant, w.alice, "invoices", &invoice, now)
            .unwrap()
            .exception,
        ErasureException::ArchivingOrResearch
    );

    // A tag in the rule's name.
    let tagged_rule = RetentionPolicy::from_toml(
        &POLICY.replace("name = \"invoices\"", "name = \"invoices-17(3)(d)\""),
        "p.toml",
    )
    .unwrap();
    let check = PolicyRetention::new(Arc::new(tagged_rule), w.clock.clone());
    assert_eq!(
        check
            .hold_at(w.tenant, w.alice, "invoices", &invoice, now)
            .unwrap()
            .exception,
        ErasureException::ArchivingOrResearch
    );

    assert_eq!(
        article_tag("see 17(3)(x) and 17(3)(c)"),
        Some(ErasureException::PublicHealth)
    );
    assert_eq!(article_tag("17(3)(a"), None);
}

#[test]
fn backup_horizon_from_a_schedule_or_unknown_without_one() {
    let tenant = TenantId::from_external_key("crm", "acme");
    let clock = Arc::new(ManualClock::new(at(2026, 1, 31, 12)));
    let schedule = BackupSchedule {
        every: Period::new(0, 1, 0).unwrap(),
        keep: Period::new(1, 0, 0).unwrap(),
        anchor: None,
    };
    // No anchor: a backup may have run at the erasure itself; a month later
    // (31 January + 1 month = 28 February, the month's last day).
    assert_eq!(
        schedule.clear_by(tenant, at(2026, 1, 31, 12)),
        Some(at(2026, 2, 28, 12))
    );
    let policy = RetentionPolicy::from_toml("version = 1\n", "empty.toml").unwrap();
    let check = PolicyRetention::new(Arc::new(policy), clock);
    assert_eq!(check.clear_by(tenant, at(2026, 1, 31, 12)), None);
}

fn personal_category() -> impl Strategy<Value = DataCategory> {
    custodia_retention::arbitrary::category()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Whatever the rules, a record under a legal hold survives the erasure
    /// and is listed as kept for legal claims with no end date.
    #[test]
    fn a_held_record_is_never_erased(
        policy in custodia_retention::arbitrary::policy_with(8, 1),
        by_subject in any::<bool>(),
        held_category in personal_category(),
        record_category in proptest::option::of(personal_category()),
        others in proptest::collection::vec(personal_category(), 0..4),
        created in custodia_retention::arbitrary::timestamp(),
        events in proptest::collection::btree_map(
            proptest::sample::select(custodia_retention::arbitrary::EVENTS[1..].to_vec()),
            custodia_retention::arbitrary::timestamp(),
            0..=3,
        ),
        now in custodia_retention::arbitrary::timestamp(),
    ) {
        let tenant = TenantId::from_external_key("proptest", "0");
        let alice = SubjectId::from_external_key(tenant, "proptest", "alice");
        let scope = if by_subject {
            HoldScope { subjects: vec![alice], ..HoldScope::default() }
        } else {
            HoldScope { records: vec!["held".into()], ..HoldScope::default() }
        };
        let policy = policy.with_hold(custodia_retention::LegalHold {
            id: "case-held".into(),
            reason: "litigation".into(),
            applies_to: scope,
        }).unwrap();

        let clock = Arc::new(ManualClock::new(now));
        let source = Arc::new(MemorySource::new("store"));
        let held = RecordRef::new("ticket", "held");
        source.insert(tenant, alice, held.clone(), LegalBasis::Contract,
            [("body", held_category, "kept text", true)]);
        let mut meta = RecordMeta {
            events: events.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            ..RecordMeta::default()
        }.created_at(created);
        meta.category = record_category;
        source.set_meta(tenant, &held, meta);
        for (i, category) in others.into_iter().enumerate() {
            source.insert(tenant, alice, RecordRef::new("ticket", format!("other-{i}")),
                LegalBasis::Contract, [("body", category, "text", true)]);
        }

        let retention = Arc::new(PolicyRetention::new(Arc::new(policy), clock.clone()));
        let desk = Desk::new(clock, Arc::new(MemorySink::new()))
            .with_source(source.clone()).unwrap()
            .with_retention(retention.clone())
            .with_backup_horizon(retention);
        let dpo = ActorId::from_external_key(tenant, "agent", "dpo");
        let mut request = desk.receive(tenant, alice, RequestKind::Erasure, Role::Controller, dpo).unwrap();
        desk.verify(&mut request, VerificationMethod::AuthenticatedSession, "", dpo).unwrap();
        let certificate = desk.erase(&mut request, dpo).unwrap();

        let stored = source.get(tenant, &held);
        prop_assert!(stored.is_some());
        prop_assert_eq!(&stored.unwrap().fields[0].value, "kept text");
        prop_assert!(!certificate.erased.iter().any(|e| e.record == held));
        let kept = certificate.kept.iter().find(|k| k.record == held);
        prop_assert!(kept.is_some());
        let kept = kept.unwrap();
        prop_assert_eq!(kept.exception, ErasureException::LegalClaims);
        prop_assert_eq!(kept.until, None);
        // The first hold covering it is named (the policy may hold it twice).
        prop_assert!(kept.reason.starts_with("legal hold "), "{}", kept.reason);
        prop_assert!(kept.reason.ends_with("until the hold is released"), "{}", kept.reason);
    }
}

proptest! {
    /// Located records carry their metadata through JSON, and a located
    /// record written before the metadata existed reads with none.
    #[test]
    fn located_metadata_round_trips(meta in any::<RecordMeta>()) {
        let located = custodia_dsr::Located {
            record: RecordRef::new("ticket", "T-1"),
            fields: Vec::new(),
            legal_basis: LegalBasis::Contract,
            meta,
        };
        let json = serde_json::to_string(&located).unwrap();
        let back: custodia_dsr::Located = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&back, &located);
        let mut old: serde_json::Value = serde_json::from_str(&json).unwrap();
        old.as_object_mut().unwrap().remove("meta");
        let old: custodia_dsr::Located = serde_json::from_value(old).unwrap();
        prop_assert_eq!(old.meta, RecordMeta::default());
    }
}
