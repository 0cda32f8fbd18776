//! `custodia mask --jsonl`'s fast path: a line in the usual shape
//! (`{"id": "…", "text": "…"}`, plain strings) is read without `serde_json`.
//! Every other line, and every error, goes through `serde_json`, so the fast
//! path must take only lines that `serde_json` reads the same way: the
//! command's property tests and the `cli_jsonl_line` fuzz target check it.

/// The id (as written) and text of a line in the usual shape: one object
/// with a string "id" (optional) and a string "text", no other key, no escape
/// in either string, nothing after the object but whitespace. `None` for
/// anything else, which goes through `serde_json` (and its errors) instead;
/// for the lines it takes this gives what that path gives.
pub fn plain_line(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let (id, text, len) = plain_line_at(line)?;
    (len == line.len()).then_some((id, text))
}

/// [`plain_line`] of the line that opens `line` (up to its first newline,
/// or the end; more lines may follow), with that line's length (its newline
/// included): the reader finds where a line in the usual shape ends as it
/// reads it, where a search for each newline cost 70 instructions a line.
/// The object may hold no newline, even as whitespace, so what it takes is
/// one line.
pub fn plain_line_at(line: &[u8]) -> Option<(&[u8], &[u8], usize)> {
    usual_layout(line).or_else(|| any_layout(line))
}

/// [`plain_line_at`] of a line laid out as most writers lay it out
/// (`json.dumps`'s separators), `{"id": "…", "text": "…"}` and a newline
/// (or the end), with printable ASCII strings: its fixed pieces compared
/// whole, where the reader of any layout cost 330 instructions a line.
/// `None` for any other, read by [`any_layout`].
#[inline(always)]
fn usual_layout(line: &[u8]) -> Option<(&[u8], &[u8], usize)> {
    // (A run stops at a quote, a backslash or a byte outside printable
    // ASCII: the piece that follows it must open with the quote.)
    in_usual_layout(line, |text| {
        let len = printable_run(text);
        Some((text.get(..len)?, len))
    })
}

/// [`plain_line_at`] of a line in the usual layout whose text holds escapes
/// (`\n` in most tickets of several lines): the text decoded into
/// `scratch`, as `serde_json` decodes it. `None` for any other line, and
/// for a text `serde_json` refuses or this reader does not decode (a
/// control character, an escape it does not know, a lone surrogate, bytes
/// that are not UTF-8), which then goes through `serde_json`, as every line
/// did that `plain_line_at` declined.
pub fn escaped_line_at<'a>(
    line: &'a [u8],
    scratch: &'a mut Vec<u8>,
) -> Option<(&'a [u8], &'a [u8], usize)> {
    in_usual_layout(line, move |text| {
        scratch.clear();
        let len = unescape(text, scratch)?;
        let scratch: &'a Vec<u8> = scratch;
        Some((scratch.as_slice(), len))
    })
}

/// The id (as written, its quotes included), text and length of a line in
/// the usual layout, with a printable id and a text that `read_text` reads
/// from the bytes after its opening quote: the text, and where its closing
/// quote should be.
#[inline(always)]
fn in_usual_layout<'a>(
    line: &'a [u8],
    read_text: impl FnOnce(&'a [u8]) -> Option<(&'a [u8], usize)>,
) -> Option<(&'a [u8], &'a [u8], usize)> {
    const OPEN: &[u8] = b"{\"id\": \"";
    const BETWEEN: &[u8] = b"\", \"text\": \"";
    const CLOSE: &[u8] = b"\"}";
    let id_body = line.strip_prefix(OPEN)?;
    let id_len = printable_run(id_body);
    let body = id_body.get(id_len..)?.strip_prefix(BETWEEN)?;
    let (text, text_len) = read_text(body)?;
    let after = body.get(text_len..)?.strip_prefix(CLOSE)?;
    let end = line.len() - after.len();
    let len = match after.first() {
        None => end,
        Some(b'\n') => end + 1,
        Some(_) => return None,
    };
    let id = line.get(OPEN.len() - 1..OPEN.len() + id_len + 1)?;
    Some((id, text, len))
}

