//! The helpdesk example as an HTTP/JSON API on PostgreSQL.
//!
//! ```text
//! scripts/postgres cargo run --release --example helpdesk-server
//! cargo run --release --example helpdesk-server -- --print-token ACME-0042 agent
//! ```
//!
//! The tickets of the embedded example (`cargo run --example helpdesk`),
//! served over HTTP by custodia-axum: every request authenticated by a
//! bearer token, bound to its tenant in a PostgreSQL transaction under
//! row-level security, and audited into one tamper-evident log shared by
//! every server process on the database. `--help` lists the options; the
//! README's "The helpdesk server" section shows the routes with curl.
//!
//! Everything lives in the workspace package
//! `custodia-example-helpdesk-server` (`examples/helpdesk-server/`), whose
//! `tests/fleet.rs` drives two server processes on one database over HTTP.

fn main() -> std::process::ExitCode {
    custodia_example_helpdesk_server::main(std::env::args().skip(1))
}
