//! The data directory: create, reopen, audit, checkpoint, desk, sweep.

use custodia_audit::{Action, Actor, ActorKind, Query, Target};
use custodia_core::chrono::TimeDelta;
use custodia_dsr::{RequestKind, SubjectKeyStatus};
use custodia_example_helpdesk::demo::{self, Cast};
use custodia_example_helpdesk::{Error, Helpdesk, helpdesk_subject};

mod common;

use common::{clock, new_ticket, run_request, verified};

#[test]
fn open_refuses_a_directory_without_a_helpdesk() {
    let dir = tempfile::tempdir().unwrap();
    let e = Helpdesk::open(dir.path(), clock()).unwrap_err();
    assert!(
        matches!(e, Error::NotADataDir(ref p) if p == dir.path()),
        "{e}"
    );
    assert!(e.to_string().contains("--data DIR"));
}

#[test]
fn a_reopened_directory_reads_what_the_first_process_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let c = Cast::new();
    let size = {
        let hd = demo::seed(dir.path(), clock()).unwrap();
        hd.verify_log().unwrap().head.size
    };
    // Six ticket creations and one sign-in.
    assert_eq!(size, 7);
    let hd = Helpdesk::open(dir.path(), clock()).unwrap();
    assert_eq!(hd.verify_log().unwrap().head.size, size);
    // Same tenant keys: the blind index finds her, her fields open.
    assert_eq!(
        hd.tickets()
            .subjects_by_email(c.acme, "alice.ng@EXAMPLE.com")
            .unwrap(),
        [c.alice]
    );
    let row = hd.tickets().row("T-1002").unwrap().unwrap();
    assert_eq!(
        hd.tickets().open_field(&row, "phone").unwrap().as_deref(),
        Some(demo::ALICE_PHONE)
    );
    // The policy file in the directory is the one in use.
    assert!(hd.policy().backups().is_some());
    assert_eq!(
        std::fs::read_to_string(hd.layout().policy()).unwrap(),
        custodia_example_helpdesk::DEFAULT_POLICY
    );
}

#[cfg(unix)]
#[test]
fn open_refuses_a_checkpoint_key_others_can_read() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    drop(Helpdesk::create(dir.path(), clock()).unwrap());
    let key = dir.path().join("checkpoint.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = Helpdesk::open(dir.path(), clock()).unwrap_err();
    let message = e.to_string();
    assert!(message.contains("checkpoint.key"), "{message}");
    assert!(message.contains("644"), "{message}");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    Helpdesk::open(dir.path(), clock()).unwrap();
}

#[test]
fn create_replaces_an_earlier_helpdesk() {
    let dir = tempfile::tempdir().unwrap();
    drop(demo::seed(dir.path(), clock()).unwrap());
    let hd = Helpdesk::create(dir.path(), clock()).unwrap();
    assert!(hd.tickets().all().unwrap().is_empty());
    assert_eq!(hd.verify_log().unwrap().head.size, 0);
}

#[test]
fn notes_about_nobody_are_sealed_under_the_helpdesks_own_key() {
    let dir = tempfile::tempdir().unwrap();
    let hd = demo::seed(dir.path(), clock()).unwrap();
    let c = Cast::new();
    let index = hd
        .record(
            c.acme,
            None,
            Actor::new(ActorKind::Agent, c.acme_agent),
            Action::Read,
            Target::new("report", "weekly").unwrap(),
            "weekly ticket counts",
        )
        .unwrap();
    let event = hd.trail().with_log(|log| log.get(index)).unwrap();
    match event.note {
        Some(custodia_audit::Personal::Sealed { subject, .. }) => {
            assert_eq!(subject, helpdesk_subject(c.acme))
        }
        other => panic!("note not sealed: {other:?}"),
    }
}

#[test]
fn erasure_keeps_the_log_consistent_with_an_earlier_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let hd = demo::seed(dir.path(), clock.clone()).unwrap();
    let c = Cast::new();
    let saved = hd.checkpoint().unwrap();
    assert_eq!(saved.size, 7);
    assert_eq!(std::fs::read_to_string(&saved.path).unwrap(), saved.note);

    clock.advance(TimeDelta::hours(1));
    let desk = hd.desk().unwrap();
    let mut request = verified(&desk, c.alice, RequestKind::Erasure);
    let certificate = desk.erase(&mut request, c.acme_dpo).unwrap();
    assert!(matches!(
        certificate.subject_key,
        SubjectKeyStatus::Shredded { .. }
    ));
    // The policy's backups: daily, kept 30 days.
    assert_eq!(
        certificate.backups_clear_by,
        Some(certificate.issued_at + TimeDelta::days(30))
    );

    let report = hd.verify_log().unwrap();
    assert!(report.head.size > saved.size);
    hd.check_checkpoint(&saved.note).unwrap();
    // Her sign-in IP reads as erased; the desk's own steps are in the log.
    let rendered = hd.trail().rendered_events(c.acme, c.alice).unwrap();
    let login = rendered.iter().find(|e| e.action == "login").unwrap();
    assert_eq!(login.details["ip"], custodia_dsr::ERASED);
    let erases = hd
        .trail()
        .with_log(|log| log.query(&Query::new().action(Action::Erase)))
        .unwrap();
    assert!(!erases.is_empty());

    // A checkpoint signed by another key is refused.
    let other =
        custodia_audit::Signer::generate(custodia_example_helpdesk::CHECKPOINT_ORIGIN).unwrap();
    let forged = hd
        .trail()
        .with_log(|log| log.checkpoint(custodia_example_helpdesk::CHECKPOINT_ORIGIN, &other))
        .unwrap();
    assert!(hd.check_checkpoint(&forged).is_err());
}

