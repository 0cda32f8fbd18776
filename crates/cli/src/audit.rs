//! `custodia audit …`: append to, verify, checkpoint, prove and export a
//! segment-file audit log (custodia-audit).
//!
//! Exit codes: `0` ok; `1` a finding (verify found tampering, truncation or
//! a fork; append or recover found the log damaged or below a trusted
//! checkpoint); `2` a usage or input error.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Subcommand, ValueEnum};
use custodia_audit::checkpoint::{self, Checkpoint, Signer, Verifier};
use custodia_audit::store::segment::{Recovery, RecoveryPlan};
use custodia_audit::{AuditLog, Durability, Error, Event, SegmentOptions, SegmentStore};
use custodia_core::{SubjectId, SystemClock, TenantId};
use custodia_crypt::{FileKeyStore, SubjectVault};

/// Exit codes of `custodia audit`, for its `--help`.
pub const EXIT_CODES: &str = "Exit codes: 0 ok; 1 a finding (verify: tampering, truncation, a fork, \
a bad checkpoint signature or a checkpoint of another log; append: the log is damaged or does not \
extend --checkpoint; \
recover: damage it will not cut (the first segment's header), or what is left does not verify; \
recover --dry-run: there is something to cut (the plan on stdout); with --json also {\"ok\":false,\"finding\"} on stdout); \
2 usage or input error (reason on stderr; never JSON).";

