//! Digit runs: one parse of the groups and separators at a digit, then
//! every shape and validator that fits (cards, IPv4, dates, and the
//! national numbers of all regions, which share shapes: a 9-digit run may
//! be an SSN, a TFN, a SIN or an IRD number), the context choosing among
//! them and against a phone number.

use super::contact::phone;
use super::context::Context;
use super::{
    CONTEXT_BOOST, KindSet, POSTCODE_BASE, Scanner, at, is_alnum, is_hex, token_end, words,
};
use crate::checksum as ck;
use crate::kind::K;

/// How far back (bytes) a code may have been found for the same code to
/// be a `POSTCODE` again.
const REPEAT_REACH: usize = 2048;

impl Scanner<'_> {
    /// `should be 97214, not 97241`, `70173 sein, nicht 70174`, `is it
    /// 3350 or 3355?`: a code of the same length and first digit as the
    /// `POSTCODE` found just before it on its line, joined to it by `not`,
    /// `or`, `and`, `but` (or German's), is a `POSTCODE` too; so is the
    /// next of a list (`postcodes 0870, 0872 and 4825`, `T5J 0N3 and T6E
    /// 4R4`, `9371 (Glenorchy), 7183`), of the same length when `digits`;
    /// and so is the same code as a `POSTCODE` found anywhere before it
    /// (`postcodes 8011 and 9016? … Reply: 9016 is Andersons Bay`).
    // (Out of line: it is rarely called, and the digit matchers that call
    // it are inlined into the scan loop.)
    #[inline(never)]
    pub(super) fn postcode_sibling(&self, s: usize, e: usize, digits: bool) -> bool {
        let b = self.b;
        let Some(last) = self.findings.last() else {
            return false;
        };
        let code = &b[s..e];
        // (Within a ticket's reach: findings are in text order, and a
        // long text's would make this quadratic.)
        if self.postcodes & super::code_bit(code) != 0
            && self
                .findings
                .iter()
                .rev()
                .take_while(|f| s.saturating_sub(f.start) <= REPEAT_REACH)
                .any(|f| f.kind == K::Postcode.kind() && b.get(f.start..f.end) == Some(code))
            && !numbered_by_word(b, s)
        {
            return true;
        }
        if last.kind != K::Postcode.kind() || last.end > s || s - last.end > 80 {
            return false;
        }
        let between = &b[last.end..s];
        if between.contains(&b'\n') {
            return false;
        }
        let same_length = last.end - last.start == e - s;
        if (!digits || same_length) && listed(between) {
            return true;
        }
        digits
            && same_length
            && b[last.start] == b[s]
            && [
                &b" not "[..],
                b" or ",
                b" and ",
                b" but ",
                b" nicht ",
                b" oder ",
                b" und ",
            ]
            .iter()
            .any(|w| between.windows(w.len()).any(|x| x == *w))
    }

    /// Matchers that start at a digit at a token start.
    // Out of line (see `upper`): inlined into `run`, its registers pushed
    // the skip loop's state onto the stack.
    #[inline(never)]
    pub(super) fn digit(&mut self, s: usize) -> Option<usize> {
        let b = self.b;
        // MAC with `-` or `:` (colon form is handled from the colon too, but
        // a dash MAC has no other trigger).
        if matches!(at(b, s + 2), b'-' | b':')
            && is_hex(at(b, s + 1))
            && let Some(e) = self.mac(s)
        {
            return Some(e);
        }
        if self.on.has(K::FiHetu)
            && let Some(e) = self.hetu(s)
        {
            return Some(e);
        }
        if matches!(at(b, s + 1), b'-' | b'0' | b'1')
            && let Some(e) = self.telematik(s)
        {
            return Some(e);
        }
        let run = Run::parse(b, s)?;
        if (run.nd == 8 || run.nd == 2 && run.groups == 2)
            && let Some(e) = self.de_social_security(s, &run)
        {
            return Some(e);
        }
        // `10`, `22`, `500`: one short group is nothing unless a phone's
        // parenthesised area code follows (`1 (715) 498-4177`; not a
        // place's name: `postcode 9016 (Dunedin)`).
        // (A closing one only after an opening one: `(postcode 3199)` is
        // a postcode.)
        let paren_near = at(b, run.end) == b'('
            || at(b, run.end) == b')' && s > 0 && b[s - 1] == b'('
            || at(b, run.end + 1) == b'(' && at(b, run.end + 2).is_ascii_digit();
        // An IPv4 address may be followed by a port or a path (`10.0.0.1:8080`).
        let ends = token_end(b, run.end)
            || (run.groups == 4 && run.all_sep(b'.') && matches!(at(b, run.end), b':' | b'/'));
        if run.groups == 1 && run.nd < 8 && !paren_near {
            // Only US driver's licences (context required) and MBIs are
            // this short.
            if run.nd == 1 && at(b, run.end).is_ascii_uppercase() {
                return self.mbi(s);
            }
            if run.nd >= 2 && at(b, run.end).is_ascii_uppercase() {
                if let Some(e) = self.de_document(s) {
                    return Some(e);
                }
                return self.digit_licence(s, &run);
            }
            // A code named by a postcode word is a `POSTCODE` (`postcode
            // 6011`, `PLZ 10115`: German's words only for German codes, as
            // `plz` is also chat's "please"); so is one after an Australian
            // state (`Bondi NSW 2026`). A German code with other German
            // context (`Wohnort 10115`) is a `DE_POSTAL_CODE`.
            let postcode = self.on.has(K::Postcode);
            if ends
                && matches!(run.nd, 4 | 5)
                && (postcode || run.nd == 5 && self.on.has(K::DePostalCode))
            {
                let german = run.nd == 5 && run.value(0) >= 1000;
                let ctx = self.ctx(s);
                // `postal address is 1288 Kaipara Coast Highway`: after
                // `address`, a number before a title-case word is the
                // house's.
                let house = at(b, run.end) == b' '
                    && at(b, run.end + 1).is_ascii_uppercase()
                    && ctx.has(words!["address", "addresses"]);
                // `postcode lookup failed for 1200 users`: a count.
                let no_code = house
                    || counted_after(b, run.end)
                    || crate::entity::house_or_unit_number(b, s, run.end);
                if postcode
                    && (self.names_code(ctx, s, K::Postcode.context()) && !no_code
                        || run.nd == 4 && (after_au_state(b, s) || after_nz_city(b, s, &run))
                        || german && self.names_code(ctx, s, words!["plz", "postleitzahl"])
                        || self.postcode_sibling(s, run.end, true) && !no_code)
                {
                    return Some(self.push_boosted(s, run.end, K::Postcode, POSTCODE_BASE));
                }
                if german
                    && self.on.has(K::DePostalCode)
                    && self.names_code(ctx, s, K::DePostalCode.context())
                {
                    return Some(self.push_boosted(s, run.end, K::DePostalCode, 0.3));
                }
            }
            if run.nd >= 6 && ends && self.on.has(K::UsDriverLicense) {
                return self.push_in_context(s, run.end, K::UsDriverLicense, 0.15);
            }
            return None;
        }
        // ZIP+4 (`30303-1234`), named by a postcode word.
        if run.groups == 2
            && self.on.has(K::Postcode)
            && run.shape() == [5, 4]
            && run.seps() == b"-"
            && ends
            && self.names_code(self.ctx(s), s, K::Postcode.context())
        {
            return Some(self.push_boosted(s, run.end, K::Postcode, POSTCODE_BASE));
        }
        // Collect what validates first; read the context only if anything does.
        let mut cands: [(K, f32, usize); 14] = [(K::Phone, 0.0, 0); 14];
        let mut n = 0usize;
        let mut consider = |k: K, base: f32, end: usize, on: KindSet| {
            if on.has(k) && n < cands.len() {
                cands[n] = (k, base, end);
                n += 1;
            }
        };
        let on = self.on;
        if ends {
            classify(&run, on, &mut consider);
        } else if run.groups == 1
            && run.nd == 8
            && at(b, run.end).is_ascii_uppercase()
            && !is_alnum(at(b, run.end + 1))
        {
            // Spanish NIF: 8 digits and a letter.
            let mut c = [0u8; 9];
            c[..8].copy_from_slice(&b[s..s + 8]);
            c[8] = b[run.end];
            if ck::es_nif(&c) {
                consider(K::EsNif, 0.6, run.end + 1, on);
            } else {
                return self.de_document(s).or_else(|| self.digit_licence(s, &run));
            }
        } else if at(b, run.end).is_ascii_uppercase() {
            return self.de_document(s).or_else(|| self.digit_licence(s, &run));
        }
        // A checksum-validated card or IBAN-strength match needs no phone check.
        // A phone has at least 8 digits; shorter runs only continue one
        // through parentheses (`1 (715) 498-4177`).
        let may_be_phone = paren_near || ends && run.nd >= 8;
        if may_be_phone
            && on.has(K::Phone)
            && n < cands.len()
            && !cands[..n].iter().any(|c| c.1 >= 0.9)
            && let Some((end, base)) = if paren_near || run.has_sep(b'/') {
                phone(b, s)
            } else {
                phone_of_run(b, s, &run)
            }
        {
            cands[n] = (K::Phone, base, end);
            n += 1;
        }
        if n == 0 {
            return None;
        }
        if let Some((k, base, end)) = sole(&cands[..n]) {
            // One candidate that can win, one question: asked of the
            // text, no context built.
            let hit = Context::has_before(b, s, k.context());
            let score = if hit { base + CONTEXT_BOOST } else { base };
            return Some(self.push(s, end, k, score, k.recognizer()));
        }
        let (score, end, k) =
            best_candidate(&cands[..n], |k| Context::has_before(b, s, k.context()))?;
        Some(self.push(s, end, k, score, k.recognizer()))
    }
}

