//! A data-subject request end to end across the workspace: three sources whose
//! personal fields are sealed under the subject's key (custodia-crypt), a
//! tamper-evident audit log (custodia-audit) holding the subject's IP address
//! and before/after values sealed under the same key, a retention policy with
//! a legal hold (custodia-retention), and the desk (custodia-dsr) running
//! access, portability, rectification and erasure.
//!
//! The held attachment's source re-seals it under the tenant's key, so the
//! subject key is shredded by the erasure itself: her other sealed fields and
//! her audit personal data are unreadable at once while the held record stays
//! readable. A second case has a source that cannot re-seal: the shred is
//! deferred, and the scheduled re-run after the hold's release does it.
#![cfg(all(
    feature = "crypt",
    feature = "audit",
    feature = "retention",
    feature = "dsr"
))]

use std::sync::Arc;

use custodia_audit::personal::{Revealed, open_value};
use custodia_audit::{
    Action, Actor, ActorKind, AuditLog, Event, FieldChange, MemoryStore, Personal, Query, Target,
    checkpoint,
};
use custodia_core::chrono::{TimeZone, Utc};
use custodia_core::{
    ActorId, Clock, DataCategory, LegalBasis, ManualClock, Role, SubjectId, TenantId, Timestamp,
};
use custodia_crypt::{FieldContext, Keyring, MemoryKeyStore, SecretKey, SubjectVault};
use custodia_dsr::FieldUpdate;
use custodia_dsr::*;
use custodia_dsr::{ERASED, WITHHELD};
use custodia_retention::RetentionPolicy;
use std::sync::atomic::{AtomicBool, Ordering};

/// The policy's holds, with a switch standing for the hold's release.
struct Releasable {
    held: AtomicBool,
    inner: Arc<PolicyRetention>,
}

impl RetentionCheck for Releasable {
    fn hold(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        source: &str,
        located: &custodia_dsr::Located,
    ) -> Result<Option<ErasureHold>, BoxError> {
        if self.held.load(Ordering::SeqCst) {
            self.inner.hold(tenant, subject, source, located)
        } else {
            Ok(None)
        }
    }
}

type Vault = SubjectVault<MemoryKeyStore>;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// A store whose field values are sealed under the subject's key: it keeps
/// envelopes (hex) in a [`MemorySource`] and opens them only to export.
///
/// With a keyring, it can re-seal a kept record under the tenant's data key
/// (`Keyring::seal`), so the record no longer needs the subject's key.
struct SealedSource {
    inner: MemorySource,
    vault: Arc<Vault>,
    reseal_with: Option<Arc<Keyring>>,
    subject_of: std::sync::Mutex<Vec<(RecordRef, SubjectId)>>,
}

impl SealedSource {
    fn new(name: &str, vault: Arc<Vault>) -> Self {
        Self {
            inner: MemorySource::new(name),
            vault,
            reseal_with: None,
            subject_of: Default::default(),
        }
    }

    /// A source that re-seals kept records under the tenant key of `keyring`.
    fn resealing(name: &str, vault: Arc<Vault>, keyring: Arc<Keyring>) -> Self {
        Self {
            reseal_with: Some(keyring),
            ..Self::new(name, vault)
        }
    }

    fn ctx<'a>(tenant: TenantId, record: &'a RecordRef, field: &'a str) -> FieldContext<'a> {
        FieldContext::new(tenant, &record.record_type, &record.id, field).unwrap()
    }

    fn insert(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        record: RecordRef,
        fields: &[(&str, DataCategory, &str, bool)],
    ) {
        let sealed: Vec<(String, DataCategory, String, bool)> = fields
            .iter()
            .map(|(name, category, value, provided)| {
                let envelope = self
                    .vault
                    .seal(subject, &Self::ctx(tenant, &record, name), value.as_bytes())
                    .unwrap();
                (
                    name.to_string(),
                    category.clone(),
                    hex(&envelope),
                    *provided,
                )
            })
            .collect();
        self.subject_of
            .lock()
            .unwrap()
            .push((record.clone(), subject));
        self.inner.insert(
            tenant,
            subject,
            record,
            LegalBasis::Contract,
            sealed
                .iter()
                .map(|(n, c, v, p)| (n.as_str(), c.clone(), v.as_str(), *p)),
        );
    }

