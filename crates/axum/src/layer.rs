//! The layer: authenticate, bind, run the handler, audit, commit or roll back.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::ops::{Deref, DerefMut};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use custodia_audit::{Action, Actor, Event, Outcome, Target};
use custodia_core::{Clock, SystemClock, TenantId};
use custodia_tenant::begin_bound;
use custodia_tenant::{TxAccess, begin_bound_sql};
use sqlx_core::transaction::Transaction;
use sqlx_postgres::{PgConnection, PgPool, Postgres};
use tokio::sync::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard};
use tower_layer::Layer;
use tower_service::Service;

use crate::{Audit, AuditSink, Authenticator, Error, Identity};

/// The longest user agent recorded, in bytes (longer ones are cut).
pub const MAX_USER_AGENT: usize = 512;

/// The Custodia tower layer for a router of tenant routes.
///
/// For every request it
///
/// 1. authenticates with the [`Authenticator`] and answers 401/403 at once
///    on a refusal (no handler runs, nothing is written);
/// 2. puts the verified [`Identity`] in the request, for the `Identity` and
///    `Tenant` extractors, and a slot for the request's transaction, which
///    the [`Tx`] extractor fills on first use with a transaction bound to the
///    identity's tenant (`custodia_tenant::begin_bound`);
/// 3. runs the handler (a panic in it, which axum does not catch, is
///    answered 500 like an error: rolled back, recorded as `failure`; a
///    read's too, when reads are audited: see
///    [`audit_reads`](Self::audit_reads));
/// 4. for a mutating request (POST, PUT, PATCH, DELETE), or a read the
///    handler marked with an [`Audit`] naming a subject when
///    [`audit_reads`](Self::audit_reads) is on, records an audit event through
///    the [`AuditSink`] (actor, action, target, outcome from the status,
///    request id: the client's `x-request-id` only when it is a UUID, else a
///    fresh one; IP address and user agent when the request concerns a subject);
/// 5. commits the transaction if the response is a success (2xx or 3xx) and
///    rolls it back otherwise.
///
/// # Reads change nothing
///
/// Only changes (POST, PUT, PATCH, DELETE) are audited whatever the
/// handler says, so a write a read made would commit with no event. On any
/// other method the handler's statements run read-only: PostgreSQL refuses
/// a write (`cannot execute INSERT in a read-only transaction`, also
/// `nextval` and `SELECT ... FOR UPDATE`/`FOR SHARE`; temporary tables are
/// PostgreSQL's exception), the handler's error is the answer, and nothing
/// commits. A route that must change something is a POST (or PUT, PATCH,
/// DELETE). A read's transaction is `BEGIN READ ONLY`, or, when an audited
/// read's event is staged in it, read-write with the handler in a read-only
/// savepoint that the layer releases before it stages the event (the
/// read's one write). This catches a handler's mistake, not its intent:
/// SQL that ends the read-only mode itself (`SET TRANSACTION READ WRITE`
/// as its first statement, `RELEASE` of the layer's savepoint, `COMMIT`),
/// and writes over another connection or outside PostgreSQL, are beyond
/// what the layer sees.
///
/// # Why one layer, and why the layer commits
///
/// The handler never commits: a handler that returns an error, panics or
/// forgets cannot leave half a change behind, and a handler that succeeds
/// cannot skip its audit event. Auditing and committing are one layer because
/// their order is the guarantee. A successful request's event is *staged in
/// the request's own transaction* ([`AuditSink::stage`]; for
/// [`SqlxAuditSink`](crate::SqlxAuditSink) one `INSERT` into the log's
/// outbox), so it commits with the change or not at all: no committed change
/// is unaudited and no rolled-back one is on the record as done. A failed
/// stage rolls the transaction back, answers 500 and records a `failure`
/// event (best effort). So does a transaction PostgreSQL aborted (a
/// statement failed and the handler answered success anyway), whose
/// `COMMIT` would roll back without an error: the stage finds it, and a
/// change with no event staged (no sink) is committed with
/// `custodia_tenant::commit_bound`, which checks with a `SELECT 1` first.
/// After the commit the
/// sink moves the event into the log ([`AuditSink::committed`]) without the
/// client waiting for it. A request that used no transaction has its event
/// recorded directly, before the response. With
/// [`buffer_reads`](Self::buffer_reads), an audited read's event is queued
/// instead ([`AuditSink::record_soon`]), with or without a transaction and
/// whether the read succeeded or failed: the read's transaction writes
/// nothing, and the event reaches the log shortly after the response. If
/// the commit fails, a second event for the same request id records the
/// failure (for a buffered read, the only one: its success is never
/// queued). Error responses are rolled back first and recorded as `failure`
/// (or `denied` for 401/403), so refused attempts are on the record too;
/// that holds when the `ROLLBACK` itself fails (a broken connection, which
/// the server rolls back anyway), and the answer is then 500.
///
/// The client IP comes from axum's `ConnectInfo<SocketAddr>` (serve with
/// `into_make_service_with_connect_info::<SocketAddr>()`); forwarded headers
/// are not trusted.
///
/// A clone shares the settings until one of them changes: a setter
/// ([`audit`](Self::audit), [`audit_reads`](Self::audit_reads),
/// [`buffer_reads`](Self::buffer_reads), [`with_clock`](Self::with_clock))
/// always applies to the layer it is called on, and never to the other
/// clones or to services already built from it.
#[derive(Clone)]
pub struct CustodiaLayer {
    config: Arc<Config>,
}

