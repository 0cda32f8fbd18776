//! Records of processing activities (GDPR Art. 30(1) and 30(2)).
//!
//! A [`ProcessingRegistry`] holds the organisation ([`Organisation`]: name,
//! contact, representative, DPO) and its [`ProcessingActivity`] entries. Each
//! activity says in which [`Role`] it is carried out:
//!
//! * as **controller** (Art. 30(1)): purposes, categories of people and data,
//!   recipients, third-country transfers with their safeguard, retention,
//!   security measures;
//! * as **processor** (Art. 30(2)): each controller it acts for, the
//!   categories of processing, transfers, security measures.
//!
//! [`ProcessingRegistry::validate`] lists what Art. 30 requires and an entry
//! lacks; [`ProcessingRegistry::to_json`] and [`ProcessingRegistry::to_markdown`]
//! render it. A complete helpdesk registry ships as the `helpdesk_records`
//! example.
//!
//! ```
//! use custodia_core::{DataCategory, LegalBasis, Purpose, Role};
//! use custodia_dsr::records::{Organisation, ProcessingActivity, ProcessingRegistry};
//!
//! let registry = ProcessingRegistry::new(Organisation {
//!     name: "Deskly Pty Ltd".into(),
//!     contact: "privacy@deskly.example".into(),
//!     representative: None,
//!     dpo: None,
//! })
//! .activity(ProcessingActivity {
//!     name: "Customer billing".into(),
//!     role: Role::Controller,
//!     controllers: vec![],
//!     purposes: vec![Purpose::BILLING],
//!     legal_basis: Some(LegalBasis::Contract),
//!     subject_categories: vec!["account holders".into()],
//!     data_categories: vec![DataCategory::USER_FINANCIAL_BILLING],
//!     recipients: vec![],
//!     transfers: vec![],
//!     retention: "7 years (tax law)".into(),
//!     security_measures: vec![],
//! });
//! // Art. 30(1)(g): the security measures are missing.
//! let gaps = registry.validate();
//! assert_eq!(gaps.len(), 1);
//! assert!(gaps[0].missing.contains("Art. 30(1)(g)"));
//! assert!(registry.to_markdown().contains("Legal basis: contract (Art. 6(1)(b))"));
//! # Ok::<(), custodia_dsr::Error>(())
//! ```
//!
//! # Format (version 1)
//!
//! ```json
//! {
//!   "schema": "custodia.dsr.processing_records", "version": 1,
//!   "organisation": {"name": "Deskly Pty Ltd", "contact": "privacy@deskly.example",
//!                    "representative": null, "dpo": {"name": "DPO", "contact": "dpo@deskly.example"}},
//!   "activities": [{
//!     "name": "Ticket handling for subscribers", "role": "processor",
//!     "controllers": [{"name": "Each subscriber", "contact": "per contract", "tenant": null}],
//!     "purposes": ["support"], "legal_basis": null,
//!     "subject_categories": ["subscribers' end users"],
//!     "data_categories": ["user.contact.email", "user.content.ticket"],
//!     "recipients": [{"name": "Mailgun", "kind": "sub_processor", "region": "US"}],
//!     "transfers": [{"destination": "US", "recipient": "Mailgun",
//!                    "safeguard": {"type": "adequacy", "decision": "2023/1795 (EU-US DPF)"}}],
//!     "retention": "ticket data: life of the subscription + 30 days",
//!     "security_measures": ["AES-256-GCM field encryption"]
//!   }]
//! }
//! ```

use std::fmt::Write as _;

use custodia_core::{DataCategory, LegalBasis, Purpose, Region, Role};
use serde::{Deserialize, Serialize};

use crate::breach::Contact;
use crate::error::Error;
use crate::request::Party;

/// The schema name of processing registries.
pub const REGISTRY_SCHEMA: &str = "custodia.dsr.processing_records";

/// The organisation keeping the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    /// Legal name.
    pub name: String,
    /// Contact details.
    pub contact: String,
    /// EU representative (Art. 27), for organisations outside the EU.
    #[serde(default)]
    pub representative: Option<Contact>,
    /// Data protection officer, if designated.
    #[serde(default)]
    pub dpo: Option<Contact>,
}

/// Whether a recipient is an ordinary recipient or a sub-processor (Art. 28(2)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientKind {
    /// A recipient (Art. 4(9)).
    Recipient,
    /// A sub-processor engaged by the processor.
    SubProcessor,
}

/// Who receives the data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessingRecipient {
    /// Name or category.
    pub name: String,
    /// Recipient or sub-processor.
    pub kind: RecipientKind,
    /// Where it processes the data.
    pub region: Region,
}