/// The first of the highest scores among `cands`, a score being the base,
/// or the base plus the boost when `in_context` says the kind's words are
/// before it. A candidate is asked about only while its boosted score
/// would beat the best so far (a validated id found in context leaves a
/// phone nothing to win): each question is a walk over the words.
fn best_candidate(
    cands: &[(K, f32, usize)],
    mut in_context: impl FnMut(K) -> bool,
) -> Option<(f32, usize, K)> {
    let mut best: Option<(f32, usize, K)> = None;
    for &(k, base, end) in cands {
        let open = best.is_none_or(|(bs, _, _)| base + CONTEXT_BOOST > bs);
        let score = if open && in_context(k) {
            base + CONTEXT_BOOST
        } else {
            base
        };
        // Earlier candidates (validated ids) win ties against later (phone).
        if best.is_none_or(|(bs, _, _)| score > bs) {
            best = Some((score, end, k));
        }
    }
    best
}

/// The candidate that wins whatever the context says, of one or of two
/// (`IpAddress` 0.7 over a phone's 0.3 + 0.35, a card's 0.9 over an
/// account number's 0.2 + 0.35): `digit` keeps the first of the highest
/// scores, a score being the base or the base plus the boost.
fn sole(cands: &[(K, f32, usize)]) -> Option<(K, f32, usize)> {
    match *cands {
        [c] => Some(c),
        [a, b] if a.1 >= b.1 + CONTEXT_BOOST => Some(a),
        [a, b] if b.1 > a.1 + CONTEXT_BOOST => Some(b),
        _ => None,
    }
}

