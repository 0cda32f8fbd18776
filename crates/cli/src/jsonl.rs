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
    if skip_ws(line, at + 1) != line.len() {
        return None;
    }
    Some((id.unwrap_or(b"null"), text?))
}

/// The index of the first byte at or after `at` that is not JSON whitespace.
fn skip_ws(line: &[u8], mut at: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = line.get(at) {
        at += 1;
    }
    at
}

/// The string opening at `at` and the index after its closing quote, if it
/// has no escape and no control character and is UTF-8.
fn plain_str(line: &[u8], at: usize) -> Option<(&[u8], usize)> {
    if line.get(at) != Some(&b'"') {
        return None;
    }
    let rest = line.get(at + 1..)?;
    let len = memchr::memchr2(b'"', b'\\', rest)?;
    if rest[len] != b'"' {
        return None;
    }
    let body = &rest[..len];
    // No early exit: this compiles to a vector loop. A byte outside
    // 0x20..0x80 (a control character, or not ASCII) sends the string to
    // the exact checks; ASCII needs no UTF-8 check.
    let outside = body
        .iter()
        .fold(0u8, |any, &b| any | u8::from(b.wrapping_sub(0x20) >= 0x60));
    if outside != 0 && (body.iter().any(|&b| b < 0x20) || std::str::from_utf8(body).is_err()) {
        return None;
    }
    Some((body, at + len + 2))
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

    #[test]
    fn the_usual_shape_is_taken() {
        let line = br#" {"id": "t-1", "text":"Hi Sarah"} "#;
        assert_eq!(plain_line(line), Some((&br#""t-1""#[..], &b"Hi Sarah"[..])));
        assert_eq!(plain_line(br#"{"text":"a\"b"}"#), None);
        assert_eq!(plain_line(br#"{"text":"a","text":"b"}"#), None);
        assert_eq!(plain_line(br#"{"text":"a"} x"#), None);
    }
}
