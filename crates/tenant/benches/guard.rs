//! The in-memory guard and access decisions against a raw tenant-id comparison,
//! in the same run.
//!
//! `cargo bench -p custodia-tenant --bench guard -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use custodia_core::{ActorId, DataCategory, Region, TenantId};
use custodia_tenant::access::{
    AccessPolicy, FieldAccess, FieldRule, Operation, Ownership, Permission, PolicyChange, Scope,
};
use custodia_tenant::{RoleName, TenantContext, TenantOwned};

struct Ticket {
    tenant: TenantId,
    id: u64,
}

impl TenantOwned for Ticket {
    const KIND: &'static str = "ticket";
    fn tenant(&self) -> TenantId {
        self.tenant
    }
}

fn guard(c: &mut Criterion) {
    let acme = TenantId::from_external_key("crm", "acme");
    let globex = TenantId::from_external_key("crm", "globex");
    let actor = ActorId::from_external_key(acme, "user", "1");
    let ctx = TenantContext::new(acme, actor, Region::EU);
    let ours = Ticket {
        tenant: acme,
        id: 1,
    };
    let theirs = Ticket {
        tenant: globex,
        id: 2,
    };

    let mut group = c.benchmark_group("guard");
    group.bench_function("raw tenant id comparison", |b| {
        b.iter(|| black_box(black_box(&ours).tenant == black_box(&ctx).tenant()))
    });
    group.bench_function("guard (same tenant)", |b| {
        b.iter(|| black_box(&ctx).guard(black_box(&ours)).is_ok())
    });
    group.bench_function("guard (other tenant, error built)", |b| {
        b.iter(|| black_box(&ctx).guard(black_box(&theirs)).is_err())
    });
    group.bench_function("admit into Scoped<T>", |b| {
        b.iter(|| {
            ctx.admit(Ticket {
                tenant: black_box(acme),
                id: black_box(ours.id),
            })
            .map(|s| s.id)
        })
    });
    group.bench_function("tenant cache key", |b| {
        b.iter(|| ctx.cache_key("ticket", black_box("42")))
    });
    group.finish();
}

fn decide(c: &mut Criterion) {
    let acme = TenantId::from_external_key("crm", "acme");
    let actor = ActorId::from_external_key(acme, "user", "1");
    let agent = RoleName::new("agent").unwrap();
    let mut policy = AccessPolicy::new(acme);
    for change in [
        PolicyChange::DefineRole(agent.clone()),
        PolicyChange::Grant(
            agent.clone(),
            Permission::new("contact", Operation::Read, Scope::Tenant).unwrap(),
        ),
        PolicyChange::Grant(
            agent.clone(),
            Permission::new("ticket", Operation::Update, Scope::Own).unwrap(),
        ),
        PolicyChange::Grant(
            agent.clone(),
            Permission::new("ticket", Operation::Read, Scope::Team).unwrap(),
        ),
        PolicyChange::SetField(
            agent.clone(),
            FieldRule {
                category: DataCategory::USER_CONTACT,
                access: FieldAccess::Read,
            },
        ),
        PolicyChange::SetField(
            agent.clone(),
            FieldRule {
                category: DataCategory::USER_CONTACT_EMAIL,
                access: FieldAccess::Masked,
            },
        ),
    ] {
        policy.apply_unchecked(change).unwrap();
    }
    let ctx = TenantContext::new(acme, actor, Region::EU).with_role(agent);
    let record = Ownership {
        tenant: acme,
        owner: Some(actor),
        team: None,
    };

    let mut group = c.benchmark_group("access");
    group.bench_function("decide read (own ticket)", |b| {
        b.iter(|| {
            policy
                .decide(
                    black_box(&ctx),
                    "ticket",
                    Operation::Read,
                    black_box(&record),
                )
                .allowed
        })
    });
    group.bench_function("field access (user.contact.email)", |b| {
        b.iter(|| {
            policy
                .field_access(
                    black_box(&ctx),
                    "ticket",
                    black_box(&record),
                    &DataCategory::USER_CONTACT_EMAIL,
                )
                .access
        })
    });
    group.finish();
}

criterion_group!(benches, guard, decide);
criterion_main!(benches);