    /// The stored envelope of one field, as an attacker with the database would see it.
    fn envelope(&self, tenant: TenantId, record: &RecordRef, field: &str) -> Option<Vec<u8>> {
        let stored = self.inner.get(tenant, record)?;
        let value = stored.fields.iter().find(|f| f.name == field)?;
        Some(unhex(&value.value))
    }

    fn open(
        &self,
        tenant: TenantId,
        record: &RecordRef,
        field: &str,
    ) -> Result<String, custodia_crypt::Error> {
        let envelope = self.envelope(tenant, record, field).unwrap();
        self.vault
            .open(&Self::ctx(tenant, record, field), &envelope)
            .map(|b| String::from_utf8(b).unwrap())
    }
}

impl PersonalDataSource for SealedSource {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn locate(&self, tenant: TenantId, subject: SubjectId) -> Result<Vec<Located>, BoxError> {
        self.inner.locate(tenant, subject)
    }

    fn export(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        record: &RecordRef,
    ) -> Result<ExportedRecord, BoxError> {
        let mut exported = self.inner.export(tenant, subject, record)?;
        for field in &mut exported.fields {
            let opened = self.vault.open(
                &Self::ctx(tenant, record, &field.name),
                &unhex(&field.value),
            )?;
            field.value = String::from_utf8(opened)?;
        }
        Ok(exported)
    }

    fn rectify(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        record: &RecordRef,
        updates: &[FieldUpdate],
    ) -> Result<(), BoxError> {
        let mut sealed = Vec::new();
        for update in updates {
            let envelope = self.vault.seal(
                subject,
                &Self::ctx(tenant, record, &update.name),
                update.value.as_bytes(),
            )?;
            sealed.push(FieldUpdate {
                name: update.name.clone(),
                value: hex(&envelope),
            });
        }
        self.inner.rectify(tenant, subject, record, &sealed)
    }

    fn erase(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        plan: &ErasurePlan,
    ) -> Result<(), BoxError> {
        self.inner.erase(tenant, subject, plan)
    }

    fn restrict(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        record: &RecordRef,
        restriction: &Restriction,
    ) -> Result<(), BoxError> {
        self.inner.restrict(tenant, subject, record, restriction)
    }

    /// Opens each field with the subject's key and seals it again under the
    /// tenant's data key; then reports the record as no longer needing the
    /// subject key. Idempotent: tenant-key envelopes are left as they are.
    fn reseal_kept(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        record: &RecordRef,
    ) -> Result<ResealOutcome, BoxError> {
        let Some(keyring) = &self.reseal_with else {
            return Ok(ResealOutcome::Unsupported);
        };
        let stored = self.inner.export(tenant, subject, record)?;
        let mut updates = Vec::new();
        for field in &stored.fields {
            let ctx = Self::ctx(tenant, record, &field.name);
            let envelope = unhex(&field.value);
            if keyring.open(&ctx, &envelope).is_ok() {
                continue; // already under the tenant key
            }
            let plaintext = self.vault.open(&ctx, &envelope)?;
            updates.push(FieldUpdate {
                name: field.name.clone(),
                value: hex(&keyring.seal(&ctx, &plaintext)?),
            });
        }
        self.inner.rectify(tenant, subject, record, &updates)?;
        let meta = self
            .inner
            .locate(tenant, subject)?
            .into_iter()
            .find(|l| l.record == *record)
            .map(|l| l.meta)
            .unwrap_or_default();
        self.inner
            .set_meta(tenant, record, meta.sealed_under_subject_key(false));
        Ok(ResealOutcome::Resealed {
            fields: updates.len(),
            under: "tenant data key".into(),
        })
    }
}

const POLICY: &str = r#"
version = 1

[[rule]]                       # invoices: ten years (none of Alice's records here)
name = "invoices"
applies_to = { category = "user.financial.billing" }
trigger = "created"
retain = "10y"
then = "delete"

[[hold]]
id = "case-2026-17"
reason = "litigation"
applies_to = { records = "A-2" }

[backups]
every = "1d"
keep = "30d"
anchor = "2026-01-01T02:00:00Z"
"#;