#[test]
fn the_sweep_deletes_due_spam_and_audits_it() {
    let dir = tempfile::tempdir().unwrap();
    let hd = demo::seed(dir.path(), clock()).unwrap();
    let (plan, deleted) = hd.sweep().unwrap();
    assert_eq!(deleted, ["T-1003"]);
    assert_eq!(plan.examined, 6);
    assert!(hd.tickets().row("T-1003").unwrap().is_none());
    // Anonymize items stay planned, not carried out.
    assert!(
        hd.tickets()
            .row("T-1001")
            .unwrap()
            .unwrap()
            .subject
            .is_some()
    );
    let deletes = hd
        .trail()
        .with_log(|log| log.query(&Query::new().action(Action::Delete)))
        .unwrap();
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].1.target.id, "T-1003");
    assert_eq!(deletes[0].1.subject, Some(Cast::new().bob));
    // A second sweep finds nothing more to delete.
    assert!(hd.sweep().unwrap().1.is_empty());
}

#[test]
fn create_does_not_remove_an_audit_directory_it_did_not_make() {
    let dir = tempfile::tempdir().unwrap();
    let theirs = dir.path().join("audit");
    std::fs::create_dir(&theirs).unwrap();
    std::fs::write(theirs.join("precious"), "keep me").unwrap();
    let e = Helpdesk::create(dir.path(), clock()).unwrap_err();
    assert!(e.to_string().contains("not replacing it"), "{e}");
    assert!(theirs.join("precious").is_file());
}

#[test]
fn a_kept_ticket_is_resealed_under_the_tenant_key_and_survives_the_shred() {
    use custodia_dsr::{PersonalDataSource, RecordRef, ResealOutcome};
    let dir = tempfile::tempdir().unwrap();
    let hd = demo::seed(dir.path(), clock()).unwrap();
    let c = Cast::new();
    let tickets = hd.tickets();
    let record = RecordRef::new(custodia_example_helpdesk::store::RECORD_TYPE, "T-2002");
    let before = tickets.row("T-2002").unwrap().unwrap();
    assert!(before.sealed_under_subject_key);
    let email = tickets.open_field(&before, "email").unwrap();

    let outcome = tickets.reseal_kept(c.globex, c.priya, &record).unwrap();
    assert!(
        matches!(outcome, ResealOutcome::Resealed { fields: 4, .. }),
        "{outcome:?}"
    );
    let after = tickets.row("T-2002").unwrap().unwrap();
    assert!(!after.sealed_under_subject_key);
    assert_ne!(after.sealed, before.sealed, "new envelopes");
    // `locate` now says the ticket no longer needs her key.
    let located = tickets.locate(c.globex, c.priya).unwrap();
    let kept = located.iter().find(|l| l.record.id == "T-2002").unwrap();
    assert!(!kept.meta.sealed_under_subject_key);
    // Idempotent: a second call re-seals nothing.
    assert!(matches!(
        tickets.reseal_kept(c.globex, c.priya, &record).unwrap(),
        ResealOutcome::Resealed { fields: 0, .. }
    ));

    // Her key goes: the pre-reseal copy (a backup) is unreadable, the kept
    // ticket still opens under the tenant's key.
    hd.vault().shred(c.globex, c.priya, c.globex_agent).unwrap();
    assert!(tickets.open_field(&before, "email").is_err());
    assert_eq!(tickets.open_field(&after, "email").unwrap(), email);

    // Another tenant cannot re-seal (or even see) her ticket.
    assert!(tickets.reseal_kept(c.acme, c.priya, &record).is_err());
}

