//! People and postcodes in a pasted table: a text whose first line is a
//! comma-separated header (`name,email,site`, `last_name,first_name`,
//! `Name,Email,Postcode`) names its columns, and the cells of a person's
//! column (`name`, `surname`, `first_name`, `requester`, …) are `PERSON`,
//! those of a postcode's (`postcode`, `zip`, `PLZ`, …) `POSTCODE`,
//! whatever the words are: the header is the context a reader uses.
//!
//! A table split by `|` (a Markdown table, a rate card pasted from a
//! PDF) is read the same way wherever its header line stands (see
//! [`find_piped`]). For commas, only the first line is read as a header
//! (exports are pasted whole), so a text that is no table costs a few
//! byte compares: its first line fails
//! at its first byte that no column name has (a `'`, `.`, `:`). Cells are
//! split at commas outside double quotes (`"Level 2, 3 Help Street"` is
//! one cell, `""` a quote in it, as CSV writes them); a row that is no
//! such CSV on one line, or with another count of cells than the
//! header's, ends the table.

use std::borrow::Cow;

use crate::Finding;
use crate::kind::K;
use crate::scan::KindSet;

const RECOGNIZER: &str = "table_column";
const PERSON_SCORE: f32 = 0.85;
const POSTCODE_SCORE: f32 = 0.8;
/// At most this many columns are read.
const MAX_COLUMNS: usize = 16;
/// A header longer than this is no header.
const MAX_HEADER: usize = 200;
/// At most this many rows are read.
const MAX_ROWS: usize = 10_000;

/// What a column holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Column {
    Person,
    Postcode,
    Other,
}

/// May `b` open with a header: a comma in its first 25 bytes (a column's
/// name is 24 bytes at most)? Most texts are told no here, in line.
// (Four eight-byte words, no loop, in a text of 32 bytes or more (most):
// `contains`, a `memchr` call on 25 bytes, cost some 90 instructions a
// text, most of the pass's per-text cost.)
#[inline]
pub(super) fn may_open(b: &[u8]) -> bool {
    let Some(head) = b.get(..32) else {
        return b[..b.len().min(25)].contains(&b',');
    };
    let comma_in = |k: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&head[k..k + 8]);
        // A zero byte where a comma was: the lowest byte flagged is
        // always a true zero (a borrow flags only bytes above one).
        let v = u64::from_le_bytes(w) ^ u64::from_le_bytes([b','; 8]);
        v.wrapping_sub(u64::from_le_bytes([1; 8])) & !v & u64::from_le_bytes([0x80; 8])
    };
    // (Of the fourth word, its first byte only: the 25th.)
    (comma_in(0) | comma_in(8) | comma_in(16) | comma_in(24) & 0x80) != 0
}

/// The findings of a table at the start of `b` (sorted, disjoint), or
/// nothing when its first line is no header naming a person's or a
/// postcode's column.
#[cold]
pub(super) fn find(b: &[u8], on: KindSet, min_score: f32) -> Vec<Finding> {
    let Some((columns, n, body)) = header(b) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if columns[..n].iter().any(|&c| wanted(c, on, min_score)) {
        read_rows(
            b,
            body,
            &columns[..n],
            (on, min_score),
            (cells, |_| false),
            &mut out,
        );
    }
    out
}

/// Does `on` (at `min_score`) want the findings of a column?
fn wanted(c: Column, on: KindSet, min_score: f32) -> bool {
    match c {
        Column::Person => on.has(K::Person) && PERSON_SCORE >= min_score,
        Column::Postcode => on.has(K::Postcode) && POSTCODE_SCORE >= min_score,
        Column::Other => false,
    }
}

/// A row's cells as spans and how many, or `None` for no such row.
type Split = fn(&[u8]) -> Option<([(usize, usize); MAX_COLUMNS], usize)>;

