//! The `custodia` command.
//!
//! Exit codes: `0` success; `1` a finding (reserved for checks such as audit
//! verification and PII detection, which arrive with their crates); `2` a usage
//! or input error, with the reason on standard error.

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
#[command(after_help = "Exit codes: 0 ok, 1 finding, 2 usage or input error.")]
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
    },
    /// List the built-in data categories (personal and system).
    Categories {
        /// Only categories within this one, e.g. `user.contact`.
        #[arg(long)]
        within: Option<String>,
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Keyrings in an encrypted key store: init, rotate, status, reencrypt, retire.
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
    /// Retention policies: check a policy file, evaluate records against it.
    Retention {
        #[command(subcommand)]
        command: retention::Command,
    },
    /// Mask (or with --detect, find) personal data in text or JSON lines.
    Mask(mask::MaskArgs),
    /// Tamper-evident audit logs: append, verify, checkpoint, prove, export.
    Audit {
        #[command(subcommand)]
        command: audit::AuditCommand,
    },
    /// Data-subject requests over a helpdesk data directory: export, erase.
    Dsr {
        #[command(subcommand)]
        command: dsr::DsrCommand,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum IdKind {
    Tenant,
    Subject,
    Actor,
}

fn main() -> ExitCode {
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
        } => {
            let id = derive_id(kind, &system, &key, tenant)?;
            writeln!(out, "{id}")
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
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.to_string()),
        _ => Ok(()),
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
