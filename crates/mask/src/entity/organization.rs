//! `ORGANIZATION`: one to five capitalised name words followed by a legal
//! form (`Acme Logistics Pty Ltd`, `Müller Bau GmbH & Co. KG`, `Initech
//! LLC`, `Kiwi Farms Limited`, `Lumière S.A.`). Detected at 0.85; the
//! default masking policy keeps it (most ticket organisations are the
//! customer company, not a person).

use super::{Pass, Run, Shape, leading_word, names, person};
use crate::kind::K;

const RECOGNIZER: &str = "legal_form_suffix";
const SCORE: f32 = 0.85;

/// Legal forms, longest first where one starts another; matched case-
/// sensitively after a space and before a non-alphanumeric byte (through
/// `forms_for`, which groups them by first byte; a test checks the two
/// agree).
#[cfg(test)]
const LEGAL_FORMS: [&str; 62] = [
    "GmbH & Co. KG",
    "Pty. Ltd.",
    "Pty Ltd",
    "Pty Limited",
    "PTY. LTD.",
    "PTY LTD",
    "PTY LIMITED",
    "Pte. Ltd.",
    "Pte Ltd",
    "Co., Ltd.",
    "Co. Ltd.",
    "Co. Ltd",
    "Sdn Bhd",
    "S.à r.l.",
    "S.A.S.",
    "S.p.A.",
    "S.r.l.",
    "L.L.C.",
    "Limited",
    "LIMITED",
    "Incorporated",
    "INCORPORATED",
    "Corporation",
    "CORPORATION",
    "GmbH",
    "GMBH",
    "Ltd.",
    "Ltd",
    "LTD.",
    "LTD",
    "LLC",
    "LLP",
    "Inc.",
    "Inc",
    "INC.",
    "INC",
    "Corp.",
    "Corp",
    "CORP.",
    "CORP",
    "plc",
    "PLC",
    "S.A.",
    "SAS",
    "B.V.",
    "BV",
    "N.V.",
    "NV",
    "AG",
    "SE",
    "KGaA",
    "KG",
    "OHG",
    "ULC",
    "UG",
    "Ltée",
    "e.V.",
    "Oy",
    "AB",
    "A/S",
    "DAC",
    "CLG",
];

/// Can a legal form start with `c`?
#[inline]
pub(super) fn form_start(c: u8) -> bool {
    matches!(
        c,
        b'G' | b'P'
            | b'C'
            | b'S'
            | b'L'
            | b'I'
            | b'p'
            | b'B'
            | b'N'
            | b'A'
            | b'K'
            | b'U'
            | b'e'
            | b'O'
            | b'D'
    )
}

/// Does a legal form start at `s` (`Ltd`, `plc`)? The first byte rules
/// most words out before the forms are compared (inline: asked after most
/// capitalised words).
#[inline(always)]
pub(super) fn form_at(b: &[u8], s: usize) -> bool {
    b.get(s).is_some_and(|&c| form_start(c)) && legal_form_at(b, s).is_some()
}

