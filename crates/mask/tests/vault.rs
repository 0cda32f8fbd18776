//! A vault unmasks only what masking replaced: text that already looks like
//! one of its tokens (`<EMAIL_1>`, typed by a user or pasted from an
//! earlier reply) comes back as that text, never as another finding's value.

use custodia_mask::arbitrary::pii_value;
use custodia_mask::{Detector, Finding, JsonRules, Kind, MaskPolicy, Masker, Strategy, TokenVault};
use proptest::prelude::*;
use proptest::strategy::Strategy as _;
use serde_json::json;

fn tokens() -> Masker {
    Masker::new(Detector::new())
        .with_policy(MaskPolicy::new(Strategy::Tokenize))
        .unwrap()
}

/// An echoing model: the reply is the prompt.
fn round_trip(m: &Masker, vault: &mut TokenVault, prompt: &str) -> (String, String) {
    let masked = m.mask_tokenized(prompt, vault).unwrap();
    let reply = vault.unmask(&masked.text);
    (masked.text, reply)
}

#[test]
fn a_typed_token_never_unmasks_to_the_real_value_it_names() {
    let m = tokens();
    let mut vault = TokenVault::new();
    let prompt = "I'm jane.doe@example.com; what is <EMAIL_1>?";
    let (masked, reply) = round_trip(&m, &mut vault, prompt);
    assert!(!masked.contains("jane.doe"), "{masked}");
    assert_eq!(reply, prompt);
    // The model writes about the typed text: it stays text.
    let typed = masked
        .split("what is ")
        .nth(1)
        .unwrap()
        .trim_end_matches('?');
    assert_eq!(vault.unmask(typed), "<EMAIL_1>");
    assert_eq!(vault.lookup("<EMAIL_1>"), Some("jane.doe@example.com"));
    assert_ne!(typed, "<EMAIL_1>");
}

#[test]
fn a_token_typed_in_a_later_turn_or_before_its_value_stays_text() {
    let m = tokens();
    let mut vault = TokenVault::new();
    // Typed before any value has that token.
    let (first, _) = round_trip(&m, &mut vault, "ask about <EMAIL_1> and <PHONE_3>");
    let (_, reply) = round_trip(&m, &mut vault, "mail jane.doe@example.com");
    assert_eq!(reply, "mail jane.doe@example.com");
    assert_eq!(vault.unmask(&first), "ask about <EMAIL_1> and <PHONE_3>");
    // Typed after.
    let (_, reply) = round_trip(&m, &mut vault, "who is <EMAIL_1>?");
    assert_eq!(reply, "who is <EMAIL_1>?");
    // A literal keeps its token, and a token standing for a literal is
    // itself escaped when typed.
    let (a, _) = round_trip(&m, &mut vault, "<EMAIL_1>");
    let (b, _) = round_trip(&m, &mut vault, "<EMAIL_1>");
    assert_eq!(a, b);
    let (_, reply) = round_trip(&m, &mut vault, &a);
    assert_eq!(reply, a);
}

#[test]
fn a_token_shape_made_of_kept_or_replaced_pieces_stays_text() {
    let mut vault = TokenVault::new();
    let m = tokens();
    round_trip(&m, &mut vault, "jane.doe@example.com");
    // A host's finding over `EMAIL`, kept: `<`, `EMAIL`, `_1>` joined.
    let keep = Masker::new(Detector::new())
        .with_policy(MaskPolicy::new(Strategy::Keep))
        .unwrap();
    let text = "see <EMAIL_1>";
    let f = [Finding {
        kind: Kind::Organization,
        start: 5,
        end: 10,
        score: 1.0,
        recognizer: "host".into(),
    }];
    let out = keep.apply(text, &f, Some(&mut vault)).unwrap();
    assert_eq!(vault.unmask(&out.text), text, "{}", out.text);
    assert_eq!(
        out.report.entries[0].out_end - out.report.entries[0].out_start,
        5
    );
    assert_eq!(
        &out.text[out.report.entries[0].out_start..out.report.entries[0].out_end],
        "EMAIL"
    );
    // A replacement that looks like a token.
    let replace = Masker::new(Detector::new())
        .with_policy(MaskPolicy::new(Strategy::Replace("<EMAIL_1>".into())))
        .unwrap();
    let out = replace
        .mask_tokenized("call 555-867-5309", &mut vault)
        .unwrap();
    assert!(!vault.unmask(&out.text).contains("jane"), "{}", out.text);
    assert_eq!(vault.unmask(&out.text), "call <EMAIL_1>");
}

