//! Properties of the core types: round trips, the category order, total parsers.

use std::fmt::Debug;
use std::str::FromStr;

use chrono::{TimeDelta, TimeZone, Utc};
use custodia_core::arbitrary::{category_segment, known_category};
use custodia_core::{
    ActorId, Clock, DataCategory, LegalBasis, ManualClock, Purpose, Region, Role, SubjectId,
    Taxonomy, TenantId,
};
use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

fn round_trips<T>(value: &T)
where
    T: Debug + PartialEq + ToString + FromStr + Serialize + DeserializeOwned,
    <T as FromStr>::Err: Debug,
{
    let text = value.to_string();
    assert_eq!(&text.parse::<T>().unwrap(), value, "Display/FromStr");
    let json = serde_json::to_string(value).unwrap();
    assert_eq!(&serde_json::from_str::<T>(&json).unwrap(), value, "serde");
}

/// A category, one of its ancestors, and one of that ancestor's ancestors.
fn nested_chain() -> impl Strategy<Value = (DataCategory, DataCategory, DataCategory)> {
    any::<DataCategory>().prop_flat_map(|a| {
        let ancestors: Vec<DataCategory> = a.ancestors().collect();
        (Just(a), proptest::sample::select(ancestors)).prop_flat_map(|(a, b)| {
            let above_b: Vec<DataCategory> = b.ancestors().collect();
            (Just(a), Just(b), proptest::sample::select(above_b))
        })
    })
}

proptest! {
    #[test]
    fn ids_round_trip(t in any::<TenantId>(), s in any::<SubjectId>(), a in any::<ActorId>()) {
        round_trips(&t);
        round_trips(&s);
        round_trips(&a);
    }

    #[test]
    fn vocabulary_round_trips(
        category in any::<DataCategory>(),
        region in any::<Region>(),
        basis in any::<LegalBasis>(),
        role in any::<Role>(),
        purpose in any::<Purpose>(),
    ) {
        round_trips(&category);
        round_trips(&region);
        round_trips(&basis);
        round_trips(&role);
        round_trips(&purpose);
    }

    #[test]
    fn eu_eea_and_covers_agree(region in any::<Region>(), other in any::<Region>()) {
        // EU territory is in the EEA; the EEA adds exactly Iceland,
        // Liechtenstein and Norway.
        prop_assert!(!region.is_eu() || region.is_eea());
        let eea_only = ["IS", "LI", "NO"].contains(&region.code());
        prop_assert_eq!(region.is_eea(), region.is_eu() || eea_only);
        // The EU covers exactly EU territory; every other region only itself.
        prop_assert_eq!(Region::EU.covers(region), region.is_eu());
        prop_assert!(region.covers(region));
        if region != Region::EU {
            prop_assert_eq!(region.covers(other), region == other);
        }
    }

    #[test]
    fn is_within_is_reflexive(a in any::<DataCategory>()) {
        prop_assert!(a.is_within(&a));
    }

    #[test]
    fn is_within_is_antisymmetric(a in any::<DataCategory>(), b in any::<DataCategory>()) {
        if a.is_within(&b) && b.is_within(&a) {
            prop_assert_eq!(a, b);
        }
    }

    #[test]
    fn is_within_is_transitive((a, b, c) in nested_chain(), d in any::<DataCategory>()) {
        prop_assert!(a.is_within(&b) && b.is_within(&c));
        prop_assert!(a.is_within(&c));
        // Unrelated categories: whenever both steps hold, so does the conclusion.
        if a.is_within(&d) && d.is_within(&c) {
            prop_assert!(a.is_within(&c));
        }
    }

    #[test]
    fn is_within_means_is_an_ancestor(a in any::<DataCategory>(), b in any::<DataCategory>()) {
        prop_assert_eq!(a.is_within(&b), a.ancestors().any(|x| x == b));
    }

    #[test]
    fn a_child_is_within_its_parent(parent in known_category(), segment in category_segment()) {
        let child = parent.child(&segment).unwrap();
        prop_assert!(child.is_within(&parent));
        prop_assert!(!parent.is_within(&child));
        prop_assert_eq!(child.parent(), Some(parent));
    }

    #[test]
    fn parsers_are_total(text in any::<String>()) {
        // Any input gives a value or a typed error, and values print back as parsed.
        if let Ok(category) = text.parse::<DataCategory>() {
            prop_assert_eq!(category.as_str(), text.as_str());
        }
        if let Ok(region) = text.parse::<Region>() {
            prop_assert!(text.eq_ignore_ascii_case(region.code()) || text.eq_ignore_ascii_case("gb"));
        }
        let _ = text.parse::<TenantId>();
        let _ = text.parse::<LegalBasis>();
        let _ = text.parse::<Role>();
        let _ = text.parse::<Purpose>();
        let _ = Taxonomy::builtin().parse(&text);
        let _ = serde_json::from_str::<DataCategory>(&text);
    }

    #[test]
    fn category_errors_never_echo_unbounded_input(text in ".{0,2000}") {
        // The input is echoed at most twice (whole and the bad segment), each cut
        // to MAX_ECHO characters of at most 10 escaped characters each.
        if let Err(err) = text.parse::<DataCategory>() {
            let bound = 2 * 10 * custodia_core::MAX_ECHO + 200;
            prop_assert!(err.to_string().chars().count() < bound);
        }
    }

    #[test]
    fn derived_ids_are_deterministic_and_distinct(
        tenant in any::<TenantId>(),
        (s1, k1) in ("[a-z.]{1,8}", ".{0,8}"),
        (s2, k2) in ("[a-z.]{1,8}", ".{0,8}"),
    ) {
        let a = SubjectId::from_external_key(tenant, &s1, &k1);
        prop_assert_eq!(a, SubjectId::from_external_key(tenant, &s1, &k1));
        if (&s1, &k1) != (&s2, &k2) {
            prop_assert_ne!(a, SubjectId::from_external_key(tenant, &s2, &k2));
        }
    }

    #[test]
    fn manual_clock_adds_up(first in -1_000_000i64..1_000_000, second in -1_000_000i64..1_000_000) {
        let start = Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0).unwrap();
        let clock = ManualClock::new(start);
        clock.advance(TimeDelta::seconds(first));
        clock.advance(TimeDelta::seconds(second));
        prop_assert_eq!(clock.now(), start + TimeDelta::seconds(first + second));
    }
}
