//! `custodia dsr export|erase|restrict`: data-subject requests over a host's data.
//!
//! The host's personal data is reached through a **source program** given
//! after `--`: the command spawns it and speaks custodia-dsr's source
//! protocol with it on its stdin/stdout ([`custodia_dsr::remote`]: versioned
//! JSON lines, one request and one reply at a time). The host implements
//! `PersonalDataSource` (and `SubjectDirectory`, to find a person by
//! email: `--email-stdin`, `--email-file`) and serves
//! it with `SourceServer`; the helpdesk example's
//! `custodia-helpdesk-source --data DIR` is one such program. What the
//! command keeps itself is named by options: the audit log every step is
//! written to (`--audit`), the key store whose subject keys it shreds and
//! opens audit values with (`--master-key`, `--subject-keys`), and, for an
//! erasure, the retention policy that decides what is kept (`--policy`) and
//! the key that signs a checkpoint of the log beforehand.
//!
//! A source that keeps state about a person as a whole (a contact register
//! saying their processing is restricted, so that records stored later
//! inherit it) is reached once per request through the source protocol's
//! `subject_step`, whether or not the person has a record: `restrict`
//! records a restriction or objection of a contact with no record yet,
//! `export` lists that state in the bundle, `erase` removes it and the
//! certificate says so. A source program built before the step (its hello
//! does not offer it) is not asked: it works as before, reached through
//! the records it locates only.
//!
//! Every subcommand first checks that the person is known, so that a
//! mistyped id is refused before anything is written: a source locates a
//! record of them, or the `--audit` log holds an event about them (an
//! earlier request counts). `export` and `erase` refuse anyone else.
//! `restrict` (a restriction, its lift or an objection) refuses them too,
//! saying what was looked for, unless the operator confirms with
//! `--no-record-yet` that the person has no record yet: the request then
//! goes ahead and a source keeping subject-level state records it for the
//! records stored later. Through a source program whose hello does not
//! offer the step it is still refused, since nothing would record it;
//! through one that offers it (every `SourceServer` does) but whose
//! sources keep nothing, the request is recorded with a warning on
//! standard error that it reached nothing. A person found by email
//! (`--email-stdin`, `--email-file`) is known to the source program's
//! directory, so `restrict` takes them without the flag; a mistyped
//! address finds no one and is refused. The flag takes `--subject` only.
//!
//! `export` completes the request only once its bundle is written
//! (`Desk::export_with`): a bundle that cannot be written (a full disk, a
//! directory in the way) leaves the request open in the log, its bundle
//! audited as produced and its delivery as failed, never as completed.
//!
//! Exit codes: `0` ok; `2` a usage or input error (missing log or key
//! files, a program that is not a source, unknown tenant or subject, bad
//! arguments), with the reason on standard error.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use clap::{Args, Subcommand, ValueEnum};
use custodia_audit::checkpoint::Signer;
use custodia_audit::{AuditLog, Query, SegmentOptions, SegmentStore};
use custodia_core::{
    ActorId, Clock, DataCategory, Purpose, Role, SubjectId, SystemClock, TenantId,
};
use custodia_crypt::{FileKeyStore, SubjectVault};
use custodia_dsr::remote::{RemoteSources, SubjectDirectory};
use custodia_dsr::{
    AuditTrail, Desk, ErasureCertificate, ErasureException, ErasurePolicy, ExportBundle,
    FieldAction, PersonalDataSource, PolicyRetention, Request, RequestKind, RestrictionReport,
    VerificationMethod,
};
use custodia_retention::RetentionPolicy;

/// The exit codes of `dsr` and its subcommands.
pub const EXIT_CODES: &str = "Exit codes: 0 ok; 2 usage or input error (missing log or key files, a program that is not a source, unknown tenant or subject, bad arguments; reason on stderr, never JSON).";