/// Reads the rows of a table from `s`, a row a line (split by `split`;
/// lines that `skip` says are rules passed over) while each has as many
/// cells as `columns`: the cells of a person's and a postcode's column
/// that read as one are pushed to `out`. Where the rows end.
fn read_rows(
    b: &[u8],
    mut s: usize,
    columns: &[Column],
    (on, min_score): (KindSet, f32),
    (split, skip): (Split, fn(&[u8]) -> bool),
    out: &mut Vec<Finding>,
) -> usize {
    for _ in 0..MAX_ROWS {
        if s >= b.len() {
            break;
        }
        let e = memchr::memchr(b'\n', &b[s..]).map_or(b.len(), |p| s + p);
        let row = &b[s..e];
        let row = row.strip_suffix(b"\r").unwrap_or(row);
        if skip(row) {
            s = e + 1;
            continue;
        }
        let Some((cells, count)) = split(row) else {
            break;
        };
        if count != columns.len() {
            break;
        }
        for (&column, &(cell_start, cell_end)) in columns.iter().zip(&cells[..count]) {
            if !wanted(column, on, min_score) {
                continue;
            }
            let (cs, ce) = trimmed(b, s + cell_start, s + cell_end);
            let (ok, kind, score) = match column {
                Column::Person => (person_cell(&b[cs..ce]), K::Person, PERSON_SCORE),
                _ => (postcode_cell(&b[cs..ce]), K::Postcode, POSTCODE_SCORE),
            };
            if ok {
                out.push(Finding {
                    kind: kind.kind(),
                    start: cs,
                    end: ce,
                    score,
                    recognizer: Cow::Borrowed(RECOGNIZER),
                });
            }
        }
        s = e + 1;
    }
    s
}

/// The findings of tables whose columns are split by `|` (`Postcode |
/// Zone | Surcharge`, Markdown's `| Name | Site |` and its `|---|` line),
/// anywhere in `b` (sorted, disjoint): a header line naming a person's or
/// a postcode's column, then the rows with as many cells. A line with a
/// `|` that is no header costs a few byte compares. Asked only of a text
/// where a run of capitalised words ended before ` |` (a header's names
/// in title case or capitals, spaced from the bars).
#[cold]
pub(super) fn find_piped(b: &[u8], on: KindSet, min_score: f32) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut line_start = 0;
    while let Some(k) = b.get(line_start..).and_then(|r| memchr::memchr(b'|', r)) {
        let bar = line_start + k;
        let start = memchr::memrchr(b'\n', &b[..bar]).map_or(0, |p| p + 1);
        let end = memchr::memchr(b'\n', &b[bar..]).map_or(b.len(), |p| bar + p);
        line_start = end + 1;
        if start < out.last().map_or(0, |f: &Finding| f.end) {
            continue;
        }
        let Some((columns, n)) = piped_header(&b[start..end]) else {
            continue;
        };
        if !columns[..n].iter().any(|&c| wanted(c, on, min_score)) {
            continue;
        }
        // (Markdown's line under the header, `|---|:--:|`, is passed over.)
        let rule = |row: &[u8]| {
            row.contains(&b'-') && row.iter().all(|&c| matches!(c, b'|' | b'-' | b':' | b' '))
        };
        let s = read_rows(
            b,
            line_start,
            &columns[..n],
            (on, min_score),
            (piped_cells, rule),
            &mut out,
        );
        line_start = line_start.max(s);
    }
    out
}

/// A header line of a table split by `|`: its columns and their count
/// (two or more; the bars at either end of Markdown's rows aside), if
/// every name is a column's name shape (letters, digits, spaces, `_`,
/// `-`, `/`, `#`, at most 24 bytes).
fn piped_header(line: &[u8]) -> Option<([Column; MAX_COLUMNS], usize)> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.len() > MAX_HEADER
        || !line.iter().all(|&c| {
            c.is_ascii_alphanumeric() || matches!(c, b'|' | b' ' | b'_' | b'-' | b'/' | b'#')
        })
    {
        return None;
    }
    let (cells, n) = piped_cells(line)?;
    let mut columns = [Column::Other; MAX_COLUMNS];
    for (column, &(s, e)) in columns.iter_mut().zip(&cells[..n]) {
        let name = line[s..e].trim_ascii();
        if name.is_empty() || name.len() > 24 {
            return None;
        }
        *column = column_of(name);
    }
    (n >= 2).then_some((columns, n))
}

