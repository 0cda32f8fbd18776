//! Proptest strategies for the core types (feature `proptest`).
//!
//! Every main type implements [`proptest::arbitrary::Arbitrary`], so a
//! downstream suite writes `any::<TenantId>()` or `any::<DataCategory>()`. The
//! free functions here give narrower strategies where a test needs them.

use proptest::prelude::*;
use uuid::Uuid;

use crate::category::BUILTIN;
use crate::{ActorId, DataCategory, LegalBasis, Purpose, Region, Role, SubjectId, TenantId};

macro_rules! arbitrary_id {
    ($($name:ident),*) => {$(
        impl Arbitrary for $name {
            type Parameters = ();
            type Strategy = BoxedStrategy<$name>;

            fn arbitrary_with((): ()) -> Self::Strategy {
                any::<u128>().prop_map(|n| $name::from_uuid(Uuid::from_u128(n))).boxed()
            }
        }
    )*};
}

arbitrary_id!(TenantId, SubjectId, ActorId);

/// One of the built-in categories.
pub fn known_category() -> impl Strategy<Value = DataCategory> {
    proptest::sample::select(BUILTIN).prop_map(|(category, _)| category)
}

/// A syntactically valid category segment.
pub fn category_segment() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,11}"
}

/// A custom category: `parent` extended by one to three generated segments.
pub fn category_under(parent: DataCategory) -> impl Strategy<Value = DataCategory> {
    proptest::collection::vec(category_segment(), 1..=3)
        .prop_filter_map("category too long", move |segments| {
            DataCategory::from_string(format!("{parent}.{}", segments.join("."))).ok()
        })
}

impl Arbitrary for DataCategory {
    type Parameters = ();
    type Strategy = BoxedStrategy<DataCategory>;

    /// Half built-in categories, half custom ones beneath a built-in category.
    fn arbitrary_with((): ()) -> Self::Strategy {
        prop_oneof![
            known_category(),
            known_category().prop_flat_map(category_under),
        ]
        .boxed()
    }
}

impl Arbitrary for Region {
    type Parameters = ();
    type Strategy = BoxedStrategy<Region>;

    /// A named region or any ISO 3166-1 country.
    fn arbitrary_with((): ()) -> Self::Strategy {
        prop_oneof![
            proptest::sample::select(Region::NAMED.to_vec()),
            "[A-Z]{2}".prop_filter_map("not an ISO 3166-1 code", |code| Region::custom(&code).ok()),
        ]
        .boxed()
    }
}

impl Arbitrary for LegalBasis {
    type Parameters = ();
    type Strategy = BoxedStrategy<LegalBasis>;

    fn arbitrary_with((): ()) -> Self::Strategy {
        proptest::sample::select(LegalBasis::ALL.to_vec()).boxed()
    }
}

impl Arbitrary for Role {
    type Parameters = ();
    type Strategy = BoxedStrategy<Role>;

    fn arbitrary_with((): ()) -> Self::Strategy {
        prop_oneof![Just(Role::Controller), Just(Role::Processor)].boxed()
    }
}

impl Arbitrary for Purpose {
    type Parameters = ();
    type Strategy = BoxedStrategy<Purpose>;

    fn arbitrary_with((): ()) -> Self::Strategy {
        "[a-z][a-z0-9_-]{0,23}"
            .prop_filter_map("invalid purpose", |name| Purpose::new(name).ok())
            .boxed()
    }
}

/// An error's `Display` and every `source()` below it, one per line: all
/// that a host printing the whole chain (`{:#}`, a tracing error chain)
/// shows. With [`echoed_piece`], how a suite holds an error to "errors do
/// not leak data" (SECURITY.md).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut shown = error.to_string();
    let mut next = error.source();
    while let Some(source) = next {
        shown.push('\n');
        shown.push_str(&source.to_string());
        next = source.source();
    }
    shown
}

/// The first run of more than [`MAX_ECHO`](crate::MAX_ECHO) + 1 characters
/// of `value` (the echo bound and its ellipsis) that `shown` contains, if
/// any: input repeated at more length than Custodia's errors may.
pub fn echoed_piece<'a>(value: &'a str, shown: &str) -> Option<&'a str> {
    let starts: Vec<usize> = value.char_indices().map(|(at, _)| at).collect();
    let window = crate::MAX_ECHO + 2;
    (0..starts.len().saturating_sub(window - 1))
        .map(|i| {
            let end = starts.get(i + window).copied().unwrap_or(value.len());
            &value[starts[i]..end]
        })
        .find(|piece| shown.contains(piece))
}
