//! Context words: the few case-folded words before a match, and the packed
//! word lists they are compared with.

/// A `&'static CtxWords` of the given lower-case (folded) words.
macro_rules! words {
    ($($w:literal),* $(,)?) => {{
        const P: &$crate::scan::CtxWords =
            &$crate::scan::CtxWords::new(&$crate::scan::pack_all([$($w),*]));
        P
    }};
}
pub(crate) use words;

/// A kind's context words, packed, with a 64-bucket filter so most checks
/// cost one AND. The words are kept in bucket order, with where each
/// bucket's start: a word that passes the filter is compared with its
/// bucket's words only (most often one), not with the whole list (up to
/// 32 compares, a third of the cost of a number's context on tickets).
/// The longest context-word list (the phone's).
const MAX_WORDS: usize = 32;

pub(crate) struct CtxWords {
    filter: u64,
    /// The [`lead_bit`]s of the words: a word of the text without its
    /// bit is none of them, told before it is packed.
    lead: u64,
    words: [u128; MAX_WORDS],
    n: usize,
    /// `words[first[k]..first[k + 1]]` are the words of bucket `k`.
    first: [u8; 65],
}

impl CtxWords {
    #[inline]
    pub(super) fn contains(&self, p: u128) -> bool {
        let k = bucket(p);
        self.filter & (1u64 << k) != 0 && self.in_bucket(p, k as usize)
    }

    /// Is `p`, of bucket `k`, one of the words?
    #[inline(always)]
    fn in_bucket(&self, p: u128, k: usize) -> bool {
        let (lo, hi) = (
            self.first[k & 63] as usize,
            self.first[(k & 63) + 1] as usize,
        );
        self.words[lo.min(MAX_WORDS)..hi.min(MAX_WORDS)].contains(&p)
    }

    pub(crate) const fn new(words: &[u128]) -> CtxWords {
        let mut c = CtxWords {
            filter: 0,
            lead: 0,
            words: [0; MAX_WORDS],
            n: 0,
            first: [0; 65],
        };
        // A longer list fails to compile rather than lose words.
        assert!(words.len() <= MAX_WORDS, "too many context words");
        // Counted per bucket, then placed in bucket order (a counting
        // sort, in the list's order within a bucket).
        let mut count = [0u8; 64];
        let mut i = 0;
        while i < words.len() {
            let k = bucket(words[i]);
            count[k as usize] += 1;
            c.filter |= 1u64 << k;
            let bytes = words[i].to_le_bytes();
            let mut len = 0;
            while len < 16 && bytes[len] != 0 {
                len += 1;
            }
            c.lead |= 1u64 << lead_bit(len, bytes[0]);
            i += 1;
        }
        let mut k = 0;
        while k < 64 {
            c.first[k + 1] = c.first[k] + count[k];
            k += 1;
        }
        let mut next = [0u8; 64];
        i = 0;
        while i < words.len() {
            let k = bucket(words[i]) as usize;
            c.words[(c.first[k] + next[k]) as usize] = words[i];
            next[k] += 1;
            i += 1;
        }
        c.n = words.len();
        c
    }
}

/// One of 64 bits for a packed word of `len` bytes (at most 16) whose
/// first is `first`: two equal words have the same.
#[inline(always)]
const fn lead_bit(len: usize, first: u8) -> u32 {
    ((first as u32) << 5 | len as u32).wrapping_mul(0x9E37_79B1) >> 26
}

/// Filter bucket (0..64) of a packed word.
const fn bucket(w: u128) -> u32 {
    let x = (w as u64) ^ ((w >> 64) as u64);
    (x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58) as u32
}

/// Case-folded words just before `start` (nearest first), at most
/// `MAX_CTX` of them within `CTX_BYTES` bytes.
#[derive(Clone, Copy)]
pub(super) struct Context {
    words: [u128; MAX_CTX],
    n: usize,
    filter: u64,
    /// Each word's filter bucket.
    buckets: [u8; MAX_CTX],
}

const MAX_CTX: usize = 6;

/// `KEEP[n]`: the low `n` bytes of a packed word (a table: a variable
/// 128-bit shift costs a dozen instructions and a branch).
static KEEP: [u128; 17] = {
    let mut t = [0u128; 17];
    let mut n = 1;
    while n <= 16 {
        t[n] = u128::MAX >> (8 * (16 - n));
        n += 1;
    }
    t
};
const CTX_BYTES: usize = 48;
/// The window and the 32 bytes read after it.
const WINDOW: usize = CTX_BYTES + 32;