/// The safeguard under which a transfer outside the EEA happens (Chapter V).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Safeguard {
    /// An adequacy decision (Art. 45).
    Adequacy {
        /// Which decision.
        decision: String,
    },
    /// Standard contractual clauses (Art. 46(2)(c), Decision 2021/914), with
    /// the transfer impact assessment.
    StandardContractualClauses {
        /// Module: `"C2C"`, `"C2P"`, `"P2P"` or `"P2C"`.
        module: String,
        /// Where the transfer impact assessment is filed.
        tia: String,
    },
    /// Binding corporate rules (Art. 47).
    BindingCorporateRules,
    /// A derogation for a specific situation (Art. 49).
    Derogation {
        /// Which one and why.
        detail: String,
    },
}

impl Safeguard {
    /// The safeguard in words.
    pub fn describe(&self) -> String {
        match self {
            Safeguard::Adequacy { decision } => format!("adequacy decision {decision}"),
            Safeguard::StandardContractualClauses { module, tia } => {
                format!("standard contractual clauses, module {module}; TIA: {tia}")
            }
            Safeguard::BindingCorporateRules => "binding corporate rules".into(),
            Safeguard::Derogation { detail } => format!("Art. 49 derogation: {detail}"),
        }
    }
}

/// A transfer to a third country.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// The destination.
    pub destination: Region,
    /// Who receives it there.
    pub recipient: String,
    /// Under which safeguard.
    pub safeguard: Safeguard,
}

/// One processing activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessingActivity {
    /// A short name.
    pub name: String,
    /// Controller (Art. 30(1)) or processor (Art. 30(2)).
    pub role: Role,
    /// For processors: the controllers acted for.
    #[serde(default)]
    pub controllers: Vec<Party>,
    /// Purposes (for processors: the categories of processing).
    pub purposes: Vec<Purpose>,
    /// The legal basis (controllers).
    #[serde(default)]
    pub legal_basis: Option<LegalBasis>,
    /// Categories of people.
    pub subject_categories: Vec<String>,
    /// Categories of personal data.
    pub data_categories: Vec<DataCategory>,
    /// Recipients and sub-processors.
    #[serde(default)]
    pub recipients: Vec<ProcessingRecipient>,
    /// Transfers to third countries.
    #[serde(default)]
    pub transfers: Vec<Transfer>,
    /// Envisaged time limits for erasure.
    pub retention: String,
    /// Technical and organisational security measures (Art. 32(1)).
    pub security_measures: Vec<String>,
}

/// A gap in a registry: what Art. 30 requires and an activity lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// The activity's name (empty for the organisation).
    pub activity: String,
    /// What is missing, with its article.
    pub missing: &'static str,
}

/// The record of processing activities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessingRegistry {
    /// Always [`REGISTRY_SCHEMA`].
    pub schema: String,
    /// Format version ([`ProcessingRegistry::VERSION`]).
    pub version: u32,
    /// Who keeps it.
    pub organisation: Organisation,
    /// The activities.
    pub activities: Vec<ProcessingActivity>,
}

impl ProcessingRegistry {
    /// The format version this build writes and reads.
    pub const VERSION: u32 = 1;

    /// An empty registry for `organisation`.
    pub fn new(organisation: Organisation) -> Self {
        Self {
            schema: REGISTRY_SCHEMA.to_owned(),
            version: Self::VERSION,
            organisation,
            activities: Vec::new(),
        }
    }

    /// Adds an activity.
    pub fn activity(mut self, activity: ProcessingActivity) -> Self {
        self.activities.push(activity);
        self
    }

    /// The activities in `role`.
    pub fn in_role(&self, role: Role) -> impl Iterator<Item = &ProcessingActivity> {
        self.activities.iter().filter(move |a| a.role == role)
    }

