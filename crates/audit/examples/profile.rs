//! Measures the issue's figures outside criterion, each next to the raw
//! primitive in the same run, with CPU time and the load average (the
//! figures are only comparable within one run on a shared machine):
//!
//! ```sh
//! cargo build --release -p custodia-audit --example profile
//! P=target/release/examples/profile
//! $P append 1000000            # in-memory log append vs raw SHA-256 (target >= 1 M/s)
//! $P parts 200000              # each stage of an append, ns per event
//! $P build 1000000 /tmp/log1m  # a 1,000,000-event segment log (560 MB)
//! perf stat -e task-clock $P verify /tmp/log1m   # target < 2 s wall
//! taskset -c 0 $P verify /tmp/log1m              # on one core
//! valgrind --tool=callgrind $P append 20000      # minus `events 20000`
//! ```
//!
//! `append N`: builds 10,000 events, then appends N in turn to an in-memory
//! log (timed), then times raw SHA-256 of as many encodings. `events N`: only
//! builds them (subtract for the cost of the appends under callgrind).
//! `parts N`: encode, raw SHA-256, leaf and node hash, tree push, memory
//! store append and log append, each on its own. `build N DIR`: writes an
//! N-event segment log to DIR. `verify DIR`: opens and verifies the log in
//! DIR (timed: wall and CPU), then times raw SHA-256 over the same records.
//! `sha N`: raw SHA-256 of N event encodings.

use custodia_audit::{
    AuditLog, Durability, Event, MemoryStore, SegmentOptions, SegmentStore, canonical, verify,
};
use sha2::Digest;
use std::hint::black_box;
use std::time::{Duration, Instant};

#[path = "support/event.rs"]
mod support;
use support::event;

/// CPU time (user + system) of this process so far, from `/proc/self/stat`
/// (in clock ticks of 1/100 s), or zero where that is not available.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the line: 12 and 13 here.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// On-CPU time of the calling thread (ns precision, from
/// `/proc/thread-self/schedstat`): steadier than wall time on a busy machine,
/// where a thread waits for a core much of the time.
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

