//! The subject-level step (`PersonalDataSource::subject_step`): a source
//! that keeps state about the person as a whole (a contact register) is
//! reached once per request even with no record located; access bundles
//! list that state, erasure certificates show it removed, and sources
//! without the step (in process, or served by an older program) work as
//! before.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::sync::{Arc, Mutex};

use custodia_core::{
    ActorId, DataCategory, LegalBasis, ManualClock, Purpose, SubjectId, TenantId, Timestamp,
};
use custodia_dsr::remote::{
    RemoteSources, SourceOperation, SourceServer, decode_reply, decode_request,
};
use custodia_dsr::*;
use proptest::prelude::*;

#[macro_use]
mod support;

struct Ids {
    tenant: TenantId,
    alice: SubjectId,
    carol: SubjectId,
    dpo: ActorId,
}

fn ids() -> Ids {
    let tenant = TenantId::from_external_key("test", "acme");
    Ids {
        tenant,
        alice: SubjectId::from_external_key(tenant, "test", "alice"),
        carol: SubjectId::from_external_key(tenant, "test", "carol"),
        dpo: ActorId::from_external_key(tenant, "test", "dpo"),
    }
}

/// Tickets (in a [`MemorySource`]) plus a contact register: per contact,
/// whether restricted and the purposes objected to.
struct Registered {
    tickets: MemorySource,
    register: Mutex<BTreeMap<SubjectId, (bool, Vec<Purpose>)>>,
}

impl Registered {
    fn new(ids: &Ids) -> Self {
        let tickets = MemorySource::new("tickets");
        tickets.insert(
            ids.tenant,
            ids.alice,
            RecordRef::new("ticket", "T-1"),
            LegalBasis::Contract,
            [("body", DataCategory::USER_CONTENT_TICKET, "VPN drops", true)],
        );
        Self {
            tickets,
            register: Mutex::new(BTreeMap::new()),
        }
    }

    fn row(&self, subject: SubjectId) -> Option<(bool, Vec<Purpose>)> {
        self.register.lock().unwrap().get(&subject).cloned()
    }

    fn reference(subject: SubjectId) -> RecordRef {
        RecordRef::new("contact_register", subject.to_string())
    }
}

impl PersonalDataSource for Registered {
    fn name(&self) -> &str {
        "tickets"
    }
    pass_through!(tickets: locate, export, rectify, erase, restrict);
    fn subject_step(
        &self,
        _: TenantId,
        subject: SubjectId,
        step: &SubjectStep,
    ) -> Result<SubjectOutcome, BoxError> {
        let mut register = self.register.lock().unwrap();
        let reference = Self::reference(subject);
        Ok(match step {
            SubjectStep::Access => SubjectOutcome::Exported {
                records: register
                    .get(&subject)
                    .map(|(restricted, objections)| SubjectRecord {
                        record: custodia_dsr::ExportedRecord {
                            record: reference.clone(),
                            created_at: None,
                            fields: vec![FieldValue {
                                name: "processing".into(),
                                category: DataCategory::USER_ACCOUNT_SETTINGS,
                                value: if *restricted { "restricted" } else { "active" }.into(),
                                provided_by_subject: false,
                            }]
                            .into_iter()
                            .chain((!objections.is_empty()).then(|| {
                                FieldValue {
                                    name: "objections".into(),
                                    category: DataCategory::USER_ACCOUNT_SETTINGS,
                                    value: objections
                                        .iter()
                                        .map(Purpose::as_str)
                                        .collect::<Vec<_>>()
                                        .join(","),
                                    provided_by_subject: false,
                                }
                            }))
                            .collect(),
                        },
                        legal_basis: LegalBasis::LegalObligation,
                    })
                    .into_iter()
                    .collect(),
            },
            SubjectStep::Restrict { restriction } => {
                let row = register.entry(subject).or_default();
                match restriction {
                    Restriction::Restrict => row.0 = true,
                    Restriction::Lift => row.0 = false,
                    Restriction::StopPurposes { purposes } => row.1.extend(purposes.clone()),
                }
                SubjectOutcome::Applied {
                    records: vec![reference],
                }
            }
            SubjectStep::Erase => SubjectOutcome::Applied {
                records: register
                    .remove(&subject)
                    .map(|_| reference)
                    .into_iter()
                    .collect(),
            },
            _ => SubjectOutcome::NotKept,
        })
    }
}

