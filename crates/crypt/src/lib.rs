//! Field encryption for Custodia.
//!
//! The planned model: AES-256-GCM envelopes whose associated data binds each
//! ciphertext to (tenant, record type, record id, field); a crypto provider
//! trait with ring and RustCrypto backends; a keyring of versioned per-tenant
//! data keys with rotation and re-encryption; blind indexes and deterministic
//! AEAD for searchable fields; per-subject keys whose destruction erases data
//! everywhere (crypto-shredding).
//!
//! # Status: skeleton
//!
//! This crate is a documented placeholder so the workspace, the `custodia`
//! facade and its features have their final shape. Nothing here is usable yet:
//! the implementation is tracked by issue 3 and lands in a later release.
//! Until then the crate exports only [`STATUS`].

#![forbid(unsafe_code)]
// Library code returns typed errors; only tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(missing_docs)]

/// Where this crate stands: `"skeleton"` until its issue lands.
pub const STATUS: &str = "skeleton";