/// The 1-minute load average, for the record.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// Raw SHA-256 of each record, the primitive the figures compare with:
/// (wall, on-CPU) time.
fn raw_sha(records: &[Vec<u8>]) -> (Duration, Duration) {
    let (cpu, started) = (thread_cpu(), Instant::now());
    for r in records {
        black_box(sha2::Sha256::digest(r));
    }
    (started.elapsed(), thread_cpu() - cpu)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    match args.get(1).map(String::as_str) {
        Some("append") => {
            // 10,000 distinct events (as in the criterion bench), appended
            // in turn until the log holds N: a million built events would
            // spread over a gigabyte, and reading them back from memory
            // would cost more than appending them.
            let events: Vec<Event> = (0..n.min(10_000)).map(event).collect();
            let (cpu, started) = (thread_cpu(), Instant::now());
            let mut log = AuditLog::open(MemoryStore::new()).unwrap();
            for e in events.iter().cycle().take(n as usize) {
                log.append(e).unwrap();
            }
            let (elapsed, cpu) = (started.elapsed(), thread_cpu() - cpu);
            black_box(log.head());
            drop(log);
            let encoded: Vec<Vec<u8>> = events.iter().map(canonical::encode).collect();
            let (mut sha, mut sha_cpu) = (Duration::ZERO, Duration::ZERO);
            for _ in 0..n.div_ceil(encoded.len() as u64) {
                let (wall, cpu) = raw_sha(&encoded);
                sha += wall;
                sha_cpu += cpu;
            }
            let rate = |d: Duration| n as f64 / d.as_secs_f64();
            eprintln!(
                "append: {n} events in {elapsed:.3?} wall ({:.0}/s), {cpu:.3?} on CPU ({:.0}/s); raw SHA-256 of the encodings {sha:.3?} wall, {sha_cpu:.3?} on CPU ({:.0}/s); append / raw on CPU {:.2}x; load {}",
                rate(elapsed),
                rate(cpu),
                rate(sha_cpu),
                cpu.as_secs_f64() / sha_cpu.as_secs_f64(),
                load()
            );
        }
        Some("parts") => {
            // Each stage of an append on its own, in ns per event.
            let events: Vec<Event> = (0..n).map(event).collect();
            let encoded: Vec<Vec<u8>> = events.iter().map(canonical::encode).collect();
            // On-CPU time of this thread, not wall time: see `thread_cpu`.
            let per = |label: &str, started: Duration| {
                eprintln!(
                    "{label:>24}: {:7.1} ns/event on CPU",
                    (thread_cpu() - started).as_nanos() as f64 / n as f64
                );
            };
            let started = thread_cpu();
            let mut buf = Vec::new();
            for e in &events {
                buf.clear();
                canonical::encode_into(e, &mut buf);
                black_box(&buf);
            }
            per("encode (reused buffer)", started);
            let started = thread_cpu();
            for e in &events {
                black_box(e.validate().is_ok());
                black_box(custodia_audit::personal::first_clear_field(e));
            }
            per("validate, sealed check", started);
            let started = thread_cpu();
            for e in &encoded {
                black_box(sha2::Sha256::digest(e));
            }
            per("raw sha256", started);
            let started = thread_cpu();
            for e in &encoded {
                black_box(custodia_audit::merkle::leaf_hash(e));
            }
            per("leaf hash", started);
            let (l, r) = ([1u8; 32], [2u8; 32]);
            let started = thread_cpu();
            for _ in 0..n {
                black_box(custodia_audit::merkle::node_hash(
                    black_box(&l),
                    black_box(&r),
                ));
            }
            per("node hash", started);
            let started = thread_cpu();
            for _ in 0..n {
                let mut input = [1u8; 65];
                input[1..33].copy_from_slice(black_box(&l));
                input[33..].copy_from_slice(black_box(&r));
                black_box(sha2::Sha256::digest(input));
            }
            per("raw sha256 65 bytes", started);
            let started = thread_cpu();
            let mut tree = custodia_audit::MerkleTree::new();
            for e in &encoded {
                tree.push(e);
            }
            per("tree push", started);
            let started = thread_cpu();
            let mut store = MemoryStore::new();
            for e in &encoded {
                custodia_audit::AuditStore::append(&mut store, &[e], &tree).unwrap();
            }
            per("memory store append", started);
            let started = thread_cpu();
            let mut log = AuditLog::open(MemoryStore::new()).unwrap();
            for e in &events {
                log.append(e).unwrap();
            }
            per("log append", started);
            black_box((tree.root(), log.head()));
        }
        Some("events") => {
            // Event construction alone: subtract from `append N` to get the
            // cost of the appends.
            let events: Vec<Event> = (0..n).map(event).collect();
            black_box(&events);
        }
        Some("sha") => {
            let encoded: Vec<Vec<u8>> = (0..n).map(|i| canonical::encode(&event(i))).collect();
            let started = Instant::now();
            for e in &encoded {
                black_box(sha2::Sha256::digest(e));
            }
            let elapsed = started.elapsed();
            eprintln!(
                "sha256: {n} events in {elapsed:?} ({:.0}/s)",
                n as f64 / elapsed.as_secs_f64()
            );
        }
        Some("build") => {
            let dir = args.get(3).expect("build N DIR");
            let options = SegmentOptions {
                durability: Durability::Never,
                max_segment_bytes: 64 << 20,
            };
            let mut log = AuditLog::open(SegmentStore::open(dir, options).unwrap()).unwrap();
            for chunk in (0..n).collect::<Vec<_>>().chunks(10_000) {
                let batch: Vec<Event> = chunk.iter().map(|&i| event(i)).collect();
                log.append_batch(&batch).unwrap();
            }
            log.sync().unwrap();
        }
        Some("verify") => {
            let dir = args.get(2).expect("verify DIR");
            let (cpu, started) = (cpu_time(), Instant::now());
            let report = verify(SegmentStore::open_read_only(dir).unwrap(), None).unwrap();
            let (elapsed, cpu) = (started.elapsed(), cpu_time() - cpu);
            // The same records, read back (untimed), hashed raw.
            let mut records = Vec::new();
            custodia_audit::AuditStore::scan(
                &SegmentStore::open_read_only(dir).unwrap(),
                0,
                &mut |_, r| {
                    records.push(r.to_vec());
                    Ok(())
                },
            )
            .unwrap();
            let (sha, sha_cpu) = raw_sha(&records);
            eprintln!(
                "verify: {} events in {elapsed:.3?} wall, {cpu:.2?} CPU (all threads); raw SHA-256 of the records {sha:.3?} wall, {sha_cpu:.3?} on CPU; load {}",
                report.head.size,
                load()
            );
        }
        _ => eprintln!(
            "usage: profile append N | parts N | events N | sha N | build N DIR | verify DIR"
        ),
    }
}
