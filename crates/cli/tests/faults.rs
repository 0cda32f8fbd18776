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
