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
