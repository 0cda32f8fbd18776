//! Masking JSON by field path rules, scanning the other string and number
//! leaves and the object keys.

use std::collections::{BTreeMap, BTreeSet};

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
/// `notes[0]`, `$['first.name']`. `*` matches any object key, `[]` (or
/// `[*]`) any array index. A rule on an object or array masks every leaf
/// below it.
///
/// A path may start with `$` (the document; `$` alone is the whole of it)
/// and may leave out the first
/// dot (`customer.email` is `$.customer.email`). After a dot a key runs to
/// the next `.` or `[`; any key can be written in brackets, quoted with `'`
/// or `"` and escaped as RFC 9535 string literals are (`$['a.b']`,
/// `$["it's"]`, `$['\u00e9']`), and a key named `*`, one ending in `~`
/// and a first key named `$` must be. So every value path in a [`Report`] from
/// [`Masker::mask_json`] is a rule as it stands. A path ending in `~` (a
/// finding in a key) is refused: rules mask values.
///
/// ```
/// use custodia_mask::{Detector, JsonRules, Kind, Masker};
/// use serde_json::json;
/// let masker = Masker::new(Detector::new());
/// let doc = json!({"a.b": {"jane@example.com": "call 555-867-5309"}});
/// let mut masked = doc.clone();
/// let report = masker.mask_json(&mut masked, &JsonRules::new(), None)?;
/// let paths: Vec<_> = report.entries.iter().filter_map(|e| e.path.as_deref()).collect();
/// assert_eq!(paths, ["$['a.b']['[EMAIL]']~", "$['a.b']['[EMAIL]']"]);
/// // The value's path, as a rule, on the masked document.
/// let rules = JsonRules::new().field(paths[1], Kind::Phone, None)?;
/// let mut again = masked.clone();
/// assert_eq!(masker.mask_json(&mut again, &rules, None)?.total(), 1);
/// assert!(JsonRules::new().field(paths[0], Kind::Email, None).is_err());
/// # Ok::<(), custodia_mask::Error>(())
/// ```
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

/// Parses a rule path, or a report path naming a value (not ending in `~`).
fn parse_path(path: &str) -> Result<Vec<Seg>, Error> {
    let bad = |reason: &str| Error::InvalidPath {
        path: path.chars().take(128).collect(),
        reason: reason.into(),
    };
    match parse(path).map_err(bad)? {
        (_, true) => Err(bad(
            "a path ending in ~ names a finding in an object key; rules mask values: drop the ~",
        )),
        (segs, false) => Ok(segs),
    }
}

/// The segments of `path`, and whether it ends in the key marker `~` (see
/// [`Masker::mask_json`]). Accepts what [`render`] writes and the looser
/// rule syntax: no `$`, `name` for `.name` at the start, any characters
/// but `.` and `[` in a dot name, `["name"]`, `[]` for `[*]`.
fn parse(path: &str) -> Result<(Vec<Seg>, bool), &'static str> {
    if path.is_empty() {
        return Err("empty path");
    }
    let (mut rest, rooted) = match path.strip_prefix('$') {
        Some(r) if r.starts_with(['.', '[']) => (r, true),
        // The document itself (a report's path for a root that is a leaf).
        Some("") => return Ok((Vec::new(), false)),
        _ => (path, false),
    };
    // The key marker is outside any quoted key and ends the path: what is
    // left after it has been cut off is read as segments.
    let marked = rest.ends_with('~') && !ends_in_quote(rest);
    if marked {
        rest = &rest[..rest.len() - 1];
    }
    let mut segs = Vec::new();
    // A name may start the path without its dot (`customer.email`).
    let mut first = !rooted;
    while first || !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('[') {
            let (seg, r) = bracket(r)?;
            segs.push(seg);
            rest = r;
        } else {
            let r = if first {
                rest
            } else {
                rest.strip_prefix('.').ok_or("unexpected text after ]")?
            };
            let end = r.find(['.', '[']).unwrap_or(r.len());
            match &r[..end] {
                // (`a.[0]`, as rules have always been allowed to write.)
                "" if r.starts_with('[') && !first => {}
                "" => return Err("empty segment"),
                "*" => segs.push(Seg::AnyKey),
                name => segs.push(Seg::Key(name.to_string())),
            }
            rest = &r[end..];
        }
        first = false;
    }
    if segs.is_empty() {
        return Err("empty path");
    }
    Ok((segs, marked))
}

