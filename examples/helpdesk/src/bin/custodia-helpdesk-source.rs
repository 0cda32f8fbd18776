//! `custodia-helpdesk-source --data DIR`: the helpdesk example's tickets as a
//! custodia-dsr personal-data source on stdin/stdout, for
//! `custodia dsr export|erase ... -- custodia-helpdesk-source --data DIR`.
//!
//! Exit codes: 0 the session ended (input closed); 2 bad arguments or not a
//! data directory; 1 the session broke (reason on stderr).

use std::path::PathBuf;
use std::process::ExitCode;

use custodia_example_helpdesk::{Error, serve_source};

const USAGE: &str = "usage: custodia-helpdesk-source --data DIR\n\nServes the tickets of the helpdesk data directory DIR (made by\n`cargo run --example helpdesk -- --data DIR`) to `custodia dsr` over the\ncustodia-dsr source protocol on stdin/stdout.";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let data = match (args.next().as_deref(), args.next(), args.next()) {
        (Some("--data"), Some(dir), None) => PathBuf::from(dir),
        (Some("-h" | "--help"), None, None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("custodia-helpdesk-source: bad arguments\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match serve_source(&data, std::io::stdin().lock(), std::io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ Error::NotADataDir(_)) => {
            eprintln!("custodia-helpdesk-source: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("custodia-helpdesk-source: {e}");
            ExitCode::FAILURE
        }
    }
}
