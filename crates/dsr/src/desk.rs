//! The desk: takes requests in, moves them through their states, and runs
//! them across every source, auditing each step.

use std::collections::BTreeSet;
use std::sync::Arc;

use custodia_core::{ActorId, Clock, DataCategory, Role, SubjectId, TenantId, Timestamp};

use crate::erasure::{ErasureCertificate, ErasurePolicy, KeyShredder};
use crate::error::{BoxError, Error};
use crate::event::{DsrAction, DsrEvent, DsrEventSink};
use crate::export::{
    AuditSection, AuditStatus, BundleKind, ExportBundle, ExportedRecord, SubjectAuditHistory,
};
use crate::records::ProcessingRegistry;
use crate::request::{
    DeadlineStatus, Forwarding, IdentityVerification, Party, RejectionReason, Request, RequestId,
    RequestKind, RequestState, VerificationMethod,
};
use crate::retention::{BackupHorizon, NoHolds, RetentionCheck, UnknownBackups};
use crate::source::{
    ErasedRecord, FieldUpdate, KeptRecord, PersonalDataSource, RecordRef, Restriction,
    SourceProgress, SubjectOutcome, SubjectRecord, SubjectStep,
};

/// Hands a request to the controller when this helpdesk is only a processor.
pub trait ControllerForwarder: Send + Sync {
    /// Sends `request` to `controller`; returns the controller's reference, if any.
    fn forward(&self, request: &Request, controller: &Party) -> Result<Option<String>, BoxError>;
}

/// What a rectification did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RectificationReport {
    /// Records changed, across sources.
    pub records_updated: usize,
    /// Corrections that matched no field anywhere: data to complete (Art. 16),
    /// which the host adds itself.
    pub unmatched: Vec<DataCategory>,
    /// Recipients to tell of the correction (Art. 19), from the record of
    /// processing ([`Desk::with_records`]); empty without one.
    pub recipients_to_inform: Vec<String>,
}

/// What a restriction or objection did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestrictionReport {
    /// Records restricted (or lifted, or stopped for the purposes), across sources.
    pub records: usize,
    /// Subject-level records the restriction, lift or objection was
    /// applied to, as (source, record): state a source keeps about the
    /// person as a whole, which records stored later inherit
    /// ([`PersonalDataSource::subject_step`]). Empty when no source keeps
    /// any (then a person with no record located was reached nowhere).
    pub subject_records: Vec<(String, RecordRef)>,
    /// Recipients to tell of the restriction (Art. 19), from the record of
    /// processing ([`Desk::with_records`]); empty without one.
    pub recipients_to_inform: Vec<String>,
}

/// What a request produced when run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestOutcome {
    /// Access or portability.
    Bundle(Box<ExportBundle>),
    /// Rectification.
    Rectified(RectificationReport),
    /// Erasure.
    Erased(Box<ErasureCertificate>),
    /// Restriction or objection.
    Restricted(RestrictionReport),
}

/// An open request past a deadline ([`Desk::late_requests`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LateRequest {
    /// The request.
    pub request: RequestId,
    /// Its tenant.
    pub tenant: TenantId,
    /// Its kind: `"access"`, `"erasure"`, ….
    pub kind: &'static str,
    /// Its state.
    pub state: RequestState,
    /// When it was received.
    pub received_at: Timestamp,
    /// Which deadline it missed.
    pub status: DeadlineStatus,
}

/// One source's run, before it is recorded.
pub(crate) struct SourceRun {
    pub(crate) records: usize,
    pub(crate) erased: Vec<ErasedRecord>,
    pub(crate) kept: Vec<KeptRecord>,
    pub(crate) categories: Vec<DataCategory>,
    pub(crate) subject_records: Vec<RecordRef>,
    /// Whether the subject-level step ran (and was audited) for the
    /// request, in this run or an earlier one.
    pub(crate) subject_step_ran: bool,
    pub(crate) action: DsrAction,
}

/// One source's failure, boxed: it carries what the source did before it.
pub(crate) type SourceFail = Box<SourceFailure>;

/// One source's failure, with what the source did before it (kept on its
/// progress, for the rerun).
pub(crate) struct SourceFailure {
    pub(crate) operation: &'static str,
    pub(crate) error: String,
    pub(crate) erased: Vec<ErasedRecord>,
    pub(crate) kept: Vec<KeptRecord>,
    pub(crate) categories: Vec<DataCategory>,
    pub(crate) subject_step_ran: bool,
    pub(crate) subject_records: Vec<RecordRef>,
}

impl SourceFailure {
    pub(crate) fn new(operation: &'static str, error: &dyn std::fmt::Display) -> SourceFail {
        Box::new(Self {
            operation,
            error: error.to_string(),
            erased: Vec::new(),
            kept: Vec::new(),
            categories: Vec::new(),
            subject_step_ran: false,
            subject_records: Vec::new(),
        })
    }
}

/// Which sources a run of a request leaves alone ([`Desk::each_source`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Skip {
    /// None: reads are repeated in full, and a deferred erasure's pass
    /// re-checks every source.
    Nothing,
    /// Those done (rectification: it has no subject-level step).
    Done,
    /// Those done whose subject-level step ran (restriction, erasure): a
    /// source done in progress written before `subject_step_ran` existed
    /// is run again, once, step included.
    DoneWithStep,
}

