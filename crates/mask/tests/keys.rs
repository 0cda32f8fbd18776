//! Private-key blocks of any length, whole or truncated, in text and in
//! streams: no line of key material is ever written out in clear.

use custodia_mask::stream::{CHUNK, HOLD_CAP};
use custodia_mask::{Detector, MaskPolicy, Masker, Strategy};

mod support;
use support::Trickle;

fn masker() -> Masker {
    Masker::new(Detector::new())
        .with_policy(MaskPolicy::new(Strategy::Redact))
        .unwrap()
}

/// Distinct 64-character base64 lines, so a leak of any one is visible.
fn key_lines(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(
                "MIIE{i:08}{}",
                "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9w"
            )[..64]
                .to_string()
        })
        .collect()
}

fn block(lines: &[String], end: bool) -> String {
    let mut s = String::from("-----BEGIN RSA PRIVATE KEY-----\n");
    for l in lines {
        s.push_str(l);
        s.push('\n');
    }
    s.push_str("Q0Q=\n");
    if end {
        s.push_str("-----END RSA PRIVATE KEY-----");
    }
    s
}

fn stream(m: &Masker, text: &str, step: usize) -> String {
    let mut out = Vec::new();
    m.mask_stream(Trickle(text.as_bytes(), step), &mut out, None, None)
        .unwrap();
    String::from_utf8(out).unwrap()
}

fn assert_no_key_line(out: &str, lines: &[String]) {
    for l in lines {
        assert!(!out.contains(&l[..20]), "key material leaked: {}", &l[..20]);
    }
    assert!(!out.contains("Q0Q="));
}

#[test]
fn long_key_block_is_one_finding_in_text_and_in_streams() {
    let m = masker();
    // 20 KiB and 50 KiB blocks: longer than OVERLAP, within HOLD_CAP.
    for n in [320, 800] {
        let lines = key_lines(n);
        let text = format!("before\n{}\nafter the key", block(&lines, true));
        assert!(text.len() < HOLD_CAP);
        let whole = m.mask(&text).unwrap();
        assert_eq!(whole.text, "before\n[SECRET]\nafter the key");
        for step in [4096, 65_536, 7919] {
            let filler = "x ".repeat(CHUNK / 2 - 100);
            let text = format!("{filler}\n{text}");
            let out = stream(&m, &text, step);
            assert_eq!(out, format!("{filler}\nbefore\n[SECRET]\nafter the key"));
        }
    }
}

#[test]
fn key_block_over_the_hold_cap_is_masked_not_cut() {
    let m = masker();
    let lines = key_lines(HOLD_CAP / 65 * 3);
    let text = format!("start\n{}\nthanks, bob", block(&lines, true));
    let out = stream(&m, &text, 65_536);
    assert_no_key_line(&out, &lines);
    assert!(out.starts_with("start\n[SECRET]"), "{}", &out[..40]);
    assert!(out.ends_with("[SECRET]\nthanks, bob"), "{out}");
    assert!(!out.contains("PRIVATE KEY"));
}

#[test]
fn truncated_key_block_is_masked_up_to_the_prose() {
    let m = masker();
    let lines = key_lines(4);
    let text = format!("{}\nI cut it off here, sorry", block(&lines, false));
    let out = m.mask(&text).unwrap().text;
    assert_eq!(out, "[SECRET]\n\nI cut it off here, sorry");
    assert_eq!(stream(&m, &text, 10), out);
    // Unterminated at the end of the input (text and stream).
    let text = format!("key:\n{}", block(&lines, false));
    assert_eq!(m.mask(&text).unwrap().text, "key:\n[SECRET]");
    let big = block(&key_lines(HOLD_CAP / 65 * 2), false);
    let out = stream(&m, &big, 65_536);
    assert_no_key_line(&out, &key_lines(HOLD_CAP / 65 * 2));
    // A bare header mention is no secret.
    let text = "the file starts with -----BEGIN RSA PRIVATE KEY----- and so on";
    assert_eq!(m.mask(text).unwrap().text, text);
}

#[test]
fn key_pasted_into_json_with_escaped_newlines() {
    let m = masker();
    let lines = key_lines(3);
    let body = block(&lines, true).replace('\n', "\\n");
    let text = format!("{{\"key\": \"{body}\", \"user\": \"bob\"}}");
    let out = m.mask(&text).unwrap().text;
    assert_eq!(out, "{\"key\": \"[SECRET]\", \"user\": \"bob\"}");
}
