//! The SQL stores' row decoder, without a server: any column values give a
//! checked row or `Error::Tampered`, never a panic.

use std::path::Path;

use custodia_audit::Error;
use custodia_audit::store::{AnchorRow, RecordRow};
use proptest::prelude::*;

proptest! {
    #[test]
    fn record_rows_of_arbitrary_columns_pass_only_with_their_own_index_and_checksum(
        index in any::<i64>(),
        crc in any::<i64>(),
        expected in any::<u64>(),
        payload in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let row = RecordRow { index, payload: &payload, crc };
        match row.check(Path::new("db"), expected) {
            Ok(()) => {
                prop_assert_eq!(u64::try_from(index).ok(), Some(expected));
                prop_assert_eq!(crc, RecordRow::checksum(expected, &payload));
            }
            Err(e) => prop_assert!(matches!(e, Error::Tampered { .. }), "{}", e),
        }
        // The row as a store writes it always passes.
        if let Ok(at) = u64::try_from(index) {
            let good = RecordRow { index, payload: &payload, crc: RecordRow::checksum(at, &payload) };
            prop_assert!(good.check(Path::new("db"), at).is_ok());
        }
    }

    #[test]
    fn anchor_rows_of_arbitrary_columns_decode_or_fail_typed(
        size in any::<i64>(),
        root in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        match (AnchorRow { size, root: &root }).decode(Path::new("db")) {
            Ok(head) => {
                prop_assert_eq!(i64::try_from(head.size).ok(), Some(size));
                prop_assert_eq!(&head.root[..], &root[..]);
            }
            Err(e) => {
                prop_assert!(size < 0 || root.len() != 32);
                prop_assert!(matches!(e, Error::Tampered { .. }), "{}", e);
            }
        }
    }
}