fn desk(source: Arc<dyn PersonalDataSource>, sink: Arc<MemorySink>) -> Desk {
    let clock = Arc::new(ManualClock::new(Timestamp::UNIX_EPOCH));
    Desk::new(clock, sink).with_source(source).unwrap()
}

fn verified(desk: &Desk, ids: &Ids, subject: SubjectId, kind: RequestKind) -> Request {
    support::verified_request(desk, ids.tenant, subject, kind, ids.dpo)
}

/// The certificate's entry for Carol's register row, removed by the
/// erasure's subject-level step.
fn carol_register_erased(ids: &Ids) -> ErasedRecord {
    ErasedRecord {
        source: "tickets".into(),
        record: Registered::reference(ids.carol),
        deleted_record: true,
        deleted_fields: Vec::new(),
        anonymized_fields: Vec::new(),
        subject_level: true,
    }
}

/// `kind` (a restriction, lift or objection) of `subject`, received,
/// verified and run: the request as it ends, and the desk's report.
fn restricted(
    desk: &Desk,
    ids: &Ids,
    subject: SubjectId,
    kind: RequestKind,
) -> (Request, RestrictionReport) {
    let mut request = verified(desk, ids, subject, kind);
    let report = desk.restrict(&mut request, ids.dpo).unwrap();
    (request, report)
}

fn subject_steps(sink: &MemorySink) -> Vec<(String, String, usize)> {
    sink.events()
        .into_iter()
        .filter_map(|e| match e.action {
            DsrAction::SubjectStep {
                source,
                step,
                records,
            } => Some((source, step, records)),
            _ => None,
        })
        .collect()
}

/// Before, the desk asked a source only about located records: Carol,
/// with no ticket, was restricted nowhere. Now the subject-level step runs
/// once per request whatever was located, and the report, the progress and
/// the audit trail say what it did.
#[test]
fn a_restriction_of_a_subject_with_no_record_reaches_the_subject_level_state() {
    let ids = ids();
    let source = Arc::new(Registered::new(&ids));
    let sink = Arc::new(MemorySink::new());
    let desk = desk(source.clone(), sink.clone());
    let (request, report) = restricted(
        &desk,
        &ids,
        ids.carol,
        RequestKind::Restriction { lift: false },
    );
    assert_eq!(report.records, 0);
    assert_eq!(
        report.subject_records,
        [("tickets".to_owned(), Registered::reference(ids.carol))]
    );
    assert_eq!(source.row(ids.carol), Some((true, Vec::new())));
    assert_eq!(
        subject_steps(&sink),
        [("tickets".into(), "restrict".into(), 1)]
    );
    let SourceProgress::Done {
        subject_records, ..
    } = &request.progress.sources["tickets"]
    else {
        panic!("not done");
    };
    assert_eq!(subject_records, &[Registered::reference(ids.carol)]);
    // Kept through the request's JSON.
    assert_eq!(
        Request::from_json(&request.to_json().unwrap()).unwrap(),
        request
    );

    // An objection and a lift, the same way.
    restricted(
        &desk,
        &ids,
        ids.carol,
        RequestKind::Objection {
            purposes: vec![Purpose::AI_ASSISTANCE],
        },
    );
    restricted(
        &desk,
        &ids,
        ids.carol,
        RequestKind::Restriction { lift: true },
    );
    assert_eq!(
        source.row(ids.carol),
        Some((false, vec![Purpose::AI_ASSISTANCE]))
    );
    assert_eq!(
        subject_steps(&sink)[1..],
        [
            ("tickets".into(), "stop_purposes".into(), 1),
            ("tickets".into(), "lift".into(), 1)
        ]
    );
}