/// The layer's settings. `Clone` so that a setter on one clone of the layer
/// copies them before changing them ([`CustodiaLayer::with`]).
#[derive(Clone)]
struct Config {
    authenticator: Arc<dyn Authenticator>,
    pool: PgPool,
    sink: Option<Arc<dyn AuditSink>>,
    audit_reads: bool,
    buffer_reads: bool,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for CustodiaLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustodiaLayer")
            .field("audit", &self.config.sink.is_some())
            .field("audit_reads", &self.config.audit_reads)
            .field("buffer_reads", &self.config.buffer_reads)
            .finish_non_exhaustive()
    }
}

impl CustodiaLayer {
    /// Authenticates with `authenticator` and binds transactions from `pool`
    /// (a pool of the non-owner application role, under RLS). No auditing
    /// until [`audit`](Self::audit).
    pub fn new(authenticator: impl Authenticator, pool: PgPool) -> Self {
        Self {
            config: Arc::new(Config {
                authenticator: Arc::new(authenticator),
                pool,
                sink: None,
                audit_reads: false,
                buffer_reads: false,
                clock: Arc::new(SystemClock),
            }),
        }
    }

    /// Changes this layer's settings. Clone-on-write: a layer cloned
    /// before (for another router, or already serving) keeps the settings
    /// it had, and this one gets the change whoever else holds the old
    /// settings. Never a silent no-op: a sink set here is the sink used.
    fn with(mut self, f: impl FnOnce(&mut Config)) -> Self {
        f(Arc::make_mut(&mut self.config));
        self
    }

    /// Records audit events through `sink`.
    #[must_use]
    pub fn audit(self, sink: impl AuditSink) -> Self {
        self.with(|c| c.sink = Some(Arc::new(sink)))
    }

    /// Also records reads (GET, HEAD) whose response carries an [`Audit`]
    /// naming a subject: reads of personal data (default: off).
    ///
    /// A read whose handler panics (answered 500) carries no [`Audit`]:
    /// the panic took the part that would have named the subject, and the
    /// layer cannot tell a route that reads personal data from one that
    /// does not. With this on, such a read is recorded anyway, as the
    /// attempt: action `read`, outcome `failure`, target `route` with the
    /// route's path pattern (`/tickets/{id}`, never the ids in the URL), no
    /// subject, and so no IP address or user agent. The handler may have
    /// read personal data before it panicked; the record says that a read
    /// was attempted and by whom, and a panic on a route that reads nothing
    /// personal costs one event with nothing personal in it.
    #[must_use]
    pub fn audit_reads(self, on: bool) -> Self {
        self.with(|c| c.audit_reads = on)
    }

    /// Records audited reads ([`audit_reads`](Self::audit_reads)) without a
    /// write in the request's path (default: off). Off, a read's event is
    /// staged in its transaction like a change's: durable when the
    /// response leaves, at the price of turning a read-only transaction
    /// into a writing one. On, the event is sealed and queued
    /// ([`AuditSink::record_soon`]), also for a read that used no
    /// transaction and for a failed read (an error, a panic, a failed
    /// `COMMIT`, recorded as `failure`); the sink writes it shortly after (for
    /// [`SqlxAuditSink`](crate::SqlxAuditSink), at its store's next
    /// background drain, within about 10 ms): a crash in between loses the
    /// reads of that moment from the record. Changes are never buffered.
    #[must_use]
    pub fn buffer_reads(self, on: bool) -> Self {
        self.with(|c| c.buffer_reads = on)
    }

