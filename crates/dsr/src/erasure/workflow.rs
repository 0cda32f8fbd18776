//! The erasure workflow (Art. 17) on the [`Desk`]: erase what is not held,
//! re-seal kept records, shred the subject key or defer the shred, certify,
//! and resume deferred shreds once holds are released.

use std::collections::{BTreeMap, BTreeSet};

use custodia_core::{ActorId, DataCategory};

use super::{ErasureCertificate, SubjectKeyStatus};
use crate::desk::{Desk, Skip, SourceFailure, SourceRun};
use crate::error::Error;
use crate::event::DsrAction;
use crate::request::{Request, RequestId, RequestKind, RequestState};
use crate::source::{
    ErasedRecord, KeptKey, KeptRecord, RecordRef, ResealOutcome, SourceProgress, SubjectOutcome,
    SubjectStep,
};

impl Desk {
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
    /// them under another key ([`PersonalDataSource::reseal_kept`](crate::PersonalDataSource::reseal_kept),
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
    /// certificate unchanged. Such a run does not run the sources'
    /// subject-level step again ([`PersonalDataSource::subject_step`](crate::PersonalDataSource::subject_step)):
    /// the erasure removed that state when it ran, the certificate keeps
    /// listing it, and what was written since (a later restriction of the
    /// same person) is another request's. Records it locates are still
    /// erased, as before, whenever they were stored.
    ///
    /// Idempotent and resumable: sources already done are skipped (but for
    /// one done in progress an older build wrote, without
    /// `subject_step_ran`: run again once, so its subject-level step runs),
    /// a failed source is retried (its subject-level step not again if it
    /// ran), the key is shredded once, and a completed erasure
    /// whose key is shredded (or without a key vault) returns its certificate
    /// again without touching anything.
    ///
    /// # Example: across sources, with a hold listed by the host
    ///
    /// ```
    /// use std::sync::Arc;
    /// use chrono::{TimeDelta, TimeZone, Utc};
    /// use custodia_core::{ActorId, Clock, DataCategory, LegalBasis, ManualClock, Role, SubjectId, TenantId};
    /// use custodia_crypt::{FieldContext, Keyring, MemoryKeyStore, SecretKey, SubjectVault};
    /// use custodia_dsr::*;
    /// use custodia_dsr::SubjectKeyStatus;
    ///
    /// let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()));
    /// let audit = Arc::new(MemorySink::new());
    /// let tenant = TenantId::from_external_key("billing.account", "ACME-0042");
    /// let alice = SubjectId::from_external_key(tenant, "psa.contact", "1017");
    /// let dpo = ActorId::from_external_key(tenant, "psa.user", "dpo");
    ///
    /// // Two stores, and a vault holding Alice's key. The invoice store can
    /// // re-seal a kept invoice under the tenant's key.
    /// let contacts = Arc::new(MemorySource::new("contacts"));
    /// contacts.insert(tenant, alice, RecordRef::new("contact", "1017"), LegalBasis::Contract,
    ///     [("email", DataCategory::USER_CONTACT_EMAIL, "alice@example.com", true)]);
    /// let invoices = Arc::new(MemorySource::new("invoices").resealing_under("tenant data key"));
    /// invoices.insert(tenant, alice, RecordRef::new("invoice", "INV-7"), LegalBasis::LegalObligation,
    ///     [("billing_name", DataCategory::USER_NAME, "Alice Example", true)]);
    /// let vault = Arc::new(SubjectVault::new(
    ///     Arc::new(Keyring::new(SecretKey::generate()?)), MemoryKeyStore::default(), clock.clone()));
    /// let ctx = FieldContext::new(tenant, "audit_event", "e-1", "ip")?;
    /// let sealed = vault.seal(alice, &ctx, b"203.0.113.7")?;
    ///
    /// // Invoices are kept ten years for the tax authority.
    /// let until = Utc.with_ymd_and_hms(2036, 1, 1, 0, 0, 0).unwrap();
    /// let holds = StaticHolds::new().hold(tenant, "invoices", RecordRef::new("invoice", "INV-7"),
    ///     ErasureHold { exception: ErasureException::LegalObligation, reason: "tax law".into(), until: Some(until) });
    ///
    /// let desk = Desk::new(clock.clone(), audit.clone())
    ///     .with_source(contacts.clone())?
    ///     .with_source(invoices.clone())?
    ///     .with_retention(Arc::new(holds))
    ///     .with_key_shredder(vault.clone())
    ///     .with_backup_horizon(Arc::new(FixedBackupWindow(TimeDelta::days(30))));
    ///
    /// let mut request = desk.receive(tenant, alice, RequestKind::Erasure, Role::Controller, dpo)?;
    /// assert_eq!(request.due, Utc.with_ymd_and_hms(2026, 4, 2, 23, 59, 59).unwrap()
    ///     + TimeDelta::nanoseconds(999_999_999));
    /// desk.verify(&mut request, VerificationMethod::AuthenticatedSession, "", dpo)?;
    /// let certificate = desk.erase(&mut request, dpo)?;
    ///
    /// assert_eq!(request.state, RequestState::Completed);
    /// assert!(contacts.is_empty());
    /// assert_eq!(certificate.kept[0].exception, ErasureException::LegalObligation);
    /// assert_eq!(invoices.len(), 1);
    /// // The kept invoice was re-sealed under the tenant's key, so it no longer
    /// // needs Alice's key: that is shredded now, and data sealed under it
    /// // (here an audit value) is unreadable at once.
    /// assert!(matches!(certificate.kept[0].subject_key, KeptKey::Resealed { .. }));
    /// assert_eq!(certificate.records_resealed, 1);
    /// assert!(matches!(certificate.subject_key, SubjectKeyStatus::Shredded { .. }));
    /// assert!(vault.open(&ctx, &sealed).is_err());
    /// assert_eq!(certificate.backups_clear_by, Some(clock.now() + TimeDelta::days(30)));
    /// // Running it again is safe and returns the same certificate.
    /// assert_eq!(desk.erase(&mut request, dpo)?, certificate);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn erase(
        &self,
        request: &mut Request,
        actor: ActorId,
    ) -> Result<ErasureCertificate, Error> {
        custodia_core::op_span!(
            DEBUG,
            "custodia.dsr.erase",
            erased = tracing::field::Empty,
            kept = tracing::field::Empty
        );
        let (certificate, _) = self.erase_inner(request, actor)?;
        custodia_core::op_record!(
            erased = certificate.erased.len(),
            kept = certificate.kept.len()
        );
        Ok(certificate)
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
    /// until it succeeds or the record is released. A pass never runs the
    /// sources' subject-level step (see [`Desk::erase`]): no `SubjectStep`
    /// event, and subject-level state written after the erasure stays.
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
        let skip = if resume_deferred {
            Skip::Nothing
        } else {
            Skip::DoneWithStep
        };
        self.each_source(request, actor, skip, |source, req, previous| {
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
            // The categories erased so far: an erased record is not
            // located again, and its recipients are still to be told.
            let mut categories: BTreeSet<DataCategory> = previous
                .map(|p| p.categories().iter().cloned().collect())
                .unwrap_or_default();
            // What the source keeps about the person as a whole goes
            // first, as for a restriction: a record's own erasure may take
            // it along (then this step finds nothing to report).
            // Once per request: not again once it ran (its entries are in
            // `erased`), and never on a completed erasure's pass, which
            // would remove state written since (a later restriction).
            // A failure after the source removed state (its audit) carries
            // the entries: a rerun finds the state gone and reports nothing.
            let mut step_ran = previous.is_some_and(SourceProgress::subject_step_ran);
            if !resume_deferred && !step_ran {
                match self.subject_step(source, req, actor, &SubjectStep::Erase) {
                    Ok(outcome) => {
                        step_ran = true;
                        if let SubjectOutcome::Applied { records } = outcome {
                            for record in records {
                                let entry = ErasedRecord::subject_state_removed(name, record);
                                erased.retain(|e| e.record != entry.record);
                                erased.push(entry);
                            }
                        }
                    }
                    Err(mut f) => {
                        for entry in std::mem::take(&mut f.erased) {
                            erased.retain(|e| e.record != entry.record);
                            erased.push(entry);
                        }
                        f.erased = erased;
                        f.kept = kept;
                        f.categories = categories.into_iter().collect();
                        return Err(f);
                    }
                }
            }
            let fail = |operation,
                        e: &dyn std::fmt::Display,
                        erased: &[ErasedRecord],
                        kept: &[KeptRecord],
                        categories: &BTreeSet<DataCategory>| {
                Box::new(SourceFailure {
                    operation,
                    error: e.to_string(),
                    erased: erased.to_vec(),
                    kept: kept.to_vec(),
                    categories: categories.iter().cloned().collect(),
                    subject_step_ran: step_ran,
                    subject_records: subject_level(erased),
                })
            };
            let located = self
                .locate(source, req, actor)
                .map_err(|f| fail(f.operation, &f.error, &erased, &kept, &categories))?;
            let (mut deleted_records, mut deleted_fields, mut anonymized_fields) = (0, 0, 0);
            for found in &located {
                let hold = self
                    .retention
                    .hold(req.tenant, req.subject, name, found)
                    .map_err(|e| fail("check retention for", &e, &erased, &kept, &categories))?;
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
                        return Err(fail("audit", &e, &erased, &kept, &categories));
                    }
                    continue;
                }
                let plan = self.policy.plan(found);
                source
                    .erase(req.tenant, req.subject, &plan)
                    .map_err(|e| fail("erase", &e, &erased, &kept, &categories))?;
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
                    subject_level: false,
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
            // Every subject-level entry, this run's and an earlier one's (a
            // rerun finds removed state gone): as `erased` says.
            let subject_records = subject_level(&erased);
            Ok(SourceRun {
                records: erased.len(),
                erased,
                kept,
                categories: categories.into_iter().collect(),
                subject_records,
                subject_step_ran: step_ran,
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
                (Some(receipt), _) => SubjectKeyStatus::Shredded {
                    at: receipt.at,
                    outcome: receipt.outcome,
                },
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
                            source: crate::error::host(e),
                        })?;
                    let (at, outcome) = (receipt.at, receipt.outcome);
                    request.progress.key_shredded = Some(receipt);
                    self.emit(
                        request,
                        Some(actor),
                        DsrAction::SubjectKeyShredded { outcome },
                    )?;
                    SubjectKeyStatus::Shredded { at, outcome }
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

/// The subject-level entries among `erased`: what the erasure's
/// subject-level step removed, this run or an earlier one.
fn subject_level(erased: &[ErasedRecord]) -> Vec<RecordRef> {
    erased
        .iter()
        .filter(|e| e.subject_level)
        .map(|e| e.record.clone())
        .collect()
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