/// Before, an access bundle carried the located records only: the
/// subject-level state (restricted, objections) was missing. Now it is a
/// record of the source in the bundle, manifest and CSV; portability
/// leaves it out (not provided by the person).
#[test]
fn an_access_bundle_lists_the_subject_level_state() {
    let ids = ids();
    let source = Arc::new(Registered::new(&ids));
    let sink = Arc::new(MemorySink::new());
    let desk = desk(source.clone(), sink.clone());
    restricted(
        &desk,
        &ids,
        ids.carol,
        RequestKind::Restriction { lift: false },
    );

    let mut access = verified(&desk, &ids, ids.carol, RequestKind::Access);
    let bundle = desk.export(&mut access, ids.dpo).unwrap();
    assert_eq!(bundle.records.len(), 1, "{:?}", bundle.records);
    let row = &bundle.records[0];
    assert_eq!(
        (row.source.as_str(), row.record_type.as_str()),
        ("tickets", "contact_register")
    );
    assert_eq!(row.id, ids.carol.to_string());
    assert_eq!(row.legal_basis, LegalBasis::LegalObligation);
    assert_eq!(row.fields[0].value, "restricted");
    assert_eq!(bundle.manifest[0].record_type, "contact_register");
    assert_eq!(bundle.version, 1);
    assert_eq!(
        ExportBundle::from_json(&bundle.to_json().unwrap()).unwrap(),
        bundle
    );
    assert_eq!(
        subject_steps(&sink).last().unwrap(),
        &("tickets".into(), "access".into(), 1)
    );

    // Alice: her ticket, and no register row (an empty subject step).
    let mut access = verified(&desk, &ids, ids.alice, RequestKind::Access);
    let bundle = desk.export(&mut access, ids.dpo).unwrap();
    assert_eq!(bundle.records.len(), 1);
    assert_eq!(bundle.records[0].record_type, "ticket");

    let mut portability = verified(&desk, &ids, ids.carol, RequestKind::Portability);
    let bundle = desk.export(&mut portability, ids.dpo).unwrap();
    assert!(bundle.records.is_empty(), "{:?}", bundle.records);
    // Found in review: the progress listed the row among the records
    // exported although the portability bundle left it out. Now it lists
    // what the bundle holds.
    let SourceProgress::Done {
        subject_records, ..
    } = &portability.progress.sources["tickets"]
    else {
        panic!("not done");
    };
    assert!(subject_records.is_empty(), "{subject_records:?}");
    let SourceProgress::Done {
        subject_records, ..
    } = &access.progress.sources["tickets"]
    else {
        panic!("not done");
    };
    assert!(
        subject_records.is_empty(),
        "Alice has no row: {subject_records:?}"
    );
}

/// Before, an erasure of a subject with no record left their register
/// row. Now the subject-level step removes it and the certificate lists it
/// as subject-level; an erasure rerun finds nothing more to remove.
#[test]
fn an_erasure_removes_the_subject_level_state_and_the_certificate_says_so() {
    let ids = ids();
    let source = Arc::new(Registered::new(&ids));
    let sink = Arc::new(MemorySink::new());
    let desk = desk(source.clone(), sink.clone());
    for subject in [ids.carol, ids.alice] {
        restricted(
            &desk,
            &ids,
            subject,
            RequestKind::Restriction { lift: false },
        );
    }
    let mut erasure = verified(&desk, &ids, ids.carol, RequestKind::Erasure);
    let certificate = desk.erase(&mut erasure, ids.dpo).unwrap();
    assert_eq!(source.row(ids.carol), None);
    assert_eq!(certificate.erased, [carol_register_erased(&ids)]);
    let json = certificate.to_json().unwrap();
    assert!(json.contains("\"subject_level\": true"), "{json}");
    assert_eq!(ErasureCertificate::from_json(&json).unwrap(), certificate);
    assert!(
        certificate
            .to_markdown()
            .contains("subject-level record deleted")
    );
    assert_eq!(
        subject_steps(&sink).last().unwrap(),
        &("tickets".into(), "erase".into(), 1)
    );
    // Alice's row stands.
    assert_eq!(source.row(ids.alice), Some((true, Vec::new())));

    // Alice's erasure: her row first, then her ticket, which is not marked.
    let mut erasure = verified(&desk, &ids, ids.alice, RequestKind::Erasure);
    let certificate = desk.erase(&mut erasure, ids.dpo).unwrap();
    let marks: Vec<(String, bool)> = certificate
        .erased
        .iter()
        .map(|e| (e.record.record_type.clone(), e.subject_level))
        .collect();
    assert_eq!(
        marks,
        [
            ("contact_register".to_owned(), true),
            ("ticket".to_owned(), false)
        ]
    );
    assert_eq!(source.row(ids.alice), None);
}