    /// The clock that timestamps audit events (default: system time).
    #[must_use]
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        self.with(|c| c.clock = clock)
    }
}

impl<S> Layer<S> for CustodiaLayer {
    type Service = CustodiaService<S>;

    fn layer(&self, inner: S) -> CustodiaService<S> {
        CustodiaService {
            inner,
            config: Arc::clone(&self.config),
        }
    }
}

/// The service [`CustodiaLayer`] wraps around a router or handler.
#[derive(Clone)]
pub struct CustodiaService<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S> std::fmt::Debug for CustodiaService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustodiaService").finish_non_exhaustive()
    }
}

impl<S> Service<Request> for CustodiaService<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        // The clone that was polled ready serves this request.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let config = Arc::clone(&self.config);
        #[cfg(feature = "tracing")]
        let span = request_span(&req);
        let served = async move {
            let response = serve(&config, inner, req).await;
            custodia_core::op_record!(status = response.status().as_u16());
            Ok(response)
        };
        #[cfg(feature = "tracing")]
        let served = tracing::Instrument::instrument(served, span);
        Box::pin(served)
    }
}

/// The request's span: method and route template (never the path, which
/// may carry ids), the status recorded when the response is ready.
#[cfg(feature = "tracing")]
fn request_span(req: &Request) -> tracing::Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    tracing::debug_span!(
        "custodia.axum.request",
        method = %req.method(),
        route = %route.unwrap_or(""),
        status = tracing::field::Empty,
    )
}

/// What the audit event needs from the request head, kept as it came
/// (shared, not copied): most requests are not audited, and only an event
/// formats them.
struct RequestFacts {
    method: Method,
    route: Option<MatchedPath>,
    /// The client's `x-request-id`, checked when the event is built.
    request_id: Option<HeaderValue>,
    addr: Option<SocketAddr>,
    user_agent: Option<HeaderValue>,
}

impl RequestFacts {
    fn of(parts: &Parts) -> Self {
        Self {
            method: parts.method.clone(),
            route: parts.extensions.get::<MatchedPath>().cloned(),
            request_id: parts.headers.get("x-request-id").cloned(),
            addr: parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| *addr),
            user_agent: parts.headers.get(header::USER_AGENT).cloned(),
        }
    }

    fn route(&self) -> &str {
        self.route.as_ref().map_or("", MatchedPath::as_str)
    }

    fn ip(&self) -> Option<String> {
        self.addr.map(|addr| addr.ip().to_string())
    }

    fn user_agent(&self) -> Option<String> {
        self.user_agent
            .as_ref()
            .map(|ua| truncate(&String::from_utf8_lossy(ua.as_bytes()), MAX_USER_AGENT))
    }
}

/// The client's `x-request-id` when it is a UUID (hyphenated, lower case).
///
/// The id is stored in clear in the append-only log, where nothing can be
/// erased, so free text is never taken from the client: a user name, an
/// email address or a number used as a correlation id would be personal
/// data beyond any shred. A UUID (what proxies and frameworks generate:
/// Envoy, Heroku, Rails; nginx's 32 hex digits) carries none.
fn request_id(value: Option<&HeaderValue>) -> Option<String> {
    let text = value?.to_str().ok()?;
    // Only the two forms: no braces, no `urn:uuid:` prefix.
    if text.len() != 32 && text.len() != 36 {
        return None;
    }
    let id = custodia_core::uuid::Uuid::try_parse(text).ok()?;
    Some(id.hyphenated().to_string())
}

/// `text` cut to at most `max` bytes, on a character boundary.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