/// Calls `f` with the ASCII words before `start` (at most `MAX_CTX` within
/// `CTX_BYTES` bytes), case-folded and packed, nearest first, until it
/// returns true (then `Some(true)`); `None` for a window with non-ASCII
/// bytes, whose words are the Unicode path's. A word whose [`lead_bit`]
/// is not in `lead` is passed over (and still counted among the
/// `MAX_CTX`).
#[inline(always)]
fn ascii_words(b: &[u8], start: usize, lead: u64, mut f: impl FnMut(u128) -> bool) -> Option<bool> {
    let lo = start.saturating_sub(CTX_BYTES);
    // The window and 32 bytes after it (a word is read 16 bytes at a
    // time, then cut to its length; 32, not 16, so that the 16 bytes at
    // any start below 64 are in it): the text itself when it has them, else
    // a zero-padded copy (bytes past `start` are no letters).
    // (The copy cleared only when used: cleared first, it cost five
    // instructions a call.)
    let mut copy: [u8; WINDOW];
    let buf: &[u8; WINDOW] = match b.get(lo..start + 32).map(<&[u8; WINDOW]>::try_from) {
        Some(Ok(w)) => w,
        _ => {
            copy = [0u8; WINDOW];
            // A full window (most, near a text's end) in a copy of known
            // length: a variable one was a `memcpy` call, and a second
            // copy of the padded array.
            match b[lo..start].first_chunk::<CTX_BYTES>() {
                Some(window) => copy[..CTX_BYTES].copy_from_slice(window),
                None => copy[..start - lo].copy_from_slice(&b[lo..start]),
            }
            &copy
        }
    };
    let (mut mask, non_ascii) = letters(&buf[..CTX_BYTES]);
    if non_ascii {
        return None;
    }
    // A word cut by the window edge is not a word.
    if lo > 0 && b[lo - 1].is_ascii_alphabetic() {
        let cut = (!mask).trailing_zeros();
        mask &= !((1u64 << cut) - 1);
    }
    // Each word's first and last letter as bits: the nearest word is the
    // highest of each, found by one `bsr` apiece (a dozen fewer
    // instructions a word than masking the letters below its end).
    let mut ends = mask & !(mask >> 1);
    let mut starts = mask & !(mask << 1);
    for _ in 0..MAX_CTX {
        if ends == 0 {
            break;
        }
        let hi = ends.ilog2() as usize;
        // (`| 1`: `starts` has a bit wherever `ends` has, and no zero
        // test is compiled.)
        let st = 63 - (starts | 1).leading_zeros() as usize;
        ends ^= 1 << hi;
        starts ^= 1 << st;
        let len = (hi + 1 - st).min(16);
        // (A constant `u64::MAX`, as `Context::before`'s, compiles to no
        // test.)
        if lead != u64::MAX && lead >> lead_bit(len, buf[st] | 0x20) & 1 == 0 {
            continue;
        }
        // Longer words count by their first 16 letters (as `pack` does).
        let mut w = [0u8; 16];
        w.copy_from_slice(&buf[st..st + 16]);
        let x = u128::from_le_bytes(w) | 0x2020_2020_2020_2020_2020_2020_2020_2020;
        if f(x & KEEP[len]) {
            return Some(true);
        }
    }
    Some(false)
}

impl Context {
    pub(super) fn before(b: &[u8], start: usize) -> Context {
        let mut c = Context {
            words: [0; MAX_CTX],
            n: 0,
            filter: 0,
            buckets: [0; MAX_CTX],
        };
        // The count and filter in locals, stored once: through `c` they
        // were loaded and stored again for every word.
        let (mut n, mut filter) = (0, 0u64);
        let ascii = ascii_words(b, start, u64::MAX, |word| {
            let k = bucket(word);
            if let (Some(w), Some(slot)) = (c.words.get_mut(n), c.buckets.get_mut(n)) {
                (*w, *slot) = (word, k as u8);
            }
            filter |= 1u64 << k;
            n += 1;
            false
        });
        if ascii.is_none() {
            // Non-ASCII words (`Straße`, `Geburtsdatum`, `Führerschein`):
            // the slower Unicode path, only for windows that need it.
            return Context::before_unicode(b, start.saturating_sub(CTX_BYTES), start);
        }
        c.n = n;
        c.filter = filter;
        c
    }

