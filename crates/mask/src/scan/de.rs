//! Germany (Presidio's `country_specific/germany`): VAT id, commercial
//! register, KVNR, plates, Telematik-ID, pension insurance number and the
//! identity documents. The tax id, tax number, LANR, BSNR, pre-2010 identity
//! card and postcodes are digit runs ([`super::number`]).

use super::context::Context;
use super::number::Run;
use super::{Scanner, at, is_alnum, token_end, upper_digit_len16};
use crate::checksum as ck;
use crate::kind::K;

impl Scanner<'_> {
    /// German identifiers that start with capitals: the VAT id (`DE` and
    /// nine digits, MOD 11,10 check digit), the commercial register number
    /// (`HRB 12345`, optionally with its court), the health insurance
    /// number (KVNR: a letter and nine digits, check digit; context needed)
    /// and vehicle plates (`B-AB 1234`, `M AB 123E`, `HHAB12`; context
    /// needed).
    pub(super) fn de_upper(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        let on = self.on;
        let c1 = at(b, s + 1);
        let c2 = at(b, s + 2);
        if b[s] == b'D' && c1 == b'E' && on.has(K::DeVatCode) {
            // DE123456789 or DE 123 456 789.
            let mut d = [0u8; 9];
            let mut i = s + 2;
            let spaced = at(b, i) == b' ';
            let mut n = 0;
            for _ in 0..3 {
                if spaced {
                    if at(b, i) != b' ' {
                        return None;
                    }
                    i += 1;
                }
                for _ in 0..3 {
                    let c = at(b, i);
                    if !c.is_ascii_digit() {
                        return None;
                    }
                    d[n] = c - b'0';
                    n += 1;
                    i += 1;
                }
            }
            if token_end(b, i) && ck::de_vat(&d) {
                return Some(self.push_ctx(s, i, K::DeVatCode, if spaced { 0.65 } else { 0.6 }));
            }
            return None;
        }
        if b[s] == b'H'
            && c1 == b'R'
            && matches!(c2, b'A' | b'B')
            && on.has(K::DeCommercialRegister)
        {
            return self.de_register(s);
        }
        if on.has(K::DeKvnr) && (c1.is_ascii_digit() || c1 == b' ' && c2.is_ascii_digit()) {
            // A letter, then nine digits, optionally as ` 123 456 789`.
            let mut c = [0u8; 10];
            c[0] = b[s];
            let mut i = s + 1;
            let mut n = 1;
            for _ in 0..3 {
                if at(b, i) == b' ' && at(b, i + 1).is_ascii_digit() {
                    i += 1;
                }
                for _ in 0..3 {
                    let x = at(b, i);
                    if !x.is_ascii_digit() {
                        return None;
                    }
                    c[n] = x;
                    n += 1;
                    i += 1;
                }
            }
            let base = if i - s == 10 { 0.4 } else { 0.3 };
            if token_end(b, i)
                && ck::de_kvnr(&c)
                && let Some(e) = self.push_in_context(s, i, K::DeKvnr, base)
            {
                return Some(e);
            }
        }
        self.de_plate(s)
    }

    /// `HRA`/`HRB`, an optional space, 1–7 digits, an optional court letter
    /// (`HRB 123456 B`), then optionally `AG`/`Amtsgericht` and the court's
    /// name (one word, hyphenated parts and German letters allowed).
    fn de_register(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        let mut i = s + 3;
        if at(b, i) == b' ' {
            i += 1;
        }
        let ds = i;
        while at(b, i).is_ascii_digit() && i - ds < 8 {
            i += 1;
        }
        if !(1..=7).contains(&(i - ds)) {
            return None;
        }
        if at(b, i) == b' ' && at(b, i + 1).is_ascii_uppercase() && !is_alnum(at(b, i + 2)) {
            i += 2;
        }
        if !token_end(b, i) {
            return None;
        }
        let mut end = i;
        let mut base = 0.5;
        // ` AG München`, `, Amtsgericht Berlin-Charlottenburg`
        let mut j = i;
        if at(b, j) == b',' {
            j += 1;
        }
        if at(b, j) == b' ' {
            j += 1;
            let court = if b[j..].starts_with(b"AG ") {
                Some(j + 3)
            } else if b[j..].starts_with(b"Amtsgericht ") {
                Some(j + 12)
            } else {
                None
            };
            if let Some(w) = court
                && at(b, w).is_ascii_uppercase()
            {
                let mut e = w;
                loop {
                    let c = at(b, e);
                    if c.is_ascii_alphabetic() {
                        e += 1;
                    } else if c == 0xC3 && (0x80..=0xBF).contains(&at(b, e + 1)) {
                        // Latin-1 letters (ä, ö, ü, ß, …) in UTF-8.
                        e += 2;
                    } else if c == b'-' && at(b, e + 1).is_ascii_uppercase() && e - w < 60 {
                        e += 1;
                    } else {
                        break;
                    }
                    if e - w > 64 {
                        break;
                    }
                }
                if e - w >= 2 && !is_alnum(at(b, e)) {
                    end = e;
                    base = 0.6;
                }
            }
        }
        Some(self.push_ctx(s, end, K::DeCommercialRegister, base))
    }

    /// A German plate: district (1–3 letters, `Ä`/`Ö`/`Ü` allowed), a
    /// hyphen, a space or nothing, 1–2 letters, a space or not, 1–4 digits
    /// not starting with 0, an optional `E` (electric) or `H` (historic);
    /// at most eight characters. Always needs a context word.
    fn de_plate(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        if !self.on.has(K::DeLicensePlate) {
            return None;
        }
        let letters = |mut i: usize, max: usize| {
            let mut n = 0;
            while n < max {
                let c = at(b, i);
                if c.is_ascii_uppercase() {
                    i += 1;
                } else if c == 0xC3 && matches!(at(b, i + 1), 0x84 | 0x96 | 0x9C) {
                    i += 2;
                } else {
                    break;
                }
                n += 1;
            }
            (i, n)
        };
        let (i, nd) = letters(s, 3);
        if nd == 0 {
            return None;
        }
        let sep = at(b, i);
        let (j, nl, base) = match sep {
            b'-' | b' ' => {
                let (j, nl) = letters(i + 1, 2);
                if nl == 0 || at(b, j).is_ascii_uppercase() {
                    return None;
                }
                let (j, space) = if at(b, j) == b' ' {
                    (j + 1, true)
                } else {
                    (j, false)
                };
                if sep == b' ' && !space {
                    return None;
                }
                (j, nl, if sep == b'-' { 0.45 } else { 0.35 })
            }
            // Continuous: 2–5 letters in all, then the digits.
            _ => {
                let (j, n) = letters(s, 5);
                if !(2..=5).contains(&n) || !at(b, j).is_ascii_digit() {
                    return None;
                }
                (j, n - nd, 0.25)
            }
        };
        if !matches!(at(b, j), b'1'..=b'9') {
            return None;
        }
        let mut e = j;
        while at(b, e).is_ascii_digit() && e - j < 5 {
            e += 1;
        }
        let ndig = e - j;
        if ndig > 4 {
            return None;
        }
        let mut total = nd + nl + ndig;
        if matches!(at(b, e), b'E' | b'H') {
            e += 1;
            total += 1;
        }
        if total > 8 || !token_end(b, e) {
            return None;
        }
        self.push_in_context(s, e, K::DeLicensePlate, base)
    }

    /// A Telematik-ID: `1-`, `10-`, `11-`, `9-` or `5-2-`, then 5–125 of
    /// `A-Z0-9.` with at least one digit; context needed (no checksum).
    pub(super) fn telematik(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        if !self.on.has(K::DeTelematikId) {
            return None;
        }
        let body = match (b[s], at(b, s + 1), at(b, s + 2), at(b, s + 3)) {
            (b'5', b'-', b'2', b'-') => s + 4,
            (b'1' | b'9', b'-', _, _) => s + 2,
            (b'1', b'0' | b'1', b'-', _) => s + 3,
            _ => return None,
        };
        let mut e = body;
        while (at(b, e).is_ascii_uppercase() || at(b, e).is_ascii_digit() || at(b, e) == b'.')
            && e - body <= 125
        {
            e += 1;
        }
        while e > body && b[e - 1] == b'.' {
            e -= 1;
        }
        if !(5..=125).contains(&(e - body))
            || !b[body..e].iter().any(u8::is_ascii_digit)
            || !token_end(b, e)
            || at(b, e) == b'-'
        {
            return None;
        }
        let base = if b[s] == b'5' { 0.3 } else { 0.4 };
        self.push_in_context(s, e, K::DeTelematikId, base)
    }

    /// A German pension insurance number: `15070649C103`, or as printed on
    /// the card, `15 070649 C 103`; check digit and birth date validated.
    pub(super) fn de_social_security(&mut self, s: usize, run: &Run) -> Option<usize> {
        let b = self.b;
        if !self.on.has(K::DeSocialSecurity) {
            return None;
        }
        let spaced = run.groups == 2 && run.shape() == [2, 6] && run.all_sep(b' ');
        if !(spaced || run.groups == 1 && run.nd == 8) {
            return None;
        }
        let mut c = [0u8; 12];
        for (x, &v) in c.iter_mut().zip(run.digits()) {
            *x = v + b'0';
        }
        let mut i = run.end;
        if spaced {
            if at(b, i) != b' ' {
                return None;
            }
            i += 1;
        }
        c[8] = at(b, i);
        i += 1;
        if spaced {
            if at(b, i) != b' ' {
                return None;
            }
            i += 1;
        }
        for k in 0..3 {
            c[9 + k] = at(b, i + k);
        }
        let e = i + 3;
        if !token_end(b, e) || !ck::de_social_security(&c) {
            return None;
        }
        Some(self.push_ctx(s, e, K::DeSocialSecurity, 0.6))
    }

    /// German documents (Presidio's `country_specific/germany`): identity
    /// card and passport serials (nine characters of the ICAO alphabet,
    /// the passport's ninth an ICAO 7-3-1 check digit), the identity card
    /// number with its check digit (ten characters, `DE_PERSONAL_ID`) and
    /// driving licences (8–15 letters and digits, both present, letter- or
    /// digit-led, also printed in space-separated groups such as
    /// `B072 RRE2I 55`). None has a checksum strong enough alone, so all
    /// need a context word.
    pub(super) fn de_document(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        let on = self.on;
        if !(on.has(K::DeIdCard)
            || on.has(K::DePassport)
            || on.has(K::DeDriverLicense)
            || on.has(K::DePersonalId))
        {
            return None;
        }
        let group = |from: usize| upper_digit_len16(b, from);
        let n = group(s);
        // Most tokens stop here: too long, or short and not followed by
        // another group.
        if n > 15 || n < 8 && (n < 3 || at(b, s + n) != b' ') {
            return None;
        }
        // Space-separated groups (licences only), at most 15 characters.
        let mut end = s + n;
        let mut total = n;
        let mut groups = 1;
        let spaced_ok = n >= 3 && b[s..s + n].iter().any(u8::is_ascii_digit);
        while n < 8 && spaced_ok && at(b, end) == b' ' && groups < 4 {
            let g = group(end + 1);
            if g < 2 || total + g > 15 {
                break;
            }
            end += 1 + g;
            total += g;
            groups += 1;
        }
        if !(8..=15).contains(&total) {
            return None;
        }
        let single = token_end(b, s + n) && (8..=15).contains(&n);
        if !single && !token_end(b, end) {
            return None;
        }
        let tok = &b[s..s + n];
        // All have a digit and a letter; all-capital words and plain
        // numbers stop here, before the context is read.
        let span = &b[s..end];
        if !span.iter().any(u8::is_ascii_digit) || !span.iter().any(u8::is_ascii_uppercase) {
            return None;
        }
        // Each kind's words asked of the text as they come (most tokens
        // ask one kind's, the licence's): no context built.
        let has = |words| Context::has_before(b, s, words);
        if single {
            if n == 9
                && on.has(K::DePassport)
                && ck::de_passport(tok)
                && has(K::DePassport.context())
            {
                return Some(self.push_boosted(s, s + n, K::DePassport, 0.4));
            }
            if n == 9 && on.has(K::DeIdCard) && ck::de_id_card(tok) && has(K::DeIdCard.context()) {
                return Some(self.push_boosted(s, s + n, K::DeIdCard, 0.2));
            }
            if n == 10
                && on.has(K::DePersonalId)
                && ck::de_personal_id(tok)
                && has(K::DePersonalId.context())
            {
                return Some(self.push_boosted(s, s + n, K::DePersonalId, 0.3));
            }
        }
        if on.has(K::DeDriverLicense) && has(K::DeDriverLicense.context()) {
            // The longest form: groups when they follow, else the token.
            let e = if groups > 1 && token_end(b, end) {
                end
            } else {
                s + n
            };
            if (8..=15).contains(&(e - s - (groups - 1) * usize::from(e == end))) {
                return Some(self.push_boosted(s, e, K::DeDriverLicense, 0.2));
            }
        }
        None
    }
}