/// Decodes the JSON string body that opens `body` into `out`: the index of
/// its closing quote. `None` where `serde_json` would refuse the string or
/// where this reader leaves it to `serde_json` (see [`escaped_line_at`]).
fn unescape(body: &[u8], out: &mut Vec<u8>) -> Option<usize> {
    let mut at = 0;
    let mut wide = false;
    loop {
        let run = printable_run(&body[at..]);
        out.extend_from_slice(&body[at..at + run]);
        at += run;
        match *body.get(at)? {
            b'"' => break,
            b'\\' => {
                let (c, len) = escape(body.get(at + 1..)?)?;
                let mut utf8 = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                at += 1 + len;
            }
            c if c < 0x20 => return None,
            c => {
                // Outside ASCII: copied, and the whole checked at the end.
                out.push(c);
                at += 1;
                wide = true;
            }
        }
    }
    // (An escape writes whole characters, so the copy is UTF-8 exactly
    // where the bytes written as they are were.)
    if wide && std::str::from_utf8(out).is_err() {
        return None;
    }
    Some(at)
}

/// The character of the escape after a backslash at the start of `rest`,
/// and the escape's length past the backslash.
fn escape(rest: &[u8]) -> Option<(char, usize)> {
    let c = match *rest.first()? {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let unit = hex4(rest.get(1..5)?)?;
            if !(0xD800..0xE000).contains(&unit) {
                return Some((char::from_u32(unit)?, 5));
            }
            // A high surrogate and its low one, `\ud83d\ude00`: one
            // character. A lone one is `serde_json`'s to refuse.
            let low = rest
                .get(5..7)
                .filter(|u| *u == b"\\u")
                .and(rest.get(7..11))?;
            let low = hex4(low)?;
            if unit >= 0xDC00 || !(0xDC00..0xE000).contains(&low) {
                return None;
            }
            let c = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
            return Some((char::from_u32(c)?, 11));
        }
        _ => return None,
    };
    Some((c, 1))
}

/// Four hexadecimal digits' value.
fn hex4(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |v, &d| {
        let d = char::from(d).to_digit(16)?;
        Some(v * 16 + d)
    })
}

/// [`plain_line_at`] of a line in any layout.
fn any_layout(line: &[u8]) -> Option<(&[u8], &[u8], usize)> {
    let mut at = skip_ws(line, 0);
    if line.get(at) != Some(&b'{') {
        return None;
    }
    let mut id = None;
    let mut text = None;
    loop {
        at = skip_ws(line, at + 1);
        // The two keys, compared whole: no scan for their closing quotes.
        let rest = line.get(at..)?;
        let (key, end): (&[u8], usize) = if rest.starts_with(b"\"text\"") {
            (b"text", at + 6)
        } else if rest.starts_with(b"\"id\"") {
            (b"id", at + 4)
        } else {
            return None;
        };
        at = skip_ws(line, end);
        if line.get(at) != Some(&b':') {
            return None;
        }
        at = skip_ws(line, at + 1);
        let (value, end) = plain_str(line, at)?;
        match key {
            b"id" if id.is_none() => id = Some(&line[at..end]),
            b"text" if text.is_none() => text = Some(value),
            _ => return None,
        }
        at = skip_ws(line, end);
        match line.get(at) {
            Some(b',') => {}
            Some(b'}') => break,
            _ => return None,
        }
    }
    let end = skip_ws(line, at + 1);
    let len = match line.get(end) {
        None => end,
        Some(b'\n') => end + 1,
        Some(_) => return None,
    };
    Some((id.unwrap_or(b"null"), text?, len))
}

/// The index of the first byte at or after `at` that is not JSON whitespace
/// other than a newline (which ends the line).
fn skip_ws(line: &[u8], mut at: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\r') = line.get(at) {
        at += 1;
    }
    at
}