/// Finds an organisation in `run`: the index of its first word in the run
/// and where it ends.
pub(super) fn find(pass: &mut Pass<'_>, run: &Run) -> Option<(usize, usize)> {
    let b = pass.b;
    let words = run.words();
    // Skip leading greetings and such: the name starts at the first word
    // after which only name words come.
    for (k, w) in words.iter().enumerate() {
        // `Pinecrest Software, Inc.`, `Outdoor Gear, LLC`: a US form may
        // follow a comma.
        let s = if b.get(w.end) == Some(&b' ') {
            w.end + 1
        } else if k + 1 == words.len()
            && b.get(w.end..w.end + 5)
                .is_some_and(|f| matches!(f, b", Inc" | b", LLC" | b", LLP" | b", Cor"))
        {
            w.end + 2
        } else {
            continue;
        };
        if !b.get(s).is_some_and(|&c| form_start(c)) {
            continue;
        }
        let Some(form_end) = legal_form_at(b, s) else {
            continue;
        };
        // `STORAGE SPACE LIMITED`: in capitals, `LIMITED` is a firm's
        // only after a firm's word (`ASANTE HOLDINGS LIMITED`) or in a
        // form's field for a firm (`EMPLOYER: HARBOUR CITY CLEANING
        // LIMITED`).
        if b[s..].starts_with(b"LIMITED")
            && !firm_word_in_capitals(&b[w.start..w.end])
            && !firm_field(b, s)
        {
            continue;
        }
        let name = &words[..=k];
        let mut first = name.iter().position(|w| {
            w.is_capitalised()
                    && !lead_word(&b[w.start..w.end])
                    // `Ask Acme Ltd`, `Attention Acme Ltd`: a contact word.
                    && w.flags & names::CONTACT == 0
                    // `Mme Gagnon de Les Services … Ltée`: a title.
                    && w.flags & names::TITLE == 0
        })?;
        // `PARTS SUPPLIED BY WESSEX IMAGING SOLUTIONS LTD`: in capitals,
        // the name starts after a preposition.
        if let Some(c) = name.iter().rposition(|w| {
            w.shape == Shape::Upper
                && matches!(
                    &b[w.start..w.end],
                    b"BY" | b"FROM" | b"TO" | b"FOR" | b"VIA" | b"WITH" | b"AT"
                )
        }) && c >= first
            && c + 1 < name.len()
        {
            first = c + 1;
        }
        let titled = first > 0 && name[first - 1].flags & names::TITLE != 0;
        // `Ravi Kumar of Acme Ltd`, `Giulia Bianchi di Ferrante S.p.A.`,
        // `Mme Marie-Ève Gagnon de Les Services … Ltée`: a person (a given
        // name, or after a title) before `of`, `and` or a particle is not
        // part of the name (`Lang & Partners` and `Van der Berg
        // Engineering` are).
        if let Some(c) = name.iter().rposition(|w| {
            w.shape == Shape::Connector && b[w.start] != b'&' || w.shape == Shape::Particle
        }) && c > first
            && (name[c].shape == Shape::Connector || c - first >= 2)
            && (titled
                || person::name_flags(&name[first]) & (names::GIVEN | names::AMBIGUOUS)
                    == names::GIVEN)
        {
            first = c + 1;
        }
        let name = &name[first..];
        // `Is it Pty Ltd or Ltd?`: parts of legal forms name nothing.
        if forms_only(b, name) {
            continue;
        }
        if device_or_state(b, name, s, form_end) {
            continue;
        }
        if name.is_empty()
            || !name.iter().all(|w| {
                w.is_capitalised() || matches!(w.shape, Shape::Connector | Shape::Particle)
            })
        {
            return None;
        }
        // `Big Corp Inc.`, `Acme Co. Ltd`: a second form (`Inc`, `Ltd`,
        // `LLC`…) after the first.
        let form_end = second_form(b, form_end);
        let form_end = sentence_stop(b, form_end);
        let start = if first == 0 && b[s..].starts_with("Lt\u{e9}e".as_bytes()) {
            french_noun_before(b, name[0].start)
                .filter(|&p| pass.out.last().is_none_or(|f| f.end <= p))
                .unwrap_or(name[0].start)
        } else if first == 0 {
            partners_before(b, name).unwrap_or(name[0].start)
        } else {
            name[0].start
        };
        pass.push(start, form_end, K::Organization, SCORE, RECOGNIZER);
        return Some((first, form_end));
    }
    None
}

