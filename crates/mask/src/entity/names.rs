//! The name gazetteer: given names and surnames, lower case, each with its
//! flags, from `data/names.txt` (sources, licences and sizes in
//! `data/NAMES.md`; rebuilt by `scripts/names-data`).

use std::collections::HashMap;
use std::sync::OnceLock;

/// A given name.
pub(super) const GIVEN: u8 = 1;
/// A surname.
pub(super) const SURNAME: u8 = 2;
/// Also a common word or a place (`will`, `grace`, `victoria`): a name only
/// with context.
pub(super) const AMBIGUOUS: u8 = 4;

/// The longest name (UTF-8 bytes) the gazetteer holds.
pub(super) const MAX_NAME: usize = 32;

const DATA: &str = include_str!("../../data/names.txt");

fn table() -> &'static HashMap<&'static str, u8> {
    static TABLE: OnceLock<HashMap<&'static str, u8>> = OnceLock::new();
    TABLE.get_or_init(|| {
        DATA.lines()
            .filter_map(|line| {
                let (name, flags) = line.split_once('\t')?;
                let bits = flags.bytes().fold(0, |acc, f| {
                    acc | match f {
                        b'g' => GIVEN,
                        b's' => SURNAME,
                        b'a' => AMBIGUOUS,
                        _ => 0,
                    }
                });
                Some((name, bits))
            })
            .collect()
    })
}

/// The flags of `word` (any case; `O'Brien` also as `obrien`, `Smith-Jones`
/// as its parts), or 0 for a word the gazetteer does not hold.
pub(super) fn lookup(word: &str) -> u8 {
    let mut buf = [0u8; MAX_NAME];
    let Some(lower) = lower(word, &mut buf) else {
        return 0;
    };
    let table = table();
    if let Some(&flags) = table.get(lower) {
        return flags;
    }
    if lower.contains('\'') {
        let mut joined = [0u8; MAX_NAME];
        let mut n = 0;
        for &c in lower.as_bytes().iter().filter(|&&c| c != b'\'') {
            joined[n] = c;
            n += 1;
        }
        if let Ok(joined) = std::str::from_utf8(&joined[..n])
            && let Some(&flags) = table.get(joined)
        {
            return flags;
        }
    }
    if lower.contains('-') {
        // A double-barrelled name: each part a name; ambiguous only if every
        // part is.
        let mut all = GIVEN | SURNAME | AMBIGUOUS;
        let mut any = 0;
        for part in lower.split('-') {
            let flags = table.get(part).copied().unwrap_or(0);
            if flags & (GIVEN | SURNAME) == 0 {
                return 0;
            }
            all &= flags;
            any |= flags;
        }
        return (any & (GIVEN | SURNAME)) | (all & AMBIGUOUS);
    }
    0
}

/// `word` in lower case in `buf`, or `None` when it is longer than any name.
fn lower<'b>(word: &str, buf: &'b mut [u8; MAX_NAME]) -> Option<&'b str> {
    let mut n = 0;
    for c in word.chars().flat_map(char::to_lowercase) {
        let len = c.len_utf8();
        if n + len > MAX_NAME {
            return None;
        }
        c.encode_utf8(&mut buf[n..]);
        n += len;
    }
    std::str::from_utf8(&buf[..n]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_sorted_unique_lower_case_and_flagged() {
        let mut previous = "";
        for line in DATA.lines() {
            let (name, flags) = line.split_once('\t').expect("name<TAB>flags");
            assert!(name > previous, "{name:?} after {previous:?}");
            assert_eq!(name, name.to_lowercase());
            assert!(name.len() <= MAX_NAME);
            assert!(!flags.is_empty() && flags.bytes().all(|f| b"gsa".contains(&f)));
            previous = name;
        }
        assert!(table().len() > 30_000);
    }

    #[test]
    fn lookups_fold_case_apostrophes_and_double_barrels() {
        assert_eq!(lookup("Sarah") & GIVEN, GIVEN);
        assert_eq!(lookup("SARAH"), lookup("sarah"));
        assert_eq!(lookup("Becker") & SURNAME, SURNAME);
        assert_ne!(lookup("O'Brien") & SURNAME, 0);
        assert_ne!(lookup("Smith-Jones") & SURNAME, 0);
        assert_eq!(lookup("Grace") & AMBIGUOUS, AMBIGUOUS);
        assert_eq!(lookup("Victoria") & AMBIGUOUS, AMBIGUOUS);
        assert_eq!(lookup("Aroha") & GIVEN, GIVEN);
        assert_eq!(lookup("Nguyễn") & SURNAME, SURNAME);
        assert_eq!(lookup("Printer"), 0);
        assert_eq!(lookup("Smith-Printer"), 0);
        assert_eq!(lookup(&"a".repeat(40)), 0);
    }
}
