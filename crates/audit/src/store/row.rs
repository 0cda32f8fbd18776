//! The SQL stores' rows, decoded without a driver.
//!
//! SQLite and PostgreSQL keep the same columns: a record row `(idx, payload,
//! crc)` and an anchor (recorded tree head) row `(size, root)`. Whoever can
//! write to the database controls every column, so each adapter hands the
//! raw column values to [`RecordRow::check`] and [`AnchorRow::decode`] here,
//! which answer a value or [`Error::Tampered`] naming the row, never a
//! panic. One decoder for every driver: the adapters only fetch columns.

use std::path::Path;

use crate::Error;
use crate::merkle::{Hash, TreeHead};

/// One record row as the driver returned it.
#[derive(Debug, Clone, Copy)]
pub struct RecordRow<'a> {
    /// The `idx` column.
    pub index: i64,
    /// The `payload` column: the canonical event.
    pub payload: &'a [u8],
    /// The `crc` column.
    pub crc: i64,
}

impl RecordRow<'_> {
    /// The checksum stored with record `index`: CRC-32 of the 8-byte
    /// big-endian index and the payload, so a moved payload fails too.
    pub fn checksum(index: u64, payload: &[u8]) -> i64 {
        let mut h = crc32fast::Hasher::new();
        h.update(&index.to_be_bytes());
        h.update(payload);
        i64::from(h.finalize())
    }

    /// Checks that this row is record `expected` of the log at `place`,
    /// intact: a gap (a removed record) or a bad checksum is
    /// [`Error::Tampered`].
    pub fn check(&self, place: &Path, expected: u64) -> Result<(), Error> {
        if u64::try_from(self.index).ok() != Some(expected) {
            let found = self.index;
            return Err(tampered(
                place,
                expected,
                format!("expected record {expected}, found record {found}: a record was removed"),
            ));
        }
        if self.crc != Self::checksum(expected, self.payload) {
            return Err(tampered(place, expected, "record checksum mismatch"));
        }
        Ok(())
    }
}

/// One anchor row (a tree head a writer recorded) as the driver returned it.
#[derive(Debug, Clone, Copy)]
pub struct AnchorRow<'a> {
    /// The `size` column: how many records the tree held.
    pub size: i64,
    /// The `root` column: the tree's 32-byte root hash.
    pub root: &'a [u8],
}

impl AnchorRow<'_> {
    /// The recorded head, or [`Error::Tampered`] when the size is negative
    /// or the root is not a 32-byte hash.
    pub fn decode(&self, place: &Path) -> Result<TreeHead, Error> {
        let size = self.size;
        let bad = |reason: String| Error::Tampered {
            path: place.to_path_buf(),
            offset: 0,
            index: None,
            reason,
        };
        let root: Hash = self
            .root
            .try_into()
            .map_err(|_| bad(format!("anchor at size {size} is not a 32-byte hash")))?;
        let size =
            u64::try_from(size).map_err(|_| bad(format!("anchor at a negative size {size}")))?;
        Ok(TreeHead { size, root })
    }
}

/// An index or size as a SQL `BIGINT` / SQLite `INTEGER`.
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "sqlx"))]
pub(crate) fn to_i64(n: u64) -> Result<i64, Error> {
    i64::try_from(n).map_err(|_| Error::Store("index beyond a SQL BIGINT".into()))
}

/// A tampering error at record `index` of the log at `place`.
pub(crate) fn tampered(place: &Path, index: u64, reason: impl Into<String>) -> Error {
    Error::Tampered {
        path: place.to_path_buf(),
        offset: index,
        index: Some(index),
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_with_its_checksum_is_the_expected_record() {
        let payload = b"event";
        let row = RecordRow {
            index: 7,
            payload,
            crc: RecordRow::checksum(7, payload),
        };
        assert!(row.check(Path::new("db"), 7).is_ok());
        // The same bytes at another index: moved, caught.
        assert!(matches!(
            row.check(Path::new("db"), 8),
            Err(Error::Tampered { index: Some(8), .. })
        ));
    }

    #[test]
    fn a_negative_index_or_anchor_size_is_tampering_not_a_wrap() {
        let row = RecordRow {
            index: -1,
            payload: b"",
            crc: RecordRow::checksum(u64::MAX, b""),
        };
        assert!(matches!(
            row.check(Path::new("db"), u64::MAX),
            Err(Error::Tampered { .. })
        ));
        // A negative size (before: `unwrap_or(u64::MAX)`, a head of 2^64-1
        // records) or a root that is not 32 bytes.
        for (size, root) in [(-1, &[0u8; 32][..]), (1, &[0u8; 31][..])] {
            let anchor = AnchorRow { size, root };
            assert!(matches!(
                anchor.decode(Path::new("db")),
                Err(Error::Tampered { .. })
            ));
        }
        let good = AnchorRow {
            size: 1024,
            root: &[9; 32],
        };
        assert_eq!(good.decode(Path::new("db")).unwrap().size, 1024);
    }
}
