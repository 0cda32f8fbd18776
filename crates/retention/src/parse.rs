//! Policy files: TOML and JSON, with file:line:column errors.
//!
//! Both formats deserialize into the same raw structures, whose fields are
//! wrapped in [`Spanned`] so validation can say where a bad value is. TOML
//! spans come from the `toml` crate; JSON spans from borrowed
//! [`serde_json::value::RawValue`]s, whose text is a slice of the input, so
//! its offset is the span's start.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::io::Read as _;
use std::ops::Range;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use custodia_core::{DataCategory, Region, Shared, SubjectId, Taxonomy, TenantId};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};

use crate::error::{Error, Location, Problem};
use crate::model::{
    BackupSchedule, Disposition, HoldScope, Keep, LegalHold, Rule, Selector, Trigger,
};
use crate::policy::{check_backups, check_hold, check_rule, rule_what};
use crate::{POLICY_VERSION, Period, RetentionPolicy};
use custodia_core::{echo, echo_json_error, echo_quoted};

/// The largest policy file accepted, in bytes.
pub const MAX_POLICY_BYTES: usize = 4 << 20;

/// A policy file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// TOML (the usual one).
    Toml,
    /// JSON, same keys and shape.
    Json,
}

#[derive(Clone, Copy)]
enum Mode {
    Plain,
    Toml,
    Json { base: usize, len: usize },
}

thread_local! {
    static MODE: Cell<Mode> = const { Cell::new(Mode::Plain) };
    /// The first (innermost) JSON error inside a spanned value: offset and message.
    static JSON_ERROR: RefCell<Option<(usize, String)>> = const { RefCell::new(None) };
}

/// Restores the previous mode when parsing ends, even by unwinding.
struct ModeGuard(Mode);

impl ModeGuard {
    fn set(mode: Mode) -> Self {
        JSON_ERROR.with(|e| e.borrow_mut().take());
        Self(MODE.with(|m| m.replace(mode)))
    }
}

impl Drop for ModeGuard {
    fn drop(&mut self) {
        MODE.with(|m| m.set(self.0));
    }
}

/// A value and where it was in the source.
#[derive(Debug, Clone)]
pub(crate) struct Spanned<T> {
    value: T,
    span: Option<Range<usize>>,
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match MODE.with(Cell::get) {
            Mode::Plain => Ok(Self {
                value: T::deserialize(deserializer)?,
                span: None,
            }),
            Mode::Toml => {
                let spanned = toml::Spanned::<T>::deserialize(deserializer)?;
                let span = spanned.span();
                Ok(Self {
                    value: spanned.into_inner(),
                    span: Some(span),
                })
            }
            Mode::Json { base, len } => {
                let raw = <&'de serde_json::value::RawValue>::deserialize(deserializer)?;
                let text = raw.get();
                let start = (text.as_ptr() as usize).wrapping_sub(base);
                let span = (start <= len).then(|| start..start + text.len());
                match serde_json::from_str::<T>(text) {
                    Ok(value) => Ok(Self { value, span }),
                    Err(e) => {
                        let message = e.to_string();
                        let suffix = format!(" at line {} column {}", e.line(), e.column());
                        let message = message.strip_suffix(&suffix).unwrap_or(&message).to_owned();
                        let inner = offset_of(text, e.line(), e.column());
                        JSON_ERROR.with(|slot| {
                            let mut slot = slot.borrow_mut();
                            if slot.is_none() {
                                *slot = Some((start.saturating_add(inner), message.clone()));
                            }
                        });
                        Err(D::Error::custom(message))
                    }
                }
            }
        }
    }
}

/// The byte offset of serde_json's 1-based line and column in `text`.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    line_start
        .saturating_add(column.saturating_sub(1))
        .min(text.len())
}

