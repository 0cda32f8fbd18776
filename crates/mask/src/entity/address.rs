//! `ADDRESS`: street addresses of the US, UK, AU, NZ, CA, IE and DE.
//!
//! English-style: `[Unit 4, | 4/]12[A] Harbour St[reet][, Te Aro][, Wellington]
//! [ NSW| ON| CA][ 6011| M5V 2T6| NW1 6XE| 90210[-1234]| D02 X285]`: a house
//! number just before the run, one to three title-case street words and a
//! street type from the run, then optionally up to two comma-separated
//! localities, a state or province and a postcode whose shape is checked
//! per country. German: `Musterstraße 12[a][, 10115 Berlin]` or `Berliner
//! Straße 5`. Also: NZ rural delivery (`, RD 3`) and state highways
//! (`State Highway 2`), chained units and Glasgow flats (`Suite 3, Level 1,
//! `, `Flat 3/2, `) and a building's name before the number, units after
//! the street (` Apt 12B`, `, 35th Floor`, `, app. 3`, `, bureau 900`), a
//! locality and postcode on the lines below the street, post-office boxes
//! (`PO Box`, `P.O. Box`, `Private Bag`, `Postfach`), units on an estate
//! with no house number (`Unit 5, Riverside Business Park`), a street with
//! no type when a locality and postcode follow (`42 Deansgate, Manchester
//! M3 2EG`) and Québec's `4820, rue …, Montréal (Québec) H2J 2L6`. The
//! whole address is one finding (score 0.9), its postcode included.

use super::{Pass, Run, Shape, capital_word, names};
use crate::kind::K;

const RECOGNIZER: &str = "street_address";
const SCORE: f32 = 0.9;

/// Finds an address in or around `run`: the index of its first word in the
/// run and where it ends.
pub(super) fn find(pass: &mut Pass<'_>, run: &Run) -> Option<(usize, usize)> {
    english(pass, run)
        .or_else(|| french(pass, run))
        .or_else(|| german(pass, run))
        .or_else(|| {
            let keyed = run
                .words()
                .iter()
                .any(|w| w.flags & names::ADDRESS_KEY != 0);
            keyed
                .then(|| po_box(pass, run).or_else(|| estate(pass, run)))
                .flatten()
        })
        .or_else(|| bare_street(pass, run))
        .or_else(|| rural_delivery(pass, run))
        .or_else(|| route(pass, run))
}

/// A numbered road with no street type after a house number: `1400 Route
/// 9, Clifton Park, NY 12065`, `25 State Route 7, …`; sure only with a
/// unit, a locality, a state or a postcode after the road's number.
fn route(pass: &mut Pass<'_>, run: &Run) -> Option<(usize, usize)> {
    let b = pass.b;
    let words = run.words();
    // (Most runs: a first word that starts no route's name.)
    if !matches!(b[words[0].start], b'R' | b'S' | b'C' | b'U') {
        return None;
    }
    let k = words
        .iter()
        .take(2)
        .position(|w| matches!(&b[w.start..w.end], b"Route" | b"Rte"))?;
    if k == 1
        && !matches!(
            &b[words[0].start..words[0].end],
            b"State" | b"County" | b"US"
        )
    {
        return None;
    }
    let start = house_number_before(b, words[0].start)?;
    let number = number_at(b, words[k].end)?;
    let end = tail(b, number);
    if end == number {
        return None;
    }
    pass.push(start, end, K::Address, SCORE, RECOGNIZER);
    Some((0, end))
}

/// A rural delivery round with no street: `RD 9, Gore 9779`, sure only
/// with a locality and a four-digit postcode after it.
fn rural_delivery(pass: &mut Pass<'_>, run: &Run) -> Option<(usize, usize)> {
    let b = pass.b;
    let w = run.words().first()?;
    if &b[w.start..w.end] != b"RD" {
        return None;
    }
    let number = number_at(b, w.end)?;
    let locality = comma_locality(b, number)?;
    let code = postcode(b, locality)?;
    if code - locality != 5 || !b[locality + 1..code].iter().all(u8::is_ascii_digit) {
        return None;
    }
    pass.push(w.start, code, K::Address, SCORE, RECOGNIZER);
    Some((0, code))
}

/// Is the street type `w` an abbreviation (`St`, `Rd`, `Ave`, `Blvd`),
/// in title case or capitals?
fn abbreviated_type(w: &[u8]) -> bool {
    let Some((t, n)) = super::title_case(w).or_else(|| {
        let mut t = [0u8; 12];
        t.get_mut(..w.len())?.copy_from_slice(w);
        Some((t, w.len()))
    }) else {
        return false;
    };
    matches!(
        &t[..n],
        b"St"
            | b"Rd"
            | b"Ave"
            | b"Av"
            | b"Dr"
            | b"Ct"
            | b"Pl"
            | b"Ln"
            | b"Tce"
            | b"Terr"
            | b"Cres"
            | b"Cr"
            | b"Cl"
            | b"Blvd"
            | b"Bvd"
            | b"Hwy"
            | b"Pde"
            | b"Sq"
            | b"Cct"
            | b"Pkwy"
            | b"Cir"
            | b"Esp"
            | b"Gr"
            | b"Gdns"
    )
}

/// A lone word `w` with a number after it (`Theresienhöhe 28`, `SSN
/// 150-59-7454`, `Ticket 4471.`): may an address reader take it? Only a
/// street word or a box's (the lexicon's flags), a German street word,
/// `RD` or `Route`, or a word in title case the lexicon does not know
/// whose number a comma or a line's end follows (a German street with no
/// street word, before its postcode and town) can; asked of every
/// capitalised word before a number, so most are told no by a byte or
/// two.
#[inline]
pub(super) fn number_may_follow_street(b: &[u8], w: &super::Word) -> bool {
    if w.flags & (names::STREET | names::ADDRESS_KEY) != 0
        || matches!(&b[w.start..w.end], b"RD" | b"Route" | b"Rte")
        || german_street(&b[w.start..w.end]).is_some()
    {
        return true;
    }
    // (`bare` in [`german`]: a word in title case the lexicon does not
    // know.)
    if w.shape != Shape::Title || w.flags != 0 {
        return false;
    }
    let e = if b.get(w.end) == Some(&b'.') {
        w.end + 2
    } else {
        w.end + 1
    };
    let n = b
        .get(e..)
        .unwrap_or_default()
        .iter()
        .take(24)
        .take_while(|&&c| c.is_ascii_digit() || c.is_ascii_lowercase() || matches!(c, b'/' | b'-'))
        .count();
    matches!(b.get(e + n), None | Some(b',' | b'\n' | b'\r' | 0xE2))
}

/// Is the number ending at `end` a house's, a street after it (`1001
/// Bishop Street`, `45 STATION ST`: one to three capitalised words, the
/// last a street type)? Or, starting at `s`, a unit's, after a unit
/// label (`Suite 2200`, `unit 4`)? Then it is no postcode, whatever a
/// postcode word before it says (`His zip is 96813. Office: 1001 Bishop
/// Street, Suite 2200, …`). Asked by the scanner of a code that a postcode
/// word names.
pub(crate) fn house_or_unit_number(b: &[u8], s: usize, end: usize) -> bool {
    let mut p = end;
    for k in 0..3 {
        let Some(w) = (b.get(p) == Some(&b' '))
            .then(|| super::capital_word(b, p + 1))
            .flatten()
        else {
            break;
        };
        if k > 0 && w.flags & names::STREET != 0 {
            return true;
        }
        p = w.end;
    }
    let Some(before) = s.checked_sub(1).and_then(|e| b.get(..e)) else {
        return false;
    };
    if b[s - 1] != b' ' {
        return false;
    }
    let from = before
        .iter()
        .rposition(|c| !c.is_ascii_alphabetic())
        .map_or(0, |k| k + 1);
    let label = &before[from..];
    unit_label(label) || unit_label_lower(label)
}

/// May the word `w` be a street with no type, alone in its run (`42
/// Deansgate, Manchester`, `19 Kingsway`): a number before it and a comma
/// after, or a named street? Asked of every capitalised word: a few byte
/// compares.
#[inline(always)]
pub(super) fn bare_street_start(b: &[u8], w: &super::Word) -> bool {
    w.start >= 2
        && b[w.start - 2].is_ascii_digit()
        && b[w.start - 1] == b' '
        && (b.get(w.end) == Some(&b',') || named_street(&b[w.start..w.end]))
}

/// A post-office box: `PO Box 142`, `P.O. Box 4410`, `PO Box 12-345`, `GPO Box 9`, `Private
/// Bag 92019`, `Locked Bag 5`, `Postfach 10 12 34`, then what the street
/// address would have after it (localities, state, postcode), which must
/// be there.
fn po_box(pass: &mut Pass<'_>, run: &Run) -> Option<(usize, usize)> {
    let b = pass.b;
    let words = run.words();
    let text = |w: &super::Word| &b[w.start..w.end];
    let (first, label) = words.iter().enumerate().find_map(|(k, w)| {
        let boxed = matches!(text(w), b"Box" | b"Bag" | b"BOX" | b"BAG")
            && k > 0
            && match text(&words[k - 1]) {
                b"PO" | b"GPO" | b"Private" | b"Locked" | b"PRIVATE" | b"LOCKED" => Some(k - 1),
                b"O" if k > 1 && text(&words[k - 2]) == b"P" => Some(k - 2),
                _ => None,
            }
            .is_some();
        if boxed {
            let start = if text(&words[k - 1]) == b"O" {
                k - 2
            } else {
                k - 1
            };
            Some((start, w))
        } else if matches!(text(w), b"Postfach" | b"Postbus")
            // `P.O. Box`: the initials are read as no word of the run.
            || k == 0 && text(w) == b"Box" && b[..w.start].ends_with(b"P.O. ")
        {
            Some((k, w))
        } else {
            None
        }
    })?;
    // The box number: digits, in groups of two or three for `Postfach`.
    let mut end = label.end;
    let mut groups = 0;
    while b.get(end) == Some(&b' ') && groups < 4 {
        let n = b[end + 1..]
            .iter()
            .take(8)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if n == 0 || (groups > 0 && n > 3) {
            break;
        }
        end += 1 + n;
        groups += 1;
        // `PO Box 12-345`: New Zealand's boxes of a lobby and a number.
        if groups == 1 && b.get(end) == Some(&b'-') {
            let m = b[end + 1..]
                .iter()
                .take(6)
                .take_while(|c| c.is_ascii_digit())
                .count();
            if (1..=5).contains(&m) {
                end += 1 + m;
                break;
            }
        }
    }
    if groups == 0 || b.get(end).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    let after = german_town(b, end).unwrap_or_else(|| tail(b, end));
    if after == end {
        return None;
    }
    let mut start = words[first].start;
    if text(label) == b"Box" && first == 0 && b[..start].ends_with(b"P.O. ") {
        start -= 5;
    }
    pass.push(start, after, K::Address, SCORE, RECOGNIZER);
    Some((first, after))
}

