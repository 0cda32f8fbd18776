//! Fault campaigns: the `custodia` command killed with SIGKILL at random
//! moments. Bounded in time (a few seconds); the delays come from a fixed
//! seed so a failure replays.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use custodia_core::{ActorId, TenantId};

fn events(run: u32, count: u32) -> String {
    let tenant = TenantId::from_external_key("crm", "ACME");
    let actor = ActorId::from_external_key(tenant, "user", "7");
    (0..count)
        .map(|i| {
            format!(
                r#"{{"tenant":"{tenant}","actor":{{"kind":"agent","id":"{actor}"}},"action":"update","target":{{"type":"ticket","id":"T-{run}-{i}"}},"purpose":"support"}}"#
            ) + "\n"
        })
        .collect()
}

/// `custodia audit verify DIR`: (exit code, records intact).
fn verify(dir: &Path) -> (Option<i32>, u64) {
    let o = Command::new(env!("CARGO_BIN_EXE_custodia"))
        .args(["audit", "verify", "--allow-empty", "--json"])
        .arg(dir)
        .output()
        .unwrap();
    let size = serde_json::from_slice::<serde_json::Value>(&o.stdout)
        .ok()
        .and_then(|v| v["size"].as_u64())
        .unwrap_or(0);
    (o.status.code(), size)
}

/// The bytes of every file in the log directory.
fn log_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// A small deterministic generator (xorshift) for the kill delays.
struct Delays(u64);

impl Delays {
    fn next_millis(&mut self, max: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % max
    }
}

#[test]
fn append_killed_at_random_moments_loses_no_acknowledged_event() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let mut delays = Delays(0x5eed_cafe_f00d_1234);
    let (mut acknowledged, mut killed, mut mid_append) = (0u64, 0u32, 0u32);
    for run in 0..16 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_custodia"))
            .args(["audit", "append", "--sync", "every"])
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let input = events(run, 1500);
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        });
        // Half the runs die at a random moment; the others once the log has
        // started to grow (mid-append), a random few milliseconds later.
        if run % 2 == 0 {
            std::thread::sleep(Duration::from_millis(delays.next_millis(400)));
        } else {
            let start = log_bytes(&dir);
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            while log_bytes(&dir) <= start + 4096
                && std::time::Instant::now() < deadline
                && child.try_wait().ok().flatten().is_none()
            {
                std::thread::sleep(Duration::from_micros(200));
            }
            std::thread::sleep(Duration::from_millis(delays.next_millis(20)));
        }
        let _ = child.kill();
        let _ = writer.join();
        let out = child.wait_with_output().unwrap();
        if out.status.success() {
            // Acknowledged: the command said so before it exited.
            assert!(String::from_utf8_lossy(&out.stdout).starts_with("appended 1500 events"));
            acknowledged += 1500;
        } else {
            killed += 1;
        }
        // After every run, killed or not: the log verifies, nothing
        // acknowledged is missing, and the next writer can open it.
        let (code, size) = verify(&dir);
        if dir.exists() && code != Some(2) {
            assert_eq!(code, Some(0), "run {run}: the log must verify after a kill");
            assert!(
                size >= acknowledged,
                "run {run}: {size} records < {acknowledged} acknowledged"
            );
            if size > acknowledged {
                // Killed mid-append: what it wrote stays (never acknowledged);
                // count it in so the next run's bound still holds.
                mid_append += 1;
                acknowledged = size;
            }
        } else {
            assert_eq!(
                acknowledged, 0,
                "run {run}: a log with acknowledged events vanished"
            );
        }
    }
    eprintln!("{killed} of 16 runs killed, {mid_append} of them mid-append");
    // The campaign must actually have killed some runs, and let some finish.
    assert!(
        killed > 0 && acknowledged > 0,
        "killed {killed}, acknowledged {acknowledged}"
    );
    let o = Command::new(env!("CARGO_BIN_EXE_custodia"))
        .args(["audit", "append", "--sync", "every"])
        .arg(&dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (code, size) = verify(&dir);
    assert_eq!(code, Some(0));
    assert!(size >= acknowledged);
}