/// A source without the step (here `MemorySource`) runs every request as
/// before: nothing subject-level recorded, reported or exported.
#[test]
fn a_source_without_the_step_works_as_before() {
    let ids = ids();
    let tickets = Registered::new(&ids).tickets;
    let sink = Arc::new(MemorySink::new());
    let desk = desk(Arc::new(tickets), sink.clone());
    let (_, report) = restricted(
        &desk,
        &ids,
        ids.carol,
        RequestKind::Restriction { lift: false },
    );
    assert!(report.subject_records.is_empty());
    let mut r = verified(&desk, &ids, ids.alice, RequestKind::Access);
    assert_eq!(desk.export(&mut r, ids.dpo).unwrap().records.len(), 1);
    let mut r = verified(&desk, &ids, ids.alice, RequestKind::Erasure);
    let certificate = desk.erase(&mut r, ids.dpo).unwrap();
    assert!(certificate.erased.iter().all(|e| !e.subject_level));
    assert!(!certificate.to_json().unwrap().contains("subject_level"));
    assert!(subject_steps(&sink).is_empty());
}

/// A step answered with the wrong kind of outcome is the source's error:
/// the request stays open and says which operation failed.
#[test]
fn a_mismatched_subject_outcome_fails_the_source() {
    struct Confused(MemorySource);
    impl PersonalDataSource for Confused {
        fn name(&self) -> &str {
            self.0.name()
        }
        pass_through!(0: locate, export, rectify, erase, restrict);
        fn subject_step(
            &self,
            _: TenantId,
            _: SubjectId,
            _: &SubjectStep,
        ) -> Result<SubjectOutcome, BoxError> {
            Ok(SubjectOutcome::Exported {
                records: Vec::new(),
            })
        }
    }
    let ids = ids();
    let sink = Arc::new(MemorySink::new());
    let desk = desk(
        Arc::new(Confused(MemorySource::new("tickets"))),
        sink.clone(),
    );
    let mut r = verified(
        &desk,
        &ids,
        ids.carol,
        RequestKind::Restriction { lift: false },
    );
    assert!(matches!(
        desk.restrict(&mut r, ids.dpo),
        Err(Error::Incomplete { .. })
    ));
    let SourceProgress::Failed {
        operation, error, ..
    } = &r.progress.sources["tickets"]
    else {
        panic!("not failed");
    };
    assert_eq!(operation, "subject_step");
    assert!(error.contains("exported records to restrict"), "{error}");
}

/// Refuses the first [`DsrAction::SubjectStep`] event, records every
/// other one: an audit log that fails once, after the source acted.
struct RefusesFirstStep {
    events: MemorySink,
    refused: Mutex<bool>,
}

impl DsrEventSink for RefusesFirstStep {
    fn record(&self, event: &DsrEvent) -> Result<(), BoxError> {
        if matches!(event.action, DsrAction::SubjectStep { .. }) {
            let mut refused = self.refused.lock().unwrap();
            if !*refused {
                *refused = true;
                return Err("audit log unavailable".into());
            }
        }
        self.events.record(event)
    }
}

/// Found in review: when the audit of the erasure's subject-level step
/// failed, the register row was already removed but the failed source's
/// progress did not say so; the rerun found nothing left to remove, and
/// the certificate left the row out. Now the failure keeps the row as
/// erased, the rerun's certificate lists it, and the progress's
/// `subject_records` say the same as its `erased`.
#[test]
fn an_erasure_whose_step_audit_failed_still_certifies_the_row_removed() {
    let ids = ids();
    let source = Arc::new(Registered::new(&ids));
    let sink = Arc::new(RefusesFirstStep {
        events: MemorySink::new(),
        refused: Mutex::new(true),
    });
    let clock = Arc::new(ManualClock::new(Timestamp::UNIX_EPOCH));
    let desk = Desk::new(clock, sink.clone())
        .with_source(source.clone())
        .unwrap();
    restricted(
        &desk,
        &ids,
        ids.carol,
        RequestKind::Restriction { lift: false },
    );
    assert!(source.row(ids.carol).is_some());

    *sink.refused.lock().unwrap() = false;
    let mut erasure = verified(&desk, &ids, ids.carol, RequestKind::Erasure);
    assert!(desk.erase(&mut erasure, ids.dpo).is_err());
    assert_eq!(source.row(ids.carol), None, "the source acted");
    let SourceProgress::Failed { erased, .. } = &erasure.progress.sources["tickets"] else {
        panic!("not failed");
    };
    assert_eq!(
        erased.iter().map(|e| &e.record).collect::<Vec<_>>(),
        [&Registered::reference(ids.carol)]
    );
    // Kept through the stored request.
    let mut erasure = Request::from_json(&erasure.to_json().unwrap()).unwrap();

    let certificate = desk.erase(&mut erasure, ids.dpo).unwrap();
    assert_eq!(certificate.erased, [carol_register_erased(&ids)]);
    let SourceProgress::Done {
        subject_records, ..
    } = &erasure.progress.sources["tickets"]
    else {
        panic!("not done");
    };
    assert_eq!(subject_records, &[Registered::reference(ids.carol)]);
}