/// A string or a list of strings.
#[derive(Debug, Clone)]
struct OneOrMany(Vec<String>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = OneOrMany;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or a list of strings")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![v.to_owned()]))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<OneOrMany, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    items.push(item);
                }
                Ok(OneOrMany(items))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    version: Spanned<i64>,
    #[serde(default)]
    events: Vec<Spanned<String>>,
    #[serde(default)]
    categories: Vec<Spanned<String>>,
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
    #[serde(default)]
    hold: Vec<Spanned<RawHold>>,
    #[serde(default)]
    backups: Option<Spanned<RawBackups>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: Spanned<String>,
    applies_to: Spanned<RawSelector>,
    trigger: Spanned<String>,
    #[serde(default)]
    retain: Option<Spanned<String>>,
    #[serde(default)]
    delete_after: Option<Spanned<String>>,
    then: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSelector {
    #[serde(default)]
    category: Option<Spanned<OneOrMany>>,
    #[serde(default)]
    tenant: Option<Spanned<OneOrMany>>,
    #[serde(default)]
    region: Option<Spanned<OneOrMany>>,
    #[serde(default)]
    labels: Option<Spanned<BTreeMap<String, String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHold {
    id: Spanned<String>,
    reason: Spanned<String>,
    applies_to: Spanned<RawHoldScope>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoldScope {
    #[serde(default)]
    tenant: Option<Spanned<OneOrMany>>,
    #[serde(default)]
    subject: Option<Spanned<OneOrMany>>,
    #[serde(default)]
    category: Option<Spanned<OneOrMany>>,
    #[serde(default)]
    records: Option<Spanned<OneOrMany>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBackups {
    every: Spanned<String>,
    keep: Spanned<String>,
    #[serde(default)]
    anchor: Option<Spanned<String>>,
}

/// Turns spans into locations for one source text.
struct Source<'a> {
    file: Arc<str>,
    text: &'a str,
}

impl Source<'_> {
    fn at(&self, span: &Option<Range<usize>>) -> Option<Location> {
        Some(Location::at(
            self.file.clone(),
            self.text,
            span.as_ref().map_or(0, |s| s.start),
        ))
    }

    fn fail<T>(&self, span: &Option<Range<usize>>, problem: Problem) -> Result<T, Error> {
        Err(Error::Policy {
            location: self.at(span),
            problem,
        })
    }
}

impl RetentionPolicy {
    /// Parses and validates a TOML policy; `file` names it in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<Self, Error> {
        Self::parse(text, file, Format::Toml)
    }

    /// Parses and validates a JSON policy; `file` names it in errors.
    ///
    /// The same keys and shape as TOML, with `rule` and `hold` as arrays:
    ///
    /// ```
    /// # use custodia_retention::RetentionPolicy;
    /// let policy = RetentionPolicy::from_json(r#"{
    ///   "version": 1,
    ///   "rule": [{ "name": "app-logs", "applies_to": { "category": "system.operations.log" },
    ///              "trigger": "created", "retain": "P7D", "then": "delete" }],
    ///   "hold": [{ "id": "case-2026-17", "reason": "litigation",
    ///              "applies_to": { "records": ["t-1", "t-2"] } }],
    ///   "backups": { "every": "1d", "keep": "30d" }
    /// }"#, "policy.json")?;
    /// assert_eq!(policy.rules()[0].name.as_ref(), "app-logs");
    ///
    /// let typo = RetentionPolicy::from_json("{\n  \"version\": 1,\n  \"rules\": []\n}", "policy.json").unwrap_err();
    /// assert!(typo.to_string().starts_with("policy.json:3:"), "{typo}");
    /// # Ok::<(), custodia_retention::Error>(())
    /// ```
    pub fn from_json(text: &str, file: &str) -> Result<Self, Error> {
        Self::parse(text, file, Format::Json)
    }

    /// Reads a policy file: JSON if its name ends in `.json`, TOML otherwise.
    ///
    /// A file over [`MAX_POLICY_BYTES`] is [`Error::TooLarge`]; reading
    /// stops one byte past the limit, so a path whose size is not known in
    /// advance (a pipe) is never read further.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let io = |e: std::io::Error| Error::Io {
            path: path.to_path_buf(),
            source: e.into(),
        };
        let size = std::fs::metadata(path).map_err(io)?.len();
        if size > MAX_POLICY_BYTES as u64 {
            return Err(Error::TooLarge {
                path: path.to_path_buf(),
                size,
            });
        }
        // The size above is only what the file system reports (0 for a
        // pipe): the read itself is bounded too.
        let limit = MAX_POLICY_BYTES as u64;
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .map_err(io)?
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() > MAX_POLICY_BYTES {
            return Err(Error::TooLarge {
                path: path.to_path_buf(),
                size: size.max(bytes.len() as u64),
            });
        }
        let text = String::from_utf8(bytes).map_err(|_| {
            io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            ))
        })?;
        let format = match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("json") => Format::Json,
            _ => Format::Toml,
        };
        Self::parse(&text, &path.display().to_string(), format)
    }

    /// Parses and validates a policy in `format`; `file` names it in errors.
    pub fn parse(text: &str, file: &str, format: Format) -> Result<Self, Error> {
        let source = Source {
            file: Arc::from(file),
            text,
        };
        if text.len() > MAX_POLICY_BYTES {
            return source.fail(
                &None,
                Problem::Syntax {
                    message: format!("larger than the {MAX_POLICY_BYTES}-byte limit for a policy"),
                    source: None,
                },
            );
        }
        let raw: RawPolicy = match format {
            Format::Toml => {
                let _guard = ModeGuard::set(Mode::Toml);
                toml::from_str(text).or_else(|e: toml::de::Error| {
                    let span = e.span();
                    // toml's Display shows the offending line of the file;
                    // the source is rebuilt from the shortened message alone.
                    let message = echo_quoted(e.message().trim());
                    let parser: toml::de::Error = serde::de::Error::custom(&message);
                    source.fail(&span, syntax(message, parser))
                })?
            }
            Format::Json => {
                let _guard = ModeGuard::set(Mode::Json {
                    base: text.as_ptr() as usize,
                    len: text.len(),
                });
                match serde_json::from_str(text) {
                    Ok(raw) => raw,
                    Err(e) => {
                        if let Some((offset, message)) =
                            JSON_ERROR.with(|slot| slot.borrow_mut().take())
                        {
                            let (message, e) = (echo_quoted(&message), echo_json_error(e));
                            return source.fail(&Some(offset..offset), syntax(message, e));
                        }
                        let message = e.to_string();
                        let suffix = format!(" at line {} column {}", e.line(), e.column());
                        let message = message.strip_suffix(&suffix).unwrap_or(&message);
                        let message = echo_quoted(message);
                        let offset = offset_of(text, e.line(), e.column());
                        let e = echo_json_error(e);
                        return source.fail(&Some(offset..offset), syntax(message, e));
                    }
                }
            }
        };
        build(&source, raw)
    }
}

