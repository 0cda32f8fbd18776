//! Audit events: every step of a request or an incident is recorded.
//!
//! The documentation is on the main item; the crate root re-exports the
//! module's public items.

use std::sync::{Arc, Mutex, PoisonError};

use custodia_core::{ActorId, SubjectId, TenantId, Timestamp};
use custodia_crypt::ShredOutcome;
use serde::{Deserialize, Serialize};

use crate::breach::{IncidentId, NotificationRecipient};
use crate::erasure::BlockingRecord;
use crate::error::BoxError;
use crate::request::{RejectionReason, RequestId, VerificationMethod};
use crate::retention::ErasureException;
use crate::source::RecordRef;

/// One audited step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DsrEvent {
    /// When.
    pub at: Timestamp,
    /// The tenant concerned; `None` for a vendor-wide incident.
    pub tenant: Option<TenantId>,
    /// The person concerned, if one.
    pub subject: Option<SubjectId>,
    /// Who acted, if a person or key did (not the desk itself).
    pub actor: Option<ActorId>,
    /// The request, for request steps.
    pub request: Option<RequestId>,
    /// The incident, for breach steps.
    pub incident: Option<IncidentId>,
    /// What happened.
    pub action: DsrAction,
}

/// What happened, with the details an auditor needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[non_exhaustive]
pub enum DsrAction {
    /// A request was logged.
    RequestReceived {
        /// `"access"`, `"erasure"`, ….
        kind: String,
        /// Its deadline.
        due: Timestamp,
    },
    /// The requester's identity was checked.
    IdentityVerified {
        /// How.
        method: VerificationMethod,
    },
    /// Work on the request began.
    WorkStarted,
    /// The deadline was extended.
    DeadlineExtended {
        /// Why.
        reason: String,
        /// The new deadline.
        due: Timestamp,
    },
    /// The request was refused.
    RequestRejected {
        /// Why.
        reason: RejectionReason,
        /// Whether the person was told later than one month after receipt
        /// (Art. 12(4)); see [`Rejection::late`](crate::request::Rejection::late).
        #[serde(default)]
        late: bool,
    },
    /// The request was answered.
    RequestCompleted {
        /// Whether it was answered after its deadline (Art. 12(3)); see
        /// [`Request::completed_late`](crate::Request::completed_late).
        /// Absent in events written before it existed: read as `false`.
        #[serde(default)]
        late: bool,
    },
    /// The request was forwarded to the controller (processor mode).
    RequestForwarded {
        /// The controller's name.
        controller: String,
        /// The controller's reference, if any.
        reference: Option<String>,
    },
    /// A source was searched for the subject.
    SourceLocated {
        /// The source.
        source: String,
        /// Records found.
        records: usize,
    },
    /// Records were exported from a source.
    SourceExported {
        /// The source.
        source: String,
        /// Records exported.
        records: usize,
    },
    /// Fields were corrected in a source.
    SourceRectified {
        /// The source.
        source: String,
        /// Records changed.
        records: usize,
        /// Fields changed.
        fields: usize,
    },
    /// Records were erased in a source.
    SourceErased {
        /// The source.
        source: String,
        /// Records deleted outright.
        records_deleted: usize,
        /// Fields deleted in records that were kept.
        fields_deleted: usize,
        /// Fields anonymized.
        fields_anonymized: usize,
    },
    /// A record was kept despite an erasure request.
    RecordKept {
        /// The source.
        source: String,
        /// The record's type.
        record_type: String,
        /// The record's id.
        record_id: String,
        /// The Art. 17(3) exception.
        exception: ErasureException,
        /// Until when, if known.
        until: Option<Timestamp>,
    },
    /// A source's subject-level step ran
    /// ([`PersonalDataSource::subject_step`](crate::PersonalDataSource::subject_step)):
    /// recorded only for a source that keeps subject-level state.
    SubjectStep {
        /// The source.
        source: String,
        /// Which step ([`SubjectStep::name`](crate::SubjectStep::name)):
        /// `access`, `restrict`, `lift`, `stop_purposes`, `erase`.
        step: String,
        /// Subject-level records exported, written or removed (0: the
        /// source held none for this subject).
        records: usize,
    },
    /// Processing was restricted, lifted or stopped for purposes in a source.
    SourceRestricted {
        /// The source.
        source: String,
        /// Records affected.
        records: usize,
    },
    /// A source failed; the request stays resumable.
    SourceFailed {
        /// The source.
        source: String,
        /// Which operation.
        operation: String,
        /// What it reported.
        error: String,
    },
    /// The subject's key was shredded (crypto-shredding): destroyed, or none
    /// existed and only the tombstone that stops one being made was written.
    SubjectKeyShredded {
        /// Which of the two, from the shred receipt: `key_destroyed` or
        /// `no_key_existed` (often the wrong tenant or person named).
        /// Absent in events logged before it existed, read as `unrecorded`;
        /// not written when `unrecorded`, so such an event keeps its old
        /// JSON (`{"action": "subject_key_shredded"}`).
        #[serde(default, skip_serializing_if = "crate::erasure::is_unrecorded")]
        outcome: ShredOutcome,
    },
    /// The subject's key was not shredded because the erasure keeps records
    /// that still need it.
    SubjectKeyShredDeferred {
        /// How many kept records still need the key (`blocking.len()`).
        records_kept: usize,
        /// The kept records that still need the key (ids, no values).
        #[serde(default)]
        blocking: Vec<BlockingRecord>,
        /// Latest end date; `None` while a hold without end date applies.
        until: Option<Timestamp>,
    },
    /// A re-run of a deferred erasure found nothing changed: the same
    /// records are still kept and still need the key. Emitted once per run
    /// instead of repeating the erasure's events.
    SubjectKeyShredStillDeferred {
        /// How many kept records still need the key.
        records_blocking: usize,
    },
    /// Kept records of a source were re-sealed under another key so that
    /// the subject key can be shredded.
    RecordsResealed {
        /// The source.
        source: String,
        /// The records (ids, no values).
        records: Vec<RecordRef>,
        /// Fields re-sealed, across them.
        fields: usize,
    },
    /// Re-sealing a kept record failed; it keeps needing the subject key
    /// for now and is tried again on the next run.
    ResealFailed {
        /// The source.
        source: String,
        /// The record's type.
        record_type: String,
        /// The record's id.
        record_id: String,
        /// What the source reported.
        error: String,
    },
    /// An export bundle was produced: recorded before it is delivered
    /// ([`Desk::export_with`](crate::Desk::export_with)); the request's
    /// [`RequestCompleted`](DsrAction::RequestCompleted) says it was.
    BundleProduced {
        /// Records in it.
        records: usize,
        /// Sources it came from.
        sources: usize,
        /// Audit events included.
        audit_events: usize,
    },
    /// Delivering the export bundle failed: the request stays open.
    BundleNotDelivered {
        /// What the delivery reported.
        error: String,
    },
    /// An erasure certificate was issued.
    CertificateIssued {
        /// Records erased or anonymized.
        erased: usize,
        /// Records kept under an exception.
        kept: usize,
        /// When the data leaves the backups, if known.
        backups_clear_by: Option<Timestamp>,
    },
    /// A breach incident was recorded.
    BreachRecorded {
        /// Whether the desk acts as controller or processor for it.
        role: custodia_core::Role,
    },
    /// A breach incident's details were updated (Art. 33(4): in phases).
    BreachUpdated,
    /// A breach was notified.
    BreachNotified {
        /// To whom.
        recipient: NotificationRecipient,
        /// Whether it was after the deadline (reasons are then required).
        late: bool,
    },
}