/// Progress and certificates written before the step existed still read.
#[test]
fn documents_written_before_the_step_still_read() {
    let done: SourceProgress =
        serde_json::from_str(r#"{"status":"done","at":"2026-01-01T00:00:00Z","records":2}"#)
            .unwrap();
    assert!(matches!(
        done,
        SourceProgress::Done { ref subject_records, .. } if subject_records.is_empty()
    ));
    let erased: ErasedRecord = serde_json::from_str(
        r#"{"source":"tickets","record":{"record_type":"ticket","id":"T-1"},
            "deleted_record":true,"deleted_fields":[],"anonymized_fields":[]}"#,
    )
    .unwrap();
    assert!(!erased.subject_level);
}

/// A desk over `source` (and `others`) with `holds`, a key vault and
/// `sink`: an erasure whose kept record needs the subject key defers the
/// key shred.
fn vaulted(
    source: Arc<dyn PersonalDataSource>,
    others: Vec<Arc<dyn PersonalDataSource>>,
    holds: StaticHolds,
    sink: Arc<MemorySink>,
) -> Desk {
    let clock = Arc::new(ManualClock::new(Timestamp::UNIX_EPOCH));
    let vault = Arc::new(custodia_crypt::SubjectVault::new(
        Arc::new(custodia_crypt::Keyring::new(
            custodia_crypt::SecretKey::generate().unwrap(),
        )),
        custodia_crypt::MemoryKeyStore::default(),
        clock.clone(),
    ));
    let mut desk = Desk::new(clock, sink)
        .with_source(source)
        .unwrap()
        .with_retention(Arc::new(holds))
        .with_key_shredder(vault);
    for other in others {
        desk = desk.with_source(other).unwrap();
    }
    desk
}

/// Found in review: each scheduled pass over a deferred erasure
/// (`resume_deferred_erasures`) ran the sources' subject-level step again.
/// It recorded a `SubjectStep` event each pass and removed subject-level
/// state written after the erasure completed: Alice's later restriction
/// was silently lifted by a pass of her old erasure. Now the step runs
/// once per request: a pass of a completed erasure never calls it, and
/// the certificate still lists the row the erasure removed.
#[test]
fn a_deferred_erasure_pass_leaves_a_later_restriction_alone() {
    let ids = ids();
    let source = Arc::new(Registered::new(&ids));
    let sink = Arc::new(MemorySink::new());
    let hold = ErasureHold {
        exception: ErasureException::LegalClaims,
        reason: "case 17".into(),
        until: None,
    };
    let holds = || {
        StaticHolds::new().hold(
            ids.tenant,
            "tickets",
            RecordRef::new("ticket", "T-1"),
            hold.clone(),
        )
    };
    let held = vaulted(source.clone(), Vec::new(), holds(), sink.clone());
    restricted(
        &held,
        &ids,
        ids.alice,
        RequestKind::Restriction { lift: false },
    );
    let mut erasure = verified(&held, &ids, ids.alice, RequestKind::Erasure);
    let certificate = held.erase(&mut erasure, ids.dpo).unwrap();
    assert!(matches!(
        certificate.subject_key,
        SubjectKeyStatus::Deferred { .. }
    ));
    let alice_row = Registered::reference(ids.alice);
    assert!(
        certificate
            .erased
            .iter()
            .any(|e| e.subject_level && e.record == alice_row)
    );
    assert_eq!(source.row(ids.alice), None);

    // Later, Alice asks for her processing to be restricted.
    restricted(
        &held,
        &ids,
        ids.alice,
        RequestKind::Restriction { lift: false },
    );
    assert_eq!(source.row(ids.alice), Some((true, Vec::new())));
    let steps = subject_steps(&sink).len();
    let mut stored = vec![erasure];

    // A pass that runs in full (a new ticket of hers to erase), then one
    // after the hold is released (the key is shredded).
    source.tickets.insert(
        ids.tenant,
        ids.alice,
        RecordRef::new("ticket", "T-2"),
        LegalBasis::Contract,
        [("body", DataCategory::USER_CONTENT_TICKET, "again", true)],
    );
    let reports = held.resume_deferred_erasures(&mut stored, ids.dpo);
    let Ok(Resumed::StillDeferred {
        certificate,
        changed: true,
    }) = &reports[0].outcome
    else {
        panic!("{reports:?}");
    };
    assert!(certificate.erased.iter().any(|e| e.record.id == "T-2"));
    assert_eq!(source.row(ids.alice), Some((true, Vec::new())));
    let released = vaulted(source.clone(), Vec::new(), StaticHolds::new(), sink.clone());
    let reports = released.resume_deferred_erasures(&mut stored, ids.dpo);
    let Ok(Resumed::Shredded(certificate)) = &reports[0].outcome else {
        panic!("{reports:?}");
    };
    assert_eq!(
        source.row(ids.alice),
        Some((true, Vec::new())),
        "the later restriction stands"
    );
    assert_eq!(subject_steps(&sink).len(), steps, "no step on a pass");
    // The certificate still lists the row the erasure itself removed.
    assert_eq!(
        certificate
            .erased
            .iter()
            .filter(|e| e.subject_level)
            .map(|e| &e.record)
            .collect::<Vec<_>>(),
        [&alice_row]
    );
}

