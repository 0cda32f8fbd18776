//! People (and addresses) named in lower case, in lines written without
//! capitals: chat (`agent tania: hi hemi, which building?`), text messages
//! and voicemail transcripts (`it's terry, terry walsh, or ask for gav`).
//!
//! The capitalised pass never stops in such lines, and a lookup at every
//! lower-case word of every text would cost the prose its speed. So the
//! scanner calls [`line()`] at each line's end (a line's end is a trigger
//! of its skip loop when the entity pass is on; it also notes the line's
//! first colon), and only *informal* lines are read: a line whose
//! message (past a time stamp and a speaker's label) starts in lower case
//! and holds no word in title case but a weekday's or a month's (`can you
//! restart Hudson?` is not informal). A writer who capitalises is read by
//! the capitalised pass. A line with no speaker's label that opens in
//! lower case but holds words in title case (`hi this is sione, send it to
//! 17 Kahu Rd`) is read for people too, its addresses left to the
//! capitalised pass.
//!
//! In an informal line a word names a person only if the gazetteer holds
//! it as a given name that is no common word (`tania`, `brodie`; not
//! `will`, `grace`, `mark`: the lexicon's common-word flag decides), and
//! the line says so:
//!
//! * a word before it greets, thanks, asks for or introduces someone
//!   (`hi`, `cheers`, `ask`, `tell`, `for`, `with`, `it's`, `this is`);
//! * a surname follows it, and joins the name (`brodie smith`);
//! * `'s` or a verb of saying follows it (`jess's badge`, `jack reckons`);
//! * it signs the line off (`thx, ravi`, `– ravi`);
//! * it is a speaker's label (`ben: proxy changed`, `agent tania:`,
//!   `Agent (bec):`);
//! * it is joined by `and` to a name found so (`jess and tom o'brien`).
//!
//! Addresses written in lower case in the same lines are read too (see
//! [`addresses`]): a house number, street words and a street type the
//! lexicon knows (`14 grey st`, `lvl 2, 18 willis st, te aro, wellington
//! 6011`), a person's name inside one being the street's.

use super::load8;
use super::names::{
    AMBIGUOUS, BRAND, CONTACT, GIVEN, GREETING, MAX_NAME, PARTICLE, PLACE, PLACE_NAME, STOP,
    STREET, SURNAME, TITLE, lookup, lookup_any_given,
};
use super::person::{lower_title, site_word};
use crate::Finding;
use crate::kind::K;
use std::borrow::Cow;

/// The gazetteer's recognizer, as for capitalised names: one name a kind.
const RECOGNIZER: &str = "person_gazetteer";
/// The address recognizer's name, as for capitalised addresses.
const ADDRESS_RECOGNIZER: &str = "street_address";

/// How far into a line a speaker's label may end (`[10:42] customer:`).
const LABEL_MAX: usize = 40;

/// Flags that make a word no given name in lower case (a particle too:
/// `el wifi del segundo piso`).
const NOT_A_NAME: u16 =
    AMBIGUOUS | STOP | TITLE | GREETING | CONTACT | PLACE | PLACE_NAME | BRAND | STREET | PARTICLE;

/// Keeps of `found` (the findings of [`line()`], sorted) those that score at
/// least `min_score` and overlap none of `taken` (the capitalised pass's,
/// sorted and disjoint): one sweep over both.
pub(super) fn keep(found: &mut Vec<Finding>, taken: &[Finding], min_score: f32) {
    let mut k = 0;
    found.retain(|f| {
        while k < taken.len() && taken[k].end <= f.start {
            k += 1;
        }
        f.score >= min_score && taken.get(k).is_none_or(|t| t.start >= f.end)
    });
}

/// Appends to `found` the people named in lower case in the line
/// `b[s..e]`, its first colon at `colon` (as the scanner met them: it
/// calls at each line's end).
pub(super) fn line(
    b: &[u8],
    (s, e): (usize, usize),
    colon: Option<usize>,
    (people, places, codes, firms): (bool, bool, bool, bool),
    found: &mut Vec<Finding>,
) {
    let p = skip_prefix(b, s, e);
    let (label, msg) = match colon.and_then(|c| speaker(b, p, e, c)) {
        Some((label, msg)) => (Some(label), msg),
        None => (None, p),
    };
    let msg = past_mentions(
        b,
        skip(b, msg, e, |c| {
            matches!(c, b' ' | b'"' | b'(' | b'\'' | b'\t')
        }),
        e,
    );
    // (A speaker says words: `ben: proxy changed`; a field's label is
    // followed by its value, `iban: DE89…`. Most lines: a message that
    // opens with a capital, a digit or a sign.)
    let words_said = msg < e && b[msg].is_ascii_lowercase();
    if words_said {
        said(
            b,
            (s, p, msg, e),
            label,
            (people, places, codes, firms),
            found,
        );
    }
}

/// Reads the message `b[msg..e]` of the line from `s` (past its prefix at
/// `p` and its speaker's `label`), which opens in lower case.
// (Out of line: most lines end in `line`'s first test, and this one's
// registers cost them each a prologue.)
#[inline(never)]
fn said(
    b: &[u8],
    (s, p, msg, e): (usize, usize, usize, usize),
    label: Option<(usize, usize)>,
    (people, places, codes, firms): (bool, bool, bool, bool),
    found: &mut Vec<Finding>,
) {
    // (`- maddie, reception`: a line signed with a dash, not one whose
    // time stamp holds one, `[2024-09-05] …`.)
    let signed = b[s..p].iter().find(|&&c| !matches!(c, b' ' | b'\t' | b'>')) == Some(&b'-');
    if people
        && let Some((ls, le)) = label
        && let Some((start, end)) = label_name(b, ls, le, b[s..p].contains(&b':'))
    {
        push(found, start, end, 0.7);
    }
    // The answer to the line above's question (`agent: and the
    // postcode?` / `customer: g12 8qq`, `… your full name pls` /
    // `customer: jordan mcallister`).
    if label.is_some()
        && let Some((kind, end)) = answer(b, (s, msg, e), (people, codes))
    {
        let score = if kind == K::Person { 0.8 } else { CODE_SCORE };
        push_clear(found, (found.len(), found.len()), kind, (msg, end), score);
        return;
    }
    // (A line that opens in lower case but holds words in title case,
    // `hi this is sione … 17 Kahu Rd`, is read for people, not addresses,
    // the capitalised pass's; not a field's, `note: Called Ravi`.)
    let mixed = title_word(b, msg, e);
    if mixed && label.is_some() {
        return;
    }
    let first = found.len();
    if places && !mixed {
        addresses(b, msg, e, found);
    }
    if codes && !mixed {
        named_codes(b, (s, msg, e), first, found);
    }
    if firms && !mixed {
        organizations(b, (msg, e), first, found);
    }
    let streets = found.len();
    if people {
        message(b, (msg, e), signed, found);
    }
    // (A person's name inside an address is the street's or the
    // locality's: `12 brodie walsh street`. Left out here, the pass's
    // findings stay disjoint, which the detector's merge relies on for
    // its linear path.)
    if streets > first && found.len() > streets {
        let mut named = found.split_off(streets);
        keep(&mut named, &found[first..], f32::MIN);
        found.extend(named);
    }
    found[first..].sort_by_key(|f| f.start);
}

/// A postcode's score when a word or a question names it (as the
/// scanner's: its base and the context's boost).
const CODE_SCORE: f32 = crate::scan::POSTCODE_BASE + crate::scan::CONTEXT_BOOST;

