//! Where audit events go ([`AuditSink`], [`SqlxAuditSink`]) and what a handler
//! adds to its request's event ([`Audit`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::response::{IntoResponseParts, ResponseParts};
use custodia_audit::{Action, Event, FieldChange, SqlxAuditStore, Target, seal_event_async};
use custodia_core::SubjectId;
use custodia_crypt::{AsyncSubjectVault, KeyStore};
use sqlx_postgres::PgConnection;

/// The future an [`AuditSink`] returns.
pub type SinkFuture<'a> =
    Pin<Box<dyn Future<Output = Result<(), custodia_audit::Error>> + Send + 'a>>;

/// Records the audit events `CustodiaLayer` builds, one per audited request.
///
/// An event reaches the sink with the client's IP address and user agent in
/// the clear when the request concerns a data subject (and without them
/// otherwise); the sink must seal them before they are stored, as
/// [`SqlxAuditSink`] does.
///
/// A successful request's event is given to [`stage`](Self::stage) with the
/// request's transaction, before the layer commits it; other events (error
/// responses, requests that used no transaction, a failed commit) to
/// [`record`](Self::record), except audited reads when the layer buffers
/// them, which all go to [`record_soon`](Self::record_soon). A failed
/// `stage`, `record` or `record_soon` fails the request: the client gets
/// 500, and a transaction not yet committed is rolled back (a buffered
/// read's is read-only and committed before its event is queued).
pub trait AuditSink: Send + Sync + 'static {
    /// Seals and appends one event.
    fn record(&self, event: Event) -> SinkFuture<'_>;

    /// Seals `event` and writes it in the transaction `conn` is in, so that
    /// it is on the record if and only if that transaction commits. The
    /// default records it at once instead (write-ahead: the event is kept
    /// even if the commit then fails, and a second event records the
    /// failure), after checking with one `SELECT 1` on `conn` that the
    /// transaction can still commit: PostgreSQL answers the `COMMIT` of a
    /// transaction a failed statement aborted with a rollback, not an error,
    /// so the failure would otherwise go unseen. An implementation that
    /// writes through `conn` checks that by writing.
    fn stage<'a>(&'a self, conn: &'a mut PgConnection, event: Event) -> SinkFuture<'a> {
        Box::pin(async move {
            crate::layer::ensure_live(conn)
                .await
                .map_err(|source| custodia_audit::Error::Sqlx { source })?;
            self.record(event).await
        })
    }

    /// A transaction with a staged event committed: move what was staged
    /// into the log (without making the client wait for it). Default: nothing.
    fn committed(&self) {}

    /// Seals `event` and queues it for the log without writing it in the
    /// caller's path: it is on the record once a later write commits it,
    /// and lost if the process dies first. For audited reads when the layer
    /// buffers them ([`CustodiaLayer::buffer_reads`](crate::CustodiaLayer::buffer_reads)).
    /// The default records it at once ([`record`](Self::record)).
    fn record_soon(&self, event: Event) -> SinkFuture<'_> {
        self.record(event)
    }
}

/// An [`AuditSink`] over a PostgreSQL audit log ([`SqlxAuditStore`]): seals
/// personal values under the subject's key with an [`AsyncSubjectVault`],
/// then stages the event in the request's transaction
/// ([`SqlxAuditStore::stage`]) and, once it commits, drains it into the log
/// on a background task ([`SqlxAuditStore::drain_soon`]); an event outside a
/// request's transaction (an error response, a request that used none) is
/// staged on its own ([`SqlxAuditStore::stage_now`]), so the log keeps the
/// order in which events were staged.
///
/// Staging is one `INSERT` in the transaction the request already holds,
/// where appending first would make every audited request wait for the
/// log's lock and its own commit while holding its connection: the
/// difference is most of the layer's cost under load (BENCHMARKS.md).
/// Readers that must see every committed event (a verifier, an export)
/// call `drain` first.
///
/// Sealing ([`seal_event_async`]) runs inline while the subject's key is
/// cached, and on tokio's blocking pool when the vault needs its store (a
/// PostgreSQL key store does network I/O; a
/// `SqlxKeyStore` answers only there).
/// A subject whose key was shredded cannot have new values sealed: the event
/// is then recorded without its personal values rather than refused.
pub struct SqlxAuditSink<S> {
    store: Arc<SqlxAuditStore>,
    vault: AsyncSubjectVault<S>,
}