/// `custodia ARGS` to completion, with no standard input.
fn custodia(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_custodia"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// `custodia ARGS` under a file-size limit of `blocks` (`ulimit -f`).
fn custodia_limited(blocks: u32, args: &[&str]) -> std::process::Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -f {blocks}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_custodia"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Runs `custodia ARGS` and kills it with SIGKILL after `millis` (if it is
/// still running); true when it was killed.
fn killed_after(args: &[&str], millis: u64) -> bool {
    let mut child = Command::new(env!("CARGO_BIN_EXE_custodia"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(millis));
    let killed = child.try_wait().unwrap().is_none() && child.kill().is_ok();
    let status = child.wait().unwrap();
    killed && !status.success()
}

/// `keys SUB` on `store` with the master key in `key`, then `extra`.
fn keys(store: &str, key: &str, sub: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["keys", sub, "--store", store, "--master-key-file", key];
    args.extend(extra);
    args.into_iter().map(str::to_owned).collect()
}

/// The arguments as `&str`s.
fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// A key store: (directory, store path, master-key path).
fn key_store() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("keys.cst").display().to_string();
    let key = dir.path().join("master.key").display().to_string();
    let o = custodia(&[
        "keys",
        "init",
        "--store",
        &store,
        "--write-master-key",
        &key,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (dir, store, key)
}

fn keyring(store: &str, key: &str) -> custodia_crypt::Keyring {
    use custodia_crypt::{FileKeyStore, KeyStore, Keyring, SecretKey};
    let master = SecretKey::from_file(Path::new(key)).unwrap();
    let file = FileKeyStore::open(store, &master).unwrap();
    let mode = file.keyring().unwrap().unwrap().mode;
    Keyring::from_store(file, &master, mode).unwrap()
}

/// The record ids of the test values: "0", "1", ...
const IDS: [&str; 16] = [
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15",
];

/// Contact `i`'s e-mail field, in tenant ACME or Globex.
fn context(i: u32, id: &str) -> custodia_crypt::FieldContext<'_> {
    let tenant = TenantId::from_external_key(
        "crm",
        if i.is_multiple_of(2) {
            "ACME"
        } else {
            "Globex"
        },
    );
    custodia_crypt::FieldContext::new(tenant, "contact", id, "email").unwrap()
}

/// `count` JSON lines of e-mail addresses sealed under the store's primary.
fn sealed_lines(store: &str, key: &str, count: u32) -> String {
    let keyring = keyring(store, key);
    (0..count)
        .map(|i| {
            let id = i.to_string();
            let ctx = context(i, &id);
            let sealed = keyring
                .seal(&ctx, format!("user{i}@example.com").as_bytes())
                .unwrap();
            let line = serde_json::json!({
                "tenant": ctx.tenant().to_string(), "record_type": "contact",
                "record_id": i.to_string(), "field": "email",
                "value": custodia_crypt::envelope::to_text(&sealed),
            });
            format!("{line}\n")
        })
        .collect()
}

/// Every line of `text` opens to its own address, sealed under `version`.
fn assert_lines_open(store: &str, key: &str, text: &str, count: u32, version: u32) {
    let keyring = keyring(store, key);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), count as usize, "every line is there, once");
    for (i, line) in (0..).zip(lines) {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        let sealed = custodia_crypt::envelope::from_text(value["value"].as_str().unwrap()).unwrap();
        let envelope = custodia_crypt::envelope::Envelope::decode(&sealed).unwrap();
        assert_eq!(envelope.key_id().version(), version, "line {i}");
        let plain = keyring.open(&context(i, &i.to_string()), &sealed).unwrap();
        assert_eq!(plain, format!("user{i}@example.com").as_bytes(), "line {i}");
    }
}

