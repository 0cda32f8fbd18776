//! `custodia audit`: the operator's view of a tamper-evident log.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use custodia_core::{ActorId, SubjectId, TenantId};

fn custodia(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_custodia"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The command may stop reading early (a refused line): a broken pipe is
    // its answer, which the caller checks, not a test failure.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn tenant() -> TenantId {
    TenantId::from_external_key("crm", "ACME")
}

fn subject(n: u32) -> SubjectId {
    SubjectId::from_external_key(tenant(), "contact", &n.to_string())
}

/// JSONL events without personal values.
fn lines(from: u32, to: u32) -> String {
    let actor = ActorId::from_external_key(tenant(), "user", "7");
    (from..to)
        .map(|i| {
            format!(
                r#"{{"tenant":"{}","actor":{{"kind":"agent","id":"{actor}"}},"action":"update","target":{{"type":"ticket","id":"T-{i}"}},"subject":"{}","purpose":"support"}}"#,
                tenant(),
                subject(i % 3)
            ) + "\n"
        })
        .collect()
}

fn dir_arg(dir: &Path) -> &str {
    dir.to_str().unwrap()
}

#[test]
fn append_then_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("log");
    let o = custodia(&["audit", "append", dir_arg(&log)], &lines(0, 20));
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("appended 20 events"), "{}", out(&o));
    let o = custodia(
        &["audit", "append", dir_arg(&log), "--sync", "every"],
        &lines(20, 25),
    );
    assert!(o.status.success(), "{}", err(&o));
    let o = custodia(&["audit", "verify", dir_arg(&log)], "");
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(out(&o).contains("ok: 25 records intact"), "{}", out(&o));
    // The reported root is the library's.
    let lib =
        custodia_audit::AuditLog::open(custodia_audit::SegmentStore::open_read_only(&log).unwrap())
            .unwrap();
    use base64::Engine;
    let root = base64::engine::general_purpose::STANDARD.encode(lib.head().root);
    assert!(out(&o).contains(&root));
}

#[test]
fn verify_draws_no_progress_when_piped() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("log");
    assert!(
        custodia(&["audit", "append", dir_arg(&log)], &lines(0, 40))
            .status
            .success()
    );
    // Standard error is a pipe here: verification reports progress to the
    // CLI, which must draw nothing, so stderr stays empty and stdout holds
    // only the result.
    let o = custodia(&["audit", "verify", dir_arg(&log)], "");
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(o.stderr.is_empty(), "stderr: {:?}", err(&o));
    assert_eq!(out(&o).lines().count(), 1, "{}", out(&o));
    assert!(out(&o).starts_with("ok: 40 records intact"), "{}", out(&o));
    for stream in [&o.stdout, &o.stderr] {
        assert!(!stream.contains(&b'\r') && !stream.contains(&0x1b));
    }
    // A failing verify: the error only, no progress bytes either.
    let store = custodia_audit::SegmentStore::open_read_only(&log).unwrap();
    let (path, offset) = store.locate(30).unwrap();
    drop(store);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[offset as usize + 30] ^= 0x20;
    std::fs::write(&path, &bytes).unwrap();
    let o = custodia(&["audit", "verify", dir_arg(&log)], "");
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(o.stdout.is_empty(), "{}", out(&o));
    assert_eq!(err(&o).lines().count(), 1, "{}", err(&o));
    assert!(!o.stderr.contains(&b'\r') && !o.stderr.contains(&0x1b));
}

#[test]
fn verify_names_the_first_bad_record() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("log");
    assert!(
        custodia(&["audit", "append", dir_arg(&log)], &lines(0, 10))
            .status
            .success()
    );
    let store = custodia_audit::SegmentStore::open_read_only(&log).unwrap();
    let (path, offset) = store.locate(6).unwrap();
    drop(store);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[offset as usize + 30] ^= 0x20;
    std::fs::write(&path, &bytes).unwrap();
    let o = custodia(&["audit", "verify", dir_arg(&log)], "");
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("record 6"), "{}", err(&o));
    assert!(err(&o).contains("checksum"), "{}", err(&o));
    // Appending to a tampered log is refused rather than repaired.
    let o = custodia(&["audit", "append", dir_arg(&log)], &lines(10, 11));
    assert_ne!(o.status.code(), Some(0));
}

