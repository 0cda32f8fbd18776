//! PII detection and masking for Custodia.
//!
//! TODO docs
#![forbid(unsafe_code)]
// Library code returns typed errors; only tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(missing_docs)]

#[cfg(feature = "proptest")]
pub mod arbitrary;
pub mod checksum;
mod detector;
mod error;
mod json;
mod kind;
mod operator;
mod scan;
pub mod stream;

pub use detector::{
    CustomRecognizer, DEFAULT_MIN_SCORE, Detector, DetectorConfig, Finding, KnownEntities, Regions, Validator, resolve,
};
pub use error::Error;
pub use json::JsonRules;
pub use operator::{Masked, Masker, Policy, PseudonymKey, Report, ReportEntry, Strategy, Vault};
pub use kind::Kind;
