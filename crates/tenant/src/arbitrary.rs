//! Proptest strategies for the main types (feature `proptest`).
//!
//! [`TenantContext`], [`RoleName`], [`TeamId`], [`Permission`], [`FieldRule`]
//! and the access enums implement [`proptest::arbitrary::Arbitrary`]; the free
//! functions give narrower strategies (a context in a given tenant, a role
//! from a small pool so generated grants and contexts meet).

use custodia_core::{ActorId, DataCategory, Region, TenantId};
use proptest::prelude::*;

use crate::access::{FieldAccess, FieldRule, Operation, Permission, PolicyChange, Scope};
use crate::{RoleName, TeamId, TenantContext};

/// A role from a pool of four names, so that generated grants and contexts overlap.
pub fn pooled_role() -> impl Strategy<Value = RoleName> {
    proptest::sample::select(vec!["agent", "admin", "supervisor", "viewer"])
        .prop_filter_map("invalid role", |r| RoleName::new(r).ok())
}

/// A team from a pool of three names.
pub fn pooled_team() -> impl Strategy<Value = TeamId> {
    proptest::sample::select(vec!["tier-1", "tier-2", "billing"])
        .prop_filter_map("invalid team", |t| TeamId::new(t).ok())
}

/// A resource from a pool of three names (plus the administration resource).
pub fn pooled_resource() -> impl Strategy<Value = String> {
    proptest::sample::select(vec![
        "ticket",
        "contact",
        "attachment",
        crate::access::ADMIN_RESOURCE,
    ])
    .prop_map(str::to_owned)
}

/// A context of `tenant` with pooled roles and teams.
pub fn context_in(tenant: TenantId) -> impl Strategy<Value = TenantContext> {
    (
        any::<ActorId>(),
        any::<Region>(),
        proptest::collection::vec(pooled_role(), 0..3),
        proptest::collection::vec(pooled_team(), 0..2),
    )
        .prop_map(move |(actor, region, roles, teams)| {
            let ctx = roles.into_iter().fold(
                TenantContext::new(tenant, actor, region),
                TenantContext::with_role,
            );
            teams.into_iter().fold(ctx, TenantContext::with_team)
        })
}

/// A policy change over pooled roles and resources.
pub fn policy_change() -> impl Strategy<Value = PolicyChange> {
    prop_oneof![
        pooled_role().prop_map(PolicyChange::DefineRole),
        (pooled_role(), any::<Permission>()).prop_map(|(r, p)| PolicyChange::Grant(r, p)),
        (pooled_role(), any::<Permission>()).prop_map(|(r, p)| PolicyChange::Revoke(r, p)),
        (pooled_role(), any::<FieldRule>()).prop_map(|(r, f)| PolicyChange::SetField(r, f)),
    ]
}

macro_rules! select_arbitrary {
    ($($ty:ty => $values:expr),* $(,)?) => {$(
        impl Arbitrary for $ty {
            type Parameters = ();
            type Strategy = BoxedStrategy<$ty>;
            fn arbitrary_with((): ()) -> Self::Strategy {
                proptest::sample::select($values.to_vec()).boxed()
            }
        }
    )*};
}

select_arbitrary!(
    Operation => Operation::ALL,
    Scope => [Scope::Own, Scope::Team, Scope::Tenant],
    FieldAccess => [FieldAccess::Hidden, FieldAccess::Masked, FieldAccess::Read, FieldAccess::Write],
);

impl Arbitrary for RoleName {
    type Parameters = ();
    type Strategy = BoxedStrategy<RoleName>;
    fn arbitrary_with((): ()) -> Self::Strategy {
        "[a-z][a-z0-9_.-]{0,20}"
            .prop_filter_map("invalid role", |r| RoleName::new(r).ok())
            .boxed()
    }
}

impl Arbitrary for TeamId {
    type Parameters = ();
    type Strategy = BoxedStrategy<TeamId>;
    fn arbitrary_with((): ()) -> Self::Strategy {
        "[a-z][a-z0-9_.-]{0,20}"
            .prop_filter_map("invalid team", |t| TeamId::new(t).ok())
            .boxed()
    }
}

impl Arbitrary for Permission {
    type Parameters = ();
    type Strategy = BoxedStrategy<Permission>;
    fn arbitrary_with((): ()) -> Self::Strategy {
        (pooled_resource(), any::<Operation>(), any::<Scope>())
            .prop_filter_map("invalid resource", |(r, a, s)| {
                Permission::new(&r, a, s).ok()
            })
            .boxed()
    }
}

impl Arbitrary for FieldRule {
    type Parameters = ();
    type Strategy = BoxedStrategy<FieldRule>;
    fn arbitrary_with((): ()) -> Self::Strategy {
        (any::<DataCategory>(), any::<FieldAccess>())
            .prop_map(|(category, access)| FieldRule { category, access })
            .boxed()
    }
}

impl Arbitrary for TenantContext {
    type Parameters = ();
    type Strategy = BoxedStrategy<TenantContext>;
    fn arbitrary_with((): ()) -> Self::Strategy {
        any::<TenantId>().prop_flat_map(context_in).boxed()
    }
}