/// The `audit` subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Append events, one JSON object per line on standard input.
    ///
    /// `id` and `time` may be left out (a UUIDv7 and the current time are
    /// filled in). All lines are checked before any is written: one bad line
    /// appends nothing. The input is not held in memory: checked events wait
    /// in a temporary file, and at most one line (16 MiB) and one batch of
    /// 10,000 encoded events are held at a time, besides the log's Merkle
    /// tree (about 64 bytes per record in the log). Personal values (actor ip and user_agent, change
    /// before/after, note) must be sealed: pass --master-key and
    /// --subject-keys to seal them under each data subject's key, or
    /// --allow-clear to store them as given. A value given as sealed
    /// (`{"subject","sealed"}`) must be an envelope under that subject's key
    /// (custodia-crypt), else it is refused as clear data.
    #[command(after_help = EXIT_CODES)]
    Append {
        /// The log directory (created if missing).
        dir: PathBuf,
        /// Print {"appended","first","size","root"} (root in base64).
        #[arg(long)]
        json: bool,
        /// When to fsync.
        #[arg(long, value_enum, default_value_t = Sync::Group)]
        sync: Sync,
        #[command(flatten)]
        keys: VaultArgs,
        /// Store personal values in the clear (they cannot be erased later).
        #[arg(long)]
        allow_clear: bool,
        /// A signed checkpoint (C2SP note) the log must extend: a log with
        /// fewer records, or another history, is refused before anything is
        /// written or truncated (exit 1).
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// The verifier key (`name+hash+key`) to check the checkpoint's
        /// signature with; without it the signature is not checked.
        #[arg(long, requires = "checkpoint")]
        key: Option<PathBuf>,
        /// The log's origin: the checkpoint must be of this log (exit 1
        /// otherwise). Default: the --key's name, as `audit checkpoint`
        /// defaults it; without --key and --origin it is not checked.
        #[arg(long, requires = "checkpoint")]
        origin: Option<String>,
    },
    /// Cut a damaged log back to its last intact record, keeping a copy.
    ///
    /// `append` refuses a log whose end is damaged rather than torn by a
    /// crash (it only ever drops a single torn record). This is the explicit
    /// repair: it cuts the log at the first damaged record (the rest of that
    /// segment file and every later one), after copying every removed byte
    /// into a new directory DIR/recovered/NNNN and writing RECOVERY.txt there
    /// (time, finding, and each removed byte range with its copy and
    /// SHA-256). Then it verifies what is left: exit 0 when that is intact
    /// (also when there was nothing to cut), 1 when it is not (such as a
    /// forged record, which no cut mends). With --dry-run it only says what
    /// it would cut, changing nothing: exit 0 when nothing, 1 when something.
    #[command(after_help = EXIT_CODES)]
    Recover {
        /// The log directory.
        dir: PathBuf,
        /// Print {"recovered","reason","kept","aside","note","removed":[{"path","offset",
        /// "bytes","copy"}],"size","root"} (reason, aside and note null when nothing was cut);
        /// with --dry-run {"ok","finding","would_recover","reason","kept","remove":[{"path",
        /// "offset","bytes"}]} (ok false with the finding when there is something to cut, as
        /// for any finding; ok true and finding null when not; kept null when the finding
        /// names no record).
        #[arg(long)]
        json: bool,
        /// Say what would be cut and change nothing (the writer's lock is
        /// still taken while reading, so a running writer makes it fail).
        #[arg(long)]
        dry_run: bool,
    },
    /// Verify every record; with --checkpoint, also that the log extends it.
    ///
    /// Exit 0 intact, 1 naming the first bad record and why.
    #[command(after_help = EXIT_CODES)]
    Verify {
        /// The log directory.
        dir: PathBuf,
        /// Print {"ok":true,"size","root","checkpoint":{"size","origin","signature_checked",
        /// "origin_checked"}|null,
        /// "torn_tail":{"path","offset","bytes"}|null}, or {"ok":false,"finding"}
        /// with exit 1.
        #[arg(long)]
        json: bool,
        /// A signed checkpoint (C2SP note) the log must extend.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// The verifier key (`name+hash+key`) to check the checkpoint's
        /// signature with; without it the signature is not checked.
        #[arg(long, requires = "checkpoint")]
        key: Option<PathBuf>,
        /// The log's origin: the checkpoint must be of this log (exit 1
        /// otherwise; one key may sign several logs). Default: the --key's
        /// name, as `audit checkpoint` defaults it; without --key and
        /// --origin it is not checked.
        #[arg(long, requires = "checkpoint")]
        origin: Option<String>,
        /// Accept a log with no records as intact. Without it, an empty log is
        /// an error (exit 2): a verifier that expects records must not read
        /// "0 records intact" as success. A directory with no log at all is
        /// always an error.
        #[arg(long)]
        allow_empty: bool,
    },
    /// Print a signed checkpoint (C2SP signed note) of the log's tree head.
    #[command(after_help = EXIT_CODES)]
    Checkpoint {
        /// The log directory; one that holds no log is refused (exit 2).
        dir: PathBuf,
        /// Print {"origin","size","root","note"} (note: the signed note text).
        #[arg(long)]
        json: bool,
        /// The signer key file (`PRIVATE+KEY+name+hash+key`, as `audit
        /// keygen` writes it): refused unless mode 0600 or stricter.
        #[arg(long)]
        key: PathBuf,
        /// The checkpoint origin (default: the key name).
        #[arg(long)]
        origin: Option<String>,
    },
    /// Create a checkpoint signing key: writes the private key to KEYFILE
    /// (mode 0600) and prints the verifier key.
    #[command(after_help = EXIT_CODES)]
    Keygen {
        /// The key name, e.g. `audit.example.com/acme`.
        #[arg(long)]
        name: String,
        /// Print {"name","verifier","key_file"}.
        #[arg(long)]
        json: bool,
        /// Where to write the private key (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// Print an inclusion proof (JSON) for record N against the current head.
    #[command(after_help = EXIT_CODES)]
    Prove {
        /// The log directory; one that holds no log is refused (exit 2).
        dir: PathBuf,
        /// Print the proof on one line (it is JSON either way; without
        /// --json it is indented).
        #[arg(long)]
        json: bool,
        /// The record index, from 0.
        #[arg(long)]
        index: u64,
    },
    /// Print everything the log holds about a data subject (JSON), with
    /// inclusion proofs; with keys, personal values are opened (erased ones
    /// are listed as erased).
    ///
    /// A value of the subject's that cannot be read though the keys work (a
    /// damaged or forged envelope labelled theirs, a tenant shred) is left
    /// out and listed in its event's "unreadable" with the reason; the
    /// export is then format v2 with "incomplete": {"unreadable", "events"},
    /// and a line on standard error says so (exit 0: the export is made).
    /// Keys that cannot read at all (the wrong master key, a store without
    /// the subject's key) fail the export (exit 2); a --subject-keys file
    /// that does not exist is refused first, naming it (exit 2).
    #[command(after_help = EXIT_CODES)]
    Export {
        /// The log directory; one that holds no log is refused (exit 2).
        dir: PathBuf,
        /// Print the export on one line (it is JSON either way; without
        /// --json it is indented).
        #[arg(long)]
        json: bool,
        /// The data subject's id.
        #[arg(long)]
        subject: SubjectId,
        /// Only this tenant.
        #[arg(long)]
        tenant: Option<TenantId>,
        #[command(flatten)]
        keys: VaultArgs,
    },
}

