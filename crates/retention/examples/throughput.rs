//! Evaluates 10,000 generated records 500 times against the 50-rule bench
//! policy: a fixed amount of work to time with `perf stat` or `time`, whose
//! CPU (user) time, unlike criterion's wall-clock figures, does not depend on
//! what else the machine is running.
//!
//! `cargo build --release -p custodia-retention --example throughput &&
//!  perf stat -e task-clock,instructions target/release/examples/throughput`

use chrono::Months;

include!("../benches/records.rs");

fn main() {
    let policy = Policy::from_toml(include_str!("../benches/policy50.toml"), "policy50.toml")
        .expect("the bench policy parses");
    let records = records(&policy, 10_000);
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0).unwrap();
    let rounds = 500;
    let baseline = std::env::args().any(|a| a == "--baseline");
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