/// A row's cells split at `|` (the bars at either end aside), as spans of
/// `row`, and how many; `None` with no bar or more than [`MAX_COLUMNS`].
fn piped_cells(row: &[u8]) -> Option<([(usize, usize); MAX_COLUMNS], usize)> {
    let trimmed = row.trim_ascii();
    let lead = row.len() - row.trim_ascii_start().len();
    let (from, inner) = match trimmed.strip_prefix(b"|") {
        Some(rest) => (lead + 1, rest),
        None => (lead, trimmed),
    };
    let inner = inner.strip_suffix(b"|").unwrap_or(inner);
    if !inner.contains(&b'|') {
        return None;
    }
    let mut out = [(0, 0); MAX_COLUMNS];
    let mut n = 0;
    let mut s = from;
    for part in inner.split(|&c| c == b'|') {
        if n == MAX_COLUMNS {
            return None;
        }
        out[n] = (s, s + part.len());
        n += 1;
        s += part.len() + 1;
    }
    Some((out, n))
}

/// A row's cells, split at commas outside double quotes, as spans of
/// `row` (a quoted cell's span is inside its quotes: `"Level 2, 3 Help
/// Street"`), and how many; `None` for a row that is no CSV (more cells
/// than [`MAX_COLUMNS`], a quote left open, text after a closing quote).
/// A doubled quote inside a quoted cell is one quote of its text.
fn cells(row: &[u8]) -> Option<([(usize, usize); MAX_COLUMNS], usize)> {
    let mut out = [(0, 0); MAX_COLUMNS];
    let mut n = 0;
    let mut i = 0;
    loop {
        if n == MAX_COLUMNS {
            return None;
        }
        let (start, end, next) = if row.get(i) == Some(&b'"') {
            // Past the closing quote: a quote not doubled.
            let mut k = i + 1;
            loop {
                match row.get(k) {
                    None => return None,
                    Some(b'"') if row.get(k + 1) == Some(&b'"') => k += 2,
                    Some(b'"') => break,
                    Some(_) => k += 1,
                }
            }
            (i + 1, k, k + 1)
        } else {
            let k = row[i..]
                .iter()
                .position(|&c| c == b',')
                .map_or(row.len(), |p| i + p);
            if row[i..k].contains(&b'"') {
                return None;
            }
            (i, k, k)
        };
        out[n] = (start, end);
        n += 1;
        match row.get(next) {
            None => return Some((out, n)),
            Some(b',') => i = next + 1,
            Some(_) => return None,
        }
    }
}

