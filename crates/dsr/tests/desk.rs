//! The desk end to end over in-memory sources: access, rectification,
//! restriction, erasure with holds and shredding, resumption after failure,
//! and the audit trail of every step.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use chrono::{TimeDelta, TimeZone, Utc};
use custodia_core::{
    ActorId, Clock, DataCategory, LegalBasis, ManualClock, Purpose, Role, SubjectId, TenantId,
    Timestamp,
};
use custodia_crypt::{
    Error as CryptError, FieldContext, Keyring, MemoryKeyStore, SecretKey, SubjectVault,
};
use custodia_dsr::SubjectKeyStatus;
use custodia_dsr::*;
use custodia_dsr::{ErasurePlan, Located};

#[macro_use]
mod support;

/// Wraps a [`MemorySource`], counting calls and failing on demand.
struct Flaky {
    inner: MemorySource,
    /// Fail `erase` once this many erasures have succeeded (while armed).
    fail_erase_after: AtomicUsize,
    armed: AtomicBool,
    fail_locate: AtomicBool,
    locates: AtomicUsize,
    erases: AtomicUsize,
}

impl Flaky {
    fn new(name: &str) -> Self {
        Self {
            inner: MemorySource::new(name),
            fail_erase_after: AtomicUsize::new(usize::MAX),
            armed: AtomicBool::new(false),
            fail_locate: AtomicBool::new(false),
            locates: AtomicUsize::new(0),
            erases: AtomicUsize::new(0),
        }
    }
}

impl PersonalDataSource for Flaky {
    fn name(&self) -> &str {
        self.inner.name()
    }
    pass_through!(inner: export, rectify);
    fn locate(&self, t: TenantId, s: SubjectId) -> Result<Vec<Located>, BoxError> {
        self.locates.fetch_add(1, Ordering::SeqCst);
        if self.fail_locate.load(Ordering::SeqCst) {
            return Err("connection refused".into());
        }
        self.inner.locate(t, s)
    }
    fn erase(&self, t: TenantId, s: SubjectId, plan: &ErasurePlan) -> Result<(), BoxError> {
        if self.armed.load(Ordering::SeqCst)
            && self.erases.load(Ordering::SeqCst) >= self.fail_erase_after.load(Ordering::SeqCst)
        {
            return Err("disk full".into());
        }
        self.erases.fetch_add(1, Ordering::SeqCst);
        self.inner.erase(t, s, plan)
    }
    fn restrict(
        &self,
        t: TenantId,
        s: SubjectId,
        r: &RecordRef,
        x: &Restriction,
    ) -> Result<(), BoxError> {
        self.inner.restrict(t, s, r, x)
    }
}

struct Fixture {
    clock: Arc<ManualClock>,
    sink: Arc<MemorySink>,
    tenant: TenantId,
    alice: SubjectId,
    bob: SubjectId,
    agent: ActorId,
    contacts: Arc<Flaky>,
    tickets: Arc<Flaky>,
    attachments: Arc<Flaky>,
}

fn start() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 1, 31, 15, 0, 0).unwrap()
}

fn fixture() -> Fixture {
    let tenant = TenantId::from_external_key("billing.account", "ACME-0042");
    let alice = SubjectId::from_external_key(tenant, "psa.contact", "1017");
    let bob = SubjectId::from_external_key(tenant, "psa.contact", "1018");
    let contacts = Arc::new(Flaky::new("contacts"));
    contacts.inner.insert(
        tenant,
        alice,
        RecordRef::new("contact", "1017"),
        LegalBasis::Contract,
        [
            ("name", DataCategory::USER_NAME, "Alice Example", true),
            (
                "email",
                DataCategory::USER_CONTACT_EMAIL,
                "alice@old.example",
                true,
            ),
            (
                "phone",
                DataCategory::USER_CONTACT_PHONE,
                "+61 2 5550 1234",
                true,
            ),
        ],
    );
    contacts.inner.insert(
        tenant,
        bob,
        RecordRef::new("contact", "1018"),
        LegalBasis::Contract,
        [(
            "email",
            DataCategory::USER_CONTACT_EMAIL,
            "bob@example.com",
            true,
        )],
    );
    let tickets = Arc::new(Flaky::new("tickets"));
    for id in ["T-1", "T-2"] {
        tickets.inner.insert(
            tenant,
            alice,
            RecordRef::new("ticket", id),
            LegalBasis::Contract,
            [
                (
                    "requester_email",
                    DataCategory::USER_CONTACT_EMAIL,
                    "alice@old.example",
                    true,
                ),
                (
                    "description",
                    DataCategory::USER_CONTENT_TICKET,
                    "VPN drops, \"again\"",
                    true,
                ),
                (
                    "agent_note",
                    DataCategory::USER_CONTENT_TICKET,
                    "called back",
                    false,
                ),
            ],
        );
    }
    let attachments = Arc::new(Flaky::new("attachments"));
    attachments.inner.insert(
        tenant,
        alice,
        RecordRef::new("attachment", "A-9"),
        LegalBasis::LegitimateInterests,
        [(
            "file",
            DataCategory::USER_CONTENT_ATTACHMENT,
            "c2NyZWVuc2hvdA==",
            true,
        )],
    );
    Fixture {
        clock: Arc::new(ManualClock::new(start())),
        sink: Arc::new(MemorySink::new()),
        tenant,
        alice,
        bob,
        agent: ActorId::from_external_key(tenant, "psa.user", "17"),
        contacts,
        tickets,
        attachments,
    }
}

impl Fixture {
    fn desk(&self) -> Desk {
        Desk::new(self.clock.clone(), self.sink.clone())
            .with_source(self.contacts.clone())
            .unwrap()
            .with_source(self.tickets.clone())
            .unwrap()
            .with_source(self.attachments.clone())
            .unwrap()
    }

    fn verified(&self, desk: &Desk, kind: RequestKind) -> Request {
        let mut r = desk
            .receive(self.tenant, self.alice, kind, Role::Controller, self.agent)
            .unwrap();
        self.clock.advance(TimeDelta::hours(1));
        desk.verify(
            &mut r,
            VerificationMethod::AuthenticatedSession,
            "portal login",
            self.agent,
        )
        .unwrap();
        r
    }
}