/// The string opening at `at` and the index after its closing quote, if it
/// has no escape and no control character and is UTF-8.
#[inline(always)]
fn plain_str(line: &[u8], at: usize) -> Option<(&[u8], usize)> {
    if line.get(at) != Some(&b'"') {
        return None;
    }
    let rest = line.get(at + 1..)?;
    // Printable ASCII up to a quote (the usual string): nothing more to
    // check. Anything else stops the run and takes the exact checks.
    let run = printable_run(rest);
    let len = if rest.get(run) == Some(&b'"') {
        run
    } else {
        // (Within the line: what follows may be other lines.)
        let line_end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        exact_str_len(&rest[..line_end])?
    };
    Some((&rest[..len], at + len + 2))
}

/// The length of `rest`'s string body up to its closing quote, if it has
/// no escape and no control character and is UTF-8.
fn exact_str_len(rest: &[u8]) -> Option<usize> {
    let len = memchr::memchr2(b'"', b'\\', rest)?;
    if rest[len] != b'"' {
        return None;
    }
    let body = &rest[..len];
    // A byte outside 0x20..0x80 (a control character, or not ASCII) sends
    // the string to the exact checks; ASCII needs no UTF-8 check.
    if outside_printable_ascii(body)
        && (body.iter().any(|&b| b < 0x20) || std::str::from_utf8(body).is_err())
    {
        return None;
    }
    Some(len)
}

/// The index of the first byte of `bytes` that is a quote, a backslash or
/// outside 0x20..0x80 (`bytes.len()` if none): one pass, eight bytes a
/// step, where a search for the quote and a test of the body for a byte
/// outside printable ASCII were two (a ticket line's strings are short, and
/// each search's setup cost more than its loop).
fn printable_run(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let mut chunks = bytes.chunks_exact(8);
    let mut done = 0;
    for chunk in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let w = u64::from_le_bytes(w);
        // A byte's top bit is set for one of 0x80.. (in `w`), ..0x20 (in
        // `w` less 0x20s), or a quote or a backslash (the byte xor its
        // value is 0, less 1 is 0xff). A borrow sets a later byte's bit
        // only after a byte that has its own: the lowest set bit is exact.
        let quote = w ^ (ONES * u64::from(b'"'));
        let backslash = w ^ (ONES * u64::from(b'\\'));
        let stops = (w
            | w.wrapping_sub(ONES * 0x20)
            | quote.wrapping_sub(ONES)
            | backslash.wrapping_sub(ONES))
            & (ONES * 0x80);
        if stops != 0 {
            return done + (stops.trailing_zeros() / 8) as usize;
        }
        done += 8;
    }
    let tail = chunks.remainder();
    done + tail
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || !(0x20..0x80).contains(&b))
        .unwrap_or(tail.len())
}

/// Does `bytes` hold a byte outside 0x20..0x80? Eight bytes a step, with
/// no early exit (a byte loop's fold cost three instructions a byte of
/// ticket text: 1.4% of `mask --jsonl --detect`).
fn outside_printable_ascii(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let mut chunks = bytes.chunks_exact(8);
    let mut any = 0u64;
    for chunk in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let w = u64::from_le_bytes(w);
        // A byte's top bit, or that of the byte less 0x20: set for one of
        // 0x80.. or ..0x20. (A borrow can set a later byte's bit only
        // after a byte below 0x20 has set its own.)
        any |= w | w.wrapping_sub(ONES * 0x20);
    }
    any & (ONES * 0x80) != 0
        || chunks
            .remainder()
            .iter()
            .any(|&b| b.wrapping_sub(0x20) >= 0x60)
}