/// May `f`, a finding of the scanner's, be the code after a Québec box
/// (see [`quebec_boxes`]): a postcode of six bytes or more, a capital then
/// a digit?
#[inline]
pub(super) fn box_code(b: &[u8], f: &crate::Finding) -> bool {
    (f.kind == K::CaPostalCode.kind() || f.kind == K::Postcode.kind())
        && f.end - f.start >= 6
        && b[f.start].is_ascii_uppercase()
        && b[f.start + 1].is_ascii_digit()
}

/// Québec's post-office boxes (`C.P. 218, Saint-Georges (Québec) G5Y
/// 5C7`, `case postale 8820, succursale Centre-ville, Montréal (Québec)
/// H3C 3P8`), read back from the Canadian codes the scanner found (the
/// label's initials never reach the runs as one word): the box's label,
/// its number, then words and commas only, on the code's line.
#[cold]
pub(super) fn quebec_boxes(
    b: &[u8],
    scanned: &[crate::Finding],
    min_score: f32,
) -> Vec<crate::Finding> {
    let mut found = Vec::new();
    if SCORE < min_score {
        return found;
    }
    for f in scanned {
        if !box_code(b, f) {
            continue;
        }
        let lo = f.start.saturating_sub(120);
        let line = memchr::memrchr(b'\n', &b[lo..f.start]).map_or(lo, |k| lo + k + 1);
        let head = &b[line..f.start];
        let Some((label, number)) = [&b"C.P. "[..], b"case postale ", b"Case postale "]
            .iter()
            .filter_map(|l| memchr::memmem::rfind(head, l).map(|k| (line + k, line + k + l.len())))
            .max()
        else {
            continue;
        };
        let digits = b[number..f.start]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        let between = &b[number + digits..f.start];
        // (No sentence ends between: a full stop only after `succ`.)
        let sentence_ends = between
            .windows(2)
            .enumerate()
            .any(|(k, w)| matches!(w, b". " | b"? " | b"! ") && !between[..k].ends_with(b"succ"));
        if (1..=6).contains(&digits)
            && between.starts_with(b", ")
            && between.ends_with(b" ")
            && !between.iter().any(u8::is_ascii_digit)
            && !sentence_ends
            && found.last().is_none_or(|l: &crate::Finding| l.end <= label)
        {
            found.push(crate::Finding {
                kind: K::Address.kind(),
                start: label,
                end: f.end,
                score: SCORE,
                recognizer: std::borrow::Cow::Borrowed(RECOGNIZER),
            });
        }
    }
    found
}

/// Irish and UK addresses with no house number, read back from their
/// Eircode or postcode (`codes`, found by its shape after a locality or
/// a comma): a unit or block first (`Apartment 12`, `Unit 14`, `Block
/// B`), then places in title case separated by commas, on the code's line
/// (`Apartment 12, The Granary, Spencer Dock, Dublin 1, D01 K7W2`, `Unit
/// 3, Clonshaugh Business & Technology Park, Dublin 17, D17 KV84`, `Unit
/// 14, Trafford Park Industrial Estate, Manchester M17 1RX`). Ireland
/// numbers few houses, and an estate's units have none; the unit is what
/// makes it an address, not a list of places.
#[cold]
pub(super) fn units_before_codes(
    b: &[u8],
    codes: &[(usize, usize)],
    min_score: f32,
) -> Vec<crate::Finding> {
    let mut found = Vec::new();
    if SCORE < min_score {
        return found;
    }
    for &(code, end) in codes {
        let Some(start) = unit_before_code(b, code) else {
            continue;
        };
        if found.last().is_none_or(|l: &crate::Finding| l.end <= start) {
            found.push(crate::Finding {
                kind: K::Address.kind(),
                start,
                end,
                score: SCORE,
                recognizer: std::borrow::Cow::Borrowed(RECOGNIZER),
            });
        }
    }
    found
}

/// Where the unit of an address ending in the code at `code` starts:
/// read back over fields in title case separated by `, ` on the code's
/// line (within 160 bytes), the first field boundary with units before it
/// ([`units_chain`]: `Unit 14, Block C, `) gives the start.
fn unit_before_code(b: &[u8], code: usize) -> Option<usize> {
    let lo = code.saturating_sub(160);
    let line = memchr::memrchr(b'\n', &b[lo..code]).map_or(lo, |k| lo + k + 1);
    // The space or `, ` before the code.
    let mut p = code.checked_sub(1).filter(|&e| e > line && b[e] == b' ')?;
    if b[p - 1] == b',' {
        p -= 1;
    }
    loop {
        let start = memchr::memmem::rfind(&b[line..p], b", ").map_or(line, |k| line + k + 2);
        if !place_field(&b[start..p]) {
            return None;
        }
        // (A unit's number or letter before the comma, `Block C, `: not a
        // street's `5 Dock Road, `, `Dock` being a unit's word too.)
        let numbered = || {
            let id = b[..start - 2]
                .rsplit(|&c| c == b' ')
                .next()
                .unwrap_or_default();
            id.iter().any(u8::is_ascii_digit) || matches!(id, [c] if c.is_ascii_uppercase())
        };
        if start > line
            && let Some(unit) = units_chain(b, start).filter(|&u| u >= line && numbered())
        {
            return Some(unit);
        }
        if start == line {
            return None;
        }
        p = start - 2;
    }
}

/// A field of an address after its unit (`The Granary`, `Dublin 1`, `Co.
/// Galway`, `Clonshaugh Business & Technology Park`): in title
/// case or a number first, words and `&` only, no sentence's end (a full
/// stop only after `Co` or `St`).
fn place_field(f: &[u8]) -> bool {
    f.first()
        .is_some_and(|&c| c.is_ascii_uppercase() || c.is_ascii_digit() || c >= 0xC0)
        && f.iter().all(|&c| {
            c.is_ascii_alphanumeric() || c >= 0x80 || matches!(c, b' ' | b'.' | b'&' | b'\'' | b'-')
        })
        && f.windows(2)
            .enumerate()
            .all(|(k, w)| w != b". " || f[..k].ends_with(b"Co") || f[..k].ends_with(b"St"))
}

/// `, 50452 Köln` after `end`, or the postcode and town on the next line
/// (`\n20259 Hamburg`, as an address block is written): where the town
/// ends, with its river or region (`Frankfurt am Main`, `Frankfurt an der
/// Oder`, `Freiburg im Breisgau`).
fn german_town(b: &[u8], end: usize) -> Option<usize> {
    let p = match b.get(end..end + 2)? {
        b", " => end + 2,
        [b'\n', _] => end + 1,
        b"\r\n" => end + 2,
        _ => return None,
    };
    // Five digits in Germany, four in Austria and Switzerland (`, 1050
    // Wien`, `, 8005 Zürich`).
    let plz = b[p..]
        .iter()
        .take(6)
        .take_while(|c| c.is_ascii_digit())
        .count();
    if !(4..=5).contains(&plz) || b.get(p + plz) != Some(&b' ') {
        return None;
    }
    let town = capital_word(b, p + plz + 1)?.end;
    let rest = &b[town..];
    const BY: [&[u8]; 3] = [b" am ", b" an der ", b" im "];
    let Some(by) = BY.iter().find(|w| rest.starts_with(w)) else {
        // `3000 Bern 7`: a Swiss post office's number after the town.
        let office = number_at(b, town).filter(|&e| e - town <= 3);
        return Some(office.unwrap_or(town));
    };
    Some(
        capital_word(b, town + by.len())
            .filter(|w| w.shape == Shape::Title)
            .map_or(town, |w| w.end),
    )
}

/// A unit on an estate, with no house number: `Unit 5, Riverside Business
/// Park, Bristol BS2 0JZ`, `Unit 7, Sandyford Business Park, Dublin 18`.
fn estate(pass: &mut Pass<'_>, run: &Run) -> Option<(usize, usize)> {
    let b = pass.b;
    let words = run.words();
    let k = words.iter().position(|w| {
        matches!(
            &b[w.start..w.end],
            b"Park" | b"Estate" | b"Centre" | b"Center" | b"Quay" | b"Court"
        )
    })?;
    if k == 0 || !words[..k].iter().all(|w| w.shape == Shape::Title) {
        return None;
    }
    let start = units_before(b, words[0].start)?;
    let end = tail(b, words[k].end);
    if end == words[k].end {
        return None;
    }
    pass.push(start, end, K::Address, SCORE, RECOGNIZER);
    Some((0, end))
}

/// A street with no street type, one or two title-case words after a
/// house number, sure only with a locality and a state or postcode after
/// it: `42 Deansgate, Manchester M3 2EG`, `1450 Broadway, Suite 1200,
/// Denver, CO 80202`.
fn bare_street(pass: &mut Pass<'_>, run: &Run) -> Option<(usize, usize)> {
    let b = pass.b;
    let words = run.words();
    // A count and a plural are no street (`5 Laptops, Sydney NSW 2000`).
    if words.len() > 2
        || !words.iter().all(|w| w.shape == Shape::Title)
        || b[words[words.len() - 1].end - 1] == b's'
    {
        return None;
    }
    let last = words[words.len() - 1].end;
    let named = words.len() == 1 && named_street(&b[words[0].start..last]);
    if b.get(last) != Some(&b',') && !named {
        return None;
    }
    let start = house_number_before(b, words[0].start)?;
    // A number after a capitalised label, or a year, is no house number
    // (`Page 3 Summary,`, `2024 Edition,`): only a unit may stand before it.
    let number = &b[start..words[0].start - 1];
    if number.iter().all(u8::is_ascii_digit)
        && (matches!(number, [b'1', b'9', _, _] | [b'2', b'0', _, _])
            || super::word_before(b, start)
                .is_some_and(|(ws, we)| b[ws].is_ascii_uppercase() && b[we..start] == *b" "))
    {
        return None;
    }
    let mut end = unit_after(b, last).unwrap_or(last);
    let mut localities = 0;
    while localities < 2 {
        let Some(after) = comma_locality(b, end) else {
            break;
        };
        end = after;
        localities += 1;
    }
    let state = state(b, end);
    end = state.unwrap_or(end);
    let code = postcode(b, end);
    // Digits alone may be a year or a count (`2 Macs, Auckland 1010`):
    // a state or a postcode with letters (UK, Canada, Ireland) is needed.
    let lettered = code.is_some_and(|e| b[end..e].iter().any(u8::is_ascii_uppercase));
    if !named && (localities == 0 || !(state.is_some() || lettered)) {
        return None;
    }
    end = code.unwrap_or(end);
    pass.push(start, end, K::Address, SCORE, RECOGNIZER);
    Some((0, end))
}