/// The message `b[msg..e]` (of the line from `s`) whole, if it answers
/// the line above: a postcode, asked for (`and the eircode?`), or a
/// name of one to three words, asked for (`your full name pls`). Its
/// kind and end.
fn answer(
    b: &[u8],
    (s, msg, e): (usize, usize, usize),
    (people, codes): (bool, bool),
) -> Option<(K, usize)> {
    // (Most messages are longer than a code or a name, and most lines
    // above no question.)
    let end = msg + b[msg..e].trim_ascii_end().len();
    let end = if matches!(b[end - 1], b'.' | b'!') {
        end - 1
    } else {
        end
    };
    if end - msg > 48 {
        return None;
    }
    // The line above asks, as a question or a request (`?`, `pls`).
    let (qs, qe) = super::line_above(b, s)?;
    let above = &b[qs..qe];
    if !(above.ends_with(b"?") || above.ends_with(b"pls") || above.ends_with(b"please")) {
        return None;
    }
    if codes
        && end - msg <= 10
        && lower_code(b, msg, e) == Some(end)
        && crate::scan::asked_line_before(&b[..s])
    {
        return Some((K::Postcode, end));
    }
    let name_asked = above.windows(4).any(|w| w.eq_ignore_ascii_case(b"name"));
    (people && name_asked && name_words(b, msg, end)).then_some((K::Person, end))
}

/// Is `b[s..e]` one to three words of a name, in lower case, the first a
/// given name (`jordan mcallister`: a place's name too, but asked for)?
fn name_words(b: &[u8], s: usize, e: usize) -> bool {
    let words = b[s..e].split(|&c| c == b' ');
    let mut n = 0;
    for w in words {
        let flags = lookup(w);
        // (The first a given name, the others known names or words the
        // lexicon does not know: `chen jiahui`.)
        let named = if n == 0 {
            flags & GIVEN != 0
        } else {
            flags & (GIVEN | SURNAME) != 0 || flags == 0
        };
        if w.len() < 2
            || !w
                .iter()
                .all(|&c| c.is_ascii_lowercase() || matches!(c, b'\'' | b'-'))
            || !named
            || flags & (STOP | TITLE | GREETING | CONTACT) != 0
        {
            return false;
        }
        n += 1;
    }
    (1..=3).contains(&n)
}

/// `postal code h7n 5k3`, `eircode d6w y2x4`, `postcode lookup fails for
/// ls1 4ap, ls2 9jt`: postcodes of letters and digits in lower case after
/// a postcode word on their line, as the scanner finds those in capitals
/// (`postcode_word_on_line`; codes of digits alone are the scanner's), in
/// the message `b[s..e]`, none inside an address found from
/// `found[first..]`.
///
/// `line`: where the message's line starts. (A line with no postcode word
/// has no code to find: most lines, told in one search of it, where each
/// code's shape was read first.)
fn named_codes(
    b: &[u8],
    (line, s, e): (usize, usize, usize),
    first: usize,
    found: &mut Vec<Finding>,
) {
    if !crate::scan::postcode_word_in(&b[line..e]) {
        return;
    }
    // (The line's addresses, `found[first..]`, are sorted and disjoint.)
    let mine = found.len();
    let mut p = s;
    while let Some(k) = b[p..e].iter().position(u8::is_ascii_digit) {
        // (A code opens with one or two letters before its first digit.)
        let d = p + k;
        let start = d - b[p..d]
            .iter()
            .rev()
            .take_while(|c| c.is_ascii_lowercase())
            .count();
        // (The digits after the first of a run have no letter just before
        // them, so open no code: passed over at once, not one by one.)
        p = skip(b, d + 1, e, |c| c.is_ascii_digit());
        if !(1..=2).contains(&(d - start)) || start > s && is_letter(b[start - 1]) {
            continue;
        }
        let Some(end) = lower_code(b, start, e) else {
            continue;
        };
        p = end;
        if crate::scan::postcode_word_on_line(b, start) {
            push_clear(found, (first, mine), K::Postcode, (start, end), CODE_SCORE);
        }
    }
}

/// `kiwi fibre networks ltd`, `brennan & daughters ltd`: organisations
/// named in lower case with a legal form, in the message `b[s..e]`, from
/// the first word after the clause's opening (`from`, `is`, the message's
/// start: at most five words back), none inside a finding from
/// `found[first..]`.
fn organizations(b: &[u8], (s, e): (usize, usize), first: usize, found: &mut Vec<Finding>) {
    // (The line's addresses and codes, disjoint, in order.)
    found[first..].sort_by_key(|f| f.start);
    let mine = found.len();
    let m = &b[s..e];
    // (The forms read here end in `d`, `c` or `h`: a word is read only
    // where one of those ends it.)
    let mut from = 0;
    while let Some(k) = memchr::memchr3(b'd', b'c', b'h', &m[from..]) {
        let at = from + k;
        from = at + 1;
        let end = at + 1;
        if m.get(end).is_some_and(|&c| is_letter(c)) {
            continue;
        }
        let word_start = at + 1 - m[..=at].iter().rev().take_while(|&&c| is_letter(c)).count();
        let form = &m[word_start..end];
        // (`limited` is a word too: a form only where a clause ends.)
        let form_ends = matches!(
            m.get(end),
            None | Some(b',' | b'.' | b'!' | b'?' | b')' | b'\r')
        );
        if !(matches!(form, b"ltd" | b"llc" | b"inc" | b"plc" | b"gmbh")
            || form == b"limited" && form_ends)
        {
            continue;
        }
        // (`pty ltd`: the form is two words.)
        let form_start = if m[..word_start].ends_with(b"pty ") {
            word_start - 4
        } else {
            word_start
        };
        let Some(start) = firm_start(m, form_start) else {
            continue;
        };
        push_clear(
            found,
            (first, mine),
            K::Organization,
            (s + start, s + end),
            0.85,
        );
    }
}

