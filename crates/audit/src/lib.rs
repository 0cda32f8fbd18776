//! Tamper-evident audit records for Custodia.
//!
//! The planned model: audit events with one canonical encoding, appended to an
//! RFC 6962 / RFC 9162 Merkle log with inclusion and consistency proofs and
//! Ed25519-signed checkpoints; personal fields sealed under the data subject's
//! key so that crypto-shredding erases them while the log still verifies.
//!
//! # Status: skeleton
//!
//! This crate is a documented placeholder so the workspace, the `custodia`
//! facade and its features have their final shape. Nothing here is usable yet:
//! the implementation is tracked by issue 6 and lands in a later release.
//! Until then the crate exports only [`STATUS`].

#![forbid(unsafe_code)]
// Library code returns typed errors; only tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(missing_docs)]

/// Where this crate stands: `"skeleton"` until its issue lands.
pub const STATUS: &str = "skeleton";
