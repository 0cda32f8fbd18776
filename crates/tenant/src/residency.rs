//! Data residency and international transfers (GDPR Chapter V).
//!
//! Each tenant has a home [`Region`]. A transfer of its data to another
//! location (a replica, a sub-processor, an AI vendor) is checked by a
//! [`TransferRules`] and answered with a [`TransferDecision`]: allowed, with
//! its basis (same region, inside the EEA, an adequacy decision, standard
//! contractual clauses on file), or denied, with the reason.
//!
//! # The adequacy list is data
//!
//! Adequacy decisions change (Brazil was added in January 2026, the UK's was
//! renewed in December 2025 until 2031), so the list is a versioned JSON
//! document with the date it reflects, not code. The built-in one
//! ([`AdequacyList::builtin`], embedded from `data/adequacy.json`) is the EU's
//! list as of November 2026; a host loads a newer one with
//! [`AdequacyList::from_json`] or [`AdequacyList::from_path`], and
//! [`AdequacyList::is_stale`] says when to refresh it. Format, version 1:
//!
//! ```json
//! {
//!   "version": 1,
//!   "exporter": "EU",
//!   "as_of": "2026-11-01",
//!   "source": "where the list comes from",
//!   "countries": [
//!     { "region": "JP", "name": "Japan", "decision": "Implementing Decision (EU) 2019/419" },
//!     { "region": "UK", "name": "United Kingdom", "decision": "renewed 19 Dec 2025",
//!       "valid_until": "2031-12-27" },
//!     { "region": "US", "name": "United States", "decision": "Decision 2023/1795",
//!       "condition": { "key": "eu-us-dpf",
//!                      "description": "only organisations certified under the DPF" } }
//!   ],
//!   "organisations": [ { "name": "European Patent Organisation", "decision": "July 2025" } ]
//! }
//! ```
//!
//! `exporter` is whose rules these are: `EU` covers exports from any EEA
//! country. A `condition` makes the adequacy partial: it covers only
//! recipients that hold the named certification (`Recipient::certifications`).
//! Unknown fields are refused, so a typo cannot silently drop a rule.
//!
//! # Reading implemented
//!
//! In order: same region, or both in the EEA → allowed; a list for the
//! exporter that finds the destination adequate (condition met, not expired)
//! → allowed; a safeguard on file ([`SccRecord`]) for that recipient and
//! destination, under an instrument valid for the exporter
//! ([`TransferInstrument::valid_for`]), *with* a transfer impact assessment →
//! allowed; anything else is denied, including exports from a region for
//! which no list is loaded (deny by default). Each exporter has its own
//! instrument: the EU's SCCs (Decision 2021/914) for exports from the EEA,
//! the UK's International Data Transfer Agreement or its Addendum to the EU
//! SCCs for exports from the UK. The EU SCCs alone are no safeguard for a UK
//! exporter, nor the UK's instruments for an EEA one; an exporter whose
//! instrument is not modelled (Switzerland's amended SCCs, say) has no
//! safeguard here and is allowed only by its own list. Not legal advice.
//!
//! # Safeguards on file
//!
//! An [`SccRecord`] serialises as (serde; [`SccRecord::from_json`] reads one
//! with a typed error):
//!
//! ```json
//! { "recipient": "Cloud Inc", "destination": "US", "instrument": "UkIdta",
//!   "module": "C2P", "signed": "2026-03-01", "transfer_impact_assessment": true }
//! ```
//!
//! `instrument` is `EuSccs`, `UkIdta` or `UkAddendum`; a record without it
//! is EU SCCs (records written before the field existed read as before).
//! Unknown fields are refused, so a misspelt `instrument` cannot turn a UK
//! record into EU SCCs.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use chrono::NaiveDate;
use custodia_core::{Region, TenantId};
use serde::{Deserialize, Serialize};

use crate::Error;

/// The built-in EU adequacy list, as embedded in the crate.
pub const BUILTIN_ADEQUACY_JSON: &str = include_str!("../data/adequacy.json");

/// A condition that limits an adequacy decision to some recipients.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The certification a recipient must hold: `eu-us-dpf`, `pipeda`.
    pub key: String,
    /// What it means, in words.
    pub description: String,
}

/// One adequate country or territory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adequacy {
    /// The destination.
    pub region: Region,
    /// Its name.
    pub name: String,
    /// The decision (reference and date).
    pub decision: String,
    /// A condition on recipients, for partial adequacy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Condition>,
    /// The last day the decision applies, if it expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<NaiveDate>,
}

/// An adequate international organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganisationAdequacy {
    /// The organisation.
    pub name: String,
    /// The decision.
    pub decision: String,
}

/// A list of adequacy decisions of one exporting jurisdiction, with its date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdequacyList {
    /// The format version (1).
    pub version: u32,
    /// Whose rules: `EU` (exports from the EEA), or another region.
    pub exporter: Region,
    /// The date the list reflects.
    pub as_of: NaiveDate,
    /// Where it comes from.
    pub source: String,
    /// The adequate countries and territories.
    pub countries: Vec<Adequacy>,
    /// The adequate international organisations.
    #[serde(default)]
    pub organisations: Vec<OrganisationAdequacy>,
}

impl AdequacyList {
    /// The format version this build reads.
    pub const VERSION: u32 = 1;

    /// The built-in EU list (see the module docs for its date and source).
    pub fn builtin() -> Result<Self, Error> {
        Self::from_json(BUILTIN_ADEQUACY_JSON)
    }

