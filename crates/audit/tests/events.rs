//! The event model: builders, JSON, and the canonical encoding's guarantees.

use custodia_audit::canonical::{self, decode, encode};
use custodia_audit::{
    Action, Actor, ActorKind, Error, Event, EventId, FieldChange, Outcome, Personal, Target,
};
use custodia_core::chrono::{TimeZone, Utc};
use custodia_core::{
    ActorId, Clock, DataCategory, LegalBasis, ManualClock, Purpose, SubjectId, TenantId,
};
use proptest::prelude::*;

fn sample() -> Event {
    let tenant = TenantId::from_external_key("crm", "ACME");
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap());
    Event::builder(
        tenant,
        Actor::new(
            ActorKind::Agent,
            ActorId::from_external_key(tenant, "psa.user", "7"),
        )
        .with_ip("203.0.113.7")
        .with_user_agent("Mozilla/5.0"),
        Action::Update,
        Target::new("contact", "1017").unwrap(),
    )
    .subject(SubjectId::from_external_key(tenant, "psa.contact", "1017"))
    .change(FieldChange::new(
        "email",
        DataCategory::USER_CONTACT_EMAIL,
        Some("old@example.com".into()),
        Some("new@example.com".into()),
    ))
    .purpose(Purpose::SUPPORT)
    .legal_basis(LegalBasis::Contract)
    .outcome(Outcome::Success)
    .request_id("req-42")
    .note("customer asked by phone")
    .build(&clock)
    .unwrap()
}

#[test]
fn builder_stamps_a_uuid_v7_from_the_clock() {
    let event = sample();
    assert_eq!(event.id.as_uuid().get_version_num(), 7);
    assert_eq!(
        event.time,
        Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()
    );
    let (secs, _) = event.id.as_uuid().get_timestamp().unwrap().to_unix();
    assert_eq!(secs as i64, event.time.timestamp());
}

#[test]
fn json_round_trip_and_shape() {
    let event = sample();
    let json = serde_json::to_value(&event).unwrap();
    assert_eq!(json["action"], "update");
    assert_eq!(json["actor"]["kind"], "agent");
    assert_eq!(json["actor"]["ip"], "203.0.113.7");
    assert_eq!(json["target"]["type"], "contact");
    assert_eq!(json["changes"][0]["category"], "user.contact.email");
    assert_eq!(json["legal_basis"], "contract");
    let back: Event = serde_json::from_value(json).unwrap();
    assert_eq!(back, event);
}

#[test]
fn custom_actions_and_kinds() {
    let merge: Action = "ticket.merge".parse().unwrap();
    assert_eq!(merge, Action::Custom("ticket.merge".into()));
    assert_eq!("login".parse::<Action>().unwrap(), Action::Login);
    assert_eq!(Action::custom("delete").unwrap(), Action::Delete);
    assert!("Bad Name".parse::<Action>().is_err());
    assert!(Action::custom("").is_err());
    let kind: ActorKind = "integration".parse().unwrap();
    assert_eq!(kind.to_string(), "integration");

    let mut event = sample();
    event.action = Action::Custom("delete".into());
    assert!(matches!(event.validate(), Err(Error::InvalidEvent(_))));
    event.action = merge;
    event.validate().unwrap();
    assert_eq!(decode(&encode(&event)).unwrap(), event);
}

#[test]
fn invalid_events_are_refused() {
    assert!(Target::new("", "1").is_err());
    assert!(Target::new("x".repeat(2000), "1").is_err());
    let mut event = sample();
    event.request_id = Some(String::new());
    assert!(event.validate().is_err());
    let mut event = sample();
    event.changes[0].field.clear();
    assert!(event.validate().is_err());
}

#[test]
fn debug_does_not_print_personal_values() {
    let text = format!("{:?}", sample());
    assert!(!text.contains("203.0.113.7"), "{text}");
    assert!(!text.contains("old@example.com"), "{text}");
}

