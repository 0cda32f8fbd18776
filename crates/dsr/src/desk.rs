//! The desk: takes requests in, moves them through their states, and runs
//! them across every source, auditing each step.

use std::collections::BTreeSet;
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
    Forwarding, IdentityVerification, Party, RejectionReason, Request, RequestKind, RequestState,
    VerificationMethod,
};
use crate::retention::{BackupHorizon, NoHolds, RetentionCheck, UnknownBackups};
use crate::source::{
    ErasedRecord, FieldUpdate, KeptRecord, PersonalDataSource, Restriction, SourceProgress,
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
pub enum Outcome {
    /// Access or portability.
    Bundle(Box<ExportBundle>),
    /// Rectification.
    Rectified(RectificationReport),
    /// Erasure.
    Erased(Box<ErasureCertificate>),
    /// Restriction or objection.
    Restricted(RestrictionReport),
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

    /// Refuses the request with a reason (Art. 12(4)).
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
            Ok(DsrAction::RequestRejected { reason })
        })
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
    pub fn run(&self, request: &mut Request, actor: ActorId) -> Result<Outcome, Error> {
        Ok(match request.kind {
            RequestKind::Access | RequestKind::Portability => {
                Outcome::Bundle(Box::new(self.export(request, actor)?))
            }
            RequestKind::Rectification { .. } => Outcome::Rectified(self.rectify(request, actor)?),
            RequestKind::Erasure => Outcome::Erased(Box::new(self.erase(request, actor)?)),
            RequestKind::Restriction { .. } | RequestKind::Objection { .. } => {
                Outcome::Restricted(self.restrict(request, actor)?)
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
    /// source; shreds the subject key unless a record is kept; completes the
    /// request and returns the certificate.
    ///
    /// Legal holds and Art. 17(3) retention: while any record is kept, the
    /// subject key is NOT shredded (kept data may be sealed under it), the
    /// certificate says [`SubjectKeyStatus::Deferred`] and a
    /// [`DsrAction::SubjectKeyShredDeferred`] event is emitted. Running
    /// `erase` again on the completed request re-checks every source: records
    /// no longer held are erased, and once nothing is kept the key is
    /// shredded and a new certificate says so. Note that data sealed under
    /// the key (audit personal data included) stays readable until then.
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
        // A completed erasure whose key shred was deferred (records kept) is
        // re-run in full: released records are erased and, once nothing is
        // kept, the key is shredded. Any other completed erasure is final.
        let resume_deferred = match (request.state, &request.certificate) {
            (RequestState::Completed, Some(certificate)) => {
                if !matches!(certificate.subject_key, SubjectKeyStatus::Deferred { .. }) {
                    return Ok(certificate.clone());
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
        if !resume_deferred {
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
                    kept.retain(|k| k.record != found.record);
                    kept.push(KeptRecord {
                        source: name.to_owned(),
                        record: found.record.clone(),
                        exception: hold.exception,
                        reason: hold.reason.clone(),
                        until: hold.until,
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
                // Records are kept (hold or retention): they may be sealed
                // under the subject key, so it must survive until they go.
                (None, Some(deferred)) => {
                    if let SubjectKeyStatus::Deferred {
                        records_kept,
                        until,
                        ..
                    } = &deferred
                    {
                        self.emit(
                            request,
                            Some(actor),
                            DsrAction::SubjectKeyShredDeferred {
                                records_kept: *records_kept,
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
        Ok(certificate)
    }
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
