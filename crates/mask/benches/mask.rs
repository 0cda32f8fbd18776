//! Detection and masking throughput against a bare `regex` / `memchr` baseline
//! in the same run, plus linear-scaling runs on pathological inputs and
//! `mask_json` over documents.
//!
//! `cargo bench -p custodia-mask -- --warm-up-time 1 --measurement-time 3`

use criterion::{BenchmarkId, Criterion, Throughput, black_box, criterion_group, criterion_main};
use custodia_mask::{Detector, JsonRules, Masker};
use serde_json::{Map, Value, json};

fn corpus() -> String {
    let raw = include_str!("../tests/data/dev.jsonl");
    let mut out = String::new();
    for line in raw.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("dev.jsonl line");
        out.push_str(v["text"].as_str().expect("text"));
        out.push('\n');
    }
    out
}

/// The held-out sets' tickets (`tests/data/entities*.jsonl`: written by
/// hand, names, addresses and organisations in most, many lines each), one
/// a line: the detector's cost on entity-rich tickets, which the dev
/// corpus's short templated lines understate.
fn held_out_tickets() -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("tests/data")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "jsonl")
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("entities"))
        })
        .collect();
    paths.sort();
    let mut out = String::new();
    for path in paths {
        for line in std::fs::read_to_string(path).expect("a set").lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect("a set's line");
            out.push_str(v["text"].as_str().expect("text"));
            out.push('\n');
        }
    }
    out
}

include!("support/prose.rs");

fn throughput(c: &mut Criterion) {
    let corpus = corpus();
    // (Chat and text messages are often written without capitals: the
    // lower-case reader's lines, `entity::lower_case`.)
    let corpus_lower_case = corpus.to_lowercase();
    let tickets = held_out_tickets();
    let prose = prose(1 << 20);
    let detector = Detector::new();
    // The same detector without the entity pass (people, addresses,
    // organisations): what names cost, in the same run.
    let patterned = custodia_mask::DetectorConfig {
        disabled: ["PERSON", "ADDRESS", "ORGANIZATION", "POSTCODE"]
            .iter()
            .map(|k| k.parse().expect("a kind"))
            .collect(),
        ..Default::default()
    };
    let without_entities = Detector::from_config(&patterned).expect("config");
    let masker = Masker::new(Detector::new());
    let email =
        regex::Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}").expect("regex");
    let digits = regex::Regex::new(r"\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d{4}").expect("regex");
    for (name, text) in [
        ("dev_corpus", &corpus),
        ("dev_corpus_lower_case", &corpus_lower_case),
        ("held_out_tickets", &tickets),
        ("pii_free_prose", &prose),
    ] {
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function("custodia_detect", |b| {
            b.iter(|| black_box(detector.detect(black_box(text))))
        });
        g.bench_function("custodia_detect_without_entities", |b| {
            b.iter(|| black_box(without_entities.detect(black_box(text))))
        });
        g.bench_function("custodia_detect_redact", |b| {
            b.iter(|| black_box(masker.mask(black_box(text))))
        });
        g.bench_function("baseline_regex_email_find_iter", |b| {
            b.iter(|| black_box(email.find_iter(black_box(text)).count()))
        });
        g.bench_function("baseline_regex_card_find_iter", |b| {
            b.iter(|| black_box(digits.find_iter(black_box(text)).count()))
        });
        g.bench_function("baseline_memchr_at", |b| {
            b.iter(|| black_box(memchr::memchr_iter(b'@', black_box(text).as_bytes()).count()))
        });
        g.finish();
    }
}

fn linear(c: &mut Criterion) {
    let detector = Detector::new();
    let mut g = c.benchmark_group("pathological");
    g.sample_size(10);
    for (name, byte) in [
        ("digits", b'7'),
        ("at_signs", b'@'),
        ("one_token", b'a'),
        ("dashes", b'-'),
        ("colons", b':'),
    ] {
        for mb in [1usize, 4] {
            let text = String::from_utf8(vec![byte; mb << 20]).expect("ascii");
            g.throughput(Throughput::Bytes(text.len() as u64));
            g.bench_with_input(BenchmarkId::new(name, format!("{mb}MiB")), &text, |b, t| {
                b.iter(|| black_box(detector.detect(t)))
            });
        }
    }
    let mixed = "1 ".repeat(1 << 19) + &"a@".repeat(1 << 19) + &"4111 ".repeat(1 << 18);
    g.throughput(Throughput::Bytes(mixed.len() as u64));
    g.bench_function("mixed_short_runs", |b| {
        b.iter(|| black_box(detector.detect(&mixed)))
    });
    g.finish();
}

/// `mask_json` on the dev set's records as one document (strings to scan,
/// a few levels), and on a document of many small objects nested 100 deep
/// with short keys and leaves (the walk and the keys' scans).
fn json(c: &mut Criterion) {
    let raw = include_str!("../tests/data/dev.jsonl");
    let records = Value::Array(
        raw.lines()
            .map(|l| serde_json::from_str(l).expect("dev.jsonl line"))
            .collect(),
    );
    let mut nested = json!({"leaf": true});
    for i in 0..100 {
        let mut m = Map::new();
        m.insert("id".into(), json!(i));
        m.insert("ok".into(), json!(null));
        m.insert("items".into(), json!([nested.clone(), "x", 1.5]));
        nested = Value::Object(m);
    }
    let structure = Value::Array(vec![nested; 20]);
    let masker = Masker::new(Detector::new());
    let rules = JsonRules::new();
    let mut g = c.benchmark_group("json");
    for (name, doc) in [("dev_records", &records), ("nested_objects", &structure)] {
        g.throughput(Throughput::Bytes(doc.to_string().len() as u64));
        g.bench_function(name, |b| {
            b.iter_batched_ref(
                || doc.clone(),
                |v| black_box(masker.mask_json(v, &rules, None)),
                criterion::BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, throughput, linear, json);
criterion_main!(benches);
