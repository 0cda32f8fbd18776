//! The canonical audit-event decoder, the JSON-lines event decoder (what
//! `custodia audit append` reads) and the checkpoint note parser on arbitrary
//! bytes: typed errors, never a panic; whatever decodes re-encodes to the
//! same bytes, the one-pass check names the personal value decoding finds
//! not sealed (clear, or labelled sealed but not an envelope under the
//! labelled subject's key), a JSON line that decodes is a valid event, and
//! one that does not quotes no more than `MAX_ECHO` characters of any value.

#![no_main]

use custodia_audit::{Error, Event, canonical, checkpoint};
use custodia_core::ManualClock;
use custodia_core::chrono::DateTime;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let decoded = canonical::decode(data);
    assert_eq!(canonical::check(data).is_ok(), decoded.is_ok());
    // The one-pass clear-value check `append_encoded` runs agrees with the
    // decoded event's.
    assert_eq!(
        canonical::first_clear_field(data).ok(),
        decoded
            .as_ref()
            .ok()
            .map(custodia_audit::personal::first_clear_field)
    );
    if let Ok(event) = decoded {
        assert_eq!(canonical::encode(&event), data);
        // `append_encoded` relies on it: what decodes is a valid event.
        assert!(event.validate().is_ok());
        // `require_sealed` refuses exactly the events with a value that is
        // not sealed under its labelled subject's key.
        assert_eq!(
            custodia_audit::personal::first_clear_field(&event).is_none(),
            event.personal_values().all(custodia_audit::Personal::is_sealed)
        );
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = checkpoint::parse_unverified(text);
        let _ = checkpoint::Verifier::from_key_string(text);
        let clock = ManualClock::new(DateTime::UNIX_EPOCH);
        match Event::from_json_line(text, &clock) {
            Ok(event) => {
                assert!(event.validate().is_ok());
                assert_eq!(
                    canonical::decode(&canonical::encode(&event)).ok(),
                    Some(event)
                );
            }
            Err(e) => {
                assert!(matches!(e, Error::InvalidEvent(_)), "{e}");
                // It quotes no piece of the line longer than `MAX_ECHO`.
                let shown = e.to_string();
                assert_eq!(custodia_core::echo_quoted(&shown), shown);
            }
        }
    }
});