/// A run of digit groups separated by single separators (` `, `-`, `.`, `/`).
pub(super) struct Run {
    pub d: [u8; 24],
    pub nd: usize,
    pub glen: [u8; 8],
    pub sep: [u8; 8],
    pub groups: usize,
    pub end: usize,
}

impl Run {
    /// Parses from a digit at `s`. `None` if longer than 24 digits or 8 groups.
    pub(super) fn parse(b: &[u8], s: usize) -> Option<Run> {
        // Locals, stored once at the end: kept in registers, the digit loop
        // costs half the instructions of one writing through `r`.
        let (mut d, mut nd) = ([0u8; 24], 0usize);
        let (mut glen, mut sep, mut groups) = ([0u8; 8], [0u8; 8], 0usize);
        let mut end = s;
        let mut i = s;
        loop {
            let st = i;
            while let Some(&c) = b.get(i)
                && c.is_ascii_digit()
            {
                *d.get_mut(nd)? = c - b'0';
                nd += 1;
                i += 1;
            }
            if i == st {
                break;
            }
            *glen.get_mut(groups)? = (i - st).min(255) as u8;
            groups += 1;
            end = i;
            let c = at(b, i);
            if matches!(c, b' ' | b'-' | b'.' | b'/') && at(b, i + 1).is_ascii_digit() {
                sep[groups - 1] = c;
                i += 1;
            } else {
                break;
            }
        }
        Some(Run {
            d,
            nd,
            glen,
            sep,
            groups,
            end,
        })
    }