fn names(actions: &[DsrAction]) -> Vec<String> {
    actions
        .iter()
        .map(|a| {
            let v = serde_json::to_value(a).unwrap();
            v["action"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn access_exports_every_source_with_a_manifest_and_audits_each_step() {
    let f = fixture();
    let desk = f.desk();
    let mut r = f.verified(&desk, RequestKind::Access);
    assert_eq!(
        r.due.date_naive(),
        chrono::NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()
    );
    let bundle = desk.export(&mut r, f.agent).unwrap();
    assert_eq!(r.state, RequestState::Completed);
    assert_eq!(bundle.records.len(), 4);
    assert!(
        bundle.records.iter().all(|rec| rec.id != "1018"),
        "Bob's data leaked"
    );
    let manifest: BTreeMap<_, _> = bundle
        .manifest
        .iter()
        .map(|m| ((m.source.as_str(), m.record_type.as_str()), m.records))
        .collect();
    assert_eq!(manifest[&("tickets", "ticket")], 2);
    assert_eq!(manifest[&("contacts", "contact")], 1);
    assert_eq!(manifest[&("attachments", "attachment")], 1);
    let tickets_csv = bundle
        .csv_files()
        .into_iter()
        .find(|c| c.name == "tickets-ticket.csv")
        .unwrap();
    assert_eq!(
        tickets_csv.content,
        "id,created_at,requester_email,description,agent_note\r\n\
         T-1,,alice@old.example,\"VPN drops, \"\"again\"\"\",called back\r\n\
         T-2,,alice@old.example,\"VPN drops, \"\"again\"\"\",called back\r\n"
    );
    let back = ExportBundle::from_json(&bundle.to_json().unwrap()).unwrap();
    assert_eq!(back, bundle);
    assert_eq!(
        names(&f.sink.actions()),
        [
            "request_received",
            "identity_verified",
            "work_started",
            "source_located",
            "source_exported",
            "source_located",
            "source_exported",
            "source_located",
            "source_exported",
            "bundle_produced",
            "request_completed"
        ]
    );
    for e in f.sink.events() {
        assert_eq!(e.request, Some(r.id));
        assert_eq!(e.subject, Some(f.alice));
        assert!(
            !serde_json::to_string(&e)
                .unwrap()
                .contains("alice@old.example")
        );
    }
}

#[test]
fn an_export_whose_delivery_fails_stays_open_and_a_rerun_completes_it() {
    let f = fixture();
    let desk = f.desk();
    let mut r = f.verified(&desk, RequestKind::Access);
    let before = f.sink.actions().len();
    let err = desk
        .export_with(&mut r, f.agent, |bundle| {
            // Audited as produced before it leaves the desk.
            assert_eq!(names(&f.sink.actions()).last().unwrap(), "bundle_produced");
            assert_eq!(bundle.records.len(), 4);
            Err::<(), _>("bundle.json: File too large")
        })
        .unwrap_err();
    assert!(
        matches!(&err, Error::Delivery { request, .. } if *request == r.id),
        "{err:?}"
    );
    assert!(err.to_string().contains("not delivered"), "{err}");
    let source = std::error::Error::source(&err).map(ToString::to_string);
    assert_eq!(source.as_deref(), Some("bundle.json: File too large"));
    // Open, not completed: the deadline still counts.
    assert_eq!(r.state, RequestState::InProgress);
    assert_eq!(r.completed_at, None);
    let actions = f.sink.actions();
    let tail = names(&actions[before..]);
    assert_eq!(tail.last().unwrap(), "bundle_not_delivered");
    assert!(!tail.contains(&"request_completed".to_owned()), "{tail:?}");
    assert_eq!(
        actions.last(),
        Some(&DsrAction::BundleNotDelivered {
            error: "bundle.json: File too large".into()
        })
    );
    f.clock.advance(TimeDelta::days(40));
    assert_eq!(desk.late_requests([&r]).len(), 1);

    // Run again: a new bundle, delivered, and only then completed.
    let before = f.sink.actions().len();
    let (bundle, delivered) = desk
        .export_with(&mut r, f.agent, |bundle| {
            assert_eq!(names(&f.sink.actions()).last().unwrap(), "bundle_produced");
            Ok::<_, Error>(bundle.records.len())
        })
        .unwrap();
    assert_eq!(delivered, 4);
    assert_eq!(bundle.records.len(), 4);
    assert_eq!(r.state, RequestState::Completed);
    assert!(r.completed_late);
    let tail = names(&f.sink.actions()[before..]);
    assert_eq!(
        tail[tail.len() - 2..],
        ["bundle_produced", "request_completed"]
    );
    assert!(desk.late_requests([&r]).is_empty());
}

/// Refuses one kind of event, by its name, and takes the rest.
struct RefusingOne(&'static str, MemorySink);
impl DsrEventSink for RefusingOne {
    fn record(&self, event: &DsrEvent) -> Result<(), BoxError> {
        if names(std::slice::from_ref(&event.action))[0] == self.0 {
            return Err("log unavailable".into());
        }
        self.1.record(event)
    }
}

#[test]
fn an_export_the_sink_does_not_record_as_produced_is_never_delivered() {
    let f = fixture();
    let sink = Arc::new(RefusingOne("bundle_produced", MemorySink::new()));
    let desk = Desk::new(f.clock.clone(), sink.clone())
        .with_source(f.contacts.clone())
        .unwrap();
    let mut r = f.verified(&desk, RequestKind::Access);
    let mut delivered = false;
    let err = desk
        .export_with(&mut r, f.agent, |_| {
            delivered = true;
            Ok::<_, Error>(())
        })
        .unwrap_err();
    assert!(matches!(err, Error::Audit(_)), "{err:?}");
    assert!(!delivered);
    assert_eq!(r.state, RequestState::InProgress);

    // Delivered but its completion refused: still open, the error says so.
    let sink = Arc::new(RefusingOne("request_completed", MemorySink::new()));
    let desk = Desk::new(f.clock.clone(), sink.clone())
        .with_source(f.contacts.clone())
        .unwrap();
    let mut r = f.verified(&desk, RequestKind::Access);
    let err = desk
        .export_with(&mut r, f.agent, |_| Ok::<_, Error>(()))
        .unwrap_err();
    assert!(matches!(err, Error::Audit(_)), "{err:?}");
    assert_eq!(r.state, RequestState::InProgress);
    // A failed delivery whose failure the sink refuses too is still a
    // delivery error.
    let sink = Arc::new(RefusingOne("bundle_not_delivered", MemorySink::new()));
    let desk = Desk::new(f.clock.clone(), sink.clone())
        .with_source(f.contacts.clone())
        .unwrap();
    let mut r = f.verified(&desk, RequestKind::Access);
    let err = desk
        .export_with(&mut r, f.agent, |_| Err::<(), _>("no route to host"))
        .unwrap_err();
    assert!(matches!(err, Error::Delivery { .. }), "{err:?}");
    assert_eq!(r.state, RequestState::InProgress);
}

struct History(Vec<RenderedAuditEvent>);
impl SubjectAuditHistory for History {
    fn events_for(&self, _: TenantId, _: SubjectId) -> Result<Vec<RenderedAuditEvent>, BoxError> {
        Ok(self.0.clone())
    }
}

#[test]
fn audit_history_seam_fills_the_bundle_and_its_csv() {
    let f = fixture();
    let event = RenderedAuditEvent {
        at: start(),
        actor: "agent 17".into(),
        action: "ticket.viewed".into(),
        target: "ticket T-1".into(),
        details: BTreeMap::from([("ip".to_owned(), "203.0.113.7".to_owned())]),
    };
    let desk = f
        .desk()
        .with_audit_history(Arc::new(History(vec![event.clone()])));
    let mut r = f.verified(&desk, RequestKind::Access);
    let bundle = desk.export(&mut r, f.agent).unwrap();
    assert_eq!(bundle.audit.status, AuditStatus::Included);
    assert_eq!(bundle.audit.events, [event]);
    let csv = bundle
        .csv_files()
        .into_iter()
        .find(|c| c.name == "audit-events.csv")
        .unwrap();
    assert!(csv.content.contains("ticket.viewed"), "{}", csv.content);
    assert!(
        csv.content.contains("\"{\"\"ip\"\":\"\"203.0.113.7\"\"}\""),
        "{}",
        csv.content
    );
}

#[test]
fn portability_takes_only_provided_data_on_consent_or_contract() {
    let f = fixture();
    let desk = f.desk();
    let mut r = f.verified(&desk, RequestKind::Portability);
    let bundle = desk.export(&mut r, f.agent).unwrap();
    // The attachment rests on legitimate interests: out. Agent notes: out.
    assert!(bundle.records.iter().all(|rec| rec.source != "attachments"));
    assert!(
        bundle
            .records
            .iter()
            .flat_map(|r| &r.fields)
            .all(|f| f.provided_by_subject)
    );
    assert_eq!(bundle.records.len(), 3);
}

#[test]
fn rectification_corrects_every_matching_field_and_reports_what_matched_nothing() {
    let f = fixture();
    let desk = f.desk();
    let kind = RequestKind::Rectification {
        corrections: vec![
            Correction {
                category: DataCategory::USER_CONTACT_EMAIL,
                value: "alice@new.example".into(),
            },
            Correction {
                category: DataCategory::USER_CONTACT_ADDRESS,
                value: "1 Main St".into(),
            },
        ],
    };
    let mut r = f.verified(&desk, kind);
    let report = desk.rectify(&mut r, f.agent).unwrap();
    assert_eq!(report.records_updated, 3);
    assert_eq!(report.unmatched, [DataCategory::USER_CONTACT_ADDRESS]);
    let contact = f
        .contacts
        .inner
        .get(f.tenant, &RecordRef::new("contact", "1017"))
        .unwrap();
    assert!(
        contact
            .fields
            .iter()
            .any(|x| x.value == "alice@new.example")
    );
    let ticket = f
        .tickets
        .inner
        .get(f.tenant, &RecordRef::new("ticket", "T-2"))
        .unwrap();
    assert_eq!(ticket.fields[0].value, "alice@new.example");
    // Bob is untouched.
    let bob = f
        .contacts
        .inner
        .get(f.tenant, &RecordRef::new("contact", "1018"))
        .unwrap();
    assert_eq!(bob.fields[0].value, "bob@example.com");
    assert_eq!(r.state, RequestState::Completed);
}

/// The desk's spans carry counts and a request's kind by name, never a
/// personal value: a rectification's corrected values stay out of the log,
/// also when the request is refused by a step of another kind (found in
/// review: `export` named its span's kind with `Debug`, values and all).
#[cfg(feature = "tracing")]
#[test]
fn spans_name_the_kind_and_never_a_corrected_value() {
    use std::io::{Read as _, Seek as _};
    let f = fixture();
    let desk = f.desk();
    let secret = "carol.secret@new.example";
    let kind = RequestKind::Rectification {
        corrections: vec![Correction {
            category: DataCategory::USER_CONTACT_EMAIL,
            value: secret.into(),
        }],
    };
    let mut r = f.verified(&desk, kind);
    // tracing caches a callsite's interest process-wide, and while only one
    // dispatcher exists (this test's, thread-scoped) a callsite's first
    // registration asks only the registering thread's subscriber
    // (tracing-core 0.1.36, `callsite::register`): another test's thread
    // reaching the export span first would cache it as "never" for this
    // thread too, and the span below would be lost now and then. So the
    // span's callsite is registered here first, on this thread; creating
    // the subscriber then recomputes its interest with every dispatcher,
    // and the rebuild inside the scope covers a registration in flight.
    assert!(matches!(
        desk.export(&mut r, f.agent),
        Err(Error::WrongKind { .. })
    ));
    let mut written = tempfile::tempfile().unwrap();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(written.try_clone().unwrap())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        tracing::callsite::rebuild_interest_cache();
        assert!(matches!(
            desk.export(&mut r, f.agent),
            Err(Error::WrongKind { .. })
        ));
        desk.rectify(&mut r, f.agent).unwrap();
    });
    let mut log = String::new();
    written.rewind().unwrap();
    written.read_to_string(&mut log).unwrap();
    assert!(log.contains("custodia.dsr.export"), "{log}");
    assert!(
        log.contains("kind=\"rectification\"") || log.contains("kind=rectification"),
        "{log}"
    );
    assert!(
        !log.contains(secret),
        "a corrected value reached the log: {log}"
    );
}

#[test]
fn restriction_and_objection_reach_every_record() {
    let f = fixture();
    let desk = f.desk();
    let mut r = f.verified(&desk, RequestKind::Restriction { lift: false });
    assert_eq!(desk.restrict(&mut r, f.agent).unwrap().records, 4);
    assert!(
        f.tickets
            .inner
            .is_restricted(f.tenant, &RecordRef::new("ticket", "T-1"))
    );
    assert!(
        !f.contacts
            .inner
            .is_restricted(f.tenant, &RecordRef::new("contact", "1018"))
    );

    let mut lift = f.verified(&desk, RequestKind::Restriction { lift: true });
    desk.restrict(&mut lift, f.agent).unwrap();
    assert!(
        !f.tickets
            .inner
            .is_restricted(f.tenant, &RecordRef::new("ticket", "T-1"))
    );

    let mut objection = f.verified(
        &desk,
        RequestKind::Objection {
            purposes: vec![Purpose::MARKETING],
        },
    );
    let RequestOutcome::Restricted(report) = desk.run(&mut objection, f.agent).unwrap() else {
        panic!("objection should restrict");
    };
    assert_eq!(report.records, 4);
    assert!(
        f.contacts
            .inner
            .stopped_purposes(f.tenant, &RecordRef::new("contact", "1017"))
            .contains(&Purpose::MARKETING)
    );
}

/// Found in review: an objection naming no purpose was received, run and
/// completed, each source audited as restricting its records and the
/// report counting them, though no processing was stopped anywhere: the
/// privacy officer saw an objection honoured that did nothing. Now it is
/// refused on receipt (nothing audited) and, held in a request read from
/// storage, when run (the request stays open).
#[test]
fn an_objection_naming_no_purpose_is_refused() {
    let f = fixture();
    let desk = f.desk();
    let before = f.sink.events().len();
    let empty = RequestKind::Objection { purposes: vec![] };
    assert!(matches!(
        desk.receive(f.tenant, f.alice, empty.clone(), Role::Controller, f.agent),
        Err(Error::Empty { .. })
    ));
    assert_eq!(f.sink.events().len(), before);

    let mut stored = f.verified(
        &desk,
        RequestKind::Objection {
            purposes: vec![Purpose::MARKETING],
        },
    );
    stored.kind = empty;
    let before = f.sink.events().len();
    assert!(matches!(
        desk.run(&mut stored, f.agent),
        Err(Error::Empty { .. })
    ));
    assert_eq!(stored.state, RequestState::Verified);
    assert_eq!(f.sink.events().len(), before);
}

fn erasure_desk(f: &Fixture, vault: Arc<SubjectVault<MemoryKeyStore>>) -> Desk {
    let until = Utc.with_ymd_and_hms(2033, 6, 30, 0, 0, 0).unwrap();
    let holds = StaticHolds::new().hold(
        f.tenant,
        "tickets",
        RecordRef::new("ticket", "T-2"),
        ErasureHold {
            exception: ErasureException::LegalClaims,
            reason: "dispute 2026-114".into(),
            until: Some(until),
        },
    );
    f.desk()
        .with_retention(Arc::new(holds))
        .with_key_shredder(vault)
        .with_backup_horizon(Arc::new(FixedBackupWindow(TimeDelta::days(30))))
        .with_erasure_policy(
            ErasurePolicy::delete_all()
                .rule(DataCategory::USER_CONTENT_TICKET, FieldAction::Anonymize),
        )
}

fn vault(clock: Arc<ManualClock>) -> Arc<SubjectVault<MemoryKeyStore>> {
    Arc::new(SubjectVault::new(
        Arc::new(Keyring::new(SecretKey::from_bytes([7; 32]))),
        MemoryKeyStore::default(),
        clock,
    ))
}

#[test]
fn erasure_erases_anonymizes_keeps_held_records_shreds_and_certifies() {
    let f = fixture();
    let vault = vault(f.clock.clone());
    let ctx = FieldContext::new(f.tenant, "audit_event", "e-1", "actor_ip").unwrap();
    let sealed = vault.seal(f.alice, &ctx, b"203.0.113.7").unwrap();
    let bob_sealed = vault.seal(f.bob, &ctx, b"198.51.100.1").unwrap();
    let desk = erasure_desk(&f, vault.clone());
    let mut r = f.verified(&desk, RequestKind::Erasure);
    f.clock.advance(TimeDelta::hours(2));
    let cert = desk.erase(&mut r, f.agent).unwrap();

    assert_eq!(r.state, RequestState::Completed);
    // Contact deleted whole; ticket T-1 anonymized; T-2 held; attachment deleted.
    assert!(
        f.contacts
            .inner
            .get(f.tenant, &RecordRef::new("contact", "1017"))
            .is_none()
    );
    let t1 = f
        .tickets
        .inner
        .get(f.tenant, &RecordRef::new("ticket", "T-1"))
        .unwrap();
    assert_eq!(t1.fields.len(), 2, "email deleted, texts anonymized");
    assert!(t1.fields.iter().all(|x| x.value == ANONYMIZED));
    let t2 = f
        .tickets
        .inner
        .get(f.tenant, &RecordRef::new("ticket", "T-2"))
        .unwrap();
    assert_eq!(t2.fields[0].value, "alice@old.example");
    assert!(f.attachments.inner.is_empty());
    // Bob untouched, and still readable.
    assert!(
        f.contacts
            .inner
            .get(f.tenant, &RecordRef::new("contact", "1018"))
            .is_some()
    );
    assert_eq!(vault.open(&ctx, &bob_sealed).unwrap(), b"198.51.100.1");
    // T-2 is kept under a hold, so Alice's key is NOT shredded: data sealed
    // under it (the held record's fields may be) stays readable.
    assert_eq!(vault.open(&ctx, &sealed).unwrap(), b"203.0.113.7");

    assert_eq!(cert.sources, ["contacts", "tickets", "attachments"]);
    assert_eq!(cert.erased.len(), 3);
    let t1_entry = cert.erased.iter().find(|e| e.record.id == "T-1").unwrap();
    assert!(!t1_entry.deleted_record);
    assert_eq!(t1_entry.deleted_fields, ["requester_email"]);
    assert_eq!(t1_entry.anonymized_fields, ["description", "agent_note"]);
    assert!(
        cert.erased
            .iter()
            .find(|e| e.record.id == "1017")
            .unwrap()
            .deleted_record
    );
    assert_eq!(cert.kept.len(), 1);
    assert_eq!(cert.kept[0].record.id, "T-2");
    assert_eq!(cert.kept[0].exception, ErasureException::LegalClaims);
    assert_eq!(cert.kept[0].reason, "dispute 2026-114");
    match &cert.subject_key {
        SubjectKeyStatus::Deferred {
            records_kept,
            blocking,
            reasons,
            until,
        } => {
            // Only the held record that needs the key is listed.
            assert_eq!(*records_kept, 1);
            assert_eq!(blocking.len(), 1);
            assert_eq!(
                (blocking[0].source.as_str(), blocking[0].record.id.as_str()),
                ("tickets", "T-2")
            );
            assert_eq!(reasons.len(), 1);
            assert!(reasons[0].ends_with("dispute 2026-114"), "{reasons:?}");
            assert_eq!(
                *until,
                Some(Utc.with_ymd_and_hms(2033, 6, 30, 0, 0, 0).unwrap())
            );
        }
        other => panic!("expected a deferred shred, got {other:?}"),
    }
    assert!(
        cert.subject_key
            .describe()
            .starts_with("key shred deferred: 1 kept records still need it (tickets/ticket T-2)")
    );
    assert_eq!(
        cert.backups_clear_by,
        Some(f.clock.now() + TimeDelta::days(30))
    );
    assert_eq!(
        ErasureCertificate::from_json(&cert.to_json().unwrap()).unwrap(),
        cert
    );
    let md = cert.to_markdown();
    assert!(
        md.contains("Art. 17(3)(e)")
            && md.contains("dispute 2026-114")
            && md.contains("2033-06-30")
            && md.contains("key shred deferred"),
        "{md}"
    );
    let actions = names(&f.sink.actions());
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "subject_key_shred_deferred")
            .count(),
        1
    );

    // The tickets source cannot re-seal: the certificate says why T-2 blocks.
    assert_eq!(
        cert.kept[0].subject_key,
        KeptKey::Needed {
            why: Some("the source cannot re-seal it".into())
        }
    );
    assert_eq!(cert.records_resealed, 0);

    // Twice is safe: the hold still applies, so the same records are erased
    // and kept, and the key is still not shredded. Nothing changed, so the
    // run records one "still deferred" event and nothing else.
    f.clock.advance(TimeDelta::days(1));
    let events_before = f.sink.events().len();
    let again = desk.erase(&mut r, f.agent).unwrap();
    assert_eq!(again, cert);
    assert_eq!(
        names(&f.sink.actions()[events_before..]),
        ["subject_key_shred_still_deferred"]
    );
    assert_eq!(r.state, RequestState::Completed);
    assert_eq!(again.erased, cert.erased);
    assert_eq!(again.kept, cert.kept);
    assert_eq!(again.subject_key, cert.subject_key);
    assert_eq!(vault.open(&ctx, &sealed).unwrap(), b"203.0.113.7");
    let actions = names(&f.sink.actions());
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "subject_key_shredded")
            .count(),
        0
    );
    assert_eq!(
        actions.iter().filter(|a| *a == "request_completed").count(),
        1
    );
}