/// Whether `path` ends inside a quoted key that is never closed: its last
/// `~` is then the key's, not the marker, and [`bracket`] reports the
/// unclosed quote.
fn ends_in_quote(path: &str) -> bool {
    let mut quote = None;
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '[') => {
                if let Some(q @ ('\'' | '"')) = chars.clone().next() {
                    quote = Some(q);
                    chars.next();
                }
            }
            (Some(_), '\\') => {
                chars.next();
            }
            (Some(q), c) if c == q => quote = None,
            _ => {}
        }
    }
    quote.is_some()
}

/// One bracketed segment, `rest` just after its `[`: the segment and what
/// follows its `]`.
fn bracket(rest: &str) -> Result<(Seg, &str), &'static str> {
    let Some(quote @ ('\'' | '"')) = rest.chars().next() else {
        let close = rest.find(']').ok_or("unclosed [")?;
        let seg = match &rest[..close] {
            "" | "*" => Seg::AnyIndex,
            n if n.bytes().all(|b| b.is_ascii_digit()) => {
                Seg::Index(n.parse().map_err(|_| "index too large")?)
            }
            _ => return Err("a bracket holds an index, *, nothing or a quoted key"),
        };
        return Ok((seg, &rest[close + 1..]));
    };
    // RFC 9535 §2.3.1.1 string literal.
    let mut key = String::new();
    let mut chars = rest[1..].char_indices();
    loop {
        let (_, c) = chars.next().ok_or("unclosed quoted key")?;
        match c {
            c if c == quote => break,
            '\\' => {
                let (_, e) = chars.next().ok_or("unclosed quoted key")?;
                key.push(match e {
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    '/' | '\\' => e,
                    e if e == quote => e,
                    'u' => unicode_escape(&mut chars)?,
                    _ => return Err("unknown escape in a quoted key"),
                });
            }
            c => key.push(c),
        }
    }
    let after = chars.as_str();
    let after = after
        .strip_prefix(']')
        .ok_or("a quoted key must be followed by ]")?;
    Ok((Seg::Key(key), after))
}