    #[inline]
    pub(super) fn digits(&self) -> &[u8] {
        &self.d[..self.nd]
    }

    #[inline]
    pub(super) fn shape(&self) -> &[u8] {
        &self.glen[..self.groups]
    }

    /// The separators between the groups.
    #[inline]
    pub(super) fn seps(&self) -> &[u8] {
        &self.sep[..self.groups.saturating_sub(1)]
    }

    /// Is `c` (not 0) one of the separators?
    // The eight at once, inline: `seps().contains` was a call to memchr.
    // `parse` sets no separator past the last group's (the rest stay 0).
    #[inline]
    pub(super) fn has_sep(&self, c: u8) -> bool {
        let spread = u64::from(c) * 0x0101_0101_0101_0101;
        super::zero_bytes(u64::from_le_bytes(self.sep) ^ spread) != 0
    }

    #[inline]
    pub(super) fn all_sep(&self, c: u8) -> bool {
        self.sep[..self.groups.saturating_sub(1)]
            .iter()
            .all(|&s| s == c)
    }

    /// All separators equal and one of `allowed`.
    #[inline]
    fn uniform(&self, allowed: &[u8]) -> bool {
        self.groups == 1 || (allowed.contains(&self.sep[0]) && self.all_sep(self.sep[0]))
    }

    #[inline]
    fn value(&self, g: usize) -> u32 {
        let off: usize = self.glen[..g].iter().map(|&x| usize::from(x)).sum();
        self.d[off..off + usize::from(self.glen[g])]
            .iter()
            .fold(0, |a, &x| a * 10 + u32::from(x))
    }
}

/// [`phone`] at the digit `s` that starts `run`, for a run with no `/`
/// between its groups and no parenthesis after it: `phone` would read the
/// same groups (it continues only through ` `, `-` and `.` before a digit,
/// or before a `(`, which is after the run if anywhere), so they are taken
/// from the parse instead of read again.
fn phone_of_run(b: &[u8], s: usize, run: &Run) -> Option<(usize, f32)> {
    if run.nd > 15 || !token_end(b, run.end) {
        return None;
    }
    let groups = run.shape();
    let last = *groups.last()?;
    let intl = b[s] == b'0' && at(b, s + 1) == b'0';
    let max = if intl { 14 } else { 12 };
    if !(8..=max).contains(&run.nd) || last < 2 || groups.len() > 6 {
        return None;
    }
    // Dates and times are not phones.
    if matches!(groups, [4, 2, 2] | [2, 2, 4] | [4, 2, 2, 2]) {
        return None;
    }
    let us = matches!(groups, [3, 3, 4] | [1, 3, 3, 4])
        && (run.has_sep(b'-') ^ run.has_sep(b'.'))
        && !run.has_sep(b' ');
    Some((run.end, if us { 0.5 } else { 0.3 }))
}

