//! The desk's events on a custodia-audit log: mapping, sealing, history, breach scoping.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use custodia_audit::{
    Action, Actor, ActorKind, AuditLog, Event, MemoryStore, Outcome, Personal, Query, Target,
};
use custodia_core::{
    ActorId, Clock, DataCategory, LegalBasis, ManualClock, SubjectId, TenantId, Timestamp,
};
use custodia_crypt::{
    FieldContext, Keyring, MemoryKeyStore, SecretKey, ShredOutcome, SubjectVault,
};
use custodia_dsr::breach::IncidentId;
use custodia_dsr::*;
use custodia_dsr::{ERASED, UNREADABLE, WITHHELD, desk_actor, desk_subject};

mod support;

type Vault = SubjectVault<MemoryKeyStore>;
type Trail = AuditTrail<MemoryStore, MemoryKeyStore>;

struct World {
    clock: Arc<ManualClock>,
    vault: Arc<Vault>,
    tenant: TenantId,
    alice: SubjectId,
    agent: ActorId,
}

fn world() -> World {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(),
    ));
    let vault = Arc::new(SubjectVault::new(
        Arc::new(Keyring::new(SecretKey::generate().unwrap())),
        MemoryKeyStore::default(),
        clock.clone(),
    ));
    let tenant = TenantId::from_external_key("crm", "acme");
    World {
        alice: SubjectId::from_external_key(tenant, "contact", "1"),
        agent: ActorId::from_external_key(tenant, "agent", "7"),
        clock,
        vault,
        tenant,
    }
}

fn trail(w: &World) -> Arc<Trail> {
    Arc::new(AuditTrail::new(
        AuditLog::open(MemoryStore::new()).unwrap(),
        w.vault.clone(),
    ))
}

fn event(w: &World, action: DsrAction) -> DsrEvent {
    DsrEvent {
        at: w.clock.now(),
        tenant: Some(w.tenant),
        subject: Some(w.alice),
        actor: Some(w.agent),
        request: Some(RequestId::random()),
        incident: None,
        action,
    }
}

/// A request of `kind` from `subject`, received and verified by the agent.
fn verified(desk: &Desk, w: &World, subject: SubjectId, kind: RequestKind) -> Request {
    support::verified_request(desk, w.tenant, subject, kind, w.agent)
}

fn logged(trail: &Trail) -> Vec<Event> {
    trail.with_log(|log| (0..log.len()).map(|i| log.get(i).unwrap()).collect())
}

