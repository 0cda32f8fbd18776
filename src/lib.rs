//! Custodia: the privacy and compliance layer for multi-tenant helpdesk backends.
//!
//! This crate is a thin facade. Each Custodia crate is re-exported here as a
//! module behind a Cargo feature of the same name, so an application depends on
//! `custodia` alone and switches off what it does not use:
//!
//! | module | crate | what it does | feature |
//! |---|---|---|---|
//! | [`core`] | `custodia-core` | ids, data categories, regions, legal bases, clock | always |
//! | `tenant` | `custodia-tenant` | tenant isolation, RBAC, field permissions, residency | `tenant` |
//! | `crypt` | `custodia-crypt` | field encryption, key rotation, blind indexes, crypto-shredding | `crypt` |
//! | `mask` | `custodia-mask` | PII recognizers and masking operators | `mask` |
//! | `retention` | `custodia-retention` | retention policies, legal holds, sweeps | `retention` |
//! | `audit` | `custodia-audit` | tamper-evident audit log with proofs and checkpoints | `audit` |
//! | `dsr` | `custodia-dsr` | data-subject requests, breaches, records of processing | `dsr` |
//! | `axum` | `custodia-axum` | axum/tower layer: tenant per request, bound transaction, audit of mutations | `axum` (off) |
//!
//! All of these features but `axum` are on by default (`jwt` adds its bearer-token authenticator;
//! with `axum`, `mask` and `dsr` add its masking client and its DSR and breach routes;
//! with `mask`, `crypt` adds custodia-mask's `Strategy::Encrypt` operator, its feature `crypt`).
//! `tokio` (off by default) forwards custodia-crypt's feature `tokio`: its
//! `AsyncKeyring`, `AsyncSubjectVault` and `AsyncKeyStore` for async hosts
//! without sqlx (`sqlx` implies it). Storage backends (`sqlite`:
//! `custodia-crypt` and `custodia-audit`; `postgres` and `sqlx`, the sync and
//! the async PostgreSQL driver: `custodia-tenant`, `custodia-crypt` and
//! `custodia-audit`) are off by default and forwarded to the crates that have
//! them; `tracing` turns on every crate's spans, `proptest` every crate's
//! proptest strategies. Serde is not optional: every crate's
//! types implement `Serialize` and `Deserialize`.
//!
//! ```
//! use custodia::core::{DataCategory, SubjectId, TenantId};
//!
//! let tenant = TenantId::from_external_key("billing.account", "ACME-0042");
//! let person = SubjectId::from_external_key(tenant, "psa.contact", "1017");
//! assert!(DataCategory::USER_CONTACT_EMAIL.is_within(&DataCategory::USER));
//! # let _ = person;
//! ```

#![forbid(unsafe_code)]
// Library code returns typed errors; only tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(missing_docs)]
#![warn(unreachable_pub)]

pub use custodia_core as core;

#[cfg(feature = "audit")]
pub use custodia_audit as audit;
#[cfg(feature = "axum")]
pub use custodia_axum as axum;
#[cfg(feature = "crypt")]
pub use custodia_crypt as crypt;
#[cfg(feature = "dsr")]
pub use custodia_dsr as dsr;
#[cfg(feature = "mask")]
pub use custodia_mask as mask;
#[cfg(feature = "retention")]
pub use custodia_retention as retention;
#[cfg(feature = "tenant")]
pub use custodia_tenant as tenant;

/// The README's code blocks, compiled and run as doctests so the quick start never rots.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
