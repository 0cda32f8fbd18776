//! Properties: month arithmetic, request deadlines, breach clocks, the state
//! machine under random steps, and total JSON decoders.

use std::sync::Arc;

use chrono::{Datelike, NaiveDate, TimeDelta};
use custodia_core::calendar::{add_months, days_in_month};
use custodia_core::{ActorId, Clock, ManualClock, Role, SubjectId, TenantId};
use custodia_dsr::arbitrary::{incident, timestamp};
use custodia_dsr::breach::{AUTHORITY_HOURS, Lateness, affected_in_window};
use custodia_dsr::period::months_after;
use custodia_dsr::records::ProcessingRegistry;
use custodia_dsr::*;
use custodia_dsr::{ErasureException, ErasureHold, StaticHolds};
use custodia_dsr::{due_after_receipt, extended_due};
use proptest::prelude::*;

fn date() -> impl Strategy<Value = NaiveDate> {
    timestamp().prop_map(|t| t.date_naive())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn same_date_or_last_day_of_the_target_month(d in date(), n in 0u32..48) {
        let out = add_months(d, n).unwrap();
        let months = (out.year() - d.year()) * 12 + out.month() as i32 - d.month() as i32;
        prop_assert_eq!(months, n as i32);
        let last = u32::try_from(days_in_month(i64::from(out.year()), i64::from(out.month()))).unwrap();
        if d.day() <= last {
            prop_assert_eq!(out.day(), d.day());
        } else {
            prop_assert_eq!(out.day(), last);
        }
    }

    #[test]
    fn adding_months_is_monotone(a in date(), b in date(), n in 0u32..36) {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        prop_assert!(add_months(lo, n).unwrap() <= add_months(hi, n).unwrap());
    }

    #[test]
    fn chained_periods_never_exceed_one_long_period(d in date(), a in 0u32..24, b in 0u32..24) {
        let chained = add_months(add_months(d, a).unwrap(), b).unwrap();
        let direct = add_months(d, a + b).unwrap();
        prop_assert!(chained <= direct);
        if d.day() <= 28 {
            prop_assert_eq!(chained, direct);
        }
    }

    #[test]
    fn due_is_after_receipt_by_a_month(received in timestamp()) {
        let due = due_after_receipt(received).unwrap();
        prop_assert!(due >= received);
        let days = (due.date_naive() - received.date_naive()).num_days();
        prop_assert!((28..=31).contains(&days), "{} days", days);
        prop_assert_eq!(due, months_after(received, 1).unwrap());
    }

    #[test]
    fn due_dates_are_monotone_in_receipt(a in timestamp(), b in timestamp()) {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        prop_assert!(due_after_receipt(lo).unwrap() <= due_after_receipt(hi).unwrap());
    }

    #[test]
    fn extension_adds_exactly_two_periods(received in timestamp()) {
        let due = due_after_receipt(received).unwrap();
        let extended = extended_due(due).unwrap();
        prop_assert_eq!(extended, months_after(due, 2).unwrap());
        prop_assert_eq!(extended.date_naive(), add_months(due.date_naive(), 2).unwrap());
        prop_assert!(extended > due);
        // Never later than three months from receipt: the conservative reading.
        prop_assert!(extended <= months_after(received, 3).unwrap());
        let days = (extended.date_naive() - due.date_naive()).num_days();
        prop_assert!((58..=62).contains(&days), "{} days", days);
    }

    #[test]
    fn breach_clocks(i in incident(), offset in -200i64..200) {
        prop_assert_eq!(i.authority_deadline() - i.aware_at, TimeDelta::hours(AUTHORITY_HOURS));
        prop_assert_eq!(i.controller_deadline() - i.aware_at, TimeDelta::hours(i.processor_delay_hours));
        let now = i.aware_at + TimeDelta::hours(offset);
        match i.lateness(now) {
            Lateness::OnTime(left) => {
                prop_assert!(left >= TimeDelta::zero());
                prop_assert_eq!(now + left, i.deadline());
            }
            Lateness::Late(by) => {
                prop_assert!(by > TimeDelta::zero());
                prop_assert_eq!(i.deadline() + by, now);
            }
        }
        if i.role == Role::Processor && i.processor_delay_hours <= AUTHORITY_HOURS {
            prop_assert!(i.controller_deadline() <= i.authority_deadline());
        }
    }

    /// An incident's times are accepted exactly when awareness is no later
    /// than the clock plus the allowed skew and the window, if any, does
    /// not end before it starts; at any time, even the calendar's last.
    #[test]
    fn incident_times_are_checked_against_the_clock(
        i in incident(),
        now in prop_oneof![timestamp(), Just(chrono::DateTime::<chrono::Utc>::MAX_UTC)],
        window in proptest::option::of((timestamp(), timestamp())),
    ) {
        let mut i = i;
        i.window = window;
        let skew = TimeDelta::seconds(custodia_dsr::breach::AWARENESS_SKEW_SECONDS);
        let aware_ok = now.checked_add_signed(skew).is_none_or(|latest| i.aware_at <= latest);
        let window_ok = window.is_none_or(|(start, end)| start <= end);
        match i.check_times(now) {
            Ok(()) => prop_assert!(aware_ok && window_ok),
            Err(Error::AwareInFuture { .. }) => prop_assert!(!aware_ok),
            Err(Error::WindowReversed { .. }) => prop_assert!(aware_ok && !window_ok),
            Err(other) => prop_assert!(false, "{}", other),
        }
    }

    /// A notification is judged from awareness, so it is refused exactly
    /// when awareness is in the future (as recording refuses it), whatever
    /// the incident's window; never a panic, even at the calendar's last
    /// instant.
    #[test]
    fn a_notification_is_refused_exactly_when_awareness_is_in_the_future(
        i in incident(),
        now in prop_oneof![timestamp(), Just(chrono::DateTime::<chrono::Utc>::MAX_UTC)],
    ) {
        let register = breach::BreachRegister::new(
            Arc::new(ManualClock::new(now)),
            Arc::new(MemorySink::new()),
        );
        let skew = TimeDelta::seconds(custodia_dsr::breach::AWARENESS_SKEW_SECONDS);
        let aware_ok = now.checked_add_signed(skew).is_none_or(|latest| i.aware_at <= latest);
        let recipient = breach::NotificationRecipient::Authority { name: "DPC".into() };
        match register.notification(&i, recipient, Some("reason")) {
            Ok(n) => prop_assert!(aware_ok && n.at == now),
            Err(Error::AwareInFuture { .. }) => prop_assert!(!aware_ok),
            Err(other) => prop_assert!(false, "{}", other),
        }
    }

    /// Any delay an incident's JSON can hold gives a deadline no earlier
    /// than awareness, and never a panic.
    #[test]
    fn any_processor_delay_is_a_deadline(i in incident(), hours in any::<i64>()) {
        let mut i = i;
        i.processor_delay_hours = hours;
        let deadline = i.controller_deadline();
        prop_assert!(deadline >= i.aware_at);
        if let Some(exact) = TimeDelta::try_hours(hours.max(0)).and_then(|d| i.aware_at.checked_add_signed(d)) {
            prop_assert_eq!(deadline, exact);
        } else {
            prop_assert_eq!(deadline, chrono::DateTime::<chrono::Utc>::MAX_UTC);
        }
    }

    #[test]
    fn affected_counts_only_the_window(
        events in proptest::collection::vec((timestamp(), 0u8..3, proptest::option::of(0u8..5)), 0..40),
        a in timestamp(), b in timestamp(),
    ) {
        let (start, end) = if a <= b { (a, b) } else { (b, a) };
        let tenants: Vec<TenantId> = (0..3).map(|i| TenantId::from_external_key("t", &i.to_string())).collect();
        let rows: Vec<_> = events.iter().map(|(at, t, s)| {
            let tenant = tenants[*t as usize];
            (*at, tenant, s.map(|s| SubjectId::from_external_key(tenant, "c", &s.to_string())))
        }).collect();
        let affected = affected_in_window(rows.clone(), start, end);
        let inside: Vec<_> = rows.iter().filter(|(at, _, _)| *at >= start && *at <= end).collect();
        prop_assert_eq!(affected.events, inside.len() as u64);
        for (tenant, subjects) in &affected.subjects {
            for s in subjects {
                prop_assert!(inside.iter().any(|(_, t, x)| t == tenant && *x == Some(*s)));
            }
        }
        for (_, t, s) in &inside {
            prop_assert!(affected.subjects.contains_key(t));
            if let Some(s) = s {
                prop_assert!(affected.subjects[t].contains(s));
            }
        }
    }

    #[test]
    fn decoders_are_total(text in ".{0,200}") {
        // Never a panic; always a typed error or a value.
        let _ = ExportBundle::from_json(&text);
        let _ = ErasureCertificate::from_json(&text);
        let _ = ProcessingRegistry::from_json(&text);
        let _ = Request::from_json(&text);
        let _ = custodia_dsr::breach::Incident::from_json(&text);
    }

    #[test]
    fn an_audit_sections_unreadable_count_round_trips_or_is_refused(
        n in any::<u64>(),
        junk in prop_oneof![Just("-1".to_owned()), Just("1.5".to_owned()), "\"[a-z0-9]{0,6}\"", Just("null".to_owned())],
    ) {
        let text = format!("{{\"status\":\"included\",\"unreadable\":{n},\"events\":[]}}");
        let section: AuditSection = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(section.unreadable as u64, n);
        let again: AuditSection = serde_json::from_str(&serde_json::to_string(&section).unwrap()).unwrap();
        prop_assert_eq!(&again, &section);
        // Omitted: 0, and 0 is not written.
        let none: AuditSection = serde_json::from_str("{\"status\":\"included\",\"events\":[]}").unwrap();
        prop_assert_eq!(none.unreadable, 0);
        prop_assert!(!serde_json::to_string(&none).unwrap().contains("unreadable"));
        // Anything but a count: a typed error, never a panic.
        let text = format!("{{\"status\":\"included\",\"unreadable\":{junk},\"events\":[]}}");
        prop_assert!(serde_json::from_str::<AuditSection>(&text).is_err());
    }

    #[test]
    fn kept_key_and_deadline_status_round_trip(key in any::<KeptKey>(), status in any::<DeadlineStatus>()) {
        let json = serde_json::to_string(&key).unwrap();
        prop_assert_eq!(serde_json::from_str::<KeptKey>(&json).unwrap(), key);
        let json = serde_json::to_string(&status).unwrap();
        prop_assert_eq!(serde_json::from_str::<DeadlineStatus>(&json).unwrap(), status);
    }

    #[test]
    fn certificates_of_versions_1_and_2_are_read_others_refused(v in any::<u32>()) {
        let text = format!("{{\"version\": {v}, \"schema\": \"custodia.dsr.erasure_certificate\"}}");
        match ErasureCertificate::from_json(&text) {
            // Versions this build reads: the shape (not the version) is wrong.
            Err(Error::Decode { what, .. }) => {
                prop_assert!(v == 1 || v == 2, "{}", v);
                prop_assert_eq!(what, "erasure certificate");
            }
            Err(Error::UnsupportedVersion { found, supported, .. }) => {
                prop_assert!(v != 1 && v != 2);
                prop_assert_eq!((found, supported), (v, ErasureCertificate::VERSION));
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }

    #[test]
    fn versioned_garbage_is_a_decode_error(field in "[a-z]{1,8}", v in any::<u32>()) {
        let text = format!("{{\"version\": {v}, \"{field}\": 1}}");
        let err = Request::from_json(&text).unwrap_err();
        if v == Request::VERSION {
            prop_assert!(matches!(err, Error::Decode { what: "request", .. }), "{:?}", err);
        } else {
            prop_assert_eq!(err, Error::UnsupportedVersion { what: "request", found: v, supported: 1 });
        }
    }

    #[test]
    fn requests_round_trip(r in custodia_dsr::arbitrary::request()) {
        prop_assert_eq!(r.state, RequestState::Received);
        prop_assert_eq!(r.due, due_after_receipt(r.received_at).unwrap());
        prop_assert_eq!(Request::from_json(&r.to_json().unwrap()).unwrap(), r);
    }

    /// The subject-level step and its answer as the source protocol carries
    /// them (serde JSON), from the `proptest` feature's strategies.
    #[test]
    fn subject_steps_and_outcomes_round_trip(
        step in any::<SubjectStep>(),
        outcome in custodia_dsr::arbitrary::subject_outcome(),
    ) {
        let json = serde_json::to_string(&step).unwrap();
        prop_assert_eq!(serde_json::from_str::<SubjectStep>(&json).unwrap(), step);
        let json = serde_json::to_string(&outcome).unwrap();
        prop_assert_eq!(serde_json::from_str::<SubjectOutcome>(&json).unwrap(), outcome);
    }

    /// A request's progress, every field of it, round-trips through the
    /// request's JSON. The same JSON without `subject_step_ran` (progress
    /// a build before it wrote) reads as the step not run, all else equal;
    /// anything but a boolean there is the request's typed decode error.
    #[test]
    fn progress_round_trips_and_older_progress_reads_as_step_not_run(
        r in custodia_dsr::arbitrary::request(),
        progress in custodia_dsr::arbitrary::progress(),
        junk in prop_oneof![Just("1"), Just("\"true\""), Just("null"), Just("[]"), Just("{}")],
    ) {
        let mut r = r;
        r.progress = progress;
        let json = r.to_json().unwrap();
        prop_assert_eq!(Request::from_json(&json).unwrap(), r.clone());

        let mut older: serde_json::Value = serde_json::from_str(&json).unwrap();
        let sources = older["progress"]["sources"].as_object_mut().unwrap();
        for p in sources.values_mut() {
            p.as_object_mut().unwrap().remove("subject_step_ran");
        }
        let read = Request::from_json(&older.to_string()).unwrap();
        prop_assert_eq!(read.progress.sources.len(), r.progress.sources.len());
        for (name, p) in &r.progress.sources {
            let mut expected = p.clone();
            match &mut expected {
                SourceProgress::Done { subject_step_ran, .. }
                | SourceProgress::Failed { subject_step_ran, .. } => *subject_step_ran = false,
            }
            prop_assert!(!read.progress.sources[name].subject_step_ran());
            prop_assert_eq!(&read.progress.sources[name], &expected);
        }

        let Some(first) = older["progress"]["sources"].as_object_mut().unwrap().values_mut().next() else {
            return Ok(());
        };
        first["subject_step_ran"] = serde_json::from_str(junk).unwrap();
        let refused = Request::from_json(&older.to_string());
        prop_assert!(
            matches!(refused, Err(Error::Decode { what: "request", .. })),
            "{:?}", refused
        );
    }

    #[test]
    fn incidents_round_trip(i in incident()) {
        prop_assert_eq!(custodia_dsr::breach::Incident::from_json(&i.to_json().unwrap()).unwrap(), i);
    }
}

#[derive(Debug, Clone)]
enum Step {
    Verify,
    Extend,
    Reject,
    Run,
    Wait(i64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        Just(Step::Verify),
        Just(Step::Extend),
        Just(Step::Reject),
        Just(Step::Run),
        (0i64..40).prop_map(Step::Wait),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_state_machine_holds_under_random_steps(
        kind in any::<RequestKind>(),
        role in any::<Role>(),
        received in timestamp(),
        steps in proptest::collection::vec(step(), 0..12),
    ) {
        let clock = Arc::new(ManualClock::new(received));
        let sink = Arc::new(MemorySink::new());
        let desk = Desk::new(clock.clone(), sink.clone())
            .with_source(Arc::new(MemorySource::new("empty")))
            .unwrap();
        let tenant = TenantId::from_external_key("t", "1");
        let subject = SubjectId::from_external_key(tenant, "c", "1");
        let actor = ActorId::from_external_key(tenant, "a", "1");
        let mut r = desk.receive(tenant, subject, kind, role, actor).unwrap();
        let first_due = r.due;
        for step in steps {
            let before = r.clone();
            let events_before = sink.events().len();
            let result = match step {
                Step::Verify => desk.verify(&mut r, VerificationMethod::AuthenticatedSession, "", actor),
                Step::Extend => desk.extend(&mut r, "complex", actor),
                Step::Reject => desk.reject(&mut r, RejectionReason::Other, "because", actor),
                Step::Run => desk.run(&mut r, actor).map(|_| ()),
                Step::Wait(days) => { clock.advance(TimeDelta::days(days)); Ok(()) }
            };
            if result.is_err() {
                // A refused step changes nothing and records nothing.
                prop_assert_eq!(&r, &before);
                prop_assert_eq!(sink.events().len(), events_before);
            }
            let now = clock.now();
            match (&step, &result) {
                // Art. 12(3): an extension is only ever decided in the first month.
                (Step::Extend, Ok(())) => prop_assert!(now <= first_due),
                (Step::Extend, Err(Error::ExtensionTooLate { due, .. })) => {
                    prop_assert!(now > first_due);
                    prop_assert_eq!(*due, first_due);
                }
                // Art. 12(4): a refusal is accepted, late or not, and says which.
                (Step::Reject, Ok(())) => {
                    let late = now > first_due;
                    prop_assert_eq!(r.rejection.as_ref().map(|j| j.late), Some(late));
                    let last = sink.events().pop().map(|e| e.action);
                    prop_assert_eq!(last, Some(DsrAction::RequestRejected { reason: RejectionReason::Other, late }));
                }
                _ => {}
            }
            prop_assert_eq!(r.decision_due(), first_due);
            let status = r.deadline_status(now);
            prop_assert_eq!(
                matches!(status, DeadlineStatus::NoDecision { .. }),
                !r.state.is_final() && r.extension.is_none() && now > first_due
            );
            prop_assert_eq!(status.is_late(), r.is_overdue(now));
            prop_assert_eq!(desk.late_requests([&r]).len(), usize::from(status.is_late()));
            if before.state.is_final() {
                prop_assert_eq!(r.state, before.state);
            }
            prop_assert!(r.due >= first_due);
            if role == Role::Processor {
                prop_assert!(!matches!(r.state, RequestState::InProgress | RequestState::Completed));
            }
        }
        // Every transition is in the history and consistent.
        for pair in r.history.windows(2) {
            prop_assert_eq!(pair[0].to, pair[1].from);
        }
        if let Some(last) = r.history.last() {
            prop_assert_eq!(last.to, r.state);
        }
        prop_assert!(r.history.iter().filter(|t| t.to == RequestState::Extended).count() <= 1);
        if r.extension.is_some() {
            prop_assert_eq!(r.due, extended_due(first_due).unwrap());
        } else {
            prop_assert_eq!(r.due, first_due);
        }
        prop_assert_eq!(Request::from_json(&r.to_json().unwrap()).unwrap(), r);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// With records sealed under the subject key (the default) in a source
    /// that cannot re-seal: whatever records are held, the subject key is
    /// shredded iff none is kept; releasing every hold and re-running then
    /// shreds it.
    #[test]
    fn the_key_is_never_shredded_while_a_record_needing_it_is_kept(held in proptest::collection::vec(any::<bool>(), 1..6)) {
        use chrono::{TimeZone, Utc};
        use custodia_core::{DataCategory, LegalBasis};
        use custodia_crypt::{FieldContext, Keyring, MemoryKeyStore, SecretKey, SubjectVault};
        use custodia_dsr::SubjectKeyStatus;
        let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()));
        let tenant = TenantId::from_external_key("billing.account", "ACME-0042");
        let alice = SubjectId::from_external_key(tenant, "psa.contact", "1017");
        let dpo = ActorId::from_external_key(tenant, "psa.user", "dpo");
        let tickets = Arc::new(MemorySource::new("tickets"));
        let mut holds = StaticHolds::new();
        for (i, h) in held.iter().enumerate() {
            let r = RecordRef::new("ticket", format!("T-{i}"));
            tickets.insert(tenant, alice, r.clone(), LegalBasis::Contract,
                [("email", DataCategory::USER_CONTACT_EMAIL, "alice@example.com", true)]);
            if *h {
                holds = holds.hold(tenant, "tickets", r, ErasureHold {
                    exception: ErasureException::LegalClaims, reason: "dispute".into(), until: None });
            }
        }
        let vault = Arc::new(SubjectVault::new(
            Arc::new(Keyring::new(SecretKey::from_bytes([9; 32]))), MemoryKeyStore::default(), clock.clone()));
        let ctx = FieldContext::new(tenant, "ticket", "T-0", "email").unwrap();
        let sealed = vault.seal(alice, &ctx, b"alice@example.com").unwrap();
        let desk = Desk::new(clock.clone(), Arc::new(MemorySink::new()))
            .with_source(tickets.clone()).unwrap()
            .with_retention(Arc::new(holds))
            .with_key_shredder(vault.clone());
        let mut request = desk.receive(tenant, alice, RequestKind::Erasure, Role::Controller, dpo).unwrap();
        desk.verify(&mut request, VerificationMethod::AuthenticatedSession, "", dpo).unwrap();
        let certificate = desk.erase(&mut request, dpo).unwrap();
        let any_held = held.iter().any(|h| *h);
        prop_assert_eq!(certificate.kept.len(), held.iter().filter(|h| **h).count());
        prop_assert_eq!(vault.open(&ctx, &sealed).is_ok(), any_held);
        prop_assert_eq!(matches!(certificate.subject_key, SubjectKeyStatus::Deferred { .. }), any_held);
        prop_assert_eq!(tickets.len(), held.iter().filter(|h| **h).count());
        // Release every hold: the re-run erases the rest and shreds.
        let released = Desk::new(clock.clone(), Arc::new(MemorySink::new()))
            .with_source(tickets.clone()).unwrap()
            .with_key_shredder(vault.clone());
        let done = released.erase(&mut request, dpo).unwrap();
        prop_assert!(matches!(done.subject_key, SubjectKeyStatus::Shredded { .. }), "{:?}", done.subject_key);
        prop_assert!(done.kept.is_empty());
        prop_assert!(tickets.is_empty());
        prop_assert!(vault.open(&ctx, &sealed).is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Art. 12(3)-(4) on one request: whatever the receipt time and however
    /// long the controller waits, an extension succeeds exactly within the
    /// month after receipt, and a refusal always succeeds but is late exactly
    /// after it (never for a withdrawal).
    #[test]
    fn the_first_month_is_the_month_to_decide(
        received in timestamp(),
        wait_minutes in 0i64..(70 * 24 * 60),
        reason in any::<RejectionReason>(),
    ) {
        let clock = Arc::new(ManualClock::new(received));
        let desk = Desk::new(clock.clone(), Arc::new(MemorySink::new()));
        let tenant = TenantId::from_external_key("t", "1");
        let subject = SubjectId::from_external_key(tenant, "c", "1");
        let actor = ActorId::from_external_key(tenant, "a", "1");
        let mut r = desk.receive(tenant, subject, RequestKind::Access, Role::Controller, actor).unwrap();
        desk.verify(&mut r, VerificationMethod::AuthenticatedSession, "", actor).unwrap();
        clock.advance(TimeDelta::minutes(wait_minutes));
        let now = clock.now();
        let month = months_after(received, 1).unwrap();
        prop_assert_eq!(r.decision_due(), month);
        prop_assert_eq!(
            r.deadline_status(now),
            if now > month { DeadlineStatus::NoDecision { month_ended: month } } else { DeadlineStatus::OnTime { due: month } }
        );
        let mut extended = r.clone();
        let extension = desk.extend(&mut extended, "complex", actor);
        prop_assert_eq!(extension.is_ok(), now <= month, "{:?}", extension);
        if extension.is_ok() {
            // Extended: on time until the new deadline, even past the month.
            prop_assert_eq!(extended.decision_due(), month);
            prop_assert!(!extended.deadline_status(now).is_late());
        }
        desk.reject(&mut r, reason.clone(), "reasons given", actor).unwrap();
        let late = r.rejection.as_ref().unwrap().late;
        prop_assert_eq!(late, now > month && reason != RejectionReason::Withdrawn);
        prop_assert_eq!(r.deadline_status(now), DeadlineStatus::Closed);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Per kept record: whether it is sealed under the subject key and
    /// whether its source can re-seal it. The key is shredded at once iff no
    /// kept record still needs it, the deferral lists exactly those that do,
    /// and the resume run after every hold is released always shreds.
    #[test]
    fn only_kept_records_that_need_the_key_defer_the_shred(
        records in proptest::collection::vec((any::<bool>(), any::<bool>(), any::<bool>()), 1..6),
    ) {
        use chrono::{TimeZone, Utc};
        use custodia_core::{DataCategory, LegalBasis};
        use custodia_crypt::{FieldContext, Keyring, MemoryKeyStore, SecretKey, SubjectVault};
        let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()));
        let tenant = TenantId::from_external_key("billing.account", "ACME-0042");
        let alice = SubjectId::from_external_key(tenant, "psa.contact", "1017");
        let dpo = ActorId::from_external_key(tenant, "psa.user", "dpo");
        // One source that can re-seal, one that cannot.
        let can = Arc::new(MemorySource::new("can").resealing_under("tenant data key"));
        let cannot = Arc::new(MemorySource::new("cannot"));
        let mut holds = StaticHolds::new();
        let mut blocking = Vec::new();
        let mut resealed = 0;
        for (i, (held, sealed, resealable)) in records.iter().enumerate() {
            let (source, name) = if *resealable { (&can, "can") } else { (&cannot, "cannot") };
            let r = RecordRef::new("record", format!("R-{i}"));
            source.insert(tenant, alice, r.clone(), LegalBasis::Contract,
                [("body", DataCategory::USER_CONTENT_TICKET, "text", true)]);
            source.set_meta(tenant, &r, RecordMeta::default().sealed_under_subject_key(*sealed));
            if *held {
                holds = holds.hold(tenant, name, r.clone(), ErasureHold {
                    exception: ErasureException::LegalClaims, reason: "dispute".into(), until: None });
                if *sealed && !*resealable {
                    blocking.push(BlockingRecord { source: name.into(), record: r });
                } else if *sealed {
                    resealed += 1;
                }
            }
        }
        blocking.sort();
        let vault = Arc::new(SubjectVault::new(
            Arc::new(Keyring::new(SecretKey::from_bytes([9; 32]))), MemoryKeyStore::default(), clock.clone()));
        let ctx = FieldContext::new(tenant, "audit_event", "e-1", "ip").unwrap();
        let sealed_ip = vault.seal(alice, &ctx, b"203.0.113.7").unwrap();
        let sink = Arc::new(MemorySink::new());
        let desk = Desk::new(clock.clone(), sink.clone())
            .with_source(can.clone()).unwrap()
            .with_source(cannot.clone()).unwrap()
            .with_retention(Arc::new(holds))
            .with_key_shredder(vault.clone());
        let mut request = desk.receive(tenant, alice, RequestKind::Erasure, Role::Controller, dpo).unwrap();
        desk.verify(&mut request, VerificationMethod::AuthenticatedSession, "", dpo).unwrap();
        let certificate = desk.erase(&mut request, dpo).unwrap();
        let held = records.iter().filter(|(h, ..)| *h).count();
        prop_assert_eq!(certificate.kept.len(), held);
        prop_assert_eq!(can.len() + cannot.len(), held);
        prop_assert_eq!(certificate.records_resealed, resealed);
        prop_assert_eq!(vault.open(&ctx, &sealed_ip).is_ok(), !blocking.is_empty());
        match &certificate.subject_key {
            SubjectKeyStatus::Deferred { blocking: listed, .. } => prop_assert_eq!(listed, &blocking),
            SubjectKeyStatus::Shredded { .. } => prop_assert!(blocking.is_empty()),
            other => prop_assert!(false, "{:?}", other),
        }
        prop_assert_eq!(request.is_shred_deferred(), !blocking.is_empty());
        // Release every hold: the scheduled run erases the rest and shreds.
        let released = Desk::new(clock.clone(), sink.clone())
            .with_source(can.clone()).unwrap()
            .with_source(cannot.clone()).unwrap()
            .with_key_shredder(vault.clone());
        let reports = released.resume_deferred_erasures([&mut request], dpo);
        prop_assert_eq!(reports.len(), usize::from(!blocking.is_empty()));
        prop_assert!(!request.is_shred_deferred());
        prop_assert!(vault.open(&ctx, &sealed_ip).is_err());
        if !blocking.is_empty() {
            prop_assert!(can.is_empty() && cannot.is_empty());
        }
    }
}
