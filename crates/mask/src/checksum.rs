//! Checksum validators for the identifiers that carry one.
//!
//! Every function takes the identifier's digits (values `0..=9`, not ASCII) or
//! its normalised characters, and is total: wrong lengths return `false`.

/// Luhn (mod 10) over digit values, check digit last.
pub fn luhn(d: &[u8]) -> bool {
    if d.is_empty() {
        return false;
    }
    // u64: a u32 sum overflows after about 477 million digits, which a
    // custom Luhn pattern over a huge text could reach.
    let mut sum = 0u64;
    for (i, &x) in d.iter().rev().enumerate() {
        let mut v = u64::from(x);
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

fn num(d: &[u8]) -> u64 {
    d.iter()
        .fold(0u64, |a, &x| a.wrapping_mul(10).wrapping_add(u64::from(x)))
}

fn weighted(d: &[u8], w: &[u32]) -> u32 {
    d.iter().zip(w).map(|(&x, &w)| u32::from(x) * w).sum()
}

/// A payment card: 12–19 digits in a known IIN range, Luhn valid.
pub fn credit_card(d: &[u8]) -> bool {
    let n = d.len();
    if !(12..=19).contains(&n) || !luhn(d) {
        return false;
    }
    let p2 = num(&d[..2]);
    let p3 = num(&d[..3]);
    let p4 = num(&d[..4]);
    let p6 = num(&d[..6]);
    match d[0] {
        4 => matches!(n, 13 | 16 | 19),       // Visa
        3 if p2 == 34 || p2 == 37 => n == 15, // Amex
        3 if (300..=305).contains(&p3) || p2 == 36 || p2 == 38 || p2 == 39 => {
            (14..=19).contains(&n)
        } // Diners
        3 if (3528..=3589).contains(&p4) => (16..=19).contains(&n), // JCB
        5 if (51..=55).contains(&p2) => n == 16, // Mastercard
        2 if (222_100..=272_099).contains(&p6) => n == 16, // Mastercard 2-series
        6 if p4 == 6011 || (644..=649).contains(&p3) || p2 == 65 => (16..=19).contains(&n), // Discover
        6 if p2 == 62 => (16..=19).contains(&n), // UnionPay
        5 | 6 => (12..=19).contains(&n),         // Maestro
        _ => false,
    }
}

/// IBAN length for a country code, for the countries in the SWIFT registry.
pub fn iban_length(cc: [u8; 2]) -> Option<usize> {
    let len = match &cc {
        b"AD" => 24,
        b"AE" => 23,
        b"AL" => 28,
        b"AT" => 20,
        b"AZ" => 28,
        b"BA" => 20,
        b"BE" => 16,
        b"BG" => 22,
        b"BH" => 22,
        b"BR" => 29,
        b"BY" => 28,
        b"CH" => 21,
        b"CR" => 22,
        b"CY" => 28,
        b"CZ" => 24,
        b"DE" => 22,
        b"DK" => 18,
        b"DO" => 28,
        b"EE" => 20,
        b"EG" => 29,
        b"ES" => 24,
        b"FI" => 18,
        b"FO" => 18,
        b"FR" => 27,
        b"GB" => 22,
        b"GE" => 22,
        b"GI" => 23,
        b"GL" => 18,
        b"GR" => 27,
        b"GT" => 28,
        b"HR" => 21,
        b"HU" => 28,
        b"IE" => 22,
        b"IL" => 23,
        b"IQ" => 23,
        b"IS" => 26,
        b"IT" => 27,
        b"JO" => 30,
        b"KW" => 30,
        b"KZ" => 20,
        b"LB" => 28,
        b"LC" => 32,
        b"LI" => 21,
        b"LT" => 20,
        b"LU" => 20,
        b"LV" => 21,
        b"MC" => 27,
        b"MD" => 24,
        b"ME" => 22,
        b"MK" => 19,
        b"MR" => 27,
        b"MT" => 31,
        b"MU" => 30,
        b"NL" => 18,
        b"NO" => 15,
        b"PK" => 24,
        b"PL" => 28,
        b"PS" => 29,
        b"PT" => 25,
        b"QA" => 29,
        b"RO" => 24,
        b"RS" => 22,
        b"SA" => 24,
        b"SC" => 31,
        b"SE" => 24,
        b"SI" => 19,
        b"SK" => 24,
        b"SM" => 27,
        b"ST" => 25,
        b"SV" => 28,
        b"TL" => 23,
        b"TN" => 24,
        b"TR" => 26,
        b"UA" => 29,
        b"VA" => 22,
        b"VG" => 24,
        b"XK" => 20,
        _ => return None,
    };
    Some(len)
}

/// IBAN mod-97 over upper-case alphanumerics (no spaces), length checked.
pub fn iban(chars: &[u8]) -> bool {
    if chars.len() < 5 {
        return false;
    }
    if iban_length([chars[0], chars[1]]) != Some(chars.len()) {
        return false;
    }
    // Accumulate in 64 bits and reduce only when large: one division per
    // dozen characters instead of one per character.
    let mut rem: u64 = 0;
    for &c in chars[4..].iter().chain(&chars[..4]) {
        let v = match c {
            b'0'..=b'9' => u64::from(c - b'0'),
            b'A'..=b'Z' => u64::from(c - b'A') + 10,
            _ => return false,
        };
        rem = if v >= 10 { rem * 100 + v } else { rem * 10 + v };
        if rem >= 1 << 50 {
            rem %= 97;
        }
    }
    rem % 97 == 1
}

/// US SSN: not area 000, 666 or 900–999; group not 00; serial not 0000.
pub fn us_ssn(d: &[u8]) -> bool {
    if d.len() != 9 {
        return false;
    }
    let area = num(&d[..3]);
    area != 0
        && area != 666
        && area < 900
        && num(&d[3..5]) != 0
        && num(&d[5..]) != 0
        && !d.iter().all(|&x| x == d[0])
}

/// US ITIN: 9XX-(50–65, 70–88, 90–92, 94–99)-XXXX.
pub fn us_itin(d: &[u8]) -> bool {
    if d.len() != 9 || d[0] != 9 {
        return false;
    }
    let g = num(&d[3..5]);
    matches!(g, 50..=65 | 70..=88 | 90..=92 | 94..=99)
}

/// ABA routing number: weights 3,7,1 sum to a multiple of 10.
pub fn aba_routing(d: &[u8]) -> bool {
    if d.len() != 9 || d.iter().all(|&x| x == 0) {
        return false;
    }
    let prefix = num(&d[..2]);
    matches!(prefix, 0..=12 | 21..=32 | 61..=72 | 80)
        && weighted(d, &[3, 7, 1, 3, 7, 1, 3, 7, 1]).is_multiple_of(10)
}

/// UK NHS number: mod 11 with weights 10..2.
pub fn uk_nhs(d: &[u8]) -> bool {
    if d.len() != 10 || d.iter().all(|&x| x == d[0]) {
        return false;
    }
    let s = weighted(&d[..9], &[10, 9, 8, 7, 6, 5, 4, 3, 2]);
    let c = 11 - s % 11;
    let c = if c == 11 { 0 } else { c };
    c != 10 && c == u32::from(d[9])
}

/// UK NINO prefix letters (first two characters) allowed by HMRC.
pub fn uk_nino_prefix(a: u8, b: u8) -> bool {
    let first_ok = !matches!(a, b'D' | b'F' | b'I' | b'Q' | b'U' | b'V');
    let second_ok = !matches!(b, b'D' | b'F' | b'I' | b'O' | b'Q' | b'U' | b'V');
    let pair_ok = !matches!(
        &[a, b],
        b"BG" | b"GB" | b"KN" | b"NK" | b"NT" | b"TN" | b"ZZ"
    );
    a.is_ascii_uppercase() && b.is_ascii_uppercase() && first_ok && second_ok && pair_ok
}

/// Australian TFN: weights 1,4,3,7,5,8,6,9,10, mod 11.
pub fn au_tfn(d: &[u8]) -> bool {
    d.len() == 9 && weighted(d, &[1, 4, 3, 7, 5, 8, 6, 9, 10]).is_multiple_of(11)
}

/// Australian ABN: first digit minus one, weights, mod 89.
pub fn au_abn(d: &[u8]) -> bool {
    if d.len() != 11 || d[0] == 0 {
        return false;
    }
    let w = [10u32, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19];
    let s: u32 = d
        .iter()
        .enumerate()
        .map(|(i, &x)| (u32::from(x) - u32::from(i == 0)) * w[i])
        .sum();
    s.is_multiple_of(89)
}

/// Australian ACN: weights 8..1, complement mod 10.
pub fn au_acn(d: &[u8]) -> bool {
    if d.len() != 9 {
        return false;
    }
    let s = weighted(&d[..8], &[8, 7, 6, 5, 4, 3, 2, 1]);
    (10 - s % 10) % 10 == u32::from(d[8])
}

/// Australian Medicare: first digit 2–6, weights 1,3,7,9 mod 10 in the 9th
/// digit; 10 or 11 digits (issue number, optional reference).
pub fn au_medicare(d: &[u8]) -> bool {
    if !(10..=11).contains(&d.len()) || !(2..=6).contains(&d[0]) {
        return false;
    }
    weighted(&d[..8], &[1, 3, 7, 9, 1, 3, 7, 9]) % 10 == u32::from(d[8])
}

/// Canadian SIN: Luhn, first digit not 8.
///
/// The first digit is the province of registration (1 Atlantic, 2–3
/// Quebec, 4–5 Ontario, 6 Prairies and territories, 7 British Columbia and
/// Yukon, 9 temporary residents); 8 is used for business numbers, not SINs,
/// and is rejected even when Luhn passes. 0 is never issued: it appears only
/// on specimen and fictitious numbers such as the government's sample
/// 046 454 286. Those are accepted, because a masker cannot know that the
/// number in a ticket is the fictitious one rather than a mistyped real one,
/// and a masked sample costs nothing.
pub fn ca_sin(d: &[u8]) -> bool {
    d.len() == 9 && d[0] != 8 && luhn(d)
}

/// New Zealand IRD: 8 or 9 digits in range, mod 11 with the fallback weights.
pub fn nz_ird(d: &[u8]) -> bool {
    let mut p = [0u8; 9];
    match d.len() {
        8 => p[1..].copy_from_slice(d),
        9 => p.copy_from_slice(d),
        _ => return false,
    }
    let n = num(&p);
    if !(10_000_000..=150_000_000).contains(&n) {
        return false;
    }
    let check = |w: &[u32]| {
        let r = weighted(&p[..8], w) % 11;
        if r == 0 { 0 } else { 11 - r }
    };
    let mut c = check(&[3, 2, 7, 6, 5, 4, 3, 2]);
    if c == 10 {
        c = check(&[7, 4, 3, 2, 5, 2, 7, 6]);
    }
    c != 10 && c == u32::from(p[8])
}

/// New Zealand NHI: three letters (no I or O) and four digits, mod 11
/// (old format); or three letters, two digits, two letters, mod 24
/// (new format).
pub fn nz_nhi(c: &[u8]) -> bool {
    if c.len() != 7 {
        return false;
    }
    let letter = |x: u8| -> Option<u32> {
        if !x.is_ascii_uppercase() || x == b'I' || x == b'O' {
            return None;
        }
        let mut v = u32::from(x - b'A') + 1;
        if x > b'I' {
            v -= 1;
        }
        if x > b'O' {
            v -= 1;
        }
        Some(v)
    };
    let mut s = 0u32;
    for (i, &x) in c[..3].iter().enumerate() {
        match letter(x) {
            Some(v) => s += v * (7 - i as u32),
            None => return false,
        }
    }
    if !c[3].is_ascii_digit() || !c[4].is_ascii_digit() {
        return false;
    }
    s += u32::from(c[3] - b'0') * 4 + u32::from(c[4] - b'0') * 3;
    if c[5..].iter().all(u8::is_ascii_digit) {
        s += u32::from(c[5] - b'0') * 2;
        let r = s % 11;
        if r == 0 {
            return false;
        }
        let check = (11 - r) % 10;
        check == u32::from(c[6] - b'0')
    } else {
        let Some(v5) = letter(c[5]) else { return false };
        let Some(v6) = letter(c[6]) else { return false };
        s += v5 * 2;
        let r = s % 24;
        r != 0 && 24 - r == v6
    }
}

/// German tax id (Steuer-IdNr): 11 digits, first not 0, ISO 7064 MOD 11,10.
pub fn de_tax_id(d: &[u8]) -> bool {
    if d.len() != 11 || d[0] == 0 {
        return false;
    }
    let mut product = 10u32;
    for &x in &d[..10] {
        let mut sum = (u32::from(x) + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = (sum * 2) % 11;
    }
    let c = 11 - product;
    let c = if c == 10 { 0 } else { c };
    c == u32::from(d[10])
}

const NIF_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

/// Spanish NIF/DNI: 8 digits and a mod-23 letter.
pub fn es_nif(c: &[u8]) -> bool {
    c.len() == 9
        && c[..8].iter().all(u8::is_ascii_digit)
        && NIF_LETTERS[(num_ascii(&c[..8]) % 23) as usize] == c[8]
}

/// Spanish NIE: X, Y or Z, 7 digits and a mod-23 letter.
pub fn es_nie(c: &[u8]) -> bool {
    if c.len() != 9 || !c[1..8].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let lead = match c[0] {
        b'X' => 0,
        b'Y' => 1,
        b'Z' => 2,
        _ => return false,
    };
    let n = lead * 10_000_000 + num_ascii(&c[1..8]);
    NIF_LETTERS[(n % 23) as usize] == c[8]
}

/// [`num`] of ASCII digits, read in place (collecting their values into a
/// `Vec` first cost a heap allocation a call).
fn num_ascii(c: &[u8]) -> u64 {
    c.iter().fold(0u64, |a, &x| {
        a.wrapping_mul(10)
            .wrapping_add(u64::from(x.wrapping_sub(b'0')))
    })
}

/// Italian codice fiscale: 16 characters with the odd/even check letter.
pub fn it_fiscal_code(c: &[u8]) -> bool {
    const ODD: [u32; 26] = [
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24,
        23,
    ];
    if c.len() != 16 {
        return false;
    }
    // Letters in the name, month and check positions; digits (or omocodia
    // letters) elsewhere.
    let letters_at = [0, 1, 2, 3, 4, 5, 8, 11, 15];
    for (i, &x) in c.iter().enumerate() {
        let ok = if letters_at.contains(&i) {
            x.is_ascii_uppercase()
        } else {
            x.is_ascii_digit() || b"LMNPQRSTUV".contains(&x)
        };
        if !ok {
            return false;
        }
    }
    if !b"ABCDEHLMPRST".contains(&c[8]) {
        return false;
    }
    let mut s = 0u32;
    for (i, &x) in c[..15].iter().enumerate() {
        let idx = if x.is_ascii_digit() {
            u32::from(x - b'0')
        } else {
            u32::from(x - b'A')
        };
        s += if i % 2 == 0 { ODD[idx as usize] } else { idx };
    }
    u32::from(c[15] - b'A') == s % 26
}

/// Dutch BSN: the 11-test (weights 9..2 and -1).
pub fn nl_bsn(d: &[u8]) -> bool {
    if d.len() != 9 || d.iter().all(|&x| x == 0) {
        return false;
    }
    let s = weighted(&d[..8], &[9, 8, 7, 6, 5, 4, 3, 2]) as i64 - i64::from(d[8]);
    s % 11 == 0
}

/// Polish PESEL: weights 1,3,7,9 and a valid encoded month.
pub fn pl_pesel(d: &[u8]) -> bool {
    if d.len() != 11 {
        return false;
    }
    let month = num(&d[2..4]) % 20;
    let day = num(&d[4..6]);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return false;
    }
    let s = weighted(&d[..10], &[1, 3, 7, 9, 1, 3, 7, 9, 1, 3]);
    (10 - s % 10) % 10 == u32::from(d[10])
}

/// US National Provider Identifier: 10 digits starting 1 or 2, Luhn over
/// the number prefixed with `80840`; a body of one repeated digit is
/// rejected (as Presidio does).
pub fn us_npi(d: &[u8]) -> bool {
    if d.len() != 10 || !matches!(d[0], 1 | 2) || d[..9].iter().all(|&x| x == d[0]) {
        return false;
    }
    let mut p = [8, 0, 8, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    p[5..].copy_from_slice(d);
    luhn(&p)
}

/// US Medicare Beneficiary Identifier (11 characters, no dashes):
/// `C A AN N A AN N A A N N` with letters other than S, L, O, I, B, Z.
pub fn us_mbi(c: &[u8]) -> bool {
    const LETTERS: &[u8] = b"ACDEFGHJKMNPQRTUVWXY";
    if c.len() != 11 {
        return false;
    }
    let num = |x: u8| x.is_ascii_digit();
    let alpha = |x: u8| LETTERS.contains(&x);
    num(c[0])
        && c[0] != b'0'
        && alpha(c[1])
        && (num(c[2]) || alpha(c[2]))
        && num(c[3])
        && alpha(c[4])
        && (num(c[5]) || alpha(c[5]))
        && num(c[6])
        && alpha(c[7])
        && alpha(c[8])
        && num(c[9])
        && num(c[10])
}

/// UK (DVLA) driving licence number, 16 characters: five of the surname
/// padded with trailing 9s, the birth decade digit, month (01–12, +50 for
/// women), day, year digit, two initials (or 9), a digit or letter, and
/// two check letters. The check algorithm is not public: this is the
/// structure only, as in Presidio.
pub fn uk_driving_licence(c: &[u8]) -> bool {
    if c.len() != 16 {
        return false;
    }
    let letters = c[..5].iter().take_while(|x| x.is_ascii_uppercase()).count();
    if letters == 0 || !c[letters..5].iter().all(|&x| x == b'9') {
        return false;
    }
    if !c[5..11].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let two = |i: usize| u32::from(c[i] - b'0') * 10 + u32::from(c[i + 1] - b'0');
    let (month, day) = (two(6), two(8));
    (matches!(month, 1..=12 | 51..=62))
        && (1..=31).contains(&day)
        && c[11..13]
            .iter()
            .all(|&x| x.is_ascii_uppercase() || x == b'9')
        && (c[13].is_ascii_uppercase() || c[13].is_ascii_digit())
        && c[14..].iter().all(u8::is_ascii_uppercase)
}

/// Swedish organisationsnummer: 10 digits, the third at least 2 (so the
/// "month" is 20 or more and it can never be a personnummer), Luhn.
pub fn se_organisationsnummer(d: &[u8]) -> bool {
    d.len() == 10 && d[2] >= 2 && luhn(d)
}

/// US DEA registration number (Presidio's `MEDICAL_LICENSE`): a registrant
/// type letter, a second letter (or `9`), seven digits; the last digit is
/// `(d1 + d3 + d5 + 2 × (d2 + d4 + d6)) mod 10`.
pub fn us_dea(c: &[u8]) -> bool {
    if c.len() != 9
        || !b"ABCDEFGHJKLMPRSTUX".contains(&c[0].to_ascii_uppercase())
        || !(c[1].is_ascii_alphabetic() || c[1] == b'9')
        || !c[2..].iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    let mut d = [0u32; 7];
    for (x, &c) in d.iter_mut().zip(&c[2..]) {
        *x = u32::from(c - b'0');
    }
    (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 == d[6]
}

/// Swedish personnummer: 10 digits YYMMDDNNNC (day may be +60), Luhn.
pub fn se_personnummer(d: &[u8]) -> bool {
    if d.len() != 10 {
        return false;
    }
    let month = num(&d[2..4]);
    let day = num(&d[4..6]);
    let day = if day > 60 { day - 60 } else { day };
    (1..=12).contains(&month) && (1..=31).contains(&day) && luhn(d)
}

/// Finnish HETU: DDMMYY, century sign, NNN and a mod-31 check character.
pub fn fi_hetu(c: &[u8]) -> bool {
    const CHECK: &[u8; 31] = b"0123456789ABCDEFHJKLMNPRSTUVWXY";
    if c.len() != 11 || !b"+-ABCDEFUVWXY".contains(&c[6]) {
        return false;
    }
    // The date and the individual number, read in place: collected into
    // `Vec`s they cost two heap allocations a digit token on tickets.
    let (date, serial) = (&c[..6], &c[7..10]);
    if !date.iter().chain(serial).all(u8::is_ascii_digit) {
        return false;
    }
    let day = num_ascii(&date[..2]);
    let month = num_ascii(&date[2..4]);
    let n = num_ascii(date) * 1000 + num_ascii(serial);
    (1..=31).contains(&day) && (1..=12).contains(&month) && CHECK[(n % 31) as usize] == c[10]
}

/// French INSEE (NIR): 13 digits and a 2-digit key, key = 97 - n mod 97.
pub fn fr_insee(d: &[u8]) -> bool {
    if d.len() != 15 || !matches!(d[0], 1 | 2 | 3 | 4 | 7 | 8) {
        return false;
    }
    let month = num(&d[3..5]);
    if !(matches!(month, 1..=12 | 20..=42 | 50..=99)) {
        return false;
    }
    97 - num(&d[..13]) % 97 == num(&d[13..])
}

/// A plausible calendar date.
pub fn date(y: u32, m: u32, d: u32) -> bool {
    if !(1..=12).contains(&m) || d == 0 || !(1900..=2100).contains(&y) {
        return false;
    }
    let leap = (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let days = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    d <= days
}

/// ISO 7064 MOD 11,10 check digit of `d` (digit values).
fn mod11_10(d: &[u8]) -> u8 {
    let mut product = 10u32;
    for &x in d {
        let mut sum = (u32::from(x) + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = (sum * 2) % 11;
    }
    let c = 11 - product;
    if c == 10 { 0 } else { c as u8 }
}

/// Cross sum (Quersumme) of a product below 100.
fn cross(v: u32) -> u32 {
    v / 10 + v % 10
}

/// German VAT id (USt-IdNr) digits after `DE`: nine digits, the ninth the
/// ISO 7064 MOD 11,10 check digit over the first eight (the Federal Central
/// Tax Office's algorithm; Presidio checks the length only).
pub fn de_vat(d: &[u8]) -> bool {
    d.len() == 9 && d[0] != 0 && mod11_10(&d[..8]) == d[8]
}

/// German health insurance number (KVNR, §290 SGB V): a letter and nine
/// digits (ASCII). The letter becomes two digits (`A` = 01 … `Z` = 26);
/// those and the next eight digits, weighted 1-2-1-2…, cross-summed, give
/// the tenth digit mod 10. (Presidio's validator also weights the check
/// digit itself into the sum, which accepts wrong numbers; this does not.)
pub fn de_kvnr(c: &[u8]) -> bool {
    if c.len() != 10 || !c[0].is_ascii_uppercase() || !c[1..].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let l = u32::from(c[0] - b'A') + 1;
    let mut v = [0u32; 10];
    v[0] = l / 10;
    v[1] = l % 10;
    for k in 0..8 {
        v[2 + k] = u32::from(c[1 + k] - b'0');
    }
    let sum: u32 = v
        .iter()
        .enumerate()
        .map(|(i, &x)| cross(x * if i % 2 == 0 { 1 } else { 2 }))
        .sum();
    sum % 10 == u32::from(c[9] - b'0')
}

/// German lifelong doctor number (LANR, KBV): nine digits, the seventh the
/// check digit over the first six weighted 4-9-4-9-4-9, `(10 - sum mod 10)
/// mod 10`; the last two are the specialty group. All zeros is rejected.
pub fn de_lanr(d: &[u8]) -> bool {
    if d.len() != 9 || d.iter().all(|&x| x == 0) {
        return false;
    }
    let sum = weighted(&d[..6], &[4, 9, 4, 9, 4, 9]);
    (10 - sum % 10) % 10 == u32::from(d[6])
}

/// German practice site number (BSNR): nine digits whose first two are a
/// regional KV code of the KBV list (01, 02, 03, 17, 20, 35, 38, 46, 51,
/// 52, 71, 72, 73, 74, 78, 83, 88, 93, 98). There is no public check
/// digit; unlike Presidio (which keeps unknown prefixes at the pattern
/// score) an unknown prefix is rejected.
pub fn de_bsnr(d: &[u8]) -> bool {
    const KV: [u8; 19] = [
        1, 2, 3, 17, 20, 35, 38, 46, 51, 52, 71, 72, 73, 74, 78, 83, 88, 93, 98,
    ];
    d.len() == 9 && KV.contains(&(d[0] * 10 + d[1])) && d[2..].iter().any(|&x| x != 0)
}

/// German pension insurance number (Rentenversicherungsnummer, VKVV § 4),
/// 12 ASCII characters `BBDDMMYYLSSP`: area, birth day (01–31, or 51–81),
/// month (01–12), year, the surname's initial, serial, and a check digit:
/// the letter as two digits (`A` = 01), weights 2-1-2-5-7-1-2-1-2-1-2-1,
/// cross sums, mod 10.
pub fn de_social_security(c: &[u8]) -> bool {
    if c.len() != 12
        || !c[..8].iter().all(u8::is_ascii_digit)
        || !c[8].is_ascii_uppercase()
        || !c[9..].iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    let n = |i: usize| u32::from(c[i] - b'0');
    let day = n(2) * 10 + n(3);
    let month = n(4) * 10 + n(5);
    if !(matches!(day, 1..=31 | 51..=81) && (1..=12).contains(&month)) {
        return false;
    }
    let l = u32::from(c[8] - b'A') + 1;
    let v = [
        n(0),
        n(1),
        n(2),
        n(3),
        n(4),
        n(5),
        n(6),
        n(7),
        l / 10,
        l % 10,
        n(9),
        n(10),
    ];
    let w = [2, 1, 2, 5, 7, 1, 2, 1, 2, 1, 2, 1];
    let sum: u32 = v.iter().zip(w).map(|(&x, w)| cross(x * w)).sum();
    sum % 10 == n(11)
}

/// German identity card number with its check digit, 10 ASCII characters:
/// the nine-character serial (since November 2010: first of `LMNPRTVWXY`,
/// then the ICAO serial alphabet) or the nine digits of the pre-2010 card,
/// followed by the ICAO 7-3-1 check digit as printed in the machine-readable
/// zone. (Presidio's `DE_PERSONAL_ID` takes the check over the first eight
/// of a nine-character serial, which is not how the card computes it.)
pub fn de_personal_id(c: &[u8]) -> bool {
    if c.len() != 10 || !c[9].is_ascii_digit() {
        return false;
    }
    let serial = &c[..9];
    let shape = serial.iter().all(u8::is_ascii_digit)
        || b"LMNPRTVWXY".contains(&serial[0])
            && serial[1..].iter().all(|&x| de_serial_char(x))
            && serial[1..].iter().any(u8::is_ascii_digit);
    shape && icao_check(serial) == Some(u32::from(c[9] - b'0'))
}

/// German tax number (Steuernummer) in the unified 13-digit ELSTER form:
/// a state prefix (`28` BW, `9` BY, `11` BE, `30` BB, `24` HB, `22` HH,
/// `26` HE, `40` MV, `23` NI, `5` NW, `27` RP, `10` SL, `32` SN, `31` ST,
/// `21` SH, `41` TH), the tax office, and a `0` as the fifth digit. The
/// state-specific check digits are not verified. (Presidio's pattern takes
/// `01`–`16` as the prefix, which are not ELSTER prefixes.)
pub fn de_tax_number_elster(d: &[u8]) -> bool {
    const TWO: [u8; 14] = [28, 11, 30, 24, 22, 26, 40, 23, 27, 10, 32, 31, 21, 41];
    d.len() == 13 && d[4] == 0 && (matches!(d[0], 9 | 5) || TWO.contains(&(d[0] * 10 + d[1])))
}

/// ICAO 9303 serial alphabet of German documents: digits and the
/// consonants `CFGHJKLMNPRTVWXYZ` (no vowels, no B, D, Q, S).
fn de_serial_char(c: u8) -> bool {
    c.is_ascii_digit() || b"CFGHJKLMNPRTVWXYZ".contains(&c)
}

/// ICAO 9303 7-3-1 check digit value of `s` (digits and upper-case letters).
pub(crate) fn icao_check(s: &[u8]) -> Option<u32> {
    let mut sum = 0u32;
    for (i, &c) in s.iter().enumerate() {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => return None,
        };
        sum += v * [7, 3, 1][i % 3];
    }
    Some(sum % 10)
}

/// German passport number: nine characters, a letter of the ICAO serial
/// alphabet first, the ninth an ICAO 7-3-1 check digit over the first eight.
pub(crate) fn de_passport(s: &[u8]) -> bool {
    s.len() == 9
        && s[0].is_ascii_uppercase()
        && s[..8].iter().all(|&c| de_serial_char(c))
        && s[8].is_ascii_digit()
        && icao_check(&s[..8]) == Some(u32::from(s[8] - b'0'))
}

/// German identity card serial (since 2010): nine characters, the first one
/// of `LMNPRTVWXY`, the rest of the serial alphabet (no check digit is
/// printed in the serial itself; it is only in the MRZ), at least one digit.
pub(crate) fn de_id_card(s: &[u8]) -> bool {
    s.len() == 9
        && b"LMNPRTVWXY".contains(&s[0])
        && s[1..].iter().all(|&c| de_serial_char(c) && c != b'Z')
        && s[1..].iter().any(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Vec<u8> {
        s.bytes()
            .filter(u8::is_ascii_digit)
            .map(|b| b - b'0')
            .collect()
    }

    #[test]
    fn published_examples_validate() {
        assert!(credit_card(&d("4111 1111 1111 1111")));
        assert!(!credit_card(&d("4111 1111 1111 1112")));
        assert!(iban(b"GB82WEST12345698765432"));
        assert!(!iban(b"GB82WEST12345698765433"));
        assert!(uk_nhs(&d("943 476 5919")));
        assert!(!uk_nhs(&d("943 476 5918")));
        assert!(au_tfn(&d("123 456 782")));
        assert!(au_abn(&d("51 824 753 556")));
        assert!(!au_abn(&d("51 824 753 557")));
        assert!(au_acn(&d("000 000 019")));
        assert!(au_acn(&d("005 499 981")));
        assert!(ca_sin(&d("130 692 544")));
        assert!(
            ca_sin(&d("046 454 286")),
            "the fictitious sample is masked too"
        );
        assert!(!ca_sin(&d("846 454 286")), "8: a business number");
        assert!(nz_ird(&d("49-091-850")));
        assert!(nz_ird(&d("136-410-132")));
        assert!(!nz_ird(&d("136-410-133")));
        assert!(nz_nhi(b"ZZZ0016"));
        assert!(nz_nhi(b"ZAC5361"));
        assert!(!nz_nhi(b"ZZZ0017"));
        assert!(de_tax_id(&d("86095742719")));
        assert!(us_dea(b"AB1234563"));
        assert!(uk_driving_licence(b"MORGA753116SM9IJ"));
        assert!(uk_driving_licence(b"LI999802085JA9BC"));
        assert!(!uk_driving_licence(b"MORGA713116SM9IJ"), "month 13");
        assert!(
            !uk_driving_licence(b"MO9GA753116SM9IJ"),
            "9 inside the surname"
        );
        assert!(!uk_driving_licence(b"99999753116SM9IJ"), "no surname");
        assert!(us_npi(&d("1234567893")));
        assert!(!us_npi(&d("1234567894")));
        assert!(!us_npi(&d("3234567893")), "starts with 1 or 2");
        assert!(us_mbi(b"1EG4TE5MK73"));
        assert!(!us_mbi(b"1EG4TE5MK7A"));
        assert!(!us_mbi(b"1SG4TE5MK73"), "S is not used");
        assert!(us_dea(b"F91234563"));
        assert!(!us_dea(b"AB1234564"), "bad check digit");
        assert!(!us_dea(b"IB1234563"), "I is no registrant type");
        assert!(se_organisationsnummer(&d("556012-5790")));
        assert!(!se_organisationsnummer(&d("556012-5791")));
        assert!(
            !se_organisationsnummer(&d("811218-9876")),
            "a personnummer is not an organisationsnummer"
        );
        assert!(es_nif(b"12345678Z"));
        assert!(es_nie(b"X1234567L"));
        assert!(it_fiscal_code(b"MRTMTT91D08F205J"));
        assert!(nl_bsn(&d("111222333")));
        assert!(pl_pesel(&d("44051401359")));
        assert!(se_personnummer(&d("811218-9876")));
        assert!(fi_hetu(b"131052-308T"));
        assert!(fr_insee(&d("2 69 05 49 588 157 80")));
        assert!(us_ssn(&d("536-90-4399")));
        assert!(!us_ssn(&d("666-90-4399")));
        assert!(!us_ssn(&d("912-90-4399")));
        assert!(us_itin(&d("912-70-1234")));
        assert!(aba_routing(&d("011000015")));
        assert!(au_medicare(&d("2123 45670 1")));
        assert!(date(2000, 2, 29) && !date(1900, 2, 29));
    }

    #[test]
    fn german_document_serials() {
        // ICAO 9303 worked example: 7-3-1 weights, letters A=10.
        assert_eq!(icao_check(b"C01X00T4"), Some(1));
        assert_eq!(icao_check(b"C0-"), None);
        assert!(de_passport(b"C01X00T41"));
        assert!(!de_passport(b"C01X00T42"));
        assert!(!de_passport(b"001X00T41"));
        // A vowel is outside the serial alphabet even with a right digit.
        assert_eq!(icao_check(b"C01X00TE"), Some(1));
        assert!(!de_passport(b"C01X00TE1"));
        assert!(de_id_card(b"L01X00T47"));
        assert!(!de_id_card(b"A01X00T47"));
        assert!(!de_id_card(b"LZ1X00T47"));
        assert!(!de_id_card(b"LMNPRTVWX"));
        assert!(!de_id_card(b"L01X00T4"));
    }
    #[test]
    fn german_health_and_register_numbers() {
        // KVNR: A=01, 0·1+1·2+1+2·2+3+4·2+5+6·2→3+7+8·2→7 = 40 → 0.
        assert!(de_kvnr(b"A123456780"));
        assert!(!de_kvnr(b"A123456781"), "bad check digit");
        assert!(!de_kvnr(b"1123456780"), "digit first");
        // Presidio's sum includes the check digit: it accepts this one.
        assert!(!de_kvnr(b"A123456785"));
        assert!(de_lanr(&d("123456601")));
        assert!(!de_lanr(&d("123456701")));
        assert!(!de_lanr(&d("000000000")));
        assert!(de_bsnr(&d("021234568")));
        assert!(de_bsnr(&d("721234567")));
        assert!(!de_bsnr(&d("041234567")), "04 is no KV region");
        assert!(!de_bsnr(&d("020000000")));
        assert!(de_social_security(b"15070649C103"));
        assert!(!de_social_security(b"15070649C104"), "bad check digit");
        assert!(!de_social_security(b"15071349C103"), "month 13");
        assert!(!de_social_security(b"15320649C103"), "day 32");
        assert!(de_vat(&d("136695976")));
        assert!(!de_vat(&d("136695977")));
        assert!(de_personal_id(b"T220001293"));
        assert!(!de_personal_id(b"T220001294"));
        assert!(de_personal_id(b"1220001297"));
        assert!(!de_personal_id(b"A220001293"), "vowel first");
        assert!(de_tax_number_elster(&d("2893081508152")));
        assert!(de_tax_number_elster(&d("9181081508155")));
        assert!(
            !de_tax_number_elster(&d("2893181508152")),
            "fifth digit not 0"
        );
        assert!(
            !de_tax_number_elster(&d("1712345678901")),
            "no ELSTER prefix 17"
        );
    }
}
