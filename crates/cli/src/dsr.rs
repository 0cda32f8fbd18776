//! `custodia dsr export|erase`: data-subject requests over a helpdesk data
//! directory (the one `cargo run --example helpdesk -- --data DIR` leaves:
//! SQLite tickets, key store, audit log, retention policy).
//!
//! Exit codes: `0` ok; `2` a usage or input error (missing or foreign data
//! directory, unknown tenant or subject, bad arguments), with the reason on
//! standard error.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand, ValueEnum};
use custodia_core::{ActorId, Clock, Role, SubjectId, SystemClock, TenantId};
use custodia_dsr::{
    Desk, ErasureCertificate, ExportBundle, Request, RequestKind, VerificationMethod,
};
use custodia_example_helpdesk::Helpdesk;
use custodia_example_helpdesk::audit::Query;

/// The exit codes of `dsr` and its subcommands.
pub const EXIT_CODES: &str = "Exit codes: 0 ok; 2 usage or input error (missing data directory, unknown tenant or subject, bad arguments; reason on stderr, never JSON).";

/// The `dsr` subcommands.
#[derive(Debug, Subcommand)]
pub enum DsrCommand {
    /// Answer an access (or portability) request: write the export bundle
    /// (bundle.json, one CSV per record type plus audit-events.csv,
    /// manifest.json) and print a summary.
    ///
    /// Every step is audited into DATA/audit. The bundle includes the
    /// subject's audit events, their own values opened with their key.
    #[command(after_help = EXIT_CODES)]
    Export {
        #[command(flatten)]
        who: Who,
        /// The directory to write the bundle to (created; files in it with
        /// the same names are replaced). Default: DATA/exports/<request id>.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Only what the person provided (Art. 20 portability) instead of
        /// everything (Art. 15 access).
        #[arg(long)]
        portability: bool,
        /// Print the summary as one line of JSON: {"request", "tenant",
        /// "subject", "records", "audit_events", "out", "files"}.
        #[arg(long)]
        json: bool,
    },
    /// Run an erasure request and print its certificate: what was erased,
    /// what was kept and why (from the data directory's retention policy),
    /// the subject key's fate and when backups are clear.
    ///
    /// A signed checkpoint of the audit log is written to DATA/checkpoints
    /// first; every step is audited into DATA/audit, and the log still
    /// verifies afterwards (`custodia audit verify DATA/audit --checkpoint
    /// ...`).
    #[command(after_help = EXIT_CODES)]
    Erase {
        #[command(flatten)]
        who: Who,
        /// Print the certificate as one line of JSON (custodia-dsr's
        /// erasure certificate, schema custodia.dsr.erasure_certificate:
        /// "request", "tenant", "subject", "received_at", "issued_at",
        /// "sources", "erased", "kept", "subject_key", "backups_clear_by",
        /// "recipients_to_inform") plus "checkpoint", the path of the audit
        /// log checkpoint taken before the erasure.
        #[arg(long)]
        json: bool,
    },
}