/// Fails `locate` while `down` is set.
struct Flaky {
    inner: MemorySource,
    down: std::sync::atomic::AtomicBool,
}

impl Flaky {
    fn new(name: &str, down: bool) -> Self {
        Self {
            inner: MemorySource::new(name),
            down: down.into(),
        }
    }
}

impl PersonalDataSource for Flaky {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn locate(&self, t: TenantId, s: SubjectId) -> Result<Vec<Located>, BoxError> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err("source down".into());
        }
        self.inner.locate(t, s)
    }
    pass_through!(inner: export, rectify, erase, restrict);
}

/// `request` as a build before the subject-level step stored it part-done:
/// its `tickets` source done (no `subject_step_ran`, no subject-level
/// entries), its `other` source failed.
fn stored_before_the_step(request: &Request) -> Request {
    let mut json: serde_json::Value = serde_json::from_str(&request.to_json().unwrap()).unwrap();
    json["progress"] = serde_json::from_str(
        r#"{"sources":{
            "tickets":{"status":"done","at":"1970-01-01T00:00:00Z","records":0},
            "other":{"status":"failed","at":"1970-01-01T00:00:00Z","operation":"locate",
                     "error":"source down","attempts":1}}}"#,
    )
    .unwrap();
    let request = Request::from_json(&json.to_string()).unwrap();
    assert!(request.progress.is_done("tickets"));
    assert!(!request.progress.sources["tickets"].subject_step_ran());
    request
}

/// Found in review: a restriction or erasure stored part-done by a build
/// before the subject-level step (its tickets source done, another failed)
/// and resumed by this one skipped the done source, so its step never ran:
/// Carol, with no ticket, was restricted (or her register row erased)
/// nowhere. Now a done source whose progress does not say the step ran is
/// run again, step included, exactly once: a second resume does not call
/// it again, and the report and certificate list what it returned.
#[test]
fn a_request_stored_part_done_before_the_step_runs_it_once_on_resume() {
    let ids = ids();
    for kind in [
        RequestKind::Restriction { lift: false },
        RequestKind::Erasure,
    ] {
        let source = Arc::new(Registered::new(&ids));
        let sink = Arc::new(MemorySink::new());
        let other = Arc::new(Flaky::new("other", false));
        let desk = Desk::new(
            Arc::new(ManualClock::new(Timestamp::UNIX_EPOCH)),
            sink.clone(),
        )
        .with_source(source.clone())
        .unwrap()
        .with_source(other.clone())
        .unwrap();
        if kind == RequestKind::Erasure {
            restricted(
                &desk,
                &ids,
                ids.carol,
                RequestKind::Restriction { lift: false },
            );
        }
        other.down.store(true, std::sync::atomic::Ordering::SeqCst);
        let before = subject_steps(&sink).len();
        // Started (and stopped by `other`) by a desk without the register.
        let old = Desk::new(
            Arc::new(ManualClock::new(Timestamp::UNIX_EPOCH)),
            sink.clone(),
        )
        .with_source(Arc::new(MemorySource::new("tickets")))
        .unwrap()
        .with_source(other.clone())
        .unwrap();
        let mut request = verified(&old, &ids, ids.carol, kind.clone());
        assert!(old.run(&mut request, ids.dpo).is_err());
        let mut request = stored_before_the_step(&request);

        // Resumed by this build, `other` still down: the step runs now.
        assert!(desk.run(&mut request, ids.dpo).is_err());
        let expected_row = (kind != RequestKind::Erasure).then_some((true, Vec::new()));
        assert_eq!(source.row(ids.carol), expected_row, "{kind:?}");
        let step = if kind == RequestKind::Erasure {
            "erase"
        } else {
            "restrict"
        };
        assert_eq!(
            subject_steps(&sink)[before..],
            [("tickets".into(), step.into(), 1)]
        );
        assert!(request.progress.sources["tickets"].subject_step_ran());
        let mut request = Request::from_json(&request.to_json().unwrap()).unwrap();

        // `other` is back: the request completes without a second step.
        other.down.store(false, std::sync::atomic::Ordering::SeqCst);
        let outcome = desk.run(&mut request, ids.dpo).unwrap();
        assert_eq!(subject_steps(&sink).len(), before + 1, "{kind:?}");
        assert_eq!(request.state, RequestState::Completed);
        match outcome {
            RequestOutcome::Restricted(report) => assert_eq!(
                report.subject_records,
                [("tickets".to_owned(), Registered::reference(ids.carol))]
            ),
            RequestOutcome::Erased(certificate) => {
                assert_eq!(certificate.erased, [carol_register_erased(&ids)]);
            }
            other => panic!("{other:?}"),
        }
    }
}

