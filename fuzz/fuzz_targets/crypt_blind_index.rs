//! Blind-index normalisers and stored tokens on arbitrary input: every
//! built-in normaliser is idempotent (normalising a normalised value changes
//! nothing, so a value and its stored form find each other), and a token read
//! from a column or its hex text is a token or a typed error. `Caseless`
//! (NFKC and case folding) also gives one token for a value however its
//! case is spelled in ASCII, and for the value and its normalised form,
//! and ignores default-ignorable code points (zero-width characters, soft
//! hyphens, byte-order marks, variation selectors, tags) wherever they stand.

#![no_main]

use custodia_core::TenantId;
use custodia_crypt::{BlindIndex, BlindIndexConfig, BlindToken, Normalization, SecretKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(token) = BlindToken::from_slice(data) {
        assert_eq!(token.as_bytes(), data);
    }
    let text = String::from_utf8_lossy(data);
    if let Ok(token) = text.parse::<BlindToken>() {
        assert_eq!(token.to_string().parse::<BlindToken>().ok(), Some(token));
    }
    let tenant = TenantId::from_external_key("fuzz", "tenant");
    let key = SecretKey::from_bytes([7; 32]);
    for normalize in [
        Normalization::None,
        Normalization::Trim,
        Normalization::Lowercase,
        Normalization::Email,
        Normalization::Digits,
        Normalization::Caseless,
    ] {
        let once = normalize.apply(&text);
        assert_eq!(
            normalize.apply(&once),
            once,
            "{normalize:?} is not idempotent"
        );
        let config = BlindIndexConfig {
            output_len: 8,
            normalize,
        };
        let Ok(index) = BlindIndex::new(&key, tenant, "contact", "email", config) else {
            panic!("a valid configuration");
        };
        assert!(index.matches(&once, &index.compute(&text)));
    }
    // Caseless folds ASCII case wherever it occurs: upper-casing only the
    // ASCII letters never changes the token.
    let caseless = Normalization::Caseless;
    assert_eq!(
        caseless.apply(&text.to_ascii_uppercase()),
        caseless.apply(&text),
        "Caseless depends on ASCII case"
    );
    // Caseless removes default ignorables: one before every character (a
    // different one each time) and a few at the end never change the value.
    const IGNORABLES: [char; 10] = [
        '\u{200b}',
        '\u{200c}',
        '\u{200d}',
        '\u{ad}',
        '\u{2060}',
        '\u{feff}',
        '\u{fe0f}',
        '\u{34f}',
        '\u{e0041}',
        '\u{e0100}',
    ];
    let padded: String = text
        .chars()
        .enumerate()
        .flat_map(|(i, c)| [IGNORABLES[i % IGNORABLES.len()], c])
        .chain(IGNORABLES)
        .collect();
    assert_eq!(
        caseless.apply(&padded),
        caseless.apply(&text),
        "Caseless keeps a default-ignorable code point"
    );
});