/// Alice signs in to the portal from 198.51.100.23: personal data in the
/// log, sealed under her key.
fn alices_login(tenant: TenantId, alice: SubjectId, clock: &dyn Clock) -> Event {
    Event::builder(
        tenant,
        Actor::new(
            ActorKind::User,
            ActorId::from_external_key(tenant, "portal.user", "1017"),
        )
        .as_subject(alice)
        .with_ip("198.51.100.23")
        .with_user_agent("Firefox/140"),
        Action::Login,
        Target::new("portal_session", "s-1").unwrap(),
    )
    .subject(alice)
    .time(at(2, 10, 8))
    .build(clock)
    .unwrap()
}

fn at(month: u32, day: u32, hour: u32) -> Timestamp {
    Utc.with_ymd_and_hms(2026, month, day, hour, 0, 0).unwrap()
}

#[test]
fn access_export_rectify_erase_against_a_real_audit_log() {
    let clock = Arc::new(ManualClock::new(at(3, 1, 9)));
    let keyring = Arc::new(Keyring::new(SecretKey::generate().unwrap()));
    let vault: Arc<Vault> = Arc::new(SubjectVault::new(
        keyring.clone(),
        MemoryKeyStore::default(),
        clock.clone(),
    ));
    let tenant = TenantId::from_external_key("billing.account", "ACME-0042");
    let alice = SubjectId::from_external_key(tenant, "psa.contact", "1017");
    let bob = SubjectId::from_external_key(tenant, "psa.contact", "2040");
    let agent = ActorId::from_external_key(tenant, "psa.user", "17");
    let dpo = ActorId::from_external_key(tenant, "psa.user", "dpo");

    // --- Three sources.
    let tickets = Arc::new(SealedSource::new("tickets", vault.clone()));
    let (t1, t2) = (
        RecordRef::new("ticket", "T-1"),
        RecordRef::new("ticket", "T-2"),
    );
    tickets.insert(
        tenant,
        alice,
        t1.clone(),
        &[(
            "description",
            DataCategory::USER_CONTENT_TICKET,
            "Printer on fire",
            true,
        )],
    );
    tickets.insert(
        tenant,
        alice,
        t2.clone(),
        &[(
            "description",
            DataCategory::USER_CONTENT_TICKET,
            "VPN drops at 5pm",
            true,
        )],
    );
    let contacts = Arc::new(SealedSource::new("contacts", vault.clone()));
    let c1 = RecordRef::new("contact", "C-1017");
    contacts.insert(
        tenant,
        alice,
        c1.clone(),
        &[
            (
                "email",
                DataCategory::USER_CONTACT_EMAIL,
                "alice@old.example",
                true,
            ),
            ("name", DataCategory::USER_NAME, "Alice Example", true),
        ],
    );
    let c2 = RecordRef::new("contact", "C-2040");
    contacts.insert(
        tenant,
        bob,
        c2.clone(),
        &[(
            "email",
            DataCategory::USER_CONTACT_EMAIL,
            "bob@example.com",
            true,
        )],
    );
    // Attachments: A-2 is evidence under a litigation hold. Its file name is
    // sealed under Alice's key like everything else, but this store can
    // re-seal a kept record under the tenant's data key.
    let attachments = Arc::new(SealedSource::resealing(
        "attachments",
        vault.clone(),
        keyring.clone(),
    ));
    let (a1, a2) = (
        RecordRef::new("attachment", "A-1"),
        RecordRef::new("attachment", "A-2"),
    );
    attachments.insert(
        tenant,
        alice,
        a1.clone(),
        &[(
            "file_name",
            DataCategory::USER_CONTENT_TICKET,
            "screenshot.png",
            true,
        )],
    );
    attachments.insert(
        tenant,
        alice,
        a2.clone(),
        &[(
            "file_name",
            DataCategory::USER_CONTENT_TICKET,
            "burnt-printer.jpg",
            true,
        )],
    );

    // --- The audit log, with the host's own events about Alice and Bob.
    let trail = Arc::new(AuditTrail::new(
        AuditLog::open(MemoryStore::new()).unwrap(),
        vault.clone(),
    ));
    trail.with_log(|log| {
        log.append_sealed(&vault, alices_login(tenant, alice, clock.as_ref()))
            .unwrap();
        let update = Event::builder(
            tenant,
            Actor::new(ActorKind::Agent, agent).with_ip("203.0.113.7"),
            Action::Update,
            Target::new("contact", "C-1017").unwrap(),
        )
        .subject(alice)
        .change(FieldChange::new(
            "phone",
            DataCategory::USER_CONTACT_PHONE,
            Some("+44 20 7946 0000".into()),
            Some("+44 20 7946 0001".into()),
        ))
        .time(at(2, 11, 8))
        .build(clock.as_ref())
        .unwrap();
        log.append_sealed(&vault, update).unwrap();
        let bobs = Event::builder(
            tenant,
            Actor::new(ActorKind::Agent, agent).with_ip("203.0.113.7"),
            Action::Read,
            Target::new("contact", "C-2040").unwrap(),
        )
        .subject(bob)
        .time(at(2, 11, 9))
        .build(clock.as_ref())
        .unwrap();
        log.append_sealed(&vault, bobs).unwrap();
    });
    // Every personal value in the log is sealed: no plaintext IP in the store.
    trail.with_log(|log| {
        for i in 0..log.len() {
            assert!(!log.get(i).unwrap().has_clear_personal_data());
        }
    });

    let policy = Arc::new(RetentionPolicy::from_toml(POLICY, "helpdesk.toml").unwrap());
    let retention = Arc::new(PolicyRetention::new(policy.clone(), clock.clone()));
    let holds = Arc::new(Releasable {
        held: AtomicBool::new(true),
        inner: retention.clone(),
    });
    let desk = Desk::new(clock.clone(), trail.clone())
        .with_source(tickets.clone())
        .unwrap()
        .with_source(contacts.clone())
        .unwrap()
        .with_source(attachments.clone())
        .unwrap()
        .with_retention(holds.clone())
        .with_backup_horizon(retention)
        .with_key_shredder(vault.clone())
        .with_audit_history(trail.clone());

    // --- Access.
    let mut access = desk
        .receive(tenant, alice, RequestKind::Access, Role::Controller, dpo)
        .unwrap();
    desk.verify(
        &mut access,
        VerificationMethod::AuthenticatedSession,
        "",
        dpo,
    )
    .unwrap();
    let bundle = desk.export(&mut access, dpo).unwrap();
    let sources: Vec<&str> = bundle.manifest.iter().map(|m| m.source.as_str()).collect();
    assert_eq!(sources.len(), 3, "{sources:?}");
    for name in ["tickets", "contacts", "attachments"] {
        assert!(sources.contains(&name), "{name} missing from {sources:?}");
    }
    let records: usize = bundle.manifest.iter().map(|m| m.records).sum();
    assert_eq!(records, 5); // T-1, T-2, C-1017, A-1, A-2; not Bob's contact
    // Sealed fields come out opened.
    let values: Vec<&str> = bundle
        .records
        .iter()
        .flat_map(|r| r.fields.iter().map(|f| f.value.as_str()))
        .collect();
    for expected in [
        "Printer on fire",
        "alice@old.example",
        "Alice Example",
        "burnt-printer.jpg",
    ] {
        assert!(
            values.contains(&expected),
            "{expected} missing from {values:?}"
        );
    }
    assert!(!values.contains(&"bob@example.com"));
    // The subject's audit events, readable: her login IP, the agent's change.
    assert_eq!(bundle.audit.status, AuditStatus::Included);
    let login = bundle
        .audit
        .events
        .iter()
        .find(|e| e.action == "login")
        .expect("login event in the bundle");
    assert_eq!(login.actor, "you");
    assert_eq!(login.details["ip"], "198.51.100.23");
    assert_eq!(login.details["user_agent"], "Firefox/140");
    let update = bundle
        .audit
        .events
        .iter()
        .find(|e| e.action == "update" && e.target == "contact C-1017")
        .expect("contact update in the bundle");
    assert_eq!(update.details["phone.before"], "+44 20 7946 0000");
    assert_eq!(update.details["phone.after"], "+44 20 7946 0001");
    // The agent's IP belongs to the event subject here (no actor subject), so it is hers to see.
    assert_eq!(update.details["ip"], "203.0.113.7");
    // The desk's own steps of this request are in it too, and nothing about Bob.
    assert!(
        bundle
            .audit
            .events
            .iter()
            .any(|e| e.action == "dsr.request_received")
    );
    assert!(
        !bundle
            .audit
            .events
            .iter()
            .any(|e| e.target == "contact C-2040")
    );
    assert!(
        bundle
            .audit
            .events
            .iter()
            .all(|e| e.details.values().all(|v| v != WITHHELD))
    );
    assert_eq!(
        ExportBundle::from_json(&bundle.to_json().unwrap()).unwrap(),
        bundle
    );
    assert_eq!(access.state, RequestState::Completed);

    // --- Portability: only what she provided, as CSV per record type.
    clock.advance(custodia_core::chrono::TimeDelta::hours(1));
    let mut port = desk
        .receive(
            tenant,
            alice,
            RequestKind::Portability,
            Role::Controller,
            dpo,
        )
        .unwrap();
    desk.verify(&mut port, VerificationMethod::AuthenticatedSession, "", dpo)
        .unwrap();
    let portable = desk.export(&mut port, dpo).unwrap();
    let csv = portable.csv_files();
    let tickets_csv = csv
        .iter()
        .find(|f| f.name == "tickets-ticket.csv")
        .expect("tickets CSV");
    assert!(tickets_csv.content.contains("Printer on fire"));
    assert!(csv.iter().any(|f| f.name == "audit-events.csv"));

    // --- Rectification.
    let mut rectify = desk
        .receive(
            tenant,
            alice,
            RequestKind::Rectification {
                corrections: vec![Correction {
                    category: DataCategory::USER_CONTACT_EMAIL,
                    value: "alice@new.example".into(),
                }],
            },
            Role::Controller,
            dpo,
        )
        .unwrap();
    desk.verify(
        &mut rectify,
        VerificationMethod::AuthenticatedSession,
        "",
        dpo,
    )
    .unwrap();
    let report = desk.rectify(&mut rectify, dpo).unwrap();
    assert_eq!(report.records_updated, 1);
    assert_eq!(
        contacts.open(tenant, &c1, "email").unwrap(),
        "alice@new.example"
    );
    // Stored sealed, not in the clear.
    assert!(
        !String::from_utf8_lossy(&contacts.envelope(tenant, &c1, "email").unwrap())
            .contains("alice@new.example")
    );

    // --- A checkpoint a third party keeps, taken before the erasure.
    let signer = checkpoint::Signer::generate("audit.example.com/acme").unwrap();
    let note = trail
        .with_log(|log| log.checkpoint("audit.example.com/acme", &signer))
        .unwrap();
    let trusted = checkpoint::open(&note, &signer.verifier(), "audit.example.com/acme").unwrap();
    // Envelopes as they sit in storage (and in backups) before the erasure.
    let ticket_envelope = tickets.envelope(tenant, &t1, "description").unwrap();
    let email_envelope = contacts.envelope(tenant, &c1, "email").unwrap();

    // --- Erasure.
    clock.advance(custodia_core::chrono::TimeDelta::hours(1));
    let mut erase = desk
        .receive(tenant, alice, RequestKind::Erasure, Role::Controller, dpo)
        .unwrap();
    desk.verify(
        &mut erase,
        VerificationMethod::AuthenticatedSession,
        "",
        dpo,
    )
    .unwrap();
    // A backup copy of the held record, sealed under her key, as it was.
    let a2_backup = attachments.envelope(tenant, &a2, "file_name").unwrap();
    let certificate = desk.erase(&mut erase, dpo).unwrap();
    assert_eq!(erase.state, RequestState::Completed);

    // The certificate: erased where, kept why, key shredded, backup horizon.
    let erased: Vec<(&str, &str)> = certificate
        .erased
        .iter()
        .map(|e| (e.source.as_str(), e.record.id.as_str()))
        .collect();
    for expected in [
        ("tickets", "T-1"),
        ("tickets", "T-2"),
        ("contacts", "C-1017"),
        ("attachments", "A-1"),
    ] {
        assert!(erased.contains(&expected), "{expected:?} not in {erased:?}");
    }
    assert_eq!(erased.len(), 4);
    assert_eq!(certificate.kept.len(), 1);
    let held = &certificate.kept[0];
    assert_eq!(
        (held.source.as_str(), held.record.id.as_str()),
        ("attachments", "A-2")
    );
    assert_eq!(held.exception, ErasureException::LegalClaims);
    assert_eq!(held.until, None);
    assert!(held.reason.contains("case-2026-17"), "{}", held.reason);
    // A-2 was re-sealed under the tenant key, so it no longer needs hers:
    // the key is shredded now, not when the hold ends.
    assert!(
        matches!(&held.subject_key, KeptKey::Resealed { fields: 1, under, .. } if under == "tenant data key"),
        "{:?}",
        held.subject_key
    );
    assert_eq!(certificate.records_resealed, 1);
    assert_eq!(
        certificate.subject_key,
        SubjectKeyStatus::Shredded {
            at: clock.now(),
            outcome: custodia_crypt::ShredOutcome::KeyDestroyed
        }
    );
    assert!(!erase.is_shred_deferred());
    assert_eq!(
        certificate.backups_clear_by,
        policy.backups().unwrap().horizon(clock.now())
    );
    assert!(certificate.backups_clear_by.unwrap() > clock.now());
    assert_eq!(
        ErasureCertificate::from_json(&certificate.to_json().unwrap()).unwrap(),
        certificate
    );

    // The held record is kept and still readable (now under the tenant key) ...
    assert_eq!(
        attachments.open(tenant, &a2, "file_name").unwrap(),
        "burnt-printer.jpg"
    );
    assert!(
        !String::from_utf8_lossy(&attachments.envelope(tenant, &a2, "file_name").unwrap())
            .contains("burnt-printer")
    );
    // ... while its old copy under her key, in a backup, is not.
    assert!(matches!(
        vault.open(&SealedSource::ctx(tenant, &a2, "file_name"), &a2_backup),
        Err(custodia_crypt::Error::Shredded { .. })
    ));
    assert!(attachments.inner.get(tenant, &a1).is_none());
    assert!(tickets.inner.get(tenant, &t1).is_none());
    assert!(contacts.inner.get(tenant, &c1).is_none());
    // Bob is untouched.
    assert_eq!(
        contacts.open(tenant, &c2, "email").unwrap(),
        "bob@example.com"
    );

    // Her encrypted fields, wherever a copy survives (a backup), are unreadable.
    let shredded = |r: Result<Vec<u8>, custodia_crypt::Error>| {
        matches!(r, Err(custodia_crypt::Error::Shredded { .. }))
    };
    assert!(shredded(vault.open(
        &SealedSource::ctx(tenant, &t1, "description"),
        &ticket_envelope
    )));
    assert!(shredded(vault.open(
        &SealedSource::ctx(tenant, &c1, "email"),
        &email_envelope
    )));

    // Her personal data in the audit log is unreadable too ...
    let her_events = trail.with_log(|log| {
        log.query(&Query::new().tenant(tenant).subject(alice))
            .unwrap()
    });
    let mut erased_values = 0;
    for (_, event) in &her_events {
        let id = event.id.to_string();
        if let Some(ip) = &event.actor.ip {
            assert_eq!(
                open_value(vault.as_ref(), tenant, &id, "actor.ip", ip).unwrap(),
                Revealed::Erased
            );
            erased_values += 1;
        }
        for (i, change) in event.changes.iter().enumerate() {
            for (path, value) in [("before", &change.before), ("after", &change.after)] {
                if let Some(value @ Personal::Sealed { .. }) = value {
                    assert_eq!(
                        open_value(
                            vault.as_ref(),
                            tenant,
                            &id,
                            &format!("changes.{i}.{path}"),
                            value
                        )
                        .unwrap(),
                        Revealed::Erased
                    );
                    erased_values += 1;
                }
            }
        }
    }
    assert_eq!(erased_values, 4); // login IP, update IP, phone before and after
    // ... and shows as erased in what she (or an auditor) reads back.
    let history = trail.rendered_events(tenant, alice).unwrap();
    let login = history.iter().find(|e| e.action == "login").unwrap();
    assert_eq!(login.details["ip"], ERASED);
    assert_eq!(login.details["user_agent"], ERASED);
    assert_eq!(login.details["erased"], "actor.ip,actor.user_agent");
    let update = history
        .iter()
        .find(|e| e.action == "update" && e.target == "contact C-1017")
        .unwrap();
    assert_eq!(update.details["phone.before"], ERASED);
    assert_eq!(update.details["phone.after"], ERASED);
    assert!(!format!("{history:?}").contains("198.51.100.23"));
    // The erasure's own record survives her erasure: what was kept, and why.
    let kept_event = history
        .iter()
        .find(|e| e.target == "attachment A-2")
        .expect("the kept record is audited");
    assert_eq!(kept_event.action, "erase");
    assert_eq!(kept_event.details["outcome"], "denied");
    assert!(
        kept_event.details["note"].contains("legal_claims"),
        "{:?}",
        kept_event.details
    );
    assert!(history.iter().any(|e| e.target.starts_with("subject_key")));
    let resealed = history
        .iter()
        .find(|e| e.action == "dsr.records_resealed")
        .expect("the re-sealing is audited");
    assert_eq!(resealed.target, "dsr.source attachments");
    assert!(
        resealed.details["note"].contains("A-2"),
        "{:?}",
        resealed.details
    );
    assert!(!resealed.details["note"].contains("burnt-printer"));
    // Bob's audit data stays readable.
    let bobs = trail.rendered_events(tenant, bob).unwrap();
    assert_eq!(bobs[0].details["ip"], "203.0.113.7");

    // The log still verifies end to end, and extends the checkpoint taken before.
    let store = trail.with_log(|log| {
        log.check_checkpoint("audit.example.com/acme", &trusted)
            .unwrap();
        assert!(log.len() > trusted.size);
        log.store().clone()
    });
    let report = custodia_audit::verify(store, Some(("audit.example.com/acme", &trusted))).unwrap();
    assert_eq!(report.checkpoint_size, Some(trusted.size));
    // Each of her events still proves into the current tree.
    trail.with_log(|log| {
        for (index, event) in &her_events {
            log.prove(*index).unwrap().verify_event(event).unwrap();
        }
    });

    // Erasing again is safe and returns the same certificate.
    assert_eq!(desk.erase(&mut erase, dpo).unwrap(), certificate);

    // --- Breach scoping from the same log: who did the agent's account touch?
    let affected = trail
        .affected(&Query::new().actor(agent), at(2, 11, 0), at(2, 12, 0))
        .unwrap();
    assert_eq!(affected.tenants().into_iter().collect::<Vec<_>>(), [tenant]);
    assert_eq!(affected.subject_count(), 2);
    assert_eq!(affected.events, 2);
    // The desk's own events (the DPO answering requests) are not "touches".
    let by_dpo = trail
        .affected(&Query::new().actor(dpo), at(3, 1, 0), at(3, 2, 0))
        .unwrap();
    assert_eq!(by_dpo.events, 0);
}