/// Where the subject keys come from.
#[derive(Debug, clap::Args)]
pub struct VaultArgs {
    /// File holding the base64 32-byte master key (mode 0600).
    #[arg(long, requires = "subject_keys")]
    master_key: Option<PathBuf>,
    /// The encrypted subject-key store file (custodia-crypt FileKeyStore).
    #[arg(long, requires = "master_key")]
    subject_keys: Option<PathBuf>,
}

/// Fsync policy for `append`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Sync {
    /// fsync after the batch (every append call).
    Every,
    /// Group commit (1,000 records per fsync, and at the end).
    Group,
    /// Never fsync (the OS writes back later).
    None,
}

/// A failure: `Finding` exits 1, `Usage` exits 2.
#[derive(Debug)]
pub enum Failure {
    /// Verification found a problem.
    Finding(String),
    /// Bad input or usage.
    Usage(String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        if e.is_finding() {
            Failure::Finding(e.to_string())
        } else {
            Failure::Usage(e.to_string())
        }
    }
}

fn usage(e: impl std::fmt::Display) -> Failure {
    Failure::Usage(e.to_string())
}

/// The subject-key vault over `--subject-keys`. A store that holds a keyring
/// record (one made by `custodia keys init` or by a host such as the
/// helpdesk example, whose tenant keys may be random and wrapped) opens
/// with that keyring; a store with subject keys only uses the keyring
/// derived from the master key, as `custodia audit append` creates it.
/// `append` may start a new store; `export` reads one, which must exist
/// (`existing`), as `dsr`'s does.
fn open_vault(
    keys: &VaultArgs,
    existing: bool,
) -> Result<Option<SubjectVault<Arc<FileKeyStore>>>, Failure> {
    let (Some(master), Some(store)) = (&keys.master_key, &keys.subject_keys) else {
        return Ok(None);
    };
    let clock = Arc::new(SystemClock);
    if existing {
        crate::keys::open_existing_subject_vault(master, store, clock)
    } else {
        crate::keys::open_subject_vault(master, store, clock)
    }
    .map(Some)
    .map_err(usage)
}

/// The log in `dir`, read only. A directory that holds no log (a mistyped
/// path) is an input error, as for `verify`: a checkpoint of size 0 or an
/// export with no events must never stand for a log that is elsewhere.
fn existing_log(dir: &Path) -> Result<AuditLog<SegmentStore>, Failure> {
    if !dir.is_dir() {
        return Err(usage(format!("{} is not a log directory", dir.display())));
    }
    let store = SegmentStore::open_read_only(dir)?;
    if store.segment_paths().is_empty() {
        return Err(usage(no_log(dir)));
    }
    Ok(AuditLog::open(store)?)
}

/// Why a directory with no segment files is refused.
fn no_log(dir: &Path) -> String {
    format!(
        "{} holds no audit log (no segment files); pass the directory `custodia audit append` writes to",
        dir.display()
    )
}

fn write_out(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(usage(e)),
        _ => Ok(()),
    }
}

/// Reads a public file: a checkpoint note or a verifier key.
fn read_key(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| usage(format!("{}: {e}", path.display())))
}