async fn serve<S>(config: &Config, mut inner: S, req: Request) -> Response
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    let (mut parts, body) = req.into_parts();
    let identity = match config.authenticator.authenticate(&parts).await {
        Ok(identity) => identity,
        Err(refusal) => return refusal.into_response(),
    };
    let facts = RequestFacts::of(&parts);
    let access = if matches!(
        facts.method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) {
        Access::Write
    } else if config.sink.is_some() && config.audit_reads && !config.buffer_reads {
        Access::ReadThenStage
    } else {
        Access::Read
    };
    let slot = TxSlot::new(config.pool.clone(), identity.context().tenant(), access);
    parts.extensions.insert(identity.clone());
    parts.extensions.insert(slot.clone());
    let (mut response, panicked) =
        match call_catching_panics(&mut inner, Request::from_parts(parts, body)).await {
            Some(response) => (response, false),
            None => (Error::Panicked.into_response(), true),
        };
    let audit = response.extensions_mut().remove::<Audit>();
    let tx = slot.take().await;
    let event = config
        .sink
        .as_ref()
        .and_then(|_| {
            let reads = ReadAuditing {
                on: config.audit_reads,
                panicked,
            };
            audited_action(&facts.method, audit.as_ref(), reads)
        })
        .map(|action| event(config, &identity, &facts, action, audit, response.status()));
    let success = response.status().is_success() || response.status().is_redirection();
    match finish(config, event, tx, success, access).await {
        Ok(()) => response,
        Err(e) => e.into_response(),
    }
}

/// The inner service's response, or `None` if it panicked (in `call` or
/// while polled; axum does not catch panics). The panicked future is
/// dropped before this returns, so a [`Tx`] it held is let go and the
/// layer rolls the transaction back and records the attempt like any 500.
/// The payload is dropped unread: a panic message may quote personal data,
/// and the panic hook has already reported it.
async fn call_catching_panics<S>(inner: &mut S, req: Request) -> Option<Response>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    // AssertUnwindSafe: after a panic nothing of the service's call is used
    // again; its future is dropped, and the request's state (the slot) is
    // only ever read through its mutex.
    let future = catch_unwind(AssertUnwindSafe(|| inner.call(req))).ok()?;
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(
        |cx| match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Ready(Ok(response))) => Poll::Ready(Some(response)),
            Ok(Poll::Ready(Err(never))) => match never {},
            Ok(Poll::Pending) => Poll::Pending,
            Err(_payload) => Poll::Ready(None),
        },
    )
    .await
}

/// Whether reads are audited ([`CustodiaLayer::audit_reads`]), and
/// whether this request's handler panicked (and so could not say what it
/// read).
#[derive(Clone, Copy, Debug)]
struct ReadAuditing {
    on: bool,
    panicked: bool,
}

/// The action to record for a request, if it is audited at all. A read is
/// when reads are audited and its handler named a subject, or panicked
/// (see [`CustodiaLayer::audit_reads`]).
fn audited_action(method: &Method, audit: Option<&Audit>, reads: ReadAuditing) -> Option<Action> {
    let implied = match *method {
        Method::POST => Action::Create,
        Method::PUT | Method::PATCH => Action::Update,
        Method::DELETE => Action::Delete,
        Method::GET | Method::HEAD
            if reads.on && (reads.panicked || audit.is_some_and(|a| a.subject.is_some())) =>
        {
            Action::Read
        }
        _ => return None,
    };
    Some(audit.and_then(|a| a.action.clone()).unwrap_or(implied))
}

fn event(
    config: &Config,
    identity: &Identity,
    facts: &RequestFacts,
    action: Action,
    audit: Option<Audit>,
    status: StatusCode,
) -> Result<Event, Error> {
    let ctx = identity.context();
    let mut actor = Actor::new(identity.kind().clone(), ctx.actor());
    let (target, subject, changes) = match audit {
        Some(a) => (a.target, a.subject, a.changes),
        None => (Target::new("route", facts.route())?, None, Vec::new()),
    };
    // IP and user agent are personal data: kept only when a subject's key
    // can seal them (and so erase them later).
    if subject.is_some() {
        if let Some(ip) = facts.ip() {
            actor = actor.with_ip(ip.as_str());
        }
        if let Some(ua) = facts.user_agent() {
            actor = actor.with_user_agent(ua.as_str());
        }
    }
    let outcome = match status {
        s if s.is_success() || s.is_redirection() => Outcome::Success,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Outcome::Denied,
        _ => Outcome::Failure,
    };
    let mut builder = Event::builder(ctx.tenant(), actor, action, target)
        .outcome(outcome)
        .request_id(request_id(facts.request_id.as_ref()).unwrap_or_else(|| {
            // Only audited requests need one: drawn here, not per request.
            custodia_core::uuid::Uuid::new_v4().to_string()
        }));
    if let Some(subject) = subject {
        builder = builder.subject(subject);
    }
    for change in changes {
        builder = builder.change(change);
    }
    Ok(builder.build(config.clock.as_ref())?)
}

