//! The desk: takes requests in, moves them through their states, and runs
//! them across every source, auditing each step.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use custodia_core::{ActorId, Clock, DataCategory, Role, SubjectId, TenantId, Timestamp};

use crate::erasure::{ErasureCertificate, ErasurePolicy, KeyShredder, SubjectKeyStatus};
use crate::error::{BoxError, Error};
use crate::event::{AuditSink, DsrAction, DsrEvent};
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
    ErasedRecord, FieldUpdate, KeptKey, KeptRecord, PersonalDataSource, RecordRef, ResealOutcome,
    Restriction, SourceProgress,
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
struct SourceRun {
    records: usize,
    erased: Vec<ErasedRecord>,
    kept: Vec<KeptRecord>,
    categories: Vec<DataCategory>,
    action: DsrAction,
}

/// One source's failure.
struct SourceFail {
    operation: &'static str,
    error: String,
    erased: Vec<ErasedRecord>,
    kept: Vec<KeptRecord>,
}

impl SourceFail {
    fn new(operation: &'static str, error: &BoxError) -> Self {
        Self {
            operation,
            error: error.to_string(),
            erased: Vec::new(),
            kept: Vec::new(),
        }
    }
}

/// Runs data-subject requests. See the [crate documentation](crate) for a tour.
///
/// Every step is stamped by the desk's [`Clock`] and recorded through its
/// [`AuditSink`] before it counts.
pub struct Desk {
    clock: Arc<dyn Clock>,
    audit: Arc<dyn AuditSink>,
    sources: Vec<Arc<dyn PersonalDataSource>>,
    retention: Arc<dyn RetentionCheck>,
    shredder: Option<Arc<dyn KeyShredder>>,
    backups: Arc<dyn BackupHorizon>,
    history: Option<Arc<dyn SubjectAuditHistory>>,
    policy: ErasurePolicy,
    records: Option<Arc<ProcessingRegistry>>,
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
    pub fn new(clock: Arc<dyn Clock>, audit: Arc<dyn AuditSink>) -> Self {
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

    fn emit(
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
            .map_err(|e| Error::Audit(e.to_string()))
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
                message: e.to_string(),
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
    fn begin(
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

    /// Runs `work` on every source (skipping those done when `skip_done`),
    /// recording progress and audit events; `Incomplete` if any failed.
    fn each_source(
        &self,
        request: &mut Request,
        actor: ActorId,
        skip_done: bool,
        mut work: impl FnMut(
            &dyn PersonalDataSource,
            &Request,
            Option<&SourceProgress>,
        ) -> Result<SourceRun, SourceFail>,
    ) -> Result<(), Error> {
        for source in &self.sources {
            let name = source.name();
            if skip_done && request.progress.is_done(name) {
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

    fn locate(
        &self,
        source: &dyn PersonalDataSource,
        request: &Request,
        actor: ActorId,
    ) -> Result<Vec<crate::source::Located>, SourceFail> {
        let located = source
            .locate(request.tenant, request.subject)
            .map_err(|e| SourceFail::new("locate", &e))?;
        self.emit(
            request,
            Some(actor),
            DsrAction::SourceLocated {
                source: source.name().to_owned(),
                records: located.len(),
            },
        )
        .map_err(|e| SourceFail {
            operation: "audit",
            error: e.to_string(),
            erased: Vec::new(),
            kept: Vec::new(),
        })?;
        Ok(located)
    }

    fn finish(&self, request: &mut Request, actor: ActorId) -> Result<(), Error> {
        let at = self.clock.now();
        self.step(request, actor, |r| {
            r.complete(at, actor)?;
            Ok(DsrAction::RequestCompleted)
        })
    }

    /// Access (Art. 15) or portability (Art. 20): exports from every source
    /// and completes the request. Reads are repeated in full on a rerun.
    pub fn export(&self, request: &mut Request, actor: ActorId) -> Result<ExportBundle, Error> {
        self.begin(request, actor, "access or portability", |k| {
            matches!(k, RequestKind::Access | RequestKind::Portability)
        })?;
        let kind = match request.kind {
            RequestKind::Portability => BundleKind::Portability,
            _ => BundleKind::Access,
        };
        let mut records = Vec::new();
        self.each_source(request, actor, false, |source, req, _| {
            let located = self.locate(source, req, actor)?;
            let mut exported = Vec::new();
            for found in &located {
                if kind == BundleKind::Portability && !found.legal_basis.allows_portability() {
                    continue;
                }
                let record = source
                    .export(req.tenant, req.subject, &found.record)
                    .map_err(|e| SourceFail::new("export", &e))?;
                let fields: Vec<_> = record
                    .fields
                    .into_iter()
                    .filter(|f| kind == BundleKind::Access || f.provided_by_subject)
                    .collect();
                if fields.is_empty() && kind == BundleKind::Portability {
                    continue;
                }
                exported.push(ExportedRecord {
                    source: source.name().to_owned(),
                    record_type: record.record.record_type,
                    id: record.record.id,
                    legal_basis: found.legal_basis,
                    created_at: record.created_at,
                    fields,
                });
            }
            let count = exported.len();
            records.extend(exported);
            Ok(SourceRun {
                records: count,
                erased: Vec::new(),
                kept: Vec::new(),
                categories: Vec::new(),
                action: DsrAction::SourceExported {
                    source: source.name().to_owned(),
                    records: count,
                },
            })
        })?;
        let audit = match &self.history {
            Some(history) => AuditSection {
                status: AuditStatus::Included,
                events: history
                    .events_for(request.tenant, request.subject)
                    .map_err(|e| Error::AuditHistory(e.to_string()))?,
            },
            None => AuditSection {
                status: AuditStatus::NotConnected,
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
        self.finish(request, actor)?;
        Ok(bundle)
    }

    /// Rectification (Art. 16): writes each correction to every field within
    /// its category, in every source, and completes the request.
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
        self.each_source(request, actor, true, |source, req, _| {
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
                    .map_err(|e| SourceFail::new("rectify", &e))?;
                records += 1;
                fields += updates.len();
            }
            Ok(SourceRun {
                records,
                erased: Vec::new(),
                kept: Vec::new(),
                categories: matched.into_iter().collect(),
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
    pub fn restrict(
        &self,
        request: &mut Request,
        actor: ActorId,
    ) -> Result<RestrictionReport, Error> {
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
        self.each_source(request, actor, true, |source, req, _| {
            let located = self.locate(source, req, actor)?;
            let mut categories = BTreeSet::new();
            for found in &located {
                source
                    .restrict(req.tenant, req.subject, &found.record, &restriction)
                    .map_err(|e| SourceFail::new("restrict", &e))?;
                categories.extend(found.fields.iter().map(|f| f.category.clone()));
            }
            Ok(SourceRun {
                records: located.len(),
                erased: Vec::new(),
                kept: Vec::new(),
                categories: categories.into_iter().collect(),
                action: DsrAction::SourceRestricted {
                    source: source.name().to_owned(),
                    records: located.len(),
                },
            })
        })?;
        let records = request
            .progress
            .sources
            .values()
            .map(|p| match p {
                SourceProgress::Done { records, .. } => *records,
                SourceProgress::Failed { .. } => 0,
            })
            .sum();
        let recipients_to_inform = self.recipients(request);
        self.finish(request, actor)?;
        Ok(RestrictionReport {
            records,
            recipients_to_inform,
        })
    }

    /// Erasure (Art. 17): erases or anonymizes every record not held, in every
    /// source; shreds the subject key unless a kept record still needs it;
    /// completes the request and returns the certificate.
    ///
    /// Legal holds and Art. 17(3) retention: held records are kept, each
    /// with its exception, reason and end date. The subject key is shredded
    /// at once unless a kept record still **needs** it: records whose source
    /// reports them not sealed under the subject key
    /// ([`RecordMeta::sealed_under_subject_key`](crate::RecordMeta::sealed_under_subject_key))
    /// do not, and for the others the desk first asks the source to re-seal
    /// them under another key ([`PersonalDataSource::reseal_kept`],
    /// a [`DsrAction::RecordsResealed`] event). Only if some still need the
    /// key is the shred deferred: the certificate says
    /// [`SubjectKeyStatus::Deferred`] listing only those records, and a
    /// [`DsrAction::SubjectKeyShredDeferred`] event is emitted. Until then,
    /// data sealed under the key (audit personal data included) stays
    /// readable.
    ///
    /// Running `erase` again on a completed, deferred erasure (or
    /// [`Desk::resume_deferred_erasures`]) re-checks every source: records no
    /// longer held are erased, blocking records are offered for re-sealing
    /// again, and once none needs the key it is shredded and a new
    /// certificate says so. If nothing changed, the run records a single
    /// [`DsrAction::SubjectKeyShredStillDeferred`] event and returns the
    /// certificate unchanged.
    ///
    /// Idempotent and resumable: sources already done are skipped, a failed
    /// source is retried, the key is shredded once, and a completed erasure
    /// whose key is shredded (or without a key vault) returns its certificate
    /// again without touching anything.
    pub fn erase(
        &self,
        request: &mut Request,
        actor: ActorId,
    ) -> Result<ErasureCertificate, Error> {
        self.erase_inner(request, actor)
            .map(|(certificate, _)| certificate)
    }

    /// The erasures among `requests` whose subject-key shred is deferred:
    /// the ones [`Desk::resume_deferred_erasures`] re-runs.
    pub fn deferred_erasures<'a>(
        requests: impl IntoIterator<Item = &'a Request>,
    ) -> Vec<&'a Request> {
        requests
            .into_iter()
            .filter(|r| r.is_shred_deferred())
            .collect()
    }

    /// Re-runs every erasure among `requests` whose key shred is deferred
    /// (others are skipped and not reported), as [`Desk::erase`] does: a
    /// scheduled job (daily, say) over the host's stored requests, so that
    /// no deferred shred depends on someone remembering it when a hold ends.
    ///
    /// Per request: [`Resumed::Shredded`] when nothing needs the key any
    /// more (released records erased, blocking ones re-sealed);
    /// [`Resumed::StillDeferred`] otherwise, with `changed` saying whether
    /// anything moved (a record released or re-sealed, a new certificate
    /// issued) or whether the run only recorded one
    /// [`DsrAction::SubjectKeyShredStillDeferred`] event. Idempotent: a
    /// request that was shredded is not deferred any more and is skipped
    /// next time. An error for one request (a source down) does not stop the
    /// others; that request stays deferred and resumable. A source whose
    /// re-sealing fails is re-run in full (its failure audited) each time,
    /// until it succeeds or the record is released.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use chrono::{TimeZone, Utc};
    /// use custodia_core::{ActorId, DataCategory, LegalBasis, ManualClock, Role, SubjectId, TenantId};
    /// use custodia_crypt::{Keyring, MemoryKeyStore, SecretKey, SubjectVault};
    /// use custodia_dsr::*;
    ///
    /// let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()));
    /// let tenant = TenantId::from_external_key("crm", "acme");
    /// let alice = SubjectId::from_external_key(tenant, "contact", "1");
    /// let dpo = ActorId::from_external_key(tenant, "agent", "dpo");
    /// let vault = Arc::new(SubjectVault::new(
    ///     Arc::new(Keyring::new(SecretKey::generate()?)), MemoryKeyStore::default(), clock.clone()));
    /// // Evidence under a hold, in a store that cannot re-seal it.
    /// let evidence = Arc::new(MemorySource::new("evidence"));
    /// let record = RecordRef::new("attachment", "A-2");
    /// evidence.insert(tenant, alice, record.clone(), LegalBasis::Contract,
    ///     [("file_name", DataCategory::USER_CONTENT_TICKET, "burnt-printer.jpg", true)]);
    /// let hold = ErasureHold { exception: ErasureException::LegalClaims, reason: "case 17".into(), until: None };
    /// let held = Desk::new(clock.clone(), Arc::new(MemorySink::new()))
    ///     .with_source(evidence.clone())?
    ///     .with_retention(Arc::new(StaticHolds::new().hold(tenant, "evidence", record, hold)))
    ///     .with_key_shredder(vault.clone());
    /// let mut request = held.receive(tenant, alice, RequestKind::Erasure, Role::Controller, dpo)?;
    /// held.verify(&mut request, VerificationMethod::AuthenticatedSession, "", dpo)?;
    /// held.erase(&mut request, dpo)?;
    /// let mut stored = vec![request]; // the host's request store
    /// assert_eq!(Desk::deferred_erasures(&stored).len(), 1);
    ///
    /// // The daily job, while the hold applies: nothing changes.
    /// let reports = held.resume_deferred_erasures(&mut stored, dpo);
    /// assert!(matches!(reports[0].outcome, Ok(Resumed::StillDeferred { changed: false, .. })));
    ///
    /// // After the hold is released (a desk without it): erased and shredded.
    /// let released = Desk::new(clock, Arc::new(MemorySink::new()))
    ///     .with_source(evidence.clone())?
    ///     .with_key_shredder(vault);
    /// let reports = released.resume_deferred_erasures(&mut stored, dpo);
    /// assert!(matches!(reports[0].outcome, Ok(Resumed::Shredded(_))));
    /// assert!(evidence.is_empty());
    /// assert!(released.resume_deferred_erasures(&mut stored, dpo).is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn resume_deferred_erasures<'a>(
        &self,
        requests: impl IntoIterator<Item = &'a mut Request>,
        actor: ActorId,
    ) -> Vec<ResumeReport> {
        requests
            .into_iter()
            .filter(|r| r.is_shred_deferred())
            .map(|request| {
                let outcome = self
                    .erase_inner(request, actor)
                    .map(|(certificate, changed)| match certificate.subject_key {
                        SubjectKeyStatus::Deferred { .. } => Resumed::StillDeferred {
                            certificate: Box::new(certificate),
                            changed,
                        },
                        _ => Resumed::Shredded(Box::new(certificate)),
                    });
                ResumeReport {
                    request: request.id,
                    outcome,
                }
            })
            .collect()
    }

    /// A deferred erasure's re-check, without audit events: whether every
    /// source still shows exactly the kept records of the last certificate,
    /// held for the same reasons, and every blocking one still cannot be
    /// re-sealed (its source is asked again, as it may have learnt to).
    /// Records re-sealed during the check are returned so the full run
    /// records and audits them.
    fn recheck_deferred(&self, request: &Request) -> Recheck {
        let mut resealed = Resealed::new();
        let Some(certificate) = &request.certificate else {
            return Recheck::Run(resealed);
        };
        let previous: BTreeMap<(&str, &RecordRef), &KeptRecord> = certificate
            .kept
            .iter()
            .map(|k| ((k.source.as_str(), &k.record), k))
            .collect();
        let mut seen = 0;
        let mut unchanged = true;
        let mut blocking = 0;
        for source in &self.sources {
            let name = source.name();
            let Ok(located) = source.locate(request.tenant, request.subject) else {
                return Recheck::Run(resealed);
            };
            for found in &located {
                let Some(before) = previous.get(&(name, &found.record)) else {
                    // A record to erase (released, or new): run in full.
                    return Recheck::Run(resealed);
                };
                seen += 1;
                let hold = self
                    .retention
                    .hold(request.tenant, request.subject, name, found);
                let same_hold = matches!(&hold, Ok(Some(h))
                    if h.exception == before.exception && h.reason == before.reason && h.until == before.until);
                if !same_hold {
                    return Recheck::Run(resealed);
                }
                match (&before.subject_key, found.meta.sealed_under_subject_key) {
                    (KeptKey::Needed { why }, true) => {
                        match source.reseal_kept(request.tenant, request.subject, &found.record) {
                            Ok(ResealOutcome::Resealed { fields, under }) => {
                                resealed.insert(
                                    (name.to_owned(), found.record.clone()),
                                    (fields, under),
                                );
                                unchanged = false;
                            }
                            // Unsupported, as last time: still blocking.
                            Ok(_) if why.as_deref() == Some(CANNOT_RESEAL) => blocking += 1,
                            // Unsupported after a failure last time, or a
                            // failure: let the full run record it.
                            _ => unchanged = false,
                        }
                    }
                    (KeptKey::Needed { .. }, false) => unchanged = false,
                    (_, true) => unchanged = false,
                    (_, false) => {}
                }
            }
        }
        if unchanged && seen == previous.len() {
            Recheck::Unchanged { blocking }
        } else {
            Recheck::Run(resealed)
        }
    }

    /// [`Desk::erase`], also saying whether anything changed (false only
    /// for an unchanged deferred re-run).
    fn erase_inner(
        &self,
        request: &mut Request,
        actor: ActorId,
    ) -> Result<(ErasureCertificate, bool), Error> {
        // A completed erasure whose key shred was deferred is re-run:
        // released records are erased and, once no kept record needs the
        // key, it is shredded. Any other completed erasure is final.
        let resume_deferred = match (request.state, &request.certificate) {
            (RequestState::Completed, Some(certificate)) => {
                if !matches!(certificate.subject_key, SubjectKeyStatus::Deferred { .. }) {
                    return Ok((certificate.clone(), false));
                }
                if !matches!(request.kind, RequestKind::Erasure) {
                    return Err(Error::WrongKind {
                        request: request.id,
                        expected: "erasure",
                        actual: request.kind.name(),
                    });
                }
                true
            }
            _ => false,
        };
        let mut pre_resealed = Resealed::new();
        if resume_deferred {
            match self.recheck_deferred(request) {
                Recheck::Unchanged { blocking } => {
                    self.emit(
                        request,
                        Some(actor),
                        DsrAction::SubjectKeyShredStillDeferred {
                            records_blocking: blocking,
                        },
                    )?;
                    if let Some(certificate) = &request.certificate {
                        return Ok((certificate.clone(), false));
                    }
                }
                Recheck::Run(resealed) => pre_resealed = resealed,
            }
        } else {
            self.begin(request, actor, "erasure", |k| {
                matches!(k, RequestKind::Erasure)
            })?;
        }
        self.each_source(request, actor, !resume_deferred, |source, req, previous| {
            let name = source.name();
            let (mut erased, mut kept) = match previous {
                Some(SourceProgress::Failed { erased, kept, .. }) => (erased.clone(), kept.clone()),
                // Re-run after a deferred shred: keep what was erased, decide
                // again what is kept.
                Some(SourceProgress::Done { erased, .. }) => (erased.clone(), Vec::new()),
                _ => (Vec::new(), Vec::new()),
            };
            let kept_before: Vec<KeptRecord> = match previous {
                Some(SourceProgress::Failed { kept, .. } | SourceProgress::Done { kept, .. }) => {
                    kept.clone()
                }
                None => Vec::new(),
            };
            let fail = |operation,
                        e: &BoxError,
                        erased: &Vec<ErasedRecord>,
                        kept: &Vec<KeptRecord>| SourceFail {
                operation,
                error: e.to_string(),
                erased: erased.clone(),
                kept: kept.clone(),
            };
            let located = match self.locate(source, req, actor) {
                Ok(located) => located,
                Err(mut f) => {
                    f.erased = erased;
                    f.kept = kept;
                    return Err(f);
                }
            };
            let (mut deleted_records, mut deleted_fields, mut anonymized_fields) = (0, 0, 0);
            let mut categories = BTreeSet::new();
            for found in &located {
                let hold = self
                    .retention
                    .hold(req.tenant, req.subject, name, found)
                    .map_err(|e| fail("check retention for", &e, &erased, &kept))?;
                if let Some(hold) = hold {
                    // Not sealed under the subject key: it does not need the
                    // key (and says so again if this erasure re-sealed it).
                    let resealed_by_check =
                        pre_resealed.contains_key(&(name.to_owned(), found.record.clone()));
                    let subject_key = if found.meta.sealed_under_subject_key || resealed_by_check {
                        // Needs the key (or did until the re-check just
                        // re-sealed it: recorded by the re-seal step below).
                        KeptKey::default()
                    } else {
                        kept_before
                            .iter()
                            .find(|k| {
                                k.record == found.record
                                    && matches!(k.subject_key, KeptKey::Resealed { .. })
                            })
                            .map_or(KeptKey::NotSealed, |k| k.subject_key.clone())
                    };
                    kept.retain(|k| k.record != found.record);
                    kept.push(KeptRecord {
                        source: name.to_owned(),
                        record: found.record.clone(),
                        exception: hold.exception,
                        reason: hold.reason.clone(),
                        until: hold.until,
                        subject_key,
                    });
                    if let Err(e) = self.emit(
                        req,
                        Some(actor),
                        DsrAction::RecordKept {
                            source: name.to_owned(),
                            record_type: found.record.record_type.clone(),
                            record_id: found.record.id.clone(),
                            exception: hold.exception,
                            until: hold.until,
                        },
                    ) {
                        let e: BoxError = e.into();
                        return Err(fail("audit", &e, &erased, &kept));
                    }
                    continue;
                }
                let plan = self.policy.plan(found);
                source
                    .erase(req.tenant, req.subject, &plan)
                    .map_err(|e| fail("erase", &e, &erased, &kept))?;
                categories.extend(found.fields.iter().map(|f| f.category.clone()));
                let names = |action| {
                    plan.fields
                        .iter()
                        .filter(|f| f.action == action)
                        .map(|f| f.name.clone())
                        .collect::<Vec<_>>()
                };
                let entry = ErasedRecord {
                    source: name.to_owned(),
                    record: plan.record.clone(),
                    deleted_record: plan.delete_record,
                    deleted_fields: names(crate::FieldAction::Delete),
                    anonymized_fields: names(crate::FieldAction::Anonymize),
                };
                if entry.deleted_record {
                    deleted_records += 1;
                } else {
                    deleted_fields += entry.deleted_fields.len();
                }
                anonymized_fields += entry.anonymized_fields.len();
                erased.retain(|e| e.record != entry.record);
                erased.push(entry);
            }
            Ok(SourceRun {
                records: erased.len(),
                erased,
                kept,
                categories: categories.into_iter().collect(),
                action: DsrAction::SourceErased {
                    source: name.to_owned(),
                    records_deleted: deleted_records,
                    fields_deleted: deleted_fields,
                    fields_anonymized: anonymized_fields,
                },
            })
        })?;
        // Kept records that still need the subject key: ask their sources
        // to re-seal them under another key, so the key can go now.
        if self.shredder.is_some() && request.progress.key_shredded.is_none() {
            self.reseal_kept_records(request, actor, pre_resealed)?;
        }
        let (mut erased, mut kept) = (Vec::new(), Vec::new());
        for progress in request.progress.sources.values() {
            if let SourceProgress::Done {
                erased: e, kept: k, ..
            } = progress
            {
                erased.extend(e.iter().cloned());
                kept.extend(k.iter().cloned());
            }
        }
        let subject_key = match &self.shredder {
            None => SubjectKeyStatus::NoKeyVault,
            Some(shredder) => match (
                &request.progress.key_shredded,
                SubjectKeyStatus::deferred_for(&kept),
            ) {
                (Some(receipt), _) => SubjectKeyStatus::Shredded { at: receipt.at },
                // Kept records (hold or retention) still sealed under the
                // subject key: it must survive until they go.
                (None, Some(deferred)) => {
                    if let SubjectKeyStatus::Deferred {
                        blocking, until, ..
                    } = &deferred
                    {
                        self.emit(
                            request,
                            Some(actor),
                            DsrAction::SubjectKeyShredDeferred {
                                records_kept: blocking.len(),
                                blocking: blocking.clone(),
                                until: *until,
                            },
                        )?;
                    }
                    deferred
                }
                (None, None) => {
                    let receipt = shredder
                        .shred_subject(request.tenant, request.subject, actor)
                        .map_err(|e| Error::Shred {
                            subject: request.subject,
                            message: e.to_string(),
                        })?;
                    let at = receipt.at;
                    request.progress.key_shredded = Some(receipt);
                    self.emit(request, Some(actor), DsrAction::SubjectKeyShredded)?;
                    SubjectKeyStatus::Shredded { at }
                }
            },
        };
        let now = self.clock.now();
        let records_resealed = kept
            .iter()
            .filter(|k| matches!(k.subject_key, KeptKey::Resealed { .. }))
            .count();
        let certificate = ErasureCertificate {
            schema: crate::erasure::CERTIFICATE_SCHEMA.to_owned(),
            version: ErasureCertificate::VERSION,
            request: request.id,
            tenant: request.tenant,
            subject: request.subject,
            received_at: request.received_at,
            issued_at: now,
            sources: self.sources.iter().map(|s| s.name().to_owned()).collect(),
            erased,
            kept,
            subject_key,
            records_resealed,
            backups_clear_by: self.backups.clear_by(request.tenant, now),
            recipients_to_inform: self.recipients(request),
        };
        self.emit(
            request,
            Some(actor),
            DsrAction::CertificateIssued {
                erased: certificate.erased.len(),
                kept: certificate.kept.len(),
                backups_clear_by: certificate.backups_clear_by,
            },
        )?;
        if !resume_deferred {
            self.finish(request, actor)?;
        }
        request.certificate = Some(certificate.clone());
        Ok((certificate, true))
    }

    /// Offers every kept record that still needs the subject key to its
    /// source for re-sealing, records the outcome on the request's
    /// progress, and audits it (one [`DsrAction::RecordsResealed`] per
    /// source, one [`DsrAction::ResealFailed`] per failure).
    fn reseal_kept_records(
        &self,
        request: &mut Request,
        actor: ActorId,
        mut pre_resealed: Resealed,
    ) -> Result<(), Error> {
        for source in &self.sources {
            let name = source.name();
            let Some(SourceProgress::Done { kept, .. }) = request.progress.sources.get(name) else {
                continue;
            };
            if !kept.iter().any(|k| k.subject_key.blocks_shred()) {
                continue;
            }
            let mut kept = kept.clone();
            let (mut records, mut fields) = (Vec::new(), 0);
            for k in kept.iter_mut().filter(|k| k.subject_key.blocks_shred()) {
                let outcome = match pre_resealed.remove(&(name.to_owned(), k.record.clone())) {
                    Some((fields, under)) => Ok(ResealOutcome::Resealed { fields, under }),
                    None => source.reseal_kept(request.tenant, request.subject, &k.record),
                };
                match outcome {
                    Ok(ResealOutcome::Resealed { fields: n, under }) => {
                        k.subject_key = KeptKey::Resealed {
                            at: self.clock.now(),
                            fields: n,
                            under,
                        };
                        records.push(k.record.clone());
                        fields += n;
                    }
                    Ok(_) => {
                        k.subject_key = KeptKey::Needed {
                            why: Some(CANNOT_RESEAL.to_owned()),
                        };
                    }
                    Err(e) => {
                        let error = e.to_string();
                        self.emit(
                            request,
                            Some(actor),
                            DsrAction::ResealFailed {
                                source: name.to_owned(),
                                record_type: k.record.record_type.clone(),
                                record_id: k.record.id.clone(),
                                error: error.clone(),
                            },
                        )?;
                        k.subject_key = KeptKey::Needed {
                            why: Some(format!("re-sealing failed: {error}")),
                        };
                    }
                }
            }
            if !records.is_empty() {
                self.emit(
                    request,
                    Some(actor),
                    DsrAction::RecordsResealed {
                        source: name.to_owned(),
                        records,
                        fields,
                    },
                )?;
            }
            if let Some(SourceProgress::Done { kept: stored, .. }) =
                request.progress.sources.get_mut(name)
            {
                *stored = kept;
            }
        }
        Ok(())
    }
}

/// Why a kept record still needs the subject key when its source returned
/// [`ResealOutcome::Unsupported`].
const CANNOT_RESEAL: &str = "the source cannot re-seal it";

/// Records re-sealed ahead of a full run, by (source, record): (fields, key).
type Resealed = BTreeMap<(String, RecordRef), (usize, String)>;

/// What the re-check of a deferred erasure found.
enum Recheck {
    /// Nothing changed; this many kept records still need the key.
    Unchanged { blocking: usize },
    /// Run the erasure again (with what the check already re-sealed).
    Run(Resealed),
}

/// The outcome of re-running one deferred erasure
/// ([`Desk::resume_deferred_erasures`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resumed {
    /// No kept record needs the subject key any more: it was shredded. The
    /// new certificate says so.
    Shredded(Box<ErasureCertificate>),
    /// Some kept records still need the key.
    StillDeferred {
        /// The certificate: a new one if `changed`, else the previous one.
        certificate: Box<ErasureCertificate>,
        /// Whether the run erased released records or re-sealed some;
        /// `false` when it only recorded that nothing changed.
        changed: bool,
    },
}

/// One deferred erasure's re-run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumeReport {
    /// The request.
    pub request: RequestId,
    /// What happened, or why it failed (the request stays deferred).
    pub outcome: Result<Resumed, Error>,
}

impl Desk {
    /// Art. 19: the recipients of the data the request changed, from the
    /// record of processing and the categories in the request's progress.
    fn recipients(&self, request: &Request) -> Vec<String> {
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
