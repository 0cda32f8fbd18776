//! Retention for Custodia.
//!
//! The planned model: a versioned policy file (TOML or JSON) of rules per data
//! category, trigger and duration; legal holds that beat every deletion;
//! conflict resolution after Microsoft Purview's principles of retention; a
//! compiled policy that answers, for any record at any instant, what must
//! happen to it and when; sweeps; and the date deleted data leaves the backups.
//!
//! # Status: skeleton
//!
//! This crate is a documented placeholder so the workspace, the `custodia`
//! facade and its features have their final shape. Nothing here is usable yet:
//! the implementation is tracked by issue 5 and lands in a later release.
//! Until then the crate exports only [`STATUS`].

#![forbid(unsafe_code)]
// Library code returns typed errors; only tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(missing_docs)]

/// Where this crate stands: `"skeleton"` until its issue lands.
pub const STATUS: &str = "skeleton";
