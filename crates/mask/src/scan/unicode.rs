//! Numbers written with Unicode forms of their digits or separators: a
//! card grouped by no-break spaces (`4111 1111 …`, pasted from a web form
//! or a word processor), a thin or narrow no-break space, a figure space,
//! a non-breaking hyphen or a figure dash (`123‑45‑6789`), or full-width
//! digits typed with an input method (`０３－１２３４－５６７８`). The
//! byte scanner reads ASCII digits and separators only, so these went
//! unmasked. [`AsciiForms`] is a copy of such a text with those characters
//! in their ASCII forms and a map of its offsets back to the text's: the
//! scanner runs over the copy, and the findings that cover a replaced
//! character (those the text itself could not give) are mapped back, each
//! over whole characters of the original.
//!
//! A space or a hyphen is replaced only between two characters of a
//! number (an ASCII letter or digit, a parenthesis, one at least a digit):
//! `Sarah Jones` keeps its no-break space. An en dash is not replaced:
//! it joins ranges (`0900–1700`, `2019–2020`), not the groups of an id.

/// Where a character of [`ascii_form`] is replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum When {
    /// A full-width digit: always.
    Always,
    /// A full-width sign of a phone number (`＋`, `（`, `）`): next to a
    /// digit.
    NextToDigit,
    /// A Unicode space or hyphen: between two characters of a number.
    Between,
}

/// The ASCII form of `ch`, if it is a full-width digit, a full-width sign
/// of a phone number or a Unicode space or hyphen that may group digits,
/// and when it is replaced.
fn ascii_form(ch: char) -> Option<(u8, When)> {
    Some(match ch {
        '\u{FF10}'..='\u{FF19}' => (b'0' + (ch as u32 - 0xFF10) as u8, When::Always),
        '\u{FF0B}' => (b'+', When::NextToDigit),
        '\u{FF08}' => (b'(', When::NextToDigit),
        '\u{FF09}' => (b')', When::NextToDigit),
        '\u{FF0D}' => (b'-', When::Between),
        // No-break, en quad to hair, narrow no-break and ideographic spaces.
        '\u{A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{3000}' => (b' ', When::Between),
        // Hyphen, non-breaking hyphen, figure dash, minus sign.
        '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2212}' => (b'-', When::Between),
        _ => return None,
    })
}

/// The character of [`ascii_form`] whose UTF-8 encoding starts at `b[i]`,
/// with its ASCII form, when it is replaced and its length in bytes; told
/// from the bytes, as the scanner asks it at every lead byte. (A lead byte
/// is never a continuation byte, so a match here is a whole character even
/// in text that is not valid UTF-8 elsewhere.)
pub(crate) fn form_at(b: &[u8], i: usize) -> Option<(u8, When, usize)> {
    let lead = *b.get(i)?;
    if !matches!(lead, 0xC2 | 0xE2 | 0xE3 | 0xEF) {
        return None;
    }
    let len = if lead == 0xC2 { 2 } else { 3 };
    let ch = std::str::from_utf8(b.get(i..i + len)?)
        .ok()?
        .chars()
        .next()?;
    let (a, when) = ascii_form(ch)?;
    Some((a, when, len))
}

/// The first byte at or after `at` that may lead a character of
/// [`form_at`]: ASCII is passed eight bytes a test.
fn next_lead(b: &[u8], mut at: usize) -> Option<usize> {
    let lead = |c: &u8| matches!(c, 0xC2 | 0xE2 | 0xE3 | 0xEF);
    while let Some(chunk) = b.get(at..at + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        if u64::from_le_bytes(w) & super::HIGH_BITS != 0
            && let Some(k) = chunk.iter().position(lead)
        {
            return Some(at + k);
        }
        at += 8;
    }
    b.get(at..)?.iter().position(lead).map(|k| at + k)
}

/// A text with the characters of [`ascii_form`] replaced (see the module).
pub(crate) struct AsciiForms {
    /// The copy.
    pub(crate) text: Vec<u8>,
    /// `map[k]`: the original offset of byte `k` of the copy (of the
    /// character it replaces, for a replaced one), and the original
    /// length last.
    map: Vec<usize>,
    /// The offsets in the copy of the replaced characters, in order.
    replaced: Vec<usize>,
}

