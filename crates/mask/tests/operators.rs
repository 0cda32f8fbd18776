//! Operators, the report, JSON and streaming.

use std::sync::Arc;

use custodia_core::TenantId;
use custodia_mask::{
    Detector, Finding, JsonRules, Kind, KnownEntities, MaskPolicy, Masker, PseudonymKey,
    Recognizer, Strategy, TokenVault,
};
use serde_json::json;

mod support;
use support::Trickle;

const TICKET: &str =
    "Hi, I'm Jane Doe (jane.doe@example.com), card 4111 1111 1111 1111, call +44 20 7946 0958.";

fn masker(strategy: Strategy) -> Masker {
    let key = PseudonymKey::new(TenantId::from_external_key("t", "acme"), &[7u8; 32]).unwrap();
    Masker::new(Detector::new())
        .with_pseudonym_key(key)
        .with_policy(MaskPolicy::new(strategy))
        .unwrap()
}

#[test]
fn redact_replace_keep() {
    let m = masker(Strategy::Redact).mask(TICKET).unwrap();
    assert_eq!(
        m.text,
        "Hi, I'm [PERSON] ([EMAIL]), card [CREDIT_CARD], call [PHONE]."
    );
    let m = masker(Strategy::Replace("***".into()))
        .mask(TICKET)
        .unwrap();
    assert_eq!(m.text, "Hi, I'm *** (***), card ***, call ***.");
    let m = masker(Strategy::Keep).mask(TICKET).unwrap();
    assert_eq!(m.text, TICKET);
    assert_eq!(m.report.total(), 4);
}

#[test]
fn partial_masks() {
    let m = masker(Strategy::Partial).mask(TICKET).unwrap();
    assert_eq!(
        m.text,
        "Hi, I'm J*** (j***@example.com), card ************1111, call ********0958."
    );
    let m = masker(Strategy::Partial)
        .mask("key AKIAIOSFODNN7EXAMPLE")
        .unwrap();
    assert_eq!(m.text, "key [SECRET]");
}

#[test]
fn per_kind_policy() {
    let policy = MaskPolicy::new(Strategy::Redact).with(Kind::CreditCard, Strategy::Partial);
    let m = Masker::new(Detector::new())
        .with_policy(policy)
        .unwrap()
        .mask(TICKET)
        .unwrap();
    assert_eq!(
        m.text,
        "Hi, I'm [PERSON] ([EMAIL]), card ************1111, call [PHONE]."
    );
}

#[test]
fn pseudonyms_are_stable_within_and_differ_across_tenants() {
    let a = masker(Strategy::Pseudonym);
    let x = a.mask("mail JANE.DOE@example.com").unwrap().text;
    let y = a.mask("again jane.doe@example.com").unwrap().text;
    let px = x.strip_prefix("mail ").unwrap();
    assert_eq!(Some(px), y.strip_prefix("again "));
    assert!(
        px.starts_with("<EMAIL_") && px.len() == "<EMAIL_0123456789abcdef>".len(),
        "{px}"
    );
    let other = PseudonymKey::new(TenantId::from_external_key("t", "globex"), &[7u8; 32]).unwrap();
    let b = Masker::new(Detector::new())
        .with_pseudonym_key(other)
        .with_policy(MaskPolicy::new(Strategy::Pseudonym))
        .unwrap();
    assert_ne!(b.mask("mail jane.doe@example.com").unwrap().text, x);
    // Separators do not change a number's pseudonym.
    let c1 = a.mask("4111 1111 1111 1111").unwrap().text;
    let c2 = a.mask("4111-1111-1111-1111").unwrap().text;
    assert_eq!(c1, c2);
    assert!(
        format!(
            "{:?}",
            PseudonymKey::new(TenantId::from_external_key("t", "x"), &[1; 16]).unwrap()
        )
        .contains("redacted")
    );
    assert!(PseudonymKey::new(TenantId::from_external_key("t", "x"), &[1; 8]).is_err());
}

#[test]
fn pseudonym_and_encrypt_need_their_keys() {
    assert!(
        Masker::new(Detector::new())
            .with_policy(MaskPolicy::new(Strategy::Pseudonym))
            .is_err()
    );
    assert!(
        Masker::new(Detector::new())
            .with_policy(MaskPolicy::new(Strategy::Encrypt))
            .is_err()
    );
    let m = Masker::new(Detector::new())
        .with_policy(MaskPolicy::new(Strategy::Tokenize))
        .unwrap();
    assert!(
        m.mask(TICKET).is_err(),
        "tokenize without a vault is an error"
    );
}

#[test]
fn tokens_round_trip_through_a_model_reply() {
    let m = masker(Strategy::Tokenize);
    let mut vault = TokenVault::new();
    let masked = m.mask_tokenized(TICKET, &mut vault).unwrap();
    assert_eq!(
        masked.text,
        "Hi, I'm <PERSON_1> (<EMAIL_1>), card <CREDIT_CARD_1>, call <PHONE_1>."
    );
    let again = m
        .mask_tokenized("other mail: jane.doe@example.com", &mut vault)
        .unwrap();
    assert_eq!(again.text, "other mail: <EMAIL_1>");
    let reply =
        "Dear customer, we emailed <EMAIL_1> and will call <PHONE_1>; <EMAIL_9> and <b> stay.";
    assert_eq!(
        vault.unmask(reply),
        "Dear customer, we emailed jane.doe@example.com and will call +44 20 7946 0958; <EMAIL_9> and <b> stay."
    );
    assert_eq!(vault.len(), 4);
    assert!(!format!("{vault:?}").contains("jane"));
}

#[test]
fn known_entities_are_masked_case_insensitively() {
    let known = KnownEntities::new([
        (Kind::Person, "Jane Doe"),
        (Kind::custom("CUSTOMER_ID").unwrap(), "C-1042"),
    ])
    .unwrap();
    let m = masker(Strategy::Redact);
    let out = m
        .mask_with("JANE DOE wrote about c-1042 and janet doerr.", &known, None)
        .unwrap();
    assert_eq!(
        out.text,
        "[PERSON] wrote about [CUSTOMER_ID] and janet doerr."
    );
    let out = m.mask_with("Grüße, Jane Doe 🎉", &known, None).unwrap();
    assert_eq!(out.text, "Grüße, [PERSON] 🎉");
    assert!(!format!("{known:?}").contains("Jane"));
}