    /// The recipients of every activity covering any of `categories` (one
    /// within the other, either way round), as `name (region)`, sorted and
    /// without repeats: whom to tell of a rectification, erasure or
    /// restriction (Art. 19).
    pub fn recipients_for<'a>(
        &self,
        categories: impl IntoIterator<Item = &'a DataCategory> + Clone,
    ) -> Vec<String> {
        let mut out = std::collections::BTreeSet::new();
        for a in &self.activities {
            let covers = a.data_categories.iter().any(|covered| {
                categories
                    .clone()
                    .into_iter()
                    .any(|c| c.is_within(covered) || covered.is_within(c))
            });
            if covers {
                out.extend(
                    a.recipients
                        .iter()
                        .map(|r| format!("{} ({})", r.name, r.region)),
                );
            }
        }
        out.into_iter().collect()
    }

    /// What Art. 30 requires and the registry lacks; empty when complete.
    pub fn validate(&self) -> Vec<Gap> {
        let mut gaps = Vec::new();
        let mut gap = |activity: &str, missing| {
            gaps.push(Gap {
                activity: activity.to_owned(),
                missing,
            })
        };
        if self.organisation.name.trim().is_empty() || self.organisation.contact.trim().is_empty() {
            gap("", "name and contact details (Art. 30(1)(a), 30(2)(a))");
        }
        for a in &self.activities {
            if a.purposes.is_empty() {
                gap(
                    &a.name,
                    "purposes or categories of processing (Art. 30(1)(b), 30(2)(b))",
                );
            }
            if a.security_measures.is_empty() {
                gap(&a.name, "security measures (Art. 30(1)(g), 30(2)(d))");
            }
            for t in &a.transfers {
                if let Safeguard::StandardContractualClauses { tia, .. } = &t.safeguard
                    && tia.trim().is_empty()
                {
                    gap(
                        &a.name,
                        "transfer impact assessment for SCC transfer (Art. 46, Schrems II)",
                    );
                }
            }
            for r in &a.recipients {
                if !r.region.is_eea() && !a.transfers.iter().any(|t| t.destination == r.region) {
                    gap(
                        &a.name,
                        "a transfer and safeguard for a recipient outside the EEA (Art. 30(1)(e), 30(2)(c))",
                    );
                }
            }
            match a.role {
                Role::Controller => {
                    if a.legal_basis.is_none() {
                        gap(
                            &a.name,
                            "legal basis (Art. 6(1), documented with the purposes)",
                        );
                    }
                    if a.subject_categories.is_empty() || a.data_categories.is_empty() {
                        gap(
                            &a.name,
                            "categories of data subjects and personal data (Art. 30(1)(c))",
                        );
                    }
                    if a.retention.trim().is_empty() {
                        gap(&a.name, "time limits for erasure (Art. 30(1)(f))");
                    }
                }
                Role::Processor => {
                    if a.controllers.is_empty() {
                        gap(&a.name, "each controller acted for (Art. 30(2)(a))");
                    }
                }
            }
        }
        gaps
    }

    /// The registry as pretty JSON (format above).
    pub fn to_json(&self) -> Result<String, Error> {
        crate::json::encode(self, "processing registry")
    }

    /// Reads a registry, checking its version.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let doc: Self = crate::json::decode_versioned(text, "processing registry", Self::VERSION)?;
        crate::json::check_schema(&doc.schema, REGISTRY_SCHEMA, "processing registry")?;
        Ok(doc)
    }

    /// The registry as Markdown, controller activities (Art. 30(1)) first.
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let o = &self.organisation;
        let _ = writeln!(md, "# Record of processing activities: {}\n", o.name);
        let _ = writeln!(md, "- Contact: {}", o.contact);
        if let Some(r) = &o.representative {
            let _ = writeln!(md, "- EU representative: {} ({})", r.name, r.contact);
        }
        if let Some(d) = &o.dpo {
            let _ = writeln!(md, "- Data protection officer: {} ({})", d.name, d.contact);
        }
        for (role, title) in [
            (Role::Controller, "As controller (Art. 30(1))"),
            (Role::Processor, "As processor (Art. 30(2))"),
        ] {
            let activities: Vec<_> = self.in_role(role).collect();
            if activities.is_empty() {
                continue;
            }
            let _ = writeln!(md, "\n## {title}");
            for a in activities {
                let _ = writeln!(md, "\n### {}\n", a.name);
                if !a.controllers.is_empty() {
                    let names: Vec<String> = a
                        .controllers
                        .iter()
                        .map(|c| format!("{} ({})", c.name, c.contact))
                        .collect();
                    let _ = writeln!(md, "- Controllers: {}", names.join("; "));
                }
                let purposes: Vec<&str> = a.purposes.iter().map(Purpose::as_str).collect();
                let _ = writeln!(md, "- Purposes: {}", purposes.join(", "));
                if let Some(basis) = a.legal_basis {
                    let _ = writeln!(md, "- Legal basis: {basis} ({})", basis.article());
                }
                let _ = writeln!(md, "- Data subjects: {}", a.subject_categories.join(", "));
                let data: Vec<&str> = a.data_categories.iter().map(DataCategory::as_str).collect();
                let _ = writeln!(md, "- Personal data: {}", data.join(", "));
                if !a.recipients.is_empty() {
                    let list: Vec<String> = a
                        .recipients
                        .iter()
                        .map(|r| {
                            let kind = match r.kind {
                                RecipientKind::Recipient => "recipient",
                                RecipientKind::SubProcessor => "sub-processor",
                            };
                            format!("{} ({kind}, {})", r.name, r.region)
                        })
                        .collect();
                    let _ = writeln!(md, "- Recipients: {}", list.join("; "));
                }
                for t in &a.transfers {
                    let safeguard = t.safeguard.describe();
                    let _ = writeln!(
                        md,
                        "- Transfer to {} ({}): {safeguard}",
                        t.destination, t.recipient
                    );
                }
                let _ = writeln!(md, "- Retention: {}", a.retention);
                let _ = writeln!(
                    md,
                    "- Security measures: {}",
                    a.security_measures.join("; ")
                );
            }
        }
        md
    }
}
