//! SECURITY.md, "Errors do not leak data": a tenant job whose payload holds a
//! person's details in a field of the wrong type must not come back whole in
//! `Error::Json`'s message nor anywhere in its `source()` chain.

use custodia_core::arbitrary::{echoed_piece, error_chain};
use custodia_core::{ActorId, Region, TenantId};
use custodia_tenant::residency::{AdequacyList, SccRecord};
use custodia_tenant::{Error, TenantContext, TenantJob};
use proptest::prelude::*;

const DETAILS: &str = "Alice Ng, born 1984-03-02, lives at 14 Harbour St Wellington; \
                       diagnosis: depression and anxiety, on sertraline";

/// What the worker expects; the queue holds the person's details where the
/// ticket's numbers belong.
#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct Payload {
    ticket: u64,
    attachments: Vec<u64>,
}

fn job_bytes(value: &str) -> Vec<u8> {
    let tenant = TenantId::from_external_key("helpdesk", "acme");
    let actor = ActorId::from_external_key(tenant, "agents", "7");
    let context = TenantContext::new(tenant, actor, Region::EU);
    serde_json::to_vec(&context.job(serde_json::json!({ "ticket": 7, "attachments": value })))
        .unwrap()
}

#[test]
fn a_mistyped_job_payload_does_not_echo_the_value() {
    let err = TenantJob::<Payload>::from_json(&job_bytes(DETAILS)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Json {
                what: "tenant job",
                ..
            }
        ),
        "{err}"
    );
    let shown = error_chain(&err);
    assert!(!shown.contains("sertraline"), "{shown}");
    assert!(
        shown.starts_with("invalid tenant job: invalid type: string \"Alice Ng")
            && shown.contains("expected a sequence at line 1 column"),
        "{shown}"
    );
}

/// Text that JSON and `Debug` leave as it is, so an echo shows it verbatim.
const PRINTABLE: &str = "[ !#-\\[\\]-~éßü😀]{82,400}";

proptest! {
    #[test]
    fn a_mistyped_value_never_comes_back_longer_than_the_bound(value in PRINTABLE) {
        let err = TenantJob::<Payload>::from_json(&job_bytes(&value)).unwrap_err();
        let shown = error_chain(&err);
        prop_assert!(echoed_piece(&value, &shown).is_none(), "{}", shown);
        prop_assert!(shown.contains("expected a sequence"), "{}", shown);
    }

    #[test]
    fn no_decoder_error_quotes_more_than_the_bound(
        text in prop_oneof![
            ".{0,300}",
            PRINTABLE.prop_map(|v| String::from_utf8(job_bytes(&v)).unwrap()),
            PRINTABLE.prop_map(|v| format!(r#"{{"version":1,"countries":{}}}"#, serde_json::json!(v))),
        ]
    ) {
        let errors = [
            TenantJob::<Payload>::from_json(text.as_bytes()).err(),
            AdequacyList::from_json(&text).err(),
            SccRecord::from_json(&text).err(),
        ];
        for error in errors.iter().flatten() {
            let shown = error_chain(error);
            prop_assert_eq!(custodia_core::echo_quoted(&shown), shown);
        }
    }
}
