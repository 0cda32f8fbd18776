//! Contact and network data: email addresses, phone numbers, IPv6 and MAC
//! addresses. IPv4 addresses are digit runs ([`super::number`]).

use super::number::Run;
use super::{
    HIGH_BITS, Scanner, alnum_bytes, at, byte_table, flag_bits, is_alnum, is_hex, token_end,
    word_at, zero_bytes,
};
use crate::kind::K;

/// Byte sets of an email address, one load a byte where `is_alnum` and a
/// `matches!` were a branch each (the letters and the dots of an address
/// alternate, which the predictor misses).
const LOCAL: u8 = 1;
const LABEL: u8 = 2;
static EMAIL_BYTES: [u8; 256] =
    byte_table(LOCAL | LABEL, &[(b"._%+'", LOCAL), (b"-", LOCAL | LABEL)]);

/// The number of bytes of an email's local part (letters, digits,
/// `._%+'-`) just before `i`, at most `max` (at most `i`), sixteen a
/// test: the byte loop cost a dozen instructions a byte, 140 an address
/// on the ticket corpus.
fn local_len_before(b: &[u8], i: usize, max: usize) -> usize {
    let mut n = 0;
    while n < max
        && let Some(chunk) = i.checked_sub(n + 16).and_then(|k| b.get(k..k + 16))
    {
        let mut w = [0u8; 16];
        w.copy_from_slice(chunk);
        // Bit k clear where byte k is no local part's; the highest such
        // bit is the nearest to `i - n`.
        let other = !flag_bits(local_bytes(&w)) & 0xFFFF;
        if other != 0 {
            return (n + other.leading_zeros() as usize - 16).min(max);
        }
        n += 16;
    }
    // (Within 16 bytes of the text's start.)
    while n < max && EMAIL_BYTES[b[i - n - 1] as usize] & LOCAL != 0 {
        n += 1;
    }
    n.min(max)
}

/// Byte k is 1 where byte k of `w` may be in an email's local part (its
/// [`EMAIL_BYTES`] has `LOCAL`), else 0: comparisons, vectorised, as in
/// `super::triggers`.
#[inline(always)]
fn local_bytes(w: &[u8; 16]) -> u128 {
    let mut t = [0u8; 16];
    for (x, &c) in t.iter_mut().zip(w) {
        let letter = (c | 0x20).wrapping_sub(b'a') < 26;
        let digit = c.wrapping_sub(b'0') < 10;
        let sign =
            (c == b'.') | (c == b'_') | (c == b'%') | (c == b'+') | (c == b'\'') | (c == b'-');
        *x = u8::from(letter | digit | sign);
    }
    u128::from_le_bytes(t)
}

/// The length of the domain label (letters, digits, `-`) at `i`, at most
/// 63, eight bytes a test (a byte loop cost a dozen instructions a byte).
#[inline(always)]
fn label_len(b: &[u8], i: usize) -> usize {
    const MAX: usize = 63;
    let mut n = 0;
    while n < MAX {
        let v = word_at(b, i + n);
        // (Past the text's end `word_at` reads zeros, no label's bytes.)
        let other = !(alnum_bytes(v) | zero_bytes(v ^ 0x2D2D_2D2D_2D2D_2D2D)) & HIGH_BITS;
        if other != 0 {
            return (n + (other.trailing_zeros() / 8) as usize).min(MAX);
        }
        n += 8;
    }
    MAX
}