/// A [`Problem::Syntax`] with the parser's error as its source; both already
/// shortened (`echo_quoted`, `echo_json_error`), since a parser quotes a
/// mistyped value whole.
fn syntax(message: String, parser: impl std::error::Error + Send + Sync + 'static) -> Problem {
    let parser: Box<dyn std::error::Error + Send + Sync> = Box::new(parser);
    Problem::Syntax {
        message,
        source: Some(Shared::from_box(parser)),
    }
}

fn build(source: &Source<'_>, raw: RawPolicy) -> Result<RetentionPolicy, Error> {
    if raw.version.value != i64::from(POLICY_VERSION) {
        return source.fail(
            &raw.version.span,
            Problem::UnsupportedVersion(raw.version.value),
        );
    }

    let mut known_events: Vec<String> = Trigger::BUILTIN.iter().map(|s| (*s).to_owned()).collect();
    for event in &raw.events {
        if !is_slug(&event.value) {
            return source.fail(
                &event.span,
                Problem::Invalid {
                    what: format!("event {:?}", echo(&event.value)),
                    reason:
                        "event names are lower-case letters, digits and _, starting with a letter"
                            .into(),
                    source: None,
                },
            );
        }
        known_events.push(event.value.clone());
    }

    let mut taxonomy = Taxonomy::builtin();
    for custom in &raw.categories {
        let added = DataCategory::from_str(&custom.value)
            .and_then(|c| taxonomy.add_custom(c, "declared in the policy"));
        if let Err(e) = added {
            return source.fail(
                &custom.span,
                Problem::Invalid {
                    what: "categories".into(),
                    reason: e.to_string(),
                    source: Some(Shared::new(e)),
                },
            );
        }
    }

    let mut rules = Vec::with_capacity(raw.rule.len());
    let mut names: HashMap<String, usize> = HashMap::new();
    for raw_rule in &raw.rule {
        let rule = build_rule(source, &raw_rule.value, &known_events, &taxonomy)?;
        let line = source.at(&raw_rule.value.name.span).map_or(0, |l| l.line);
        if let Some(first_line) = names.insert(rule.name.to_string(), line) {
            return source.fail(
                &raw_rule.value.name.span,
                Problem::DuplicateRule {
                    name: rule.name.to_string(),
                    first_line,
                },
            );
        }
        if let Err(problem) = check_rule(&rule) {
            return source.fail(&raw_rule.value.name.span, problem);
        }
        rules.push(rule);
    }

    let mut holds = Vec::with_capacity(raw.hold.len());
    let mut ids: HashMap<String, usize> = HashMap::new();
    for raw_hold in &raw.hold {
        let hold = build_hold(source, &raw_hold.value, &taxonomy)?;
        let line = source.at(&raw_hold.value.id.span).map_or(0, |l| l.line);
        if let Some(first_line) = ids.insert(hold.id.to_string(), line) {
            return source.fail(
                &raw_hold.value.id.span,
                Problem::DuplicateHold {
                    id: hold.id.to_string(),
                    first_line,
                },
            );
        }
        if let Err(problem) = check_hold(&hold) {
            let span = if hold.applies_to.is_empty() {
                &raw_hold.value.applies_to.span
            } else {
                &raw_hold.value.id.span
            };
            return source.fail(span, problem);
        }
        holds.push(hold);
    }

    let backups = match &raw.backups {
        None => None,
        Some(b) => {
            let b = &b.value;
            let every = duration(source, &b.every, "backups.every")?;
            let keep = duration(source, &b.keep, "backups.keep")?;
            let anchor = match &b.anchor {
                None => None,
                Some(a) => Some(custodia_core::parse_timestamp(&a.value).or_else(|e| {
                    source.fail(
                        &a.span,
                        Problem::Invalid {
                            what: "backups.anchor".into(),
                            reason: e.to_string(),
                            source: Some(Shared::new(e)),
                        },
                    )
                })?),
            };
            let schedule = BackupSchedule {
                every,
                keep,
                anchor,
            };
            if let Err(problem) = check_backups(&schedule) {
                return source.fail(&b.every.span, problem);
            }
            Some(schedule)
        }
    };
    Ok(RetentionPolicy::compile(rules, holds, backups))
}