/// The character of a `\uXXXX` escape (or of a surrogate pair of them),
/// `chars` just after the `u`.
fn unicode_escape(chars: &mut std::str::CharIndices<'_>) -> Result<char, &'static str> {
    let hex4 = |chars: &mut std::str::CharIndices<'_>| -> Result<u32, &'static str> {
        let mut n = 0;
        for _ in 0..4 {
            let (_, c) = chars.next().ok_or("short \\u escape")?;
            n = n * 16 + c.to_digit(16).ok_or("bad hex digit in a \\u escape")?;
        }
        Ok(n)
    };
    let high = hex4(chars)?;
    let code = match high {
        0xD800..=0xDBFF => {
            let low = match (chars.next(), chars.next()) {
                (Some((_, '\\')), Some((_, 'u'))) => hex4(chars)?,
                _ => return Err("a high surrogate must be followed by a low one"),
            };
            if !(0xDC00..=0xDFFF).contains(&low) {
                return Err("a high surrogate must be followed by a low one");
            }
            0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
        }
        0xDC00..=0xDFFF => return Err("a low surrogate on its own"),
        n => n,
    };
    char::from_u32(code).ok_or("bad \\u escape")
}

/// Whether a report path writes `key` after a dot: an ASCII letter or `_`,
/// then ASCII letters, digits and `_` (RFC 9535's member-name shorthand,
/// ASCII only, so a strict JSONPath parser reads the path too). Every
/// other key, `e-mail` and a key named `*` among them, is written in
/// brackets.
fn is_plain(key: &str) -> bool {
    let mut bytes = key.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z' | b'A'..=b'Z' | b'_'))
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The path as reports show it (see [`Masker::mask_json`]): a plain key
/// after a dot, any other in brackets as an RFC 9535 normalized path
/// writes it, a hidden key as the wildcard `.*`.
fn render(path: &[Seg]) -> String {
    let mut s = String::from("$");
    for p in path {
        match p {
            Seg::Key(k) if is_plain(k) => {
                s.push('.');
                s.push_str(k);
            }
            Seg::Key(k) => {
                s.push_str("['");
                for c in k.chars() {
                    match c {
                        '\u{8}' => s.push_str("\\b"),
                        '\u{c}' => s.push_str("\\f"),
                        '\n' => s.push_str("\\n"),
                        '\r' => s.push_str("\\r"),
                        '\t' => s.push_str("\\t"),
                        '\'' => s.push_str("\\'"),
                        '\\' => s.push_str("\\\\"),
                        c if c < ' ' => s.push_str(&format!("\\u{:04x}", c as u32)),
                        c => s.push(c),
                    }
                }
                s.push_str("']");
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
            Seg::AnyKey => s.push_str(".*"),
            Seg::AnyIndex => s.push_str("[*]"),
        }
    }
    s
}

/// `text` escaped by the vault, if there is one and the text has a token's
/// shape (see [`TokenVault`]).
fn escaped(vault: &mut Option<&mut TokenVault>, text: &str) -> Option<String> {
    vault.as_deref_mut()?.escape(text)
}

/// Escapes a string leaf written as it is (see [`TokenVault`]).
fn escape_leaf(leaf: &mut Value, vault: &mut Option<&mut TokenVault>) {
    if let Value::String(s) = leaf
        && let Some(e) = escaped(vault, s)
    {
        *s = e;
    }
}

/// What [`Masker::mask_json`] decided for one object key.
#[derive(Default)]
struct KeyMask {
    /// The key in the masked document, if not the key as it was.
    name: Option<String>,
    /// The key as report paths show it, if not the key as it was: the
    /// masked key, or [`Seg::AnyKey`] (`.*`) when the key holds a finding
    /// still shown (in part) in the masked document.
    shown: Option<Seg>,
    /// The key's findings, spans in the key and in the masked key.
    entries: Vec<ReportEntry>,
}

/// A value [`Masker::mask_json`] has still to walk.
struct Pending<'v> {
    value: &'v mut Value,
    /// How many segments the path to its parent has.
    depth: usize,
    /// Its segment of the path: as it was (what rules match) and as
    /// reports show it; none for the document.
    seg: Option<(Seg, Seg)>,
    /// The rule that covers its parent, if any (it covers all below).
    inherited: Option<usize>,
    /// The findings in its key, reported when it is walked (before what is
    /// found below it).
    key_entries: Vec<ReportEntry>,
}

impl<'v> Pending<'v> {
    /// The member `k` of an object whose path has `depth` segments.
    fn member(
        k: &str,
        key: KeyMask,
        value: &'v mut Value,
        depth: usize,
        inherited: Option<usize>,
    ) -> Pending<'v> {
        Pending {
            value,
            depth,
            seg: Some((
                Seg::Key(k.to_string()),
                key.shown.unwrap_or_else(|| Seg::Key(k.to_string())),
            )),
            inherited,
            key_entries: key.entries,
        }
    }
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
    /// - With a `vault`, a string or key that has a token's shape
    ///   (`<EMAIL_1>`) is written as a `<LITERAL_n>` token standing for it,
    ///   found or not, rules or none (see [`TokenVault`]): the unmasked
    ///   reply gives it back as text. A key so renamed is shown by its new
    ///   name in report paths; it is no finding.
    ///
    /// Each entry's `path` is where its string is in the masked document,
    /// written so that two members share one only below keys hidden as
    /// `.*`:
    ///
    /// - `$` is the document; `[0]` an array index.
    /// - A key that is an ASCII letter or `_` followed by ASCII letters,
    ///   digits and `_` follows a dot (`$.customer.email`); any other
    ///   key, a masked key such as `[EMAIL]` and a key named `*` among
    ///   them, is written in brackets and single quotes as in an RFC 9535
    ///   normalized path, `'` and `\` escaped with `\`, control characters
    ///   as `\n`, `\t`, … or `\u00XX` (`$.contacts['[EMAIL]']`,
    ///   `$['a.b']`, `$['it\'s']`).
    /// - A key that holds a finding still shown (in part) in the masked
    ///   document, masked with the `partial` or `keep` strategy or not
    ///   masked because scanning is off ([`JsonRules::scan_strings`]), is
    ///   hidden as the wildcard `.*` (a key named `*` is `['*']`), so no
    ///   report path holds a key with a finding verbatim. Two hidden keys
    ///   of one object share the `.*`; read the entries' spans to tell
    ///   their findings apart.
    /// - An entry for a finding in an object key has the member's path
    ///   with `~` appended (`$.contacts['[EMAIL]']~`, after JSONPath-Plus),
    ///   and its spans are in the key. The `~` is never inside a quoted key
    ///   and no dotted key holds one, so a path ends in `~` exactly when it
    ///   names a key's finding (the value of a key `b~` is `$['b~']`).
    ///
    /// A report path naming a value can be given to [`JsonRules::field`]
    /// as it is; rules match the keys of the document they are applied to,
    /// so a path through a masked key names that masked key, and a hidden
    /// `.*` matches any key.
    ///
    /// Any depth: the document is walked with a stack of its own, not by
    /// recursion, so a `Value` nested deeper than serde_json's 128-level
    /// parse limit (built in code, or parsed with its `unbounded_depth`
    /// feature) is masked on a thread's stack however small. (serde_json's
    /// own `Drop`, `Clone` and `Display` of such a value still recurse.) A
    /// report path has a segment per level, so the report of a deep
    /// document with findings at many levels grows with depth times
    /// findings.
    ///
    /// On an error (a strategy that needs a key or a vault it was not
    /// given, an encryption failure) masking stops: the document keeps
    /// every member, some masked and some not, and must not be used.
    pub fn mask_json(
        &self,
        value: &mut Value,
        rules: &JsonRules,
        mut vault: Option<&mut TokenVault>,
    ) -> Result<Report, Error> {
        let mut report = Report::default();
        // Depth first, in document order, with an explicit stack rather
        // than recursion: a `Value` built in code (or parsed without
        // serde_json's 128-level limit) may be nested deeper than any
        // thread's stack allows.
        let mut stack = vec![Pending {
            value,
            depth: 0,
            seg: None,
            inherited: None,
            key_entries: Vec::new(),
        }];
        // The original path (what rules match) of the value being walked,
        // and the same path as reports show it (masked keys).
        let mut path: Vec<Seg> = Vec::new();
        let mut shown: Vec<Seg> = Vec::new();
        while let Some(p) = stack.pop() {
            path.truncate(p.depth);
            shown.truncate(p.depth);
            if let Some((seg, seen)) = p.seg {
                path.push(seg);
                shown.push(seen);
            }
            if !p.key_entries.is_empty() {
                let mut at = render(&shown);
                at.push('~');
                for mut e in p.key_entries {
                    e.path = Some(at.clone());
                    report.add(e);
                }
            }
            let rule = p.inherited.or_else(|| rules.rule_for(&path));
            let depth = path.len();
            // Children are pushed last first, so they are walked in order.
            match p.value {
                Value::Object(map) => {
                    let keys = self.mask_keys(map, rules.scan_strings, &mut vault)?;
                    if keys.iter().all(|m| m.name.is_none()) {
                        // (Most objects: walked in place.)
                        for ((k, child), key) in map.iter_mut().zip(keys).rev() {
                            stack.push(Pending::member(k, key, child, depth, rule));
                        }
                    } else {
                        // Renamed in place first, every member kept, then
                        // walked in the original order, which a map sorted
                        // by key (serde_json without `preserve_order`) no
                        // longer has.
                        let mut by_name = BTreeMap::new();
                        for (i, ((k, child), mut key)) in
                            std::mem::take(map).into_iter().zip(keys).enumerate()
                        {
                            let name = key.name.take().unwrap_or_else(|| k.clone());
                            map.insert(name.clone(), child);
                            by_name.insert(name, (i, k, key));
                        }
                        let mut members: Vec<_> = map
                            .iter_mut()
                            .map(|(name, child)| {
                                // (Masked names are unique, so every name is
                                // found; one that were not would still be
                                // walked, last and hidden in report paths.)
                                let (i, k, key) = by_name.remove(name).unwrap_or_else(|| {
                                    let hidden = KeyMask {
                                        shown: Some(Seg::AnyKey),
                                        ..KeyMask::default()
                                    };
                                    (usize::MAX, name.clone(), hidden)
                                });
                                (i, Pending::member(&k, key, child, depth, rule))
                            })
                            .collect();
                        members.sort_by_key(|(i, _)| std::cmp::Reverse(*i));
                        stack.extend(members.into_iter().map(|(_, m)| m));
                    }
                }
                Value::Array(items) => {
                    for (i, child) in items.iter_mut().enumerate().rev() {
                        stack.push(Pending {
                            value: child,
                            depth,
                            seg: Some((Seg::Index(i), Seg::Index(i))),
                            inherited: rule,
                            key_entries: Vec::new(),
                        });
                    }
                }
                Value::Null => {}
                leaf => self.leaf(leaf, rules, rule, &shown, &mut vault, &mut report)?,
            }
        }
        Ok(report)
    }

    /// Masks a string, number or boolean at `shown` (as reports show its
    /// path): entirely if `rule` covers it, else by detection.
    fn leaf(
        &self,
        leaf: &mut Value,
        rules: &JsonRules,
        rule: Option<usize>,
        shown: &[Seg],
        vault: &mut Option<&mut TokenVault>,
        report: &mut Report,
    ) -> Result<(), Error> {
        if let Some(r) = rule {
            let (_, kind, strategy) = &rules.rules[r];
            let strategy = strategy
                .as_ref()
                .unwrap_or_else(|| self.policy().strategy(kind));
            if *strategy == Strategy::Keep {
                escape_leaf(leaf, vault);
                return Ok(());
            }
            let text = match &mut *leaf {
                Value::String(s) => std::mem::take(s),
                other => other.to_string(),
            };
            let mut out = String::new();
            self.replace(kind, &text, strategy, vault.as_deref_mut(), &mut out)?;
            if *strategy != Strategy::Tokenize
                && let Some(escaped) = escaped(vault, &out)
            {
                out = escaped;
            }
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
                escape_leaf(leaf, vault);
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
        } else {
            escape_leaf(leaf, vault);
        }
        Ok(())
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
                // With a vault, token-shaped text is escaped (see
                // `TokenVault`): the key is renamed and shown so.
                let name = escaped(vault, k);
                masked_any |= name.is_some();
                keys.push(KeyMask {
                    shown: name.clone().map(Seg::Key),
                    name,
                    ..KeyMask::default()
                });
                continue;
            }
            if !mask {
                let name = escaped(vault, k);
                masked_any |= name.is_some();
                keys.push(KeyMask {
                    name,
                    shown: Some(Seg::AnyKey),
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
                Seg::AnyKey
            } else {
                Seg::Key(masked.text.clone())
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
                if m.shown != Some(Seg::AnyKey) {
                    m.shown = Some(Seg::Key(unique.clone()));
                }
                *name = unique;
            }
            renamed.insert(name.clone());
        }
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::{Error, Seg, parse, parse_path, render};
    use proptest::prelude::*;

    fn key(k: &str) -> Seg {
        Seg::Key(k.into())
    }

    #[test]
    fn report_paths_quote_every_key_that_is_not_plain() {
        let cases = [
            (
                vec![key("customer"), key("mail_2"), key("e-mail")],
                "$.customer.mail_2['e-mail']",
            ),
            (vec![key("a.b")], "$['a.b']"),
            (vec![key("b~")], "$['b~']"),
            (vec![key("*")], "$['*']"),
            (vec![Seg::AnyKey, key("card")], "$.*.card"),
            (vec![key("[EMAIL]"), Seg::Index(3)], "$['[EMAIL]'][3]"),
            (vec![key("2fa")], "$['2fa']"),
            (vec![key("")], "$['']"),
            (
                vec![key("it's \\ \n\t\u{1}\u{7f}é")],
                "$['it\\'s \\\\ \\n\\t\\u0001\u{7f}é']",
            ),
        ];
        for (segs, text) in cases {
            assert_eq!(render(&segs), text);
            assert_eq!(parse(text), Ok((segs.clone(), false)), "{text}");
            assert_eq!(parse(&format!("{text}~")), Ok((segs, true)), "{text}~");
        }
    }

    #[test]
    fn rule_syntax_parses_as_before() {
        let cases = [
            ("$", vec![]),
            ("customer.email", vec![key("customer"), key("email")]),
            ("$.customer.email", vec![key("customer"), key("email")]),
            (
                "tickets[].requester.phone",
                vec![
                    key("tickets"),
                    Seg::AnyIndex,
                    key("requester"),
                    key("phone"),
                ],
            ),
            ("*.ssn", vec![Seg::AnyKey, key("ssn")]),
            ("notes[0]", vec![key("notes"), Seg::Index(0)]),
            ("a.[0][*]", vec![key("a"), Seg::Index(0), Seg::AnyIndex]),
            ("[2].x", vec![Seg::Index(2), key("x")]),
            (
                "first name.e'mail]",
                vec![key("first name"), key("e'mail]")],
            ),
            ("$x.a~b", vec![key("$x"), key("a~b")]),
            ("$[\"it's\"]", vec![key("it's")]),
            ("$['\\u00e9\\/\\ud83d\\ude00']", vec![key("é/😀")]),
        ];
        for (text, segs) in cases {
            assert_eq!(parse_path(text).ok(), Some(segs), "{text}");
        }
        for bad in [
            "",
            "$.",
            "a..b",
            "a[x]",
            "a[0]b",
            "a[",
            "$['a'",
            "$['a']b",
            "$['a",
            "$['a~",
            "$['\\q']",
            "$['\\ud800']",
            "$['\\u12']",
            "a.b~",
            "$.*~",
        ] {
            assert!(
                matches!(parse_path(bad), Err(Error::InvalidPath { .. })),
                "{bad}"
            );
        }
    }

    fn seg() -> impl Strategy<Value = Seg> {
        prop_oneof![
            any::<String>().prop_map(Seg::Key),
            "[a-zA-Z_*.~'\\[\\]\\\\$-]{0,4}".prop_map(Seg::Key),
            any::<usize>().prop_map(Seg::Index),
            Just(Seg::AnyKey),
            Just(Seg::AnyIndex),
        ]
    }

    proptest! {
        /// A rendered path parses back to its segments, with or without
        /// the key marker, and distinct segments render distinctly.
        #[test]
        fn rendered_paths_parse_back(
            a in proptest::collection::vec(seg(), 1..6),
            b in proptest::collection::vec(seg(), 1..6),
            marked in any::<bool>(),
        ) {
            let mut text = render(&a);
            if marked {
                text.push('~');
            }
            prop_assert_eq!(parse(&text), Ok((a.clone(), marked)));
            prop_assert_eq!(render(&a) == render(&b), a == b);
        }
    }
}