/// A hold that can be released.
struct ReleasableHold {
    held: AtomicBool,
    inner: StaticHolds,
}

impl RetentionCheck for ReleasableHold {
    fn hold(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        source: &str,
        located: &Located,
    ) -> Result<Option<ErasureHold>, BoxError> {
        if self.held.load(Ordering::SeqCst) {
            RetentionCheck::hold(&self.inner, tenant, subject, source, located)
        } else {
            Ok(None)
        }
    }
}

#[test]
fn deferred_shred_happens_on_rerun_after_the_hold_is_released() {
    let f = fixture();
    let vault = vault(f.clock.clone());
    let ctx = FieldContext::new(f.tenant, "ticket", "T-2", "requester_email").unwrap();
    let sealed = vault.seal(f.alice, &ctx, b"alice@old.example").unwrap();
    let holds = Arc::new(ReleasableHold {
        held: AtomicBool::new(true),
        inner: StaticHolds::new().hold(
            f.tenant,
            "tickets",
            RecordRef::new("ticket", "T-2"),
            ErasureHold {
                exception: ErasureException::LegalClaims,
                reason: "dispute 2026-114".into(),
                until: None,
            },
        ),
    });
    let desk = erasure_desk(&f, vault.clone()).with_retention(holds.clone());
    let mut r = f.verified(&desk, RequestKind::Erasure);
    let cert = desk.erase(&mut r, f.agent).unwrap();
    assert!(
        matches!(
            cert.subject_key,
            SubjectKeyStatus::Deferred {
                ref blocking,
                until: None,
                ..
            } if blocking.len() == 1
        ),
        "{:?}",
        cert.subject_key
    );
    assert!(cert.subject_key.describe().ends_with("until hold release"));
    // The held record, sealed under Alice's key, is still readable.
    assert_eq!(vault.open(&ctx, &sealed).unwrap(), b"alice@old.example");
    assert!(
        f.tickets
            .inner
            .get(f.tenant, &RecordRef::new("ticket", "T-2"))
            .is_some()
    );

    // The hold is released: the re-run erases T-2 and shreds the key.
    holds.held.store(false, Ordering::SeqCst);
    f.clock.advance(TimeDelta::days(3));
    let done = desk.erase(&mut r, f.agent).unwrap();
    assert_eq!(
        done.subject_key,
        SubjectKeyStatus::Shredded {
            at: f.clock.now(),
            outcome: custodia_crypt::ShredOutcome::KeyDestroyed
        }
    );
    assert!(done.kept.is_empty());
    assert!(done.erased.iter().any(|e| e.record.id == "T-2"));
    assert_eq!(done.erased.len(), cert.erased.len() + 1);
    assert_eq!(
        vault.open(&ctx, &sealed),
        Err(CryptError::Shredded { subject: f.alice })
    );
    assert!(done.to_markdown().contains("was destroyed"));
    // Now final: a third run changes nothing.
    let events = f.sink.events().len();
    assert_eq!(desk.erase(&mut r, f.agent).unwrap(), done);
    assert_eq!(f.sink.events().len(), events);
    let actions = names(&f.sink.actions());
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "subject_key_shredded")
            .count(),
        1
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "subject_key_shred_deferred")
            .count(),
        1
    );
}

