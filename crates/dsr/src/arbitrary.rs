//! Proptest strategies for the main types (feature `proptest`).
//!
//! The enums and small records implement [`proptest::arbitrary::Arbitrary`];
//! the free functions give timestamps in a sensible range and whole incidents.

use chrono::{TimeZone, Utc};
use custodia_core::{DataCategory, Purpose, Role, Timestamp};
use proptest::prelude::*;

use crate::breach::{BreachNature, Contact, Incident};
use crate::request::{Correction, RejectionReason, RequestKind, VerificationMethod};
use crate::retention::{ErasureException, ErasureHold};
use crate::source::{FieldAction, RecordRef, Restriction, SubjectOutcome, SubjectStep};

/// A timestamp between 1970 and 2200, to the second.
pub fn timestamp() -> impl Strategy<Value = Timestamp> {
    // 1970-01-01 .. 2200-01-01
    (0i64..7_258_118_400).prop_map(|secs| Utc.timestamp_opt(secs, 0).single().unwrap_or_default())
}

/// A purpose from the built-in list or a generated slug.
pub fn purpose() -> impl Strategy<Value = Purpose> {
    prop_oneof![
        Just(Purpose::MARKETING),
        Just(Purpose::ANALYTICS),
        "[a-z][a-z0-9_]{0,15}".prop_filter_map("not a purpose", |s| Purpose::new(s).ok()),
    ]
}

impl Arbitrary for RequestKind {
    type Parameters = ();
    type Strategy = BoxedStrategy<RequestKind>;

    fn arbitrary_with((): ()) -> Self::Strategy {
        prop_oneof![
            Just(RequestKind::Access),
            proptest::collection::vec(any::<Correction>(), 0..4)
                .prop_map(|corrections| RequestKind::Rectification { corrections }),
            Just(RequestKind::Erasure),
            any::<bool>().prop_map(|lift| RequestKind::Restriction { lift }),
            proptest::collection::vec(purpose(), 1..3)
                .prop_map(|purposes| RequestKind::Objection { purposes }),
            Just(RequestKind::Portability),
        ]
        .boxed()
    }
}

impl Arbitrary for Correction {
    type Parameters = ();
    type Strategy = BoxedStrategy<Correction>;

    fn arbitrary_with((): ()) -> Self::Strategy {
        (any::<DataCategory>(), ".{0,40}")
            .prop_map(|(category, value)| Correction { category, value })
            .boxed()
    }
}

impl Arbitrary for VerificationMethod {
    type Parameters = ();
    type Strategy = BoxedStrategy<VerificationMethod>;

    fn arbitrary_with((): ()) -> Self::Strategy {
        prop_oneof![
            Just(VerificationMethod::AuthenticatedSession),
            Just(VerificationMethod::ContactChallenge),
            Just(VerificationMethod::AccountHolderConfirmation),
            Just(VerificationMethod::DocumentCheck),
            ".{1,30}".prop_map(VerificationMethod::Other),
        ]
        .boxed()
    }
}

impl Arbitrary for RejectionReason {
    type Parameters = ();
    type Strategy = BoxedStrategy<RejectionReason>;

    fn arbitrary_with((): ()) -> Self::Strategy {
        proptest::sample::select(vec![
            RejectionReason::IdentityNotVerified,
            RejectionReason::ManifestlyUnfounded,
            RejectionReason::Excessive,
            RejectionReason::RightNotApplicable,
            RejectionReason::Withdrawn,
            RejectionReason::Other,
        ])
        .boxed()
    }
}

impl Arbitrary for ErasureException {
    type Parameters = ();
    type Strategy = BoxedStrategy<ErasureException>;

    fn arbitrary_with((): ()) -> Self::Strategy {
        proptest::sample::select(ErasureException::ALL.to_vec()).boxed()
    }
}

impl Arbitrary for ErasureHold {
    type Parameters = ();
    type Strategy = BoxedStrategy<ErasureHold>;

    fn arbitrary_with((): ()) -> Self::Strategy {
        (
            any::<ErasureException>(),
            "[a-zA-Z0-9 ]{1,30}",
            proptest::option::of(timestamp()),
        )
            .prop_map(|(exception, reason, until)| ErasureHold {
                exception,
                reason,
                until,
            })
            .boxed()
    }
}

impl Arbitrary for FieldAction {
    type Parameters = ();
    type Strategy = BoxedStrategy<FieldAction>;

    fn arbitrary_with((): ()) -> Self::Strategy {
        prop_oneof![Just(FieldAction::Delete), Just(FieldAction::Anonymize)].boxed()
    }
}

impl Arbitrary for RecordRef {
    type Parameters = ();
    type Strategy = BoxedStrategy<RecordRef>;

