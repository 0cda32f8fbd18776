//! The entity pass's lexicon: one case-insensitive lookup per capitalised
//! word gives everything the pass asks of it. Given names and surnames come
//! from `data/names.txt` (sources, licences and sizes in `data/NAMES.md`;
//! rebuilt by `scripts/names-data`); titles, greetings, street types, legal
//! forms and stop words are listed in `words.rs`. `build.rs` builds the
//! table at compile time: an open-addressing table probed with a hash that
//! reads eight bytes a step.
//!
//! A slot is 16 bytes: the word's first eight bytes (zero past its end),
//! then its length, flags and the offset of its bytes past the eighth in a
//! blob. Most words (six in seven) are eight bytes or fewer, so a lookup
//! reads one cache line, the slot's, and compares the word in one step; a
//! miss, too, is told at the slot (a different head or length), without
//! the second, dependent load into the words that a slot of offset and
//! fingerprint needed (the lookup waited on those two loads for most of
//! its time). The slots are aligned to 64 bytes so none spans two lines.

include!("lexicon.rs");

/// `T` aligned to a cache line.
#[repr(C, align(64))]
struct Aligned<T: ?Sized>(T);

/// The table's slots (pairs of little-endian `u64`s: head, meta), built by
/// `build.rs`.
static SLOT_BYTES: &Aligned<[u8; SLOTS * 16]> = &Aligned(*include_bytes!(concat!(
    env!("OUT_DIR"),
    "/lexicon_slots.bin"
)));
/// The bytes past the eighth of the words longer than eight bytes.
static BLOB: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/lexicon_blob.bin"));

/// The `u64` at `k` in `bytes`, little-endian (0 past the end).
#[inline(always)]
fn u64_at(bytes: &[u8], k: usize) -> u64 {
    let mut w = [0u8; 8];
    if let Some(s) = bytes.get(k..k + 8) {
        w.copy_from_slice(s);
    }
    u64::from_le_bytes(w)
}

/// Slot `idx` (wrapping): the word's head and its meta (0: empty).
#[inline(always)]
fn slot_at(idx: usize) -> (u64, u64) {
    let k = (idx & (SLOTS - 1)) * 16;
    (u64_at(&SLOT_BYTES.0, k), u64_at(&SLOT_BYTES.0, k + 8))
}

/// The flags of the lower-case word `buf[..len]` (`buf` zero past `len`),
/// if the lexicon holds it.
#[inline]
pub(super) fn get(buf: &[u8; MAX_NAME], len: usize) -> Option<u16> {
    let head = u64_at(buf, 0);
    if len <= 8 {
        return get_short(head, len);
    }
    probe(word_hash(buf, len), head, len, |off| {
        same_tail(off, buf, len)
    })
}

/// [`get`] of a lower-case word of one to eight bytes, `head` its bytes
/// as a little-endian `u64` (zero past `len`): the slot alone answers.
#[inline]
pub(super) fn get_short(head: u64, len: usize) -> Option<u16> {
    probe(short_word_hash(head, len), head, len, |_| true)
}

/// The flags of the short words the pass looked up last (most words of a
/// text come again and again): the table's slot of a word, far from the
/// text the scan reads, was waited for at most capitals.
pub(super) struct Recent([(u64, u64); RECENT]);

/// How many words [`Recent`] holds.
const RECENT: usize = 256;

impl Recent {
    pub(super) const fn new() -> Self {
        Recent([(0, 0); RECENT])
    }

    /// A cleared one on the heap (out of line: a long text's, once).
    #[cold]
    #[inline(never)]
    pub(super) fn boxed() -> Box<Self> {
        Box::new(Self::new())
    }