/// Found in review: the tickets source refused every restriction, so a
/// restriction request (GDPR Art. 18) failed (500 over HTTP). Now Alice's
/// tickets are kept but left out of the agents' search and not changed,
/// while the desk still finds her; Bob's are untouched; lifting it ends it.
#[test]
fn a_restriction_keeps_the_tickets_out_of_processing_until_lifted() {
    use custodia_core::Purpose;
    let dir = tempfile::tempdir().unwrap();
    let c = Cast::new();
    let hd = demo::seed(dir.path(), clock()).unwrap();
    let run = |kind: RequestKind| run_request(&hd, c.alice, kind);
    let tickets = hd.tickets();
    let email = demo::ALICE_EMAIL;
    assert_eq!(
        tickets.find_by_email(c.acme, email).unwrap(),
        ["T-1001", "T-1002"]
    );

    let custodia_dsr::RequestOutcome::Restricted(report) =
        run(RequestKind::Restriction { lift: false })
    else {
        panic!("not a restriction");
    };
    assert_eq!(report.records, 2);
    let row = tickets.row("T-1002").unwrap().unwrap();
    assert!(row.processing.restricted);
    assert!(!row.processing.allows(&Purpose::SUPPORT));
    // Kept: the row and its fields are all there.
    assert_eq!(
        tickets.open_field(&row, "phone").unwrap().as_deref(),
        Some(demo::ALICE_PHONE)
    );
    assert!(tickets.find_by_email(c.acme, email).unwrap().is_empty());
    assert_eq!(tickets.subjects_by_email(c.acme, email).unwrap(), [c.alice]);
    let refused = hd
        .update_subject_line(c.acme_agent, "T-1002", "VPN fixed")
        .unwrap_err();
    assert!(
        matches!(refused, Error::Restricted(ref id) if id == "T-1002"),
        "{refused}"
    );
    assert_eq!(
        tickets.row("T-1002").unwrap().unwrap().subject_line,
        row.subject_line
    );
    // Bob's ticket is processed as ever.
    hd.update_subject_line(c.acme_agent, "T-1004", "Laptop replaced")
        .unwrap();
    assert!(
        tickets
            .row("T-1004")
            .unwrap()
            .unwrap()
            .processing
            .allows(&Purpose::SUPPORT)
    );

    // An objection stops one purpose only, restriction or not.
    run(RequestKind::Restriction { lift: true });
    run(RequestKind::Objection {
        purposes: vec![Purpose::AI_ASSISTANCE],
    });
    let row = tickets.row("T-1002").unwrap().unwrap();
    assert!(!row.processing.restricted);
    assert!(!row.processing.allows(&Purpose::AI_ASSISTANCE));
    assert!(row.processing.allows(&Purpose::SUPPORT));
    assert_eq!(
        tickets.find_by_email(c.acme, email).unwrap(),
        ["T-1001", "T-1002"]
    );
    hd.update_subject_line(c.acme_agent, "T-1002", "VPN fixed")
        .unwrap();
    // And it survives reopening the directory.
    drop(hd);
    let hd = Helpdesk::open(dir.path(), clock()).unwrap();
    let row = hd.tickets().row("T-1002").unwrap().unwrap();
    assert_eq!(row.subject_line, "VPN fixed");
    assert!(!row.processing.allows(&Purpose::AI_ASSISTANCE));
}

/// Found in review: a ticket stored for a contact while their restriction
/// stood was stored active, so the new ticket was searched and processed
/// as if nothing were restricted (Art. 18(1), (3): the restriction stands
/// until it is lifted). Now Alice's new ticket is stored restricted, out of
/// the search and not changed, Bob's new one is active, and lifting her
/// restriction frees it with her others.
#[test]
fn a_ticket_stored_for_a_restricted_contact_is_restricted_until_lifted() {
    use custodia_core::Purpose;
    let dir = tempfile::tempdir().unwrap();
    let c = Cast::new();
    let hd = demo::seed(dir.path(), clock()).unwrap();
    let tickets = hd.tickets();
    run_request(&hd, c.alice, RequestKind::Restriction { lift: false });

    let stored = tickets
        .insert(&new_ticket("T-3001", c.alice, demo::ALICE_EMAIL))
        .unwrap();
    assert!(stored.restricted && !stored.allows(&Purpose::SUPPORT));
    assert!(
        tickets
            .row("T-3001")
            .unwrap()
            .unwrap()
            .processing
            .restricted
    );
    assert!(
        tickets
            .find_by_email(c.acme, demo::ALICE_EMAIL)
            .unwrap()
            .is_empty()
    );
    let refused = hd
        .update_subject_line(c.acme_agent, "T-3001", "Fixed")
        .unwrap_err();
    assert!(
        matches!(refused, Error::Restricted(ref id) if id == "T-3001"),
        "{refused}"
    );
    // Another contact's new ticket is processed as ever.
    let bob = tickets
        .insert(&new_ticket("T-3002", c.bob, "bob@example.org"))
        .unwrap();
    assert!(!bob.restricted && bob.allows(&Purpose::SUPPORT));
    assert_eq!(
        tickets.find_by_email(c.acme, "bob@example.org").unwrap(),
        ["T-3002"]
    );

    // Lifted: the new ticket with her others.
    run_request(&hd, c.alice, RequestKind::Restriction { lift: true });
    assert_eq!(
        tickets.find_by_email(c.acme, demo::ALICE_EMAIL).unwrap(),
        ["T-1001", "T-1002", "T-3001"]
    );
    hd.update_subject_line(c.acme_agent, "T-3001", "Fixed")
        .unwrap();
    let later = tickets
        .insert(&new_ticket("T-3003", c.alice, demo::ALICE_EMAIL))
        .unwrap();
    assert!(!later.restricted);
}