    fn arbitrary_with((): ()) -> Self::Strategy {
        ("[a-z]{1,10}", "[A-Z0-9-]{1,12}")
            .prop_map(|(t, id)| RecordRef::new(t, id))
            .boxed()
    }
}

impl Arbitrary for Restriction {
    type Parameters = ();
    type Strategy = BoxedStrategy<Restriction>;

    fn arbitrary_with((): ()) -> Self::Strategy {
        prop_oneof![
            Just(Restriction::Restrict),
            Just(Restriction::Lift),
            proptest::collection::vec(purpose(), 0..3)
                .prop_map(|purposes| Restriction::StopPurposes { purposes }),
        ]
        .boxed()
    }
}

impl Arbitrary for SubjectStep {
    type Parameters = ();
    type Strategy = BoxedStrategy<SubjectStep>;

    fn arbitrary_with((): ()) -> Self::Strategy {
        prop_oneof![
            Just(SubjectStep::Access),
            any::<Restriction>().prop_map(|restriction| SubjectStep::Restrict { restriction }),
            Just(SubjectStep::Erase),
        ]
        .boxed()
    }
}

/// What a source's subject-level step answers to a restriction or erasure,
/// or that it keeps nothing (the access answer, [`SubjectOutcome::Exported`],
/// carries whole records and values: build those in the test).
pub fn subject_outcome() -> impl Strategy<Value = SubjectOutcome> {
    prop_oneof![
        Just(SubjectOutcome::NotKept),
        proptest::collection::vec(any::<RecordRef>(), 0..3)
            .prop_map(|records| SubjectOutcome::Applied { records }),
    ]
}

impl Arbitrary for BreachNature {
    type Parameters = ();
    type Strategy = BoxedStrategy<BreachNature>;

    fn arbitrary_with((): ()) -> Self::Strategy {
        any::<(bool, bool, bool)>()
            .prop_map(|(confidentiality, integrity, availability)| BreachNature {
                confidentiality,
                integrity,
                availability,
            })
            .boxed()
    }
}

/// An incident in either role, with awareness in 1970–2200, a processor delay
/// of 0–96 hours and some categories.
pub fn incident() -> impl Strategy<Value = Incident> {
    (
        any::<Role>(),
        timestamp(),
        0i64..=96,
        any::<BreachNature>(),
        proptest::collection::btree_set(any::<DataCategory>(), 0..4),
        any::<(u32, u32)>(),
    )
        .prop_map(
            |(role, aware, delay, nature, categories, (subjects, records))| {
                let mut incident = Incident::new(
                    role,
                    aware,
                    "generated incident",
                    Contact {
                        name: "DPO".into(),
                        contact: "dpo@example.com".into(),
                    },
                )
                .processor_delay(delay);
                incident.nature = nature;
                incident.data_categories = categories;
                incident.approx_subjects = u64::from(subjects);
                incident.approx_records = u64::from(records);
                incident
            },
        )
}

/// A freshly received request: any kind, either role, received 1970–2200.
pub fn request() -> impl Strategy<Value = crate::Request> {
    (
        any::<custodia_core::TenantId>(),
        any::<custodia_core::SubjectId>(),
        any::<RequestKind>(),
        any::<Role>(),
        timestamp(),
    )
        .prop_filter_map(
            "deadline out of range",
            |(tenant, subject, kind, role, at)| {
                crate::Request::new(tenant, subject, kind, role, at).ok()
            },
        )
}

impl Arbitrary for crate::source::RecordMeta {
    type Parameters = ();
    type Strategy = BoxedStrategy<crate::source::RecordMeta>;

    /// Metadata over `custodia_retention::arbitrary`'s categories and events,
    /// so generated records meet generated retention rules.
    fn arbitrary_with((): ()) -> Self::Strategy {
        use custodia_retention::arbitrary as retention;
        (
            proptest::option::of(retention::category()),
            proptest::option::of(proptest::sample::select(vec![
                custodia_core::Region::EU,
                custodia_core::Region::US,
            ])),
            proptest::option::of(timestamp()),
            proptest::collection::btree_map("[a-z]{1,6}", "[a-z]{0,6}", 0..3),
            proptest::collection::btree_map(
                proptest::sample::select(retention::EVENTS[1..].to_vec()).prop_map(str::to_owned),
                timestamp(),
                0..=3,
            ),
            any::<bool>(),
        )
            .prop_map(
                |(category, region, created_at, labels, events, sealed_under_subject_key)| {
                    crate::source::RecordMeta {
                        category,
                        region,
                        created_at,
                        labels,
                        events,
                        sealed_under_subject_key,
                    }
                },
            )
            .boxed()
    }
}

impl Arbitrary for crate::source::KeptKey {
    type Parameters = ();
    type Strategy = BoxedStrategy<crate::source::KeptKey>;

