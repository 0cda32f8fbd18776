//! JSON masking on arbitrary input: field-rule paths parse or fail typed,
//! and masking any JSON document by rules and detection never panics and
//! leaves no rule-path string unmasked. Without rules (every key and leaf
//! scanned, redacted): no object key or number in which the detector finds
//! personal data is left in the output, and every report path is a path of
//! the masked document (so no such key is written into the report). And
//! the document wrapped in levels deeper than serde_json's 128-level parse
//! limit (built in code) is masked as it is alone, its report the same but
//! for the wrapping's prefix on every path (`mask_json` walks with a stack
//! of its own, not by recursion).

#![no_main]

use custodia_mask::{Detector, JsonRules, Kind, Masker};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use std::collections::BTreeSet;

/// A key as report paths write it: after a dot if plain, else quoted in
/// brackets, RFC 9535 normalized-path escapes.
fn push_key(at: &mut String, k: &str) {
    let mut bytes = k.bytes();
    let plain = matches!(bytes.next(), Some(b'a'..=b'z' | b'A'..=b'Z' | b'_'))
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if plain {
        at.push('.');
        at.push_str(k);
        return;
    }
    at.push_str("['");
    for c in k.chars() {
        match c {
            '\u{8}' => at.push_str("\\b"),
            '\u{c}' => at.push_str("\\f"),
            '\n' => at.push_str("\\n"),
            '\r' => at.push_str("\\r"),
            '\t' => at.push_str("\\t"),
            '\'' => at.push_str("\\'"),
            '\\' => at.push_str("\\\\"),
            c if c < ' ' => at.push_str(&format!("\\u{:04x}", c as u32)),
            c => at.push(c),
        }
    }
    at.push_str("']");
}

/// Every path of `v` as `mask_json` renders them (`$.a[0]['b.c']`), and
/// every object key.
fn paths(v: &Value, at: &mut String, out: &mut BTreeSet<String>, keys: &mut BTreeSet<String>) {
    out.insert(at.clone());
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                keys.insert(k.clone());
                let len = at.len();
                push_key(at, k);
                paths(child, at, out, keys);
                at.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let len = at.len();
                at.push_str(&format!("[{i}]"));
                paths(child, at, out, keys);
                at.truncate(len);
            }
        }
        _ => {}
    }
}

/// Numbers left in `v` that hold a finding.
fn numbers_with_findings(d: &Detector, v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Number(n) if !d.detect(&n.to_string()).is_empty() => out.push(n.to_string()),
        Value::Object(map) => map.values().for_each(|c| numbers_with_findings(d, c, out)),
        Value::Array(items) => items.iter().for_each(|c| numbers_with_findings(d, c, out)),
        _ => {}
    }
}

/// Levels wrapped around the document: past serde_json's parse limit, yet
/// shallow enough for serde_json's own recursive `Drop` and `PartialEq`.
const WRAP: usize = 200;

/// `v` under [`WRAP`] levels, alternately `[v]` and `{"w": v}` (the
/// outermost an array), and the path prefix they add.
fn wrap(v: Value) -> (Value, String) {
    let mut v = v;
    for level in (0..WRAP).rev() {
        v = if level % 2 == 0 {
            Value::Array(vec![v])
        } else {
            Value::Object([("w".to_string(), v)].into_iter().collect())
        };
    }
    let prefix = (0..WRAP).map(|l| if l % 2 == 0 { "[0]" } else { ".w" }).collect();
    (v, prefix)
}

/// The document inside [`wrap`]'s levels.
fn unwrap_levels(v: &Value) -> &Value {
    let mut v = v;
    for level in 0..WRAP {
        v = if level % 2 == 0 { &v[0] } else { &v["w"] };
    }
    v
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // The first line is a rule path, the rest a document.
    let (path, document) = text.split_once('\n').unwrap_or((&text, ""));
    let rules = JsonRules::new().field(path, Kind::Email, None);
    let rules = rules.unwrap_or_else(|_| JsonRules::new());
    let Ok(original) = serde_json::from_str::<Value>(document) else {
        return;
    };
    let masker = Masker::new(Detector::new());
    let mut value = original.clone();
    let _ = masker
        .mask_json(&mut value, &rules, None)
        .expect("redacting never fails");
    // Masked output is still a JSON document.
    let again = serde_json::to_string(&value).expect("a value serialises");
    assert!(serde_json::from_str::<Value>(&again).is_ok());

    // Without rules: keys and numbers.
    let mut value = original.clone();
    let report = masker
        .mask_json(&mut value, &JsonRules::new(), None)
        .expect("redacting never fails");
    let d = masker.detector();
    let (mut before, mut keys_before) = (BTreeSet::new(), BTreeSet::new());
    paths(&original, &mut "$".to_string(), &mut before, &mut keys_before);
    let (mut after, mut keys_after) = (BTreeSet::new(), BTreeSet::new());
    paths(&value, &mut "$".to_string(), &mut after, &mut keys_after);
    for k in keys_before.intersection(&keys_after) {
        assert!(d.detect(k).is_empty(), "a key with a finding was kept: {k:?}");
    }
    let mut numbers = Vec::new();
    numbers_with_findings(d, &value, &mut numbers);
    assert!(numbers.is_empty(), "numbers with findings were kept: {numbers:?}");
    for e in &report.entries {
        let p = e.path.as_deref().expect("a JSON entry has a path");
        // A finding in a key, and only that, ends in `~`.
        let found = match p.strip_suffix('~') {
            Some(member) => after.contains(member),
            None => after.contains(p),
        };
        assert!(found, "{p:?} is no path of the masked document");
    }

    // Deeper than a parser allows: the same masking, the paths prefixed.
    let (mut deep, prefix) = wrap(original.clone());
    let deep_report = masker
        .mask_json(&mut deep, &JsonRules::new(), None)
        .expect("redacting never fails");
    assert!(unwrap_levels(&deep) == &value, "the wrapped document was masked otherwise");
    assert_eq!(deep_report.entries.len(), report.entries.len());
    for (d, e) in deep_report.entries.iter().zip(&report.entries) {
        let p = e.path.as_deref().expect("a JSON entry has a path");
        let expected = format!("${prefix}{}", &p[1..]);
        assert_eq!(d.path.as_deref(), Some(expected.as_str()));
        let (mut d, mut e) = (d.clone(), e.clone());
        (d.path, e.path) = (None, None);
        assert_eq!(d, e);
    }
});
