//! The helpdesk example's flow, run with assertions: the same code as
//! `cargo run --example helpdesk` (the package's `flow` module).

use std::sync::OnceLock;

use custodia_example_helpdesk::flow;

use custodia_core::chrono::TimeDelta;
use custodia_dsr::SubjectKeyStatus;
use custodia_example_helpdesk::audit::{Action, Outcome};
use custodia_retention::Disposition;
use custodia_tenant::access::FieldAccess;

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
    assert!(text.contains("verified end to end"));
    assert!(!text.contains("FAILED"));
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
            ("T-1004", Disposition::Anonymize),
        ]
    );
    assert_eq!((sweep.examined, sweep.kept, sweep.held), (6, 3, 0));
    // Deletions are carried out, and audited by the retention job.
    assert_eq!(report().sweep_deleted, ["T-1003"]);
    let deleted: Vec<&str> = report()
        .audit
        .iter()
        .filter(|e| e.action == Action::Delete)
        .map(|e| e.target.id.as_str())
        .collect();
    assert_eq!(deleted, ["T-1003"]);
}

#[test]
fn the_policy_file_drives_sweep_and_erasure() {
    let r = report();
    // The example ships its policy; the data directory holds the copy in use.
    let shipped = include_str!("../retention.toml");
    let in_use = std::fs::read_to_string(r.dir.join("retention.toml")).unwrap();
    assert_eq!(in_use, shipped);
    // Nothing of Alice's was kept: the closed ticket's retention expired.
    assert!(r.certificate.kept.is_empty());
    // The backup horizon is the policy's `[backups] keep = "30d"`.
    assert_eq!(
        r.certificate.backups_clear_by,
        Some(r.certificate.issued_at + TimeDelta::days(30))
    );
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
        Err(custodia_crypt::Error::Shredded {
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
fn erasure_leaves_the_audit_log_verifiable_and_her_ip_unreadable() {
    let r = report();
    // Before: her access bundle showed the IP of her portal sign-in.
    assert_eq!(r.login_ip_in_export.as_deref(), Some("198.51.100.23"));
    // After: the same event renders the IP as erased.
    assert_eq!(
        r.login_ip_after_erasure.as_deref(),
        Some(custodia_dsr::ERASED)
    );
    // The log still verifies from disk, and extends the pre-erasure checkpoint.
    let size = *r.log_after_erasure.as_ref().unwrap();
    assert!(size > r.checkpoint.size);
    assert_eq!(r.checkpoint_after_erasure, Ok(()));
    assert!(r.checkpoint.path.starts_with(&r.dir));
    assert!(r.checkpoint.note.starts_with("helpdesk.example/audit\n"));
    // The sealed IP bytes are still in the log (nothing was rewritten).
    let login = r.audit.iter().find(|e| e.action == Action::Login).unwrap();
    assert!(login.actor.ip.as_ref().unwrap().is_sealed());
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
fn audit_log_records_changes_without_personal_values_in_the_clear() {
    let r = report();
    let actions: Vec<&str> = r.audit.iter().map(|e| e.action.as_str()).collect();
    for expected in [
        "create",
        "login",
        "share",
        "read",
        "delete",
        "dsr.request_received",
        "export",
        "erase",
        "dsr.certificate_issued",
        "breach.recorded",
    ] {
        assert!(
            actions.contains(&expected),
            "missing {expected} in {actions:?}"
        );
    }
    // The other tenant's refused read is there, as denied.
    assert!(r.audit.iter().any(|e| e.action == Action::Read
        && e.outcome == Outcome::Denied
        && e.target.id == "T-1002"));
    // The agent's retitle is an update whose old and new values are sealed.
    let update = r
        .audit
        .iter()
        .find(|e| e.action == Action::Update && e.target.id == "T-1002")
        .unwrap();
    assert_eq!(update.subject, Some(r.erased_subject));
    assert!(update.changes[0].before.as_ref().unwrap().is_sealed());
    assert!(update.changes[0].after.as_ref().unwrap().is_sealed());
    // The key shred is audited.
    assert!(
        r.audit
            .iter()
            .any(|e| e.target.kind == "subject_key" && e.target.id == r.erased_subject.to_string())
    );
    for event in &r.audit {
        assert!(!event.has_clear_personal_data(), "clear value in {event:?}");
        // Values with a space or a dot: never found by chance in base64 ciphertext.
        let json = serde_json::to_string(event).unwrap();
        for value in [
            "Alice Ng",
            "example.com",
            "412 345",
            "VPN keeps dropping",
            "198.51.100.23",
        ] {
            assert!(!json.contains(value), "{value} in {json}");
        }
    }
}

#[test]
fn the_data_directory_verifies_as_custodia_audit_verify_does() {
    use custodia_example_helpdesk::audit::{SegmentStore, Verifier, checkpoint, verify};
    let r = report();
    // What `custodia audit verify DIR/audit --checkpoint NOTE --key DIR/checkpoint.pub` runs.
    let key = std::fs::read_to_string(r.dir.join("checkpoint.pub")).unwrap();
    let verifier = Verifier::from_key_string(&key).unwrap();
    let note = std::fs::read_to_string(&r.checkpoint.path).unwrap();
    let origin = custodia_example_helpdesk::CHECKPOINT_ORIGIN;
    let trusted = checkpoint::open(&note, &verifier, origin).unwrap();
    let store = SegmentStore::open_read_only(r.dir.join("audit")).unwrap();
    let verified = verify(store, Some((origin, &trusted))).unwrap();
    assert_eq!(verified.checkpoint_size, Some(r.checkpoint.size));
    assert_eq!(verified.head.size, r.audit.len() as u64);
}