#[test]
fn encoding_is_pinned() {
    // A change here changes every leaf hash ever written: bump VERSION instead.
    let tenant = TenantId::from_uuid(custodia_core::uuid::Uuid::from_u128(1));
    let event = Event::builder(
        tenant,
        Actor::new(
            ActorKind::System,
            ActorId::from_uuid(custodia_core::uuid::Uuid::from_u128(2)),
        ),
        Action::Read,
        Target::new("t", "").unwrap(),
    )
    .id(EventId::from_uuid(custodia_core::uuid::Uuid::from_u128(3)))
    .time(Utc.timestamp_opt(1, 2).unwrap())
    .build(&ManualClock::new(Utc::now()))
    .unwrap();
    let mut want = b"CAE\x01".to_vec();
    want.extend_from_slice(&3u128.to_be_bytes());
    want.extend_from_slice(&1u128.to_be_bytes());
    want.extend_from_slice(&1i64.to_be_bytes());
    want.extend_from_slice(&2u32.to_be_bytes());
    want.push(3); // system
    want.extend_from_slice(&2u128.to_be_bytes());
    want.extend_from_slice(&[0, 0, 0]); // no actor subject, ip, user agent
    want.push(2); // read
    want.extend_from_slice(&[0, 0, 0, 1, b't', 0, 0, 0, 0]);
    want.push(0); // no subject
    want.extend_from_slice(&[0, 0, 0, 0]); // no changes
    want.extend_from_slice(&[0, 0, 1, 0, 0]); // purpose, basis, success, request, note
    assert_eq!(encode(&event), want);
}

#[test]
fn decoder_names_the_problem() {
    let bytes = encode(&sample());
    let err = decode(&bytes[..bytes.len() - 1]).unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
    let mut extra = bytes.clone();
    extra.push(0);
    assert!(decode(&extra).unwrap_err().to_string().contains("trailing"));
    let mut version = bytes.clone();
    version[3] = 9;
    assert!(
        decode(&version)
            .unwrap_err()
            .to_string()
            .contains("version 9")
    );
    assert!(decode(b"nope").unwrap_err().to_string().contains("magic"));
    assert_eq!(canonical::VERSION, 1);
}

#[test]
fn check_and_decode_agree_on_bad_categories_and_purposes() {
    let bytes = encode(&sample());
    for (from, to) in [
        (&b"user.contact.email"[..], &b"user.Contact.email"[..]),
        (b"user.contact.email", b"user.contact.emai."),
        (b"support", b"Support"),
        (b"support", b"1upport"),
    ] {
        let at = bytes.windows(from.len()).position(|w| w == from).unwrap();
        let mut bad = bytes.clone();
        bad[at..at + from.len()].copy_from_slice(to);
        assert!(decode(&bad).is_err());
        assert!(canonical::check(&bad).is_err());
    }
    canonical::check(&bytes).unwrap();
}