/// A log of ten events under `dir`, a checkpoint signer, its verifier key
/// and a signed checkpoint of the log, all made through the command.
struct Signed {
    log: std::path::PathBuf,
    key: std::path::PathBuf,
    vkey: std::path::PathBuf,
    cp: std::path::PathBuf,
}

fn signed_log_of_ten(dir: &Path) -> Signed {
    let log = dir.join("log");
    let key = dir.join("signer.key");
    let vkey = dir.join("verifier.key");
    let cp = dir.join("checkpoint");
    let o = custodia(
        &[
            "audit",
            "keygen",
            "--name",
            "audit.test/acme",
            "--out",
            key.to_str().unwrap(),
        ],
        "",
    );
    assert!(o.status.success(), "{}", err(&o));
    std::fs::write(&vkey, out(&o)).unwrap();
    assert!(
        custodia(&["audit", "append", dir_arg(&log)], &lines(0, 10))
            .status
            .success()
    );
    let o = custodia(
        &[
            "audit",
            "checkpoint",
            dir_arg(&log),
            "--key",
            key.to_str().unwrap(),
        ],
        "",
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).starts_with("audit.test/acme\n10\n"), "{}", out(&o));
    std::fs::write(&cp, out(&o)).unwrap();
    Signed { log, key, vkey, cp }
}

/// A checkpoint signer key file others can read is refused as a master key
/// file is, naming its mode and never printing the key; a private one signs.
#[cfg(unix)]
#[test]
fn a_signer_key_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let Signed { log, key, .. } = signed_log_of_ten(tmp.path());
    let secret = std::fs::read_to_string(&key).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let args = [
        "audit",
        "checkpoint",
        dir_arg(&log),
        "--key",
        key.to_str().unwrap(),
    ];
    let o = custodia(&args, "");
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(
        err(&o).contains("has mode 644; key files must be 0600 or stricter"),
        "{}",
        err(&o)
    );
    assert!(err(&o).contains(key.to_str().unwrap()), "{}", err(&o));
    let seed = secret.trim().rsplit('+').next().unwrap();
    assert!(!err(&o).contains(seed) && !out(&o).contains(seed));
    assert!(out(&o).is_empty(), "{}", out(&o));
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(custodia(&args, "").status.code(), Some(0));
}

#[test]
fn checkpoints_detect_truncation_and_bad_signatures() {
    let tmp = tempfile::tempdir().unwrap();
    let Signed { log, key, vkey, cp } = signed_log_of_ten(tmp.path());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    assert!(
        custodia(&["audit", "append", dir_arg(&log)], &lines(10, 15))
            .status
            .success()
    );
    let args = [
        "audit",
        "verify",
        dir_arg(&log),
        "--checkpoint",
        cp.to_str().unwrap(),
        "--key",
        vkey.to_str().unwrap(),
    ];
    let o = custodia(&args, "");
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(
        out(&o).contains(
            "extends the checkpoint at size 10 of audit.test/acme (signature verified, origin checked)"
        ),
        "{}",
        out(&o)
    );

    // Another key: the signature does not verify.
    let other = tmp.path().join("other.key");
    let o = custodia(
        &[
            "audit",
            "keygen",
            "--name",
            "audit.test/acme",
            "--out",
            other.to_str().unwrap(),
        ],
        "",
    );
    let other_v = tmp.path().join("other.pub");
    std::fs::write(&other_v, out(&o)).unwrap();
    let o = custodia(
        &[
            "audit",
            "verify",
            dir_arg(&log),
            "--checkpoint",
            cp.to_str().unwrap(),
            "--key",
            other_v.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("signature"), "{}", err(&o));

    // Truncate below the checkpoint: every segment file goes except a shortened first one.
    let store = custodia_audit::SegmentStore::open_read_only(&log).unwrap();
    let (path, offset) = store.locate(4).unwrap();
    drop(store);
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(offset).unwrap();
    let o = custodia(&args, "");
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("truncated"), "{}", err(&o));
    assert!(err(&o).contains("10"), "{}", err(&o));
}