    /// `Context::before(b, start).has(words)`, for a caller with one
    /// question: the words are tested as they are found, nearest first,
    /// none stored (half the instructions of a context built and asked,
    /// on the ticket corpus).
    #[inline(never)]
    pub(super) fn has_before(b: &[u8], start: usize, words: &CtxWords) -> bool {
        match ascii_words(b, start, words.lead, |word| words.contains(word)) {
            Some(hit) => hit,
            None => Context::before_unicode(b, start.saturating_sub(CTX_BYTES), start).has(words),
        }
    }

    /// [`Context::before`] for a window with non-ASCII bytes: words are runs
    /// of alphabetic characters, folded per Unicode simple case folding
    /// ([`fold`]) and packed by their first 16 UTF-8 bytes, as the word
    /// lists are (which are written folded). Invalid UTF-8 separates words.
    #[cold]
    fn before_unicode(b: &[u8], lo: usize, start: usize) -> Context {
        let mut c = Context {
            words: [0; MAX_CTX],
            n: 0,
            filter: 0,
            buckets: [0; MAX_CTX],
        };
        let mut p = lo;
        while p < start && b[p] & 0xC0 == 0x80 {
            p += 1;
        }
        // A word cut by the window edge is not a word.
        let mut cut = p > 0 && {
            let mut q = p - 1;
            while q > 0 && p - q < 4 && b[q] & 0xC0 == 0x80 {
                q -= 1;
            }
            std::str::from_utf8(&b[q..p])
                .ok()
                .and_then(|t| t.chars().next_back())
                .is_some_and(char::is_alphabetic)
        };
        // Words in order, then the last MAX_CTX of them, nearest first.
        let mut all = [0u128; CTX_BYTES];
        let mut n = 0usize;
        let mut cur = [0u8; 16];
        let mut len = 0usize;
        let mut in_word = false;
        let mut finish =
            |cur: &mut [u8; 16], len: &mut usize, in_word: &mut bool, cut: &mut bool| {
                if *in_word {
                    if !*cut && n < all.len() {
                        all[n] = u128::from_le_bytes(*cur);
                        n += 1;
                    }
                    *cut = false;
                }
                *cur = [0; 16];
                *len = 0;
                *in_word = false;
            };
        for chunk in b[p..start].utf8_chunks() {
            for ch in chunk.valid().chars() {
                // An ASCII letter folds to its lower case, one byte (the
                // window is mostly ASCII: no Unicode tables for those).
                if ch.is_ascii_alphabetic() {
                    in_word = true;
                    if len < 16 {
                        cur[len] = (ch as u8).to_ascii_lowercase();
                        len += 1;
                    }
                } else if ch.is_alphabetic() {
                    in_word = true;
                    let mut tmp = [0u8; 4];
                    for &x in fold(ch).encode_utf8(&mut tmp).as_bytes() {
                        if len < 16 {
                            cur[len] = x;
                            len += 1;
                        }
                    }
                } else {
                    finish(&mut cur, &mut len, &mut in_word, &mut cut);
                    cut = false;
                }
            }
            if !chunk.invalid().is_empty() {
                finish(&mut cur, &mut len, &mut in_word, &mut cut);
                cut = false;
            }
        }
        finish(&mut cur, &mut len, &mut in_word, &mut cut);
        for &w in all[..n].iter().rev().take(MAX_CTX) {
            c.words[c.n] = w;
            let k = bucket(w);
            c.buckets[c.n] = k as u8;
            c.filter |= 1u64 << k;
            c.n += 1;
        }
        c
    }

    /// The nearest word says a licence is software's, not a person's.
    pub(super) fn soft_licence(&self) -> bool {
        const SOFT: &CtxWords = words!["key", "keys", "server", "seat", "seats", "file", "plan"];
        self.n > 0 && SOFT.contains(self.words[0])
    }

