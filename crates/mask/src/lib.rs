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
//!   PESEL, DEA, NPI, …; see [`checksum`] and the Presidio table below), context words and a base score. A context
//!   word among the few words before a match adds 0.35, as in Presidio; the
//!   [`DEFAULT_MIN_SCORE`] of 0.5 keeps bare 9-digit numbers, dates and ITIN
//!   look-alikes out unless a word such as `TFN`, `born` or `ITIN` precedes
//!   them, while formatted and checksum-valid identifiers pass on their own.
//! * Global kinds: `EMAIL`, `PHONE`, `CREDIT_CARD`, `IBAN`, `IP_ADDRESS` (v4,
//!   v6), `MAC_ADDRESS`, `SECRET` (AWS keys, GitHub/GitLab/Slack/Stripe
//!   tokens, JWTs, bearer tokens, private-key blocks, `password=`/`pwd:`/
//!   `token=` assignments and query parameters, URL credentials) and
//!   `DATE_OF_BIRTH` (with context). Regional kinds ([`Regions`]): US, UK, AU,
//!   CA, NZ and EU (DE, ES, IT, NL, PL, SE, FI, FR; `de` selects Germany's
//!   fifteen alone) — see [`Kind`] and [Presidio coverage](#presidio-coverage).
//! * People, places and organisations (the *entity pass*, after the scanner;
//!   see `entity` in the source): `PERSON` from a gazetteer of about 66,000 given
//!   names and surnames (US Census, faker locales of five continents, Māori, Pacific, Asian
//!   names; sources and licences in `data/NAMES.md`) weighed by
//!   capitalisation and context (greetings, titles, sign-off lines, "my name
//!   is", a matching email), names that are also common words or places
//!   (`Will`, `Grace`, `Victoria`, `Mayo`) only with context, and places of
//!   several words (`Hong Kong`, GeoNames via `data/places.txt`) never;
//!   names in lower case in informal lines (chat, texts, voicemail: `agent
//!   tania: hi hemi`, `for brodie smith`), a given name that is no common
//!   word with a cue (a greeting, `ask`, `for`, a speaker's label, a
//!   surname after it), in lines whose writer capitalises nothing (and,
//!   for people, unlabelled lines that open in lower case), a common word
//!   only when plainly named (`hi heather,`, `it's mark from`), the
//!   answer to a chat's question for a name or a postcode, and the
//!   addresses, postcodes and firms (`kiwi fibre networks ltd`) in those
//!   lines (`lvl 2, 18 willis st, te aro, wellington 6011`); the
//!   addressee on the line above an address, even a name the gazetteer
//!   knows only in part (`Czcibor Kaczmarek`); a roster's surname in
//!   capitals before the given name (`PATEL, Rohan`, `KIM, RICHARD`);
//!   `ADDRESS` (house number, street and type, unit, locality, state,
//!   postcode checked per country: US, UK, AU, NZ, CA, IE, DE; PO boxes,
//!   rural delivery, Québec's forms, streets named with a possessive, `1
//!   Lloyd's Avenue`, Irish units with no house number read back from
//!   their Eircode) and `POSTCODE` alone when a postcode
//!   word (`postcode`, `ZIP`, `postal code`, `Eircode`, `PLZ`), an
//!   Australian state or a Canadian province (`Moncton, NB E1C 4M9`)
//!   names it, whatever the country's format, the codes listed after one
//!   (`postcodes 0870, 0872 and 4825`) and the same code again later
//!   (not as an extension or a cost centre: `ext 2060`), or an Eircode
//!   by its shape where prose places it (`out in A94 F3K2`: an issued
//!   routing key, a letter in the identifier);
//!   `ORGANIZATION` by legal form (`Pty Ltd`, `GmbH`, `LLC`), which
//!   [`MaskPolicy`] keeps unless told otherwise. A pasted table whose first
//!   line is a comma-separated header (`last_name,first_name,site`) gives
//!   its person columns' cells as `PERSON` and its postcode columns' as
//!   `POSTCODE`, whatever the words (in a stream, within the first step). A host plugs in a model
//!   (ONNX, a remote service) as a [`Recognizer`]; its findings are checked
//!   and merged by the same overlap rules.
//! * Context words are whole words before the match, compared under Unicode
//!   simple case folding, so `Geburtsdatum`, `GEB.`, `Straße` and
//!   `FÜHRERSCHEIN` count as well as `dob` or `PASSPORT`.
//! * [`KnownEntities`] matches the host's participant names, emails and ids
//!   case- and accent-insensitively (Unicode case folding, accents dropped:
//!   `Zoë` finds `ZOË` and `ZOE`) as whole words in one aho-corasick pass;
//!   [`CustomRecognizer`]s
//!   come from configuration ([`DetectorConfig`], JSON, version 1).
//! * A [`Masker`] applies a [`MaskPolicy`] (a [`Strategy`] per kind): redact
//!   (`[EMAIL]`), replace, partial (`************1111`, `j***@example.com`),
//!   keyed pseudonym (`<EMAIL_1f3a9c0d5e7b2a48>`, 64 bits of HMAC-SHA256 under the tenant's
//!   [`PseudonymKey`]), reversible tokens with a [`TokenVault`] that un-masks a
//!   model's reply (and only what masking replaced: text that already looks
//!   like a token is masked as a token of its own), encrypt (feature `crypt`, via custodia-crypt), keep. It
//!   masks text, JSON ([`JsonRules`]) and any `Read` into any `Write`
//!   ([`stream`]), and returns a [`Report`] with kinds, counts and spans but
//!   no original values; [`Masker::detect_stream`] finds what a stream's
//!   masking acts on (the findings its policy keeps, such as organisations,
//!   too) without masking it.
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
//! Offsets are UTF-8 byte offsets. Matches start on ASCII bytes and end on
//! ASCII bytes or after a whole UTF-8 character (a court name such as
//! `AG München` in a commercial register number; known entities use their
//! own boundaries), so on valid UTF-8 every span is on character boundaries; on invalid UTF-8 ([`Detector::detect_bytes`],
//! streaming) invalid bytes are never part of a finding and are copied
//! through unchanged.
//!
//! ```
//! use custodia_core::TenantId;
//! use custodia_mask::{Detector, Kind, Masker, MaskPolicy, PseudonymKey, Strategy, TokenVault};
//!
//! let detector = Detector::new();
//! let ticket = "I'm jane.doe@example.com, card 4111 1111 1111 1111, TFN 123 456 782.";
//! let kinds: Vec<Kind> = detector.detect(ticket).into_iter().map(|f| f.kind).collect();
//! assert_eq!(kinds, [Kind::Email, Kind::CreditCard, Kind::AuTfn]);
//!
//! // Redact by default, keep the last four digits of cards.
//! let masker = Masker::new(Detector::new())
//!     .with_policy(MaskPolicy::new(Strategy::Redact).with(Kind::CreditCard, Strategy::Partial))?;
//! let masked = masker.mask(ticket)?;
//! assert_eq!(masked.text, "I'm [EMAIL], card ************1111, TFN [AU_TFN].");
//! assert!(!masked.report.to_json().contains("jane"));
//!
//! // Reversible tokens for an AI model, un-masked in its reply.
//! let tokens = Masker::new(Detector::new()).with_policy(MaskPolicy::new(Strategy::Tokenize))?;
//! let mut vault = TokenVault::new();
//! let prompt = tokens.mask_tokenized("Reset access for jane.doe@example.com", &mut vault)?;
//! assert_eq!(prompt.text, "Reset access for <EMAIL_1>");
//! assert_eq!(vault.unmask("Done: <EMAIL_1> can log in."), "Done: jane.doe@example.com can log in.");
//!
//! // Pseudonyms: stable per tenant, different across tenants.
//! let acme = TenantId::from_external_key("crm", "ACME");
//! let key = PseudonymKey::new(acme, b"32 bytes of the tenant's secret!")?;
//! let p = key.pseudonym(&Kind::Email, "jane.doe@example.com");
//! assert!(p.starts_with("<EMAIL_") && p.len() == "<EMAIL_>".len() + 16);
//! # Ok::<(), custodia_mask::Error>(())
//! ```
//!
//! # Public surface
//!
//! Everything is re-exported at the crate root except two namespaces whose
//! names read well only qualified: [`checksum`] (the validators) and
//! [`stream`] (the streaming buffer bounds); `arbitrary` comes with feature
//! `proptest`.
//!
//! # Formats
//!
//! The [`Report`] serialises as JSON with `"version": 2` (no values, only
//! kinds, spans, scores, recognizer and strategy names). The detector
//! configuration ([`DetectorConfig::from_json`]) is JSON with `"version": 1`:
//!
//! ```json
//! {"version": 1, "regions": "us,uk,au", "min_score": 0.5, "disabled": ["UK_POSTCODE"],
//!  "custom": [{"name": "employee", "kind": "EMPLOYEE_ID", "pattern": "EMP-(?P<value>[0-9]{6})",
//!              "validator": null, "context": ["staff"], "score": 0.6}]}
//! ```
//!
//! `disabled` names built-in kinds only: any other name would switch
//! nothing off and is refused ([`DetectorConfig::disabled`]).
//!
//! # Presidio coverage
//!
//! Presidio's pattern recognizers (predefined and `country_specific/`) for
//! the US, the UK, Australia, Canada, New Zealand and EU countries, and the
//! [`Kind`] that covers each; the ones not built are listed after the table. "Context" means the
//! recognizer needs a context word before the match to reach the default
//! [`DEFAULT_MIN_SCORE`] (Presidio's weak patterns score 0.01–0.3 and rely
//! on context the same way); "context decides" means several kinds share
//! the shape and the words pick one.
//!
//! | Presidio recognizer (entity) | custodia-mask kind | validator |
//! |---|---|---|
//! | `UsSsnRecognizer` (`US_SSN`) | [`Kind::UsSsn`] | area/group/serial rules (no 000, 666, 9xx; no 00/0000) |
//! | `UsItinRecognizer` (`US_ITIN`) | [`Kind::UsItin`] | 9xx area, group 50–65, 70–88, 90–92, 94–99; context |
//! | `AbaRoutingRecognizer` (`ABA_ROUTING_NUMBER`) | [`Kind::UsBankRouting`] | ABA 3-7-1 weighted checksum; context |
//! | `UsPassportRecognizer` (`US_PASSPORT`) | [`Kind::UsPassport`] | none (9 digits or letter + 8 digits); context |
//! | `UsBankRecognizer` (`US_BANK_NUMBER`) | [`Kind::UsBankNumber`] | none (8–17 digits); context |
//! | `UsLicenseRecognizer` (`US_DRIVER_LICENSE`) | [`Kind::UsDriverLicense`] | none (Presidio's state shapes, 6–14 digits); context, not after `key`/`server`/`seat` |
//! | `MedicalLicenseRecognizer` (`MEDICAL_LICENSE`, DEA) | [`Kind::MedicalLicense`] | DEA checksum ([`checksum::us_dea`]); context |
//! | `UsNpiRecognizer` (`US_NPI`) | [`Kind::UsNpi`] | Luhn with the `80840` prefix ([`checksum::us_npi`]); context |
//! | `UsMbiRecognizer` (`US_MBI`) | [`Kind::UsMbi`] | CMS position/alphabet rules ([`checksum::us_mbi`]); plain form needs context |
//! | `NhsRecognizer` (`UK_NHS`) | [`Kind::UkNhs`] | mod 11 |
//! | `UkNinoRecognizer` (`UK_NINO`) | [`Kind::UkNino`] | HMRC prefix rules, suffix A–D |
//! | `UkPostcodeRecognizer` (`UK_POSTCODE`) | [`Kind::UkPostcode`] | outward/inward shape, excluded inward letters; named by a postcode word (`postcode SW1A 1AA`) it is a `POSTCODE` |
//! | `UkPassportRecognizer` (`UK_PASSPORT`) | [`Kind::UkPassport`] | none (2 letters + 7 digits); context decides against IT passport |
//! | `UkDrivingLicenceRecognizer` (`UK_DRIVING_LICENCE`) | [`Kind::UkDrivingLicence`] | DVLA structure: surname padded with 9s, month (+50), day, initials ([`checksum::uk_driving_licence`]) |
//! | `UkVehicleRegistrationRecognizer` (`UK_VEHICLE_REGISTRATION`) | [`Kind::UkVehicleRegistration`] | current format (area letters, age id 02–29/51–79), prefix format `A123 BCD` (1983–2001) and suffix format `ABC 123D` (1963–1983), age letters without I, O, Q, U, Z; context (dateless pre-1963 marks not built) |
//! | `AuAbnRecognizer` (`AU_ABN`) | [`Kind::AuAbn`] | mod 89 |
//! | `AuAcnRecognizer` (`AU_ACN`) | [`Kind::AuAcn`] | ACN weighted mod 10 |
//! | `AuTfnRecognizer` (`AU_TFN`) | [`Kind::AuTfn`] | TFN weighted mod 11 |
//! | `AuMedicareRecognizer` (`AU_MEDICARE`) | [`Kind::AuMedicare`] | Medicare weighted mod 10, first digit 2–6 |
//! | `CaSinRecognizer` (`CA_SIN`) | [`Kind::CaSin`] | Luhn; first digit not 0 (never issued) or 8 (business numbers) |
//! | `EsNifRecognizer` (`ES_NIF`) | [`Kind::EsNif`] | mod-23 letter |
//! | `EsNieRecognizer` (`ES_NIE`) | [`Kind::EsNie`] | X/Y/Z → 0/1/2, mod-23 letter |
//! | `EsPassportRecognizer` (`ES_PASSPORT`) | [`Kind::EsPassport`] | none (3 letters + 6 digits); context |
//! | `ItFiscalCodeRecognizer` (`IT_FISCAL_CODE`) | [`Kind::ItFiscalCode`] | odd/even table check character |
//! | `ItVatCodeRecognizer` (`IT_VAT_CODE`) | [`Kind::ItVatCode`] | Luhn over 11 digits; context |
//! | `ItPassportRecognizer` (`IT_PASSPORT`) | [`Kind::ItPassport`] | none (2 letters + 7 digits); context decides |
//! | `ItIdentityCardRecognizer` (`IT_IDENTITY_CARD`) | [`Kind::ItIdentityCard`] | none (`CA12345AB`, `AA1234567`); context decides |
//! | `ItDriverLicenseRecognizer` (`IT_DRIVER_LICENSE`) | [`Kind::ItDriverLicense`] | none (`AA1234567B`, `U1` form); context |
//! | `PlPeselRecognizer` (`PL_PESEL`) | [`Kind::PlPesel`] | weights 1-3-7-9, encoded month |
//! | `FiPersonalIdentityCodeRecognizer` (`FI_PERSONAL_IDENTITY_CODE`) | [`Kind::FiHetu`] | mod-31 check character, century sign |
//! | `SePersonnummerRecognizer` (`SE_PERSONNUMMER`) | [`Kind::SePersonnummer`] | Luhn, date (coordination days +60) |
//! | `SeOrganisationsnummerRecognizer` (`SE_ORGANISATIONSNUMMER`) | [`Kind::SeOrganisationsnummer`] | Luhn, third digit ≥ 2 |
//! | `DeTaxIdRecognizer` (`DE_TAX_ID`) | [`Kind::DeTaxId`] | ISO 7064 MOD 11,10, first digit not 0 (Presidio also applies a digit-repetition rule; not here) |
//! | `DeIdCardRecognizer` (`DE_ID_CARD`) | [`Kind::DeIdCard`] | none (Presidio's 9-character serial: `LMNPRTVWXY`, then digits and ICAO consonants; at least one digit); context |
//! | `DePassportRecognizer` (`DE_PASSPORT`) | [`Kind::DePassport`] | ICAO 9303 7-3-1 check digit over the first eight; context |
//! | `DeDriverLicenseRecognizer` (`DE_DRIVER_LICENSE`) | [`Kind::DeDriverLicense`] | none (8–15 letters and digits, both present; letter- or digit-led, or in space-separated groups `B072 RRE2I 55`, beyond Presidio's letter-led form); context |
//! | `DePersonalIdRecognizer` (`DE_PERSONAL_ID`) | [`Kind::DePersonalId`] | ICAO 7-3-1 check digit as the tenth character after the 9-character serial or the pre-2010 nine digits ([`checksum::de_personal_id`]); context. Presidio checks a 9-character serial's last character against the first eight, which is not how the card computes it; that 9-character form is [`Kind::DeIdCard`] here |
//! | `DeKvnrRecognizer` (`DE_KVNR`) | [`Kind::DeKvnr`] | §290 SGB V: letter as two digits, weights 1-2, cross sums, mod 10 ([`checksum::de_kvnr`]; Presidio also sums the check digit itself, so it accepts wrong numbers); `A123456780` and `A 123 456 789` forms; context (Presidio scores a valid one 1.0 alone) |
//! | `DeLanrRecognizer` (`DE_LANR`) | [`Kind::DeLanr`] | KBV check digit (7th, weights 4-9 over the first six), not all zeros; context |
//! | `DeBsnrRecognizer` (`DE_BSNR`) | [`Kind::DeBsnr`] | regional KV code whitelist (unknown prefixes rejected, where Presidio keeps them at its pattern score); context |
//! | `DeSocialSecurityRecognizer` (`DE_SOCIAL_SECURITY`) | [`Kind::DeSocialSecurity`] | VKVV § 4 check digit, birth day 01–31/51–81, month 01–12 ([`checksum::de_social_security`]); also the card's spaced form `15 070649 C 103`; passes alone (rare shape + check digit + date) |
//! | `DeTaxNumberRecognizer` (`DE_TAX_NUMBER`) | [`Kind::DeTaxNumber`] | state layouts (`FF/BBB/UUUUP`, `FFF/BBB/UUUUP`, `FFF/BBBB/UUUP`, `FF/BBB/UUUU/P`, `FFBBB/UUUUP`, `FF BBB UUUUP`, `0FF BBB UUUUP`) and the 13-digit ELSTER form with its real state prefixes and the `0` fifth digit ([`checksum::de_tax_number_elster`]; Presidio takes `01`–`16` as prefixes); the states' own check digits are not verified; context |
//! | `DeTelematikIdRecognizer` (`DE_TELEMATIK_ID`) | [`Kind::DeTelematikId`] | none (`1-`, `10-`, `11-`, `9-`, `5-2-` prefix, 5–125 of `A-Z0-9.`, at least one digit); context (the context word is not part of the span, unlike Presidio's third pattern) |
//! | `DeVatCodeRecognizer` (`DE_VAT_CODE`) | [`Kind::DeVatCode`] | ISO 7064 MOD 11,10 check digit over the first eight digits ([`checksum::de_vat`]; Presidio checks the length only); `DE123456789` and `DE 123 456 789`; passes alone |
//! | `DeCommercialRegisterRecognizer` (`DE_COMMERCIAL_REGISTER`) | [`Kind::DeCommercialRegister`] | none (`HRA`/`HRB`, 1–7 digits, optional court letter, optional `AG`/`Amtsgericht` and one court name, hyphenated parts allowed, included in the span); upper-case `HRA`/`HRB` only; passes alone |
//! | `DeLicensePlateRecognizer` (`DE_LICENSE_PLATE`) | [`Kind::DeLicensePlate`] | district 1–3 letters (`Ä`/`Ö`/`Ü` after the first), 1–2 letters, 1–4 digits not led by 0, `E`/`H` suffix, at most 8 characters; hyphen, space and continuous forms; context (Presidio's hyphen form scores 0.5 alone; `HR-IT 2024`-like codes are too common in tickets) |
//! | `DePostalCodeRecognizer` (`DE_POSTAL_CODE`) | [`Kind::DePostalCode`] | 01000–99999; context only (`Anschrift`, `Wohnort`, `Straße`, …; not `zip`, which would call US ZIP codes German); named by `PLZ`, `Postleitzahl` or `postcode` it is a `POSTCODE` |
//! | global: `CreditCardRecognizer`, `IbanRecognizer`, `EmailRecognizer`, `IpRecognizer`, `PhoneRecognizer`, `DateRecognizer` | [`Kind::CreditCard`], [`Kind::Iban`], [`Kind::Email`], [`Kind::IpAddress`], [`Kind::Phone`], [`Kind::DateOfBirth`] | Luhn + IIN; mod 97 + length; —; parse; —; calendar + context |
//!
//! Beyond Presidio: NZ IRD and NHI, NL BSN, FR INSEE, CA postal codes,
//! MAC addresses and secrets. Presidio's German recognizers are all built:
//! the fifteen files of `country_specific/germany` (older file names
//! `de_fuehrerschein`, `de_handelsregister`, `de_kfz`, `de_plz` and
//! `de_vat_id` are earlier versions of the driving licence, commercial
//! register, plate, postcode and VAT recognizers above). Their context
//! words are Presidio's, as single words (a phrase such as `arzt-nr` counts
//! by its words), plus a few German synonyms (`Nummernschild`, `eGK`,
//! `Anschrift`, `Straße`); generic ones such as `dr.`, `id` and `zip code`
//! are left out for precision.
//!
//! Not built: Presidio's `UrlRecognizer` and `CryptoRecognizer` (no
//! personal data in a URL as such; URL credentials and tokens are
//! [`Kind::Secret`]), lower-case `hrb 12345`, plates whose district starts
//! with an umlaut (`ÖHR`), dateless pre-1963 UK registrations, textual
//! dates of birth (`12 March 1984`), and a model of language: no NLP or
//! neural model ships (people, places and organisations come from the
//! gazetteer and context above; a host plugs a model in as a
//! [`Recognizer`]).
//!
//! Private-key blocks are walked line by line to their `-----END` line at
//! any length; a block without one (a truncated paste, a JSON-escaped key)
//! is masked up to its last line of key material. The streaming masker
//! holds back a block still open at the end of its buffer (up to
//! [`stream::HOLD_CAP`], then masks what it holds and everything after it
//! up to the end line), so no line of a key is ever written in clear.

#![forbid(unsafe_code)]
// Library code returns typed errors; only tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(missing_docs)]
#![warn(unreachable_pub)]

// Namespaces: the checksum validators and the streaming buffer bounds read
// well only qualified (`checksum::luhn`, `stream::HOLD_CAP`).
pub mod checksum;
pub mod stream;
// A feature's add-on.
#[cfg(feature = "proptest")]
pub mod arbitrary;

mod detector;
mod entity;
mod error;
mod json;
mod kind;
mod operator;
mod recognizer;
mod scan;

/// One step of a xorshift generator: the unit tests' reproducible stream
/// of random numbers (the same cases every run, no dependency).
#[cfg(test)]
fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

// Detection.
pub use detector::{
    CustomRecognizer, DEFAULT_MIN_SCORE, Detector, DetectorConfig, Finding, KnownEntities, Regions,
    Validator, resolve,
};
pub use kind::{CustomKind, Kind};
pub use recognizer::Recognizer;
// Masking.
pub use json::JsonRules;
pub use operator::{
    MaskPolicy, Masked, Masker, PseudonymKey, Report, ReportEntry, Strategy, TokenVault,
};
// Errors.
pub use error::Error;
