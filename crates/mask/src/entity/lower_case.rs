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
//! the capitalised pass.
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
    (people, places): (bool, bool),
    found: &mut Vec<Finding>,
) {
    let p = skip_prefix(b, s, e);
    let (label, msg) = match colon.and_then(|c| speaker(b, p, e, c)) {
        Some((label, msg)) => (Some(label), msg),
        None => (None, p),
    };
    let msg = skip(b, msg, e, |c| {
        matches!(c, b' ' | b'"' | b'(' | b'\'' | b'\t')
    });
    // (A speaker says words: `ben: proxy changed`; a field's label is
    // followed by its value, `iban: DE89…`. Most lines: a message that
    // opens with a capital, a digit or a sign.)
    let words_said = msg < e && b[msg].is_ascii_lowercase();
    if !words_said {
        return;
    }
    if people
        && let Some((ls, le)) = label
        && let Some((start, end)) = label_name(b, ls, le)
    {
        push(found, start, end, 0.7);
    }
    if title_word(b, msg, e) {
        return;
    }
    let first = found.len();
    if places {
        addresses(b, msg, e, found);
    }
    let streets = found.len();
    if people {
        message(b, msg, e, found);
    }
    // (A person's name inside an address is the street's or the
    // locality's: `12 brodie walsh street`. Left out here, the pass's
    // findings stay disjoint, which the detector's merge relies on for
    // its linear path.)
    if streets > first && found.len() > streets {
        let mut named = found.split_off(streets);
        keep(&mut named, &found[first..], f32::MIN);
        found.extend(named);
        found[first..].sort_by_key(|f| f.start);
    }
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
    if whole
        && !matches!(
            b.get(ty_end),
            None | Some(b',' | b'.' | b'!' | b'?' | b';' | b')' | b'\n' | b'\r')
        )
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
        for _ in 0..4 {
            if let Some(code) = lower_code(b, w, e) {
                return Some(code);
            }
            let we = skip(b, w, e.min(w + 24), |c| c.is_ascii_lowercase() || c >= 0x80);
            if we == w {
                return first_group;
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
            if first_group.is_none()
                && plain
                && matches!(b.get(w), None | Some(b',' | b'.' | b'\n' | b'\r'))
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
/// (`dave`) or after a role (`agent tania`, `Agent (bec)`); not a user
/// name (`niamh.obrien`, `hemi.w`).
fn label_name(b: &[u8], s: usize, e: usize) -> Option<(usize, usize)> {
    let label = &b[s..e];
    if label.contains(&b'.') || label.contains(&b'_') {
        return None;
    }
    let inner = label.strip_suffix(b")").unwrap_or(label);
    let from = inner
        .iter()
        .rposition(|&c| matches!(c, b' ' | b'('))
        .map_or(0, |k| k + 1);
    let word = &inner[from..];
    if !(word.iter().all(u8::is_ascii_lowercase) && given(word)) {
        return None;
    }
    if from > 0 {
        let role = label[..from]
            .trim_ascii()
            .strip_suffix(b"(")
            .unwrap_or(&label[..from]);
        let role = role.trim_ascii();
        if lookup(role) & CONTACT == 0 {
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
        // Eight bytes a step past those with no capital.
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

/// The high bit of each byte of `x` that is an ASCII capital.
fn upper_mask(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // (Bytes of 0x80 and up are no capitals: their high bit is cleared
    // first, and they are masked out at the end.)
    let low = x & !HIGH;
    let at_least_a = low.wrapping_add(ONES * (0x80 - u64::from(b'A')));
    let past_z = low.wrapping_add(ONES * (0x80 - u64::from(b'Z') - 1));
    at_least_a & !past_z & !x & HIGH
}

/// A word of the message: its span and flags.
#[derive(Clone, Copy)]
struct Token {
    start: usize,
    end: usize,
    flags: u16,
}

/// The words of an informal message `b[s..e]`, and the people among them.
fn message(b: &[u8], s: usize, e: usize, found: &mut Vec<Finding>) {
    let first = found.len();
    let mut words: Vec<Token> = Vec::new();
    let mut p = s;
    while p < e {
        p = skip(b, p, e, |c| !is_letter(c));
        let start = p;
        p = skip(b, p, e, |c| is_letter(c) || c == b'\'' || c == b'-');
        let mut end = trim_word(b, start, p);
        // (`jess's badge`: the possessive is read after the word.)
        if end >= start + 4 && b[end - 2..end] == *b"'s" {
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
        // (A common word opens a run only as a given name: `maria clara
        // santos`, `grace pemberton`.)
        let opens = name_word(b, &words[k])
            && (words[k].flags & AMBIGUOUS == 0 || words[k].flags & GIVEN != 0)
            && !cue(&b[words[k].start..words[k].end])
            && !saying(&b[words[k].start..words[k].end]);
        if !opens {
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
                || common_surname_ending(b, &words, j + 1) && cue_before(b, &words, k))
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
            && (cue_before(b, &words, k) || cue_after(b, &words, k, e))
        {
            push(found, words[k].start, words[k].end, 0.7);
            named[k] = true;
        }
        k = j + 1;
    }
    joined(b, &words, &named, found);
    found[first..].sort_by_key(|f| f.start);
}

/// A word not looked up yet (a flag the lexicon never sets).
const UNREAD: u16 = 0x8000;

/// Looks `words[k]` up, once.
fn read(b: &[u8], words: &mut [Token], k: usize) {
    let t = &mut words[k];
    if t.flags == UNREAD {
        let word = &b[t.start..t.end];
        t.flags = if word[0].is_ascii_lowercase() && word.len() <= MAX_NAME {
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
            b"and" | b"or" | b"as" | b"from" | b"is" | b"um" | b"uh" | b"er" | b"erm"
        )
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
        b"says" | b"said" | b"reckons" | b"from" | b"here" | b"wants" | b"asked"
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
/// found.
fn joined(b: &[u8], words: &[Token], named: &[bool], found: &mut Vec<Finding>) {
    for k in 0..words.len() {
        let w = words[k];
        if named[k] || !given_flags(w.flags) || !b[w.start].is_ascii_lowercase() {
            continue;
        }
        let side = |j: usize, link: usize| {
            named[j] && matches!(&b[words[link].start..words[link].end], b"and" | b"or")
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
        if matches!(w, b"um" | b"uh" | b"er" | b"erm") {
            continue;
        }
        if !adjacent(b, words[j].end, words[j + 1].start)
            && !comma_between(b, words[j].end, words[j + 1].start)
        {
            return false;
        }
        // `this is terry`, `my name is terry`
        return cue(w)
            || w == b"is"
                && j > 0
                && matches!(&b[words[j - 1].start..words[j - 1].end], b"this" | b"name");
    }
    false
}

/// A word that greets, thanks, asks for or introduces the name after it
/// (itself no name: `ty`, `ta` are thanks here).
fn cue(w: &[u8]) -> bool {
    matches!(
        w,
        b"hi"
            | b"hey"
            | b"hiya"
            | b"hello"
            | b"thanks"
            | b"thx"
            | b"ty"
            | b"cheers"
            | b"ta"
            | b"dear"
            | b"morning"
            | b"its"
            | b"it's"
            | b"im"
            | b"i'm"
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
fn skip(b: &[u8], mut p: usize, e: usize, skip: impl Fn(u8) -> bool) -> usize {
    while p < e && skip(b[p]) {
        p += 1;
    }
    p
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