/// Records the event and ends the transaction, so that every committed
/// change is audited (see [`CustodiaLayer`]).
async fn finish(
    config: &Config,
    event: Option<Result<Event, Error>>,
    tx: Option<Transaction<'static, Postgres>>,
    success: bool,
    access: Access,
) -> Result<(), Error> {
    let event = event.transpose()?;
    let Some(mut tx) = tx else {
        return record(config, event, access).await;
    };
    if !success {
        // A failed ROLLBACK (the connection broke) still leaves nothing
        // committed: the server rolls back a transaction whose session
        // ends, and sqlx queues another ROLLBACK on a connection it keeps.
        // So the attempt is on the record either way; the answer is the
        // rollback's 500.
        let rolled_back = tx.rollback().await.map_err(Error::db("rolling back"));
        let recorded = record(config, event, access).await;
        return rolled_back.and(recorded);
    }
    let sink = config.sink.as_ref().filter(|_| event.is_some());
    // A buffered read: queued, the transaction stays read-only.
    if let (Some(sink), Some(read)) = (sink, &event)
        && config.buffer_reads
        && access != Access::Write
    {
        let read = read.clone();
        if let Err(e) = tx.commit().await {
            // The failure is on the record, as for a change.
            record_failure(config, read, access).await;
            return Err(Error::db("committing")(e));
        }
        return Ok(sink.record_soon(read).await?);
    }
    let unproven = match (sink, &event) {
        (Some(sink), Some(event)) => {
            let staged = stage(sink, &mut tx, event.clone(), access).await;
            if let Err(e) = staged {
                // Dropping the transaction rolls it back.
                record_failure(config, event.clone(), access).await;
                return Err(e);
            }
            false
        }
        // A change with no event staged to prove its transaction alive.
        _ => access == Access::Write,
    };
    let committed = if unproven {
        // Checks with a `SELECT 1` that PostgreSQL has not aborted it
        // (its `COMMIT` would then roll back with no error) and rolls an
        // aborted one back: `Error::TransactionAborted`, a 500.
        custodia_tenant::commit_bound(tx).await.map_err(Error::from)
    } else {
        tx.commit().await.map_err(Error::db("committing"))
    };
    if let Err(e) = committed {
        if let Some(event) = event {
            record_failure(config, event, access).await;
        }
        return Err(e);
    }
    if let Some(sink) = sink {
        sink.committed();
    }
    Ok(())
}

/// Stages `event` in `conn`'s transaction. A read's handler ran in a
/// read-only scope ([`Access::ReadThenStage`]): it ends first, and the
/// event is the transaction's one write.
async fn stage(
    sink: &Arc<dyn AuditSink>,
    conn: &mut PgConnection,
    event: Event,
    access: Access,
) -> Result<(), Error> {
    if access != Access::Write {
        end_read_only(conn)
            .await
            .map_err(Error::db("ending the read-only scope"))?;
    }
    Ok(sink.stage(conn, event).await?)
}

/// Fails if PostgreSQL has aborted `conn`'s transaction (a statement failed
/// and the handler answered success anyway): its `COMMIT` would then roll
/// back with no error, and the client would be told of a change that was
/// never stored. For `AuditSink::stage`'s default, which records an event
/// ahead of the commit; the layer's own commit of a change with no staged
/// event checks with `custodia_tenant::commit_bound`. Sent as that one
/// is, a bare string (the simple protocol, no prepared statement), so it
/// works behind a transaction-pooling proxy (PgBouncer), where a statement
/// prepared on one server connection may be missing on the next.
pub(crate) async fn ensure_live(conn: &mut PgConnection) -> Result<(), sqlx_core::Error> {
    sqlx_core::executor::Executor::execute(conn, "SELECT 1")
        .await
        .map(drop)
}

/// Records that the request `event` describes failed after all: a new event
/// id, outcome `failure`. Best effort: the error that caused it is the one
/// to report.
async fn record_failure(config: &Config, mut event: Event, access: Access) {
    event.id = custodia_audit::EventId::at(config.clock.now());
    event.outcome = Outcome::Failure;
    let _ = record(config, Some(event), access).await;
}

