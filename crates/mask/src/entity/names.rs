//! The entity pass's lexicon: one case-insensitive lookup per capitalised
//! word gives everything the pass asks of it. Given names and surnames come
//! from `data/names.txt` (sources, licences and sizes in `data/NAMES.md`;
//! rebuilt by `scripts/names-data`); titles, greetings, street types, legal
//! forms and stop words are listed here.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

/// A given name.
pub(super) const GIVEN: u16 = 1;
/// A surname.
pub(super) const SURNAME: u16 = 2;
/// Also a common word or a place (`will`, `grace`, `victoria`): a name only
/// with context.
pub(super) const AMBIGUOUS: u16 = 4;
/// A capitalised word of tickets that is far more often something else
/// than a name (`Support`, `Teams`, `Please`): never part of a name.
pub(super) const STOP: u16 = 8;
/// A title (`Mr`, `Dr`, `Frau`): the words after it are a name.
pub(super) const TITLE: u16 = 16;
/// A greeting or addressing word (`Hi`, `Dear`, `Thanks`, `cc`).
pub(super) const GREETING: u16 = 32;
/// A street type (`Street`, `St`, `Rd`), checked case-sensitively after.
pub(super) const STREET: u16 = 64;
/// The flags of a name.
pub(super) const NAME: u16 = GIVEN | SURNAME | AMBIGUOUS;

const TITLES: &[&str] = &[
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "madam", "herr", "frau", "mme",
    "mlle", "monsieur", "madame",
];
const GREETINGS: &[&str] = &[
    "hi",
    "hello",
    "hey",
    "dear",
    "morning",
    "afternoon",
    "evening",
    "thanks",
    "cheers",
    "regards",
    "bonjour",
    "hallo",
    "talofa",
    "malo",
    "greetings",
    "welcome",
    "attn",
    "cc",
    "bcc",
    "kia",
    "ora",
];
const STREET_TYPES: &[&str] = &[
    "street",
    "st",
    "road",
    "rd",
    "avenue",
    "ave",
    "av",
    "lane",
    "ln",
    "drive",
    "dr",
    "court",
    "ct",
    "place",
    "pl",
    "terrace",
    "tce",
    "crescent",
    "cres",
    "boulevard",
    "blvd",
    "way",
    "highway",
    "hwy",
    "parade",
    "pde",
    "close",
    "grove",
    "square",
    "sq",
    "quay",
    "esplanade",
    "circuit",
    "cct",
    "row",
    "mews",
    "walk",
    "rise",
    "gardens",
    "parkway",
    "pkwy",
    "trail",
    "circle",
    "cir",
    "loop",
    "promenade",
    "wharf",
    "heights",
    "hill",
    "green",
    "view",
    "park",
];
const STOP_WORDS: &[&str] = &[
    "account",
    "accounts",
    "admin",
    "agent",
    "an",
    "and",
    "apr",
    "are",
    "as",
    "at",
    "aug",
    "avenue",
    "bank",
    "be",
    "been",
    "best",
    "billing",
    "building",
    "but",
    "by",
    "can",
    "center",
    "centre",
    "cheers",
    "chrome",
    "client",
    "clinic",
    "consulting",
    "could",
    "council",
    "court",
    "customer",
    "day",
    "dear",
    "dec",
    "desk",
    "did",
    "do",
    "does",
    "drive",
    "east",
    "edge",
    "excel",
    "feb",
    "finance",
    "fort",
    "fri",
    "group",
    "had",
    "has",
    "have",
    "he",
    "hello",
    "help",
    "her",
    "hey",
    "hi",
    "him",
    "holdings",
    "hospital",
    "if",
    "in",
    "invoice",
    "is",
    "it",
    "jan",
    "jul",
    "jun",
    "kind",
    "lake",
    "lane",
    "las",
    "level",
    "los",
    "manager",
    "mar",
    "me",
    "mon",
    "mount",
    "my",
    "new",
    "no",
    "north",
    "nov",
    "oct",
    "of",
    "office",
    "ok",
    "old",
    "on",
    "or",
    "order",
    "our",
    "outlook",
    "partners",
    "please",
    "port",
    "regards",
    "road",
    "room",
    "safari",
    "saint",
    "sales",
    "san",
    "santa",
    "sat",
    "school",
    "sep",
    "sept",
    "server",
    "service",
    "services",
    "she",
    "should",
    "so",
    "solutions",
    "south",
    "street",
    "sun",
    "support",
    "systems",
    "team",
    "teams",
    "thank",
    "thanks",
    "that",
    "the",
    "them",
    "they",
    "this",
    "thu",
    "ticket",
    "to",
    "tue",
    "university",
    "us",
    "user",
    "was",
    "we",
    "wed",
    "west",
    "windows",
    "word",
    "would",
    "yes",
    "you",
    "your",
];

/// The longest name (UTF-8 bytes) the gazetteer holds.
pub(super) const MAX_NAME: usize = 32;

const DATA: &str = include_str!("../../data/names.txt");

/// FNV-1a: the keys are fixed at build time and the table never grows, so
/// a flooding-resistant hash buys nothing, and SipHash cost a fifth of the
/// pass on prose.
#[derive(Default)]
struct WordHasher(u64);

impl Hasher for WordHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type Table = HashMap<&'static str, u16, BuildHasherDefault<WordHasher>>;

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table: Table = DATA
            .lines()
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
            .collect();
        for (words, flag) in [
            (TITLES, TITLE),
            (GREETINGS, GREETING),
            (STREET_TYPES, STREET),
            (STOP_WORDS, STOP),
        ] {
            for &w in words {
                *table.entry(w).or_insert(0) |= flag;
            }
        }
        table
    })
}

/// The flags of `word` (any case; `O'Brien` also as `obrien`, `Smith-Jones`
/// as its parts), or 0 for a word the lexicon does not hold.
pub(super) fn lookup(word: &[u8]) -> u16 {
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

/// `word` in lower case in `buf`, or `None` when it is longer than any name
/// or not UTF-8.
fn lower<'b>(word: &[u8], buf: &'b mut [u8; MAX_NAME]) -> Option<&'b str> {
    if word.len() > MAX_NAME {
        return None;
    }
    if word.is_ascii() {
        for (o, c) in buf.iter_mut().zip(word) {
            *o = c.to_ascii_lowercase();
        }
        return std::str::from_utf8(&buf[..word.len()]).ok();
    }
    let word = std::str::from_utf8(word).ok()?;
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
        let lookup = |w: &str| lookup(w.as_bytes());
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
        assert_eq!(lookup("Dr"), TITLE | STREET);
        assert_eq!(lookup("Teams") & STOP, STOP);
        assert_eq!(lookup("Hi") & GREETING, GREETING);
    }
}