    #[inline(always)]
    pub(super) fn has(&self, words: &CtxWords) -> bool {
        const { assert!(CTX_BYTES.is_multiple_of(8) && CTX_BYTES <= 64) };
        // Only the words whose bucket the list has are looked up (most
        // contexts share a bucket with a list through one word, if any).
        let common = self.filter & words.filter;
        if common == 0 {
            return false;
        }
        // The words to look up as a bit set, built without a branch a
        // word (which the predictor missed: the word that shares the
        // bucket is anywhere among the six).
        let mut cand = 0u32;
        for (k, &bucket) in self.buckets.iter().enumerate() {
            cand |= (((common >> bucket) & 1) as u32) << k;
        }
        cand &= (1u32 << self.n.min(MAX_CTX)) - 1;
        while cand != 0 {
            let k = cand.trailing_zeros() as usize;
            cand &= cand - 1;
            if self.words[k] != 0 && words.in_bucket(self.words[k], self.buckets[k] as usize) {
                return true;
            }
        }
        false
    }
}

/// Unicode simple case folding of one character, as context words need it:
/// `char::to_lowercase` where that gives one character (`Ä` → `ä`, `ẞ` →
/// `ß`), plus the simple foldings lower-casing misses (`ς` → `σ`, `ſ` →
/// `s`); characters whose lower case is longer (`İ`) have no simple folding
/// and stay.
pub(crate) fn fold(c: char) -> char {
    match c {
        'ς' => 'σ',
        'ſ' => 's',
        'ι' | '\u{345}' | '\u{1FBE}' => 'ι',
        _ => {
            let mut l = c.to_lowercase();
            match (l.next(), l.next()) {
                (Some(x), None) => x,
                _ => c,
            }
        }
    }
}

/// Bit k set iff `window[k]` is an ASCII letter, and whether any byte is
/// non-ASCII. The letters are flagged with comparisons the
/// compiler vectorises (sixteen bytes an instruction), then each eight
/// flags gathered by one multiply: a third fewer instructions than a
/// bit-parallel test of each eight bytes.
#[inline(always)]
fn letters(window: &[u8]) -> (u64, bool) {
    let mut flags = [0u8; CTX_BYTES];
    for (f, &c) in flags.iter_mut().zip(window) {
        *f = u8::from((c | 0x20).wrapping_sub(b'a') < 26);
    }
    // (The OR of the bytes eight at a time: as one byte, the vector was
    // folded down to it in a dozen shuffles.)
    let high = window.chunks_exact(8).fold(0u64, |h, chunk| {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        h | u64::from_le_bytes(w)
    });
    let mut mask = 0u64;
    for (k, chunk) in flags.chunks_exact(8).enumerate() {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        // Byte k's flag lands in bit 56 + k, and no partial sum carries.
        mask |= (u64::from_le_bytes(w).wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * k);
    }
    (mask, high & super::HIGH_BITS != 0)
}

/// A lower-case ASCII word packed into an integer: its first 16 bytes, so
/// `steueridentifikationsnummer` and `organisationsnummer` count by their
/// 16-letter prefix (0 for the empty word, which never matches).
pub(super) const fn pack(w: &[u8]) -> u128 {
    if w.is_empty() {
        return 0;
    }
    let mut x: u128 = 0;
    let mut i = 0;
    while i < w.len() && i < 16 {
        x |= (w[i].to_ascii_lowercase() as u128) << (8 * i);
        i += 1;
    }
    x
}