/// One key signs several logs (one origin per tenant): a checkpoint of log
/// A, signed by that key, is refused as log B's (exit 1), whether B is named
/// with --origin or by the key's name (`audit checkpoint`'s default origin);
/// `append --checkpoint` refuses it the same way, writing nothing.
#[test]
fn a_checkpoint_of_another_log_signed_by_the_same_key_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let Signed { log, key, vkey, .. } = signed_log_of_ten(tmp.path());
    let o = custodia(
        &[
            "audit",
            "checkpoint",
            dir_arg(&log),
            "--key",
            key.to_str().unwrap(),
            "--origin",
            "audit.test/acme/tenant-a",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let cp_a = tmp.path().join("tenant-a.note");
    std::fs::write(&cp_a, out(&o)).unwrap();
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "audit",
            "verify",
            dir_arg(&log),
            "--checkpoint",
            cp_a.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        custodia(&args, "")
    };
    let k = vkey.to_str().unwrap();
    // As log A's: intact.
    let o = verify(&["--key", k, "--origin", "audit.test/acme/tenant-a"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    // As log B's, or the key's own log's: another log's checkpoint.
    for extra in [
        &["--key", k, "--origin", "audit.test/acme/tenant-b"][..],
        &["--key", k][..],
        &["--origin", "audit.test/acme/tenant-b"][..],
    ] {
        let o = verify(extra);
        assert_eq!(o.status.code(), Some(1), "{extra:?}: {}", err(&o));
        assert!(
            err(&o).contains("checkpoint of log \"audit.test/acme/tenant-a\""),
            "{}",
            err(&o)
        );
    }
    let o = custodia(
        &[
            "audit",
            "append",
            dir_arg(&log),
            "--checkpoint",
            cp_a.to_str().unwrap(),
            "--key",
            k,
            "--origin",
            "audit.test/acme/tenant-b",
        ],
        &lines(10, 11),
    );
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let o = custodia(&["audit", "verify", dir_arg(&log), "--json"], "");
    assert!(out(&o).contains("\"size\":10"), "{}", out(&o));
}

#[test]
fn prove_and_export() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("log");
    assert!(
        custodia(&["audit", "append", dir_arg(&log)], &lines(0, 12))
            .status
            .success()
    );
    let o = custodia(&["audit", "prove", dir_arg(&log), "--index", "5"], "");
    assert!(o.status.success(), "{}", err(&o));
    let proof: custodia_audit::InclusionProof = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!((proof.index, proof.size), (5, 12));
    proof.verify().unwrap();

    let o = custodia(
        &[
            "audit",
            "export",
            dir_arg(&log),
            "--subject",
            &subject(1).to_string(),
        ],
        "",
    );
    assert!(o.status.success(), "{}", err(&o));
    let json: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    let ids: Vec<&str> = json["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"]["target"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["T-1", "T-4", "T-7", "T-10"]);

    let o = custodia(&["audit", "prove", dir_arg(&log), "--index", "12"], "");
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("outside"), "{}", err(&o));
}

#[test]
fn bad_input_is_a_usage_error_and_appends_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("log");
    let input = lines(0, 3) + "{not json\n" + &lines(3, 4);
    let o = custodia(&["audit", "append", dir_arg(&log)], &input);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("stdin line 4"), "{}", err(&o));
    assert!(
        !log.exists()
            || custodia_audit::SegmentStore::open_read_only(&log)
                .map(|s| custodia_audit::AuditStore::len(&s))
                .unwrap_or(0)
                == 0
    );

    let bad_action = lines(0, 1).replace("\"update\"", "\"Not An Action\"");
    let o = custodia(&["audit", "append", dir_arg(&log)], &bad_action);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("stdin line 1"), "{}", err(&o));

    // Personal data in the clear needs keys or an explicit opt-out.
    let with_ip = lines(0, 1).replace(
        "\"kind\":\"agent\",",
        "\"kind\":\"agent\",\"ip\":\"203.0.113.9\",",
    );
    let o = custodia(&["audit", "append", dir_arg(&log)], &with_ip);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("actor.ip"), "{}", err(&o));
    let o = custodia(
        &["audit", "append", dir_arg(&log), "--allow-clear"],
        &with_ip,
    );
    assert!(o.status.success(), "{}", err(&o));

    let o = custodia(
        &["audit", "verify", tmp.path().join("nope").to_str().unwrap()],
        "",
    );
    assert_eq!(o.status.code(), Some(2));
    let o = custodia(
        &[
            "audit",
            "verify",
            dir_arg(&log),
            "--checkpoint",
            "/nonexistent",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(2));
}