    /// Parses and validates a list.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        let invalid = |location: Option<String>, reason: String| Error::InvalidData {
            what: "adequacy list",
            location,
            reason,
        };
        let list: Self = serde_json::from_str(json)
            .map_err(|source| Error::json_decode("adequacy list", source))?;
        if list.version != Self::VERSION {
            return Err(invalid(
                Some("version".into()),
                format!(
                    "unsupported version {}, expected {}",
                    list.version,
                    Self::VERSION
                ),
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, entry) in list.countries.iter().enumerate() {
            if !seen.insert(entry.region) {
                return Err(invalid(
                    Some(format!("countries[{i}]")),
                    format!("{} is listed twice", entry.region),
                ));
            }
            if entry.region == list.exporter
                || (list.exporter == Region::EU && entry.region.is_eea())
            {
                return Err(invalid(
                    Some(format!("countries[{i}]")),
                    format!("{} is inside the exporter's own area", entry.region),
                ));
            }
        }
        Ok(list)
    }

    /// Reads and parses a list from a file.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_json(&text)
    }

    /// Whether this list's rules govern exports from `from`.
    pub fn governs(&self, from: Region) -> bool {
        if self.exporter == Region::EU {
            from.is_eea()
        } else {
            from == self.exporter
        }
    }

    /// The adequacy entry for `to`, if any: its own, else one that covers
    /// it ([`Region::covers`]: an `EU` entry covers the member states).
    pub fn find(&self, to: Region) -> Option<&Adequacy> {
        self.countries
            .iter()
            .find(|a| a.region == to)
            .or_else(|| self.countries.iter().find(|a| a.region.covers(to)))
    }

    /// Whether the list is older than `max_age_days` on `today`.
    pub fn is_stale(&self, today: NaiveDate, max_age_days: i64) -> bool {
        (today - self.as_of).num_days() > max_age_days
    }
}

/// The modules of the standard contractual clauses (Decision 2021/914): the
/// roles of exporter and importer. A UK Addendum carries the module of the
/// EU clauses it amends; the UK IDTA has no modules, and records the same
/// roles in its Part 1 (Table 1), which is what `module` says for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SccModule {
    /// Module 1: controller to controller.
    C2C,
    /// Module 2: controller to processor.
    C2P,
    /// Module 3: processor to processor.
    P2P,
    /// Module 4: processor to controller.
    P2C,
}

/// The instrument a safeguard on file is signed under. Each is a safeguard
/// only for the exporters whose law issued it ([`Self::valid_for`]), so the
/// record must say which one it is.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[non_exhaustive]
pub enum TransferInstrument {
    /// The EU's standard contractual clauses (Commission Implementing
    /// Decision (EU) 2021/914; GDPR Art. 46(2)(c)): for exporters in the
    /// EEA. The default, so that records from before instruments were
    /// named keep their meaning.
    #[default]
    EuSccs,
    /// The UK's International Data Transfer Agreement (ICO, in force 21
    /// March 2022; UK GDPR Art. 46(2)(d)): for exporters in the UK.
    UkIdta,
    /// The UK's International Data Transfer Addendum to the EU's standard
    /// contractual clauses (ICO, in force 21 March 2022): the EU clauses
    /// made a safeguard for exporters in the UK.
    UkAddendum,
}

impl TransferInstrument {
    /// Whether this instrument is a safeguard for exports from `exporter`:
    /// the EU SCCs from the EEA (the `EU` itself, a member state, Iceland,
    /// Liechtenstein, Norway), the IDTA and the Addendum from the UK.
    pub fn valid_for(self, exporter: Region) -> bool {
        match self {
            TransferInstrument::EuSccs => exporter.is_eea(),
            TransferInstrument::UkIdta | TransferInstrument::UkAddendum => exporter == Region::UK,
        }
    }
}

impl fmt::Display for TransferInstrument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransferInstrument::EuSccs => "the EU standard contractual clauses (Decision 2021/914)",
            TransferInstrument::UkIdta => "the UK International Data Transfer Agreement",
            TransferInstrument::UkAddendum => {
                "the UK Addendum to the EU standard contractual clauses"
            }
        })
    }
}

/// A transfer safeguard signed with a recipient, on file: standard
/// contractual clauses or their equivalent, under the [`TransferInstrument`]
/// it names, which decides the exporters it serves. See the module docs
/// for the serialised form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SccRecord {
    /// The recipient (importer).
    pub recipient: String,
    /// Where the recipient processes the data; `EU` covers the member
    /// states ([`Region::covers`]).
    pub destination: Region,
    /// Which instrument; absent in the serialised form means
    /// [`TransferInstrument::EuSccs`].
    #[serde(default)]
    pub instrument: TransferInstrument,
    /// Which module (for the IDTA: the parties' roles).
    pub module: SccModule,
    /// When signed.
    pub signed: NaiveDate,
    /// Whether a transfer impact assessment is on file for it (for the UK
    /// instruments, the ICO's transfer risk assessment). Without one the
    /// record is no safeguard.
    pub transfer_impact_assessment: bool,
}

impl SccRecord {
    /// Parses one record from its JSON form (see the module docs).
    pub fn from_json(json: &str) -> Result<Self, Error> {
        serde_json::from_str(json).map_err(|source| Error::json_decode("SCC record", source))
    }
}

/// Who receives the data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    /// The recipient's name (as on the SCCs).
    pub name: String,
    /// Certifications it holds that conditions may require: `eu-us-dpf`, `pipeda`.
    pub certifications: BTreeSet<String>,
}

impl Recipient {
    /// A recipient with no certifications.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            certifications: BTreeSet::new(),
        }
    }

    /// Adds a certification.
    #[must_use]
    pub fn certified(mut self, key: impl Into<String>) -> Self {
        self.certifications.insert(key.into());
        self
    }
}

