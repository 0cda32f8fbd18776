//! Masking JSON by field path rules, scanning the other string leaves.

use serde_json::Value;

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
    /// No field rules; string leaves are scanned.
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

    /// Whether string leaves outside the rules are scanned with the
    /// detector (default: yes).
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

impl Masker {
    /// Masks `value` in place: leaves at rule paths entirely, other string
    /// leaves by detection. Numbers and booleans at rule paths become masked
    /// strings (unless the strategy is `keep`). Object keys are not masked.
    pub fn mask_json(
        &self,
        value: &mut Value,
        rules: &JsonRules,
        mut vault: Option<&mut TokenVault>,
    ) -> Result<Report, Error> {
        let mut report = Report::default();
        let mut path = Vec::new();
        self.walk(value, rules, &mut path, None, &mut vault, &mut report)?;
        Ok(report)
    }

    fn walk(
        &self,
        v: &mut Value,
        rules: &JsonRules,
        path: &mut Vec<Seg>,
        inherited: Option<usize>,
        vault: &mut Option<&mut TokenVault>,
        report: &mut Report,
    ) -> Result<(), Error> {
        let rule = inherited.or_else(|| rules.rule_for(path));
        match v {
            Value::Object(map) => {
                for (k, child) in map.iter_mut() {
                    path.push(Seg::Key(k.clone()));
                    self.walk(child, rules, path, rule, vault, report)?;
                    path.pop();
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter_mut().enumerate() {
                    path.push(Seg::Index(i));
                    self.walk(child, rules, path, rule, vault, report)?;
                    path.pop();
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
                        path: Some(render(path)),
                    });
                    *leaf = Value::String(out);
                } else if let (Value::String(s), true) = (&mut *leaf, rules.scan_strings) {
                    let findings = self.detector().detect(s);
                    if findings.is_empty() {
                        return Ok(());
                    }
                    let masked = self.apply(s, &findings, vault.as_deref_mut())?;
                    let p = render(path);
                    for mut e in masked.report.entries {
                        e.path = Some(p.clone());
                        report.add(e);
                    }
                    *s = masked.text;
                }
            }
        }
        Ok(())
    }
}
