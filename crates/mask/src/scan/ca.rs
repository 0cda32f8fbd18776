//! Canada: postal codes. The SIN is a digit run ([`super::number`]).

use super::{Scanner, at, token_end};
use crate::kind::K;

/// Canada Post's province and territory symbols.
const PROVINCES: [&[u8]; 13] = [
    b"AB", b"BC", b"MB", b"NB", b"NL", b"NS", b"NT", b"NU", b"ON", b"PE", b"QC", b"SK", b"YT",
];

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
            // `Moncton, NB E1C 4M9`: after a province, as an Australian
            // code after its state, the code alone is a `POSTCODE`.
            if self.on.has(K::Postcode) && after_province(b, s) {
                return Some(self.push_boosted(s, s + 6 + o, K::Postcode, super::POSTCODE_BASE));
            }
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

/// Is the code at `s` just after a province's symbol (`NS B3J 3K1`)?
/// Not after `(Québec)`: written so, the code ends a whole address block,
/// which the address reader takes or leaves as a whole.
fn after_province(b: &[u8], s: usize) -> bool {
    super::after_symbol(b, s, &PROVINCES)
}