/// Where a firm whose run is `name` starts, if it starts before the run:
/// partners' names before it, each before a comma, opening the line, when
/// the name joins its last with `&` (`Harlow, Finch & Dunmore LLP`, a
/// signature's firm; not `Lorenzo Bianchi, Bianchi & Figli …`, nor
/// `ACCOUNTS DEPT, PEEL & ROBSON …`: a field before a firm); a particle
/// opening the line (`von Essen Immobilien AG`).
#[cold]
fn partners_before(b: &[u8], name: &[super::Word]) -> Option<usize> {
    let mut start = name[0].start;
    if name
        .iter()
        .any(|w| w.shape == Shape::Connector && b[w.start] == b'&')
    {
        let mut found = None;
        // (Two partners at most before the run: `Allen, Baker, Cole & Co`.)
        for _ in 0..2 {
            let Some(head) = b[..start].strip_suffix(b", ") else {
                break;
            };
            let ws = head
                .iter()
                .rposition(|c| !(c.is_ascii_alphabetic() || matches!(c, b'\'' | b'-')))
                .map_or(0, |k| k + 1);
            let partner = super::capital_word(b, ws).filter(|w| {
                w.end == head.len()
                    && matches!(w.shape, Shape::Title | Shape::Upper)
                    && w.flags & (names::STOP | names::GREETING | names::CONTACT | names::TITLE)
                        == 0
                    && !lead_word(&b[w.start..w.end])
            });
            let Some(w) = partner else {
                break;
            };
            start = w.start;
            found = Some(start);
        }
        if found.is_some_and(|p| p == 0 || b[p - 1] == b'\n') {
            return found;
        }
        start = name[0].start;
    }
    // `von Essen Immobilien AG`, `van der Berg Engineering Ltd`: a name's
    // particles (see `entity::small_word`) opening the line.
    let mut p = start;
    for _ in 0..3 {
        let Some(e) = p.checked_sub(1).filter(|&e| b[e] == b' ') else {
            break;
        };
        let s = b[..e]
            .iter()
            .rposition(|c| !c.is_ascii_lowercase())
            .map_or(0, |k| k + 1);
        if s == e || super::small_word(&b[s..e]) != Some(Shape::Particle) {
            break;
        }
        p = s;
    }
    (p < start && (p == 0 || b[p - 1] == b'\n')).then_some(p)
}

/// `the USB DAC`, `the new USB DAC`, `the Siemens PLC on the pump`: one
/// word after `the` (and a lower-case word) before `DAC` or `PLC` names a
/// device (a converter, a controller); and `Adelaide S.A. 5000` is South
/// Australia before a postcode. The form is at `s..form_end`, after
/// `name`.
fn device_or_state(b: &[u8], name: &[super::Word], s: usize, form_end: usize) -> bool {
    let form = &b[s..form_end];
    // (`the new USB DAC`: one lower-case word between.)
    let start = name[0].start;
    let word = b[..start].strip_suffix(b" ").map_or(0, |h| {
        h.iter()
            .rev()
            .take_while(|c| c.is_ascii_lowercase())
            .count()
    });
    let the = super::after_the(b, start) || word > 0 && super::after_the(b, start - word - 1);
    name.len() == 1 && the && matches!(form, b"DAC" | b"PLC")
        || form == b"S.A." && super::number_follows(b, form_end)
}

/// Does the line up to `s` open with a form's label for a firm
/// (`EMPLOYER: `, `Supplier: `), the only colon on it?
fn firm_field(b: &[u8], s: usize) -> bool {
    // (A field's line is short: its start looked for within 120 bytes.)
    let Some(start) = super::line_start_within(b, s, 120) else {
        return false;
    };
    let line = &b[start..s];
    let Some(colon) = line.iter().position(|&c| c == b':') else {
        return false;
    };
    let mut label = [0u8; 14];
    let n = colon.min(label.len());
    label[..n].copy_from_slice(&line[..n]);
    label[..n].make_ascii_lowercase();
    colon <= label.len()
        && line[colon + 1..].starts_with(b" ")
        && !line[colon + 1..].contains(&b':')
        && matches!(
            &label[..n],
            b"employer"
                | b"company"
                | b"customer"
                | b"client"
                | b"supplier"
                | b"vendor"
                | b"bill to"
                | b"ship to"
                | b"payee"
                | b"contractor"
                | b"organisation"
                | b"organization"
                | b"business"
                | b"entity"
        )
}