/// A value given as sealed on a JSON line must be an envelope under its
/// subject's key: clear text labelled sealed is refused like clear text
/// (exit 2, nothing appended), keys or not, unless --allow-clear.
#[test]
fn clear_text_labelled_sealed_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("log");
    let line = lines(0, 1).replace(
        "\"kind\":\"agent\",",
        &format!(
            "\"kind\":\"agent\",\"ip\":{{\"subject\":\"{}\",\"sealed\":\"MjAzLjAuMTEzLjk=\"}},",
            subject(0)
        ),
    );
    let o = custodia(&["audit", "append", dir_arg(&log)], &line);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(
        err(&o).contains("actor.ip is labelled sealed but is not an envelope"),
        "{}",
        err(&o)
    );
    let o = custodia(&["audit", "append", dir_arg(&log), "--allow-clear"], &line);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
}

/// A master key file (base64 of 32 bytes, mode 0600) at `path`.
fn write_master_key(path: &Path) {
    use base64::Engine;
    let mut f = std::fs::OpenOptions::new();
    f.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut f, 0o600);
    let mut file = f.open(path).unwrap();
    writeln!(
        file,
        "{}",
        base64::engine::general_purpose::STANDARD.encode([9u8; 32])
    )
    .unwrap();
}

/// Found in review: `audit export --subject-keys PATH` with no file at
/// PATH (a mistyped path) opened an empty store and failed later with "no
/// key subject/…/v1 to decrypt with", never saying the file was missing.
/// Now it is refused first, naming the file (as `dsr` does), and no file
/// is created there.
#[test]
fn export_with_a_missing_key_store_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("log");
    let master = tmp.path().join("master.key");
    let keys = tmp.path().join("subject-keys");
    write_master_key(&master);
    let with_ip = lines(0, 3).replace(
        "\"kind\":\"agent\",",
        "\"kind\":\"agent\",\"ip\":\"203.0.113.9\",",
    );
    let (master, keys) = (master.to_str().unwrap(), keys.to_str().unwrap());
    let o = custodia(
        &[
            "audit",
            "append",
            dir_arg(&log),
            "--master-key",
            master,
            "--subject-keys",
            keys,
        ],
        &with_ip,
    );
    assert!(o.status.success(), "{}", err(&o));
    let missing = tmp.path().join("subject-keys.typo");
    let alice = subject(1).to_string();
    let o = custodia(
        &[
            "audit",
            "export",
            dir_arg(&log),
            "--subject",
            &alice,
            "--master-key",
            master,
            "--subject-keys",
            missing.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(
        err(&o).contains(&format!("{}: no such key store", missing.display())),
        "{}",
        err(&o)
    );
    assert!(out(&o).is_empty(), "{}", out(&o));
    assert!(!missing.exists());
}

#[test]
fn sealed_personal_data_is_erasable() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("log");
    let master = tmp.path().join("master.key");
    let keys = tmp.path().join("subject-keys");
    write_master_key(&master);
    let with_ip = lines(0, 3).replace(
        "\"kind\":\"agent\",",
        "\"kind\":\"agent\",\"ip\":\"203.0.113.9\",",
    );
    let key_args = [
        "--master-key",
        master.to_str().unwrap(),
        "--subject-keys",
        keys.to_str().unwrap(),
    ];
    let mut args = vec!["audit", "append", dir_arg(&log)];
    args.extend(key_args);
    let o = custodia(&args, &with_ip);
    assert!(o.status.success(), "{}", err(&o));
    // The IP never reaches the segment files.
    for entry in std::fs::read_dir(&log).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(!bytes.windows(11).any(|w| w == b"203.0.113.9"));
    }
    let mut export = vec!["audit", "export", dir_arg(&log), "--subject"];
    let alice = subject(1).to_string();
    export.push(&alice);
    export.extend(key_args);
    let o = custodia(&export, "");
    assert!(o.status.success(), "{}", err(&o));
    let json: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(json["events"][0]["event"]["actor"]["ip"], "203.0.113.9");

    let master_key = custodia_crypt::SecretKey::from_file(&master).unwrap();
    let store = custodia_crypt::FileKeyStore::open(&keys, &master_key).unwrap();
    let vault = custodia_crypt::SubjectVault::new(
        std::sync::Arc::new(custodia_crypt::Keyring::new(master_key)),
        store,
        std::sync::Arc::new(custodia_core::SystemClock),
    );

    // Found in review: one value of hers that her key does not open (here
    // an envelope of hers sealed for another event) failed her export for
    // good. Now the export is made, the value named unreadable, the export
    // marked incomplete, and standard error says so.
    let moved = {
        use base64::Engine;
        let ctx = custodia_crypt::FieldContext::new(
            tenant(),
            custodia_audit::personal::RECORD_TYPE,
            "another-event",
            "actor.ip",
        )
        .unwrap();
        base64::engine::general_purpose::STANDARD
            .encode(vault.seal(subject(1), &ctx, b"198.51.100.1").unwrap())
    };
    let forged = lines(1, 2).replace(
        "\"kind\":\"agent\",",
        &format!(
            "\"kind\":\"agent\",\"ip\":{{\"subject\":\"{}\",\"sealed\":\"{moved}\"}},",
            subject(1)
        ),
    );
    let mut args = vec!["audit", "append", dir_arg(&log)];
    args.extend(key_args);
    let o = custodia(&args, &forged);
    assert!(o.status.success(), "{}", err(&o));
    let o = custodia(&export, "");
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        err(&o)
            .contains("export incomplete: 1 of the subject's values could not be read (events 3)"),
        "{}",
        err(&o)
    );
    let json: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(json["format"], "custodia.audit.subject-export/v2");
    assert_eq!(
        json["incomplete"],
        serde_json::json!({"unreadable": 1, "events": [3]})
    );
    assert_eq!(json["events"][0]["event"]["actor"]["ip"], "203.0.113.9");
    assert_eq!(
        json["events"][1]["unreadable"],
        serde_json::json!([{"path": "actor.ip", "reason": "not_authentic"}])
    );
    assert!(json["events"][1]["event"]["actor"].get("ip").is_none());

    // Shred subject 1 with the library, as the DSR flow would.
    vault
        .shred(
            tenant(),
            subject(1),
            ActorId::from_external_key(tenant(), "user", "dpo"),
        )
        .unwrap();

    let o = custodia(&export, "");
    assert!(o.status.success(), "{}", err(&o));
    let json: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(json["events"][0]["erased"], serde_json::json!(["actor.ip"]));
    // After the shred the moved envelope is erased like the rest: complete.
    assert_eq!(json["format"], "custodia.audit.subject-export/v1");
    assert!(json["events"][0]["event"]["actor"]["ip"]["sealed"].is_string());
    let o = custodia(&["audit", "verify", dir_arg(&log)], "");
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
}

