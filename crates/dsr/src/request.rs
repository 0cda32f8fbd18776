//! Data-subject requests: what was asked, by whom, how identity was checked,
//! where the request stands and when it is due.
//!
//! The documentation is on the main item; the crate root re-exports the
//! module's public items.

use std::fmt;

use custodia_core::{ActorId, DataCategory, Purpose, Role, SubjectId, TenantId, Timestamp};
use serde::{Deserialize, Serialize};

use crate::erasure::ErasureCertificate;
use crate::error::Error;
use crate::period::months_after;
use crate::source::Progress;

/// Months a request may take (Art. 12(3), first sentence).
pub const RESPONSE_MONTHS: u32 = 1;
/// Further months an extension adds (Art. 12(3), second sentence).
pub const EXTENSION_MONTHS: u32 = 2;

custodia_core::uuid_id!(
    /// Identifies a data-subject request.
    #[derive(Serialize, Deserialize)]
    #[serde(transparent)]
    RequestId,
    "request id",
    random
);

/// A correction the person asks for (Art. 16): every field within `category`
/// gets `value`. A correction that matches no field is reported, so the host
/// can complete incomplete data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    /// The kind of data to correct, e.g. `user.contact.email`.
    pub category: DataCategory,
    /// The corrected value.
    pub value: String,
}

/// What the person asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RequestKind {
    /// Art. 15: a copy of their data and information about its processing.
    Access,
    /// Art. 16: correct or complete their data.
    Rectification {
        /// The corrections.
        corrections: Vec<Correction>,
    },
    /// Art. 17: erase their data.
    Erasure,
    /// Art. 18: restrict processing to storage (or, with `lift`, end a restriction;
    /// the person must be told before, Art. 18(3)).
    Restriction {
        /// Whether this lifts an earlier restriction.
        #[serde(default)]
        lift: bool,
    },
    /// Art. 21: stop processing for these purposes (direct marketing: absolute).
    Objection {
        /// The purposes objected to; at least one (the desk refuses an
        /// objection naming none, [`Error::Empty`], on receipt and on a run).
        purposes: Vec<Purpose>,
    },
    /// Art. 20: the data they provided, machine-readable.
    Portability,
}

impl RequestKind {
    /// The snake_case name: `"access"`, `"rectification"`, ….
    pub fn name(&self) -> &'static str {
        match self {
            RequestKind::Access => "access",
            RequestKind::Rectification { .. } => "rectification",
            RequestKind::Erasure => "erasure",
            RequestKind::Restriction { .. } => "restriction",
            RequestKind::Objection { .. } => "objection",
            RequestKind::Portability => "portability",
        }
    }

    /// `Err(Error::Empty)` for an objection that names no purpose: run, it
    /// would stop nothing and still be completed as honoured.
    pub(crate) fn check(&self) -> Result<(), Error> {
        match self {
            RequestKind::Objection { purposes } if purposes.is_empty() => Err(Error::Empty {
                what: "purposes objected to (Art. 21)",
            }),
            _ => Ok(()),
        }
    }

    /// The GDPR article of the right: `"Art. 15"` for access, and so on.
    pub fn article(&self) -> &'static str {
        match self {
            RequestKind::Access => "Art. 15",
            RequestKind::Rectification { .. } => "Art. 16",
            RequestKind::Erasure => "Art. 17",
            RequestKind::Restriction { .. } => "Art. 18",
            RequestKind::Objection { .. } => "Art. 21",
            RequestKind::Portability => "Art. 20",
        }
    }
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    /// Logged, identity not yet checked.
    Received,
    /// Identity checked; work not begun.
    Verified,
    /// Sources are being worked through.
    InProgress,
    /// In progress, with the deadline extended by two months.
    Extended,
    /// Answered. Final.
    Completed,
    /// Refused, with a reason (Art. 12(4)). Final.
    Rejected,
    /// Handed to the controller (processor mode). Final.
    Forwarded,
}

impl RequestState {
    /// The snake_case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            RequestState::Received => "received",
            RequestState::Verified => "verified",
            RequestState::InProgress => "in_progress",
            RequestState::Extended => "extended",
            RequestState::Completed => "completed",
            RequestState::Rejected => "rejected",
            RequestState::Forwarded => "forwarded",
        }
    }

    /// Whether no further step is possible.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            RequestState::Completed | RequestState::Rejected | RequestState::Forwarded
        )
    }
}