/// A word that names what a firm does, in capitals (`HOLDINGS`,
/// `SERVICES`, `LOGISTICS`), as `… LIMITED` follows it.
fn firm_word_in_capitals(w: &[u8]) -> bool {
    matches!(
        w,
        b"HOLDINGS"
            | b"GROUP"
            | b"SERVICES"
            | b"SOLUTIONS"
            | b"SYSTEMS"
            | b"TECHNOLOGIES"
            | b"TECHNOLOGY"
            | b"INDUSTRIES"
            | b"ENTERPRISES"
            | b"TRADING"
            | b"INVESTMENTS"
            | b"PROPERTIES"
            | b"LOGISTICS"
            | b"CONSULTING"
            | b"PARTNERS"
            | b"INTERNATIONAL"
            | b"CONSTRUCTION"
            | b"ENGINEERING"
            | b"MANAGEMENT"
            | b"CAPITAL"
            | b"VENTURES"
            | b"(NZ)"
            | b"NZ"
            | b"AUSTRALIA"
            | b"UK"
            | b"IRELAND"
            | b"CANADA"
    )
}

/// ` Inc.`, ` Ltd`, ` LLC`, ` Limited` after the legal form ending at `e`
/// (`Big Corp Inc.`): where it ends; else `e`.
#[cold]
#[inline(never)]
fn second_form(b: &[u8], e: usize) -> usize {
    let Some(rest) = b.get(e..).and_then(|r| r.strip_prefix(b" ")) else {
        return e;
    };
    leading_word(
        rest,
        &[b"Inc.", b"Inc", b"Ltd.", b"Ltd", b"LLC", b"LLP", b"Limited"],
    )
    .map_or(e, |f| e + 1 + f.len())
}

/// Are `name`'s words all words of legal forms?
#[cold]
#[inline(never)]
fn forms_only(b: &[u8], name: &[super::Word]) -> bool {
    name.iter().all(|w| form_word(&b[w.start..w.end]))
}

/// Is `w` a word of a legal form (`Pty`, `Co`, `Corp`, `Ltd`)?
fn form_word(w: &[u8]) -> bool {
    matches!(
        w,
        b"Pty"
            | b"Pte"
            | b"Co"
            | b"Corp"
            | b"Inc"
            | b"Ltd"
            | b"Limited"
            | b"LLC"
            | b"GmbH"
            | b"Sdn"
            | b"Bhd"
            | b"PLC"
            | b"AG"
    )
}

/// A legal form's full stop that also ends the text or a sentence
/// (`… Group Ltd.` at the end, `… Ltd. The invoice …`) is the sentence's:
/// the form ends before it. Elsewhere (`Corp.` ending a field line,
/// `Inc..`, `Pty. Ltd.,`), and after a form that is an abbreviation
/// written with its stop (`Inc.`, `Corp.`, `Co.`, even last in the text),
/// it is the form's.
fn sentence_stop(b: &[u8], e: usize) -> usize {
    let single_dot = |f: &[u8]| f.iter().filter(|&&c| c == b'.').count() == 1;
    let last_is_dot = e >= 1 && b[e - 1] == b'.';
    let sentence_end = match b.get(e) {
        None | Some(b'\n' | b'\r') => true,
        Some(b' ') => b.get(e + 1).is_some_and(u8::is_ascii_uppercase),
        _ => false,
    };
    let form_start = b[..e].iter().rposition(|&c| c == b' ').map_or(0, |p| p + 1);
    let abbreviation = matches!(
        &b[form_start..e],
        b"Inc." | b"Corp." | b"Co." | b"INC." | b"CORP."
    );
    if last_is_dot && sentence_end && !abbreviation && single_dot(&b[form_start..e]) {
        e - 1
    } else {
        e
    }
}

