//! The helpdesk example: Custodia end to end in a small multi-tenant helpdesk.
//!
//! ```text
//! cargo run --release --example helpdesk [-- --data DIR]
//! ```
//!
//! Two subscribers (ACME in Australia, GLOBEX in the UK) share one helpdesk
//! backend on SQLite. The run walks through nine steps — residency and
//! transfers, encrypted contact fields with a blind index, masking before an
//! AI summariser, role- and field-level access, a tamper-evident audit log, a
//! retention sweep driven by `examples/helpdesk/retention.toml`, an access
//! request, an erasure with crypto-shredding (after which the audit log still
//! verifies against a checkpoint signed before it), and a breach drill — and
//! prints what each one did. The database, key store, audit log, checkpoint
//! key and policy go to a temporary directory, or to `--data DIR` (those
//! files are replaced on every run), which `custodia dsr` and `custodia audit` then work on.
//!
//! The backend (data directory, tickets table, desk) is the workspace crate
//! `custodia-helpdesk` (`crates/helpdesk`), shared with the `custodia` command.
//!
//! The flow itself lives in `examples/helpdesk/flow.rs`, which
//! `tests/helpdesk_flow.rs` runs too, with assertions.

// The example prints the steps; the test reads the facts: each uses part of the API.
#[allow(dead_code)]
#[path = "helpdesk/flow.rs"]
mod flow;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: helpdesk [--data DIR]\n\n  --data DIR  keep the SQLite database, key store, audit log and policy in DIR\n              (default: a temporary directory); its helpdesk files are replaced on every run";

fn parse_args() -> Result<Option<PathBuf>, String> {
    let mut args = std::env::args().skip(1);
    let mut data = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--data" => match args.next() {
                Some(dir) => data = Some(PathBuf::from(dir)),
                None => return Err("--data needs a directory".into()),
            },
            s if s.starts_with("--data=") => data = Some(PathBuf::from(&s["--data=".len()..])),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(data)
}

fn main() -> ExitCode {
    let data = match parse_args() {
        Ok(data) => data,
        Err(problem) => {
            eprintln!("helpdesk: {problem}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let keep = data.is_some();
    // Keep the temporary directory alive until the end of the run.
    let temp;
    let dir = match data {
        Some(dir) => {
            if let Err(e) = std::fs::create_dir_all(&dir) {
                eprintln!("helpdesk: cannot create {}: {e}", dir.display());
                return ExitCode::from(2);
            }
            dir
        }
        None => match tempfile::tempdir() {
            Ok(t) => {
                temp = t;
                temp.path().to_owned()
            }
            Err(e) => {
                eprintln!("helpdesk: cannot create a temporary directory: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    println!("Custodia helpdesk example: one backend, two subscribers, nine privacy duties.");
    println!(
        "Clock fixed at {} so the output is reproducible (ids and ciphertext are random).\n",
        flow::start_time().format("%Y-%m-%d %H:%M UTC")
    );
    match flow::run(&dir) {
        Ok(report) => {
            print!("{report}");
            println!("All nine steps done.");
            if keep {
                let acme = custodia_helpdesk::demo::Cast::new().acme;
                println!(
                    "\nThe data stays in {0}. Try:\n  custodia audit verify {0}/audit\n  custodia dsr export --data {0} --tenant {acme} --email bob.li@example.org\n  custodia dsr erase --data {0} --tenant {acme} --email bob.li@example.org",
                    dir.display()
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("helpdesk: {e}");
            ExitCode::FAILURE
        }
    }
}
