//! `custodia retention check` and `custodia retention eval`, run as an operator would.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn data(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/retention")
        .join(name)
        .display()
        .to_string()
}

fn custodia(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_custodia"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the custodia binary runs");
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn lines(output: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("custodia-retention-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const NOW: &str = "2026-11-22T00:00:00Z";

#[test]
fn check_accepts_the_issue_example_in_toml_and_json() {
    for file in ["issue.toml", "issue.json"] {
        let output = custodia(&["retention", "check", &data(file)], None);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let out = String::from_utf8_lossy(&output.stdout);
        assert!(
            out.contains("ok: 2 rules, 1 holds, backups every 1d kept 30d"),
            "{out}"
        );
    }
}

#[test]
fn check_reports_file_line_column_and_exits_1() {
    let path = temp_file(
        "bad.toml",
        "version = 1\n[[rule]]\nname = \"a\"\napplies_to = {}\ntrigger = \"closd\"\nretain = \"1y\"\nthen = \"delete\"\n",
    );
    let output = custodia(&["retention", "check", path.to_str().unwrap()], None);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains(&format!(
            "{}:5:11: rule \"a\": unknown trigger \"closd\" (did you mean closed?)",
            path.display()
        )),
        "{err}"
    );
}

#[test]
fn check_of_a_missing_file_is_an_input_error() {
    let output = custodia(&["retention", "check", "/nonexistent/policy.toml"], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("cannot read /nonexistent/policy.toml"));
}

#[test]
fn eval_writes_one_decision_per_line_in_order() {
    let output = custodia(
        &[
            "retention",
            "eval",
            "--policy",
            &data("issue.toml"),
            "--records",
            &data("records.jsonl"),
            "--now",
            NOW,
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = lines(&output);
    let ids: Vec<&str> = out.iter().map(|v| v["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["t-1", "t-2", "t-3", "log-1", "t-4", "c-1"]);
    for v in &out {
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 6, "{v}");
        for key in ["id", "action", "due", "rule", "held_by", "reason"] {
            assert!(v.get(key).is_some(), "{key} missing in {v}");
        }
    }
    // Closed 2026-02-01, retained three years: not due yet.
    assert_eq!(out[0]["action"], "keep");
    assert_eq!(out[0]["due"], "2029-02-01T00:00:00Z");
    assert_eq!(out[0]["rule"], serde_json::json!(["closed-tickets"]));
    // The subject is under legal hold.
    assert_eq!(out[1]["action"], "hold");
    assert_eq!(out[1]["held_by"], serde_json::json!(["case-2026-17"]));
    assert_eq!(out[1]["due"], serde_json::Value::Null);
    // Still open: kept without a due date.
    assert_eq!(
        (out[2]["action"].as_str(), out[2]["due"].is_null()),
        (Some("keep"), true)
    );
    // A week-old log line.
    assert_eq!(out[3]["action"], "delete");
    assert_eq!(out[3]["due"], "2026-03-08T00:00:00Z");
    // Closed 28 Feb 2021, three years later is 28 Feb 2024.
    assert_eq!(out[4]["action"], "anonymize");
    assert_eq!(out[4]["due"], "2024-02-28T00:00:00Z");
    // No rule covers contact emails.
    assert_eq!(out[5]["reason"], "no rule applies; kept");
}

#[test]
fn eval_reads_standard_input_and_json_policies() {
    let records = std::fs::read_to_string(data("records.jsonl")).unwrap();
    let from_file = custodia(
        &[
            "retention",
            "eval",
            "--policy",
            &data("issue.toml"),
            "--records",
            &data("records.jsonl"),
            "--now",
            NOW,
        ],
        None,
    );
    let from_stdin = custodia(
        &[
            "retention",
            "eval",
            "--policy",
            &data("issue.json"),
            "--records",
            "-",
            "--now",
            NOW,
        ],
        Some(&records),
    );
    assert_eq!(from_stdin.status.code(), Some(0), "{}", stderr(&from_stdin));
    assert_eq!(lines(&from_stdin), lines(&from_file));
}

#[test]
fn a_bad_line_stops_with_its_number_and_exit_2() {
    let records = std::fs::read_to_string(data("records.jsonl")).unwrap();
    let mut input: Vec<&str> = records.lines().collect();
    input.insert(2, r#"{"id":"broken","tenant":"not-a-uuid","category":"user","created":"2026-01-01T00:00:00Z"}"#);
    let output = custodia(
        &[
            "retention",
            "eval",
            "--policy",
            &data("issue.toml"),
            "--records",
            "-",
            "--now",
            NOW,
        ],
        Some(&input.join("\n")),
    );
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("-:3: invalid record:"), "{err}");
    assert!(err.contains("invalid tenant id \"not-a-uuid\""), "{err}");
    // The lines before it were written; nothing after it.
    let ids: Vec<String> = lines(&output)
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["t-1", "t-2"]);
}

#[test]
fn blank_and_truncated_lines_are_errors_not_skipped() {
    for (input, needle) in [
        ("\n", "-:1: invalid record: an empty line"),
        ("{\"id\":\"x\",", "-:1: invalid record: EOF"),
        ("[1,2]", "-:1: invalid record:"),
        (
            "{\"id\":\"x\",\"tenant\":\"6a1e52c4-0b8e-4a57-9d3f-2c7e8f10c057\",\"category\":\"User.X\",\"created\":\"2026-01-01T00:00:00Z\"}",
            "invalid data category",
        ),
        (
            "{\"id\":\"x\",\"tenant\":\"6a1e52c4-0b8e-4a57-9d3f-2c7e8f10c057\",\"category\":\"user\",\"created\":\"yesterday\"}",
            "-:1: invalid record:",
        ),
    ] {
        let output = custodia(
            &[
                "retention",
                "eval",
                "--policy",
                &data("issue.toml"),
                "--records",
                "-",
                "--now",
                NOW,
            ],
            Some(input),
        );
        assert_eq!(output.status.code(), Some(2), "{input}");
        assert!(
            stderr(&output).contains(needle),
            "{input}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn eval_usage_errors_exit_2() {
    let bad_now = custodia(
        &[
            "retention",
            "eval",
            "--policy",
            &data("issue.toml"),
            "--records",
            &data("records.jsonl"),
            "--now",
            "tomorrow",
        ],
        None,
    );
    assert_eq!(bad_now.status.code(), Some(2));
    assert!(stderr(&bad_now).contains("--now"));

    let bad_policy = temp_file("bad-eval.toml", "version = 9\n");
    let output = custodia(
        &[
            "retention",
            "eval",
            "--policy",
            bad_policy.to_str().unwrap(),
            "--records",
            &data("records.jsonl"),
            "--now",
            NOW,
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains(":1:11: unsupported policy version 9"),
        "{}",
        stderr(&output)
    );

    let missing = custodia(
        &[
            "retention",
            "eval",
            "--policy",
            &data("issue.toml"),
            "--records",
            "/nonexistent.jsonl",
            "--now",
            NOW,
        ],
        None,
    );
    assert_eq!(missing.status.code(), Some(2));

    let no_args = custodia(&["retention", "eval"], None);
    assert_eq!(no_args.status.code(), Some(2));
}

#[test]
fn output_escapes_names_as_json() {
    let policy = temp_file(
        "quoted.toml",
        "version = 1\n[[rule]]\nname = \"say \\\"bye\\\" \\\\ now\"\napplies_to = {}\ntrigger = \"created\"\nretain = \"1d\"\nthen = \"delete\"\n",
    );
    let output = custodia(
        &[
            "retention",
            "eval",
            "--policy",
            policy.to_str().unwrap(),
            "--records",
            &data("records.jsonl"),
            "--now",
            NOW,
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = lines(&output);
    assert_eq!(out[3]["rule"], serde_json::json!(["say \"bye\" \\ now"]));
}

#[test]
fn record_ids_with_control_characters_round_trip() {
    let line = r#"{"id":"a\u0001b\nc\"","tenant":"6a1e52c4-0b8e-4a57-9d3f-2c7e8f10c057","category":"user","created":"2026-01-01T00:00:00Z"}"#;
    let output = custodia(
        &[
            "retention",
            "eval",
            "--policy",
            &data("issue.toml"),
            "--records",
            "-",
            "--now",
            NOW,
        ],
        Some(line),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(lines(&output)[0]["id"], "a\u{1}b\nc\"");
}

/// SECURITY.md, "Errors do not leak data": a person's details in a field of
/// the wrong type are printed as a short prefix, with what and where.
#[test]
fn a_mistyped_record_field_is_not_printed_whole() {
    let details = "Alice Ng, born 1984-03-02, lives at 14 Harbour St Wellington; \
                   diagnosis: depression and anxiety, on sertraline";
    let line = serde_json::json!({
        "id": "t-1",
        "tenant": "6a1e52c4-0b8e-4a57-9d3f-2c7e8f10c057",
        "category": "user",
        "created": "2026-01-01T00:00:00Z",
        "labels": details,
    });
    let output = custodia(
        &[
            "retention",
            "eval",
            "--policy",
            &data("issue.toml"),
            "--records",
            "-",
            "--now",
            NOW,
        ],
        Some(&line.to_string()),
    );
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(!err.contains("sertraline"), "{err}");
    assert!(
        err.contains("-:1: invalid record: invalid type: string \"Alice Ng")
            && err.contains("…\", expected a map at line 1 column"),
        "{err}"
    );
}