/// A data directory written before restriction was built (no processing
/// columns, no contact register or its index) opens, its tickets active.
#[test]
fn a_directory_without_the_processing_columns_gains_them_on_opening() {
    let dir = tempfile::tempdir().unwrap();
    let hd = demo::seed(dir.path(), clock()).unwrap();
    let database = hd.layout().database();
    drop(hd);
    let db = rusqlite::Connection::open(&database).unwrap();
    db.execute_batch(
        "DROP INDEX tickets_restricted; DROP TABLE contact_processing; \
         ALTER TABLE tickets DROP COLUMN objections; ALTER TABLE tickets DROP COLUMN processing;",
    )
    .unwrap();
    drop(db);
    let hd = Helpdesk::open(dir.path(), clock()).unwrap();
    let row = hd.tickets().row("T-1002").unwrap().unwrap();
    assert!(!row.processing.restricted && row.processing.objections.is_empty());
    // And the register with the index a new ticket's state is read through
    // (without it, every insert scanned the whole table).
    let db = rusqlite::Connection::open(&database).unwrap();
    let gained: i64 = db
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name IN ('contact_processing', 'tickets_restricted')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(gained, 2);
}

/// Alice's spam, due for deletion like Bob's T-1003.
fn alice_spam(hd: &Helpdesk) {
    let c = Cast::new();
    let mut spam = demo::tickets(&c)
        .into_iter()
        .find(|t| t.id == "T-1003")
        .unwrap();
    spam.id = "T-1005";
    spam.subject = c.alice;
    spam.email = demo::ALICE_EMAIL;
    demo::insert_tickets(hd, &[spam]).unwrap();
}

/// Found in review: the sweep deleted a restricted contact's due ticket
/// (Art. 18(1)(b), (c): it must be kept while restricted). Now Bob's due
/// spam and idle ticket are kept and listed with the restriction as the
/// reason, Alice's due spam goes, and once Bob's restriction is lifted the
/// next sweep deletes his spam.
#[test]
fn the_sweep_keeps_a_restricted_contacts_due_tickets_until_lifted() {
    use custodia_example_helpdesk::store::{RESTRICTION_HOLD, RESTRICTION_REASON};
    use custodia_retention::Disposition;
    let dir = tempfile::tempdir().unwrap();
    let c = Cast::new();
    let hd = demo::seed(dir.path(), clock()).unwrap();
    alice_spam(&hd);
    run_request(&hd, c.bob, RequestKind::Restriction { lift: false });

    let (plan, deleted) = hd.sweep().unwrap();
    assert_eq!(deleted, ["T-1005"]);
    assert!(hd.tickets().row("T-1003").unwrap().is_some());
    let withheld: Vec<_> = plan
        .withheld
        .iter()
        .map(|i| {
            (
                i.id.as_str(),
                i.action,
                i.holds.as_slice(),
                i.reason.as_str(),
            )
        })
        .collect();
    let hold = [RESTRICTION_HOLD.to_owned()];
    let reason = format!("legal hold {RESTRICTION_HOLD} ({RESTRICTION_REASON})");
    assert_eq!(
        withheld,
        [
            ("T-1003", Disposition::Delete, &hold[..], reason.as_str()),
            ("T-1004", Disposition::Anonymize, &hold[..], reason.as_str()),
        ]
    );
    assert!(
        plan.items
            .iter()
            .all(|i| i.id != "T-1003" && i.id != "T-1004")
    );
    // The report a privacy officer reads says why.
    let report = plan.to_string();
    assert!(
        report.contains("  held      T-1003 (delete due 2026-10-01T10:00:00Z; rule spam; kept by legal hold gdpr-art18-restriction (restriction of processing (GDPR Art. 18)"),
        "{report}"
    );
    let deletes = |hd: &Helpdesk| -> Vec<String> {
        hd.trail()
            .with_log(|log| log.query(&Query::new().action(Action::Delete)))
            .unwrap()
            .into_iter()
            .map(|(_, e)| e.target.id)
            .collect()
    };
    assert_eq!(deletes(&hd), ["T-1005"]);
    // A sweep that planned before the restriction landed cannot delete it.
    assert!(!hd.tickets().delete("T-1003").unwrap());

    run_request(&hd, c.bob, RequestKind::Restriction { lift: true });
    let (plan, deleted) = hd.sweep().unwrap();
    assert_eq!(deleted, ["T-1003"]);
    assert!(plan.withheld.is_empty() && plan.held == 0, "{plan}");
    assert!(hd.tickets().row("T-1003").unwrap().is_none());
    assert_eq!(deletes(&hd), ["T-1005", "T-1003"]);
}