#[test]
fn each_action_maps_as_documented() {
    let w = world();
    let trail = trail(&w);
    let kept = DsrAction::RecordKept {
        source: "invoices".into(),
        record_type: "invoice".into(),
        record_id: "INV-7".into(),
        exception: ErasureException::LegalObligation,
        until: None,
    };
    let cases: Vec<(DsrAction, &str, &str, Outcome)> = vec![
        (
            DsrAction::WorkStarted,
            "dsr.work_started",
            "dsr.request",
            Outcome::Success,
        ),
        (
            DsrAction::SourceExported {
                source: "tickets".into(),
                records: 2,
            },
            "export",
            "dsr.source",
            Outcome::Success,
        ),
        (
            DsrAction::SourceRectified {
                source: "contacts".into(),
                records: 1,
                fields: 1,
            },
            "update",
            "dsr.source",
            Outcome::Success,
        ),
        (
            DsrAction::SourceErased {
                source: "tickets".into(),
                records_deleted: 1,
                fields_deleted: 0,
                fields_anonymized: 0,
            },
            "erase",
            "dsr.source",
            Outcome::Success,
        ),
        (kept, "erase", "invoice", Outcome::Denied),
        (
            DsrAction::SourceRestricted {
                source: "tickets".into(),
                records: 1,
            },
            "restrict",
            "dsr.source",
            Outcome::Success,
        ),
        (
            DsrAction::RequestForwarded {
                controller: "ACME".into(),
                reference: None,
            },
            "share",
            "dsr.request",
            Outcome::Success,
        ),
        (
            DsrAction::SourceFailed {
                source: "tickets".into(),
                operation: "erase".into(),
                error: "timeout".into(),
            },
            "erase",
            "dsr.source",
            Outcome::Failure,
        ),
        (
            DsrAction::SourceFailed {
                source: "tickets".into(),
                operation: "Re-Index!".into(),
                error: "timeout".into(),
            },
            "dsr.reindex",
            "dsr.source",
            Outcome::Failure,
        ),
        (
            DsrAction::SubjectKeyShredded {
                outcome: ShredOutcome::KeyDestroyed,
            },
            "erase",
            "subject_key",
            Outcome::Success,
        ),
        (
            DsrAction::SubjectKeyShredStillDeferred {
                records_blocking: 1,
            },
            "dsr.key_shred_still_deferred",
            "subject_key",
            Outcome::Success,
        ),
        (
            DsrAction::RecordsResealed {
                source: "invoices".into(),
                records: vec![RecordRef::new("invoice", "INV-7")],
                fields: 2,
            },
            "dsr.records_resealed",
            "dsr.source",
            Outcome::Success,
        ),
        (
            DsrAction::ResealFailed {
                source: "invoices".into(),
                record_type: "invoice".into(),
                record_id: "INV-7".into(),
                error: "hold key unavailable".into(),
            },
            "dsr.reseal",
            "dsr.source",
            Outcome::Failure,
        ),
        (
            DsrAction::BundleNotDelivered {
                error: "exports/r1/bundle.json: File too large".into(),
            },
            "dsr.bundle_delivery",
            "dsr.request",
            Outcome::Failure,
        ),
        (
            DsrAction::RequestRejected {
                reason: RejectionReason::Excessive,
                late: true,
            },
            "dsr.request_rejected",
            "dsr.request",
            Outcome::Denied,
        ),
        (
            DsrAction::RequestCompleted { late: true },
            "dsr.request_completed",
            "dsr.request",
            Outcome::Success,
        ),
    ];
    for (action, _, _, _) in &cases {
        trail.record(&event(&w, action.clone())).unwrap();
    }
    let events = logged(&trail);
    assert_eq!(events.len(), cases.len());
    for ((action, name, target, outcome), logged) in cases.iter().zip(&events) {
        assert_eq!(logged.action.as_str(), *name, "{action:?}");
        assert_eq!(logged.target.kind, *target, "{action:?}");
        assert_eq!(logged.outcome, *outcome, "{action:?}");
        assert_eq!(logged.subject, Some(w.alice));
        assert_eq!(logged.actor.id, w.agent);
        assert_eq!(logged.legal_basis, Some(LegalBasis::LegalObligation));
        assert!(logged.request_id.is_some());
        assert!(!logged.has_clear_personal_data());
    }
    assert_eq!(events[4].target.id, "INV-7");
    assert_eq!(events[9].target.id, w.alice.to_string());
    // A late answer's flag is in the sealed details, as a late refusal's.
    let history = trail.rendered_events(w.tenant, w.alice).unwrap();
    let completed = history.last().unwrap();
    assert_eq!(completed.action, "dsr.request_completed");
    assert!(
        completed.details["note"].contains("\"late\":true"),
        "{:?}",
        completed.details
    );
}

