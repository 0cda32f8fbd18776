//! The helpdesk example as an HTTP/JSON API on PostgreSQL: what
//! `cargo run --release --example helpdesk-server` runs.
//!
//! The embedded example (`custodia-example-helpdesk`) walks one process
//! through nine privacy duties on SQLite. This package serves the same
//! helpdesk — the same `tickets` table, sealing, blind index, retention
//! policy, access rules, summariser and data-subject desk — to HTTP clients,
//! as any number of server processes sharing one PostgreSQL database.
//!
//! # Model
//!
//! Every tenant route sits behind `custodia_axum::CustodiaLayer`:
//!
//! * a bearer token (EdDSA JWT, [`tokens`]) names the tenant (claim `org`,
//!   a billing account), the agent (`sub`) and the roles; anything else is
//!   401, a tenant this deployment does not serve 403;
//! * each handler's queries run in a transaction bound to the caller's
//!   tenant, where row-level security shows only that tenant's rows: another
//!   tenant's ticket id finds no row, the same 404 as an id that exists
//!   nowhere;
//! * every change, and every read of a ticket's personal data, becomes an
//!   event in one tamper-evident audit log shared by every process (the
//!   client's IP address and user agent sealed under the contact's key), and
//!   the layer commits only after the event is recorded.
//!
//! | route | what | who |
//! |---|---|---|
//! | `GET /health` | liveness, the key staleness bound (no token) | anyone |
//! | `GET /me`, `GET /roles`, `GET /agents` | the caller, the tenant's roles and field rules, the agents owning tickets | any role |
//! | `POST /tickets` | a ticket; name, email, phone and text sealed under the contact's key, email blind-indexed; `processing`: `restricted` for a contact who restricted processing (ticket or not), the purposes they objected to stored with it | agent, supervisor |
//! | `GET /tickets[?email=&status=]` | the tenant's tickets, or those of one contact email (blind index); the subject line as the caller's access to ticket text allows (clear, masked, left out) | agent, supervisor, dpo |
//! | `GET /tickets/{id}` | one ticket, each field as the caller's roles allow (read, masked, hidden), the subject line as the text | agent, supervisor, dpo |
//! | `PATCH /tickets/{id}` | subject line, status, text | agent (own tickets), supervisor |
//! | `DELETE /tickets/{id}` | deletes it; 409 if a legal hold of the retention policy covers it (as the sweep keeps it) or its contact restricted processing | supervisor |
//! | `POST /tickets/{id}/summary` | the text masked, sent to the (local, fake) summariser, the reply unmasked | agent, supervisor |
//! | `POST /retention/sweep[?dry_run=true]` | the retention policy applied to the tenant's tickets now | supervisor |
//! | `GET /privacy/subjects?email=` | the contact ids with this email | dpo |
//! | `GET /privacy/subjects/{id}/audit` | the contact's audit events, opened with their key (or `[erased]`; a value of theirs that cannot be read, `[unreadable: reason]`, named in the event's `unreadable`) | dpo |
//! | `/privacy/requests…`, `/privacy/breaches…` | `custodia_axum::dsr::DsrRoutes`: access, erasure, rectification, restriction and its lift, objection (each also applied to the contact register, ticket or not); the breach register, where a new incident is missing (404, left out of the list) on every instance until its `BreachRecorded` event is written, and the same id posted meanwhile waits for it (then 409) | dpo |
//! | `POST /audit/checkpoint` | a signed checkpoint of the shared log (its size and root: every tenant's volume) | operator |
//! | `POST /audit/verify` | the whole log re-read and verified, against a checkpoint if given: for the operator with the log's size and root, for a tenant's auditor a verdict and the tenant's own event count | auditor, operator |
//!
//! A contact's restriction of processing (GDPR Art. 18, a `restriction`
//! request run through `/privacy/requests`) keeps their tickets but takes
//! them out of processing: out of the list and the search, and 409 for an
//! agent's or supervisor's read, change, deletion or summary, until a
//! request with `"lift": true`; an objection to `ai_assistance` (Art. 21)
//! stops the summary only (see the `tickets` module). Both are kept per
//! contact, in a contact register (table `contact_processing`: tenant,
//! contact id, the restriction and the purposes objected to, no clear
//! value; under row-level security), so they hold for the contact's
//! tickets to come as well, even one who has no ticket yet or whose
//! tickets were all deleted: a ticket created for a restricted contact is
//! stored restricted (`POST /tickets` answers 201 with `"processing":
//! "restricted"`) and lifted with the others, and one of a contact who
//! objected to `ai_assistance` is not summarised. The register finds a
//! contact by contact id: by `contact_key`, or by an email that one of
//! their stored tickets still carries. An erasure request of the contact
//! removes their register row with the rest of their data.
//!
//! A retention job applies the policy to every served tenant periodically
//! (`--sweep-every`), each tenant in its own bound transaction. A restricted
//! ticket is not deleted or anonymized however due it is (Art. 18(1)(b),
//! (c): its contact opposed erasure or needs it for legal claims): the
//! sweep keeps it under a hold, as a legally held one, and lists it under
//! `withheld` with the restriction as the reason; after the lift the next
//! sweep applies the policy. An erasure request is not stopped.
//!
//! # Key design decisions
//!
//! **Async in the request path, sync where the library is sync.** Requests
//! seal and open through `AsyncKeyring`/`AsyncSubjectVault` over
//! `SqlxKeyStore` and append to `AsyncAuditLog` over `SqlxAuditStore`, so
//! no runtime worker waits on the database. The data-subject desk of
//! custodia-dsr is synchronous and `DsrRoutes` runs it on tokio's blocking
//! pool; there it uses the embedded example's own sync backend
//! (`custodia_example_helpdesk::Tickets` on the `postgres` client,
//! `PostgresKeyStore`, `PostgresStore`) over the same tables. Both sides
//! share the key store and the log through PostgreSQL, so a shred by either,
//! in any process, reaches every process's caches within the staleness
//! bound (`--staleness-ms`).
//!
//! **One log for every process.** Events from the layer, the retention job
//! and the desk all extend the same gap-free log; `POST /audit/verify` on
//! any process re-reads and checks all of it against a checkpoint taken on
//! any other.

