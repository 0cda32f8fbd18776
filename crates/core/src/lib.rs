//! The shared vocabulary of Custodia.
//!
//! Every other Custodia crate speaks in these types, so they are small, `Copy`
//! or cheap to clone, strictly parsed, and stable in their printed and serialised
//! forms:
//!
//! * **Who**: [`TenantId`] (a subscriber of the helpdesk), [`SubjectId`] (the
//!   person the data is about) and [`ActorId`] (whoever acts). Distinct UUID
//!   newtypes, so they cannot be mixed up; a host maps its own keys onto them
//!   deterministically with `from_external_key`, without a lookup table
//!   (derived under [`CUSTODIA_NAMESPACE`]).
//! * **What**: [`DataCategory`], a dotted, hierarchical taxonomy of personal
//!   data in the style of fideslang (`user.contact.email`), with
//!   [`DataCategory::is_within`] as its partial order and a [`Taxonomy`] that
//!   catches typos and holds custom categories.
//! * **Where**: [`Region`], the named data regions (AU, CA, EU, NZ, UK, US) and any
//!   other ISO 3166-1 country.
//! * **Why, and as whom**: [`LegalBasis`] (GDPR Art. 6(1)), [`Purpose`] and
//!   [`Role`] (controller or processor).
//! * **When**: the [`Clock`] trait, with [`SystemClock`] for production and
//!   [`ManualClock`] for tests.
//!
//! The key design decision is to validate once, at the boundary: every type
//! here is parsed by `FromStr` (and by serde)
//! into a value that cannot be malformed, so the crates built on top never
//! re-check a category path or a region code. Errors are one [`Error`] enum
//! that names the rejected input and what was expected.
//!
//! Errors never repeat more than [`MAX_ECHO`] characters of rejected input,
//! in this crate or any other: [`echo`] shortens a piece of input, and
//! [`echo_quoted`] / [`echo_json_error`] shorten the values a parser's
//! message quotes (serde quotes a mistyped value whole), so that a decoder of
//! records, events or documents can keep the parser's message and source
//! without carrying a person's details.
//!
//! Every type is at the crate root; the only public modules are [`calendar`],
//! a namespace of free date functions, and `arbitrary` (feature `proptest`).
//!
//! With feature `proptest`, every type implements
//! `proptest::arbitrary::Arbitrary` and the `arbitrary` module has narrower
//! strategies.
//!
//! # Example
//!
//! ```
//! use custodia_core::{DataCategory, Region, SubjectId, Taxonomy, TenantId};
//!
//! // Map the helpdesk's own keys to Custodia ids: no table needed.
//! let tenant = TenantId::from_external_key("billing.account", "ACME-0042");
//! let contact = SubjectId::from_external_key(tenant, "psa.contact", "1017");
//! assert_eq!(contact, SubjectId::from_external_key(tenant, "psa.contact", "1017"));
//!
//! // Categories nest, so a rule about contact details covers email addresses.
//! let taxonomy = Taxonomy::builtin();
//! let email = taxonomy.parse("user.contact.email")?;
//! assert!(email.is_within(&DataCategory::USER_CONTACT));
//! assert!(!email.is_special());
//!
//! // Regions parse case-insensitively; GB is the ISO code of the UK region.
//! let region: Region = "gb".parse()?;
//! assert_eq!(region, Region::UK);
//! assert_eq!(region.to_string(), "UK");
//! # Ok::<(), custodia_core::Error>(())
//! ```

#![forbid(unsafe_code)]
// Library code returns typed errors; only tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(missing_docs)]
#![warn(unreachable_pub)]

// The public surface is the re-export list below; a module is public only when
// it is a namespace of free functions (`calendar`) or a feature's add-on
// (`arbitrary`).

#[cfg(feature = "proptest")]
pub mod arbitrary;
pub mod calendar;
mod category;
mod clock;
mod error;
mod id;
mod legal;
mod region;
mod trace;

// Who: identifiers.
pub use id::{ActorId, CUSTODIA_NAMESPACE, SubjectId, TenantId};
// What: the personal-data taxonomy.
pub use category::{
    CategoryInfo, DataCategory, MAX_CATEGORY_DEPTH, MAX_CATEGORY_LEN, SPECIAL_CATEGORIES, Taxonomy,
};
// Where.
pub use region::Region;
// Why, and as whom.
pub use legal::{LegalBasis, MAX_PURPOSE_LEN, Purpose, Role};
// When.
pub use calendar::parse_timestamp;
pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
// Errors.
#[cfg(feature = "postgres")]
pub use error::postgres_detail;
#[cfg(feature = "sqlx")]
pub use error::sqlx_detail;
pub use error::{Error, MAX_ECHO, Shared, database_detail, echo, echo_json_error, echo_quoted};

/// The `chrono` version Custodia's time types come from.
pub use chrono;
/// The `uuid` version Custodia's ids wrap.
pub use uuid;

// Shared with the other Custodia crates; not part of the stable API.
#[doc(hidden)]
pub use category::{is_well_formed_category, suggest};