/// The `dsr` subcommands.
#[derive(Debug, Subcommand)]
pub enum DsrCommand {
    /// Answer an access (or portability) request: write the export bundle
    /// (bundle.json, one CSV per record type plus audit-events.csv,
    /// manifest.json) and print a summary.
    ///
    /// Every step is audited into the --audit log. The bundle includes the
    /// subject's audit events, their own values opened with their key. The
    /// request is completed in the log only once the bundle is written.
    ///
    /// The source program's replies are read a line at a time; a line over
    /// 16 MiB is an error (exit 2), so memory does not grow with its output.
    #[command(after_help = EXIT_CODES)]
    Export {
        #[command(flatten)]
        who: Who,
        /// The directory to write the bundle to (created with mode 0700;
        /// files in it with the same names are replaced). The files are
        /// readable by their owner only (0600): they hold the person's data
        /// decrypted. They are written whole or not at all: a write that
        /// fails (exit 2) leaves the directory as it was, and the request
        /// open in the --audit log (its bundle produced, its delivery
        /// failed, never completed); an --out that is a file, or whose
        /// bundle.json or manifest.json is a directory, is refused before
        /// the request is made. Default: exports/<request id> in the
        /// current directory.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Only what the person provided (Art. 20 portability) instead of
        /// everything (Art. 15 access).
        #[arg(long)]
        portability: bool,
        /// Write the CSV files for a person who will open them in a
        /// spreadsheet: every cell is quoted, and a cell that begins with
        /// =, +, -, @, a tab or a carriage return (after any spaces) gets a
        /// leading ' so that the spreadsheet shows it as text instead of
        /// running it as a formula (OWASP, CSV injection). Without it the CSV carries every value unchanged,
        /// for programs; bundle.json is the same either way.
        #[arg(long)]
        spreadsheet_csv: bool,
        /// Print the summary as one line of JSON: {"request", "tenant",
        /// "subject", "records", "audit_events", "audit_unreadable", "out",
        /// "files"} ("audit_unreadable": how many of the person's audit
        /// values could not be read, each marked "[unreadable: reason]" in
        /// audit-events.csv; 0 when the history is complete).
        #[arg(long)]
        json: bool,
    },
    /// Run an erasure request and print its certificate: what was erased,
    /// what was kept and why (from the --policy retention policy), the
    /// subject key's fate and when backups are clear.
    ///
    /// With --checkpoint-key, a signed checkpoint of the audit log is
    /// written to --checkpoint-dir first; every step is audited into the
    /// --audit log, and the log still verifies afterwards (`custodia audit
    /// verify LOG --checkpoint ...`).
    ///
    /// The source program's replies are read a line at a time; a line over
    /// 16 MiB is an error (exit 2), so memory does not grow with its output.
    #[command(after_help = EXIT_CODES)]
    Erase {
        #[command(flatten)]
        who: Who,
        #[command(flatten)]
        rules: ErasureRules,
        /// Print the certificate as one line of JSON (custodia-dsr's
        /// erasure certificate, schema custodia.dsr.erasure_certificate:
        /// "request", "tenant", "subject", "received_at", "issued_at",
        /// "sources", "erased", "kept", "subject_key", "backups_clear_by",
        /// "recipients_to_inform") plus "checkpoint", the path of the audit
        /// log checkpoint taken before the erasure (null without
        /// --checkpoint-key).
        #[arg(long)]
        json: bool,
    },
    /// Run a restriction of processing (Art. 18), its lift, or an
    /// objection (Art. 21) to purposes, and print what it covered: the
    /// records restricted and the state the sources keep about the person
    /// as a whole (a contact register), which covers the records stored for
    /// them later.
    ///
    /// A subject id that no source locates a record of and no event of
    /// the --audit log is about (a mistyped id) is refused, and nothing
    /// is recorded, unless --no-record-yet says the person has no record
    /// yet. A person found by email is known to the source program's
    /// directory and needs no flag. Every step is audited into the
    /// --audit log.
    ///
    /// The source program's replies are read a line at a time; a line over
    /// 16 MiB is an error (exit 2), so memory does not grow with its output.
    #[command(after_help = EXIT_CODES)]
    Restrict {
        #[command(flatten)]
        who: Who,
        /// The --subject has no record and no audit event yet (a
        /// restriction ahead of their first ticket, or the lift of one
        /// whose audit events are gone): go ahead instead of refusing the
        /// id as unknown. The source program must keep state about a
        /// person as a whole (its hello offers the subject-level step),
        /// which records the restriction for the records stored for them
        /// later; otherwise it is still refused, and if no source keeps
        /// such state after all, a warning on standard error says the
        /// restriction reached nothing. Not needed for a person with a
        /// record or an earlier request.
        #[arg(long, conflicts_with_all = ["email_stdin", "email_file", "email"])]
        no_record_yet: bool,
        /// Lift an earlier restriction (Art. 18(3)) instead.
        #[arg(long, conflicts_with = "object")]
        lift: bool,
        /// Record an objection (Art. 21) to processing for this purpose
        /// (e.g. `ai_assistance`) instead of a restriction. Repeatable.
        #[arg(long, value_name = "PURPOSE")]
        object: Vec<Purpose>,
        /// Print the result as one line of JSON: {"request", "tenant",
        /// "subject", "kind" ("restriction", "lift" or "objection"),
        /// "records", "subject_records" ([{"source", "record_type", "id"}]:
        /// the subject-level state written), "recipients_to_inform"}.
        #[arg(long)]
        json: bool,
    },
}

/// Whose request, and where the host's data, log and keys are.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("person").required(true)
    .args(["subject", "email_stdin", "email_file", "email"])))]
