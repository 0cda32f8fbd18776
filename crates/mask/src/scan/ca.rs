//! Canada: postal codes. The SIN is a digit run ([`super::number`]).

use super::{Scanner, at, token_end};
use crate::kind::K;

impl Scanner<'_> {
    /// `A1A 1A1` with the letters Canada Post uses.
    #[inline(always)]
    pub(super) fn ca_postal_code(&mut self, s: usize) -> Option<usize> {
        const FIRST: &[u8] = b"ABCEGHJKLMNPRSTVXY";
        const OTHER: &[u8] = b"ABCEGHJKLMNPRSTVWXYZ";
        let b = self.b;
        let spaced = at(b, s + 3) == b' ';
        let o = usize::from(spaced);
        if FIRST.contains(&b[s])
            && at(b, s + 1).is_ascii_digit()
            && OTHER.contains(&at(b, s + 2))
            && at(b, s + 3 + o).is_ascii_digit()
            && OTHER.contains(&at(b, s + 4 + o))
            && at(b, s + 5 + o).is_ascii_digit()
            && token_end(b, s + 6 + o)
        {
            return self.postcode_shaped(
                s,
                s + 6 + o,
                Some(K::CaPostalCode),
                if spaced { 0.5 } else { 0.3 },
            );
        }
        None
    }
}
