//! `custodia retention`: check a policy file, evaluate records against it.
//!
//! Exit codes:
//!
//! * `check`: `0` the policy is valid (a summary goes to standard output);
//!   `1` it is not (the finding, `file:line:column: what is wrong`, goes to
//!   standard error); `2` the file cannot be read.
//! * `eval`: `0` every line was evaluated; `2` a usage or input error: an
//!   invalid policy, a bad `--now`, an unreadable records file, or a line that
//!   is not a valid record. A bad line stops the run with its line number;
//!   the output for the lines before it has already been written, and no line
//!   is ever skipped.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::PathBuf;

use clap::Subcommand;
use custodia_retention::{Decision, Error, Policy, Record};

/// The `retention` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a policy file (TOML, or JSON if it ends in .json).
    ///
    /// Exit 0 if valid, 1 if not (file:line:column and the reason on stderr),
    /// 2 if it cannot be read.
    Check {
        /// The policy file.
        policy: PathBuf,
    },
    /// Evaluate records (JSON lines) against a policy at an instant.
    ///
    /// Writes one JSON line per input line, in order:
    /// {"id","action","due","rule","held_by","reason"}. A bad line stops the
    /// run with its line number and exit code 2.
    Eval {
        /// The policy file.
        #[arg(long)]
        policy: PathBuf,
        /// The records, one JSON object per line; `-` reads standard input.
        #[arg(long)]
        records: PathBuf,
        /// The instant to evaluate at (RFC 3339, e.g. 2026-11-22T00:00:00Z).
        #[arg(long)]
        now: String,
    },
}

/// Runs a `retention` subcommand. `Err` is a usage or input error (exit 2).
pub fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Check { policy } => check(&policy),
        Command::Eval {
            policy,
            records,
            now,
        } => eval(&policy, &records, &now),
    }
}

fn check(path: &PathBuf) -> Result<(), String> {
    match Policy::from_path(path) {
        Ok(policy) => {
            let backups = policy.backups().map_or_else(
                || "no backups".to_owned(),
                |b| format!("backups every {} kept {}", b.every, b.keep),
            );
            let mut out = std::io::stdout().lock();
            let line = format!(
                "{}: ok: {} rules, {} holds, {backups}",
                path.display(),
                policy.rules().len(),
                policy.holds().len()
            );
            writeln!(out, "{line}").map_err(|e| e.to_string())
        }
        Err(e @ Error::Io { .. }) => Err(e.to_string()),
        Err(e) => {
            // The finding: exit 1, after the message is out.
            eprintln!("custodia: {e}");
            std::process::exit(1);
        }
    }
}

fn eval(policy: &PathBuf, records: &PathBuf, now: &str) -> Result<(), String> {
    let policy = Policy::from_path(policy).map_err(|e| e.to_string())?;
    let now = custodia_retention::parse_timestamp(now).map_err(|e| format!("--now: {e}"))?;
    let name = records.display().to_string();
    let input: Box<dyn Read> = if name == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(records).map_err(|e| format!("cannot read {name}: {e}"))?)
    };
    let mut input = BufReader::with_capacity(1 << 16, input);
    let stdout = std::io::stdout().lock();
    let mut out = BufWriter::with_capacity(1 << 16, stdout);
    let mut line = String::new();
    let mut scratch = String::new();
    let mut number: u64 = 0;
    let io_error = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            // `custodia retention eval ... | head`: not an error worth a message.
            std::process::exit(0);
        }
        e.to_string()
    };
    loop {
        line.clear();
        let read = input
            .read_line(&mut line)
            .map_err(|e| format!("{name}:{}: {e}", number + 1))?;
        if read == 0 {
            break;
        }
        number += 1;
        let text = line.trim_end_matches(['\n', '\r']);
        let record: Record = match serde_json::from_str(text) {
            Ok(record) => record,
            Err(e) => {
                out.flush().map_err(io_error)?;
                let what = if text.trim().is_empty() {
                    "an empty line is not a record".to_owned()
                } else {
                    e.to_string()
                };
                return Err(format!("{name}:{number}: invalid record: {what}"));
            }
        };
        let decision = policy.evaluate(&record, now);
        write_decision(&mut out, &record.id, &decision, &mut scratch).map_err(io_error)?;
    }
    out.flush().map_err(io_error)
}

fn write_decision(
    out: &mut impl Write,
    id: &str,
    decision: &Decision<'_>,
    scratch: &mut String,
) -> std::io::Result<()> {
    out.write_all(b"{\"id\":")?;
    write_json_str(out, id)?;
    write!(out, ",\"action\":\"{}\",\"due\":", decision.action)?;
    match decision.due_at {
        Some(due) => write!(
            out,
            "\"{}\"",
            due.to_rfc3339_opts(custodia_core::chrono::SecondsFormat::AutoSi, true)
        )?,
        None => out.write_all(b"null")?,
    }
    out.write_all(b",\"rule\":[")?;
    for (i, rule) in decision.rule.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write_json_str(out, rule)?;
    }
    out.write_all(b"],\"held_by\":[")?;
    for (i, hold) in decision.held_by.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write_json_str(out, hold)?;
    }
    out.write_all(b"],\"reason\":")?;
    scratch.clear();
    let _ = write!(scratch, "{}", decision.reason);
    write_json_str(out, scratch)?;
    out.write_all(b"}\n")
}

/// Writes `s` as a JSON string literal.
fn write_json_str(out: &mut impl Write, s: &str) -> std::io::Result<()> {
    out.write_all(b"\"")?;
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.write_all(&bytes[start..i])?;
        match escape {
            Some(e) => out.write_all(e)?,
            None => write!(out, "\\u{b:04x}")?,
        }
        start = i + 1;
    }
    out.write_all(&bytes[start..])?;
    out.write_all(b"\"")
}
