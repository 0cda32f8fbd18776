//! The audit segment reader on arbitrary bytes: a parsed segment or a typed
//! tampering error, never a panic; whatever parses stays within the input,
//! and a torn tail is at most one record.

#![no_main]

use std::path::Path;

use custodia_audit::store::segment::{MAX_TORN_BYTES, parse_segment};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match parse_segment(Path::new("fuzz.seg"), data) {
        Ok(parsed) => {
            assert!(parsed.end as usize <= data.len());
            assert!(parsed.offsets.iter().all(|&o| (o as usize) < data.len()));
            // A torn tail is never more than one record.
            assert!(!parsed.torn || data.len() as u64 - parsed.end <= MAX_TORN_BYTES);
        }
        Err(e) => assert!(e.is_finding(), "{e}"),
    }
});
