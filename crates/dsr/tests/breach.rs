//! The breach register: notifications against their clocks, audited.

use std::sync::Arc;

use chrono::{TimeDelta, TimeZone, Utc};
use custodia_core::{ActorId, Clock, DataCategory, ManualClock, Role, SubjectId, TenantId};
use custodia_dsr::breach::{
    BreachRegister, Contact, Incident, Lateness, NotificationRecipient, affected_in_window,
};
use custodia_dsr::{DsrAction, Error, MemorySink};

#[test]
fn notifications_are_timed_audited_and_late_ones_need_reasons() {
    let aware = Utc.with_ymd_and_hms(2026, 7, 10, 23, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(aware));
    let sink = Arc::new(MemorySink::new());
    let register = BreachRegister::new(clock.clone(), sink.clone());
    let acme = TenantId::from_external_key("crm", "acme");
    let globex = TenantId::from_external_key("crm", "globex");
    let dpo = ActorId::from_external_key(acme, "staff", "dpo");
    let mut incident = Incident::new(
        Role::Processor,
        aware,
        "Misconfigured attachment bucket was public for six hours.",
        Contact {
            name: "DPO".into(),
            contact: "dpo@deskly.example".into(),
        },
    );
    let t = |h| aware - TimeDelta::hours(h);
    let log = vec![
        (
            t(10),
            acme,
            Some(SubjectId::from_external_key(acme, "c", "1")),
        ),
        (
            t(5),
            acme,
            Some(SubjectId::from_external_key(acme, "c", "2")),
        ),
        (
            t(4),
            globex,
            Some(SubjectId::from_external_key(globex, "c", "1")),
        ),
        (t(3), globex, None),
    ];
    incident.window = Some((t(6), t(0)));
    incident.apply_affected(&affected_in_window(log, t(6), t(0)));
    incident
        .data_categories
        .insert(DataCategory::USER_CONTENT_ATTACHMENT);
    assert_eq!(incident.tenants.len(), 2);
    assert_eq!(incident.approx_subjects, 2);
    assert_eq!(incident.approx_records, 3);
    register.record(&incident, dpo).unwrap();

    // Within 24 hours to Acme: on time.
    clock.advance(TimeDelta::hours(20));
    register
        .notify(
            &mut incident,
            NotificationRecipient::Controller {
                tenant: Some(acme),
                name: "Acme".into(),
            },
            None,
            dpo,
        )
        .unwrap();
    // Globex after 30 hours: late, and refused without reasons.
    clock.advance(TimeDelta::hours(10));
    let globex_notice = NotificationRecipient::Controller {
        tenant: Some(globex),
        name: "Globex".into(),
    };
    assert!(matches!(
        register.notify(&mut incident, globex_notice.clone(), Some("  "), dpo),
        Err(Error::Empty { .. })
    ));
    register
        .notify(
            &mut incident,
            globex_notice,
            Some("Globex's security contact bounced; reached by phone"),
            dpo,
        )
        .unwrap();
    assert_eq!(incident.notifications.len(), 2);
    assert!(!incident.notifications[0].late);
    assert!(incident.notifications[1].late);
    assert_eq!(incident.notifications[1].at, clock.now());
    let actions = sink.actions();
    assert!(matches!(
        actions[0],
        DsrAction::BreachRecorded {
            role: Role::Processor
        }
    ));
    assert!(matches!(
        actions[1],
        DsrAction::BreachNotified { late: false, .. }
    ));
    assert!(matches!(
        actions[2],
        DsrAction::BreachNotified { late: true, .. }
    ));
    assert_eq!(actions.len(), 3, "the refused notice left no trace");
    assert!(
        sink.events()
            .iter()
            .all(|e| e.incident == Some(incident.id) && e.tenant.is_none())
    );
    let draft = incident.controller_draft(clock.now());
    assert!(draft.contains("Reasons for the delay"), "{draft}");
    assert!(draft.contains("user.content.attachment"));
}