impl fmt::Display for RequestState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// How the requester's identity was established (Art. 12(6)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationMethod {
    /// The request came from the person's authenticated session in the portal.
    AuthenticatedSession,
    /// A code sent to the contact address on file was returned.
    ContactChallenge,
    /// The subscriber's account holder confirmed the person (processor contexts).
    AccountHolderConfirmation,
    /// An identity document was checked (and not kept longer than needed).
    DocumentCheck,
    /// Something else, described.
    Other(String),
}

/// The record of an identity check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityVerification {
    /// How.
    pub method: VerificationMethod,
    /// Who checked.
    pub verified_by: ActorId,
    /// When (set by the [`Desk`](crate::Desk) from its clock).
    pub at: Timestamp,
    /// Free-text notes, without copies of documents.
    #[serde(default)]
    pub note: String,
}

/// Why a request was refused (Art. 12(4), 12(5), 17(3), 20).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectionReason {
    /// The requester's identity could not be established (Art. 12(6)).
    IdentityNotVerified,
    /// Manifestly unfounded (Art. 12(5)).
    ManifestlyUnfounded,
    /// Excessive, in particular repetitive (Art. 12(5)).
    Excessive,
    /// The right does not apply (e.g. portability of data not processed on
    /// consent or contract, Art. 20(1)).
    RightNotApplicable,
    /// The requester withdrew the request.
    Withdrawn,
    /// Another reason, stated in the detail.
    Other,
}

/// A refusal with its reasons; the person must also be told of their right to
/// complain to a supervisory authority (Art. 12(4)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// The reason.
    pub reason: RejectionReason,
    /// The explanation given to the person. Must not be empty.
    pub detail: String,
    /// When (set by the desk).
    pub at: Timestamp,
    /// Whether the refusal came later than one month after receipt
    /// ([`Request::decision_due`]), when Art. 12(4) required the person to
    /// be told of the reasons. A late refusal is still recorded (the person
    /// must be told, late or not) but flagged, here and in the audit event,
    /// for the privacy officer. An extension does not move this month: it
    /// extends the time to act, not to say that the controller will not.
    /// Never set for [`RejectionReason::Withdrawn`] (the person ended the
    /// request; the controller refused nothing). Absent in requests written
    /// before it existed: read as `false`.
    #[serde(default)]
    pub late: bool,
}

/// Where an open request stands against its deadlines
/// ([`Request::deadline_status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DeadlineStatus {
    /// Completed, rejected or forwarded.
    Closed,
    /// Open, within its (possibly extended) deadline.
    OnTime {
        /// The deadline.
        due: Timestamp,
    },
    /// Open and not extended, and the month after receipt has ended with no
    /// decision: not answered, not extended (now too late, Art. 12(3)), not
    /// refused with reasons (Art. 12(4)). A refusal is still possible but
    /// will be recorded as late.
    NoDecision {
        /// When the month ended.
        month_ended: Timestamp,
    },
    /// Extended, and past the extended deadline.
    Overdue {
        /// The extended deadline.
        due: Timestamp,
    },
}

impl DeadlineStatus {
    /// Whether it needs the privacy officer (no decision, or overdue).
    pub fn is_late(&self) -> bool {
        matches!(self, Self::NoDecision { .. } | Self::Overdue { .. })
    }
}

/// A recorded deadline extension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    /// Why (complexity, number of requests). Must not be empty.
    pub reason: String,
    /// When it was decided.
    pub at: Timestamp,
    /// Who decided.
    pub by: ActorId,
    /// The deadline before the extension.
    pub original_due: Timestamp,
}

/// A controller a processor forwards requests to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    /// Legal name.
    pub name: String,
    /// Contact address (email, postal address or portal).
    pub contact: String,
    /// The controller's tenant, when it is a subscriber of this helpdesk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<TenantId>,
}

/// The record that a processor forwarded a request rather than answering it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forwarding {
    /// To whom.
    pub controller: Party,
    /// When.
    pub at: Timestamp,
    /// Who forwarded it.
    pub by: ActorId,
    /// The controller's reference, if the channel returned one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// One step in a request's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// When.
    pub at: Timestamp,
    /// Who took the step.
    pub by: ActorId,
    /// From which state.
    pub from: RequestState,
    /// To which state.
    pub to: RequestState,
}

