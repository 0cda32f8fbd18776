//! Proptest strategies for audit events (feature `proptest`).
//!
//! [`Event`], [`Action`], [`ActorKind`], [`Outcome`] and [`Personal`]
//! implement [`Arbitrary`]; every generated event passes [`Event::validate`]
//! and round-trips through the canonical encoding. Generated personal values
//! are clear, sealed ([`sealed`]) or labelled sealed but not the subject's
//! envelope ([`mislabelled`]), so events that a log requiring sealed values
//! takes and events it refuses both come up.

use custodia_core::chrono::DateTime;
use custodia_core::{ActorId, DataCategory, LegalBasis, Purpose, SubjectId, TenantId};
use proptest::prelude::*;

use crate::event::{
    Action, Actor, ActorKind, Event, EventId, FieldChange, Outcome, Personal, Target,
};

/// A custom name that is not a built-in one.
fn custom_name() -> impl Strategy<Value = String> {
    "x[a-z0-9_.-]{0,20}"
}

impl Arbitrary for Action {
    type Parameters = ();
    type Strategy = BoxedStrategy<Action>;
    fn arbitrary_with((): ()) -> Self::Strategy {
        prop_oneof![
            4 => proptest::sample::select(Action::BUILTIN.to_vec()),
            1 => custom_name().prop_map(Action::Custom),
        ]
        .boxed()
    }
}

impl Arbitrary for ActorKind {
    type Parameters = ();
    type Strategy = BoxedStrategy<ActorKind>;
    fn arbitrary_with((): ()) -> Self::Strategy {
        prop_oneof![
            4 => proptest::sample::select(ActorKind::BUILTIN.to_vec()),
            1 => custom_name().prop_map(ActorKind::Custom),
        ]
        .boxed()
    }
}

impl Arbitrary for Outcome {
    type Parameters = ();
    type Strategy = BoxedStrategy<Outcome>;
    fn arbitrary_with((): ()) -> Self::Strategy {
        prop_oneof![
            Just(Outcome::Success),
            Just(Outcome::Failure),
            Just(Outcome::Denied)
        ]
        .boxed()
    }
}

impl Arbitrary for Personal {
    type Parameters = ();
    type Strategy = BoxedStrategy<Personal>;
    /// Clear text; a sealed value ([`sealed`]: it counts as sealed, never
    /// opens); or, less often, a value labelled sealed that is not
    /// ([`mislabelled`]), which a log requiring sealed values refuses as it
    /// refuses clear text.
    fn arbitrary_with((): ()) -> Self::Strategy {
        prop_oneof![
            2 => ".{0,40}".prop_map(Personal::Clear),
            2 => sealed(),
            1 => mislabelled(),
        ]
        .boxed()
    }
}

/// A sealed value as `SubjectVault::seal` makes one: an envelope header
/// under the labelled subject's own key, with a random nonce, body and tag
/// (`custodia_crypt::arbitrary::envelope_of`). [`Personal::is_sealed`]
/// holds; it never opens.
pub fn sealed() -> impl Strategy<Value = Personal> {
    (any::<SubjectId>(), any::<u32>()).prop_flat_map(|(subject, version)| {
        custodia_crypt::arbitrary::envelope_of(custodia_crypt::KeyId::Subject { subject, version })
            .prop_map(move |sealed| Personal::Sealed { subject, sealed })
    })
}

/// A value labelled sealed that is not the labelled subject's envelope:
/// random bytes (clear text, say), or an envelope under another key (a
/// tenant key, another subject's). [`Personal::is_sealed`] does not hold.
pub fn mislabelled() -> impl Strategy<Value = Personal> {
    let bytes = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..80),
        any::<custodia_crypt::KeyId>().prop_flat_map(custodia_crypt::arbitrary::envelope_of),
    ];
    (any::<SubjectId>(), bytes).prop_map(|(subject, sealed)| Personal::Sealed { subject, sealed })
}

/// A valid target.
pub fn target() -> impl Strategy<Value = Target> {
    ("[a-z_]{1,12}", "[A-Za-z0-9-]{0,12}").prop_map(|(kind, id)| Target { kind, id })
}

/// A valid field change.
pub fn field_change() -> impl Strategy<Value = FieldChange> {
    (
        "[a-z_]{1,12}",
        any::<DataCategory>(),
        proptest::option::of(any::<Personal>()),
        proptest::option::of(any::<Personal>()),
    )
        .prop_map(|(field, category, before, after)| FieldChange {
            field,
            category,
            before,
            after,
        })
}

/// A valid actor.
pub fn actor() -> impl Strategy<Value = Actor> {
    (
        any::<ActorKind>(),
        any::<ActorId>(),
        proptest::option::of(any::<SubjectId>()),
        proptest::option::of(any::<Personal>()),
        proptest::option::of(any::<Personal>()),
    )
        .prop_map(|(kind, id, subject, ip, user_agent)| Actor {
            kind,
            id,
            subject,
            ip,
            user_agent,
        })
}

impl Arbitrary for Event {
    type Parameters = ();
    type Strategy = BoxedStrategy<Event>;
    fn arbitrary_with((): ()) -> Self::Strategy {
        let head = (
            any::<u128>(),
            any::<TenantId>(),
            -62_000_000_000i64..250_000_000_000i64,
            0u32..1_000_000_000,
            actor(),
            any::<Action>(),
            target(),
            proptest::option::of(any::<SubjectId>()),
        );
        let tail = (
            proptest::collection::vec(field_change(), 0..4),
            proptest::option::of(any::<Purpose>()),
            proptest::option::of(any::<LegalBasis>()),
            any::<Outcome>(),
            proptest::option::of("[a-z0-9-]{1,16}"),
            proptest::option::of(any::<Personal>()),
        );
        (head, tail)
            .prop_filter_map(
                "time out of range",
                |((id, tenant, secs, nanos, actor, action, target, subject), tail)| {
                    let (changes, purpose, legal_basis, outcome, request_id, note) = tail;
                    Some(Event {
                        id: EventId::from_uuid(custodia_core::uuid::Uuid::from_u128(id)),
                        tenant,
                        time: DateTime::from_timestamp(secs, nanos)?,
                        actor,
                        action,
                        target,
                        subject,
                        changes,
                        purpose,
                        legal_basis,
                        outcome,
                        request_id,
                        note,
                    })
                },
            )
            .boxed()
    }
}