pub struct Who {
    /// The tenant (subscriber) id.
    #[arg(long)]
    tenant: TenantId,
    /// The data subject's id.
    #[arg(long)]
    subject: Option<SubjectId>,
    /// Find the data subject by contact email, read from the first line of
    /// standard input (through the source program's directory, e.g. a
    /// blind index), e.g. `printf '%s\n' "$EMAIL" | custodia dsr ...`.
    #[arg(long)]
    email_stdin: bool,
    /// Find the data subject by contact email, read from the first line of
    /// FILE.
    #[arg(long, value_name = "FILE")]
    email_file: Option<PathBuf>,
    /// Deprecated: the address is then in the command line, which other
    /// users see (`ps`, /proc) and the shell's history keeps; use
    /// --email-stdin or --email-file. Still works, with a warning on
    /// standard error.
    #[arg(long, value_name = "ADDR")]
    email: Option<String>,
    /// How the person's identity was checked before this request.
    #[arg(long, value_enum, default_value_t = Verification::AccountHolder)]
    verification: Verification,
    /// The audit log directory (custodia-audit segment files) every step
    /// is written to; it must exist and hold the log (a directory without
    /// segment files is refused, exit 2, and nothing is written to it).
    #[arg(long, value_name = "DIR")]
    audit: PathBuf,
    /// File holding the base64 32-byte master key of the key store.
    #[arg(long, value_name = "FILE")]
    master_key: PathBuf,
    /// The encrypted key store (custodia-crypt FileKeyStore) holding the
    /// subject keys: shredded on erasure, used to open audit values.
    #[arg(long, value_name = "FILE")]
    subject_keys: PathBuf,
    /// Seconds to wait for the source program's hello and for each of its
    /// replies; a program that outstays it is stopped and the request
    /// ends with an error (a half-done erasure is finished by running it
    /// again).
    #[arg(long, value_name = "SECONDS", default_value_t = custodia_dsr::remote::REPLY_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    source_timeout: u64,
    /// The source program and its arguments, after `--`: it serves the
    /// host's personal-data sources over custodia-dsr's source protocol on
    /// its stdin/stdout (e.g. `-- custodia-helpdesk-source --data DIR`).
    #[arg(last = true, required = true, value_name = "PROGRAM")]
    source: Vec<String>,
}

/// What an erasure keeps and how it erases.
#[derive(Debug, Args)]
pub struct ErasureRules {
    /// The retention policy (TOML or JSON, custodia-retention): what it
    /// still keeps, an erasure keeps, with its reason; its backup schedule
    /// says when backups are clear.
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
    /// The Art. 17(3) exception a rule or hold of the policy stands for,
    /// e.g. `closed-tickets=legal-claims` (otherwise a `17(3)(x)` tag in
    /// its name, or by default legal-claims for holds and
    /// legal-obligation for rules). Repeatable.
    #[arg(long, value_name = "NAME=EXCEPTION", value_parser = parse_exception)]
    exception: Vec<(String, ErasureException)>,
    /// Anonymize fields of this data category instead of deleting them
    /// (e.g. `user.content.ticket`, so tickets stay in the statistics).
    /// Repeatable; everything else is deleted.
    #[arg(long, value_name = "CATEGORY")]
    anonymize: Vec<DataCategory>,
    /// Sign a checkpoint of the audit log with this signer key (from
    /// `custodia audit keygen`; refused unless mode 0600 or stricter)
    /// before the erasure.
    #[arg(long, value_name = "FILE", requires = "checkpoint_dir")]
    checkpoint_key: Option<PathBuf>,
    /// Where that checkpoint is written, as size-<n>.note (created).
    #[arg(long, value_name = "DIR", requires = "checkpoint_key")]
    checkpoint_dir: Option<PathBuf>,
}

/// `closed-tickets=legal-claims`: the exception's serde name, with dashes.
fn parse_exception(text: &str) -> Result<(String, ErasureException), String> {
    let (name, wanted) = text
        .split_once('=')
        .ok_or("expected NAME=EXCEPTION, e.g. closed-tickets=legal-claims")?;
    ErasureException::ALL
        .into_iter()
        .find(|e| {
            serde_json::to_value(e)
                .is_ok_and(|v| v.as_str() == Some(wanted.replace('-', "_").as_str()))
        })
        .map(|e| (name.to_owned(), e))
        .ok_or_else(|| {
            format!(
                "unknown exception {wanted:?}: one of freedom-of-expression, legal-obligation, public-health, archiving-or-research, legal-claims"
            )
        })
}

/// How the requester was identified.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Verification {
    /// The request came from the person's signed-in portal session.
    Session,
    /// A code sent to the contact address on file came back.
    ContactChallenge,
    /// The subscriber's account holder confirmed the person.
    AccountHolder,
    /// An identity document was checked.
    Document,
}

impl From<Verification> for VerificationMethod {
    fn from(v: Verification) -> Self {
        match v {
            Verification::Session => VerificationMethod::AuthenticatedSession,
            Verification::ContactChallenge => VerificationMethod::ContactChallenge,
            Verification::AccountHolder => VerificationMethod::AccountHolderConfirmation,
            Verification::Document => VerificationMethod::DocumentCheck,
        }
    }
}

/// The operator's actor id in `tenant`.
fn operator(tenant: TenantId) -> ActorId {
    ActorId::from_external_key(tenant, "custodia.cli", "operator")
}

/// The audit trail over the --audit log, sealing with the subject keys.
type Trail = AuditTrail<SegmentStore, Arc<FileKeyStore>>;

