//! New Zealand: the NHI number. The IRD number is a digit run
//! ([`super::number`]).

use super::{Scanner, token_end};
use crate::checksum as ck;
use crate::kind::K;

impl Scanner<'_> {
    /// A national health index number: three letters, four characters,
    /// check character validated.
    #[inline(always)]
    pub(super) fn nz_nhi(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        let e = s + 7;
        if e > b.len() || !token_end(b, e) || !ck::nz_nhi(&b[s..e]) {
            return None;
        }
        Some(self.push_ctx(s, e, K::NzNhi, 0.4))
    }
}