/// Whose request, in which data directory.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("person").required(true).args(["subject", "email"])))]
pub struct Who {
    /// The helpdesk data directory.
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// The tenant (subscriber) id.
    #[arg(long)]
    tenant: TenantId,
    /// The data subject's id.
    #[arg(long, conflicts_with = "email")]
    subject: Option<SubjectId>,
    /// Find the data subject by contact email (through the blind index).
    #[arg(long, value_name = "ADDR")]
    email: Option<String>,
    /// How the person's identity was checked before this request.
    #[arg(long, value_enum, default_value_t = Verification::AccountHolder)]
    verification: Verification,
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

/// Opens the data directory and finds the subject.
fn resolve(who: &Who) -> Result<(Helpdesk, SubjectId), String> {
    if !who.data.is_dir() {
        return Err(format!(
            "{} is not a directory: pass the helpdesk data directory (cargo run --example helpdesk -- --data DIR)",
            who.data.display()
        ));
    }
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let hd = Helpdesk::open(&who.data, clock).map_err(|e| e.to_string())?;
    let tenant = who.tenant;
    let has_tenant = hd.tickets().has_tenant(tenant).map_err(|e| e.to_string())?
        || known_in_log(&hd, Query::new().tenant(tenant))?;
    if !has_tenant {
        return Err(format!(
            "unknown tenant {tenant}: no tickets or audit events of it in {}",
            who.data.display()
        ));
    }
    let subject = match (&who.subject, &who.email) {
        (Some(subject), _) => *subject,
        (None, Some(email)) => {
            let found = hd
                .tickets()
                .subjects_by_email(tenant, email)
                .map_err(|e| e.to_string())?;
            match found.as_slice() {
                [one] => *one,
                [] => {
                    return Err(format!(
                        "no contact of tenant {tenant} has that email (an erased contact's email is gone from the index): use --subject"
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
        (None, None) => return Err("give --subject or --email".into()),
    };
    let located = custodia_dsr::PersonalDataSource::locate(hd.tickets().as_ref(), tenant, subject)
        .map_err(|e| e.to_string())?;
    if located.is_empty() && !known_in_log(&hd, Query::new().tenant(tenant).subject(subject))? {
        return Err(format!(
            "unknown subject {subject} in tenant {tenant}: no tickets or audit events about them"
        ));
    }
    Ok((hd, subject))
}

fn known_in_log(hd: &Helpdesk, query: Query) -> Result<bool, String> {
    hd.trail()
        .with_log(|log| log.query(&query))
        .map(|found| !found.is_empty())
        .map_err(|e| e.to_string())
}

fn write_file(path: &Path, content: &str) -> Result<(), String> {
    std::fs::write(path, content).map_err(|e| format!("{}: {e}", path.display()))
}

fn print(text: &str) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.to_string()),
        _ => Ok(()),
    }
}

/// Writes `bundle` into `out`: bundle.json, its CSV files and manifest.json.
/// Returns the file names written.
fn write_bundle(bundle: &ExportBundle, out: &Path) -> Result<Vec<String>, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut files = vec!["bundle.json".to_owned()];
    write_file(
        &out.join("bundle.json"),
        &bundle.to_json().map_err(|e| e.to_string())?,
    )?;
    for csv in bundle.csv_files() {
        // Names come from the bundle (source and record type); keep them
        // inside `out`.
        let name = Path::new(&csv.name)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| format!("bad CSV file name {:?}", csv.name))?;
        write_file(&out.join(&name), &csv.content)?;
        files.push(name);
    }
    files.push("manifest.json".to_owned());
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
        "files": files,
    });
    write_file(
        &out.join("manifest.json"),
        &serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())?,
    )?;
    Ok(files)
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
            json,
        } => {
            let (hd, subject) = resolve(&who)?;
            let desk = hd.desk().map_err(|e| e.to_string())?;
            let actor = operator(who.tenant);
            let kind = if portability {
                RequestKind::Portability
            } else {
                RequestKind::Access
            };
            let mut request = verified_request(&desk, &who, subject, kind, actor)?;
            let bundle = desk
                .export(&mut request, actor)
                .map_err(|e| e.to_string())?;
            let out = out.unwrap_or_else(|| {
                hd.layout()
                    .dir()
                    .join("exports")
                    .join(request.id.to_string())
            });
            let files = write_bundle(&bundle, &out)?;
            if json {
                let summary = serde_json::json!({
                    "request": request.id,
                    "tenant": who.tenant,
                    "subject": subject,
                    "records": bundle.records.len(),
                    "audit_events": bundle.audit.events.len(),
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
                print(&text)
            }
        }
        DsrCommand::Erase { who, json } => {
            let (hd, subject) = resolve(&who)?;
            let desk = hd.desk().map_err(|e| e.to_string())?;
            let actor = operator(who.tenant);
            let checkpoint = hd.checkpoint().map_err(|e| e.to_string())?;
            let mut request = verified_request(&desk, &who, subject, RequestKind::Erasure, actor)?;
            let certificate = desk.erase(&mut request, actor).map_err(|e| e.to_string())?;
            if json {
                let mut value = serde_json::to_value(&certificate).map_err(|e| e.to_string())?;
                if let Some(object) = value.as_object_mut() {
                    object.insert("checkpoint".into(), serde_json::json!(checkpoint.path));
                }
                print(&format!("{value}\n"))
            } else {
                print(&describe(&certificate, &checkpoint.path))
            }
        }
    }
}

/// The certificate in words.
fn describe(c: &ErasureCertificate, checkpoint: &Path) -> String {
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
        if e.deleted_record {
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
    text.push_str(&format!(
        "  audit log checkpoint before the erasure: {}\n",
        checkpoint.display()
    ));
    text
}

fn none_if_empty(fields: &[String]) -> String {
    if fields.is_empty() {
        "nothing".to_owned()
    } else {
        fields.join(", ")
    }
}
