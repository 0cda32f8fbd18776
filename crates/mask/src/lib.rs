//! PII detection and masking for Custodia: find personal data and secrets
//! in ticket text, JSON and streams, and replace them before the text reaches
//! logs, analytics or an AI model.
//!
//! # Model
//!
//! * A [`Detector`] holds the enabled recognizers, compiled once and shared
//!   across threads. [`Detector::detect`] returns [`Finding`]s — [`Kind`],
//!   UTF-8 byte span, score, recognizer name — sorted and non-overlapping.
//! * Each built-in recognizer is a shape, a validator where the identifier
//!   has one (Luhn, IBAN mod-97, NHS mod-11, TFN, ABN mod-89, IRD, SIN, BSN,
//!   PESEL, …; see [`checksum`]), context words and a base score. A context
//!   word among the few words before a match adds 0.35, as in Presidio; the
//!   [`DEFAULT_MIN_SCORE`] of 0.5 keeps bare 9-digit numbers, dates and ITIN
//!   look-alikes out unless a word such as `TFN`, `born` or `ITIN` precedes
//!   them, while formatted and checksum-valid identifiers pass on their own.
//! * Global kinds: `EMAIL`, `PHONE`, `CREDIT_CARD`, `IBAN`, `IP_ADDRESS` (v4,
//!   v6), `MAC_ADDRESS`, `SECRET` (AWS keys, GitHub/GitLab/Slack/Stripe
//!   tokens, JWTs, bearer tokens, private-key blocks, `password=`/`pwd:`/
//!   `token=` assignments and query parameters, URL credentials) and
//!   `DATE_OF_BIRTH` (with context). Regional kinds ([`Regions`]): US, UK, AU,
//!   CA, NZ and EU (DE, ES, IT, NL, PL, SE, FI, FR) — see [`Kind`].
//! * [`KnownEntities`] matches the host's participant names, emails and ids
//!   case-insensitively in one aho-corasick pass; [`CustomRecognizer`]s
//!   come from configuration ([`DetectorConfig`], JSON, version 1).
//! * A [`Masker`] applies a [`Policy`] (a [`Strategy`] per kind): redact
//!   (`[EMAIL]`), replace, partial (`************1111`, `j***@example.com`),
//!   keyed pseudonym (`<EMAIL_1f3a9c>`, HMAC-SHA256 under the tenant's
//!   [`PseudonymKey`]), reversible tokens with a [`Vault`] that un-masks a
//!   model's reply, encrypt (feature `crypt`, via custodia-crypt), keep. It
//!   masks text, JSON ([`JsonRules`]) and any `Read` into any `Write`
//!   ([`stream`]), and returns a [`Report`] with kinds, counts and spans but
//!   no original values.
//!
//! The key design decision is **one pass, then checks at anchors only**: a
//! single loop walks the bytes; most bytes belong to no trigger class and
//! are skipped by a tight loop; at the few anchors (a digit at a token start,
//! `@`, `+`, `(`, an upper-case letter starting a token, `_`/`-` of a token
//! prefix, `:`, `=`) a small hand-written matcher and its validator run, and
//! the scan resumes after the match. No regex runs over the whole text unless
//! the host adds a custom recognizer, every matcher reads a bounded window, and
//! the scan is linear in the input (the `pathological` benches show it on
//! megabytes of digits, `@`, `-`, `:` and one unbroken token). The second
//! decision is **precision by validation and context, not by lists of
//! values**: the accuracy test on the labelled dev set (span-exact,
//! kind-correct) masks no look-alike (bad checksums, invalid SSN areas,
//! ticket ids, versions, UUIDs, hashes, amounts).
//!
//! Offsets are UTF-8 byte offsets. Matches start and end on ASCII bytes (or
//! on a known entity's own boundaries), so on valid UTF-8 every span is on
//! character boundaries; on invalid UTF-8 ([`Detector::detect_bytes`],
//! streaming) invalid bytes are never part of a finding and are copied
//! through unchanged.
//!
//! ```
//! use custodia_core::TenantId;
//! use custodia_mask::{Detector, Kind, Masker, Policy, PseudonymKey, Strategy, Vault};
//!
//! let detector = Detector::new();
//! let ticket = "I'm jane.doe@example.com, card 4111 1111 1111 1111, TFN 123 456 782.";
//! let kinds: Vec<Kind> = detector.detect(ticket).into_iter().map(|f| f.kind).collect();
//! assert_eq!(kinds, [Kind::Email, Kind::CreditCard, Kind::AuTfn]);
//!
//! // Redact by default, keep the last four digits of cards.
//! let masker = Masker::new(Detector::new())
//!     .with_policy(Policy::new(Strategy::Redact).with(Kind::CreditCard, Strategy::Partial))?;
//! let masked = masker.mask(ticket)?;
//! assert_eq!(masked.text, "I'm [EMAIL], card ************1111, TFN [AU_TFN].");
//! assert!(!masked.report.to_json().contains("jane"));
//!
//! // Reversible tokens for an AI model, un-masked in its reply.
//! let tokens = Masker::new(Detector::new()).with_policy(Policy::new(Strategy::Tokenize))?;
//! let mut vault = Vault::new();
//! let prompt = tokens.mask_tokenized("Reset access for jane.doe@example.com", &mut vault)?;
//! assert_eq!(prompt.text, "Reset access for <EMAIL_1>");
//! assert_eq!(vault.unmask("Done: <EMAIL_1> can log in."), "Done: jane.doe@example.com can log in.");
//!
//! // Pseudonyms: stable per tenant, different across tenants.
//! let acme = TenantId::from_external_key("crm", "ACME");
//! let key = PseudonymKey::new(acme, b"32 bytes of the tenant's secret!")?;
//! let p = key.pseudonym(&Kind::Email, "jane.doe@example.com");
//! assert!(p.starts_with("<EMAIL_") && p.len() == 14);
//! # Ok::<(), custodia_mask::Error>(())
//! ```
//!
//! # Formats
//!
//! The [`Report`] serialises as JSON with `"version": 1` (no values, only
//! kinds, spans, scores, recognizer and strategy names). The detector
//! configuration ([`DetectorConfig::from_json`]) is JSON with `"version": 1`:
//!
//! ```json
//! {"version": 1, "regions": "us,uk,au", "min_score": 0.5, "disabled": ["UK_POSTCODE"],
//!  "custom": [{"name": "employee", "kind": "EMPLOYEE_ID", "pattern": "EMP-(?P<value>[0-9]{6})",
//!              "validator": null, "context": ["staff"], "score": 0.6}]}
//! ```
//!
//! # Status
//!
//! Landed: everything above, plus Presidio's context-only US bank number and
//! Italian VAT code, passport and identity card. Not built: Presidio's US
//! and Italian driver's licence recognizers (shapes too weak to be useful:
//! Presidio flags `v1` and `P1`), textual dates of birth (`12 March 1984`),
//! names other than known entities (no NLP model).

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
    CustomRecognizer, DEFAULT_MIN_SCORE, Detector, DetectorConfig, Finding, KnownEntities, Regions,
    Validator, resolve,
};
pub use error::Error;
pub use json::JsonRules;
pub use kind::Kind;
pub use operator::{Masked, Masker, Policy, PseudonymKey, Report, ReportEntry, Strategy, Vault};
