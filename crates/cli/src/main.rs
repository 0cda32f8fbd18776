//! The `custodia` command.
//!
//! # Exit codes
//!
//! * `0`: success.
//! * `1`: the command ran and found something, reported after its output:
//!   `audit verify` found tampering, truncation, a fork, a bad checkpoint
//!   signature or a checkpoint of another log; `audit append` found the log
//!   damaged or not extending `--checkpoint`; `audit recover` left a log
//!   that still does not verify (with `--dry-run`: there is something to
//!   cut); `mask --detect` or `mask --fail-on-find` found something
//!   (personal data, or an organisation, which masking keeps);
//!   `retention check` found the policy invalid; `keys retire` refused (the
//!   version is primary or still seals envelopes).
//! * `2`: a usage or input error (bad flags, unreadable or malformed input,
//!   a full disk or a file-size limit reached while writing, also after a
//!   finding that would have been exit `1`), with the reason
//!   on standard error as `custodia: <reason>`. A write that fails leaves the
//!   files the command was changing as they were. A standard output closed
//!   early (`| head`, a broken pipe) is not an error for commands that
//!   report (`categories`, `retention eval`, `mask`: exit `0`, or `1` for a
//!   finding), but it is for `keys reencrypt --output -`, whose output is
//!   the re-encrypted data: the lines not taken are lost (exit `2`,
//!   "writing output: Broken pipe").
//!
//! # Output formats
//!
//! Human text by default; every subcommand takes `--json` for machines, and
//! each subcommand's `--help` names its JSON fields. A command's result is
//! one JSON document on one line; streams (`categories`, `mask --jsonl`,
//! `mask --detect`, `retention eval`, `keys reencrypt` over JSON lines) are
//! JSON lines, one object per input item. Field names are stable: new fields
//! may be added, existing ones are not renamed or removed.
//!
//! Errors (exit `2`) are never JSON: the reason goes to standard error only,
//! whatever the flags, so standard output holds nothing but results (a
//! stream stopped by a bad line keeps the lines already written). A finding
//! (exit `1`) is a result: with `--json` the command's document says what
//! was found (`{"ok": false, "finding": "<reason>", ...}` for `audit verify`,
//! `audit append`, `audit recover`, `retention check` and `keys retire`; the findings themselves for `mask
//! --detect`; `"findings": n` for `mask --json --fail-on-find`), and the
//! reason also goes to standard error.
//!
//! # Progress
//!
//! Long operations (`mask` and `retention eval` over large inputs, `keys
//! reencrypt`) draw an indicatif progress bar on standard error only when it
//! is a terminal; piped or redirected, they write no progress bytes at all.

#![forbid(unsafe_code)]
// Library code returns typed errors; only tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::io::Write;
use std::process::ExitCode;

mod audit;
mod dsr;
mod keys;
mod mask;
mod retention;

use clap::{Parser, Subcommand, ValueEnum};
use custodia_core::{ActorId, DataCategory, SubjectId, Taxonomy, TenantId};

