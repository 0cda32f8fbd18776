//! `mask_json` walks a document of any depth without recursing: a `Value`
//! nested far deeper than serde_json's 128-level parse limit (built in
//! code, or parsed with its `unbounded_depth` feature) is masked on a small
//! stack.
//!
//! serde_json's own `Drop`, `Clone`, `PartialEq`, `Debug` and `Display` of
//! such a value recurse, so these tests build it in a loop, never clone,
//! compare or print it whole, and hold it in a [`Deep`], which takes it
//! apart in a loop when dropped (a failed assertion included).

use custodia_mask::{Detector, JsonRules, Kind, MaskPolicy, Masker, Strategy, TokenVault};
use serde_json::{Map, Value, json};

/// Deeper than any recursion over a `Value` survives on a thread's stack.
const DEPTH: usize = 100_000;

/// Drops `v` one level at a time: its members are moved out before each
/// (now shallow) container is dropped.
fn dismantle(v: Value) {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

/// A value dropped by [`dismantle`].
struct Deep(Value);

impl Drop for Deep {
    fn drop(&mut self) {
        dismantle(std::mem::take(&mut self.0));
    }
}

/// `leaf` under `DEPTH` levels, alternately an array (`[leaf, 7]`) and an
/// object (`{key: leaf, "n": 1}`), the outermost an array.
fn deep(leaf: Value, key: &str) -> Deep {
    let mut v = leaf;
    for level in (0..DEPTH).rev() {
        v = if level % 2 == 0 {
            Value::Array(vec![v, json!(7)])
        } else {
            let mut m = Map::new();
            m.insert(key.to_string(), v);
            m.insert("n".into(), json!(1));
            Value::Object(m)
        };
    }
    Deep(v)
}

/// The path `deep` puts its leaf at, with `key` as reports write it.
fn deep_path(key: &str) -> String {
    let mut p = String::from("$");
    for level in 0..DEPTH {
        if level % 2 == 0 {
            p.push_str("[0]");
        } else {
            p.push_str(key);
        }
    }
    p
}

/// The leaf of a `deep` value (the first member all the way down).
fn leaf(v: &Value) -> &Value {
    let mut v = v;
    loop {
        v = match v {
            Value::Array(items) => &items[0],
            Value::Object(map) => match map.iter().find(|(k, _)| k.as_str() != "n") {
                Some((_, child)) => child,
                None => return v,
            },
            _ => return v,
        };
    }
}

/// Runs `f` on a thread with a 256 KiB stack: a walk that recursed once a
/// level would overflow it many times over.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn a_value_nested_100_000_deep_is_masked_without_overflowing_the_stack() {
    let (v, report) = on_small_stack(|| {
        let mut v = deep(json!("write to jane.doe@example.com"), "k");
        let report = Masker::new(Detector::new())
            .mask_json(&mut v.0, &JsonRules::new(), None)
            .unwrap();
        (v, report)
    });
    assert_eq!(leaf(&v.0), &json!("write to [EMAIL]"));
    assert_eq!(report.total(), 1);
    let path = report.entries[0].path.as_deref().unwrap();
    assert!(path == deep_path(".k"), "{}…", &path[..64]);
}

#[test]
fn keys_rules_and_the_vault_apply_at_any_depth() {
    // A key holding an email at the bottom, renamed by masking; a rule on
    // the leaf's path (its original keys); a vault escaping a typed token
    // in a leaf beside it.
    let (v, report, vault) = on_small_stack(|| {
        let mut bottom = Map::new();
        bottom.insert("bob@example.com".into(), json!("Bob Jones"));
        bottom.insert("typed".into(), json!("<EMAIL_1>"));
        let mut v = deep(Value::Object(bottom), "k");
        let rule = format!("{}['bob@example.com']", deep_path(".k"));
        let rules = JsonRules::new().field(&rule, Kind::Person, None).unwrap();
        let masker = Masker::new(Detector::new())
            .with_policy(MaskPolicy::new(Strategy::Tokenize))
            .unwrap();
        let mut vault = TokenVault::new();
        let report = masker
            .mask_json(&mut v.0, &rules, Some(&mut vault))
            .unwrap();
        (v, report, vault)
    });
    let mut bottom = &v.0;
    for level in 0..DEPTH {
        bottom = if level % 2 == 0 {
            &bottom[0]
        } else {
            &bottom["k"]
        };
    }
    let bottom = bottom.as_object().unwrap();
    assert_eq!(bottom.get("<EMAIL_1>"), Some(&json!("<PERSON_1>")));
    let typed = bottom.get("typed").and_then(Value::as_str).unwrap();
    assert_ne!(typed, "<EMAIL_1>");
    assert_eq!(vault.unmask(typed), "<EMAIL_1>");
    assert_eq!(vault.unmask("<EMAIL_1>"), "bob@example.com");
    assert_eq!(vault.unmask("<PERSON_1>"), "Bob Jones");
    let paths: Vec<&str> = report
        .entries
        .iter()
        .map(|e| e.path.as_deref().unwrap())
        .collect();
    let at = format!("{}['<EMAIL_1>']", deep_path(".k"));
    assert!(paths == [format!("{at}~"), at], "{} paths", paths.len());
}

/// Arrays 100,000 deep under 2,000 levels that each hold a string first:
/// every string is masked, and reported in document order.
#[test]
fn every_level_of_a_deep_array_is_masked_in_order() {
    const LEVELS: usize = 2_000;
    let (v, report) = on_small_stack(|| {
        let mut v = Deep(json!("call 555-867-5309"));
        for _ in 0..DEPTH {
            v.0 = Value::Array(vec![std::mem::take(&mut v.0)]);
        }
        for _ in 0..LEVELS {
            v.0 = Value::Array(vec![
                json!("mail ann@example.com"),
                std::mem::take(&mut v.0),
            ]);
        }
        let report = Masker::new(Detector::new())
            .mask_json(&mut v.0, &JsonRules::new(), None)
            .unwrap();
        (v, report)
    });
    let kinds: Vec<&Kind> = report.entries.iter().map(|e| &e.kind).collect();
    assert_eq!(kinds.len(), LEVELS + 1);
    assert!(kinds[..LEVELS].iter().all(|k| **k == Kind::Email));
    assert_eq!(kinds[LEVELS], &Kind::Phone);
    let mut at = &v.0;
    for level in 0..LEVELS {
        assert_eq!(at[0], json!("mail [EMAIL]"), "level {level}");
        at = &at[1];
    }
    for _ in 0..DEPTH {
        at = &at[0];
    }
    assert_eq!(at, &json!("call [PHONE]"));
}