/// A source whose step ran but whose next operation failed keeps the
/// step's answer on its failed progress: the rerun does not call the step
/// again (once per request), and the report still lists its record.
#[test]
fn a_source_that_failed_after_its_step_does_not_run_it_again() {
    struct Stepped {
        registered: Registered,
        down: std::sync::atomic::AtomicBool,
    }
    impl PersonalDataSource for Stepped {
        fn name(&self) -> &str {
            "tickets"
        }
        fn locate(&self, t: TenantId, s: SubjectId) -> Result<Vec<Located>, BoxError> {
            if self.down.load(std::sync::atomic::Ordering::SeqCst) {
                return Err("source down".into());
            }
            self.registered.locate(t, s)
        }
        pass_through!(registered: export, rectify, erase, restrict);
        fn subject_step(
            &self,
            t: TenantId,
            s: SubjectId,
            step: &SubjectStep,
        ) -> Result<SubjectOutcome, BoxError> {
            self.registered.subject_step(t, s, step)
        }
    }
    let ids = ids();
    let source = Arc::new(Stepped {
        registered: Registered::new(&ids),
        down: true.into(),
    });
    let sink = Arc::new(MemorySink::new());
    let desk = desk(source.clone(), sink.clone());
    let mut request = verified(
        &desk,
        &ids,
        ids.carol,
        RequestKind::Restriction { lift: false },
    );
    assert!(desk.restrict(&mut request, ids.dpo).is_err());
    let SourceProgress::Failed {
        subject_records,
        subject_step_ran: true,
        ..
    } = &request.progress.sources["tickets"]
    else {
        panic!("{:?}", request.progress);
    };
    assert_eq!(subject_records, &[Registered::reference(ids.carol)]);
    let mut request = Request::from_json(&request.to_json().unwrap()).unwrap();
    source
        .down
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let report = desk.restrict(&mut request, ids.dpo).unwrap();
    assert_eq!(subject_steps(&sink).len(), 1);
    assert_eq!(
        report.subject_records,
        [("tickets".to_owned(), Registered::reference(ids.carol))]
    );
}

