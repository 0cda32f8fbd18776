//! The single-pass byte scanner behind the built-in recognizers.
//!
//! One loop walks the bytes. Most bytes (lower-case letters, spaces,
//! punctuation) belong to class 0 and are skipped by a tight inner loop. The
//! few trigger bytes start a hand-written matcher at that spot only:
//!
//! | trigger | matchers |
//! |---|---|
//! | digit at a token start | numbers (cards, national ids, IPv4, dates, German tax and health numbers, postcodes), phones, NIF, HETU, MAC, Telematik-ID, pension number |
//! | `+`, `(` before a digit | phones |
//! | upper-case letter at a token start | IBAN, NINO, AWS keys, bearer tokens, postcodes, NHI, NIE, fiscal code, passports, German VAT id, commercial register, KVNR, plates, documents |
//! | `@` | email, URL credentials (look back over the local part) |
//! | `_`, `-` | token prefixes `ghp_`, `sk_live_`, `xoxb-`, `glpat-`, …; `-----BEGIN` private keys (body walked line by line to the end line) |
//! | `J` after `ey` | JWTs |
//! | `:` | MAC and IPv6 (look back over hex), `password:`-style assignments |
//! | `=` | `password=`, `token=`, `api_key=` assignments and query parameters |
//!
//! Every matcher reads a bounded number of bytes forward (or, for look-backs,
//! never behind the end of the previous finding and never more than a few
//! dozen bytes), and the loop resumes after the match or after the current
//! alphanumeric run, so the whole scan is linear in the input length.
//!
//! This module holds the loop and the dispatch per trigger byte; the
//! matchers live by family ([`contact`], [`finance`], [`secret`]) or by
//! country ([`us`], [`uk`], [`ca`], [`nz`], [`de`], [`eu`]); digit runs,
//! whose shapes several countries share, are classified in one place
//! ([`number`]), and so are letter-led documents ([`document`]). Each kind
//! is declared once, with its recognizer name, scope and context words, in
//! [`crate::kind`].

// The small matchers `upper` tries at every capital of their shape (NHI,
// NIE, fiscal code, …) are `#[inline(always)]`: they were its inline code
// before the split, and a call each costs on the ticket corpus.
mod ca;
mod contact;
mod context;
mod de;
mod document;
mod eu;
mod finance;
mod ie;
mod number;
mod nz;
mod secret;
mod uk;
mod unicode;
mod us;

pub(crate) use context::{CtxWords, fold, pack_all, words};
pub(crate) use secret::{Pem, pem_body};
pub(crate) use unicode::AsciiForms;

use crate::kind::K;
use context::Context;

/// Which built-in kinds are on (bit `K as u8`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KindSet(pub(crate) u128);

impl KindSet {
    #[inline]
    pub(crate) fn has(self, k: K) -> bool {
        self.0 & (1u128 << (k as u8)) != 0
    }
}

/// The boost a context word gives, as in Presidio.
pub(crate) const CONTEXT_BOOST: f32 = 0.35;
/// A `POSTCODE`'s score before its context boost: with it, below an
/// `ADDRESS` (0.9), so the address a postcode ends keeps the postcode.
pub(crate) const POSTCODE_BASE: f32 = 0.4;

/// The most findings [`Scanner::new`] reserves room for at once.
const MAX_RESERVED_FINDINGS: usize = 1 << 20;

const C_DIGIT: u8 = 1;
const C_UPPER: u8 = 2;
const C_AT: u8 = 3;
const C_PLUS_PAREN: u8 = 4;
const C_DASH: u8 = 5;
const C_COLON: u8 = 6;
const C_EQ: u8 = 7;
/// The lead byte of a multi-byte character: only the entity pass stops
/// there (a Unicode capital may start a name).
const C_LEAD: u8 = 8;
/// A line's end: only the entity pass stops there (it reads lines written
/// in lower case, see `entity::lower_case`).
const C_NEWLINE: u8 = 9;

const fn classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut c = b'0';
    while c <= b'9' {
        t[c as usize] = C_DIGIT;
        c += 1;
    }
    c = b'A';
    while c <= b'Z' {
        t[c as usize] = C_UPPER;
        c += 1;
    }
    t[b'@' as usize] = C_AT;
    t[b'+' as usize] = C_PLUS_PAREN;
    t[b'(' as usize] = C_PLUS_PAREN;
    t[b'-' as usize] = C_DASH;
    t[b'_' as usize] = C_DASH;
    t[b':' as usize] = C_COLON;
    t[b'=' as usize] = C_EQ;
    t
}

static CLASS: [u8; 256] = classes();

/// [`CLASS`] with the lead bytes of multi-byte characters, for when the
/// entity pass is on.
static CLASS_ENTITY: [u8; 256] = {
    let mut t = classes();
    let mut c = 0xC0;
    while c < 256 {
        t[c] = C_LEAD;
        c += 1;
    }
    t[b'\n' as usize] = C_NEWLINE;
    t
};

#[inline]
fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

#[inline]
fn is_alnum(c: u8) -> bool {
    c.is_ascii_alphanumeric()
}

#[inline]
fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

/// A byte classifier: `alnum` at every ASCII letter and digit, then each
/// set's value at its bytes, in order (later sets win).
const fn byte_table(alnum: u8, sets: &[(&[u8], u8)]) -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        if (c as u8).is_ascii_alphanumeric() {
            t[c] = alnum;
        }
        c += 1;
    }
    let mut i = 0;
    while i < sets.len() {
        let (bytes, value) = sets[i];
        let mut k = 0;
        while k < bytes.len() {
            t[bytes[k] as usize] = value;
            k += 1;
        }
        i += 1;
    }
    t
}

/// What the byte before a token says about its start (0: it starts one,
/// 1: it does not, 2: look further), one load where there were a branch
/// per test, each missed as often as the bytes before tokens vary.
static BEFORE_TOKEN: [u8; 256] = byte_table(
    1,
    &[
        (b"$#_&%\\@", 1),
        // Separators (`.`, `-`, `:`, `/`, `+`) and the last bytes of `£`,
        // `¥` and `€`.
        (b".-:/+\xA3\xA5\xAC", 2),
    ],
);

