//! Builds the entity pass's lexicon table at compile time: `data/names.txt`
//! and the word lists of `src/entity/lexicon.rs`, as an open-addressing
//! table of `u64` slots over a blob of the words, each zero-padded to a
//! multiple of eight bytes (see `lexicon.rs`).

#![allow(dead_code)]

include!("src/entity/lexicon.rs");
include!("src/entity/words.rs");

/// A table slot: the word's offset in the blob (bits 0–23), its length
/// (24–29), its flags (32–47) and a fingerprint of its hash (48–63); 0 is
/// an empty slot.
#[inline]
pub(crate) fn slot(offset: usize, len: usize, flags: u16, hash: u64) -> u64 {
    (offset as u64 & 0xFF_FFFF)
        | ((len as u64 & 0x3F) << 24)
        | (u64::from(flags) << 32)
        | (hash >> 48 << 48)
}

use std::collections::BTreeMap;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=data/names.txt");
    println!("cargo:rerun-if-changed=data/places.txt");
    println!("cargo:rerun-if-changed=src/entity/lexicon.rs");
    println!("cargo:rerun-if-changed=src/entity/words.rs");
    let data = match std::fs::read_to_string("data/names.txt") {
        Ok(d) => d,
        Err(e) => panic!("data/names.txt: {e}"),
    };
    let mut words: BTreeMap<String, u16> = BTreeMap::new();
    for line in data.lines() {
        let Some((name, flags)) = line.split_once('\t') else {
            continue;
        };
        let bits = flags.bytes().fold(0, |acc, f| {
            acc | match f {
                b'g' => GIVEN,
                b's' => SURNAME,
                b'a' => AMBIGUOUS,
                _ => 0,
            }
        });
        *words.entry(name.to_owned()).or_insert(0) |= bits;
    }
    // Places (`data/places.txt`): a single word that is a name is a name
    // only with context; several words are looked up whole (`hong kong`).
    let places = match std::fs::read_to_string("data/places.txt") {
        Ok(d) => d,
        Err(e) => panic!("data/places.txt: {e}"),
    };
    for line in places.lines() {
        let Some((place, _)) = line.split_once('\t') else {
            continue;
        };
        let flags = words.entry(place.to_owned()).or_insert(0);
        *flags |= PLACE_NAME;
        if *flags & NAME != 0 {
            *flags |= AMBIGUOUS;
        }
        if let Some((head, _)) = place.split_once(' ') {
            *words.entry(head.to_owned()).or_insert(0) |= PLACE_HEAD;
        }
    }
    for &(list, flag) in FLAGGED {
        for w in list {
            *words.entry((*w).to_owned()).or_insert(0) |= flag;
        }
    }
    let mut blob = Vec::new();
    let mut slots = vec![0u64; SLOTS];
    for (word, flags) in &words {
        let bytes = word.as_bytes();
        assert!(
            !bytes.is_empty() && bytes.len() <= MAX_NAME,
            "{word:?}: 1 to {MAX_NAME} bytes"
        );
        let mut buf = [0u8; MAX_NAME];
        buf[..bytes.len()].copy_from_slice(bytes);
        let h = word_hash(&buf, bytes.len());
        let mut idx = home_slot(h);
        while slots[idx] != 0 {
            idx = (idx + 1) & (SLOTS - 1);
        }
        slots[idx] = slot(blob.len(), bytes.len(), *flags, h);
        // Each word zero-padded to eight bytes, compared a word at a time.
        blob.extend_from_slice(&buf[..bytes.len().div_ceil(8) * 8]);
    }
    assert!(words.len() * 2 < SLOTS, "lexicon table too full");
    assert!(blob.len() < 1 << 24, "lexicon blob too large");
    let out = std::env::var_os("OUT_DIR").map(std::path::PathBuf::from);
    let Some(out) = out else {
        panic!("OUT_DIR not set")
    };
    let bytes: Vec<u8> = slots.iter().flat_map(|s| s.to_le_bytes()).collect();
    write(&out.join("lexicon_slots.bin"), &bytes);
    write(&out.join("lexicon_blob.bin"), &blob);
}

fn write(path: &Path, bytes: &[u8]) {
    if let Err(e) = std::fs::write(path, bytes) {
        panic!("{}: {e}", path.display());
    }
}