    /// Every state a kept record's need for the subject key can be in.
    fn arbitrary_with((): ()) -> Self::Strategy {
        use crate::source::KeptKey;
        prop_oneof![
            proptest::option::of("[a-z :]{0,24}").prop_map(|why| KeptKey::Needed { why }),
            Just(KeptKey::NotSealed),
            (timestamp(), 0usize..8, "[a-z ]{1,24}")
                .prop_map(|(at, fields, under)| KeptKey::Resealed { at, fields, under }),
        ]
        .boxed()
    }
}

/// An entry of an erasure's `erased` list: a located record's erasure
/// (whole or per field) or subject-level state removed.
pub fn erased_record() -> impl Strategy<Value = crate::source::ErasedRecord> {
    (
        "[a-z]{1,10}",
        any::<RecordRef>(),
        any::<bool>(),
        proptest::collection::vec("[a-z_]{1,10}", 0..3),
        proptest::collection::vec("[a-z_]{1,10}", 0..3),
        any::<bool>(),
    )
        .prop_map(
            |(source, record, deleted_record, deleted_fields, anonymized_fields, subject_level)| {
                crate::source::ErasedRecord {
                    source,
                    record,
                    deleted_record,
                    deleted_fields,
                    anonymized_fields,
                    subject_level,
                }
            },
        )
}

/// An entry of an erasure's `kept` list, with any exception, end date and
/// need for the subject key.
pub fn kept_record() -> impl Strategy<Value = crate::source::KeptRecord> {
    (
        "[a-z]{1,10}",
        any::<RecordRef>(),
        any::<ErasureException>(),
        "[a-zA-Z0-9 ]{0,20}",
        proptest::option::of(timestamp()),
        any::<crate::source::KeptKey>(),
    )
        .prop_map(|(source, record, exception, reason, until, subject_key)| {
            crate::source::KeptRecord {
                source,
                record,
                exception,
                reason,
                until,
                subject_key,
            }
        })
}

impl Arbitrary for crate::source::SourceProgress {
    type Parameters = ();
    type Strategy = BoxedStrategy<crate::source::SourceProgress>;

    /// Done or failed, with every field the progress carries (whether the
    /// subject-level step ran included), in any combination.
    fn arbitrary_with((): ()) -> Self::Strategy {
        use crate::source::SourceProgress;
        let erased = || proptest::collection::vec(erased_record(), 0..3);
        let kept = || proptest::collection::vec(kept_record(), 0..3);
        let categories = || proptest::collection::vec(any::<DataCategory>(), 0..3);
        let subject_records = || proptest::collection::vec(any::<RecordRef>(), 0..3);
        let done = (
            timestamp(),
            0usize..100,
            erased(),
            kept(),
            categories(),
            subject_records(),
            any::<bool>(),
        )
            .prop_map(
                |(at, records, erased, kept, categories, subject_records, subject_step_ran)| {
                    SourceProgress::Done {
                        at,
                        records,
                        erased,
                        kept,
                        categories,
                        subject_records,
                        subject_step_ran,
                    }
                },
            );
        let failed = (
            (timestamp(), "[a-z_]{1,12}", ".{0,30}", any::<u32>()),
            erased(),
            kept(),
            categories(),
            any::<bool>(),
            subject_records(),
        )
            .prop_map(
                |(
                    (at, operation, error, attempts),
                    erased,
                    kept,
                    categories,
                    subject_step_ran,
                    subject_records,
                )| SourceProgress::Failed {
                    at,
                    operation,
                    error,
                    attempts,
                    erased,
                    kept,
                    categories,
                    subject_step_ran,
                    subject_records,
                },
            );
        prop_oneof![done, failed].boxed()
    }
}

/// A request's progress: a few sources' progress by name, and sometimes a
/// key-shred receipt's absence (receipts come from a real vault).
pub fn progress() -> impl Strategy<Value = crate::source::Progress> {
    proptest::collection::btree_map("[a-z]{1,10}", any::<crate::source::SourceProgress>(), 0..4)
        .prop_map(|sources| crate::source::Progress {
            sources,
            key_shredded: None,
        })
}

impl Arbitrary for crate::request::DeadlineStatus {
    type Parameters = ();
    type Strategy = BoxedStrategy<crate::request::DeadlineStatus>;

    fn arbitrary_with((): ()) -> Self::Strategy {
        use crate::request::DeadlineStatus;
        prop_oneof![
            Just(DeadlineStatus::Closed),
            timestamp().prop_map(|due| DeadlineStatus::OnTime { due }),
            timestamp().prop_map(|month_ended| DeadlineStatus::NoDecision { month_ended }),
            timestamp().prop_map(|due| DeadlineStatus::Overdue { due }),
        ]
        .boxed()
    }
}
