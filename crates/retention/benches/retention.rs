//! custodia-retention against raw primitives, in the same run.
//!
//! `cargo bench -p custodia-retention --bench retention`
//!
//! * `evaluate/policy50`: a compiled policy of 50 rules and 2 holds
//!   (`policy50.toml`) evaluating pre-parsed records; the target is
//!   5,000,000 records/s on one core (200 ns per record).
//! * `evaluate/policy50_hold_over_every_record`: the same with a third
//!   hold naming all 10,000 records by id, as a restriction hold names
//!   each restricted row: found by the hold index, never a scan of its list.
//! * `raw/fxhash_lookup`: one hash lookup of the record's category, the
//!   least any category-keyed policy must do.
//! * `raw/chrono_add_3y`: one calendar addition, the least any due date costs.
//! * `jsonl/parse_and_evaluate` against `raw/serde_json_value`: one record
//!   line parsed into a typed [`RetentionRecord`] and evaluated, against parsing the
//!   same line into an untyped `serde_json::Value`.

use std::hint::black_box;

use chrono::Months;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use custodia_retention::{HoldScope, LegalHold, RetentionAction};
use rustc_hash::FxHashMap;

const POLICY: &str = include_str!("policy50.toml");

include!("records.rs");

fn evaluate(c: &mut Criterion) {
    let policy = RetentionPolicy::from_toml(POLICY, "policy50.toml").unwrap();
    assert_eq!(policy.rules().len(), 50);
    let records = records(&policy, 10_000);
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0).unwrap();
    let index: FxHashMap<&str, u32> = CATEGORIES
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i as u32))
        .collect();

    let mut group = c.benchmark_group("evaluate");
    group.throughput(Throughput::Elements(records.len() as u64));
    group.bench_function("policy50", |b| {
        b.iter(|| {
            let mut due = 0u32;
            for record in &records {
                due += u32::from(policy.evaluate(black_box(record), now).is_due());
            }
            due
        })
    });
    // A hold naming every record by id (as a restriction hold names each
    // restricted row): a lookup a record, not a scan of the hold's list.
    let held = policy
        .with_hold(LegalHold {
            id: "every-record".into(),
            reason: "a hold over 10,000 record ids".into(),
            applies_to: HoldScope {
                records: records.iter().map(|r| r.id.clone()).collect(),
                ..HoldScope::default()
            },
        })
        .unwrap();
    group.bench_function("policy50_hold_over_every_record", |b| {
        b.iter(|| {
            let mut held_n = 0u32;
            for record in &records {
                held_n += u32::from(
                    held.evaluate(black_box(record), now).action == RetentionAction::Hold,
                );
            }
            held_n
        })
    });
    group.bench_function("raw/fxhash_lookup", |b| {
        b.iter(|| {
            let mut sum = 0u32;
            for record in &records {
                sum += index
                    .get(black_box(record).category.as_str())
                    .copied()
                    .unwrap_or(0);
            }
            sum
        })
    });
    group.bench_function("raw/chrono_add_3y", |b| {
        b.iter(|| {
            let mut due = 0u32;
            for record in &records {
                let at = black_box(record)
                    .created
                    .checked_add_months(Months::new(36));
                due += u32::from(at.is_some_and(|t| t <= now));
            }
            due
        })
    });
    group.finish();

    let lines: Vec<String> = records
        .iter()
        .take(1000)
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    let mut group = c.benchmark_group("jsonl");
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.bench_function("parse_and_evaluate", |b| {
        b.iter(|| {
            let mut due = 0u32;
            for line in &lines {
                let record: RetentionRecord = serde_json::from_str(black_box(line)).unwrap();
                due += u32::from(policy.evaluate(&record, now).is_due());
            }
            due
        })
    });
    group.bench_function("raw/serde_json_value", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for line in &lines {
                let value: serde_json::Value = serde_json::from_str(black_box(line)).unwrap();
                n += value.as_object().map_or(0, |o| o.len());
            }
            n
        })
    });
    group.finish();

    let mut group = c.benchmark_group("policy");
    group.bench_function("parse_and_compile/policy50", |b| {
        b.iter(|| RetentionPolicy::from_toml(black_box(POLICY), "policy50.toml").unwrap())
    });
    group.finish();
}

criterion_group!(benches, evaluate);
criterion_main!(benches);