/// A data-subject request and everything recorded about it.
///
/// The host persists it between steps (it is `Serialize`/`Deserialize`,
/// [`Request::to_json`] / [`Request::from_json`]); its [`Progress`] makes a
/// half-finished run resumable. Change it only through a
/// [`Desk`](crate::Desk), which checks each step and audits it.
///
/// Data-subject requests: what was asked, by whom, how identity was checked,
/// where the request stands and when it is due.
///
/// # State machine
///
/// ```text
///  received ──verify──▶ verified ──start──▶ in_progress ──complete──▶ completed
///     │                    │                    │   ▲
///     │                    └──────extend────────┤   │ (work continues)
///     │                                         ▼   │
///     │                                      extended ──complete──▶ completed
///     ├──forward (processor only)──▶ forwarded
///     └──reject (from any open state, with reason)──▶ rejected
/// ```
///
/// `completed`, `rejected` and `forwarded` are final. Any other step is refused
/// with [`Error::InvalidTransition`], naming the
/// request, its state and the step. Steps are taken through a
/// [`Desk`](crate::Desk), which stamps them with its clock and emits an audit
/// event for each.
///
/// # Deadline (Art. 12(3))
///
/// A request is due one month after receipt ([`crate::period`]: same date next
/// month, else that month's last day, end of day UTC). It can be extended
/// **once**, by two further months, with a recorded reason, and only while
/// the original month runs (the person must be told within it). The extended
/// deadline is two months after the original one — the conservative reading,
/// never later than three months after receipt.
///
/// # Not acting (Art. 12(4))
///
/// If the controller does not act on a request it must tell the person why
/// (and of the right to complain) without delay and at the latest within one
/// month of receipt. So the first month is the month to decide in
/// ([`Request::decision_due`]):
///
/// * an extension is refused after it ([`Error::ExtensionTooLate`]);
/// * a rejection after it is still accepted — the person must be told,
///   however late — but recorded as late ([`Rejection::late`], and `late` in
///   the `RequestRejected` audit event);
/// * likewise an answer after the deadline (the month, or the extended
///   deadline): completed, but flagged ([`Request::completed_late`], and
///   `late` in the `RequestCompleted` audit event);
/// * [`Request::deadline_status`] says [`DeadlineStatus::NoDecision`] for an
///   open, unextended request past that month, and
///   [`Desk::late_requests`](crate::Desk::late_requests) lists them with the
///   overdue ones.
///
/// The month is counted from receipt even when the deadline was extended:
/// the extension gives time to act, not to announce a refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// Format version of the serialised request ([`Request::VERSION`]).
    pub version: u32,
    /// The request.
    pub id: RequestId,
    /// The subscriber whose helpdesk holds the data.
    pub tenant: TenantId,
    /// The person.
    pub subject: SubjectId,
    /// What they ask.
    pub kind: RequestKind,
    /// Whether this helpdesk answers it (controller) or forwards it (processor).
    ///
    /// Use [`Role::Processor`] when the person asked a processor directly: the
    /// desk then refuses to answer and only [forwards](crate::Desk::forward).
    /// When the controller instructs the processor to carry a request out
    /// (Art. 28(3)(e) assistance), log that instruction with
    /// [`Role::Controller`] and
    /// [`VerificationMethod::AccountHolderConfirmation`]: the desk then acts
    /// on the controller's behalf.
    pub role: Role,
    /// When it was received.
    pub received_at: Timestamp,
    /// When it is due: one month after receipt ([`due_after_receipt`]), or,
    /// extended, two further months after that ([`extended_due`]): never
    /// later than three months after receipt, and up to two days earlier
    /// (received 31 January: due 28 February, extended 28 April).
    pub due: Timestamp,
    /// Where it stands.
    pub state: RequestState,
    /// How identity was checked, once it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<IdentityVerification>,
    /// The extension, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<Extension>,
    /// The refusal, if refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<Rejection>,
    /// The forwarding, if forwarded to a controller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarding: Option<Forwarding>,
    /// When it was completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<Timestamp>,
    /// Whether it was completed after its deadline ([`Request::due`]: one
    /// month after receipt, or the extended deadline; Art. 12(3)). A late
    /// answer is still recorded (the person gets it, late or not) but
    /// flagged, here and in the `RequestCompleted` audit event, for the
    /// privacy officer, as a late refusal is ([`Rejection::late`]). Absent
    /// in requests written before it existed: read as `false`.
    #[serde(default)]
    pub completed_late: bool,
    /// Per-source progress of the work.
    #[serde(default)]
    pub progress: Progress,
    /// The erasure certificate, once an erasure completed (returned again on a rerun).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<ErasureCertificate>,
    /// Every state change.
    #[serde(default)]
    pub history: Vec<Transition>,
}

