//! The one error type of `custodia-retention`.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use custodia_core::Shared;

/// Where in a policy file a problem is: file name, 1-based line and column
/// (the column counts characters, not bytes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    /// The file name as given to the parser (`"<policy>"` when there is none).
    pub file: Arc<str>,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl Location {
    /// The location of byte `offset` in `text` (clamped to the text).
    pub fn at(file: Arc<str>, text: &str, offset: usize) -> Self {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Self { file, line, column }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// What is wrong with a policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// Not valid TOML or JSON, a missing or unknown key, or a value of the wrong type.
    #[error("{message}")]
    Syntax {
        /// What is wrong, without the location (that is the error's
        /// [`Location`]).
        message: String,
        /// The parser's error (`toml::de::Error` or `serde_json::Error`;
        /// [`Shared::get`] gives it for downcasting), when a parser reported
        /// the problem. Like `message`, it quotes at most
        /// [`MAX_ECHO`](custodia_core::MAX_ECHO) characters of any value: a
        /// TOML error is rebuilt from the shortened message (without toml's
        /// excerpt of the file), a JSON one passed through
        /// [`echo_json_error`](custodia_core::echo_json_error).
        #[source]
        source: Option<Shared<dyn std::error::Error + Send + Sync>>,
    },
    /// A `version` this build does not read.
    #[error("unsupported policy version {0}; this build reads version {v}", v = crate::POLICY_VERSION)]
    UnsupportedVersion(i64),
    /// A trigger that is neither built in nor declared in `events`.
    #[error(
        "rule {rule:?}: unknown trigger {trigger:?}{}; built-in triggers are created, closed, last_activity, account_terminated, and custom events must be declared in `events`",
        suggest(suggestion)
    )]
    UnknownTrigger {
        /// The rule.
        rule: String,
        /// The trigger as written.
        trigger: String,
        /// The nearest known trigger, if it looks like a typo.
        suggestion: Option<String>,
    },
    /// A [`Trigger::Custom`](crate::Trigger::Custom) with the name of a
    /// built-in trigger (`Trigger::Custom("closed")`), in a policy built in
    /// code. A policy file cannot say this (its `closed` is
    /// [`Trigger::Closed`](crate::Trigger::Closed)), and evaluation would
    /// confuse the two; use [`Trigger::from_name`](crate::Trigger::from_name)
    /// or the built-in variant.
    #[error(
        "rule {rule:?}: custom trigger {trigger:?} has the name of a built-in trigger; use the built-in trigger (Trigger::from_name gives it)"
    )]
    CustomTriggerIsBuiltin {
        /// The rule.
        rule: String,
        /// The trigger's name.
        trigger: String,
    },
    /// A `then` that is not one of the dispositions.
    #[error(
        "rule {rule:?}: unknown action {action:?}; expected delete, anonymize, archive or review"
    )]
    UnknownAction {
        /// The rule.
        rule: String,
        /// The action as written.
        action: String,
    },
    /// A duration that is negative, unparsable or too long.
    #[error("{field}: invalid duration {input:?}: {reason}")]
    InvalidDuration {
        /// Which field (`rule "x" retain`, `backups.keep`).
        field: String,
        /// The text as written.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A rule or hold whose scope can select no record.
    #[error("{what} can never match: {reason}")]
    NeverMatches {
        /// `rule "name"` or `hold "id"`.
        what: String,
        /// Why.
        reason: String,
    },
    /// Two rules with one name.
    #[error("duplicate rule name {name:?} (first defined on line {first_line})")]
    DuplicateRule {
        /// The name.
        name: String,
        /// Line of the first definition (0 when the policy was not parsed from text).
        first_line: usize,
    },
    /// Two holds with one id.
    #[error("duplicate hold id {id:?} (first defined on line {first_line})")]
    DuplicateHold {
        /// The id.
        id: String,
        /// Line of the first definition (0 when the policy was not parsed from text).
        first_line: usize,
    },
    /// A hold whose `applies_to` names nothing: it would freeze every record.
    #[error(
        "hold {id:?} has no scope: give applies_to at least one of tenant, subject, category, records"
    )]
    HoldWithoutScope {
        /// The hold.
        id: String,
    },
    /// Any other value that is not acceptable where it is.
    #[error("{what}: {reason}")]
    Invalid {
        /// The field or item.
        what: String,
        /// What is wrong with it.
        reason: String,
        /// The error of `custodia-core` that refused the value (a category,
        /// a timestamp), when there is one.
        #[source]
        source: Option<Shared<custodia_core::Error>>,
    },
}

fn suggest(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map(|s| format!(" (did you mean {s}?)"))
        .unwrap_or_default()
}

/// Everything that can go wrong in `custodia-retention`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A policy file or a policy built in code is not acceptable.
    ///
    /// `location` is set for policies parsed from text.
    #[error("{}{problem}", location.as_ref().map(|l| format!("{l}: ")).unwrap_or_default())]
    Policy {
        /// Where, for parsed policies.
        location: Option<Location>,
        /// What is wrong (the error's `source()`).
        #[source]
        problem: Problem,
    },
    /// A duration string that does not parse.
    #[error("invalid duration {input:?}: {reason}")]
    Duration {
        /// The text, shortened to 80 characters.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A record that does not parse (see [`RetentionRecord::from_json`](crate::RetentionRecord::from_json)).
    ///
    /// The parser's error is the source, passed through
    /// [`echo_json_error`](custodia_core::echo_json_error) by
    /// [`RetentionRecord::from_json`](crate::RetentionRecord::from_json) so
    /// that neither it nor the message quotes more than
    /// [`MAX_ECHO`](custodia_core::MAX_ECHO) characters of any value in the
    /// record (records carry personal data); the message keeps the parser's
    /// field, expectation and position.
    #[error("invalid record: {}", custodia_core::echo_quoted(&.0.to_string()))]
    Record(#[source] Shared<serde_json::Error>),
    /// A sweep was fed records out of ascending id order, so its cursor
    /// could not resume it correctly.
    #[error(
        "sweep input out of order: record {next:?} came after {previous:?}; sweeps need strictly ascending ids"
    )]
    SweepOrder {
        /// The id before.
        previous: String,
        /// The offending id.
        next: String,
    },
    /// Reading a policy file failed.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The operating system's error.
        source: Shared<std::io::Error>,
    },
    /// A policy file larger than [`MAX_POLICY_BYTES`](crate::MAX_POLICY_BYTES).
    #[error("cannot read {}: {size} bytes is more than the {max}-byte limit for a policy", path.display(), max = crate::MAX_POLICY_BYTES)]
    TooLarge {
        /// The path.
        path: PathBuf,
        /// The file's size in bytes (for a stream such as a pipe, the
        /// bytes read before reading stopped: more than the limit).
        size: u64,
    },
}

impl Error {
    /// The policy problem, if this is a policy error.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Error::Policy { problem, .. } => Some(problem),
            _ => None,
        }
    }

    /// The location in the policy file, if known.
    pub fn location(&self) -> Option<&Location> {
        match self {
            Error::Policy { location, .. } => location.as_ref(),
            _ => None,
        }
    }
}