/// A key store, `lines` sealed lines under v1 in `data.jsonl`, and what
/// `keys reencrypt` needs to move them to `moved.jsonl`.
struct Reencryption {
    dir: tempfile::TempDir,
    store: String,
    key: String,
    input: std::path::PathBuf,
    output: std::path::PathBuf,
}

impl Reencryption {
    fn new(lines: u32) -> Self {
        let (dir, store, key) = key_store();
        let input = dir.path().join("data.jsonl");
        std::fs::write(&input, sealed_lines(&store, &key, lines)).unwrap();
        let output = dir.path().join("moved.jsonl");
        Self {
            dir,
            store,
            key,
            input,
            output,
        }
    }

    /// `keys reencrypt` from `input` to `output`.
    fn args(&self, input: &Path, output: &Path) -> Vec<String> {
        let (input, output) = (input.display().to_string(), output.display().to_string());
        keys(
            &self.store,
            &self.key,
            "reencrypt",
            &["--input", &input, "--output", &output],
        )
    }
}

#[test]
fn reencrypt_killed_at_random_moments_then_rerun_completes() {
    const LINES: u32 = 4000;
    let r = Reencryption::new(LINES);
    let original = std::fs::read(&r.input).unwrap();
    let o = custodia(&strs(&keys(&r.store, &r.key, "rotate", &[])));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let args = r.args(&r.input, &r.output);
    // Kill moments fall within one whole run of this build: a fixed bound
    // let a release build finish every run before its kill.
    let started = std::time::Instant::now();
    let whole = custodia(&strs(&args));
    assert!(
        whole.status.success(),
        "{}",
        String::from_utf8_lossy(&whole.stderr)
    );
    let whole = u64::try_from(started.elapsed().as_millis()).unwrap().max(2);
    let mut delays = Delays(0x0dd_ba11_5eed);
    let mut killed = 0;
    for run in 0..8 {
        let _ = std::fs::remove_file(&r.output);
        killed += u32::from(killed_after(&strs(&args), delays.next_millis(whole)));
        // The input is never touched; the output is all or nothing.
        assert_eq!(std::fs::read(&r.input).unwrap(), original, "run {run}");
        if let Ok(done) = std::fs::read_to_string(&r.output) {
            assert_lines_open(&r.store, &r.key, &done, LINES, 2);
        }
    }
    assert!(killed > 0, "the campaign must kill some runs");
    // A re-run after the kills completes, every value under v2, none lost...
    let o = custodia(&strs(&args));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let done = std::fs::read_to_string(&r.output).unwrap();
    assert_lines_open(&r.store, &r.key, &done, LINES, 2);
    // ...and re-encrypting its output again changes nothing (applied once).
    let mut again = r.args(&r.output, &r.dir.path().join("again.jsonl"));
    again.push("--json".into());
    let report: serde_json::Value =
        serde_json::from_slice(&custodia(&strs(&again)).stdout).unwrap();
    assert_eq!(
        (report["reencrypted"].as_u64(), report["unchanged"].as_u64()),
        (Some(0), Some(u64::from(LINES)))
    );
}