/// The segment file holding record `index` of the log in `dir`, and its
/// byte offset.
fn record_at(dir: &Path, index: u64) -> (std::path::PathBuf, usize) {
    let store = custodia_audit::SegmentStore::open_read_only(dir).unwrap();
    let (path, offset) = store.locate(index).unwrap();
    (path, offset as usize)
}

#[test]
fn a_damaged_length_is_tampering_and_append_refuses_until_recover() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("log");
    assert!(
        custodia(&["audit", "append", dir_arg(&log)], &lines(0, 200))
            .status
            .success()
    );
    // One flipped bit makes record 100's length run past the end of the file.
    let (path, offset) = record_at(&log, 100);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[offset + 1] ^= 0x10;
    std::fs::write(&path, &bytes).unwrap();

    let o = custodia(&["audit", "verify", dir_arg(&log)], "");
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("record 100"), "{}", err(&o));
    assert!(!out(&o).contains("ok"), "{}", out(&o));
    let o = custodia(&["audit", "verify", dir_arg(&log), "--json"], "");
    assert_eq!(o.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(json["ok"], false);

    // Appending drops nothing: refused, the file as it was.
    let o = custodia(&["audit", "append", dir_arg(&log)], &lines(200, 201));
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("record 100"), "{}", err(&o));
    assert!(err(&o).contains("custodia audit recover"), "{}", err(&o));
    assert!(!err(&o).contains("recovered from a crash"), "{}", err(&o));
    assert_eq!(std::fs::read(&path).unwrap(), bytes);

    // A dry run names the cut, exits 1 and changes nothing.
    let o = custodia(
        &["audit", "recover", dir_arg(&log), "--dry-run", "--json"],
        "",
    );
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let plan: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(plan["would_recover"], true);
    assert_eq!(plan["kept"], 100);
    assert_eq!(plan["remove"][0]["offset"], offset as u64);
    assert_eq!(plan["remove"][0]["path"], path.display().to_string());
    let o = custodia(&["audit", "recover", dir_arg(&log), "--dry-run"], "");
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(out(&o).contains("would keep 100 records"), "{}", out(&o));
    assert!(out(&o).contains("nothing changed"), "{}", out(&o));
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert!(!log.join("recovered").exists());

    // The explicit recovery cuts at record 100 and keeps a copy.
    let o = custodia(&["audit", "recover", dir_arg(&log), "--json"], "");
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let json: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(json["recovered"], true);
    assert_eq!(json["kept"], 100);
    assert_eq!(json["size"], 100);
    let removed = &json["removed"][0];
    assert_eq!(removed["offset"], offset as u64);
    let copy = std::fs::read(removed["copy"].as_str().unwrap()).unwrap();
    assert_eq!(copy, bytes[offset..]);
    let note = std::fs::read_to_string(json["note"].as_str().unwrap()).unwrap();
    assert!(note.contains("record 100"), "{note}");
    assert!(json["note"].as_str().unwrap().starts_with(dir_arg(&log)));

    let o = custodia(&["audit", "append", dir_arg(&log)], &lines(100, 101));
    assert!(o.status.success(), "{}", err(&o));
    let o = custodia(&["audit", "verify", dir_arg(&log)], "");
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(out(&o).contains("ok: 101 records intact"), "{}", out(&o));
    for dry_run in [&["--dry-run"][..], &[]] {
        let o = custodia(
            &[&["audit", "recover", dir_arg(&log)][..], dry_run].concat(),
            "",
        );
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
        assert!(out(&o).contains("nothing to recover"), "{}", out(&o));
    }
}

