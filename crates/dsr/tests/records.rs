//! The Art. 30 registry: the shipped helpdesk example is complete, gaps are
//! found, and both renderings carry every required item.

#[path = "../examples/helpdesk_records.rs"]
mod example;

use custodia_core::{DataCategory, Purpose, Region, Role};
use custodia_dsr::Error;
use custodia_dsr::records::{
    Organisation, ProcessingActivity, ProcessingRecipient, ProcessingRegistry, RecipientKind,
    Safeguard, Transfer,
};

#[test]
fn the_helpdesk_example_is_complete_and_renders_every_item() {
    let registry = example::registry();
    assert_eq!(registry.validate(), []);
    assert_eq!(registry.in_role(Role::Processor).count(), 1);
    assert_eq!(registry.in_role(Role::Controller).count(), 3);
    let md = registry.to_markdown();
    for needle in [
        "# Record of processing activities: Deskly Pty Ltd",
        "## As controller (Art. 30(1))",
        "## As processor (Art. 30(2))",
        "Data protection officer",
        "EU representative",
        "Legal basis: contract (Art. 6(1)(b))",
        "user.content.ticket",
        "sub-processor, US",
        "adequacy decision Commission Implementing Decision (EU) 2023/1795",
        "standard contractual clauses, module P2P",
        "Invoices 7 years",
        "Security measures: AES-256-GCM",
        "Controllers: Each subscribing organisation",
    ] {
        assert!(md.contains(needle), "{needle:?} missing from\n{md}");
    }
    // Controller activities come first.
    assert!(md.find("Art. 30(1)").unwrap() < md.find("Art. 30(2)").unwrap());
    let json = registry.to_json().unwrap();
    assert_eq!(ProcessingRegistry::from_json(&json).unwrap(), registry);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["schema"], "custodia.dsr.processing_records");
    assert_eq!(value["version"], 1);
    assert_eq!(
        value["activities"][0]["transfers"][1]["safeguard"]["type"],
        "adequacy"
    );
}

#[test]
fn gaps_name_the_activity_and_the_article() {
    let registry = ProcessingRegistry::new(Organisation {
        name: "X".into(),
        contact: "x@example.com".into(),
        representative: None,
        dpo: None,
    })
    .activity(ProcessingActivity {
        name: "tickets".into(),
        role: Role::Processor,
        controllers: vec![],
        purposes: vec![Purpose::SUPPORT],
        legal_basis: None,
        subject_categories: vec![],
        data_categories: vec![DataCategory::USER_CONTENT_TICKET],
        recipients: vec![ProcessingRecipient {
            name: "AI vendor".into(),
            kind: RecipientKind::SubProcessor,
            region: Region::US,
        }],
        transfers: vec![Transfer {
            destination: Region::AU,
            recipient: "host".into(),
            safeguard: Safeguard::StandardContractualClauses {
                module: "P2P".into(),
                tia: " ".into(),
            },
        }],
        retention: String::new(),
        security_measures: vec![],
    })
    .activity(ProcessingActivity {
        name: "billing".into(),
        role: Role::Controller,
        controllers: vec![],
        purposes: vec![],
        legal_basis: None,
        subject_categories: vec![],
        data_categories: vec![],
        recipients: vec![],
        transfers: vec![],
        retention: String::new(),
        security_measures: vec!["x".into()],
    });
    let gaps: Vec<(String, &str)> = registry
        .validate()
        .into_iter()
        .map(|g| (g.activity, g.missing))
        .collect();
    let has = |activity: &str, article: &str| {
        gaps.iter()
            .any(|(a, m)| a == activity && m.contains(article))
    };
    assert!(has("tickets", "Art. 30(2)(a)"), "{gaps:?}");
    assert!(has("tickets", "Art. 30(1)(g)"), "{gaps:?}");
    assert!(has("tickets", "Art. 30(1)(e)"), "{gaps:?}"); // US recipient without a transfer
    assert!(has("tickets", "transfer impact assessment"), "{gaps:?}");
    assert!(has("billing", "Art. 30(1)(b)"), "{gaps:?}");
    assert!(has("billing", "Art. 6(1)"), "{gaps:?}");
    assert!(has("billing", "Art. 30(1)(c)"), "{gaps:?}");
    assert!(has("billing", "Art. 30(1)(f)"), "{gaps:?}");
    assert!(!has("billing", "security"), "{gaps:?}");
}

#[test]
fn newer_registries_are_refused_by_version() {
    let json =
        example::registry()
            .to_json()
            .unwrap()
            .replacen("\"version\": 1", "\"version\": 2", 1);
    assert_eq!(
        ProcessingRegistry::from_json(&json),
        Err(Error::UnsupportedVersion {
            what: "processing registry",
            found: 2,
            supported: 1
        })
    );
}