#[cfg(test)]
thread_local! {
    /// Findings read by [`push_clear`] and [`named_before`] (tests only:
    /// their work on a long line or text, counted).
    static READ: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Counts `n` findings read (tests only).
#[inline(always)]
fn read_findings(n: usize) {
    #[cfg(test)]
    READ.with(|r| r.set(r.get() + n));
    #[cfg(not(test))]
    let _ = n;
}

/// Pushes a finding of `kind` over `start..end` unless it overlaps one of
/// `found[first..]` (the line's): `found[first..mine]`, sorted and
/// disjoint, asked in a binary search, and `found[mine..]`, the caller's
/// own, pushed here in order (each after the last: only the last is
/// asked). A scan of them all was quadratic in a line of many.
fn push_clear(
    found: &mut Vec<Finding>,
    (first, mine): (usize, usize),
    kind: K,
    (start, end): (usize, usize),
    score: f32,
) {
    let before = &found[first..mine];
    let k = before.partition_point(|f| {
        read_findings(1);
        f.end <= start
    });
    let overlaps = |f: &Finding| f.start < end && start < f.end;
    if !before.get(k).is_some_and(overlaps) && !found[mine..].last().is_some_and(overlaps) {
        found.push(Finding {
            kind: kind.kind(),
            start,
            end,
            score,
            recognizer: Cow::Borrowed(kind.recognizer()),
        });
    }
}

/// Where the name of a firm whose legal form starts at `form` in `m`
/// starts: one to five words of letters or `&` back, after the clause's
/// opening.
fn firm_start(m: &[u8], form: usize) -> Option<usize> {
    let mut start = form;
    let mut words = 0;
    while start > 0 && m[start - 1] == b' ' && words < 5 {
        let word_end = start - 1;
        let word_start = word_end
            - m[..word_end]
                .iter()
                .rev()
                .take_while(|&&c| is_letter(c) || c == b'&' || c == b'\'' || c == b'-')
                .count();
        let word = &m[word_start..word_end];
        if word.is_empty() || opening(word) {
            break;
        }
        start = word_start;
        words += 1;
    }
    (words > 0 && m[start] != b'&').then_some(start)
}

/// A word that opens the clause a firm's name follows (`from`, `is`,
/// `cust`), itself no part of the name.
fn opening(w: &[u8]) -> bool {
    cue(w)
        || matches!(
            w,
            b"from"
                | b"at"
                | b"is"
                | b"was"
                | b"the"
                | b"a"
                | b"an"
                | b"of"
                | b"on"
                | b"in"
                | b"not"
                | b"re"
                | b"via"
                | b"our"
                | b"your"
                | b"their"
                | b"my"
                | b"cust"
                | b"customer"
                | b"client"
                | b"called"
                | b"invoice"
                | b"account"
                | b"company"
                | b"we"
                | b"i"
                | b"they"
                | b"it"
                | b"had"
                | b"have"
                | b"has"
                | b"be"
                | b"been"
                | b"are"
                | b"very"
        )
}

/// Addresses written in lower case in an informal message `b[s..e]`: a
/// house number, one to three words and a street type the lexicon knows
/// (`14 grey st`, `88 mcleod street,`), a unit before or after it (`lvl
/// 2, 18 willis st`, `88 bleecker st apt 5r`), and the localities after
/// it through a postcode (`, te aro, wellington 6011`, `, kelowna bc v1y
/// 8j8`; without a postcode the address ends at the street).
fn addresses(b: &[u8], s: usize, e: usize, found: &mut Vec<Finding>) {
    let mut p = s;
    while let Some(k) = b[p..e].iter().position(u8::is_ascii_digit) {
        p += k;
        let at_start = p == s || !b[p - 1].is_ascii_alphanumeric();
        let found_at = if !at_start {
            None
        } else if let Some(start) = po_box_before(b, s, p) {
            digits(b, p, e).map(|n| (start, localities(b, n, e).unwrap_or(n)))
        } else {
            street_at(b, p, e).map(|end| (unit_before(b, s, p).unwrap_or(p), end))
        };
        match found_at {
            Some((start, end)) => {
                found.push(Finding {
                    kind: K::Address.kind(),
                    start,
                    end,
                    score: 0.85,
                    recognizer: Cow::Borrowed(ADDRESS_RECOGNIZER),
                });
                p = end;
            }
            None => p = skip(b, p, e, |c| c.is_ascii_alphanumeric()),
        }
    }
}

/// The street address whose house number starts at `p`: where it ends.
fn street_at(b: &[u8], p: usize, e: usize) -> Option<usize> {
    // `18`, `12a`, `300-1055` (a unit and the house), `3/ 9`.
    let mut q = digits(b, p, e)?;
    if matches!(b.get(q), Some(b'-' | b'/')) {
        let r = skip(b, q + 1, e, |c| c == b' ');
        q = digits(b, r, e).unwrap_or(q);
    }
    if b.get(q).is_some_and(u8::is_ascii_lowercase)
        && !b.get(q + 1).is_some_and(u8::is_ascii_alphabetic)
    {
        q += 1;
    }
    // One to three words, then the street type.
    let mut w = q;
    let mut named = 0;
    let (ty_start, ty_end) = loop {
        if b.get(w) != Some(&b' ') {
            return None;
        }
        let ws = w + 1;
        let we = skip(b, ws, e.min(ws + 20), |c| {
            c.is_ascii_lowercase() || c == b'\'' || c >= 0x80
        });
        if we == ws || b.get(we).is_some_and(u8::is_ascii_alphanumeric) {
            return None;
        }
        if named > 0 && lookup(&b[ws..we]) & STREET != 0 {
            break (ws, we);
        }
        named += 1;
        if named > 3 {
            return None;
        }
        w = we;
    };
    // A type written whole ends a clause (`88 mcleod street,`; not `2 new
    // drive bays`); an abbreviation may be followed by anything (`the 14
    // grey st site`).
    let whole = !matches!(
        &b[ty_start..ty_end],
        b"st"
            | b"rd"
            | b"ave"
            | b"av"
            | b"dr"
            | b"ln"
            | b"pl"
            | b"ct"
            | b"cres"
            | b"tce"
            | b"blvd"
            | b"hwy"
            | b"pde"
            | b"sq"
            | b"cct"
            | b"pkwy"
    );
    // (`the 22 york street office`: a site named by its street.)
    if whole
        && !matches!(
            b.get(ty_end),
            None | Some(b',' | b'.' | b'!' | b'?' | b';' | b')' | b'\n' | b'\r')
        )
        && !site_after(b, ty_end, e)
    {
        return None;
    }
    let mut end = ty_end;
    // `88 bleecker st apt 5r`: a unit after the street.
    if b.get(end) == Some(&b' ') {
        let ws = end + 1;
        let we = skip(b, ws, e, |c| c.is_ascii_lowercase());
        if super::address::unit_label_lower(&b[ws..we])
            && b.get(we) == Some(&b' ')
            && let Some(d) = digits(b, we + 1, e)
        {
            end = skip(b, d, e, |c| c.is_ascii_lowercase());
        }
    }
    Some(localities(b, end, e).unwrap_or(end))
}

/// ` office`, ` site` at `p`: a word that names a site by its street
/// (the addressee's test's words: [`site_word`]).
fn site_after(b: &[u8], p: usize, e: usize) -> bool {
    let Some(rest) = b.get(p + 1..e).filter(|_| b[p] == b' ') else {
        return false;
    };
    let n = rest.iter().take_while(|c| c.is_ascii_lowercase()).count();
    n > 0 && site_word(&rest[..n])
}

/// `, te aro, wellington 6011`, `, kelowna bc v1y 8j8`: up to three
/// localities after the street, through a postcode (where it ends), if
/// one closes them; with no postcode, one locality of words that are no
/// common words (`42 darling street, balmain, but …`).
fn localities(b: &[u8], start: usize, e: usize) -> Option<usize> {
    let mut end = start;
    let mut first_group = None;
    for _ in 0..3 {
        if b.get(end..end + 2) != Some(b", ") {
            break;
        }
        let mut w = end + 2;
        let mut plain = true;
        // (`, co. dublin`: an Irish county closes the address.)
        let mut county = false;
        for _ in 0..4 {
            if let Some(code) = lower_code(b, w, e) {
                return Some(code);
            }
            let we = skip(b, w, e.min(w + 24), |c| c.is_ascii_lowercase() || c >= 0x80);
            if we == w {
                return first_group;
            }
            if &b[w..we] == b"co" && b.get(we..we + 2) == Some(b". ") {
                county = true;
                w = we + 2;
                continue;
            }
            let flags = lookup(&b[w..we]);
            plain &= flags & !(PLACE | PLACE_NAME) == 0;
            w = we;
            if b.get(w) == Some(&b' ') {
                w += 1;
                continue;
            }
            // The group ends here: kept with no postcode only if it is
            // the first and holds no common word.
            if (first_group.is_none() && plain || county)
                && matches!(
                    b.get(w),
                    None | Some(b',' | b'.' | b'?' | b'!' | b'\n' | b'\r')
                )
            {
                first_group = Some(w);
            }
            break;
        }
        if b.get(w) != Some(&b',') {
            break;
        }
        end = w;
    }
    first_group
}

/// `po box 3318` before the number at `p`: where `po` starts.
fn po_box_before(b: &[u8], s: usize, p: usize) -> Option<usize> {
    [&b"po box "[..], b"p.o. box ", b"p o box "]
        .iter()
        .find(|l| b[s..p].ends_with(l))
        .map(|l| p - l.len())
}

/// A postcode in lower case at `p` (`6011`, `v6e 3p3`, `bt9 5ee`): where
/// it ends.
fn lower_code(b: &[u8], p: usize, e: usize) -> Option<usize> {
    let mut up = [0u8; 12];
    let n = e.min(p + 12).saturating_sub(p);
    for (o, &c) in up.iter_mut().zip(&b[p..p + n]) {
        *o = c.to_ascii_uppercase();
    }
    let len = super::address::code_len(&up[..n])?;
    let end = p + len;
    (end <= e && !b.get(end).is_some_and(u8::is_ascii_alphanumeric)).then_some(end)
}

/// `lvl 2, `, `unit 7 `, `flat 3/ ` before the house number at `p`: where
/// the unit's label starts.
fn unit_before(b: &[u8], s: usize, p: usize) -> Option<usize> {
    let label_at = |end: usize| {
        let start = end
            - b[s..end]
                .iter()
                .rev()
                .take_while(|c| c.is_ascii_lowercase())
                .count();
        super::address::unit_label_lower(&b[start..end]).then_some(start)
    };
    // (`flat 3/ 9 aro st`: the label just before a number with the unit's.)
    if p > s + 1
        && b[p - 1] == b' '
        && let Some(start) = label_at(p - 1)
    {
        return Some(start);
    }
    let mut q = p;
    for sep in [&b", "[..], b" / ", b" ", b"/ ", b"/"] {
        if b[s..q].ends_with(sep) {
            q -= sep.len();
            break;
        }
    }
    if q == p {
        return None;
    }
    let d = b[s..q]
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric())
        .count();
    if d == 0 || !b[q - d..q].iter().any(u8::is_ascii_digit) {
        return None;
    }
    let q = q - d;
    let label_end = q.checked_sub(1).filter(|&k| k >= s && b[k] == b' ')?;
    label_at(label_end)
}