/// Privacy and compliance tools for multi-tenant helpdesks.
#[derive(Debug, Parser)]
#[command(name = "custodia", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 ok; 1 a finding (audit verify found tampering, audit append found the log damaged or not extending --checkpoint, audit recover left a log that does not verify or (--dry-run) found something to cut, mask --detect or --fail-on-find found something, a kept organisation too (even if stdout was closed early), retention check found the policy invalid, keys retire refused); 2 usage or input error, or output that could not be written (reason on stderr).\n\nEvery subcommand takes --json: one JSON document, or JSON lines for streams; errors are never JSON and go to stderr."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Derive the Custodia id for one of your own stable keys (no lookup table).
    ///
    /// The same inputs always give the same id; see custodia_core::id for the
    /// derivation.
    #[command(after_help = USAGE_EXIT_CODES)]
    Id {
        /// Which kind of id to derive.
        #[arg(value_enum)]
        kind: IdKind,
        /// The system the key comes from, e.g. `psa.contact`.
        #[arg(long)]
        system: String,
        /// The key in that system, e.g. a contact number.
        #[arg(long)]
        key: String,
        /// The tenant the subject or actor belongs to (required for subject and actor).
        #[arg(long, required_if_eq_any([("kind", "subject"), ("kind", "actor")]))]
        tenant: Option<TenantId>,
        /// Print {"kind","id","system","key","tenant"} (tenant null for a
        /// tenant id) instead of the bare id.
        #[arg(long)]
        json: bool,
    },
    /// List the built-in data categories (personal and system).
    #[command(after_help = USAGE_EXIT_CODES)]
    Categories {
        /// Only categories within this one, e.g. `user.contact`.
        #[arg(long)]
        within: Option<String>,
        /// Print JSON lines {"category","description","special"} instead of
        /// a table.
        #[arg(long)]
        json: bool,
    },
    /// Keyrings in an encrypted key store: init, rotate, status, reencrypt,
    /// rewrap, retire.
    #[command(after_help = keys::ROTATION_HELP)]
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
    /// Retention policies: check a policy file, evaluate records against it.
    #[command(after_help = retention::EXIT_CODES)]
    Retention {
        #[command(subcommand)]
        command: retention::Command,
    },
    /// Mask (or with --detect, find) personal data in text or JSON lines.
    #[command(after_help = mask::EXIT_CODES)]
    Mask(mask::MaskArgs),
    /// Tamper-evident audit logs: append, verify, checkpoint, prove, export.
    #[command(after_help = audit::EXIT_CODES)]
    Audit {
        #[command(subcommand)]
        command: audit::AuditCommand,
    },
    /// Data-subject requests over a helpdesk data directory: export, erase,
    /// restrict (or lift, or object).
    #[command(after_help = dsr::EXIT_CODES)]
    Dsr {
        #[command(subcommand)]
        command: dsr::DsrCommand,
    },
}

/// The exit codes of a subcommand that has no finding to report.
const USAGE_EXIT_CODES: &str =
    "Exit codes: 0 ok, 2 usage or input error (reason on stderr; never JSON).";

#[derive(Debug, Clone, Copy, ValueEnum)]
enum IdKind {
    Tenant,
    Subject,
    Actor,
}

fn main() -> ExitCode {
    // Past a file-size limit (`ulimit -f`) the kernel kills a writer with
    // SIGXFSZ; with the signal handled, the write fails with EFBIG instead
    // and the command reports it (exit 2), like a full disk.
    #[cfg(unix)]
    let _ = signal_hook::flag::register(
        signal_hook::consts::SIGXFSZ,
        std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
    );
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("custodia: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(command: Command) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    let written = match command {
        Command::Id {
            kind,
            system,
            key,
            tenant,
            json,
        } => {
            let id = derive_id(kind, &system, &key, tenant)?;
            if json {
                let kind = match kind {
                    IdKind::Tenant => "tenant",
                    IdKind::Subject => "subject",
                    IdKind::Actor => "actor",
                };
                let tenant = tenant.filter(|_| kind != "tenant").map(|t| t.to_string());
                let value = serde_json::json!({
                    "kind": kind, "id": id, "system": system, "key": key, "tenant": tenant,
                });
                writeln!(out, "{value}")
            } else {
                writeln!(out, "{id}")
            }
        }
        Command::Categories { within, json } => {
            let taxonomy = Taxonomy::builtin();
            let root = within
                .map(|text| taxonomy.parse(&text))
                .transpose()
                .map_err(|e| e.to_string())?;
            list_categories(&mut out, &taxonomy, root.as_ref(), json)
        }
        Command::Keys { command } => return keys::run(command),
        Command::Retention { command } => return retention::run(command),
        Command::Mask(args) => mask::run(&args, &mut out)?,
        Command::Audit { command } => return audit::dispatch(command),
        Command::Dsr { command } => return dsr::run(command),
    };
    // A closed pipe (`custodia categories | head`) is not an error worth a message.
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(format!("writing standard output: {e}"))
        }
        _ => Ok(()),
    }
}

/// Writes a new key file (`keys init --write-master-key`, `audit keygen`):
/// `key` and a newline, mode 0600, synced before it counts as written;
/// refuses an existing file (`AlreadyExists`) and leaves nothing behind
/// when the write fails (a full disk, `ulimit -f`), so a rerun can succeed.
fn write_new_key_file(path: &std::path::Path, key: &str) -> std::io::Result<()> {
    let mut file = custodia_crypt::durable::AtomicFile::create(path, 0o600)?;
    file.write_all(key.as_bytes())?;
    file.write_all(b"\n")?;
    file.commit_new()
}

