//! Property tests: isolation invariants and parsers on arbitrary input.

use custodia_core::{ActorId, DataCategory, Region, TenantId};
use custodia_tenant::access::{
    ADMIN_RESOURCE, AccessPolicy, FieldAccess, Operation, Ownership, PolicyChange,
};
use custodia_tenant::arbitrary::{context_in, policy_change, pooled_role, pooled_team};
use custodia_tenant::residency::{AdequacyList, SccModule, SccRecord, TransferInstrument};
use custodia_tenant::rls::Ident;
use custodia_tenant::{CacheKey, Error, RoleName, TeamId, TenantContext, TenantJob};
use proptest::prelude::*;

fn two_tenants() -> impl Strategy<Value = (TenantId, TenantId)> {
    (any::<TenantId>(), any::<TenantId>()).prop_filter("distinct tenants", |(a, b)| a != b)
}

/// A record of `tenant`, sometimes owned by `actor` or in one of `teams`, so
/// that the own and team scopes would match if the tenant were ignored.
fn record_of(
    tenant: TenantId,
    actor: ActorId,
    teams: Vec<TeamId>,
) -> impl Strategy<Value = Ownership> {
    let teams = if teams.is_empty() {
        vec![TeamId::new("tier-1").unwrap()]
    } else {
        teams
    };
    (
        prop_oneof![
            Just(Some(actor)),
            any::<ActorId>().prop_map(Some),
            Just(None)
        ],
        prop_oneof![
            proptest::sample::select(teams).prop_map(Some),
            pooled_team().prop_map(Some),
            Just(None)
        ],
    )
        .prop_map(move |(owner, team)| Ownership {
            tenant,
            owner,
            team,
        })
}