proptest! {
    #[test]
    fn canonical_round_trip(event in any::<Event>()) {
        event.validate().unwrap();
        let bytes = encode(&event);
        prop_assert_eq!(&decode(&bytes).unwrap(), &event);
        // Deterministic: encoding again gives the same bytes.
        prop_assert_eq!(encode(&decode(&bytes).unwrap()), bytes);
    }

    #[test]
    fn json_round_trip(event in any::<Event>()) {
        let json = serde_json::to_string(&event).unwrap();
        let back: Event = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back, event);
    }

    #[test]
    fn decoder_never_panics_and_accepts_only_canonical_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..400)
    ) {
        if let Ok(event) = decode(&bytes) {
            prop_assert_eq!(encode(&event), bytes);
        }
    }

    #[test]
    fn check_accepts_exactly_what_decode_accepts(
        event in any::<Event>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
        cut in any::<prop::sample::Index>(),
        noise in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut bytes = encode(&event);
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        prop_assert_eq!(canonical::check(&bytes).is_ok(), decode(&bytes).is_ok());
        let cut = cut.index(bytes.len() + 1);
        prop_assert_eq!(canonical::check(&bytes[..cut]).is_ok(), decode(&bytes[..cut]).is_ok());
        prop_assert_eq!(canonical::check(&noise).is_ok(), decode(&noise).is_ok());
    }

    /// The log's one-pass refusal of clear values over encoded records
    /// (`append_encoded`) names what decoding and `first_clear_field` on
    /// the event name, and fails where decoding fails.
    #[test]
    fn first_clear_field_of_bytes_is_that_of_the_decoded_event(
        event in any::<Event>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
        cut in any::<prop::sample::Index>(),
        noise in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        // What decodes is a valid event, so the log, which no longer
        // decodes encoded records, misses none of `Event::validate`'s checks.
        let decoded_field = |bytes: &[u8]| {
            decode(bytes)
                .inspect(|e| assert!(e.validate().is_ok(), "{e:?}"))
                .map(|e| custodia_audit::personal::first_clear_field(&e))
                .ok()
        };
        let whole = encode(&event);
        prop_assert_eq!(
            canonical::first_clear_field(&whole).ok(),
            Some(custodia_audit::personal::first_clear_field(&event))
        );
        let mut bytes = whole;
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        prop_assert_eq!(canonical::first_clear_field(&bytes).ok(), decoded_field(&bytes));
        let cut = cut.index(bytes.len() + 1);
        prop_assert_eq!(canonical::first_clear_field(&bytes[..cut]).ok(), decoded_field(&bytes[..cut]));
        prop_assert_eq!(canonical::first_clear_field(&noise).ok(), decoded_field(&noise));
    }

    #[test]
    fn mutated_encodings_never_panic(event in any::<Event>(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = encode(&event);
        let i = at.index(bytes.len());
        bytes[i] = byte;
        if let Ok(decoded) = decode(&bytes) {
            prop_assert_eq!(encode(&decoded), bytes);
        }
    }

    #[test]
    fn distinct_events_encode_differently(a in any::<Event>(), b in any::<Event>()) {
        prop_assert_eq!(a == b, encode(&a) == encode(&b));
    }
}

#[test]
fn sealed_values_serialise_as_base64() {
    let subject = SubjectId::from_uuid(custodia_core::uuid::Uuid::from_u128(9));
    let value = Personal::Sealed {
        subject,
        sealed: vec![1, 2, 3],
    };
    let json = serde_json::to_value(&value).unwrap();
    assert_eq!(json["sealed"], "AQID");
    assert_eq!(serde_json::from_value::<Personal>(json).unwrap(), value);
}

#[test]
fn append_encoded_refuses_bytes_that_are_not_a_canonical_event() {
    use custodia_audit::{AuditLog, MemoryStore};
    // (The sample's personal values are in the clear: a log told to take
    // them. The default log refuses them, below.)
    let mut log = AuditLog::open(MemoryStore::new())
        .unwrap()
        .require_sealed(false);
    let good = encode(&sample());
    let mut bad = good.clone();
    bad.truncate(good.len() - 1);
    // A batch with one bad record appends nothing.
    let e = log.append_encoded(&[&good, &bad]).unwrap_err();
    assert!(matches!(e, Error::Decode { .. }), "{e}");
    assert!(log.is_empty());
    // Good records go in, and the log verifies.
    assert_eq!(log.append_encoded(&[&good, &good]).unwrap(), 0);
    assert_eq!(log.len(), 2);
    custodia_audit::verify(log.store().clone(), None).unwrap();
}

