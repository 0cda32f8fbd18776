//! SECURITY.md, "Errors do not leak data": a record line (or a policy) with
//! a person's details in a field of the wrong type must not come back whole in
//! the error's message nor anywhere in its `source()` chain (what anyhow's
//! `{:#}` or a tracing error chain prints).

use custodia_core::arbitrary::{echoed_piece, error_chain};
use custodia_retention::{Error, Problem, RetentionPolicy, RetentionRecord};
use proptest::prelude::*;

const DETAILS: &str = "Alice Ng, born 1984-03-02, lives at 14 Harbour St Wellington; \
                       diagnosis: depression and anxiety, on sertraline";

fn record_with_labels(value: &str) -> String {
    serde_json::json!({
        "id": "r-1",
        "tenant": "f40012db-2386-532a-bdec-3b6166f62532",
        "category": "user.content.ticket",
        "created_at": "2026-01-31T12:00:00Z",
        "labels": value,
    })
    .to_string()
}

#[test]
fn a_mistyped_record_field_is_not_in_the_message_nor_the_source() {
    let err = RetentionRecord::from_json(&record_with_labels(DETAILS)).unwrap_err();
    assert!(matches!(err, Error::Record(_)), "{err}");
    let shown = error_chain(&err);
    assert!(!shown.contains("sertraline"), "{shown}");
    // Says what and where, not just the first 80 characters.
    assert!(
        shown.starts_with("invalid record: invalid type: string \"Alice Ng"),
        "{shown}"
    );
    assert!(
        shown.contains("\", expected a map at line 1 column"),
        "{shown}"
    );
}

#[test]
fn a_mistyped_policy_value_is_not_in_the_message_nor_the_source() {
    let toml = format!("version = {}\n", serde_json::json!(DETAILS));
    let json = format!("{{\"version\": {}}}", serde_json::json!(DETAILS));
    for err in [
        RetentionPolicy::from_toml(&toml, "p.toml").unwrap_err(),
        RetentionPolicy::from_json(&json, "p.json").unwrap_err(),
    ] {
        let shown = error_chain(&err);
        assert!(!shown.contains("sertraline"), "{shown}");
        assert!(shown.contains("invalid type: string \"Alice Ng"), "{shown}");
    }
}

/// Text that JSON and `Debug` leave as it is, so an echo shows it verbatim.
const PRINTABLE: &str = "[ !#-\\[\\]-~éßü😀]{82,400}";

proptest! {
    #[test]
    fn a_mistyped_record_value_never_comes_back_longer_than_the_bound(value in PRINTABLE) {
        let err = RetentionRecord::from_json(&record_with_labels(&value)).unwrap_err();
        let shown = error_chain(&err);
        prop_assert!(echoed_piece(&value, &shown).is_none(), "{}", shown);
        prop_assert!(shown.contains("expected a map at line 1 column"), "{}", shown);
    }

    #[test]
    fn a_mistyped_policy_value_never_comes_back_longer_than_the_bound(value in PRINTABLE) {
        let quoted = serde_json::json!(value);
        for err in [
            RetentionPolicy::from_toml(&format!("version = {quoted}\n"), "p.toml"),
            RetentionPolicy::from_json(&format!("{{\"version\": {quoted}}}"), "p.json"),
            RetentionPolicy::from_json(&format!("{{\"version\": 1, \"rules\": {quoted}}}"), "p.json"),
        ]
        .into_iter()
        .filter_map(Result::err)
        {
            let shown = error_chain(&err);
            prop_assert!(echoed_piece(&value, &shown).is_none(), "{}", shown);
        }
    }

    #[test]
    fn no_record_error_quotes_more_than_the_bound(line in ".{0,300}") {
        if let Err(err) = RetentionRecord::from_json(&line) {
            let shown = error_chain(&err);
            prop_assert_eq!(custodia_core::echo_quoted(&shown), shown);
        }
    }

    #[test]
    fn no_policy_syntax_error_quotes_more_than_the_bound(
        text in prop_oneof![
            ".{0,300}",
            PRINTABLE.prop_map(|v| format!("version = 1\n[[rules]]\nname = {}\n", serde_json::json!(v))),
            PRINTABLE.prop_map(|v| format!("version = 1\n{} = 1\n", serde_json::json!(v))),
        ]
    ) {
        for err in [
            RetentionPolicy::from_toml(&text, "p.toml"),
            RetentionPolicy::from_json(&text, "p.json"),
        ]
        .into_iter()
        .filter_map(Result::err)
        {
            if let Error::Policy { problem: problem @ Problem::Syntax { .. }, .. } = &err {
                let shown = error_chain(problem);
                prop_assert_eq!(custodia_core::echo_quoted(&shown), shown);
            }
        }
    }
}