/// Reads a checkpoint signer key file (`audit checkpoint --key`, `dsr erase
/// --checkpoint-key`) as master key files are read: refused unless mode
/// 0600 or stricter, its text held only in zeroized memory
/// ([`custodia_crypt::read_key_file`]).
pub(crate) fn read_signer(path: &Path) -> Result<Signer, String> {
    let text = custodia_crypt::read_key_file(path)
        .map_err(|e| format!("checkpoint key: {}", crate::keys::plain(&e)))?;
    Signer::from_key_string(text.trim())
        .map_err(|e| format!("checkpoint key {}: {e}", path.display()))
}

/// A checkpoint read from a file, and what of it was checked.
struct Trusted {
    checkpoint: Checkpoint,
    /// Whether its signature was verified (`--key`).
    signature_checked: bool,
    /// Whether its origin was compared with the log's (`--origin`, or the
    /// `--key`'s name).
    origin_checked: bool,
}

/// Reads the checkpoint at `path`, checking its signature when `key` (a
/// verifier key file) is given and its origin against `origin`, or else
/// the key's name (the origin `audit checkpoint` gives by default): a bad
/// signature or another log's checkpoint is a finding.
fn load_checkpoint(
    path: &Path,
    key: Option<&Path>,
    origin: Option<&str>,
) -> Result<Trusted, Failure> {
    let note = read_key(path)?;
    let finding_or_usage = |e: Error| match e {
        Error::Signature(_) | Error::Origin { .. } => {
            Failure::Finding(format!("checkpoint {}: {e}", path.display()))
        }
        other => usage(format!("checkpoint {}: {other}", path.display())),
    };
    let checkpoint = match key {
        Some(key) => {
            let verifier = Verifier::from_key_string(&read_key(key)?)?;
            let origin = origin.unwrap_or(verifier.name());
            checkpoint::open(&note, &verifier, origin).map_err(finding_or_usage)?
        }
        None => {
            let checkpoint = checkpoint::parse_unverified(&note)
                .map_err(|e| usage(format!("checkpoint {}: {e}", path.display())))?;
            if let Some(origin) = origin {
                checkpoint.check_origin(origin).map_err(finding_or_usage)?;
            }
            checkpoint
        }
    };
    Ok(Trusted {
        checkpoint,
        signature_checked: key.is_some(),
        origin_checked: key.is_some() || origin.is_some(),
    })
}

