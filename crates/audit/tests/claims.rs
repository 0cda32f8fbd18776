//! SECURITY.md, "What Custodia promises": "Errors do not leak data. Errors
//! echo at most a short prefix of rejected *structural* input ...; they never
//! carry record contents". An event line with a person's details in a field
//! of the wrong type comes back whole in `Error::InvalidEvent`.

use custodia_core::chrono::{TimeZone, Utc};
use custodia_core::{MAX_ECHO, ManualClock};

#[test]
fn an_invalid_event_line_does_not_echo_more_than_a_short_prefix() {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
    let details = "Alice Ng, born 1984-03-02, lives at 14 Harbour St Wellington; \
                   diagnosis: depression and anxiety, on sertraline";
    assert!(details.chars().count() > MAX_ECHO);
    let line = format!(
        r#"{{"tenant":"f40012db-2386-532a-bdec-3b6166f62532","actor":{{"kind":"agent","id":"4876e4c3-40a5-5255-beaa-3e06bd5ddcc8"}},"action":"create","target":"{details}","outcome":"success"}}"#
    );
    let err = custodia_audit::Event::from_json_line(&line, &clock).unwrap_err();
    let shown = err.to_string();
    assert!(
        !shown.contains("sertraline"),
        "the error carries the record's contents: {shown}"
    );
}
