//! `echo_quoted` and `echo_json_error`: a parser's message keeps its
//! structure but never carries a quoted value longer than `MAX_ECHO`
//! characters (SECURITY.md, "Errors do not leak data").

use custodia_core::arbitrary::echoed_piece;
use custodia_core::{echo_json_error, echo_quoted};
use proptest::prelude::*;

const DETAILS: &str = "Alice Ng, born 1984-03-02, lives at 14 Harbour St Wellington; \
                       diagnosis: depression and anxiety, on sertraline";

#[test]
fn a_wrong_typed_string_is_shortened_and_the_rest_kept() {
    let error = serde_json::from_str::<u32>(&format!("{DETAILS:?}")).unwrap_err();
    assert!(
        error.to_string().contains("sertraline"),
        "the parser echoes it whole"
    );
    let shown = echo_json_error(error).to_string();
    assert!(!shown.contains("sertraline"), "{shown}");
    assert!(
        shown.starts_with("invalid type: string \"Alice Ng, born"),
        "{shown}"
    );
    assert!(
        shown.ends_with("…\", expected u32 at line 1 column 112"),
        "{shown}"
    );
}

#[test]
fn an_unknown_field_name_is_shortened_even_with_backticks_in_it() {
    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Ticket {
        subject: String,
    }
    let name = format!("`, expected `x` {DETAILS}");
    let error =
        serde_json::from_str::<Ticket>(&format!("{{{}: 1}}", serde_json::json!(name))).unwrap_err();
    let shown = echo_json_error(error).to_string();
    assert!(!shown.contains("sertraline"), "{shown}");
    assert!(shown.starts_with("unknown field `"), "{shown}");
    assert!(
        shown.contains("…`, expected `subject` at line 1 column"),
        "{shown}"
    );
}

#[test]
fn a_chain_of_messages_keeps_each_line_apart() {
    let one = "unknown field `context`, expected one of `version`, `source` at line 1 column 22";
    let chain = format!("invalid list: {one}\n{one}");
    assert_eq!(echo_quoted(&chain), chain);
}

#[test]
fn syntax_errors_are_kept_as_they_are() {
    let error = serde_json::from_str::<u32>(DETAILS).unwrap_err();
    let position = (error.line(), error.column());
    let kept = echo_json_error(error);
    assert!(kept.is_syntax());
    assert_eq!((kept.line(), kept.column()), position);
}

#[test]
fn escapes_count_as_one_character_and_are_never_cut() {
    let value = "😀\n\"".repeat(60);
    let shown = echo_quoted(&format!("invalid type: string {value:?}, expected u8"));
    assert!(shown.contains("\\u{1f600}") || shown.contains('😀'));
    let quoted = shown
        .strip_prefix("invalid type: string \"")
        .and_then(|s| s.strip_suffix("…\", expected u8"))
        .unwrap();
    let expected = format!("{:?}", "😀\n\"".repeat(26) + "😀\n");
    assert_eq!(
        Some(quoted),
        expected.strip_prefix('"').and_then(|e| e.strip_suffix('"'))
    );
}

proptest! {
    #[test]
    fn never_panics_and_is_idempotent(message in ".{0,600}") {
        let once = echo_quoted(&message);
        prop_assert_eq!(echo_quoted(&once), once);
    }

    #[test]
    fn a_wrong_typed_value_never_comes_back_longer_than_the_bound(value in ".{82,600}") {
        let json = serde_json::json!({ "subject": value }).to_string();
        let error = serde_json::from_str::<std::collections::HashMap<String, u32>>(&json)
            .unwrap_err();
        let shown = echo_json_error(error).to_string();
        prop_assert!(echoed_piece(&value, &shown).is_none(), "{}", shown);
        prop_assert!(shown.contains("expected u32 at line 1 column"), "{}", shown);
    }

    #[test]
    fn an_unknown_name_never_comes_back_longer_than_the_bound(name in ".{82,600}") {
        let shown = echo_quoted(&format!(
            "unknown field `{name}`, expected `a` or `b` at line 1 column 9"
        ));
        prop_assert!(echoed_piece(&name, &shown).is_none(), "{}", shown);
        prop_assert!(shown.ends_with("`, expected `a` or `b` at line 1 column 9"), "{}", shown);
    }
}