/// Runs an `audit` subcommand.
pub fn run(command: AuditCommand) -> Result<(), Failure> {
    match command {
        AuditCommand::Append {
            dir,
            json,
            sync,
            keys,
            allow_clear,
            checkpoint: checkpoint_file,
            key,
            origin,
        } => {
            let trusted = match &checkpoint_file {
                Some(path) => {
                    Some(load_checkpoint(path, key.as_deref(), origin.as_deref())?.checkpoint)
                }
                None => None,
            };
            let vault = open_vault(&keys, false)?;
            // Validate and seal every line before the log is opened, staging
            // the encoded events on disk: one bad line appends nothing, in
            // memory independent of the input's length.
            let mut staged = Staged::new()?;
            let mut input = std::io::stdin().lock();
            let mut line = Vec::new();
            for number in 1.. {
                if !read_bounded_line(&mut input, &mut line, number)? {
                    break;
                }
                let text = std::str::from_utf8(&line)
                    .map_err(|_| usage(format!("stdin line {number}: not UTF-8")))?;
                if text.trim().is_empty() {
                    continue;
                }
                let mut event = Event::from_json_line(text, &SystemClock)
                    .map_err(|e| usage(format!("stdin line {number}: {e}")))?;
                if let Some(vault) = &vault {
                    custodia_audit::personal::seal_event(vault, &mut event)
                        .map_err(|e| usage(format!("stdin line {number}: {e}")))?;
                }
                if !allow_clear
                    && let Some(field) = custodia_audit::personal::first_clear_field(&event)
                {
                    // The value `field` names: the first not sealed, in the
                    // order both walk the event.
                    let labelled_sealed = event
                        .personal_values()
                        .find(|v| !v.is_sealed())
                        .is_some_and(|v| matches!(v, custodia_audit::Personal::Sealed { .. }));
                    return Err(usage(if labelled_sealed {
                        // Sealing leaves values labelled sealed alone: keys do not help.
                        format!(
                            "stdin line {number}: {field} is labelled sealed but is not an envelope under that subject's key (it may hold clear data); seal the clear value with --master-key and --subject-keys instead, or pass --allow-clear"
                        )
                    } else {
                        format!(
                            "stdin line {number}: {field} is personal data in the clear; pass --master-key and --subject-keys to seal it, or --allow-clear"
                        )
                    }));
                }
                staged.push(&custodia_audit::canonical::encode(&event))?;
            }
            let durability = match sync {
                Sync::Every => Durability::EveryAppend,
                Sync::Group => Durability::Group { records: 1000 },
                Sync::None => Durability::Never,
            };
            let options = SegmentOptions {
                durability,
                ..SegmentOptions::default()
            };
            let min_records = trusted.as_ref().map_or(0, |c| c.size);
            let store = SegmentStore::open_at_least(&dir, options, min_records).map_err(|e| {
                match e {
                    Error::Tampered { .. } => Failure::Finding(format!(
                        "{e}\nnothing was written; if the damage is to be cut away, `custodia audit recover {}` does it and keeps a copy",
                        dir.display()
                    )),
                    other => Failure::from(other),
                }
            })?;
            if let Some(torn) = store.torn_tail() {
                eprintln!(
                    "custodia: recovered from a crash: dropped {} bytes of a torn record at the end of {}",
                    torn.bytes,
                    torn.path.display()
                );
            }
            let log = AuditLog::open(store)?;
            if let Some(trusted) = &trusted {
                // Its origin was checked as it was read, when one was named.
                log.check_checkpoint(&trusted.origin, trusted)?;
            }
            let mut log = log.require_sealed(!allow_clear);
            let first = log.len();
            let appended = staged.append_to(&mut log)?;
            log.sync()?;
            let head = log.head();
            if json {
                let value = serde_json::json!({
                    "appended": appended,
                    "first": first,
                    "size": head.size,
                    "root": b64(&head.root),
                });
                return write_out(&format!("{value}\n"));
            }
            write_out(&format!(
                "appended {} events (records {first}..{}); tree size {}, root {}\n",
                appended,
                head.size,
                head.size,
                b64(&head.root)
            ))
        }
        AuditCommand::Verify {
            dir,
            checkpoint: checkpoint_file,
            key,
            origin,
            json,
            allow_empty,
        } => {
            if !dir.is_dir() {
                return Err(usage(format!("{} is not a log directory", dir.display())));
            }
            let trusted = match &checkpoint_file {
                Some(path) => Some(load_checkpoint(path, key.as_deref(), origin.as_deref())?),
                None => None,
            };
            let store = SegmentStore::open_read_only(&dir)?;
            if store.segment_paths().is_empty() {
                return Err(usage(format!(
                    "{} holds no audit log (no segment files): nothing was verified; pass the directory `custodia audit append` writes to",
                    dir.display()
                )));
            }
            if custodia_audit::AuditStore::is_empty(&store) && !allow_empty && trusted.is_none() {
                return Err(usage(format!(
                    "the log in {} holds no records: nothing was verified (pass --allow-empty if an empty log is expected, or --checkpoint to prove its size)",
                    dir.display()
                )));
            }
            let torn = store.torn_tail().cloned();
            let bar = verify_progress();
            let report = custodia_audit::verify_with_progress(
                store,
                // Its origin was checked as it was read, when one was named.
                trusted
                    .as_ref()
                    .map(|t| (t.checkpoint.origin.as_str(), &t.checkpoint)),
                &mut |done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                },
            );
            bar.finish_and_clear();
            let report = report?;
            let mut text = format!(
                "ok: {} records intact, root {}\n",
                report.head.size,
                b64(&report.head.root)
            );
            if let Some(trusted) = &trusted {
                text.push_str(&format!(
                    "ok: extends the checkpoint at size {} of {}{}\n",
                    trusted.checkpoint.size,
                    trusted.checkpoint.origin,
                    match (trusted.signature_checked, trusted.origin_checked) {
                        (true, _) => " (signature verified, origin checked)",
                        (false, true) => " (origin checked; signature not checked: no --key)",
                        (false, false) => " (signature and origin not checked: no --key)",
                    }
                ));
            }
            if json {
                let value = serde_json::json!({
                    "ok": true,
                    "size": report.head.size,
                    "root": b64(&report.head.root),
                    "checkpoint": trusted.as_ref().map(|t| serde_json::json!({
                        "size": t.checkpoint.size,
                        "origin": t.checkpoint.origin,
                        "signature_checked": t.signature_checked,
                        "origin_checked": t.origin_checked,
                    })),
                    "torn_tail": torn.as_ref().map(|t| serde_json::json!({
                        "path": t.path.display().to_string(),
                        "offset": t.offset,
                        "bytes": t.bytes,
                    })),
                });
                text = format!("{value}\n");
            }
            if let Some(torn) = torn {
                eprintln!(
                    "custodia: warning: {} bytes of a torn final record at {} byte {} (a crash mid-append; the next append drops them)",
                    torn.bytes,
                    torn.path.display(),
                    torn.offset
                );
            }
            write_out(&text)
        }
        AuditCommand::Recover { dir, json, dry_run } => {
            if !dir.is_dir() {
                return Err(usage(format!("{} is not a log directory", dir.display())));
            }
            if dry_run {
                let plan = match SegmentStore::recovery_plan(&dir) {
                    Ok(plan) => plan,
                    Err(e) => {
                        let failure = Failure::from(e);
                        if json && let Failure::Finding(message) = &failure {
                            // `dispatch` leaves a dry run's document to this
                            // branch; a plan refused outright still has one.
                            let value = serde_json::json!({"ok": false, "finding": message});
                            write_out(&format!("{value}\n"))?;
                        }
                        return Err(failure);
                    }
                };
                write_out(&plan_text(&dir, plan.as_ref(), json))?;
                return match plan {
                    // Something to cut is a finding: scripts read the exit code.
                    Some(plan) => Err(Failure::Finding(plan.reason)),
                    None => Ok(()),
                };
            }
            let recovery = SegmentStore::recover(&dir)?;
            // What is left must verify: a forged record is no cut's business.
            match custodia_audit::verify(SegmentStore::open_read_only(&dir)?, None) {
                Ok(report) => {
                    write_out(&recovery_text(&dir, recovery.as_ref(), Some(&report), json))
                }
                Err(e) => {
                    if recovery.is_some() {
                        // Say what was cut before the finding.
                        eprint!("{}", recovery_text(&dir, recovery.as_ref(), None, false));
                    }
                    Err(e.into())
                }
            }
        }
        AuditCommand::Checkpoint {
            dir,
            json,
            key,
            origin,
        } => {
            let signer = read_signer(&key).map_err(usage)?;
            let log = existing_log(&dir)?;
            let origin = origin.unwrap_or_else(|| signer.verifier().name().to_owned());
            let head = log.head();
            let note = signer.sign(&Checkpoint::new(origin.clone(), head))?;
            if json {
                let value = serde_json::json!({
                    "origin": origin,
                    "size": head.size,
                    "root": b64(&head.root),
                    "note": note,
                });
                return write_out(&format!("{value}\n"));
            }
            write_out(&note)
        }
        AuditCommand::Keygen { name, json, out } => {
            let signer = Signer::generate(&name)?;
            write_private(&out, &signer.to_key_string())?;
            if json {
                let value = serde_json::json!({
                    "name": name,
                    "verifier": signer.verifier().to_string(),
                    "key_file": out.display().to_string(),
                });
                return write_out(&format!("{value}\n"));
            }
            write_out(&format!("{}\n", signer.verifier()))
        }
        AuditCommand::Prove { dir, json, index } => {
            let log = existing_log(&dir)?;
            let proof = log.prove(index)?;
            write_out(&format!("{}\n", to_json(&proof, json)?))
        }
        AuditCommand::Export {
            dir,
            json,
            subject,
            tenant,
            keys,
        } => {
            let vault = open_vault(&keys, true)?;
            let log = existing_log(&dir)?;
            let export = log.export_subject(tenant, subject, vault.as_ref())?;
            write_out(&format!("{}\n", to_json(&export, json)?))?;
            if let Some(incomplete) = &export.incomplete {
                eprintln!(
                    "custodia: export incomplete: {} of the subject's values could not be read \
                     (events {}); see \"incomplete\" and each event's \"unreadable\"",
                    incomplete.unreadable,
                    incomplete
                        .events
                        .iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            Ok(())
        }
    }
}

/// What `audit recover` did, as text or JSON (`report`: the verification
/// of what is left, when it passed).
fn recovery_text(
    dir: &Path,
    recovery: Option<&Recovery>,
    report: Option<&custodia_audit::VerifyReport>,
    json: bool,
) -> String {
    if json {
        let value = serde_json::json!({
            "recovered": recovery.is_some(),
            "reason": recovery.map(|r| r.reason.clone()),
            "kept": recovery.map(|r| r.kept),
            "aside": recovery.map(|r| r.aside.display().to_string()),
            "note": recovery.map(|r| r.note.display().to_string()),
            "removed": recovery.map_or_else(Vec::new, |r| r.removed.iter().map(|m| serde_json::json!({
                "path": m.path.display().to_string(),
                "offset": m.offset,
                "bytes": m.bytes,
                "copy": m.copy.display().to_string(),
            })).collect()),
            "size": report.map(|r| r.head.size),
            "root": report.map(|r| b64(&r.head.root)),
        });
        return format!("{value}\n");
    }
    let mut text = match recovery {
        None => nothing_to_recover(dir),
        Some(r) => {
            let mut text = format!(
                "recovered {}: cut at {}\nkept {} records\n",
                dir.display(),
                r.reason,
                r.kept
            );
            for m in &r.removed {
                text.push_str(&format!(
                    "removed {} bytes of {} from byte {}, copied to {}\n",
                    m.bytes,
                    m.path.display(),
                    m.offset,
                    m.copy.display()
                ));
            }
            text.push_str(&format!("note: {}\n", r.note.display()));
            text
        }
    };
    if let Some(report) = report {
        text.push_str(&format!(
            "ok: {} records intact, root {}\n",
            report.head.size,
            b64(&report.head.root)
        ));
    }
    text
}

/// What `audit recover` says of a log with no damage and no torn tail.
fn nothing_to_recover(dir: &Path) -> String {
    format!(
        "nothing to recover in {}: no damaged record or torn tail\n",
        dir.display()
    )
}

/// What `audit recover --dry-run` found, as text or JSON. Something to
/// cut is a finding (exit 1), so its JSON says `"ok": false` with the
/// `"finding"`, like every finding's document.
fn plan_text(dir: &Path, plan: Option<&RecoveryPlan>, json: bool) -> String {
    if json {
        let value = serde_json::json!({
            "ok": plan.is_none(),
            "finding": plan.map(|p| p.reason.clone()),
            "would_recover": plan.is_some(),
            "reason": plan.map(|p| p.reason.clone()),
            "kept": plan.and_then(|p| p.kept),
            "remove": plan.map_or_else(Vec::new, |p| p.cuts.iter().map(|c| serde_json::json!({
                "path": c.path.display().to_string(),
                "offset": c.offset,
                "bytes": c.bytes,
            })).collect()),
        });
        return format!("{value}\n");
    }
    let Some(plan) = plan else {
        return nothing_to_recover(dir);
    };
    let mut text = format!("would cut {} at {}\n", dir.display(), plan.reason);
    if let Some(kept) = plan.kept {
        text.push_str(&format!("would keep {kept} records\n"));
    }
    for c in &plan.cuts {
        text.push_str(&format!(
            "would remove {} bytes of {} from byte {}\n",
            c.bytes,
            c.path.display(),
            c.offset
        ));
    }
    text.push_str("nothing changed (dry run)\n");
    text
}

/// Events appended per batch from the staging file.
const APPEND_BATCH: usize = 10_000;

/// Reads one line (without its newline) into `line`; `false` at the end of
/// the input. A line over [`crate::MAX_LINE`] is an error, not a reason to
/// hold the whole input in memory.
fn read_bounded_line(
    input: &mut impl BufRead,
    line: &mut Vec<u8>,
    number: usize,
) -> Result<bool, Failure> {
    let read = crate::read_line_capped(input, line)
        .map_err(|e| usage(format!("stdin line {number}: {e}")))?;
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    Ok(read > 0)
}

/// Encoded events validated by `audit append`, staged in an anonymous
/// temporary file (gone when dropped) until every line has passed.
struct Staged {
    file: std::io::BufWriter<std::fs::File>,
    count: u64,
}

impl Staged {
    fn new() -> Result<Self, Failure> {
        let file = tempfile::tempfile().map_err(|e| usage(format!("staging file: {e}")))?;
        Ok(Self {
            file: std::io::BufWriter::new(file),
            count: 0,
        })
    }

    fn push(&mut self, record: &[u8]) -> Result<(), Failure> {
        let len = u32::try_from(record.len()).map_err(|_| usage("an event over 4 GiB"))?;
        self.file
            .write_all(&len.to_le_bytes())
            .and_then(|()| self.file.write_all(record))
            .map_err(|e| usage(format!("staging file: {e}")))?;
        self.count += 1;
        Ok(())
    }

    /// Appends the staged events in batches of [`APPEND_BATCH`]; returns how many.
    fn append_to(self, log: &mut AuditLog<SegmentStore>) -> Result<u64, Failure> {
        use std::io::{Read, Seek};
        let staging = |e: std::io::Error| usage(format!("staging file: {e}"));
        let mut file = self
            .file
            .into_inner()
            .map_err(|e| staging(e.into_error()))?;
        file.seek(std::io::SeekFrom::Start(0)).map_err(staging)?;
        let mut reader = std::io::BufReader::new(file);
        let mut batch: Vec<Vec<u8>> = Vec::with_capacity(APPEND_BATCH.min(1024));
        let mut left = self.count;
        while left > 0 {
            batch.clear();
            while left > 0 && batch.len() < APPEND_BATCH {
                let mut len = [0u8; 4];
                reader.read_exact(&mut len).map_err(staging)?;
                let mut record = vec![0; u32::from_le_bytes(len) as usize];
                reader.read_exact(&mut record).map_err(staging)?;
                batch.push(record);
                left -= 1;
            }
            let records: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
            log.append_encoded(&records)?;
        }
        Ok(self.count)
    }
}

/// JSON on one line (`--json`) or indented.
fn to_json(value: &impl serde::Serialize, one_line: bool) -> Result<String, Failure> {
    if one_line {
        serde_json::to_string(value).map_err(usage)
    } else {
        serde_json::to_string_pretty(value).map_err(usage)
    }
}

/// Runs an `audit` subcommand for `main`: a finding is printed and exits 1;
/// a usage error comes back as the message `main` prints before exiting 2.
pub fn dispatch(command: AuditCommand) -> Result<(), String> {
    let json_finding = matches!(
        command,
        AuditCommand::Verify { json: true, .. }
            | AuditCommand::Append { json: true, .. }
            | AuditCommand::Recover {
                json: true,
                dry_run: false,
                ..
            }
    );
    match run(command) {
        Ok(()) => Ok(()),
        Err(Failure::Usage(message)) => Err(message),
        Err(Failure::Finding(message)) => {
            if json_finding {
                // A finding is a result: with --json it goes on standard output too.
                let value = serde_json::json!({"ok": false, "finding": message});
                let _ = write_out(&format!("{value}\n"));
            }
            eprintln!("custodia: {message}");
            std::process::exit(1)
        }
    }
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Writes a new private key file; see [`crate::write_new_key_file`].
fn write_private(path: &Path, key: &str) -> Result<(), Failure> {
    crate::write_new_key_file(path, key).map_err(|e| usage(format!("{}: {e}", path.display())))
}

/// A progress bar over the records `audit verify` has checked, drawn only
/// when standard error is a terminal (silent when piped).
fn verify_progress() -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar =
        indicatif::ProgressBar::with_draw_target(Some(0), indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "verifying {bar:40} {human_pos}/{human_len} records {per_sec} eta {eta}",
    ) {
        bar.set_style(style);
    }
    bar
}
