//! Runs detection over the dev corpus (or prose) in a loop, for `perf stat`.
//!
//! `cargo run --release -p custodia-mask --example detect_profile -- corpus 200`
//! (`PATTERNED=1` switches the entity pass off; inputs `corpus`, `prose`,
//! `bench-prose`: the criterion bench's prose, `file:PATH`: a file's text
//! as one text)

use custodia_mask::Detector;

fn main() {
    let mut args = std::env::args().skip(1);
    let what = args.next().unwrap_or_else(|| "corpus".into());
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(100);
    let raw = include_str!("../tests/data/dev.jsonl");
    let mut text = String::new();
    if let Some(path) = what.strip_prefix("file:") {
        text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("detect_profile: cannot read {path}: {e}");
                std::process::exit(2);
            }
        };
    } else if what == "corpus" {
        for line in raw.lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect("dev.jsonl");
            text.push_str(v["text"].as_str().unwrap_or(""));
            text.push('\n');
        }
    } else if what == "bench-prose" {
        // The criterion bench's prose (`benches/mask.rs`): random words,
        // capitalised after each full stop.
        text = prose(1 << 20);
    } else {
        let words = "the customer reports that their dashboard does not load after the update, we have checked logs and found nothing unusual. Please advise whether the issue persists when using another browser. ";
        while text.len() < 1 << 20 {
            text.push_str(words);
        }
    }
    // PATTERNED=1: without the entity pass (people, addresses,
    // organisations), to compare instruction counts under callgrind.
    let d = if std::env::var_os("PATTERNED").is_some() {
        let cfg = custodia_mask::DetectorConfig {
            disabled: ["PERSON", "ADDRESS", "ORGANIZATION", "POSTCODE"]
                .iter()
                .filter_map(|k| k.parse().ok())
                .collect(),
            ..Default::default()
        };
        Detector::from_config(&cfg).unwrap_or_default()
    } else {
        Detector::new()
    };
    let masker = custodia_mask::Masker::new(Detector::new());
    let redact = std::env::var_os("REDACT").is_some();
    let start = std::time::Instant::now();
    let mut n = 0;
    for _ in 0..rounds {
        n += if redact {
            masker.mask(&text).map(|m| m.report.total()).unwrap_or(0)
        } else {
            d.detect(&text).len()
        };
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{what}: {} bytes x {rounds}: {n} findings, {:.1} MB/s wall",
        text.len(),
        (text.len() * rounds) as f64 / secs / 1e6
    );
}

include!("../benches/support/prose.rs");
