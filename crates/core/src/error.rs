//! The one error type of `custodia-core`.

use crate::DataCategory;

/// Everything that can go wrong when parsing or building a core value.
///
/// Each variant carries the offending input (shortened to at most
/// [`MAX_ECHO`] characters, so an attacker-sized string never ends up whole in
/// a log line) and says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An identifier was not a UUID.
    #[error("invalid {what} {input:?}: {reason}")]
    InvalidId {
        /// Which identifier: `"tenant id"`, `"subject id"` or `"actor id"`.
        what: &'static str,
        /// The rejected text.
        input: String,
        /// Why the UUID parser refused it.
        reason: String,
    },
    /// A timestamp that is not RFC 3339.
    #[error("invalid timestamp {input:?}: {reason} (expected RFC 3339, e.g. 2026-01-31T09:00:00Z)")]
    InvalidTimestamp {
        /// The rejected input, shortened to [`MAX_ECHO`] characters.
        input: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A data category was not a well-formed dotted path.
    #[error("invalid data category {input:?}: {reason}")]
    InvalidCategory {
        /// The rejected text.
        input: String,
        /// What rule it broke.
        reason: String,
    },
    /// A well-formed data category that the taxonomy in use does not contain.
    #[error("unknown data category {input:?}{}", suggestion.as_ref().map(|s| format!(" (did you mean {s}?)")).unwrap_or_default())]
    UnknownCategory {
        /// The rejected text.
        input: String,
        /// The closest known category, if one is close enough to be a typo.
        suggestion: Option<DataCategory>,
    },
    /// A custom category whose parent is not in the taxonomy.
    #[error("custom data category {category} needs its parent {parent} in the taxonomy first")]
    MissingParent {
        /// The category being added.
        category: DataCategory,
        /// The parent that is missing.
        parent: DataCategory,
    },
    /// A region that is neither a named region nor an ISO 3166-1 alpha-2 code.
    #[error(
        "invalid region {input:?}: expected AU, CA, EU, NZ, UK, US or a two-letter ISO 3166-1 country code"
    )]
    InvalidRegion {
        /// The rejected text.
        input: String,
    },
    /// Not one of the six legal bases of GDPR Art. 6(1).
    #[error(
        "invalid legal basis {input:?}: expected consent, contract, legal_obligation, vital_interests, public_task or legitimate_interests"
    )]
    InvalidLegalBasis {
        /// The rejected text.
        input: String,
    },
    /// Neither `controller` nor `processor`.
    #[error("invalid role {input:?}: expected controller or processor")]
    InvalidRole {
        /// The rejected text.
        input: String,
    },
    /// A purpose name that is not a lower-case slug.
    #[error("invalid purpose {input:?}: {reason}")]
    InvalidPurpose {
        /// The rejected text.
        input: String,
        /// What rule it broke.
        reason: String,
    },
}

/// The longest piece of rejected input an [`Error`] repeats back.
pub const MAX_ECHO: usize = 80;

/// Shortens rejected `input` to [`MAX_ECHO`] characters (on a character
/// boundary, with `…` when cut) for inclusion in an error message, so an error
/// never repeats a whole file or a secret pasted into the wrong field.
pub fn echo(input: &str) -> String {
    match input.char_indices().nth(MAX_ECHO) {
        Some((cut, _)) => format!("{}…", &input[..cut]),
        None => input.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_shortens_long_input_on_char_boundary() {
        let long = "é".repeat(200);
        let short = echo(&long);
        assert_eq!(short.chars().count(), MAX_ECHO + 1);
        assert!(short.ends_with('…'));
        assert_eq!(echo("abc"), "abc");
    }
}
