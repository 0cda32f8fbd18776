//! `Masker::detect_stream` finds exactly what `Masker::mask_stream` masks:
//! the same findings at the same global offsets, across chunk boundaries,
//! held-back long findings and any read size.

use custodia_mask::stream::{CHUNK, HOLD_CAP, OVERLAP};
use custodia_mask::{Detector, Finding, Kind, MaskPolicy, Masker, Strategy};

mod support;
use support::Trickle;

/// The dev corpus's texts, one a line.
fn dev_corpus() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/dev.jsonl");
    let mut text = String::new();
    for line in std::fs::read_to_string(path).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        text.push_str(v["text"].as_str().unwrap());
        text.push('\n');
    }
    text
}

/// Several chunks of one long line (cuts fall between words, values
/// straddle them), short lines, and private-key blocks longer than the
/// overlap and than the hold cap.
fn multi_chunk() -> String {
    let mut text = String::new();
    let mut i = 0;
    while text.len() < 3 * CHUNK {
        text.push_str(&"pad ".repeat(i % 11));
        text.push_str("mail jane.doe@example.com card 4111 1111 1111 1111 call +44 20 7946 0958 ");
        text.push_str(&"y".repeat(i % 17));
        text.push(' ');
        i += 1;
    }
    for (lines, end) in [
        (OVERLAP / 40, true),
        (HOLD_CAP / 50, true),
        (HOLD_CAP / 40, false),
    ] {
        text.push_str("\n-----BEGIN RSA PRIVATE KEY-----\n");
        for n in 0..lines {
            text.push_str(&format!(
                "MIIE{n:08}QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk\n"
            ));
        }
        if end {
            text.push_str("-----END RSA PRIVATE KEY-----\nthen ann@example.com\n");
        }
    }
    while text.len() < 7 * CHUNK {
        text.push_str("IBAN DE89 3704 0044 0532 0130 00, SSN 150-59-7454\n");
    }
    text
}

/// What masking reports, as findings: the old way to detect a stream.
fn masked_findings(m: &Masker, text: &[u8], step: usize) -> Vec<Finding> {
    let report = m
        .mask_stream(Trickle(text, step), std::io::sink(), None, None)
        .unwrap();
    report
        .entries
        .into_iter()
        .map(|e| Finding {
            kind: e.kind,
            start: e.start,
            end: e.end,
            score: e.score,
            recognizer: e.recognizer,
        })
        .collect()
}

#[test]
fn detect_stream_finds_what_mask_stream_masks() {
    let corpus = dev_corpus();
    let long = multi_chunk();
    assert!(corpus.len() > CHUNK && long.len() > 6 * CHUNK);
    for strategy in [Strategy::Redact, Strategy::Partial] {
        let m = Masker::new(Detector::new())
            .with_policy(MaskPolicy::new(strategy))
            .unwrap();
        for text in [&corpus, &long] {
            for step in [CHUNK, 7919, 65_537, 1 << 20] {
                let found = m
                    .detect_stream(Trickle(text.as_bytes(), step), None)
                    .unwrap();
                let masked = masked_findings(&m, text.as_bytes(), step);
                assert!(masked.len() > 100, "{}", masked.len());
                assert_eq!(found, masked, "read size {step}");
            }
        }
    }
    // Values across the steps' ends are found whole, as whole-text
    // detection finds them.
    let emails = |f: &[Finding]| f.iter().filter(|f| f.kind.as_str() == "EMAIL").count();
    let m = Masker::new(Detector::new());
    let found = m.detect_stream(long.as_bytes(), None).unwrap();
    assert_eq!(emails(&found), emails(&m.detector().detect(&long)));
    assert_eq!(emails(&found), long.matches("@example.com").count());
    // Key blocks longer than the overlap were held back and found whole.
    let keys = found.iter().filter(|f| f.kind == Kind::Secret);
    assert!(
        keys.map(|f| f.end - f.start)
            .any(|n| n > OVERLAP && n < HOLD_CAP)
    );
}

#[test]
fn detect_stream_reports_read_errors_and_empty_input() {
    struct Broken;
    impl std::io::Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::Other.into())
        }
    }
    let m = Masker::new(Detector::new());
    assert!(matches!(
        m.detect_stream(Broken, None),
        Err(custodia_mask::Error::Io { op: "read", .. })
    ));
    assert_eq!(m.detect_stream(&b""[..], None).unwrap(), []);
    let found = m
        .detect_stream(&b"bad \xff jane@example.com"[..], None)
        .unwrap();
    assert_eq!((found.len(), found[0].start, found[0].end), (1, 6, 22));
}
