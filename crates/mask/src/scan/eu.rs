//! EU countries other than Germany whose identifiers start with letters or
//! carry them: Finnish HETU, Spanish NIE and passport, Italian fiscal
//! code. Their all-digit numbers (NL BSN, PL PESEL, SE personnummer, FR
//! INSEE, IT VAT) and the Spanish NIF are digit runs ([`super::number`]);
//! Italian documents are letter-led documents ([`super::document`]).

use super::{Scanner, token_end};
use crate::checksum as ck;
use crate::kind::K;

impl Scanner<'_> {
    /// A Finnish HETU: six date digits, the century sign, three digits and
    /// the mod-31 check character.
    pub(super) fn hetu(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        if s + 11 > b.len()
            || !matches!(b[s + 6], b'+' | b'-' | b'A'..=b'F' | b'U'..=b'Y')
            || !token_end(b, s + 11)
        {
            return None;
        }
        let c = &b[s..s + 11];
        if !ck::fi_hetu(c) {
            return None;
        }
        Some(self.push_ctx(s, s + 11, K::FiHetu, 0.65))
    }

    /// A Spanish NIE: `X`, `Y` or `Z`, seven digits, the mod-23 letter.
    #[inline(always)]
    pub(super) fn es_nie(&mut self, s: usize) -> Option<usize> {
        self.checked_token(s, 9, K::EsNie, 0.6, ck::es_nie)
    }

    /// A Spanish passport: three letters and six digits (the dispatch saw
    /// the letters); no checksum, so context decides.
    #[inline(always)]
    pub(super) fn es_passport(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        let e = s + 9;
        if e > b.len() || !b[s + 3..e].iter().all(u8::is_ascii_digit) || !token_end(b, e) {
            return None;
        }
        self.push_in_context(s, e, K::EsPassport, 0.2)
    }

    /// An Italian fiscal code: 16 characters, check character validated.
    #[inline(always)]
    pub(super) fn it_fiscal_code(&mut self, s: usize) -> Option<usize> {
        self.checked_token(s, 16, K::ItFiscalCode, 0.7, ck::it_fiscal_code)
    }
}