/// A restricted contact may still ask for erasure: the sweep's hold is not
/// the desk's, so the erasure goes ahead and unlinks the ticket, which
/// ends the restriction and leaves the unlinked ticket to the policy.
#[test]
fn a_restricted_contact_can_still_have_their_tickets_erased() {
    let dir = tempfile::tempdir().unwrap();
    let c = Cast::new();
    let hd = demo::seed(dir.path(), clock()).unwrap();
    run_request(&hd, c.bob, RequestKind::Restriction { lift: false });
    let outcome = run_request(&hd, c.bob, RequestKind::Erasure);
    assert!(
        matches!(outcome, custodia_dsr::RequestOutcome::Erased(_)),
        "{outcome:?}"
    );
    assert!(
        hd.tickets()
            .row("T-1003")
            .unwrap()
            .is_none_or(|row| row.subject.is_none() && !row.processing.restricted)
    );
    let (plan, _) = hd.sweep().unwrap();
    assert!(plan.withheld.is_empty(), "{plan}");
}

/// Found in review: a contact restricted while they had no ticket (the
/// desk located nothing) got an active first ticket, and an objection
/// stayed on the tickets of the day, so a later ticket was summarised: both
/// lived only on tickets. Now the contact register keeps them: Carol,
/// restricted with no ticket, gets her first ticket restricted (out of the
/// search, not changed) until the lift; Bob, who objected to AI use, gets
/// a new ticket not for the summariser even after the sweep took his old
/// ones; Alice is unaffected throughout.
#[test]
fn a_contact_with_no_ticket_is_restricted_and_objections_cover_new_tickets() {
    use custodia_core::{Purpose, SubjectId};
    let dir = tempfile::tempdir().unwrap();
    let c = Cast::new();
    let hd = demo::seed(dir.path(), clock()).unwrap();
    let tickets = hd.tickets();
    let carol = SubjectId::from_external_key(c.acme, "psa.contact", "2001");
    assert!(
        custodia_dsr::PersonalDataSource::locate(&**tickets, c.acme, carol)
            .unwrap()
            .is_empty()
    );

    let custodia_dsr::RequestOutcome::Restricted(report) =
        run_request(&hd, carol, RequestKind::Restriction { lift: false })
    else {
        panic!("not a restriction");
    };
    assert_eq!(report.records, 0);
    let restricted = tickets.contact_processing(c.acme, carol).unwrap().unwrap();
    assert!(restricted.restricted && restricted.objections.is_empty());
    let first = tickets
        .insert(&new_ticket("T-3001", carol, "carol@example.com"))
        .unwrap();
    assert!(first.restricted && !first.allows(&Purpose::SUPPORT));
    assert!(
        tickets
            .find_by_email(c.acme, "carol@example.com")
            .unwrap()
            .is_empty()
    );
    let refused = hd
        .update_subject_line(c.acme_agent, "T-3001", "Fixed")
        .unwrap_err();
    assert!(matches!(refused, Error::Restricted(_)), "{refused}");
    // Alice's new ticket: active, no objection.
    let alice = tickets
        .insert(&new_ticket("T-3002", c.alice, demo::ALICE_EMAIL))
        .unwrap();
    assert_eq!(alice, Default::default());
    assert_eq!(tickets.contact_processing(c.acme, c.alice).unwrap(), None);

    // Lifted: her ticket is listed again, the register row is gone.
    run_request(&hd, carol, RequestKind::Restriction { lift: true });
    assert_eq!(tickets.contact_processing(c.acme, carol).unwrap(), None);
    assert_eq!(
        tickets.find_by_email(c.acme, "carol@example.com").unwrap(),
        ["T-3001"]
    );
    hd.update_subject_line(c.acme_agent, "T-3001", "Fixed")
        .unwrap();

    // Bob objects to AI use; his tickets are deleted (the sweep's
    // deletion); his next ticket is still not summarised.
    run_request(
        &hd,
        c.bob,
        RequestKind::Objection {
            purposes: vec![Purpose::AI_ASSISTANCE],
        },
    );
    assert!(tickets.delete("T-1003").unwrap() && tickets.delete("T-1004").unwrap());
    assert!(
        custodia_dsr::PersonalDataSource::locate(&**tickets, c.acme, c.bob)
            .unwrap()
            .is_empty()
    );
    let bob = tickets
        .insert(&new_ticket("T-3003", c.bob, "bob@example.org"))
        .unwrap();
    assert!(!bob.restricted && bob.allows(&Purpose::SUPPORT));
    assert!(!bob.allows(&Purpose::AI_ASSISTANCE));
    assert!(
        !tickets
            .row("T-3003")
            .unwrap()
            .unwrap()
            .processing
            .allows(&Purpose::AI_ASSISTANCE)
    );
    let alice = tickets
        .insert(&new_ticket("T-3004", c.alice, demo::ALICE_EMAIL))
        .unwrap();
    assert!(alice.allows(&Purpose::AI_ASSISTANCE));
}

