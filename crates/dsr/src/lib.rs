//! Data-subject requests, breaches and records of processing for Custodia.
//!
//! The planned model: access, export, rectification, erasure, restriction and
//! objection requests with their GDPR deadlines; breach incidents with the
//! 72-hour notification clock; and the Art. 30 record of processing activities.
//!
//! # Status: skeleton
//!
//! This crate is a documented placeholder so the workspace, the `custodia`
//! facade and its features have their final shape. Nothing here is usable yet:
//! the implementation is tracked by issue 8 and lands in a later release.
//! Until then the crate exports only [`STATUS`].

#![forbid(unsafe_code)]
// Library code returns typed errors; only tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(missing_docs)]

/// Where this crate stands: `"skeleton"` until its issue lands.
pub const STATUS: &str = "skeleton";