/// Runs data-subject requests. See the [crate documentation](crate) for a tour.
///
/// Every step is stamped by the desk's [`Clock`] and recorded through its
/// [`DsrEventSink`] before it counts.
pub struct Desk {
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) audit: Arc<dyn DsrEventSink>,
    pub(crate) sources: Vec<Arc<dyn PersonalDataSource>>,
    pub(crate) retention: Arc<dyn RetentionCheck>,
    pub(crate) shredder: Option<Arc<dyn KeyShredder>>,
    pub(crate) backups: Arc<dyn BackupHorizon>,
    pub(crate) history: Option<Arc<dyn SubjectAuditHistory>>,
    pub(crate) policy: ErasurePolicy,
    pub(crate) records: Option<Arc<ProcessingRegistry>>,
}

impl std::fmt::Debug for Desk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desk")
            .field(
                "sources",
                &self.sources.iter().map(|s| s.name()).collect::<Vec<_>>(),
            )
            .field("key_shredder", &self.shredder.is_some())
            .field("audit_history", &self.history.is_some())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Desk {
    /// A desk with no sources, no holds, no key vault, no known backup
    /// horizon, no audit history and the delete-everything erasure policy.
    pub fn new(clock: Arc<dyn Clock>, audit: Arc<dyn DsrEventSink>) -> Self {
        Self {
            clock,
            audit,
            sources: Vec::new(),
            retention: Arc::new(NoHolds),
            shredder: None,
            backups: Arc::new(UnknownBackups),
            history: None,
            policy: ErasurePolicy::delete_all(),
            records: None,
        }
    }

    /// Adds a source. Names must be unique: progress is kept by name.
    pub fn with_source(mut self, source: Arc<dyn PersonalDataSource>) -> Result<Self, Error> {
        if self.sources.iter().any(|s| s.name() == source.name()) {
            return Err(Error::DuplicateSource(source.name().to_owned()));
        }
        self.sources.push(source);
        Ok(self)
    }

    /// Sets the retention check consulted before erasing each record.
    pub fn with_retention(mut self, retention: Arc<dyn RetentionCheck>) -> Self {
        self.retention = retention;
        self
    }

    /// Sets the key vault whose subject keys are shredded on erasure.
    pub fn with_key_shredder(mut self, shredder: Arc<dyn KeyShredder>) -> Self {
        self.shredder = Some(shredder);
        self
    }

    /// Sets the backup horizon stated on erasure certificates.
    pub fn with_backup_horizon(mut self, backups: Arc<dyn BackupHorizon>) -> Self {
        self.backups = backups;
        self
    }

    /// Sets where the subject's audit events for export bundles come from.
    pub fn with_audit_history(mut self, history: Arc<dyn SubjectAuditHistory>) -> Self {
        self.history = Some(history);
        self
    }

    /// Sets the record of processing whose activities access bundles explain
    /// (Art. 15(1): purposes, recipients, transfers, retention).
    pub fn with_records(mut self, records: Arc<ProcessingRegistry>) -> Self {
        self.records = Some(records);
        self
    }

    /// Sets which fields are deleted and which anonymized.
    pub fn with_erasure_policy(mut self, policy: ErasurePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The names of the registered sources, in order.
    pub fn source_names(&self) -> Vec<&str> {
        self.sources.iter().map(|s| s.name()).collect()
    }

    pub(crate) fn emit(
        &self,
        request: &Request,
        actor: Option<ActorId>,
        action: DsrAction,
    ) -> Result<(), Error> {
        let event = DsrEvent {
            at: self.clock.now(),
            tenant: Some(request.tenant),
            subject: Some(request.subject),
            actor,
            request: Some(request.id),
            incident: None,
            action,
        };
        self.audit
            .record(&event)
            .map_err(|e| Error::Audit(crate::error::host(e)))
    }

    /// Applies a state change to a copy, audits it, and only then commits it.
    fn step(
        &self,
        request: &mut Request,
        actor: ActorId,
        change: impl FnOnce(&mut Request) -> Result<DsrAction, Error>,
    ) -> Result<(), Error> {
        let mut next = request.clone();
        let action = change(&mut next)?;
        self.emit(&next, Some(actor), action)?;
        *request = next;
        Ok(())
    }

    /// Logs a request received now.
    pub fn receive(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        kind: RequestKind,
        role: Role,
        actor: ActorId,
    ) -> Result<Request, Error> {
        self.receive_at(tenant, subject, kind, role, actor, self.clock.now())
    }

    /// Logs a request that arrived earlier (a letter opened today): its
    /// deadline runs from `received_at`, which must not be in the future.
    /// An objection naming no purpose is refused ([`Error::Empty`]),
    /// unaudited.
    pub fn receive_at(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        kind: RequestKind,
        role: Role,
        actor: ActorId,
        received_at: Timestamp,
    ) -> Result<Request, Error> {
        let request = Request::new(tenant, subject, kind, role, received_at)?;
        if received_at > self.clock.now() {
            return Err(Error::InvalidTime {
                request: request.id,
                at: received_at,
                problem: "in the future",
            });
        }
        self.emit(
            &request,
            Some(actor),
            DsrAction::RequestReceived {
                kind: request.kind.name().to_owned(),
                due: request.due,
            },
        )?;
        Ok(request)
    }

    /// Records how the requester's identity was checked: received → verified.
    pub fn verify(
        &self,
        request: &mut Request,
        method: VerificationMethod,
        note: &str,
        actor: ActorId,
    ) -> Result<(), Error> {
        let at = self.clock.now();
        self.step(request, actor, |r| {
            r.verify(IdentityVerification {
                method: method.clone(),
                verified_by: actor,
                at,
                note: note.to_owned(),
            })?;
            Ok(DsrAction::IdentityVerified { method })
        })
    }

    /// Extends the deadline by two months, with the reason told to the person.
    pub fn extend(&self, request: &mut Request, reason: &str, actor: ActorId) -> Result<(), Error> {
        let at = self.clock.now();
        self.step(request, actor, |r| {
            r.extend(reason, at, actor)?;
            Ok(DsrAction::DeadlineExtended {
                reason: reason.to_owned(),
                due: r.due,
            })
        })
    }

    /// Refuses the request with a reason (Art. 12(4)). After the month
    /// following receipt the refusal is still recorded, but flagged late
    /// ([`Rejection::late`](crate::request::Rejection::late), and `late` in
    /// the [`DsrAction::RequestRejected`] event).
    pub fn reject(
        &self,
        request: &mut Request,
        reason: RejectionReason,
        detail: &str,
        actor: ActorId,
    ) -> Result<(), Error> {
        let at = self.clock.now();
        self.step(request, actor, |r| {
            r.reject(reason.clone(), detail, at, actor)?;
            let late = r.rejection.as_ref().is_some_and(|j| j.late);
            Ok(DsrAction::RequestRejected { reason, late })
        })
    }

    /// The open requests among `requests` that need the privacy officer
    /// now (by the desk's clock): no decision one month after receipt
    /// ([`DeadlineStatus::NoDecision`], Art. 12(3)–(4)) or past the extended
    /// deadline ([`DeadlineStatus::Overdue`]), oldest receipt first.
    pub fn late_requests<'a>(
        &self,
        requests: impl IntoIterator<Item = &'a Request>,
    ) -> Vec<LateRequest> {
        let now = self.clock.now();
        let mut late: Vec<LateRequest> = requests
            .into_iter()
            .filter_map(|r| {
                let status = r.deadline_status(now);
                status.is_late().then(|| LateRequest {
                    request: r.id,
                    tenant: r.tenant,
                    kind: r.kind.name(),
                    state: r.state,
                    received_at: r.received_at,
                    status,
                })
            })
            .collect();
        late.sort_by_key(|l| (l.received_at, l.request));
        late
    }

    /// Processor mode: sends the request to `controller` through `forwarder`
    /// instead of answering it, and records that (received or verified →
    /// forwarded). Only for requests with [`Role::Processor`].
    ///
    /// # Example: processor mode
    ///
    /// ```
    /// use std::sync::Arc;
    /// use custodia_core::{ActorId, ManualClock, Role, SubjectId, TenantId};
    /// use custodia_dsr::*;
    ///
    /// struct Email;
    /// impl ControllerForwarder for Email {
    ///     fn forward(&self, _: &Request, _: &Party) -> Result<Option<String>, BoxError> {
    ///         Ok(Some("ACME-DSR-118".into()))
    ///     }
    /// }
    ///
    /// let desk = Desk::new(Arc::new(ManualClock::new(custodia_core::chrono::Utc::now())),
    ///     Arc::new(MemorySink::new()));
    /// let tenant = TenantId::from_external_key("msp", "acme");
    /// let user = SubjectId::from_external_key(tenant, "portal.user", "9");
    /// let agent = ActorId::from_external_key(tenant, "agent", "1");
    /// let mut request = desk.receive(tenant, user, RequestKind::Erasure, Role::Processor, agent)?;
    /// // A processor does not answer...
    /// assert!(matches!(desk.run(&mut request, agent), Err(Error::ProcessorMustForward { .. })));
    /// // ...it forwards to the controller, and that is recorded.
    /// let acme = Party { name: "Acme Ltd".into(), contact: "privacy@acme.example".into(), tenant: Some(tenant) };
    /// desk.forward(&mut request, acme, &Email, agent)?;
    /// assert_eq!(request.state, RequestState::Forwarded);
    /// assert_eq!(request.forwarding.unwrap().reference.as_deref(), Some("ACME-DSR-118"));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn forward(
        &self,
        request: &mut Request,
        controller: Party,
        forwarder: &dyn ControllerForwarder,
        actor: ActorId,
    ) -> Result<(), Error> {
        let at = self.clock.now();
        // Check the step before anything leaves the building.
        let mut probe = request.clone();
        probe.forward(Forwarding {
            controller: controller.clone(),
            at,
            by: actor,
            reference: None,
        })?;
        let reference = forwarder
            .forward(request, &controller)
            .map_err(|e| Error::Forward {
                request: request.id,
                source: crate::error::host(e),
            })?;
        self.step(request, actor, |r| {
            let name = controller.name.clone();
            r.forward(Forwarding {
                controller,
                at,
                by: actor,
                reference: reference.clone(),
            })?;
            Ok(DsrAction::RequestForwarded {
                controller: name,
                reference,
            })
        })
    }

    /// Runs the request for its kind: export, rectify, erase or restrict.
    pub fn run(&self, request: &mut Request, actor: ActorId) -> Result<RequestOutcome, Error> {
        Ok(match request.kind {
            RequestKind::Access | RequestKind::Portability => {
                RequestOutcome::Bundle(Box::new(self.export(request, actor)?))
            }
            RequestKind::Rectification { .. } => {
                RequestOutcome::Rectified(self.rectify(request, actor)?)
            }
            RequestKind::Erasure => RequestOutcome::Erased(Box::new(self.erase(request, actor)?)),
            RequestKind::Restriction { .. } | RequestKind::Objection { .. } => {
                RequestOutcome::Restricted(self.restrict(request, actor)?)
            }
        })
    }

    /// Checks role and kind, and moves verified → in progress.
    pub(crate) fn begin(
        &self,
        request: &mut Request,
        actor: ActorId,
        expected: &'static str,
        accepts: fn(&RequestKind) -> bool,
    ) -> Result<(), Error> {
        if request.role == Role::Processor {
            return Err(Error::ProcessorMustForward {
                request: request.id,
            });
        }
        if !accepts(&request.kind) {
            return Err(Error::WrongKind {
                request: request.id,
                expected,
                actual: request.kind.name(),
            });
        }
        if request.state == RequestState::Verified {
            let at = self.clock.now();
            self.step(request, actor, |r| {
                r.start(at, actor)?;
                Ok(DsrAction::WorkStarted)
            })?;
            Ok(())
        } else {
            // In progress or extended: resume. Anything else is refused.
            request.clone().start(self.clock.now(), actor).map(|_| ())
        }
    }

    /// Runs `work` on every source but those `skip` leaves alone,
    /// recording progress and audit events; `Incomplete` if any failed.
    pub(crate) fn each_source(
        &self,
        request: &mut Request,
        actor: ActorId,
        skip: Skip,
        mut work: impl FnMut(
            &dyn PersonalDataSource,
            &Request,
            Option<&SourceProgress>,
        ) -> Result<SourceRun, SourceFail>,
    ) -> Result<(), Error> {
        for source in &self.sources {
            let name = source.name();
            let skipped = match (skip, request.progress.sources.get(name)) {
                (Skip::Done, Some(SourceProgress::Done { .. })) => true,
                (Skip::DoneWithStep, Some(done @ SourceProgress::Done { .. })) => {
                    done.subject_step_ran()
                }
                _ => false,
            };
            if skipped {
                continue;
            }
            let previous = request.progress.sources.get(name).cloned();
            match work(source.as_ref(), request, previous.as_ref()) {
                Ok(run) => {
                    if let Err(e) = self.emit(request, Some(actor), run.action) {
                        // Done but not audited: redo it (idempotently) next time.
                        request.progress.sources.insert(
                            name.to_owned(),
                            SourceProgress::Failed {
                                at: self.clock.now(),
                                operation: "audit".into(),
                                error: e.to_string(),
                                attempts: attempts(previous.as_ref()),
                                erased: run.erased,
                                kept: run.kept,
                                categories: run.categories,
                                subject_step_ran: run.subject_step_ran,
                                subject_records: run.subject_records,
                            },
                        );
                        return Err(e);
                    }
                    request.progress.sources.insert(
                        name.to_owned(),
                        SourceProgress::Done {
                            at: self.clock.now(),
                            records: run.records,
                            erased: run.erased,
                            kept: run.kept,
                            categories: run.categories,
                            subject_records: run.subject_records,
                            subject_step_ran: run.subject_step_ran,
                        },
                    );
                }
                Err(fail) => {
                    request.progress.sources.insert(
                        name.to_owned(),
                        SourceProgress::Failed {
                            at: self.clock.now(),
                            operation: fail.operation.into(),
                            error: fail.error.clone(),
                            attempts: attempts(previous.as_ref()),
                            erased: fail.erased,
                            kept: fail.kept,
                            categories: fail.categories,
                            subject_step_ran: fail.subject_step_ran,
                            subject_records: fail.subject_records,
                        },
                    );
                    self.emit(
                        request,
                        Some(actor),
                        DsrAction::SourceFailed {
                            source: name.to_owned(),
                            operation: fail.operation.into(),
                            error: fail.error,
                        },
                    )?;
                }
            }
        }
        let failed = request.progress.failed();
        if failed.is_empty() {
            Ok(())
        } else {
            Err(Error::Incomplete {
                request: request.id,
                failed,
            })
        }
    }

    pub(crate) fn locate(
        &self,
        source: &dyn PersonalDataSource,
        request: &Request,
        actor: ActorId,
    ) -> Result<Vec<crate::source::Located>, SourceFail> {
        let located = source
            .locate(request.tenant, request.subject)
            .map_err(|e| SourceFailure::new("locate", &e))?;
        self.emit(
            request,
            Some(actor),
            DsrAction::SourceLocated {
                source: source.name().to_owned(),
                records: located.len(),
            },
        )
        .map_err(|e| SourceFailure::new("audit", &e))?;
        Ok(located)
    }

    /// Runs `source`'s subject-level step, checks that the answer fits the
    /// step, and audits it (a source that keeps nothing is not recorded).
    pub(crate) fn subject_step(
        &self,
        source: &dyn PersonalDataSource,
        request: &Request,
        actor: ActorId,
        step: &SubjectStep,
    ) -> Result<SubjectOutcome, SourceFail> {
        let outcome = source
            .subject_step(request.tenant, request.subject, step)
            .map_err(|e| SourceFailure::new("subject_step", &e))?;
        let records = match (&outcome, step) {
            (SubjectOutcome::NotKept, _) => return Ok(outcome),
            (SubjectOutcome::Exported { records }, SubjectStep::Access) => records.len(),
            (
                SubjectOutcome::Applied { records },
                SubjectStep::Restrict { .. } | SubjectStep::Erase,
            ) => records.len(),
            _ => {
                let e: BoxError = format!(
                    "{}: its subject-level step answered {} to {}",
                    source.name(),
                    match outcome {
                        SubjectOutcome::Exported { .. } => "exported records",
                        _ => "a change",
                    },
                    step.name()
                )
                .into();
                return Err(SourceFailure::new("subject_step", &e));
            }
        };
        self.emit(
            request,
            Some(actor),
            DsrAction::SubjectStep {
                source: source.name().to_owned(),
                step: step.name().to_owned(),
                records,
            },
        )
        .map_err(|e| SourceFailure {
            // The source acted: what an erasure removed must stay on the
            // request, as the rerun finds it gone and reports nothing.
            // Not audited, the step has not run as far as the request
            // goes: the rerun runs it again.
            erased: match (&outcome, step) {
                (SubjectOutcome::Applied { records }, SubjectStep::Erase) => records
                    .iter()
                    .map(|r| ErasedRecord::subject_state_removed(source.name(), r.clone()))
                    .collect(),
                _ => Vec::new(),
            },
            ..*SourceFailure::new("audit", &e)
        })
        .map_err(Box::new)?;
        Ok(outcome)
    }

    pub(crate) fn finish(&self, request: &mut Request, actor: ActorId) -> Result<(), Error> {
        let at = self.clock.now();
        self.step(request, actor, |r| {
            r.complete(at, actor)?;
            Ok(DsrAction::RequestCompleted {
                late: r.completed_late,
            })
        })
    }

    /// Access (Art. 15) or portability (Art. 20): exports from every source
    /// and completes the request. Reads are repeated in full on a rerun.
    /// Each source's subject-level records
    /// ([`PersonalDataSource::subject_step`]) follow its other records,
    /// filtered for portability as they are.
    ///
    /// The request is completed as soon as the bundle is returned, as if
    /// handing it back were its delivery. A host that still has to deliver
    /// it (write it to disk, send it) uses [`Desk::export_with`], which
    /// completes the request only once that succeeded; `export` is
    /// `export_with` with a delivery that cannot fail.
    ///
    /// # Example: access and portability
    ///
    /// ```
    /// use std::sync::Arc;
    /// use custodia_core::{ActorId, DataCategory, LegalBasis, ManualClock, Role, SubjectId, TenantId};
    /// use custodia_dsr::*;
    ///
    /// let clock = Arc::new(ManualClock::new(custodia_core::chrono::Utc::now()));
    /// let tenant = TenantId::from_external_key("crm", "acme");
    /// let bob = SubjectId::from_external_key(tenant, "contact", "2");
    /// let agent = ActorId::from_external_key(tenant, "agent", "7");
    /// let tickets = Arc::new(MemorySource::new("tickets"));
    /// tickets.insert(tenant, bob, RecordRef::new("ticket", "T-1"), LegalBasis::Contract, [
    ///     ("description", DataCategory::USER_CONTENT_TICKET, "Printer on fire", true),
    ///     ("agent_note", DataCategory::USER_CONTENT_TICKET, "Customer sounded upset", false),
    /// ]);
    /// let desk = Desk::new(clock, Arc::new(MemorySink::new())).with_source(tickets)?;
    ///
    /// let mut request = desk.receive(tenant, bob, RequestKind::Portability, Role::Controller, agent)?;
    /// desk.verify(&mut request, VerificationMethod::ContactChallenge, "code returned", agent)?;
    /// let bundle = desk.export(&mut request, agent)?;
    /// // Portability carries only what Bob provided.
    /// assert_eq!(bundle.records[0].fields.len(), 1);
    /// assert_eq!(bundle.manifest[0].csv, "tickets-ticket.csv");
    /// assert_eq!(bundle.audit.status, AuditStatus::NotConnected);
    /// let csv = &bundle.csv_files()[0];
    /// assert_eq!(csv.content, "id,created_at,description\r\nT-1,,Printer on fire\r\n");
    /// assert_eq!(ExportBundle::from_json(&bundle.to_json()?)?, bundle);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn export(&self, request: &mut Request, actor: ActorId) -> Result<ExportBundle, Error> {
        self.export_with(request, actor, |_| Ok::<(), std::convert::Infallible>(()))
            .map(|(bundle, ())| bundle)
    }

    /// Access or portability as [`Desk::export`], completing the request
    /// only once `deliver` has delivered the bundle (written it to disk,
    /// sent it to the person): returns the bundle and what `deliver`
    /// returned.
    ///
    /// The events, in order: the sources' steps, then
    /// [`DsrAction::BundleProduced`] **before** `deliver` runs, so no
    /// bundle of the person's data leaves the desk unaudited (a sink that
    /// refuses it stops the export, [`Error::Audit`], and `deliver` is not
    /// called); then, once `deliver` succeeded,
    /// [`DsrAction::RequestCompleted`]. `BundleProduced` says a bundle was
    /// made, `RequestCompleted` that it was delivered.
    ///
    /// When `deliver` fails, the request is not completed: it stays in
    /// progress (its deadline still counting) and an export run again
    /// produces a new bundle; the failure is audited
    /// ([`DsrAction::BundleNotDelivered`], with `deliver`'s error text, as a
    /// failing source's is) and returned as [`Error::Delivery`]. When the
    /// sink refuses that event too, the error is still `Delivery`.
    /// A delivery that succeeded but whose completion the sink refuses
    /// returns [`Error::Audit`] with the request still in progress: the
    /// bundle went out, and a rerun delivers a new one.
    ///
    /// # Example: a delivery that fails leaves the request open
    ///
    /// ```
    /// use std::sync::Arc;
    /// use custodia_core::{ActorId, ManualClock, Role, SubjectId, TenantId};
    /// use custodia_dsr::*;
    ///
    /// let clock = Arc::new(ManualClock::new(custodia_core::chrono::Utc::now()));
    /// let tenant = TenantId::from_external_key("crm", "acme");
    /// let bob = SubjectId::from_external_key(tenant, "contact", "2");
    /// let agent = ActorId::from_external_key(tenant, "agent", "7");
    /// let desk = Desk::new(clock, Arc::new(MemorySink::new()))
    ///     .with_source(Arc::new(MemorySource::new("tickets")))?;
    /// let mut request = desk.receive(tenant, bob, RequestKind::Access, Role::Controller, agent)?;
    /// desk.verify(&mut request, VerificationMethod::AuthenticatedSession, "", agent)?;
    ///
    /// let full = desk.export_with(&mut request, agent, |_| Err::<(), _>("disk full"));
    /// assert!(matches!(full, Err(Error::Delivery { .. })));
    /// assert_eq!(request.state, RequestState::InProgress);
    ///
    /// let (bundle, written) = desk.export_with(&mut request, agent, |bundle| {
    ///     bundle.to_json().map(|json| json.len())
    /// })?;
    /// assert!(written > 0 && bundle.records.is_empty());
    /// assert_eq!(request.state, RequestState::Completed);
    /// # Ok::<(), Error>(())
    /// ```
    pub fn export_with<T, E: Into<BoxError>>(
        &self,
        request: &mut Request,
        actor: ActorId,
        deliver: impl FnOnce(&ExportBundle) -> Result<T, E>,
    ) -> Result<(ExportBundle, T), Error> {
        custodia_core::op_span!(
            DEBUG,
            "custodia.dsr.export",
            // The kind's name only: a rectification's kind holds the
            // corrected values, and a refused export still closes its span.
            kind = request.kind.name(),
            records = tracing::field::Empty
        );
        self.begin(request, actor, "access or portability", |k| {
            matches!(k, RequestKind::Access | RequestKind::Portability)
        })?;
        let kind = match request.kind {
            RequestKind::Portability => BundleKind::Portability,
            _ => BundleKind::Access,
        };
        let mut records = Vec::new();
        self.each_source(request, actor, Skip::Nothing, |source, req, _| {
            let located = self.locate(source, req, actor)?;
            let mut exported = Vec::new();
            for found in &located {
                if kind == BundleKind::Portability && !found.legal_basis.allows_portability() {
                    continue;
                }
                let record = source
                    .export(req.tenant, req.subject, &found.record)
                    .map_err(|e| SourceFailure::new("export", &e))?;
                exported.extend(bundled(kind, source.name(), record, found.legal_basis));
            }
            // What the source keeps about the person as a whole: listed
            // with its records, under the source's subject-level type.
            let mut subject_records = Vec::new();
            if let SubjectOutcome::Exported { records: kept } =
                self.subject_step(source, req, actor, &SubjectStep::Access)?
            {
                for SubjectRecord {
                    record,
                    legal_basis,
                } in kept
                {
                    if kind == BundleKind::Portability && !legal_basis.allows_portability() {
                        continue;
                    }
                    let reference = record.record.clone();
                    if let Some(entry) = bundled(kind, source.name(), record, legal_basis) {
                        // In the progress as in the bundle: what was exported.
                        subject_records.push(reference);
                        exported.push(entry);
                    }
                }
            }
            let count = exported.len();
            records.extend(exported);
            Ok(SourceRun {
                records: count,
                erased: Vec::new(),
                kept: Vec::new(),
                categories: Vec::new(),
                subject_records,
                // Read again on every run: reads are repeated in full.
                subject_step_ran: true,
                action: DsrAction::SourceExported {
                    source: source.name().to_owned(),
                    records: count,
                },
            })
        })?;
        let audit = match &self.history {
            Some(history) => AuditSection::included(
                history
                    .events_for(request.tenant, request.subject)
                    .map_err(|e| Error::AuditHistory(crate::error::host(e)))?,
            ),
            None => AuditSection {
                status: AuditStatus::NotConnected,
                unreadable: 0,
                events: Vec::new(),
            },
        };
        let bundle = ExportBundle::build(
            request,
            kind,
            self.clock.now(),
            records,
            audit,
            self.records.as_deref(),
        );
        self.emit(
            request,
            Some(actor),
            DsrAction::BundleProduced {
                records: bundle.records.len(),
                sources: self.sources.len(),
                audit_events: bundle.audit.events.len(),
            },
        )?;
        // The completion checked before the bundle leaves the building.
        request.clone().complete(self.clock.now(), actor)?;
        let delivered = match deliver(&bundle) {
            Ok(delivered) => delivered,
            Err(e) => {
                let source = crate::error::host(e);
                // The delivery's error is the one to report: a sink that
                // refuses this event too changes nothing on the request.
                let _ = self.emit(
                    request,
                    Some(actor),
                    DsrAction::BundleNotDelivered {
                        error: source.to_string(),
                    },
                );
                return Err(Error::Delivery {
                    request: request.id,
                    source,
                });
            }
        };
        self.finish(request, actor)?;
        custodia_core::op_record!(records = bundle.records.len());
        Ok((bundle, delivered))
    }

    /// Rectification (Art. 16): writes each correction to every field within
    /// its category, in every source, and completes the request.
    ///
    /// # Example: rectification, with the deadline extended
    ///
    /// ```
    /// use std::sync::Arc;
    /// use chrono::{NaiveDate, TimeZone, Utc};
    /// use custodia_core::{ActorId, DataCategory, LegalBasis, ManualClock, Role, SubjectId, TenantId};
    /// use custodia_dsr::*;
    ///
    /// let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 31, 17, 0, 0).unwrap()));
    /// let tenant = TenantId::from_external_key("crm", "acme");
    /// let carol = SubjectId::from_external_key(tenant, "contact", "3");
    /// let agent = ActorId::from_external_key(tenant, "agent", "7");
    /// let contacts = Arc::new(MemorySource::new("contacts"));
    /// let record = RecordRef::new("contact", "C-3");
    /// contacts.insert(tenant, carol, record.clone(), LegalBasis::Contract,
    ///     [("email", DataCategory::USER_CONTACT_EMAIL, "carol@old.example", true)]);
    /// let desk = Desk::new(clock, Arc::new(MemorySink::new())).with_source(contacts.clone())?;
    ///
    /// let kind = RequestKind::Rectification { corrections: vec![
    ///     Correction { category: DataCategory::USER_CONTACT_EMAIL, value: "carol@new.example".into() },
    ///     Correction { category: DataCategory::USER_CONTACT_PHONE, value: "+44 20 7946 0000".into() },
    /// ]};
    /// let mut request = desk.receive(tenant, carol, kind, Role::Controller, agent)?;
    /// // Received 31 December: due 31 January; extended: 31 March.
    /// assert_eq!(request.due.date_naive(), NaiveDate::from_ymd_opt(2027, 1, 31).unwrap());
    /// desk.verify(&mut request, VerificationMethod::AuthenticatedSession, "", agent)?;
    /// desk.extend(&mut request, "records spread over three regional stores", agent)?;
    /// assert_eq!(request.due.date_naive(), NaiveDate::from_ymd_opt(2027, 3, 31).unwrap());
    /// assert!(matches!(desk.extend(&mut request, "again", agent), Err(Error::AlreadyExtended { .. })));
    ///
    /// let report = desk.rectify(&mut request, agent)?;
    /// assert_eq!(report.records_updated, 1);
    /// // No phone number on file: the host completes the data itself (Art. 16).
    /// assert_eq!(report.unmatched, [DataCategory::USER_CONTACT_PHONE]);
    /// assert_eq!(contacts.get(tenant, &record).unwrap().fields[0].value, "carol@new.example");
    /// # Ok::<(), Error>(())
    /// ```
    pub fn rectify(
        &self,
        request: &mut Request,
        actor: ActorId,
    ) -> Result<RectificationReport, Error> {
        self.begin(request, actor, "rectification", |k| {
            matches!(k, RequestKind::Rectification { .. })
        })?;
        let corrections = match &request.kind {
            RequestKind::Rectification { corrections } => corrections.clone(),
            _ => Vec::new(),
        };
        self.each_source(request, actor, Skip::Done, |source, req, _| {
            let located = self.locate(source, req, actor)?;
            let mut matched = BTreeSet::new();
            let (mut records, mut fields) = (0, 0);
            for found in &located {
                let updates: Vec<FieldUpdate> = found
                    .fields
                    .iter()
                    .filter_map(|field| {
                        let best = corrections
                            .iter()
                            .filter(|c| field.category.is_within(&c.category))
                            .max_by_key(|c| c.category.depth())?;
                        matched.insert(best.category.clone());
                        Some(FieldUpdate {
                            name: field.name.clone(),
                            value: best.value.clone(),
                        })
                    })
                    .collect();
                if updates.is_empty() {
                    continue;
                }
                source
                    .rectify(req.tenant, req.subject, &found.record, &updates)
                    .map_err(|e| SourceFailure::new("rectify", &e))?;
                records += 1;
                fields += updates.len();
            }
            Ok(SourceRun {
                records,
                erased: Vec::new(),
                kept: Vec::new(),
                categories: matched.into_iter().collect(),
                subject_records: Vec::new(),
                subject_step_ran: false,
                action: DsrAction::SourceRectified {
                    source: source.name().to_owned(),
                    records,
                    fields,
                },
            })
        })?;
        let mut matched = BTreeSet::new();
        let mut records_updated = 0;
        for progress in request.progress.sources.values() {
            if let SourceProgress::Done {
                records,
                categories: m,
                ..
            } = progress
            {
                records_updated += records;
                matched.extend(m.iter().cloned());
            }
        }
        let unmatched = corrections
            .iter()
            .map(|c| c.category.clone())
            .filter(|c| !matched.contains(c))
            .collect();
        let recipients_to_inform = self.recipients(request);
        self.finish(request, actor)?;
        Ok(RectificationReport {
            records_updated,
            unmatched,
            recipients_to_inform,
        })
    }

    /// Restriction (Art. 18) or objection (Art. 21): restricts, lifts, or
    /// stops the purposes for every record in every source, and completes.
    /// An objection naming no purpose is refused ([`Error::Empty`]) before
    /// any step.
    /// Each source's subject-level state is changed first
    /// ([`PersonalDataSource::subject_step`]), so a person with no record
    /// located is covered too, and records stored later inherit it; once
    /// per request, so a rerun after a later failure reports what that
    /// step returned without asking again.
    pub fn restrict(
        &self,
        request: &mut Request,
        actor: ActorId,
    ) -> Result<RestrictionReport, Error> {
        // Checked on receipt; again here, before any step, for a request
        // read from storage.
        request.kind.check()?;
        self.begin(request, actor, "restriction or objection", |k| {
            matches!(
                k,
                RequestKind::Restriction { .. } | RequestKind::Objection { .. }
            )
        })?;
        let restriction = match &request.kind {
            RequestKind::Restriction { lift: true } => Restriction::Lift,
            RequestKind::Objection { purposes } => Restriction::StopPurposes {
                purposes: purposes.clone(),
            },
            _ => Restriction::Restrict,
        };
        let step = SubjectStep::Restrict {
            restriction: restriction.clone(),
        };
        self.each_source(
            request,
            actor,
            Skip::DoneWithStep,
            |source, req, previous| {
                // The subject-level state first: a record stored after it
                // inherits it, so none stored between the two steps is missed.
                // Once per request: a rerun after a later failure takes what
                // the step returned then.
                let subject_records = match previous.and_then(SourceProgress::subject_step_records)
                {
                    Some(records) => records.to_vec(),
                    None => match self.subject_step(source, req, actor, &step)? {
                        SubjectOutcome::Applied { records } => records,
                        _ => Vec::new(),
                    },
                };
                let mut categories: BTreeSet<DataCategory> = previous
                    .map(|p| p.categories().iter().cloned().collect())
                    .unwrap_or_default();
                let failed = |f: SourceFail, categories: &BTreeSet<DataCategory>| {
                    Box::new(SourceFailure {
                        categories: categories.iter().cloned().collect(),
                        subject_step_ran: true,
                        subject_records: subject_records.clone(),
                        ..*f
                    })
                };
                let located = self
                    .locate(source, req, actor)
                    .map_err(|f| failed(f, &categories))?;
                for found in &located {
                    source
                        .restrict(req.tenant, req.subject, &found.record, &restriction)
                        .map_err(|e| failed(SourceFailure::new("restrict", &e), &categories))?;
                    categories.extend(found.fields.iter().map(|f| f.category.clone()));
                }
                Ok(SourceRun {
                    records: located.len(),
                    erased: Vec::new(),
                    kept: Vec::new(),
                    categories: categories.into_iter().collect(),
                    subject_records,
                    subject_step_ran: true,
                    action: DsrAction::SourceRestricted {
                        source: source.name().to_owned(),
                        records: located.len(),
                    },
                })
            },
        )?;
        let records = request
            .progress
            .sources
            .values()
            .map(|p| match p {
                SourceProgress::Done { records, .. } => *records,
                SourceProgress::Failed { .. } => 0,
            })
            .sum();
        let subject_records = request
            .progress
            .sources
            .iter()
            .filter_map(|(name, p)| match p {
                SourceProgress::Done {
                    subject_records, ..
                } => Some(subject_records.iter().map(|r| (name.clone(), r.clone()))),
                SourceProgress::Failed { .. } => None,
            })
            .flatten()
            .collect();
        let recipients_to_inform = self.recipients(request);
        self.finish(request, actor)?;
        Ok(RestrictionReport {
            records,
            subject_records,
            recipients_to_inform,
        })
    }
}