#[test]
fn the_desk_s_own_steps_use_the_desk_actor_and_vendor_events_need_a_tenant() {
    let w = world();
    let trail = trail(&w);
    let mut e = event(&w, DsrAction::RequestCompleted { late: false });
    e.actor = None;
    trail.record(&e).unwrap();
    let first = &logged(&trail)[0];
    assert_eq!(first.actor.id, desk_actor(w.tenant));
    assert_eq!(first.actor.kind, ActorKind::System);

    let incident = DsrEvent {
        tenant: None,
        subject: None,
        request: None,
        incident: Some(IncidentId::random()),
        ..event(&w, DsrAction::BreachUpdated)
    };
    assert!(trail.record(&incident).is_err());
    let vendor = TenantId::from_external_key("vendor", "helpdesk");
    let trail = Arc::new(
        AuditTrail::new(AuditLog::open(MemoryStore::new()).unwrap(), w.vault.clone())
            .with_vendor_tenant(vendor),
    );
    trail.record(&incident).unwrap();
    let first = &logged(&trail)[0];
    assert_eq!(first.tenant, vendor);
    assert_eq!(first.action.as_str(), "breach.updated");
    assert_eq!(first.target.kind, "breach.incident");
}

#[test]
fn details_survive_the_subject_s_erasure_unless_sealed_under_her_key() {
    let w = world();
    let reason = DsrAction::DeadlineExtended {
        reason: "three regional stores".into(),
        due: w.clock.now(),
    };
    for (key, survives) in [(DetailsKey::Desk, true), (DetailsKey::Subject, false)] {
        let trail = Arc::new(
            AuditTrail::new(AuditLog::open(MemoryStore::new()).unwrap(), w.vault.clone())
                .with_details_key(key),
        );
        let alice = SubjectId::from_external_key(w.tenant, "contact", format!("{key:?}").as_str());
        let mut e = event(&w, reason.clone());
        e.subject = Some(alice);
        trail.record(&e).unwrap();
        let owner = match &logged(&trail)[0].note {
            Some(Personal::Sealed { subject, .. }) => *subject,
            other => panic!("note not sealed: {other:?}"),
        };
        let expected_owner = if survives {
            desk_subject(w.tenant)
        } else {
            alice
        };
        assert_eq!(owner, expected_owner);
        let before = trail.rendered_events(w.tenant, alice).unwrap();
        assert!(before[0].details["note"].contains("three regional stores"));
        w.vault.shred(w.tenant, alice, w.agent).unwrap();
        let after = trail.rendered_events(w.tenant, alice).unwrap();
        assert_eq!(after.len(), 1);
        assert_eq!(
            after[0].details["note"].contains("three regional stores"),
            survives,
            "{key:?}"
        );
        if !survives {
            assert_eq!(after[0].details["note"], ERASED);
        }
    }
}

#[test]
fn history_withholds_other_people_s_values() {
    let w = world();
    let trail = trail(&w);
    let agent_subject = SubjectId::from_external_key(w.tenant, "agent", "7");
    trail.with_log(|log| {
        let e = Event::builder(
            w.tenant,
            Actor::new(ActorKind::Agent, w.agent)
                .as_subject(agent_subject)
                .with_ip("203.0.113.7"),
            Action::Read,
            Target::new("ticket", "T-1").unwrap(),
        )
        .subject(w.alice)
        .note("called back")
        .build(w.clock.as_ref())
        .unwrap();
        log.append_sealed(&w.vault, e).unwrap();
    });
    let history = trail.rendered_events(w.tenant, w.alice).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].details["ip"], WITHHELD);
    assert_eq!(history[0].details["note"], "called back");
    assert_eq!(history[0].target, "ticket T-1");
    assert_eq!(history[0].details["index"], "0");
    // The agent sees their own IP.
    let theirs = trail.rendered_events(w.tenant, agent_subject).unwrap();
    assert_eq!(theirs[0].details["ip"], "203.0.113.7");
    assert_eq!(theirs[0].actor, "you");
}