impl Scanner<'_> {
    /// An email address around the `@` at `i` (or URL credentials before
    /// it).
    // (Out of line: inlined into the scan loop with its look-ups, it
    // cost PII-free prose 0.1%.)
    #[inline(never)]
    pub(super) fn at_sign(&mut self, i: usize) -> Option<usize> {
        let b = self.b;
        // Local part, looking back (bounded, never before the last finding).
        let mut ls = i - local_len_before(b, i, i.saturating_sub(self.floor).min(64));
        while ls < i && matches!(b[ls], b'.' | b'-' | b'+' | b'\'') {
            ls += 1;
        }
        if ls == i || b[i - 1] == b'.' {
            return None;
        }
        if self.on.has(K::Secret)
            && let Some(e) = self.url_credentials(ls, i)
        {
            return Some(e);
        }
        if !self.on.has(K::Email) {
            return None;
        }
        // The look-back stopped at its 64-byte bound inside a longer local part.
        if ls > 0 && is_alnum(b[ls - 1]) && ls + 64 == i {
            return None;
        }
        // Domain: labels of [A-Za-z0-9-], dot separated, TLD of letters.
        let mut e = i + 1;
        let mut labels = 0;
        let mut end = 0;
        loop {
            let st = e;
            e += label_len(b, e);
            if e == st || b[st] == b'-' || b[e - 1] == b'-' {
                break;
            }
            labels += 1;
            let last_label_alpha = e - st >= 2 && b[st..e].iter().all(u8::is_ascii_alphabetic);
            if labels >= 2 && last_label_alpha {
                end = e;
            }
            if at(b, e) == b'.' && is_alnum(at(b, e + 1)) && e - i < 255 {
                e += 1;
            } else {
                break;
            }
        }
        if end == 0 || is_alnum(at(b, end)) || at(b, end) == b'@' {
            return None;
        }
        Some(self.push(ls, end, K::Email, 0.9, K::Email.recognizer()))
    }

    /// A phone from a `+` or `(` trigger.
    pub(super) fn phone_at(&mut self, s: usize) -> Option<usize> {
        let (e, base) = phone(self.b, s)?;
        Some(self.push_ctx(s, e, K::Phone, base))
    }

    pub(super) fn mac(&mut self, s: usize) -> Option<usize> {
        if !self.on.has(K::MacAddress) {
            return None;
        }
        let b = self.b;
        let sep = at(b, s + 2);
        if sep != b':' && sep != b'-' {
            return None;
        }
        for g in 0..6 {
            let p = s + g * 3;
            if !is_hex(at(b, p)) || !is_hex(at(b, p + 1)) {
                return None;
            }
            if g < 5 && at(b, p + 2) != sep {
                return None;
            }
        }
        let e = s + 17;
        if !token_end(b, e) || at(b, e) == sep && is_hex(at(b, e + 1)) {
            return None;
        }
        Some(self.push_ctx(s, e, K::MacAddress, 0.7))
    }

    pub(super) fn ipv6(&mut self, s: usize) -> Option<usize> {
        if !self.on.has(K::IpAddress) {
            return None;
        }
        let e = ipv6_end(self.b, s)?;
        Some(self.push_ctx(s, e, K::IpAddress, 0.75))
    }
}

/// The end of the IPv6 address at `s` (groups of hex digits, at most one
/// `::`, perhaps an IPv4 tail), as `std::net::Ipv6Addr` would parse it
/// from there to that end.
fn ipv6_end(b: &[u8], s: usize) -> Option<usize> {
    let (e, groups, double, v4) = ipv6_walk(b, s)?;
    if groups > 8 || (!double && groups != 8) || groups == 0 || !token_end(b, e) {
        return None;
    }
    if v4 {
        // (Rare: std's parser checks the IPv4 tail's octets.)
        let text = std::str::from_utf8(&b[s..e]).ok()?;
        text.parse::<std::net::Ipv6Addr>().ok()?;
    } else if double && groups == 8 {
        // `::` stands for at least one group, so std's parser wants at
        // most seven others; else the walk's shape is what it accepts
        // (calling it per address cost 0.7 instructions a byte on tickets).
        return None;
    }
    Some(e)
}