/// The longest input line a streaming subcommand reads (`audit append`,
/// `mask --jsonl`, `retention eval`, `keys reencrypt|status|retire`): an
/// event's personal values are at most 1 MiB each, sealed and
/// base64-encoded. A longer line is an input error, so memory stays bounded
/// whatever the input's length.
const MAX_LINE: u64 = 16 << 20;

/// Reads one line, with its newline if it has one, into `line` (cleared
/// first); `Ok(0)` at the end of the input. A line over [`MAX_LINE`] is an
/// `InvalidData` error, read no further than the cap.
fn read_line_capped(
    input: &mut impl std::io::BufRead,
    line: &mut Vec<u8>,
) -> std::io::Result<usize> {
    use std::io::{BufRead, Read};
    line.clear();
    let read = Read::take(&mut *input, MAX_LINE + 1).read_until(b'\n', line)?;
    if line.last() != Some(&b'\n') && read as u64 > MAX_LINE {
        return Err(line_too_long());
    }
    Ok(read)
}

/// The error for a line over [`MAX_LINE`].
fn line_too_long() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("longer than {} MiB", MAX_LINE >> 20),
    )
}

/// Inputs smaller than this get no progress bar: they finish before one
/// would be worth drawing.
const PROGRESS_MIN_BYTES: u64 = 1 << 20;

/// A progress bar over the bytes of the input at `path` (`-` for standard
/// input). It draws on standard error only when standard error is a
/// terminal, and then only for a file of at least [`PROGRESS_MIN_BYTES`] or
/// for standard input that is not itself a terminal; otherwise it is hidden
/// and writes nothing.
fn input_progress(path: &std::path::Path) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let len = if path.as_os_str() == "-" {
        if std::io::stdin().is_terminal() {
            return ProgressBar::hidden();
        }
        None
    } else {
        match std::fs::metadata(path) {
            Ok(meta) if meta.len() >= PROGRESS_MIN_BYTES => Some(meta.len()),
            _ => return ProgressBar::hidden(),
        }
    };
    let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr());
    let template = if len.is_some() {
        "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
    } else {
        "{spinner} {bytes} {bytes_per_sec}"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

/// `input`, counted by `progress` when it draws. A hidden bar's wrapper is
/// left out: it reads through `Read::read` alone, so every buffer was
/// zeroed before each read (the file's own `read_buf` skips that).
fn progress_reader<R: std::io::Read + 'static>(
    progress: &indicatif::ProgressBar,
    input: R,
) -> Box<dyn std::io::Read> {
    if progress.is_hidden() {
        Box::new(input)
    } else {
        Box::new(progress.wrap_read(input))
    }
}

fn derive_id(
    kind: IdKind,
    system: &str,
    key: &str,
    tenant: Option<TenantId>,
) -> Result<String, String> {
    let tenant = || tenant.ok_or_else(|| "--tenant is required".to_owned());
    Ok(match kind {
        IdKind::Tenant => TenantId::from_external_key(system, key).to_string(),
        IdKind::Subject => SubjectId::from_external_key(tenant()?, system, key).to_string(),
        IdKind::Actor => ActorId::from_external_key(tenant()?, system, key).to_string(),
    })
}

fn list_categories(
    out: &mut impl Write,
    taxonomy: &Taxonomy,
    within: Option<&DataCategory>,
    json: bool,
) -> std::io::Result<()> {
    let selected = taxonomy
        .iter()
        .filter(|(category, _)| within.is_none_or(|root| category.is_within(root)));
    for (category, info) in selected {
        if json {
            let line = serde_json::json!({
                "category": category.as_str(),
                "description": info.description,
                "special": category.is_special(),
            });
            writeln!(out, "{line}")?;
        } else {
            let special = if category.is_special() {
                " [special]"
            } else {
                ""
            };
            writeln!(
                out,
                "{:<42} {}{special}",
                category.as_str(),
                info.description
            )?;
        }
    }
    Ok(())
}