/// The vault over the key store.
type Vault = SubjectVault<Arc<FileKeyStore>>;

/// What a request runs on: the source program's session, the log, the keys.
struct Host {
    remote: RemoteSources,
    sources: Vec<Arc<dyn PersonalDataSource>>,
    trail: Arc<Trail>,
    vault: Arc<Vault>,
    clock: Arc<dyn Clock>,
}

fn text(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The subject-key vault over `--subject-keys`: the store's own keyring
/// when it holds one (random, wrapped tenant keys), else the keyring
/// derived from the master key.
fn open_vault(who: &Who, clock: &Arc<dyn Clock>) -> Result<Arc<Vault>, String> {
    crate::keys::open_existing_subject_vault(&who.master_key, &who.subject_keys, Arc::clone(clock))
        .map(Arc::new)
}

impl Host {
    /// Opens the log and the keys, then starts the source program.
    fn open(who: &Who) -> Result<Self, String> {
        if !who.audit.is_dir() {
            return Err(format!(
                "{} is not a directory: pass the audit log directory (--audit)",
                who.audit.display()
            ));
        }
        if !holds_segments(&who.audit)? {
            // `DIR` given for `DIR/audit`: starting a new log there would
            // leave files behind and answer with an empty audit history.
            return Err(format!(
                "{} holds no audit log (no segment files): pass the directory the host's audit log is in (--audit)",
                who.audit.display()
            ));
        }
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let vault = open_vault(who, &clock)?;
        let log = AuditLog::open(
            SegmentStore::open(&who.audit, SegmentOptions::default()).map_err(text)?,
        )
        .map_err(text)?
        .require_sealed(true);
        let trail = Arc::new(AuditTrail::new(log, Arc::clone(&vault)));
        let (program, args) = who
            .source
            .split_first()
            .ok_or("give the source program after --")?;
        let mut command = Command::new(program);
        command.args(args);
        let timeout = std::time::Duration::from_secs(who.source_timeout);
        let remote = RemoteSources::spawn_with_timeout(command, timeout)
            .map_err(|e| format!("{program}: {e}"))?;
        let sources = remote.sources();
        Ok(Self {
            remote,
            sources,
            trail,
            vault,
            clock,
        })
    }

    /// A desk over the sources: steps audited into the log, subject keys
    /// shredded on erasure, the subject's audit events in access bundles.
    fn desk(&self) -> Result<Desk, String> {
        let mut desk = Desk::new(Arc::clone(&self.clock), self.trail.clone())
            .with_key_shredder(self.vault.clone())
            .with_audit_history(self.trail.clone());
        for source in &self.sources {
            desk = desk.with_source(Arc::clone(source)).map_err(text)?;
        }
        Ok(desk)
    }

    fn known_in_log(&self, query: Query) -> Result<bool, String> {
        self.trail
            .with_log(|log| log.query(&query))
            .map(|found| !found.is_empty())
            .map_err(text)
    }

    /// Checks the tenant is known and finds the subject, by id or by
    /// `email` (from [`email`]), and whether they are known: a source
    /// locates a record of them or the log holds an event about them. One
    /// who is not is refused (a mistyped id), unless `unknown` lets them
    /// through (a restriction ahead of any record).
    fn resolve(
        &self,
        who: &Who,
        email: Option<&str>,
        unknown: Unknown,
    ) -> Result<(SubjectId, bool), String> {
        let tenant = who.tenant;
        let directory = self.remote.hello().directory;
        let has_tenant = (directory && self.remote.has_tenant(tenant).map_err(text)?)
            || self.known_in_log(Query::new().tenant(tenant))?;
        if !has_tenant {
            return Err(format!(
                "unknown tenant {tenant}: no data of it in the sources and no audit events of it in {}",
                who.audit.display()
            ));
        }
        let mut by_email = false;
        let subject = match (&who.subject, email) {
            (Some(subject), _) => *subject,
            (None, Some(_)) if !directory => {
                return Err(
                    "the source program finds no one by email (it serves no directory): use --subject"
                        .into(),
                );
            }
            (None, Some(email)) => {
                let found = self.remote.find_subjects(tenant, email).map_err(text)?;
                match found.as_slice() {
                    [one] => {
                        by_email = true;
                        *one
                    }
                    [] => {
                        return Err(format!(
                            "no contact of tenant {tenant} has that email (an erased contact's email is gone): use --subject"
                        ));
                    }
                    many => {
                        return Err(format!(
                            "{} contacts of tenant {tenant} have that email: use --subject",
                            many.len()
                        ));
                    }
                }
            }
            (None, None) => return Err("give --subject, --email-stdin or --email-file".into()),
        };
        let mut located = false;
        for source in &self.sources {
            located |= !source.locate(tenant, subject).map_err(text)?.is_empty();
        }
        if located || self.known_in_log(Query::new().tenant(tenant).subject(subject))? {
            return Ok((subject, true));
        }
        let Unknown::Restrict {
            kind,
            no_record_yet,
        } = unknown
        else {
            return Err(format!(
                "unknown subject {subject} in tenant {tenant}: no records or audit events about them"
            ));
        };
        if !self.remote.hello().subject_step {
            return Err(format!(
                "unknown subject {subject} in tenant {tenant}: no records or audit events about them, \
                 and the source program keeps no state about a person as a whole (its hello does not \
                 offer the subject-level step), so nothing would record the {kind}; nothing was recorded"
            ));
        }
        if !(no_record_yet || by_email) {
            return Err(format!(
                "unknown subject {subject} in tenant {tenant}: no source located a record of them and \
                 {} holds no audit event about them, so nothing was recorded (a mistyped id?). \
                 Check the id; if it is right and the person has no record yet, run the command again \
                 with --no-record-yet {}",
                who.audit.display(),
                ahead(kind)
            ));
        }
        eprintln!(
            "custodia: note: no records or audit events about subject {subject} in tenant {tenant} yet; going ahead {}",
            ahead(kind)
        );
        Ok((subject, false))
    }

    /// Signs a checkpoint of the log's head into `dir`; returns its path.
    fn checkpoint(&self, signer: &Signer, dir: &Path) -> Result<PathBuf, String> {
        let origin = signer.verifier().name().to_owned();
        let (note, size) = self
            .trail
            .with_log(|log| {
                log.sync()?;
                Ok::<_, custodia_audit::Error>((log.checkpoint(&origin, signer)?, log.len()))
            })
            .map_err(text)?;
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = dir.join(format!("size-{size}.note"));
        write_file(&path, &note)?;
        Ok(path)
    }
}

/// Whether `dir` holds a segment file of a custodia-audit log. Read from
/// the listing alone, so it neither waits for nor takes the writer's lock.
fn holds_segments(dir: &Path) -> Result<bool, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        if entry.file_name().to_string_lossy().ends_with(".seg") {
            return Ok(true);
        }
    }
    Ok(false)
}

