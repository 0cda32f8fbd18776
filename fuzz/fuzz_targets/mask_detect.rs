//! The mask scanner, masking, streaming, known entities and the
//! configuration parser on arbitrary bytes: findings are in bounds and
//! ordered (on character boundaries in text), streaming and masking into a
//! buffer equal whole-buffer masking, nothing panics. Tokenized with a
//! vault (whole and streamed), text unmasks to itself: token-shaped input
//! never comes back as a value.

#![no_main]

use custodia_mask::{
    Detector, DetectorConfig, Kind, KnownEntities, MaskPolicy, Masker, Strategy, TokenVault,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let detector = Detector::new();
    let findings = detector.detect_bytes(data, None);
    let mut last = 0;
    for f in &findings {
        assert!(f.start >= last && f.start < f.end && f.end <= data.len());
        last = f.end;
    }
    let masker = Masker::new(Detector::new());
    let (whole, _) = masker
        .mask_bytes(data, None, None)
        .expect("redact never fails");
    let mut streamed = Vec::new();
    masker
        .mask_stream(data, &mut streamed, None, None)
        .expect("in-memory stream");
    assert_eq!(streamed, whole);
    let (mut scratch, mut into) = (Vec::new(), b"x".to_vec());
    masker
        .mask_into(data, &mut scratch, &mut into)
        .expect("redact never fails");
    assert_eq!(&into[1..], &whole[..]);
    // Known entities (case and accents folded): the first line is the
    // value, the rest the text.
    let (value, rest) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (&data[..0], data),
    };
    let value = String::from_utf8_lossy(value);
    let known = KnownEntities::new([(Kind::Person, value.as_ref())]).expect("one value compiles");
    let mut last = 0;
    for f in detector.detect_bytes(rest, Some(&known)) {
        assert!(f.start >= last && f.start < f.end && f.end <= rest.len());
        last = f.end;
    }
    if let Ok(text) = std::str::from_utf8(rest) {
        for f in detector.detect_with(text, &known) {
            assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        for f in detector.detect(text) {
            assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
        }
        if let Ok(cfg) = DetectorConfig::from_json(text) {
            let _ = Detector::from_config(&cfg);
        }
        let tokens = Masker::new(Detector::new())
            .with_policy(MaskPolicy::new(Strategy::Tokenize))
            .expect("a policy");
        let mut vault = TokenVault::new();
        let masked = tokens
            .mask_tokenized(text, &mut vault)
            .expect("a vault is given");
        let mut streamed = Vec::new();
        let mut streamed_vault = TokenVault::new();
        tokens
            .mask_stream(data, &mut streamed, None, Some(&mut streamed_vault))
            .expect("in-memory stream");
        let streamed = String::from_utf8(streamed).expect("text in, text out");
        // Formatting variants of one value share a token (the first
        // spelling comes back): only without them is the round trip exact.
        let mut check = TokenVault::new();
        let mut spelled = std::collections::HashMap::new();
        let variants = detector.detect(text).iter().any(|f| {
            let value = &text[f.start..f.end];
            let token = check.tokenize(&f.kind, value);
            spelled.entry(token).or_insert(value) != &value
        });
        if !variants {
            assert_eq!(vault.unmask(&masked.text), text);
            assert_eq!(streamed_vault.unmask(&streamed), text);
        }
    }
});