/// An erasure removes the contact's register row, whether the desk
/// reached them through a ticket (Alice) or not at all (Carol, no ticket):
/// nothing is left saying they existed or restricted their processing.
/// Another contact's row stays.
#[test]
fn an_erasure_removes_the_contacts_register_row() {
    use custodia_core::{Purpose, SubjectId};
    let dir = tempfile::tempdir().unwrap();
    let c = Cast::new();
    let hd = demo::seed(dir.path(), clock()).unwrap();
    let tickets = hd.tickets();
    let carol = SubjectId::from_external_key(c.acme, "psa.contact", "2001");
    for subject in [c.alice, carol, c.bob] {
        run_request(&hd, subject, RequestKind::Restriction { lift: false });
    }
    run_request(
        &hd,
        c.alice,
        RequestKind::Objection {
            purposes: vec![Purpose::AI_ASSISTANCE],
        },
    );
    assert!(
        tickets
            .contact_processing(c.acme, c.alice)
            .unwrap()
            .is_some()
    );

    // Alice through her tickets, by the desk alone (as `custodia dsr` does).
    let desk = hd.desk().unwrap();
    let mut erasure = verified(&desk, c.alice, RequestKind::Erasure);
    desk.run(&mut erasure, c.acme_dpo).unwrap();
    assert_eq!(tickets.contact_processing(c.acme, c.alice).unwrap(), None);
    // Carol, who has no ticket, through the host.
    run_request(&hd, carol, RequestKind::Erasure);
    assert_eq!(tickets.contact_processing(c.acme, carol).unwrap(), None);
    // Bob's restriction stands.
    assert!(
        tickets
            .contact_processing(c.acme, c.bob)
            .unwrap()
            .unwrap()
            .restricted
    );
    assert!(
        tickets
            .insert(&new_ticket("T-3002", c.bob, "bob@example.org"))
            .unwrap()
            .restricted
    );
}

/// The contact register's row in an access bundle, with the fields named.
fn register_row(
    bundle: &custodia_dsr::ExportBundle,
    subject: custodia_core::SubjectId,
) -> Option<Vec<(String, String)>> {
    bundle
        .records
        .iter()
        .find(|r| r.record_type == custodia_example_helpdesk::store::REGISTER_RECORD_TYPE)
        .map(|r| {
            assert_eq!(
                (r.source.as_str(), r.id.as_str()),
                ("tickets", subject.to_string().as_str())
            );
            r.fields
                .iter()
                .map(|f| (f.name.clone(), f.value.clone()))
                .collect()
        })
}

/// Found in review: an access request's export (Art. 15) did not carry
/// the contact register's row, so a contact with no ticket who had
/// restricted their processing got an empty export, and one with tickets
/// saw the restriction only on the tickets' state. Now the bundle lists
/// the row (state and objections, under the pseudonymous contact id, no
/// clear value) next to the tickets; a contact with no row gets none.
#[test]
fn an_access_export_includes_the_contacts_register_row() {
    use custodia_core::{Purpose, SubjectId};
    use custodia_dsr::RequestOutcome;
    let dir = tempfile::tempdir().unwrap();
    let c = Cast::new();
    let hd = demo::seed(dir.path(), clock()).unwrap();
    let carol = SubjectId::from_external_key(c.acme, "psa.contact", "2001");
    run_request(&hd, carol, RequestKind::Restriction { lift: false });
    run_request(
        &hd,
        c.bob,
        RequestKind::Objection {
            purposes: vec![Purpose::AI_ASSISTANCE],
        },
    );

    let RequestOutcome::Bundle(bundle) = run_request(&hd, carol, RequestKind::Access) else {
        panic!("not a bundle");
    };
    assert_eq!(bundle.records.len(), 1, "{:?}", bundle.records);
    assert_eq!(
        register_row(&bundle, carol).unwrap(),
        [
            ("processing".to_owned(), "restricted".to_owned()),
            ("objections".to_owned(), String::new())
        ]
    );
    assert_eq!(bundle.manifest[0].csv, "tickets-contact_register.csv");

    let RequestOutcome::Bundle(bundle) = run_request(&hd, c.bob, RequestKind::Access) else {
        panic!("not a bundle");
    };
    assert_eq!(
        register_row(&bundle, c.bob).unwrap(),
        [
            ("processing".to_owned(), "active".to_owned()),
            ("objections".to_owned(), "ai_assistance".to_owned())
        ]
    );
    assert!(bundle.records.iter().any(|r| r.record_type == "ticket"));
    // Nothing of the row in clear beyond the state: no email, no name.
    let json = bundle.to_json().unwrap();
    let row = json.find("contact_register").unwrap();
    assert!(!json[row..].contains("bob@example.org"));

    let RequestOutcome::Bundle(bundle) = run_request(&hd, c.alice, RequestKind::Access) else {
        panic!("not a bundle");
    };
    assert_eq!(register_row(&bundle, c.alice), None);
}

