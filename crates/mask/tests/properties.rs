//! Properties: no panic on any input, well-formed findings, masked output never
//! holds an original value.

use custodia_core::TenantId;
use custodia_mask::arbitrary::ticket;
use custodia_mask::{
    Detector, DetectorConfig, Kind, KnownEntities, MaskPolicy, Masker, PseudonymKey, Regions,
    Strategy, TokenVault,
};
use proptest::prelude::*;

fn check_findings(len: usize, text: Option<&str>, f: &[custodia_mask::Finding], min: f32) {
    let mut last = 0;
    for x in f {
        assert!(x.start < x.end && x.end <= len);
        assert!(x.start >= last, "sorted and non-overlapping");
        assert!(x.score >= min && x.score <= 1.0);
        if let Some(t) = text {
            assert!(t.is_char_boundary(x.start) && t.is_char_boundary(x.end));
        }
        last = x.end;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_string_detects_without_panic(text in any::<String>(), regions in any::<Regions>()) {
        let d = Detector::with_regions(regions);
        let f = d.detect(&text);
        check_findings(text.len(), Some(&text), &f, d.min_score());
        let m = Masker::new(Detector::new()).mask(&text).unwrap();
        prop_assert!(m.report.total() <= text.len());
    }

    #[test]
    fn pii_shaped_noise_detects_without_panic(text in "[0-9a-zA-Z@:.+()=_ -]{0,300}") {
        let d = Detector::new();
        check_findings(text.len(), Some(&text), &d.detect(&text), d.min_score());
    }

    /// Numbers written with Unicode spaces, hyphens and full-width digits
    /// (found through their ASCII forms): well-formed findings on
    /// character boundaries, the same twice.
    #[test]
    fn unicode_number_noise_detects_without_panic(
        text in "[0-9a-zA-Z@:.+()=_ ,\u{a0}\u{2009}\u{202f}\u{2011}\u{2012}\u{2013}\u{3000}\u{ff10}-\u{ff19}\u{ff08}\u{ff09}\u{ff0b}\u{ff0d}\u{feff}\r\n-]{0,300}"
    ) {
        let d = Detector::new();
        let f = d.detect(&text);
        check_findings(text.len(), Some(&text), &f, d.min_score());
        prop_assert_eq!(f, d.detect(&text));
        let g = Detector::from_config(&DetectorConfig {
            disabled: vec![Kind::Person, Kind::Address, Kind::Organization],
            ..DetectorConfig::default()
        })
        .unwrap();
        check_findings(text.len(), Some(&text), &g.detect(&text), g.min_score());
    }

    /// One buffer reused from text to text finds what a fresh one does.
    #[test]
    fn detect_into_a_reused_buffer_is_detect_bytes(
        first in "[0-9a-zA-Z@:.+()=_ ,-]{0,200}",
        (ticket, _) in ticket(),
    ) {
        let d = Detector::new();
        let mut reused = Vec::new();
        for text in [first.as_bytes(), ticket.as_bytes(), first.as_bytes()] {
            d.detect_into(text, None, &mut reused);
            prop_assert_eq!(&reused, &d.detect_bytes(text, None));
        }
    }

    /// `mask_into`, its buffers reused from text to text, appends what
    /// `mask_bytes` returns and counts what its report counts.
    #[test]
    fn mask_into_reused_buffers_is_mask_bytes(
        first in proptest::collection::vec(any::<u8>(), 0..300),
        (ticket, _) in ticket(),
        strategy in prop_oneof![
            Just(Strategy::Redact),
            Just(Strategy::Partial),
            Just(Strategy::Keep),
            Just(Strategy::Pseudonym),
            Just(Strategy::Replace("*".into())),
        ],
    ) {
        let key = PseudonymKey::new(TenantId::from_external_key("t", "acme"), &[7u8; 32]).unwrap();
        let m = Masker::new(Detector::new())
            .with_pseudonym_key(key)
            .with_policy(MaskPolicy::new(strategy))
            .unwrap();
        let (mut findings, mut out) = (Vec::new(), b"kept".to_vec());
        for text in [&first[..], ticket.as_bytes(), &first[..]] {
            let (whole, report) = m.mask_bytes(text, None, None).unwrap();
            let start = out.len();
            let replaced = m.mask_into(text, &mut findings, &mut out).unwrap();
            prop_assert_eq!(&out[start..], &whole[..]);
            prop_assert_eq!(replaced, report.total());
        }
        prop_assert!(out.starts_with(b"kept"));
    }

    #[test]
    fn any_bytes_detect_and_stream_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let d = Detector::new();
        check_findings(bytes.len(), None, &d.detect_bytes(&bytes, None), d.min_score());
        let m = Masker::new(Detector::new());
        let mut out = Vec::new();
        m.mask_stream(&bytes[..], &mut out, None, None).unwrap();
        let (whole, _) = m.mask_bytes(&bytes, None, None).unwrap();
        prop_assert_eq!(out, whole);
    }

    #[test]
    fn name_and_address_shaped_noise_detects_without_panic(
        parts in proptest::collection::vec(
            "(Hi|Dear|Dr|Mr\\.|Regards,\n|Sarah|Tom|Becker|O'Brien|Smith-Jones|van|de|&|and|of|J\\.|St|Street|Rd|Unit|Flat|Pty|Ltd|GmbH|Co\\.|Inc\\.|plc|NSW|ON|Dublin|Straße|[0-9]{1,5}|[A-Z][0-9][A-Z] [0-9][A-Z][0-9]|[A-ZÄÖÜĀŌ][a-zäöüßāō'’-]{0,10}|[,.:;!?@/\n ]{1,3})",
            0..40,
        )
    ) {
        let text = parts.join(" ");
        let d = Detector::new();
        check_findings(text.len(), Some(&text), &d.detect(&text), d.min_score());
        prop_assert_eq!(d.detect(&text), d.detect(&text));
    }

    /// Chat-shaped lines in lower case (see the entity pass's
    /// `lower_case`): well-formed findings, the same twice, and the same
    /// when streamed.
    #[test]
    fn chat_shaped_noise_detects_without_panic(
        parts in proptest::collection::vec(
            "(hi|hey|thx|cheers|ask|for|and|it's|um|this|is|agent|customer|tania|brodie|smith|jess|jess's|o'brien|ji-hoon|kim|will|das|says|from|st|rd|street|unit|lvl|po box|nsw|v6e 3p3|/|\\[10:42\\]|09:03|am|[a-zāōé'.-]{1,9}|Friday|Hudson|[A-Z][a-z]{1,6}|[0-9]{1,4}|[,.:;!?()\"\u{2013}\n ]{1,3})",
            0..48,
        )
    ) {
        let text = parts.join(" ");
        let d = Detector::new();
        let f = d.detect(&text);
        check_findings(text.len(), Some(&text), &f, d.min_score());
        prop_assert_eq!(&f, &d.detect(&text));
        let m = Masker::new(Detector::new());
        let mut out = Vec::new();
        m.mask_stream(text.as_bytes(), &mut out, None, None).unwrap();
        let (whole, _) = m.mask_bytes(text.as_bytes(), None, None).unwrap();
        prop_assert_eq!(out, whole);
    }

    /// A table's header, then rows of any cells (see the entity pass's
    /// `table`): well-formed findings, the same twice.
    #[test]
    fn table_shaped_noise_detects_without_panic(
        header in "(name|last_name|Postcode|email|site|zip)(,(name|first_name|Postcode|email|site|zip| )){1,4}(\r)?\n",
        rows in proptest::collection::vec("[A-Za-zĀ-ž0-9 ,'.@\r\n-]{0,60}", 0..12),
    ) {
        let text = header + &rows.join("\n");
        let d = Detector::new();
        let f = d.detect(&text);
        check_findings(text.len(), Some(&text), &f, d.min_score());
        prop_assert_eq!(f, d.detect(&text));
    }

    #[test]
    fn german_shaped_noise_detects_without_panic(
        parts in proptest::collection::vec(
            "(Kennzeichen|PLZ|KVNR|LANR|BSNR|Steuernummer|Führerschein|Straße|HRB|DE|Telematik-ID|[0-9A-ZÄÖÜß /.,-]{1,14})",
            0..24,
        )
    ) {
        let text = parts.join(" ");
        let d = Detector::new();
        check_findings(text.len(), Some(&text), &d.detect(&text), d.min_score());
    }

    #[test]
    fn key_shaped_noise_masks_the_same_streamed_and_whole(
        parts in proptest::collection::vec(
            "(-----BEGIN RSA PRIVATE KEY-----|-----END RSA PRIVATE KEY-----|-----END |Proc-Type: 4,ENCRYPTED|[A-Za-z0-9+/=]{1,70}|\n|\\n| |thanks bob)",
            0..40,
        )
    ) {
        let text = parts.concat();
        let d = Detector::new();
        check_findings(text.len(), Some(&text), &d.detect(&text), d.min_score());
        let m = Masker::new(Detector::new());
        let mut out = Vec::new();
        m.mask_stream(text.as_bytes(), &mut out, None, None).unwrap();
        let (whole, _) = m.mask_bytes(text.as_bytes(), None, None).unwrap();
        prop_assert_eq!(out, whole);
    }

    #[test]
    fn config_parser_gives_a_value_or_an_error(text in any::<String>()) {
        if let Ok(cfg) = DetectorConfig::from_json(&text) {
            let _ = Detector::from_config(&cfg);
        }
    }

    #[test]
    fn masked_output_never_contains_an_original_value(
        (text, values) in ticket(),
        strategy in prop_oneof![
            Just(Strategy::Redact),
            Just(Strategy::Partial),
            Just(Strategy::Pseudonym),
            Just(Strategy::Tokenize),
            Just(Strategy::Replace("x".into())),
        ],
    ) {
        let key = PseudonymKey::new(TenantId::from_external_key("t", "p"), &[9; 32]).unwrap();
        let masker = Masker::new(Detector::new()).with_pseudonym_key(key).with_policy(MaskPolicy::new(strategy)).unwrap();
        let mut vault = TokenVault::new();
        let out = masker.mask_tokenized(&text, &mut vault).unwrap();
        for (kind, v) in &values {
            prop_assert!(!out.text.contains(v.as_str()), "{:?} {:?} survived in {:?}", kind, v, out.text);
        }
        prop_assert!(out.report.total() >= values.len());
        let json = out.report.to_json();
        for (_, v) in &values {
            prop_assert!(!json.contains(v.as_str()));
        }
        // Tokens come back exactly.
        prop_assert_eq!(vault.unmask(&out.text) == text, masker.policy().default == Strategy::Tokenize || values.is_empty());
    }

    #[test]
    fn known_entities_any_case(name in "[A-Z][a-z]{2,8} [A-Z][a-z]{2,8}", upper in any::<bool>()) {
        let known = KnownEntities::new([(custodia_mask::Kind::Person, name.as_str())]).unwrap();
        let shown = if upper { name.to_uppercase() } else { name.to_lowercase() };
        let text = format!("hello {shown}, thanks");
        let out = Masker::new(Detector::new()).mask_with(&text, &known, None).unwrap();
        prop_assert_eq!(out.text, "hello [PERSON], thanks");
    }
}

