//! The key-store file's contents (the JSON sealed inside the file, every
//! format `FileKeyStore` reads) on arbitrary bytes: `Ok` or
//! `Error::Decode` / `Error::Store`, never a panic.

#![no_main]

use custodia_crypt::{Error, FileKeyStore};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match FileKeyStore::check_contents(data) {
        Ok(()) | Err(Error::Decode { .. } | Error::Store(_)) => {}
        Err(other) => panic!("an error open would not give: {other:?}"),
    }
});
