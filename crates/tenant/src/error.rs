//! The one error type of `custodia-tenant`.

use custodia_core::TenantId;

/// Everything that can go wrong in tenant isolation, access control,
/// residency checks and the PostgreSQL integration.
///
/// Cross-tenant errors carry both tenants and the *kind* of thing refused
/// (`"ticket"`, `"cache key"`), never the record's content: they are meant for
/// logs and alerts. Answer the client with "not found" (HTTP 404), so that a
/// probe for another tenant's ids cannot even learn that they exist.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A record, id, cache key or job of another tenant reached this tenant's
    /// context.
    #[error(
        "cross-tenant access refused: a {kind} of tenant {found} in the context of tenant {context}"
    )]
    CrossTenant {
        /// The tenant of the acting context.
        context: TenantId,
        /// The tenant the refused value belongs to.
        found: TenantId,
        /// What was refused: the record type, `"cache key"`, `"job"`, ...
        kind: &'static str,
    },
    /// An id taken from a URL or request did not parse.
    #[error("invalid {kind} id {input:?} in the request")]
    InvalidRequestId {
        /// What the id names.
        kind: &'static str,
        /// The rejected text (shortened).
        input: String,
    },
    /// An id taken from a URL or request names nothing the lookup found.
    #[error("no {kind} with the requested id")]
    NotFound {
        /// What the id names.
        kind: &'static str,
    },
    /// A name (role, team, resource, cache namespace) that breaks its syntax.
    #[error("invalid {what} {input:?}: {reason}")]
    InvalidName {
        /// Which kind of name.
        what: &'static str,
        /// The rejected text (shortened).
        input: String,
        /// The rule it broke.
        reason: &'static str,
    },
    /// A cache key that is not `t/<tenant uuid>/<namespace>/<key>`.
    #[error("malformed cache key {input:?}: {reason}")]
    MalformedCacheKey {
        /// The rejected text (shortened).
        input: String,
        /// The rule it broke.
        reason: &'static str,
    },
    /// An access decision said no; the reason says which rule denied it.
    #[error("access denied: {reason}")]
    Denied {
        /// Why, in words (the [`AccessDecision`](crate::access::AccessDecision)'s explanation).
        reason: String,
    },
    /// An administrator tried to change another tenant's access policy.
    #[error(
        "an administrator of tenant {admin_tenant} cannot change the access policy of tenant {policy_tenant}"
    )]
    CrossTenantGrant {
        /// The administrator's tenant.
        admin_tenant: TenantId,
        /// The tenant whose policy was targeted.
        policy_tenant: TenantId,
    },
    /// A policy change by an actor who lacks the administration permission.
    #[error("actor {actor} of tenant {tenant} may not change access policies: {reason}")]
    NotAnAdministrator {
        /// The tenant.
        tenant: TenantId,
        /// The actor.
        actor: custodia_core::ActorId,
        /// Which rule denied it.
        reason: String,
    },
    /// A grant or assignment naming a role the policy does not define.
    #[error("tenant {tenant} has no role {role:?}")]
    UnknownRole {
        /// The tenant whose policy was consulted.
        tenant: TenantId,
        /// The missing role.
        role: String,
    },
    /// An adequacy list (or other data file) that parses but does not validate.
    #[error("invalid {what}{}: {reason}", location.as_ref().map(|l| format!(" at {l}")).unwrap_or_default())]
    InvalidData {
        /// Which file or document: `"adequacy list"`, `"tenant job"`, ...
        what: &'static str,
        /// Where in it (`line 3, column 7`, or a field path), if known.
        location: Option<String>,
        /// What was wrong.
        reason: String,
    },
    /// A JSON document (an adequacy list, a tenant job) that does not parse
    /// or encode; the parser's error, with its line and column, is the source.
    ///
    /// A decoder's error has passed through
    /// [`echo_json_error`](custodia_core::echo_json_error): it quotes at most
    /// [`MAX_ECHO`](custodia_core::MAX_ECHO) characters of any value in the
    /// document (a job's payload is the host's data), and for a value of the
    /// wrong type its `line()` and `column()` are 0, the position being in
    /// its message.
    #[error("invalid {what}: {source}")]
    Json {
        /// Which document: `"adequacy list"`, `"tenant job"`.
        what: &'static str,
        /// The JSON parser's error.
        source: serde_json::Error,
    },
    /// A data file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A region migration step done out of order or twice.
    #[error("migration step {step} cannot complete: {reason}")]
    Migration {
        /// The step's index in the plan.
        step: usize,
        /// Why.
        reason: &'static str,
    },
    /// A PostgreSQL identifier (schema, table, column, role) that Custodia
    /// refuses to splice into SQL.
    #[error("invalid SQL identifier {input:?}: {reason}")]
    InvalidIdentifier {
        /// The rejected text (shortened).
        input: String,
        /// The rule it broke.
        reason: &'static str,
    },
    /// A commit refused because PostgreSQL had already aborted the
    /// transaction: a statement in it failed, and the caller handled that
    /// error and went on. PostgreSQL answers the `COMMIT` of such a
    /// transaction with a rollback and no error; reporting that as a commit
    /// would tell the caller its writes were stored when none were. Nothing
    /// of the transaction was committed, and it has been rolled back. To go
    /// on after a statement that may fail, run it inside a savepoint and roll
    /// back to that savepoint when it fails.
    #[error("the transaction was aborted by an earlier failed statement; nothing was committed")]
    TransactionAborted,
    /// The PostgreSQL server or driver reported an error.
    #[cfg(feature = "postgres")]
    #[error(
        "PostgreSQL error while {doing}: {}",
        custodia_core::postgres_detail(source)
    )]
    Postgres {
        /// What Custodia was doing.
        doing: &'static str,
        /// The driver's error (SQLSTATE and message).
        source: postgres::Error,
    },
    /// The PostgreSQL server or the sqlx driver reported an error.
    #[cfg(feature = "sqlx")]
    #[error(
        "PostgreSQL error while {doing}: {}",
        custodia_core::sqlx_detail(source)
    )]
    Sqlx {
        /// What Custodia was doing.
        doing: &'static str,
        /// The driver's error.
        source: sqlx_core::Error,
    },
}

impl Error {
    /// [`Error::Json`] for a document that did not decode, its parser's error
    /// shortened by [`echo_json_error`](custodia_core::echo_json_error) so
    /// neither the message nor the source repeats a value whole.
    pub(crate) fn json_decode(what: &'static str, source: serde_json::Error) -> Self {
        Error::Json {
            what,
            source: custodia_core::echo_json_error(source),
        }
    }

    /// Whether this is a cross-tenant refusal (record, id, cache key, job or grant).
    pub fn is_cross_tenant(&self) -> bool {
        matches!(
            self,
            Error::CrossTenant { .. } | Error::CrossTenantGrant { .. }
        )
    }
}