/// The deadline of a request received at `received`: the end of the same date
/// one month later, or of that month's last day.
pub fn due_after_receipt(received: Timestamp) -> Result<Timestamp, Error> {
    months_after(received, RESPONSE_MONTHS).ok_or(Error::DeadlineOutOfRange { received })
}

/// The extended deadline: two further months after `original_due`.
pub fn extended_due(original_due: Timestamp) -> Result<Timestamp, Error> {
    months_after(original_due, EXTENSION_MONTHS).ok_or(Error::DeadlineOutOfRange {
        received: original_due,
    })
}

impl Request {
    /// The format version this build writes and reads.
    pub const VERSION: u32 = 1;

    pub(crate) fn new(
        tenant: TenantId,
        subject: SubjectId,
        kind: RequestKind,
        role: Role,
        received_at: Timestamp,
    ) -> Result<Self, Error> {
        kind.check()?;
        Ok(Self {
            version: Self::VERSION,
            id: RequestId::random(),
            tenant,
            subject,
            kind,
            role,
            received_at,
            due: due_after_receipt(received_at)?,
            state: RequestState::Received,
            verification: None,
            extension: None,
            rejection: None,
            forwarding: None,
            completed_at: None,
            completed_late: false,
            progress: Progress::default(),
            certificate: None,
            history: Vec::new(),
        })
    }

    /// Whether the request is past its (possibly extended) deadline at `now`
    /// and not yet final.
    pub fn is_overdue(&self, now: Timestamp) -> bool {
        !self.state.is_final() && now > self.due
    }

    /// One month after receipt: by then the controller must have acted,
    /// extended (Art. 12(3)) or told the person why it will not act
    /// (Art. 12(4)). Unlike [`Request::due`], an extension does not move it.
    pub fn decision_due(&self) -> Timestamp {
        match &self.extension {
            Some(extension) => extension.original_due,
            None => due_after_receipt(self.received_at).unwrap_or(self.due),
        }
    }

    /// Where the request stands against its deadlines at `now`.
    pub fn deadline_status(&self, now: Timestamp) -> DeadlineStatus {
        if self.state.is_final() {
            DeadlineStatus::Closed
        } else if self.extension.is_none() && now > self.decision_due() {
            DeadlineStatus::NoDecision {
                month_ended: self.decision_due(),
            }
        } else if now > self.due {
            DeadlineStatus::Overdue { due: self.due }
        } else {
            DeadlineStatus::OnTime { due: self.due }
        }
    }

    /// Whether this is a completed erasure whose subject-key shred is
    /// deferred (kept records still need the key): one
    /// [`Desk::resume_deferred_erasures`](crate::Desk::resume_deferred_erasures)
    /// re-runs.
    pub fn is_shred_deferred(&self) -> bool {
        matches!(self.kind, RequestKind::Erasure)
            && self.state == RequestState::Completed
            && self.certificate.as_ref().is_some_and(|c| {
                matches!(
                    c.subject_key,
                    crate::erasure::SubjectKeyStatus::Deferred { .. }
                )
            })
    }

    /// Serialises the request (for the host's own storage).
    pub fn to_json(&self) -> Result<String, Error> {
        serde_json::to_string(self).map_err(|e| Error::Encode {
            what: "request",
            source: e.into(),
        })
    }