/// Past one to five digits at `p`: where they end.
fn digits(b: &[u8], p: usize, e: usize) -> Option<usize> {
    let n = b[p..e]
        .iter()
        .take(6)
        .take_while(|c| c.is_ascii_digit())
        .count();
    (1..=5).contains(&n).then_some(p + n)
}

/// Past spaces, `>` quote marks, dashes (`-- brenda`), a bracketed stamp
/// (`[10:42]`) and a time (`09:03`, `10:14 AM`) at `s`.
fn skip_prefix(b: &[u8], s: usize, e: usize) -> usize {
    let mut p = skip(b, s, e, |c| matches!(c, b' ' | b'\t' | b'>' | b'\r' | b'-'));
    if b.get(p) == Some(&b'[')
        && let Some(k) = memchr::memchr(b']', &b[p..e.min(p + 24)])
    {
        p = skip(b, p + k + 1, e, |c| c == b' ');
    }
    let digits = skip(b, p, e, |c| c.is_ascii_digit() || c == b':');
    if digits > p + 3 && b[p..digits].contains(&b':') && b.get(digits) == Some(&b' ') {
        p = digits + 1;
        if let Some(ampm) = b.get(p..p + 3)
            && matches!(ampm, b"am " | b"pm " | b"AM " | b"PM ")
        {
            p += 3;
        }
    }
    p
}

/// The speaker's label at `p` (`dave`, `agent tania`, `Agent (bec)`),
/// ended by the line's first colon (at `colon`), and where the message
/// after it starts.
fn speaker(b: &[u8], p: usize, e: usize, colon: usize) -> Option<((usize, usize), usize)> {
    // (The colon as the scanner met it: a `memchr` a line, or a byte loop
    // over every line's first words, cost more. The first colon may be a
    // time stamp's, before `p`: the label's is then looked for past it,
    // on the few lines that open with one.)
    let colon = if colon >= p {
        colon - p
    } else {
        memchr::memchr(b':', &b[p..e.min(p + LABEL_MAX)])?
    };
    if colon >= LABEL_MAX || p + colon >= e {
        return None;
    }
    let after = p + colon + 1;
    let msg = match b.get(after) {
        // (Only a message in lower case matters: the label is read after.)
        Some(b' ') if b.get(after + 1).is_some_and(u8::is_ascii_lowercase) => after + 1,
        _ => return None,
    };
    label_shaped(&b[p..p + colon]).then_some(((p, p + colon), msg))
}

/// Is `label` shaped as a speaker's: three words at most, of letters,
/// brackets, `.`, `-` and `_` (`Customer`, `agent tania`, `Visitor
/// (Jordan)`)?
fn label_shaped(label: &[u8]) -> bool {
    !label.is_empty()
        && label.len() < LABEL_MAX
        && label.iter().filter(|&&c| c == b' ').count() <= 2
        && label.iter().all(|&c| {
            c.is_ascii_alphabetic() || matches!(c, b' ' | b'(' | b')' | b'.' | b'-' | b'_')
        })
}

/// Is `prefix` a chat line's opening, up to its message: a time stamp, a
/// speaker's label and `: ` (`10:03 Customer: `, `[09:14] Visitor
/// (Jordan): `)? The scanner asks it of the text before a postcode that
/// answers a question (see `scan`'s `names_code`).
pub(crate) fn speaker_prefix(prefix: &[u8]) -> bool {
    let p = skip_prefix(prefix, 0, prefix.len());
    prefix
        .strip_suffix(b": ")
        .is_some_and(|label| label.len() > p && label_shaped(&label[p..]))
}

/// The name a speaker's label gives, in lower case: its last word, alone
/// (`dave`), after a role (`agent tania`, `Agent (bec)`) or before one
/// (`marcus (support)`); not a user
/// name (`niamh.obrien`, `hemi.w`). After a time stamp (`timed`: `10:02
/// mark: did anyone …`) a label that is a given name alone is a speaker's
/// even where the name is a common word (`mark`, `faith`).
fn label_name(b: &[u8], s: usize, e: usize, timed: bool) -> Option<(usize, usize)> {
    let label = &b[s..e];
    if label.contains(&b'.') || label.contains(&b'_') {
        return None;
    }
    let inner = label.strip_suffix(b")").unwrap_or(label);
    // `marcus (support)`: the name, then the role.
    if let Some(k) = memchr::memchr(b'(', inner).and_then(|k| k.checked_sub(1))
        && inner[k] == b' '
        && inner[k + 2..]
            .iter()
            .all(|&c| c.is_ascii_lowercase() || c == b' ')
        && inner[..k].iter().all(u8::is_ascii_lowercase)
        && given(&inner[..k])
    {
        return Some((s, s + k));
    }
    let from = inner
        .iter()
        .rposition(|&c| matches!(c, b' ' | b'('))
        .map_or(0, |k| k + 1);
    let word = &inner[from..];
    if !(word.iter().all(u8::is_ascii_lowercase)
        && (given(word) || timed && from == 0 && common_given(lookup(word))))
    {
        return None;
    }
    if from > 0 {
        let role = label[..from]
            .trim_ascii()
            .strip_suffix(b"(")
            .unwrap_or(&label[..from]);
        let role = role.trim_ascii();
        // (`agent tania`, `txt from hemi`: the role's last word.)
        let last = &role[role.iter().rposition(|&c| c == b' ').map_or(0, |k| k + 1)..];
        if lookup(role) & CONTACT == 0 && !matches!(last, b"from" | b"w" | b"with") {
            return None;
        }
    }
    Some((s + from, s + from + word.len()))
}

/// Is a word in `b[s..e]` written in title case (`Please`, `Quinn`)?
/// A writer who capitalises sentences or names is read by the
/// capitalised pass; `I` (`I'm`) and words in capitals (`IT`, `MFA`) are
/// no sign of it.
fn title_word(b: &[u8], s: usize, e: usize) -> bool {
    let mut p = s;
    while p < e {
        // Eight bytes a step: the capitals before a small letter (the
        // bytes after them read as a second word), each of those in turn.
        let x = load8(b, p);
        let upper = upper_mask(x);
        let mut title = if upper == 0 {
            0
        } else {
            let next = x >> 8 | u64::from(b.get(p + 8).copied().unwrap_or(0)) << 56;
            upper & lower_mask(next)
        };
        while title != 0 {
            let q = p + title.trailing_zeros() as usize / 8;
            if q >= e {
                return false;
            }
            if (q == 0 || !is_letter(b[q - 1])) && !calendar_word(b, q) {
                return true;
            }
            title &= title - 1;
        }
        p += 8;
    }
    false
}

/// Is the title-case word at `q` a weekday's or a month's (`her Friday
/// shift`: capitalised by writers who capitalise nothing else)?
fn calendar_word(b: &[u8], q: usize) -> bool {
    let n = b[q..]
        .iter()
        .take(10)
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    matches!(
        &b[q..q + n],
        b"Monday"
            | b"Tuesday"
            | b"Wednesday"
            | b"Thursday"
            | b"Friday"
            | b"Saturday"
            | b"Sunday"
            | b"January"
            | b"February"
            | b"March"
            | b"April"
            | b"June"
            | b"July"
            | b"August"
            | b"September"
            | b"October"
            | b"November"
            | b"December"
    )
}

