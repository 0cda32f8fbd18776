//! With feature `tracing`: a span per Custodia operation, with counts and
//! timings, and never a personal value in what a subscriber writes.
#![cfg(all(
    feature = "tracing",
    feature = "crypt",
    feature = "mask",
    feature = "audit"
))]

use std::io::{Read as _, Seek as _};
use std::sync::Arc;

use custodia::audit::personal::seal_event;
use custodia::audit::{
    Action, Actor, ActorKind, AuditLog, Event, FieldChange, MemoryStore, Target,
};
use custodia::core::{ActorId, DataCategory, ManualClock, SubjectId, TenantId};
use custodia::crypt::{FieldContext, Keyring, MemoryKeyStore, SecretKey, SubjectVault};
use custodia::mask::{Detector, Masker};
use tracing_subscriber::fmt::format::FmtSpan;

/// What a TRACE-level subscriber printing span closes wrote while `run` ran.
fn traced(run: impl FnOnce()) -> String {
    // A file, since the subscriber's writer must outlive the closure.
    let mut written = tempfile::tempfile().unwrap();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(written.try_clone().unwrap())
        .finish();
    tracing::subscriber::with_default(subscriber, run);
    let mut log = String::new();
    written.rewind().unwrap();
    written.read_to_string(&mut log).unwrap();
    assert!(log.contains("time.busy"), "no timings in {log}");
    log
}

fn assert_spans(log: &str, spans: &[&str]) {
    for span in spans {
        assert!(log.contains(span), "no {span} in {log}");
    }
}

fn assert_no_values(log: &str, values: &[&str]) {
    for value in values {
        assert!(!log.contains(value), "{value} leaked into {log}");
    }
}

#[test]
fn masking_spans_carry_counts_not_values() {
    let ticket = "Hi Sarah Whitfield, card 4111 1111 1111 1111, mail sarah.w@example.com";
    let log = traced(|| {
        let masked = Masker::new(Detector::new()).mask(ticket).unwrap();
        assert_eq!(masked.report.total(), 3);
        let mut out = Vec::new();
        Masker::new(Detector::new())
            .mask_stream(ticket.as_bytes(), &mut out, None, None)
            .unwrap();
    });
    assert_spans(
        &log,
        &[
            "custodia.mask.detect",
            "custodia.mask.apply",
            "custodia.mask.stream",
        ],
    );
    assert!(log.contains("findings=3"), "{log}");
    assert_no_values(&log, &["Sarah", "Whitfield", "4111", "example.com"]);
}

#[test]
fn crypt_and_audit_spans_carry_sizes_not_values() {
    let clock = Arc::new(ManualClock::new(
        custodia::core::chrono::DateTime::from_timestamp(1_780_000_000, 0).unwrap(),
    ));
    let tenant = TenantId::from_external_key("crm", "ACME");
    let subject = SubjectId::from_external_key(tenant, "psa.contact", "alice");
    let agent = ActorId::from_external_key(tenant, "psa.user", "agent-7");
    let keyring = Arc::new(Keyring::new(SecretKey::from_bytes([7; 32])));
    let vault = SubjectVault::new(keyring.clone(), MemoryKeyStore::default(), clock.clone());
    let ctx = FieldContext::new(tenant, "ticket", "T-1", "email").unwrap();
    let email = "alice.whitfield@example.com";
    let log = traced(|| {
        let sealed = keyring.seal(&ctx, email.as_bytes()).unwrap();
        assert_eq!(keyring.open(&ctx, &sealed).unwrap(), email.as_bytes());
        let personal = vault.seal(subject, &ctx, email.as_bytes()).unwrap();
        assert_eq!(vault.open(&ctx, &personal).unwrap(), email.as_bytes());
        assert_eq!(keyring.rotate(SecretKey::from_bytes([8; 32])).unwrap(), 2);

        let mut event = Event::builder(
            tenant,
            Actor::new(ActorKind::Agent, agent).with_ip("198.51.100.23"),
            Action::Update,
            Target::new("contact", "C-1").unwrap(),
        )
        .subject(subject)
        .change(FieldChange::new(
            "email",
            DataCategory::USER_CONTACT_EMAIL,
            None,
            Some(email.into()),
        ))
        .build(clock.as_ref())
        .unwrap();
        seal_event(&vault, &mut event).unwrap();
        let mut audit = AuditLog::open(MemoryStore::new()).unwrap();
        audit.append(&event).unwrap();
        audit.append_batch(&[event.clone(), event]).unwrap();
        vault.shred(tenant, subject, agent).unwrap();
        assert!(vault.open(&ctx, &personal).is_err());
    });
    assert_spans(
        &log,
        &[
            "custodia.crypt.seal",
            "custodia.crypt.open",
            "custodia.crypt.subject.seal",
            "custodia.crypt.subject.open",
            "custodia.crypt.subject.shred",
            "custodia.crypt.rotate",
            "custodia.audit.verify",
            "custodia.audit.append",
        ],
    );
    assert!(log.contains(&format!("bytes={}", email.len())), "{log}");
    assert!(log.contains("version=2"), "{log}");
    assert!(log.contains("events=2"), "{log}");
    assert_no_values(
        &log,
        &[
            "alice",
            "example.com",
            "198.51.100.23",
            &subject.to_string(),
            &tenant.to_string(),
        ],
    );
}
