//! United Kingdom: national insurance number, driving licence, vehicle
//! registrations and postcodes. The NHS number is a digit run
//! ([`super::number`]); passports are letter-led documents
//! ([`super::document`]).

use super::{Scanner, at, token_end};
use crate::checksum as ck;
use crate::kind::K;

impl Scanner<'_> {
    /// A national insurance number: an HMRC prefix, six digits (or three
    /// spaced pairs), a suffix A–D.
    pub(super) fn nino(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        if !ck::uk_nino_prefix(b[s], b[s + 1]) {
            return None;
        }
        let mut i = s + 2;
        let spaced = at(b, i) == b' ';
        for _ in 0..3 {
            if spaced {
                if at(b, i) != b' ' {
                    return None;
                }
                i += 1;
            }
            if !at(b, i).is_ascii_digit() || !at(b, i + 1).is_ascii_digit() {
                return None;
            }
            i += 2;
        }
        if spaced && at(b, i) == b' '
            || !spaced && at(b, i) == b' ' && matches!(at(b, i + 1), b'A'..=b'D')
        {
            i += 1;
        }
        if !matches!(at(b, i), b'A'..=b'D') || !token_end(b, i + 1) {
            return None;
        }
        Some(self.push_ctx(s, i + 1, K::UkNino, 0.6))
    }

    /// A UK vehicle registration in the current (2001+) format, `AB51 ABC`:
    /// two area letters, an age identifier (02–29 or 51–79), three letters;
    /// only with a context word (`car`, `reg`, `vehicle`, …).
    pub(super) fn uk_vehicle(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        // `[u8]::contains` calls `memchr`: ranges compile inline.
        let area = |c: u8| matches!(c, b'A'..=b'Y') && !matches!(c, b'I' | b'Q');
        let random = |c: u8| c.is_ascii_uppercase() && !matches!(c, b'I' | b'Q');
        let (d1, d2) = (at(b, s + 2), at(b, s + 3));
        // The dispatch checked both are digits; a `- b'0'` must not rely on it.
        if !d1.is_ascii_digit() || !d2.is_ascii_digit() {
            return None;
        }
        let age = u32::from(d1 - b'0') * 10 + u32::from(d2 - b'0');
        let o = usize::from(matches!(at(b, s + 4), b' ' | b'-'));
        let end = s + 7 + o;
        let ok = area(b[s])
            && area(at(b, s + 1))
            && (matches!(age, 2..=29 | 51..=79))
            && (0..3).all(|k| random(at(b, s + 4 + o + k)))
            && token_end(b, end);
        if !ok {
            return None;
        }
        // Plates look like many other codes: context decides.
        self.push_in_context(s, end, K::UkVehicleRegistration, 0.3)
    }

    /// UK registrations of the older formats, only with a context word:
    /// prefix (1983–2001, `A123 BCD`: age letter, 1–3 digits, three
    /// letters) and suffix (1963–1983, `ABC 123D`: three letters, 1–3
    /// digits, age letter). Age letters exclude I, O, Q, U and Z; the
    /// three-letter groups exclude I, Q and Z.
    pub(super) fn uk_vehicle_old(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        if !self.on.has(K::UkVehicleRegistration) {
            return None;
        }
        let age = |c: u8| matches!(c, b'A'..=b'Y') && !matches!(c, b'I' | b'O' | b'Q' | b'U');
        let group = |i: usize| {
            (0..3).all(|k| {
                let c = at(b, i + k);
                c.is_ascii_uppercase() && !matches!(c, b'I' | b'Q' | b'Z')
            })
        };
        let digits = |i: usize| {
            let n = b[i.min(b.len())..]
                .iter()
                .take(4)
                .take_while(|c| c.is_ascii_digit())
                .count();
            (matches!(n, 1..=3) && at(b, i) != b'0').then_some(n)
        };
        let end = if at(b, s + 1).is_ascii_digit() {
            // Prefix: A123 BCD
            if !age(b[s]) {
                return None;
            }
            let n = digits(s + 1)?;
            let mut i = s + 1 + n;
            if at(b, i) == b' ' {
                i += 1;
            }
            if !group(i) {
                return None;
            }
            i + 3
        } else {
            // Suffix: ABC 123D
            if !group(s) {
                return None;
            }
            let mut i = s + 3;
            if at(b, i) == b' ' {
                i += 1;
            }
            let n = digits(i)?;
            i += n;
            if !age(at(b, i)) {
                return None;
            }
            i + 1
        };
        if !token_end(b, end) {
            return None;
        }
        // Plates look like many other codes: context decides.
        self.push_in_context(s, end, K::UkVehicleRegistration, 0.3)
    }

    /// A UK postcode: outward code `A9`, `A99`, `AA9`, `AA99`, `A9A` or
    /// `AA9A`, then the inward code `9AA` (without C, I, K, M, O, V).
    pub(super) fn uk_postcode(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        let mut i = s + 1;
        if at(b, i).is_ascii_uppercase() {
            i += 1;
        }
        if !at(b, i).is_ascii_digit() {
            return None;
        }
        i += 1;
        let try_inward = |j: usize| -> Option<(usize, bool)> {
            let spaced = at(b, j) == b' ';
            let k = j + usize::from(spaced);
            if at(b, k).is_ascii_digit()
                && at(b, k + 1).is_ascii_uppercase()
                && at(b, k + 2).is_ascii_uppercase()
                && !matches!(at(b, k + 1), b'C' | b'I' | b'K' | b'M' | b'O' | b'V')
                && !matches!(at(b, k + 2), b'C' | b'I' | b'K' | b'M' | b'O' | b'V')
                && token_end(b, k + 3)
            {
                Some((k + 3, spaced))
            } else {
                None
            }
        };
        // The outward code's third character counts only if an inward code
        // follows it.
        let mut found = try_inward(i);
        if found.is_none() && (at(b, i).is_ascii_digit() || at(b, i).is_ascii_uppercase()) {
            found = try_inward(i + 1);
        }
        let (e, spaced) = found?;
        let end = self.postcode_shaped(s, e, Some(K::UkPostcode), if spaced { 0.5 } else { 0.3 });
        // After a locality (`Manchester M17 1RX`): an estate's unit may
        // open the address it ends (see `entity::Pass::note_code`).
        if end.is_some() && spaced && s >= 2 && b[s - 1] == b' ' && b[s - 2].is_ascii_alphabetic() {
            self.entity.note_code(s, e);
        }
        end
    }

    /// A UK (DVLA) driving licence: 16 characters, structure checked.
    #[inline(always)]
    pub(super) fn uk_driving_licence(&mut self, s: usize) -> Option<usize> {
        self.checked_token(s, 16, K::UkDrivingLicence, 0.5, ck::uk_driving_licence)
    }
}

#[cfg(test)]
mod tests {
    /// The letter sets of the plate matchers, as the DVLA lists them.
    #[test]
    fn plate_letter_sets() {
        let set = |f: &dyn Fn(u8) -> bool| (0..=255u8).filter(|&c| f(c)).collect::<Vec<u8>>();
        let area = |c: u8| matches!(c, b'A'..=b'Y') && !matches!(c, b'I' | b'Q');
        let random = |c: u8| c.is_ascii_uppercase() && !matches!(c, b'I' | b'Q');
        let age = |c: u8| matches!(c, b'A'..=b'Y') && !matches!(c, b'I' | b'O' | b'Q' | b'U');
        assert_eq!(set(&area), b"ABCDEFGHJKLMNOPRSTUVWXY");
        assert_eq!(set(&random), b"ABCDEFGHJKLMNOPRSTUVWXYZ");
        assert_eq!(set(&age), b"ABCDEFGHJKLMNPRSTVWXY");
    }
}
