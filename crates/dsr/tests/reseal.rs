//! The narrowed key-shred deferral: kept records delay the subject-key shred
//! only while they need the key; sources re-seal them when they can;
//! deferred erasures are resumed by a scheduled run.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{TimeDelta, TimeZone, Utc};
use custodia_core::{
    ActorId, Clock, DataCategory, LegalBasis, ManualClock, Role, SubjectId, TenantId,
};
use custodia_crypt::{
    FieldContext, Keyring, MemoryKeyStore, SecretKey, ShredOutcome, SubjectVault,
};
use custodia_dsr::Located;
use custodia_dsr::*;

#[macro_use]
mod support;

type Vault = SubjectVault<MemoryKeyStore>;

/// A hold list whose holds can be released one by one.
struct Holds {
    held: std::sync::Mutex<Vec<(String, RecordRef)>>,
}

impl Holds {
    fn new(records: &[(&str, &RecordRef)]) -> Arc<Self> {
        Arc::new(Self {
            held: std::sync::Mutex::new(
                records
                    .iter()
                    .map(|(s, r)| ((*s).to_owned(), (*r).clone()))
                    .collect(),
            ),
        })
    }

    fn release(&self, record: &RecordRef) {
        self.held.lock().unwrap().retain(|(_, r)| r != record);
    }
}

impl RetentionCheck for Holds {
    fn hold(
        &self,
        _: TenantId,
        _: SubjectId,
        source: &str,
        located: &Located,
    ) -> Result<Option<ErasureHold>, BoxError> {
        let held = self
            .held
            .lock()
            .unwrap()
            .iter()
            .any(|(s, r)| s == source && *r == located.record);
        Ok(held.then(|| ErasureHold {
            exception: ErasureException::LegalClaims,
            reason: "case 2026-17".into(),
            until: None,
        }))
    }
}

/// A source whose re-sealing fails while `broken` is set.
struct Brittle {
    inner: MemorySource,
    broken: AtomicBool,
}

impl PersonalDataSource for Brittle {
    fn name(&self) -> &str {
        self.inner.name()
    }
    pass_through!(inner: locate, export, rectify, erase, restrict);
    fn reseal_kept(
        &self,
        t: TenantId,
        s: SubjectId,
        r: &RecordRef,
    ) -> Result<ResealOutcome, BoxError> {
        if self.broken.load(Ordering::SeqCst) {
            return Err("hold key service unavailable".into());
        }
        self.inner.reseal_kept(t, s, r)
    }
}

struct World {
    clock: Arc<ManualClock>,
    sink: Arc<MemorySink>,
    vault: Arc<Vault>,
    tenant: TenantId,
    alice: SubjectId,
    dpo: ActorId,
    /// A value sealed under Alice's key (an audit IP, say).
    ctx: FieldContext<'static>,
    sealed: Vec<u8>,
}

fn world() -> World {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(),
    ));
    let vault = Arc::new(SubjectVault::new(
        Arc::new(Keyring::new(SecretKey::from_bytes([3; 32]))),
        MemoryKeyStore::default(),
        clock.clone(),
    ));
    let tenant = TenantId::from_external_key("billing.account", "ACME-0042");
    let alice = SubjectId::from_external_key(tenant, "psa.contact", "1017");
    let ctx = FieldContext::new(tenant, "audit_event", "e-1", "actor.ip").unwrap();
    let sealed = vault.seal(alice, &ctx, b"198.51.100.23").unwrap();
    World {
        clock,
        sink: Arc::new(MemorySink::new()),
        vault,
        tenant,
        alice,
        dpo: ActorId::from_external_key(tenant, "psa.user", "dpo"),
        ctx,
        sealed,
    }
}

impl World {
    fn insert(&self, source: &MemorySource, id: &str) -> RecordRef {
        let record = RecordRef::new("record", id);
        source.insert(
            self.tenant,
            self.alice,
            record.clone(),
            LegalBasis::Contract,
            [("body", DataCategory::USER_CONTENT_TICKET, "kept text", true)],
        );
        record
    }