/// Where [`DsrEvent`]s go: [`AuditTrail`](crate::AuditTrail) on a `custodia-audit` log,
/// [`MemorySink`], or the host's own log.
///
/// Audit events: every step of a request or an incident is recorded.
///
/// [`DsrEvent`] is the typed event this crate emits; [`DsrEventSink`] is where it
/// goes: [`AuditTrail`](crate::AuditTrail) writes each one to a
/// `custodia-audit` tamper-evident log (the mapping to audit actions is
/// documented on [`AuditTrail`](crate::AuditTrail)); a host may implement the
/// trait on its own log, and tests use [`MemorySink`].
///
/// Events carry ids, names, counts and reasons — never the subject's field
/// values — so the audit log does not become a second copy of the data being
/// erased.
///
/// If the sink refuses an event, the step fails with
/// [`Error::Audit`](crate::Error::Audit): a state change is not committed, and
/// a source step is recorded as failed and redone (idempotently) on the next
/// run. Nothing happens without its audit record.
pub trait DsrEventSink: Send + Sync {
    /// Records one event durably, or says why not.
    fn record(&self, event: &DsrEvent) -> Result<(), BoxError>;
}

impl<S: DsrEventSink + ?Sized> DsrEventSink for Arc<S> {
    fn record(&self, event: &DsrEvent) -> Result<(), BoxError> {
        (**self).record(event)
    }
}

impl<S: DsrEventSink + ?Sized> DsrEventSink for &S {
    fn record(&self, event: &DsrEvent) -> Result<(), BoxError> {
        (**self).record(event)
    }
}

/// Keeps events in memory: for tests, and for hosts that batch them.
#[derive(Debug, Default)]
pub struct MemorySink {
    events: Mutex<Vec<DsrEvent>>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of every event so far, oldest first.
    pub fn events(&self) -> Vec<DsrEvent> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The actions so far, oldest first.
    pub fn actions(&self) -> Vec<DsrAction> {
        self.events().into_iter().map(|e| e.action).collect()
    }
}

impl DsrEventSink for MemorySink {
    fn record(&self, event: &DsrEvent) -> Result<(), BoxError> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(event.clone());
        Ok(())
    }
}
