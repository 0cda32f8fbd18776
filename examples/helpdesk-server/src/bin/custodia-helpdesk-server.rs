//! `custodia-helpdesk-server`: the helpdesk example's HTTP server (what
//! `cargo run --example helpdesk-server` runs), as a program of its own for
//! the fleet tests, which start two of them on one database.

fn main() -> std::process::ExitCode {
    custodia_example_helpdesk_server::main(std::env::args().skip(1))
}