/// Offers every shape/validator that fits `run` to `consider(kind, base score, end)`.
// One call site; inlined so the closure and the candidate array stay in
// registers, as when this was part of `digit`.
#[inline(always)]
fn classify(run: &Run, on: KindSet, consider: &mut impl FnMut(K, f32, usize, KindSet)) {
    let d = run.digits();
    let shape = run.shape();
    let end = run.end;
    let plain = run.groups == 1;
    let sp_dash = run.uniform(b" -");
    // IPv4
    if run.groups == 4 && run.all_sep(b'.') {
        // One pass over the groups (`value` per group summed the lengths
        // before it, and compiled to a call of 300 instructions an address).
        let mut rest = d;
        let ok = shape.iter().all(|&l| {
            let (octet, after) = rest.split_at(usize::from(l).min(rest.len()));
            rest = after;
            (1..=3).contains(&l) && octet.iter().fold(0u32, |a, &x| a * 10 + u32::from(x)) <= 255
        });
        if ok {
            consider(K::IpAddress, 0.7, end, on);
        }
        return;
    }
    // Dates of birth (only with context, see base score).
    if run.groups == 3 && run.uniform(b"-/.") {
        let (y, m, dd) = match shape {
            [4, 2, 2] => (run.value(0), run.value(1), run.value(2)),
            [2, 2, 4] | [1, 2, 4] | [2, 1, 4] | [1, 1, 4] => {
                let (a, bb, yy) = (run.value(0), run.value(1), run.value(2));
                if a > 12 { (yy, bb, a) } else { (yy, a, bb) }
            }
            _ => (0, 0, 0),
        };
        if y != 0 {
            let ok = ck::date(y, m, dd) || ck::date(y, dd, m);
            consider_dob(ok, run, on, consider);
            return;
        }
    }
    let mut c = |k: K, base: f32, valid: bool| {
        if valid {
            consider(k, base, end, on);
        }
    };
    match d.len() {
        8 if sp_dash && (plain || shape == [2, 3, 3]) => {
            c(K::NzIrd, if plain { 0.3 } else { 0.45 }, ck::nz_ird(d));
        }
        9 => {
            let dashed = !plain && run.all_sep(b'-');
            if shape == [3, 2, 4] && sp_dash {
                c(
                    K::UsSsn,
                    if dashed { 0.6 } else { 0.5 },
                    ck::us_ssn(d) && !ck::us_itin(d),
                );
                // ITIN shares its format with invalid (9xx) SSNs: context decides.
                c(K::UsItin, 0.4, ck::us_itin(d));
            }
            if plain || (shape == [3, 3, 3] && sp_dash) {
                let g = if plain { 0.3 } else { 0.4 };
                c(K::AuTfn, g, ck::au_tfn(d));
                c(K::CaSin, g, ck::ca_sin(d));
                c(K::NzIrd, g, ck::nz_ird(d));
                c(K::AuAcn, g - 0.1, ck::au_acn(d));
            }
            if plain {
                c(K::UsSsn, 0.2, ck::us_ssn(d));
                // German practice and doctor numbers: context decides.
                c(K::DeLanr, 0.2, on.has(K::DeLanr) && ck::de_lanr(d));
                c(K::DeBsnr, 0.2, on.has(K::DeBsnr) && ck::de_bsnr(d));
                c(K::NlBsn, 0.2, ck::nl_bsn(d));
                c(K::UsBankRouting, 0.2, ck::aba_routing(d));
                c(K::UsPassport, 0.15, true);
            }
        }
        10 => {
            if plain || (shape == [3, 3, 4] && sp_dash) {
                c(K::UkNhs, if plain { 0.4 } else { 0.5 }, ck::uk_nhs(d));
            }
            if plain || (shape == [4, 5, 1] && run.all_sep(b' ')) {
                c(
                    K::AuMedicare,
                    if plain { 0.4 } else { 0.55 },
                    ck::au_medicare(d),
                );
            }
            if plain || shape == [4, 3, 3] && sp_dash {
                c(K::UsNpi, if plain { 0.3 } else { 0.4 }, ck::us_npi(d));
            }
            if plain && on.has(K::DePersonalId) {
                // Pre-2010 German identity card: nine digits and the check digit.
                let mut a = [0u8; 10];
                for (x, &v) in a.iter_mut().zip(d) {
                    *x = v + b'0';
                }
                c(K::DePersonalId, 0.15, ck::de_personal_id(&a));
            }
            if (shape == [6, 4] && run.all_sep(b'-')) || plain {
                c(
                    K::SePersonnummer,
                    if plain { 0.3 } else { 0.55 },
                    ck::se_personnummer(d),
                );
                c(
                    K::SeOrganisationsnummer,
                    if plain { 0.3 } else { 0.45 },
                    ck::se_organisationsnummer(d),
                );
            }
        }
        11 => {
            if plain || (shape == [2, 3, 3, 3] && run.all_sep(b' ')) {
                c(K::AuAbn, if plain { 0.45 } else { 0.6 }, ck::au_abn(d));
                c(K::DeTaxId, 0.3, ck::de_tax_id(d));
            }
            if plain {
                c(K::PlPesel, 0.3, ck::pl_pesel(d));
                // Partita IVA: Luhn over 11 digits; 1 in 10 numbers pass, so context decides.
                c(K::ItVatCode, 0.2, ck::luhn(d));
            }
            if shape == [4, 5, 1, 1] && run.all_sep(b' ') || shape == [4, 5, 2] && run.all_sep(b' ')
            {
                c(K::AuMedicare, 0.5, ck::au_medicare(d));
            }
        }
        12 if (shape == [8, 4] && run.all_sep(b'-') || plain) => {
            c(
                K::SePersonnummer,
                if plain { 0.3 } else { 0.55 },
                ck::se_personnummer(&d[2..]),
            );
        }
        _ => {}
    }
    // German tax number (Steuernummer): the 13-digit ELSTER form, or a
    // state's printed form (`FF/BBB/UUUUP` BE, HH, NI, `FFF/BBB/UUUUP` BY
    // and the eastern states, `FFF/BBBB/UUUP` NW, `FF/BBB/UUUU/P` RP,
    // `FFBBB/UUUUP` BW, `FF BBB UUUUP` HB and SH, `0FF BBB UUUUP` HE).
    // No state check digit is verified, so context decides.
    if on.has(K::DeTaxNumber) {
        let slash = run.all_sep(b'/');
        let space = run.all_sep(b' ');
        let printed = match shape {
            [2, 3, 5] => slash || space,
            [3, 3, 5] => slash || space && d[0] == 0,
            [3, 4, 4] | [2, 3, 4, 1] | [5, 5] => slash,
            _ => false,
        };
        if printed || plain && ck::de_tax_number_elster(d) {
            c(K::DeTaxNumber, 0.3, true);
        }
    }
    if d.len() == 15 && (plain || shape == [1, 2, 2, 2, 3, 3, 2] && run.all_sep(b' ')) {
        c(K::FrInsee, if plain { 0.4 } else { 0.6 }, ck::fr_insee(d));
    }
    if plain && (8..=17).contains(&d.len()) {
        // US bank account numbers have no structure: context only.
        c(K::UsBankNumber, 0.2, true);
    }
    if plain && (8..=14).contains(&d.len()) {
        // Nor have most US driver's licences (Presidio scores bare digits
        // 0.01): context only.
        c(K::UsDriverLicense, 0.15, true);
    }
    if (12..=19).contains(&d.len()) && sp_dash {
        let shaped = plain
            || matches!(
                shape,
                [4, 4, 4, 4]
                    | [4, 6, 5]
                    | [4, 6, 4]
                    | [4, 4, 4, 4, 3]
                    | [4, 4, 4, 3]
                    | [4, 4, 4, 2]
                    | [4, 4, 5]
                    | [4, 4, 4, 4, 2]
                    | [4, 4, 4, 4, 1]
            );
        c(K::CreditCard, 0.9, shaped && ck::credit_card(d));
    }
}

