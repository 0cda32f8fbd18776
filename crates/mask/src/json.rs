//! Masking JSON by field path rules, scanning the other string and number
//! leaves and the object keys.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::{Error, Kind, Masker, Report, ReportEntry, Strategy, TokenVault};

#[derive(Clone, Debug, PartialEq, Eq)]
enum Seg {
    Key(String),
    Index(usize),
    AnyKey,
    AnyIndex,
}

/// Field rules: `customer.email`, `tickets[].requester.phone`, `*.ssn`,
/// `notes[0]`. `*` matches any object key, `[]` any array index. A rule on an
/// object or array masks every leaf below it.
#[derive(Clone, Debug)]
pub struct JsonRules {
    rules: Vec<(Vec<Seg>, Kind, Option<Strategy>)>,
    scan_strings: bool,
}

impl Default for JsonRules {
    fn default() -> Self {
        JsonRules::new()
    }
}

impl JsonRules {
    /// No field rules; string and number leaves and object keys are
    /// scanned.
    pub fn new() -> JsonRules {
        JsonRules {
            rules: Vec::new(),
            scan_strings: true,
        }
    }

    /// Masks the value(s) at `path` as `kind`, with `strategy` or the
    /// masker's policy for `kind`.
    pub fn field(
        mut self,
        path: &str,
        kind: Kind,
        strategy: Option<Strategy>,
    ) -> Result<JsonRules, Error> {
        self.rules.push((parse_path(path)?, kind, strategy));
        Ok(self)
    }

    /// Whether string and number leaves outside the rules, and object
    /// keys, are scanned with the detector and masked (default: yes). Off,
    /// only the rules mask; keys are still scanned, only so that no key
    /// holding a finding is written into a report path (see
    /// [`Masker::mask_json`]).
    pub fn scan_strings(mut self, on: bool) -> JsonRules {
        self.scan_strings = on;
        self
    }

    fn rule_for(&self, path: &[Seg]) -> Option<usize> {
        self.rules.iter().position(|(p, _, _)| {
            p.len() == path.len()
                && p.iter().zip(path).all(|(r, s)| match (r, s) {
                    (Seg::Key(a), Seg::Key(b)) => a == b,
                    (Seg::Index(a), Seg::Index(b)) => a == b,
                    (Seg::AnyKey, Seg::Key(_)) | (Seg::AnyIndex, Seg::Index(_)) => true,
                    _ => false,
                })
        })
    }
}

