//! Ireland: Eircodes. Ireland has no regional kind here, so an Eircode is
//! a `POSTCODE`: named by a postcode word, or by its shape alone when its
//! routing key is one of the 139 Eircode publishes and its identifier
//! holds a letter (`in D08 VF8H`, `(H91 E2W4)`); inside an address it is
//! part of the `ADDRESS`.

use super::{Scanner, at, token_end};
use crate::kind::K;

/// Letters an Eircode uses (no B, G, I, J, L, M, O, Q, S, U or Z).
const LETTERS: &[u8] = b"ACDEFHKNPRTVWXY";

/// The routing keys (the first three characters) Eircode has issued since
/// 2015: Dublin's 22 districts and 117 post towns, sorted (the published
/// list; routing keys are facts, typed for Custodia).
const ROUTING_KEYS: [&[u8; 3]; 139] = [
    b"A41", b"A42", b"A45", b"A63", b"A67", b"A75", b"A81", b"A82", b"A83", b"A84", b"A85", b"A86",
    b"A91", b"A92", b"A94", b"A96", b"A98", b"C15", b"D01", b"D02", b"D03", b"D04", b"D05", b"D06",
    b"D07", b"D08", b"D09", b"D10", b"D11", b"D12", b"D13", b"D14", b"D15", b"D16", b"D17", b"D18",
    b"D20", b"D22", b"D24", b"D6W", b"E21", b"E25", b"E32", b"E34", b"E41", b"E45", b"E53", b"E91",
    b"F12", b"F23", b"F26", b"F28", b"F31", b"F35", b"F42", b"F45", b"F52", b"F56", b"F91", b"F92",
    b"F93", b"F94", b"H12", b"H14", b"H16", b"H18", b"H23", b"H53", b"H54", b"H62", b"H65", b"H71",
    b"H91", b"K32", b"K34", b"K36", b"K45", b"K56", b"K67", b"K78", b"N37", b"N39", b"N41", b"N91",
    b"P12", b"P14", b"P17", b"P24", b"P25", b"P31", b"P32", b"P36", b"P43", b"P47", b"P51", b"P56",
    b"P61", b"P67", b"P72", b"P75", b"P81", b"P85", b"R14", b"R21", b"R32", b"R35", b"R42", b"R45",
    b"R51", b"R56", b"R93", b"R95", b"T12", b"T23", b"T34", b"T45", b"T56", b"V14", b"V15", b"V23",
    b"V31", b"V35", b"V42", b"V92", b"V93", b"V94", b"V95", b"W12", b"W23", b"W34", b"W91", b"X35",
    b"X42", b"X91", b"Y14", b"Y21", b"Y25", b"Y34", b"Y35",
];

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
        let end = id + 4;
        if let Some(e) = self.postcode_shaped(s, end, None, 0.5) {
            return Some(e);
        }
        // By its shape alone: spaced as Eircode prints it, an issued
        // routing key, a letter in the identifier (not `D10 2024`), where
        // prose places something (`out in A94 F3K2`, `(H91 E2W4)`), not
        // where it names a ticket (`ticket D02 X285`). After a locality
        // (`Galway H91 E2W4`) or a comma it ends an address the entity
        // pass reads, or fails to: then it is no postcode standing alone.
        let issued = id == s + 4
            && b.get(s..s + 3)
                .is_some_and(|k| ROUTING_KEYS.binary_search_by(|r| r[..].cmp(k)).is_ok());
        if !(issued && unique.iter().any(u8::is_ascii_uppercase)) {
            return None;
        }
        if placed(b, s) {
            return Some(self.push_ctx(s, end, K::Postcode, 0.5));
        }
        self.entity.note_code(s, end);
        None
    }
}

/// Is `s` just after `(` or a preposition of place (`in`, `at`, `near`)?
fn placed(b: &[u8], s: usize) -> bool {
    if s > 0 && b[s - 1] == b'(' {
        return true;
    }
    let Some(head) = b[..s].strip_suffix(b" ") else {
        return false;
    };
    [
        &b"in"[..],
        b"at",
        b"to",
        b"near",
        b"from",
        b"around",
        b"outside",
    ]
    .iter()
    .any(|p| {
        head.ends_with(p)
            && head
                .len()
                .checked_sub(p.len() + 1)
                .is_none_or(|k| !head[k].is_ascii_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::ROUTING_KEYS;

    #[test]
    fn routing_keys_are_sorted_and_distinct() {
        assert!(ROUTING_KEYS.windows(2).all(|w| w[0] < w[1]));
    }
}