/// Does a firm's name start at `s`: one to five capitalised words on the
/// line, then a legal form (`Carraig Data Services DAC`, `Ponderosa
/// Leasing Corp.`)?
#[cold]
pub(super) fn firm_at(b: &[u8], s: usize) -> bool {
    // Words read by their bytes alone (no lexicon: only the form matters).
    let mut p = s;
    for _ in 0..5 {
        if !b.get(p).is_some_and(u8::is_ascii_uppercase) {
            return false;
        }
        let Some(space) = b[p..]
            .iter()
            .take(32)
            .position(|&c| c == b' ' || c == b'\n')
        else {
            return false;
        };
        if b[p + space] != b' ' {
            return false;
        }
        p += space + 1;
        if b.get(p).is_some_and(|&c| form_start(c)) && legal_form_at(b, p).is_some() {
            return true;
        }
    }
    false
}

/// The end of the legal form starting at `s`, if one does.
#[inline(always)]
fn legal_form_at(b: &[u8], s: usize) -> Option<usize> {
    let rest = b.get(s..)?;
    let first = *rest.first()?;
    // (The eight bytes at `s`, zero past the text, against each form's
    // first eight: most forms are told apart in one compare, where
    // `starts_with` made a `memcmp` call for every form whose second byte
    // matched, seven for a name in `Co`.)
    let head = super::load8(b, s);
    for form in forms_for(first) {
        let text = form.text.as_bytes();
        if head & form.mask != form.head || text.len() > 8 && !rest.starts_with(text) {
            continue;
        }
        let e = s + text.len();
        let ends = b
            .get(e)
            .is_none_or(|&c| !(c.is_ascii_alphanumeric() || c >= 0x80));
        // `INC-40812`: an incident's number, not `Inc`.
        let incident = text == b"INC" && b.get(e) == Some(&b'-');
        if ends && !incident {
            return Some(e);
        }
    }
    None
}

/// A legal form, with its first eight bytes as a little-endian word (zero
/// past its end) and the mask of those bytes (see [`legal_form_at`]).
struct Form {
    text: &'static str,
    head: u64,
    mask: u64,
}

impl Form {
    const fn new(text: &'static str) -> Form {
        let t = text.as_bytes();
        let (mut head, mut mask, mut k) = (0u64, 0u64, 0);
        while k < t.len() && k < 8 {
            head |= (t[k] as u64) << (8 * k);
            mask |= 0xFF << (8 * k);
            k += 1;
        }
        Form { text, head, mask }
    }
}

/// A `&'static [Form]` of the given forms.
macro_rules! forms {
    ($($f:literal),* $(,)?) => {{
        const F: &[Form] = &[$(Form::new($f)),*];
        F
    }};
}

/// The legal forms that start with `first`, in the order of `LEGAL_FORMS`
/// (longest first where one starts another).
fn forms_for(first: u8) -> &'static [Form] {
    match first {
        b'G' => forms!["GmbH & Co. KG", "GmbH", "GMBH"],
        b'P' => forms![
            "Pty. Ltd.",
            "Pty Ltd",
            "Pty Limited",
            "PTY. LTD.",
            "PTY LTD",
            "PTY LIMITED",
            "Pte. Ltd.",
            "Pte Ltd",
            "PLC",
        ],
        b'C' => forms![
            "Co., Ltd.",
            "Co. Ltd.",
            "Co. Ltd",
            "Corporation",
            "CORPORATION",
            "Corp.",
            "Corp",
            "CORP.",
            "CORP",
            "CLG",
        ],
        b'S' => forms![
            "Sdn Bhd",
            "S.à r.l.",
            "S.A.S.",
            "S.p.A.",
            "S.r.l.",
            "S.A.",
            "SAS",
            "SE",
        ],
        b'L' => forms![
            "L.L.C.", "Limited", "LIMITED", "Ltd.", "Ltd", "LTD.", "LTD", "LLC", "LLP", "Ltée",
        ],
        b'I' => forms!["Incorporated", "INCORPORATED", "Inc.", "Inc", "INC.", "INC"],
        b'p' => forms!["plc"],
        b'B' => forms!["B.V.", "BV"],
        b'N' => forms!["N.V.", "NV"],
        b'A' => forms!["AG", "AB", "A/S"],
        b'K' => forms!["KGaA", "KG"],
        b'U' => forms!["ULC", "UG"],
        b'e' => forms!["e.V."],
        b'O' => forms!["OHG", "Oy"],
        // Irish: designated activity company.
        b'D' => forms!["DAC"],
        _ => &[],
    }
}