/// Is `i` the start of a token: not inside a word, a dotted version, a
/// hyphenated id or an amount?
#[inline]
fn token_start(b: &[u8], i: usize) -> bool {
    let Some(&p) = i.checked_sub(1).and_then(|k| b.get(k)) else {
        return true;
    };
    match BEFORE_TOKEN[p as usize] {
        0 => true,
        1 => false,
        _ => token_start_after(b, i, p),
    }
}

/// [`token_start`] after a separator or a currency sign's last byte.
fn token_start_after(b: &[u8], i: usize, p: u8) -> bool {
    if matches!(p, b'.' | b'-' | b':' | b'/' | b'+') && i >= 2 && is_alnum(b[i - 2]) {
        // A value glued to its label by a colon (`card:4111…`, `IBAN:DE89…`)
        // starts a token; `10:30`, `v2:…` and `fe80:…` do not.
        return p == b':' && glued_label(b, i - 1);
    }
    // A currency sign just before (€, £, ¥ are multi-byte; their last byte
    // is a continuation byte): treat amounts as amounts.
    if i >= 2 && matches!(&b[i - 2..i], [0xC2, 0xA3] | [0xC2, 0xA5]) {
        return false;
    }
    if i >= 3 && b[i - 3..i] == [0xE2, 0x82, 0xAC] {
        return false;
    }
    true
}

/// Whether the bytes before the colon at `colon` are a label of 2 to 32
/// ASCII letters (`_` and `-` inside) that itself starts a token.
#[cold]
fn glued_label(b: &[u8], colon: usize) -> bool {
    let mut s = colon;
    while s > 0
        && colon - s < 32
        && (b[s - 1].is_ascii_alphabetic() || matches!(b[s - 1], b'_' | b'-'))
    {
        s -= 1;
    }
    colon - s >= 2
        && b[s].is_ascii_alphabetic()
        && b[colon - 1].is_ascii_alphabetic()
        && (s == 0 || !(is_alnum(b[s - 1]) || matches!(b[s - 1], b':' | b'/' | b'.' | b'@')))
}

/// What the byte after a match says about its end (0: it ends a token,
/// 1: it does not, 2: look at the next), as [`BEFORE_TOKEN`].
static AFTER_TOKEN: [u8; 256] = byte_table(1, &[(b"_@", 1), (b".-:/,", 2)]);

/// Does a match ending at `e` end a token (so `12.3` or `abc1` continue it)?
#[inline]
fn token_end(b: &[u8], e: usize) -> bool {
    let n = at(b, e);
    match AFTER_TOKEN[n as usize] {
        0 => true,
        1 => false,
        // `1,234` or `12.5` continue a number; `a-b` a word.
        _ => !is_alnum(at(b, e + 1)) || n == b',' && !at(b, e + 1).is_ascii_digit(),
    }
}

