//! Payment and bank data: IBANs. Card numbers, US routing and account
//! numbers are digit runs ([`super::number`]).

use super::{Scanner, at, is_alnum, token_end};
use crate::checksum as ck;
use crate::kind::K;

impl Scanner<'_> {
    /// An IBAN: country code, check digits and the country's length of
    /// letters and digits (optionally in groups of four), mod 97.
    pub(super) fn iban(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        let len = ck::iban_length([b[s], b[s + 1]])?;
        let mut chars = [0u8; 34];
        let mut n = 0;
        let mut i = s;
        let mut group = 0;
        while n < len {
            let c = at(b, i);
            if is_alnum(c) {
                chars[n] = c.to_ascii_uppercase();
                n += 1;
                group += 1;
                i += 1;
            } else if c == b' ' && group == 4 && is_alnum(at(b, i + 1)) {
                group = 0;
                i += 1;
            } else {
                return None;
            }
        }
        if !token_end(b, i) || !ck::iban(&chars[..n]) {
            return None;
        }
        Some(self.push_ctx(s, i, K::Iban, 0.9))
    }
}