/// Two tenants and pairs of (an actor of A, a record of B that the actor would
/// own or share a team with, if tenants were ignored).
fn scenario() -> impl Strategy<Value = (TenantId, TenantId, Vec<(TenantContext, Ownership)>)> {
    two_tenants().prop_flat_map(|(a, b)| {
        let pair = context_in(a)
            .prop_flat_map(|ctx| (Just(ctx.clone()), pooled_role()))
            .prop_map(|(ctx, role)| ctx.with_role(role))
            .prop_flat_map(move |ctx| {
                let teams: Vec<TeamId> = ctx.teams().iter().cloned().collect();
                (Just(ctx.clone()), record_of(b, ctx.actor(), teams))
            });
        (Just(a), Just(b), proptest::collection::vec(pair, 1..6))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// No sequence of grants in tenant A lets any actor of A read (or do
    /// anything else to, or see any field of) a record of tenant B — through
    /// A's policy or B's — and A's administrators cannot change B's policy.
    #[test]
    fn no_grants_in_a_reach_records_of_b(
        (a, b, cases) in scenario(),
        changes in proptest::collection::vec(policy_change(), 0..40),
        admin_actor in any::<ActorId>(),
        category in any::<DataCategory>(),
    ) {
        let admin_role = RoleName::new("admin").unwrap();
        let admin = TenantContext::new(a, admin_actor, Region::EU).with_role(admin_role.clone());
        let mut policy_a = AccessPolicy::with_admin(a, admin_role.clone());
        let mut policy_b = AccessPolicy::with_admin(b, admin_role);
        let policy_b_before = policy_b.clone();
        for change in changes {
            // Through A's administrator, and unchecked as provisioning would.
            let _ = policy_a.apply(&admin, change.clone());
            let _ = policy_a.apply_unchecked(change.clone());
            // A's administrator against B's policy: always refused.
            let err = policy_b.apply(&admin, change).unwrap_err();
            let refused = matches!(err, Error::CrossTenantGrant { admin_tenant, policy_tenant } if admin_tenant == a && policy_tenant == b);
            prop_assert!(refused);
        }
        prop_assert_eq!(&policy_b, &policy_b_before);

        for (ctx, record) in cases {
            prop_assert!(ctx.guard(&record).unwrap_err().is_cross_tenant());
            for resource in ["ticket", "contact", "attachment", ADMIN_RESOURCE] {
                for action in Operation::ALL {
                    for policy in [&policy_a, &policy_b] {
                        let decision = policy.decide(&ctx, resource, action, &record);
                        prop_assert!(!decision.allowed, "{}", decision);
                        let field = policy.field_access(&ctx, resource, &record, &category);
                        prop_assert_eq!(field.access, FieldAccess::Hidden);
                    }
                }
            }
        }
    }

    /// The verdict-only checks (`allows`, `field_level`) say what the
    /// explained ones (`decide`, `field_access`) say, for records of the
    /// policy's tenant and of another.
    #[test]
    fn verdicts_agree_with_explained_decisions(
        (a, _b, cases) in scenario(),
        changes in proptest::collection::vec(policy_change(), 0..40),
        category in any::<DataCategory>(),
    ) {
        let mut policy = AccessPolicy::new(a);
        for change in changes {
            let _ = policy.apply_unchecked(change);
        }
        for (ctx, foreign) in cases {
            let own = Ownership { tenant: a, ..foreign.clone() };
            for record in [&own, &foreign] {
                for resource in ["ticket", "contact", "attachment", ADMIN_RESOURCE] {
                    for action in Operation::ALL {
                        let decision = policy.decide(&ctx, resource, action, record);
                        prop_assert_eq!(policy.allows(&ctx, resource, action, record), decision.allowed);
                    }
                    let field = policy.field_access(&ctx, resource, record, &category);
                    prop_assert_eq!(policy.field_level(&ctx, resource, record, &category), field.access);
                }
            }
        }
    }

    /// Roles combine per record: what several roles give of a field is what
    /// one of them gives alone, and `write` only from a role that may update
    /// the record. (Found in review: a role that could not read a record
    /// lent its field rules to one that could.)
    #[test]
    fn combined_roles_give_no_field_access_no_single_role_gives(
        (a, _b, cases) in scenario(),
        extra in proptest::collection::vec(pooled_role(), 0..4),
        changes in proptest::collection::vec(policy_change(), 0..40),
        pick in any::<proptest::sample::Index>(),
    ) {
        let mut policy = AccessPolicy::new(a);
        for role in ["agent", "admin", "supervisor", "viewer"] {
            let _ = policy.apply_unchecked(PolicyChange::DefineRole(RoleName::new(role).unwrap()));
        }
        for change in changes {
            let _ = policy.apply_unchecked(change);
        }
        // A category some rule names, so that rules meet the field asked about.
        let named: Vec<DataCategory> = policy
            .roles()
            .values()
            .flat_map(|def| def.fields.iter().map(|f| f.category.clone()))
            .collect();
        let category = if named.is_empty() { DataCategory::USER } else { pick.get(&named).clone() };
        for (ctx, foreign) in cases {
            let ctx = extra.iter().cloned().fold(ctx, TenantContext::with_role);
            let record = Ownership { tenant: a, ..foreign };
            for resource in ["ticket", "contact"] {
                let combined = policy.field_level(&ctx, resource, &record, &category);
                let alone = ctx
                    .roles()
                    .iter()
                    .map(|role| {
                        let single = TenantContext::new(a, ctx.actor(), ctx.region())
                            .with_role(role.clone());
                        let single = ctx.teams().iter().cloned().fold(single, TenantContext::with_team);
                        policy.field_level(&single, resource, &record, &category)
                    })
                    .max()
                    .unwrap_or(FieldAccess::Hidden);
                prop_assert_eq!(combined, alone);
                if combined.can_write() {
                    prop_assert!(policy.allows(&ctx, resource, Operation::Update, &record));
                }
            }
        }
    }

    /// The guard refuses every value of another tenant and names both tenants.
    #[test]
    fn guard_names_both_tenants((a, b) in two_tenants(), actor in any::<ActorId>()) {
        let ctx = TenantContext::new(a, actor, Region::EU);
        match ctx.admit(b) {
            Err(Error::CrossTenant { context, found, .. }) => {
                prop_assert_eq!(context, a);
                prop_assert_eq!(found, b);
            }
            other => prop_assert!(false, "admitted: {other:?}"),
        }
        prop_assert!(ctx.admit(a).is_ok());
    }

    /// Cache keys round-trip and stay in their tenant, whatever the key text.
    #[test]
    fn cache_keys_round_trip((a, b) in two_tenants(), ns in "[a-z][a-z0-9_.-]{0,10}", key in ".*") {
        let k = CacheKey::new(a, &ns, &key).unwrap();
        let back = CacheKey::parse(k.as_str()).unwrap();
        prop_assert_eq!(&back, &k);
        prop_assert_eq!(back.tenant(), a);
        let other = CacheKey::new(b, &ns, &key).unwrap();
        prop_assert_ne!(k.as_str(), other.as_str());
    }

    /// Parsers on arbitrary text: a value or a typed error, never a panic.
    #[test]
    fn parsers_never_panic(text in ".*", bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = CacheKey::parse(&text);
        let _ = RoleName::new(text.clone());
        let _ = TeamId::new(text.clone());
        let _ = Ident::new(&text);
        match AdequacyList::from_json(&text) {
            Ok(_) => {}
            Err(e) => {
                let typed = matches!(e, Error::InvalidData { what: "adequacy list", .. } | Error::Json { what: "adequacy list", .. });
                prop_assert!(typed, "{}", e);
            }
        }
        match SccRecord::from_json(&text) {
            Ok(_) => {}
            Err(e) => prop_assert!(matches!(e, Error::Json { what: "SCC record", .. }), "{}", e),
        }
        match TenantJob::<serde_json::Value>::from_json(&bytes) {
            Ok(_) => {}
            Err(e) => {
                let typed = matches!(e, Error::InvalidData { what: "tenant job", .. } | Error::Json { what: "tenant job", .. });
                prop_assert!(typed, "{}", e);
            }
        }
    }

    /// Mutations of the built-in adequacy list parse or fail with a typed error.
    #[test]
    fn adequacy_list_mutations(cut in 0usize..2000, insert in "[\\[\\]{}\":, a-zA-Z0-9]{0,4}") {
        let mut json = custodia_tenant::residency::BUILTIN_ADEQUACY_JSON.to_owned();
        let at = json.char_indices().map(|(i, _)| i).nth(cut % json.chars().count()).unwrap_or(0);
        json.insert_str(at, &insert);
        if let Err(e) = AdequacyList::from_json(&json) {
            let typed = matches!(e, Error::InvalidData { .. } | Error::Json { .. });
            prop_assert!(typed, "{}", e);
        }
    }

    /// Safeguard records print and parse back unchanged, with or without
    /// the instrument field (absent: EU SCCs); mutated, they parse or fail
    /// with a typed error.
    #[test]
    fn scc_records_round_trip(
        recipient in ".*",
        destination in any::<Region>(),
        instrument in proptest::sample::select(vec![
            TransferInstrument::EuSccs, TransferInstrument::UkIdta, TransferInstrument::UkAddendum,
        ]),
        module in proptest::sample::select(vec![SccModule::C2C, SccModule::C2P, SccModule::P2P, SccModule::P2C]),
        days in 0i64..40_000,
        tia in any::<bool>(),
        cut in 0usize..200,
        insert in "[\\[\\]{}\":, a-zA-Z0-9]{0,4}",
    ) {
        let signed = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Duration::days(days);
        let record = SccRecord { recipient, destination, instrument, module, signed, transfer_impact_assessment: tia };
        let json = serde_json::to_string(&record).unwrap();
        prop_assert_eq!(&SccRecord::from_json(&json).unwrap(), &record);
        if instrument == TransferInstrument::EuSccs {
            let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
            value.as_object_mut().unwrap().remove("instrument");
            prop_assert_eq!(&SccRecord::from_json(&value.to_string()).unwrap(), &record);
        }
        let mut mutated = json.clone();
        let at = mutated.char_indices().map(|(i, _)| i).nth(cut % mutated.chars().count()).unwrap_or(0);
        mutated.insert_str(at, &insert);
        if let Err(e) = SccRecord::from_json(&mutated) {
            prop_assert!(matches!(e, Error::Json { what: "SCC record", .. }), "{}", e);
        }
    }
}