fn parse_path(path: &str) -> Result<Vec<Seg>, Error> {
    let bad = |reason: &str| Error::InvalidPath {
        path: path.chars().take(128).collect(),
        reason: reason.into(),
    };
    let path = path.strip_prefix("$.").unwrap_or(path);
    if path.is_empty() {
        return Err(bad("empty path"));
    }
    let mut segs = Vec::new();
    for part in path.split('.') {
        let (name, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        match name {
            "" if rest.is_empty() => return Err(bad("empty segment")),
            "" => {}
            "*" => segs.push(Seg::AnyKey),
            n => segs.push(Seg::Key(n.to_string())),
        }
        while !rest.is_empty() {
            let close = rest.find(']').ok_or_else(|| bad("unclosed ["))?;
            let inner = &rest[1..close];
            segs.push(match inner {
                "" | "*" => Seg::AnyIndex,
                n => Seg::Index(
                    n.parse()
                        .map_err(|_| bad("index must be a number, * or empty"))?,
                ),
            });
            rest = &rest[close + 1..];
            if !rest.is_empty() && !rest.starts_with('[') {
                return Err(bad("unexpected text after ]"));
            }
        }
    }
    Ok(segs)
}

fn render(path: &[Seg]) -> String {
    let mut s = String::from("$");
    for p in path {
        match p {
            Seg::Key(k) => {
                s.push('.');
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
            Seg::AnyKey => s.push_str(".*"),
            Seg::AnyIndex => s.push_str("[]"),
        }
    }
    s
}

/// What [`Masker::mask_json`] decided for one object key.
#[derive(Default)]
struct KeyMask {
    /// The key in the masked document, if not the key as it was.
    name: Option<String>,
    /// The key as report paths show it, if not the key as it was: the
    /// masked key, or `*` when the key holds a finding still shown (in
    /// part) in the masked document.
    shown: Option<String>,
    /// The key's findings, spans in the key and in the masked key.
    entries: Vec<ReportEntry>,
}

impl Masker {
    /// Masks `value` in place: leaves at rule paths entirely, the other
    /// string and number leaves, and object keys, by detection.
    ///
    /// - Numbers and booleans at rule paths become masked strings (unless
    ///   the strategy is `keep`).
    /// - A number outside the rules is scanned as its JSON text; one that
    ///   holds a finding becomes a string, its text masked
    ///   (`{"card": 4111111111111111}` → `{"card": "[CREDIT_CARD]"}`), as
    ///   a number at a rule path does. Integers up to `u64::MAX` (20
    ///   digits: every card number) keep all their digits; a longer
    ///   integer was rounded to an `f64` by `serde_json` (without its
    ///   `arbitrary_precision` feature) while parsing, its digits lost
    ///   before it reached here: mask such documents as text, or parse
    ///   them with `arbitrary_precision`.
    /// - Object keys are scanned like strings, under rules too (rules mask
    ///   values, and are matched against the original keys). A key holding
    ///   a finding is replaced by its masked text. If two keys of one
    ///   object mask to the same text (redaction makes every email key
    ///   `[EMAIL]`), or a masked key equals a key of the object that was
    ///   not masked, the unmasked key keeps its name and the masked ones
    ///   get `#2`, `#3`, … appended, in the map's order, so no member is
    ///   lost.
    ///
    /// Each entry's `path` is where its string is in the masked document
    /// (`$.contacts.[EMAIL]`); an entry for a finding in an object key has
    /// the member's path with `~` appended (`$.contacts.[EMAIL]~`, after
    /// JSONPath-Plus), and its spans are in the key. No report path holds
    /// a key with a finding verbatim: a key masked with the `partial` or
    /// `keep` strategy, or not masked because scanning is off
    /// ([`JsonRules::scan_strings`]), is shown as `*`. Keys are written as
    /// they are, so a path is ambiguous where a key holds `.`, `[` or ends
    /// in `~` (`$.a.b~` is a finding in key `b`, or in the value of key
    /// `b~`); read the entry's spans against both.
    pub fn mask_json(
        &self,
        value: &mut Value,
        rules: &JsonRules,
        mut vault: Option<&mut TokenVault>,
    ) -> Result<Report, Error> {
        let mut report = Report::default();
        let mut path = Vec::new();
        let mut shown = Vec::new();
        self.walk(
            value,
            rules,
            (&mut path, &mut shown),
            None,
            &mut vault,
            &mut report,
        )?;
        Ok(report)
    }

    /// `path` is the original path (what rules match), `shown` the same
    /// path as reports show it (masked keys).
    fn walk(
        &self,
        v: &mut Value,
        rules: &JsonRules,
        (path, shown): (&mut Vec<Seg>, &mut Vec<Seg>),
        inherited: Option<usize>,
        vault: &mut Option<&mut TokenVault>,
        report: &mut Report,
    ) -> Result<(), Error> {
        let rule = inherited.or_else(|| rules.rule_for(path));
        match v {
            Value::Object(map) => {
                let keys = self.mask_keys(map, rules.scan_strings, vault)?;
                if keys.iter().all(|m| m.name.is_none()) {
                    // (Most objects: walked in place.)
                    for ((k, child), key) in map.iter_mut().zip(keys) {
                        let at = (&mut *path, &mut *shown);
                        self.member(k, key, child, rules, at, rule, vault, report)?;
                    }
                } else {
                    // (After an error the members are still all put back.)
                    let mut walked = Ok(());
                    for ((k, mut child), mut key) in std::mem::take(map).into_iter().zip(keys) {
                        let name = key.name.take();
                        if walked.is_ok() {
                            let at = (&mut *path, &mut *shown);
                            walked =
                                self.member(&k, key, &mut child, rules, at, rule, vault, report);
                        }
                        map.insert(name.unwrap_or(k), child);
                    }
                    walked?;
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter_mut().enumerate() {
                    path.push(Seg::Index(i));
                    shown.push(Seg::Index(i));
                    self.walk(child, rules, (path, shown), rule, vault, report)?;
                    path.pop();
                    shown.pop();
                }
            }
            Value::Null => {}
            leaf => {
                if let Some(r) = rule {
                    let (_, kind, strategy) = &rules.rules[r];
                    let strategy = strategy
                        .as_ref()
                        .unwrap_or_else(|| self.policy().strategy(kind));
                    if *strategy == Strategy::Keep {
                        return Ok(());
                    }
                    let text = match &mut *leaf {
                        Value::String(s) => std::mem::take(s),
                        other => other.to_string(),
                    };
                    let mut out = String::new();
                    self.replace(kind, &text, strategy, vault.as_deref_mut(), &mut out)?;
                    report.add(ReportEntry {
                        kind: kind.clone(),
                        start: 0,
                        end: text.len(),
                        out_start: 0,
                        out_end: out.len(),
                        score: 1.0,
                        recognizer: "json_field_rule".into(),
                        strategy: strategy.name(),
                        path: Some(render(shown)),
                    });
                    *leaf = Value::String(out);
                } else if rules.scan_strings {
                    // A string as it is, a number as its JSON text.
                    let number;
                    let text = match &*leaf {
                        Value::String(s) => s.as_str(),
                        Value::Number(n) => {
                            number = n.to_string();
                            number.as_str()
                        }
                        _ => return Ok(()),
                    };
                    let findings = self.detector().detect(text);
                    if findings.is_empty() {
                        return Ok(());
                    }
                    let masked = self.apply(text, &findings, vault.as_deref_mut())?;
                    let p = render(shown);
                    for mut e in masked.report.entries {
                        e.path = Some(p.clone());
                        report.add(e);
                    }
                    // (A number whose findings were all kept stays a number.)
                    if masked.text != text {
                        *leaf = Value::String(masked.text);
                    }
                }
            }
        }
        Ok(())
    }

    /// Reports the findings in the key `k` of an object at `path` and
    /// walks its value `child`.
    #[allow(clippy::too_many_arguments)]
    fn member(
        &self,
        k: &str,
        key: KeyMask,
        child: &mut Value,
        rules: &JsonRules,
        (path, shown): (&mut Vec<Seg>, &mut Vec<Seg>),
        rule: Option<usize>,
        vault: &mut Option<&mut TokenVault>,
        report: &mut Report,
    ) -> Result<(), Error> {
        let as_shown = key.shown.unwrap_or_else(|| k.to_string());
        if !key.entries.is_empty() {
            let mut p = render(shown);
            p.push('.');
            p.push_str(&as_shown);
            p.push('~');
            for mut e in key.entries {
                e.path = Some(p.clone());
                report.add(e);
            }
        }
        path.push(Seg::Key(k.to_string()));
        shown.push(Seg::Key(as_shown));
        let walked = self.walk(child, rules, (path, shown), rule, vault, report);
        path.pop();
        shown.pop();
        walked
    }

    /// Scans the keys of `map`, in its order, and decides each one's name
    /// in the masked document and in report paths (see
    /// [`Masker::mask_json`]). With `mask` off, keys keep their names and
    /// only report paths hide those holding a finding.
    fn mask_keys(
        &self,
        map: &Map<String, Value>,
        mask: bool,
        vault: &mut Option<&mut TokenVault>,
    ) -> Result<Vec<KeyMask>, Error> {
        let mut keys: Vec<KeyMask> = Vec::with_capacity(map.len());
        let mut masked_any = false;
        for k in map.keys() {
            let findings = self.detector().detect(k);
            if findings.is_empty() {
                keys.push(KeyMask::default());
                continue;
            }
            if !mask {
                keys.push(KeyMask {
                    shown: Some("*".into()),
                    ..KeyMask::default()
                });
                continue;
            }
            let masked = self.apply(k, &findings, vault.as_deref_mut())?;
            let reveals = masked.text == *k
                || masked
                    .report
                    .entries
                    .iter()
                    .any(|e| matches!(e.strategy, "partial" | "keep"));
            let shown = if reveals {
                "*".to_string()
            } else {
                masked.text.clone()
            };
            let name = (masked.text != *k).then_some(masked.text);
            masked_any |= name.is_some();
            keys.push(KeyMask {
                name,
                shown: Some(shown),
                entries: masked.report.entries,
            });
        }
        if !masked_any {
            return Ok(keys);
        }
        // Unique names: keys left as they were keep theirs; a masked key
        // that is taken gets `#2`, `#3`, … (and so does its path, unless
        // hidden).
        let taken: BTreeSet<&str> = map
            .keys()
            .zip(&keys)
            .filter(|(_, m)| m.name.is_none())
            .map(|(k, _)| k.as_str())
            .collect();
        let mut renamed = BTreeSet::new();
        for m in &mut keys {
            let Some(name) = &mut m.name else { continue };
            if taken.contains(name.as_str()) || renamed.contains(name) {
                let mut n = 2;
                let unique = loop {
                    let candidate = format!("{name}#{n}");
                    if !taken.contains(candidate.as_str()) && !renamed.contains(&candidate) {
                        break candidate;
                    }
                    n += 1;
                };
                if m.shown.as_deref() != Some("*") {
                    m.shown = Some(unique.clone());
                }
                *name = unique;
            }
            renamed.insert(name.clone());
        }
        Ok(keys)
    }
}