    /// Parses a request written by [`Request::to_json`], checking its version.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        crate::json::decode_versioned(text, "request", Self::VERSION)
    }

    fn refuse(&self, action: &'static str) -> Error {
        Error::InvalidTransition {
            request: self.id,
            from: self.state,
            action,
        }
    }

    fn check_time(&self, at: Timestamp) -> Result<(), Error> {
        if at < self.received_at {
            return Err(Error::InvalidTime {
                request: self.id,
                at,
                problem: "before receipt",
            });
        }
        Ok(())
    }

    fn move_to(&mut self, to: RequestState, at: Timestamp, by: ActorId) {
        self.history.push(Transition {
            at,
            by,
            from: self.state,
            to,
        });
        self.state = to;
    }

    /// received → verified.
    pub(crate) fn verify(&mut self, verification: IdentityVerification) -> Result<(), Error> {
        if self.state != RequestState::Received {
            return Err(self.refuse("verify"));
        }
        self.check_time(verification.at)?;
        let (at, by) = (verification.at, verification.verified_by);
        self.verification = Some(verification);
        self.move_to(RequestState::Verified, at, by);
        Ok(())
    }

    /// verified → in progress; in progress and extended stay as they are.
    /// Returns whether the state changed.
    pub(crate) fn start(&mut self, at: Timestamp, by: ActorId) -> Result<bool, Error> {
        match self.state {
            RequestState::Verified => {
                self.check_time(at)?;
                self.move_to(RequestState::InProgress, at, by);
                Ok(true)
            }
            RequestState::InProgress | RequestState::Extended => Ok(false),
            _ => Err(self.refuse("start work on")),
        }
    }

    /// verified or in progress → extended, with the deadline moved two months on.
    pub(crate) fn extend(&mut self, reason: &str, at: Timestamp, by: ActorId) -> Result<(), Error> {
        if self.extension.is_some() {
            return Err(Error::AlreadyExtended { request: self.id });
        }
        if !matches!(
            self.state,
            RequestState::Verified | RequestState::InProgress
        ) {
            return Err(self.refuse("extend"));
        }
        if reason.trim().is_empty() {
            return Err(Error::Empty {
                what: "extension reason",
            });
        }
        self.check_time(at)?;
        if at > self.due {
            return Err(Error::ExtensionTooLate {
                request: self.id,
                due: self.due,
            });
        }
        let new_due = extended_due(self.due)?;
        self.extension = Some(Extension {
            reason: reason.to_owned(),
            at,
            by,
            original_due: self.due,
        });
        self.due = new_due;
        self.move_to(RequestState::Extended, at, by);
        Ok(())
    }

    /// in progress or extended → completed.
    pub(crate) fn complete(&mut self, at: Timestamp, by: ActorId) -> Result<(), Error> {
        if !matches!(
            self.state,
            RequestState::InProgress | RequestState::Extended
        ) {
            return Err(self.refuse("complete"));
        }
        self.check_time(at)?;
        self.completed_at = Some(at);
        self.completed_late = at > self.due;
        self.move_to(RequestState::Completed, at, by);
        Ok(())
    }

    /// any open state → rejected.
    pub(crate) fn reject(
        &mut self,
        reason: RejectionReason,
        detail: &str,
        at: Timestamp,
        by: ActorId,
    ) -> Result<(), Error> {
        if self.state.is_final() {
            return Err(self.refuse("reject"));
        }
        if detail.trim().is_empty() {
            return Err(Error::Empty {
                what: "rejection detail",
            });
        }
        self.check_time(at)?;
        let late = reason != RejectionReason::Withdrawn && at > self.decision_due();
        self.rejection = Some(Rejection {
            reason,
            detail: detail.to_owned(),
            at,
            late,
        });
        self.move_to(RequestState::Rejected, at, by);
        Ok(())
    }

    /// received or verified → forwarded (processor only).
    pub(crate) fn forward(&mut self, forwarding: Forwarding) -> Result<(), Error> {
        if self.role != Role::Processor {
            return Err(Error::NotProcessor { request: self.id });
        }
        if !matches!(self.state, RequestState::Received | RequestState::Verified) {
            return Err(self.refuse("forward"));
        }
        self.check_time(forwarding.at)?;
        let (at, by) = (forwarding.at, forwarding.by);
        self.forwarding = Some(forwarding);
        self.move_to(RequestState::Forwarded, at, by);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeDelta, TimeZone, Utc};

    fn t(y: i32, m: u32, d: u32) -> Timestamp {
        Utc.with_ymd_and_hms(y, m, d, 10, 0, 0).unwrap()
    }

    fn request(received: Timestamp) -> Request {
        let tenant = TenantId::from_external_key("t", "1");
        let subject = SubjectId::from_external_key(tenant, "c", "1");
        Request::new(
            tenant,
            subject,
            RequestKind::Access,
            Role::Controller,
            received,
        )
        .unwrap()
    }

    fn actor() -> ActorId {
        ActorId::from_external_key(TenantId::from_external_key("t", "1"), "agent", "1")
    }

    fn verification(at: Timestamp) -> IdentityVerification {
        IdentityVerification {
            method: VerificationMethod::AuthenticatedSession,
            verified_by: actor(),
            at,
            note: String::new(),
        }
    }

    #[test]
    fn due_is_one_month_after_receipt() {
        let r = request(t(2026, 1, 31));
        assert_eq!(r.due.date_naive(), t(2026, 2, 28).date_naive());
        assert_eq!(r.state, RequestState::Received);
    }

    #[test]
    fn happy_path() {
        let mut r = request(t(2026, 3, 1));
        r.verify(verification(t(2026, 3, 2))).unwrap();
        assert!(r.start(t(2026, 3, 2), actor()).unwrap());
        assert!(!r.start(t(2026, 3, 3), actor()).unwrap());
        r.complete(t(2026, 3, 4), actor()).unwrap();
        assert_eq!(r.state, RequestState::Completed);
        let states: Vec<_> = r.history.iter().map(|h| h.to).collect();
        assert_eq!(
            states,
            [
                RequestState::Verified,
                RequestState::InProgress,
                RequestState::Completed
            ]
        );
    }

    #[test]
    fn invalid_transitions_are_refused() {
        let mut r = request(t(2026, 3, 1));
        let err = r.complete(t(2026, 3, 2), actor()).unwrap_err();
        assert_eq!(
            err,
            Error::InvalidTransition {
                request: r.id,
                from: RequestState::Received,
                action: "complete"
            }
        );
        assert!(matches!(
            r.start(t(2026, 3, 2), actor()),
            Err(Error::InvalidTransition { .. })
        ));
        assert!(matches!(
            r.extend("complex", t(2026, 3, 2), actor()),
            Err(Error::InvalidTransition { .. })
        ));
        r.reject(
            RejectionReason::Withdrawn,
            "withdrawn by email",
            t(2026, 3, 2),
            actor(),
        )
        .unwrap();
        for result in [
            r.verify(verification(t(2026, 3, 3))),
            r.complete(t(2026, 3, 3), actor()),
            r.reject(RejectionReason::Other, "again", t(2026, 3, 3), actor()),
        ] {
            assert!(matches!(
                result,
                Err(Error::InvalidTransition {
                    from: RequestState::Rejected,
                    ..
                })
            ));
        }
        assert!(matches!(
            r.forward(Forwarding {
                controller: Party {
                    name: "x".into(),
                    contact: "y".into(),
                    tenant: None
                },
                at: t(2026, 3, 3),
                by: actor(),
                reference: None
            }),
            Err(Error::NotProcessor { .. })
        ));
    }

    #[test]
    fn extension_adds_two_months_once_and_only_within_the_first_month() {
        let mut r = request(t(2026, 1, 31));
        r.verify(verification(t(2026, 2, 1))).unwrap();
        r.start(t(2026, 2, 1), actor()).unwrap();
        assert_eq!(
            r.extend("  ", t(2026, 2, 2), actor()),
            Err(Error::Empty {
                what: "extension reason"
            })
        );
        let original = r.due;
        r.extend("three sources and 40 000 tickets", t(2026, 2, 2), actor())
            .unwrap();
        assert_eq!(r.state, RequestState::Extended);
        assert_eq!(r.due.date_naive(), t(2026, 4, 28).date_naive());
        assert_eq!(r.extension.as_ref().unwrap().original_due, original);
        assert_eq!(
            r.extend("again", t(2026, 2, 3), actor()),
            Err(Error::AlreadyExtended { request: r.id })
        );
        // Still completable from extended.
        r.complete(t(2026, 4, 1), actor()).unwrap();

        let mut late = request(t(2026, 1, 10));
        late.verify(verification(t(2026, 1, 11))).unwrap();
        let after_due = late.due + TimeDelta::seconds(1);
        assert!(matches!(
            late.extend("complex", after_due, actor()),
            Err(Error::ExtensionTooLate { .. })
        ));
    }

    #[test]
    fn times_before_receipt_are_refused() {
        let mut r = request(t(2026, 3, 10));
        assert!(matches!(
            r.verify(verification(t(2026, 3, 9))),
            Err(Error::InvalidTime { .. })
        ));
        assert_eq!(r.state, RequestState::Received);
    }

    #[test]
    fn a_refusal_after_the_first_month_is_accepted_but_late() {
        // Received 31 January: the month ends 28 February.
        let mut on_time = request(t(2026, 1, 31));
        on_time
            .reject(
                RejectionReason::Excessive,
                "third identical request this week",
                t(2026, 2, 28),
                actor(),
            )
            .unwrap();
        assert!(!on_time.rejection.as_ref().unwrap().late);

        let mut late = request(t(2026, 1, 31));
        late.verify(verification(t(2026, 2, 1))).unwrap();
        late.reject(
            RejectionReason::ManifestlyUnfounded,
            "not our customer",
            t(2026, 3, 1),
            actor(),
        )
        .unwrap();
        assert_eq!(late.state, RequestState::Rejected);
        assert!(late.rejection.as_ref().unwrap().late);

        // An extension does not move the month to announce a refusal in.
        let mut extended = request(t(2026, 1, 31));
        extended.verify(verification(t(2026, 2, 1))).unwrap();
        extended.extend("complex", t(2026, 2, 2), actor()).unwrap();
        assert_eq!(
            extended.decision_due().date_naive(),
            t(2026, 2, 28).date_naive()
        );
        assert_eq!(extended.due.date_naive(), t(2026, 4, 28).date_naive());
        extended
            .reject(
                RejectionReason::RightNotApplicable,
                "found no data to port",
                t(2026, 3, 10),
                actor(),
            )
            .unwrap();
        assert!(extended.rejection.as_ref().unwrap().late);

        // A withdrawal is not a refusal: never late.
        let mut withdrawn = request(t(2026, 1, 31));
        withdrawn
            .reject(
                RejectionReason::Withdrawn,
                "withdrawn by email",
                t(2026, 5, 1),
                actor(),
            )
            .unwrap();
        assert!(!withdrawn.rejection.as_ref().unwrap().late);
    }

    #[test]
    fn deadline_status_flags_no_decision_after_a_month() {
        let mut r = request(t(2026, 3, 10));
        let month = r.decision_due();
        assert_eq!(
            r.deadline_status(t(2026, 4, 10)),
            DeadlineStatus::OnTime { due: month }
        );
        assert_eq!(
            r.deadline_status(t(2026, 4, 11)),
            DeadlineStatus::NoDecision { month_ended: month }
        );
        assert!(r.deadline_status(t(2026, 4, 11)).is_late());
        // Extended in time: on time until the extended deadline, then overdue.
        r.verify(verification(t(2026, 3, 11))).unwrap();
        r.extend("complex", t(2026, 4, 1), actor()).unwrap();
        assert_eq!(
            r.deadline_status(t(2026, 4, 11)),
            DeadlineStatus::OnTime { due: r.due }
        );
        assert_eq!(
            r.deadline_status(t(2026, 6, 11)),
            DeadlineStatus::Overdue { due: r.due }
        );
        r.start(t(2026, 6, 11), actor()).unwrap();
        r.complete(t(2026, 6, 12), actor()).unwrap();
        assert_eq!(r.deadline_status(t(2026, 7, 1)), DeadlineStatus::Closed);
        assert!(!DeadlineStatus::Closed.is_late());
    }

    #[test]
    fn overdue() {
        let r = request(t(2026, 3, 10));
        assert!(!r.is_overdue(t(2026, 4, 10)));
        assert!(r.is_overdue(t(2026, 4, 11)));
    }

    #[test]
    fn json_round_trip_and_version_check() {
        let r = request(t(2026, 3, 10));
        let json = r.to_json().unwrap();
        assert_eq!(Request::from_json(&json).unwrap(), r);
        let future = json.replacen("\"version\":1", "\"version\":9", 1);
        assert_eq!(
            Request::from_json(&future),
            Err(Error::UnsupportedVersion {
                what: "request",
                found: 9,
                supported: 1
            })
        );
        assert!(matches!(Request::from_json("{"), Err(Error::Decode { .. })));
    }
}
