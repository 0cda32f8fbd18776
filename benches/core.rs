//! Core overheads against the raw primitives they wrap.
//!
//! `cargo bench --bench core`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use custodia::core::uuid::Uuid;
use custodia::core::{DataCategory, SubjectId, TenantId};

fn category(c: &mut Criterion) {
    let mut group = c.benchmark_group("category");
    let text = "user.contact.address.postal_code";
    group.bench_function("parse", |b| {
        b.iter(|| black_box(text).parse::<DataCategory>())
    });
    group.bench_function("raw/to_owned", |b| b.iter(|| black_box(text).to_owned()));
    let email = DataCategory::USER_CONTACT_EMAIL;
    let contact = DataCategory::USER_CONTACT;
    group.bench_function("is_within", |b| {
        b.iter(|| black_box(&email).is_within(black_box(&contact)))
    });
    group.bench_function("raw/starts_with", |b| {
        b.iter(|| black_box(email.as_str()).starts_with(black_box(contact.as_str())))
    });
    group.finish();
}

fn ids(c: &mut Criterion) {
    let mut group = c.benchmark_group("id");
    let tenant = TenantId::from_external_key("billing.account", "ACME-0042");
    group.bench_function("subject_from_external_key", |b| {
        b.iter(|| SubjectId::from_external_key(black_box(tenant), "psa.contact", black_box("1017")))
    });
    group.bench_function("raw/uuid_v5", |b| {
        b.iter(|| Uuid::new_v5(black_box(tenant.as_uuid()), black_box(b"psa.contact1017")))
    });
    let text = tenant.to_string();
    group.bench_function("parse", |b| b.iter(|| black_box(&text).parse::<TenantId>()));
    group.bench_function("raw/uuid_parse", |b| {
        b.iter(|| Uuid::parse_str(black_box(&text)))
    });
    group.finish();
}

criterion_group!(benches, category, ids);
criterion_main!(benches);
