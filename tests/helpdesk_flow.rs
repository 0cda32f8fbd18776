//! The helpdesk example's flow, run with assertions: the same code as
//! `cargo run --example helpdesk` (`examples/helpdesk/flow.rs`).

#![cfg(all(
    feature = "tenant",
    feature = "crypt",
    feature = "mask",
    feature = "retention",
    feature = "dsr"
))]

// The example prints the steps; this test reads the facts: each uses part of the API.
#[allow(dead_code)]
#[path = "../examples/helpdesk/flow.rs"]
mod flow;

use std::sync::OnceLock;

use custodia::core::chrono::TimeDelta;
use custodia::dsr::SubjectKeyStatus;
use custodia::retention::Disposition;
use custodia::tenant::access::FieldAccess;

/// The flow runs once; every test reads its report.
fn report() -> &'static flow::Report {
    static REPORT: OnceLock<(tempfile::TempDir, flow::Report)> = OnceLock::new();
    &REPORT
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let report = flow::run(dir.path()).unwrap();
            (dir, report)
        })
        .1
}

#[test]
fn every_step_reports_something() {
    let r = report();
    let numbers: Vec<u8> = r.steps.iter().map(|s| s.number).collect();
    assert_eq!(numbers, (1..=9).collect::<Vec<_>>());
    assert!(r.steps.iter().all(|s| !s.lines.is_empty()));
    let text = r.to_string();
    assert!(text.contains("Merkle log arrives with the custodia-audit crate"));
}

#[test]
fn transfers_follow_the_uk_list() {
    let allowed: Vec<bool> = report().transfers.iter().map(|d| d.allowed()).collect();
    // AU→AU same region; UK→US denied without the data bridge, allowed with it.
    assert_eq!(allowed, [true, false, true]);
}

#[test]
fn blind_index_finds_the_contacts_tickets_and_the_row_is_ciphertext() {
    let r = report();
    assert_eq!(r.lookup_found, ["T-1001", "T-1002"]);
    assert_eq!(r.lookup_decrypted.as_deref(), Some("Alice.Ng@example.com"));
    // The stored column is an envelope, not the address in any spelling.
    let raw = String::from_utf8_lossy(&r.raw_email_column).to_lowercase();
    assert!(!r.raw_email_column.is_empty());
    assert!(!raw.contains("alice"));
    assert!(!raw.contains("example.com"));
}

#[test]
fn only_masked_text_leaves_for_the_summariser() {
    let r = report();
    let (body, email, phone) = &r.ai_original;
    assert!(body.contains(phone) && body.to_lowercase().contains(&email.to_lowercase()));
    let sent = r.ai_sent.to_lowercase();
    assert!(!sent.contains(&email.to_lowercase()));
    assert!(!sent.contains("alice.ng@example.com"));
    assert!(!r.ai_sent.contains(phone.as_str()));
    assert!(!r.ai_sent.contains("412 345 678"));
    assert!(!r.ai_sent.contains("Alice Ng"));
    assert!(!r.ai_sent.contains("10.20.30.40"));
    assert!(r.ai_sent.contains("<EMAIL_1>") && r.ai_sent.contains("<PHONE_1>"));
    // The reply comes back with tokens; the agent sees the real values.
    assert!(!r.ai_reply.contains(phone.as_str()));
    assert!(r.ai_reply_for_agent.contains(phone.as_str()));
    assert!(r.ai_reply_for_agent.contains("Alice Ng"));
}

#[test]
fn agent_reads_the_ticket_but_not_the_hidden_phone() {
    let r = report();
    assert!(r.agent_read.allowed);
    assert_eq!(r.agent_phone.access, FieldAccess::Hidden);
    assert!(r.agent_view_fields.iter().any(|f| f == "email"));
    assert!(!r.agent_view_fields.iter().any(|f| f == "phone"));
}

#[test]
fn another_tenants_agent_is_refused() {
    let r = report();
    assert!(r.other_tenant_refusal.is_cross_tenant());
    assert!(!r.other_tenant_refusal.to_string().contains("VPN"));
}

#[test]
fn sweep_plans_the_expected_actions() {
    let sweep = &report().sweep;
    let planned: Vec<(&str, Disposition)> = sweep
        .items
        .iter()
        .map(|i| (i.id.as_str(), i.action))
        .collect();
    assert_eq!(
        planned,
        [
            ("T-1001", Disposition::Anonymize),
            ("T-1003", Disposition::Delete),
            ("T-1004", Disposition::Review),
        ]
    );
    assert_eq!((sweep.examined, sweep.kept, sweep.held), (6, 3, 0));
}

#[test]
fn export_bundle_holds_the_subjects_tickets_only() {
    let r = report();
    let ids: Vec<&str> = r.export.records.iter().map(|x| x.id.as_str()).collect();
    assert_eq!(ids, ["T-1001", "T-1002"]);
    assert_eq!(r.export.subject, r.erased_subject);
    let emails: Vec<&str> = r
        .export
        .records
        .iter()
        .flat_map(|x| &x.fields)
        .filter(|f| f.name == "email")
        .map(|f| f.value.as_str())
        .collect();
    assert_eq!(emails, ["Alice.Ng@example.com", "Alice.Ng@example.com"]);
}

#[test]
fn erasure_shreds_the_key_so_the_backup_copy_is_unreadable() {
    let r = report();
    assert_eq!(
        r.backup_after_erasure,
        Err(custodia::crypt::Error::Shredded {
            subject: r.erased_subject
        })
    );
    assert_eq!(r.located_after_erasure, 0);
    assert_eq!(r.certificate.erased.len(), 2);
    assert!(matches!(
        r.certificate.subject_key,
        SubjectKeyStatus::Shredded { .. }
    ));
    let issued = r.certificate.issued_at;
    assert_eq!(
        r.certificate.backups_clear_by,
        Some(issued + TimeDelta::days(30))
    );
    // Other people's data is untouched.
    assert_eq!(
        r.other_contact_after_erasure.as_deref(),
        Some("bob.li@example.org")
    );
}

#[test]
fn breach_deadline_is_awareness_plus_72_hours() {
    let r = report();
    assert_eq!(
        r.incident.authority_deadline(),
        r.incident.aware_at + TimeDelta::hours(72)
    );
    assert_eq!(r.incident.approx_subjects, 1);
}

#[test]
fn audit_trail_records_changes_without_personal_values() {
    let r = report();
    let actions: Vec<&str> = r.audit.iter().map(|e| e.action.as_str()).collect();
    for expected in [
        "ticket.created",
        "ai.sent",
        "access.denied",
        "dsr.request_received",
        "dsr.subject_key_shredded",
        "dsr.certificate_issued",
        "dsr.breach_recorded",
    ] {
        assert!(
            actions.contains(&expected),
            "missing {expected} in {actions:?}"
        );
    }
    for entry in &r.audit {
        let detail = entry.detail.to_lowercase();
        for value in ["alice", "example.com", "412 345", "vpn"] {
            assert!(!detail.contains(value), "{value} in {detail}");
        }
    }
}