#[test]
fn a_desk_on_the_trail_audits_every_step_and_bundles_the_history() {
    let w = world();
    let trail = trail(&w);
    let tickets = Arc::new(MemorySource::new("tickets"));
    tickets.insert(
        w.tenant,
        w.alice,
        RecordRef::new("ticket", "T-1"),
        LegalBasis::Contract,
        [(
            "description",
            DataCategory::USER_CONTENT_TICKET,
            "Printer on fire",
            true,
        )],
    );
    let desk = Desk::new(w.clock.clone(), trail.clone())
        .with_source(tickets)
        .unwrap()
        .with_audit_history(trail.clone());
    let mut request = verified(&desk, &w, w.alice, RequestKind::Access);
    let bundle = desk.export(&mut request, w.agent).unwrap();
    assert_eq!(bundle.audit.status, AuditStatus::Included);
    let actions: Vec<&str> = bundle
        .audit
        .events
        .iter()
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(
        actions[..2],
        ["dsr.request_received", "dsr.identity_verified"]
    );
    assert!(actions.contains(&"export"));
    // Everything logged after the bundle too, and every record verifies.
    let events = logged(&trail);
    assert!(events.len() > actions.len());
    assert!(
        events
            .iter()
            .all(|e| e.request_id == Some(request.id.to_string()))
    );
    trail.with_log(|log| {
        custodia_audit::verify(log.store().clone(), None).unwrap();
    });
}

fn at(h: u32) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 5, 4, h, 0, 0).unwrap()
}

#[test]
fn breach_scope_comes_from_the_log_window_inclusive() {
    let w = world();
    let trail = trail(&w);
    let other_tenant = TenantId::from_external_key("crm", "globex");
    let bob = SubjectId::from_external_key(other_tenant, "contact", "2");
    let thief = ActorId::from_external_key(w.tenant, "api_key", "leaked");
    let append = |tenant: TenantId, subject: SubjectId, actor: ActorId, hour: u32| {
        trail.with_log(|log| {
            let e = Event::builder(
                tenant,
                Actor::new(ActorKind::ApiKey, actor),
                Action::Read,
                Target::new("contact", "x").unwrap(),
            )
            .subject(subject)
            .time(at(hour))
            .build(w.clock.as_ref())
            .unwrap();
            log.append(&e).unwrap();
        })
    };
    append(w.tenant, w.alice, thief, 8);
    append(w.tenant, w.alice, thief, 10);
    append(other_tenant, bob, thief, 12);
    append(other_tenant, bob, w.agent, 11);
    // A desk step inside the window is not a touch of the data.
    let mut step = event(&w, DsrAction::WorkStarted);
    step.at = at(11);
    step.actor = Some(thief);
    trail.record(&step).unwrap();

    let affected = trail
        .affected(&Query::new().actor(thief), at(9), at(12))
        .unwrap();
    assert_eq!(affected.events, 2);
    assert_eq!(affected.subject_count(), 2);
    assert_eq!(affected.tenants().len(), 2);
    let all = trail.affected(&Query::new(), at(9), at(12)).unwrap();
    assert_eq!(all.events, 3);
    let one = trail
        .affected(&Query::new().tenant(w.tenant), at(0), at(23))
        .unwrap();
    assert_eq!(one.events, 2);
    assert_eq!(one.tenants().into_iter().collect::<Vec<_>>(), [w.tenant]);
}