impl<S> SqlxAuditSink<S> {
    /// Appends to `store`, sealing with `vault`.
    pub fn new(store: Arc<SqlxAuditStore>, vault: AsyncSubjectVault<S>) -> Self {
        Self { store, vault }
    }
}

impl<S> std::fmt::Debug for SqlxAuditSink<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlxAuditSink")
            .field("log", &self.store.log())
            .finish_non_exhaustive()
    }
}

impl<S: KeyStore + Send + Sync + 'static> AuditSink for SqlxAuditSink<S> {
    fn record(&self, event: Event) -> SinkFuture<'_> {
        Box::pin(async move {
            let event = seal_event_async(&self.vault, event).await?;
            self.store.stage_now(&event).await
        })
    }

    fn stage<'a>(&'a self, conn: &'a mut PgConnection, event: Event) -> SinkFuture<'a> {
        Box::pin(async move {
            let event = seal_event_async(&self.vault, event).await?;
            self.store.stage(conn, &event).await
        })
    }

    fn committed(&self) {
        self.store.drain_soon();
    }

    /// Sealed, then queued for this process's next background drain
    /// ([`SqlxAuditStore::append_soon`]).
    fn record_soon(&self, event: Event) -> SinkFuture<'_> {
        Box::pin(async move {
            let event = seal_event_async(&self.vault, event).await?;
            self.store.append_soon(&event)
        })
    }
}

/// What a handler tells the audit layer about its request: the record it
/// acted on, the data subject it concerns, field changes, another action.
///
/// Returned as part of the response (it implements `IntoResponseParts`);
/// the layer takes it out before the response leaves. Without it, a
/// mutating request is recorded with target `route` / the matched route
/// (`/tickets/{id}`) and no subject, so no IP address or user agent.
///
/// ```
/// use custodia_audit::Target;
/// use custodia_axum::Audit;
/// use custodia_core::{SubjectId, TenantId};
///
/// async fn close_ticket() -> Result<(Audit, &'static str), custodia_axum::Error> {
///     # let (tenant, id) = (TenantId::random(), "T-1");
///     let requester = SubjectId::from_external_key(tenant, "helpdesk.contact", "42");
///     let audit = Audit::new(Target::new("ticket", id)?).subject(requester);
///     Ok((audit, "closed"))
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Audit {
    pub(crate) target: Target,
    pub(crate) subject: Option<SubjectId>,
    pub(crate) action: Option<Action>,
    pub(crate) changes: Vec<FieldChange>,
}

impl Audit {
    /// The request acted on `target`.
    pub fn new(target: Target) -> Self {
        Self {
            target,
            subject: None,
            action: None,
            changes: Vec::new(),
        }
    }

    /// The request concerns `subject`: the client's IP address and user agent
    /// are recorded, sealed under the subject's key. With `audit_reads` on,
    /// this also makes a read an audited read of personal data.
    #[must_use]
    pub fn subject(mut self, subject: SubjectId) -> Self {
        self.subject = Some(subject);
        self
    }

    /// Records `action` instead of the one the method implies (POST create,
    /// PUT/PATCH update, DELETE delete, GET read).
    #[must_use]
    pub fn action(mut self, action: Action) -> Self {
        self.action = Some(action);
        self
    }

    /// Adds a field change, its values sealed under the
    /// [`subject`](Self::subject)'s key like the IP address. Give the
    /// subject too: a clear value with no subject has no key to be sealed
    /// under, so [`SqlxAuditSink`] refuses the event, and the request is
    /// answered 500 and rolled back (its failure event, carrying the same
    /// change, is refused alike).
    #[must_use]
    pub fn change(mut self, change: FieldChange) -> Self {
        self.changes.push(change);
        self
    }
}

impl IntoResponseParts for Audit {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        res.extensions_mut().insert(self);
        Ok(res)
    }
}