/// The store's versions: all of them, in order, and the primary.
fn versions(store: &str, key: &str) -> (Vec<u32>, u32) {
    let o = custodia(&strs(&keys(store, key, "status", &["--json"])));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let versions = report["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u32)
        .collect();
    (versions, report["primary"].as_u64().unwrap() as u32)
}

#[test]
fn rotate_killed_at_random_moments_loses_no_key() {
    let (_dir, store, key) = key_store();
    let args = keys(&store, &key, "rotate", &[]);
    let args = strs(&args);
    let mut delays = Delays(0xfeed_5eed_0001);
    // What each version sealed must stay readable whatever a kill interrupts.
    let mut sealed = Vec::new();
    let mut killed = 0;
    for run in 0..12 {
        killed += u32::from(killed_after(&args, delays.next_millis(40)));
        let (versions, primary) = versions(&store, &key);
        assert_eq!(
            versions,
            (1..=primary).collect::<Vec<_>>(),
            "run {run}: versions 1..=primary, no gap"
        );
        let keyring = keyring(&store, &key);
        sealed.push(
            keyring
                .seal(&context(run, IDS[run as usize]), b"kept")
                .unwrap(),
        );
        for (i, envelope) in (0..).zip(&sealed) {
            let ctx = context(i, IDS[i as usize]);
            assert_eq!(
                keyring.open(&ctx, envelope).unwrap(),
                b"kept",
                "run {run}: value {i}"
            );
        }
    }
    eprintln!("{killed} of 12 rotations killed");
    let before = versions(&store, &key).1;
    let o = custodia(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(versions(&store, &key).1, before + 1);
}

#[test]
fn two_processes_rotating_at_once_lose_no_key() {
    let (_dir, store, key) = key_store();
    let rotate = |store: String, key: String| {
        std::thread::spawn(move || {
            (0..5)
                .map(|_| {
                    let o = custodia(&strs(&keys(&store, &key, "rotate", &["--json"])));
                    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
                    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
                    report["new"].as_u64().unwrap() as u32
                })
                .collect::<Vec<_>>()
        })
    };
    let (a, b) = (
        rotate(store.clone(), key.clone()),
        rotate(store.clone(), key.clone()),
    );
    let mut made: Vec<u32> = a
        .join()
        .unwrap()
        .into_iter()
        .chain(b.join().unwrap())
        .collect();
    made.sort_unstable();
    // Ten rotations, ten distinct versions, all of them in the store.
    assert_eq!(made, (2..=11).collect::<Vec<_>>());
    assert_eq!(versions(&store, &key), ((1..=11).collect(), 11));
}

#[test]
fn a_file_size_limit_is_a_clear_error_and_leaves_data_intact() {
    let r = Reencryption::new(2000);
    let original = std::fs::read(&r.input).unwrap();
    let store_bytes = std::fs::read(&r.store).unwrap();
    // 64 blocks of 512 bytes: far less than the output's ~700 KB.
    let o = custodia_limited(64, &strs(&r.args(&r.input, &r.output)));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "an error, not a signal: {stderr}");
    assert!(stderr.contains("File too large"), "{stderr}");
    assert_eq!(std::fs::read(&r.input).unwrap(), original);
    assert!(!r.output.exists(), "no partial output");
    assert_eq!(
        std::fs::read(&r.store).unwrap(),
        store_bytes,
        "the store is unchanged"
    );

    // An audit log: the append that hits the limit appends nothing, and the
    // log still verifies with what it held.
    let log = r.dir.path().join("log");
    let log_arg = log.display().to_string();
    let append = |limit: Option<u32>, count: u32| {
        let script = match limit {
            Some(blocks) => format!("ulimit -f {blocks}; exec \"$0\" \"$@\""),
            None => "exec \"$0\" \"$@\"".to_owned(),
        };
        let mut child = Command::new("sh")
            .args([
                "-c",
                &script,
                env!("CARGO_BIN_EXE_custodia"),
                "audit",
                "append",
                &log_arg,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The command may stop reading at the limit: a broken pipe is expected.
        let _ = child
            .stdin
            .take()
            .unwrap()
            .write_all(events(0, count).as_bytes());
        child.wait_with_output().unwrap()
    };
    assert!(append(None, 10).status.success());
    let o = append(Some(64), 2000);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "an error, not a signal: {stderr}");
    assert!(stderr.contains("File too large"), "{stderr}");
    assert_eq!(verify(&log), (Some(0), 10));
}

/// `custodia ARGS` fed one line of 16 MiB + 1 byte (no newline) after a
/// good `first` line: exit 2 naming line 2, without reading on.
fn assert_refuses_a_line_over_16_mib(args: &[&str], first: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_custodia"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let first = format!("{first}\n");
    let writer = std::thread::spawn(move || {
        let long = vec![b'x'; (16 << 20) + 1];
        // The command stops reading at the cap: a broken pipe is expected.
        let _ = stdin
            .write_all(first.as_bytes())
            .and_then(|()| stdin.write_all(&long));
    });
    let out = child.wait_with_output().unwrap();
    let _ = writer.join();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    // Named as `line 2` or, after a file name, `-:2`.
    let named = stderr.contains("line 2:") || stderr.contains("-:2:");
    assert!(
        named && stderr.contains("longer than 16 MiB"),
        "{args:?}: {stderr}"
    );
}

#[test]
fn mask_jsonl_refuses_a_line_over_16_mib() {
    assert_refuses_a_line_over_16_mib(&["mask", "--jsonl"], r#"{"text":"hello"}"#);
}

#[test]
fn retention_eval_refuses_a_line_over_16_mib() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/retention");
    let policy = data.join("issue.toml").display().to_string();
    let records = std::fs::read_to_string(data.join("records.jsonl")).unwrap();
    let first = records.lines().next().unwrap();
    let args = [
        "retention",
        "eval",
        "--policy",
        &policy,
        "--records",
        "-",
        "--now",
        "2026-11-22T00:00:00Z",
    ];
    assert_refuses_a_line_over_16_mib(&args, first);
}

#[test]
fn keys_reencrypt_status_and_retire_refuse_a_line_over_16_mib() {
    let (_dir, store, key) = key_store();
    let first = sealed_lines(&store, &key, 1);
    let first = first.trim_end();
    // v1 is retirable only once it is not primary.
    let rotated = custodia(&strs(&keys(&store, &key, "rotate", &[])));
    assert!(rotated.status.success());
    for (sub, extra) in [("reencrypt", None), ("status", None), ("retire", Some("1"))] {
        let args = keys(
            &store,
            &key,
            sub,
            &[&["--input", "-"][..], extra.as_slice()].concat(),
        );
        assert_refuses_a_line_over_16_mib(&strs(&args), first);
    }
}

#[test]
fn audit_append_refuses_a_line_over_16_mib() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log").display().to_string();
    assert_refuses_a_line_over_16_mib(
        &["audit", "append", "--allow-clear", &log],
        events(0, 1).trim_end(),
    );
    assert!(
        !Path::new(&log).exists() || verify(Path::new(&log)).1 == 0,
        "nothing appended"
    );
}

/// A new key file that cannot be written (here `ulimit -f 0`) is a clear
/// error that leaves nothing behind: no empty 0600 file that makes the
/// rerun fail with "File exists" (`audit keygen --out`, `keys init
/// --write-master-key`).
#[test]
fn a_key_file_that_cannot_be_written_is_not_left_empty_and_a_rerun_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let signer = dir.path().join("signer.key");
    let signer_arg = signer.display().to_string();
    let keygen = [
        "audit",
        "keygen",
        "--name",
        "audit.example.com/acme",
        "--out",
    ];
    let master = dir.path().join("master.key");
    let master_arg = master.display().to_string();
    let store_arg = dir.path().join("keys.cst").display().to_string();
    let init = [
        "keys",
        "init",
        "--store",
        &store_arg,
        "--write-master-key",
        &master_arg,
    ];
    for (args, file) in [
        ([&keygen[..], &[&signer_arg]].concat(), &signer),
        (init.to_vec(), &master),
    ] {
        let o = custodia_limited(0, &args);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "an error, not a signal: {stderr}");
        assert!(stderr.contains("File too large"), "{stderr}");
        assert!(!file.exists(), "{} left behind", file.display());
        let o = custodia(&args);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "the rerun: {stderr}");
        assert!(!stderr.contains("exists"), "{stderr}");
        assert!(std::fs::read_to_string(file).unwrap().trim().len() > 16);
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".tmp") || name.contains(".init-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