/// An erasure of a contact with no ticket, run by the desk alone (as
/// `custodia dsr` does, no host step after it), removes their register
/// row, and the certificate lists it as subject-level.
#[test]
fn the_desk_alone_erases_the_register_row_of_a_contact_with_no_ticket() {
    use custodia_core::SubjectId;
    let dir = tempfile::tempdir().unwrap();
    let c = Cast::new();
    let hd = demo::seed(dir.path(), clock()).unwrap();
    let tickets = hd.tickets();
    let carol = SubjectId::from_external_key(c.acme, "psa.contact", "2001");
    let desk = hd.desk().unwrap();
    let mut restriction = verified(&desk, carol, RequestKind::Restriction { lift: false });
    desk.run(&mut restriction, c.acme_dpo).unwrap();
    assert!(
        tickets
            .contact_processing(c.acme, carol)
            .unwrap()
            .unwrap()
            .restricted
    );
    let mut erasure = verified(&desk, carol, RequestKind::Erasure);
    let custodia_dsr::RequestOutcome::Erased(certificate) =
        desk.run(&mut erasure, c.acme_dpo).unwrap()
    else {
        panic!("not an erasure");
    };
    assert_eq!(tickets.contact_processing(c.acme, carol).unwrap(), None);
    assert_eq!(certificate.erased.len(), 1, "{:?}", certificate.erased);
    let entry = &certificate.erased[0];
    assert!(entry.subject_level && entry.deleted_record);
    assert_eq!(entry.record.id, carol.to_string());
}

/// Found in review: the subject-level step of a lift reported the
/// contact's register row as changed whether or not there was one, so a
/// lift for a contact never restricted listed a row that does not exist
/// (in the restriction report, the audit event's count and `custodia dsr
/// restrict`'s output). Now it reports the row only when there was one
/// before or is one after.
#[test]
fn a_lift_reports_no_register_row_for_a_contact_without_one() {
    use custodia_core::SubjectId;
    use custodia_dsr::RequestOutcome;
    let dir = tempfile::tempdir().unwrap();
    let c = Cast::new();
    let hd = demo::seed(dir.path(), clock()).unwrap();
    let carol = SubjectId::from_external_key(c.acme, "psa.contact", "2001");
    let RequestOutcome::Restricted(report) =
        run_request(&hd, carol, RequestKind::Restriction { lift: true })
    else {
        panic!("not a restriction");
    };
    assert!(report.subject_records.is_empty(), "{report:?}");

    // A restriction writes the row, and its lift (which removes it) says so.
    let RequestOutcome::Restricted(report) =
        run_request(&hd, carol, RequestKind::Restriction { lift: false })
    else {
        panic!("not a restriction");
    };
    assert_eq!(report.subject_records.len(), 1);
    let RequestOutcome::Restricted(report) =
        run_request(&hd, carol, RequestKind::Restriction { lift: true })
    else {
        panic!("not a restriction");
    };
    assert_eq!(report.subject_records.len(), 1);
    assert_eq!(
        hd.tickets().contact_processing(c.acme, carol).unwrap(),
        None
    );
}

/// The tickets source, but unable to re-seal a kept ticket: the one case
/// in which the helpdesk's erasure defers the key shred, so a later pass
/// erases the ticket once its hold is released.
struct NoReseal(std::sync::Arc<custodia_example_helpdesk::store::Tickets>);

