//! custodia-dsr against the raw primitives underneath, in the same run:
//!
//! * deadline: `period::months_after` vs chrono's `checked_add_months`;
//! * export: `Desk::export` over three in-memory sources (state checks, audit
//!   events, manifest) vs calling the same sources' `locate` + `export` directly;
//! * bundle JSON: `ExportBundle::to_json` vs `serde_json::to_string_pretty` of
//!   the bare records;
//! * erasure: `Desk::erase` (holds check, plans, progress, certificate) vs
//!   calling `erase` on each located record directly;
//! * audit sink: `AuditTrail::record` of a desk event (mapping, details JSON,
//!   sealing, append) vs `AuditLog::append_sealed` of an event with one sealed
//!   note, on a `MemoryStore`.
//!
//! `cargo bench -p custodia-dsr --bench dsr -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::sync::Arc;

use chrono::{Months, TimeZone, Utc};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use custodia_core::{ActorId, DataCategory, LegalBasis, ManualClock, SubjectId, TenantId};
use custodia_dsr::period::months_after;
use custodia_dsr::*;

#[path = "../tests/support/mod.rs"]
mod support;

use support::verified_request;

const RECORDS_PER_SOURCE: usize = 100;

struct World {
    tenant: TenantId,
    alice: SubjectId,
    agent: ActorId,
    sources: Vec<Arc<MemorySource>>,
}

fn world() -> World {
    let tenant = TenantId::from_external_key("bench", "acme");
    let alice = SubjectId::from_external_key(tenant, "contact", "1");
    let sources: Vec<Arc<MemorySource>> = ["contacts", "tickets", "attachments"]
        .into_iter()
        .map(|name| {
            let source = MemorySource::new(name);
            for i in 0..RECORDS_PER_SOURCE {
                let id = format!("{name}-{i}");
                source.insert(
                    tenant,
                    alice,
                    RecordRef::new(name, id),
                    LegalBasis::Contract,
                    [
                        (
                            "email",
                            DataCategory::USER_CONTACT_EMAIL,
                            "alice@example.com",
                            true,
                        ),
                        (
                            "body",
                            DataCategory::USER_CONTENT_TICKET,
                            "The VPN drops every hour, please help",
                            true,
                        ),
                    ],
                );
            }
            Arc::new(source)
        })
        .collect();
    World {
        tenant,
        alice,
        agent: ActorId::from_external_key(tenant, "agent", "1"),
        sources,
    }
}

fn desk(w: &World) -> Desk {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 1, 31, 9, 0, 0).unwrap(),
    ));
    let mut desk = Desk::new(clock, Arc::new(MemorySink::new()));
    for s in &w.sources {
        desk = desk.with_source(s.clone()).unwrap();
    }
    desk
}

fn deadline(c: &mut Criterion) {
    let received = Utc.with_ymd_and_hms(2026, 1, 31, 16, 45, 0).unwrap();
    let mut g = c.benchmark_group("deadline");
    g.bench_function("raw chrono checked_add_months", |b| {
        b.iter(|| black_box(received).checked_add_months(Months::new(1)))
    });
    g.bench_function("months_after (EU rule, end of day)", |b| {
        b.iter(|| months_after(black_box(received), 1))
    });
    g.finish();
}

fn export(c: &mut Criterion) {
    let w = world();
    let desk = desk(&w);
    let mut g = c.benchmark_group("export 3x100 records");
    g.bench_function("raw locate+export loop", |b| {
        b.iter(|| {
            let mut out = Vec::new();
            for s in &w.sources {
                for found in s.locate(w.tenant, w.alice).unwrap() {
                    out.push(s.export(w.tenant, w.alice, &found.record).unwrap());
                }
            }
            out
        })
    });
    g.bench_function("Desk::export", |b| {
        b.iter_batched(
            || verified_request(&desk, w.tenant, w.alice, RequestKind::Access, w.agent),
            |mut r| desk.export(&mut r, w.agent).unwrap(),
            BatchSize::SmallInput,
        )
    });
    let mut r = verified_request(&desk, w.tenant, w.alice, RequestKind::Access, w.agent);
    let bundle = desk.export(&mut r, w.agent).unwrap();
    g.bench_function("raw serde_json of the records", |b| {
        b.iter(|| serde_json::to_string_pretty(black_box(&bundle.records)).unwrap())
    });
    g.bench_function("ExportBundle::to_json", |b| {
        b.iter(|| black_box(&bundle).to_json().unwrap())
    });
    g.bench_function("ExportBundle::csv_files", |b| {
        b.iter(|| black_box(&bundle).csv_files())
    });
    g.finish();
}

fn erase(c: &mut Criterion) {
    let mut g = c.benchmark_group("erase 3x100 records");
    g.bench_function("raw locate+erase loop", |b| {
        b.iter_batched(
            world,
            |w| {
                for s in &w.sources {
                    for found in s.locate(w.tenant, w.alice).unwrap() {
                        let plan = ErasurePolicy::delete_all().plan(&found);
                        s.erase(w.tenant, w.alice, &plan).unwrap();
                    }
                }
                w
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("Desk::erase with certificate", |b| {
        b.iter_batched(
            || {
                let w = world();
                let desk = desk(&w);
                let r = verified_request(&desk, w.tenant, w.alice, RequestKind::Erasure, w.agent);
                (w, desk, r)
            },
            |(w, desk, mut r)| {
                let cert = desk.erase(&mut r, w.agent).unwrap();
                (w, cert)
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn audit_sink(c: &mut Criterion) {
    use custodia_audit::{Action, Actor, ActorKind, AuditLog, Event, MemoryStore, Target};
    use custodia_crypt::{Keyring, MemoryKeyStore, SecretKey, SubjectVault};
    let w = world();
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(),
    ));
    let vault = Arc::new(SubjectVault::new(
        Arc::new(Keyring::new(SecretKey::generate().unwrap())),
        MemoryKeyStore::default(),
        clock.clone(),
    ));
    let mut g = c.benchmark_group("audit sink");
    let mut log = AuditLog::open(MemoryStore::new()).unwrap();
    g.bench_function("raw AuditLog::append_sealed (one sealed note)", |b| {
        b.iter(|| {
            let event = Event::builder(
                w.tenant,
                Actor::new(ActorKind::Agent, w.agent),
                Action::Erase,
                Target::new("dsr.source", "tickets").unwrap(),
            )
            .subject(w.alice)
            .note(r#"{"action":"source_erased","source":"tickets","records_deleted":100}"#)
            .build(clock.as_ref())
            .unwrap();
            black_box(log.append_sealed(&vault, event).unwrap())
        })
    });
    let trail = AuditTrail::new(AuditLog::open(MemoryStore::new()).unwrap(), vault.clone());
    let event = DsrEvent {
        at: Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(),
        tenant: Some(w.tenant),
        subject: Some(w.alice),
        actor: Some(w.agent),
        request: Some(RequestId::random()),
        incident: None,
        action: DsrAction::SourceErased {
            source: "tickets".into(),
            records_deleted: 100,
            fields_deleted: 0,
            fields_anonymized: 0,
        },
    };
    g.bench_function("AuditTrail::record", |b| {
        b.iter(|| trail.record(black_box(&event)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, deadline, export, erase, audit_sink);
criterion_main!(benches);