/// Found in review: the breach scope counted only each event's `subject`,
/// though the filter (`Query::subject`) matches every subject an event
/// concerns. A person whose value is sealed in another's event (Bob's
/// address in a note on Alice's ticket), or who is the actor (Carol, signed
/// in, with her IP in the event), was left out of the count the
/// notification gives; filtering by Bob even found his events and counted
/// nobody. Now every subject the event concerns is counted.
#[test]
fn breach_scope_counts_every_subject_an_event_concerns() {
    let w = world();
    let trail = trail(&w);
    let bob = SubjectId::from_external_key(w.tenant, "contact", "2");
    let carol = SubjectId::from_external_key(w.tenant, "contact", "3");
    let carol_actor = ActorId::from_external_key(w.tenant, "portal.user", "3");
    let thief = ActorId::from_external_key(w.tenant, "api_key", "leaked");
    trail.with_log(|log| {
        // The thief reads Alice's ticket, whose note is about Bob.
        let mut read = Event::builder(
            w.tenant,
            Actor::new(ActorKind::ApiKey, thief),
            Action::Read,
            Target::new("ticket", "T-1").unwrap(),
        )
        .subject(w.alice)
        .time(at(10))
        .build(w.clock.as_ref())
        .unwrap();
        let id = read.id.to_string();
        let ctx = FieldContext::new(w.tenant, custodia_audit::personal::RECORD_TYPE, &id, "note")
            .unwrap();
        let sealed = w.vault.seal(bob, &ctx, b"bob@example.com").unwrap();
        read.note = Some(Personal::Sealed {
            subject: bob,
            sealed,
        });
        log.append(&read).unwrap();
        // Carol, signed in, reads a shared knowledge-base page: no subject.
        let mut own = Event::builder(
            w.tenant,
            Actor::new(ActorKind::User, carol_actor)
                .as_subject(carol)
                .with_ip("198.51.100.4"),
            Action::Read,
            Target::new("kb_page", "K-1").unwrap(),
        )
        .time(at(11))
        .build(w.clock.as_ref())
        .unwrap();
        custodia_audit::personal::seal_event(&w.vault, &mut own).unwrap();
        log.append(&own).unwrap();
    });
    let all = trail.affected(&Query::new(), at(9), at(12)).unwrap();
    assert_eq!(all.events, 2);
    let people = &all.subjects[&w.tenant];
    for (name, person) in [("alice", w.alice), ("bob", bob), ("carol", carol)] {
        assert!(people.contains(&person), "{name} not counted");
    }
    assert_eq!(all.subject_count(), 3);
    // Filtering by Bob finds the thief's read, and counts him.
    let bobs = trail
        .affected(&Query::new().subject(bob), at(9), at(12))
        .unwrap();
    assert_eq!(bobs.events, 1);
    assert!(bobs.subjects[&w.tenant].contains(&bob));
}

/// Art. 15(4), as `custodia_audit::personal::reveal_event_for` decides it:
/// a clear value belongs to its field's owner (the actor's IP to the actor),
/// and a sealed value to the subject whose key sealed it only when its label
/// agrees. A log that takes clear values (`require_sealed(false)`) or holds
/// a mislabelled envelope must not show Alice the agent's IP or Bob's note.
#[test]
fn history_withholds_clear_and_mislabelled_values_of_others() {
    let w = world();
    let trail = Arc::new(AuditTrail::new(
        AuditLog::open(MemoryStore::new())
            .unwrap()
            .require_sealed(false),
        w.vault.clone(),
    ));
    let agent_subject = SubjectId::from_external_key(w.tenant, "agent", "7");
    let bob = SubjectId::from_external_key(w.tenant, "contact", "2");
    trail.with_log(|log| {
        let clear = Event::builder(
            w.tenant,
            Actor::new(ActorKind::Agent, w.agent)
                .as_subject(agent_subject)
                .with_ip("203.0.113.7"),
            Action::Read,
            Target::new("ticket", "T-1").unwrap(),
        )
        .subject(w.alice)
        .build(w.clock.as_ref())
        .unwrap();
        log.append(&clear).unwrap();

        let mut mislabelled = Event::builder(
            w.tenant,
            Actor::new(ActorKind::Agent, w.agent),
            Action::Read,
            Target::new("ticket", "T-2").unwrap(),
        )
        .subject(w.alice)
        .build(w.clock.as_ref())
        .unwrap();
        let id = mislabelled.id.to_string();
        let ctx = custodia_crypt::FieldContext::new(
            w.tenant,
            custodia_audit::personal::RECORD_TYPE,
            &id,
            "note",
        )
        .unwrap();
        let sealed = w.vault.seal(bob, &ctx, b"Bob's own note").unwrap();
        mislabelled.note = Some(Personal::Sealed {
            subject: w.alice,
            sealed,
        });
        log.append(&mislabelled).unwrap();
    });
    let history = trail.rendered_events(w.tenant, w.alice).unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].details["ip"], WITHHELD);
    assert_eq!(history[1].details["note"], WITHHELD);
    // The agent still sees their own clear IP.
    let theirs = trail.rendered_events(w.tenant, agent_subject).unwrap();
    assert_eq!(theirs[0].details["ip"], "203.0.113.7");
}