#[test]
fn report_has_spans_and_no_values() {
    let m = masker(Strategy::Redact).mask(TICKET).unwrap();
    let json = m.report.to_json();
    for v in ["jane.doe@example.com", "Jane", "4111", "7946"] {
        assert!(!json.contains(v), "report leaks {v}: {json}");
    }
    assert_eq!(m.report.entries[0].kind, Kind::Person);
    let e = &m.report.entries[1];
    assert_eq!(&TICKET[e.start..e.end], "jane.doe@example.com");
    assert_eq!(&m.text[e.out_start..e.out_end], "[EMAIL]");
    assert_eq!(m.report.counts.get(&Kind::Email), Some(&1));
    assert!(json.starts_with("{\"version\":2"));
}

#[test]
fn json_rules_and_string_leaves() {
    let mut v = json!({
        "id": 17,
        "customer": {"name": "Jane Doe", "email": "jane@example.com", "age": 41},
        "messages": [{"body": "my card is 4111 1111 1111 1111"}, {"body": "thanks"}],
        "internal": {"notes": ["call 555-867-5309", 42]}
    });
    let rules = JsonRules::new()
        .field("customer.name", Kind::Person, None)
        .unwrap()
        .field("customer.age", Kind::custom("AGE").unwrap(), None)
        .unwrap()
        .field(
            "internal",
            Kind::custom("INTERNAL").unwrap(),
            Some(Strategy::Replace("-".into())),
        )
        .unwrap();
    let report = masker(Strategy::Redact)
        .mask_json(&mut v, &rules, None)
        .unwrap();
    assert_eq!(
        v,
        json!({
            "id": 17,
            "customer": {"name": "[PERSON]", "email": "[EMAIL]", "age": "[AGE]"},
            "messages": [{"body": "my card is [CREDIT_CARD]"}, {"body": "thanks"}],
            "internal": {"notes": ["-", "-"]}
        })
    );
    let paths: Vec<_> = report
        .entries
        .iter()
        .map(|e| e.path.clone().unwrap())
        .collect();
    assert!(
        paths.contains(&"$.messages[0].body".to_string()),
        "{paths:?}"
    );
    assert_eq!(report.total(), 6);
    assert!(JsonRules::new().field("a[x]", Kind::Email, None).is_err());
    assert!(JsonRules::new().field("", Kind::Email, None).is_err());
    let wild = JsonRules::new()
        .field("*[].ssn", Kind::UsSsn, None)
        .unwrap();
    let mut w = json!({"people": [{"ssn": "x"}, {"ssn": "y"}]});
    masker(Strategy::Redact)
        .mask_json(&mut w, &wild, None)
        .unwrap();
    assert_eq!(
        w,
        json!({"people": [{"ssn": "[US_SSN]"}, {"ssn": "[US_SSN]"}]})
    );
}

/// Review C (sixteenth session): report paths held object keys verbatim,
/// so an email used as a key went into the audit record.
#[test]
fn json_report_paths_hold_no_key_with_personal_data() {
    let m = Masker::new(Detector::new());
    let mut v = json!({"contacts": {"jane.doe@example.com": "call +44 20 7946 0958"}});
    let report = m.mask_json(&mut v, &JsonRules::new(), None).unwrap();
    // The key's email and the value's phone number.
    assert_eq!(report.total(), 2, "{}", report.to_json());
    assert!(
        !report.to_json().contains("jane.doe"),
        "{}",
        report.to_json()
    );
    let paths: Vec<_> = report
        .entries
        .iter()
        .map(|e| e.path.as_deref().unwrap())
        .collect();
    assert_eq!(paths, ["$.contacts['[EMAIL]']~", "$.contacts['[EMAIL]']"]);
}

#[test]
fn json_object_keys_holding_personal_data_are_masked() {
    let m = masker(Strategy::Redact);
    let mut v = json!({"contacts": {"jane.doe@example.com": {"since": 2019}, "note for 555-867-5309": "x"}});
    let report = m.mask_json(&mut v, &JsonRules::new(), None).unwrap();
    assert_eq!(
        v,
        json!({"contacts": {"[EMAIL]": {"since": 2019}, "note for [PHONE]": "x"}})
    );
    let e = &report.entries[0];
    assert_eq!(e.kind, Kind::Email);
    // Spans in the key, before and after masking.
    assert_eq!((e.start, e.end, e.out_start, e.out_end), (0, 20, 0, 7));
    assert_eq!(e.path.as_deref(), Some("$.contacts['[EMAIL]']~"));
    assert_eq!(
        report.entries[1].path.as_deref(),
        Some("$.contacts['note for [PHONE]']~")
    );
    // Rules match the original keys; the report shows the masked ones.
    let mut v = json!({"contacts": {"jane.doe@example.com": {"name": "Jane Doe"}}});
    let rules = JsonRules::new()
        .field("contacts.*.name", Kind::Person, None)
        .unwrap();
    let report = m.mask_json(&mut v, &rules, None).unwrap();
    assert_eq!(v, json!({"contacts": {"[EMAIL]": {"name": "[PERSON]"}}}));
    assert_eq!(
        report.entries[1].path.as_deref(),
        Some("$.contacts['[EMAIL]'].name")
    );
    // Tokenised keys come back with the vault.
    let mut vault = TokenVault::new();
    let original = json!({"jane.doe@example.com": ["4111 1111 1111 1111"]});
    let mut v = original.clone();
    masker(Strategy::Tokenize)
        .mask_json(&mut v, &JsonRules::new(), Some(&mut vault))
        .unwrap();
    assert_eq!(v, json!({"<EMAIL_1>": ["<CREDIT_CARD_1>"]}));
    let back: serde_json::Value = serde_json::from_str(&vault.unmask(&v.to_string())).unwrap();
    assert_eq!(back, original);
    // An error below a renamed key (tokens without a vault) loses no member.
    let m = Masker::new(Detector::new())
        .with_policy(MaskPolicy::new(Strategy::Redact).with(Kind::Phone, Strategy::Tokenize))
        .unwrap();
    let mut v = json!({"a@example.com": "call 555-867-5309", "b": 1, "c": {"d": 2}});
    assert!(m.mask_json(&mut v, &JsonRules::new(), None).is_err());
    assert_eq!(v.as_object().unwrap().len(), 3, "{v}");
}

