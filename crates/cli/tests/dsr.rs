//! `custodia dsr export|erase` over a helpdesk data directory, seeded with
//! the example's tickets (custodia-helpdesk's `demo::seed`).

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use custodia_core::ManualClock;
use custodia_example_helpdesk::demo::{self, Cast};

fn custodia(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_custodia"))
        .args(args)
        .output()
        .unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh data directory with the example's six tickets and Alice's portal
/// sign-in. The helpdesk is closed (its log lock released) on return.
fn seeded() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(demo::start_time()));
    drop(demo::seed(dir.path(), clock).unwrap());
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

#[test]
fn export_writes_the_subjects_bundle_and_nobody_elses() {
    let data = seeded();
    let out_dir = data.path().join("alice-export");
    let c = Cast::new();
    let tenant = c.acme.to_string();
    let o = custodia(&[
        "dsr",
        "export",
        "--data",
        s(data.path()),
        "--tenant",
        &tenant,
        "--email",
        " ALICE.NG@example.com",
        "--out",
        s(&out_dir),
    ]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains(&c.alice.to_string()), "{}", out(&o));
    assert!(out(&o).contains("T-1001, T-1002"), "{}", out(&o));

    let bundle = read(&out_dir.join("bundle.json"));
    let csv = read(&out_dir.join("tickets-ticket.csv"));
    let audit = read(&out_dir.join("audit-events.csv"));
    let manifest: serde_json::Value =
        serde_json::from_str(&read(&out_dir.join("manifest.json"))).unwrap();
    for text in [&bundle, &csv] {
        assert!(text.contains("Alice.Ng@example.com"));
        assert!(text.contains("VPN keeps dropping"));
        // Not Bob's, not Priya's.
        assert!(!text.contains("bob.li@example.org"));
        assert!(!text.contains("Priya"));
        assert!(!text.contains("T-1004"));
    }
    // Her portal sign-in, opened with her key.
    assert!(audit.contains(demo::ALICE_PORTAL_IP), "{audit}");
    assert_eq!(manifest["subject"], c.alice.to_string());
    assert_eq!(manifest["sources"][0]["records"], 2);
    let files: Vec<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    for f in &files {
        assert!(out_dir.join(f).is_file(), "{f} listed but missing");
    }
    assert!(files.contains(&"tickets-ticket.csv"));

    // JSON summary, default output directory inside DATA/exports.
    let o = custodia(&[
        "dsr",
        "export",
        "--data",
        s(data.path()),
        "--tenant",
        &c.globex.to_string(),
        "--subject",
        &c.priya.to_string(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let summary: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(summary["records"], 2);
    let dir = Path::new(summary["out"].as_str().unwrap());
    assert!(dir.starts_with(data.path().join("exports")));
    assert!(read(&dir.join("bundle.json")).contains("priya.shah@example.co.uk"));
}

#[test]
fn erase_prints_the_certificate_and_the_log_still_verifies() {
    let data = seeded();
    let c = Cast::new();
    let tenant = c.acme.to_string();
    let alice = c.alice.to_string();
    let dir = s(data.path());
    let o = custodia(&[
        "dsr",
        "erase",
        "--data",
        dir,
        "--tenant",
        &tenant,
        "--subject",
        &alice,
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    assert!(text.contains("erased: 2"), "{text}");
    assert!(text.contains("T-1001") && text.contains("T-1002"), "{text}");
    assert!(text.contains("kept: 0"), "{text}");
    assert!(text.contains("subject key: shredded at"), "{text}");
    assert!(text.contains("backups clear by: 20"), "{text}");

    // Nothing of hers is left to export; her sign-in IP is unreadable.
    let out_dir = data.path().join("after");
    let o = custodia(&[
        "dsr",
        "export",
        "--data",
        dir,
        "--tenant",
        &tenant,
        "--subject",
        &alice,
        "--out",
        s(&out_dir),
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let bundle: serde_json::Value =
        serde_json::from_str(&read(&out_dir.join("bundle.json"))).unwrap();
    assert_eq!(bundle["records"].as_array().unwrap().len(), 0);
    let audit = read(&out_dir.join("audit-events.csv"));
    assert!(!audit.contains(demo::ALICE_PORTAL_IP), "{audit}");
    assert!(audit.contains("[erased]"), "{audit}");
    // Her email is gone from the blind index too.
    let o = custodia(&[
        "dsr",
        "export",
        "--data",
        dir,
        "--tenant",
        &tenant,
        "--email",
        demo::ALICE_EMAIL,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));

    // The log verifies, and extends the checkpoint taken before the erasure.
    let audit_dir = data.path().join("audit");
    let o = custodia(&["audit", "verify", s(&audit_dir)]);
    assert!(o.status.success(), "{}", err(&o));
    let checkpoint = std::fs::read_dir(data.path().join("checkpoints"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(text.contains(s(&checkpoint)), "{text}");
    let key = data.path().join("checkpoint.pub");
    let o = custodia(&[
        "audit",
        "verify",
        s(&audit_dir),
        "--checkpoint",
        s(&checkpoint),
        "--key",
        s(&key),
    ]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("signature verified"), "{}", out(&o));
}

#[test]
fn erase_keeps_what_the_policy_keeps_and_says_why() {
    let data = seeded();
    let c = Cast::new();
    let o = custodia(&[
        "dsr",
        "erase",
        "--data",
        s(data.path()),
        "--tenant",
        &c.globex.to_string(),
        "--email",
        "priya.shah@example.co.uk",
        "--json",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    // One JSON document on one line.
    assert_eq!(out(&o).lines().count(), 1, "{}", out(&o));
    let cert: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(cert["schema"], "custodia.dsr.erasure_certificate");
    let checkpoint = Path::new(cert["checkpoint"].as_str().unwrap());
    assert!(checkpoint.starts_with(data.path().join("checkpoints")));
    assert!(checkpoint.is_file());
    assert_eq!(cert["subject"], c.priya.to_string());
    let erased: Vec<&str> = cert["erased"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["record"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(erased, ["T-2001"]);
    // The closed ticket is within its 3-year warranty retention.
    let kept = &cert["kept"][0];
    assert_eq!(kept["record"]["id"], "T-2002");
    assert_eq!(kept["exception"], "legal_claims");
    assert!(kept["reason"].as_str().unwrap().contains("closed-tickets"));
    assert!(kept["until"].as_str().unwrap().starts_with("2029-10-01"));
    // The store re-sealed the kept ticket under the tenant's key, so her own
    // key did not have to wait for the retention to end.
    assert_eq!(kept["subject_key"]["status"], "resealed", "{kept}");
    assert_eq!(cert["records_resealed"], 1);
    assert_eq!(cert["subject_key"]["status"], "shredded", "{cert}");
    let o = custodia(&["audit", "verify", s(&data.path().join("audit"))]);
    assert!(o.status.success(), "{}", err(&o));

    // The kept ticket is still hers and still readable: an access request
    // after the erasure returns it, and nothing else.
    let o = custodia(&[
        "dsr",
        "export",
        "--data",
        s(data.path()),
        "--tenant",
        &c.globex.to_string(),
        "--subject",
        &c.priya.to_string(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let summary: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(summary["records"], 1, "{summary}");
    let bundle = read(&Path::new(summary["out"].as_str().unwrap()).join("bundle.json"));
    assert!(bundle.contains("T-2002"), "{bundle}");
    assert!(bundle.contains("priya.shah@example.co.uk"), "{bundle}");
}

#[test]
fn bad_input_exits_2_with_a_reason() {
    let data = seeded();
    let c = Cast::new();
    let dir = s(data.path());
    let acme = c.acme.to_string();
    let alice = c.alice.to_string();
    let missing = data.path().join("missing");
    let empty = tempfile::tempdir().unwrap();
    let stranger =
        custodia_core::SubjectId::from_external_key(c.acme, "psa.contact", "9999").to_string();
    let other_tenant =
        custodia_core::TenantId::from_external_key("billing.account", "NOBODY").to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "export",
                "--data",
                s(&missing),
                "--tenant",
                &acme,
                "--subject",
                &alice,
            ],
            "not a directory",
        ),
        (
            vec![
                "erase",
                "--data",
                s(empty.path()),
                "--tenant",
                &acme,
                "--subject",
                &alice,
            ],
            "not a helpdesk data directory",
        ),
        (
            vec![
                "export",
                "--data",
                dir,
                "--tenant",
                &acme,
                "--subject",
                &stranger,
            ],
            "unknown subject",
        ),
        (
            vec![
                "erase",
                "--data",
                dir,
                "--tenant",
                &other_tenant,
                "--subject",
                &alice,
            ],
            "unknown tenant",
        ),
        (
            vec![
                "export",
                "--data",
                dir,
                "--tenant",
                &acme,
                "--email",
                "nobody@example.com",
            ],
            "no contact",
        ),
        (
            vec![
                "export",
                "--data",
                dir,
                "--tenant",
                &acme,
                "--subject",
                &alice,
                "--email",
                "a@b.c",
            ],
            "cannot be used with",
        ),
        (vec!["erase", "--data", dir, "--tenant", &acme], "required"),
        (
            vec![
                "export",
                "--data",
                dir,
                "--tenant",
                "not-a-uuid",
                "--subject",
                &alice,
            ],
            "tenant",
        ),
    ];
    for (args, reason) in cases {
        let mut full = vec!["dsr"];
        full.extend(&args);
        let o = custodia(&full);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", out(&o));
        assert!(err(&o).contains(reason), "{args:?}: {}", err(&o));
    }
    // Nothing was erased by the failed calls.
    let o = custodia(&[
        "dsr",
        "export",
        "--data",
        dir,
        "--tenant",
        &acme,
        "--subject",
        &alice,
    ]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("T-1001, T-1002"), "{}", out(&o));
}

#[test]
fn help_documents_the_exit_codes() {
    for sub in ["export", "erase", ""] {
        let args: Vec<&str> = ["dsr", sub, "--help"]
            .into_iter()
            .filter(|a| !a.is_empty())
            .collect();
        let o = custodia(&args);
        assert!(o.status.success());
        let text = out(&o);
        assert!(
            text.contains("Exit codes: 0 ok; 2 usage or input error"),
            "{text}"
        );
        if !sub.is_empty() {
            assert!(text.contains("--email"), "{text}");
            assert!(text.contains("one line of JSON"), "{text}");
        }
    }
}

#[test]
fn audit_export_opens_the_helpdesk_keyring_and_shows_the_erasure() {
    let data = seeded();
    let c = Cast::new();
    let export = || {
        custodia(&[
            "audit",
            "export",
            s(&data.path().join("audit")),
            "--subject",
            &c.alice.to_string(),
            "--master-key",
            s(&data.path().join("root.key")),
            "--subject-keys",
            s(&data.path().join("keys.store")),
        ])
    };
    // The example's key store holds random, wrapped tenant keys: the
    // exporter opens the store's own keyring and her sign-in IP reads back.
    let o = export();
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains(demo::ALICE_PORTAL_IP), "{}", out(&o));

    let o = custodia(&[
        "dsr",
        "erase",
        "--data",
        s(data.path()),
        "--tenant",
        &c.acme.to_string(),
        "--subject",
        &c.alice.to_string(),
    ]);
    assert!(o.status.success(), "{}", err(&o));
    // After the erasure her events are still listed, her IP no longer.
    let o = export();
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("login"), "{}", out(&o));
    assert!(!out(&o).contains(demo::ALICE_PORTAL_IP), "{}", out(&o));
}