/// Found in review: one of Alice's audit values that the vault could not
/// open for a reason other than a shred (an envelope labelled hers but
/// forged, or moved from another event) failed her whole audit history, so
/// every later access bundle failed. Now the bundle has every event, the
/// bad value shown as unreadable with its reason (no byte of it) and named
/// in the event's `unreadable`, and the bundle's audit section counts it.
/// A vault whose key store is down still fails the history.
#[test]
fn an_unreadable_value_of_the_subject_is_marked_and_the_bundle_made() {
    let w = world();
    let trail = trail(&w);
    let built = |target: &str| {
        Event::builder(
            w.tenant,
            Actor::new(ActorKind::Agent, w.agent),
            Action::Update,
            Target::new("ticket", target).unwrap(),
        )
        .subject(w.alice)
        .note(format!("note on {target}"))
        .build(w.clock.as_ref())
        .unwrap()
    };
    trail.with_log(|log| {
        let mut first = built("T-1");
        custodia_audit::personal::seal_event(&w.vault, &mut first).unwrap();
        log.append(&first).unwrap();
        let mut moved = built("T-2");
        custodia_audit::personal::seal_event(&w.vault, &mut moved).unwrap();
        moved.note = first.note.clone();
        log.append(&moved).unwrap();
        log.append_sealed(&w.vault, built("T-3")).unwrap();
    });
    let history = trail.rendered_events(w.tenant, w.alice).unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[0].details["note"], "note on T-1");
    assert_eq!(history[1].details["note"], "[unreadable: not_authentic]");
    assert!(history[1].details["note"].starts_with(UNREADABLE));
    assert_eq!(history[1].details["unreadable"], "note");
    assert_eq!(history[2].details["note"], "note on T-3");
    assert!(!history[0].details.contains_key("unreadable"));

    let desk = Desk::new(w.clock.clone(), trail.clone()).with_audit_history(trail.clone());
    let mut request = verified(&desk, &w, w.alice, RequestKind::Access);
    let bundle = desk.export(&mut request, w.agent).unwrap();
    assert_eq!(bundle.audit.unreadable, 1);
    let json: serde_json::Value = serde_json::from_str(&bundle.to_json().unwrap()).unwrap();
    assert_eq!(json["audit"]["unreadable"], 1);
    assert_eq!(
        ExportBundle::from_json(&bundle.to_json().unwrap()).unwrap(),
        bundle
    );

    // A complete history: no count, in the JSON neither.
    let bob = SubjectId::from_external_key(w.tenant, "contact", "2");
    let mut request = verified(&desk, &w, bob, RequestKind::Access);
    let bundle = desk.export(&mut request, w.agent).unwrap();
    assert_eq!(bundle.audit.unreadable, 0);
    assert!(!bundle.to_json().unwrap().contains("\"unreadable\""));

    // A vault that cannot read her values at all (a key store without her
    // key, another root key): the history fails, rather than one where
    // everything is unreadable.
    use custodia_crypt::KeyStore as _;
    let with_her_key = custodia_crypt::MemoryKeyStore::default();
    for (tenant, subject, wrapped) in trail.vault().store().wrapped_keys().unwrap() {
        with_her_key
            .insert_if_absent(tenant, subject, wrapped)
            .unwrap();
    }
    for other in [custodia_crypt::MemoryKeyStore::default(), with_her_key] {
        let vault = Arc::new(SubjectVault::new(
            Arc::new(Keyring::new(SecretKey::generate().unwrap())),
            other,
            w.clock.clone(),
        ));
        let elsewhere = AuditTrail::new(AuditLog::open(MemoryStore::new()).unwrap(), vault);
        elsewhere.with_log(|log| {
            for i in 0..3 {
                log.append(&trail.with_log(|l| l.get(i).unwrap())).unwrap();
            }
        });
        assert!(matches!(
            elsewhere.rendered_events(w.tenant, w.alice),
            Err(Error::AuditHistory(_))
        ));
    }
}