/// Why a transfer is allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Basis {
    /// The data stays in its region.
    SameRegion,
    /// Both ends are in the EEA, where the GDPR applies directly.
    WithinEea,
    /// An adequacy decision covers the destination.
    Adequacy {
        /// The decision.
        decision: String,
        /// The condition the recipient meets, for partial adequacy.
        condition: Option<String>,
        /// The date of the list the decision came from.
        list_as_of: NaiveDate,
    },
    /// Standard contractual clauses, or the exporter's equivalent, with a
    /// transfer impact assessment.
    Sccs {
        /// The instrument.
        instrument: TransferInstrument,
        /// The module signed.
        module: SccModule,
        /// When.
        signed: NaiveDate,
    },
}

/// Why a transfer is denied.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Denial {
    /// No loaded list governs exports from this region.
    NoRulesForExporter,
    /// Not adequate and no SCCs on file.
    NoSafeguard,
    /// The destination's adequacy needs a certification the recipient lacks,
    /// and there are no SCCs.
    ConditionNotMet {
        /// The condition.
        condition: String,
    },
    /// The destination's adequacy decision has expired, and there are no SCCs.
    AdequacyExpired {
        /// Its last day.
        valid_until: NaiveDate,
    },
    /// SCCs are on file but the transfer impact assessment is not.
    SccsWithoutAssessment,
    /// A safeguard is on file for the recipient and destination, but under
    /// an instrument that does not serve this exporter (the EU SCCs for a
    /// UK exporter, the UK IDTA for an EEA one).
    InstrumentNotForExporter {
        /// The instrument on file.
        instrument: TransferInstrument,
    },
}

/// The answer to a transfer check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferDecision {
    /// From where.
    pub from: Region,
    /// To where.
    pub to: Region,
    /// To whom.
    pub recipient: String,
    /// Allowed with a basis, or denied with a reason.
    pub outcome: Result<Basis, Denial>,
}

impl TransferDecision {
    /// Whether the transfer is allowed.
    pub fn allowed(&self) -> bool {
        self.outcome.is_ok()
    }
}

impl fmt::Display for TransferDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (from, to, who) = (self.from, self.to, &self.recipient);
        match &self.outcome {
            Ok(Basis::SameRegion) => write!(f, "{from} → {to} ({who}): allowed, same region"),
            Ok(Basis::WithinEea) => write!(f, "{from} → {to} ({who}): allowed, within the EEA"),
            Ok(Basis::Adequacy {
                decision,
                condition,
                list_as_of,
            }) => {
                write!(f, "{from} → {to} ({who}): allowed by adequacy ({decision}")?;
                if let Some(c) = condition {
                    write!(f, "; recipient meets: {c}")?;
                }
                write!(f, "; list as of {list_as_of})")
            }
            Ok(Basis::Sccs {
                instrument,
                module,
                signed,
            }) => match instrument {
                TransferInstrument::EuSccs => write!(
                    f,
                    "{from} → {to} ({who}): allowed by standard contractual clauses (Decision 2021/914, module {module:?}, signed {signed}) with a transfer impact assessment"
                ),
                TransferInstrument::UkIdta => write!(
                    f,
                    "{from} → {to} ({who}): allowed by the UK International Data Transfer Agreement (parties {module:?}, signed {signed}) with a transfer risk assessment"
                ),
                TransferInstrument::UkAddendum => write!(
                    f,
                    "{from} → {to} ({who}): allowed by the UK Addendum to the EU standard contractual clauses (module {module:?}, signed {signed}) with a transfer risk assessment"
                ),
            },
            Err(Denial::NoRulesForExporter) => write!(
                f,
                "{from} → {to} ({who}): denied, no transfer rules loaded for exports from {from}"
            ),
            Err(Denial::NoSafeguard) => write!(
                f,
                "{from} → {to} ({who}): denied, {to} has no adequacy decision and no SCCs are on file"
            ),
            Err(Denial::ConditionNotMet { condition }) => write!(
                f,
                "{from} → {to} ({who}): denied, adequacy covers {condition} and no SCCs are on file"
            ),
            Err(Denial::AdequacyExpired { valid_until }) => write!(
                f,
                "{from} → {to} ({who}): denied, the adequacy decision expired after {valid_until} and no SCCs are on file"
            ),
            Err(Denial::SccsWithoutAssessment) => write!(
                f,
                "{from} → {to} ({who}): denied, SCCs are on file but no transfer impact assessment"
            ),
            Err(Denial::InstrumentNotForExporter { instrument }) => write!(
                f,
                "{from} → {to} ({who}): denied, the safeguard on file is {instrument}, which is no safeguard for exports from {from}"
            ),
        }
    }
}

/// A sub-processor and where it processes data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubProcessor {
    /// Who, with their certifications.
    pub recipient: Recipient,
    /// Every location it processes in.
    pub locations: Vec<Region>,
}

/// The transfer rules: adequacy lists and the SCCs on file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferRules {
    lists: Vec<AdequacyList>,
    sccs: Vec<SccRecord>,
}

impl TransferRules {
    /// Rules from the built-in EU list and no SCCs.
    pub fn builtin() -> Result<Self, Error> {
        Ok(Self::new(vec![AdequacyList::builtin()?]))
    }

    /// Rules from these lists (a later list for the same exporter overrides an
    /// earlier one) and no SCCs.
    pub fn new(lists: Vec<AdequacyList>) -> Self {
        let mut kept: Vec<AdequacyList> = Vec::new();
        for list in lists {
            kept.retain(|l| l.exporter != list.exporter);
            kept.push(list);
        }
        Self {
            lists: kept,
            sccs: Vec::new(),
        }
    }

    /// Records SCCs on file.
    #[must_use]
    pub fn with_sccs(mut self, record: SccRecord) -> Self {
        self.sccs.push(record);
        self
    }

    /// The loaded lists.
    pub fn lists(&self) -> &[AdequacyList] {
        &self.lists
    }

