//! United States: Medicare Beneficiary Identifiers and digit-led driver's
//! licences. SSN, ITIN, ABA routing, NPI, bank account numbers and plain
//! licence numbers are digit runs ([`super::number`]); passports, DEA
//! numbers and letter-led licences are letter-led documents
//! ([`super::document`]).

use super::number::Run;
use super::{Scanner, at, token_end};
use crate::checksum as ck;
use crate::kind::K;

impl Scanner<'_> {
    /// A US Medicare Beneficiary Identifier, plain (`1EG4TE5MK73`, context
    /// needed) or in its display form `1EG4-TE5-MK73`.
    pub(super) fn mbi(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        if !self.on.has(K::UsMbi) {
            return None;
        }
        let dashed = at(b, s + 4) == b'-' && at(b, s + 8) == b'-';
        let end = s + if dashed { 13 } else { 11 };
        if end > b.len() || !token_end(b, end) {
            return None;
        }
        let mut c = [0u8; 11];
        if dashed {
            c[..4].copy_from_slice(&b[s..s + 4]);
            c[4..7].copy_from_slice(&b[s + 5..s + 8]);
            c[7..].copy_from_slice(&b[s + 9..s + 13]);
        } else {
            c.copy_from_slice(&b[s..end]);
        }
        if !ck::us_mbi(&c) {
            return None;
        }
        Some(self.push_ctx(s, end, K::UsMbi, if dashed { 0.5 } else { 0.3 }))
    }

    /// US driver's licence shapes that start with digits and end or
    /// continue with letters (`123456789A`, `12345678AB`, `12ABC12345`,
    /// `123AB1234`), only with context.
    pub(super) fn digit_licence(&mut self, s: usize, run: &Run) -> Option<usize> {
        let b = self.b;
        if run.groups != 1 || !self.on.has(K::UsDriverLicense) {
            return None;
        }
        let letters = b[run.end..]
            .iter()
            .take(4)
            .take_while(|c| c.is_ascii_uppercase())
            .count();
        let tail = b[run.end + letters..]
            .iter()
            .take(7)
            .take_while(|c| c.is_ascii_digit())
            .count();
        let ok = matches!(
            (run.nd, letters, tail),
            (7..=9, 1, 0) | (8, 2, 0) | (2, 3, 5..=6) | (3, 2, 4)
        );
        let end = run.end + letters + tail;
        if !ok || !token_end(b, end) {
            return None;
        }
        let ctx = self.ctx(s);
        if !ctx.has(K::UsDriverLicense.context()) || ctx.soft_licence() {
            return None;
        }
        Some(self.push_boosted(s, end, K::UsDriverLicense, 0.2))
    }
}
