//! Proptest strategies (feature `proptest`).
//!
//! [`Period`], [`Disposition`], [`Rule`], [`LegalHold`], [`RetentionRecord`] and [`RetentionPolicy`]
//! implement [`proptest::arbitrary::Arbitrary`]. Rules, holds and records draw
//! tenants, subjects, categories, labels and events from small shared pools,
//! so generated rules and records overlap often enough for properties about
//! conflicts to be exercised.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use custodia_core::{DataCategory, Region, SubjectId, TenantId, Timestamp};
use proptest::prelude::*;

use crate::{
    BackupSchedule, Disposition, HoldScope, Keep, LegalHold, Period, RetentionPolicy,
    RetentionRecord, Rule, Selector, Trigger,
};

/// The categories generated rules and records use: a small tree with nesting.
pub const CATEGORIES: [DataCategory; 7] = [
    DataCategory::USER,
    DataCategory::USER_CONTENT,
    DataCategory::USER_CONTENT_TICKET,
    DataCategory::USER_CONTENT_CHAT,
    DataCategory::USER_CONTACT_EMAIL,
    DataCategory::SYSTEM_OPERATIONS,
    DataCategory::SYSTEM_OPERATIONS_LOG,
];

/// The events generated rules and records use.
pub const EVENTS: [&str; 4] = ["created", "closed", "last_activity", "account_terminated"];

/// One of three fixed tenants.
pub fn tenant() -> impl Strategy<Value = TenantId> {
    (0..3u8).prop_map(|i| TenantId::from_external_key("proptest", &i.to_string()))
}

/// One of three fixed subjects.
pub fn subject() -> impl Strategy<Value = SubjectId> {
    (0..3u8).prop_map(|i| {
        let tenant = TenantId::from_external_key("proptest", "subjects");
        SubjectId::from_external_key(tenant, "proptest", &i.to_string())
    })
}

/// A category from [`CATEGORIES`].
pub fn category() -> impl Strategy<Value = DataCategory> {
    proptest::sample::select(CATEGORIES.to_vec())
}

/// A timestamp between 2020 and 2032, to the second.
pub fn timestamp() -> impl Strategy<Value = Timestamp> {
    let start = Utc
        .with_ymd_and_hms(2020, 1, 1, 0, 0, 0)
        .single()
        .map_or(0, |t| t.timestamp());
    (0..12 * 366 * 86_400i64)
        .prop_map(move |s| Utc.timestamp_opt(start + s, 0).single().unwrap_or_default())
}

/// A period of up to 5 years, 400 days and 2 days' worth of seconds.
pub fn period() -> impl Strategy<Value = Period> {
    (0..60u64, 0..400u64, 0..172_800u64)
        .prop_map(|(m, d, s)| Period::new(m, d, s).unwrap_or_default())
}

/// A trigger from [`EVENTS`].
pub fn trigger() -> impl Strategy<Value = Trigger> {
    proptest::sample::select(EVENTS.to_vec()).prop_map(Trigger::from_name)
}

/// A selector over the shared pools; about a third are category-only.
pub fn selector() -> impl Strategy<Value = Selector> {
    (
        proptest::collection::vec(category(), 0..=2),
        proptest::collection::vec(tenant(), 0..=1),
        proptest::option::weighted(0.2, proptest::sample::select(vec![Region::EU, Region::US])),
        proptest::option::weighted(0.2, proptest::sample::select(vec!["legal", "vip"])),
    )
        .prop_map(|(categories, tenants, region, label)| Selector {
            categories,
            tenants,
            regions: region.into_iter().collect(),
            labels: label
                .map(|l| (l.to_owned(), "yes".to_owned()))
                .into_iter()
                .collect(),
        })
}

/// A rule named `name`.
pub fn rule(name: String) -> impl Strategy<Value = Rule> {
    (
        selector(),
        trigger(),
        any::<bool>(),
        period(),
        any::<Disposition>(),
    )
        .prop_map(move |(applies_to, trigger, retain, period, then)| Rule {
            name: Arc::from(name.as_str()),
            applies_to,
            trigger,
            keep: if retain || !then.is_destructive() {
                Keep::Retain(period)
            } else {
                Keep::DeleteAfter(period)
            },
            then,
        })
}