/// Encoded events meet the same `require_sealed` rule as events: a clear
/// personal value is refused and nothing of the batch is appended (found in
/// review: `append_encoded` only checked that the bytes decode, so clear
/// values reached the hashed log, where shredding cannot erase them).
#[test]
fn append_encoded_refuses_clear_personal_values_unless_told_otherwise() {
    use custodia_audit::{AuditLog, MemoryStore};
    let clear = sample();
    let field = custodia_audit::personal::first_clear_field(&clear).unwrap();
    let mut log = AuditLog::open(MemoryStore::new()).unwrap();
    assert!(matches!(
        log.append(&clear),
        Err(Error::ClearPersonalData { .. })
    ));
    let mut none = clear.clone();
    none.actor.ip = None;
    none.actor.user_agent = None;
    none.note = None;
    none.changes.clear();
    assert_eq!(custodia_audit::personal::first_clear_field(&none), None);
    let e = log
        .append_encoded(&[&encode(&none), &encode(&clear)])
        .unwrap_err();
    assert!(
        matches!(&e, Error::ClearPersonalData { field: f, event } if *f == field && *event == clear.id.to_string()),
        "{e}"
    );
    assert!(log.is_empty());
    assert_eq!(log.append_encoded(&[&encode(&none)]).unwrap(), 0);
}

#[test]
fn json_lines_get_an_id_and_time_from_the_clock_when_they_carry_none() {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap());
    let tenant = TenantId::from_external_key("crm", "ACME");
    let line = format!(
        r#"{{"tenant":"{tenant}","actor":{{"kind":"system","id":"{tenant}"}},"action":"read","target":{{"type":"ticket","id":"1"}}}}"#
    );
    let event = Event::from_json_line(&line, &clock).unwrap();
    assert_eq!(event.time, clock.now());
    assert_eq!(event.id.as_uuid().get_version_num(), 7);
    // A line's own time is kept, and its id is made at that time.
    let dated = line.replacen('{', r#"{"time":"2025-05-05T05:05:05Z","#, 1);
    let event = Event::from_json_line(&dated, &clock).unwrap();
    assert_eq!(
        event.time,
        Utc.with_ymd_and_hms(2025, 5, 5, 5, 5, 5).unwrap()
    );
    // The serde form of an event reads back as itself.
    let event = sample();
    let json = serde_json::to_string(&event).unwrap();
    assert_eq!(Event::from_json_line(&json, &clock).unwrap(), event);
    for bad in ["[1]", "{", r#"{"time":7}"#, "", "null"] {
        let e = Event::from_json_line(bad, &clock).unwrap_err();
        assert!(matches!(e, Error::InvalidEvent(_)), "{bad}: {e}");
    }
}

proptest! {
    /// The JSON-lines decoder on arbitrary bytes: an event or a typed error.
    #[test]
    fn json_lines_of_arbitrary_bytes_decode_or_fail_typed(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap());
        let text = String::from_utf8_lossy(&bytes);
        match Event::from_json_line(&text, &clock) {
            Ok(event) => prop_assert!(event.validate().is_ok()),
            Err(e) => prop_assert!(matches!(e, Error::InvalidEvent(_)), "{}", e),
        }
    }
}

proptest! {
    /// The strategies keep to the sealing rule: a generated sealed value
    /// counts as sealed, a mislabelled one does not, and a log requiring
    /// sealed values takes an event exactly when no value of it is clear
    /// or mislabelled, encoded or not.
    #[test]
    fn generated_values_keep_to_the_sealing_rule(
        sealed in custodia_audit::arbitrary::sealed(),
        mislabelled in custodia_audit::arbitrary::mislabelled(),
        event in any::<Event>(),
    ) {
        prop_assert!(sealed.is_sealed());
        prop_assert!(!mislabelled.is_sealed());
        let mut log = custodia_audit::AuditLog::open(custodia_audit::MemoryStore::new()).unwrap();
        let clear = custodia_audit::personal::first_clear_field(&event);
        prop_assert_eq!(log.append(&event).is_ok(), clear.is_none());
        prop_assert_eq!(log.append_encoded(&[&encode(&event)]).is_ok(), clear.is_none());
    }
}