/// A processor's delay comes from the caller (the builder, or an
/// incident's JSON, which `POST /breaches` takes whole): any value gives a
/// deadline, never a panic. Past the calendar's range it is the latest
/// time there is; a negative delay, which only a hand-written incident can
/// hold, counts as none. (Found in review: `TimeDelta::hours` panicked
/// above about 2.56e12 hours, and a stored incident then broke every
/// listing of the register.)
#[test]
fn any_processor_delay_gives_a_deadline() {
    let aware = Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).unwrap();
    let contact = || Contact {
        name: "DPO".into(),
        contact: "dpo@example.com".into(),
    };
    let built = Incident::new(Role::Processor, aware, "x", contact()).processor_delay(i64::MAX);
    assert_eq!(built.deadline(), chrono::DateTime::<Utc>::MAX_UTC);
    let written = Incident::new(Role::Processor, aware, "x", contact())
        .to_json()
        .unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&written).unwrap();
    json["processor_delay_hours"] = 3_000_000_000_000_i64.into();
    let read = Incident::from_json(&json.to_string()).unwrap();
    assert_eq!(read.processor_delay_hours, 3_000_000_000_000);
    assert_eq!(read.deadline(), chrono::DateTime::<Utc>::MAX_UTC);
    assert!(matches!(read.lateness(aware), Lateness::OnTime(_)));
    let mut negative = Incident::new(Role::Processor, aware, "x", contact());
    negative.processor_delay_hours = -5;
    assert_eq!(negative.controller_deadline(), aware);
}

/// A host whose store may refuse the notified incident (a lost
/// compare-and-swap) stamps the notification first and audits it only
/// once stored: the stamping alone leaves no event.
#[test]
fn a_notification_is_stamped_without_audit_and_audited_on_its_own() {
    let aware = Utc.with_ymd_and_hms(2026, 7, 10, 23, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(aware));
    let sink = Arc::new(MemorySink::new());
    let register = BreachRegister::new(clock.clone(), sink.clone());
    let acme = TenantId::from_external_key("crm", "acme");
    let dpo = ActorId::from_external_key(acme, "staff", "dpo");
    let mut incident = Incident::new(
        Role::Controller,
        aware,
        "Laptop lost.",
        Contact {
            name: "DPO".into(),
            contact: "dpo@deskly.example".into(),
        },
    );
    incident.tenants.insert(acme);
    clock.advance(TimeDelta::hours(80));
    let authority = NotificationRecipient::Authority { name: "OPC".into() };
    assert!(matches!(
        register.notification(&incident, authority.clone(), None),
        Err(Error::Empty { .. })
    ));
    let late = register
        .notification(&incident, authority, Some(" found in a backup audit "))
        .unwrap();
    assert!(late.late);
    assert_eq!(late.at, clock.now());
    assert_eq!(
        late.delay_reason.as_deref(),
        Some("found in a backup audit")
    );
    assert!(sink.actions().is_empty(), "stamped, not yet audited");
    assert!(incident.notifications.is_empty());
    register.audit_notification(&incident, &late, dpo).unwrap();
    let actions = sink.actions();
    assert_eq!(actions.len(), 1);
    assert!(matches!(
        actions[0],
        DsrAction::BreachNotified { late: true, .. }
    ));
}