/// The high bit of each byte of `x` that is an ASCII small letter.
fn lower_mask(x: u64) -> u64 {
    range_mask(x, b'a', b'z')
}

/// The high bit of each byte of `x` that is an ASCII capital.
fn upper_mask(x: u64) -> u64 {
    range_mask(x, b'A', b'Z')
}

/// The high bit of each byte of `x` in `lo..=hi` (both below 0x80).
#[inline]
fn range_mask(x: u64, lo: u8, hi: u8) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // (Bytes of 0x80 and up are in no such range: their high bit is
    // cleared first, and they are masked out at the end.)
    let low = x & !HIGH;
    let at_least_lo = low.wrapping_add(ONES * (0x80 - u64::from(lo)));
    let past_hi = low.wrapping_add(ONES * (0x80 - u64::from(hi) - 1));
    at_least_lo & !past_hi & !x & HIGH
}

/// A word of the message: its span and flags.
#[derive(Clone, Copy)]
struct Token {
    start: usize,
    end: usize,
    flags: u16,
}

/// Past `@here`, `@dev-ops` at `p`: the mentions a chat message opens with.
fn past_mentions(b: &[u8], mut p: usize, e: usize) -> usize {
    while b.get(p) == Some(&b'@') {
        p = skip(b, p, e, |c| c != b' ');
        p = skip(b, p, e, |c| c == b' ');
    }
    p
}

/// The words of an informal message `b[s..e]`, and the people among them
/// (`signed`: the line opened with a dash).
fn message(b: &[u8], (s, e): (usize, usize), signed: bool, found: &mut Vec<Finding>) {
    let first = found.len();
    // (Sized for the message's words at once: grown from empty, a line's
    // vector was allocated four or five times.)
    let mut words: Vec<Token> = Vec::with_capacity((e - s) / 4 + 1);
    let mut p = s;
    while p < e {
        p = skip(b, p, e, |c| !is_letter(c));
        let start = p;
        p = skip(b, p, e, |c| is_letter(c) || c == b'\'' || c == b'-');
        let mut end = trim_word(b, start, p);
        // (`jess's badge`: the possessive is read after the word; `it's`
        // and `that's` are no possessives.)
        if end >= start + 4 && b[end - 2..end] == *b"'s" && !contraction(&b[start..end - 2]) {
            end -= 2;
        }
        if end > start {
            words.push(Token {
                start,
                end,
                flags: UNREAD,
            });
        }
    }
    // Only words where a name could be are looked up (most words of a
    // message are not: the lookup is the reader's main cost).
    for k in 0..words.len() {
        if candidate(b, &words, k) {
            read(b, &mut words, k);
            for j in k + 1..words.len().min(k + 4) {
                if !adjacent(b, words[j - 1].end, words[j].start) {
                    break;
                }
                read(b, &mut words, j);
            }
        }
    }
    for t in &mut words {
        if t.flags == UNREAD {
            t.flags = 0;
        }
    }
    let mut named = vec![false; words.len()];
    let mut k = 0;
    while k < words.len() {
        // `mrs o'sullivan`, `dr faisal rahman`: names after a title.
        if k > 0
            && lower_title(&b[words[k - 1].start..words[k - 1].end])
            && adjacent(b, words[k - 1].end, words[k].start)
            && titled_name(b, &words[k])
        {
            let mut j = k;
            while j + 1 < words.len()
                && j - k < 2
                && adjacent(b, words[j].end, words[j + 1].start)
                && titled_name(b, &words[j + 1])
                // (`mr gonzalez back`, `mr faleolo said`: a common word
                // or a verb ends the name.)
                && words[j + 1].flags & AMBIGUOUS == 0
                && !saying(&b[words[j + 1].start..words[j + 1].end])
            {
                j += 1;
            }
            push(found, words[k].start, words[j].end, 0.8);
            named[k..=j].fill(true);
            k = j + 1;
            continue;
        }
        // (A common word opens a run only as a given name: `maria clara
        // santos`, `grace pemberton`.)
        let opens = name_word(b, &words[k])
            && (words[k].flags & AMBIGUOUS == 0 || words[k].flags & GIVEN != 0)
            && !cue(&b[words[k].start..words[k].end])
            && !saying(&b[words[k].start..words[k].end]);
        if !opens {
            // (`thanks jordan`: a place's name too, but the name of a
            // person named earlier in the text.)
            if words[k].flags & GIVEN != 0
                && cue_before(b, &words, k)
                && named_before(b, &found[..first], &words[k])
            {
                push(found, words[k].start, words[k].end, 0.7);
                named[k] = true;
            }
            k += 1;
            continue;
        }
        // Names side by side (`maria clara santos`, `nguyen thi lan`,
        // `kim ji-hoon`): a person when one is a given name.
        let mut j = k;
        while j + 1 < words.len()
            && j - k < 3
            && adjacent(b, words[j].end, words[j + 1].start)
            && (name_word(b, &words[j + 1]) && words[j + 1].flags & AMBIGUOUS == 0
                || hyphenated_given(b, &words[j + 1])
                || common_surname_ending(b, &words, j + 1)
                    && (cue_before(b, &words, k) || stamp_after(b, words[j + 1].end, e)))
        {
            j += 1;
        }
        let run = &words[k..=j];
        let given_in = run.iter().any(|t| t.flags & GIVEN != 0);
        if after_street(b, &words, k) {
            // (`12 kauri st, glen eden, auckland`: a locality.)
        } else if j > k && given_in {
            push(found, words[k].start, words[j].end, 0.8);
            named[k..=j].fill(true);
        } else if given_flags(words[k].flags)
            && (cue_before(b, &words, k)
                || cue_after(b, &words, k, e)
                || k == 0
                    && (signed && (words[0].end >= e || matches!(b[words[0].end], b',' | b'\r'))
                        || addressed(b, &words))
                || subject(b, &words, k))
            || common_given(words[k].flags) && plainly_named(b, &words, k, e)
        {
            push(found, words[k].start, words[k].end, 0.7);
            named[k] = true;
        }
        k = j + 1;
    }
    joined(b, &words, &named, found);
    found[first..].sort_by_key(|f| f.start);
}

/// `it` of `it's`, `that` of `that's`: a word whose `'s` is `is`.
fn contraction(w: &[u8]) -> bool {
    matches!(
        w,
        b"it"
            | b"he"
            | b"she"
            | b"that"
            | b"what"
            | b"there"
            | b"here"
            | b"who"
            | b"where"
            | b"let"
    )
}

/// How many of the findings of the lines before (nearest first)
/// [`named_before`] reads: a chat's earlier turns, not all of a long
/// text's (each line of `thanks jordan` read them all).
const NAMED_BEFORE_REACH: usize = 64;

/// Does a person of `earlier` (found in lower case in the text's lines
/// before) open with the word `t` (`jordan` of `jordan mcallister`)?
fn named_before(b: &[u8], earlier: &[Finding], t: &Token) -> bool {
    let word = &b[t.start..t.end];
    t.flags & (STOP | TITLE | GREETING | CONTACT) == 0
        && earlier
            .iter()
            .rev()
            .take(NAMED_BEFORE_REACH)
            .inspect(|_| read_findings(1))
            .any(|f| {
                f.kind == K::Person.kind()
                    && b[f.start..f.end].starts_with(word)
                    && (f.start + word.len() == f.end || b[f.start + word.len()] == b' ')
            })
}

/// A name after a title: a given name or a surname in lower case, a
/// common word too (`mrs white`), but no place, street or stop word.
fn titled_name(b: &[u8], t: &Token) -> bool {
    b[t.start].is_ascii_lowercase()
        && t.flags != UNREAD
        && t.flags & (GIVEN | SURNAME) != 0
        && t.flags & (STOP | TITLE | GREETING | CONTACT | STREET | PLACE | PLACE_NAME | BRAND) == 0
}

/// A word not looked up yet (a flag the lexicon never sets).
const UNREAD: u16 = 0x8000;