/// Capitalised words that begin sentences, not company names (in
/// capitals too: `PAY ACME LTD`).
fn lead_word(w: &[u8]) -> bool {
    lead_word_title(w) || super::title_case(w).is_some_and(|(t, n)| lead_word_title(&t[..n]))
}

fn lead_word_title(w: &[u8]) -> bool {
    matches!(
        w,
        b"Hi"
            | b"Hello"
            | b"Dear"
            | b"Thanks"
            | b"The"
            | b"Our"
            | b"We"
            | b"Your"
            | b"From"
            | b"Contact"
            | b"Customer"
            | b"Client"
            | b"Supplier"
            | b"Vendor"
            | b"Please"
            | b"Re"
            | b"Fwd"
            | b"Yesterday"
            | b"Today"
            | b"At"
            | b"In"
            | b"For"
            | b"With"
            | b"Cc"
            // Verbs and labels that start a request: `Use Acme Ltd`,
            // `Invoice Acme Ltd`, `Attn Acme Ltd`.
            | b"Use"
            | b"Email"
            | b"Invoice"
            | b"Pay"
            | b"Remind"
            | b"Via"
            | b"Company"
            | b"Payee"
            | b"Attn"
            | b"Ring"
            | b"Phone"
            | b"Notify"
            | b"Cancel"
            | b"Renew"
            // A question's first word: `Can Northgate Freight LLC open a
            // claim?`, `Has Acme Ltd paid?` (not `Will`, a name).
            | b"Can"
            | b"Could"
            | b"Would"
            | b"Should"
            | b"Does"
            | b"Did"
            | b"Has"
            | b"Have"
            | b"Is"
            | b"Are"
            | b"Was"
            | b"Were"
            | b"Why"
            | b"When"
            | b"How"
            | b"Where"
            // German articles: `Die Stahlberg AG hat …` (not French ones:
            // `La Trobe Financial Ltd` is the name).
            | b"Die"
            | b"Der"
            | b"Das"
            // A firm's relation or place in German (`die neue
            // Tochtergesellschaft Saanenland Tourismus GmbH`).
            | b"Tochtergesellschaft"
            | b"Schwestergesellschaft"
            | b"Muttergesellschaft"
            | b"Firma"
            | b"Kanzlei"
            | b"Standort"
            | b"Standorte"
            | b"Rechnungsempf\xC3\xA4nger"
            | b"Rechnungsempf\xC3\xA4ngerin"
            // Senders and recipients in German and French forms.
            | b"Absender"
            | b"Empf\xC3\xA4nger"
            | b"Kunde"
            | b"Lieferant"
            | b"Auftraggeber"
            | b"Exp\xC3\xA9diteur"
            | b"Destinataire"
            | b"Fournisseur"
            // What a German letter says came from a firm: `Rechnung von
            // Hansa Lagertechnik GmbH`, `Angebot der …`.
            | b"Rechnung"
            | b"Angebot"
            | b"Lieferung"
            | b"Bestellung"
            | b"Auftrag"
            | b"Mahnung"
            | b"Gutschrift"
            | b"Lieferschein"
            | b"Nachricht"
            | b"Anruf"
            | b"Sendung"
    )
}

