//! The record of processing activities (GDPR Art. 30) a helpdesk vendor keeps:
//! an MSP service-desk portal hosted in Australia, controller of its own
//! customer and billing data, processor of each subscriber's end users' tickets.
//!
//! `cargo run -p custodia-dsr --example helpdesk_records` prints it as Markdown;
//! add `-- --json` for the JSON form.

use custodia_core::{DataCategory, LegalBasis, Purpose, Region, Role};
use custodia_dsr::Party;
use custodia_dsr::breach::Contact;
use custodia_dsr::records::{
    Organisation, ProcessingActivity, ProcessingRecipient, ProcessingRegistry, RecipientKind,
    Safeguard, Transfer,
};

fn region(code: &str) -> Region {
    code.parse().unwrap_or(Region::EU)
}

/// The registry.
pub fn registry() -> ProcessingRegistry {
    let security = vec![
        "AES-256-GCM field encryption of contact and ticket fields, per-tenant keys (custodia-crypt)".to_owned(),
        "Per-person keys for audit trails and backups; crypto-shredding on erasure".to_owned(),
        "PostgreSQL row-level security per tenant; role-based access with field permissions".to_owned(),
        "PII masked before ticket text reaches logs or the AI triage model".to_owned(),
        "Tamper-evident audit log of every view, change, export and deletion".to_owned(),
        "TLS 1.2+ in transit; MFA for agents and staff; daily encrypted backups kept 30 days".to_owned(),
    ];
    let purpose = |p: &str| Purpose::new(p.to_owned()).unwrap_or(Purpose::SUPPORT);
    let mailer = ProcessingRecipient {
        name: "Transactional email provider".into(),
        kind: RecipientKind::SubProcessor,
        region: Region::US,
    };
    let mailer_transfer = Transfer {
        destination: Region::US,
        recipient: mailer.name.clone(),
        safeguard: Safeguard::Adequacy {
            decision: "Commission Implementing Decision (EU) 2023/1795 (EU-US Data Privacy Framework; provider certified)".into(),
        },
    };
    let hosting = ProcessingRecipient {
        name: "Cloud hosting (Sydney region)".into(),
        kind: RecipientKind::SubProcessor,
        region: Region::AU,
    };
    let hosting_transfer = Transfer {
        destination: Region::AU,
        recipient: hosting.name.clone(),
        safeguard: Safeguard::StandardContractualClauses {
            module: "P2P".into(),
            tia: "TIA-2026-03, filed with the DPA register".into(),
        },
    };
    ProcessingRegistry::new(Organisation {
        name: "Deskly Pty Ltd".into(),
        contact: "privacy@deskly.example, Level 5, 1 George St, Sydney NSW 2000".into(),
        representative: Some(Contact {
            name: "Deskly EU Representative Ltd (Art. 27)".into(),
            contact: "eu-rep@deskly.example, Dublin".into(),
        }),
        dpo: Some(Contact {
            name: "Data Protection Officer".into(),
            contact: "dpo@deskly.example".into(),
        }),
    })
    .activity(ProcessingActivity {
        name: "Service desk for subscribers' end users".into(),
        role: Role::Processor,
        controllers: vec![Party {
            name: "Each subscribing organisation (list kept in the billing system, per DPA)".into(),
            contact: "the subscriber's account holder of record".into(),
            tenant: None,
        }],
        purposes: vec![Purpose::SUPPORT, Purpose::AI_ASSISTANCE, purpose("sla_reporting")],
        legal_basis: None,
        subject_categories: vec!["subscribers' end users and contacts".into(), "subscribers' agents".into()],
        data_categories: vec![
            DataCategory::USER_NAME,
            DataCategory::USER_CONTACT_EMAIL,
            DataCategory::USER_CONTACT_PHONE,
            DataCategory::USER_CONTENT_TICKET,
            DataCategory::USER_CONTENT_ATTACHMENT,
            DataCategory::USER_CONTENT_CHAT,
            DataCategory::USER_DEVICE_IP_ADDRESS,
        ],
        recipients: vec![hosting.clone(), mailer.clone()],
        transfers: vec![hosting_transfer.clone(), mailer_transfer.clone()],
        retention: "As instructed by each subscriber; by default for the subscription, deleted 30 days after it ends; backups expire 30 days later".into(),
        security_measures: security.clone(),
    })
    .activity(ProcessingActivity {
        name: "Customer accounts and billing".into(),
        role: Role::Controller,
        controllers: Vec::new(),
        purposes: vec![Purpose::BILLING],
        legal_basis: Some(LegalBasis::Contract),
        subject_categories: vec!["subscribers' account holders and billing contacts".into()],
        data_categories: vec![
            DataCategory::USER_NAME,
            DataCategory::USER_CONTACT_EMAIL,
            DataCategory::USER_CONTACT_ADDRESS,
            DataCategory::USER_FINANCIAL_BILLING,
        ],
        recipients: vec![
            hosting.clone(),
            ProcessingRecipient {
                name: "Payment processor".into(),
                kind: RecipientKind::Recipient,
                region: region("IE"),
            },
        ],
        transfers: vec![hosting_transfer.clone()],
        retention: "Invoices 7 years after the financial year (tax law, Art. 17(3)(b)); account data 30 days after the contract ends".into(),
        security_measures: security.clone(),
    })
    .activity(ProcessingActivity {
        name: "Security monitoring and audit of the platform".into(),
        role: Role::Controller,
        controllers: Vec::new(),
        purposes: vec![Purpose::SECURITY],
        legal_basis: Some(LegalBasis::LegitimateInterests),
        subject_categories: vec!["agents".into(), "end users".into(), "staff".into()],
        data_categories: vec![
            DataCategory::USER_DEVICE_IP_ADDRESS,
            DataCategory::USER_DEVICE_USER_AGENT,
            DataCategory::USER_ACCOUNT_USERNAME,
        ],
        recipients: vec![hosting],
        transfers: vec![hosting_transfer],
        retention: "Audit records 1 year; personal fields sealed per person and shredded on erasure".into(),
        security_measures: security,
    })
    .activity(ProcessingActivity {
        name: "Product newsletters".into(),
        role: Role::Controller,
        controllers: Vec::new(),
        purposes: vec![Purpose::MARKETING],
        legal_basis: Some(LegalBasis::Consent),
        subject_categories: vec!["account holders who opted in".into()],
        data_categories: vec![DataCategory::USER_NAME, DataCategory::USER_CONTACT_EMAIL],
        recipients: vec![mailer],
        transfers: vec![mailer_transfer],
        retention: "Until consent is withdrawn (objection is absolute, Art. 21(3))".into(),
        security_measures: vec!["Access limited to the marketing team; MFA".into()],
    })
}

#[allow(dead_code)]
fn main() {
    let registry = registry();
    let gaps = registry.validate();
    if !gaps.is_empty() {
        eprintln!("incomplete record: {gaps:?}");
        std::process::exit(1);
    }
    if std::env::args().any(|a| a == "--json") {
        match registry.to_json() {
            Ok(json) => println!("{json}"),
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        }
    } else {
        print!("{}", registry.to_markdown());
    }
}