/// The second case: the held record's source cannot re-seal it, so the
/// subject key must survive until the hold is released; the scheduled
/// re-run then erases the record and shreds the key.
#[test]
fn a_source_that_cannot_reseal_defers_the_shred_until_release() {
    let clock = Arc::new(ManualClock::new(at(3, 1, 9)));
    let vault: Arc<Vault> = Arc::new(SubjectVault::new(
        Arc::new(Keyring::new(SecretKey::generate().unwrap())),
        MemoryKeyStore::default(),
        clock.clone(),
    ));
    let tenant = TenantId::from_external_key("billing.account", "ACME-0042");
    let alice = SubjectId::from_external_key(tenant, "psa.contact", "1017");
    let dpo = ActorId::from_external_key(tenant, "psa.user", "dpo");
    let tickets = Arc::new(SealedSource::new("tickets", vault.clone()));
    let t1 = RecordRef::new("ticket", "T-1");
    tickets.insert(
        tenant,
        alice,
        t1.clone(),
        &[(
            "description",
            DataCategory::USER_CONTENT_TICKET,
            "Printer on fire",
            true,
        )],
    );
    // No keyring: this store cannot re-seal.
    let attachments = Arc::new(SealedSource::new("attachments", vault.clone()));
    let a2 = RecordRef::new("attachment", "A-2");
    attachments.insert(
        tenant,
        alice,
        a2.clone(),
        &[(
            "file_name",
            DataCategory::USER_CONTENT_TICKET,
            "burnt-printer.jpg",
            true,
        )],
    );
    let trail = Arc::new(AuditTrail::new(
        AuditLog::open(MemoryStore::new()).unwrap(),
        vault.clone(),
    ));
    trail.with_log(|log| {
        log.append_sealed(&vault, alices_login(tenant, alice, clock.as_ref()))
            .unwrap();
    });
    let policy = Arc::new(RetentionPolicy::from_toml(POLICY, "helpdesk.toml").unwrap());
    let retention = Arc::new(PolicyRetention::new(policy, clock.clone()));
    let holds = Arc::new(Releasable {
        held: AtomicBool::new(true),
        inner: retention.clone(),
    });
    let desk = Desk::new(clock.clone(), trail.clone())
        .with_source(tickets.clone())
        .unwrap()
        .with_source(attachments.clone())
        .unwrap()
        .with_retention(holds.clone())
        .with_backup_horizon(retention)
        .with_key_shredder(vault.clone())
        .with_audit_history(trail.clone());
    let signer = checkpoint::Signer::generate("audit.example.com/acme").unwrap();
    let note = trail
        .with_log(|log| log.checkpoint("audit.example.com/acme", &signer))
        .unwrap();
    let trusted = checkpoint::open(&note, &signer.verifier(), "audit.example.com/acme").unwrap();
    let ticket_backup = tickets.envelope(tenant, &t1, "description").unwrap();
    let login_ip = || {
        trail
            .rendered_events(tenant, alice)
            .unwrap()
            .into_iter()
            .find(|e| e.action == "login")
            .unwrap()
            .details["ip"]
            .clone()
    };

    let mut erase = desk
        .receive(tenant, alice, RequestKind::Erasure, Role::Controller, dpo)
        .unwrap();
    desk.verify(
        &mut erase,
        VerificationMethod::AuthenticatedSession,
        "",
        dpo,
    )
    .unwrap();
    let certificate = desk.erase(&mut erase, dpo).unwrap();
    // Deferred, listing only the record that needs the key, saying why.
    assert_eq!(certificate.erased.len(), 1);
    assert_eq!(certificate.kept.len(), 1);
    assert!(certificate.kept[0].reason.contains("case-2026-17"));
    assert_eq!(
        certificate.kept[0].subject_key,
        KeptKey::Needed {
            why: Some("the source cannot re-seal it".into())
        }
    );
    match &certificate.subject_key {
        SubjectKeyStatus::Deferred {
            blocking, until, ..
        } => {
            assert_eq!(
                blocking,
                &[BlockingRecord {
                    source: "attachments".into(),
                    record: a2.clone()
                }]
            );
            assert_eq!(*until, None);
        }
        other => panic!("{other:?}"),
    }
    // The held record stays readable, and so (the cost of the deferral) does
    // what else is sealed under her key, audit values included.
    assert_eq!(
        attachments.open(tenant, &a2, "file_name").unwrap(),
        "burnt-printer.jpg"
    );
    assert_eq!(login_ip(), "198.51.100.23");
    assert!(
        vault
            .open(
                &SealedSource::ctx(tenant, &t1, "description"),
                &ticket_backup
            )
            .is_ok()
    );

    // The scheduled run while the hold applies: still deferred, one event.
    clock.advance(custodia_core::chrono::TimeDelta::days(1));
    let size = trail.with_log(|log| log.len());
    let mut store = vec![erase];
    let reports = desk.resume_deferred_erasures(&mut store, dpo);
    assert!(matches!(
        reports[0].outcome,
        Ok(Resumed::StillDeferred { changed: false, .. })
    ));
    assert_eq!(trail.with_log(|log| log.len()), size + 1);

    // The hold is released: the next scheduled run erases A-2 and shreds.
    holds.held.store(false, Ordering::SeqCst);
    clock.advance(custodia_core::chrono::TimeDelta::days(1));
    let reports = desk.resume_deferred_erasures(&mut store, dpo);
    let Ok(Resumed::Shredded(done)) = &reports[0].outcome else {
        panic!("{:?}", reports[0].outcome)
    };
    assert!(done.kept.is_empty());
    assert_eq!(done.erased.len(), 2);
    assert!(attachments.inner.get(tenant, &a2).is_none());
    assert_eq!(login_ip(), ERASED);
    assert!(matches!(
        vault.open(
            &SealedSource::ctx(tenant, &t1, "description"),
            &ticket_backup
        ),
        Err(custodia_crypt::Error::Shredded { .. })
    ));
    // Nothing is deferred any more; the log verifies against the checkpoint.
    assert!(desk.resume_deferred_erasures(&mut store, dpo).is_empty());
    let store = trail.with_log(|log| {
        log.check_checkpoint("audit.example.com/acme", &trusted)
            .unwrap();
        log.store().clone()
    });
    let report = custodia_audit::verify(store, Some(("audit.example.com/acme", &trusted))).unwrap();
    assert_eq!(report.checkpoint_size, Some(trusted.size));
}
