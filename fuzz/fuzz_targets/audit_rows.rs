//! The SQL audit stores' row decoder (SQLite and PostgreSQL alike, no
//! server) on arbitrary column values: a checked record or anchor, or
//! `Error::Tampered`, never a panic; a record row passes only with its own
//! index and checksum.

#![no_main]

use std::path::Path;

use custodia_audit::Error;
use custodia_audit::store::{AnchorRow, RecordRow};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Columns: idx (8 bytes), crc (8 bytes), expected index (8 bytes), payload.
    let word = |at: usize| {
        let mut w = [0u8; 8];
        for (dst, src) in w.iter_mut().zip(data.iter().skip(at)) {
            *dst = *src;
        }
        i64::from_le_bytes(w)
    };
    let payload = data.get(24..).unwrap_or_default();
    let expected = word(16) as u64 >> (data.first().copied().unwrap_or(0) % 64);
    let place = Path::new("fuzz.db");
    let record = RecordRow {
        index: word(0),
        payload,
        crc: word(8),
    };
    match record.check(place, expected) {
        Ok(()) => {
            assert_eq!(u64::try_from(record.index).ok(), Some(expected));
            assert_eq!(record.crc, RecordRow::checksum(expected, payload));
        }
        Err(e) => assert!(matches!(e, Error::Tampered { .. }), "{e}"),
    }
    let anchor = AnchorRow {
        size: word(0),
        root: payload,
    };
    match anchor.decode(place) {
        Ok(head) => assert_eq!((head.size as i64, &head.root[..]), (anchor.size, payload)),
        Err(e) => assert!(matches!(e, Error::Tampered { .. }), "{e}"),
    }
});