    fn desk(&self, sources: Vec<Arc<dyn PersonalDataSource>>, holds: Arc<Holds>) -> Desk {
        let mut desk = Desk::new(self.clock.clone(), self.sink.clone())
            .with_retention(holds)
            .with_key_shredder(self.vault.clone());
        for source in sources {
            desk = desk.with_source(source).unwrap();
        }
        desk
    }

    fn erasure(&self, desk: &Desk) -> Request {
        let mut r = desk
            .receive(
                self.tenant,
                self.alice,
                RequestKind::Erasure,
                Role::Controller,
                self.dpo,
            )
            .unwrap();
        desk.verify(
            &mut r,
            VerificationMethod::AuthenticatedSession,
            "",
            self.dpo,
        )
        .unwrap();
        r
    }

    fn key_alive(&self) -> bool {
        self.vault.open(&self.ctx, &self.sealed).is_ok()
    }

    fn names(&self) -> Vec<String> {
        self.sink
            .actions()
            .iter()
            .map(|a| {
                serde_json::to_value(a).unwrap()["action"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }
}

#[test]
fn a_resealed_held_record_does_not_defer_the_shred() {
    let w = world();
    let invoices = Arc::new(MemorySource::new("invoices").resealing_under("tenant data key"));
    let held = w.insert(&invoices, "INV-7");
    let gone = w.insert(&invoices, "INV-8");
    let desk = w.desk(vec![invoices.clone()], Holds::new(&[("invoices", &held)]));
    let mut r = w.erasure(&desk);
    let cert = desk.erase(&mut r, w.dpo).unwrap();

    // Kept, with its reason, and still readable in the store...
    assert_eq!(cert.kept.len(), 1);
    assert_eq!(cert.kept[0].record, held);
    assert_eq!(cert.kept[0].reason, "case 2026-17");
    assert_eq!(
        invoices.get(w.tenant, &held).unwrap().fields[0].value,
        "kept text"
    );
    assert!(invoices.get(w.tenant, &gone).is_none());
    // ... re-sealed under the tenant key, so Alice's key went at once.
    assert_eq!(
        cert.kept[0].subject_key,
        KeptKey::Resealed {
            at: w.clock.now(),
            fields: 1,
            under: "tenant data key".into()
        }
    );
    assert_eq!(
        invoices.is_sealed_under_subject_key(w.tenant, &held),
        Some(false)
    );
    assert_eq!(cert.records_resealed, 1);
    assert_eq!(
        cert.subject_key,
        SubjectKeyStatus::Shredded {
            at: w.clock.now(),
            outcome: custodia_crypt::ShredOutcome::KeyDestroyed
        }
    );
    assert!(
        !w.key_alive(),
        "data sealed under her key is unreadable now"
    );
    // The re-sealing is audited with ids and counts, before the shred.
    let actions = w.sink.actions();
    let resealed = actions
        .iter()
        .position(|a| {
            *a == DsrAction::RecordsResealed {
                source: "invoices".into(),
                records: vec![held.clone()],
                fields: 1,
            }
        })
        .expect("a records_resealed event");
    let shredded = actions
        .iter()
        .position(|a| {
            *a == DsrAction::SubjectKeyShredded {
                outcome: ShredOutcome::KeyDestroyed,
            }
        })
        .unwrap();
    assert!(resealed < shredded);
    assert!(!w.names().contains(&"subject_key_shred_deferred".to_owned()));
    assert!(!format!("{actions:?}").contains("kept text"));
    // Certificate: JSON round trip (version 2) and a readable rendering.
    assert_eq!(cert.version, 2);
    let json = cert.to_json().unwrap();
    assert!(json.contains("\"records_resealed\": 1"), "{json}");
    assert_eq!(ErasureCertificate::from_json(&json).unwrap(), cert);
    let md = cert.to_markdown();
    assert!(md.contains("re-sealed under the tenant data key"), "{md}");
    assert!(md.contains("1 kept records were first re-sealed"), "{md}");
    // Final: nothing is deferred, a re-run returns the same certificate.
    assert!(!r.is_shred_deferred());
    assert_eq!(desk.erase(&mut r, w.dpo).unwrap(), cert);
}

#[test]
fn a_held_record_not_sealed_under_the_subject_key_does_not_defer() {
    let w = world();
    // Cannot re-seal, but stores this record under another key already.
    let archive = Arc::new(MemorySource::new("archive"));
    let held = w.insert(&archive, "A-1");
    archive.set_meta(
        w.tenant,
        &held,
        RecordMeta::default().sealed_under_subject_key(false),
    );
    let desk = w.desk(vec![archive.clone()], Holds::new(&[("archive", &held)]));
    let mut r = w.erasure(&desk);
    let cert = desk.erase(&mut r, w.dpo).unwrap();
    assert_eq!(cert.kept[0].subject_key, KeptKey::NotSealed);
    assert_eq!(cert.records_resealed, 0);
    assert!(matches!(
        cert.subject_key,
        SubjectKeyStatus::Shredded { .. }
    ));
    assert!(!w.key_alive());
    assert!(archive.get(w.tenant, &held).is_some());
    assert!(!w.names().contains(&"records_resealed".to_owned()));
}

#[test]
fn only_records_that_still_need_the_key_are_listed_as_blocking() {
    let w = world();
    let invoices = Arc::new(MemorySource::new("invoices").resealing_under("tenant data key"));
    let inv = w.insert(&invoices, "INV-7");
    let evidence = Arc::new(MemorySource::new("evidence"));
    let ev = w.insert(&evidence, "E-1");
    let holds = Holds::new(&[("invoices", &inv), ("evidence", &ev)]);
    let desk = w.desk(vec![invoices.clone(), evidence.clone()], holds);
    let mut r = w.erasure(&desk);
    let cert = desk.erase(&mut r, w.dpo).unwrap();
    assert_eq!(cert.kept.len(), 2);
    assert_eq!(cert.records_resealed, 1);
    match &cert.subject_key {
        SubjectKeyStatus::Deferred {
            blocking, until, ..
        } => {
            assert_eq!(
                blocking,
                &[BlockingRecord {
                    source: "evidence".into(),
                    record: ev.clone()
                }]
            );
            assert_eq!(*until, None);
        }
        other => panic!("{other:?}"),
    }
    assert!(w.key_alive());
    assert!(r.is_shred_deferred());
    let deferred = w
        .sink
        .actions()
        .into_iter()
        .find(|a| matches!(a, DsrAction::SubjectKeyShredDeferred { .. }))
        .unwrap();
    assert_eq!(
        deferred,
        DsrAction::SubjectKeyShredDeferred {
            records_kept: 1,
            blocking: vec![BlockingRecord {
                source: "evidence".into(),
                record: ev
            }],
            until: None
        }
    );
}

#[test]
fn resume_deferred_erasures_shreds_once_released_and_is_idempotent() {
    let w = world();
    let evidence = Arc::new(MemorySource::new("evidence"));
    let e1 = w.insert(&evidence, "E-1");
    let e2 = w.insert(&evidence, "E-2");
    let holds = Holds::new(&[("evidence", &e1), ("evidence", &e2)]);
    let desk = w.desk(vec![evidence.clone()], holds.clone());
    let mut erasure = w.erasure(&desk);
    let first = desk.erase(&mut erasure, w.dpo).unwrap();
    assert!(
        matches!(first.subject_key, SubjectKeyStatus::Deferred { ref blocking, .. } if blocking.len() == 2)
    );
    // Other requests in the host's store: an access request, and Bob's
    // erasure that shredded at once. Neither is resumed.
    let bob = SubjectId::from_external_key(w.tenant, "psa.contact", "2040");
    let mut bobs = desk
        .receive(w.tenant, bob, RequestKind::Erasure, Role::Controller, w.dpo)
        .unwrap();
    desk.verify(
        &mut bobs,
        VerificationMethod::AuthenticatedSession,
        "",
        w.dpo,
    )
    .unwrap();
    desk.erase(&mut bobs, w.dpo).unwrap();
    let access = desk
        .receive(
            w.tenant,
            w.alice,
            RequestKind::Access,
            Role::Controller,
            w.dpo,
        )
        .unwrap();
    let mut store = vec![bobs, erasure, access.clone()];
    assert_eq!(
        Desk::deferred_erasures(&store)
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>(),
        [store[1].id]
    );

    // Still held: stays deferred, one "still deferred" event per run, no more.
    for run in 1..=2 {
        w.clock.advance(TimeDelta::days(1));
        let before = w.sink.events().len();
        let reports = desk.resume_deferred_erasures(&mut store, w.dpo);
        assert_eq!(reports.len(), 1, "run {run}");
        assert_eq!(reports[0].request, store[1].id);
        assert_eq!(
            reports[0].outcome,
            Ok(Resumed::StillDeferred {
                certificate: Box::new(first.clone()),
                changed: false
            })
        );
        let events = w.sink.events();
        assert_eq!(events.len(), before + 1, "run {run}");
        assert_eq!(
            events[before].action,
            DsrAction::SubjectKeyShredStillDeferred {
                records_blocking: 2
            }
        );
        assert!(w.key_alive());
    }

    // One hold released: E-2 is erased, E-1 still blocks; a new certificate.
    holds.release(&e2);
    w.clock.advance(TimeDelta::days(1));
    let reports = desk.resume_deferred_erasures(&mut store, w.dpo);
    let Ok(Resumed::StillDeferred {
        certificate,
        changed: true,
    }) = &reports[0].outcome
    else {
        panic!("{:?}", reports[0].outcome)
    };
    assert!(certificate.erased.iter().any(|e| e.record == e2));
    assert!(
        matches!(&certificate.subject_key, SubjectKeyStatus::Deferred { blocking, .. } if blocking.len() == 1 && blocking[0].record == e1)
    );
    assert!(evidence.get(w.tenant, &e2).is_none());
    assert!(w.key_alive());

    // The last hold released: erased, key shredded.
    holds.release(&e1);
    w.clock.advance(TimeDelta::days(1));
    let reports = desk.resume_deferred_erasures(&mut store, w.dpo);
    let Ok(Resumed::Shredded(done)) = &reports[0].outcome else {
        panic!("{:?}", reports[0].outcome)
    };
    assert_eq!(
        done.subject_key,
        SubjectKeyStatus::Shredded {
            at: w.clock.now(),
            outcome: custodia_crypt::ShredOutcome::KeyDestroyed
        }
    );
    assert!(done.kept.is_empty());
    assert!(evidence.is_empty());
    assert!(!w.key_alive());
    assert_eq!(store[1].certificate.as_ref(), Some(done.as_ref()));

    // Idempotent: nothing deferred any more, nothing run, nothing logged.
    let before = w.sink.events().len();
    assert!(desk.resume_deferred_erasures(&mut store, w.dpo).is_empty());
    assert_eq!(w.sink.events().len(), before);
    let names = w.names();
    assert_eq!(
        names
            .iter()
            .filter(|n| *n == "subject_key_shredded")
            .count(),
        2
    ); // Bob's and Alice's
    assert_eq!(
        names
            .iter()
            .filter(|n| *n == "subject_key_shred_still_deferred")
            .count(),
        2
    );
    // The access request was left alone.
    assert_eq!(store[2], access);
}

#[test]
fn a_failed_reseal_is_audited_and_retried_by_the_next_run() {
    let w = world();
    let store = Arc::new(Brittle {
        inner: MemorySource::new("evidence").resealing_under("legal hold key case-2026-17"),
        broken: AtomicBool::new(true),
    });
    let held = w.insert(&store.inner, "E-1");
    let desk = w.desk(vec![store.clone()], Holds::new(&[("evidence", &held)]));
    let mut r = w.erasure(&desk);
    let cert = desk.erase(&mut r, w.dpo).unwrap();
    assert!(matches!(
        cert.subject_key,
        SubjectKeyStatus::Deferred { .. }
    ));
    assert_eq!(
        cert.kept[0].subject_key,
        KeptKey::Needed {
            why: Some("re-sealing failed: hold key service unavailable".into())
        }
    );
    assert!(w.sink.actions().contains(&DsrAction::ResealFailed {
        source: "evidence".into(),
        record_type: "record".into(),
        record_id: "E-1".into(),
        error: "hold key service unavailable".into()
    }));
    assert!(w.key_alive());

    // The key service is back: the scheduled run re-seals and shreds, while
    // the record stays held.
    store.broken.store(false, Ordering::SeqCst);
    w.clock.advance(TimeDelta::days(1));
    let mut requests = [r];
    let reports = desk.resume_deferred_erasures(&mut requests, w.dpo);
    let Ok(Resumed::Shredded(done)) = &reports[0].outcome else {
        panic!("{:?}", reports[0].outcome)
    };
    assert_eq!(done.records_resealed, 1);
    assert!(matches!(
        &done.kept[0].subject_key,
        KeptKey::Resealed { under, .. } if under == "legal hold key case-2026-17"
    ));
    assert!(!w.key_alive());
    assert!(store.inner.get(w.tenant, &held).is_some());
}

#[test]
fn a_source_that_learns_to_reseal_is_picked_up_by_the_next_run() {
    // Same source name, first without re-sealing, then (after an upgrade)
    // with it: the unchanged-check asks again and the run shreds.
    let w = world();
    let old = Arc::new(MemorySource::new("evidence"));
    let held = w.insert(&old, "E-1");
    let holds = Holds::new(&[("evidence", &held)]);
    let desk = w.desk(vec![old.clone()], holds.clone());
    let mut r = w.erasure(&desk);
    desk.erase(&mut r, w.dpo).unwrap();
    assert!(r.is_shred_deferred());

    let upgraded = Arc::new(MemorySource::new("evidence").resealing_under("tenant data key"));
    upgraded.insert(
        w.tenant,
        w.alice,
        held.clone(),
        LegalBasis::Contract,
        [("body", DataCategory::USER_CONTENT_TICKET, "kept text", true)],
    );
    let desk = w.desk(vec![upgraded.clone()], holds);
    let reports = desk.resume_deferred_erasures([&mut r], w.dpo);
    assert!(
        matches!(reports[0].outcome, Ok(Resumed::Shredded(_))),
        "{:?}",
        reports[0].outcome
    );
    assert!(!w.key_alive());
    assert!(w.names().contains(&"records_resealed".to_owned()));
}

#[test]
fn version_1_certificates_are_still_read() {
    let w = world();
    let evidence = Arc::new(MemorySource::new("evidence"));
    let e1 = w.insert(&evidence, "E-1");
    let desk = w.desk(vec![evidence.clone()], Holds::new(&[("evidence", &e1)]));
    let mut r = w.erasure(&desk);
    let cert = desk.erase(&mut r, w.dpo).unwrap();
    // Rewrite it as version 1 wrote it.
    let mut v1: serde_json::Value = serde_json::from_str(&cert.to_json().unwrap()).unwrap();
    v1["version"] = 1.into();
    v1.as_object_mut().unwrap().remove("records_resealed");
    v1["kept"][0].as_object_mut().unwrap().remove("subject_key");
    let key = v1["subject_key"].as_object_mut().unwrap();
    key.remove("blocking");
    key.insert("records_kept".into(), 1.into());
    let read = ErasureCertificate::from_json(&v1.to_string()).unwrap();
    assert_eq!(read.version, 1);
    assert_eq!(read.records_resealed, 0);
    assert_eq!(read.kept[0].subject_key, KeptKey::default());
    // Version 1 meant every kept record blocked the shred.
    assert!(
        matches!(&read.subject_key, SubjectKeyStatus::Deferred { blocking, .. }
        if blocking == &[BlockingRecord { source: "evidence".into(), record: e1.clone() }])
    );
    // Unknown versions are refused, naming the one this build writes.
    v1["version"] = 3.into();
    assert_eq!(
        ErasureCertificate::from_json(&v1.to_string()),
        Err(Error::UnsupportedVersion {
            what: "erasure certificate",
            found: 3,
            supported: 2
        })
    );
}

/// Found in review: the categories of what an erasure erased (for the
/// recipients to tell, Art. 19) were recomputed from each run's own
/// erasures. A source that failed part-way kept the records it had erased
/// but not their categories, and a deferred erasure's pass that erased a
/// released record replaced the source's categories with that record's:
/// the certificate stopped naming recipients of data it had erased. Now
/// the categories are kept on the progress, failed or done, and added to.
#[test]
fn recipients_of_data_erased_before_a_failure_or_a_pass_stay_on_the_certificate() {
    use custodia_core::{Purpose, Region};
    use custodia_dsr::records::{
        Organisation, ProcessingActivity, ProcessingRecipient, ProcessingRegistry, RecipientKind,
    };
    /// Fails its second erasure while `armed`.
    struct SecondEraseFails {
        inner: MemorySource,
        armed: AtomicBool,
        erases: std::sync::atomic::AtomicUsize,
    }
    impl PersonalDataSource for SecondEraseFails {
        fn name(&self) -> &str {
            self.inner.name()
        }
        pass_through!(inner: locate, export, rectify, restrict);
        fn erase(&self, t: TenantId, s: SubjectId, plan: &ErasurePlan) -> Result<(), BoxError> {
            if self.armed.load(Ordering::SeqCst) && self.erases.load(Ordering::SeqCst) == 1 {
                return Err("disk full".into());
            }
            self.erases.fetch_add(1, Ordering::SeqCst);
            self.inner.erase(t, s, plan)
        }
    }
    let activity = |category: DataCategory, recipient: &str| ProcessingActivity {
        name: recipient.into(),
        role: Role::Controller,
        controllers: vec![],
        purposes: vec![Purpose::SUPPORT],
        legal_basis: Some(LegalBasis::Contract),
        subject_categories: vec!["customers".into()],
        data_categories: vec![category],
        recipients: vec![ProcessingRecipient {
            name: recipient.into(),
            kind: RecipientKind::Recipient,
            region: Region::UK,
        }],
        transfers: vec![],
        retention: "1 year".into(),
        security_measures: vec!["encryption".into()],
    };
    let registry = ProcessingRegistry::new(Organisation {
        name: "Deskly".into(),
        contact: "privacy@deskly.example".into(),
        representative: None,
        dpo: None,
    })
    .activity(activity(DataCategory::USER_CONTACT_EMAIL, "Mailer"))
    .activity(activity(DataCategory::USER_CONTENT_TICKET, "Ticket tool"))
    .activity(activity(DataCategory::USER_CONTENT_ATTACHMENT, "Archive"));

    let w = world();
    let source = Arc::new(SecondEraseFails {
        inner: MemorySource::new("evidence"),
        armed: AtomicBool::new(true),
        erases: 0.into(),
    });
    let records: Vec<RecordRef> = [
        ("R-1", DataCategory::USER_CONTACT_EMAIL),
        ("R-2", DataCategory::USER_CONTENT_TICKET),
        ("R-3", DataCategory::USER_CONTENT_ATTACHMENT),
    ]
    .into_iter()
    .map(|(id, category)| {
        let record = RecordRef::new("record", id);
        source.inner.insert(
            w.tenant,
            w.alice,
            record.clone(),
            LegalBasis::Contract,
            [("body", category, "text", true)],
        );
        record
    })
    .collect();
    let holds = Holds::new(&[("evidence", &records[2])]);
    let desk = w
        .desk(vec![source.clone()], holds.clone())
        .with_records(Arc::new(registry));
    let mut erasure = w.erasure(&desk);

    // R-1 erased, then the source fails on R-2.
    assert!(desk.erase(&mut erasure, w.dpo).is_err());
    let mut erasure = Request::from_json(&erasure.to_json().unwrap()).unwrap();
    source.armed.store(false, Ordering::SeqCst);
    let certificate = desk.erase(&mut erasure, w.dpo).unwrap();
    assert!(matches!(
        certificate.subject_key,
        SubjectKeyStatus::Deferred { .. }
    ));
    assert_eq!(
        certificate.recipients_to_inform,
        ["Mailer (UK)", "Ticket tool (UK)"]
    );

    // R-3's hold released: a pass erases it and shreds the key.
    holds.release(&records[2]);
    let mut store = vec![erasure];
    let reports = desk.resume_deferred_erasures(&mut store, w.dpo);
    let Ok(Resumed::Shredded(certificate)) = &reports[0].outcome else {
        panic!("{reports:?}");
    };
    assert_eq!(certificate.erased.len(), 3);
    assert_eq!(
        certificate.recipients_to_inform,
        ["Archive (UK)", "Mailer (UK)", "Ticket tool (UK)"]
    );
}
