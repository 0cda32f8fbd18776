//! Drives the hot paths for profiling (callgrind / `perf stat`), outside criterion:
//!
//! ```sh
//! cargo build --profile bench -p custodia-audit --example profile
//! valgrind --tool=callgrind target/release/examples/profile append 10000
//! perf stat -e task-clock target/release/examples/profile verify 1000000 DIR
//! ```
//!
//! `append N`: builds N events, then appends them to an in-memory log;
//! `events N`: only builds them (subtract for the cost of the appends). `build N DIR`: writes an N-event segment log to DIR.
//! `verify DIR`: opens and verifies the log in DIR. `sha N`: raw
//! SHA-256 of N event encodings, the primitive to compare with.

use custodia_audit::{
    Action, Actor, ActorKind, AuditLog, Durability, Event, EventId, FieldChange, MemoryStore,
    Personal, SegmentOptions, SegmentStore, Target, canonical, verify,
};
use custodia_core::chrono::{TimeZone, Utc};
use custodia_core::{ActorId, DataCategory, LegalBasis, ManualClock, Purpose, SubjectId, TenantId};
use sha2::Digest;
use std::hint::black_box;
use std::time::Instant;

/// A realistic event: sealed IP, user agent and before/after values (random
/// bytes of envelope size), about 500 bytes encoded.
fn event(i: u64) -> Event {
    let tenant = TenantId::from_external_key("crm", "ACME");
    let subject = SubjectId::from_external_key(tenant, "contact", &(i % 1000).to_string());
    let sealed = |n: usize| Personal::Sealed {
        subject,
        sealed: (0..n).map(|b| (b as u64 * 31 + i) as u8).collect(),
    };
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
    Event::builder(
        tenant,
        Actor::new(
            ActorKind::Agent,
            ActorId::from_external_key(tenant, "user", &(i % 50).to_string()),
        )
        .with_ip(sealed(60))
        .with_user_agent(sealed(110)),
        Action::Update,
        Target::new("ticket", format!("T-{i}")).unwrap(),
    )
    .subject(subject)
    .change(FieldChange::new(
        "email",
        DataCategory::USER_CONTACT_EMAIL,
        Some(sealed(70)),
        Some(sealed(70)),
    ))
    .purpose(Purpose::SUPPORT)
    .legal_basis(LegalBasis::Contract)
    .request_id(format!("req-{i:08}"))
    .id(EventId::from_uuid(custodia_core::uuid::Uuid::from_u128(
        u128::from(i) + 1,
    )))
    .build(&clock)
    .unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    match args.get(1).map(String::as_str) {
        Some("append") => {
            let events: Vec<Event> = (0..n).map(event).collect();
            let started = Instant::now();
            let mut log = AuditLog::open(MemoryStore::new()).unwrap();
            for e in &events {
                log.append(e).unwrap();
            }
            let elapsed = started.elapsed();
            eprintln!(
                "append: {n} events in {elapsed:?} ({:.0}/s)",
                n as f64 / elapsed.as_secs_f64()
            );
            black_box(log.head());
        }
        Some("parts") => {
            // Each stage of an append on its own, in ns per event.
            let events: Vec<Event> = (0..n).map(event).collect();
            let encoded: Vec<Vec<u8>> = events.iter().map(canonical::encode).collect();
            let per = |label: &str, started: Instant| {
                eprintln!(
                    "{label:>24}: {:7.1} ns/event",
                    started.elapsed().as_nanos() as f64 / n as f64
                );
            };
            let started = Instant::now();
            let mut buf = Vec::new();
            for e in &events {
                buf.clear();
                canonical::encode_into(e, &mut buf);
                black_box(&buf);
            }
            per("encode (reused buffer)", started);
            let started = Instant::now();
            for e in &encoded {
                black_box(sha2::Sha256::digest(e));
            }
            per("raw sha256", started);
            let started = Instant::now();
            for e in &encoded {
                black_box(custodia_audit::merkle::leaf_hash(e));
            }
            per("leaf hash", started);
            let (l, r) = ([1u8; 32], [2u8; 32]);
            let started = Instant::now();
            for _ in 0..n {
                black_box(custodia_audit::merkle::node_hash(
                    black_box(&l),
                    black_box(&r),
                ));
            }
            per("node hash", started);
            let started = Instant::now();
            for _ in 0..n {
                let mut input = [1u8; 65];
                input[1..33].copy_from_slice(black_box(&l));
                input[33..].copy_from_slice(black_box(&r));
                black_box(sha2::Sha256::digest(input));
            }
            per("raw sha256 65 bytes", started);
            let started = Instant::now();
            let mut tree = custodia_audit::MerkleTree::new();
            for e in &encoded {
                tree.push(e);
            }
            per("tree push", started);
            let started = Instant::now();
            let mut store = MemoryStore::new();
            for e in &encoded {
                custodia_audit::Store::append(&mut store, &[e], &tree).unwrap();
            }
            per("memory store append", started);
            let started = Instant::now();
            let mut log = AuditLog::open(MemoryStore::new()).unwrap();
            for e in &events {
                log.append(e).unwrap();
            }
            per("log append", started);
            black_box((tree.root(), log.head()));
        }
        Some("events") => {
            // Event construction alone: subtract from `append N` to get the
            // cost of the appends.
            let events: Vec<Event> = (0..n).map(event).collect();
            black_box(&events);
        }
        Some("sha") => {
            let encoded: Vec<Vec<u8>> = (0..n).map(|i| canonical::encode(&event(i))).collect();
            let started = Instant::now();
            for e in &encoded {
                black_box(sha2::Sha256::digest(e));
            }
            let elapsed = started.elapsed();
            eprintln!(
                "sha256: {n} events in {elapsed:?} ({:.0}/s)",
                n as f64 / elapsed.as_secs_f64()
            );
        }
        Some("build") => {
            let dir = args.get(3).expect("build N DIR");
            let options = SegmentOptions {
                durability: Durability::Never,
                max_segment_bytes: 64 << 20,
            };
            let mut log = AuditLog::open(SegmentStore::open(dir, options).unwrap()).unwrap();
            for chunk in (0..n).collect::<Vec<_>>().chunks(10_000) {
                let batch: Vec<Event> = chunk.iter().map(|&i| event(i)).collect();
                log.append_batch(&batch).unwrap();
            }
            log.sync().unwrap();
        }
        Some("verify") => {
            let dir = args.get(2).expect("verify DIR");
            let started = Instant::now();
            let report = verify(SegmentStore::open_read_only(dir).unwrap(), None).unwrap();
            eprintln!(
                "verify: {} events in {:?}",
                report.head.size,
                started.elapsed()
            );
        }
        _ => eprintln!("usage: profile append N | events N | sha N | build N DIR | verify DIR"),
    }
}
