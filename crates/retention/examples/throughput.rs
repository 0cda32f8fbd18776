//! Evaluates 10,000 generated records 500 times against the 50-rule bench
//! policy: a fixed amount of work to time with `perf stat` or `time`, whose
//! CPU (user) time, unlike criterion's wall-clock figures, does not depend on
//! what else the machine is running.
//!
//! `cargo build --release -p custodia-retention --example throughput &&
//!  perf stat -e task-clock,instructions target/release/examples/throughput`
//!
//! Instruction counts, which other load on the machine does not disturb:
//! `valgrind --tool=callgrind target/release/examples/throughput --rounds 10`
//! and the same with `--rounds 0`; the difference over 100,000 is the count
//! per evaluation.

use chrono::Months;

include!("../benches/records.rs");

fn main() {
    let policy =
        RetentionPolicy::from_toml(include_str!("../benches/policy50.toml"), "policy50.toml")
            .expect("the bench policy parses");
    let records = records(&policy, 10_000);
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0).unwrap();
    let args: Vec<String> = std::env::args().collect();
    // `--jsonl N`: print N record lines (the 10,000 records, cycled, with
    // fresh ids) for timing `custodia retention eval` instead.
    if let Some(n) = args
        .iter()
        .position(|a| a == "--jsonl")
        .and_then(|i| args.get(i + 1)?.parse::<usize>().ok())
    {
        use std::io::Write;
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        for i in 0..n {
            let mut record = records[i % records.len()].clone();
            record.id = format!("r-{i:07}");
            serde_json::to_writer(&mut out, &record).expect("stdout");
            out.write_all(b"\n").expect("stdout");
        }
        out.flush().expect("stdout");
        return;
    }
    let baseline = args.iter().any(|a| a == "--baseline");
    // `--rounds N` (default 500): fewer for callgrind.
    let rounds = args
        .iter()
        .position(|a| a == "--rounds")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(500usize);
    let mut due = 0u64;
    for _ in 0..rounds {
        for record in &records {
            let record = std::hint::black_box(record);
            due += u64::from(if baseline {
                record
                    .created
                    .checked_add_months(Months::new(36))
                    .is_some_and(|t| t <= now)
            } else {
                policy.evaluate(record, now).is_due()
            });
        }
    }
    println!("{} evaluations, {due} due", rounds * records.len());
}