#[test]
fn key_never_shredded_while_a_kept_record_needs_it() {
    use custodia_dsr::KeptRecord;
    // Unit check of the decision the desk makes: a kept record that needs
    // the key defers; kept records that do not (not sealed under it, or
    // re-sealed) never do, and are not listed.
    let when = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
    for n in 0..4usize {
        for free in 0..3usize {
            let mut kept: Vec<KeptRecord> = (0..n)
                .map(|i| KeptRecord {
                    source: "tickets".into(),
                    record: RecordRef::new("ticket", format!("T-{i}")),
                    exception: ErasureException::LegalClaims,
                    reason: "dispute".into(),
                    until: if i == 0 { None } else { Some(when) },
                    subject_key: KeptKey::default(),
                })
                .collect();
            // Records without a key need, held longer and without end date:
            // they must not influence the deferral.
            kept.extend((0..free).map(|i| KeptRecord {
                source: "invoices".into(),
                record: RecordRef::new("invoice", format!("I-{i}")),
                exception: ErasureException::LegalObligation,
                reason: "tax law".into(),
                until: None,
                subject_key: if i % 2 == 0 {
                    KeptKey::NotSealed
                } else {
                    KeptKey::Resealed {
                        at: when,
                        fields: 1,
                        under: "tenant data key".into(),
                    }
                },
            }));
            match SubjectKeyStatus::deferred_for(&kept) {
                None => assert_eq!(n, 0),
                Some(SubjectKeyStatus::Deferred {
                    records_kept,
                    blocking,
                    until,
                    reasons,
                }) => {
                    assert_eq!(blocking.len(), n);
                    assert_eq!(records_kept, n, "counts only the records needing the key");
                    assert!(blocking.iter().all(|b| b.source == "tickets"));
                    assert_eq!(reasons.len(), 1, "{reasons:?}");
                    // T-0 has no end date, so the deferral has none either
                    // (the open-ended invoices do not count).
                    assert_eq!(until, None, "a hold without end date defers indefinitely");
                }
                Some(other) => panic!("{other:?}"),
            }
        }
    }
}