    /// Checks a transfer of data homed in `from` to `recipient` processing in
    /// `to`, on `today` (for expiring decisions).
    pub fn check(
        &self,
        from: Region,
        to: Region,
        recipient: &Recipient,
        today: NaiveDate,
    ) -> TransferDecision {
        let decision = |outcome| TransferDecision {
            from,
            to,
            recipient: recipient.name.clone(),
            outcome,
        };
        if from == to {
            return decision(Ok(Basis::SameRegion));
        }
        if from.is_eea() && to.is_eea() {
            return decision(Ok(Basis::WithinEea));
        }
        let Some(list) = self.lists.iter().find(|l| l.governs(from)) else {
            // No rules for this exporter: only a safeguard valid for it
            // (and, short of its assessment, the missing assessment) speaks.
            return decision(self.scc_basis(from, to, recipient).map_err(|d| match d {
                Denial::NoSafeguard | Denial::InstrumentNotForExporter { .. } => {
                    Denial::NoRulesForExporter
                }
                other => other,
            }));
        };
        let mut denial = Denial::NoSafeguard;
        if let Some(adequacy) = list.find(to) {
            let expired = adequacy.valid_until.filter(|until| today > *until);
            let unmet = adequacy
                .condition
                .as_ref()
                .filter(|c| !recipient.certifications.contains(&c.key));
            match (expired, unmet) {
                (Some(valid_until), _) => denial = Denial::AdequacyExpired { valid_until },
                (None, Some(c)) => {
                    denial = Denial::ConditionNotMet {
                        condition: c.description.clone(),
                    }
                }
                (None, None) => {
                    return decision(Ok(Basis::Adequacy {
                        decision: adequacy.decision.clone(),
                        condition: adequacy.condition.as_ref().map(|c| c.description.clone()),
                        list_as_of: list.as_of,
                    }));
                }
            }
        }
        decision(self.scc_basis(from, to, recipient).map_err(|d| match d {
            Denial::NoSafeguard => denial,
            other => other,
        }))
    }

    /// The safeguard on file for `recipient` in `to` for an export from
    /// `from`: a record under an instrument valid for `from`
    /// ([`TransferInstrument::valid_for`]) with a transfer impact
    /// assessment. The EU's SCCs serve exporters in the EEA only; a UK
    /// exporter needs the IDTA or the UK Addendum.
    fn scc_basis(&self, from: Region, to: Region, recipient: &Recipient) -> Result<Basis, Denial> {
        let on_file: Vec<&SccRecord> = self
            .sccs
            .iter()
            .filter(|s| s.recipient == recipient.name && s.destination.covers(to))
            .collect();
        let Some(first) = on_file.first() else {
            return Err(Denial::NoSafeguard);
        };
        let mut valid = on_file
            .iter()
            .filter(|s| s.instrument.valid_for(from))
            .peekable();
        if valid.peek().is_none() {
            return Err(Denial::InstrumentNotForExporter {
                instrument: first.instrument,
            });
        }
        valid
            .find(|s| s.transfer_impact_assessment)
            .map(|s| Basis::Sccs {
                instrument: s.instrument,
                module: s.module,
                signed: s.signed,
            })
            .ok_or(Denial::SccsWithoutAssessment)
    }

    /// Checks every location of a sub-processor against a tenant's home
    /// region: one decision per location; usable only if all are allowed.
    pub fn check_sub_processor(
        &self,
        home: Region,
        sub: &SubProcessor,
        today: NaiveDate,
    ) -> Vec<TransferDecision> {
        sub.locations
            .iter()
            .map(|&to| self.check(home, to, &sub.recipient, today))
            .collect()
    }
}

/// A store holding some of a tenant's data (a database, a file bucket, a
/// search index, backups).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataStore {
    /// The store's name.
    pub name: String,
    /// Where it is.
    pub region: Region,
    /// Whether it holds backups, whose copies expire rather than get deleted.
    pub backups: bool,
}

/// One step of a region migration.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MigrationStep {
    /// Copy the tenant's data from a store into its counterpart in the target region.
    Copy {
        /// The store.
        store: String,
        /// From where.
        from: Region,
    },
    /// Verify the copy (row counts, content hashes) before switching.
    Verify {
        /// The store.
        store: String,
    },
    /// Switch the tenant's home region: new writes go to the target.
    CutOver {
        /// The new home.
        to: Region,
    },
    /// Delete the tenant's data from the old store.
    PurgeSource {
        /// The store.
        store: String,
    },
    /// Backups in the old region are not rewritten; they expire with their
    /// retention horizon and must not be restored outside the target region.
    AwaitBackupExpiry {
        /// The backup store.
        store: String,
    },
}

/// A plan for moving one tenant's data to another region ("move this
/// tenant's data to the EU"), and its progress.
///
/// Steps: copy each store outside the target, verify each copy, cut over the
/// home region, purge the old stores (backups: wait for their expiry). Steps
/// complete strictly in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionMigration {
    tenant: TenantId,
    from: Region,
    to: Region,
    steps: Vec<MigrationStep>,
    done: usize,
}