/// README and the command's help: a finding's `--json` document says
/// `"ok": false` with the `"finding"`; a dry run that finds something to
/// cut exits 1 like any finding, so it says so too (keeping its plan).
#[test]
fn a_dry_runs_finding_says_ok_false_with_the_finding_in_its_json() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("log");
    assert!(
        custodia(&["audit", "append", dir_arg(&log)], &lines(0, 20))
            .status
            .success()
    );
    let dry_run = ["audit", "recover", dir_arg(&log), "--dry-run", "--json"];
    // Intact: nothing to cut, ok, no finding.
    let o = custodia(&dry_run, "");
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let plan: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(plan["ok"], true, "{plan}");
    assert_eq!(plan["finding"], serde_json::Value::Null, "{plan}");
    assert_eq!(plan["would_recover"], false, "{plan}");

    let (path, offset) = record_at(&log, 7);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[offset + 1] ^= 0x10;
    std::fs::write(&path, &bytes).unwrap();
    let o = custodia(&dry_run, "");
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let plan: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(plan["ok"], false, "{plan}");
    let finding = plan["finding"].as_str().unwrap_or_else(|| panic!("{plan}"));
    assert!(finding.contains("record 7"), "{plan}");
    assert_eq!(plan["finding"], plan["reason"], "{plan}");
    assert!(err(&o).contains(finding), "{}", err(&o));
    // The plan is still there, and nothing changed.
    assert_eq!(plan["would_recover"], true, "{plan}");
    assert_eq!(plan["kept"], 7, "{plan}");
    assert_eq!(plan["remove"][0]["offset"], offset as u64, "{plan}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    // One document on standard output, as for every --json finding.
    assert_eq!(out(&o).lines().count(), 1, "{}", out(&o));
}