impl Desk {
    /// Art. 19: the recipients of the data the request changed, from the
    /// record of processing and the categories in the request's progress.
    pub(crate) fn recipients(&self, request: &Request) -> Vec<String> {
        let Some(records) = &self.records else {
            return Vec::new();
        };
        let categories: BTreeSet<&DataCategory> = request
            .progress
            .sources
            .values()
            .filter_map(|p| match p {
                SourceProgress::Done { categories, .. } => Some(categories.iter()),
                SourceProgress::Failed { .. } => None,
            })
            .flatten()
            .collect();
        if categories.is_empty() {
            return Vec::new();
        }
        records.recipients_for(categories.iter().copied())
    }
}

fn attempts(previous: Option<&SourceProgress>) -> u32 {
    match previous {
        Some(SourceProgress::Failed { attempts, .. }) => attempts.saturating_add(1),
        _ => 1,
    }
}

/// `record` of `source` as a bundle lists it: every field for access, only
/// those the person provided for portability, where a record left with
/// none is not listed (`None`).
fn bundled(
    kind: BundleKind,
    source: &str,
    record: crate::source::ExportedRecord,
    legal_basis: custodia_core::LegalBasis,
) -> Option<ExportedRecord> {
    let fields: Vec<_> = record
        .fields
        .into_iter()
        .filter(|f| kind == BundleKind::Access || f.provided_by_subject)
        .collect();
    if fields.is_empty() && kind == BundleKind::Portability {
        return None;
    }
    Some(ExportedRecord {
        source: source.to_owned(),
        record_type: record.record.record_type,
        id: record.record.id,
        legal_basis,
        created_at: record.created_at,
        fields,
    })
}
