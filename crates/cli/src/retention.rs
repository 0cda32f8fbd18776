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
//!
//! With `--json`, `check` prints one document (`{"ok":true,"file","rules",
//! "holds","backups"}`, or `{"ok":false,"file","finding","line","column"}`
//! with exit 1); `eval` always writes JSON lines and accepts `--json` for
//! uniformity. Errors (exit 2) go to standard error only. `eval` draws a
//! progress bar on standard error when it is a terminal and the input is
//! large, and nothing when it is piped.

use std::fmt::Write as _;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::PathBuf;

use clap::Subcommand;
use custodia_retention::{Error, RetentionDecision, RetentionPolicy, RetentionRecord};

/// Exit codes of `custodia retention`, for its `--help`.
pub const EXIT_CODES: &str = "Exit codes: 0 ok; 1 a finding (check: the policy is invalid); \
2 usage or input error (reason on stderr; never JSON).";

/// The `retention` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a policy file (TOML, or JSON if it ends in .json).
    ///
    /// Exit 0 if valid, 1 if not (file:line:column and the reason on stderr),
    /// 2 if it cannot be read.
    #[command(
        after_help = "Exit codes: 0 valid; 1 invalid (file:line:column: reason on stderr; \
with --json also {\"ok\":false,\"file\",\"finding\",\"line\",\"column\"} on stdout); \
2 usage or input error (the file cannot be read; stderr only)."
    )]
    Check {
        /// The policy file.
        policy: PathBuf,
        /// Print {"ok","file","rules","holds","backups":{"every","keep"}|null}
        /// when valid, {"ok":false,"file","finding","line","column"} when not
        /// (line and column null when the problem has no position).
        #[arg(long)]
        json: bool,
    },
    /// Evaluate records (JSON lines) against a policy at an instant.
    ///
    /// Writes one JSON line per input line, in order:
    /// {"id","action","due","rule","held_by","reason"}. A bad line stops the
    /// run with its line number and exit code 2. A progress bar shows on
    /// standard error when it is a terminal and the input is large.
    ///
    /// Memory does not grow with the input: lines are read one at a time,
    /// and a line longer than 16 MiB is an input error (exit 2) naming its
    /// number.
    #[command(
        after_help = "Exit codes: 0 every line evaluated; 2 usage or input error \
(an invalid policy, a bad --now, an unreadable file, or a bad line named by its number; \
stderr only, the lines before it are already written)."
    )]
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
        /// Accepted for uniformity: the output is always JSON lines
        /// {"id","action","due","rule","held_by","reason"}.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `retention` subcommand. `Err` is a usage or input error (exit 2).
pub fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Check { policy, json } => check(&policy, json),
        Command::Eval {
            policy,
            records,
            now,
            json: _,
        } => eval(&policy, &records, &now),
    }
}

fn check(path: &PathBuf, json: bool) -> Result<(), String> {
    let file = path.display().to_string();
    match RetentionPolicy::from_path(path) {
        Ok(policy) => {
            let backups = policy.backups().map_or_else(
                || "no backups".to_owned(),
                |b| format!("backups every {} kept {}", b.every, b.keep),
            );
            let line = if json {
                let backups = policy.backups().map(|b| {
                    serde_json::json!({"every": b.every.to_string(), "keep": b.keep.to_string()})
                });
                serde_json::json!({
                    "ok": true,
                    "file": file,
                    "rules": policy.rules().len(),
                    "holds": policy.holds().len(),
                    "backups": backups,
                })
                .to_string()
            } else {
                format!(
                    "{file}: ok: {} rules, {} holds, {backups}",
                    policy.rules().len(),
                    policy.holds().len()
                )
            };
            let mut out = std::io::stdout().lock();
            match writeln!(out, "{line}") {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.to_string()),
                _ => Ok(()),
            }
        }
        Err(e @ (Error::Io { .. } | Error::TooLarge { .. })) => Err(e.to_string()),
        Err(e) => {
            if json {
                let (line, column) = match &e {
                    Error::Policy {
                        location: Some(at), ..
                    } => (Some(at.line), Some(at.column)),
                    _ => (None, None),
                };
                let value = serde_json::json!({
                    "ok": false,
                    "file": file,
                    "finding": e.to_string(),
                    "line": line,
                    "column": column,
                });
                let _ = writeln!(std::io::stdout().lock(), "{value}");
            }
            // The finding: exit 1, after the message is out.
            eprintln!("custodia: {e}");
            std::process::exit(1);
        }
    }
}