#[cfg(test)]
mod tests {
    use super::plain_line;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(line in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = plain_line(&line);
        }
    }

    proptest! {
        #[test]
        fn outside_printable_ascii_is_a_byte_test(
            // (Mostly printable: uniform bytes would all hold one.)
            bytes in proptest::collection::vec(prop_oneof![20 => 0x20u8..0x80, 1 => any::<u8>()], 0..40),
        ) {
            let expected = bytes.iter().any(|&b| !(0x20..0x80).contains(&b));
            prop_assert_eq!(super::outside_printable_ascii(&bytes), expected);
        }
    }

    proptest! {
        #[test]
        fn printable_run_stops_at_the_first_stop_byte(
            // (Mostly printable, across several eight-byte steps.)
            bytes in proptest::collection::vec(
                prop_oneof![30 => 0x20u8..0x80, 1 => Just(b'"'), 1 => Just(b'\\'), 1 => any::<u8>()],
                0..40,
            ),
        ) {
            let expected = bytes
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || !(0x20..0x80).contains(&b))
                .unwrap_or(bytes.len());
            prop_assert_eq!(super::printable_run(&bytes), expected);
        }
    }

    /// Lines in and near the usual layout: its pieces, or pieces that
    /// differ from them by a byte or by whitespace, around strings of
    /// printable, escaped, quote, control, non-ASCII or invalid bytes.
    fn near_usual_layout() -> impl Strategy<Value = Vec<u8>> {
        let piece = |usual: &'static [u8], others: &'static [&'static [u8]]| {
            prop_oneof![
                3 => Just(usual.to_vec()),
                1 => proptest::sample::select(others).prop_map(<[u8]>::to_vec),
            ]
        };
        let body = proptest::collection::vec(
            prop_oneof![
                12 => Just(b"ab cd-01".to_vec()),
                2 => Just("é".as_bytes().to_vec()),
                1 => Just(b"\\\"".to_vec()),
                1 => Just(b"\"".to_vec()),
                1 => Just(b"\x01".to_vec()),
                1 => Just(b"\n".to_vec()),
                1 => Just(b"\xc3".to_vec()),
                1 => Just(b"\x7f".to_vec()),
            ],
            0..5,
        )
        .prop_map(|pieces| pieces.concat());
        (
            piece(
                b"{\"id\": \"",
                &[b"{\"id\":\"", b" {\"id\": \"", b"{\"id\": ", b"{\"ix\": \""],
            ),
            body.clone(),
            piece(
                b"\", \"text\": \"",
                &[
                    b"\",\"text\":\"",
                    b"\", \"text\" : \"",
                    b"\", \"id\": \"",
                    b"\"}",
                ],
            ),
            body,
            piece(b"\"}", &[b"\"} ", b"\"}\r", b"\"}x", b"\"", b"\"}}"]),
            piece(
                b"\n",
                &[
                    b"",
                    b"\n{\"id\": \"x\", \"text\": \"y\"}\n",
                    b"\r\n",
                    b" \n",
                ],
            ),
        )
            .prop_map(|(open, id, between, text, close, end)| {
                [open, id, between, text, close, end].concat()
            })
    }

    proptest! {
        // (Cheap cases, and each piece's variants want many.)
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// What the usual layout's reader takes, the reader of any layout
        /// takes the same way.
        #[test]
        fn the_usual_layout_is_read_as_any(line in near_usual_layout()) {
            if let Some(taken) = super::usual_layout(&line) {
                prop_assert_eq!(Some(taken), super::any_layout(&line));
            }
        }
    }

    /// A string body rich in escapes: each JSON escape, `\u` escapes of
    /// every kind (paired and lone surrogates, bad digits), bad escapes,
    /// control characters, non-ASCII and invalid bytes, quotes.
    fn escaped_body() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![
                8 => Just(b"Hi Sarah, 021 555".to_vec()),
                2 => proptest::sample::select(vec![
                    &b"\\n"[..], b"\\r", b"\\t", b"\\\"", b"\\\\", b"\\/", b"\\b", b"\\f",
                ])
                .prop_map(<[u8]>::to_vec),
                2 => (0u32..0x11_0000).prop_map(|u| format!("\\u{:04x}", u & 0xFFFF).into_bytes()),
                1 => proptest::sample::select(vec![
                    &b"\\ud83d\\ude00"[..], b"\\uD83D\\uDE00", b"\\ud83d", b"\\ude00",
                    b"\\ud83d\\u0041", b"\\ud83d\\n", b"\\u00E9", b"\\u0000", b"\\u12g4",
                    b"\\u12", b"\\x41", b"\\", b"\\\n",
                ])
                .prop_map(<[u8]>::to_vec),
                1 => Just("é ā 😀".as_bytes().to_vec()),
                1 => proptest::sample::select(vec![&b"\x01"[..], b"\x1f", b"\x7f", b"\xc3", b"\xff", b"\"", b"\n"])
                    .prop_map(<[u8]>::to_vec),
            ],
            0..8,
        )
        .prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// What the escaped text's reader takes, `serde_json` reads the
        /// same way; and a line in the usual layout whose text it declines
        /// is one `serde_json` refuses, or holds a lone surrogate, a
        /// control character or bytes that are not UTF-8.
        #[test]
        fn escaped_text_is_read_as_serde_json_reads_it(
            id in "[a-z0-9-]{0,6}",
            body in escaped_body(),
            end in prop_oneof![Just(&b""[..]), Just(&b"\n"[..]), Just(&b"\nmore"[..]), Just(&b" "[..])],
        ) {
            let line = [
                b"{\"id\": \"", id.as_bytes(), b"\", \"text\": \"", &body, b"\"}", end,
            ]
            .concat();
            let mut scratch = vec![b'x'];
            let taken = super::escaped_line_at(&line, &mut scratch);
            let len = memchr::memchr(b'\n', &line).map_or(line.len(), |n| n + 1);
            let parsed = std::str::from_utf8(&line[..len])
                .ok()
                .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok());
            let text = parsed.as_ref().and_then(|v| v.get("text")).and_then(|t| t.as_str());
            match taken {
                Some((got_id, got_text, got_len)) => {
                    prop_assert_eq!(got_len, len);
                    prop_assert_eq!(Some(got_text), text.map(str::as_bytes), "{:?}", line);
                    let want_id = format!("\"{id}\"");
                    prop_assert_eq!(got_id, want_id.as_bytes());
                }
                // (A surrogate's escape, paired or not, may be declined:
                // `serde_json` decides.)
                None => prop_assert!(
                    text.is_none()
                        || end == b" "
                        || body.windows(6).any(|w| {
                            w.starts_with(b"\\u")
                                && std::str::from_utf8(&w[2..])
                                    .ok()
                                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                                    .is_some_and(|u| (0xD800..0xE000).contains(&u))
                        }),
                    "declined: {:?}",
                    line
                ),
            }
        }

        #[test]
        fn escaped_reader_never_panics(line in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = super::escaped_line_at(&line, &mut Vec::new());
        }
    }

    #[test]
    fn the_usual_layout_is_taken() {
        let line = b"{\"id\": \"t-1\", \"text\": \"Hi Sarah\"}\nmore";
        let taken = Some((&b"\"t-1\""[..], &b"Hi Sarah"[..], 34));
        assert_eq!(super::usual_layout(line), taken);
        assert_eq!(super::any_layout(line), taken);
        assert_eq!(
            super::usual_layout(b"{\"id\": \"t-1\", \"text\": \"caf\xc3\xa9\"}"),
            None
        );
    }

    #[test]
    fn the_usual_shape_is_taken() {
        let line = br#" {"id": "t-1", "text":"Hi Sarah"} "#;
        assert_eq!(plain_line(line), Some((&br#""t-1""#[..], &b"Hi Sarah"[..])));
        assert_eq!(plain_line(br#"{"text":"a\"b"}"#), None);
        assert_eq!(plain_line(br#"{"text":"a","text":"b"}"#), None);
        assert_eq!(plain_line(br#"{"text":"a"} x"#), None);
    }
}
