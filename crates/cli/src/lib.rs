//! The parts of the `custodia` command that read untrusted bytes, as a
//! library so that a fuzz target can link them
//! (`fuzz/fuzz_targets/cli_jsonl_line.rs`). The command is the product and
//! this is not a stable API: use `custodia-mask` from Rust.

#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(missing_docs)]
#![warn(unreachable_pub)]

pub mod jsonl;
