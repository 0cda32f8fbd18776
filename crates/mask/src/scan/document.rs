//! Letter-led documents without a checksum (or a weak one) whose shapes
//! several countries share: US passports, licences and DEA numbers, UK and
//! Italian passports, Italian identity cards and driving licences. The
//! context words decide which one a shape is.

use super::{CONTEXT_BOOST, Scanner, at, token_end, words};
use crate::checksum as ck;
use crate::kind::K;

impl Scanner<'_> {
    /// Documents that start with letters and have no checksum (or a weak
    /// one): US passport and driver's licence, UK and Italian passports,
    /// Italian identity card and driving licence, US DEA numbers
    /// (`MEDICAL_LICENSE`). All but a checksum-valid DEA number need a
    /// context word, as in Presidio; the context also decides between kinds
    /// whose shapes coincide (two letters and seven digits is a UK or an
    /// Italian passport, a DEA number or a US licence).
    pub(super) fn letter_document(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        let run = |from: usize, f: fn(&u8) -> bool, max: usize| {
            b.get(from..)
                .unwrap_or(&[])
                .iter()
                .take(max + 1)
                .take_while(|c| f(c))
                .count()
        };
        let l = run(s, u8::is_ascii_uppercase, 2);
        if !(1..=2).contains(&l) {
            return None;
        }
        let nd = run(s + l, u8::is_ascii_digit, 14);
        let t = run(s + l + nd, u8::is_ascii_uppercase, 2);
        // Italian licence, second form: U1, seven of a restricted
        // alphabet, a letter.
        let it_u1 = b[s] == b'U'
            && at(b, s + 1) == b'1'
            && s + 10 <= b.len()
            && b[s + 2..s + 9]
                .iter()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase() && !b"AIOQV".contains(c))
            && at(b, s + 9).is_ascii_uppercase()
            && token_end(b, s + 10);
        let end = if it_u1 { s + 10 } else { s + l + nd + t };
        if !it_u1 && (!(3..=14).contains(&nd) || t > 2 || !token_end(b, end)) {
            return None;
        }
        let ctx = self.ctx(s);
        let on = self.on;
        let has = |k: K| on.has(k) && ctx.has(k.context());
        let passport = ctx.has(words!["passport", "passaporto", "passeport", "reisepass"]);
        let italian = ctx.has(words![
            "passaporto",
            "italian",
            "italiano",
            "italiana",
            "italia"
        ]);
        // `license key AB1234`, `license server LS12345`: software.
        let software = ctx.soft_licence();
        let hit = |k: K| Some((k, 0.2 + CONTEXT_BOOST));
        let (kind, score) = match (l, nd, t) {
            _ if it_u1 => hit(K::ItDriverLicense).filter(|_| has(K::ItDriverLicense))?,
            (2, 7, 1) if has(K::ItDriverLicense) => hit(K::ItDriverLicense)?,
            (2, 5, 2) if has(K::ItIdentityCard) => hit(K::ItIdentityCard)?,
            (2, 7, 0) => {
                let dea = on.has(K::MedicalLicense) && ck::us_dea(&b[s..end]);
                if dea && ctx.has(K::MedicalLicense.context()) {
                    (K::MedicalLicense, 0.4 + CONTEXT_BOOST)
                } else if passport && on.has(K::ItPassport) && (italian || !on.has(K::UkPassport)) {
                    (K::ItPassport, 0.2 + CONTEXT_BOOST)
                } else if passport && on.has(K::UkPassport) {
                    (K::UkPassport, 0.2 + CONTEXT_BOOST)
                } else if has(K::ItIdentityCard) {
                    (K::ItIdentityCard, 0.2 + CONTEXT_BOOST)
                } else if has(K::UsDriverLicense) && !software {
                    (K::UsDriverLicense, 0.2 + CONTEXT_BOOST)
                } else if dea {
                    (K::MedicalLicense, 0.4)
                } else {
                    return None;
                }
            }
            (1, 8, 0) if passport && on.has(K::UsPassport) => hit(K::UsPassport)?,
            (1, 8, 0) if on.has(K::MedicalLicense) && ck::us_dea(&b[s..end]) => (
                K::MedicalLicense,
                if ctx.has(K::MedicalLicense.context()) {
                    0.4 + CONTEXT_BOOST
                } else {
                    0.4
                },
            ),
            // Presidio's state shapes: a letter and 3–14 digits, two letters
            // and 3–7 digits, two letters, six digits and a letter, a letter,
            // six digits and `R`.
            (1, 3..=14, 0) | (2, 3..=7, 0) | (2, 6, 1) | (1, 6, 1)
                if has(K::UsDriverLicense) && !software =>
            {
                hit(K::UsDriverLicense)?
            }
            _ => return None,
        };
        Some(self.push(s, end, kind, score, kind.recognizer()))
    }
}