    /// [`get_short`]'s flags (0 for a word the lexicon lacks), from the
    /// words looked up last when it is one of them. An entry is its word's
    /// head and its length and flags (length 0: empty), found by one
    /// multiply of the head. (The lexicon's hash, two multiplies more
    /// before every word's flags, is reckoned only for a word not there:
    /// 2 % of the CPU time of prose.)
    #[inline(always)]
    pub(super) fn get_short(&mut self, head: u64, len: usize) -> u16 {
        let entry = &mut self.0[(head.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize % RECENT];
        if entry.0 == head && entry.1 & 0xFF == len as u64 {
            return (entry.1 >> 8) as u16;
        }
        let flags = probe(short_word_hash(head, len), head, len, |_| true).unwrap_or(0);
        *entry = (head, len as u64 | u64::from(flags) << 8);
        flags
    }
}

/// [`get`] of a lower-case word of nine to sixteen bytes, `head` and
/// `tail` its two halves as little-endian `u64`s (zero past `len`).
#[inline]
pub(super) fn get_two(head: u64, tail: u64, len: usize) -> Option<u16> {
    probe(two_word_hash(head, tail, len), head, len, |off| {
        u64_at(BLOB, off) == tail
    })
}

/// The linear probe from `hash`'s home slot: the flags of the slot whose
/// first eight bytes are `head`, whose length is `len` and whose tail in
/// the blob (at the offset given) `same_tail` accepts.
#[inline(always)]
fn probe(hash: u64, head: u64, len: usize, same_tail: impl Fn(usize) -> bool) -> Option<u16> {
    let mut idx = home_slot(hash);
    for _ in 0..SLOTS {
        let (word, meta) = slot_at(idx);
        if meta == 0 {
            return None;
        }
        if word == head
            && (meta >> 24) as usize & 0x3F == len
            && same_tail(meta as usize & 0xFF_FFFF)
        {
            return Some((meta >> 32) as u16);
        }
        idx = idx.wrapping_add(1);
    }
    None
}

/// Are the blob's bytes at `off` (zero-padded to eight bytes) the bytes
/// of `buf[..len]` past the eighth (`buf` zero past `len`)? Eight bytes a
/// compare.
#[inline]
fn same_tail(off: usize, buf: &[u8; MAX_NAME], len: usize) -> bool {
    let mut k = 8;
    while k < len.min(MAX_NAME) {
        if off + k > BLOB.len() || u64_at(BLOB, off + k - 8) != u64_at(buf, k) {
            return false;
        }
        k += 8;
    }
    true
}

/// The flags of `word` (any case; `O'Brien` also as `obrien`, `Smith-Jones`
/// as its parts), or 0 for a word the lexicon does not hold. (The pass
/// lowers its words itself and calls [`lookup_lower`]; a table's cells
/// are looked up here.)
pub(super) fn lookup(word: &[u8]) -> u16 {
    let mut buf = [0u8; MAX_NAME];
    let Some(len) = lower(word, &mut buf) else {
        return 0;
    };
    lookup_lower(&buf, len)
}

/// [`lookup`] of a word already in lower case in `buf[..len]` (`buf` zero
/// past `len`).
pub(super) fn lookup_lower(buf: &[u8; MAX_NAME], len: usize) -> u16 {
    if let Some(flags) = get(buf, len) {
        return flags;
    }
    let lower = &buf[..len];
    // `Siobhán`, `Ciarán`, `Zoë`: the gazetteer may list a name folded
    // only (`siobhan`); non-ASCII words are read on the cold path. Not
    // macrons: te reo Māori words folded are other languages' names
    // (`Ngā` as `nga`); Māori names are listed with theirs.
    if !lower.is_ascii()
        && let Some((folded, n)) = fold(lower)
    {
        let flags = lookup_lower(&folded, n);
        if flags != 0 {
            return flags;
        }
    }
    if lower.contains(&b'\'') {
        let mut joined = [0u8; MAX_NAME];
        let mut n = 0;
        for &c in lower.iter().filter(|&&c| c != b'\'') {
            joined[n] = c;
            n += 1;
        }
        if let Some(flags) = get(&joined, n) {
            return flags;
        }
    }
    if lower.contains(&b'-') {
        // A double-barrelled name: each part a name; a given name only if
        // every part is one (`Jean-Luc`; `Takahashi-Brown` is a surname),
        // ambiguous only if every part is.
        let mut all = GIVEN | SURNAME | AMBIGUOUS;
        let mut any = 0;
        for (k, part) in lower.split(|&c| c == b'-').enumerate() {
            let mut one = [0u8; MAX_NAME];
            one[..part.len()].copy_from_slice(part);
            let flags = get(&one, part.len()).unwrap_or(0);
            // `Saint-Denis`, `St-Laurent`, `San-Pedro`: a place.
            if k == 0 && flags & PLACE_PREFIX != 0 {
                return 0;
            }
            // `Hudson-era`, `Smith-style`: a word's suffix, not a name's.
            if k > 0
                && matches!(
                    part,
                    b"era"
                        | b"style"
                        | b"based"
                        | b"like"
                        | b"related"
                        | b"type"
                        | b"only"
                        | b"led"
                )
            {
                return 0;
            }
            if flags & (GIVEN | SURNAME) == 0 {
                return 0;
            }
            all &= flags;
            any |= flags;
        }
        return (any & SURNAME) | (all & (GIVEN | AMBIGUOUS));
    }
    0
}

/// `GIVEN` if any part of the hyphenated lower-case word `buf[..len]` is
/// a given name (`hyun-woo`), else 0.
pub(super) fn lookup_any_given(buf: &[u8; MAX_NAME], len: usize) -> u16 {
    let any = buf[..len].split(|&c| c == b'-').any(|part| {
        let mut one = [0u8; MAX_NAME];
        one[..part.len()].copy_from_slice(part);
        get(&one, part.len()).is_some_and(|f| f & GIVEN != 0)
    });
    if any { GIVEN } else { 0 }
}

/// `lower` with the Latin letters' accents taken off (`siobhán` as
/// `siobhan`, `đức` as `duc`), if every letter then is ASCII (not
/// macrons: see [`lookup_lower`]).
fn fold(lower: &[u8]) -> Option<([u8; MAX_NAME], usize)> {
    let word = std::str::from_utf8(lower).ok()?;
    let mut out = [0u8; MAX_NAME];
    let mut n = 0;
    for c in word.chars() {
        let a = match c {
            'a'..='z' | '\'' | '-' => c,
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' | 'ă' | 'ą' => 'a',
            'é' | 'è' | 'ê' | 'ë' | 'ė' | 'ę' | 'ě' => 'e',
            'í' | 'ì' | 'î' | 'ï' | 'į' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ő' | 'ø' => 'o',
            'ú' | 'ù' | 'û' | 'ü' | 'ů' | 'ű' | 'ų' => 'u',
            'ý' | 'ÿ' => 'y',
            'ç' | 'ć' | 'č' => 'c',
            'ñ' | 'ń' | 'ň' => 'n',
            'ś' | 'š' | 'ș' | 'ş' => 's',
            'ź' | 'ż' | 'ž' => 'z',
            'ł' => 'l',
            'ř' => 'r',
            'ț' | 'ţ' => 't',
            'ď' | 'đ' => 'd',
            'ı' => 'i',
            'ğ' => 'g',
            // Vietnamese vowels with their tones (`Đức`, `Nguyễn`, `Phạm`,
            // `Trương`: the gazetteer's sources often write them bare).
            'ạ' | 'ả' | 'ấ' | 'ầ' | 'ẩ' | 'ẫ' | 'ậ' | 'ắ' | 'ằ' | 'ẳ' | 'ẵ' | 'ặ' => {
                'a'
            }
            'ẹ' | 'ẻ' | 'ẽ' | 'ế' | 'ề' | 'ể' | 'ễ' | 'ệ' => 'e',
            'ỉ' | 'ị' | 'ĩ' => 'i',
            'ọ' | 'ỏ' | 'ố' | 'ồ' | 'ổ' | 'ỗ' | 'ộ' | 'ơ' | 'ớ' | 'ờ' | 'ở' | 'ỡ' | 'ợ' => {
                'o'
            }
            'ụ' | 'ủ' | 'ũ' | 'ư' | 'ứ' | 'ừ' | 'ử' | 'ữ' | 'ự' => 'u',
            'ỳ' | 'ỵ' | 'ỷ' | 'ỹ' => 'y',
            _ => return None,
        };
        *out.get_mut(n)? = a as u8;
        n += 1;
    }
    Some((out, n))
}

/// `word` in lower case in `buf` (zero past it): its length, or `None` when
/// it is longer than any name or not UTF-8.
pub(super) fn lower(word: &[u8], buf: &mut [u8; MAX_NAME]) -> Option<usize> {
    if word.len() > MAX_NAME {
        return None;
    }
    if word.is_ascii() {
        for (o, c) in buf.iter_mut().zip(word) {
            *o = c.to_ascii_lowercase();
        }
        return Some(word.len());
    }
    let word = std::str::from_utf8(word).ok()?;
    let mut n = 0;
    for c in word.chars() {
        // (An ASCII letter's lower case is one byte, as `to_lowercase`
        // gives it: written without its iterator, most letters of a word
        // with an accent.)
        if c.is_ascii() {
            *buf.get_mut(n)? = c.to_ascii_lowercase() as u8;
            n += 1;
            continue;
        }
        for c in c.to_lowercase() {
            let len = c.len_utf8();
            if n + len > MAX_NAME {
                return None;
            }
            c.encode_utf8(&mut buf[n..]);
            n += len;
        }
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    include!("words.rs");

    #[test]
    fn lower_is_str_to_lowercase() {
        for w in [
            "Siobhán",
            "ZOË",
            "Ōtautahi",
            "İlkay",
            "ẞtraße",
            "Ngā",
            "O'BRIEN-Ó",
        ] {
            let mut buf = [0u8; MAX_NAME];
            let n = lower(w.as_bytes(), &mut buf);
            let want = w.to_lowercase();
            assert_eq!(n.map(|n| &buf[..n]), Some(want.as_bytes()), "{w}");
        }
        let long = "é".repeat(16) + "a";
        assert_eq!(lower(long.as_bytes(), &mut [0u8; MAX_NAME]), None);
    }

    const DATA: &str = include_str!("../../data/names.txt");

    #[test]
    fn every_listed_word_has_its_flag() {
        for &(list, flag) in FLAGGED {
            for w in list {
                assert_eq!(lookup(w.as_bytes()) & flag, flag, "{w}");
            }
        }
    }

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
        assert!((0..SLOTS).filter(|&k| slot_at(k).1 != 0).count() > 30_000);
    }

    #[test]
    fn register_lookups_agree_with_the_buffer_lookup() {
        let words = DATA.lines().filter_map(|l| l.split('\t').next()).chain([
            "printer",
            "dashboard",
            "escalated",
            "internationalisation",
        ]);
        for w in words {
            let mut buf = [0u8; MAX_NAME];
            buf[..w.len()].copy_from_slice(w.as_bytes());
            let (head, tail) = (u64_at(&buf, 0), u64_at(&buf, 8));
            let want = get(&buf, w.len());
            if w.len() <= 8 {
                assert_eq!(short_word_hash(head, w.len()), word_hash(&buf, w.len()));
                assert_eq!(get_short(head, w.len()), want, "{w}");
            } else if w.len() < 16 {
                assert_eq!(two_word_hash(head, tail, w.len()), word_hash(&buf, w.len()));
                assert_eq!(get_two(head, tail, w.len()), want, "{w}");
            }
        }
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
        // Listed folded only: found through the fold.
        assert_eq!(lookup("Siobhán") & GIVEN, GIVEN);
        assert_eq!(lookup("Printer"), 0);
        assert_eq!(lookup("Smith-Printer"), 0);
        assert_eq!(lookup(&"a".repeat(40)), 0);
        assert_eq!(lookup("Dr"), TITLE | STREET);
        assert_eq!(lookup("Teams") & STOP, STOP);
        assert_eq!(lookup("Hi") & GREETING, GREETING);
    }
}