#[test]
fn zeroed_records_at_the_end_are_refused_not_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("log");
    assert!(
        custodia(&["audit", "append", dir_arg(&log)], &lines(0, 20))
            .status
            .success()
    );
    let (path, offset) = record_at(&log, 17);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[offset..].fill(0);
    std::fs::write(&path, &bytes).unwrap();
    let o = custodia(&["audit", "verify", dir_arg(&log)], "");
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("record 17"), "{}", err(&o));
    let o = custodia(&["audit", "append", dir_arg(&log)], &lines(20, 21));
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[test]
fn append_with_a_checkpoint_refuses_a_shorter_log() {
    let tmp = tempfile::tempdir().unwrap();
    let Signed { log, vkey, cp, .. } = signed_log_of_ten(tmp.path());
    let with_checkpoint = [
        "audit",
        "append",
        dir_arg(&log),
        "--checkpoint",
        cp.to_str().unwrap(),
        "--key",
        vkey.to_str().unwrap(),
    ];
    let o = custodia(&with_checkpoint, &lines(10, 12));
    assert!(o.status.success(), "{}", err(&o));

    // Record 11 cut in half: a torn tail the checkpoint does not cover…
    let (path, offset) = record_at(&log, 11);
    let whole = std::fs::read(&path).unwrap();
    std::fs::write(&path, &whole[..offset + 10]).unwrap();
    let o = custodia(&with_checkpoint, &lines(11, 12));
    assert!(o.status.success(), "{}", err(&o));
    assert!(err(&o).contains("recovered from a crash"), "{}", err(&o));

    // …but the log cut below the checkpoint is refused, and left alone.
    let (path, offset) = record_at(&log, 6);
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(offset as u64 + 10).unwrap();
    let before = std::fs::read(&path).unwrap();
    let o = custodia(&with_checkpoint, &lines(12, 13));
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("truncated"), "{}", err(&o));
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // Without the checkpoint the torn record 6 is dropped as a crash leftover.
    let o = custodia(&["audit", "append", dir_arg(&log)], &lines(6, 7));
    assert!(o.status.success(), "{}", err(&o));
}

#[test]
fn a_refused_append_with_json_reports_the_finding_as_json() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("log");
    assert!(
        custodia(&["audit", "append", dir_arg(&log)], &lines(0, 5))
            .status
            .success()
    );
    let (path, offset) = record_at(&log, 2);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[offset + 5] ^= 0x01; // the index
    std::fs::write(&path, &bytes).unwrap();
    let o = custodia(&["audit", "append", dir_arg(&log), "--json"], &lines(5, 6));
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let json: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(json["ok"], false);
    assert!(
        json["finding"].as_str().unwrap().contains("record 2"),
        "{json}"
    );
}

