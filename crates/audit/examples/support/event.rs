//! The sample event of the benchmarks (`benches/audit.rs`) and the profiler
//! (`examples/profile.rs`), one definition for both.

use custodia_audit::{Action, Actor, ActorKind, Event, EventId, FieldChange, Personal, Target};
use custodia_core::chrono::{TimeZone, Utc};
use custodia_core::{ActorId, DataCategory, LegalBasis, ManualClock, Purpose, SubjectId, TenantId};

/// A realistic event: sealed IP, user agent and before/after values
/// (envelopes of `n` bytes under the subject's key: the documented header,
/// then patterned bytes for nonce, ciphertext and tag, so they count as
/// sealed but never open), about 500 bytes encoded.
pub fn event(i: u64) -> Event {
    let tenant = TenantId::from_external_key("crm", "ACME");
    let subject = SubjectId::from_external_key(tenant, "contact", &(i % 1000).to_string());
    let sealed = |n: usize| {
        // Version 1, AES-256-GCM, a subject key of version 1, the subject.
        let mut sealed = vec![1, 1, 2, 0, 0, 0, 1];
        sealed.extend_from_slice(subject.as_bytes());
        sealed.extend((sealed.len()..n).map(|b| (b as u64 * 31 + i) as u8));
        Personal::Sealed { subject, sealed }
    };
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
    let event = Event::builder(
        tenant,
        Actor::new(
            ActorKind::Agent,
            ActorId::from_external_key(tenant, "user", &(i % 50).to_string()),
        )
        .with_ip(sealed(60))
        .with_user_agent(sealed(110)),
        Action::Update,
        Target::new("ticket", format!("T-{i}")).unwrap(),
    )
    .subject(subject)
    .change(FieldChange::new(
        "email",
        DataCategory::USER_CONTACT_EMAIL,
        Some(sealed(70)),
        Some(sealed(70)),
    ))
    .purpose(Purpose::SUPPORT)
    .legal_basis(LegalBasis::Contract)
    .request_id(format!("req-{i:08}"))
    .id(EventId::from_uuid(custodia_core::uuid::Uuid::from_u128(
        u128::from(i) + 1,
    )))
    .build(&clock)
    .unwrap();
    // What a log that requires sealed values takes.
    assert!(!event.has_clear_personal_data());
    event
}