impl RegionMigration {
    /// Plans moving `tenant` from its home `from` to `to`, over `stores`.
    ///
    /// Refuses (with the denial) when `transfer` — the decision for moving
    /// the data to `to` — is not allowed.
    pub fn plan(
        tenant: TenantId,
        from: Region,
        to: Region,
        stores: &[DataStore],
        transfer: &TransferDecision,
    ) -> Result<Self, Error> {
        if !transfer.allowed() || transfer.to != to || transfer.from != from {
            return Err(Error::Denied {
                reason: format!("region migration to {to}: {transfer}"),
            });
        }
        let moving: Vec<&DataStore> = stores.iter().filter(|s| s.region != to).collect();
        let mut steps = Vec::new();
        for store in moving.iter().filter(|s| !s.backups) {
            steps.push(MigrationStep::Copy {
                store: store.name.clone(),
                from: store.region,
            });
        }
        for store in moving.iter().filter(|s| !s.backups) {
            steps.push(MigrationStep::Verify {
                store: store.name.clone(),
            });
        }
        steps.push(MigrationStep::CutOver { to });
        for store in &moving {
            steps.push(if store.backups {
                MigrationStep::AwaitBackupExpiry {
                    store: store.name.clone(),
                }
            } else {
                MigrationStep::PurgeSource {
                    store: store.name.clone(),
                }
            });
        }
        Ok(Self {
            tenant,
            from,
            to,
            steps,
            done: 0,
        })
    }

    /// The tenant.
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// The old home.
    pub fn from(&self) -> Region {
        self.from
    }

    /// The new home.
    pub fn to(&self) -> Region {
        self.to
    }

    /// Every step, in order.
    pub fn steps(&self) -> &[MigrationStep] {
        &self.steps
    }

    /// The next step to do, or `None` when finished.
    pub fn next_step(&self) -> Option<(usize, &MigrationStep)> {
        self.steps.get(self.done).map(|s| (self.done, s))
    }

    /// Marks step `index` done; it must be the next one.
    pub fn complete(&mut self, index: usize) -> Result<(), Error> {
        if index >= self.steps.len() {
            return Err(Error::Migration {
                step: index,
                reason: "no such step",
            });
        }
        if index < self.done {
            return Err(Error::Migration {
                step: index,
                reason: "already done",
            });
        }
        if index > self.done {
            return Err(Error::Migration {
                step: index,
                reason: "an earlier step is not done yet",
            });
        }
        self.done += 1;
        Ok(())
    }

    /// The region that is the tenant's home now: the old one until the cut-over is done.
    pub fn current_home(&self) -> Region {
        let cut = self
            .steps
            .iter()
            .position(|s| matches!(s, MigrationStep::CutOver { .. }));
        match cut {
            Some(i) if self.done > i => self.to,
            _ => self.from,
        }
    }

