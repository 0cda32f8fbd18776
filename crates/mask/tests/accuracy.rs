//! Precision, recall and F1 on the labelled sets (span-exact,
//! kind-correct): `dev.jsonl` (2,000 tickets of patterned identifiers),
//! `entities.jsonl` (people, addresses, organisations and postcodes;
//! authored in `entities.txt`, converted by `scripts/entity-devset`) and
//! `entities-heldout.jsonl` to `entities-heldout13.jsonl` (the same kinds,
//! each written blind; the first twelve have since been tuned to, the
//! twelfth in part; the thirteenth not: its errors are unread).
//!
//! Run with `cargo test -p custodia-mask --test accuracy -- --nocapture` to
//! see the tables.

use std::collections::{BTreeMap, BTreeSet};

use custodia_mask::Detector;
use serde_json::Value;

struct Doc {
    id: String,
    text: String,
    gold: Vec<(String, usize, usize)>,
}

fn load(raw: &str) -> Vec<Doc> {
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

/// Scores of one set, counting only findings of `kinds`.
struct Scores {
    per: BTreeMap<String, Counts>,
    total: Counts,
    /// Findings overlapping no labelled entity.
    lookalikes: Vec<String>,
}

fn score(docs: &[Doc], detector: &Detector, kinds: &BTreeSet<String>) -> Scores {
    let mut per: BTreeMap<String, Counts> = BTreeMap::new();
    let mut lookalikes = Vec::new();
    let mut errors = Vec::new();
    for d in docs {
        let found: Vec<_> = detector
            .detect(&d.text)
            .into_iter()
            .filter(|f| kinds.contains(f.kind.as_str()))
            .collect();
        for f in &found {
            assert!(d.text.is_char_boundary(f.start) && d.text.is_char_boundary(f.end));
            let kind = f.kind.as_str().to_string();
            let snippet = &d.text[f.start..f.end];
            if d.gold
                .iter()
                .any(|(k, s, e)| *k == kind && *s == f.start && *e == f.end)
            {
                per.entry(kind).or_default().tp += 1;
            } else if d.gold.iter().any(|(_, s, e)| *s < f.end && f.start < *e) {
                per.entry(kind.clone()).or_default().fp += 1;
                errors.push(format!("{}: FP {kind} {snippet:?}", d.id));
            } else {
                per.entry(kind.clone()).or_default().fp += 1;
                lookalikes.push(format!("{}: {kind} {snippet:?} ({})", d.id, f.recognizer));
            }
        }
        for (k, s, e) in &d.gold {
            if !found
                .iter()
                .any(|f| f.kind.as_str() == k && f.start == *s && f.end == *e)
            {
                per.entry(k.clone()).or_default().fn_ += 1;
                errors.push(format!(
                    "{}: FN {k} {:?} in {:?}",
                    d.id,
                    &d.text[*s..*e],
                    d.text
                ));
            }
        }
    }
    println!(
        "{:<16} {:>5} {:>5} {:>5} {:>9} {:>9} {:>9}",
        "kind", "tp", "fp", "fn", "precision", "recall", "f1"
    );
    let mut total = Counts::default();
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
    for e in errors.iter().take(60) {
        println!("{e}");
    }
    for e in lookalikes.iter().take(60) {
        println!("look-alike masked: {e}");
    }
    Scores {
        per,
        total,
        lookalikes,
    }
}

/// The kinds a set labels anywhere.
fn labelled(docs: &[Doc]) -> BTreeSet<String> {
    docs.iter()
        .flat_map(|d| d.gold.iter().map(|(k, _, _)| k.clone()))
        .collect()
}

/// The patterned kinds: every finding of a kind the set labels is checked.
/// The set's tickets also name people and companies, which it does not
/// label; those are measured on the entities set below.
#[test]
fn dev_set_f1_and_no_lookalike_masked() {
    let docs = load(include_str!("data/dev.jsonl"));
    assert_eq!(docs.len(), 2000, "the dev set has 2,000 tickets");
    let scores = score(&docs, &Detector::new(), &labelled(&docs));
    assert!(
        scores.lookalikes.is_empty(),
        "{} look-alikes masked",
        scores.lookalikes.len()
    );
    for (kind, c) in &scores.per {
        let (_, _, f) = prf(*c);
        assert!(f >= 0.98, "{kind} F1 {f:.4} below 0.98");
    }
    let (_, _, f) = prf(scores.total);
    assert!(f >= 0.98, "overall F1 {f:.4} below 0.98");
}

/// People, addresses, organisations and postcodes on ticket text: the
/// thresholds are the measured figures rounded down, with precision held
/// at 0.95 or better for PERSON and ADDRESS (a false name masks a word the
/// model needed; a missed one leaks a person).
#[test]
fn entities_set_precision_and_recall() {
    let docs = load(include_str!("data/entities.jsonl"));
    assert!(docs.len() >= 130);
    let scores = score(&docs, &Detector::new(), &labelled(&docs));
    let get = |k: &str| prf(scores.per.get(k).copied().unwrap_or_default());
    // Measured (issue 17): PERSON P 1.0 F1 0.977; the others 1.0.
    let floors = [
        ("PERSON", 0.98, 0.96),
        ("ADDRESS", 0.98, 0.98),
        ("ORGANIZATION", 0.98, 0.98),
        ("POSTCODE", 0.98, 0.98),
    ];
    for (kind, precision, f1) in floors {
        let (p, _, f) = get(kind);
        assert!(p >= precision, "{kind} precision {p:.4} below {precision}");
        assert!(f >= f1, "{kind} F1 {f:.4} below {f1}");
    }
}

/// Scores a held-out set of `lines` tickets and holds each kind to its
/// precision and F1 floors.
fn check_held_out(name: &str, raw: &str, lines: usize, floors: [(&str, f64, f64); 4]) {
    let docs = load(raw);
    assert_eq!(docs.len(), lines);
    let scores = score(&docs, &Detector::new(), &labelled(&docs));
    let (p, r, f) = prf(scores.total);
    println!("{name} overall: P {p:.4} R {r:.4} F1 {f:.4}");
    for (kind, precision, f1) in floors {
        let counts = scores.per.get(kind).copied().unwrap_or_default();
        let (p, r, f) = prf(counts);
        println!(
            "{name} {kind:<13} gold {:>3}: P {p:.3} R {r:.3} F1 {f:.3}",
            counts.tp + counts.fn_
        );
        assert!(
            p >= precision,
            "{name} {kind} precision {p:.4} below {precision}"
        );
        assert!(f >= f1, "{name} {kind} F1 {f:.4} below {f1}");
    }
}

/// The held-out set: 160 ticket lines written blind (by a session that did
/// not see the recognizer's code) and scored once, after the recognizer was
/// written; nothing was tuned to it. Its floors are the first measurement
/// rounded down, so a later change that loses ground fails here.
#[test]
fn held_out_entities_set() {
    // First measurement: PERSON P 0.869 F1 0.811; ADDRESS 0.875 / 0.793;
    // ORGANIZATION 0.885 / 0.836; POSTCODE 1.0 / 0.545. After issue 17's
    // precision work (which used this set for diagnosis, so it is no longer
    // blind): PERSON 1.0 / 0.892; ADDRESS 1.0 / 0.945; ORGANIZATION
    // 1.0 / 1.0; POSTCODE unchanged. After the mask-precision branch
    // (place list, address grammar, names): PERSON 1.0 / 0.919; ADDRESS
    // 1.0 / 0.983; the rest unchanged.
    // Postcodes named by a postcode word reported as POSTCODE, whatever
    // their country (2026-12-05): POSTCODE 1.0 / 1.0.
    let floors = [
        ("PERSON", 0.97, 0.92),
        ("ADDRESS", 0.97, 0.93),
        ("ORGANIZATION", 0.97, 0.97),
        ("POSTCODE", 0.95, 0.95),
    ];
    check_held_out(
        "held-out",
        include_str!("data/entities-heldout.jsonl"),
        160,
        floors,
    );
}

/// The second held-out set: 235 ticket lines (72 with no entity) written
/// blind by a session that read neither the recognizer's code and data nor
/// the other sets, and scored once, with nothing tuned to it. Floors as for
/// the first held-out set.
#[test]
fn held_out_2_entities_set() {
    // The first, blind measurement (2026-12-04, the recognizer at main's
    // 59e3fba): PERSON P 0.875 F1 0.781; ADDRESS 0.677 / 0.553; ORGANIZATION
    // 0.939 / 0.899; POSTCODE 0.875 / 0.560. After the mask-precision
    // branch (its errors read, so no longer blind): PERSON 0.992 / 0.905;
    // ADDRESS 1.0 / 0.977; ORGANIZATION 0.971 / 0.958; POSTCODE unchanged.
    // Floors: those less about 0.05.
    // Postcodes named by a postcode word reported as POSTCODE, whatever
    // their country (2026-12-05): POSTCODE 0.944 / 0.971.
    let floors = [
        ("PERSON", 0.95, 0.94),
        ("ADDRESS", 0.95, 0.92),
        ("ORGANIZATION", 0.92, 0.90),
        ("POSTCODE", 0.90, 0.92),
    ];
    check_held_out(
        "held-out 2",
        include_str!("data/entities-heldout2.jsonl"),
        235,
        floors,
    );
}

/// The third held-out set: 251 ticket lines (74 with no entity, full of
/// capitalised words that are not names) written blind by a session that
/// read neither the recognizer's code and data, nor BENCHMARKS.md's list of
/// its errors, nor the other sets, and scored once, with nothing tuned to it.
#[test]
fn held_out_3_entities_set() {
    // The first, blind measurement (2026-12-04, the entity pass as at
    // main's 25a36bb): PERSON P 0.911 F1 0.771; ADDRESS 0.875 / 0.757;
    // ORGANIZATION 1.0 / 0.977; POSTCODE 0.857 / 0.480. After the
    // mask-precision branch (its errors read, so no longer blind): PERSON
    // 1.0 / 0.862; ADDRESS 1.0 / 0.992; ORGANIZATION 1.0 / 1.0; POSTCODE
    // 1.0 / 0.500. Floors: those less about 0.05.
    // Postcodes named by a postcode word reported as POSTCODE, whatever
    // their country (2026-12-05): POSTCODE 1.0 / 0.875.
    let floors = [
        ("PERSON", 0.95, 0.91),
        ("ADDRESS", 0.95, 0.94),
        ("ORGANIZATION", 0.95, 0.95),
        ("POSTCODE", 0.95, 0.82),
    ];
    check_held_out(
        "held-out 3",
        include_str!("data/entities-heldout3.jsonl"),
        251,
        floors,
    );
}

/// The fourth held-out set: 250 ticket lines (82 with no entity) written
/// blind, as the third was, while another session tuned the entity pass
/// on the first three sets; scored once before that tuning was merged and
/// once after. From the mask-precision2 branch on, its errors were read
/// and used for diagnosis (general rules, not its strings), so it is no
/// longer blind.
#[test]
fn held_out_4_entities_set() {
    // Blind, before the tuning (main's f35ca00): PERSON P 0.825 F1 0.751;
    // ADDRESS 0.840 / 0.730; ORGANIZATION 1.0 / 0.963; POSTCODE 0.800 /
    // 0.348. After it (the merge of mask-precision): PERSON 0.901 / 0.812;
    // ADDRESS 0.914 / 0.862; ORGANIZATION 1.0 / 0.988; POSTCODE 1.0 /
    // 0.364. After mask-precision2 (tuned on its errors): PERSON 0.994 /
    // 0.905; ADDRESS 1.0 / 0.992; ORGANIZATION 1.0 / 1.0; POSTCODE 1.0 /
    // 0.364. Floors: those less about 0.05.
    // Postcodes named by a postcode word reported as POSTCODE, whatever
    // their country (2026-12-05): POSTCODE 1.0 / 0.875.
    let floors = [
        ("PERSON", 0.95, 0.91),
        ("ADDRESS", 0.95, 0.94),
        ("ORGANIZATION", 0.95, 0.95),
        ("POSTCODE", 0.95, 0.82),
    ];
    check_held_out(
        "held-out 4",
        include_str!("data/entities-heldout4.jsonl"),
        250,
        floors,
    );
}

/// The fifth held-out set: 250 ticket lines (81 with no entity; lower-case
/// and ALL-CAPS names, common-word names used both ways, surnames alone)
/// written blind while the entity pass was tuned on the fourth set's errors;
/// scored once before and once after that tuning was merged, its error list
/// unread. From the mask-precision3 branch on, its errors were read and
/// used for diagnosis (general rules, not its strings), so it is no longer
/// blind.
#[test]
fn held_out_5_entities_set() {
    // Blind, before the tuning (main's 8fb7fb3): PERSON P 0.913 F1 0.800;
    // ADDRESS 0.816 / 0.769; ORGANIZATION 1.0 / 0.988; POSTCODE 1.0 /
    // 0.400. After it (the merge of mask-precision2, 2aea342): PERSON
    // 0.932 / 0.814; ADDRESS 0.840 / 0.800; ORGANIZATION 1.0 / 1.0;
    // POSTCODE 1.0 / 0.400. After mask-precision3 (tuned on its errors):
    // PERSON 0.993 / 0.847; ADDRESS 1.0 / 0.962; ORGANIZATION 1.0 / 1.0;
    // POSTCODE 1.0 / 0.400. Floors: those less about 0.05.
    // Postcodes named by a postcode word reported as POSTCODE, whatever
    // their country (2026-12-05): POSTCODE 1.0 / 1.0.
    let floors = [
        ("PERSON", 0.95, 0.90),
        ("ADDRESS", 0.95, 0.91),
        ("ORGANIZATION", 0.95, 0.95),
        ("POSTCODE", 0.95, 0.95),
    ];
    check_held_out(
        "held-out 5",
        include_str!("data/entities-heldout5.jsonl"),
        250,
        floors,
    );
}

/// The sixth held-out set: 250 ticket lines (84 with no entity; common-word
/// names and surnames that are also brands or places, used both ways)
/// written blind while the entity pass was tuned on the fifth set's errors;
/// scored once before and once after that tuning was merged, its error list
/// unread. From the mask-precision4 branch on, its errors were read and
/// used for diagnosis (general rules, not its strings), so it is no longer
/// blind.
#[test]
fn held_out_6_entities_set() {
    // Blind, before the tuning (main's 7929d18): PERSON P 0.910 F1 0.765;
    // ADDRESS 0.643 / 0.614; ORGANIZATION 0.921 / 0.933; POSTCODE 1.0 /
    // 0.316. After it (the merge of mask-precision3): PERSON 0.949 / 0.788;
    // ADDRESS 0.791 / 0.764; ORGANIZATION 0.946 / 0.946; POSTCODE 1.0 /
    // 0.316. After mask-precision4 (tuned on its errors): PERSON 0.989 /
    // 0.802; ADDRESS 1.0 / 0.978; ORGANIZATION 1.0 / 1.0; POSTCODE 1.0 /
    // 0.316. Floors: those less about 0.05.
    // Postcodes named by a postcode word reported as POSTCODE, whatever
    // their country (2026-12-05): POSTCODE 1.0 / 0.857.
    let floors = [
        ("PERSON", 0.95, 0.86),
        ("ADDRESS", 0.95, 0.92),
        ("ORGANIZATION", 0.95, 0.95),
        ("POSTCODE", 0.95, 0.80),
    ];
    check_held_out(
        "held-out 6",
        include_str!("data/entities-heldout6.jsonl"),
        250,
        floors,
    );
}

/// The seventh held-out set: 250 ticket lines (82 with no entity;
/// common-word names and brand or place surnames used both ways, often in
/// one line) written blind while the entity pass was tuned on the sixth
/// set's errors; scored once before and once after that tuning was merged,
/// its error list unread; since tuned to (mask-precision5, 2026-12-05).
#[test]
fn held_out_7_entities_set() {
    // Blind, before the tuning (main's 585d4cf, with mask-precision3):
    // PERSON P 0.953 F1 0.776; ADDRESS 0.915 / 0.905; ORGANIZATION 1.0 /
    // 0.984; POSTCODE 1.0 / 0.143. After it (the merge of
    // mask-precision4): PERSON unchanged; ADDRESS 0.936 / 0.926; the rest
    // unchanged. Floors: the second less about 0.05.
    // Postcodes named by a postcode word reported as POSTCODE, whatever
    // their country (2026-12-05): POSTCODE 1.0 / 0.870. After
    // mask-precision5, tuned on its errors: PERSON 0.992 / 0.823;
    // ADDRESS 1.0 / 0.989; ORGANIZATION 1.0 / 0.984.
    let floors = [
        ("PERSON", 0.95, 0.88),
        ("ADDRESS", 0.95, 0.93),
        ("ORGANIZATION", 0.95, 0.93),
        ("POSTCODE", 0.95, 0.82),
    ];
    check_held_out(
        "held-out 7",
        include_str!("data/entities-heldout7.jsonl"),
        250,
        floors,
    );
}

/// The eighth held-out set: 250 ticket lines (81 with no entity; quoted
/// threads, signature blocks, Bill to / Ship to blocks, multi-line
/// addresses) written blind; scored blind twice, then tuned to (the sixth
/// round, 2026-12-05), so no longer blind.
#[test]
fn held_out_8_entities_set() {
    // Blind, before the tuning (main's cae87c9, with mask-precision4):
    // PERSON P 0.934 F1 0.786; ADDRESS 0.894 / 0.869; ORGANIZATION 0.958 /
    // 0.958; POSTCODE 1.0 / 0.167. Floors: those less about 0.05.
    // Postcodes named by a postcode word reported as POSTCODE, whatever
    // their country (2026-12-05): POSTCODE 0.900 / 0.857.
    // The one wrong POSTCODE was masked before too, as a
    // DE_POSTAL_CODE (not scored); its line is unread. Blind, after
    // mask-precision5 (tuned on the seventh set): PERSON 0.925 / 0.778
    // (worse: one name's span now wrong; its line unread), ADDRESS
    // 0.906 / 0.880, the rest unchanged. After the sixth round, tuned on
    // its errors by class: PERSON 0.975 / 0.880, ADDRESS 0.989 / 0.978,
    // ORGANIZATION 1.0 / 1.0, POSTCODE unchanged (a code after a town
    // alone, `Auckland 1010`, is missed; in two lines of two codes each
    // the set labels one, and the detector finds the other).
    let floors = [
        ("PERSON", 0.95, 0.88),
        ("ADDRESS", 0.95, 0.95),
        ("ORGANIZATION", 0.97, 0.97),
        ("POSTCODE", 0.85, 0.80),
    ];
    check_held_out(
        "held-out 8",
        include_str!("data/entities-heldout8.jsonl"),
        250,
        floors,
    );
}

/// The ninth held-out set: 150 ticket lines written blind (by a session
/// that read only the eighth set's header), scored once from summary lines
/// after the sixth round, then tuned to in the seventh.
#[test]
fn held_out_9_entities_set() {
    // Blind, main before the sixth round (69d971b): PERSON P 0.970 F1
    // 0.867; ADDRESS 0.938 / 0.896; ORGANIZATION 1.0 / 1.0; POSTCODE
    // 1.0 / 0.833. After it: PERSON 0.986 / 0.902; ADDRESS 0.939 / 0.912;
    // the rest the same. Tuned to in the seventh round (2026-12-05):
    // PERSON 1.0 / 0.963, ADDRESS 1.0 / 1.0, POSTCODE 1.0 / 0.923.
    // Floors: those less about 0.03.
    let floors = [
        ("PERSON", 0.97, 0.93),
        ("ADDRESS", 0.97, 0.97),
        ("ORGANIZATION", 0.95, 0.95),
        ("POSTCODE", 0.95, 0.89),
    ];
    check_held_out(
        "held-out 9",
        include_str!("data/entities-heldout9.jsonl"),
        150,
        floors,
    );
}

/// The tenth held-out set: 150 ticket lines written blind (by a session
/// that read only the ninth set's header), scored once before and after
/// the seventh round, then tuned to in the eighth.
#[test]
fn held_out_10_entities_set() {
    // Blind, main before the seventh round (32f781e): PERSON P 0.944 F1
    // 0.861; ADDRESS 0.946 / 0.921; POSTCODE 0.875 / 0.609. After it
    // (2168d25): PERSON 0.949 / 0.902, the rest the same. Tuned to in the
    // eighth round (2026-12-05, third session): PERSON 1.0 / 0.988,
    // ADDRESS 1.0 / 0.987, ORGANIZATION 1.0 / 1.0, POSTCODE 1.0 / 0.929.
    // Floors: those less about 0.03.
    let floors = [
        ("PERSON", 0.97, 0.95),
        ("ADDRESS", 0.97, 0.95),
        ("ORGANIZATION", 0.97, 0.97),
        ("POSTCODE", 0.97, 0.89),
    ];
    check_held_out(
        "held-out 10",
        include_str!("data/entities-heldout10.jsonl"),
        150,
        floors,
    );
}

/// The eleventh held-out set: 150 ticket lines written blind (by a
/// session that read only the tenth set's header), scored from summary
/// lines before and after the eighth round, and not tuned to: the blind
/// set of record. Its errors are unread.
#[test]
fn held_out_11_entities_set() {
    // Blind, main before the eighth round (2168d25): PERSON P 0.967 F1
    // 0.899; ADDRESS 0.980 / 0.962; ORGANIZATION 0.963 / 0.963; POSTCODE
    // 1.0 / 0.818. After it (192c7a0): PERSON 0.975 / 0.907, POSTCODE
    // 1.0 / 0.870, the rest the same. Tuned to in the ninth round
    // (2026-12-05, fourth session): PERSON 0.992 / 0.955, ADDRESS 1.0 /
    // 0.990, ORGANIZATION 1.0 / 1.0, POSTCODE 1.0 / 0.917. Floors: those
    // less about 0.03.
    let floors = [
        ("PERSON", 0.96, 0.92),
        ("ADDRESS", 0.97, 0.96),
        ("ORGANIZATION", 0.97, 0.97),
        ("POSTCODE", 0.97, 0.88),
    ];
    check_held_out(
        "held-out 11",
        include_str!("data/entities-heldout11.jsonl"),
        150,
        floors,
    );
}

/// The twelfth held-out set: 150 longer lines (650 entities: 412 people,
/// 100 addresses, 77 organisations, 61 postcodes), many of them common
/// words, places, rooms and products that name no one, written blind and
/// scored from summary lines before the ninth round; its false positives
/// were read for the first classes of a tenth round, its errors for the
/// second part.
#[test]
fn held_out_12_entities_set() {
    // Blind, main before the ninth round (33ad0ce): PERSON P 0.876 F1
    // 0.838; ADDRESS 0.841 / 0.787; ORGANIZATION 0.932 / 0.907; POSTCODE
    // 0.967 / 0.637. After it: PERSON 0.882 / 0.846, POSTCODE 0.969 /
    // 0.667, the rest the same. After the tenth round's first classes,
    // tuned on its false positives: PERSON 0.893 / 0.851, ADDRESS 0.921 /
    // 0.868, ORGANIZATION 0.986 / 0.960. After the tenth round's second
    // part (2026-12-05, fifth session, on its errors again): PERSON 0.977
    // / 0.902, ADDRESS 0.966 / 0.910. Floors: those less about 0.03.
    let floors = [
        ("PERSON", 0.94, 0.87),
        ("ADDRESS", 0.93, 0.88),
        ("ORGANIZATION", 0.95, 0.93),
        ("POSTCODE", 0.93, 0.63),
    ];
    check_held_out(
        "held-out 12",
        include_str!("data/entities-heldout12.jsonl"),
        150,
        floors,
    );
}

/// The thirteenth held-out set: 150 ticket lines (263 entities), written
/// blind by a second helper in the same session as the twelfth and scored
/// from summary lines only; its errors are unread.
#[test]
fn held_out_13_entities_set() {
    // Blind, main before the ninth round (33ad0ce) and after it, the
    // same: PERSON P 0.981 F1 0.943; ADDRESS 0.980 / 0.980; ORGANIZATION
    // 1.0 / 0.980; POSTCODE 1.0 / 0.880. Floors: those less about 0.03.
    let floors = [
        ("PERSON", 0.95, 0.91),
        ("ADDRESS", 0.95, 0.95),
        ("ORGANIZATION", 0.97, 0.95),
        ("POSTCODE", 0.97, 0.85),
    ];
    check_held_out(
        "held-out 13",
        include_str!("data/entities-heldout13.jsonl"),
        150,
        floors,
    );
}

/// The fourteenth held-out set: 150 ticket lines (622 entities), written
/// blind by a helper in the fifth session, adversarial like the twelfth:
/// its author was told the trap classes the twelfth's remaining errors
/// fell in (software and holidays named like people, `Les`, `Max.`,
/// `Surname, Given`, the ʻokina, units on the line before, `Lot 22`…), so
/// it tests how those fixes carry to new sentences, not unknown classes.
/// Scored from summary lines, then its errors read for the eleventh
/// round's first classes.
#[test]
fn held_out_14_entities_set() {
    // Blind, main before the tenth round's second part (9ff017a): PERSON
    // P 0.890 F1 0.826; ADDRESS 0.936 / 0.903; ORGANIZATION 0.986 /
    // 0.965; POSTCODE 0.947 / 0.809. After it: PERSON 0.912 / 0.840,
    // ADDRESS 0.968 / 0.933, the rest the same. After the eleventh
    // round's first classes (tuned on it): PERSON 0.979 / 0.887, ADDRESS
    // 1.0 / 0.964. Floors: those less about 0.03.
    let floors = [
        ("PERSON", 0.95, 0.86),
        ("ADDRESS", 0.97, 0.93),
        ("ORGANIZATION", 0.95, 0.93),
        ("POSTCODE", 0.91, 0.78),
    ];
    check_held_out(
        "held-out 14",
        include_str!("data/entities-heldout14.jsonl"),
        150,
        floors,
    );
}

/// The fifteenth held-out set: 150 ticket lines (604 entities), written
/// blind by a helper told only to invent its own traps (no classes named),
/// and scored from summary lines after the tenth and eleventh rounds; its
/// errors were then read for the twelfth round.
#[test]
fn held_out_15_entities_set() {
    // Blind, main before the fifth session (9ff017a) and after the tenth
    // round's second part and the eleventh's first classes, the same:
    // PERSON P 0.923 F1 0.901; ADDRESS 0.989 / 0.937; ORGANIZATION 0.958 /
    // 0.951; POSTCODE 0.939 / 0.747. After the twelfth round (tuned on
    // it): PERSON 0.968 / 0.923, ADDRESS 0.989 / 0.948, ORGANIZATION 0.972
    // / 0.965, POSTCODE 1.0 / 0.765. Floors: those less about 0.03.
    let floors = [
        ("PERSON", 0.94, 0.89),
        ("ADDRESS", 0.96, 0.92),
        ("ORGANIZATION", 0.94, 0.93),
        ("POSTCODE", 0.97, 0.73),
    ];
    check_held_out(
        "held-out 15",
        include_str!("data/entities-heldout15.jsonl"),
        150,
        floors,
    );
}

/// The sixteenth held-out set: 150 ticket lines (604 entities), written
/// blind like the fifteenth (traps of its author's own), scored from
/// summary lines before and after the twelfth round; its errors were then
/// read for the thirteenth.
#[test]
fn held_out_16_entities_set() {
    // Blind, main before the fifth session (9ff017a): PERSON P 0.929 F1
    // 0.906; ADDRESS 0.990 / 0.980; ORGANIZATION 0.973 / 0.979; POSTCODE
    // 0.917 / 0.767. After the twelfth round, still blind: PERSON 0.942 /
    // 0.914, POSTCODE 1.0 / 0.795, the rest the same. After the
    // thirteenth (tuned on it): PERSON 0.961 / 0.925, ADDRESS 1.0 / 0.990.
    // Floors: those less about 0.03.
    let floors = [
        ("PERSON", 0.93, 0.89),
        ("ADDRESS", 0.97, 0.96),
        ("ORGANIZATION", 0.94, 0.95),
        ("POSTCODE", 0.97, 0.76),
    ];
    check_held_out(
        "held-out 16",
        include_str!("data/entities-heldout16.jsonl"),
        150,
        floors,
    );
}

/// The seventeenth held-out set: 150 ticket lines (604 entities), written
/// blind like the fifteenth, scored from summary lines before and after
/// the thirteenth round; its errors were then read for the fourteenth.
#[test]
fn held_out_17_entities_set() {
    // Blind, main before the fifth session (9ff017a): PERSON P 0.878 F1
    // 0.866; ADDRESS 0.956 / 0.901; ORGANIZATION 0.873 / 0.873; POSTCODE
    // 0.833 / 0.435. After the twelfth round: PERSON 0.903 / 0.876,
    // ADDRESS 0.978 / 0.927, POSTCODE 0.938 / 0.448; after the thirteenth:
    // PERSON 0.905 / 0.877. After the fourteenth (tuned on it, quoted CSV
    // cells read): PERSON 0.924 / 0.890, ADDRESS 0.989 / 0.948,
    // ORGANIZATION 0.940 / 0.913, POSTCODE 1.0 / 0.603. Floors: those
    // less about 0.03.
    let floors = [
        ("PERSON", 0.89, 0.86),
        ("ADDRESS", 0.95, 0.91),
        ("ORGANIZATION", 0.91, 0.88),
        ("POSTCODE", 0.97, 0.57),
    ];
    check_held_out(
        "held-out 17",
        include_str!("data/entities-heldout17.jsonl"),
        150,
        floors,
    );
}

/// The eighteenth held-out set: 150 ticket lines (608 entities), written
/// blind like the fifteenth; its errors were read for the fifteenth round.
#[test]
fn held_out_18_entities_set() {
    // Blind, main before the fifth session (9ff017a): PERSON P 0.962 F1
    // 0.906; ADDRESS 0.958 / 0.934; ORGANIZATION 0.932 / 0.926; POSTCODE
    // 0.972 / 0.814. After the thirteenth and fourteenth rounds: PERSON
    // 0.964 / 0.906, ADDRESS 0.979 / 0.954, ORGANIZATION 0.946 / 0.940,
    // POSTCODE 1.0 / 0.824. After the fifteenth (tuned on its errors):
    // PERSON 0.988 / 0.929, POSTCODE 1.0 / 0.925. Floors: those less
    // about 0.03.
    let floors = [
        ("PERSON", 0.95, 0.89),
        ("ADDRESS", 0.94, 0.92),
        ("ORGANIZATION", 0.91, 0.91),
        ("POSTCODE", 0.97, 0.89),
    ];
    check_held_out(
        "held-out 18",
        include_str!("data/entities-heldout18.jsonl"),
        150,
        floors,
    );
}

/// The nineteenth held-out set: 150 ticket lines (214 entities), written
/// blind like the fifteenth; its errors were read for the sixteenth round.
#[test]
fn held_out_19_entities_set() {
    // Blind, scored once with main before and after the fifteenth round
    // (the same figures both): PERSON P 0.991 F1 0.964; ADDRESS 0.979 /
    // 0.959; ORGANIZATION 1.0 / 1.0; POSTCODE 1.0 / 0.900. With people in
    // lower case: PERSON 0.991 / 0.969. After the sixteenth round (tuned
    // on its errors): PERSON 1.0 / 0.978, ADDRESS 1.0 / 0.990, POSTCODE
    // 1.0 / 0.927. Floors: those less about 0.03.
    let floors = [
        ("PERSON", 0.97, 0.95),
        ("ADDRESS", 0.97, 0.96),
        ("ORGANIZATION", 0.97, 0.97),
        ("POSTCODE", 0.97, 0.89),
    ];
    check_held_out(
        "held-out 19",
        include_str!("data/entities-heldout19.jsonl"),
        150,
        floors,
    );
}

/// The twentieth held-out set: 150 lines of informal writing (chat,
/// texts, voicemail, notes; 143 entities), written blind like the
/// fifteenth, scored from summary lines only; its errors are unread, but
/// its five addresses in lower case were seen while counting the sets'
/// (before the lower-case address reader was written).
#[test]
fn held_out_20_entities_set() {
    // Blind, main before people in lower case (d75099d): PERSON P 1.0 F1
    // 0.834; ADDRESS 1.0 / 0.865; ORGANIZATION 1.0 / 0.917; POSTCODE 1.0
    // / 0.833. With them: PERSON 0.976 / 0.876 (recall 0.716 -> 0.794).
    // With addresses in lower case: ADDRESS 1.0 / 0.976. Floors: those
    // less about 0.03.
    let floors = [
        ("PERSON", 0.94, 0.84),
        ("ADDRESS", 0.97, 0.94),
        ("ORGANIZATION", 0.97, 0.88),
        ("POSTCODE", 0.97, 0.80),
    ];
    check_held_out(
        "held-out 20",
        include_str!("data/entities-heldout20.jsonl"),
        150,
        floors,
    );
}

/// The twenty-first held-out set: 150 ticket lines (154 entities),
/// written blind like the fifteenth; scored blind, then its false
/// positives were read for the seventeenth round (people in lower case).
#[test]
fn held_out_21_entities_set() {
    // Blind, main before people in lower case: PERSON P 0.986 F1 0.906;
    // ADDRESS 1.0 / 0.984; ORGANIZATION 0.958 / 0.958; POSTCODE 1.0 /
    // 0.870. With them, still blind: PERSON 0.940 / 0.929 (four false
    // positives in lower case). After the seventeenth round (tuned on
    // them): PERSON 0.988 / 0.958. Floors: those less about 0.03.
    let floors = [
        ("PERSON", 0.95, 0.92),
        ("ADDRESS", 0.97, 0.95),
        ("ORGANIZATION", 0.92, 0.92),
        ("POSTCODE", 0.97, 0.84),
    ];
    check_held_out(
        "held-out 21",
        include_str!("data/entities-heldout21.jsonl"),
        150,
        floors,
    );
}

/// The twenty-second held-out set: 150 lines (162 entities), half of
/// them informal writing, much in lower case; written blind like the
/// fifteenth, scored from summary lines only. Its ADDRESS errors were
/// read to tune the lower-case address reader; the rest are unread.
#[test]
fn held_out_22_entities_set() {
    // Blind, main before the sixth session (92b596e): PERSON P 1.0 F1
    // 0.802 (recall 0.670); ADDRESS 1.0 / 0.857; ORGANIZATION 1.0 / 1.0;
    // POSTCODE 1.0 / 0.800. After the session (people in lower case, the
    // fifteenth to seventeenth rounds): PERSON 0.988 / 0.894 (recall
    // 0.816), the rest the same. With addresses in lower case, blind:
    // ADDRESS 0.923 / 0.889 (two spans cut short); tuned on those: 1.0 /
    // 1.0. Its PERSON errors read in the nineteenth round (2026-12-06):
    // PERSON 0.989 / 0.949. Floors: those less about 0.03.
    let floors = [
        ("PERSON", 0.95, 0.91),
        ("ADDRESS", 0.97, 0.96),
        ("ORGANIZATION", 0.97, 0.97),
        ("POSTCODE", 0.97, 0.77),
    ];
    check_held_out(
        "held-out 22",
        include_str!("data/entities-heldout22.jsonl"),
        150,
        floors,
    );
}

/// The twenty-third held-out set: 150 lines (189 entities), half of them
/// informal writing with names and addresses in lower case; written blind
/// like the fifteenth after the session's last change, scored once from
/// summary lines; its errors were read in the eighteenth round.
#[test]
fn held_out_23_entities_set() {
    // Blind, main before the sixth session (92b596e): PERSON P 1.0 F1
    // 0.698 (recall 0.536); ADDRESS 1.0 / 0.730 (0.574); ORGANIZATION
    // 1.0 / 0.944; POSTCODE 1.0 / 0.706. After the session: PERSON 1.0 /
    // 0.886 (0.795), ADDRESS 0.978 / 0.957 (0.936), the rest the same.
    // Tuned to in the eighteenth round (2026-12-06, its errors read):
    // PERSON 1.0 / 1.0, ADDRESS 1.0 / 0.989, POSTCODE 1.0 / 0.900.
    // Floors: those less about 0.03.
    let floors = [
        ("PERSON", 0.97, 0.97),
        ("ADDRESS", 0.97, 0.95),
        ("ORGANIZATION", 0.97, 0.91),
        ("POSTCODE", 0.97, 0.87),
    ];
    check_held_out(
        "held-out 23",
        include_str!("data/entities-heldout23.jsonl"),
        150,
        floors,
    );
}

/// The twenty-fourth held-out set: 150 lines (653 entities: 357 PERSON,
/// 161 ADDRESS, 91 ORGANIZATION, 44 POSTCODE) of every ticket shape,
/// written blind like the fifteenth (its author's own traps) while the
/// seventh session's rounds were made; scored from summary lines only,
/// its errors unread (the blind set of record for the next round).
#[test]
fn held_out_24_entities_set() {
    // Blind, main before the seventh session (662d9eb): PERSON P 0.974
    // R 0.846 F1 0.906; ADDRESS 0.980 / 0.907 / 0.942; ORGANIZATION 0.977
    // / 0.945 / 0.961; POSTCODE 0.909 / 0.682 / 0.779. After the session's
    // rounds: PERSON 0.975 / 0.857 / 0.912, ORGANIZATION 0.978 / 0.956 /
    // 0.967, the rest the same. Presidio + spaCy: PERSON 0.532 / 0.485 /
    // 0.507, ADDRESS 0. Tuned to in the eighth session's twentieth round:
    // PERSON 0.979 / 0.902 / 0.939, ADDRESS 0.980 / 0.919 / 0.949,
    // ORGANIZATION 0.978 / 0.967 / 0.972, POSTCODE 0.923 / 0.818 / 0.867.
    // Floors: those less about 0.03.
    let floors = [
        ("PERSON", 0.95, 0.91),
        ("ADDRESS", 0.95, 0.92),
        ("ORGANIZATION", 0.95, 0.94),
        ("POSTCODE", 0.89, 0.83),
    ];
    check_held_out(
        "held-out 24",
        include_str!("data/entities-heldout24.jsonl"),
        150,
        floors,
    );
}

/// The twenty-fifth set: 150 lines written blind, like the fifteenth (a
/// third formal email, a third forms and exports, a third chat), while
/// the eighth session's twentieth round was made on heldout24's errors;
/// scored once, after the round, from summary lines only.
#[test]
fn held_out_25_entities_set() {
    // Blind, main before the eighth session (cb7de85): PERSON P 0.969 R
    // 0.828 F1 0.893; ADDRESS 0.992 / 0.952 / 0.971; ORGANIZATION 0.988 /
    // 0.988 / 0.988; POSTCODE 0.976 / 0.889 / 0.930. After the round:
    // PERSON 0.969 / 0.831 / 0.895, ADDRESS 0.983 / 0.952 / 0.967,
    // POSTCODE 0.952 / 0.889 / 0.920, ORGANIZATION the same. Presidio +
    // spaCy: PERSON 0.489 / 0.432 / 0.459, ADDRESS 0. Tuned to in the
    // ninth session's twenty-first round: PERSON 0.994 / 0.887 / 0.938,
    // ADDRESS 0.984 / 0.976 / 0.980, ORGANIZATION 1.000 / 1.000 / 1.000,
    // POSTCODE 0.956 / 0.956 / 0.956. Floors: those less about 0.03.
    let floors = [
        ("PERSON", 0.96, 0.90),
        ("ADDRESS", 0.95, 0.95),
        ("ORGANIZATION", 0.97, 0.97),
        ("POSTCODE", 0.92, 0.92),
    ];
    check_held_out(
        "held-out 25",
        include_str!("data/entities-heldout25.jsonl"),
        150,
        floors,
    );
}

/// The twenty-sixth set: 150 lines (280 PERSON, 79 ADDRESS, 62
/// ORGANIZATION, 24 POSTCODE) written blind, its author's own traps, while
/// the ninth session's twenty-first round was made on heldout25's errors;
/// scored from summary lines only, its errors unread until the tenth
/// session's twenty-second round read them.
#[test]
fn held_out_26_entities_set() {
    // Blind, main before the ninth session (f9bfdbd): PERSON P 0.979 R
    // 0.846 F1 0.908; ADDRESS 0.987 / 0.962 / 0.974; ORGANIZATION 0.984 /
    // 0.984 / 0.984; POSTCODE 0.857 / 0.750 / 0.800. After the round:
    // PERSON 0.979 / 0.850 / 0.910, the rest the same. Presidio + spaCy:
    // PERSON 0.621 / 0.504 / 0.556, ORGANIZATION 0.211 / 0.581 / 0.309,
    // ADDRESS 0. Tuned to in the tenth session's twenty-second round:
    // PERSON 0.996 / 0.943 / 0.969, ADDRESS and ORGANIZATION 1.000,
    // POSTCODE 1.000 / 0.750 / 0.857. Floors: those less about 0.03.
    let floors = [
        ("PERSON", 0.96, 0.94),
        ("ADDRESS", 0.97, 0.97),
        ("ORGANIZATION", 0.97, 0.97),
        ("POSTCODE", 0.97, 0.82),
    ];
    check_held_out(
        "held-out 26",
        include_str!("data/entities-heldout26.jsonl"),
        150,
        floors,
    );
}

/// The twenty-seventh set: 150 lines (277 PERSON, 80 ADDRESS, 60
/// ORGANIZATION, 25 POSTCODE) written blind, its author's own traps, while
/// the tenth session's twenty-second round was made on heldout26's errors;
/// scored from summary lines only, its errors unread (the blind set of
/// record for the next round: the twenty-third, on heldout28's errors, did
/// not read it either).
#[test]
fn held_out_27_entities_set() {
    // Blind, main before the tenth session (ebd5797): PERSON P 0.996 R
    // 0.859 F1 0.922; ADDRESS 0.988 / 0.988 / 0.988; ORGANIZATION 0.983 /
    // 0.967 / 0.975; POSTCODE 1.000 / 0.600 / 0.750. After the
    // twenty-second round: PERSON 0.996 / 0.881 / 0.935, the rest the
    // same. After the twenty-third (on heldout28's errors): PERSON 0.996 /
    // 0.884 / 0.937, POSTCODE 1.000 / 0.720 / 0.837 (tables split by
    // bars), the rest the same. Floors: those less about 0.03.
    let floors = [
        ("PERSON", 0.96, 0.90),
        ("ADDRESS", 0.95, 0.95),
        ("ORGANIZATION", 0.95, 0.94),
        ("POSTCODE", 0.97, 0.80),
    ];
    check_held_out(
        "held-out 27",
        include_str!("data/entities-heldout27.jsonl"),
        150,
        floors,
    );
}

/// The twenty-eighth set: 150 lines (289 PERSON, 80 ADDRESS, 60
/// ORGANIZATION, 25 POSTCODE) written blind by a helper in the tenth
/// session (its author's own traps, ticket forms of real systems); scored
/// blind once after the twenty-second round, then its errors read for the
/// twenty-third.
#[test]
fn held_out_28_entities_set() {
    // Blind: main before the tenth session (ebd5797) PERSON P 0.973 R
    // 0.858 F1 0.912, ADDRESS 0.974 / 0.938 / 0.955, ORGANIZATION 0.932 /
    // 0.917 / 0.924, POSTCODE 0.952 / 0.800 / 0.870; after the
    // twenty-second round PERSON 0.973 / 0.882 / 0.926, the rest the
    // same. Tuned to in the twenty-third: PERSON 0.989 / 0.931 / 0.959,
    // ADDRESS 1.000 / 0.988 / 0.994, ORGANIZATION 1.000 / 0.983 / 0.992,
    // POSTCODE 0.958 / 0.920 / 0.939. Floors: those less about 0.03.
    let floors = [
        ("PERSON", 0.95, 0.93),
        ("ADDRESS", 0.97, 0.96),
        ("ORGANIZATION", 0.97, 0.96),
        ("POSTCODE", 0.92, 0.90),
    ];
    check_held_out(
        "held-out 28",
        include_str!("data/entities-heldout28.jsonl"),
        150,
        floors,
    );
}

/// The twenty-ninth set: 150 lines (293 PERSON, 80 ADDRESS, 60
/// ORGANIZATION, 25 POSTCODE) written blind by a helper in the sixteenth
/// session (its author read only the twenty-eighth set's header and the
/// converter); scored blind once, from its summary lines, its errors
/// unread: the blind set of record for the next round.
#[test]
fn held_out_29_entities_set() {
    // Blind, main at 51b334c (2026-12-07): PERSON P 0.973 R 0.877 F1
    // 0.923; ADDRESS 0.961 / 0.912 / 0.936; ORGANIZATION 0.950 / 0.950 /
    // 0.950; POSTCODE 0.958 / 0.920 / 0.939 (Presidio + spaCy: PERSON
    // 0.569 / 0.536 / 0.552, ORGANIZATION 0.149 / 0.450 / 0.224, ADDRESS
    // 0). Floors: those less about 0.03.
    let floors = [
        ("PERSON", 0.94, 0.89),
        ("ADDRESS", 0.93, 0.90),
        ("ORGANIZATION", 0.92, 0.92),
        ("POSTCODE", 0.92, 0.90),
    ];
    check_held_out(
        "held-out 29",
        include_str!("data/entities-heldout29.jsonl"),
        150,
        floors,
    );
}

/// What a masker leaves readable, whatever kind it names: per labelled
/// kind, the entities and bytes that findings of any kind cover. A UK
/// postcode found as `UK_POSTCODE` where the set says `POSTCODE`, or an
/// address cut short, counts against span-exact scoring above; here it
/// counts for what it masks.
#[derive(Default, Clone, Copy)]
struct Coverage {
    entities: usize,
    whole: usize,
    bytes: usize,
    masked: usize,
}

fn coverage(docs: &[Doc], detector: &Detector) -> BTreeMap<String, Coverage> {
    let mut per: BTreeMap<String, Coverage> = BTreeMap::new();
    for d in docs {
        let mut masked = vec![false; d.text.len()];
        for f in detector.detect(&d.text) {
            masked[f.start..f.end].fill(true);
        }
        for (kind, start, end) in &d.gold {
            let c = per.entry(kind.clone()).or_default();
            let hidden = masked[*start..*end].iter().filter(|m| **m).count();
            c.entities += 1;
            c.whole += usize::from(hidden == end - start);
            c.bytes += end - start;
            c.masked += hidden;
        }
    }
    per
}

/// On the eleven held-out sets (each written blind; all but the eleventh
/// have since been tuned to), the share of people, addresses and postcodes masked
/// whole, and of their bytes masked at all. Floors: the first measurement
/// (2026-12-04) less about 0.05.
#[test]
fn what_the_held_out_sets_leave_readable() {
    let sets = [
        ("held-out", include_str!("data/entities-heldout.jsonl")),
        ("held-out 2", include_str!("data/entities-heldout2.jsonl")),
        ("held-out 3", include_str!("data/entities-heldout3.jsonl")),
        ("held-out 4", include_str!("data/entities-heldout4.jsonl")),
        ("held-out 5", include_str!("data/entities-heldout5.jsonl")),
        ("held-out 6", include_str!("data/entities-heldout6.jsonl")),
        ("held-out 7", include_str!("data/entities-heldout7.jsonl")),
        ("held-out 8", include_str!("data/entities-heldout8.jsonl")),
        ("held-out 9", include_str!("data/entities-heldout9.jsonl")),
        ("held-out 10", include_str!("data/entities-heldout10.jsonl")),
        ("held-out 11", include_str!("data/entities-heldout11.jsonl")),
        ("held-out 12", include_str!("data/entities-heldout12.jsonl")),
        ("held-out 13", include_str!("data/entities-heldout13.jsonl")),
    ];
    let detector = Detector::new();
    let mut total: BTreeMap<String, Coverage> = BTreeMap::new();
    for (name, raw) in sets {
        for (kind, c) in coverage(&load(raw), &detector) {
            let share = |a: usize, b: usize| a as f64 / b.max(1) as f64;
            println!(
                "{name:<10} {kind:<13} entities {:>3}, masked whole {:.3}, bytes masked {:.3}",
                c.entities,
                share(c.whole, c.entities),
                share(c.masked, c.bytes)
            );
            let t = total.entry(kind).or_default();
            t.entities += c.entities;
            t.whole += c.whole;
            t.bytes += c.bytes;
            t.masked += c.masked;
        }
    }
    // Measured: PERSON 0.726 / 0.736, ADDRESS 0.693 / 0.752, POSTCODE
    // 0.721 / 0.655 (masked whole / bytes masked, the three sets together).
    // After the mask-precision branch: PERSON 0.807 / 0.829, ADDRESS
    // 0.971 / 0.968, POSTCODE unchanged. With the fourth (blind) set added:
    // PERSON 0.789 / 0.811, ADDRESS 0.926 / 0.936, POSTCODE 0.689 / 0.645
    // (the fourth alone: 0.745 / 0.768, 0.831 / 0.868, 0.611 / 0.620).
    // With the fifth and sixth (blind) sets added, after the tuning on the
    // fourth: PERSON 0.784 / 0.814, ADDRESS 0.878 / 0.917, POSTCODE 0.685 / 0.651.
    // The first five after mask-precision3: PERSON 0.809 / 0.840, ADDRESS
    // 0.965 / 0.962, POSTCODE 0.699 / 0.658; all six: PERSON 0.789 / 0.820,
    // ADDRESS 0.931 / 0.945, POSTCODE 0.685 / 0.651. All six after
    // mask-precision4: PERSON 0.789 / 0.820, ADDRESS 0.964 / 0.961,
    // POSTCODE 0.685 / 0.651. With the seventh (blind) set: PERSON 0.767 /
    // 0.798, ADDRESS 0.957 / 0.962, POSTCODE 0.667 / 0.631; with the
    // eighth (blind): PERSON 0.758 / 0.791, ADDRESS 0.934 / 0.950, POSTCODE
    // 0.655 / 0.624. With Eircodes, ZIP+4 and state-named Australian
    // codes (2026-12-05): POSTCODE 0.867 / 0.887. After mask-precision5:
    // PERSON 0.768 / 0.801, ADDRESS 0.943 / 0.953. With the ninth, after
    // the seventh round (2026-12-05, second session): PERSON 0.882 /
    // 0.910, ADDRESS 0.977 / 0.978, POSTCODE 0.866 / 0.886. With the
    // tenth (tuned to) and eleventh (blind), after the eighth round
    // (2026-12-05, third session): PERSON 0.887 / 0.916, ADDRESS 0.974 /
    // 0.976, POSTCODE 0.897 / 0.914.
    let floors = [
        ("PERSON", 0.85, 0.88),
        ("ADDRESS", 0.94, 0.94),
        ("POSTCODE", 0.82, 0.84),
    ];
    for (kind, whole, bytes) in floors {
        let c = total.get(kind).copied().unwrap_or_default();
        let (w, b) = (
            c.whole as f64 / c.entities as f64,
            c.masked as f64 / c.bytes as f64,
        );
        println!("all held-out {kind}: masked whole {w:.3}, bytes masked {b:.3}");
        assert!(w >= whole, "{kind} masked whole {w:.3} below {whole}");
        assert!(b >= bytes, "{kind} bytes masked {b:.3} below {bytes}");
    }
}
