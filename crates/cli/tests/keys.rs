//! `custodia keys`, run as an operator would: init, rotate, status,
//! reencrypt and retire over a key-store file, and the ways they refuse.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use custodia_core::TenantId;
use custodia_crypt::envelope::{Envelope, from_text, to_text};
use custodia_crypt::{FieldContext, FileKeyStore, KeyStore, Keyring, SecretKey};
use serde_json::{Value, json};

/// A fresh directory for one test, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("custodia-keys-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }

    fn arg(&self, file: &str) -> String {
        self.path(file).display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn custodia_with(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_custodia"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the custodia binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn custodia(args: &[&str]) -> Output {
    custodia_with(args, "", &[])
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exited, not killed")
}

/// Creates a store with a generated master key; returns (store, key file).
fn init(dir: &TempDir, mode: &str) -> (String, String) {
    let (store, key) = (dir.arg("keys.cst"), dir.arg("master.key"));
    let out = custodia(&[
        "keys",
        "init",
        "--store",
        &store,
        "--mode",
        mode,
        "--write-master-key",
        &key,
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    (store, key)
}

fn master(key_file: &str) -> SecretKey {
    SecretKey::from_file(Path::new(key_file)).unwrap()
}

/// Opens the store as an application would.
fn keyring(store: &str, key_file: &str) -> Keyring {
    let master = master(key_file);
    let file = FileKeyStore::open(store, &master).unwrap();
    let mode = file.keyring().unwrap().unwrap().mode;
    Keyring::from_store(file, &master, mode).unwrap()
}

fn tenant(name: &str) -> TenantId {
    TenantId::from_external_key("crm", name)
}

/// JSON lines of sealed contact fields, sealed with the store's keyring now.
fn sealed_lines(store: &str, key_file: &str) -> (String, Vec<(Value, &'static str)>) {
    let keyring = keyring(store, key_file);
    let rows = [
        ("ACME", "contact", "1017", "email", "alice@example.com"),
        ("ACME", "ticket", "T-9", "body", "printer on fire"),
        ("Globex", "contact", "1017", "email", "bob@example.org"),
    ];
    let mut text = String::new();
    let mut expected = Vec::new();
    for (t, record_type, record_id, field, plain) in rows {
        let ctx = FieldContext::new(tenant(t), record_type, record_id, field).unwrap();
        let value = to_text(&keyring.seal(&ctx, plain.as_bytes()).unwrap());
        let line = json!({
            "tenant": tenant(t).to_string(),
            "record_type": record_type,
            "record_id": record_id,
            "field": field,
            "value": value,
            "note": "kept",
        });
        text.push_str(&format!("{line}\n"));
        expected.push((line, plain));
    }
    (text, expected)
}

fn version_of(text: &str) -> u32 {
    Envelope::decode(&from_text(text).unwrap())
        .unwrap()
        .key_id()
        .version()
}

#[test]
fn init_rotate_status_reencrypt_retire_round_trip() {
    let dir = TempDir::new("round-trip");
    let (store, key) = init(&dir, "derived");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let (data, expected) = sealed_lines(&store, &key);
    let data_file = dir.path("data.jsonl");
    std::fs::write(&data_file, &data).unwrap();
    let data_arg = dir.arg("data.jsonl");
    let common = ["--store", &store, "--master-key-file", &key];

    let rotated = custodia(&[&["keys", "rotate"][..], &common].concat());
    assert_eq!(code(&rotated), 0, "{}", stderr(&rotated));
    assert!(stdout(&rotated).contains("v1 → v2"), "{}", stdout(&rotated));

    // Before re-encryption every envelope is still under v1: nothing to retire.
    let status = custodia(
        &[
            &["keys", "status", "--json", "--input", &data_arg][..],
            &common,
        ]
        .concat(),
    );
    assert_eq!(code(&status), 0, "{}", stderr(&status));
    let report: Value = serde_json::from_str(&stdout(&status)).unwrap();
    assert_eq!(report["primary"], 2);
    assert_eq!(report["versions"], json!([1, 2]));
    assert_eq!(report["mode"], "derived");
    assert_eq!(report["scan"]["by_version"], json!({"1": 3, "2": 0}));
    assert_eq!(report["scan"]["unused"], json!([]));
    // The seals above reserved one block of nonces per tenant key in the store.
    assert_eq!(report["nonce_limit"], 1u64 << 32);
    assert_eq!(report["rotation_due"], false);
    let nonces = &report["nonce_usage"];
    assert_eq!(nonces[0]["version"], 1);
    assert_eq!(nonces[0]["tenant_keys"], 2, "ACME and Globex: {nonces}");
    assert_eq!(nonces[0]["max_reserved"], 1u64 << 20);
    assert_eq!(nonces[1]["version"], 2);
    assert_eq!(nonces[1]["tenant_keys"], 0);
    let text = custodia(&[&["keys", "status"][..], &common].concat());
    assert!(
        stdout(&text).contains("v1     2 tenant keys, fullest 1048576 reserved")
            && stdout(&text).contains("v2     nothing sealed"),
        "{}",
        stdout(&text)
    );

    let refused = custodia(&[&["keys", "retire", "1", "--input", &data_arg][..], &common].concat());
    assert_eq!(code(&refused), 1, "{}", stderr(&refused));
    assert!(stderr(&refused).contains("3 of 3"), "{}", stderr(&refused));

    let moved_file = dir.arg("moved.jsonl");
    let reencrypted = custodia(
        &[
            &[
                "keys",
                "reencrypt",
                "--json",
                "--input",
                &data_arg,
                "--output",
                &moved_file,
            ][..],
            &common,
        ]
        .concat(),
    );
    assert_eq!(code(&reencrypted), 0, "{}", stderr(&reencrypted));
    let counts: Value = serde_json::from_str(&stdout(&reencrypted)).unwrap();
    assert_eq!(counts["reencrypted"], 3);
    assert_eq!(counts["unchanged"], 0);
    assert_eq!(counts["from_versions"], json!({"1": 3}));

    // Every line moved to v2, opens to the same plaintext, and kept its other keys.
    let keyring = keyring(&store, &key);
    let moved = std::fs::read_to_string(&moved_file).unwrap();
    assert_eq!(moved.lines().count(), 3);
    for (line, (before, plain)) in moved.lines().zip(&expected) {
        let after: Value = serde_json::from_str(line).unwrap();
        let value = after["value"].as_str().unwrap();
        assert_ne!(after["value"], before["value"]);
        assert_eq!(version_of(value), 2);
        let mut rest = after.clone();
        rest["value"] = before["value"].clone();
        assert_eq!(&rest, before);
        let ctx = FieldContext::new(
            after["tenant"].as_str().unwrap().parse().unwrap(),
            after["record_type"].as_str().unwrap(),
            after["record_id"].as_str().unwrap(),
            after["field"].as_str().unwrap(),
        )
        .unwrap();
        let opened = keyring.open(&ctx, &from_text(value).unwrap()).unwrap();
        assert_eq!(opened, plain.as_bytes());
    }

    // A second pass changes nothing.
    let again = custodia(
        &[
            &["keys", "reencrypt", "--json", "--input", &moved_file][..],
            &common,
        ]
        .concat(),
    );
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    assert_eq!(stdout(&again), moved);
    let counts: Value = serde_json::from_str(stderr(&again).trim()).unwrap();
    assert_eq!(
        (counts["reencrypted"].clone(), counts["unchanged"].clone()),
        (json!(0), json!(3))
    );

    let status = custodia(
        &[
            &["keys", "status", "--json", "--input", &moved_file][..],
            &common,
        ]
        .concat(),
    );
    let report: Value = serde_json::from_str(&stdout(&status)).unwrap();
    assert_eq!(report["scan"]["unused"], json!([1]));
    // Re-encryption sealed under v2, counted in the store by the CLI's process.
    assert_eq!(report["nonce_usage"][1]["tenant_keys"], 2);
    assert_eq!(report["nonce_usage"][1]["max_reserved"], 1u64 << 20);
    let text = custodia(&[&["keys", "status", "--input", &moved_file][..], &common].concat());
    assert!(stdout(&text).contains("unused     v1"), "{}", stdout(&text));

    let retired = custodia(
        &[
            &["keys", "retire", "1", "--input", &moved_file][..],
            &common,
        ]
        .concat(),
    );
    assert_eq!(code(&retired), 0, "{}", stderr(&retired));
    let status = custodia(&[&["keys", "status", "--json"][..], &common].concat());
    let report: Value = serde_json::from_str(&stdout(&status)).unwrap();
    assert_eq!(report["versions"], json!([2]));
    assert_eq!(report["retired"], json!([1]));

    // The old copy no longer opens, and the message says which line and key.
    let stale = custodia(&[&["keys", "reencrypt", "--input", &data_arg][..], &common].concat());
    assert_eq!(code(&stale), 2);
    let message = stderr(&stale);
    assert!(
        message.contains("line 1") && message.contains("tenant/v1"),
        "{message}"
    );

    // Retiring it again is a usage error, not a finding.
    let twice = custodia(
        &[
            &["keys", "retire", "1", "--input", &moved_file][..],
            &common,
        ]
        .concat(),
    );
    assert_eq!(code(&twice), 2);
    assert!(
        stderr(&twice).contains("already retired"),
        "{}",
        stderr(&twice)
    );
}

#[test]
fn bare_envelopes_take_their_context_from_flags_through_pipes() {
    let dir = TempDir::new("bare");
    let (store, key) = init(&dir, "random");
    let ctx_tenant = tenant("ACME");
    let ctx = FieldContext::new(ctx_tenant, "contact", "1017", "email").unwrap();
    let old = to_text(
        &keyring(&store, &key)
            .seal(&ctx, b"alice@example.com")
            .unwrap(),
    );
    let env_value = std::fs::read_to_string(&key).unwrap();
    let env = [("CUSTODIA_TEST_MASTER", env_value.trim())];
    let common = [
        "--store",
        &store,
        "--master-key-env",
        "CUSTODIA_TEST_MASTER",
    ];

    let rotated = custodia_with(&[&["keys", "rotate"][..], &common].concat(), "", &env);
    assert_eq!(code(&rotated), 0, "{}", stderr(&rotated));

    let tenant_arg = ctx_tenant.to_string();
    let flags = [
        "--tenant",
        &tenant_arg,
        "--record-type",
        "contact",
        "--record-id",
        "1017",
        "--field",
        "email",
    ];
    let input = format!("{old}\n\n{old}\n");
    let out = custodia_with(
        &[&["keys", "reencrypt"][..], &common, &flags].concat(),
        &input,
        &env,
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let lines: Vec<String> = stdout(&out).lines().map(|l| l.trim().to_owned()).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[1], "");
    let keyring = keyring(&store, &key);
    for line in [&lines[0], &lines[2]] {
        assert_eq!(version_of(line), 2);
        assert_eq!(
            keyring.open(&ctx, &from_text(line).unwrap()).unwrap(),
            b"alice@example.com"
        );
    }
    // Piped: the counts, and no progress bar drawing on standard error.
    let counts = stderr(&out);
    assert!(
        counts.contains("2 envelopes: 2 re-encrypted to v2"),
        "{counts}"
    );
    assert!(
        !counts.contains('\u{1b}') && !counts.contains('\r'),
        "{counts:?}"
    );

    let status = custodia_with(&[&["keys", "status"][..], &common].concat(), "", &env);
    assert!(
        stdout(&status).contains("mode       random"),
        "{}",
        stdout(&status)
    );

    // Without the flags a bare line has no context: a usage error naming it.
    let out = custodia_with(
        &[&["keys", "reencrypt"][..], &common].concat(),
        &input,
        &env,
    );
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("stdin: line 1: a bare cst1. line needs"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_wrong_master_key_is_a_usage_error_that_shows_no_key() {
    let dir = TempDir::new("wrong-key");
    let (store, key) = init(&dir, "derived");
    let right = std::fs::read_to_string(&key).unwrap();
    let wrong = SecretKey::generate().unwrap();
    let wrong_text = wrong.to_base64().to_string();
    let env = [("CUSTODIA_TEST_WRONG", wrong_text.as_str())];
    for command in ["status", "rotate"] {
        let out = custodia_with(
            &[
                "keys",
                command,
                "--store",
                &store,
                "--master-key-env",
                "CUSTODIA_TEST_WRONG",
            ],
            "",
            &env,
        );
        assert_eq!(code(&out), 2);
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(all.contains("wrong master key"), "{all}");
        assert!(
            !all.contains(right.trim()) && !all.contains(&wrong_text),
            "{all}"
        );
    }
    // The store is untouched: the right key still opens version 1 only.
    assert_eq!(keyring(&store, &key).versions(), [1]);

    // A variable that does not hold a key is named, its value is not shown.
    let out = custodia_with(
        &[
            "keys",
            "status",
            "--store",
            &store,
            "--master-key-env",
            "CUSTODIA_TEST_WRONG",
        ],
        "",
        &[("CUSTODIA_TEST_WRONG", "hunter2-not-a-key")],
    );
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("CUSTODIA_TEST_WRONG"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("hunter2"), "{}", stderr(&out));
}

#[test]
fn init_never_overwrites_a_store_or_a_key_file() {
    let dir = TempDir::new("no-overwrite");
    let (store, key) = init(&dir, "derived");
    let store_before = std::fs::read(&store).unwrap();
    let key_before = std::fs::read(&key).unwrap();

    let other_key = dir.arg("other.key");
    let again = custodia(&[
        "keys",
        "init",
        "--store",
        &store,
        "--write-master-key",
        &other_key,
    ]);
    assert_eq!(code(&again), 2);
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    assert!(!Path::new(&other_key).exists());
    let again = custodia(&["keys", "init", "--store", &store, "--master-key-file", &key]);
    assert_eq!(code(&again), 2);
    assert_eq!(std::fs::read(&store).unwrap(), store_before);

    let second_store = dir.arg("second.cst");
    let clash = custodia(&[
        "keys",
        "init",
        "--store",
        &second_store,
        "--write-master-key",
        &key,
    ]);
    assert_eq!(code(&clash), 2);
    assert!(
        stderr(&clash).contains("refusing to overwrite a master key"),
        "{}",
        stderr(&clash)
    );
    assert_eq!(std::fs::read(&key).unwrap(), key_before);
    assert!(!Path::new(&second_store).exists());

    // No master key at all: told how to give one.
    let none = custodia(&["keys", "init", "--store", &second_store]);
    assert_eq!(code(&none), 2);
    assert!(
        stderr(&none).contains("--write-master-key"),
        "{}",
        stderr(&none)
    );

    // Other commands do not create a store by accident.
    let missing = custodia(&[
        "keys",
        "status",
        "--store",
        &second_store,
        "--master-key-file",
        &key,
    ]);
    assert_eq!(code(&missing), 2);
    assert!(
        stderr(&missing).contains("custodia keys init"),
        "{}",
        stderr(&missing)
    );
    assert!(!Path::new(&second_store).exists());

    // Nothing staged is left behind.
    let mut names: Vec<String> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["keys.cst", "master.key"]);
}

#[test]
fn a_bad_input_line_is_named_and_leaves_no_output() {
    let dir = TempDir::new("bad-line");
    let (store, key) = init(&dir, "derived");
    let (data, expected) = sealed_lines(&store, &key);
    let common = ["--store", &store, "--master-key-file", &key];
    let good: Vec<&str> = data.lines().collect();
    let mut wrong_context = expected[2].0.clone();
    wrong_context["record_id"] = json!("1018");
    let mut missing_field = expected[2].0.clone();
    missing_field.as_object_mut().unwrap().remove("field");
    let cases = [
        (
            "not json and not an envelope",
            "neither a cst1. envelope nor a JSON object",
        ),
        ("{\"value\": \"cst1.AAAA\"", "invalid JSON"),
        ("cst1.!!!", "base64"),
        ("{\"tenant\":\"x\"}", "no \"value\""),
        (&wrong_context.to_string(), "cannot decrypt"),
        (&missing_field.to_string(), "no \"field\""),
    ];
    let output = dir.arg("out.jsonl");
    for (bad, reason) in cases {
        let input = format!("{}\n{}\n{bad}\n", good[0], good[1]);
        std::fs::write(dir.path("in.jsonl"), input).unwrap();
        let out = custodia(
            &[
                &[
                    "keys",
                    "reencrypt",
                    "--input",
                    &dir.arg("in.jsonl"),
                    "--output",
                    &output,
                ][..],
                &common,
            ]
            .concat(),
        );
        assert_eq!(code(&out), 2, "{bad}");
        let message = stderr(&out);
        assert!(message.contains("in.jsonl: line 3: "), "{message}");
        assert!(message.contains(reason), "{reason}: {message}");
        assert!(!Path::new(&output).exists());
        assert!(!Path::new(&format!("{output}.tmp")).exists());
    }

    // The scans behind status and retire name bad lines too.
    let out = custodia_with(
        &[&["keys", "status", "--input", "-"][..], &common].concat(),
        &format!("{}\ngarbage\n", good[0]),
        &[],
    );
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("stdin: line 2: "), "{}", stderr(&out));
}

#[test]
fn retire_refuses_versions_in_use_and_the_primary() {
    let dir = TempDir::new("retire");
    let (store, key) = init(&dir, "random");
    let (data, _) = sealed_lines(&store, &key);
    let common = ["--store", &store, "--master-key-file", &key];

    let primary = custodia_with(
        &[&["keys", "retire", "1", "--input", "-"][..], &common].concat(),
        "",
        &[],
    );
    assert_eq!(code(&primary), 1);
    assert!(stderr(&primary).contains("primary"), "{}", stderr(&primary));

    assert_eq!(
        code(&custodia(&[&["keys", "rotate"][..], &common].concat())),
        0
    );
    // One envelope under v1 among others is enough to refuse.
    let keyring = keyring(&store, &key);
    let ctx = FieldContext::new(tenant("ACME"), "contact", "1", "email").unwrap();
    let fresh = to_text(&keyring.seal(&ctx, b"x").unwrap());
    assert_eq!(version_of(&fresh), 2);
    let old_line = data.lines().next().unwrap();
    let input = format!("{fresh}\n{old_line}\n");
    let in_use = custodia_with(
        &[&["keys", "retire", "1", "--input", "-"][..], &common].concat(),
        &input,
        &[],
    );
    assert_eq!(code(&in_use), 1);
    assert!(
        stderr(&in_use).contains("1 of 2 scanned envelopes"),
        "{}",
        stderr(&in_use)
    );
    assert_eq!(self::keyring(&store, &key).versions(), [1, 2]);

    // Without any input there is no evidence: a usage error.
    let no_scan = custodia(&[&["keys", "retire", "1"][..], &common].concat());
    assert_eq!(code(&no_scan), 2);
    assert!(stderr(&no_scan).contains("--input"), "{}", stderr(&no_scan));

    let unknown = custodia_with(
        &[&["keys", "retire", "7", "--input", "-"][..], &common].concat(),
        "",
        &[],
    );
    assert_eq!(code(&unknown), 2);

    let clean = custodia_with(
        &[&["keys", "retire", "1", "--input", "-"][..], &common].concat(),
        &format!("{fresh}\n"),
        &[],
    );
    assert_eq!(code(&clean), 0, "{}", stderr(&clean));
    assert_eq!(self::keyring(&store, &key).versions(), [2]);
}

#[test]
fn every_keys_subcommand_has_help() {
    for command in ["init", "rotate", "status", "reencrypt", "rewrap", "retire"] {
        let out = custodia(&["keys", command, "--help"]);
        assert_eq!(code(&out), 0, "{command}");
        let text = stdout(&out);
        assert!(
            text.contains(&format!("Usage: custodia keys {command}")),
            "{text}"
        );
        assert!(text.contains("--store"), "{text}");
    }
    let out = custodia(&["keys", "--help"]);
    assert!(stdout(&out).contains("reencrypt"));
    // The rotation procedure, rewrap and retire's check of subject keys included.
    for command in ["--help", "rotate --help", "retire --help"] {
        let mut args = vec!["keys"];
        args.extend(command.split(' '));
        let text = stdout(&custodia(&args));
        assert!(
            text.contains("Rotating keys:") && text.contains("keys rewrap"),
            "{text}"
        );
    }
    // A usage error from clap itself is exit 2 as well.
    assert_eq!(code(&custodia(&["keys", "rotate"])), 2);
}

/// Found in review: `retire` needs --input (exit 2 without it) but its
/// usage line showed it optional, as `status`'s (the two share the scan's
/// options). Now retire's usage shows it required, and status's does not.
#[test]
fn retire_s_usage_shows_input_required_and_status_s_does_not() {
    let usage = |command: &str| {
        let out = custodia(&["keys", command, "--help"]);
        assert_eq!(code(&out), 0, "{command}");
        stdout(&out)
            .lines()
            .find(|l| l.starts_with("Usage: "))
            .unwrap()
            .to_owned()
    };
    let retire = usage("retire");
    assert!(retire.contains(" --input <FILE>"), "{retire}");
    assert!(!retire.contains("[--input"), "{retire}");
    let status = usage("status");
    assert!(!status.contains("--input"), "{status}");
    // And clap refuses it as a missing required argument, before the store
    // is opened.
    let out = custodia(&["keys", "retire", "1", "--store", "/nonexistent/keys.cst"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("required arguments were not provided")
            && stderr(&out).contains("--input <FILE>"),
        "{}",
        stderr(&out)
    );
}

/// `keys reencrypt --output -` into a reader that goes away early: the
/// re-encrypted lines it did not take are lost, so unlike `categories` or
/// `retention eval` it is exit 2 ("Broken pipe"), as `--help` says.
#[test]
fn reencrypt_to_a_closed_pipe_is_exit_2_as_the_help_says() {
    let dir = TempDir::new("closed-pipe");
    let (store, key) = init(&dir, "derived");
    let (data, _) = sealed_lines(&store, &key);
    // Far more than a pipe holds: the command is still writing when the
    // reader is gone.
    let input = data.repeat(4_000);
    let file = dir.path("data.jsonl");
    std::fs::write(&file, &input).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_custodia"))
        .args([
            "keys",
            "reencrypt",
            "--store",
            &store,
            "--master-key-file",
            &key,
        ])
        .args(["--input", &dir.arg("data.jsonl"), "--output", "-"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("writing output: Broken pipe"),
        "{}",
        stderr(&out)
    );
    // The input is left as it was.
    assert_eq!(std::fs::read_to_string(&file).unwrap(), input);
    let help = custodia(&["keys", "reencrypt", "--help"]);
    let help = stdout(&help)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        help.contains("a reader that goes away before the end (`| head`) is an error (exit 2"),
        "{help}"
    );
}

#[test]
fn reencrypt_can_rewrite_a_file_in_place() {
    let dir = TempDir::new("in-place");
    let (store, key) = init(&dir, "derived");
    let (data, expected) = sealed_lines(&store, &key);
    let file = dir.arg("data.jsonl");
    std::fs::write(&file, &data).unwrap();
    let common = ["--store", &store, "--master-key-file", &key];
    assert_eq!(
        code(&custodia(&[&["keys", "rotate"][..], &common].concat())),
        0
    );
    let out = custodia(
        &[
            &["keys", "reencrypt", "--input", &file, "--output", &file][..],
            &common,
        ]
        .concat(),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("3 re-encrypted to v2 (from v1: 3)"),
        "{}",
        stdout(&out)
    );
    let rewritten = std::fs::read_to_string(&file).unwrap();
    assert_eq!(rewritten.lines().count(), expected.len());
    for line in rewritten.lines() {
        let value: Value = serde_json::from_str(line).unwrap();
        assert_eq!(version_of(value["value"].as_str().unwrap()), 2);
    }
}

/// A key store that also holds subject keys (as the helpdesk's
/// `keys.store`, and any store `dsr` / `audit append --subject-keys` use,
/// does) keeps each subject key wrapped under the tenant's data key of the
/// version that was primary when the key was made. The operator cannot list
/// them, so `--input` never covers them: `rotate` must rewrap them or
/// `retire` must refuse, never make every value sealed under a subject key
/// unreadable, as if every person had been erased.
/// A subject vault over the file store at `store`, opened with `key`.
fn stored_vault(
    store: &str,
    key: &str,
) -> custodia_crypt::SubjectVault<std::sync::Arc<FileKeyStore>> {
    use std::sync::Arc;
    let master = master(key);
    let file = Arc::new(FileKeyStore::open(store, &master).unwrap());
    let keyring = Keyring::open_stored(Arc::clone(&file), &master)
        .unwrap()
        .unwrap();
    custodia_crypt::SubjectVault::new(
        Arc::new(keyring),
        file,
        Arc::new(custodia_core::SystemClock),
    )
}

#[test]
fn retire_does_not_strand_the_stores_own_subject_keys() {
    use custodia_core::SubjectId;

    let dir = TempDir::new("review-d-retire-subject-keys");
    let (store, key) = init(&dir, "random");
    let acme = tenant("ACME");
    let alice = SubjectId::from_external_key(acme, "crm", "alice");
    let ctx = FieldContext::new(acme, "audit_event", "e-1", "ip").unwrap();
    let vault = |store: &str| stored_vault(store, &key);
    let sealed = vault(&store).seal(alice, &ctx, b"203.0.113.7").unwrap();

    let out = custodia(&[
        "keys",
        "rotate",
        "--store",
        &store,
        "--master-key-file",
        &key,
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("rewrapped 1 subject keys under v2"),
        "{}",
        stdout(&out)
    );
    // The operator has re-encrypted all of their data: the scan finds nothing under v1.
    let input = dir.path("data.jsonl");
    std::fs::write(&input, "").unwrap();
    let out = custodia(&[
        "keys",
        "retire",
        "1",
        "--store",
        &store,
        "--master-key-file",
        &key,
        "--input",
        &input.display().to_string(),
    ]);
    let opened = vault(&store).open(&ctx, &sealed);
    assert!(
        code(&out) == 1 || opened.as_deref() == Ok(&b"203.0.113.7"[..]),
        "retire exited {} ({}) and Alice's value now opens as {opened:?}",
        code(&out),
        stdout(&out).trim()
    );
}

/// Rewriting a private file in place (its JSON lines keep every other key,
/// e.g. plain personal fields, "as they are") keeps its mode: the staged
/// FILE.tmp must not be created with the umask's 0644 and renamed over it.
#[test]
fn reencrypt_in_place_keeps_a_private_file_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("review-d-reencrypt-mode");
    let (store, key) = init(&dir, "derived");
    let (lines, _) = sealed_lines(&store, &key);
    let data = dir.path("contacts.jsonl");
    std::fs::write(&data, lines).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = custodia(&[
        "keys",
        "rotate",
        "--store",
        &store,
        "--master-key-file",
        &key,
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let data_arg = data.display().to_string();
    // Re-encrypts the data file into `output`; the output's mode.
    let reencrypt = |output: &str| {
        let out = custodia(&[
            "keys",
            "reencrypt",
            "--store",
            &store,
            "--master-key-file",
            &key,
            "--input",
            &data_arg,
            "--output",
            output,
        ]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        std::fs::metadata(output).unwrap().permissions().mode() & 0o777
    };
    let mode = reencrypt(&data_arg);
    assert_eq!(mode, 0o600, "the rewritten file has mode {mode:o}");
    assert!(!dir.path("contacts.jsonl.tmp").exists());
    // A new output file takes the input's mode.
    let mode = reencrypt(&dir.arg("moved.jsonl"));
    assert_eq!(mode, 0o600, "the new output has mode {mode:o}");
}

/// A subject key made under the old primary by another program (here the
/// library, rotating without rewrapping, as a process that had not yet seen
/// the rotation would seal): `status` counts it under its version and does
/// not call that version unused, `retire` refuses naming it (exit 1), and
/// `rewrap` moves it, after which `retire` succeeds and the value still opens.
#[test]
fn status_counts_subject_keys_retire_refuses_them_and_rewrap_moves_them() {
    use custodia_core::SubjectId;

    let dir = TempDir::new("subject-keys-rewrap");
    let (store, key) = init(&dir, "random");
    let acme = tenant("ACME");
    let alice = SubjectId::from_external_key(acme, "crm", "alice");
    let ctx = FieldContext::new(acme, "audit_event", "e-1", "ip").unwrap();
    let vault = |store: &str| stored_vault(store, &key);
    let sealed = vault(&store).seal(alice, &ctx, b"203.0.113.7").unwrap();
    assert_eq!(
        self::keyring(&store, &key)
            .rotate(SecretKey::generate().unwrap())
            .unwrap(),
        2
    );
    let input = dir.path("data.jsonl");
    std::fs::write(&input, "").unwrap();
    let input = input.display().to_string();
    let store_args = ["--store", &store, "--master-key-file", &key];

    let keys = |args: &[&str]| {
        let mut all = vec!["keys"];
        all.extend_from_slice(args);
        all.extend_from_slice(&store_args);
        custodia(&all)
    };
    let out = keys(&["status", "--input", &input, "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let status: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(status["subject_keys"]["total"], 1);
    assert_eq!(status["subject_keys"]["by_version"]["1"], 1);
    assert_eq!(status["scan"]["unused"], json!([]), "v1 still wraps a key");
    let out = keys(&["status"]);
    assert!(
        stdout(&out).contains("1 subject keys in the store, wrapped under v1 1, v2 0"),
        "{}",
        stdout(&out)
    );

    let out = keys(&["retire", "1", "--input", &input]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert!(stderr(&out).contains("1 subject keys"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("custodia keys rewrap"),
        "{}",
        stderr(&out)
    );
    assert_eq!(self::keyring(&store, &key).versions(), [1, 2]);

    let out = keys(&["rewrap", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let rewrapped: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(rewrapped["rewrapped_subject_keys"], 1);
    let out = keys(&["status", "--input", &input, "--json"]);
    let status: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(status["subject_keys"]["by_version"]["2"], 1);
    assert_eq!(status["scan"]["unused"], json!([1]));

    let out = keys(&["retire", "1", "--input", &input]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        vault(&store).open(&ctx, &sealed).as_deref(),
        Ok(&b"203.0.113.7"[..])
    );
}

/// Each subcommand's `--help` names the fields of its `--json` document,
/// as the crate docs and the README promise.
#[test]
fn every_keys_subcommands_help_names_its_json_fields() {
    let fields: [(&str, &[&str]); 6] = [
        (
            "init",
            &[
                "\"store\"",
                "\"mode\"",
                "\"primary\"",
                "\"master_key_file\"",
            ],
        ),
        (
            "rotate",
            &["\"old\"", "\"new\"", "\"rewrapped_subject_keys\""],
        ),
        (
            "status",
            &[
                "\"versions\"",
                "\"retired\"",
                "\"nonce_usage\"",
                "\"rotation_due\"",
                "\"subject_keys\"",
                "\"scan\"",
                "\"unused\"",
            ],
        ),
        (
            "reencrypt",
            &[
                "\"lines\"",
                "\"reencrypted\"",
                "\"unchanged\"",
                "\"from_versions\"",
            ],
        ),
        (
            "rewrap",
            &["\"rewrapped_subject_keys\"", "\"subject_keys\""],
        ),
        (
            "retire",
            &["\"ok\"", "\"retired\"", "\"scanned\"", "\"finding\""],
        ),
    ];
    for (command, names) in fields {
        let text = stdout(&custodia(&["keys", command, "--help"]));
        for name in names {
            assert!(
                text.contains(name),
                "keys {command} --help lacks {name}:\n{text}"
            );
        }
    }
}

/// With several `--input` files, a line that cannot be read at all (not
/// UTF-8, over 16 MiB) is named by its file as well as its number, as a
/// line that does not parse is.
#[test]
fn an_unreadable_line_names_its_file() {
    let dir = TempDir::new("unreadable-names-file");
    let (store, key) = init(&dir, "derived");
    let (data, _) = sealed_lines(&store, &key);
    std::fs::write(dir.path("good.jsonl"), &data).unwrap();
    let mut bad = data.clone().into_bytes();
    bad.extend_from_slice(b"\xff\n");
    std::fs::write(dir.path("bad.jsonl"), &bad).unwrap();
    let (good, bad) = (dir.arg("good.jsonl"), dir.arg("bad.jsonl"));
    // v1 is no longer primary, so `retire 1` gets as far as its scan.
    let rotated = custodia(&[
        "keys",
        "rotate",
        "--store",
        &store,
        "--master-key-file",
        &key,
    ]);
    assert_eq!(code(&rotated), 0, "{}", stderr(&rotated));
    for args in [
        vec!["keys", "status", "--input", &good, "--input", &bad],
        vec!["keys", "retire", "1", "--input", &good, "--input", &bad],
        vec!["keys", "reencrypt", "--input", &bad, "--output", "-"],
    ] {
        let mut args = args.clone();
        args.extend(["--store", &store, "--master-key-file", &key]);
        let out = custodia(&args);
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("{bad}: line 4: not UTF-8")),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}
