//! The helpdesk example: Custodia end to end in a small multi-tenant helpdesk.
//!
//! ```text
//! cargo run --release --example helpdesk [-- --data DIR] [--database URL [--database-owner URL]]
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
//! files are replaced on every run), which `custodia dsr` (through the
//! package's `custodia-helpdesk-source`) and `custodia audit` then work on.
//! With `--database URL` the tickets (under row-level security), key store
//! and audit log go to PostgreSQL instead (schema `custodia_helpdesk`,
//! recreated on every run by `--database-owner`, default `URL`).
//!
//! Everything lives in the workspace package `custodia-example-helpdesk`
//! (`examples/helpdesk/`): the backend, the flow (its `flow` module, which
//! its `tests/flow.rs` runs with assertions) and the source program.

fn main() -> std::process::ExitCode {
    custodia_example_helpdesk::flow::main(std::env::args().skip(1))
}
