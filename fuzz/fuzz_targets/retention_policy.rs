//! The retention policy parser (TOML and JSON), periods and record lines on
//! arbitrary bytes: a value or a typed, located error, never a panic; a policy
//! that parses evaluates a record without panicking; a parser's error quotes
//! no more than `MAX_ECHO` characters of any value.

#![no_main]

use custodia_core::chrono::{TimeZone, Utc};
use custodia_core::{DataCategory, TenantId};
use custodia_retention::{Error, Period, Problem, RetentionPolicy, RetentionRecord};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let record = RetentionRecord::new(
        "r-1",
        TenantId::from_external_key("fuzz", "t"),
        DataCategory::USER_CONTENT_TICKET,
        Utc.with_ymd_and_hms(2026, 1, 31, 12, 0, 0).unwrap(),
    )
    .with_event(
        "closed",
        Utc.with_ymd_and_hms(2026, 2, 28, 0, 0, 0).unwrap(),
    );
    for parsed in [
        RetentionPolicy::from_toml(text, "fuzz.toml"),
        RetentionPolicy::from_json(text, "fuzz.json"),
    ] {
        match parsed {
            Ok(policy) => {
                let _ =
                    policy.evaluate(&record, Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap());
                let _ = policy.erasure_complete(record.created);
            }
            Err(e) => {
                assert!(e.location().is_some(), "unlocated policy error: {e}");
                // A parser's complaint quotes no more than `MAX_ECHO`
                // characters of any value, in the message or the source.
                if let Error::Policy {
                    problem: problem @ Problem::Syntax { .. },
                    ..
                } = &e
                {
                    let mut shown = problem.to_string();
                    if let Some(source) = std::error::Error::source(problem) {
                        shown = format!("{shown}\n{source}");
                    }
                    assert_eq!(custodia_core::echo_quoted(&shown), shown);
                }
            }
        }
    }
    if let Ok(period) = text.parse::<Period>() {
        assert_eq!(period.to_string().parse::<Period>().ok(), Some(period));
        let _ = period.after(record.created);
    }
    if let Err(e) = RetentionRecord::from_json(text) {
        let shown = e.to_string();
        assert_eq!(custodia_core::echo_quoted(&shown), shown);
    }
});