/// Looks `words[k]` up, once.
fn read(b: &[u8], words: &mut [Token], k: usize) {
    let t = &mut words[k];
    if t.flags == UNREAD {
        let word = &b[t.start..t.end];
        t.flags = if word.len() <= 8 && word.iter().all(u8::is_ascii_lowercase) {
            // (Most words: the slot of their eight bytes answers, as
            // `lookup`'s would after copying and lower-casing them; a
            // lower-case line's words are looked up by the dozen.)
            let head = load8(b, t.start) & (u64::MAX >> (64 - 8 * word.len()));
            super::names::get_short(head, word.len()).unwrap_or(0)
        } else if word[0].is_ascii_lowercase() && word.len() <= MAX_NAME {
            lookup(word)
        } else {
            0
        };
    }
}

/// May `words[k]` start a name the rules of [`message`] can find: first
/// or last in the message, after a cue, a joining word or punctuation,
/// before a cue of its own or `and`?
fn candidate(b: &[u8], words: &[Token], k: usize) -> bool {
    let w = |j: usize| &b[words[j].start..words[j].end];
    if k == 0 || k + 1 == words.len() {
        return true;
    }
    // (After a comma, a dash, a full stop or a bracket: `thx, ravi`.)
    let s = words[k].start;
    if s >= 2 && b[s - 1] == b' ' && !is_letter(b[s - 2]) && b[s - 2] != b' ' {
        return true;
    }
    let prev = w(k - 1);
    cue(prev)
        || matches!(
            prev,
            b"and"
                | b"or"
                | b"as"
                | b"from"
                | b"is"
                | b"um"
                | b"uh"
                | b"er"
                | b"erm"
                | b"called"
                | b"named"
                | b"so"
                | b"but"
                | b"fyi"
                | b"also"
                | b"plus"
        )
        || lower_title(prev)
        || matches!(w(k + 1), b"and" | b"or")
        || saying(w(k + 1))
        || matches!(b.get(words[k].end), Some(b'\'' | 0xE2))
}

/// A word of a name in lower case: a given name or surname (a common
/// word too only first in a run, see [`message`]), and no short word of
/// the languages around names (`kann kai das bitte prüfen`: `das`; `Das`
/// capitalised still is a surname).
fn name_word(b: &[u8], t: &Token) -> bool {
    b[t.start].is_ascii_lowercase()
        && t.flags & (GIVEN | SURNAME) != 0
        && t.flags & NOT_A_NAME & !AMBIGUOUS == 0
        && !matches!(
            &b[t.start..t.end],
            b"das"
                | b"den"
                | b"dem"
                | b"des"
                | b"der"
                | b"le"
                | b"la"
                | b"les"
                | b"un"
                | b"el"
                | b"al"
                | b"da"
                | b"di"
                | b"do"
                | b"du"
                | b"so"
                | b"van"
                | b"von"
                | b"am"
                | b"an"
                | b"im"
        )
}

/// `for brodie smith, both on new iphones`, `this is min-jun park,`: a
/// surname that is a common word or a street's too, ending the clause
/// after a name that a cue introduced; not `ravi back on monday`, `danny
/// look.`.
fn common_surname_ending(b: &[u8], words: &[Token], k: usize) -> bool {
    let t = &words[k];
    b[t.start].is_ascii_lowercase()
        && t.flags & SURNAME != 0
        && t.flags & (NOT_A_NAME & !(AMBIGUOUS | STREET)) == 0
        && !b
            .get(t.end + 1)
            .is_some_and(|&c| b.get(t.end) == Some(&b' ') && is_letter(c))
}

/// Is `words[k]` just after a street type and a comma (`12 kauri st,
/// glen eden`: a locality, in an address in lower case)?
fn after_street(b: &[u8], words: &[Token], k: usize) -> bool {
    k > 0
        && comma_between(b, words[k - 1].end, words[k].start)
        && lookup(&b[words[k - 1].start..words[k - 1].end]) & STREET != 0
}

/// A verb of saying, after a name (`jack reckons`), itself no name
/// (`said`, an Arabic given name too: `farhan said ravi has …`).
fn saying(w: &[u8]) -> bool {
    matches!(
        w,
        b"says"
            | b"said"
            | b"reckons"
            | b"from"
            | b"here"
            | b"wants"
            | b"asked"
            | b"approved"
            | b"mentioned"
            | b"told"
            | b"thinks"
            | b"confirmed"
            | b"called"
            | b"rang"
            | b"emailed"
            | b"replied"
            | b"wrote"
            | b"sagt"
            | b"meint"
    )
}

/// `ji-hoon`: a hyphenated word with a given name among its parts.
fn hyphenated_given(b: &[u8], t: &Token) -> bool {
    let w = &b[t.start..t.end];
    w.contains(&b'-') && w[0].is_ascii_lowercase() && {
        let mut buf = [0u8; MAX_NAME];
        w.len() <= MAX_NAME && {
            buf[..w.len()].copy_from_slice(w);
            lookup_any_given(&buf, w.len()) != 0
        }
    }
}

/// `jess and tom o'brien`: a given name joined by `and` or `or` to a name
/// found, or to another given name.
fn joined(b: &[u8], words: &[Token], named: &[bool], found: &mut Vec<Finding>) {
    for k in 0..words.len() {
        let w = words[k];
        if named[k] || !given_flags(w.flags) || !b[w.start].is_ascii_lowercase() {
            continue;
        }
        // (`raj and meera are out`: two given names that are no common
        // words, joined, name each other.)
        let side = |j: usize, link: usize| {
            let (l, t) = (words[link], words[j]);
            matches!(&b[l.start..l.end], b"and" | b"or")
                && (named[j]
                    || given_flags(t.flags)
                        && !measure(&b[t.start..t.end])
                        && !measure(&b[w.start..w.end])
                        && b[t.start].is_ascii_lowercase()
                        && adjacent(b, w.end.min(t.end), l.start)
                        && adjacent(b, l.end, w.start.max(t.start)))
        };
        let before = k >= 2 && side(k - 2, k - 1);
        let after = k + 2 < words.len() && side(k + 2, k + 1);
        if before || after {
            push(found, w.start, w.end, 0.7);
        }
    }
}

/// Is a word before `words[k]` one that greets, thanks or names someone
/// (past a filler: `it's um terry`)?
fn cue_before(b: &[u8], words: &[Token], k: usize) -> bool {
    let mut j = k;
    while j > 0 {
        j -= 1;
        let w = &b[words[j].start..words[j].end];
        // (`thanks heaps jen`, `thanks so much jen`.)
        if matches!(
            w,
            b"um" | b"uh" | b"er" | b"erm" | b"heaps" | b"again" | b"so" | b"much"
        ) {
            continue;
        }
        if !adjacent(b, words[j].end, words[j + 1].start)
            && !comma_between(b, words[j].end, words[j + 1].start)
        {
            return false;
        }
        // `this is terry`, `my name is terry`, `hi from tilly`
        let before = |words: &[Token]| j.checked_sub(1).map(|i| &b[words[i].start..words[i].end]);
        return cue(w)
            || w == b"is" && matches!(before(words), Some(b"this" | b"name"))
            || w == b"from" && before(words).is_some_and(greeting);
    }
    false
}

/// A word that greets, thanks, asks for or introduces the name after it
/// (itself no name: `ty`, `ta` are thanks here).
fn cue(w: &[u8]) -> bool {
    greeting(w)
        || matches!(
            w,
            b"its"
                | b"it's"
                | b"it\xe2\x80\x99s"
                | b"im"
                | b"i'm"
                | b"i\xe2\x80\x99m"
                | b"ask"
                | b"tell"
                | b"text"
                | b"call"
                | b"ring"
                | b"rang"
                | b"ping"
                | b"email"
                | b"emailed"
                | b"cc"
                | b"attn"
                | b"with"
                | b"for"
                | b"let"
                | b"to"
                | b"by"
                | b"lg"
                | b"husband"
                | b"wife"
                | b"partner"
                | b"son"
                | b"daughter"
                | b"mum"
                | b"mom"
                | b"dad"
                | b"colleague"
                | b"boss"
                // (`my manager sinéad signed off`, `ill send mateo up`.)
                | b"manager"
                | b"mgr"
                | b"flatmate"
                | b"housemate"
                | b"neighbour"
                | b"neighbor"
                | b"brother"
                | b"sister"
                | b"send"
        )
}

