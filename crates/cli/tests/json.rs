//! `--json` on every subcommand, exit codes in every `--help`, `mask
//! --fail-on-find`, and progress bars that stay silent when piped.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use custodia_core::{ActorId, SubjectId, TenantId};
use serde_json::{Value, json};

fn custodia(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_custodia"))
        .args(args)
        .env_remove("CUSTODIA_MASK_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the custodia binary runs");
    // A usage error may exit before reading: a closed pipe is fine then.
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes());
    child.wait_with_output().expect("output")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The single JSON document on standard output.
fn document(o: &Output) -> Value {
    let text = out(o);
    assert_eq!(text.lines().count(), 1, "one line expected: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn data(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/retention")
        .join(name)
        .display()
        .to_string()
}

fn s(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

fn tenant() -> TenantId {
    TenantId::from_external_key("crm", "ACME")
}

/// JSONL audit events without personal values.
fn events(from: u32, to: u32) -> String {
    let actor = ActorId::from_external_key(tenant(), "user", "7");
    (from..to)
        .map(|i| {
            let subject = SubjectId::from_external_key(tenant(), "contact", &(i % 3).to_string());
            format!(
                r#"{{"tenant":"{}","actor":{{"kind":"agent","id":"{actor}"}},"action":"update","target":{{"type":"ticket","id":"T-{i}"}},"subject":"{subject}","purpose":"support"}}"#,
                tenant()
            ) + "\n"
        })
        .collect()
}

#[test]
fn id_json_names_its_inputs() {
    let o = custodia(
        &["id", "tenant", "--system", "crm", "--key", "ACME", "--json"],
        "",
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v = document(&o);
    assert_eq!(v["kind"], "tenant");
    assert_eq!(v["id"], tenant().to_string());
    assert_eq!(
        (v["system"].as_str(), v["key"].as_str()),
        (Some("crm"), Some("ACME"))
    );
    assert!(v["tenant"].is_null());

    let t = tenant().to_string();
    let o = custodia(
        &[
            "id",
            "subject",
            "--tenant",
            &t,
            "--system",
            "psa.contact",
            "--key",
            "1017",
            "--json",
        ],
        "",
    );
    let v = document(&o);
    let expected = SubjectId::from_external_key(tenant(), "psa.contact", "1017");
    assert_eq!(v["kind"], "subject");
    assert_eq!(v["id"], expected.to_string());
    assert_eq!(v["tenant"], t);

    // Errors are never JSON: nothing on stdout, the reason on stderr, exit 2.
    let o = custodia(
        &[
            "id", "actor", "--tenant", "acme", "--system", "crm", "--key", "1", "--json",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty(), "{}", out(&o));
    assert!(err(&o).contains("invalid tenant id"), "{}", err(&o));
}

#[test]
fn retention_check_json_for_valid_invalid_and_unreadable_policies() {
    let o = custodia(&["retention", "check", &data("issue.toml"), "--json"], "");
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v = document(&o);
    assert_eq!(v["ok"], true);
    assert_eq!(v["file"], data("issue.toml"));
    assert_eq!(
        (v["rules"].as_u64(), v["holds"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(v["backups"], json!({"every": "1d", "keep": "30d"}));

    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.toml");
    std::fs::write(
        &bad,
        "version = 1\n[[rule]]\nname = \"a\"\napplies_to = {}\ntrigger = \"closd\"\nretain = \"1y\"\nthen = \"delete\"\n",
    )
    .unwrap();
    let o = custodia(&["retention", "check", s(&bad), "--json"], "");
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let v = document(&o);
    assert_eq!(v["ok"], false);
    assert_eq!(
        (v["line"].as_u64(), v["column"].as_u64()),
        (Some(5), Some(11))
    );
    let finding = v["finding"].as_str().unwrap();
    assert!(finding.contains("unknown trigger \"closd\""), "{finding}");
    assert!(err(&o).contains(finding), "{}", err(&o));

    let o = custodia(
        &["retention", "check", "/nonexistent/policy.toml", "--json"],
        "",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty(), "{}", out(&o));
    assert!(err(&o).contains("cannot read"), "{}", err(&o));
}

#[test]
fn retention_eval_json_is_the_same_json_lines() {
    let args = |json: bool| {
        let mut a = vec![
            "retention".to_owned(),
            "eval".into(),
            "--policy".into(),
            data("issue.toml"),
            "--records".into(),
            data("records.jsonl"),
            "--now".into(),
            "2026-11-22T00:00:00Z".into(),
        ];
        if json {
            a.push("--json".into());
        }
        a
    };
    let run = |json: bool| {
        let a = args(json);
        custodia(&a.iter().map(String::as_str).collect::<Vec<_>>(), "")
    };
    let (plain, json) = (run(false), run(true));
    assert_eq!(json.status.code(), Some(0), "{}", err(&json));
    assert_eq!(plain.stdout, json.stdout);
    for line in out(&json).lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        for key in ["id", "action", "due", "rule", "held_by", "reason"] {
            assert!(v.get(key).is_some(), "{key} missing in {v}");
        }
    }
    // A bad --now with --json: exit 2, stderr only.
    let o = custodia(
        &[
            "retention",
            "eval",
            "--policy",
            &data("issue.toml"),
            "--records",
            "-",
            "--now",
            "soon",
            "--json",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    assert!(err(&o).contains("--now"), "{}", err(&o));
}

#[test]
fn audit_subcommands_print_json_documents() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("log");

    let o = custodia(&["audit", "append", s(&log), "--json"], &events(0, 12));
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v = document(&o);
    assert_eq!(
        (
            v["appended"].as_u64(),
            v["first"].as_u64(),
            v["size"].as_u64()
        ),
        (Some(12), Some(0), Some(12))
    );
    let lib =
        custodia_audit::AuditLog::open(custodia_audit::SegmentStore::open_read_only(&log).unwrap())
            .unwrap();
    use base64::Engine;
    let root = base64::engine::general_purpose::STANDARD.encode(lib.head().root);
    drop(lib);
    assert_eq!(v["root"], root);

    let o = custodia(&["audit", "append", s(&log), "--json"], &events(12, 15));
    let v = document(&o);
    assert_eq!(
        (
            v["appended"].as_u64(),
            v["first"].as_u64(),
            v["size"].as_u64()
        ),
        (Some(3), Some(12), Some(15))
    );

    // keygen and checkpoint.
    let key = tmp.path().join("signer.key");
    let o = custodia(
        &[
            "audit",
            "keygen",
            "--name",
            "audit.example.com/acme",
            "--out",
            s(&key),
            "--json",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v = document(&o);
    assert_eq!(v["name"], "audit.example.com/acme");
    assert_eq!(v["key_file"], s(&key));
    let verifier = v["verifier"].as_str().unwrap().to_owned();
    assert!(
        verifier.starts_with("audit.example.com/acme+"),
        "{verifier}"
    );
    assert!(
        !out(&o).contains("PRIVATE"),
        "the private key is never printed"
    );
    let verifier_file = tmp.path().join("verifier.key");
    std::fs::write(&verifier_file, &verifier).unwrap();

    let o = custodia(
        &["audit", "checkpoint", s(&log), "--key", s(&key), "--json"],
        "",
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v = document(&o);
    assert_eq!(v["origin"], "audit.example.com/acme");
    assert_eq!(v["size"].as_u64(), Some(15));
    let note = v["note"].as_str().unwrap().to_owned();
    assert!(note.starts_with("audit.example.com/acme\n15\n"), "{note}");
    let cp = tmp.path().join("checkpoint.txt");
    std::fs::write(&cp, &note).unwrap();

    // verify, with and without a signature check.
    let o = custodia(&["audit", "verify", s(&log), "--json"], "");
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v = document(&o);
    assert_eq!(v["ok"], true);
    assert_eq!(v["size"].as_u64(), Some(15));
    assert!(v["checkpoint"].is_null() && v["torn_tail"].is_null(), "{v}");
    let o = custodia(
        &[
            "audit",
            "verify",
            s(&log),
            "--checkpoint",
            s(&cp),
            "--key",
            s(&verifier_file),
            "--json",
        ],
        "",
    );
    let v = document(&o);
    assert_eq!(
        v["checkpoint"],
        json!({
            "size": 15,
            "origin": "audit.example.com/acme",
            "signature_checked": true,
            "origin_checked": true
        })
    );

    // prove and export: the same JSON as the indented default, on one line.
    for args in [
        vec!["audit", "prove", s(&log), "--index", "4"],
        vec![
            "audit",
            "export",
            s(&log),
            "--subject",
            &SubjectId::from_external_key(tenant(), "contact", "1").to_string(),
        ],
    ] {
        let pretty = custodia(&args, "");
        assert_eq!(pretty.status.code(), Some(0), "{}", err(&pretty));
        let mut json_args = args.clone();
        json_args.push("--json");
        let compact = custodia(&json_args, "");
        let v = document(&compact);
        assert!(out(&pretty).lines().count() > 1);
        assert_eq!(v, serde_json::from_str::<Value>(&out(&pretty)).unwrap());
    }
    let o = custodia(&["audit", "prove", s(&log), "--index", "4", "--json"], "");
    assert_eq!(document(&o)["index"].as_u64(), Some(4), "{}", out(&o));

    // Bad input under --json: exit 2, stderr only.
    let o = custodia(&["audit", "prove", s(&log), "--index", "99", "--json"], "");
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(o.stdout.is_empty(), "{}", out(&o));
    let o = custodia(
        &["audit", "verify", s(&tmp.path().join("nope")), "--json"],
        "",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty(), "{}", out(&o));
    assert!(err(&o).contains("is not a log directory"), "{}", err(&o));
    let o = custodia(&["audit", "append", s(&log), "--json"], "{not json\n");
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty(), "{}", out(&o));
    assert!(err(&o).contains("stdin line 1"), "{}", err(&o));

    // Tampering is a finding: {"ok":false,"finding"} on stdout, exit 1.
    let store = custodia_audit::SegmentStore::open_read_only(&log).unwrap();
    let (path, offset) = store.locate(6).unwrap();
    drop(store);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[offset as usize + 30] ^= 0x20;
    std::fs::write(&path, &bytes).unwrap();
    let o = custodia(&["audit", "verify", s(&log), "--json"], "");
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let v = document(&o);
    assert_eq!(v["ok"], false);
    let finding = v["finding"].as_str().unwrap();
    assert!(finding.contains("record 6"), "{finding}");
    assert!(err(&o).contains(finding));
}

#[test]
fn mask_json_reports_counts_and_fail_on_find_exits_1() {
    let o = custodia(
        &["mask", "--json"],
        "mail jane@example.com or call +44 20 7946 0958\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v = document(&o);
    assert_eq!(v["version"], 1);
    assert_eq!(v["text"], "mail [EMAIL] or call [PHONE]\n");
    assert_eq!(v["counts"], json!({"EMAIL": 1, "PHONE": 1}));
    assert_eq!(v["findings"], 2);

    let o = custodia(&["mask", "--json"], "nothing to see\n");
    let v = document(&o);
    assert_eq!(
        (v["findings"].as_u64(), v["counts"].clone()),
        (Some(0), json!({}))
    );

    // --fail-on-find: the masked output is still written, then exit 1.
    let o = custodia(&["mask", "--fail-on-find"], "mail jane@example.com\n");
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(out(&o), "mail [EMAIL]\n");
    assert!(err(&o).contains("personal data found"), "{}", err(&o));
    let o = custodia(&["mask", "--fail-on-find"], "nothing to see\n");
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(out(&o), "nothing to see\n");
    let o = custodia(&["mask", "--json", "--fail-on-find"], "jane@example.com");
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(document(&o)["findings"], 1);
    let o = custodia(
        &["mask", "--jsonl", "--fail-on-find"],
        "{\"id\":1,\"text\":\"a\"}\n{\"id\":2,\"text\":\"jane@example.com\"}\n",
    );
    assert_eq!(o.status.code(), Some(1));
    let lines: Vec<Value> = out(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines,
        [
            json!({"id": 1, "text": "a"}),
            json!({"id": 2, "text": "[EMAIL]"})
        ]
    );
    let o = custodia(
        &["mask", "--jsonl", "--fail-on-find"],
        "{\"id\":1,\"text\":\"a\"}\n",
    );
    assert_eq!(o.status.code(), Some(0));

    // Bad input under --json: exit 2, nothing on stdout.
    let o = custodia(&["mask", "--json", "--strategy", "smudge"], "x");
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty(), "{}", out(&o));
    assert!(err(&o).contains("--strategy"), "{}", err(&o));
    let o = custodia(&["mask", "--json", "/nonexistent/ticket.txt"], "");
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    assert!(err(&o).contains("cannot open"), "{}", err(&o));
}

#[test]
fn keys_retire_refusal_is_a_json_finding() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("keys.json");
    let master = tmp.path().join("master.key");
    let o = custodia(
        &[
            "keys",
            "init",
            "--store",
            s(&store),
            "--write-master-key",
            s(&master),
            "--json",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let input = tmp.path().join("empty.jsonl");
    std::fs::write(&input, "").unwrap();
    let o = custodia(
        &[
            "keys",
            "retire",
            "--store",
            s(&store),
            "--master-key-file",
            s(&master),
            "1",
            "--input",
            s(&input),
            "--json",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let v = document(&o);
    assert_eq!(v["ok"], false);
    assert!(v["finding"].as_str().unwrap().contains("primary"), "{v}");

    let o = custodia(
        &[
            "keys",
            "rotate",
            "--store",
            s(&store),
            "--master-key-file",
            s(&master),
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let o = custodia(
        &[
            "keys",
            "retire",
            "--store",
            s(&store),
            "--master-key-file",
            s(&master),
            "1",
            "--input",
            s(&input),
            "--json",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v = document(&o);
    assert_eq!(
        (
            v["ok"].as_bool(),
            v["retired"].as_u64(),
            v["scanned"].as_u64()
        ),
        (Some(true), Some(1), Some(0))
    );
}

#[test]
fn every_subcommand_states_exit_codes_and_json_in_its_help() {
    let top = custodia(&["--help"], "");
    assert!(
        out(&top).contains("Exit codes: 0 ok; 1 a finding"),
        "{}",
        out(&top)
    );
    for args in [
        &["id", "--help"][..],
        &["categories", "--help"],
        &["mask", "--help"],
        &["retention", "--help"],
        &["retention", "check", "--help"],
        &["retention", "eval", "--help"],
        &["audit", "--help"],
        &["audit", "append", "--help"],
        &["audit", "verify", "--help"],
        &["audit", "checkpoint", "--help"],
        &["audit", "keygen", "--help"],
        &["audit", "prove", "--help"],
        &["audit", "export", "--help"],
        &["keys", "--help"],
        &["keys", "init", "--help"],
        &["keys", "rotate", "--help"],
        &["keys", "status", "--help"],
        &["keys", "reencrypt", "--help"],
        &["keys", "retire", "--help"],
    ] {
        let o = custodia(args, "");
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        let help = out(&o);
        assert!(help.contains("Exit codes: 0"), "{args:?}: {help}");
        assert!(help.contains(" 2 usage or input error"), "{args:?}: {help}");
        let leaf = args.len() > 2 || matches!(args[0], "id" | "categories" | "mask");
        if leaf {
            assert!(help.contains("--json"), "{args:?}: {help}");
        }
    }
}

/// Piped, the long operations draw nothing: standard error stays empty
/// even for inputs far above the progress threshold.
#[test]
fn progress_bars_stay_silent_when_piped() {
    let tmp = tempfile::tempdir().unwrap();
    let text = tmp.path().join("big.txt");
    let line = "ticket 1017: mail jane@example.com, nothing else here to mask\n";
    std::fs::write(&text, line.repeat((3 << 20) / line.len())).unwrap();
    let o = custodia(&["mask", s(&text)], "");
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(
        o.stderr.is_empty(),
        "progress bytes on a pipe: {:?}",
        err(&o)
    );
    assert!(out(&o).starts_with("ticket 1017: mail [EMAIL],"));

    let records = tmp.path().join("records.jsonl");
    let record = std::fs::read_to_string(data("records.jsonl")).unwrap();
    std::fs::write(&records, record.repeat((2 << 20) / record.len() + 1)).unwrap();
    let o = custodia(
        &[
            "retention",
            "eval",
            "--policy",
            &data("issue.toml"),
            "--records",
            s(&records),
            "--now",
            "2026-11-22T00:00:00Z",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(
        o.stderr.is_empty(),
        "progress bytes on a pipe: {:?}",
        err(&o)
    );
    assert_eq!(
        out(&o).lines().count(),
        record.lines().count() * ((2 << 20) / record.len() + 1)
    );
}

/// On a terminal (a pseudo-terminal from util-linux `script`), `mask` and
/// `retention eval` over large files draw a bar on standard error, the output
/// is intact, and a small input draws nothing.
#[test]
fn progress_bar_draws_on_a_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let text = tmp.path().join("big.txt");
    let line = "ticket 1017: mail jane@example.com, nothing else here to mask\n";
    std::fs::write(&text, line.repeat((3 << 20) / line.len())).unwrap();
    let masked = tmp.path().join("masked.txt");
    let command = format!(
        "{} mask {} > {}",
        env!("CARGO_BIN_EXE_custodia"),
        s(&text),
        s(&masked)
    );
    let o = in_terminal(&command);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let terminal = String::from_utf8_lossy(&o.stdout);
    assert!(terminal.contains("MiB"), "no progress drawn: {terminal:?}");
    let written = std::fs::read_to_string(&masked).unwrap();
    assert!(!written.contains("jane@example.com"));
    assert_eq!(written.lines().count(), (3 << 20) / line.len());

    // A small input finishes before a bar is worth drawing: nothing drawn.
    let small = tmp.path().join("small.txt");
    std::fs::write(&small, line).unwrap();
    let command = format!(
        "{} mask {} > {}",
        env!("CARGO_BIN_EXE_custodia"),
        s(&small),
        s(&masked)
    );
    let o = in_terminal(&command);
    assert!(
        o.stdout.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(
        std::fs::read_to_string(&masked).unwrap(),
        "ticket 1017: mail [EMAIL], nothing else here to mask\n"
    );

    // `retention eval` over a large file draws one too.
    let records = tmp.path().join("records.jsonl");
    let record = std::fs::read_to_string(data("records.jsonl")).unwrap();
    let copies = (2 << 20) / record.len() + 1;
    std::fs::write(&records, record.repeat(copies)).unwrap();
    let decisions = tmp.path().join("decisions.jsonl");
    let command = format!(
        "{} retention eval --policy {} --records {} --now 2026-11-22T00:00:00Z > {}",
        env!("CARGO_BIN_EXE_custodia"),
        data("issue.toml"),
        s(&records),
        s(&decisions)
    );
    let o = in_terminal(&command);
    assert_eq!(o.status.code(), Some(0));
    let terminal = String::from_utf8_lossy(&o.stdout);
    assert!(terminal.contains("MiB"), "no progress drawn: {terminal:?}");
    let written = std::fs::read_to_string(&decisions).unwrap();
    assert_eq!(written.lines().count(), record.lines().count() * copies);
}

/// Runs a shell command with a pseudo-terminal as its standard error (and
/// standard input and output, unless redirected), via util-linux `script`;
/// what the terminal received comes back as standard output.
fn in_terminal(command: &str) -> Output {
    Command::new("script")
        .args(["-qec", command, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("util-linux `script` runs (it gives the test a terminal)")
}

/// Every example in README.md's CLI table names real subcommands and flags
/// with values of the right shape: clap accepts each one up to a final
/// `--help` (put before a `--`).
#[test]
fn readme_cli_examples_parse() {
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    let section = readme
        .split("## The `custodia` command")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("README has a CLI section");
    let uuid = tenant().to_string();
    let mut examples = 0;
    for cell in section.split('`') {
        let Some(rest) = cell.strip_prefix("custodia ") else {
            continue;
        };
        let line = rest.replace("<uuid>", &uuid);
        // Drop shell redirections.
        let line = line
            .split(" > ")
            .next()
            .unwrap()
            .split(" < ")
            .next()
            .unwrap();
        let mut args: Vec<&str> = line.split_whitespace().collect();
        // Before a `--`: what follows it is `dsr`'s source program.
        let end = args.iter().position(|a| *a == "--").unwrap_or(args.len());
        args.insert(end, "--help");
        let o = custodia(&args, "");
        assert_eq!(
            o.status.code(),
            Some(0),
            "README example `{cell}`: {}",
            err(&o)
        );
        examples += 1;
    }
    assert!(examples >= 18, "only {examples} examples found");
}