    /// Whether every step is done.
    pub fn is_finished(&self) -> bool {
        self.done == self.steps.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn r(s: &str) -> Region {
        s.parse().unwrap()
    }

    #[test]
    fn builtin_list_reflects_the_reference() {
        let list = AdequacyList::builtin().unwrap();
        assert_eq!(list.exporter, Region::EU);
        assert_eq!(list.as_of, day("2026-11-01"));
        for code in [
            "AD", "AR", "BR", "CA", "FO", "GG", "IM", "IL", "JP", "JE", "NZ", "KR", "CH", "UK",
            "UY", "US",
        ] {
            assert!(list.find(r(code)).is_some(), "{code}");
        }
        assert!(list.find(Region::AU).is_none());
        assert_eq!(
            list.find(Region::UK).unwrap().valid_until,
            Some(day("2031-12-27"))
        );
        assert!(
            list.organisations
                .iter()
                .any(|o| o.name == "European Patent Organisation")
        );
        assert!(!list.is_stale(day("2027-01-01"), 365));
        assert!(list.is_stale(day("2028-01-01"), 365));
    }

    #[test]
    fn transfers_from_the_eu() {
        let rules = TransferRules::builtin().unwrap();
        let today = day("2026-11-22");
        let vendor = Recipient::new("Vendor Ltd");
        let de = r("DE");
        assert_eq!(
            rules.check(de, de, &vendor, today).outcome,
            Ok(Basis::SameRegion)
        );
        assert_eq!(
            rules.check(Region::EU, r("FR"), &vendor, today).outcome,
            Ok(Basis::WithinEea)
        );
        assert_eq!(
            rules.check(Region::EU, r("NO"), &vendor, today).outcome,
            Ok(Basis::WithinEea)
        );
        let jp = rules.check(Region::EU, r("JP"), &vendor, today);
        assert!(matches!(jp.outcome, Ok(Basis::Adequacy { .. })), "{jp}");
        assert!(jp.to_string().contains("2019/419"), "{jp}");
        // The UK decision, after it expires.
        let uk = rules.check(Region::EU, Region::UK, &vendor, day("2032-01-01"));
        assert_eq!(
            uk.outcome,
            Err(Denial::AdequacyExpired {
                valid_until: day("2031-12-27")
            })
        );
        assert!(
            rules
                .check(Region::EU, Region::UK, &vendor, today)
                .allowed()
        );
        // The US: only DPF-certified recipients.
        let us = rules.check(Region::EU, Region::US, &vendor, today);
        assert!(
            matches!(us.outcome, Err(Denial::ConditionNotMet { .. })),
            "{us}"
        );
        let certified = Recipient::new("Cloud Inc").certified("eu-us-dpf");
        assert!(
            rules
                .check(Region::EU, Region::US, &certified, today)
                .allowed()
        );
        // Australia: no adequacy; SCCs need a transfer impact assessment.
        let au = rules.check(Region::EU, Region::AU, &vendor, today);
        assert_eq!(au.outcome, Err(Denial::NoSafeguard));
        assert!(au.to_string().contains("no adequacy decision"), "{au}");
        let scc = SccRecord {
            recipient: "Vendor Ltd".into(),
            destination: Region::AU,
            instrument: TransferInstrument::EuSccs,
            module: SccModule::C2P,
            signed: day("2026-03-01"),
            transfer_impact_assessment: false,
        };
        let without_tia = rules.clone().with_sccs(scc.clone());
        assert_eq!(
            without_tia
                .check(Region::EU, Region::AU, &vendor, today)
                .outcome,
            Err(Denial::SccsWithoutAssessment)
        );
        let with_tia = rules.clone().with_sccs(SccRecord {
            transfer_impact_assessment: true,
            ..scc
        });
        let ok = with_tia.check(Region::EU, Region::AU, &vendor, today);
        assert_eq!(
            ok.outcome,
            Ok(Basis::Sccs {
                instrument: TransferInstrument::EuSccs,
                module: SccModule::C2P,
                signed: day("2026-03-01")
            })
        );
        // SCCs are per recipient.
        assert!(
            !with_tia
                .check(Region::EU, Region::AU, &Recipient::new("Other"), today)
                .allowed()
        );
        // No list governs exports from the US: denied by default.
        let from_us = rules.check(Region::US, Region::EU, &vendor, today);
        assert_eq!(from_us.outcome, Err(Denial::NoRulesForExporter));
    }

    /// Found in review: SCCs under Decision 2021/914 (an EU instrument) were
    /// taken as a safeguard for exports from anywhere. A UK tenant's data
    /// went to a US recipient "allowed by standard contractual clauses"
    /// (the UK needs its IDTA or the UK Addendum, which the record does not
    /// say), and an AU, CA, NZ or US exporter for which no rules are loaded
    /// was allowed too, though the module promises deny by default.
    #[test]
    fn eu_sccs_are_a_safeguard_only_for_exports_the_eu_rules_govern() {
        let today = day("2026-11-22");
        let vendor = Recipient::new("Vendor Inc");
        let sccs = |to| SccRecord {
            recipient: "Vendor Inc".into(),
            destination: to,
            instrument: TransferInstrument::EuSccs,
            module: SccModule::C2P,
            signed: day("2026-03-01"),
            transfer_impact_assessment: true,
        };
        let uk = AdequacyList::from_json(
            r#"{"version":1,"exporter":"UK","as_of":"2026-11-01","source":"test","countries":[]}"#,
        )
        .unwrap();
        let rules = TransferRules::new(vec![AdequacyList::builtin().unwrap(), uk])
            .with_sccs(sccs(Region::US))
            .with_sccs(sccs(Region::AU));
        // UK → US under the UK's own list: no adequacy for this recipient,
        // and the EU SCCs on file are no UK safeguard.
        let d = rules.check(Region::UK, Region::US, &vendor, today);
        assert_eq!(
            d.outcome,
            Err(Denial::InstrumentNotForExporter {
                instrument: TransferInstrument::EuSccs
            }),
            "{d}"
        );
        // No rules loaded for these exporters: denied by default.
        for from in [Region::AU, Region::CA, Region::NZ] {
            let d = rules.check(from, Region::US, &vendor, today);
            assert_eq!(d.outcome, Err(Denial::NoRulesForExporter), "{d}");
        }
        let d = rules.check(Region::US, Region::AU, &vendor, today);
        assert_eq!(d.outcome, Err(Denial::NoRulesForExporter), "{d}");
        // From the EEA the same SCCs are a safeguard.
        for from in [Region::EU, r("DE")] {
            let d = rules.check(from, Region::US, &vendor, today);
            assert!(matches!(d.outcome, Ok(Basis::Sccs { .. })), "{d}");
        }
    }

    /// Found in review: a UK list's `EU` entry did not cover transfers to a
    /// member state (UK → `DE` denied though the UK finds the EU adequate).
    #[test]
    fn an_eu_entry_covers_the_member_states() {
        let today = day("2026-11-22");
        let vendor = Recipient::new("Vendor GmbH");
        let uk = AdequacyList::from_json(
            r#"{"version":1,"exporter":"UK","as_of":"2026-11-01","source":"test","countries":[
                {"region":"EU","name":"European Union","decision":"UK adequacy regulations"}]}"#,
        )
        .unwrap();
        let rules = TransferRules::new(vec![uk]);
        for to in [Region::EU, r("DE"), r("FR")] {
            let d = rules.check(Region::UK, to, &vendor, today);
            assert!(matches!(d.outcome, Ok(Basis::Adequacy { .. })), "{d}");
        }
        // Norway is in the EEA, not the EU: the entry says nothing of it.
        let d = rules.check(Region::UK, r("NO"), &vendor, today);
        assert_eq!(d.outcome, Err(Denial::NoSafeguard), "{d}");
    }

    fn safeguard(to: Region, instrument: TransferInstrument, tia: bool) -> SccRecord {
        SccRecord {
            recipient: "Vendor Inc".into(),
            destination: to,
            instrument,
            module: SccModule::C2P,
            signed: day("2026-03-01"),
            transfer_impact_assessment: tia,
        }
    }

    fn uk_list() -> AdequacyList {
        AdequacyList::from_json(
            r#"{"version":1,"exporter":"UK","as_of":"2026-11-01","source":"test","countries":[]}"#,
        )
        .unwrap()
    }

    /// Found in review: a UK exporter's own safeguard (the IDTA, the UK
    /// Addendum) could not be recorded, so UK → US or AU transfers under
    /// one were denied with no way to say so.
    #[test]
    fn uk_exporters_are_served_by_the_idta_or_the_addendum() {
        let today = day("2026-11-22");
        let vendor = Recipient::new("Vendor Inc");
        let lists = vec![AdequacyList::builtin().unwrap(), uk_list()];
        for instrument in [TransferInstrument::UkIdta, TransferInstrument::UkAddendum] {
            let rules = TransferRules::new(lists.clone())
                .with_sccs(safeguard(Region::US, instrument, true))
                .with_sccs(safeguard(Region::AU, instrument, true));
            for to in [Region::US, Region::AU] {
                let d = rules.check(Region::UK, to, &vendor, today);
                assert_eq!(
                    d.outcome,
                    Ok(Basis::Sccs {
                        instrument,
                        module: SccModule::C2P,
                        signed: day("2026-03-01"),
                    }),
                    "{d}"
                );
            }
            // Not a safeguard for an EEA exporter: the EU's rules deny.
            for from in [Region::EU, r("DE")] {
                let d = rules.check(from, Region::US, &vendor, today);
                assert_eq!(
                    d.outcome,
                    Err(Denial::InstrumentNotForExporter { instrument }),
                    "{d}"
                );
                assert!(!rules.check(from, Region::AU, &vendor, today).allowed());
            }
            // Nor for any other exporter.
            let d = rules.check(Region::AU, Region::US, &vendor, today);
            assert_eq!(d.outcome, Err(Denial::NoRulesForExporter), "{d}");
        }
        let idta = TransferRules::new(lists.clone()).with_sccs(safeguard(
            Region::US,
            TransferInstrument::UkIdta,
            true,
        ));
        let d = idta.check(Region::UK, Region::US, &vendor, today);
        assert!(
            d.to_string()
                .contains("allowed by the UK International Data Transfer Agreement"),
            "{d}"
        );
        let d = idta.check(Region::EU, Region::US, &vendor, today);
        assert!(
            d.to_string().contains(
                "the safeguard on file is the UK International Data Transfer Agreement, which is no safeguard for exports from EU"
            ),
            "{d}"
        );
        // The assessment is still required.
        let without = TransferRules::new(lists.clone()).with_sccs(safeguard(
            Region::US,
            TransferInstrument::UkIdta,
            false,
        ));
        let d = without.check(Region::UK, Region::US, &vendor, today);
        assert_eq!(d.outcome, Err(Denial::SccsWithoutAssessment), "{d}");
        // EU SCCs alone do not serve the UK exporter; with the IDTA beside
        // them, the IDTA does.
        let eu_only = TransferRules::new(lists.clone()).with_sccs(safeguard(
            Region::US,
            TransferInstrument::EuSccs,
            true,
        ));
        let d = eu_only.check(Region::UK, Region::US, &vendor, today);
        assert_eq!(
            d.outcome,
            Err(Denial::InstrumentNotForExporter {
                instrument: TransferInstrument::EuSccs
            }),
            "{d}"
        );
        let both =
            eu_only
                .clone()
                .with_sccs(safeguard(Region::US, TransferInstrument::UkIdta, true));
        let d = both.check(Region::UK, Region::US, &vendor, today);
        assert!(
            matches!(
                d.outcome,
                Ok(Basis::Sccs {
                    instrument: TransferInstrument::UkIdta,
                    ..
                })
            ),
            "{d}"
        );
        let d = both.check(Region::EU, Region::US, &vendor, today);
        assert!(
            matches!(
                d.outcome,
                Ok(Basis::Sccs {
                    instrument: TransferInstrument::EuSccs,
                    ..
                })
            ),
            "{d}"
        );
        // The safeguard stands without a UK list too (as the EU SCCs do
        // without the EU list).
        let d = TransferRules::new(Vec::new())
            .with_sccs(safeguard(Region::US, TransferInstrument::UkIdta, true))
            .check(Region::UK, Region::US, &vendor, today);
        assert!(d.allowed(), "{d}");
        // A record whose destination is `EU` covers the member states.
        let d = TransferRules::new(vec![uk_list()])
            .with_sccs(safeguard(Region::EU, TransferInstrument::UkIdta, true))
            .check(Region::UK, r("DE"), &vendor, today);
        assert!(d.allowed(), "{d}");
        let d = TransferRules::new(vec![uk_list()])
            .with_sccs(safeguard(r("DE"), TransferInstrument::UkIdta, true))
            .check(Region::UK, r("FR"), &vendor, today);
        assert_eq!(d.outcome, Err(Denial::NoSafeguard), "{d}");
    }

    #[test]
    fn instruments_serve_their_own_exporters() {
        for from in [Region::EU, r("DE"), r("NO"), r("IS"), r("LI")] {
            assert!(TransferInstrument::EuSccs.valid_for(from), "{from}");
            assert!(!TransferInstrument::UkIdta.valid_for(from), "{from}");
            assert!(!TransferInstrument::UkAddendum.valid_for(from), "{from}");
        }
        assert!(!TransferInstrument::EuSccs.valid_for(Region::UK));
        assert!(TransferInstrument::UkIdta.valid_for(Region::UK));
        assert!(TransferInstrument::UkAddendum.valid_for(r("GB")));
        for from in [Region::US, Region::AU, r("CH")] {
            assert!(!TransferInstrument::EuSccs.valid_for(from), "{from}");
            assert!(!TransferInstrument::UkIdta.valid_for(from), "{from}");
        }
    }

    /// A record written before instruments were named reads as before: EU SCCs.
    #[test]
    fn records_without_an_instrument_are_eu_sccs() {
        let old = r#"{"recipient":"Vendor Inc","destination":"US","module":"C2P",
                      "signed":"2026-03-01","transfer_impact_assessment":true}"#;
        let record = SccRecord::from_json(old).unwrap();
        assert_eq!(
            record,
            safeguard(Region::US, TransferInstrument::EuSccs, true)
        );
        assert_eq!(serde_json::from_str::<SccRecord>(old).unwrap(), record);
        for instrument in [
            TransferInstrument::EuSccs,
            TransferInstrument::UkIdta,
            TransferInstrument::UkAddendum,
        ] {
            let record = safeguard(Region::AU, instrument, false);
            let json = serde_json::to_string(&record).unwrap();
            assert_eq!(SccRecord::from_json(&json).unwrap(), record, "{json}");
        }
        let idta =
            SccRecord::from_json(&old.replace(r#""module""#, r#""instrument":"UkIdta","module""#))
                .unwrap();
        assert_eq!(idta.instrument, TransferInstrument::UkIdta);
        // A misspelt field or instrument is refused, never read as EU SCCs.
        for bad in [
            old.replace(r#""module""#, r#""instrumnet":"UkIdta","module""#),
            old.replace(r#""module""#, r#""instrument":"UK-IDTA","module""#),
            old.replace(r#""module":"C2P","#, ""),
            "[]".to_owned(),
        ] {
            let err = SccRecord::from_json(&bad).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::Json {
                        what: "SCC record",
                        ..
                    }
                ),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn sub_processor_locations_each_get_a_decision() {
        let rules = TransferRules::builtin().unwrap();
        let sub = SubProcessor {
            recipient: Recipient::new("Mail Co").certified("eu-us-dpf"),
            locations: vec![r("IE"), Region::US, Region::AU],
        };
        let decisions = rules.check_sub_processor(Region::EU, &sub, day("2026-11-22"));
        let allowed: Vec<bool> = decisions.iter().map(TransferDecision::allowed).collect();
        assert_eq!(allowed, [true, true, false]);
    }

    #[test]
    fn lists_are_data_and_overridable() {
        let json = BUILTIN_ADEQUACY_JSON.replace("\"as_of\": \"2026-11-01\"", "\"as_of\": \"2027-06-01\"")
            .replace("{ \"region\": \"JP\", \"name\": \"Japan\", \"decision\": \"Implementing Decision (EU) 2019/419\" },", "");
        let newer = AdequacyList::from_json(&json).unwrap();
        let rules = TransferRules::new(vec![AdequacyList::builtin().unwrap(), newer]);
        assert_eq!(rules.lists().len(), 1);
        assert_eq!(rules.lists()[0].as_of, day("2027-06-01"));
        assert!(
            !rules
                .check(Region::EU, r("JP"), &Recipient::new("x"), day("2027-07-01"))
                .allowed()
        );
    }

    #[test]
    fn malformed_lists_say_where() {
        let cases = [
            ("{", "line 1"),
            (
                &BUILTIN_ADEQUACY_JSON.replace("\"version\": 1", "\"version\": 9"),
                "unsupported version 9",
            ),
            (
                &BUILTIN_ADEQUACY_JSON.replace("\"region\": \"JP\"", "\"region\": \"XX\""),
                "invalid region",
            ),
            (
                &BUILTIN_ADEQUACY_JSON.replace("\"region\": \"JP\"", "\"region\": \"CH\""),
                "listed twice",
            ),
            (
                &BUILTIN_ADEQUACY_JSON.replace("\"region\": \"JP\"", "\"region\": \"FR\""),
                "exporter's own area",
            ),
            (
                &BUILTIN_ADEQUACY_JSON.replace("\"valid_until\"", "\"valid_untill\""),
                "unknown field",
            ),
        ];
        for (json, expected) in cases {
            let err = AdequacyList::from_json(json).unwrap_err();
            assert!(err.to_string().contains(expected), "{err} lacks {expected}");
            assert!(matches!(
                err,
                Error::InvalidData {
                    what: "adequacy list",
                    ..
                } | Error::Json {
                    what: "adequacy list",
                    ..
                }
            ));
        }
        assert!(matches!(
            AdequacyList::from_path("/nonexistent/adequacy.json"),
            Err(Error::Io { .. })
        ));
    }

    #[test]
    fn migration_plan_runs_in_order() {
        let rules = TransferRules::builtin().unwrap();
        let tenant = TenantId::from_external_key("t", "acme");
        let stores = [
            DataStore {
                name: "postgres".into(),
                region: Region::UK,
                backups: false,
            },
            DataStore {
                name: "attachments".into(),
                region: Region::UK,
                backups: false,
            },
            DataStore {
                name: "backups".into(),
                region: Region::UK,
                backups: true,
            },
            DataStore {
                name: "eu-search".into(),
                region: Region::EU,
                backups: false,
            },
        ];
        let provider = Recipient::new("our own EU data centre");
        // The UK has no list loaded here: exporting from it is denied by default...
        let denied = rules.check(Region::UK, Region::EU, &provider, day("2026-11-22"));
        assert!(RegionMigration::plan(tenant, Region::UK, Region::EU, &stores, &denied).is_err());
        // ...until a UK list is loaded that finds the EU adequate.
        let uk = AdequacyList::from_json(
            r#"{"version":1,"exporter":"UK","as_of":"2026-11-01","source":"test",
            "countries":[{"region":"EU","name":"EU","decision":"UK adequacy regulations"}]}"#,
        )
        .unwrap();
        let rules = TransferRules::new(vec![AdequacyList::builtin().unwrap(), uk]);
        let ok = rules.check(Region::UK, Region::EU, &provider, day("2026-11-22"));
        let mut plan = RegionMigration::plan(tenant, Region::UK, Region::EU, &stores, &ok).unwrap();
        assert_eq!(plan.steps().len(), 2 + 2 + 1 + 3);
        assert!(matches!(
            plan.steps()[4],
            MigrationStep::CutOver { to: Region::EU }
        ));
        assert!(
            plan.steps()
                .iter()
                .all(|s| !format!("{s:?}").contains("eu-search"))
        );
        assert!(matches!(
            plan.complete(1),
            Err(Error::Migration { step: 1, .. })
        ));
        for i in 0..5 {
            assert_eq!(plan.current_home(), Region::UK);
            assert_eq!(plan.next_step().unwrap().0, i);
            plan.complete(i).unwrap();
        }
        assert_eq!(plan.current_home(), Region::EU);
        assert!(plan.complete(0).is_err());
        while let Some((i, _)) = plan.next_step() {
            plan.complete(i).unwrap();
        }
        assert!(plan.is_finished());
        assert!(plan.complete(99).is_err());
    }
}