#[test]
fn a_source_failing_midway_leaves_the_erasure_resumable_and_never_done() {
    let f = fixture();
    let vault = vault(f.clock.clone());
    let ctx = FieldContext::new(f.tenant, "ticket", "T-1", "body").unwrap();
    let sealed = vault.seal(f.alice, &ctx, b"secret").unwrap();
    let desk = erasure_desk(&f, vault.clone()).with_retention(Arc::new(NoHolds));
    // Tickets erase one record, then fail.
    f.tickets.fail_erase_after.store(1, Ordering::SeqCst);
    f.tickets.armed.store(true, Ordering::SeqCst);
    let mut r = f.verified(&desk, RequestKind::Erasure);
    let err = desk.erase(&mut r, f.agent).unwrap_err();
    assert_eq!(
        err,
        Error::Incomplete {
            request: r.id,
            failed: vec!["tickets".into()]
        }
    );
    assert_eq!(r.state, RequestState::InProgress);
    assert!(r.certificate.is_none());
    assert!(r.progress.is_done("contacts"));
    assert!(r.progress.is_done("attachments"));
    match &r.progress.sources["tickets"] {
        SourceProgress::Failed {
            operation,
            error,
            attempts,
            erased,
            ..
        } => {
            assert_eq!(operation, "erase");
            assert_eq!(error, "disk full");
            assert_eq!(*attempts, 1);
            assert_eq!(erased.len(), 1);
        }
        other => panic!("expected failure, got {other:?}"),
    }
    // Not shredded while incomplete, and no completion was audited.
    assert_eq!(vault.open(&ctx, &sealed).unwrap(), b"secret");
    let actions = names(&f.sink.actions());
    assert!(actions.contains(&"source_failed".to_owned()));
    assert!(!actions.contains(&"request_completed".to_owned()));
    assert!(!actions.contains(&"certificate_issued".to_owned()));

    // The request survives a round trip through the host's storage.
    let mut r = Request::from_json(&r.to_json().unwrap()).unwrap();
    // Still failing: attempts count up.
    assert!(desk.erase(&mut r, f.agent).is_err());
    assert!(matches!(
        r.progress.sources["tickets"],
        SourceProgress::Failed { attempts: 2, .. }
    ));

    // Fixed: resume. Done sources are not searched again.
    f.tickets.armed.store(false, Ordering::SeqCst);
    let contacts_locates = f.contacts.locates.load(Ordering::SeqCst);
    let cert = desk.erase(&mut r, f.agent).unwrap();
    assert_eq!(f.contacts.locates.load(Ordering::SeqCst), contacts_locates);
    assert_eq!(r.state, RequestState::Completed);
    let mut ids: Vec<_> = cert.erased.iter().map(|e| e.record.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["1017", "A-9", "T-1", "T-2"]);
    assert_eq!(
        vault.open(&ctx, &sealed),
        Err(CryptError::Shredded { subject: f.alice })
    );
}