/// A masked key can sort before keys it followed (`[EMAIL]` before `a`):
/// findings are still reported in the original document's order.
#[test]
fn json_findings_keep_the_documents_order_when_keys_are_renamed() {
    let mut v = json!({"a": "mail ann@example.com", "zed@example.com": {"b": "call 555-867-5309"}});
    let report = masker(Strategy::Redact)
        .mask_json(&mut v, &JsonRules::new(), None)
        .unwrap();
    assert_eq!(
        v,
        json!({"a": "mail [EMAIL]", "[EMAIL]": {"b": "call [PHONE]"}})
    );
    let paths: Vec<_> = report
        .entries
        .iter()
        .map(|e| e.path.as_deref().unwrap())
        .collect();
    assert_eq!(paths, ["$.a", "$['[EMAIL]']~", "$['[EMAIL]'].b"]);
}

#[test]
fn json_masked_keys_that_collide_stay_unique() {
    let mut v = json!({
        "[EMAIL]": "a literal key",
        "ann@example.com": 1,
        "bob@example.com": 2,
        "cy@example.com": 3,
    });
    let report = masker(Strategy::Redact)
        .mask_json(&mut v, &JsonRules::new(), None)
        .unwrap();
    // The key that was not masked keeps its name; the masked ones are
    // numbered in the map's order.
    assert_eq!(
        v,
        json!({"[EMAIL]": "a literal key", "[EMAIL]#2": 1, "[EMAIL]#3": 2, "[EMAIL]#4": 3})
    );
    let paths: Vec<_> = report
        .entries
        .iter()
        .map(|e| e.path.as_deref().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["$['[EMAIL]#2']~", "$['[EMAIL]#3']~", "$['[EMAIL]#4']~"]
    );
}

#[test]
fn json_report_paths_star_keys_left_partly_or_wholly_in_clear() {
    let doc = || json!({"jane.doe@example.com": {"card": "4111 1111 1111 1111"}});
    for (strategy, key) in [
        (Strategy::Partial, "j***@example.com"),
        (Strategy::Keep, "jane.doe@example.com"),
    ] {
        let mut v = doc();
        let report = masker(strategy)
            .mask_json(&mut v, &JsonRules::new(), None)
            .unwrap();
        assert!(v.get(key).is_some(), "{v}");
        let json = report.to_json();
        assert!(
            !json.contains("jane") && !json.contains("example"),
            "{json}"
        );
        let paths: Vec<_> = report
            .entries
            .iter()
            .map(|e| e.path.as_deref().unwrap())
            .collect();
        assert_eq!(paths, ["$.*~", "$.*.card"]);
    }
    // Scanning off: keys are left as they are, and hidden in paths.
    let mut v = doc();
    let rules = JsonRules::new()
        .scan_strings(false)
        .field("*.card", Kind::CreditCard, None)
        .unwrap();
    let report = masker(Strategy::Redact)
        .mask_json(&mut v, &rules, None)
        .unwrap();
    assert_eq!(
        v,
        json!({"jane.doe@example.com": {"card": "[CREDIT_CARD]"}})
    );
    assert_eq!(report.total(), 1);
    assert_eq!(report.entries[0].path.as_deref(), Some("$.*.card"));
}

/// Review (eighteenth session): keys were written verbatim after a dot, so
/// `$.a.b~` was a finding in key `b` or in the value of key `b~`, and a
/// hidden key `*` read like a key named `*`.
/// The report paths of masking `v` with `strategy`, every key and leaf
/// scanned.
fn report_paths(strategy: Strategy, v: &mut serde_json::Value) -> Vec<String> {
    let report = masker(strategy)
        .mask_json(v, &JsonRules::new(), None)
        .unwrap();
    report
        .entries
        .into_iter()
        .map(|e| e.path.unwrap())
        .collect()
}

#[test]
fn json_report_paths_are_unambiguous() {
    let mut v = json!({
        "a": {"b": "mail eve@example.com", "b~": "mail ann@example.com"},
        "a.b": "mail bob@example.com",
        "*": {"card": "4111 1111 1111 1111"},
        "it's \\ here": "mail cy@example.com",
        "plain_key-2": "mail dee@example.com",
        "eve@example.com": "x",
    });
    let paths = report_paths(Strategy::Redact, &mut v);
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    let expected = [
        "$.a.b",
        "$.a['b~']",
        "$['a.b']",
        "$['*'].card",
        "$['it\\'s \\\\ here']",
        "$['plain_key-2']",
        "$['[EMAIL]']~",
    ];
    for p in expected {
        assert!(paths.contains(&p), "{p} not in {paths:?}");
    }
    assert_eq!(paths.len(), expected.len(), "{paths:?}");
    // A key shown in part is the wildcard `.*`, not the key named `*`.
    let mut v = json!({"*": {"card": "4111 1111 1111 1111"}, "jane@example.com": {"card": "4111 1111 1111 1111"}});
    let paths = report_paths(Strategy::Partial, &mut v);
    assert_eq!(paths, ["$['*'].card", "$.*~", "$.*.card"]);
}