/// Streets known by a name with no type (`19 Kingsway`, `1585
/// Broadway`): an address with the house number alone.
fn named_street(word: &[u8]) -> bool {
    matches!(
        word,
        b"Kingsway"
            | b"Queensway"
            | b"Broadway"
            | b"Deansgate"
            | b"Bishopsgate"
            | b"Moorgate"
            | b"Aldwych"
            | b"Cheapside"
            | b"Headrow"
    )
}

/// Where a lower-case French street type (`rue`, `avenue`, `allée`) just
/// before `s` starts, with a number before it.
// (Its first test in line: a space, after a type's last letter (`e`,
// `n`, `d`, `i`, `é`'s last byte, `boul.`'s stop) or a particle's (`du`,
// `de`, `la`, `des`), just before `s`. Most capitals are told there,
// without the call.)
#[inline(always)]
pub(super) fn french_type_before(b: &[u8], s: usize) -> Option<usize> {
    if !(b.get(s.wrapping_sub(1)) == Some(&b' ')
        && matches!(
            b.get(s.wrapping_sub(2)),
            Some(b'e' | b'n' | b'd' | b'i' | 0xA9 | b'.' | b'u' | b'a' | b's')
        ))
    {
        return None;
    }
    french_type_at(b, s)
}

/// [`french_type_before`] past its first test.
#[inline(never)]
fn french_type_at(b: &[u8], s: usize) -> Option<usize> {
    // `chemin du Lac-Noir`, `rue de la Commune`: past the particle.
    let particle = match b.get(s.wrapping_sub(3)..s) {
        Some(b"du " | b"de ") => 3,
        Some(b"la ") if b[..s].ends_with(b" de la ") => 6,
        Some(b"es ") if b[..s].ends_with(b" des ") => 4,
        _ => 0,
    };
    let s = if particle > 0 && s > particle && b[s - particle - 1] == b' ' {
        s - particle
    } else {
        s
    };
    let ty_end = s.checked_sub(1).filter(|&e| b[e] == b' ')?;
    // `1250, boul. René-Lévesque`: Québec's abbreviation, read as the
    // type it stands for.
    let boul = b.get(ty_end.wrapping_sub(1)) == Some(&b'.') && b[..ty_end].ends_with(b"boul.");
    let ty_end = if boul { ty_end - 1 } else { ty_end };
    // The types end in `e`, `n`, `d`, `i` (or `é`'s last byte).
    if !boul
        && !matches!(
            b.get(ty_end.wrapping_sub(1)),
            Some(b'e' | b'n' | b'd' | b'i' | 0xA9)
        )
    {
        return None;
    }
    let ty_start = ty_end.saturating_sub(10)
        + b[ty_end.saturating_sub(10)..ty_end]
            .iter()
            .rposition(|&c| c == b' ')
            .map_or(0, |p| p + 1);
    let ty = &b[ty_start..ty_end];
    let street = matches!(
        ty,
        b"rue"
            | b"avenue"
            | b"boulevard"
            | b"boul"
            | b"chemin"
            | b"place"
            | b"impasse"
            | b"quai"
            | b"route"
    ) || ty == "allée".as_bytes();
    // `88 rue`, or in Québec `4820, rue`.
    let number = ty_start >= 3
        && b[ty_start - 1] == b' '
        && (b[ty_start - 2].is_ascii_digit()
            || b[ty_start - 2] == b',' && b[ty_start - 3].is_ascii_digit());
    (street && number).then_some(ty_start)
}

/// `1550 Rue Saint-Denis`, `88 Rue du Petit-Champlain`: a French street
/// type written with a capital (as English text writes Québec's streets),
/// first in the run, a name after it (past `du`, `de la`, `des`) and a
/// number before it: the type's start, and whether a particle made it
/// sure (`2 Place Settings` is a count).
fn french_title_type(b: &[u8], words: &[super::Word]) -> Option<(usize, bool)> {
    let ty = words.first()?;
    // (A number just before first: most runs have none, and are told
    // here before the type and the particles are compared.)
    let numbered = ty.start >= 2 && b[ty.start - 1] == b' ' && b[ty.start - 2].is_ascii_digit();
    if !numbered {
        return None;
    }
    let particles = words[1..]
        .iter()
        .take(2)
        .take_while(|w| matches!(&b[w.start..w.end], b"du" | b"de" | b"la" | b"des"))
        .count();
    let name = words.get(1 + particles)?;
    let french = type_first_street(&b[ty.start..ty.end]);
    (french && name.shape == Shape::Title).then_some((ty.start, particles > 0))
}

/// A street type written before the street's name, capitalised: French
/// (`Rue`, `Allée`) and Welsh (`5 Heol Isaf`).
fn type_first_street(word: &[u8]) -> bool {
    matches!(
        word,
        b"Rue"
            | b"Boulevard"
            | b"Chemin"
            | b"Impasse"
            | b"Quai"
            | b"Avenue"
            | b"Place"
            | b"Heol"
            | b"Ffordd"
            | b"Stryd"
    ) || word == "Allée".as_bytes()
}

/// French and Québécois: `88 rue Saint-Paul Ouest[, Montréal, QC H2Y 1Z1]`,
/// a house number and a lower-case street type before the run.
fn french(pass: &mut Pass<'_>, run: &Run) -> Option<(usize, usize)> {
    let b = pass.b;
    let words = run.words();
    let (ty_start, sure) = match french_type_before(b, words[0].start) {
        Some(s) => (s, true),
        None => french_title_type(b, words)?,
    };
    let start = if b[ty_start - 2] == b',' {
        // `4820, rue`: the number ends at the comma.
        number_ending_at(b, ty_start - 2, 6)?
    } else {
        house_number_before(b, ty_start)?
    };
    let last = words.iter().rposition(|w| w.is_capitalised())?;
    // `10 rue de Rivoli, 75001 Paris`: the postcode before the town.
    let end = german_town(b, words[last].end).unwrap_or_else(|| tail(b, words[last].end));
    // A capitalised type with no particle is sure only with a locality or
    // postcode after (`2 Place Settings` is a count).
    if !sure && end == words[last].end {
        return None;
    }
    pass.push(start, end, K::Address, SCORE, RECOGNIZER);
    Some((0, end))
}

fn english(pass: &mut Pass<'_>, run: &Run) -> Option<(usize, usize)> {
    let b = pass.b;
    let words = run.words();
    // (A street type of the lexicon's list, in title case or capitals.)
    let is_type = |w: &super::Word| {
        w.flags & names::STREET != 0 && matches!(w.shape, Shape::Title | Shape::Upper)
    };
    // `350 5th Ave`, `318 West 46th Street`, `10180 101 Street NW`: the
    // street's name is a number before its type.
    let numbered = if is_type(&words[0]) {
        numbered_street_before(b, words[0].start)
    } else {
        None
    };
    // The street type: the first word of the run that is one, after one to
    // four title-case street words (`Martin Luther King Jr Blvd`).
    // `Apt 12, The Maltings, Bow Street, Dublin 7`: no house number, a
    // unit in a named building (or alone) before the street (sure only
    // with a locality or postcode after it).
    let mut unnumbered = false;
    let (k, ty, start) = if let Some(start) = numbered {
        (0, &words[0], start)
    } else {
        let (k, ty) = words
            .iter()
            .enumerate()
            .skip(1)
            .take(4)
            .find(|(_, w)| is_type(w))?;
        // (`5522 N. Winthrop Ave`: a compass point's initial first.)
        let compass = |w: &super::Word| {
            w.shape == Shape::Initial && matches!(b[w.start], b'N' | b'S' | b'E' | b'W')
        };
        if !words[..k].iter().enumerate().all(|(j, w)| {
            matches!(w.shape, Shape::Title | Shape::Upper) || j == 0 && k > 1 && compass(w)
        }) {
            return None;
        }
        let start = house_number_before(b, words[0].start);
        unnumbered = start.is_none();
        (
            k,
            ty,
            start
                .or_else(|| unit_in_building_before(b, words[0].start))
                // `Unit 2, Winnall Valley Road, Winchester SO23 0LD`: a
                // unit on an estate's road, no house number.
                .or_else(|| units_chain(b, words[0].start))?,
        )
    };
    // `Harbour View Road`, `Grove Park Road`, `Hill Street Close`: a street
    // type before another is part of the name; the last is the type
    // (`Dr`, a title too, only before a comma or the line's end: `4410
    // Commerce Park Dr, Suite 120`, not `12 Main St Dr Jones`).
    let (mut k, mut ty) = (k, ty);
    while let Some(next) = words.get(k + 1).filter(|w| {
        is_type(w)
            && (&b[w.start..w.end] != b"Dr"
                || matches!(b.get(w.end), None | Some(b',' | b'\n' | b'\r')))
    }) {
        k += 1;
        ty = next;
    }
    let mut end = ty.end;
    // `King Street West`
    if let Some(next) = words.get(k + 1)
        && matches!(
            &b[next.start..next.end],
            b"North"
                | b"South"
                | b"East"
                | b"West"
                | b"N"
                | b"S"
                | b"E"
                | b"W"
                | b"NE"
                | b"NW"
                | b"SE"
                | b"SW"
                | b"Lower"
                | b"Upper"
                | b"Ouest"
                | b"Est"
                | b"Nord"
                | b"Sud"
                | b"NORTH"
                | b"SOUTH"
                | b"EAST"
                | b"WEST"
                | b"LOWER"
                | b"UPPER"
        )
    {
        end = next.end;
    }
    // `State Highway 2`, `Route 9`: the road's number is part of it.
    if matches!(&b[ty.start..ty.end], b"Highway" | b"Hwy")
        && let Some(n) = number_at(b, end)
    {
        end = n;
    }
    // `Wellington Road 7, RR 2`, `County Road 12, `: a numbered rural
    // road, sure only with a comma after the number.
    if matches!(&b[ty.start..ty.end], b"Road" | b"Rd")
        && let Some(n) = number_at(b, end)
        && b.get(n) == Some(&b',')
    {
        end = n;
    }
    // `St.`: an abbreviation's full stop; after a word written whole
    // (`45 Hunter Street. Thanks`) the sentence's.
    if b.get(end) == Some(&b'.')
        && (b.get(end + 1) == Some(&b',')
            || b.get(end + 1) == Some(&b' ') && abbreviated_type(&b[ty.start..ty.end]))
    {
        end += 1;
    }
    let street_end = end;
    end = tail(b, end);
    if unnumbered && end == street_end {
        return None;
    }
    pass.push(start, end, K::Address, SCORE, RECOGNIZER);
    Some((0, end))
}

/// `1105 - ` before the house number at `p`: one to six digits, alone in
/// their word, then a spaced dash: where they start.
fn suite_dash_before(b: &[u8], p: usize) -> Option<usize> {
    let dash = p.checked_sub(3).filter(|&d| &b[d..p] == b" - ")?;
    number_ending_at(b, dash, 6).filter(|&s| s == 0 || b[s - 1] != b'-')
}

