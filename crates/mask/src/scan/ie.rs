//! Ireland: Eircodes. Ireland has no regional kind here, so an Eircode is
//! found only as a `POSTCODE` named by a postcode word; inside an address
//! it is part of the `ADDRESS`.

use super::{Scanner, at, token_end};

/// Letters an Eircode uses (no B, G, I, J, L, M, O, Q, S, U or Z).
const LETTERS: &[u8] = b"ACDEFHKNPRTVWXY";

fn eircode_char(c: u8) -> bool {
    c.is_ascii_digit() || LETTERS.contains(&c)
}

impl Scanner<'_> {
    /// `D02 X285`, `T12PX27`, `D6W Y2K8`: a routing key (a letter and two
    /// digits, or `D6W`) and a four-character unique identifier.
    pub(super) fn eircode(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        let key = (LETTERS.contains(&b[s])
            && at(b, s + 1).is_ascii_digit()
            && at(b, s + 2).is_ascii_digit())
            || b.get(s..s + 3) == Some(b"D6W");
        if !key {
            return None;
        }
        let id = s + 3 + usize::from(at(b, s + 3) == b' ');
        let unique = b.get(id..id + 4)?;
        if !unique.iter().all(|&c| eircode_char(c)) || !token_end(b, id + 4) {
            return None;
        }
        self.postcode_shaped(s, id + 4, None, 0.5)
    }
}