/// Walks the hex groups at `s`: `(end, groups, has "::", IPv4 tail)`,
/// the tail counting as one more group (with the group it starts with,
/// two, as in std's parser).
fn ipv6_walk(b: &[u8], s: usize) -> Option<(usize, usize, bool, bool)> {
    let mut i = s;
    let mut groups = 0;
    let mut double = false;
    let mut last_group_start = s;
    loop {
        if at(b, i) == b':' && at(b, i + 1) == b':' {
            if double {
                return None;
            }
            double = true;
            i += 2;
            if !is_hex(at(b, i)) {
                break;
            }
            continue;
        }
        let st = i;
        while is_hex(at(b, i)) && i - st < 5 {
            i += 1;
        }
        let l = i - st;
        if l == 0 || l > 4 {
            if l == 0 && groups > 0 && !double {
                return None;
            }
            if l > 4 {
                return None;
            }
            break;
        }
        groups += 1;
        last_group_start = st;
        if at(b, i) == b':' && at(b, i + 1) != b':' && is_hex(at(b, i + 1)) {
            i += 1;
            continue;
        }
        if at(b, i) == b':' && at(b, i + 1) == b':' {
            continue;
        }
        break;
    }
    // Embedded IPv4 tail (`::ffff:10.0.0.1`).
    if at(b, i) == b'.'
        && let Some(run) = Run::parse(b, last_group_start)
        && run.groups == 4
        && run.all_sep(b'.')
    {
        return Some((run.end, groups + 1, double, true));
    }
    Some((i, groups, double, false))
}

