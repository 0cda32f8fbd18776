//! The one error type of `custodia-mask`.

/// Everything that can go wrong when configuring or running masking.
///
/// Variants name the offending input (shortened) and what was expected;
/// none of them carries a detected value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A kind name was not 1–48 characters of `A-Z0-9_` starting with a letter.
    #[error(
        "invalid kind {input:?}: expected 1-48 characters of A-Z, 0-9 and _, starting with a letter"
    )]
    InvalidKind {
        /// The rejected name (at most 64 characters).
        input: String,
    },
    /// A region list held an unknown region.
    #[error(
        "unknown region {input:?}: expected a comma-separated list of us, uk (or gb), au, ca, nz, eu, de (Germany alone), all, none"
    )]
    InvalidRegion {
        /// The rejected region.
        input: String,
    },
    /// A custom recognizer's pattern did not compile.
    #[error("custom recognizer {name:?}: invalid pattern: {source}")]
    InvalidPattern {
        /// The recognizer's name.
        name: String,
        /// The regex compiler's error.
        source: regex::Error,
    },
    /// A score was not within 0.0..=1.0.
    #[error("{what} {value} is outside 0.0..=1.0")]
    InvalidScore {
        /// Which score.
        what: String,
        /// The value given.
        value: f32,
    },
    /// A known-entity list could not be compiled.
    #[error("known entities: {source}")]
    KnownEntities {
        /// The automaton builder's error.
        source: aho_corasick::BuildError,
    },
    /// A strategy name or parameter was not understood.
    #[error("invalid strategy {input:?}: {reason}")]
    InvalidStrategy {
        /// The rejected text.
        input: String,
        /// Why.
        reason: String,
    },
    /// A JSON field path rule was malformed.
    #[error("invalid field path {path:?}: {reason}")]
    InvalidPath {
        /// The rejected path.
        path: String,
        /// Why.
        reason: String,
    },
    /// A pseudonym or encryption key was unusable.
    #[error("invalid key: {reason}")]
    InvalidKey {
        /// Why (never the key).
        reason: String,
    },
    /// A configuration document that parses but is not acceptable.
    #[error("invalid configuration at {location}: {reason}")]
    InvalidConfig {
        /// Which field.
        location: String,
        /// What was wrong.
        reason: String,
    },
    /// A JSON document (a detector configuration) that does not parse; the
    /// parser's error, with its line and column, is the source.
    #[error("invalid {what}: {source}")]
    Json {
        /// Which document: `"configuration"`.
        what: &'static str,
        /// The JSON parser's error.
        source: serde_json::Error,
    },
    /// Reading or writing a stream failed.
    #[error("stream {op} failed at byte {offset}: {source}")]
    Io {
        /// `"read"` or `"write"`.
        op: &'static str,
        /// Bytes of input consumed before the failure.
        offset: u64,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Encrypting a value failed (feature `crypt`).
    #[cfg(feature = "crypt")]
    #[error("encrypting a {kind} value failed: {source}")]
    Encrypt {
        /// The kind of the value.
        kind: String,
        /// custodia-crypt's error.
        source: custodia_crypt::Error,
    },
}