impl AsciiForms {
    /// The copy of `b`, if it has a character to replace. Linear, and
    /// cheap where there is none: bytes are read one at a time and only
    /// the lead bytes of [`form_at`]'s characters are looked at further
    /// (curly quotes and dashes cost a comparison or two).
    pub(crate) fn of(b: &[u8]) -> Option<AsciiForms> {
        // (Nothing is allocated before a character is replaced: most
        // texts have none.)
        let mut text = Vec::new();
        let mut map = Vec::new();
        let mut replaced = Vec::new();
        let mut copied = 0usize;
        let mut at = 0usize;
        while let Some(lead) = next_lead(b, at) {
            at = lead;
            let Some((a, when, len)) = form_at(b, at) else {
                at += 1;
                continue;
            };
            let numeric = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_alphanumeric());
            let digit = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_digit());
            // The neighbours in their ASCII forms (a full-width digit
            // before was replaced already; any other non-ASCII byte is
            // neither a digit nor a sign).
            let prev = if copied == at && !replaced.is_empty() {
                text.last().copied()
            } else {
                at.checked_sub(1).map(|p| b[p])
            };
            let next = match form_at(b, at + len) {
                Some((x, When::Always, _)) => Some(x),
                _ => b
                    .get(at + len)
                    .map(|&c| if c.is_ascii() { c } else { 0x80 }),
            };
            let replace = match when {
                When::Always => true,
                When::NextToDigit => digit(prev) || digit(next),
                When::Between => {
                    (numeric(prev) || prev == Some(b')'))
                        && (numeric(next) || matches!(next, Some(b'(' | b'+')))
                        && (digit(prev) || digit(next))
                }
            };
            if replace {
                // Copy what comes before it unchanged, then its form.
                if text.is_empty() {
                    text.reserve(b.len());
                    map.reserve(b.len() + 1);
                }
                text.extend_from_slice(&b[copied..at]);
                map.extend(copied..at);
                replaced.push(text.len());
                text.push(a);
                map.push(at);
                copied = at + len;
            }
            at += len;
        }
        if replaced.is_empty() {
            return None;
        }
        text.extend_from_slice(&b[copied..]);
        map.extend(copied..b.len());
        map.push(b.len());
        Some(AsciiForms {
            text,
            map,
            replaced,
        })
    }

    /// The original span of `start..end` of the copy, if it covers a
    /// replaced character.
    pub(crate) fn original(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        let k = self.replaced.partition_point(|&r| r < start);
        if self.replaced.get(k).is_none_or(|&r| r >= end) {
            return None;
        }
        Some((*self.map.get(start)?, *self.map.get(end)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_map_back_to_whole_characters() {
        let text = "x 4111\u{a0}1111 ab\u{a0}cd \u{ff11}\u{ff12}\u{2013}3 \u{2011}5";
        let f = AsciiForms::of(text.as_bytes()).unwrap();
        assert_eq!(
            std::str::from_utf8(&f.text).unwrap(),
            "x 4111 1111 ab\u{a0}cd 12\u{2013}3 \u{2011}5"
        );
        assert_eq!(f.map.len(), f.text.len() + 1);
        for k in 0..=f.text.len() {
            let lead = f.text.get(k).is_none_or(|&c| c & 0xC0 != 0x80);
            assert_eq!(text.is_char_boundary(f.map[k]), lead, "{k}");
        }
        let (s, e) = f.original(2, 11).unwrap();
        assert_eq!(&text[s..e], "4111\u{a0}1111");
        assert_eq!(f.original(2, 6), None);
        assert!(AsciiForms::of(b"plain 4111 1111 and Sarah\xC2\xA0Jones \xFF").is_none());
        // Full-width parentheses of prose stay; a phone's are replaced.
        assert!(AsciiForms::of("（注）です".as_bytes()).is_none());
        let f = AsciiForms::of("（\u{ff10}３）".as_bytes()).unwrap();
        assert_eq!(f.text, b"(03)");
    }

    /// The copy as first written, a character at a time over the text's
    /// valid UTF-8: what the byte-at-a-time [`AsciiForms::of`] must give.
    fn of_by_chars(b: &[u8]) -> Option<(Vec<u8>, Vec<usize>, Vec<usize>)> {
        let (mut text, mut map, mut replaced) = (Vec::new(), Vec::new(), Vec::new());
        let (mut pos, mut copied) = (0usize, 0usize);
        for chunk in b.utf8_chunks() {
            let valid = chunk.valid();
            let mut chars = valid.char_indices().peekable();
            while let Some((off, ch)) = chars.next() {
                let Some((a, when)) = ascii_form(ch) else {
                    continue;
                };
                let numeric = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_alphanumeric());
                let digit = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_digit());
                let at = pos + off;
                let prev = if copied == at && !replaced.is_empty() {
                    text.last().copied()
                } else {
                    valid[..off].bytes().next_back()
                };
                let next = chars.peek().map(|&(_, c)| match ascii_form(c) {
                    Some((x, When::Always)) => x,
                    _ if c.is_ascii() => c as u8,
                    _ => 0x80,
                });
                let replace = match when {
                    When::Always => true,
                    When::NextToDigit => digit(prev) || digit(next),
                    When::Between => {
                        (numeric(prev) || prev == Some(b')'))
                            && (numeric(next) || matches!(next, Some(b'(' | b'+')))
                            && (digit(prev) || digit(next))
                    }
                };
                if !replace {
                    continue;
                }
                text.extend_from_slice(&b[copied..at]);
                map.extend(copied..at);
                replaced.push(text.len());
                text.push(a);
                map.push(at);
                copied = at + ch.len_utf8();
            }
            pos += valid.len() + chunk.invalid().len();
        }
        if replaced.is_empty() {
            return None;
        }
        text.extend_from_slice(&b[copied..]);
        map.extend(copied..b.len());
        map.push(b.len());
        Some((text, map, replaced))
    }

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn bytes_at_a_time_is_chars_at_a_time(
            parts in proptest::collection::vec(prop_oneof![
                proptest::sample::select(vec![
                    "4", "1", "a", "Z", "(", ")", "+", " ", "-", "\u{a0}", "\u{2009}",
                    "\u{202f}", "\u{2011}", "\u{2212}", "\u{3000}", "\u{ff11}", "\u{ff08}",
                    "\u{ff09}", "\u{ff0b}", "\u{ff0d}", "\u{2013}", "\u{2019}", "é", "\u{1f600}",
                ]).prop_map(|s| s.as_bytes().to_vec()),
                proptest::collection::vec(any::<u8>(), 0..3),
            ], 0..40)
        ) {
            let b = parts.concat();
            let got = AsciiForms::of(&b).map(|f| (f.text, f.map, f.replaced));
            prop_assert_eq!(got, of_by_chars(&b));
        }
    }
}