fn consider_dob(
    ok: bool,
    run: &Run,
    on: KindSet,
    consider: &mut impl FnMut(K, f32, usize, KindSet),
) {
    if ok {
        // Base below any threshold: a date is only a birth date in context.
        consider(K::DateOfBirth, 0.2, run.end, on);
    }
}

/// Is the digit at `s` just after an Australian state or territory written
/// as its capitalised abbreviation (`NSW 2026`, `Hobart TAS 7000`)?
fn after_au_state(b: &[u8], s: usize) -> bool {
    const STATES: [&[u8]; 8] = [b"NSW", b"VIC", b"QLD", b"TAS", b"ACT", b"SA", b"WA", b"NT"];
    super::after_symbol(b, s, &STATES)
}

/// Does a word that numbers something else end just before `s` (`ext
/// 2060`, `Cost centre 4007`, `Room 3056`, `#2022`)? Such a number is no
/// postcode, whatever postcode it equals.
fn numbered_by_word(b: &[u8], s: usize) -> bool {
    if s > 0 && b[s - 1] == b'#' {
        return true;
    }
    let head = b[..s].strip_suffix(b" ").unwrap_or(&b[..s]);
    let head = head
        .strip_suffix(b":")
        .or_else(|| head.strip_suffix(b"."))
        .unwrap_or(head);
    let n = head
        .iter()
        .rev()
        .take(12)
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    let mut word = [0u8; 12];
    word[..n].copy_from_slice(&head[head.len() - n..]);
    word[..n].make_ascii_lowercase();
    matches!(
        &word[..n],
        b"ext"
            | b"extension"
            | b"x"
            | b"centre"
            | b"center"
            | b"room"
            | b"rm"
            | b"no"
            | b"number"
            | b"ref"
            | b"id"
            | b"ticket"
            | b"order"
            | b"invoice"
            | b"job"
            | b"case"
            | b"unit"
            | b"level"
            | b"suite"
            | b"box"
            | b"floor"
            | b"version"
            | b"build"
            | b"port"
            | b"pin"
            | b"code"
            | b"year"
            | b"in"
            | b"since"
    )
}

