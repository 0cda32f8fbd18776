//! Tenant isolation, access control and data residency for Custodia.
//!
//! The planned model: a tenant context (tenant, actor, roles, region) passed
//! explicitly; `Scoped<T>` values proven to belong to one tenant; guards that
//! reject another tenant's ids, records and cache keys with a typed error;
//! roles mapped to permissions with field-level rules per `DataCategory`; data
//! residency per tenant with cross-border transfer checks; and PostgreSQL
//! row-level security bound per transaction (feature `postgres`).
//!
//! # Status: skeleton
//!
//! This crate is a documented placeholder so the workspace, the `custodia`
//! facade and its features have their final shape. Nothing here is usable yet:
//! the implementation is tracked by issue 7 and lands in a later release.
//! Until then the crate exports only [`STATUS`].

#![forbid(unsafe_code)]
// Library code returns typed errors; only tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(missing_docs)]

/// Where this crate stands: `"skeleton"` until its issue lands.
pub const STATUS: &str = "skeleton";