#![forbid(unsafe_code)]
// Library code returns typed errors; only tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(missing_docs)]

pub mod config;
pub mod tokens;

mod access;
mod app;
mod audit;
mod privacy;
mod retention;
mod setup;
mod summary;
mod tickets;

use std::path::PathBuf;
use std::process::ExitCode;

pub use app::{Running, Server, init_logging, start};
pub use config::{Command, DataDir, Options, parse_args};
pub use tickets::NewTicket;

/// The name of the audit log in the schema's audit tables.
pub const AUDIT_LOG: &str = "helpdesk";

/// Why the server could not start (or mint a token).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An option or a file's content is wrong.
    #[error("{0}")]
    Config(String),
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The system's message.
        message: String,
    },
    /// PostgreSQL (async driver) failed.
    #[error("database: {0}")]
    Sqlx(#[from] sqlx_core::Error),
    /// PostgreSQL (sync driver, the data-subject desk) failed.
    #[error("database: {0}")]
    Postgres(#[from] postgres::Error),
    /// The key store or keys.
    #[error("keys: {0}")]
    Crypt(#[from] custodia_crypt::Error),
    /// The audit log.
    #[error("audit log: {0}")]
    Audit(#[from] custodia_audit::Error),
    /// The tenant binding or row-level security setup.
    #[error("tenant: {0}")]
    Tenant(#[from] custodia_tenant::Error),
    /// The retention policy.
    #[error("retention policy: {0}")]
    Retention(#[from] custodia_retention::Error),
    /// The masker.
    #[error("masking: {0}")]
    Mask(#[from] custodia_mask::Error),
    /// The data-subject desk.
    #[error("data-subject desk: {0}")]
    Dsr(#[from] custodia_dsr::Error),
    /// The embedded example's backend.
    #[error("{0}")]
    Helpdesk(#[from] custodia_example_helpdesk::Error),
    /// The web layer's configuration.
    #[error("web layer: {0}")]
    Web(#[from] custodia_axum::Error),
}

/// The command line: serve until interrupted, or print a token. `args`
/// excludes the program name. Exit codes: 0 done, 1 the server failed,
/// 2 a usage error.
pub fn main(args: impl IntoIterator<Item = String>) -> ExitCode {
    let options = match parse_args(args) {
        Ok(Command::Run(options)) => *options,
        Ok(Command::Help) => {
            println!("{}", config::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(problem) => {
            eprintln!("helpdesk-server: {problem}\n\n{}", config::USAGE);
            return ExitCode::from(2);
        }
    };
    if let Some(request) = &options.print_token {
        let minted = DataDir::new(&options.data)
            .token_seed()
            .and_then(|seed| tokens::mint(&seed, request, &custodia_core::SystemClock));
        return match minted {
            Ok(token) => {
                println!("{token}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("helpdesk-server: {e}");
                ExitCode::FAILURE
            }
        };
    }
    app::init_logging(options.trace);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("helpdesk-server: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let served = runtime.block_on(async {
        let server = start(options).await?;
        server.print_banner();
        server.run_until_signal().await
    });
    if let Err(e) = &served {
        eprintln!("helpdesk-server: {e}");
    }
    if served.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
