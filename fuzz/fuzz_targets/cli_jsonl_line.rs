//! `custodia mask --jsonl`'s fast line reader on arbitrary bytes: it never
//! panics, and a line it takes is one `serde_json` reads the same way (an
//! object whose "text" is the same string and whose "id", if any, is the
//! same string written the same way), since every line it declines goes
//! through `serde_json` instead. Read where more lines follow, a line is
//! taken as it is alone. The same for the reader of texts with escapes
//! (`escaped_line_at`): what it decodes, `serde_json` decodes the same.

#![no_main]

use custodia_cli::jsonl::{escaped_line_at, plain_line, plain_line_at};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|line: &[u8]| {
    let mut scratch = Vec::new();
    if let Some((id, text, len)) = escaped_line_at(line, &mut scratch) {
        read_as_serde_json_reads(&line[..len], id, text);
    }
    if let Some((id, text, len)) = plain_line_at(line) {
        assert_eq!(plain_line(&line[..len]), Some((id, text)));
    }
    if let Some((id, text)) = plain_line(line) {
        read_as_serde_json_reads(line, id, text);
    }
});

/// `serde_json` reads `line` as an object of an "id" (if any) and a "text"
/// alone, `text` its text and `id` its id written as it writes a string
/// (`null` when there is none).
fn read_as_serde_json_reads(line: &[u8], id: &[u8], text: &[u8]) {
    let parsed: Value = serde_json::from_slice(line).expect("a taken line is JSON");
    let members = parsed.as_object().expect("a taken line is an object");
    assert_eq!(
        members
            .get("text")
            .and_then(Value::as_str)
            .map(str::as_bytes),
        Some(text)
    );
    match members.get("id") {
        None => assert_eq!(id, b"null"),
        Some(value) => {
            assert!(value.is_string(), "a taken id is a string");
            assert_eq!(serde_json::to_vec(value).expect("a string serialises"), id);
        }
    }
    assert!(members.keys().all(|k| k == "id" || k == "text"));
}