/// One to `max` digits ending at `e`, alone in their word (no letter or
/// digit just before): where they start.
fn number_ending_at(b: &[u8], e: usize, max: usize) -> Option<usize> {
    let n = b[..e]
        .iter()
        .rev()
        .take(max + 1)
        .take_while(|c| c.is_ascii_digit())
        .count();
    let s = e - n;
    ((1..=max).contains(&n) && (s == 0 || !b[s - 1].is_ascii_alphanumeric())).then_some(s)
}

/// `Apartment 12, The Maltings, ` before the street at `s`: a unit, then
/// a building's name (with `The` or a building word): the unit's start.
fn unit_in_building_before(b: &[u8], s: usize) -> Option<usize> {
    let (name, last) = name_before(b, s)?;
    if !(building_word(last) || house_word_first(&b[name..])) {
        return None;
    }
    units_chain(b, name)
}

/// Where the address starts: the house number just before `s` (`12 `,
/// `12A `, `4/12 `, `12-14 `), with a unit before it (`Unit 4, `, `Flat 2,
/// `, `Apt 5B `).
fn house_number_before(b: &[u8], s: usize) -> Option<usize> {
    if s < 2 || b[s - 1] != b' ' {
        return None;
    }
    let e = s - 1;
    let mut p = e;
    // An optional letter suffix (`14A`, `14a`), then digits, `/` or `-`
    // between digits.
    if p > 1 && b[p - 1].is_ascii_alphabetic() && b[p - 2].is_ascii_digit() {
        p -= 1;
    }
    let digits_end = p;
    while p > 0 && e - p < 12 {
        if b[p - 1].is_ascii_digit() || matches!(b[p - 1], b'/' | b'-') {
            p -= 1;
        } else if p >= 4 && b[p - 3..p] == *"\u{2013}".as_bytes() && b[p - 4].is_ascii_digit() {
            // `14–16 Foundry Road`: a range written with an en dash.
            p -= 3;
        } else {
            break;
        }
    }
    let number = &b[p..digits_end];
    if number.is_empty()
        || !number[0].is_ascii_digit()
        || !number[number.len() - 1].is_ascii_digit()
        // (`310-1188 West Pender Street`: a Canadian suite and house
        // number, each of six digits at most.)
        || number.split(|c| !c.is_ascii_digit()).any(|part| part.len() > 6)
        || (p > 0
            && (b[p - 1].is_ascii_alphanumeric()
                || matches!(b[p - 1], b'.' | b',' | b'$' | b'#' | b':'))
            && unit_before(b, p).is_none())
    {
        return None;
    }
    // `1105 - 1088 Richards Street`: a Canadian suite, a spaced dash, then
    // the house number.
    let p = suite_dash_before(b, p).unwrap_or(p);
    // `Unit 7/14 Carrington Street`: in Australia the unit and the house
    // number share one slashed number, its label just before it.
    let slashed = number.contains(&b'/');
    Some(
        units_before(b, p)
            .or_else(|| {
                // (`Lot 22 Stuart Highway`: a land lot's number is the
                // house number.)
                label_before(b, p).filter(|&l| slashed || b.get(l..l + 4) == Some(b"Lot "))
            })
            .unwrap_or(p),
    )
}

/// `Unit ` just before `p` (a unit label, one space): the label's start.
fn label_before(b: &[u8], p: usize) -> Option<usize> {
    let e = p.checked_sub(1).filter(|&e| b[e] == b' ')?;
    let n = b[..e]
        .iter()
        .rev()
        .take(10)
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    let s = e - n;
    // `U 7/44 Railway Pde`: `U` for a unit, before a slashed number only.
    let label = &b[s..e];
    (n > 0 && (unit_label(label) || label == b"U") && (s == 0 || !b[s - 1].is_ascii_alphanumeric()))
        .then_some(s)
}

/// ` 2` after `end` (a number of one to four digits, then no letter or
/// digit): where it ends.
fn number_at(b: &[u8], end: usize) -> Option<usize> {
    if b.get(end) != Some(&b' ') {
        return None;
    }
    let n = b[end + 1..]
        .iter()
        .take(5)
        .take_while(|c| c.is_ascii_digit())
        .count();
    let e = end + 1 + n;
    ((1..=4).contains(&n) && !b.get(e).is_some_and(u8::is_ascii_alphanumeric)).then_some(e)
}

/// Is there a number, or an ordinal, just before the word at `s` (`5th
/// Ave`, `101 Street`, `79TH ST`)? Asked of street types only: a few byte compares.
#[inline]
pub(super) fn number_before(b: &[u8], s: usize) -> bool {
    s >= 2
        && b[s - 1] == b' '
        && (b[s - 2].is_ascii_digit()
            || s >= 4
                && matches!(b[s - 2], b't' | b'd' | b'h' | b'T' | b'D' | b'H')
                && b[s - 4].is_ascii_digit())
}

/// `350 5th `, `318 West 46th `, `10180 101 ` before the street type at
/// `s`: a house number, an optional direction and the street's number
/// (one to three digits, an ordinal suffix or not): the house number's
/// start.
fn numbered_street_before(b: &[u8], s: usize) -> Option<usize> {
    if !number_before(b, s) {
        return None;
    }
    let mut e = s - 1;
    // (In capitals too: `4821 W 79TH ST`.)
    if e >= 3
        && matches!(
            &b[e - 2..e],
            b"st" | b"nd" | b"rd" | b"th" | b"ST" | b"ND" | b"RD" | b"TH"
        )
    {
        e -= 2;
    }
    let n = b[..e]
        .iter()
        .rev()
        .take(4)
        .take_while(|c| c.is_ascii_digit())
        .count();
    if !(1..=3).contains(&n) || e - n < 2 || b[e - n - 1] != b' ' {
        return None;
    }
    let mut q = e - n;
    let before = &b[..q - 1];
    for dir in [
        &b"West"[..],
        b"East",
        b"North",
        b"South",
        b"WEST",
        b"EAST",
        b"NORTH",
        b"SOUTH",
        b"W",
        b"E",
        b"N",
        b"S",
    ] {
        if before.ends_with(dir)
            && before.len() > dir.len()
            && before[before.len() - dir.len() - 1] == b' '
        {
            q -= dir.len() + 1;
            break;
        }
    }
    house_number_before(b, q)
}

/// `Apt 5C` alone on the line before the house number at `p`, or with its
/// building's name after it (`Shop 14, Westfield Parramatta`): the unit's
/// start.
fn unit_line_before(b: &[u8], p: usize) -> Option<usize> {
    if p < 2 || b[p - 1] != b'\n' {
        return None;
    }
    let e = p - 1 - usize::from(b[p - 2] == b'\r');
    let ls = super::line_start_within(b, e, 48)?;
    // (After a label: `Delivery address: Unit 3`.)
    let ls = memchr::memmem::rfind(&b[ls..e], b": ").map_or(ls, |k| ls + k + 2);
    let line = &b[ls..e];
    let space = line.iter().position(|&c| c == b' ')?;
    let rest = &line[space + 1..];
    let id_len = rest.iter().position(|&c| c == b',').unwrap_or(rest.len());
    let id = &rest[..id_len];
    if id_len < rest.len() && !building_name(&rest[id_len..]) {
        return None;
    }
    // (`Unit B`: a unit lettered.)
    let id_ok = (1..=5).contains(&id.len())
        && id.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'/')
        && (id.iter().any(u8::is_ascii_digit) || matches!(id, [c] if c.is_ascii_uppercase()));
    (unit_label(&line[..space]) && id_ok).then_some(ls)
}

/// `, Westfield Parramatta`: a comma, then one to four title-case words.
fn building_name(r: &[u8]) -> bool {
    let Some(name) = r.strip_prefix(b", ") else {
        return false;
    };
    let mut words = 0;
    for w in name.split(|&c| c == b' ') {
        words += 1;
        let letters = w
            .iter()
            .skip(1)
            .all(|&c| c.is_ascii_alphabetic() || c >= 0x80 || matches!(c, b'\'' | b'-'));
        if words > 4 || !w.first().is_some_and(u8::is_ascii_uppercase) || !letters {
            return false;
        }
    }
    true
}

/// The units before `p` (`Suite 3, Level 1, `, at most three), then a
/// building's name (`Rosebank House, `, `The Old Mill, `): the start.
fn units_before(b: &[u8], p: usize) -> Option<usize> {
    let start = units_chain(b, p);
    let start = start.or_else(|| unit_line_before(b, p));
    let s = start.unwrap_or(p);
    match name_before(b, s) {
        // `Flat 12, Ashdown Court, 5 Tilbury Road`: a unit in the
        // building.
        // `The Old Forge, 2 Mill Lane`: a name with `The` is a house's.
        Some((s, last)) if building_word(last) || house_word_first(&b[s..]) => {
            Some(units_chain(b, s).unwrap_or(s))
        }
        // `Deliver to Hollybank, 2 Church Lane`, `\nRosedene, 4 Mill
        // Road`: a house's name of one word the lexicon does not know,
        // after `to`, a label's colon or at a line's start.
        Some((s, last)) if start.is_none() && house_name(b, s, last) => Some(s),
        // `Shop 12, Grand Central, 1 Anzac Avenue`, `Unit 3B, Trafford
        // Park Trading Estate, 9 …`: a unit, then any name, then the
        // number: the name is the building or estate the unit is in.
        // (`Apartment 23, Block B, The Gasworks, Barrow Street`: units
        // before units.)
        Some((s, _)) if start.is_none() => units_chain(b, s).or(start),
        _ => start,
    }
}

/// Up to three units just before `p` (`Suite 3, Level 1, `): the first's
/// start.
fn units_chain(b: &[u8], p: usize) -> Option<usize> {
    let mut start = unit_before(b, p);
    for _ in 0..2 {
        match start.and_then(|s| unit_before(b, s)) {
            Some(s) => start = Some(s),
            None => break,
        }
    }
    start
}

/// `Rosebank House, ` / `Grand Central, ` before `p`: a name of one to
/// four title-case words, then `, `: the name's start and its last word.
/// In an address block the name is a line of its own (`The Old
/// Rectory\n3 Church Lane`): only a house's, so only a name with `The`,
/// `Haus` or a building word, the whole line.
fn name_before(b: &[u8], p: usize) -> Option<(usize, &[u8])> {
    if p >= 2 && b[p - 1] == b'\n' && b[p - 2] != b'\n' {
        let line = b[..p - 1]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |n| n + 1);
        let (s, last) = name_ending_at(b, p - 1)?;
        let house = building_word(last) || house_word_first(&b[s..]) && !addressee(last);
        return (s == line && house).then_some((s, last));
    }
    if p < 3 || &b[p - 2..p] != b", " {
        return None;
    }
    name_ending_at(b, p - 2)
}

