//! Proptest strategies for the mask types (feature `proptest`).
//!
//! [`Kind`], [`Strategy`](crate::Strategy) and [`Regions`] implement
//! [`Arbitrary`]; [`pii_value`] generates valid personal data of several
//! kinds (Luhn-valid cards, well-formed emails, valid SSNs with context,
//! E.164 phones) and [`ticket`] embeds them in filler text, for suites that
//! check masking end to end.

use proptest::prelude::*;

use crate::{Kind, Regions, Strategy as MaskStrategy};

impl Arbitrary for Kind {
    type Parameters = ();
    type Strategy = BoxedStrategy<Kind>;

    fn arbitrary_with((): ()) -> Self::Strategy {
        prop_oneof![
            4 => proptest::sample::select(Kind::BUILTIN.to_vec()),
            1 => "[A-Z][A-Z0-9_]{0,20}".prop_map(|s| Kind::custom(&s).unwrap_or(Kind::Person)),
        ]
        .boxed()
    }
}

impl Arbitrary for MaskStrategy {
    type Parameters = ();
    type Strategy = BoxedStrategy<MaskStrategy>;

    fn arbitrary_with((): ()) -> Self::Strategy {
        prop_oneof![
            Just(MaskStrategy::Redact),
            "[a-z*#]{0,8}".prop_map(MaskStrategy::Replace),
            Just(MaskStrategy::Partial),
            Just(MaskStrategy::Pseudonym),
            Just(MaskStrategy::Tokenize),
            Just(MaskStrategy::Encrypt),
            Just(MaskStrategy::Keep),
        ]
        .boxed()
    }
}

impl Arbitrary for Regions {
    type Parameters = ();
    type Strategy = BoxedStrategy<Regions>;

    fn arbitrary_with((): ()) -> Self::Strategy {
        (0u8..128)
            .prop_map(|bits| {
                [
                    Regions::US,
                    Regions::UK,
                    Regions::AU,
                    Regions::CA,
                    Regions::NZ,
                    Regions::EU,
                    Regions::DE,
                ]
                .iter()
                .enumerate()
                .filter(|(i, _)| bits & (1 << i) != 0)
                .fold(Regions::NONE, |acc, (_, r)| acc.union(*r))
            })
            .boxed()
    }
}

fn luhn_complete(mut digits: Vec<u8>) -> Vec<u8> {
    for check in 0..10 {
        digits.push(check);
        if crate::checksum::luhn(&digits) {
            return digits;
        }
        digits.pop();
    }
    digits
}

/// A valid value and the text to embed (the value, possibly after a context
/// word), with its kind.
pub fn pii_value() -> impl Strategy<Value = (Kind, String, String)> {
    let email = (
        "[a-z][a-z0-9]{2,10}",
        "[a-z]{3,8}",
        proptest::sample::select(vec!["com", "org", "net", "io"]),
    )
        .prop_map(|(u, d, t)| {
            let v = format!("{u}@{d}.{t}");
            (Kind::Email, v.clone(), v)
        });
    let card =
        (proptest::collection::vec(0u8..10, 14), any::<bool>()).prop_map(|(mut body, spaced)| {
            body.insert(0, 4);
            let d = luhn_complete(body);
            let s: String = d.iter().map(|x| char::from(b'0' + x)).collect();
            let v = if spaced {
                format!("{} {} {} {}", &s[..4], &s[4..8], &s[8..12], &s[12..])
            } else {
                s
            };
            (Kind::CreditCard, v.clone(), format!("card {v}"))
        });
    let ssn = (1u32..900, 1u32..100, 1u32..10000)
        .prop_filter("valid area", |(a, _, _)| *a != 666)
        .prop_map(|(a, g, s)| {
            let v = format!("{a:03}-{g:02}-{s:04}");
            (Kind::UsSsn, v.clone(), format!("SSN {v}"))
        });
    let phone = (10u32..99, 1000u32..9999, 1000u32..9999).prop_map(|(a, b, c)| {
        let v = format!("+44 {a} {b} {c}");
        (Kind::Phone, v.clone(), format!("phone {v}"))
    });
    prop_oneof![email, card, ssn, phone]
}

/// Filler words with valid personal data embedded; returns the text and the
/// embedded values.
pub fn ticket() -> impl Strategy<Value = (String, Vec<(Kind, String)>)> {
    proptest::collection::vec(("[a-z]{1,8}( [a-z]{1,8}){0,4}", pii_value()), 0..6).prop_map(
        |parts| {
            let mut text = String::new();
            let mut values = Vec::new();
            for (filler, (kind, value, shown)) in parts {
                text.push_str(&filler);
                text.push_str(". ");
                text.push_str(&shown);
                text.push_str(" and ");
                values.push((kind, value));
            }
            text.push_str("thanks");
            (text, values)
        },
    )
}