/// The header on the first line: its columns, their count and where the
/// rows start.
fn header(b: &[u8]) -> Option<([Column; MAX_COLUMNS], usize, usize)> {
    // Fails fast: most texts' first line has, within its first 25 bytes,
    // a byte no header has or no comma (a column's name is 24 bytes at
    // most).
    // (A header's line ends within its reach: a text of one line, most
    // texts of a line each, is told in one search, not read byte by byte
    // to the reach.)
    memchr::memchr2(b'\n', b'\r', &b[..b.len().min(MAX_HEADER + 1)])?;
    let mut since_comma = 0;
    let mut end = None;
    for (k, &c) in b.iter().enumerate().take(MAX_HEADER + 1) {
        match c {
            b',' => since_comma = 0,
            b'\n' | b'\r' => {
                end = Some(k);
                break;
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b' ' | b'-' if since_comma < 24 => {
                since_comma += 1;
            }
            _ => return None,
        }
    }
    let end = end?;
    let line = &b[..end];
    let mut columns = [Column::Other; MAX_COLUMNS];
    let mut n = 0;
    for name in line.split(|&c| c == b',') {
        let name = name.trim_ascii();
        if n == MAX_COLUMNS || name.is_empty() || name.len() > 24 {
            return None;
        }
        columns[n] = column_of(name);
        n += 1;
    }
    let body = end + if b[end..].starts_with(b"\r\n") { 2 } else { 1 };
    (n >= 2).then_some((columns, n, body))
}

/// The column a header's name is (any case; `_`, `-` and spaces alike).
fn column_of(name: &[u8]) -> Column {
    let mut folded = [0u8; 24];
    let folded = &mut folded[..name.len()];
    for (f, &c) in folded.iter_mut().zip(name) {
        *f = match c {
            b'_' | b'-' => b' ',
            c => c.to_ascii_lowercase(),
        };
    }
    match &*folded {
        b"name" | b"full name" | b"fullname" | b"first name" | b"firstname" | b"given"
        | b"given name" | b"givenname" | b"given names" | b"last name" | b"lastname"
        | b"surname" | b"family name" | b"familyname" | b"contact" | b"contact name"
        | b"requester" | b"requestor" | b"customer name" | b"employee" | b"employee name"
        | b"display name" | b"displayname" | b"assignee" | b"caller" | b"agent" | b"agent name"
        | b"staff name" | b"student" | b"student name" | b"patient" | b"patient name" => {
            Column::Person
        }
        b"postcode" | b"post code" | b"postal code" | b"postalcode" | b"zip" | b"zip code"
        | b"zipcode" | b"plz" | b"eircode" | b"pin code" | b"pincode" => Column::Postcode,
        _ => Column::Other,
    }
}

/// `start..end` less the spaces at either end.
fn trimmed(b: &[u8], start: usize, end: usize) -> (usize, usize) {
    let cell = b[start..end].trim_ascii();
    if cell.is_empty() {
        return (start, start);
    }
    let s = start + (b[start..end].len() - b[start..end].trim_ascii_start().len());
    (s, s + cell.len())
}

/// A person's name as a cell holds it: one to four words of letters (any
/// script), `'`, `-` or `.`, no digit, no `@`, no legal form, every word
/// capitalised or none (`Ravi Shankar`, `nguyen thi lan`; not `Please
/// check`, a sentence's words), no stop word alone (`unassigned`).
fn person_cell(cell: &[u8]) -> bool {
    let words = cell.split(|&c| c == b' ').filter(|w| !w.is_empty()).count();
    let capitals = cell
        .split(|&c| c == b' ')
        .filter(|w| w.first().is_some_and(|c| !c.is_ascii_lowercase()))
        .count();
    (1..=4).contains(&words)
        && (capitals == words || capitals == 0)
        && cell.len() <= 48
        && cell
            .first()
            .is_some_and(|&c| c.is_ascii_alphabetic() || c >= 0x80)
        && cell.iter().all(|&c| {
            c.is_ascii_alphabetic() || c >= 0x80 || matches!(c, b' ' | b'\'' | b'-' | b'.')
        })
        && !cell.split(|&c| c == b' ').any(|w| {
            matches!(
                w,
                b"Ltd" | b"LLC" | b"Inc" | b"Inc." | b"GmbH" | b"Limited" | b"plc" | b"Pty"
            )
        })
        && !empty_field(cell)
}

/// One word the lexicon holds as no name's (`unassigned`, `None`, `TBD`,
/// `Support`: the entity pass's stop words), in any case.
fn empty_field(cell: &[u8]) -> bool {
    !cell.contains(&b' ') && {
        let flags = super::names::lookup(cell);
        flags & super::names::STOP != 0 && flags & super::names::NAME == 0
    }
}

/// A postcode as a cell holds it: 3 to 10 letters, digits, spaces or `-`,
/// two digits or more.
fn postcode_cell(cell: &[u8]) -> bool {
    (3..=10).contains(&cell.len())
        && cell
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b' ' | b'-'))
        && cell.iter().filter(|c| c.is_ascii_digit()).count() >= 2
}