/// Does a noun for what is counted follow the number ending at `end` (`
/// users`, ` customers`, ` tickets`): a count, so no code?
fn counted_after(b: &[u8], end: usize) -> bool {
    let Some(rest) = b.get(end..).and_then(|r| r.strip_prefix(b" ")) else {
        return false;
    };
    let n = rest
        .iter()
        .take(13)
        .take_while(|c| c.is_ascii_lowercase())
        .count();
    rest.get(n).is_none_or(|c| !c.is_ascii_alphanumeric())
        && matches!(
            &rest[..n],
            b"users"
                | b"people"
                | b"customers"
                | b"clients"
                | b"members"
                | b"employees"
                | b"households"
                | b"addresses"
                | b"properties"
                | b"records"
                | b"rows"
                | b"entries"
                | b"tickets"
                | b"requests"
                | b"orders"
                | b"parcels"
                | b"items"
                | b"accounts"
                | b"devices"
                | b"sites"
                | b"stores"
                | b"errors"
                | b"results"
                | b"times"
        )
}

/// `Auckland 1010`, `Palmerston North 4410`: a New Zealand city just
/// before a four-digit code that is no year (`Auckland 2024`); New
/// Zealand writes its postcode after the city alone.
fn after_nz_city(b: &[u8], s: usize, run: &Run) -> bool {
    const CITIES: [&[u8]; 16] = [
        b"Auckland",
        b"Wellington",
        b"Christchurch",
        b"Hamilton",
        b"Tauranga",
        b"Dunedin",
        b"Palmerston North",
        b"Napier",
        b"Hastings",
        b"Nelson",
        b"Rotorua",
        b"New Plymouth",
        b"Invercargill",
        b"Whanganui",
        b"Gisborne",
        b"Porirua",
    ];
    let year = matches!(run.value(0), 1900..=2099);
    if year || s < 2 || b[s - 1] != b' ' {
        return false;
    }
    let before = &b[..s - 1];
    // (The last letters compared first: `ends_with` of each city was a
    // `memcmp` call.)
    CITIES.iter().any(|c| {
        before.last() == c.last()
            && before.ends_with(c)
            && (before.len() == c.len()
                || !before[before.len() - c.len() - 1].is_ascii_alphanumeric())
    })
}