/// The desk's erase of `subject_key` in `history`, the one event that says
/// the key was shredded.
fn shred_event(history: &[RenderedAuditEvent], subject: SubjectId) -> &RenderedAuditEvent {
    let target = format!("subject_key {subject}");
    let mut shreds = history
        .iter()
        .filter(|e| e.action == "erase" && e.target == target);
    let shred = shreds.next().expect("a subject-key shred in the history");
    assert!(shreds.next().is_none(), "one shred event");
    shred
}

#[test]
fn a_subject_key_shred_logs_whether_a_key_existed() {
    let w = world();
    let trail = trail(&w);
    // Alice has a key (a value was sealed for her); Bob never had one.
    let ctx = FieldContext::new(w.tenant, "contact", "1", "email").unwrap();
    w.vault.seal(w.alice, &ctx, b"alice@example.com").unwrap();
    let bob = SubjectId::from_external_key(w.tenant, "contact", "2");
    let desk = Desk::new(w.clock.clone(), trail.clone())
        .with_key_shredder(w.vault.clone())
        .with_audit_history(trail.clone());
    for (subject, outcome, name) in [
        (w.alice, ShredOutcome::KeyDestroyed, "key_destroyed"),
        (bob, ShredOutcome::NoKeyExisted, "no_key_existed"),
    ] {
        let mut erasure = verified(&desk, &w, subject, RequestKind::Erasure);
        let certificate = desk.erase(&mut erasure, w.agent).unwrap();
        assert!(matches!(
            certificate.subject_key,
            SubjectKeyStatus::Shredded { outcome: o, .. } if o == outcome
        ));
        // The log's event carries it, in its sealed details ...
        let history = trail.rendered_events(w.tenant, subject).unwrap();
        let shred = shred_event(&history, subject);
        assert_eq!(
            serde_json::from_str::<DsrAction>(&shred.details["note"]).unwrap(),
            DsrAction::SubjectKeyShredded { outcome }
        );
        assert!(
            shred.details["note"].contains(&format!("\"outcome\":\"{name}\"")),
            "{}",
            shred.details["note"]
        );
        // ... and the rendering names it.
        assert_eq!(shred.details["shred_outcome"], name);
    }
    // The person's access bundle shows it in her history.
    let mut access = verified(&desk, &w, bob, RequestKind::Access);
    let bundle = desk.export(&mut access, w.agent).unwrap();
    assert_eq!(
        shred_event(&bundle.audit.events, bob).details["shred_outcome"],
        "no_key_existed"
    );
    // The log with both shreds still verifies.
    trail.with_log(|log| custodia_audit::verify(log.store().clone(), None).unwrap());
    // Other events say nothing of it.
    let history = trail.rendered_events(w.tenant, w.alice).unwrap();
    assert_eq!(
        history
            .iter()
            .filter(|e| e.details.contains_key("shred_outcome"))
            .count(),
        1
    );
}