/// `The Old Mill`, `Haus Lindenhof`, `Villa Rosa`: a house's name by its
/// first word.
fn house_word_first(name: &[u8]) -> bool {
    [&b"The "[..], b"Haus ", b"Villa "]
        .iter()
        .any(|w| name.starts_with(w))
}

/// `The Occupier`, `The Manager`: a line that names the addressee by
/// role, not the house.
fn addressee(last: &[u8]) -> bool {
    matches!(
        last,
        b"Occupier"
            | b"Occupant"
            | b"Resident"
            | b"Householder"
            | b"Manager"
            | b"Secretary"
            | b"Director"
            | b"Owner"
    )
}

/// One to four title-case words ending at `e`: their start and last word.
fn name_ending_at(b: &[u8], mut e: usize) -> Option<(usize, &[u8])> {
    let mut first = None;
    let mut last_word: Option<&[u8]> = None;
    for _ in 0..4 {
        let mut s = e;
        while s > 0 && e - s < 20 && b[s - 1].is_ascii_alphabetic() {
            s -= 1;
        }
        if s == e || !b[s].is_ascii_uppercase() || (s > 0 && b[s - 1].is_ascii_alphanumeric()) {
            break;
        }
        last_word.get_or_insert(&b[s..e]);
        first = Some(s);
        if s < 2 || b[s - 1] != b' ' || !b[s - 2].is_ascii_alphabetic() {
            break;
        }
        e = s - 1;
        // `Halls of Residence`: a lower-case `of` inside the name.
        if b[..e].ends_with(b" of") {
            e -= 3;
        }
    }
    Some((first?, last_word?))
}

/// Is `word`, starting at `s`, alone a house's name: a title-case word of
/// five letters or more the lexicon does not know, ending as house names
/// do (`Hollybank`, `Rosedene`, `Fairview`, `Oakhurst`), after `to `, `: `
/// or at a line's start?
fn house_name(b: &[u8], s: usize, word: &[u8]) -> bool {
    let after_lead =
        s == 0 || b[s - 1] == b'\n' || b[..s].ends_with(b"to ") || b[..s].ends_with(b": ");
    let ending = [
        &b"bank"[..],
        b"field",
        b"wood",
        b"view",
        b"lea",
        b"leigh",
        b"hurst",
        b"dene",
        b"croft",
        b"holme",
        b"side",
        b"cote",
        b"ridge",
        b"stead",
        b"garth",
        b"brook",
        b"mead",
        b"haven",
        b"acre",
        b"acres",
        b"ways",
        b"lands",
        b"cot",
    ]
    .iter()
    .any(|e| word.ends_with(e));
    after_lead
        && ending
        && word.len() >= 5
        && s + word.len() + 2 <= b.len()
        && super::capital_word(b, s)
            .is_some_and(|w| w.shape == Shape::Title && w.flags == 0 && w.end == s + word.len())
}

/// Does a building's name end with `w` (`Rosebank House`, `The Old
/// Mill`)?
fn building_word(w: &[u8]) -> bool {
    matches!(
        w,
        b"House"
            | b"Building"
            | b"Centre"
            | b"Center"
            | b"Tower"
            | b"Towers"
            | b"Chambers"
            | b"Mill"
            | b"Lodge"
            | b"Cottage"
            | b"Farm"
            | b"Barn"
            | b"Plaza"
            | b"Court"
            | b"Mansions"
            | b"Apartments"
            | b"Flats"
            | b"Forge"
            | b"Maltings"
            | b"Rectory"
            | b"Vicarage"
            | b"Manor"
            | b"Grange"
            | b"Hall"
            | b"Works"
            | b"Studios"
    )
}

/// `Unit 4, ` / `Flat 2 ` / `Apt 5B, ` / `Suite 300, ` / `Level 3, ` before
/// the house number at `p`: the unit's start.
fn unit_before(b: &[u8], p: usize) -> Option<usize> {
    if let Some(s) = floor_before(b, p) {
        return Some(s);
    }
    let mut q = p.checked_sub(1)?;
    if b[q] != b' ' {
        return None;
    }
    if q > 0 && b[q - 1] == b',' {
        q -= 1;
    } else if q >= 2 && b[q - 1] == b'/' && b[q - 2] == b' ' {
        // `Unit 9 / 45 Station Street`: the unit, a spaced slash, the
        // house.
        q -= 2;
    }
    let id_end = q;
    // `5B`, in Scotland `3/2` (floor and door), `5-6`, `5–6` (a range),
    // `4.02` (a room on level 4).
    while q > 0
        && id_end - q < 7
        && (b[q - 1].is_ascii_alphanumeric()
            || matches!(b[q - 1], b'/' | b'-' | b'.' | 0xE2 | 0x80 | 0x93))
    {
        q -= 1;
    }
    let id = &b[q..id_end];
    // `2F1, 17 Marchmont Crescent`: in Scotland a flat's floor and door,
    // with no label (`PF1` on the pavement floor).
    if (q == 0 || matches!(b[q - 1], b' ' | b'\n'))
        && let [floor, b'F', door] = id
        && (floor.is_ascii_digit() || *floor == b'P')
        && door.is_ascii_digit()
        && b[id_end] == b','
    {
        return Some(q);
    }
    if !(id.first().is_some_and(u8::is_ascii_alphanumeric)
        && id.last().is_some_and(u8::is_ascii_alphanumeric)
        && (id.len() <= 5 || std::str::from_utf8(id).is_ok_and(|t| t.contains('\u{2013}'))))
        // (A word in lower case is no unit's id: `Building is Ashby
        // Building, 9 …`.)
        || id.len() >= 2 && id.iter().all(u8::is_ascii_lowercase)
    {
        return None;
    }
    if q < 2 || b[q - 1] != b' ' {
        return None;
    }
    // `Apt. 4, `: a full stop after the label.
    let label_end = q - 1 - usize::from(b[q - 2] == b'.');
    let mut s = label_end;
    while s > 0 && label_end - s < 10 && b[s - 1].is_ascii_alphabetic() {
        s -= 1;
    }
    let label = &b[s..label_end];
    (unit_label(label) || unit_label_lower(label) && id.iter().any(u8::is_ascii_digit)).then_some(s)
}

/// Extends an address ending at `end` over what follows the street: up to
/// two `, Locality` groups, a state and a postcode.
fn tail(b: &[u8], mut end: usize) -> usize {
    // `, Suite 200` after the street.
    if let Some(after) = unit_after(b, end) {
        end = after;
    }
    // `, RD 3`: a New Zealand rural delivery round; `, RR 2`, a Canadian
    // rural route.
    if matches!(b.get(end..end + 5), Some(b", RD " | b", RR "))
        && let Some(after) = number_at(b, end + 4)
    {
        end = after;
    }
    // The locality, state and postcode on the lines after (`3 Mill
    // Street\nGalway\nH91 X2Y3`): taken only when a state or a postcode
    // ends them.
    if let Some(after) = next_lines(b, end) {
        return eircode_after(b, after).unwrap_or(after);
    }
    let street_end = end;
    for i in 0..3 {
        let Some(after) = comma_locality(b, end) else {
            break;
        };
        // A trailing country (`, New Zealand`) is not part of it.
        if country(&b[end + 2..after]) && state(b, after).or_else(|| postcode(b, after)).is_none() {
            break;
        }
        // A third locality (`Headington, Oxford, Oxfordshire OX3 9AA`) only
        // before a state or postcode.
        if i == 2 && state(b, after).or_else(|| postcode(b, after)).is_none() {
            break;
        }
        end = after;
    }
    // `1 George Street Sydney NSW 2000`: a locality with no comma, sure
    // only before a state or a postcode with letters.
    if end == street_end
        && let Some(after) = space_locality(b, end)
        && (state(b, after).is_some()
            || postcode(b, after).is_some_and(|c| b[after..c].iter().any(u8::is_ascii_uppercase)))
    {
        end = after;
    }
    // `Montréal (Québec) H2J 2L6`
    if let Some(after) = province_in_brackets(b, end) {
        end = after;
    }
    let state = state(b, end);
    end = state.unwrap_or(end);
    let code = postcode(b, end);
    // In capitals, any word looks like a locality (`4 MAIN ST, IT DEPT`):
    // only a state or postcode after them makes them one.
    if state.is_none()
        && code.is_none()
        && b[street_end.saturating_sub(2)..street_end]
            .iter()
            .all(u8::is_ascii_uppercase)
    {
        return street_end;
    }
    if let Some(after) = code {
        end = after;
        if let Some(after) = eircode_after(b, end) {
            end = after;
        }
    }
    end
}

/// `Dublin 2, D02 VH29`, `Dublin 2\nD02 F827`: after a district ending
/// at `end`, a comma or a line break, then an Eircode: where it ends.
fn eircode_after(b: &[u8], end: usize) -> Option<usize> {
    let s = match b.get(end..end + 2)? {
        b", " | b"\r\n" => end + 2,
        // (`Dublin 18 D18 K5V8`: a space too.)
        [b'\n' | b' ', _] => end + 1,
        _ => return None,
    };
    let len = eircode(b.get(s..b.len().min(s + 12))?)?;
    b.get(s + len)
        .is_none_or(|c| !c.is_ascii_alphanumeric())
        .then_some(s + len)
}

/// `\nGalway\nH91 X2Y3` / `\nChicago, IL 60601` after `end`: a locality
/// line, then a state or postcode (on it or the next line): where they end.
fn next_lines(b: &[u8], end: usize) -> Option<usize> {
    next_lines_at(b, end, 2)
}

