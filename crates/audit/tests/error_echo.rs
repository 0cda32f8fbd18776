//! SECURITY.md, "What Custodia promises": "Errors do not leak data. Errors
//! echo at most a short prefix of rejected *structural* input ...; they never
//! carry record contents". An event line with a person's details in a field
//! of the wrong type must not come back whole in `Error::InvalidEvent` (what
//! `custodia audit append` prints), nor anywhere in its error chain.

use custodia_core::arbitrary::{echoed_piece, error_chain};
use custodia_core::chrono::{TimeZone, Utc};
use custodia_core::{MAX_ECHO, ManualClock};
use proptest::prelude::*;

const DETAILS: &str = "Alice Ng, born 1984-03-02, lives at 14 Harbour St Wellington; \
                       diagnosis: depression and anxiety, on sertraline";

fn line_with_target(target: &serde_json::Value) -> String {
    format!(
        r#"{{"tenant":"f40012db-2386-532a-bdec-3b6166f62532","actor":{{"kind":"agent","id":"4876e4c3-40a5-5255-beaa-3e06bd5ddcc8"}},"action":"create","target":{target},"outcome":"success"}}"#
    )
}

fn decode(line: &str) -> custodia_audit::Error {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
    custodia_audit::Event::from_json_line(line, &clock).unwrap_err()
}

#[test]
fn an_invalid_event_line_does_not_echo_more_than_a_short_prefix() {
    assert!(DETAILS.chars().count() > MAX_ECHO);
    let err = decode(&line_with_target(&serde_json::json!(DETAILS)));
    assert!(matches!(err, custodia_audit::Error::InvalidEvent(_)));
    let shown = error_chain(&err);
    assert!(
        !shown.contains("sertraline"),
        "the error carries the record's contents: {shown}"
    );
    // Still says what was wrong.
    assert!(shown.contains("invalid type: string \"Alice Ng"), "{shown}");
    assert!(shown.contains("expected struct Target"), "{shown}");
}

/// Text that JSON and `Debug` leave as it is (no `"`, `\\`, control or
/// unprintable characters), so an echo would show it verbatim.
const PRINTABLE: &str = "[ !#-\\[\\]-~éßü😀]{82,400}";

proptest! {
    #[test]
    fn a_mistyped_value_never_comes_back_longer_than_the_bound(value in PRINTABLE) {
        let shown = error_chain(&decode(&line_with_target(&serde_json::json!(value))));
        prop_assert!(echoed_piece(&value, &shown).is_none(), "{}", shown);
        prop_assert!(shown.contains("expected struct Target"), "{}", shown);
    }

    #[test]
    fn an_unknown_name_never_comes_back_longer_than_the_bound(name in PRINTABLE) {
        let line = line_with_target(&serde_json::json!({ "kind": "ticket" }))
            .replace(r#""action":"create""#, &format!(r#""action":{}"#, serde_json::json!(name)));
        let shown = error_chain(&decode(&line));
        prop_assert!(echoed_piece(&name, &shown).is_none(), "{}", shown);
    }

    #[test]
    fn any_line_gets_an_event_or_an_invalid_event(line in ".{0,400}") {
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
        if let Err(e) = custodia_audit::Event::from_json_line(&line, &clock) {
            prop_assert!(matches!(e, custodia_audit::Error::InvalidEvent(_)), "{}", e);
            // No quoted piece of the line longer than the bound.
            let shown = e.to_string();
            prop_assert_eq!(custodia_core::echo_quoted(&shown), shown);
        }
    }
}