/// The end of the ASCII alphanumeric run at `i`.
fn skip_alnum(b: &[u8], mut i: usize) -> usize {
    // Eight bytes a test: most runs end in the first eight, so the loop
    // branch is predictable where a byte loop's exit is not.
    while let Some(chunk) = b.get(i..i + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let other = !alnum_bytes(u64::from_le_bytes(w)) & HIGH_BITS;
        if other != 0 {
            return i + (other.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && is_alnum(b[i]) {
        i += 1;
    }
    i
}

const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// The length of the run of base64url characters (letters, digits, `-`,
/// `_`) at `i`, at most `max`, eight bytes a test: a JWT's segments are
/// hundreds of bytes.
fn base64url_len(b: &[u8], i: usize, max: usize) -> usize {
    let mut n = 0;
    while n < max
        && let Some(chunk) = b.get(i + n..i + n + 8)
    {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let v = u64::from_le_bytes(w);
        let ok = alnum_bytes(v)
            | zero_bytes(v ^ 0x2D2D_2D2D_2D2D_2D2D)
            | zero_bytes(v ^ 0x5F5F_5F5F_5F5F_5F5F);
        let other = !ok & HIGH_BITS;
        if other != 0 {
            // (A `max` not a multiple of 8 may fall inside the chunk.)
            return (n + (other.trailing_zeros() / 8) as usize).min(max);
        }
        n += 8;
    }
    while n < max
        && b.get(i + n)
            .is_some_and(|&c| is_alnum(c) || c == b'-' || c == b'_')
    {
        n += 1;
    }
    n.min(max)
}

/// The high bit of each byte of `v` that is 0 (exact: no borrow or carry
/// crosses a byte).
#[inline]
fn zero_bytes(v: u64) -> u64 {
    const LO7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    !(((v & LO7) + LO7) | v) & HIGH_BITS
}

/// The high bit of each byte of `v` that is an ASCII letter or digit
/// (SWAR: no byte's sum carries into the next).
#[inline]
fn alnum_bytes(v: u64) -> u64 {
    const LO7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let y = (v | 0x2020_2020_2020_2020) & LO7;
    let letters = (y + 0x1F1F_1F1F_1F1F_1F1F) & !(y + 0x0505_0505_0505_0505);
    let d = v & LO7;
    let digits = (d + 0x5050_5050_5050_5050) & !(d + 0x4646_4646_4646_4646);
    (letters | digits) & !v & HIGH_BITS
}

/// The eight bytes at `i`, zeros past the end.
// (The text's end out of line: with both in one array the compiler built
// the word a byte at a time, 30 instructions where one load does.)
#[inline(always)]
fn word_at(b: &[u8], i: usize) -> u64 {
    match b.get(i..i + 8) {
        Some(chunk) => {
            let mut w = [0u8; 8];
            w.copy_from_slice(chunk);
            u64::from_le_bytes(w)
        }
        None => word_at_end(b, i),
    }
}

/// [`word_at`] near the text's end.
#[cold]
#[inline(never)]
fn word_at_end(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    for (k, x) in w.iter_mut().enumerate() {
        *x = at(b, i + k);
    }
    u64::from_le_bytes(w)
}

/// The number of ASCII capitals and digits at `i`, at most 16, counted
/// eight bytes a test (the byte loop missed its exit once a token).
#[inline(always)]
fn upper_digit_len16(b: &[u8], i: usize) -> usize {
    let other = |v: u64| {
        const LO7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
        let y = v & LO7;
        let upper = (y + 0x3F3F_3F3F_3F3F_3F3F) & !(y + 0x2525_2525_2525_2525);
        let digit = (y + 0x5050_5050_5050_5050) & !(y + 0x4646_4646_4646_4646);
        !((upper | digit) & !v) & HIGH_BITS
    };
    let first = other(word_at(b, i));
    if first != 0 {
        return (first.trailing_zeros() / 8) as usize;
    }
    let second = other(word_at(b, i + 8));
    if second != 0 {
        return 8 + (second.trailing_zeros() / 8) as usize;
    }
    16
}

/// The first byte at or after `i` whose class is not 0 (in [`CLASS`], or
/// [`CLASS_ENTITY`] with `ENTITY`), or `b.len()`.
#[cfg(test)]
fn next_trigger<const ENTITY: bool>(b: &[u8], i: usize) -> usize {
    let mut fresh = Triggers::NONE;
    fresh.next::<ENTITY>(b, i)
}

/// The sixteen bytes at `start` where the skip loop last found a trigger,
/// and their flags ([`triggers`]), bit k for byte k: a stop a few bytes
/// on, as most are on tickets, is found from the flags rather than by
/// testing the bytes again.
struct Triggers {
    start: usize,
    flags: u32,
}

impl Triggers {
    /// Nothing tested yet.
    const NONE: Triggers = Triggers {
        start: usize::MAX,
        flags: 0,
    };

    /// The first byte at or after `i` whose class is not 0 (in [`CLASS`],
    /// or [`CLASS_ENTITY`] with `ENTITY`), or `b.len()`.
    #[inline(always)]
    fn next<const ENTITY: bool>(&mut self, b: &[u8], mut i: usize) -> usize {
        if i >= self.start && i - self.start < 16 {
            let rest = self.flags >> (i - self.start);
            if rest != 0 {
                return i + rest.trailing_zeros() as usize;
            }
            // (No trigger in the rest of those bytes.)
            i = self.start + 16;
        }
        while let Some(chunk) = b.get(i..i + 16) {
            let mut w = [0u8; 16];
            w.copy_from_slice(chunk);
            let t = triggers::<ENTITY>(&w);
            if t != 0 {
                // (As bits: shifting the 128-bit flags by a variable
                // count cost a dozen instructions a stop.)
                let flags = flag_bits(t);
                (self.start, self.flags) = (i, flags);
                return i + flags.trailing_zeros() as usize;
            }
            i += 16;
        }
        let class = if ENTITY { &CLASS_ENTITY } else { &CLASS };
        let rest = b.get(i..).unwrap_or_default();
        i + rest
            .iter()
            .position(|&c| class[c as usize] != 0)
            .unwrap_or(rest.len())
    }
}

/// Bit k set where byte k of `t` (each 0 or 1) is 1: each eight bytes
/// gathered by one multiply, as in `context::letters`.
#[inline(always)]
fn flag_bits(t: u128) -> u32 {
    const GATHER: u64 = 0x0102_0408_1020_4080;
    let lo = (t as u64).wrapping_mul(GATHER) >> 56;
    let hi = ((t >> 64) as u64).wrapping_mul(GATHER) >> 56;
    (lo | hi << 8) as u32
}

/// Byte k is 1 where byte k of `w` has a class other than 0, else 0.
// Written as comparisons, not table loads, so that it compiles to a dozen
// vector instructions for the sixteen bytes (SSE2, the x86-64 baseline);
// the trigger is then found from the trailing zeros, without the byte
// loop whose exit the predictor misses once an anchor.
#[inline(always)]
fn triggers<const ENTITY: bool>(w: &[u8; 16]) -> u128 {
    let mut t = [0u8; 16];
    for (x, &c) in t.iter_mut().zip(w) {
        let digit_colon = c.wrapping_sub(b'0') <= b':' - b'0';
        let at_upper = c.wrapping_sub(b'@') <= b'Z' - b'@';
        let sign = (c == b'(') | (c == b'+') | (c == b'-') | (c == b'=') | (c == b'_');
        let lead = ENTITY & ((c >= 0xC0) | (c == b'\n'));
        *x = u8::from(digit_colon | at_upper | sign | lead);
    }
    u128::from_le_bytes(t)
}

/// The scanner's state for one text.
pub(crate) struct Scanner<'a> {
    b: &'a [u8],
    on: KindSet,
    floor: usize,
    /// Any German recognizer that starts at a capital is on.
    de_german_on: bool,
    min_score: f32,
    pub(crate) findings: Vec<crate::Finding>,
    /// The [`code_bit`]s of the `POSTCODE`s found: a code found again is
    /// looked for among the findings only if its bit is set.
    postcodes: u64,
    /// A `POSTCODE` or a `CA_POSTAL_CODE` was found: only then may a
    /// Québec box end at one of the findings (see `Pass::finish`).
    pub(crate) postal: bool,
    /// A no-break, thin or ideographic space, a Unicode hyphen or a
    /// full-width digit or phone sign was met (`unicode::form_at`, asked
    /// at each lead byte, so curly quotes and dashes do not count; only
    /// noted with the entity pass on, which stops at every lead byte): the
    /// text may write a number in those forms (see [`AsciiForms`]).
    unicode_forms: bool,
    /// The entity pass (people, addresses, organisations), called at the
    /// capitals this loop stops at.
    pub(crate) entity: crate::entity::Pass<'a>,
}

/// The German recognizers that start at a capital, as a [`KindSet`] mask
/// (one test a text, where a loop over the list cost 40 instructions: a
/// ticket's text is a call).
const DE_GERMAN: u128 = {
    let kinds = [
        K::DeVatCode,
        K::DeCommercialRegister,
        K::DeKvnr,
        K::DeLicensePlate,
        K::DeIdCard,
        K::DePassport,
        K::DePersonalId,
        K::DeDriverLicense,
    ];
    let mut mask = 0u128;
    let mut k = 0;
    while k < kinds.len() {
        mask |= 1u128 << (kinds[k] as u8);
        k += 1;
    }
    mask
};

impl<'a> Scanner<'a> {
    /// A scanner that writes its findings into `findings` (emptied first:
    /// a caller's buffer, reused from text to text).
    pub(crate) fn new(
        b: &'a [u8],
        on: KindSet,
        min_score: f32,
        mut findings: Vec<crate::Finding>,
    ) -> Self {
        findings.clear();
        // On a long text, room for a finding every 48 bytes (the dev
        // corpus of tickets has one every 57), reserved at once: growing by
        // doubling copied the findings several times, each time into fresh
        // pages the kernel faulted in (a tenth of the time on the corpus).
        // `Detector::detect_bytes` gives back what a sparse text leaves
        // unused. A ticket's few findings grow as before, and so do a huge
        // text's past a million (the reservation, untouched pages until
        // written, stays under 100 MiB of address space).
        if b.len() >= 4096 {
            findings.reserve((b.len() / 48).min(MAX_RESERVED_FINDINGS));
        }
        Scanner {
            b,
            on,
            floor: 0,
            de_german_on: on.0 & DE_GERMAN != 0,
            min_score,
            findings,
            postcodes: 0,
            postal: false,
            unicode_forms: false,
            entity: crate::entity::Pass::new(b, on, min_score),
        }
    }

    fn push(
        &mut self,
        start: usize,
        end: usize,
        kind: K,
        score: f32,
        recognizer: &'static str,
    ) -> usize {
        let score = score.min(1.0);
        if score >= self.min_score {
            if kind == K::Postcode || kind == K::CaPostalCode {
                self.note_postcode(kind, start, end);
            }
            self.findings.push(crate::Finding {
                kind: kind.kind(),
                start,
                end,
                score,
                recognizer: std::borrow::Cow::Borrowed(recognizer),
            });
        }
        self.floor = end;
        end
    }

    // (Out of line: the rare kind, kept out of the inlined `push`.)
    #[cold]
    #[inline(never)]
    fn note_postcode(&mut self, kind: K, start: usize, end: usize) {
        self.postal = true;
        if kind == K::Postcode {
            self.postcodes |= code_bit(&self.b[start..end]);
        }
    }

    /// The context words before `start`.
    fn ctx(&self, start: usize) -> Context {
        Context::before(self.b, start)
    }

    /// Push with the context boost for `kind` applied.
    fn push_ctx(&mut self, start: usize, end: usize, kind: K, base: f32) -> usize {
        let score = if Context::has_before(self.b, start, kind.context()) {
            base + CONTEXT_BOOST
        } else {
            base
        };
        self.push(start, end, kind, score, kind.recognizer())
    }

    /// A postcode of some country's shape at `start..end`. Named by a
    /// postcode word (`postcode`, `ZIP`, `postal code`, `Eircode`, `PLZ`)
    /// it is a `POSTCODE`, whatever its country: what a reader of the text
    /// would call it. Found by its shape alone it is `regional` (only in
    /// that region's scope), raised by that kind's own context words.
    fn postcode_shaped(
        &mut self,
        start: usize,
        end: usize,
        regional: Option<K>,
        base: f32,
    ) -> Option<usize> {
        let ctx = self.ctx(start);
        if self.on.has(K::Postcode)
            && (self.names_code(ctx, start, K::Postcode.context())
                || postcode_word_on_line(self.b, start)
                || self.postcode_sibling(start, end, false))
        {
            return Some(self.push_boosted(start, end, K::Postcode, base.max(POSTCODE_BASE)));
        }
        let kind = regional.filter(|&k| self.on.has(k))?;
        let score = if ctx.has(kind.context()) {
            base + CONTEXT_BOOST
        } else {
            base
        };
        Some(self.push(start, end, kind, score, kind.recognizer()))
    }

    /// Do `words` in `ctx`, the context before `start`, name the code
    /// there? Only a word on the code's own line counts, or on the line
    /// above when the code starts its line (a form's `Postcode:` label): a
    /// CSV header's `postcode` names a column, not the cell below it.
    fn names_code(&self, ctx: Context, start: usize, words: &CtxWords) -> bool {
        if !ctx.has(words) {
            return false;
        }
        let b = self.b;
        let window = &b[start.saturating_sub(48)..start];
        match window.iter().rposition(|&c| c == b'\n') {
            Some(nl) if nl + 1 < window.len() => {
                let line = start - window.len() + nl + 1;
                Context::has_before(&b[line..], start - line, words)
                    // `…confirm your postcode?\n10:03 Customer: B12 9QP`:
                    // a chat's answer to the line above's question.
                    || crate::entity::speaker_prefix(&b[line..start])
                        && asked_line_before(&b[..line])
            }
            // The code opens its line: the line above must end with the
            // word, as a label (`Postcode:`), not hold it among a CSV
            // header's columns (`postcode,status`).
            Some(_) => label_line_before(&b[..start]),
            None => true,
        }
    }

    /// A token of exactly `len` bytes at `s` that `valid` accepts (a
    /// check character or digit), at `base` raised by context.
    #[inline(always)]
    fn checked_token(
        &mut self,
        s: usize,
        len: usize,
        kind: K,
        base: f32,
        valid: fn(&[u8]) -> bool,
    ) -> Option<usize> {
        let b = self.b;
        let e = s + len;
        if e > b.len() || !token_end(b, e) || !valid(&b[s..e]) {
            return None;
        }
        Some(self.push_ctx(s, e, kind, base))
    }

    /// Push only with a context word before `start`, at `base` plus the
    /// boost: for shapes too common to count alone.
    fn push_in_context(&mut self, start: usize, end: usize, kind: K, base: f32) -> Option<usize> {
        if !Context::has_before(self.b, start, kind.context()) {
            return None;
        }
        Some(self.push_boosted(start, end, kind, base))
    }

    /// Push at `base` plus the context boost, the caller having seen the
    /// context word.
    fn push_boosted(&mut self, start: usize, end: usize, kind: K, base: f32) -> usize {
        self.push(start, end, kind, base + CONTEXT_BOOST, kind.recognizer())
    }

    /// May the text write a number in Unicode forms (see
    /// [`AsciiForms`])? Asked after [`Scanner::run`]: with the entity pass
    /// on, the scan noted it; otherwise any non-ASCII byte may.
    pub(crate) fn may_have_unicode_forms(&self) -> bool {
        if self.entity.next != usize::MAX {
            self.unicode_forms
        } else {
            !self.b.is_ascii()
        }
    }

    pub(crate) fn run(&mut self) {
        let b = self.b;
        let n = b.len();
        let entity = self.entity.next != usize::MAX;
        if entity {
            self.entity.keep_recent_words();
        }
        let class: &[u8; 256] = if entity { &CLASS_ENTITY } else { &CLASS };
        let mut i = 0;
        let mut skip = Triggers::NONE;
        while i < n {
            // Tight skip over bytes that cannot start anything.
            loop {
                i = if entity {
                    skip.next::<true>(b, i)
                } else {
                    skip.next::<false>(b, i)
                };
                // A capitalised word (`Hello`) starts nothing unless it is
                // `Bearer` or the `J` of `eyJ`: skip it without dispatching,
                // after the entity pass has read it.
                if i + 1 < n
                    && class[b[i] as usize] == C_UPPER
                    && b[i + 1].is_ascii_lowercase()
                    && b[i] != b'B'
                    && b[i] != b'J'
                {
                    if i >= self.entity.next {
                        self.entity.at(i);
                    }
                    i += 2;
                    continue;
                }
                break;
            }
            if i >= n {
                break;
            }
            let next = match class[b[i] as usize] {
                C_DIGIT => {
                    if token_start(b, i) {
                        self.digit(i).unwrap_or_else(|| skip_alnum(b, i))
                    } else {
                        skip_alnum(b, i)
                    }
                }
                C_UPPER => {
                    let found = if b[i] == b'J'
                        && i >= 2
                        && b[i - 2] == b'e'
                        && b[i - 1] == b'y'
                        && i - 2 >= self.floor
                        && token_start(b, i - 2)
                    {
                        self.jwt(i - 2).ok_or(i + 1)
                    } else if token_start(b, i) {
                        // Nothing starts inside the rest of an upper-case token.
                        self.upper(i).ok_or_else(|| skip_alnum(b, i))
                    } else {
                        Err(skip_alnum(b, i))
                    };
                    match found {
                        Ok(e) => e,
                        Err(e) => {
                            if i >= self.entity.next {
                                self.entity.at(i);
                            }
                            e
                        }
                    }
                }
                C_LEAD => {
                    self.unicode_forms |= unicode::form_at(b, i).is_some();
                    if i >= self.entity.next {
                        self.entity.at(i);
                    }
                    i + 1
                }
                C_AT => self.at_sign(i).unwrap_or(i + 1),
                C_PLUS_PAREN => {
                    if at(b, i + 1).is_ascii_digit() && token_start(b, i) && self.on.has(K::Phone) {
                        self.phone_at(i).unwrap_or(i + 1)
                    } else {
                        i + 1
                    }
                }
                C_DASH => self.dash(i).unwrap_or(i + 1),
                C_COLON => {
                    if entity {
                        self.entity.colon(i);
                    }
                    self.colon(i).unwrap_or(i + 1)
                }
                C_NEWLINE => {
                    self.entity.newline(i);
                    i + 1
                }
                C_EQ => self.assignment(i, b'=').unwrap_or(i + 1),
                _ => i + 1,
            };
            i = next.max(i + 1);
        }
    }

    /// Matchers that start at a capital at a token start.
    // Out of line, as is `digit`: inlined into `run`, the two bulkiest
    // dispatchers pushed the skip loop's registers onto the stack (about 1%
    // more instructions on PII-free prose, measured with callgrind).
    #[inline(never)]
    fn upper(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        let c1 = at(b, s + 1);
        if c1.is_ascii_lowercase() {
            if b[s] == b'B' && b.get(s..s + 7) == Some(b"Bearer ") {
                return self.bearer(s + 7);
            }
            return None;
        }
        let c2 = at(b, s + 2);
        let c3 = at(b, s + 3);
        if at(b, s + 5).is_ascii_digit()
            && self.on.has(K::UkDrivingLicence)
            && let Some(e) = self.uk_driving_licence(s)
        {
            return Some(e);
        }
        if b[s] == b'A'
            && c1 == b'I'
            && c2 == b'z'
            && c3 == b'a'
            && self.on.has(K::Secret)
            && let Some(e) = self.google_api_key(s)
        {
            return Some(e);
        }
        let up_or_digit = |c: u8| c.is_ascii_uppercase() || c.is_ascii_digit();
        // German identifiers: a second character that can continue one.
        if (up_or_digit(c1)
            || c1 == b' ' && up_or_digit(c2)
            || c1 == b'-' && c2.is_ascii_uppercase()
            || c1 == 0xC3)
            && self.de_german_on
            && let Some(e) = self.de_upper(s)
        {
            return Some(e);
        }
        // The run of capitals and digits at `s` (at most 16), for the
        // shapes made of one: at least 3 long where both next bytes are.
        let run = if up_or_digit(c1) && up_or_digit(c2) {
            upper_digit_len16(b, s)
        } else {
            0
        };
        // German documents: at least three capitals or digits, and (as
        // `de_document` asks first) 8 to 15 of them, or a group with a
        // digit that a space may join to more (`SIN `, `IBAN ` stop here).
        if run >= 3
            && self.de_german_on
            && ((8..=15).contains(&run)
                || run < 8
                    && at(b, s + run) == b' '
                    && b[s..s + run].iter().any(u8::is_ascii_digit))
            && let Some(e) = self.de_document(s)
        {
            return Some(e);
        }
        if c1.is_ascii_uppercase() {
            if c2.is_ascii_digit()
                && c3.is_ascii_digit()
                && self.on.has(K::Iban)
                && let Some(e) = self.iban(s)
            {
                return Some(e);
            }
            if (c2.is_ascii_digit() || c2 == b' ' && c3.is_ascii_digit())
                && self.on.has(K::UkNino)
                && let Some(e) = self.nino(s)
            {
                return Some(e);
            }
            if c2.is_ascii_digit()
                && let Some(e) = self.letter_document(s)
            {
                return Some(e);
            }
            if c2.is_ascii_digit()
                && c3.is_ascii_digit()
                && self.on.has(K::UkVehicleRegistration)
                && let Some(e) = self.uk_vehicle(s)
            {
                return Some(e);
            }
            if c2.is_ascii_uppercase() {
                if (c3 == b' ' && matches!(at(b, s + 4), b'1'..=b'9') || matches!(c3, b'1'..=b'9'))
                    && suffix_plate_run(b, s, run)
                    && let Some(e) = self.uk_vehicle_old(s)
                {
                    return Some(e);
                }
                // Each shape below is capitals and digits only up to its
                // token's end: an AWS key (20) and a fiscal code (16) fill
                // the counted run, a Spanish passport is 9, an NHI 7.
                if run == 16
                    && c3.is_ascii_uppercase()
                    && self.on.has(K::Secret)
                    && let Some(e) = self.aws(s)
                {
                    return Some(e);
                }
                if run == 16
                    && self.on.has(K::ItFiscalCode)
                    && let Some(e) = self.it_fiscal_code(s)
                {
                    return Some(e);
                }
                if run == 9
                    && c3.is_ascii_digit()
                    && self.on.has(K::EsPassport)
                    && let Some(e) = self.es_passport(s)
                {
                    return Some(e);
                }
                if run == 7
                    && self.on.has(K::NzNhi)
                    && let Some(e) = self.nz_nhi(s)
                {
                    return Some(e);
                }
            }
        }
        if matches!(b[s], b'X' | b'Y' | b'Z')
            && c1.is_ascii_digit()
            && self.on.has(K::EsNie)
            && let Some(e) = self.es_nie(s)
        {
            return Some(e);
        }
        if c1.is_ascii_digit() || c2.is_ascii_digit() {
            let postcode = self.on.has(K::Postcode);
            if (postcode || self.on.has(K::CaPostalCode))
                && let Some(e) = self.ca_postal_code(s)
            {
                return Some(e);
            }
            if (postcode || self.on.has(K::UkPostcode))
                && let Some(e) = self.uk_postcode(s)
            {
                return Some(e);
            }
            if postcode && let Some(e) = self.eircode(s) {
                return Some(e);
            }
            if c1.is_ascii_digit()
                && let Some(e) = self.letter_document(s)
            {
                return Some(e);
            }
            if c1.is_ascii_digit()
                && let Some(e) = self.uk_vehicle_old(s)
            {
                return Some(e);
            }
            if matches!(c2, b'-' | b':') && is_hex(b[s]) && is_hex(c1) {
                return self.mac(s);
            }
        }
        None
    }

    fn colon(&mut self, i: usize) -> Option<usize> {
        let b = self.b;
        // IPv6 / MAC: look back over at most 4 hex digits.
        let mut ws = i;
        while ws > self.floor && i - ws < 4 && is_hex(b[ws - 1]) {
            ws -= 1;
        }
        if (ws < i || at(b, i + 1) == b':') && token_start(b, ws) && ws >= self.floor {
            if i - ws == 2
                && let Some(e) = self.mac(ws)
            {
                return Some(e);
            }
            if let Some(e) = self.ipv6(ws) {
                return Some(e);
            }
        }
        self.assignment(i, b':')
    }
}

/// Can a suffix plate (`ABC 123D`, `ABC123D`) start at `s`, whose run of
/// capitals and digits is `run`? Its 1-3 digits and age letter end the
/// token, so they are a whole run of 2-4 (after the space) or the run at
/// `s` is 5-7, and either ends with the letter: `SIN 123 456` stops here.
#[inline(always)]
fn suffix_plate_run(b: &[u8], s: usize, run: usize) -> bool {
    let (from, n) = if at(b, s + 3) == b' ' {
        (s + 4, upper_digit_len16(b, s + 4))
    } else {
        (s + 3, run.wrapping_sub(3))
    };
    (2..=4).contains(&n) && at(b, from + n - 1).is_ascii_uppercase()
}

/// Does the line before the one `head` ends with (at its `\n`) end with
/// a postcode word, a colon or spaces after it (`Postcode:`, `ZIP`), and
/// hold no table's separator?
fn label_line_before(head: &[u8]) -> bool {
    let above = &head[..head.len() - 1];
    let from = memchr::memrchr(b'\n', above).map_or(0, |k| k + 1);
    // (A table's header, with separators, names columns.)
    if memchr::memchr3(b',', b';', b'|', &above[from..]).is_some() {
        return false;
    }
    let line = above.trim_ascii_end();
    ends_with_postcode_word(line.strip_suffix(b":").unwrap_or(line))
}

/// Does the line before the one `head` ends with ask for a postcode
/// (`can you confirm your postcode?`)?
pub(crate) fn asked_line_before(head: &[u8]) -> bool {
    let Some(above) = head.strip_suffix(b"\n") else {
        return false;
    };
    above
        .trim_ascii_end()
        .strip_suffix(b"?")
        .is_some_and(ends_with_postcode_word)
}

/// Does `line` end with a postcode word (spaces after it aside)?
fn ends_with_postcode_word(line: &[u8]) -> bool {
    let line = line.trim_ascii_end();
    let tail = &line[line.len().saturating_sub(11)..];
    [
        &b"postcode"[..],
        b"post code",
        b"postal code",
        b"zip",
        b"zip code",
        b"eircode",
        b"plz",
    ]
    .iter()
    .any(|w| {
        tail.len() >= w.len()
            && tail[tail.len() - w.len()..].eq_ignore_ascii_case(w)
            && (tail.len() == w.len() || !tail[tail.len() - w.len() - 1].is_ascii_alphanumeric())
    })
}

/// `Postcode lookup is failing in the CRM for EH9 1HE`, `the Eircode was
/// missing from the label; it's D08 YK50`: a postcode word anywhere
/// before `start` on its line (up to 160 bytes back) names a code of a
/// postcode's letters-and-digits shape, too distinctive to be much else;
/// digit codes need the word close ([`Scanner::names_code`]).
pub(crate) fn postcode_word_on_line(b: &[u8], start: usize) -> bool {
    let lo = start.saturating_sub(160);
    let line = match b[lo..start].iter().rposition(|&c| c == b'\n') {
        Some(nl) => &b[lo + nl + 1..start],
        None => &b[lo..start],
    };
    postcode_word_in(line)
}

/// Does `text` hold a postcode word (any case) that starts eight bytes or
/// more before its end? Where a line has none, [`postcode_word_on_line`]
/// says no at each of its bytes.
pub(crate) fn postcode_word_in(text: &[u8]) -> bool {
    const WORDS: [&[u8]; 4] = [b"postcode", b"postal code", b"post code", b"eircode"];
    // Each word ends in `code`: most lines have none, told by a search
    // for its `c` (a window's test at every byte cost five instructions
    // a byte).
    let code = memchr::memchr2_iter(b'c', b'C', text).any(|i| {
        text.get(i + 1..i + 4)
            .is_some_and(|o| o.eq_ignore_ascii_case(b"ode"))
    });
    code && text.windows(8).enumerate().any(|(i, w)| {
        matches!(w[0] | 0x20, b'p' | b'e')
            && WORDS.iter().any(|word| {
                text.get(i..i + word.len())
                    .is_some_and(|x| x.eq_ignore_ascii_case(word))
            })
    })
}

/// Is `s` just after one of `symbols` (a state's or province's, in
/// capitals) and a space, the symbol a word of its own after a space or
/// comma (`Bondi NSW 2026`, `Halifax, NS B3J 3K1`)?
fn after_symbol(b: &[u8], s: usize, symbols: &[&[u8]]) -> bool {
    let Some(before) = s.checked_sub(1).and_then(|e| b.get(..e)) else {
        return false;
    };
    if b.get(s - 1) != Some(&b' ') {
        return false;
    }
    symbols.iter().any(|sym| {
        before.ends_with(sym)
            && before
                .len()
                .checked_sub(sym.len() + 1)
                .is_some_and(|p| matches!(b[p], b' ' | b','))
    })
}

/// One of 64 bits for a code, from its length and last two bytes.
fn code_bit(code: &[u8]) -> u64 {
    let n = code.len();
    let tail = match code {
        [.., x, y] => usize::from(*x) * 31 + usize::from(*y),
        _ => 0,
    };
    1 << ((tail + n) & 63)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scanner's `postal` flag is set whenever a finding is a
    /// `POSTCODE` or a `CA_POSTAL_CODE` (the entity pass reads Québec's
    /// boxes only then): the dev corpus's tickets and codes of each kind.
    #[test]
    fn postal_flag_set_for_every_postal_finding() {
        let mut texts: Vec<String> = include_str!("../../tests/data/dev.jsonl")
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["text"].as_str().map(str::to_owned))
            .collect();
        texts.extend(
            [
                "C.P. 218, Saint-Georges (Québec) G5Y 5C7",
                "case postale 8820, succursale Centre-ville, Montréal (Québec) H3C 3P8",
                "Postcode: SW1A 1AA",
                "ZIP 90210, postal code K1A 0B1, Eircode D02 X285, PLZ 10115",
            ]
            .map(str::to_owned),
        );
        let on = KindSet(u128::MAX);
        let mut flagged = 0;
        for text in &texts {
            let mut sc = Scanner::new(text.as_bytes(), on, 0.0, Vec::new());
            sc.run();
            let postal = sc
                .findings
                .iter()
                .any(|f| f.kind == K::Postcode.kind() || f.kind == K::CaPostalCode.kind());
            assert_eq!(sc.postal, postal, "{text:?}");
            flagged += usize::from(postal);
        }
        assert!(flagged >= 4, "{flagged}");
    }

    #[test]
    fn alnum_bytes_matches_a_byte_test() {
        for c in 0..=255u8 {
            let v = u64::from_le_bytes([c; 8]);
            let want = if is_alnum(c) { HIGH_BITS } else { 0 };
            assert_eq!(alnum_bytes(v), want, "{c}");
        }
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            crate::xorshift(&mut x);
            let naive = x.to_le_bytes().iter().enumerate().fold(0u64, |m, (k, &c)| {
                m | (u64::from(is_alnum(c)) << (8 * k + 7))
            });
            assert_eq!(alnum_bytes(x), naive, "{x:#x}");
        }
    }

    #[test]
    fn flag_bits_gathers_the_bytes() {
        for m in 0..=u16::MAX {
            let t = (0..16).fold(0u128, |t, k| t | (u128::from(m >> k & 1) << (8 * k)));
            assert_eq!(flag_bits(t), u32::from(m), "{m:#x}");
        }
    }

    #[test]
    fn triggers_match_the_class_tables() {
        for c in 0..=255u8 {
            let w = [c; 16];
            let want = |class: &[u8; 256]| {
                if class[c as usize] != 0 {
                    u128::from_le_bytes([1; 16])
                } else {
                    0
                }
            };
            assert_eq!(triggers::<false>(&w), want(&CLASS), "{c}");
            assert_eq!(triggers::<true>(&w), want(&CLASS_ENTITY), "{c}");
        }
    }

    #[test]
    fn upper_digit_len16_matches_a_byte_loop() {
        let text = b"AB12CDEFGHIJKLMNOPQ R2D2 x ZZ9\xC3\x9c 0123456789ABCDEFGHIJ-K";
        for i in 0..=text.len() + 1 {
            let want = text
                .get(i..)
                .unwrap_or_default()
                .iter()
                .take(16)
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                .count();
            assert_eq!(upper_digit_len16(text, i), want, "{i}");
        }
        for c in 0..=255u8 {
            let want = if c.is_ascii_uppercase() || c.is_ascii_digit() {
                16
            } else {
                0
            };
            assert_eq!(upper_digit_len16(&[c; 16], 0), want, "{c}");
        }
    }

    #[test]
    fn base64url_len_matches_a_byte_loop() {
        let text = b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc-DEF_ghi x\xC3\xA9 -_-_-_-_-_-_-_-_a";
        let ok = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_');
        for max in [0, 3, 8, 13, 16, 501, 8192] {
            for i in 0..=text.len() + 1 {
                let rest = text.get(i..).unwrap_or_default();
                let want = rest.iter().take(max).take_while(|c| ok(c)).count();
                assert_eq!(base64url_len(text, i, max), want, "{i} {max}");
            }
        }
        for c in 0..=255u8 {
            let want = if ok(&c) { 8 } else { 0 };
            assert_eq!(base64url_len(&[c; 8], 0, 8192), want, "{c}");
            assert_eq!(zero_bytes(u64::from_le_bytes([c; 8])) != 0, c == 0, "{c}");
        }
    }

    /// The run gates in `upper` pass every token their matchers accept:
    /// where a gate is shut, the matcher asked anyway finds nothing.
    #[test]
    fn upper_run_gates_keep_every_match() {
        let prefixes = [
            "",
            "fuehrerschein ",
            "ausweis nr ",
            "reisepass ",
            "vehicle reg ",
            "nhi ",
            "pasaporte ",
            "codice fiscale ",
        ];
        let pieces = [
            "AKIA",
            "AB",
            "C",
            "Z",
            "1",
            "23",
            "0",
            " ",
            "ABC",
            "9",
            "-",
            "x",
            ".",
            "DE",
            "\n",
            "ZZZZZZ",
            "RSSMRA85T10A562S",
            "AKIAIOSFODNN7EXAMPLE",
            "ZAC5361",
            "T22000129",
            "ABC 123D",
            "ABC12D",
            "5",
        ];
        let on = KindSet(u128::MAX);
        let ud = |c: u8| c.is_ascii_uppercase() || c.is_ascii_digit();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: usize| {
            crate::xorshift(&mut x);
            (x % n as u64) as usize
        };
        let (mut open, mut found) = (0, 0);
        for _ in 0..30_000 {
            let mut text = String::from(prefixes[next(prefixes.len())]);
            for _ in 0..8 {
                text.push_str(pieces[next(pieces.len())]);
            }
            let b = text.as_bytes();
            for s in 0..b.len() {
                let (c1, c2) = (at(b, s + 1), at(b, s + 2));
                if !(b[s].is_ascii_uppercase() && ud(c1) && ud(c2)) {
                    continue;
                }
                let run = upper_digit_len16(b, s);
                let mut sc = Scanner::new(b, on, 0.0, Vec::new());
                if (8..=15).contains(&run)
                    || run < 8
                        && at(b, s + run) == b' '
                        && b[s..s + run].iter().any(u8::is_ascii_digit)
                {
                    open += 1;
                    found += usize::from(sc.de_document(s).is_some());
                } else {
                    assert_eq!(sc.de_document(s), None, "{text:?} {s}");
                }
                if !(c1.is_ascii_uppercase() && c2.is_ascii_uppercase()) {
                    continue;
                }
                if run == 16 {
                    found += usize::from(sc.aws(s).is_some() || sc.it_fiscal_code(s).is_some());
                } else {
                    assert_eq!(sc.aws(s), None, "{text:?} {s}");
                    assert_eq!(sc.it_fiscal_code(s), None, "{text:?} {s}");
                }
                if run != 9 && at(b, s + 3).is_ascii_digit() {
                    assert_eq!(sc.es_passport(s), None, "{text:?} {s}");
                }
                if run == 7 {
                    found += usize::from(sc.nz_nhi(s).is_some());
                } else {
                    assert_eq!(sc.nz_nhi(s), None, "{text:?} {s}");
                }
                if suffix_plate_run(b, s, run) {
                    found += usize::from(sc.uk_vehicle_old(s).is_some());
                } else if at(b, s + 1).is_ascii_uppercase() {
                    // (Only the suffix form starts with two capitals.)
                    assert_eq!(sc.uk_vehicle_old(s), None, "{text:?} {s}");
                }
            }
        }
        assert!(open > 1000 && found > 100, "{open} {found}");
    }

    /// The tables give what the tests they replace gave.
    #[test]
    fn token_boundaries_match_the_tests() {
        fn start(b: &[u8], i: usize) -> bool {
            if i == 0 {
                return true;
            }
            let p = b[i - 1];
            if is_alnum(p) || matches!(p, b'$' | b'#' | b'_' | b'&' | b'%' | b'\\' | b'@') {
                return false;
            }
            if matches!(p, b'.' | b'-' | b':' | b'/' | b'+') && i >= 2 && is_alnum(b[i - 2]) {
                return p == b':' && glued_label(b, i - 1);
            }
            !(i >= 2 && matches!(&b[i - 2..i], [0xC2, 0xA3] | [0xC2, 0xA5])
                || i >= 3 && b[i - 3..i] == [0xE2, 0x82, 0xAC])
        }
        fn end(b: &[u8], e: usize) -> bool {
            let n = at(b, e);
            if is_alnum(n) || n == b'_' || n == b'@' {
                return false;
            }
            if matches!(n, b'.' | b'-' | b':' | b'/' | b',') && is_alnum(at(b, e + 1)) {
                return n == b',' && !at(b, e + 1).is_ascii_digit();
            }
            true
        }
        let alphabet = "aZ09 .-:/+,_@$#&%\\\n\t(=£¥€é".as_bytes();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            let text: Vec<u8> = (0..12)
                .map(|_| {
                    crate::xorshift(&mut x);
                    alphabet[(x % alphabet.len() as u64) as usize]
                })
                .collect();
            for i in 0..=text.len() {
                assert_eq!(token_start(&text, i), start(&text, i), "{text:?} {i}");
                assert_eq!(token_end(&text, i), end(&text, i), "{text:?} {i}");
            }
        }
    }

    /// The skip loop's stops, found from the flags kept of the last
    /// sixteen bytes, are those a byte loop finds.
    #[test]
    fn kept_triggers_match_a_byte_loop() {
        let text = b"ab1 Hello-world__x ABC123def 4111:+(x) \xC3\xA9t\xC3\xA9 =@ zz9 \
            a long stretch of lower case words with no trigger at all, then Z \
            and abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopq+ x\ny";
        let trig = |class: &[u8; 256], i: usize| {
            i + text[i..]
                .iter()
                .take_while(|&&c| class[c as usize] == 0)
                .count()
        };
        for step in 1..20 {
            let (mut plain, mut entity) = (Triggers::NONE, Triggers::NONE);
            let mut i = 0;
            while i <= text.len() {
                assert_eq!(plain.next::<false>(text, i), trig(&CLASS, i), "{i}");
                assert_eq!(entity.next::<true>(text, i), trig(&CLASS_ENTITY, i), "{i}");
                // Resume after the stop or `step` bytes on, as the loop does.
                i = trig(&CLASS, i).min(i + step) + 1;
            }
        }
    }

    #[test]
    fn skips_match_byte_loops() {
        let text = b"ab1 Hello-world__x ABC123def 4111:+(x) \xC3\xA9t\xC3\xA9 =@ zz9 \
            a long stretch of lower case words with no trigger at all, then Z \
            and abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopq+";
        for i in 0..=text.len() {
            let alnum = i + text[i..].iter().take_while(|&&c| is_alnum(c)).count();
            assert_eq!(skip_alnum(text, i), alnum, "{i}");
            let trig = |class: &[u8; 256]| {
                i + text[i..]
                    .iter()
                    .take_while(|&&c| class[c as usize] == 0)
                    .count()
            };
            assert_eq!(next_trigger::<false>(text, i), trig(&CLASS), "{i}");
            assert_eq!(next_trigger::<true>(text, i), trig(&CLASS_ENTITY), "{i}");
        }
    }
}