pub(crate) const fn pack_all<const N: usize>(words: [&str; N]) -> [u128; N] {
    let mut out = [0u128; N];
    let mut i = 0;
    while i < N {
        out[i] = pack(words[i].as_bytes());
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::K;
    use crate::scan::secret::{ASSIGN_KEYS, QUERY_KEYS};

    #[test]
    fn letters_match_a_byte_loop() {
        let mut x: u64 = 0x1234_5678_9ABC_DEF1;
        let mut window = [0u8; CTX_BYTES];
        for round in 0..20_000 {
            for c in window.iter_mut() {
                crate::xorshift(&mut x);
                // Half the rounds ASCII only, to test the mask itself.
                *c = if round % 2 == 0 {
                    x as u8 & 0x7F
                } else {
                    x as u8
                };
            }
            let naive = window.iter().enumerate().fold(0u64, |m, (k, c)| {
                m | (u64::from(c.is_ascii_alphabetic()) << k)
            });
            let non_ascii = !window.is_ascii();
            assert_eq!(letters(&window), (naive, non_ascii), "{window:?}");
        }
        for c in 0..=255u8 {
            let mask = if c.is_ascii_alphabetic() {
                u64::MAX >> 16
            } else {
                0
            };
            assert_eq!(letters(&[c; CTX_BYTES]), (mask, c >= 0x80), "{c}");
        }
    }

    /// The ASCII path's words, found from the bits of their first and
    /// last letters, are those a byte loop finds: the runs of letters in
    /// the window (a run cut by its edge aside), nearest first.
    #[test]
    fn ascii_words_match_a_byte_loop() {
        const ALPHABET: &[u8] = b"abcXYZ qrstuvwxyzABCDEFGHIJKLMNOPabab -.,:1\n";
        let mut x: u64 = 0x0DDB_1A5E_5BAD_5EED;
        for _ in 0..3_000 {
            crate::xorshift(&mut x);
            let len = (x % 120) as usize;
            let text: Vec<u8> = (0..len)
                .map(|k| {
                    let r = x.rotate_left((k % 64) as u32) as usize + k * 13;
                    ALPHABET[r % ALPHABET.len()]
                })
                .collect();
            for start in 0..=text.len() {
                let lo = start.saturating_sub(CTX_BYTES);
                let mut runs = Vec::new();
                let mut k = lo;
                while k < start {
                    if text[k].is_ascii_alphabetic() {
                        let st = k;
                        while k < start && text[k].is_ascii_alphabetic() {
                            k += 1;
                        }
                        if st > lo || lo == 0 || !text[lo - 1].is_ascii_alphabetic() {
                            runs.push(pack(&text[st..k]));
                        }
                    } else {
                        k += 1;
                    }
                }
                let want: Vec<u128> = runs.iter().rev().take(MAX_CTX).copied().collect();
                let c = Context::before(&text, start);
                assert_eq!(&c.words[..c.n], &want[..], "{text:?} {start}");
                for (k, &w) in want.iter().enumerate() {
                    assert_eq!(u32::from(c.buckets[k]), bucket(w));
                    assert!(c.filter & (1 << bucket(w)) != 0);
                }
            }
        }
    }

    /// `has_before` answers what a context built and asked answers, in
    /// ASCII and Unicode windows alike.
    #[test]
    fn has_before_matches_a_built_context() {
        let words = [
            "phone",
            "mobile",
            "card",
            "Steueridentifikationsnummer",
            "tel",
            "straße",
            "führerschein",
            "x",
        ];
        let lists = [
            K::DeTaxId.context(),
            K::Phone.context(),
            K::CreditCard.context(),
            K::DeDriverLicense.context(),
            K::Iban.context(),
            words!["x", "card"],
        ];
        let mut x: u64 = 0x1234_5678_9ABC_DEF1;
        let (mut hits, mut misses) = (0, 0);
        for _ in 0..3_000 {
            let mut text = String::new();
            while text.len() < 90 {
                crate::xorshift(&mut x);
                text.push_str(words[(x % 8) as usize]);
                text.push_str([" ", ": ", "\n", "-", ", ", "é "][(x >> 8) as usize % 6]);
            }
            let b = text.as_bytes();
            for start in 0..=b.len() {
                let built = Context::before(b, start);
                for list in lists {
                    let want = built.has(list);
                    (hits, misses) = if want {
                        (hits + 1, misses)
                    } else {
                        (hits, misses + 1)
                    };
                    assert_eq!(
                        Context::has_before(b, start, list),
                        want,
                        "{text:?} {start}"
                    );
                }
            }
        }
        assert!(hits > 10_000 && misses > 10_000, "{hits} {misses}");
    }

    #[test]
    fn context_words_nearest_first() {
        let text = b"Hello: my National Insurance number is XX";
        let c = Context::before(text, text.len() - 2);
        assert_eq!(c.n, 6);
        assert_eq!(c.words[0], pack(b"is"));
        assert_eq!(c.words[2], pack(b"insurance"));
        assert!(c.has(words!["insurance"]));
        assert!(c.has(words!["a", "b", "number"]));
        assert!(!c.has(words!["ssn"]));
        // A word cut by the 48-byte window does not count.
        let long = [b"passport".as_slice(), &[b'x'; 60], b" 123"].concat();
        let c = Context::before(&long, long.len() - 3);
        assert_eq!(c.n, 0);
        // Words longer than 16 letters count by their 16-letter prefix.
        let text = b"Steueridentifikationsnummer: 1";
        let c = Context::before(text, text.len() - 1);
        assert!(c.has(K::DeTaxId.context()));
        assert!(!c.has(words!["steuerklassenwechsel"]));
    }
    /// Every list of context words with each of its words, packed, and
    /// the word's bytes (at most 16).
    fn listed_words() -> impl Iterator<Item = (&'static CtxWords, u128, Vec<u8>)> {
        let lists = K::ALL
            .iter()
            .map(|k| k.context())
            .chain([ASSIGN_KEYS, QUERY_KEYS]);
        lists.flat_map(|list| {
            list.words[..list.n].iter().map(move |&w| {
                let bytes = w.to_le_bytes();
                let len = bytes.iter().position(|&x| x == 0).unwrap_or(16);
                (list, w, bytes[..len].to_vec())
            })
        })
    }

    #[test]
    fn context_word_lists_are_folded() {
        for (_, _, bytes) in listed_words() {
            let text = match std::str::from_utf8(&bytes) {
                Ok(t) => t,
                Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap(),
            };
            let folded: String = text.chars().map(fold).collect();
            assert_eq!(folded, text, "context word {text:?} is not folded");
        }
    }

    /// Every word of every list is found, in the text as in a built
    /// context: a lookup once searched only the first 20 slots, so a
    /// longer list lost words silently (and with them the phone's).
    #[test]
    fn every_listed_word_is_found() {
        for (list, w, bytes) in listed_words() {
            assert!(list.contains(w), "{bytes:?}");
            let Ok(word) = std::str::from_utf8(&bytes) else {
                continue; // a longer word's prefix, cut inside a character
            };
            if !word.chars().all(char::is_alphabetic) {
                continue; // a key (`api_key`), matched as keys are
            }
            let text = [b"x ", bytes.as_slice(), b": 1"].concat();
            assert!(
                Context::has_before(&text, text.len() - 1, list),
                "{:?}",
                String::from_utf8_lossy(&text)
            );
            assert!(Context::before(&text, text.len() - 1).has(list));
        }
        assert_eq!(K::Phone.context().n, 31);
    }

    /// Every key a `:` or `=` assignment looks for ends in a pair of
    /// letters `key_ending` lets through.
    #[test]
    fn assignment_keys_pass_the_ending_filter() {
        for list in [ASSIGN_KEYS, QUERY_KEYS] {
            for &w in &list.words[..list.n] {
                let bytes = w.to_le_bytes();
                let len = bytes.iter().position(|&x| x == 0).unwrap_or(16);
                // (Packed, a key is cut at sixteen bytes: a longer one's
                // own ending would go unchecked here.)
                assert!((3..16).contains(&len), "{bytes:?}");
                let (x, y) = (bytes[len - 2], bytes[len - 1]);
                assert!(crate::scan::secret::key_ending(x, y), "{bytes:?}");
            }
        }
    }

    #[test]
    fn unicode_context_words() {
        let t = "Geburtsdatum: x".as_bytes();
        let c = Context::before(t, t.len() - 1);
        assert!(c.has(words!["geburtsdatum"]));
        let t = "ÄRZTIN Müller x".as_bytes();
        let c = Context::before(t, t.len() - 1);
        assert_eq!(c.n, 2);
        assert!(c.has(words!["ärztin"]) && c.has(words!["müller"]));
        assert!(!c.has(words!["arztin"]));
        assert_eq!(fold('ẞ'), 'ß');
        assert_eq!(fold('Σ'), 'σ');
        assert_eq!(fold('ς'), 'σ');
        assert_eq!(fold('İ'), 'İ');
        // `before_unicode`'s ASCII shortcut: an ASCII letter folds to its
        // lower case, and only ASCII letters are alphabetic.
        for c in (0..128u8).map(char::from) {
            assert_eq!(c.is_alphabetic(), c.is_ascii_alphabetic(), "{c:?}");
            if c.is_ascii_alphabetic() {
                assert_eq!(fold(c), c.to_ascii_lowercase(), "{c:?}");
            }
        }
        // Invalid UTF-8 separates words and is never a word.
        let t = b"stra\xffsse x";
        let c = Context::before(t, t.len() - 1);
        assert!(c.has(words!["stra"]) && c.has(words!["sse"]));
    }
}
