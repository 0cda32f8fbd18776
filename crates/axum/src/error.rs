//! The one error type of `custodia-axum`, and how it becomes an HTTP response.

use std::borrow::Cow;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Everything a request can fail with, mapped to one HTTP status each.
///
/// The response body is always `{"error": <kind>, "message": <text>}` with the
/// stable [`Error::kind`] and a message that names what was wrong but never
/// repeats a token, another tenant's content or a database message: a 5xx
/// says only `"internal error"` (the full cause is in `Display`, for the
/// host's logs).
///
/// # Another tenant's record is "not found"
///
/// [`Error::NotFound`] is the answer for a missing record *and* for another
/// tenant's record, with the same body. Under row-level security both are the
/// same code path, not just the same answer: the tenant-bound transaction
/// cannot see the other tenant's row, so the lookup returns no row exactly as
/// it does for an id that exists nowhere (the same index probe, the same
/// time class). `custodia_tenant::Error::CrossTenant` (an in-memory guard's
/// refusal) maps to the same variant.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No credentials, or credentials that do not verify (bad signature,
    /// expired, wrong issuer or audience, malformed). HTTP 401.
    #[error("unauthorized: {reason}")]
    Unauthorized {
        /// What was wrong, in words that never quote the token.
        reason: Cow<'static, str>,
    },
    /// Verified credentials that may not do this (a tenant this deployment
    /// does not serve, a missing role). HTTP 403.
    #[error("forbidden: {reason}")]
    Forbidden {
        /// Why.
        reason: Cow<'static, str>,
    },
    /// No such record in the caller's tenant (missing, or another tenant's).
    /// HTTP 404.
    #[error("no {kind} with the requested id")]
    NotFound {
        /// What was looked up: `"ticket"`.
        kind: &'static str,
    },
    /// A request the server cannot read: malformed JSON, a body over the
    /// limit, a wrong content type, an unparsable id, a step the record's
    /// state does not allow. HTTP 400, 409, 413, 415 or 422 as `status` says.
    #[error("bad request ({status}): {message}")]
    BadRequest {
        /// The 4xx status. A status that is not an error (1xx, 2xx, 3xx) is
        /// answered 500 "internal error" instead: an error must never read
        /// as a success, which `CustodiaLayer` would commit and record as
        /// one. A 5xx is kept, and hides `message` like any 5xx.
        status: StatusCode,
        /// What was wrong (may quote the caller's own input, shortened).
        message: String,
    },
    /// The database failed. HTTP 500; the body does not say why.
    #[error("database error while {doing}: {source}")]
    Database {
        /// What was being done.
        doing: &'static str,
        /// The driver's error.
        source: sqlx_core::Error,
    },
    /// The tenant binding failed. HTTP 500 unless it maps to another status
    /// (see `From<custodia_tenant::Error>`).
    #[error("tenant binding: {0}")]
    Tenant(#[source] custodia_tenant::Error),
    /// The audit event could not be recorded; the request's transaction was
    /// rolled back. HTTP 500.
    #[error("audit: {0}")]
    Audit(#[from] custodia_audit::Error),
    /// A service the request depends on failed (a model API behind
    /// `MaskedCompletion`). HTTP 502; the body names the service, not the cause.
    #[error("the {service} service failed: {cause}")]
    Upstream {
        /// Which service: `"completion"`.
        service: &'static str,
        /// Its failure, for the host's logs: the host's own error (a
        /// `CompletionClient`'s, a request store's), which `source()` returns.
        #[source]
        cause: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// A data-subject request step failed in a source, the desk's audit sink
    /// or the key shredder (feature `dsr`). HTTP 500.
    #[cfg(feature = "dsr")]
    #[error("data-subject request: {0}")]
    Dsr(#[source] custodia_dsr::Error),
    /// Masking failed (feature `mask`). HTTP 500.
    #[cfg(feature = "mask")]
    #[error("masking: {0}")]
    Mask(#[from] custodia_mask::Error),
    /// Work moved to tokio's blocking pool panicked or was cancelled
    /// (a data-subject request's desk and store calls). HTTP 500.
    #[error("a blocking task failed while {doing}: {source}")]
    Task {
        /// What the task was doing.
        doing: &'static str,
        /// The runtime's error (a panic's payload stays inside it).
        source: tokio::task::JoinError,
    },
    /// A response body could not be encoded or written. HTTP 500.
    #[error("encoding the response: {source}")]
    Encode {
        /// The serialiser's error.
        #[from]
        source: serde_json::Error,
    },
    /// The handler (or a service inside [`CustodiaLayer`](crate::CustodiaLayer))
    /// panicked; the request's transaction was rolled back. HTTP 500. The
    /// panic's message is not kept: it may quote personal data, and the
    /// panic hook has reported it.
    #[error("the handler panicked")]
    Panicked,
    /// The service is wired wrongly (a missing layer, a transaction taken
    /// twice): a bug in the host, not the client's fault. HTTP 500.
    #[error("misconfigured: {0}")]
    Misconfigured(&'static str),
}

impl Error {
    /// A stable, machine-readable name for the error, used as the `error`
    /// field of the JSON body: `unauthorized`, `forbidden`, `not_found`,
    /// `bad_request`, `payload_too_large`, `unsupported_media_type`,
    /// `unprocessable`, `conflict`, `upstream`, `internal`.
    pub fn kind(&self) -> &'static str {
        match self.status() {
            StatusCode::UNAUTHORIZED => "unauthorized",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::UNPROCESSABLE_ENTITY => "unprocessable",
            StatusCode::CONFLICT => "conflict",
            StatusCode::BAD_GATEWAY => "upstream",
            s if s.is_client_error() => "bad_request",
            _ => "internal",
        }
    }

    /// The HTTP status the error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Error::Forbidden { .. } => StatusCode::FORBIDDEN,
            Error::NotFound { .. } => StatusCode::NOT_FOUND,
            // An error never answers with a success or a redirect, which
            // the layer would commit: a status that is no error is the
            // host's bug, answered like one.
            Error::BadRequest { status, .. }
                if status.is_client_error() || status.is_server_error() =>
            {
                *status
            }
            Error::BadRequest { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            Error::Upstream { .. } => StatusCode::BAD_GATEWAY,
            #[cfg(feature = "mask")]
            Error::Mask(_) => StatusCode::INTERNAL_SERVER_ERROR,
            #[cfg(feature = "dsr")]
            Error::Dsr(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Error::Database { .. }
            | Error::Tenant(_)
            | Error::Audit(_)
            | Error::Task { .. }
            | Error::Encode { .. }
            | Error::Panicked
            | Error::Misconfigured(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message the client sees: the error itself for 4xx, the failed
    /// service's name for 502, nothing for other 5xx.
    pub fn public_message(&self) -> String {
        match self {
            Error::Upstream { service, .. } => format!("the {service} service failed"),
            e if e.status().is_server_error() => "internal error".to_owned(),
            e => e.to_string(),
        }
    }

    /// `Ok(value)`, or [`Error::NotFound`] for `kind`: the one way to turn a
    /// lookup's "no row" into a response, so a missing id and another
    /// tenant's id take the same path.
    pub fn found<T>(value: Option<T>, kind: &'static str) -> Result<T, Error> {
        value.ok_or(Error::NotFound { kind })
    }

    pub(crate) fn db(doing: &'static str) -> impl FnOnce(sqlx_core::Error) -> Error {
        move |source| Error::Database { doing, source }
    }
}

impl From<custodia_tenant::Error> for Error {
    /// A cross-tenant refusal and a missing record map to the same
    /// [`Error::NotFound`]; a malformed id is 400, an access decision 403.
    fn from(e: custodia_tenant::Error) -> Self {
        use custodia_tenant::Error as T;
        match e {
            T::CrossTenant { kind, .. } | T::NotFound { kind } => Error::NotFound { kind },
            T::InvalidRequestId { .. } => Error::BadRequest {
                status: StatusCode::BAD_REQUEST,
                message: e.to_string(),
            },
            T::Denied { .. } => Error::Forbidden {
                reason: e.to_string().into(),
            },
            other => Error::Tenant(other),
        }
    }
}

impl From<sqlx_core::Error> for Error {
    fn from(source: sqlx_core::Error) -> Self {
        Error::Database {
            doing: "running a query",
            source,
        }
    }
}

/// The cause of a 5xx answer, left in the response's extensions for the
/// host's logging: the body says only "internal error", so without this the
/// cause would be lost. A middleware outside the handlers (tower-http's
/// `TraceLayer`, `axum::middleware::map_response`) reads it:
///
/// ```
/// use axum::response::{IntoResponse, Response};
/// use custodia_axum::{Error, ServerError};
///
/// fn log_cause(response: Response) -> Response {
///     if let Some(ServerError(cause)) = response.extensions().get::<ServerError>() {
///         eprintln!("{} {}: {cause}", response.status(), cause.kind());
///     }
///     response
/// }
///
/// let response = Error::Misconfigured("no CustodiaLayer on this route").into_response();
/// let logged = log_cause(response);
/// assert!(logged.extensions().get::<ServerError>().is_some());
/// ```
///
/// Its `Display` is the whole error, which may name a database object or
/// quote the caller's own input but never another tenant's content; a 4xx
/// leaves nothing here (its body already says what was wrong).
#[derive(Debug, Clone)]
pub struct ServerError(pub std::sync::Arc<Error>);

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::json!({ "error": self.kind(), "message": self.public_message() });
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if status.is_server_error() {
            response
                .extensions_mut()
                .insert(ServerError(std::sync::Arc::new(self)));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use custodia_core::TenantId;

    #[test]
    fn cross_tenant_and_missing_answer_alike() {
        let a = TenantId::random();
        let b = TenantId::random();
        let cross = Error::from(custodia_tenant::Error::CrossTenant {
            context: a,
            found: b,
            kind: "ticket",
        });
        let missing = Error::from(custodia_tenant::Error::NotFound { kind: "ticket" });
        assert_eq!(cross.status(), StatusCode::NOT_FOUND);
        assert_eq!(cross.public_message(), missing.public_message());
        assert!(!cross.public_message().contains(&b.to_string()));
    }

    #[test]
    fn wrapped_errors_are_typed_sources() {
        use std::error::Error as _;

        let e = Error::from(custodia_tenant::Error::Sqlx {
            doing: "binding the tenant",
            source: sqlx_core::Error::PoolTimedOut,
        });
        assert!(matches!(e, Error::Tenant(_)));
        assert_eq!(e.kind(), "internal");
        assert_eq!(e.public_message(), "internal error");
        let tenant = e
            .source()
            .and_then(|s| s.downcast_ref::<custodia_tenant::Error>());
        assert!(matches!(tenant, Some(custodia_tenant::Error::Sqlx { .. })));

        #[derive(Debug, thiserror::Error)]
        #[error("HTTP 503 from the model API")]
        struct ModelDown;
        let e = Error::Upstream {
            service: "completion",
            cause: Box::new(ModelDown),
        };
        assert_eq!(e.public_message(), "the completion service failed");
        assert!(e.source().is_some_and(|s| s.is::<ModelDown>()));

        let e = Error::from(custodia_audit::Error::Store(
            "the store is read-only".into(),
        ));
        assert_eq!(e.kind(), "internal");
        let audit = e
            .source()
            .and_then(|s| s.downcast_ref::<custodia_audit::Error>());
        assert!(audit.is_some_and(custodia_audit::Error::is_store));

        let panicked = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(async { tokio::task::spawn_blocking(|| panic!("a source's bug")).await })
            .unwrap_err();
        let e = Error::Task {
            doing: "running a data-subject request step",
            source: panicked,
        };
        assert_eq!(e.public_message(), "internal error");
        let join = e
            .source()
            .and_then(|s| s.downcast_ref::<tokio::task::JoinError>());
        assert!(join.is_some_and(tokio::task::JoinError::is_panic));

        let e = Error::from(serde_json::from_str::<u8>("x").unwrap_err());
        assert_eq!(e.kind(), "internal");
        assert!(e.source().is_some_and(|s| s.is::<serde_json::Error>()));
    }

    #[test]
    fn a_server_error_leaves_its_cause_for_the_host_and_a_client_error_does_not() {
        let response = Error::Task {
            doing: "running a data-subject request step",
            source: tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
                .block_on(async { tokio::task::spawn_blocking(|| panic!("boom")).await })
                .unwrap_err(),
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let cause = response.extensions().get::<ServerError>().unwrap();
        assert!(matches!(*cause.0, Error::Task { .. }));

        let response = Error::NotFound { kind: "ticket" }.into_response();
        assert!(response.extensions().get::<ServerError>().is_none());
    }

    /// `BadRequest` carries its own status; one that is not an error
    /// status (a host's slip: `StatusCode::OK`, `SEE_OTHER`) once answered
    /// with it, and `CustodiaLayer`, which commits on 2xx and 3xx, then
    /// committed the transaction of a request that failed and recorded it
    /// as a success.
    #[test]
    fn an_error_never_answers_with_a_success_status() {
        for status in [
            StatusCode::OK,
            StatusCode::CREATED,
            StatusCode::SEE_OTHER,
            StatusCode::NOT_MODIFIED,
            StatusCode::CONTINUE,
        ] {
            let e = Error::BadRequest {
                status,
                message: "refused".into(),
            };
            assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR, "{status}");
            assert_eq!(e.kind(), "internal");
            assert_eq!(e.public_message(), "internal error");
            let response = e.into_response();
            assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
            assert!(response.extensions().get::<ServerError>().is_some());
        }
        // Error statuses stay as given.
        for status in [
            StatusCode::BAD_REQUEST,
            StatusCode::CONFLICT,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::SERVICE_UNAVAILABLE,
        ] {
            let e = Error::BadRequest {
                status,
                message: "refused".into(),
            };
            assert_eq!(e.status(), status);
        }
    }

    #[test]
    fn server_errors_say_nothing() {
        let e = Error::Database {
            doing: "reading tickets",
            source: sqlx_core::Error::Protocol(
                "duplicate key value (email)=(alice@example.com)".into(),
            ),
        };
        assert_eq!(e.kind(), "internal");
        assert_eq!(e.public_message(), "internal error");
        assert!(e.to_string().contains("alice@example.com"));
    }
}
