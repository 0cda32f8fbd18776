//! Runs the `custodia` binary as an operator would.

use std::process::{Command, Output};

fn custodia(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_custodia"))
        .args(args)
        .output()
        .expect("the custodia binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("utf-8 output")
}

#[test]
fn id_derivation_matches_the_library() {
    let tenant = custodia(&["id", "tenant", "--system", "crm", "--key", "ACME"]);
    assert!(tenant.status.success());
    let tenant_id = stdout(&tenant).trim().to_owned();
    let expected = custodia_core::TenantId::from_external_key("crm", "ACME");
    assert_eq!(tenant_id, expected.to_string());

    let subject = custodia(&[
        "id",
        "subject",
        "--tenant",
        &tenant_id,
        "--system",
        "psa.contact",
        "--key",
        "1017",
    ]);
    assert!(subject.status.success());
    let expected = custodia_core::SubjectId::from_external_key(expected, "psa.contact", "1017");
    assert_eq!(stdout(&subject).trim(), expected.to_string());
}

#[test]
fn subject_without_tenant_is_a_usage_error() {
    let output = custodia(&["id", "subject", "--system", "crm", "--key", "1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--tenant"));
}

#[test]
fn malformed_tenant_is_an_input_error() {
    let output = custodia(&[
        "id", "actor", "--tenant", "acme", "--system", "crm", "--key", "1",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("invalid tenant id"));
}

#[test]
fn categories_filter_by_subtree_and_print_json() {
    let output = custodia(&["categories", "--within", "user.contact", "--json"]);
    assert!(output.status.success());
    let lines: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).expect("json line"))
        .collect();
    assert!(lines.len() >= 4);
    for line in &lines {
        let category = line["category"].as_str().expect("category field");
        assert!(category.starts_with("user.contact"), "{category}");
    }
}

#[test]
fn all_categories_include_both_roots_and_mark_special_ones() {
    let output = custodia(&["categories"]);
    assert!(output.status.success());
    let text = stdout(&output);
    assert!(text.lines().any(|l| l.starts_with("system.audit ")));
    assert!(
        text.lines()
            .any(|l| l.starts_with("user.health ") && l.ends_with("[special]"))
    );
}

#[test]
fn unknown_category_suggests_the_nearest() {
    let output = custodia(&["categories", "--within", "user.contakt"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("did you mean user.contact?"), "{stderr}");
}

#[test]
fn every_subcommand_has_help() {
    for args in [
        &["--help"][..],
        &["id", "--help"],
        &["categories", "--help"],
    ] {
        let output = custodia(args);
        assert!(output.status.success(), "{args:?}");
        assert!(stdout(&output).contains("Usage:"), "{args:?}");
    }
}

/// README: every subcommand that reads a stream refuses a line over 16 MiB,
/// and its `--help` says so.
#[test]
fn every_stream_subcommand_names_its_line_limit_in_help() {
    for args in [
        &["mask", "--help"][..],
        &["retention", "eval", "--help"],
        &["keys", "reencrypt", "--help"],
        &["keys", "status", "--help"],
        &["keys", "retire", "--help"],
        &["audit", "append", "--help"],
        &["dsr", "export", "--help"],
        &["dsr", "erase", "--help"],
        &["dsr", "restrict", "--help"],
    ] {
        let output = custodia(args);
        assert!(output.status.success(), "{args:?}");
        assert!(
            stdout(&output).contains("16 MiB"),
            "{args:?} --help does not name the 16 MiB line limit"
        );
    }
}

/// `dsr --audit` names an existing log: a directory that holds none (the
/// data directory `DIR` given for `DIR/audit`) is refused before anything
/// is written, instead of a new, empty log being started there, which
/// would leave files behind and export the person's audit history as
/// empty.
#[test]
fn dsr_refuses_an_audit_directory_without_a_log() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, key) = (tmp.path().join("keys.cst"), tmp.path().join("master.key"));
    let init = custodia(&[
        "keys",
        "init",
        "--store",
        store.to_str().unwrap(),
        "--write-master-key",
        key.to_str().unwrap(),
    ]);
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let tenant = custodia_core::TenantId::from_external_key("crm", "ACME").to_string();
    let subject = custodia_core::SubjectId::from_external_key(
        custodia_core::TenantId::from_external_key("crm", "ACME"),
        "contact",
        "1",
    )
    .to_string();
    for command in ["export", "erase", "restrict"] {
        let mut args = vec![
            "dsr",
            command,
            "--audit",
            data.to_str().unwrap(),
            "--master-key",
            key.to_str().unwrap(),
            "--subject-keys",
            store.to_str().unwrap(),
            "--tenant",
            &tenant,
            "--subject",
            &subject,
        ];
        if command == "erase" {
            args.extend(["--policy", "policy.toml"]);
        }
        args.extend(["--", "true"]);
        let o = custodia(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{command}: {err}");
        assert!(err.contains("holds no audit log"), "{command}: {err}");
        assert!(o.stdout.is_empty(), "{command}");
        assert_eq!(std::fs::read_dir(&data).unwrap().count(), 0, "{command}");
    }
}

/// The top-level help lists every finding that exits 1, `audit append`'s
/// and `audit recover`'s included (they print `{"ok": false, "finding"}`
/// with `--json` like the others).
#[test]
fn top_level_help_lists_every_finding() {
    let help = stdout(&custodia(&["--help"]));
    let codes = help
        .split("Exit codes:")
        .nth(1)
        .expect("an exit-code section");
    for finding in [
        "audit verify",
        "audit append",
        "audit recover",
        "retention check",
        "keys retire",
    ] {
        assert!(codes.contains(finding), "{finding} missing from:\n{codes}");
    }
}
