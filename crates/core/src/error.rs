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
    #[error("invalid {what} {input:?}: {source}")]
    InvalidId {
        /// Which identifier: `"tenant id"`, `"subject id"` or `"actor id"`.
        what: &'static str,
        /// The rejected text.
        input: String,
        /// Why the UUID parser refused it.
        source: uuid::Error,
    },
    /// A timestamp that is not RFC 3339.
    #[error("invalid timestamp {input:?}: {source} (expected RFC 3339, e.g. 2026-01-31T09:00:00Z)")]
    InvalidTimestamp {
        /// The rejected input, shortened to [`MAX_ECHO`] characters.
        input: String,
        /// Why chrono's parser rejected it.
        source: chrono::ParseError,
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

/// Shortens every quoted piece of input inside a parser's `message` to
/// [`MAX_ECHO`] characters, keeping the rest of the message (the line and
/// column, the field name, what was expected) as it was.
///
/// Serde's messages quote the offending value whole (`invalid type: string
/// "…", expected u32`, ``unknown field `…` ``), so a person's details in a
/// field of the wrong type would otherwise come back in full; every decoder of
/// records, events, documents and policies passes its parser's message through
/// here (or [`echo_json_error`]) before it becomes an error.
///
/// A `"…"` span is read as Rust/serde `Debug` escaping (`\"`, `\u{…}`), each
/// escape counting as one character; a `` `…` `` span as raw text (an unknown
/// field or variant name runs to serde's closing `` `, expected `` or
/// `` `, there are no ``, the last one on its line). An unterminated `"` shortens the rest of the message.
/// Applying it twice gives the same text.
///
/// ```
/// use custodia_core::{MAX_ECHO, echo_quoted};
///
/// let details = "Alice Ng, born 1984-03-02, lives at 14 Harbour St Wellington; diagnosis: depression, on sertraline";
/// let message = format!("invalid type: string {details:?}, expected struct Target at line 1 column 200");
/// let shown = echo_quoted(&message);
/// assert!(!shown.contains("sertraline"));
/// assert!(shown.starts_with("invalid type: string \"Alice Ng"));
/// assert!(shown.ends_with("…\", expected struct Target at line 1 column 200"));
/// ```
pub fn echo_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(4 * MAX_ECHO + 64));
    let mut rest = message;
    while let Some(at) = rest.find(['"', '`']) {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        // Both quote characters are one byte.
        let body = &from[1..];
        if from.starts_with('"') {
            out.push('"');
            match debug_string_end(body) {
                Some(end) => {
                    out.push_str(&shorten_escaped(&body[..end]));
                    out.push('"');
                    rest = &body[end + 1..];
                }
                None => {
                    // Unterminated: all that follows may be input.
                    out.push_str(&shorten_escaped(body));
                    rest = "";
                }
            }
        } else {
            out.push('`');
            // serde writes unknown field and variant names raw, so a name
            // may itself hold a backtick: it ends where serde's own text
            // resumes, the last such place on the line (a chain of messages
            // has one per line), else the first.
            let named = out.ends_with("unknown field `") || out.ends_with("unknown variant `");
            let line = body.split('\n').next().unwrap_or(body);
            let end = named
                .then(|| {
                    let closings = ["`, expected ", "`, there are no "];
                    closings
                        .iter()
                        .filter_map(|closing| line.rfind(closing))
                        .max()
                        .or_else(|| closings.iter().filter_map(|c| body.find(c)).min())
                })
                .flatten()
                .or_else(|| body.find('`'));
            match end {
                Some(end) => {
                    out.push_str(&echo(&body[..end]));
                    out.push('`');
                    rest = &body[end + 1..];
                }
                // A lone backtick (a `character` that is one) is text.
                None => rest = body,
            }
        }
    }
    out.push_str(rest);
    out
}

/// The byte index of the `"` closing a `Debug`-escaped string body.
fn debug_string_end(body: &str) -> Option<usize> {
    let bytes = body.as_bytes();
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        match b {
            b'\\' => at += 2,
            b'"' => return Some(at),
            _ => at += 1,
        }
    }
    None
}

/// [`echo`] for a `Debug`-escaped string body: an escape (`\n`, `\"`,
/// `\u{1f600}`) counts as one character and is never cut in half.
fn shorten_escaped(body: &str) -> String {
    let mut chars = body.char_indices().peekable();
    let mut units = 0;
    while let Some((at, c)) = chars.next() {
        if units == MAX_ECHO {
            return format!("{}…", &body[..at]);
        }
        units += 1;
        if c == '\\'
            && chars.next().is_some_and(|(_, e)| e == 'u')
            && chars.peek().is_some_and(|&(_, b)| b == '{')
        {
            // `{` and at most six hex digits, then `}`.
            for _ in 0..8 {
                match chars.next() {
                    Some((_, '}')) | None => break,
                    Some(_) => {}
                }
            }
        }
    }
    body.to_owned()
}