#[test]
fn a_failing_locate_is_recorded_and_retried() {
    let f = fixture();
    let desk = f.desk();
    f.attachments.fail_locate.store(true, Ordering::SeqCst);
    let mut r = f.verified(&desk, RequestKind::Access);
    assert!(matches!(
        desk.export(&mut r, f.agent),
        Err(Error::Incomplete { .. })
    ));
    assert_eq!(r.state, RequestState::InProgress);
    f.attachments.fail_locate.store(false, Ordering::SeqCst);
    let bundle = desk.export(&mut r, f.agent).unwrap();
    assert_eq!(bundle.records.len(), 4);
}

struct Refusing(AtomicBool);
impl DsrEventSink for Refusing {
    fn record(&self, _: &DsrEvent) -> Result<(), BoxError> {
        if self.0.load(Ordering::SeqCst) {
            Err("log unavailable".into())
        } else {
            Ok(())
        }
    }
}

#[test]
fn a_step_the_audit_sink_refuses_does_not_happen() {
    let f = fixture();
    let sink = Arc::new(Refusing(AtomicBool::new(false)));
    let desk = Desk::new(f.clock.clone(), sink.clone())
        .with_source(f.contacts.clone())
        .unwrap();
    let mut r = desk
        .receive(
            f.tenant,
            f.alice,
            RequestKind::Erasure,
            Role::Controller,
            f.agent,
        )
        .unwrap();
    sink.0.store(true, Ordering::SeqCst);
    let err = desk
        .verify(&mut r, VerificationMethod::DocumentCheck, "", f.agent)
        .unwrap_err();
    assert_eq!(
        err,
        Error::Audit(HostError::from_box("log unavailable".into()))
    );
    let source = std::error::Error::source(&err).map(ToString::to_string);
    assert_eq!(source.as_deref(), Some("log unavailable"));
    assert_eq!(r.state, RequestState::Received);
    assert!(r.verification.is_none());
    assert!(
        desk.receive(
            f.tenant,
            f.alice,
            RequestKind::Access,
            Role::Controller,
            f.agent
        )
        .is_err()
    );
}

#[test]
fn steps_out_of_order_or_of_the_wrong_kind_are_refused() {
    let f = fixture();
    let desk = f.desk();
    let mut unverified = desk
        .receive(
            f.tenant,
            f.alice,
            RequestKind::Erasure,
            Role::Controller,
            f.agent,
        )
        .unwrap();
    assert!(matches!(
        desk.erase(&mut unverified, f.agent),
        Err(Error::InvalidTransition {
            from: RequestState::Received,
            ..
        })
    ));
    assert_eq!(f.contacts.locates.load(Ordering::SeqCst), 0);
    let mut access = f.verified(&desk, RequestKind::Access);
    assert_eq!(
        desk.erase(&mut access, f.agent),
        Err(Error::WrongKind {
            request: access.id,
            expected: "erasure",
            actual: "access"
        })
    );
    let mut processor = desk
        .receive(
            f.tenant,
            f.alice,
            RequestKind::Access,
            Role::Processor,
            f.agent,
        )
        .unwrap();
    assert!(matches!(
        desk.export(&mut processor, f.agent),
        Err(Error::ProcessorMustForward { .. })
    ));
    let dup = Desk::new(f.clock.clone(), f.sink.clone())
        .with_source(f.contacts.clone())
        .unwrap()
        .with_source(Arc::new(MemorySource::new("contacts")));
    assert_eq!(dup.err(), Some(Error::DuplicateSource("contacts".into())));
    let future = f.clock.now() + TimeDelta::days(1);
    assert!(matches!(
        desk.receive_at(
            f.tenant,
            f.alice,
            RequestKind::Access,
            Role::Controller,
            f.agent,
            future
        ),
        Err(Error::InvalidTime {
            problem: "in the future",
            ..
        })
    ));
}

#[test]
fn extension_and_rejection_through_the_desk_are_audited() {
    let f = fixture();
    let desk = f.desk();
    let mut r = f.verified(&desk, RequestKind::Access);
    desk.extend(&mut r, "42 000 tickets across three stores", f.agent)
        .unwrap();
    assert_eq!(r.state, RequestState::Extended);
    assert_eq!(
        r.due.date_naive(),
        chrono::NaiveDate::from_ymd_opt(2026, 4, 28).unwrap()
    );
    // Work continues from the extended state.
    desk.export(&mut r, f.agent).unwrap();
    assert_eq!(r.state, RequestState::Completed);

    let mut refused = desk
        .receive(
            f.tenant,
            f.alice,
            RequestKind::Access,
            Role::Controller,
            f.agent,
        )
        .unwrap();
    assert!(
        desk.reject(
            &mut refused,
            RejectionReason::IdentityNotVerified,
            " ",
            f.agent
        )
        .is_err()
    );
    desk.reject(&mut refused, RejectionReason::IdentityNotVerified, "No reply to the code sent to the address on file; you may complain to the OAIC or your EU authority.", f.agent).unwrap();
    assert_eq!(refused.state, RequestState::Rejected);
    let actions = names(&f.sink.actions());
    assert!(actions.contains(&"deadline_extended".to_owned()));
    assert_eq!(actions.last().map(String::as_str), Some("request_rejected"));
}

struct Forwarder(AtomicUsize);
impl ControllerForwarder for Forwarder {
    fn forward(&self, _: &Request, _: &Party) -> Result<Option<String>, BoxError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(None)
    }
}

#[test]
fn processor_forwards_and_controller_cannot() {
    let f = fixture();
    let desk = f.desk();
    let forwarder = Forwarder(AtomicUsize::new(0));
    let party = Party {
        name: "Acme Ltd".into(),
        contact: "privacy@acme.example".into(),
        tenant: Some(f.tenant),
    };
    let mut as_controller = f.verified(&desk, RequestKind::Erasure);
    assert!(matches!(
        desk.forward(&mut as_controller, party.clone(), &forwarder, f.agent),
        Err(Error::NotProcessor { .. })
    ));
    assert_eq!(
        forwarder.0.load(Ordering::SeqCst),
        0,
        "nothing sent for a refused step"
    );
    let mut r = desk
        .receive(
            f.tenant,
            f.alice,
            RequestKind::Erasure,
            Role::Processor,
            f.agent,
        )
        .unwrap();
    desk.forward(&mut r, party, &forwarder, f.agent).unwrap();
    assert_eq!(r.state, RequestState::Forwarded);
    assert_eq!(forwarder.0.load(Ordering::SeqCst), 1);
    assert!(f.sink.actions().iter().any(
        |a| matches!(a, DsrAction::RequestForwarded { controller, .. } if controller == "Acme Ltd")
    ));
    // Nothing was erased by the processor.
    assert_eq!(f.contacts.inner.len(), 2);
}

struct BrokenVault(AtomicBool);
impl KeyShredder for BrokenVault {
    fn shred_subject(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        actor: ActorId,
    ) -> Result<custodia_crypt::ShredReceipt, BoxError> {
        if self.0.load(Ordering::SeqCst) {
            return Err("key store read-only".into());
        }
        Ok(custodia_crypt::ShredReceipt {
            tenant,
            subject,
            actor,
            at: start(),
            outcome: custodia_crypt::ShredOutcome::KeyDestroyed,
        })
    }
}