/// What the documentation of `PseudonymKey::pseudonym` lets two values of
/// `kind` differ by and still be one value, at most (some kinds allow
/// less): white space, `-`, a phone's `.()`, a MAC address's `:`, case,
/// and an IP address's written form.
fn same_up_to_formatting(kind: &Kind, a: &str, b: &str) -> bool {
    if *kind == Kind::IpAddress
        && let (Ok(x), Ok(y)) = (a.parse::<std::net::IpAddr>(), b.parse::<std::net::IpAddr>())
    {
        return x == y;
    }
    let dropped = |c: char| {
        c.is_whitespace()
            || c == '-'
            || (*kind == Kind::Phone && matches!(c, '.' | '(' | ')'))
            || (*kind == Kind::MacAddress && c == ':')
    };
    let form = |v: &str| -> String {
        v.chars()
            .filter(|&c| !dropped(c))
            .flat_map(|c| if c == 'ς' { 'σ' } else { c }.to_lowercase())
            .collect()
    };
    form(a) == form(b)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Distinct IPv4 addresses never share a token or a pseudonym (review
    /// C, sixteenth session: `10.0.1.23` and `10.0.12.3` did). The second
    /// address is the first's digits cut elsewhere when that is an
    /// address (the pairs the old normalisation merged), else any.
    #[test]
    fn distinct_ipv4_addresses_never_share_a_token_or_pseudonym(
        octets in any::<[u8; 4]>(),
        cuts in any::<[prop::sample::Index; 3]>(),
        other in any::<u32>(),
    ) {
        let a = std::net::Ipv4Addr::from(octets).to_string();
        let digits: String = a.chars().filter(char::is_ascii_digit).collect();
        let mut at: Vec<usize> = cuts.iter().map(|c| 1 + c.index(digits.len() - 1)).collect();
        at.sort();
        at.dedup();
        let b = if at.len() == 3 {
            let parts = [&digits[..at[0]], &digits[at[0]..at[1]], &digits[at[1]..at[2]], &digits[at[2]..]];
            let b = parts.join(".");
            if b.parse::<std::net::Ipv4Addr>().is_ok() { b } else { std::net::Ipv4Addr::from(other).to_string() }
        } else {
            std::net::Ipv4Addr::from(other).to_string()
        };
        let key = PseudonymKey::new(TenantId::from_external_key("t", "p"), &[9; 32]).unwrap();
        let same = a == b;
        prop_assert_eq!(key.pseudonym(&Kind::IpAddress, &a) == key.pseudonym(&Kind::IpAddress, &b), same, "{} {}", a, b);
        let mut vault = TokenVault::new();
        let (ta, tb) = (vault.tokenize(&Kind::IpAddress, &a), vault.tokenize(&Kind::IpAddress, &b));
        prop_assert_eq!(ta == tb, same);
        prop_assert_eq!(vault.unmask(&tb), b);
    }

    /// Two values of any kind that share a pseudonym (and so a token) are
    /// one value up to the formatting the kind documents: short strings
    /// of a few letters, digits and separators, so that many pairs differ
    /// only in formatting.
    #[test]
    fn values_sharing_a_pseudonym_differ_only_in_formatting(
        a in "[01aAsSßÜüςσ :.+()/-]{0,6}",
        b in "[01aAsSßÜüςσ :.+()/-]{0,6}",
    ) {
        let key = PseudonymKey::new(TenantId::from_external_key("t", "p"), &[9; 32]).unwrap();
        for kind in Kind::BUILTIN.iter().chain([&Kind::custom("HOST_ID").unwrap()]) {
            if key.pseudonym(kind, &a) == key.pseudonym(kind, &b) {
                prop_assert!(same_up_to_formatting(kind, &a, &b), "{kind}: {a:?} and {b:?} share a pseudonym");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// `apply` masks every byte of every finding given, in any order,
    /// overlapping or past the end: the union of the spans, each run of it
    /// replaced once (review C, sixteenth session: findings out of order
    /// were copied out in clear).
    #[test]
    fn apply_masks_every_byte_of_any_findings(
        text in "[a-z ]{0,40}",
        spans in proptest::collection::vec((0usize..45, 0usize..12), 0..6),
    ) {
        let findings: Vec<custodia_mask::Finding> = spans
            .iter()
            .map(|&(start, len)| custodia_mask::Finding {
                kind: Kind::Email,
                start,
                end: start + len,
                score: 0.9,
                recognizer: "host".into(),
            })
            .collect();
        let out = Masker::new(Detector::new()).apply(&text, &findings, None).unwrap();
        // The union's runs: overlapping spans join, touching ones do not.
        let mut spans: Vec<(usize, usize)> = findings
            .iter()
            .map(|f| (f.start, f.end.min(text.len())))
            .filter(|(s, e)| s < e)
            .collect();
        spans.sort();
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for (s, e) in spans {
            match runs.last_mut() {
                Some(last) if s < last.1 => last.1 = last.1.max(e),
                _ => runs.push((s, e)),
            }
        }
        let mut want = String::new();
        let mut at = 0;
        for (s, e) in runs {
            want.push_str(&text[at..s]);
            want.push_str("[EMAIL]");
            at = e;
        }
        want.push_str(&text[at..]);
        prop_assert_eq!(out.text, want);
    }
}

/// Issue 20: an `@` right after a finding, before byte 64, underflowed the
/// local-part bound (`i - 64`) and panicked under overflow checks.
#[test]
fn at_sign_after_a_finding_near_the_start_does_not_underflow() {
    let d = Detector::new();
    for text in [
        &b"33333333%@"[..],
        b"33333333%@example.com",
        b"4111111111111111%@x.io",
    ] {
        check_findings(text.len(), None, &d.detect_bytes(text, None), d.min_score());
    }
}

const GLUE_FRAGMENTS: &[&str] = &[
    "33333333",
    "4111111111111111",
    "jane.doe@example.com",
    "+61 2 9374 4000",
    "DE89370400440532013000",
    "eyJ",
    "@",
    "%",
    ":",
    "://",
    "'",
    ".",
    "-",
    "+",
    "_",
    "=",
    " ",
    "\n",
    "HRB",
    "Ä",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Findings glued to punctuation with no spaces: every position-arithmetic
    /// bound (look-backs to the last finding, look-aheads to the end) is hit
    /// near offset zero and near the end. Tests build with overflow checks on,
    /// so an underflow here panics instead of wrapping as in release builds.
    #[test]
    fn glued_pii_fragments_detect_without_overflow(
        parts in proptest::collection::vec(
            prop_oneof![
                proptest::strategy::Strategy::prop_map(proptest::sample::select(GLUE_FRAGMENTS), String::from),
                "[0-9]{1,12}",
                "[a-zA-Z]{1,12}",
            ],
            0..40,
        )
    ) {
        let text = parts.concat();
        let d = Detector::new();
        check_findings(text.len(), Some(&text), &d.detect(&text), d.min_score());
        let m = Masker::new(Detector::new());
        let mut out = Vec::new();
        m.mask_stream(text.as_bytes(), &mut out, None, None).unwrap();
        let (whole, _) = m.mask_bytes(text.as_bytes(), None, None).unwrap();
        prop_assert_eq!(out, whole);
    }
}

proptest! {
    /// JSON masking on arbitrary bytes: a rule path parses or fails typed,
    /// and any document that parses masks without panicking, every string
    /// at the rule path replaced.
    #[test]
    fn json_rules_and_documents_of_arbitrary_bytes_never_panic(
        path in "[a-z*\\[\\]0-9.$]{0,12}",
        bytes in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let rules = match custodia_mask::JsonRules::new().field(&path, custodia_mask::Kind::Email, None) {
            Ok(rules) => rules,
            Err(e) => {
                prop_assert!(matches!(e, custodia_mask::Error::InvalidPath { .. }), "{}", e);
                custodia_mask::JsonRules::new()
            }
        };
        if let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&bytes) {
            let masker = Masker::new(Detector::new());
            prop_assert!(masker.mask_json(&mut value, &rules, None).is_ok());
        }
        let mut document = serde_json::json!({"a": {"b": ["x@y.example", 7]}});
        let rules = custodia_mask::JsonRules::new().field("a.b[]", custodia_mask::Kind::Email, None).unwrap();
        Masker::new(Detector::new()).mask_json(&mut document, &rules, None).unwrap();
        prop_assert!(!document.to_string().contains("x@y.example"));
    }
}

/// Names to try as kinds: anything, near-valid names in any case, the
/// built-in kinds' names as written and in lower case.
fn kind_name() -> impl proptest::strategy::Strategy<Value = String> {
    let builtin: Vec<String> = Kind::BUILTIN.iter().map(|k| k.to_string()).collect();
    let lower: Vec<String> = builtin.iter().map(|n| n.to_lowercase()).collect();
    prop_oneof![
        any::<String>(),
        "[A-Za-z_0-9][A-Za-z0-9_ ]{0,50}",
        "[A-Z][A-Z0-9_]{0,50}",
        prop::sample::select(builtin),
        prop::sample::select(lower),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any name is one kind or refused, everywhere alike: a kind made from
    /// it displays as the name, parses back (from the name, its display
    /// and JSON) to the same kind, is a custom kind only when no built-in
    /// kind has the name, is the key its policy entry is found under, and
    /// names tokens that `unmask` reads back.
    #[test]
    fn any_name_is_one_kind_or_refused(name in kind_name()) {
        match Kind::custom(&name) {
            Ok(kind) => {
                prop_assert_eq!(kind.as_str(), name.as_str());
                prop_assert_eq!(&kind.to_string().parse::<Kind>().unwrap(), &kind);
                prop_assert_eq!(&name.parse::<Kind>().unwrap(), &kind);
                let json = serde_json::to_string(&kind).unwrap();
                prop_assert_eq!(&serde_json::from_str::<Kind>(&json).unwrap(), &kind);
                let builtin = Kind::BUILTIN.iter().any(|b| b.as_str() == name);
                prop_assert_eq!(matches!(kind, Kind::Custom(_)), !builtin);
                let policy = MaskPolicy::new(Strategy::Redact).with(kind.clone(), Strategy::Keep);
                prop_assert_eq!(policy.strategy(&name.parse().unwrap()), &Strategy::Keep);
                let mut vault = TokenVault::new();
                let token = vault.tokenize(&kind, "value");
                prop_assert_eq!(vault.unmask(&format!("({token})")), "(value)");
            }
            Err(_) => {
                prop_assert!(name.parse::<Kind>().is_err());
                let json = serde_json::to_string(&name).unwrap();
                prop_assert!(serde_json::from_str::<Kind>(&json).is_err());
            }
        }
    }
}

/// Object keys: anything, and the keys that made report paths ambiguous
/// (dots, brackets, quotes, `~`, `*`, keys masked to the same text).
fn json_key() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::strategy::Strategy as _;
    prop_oneof![
        any::<String>(),
        "[a-zA-Z_.~*'\\[\\]\\\\$#0-9 -]{0,5}",
        prop::sample::select(vec![
            "*",
            "a.b",
            "b~",
            "~",
            "'",
            "\\",
            "']",
            "[0]",
            "[EMAIL]",
            "[EMAIL]#2",
            "$",
            "",
            "ann@example.com",
            "bob@example.com",
            "\n",
            "é",
        ])
        .prop_map(String::from),
    ]
}

/// Nested objects and arrays whose every leaf is one email.
fn json_document() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
    use proptest::strategy::Strategy as _;
    let leaf = Just(serde_json::Value::String("mail x@example.com".into()));
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            proptest::collection::btree_map(json_key(), inner, 0..5)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn leaves(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Object(m) => m.values().map(leaves).sum(),
        serde_json::Value::Array(a) => a.iter().map(leaves).sum(),
        _ => 1,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Distinct leaves get distinct report paths, and a path given back as
    /// a rule names the leaf it was reported for (it parses to the same
    /// segments).
    #[test]
    fn json_report_paths_are_distinct_and_parse_back(doc in json_document()) {
        let m = Masker::new(Detector::new());
        let mut masked = doc.clone();
        let report = m.mask_json(&mut masked, &custodia_mask::JsonRules::new(), None).unwrap();
        let values: Vec<&str> = report
            .entries
            .iter()
            .filter_map(|e| e.path.as_deref())
            .filter(|p| !p.ends_with('~'))
            .collect();
        let distinct: std::collections::BTreeSet<_> = values.iter().collect();
        prop_assert_eq!(values.len(), leaves(&doc), "{:?}", values);
        prop_assert_eq!(distinct.len(), values.len(), "{:?}", values);
        for path in values {
            let rules = custodia_mask::JsonRules::new()
                .scan_strings(false)
                .field(path, Kind::custom("HIT").unwrap(), None)
                .unwrap();
            let mut again = masked.clone();
            let hit = m.mask_json(&mut again, &rules, None).unwrap();
            prop_assert_eq!(hit.total(), 1, "{}", path);
            prop_assert_eq!(hit.entries[0].path.as_deref(), Some(path));
        }
    }
}