/// Does `words[k]` own something (`jess's`), speak (`jack reckons`), come
/// from somewhere (`mia from accounts`) or sign the line off (`thx,
/// ravi`)?
fn cue_after(b: &[u8], words: &[Token], k: usize, e: usize) -> bool {
    let w = words[k];
    if matches!(b.get(w.end..w.end + 2), Some(b"'s"))
        || b.get(w.end..w.end + 4) == Some("\u{2019}s".as_bytes())
    {
        return true;
    }
    if let Some(n) = words.get(k + 1)
        && adjacent(b, w.end, n.start)
    {
        return saying(&b[n.start..n.end]);
    }
    // `gary (site mgr) says`, `olivia brown 4:55 PM` (a chat's header).
    if role_after(b, w.end, e) || stamp_after(b, w.end, e) {
        return true;
    }
    // The line's last word after a comma or a dash: a signature.
    let rest_blank = b[w.end..e]
        .iter()
        .all(|c| matches!(c, b' ' | b'.' | b'!' | b'\r'));
    let before = &b[..w.start];
    rest_blank
        && (before.ends_with(b", ")
            || before.ends_with(b"- ")
            || before.ends_with("\u{2013} ".as_bytes())
            || before.ends_with("\u{2014} ".as_bytes()))
}

/// `hi`, `hello`, `thanks`: a word that greets or thanks the name after it.
fn greeting(w: &[u8]) -> bool {
    matches!(
        w,
        b"hi"
            | b"hey"
            | b"hiya"
            | b"hello"
            | b"dear"
            | b"morning"
            | b"thanks"
            | b"thx"
            | b"cheers"
            | b"ta"
            | b"ty"
            | b"yo"
            | b"chur"
            | b"howya"
            | b"gday"
    )
}

/// `max`, `min`: given names the lexicon holds that are more often a
/// measure's words (`max and min`, `max is 5 users`).
fn measure(w: &[u8]) -> bool {
    matches!(w, b"max" | b"min")
}

/// Does `words[k]` open a sentence as its subject (`yuki is off sick
/// today so arjun is covering`, `tevita left his badge`)?
fn subject(b: &[u8], words: &[Token], k: usize) -> bool {
    let opens = k == 0
        || !adjacent(b, words[k - 1].end, words[k].start)
        || matches!(
            &b[words[k - 1].start..words[k - 1].end],
            b"so" | b"and" | b"but" | b"fyi" | b"also" | b"plus"
        );
    opens
        && !measure(&b[words[k].start..words[k].end])
        && words.get(k + 1).is_some_and(|n| {
            adjacent(b, words[k].end, n.start)
                && matches!(
                    &b[n.start..n.end],
                    b"is"
                        | b"was"
                        | b"has"
                        | b"had"
                        | b"left"
                        | b"went"
                        | b"needs"
                        | b"isnt"
                        | b"hasnt"
                        | b"wants"
                        | b"tried"
                        | b"cant"
                        | b"cannot"
                )
        })
}

/// ` (site mgr)`, ` (support)` at `p`: a role in brackets after a name.
fn role_after(b: &[u8], p: usize, e: usize) -> bool {
    b.get(p..p + 2) == Some(b" (")
        && b[p + 2..e.min(p + 26)]
            .iter()
            .position(|&c| c == b')')
            .is_some_and(|n| {
                n > 1
                    && b[p + 2..p + 2 + n]
                        .iter()
                        .all(|&c| c.is_ascii_lowercase() || matches!(c, b' ' | b'.' | b'-'))
            })
}

/// ` 4:55 PM`, ` 10:02` at `p`, and nothing after on the line: the time
/// of a chat's message, after its author's name.
fn stamp_after(b: &[u8], p: usize, e: usize) -> bool {
    let Some(rest) = b.get(p..e) else {
        return false;
    };
    let rest = rest.trim_ascii();
    let rest = [&b" am"[..], b" pm", b" AM", b" PM"]
        .iter()
        .find_map(|m| rest.strip_suffix(*m))
        .unwrap_or(rest);
    matches!(rest.len(), 4 | 5)
        && b.get(p) == Some(&b' ')
        && rest[rest.len() - 3] == b':'
        && rest.iter().filter(|c| c.is_ascii_digit()).count() == rest.len() - 1
}

/// Does the message open by addressing the name at its start (`chloe can
/// u check`, `ravi, pls restart it`)?
fn addressed(b: &[u8], words: &[Token]) -> bool {
    let w = |j: usize| words.get(j).map(|t| &b[t.start..t.end]);
    let end = words[0].end;
    b.get(end) == Some(&b',')
        || matches!((w(1), w(2)), (Some(b"can" | b"could"), Some(b"u" | b"you")))
        || matches!(w(1), Some(b"pls" | b"please"))
}

/// A given name that is also a common word (`grace`, `mark`, `hope`),
/// and no other word a name may not be (`will`, a stop word).
fn common_given(flags: u16) -> bool {
    flags & GIVEN != 0 && flags & AMBIGUOUS != 0 && flags & NOT_A_NAME & !AMBIGUOUS == 0
}

/// Is the common word at `words[k]` named plainly as a person: greeted
/// with nothing after (`hi heather,`), introduced (`it's mark from`,
/// `this is hope calling`), spoken with (`spoke w/ grace at`), or
/// speaking first in a sentence (`nick says`)?
fn plainly_named(b: &[u8], words: &[Token], k: usize, e: usize) -> bool {
    let w = |j: usize| &b[words[j].start..words[j].end];
    let (start, end) = (words[k].start, words[k].end);
    // (Months, seasons, the weather and the words that address anyone:
    // `it's may`, `it's sunny here`, `hi mate,`; they may still speak:
    // `sunny said no`.)
    let word_of_its_own = matches!(
        w(k),
        b"may"
            | b"june"
            | b"april"
            | b"august"
            | b"summer"
            | b"mate"
            | b"love"
            | b"honey"
            | b"buddy"
            | b"sir"
            | b"sunny"
    );
    let clause_ends = |p: usize| p >= e || matches!(b[p], b',' | b'!' | b'.' | b'?' | b'\r');
    let next = words
        .get(k + 1)
        .filter(|n| adjacent(b, end, n.start))
        .map(|n| &b[n.start..n.end]);
    // (`w/ grace`: the slash is the word's.)
    let prev = (k > 0 && matches!(&b[words[k - 1].end..start], b" " | b"/ ")).then(|| w(k - 1));
    let prev2 = k.checked_sub(2).map(w);
    let introduced = clause_ends(end)
        || matches!(next, Some(b"from" | b"calling" | b"speaking"))
        || next == Some(b"here") && clause_ends(words[k + 1].end);
    match prev {
        _ if word_of_its_own && !matches!(prev, None | Some(b"and" | b"but" | b"so" | b"fyi")) => {
            false
        }
        Some(p) if greeting(p) => clause_ends(end),
        Some(b"its" | b"it's" | b"it\xe2\x80\x99s" | b"im" | b"i'm") => introduced,
        Some(b"is") if matches!(prev2, Some(b"this" | b"name")) => introduced,
        Some(b"with" | b"to" | b"w") => matches!(
            prev2,
            Some(b"spoke" | b"spoken" | b"talked" | b"chatted" | b"speaking")
        ),
        // `ask will in payroll`, `tell mark to call`: no verb follows
        // `ask`, so the word is a name.
        Some(b"ask" | b"tell" | b"cc" | b"attn") => {
            clause_ends(end)
                || matches!(
                    next,
                    Some(b"in" | b"from" | b"at" | b"to" | b"about" | b"if")
                )
        }
        // `he's called frank`, `a guy named chase`.
        Some(b"called" | b"named") => matches!(
            prev2,
            Some(
                b"hes"
                    | b"he's"
                    | b"shes"
                    | b"she's"
                    | b"guy"
                    | b"bloke"
                    | b"lady"
                    | b"woman"
                    | b"man"
            )
        ),
        None | Some(b"and" | b"but" | b"so" | b"fyi") => {
            matches!(
                next,
                Some(b"says" | b"said" | b"reckons" | b"mentioned" | b"thinks")
            )
        }
        _ => false,
    }
}