#[test]
fn a_failed_key_shred_keeps_the_erasure_open_until_retried() {
    let f = fixture();
    let vault = Arc::new(BrokenVault(AtomicBool::new(true)));
    let desk = f.desk().with_key_shredder(vault.clone());
    let mut r = f.verified(&desk, RequestKind::Erasure);
    let err = desk.erase(&mut r, f.agent).unwrap_err();
    assert_eq!(
        err,
        Error::Shred {
            subject: f.alice,
            source: HostError::from_box("key store read-only".into())
        }
    );
    assert_eq!(r.state, RequestState::InProgress);
    assert!(r.progress.key_shredded.is_none());
    assert!(
        f.contacts
            .inner
            .get(f.tenant, &RecordRef::new("contact", "1017"))
            .is_none()
    );
    vault.0.store(false, Ordering::SeqCst);
    let locates = f.contacts.locates.load(Ordering::SeqCst);
    let cert = desk.erase(&mut r, f.agent).unwrap();
    assert_eq!(
        f.contacts.locates.load(Ordering::SeqCst),
        locates,
        "sources not redone"
    );
    assert_eq!(
        cert.subject_key,
        SubjectKeyStatus::Shredded {
            at: start(),
            outcome: custodia_crypt::ShredOutcome::KeyDestroyed
        }
    );
    assert_eq!(cert.erased.len(), 4);
    assert_eq!(cert.backups_clear_by, None, "no backup horizon configured");
    assert!(cert.to_markdown().contains("not known"));
}

/// The certificate tells a destroyed key from a shred that found none (the
/// person never had anything sealed in this tenant, or the wrong one was
/// named): the receipt's outcome shows in the status, its JSON and its text.
#[test]
fn the_certificate_tells_a_destroyed_key_from_none_existing() {
    for sealed_first in [true, false] {
        let f = fixture();
        let vault = vault(f.clock.clone());
        if sealed_first {
            let ctx = FieldContext::new(f.tenant, "audit_event", "e-1", "actor_ip").unwrap();
            vault.seal(f.alice, &ctx, b"203.0.113.7").unwrap();
        }
        let desk = f.desk().with_key_shredder(vault);
        let mut r = f.verified(&desk, RequestKind::Erasure);
        let cert = desk.erase(&mut r, f.agent).unwrap();
        let (outcome, json, describe, md) = if sealed_first {
            (
                custodia_crypt::ShredOutcome::KeyDestroyed,
                "\"outcome\": \"key_destroyed\"",
                "shredded at",
                "was destroyed",
            )
        } else {
            (
                custodia_crypt::ShredOutcome::NoKeyExisted,
                "\"outcome\": \"no_key_existed\"",
                "no key existed",
                "No encryption key of the person's existed",
            )
        };
        assert_eq!(
            cert.subject_key,
            SubjectKeyStatus::Shredded {
                at: f.clock.now(),
                outcome
            }
        );
        let text = cert.to_json().unwrap();
        assert!(text.contains(json), "{text}");
        assert_eq!(ErasureCertificate::from_json(&text).unwrap(), cert);
        assert!(cert.subject_key.describe().starts_with(describe));
        let rendered = cert.to_markdown();
        assert!(rendered.contains(md), "{rendered}");
        assert_eq!(
            rendered.contains("was destroyed"),
            sealed_first,
            "{rendered}"
        );
    }
}

/// A certificate issued before receipts said whether a key existed has no
/// `outcome`: it reads back, and prints as a destroyed key as it did.
#[test]
fn a_certificate_without_an_outcome_reads_as_unrecorded() {
    let f = fixture();
    let desk = f.desk().with_key_shredder(vault(f.clock.clone()));
    let mut r = f.verified(&desk, RequestKind::Erasure);
    let cert = desk.erase(&mut r, f.agent).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&cert.to_json().unwrap()).unwrap();
    let key = json["subject_key"].as_object_mut().unwrap();
    assert!(key.remove("outcome").is_some());
    let old = ErasureCertificate::from_json(&json.to_string()).unwrap();
    assert_eq!(
        old.subject_key,
        SubjectKeyStatus::Shredded {
            at: f.clock.now(),
            outcome: custodia_crypt::ShredOutcome::Unrecorded
        }
    );
    assert!(old.to_markdown().contains("was destroyed"));
    assert!(!old.to_json().unwrap().contains("outcome"));
}

#[test]
fn access_bundles_explain_the_processing_from_the_record_of_processing() {
    use custodia_dsr::records::{Organisation, ProcessingActivity, ProcessingRegistry};
    let f = fixture();
    let activity = |name: &str, category: DataCategory, purpose: Purpose| ProcessingActivity {
        name: name.into(),
        role: Role::Controller,
        controllers: vec![],
        purposes: vec![purpose],
        legal_basis: Some(LegalBasis::Contract),
        subject_categories: vec!["customers".into()],
        data_categories: vec![category],
        recipients: vec![],
        transfers: vec![],
        retention: "30 days after the contract ends".into(),
        security_measures: vec!["encryption".into()],
    };
    let registry = ProcessingRegistry::new(Organisation {
        name: "Deskly".into(),
        contact: "privacy@deskly.example".into(),
        representative: None,
        dpo: None,
    })
    .activity(activity(
        "Support",
        DataCategory::USER_CONTENT,
        Purpose::SUPPORT,
    ))
    .activity(activity(
        "Payroll",
        DataCategory::USER_FINANCIAL_BANK_ACCOUNT,
        Purpose::BILLING,
    ));
    let desk = f.desk().with_records(Arc::new(registry));
    let mut r = f.verified(&desk, RequestKind::Access);
    let bundle = desk.export(&mut r, f.agent).unwrap();
    // Tickets and attachments are within user.content; nothing is bank data.
    let names: Vec<_> = bundle
        .processing
        .iter()
        .map(|p| p.activity.as_str())
        .collect();
    assert_eq!(names, ["Support"]);
    assert_eq!(
        bundle.processing[0].retention,
        "30 days after the contract ends"
    );
    assert_eq!(
        ExportBundle::from_json(&bundle.to_json().unwrap()).unwrap(),
        bundle
    );
    // Portability carries data, not information about processing.
    let mut p = f.verified(&desk, RequestKind::Portability);
    assert!(desk.export(&mut p, f.agent).unwrap().processing.is_empty());
}