#[test]
fn a_directory_without_a_log_or_records_is_not_ok() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    std::fs::create_dir(&dir).unwrap();
    let o = custodia(&["audit", "verify", dir_arg(&dir)], "");
    assert_eq!(o.status.code(), Some(2), "{}{}", out(&o), err(&o));
    assert!(err(&o).contains("holds no audit log"), "{}", err(&o));
    assert!(!out(&o).contains("ok"), "{}", out(&o));

    // A log with segments but no records: expected records make it an error.
    drop(custodia_audit::SegmentStore::open(&dir, Default::default()).unwrap());
    let o = custodia(&["audit", "verify", dir_arg(&dir)], "");
    assert_eq!(o.status.code(), Some(2), "{}{}", out(&o), err(&o));
    assert!(err(&o).contains("holds no records"), "{}", err(&o));
    let o = custodia(&["audit", "verify", "--allow-empty", dir_arg(&dir)], "");
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(out(&o).starts_with("ok: 0 records intact"), "{}", out(&o));
}

#[test]
fn append_over_several_batches_is_one_log_and_a_long_line_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    // More events than one staging batch (10,000).
    let o = custodia(
        &["audit", "append", "--sync", "none", dir_arg(&dir)],
        &lines(0, 10_250),
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(out(&o).starts_with("appended 10250 events"), "{}", out(&o));
    let o = custodia(&["audit", "verify", dir_arg(&dir)], "");
    assert!(out(&o).contains("ok: 10250 records intact"), "{}", out(&o));

    // A line over 16 MiB is refused before anything is written.
    let long = format!("{}{}\n", lines(0, 1), " ".repeat(17 << 20));
    let o = custodia(&["audit", "append", dir_arg(&dir)], &long);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(err(&o).contains("longer than 16 MiB"), "{}", err(&o));
    let o = custodia(&["audit", "verify", dir_arg(&dir)], "");
    assert!(out(&o).contains("ok: 10250 records intact"), "{}", out(&o));
}

/// `checkpoint`, `prove` and `export` read a log as `verify` does: a
/// directory that holds no log (a mistyped path, `DIR` for `DIR/audit`) is
/// an input error, never a signed checkpoint of size 0 or an empty export
/// that reads as "nothing about this person".
#[test]
fn reading_commands_refuse_a_directory_without_a_log() {
    let tmp = tempfile::tempdir().unwrap();
    let Signed { key, .. } = signed_log_of_ten(tmp.path());
    let empty = tmp.path().join("not-a-log");
    std::fs::create_dir(&empty).unwrap();
    let subject = subject(1).to_string();
    for args in [
        vec!["audit", "export", dir_arg(&empty), "--subject", &subject],
        vec![
            "audit",
            "checkpoint",
            dir_arg(&empty),
            "--key",
            key.to_str().unwrap(),
        ],
        vec!["audit", "prove", dir_arg(&empty), "--index", "0"],
    ] {
        let o = custodia(&args, "");
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", out(&o));
        assert!(out(&o).is_empty(), "{args:?}: {}", out(&o));
        assert!(
            err(&o).contains("holds no audit log"),
            "{args:?}: {}",
            err(&o)
        );
        // Nothing was created in the directory either.
        assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0, "{args:?}");
    }
}

/// A dry run that cannot even plan (the first segment's header is
/// damaged, which recovery will not cut) is a finding like any other: with
/// `--json` its document is on standard output, not only the reason on
/// standard error.
#[test]
fn a_dry_run_refused_outright_still_prints_its_json_finding() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("log");
    assert!(
        custodia(&["audit", "append", dir_arg(&log)], &lines(0, 3))
            .status
            .success()
    );
    let first = log.join("00000000.seg");
    let mut bytes = std::fs::read(&first).unwrap();
    bytes[..4].copy_from_slice(b"XXXX");
    std::fs::write(&first, &bytes).unwrap();
    for dry_run in [true, false] {
        let mut args = vec!["audit", "recover", dir_arg(&log), "--json"];
        if dry_run {
            args.push("--dry-run");
        }
        let o = custodia(&args, "");
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", err(&o));
        let value: serde_json::Value = serde_json::from_str(out(&o).trim())
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {:?}", out(&o)));
        assert_eq!(value["ok"], false, "{value}");
        assert!(
            value["finding"].as_str().unwrap().contains("header"),
            "{value}"
        );
        assert_eq!(out(&o).lines().count(), 1, "{}", out(&o));
    }
    // Nothing was changed.
    assert_eq!(std::fs::read(&first).unwrap(), bytes);
}