/// What a restriction, lift or objection (`kind`) of a person with no
/// record does, for messages.
fn ahead(kind: &str) -> String {
    if kind == "lift" {
        "to lift what the sources hold about them as a whole".to_owned()
    } else {
        format!("to record the {kind} for the records stored for them later")
    }
}

/// Whom [`Host::resolve`] takes besides a person with a located record or
/// an audit event: a mistyped id must not become a request.
#[derive(Debug, Clone, Copy)]
enum Unknown {
    /// Nobody: an export or an erasure has nothing to act on.
    Refused,
    /// A restriction, lift or objection (`kind` names it in messages):
    /// taken when the source program keeps subject-level state and either
    /// the operator confirmed the person has no record yet
    /// (`no_record_yet`) or its directory found them by email.
    Restrict {
        kind: &'static str,
        no_record_yet: bool,
    },
}

/// The longest first line `--email-stdin` and `--email-file` accept, in
/// bytes without its newline: an address is at most 254.
const MAX_EMAIL_LINE: u64 = 1024;

/// The contact email the options give, if any: `--email-stdin` or
/// `--email-file` (the first line, trimmed), or the deprecated `--email`,
/// which warns that the address is exposed in the command line.
fn email(who: &Who) -> Result<Option<String>, String> {
    if let Some(address) = &who.email {
        eprintln!(
            "custodia: warning: --email puts the address in the command line, where other users (ps) and the shell's history see it; use --email-stdin or --email-file"
        );
        return Ok(Some(address.clone()));
    }
    if who.email_stdin {
        return read_email(std::io::stdin().lock(), "standard input").map(Some);
    }
    if let Some(path) = &who.email_file {
        let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        return read_email(std::io::BufReader::new(file), &path.display().to_string()).map(Some);
    }
    Ok(None)
}

/// The first line of `input`, trimmed; `from` names it in errors, which
/// never quote what was read.
fn read_email(input: impl std::io::BufRead, from: &str) -> Result<String, String> {
    use std::io::BufRead;
    let mut line = Vec::new();
    // The line, its newline and one byte more tell a line that is too long.
    input
        .take(MAX_EMAIL_LINE + 2)
        .read_until(b'\n', &mut line)
        .map_err(|e| format!("{from}: {e}"))?;
    let body = line.strip_suffix(b"\n").unwrap_or(&line);
    if body.len() as u64 > MAX_EMAIL_LINE {
        return Err(format!(
            "{from}: the first line is over {MAX_EMAIL_LINE} bytes: not an email address"
        ));
    }
    let text =
        std::str::from_utf8(body).map_err(|_| format!("{from}: the email address is not UTF-8"))?;
    let address = text.trim();
    if address.is_empty() {
        return Err(format!("{from}: no email address on the first line"));
    }
    Ok(address.to_owned())
}

/// The retention check and backup horizon from --policy.
fn retention(rules: &ErasureRules, clock: &Arc<dyn Clock>) -> Result<PolicyRetention, String> {
    let policy = RetentionPolicy::from_path(&rules.policy).map_err(text)?;
    Ok(rules.exception.iter().fold(
        PolicyRetention::new(Arc::new(policy), Arc::clone(clock)),
        |retention, (name, exception)| retention.exception(name, *exception),
    ))
}