/// `Services informatiques Lacoursière Ltée`: before a French legal form,
/// a capitalised noun and its lower-case adjective (French puts it after)
/// start the name that begins at `s`. Where they start, if they do.
fn french_noun_before(b: &[u8], s: usize) -> Option<usize> {
    let e = s.checked_sub(1).filter(|&e| b[e] == b' ')?;
    let adj = b[..e]
        .iter()
        .rev()
        .take(20)
        .take_while(|&&c| c.is_ascii_lowercase() || c >= 0x80)
        .count();
    let a = e - adj;
    if adj < 4 || a < 2 || b[a - 1] != b' ' || !b[a].is_ascii_lowercase() {
        return None;
    }
    let n = b[..a - 1]
        .iter()
        .rev()
        .take(20)
        .take_while(|&&c| c.is_ascii_alphabetic() || c >= 0x80)
        .count();
    let ns = a - 1 - n;
    let noun = super::capital_word(b, ns)?;
    (noun.end == a - 1
        && noun.shape == Shape::Title
        && super::word_start(b, ns)
        && !lead_word(&b[noun.start..noun.end]))
    .then_some(ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forms_by_first_byte_are_the_legal_forms_in_order() {
        let mut grouped: Vec<&str> = Vec::new();
        for first in 0..=255u8 {
            grouped.extend(forms_for(first).iter().map(|f| f.text));
            let listed: Vec<&str> = LEGAL_FORMS
                .iter()
                .copied()
                .filter(|f| f.as_bytes()[0] == first)
                .collect();
            let texts: Vec<&str> = forms_for(first).iter().map(|f| f.text).collect();
            assert_eq!(texts, listed);
            assert_eq!(form_start(first), !listed.is_empty());
        }
        assert_eq!(grouped.len(), LEGAL_FORMS.len());
    }

    /// `legal_form_at`, comparing eight-byte heads, finds what comparing
    /// each form's bytes (`starts_with`) finds: every form, cut short,
    /// changed in a byte or followed by any byte, at the text's end too,
    /// and random texts of forms' pieces.
    #[test]
    fn legal_form_heads_match_comparing_the_bytes() {
        fn by_bytes(b: &[u8], s: usize) -> Option<usize> {
            let rest = b.get(s..)?;
            let first = *rest.first()?;
            for form in forms_for(first) {
                let text = form.text.as_bytes();
                if !rest.starts_with(text) {
                    continue;
                }
                let e = s + text.len();
                let ends = b
                    .get(e)
                    .is_none_or(|&c| !(c.is_ascii_alphanumeric() || c >= 0x80));
                if ends && !(text == b"INC" && b.get(e) == Some(&b'-')) {
                    return Some(e);
                }
            }
            None
        }
        let check = |text: &[u8]| {
            for s in 0..=text.len() {
                assert_eq!(
                    legal_form_at(text, s),
                    by_bytes(text, s),
                    "{:?} at {s}",
                    String::from_utf8_lossy(text)
                );
            }
        };
        for form in LEGAL_FORMS {
            let f = form.as_bytes();
            for cut in 0..=f.len() {
                check(&f[..cut]);
                let mut t = b"x ".to_vec();
                t.extend_from_slice(&f[..cut]);
                for after in [b' ', b'-', b'.', b'a', b'Z', b'7', 0xC3, b'\n'] {
                    let mut u = t.clone();
                    u.push(after);
                    check(&u);
                }
                check(&t);
                for k in 0..cut {
                    let mut u = t.clone();
                    u[2 + k] ^= 0x20;
                    check(&u);
                    u[2 + k] ^= 0x21;
                    check(&u);
                }
            }
        }
        let pieces: Vec<&[u8]> = LEGAL_FORMS
            .iter()
            .map(|f| f.as_bytes())
            .chain([
                &b"Co"[..],
                b" ",
                b".",
                b",",
                b"-40812",
                b"Connor",
                b"Lisa",
                b"\xC3\xA9",
            ])
            .collect();
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..5_000 {
            let n = 1 + (crate::xorshift(&mut x) % 5) as usize;
            let mut t = Vec::new();
            for _ in 0..n {
                let p = pieces[(crate::xorshift(&mut x) % pieces.len() as u64) as usize];
                // Sometimes a piece's first bytes only.
                let cut = if crate::xorshift(&mut x).is_multiple_of(3) {
                    (crate::xorshift(&mut x) % (p.len() as u64 + 1)) as usize
                } else {
                    p.len()
                };
                t.extend_from_slice(&p[..cut]);
            }
            check(&t);
        }
    }
}