/// A value path from a report is a rule as it stands, bracketed keys and
/// all; a key finding's path (`~`) is refused.
#[test]
fn json_report_paths_are_rules() {
    let doc = json!({"a.b": {"it's": ["x", "mail ann@example.com"]}, "b~": "mail bob@example.com"});
    let mut v = doc.clone();
    let report = masker(Strategy::Redact)
        .mask_json(&mut v, &JsonRules::new(), None)
        .unwrap();
    assert_eq!(report.total(), 2);
    for e in &report.entries {
        let path = e.path.as_deref().unwrap();
        let rules = JsonRules::new()
            .scan_strings(false)
            .field(path, Kind::custom("HIT").unwrap(), None)
            .unwrap();
        let mut w = doc.clone();
        let hit = masker(Strategy::Redact)
            .mask_json(&mut w, &rules, None)
            .unwrap();
        assert_eq!(hit.total(), 1, "{path}");
        assert_eq!(hit.entries[0].path.as_deref(), Some(path));
    }
    assert!(
        JsonRules::new()
            .field("$['[EMAIL]']~", Kind::Email, None)
            .is_err()
    );
    let rules = JsonRules::new()
        .field("$[\"a.b\"]['it\\'s'][0]", Kind::Email, None)
        .unwrap();
    let mut w = doc.clone();
    masker(Strategy::Redact)
        .mask_json(&mut w, &rules, None)
        .unwrap();
    assert_eq!(w["a.b"]["it's"][0], "[EMAIL]");
}

/// Review C (sixteenth session): outside a rule only strings were scanned,
/// so a card number written as a JSON number passed in clear, uncounted.
#[test]
fn json_numbers_are_scanned() {
    let m = Masker::new(Detector::new());
    let mut v = json!({"payment": {"card": 4111111111111111u64}});
    let report = m.mask_json(&mut v, &JsonRules::new(), None).unwrap();
    assert!(!v.to_string().contains("4111111111111111"), "{v}");
    assert_eq!(report.total(), 1);
    // Like a number at a rule path: a masked string.
    assert_eq!(v, json!({"payment": {"card": "[CREDIT_CARD]"}}));
    assert_eq!(report.entries[0].path.as_deref(), Some("$.payment.card"));
}

#[test]
fn json_numbers_keep_their_digits_up_to_u64() {
    let m = masker(Strategy::Redact);
    // 19 digits (Visa allows 19) still fits a u64: every digit is scanned,
    // from the document's text as from a built value.
    let text = r#"{"cards": [4111111111111111110, -4111111111111111], "n": 42, "f": 1.5}"#;
    let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(v["cards"][0].as_u64(), Some(4_111_111_111_111_111_110));
    let report = m.mask_json(&mut v, &JsonRules::new(), None).unwrap();
    assert_eq!(
        v,
        json!({"cards": ["[CREDIT_CARD]", "-[CREDIT_CARD]"], "n": 42, "f": 1.5})
    );
    assert_eq!(report.total(), 2, "{}", report.to_json());
    // Beyond u64 serde_json (without `arbitrary_precision`) has already
    // rounded the number to an f64 while parsing: its digits are gone
    // before masking, and what is left (`4.111111111111111e19`) is no
    // card number.
    let mut v: serde_json::Value = serde_json::from_str(r#"{"n": 41111111111111111115}"#).unwrap();
    assert!(v["n"].is_f64());
    let report = m.mask_json(&mut v, &JsonRules::new(), None).unwrap();
    assert!(!v.to_string().contains("41111111111111111115"));
    assert_eq!(report.total(), 0);
    // A number whose finding the policy keeps stays a number.
    let mut v = json!({"card": 4111111111111111u64});
    let report = masker(Strategy::Keep)
        .mask_json(&mut v, &JsonRules::new(), None)
        .unwrap();
    assert_eq!(v, json!({"card": 4111111111111111u64}));
    assert_eq!(report.total(), 1);
}

#[test]
fn streaming_matches_whole_text_masking_across_chunk_boundaries() {
    let m = masker(Strategy::Redact);
    // Long enough for several chunks; entities land on every offset mod the chunk size.
    let mut text = String::new();
    let mut i = 0;
    while text.len() < 300_000 {
        text.push_str(&"filler words here ".repeat(i % 7));
        text.push_str("mail jane.doe@example.com card 4111 1111 1111 1111 phone +44 20 7946 0958 ");
        text.push_str(&"x".repeat(i % 13));
        text.push('\n');
        i += 1;
    }
    let whole = m.mask(&text).unwrap();
    for step in [1usize << 16, 7919, 65_537] {
        let mut out = Vec::new();
        let report = m
            .mask_stream(Trickle(text.as_bytes(), step), &mut out, None, None)
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            whole.text,
            "read size {step}"
        );
        assert_eq!(report.entries, whole.report.entries);
    }
    let counted = m
        .mask_stream_counting(text.as_bytes(), std::io::sink(), None, None)
        .unwrap();
    assert!(counted.entries.is_empty());
    assert_eq!(counted.counts, whole.report.counts);
    assert_eq!(counted.total(), whole.report.total());
}

#[test]
fn streaming_copies_invalid_utf8_and_masks_around_it() {
    let m = masker(Strategy::Redact);
    let mut input = b"bad \xff\xfe bytes jane@example.com \xc3".to_vec();
    input.extend_from_slice(b" end");
    let mut out = Vec::new();
    m.mask_stream(&input[..], &mut out, None, None).unwrap();
    assert_eq!(out, b"bad \xff\xfe bytes [EMAIL] \xc3 end".to_vec());
}