/// Writes one file of an export bundle: readable by its owner only (0600),
/// replaced atomically and synced (see `custodia_crypt::durable`).
fn write_file(path: &Path, content: &str) -> Result<(), String> {
    custodia_crypt::durable::write_atomically(path, content.as_bytes(), 0o600)
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn print(text: &str) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.to_string()),
        _ => Ok(()),
    }
}

/// Refuses an `--out` the bundle cannot be written into: a path that is
/// not a directory, or one of the file `names` taken by a directory.
/// `export` checks the names every bundle has before the request is made,
/// so such a refusal leaves nothing in the audit log; `write_bundle`
/// checks them all again with the bundle's own.
fn check_out<'a>(out: &Path, names: impl IntoIterator<Item = &'a str>) -> Result<(), String> {
    if out.exists() && !out.is_dir() {
        return Err(format!(
            "{}: exists and is not a directory; nothing was written",
            out.display()
        ));
    }
    for name in names {
        let target = out.join(name);
        if target.is_dir() {
            return Err(format!(
                "{}: a directory is in the way of the bundle's file; nothing was written",
                target.display()
            ));
        }
    }
    Ok(())
}

/// Writes `bundle` into `out`: bundle.json, its CSV files (for a
/// spreadsheet, when `spreadsheet`: see `ExportBundle::spreadsheet_csv_files`)
/// and manifest.json. Returns the file names written.
///
/// The bundle is everything held about the person, decrypted: `out` is
/// created with mode 0700 (an existing directory is kept as it is) and each
/// file with mode 0600. It is written whole or not at all: every file is
/// staged in a new private directory (`out` itself when it is new, renamed
/// into place; else one inside it, whose files are renamed over the old
/// ones), and a failed write (a full disk, `ulimit -f`) removes the staging
/// directory, so no part of the person's data is left behind and an
/// earlier bundle in `out` is not mixed with a new one.
fn write_bundle(
    bundle: &ExportBundle,
    out: &Path,
    spreadsheet: bool,
) -> Result<Vec<String>, String> {
    let mut files = vec![(
        "bundle.json".to_owned(),
        bundle.to_json().map_err(|e| e.to_string())?,
    )];
    let csv_files = if spreadsheet {
        bundle.spreadsheet_csv_files()
    } else {
        bundle.csv_files()
    };
    for csv in csv_files {
        // Names come from the bundle (source and record type); keep them
        // inside `out`.
        let name = Path::new(&csv.name)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| format!("bad CSV file name {:?}", csv.name))?;
        files.push((name, csv.content));
    }
    let mut names: Vec<String> = files.iter().map(|(name, _)| name.clone()).collect();
    names.push("manifest.json".to_owned());
    let manifest = serde_json::json!({
        "schema": "custodia.dsr.export_manifest",
        "version": 1,
        "request": bundle.request,
        "kind": bundle.kind,
        "tenant": bundle.tenant,
        "subject": bundle.subject,
        "generated_at": bundle.generated_at,
        "sources": bundle.manifest,
        "audit_events": bundle.audit.events.len(),
        "audit_unreadable": bundle.audit.unreadable,
        "files": names,
    });
    files.push((
        "manifest.json".to_owned(),
        serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())?,
    ));
    let shown = |path: &Path, e: std::io::Error| format!("{}: {e}", path.display());
    // A name the bundle needs taken by a directory: refused before any of
    // the person's data is written.
    check_out(out, files.iter().map(|(name, _)| name.as_str()))?;
    let exists = out.exists();
    let staging = if exists {
        out.join(format!(".custodia-export.partial-{}", std::process::id()))
    } else {
        let parent = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        custodia_crypt::durable::create_private_dir(parent).map_err(|e| shown(parent, e))?;
        let mut name = std::ffi::OsString::from(".");
        name.push(out.file_name().unwrap_or(std::ffi::OsStr::new("export")));
        name.push(format!(".partial-{}", std::process::id()));
        parent.join(name)
    };
    // Left by a crashed run of a process with this id: never a live bundle.
    let _ = std::fs::remove_dir_all(&staging);
    let staged = custodia_crypt::durable::create_private_dir(&staging)
        .map_err(|e| shown(&staging, e))
        .and_then(|()| {
            files
                .iter()
                .try_for_each(|(name, content)| write_file(&staging.join(name), content))
        })
        .and_then(|()| {
            if exists {
                for (name, _) in &files {
                    let target = out.join(name);
                    std::fs::rename(staging.join(name), &target).map_err(|e| shown(&target, e))?;
                }
                custodia_crypt::durable::sync_parent(&out.join("manifest.json"))
                    .map_err(|e| shown(out, e))
            } else {
                std::fs::rename(&staging, out)
                    .and_then(|()| custodia_crypt::durable::sync_parent(out))
                    .map_err(|e| shown(out, e))
            }
        });
    // Empty after a whole move, or holding what failed: gone either way.
    let _ = std::fs::remove_dir_all(&staging);
    staged?;
    Ok(names)
}