/// A `serde_json` error whose message no longer carries input whole: a data
/// error (a value of the wrong type, an unknown field or variant, a custom
/// message) becomes a new error of the same category whose message is
/// [`echo_quoted`] of the original's, location included; syntax, end-of-input
/// and I/O errors are returned as they are, since their messages are fixed
/// text and a position.
///
/// Decoders keep the sanitised error as their error's `source()`, so an error
/// chain printed whole (`{:#}`, a tracing error chain) shows no more than the
/// message does. The price: the new error's `line()` and `column()` are 0 (the
/// position is in its message).
///
/// ```
/// let details = "Alice Ng, born 1984-03-02, lives at 14 Harbour St Wellington; diagnosis: depression, on sertraline";
/// let parsed = serde_json::from_str::<u32>(&format!("{details:?}"));
/// let error = custodia_core::echo_json_error(parsed.unwrap_err());
/// assert!(error.is_data());
/// assert!(!error.to_string().contains("sertraline"));
/// assert!(error.to_string().ends_with("expected u32 at line 1 column 100"));
/// ```
pub fn echo_json_error(error: serde_json::Error) -> serde_json::Error {
    if error.is_data() {
        serde::de::Error::custom(echo_quoted(&error.to_string()))
    } else {
        error
    }
}

/// How a database driver's error reads in Custodia's messages: the server's
/// message and SQLSTATE when the server sent them (`relation "t" does not exist
/// (SQLSTATE 42P01)`), else the driver's own text. The drivers' `Display`
/// alone says only "db error" (postgres) or omits the SQLSTATE (sqlx), and
/// every crate with a PostgreSQL store renders its errors through this one
/// function so they read alike.
///
/// ```
/// use custodia_core::database_detail;
///
/// let server = Some(("relation \"t\" does not exist", Some("42P01")));
/// assert_eq!(
///     database_detail(server, &"db error"),
///     "relation \"t\" does not exist (SQLSTATE 42P01)"
/// );
/// assert_eq!(database_detail(None, &"connection refused"), "connection refused");
/// ```
pub fn database_detail(
    server: Option<(&str, Option<&str>)>,
    driver: &dyn std::fmt::Display,
) -> String {
    match server {
        Some((message, Some(code))) => format!("{message} (SQLSTATE {code})"),
        Some((message, None)) => message.to_owned(),
        None => driver.to_string(),
    }
}

/// [`database_detail`] for the synchronous `postgres` driver (feature
/// `postgres`).
#[cfg(feature = "postgres")]
pub fn postgres_detail(error: &postgres::Error) -> String {
    let server = error
        .as_db_error()
        .map(|db| (db.message(), Some(db.code().code())));
    database_detail(server, error)
}

/// [`database_detail`] for sqlx (feature `sqlx`).
#[cfg(feature = "sqlx")]
pub fn sqlx_detail(error: &sqlx_core::Error) -> String {
    let db = error.as_database_error();
    let code = db.and_then(|db| db.code());
    database_detail(db.map(|db| (db.message(), code.as_deref())), error)
}

/// The typed source of an error that must stay `Clone` and `PartialEq`: an
/// `io::Error` or a parser's error is neither, so it is shared behind an
/// [`Arc`](std::sync::Arc) and compared by its message.
///
/// It derefs to the underlying error, displays as it does and reports that
/// error's own source.
///
/// ```
/// use custodia_core::Shared;
///
/// let a = Shared::new(std::io::Error::from(std::io::ErrorKind::NotFound));
/// let b = a.clone();
/// assert_eq!(a, b);
/// assert_eq!(a.kind(), std::io::ErrorKind::NotFound);
/// ```
///
/// A boxed error of any type (a host's error behind a trait object) is
/// shared the same way, keeping its type for downcasting:
///
/// ```
/// use custodia_core::Shared;
///
/// let boxed: Box<dyn std::error::Error + Send + Sync> = "the ticket store is down".into();
/// let shared = Shared::from_box(boxed);
/// assert_eq!(shared.to_string(), "the ticket store is down");
/// ```
#[derive(Debug)]
pub struct Shared<E: ?Sized>(std::sync::Arc<E>);

impl<E> Shared<E> {
    /// Wraps an error.
    pub fn new(error: E) -> Self {
        Shared(std::sync::Arc::new(error))
    }
}

impl<E: ?Sized> Shared<E> {
    /// Wraps a boxed error, such as a `Box<dyn Error + Send + Sync>`.
    pub fn from_box(error: Box<E>) -> Self {
        Shared(std::sync::Arc::from(error))
    }

    /// The underlying error.
    pub fn get(&self) -> &E {
        &self.0
    }
}

impl<E: ?Sized> Clone for Shared<E> {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

impl<E> From<E> for Shared<E> {
    fn from(error: E) -> Self {
        Shared::new(error)
    }
}

impl<E: ?Sized> std::ops::Deref for Shared<E> {
    type Target = E;

    fn deref(&self) -> &E {
        &self.0
    }
}

impl<E: std::fmt::Display + ?Sized> PartialEq for Shared<E> {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0) || self.0.to_string() == other.0.to_string()
    }
}

impl<E: std::fmt::Display + ?Sized> Eq for Shared<E> {}

impl<E: std::fmt::Display + ?Sized> std::fmt::Display for Shared<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<E: std::error::Error + ?Sized> std::error::Error for Shared<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "sqlx")]
    #[test]
    fn a_driver_error_without_a_server_reads_as_the_driver_says() {
        let e = sqlx_core::Error::Protocol("unexpected message 'Z'".into());
        assert_eq!(sqlx_detail(&e), e.to_string());
        assert!(database_detail(Some(("boom", None)), &e) == "boom");
    }

    #[test]
    fn echo_shortens_long_input_on_char_boundary() {
        let long = "é".repeat(200);
        let short = echo(&long);
        assert_eq!(short.chars().count(), MAX_ECHO + 1);
        assert!(short.ends_with('…'));
        assert_eq!(echo("abc"), "abc");
    }
}