/// Art. 33(4): information may be provided in phases. A follow-up to a
/// recipient already notified is a further phase, not a late notification:
/// it needs no reason for delay and is not recorded as late, while a first
/// notification to another recipient after the deadline still is.
#[test]
fn a_follow_up_in_phases_is_not_a_late_notification() {
    let aware = Utc.with_ymd_and_hms(2026, 7, 10, 23, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(aware));
    let sink = Arc::new(MemorySink::new());
    let register = BreachRegister::new(clock.clone(), sink.clone());
    let dpo = ActorId::from_external_key(TenantId::from_external_key("crm", "acme"), "s", "dpo");
    let mut incident = Incident::new(
        Role::Controller,
        aware,
        "Ticket export mailed to the wrong customer.",
        Contact {
            name: "DPO".into(),
            contact: "dpo@deskly.example".into(),
        },
    );
    let cnil = NotificationRecipient::Authority {
        name: "CNIL".into(),
    };
    clock.advance(TimeDelta::hours(60));
    register
        .notify(&mut incident, cnil.clone(), None, dpo)
        .unwrap();
    // Four days later, the numbers are known: a second phase.
    clock.advance(TimeDelta::hours(40));
    register
        .notify(&mut incident, cnil.clone(), None, dpo)
        .unwrap();
    assert_eq!(incident.notifications.len(), 2);
    assert!(!incident.notifications[1].late);
    assert!(
        sink.events()
            .iter()
            .all(|e| !matches!(e.action, DsrAction::BreachNotified { late: true, .. }))
    );
    // Another authority told for the first time now is late.
    let other = NotificationRecipient::Authority {
        name: "BfDI".into(),
    };
    assert!(matches!(
        register.notify(&mut incident, other.clone(), None, dpo),
        Err(Error::Empty { .. })
    ));
    register
        .notify(
            &mut incident,
            other,
            Some("cross-border scope found late"),
            dpo,
        )
        .unwrap();
    assert!(incident.notifications[2].late);
}

/// Awareness starts every clock: one in the future (past the register's
/// clock by more than the allowed skew) would push the 72-hour deadline
/// out, and a breach window cannot end before it starts. Both are refused
/// when an incident is recorded or updated, and nothing is audited.
#[test]
fn a_future_awareness_or_a_reversed_window_is_refused() {
    let now = Utc.with_ymd_and_hms(2026, 7, 10, 23, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(now));
    let sink = Arc::new(MemorySink::new());
    let register = BreachRegister::new(clock.clone(), sink.clone());
    let acme = TenantId::from_external_key("crm", "acme");
    let dpo = ActorId::from_external_key(acme, "staff", "dpo");
    let incident = |aware| {
        Incident::new(
            Role::Controller,
            aware,
            "Laptop lost.",
            Contact {
                name: "DPO".into(),
                contact: "dpo@deskly.example".into(),
            },
        )
    };
    let future = incident(now + TimeDelta::days(30));
    let err = register.record(&future, dpo).unwrap_err();
    assert!(
        matches!(err, Error::AwareInFuture { incident, aware_at, now: at }
            if incident == future.id && aware_at == future.aware_at && at == now),
        "{err}"
    );
    assert!(err.to_string().contains("in the future"), "{err}");
    let mut reversed = incident(now - TimeDelta::hours(1));
    reversed.window = Some((now - TimeDelta::hours(2), now - TimeDelta::hours(5)));
    let err = register.record(&reversed, dpo).unwrap_err();
    assert!(
        matches!(err, Error::WindowReversed { incident, .. } if incident == reversed.id),
        "{err}"
    );
    assert!(sink.actions().is_empty(), "nothing refused is audited");

    // Within the skew the two clocks may differ by, and a window of one
    // instant, are accepted.
    let skew = TimeDelta::seconds(custodia_dsr::breach::AWARENESS_SKEW_SECONDS);
    let mut near = incident(now + skew);
    near.window = Some((now - TimeDelta::hours(3), now - TimeDelta::hours(3)));
    register.record(&near, dpo).unwrap();
    assert!(
        register
            .record(&incident(now + skew + TimeDelta::seconds(1)), dpo)
            .is_err()
    );

    // An update is held to the same rules.
    let mut updated = incident(now - TimeDelta::hours(1));
    register.record(&updated, dpo).unwrap();
    updated.window = Some((now, now - TimeDelta::hours(1)));
    assert!(matches!(
        register.update(&updated, dpo),
        Err(Error::WindowReversed { .. })
    ));
    updated.window = None;
    updated.aware_at = now + TimeDelta::days(1);
    assert!(matches!(
        register.update(&updated, dpo),
        Err(Error::AwareInFuture { .. })
    ));
    assert_eq!(sink.actions().len(), 2, "the two recordings only");
}