/// [`next_lines`], with up to `lines` locality lines (`\nNaenae\nLower
/// Hutt 5011`: a suburb, then the town and postcode).
fn next_lines_at(b: &[u8], end: usize, lines: usize) -> Option<usize> {
    let s = match b.get(end..end + 2)? {
        [b'\n', _] => end + 1,
        b"\r\n" => end + 2,
        _ => return None,
    };
    // A locality as `comma_locality` reads one, from a line's start; in
    // capitals (`\nAUSTIN TX 78704`) when its first word is, a state
    // code ending it.
    let caps = capital_word(b, s).is_some_and(|w| w.shape == Shape::Upper);
    let shape_ok = |w: &super::Word| {
        w.shape == Shape::Title
            || caps && w.shape == Shape::Upper && !state_code(&b[w.start..w.end])
    };
    // `\nApt 4B\nPortland, OR 97205`: a unit on its own line after the
    // street, then the locality.
    if let Some(unit) = unit_line_at(b, s) {
        return next_lines_at(b, unit, lines);
    }
    let mut e = s;
    let mut words = 0;
    // `\nPonsonby, Auckland 1011`: a suburb, a comma, then the town.
    let mut groups = 0;
    while words < 3 {
        let Some(w) = capital_word(b, e) else { break };
        if !shape_ok(&w) {
            break;
        }
        words += 1;
        e = w.end;
        if b.get(e) == Some(&b' ') && capital_word(b, e + 1).is_some_and(|n| shape_ok(&n)) {
            e += 1;
        } else if groups == 0
            && b.get(e..e + 2) == Some(b", ")
            && capital_word(b, e + 2).is_some_and(|n| n.shape == Shape::Title)
        {
            groups = 1;
            words = 0;
            e += 2;
        } else {
            break;
        }
    }
    if words == 0 {
        return None;
    }
    // `\nQuébec (Québec) G1K 3V9`
    let e = province_in_brackets(b, e).unwrap_or(e);
    let state = state(b, e);
    let after = state.unwrap_or(e);
    // The postcode may stand on a line of its own.
    let code = postcode(b, after).or_else(|| {
        (b.get(after) == Some(&b'\n'))
            .then(|| postcode_at(b, after, after + 1))
            .flatten()
    });
    // The postcode ends its line (`\nPhone 0800 123 456` is no locality),
    // or the sentence goes on after a state and its code (`\nHanover, NH
    // 03755 and mark it`).
    let code = code.filter(|&c| {
        b.get(c)
            .is_none_or(|&x| matches!(x, b'\n' | b'\r' | b',' | b'.'))
            || state.is_some()
                && b.get(c) == Some(&b' ')
                && b.get(c + 1).is_some_and(u8::is_ascii_lowercase)
    });
    match (state, code) {
        (_, Some(c)) => Some(c),
        (Some(st), None) => Some(st),
        _ if lines > 1 && matches!(b.get(e), Some(b'\n' | b'\r')) => next_lines_at(b, e, lines - 1),
        _ => None,
    }
}

/// `Apt 4B` / `Suite 200` alone on the line starting at `s`: where the
/// line ends (before its line break).
fn unit_line_at(b: &[u8], s: usize) -> Option<usize> {
    let label = b[s..]
        .iter()
        .take(10)
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    if label == 0 || b.get(s + label) != Some(&b' ') || !unit_label(&b[s..s + label]) {
        return None;
    }
    let id = s + label + 1;
    let n = b[id..]
        .iter()
        .take(6)
        .take_while(|c| c.is_ascii_alphanumeric())
        .count();
    let e = id + n;
    ((1..=5).contains(&n)
        && b[id..e].iter().any(u8::is_ascii_digit)
        && matches!(b.get(e), Some(b'\n' | b'\r')))
    .then_some(e)
}

/// ` Sydney` after `end` (one to three title-case words, no comma before
/// them): where they end.
fn space_locality(b: &[u8], end: usize) -> Option<usize> {
    if b.get(end) != Some(&b' ') {
        return None;
    }
    place_words(b, end + 1, false, |w| {
        w.shape == Shape::Title && !unit_label(&b[w.start..w.end])
    })
}

/// ` (Québec)` after `end`: where it ends.
fn province_in_brackets(b: &[u8], end: usize) -> Option<usize> {
    if b.get(end..end + 2) != Some(b" (") {
        return None;
    }
    let w = capital_word(b, end + 2)?;
    (w.shape == Shape::Title && b.get(w.end) == Some(&b')')).then_some(w.end + 1)
}

/// `, Suite 200` / `, Unit 4B` / ` Apt 12B` / `, app. 3` / `, bureau 900` /
/// `, 35th Floor` just after `end`: where it ends.
fn unit_after(b: &[u8], end: usize) -> Option<usize> {
    let s = if b.get(end..end + 2) == Some(b", ") {
        end + 2
    } else if b.get(end) == Some(&b' ') {
        end + 1
    } else {
        return None;
    };
    if let Some(e) = floor_at(b, s) {
        return Some(e);
    }
    // `2550 Pearl St #210`: a unit's number after `#`.
    if b.get(s) == Some(&b'#') {
        let n = b[s + 1..]
            .iter()
            .take(6)
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        let ends = b.get(s + 1 + n).is_none_or(|c| !c.is_ascii_alphanumeric());
        return (n > 0 && b[s + 1].is_ascii_digit() && ends).then_some(s + 1 + n);
    }
    let label = b[s..]
        .iter()
        .take(10)
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    let word = &b[s..s + label];
    let mut id = s + label;
    // `app. 3`, `Apt. 4`: a full stop after the abbreviation.
    if b.get(id) == Some(&b'.') && (word == b"app" || unit_label(word)) {
        id += 1;
    }
    let french = matches!(word, b"app" | b"bureau" | b"suite" | b"local");
    if !(unit_label(word) || french) || b.get(id) != Some(&b' ') {
        return None;
    }
    let id = id + 1;
    let n = b[id..]
        .iter()
        .take(6)
        .take_while(|c| c.is_ascii_alphanumeric())
        .count();
    let digits = b[id..id + n].iter().any(u8::is_ascii_digit)
        // `Building B`, `Block C`, `Suite B`: a building or a unit lettered.
        || n == 1
            && b[id].is_ascii_uppercase()
            && matches!(
                word,
                b"Building" | b"Bldg" | b"Block" | b"Suite" | b"Unit" | b"Apt" | b"Flat"
            );
    let ends = b.get(id + n).is_none_or(|c| !c.is_ascii_alphanumeric());
    (n > 0 && digits && ends).then_some(id + n)
}

/// `3rd Floor, ` before the house number at `p`: the floor's start.
fn floor_before(b: &[u8], p: usize) -> Option<usize> {
    let head = b.get(..p)?;
    let e = p.checked_sub(8)?;
    if !(head.ends_with(b"Floor, ") || head.ends_with(b"floor, ")) || b[e] != b' ' {
        return None;
    }
    if !matches!(&b[e.checked_sub(2)?..e], b"st" | b"nd" | b"rd" | b"th") {
        return None;
    }
    number_ending_at(b, e - 2, 3)
}

/// `35th Floor` / `2nd floor` at `s`: where it ends.
fn floor_at(b: &[u8], s: usize) -> Option<usize> {
    let n = b[s..]
        .iter()
        .take(3)
        .take_while(|c| c.is_ascii_digit())
        .count();
    let suffix = b.get(s + n..s + n + 2)?;
    if n == 0 || !matches!(suffix, b"st" | b"nd" | b"rd" | b"th") {
        return None;
    }
    let w = s + n + 2;
    let floor = b.get(w..w + 6)?;
    (floor.eq_ignore_ascii_case(b" floor") && !b.get(w + 6).is_some_and(u8::is_ascii_alphanumeric))
        .then_some(w + 6)
}

/// Is `w`, in a place's words, a unit's label: first (`Main Street, Apt
/// 4`), or later with its number after it? Not a word inside a locality's
/// name (`Spring Flat, NSW 2850`, `SPRING FLAT`).
fn unit_in_place(b: &[u8], w: &super::Word) -> bool {
    let inside = w.start >= 2 && b[w.start - 1] == b' ' && b[w.start - 2].is_ascii_alphabetic();
    let numbered = b
        .get(w.end..)
        .and_then(|r| r.strip_prefix(b"."))
        .or_else(|| b.get(w.end..))
        .and_then(|r| r.strip_prefix(b" "))
        .is_some_and(|r| r.first().is_some_and(|c| c.is_ascii_digit() || *c == b'#'));
    unit_label(&b[w.start..w.end]) && (!inside || numbered)
}

/// The words that label a unit in a building (`UNIT` in capitals too).
fn unit_label(w: &[u8]) -> bool {
    unit_label_title(w) || super::title_case(w).is_some_and(|(t, n)| unit_label_title(&t[..n]))
}

/// The common unit labels in lower case, as chat writes them (`lvl 2, `,
/// `unit 4, `): a label only before a number.
pub(super) fn unit_label_lower(w: &[u8]) -> bool {
    matches!(
        w,
        b"unit" | b"flat" | b"apt" | b"suite" | b"level" | b"lvl" | b"shop"
    )
}

fn unit_label_title(w: &[u8]) -> bool {
    matches!(
        w,
        b"Unit"
            | b"Flat"
            | b"Apt"
            | b"Apartment"
            | b"Suite"
            | b"Ste"
            | b"Level"
            | b"Shop"
            | b"Floor"
            | b"Lvl"
            | b"Wohnung"
            | b"Block"
            | b"Units"
            | b"Building"
            | b"Bldg"
            | b"Room"
            | b"Rm"
            | b"Dock"
            // `Lot 17, 5 Jarrah Close`: an Australian land lot.
            | b"Lot"
            // `RD 3, 1472 Waitomo Valley Road`: a New Zealand rural
            // delivery round before the road.
            | b"RD"
    )
}

/// `, Wellington` or ` Wellington` after `end` (one to three title-case
/// words): where it ends.
fn comma_locality(b: &[u8], end: usize) -> Option<usize> {
    let s = if b.get(end..end + 2) == Some(b", ") {
        end + 2
    } else {
        return None;
    };
    // After an address in capitals (`STREET, PARNELL`), localities in
    // capitals.
    let caps = end >= 2 && b[end - 2..end].iter().all(u8::is_ascii_uppercase);
    // A unit label is no locality (`Main Street, Apt. 4`).
    let shape_ok = |w: &super::Word| {
        (w.shape == Shape::Title || caps && w.shape == Shape::Upper)
            && !state_code(&b[w.start..w.end])
            && !unit_in_place(b, w)
    };
    // `Co. Galway`: an Irish county (`CO. CLARE` in capitals).
    if b[s..].starts_with(b"Co. ") || caps && b[s..].starts_with(b"CO. ") {
        let w = capital_word(b, s + 4)?;
        return shape_ok(&w).then_some(w.end);
    }
    // `St. Louis`, `Mt. Eden`, `Ste. Foy`: a saint's or a mountain's place.
    if let Some(k) = [&b"St. "[..], b"Ste. ", b"Mt. "]
        .iter()
        .find(|p| b[s..].starts_with(p))
        .map(|p| p.len())
    {
        return place_words(b, s + k, true, shape_ok);
    }
    // `90 Petworth Rd, DUNSINNAN PH2 5HL`, `75 Acheron Road, KONGWAK, VIC
    // 3951`: the post town or suburb in capitals, as the UK's and
    // Australia's postal formats write it, sure only before a state or
    // postcode.
    if !caps && capital_word(b, s).is_some_and(|w| w.shape == Shape::Upper) {
        return caps_locality(b, s);
    }
    place_words(b, s, true, shape_ok)
}

