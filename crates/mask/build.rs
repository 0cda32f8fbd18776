//! Builds the entity pass's lexicon table at compile time: `data/names.txt`
//! and the word lists of `src/entity/lexicon.rs`, as an open-addressing
//! table of 16-byte slots (see `lexicon.rs` and `src/entity/names.rs`),
//! over a blob of the longer words' bytes past their eighth, each
//! zero-padded to a multiple of eight bytes.

#![allow(dead_code)]

include!("src/entity/lexicon.rs");
include!("src/entity/words.rs");

/// A table slot's second word: the offset in the blob of the word's bytes
/// past its eighth (bits 0–23), its length (24–29) and its flags (32–47);
/// never 0 (a word has a length), so 0 marks an empty slot.
#[inline]
pub(crate) fn slot_meta(offset: usize, len: usize, flags: u16) -> u64 {
    (offset as u64 & 0xFF_FFFF) | ((len as u64 & 0x3F) << 24) | (u64::from(flags) << 32)
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
    // Two `u64`s a slot: the word's first eight bytes, then its meta.
    let mut slots = vec![0u64; SLOTS * 2];
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
        while slots[2 * idx + 1] != 0 {
            idx = (idx + 1) & (SLOTS - 1);
        }
        let mut head = [0u8; 8];
        head.copy_from_slice(&buf[..8]);
        slots[2 * idx] = u64::from_le_bytes(head);
        slots[2 * idx + 1] = slot_meta(blob.len(), bytes.len(), *flags);
        // The bytes past the eighth (most words have none), zero-padded
        // to eight bytes, compared a word at a time.
        if bytes.len() > 8 {
            blob.extend_from_slice(&buf[8..bytes.len().div_ceil(8) * 8]);
        }
    }
    // At most 55 % full: linear probing's expected probes stay under two
    // for a word found and three for one missing.
    assert!(words.len() * 20 < SLOTS * 11, "lexicon table too full");
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