#[test]
fn custom_recognizers_from_configuration() {
    let cfg = custodia_mask::DetectorConfig::from_json(
        r#"{"version":1,"regions":"uk","custom":[{"name":"employee","kind":"EMPLOYEE_ID","pattern":"\\bEMP-(?P<value>[0-9]{6})\\b","context":["staff"],"score":0.3},
            {"name":"acct","kind":"ACCOUNT","pattern":"\\bACC[0-9]{16}\\b","validator":"luhn","score":0.9}]}"#,
    )
    .unwrap();
    let d = Detector::from_config(&cfg).unwrap();
    let found: Vec<_> = d.detect(&format!("staff EMP-123456, {} EMP-654321, ACC4111111111111111 ACC4111111111111112 SSN 536-90-4399", "words ".repeat(20))).into_iter().map(|f| f.kind.to_string()).collect();
    assert_eq!(
        found,
        ["EMPLOYEE_ID", "ACCOUNT"],
        "no US recognizers with regions=uk"
    );
    assert!(custodia_mask::DetectorConfig::from_json(r#"{"version":2}"#).is_err());
    // A byte-level pattern cannot cut a character: © is C2 A9.
    let cfg = custodia_mask::DetectorConfig::from_json(
        r#"{"custom":[{"name":"b","kind":"B","pattern":"(?-u:\\xA9)","score":1.0}]}"#,
    )
    .unwrap();
    assert!(
        Detector::from_config(&cfg)
            .unwrap()
            .detect("caf\u{e9} \u{a9}")
            .is_empty()
    );
    assert!(
        custodia_mask::DetectorConfig::from_json(
            r#"{"custom":[{"name":"x","kind":"X","pattern":"("}]}"#
        )
        .and_then(|c| Detector::from_config(&c))
        .is_err()
    );
    assert!(
        custodia_mask::DetectorConfig::from_json(r#"{"min_score": 2}"#)
            .and_then(|c| Detector::from_config(&c))
            .is_err()
    );
    assert!(custodia_mask::DetectorConfig::from_json(r#"{"regions": "mars"}"#).is_err());
}

/// Review (disabled kinds): a misspelled name in `disabled` (`UK_POSTCOD`)
/// parsed as a custom kind and switched nothing off, silently.
#[test]
fn a_disabled_name_that_is_no_built_in_kind_is_refused() {
    use custodia_mask::{DetectorConfig, Error};
    let err = DetectorConfig::from_json(r#"{"disabled": ["PERSON", "UK_POSTCOD"]}"#).unwrap_err();
    match &err {
        Error::InvalidConfig { location, reason } => {
            assert_eq!(location, "disabled[1]");
            assert!(reason.contains("UK_POSTCOD"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // A custom recognizer's kind is no built-in kind either: disabling it
    // would switch nothing off.
    let custom = r#"{"disabled": ["EMPLOYEE_ID"], "custom": [{"name": "e", "kind": "EMPLOYEE_ID", "pattern": "EMP-[0-9]{6}"}]}"#;
    assert!(matches!(
        DetectorConfig::from_json(custom),
        Err(Error::InvalidConfig { .. })
    ));
    // Built in code, the configuration is checked when the detector is.
    let cfg = DetectorConfig {
        disabled: vec![Kind::custom("UK_POSTCOD").unwrap()],
        ..DetectorConfig::default()
    };
    assert!(matches!(
        Detector::from_config(&cfg),
        Err(Error::InvalidConfig { location, .. }) if location == "disabled[0]"
    ));
    // Built-in names still switch their kinds off.
    let cfg = DetectorConfig::from_json(r#"{"disabled": ["EMAIL", "UK_POSTCODE"]}"#).unwrap();
    let d = Detector::from_config(&cfg).unwrap();
    assert!(!d.kinds().contains(&Kind::Email));
    assert!(!d.kinds().contains(&Kind::UkPostcode));
    assert!(d.detect("mail jane@example.com").is_empty());
}

#[test]
fn min_score_and_regions() {
    let text = "TFN 123 456 782";
    assert_eq!(Detector::new().detect(text).len(), 1);
    assert!(
        Detector::with_regions(custodia_mask::Regions::US)
            .detect(text)
            .is_empty()
    );
    let mut strict = Detector::new();
    strict.set_min_score(0.9).unwrap();
    assert!(strict.detect(text).is_empty());
    assert!(strict.set_min_score(-1.0).is_err());
}

#[cfg(feature = "crypt")]
#[test]
fn encrypt_seals_values_the_keyring_opens_in_context() {
    use custodia_crypt::{FieldContext, Keyring, SecretKey, envelope};
    use std::sync::Arc;
    let keyring = Arc::new(Keyring::new(SecretKey::from_bytes([3; 32])));
    let tenant = TenantId::from_external_key("t", "acme");
    let m = Masker::new(Detector::new())
        .with_encryption(keyring.clone(), tenant, "ticket", "42")
        .with_policy(MaskPolicy::new(Strategy::Encrypt))
        .unwrap();
    let out = m.mask("mail jane@example.com now").unwrap();
    assert!(!out.text.contains("jane"));
    let inner = out
        .text
        .strip_prefix("mail [EMAIL:")
        .unwrap()
        .strip_suffix("] now")
        .unwrap();
    let sealed = envelope::from_text(inner).unwrap();
    let ctx = FieldContext::new(tenant, "ticket", "42", "EMAIL").unwrap();
    assert_eq!(keyring.open(&ctx, &sealed).unwrap(), b"jane@example.com");
    let elsewhere = FieldContext::new(tenant, "ticket", "43", "EMAIL").unwrap();
    assert!(keyring.open(&elsewhere, &sealed).is_err());
}

#[test]
fn custom_context_words_fold_unicode_case() {
    let cfg = custodia_mask::DetectorConfig::from_json(
        r#"{"version":1,"regions":"none","custom":[{"name":"m","kind":"MITGLIED","pattern":"\\bM-[0-9]{5}\\b","context":["Mitgliedsnummer","STRAẞE"],"score":0.3}]}"#,
    )
    .unwrap();
    let d = Detector::from_config(&cfg).unwrap();
    let kinds = |t: &str| -> Vec<String> {
        d.detect(t)
            .into_iter()
            .map(|f| f.kind.to_string())
            .collect()
    };
    assert_eq!(kinds("MITGLIEDSNUMMER: M-12345"), ["MITGLIED"]);
    assert_eq!(kinds("straße M-12345"), ["MITGLIED"]);
    assert_eq!(kinds("Strassenbahn M-12345"), Vec::<String>::new());
    assert_eq!(kinds("nummer M-12345"), Vec::<String>::new());
}

#[test]
fn mask_into_needs_a_vault_to_tokenize() {
    let m = masker(Strategy::Tokenize);
    let (mut findings, mut out) = (Vec::new(), Vec::new());
    assert!(
        m.mask_into(TICKET.as_bytes(), &mut findings, &mut out)
            .is_err()
    );
    let m = masker(Strategy::Redact);
    let replaced = m
        .mask_into(TICKET.as_bytes(), &mut findings, &mut out)
        .unwrap();
    assert_eq!(replaced, 4);
    assert_eq!(out, m.mask(TICKET).unwrap().text.as_bytes());
}

fn acme_key() -> PseudonymKey {
    PseudonymKey::new(TenantId::from_external_key("t", "acme"), &[7u8; 32]).unwrap()
}

// Review C (sixteenth session): normalisation merged distinct values.

#[test]
fn distinct_ip_addresses_get_distinct_tokens() {
    let text = "Server 10.0.1.23 cannot reach 10.0.12.3 since Monday.";
    let kinds: Vec<Kind> = Detector::new()
        .detect(text)
        .into_iter()
        .map(|f| f.kind)
        .collect();
    assert_eq!(kinds, [Kind::IpAddress, Kind::IpAddress], "both detected");
    let mut vault = TokenVault::new();
    let m = masker(Strategy::Tokenize)
        .mask_tokenized(text, &mut vault)
        .unwrap();
    // One token would tell the model the two hosts are one, and its reply
    // about the second would un-mask to the first one's address.
    assert_eq!(
        m.text,
        "Server <IP_ADDRESS_1> cannot reach <IP_ADDRESS_2> since Monday."
    );
    assert_eq!(vault.len(), 2);
    assert_eq!(vault.unmask("<IP_ADDRESS_2> is down"), "10.0.12.3 is down");
}

#[test]
fn distinct_ip_addresses_get_distinct_pseudonyms() {
    let k = acme_key();
    assert_ne!(
        k.pseudonym(&Kind::IpAddress, "10.0.1.23"),
        k.pseudonym(&Kind::IpAddress, "10.0.12.3")
    );
    assert_ne!(
        k.pseudonym(&Kind::IpAddress, "2001:db8::1:0"),
        k.pseudonym(&Kind::IpAddress, "2001:db8:0:1::")
    );
}

#[test]
fn ip_addresses_written_differently_share_a_pseudonym() {
    let k = acme_key();
    let p = k.pseudonym(&Kind::IpAddress, "2001:db8::1");
    for v in [
        "2001:DB8::1",
        "2001:0db8:0000:0000:0000:0000:0000:0001",
        "2001:db8:0:0::1",
    ] {
        assert_eq!(k.pseudonym(&Kind::IpAddress, v), p, "{v}");
    }
}

#[test]
fn distinct_german_plates_get_distinct_pseudonyms() {
    let k = acme_key();
    let p = |v: &str| k.pseudonym(&Kind::DeLicensePlate, v);
    // München (M) and Mannheim (MA); Mühldorf (MÜ) and München; the
    // continuous form does not say where the district ends.
    assert_ne!(p("M-AB 123"), p("MA-B 123"));
    assert_ne!(p("MÜ-AB 123"), p("M-AB 123"));
    assert_ne!(p("MAB 123"), p("M-AB 123"));
    assert_ne!(p("M-AB 123"), p("M-AB 1234"));
    // One plate, written three ways.
    assert_eq!(p("M-AB 123"), p("M AB 123"));
    assert_eq!(p("M-AB 123"), p("m-ab123"));
    assert_eq!(p("MÜ-AB 123"), p("mü ab 123"));
}

#[test]
fn values_without_ascii_letters_keep_their_letters() {
    // Every non-ASCII value of these kinds was one (empty) value.
    let k = acme_key();
    for kind in [Kind::Postcode, Kind::DeCommercialRegister, Kind::UkPassport] {
        assert_ne!(
            k.pseudonym(&kind, "ÄÖÜ"),
            k.pseudonym(&kind, "ÉÈ"),
            "{kind}"
        );
    }
    let mut vault = TokenVault::new();
    assert_ne!(
        vault.tokenize(&Kind::DeLicensePlate, "ÖÄ-Ü 1"),
        vault.tokenize(&Kind::DeLicensePlate, "ÜÄ-Ö 1")
    );
}

#[test]
fn formatting_variants_of_one_number_share_a_token() {
    let mut vault = TokenVault::new();
    let mut same = |kind: Kind, a: &str, b: &str| {
        assert_eq!(
            vault.tokenize(&kind, a),
            vault.tokenize(&kind, b),
            "{a} / {b}"
        );
    };
    same(
        Kind::CreditCard,
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
    );
    same(
        Kind::Iban,
        "DE89 3704 0044 0532 0130 00",
        "de89370400440532013000",
    );
    same(Kind::Phone, "+44 20 7946 0958", "+44 (20) 7946-0958");
    same(Kind::MacAddress, "00:1A:2B:3C:4D:5E", "00-1a-2b-3c-4d-5e");
    same(Kind::UkPostcode, "SW1A 1AA", "sw1a1aa");
    same(Kind::Person, "Jane  Doe", "JANE DOE");
    same(Kind::Email, "Jane.Doe@Example.com", "jane.doe@example.com");
    // A national number is not its international form: two tokens, never
    // one for two numbers.
    let a = vault.tokenize(&Kind::Phone, "+44 20 7946 0958");
    assert_ne!(a, vault.tokenize(&Kind::Phone, "020 7946 0958"));
    // Signs that carry meaning stay: a Swedish `+` is a centenarian, a
    // Finnish sign the century.
    assert_ne!(
        vault.tokenize(&Kind::SePersonnummer, "811218-9876"),
        vault.tokenize(&Kind::SePersonnummer, "811218+9876")
    );
    assert_ne!(
        vault.tokenize(&Kind::FiHetu, "131052-308T"),
        vault.tokenize(&Kind::FiHetu, "131052A308T")
    );
    // A host's kind is compared exactly.
    let id = Kind::custom("CUSTOMER_ID").unwrap();
    assert_ne!(vault.tokenize(&id, "ab-12"), vault.tokenize(&id, "AB12"));
}

// Review C: a host kind named like a built-in one reused its tokens.

/// A model's labels mapped straight into kinds, as hosts do with
/// `Kind::custom`.
struct ModelNer;

impl Recognizer for ModelNer {
    fn name(&self) -> &str {
        "ner"
    }
    fn recognize(&self, text: &str, findings: &mut Vec<Finding>) {
        for (start, _) in text.match_indices("Zorblax Quux") {
            findings.push(Finding {
                kind: Kind::custom("PERSON").unwrap(),
                start,
                end: start + "Zorblax Quux".len(),
                score: 0.9,
                recognizer: "ner".into(),
            });
        }
    }
}

#[test]
fn custom_kind_named_like_a_builtin_never_takes_its_tokens() {
    let mut vault = TokenVault::new();
    let t1 = vault.tokenize(&Kind::Person, "Jane Doe");
    let t2 = vault.tokenize(&Kind::custom("PERSON").unwrap(), "Zorblax Quux");
    assert_ne!(t1, t2, "two people, one token");
    assert_eq!((t1.as_str(), t2.as_str()), ("<PERSON_1>", "<PERSON_2>"));
    assert_eq!(vault.unmask(&t1), "Jane Doe");
    assert_eq!(vault.unmask(&t2), "Zorblax Quux");
    // The same person by either kind is one token.
    assert_eq!(
        vault.tokenize(&Kind::custom("PERSON").unwrap(), "jane doe"),
        t1
    );
    assert_eq!(vault.len(), 2);
    // Parsing a built-in's name gives the built-in kind.
    assert_eq!("PERSON".parse::<Kind>().unwrap(), Kind::Person);
    assert_eq!(Kind::custom("PERSON").unwrap(), Kind::Person);
}

/// Found in review: `Kind::Custom("PERSON")`, built directly, was another
/// key than `Kind::Person` in a `MaskPolicy` (a model's people were masked
/// by the default strategy, not the one set for people), and a lower-case
/// custom name made tokens `unmask` never found. A custom kind is now made
/// only by `Kind::custom` or parsing, which give the built-in kind for its
/// name and refuse other spellings.
#[test]
fn a_kind_named_like_a_builtin_is_the_builtin_in_a_policy() {
    let model_person = Kind::custom("PERSON").unwrap();
    assert!(!matches!(model_person, Kind::Custom(_)));
    let keep_people = MaskPolicy::new(Strategy::Redact).with(Kind::Person, Strategy::Keep);
    assert_eq!(keep_people.strategy(&model_person), &Strategy::Keep);
    let keep_people = MaskPolicy::new(Strategy::Redact).with(model_person, Strategy::Keep);
    assert_eq!(keep_people.strategy(&Kind::Person), &Strategy::Keep);
    let from_json: MaskPolicy = serde_json::from_str(
        r#"{"default":{"type":"redact"},"per_kind":{"PERSON":{"type":"keep"}}}"#,
    )
    .unwrap();
    assert_eq!(from_json.strategy(&Kind::Person), &Strategy::Keep);

    // Through a recognizer and the masker: the policy for people applies.
    let mut d = Detector::new();
    d.add_recognizer(Arc::new(ModelNer));
    let m = Masker::new(d)
        .with_policy(MaskPolicy::new(Strategy::Redact).with(Kind::Person, Strategy::Keep))
        .unwrap();
    assert_eq!(
        m.mask("Please refund Zorblax Quux.").unwrap().text,
        "Please refund Zorblax Quux."
    );

    // Names a token could not carry are refused, not kept as another kind.
    for name in [
        "person",
        "Person",
        "customer_id",
        "PERSÖN",
        "",
        "1D",
        "_X",
        "A B",
    ] {
        assert!(Kind::custom(name).is_err(), "{name:?}");
        assert!(name.parse::<Kind>().is_err(), "{name:?}");
    }
    let id = Kind::custom("CUSTOMER_ID").unwrap();
    let mut vault = TokenVault::new();
    let token = vault.tokenize(&id, "C-1042");
    assert_eq!(token, "<CUSTOMER_ID_1>");
    assert_eq!(vault.unmask(&format!("see {token}")), "see C-1042");
}

#[test]
fn a_model_recognizers_person_keeps_its_own_token() {
    let mut d = Detector::new();
    d.add_recognizer(Arc::new(ModelNer));
    let m = Masker::new(d)
        .with_policy(MaskPolicy::new(Strategy::Tokenize))
        .unwrap();
    let mut vault = TokenVault::new();
    let out = m
        .mask_tokenized("Hi, I'm Jane Doe. Please refund Zorblax Quux.", &mut vault)
        .unwrap();
    assert_eq!(out.text, "Hi, I'm <PERSON_1>. Please refund <PERSON_2>.");
    assert_eq!(
        vault.unmask("Refund issued to <PERSON_1>."),
        "Refund issued to Jane Doe."
    );
    assert_eq!(
        vault.unmask("Refund issued to <PERSON_2>."),
        "Refund issued to Zorblax Quux."
    );
}

// Review C: pseudonyms were 24 bits.

#[test]
fn pseudonyms_of_distinct_emails_do_not_collide_in_one_tenant() {
    let k = acme_key();
    let mut seen = std::collections::HashMap::new();
    for i in 0..20_000 {
        let email = format!("customer{i}@example.com");
        let p = k.pseudonym(&Kind::Email, &email);
        assert_eq!(p.len(), "<EMAIL_>".len() + 16, "{p}");
        if let Some(prev) = seen.insert(p.clone(), email.clone()) {
            panic!("{prev} and {email} share pseudonym {p} after {i} customers");
        }
    }
}

// Review C: partial masks showed the tail of a date of birth.

#[test]
fn partial_date_of_birth_reveals_no_part_of_the_date() {
    let m = masker(Strategy::Partial);
    let out = m.mask("Born 1984-03-12, needs a password reset.").unwrap();
    assert_eq!(out.report.total(), 1, "{}", out.text);
    assert_eq!(out.text, "Born ********, needs a password reset.");
    let out = m.mask("DOB: 12.03.1984").unwrap();
    assert!(!out.text.contains("1984"), "{}", out.text);
}

#[test]
fn partial_keeps_no_tail_where_the_tail_is_the_detail() {
    let m = masker(Strategy::Partial);
    for (text, hidden) in [
        ("server 192.168.100.23 is down", "0023"),
        ("SSN 123-45-6789 on file", "6789"),
        ("MAC 00:1A:2B:3C:4D:5E", "4D5E"),
    ] {
        let out = m.mask(text).unwrap();
        assert_eq!(out.report.total(), 1, "{text}: {}", out.text);
        assert!(!out.text.contains(hidden), "{}", out.text);
    }
    // Cards and phones keep their last four, as before.
    let out = m.mask(TICKET).unwrap();
    assert!(out.text.contains("************1111"), "{}", out.text);
}

// Review C: `apply` skipped findings out of order and copied them out.

#[test]
fn apply_masks_findings_given_out_of_order() {
    let m = masker(Strategy::Redact);
    let text = "a jane@example.com b 4111 1111 1111 1111";
    let mut f = Detector::new().detect(text);
    assert_eq!(f.len(), 2);
    f.reverse();
    let out = m.apply(text, &f, None).unwrap();
    assert_eq!(out.text, "a [EMAIL] b [CREDIT_CARD]");
    assert_eq!(out.report.total(), 2);
    assert!(out.report.entries[0].start < out.report.entries[1].start);
}

fn finding(kind: Kind, start: usize, end: usize) -> Finding {
    Finding {
        kind,
        start,
        end,
        score: 0.8,
        recognizer: "host".into(),
    }
}

#[test]
fn apply_masks_the_union_of_overlapping_findings() {
    let text = "ask Jane Doe-Smith now";
    // One kind: its strategy, over the union.
    let f = [finding(Kind::Person, 4, 12), finding(Kind::Person, 9, 18)];
    let out = masker(Strategy::Tokenize)
        .apply(text, &f, Some(&mut TokenVault::new()))
        .unwrap();
    assert_eq!(out.text, "ask <PERSON_1> now");
    assert_eq!(out.report.total(), 1);
    assert_eq!(
        (out.report.entries[0].start, out.report.entries[0].end),
        (4, 18)
    );
    // Two kinds: a partial mask would show one's tail as the other's; the
    // union is redacted, named by the widest.
    let text = "dob 1984-03-12 end";
    let f = [
        finding(Kind::custom("REF").unwrap(), 10, 14),
        finding(Kind::DateOfBirth, 4, 14),
    ];
    let out = masker(Strategy::Partial).apply(text, &f, None).unwrap();
    assert_eq!(out.text, "dob [DATE_OF_BIRTH] end");
    // A kept kind inside a redacted one is redacted with it.
    let policy = MaskPolicy::new(Strategy::Keep).with(Kind::Secret, Strategy::Redact);
    let m = Masker::new(Detector::new()).with_policy(policy).unwrap();
    let text = "k=hunter2secret";
    let f = [
        finding(Kind::Organization, 0, 9),
        finding(Kind::Secret, 2, 15),
    ];
    assert_eq!(m.apply(text, &f, None).unwrap().text, "[SECRET]");
}

#[test]
fn apply_masks_a_finding_past_the_end_to_the_end() {
    let m = masker(Strategy::Redact);
    let text = "call 020 7946 0958";
    let f = [finding(Kind::Phone, 5, 40), finding(Kind::Email, 3, 3)];
    let out = m.apply(text, &f, None).unwrap();
    assert_eq!(out.text, "call [PHONE]");
    assert_eq!(out.report.entries[0].end, text.len());
}

/// SECURITY.md's promise: a kind the policy masks never leaves in clear,
/// and `ORGANIZATION` is kept on purpose by every policy that does not
/// name it (most ticket organisations are the customer's own company).
#[test]
fn organisations_are_kept_unless_the_policy_names_them() {
    let text = "Invoice from Ng Plumbing Pty Ltd for the level 3 printer.";
    let firm = Detector::new()
        .detect(text)
        .into_iter()
        .find(|f| f.kind == Kind::Organization)
        .expect("the detector finds the organisation");
    let value = &text[firm.start..firm.end];
    for policy in [MaskPolicy::default(), MaskPolicy::new(Strategy::Redact)] {
        let kept = Masker::new(Detector::new()).with_policy(policy).unwrap();
        assert!(kept.mask(text).unwrap().text.contains(value));
    }
    let named = MaskPolicy::new(Strategy::Redact).with(Kind::Organization, Strategy::Redact);
    let masked = Masker::new(Detector::new())
        .with_policy(named)
        .unwrap()
        .mask(text)
        .unwrap();
    assert!(!masked.text.contains(value), "{:?}", masked.text);
    assert!(masked.text.contains("[ORGANIZATION]"), "{:?}", masked.text);
}

/// serde quotes a mistyped value whole; a configuration's known entities
/// are people's names and addresses.
#[test]
fn a_configurations_mistyped_value_is_not_quoted_whole() {
    let known = "Alice Ng, 14 Harbour St Wellington, ".repeat(8);
    let text = format!(r#"{{"version":1,"min_score":{known:?}}}"#);
    let err = custodia_mask::DetectorConfig::from_json(&text).unwrap_err();
    let shown = custodia_core::arbitrary::error_chain(&err);
    assert!(shown.contains("invalid type"), "{shown}");
    assert!(!shown.contains(&known[..120]), "{shown}");
}

/// `detect_stream` finds what `mask_stream` acts on, a finding kept by the
/// policy (an organisation) included.
#[test]
fn detect_stream_finds_the_kept_findings_too() {
    let masker = Masker::new(Detector::new());
    let text = b"Invoice from Kiwi Fibre Networks Ltd to jane@example.com";
    let found = masker.detect_stream(&text[..], None).unwrap();
    let kinds: Vec<&str> = found.iter().map(|f| f.kind.as_str()).collect();
    assert_eq!(kinds, ["ORGANIZATION", "EMAIL"]);
    let mut out = Vec::new();
    let report = masker.mask_stream(&text[..], &mut out, None, None).unwrap();
    assert_eq!(out, b"Invoice from Kiwi Fibre Networks Ltd to [EMAIL]");
    assert_eq!(report.entries.len(), 2);
    assert_eq!(report.entries[0].strategy, "keep");
}

/// `Masker::mask` refuses to tokenize without a vault only when there is
/// something to tokenize: a text with no such finding is masked, as its
/// docs say.
#[test]
fn mask_without_a_vault_fails_only_on_a_finding_to_tokenize() {
    let m = masker(Strategy::Tokenize);
    assert_eq!(
        m.mask("nothing personal here").unwrap().text,
        "nothing personal here"
    );
    assert!(matches!(
        m.mask("mail jane@example.com"),
        Err(custodia_mask::Error::InvalidStrategy { .. })
    ));
}