/// The 72-hour judgement of a notification counts from `aware_at`. An
/// incident that never went through `record` (read back from a store edited
/// since, or built by hand) with an awareness in the future would be judged
/// against a deadline pushed out: a notification days past the real one
/// recorded as on time, with no reason for the delay. It is refused, and
/// nothing is audited; once its awareness is corrected it is judged late.
#[test]
fn a_notification_of_an_incident_aware_in_the_future_is_refused() {
    let now = Utc.with_ymd_and_hms(2026, 7, 20, 9, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(now));
    let sink = Arc::new(MemorySink::new());
    let register = BreachRegister::new(clock.clone(), sink.clone());
    let acme = TenantId::from_external_key("crm", "acme");
    let dpo = ActorId::from_external_key(acme, "staff", "dpo");
    // Really became aware ten days ago; the stored incident says next week.
    let stored = Incident::new(
        Role::Controller,
        now + TimeDelta::days(7),
        "Backup tape lost in transit.",
        Contact {
            name: "DPO".into(),
            contact: "dpo@deskly.example".into(),
        },
    );
    // Decoding checks no times: a stored incident stays readable.
    let mut incident = Incident::from_json(&stored.to_json().unwrap()).unwrap();
    let cnil = NotificationRecipient::Authority {
        name: "CNIL".into(),
    };
    let err = register
        .notification(&incident, cnil.clone(), None)
        .unwrap_err();
    assert!(
        matches!(err, Error::AwareInFuture { incident: id, now: at, .. }
            if id == incident.id && at == now),
        "{err}"
    );
    assert!(matches!(
        register.notify(&mut incident, cnil.clone(), None, dpo),
        Err(Error::AwareInFuture { .. })
    ));
    assert!(incident.notifications.is_empty());
    assert!(sink.actions().is_empty(), "nothing refused is audited");

    // Corrected, it is late and needs its reason.
    incident.aware_at = now - TimeDelta::days(10);
    register.update(&incident, dpo).unwrap();
    assert!(matches!(
        register.notification(&incident, cnil.clone(), None),
        Err(Error::Empty { .. })
    ));
    let late = register
        .notification(&incident, cnil, Some("the tape's loss was reported late"))
        .unwrap();
    assert!(late.late);

    // Awareness within the allowed skew is not "in the future".
    let skew = TimeDelta::seconds(custodia_dsr::breach::AWARENESS_SKEW_SECONDS);
    incident.aware_at = now + skew;
    let on_time = register
        .notification(
            &incident,
            NotificationRecipient::Authority { name: "ICO".into() },
            None,
        )
        .unwrap();
    assert!(!on_time.late);
}

/// `check_record` refuses what `record` refuses, against the register's
/// clock, and audits nothing either way: a host checks a new incident
/// before storing it and records it once stored.
#[test]
fn check_record_refuses_as_record_does_and_audits_nothing() {
    let now = Utc.with_ymd_and_hms(2026, 7, 10, 23, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(now));
    let sink = Arc::new(MemorySink::new());
    let register = BreachRegister::new(clock.clone(), sink.clone());
    let dpo = ActorId::from_external_key(TenantId::from_external_key("crm", "acme"), "s", "d");
    let contact = Contact {
        name: "DPO".into(),
        contact: "dpo@deskly.example".into(),
    };
    let fine = Incident::new(Role::Controller, now, "laptop lost", contact.clone());
    let future = Incident::new(
        Role::Controller,
        now + TimeDelta::hours(1),
        "laptop lost",
        contact.clone(),
    );
    let mut reversed = fine.clone();
    reversed.window = Some((now, now - TimeDelta::hours(1)));
    register.check_record(&fine).unwrap();
    assert!(matches!(
        register.check_record(&future),
        Err(Error::AwareInFuture { .. })
    ));
    assert!(matches!(
        register.record(&future, dpo),
        Err(Error::AwareInFuture { .. })
    ));
    assert!(matches!(
        register.check_record(&reversed),
        Err(Error::WindowReversed { .. })
    ));
    assert!(sink.actions().is_empty());
    // Checked now, recorded a moment later: still accepted.
    clock.advance(TimeDelta::minutes(5));
    register.record(&fine, dpo).unwrap();
    assert_eq!(sink.actions().len(), 1);
}