/// Receives a request as the tenant's controller and records how the
/// operator verified the person's identity.
fn verified_request(
    desk: &Desk,
    who: &Who,
    subject: SubjectId,
    kind: RequestKind,
    actor: ActorId,
) -> Result<Request, String> {
    let dsr = |e: custodia_dsr::Error| e.to_string();
    let mut request = desk
        .receive(who.tenant, subject, kind, Role::Controller, actor)
        .map_err(dsr)?;
    desk.verify(
        &mut request,
        who.verification.into(),
        "checked by the operator",
        actor,
    )
    .map_err(dsr)?;
    Ok(request)
}

/// Runs a `dsr` subcommand; an error is a usage or input error (exit 2).
pub fn run(command: DsrCommand) -> Result<(), String> {
    match command {
        DsrCommand::Export {
            who,
            out,
            portability,
            spreadsheet_csv,
            json,
        } => {
            let email = email(&who)?;
            let host = Host::open(&who)?;
            let (subject, _) = host.resolve(&who, email.as_deref(), Unknown::Refused)?;
            let desk = host.desk()?;
            let actor = operator(who.tenant);
            let kind = if portability {
                RequestKind::Portability
            } else {
                RequestKind::Access
            };
            if let Some(out) = &out {
                check_out(out, ["bundle.json", "manifest.json"])?;
            }
            let mut request = verified_request(&desk, &who, subject, kind, actor)?;
            let out = out.unwrap_or_else(|| Path::new("exports").join(request.id.to_string()));
            // Completed (and audited as completed) only once the bundle is
            // on disk: one that cannot be written leaves the request open.
            let (bundle, files) = desk
                .export_with(&mut request, actor, |bundle| {
                    write_bundle(bundle, &out, spreadsheet_csv)
                })
                .map_err(text)?;
            if json {
                let summary = serde_json::json!({
                    "request": request.id,
                    "tenant": who.tenant,
                    "subject": subject,
                    "records": bundle.records.len(),
                    "audit_events": bundle.audit.events.len(),
                    "audit_unreadable": bundle.audit.unreadable,
                    "out": out,
                    "files": files,
                });
                print(&format!("{summary}\n"))
            } else {
                let mut text = format!(
                    "export for subject {subject} of tenant {}: request {}\n",
                    who.tenant, request.id
                );
                for entry in &bundle.manifest {
                    text.push_str(&format!(
                        "  {} {}: {} record(s)\n",
                        entry.source, entry.record_type, entry.records
                    ));
                }
                text.push_str(&format!(
                    "  records: {}\n  audit events about them: {}\n  wrote {}: {}\n",
                    if bundle.records.is_empty() {
                        "none".to_owned()
                    } else {
                        bundle
                            .records
                            .iter()
                            .map(|r| r.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    },
                    bundle.audit.events.len(),
                    out.display(),
                    files.join(", ")
                ));
                if bundle.audit.unreadable > 0 {
                    text.push_str(&format!(
                        "  incomplete: {} audit value(s) about them could not be read \
                         (marked [unreadable: reason] in audit-events.csv)\n",
                        bundle.audit.unreadable
                    ));
                }
                print(&text)
            }
        }
        DsrCommand::Erase { who, rules, json } => {
            // Read first: a key file that is refused stops nothing half-way.
            let signer = rules
                .checkpoint_key
                .as_deref()
                .map(crate::audit::read_signer)
                .transpose()?;
            let email = email(&who)?;
            let host = Host::open(&who)?;
            let (subject, _) = host.resolve(&who, email.as_deref(), Unknown::Refused)?;
            let retention = Arc::new(retention(&rules, &host.clock)?);
            let policy = rules
                .anonymize
                .iter()
                .fold(ErasurePolicy::delete_all(), |p, c| {
                    p.rule(c.clone(), FieldAction::Anonymize)
                });
            let desk = host
                .desk()?
                .with_retention(retention.clone())
                .with_backup_horizon(retention)
                .with_erasure_policy(policy);
            let actor = operator(who.tenant);
            let checkpoint = match (&signer, &rules.checkpoint_dir) {
                (Some(signer), Some(dir)) => Some(host.checkpoint(signer, dir)?),
                _ => None,
            };
            let mut request = verified_request(&desk, &who, subject, RequestKind::Erasure, actor)?;
            let certificate = desk.erase(&mut request, actor).map_err(text)?;
            if json {
                let mut value = serde_json::to_value(&certificate).map_err(text)?;
                if let Some(object) = value.as_object_mut() {
                    object.insert("checkpoint".into(), serde_json::json!(checkpoint));
                }
                print(&format!("{value}\n"))
            } else {
                print(&describe(&certificate, checkpoint.as_deref()))
            }
        }
        DsrCommand::Restrict {
            who,
            no_record_yet,
            lift,
            object,
            json,
        } => {
            let (kind, name) = match (lift, object.is_empty()) {
                (true, _) => (RequestKind::Restriction { lift: true }, "lift"),
                (false, true) => (RequestKind::Restriction { lift: false }, "restriction"),
                (false, false) => (RequestKind::Objection { purposes: object }, "objection"),
            };
            let email = email(&who)?;
            let host = Host::open(&who)?;
            let unknown = Unknown::Restrict {
                kind: name,
                no_record_yet,
            };
            let (subject, known) = host.resolve(&who, email.as_deref(), unknown)?;
            let desk = host.desk()?;
            let actor = operator(who.tenant);
            let mut request = verified_request(&desk, &who, subject, kind, actor)?;
            let report = desk.restrict(&mut request, actor).map_err(text)?;
            if !known && !lift && report.records == 0 && report.subject_records.is_empty() {
                // The hello offered the step, but no source keeps such
                // state: the request is recorded, and covers nothing.
                eprintln!(
                    "custodia: warning: no source keeps state about subject {subject} as a whole: the {name} reached nothing and does not cover the records stored for them later"
                );
            }
            print(&describe_restriction(
                &who, subject, &request, name, &report, json,
            ))
        }
    }
}

/// What a restriction covered, in words or (`json`) as one JSON line.
fn describe_restriction(
    who: &Who,
    subject: SubjectId,
    request: &Request,
    kind: &str,
    report: &RestrictionReport,
    json: bool,
) -> String {
    if json {
        let subject_records: Vec<_> = report
            .subject_records
            .iter()
            .map(|(source, r)| {
                serde_json::json!({"source": source, "record_type": r.record_type, "id": r.id})
            })
            .collect();
        let value = serde_json::json!({
            "request": request.id,
            "tenant": who.tenant,
            "subject": subject,
            "kind": kind,
            "records": report.records,
            "subject_records": subject_records,
            "recipients_to_inform": report.recipients_to_inform,
        });
        return format!("{value}\n");
    }
    let mut text = format!(
        "{kind} for subject {subject} of tenant {}: request {}\n  records: {}\n",
        who.tenant, request.id, report.records
    );
    if report.subject_records.is_empty() {
        // Nothing held is what a lift leaves: only a restriction or
        // objection that reached no state misses the records to come.
        text.push_str(if kind == "lift" {
            "  subject-level state: none held (nothing to lift)\n"
        } else {
            "  subject-level state: none kept by the sources (records stored later are not covered)\n"
        });
    }
    for (source, r) in &report.subject_records {
        text.push_str(&format!(
            "  subject-level state: {source} {} {}\n",
            r.record_type, r.id
        ));
    }
    if !report.recipients_to_inform.is_empty() {
        text.push_str(&format!(
            "  recipients to inform: {}\n",
            report.recipients_to_inform.join(", ")
        ));
    }
    text
}

/// The certificate in words.
fn describe(c: &ErasureCertificate, checkpoint: Option<&Path>) -> String {
    let mut text = format!(
        "erasure certificate for subject {} of tenant {}\n  request {} received {}, issued {}\n  sources searched: {}\n",
        c.subject,
        c.tenant,
        c.request,
        c.received_at.to_rfc3339(),
        c.issued_at.to_rfc3339(),
        c.sources.join(", ")
    );
    text.push_str(&format!("  erased: {}\n", c.erased.len()));
    for e in &c.erased {
        if e.subject_level {
            text.push_str(&format!(
                "    {} {} {}: subject-level state deleted\n",
                e.source, e.record.record_type, e.record.id
            ));
        } else if e.deleted_record {
            text.push_str(&format!(
                "    {} {}: record deleted\n",
                e.source, e.record.id
            ));
        } else {
            text.push_str(&format!(
                "    {} {}: deleted {}; anonymized {}\n",
                e.source,
                e.record.id,
                none_if_empty(&e.deleted_fields),
                none_if_empty(&e.anonymized_fields)
            ));
        }
    }
    text.push_str(&format!("  kept: {}\n", c.kept.len()));
    for k in &c.kept {
        text.push_str(&format!(
            "    {} {}: {} ({}) until {}: {}\n",
            k.source,
            k.record.id,
            k.exception.article(),
            k.exception.describe(),
            k.until
                .map_or_else(|| "no end date yet".to_owned(), |t| t.to_rfc3339()),
            k.reason
        ));
    }
    text.push_str(&format!("  subject key: {}\n", c.subject_key.describe()));
    text.push_str(&format!(
        "  backups clear by: {}\n",
        c.backups_clear_by
            .map_or_else(|| "unknown".to_owned(), |t| t.to_rfc3339())
    ));
    if let Some(checkpoint) = checkpoint {
        text.push_str(&format!(
            "  audit log checkpoint before the erasure: {}\n",
            checkpoint.display()
        ));
    }
    text
}

fn none_if_empty(fields: &[String]) -> String {
    if fields.is_empty() {
        "nothing".to_owned()
    } else {
        fields.join(", ")
    }
}