/// Is `between` what joins two items of a list (`, `, ` and `, ` et `),
/// after a bracketed place (` (Glenorchy), `)?
fn listed(between: &[u8]) -> bool {
    let rest = match between.strip_prefix(b" (") {
        Some(inner) => match memchr::memchr(b')', inner) {
            Some(k) if k <= 32 => &inner[k + 1..],
            _ => return false,
        },
        None => between,
    };
    matches!(
        rest,
        b", "
            | b" and "
            | b", and "
            | b" or "
            | b", or "
            | b" & "
            | b" et "
            | b" und "
            | b" oder "
            | b" y "
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `has_sep` tests the eight separator bytes at once: it answers what
    /// `seps().contains` answers, on random runs of every shape.
    #[test]
    fn has_sep_matches_the_separators() {
        const ALPHABET: &[u8] = b"0123456789 -./a(";
        let mut x: u64 = 0x0BAD_5EED_1234_9876;
        for _ in 0..50_000 {
            crate::xorshift(&mut x);
            let mut y = x;
            let text: Vec<u8> = (0..(x % 40) as usize)
                .map(|_| {
                    crate::xorshift(&mut y);
                    ALPHABET[(y % ALPHABET.len() as u64) as usize]
                })
                .collect();
            for s in 0..text.len() {
                let Some(run) = Run::parse(&text, s) else {
                    continue;
                };
                for c in [b' ', b'-', b'.', b'/', b'a', b'1'] {
                    assert_eq!(run.has_sep(c), run.seps().contains(&c), "{text:?} at {s}");
                }
            }
        }
    }

    /// `best_candidate`, which skips questions that cannot change the
    /// winner, picks what asking every candidate picks.
    #[test]
    fn best_candidate_matches_asking_all() {
        let bases = [0.15, 0.2, 0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.9];
        let kinds = [
            K::UsSsn,
            K::CaSin,
            K::NzIrd,
            K::UsBankNumber,
            K::UsDriverLicense,
            K::Phone,
        ];
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut skipped = 0;
        for _ in 0..50_000 {
            crate::xorshift(&mut x);
            let n = 1 + (x % 6) as usize;
            let cands: Vec<(K, f32, usize)> = (0..n)
                .map(|j| {
                    (
                        kinds[j],
                        bases[(x >> (8 + 4 * j)) as usize % bases.len()],
                        j,
                    )
                })
                .collect();
            let hits = |k: K| x >> (40 + kinds.iter().position(|&q| q == k).unwrap_or(0)) & 1 != 0;
            let mut want: Option<(f32, usize, K)> = None;
            for &(k, base, end) in &cands {
                let score = if hits(k) { base + CONTEXT_BOOST } else { base };
                if want.is_none_or(|(bs, _, _)| score > bs) {
                    want = Some((score, end, k));
                }
            }
            let mut asked = 0;
            let got = best_candidate(&cands, |k| {
                asked += 1;
                hits(k)
            });
            skipped += n - asked;
            assert_eq!(got, want, "{cands:?}");
        }
        assert!(skipped > 10_000, "{skipped}");
    }

    /// Where `sole` names a candidate, `digit`'s loop picks it under
    /// every context (each candidate boosted or not).
    #[test]
    fn sole_candidate_wins_in_every_context() {
        let bases: Vec<f32> = (0..=20)
            .map(|k| k as f32 * 0.05)
            .chain([0.15, 0.2, 0.3, 0.35, 0.4, 0.45, 0.55, 0.6, 0.65, 0.7, 0.9])
            .collect();
        let pick = |cands: &[(K, f32, usize)], boosted: u32| {
            let mut best: Option<(f32, usize, K)> = None;
            for (j, &(k, base, end)) in cands.iter().enumerate() {
                let score = if boosted >> j & 1 != 0 {
                    base + CONTEXT_BOOST
                } else {
                    base
                };
                if best.is_none_or(|(bs, _, _)| score > bs) {
                    best = Some((score, end, k));
                }
            }
            best.map(|(_, end, k)| (k, end))
        };
        let mut sole_pairs = 0;
        for &a in &bases {
            assert_eq!(sole(&[(K::CreditCard, a, 1)]), Some((K::CreditCard, a, 1)));
            for &b in &bases {
                let cands = [(K::IpAddress, a, 1), (K::Phone, b, 2)];
                if let Some((k, _, end)) = sole(&cands) {
                    sole_pairs += 1;
                    for boosted in 0..4 {
                        assert_eq!(pick(&cands, boosted), Some((k, end)), "{a} {b} {boosted}");
                    }
                }
            }
        }
        assert!(sole_pairs > 100, "{sole_pairs}");
    }

    /// `phone_of_run` is `phone` wherever `digit` calls it.
    #[test]
    fn phone_of_run_reads_as_phone() {
        const ALPHABET: &[u8] = b"0123456789012345678901234567890123456789 -./()+a";
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let (mut checked, mut phones) = (0, 0);
        for _ in 0..200_000 {
            crate::xorshift(&mut x);
            let len = (x % 28) as usize;
            let text: Vec<u8> = (0..len)
                .map(|k| ALPHABET[((x >> (k % 8 * 8)) as usize + k * 7) % ALPHABET.len()])
                .collect();
            for s in 0..text.len() {
                let Some(run) = Run::parse(&text, s) else {
                    continue;
                };
                let paren_near =
                    matches!(at(&text, run.end), b'(' | b')') || at(&text, run.end + 1) == b'(';
                if run.groups == 0 || paren_near || run.has_sep(b'/') {
                    continue;
                }
                checked += 1;
                phones += usize::from(phone(&text, s).is_some());
                assert_eq!(
                    phone_of_run(&text, s, &run),
                    phone(&text, s),
                    "{:?} at {s}",
                    String::from_utf8_lossy(&text)
                );
            }
        }
        assert!(checked > 100_000 && phones > 5_000, "{checked} {phones}");
    }
}
