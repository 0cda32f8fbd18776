//! SECURITY.md, "Errors do not leak data": a document (request, export
//! bundle, certificate, registry, incident) with a person's details in a
//! field of the wrong type must not come back whole in the decode error's
//! message nor anywhere in its `source()` chain.

use custodia_core::arbitrary::{echoed_piece, error_chain};
use custodia_dsr::breach::Incident;
use custodia_dsr::records::ProcessingRegistry;
use custodia_dsr::{ErasureCertificate, Error, ExportBundle, Request};
use proptest::prelude::*;

const DETAILS: &str = "Alice Ng, born 1984-03-02, lives at 14 Harbour St Wellington; \
                       diagnosis: depression and anxiety, on sertraline";

fn request_with_extension(value: &str) -> String {
    serde_json::json!({ "version": Request::VERSION, "extension": value }).to_string()
}

#[test]
fn a_mistyped_request_field_does_not_echo_the_value() {
    let err = Request::from_json(&request_with_extension(DETAILS)).unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
    let shown = error_chain(&err);
    assert!(!shown.contains("sertraline"), "{shown}");
    assert!(
        shown.contains("invalid type: string \"Alice Ng") && shown.contains("expected struct"),
        "{shown}"
    );
}

#[test]
fn a_mistyped_bundle_field_does_not_echo_the_value() {
    let text = serde_json::json!({ "version": ExportBundle::VERSION, "records": [DETAILS] });
    let err = ExportBundle::from_json(&text.to_string()).unwrap_err();
    let shown = error_chain(&err);
    assert!(!shown.contains("sertraline"), "{shown}");
    assert!(shown.starts_with("invalid export bundle: "), "{shown}");
}

/// Text that JSON and `Debug` leave as it is, so an echo shows it verbatim.
const PRINTABLE: &str = "[ !#-\\[\\]-~éßü😀]{82,400}";

proptest! {
    #[test]
    fn a_mistyped_value_never_comes_back_longer_than_the_bound(value in PRINTABLE) {
        let err = Request::from_json(&request_with_extension(&value)).unwrap_err();
        let shown = error_chain(&err);
        prop_assert!(echoed_piece(&value, &shown).is_none(), "{}", shown);
        prop_assert!(shown.contains("expected struct"), "{}", shown);
    }

    #[test]
    fn no_decoder_error_quotes_more_than_the_bound(
        text in prop_oneof![
            ".{0,300}",
            PRINTABLE.prop_map(|v| request_with_extension(&v)),
            PRINTABLE.prop_map(|v| format!(r#"{{"version":1,"schema":{}}}"#, serde_json::json!(v))),
        ]
    ) {
        let errors = [
            Request::from_json(&text).err(),
            ExportBundle::from_json(&text).err(),
            ErasureCertificate::from_json(&text).err(),
            ProcessingRegistry::from_json(&text).err(),
            Incident::from_json(&text).err(),
        ];
        for error in errors.iter().flatten() {
            let shown = error_chain(error);
            prop_assert_eq!(custodia_core::echo_quoted(&shown), shown);
        }
    }
}