/// Records `event` outside the request's transaction: queued
/// ([`AuditSink::record_soon`]) for a read when reads are buffered
/// ([`CustodiaLayer::buffer_reads`]), whether or not it used a
/// transaction and whether it succeeded or failed; written at once
/// ([`AuditSink::record`]) otherwise.
async fn record(config: &Config, event: Option<Event>, access: Access) -> Result<(), Error> {
    match (config.sink.as_ref(), event) {
        (Some(sink), Some(event)) if config.buffer_reads && access != Access::Write => {
            Ok(sink.record_soon(event).await?)
        }
        (Some(sink), Some(event)) => Ok(sink.record(event).await?),
        _ => Ok(()),
    }
}

/// What a request's handler may do through its [`Tx`], and so how the
/// transaction begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    /// A change (POST, PUT, PATCH, DELETE): [`begin_bound`].
    Write,
    /// A read whose event, if any, is not staged (no sink, reads not
    /// audited, or buffered): `BEGIN READ ONLY`.
    Read,
    /// A read whose event is staged in its transaction after the handler:
    /// the handler runs in a read-only savepoint, which [`end_read_only`]
    /// releases. Not `BEGIN READ ONLY`: a transaction cannot turn
    /// read-write once it has run a query, but a subtransaction's mode ends
    /// with it (PostgreSQL restores its parent's at `RELEASE`). Savepoints
    /// a handler opens inside (sqlx's nested `begin`) are read-only too.
    ReadThenStage,
}

/// Ends the read-only savepoint of [`Access::ReadThenStage`].
const READ_ONLY_END: &str = "RELEASE SAVEPOINT custodia_read_only";

/// [`begin_bound`] for a read ([`Access::Read`] or
/// [`Access::ReadThenStage`]): the same binding and one round trip, the
/// handler's statements read-only.
async fn begin_read_only(
    pool: &PgPool,
    tenant: TenantId,
    access: Access,
) -> Result<Transaction<'static, Postgres>, Error> {
    let sql = match access {
        Access::ReadThenStage => format!(
            "{}; SAVEPOINT custodia_read_only; SET TRANSACTION READ ONLY",
            begin_bound_sql(tenant, TxAccess::ReadWrite)
        ),
        _ => begin_bound_sql(tenant, TxAccess::ReadOnly),
    };
    custodia_core::op_future!(pool.begin_with(sql), DEBUG, "custodia.tenant.bind")
        .await
        .map_err(Error::db(
            "beginning a read-only transaction bound to the tenant",
        ))
}

/// Ends a read's read-only savepoint ([`Access::ReadThenStage`]). Fails if the
/// transaction is aborted (a statement failed and the handler answered
/// success anyway) or the handler ended the savepoint itself.
async fn end_read_only(conn: &mut PgConnection) -> Result<(), sqlx_core::Error> {
    // A bare string: the simple protocol, no prepared statement.
    sqlx_core::executor::Executor::execute(conn, READ_ONLY_END)
        .await
        .map(drop)
}

type Slot = Arc<Mutex<Option<Transaction<'static, Postgres>>>>;

/// The request's transaction, begun lazily by [`Tx`] and ended by the layer.
#[derive(Clone)]
struct TxSlot {
    cell: Slot,
    pool: PgPool,
    tenant: TenantId,
    access: Access,
}

impl TxSlot {
    fn new(pool: PgPool, tenant: TenantId, access: Access) -> Self {
        Self {
            cell: Arc::new(Mutex::new(None)),
            pool,
            tenant,
            access,
        }
    }

    /// The transaction, once the handler has let go of it.
    async fn take(&self) -> Option<Transaction<'static, Postgres>> {
        self.cell.lock().await.take()
    }
}

/// The request's database connection, inside a transaction bound to the
/// caller's tenant (row-level security sees only that tenant's rows).
///
/// Use it as a sqlx executor with `&mut *tx`. Do not commit: the layer
/// commits when the response is a success and rolls back otherwise (see
/// [`CustodiaLayer`]). On a read (any method but POST, PUT, PATCH and
/// DELETE) it cannot write: see [`CustodiaLayer`], "Reads change nothing".
/// One `Tx` per request; a second one in the same request
/// is an error (500), not a deadlock. Keep it out of spawned tasks: the layer
/// waits for the handler to let go of it.
///
/// ```no_run
/// use custodia_axum::{Error, Tx};
/// use sqlx_core::row::Row as _;
///
/// async fn count_tickets(mut tx: Tx) -> Result<String, Error> {
///     let row = sqlx_core::query::query::<sqlx_postgres::Postgres>("SELECT count(*) FROM tickets")
///         .fetch_one(&mut *tx)
///         .await?;
///     Ok(row.try_get::<i64, _>(0)?.to_string())
/// }
/// # let _ = axum::Router::<()>::new().route("/count", axum::routing::get(count_tickets));
/// ```
pub struct Tx {
    guard: OwnedMappedMutexGuard<Option<Transaction<'static, Postgres>>, PgConnection>,
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx").finish_non_exhaustive()
    }
}