#[test]
fn a_shred_event_logged_before_outcomes_still_reads_and_renders() {
    let w = world();
    let trail = trail(&w);
    // The details of a shred event as the desk wrote them before: no outcome.
    const OLD: &str = r#"{"action":"subject_key_shredded"}"#;
    let old = serde_json::from_str::<DsrAction>(OLD).unwrap();
    assert_eq!(
        old,
        DsrAction::SubjectKeyShredded {
            outcome: ShredOutcome::Unrecorded
        }
    );
    assert_eq!(serde_json::to_string(&old).unwrap(), OLD);
    // Such an event in the log, its note sealed under the desk's key.
    let mut logged_before = Event::builder(
        w.tenant,
        Actor::new(ActorKind::Agent, w.agent),
        Action::Erase,
        Target::new("subject_key", w.alice.to_string()).unwrap(),
    )
    .subject(w.alice)
    .legal_basis(LegalBasis::LegalObligation)
    .request_id(RequestId::random().to_string())
    .build(w.clock.as_ref())
    .unwrap();
    let id = logged_before.id.to_string();
    let ctx =
        FieldContext::new(w.tenant, custodia_audit::personal::RECORD_TYPE, &id, "note").unwrap();
    logged_before.note = Some(Personal::Sealed {
        subject: desk_subject(w.tenant),
        sealed: w
            .vault
            .seal(desk_subject(w.tenant), &ctx, OLD.as_bytes())
            .unwrap(),
    });
    trail.with_log(|log| log.append(&logged_before).unwrap());
    // And one with the same fields written now (a host's shredder that
    // does not say): the same details, byte for byte.
    let now = trail
        .to_audit_event(&event(
            &w,
            DsrAction::SubjectKeyShredded {
                outcome: ShredOutcome::Unrecorded,
            },
        ))
        .unwrap();
    trail.with_log(|log| log.append(&now).unwrap());
    trail.with_log(|log| custodia_audit::verify(log.store().clone(), None).unwrap());
    let history = trail.rendered_events(w.tenant, w.alice).unwrap();
    assert_eq!(history.len(), 2);
    for rendered in &history {
        assert_eq!(rendered.action, "erase");
        assert_eq!(rendered.target, format!("subject_key {}", w.alice));
        assert_eq!(rendered.details["note"], OLD);
        assert_eq!(rendered.details["shred_outcome"], "unrecorded");
    }
}

proptest::proptest! {
    /// Whatever the details of an `erase` of `subject_key` hold (a host may
    /// log one), the history renders, and names a shred outcome only when
    /// they are a desk shred event's.
    #[test]
    fn any_details_of_a_subject_key_erase_render(
        note in proptest::prop_oneof![
            proptest::prelude::any::<String>(),
            proptest::sample::select(vec![
                r#"{"action":"subject_key_shredded","outcome":"key_destroyed"}"#.to_owned(),
                r#"{"action":"subject_key_shredded","outcome":"bogus"}"#.to_owned(),
                r#"{"action":"subject_key_shredded","outcome":null}"#.to_owned(),
                r#"{"action":"work_started"}"#.to_owned(),
                r#"{"action":"subject_key_shredded"#.to_owned(),
            ]),
        ],
    ) {
        let w = world();
        let trail = trail(&w);
        let logged_event = Event::builder(
            w.tenant,
            Actor::new(ActorKind::Agent, w.agent),
            Action::Erase,
            Target::new("subject_key", w.alice.to_string()).unwrap(),
        )
        .subject(w.alice)
        .note(note.clone())
        .build(w.clock.as_ref())
        .unwrap();
        trail.with_log(|log| log.append_sealed(&w.vault, logged_event).unwrap());
        let history = trail.rendered_events(w.tenant, w.alice).unwrap();
        proptest::prop_assert_eq!(history.len(), 1);
        proptest::prop_assert_eq!(&history[0].details["note"], &note);
        let expected = match serde_json::from_str::<DsrAction>(&note) {
            Ok(DsrAction::SubjectKeyShredded { outcome }) => {
                Some(serde_json::to_value(outcome).unwrap().as_str().unwrap().to_owned())
            }
            _ => None,
        };
        proptest::prop_assert_eq!(history[0].details.get("shred_outcome").cloned(), expected);
    }
}