impl custodia_dsr::PersonalDataSource for NoReseal {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn locate(
        &self,
        tenant: custodia_core::TenantId,
        subject: custodia_core::SubjectId,
    ) -> Result<Vec<custodia_dsr::Located>, custodia_dsr::BoxError> {
        self.0.locate(tenant, subject)
    }
    fn export(
        &self,
        tenant: custodia_core::TenantId,
        subject: custodia_core::SubjectId,
        record: &custodia_dsr::RecordRef,
    ) -> Result<custodia_dsr::ExportedRecord, custodia_dsr::BoxError> {
        self.0.export(tenant, subject, record)
    }
    fn rectify(
        &self,
        tenant: custodia_core::TenantId,
        subject: custodia_core::SubjectId,
        record: &custodia_dsr::RecordRef,
        updates: &[custodia_dsr::FieldUpdate],
    ) -> Result<(), custodia_dsr::BoxError> {
        self.0.rectify(tenant, subject, record, updates)
    }
    fn erase(
        &self,
        tenant: custodia_core::TenantId,
        subject: custodia_core::SubjectId,
        plan: &custodia_dsr::ErasurePlan,
    ) -> Result<(), custodia_dsr::BoxError> {
        self.0.erase(tenant, subject, plan)
    }
    fn restrict(
        &self,
        tenant: custodia_core::TenantId,
        subject: custodia_core::SubjectId,
        record: &custodia_dsr::RecordRef,
        restriction: &custodia_dsr::Restriction,
    ) -> Result<(), custodia_dsr::BoxError> {
        self.0.restrict(tenant, subject, record, restriction)
    }
    fn subject_step(
        &self,
        tenant: custodia_core::TenantId,
        subject: custodia_core::SubjectId,
        step: &custodia_dsr::SubjectStep,
    ) -> Result<custodia_dsr::SubjectOutcome, custodia_dsr::BoxError> {
        self.0.subject_step(tenant, subject, step)
    }
}

/// Found in review: `Tickets::erase` removed the contact's register row
/// for each ticket it erased, so a deferred erasure's pass, erasing a
/// ticket released from its hold, removed a restriction the contact made
/// after the erasure (Art. 18), silently lifting it. Now the pass leaves
/// the register alone (the erasure's subject-level step removed the row
/// the contact had before it; a row there now is newer).
#[test]
fn a_deferred_erasures_pass_keeps_a_restriction_written_after_the_erasure() {
    use custodia_dsr::{
        Desk, ErasureException, ErasureHold, PersonalDataSource as _, Resumed, StaticHolds,
    };
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let c = Cast::new();
    let hd = demo::seed(dir.path(), clock()).unwrap();
    let tickets = hd.tickets();
    let source = Arc::new(NoReseal(Arc::clone(tickets)));
    // Alice restricted before her erasure: the erasure removes that row.
    run_request(&hd, c.alice, RequestKind::Restriction { lift: false });
    let located = tickets.locate(c.acme, c.alice).unwrap();
    assert!(!located.is_empty());
    let held = located[0].record.clone();
    let hold = ErasureHold {
        exception: ErasureException::LegalClaims,
        reason: "case 17".into(),
        until: None,
    };
    let holding = Desk::new(hd.clock().clone(), hd.trail().clone())
        .with_source(source.clone())
        .unwrap()
        .with_retention(Arc::new(StaticHolds::new().hold(
            c.acme,
            "tickets",
            held.clone(),
            hold,
        )))
        .with_key_shredder(hd.vault().clone());
    let mut erasure = verified(&holding, c.alice, RequestKind::Erasure);
    holding.erase(&mut erasure, c.acme_dpo).unwrap();
    assert_eq!(
        Desk::deferred_erasures(std::slice::from_ref(&erasure)).len(),
        1
    );
    assert_eq!(tickets.contact_processing(c.acme, c.alice).unwrap(), None);
    assert!(
        tickets
            .locate(c.acme, c.alice)
            .unwrap()
            .iter()
            .any(|l| l.record == held)
    );

    // Later, Alice restricts the processing of what is left.
    run_request(&hd, c.alice, RequestKind::Restriction { lift: false });
    assert!(
        tickets
            .contact_processing(c.acme, c.alice)
            .unwrap()
            .unwrap()
            .restricted
    );

    // The hold is released: the daily pass erases the ticket and shreds.
    let released = Desk::new(hd.clock().clone(), hd.trail().clone())
        .with_source(source)
        .unwrap()
        .with_key_shredder(hd.vault().clone());
    let mut stored = vec![erasure];
    let reports = released.resume_deferred_erasures(&mut stored, c.acme_dpo);
    assert!(
        matches!(reports[0].outcome, Ok(Resumed::Shredded(_))),
        "{:?}",
        reports[0].outcome
    );
    assert!(tickets.locate(c.acme, c.alice).unwrap().is_empty());
    // Her later restriction stands.
    assert!(
        tickets
            .contact_processing(c.acme, c.alice)
            .unwrap()
            .unwrap()
            .restricted
    );
}
