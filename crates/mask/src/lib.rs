//! PII detection and masking for Custodia.
//!
//! The planned model: recognizers for emails, phones, card numbers, IBANs,
//! national ids, secrets and known participants, compiled once into a shared
//! automaton; findings with UTF-8 byte spans and scores; operators that redact,
//! partially mask, pseudonymise under a tenant key or tokenise reversibly.
//!
//! # Status: skeleton
//!
//! This crate is a documented placeholder so the workspace, the `custodia`
//! facade and its features have their final shape. Nothing here is usable yet:
//! the implementation is tracked by issue 4 and lands in a later release.
//! Until then the crate exports only [`STATUS`].

#![forbid(unsafe_code)]
// Library code returns typed errors; only tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(missing_docs)]

/// Where this crate stands: `"skeleton"` until its issue lands.
pub const STATUS: &str = "skeleton";
