//! Precision, recall and F1 on the labelled dev set (span-exact, kind-correct).
//!
//! Run with `cargo test -p custodia-mask --test accuracy -- --nocapture` to
//! see the table.

use std::collections::BTreeMap;

use custodia_mask::Detector;
use serde_json::Value;

struct Doc {
    id: String,
    text: String,
    gold: Vec<(String, usize, usize)>,
}

fn load() -> Vec<Doc> {
    let raw = include_str!("data/dev.jsonl");
    raw.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let gold = v["entities"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    (
                        e["kind"].as_str().unwrap().to_string(),
                        e["start"].as_u64().unwrap() as usize,
                        e["end"].as_u64().unwrap() as usize,
                    )
                })
                .collect();
            Doc {
                id: v["id"].as_str().unwrap().to_string(),
                text: v["text"].as_str().unwrap().to_string(),
                gold,
            }
        })
        .collect()
}

#[derive(Default, Clone, Copy)]
struct Counts {
    tp: usize,
    fp: usize,
    fn_: usize,
}

fn prf(c: Counts) -> (f64, f64, f64) {
    let p = if c.tp + c.fp == 0 {
        1.0
    } else {
        c.tp as f64 / (c.tp + c.fp) as f64
    };
    let r = if c.tp + c.fn_ == 0 {
        1.0
    } else {
        c.tp as f64 / (c.tp + c.fn_) as f64
    };
    let f = if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    };
    (p, r, f)
}

#[test]
fn dev_set_f1_and_no_lookalike_masked() {
    let docs = load();
    assert_eq!(docs.len(), 2000, "the dev set has 2,000 tickets");
    let detector = Detector::new();
    let mut per: BTreeMap<String, Counts> = BTreeMap::new();
    let mut lookalikes_masked = Vec::new();
    let mut errors = Vec::new();
    for d in &docs {
        let found = detector.detect(&d.text);
        for f in &found {
            assert!(d.text.is_char_boundary(f.start) && d.text.is_char_boundary(f.end));
            let kind = f.kind.as_str().to_string();
            if d.gold
                .iter()
                .any(|(k, s, e)| *k == kind && *s == f.start && *e == f.end)
            {
                per.entry(kind).or_default().tp += 1;
            } else {
                per.entry(kind.clone()).or_default().fp += 1;
                let overlaps_gold = d.gold.iter().any(|(_, s, e)| *s < f.end && f.start < *e);
                let snippet = &d.text[f.start..f.end];
                if !overlaps_gold {
                    lookalikes_masked.push(format!(
                        "{}: {} {:?} ({})",
                        d.id, kind, snippet, f.recognizer
                    ));
                } else {
                    errors.push(format!("{}: FP {} {:?}", d.id, kind, snippet));
                }
            }
        }
        for (k, s, e) in &d.gold {
            if !found
                .iter()
                .any(|f| f.kind.as_str() == k && f.start == *s && f.end == *e)
            {
                per.entry(k.clone()).or_default().fn_ += 1;
                errors.push(format!(
                    "{}: FN {} {:?} in {:?}",
                    d.id,
                    k,
                    &d.text[*s..*e],
                    d.text
                ));
            }
        }
    }
    let mut total = Counts::default();
    println!(
        "{:<16} {:>5} {:>5} {:>5} {:>9} {:>9} {:>9}",
        "kind", "tp", "fp", "fn", "precision", "recall", "f1"
    );
    for (k, c) in &per {
        let (p, r, f) = prf(*c);
        println!(
            "{k:<16} {:>5} {:>5} {:>5} {p:>9.4} {r:>9.4} {f:>9.4}",
            c.tp, c.fp, c.fn_
        );
        total.tp += c.tp;
        total.fp += c.fp;
        total.fn_ += c.fn_;
    }
    let (p, r, f) = prf(total);
    println!(
        "{:<16} {:>5} {:>5} {:>5} {p:>9.4} {r:>9.4} {f:>9.4}",
        "OVERALL", total.tp, total.fp, total.fn_
    );
    for e in errors.iter().take(40) {
        println!("{e}");
    }
    for e in lookalikes_masked.iter().take(40) {
        println!("look-alike masked: {e}");
    }
    assert!(
        lookalikes_masked.is_empty(),
        "{} look-alikes masked",
        lookalikes_masked.len()
    );
    assert!(f >= 0.98, "overall F1 {f:.4} below 0.98");
}