fn eval(policy: &PathBuf, records: &PathBuf, now: &str) -> Result<(), String> {
    let policy = RetentionPolicy::from_path(policy).map_err(|e| e.to_string())?;
    let now = custodia_core::parse_timestamp(now).map_err(|e| format!("--now: {e}"))?;
    let name = records.display().to_string();
    let progress = crate::input_progress(records);
    let input: Box<dyn Read> = if name == "-" {
        crate::progress_reader(&progress, std::io::stdin().lock())
    } else {
        let file = std::fs::File::open(records).map_err(|e| format!("cannot read {name}: {e}"))?;
        crate::progress_reader(&progress, file)
    };
    let result = eval_lines(&policy, now, &name, input, &progress);
    progress.finish_and_clear();
    result
}

fn eval_lines(
    policy: &RetentionPolicy,
    now: custodia_core::Timestamp,
    name: &str,
    input: Box<dyn Read>,
    progress: &indicatif::ProgressBar,
) -> Result<(), String> {
    let mut input = BufReader::with_capacity(1 << 16, input);
    let stdout = std::io::stdout().lock();
    let mut out = BufWriter::with_capacity(1 << 16, stdout);
    let mut line = Vec::new();
    let mut scratch = String::new();
    let mut number: u64 = 0;
    let io_error = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            // `custodia retention eval ... | head`: not an error worth a message.
            progress.finish_and_clear();
            std::process::exit(0);
        }
        e.to_string()
    };
    loop {
        let read = crate::read_line_capped(&mut input, &mut line)
            .map_err(|e| format!("{name}:{}: {e}", number + 1))?;
        if read == 0 {
            break;
        }
        number += 1;
        let text = std::str::from_utf8(&line)
            .map_err(|_| format!("{name}:{number}: not UTF-8"))?
            .trim_end_matches(['\n', '\r']);
        let record: RetentionRecord = match serde_json::from_str(text) {
            Ok(record) => record,
            Err(e) => {
                out.flush().map_err(io_error)?;
                let what = if text.trim().is_empty() {
                    "an empty line is not a record".to_owned()
                } else {
                    // serde quotes a mistyped value whole; records hold
                    // personal data, so only a short prefix is printed.
                    custodia_core::echo_json_error(e).to_string()
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
    decision: &RetentionDecision<'_>,
    scratch: &mut String,
) -> std::io::Result<()> {
    out.write_all(b"{\"id\":")?;
    write_json_str(out, id)?;
    out.write_all(b",\"action\":\"")?;
    out.write_all(decision.action.as_str().as_bytes())?;
    out.write_all(b"\",\"due\":")?;
    match decision.due_at {
        Some(due) => {
            out.write_all(b"\"")?;
            write_rfc3339(out, due)?;
            out.write_all(b"\"")?;
        }
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

/// Writes `t` as chrono's `to_rfc3339_opts(SecondsFormat::AutoSi, true)`
/// does, without allocating in the common case (whole seconds, years 0 to
/// 9999).
fn write_rfc3339(out: &mut impl Write, t: custodia_core::Timestamp) -> std::io::Result<()> {
    use custodia_core::chrono::{Datelike, Timelike};
    let naive = t.naive_utc();
    let year = naive.year();
    if t.timestamp_subsec_nanos() != 0 || !(0..=9999).contains(&year) {
        let text = t.to_rfc3339_opts(custodia_core::chrono::SecondsFormat::AutoSi, true);
        return out.write_all(text.as_bytes());
    }
    let mut buf = *b"0000-00-00T00:00:00Z";
    let mut put = |at: usize, width: usize, mut value: u32| {
        for i in (at..at + width).rev() {
            buf[i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, 4, year.unsigned_abs());
    put(5, 2, naive.month());
    put(8, 2, naive.day());
    put(11, 2, naive.hour());
    put(14, 2, naive.minute());
    put(17, 2, naive.second());
    out.write_all(&buf)
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

#[cfg(test)]
mod tests {
    use custodia_core::chrono::{DateTime, SecondsFormat};

    #[test]
    fn due_dates_render_like_chrono() {
        for secs in [
            0i64,
            951_782_400,
            1_798_761_599,
            -62_135_596_800,
            253_402_300_799,
            253_402_300_800,
            -62_135_596_801,
            1_000_000_000,
        ] {
            for nanos in [0u32, 500_000_000, 1_000] {
                let t = DateTime::from_timestamp(secs, nanos).unwrap();
                let mut out = Vec::new();
                super::write_rfc3339(&mut out, t).unwrap();
                assert_eq!(
                    String::from_utf8(out).unwrap(),
                    t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
                    "{secs} {nanos}"
                );
            }
        }
    }
}