#[test]
fn recipients_of_changed_data_are_listed_for_article_19() {
    use custodia_core::Region;
    use custodia_dsr::records::{
        Organisation, ProcessingActivity, ProcessingRecipient, ProcessingRegistry, RecipientKind,
    };
    let f = fixture();
    let activity = |name: &str, category: DataCategory, recipient: &str| ProcessingActivity {
        name: name.into(),
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
    let registry = Arc::new(
        ProcessingRegistry::new(Organisation {
            name: "Deskly".into(),
            contact: "privacy@deskly.example".into(),
            representative: None,
            dpo: None,
        })
        .activity(activity(
            "Mailing",
            DataCategory::USER_CONTACT_EMAIL,
            "Mailer",
        ))
        .activity(activity(
            "Phone support",
            DataCategory::USER_CONTACT_PHONE,
            "Call centre",
        ))
        .activity(activity("Payroll", DataCategory::USER_FINANCIAL, "Bank")),
    );
    let desk = f.desk().with_records(registry.clone());

    // Correcting the email concerns the mailer only.
    let kind = RequestKind::Rectification {
        corrections: vec![Correction {
            category: DataCategory::USER_CONTACT_EMAIL,
            value: "a@new.example".into(),
        }],
    };
    let mut r = f.verified(&desk, kind);
    assert_eq!(
        desk.rectify(&mut r, f.agent).unwrap().recipients_to_inform,
        ["Mailer (UK)"]
    );

    // Restricting everything concerns the mailer and the call centre, not the bank.
    let mut r = f.verified(&desk, RequestKind::Restriction { lift: false });
    assert_eq!(
        desk.restrict(&mut r, f.agent).unwrap().recipients_to_inform,
        ["Call centre (UK)", "Mailer (UK)"]
    );

    // So does erasing it; and the certificate says so.
    let mut r = f.verified(&desk, RequestKind::Erasure);
    let cert = desk.erase(&mut r, f.agent).unwrap();
    assert_eq!(
        cert.recipients_to_inform,
        ["Call centre (UK)", "Mailer (UK)"]
    );
    assert!(
        cert.to_markdown()
            .contains("Recipients to inform (Art. 19)")
    );

    // Without a record of processing, nobody is listed.
    let g = fixture();
    let mut r = g.verified(&g.desk(), RequestKind::Restriction { lift: false });
    assert!(
        g.desk()
            .restrict(&mut r, g.agent)
            .unwrap()
            .recipients_to_inform
            .is_empty()
    );
}

#[test]
fn blocking_records_carry_their_own_end_date() {
    use custodia_dsr::KeptRecord;
    let day = |y| Utc.with_ymd_and_hms(y, 1, 1, 0, 0, 0).unwrap();
    let kept = |id: &str, until, subject_key| KeptRecord {
        source: "s".into(),
        record: RecordRef::new("r", id),
        exception: ErasureException::LegalObligation,
        reason: "tax".into(),
        until,
        subject_key,
    };
    let records = [
        kept("a", Some(day(2030)), KeptKey::default()),
        kept("b", Some(day(2032)), KeptKey::default()),
        // Held longer, but re-sealed: does not push the shred out.
        kept("c", Some(day(2040)), KeptKey::NotSealed),
    ];
    match SubjectKeyStatus::deferred_for(&records) {
        Some(SubjectKeyStatus::Deferred {
            blocking, until, ..
        }) => {
            assert_eq!(until, Some(day(2032)));
            let ids: Vec<&str> = blocking.iter().map(|b| b.record.id.as_str()).collect();
            assert_eq!(ids, ["a", "b"]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn late_refusals_are_flagged_and_undecided_requests_listed() {
    let f = fixture();
    let desk = f.desk();
    // Received 31 January 15:00: the month to decide ends 28 February.
    let mut undecided = f.verified(&desk, RequestKind::Access);
    let mut extended = f.verified(&desk, RequestKind::Access);
    desk.extend(&mut extended, "three stores", f.agent).unwrap();
    let mut answered = f.verified(&desk, RequestKind::Access);
    desk.export(&mut answered, f.agent).unwrap();
    let mut refused = f.verified(&desk, RequestKind::Access);

    // Within the month nothing is late.
    f.clock
        .set(Utc.with_ymd_and_hms(2026, 2, 28, 23, 0, 0).unwrap());
    assert!(
        desk.late_requests([&undecided, &extended, &answered, &refused])
            .is_empty()
    );

    // A day later: the undecided one is listed; extending it is refused.
    f.clock
        .set(Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap());
    let late = desk.late_requests([&undecided, &extended, &answered, &refused]);
    assert_eq!(
        late.iter().map(|l| l.request).collect::<Vec<_>>(),
        [undecided.id, refused.id]
    );
    assert_eq!(
        late[0].status,
        DeadlineStatus::NoDecision {
            month_ended: undecided.decision_due()
        }
    );
    assert_eq!(late[0].kind, "access");
    assert!(matches!(
        desk.extend(&mut undecided, "complex", f.agent),
        Err(Error::ExtensionTooLate { .. })
    ));

    // Refusing now is still possible, but recorded as late, in the audit too.
    desk.reject(
        &mut refused,
        RejectionReason::ManifestlyUnfounded,
        "The account named is not one of ours; you may complain to your supervisory authority.",
        f.agent,
    )
    .unwrap();
    assert!(refused.rejection.as_ref().unwrap().late);
    assert_eq!(
        f.sink.actions().last(),
        Some(&DsrAction::RequestRejected {
            reason: RejectionReason::ManifestlyUnfounded,
            late: true
        })
    );
    let late = desk.late_requests([&undecided, &extended, &answered, &refused]);
    assert_eq!(late.len(), 1);

    // Past the extended deadline the extended one is overdue too.
    f.clock
        .set(Utc.with_ymd_and_hms(2026, 4, 29, 9, 0, 0).unwrap());
    let late = desk.late_requests([&undecided, &extended]);
    assert_eq!(late.len(), 2);
    assert_eq!(
        late.iter()
            .find(|l| l.request == extended.id)
            .unwrap()
            .status,
        DeadlineStatus::Overdue { due: extended.due }
    );
}

/// A request answered after its deadline (the month, or the extended
/// deadline) is still completed, but flagged late, on the request and in
/// the `RequestCompleted` audit event, as a late refusal is; one answered
/// in time is not.
#[test]
fn late_completions_are_flagged_on_the_request_and_in_the_audit() {
    let f = fixture();
    let desk = f.desk();
    // Received 31 January 15:00: due 28 February, end of day.
    let mut on_time = f.verified(&desk, RequestKind::Access);
    let mut late = f.verified(&desk, RequestKind::Access);
    let mut extended = f.verified(&desk, RequestKind::Access);
    desk.extend(&mut extended, "three stores", f.agent).unwrap();
    let completed = |request: &Request, sink: &MemorySink| {
        let request = serde_json::to_value(request).unwrap();
        let event = serde_json::to_value(sink.actions().last().unwrap()).unwrap();
        assert_eq!(event["action"], "request_completed");
        (request["completed_late"].clone(), event["late"].clone())
    };
    f.clock
        .set(Utc.with_ymd_and_hms(2026, 2, 28, 23, 0, 0).unwrap());
    desk.export(&mut on_time, f.agent).unwrap();
    assert_eq!(
        completed(&on_time, &f.sink),
        (serde_json::json!(false), serde_json::json!(false))
    );
    f.clock
        .set(Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap());
    desk.export(&mut late, f.agent).unwrap();
    assert_eq!(
        completed(&late, &f.sink),
        (serde_json::json!(true), serde_json::json!(true))
    );
    // The extension moved the deadline: answered within it, not late.
    desk.export(&mut extended, f.agent).unwrap();
    assert_eq!(
        completed(&extended, &f.sink),
        (serde_json::json!(false), serde_json::json!(false))
    );
    assert!(late.completed_late && !on_time.completed_late && !extended.completed_late);
    assert!(
        f.sink
            .actions()
            .contains(&DsrAction::RequestCompleted { late: true })
    );
    // Written before the flag existed: read as not late.
    let old: DsrAction = serde_json::from_str(r#"{"action":"request_completed"}"#).unwrap();
    assert_eq!(old, DsrAction::RequestCompleted { late: false });
    let mut written = serde_json::to_value(&late).unwrap();
    written.as_object_mut().unwrap().remove("completed_late");
    let read = Request::from_json(&written.to_string()).unwrap();
    assert!(!read.completed_late);
}