/// A given name that is no common word, in lower case.
fn given(word: &[u8]) -> bool {
    word.len() >= 2 && word.len() <= MAX_NAME && given_flags(lookup(word))
}

fn given_flags(flags: u16) -> bool {
    flags & GIVEN != 0 && flags & NOT_A_NAME == 0
}

/// Are two words one space apart?
fn adjacent(b: &[u8], end: usize, start: usize) -> bool {
    start == end + 1 && b[end] == b' '
}

fn comma_between(b: &[u8], end: usize, start: usize) -> bool {
    &b[end..start] == b", "
}

/// A letter of a word: ASCII, or a byte of a multi-byte character.
fn is_letter(c: u8) -> bool {
    c.is_ascii_alphabetic() || c >= 0x80
}

/// The word `b[s..e]` without trailing apostrophes and hyphens.
fn trim_word(b: &[u8], s: usize, mut e: usize) -> usize {
    while e > s && matches!(b[e - 1], b'\'' | b'-') {
        e -= 1;
    }
    e
}

/// Past the bytes from `p` (before `e`) that `skip` accepts.
// (An iterator over the slice, not an index tested against `e` and the
// slice's length at each byte: the loop was a tenth of a lower-case
// line's reading.)
fn skip(b: &[u8], p: usize, e: usize, skip: impl Fn(u8) -> bool) -> usize {
    let e = e.min(b.len());
    match b.get(p..e) {
        Some(rest) => rest.iter().position(|&c| !skip(c)).map_or(e, |k| p + k),
        None => p,
    }
}

fn push(found: &mut Vec<Finding>, start: usize, end: usize, score: f32) {
    found.push(Finding {
        kind: K::Person.kind(),
        start,
        end,
        score,
        recognizer: Cow::Borrowed(RECOGNIZER),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Kind;

    /// The findings of the lower-case reading of `text` (all its lines),
    /// as `(kind, text)`, and how many findings [`push_clear`] and
    /// [`named_before`] read.
    fn lower_case_findings(text: &str) -> (Vec<(Kind, String)>, usize) {
        let b = text.as_bytes();
        let mut found = Vec::new();
        READ.with(|r| r.set(0));
        let mut s = 0;
        for (k, _) in text.match_indices('\n').chain([(text.len(), "")]) {
            let colon = b[s..k].iter().position(|&c| c == b':').map(|c| s + c);
            line(b, (s, k), colon, (true, true, true, true), &mut found);
            s = k + 1;
        }
        let got = found
            .iter()
            .map(|f| (f.kind.clone(), text[f.range()].to_string()))
            .collect();
        (got, READ.with(|r| r.get()))
    }

    /// A long line of codes, or of firms, named in lower case: each is
    /// found, none inside an address, and each is checked against the
    /// line's findings in a binary search, not against all of them (a
    /// line of 2 MB took 25 s).
    #[test]
    fn long_lines_of_codes_and_firms_read_each_finding_a_few_times() {
        for n in [1usize, 10, 400] {
            let codes = format!(
                "the lookup fails for {}and 14 grey st, te aro, wellington 6011",
                "postcode ls1 4ap, postcode ls2 9jt, ".repeat(n)
            );
            let (got, read) = lower_case_findings(&codes);
            let postcodes = got.iter().filter(|(k, _)| *k == Kind::Postcode).count();
            assert_eq!(postcodes, 2 * n, "{got:?}");
            assert!(
                got.iter()
                    .any(|(k, t)| *k == Kind::Address && t.ends_with("6011")),
                "{got:?}"
            );
            assert!(read <= 40 * n, "{n}: {read}");
            let firms = format!(
                "the invoice went to {}",
                "kiwi fibre ltd, brennan & daughters ltd, ".repeat(n)
            );
            let (got, read) = lower_case_findings(&firms);
            let orgs: Vec<&str> = got
                .iter()
                .filter(|(k, _)| *k == Kind::Organization)
                .map(|(_, t)| t.as_str())
                .collect();
            assert_eq!(orgs.len(), 2 * n, "{got:?}");
            assert_eq!(
                orgs[orgs.len() - 2..],
                ["kiwi fibre ltd", "brennan & daughters ltd"]
            );
            assert!(read <= 40 * n, "{n}: {read}");
        }
    }

    /// `thanks jordan` names the jordan named before (`jordan
    /// mcallister`) among the nearest [`NAMED_BEFORE_REACH`] findings of
    /// the lines before, at the reach and past it; lines of text past
    /// that read no more (8 MB of such chat took minutes).
    #[test]
    fn a_name_named_before_is_looked_for_within_a_reach() {
        let named = |between: usize| {
            let text = format!(
                "agent: your full name pls\ncustomer: jordan mcallister\n{}agent: thanks jordan\n",
                "hi tania\n".repeat(between)
            );
            let (got, read) = lower_case_findings(&text);
            (
                got.last()
                    .is_some_and(|(k, t)| *k == Kind::Person && t == "jordan"),
                read,
            )
        };
        assert!(named(0).0);
        assert!(named(NAMED_BEFORE_REACH - 1).0);
        let (found, read) = named(NAMED_BEFORE_REACH + 50);
        assert!(!found);
        assert!(read <= NAMED_BEFORE_REACH, "{read}");
        // Many such lines: each reads at most the reach.
        let text = "hi tania\nthanks jordan\n".repeat(2000);
        let (got, read) = lower_case_findings(&text);
        assert_eq!(got.len(), 2000);
        assert!(read <= 2000 * NAMED_BEFORE_REACH, "{read}");
    }

    /// `title_word` as it was written first: each capital in turn, the
    /// eight bytes read again past it.
    fn title_word_by_capitals(b: &[u8], s: usize, e: usize) -> bool {
        let mut p = s;
        while p < e {
            let upper = upper_mask(load8(b, p));
            if upper == 0 {
                p += 8;
                continue;
            }
            let q = p + upper.trailing_zeros() as usize / 8;
            if q >= e {
                return false;
            }
            if b.get(q + 1).is_some_and(u8::is_ascii_lowercase)
                && (q == 0 || !is_letter(b[q - 1]))
                && !calendar_word(b, q)
            {
                return true;
            }
            p = q + 1;
        }
        false
    }

    /// The capitals before a small letter, told eight at a time, give
    /// what each capital read in turn gave, for every span of texts of
    /// capitals, small letters, `I`, IBANs, months, bytes next to the
    /// letters' ranges and bytes past ASCII.
    #[test]
    fn title_word_is_by_capitals() {
        let pieces: [&[u8]; 16] = [
            b"a",
            b"b",
            b"z",
            b"A",
            b"Q",
            b"Z",
            b"I",
            b" ",
            b"4",
            b"@",
            b"[",
            b"`",
            b"{",
            b"\xC3\xA9",
            b"Friday",
            b"May",
        ];
        let mut texts: Vec<Vec<u8>> = vec![
            b"please send the money to IBAN NL64 HTSY 6742 6814 49 (account holder Quinn)".to_vec(),
            b"her Friday shift, then IT said MFA Ok".to_vec(),
        ];
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..300 {
            x = x.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1);
            let mut t = Vec::new();
            for _ in 0..(x >> 59) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                t.extend_from_slice(pieces[(x % 16) as usize]);
            }
            texts.push(t);
        }
        for t in &texts {
            for s in 0..=t.len() {
                for e in s..=t.len() {
                    assert_eq!(
                        title_word(t, s, e),
                        title_word_by_capitals(t, s, e),
                        "{t:?} {s}..{e}"
                    );
                }
            }
        }
    }
}