#[cfg(test)]
mod tests {
    use super::{MAX_COLUMNS, cells, may_open, piped_cells};
    use proptest::prelude::*;

    /// Each span lies in `row`, after the one before it.
    fn spans_in_order(row: &[u8], spans: &[(usize, usize)]) -> Result<(), TestCaseError> {
        let mut last = 0;
        for &(s, e) in spans {
            prop_assert!(last <= s && s <= e && e <= row.len());
            last = e;
        }
        Ok(())
    }

    proptest! {
        /// The eight-bytes-a-step search for a comma in a text's first 25
        /// bytes tells what a plain search does (commas, bytes one off a
        /// comma and bytes with the high bit set, at any length).
        #[test]
        fn may_open_is_a_comma_in_the_first_25_bytes(
            text in proptest::collection::vec(
                prop_oneof![Just(b','), Just(b'+'), Just(b'-'), Just(0xACu8), any::<u8>()],
                0..40,
            ),
        ) {
            prop_assert_eq!(may_open(&text), text[..text.len().min(25)].contains(&b','));
        }

        /// Any row split at `|`: no panic, and each span lies in the row,
        /// in order, holding no bar.
        #[test]
        fn piped_cells_of_any_row_are_spans_in_order(row in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Some((spans, n)) = piped_cells(&row) {
                prop_assert!((2..=MAX_COLUMNS).contains(&n));
                spans_in_order(&row, &spans[..n])?;
                for &(s, e) in &spans[..n] {
                    prop_assert!(!row[s..e].contains(&b'|'));
                }
            }
        }

        /// Cells joined with ` | `, with Markdown's bars at either end or
        /// without, are read back.
        #[test]
        fn piped_cells_read_back_what_was_joined(
            texts in proptest::collection::vec("[a-z0-9]{1,8}", 2..MAX_COLUMNS),
            markdown in any::<bool>(),
        ) {
            let joined = texts.join(" | ");
            let row = if markdown { format!("| {joined} |") } else { joined };
            let Some((spans, n)) = piped_cells(row.as_bytes()) else {
                return Err(TestCaseError::fail(format!("{row:?}: no row")));
            };
            prop_assert_eq!(n, texts.len());
            for (&(s, e), text) in spans[..n].iter().zip(&texts) {
                prop_assert_eq!(row[s..e].trim(), text.as_str());
            }
        }

        /// Any row: no panic, and each span lies in the row, in order.
        #[test]
        fn cells_of_any_row_are_spans_in_order(row in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Some((spans, n)) = cells(&row) {
                prop_assert!((1..=MAX_COLUMNS).contains(&n));
                spans_in_order(&row, &spans[..n])?;
            }
        }

        /// Cells written as CSV writes them (quoted when they hold a comma
        /// or a quote, quotes doubled) are read back.
        #[test]
        fn cells_read_back_what_csv_writes(
            texts in proptest::collection::vec("[a-z ,\"]{0,8}", 1..MAX_COLUMNS),
        ) {
            let written: Vec<String> = texts
                .iter()
                .map(|t| {
                    if t.contains(',') || t.contains('"') {
                        format!("\"{}\"", t.replace('"', "\"\""))
                    } else {
                        t.clone()
                    }
                })
                .collect();
            let row = written.join(",");
            let Some((spans, n)) = cells(row.as_bytes()) else {
                return Err(TestCaseError::fail(format!("{row:?}: no CSV row")));
            };
            prop_assert_eq!(n, texts.len());
            for (&(s, e), text) in spans[..n].iter().zip(&texts) {
                prop_assert_eq!(row[s..e].replace("\"\"", "\""), text.as_str());
            }
        }
    }
}