/// Serves `source` on a thread over two pipes; `old` drops the hello's
/// `subject_step` (a program built before it) and answers `subject_step`
/// lines as such a server would (`bad_request`).
fn served(source: Arc<dyn PersonalDataSource>, old: bool) -> RemoteSources {
    let (server_input, to_server) = std::io::pipe().unwrap();
    let (from_server, mut server_output) = std::io::pipe().unwrap();
    let (proxy_input, mut to_proxy) = std::io::pipe().unwrap();
    let (from_proxy, proxy_output) = std::io::pipe().unwrap();
    std::thread::spawn(move || {
        SourceServer::new(vec![source.as_ref()]).serve(proxy_input, proxy_output)
    });
    // Between client and server: rewrites the hello, refuses the new op.
    std::thread::spawn(move || {
        let mut from_proxy = BufReader::new(from_proxy);
        let mut hello = String::new();
        from_proxy.read_line(&mut hello).unwrap();
        if old {
            hello = hello.replace(r#","subject_step":true"#, "");
            assert!(!hello.contains("subject_step"));
        }
        server_output.write_all(hello.as_bytes()).unwrap();
        let mut requests = BufReader::new(server_input);
        loop {
            let mut line = String::new();
            if requests.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if old && line.contains(r#""op":"subject_step""#) {
                let id = decode_request(line.trim_end()).unwrap().id;
                writeln!(
                    server_output,
                    r#"{{"id":{id},"error":{{"kind":"bad_request","message":"unknown op"}}}}"#
                )
                .unwrap();
                continue;
            }
            to_proxy.write_all(line.as_bytes()).unwrap();
            let mut reply = String::new();
            from_proxy.read_line(&mut reply).unwrap();
            server_output.write_all(reply.as_bytes()).unwrap();
        }
    });
    RemoteSources::connect(from_server, to_server).unwrap()
}

/// Through the source protocol: a server of this build says it serves the
/// step and the desk reaches the register of a subject with no record; a
/// server built before it says nothing, is never sent the operation, and
/// its requests run as before.
#[test]
fn the_step_crosses_the_protocol_and_an_older_server_is_not_asked() {
    let ids = ids();
    for old in [false, true] {
        let source = Arc::new(Registered::new(&ids));
        let remote = served(source.clone(), old);
        assert_eq!(remote.hello().subject_step, !old);
        let [served] = remote.sources().try_into().ok().unwrap();
        let sink = Arc::new(MemorySink::new());
        let desk = desk(served, sink.clone());
        let (_, report) = restricted(
            &desk,
            &ids,
            ids.carol,
            RequestKind::Restriction { lift: false },
        );
        let mut access = verified(&desk, &ids, ids.carol, RequestKind::Access);
        let bundle = desk.export(&mut access, ids.dpo).unwrap();
        let mut erasure = verified(&desk, &ids, ids.alice, RequestKind::Erasure);
        let certificate = desk.erase(&mut erasure, ids.dpo).unwrap();
        assert_eq!(certificate.erased.len(), 1);
        if old {
            assert!(report.subject_records.is_empty());
            assert_eq!(source.row(ids.carol), None);
            assert!(bundle.records.is_empty());
            assert!(subject_steps(&sink).is_empty());
        } else {
            assert_eq!(report.subject_records.len(), 1);
            assert_eq!(source.row(ids.carol), Some((true, Vec::new())));
            assert_eq!(bundle.records[0].record_type, "contact_register");
            assert_eq!(subject_steps(&sink).len(), 3);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A `subject_step` request or reply with arbitrary text in its
    /// fields decodes to a value or a typed error, never a panic; what
    /// decodes re-encodes to itself.
    #[test]
    fn subject_step_lines_decode_or_fail_typed(
        step in "[a-z_]{0,14}",
        restriction in "[a-z_]{0,14}",
        outcome in "[a-z_]{0,12}",
        junk in any::<String>(),
    ) {
        let request = format!(
            r#"{{"id":1,"op":"subject_step","source":"tickets","tenant":"{t}","subject":"{t}","step":{{"step":"{step}","restriction":{{"restriction":"{restriction}","purposes":["{junk:?}"]}}}}}}"#,
            t = uuid_like(),
        );
        if let Ok(decoded) = decode_request(&request) {
            let is_step = matches!(decoded.operation, SourceOperation::SubjectStep { .. });
            prop_assert!(is_step);
            let again = serde_json::to_string(&decoded).unwrap();
            prop_assert_eq!(decode_request(&again).unwrap(), decoded);
        }
        let reply = format!(
            r#"{{"id":1,"ok":{{"outcome":"{outcome}","records":[{{"record":{{"record":{{"record_type":{junk:?},"id":"x"}},"fields":[]}},"legal_basis":"contract"}}]}}}}"#
        );
        if let Ok(custodia_dsr::remote::SourceReply {
            outcome: custodia_dsr::remote::ReplyOutcome::Ok(value),
            ..
        }) = decode_reply(&reply)
        {
            let _ = serde_json::from_value::<SubjectOutcome>(value);
        }
        let _ = serde_json::from_str::<SubjectStep>(&junk);
        let _ = serde_json::from_str::<SubjectOutcome>(&junk);
    }
}

fn uuid_like() -> String {
    TenantId::from_external_key("p", "t").to_string()
}