/// One to three words at `s` that `ok` accepts, a space between each (with
/// `connectors`, also ` of `, ` upon `, … before a title-case one: `Isle of
/// Skye`, `Newcastle upon Tyne`, `Freiburg im Breisgau`): where they end.
fn place_words(
    b: &[u8],
    s: usize,
    connectors: bool,
    ok: impl Fn(&super::Word) -> bool,
) -> Option<usize> {
    let mut e = s;
    let mut words = 0;
    while words < 3 {
        let Some(w) = capital_word(b, e).filter(&ok) else {
            break;
        };
        words += 1;
        e = w.end;
        if b.get(e) == Some(&b' ') && capital_word(b, e + 1).is_some_and(|n| ok(&n)) {
            e += 1;
        } else if matches!(&b[w.start..w.end], b"St" | b"Ste" | b"Mt")
            && b.get(e..e + 2) == Some(b". ")
            && capital_word(b, e + 2).is_some_and(|n| ok(&n))
        {
            // `Sault Ste. Marie`: a saint's abbreviation inside.
            e += 2;
        } else if let Some(next) = connectors
            .then(|| place_connector(b, e))
            .flatten()
            .filter(|&n| capital_word(b, n).is_some_and(|w| w.shape == Shape::Title && ok(&w)))
        {
            e = next;
        } else {
            break;
        }
    }
    (words > 0).then_some(e)
}

/// One to three words in capitals at `s` (no state code, no unit label),
/// then a state or a postcode: where the words end.
fn caps_locality(b: &[u8], s: usize) -> Option<usize> {
    let e = place_words(b, s, false, |w| {
        w.shape == Shape::Upper && !state_code(&b[w.start..w.end]) && !unit_in_place(b, w)
    })?;
    (state(b, e).is_some() || postcode(b, e).is_some()).then_some(e)
}

/// ` of `, ` upon `, ` im ` … after `e`, inside a place's name (`Isle of
/// Skye`, `Newcastle upon Tyne`, `Frankfurt am Main`): where the next
/// word starts.
fn place_connector(b: &[u8], e: usize) -> Option<usize> {
    let rest = b.get(e..b.len().min(e + 8))?;
    [
        &b" of "[..],
        b" upon ",
        b" on ",
        b" under ",
        b" by ",
        b" am ",
        b" im ",
        b" an der ",
    ]
    .iter()
    .find(|c| rest.starts_with(c))
    .map(|c| e + c.len())
}

/// Is `w` a country's name, as it may end an address line (`Samoa`, `New
/// Zealand`)?
fn country(w: &[u8]) -> bool {
    matches!(
        w,
        b"New Zealand"
            | b"Aotearoa"
            | b"Australia"
            | b"Canada"
            | b"United Kingdom"
            | b"Great Britain"
            | b"England"
            | b"Scotland"
            | b"Wales"
            | b"Northern Ireland"
            | b"Ireland"
            | b"Germany"
            | b"Deutschland"
            | b"United States"
            | b"America"
            | b"Samoa"
            | b"Tonga"
            | b"Fiji"
            | b"Niue"
            | b"Cook Islands"
            | b"Singapore"
            | b"India"
            | b"France"
            | b"Austria"
            | b"Switzerland"
            | b"Netherlands"
    )
}

/// Where the next part of an address starts after `end`: past `", "` or
/// `" "`.
fn after_separator(b: &[u8], end: usize) -> Option<usize> {
    if b.get(end..end + 2) == Some(b", ") {
        Some(end + 2)
    } else if b.get(end) == Some(&b' ') {
        Some(end + 1)
    } else {
        None
    }
}

/// ` NSW`, `, ON`, ` CA` after `end`: where it ends.
fn state(b: &[u8], end: usize) -> Option<usize> {
    let s = after_separator(b, end)?;
    let w = capital_word(b, s)?;
    (w.shape == Shape::Upper && state_code(&b[w.start..w.end])).then_some(w.end)
}

/// A postcode after `end` (a space, or a comma and a space, before it):
/// UK, Canadian, Irish, US ZIP (+4), or four digits (AU, NZ): where it ends.
fn postcode(b: &[u8], end: usize) -> Option<usize> {
    postcode_at(b, end, after_separator(b, end)?)
}

/// The length of the postcode that `r` (in capitals) opens, of any
/// country's format, if one does.
pub(super) fn code_len(r: &[u8]) -> Option<usize> {
    uk_postcode(r)
        .or_else(|| ca_postcode(r))
        .or_else(|| eircode(r))
        .or_else(|| digit_postcode(r))
}

/// A postcode at `s`, the locality before it ending at `end`: where it
/// ends.
fn postcode_at(b: &[u8], end: usize, s: usize) -> Option<usize> {
    let rest = &b[s..b.len().min(s + 12)];
    let len = code_len(rest).or_else(|| dublin_district(b, end, rest))?;
    let e = s + len;
    let ends = b.get(e).is_none_or(|c| !c.is_ascii_alphanumeric());
    ends.then_some(e)
}

/// UK: `A9 9AA`, `A99 9AA`, `AA9 9AA`, `AA99 9AA`, `A9A 9AA`, `AA9A 9AA`.
fn uk_postcode(r: &[u8]) -> Option<usize> {
    let space = r.iter().take(5).position(|&c| c == b' ')?;
    let out = &r[..space];
    let inward = r.get(space + 1..space + 4)?;
    let outward_ok = matches!(out.len(), 2..=4)
        && out[0].is_ascii_uppercase()
        && out
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && out.iter().any(u8::is_ascii_digit)
        && (out[1].is_ascii_digit()
            || out[1].is_ascii_uppercase() && out.get(2).is_some_and(u8::is_ascii_digit));
    let inward_ok = inward[0].is_ascii_digit()
        && inward[1].is_ascii_uppercase()
        && inward[2].is_ascii_uppercase();
    (outward_ok && inward_ok).then_some(space + 4)
}

/// Canada: `A9A 9A9` (no D, F, I, O, Q, U; not W or Z first).
fn ca_postcode(r: &[u8]) -> Option<usize> {
    let letter = |c: u8| c.is_ascii_uppercase() && !b"DFIOQU".contains(&c);
    let r = r.get(..7)?;
    (letter(r[0])
        && !b"WZ".contains(&r[0])
        && r[1].is_ascii_digit()
        && letter(r[2])
        && r[3] == b' '
        && r[4].is_ascii_digit()
        && letter(r[5])
        && r[6].is_ascii_digit())
    .then_some(7)
}

/// Ireland: an Eircode routing key (a letter and two digits, or `D6W`) and
/// four characters.
fn eircode(r: &[u8]) -> Option<usize> {
    let r = r.get(..8)?;
    let key = r[0].is_ascii_uppercase()
        && r[1].is_ascii_digit()
        && (r[2].is_ascii_digit() || &r[..3] == b"D6W");
    let unique = r[4..8]
        .iter()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && r[4..8].iter().any(u8::is_ascii_uppercase);
    (key && r[3] == b' ' && unique).then_some(8)
}

/// Four digits (AU, NZ), five (US, DE) or ZIP+4.
fn digit_postcode(r: &[u8]) -> Option<usize> {
    let n = r.iter().take_while(|c| c.is_ascii_digit()).count();
    match n {
        4 => Some(4),
        5 if r.get(5) == Some(&b'-')
            && r.get(6..10)
                .is_some_and(|d| d.iter().all(u8::is_ascii_digit)) =>
        {
            Some(10)
        }
        5 => Some(5),
        _ => None,
    }
}

/// `Dublin 2`, `Dublin 6W`: a Dublin postal district after the locality.
fn dublin_district(b: &[u8], end: usize, r: &[u8]) -> Option<usize> {
    if !b[..end].ends_with(b"Dublin") {
        return None;
    }
    let n = r.iter().take_while(|c| c.is_ascii_digit()).count();
    match n {
        1 | 2 if r.get(n) == Some(&b'W') => Some(n + 1),
        1 | 2 => Some(n),
        _ => None,
    }
}

/// US states, Australian states and territories, Canadian provinces.
pub(super) fn state_code(w: &[u8]) -> bool {
    matches!(
        w,
        b"AL"
            | b"AK"
            | b"AZ"
            | b"AR"
            | b"CA"
            | b"CO"
            | b"CT"
            | b"DE"
            | b"FL"
            | b"GA"
            | b"HI"
            | b"ID"
            | b"IL"
            | b"IN"
            | b"IA"
            | b"KS"
            | b"KY"
            | b"LA"
            | b"ME"
            | b"MD"
            | b"MA"
            | b"MI"
            | b"MN"
            | b"MS"
            | b"MO"
            | b"MT"
            | b"NE"
            | b"NV"
            | b"NH"
            | b"NJ"
            | b"NM"
            | b"NY"
            | b"NC"
            | b"ND"
            | b"OH"
            | b"OK"
            | b"OR"
            | b"PA"
            | b"RI"
            | b"SC"
            | b"SD"
            | b"TN"
            | b"TX"
            | b"UT"
            | b"VT"
            | b"VA"
            | b"WA"
            | b"WV"
            | b"WI"
            | b"WY"
            | b"DC"
            | b"NSW"
            | b"VIC"
            | b"QLD"
            | b"SA"
            | b"TAS"
            | b"ACT"
            | b"NT"
            | b"ON"
            | b"QC"
            | b"BC"
            | b"AB"
            | b"MB"
            | b"SK"
            | b"NS"
            | b"NB"
            | b"NL"
            | b"PE"
            | b"YT"
            | b"NU"
    )
}