/// A phone number starting at `s` (`+`, `(` or a digit): `(end, base score)`.
pub(super) fn phone(b: &[u8], s: usize) -> Option<(usize, f32)> {
    let mut i = s;
    let plus = at(b, i) == b'+';
    if plus {
        i += 1;
    }
    let mut digits = 0usize;
    let mut groups: [u8; 12] = [0; 12];
    let mut ng = 0usize;
    let mut sep_kinds = [false; 3];
    let mut paren = false;
    let mut end;
    let mut first_digit = 0u8;
    loop {
        let in_paren = at(b, i) == b'(';
        if in_paren {
            i += 1;
        }
        let ds = i;
        while at(b, i).is_ascii_digit() {
            if digits == 0 {
                first_digit = b[i];
            }
            digits += 1;
            i += 1;
            if digits > 15 {
                return None;
            }
        }
        if i == ds {
            return None;
        }
        if in_paren {
            if at(b, i) != b')' || i - ds > 5 {
                return None;
            }
            i += 1;
            paren = true;
        }
        if ng == 12 {
            return None;
        }
        groups[ng] = (i - ds) as u8;
        ng += 1;
        end = i;
        // Separator, then another group.
        let c = at(b, i);
        let after_paren = in_paren;
        if matches!(c, b' ' | b'-' | b'.')
            && (at(b, i + 1).is_ascii_digit()
                || at(b, i + 1) == b'(' && at(b, i + 2).is_ascii_digit())
        {
            sep_kinds[match c {
                b' ' => 0,
                b'-' => 1,
                _ => 2,
            }] = true;
            i += 1;
            continue;
        }
        if after_paren && c.is_ascii_digit() {
            continue;
        }
        if c == b'(' && at(b, i + 1).is_ascii_digit() && plus && ng == 1 {
            // +44(0)20 …
            continue;
        }
        break;
    }
    if !token_end(b, end) {
        return None;
    }
    let groups = &groups[..ng];
    let last = *groups.last()?;
    let mixed = sep_kinds.iter().filter(|&&x| x).count() > 1;
    if plus {
        if !(8..=15).contains(&digits) || first_digit == b'0' {
            return None;
        }
        return Some((end, 0.7));
    }
    let intl = first_digit == b'0' && at(b, s + 1) == b'0';
    let max = if intl { 14 } else { 12 };
    if !(8..=max).contains(&digits) || last < 2 || ng > 6 {
        return None;
    }
    // Dates and times are not phones.
    if matches!(groups, [4, 2, 2] | [2, 2, 4] | [4, 2, 2, 2]) {
        return None;
    }
    if paren {
        return Some((end, if mixed { 0.45 } else { 0.55 }));
    }
    let us = matches!(groups, [3, 3, 4] | [1, 3, 3, 4])
        && (sep_kinds[1] ^ sep_kinds[2])
        && !sep_kinds[0];
    Some((end, if us { 0.5 } else { 0.3 }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ipv6_end` accepts what the walk and std's parser accepted together.
    #[test]
    fn ipv6_end_reads_as_std() {
        const GROUPS: [&str; 10] = [
            "0",
            "1",
            "ff",
            "abcd",
            "DEAD",
            "12345",
            "",
            "1.2.3.4",
            "01.2.3.4",
            "256.1.1.1",
        ];
        const SEPS: [&str; 8] = [":", ":", ":", ":", "::", "::", ".", " "];
        let std_end = |b: &[u8], s: usize| {
            let (e, groups, double, _) = ipv6_walk(b, s)?;
            if groups > 8 || (!double && groups != 8) || groups == 0 || !token_end(b, e) {
                return None;
            }
            let text = std::str::from_utf8(&b[s..e]).ok()?;
            text.parse::<std::net::Ipv6Addr>().ok().map(|_| e)
        };
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |m: usize| {
            crate::xorshift(&mut x);
            (x % m as u64) as usize
        };
        let (mut found, mut refused) = (0, 0);
        for _ in 0..100_000 {
            // Groups and separators, most often hex groups and colons.
            let mut text = String::new();
            for _ in 0..next(11) {
                text.push_str(GROUPS[if next(2) == 0 { next(10) } else { next(5) }]);
                text.push_str(SEPS[next(8)]);
            }
            if next(2) == 0 {
                text.pop();
            }
            let b = text.as_bytes();
            for s in 0..b.len() {
                let want = std_end(b, s);
                found += usize::from(want.is_some());
                refused += usize::from(want.is_none() && ipv6_walk(b, s).is_some());
                assert_eq!(ipv6_end(b, s), want, "{text:?} at {s}");
            }
        }
        assert!(found > 10_000 && refused > 10_000, "{found} {refused}");
    }

    /// The email look-ups, sixteen or eight bytes a test, find what the
    /// byte loops over `EMAIL_BYTES` found.
    #[test]
    fn email_runs_match_byte_loops() {
        for c in 0..=255u8 {
            let local = EMAIL_BYTES[c as usize] & LOCAL != 0;
            let want = if local {
                u128::from_le_bytes([1; 16])
            } else {
                0
            };
            assert_eq!(local_bytes(&[c; 16]), want, "{c}");
            let label = EMAIL_BYTES[c as usize] & LABEL != 0;
            assert_eq!(label_len(&[c; 70], 0), if label { 63 } else { 0 }, "{c}");
        }
        const ALPHABET: &[u8] = b"aZ09._%+'-@ #\xC3\xA9";
        let mut x: u64 = 0x5DEE_CE66_D1CE_4E5B;
        for _ in 0..4_000 {
            crate::xorshift(&mut x);
            let len = (x % 100) as usize;
            let text: Vec<u8> = (0..len)
                .map(|k| ALPHABET[(x.rotate_left(k as u32 % 64) as usize + k * 5) % ALPHABET.len()])
                .collect();
            for i in 0..=text.len() {
                let mut e = i;
                while e < text.len() && EMAIL_BYTES[text[e] as usize] & LABEL != 0 && e - i < 63 {
                    e += 1;
                }
                assert_eq!(label_len(&text, i), e - i, "{text:?} {i}");
                for floor in [0, i / 2, i] {
                    let mut ls = i;
                    while ls > floor
                        && i - ls < 64
                        && EMAIL_BYTES[text[ls - 1] as usize] & LOCAL != 0
                    {
                        ls -= 1;
                    }
                    let max = i.saturating_sub(floor).min(64);
                    assert_eq!(local_len_before(&text, i, max), i - ls, "{text:?} {i}");
                }
            }
        }
        // Runs longer than the bounds.
        let long = [b"x".repeat(90), b"@".to_vec(), b"y".repeat(90)].concat();
        assert_eq!(local_len_before(&long, 90, 64), 64);
        assert_eq!(label_len(&long, 91), 63);
    }
}