#[test]
fn streams_and_json_masked_with_a_vault_escape_typed_tokens() {
    let m = tokens();
    let mut vault = TokenVault::new();
    round_trip(&m, &mut vault, "jane.doe@example.com");
    // A stream: the typed token also across the steps' cut (no space for
    // more than a step).
    let mut input = "x".repeat(70_000);
    input.push_str("<EMAIL_1> and ");
    input.push_str(&"y<EMAIL_1>".repeat(20_000));
    let mut out = Vec::new();
    m.mask_stream(input.as_bytes(), &mut out, None, Some(&mut vault))
        .unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(!vault.unmask(&out).contains("jane"));
    assert_eq!(vault.unmask(&out), input);
    // JSON: keys and strings with no finding, and unscanned strings.
    for scan in [true, false] {
        let doc =
            json!({"<EMAIL_1>": "<EMAIL_1>", "n": ["x <EMAIL_1>", 5], "m": "bob@example.com"});
        let mut masked = doc.clone();
        m.mask_json(
            &mut masked,
            &JsonRules::new().scan_strings(scan),
            Some(&mut vault),
        )
        .unwrap();
        let text = masked.to_string();
        assert!(!vault.unmask(&text).contains("jane"), "{text}");
        let back: serde_json::Value = serde_json::from_str(&vault.unmask(&text)).unwrap();
        assert_eq!(back, doc);
    }
}

/// Pieces of a prompt: filler, token shapes (well-formed and not), values.
fn piece() -> impl proptest::strategy::Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ a-z.,:]{0,12}",
        "<[A-Z]{1,8}_[0-9]{1,3}>",
        "<(EMAIL|PHONE|PERSON|LITERAL)_[1-4]>",
        "[<>_A-Z0-9]{1,8}",
        pii_value().prop_map(|(_, text, _)| text),
    ]
}

/// Whether two findings in `texts` are spellings of one value (one token,
/// which unmasks to the first spelling).
fn variants(m: &Masker, texts: &[&str]) -> bool {
    let mut check = TokenVault::new();
    let mut spelled = std::collections::HashMap::new();
    for text in texts {
        for f in m.detector().detect(text) {
            let value = &text[f.start..f.end];
            let token = check.tokenize(&f.kind, value);
            if spelled.entry(token).or_insert_with(|| value.to_string()) != value {
                return true;
            }
        }
    }
    false
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mask_then_unmask_is_the_identity_for_text_holding_token_shapes(
        turns in prop::collection::vec(prop::collection::vec(piece(), 0..8), 1..4),
        keep_people in any::<bool>(),
    ) {
        let mut policy = MaskPolicy::new(Strategy::Tokenize);
        if keep_people {
            policy = policy.with(Kind::Person, Strategy::Keep);
        }
        let m = Masker::new(Detector::new()).with_policy(policy).unwrap();
        let texts: Vec<String> = turns.iter().map(|p| p.concat()).collect();
        prop_assume!(!variants(&m, &texts.iter().map(String::as_str).collect::<Vec<_>>()));
        let mut vault = TokenVault::new();
        let mut sent = Vec::new();
        for text in &texts {
            sent.push(m.mask_tokenized(text, &mut vault).unwrap().text);
        }
        // Every turn's masked text, unmasked with the last vault (which
        // holds tokens given after that turn too), is that turn's text.
        for (text, masked) in texts.iter().zip(&sent) {
            prop_assert_eq!(&vault.unmask(masked), text, "masked {:?}", masked);
        }
        // Byte streams too.
        let all = texts.concat();
        let mut v2 = TokenVault::new();
        let (bytes, _) = m.mask_bytes(all.as_bytes(), None, Some(&mut v2)).unwrap();
        prop_assert_eq!(v2.unmask(&String::from_utf8(bytes).unwrap()), all);
    }
}