fn duration(source: &Source<'_>, text: &Spanned<String>, field: &str) -> Result<Period, Error> {
    text.value.parse::<Period>().or_else(|e| {
        let reason = match e {
            Error::Duration { reason, .. } => reason,
            other => other.to_string(),
        };
        source.fail(
            &text.span,
            Problem::InvalidDuration {
                field: field.to_owned(),
                input: echo(&text.value),
                reason,
            },
        )
    })
}

fn build_rule(
    source: &Source<'_>,
    raw: &RawRule,
    known_events: &[String],
    taxonomy: &Taxonomy,
) -> Result<Rule, Error> {
    let name = raw.name.value.as_str();
    let what = rule_what(name);

    let trigger_text = raw.trigger.value.as_str();
    if !known_events.iter().any(|e| e == trigger_text) {
        return source.fail(
            &raw.trigger.span,
            Problem::UnknownTrigger {
                rule: echo(name),
                trigger: echo(trigger_text),
                suggestion: nearest(trigger_text, known_events),
            },
        );
    }
    let trigger = Trigger::from_name(trigger_text);

    let keep = match (&raw.retain, &raw.delete_after) {
        (Some(retain), None) => Keep::Retain(duration(source, retain, &format!("{what} retain"))?),
        (None, Some(after)) => {
            Keep::DeleteAfter(duration(source, after, &format!("{what} delete_after"))?)
        }
        (Some(_), Some(after)) => {
            return source.fail(
                &after.span,
                Problem::Invalid {
                    what,
                    reason: "give either retain or delete_after, not both".into(),
                    source: None,
                },
            );
        }
        (None, None) => {
            return source.fail(
                &raw.name.span,
                Problem::Invalid {
                    what,
                    reason: "needs retain = \"<period>\" (or delete_after)".into(),
                    source: None,
                },
            );
        }
    };

    let Some(then) = Disposition::parse(&raw.then.value) else {
        return source.fail(
            &raw.then.span,
            Problem::UnknownAction {
                rule: echo(name),
                action: echo(&raw.then.value),
            },
        );
    };

    let selector = &raw.applies_to.value;
    let mut applies_to = Selector::default();
    if let Some(categories) = &selector.category {
        applies_to.categories = list(source, &what, "category", categories, |s| {
            taxonomy.parse(s).map_err(|e| e.to_string())
        })?;
    }
    if let Some(tenants) = &selector.tenant {
        applies_to.tenants = list(source, &what, "tenant", tenants, |s| {
            TenantId::from_str(s).map_err(|e| e.to_string())
        })?;
    }
    if let Some(regions) = &selector.region {
        applies_to.regions = list(source, &what, "region", regions, |s| {
            Region::from_str(s).map_err(|e| e.to_string())
        })?;
    }
    if let Some(labels) = &selector.labels {
        applies_to.labels = labels.value.clone();
    }
    Ok(Rule {
        name: Arc::from(name),
        applies_to,
        trigger,
        keep,
        then,
    })
}

