//! The SQL key stores' row decoder on arbitrary column bytes: a value or
//! `Error::KeyStoreRow` naming the row, never a panic.

#![no_main]

use custodia_crypt::{Error, SqlKeyRow};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Split the input into columns at the first bytes' lengths.
    let &[a, b, c, ref rest @ ..] = data else {
        return;
    };
    let take = |rest: &[u8], n: u8| -> (Vec<u8>, Vec<u8>) {
        let n = usize::from(n).min(rest.len());
        (rest[..n].to_vec(), rest[n..].to_vec())
    };
    let (one, rest) = take(rest, a);
    let (two, rest) = take(&rest, b);
    let (three, four) = take(&rest, c);
    let int = |bytes: &[u8]| {
        let mut word = [0u8; 8];
        for (w, b) in word.iter_mut().zip(bytes) {
            *w = *b;
        }
        i64::from_le_bytes(word)
    };
    let rows = [
        SqlKeyRow::Subject {
            tenant: &one,
            subject: &two,
            wrapped: (a & 1 == 1).then_some(three.as_slice()),
            receipt: (b & 1 == 1).then_some(four.as_slice()),
        },
        SqlKeyRow::Tenant {
            tenant: &one,
            keys: &four,
        },
        SqlKeyRow::Keyring { record: &four },
        SqlKeyRow::NonceCount {
            tenant: &one,
            version: int(&two),
            reserved: int(&three),
        },
    ];
    for row in rows {
        match row.check() {
            Ok(()) | Err(Error::KeyStoreRow { .. }) => {}
            Err(other) => panic!("a row error that names no row: {other:?}"),
        }
    }
});
