//! The one error type of `custodia-dsr`.

use custodia_core::{Shared, SubjectId, Timestamp};

use crate::breach::IncidentId;
use crate::request::{RequestId, RequestState};

/// An error from a host-implemented seam (a source, an audit sink, a retention
/// check, a key shredder, a forwarder). Kept as the typed source of an
/// [`Error`], as a [`HostError`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A host seam's error (or an audit log's, or a key vault's) as the source
/// of an [`Error`]: shared, so that [`Error`] stays `Clone` and `PartialEq`
/// (compared by message). [`Shared::get`] is the error itself, for
/// downcasting to the host's own type.
pub type HostError = Shared<dyn std::error::Error + Send + Sync + 'static>;

/// `error` as a [`HostError`].
pub(crate) fn host(error: impl Into<BoxError>) -> HostError {
    Shared::from_box(error.into())
}

/// Everything that can go wrong in a data-subject request, a breach record or a
/// record of processing.
///
/// Errors say which request, source or document was involved and what was
/// expected. They never carry the subject's personal data (field values).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request's state does not allow this step (e.g. completing a request
    /// that was never verified, or verifying one that was rejected).
    #[error("request {request}: cannot {action} a request that is {from}")]
    InvalidTransition {
        /// The request.
        request: RequestId,
        /// Its state.
        from: RequestState,
        /// The refused step: `"verify"`, `"start"`, `"complete"`, ….
        action: &'static str,
    },
    /// The deadline was already extended once; Art. 12(3) allows one extension
    /// of two further months in total.
    #[error("request {request}: the deadline was already extended")]
    AlreadyExtended {
        /// The request.
        request: RequestId,
    },
    /// Art. 12(3): the person must be told of an extension within the first
    /// month; after the original deadline it is too late to extend.
    #[error("request {request}: too late to extend, the original deadline {due} has passed")]
    ExtensionTooLate {
        /// The request.
        request: RequestId,
        /// The original deadline.
        due: Timestamp,
    },
    /// A reason or other required text was empty.
    #[error("{what} must not be empty")]
    Empty {
        /// Which text: `"extension reason"`, `"rejection detail"`, ….
        what: &'static str,
    },
    /// A step was asked of a request of another kind (e.g. erasing for an access request).
    #[error("request {request} is a {actual} request, not {expected}")]
    WrongKind {
        /// The request.
        request: RequestId,
        /// The kinds the step serves.
        expected: &'static str,
        /// The request's kind.
        actual: &'static str,
    },
    /// The request is handled as a processor: forward it to the controller
    /// instead of answering it (Art. 28(3)(e)).
    #[error("request {request} is handled as processor: forward it to the controller")]
    ProcessorMustForward {
        /// The request.
        request: RequestId,
    },
    /// Only a request handled as processor can be forwarded to a controller.
    #[error("request {request} is handled as controller: answer it, do not forward it")]
    NotProcessor {
        /// The request.
        request: RequestId,
    },
    /// A time before the request's receipt, or in the future, where neither makes sense.
    #[error("request {request}: time {at} is {problem}")]
    InvalidTime {
        /// The request.
        request: RequestId,
        /// The rejected time.
        at: Timestamp,
        /// `"before receipt"` or `"in the future"`.
        problem: &'static str,
    },
    /// A breach incident the organisation became aware of in the future (past
    /// the register's clock by more than
    /// [`AWARENESS_SKEW_SECONDS`](crate::breach::AWARENESS_SKEW_SECONDS)):
    /// awareness starts every clock, and a later one would push the
    /// deadlines out.
    #[error(
        "incident {incident}: awareness time {aware_at} is in the future (the register's clock reads {now}); give the time the organisation became aware"
    )]
    AwareInFuture {
        /// The incident.
        incident: IncidentId,
        /// Its awareness time.
        aware_at: Timestamp,
        /// The register's clock.
        now: Timestamp,
    },
    /// A breach window that starts after it ends.
    #[error("incident {incident}: the breach window starts at {start}, after its end at {end}")]
    WindowReversed {
        /// The incident.
        incident: IncidentId,
        /// The window's start.
        start: Timestamp,
        /// The window's end.
        end: Timestamp,
    },
    /// A deadline beyond chrono's range (only for absurd receipt dates).
    #[error("deadline out of range for a request received at {received}")]
    DeadlineOutOfRange {
        /// The receipt time.
        received: Timestamp,
    },
    /// Some sources failed; their progress is recorded on the request, which
    /// stays open. Run the step again to resume.
    #[error("request {request} is incomplete: sources {failed:?} failed; run it again to resume")]
    Incomplete {
        /// The request.
        request: RequestId,
        /// The sources that failed, by name.
        failed: Vec<String>,
    },
    /// Two sources registered under one name: progress could not tell them apart.
    #[error("two personal-data sources are named {0:?}")]
    DuplicateSource(String),
    /// The audit sink refused an event; the step is not considered done.
    #[error("audit sink refused the event: {0}")]
    Audit(#[source] HostError),
    /// The retention check failed; nothing was erased from that record.
    #[error("retention check failed for {source_name:?} record {record:?}: {source}")]
    Retention {
        /// The source's name.
        source_name: String,
        /// The record id.
        record: String,
        /// What the check reported.
        source: HostError,
    },
    /// Reading the subject's audit history for the export failed.
    #[error("reading the subject's audit history failed: {0}")]
    AuditHistory(#[source] HostError),
    /// Shredding the subject's key failed; the erasure stays resumable.
    #[error("shredding the key of subject {subject} failed: {source}")]
    Shred {
        /// The subject.
        subject: SubjectId,
        /// What the key store reported.
        source: HostError,
    },
    /// Forwarding a request to its controller failed.
    #[error("forwarding request {request} to the controller failed: {source}")]
    Forward {
        /// The request.
        request: RequestId,
        /// What the forwarder reported.
        source: HostError,
    },
    /// The export bundle was produced but its delivery
    /// ([`Desk::export_with`](crate::Desk::export_with)) failed: the
    /// request is not completed and stays open; export it again.
    #[error(
        "request {request}: the export bundle was not delivered: {source}; the request stays open: export it again"
    )]
    Delivery {
        /// The request.
        request: RequestId,
        /// What the delivery reported.
        source: HostError,
    },
    /// A serialised document (export bundle, certificate, registry, request)
    /// that is not valid JSON of the expected shape.
    #[error("invalid {what}: {message}")]
    Decode {
        /// Which document.
        what: &'static str,
        /// Where and why parsing failed.
        message: String,
        /// The JSON parser's error, when the text is not JSON of the shape.
        #[source]
        source: Option<Shared<serde_json::Error>>,
    },
    /// A serialised document of a schema version this build does not read.
    #[error("unsupported {what} version {found} (this build reads version {supported})")]
    UnsupportedVersion {
        /// Which document.
        what: &'static str,
        /// The version found.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// Serialising a document failed.
    #[error("could not serialise {what}: {source}")]
    Encode {
        /// Which document.
        what: &'static str,
        /// The serialiser's error.
        source: Shared<serde_json::Error>,
    },
}