impl Deref for Tx {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self.guard
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.guard
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Tx {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        let slot = parts
            .extensions
            .get::<TxSlot>()
            .ok_or(Error::Misconfigured(
                "the Tx extractor needs CustodiaLayer on the route",
            ))?;
        let mut guard = Arc::clone(&slot.cell).try_lock_owned().map_err(|_| {
            Error::Misconfigured("the request's transaction is already taken by another Tx")
        })?;
        if guard.is_none() {
            *guard = Some(match slot.access {
                Access::Write => begin_bound(&slot.pool, slot.tenant).await?,
                read => begin_read_only(&slot.pool, slot.tenant, read).await?,
            });
        }
        OwnedMutexGuard::try_map(guard, |tx| tx.as_deref_mut())
            .map(|guard| Tx { guard })
            .map_err(|_| Error::Misconfigured("the request's transaction is gone"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_are_audited_and_reads_only_when_asked() {
        let target = Target::new("ticket", "1").unwrap();
        let plain = Audit::new(target.clone());
        let personal = Audit::new(target).subject(custodia_core::SubjectId::random());
        let (off, on) = (
            ReadAuditing {
                on: false,
                panicked: false,
            },
            ReadAuditing {
                on: true,
                panicked: false,
            },
        );
        assert_eq!(
            audited_action(&Method::POST, None, off),
            Some(Action::Create)
        );
        assert_eq!(
            audited_action(&Method::PATCH, None, off),
            Some(Action::Update)
        );
        assert_eq!(
            audited_action(&Method::DELETE, None, off),
            Some(Action::Delete)
        );
        assert_eq!(audited_action(&Method::GET, Some(&personal), off), None);
        assert_eq!(audited_action(&Method::GET, Some(&plain), on), None);
        assert_eq!(audited_action(&Method::GET, None, on), None);
        assert_eq!(
            audited_action(&Method::GET, Some(&personal), on),
            Some(Action::Read)
        );
        // A read that panicked: the attempt, when reads are audited.
        let panicked = |on| ReadAuditing { on, panicked: true };
        assert_eq!(
            audited_action(&Method::GET, None, panicked(true)),
            Some(Action::Read)
        );
        assert_eq!(audited_action(&Method::GET, None, panicked(false)), None);
        let erase = personal.clone().action(Action::Erase);
        assert_eq!(
            audited_action(&Method::POST, Some(&erase), off),
            Some(Action::Erase)
        );
    }

    #[test]
    fn a_client_request_id_is_kept_only_when_it_is_a_uuid() {
        // The id goes into the append-only log in clear, where nothing can
        // be erased: a client's free text (a user name, an email address, a
        // card number used as a correlation id) must not.
        let value = |v: &str| HeaderValue::from_str(v).unwrap();
        for personal in [
            "alice@example.com",
            "alice.smith",
            "4111111111111111",
            "07700900123",
            "order-for-jane-doe",
        ] {
            assert_eq!(request_id(Some(&value(personal))), None, "{personal}");
        }
        let id = "0f8fad5b-d9cb-469f-a165-70867728950e";
        assert_eq!(request_id(Some(&value(id))).as_deref(), Some(id));
        // nginx's $request_id (32 hex digits) and upper case: the same id, hyphenated.
        assert_eq!(
            request_id(Some(&value("0F8FAD5BD9CB469FA16570867728950E"))).as_deref(),
            Some(id)
        );
    }

    #[test]
    fn request_ids_are_kept_only_when_tame() {
        let value = |v: &str| HeaderValue::from_str(v).unwrap();
        assert_eq!(request_id(Some(&value("abc-123"))), None);
        assert_eq!(request_id(Some(&value("has space"))), None);
        assert_eq!(request_id(Some(&value(""))), None);
        assert_eq!(request_id(None), None);
        assert_eq!(truncate("héllo", 2), "h");
    }
}