fn build_hold(source: &Source<'_>, raw: &RawHold, taxonomy: &Taxonomy) -> Result<LegalHold, Error> {
    let what = format!("hold {:?}", echo(&raw.id.value));
    let scope = &raw.applies_to.value;
    let mut applies_to = HoldScope::default();
    if let Some(tenants) = &scope.tenant {
        applies_to.tenants = list(source, &what, "tenant", tenants, |s| {
            TenantId::from_str(s).map_err(|e| e.to_string())
        })?;
    }
    if let Some(subjects) = &scope.subject {
        applies_to.subjects = list(source, &what, "subject", subjects, |s| {
            SubjectId::from_str(s).map_err(|e| e.to_string())
        })?;
    }
    if let Some(categories) = &scope.category {
        applies_to.categories = list(source, &what, "category", categories, |s| {
            taxonomy.parse(s).map_err(|e| e.to_string())
        })?;
    }
    if let Some(records) = &scope.records {
        applies_to.records = list(source, &what, "records", records, |s| {
            if s.is_empty() {
                Err("an empty record id".to_owned())
            } else {
                Ok(s.to_owned())
            }
        })?;
    }
    Ok(LegalHold {
        id: Arc::from(raw.id.value.as_str()),
        reason: raw.reason.value.clone(),
        applies_to,
    })
}

/// Parses a one-or-many selector value; an empty list or a value that cannot
/// be parsed means the rule or hold can never match.
fn list<T>(
    source: &Source<'_>,
    what: &str,
    field: &str,
    values: &Spanned<OneOrMany>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, Error> {
    if values.value.0.is_empty() {
        return source.fail(
            &values.span,
            Problem::NeverMatches {
                what: what.to_owned(),
                reason: format!("{field} = [] selects nothing; leave {field} out to select all"),
            },
        );
    }
    values
        .value
        .0
        .iter()
        .map(|s| {
            parse(s).or_else(|reason| {
                source.fail(
                    &values.span,
                    Problem::NeverMatches {
                        what: what.to_owned(),
                        reason: format!("{field}: {reason}"),
                    },
                )
            })
        })
        .collect()
}

fn is_slug(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && s.len() <= 64
}

fn nearest(input: &str, known: &[String]) -> Option<String> {
    custodia_core::suggest(input, known.iter().map(String::as_str)).map(str::to_owned)
}