/// A hold with id `id` and a non-empty scope over the shared pools.
pub fn hold(id: String) -> impl Strategy<Value = LegalHold> {
    (
        proptest::collection::vec(tenant(), 0..=1),
        proptest::collection::vec(subject(), 0..=1),
        proptest::collection::vec(category(), 0..=1),
        proptest::collection::vec((0..20u8).prop_map(|i| format!("r-{i:02}")), 0..=1),
    )
        .prop_map(move |(tenants, subjects, categories, records)| {
            let mut applies_to = HoldScope {
                tenants,
                subjects,
                categories,
                records,
            };
            if applies_to.is_empty() {
                applies_to.categories.push(DataCategory::USER_CONTENT);
            }
            LegalHold {
                id: Arc::from(id.as_str()),
                reason: "litigation".into(),
                applies_to,
            }
        })
}

/// A record over the shared pools, with id `r-00` to `r-19`.
pub fn record() -> impl Strategy<Value = RetentionRecord> {
    (
        0..20u8,
        tenant(),
        category(),
        proptest::option::of(subject()),
        proptest::option::weighted(0.5, proptest::sample::select(vec![Region::EU, Region::US])),
        proptest::option::weighted(0.3, proptest::sample::select(vec!["legal", "vip"])),
        timestamp(),
        proptest::collection::btree_map(
            proptest::sample::select(EVENTS[1..].to_vec()),
            0..800 * 86_400i64,
            0..=3,
        ),
    )
        .prop_map(
            |(id, tenant, category, subject, region, label, created, events)| RetentionRecord {
                id: format!("r-{id:02}"),
                tenant,
                category,
                subject,
                region,
                labels: label
                    .map(|l| (l.to_owned(), "yes".to_owned()))
                    .into_iter()
                    .collect(),
                created,
                events: events
                    .into_iter()
                    .map(|(name, after)| {
                        (name.to_owned(), created + chrono::TimeDelta::seconds(after))
                    })
                    .collect::<BTreeMap<_, _>>(),
            },
        )
}

/// A policy of 0 to `max_rules` rules named `rule-0`, ... and up to `max_holds` holds.
pub fn policy_with(max_rules: usize, max_holds: usize) -> impl Strategy<Value = RetentionPolicy> {
    let rules = (0..=max_rules).prop_flat_map(|n| {
        (0..n)
            .map(|i| rule(format!("rule-{i}")))
            .collect::<Vec<_>>()
    });
    let holds = (0..=max_holds).prop_flat_map(|n| {
        (0..n)
            .map(|i| hold(format!("hold-{i}")))
            .collect::<Vec<_>>()
    });
    let backups = proptest::option::of(
        (1..=7u64, period(), proptest::option::of(timestamp())).prop_map(|(days, keep, anchor)| {
            BackupSchedule {
                every: Period::new(0, days, 0).unwrap_or_default(),
                keep,
                anchor,
            }
        }),
    );
    (rules, holds, backups).prop_filter_map("valid policy", |(rules, holds, backups)| {
        RetentionPolicy::new(rules, holds, backups).ok()
    })
}

impl Arbitrary for Period {
    type Parameters = ();
    type Strategy = BoxedStrategy<Period>;

    fn arbitrary_with((): ()) -> Self::Strategy {
        period().boxed()
    }
}

impl Arbitrary for Disposition {
    type Parameters = ();
    type Strategy = BoxedStrategy<Disposition>;

    fn arbitrary_with((): ()) -> Self::Strategy {
        proptest::sample::select(Disposition::ALL.to_vec()).boxed()
    }
}

impl Arbitrary for RetentionRecord {
    type Parameters = ();
    type Strategy = BoxedStrategy<RetentionRecord>;

    fn arbitrary_with((): ()) -> Self::Strategy {
        record().boxed()
    }
}

impl Arbitrary for RetentionPolicy {
    type Parameters = ();
    type Strategy = BoxedStrategy<RetentionPolicy>;

    /// Up to 8 rules and 2 holds.
    fn arbitrary_with((): ()) -> Self::Strategy {
        policy_with(8, 2).boxed()
    }
}
