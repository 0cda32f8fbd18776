//! New Zealand: the NHI number. The IRD number is a digit run
//! ([`super::number`]).

use super::Scanner;
use crate::checksum as ck;
use crate::kind::K;

impl Scanner<'_> {
    /// A national health index number: three letters, four characters,
    /// check character validated.
    #[inline(always)]
    pub(super) fn nz_nhi(&mut self, s: usize) -> Option<usize> {
        self.checked_token(s, 7, K::NzNhi, 0.4, ck::nz_nhi)
    }
}