/// German: `Musterstraße 12a`, `Berliner Straße 5`, then `, 10115 Berlin`.
fn german(pass: &mut Pass<'_>, run: &Run) -> Option<(usize, usize)> {
    let b = pass.b;
    let words = run.words();
    let (k, (strong, by_preposition)) = words.iter().enumerate().find_map(|(k, w)| {
        let mut e = w.end;
        if b.get(e) == Some(&b'.') {
            e += 1;
        }
        let number_after = b.get(e) == Some(&b' ') && b.get(e + 1).is_some_and(u8::is_ascii_digit);
        // `Am Mühlbach 3a, 83022 Rosenheim`: a street named by a
        // preposition, sure only with the postcode and town.
        let after_preposition = || {
            (k > 0 && german_preposition(&b[words[k - 1].start..words[k - 1].end]))
                .then_some((false, true))
        };
        // `Theresienhöhe 28, 80339 München`: a compound the lexicon does
        // not know, alone before the number, with no street word in it;
        // sure only with the postcode and town, as after a preposition.
        let bare = || {
            (words.len() == 1
                && w.shape == Shape::Title
                && w.flags == 0
                && !unit_label(&b[w.start..w.end]))
            .then_some((false, true))
        };
        number_after
            .then(|| {
                german_street(&b[w.start..w.end])
                    .map(|strong| (strong, false))
                    .or_else(after_preposition)
                    .or_else(bare)
            })
            .flatten()
            .map(|found| (k, found))
    })?;
    let street = &words[k];
    let mut e = street.end;
    if b.get(e) == Some(&b'.') {
        e += 1;
    }
    if b.get(e) != Some(&b' ') {
        return None;
    }
    let digits = b[e + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
    // After a preposition, a number of four digits is a year (`Im Jahr
    // 2024`), not a house.
    let max = if by_preposition { 3 } else { 4 };
    if !(1..=max).contains(&digits) {
        return None;
    }
    let mut end = e + 1 + digits;
    if b.get(end).is_some_and(u8::is_ascii_lowercase)
        && !b.get(end + 1).is_some_and(u8::is_ascii_alphanumeric)
    {
        end += 1;
    }
    // `Wiedner Hauptstraße 120/2/14`: Vienna's staircase and door.
    for _ in 0..2 {
        let n = b
            .get(end + 1..)
            .unwrap_or_default()
            .iter()
            .take(4)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if b.get(end) != Some(&b'/') || !(1..=3).contains(&n) {
            break;
        }
        end += 1 + n;
    }
    // `Industriestraße 5–7`, `5-7`: a range of house numbers.
    let dash = match b.get(end..end + 3) {
        Some([b'-', ..]) => 1,
        Some(d) if d == "\u{2013}".as_bytes() => 3,
        _ => 0,
    };
    if dash > 0 {
        let n = b[end + dash..]
            .iter()
            .take(5)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if (1..=max).contains(&n) {
            end += dash + n;
        }
    }
    if b.get(end).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    // `, 10115 Berlin`, or on the next line; a floor may come first
    // (`Hauptstraße 12a, 3. OG, 80331 München`).
    // `, Hinterhaus, 2. OG, 04109 Leipzig`: a part of the building first.
    let town = german_town(b, end).or_else(|| {
        let part = german_part(b, end);
        let p = part.unwrap_or(end);
        part.and_then(|p| german_town(b, p))
            .or_else(|| german_town(b, german_floor(b, p)?))
    });
    end = town.unwrap_or(end);
    let town = town.is_some();
    if !(strong || town) {
        return None;
    }
    // The street's name may be two words (`Berliner Straße`, `Unter den Linden` is not handled).
    let before = &words[k.saturating_sub(1)];
    let first = if k > 0
        && before.shape == Shape::Title
        && (matches!(
            &b[street.start..street.end],
            b"Stra\xC3\x9Fe" | b"Strasse" | b"Str" | b"Weg" | b"Platz" | b"Allee"
        ) || german_preposition(&b[before.start..before.end])
            // `Mainzer Landstraße`, `Hamburger Chaussee`: an adjective of
            // a place (`-er`, no name) before a compound street word.
            || b[..before.end].ends_with(b"er") && before.flags & names::NAME == 0)
    {
        k - 1
    } else {
        k
    };
    // `Wohnung 4, Bergstraße 21`: a unit before the street.
    let start = units_before(b, words[first].start).unwrap_or(words[first].start);
    pass.push(start, end, K::Address, SCORE, RECOGNIZER);
    Some((first, end))
}

/// `, Hinterhaus` / `, Seitenflügel` after `end` (a part of a Berlin or
/// Leipzig block): where it ends.
fn german_part(b: &[u8], end: usize) -> Option<usize> {
    let s = end + 2;
    if b.get(end..s) != Some(b", ") {
        return None;
    }
    const PARTS: [&str; 6] = [
        "Hinterhaus",
        "Vorderhaus",
        "Gartenhaus",
        "Seitenflügel",
        "Quergebäude",
        "Rückgebäude",
    ];
    let part = PARTS.iter().find(|p| b[s..].starts_with(p.as_bytes()))?;
    let e = s + part.len();
    (!b.get(e).is_some_and(u8::is_ascii_alphanumeric)).then_some(e)
}

/// `, 3. OG` / `, 2. Stock` / `, EG` after `end`: where the floor ends.
fn german_floor(b: &[u8], end: usize) -> Option<usize> {
    let s = end + 2;
    if b.get(end..s) != Some(b", ") {
        return None;
    }
    let n = b[s..]
        .iter()
        .take(3)
        .take_while(|c| c.is_ascii_digit())
        .count();
    let p = if n == 0 {
        s
    } else if (1..=2).contains(&n) && b.get(s + n..s + n + 2) == Some(b". ") {
        s + n + 2
    } else {
        return None;
    };
    let label: &[u8] = match (n, &b[p..]) {
        (0, r) if r.starts_with(b"EG") => b"EG",
        (1.., r) if r.starts_with(b"OG") => b"OG",
        (1.., r) if r.starts_with(b"Stock") => b"Stock",
        (1.., r) if r.starts_with(b"Etage") => b"Etage",
        _ => return None,
    };
    let e = p + label.len();
    (!b.get(e).is_some_and(u8::is_ascii_alphanumeric)).then_some(e)
}

/// The prepositions that start German street names (`Am Mühlbach`, `Im
/// Winkel`, `Zur Mühle`).
fn german_preposition(w: &[u8]) -> bool {
    matches!(w, b"Am" | b"An" | b"Im" | b"Auf" | b"Zum" | b"Zur" | b"In")
}

/// A German street word: `strong` suffixes stand alone (`Hauptstraße 5`),
/// weak ones (`…ring`, `…weg`) only with a postcode and town after.
fn german_street(w: &[u8]) -> Option<bool> {
    if matches!(
        w,
        b"Stra\xC3\x9Fe" | b"Strasse" | b"Str" | b"Weg" | b"Platz" | b"Allee"
    ) {
        return Some(true);
    }
    // A suffix needs three bytes before it. Compared without case, in
    // place (a lowered copy cost an allocation at each capital before a
    // number); only the suffixes ending in the word's last letter (most
    // words before a number, `Ticket 12`, `Invoice 4`, end in none or
    // one: corpus −0.14 instructions a byte), strong ones first.
    if w.len() < 6 {
        return None;
    }
    let suffixes: &[(&[u8], bool)] = match w[w.len() - 1].to_ascii_lowercase() {
        b'e' => &[
            ("straße".as_bytes(), true),
            (b"strasse", true),
            (b"allee", true),
            (b"gasse", true),
            (b"chaussee", false),
        ],
        b'r' => &[(b"str", true), (b"ufer", false)],
        b'z' => &[(b"platz", true)],
        b'i' => &[(b"kai", false)],
        b'g' => &[(b"weg", false), (b"ring", false), (b"steig", false)],
        b'm' => &[(b"damm", false)],
        b'd' => &[(b"pfad", false)],
        b't' => &[(b"markt", false)],
        _ => return None,
    };
    suffixes
        .iter()
        .find(|(s, _)| w.len() > s.len() + 2 && w[w.len() - s.len()..].eq_ignore_ascii_case(s))
        .map(|&(_, strong)| strong)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `french_title_type` as it was, the number before the type tested
    /// last.
    fn french_title_type_all(b: &[u8], words: &[super::super::Word]) -> Option<(usize, bool)> {
        let ty = words.first()?;
        let particles = words[1..]
            .iter()
            .take(2)
            .take_while(|w| matches!(&b[w.start..w.end], b"du" | b"de" | b"la" | b"des"))
            .count();
        let name = words.get(1 + particles)?;
        let french = super::type_first_street(&b[ty.start..ty.end]);
        let numbered = ty.start >= 2 && b[ty.start - 1] == b' ' && b[ty.start - 2].is_ascii_digit();
        (french && numbered && name.shape == Shape::Title).then_some((ty.start, particles > 0))
    }

    /// `french_title_type`, which asks for the number before the type
    /// first, answers as it did for runs of every shape after every kind
    /// of text before them.
    #[test]
    fn french_title_type_numbered_first_answers_as_before() {
        let (mut checked, mut found) = (0, 0);
        for before in [
            "", "12 ", "12, ", "12,", "x ", "Go to 4 ", "a1 ", "1", "4  ",
        ] {
            for ty in [
                "Rue", "Place", "Allée", "Avenue", "Heol", "Street", "Quai", "Rueful",
            ] {
                for middle in ["", " du", " de la", " des", " de", " la la", " du du du"] {
                    for name in [" Rivoli", " rivoli", " RIVOLI", " Saint-Paul", " R.", ""] {
                        for after in ["", ", Paris", " 75001", "."] {
                            let text = format!("{before}{ty}{middle}{name}{after}");
                            let b = text.as_bytes();
                            let s = before.len();
                            let Some(first) = super::super::capital_word(b, s) else {
                                continue;
                            };
                            let mut run = super::super::Run {
                                words: [super::super::Word::NONE; super::super::MAX_RUN],
                                n: 1,
                            };
                            run.words[0] = first;
                            super::super::collect_run(b, &mut run);
                            let words = run.words();
                            let got = french_title_type(b, words);
                            assert_eq!(got, french_title_type_all(b, words), "{text:?}");
                            checked += 1;
                            found += usize::from(got.is_some());
                        }
                    }
                }
            }
        }
        assert!(checked > 10_000 && found > 500, "{checked} {found}");
    }

    /// `german_street` as it was, all suffixes compared (strong first).
    fn german_street_all(w: &[u8]) -> Option<bool> {
        const STRONG: [&[u8]; 6] = [
            "straße".as_bytes(),
            b"strasse",
            b"str",
            b"platz",
            b"allee",
            b"gasse",
        ];
        const WEAK: [&[u8]; 9] = [
            b"kai",
            b"weg",
            b"ring",
            b"damm",
            b"ufer",
            b"chaussee",
            b"steig",
            b"pfad",
            b"markt",
        ];
        if matches!(
            w,
            b"Stra\xC3\x9Fe" | b"Strasse" | b"Str" | b"Weg" | b"Platz" | b"Allee"
        ) {
            return Some(true);
        }
        let ends =
            |s: &&[u8]| w.len() > s.len() + 2 && w[w.len() - s.len()..].eq_ignore_ascii_case(s);
        if STRONG.iter().any(ends) {
            Some(true)
        } else if WEAK.iter().any(ends) {
            Some(false)
        } else {
            None
        }
    }

    #[test]
    fn german_street_by_last_letter_is_german_street_by_all_suffixes() {
        let suffixes = [
            "straße", "strasse", "str", "platz", "allee", "gasse", "kai", "weg", "ring", "damm",
            "ufer", "chaussee", "steig", "pfad", "markt", "asse", "sse", "ee", "e", "er", "tz",
        ];
        let heads = ["", "A", "Ab", "Abc", "Haupt", "Kurfürsten", "HAUPT"];
        let mut words: Vec<Vec<u8>> = ["Ticket", "Invoice", "Number", "Customer", "Account"]
            .iter()
            .map(|w| w.as_bytes().to_vec())
            .collect();
        for h in heads {
            for s in suffixes {
                for s in [s.to_owned(), s.to_uppercase(), s.to_ascii_uppercase()] {
                    let mut t = s.clone();
                    t[..1].make_ascii_uppercase();
                    words.push(format!("{h}{s}").into_bytes());
                    words.push(format!("{h}{t}").into_bytes());
                }
            }
        }
        for w in &words {
            assert_eq!(
                german_street(w),
                german_street_all(w),
                "{:?}",
                String::from_utf8_lossy(w)
            );
        }
    }
}
