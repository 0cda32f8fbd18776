//! `PERSON`: names from the gazetteer, weighed by context.
//!
//! | evidence | example | score |
//! |---|---|---|
//! | strong context, then any title-case words | `Dr Oyelaran`, `my name is Tama Ngata`, a name on the line after `Regards,`, `Tom Becker (tom.becker@…)` | 0.95 |
//! | given name and surname, not both common words | `Sarah Jones`, `Wei Li`, `Aroha Ngata` | 0.85 |
//! | a name after a greeting or a contact word | `Hi Grace,`, `cc Will`, `spoke to Becker` | 0.8 |
//! | given name, then an unknown title-case word | `Priya Ramaswamy` | 0.7 |
//! | a given name alone, not a common word | `ask Priya` | 0.6 |
//!
//! Names that are also common words or places (`Will`, `Grace`, `May`,
//! `Bill`, `Mark`, `Rose`, `Hope`, `Victoria`) and surnames alone count only
//! with context. Titles and greetings are context, never part of the span.

use super::names::{
    AMBIGUOUS, BRAND, CONTACT, GIVEN, GREETING, MAX_NAME, NAME, PARTICLE, PLACE, PLACE_HEAD,
    PLACE_NAME, PLACE_PREFIX, STOP, STREET, SURNAME, TITLE, get, lookup_lower, lower,
};
use super::{Pass, Shape, Word, leading_word, word_before};
use crate::Finding;
use crate::kind::K;
use std::borrow::Cow;

pub(super) const RECOGNIZER: &str = "person_gazetteer";

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(super) enum Context {
    None,
    /// A contact word or preposition (`to`, `with`, `cc`… no: `cc` is
    /// medium): a gazetteer name that is not a common word counts, a
    /// surname alone too.
    Weak,
    /// A greeting (`Hi`, `Dear`, `Thanks`, `cc`): a gazetteer name counts,
    /// even a common-word one.
    Medium,
    /// A title, an introduction, a sign-off line or a matching email: any
    /// title-case words are the name.
    Strong,
}

pub(super) fn find(pass: &mut Pass<'_>, words: &[Word]) {
    // Connectors (`Sarah and Tom`) separate people; `&` with one word that
    // is no given name on a side joins a firm's names (`Marks & Spencer`,
    // `Ernst & Young`; `Sarah & Tom` are people).
    if words.len() >= 3 && firm_names(pass, words) {
        return;
    }
    if words.iter().any(|w| w.shape == Shape::Connector) {
        people_joined(pass, words);
    } else if !lone_context_word(pass.b, words) {
        segment_person(pass, words);
    }
    if let Some(last) = words.last()
        && last.flags & GREETING != 0
    {
        greeted_in_lower_case(pass, last.end);
    }
}

/// Is `words` a title or a greeting alone, no comma after it (`Hi team,`,
/// read for the name greeted in lower case)? [`segment_person`] finds no
/// name there (a name starts after its context words) and is not asked:
/// its call cost some 150 instructions at each.
#[inline(always)]
fn lone_context_word(b: &[u8], words: &[Word]) -> bool {
    matches!(words, [w] if context_word(w.flags).is_some() && b.get(w.end) != Some(&b','))
}

/// A run with connectors (`Sarah and Tom`): each side on its own; but in
/// `the Collins and Bourke meeting rooms`, one-word names joined before a
/// room or site word all name rooms, and in `Julia and Ada toolchains`,
/// before a word for software, software; after a determiner and before a
/// noun, names of any length name things (`the Ted Baker and Calvin Klein
/// shelf tickets`).
#[cold]
fn people_joined(pass: &mut Pass<'_>, words: &[Word]) {
    let end = words[words.len() - 1].end;
    // (`the Ted Baker and Calvin Klein shelf tickets`: after a
    // determiner, before a noun, names qualify a thing.)
    let b = pass.b;
    let things = || {
        (determiner_before(b, words[0].start)
            || matches!(&b[words[0].start..words[0].end], b"The" | b"This" | b"Our"))
            && noun_after(b, end)
    };
    let rooms = words.len() >= 3 && (venue_after(b, end) || software_after(b, end) || things());
    // (`Glen Eden and Henderson sites`, `Charles Sturt and James Cook
    // universities`: before a plural, names of two words name places too.)
    let places = rooms && plural_venue_after(b, end);
    for segment in words.split(|w| w.shape == Shape::Connector) {
        let room = rooms && (segment.len() == 1 || places && segment.len() == 2 || things());
        if !segment.is_empty() && !room {
            segment_person(pass, segment);
        }
    }
}

/// `Hi jessica,`: after a greeting ending at `end`, a given name in lower
/// case that is no common word, alone before a comma, `!`, a full stop or
/// the line's end; one that is a common word only before a comma.
#[cold]
fn greeted_in_lower_case(pass: &mut Pass<'_>, end: usize) {
    let b = pass.b;
    let Some(rest) = b.get(end..).and_then(|r| r.strip_prefix(b" ")) else {
        return;
    };
    let len = rest
        .iter()
        .take(MAX_NAME + 1)
        .take_while(|c| c.is_ascii_lowercase())
        .count();
    if !(3..=MAX_NAME).contains(&len)
        || !matches!(
            rest.get(len),
            None | Some(b',' | b'!' | b'.' | b'\n' | b'\r')
        )
    {
        return;
    }
    let mut buf = [0u8; MAX_NAME];
    buf[..len].copy_from_slice(&rest[..len]);
    let flags = lookup_lower(&buf, len) & !SURNAME;
    // `Hi grace,`: a given name that is also a word, only before a comma
    // and never an endearment (`hi love,`, `hi honey,`).
    let common = flags == GIVEN | AMBIGUOUS
        && rest.get(len) == Some(&b',')
        && !matches!(
            &rest[..len],
            b"love"
                | b"honey"
                | b"dear"
                | b"darling"
                | b"sweetie"
                | b"sunshine"
                | b"angel"
                | b"buddy"
                | b"mate"
                | b"boss"
                | b"chief"
                | b"doc"
                | b"champ"
                | b"guys"
        );
    if flags == GIVEN || common {
        let start = end + 1;
        pass.push(start, start + len, K::Person, 0.7, RECOGNIZER);
    }
}

/// Do `words` hold a firm's names joined by `&` (see [`find`])? If so, the
/// people before the firm are read, and nothing after.
#[cold]
#[inline(never)]
fn firm_names(pass: &mut Pass<'_>, words: &[Word]) -> bool {
    let b = pass.b;
    let firm = |k: usize| {
        let single_not_given = |w: Option<&Word>, other: Option<&Word>| {
            w.is_some_and(|w| {
                w.is_capitalised()
                    && !other.is_some_and(Word::is_capitalised)
                    && name_flags(w) & (GIVEN | AMBIGUOUS) != GIVEN
            })
        };
        let (before, after) = (k.checked_sub(1).map(|j| &words[j]), words.get(k + 1));
        b[words[k].start] == b'&'
            && (single_not_given(before, k.checked_sub(2).map(|j| &words[j]))
                || single_not_given(after, words.get(k + 2)))
    };
    if let Some(k) = (1..words.len()).find(|&k| words[k].shape == Shape::Connector && firm(k)) {
        // The words before the firm's first name may still name someone
        // (`Ravi Kumar of Marks & Spencer`: `of` splits them).
        let start = words[..k]
            .iter()
            .rposition(|w| w.shape == Shape::Connector)
            .map_or(0, |c| c + 1);
        if start > 0 {
            find(pass, &words[..start - 1]);
        }
        return true;
    }
    false
}

fn segment_person(pass: &mut Pass<'_>, words: &[Word]) {
    let b = pass.b;
    // `Co. Clare`, `CO. KERRY`: an Irish county.
    if let Some(w) = words.first()
        && w.end - w.start == 2
        && matches!(b.get(w.start..w.end + 2), Some(b"Co. " | b"CO. "))
    {
        return;
    }
    if words.last().is_some_and(|w| b.get(w.end) == Some(&b',')) && surname_first_field(pass, words)
    {
        return;
    }
    let own;
    let words = if (0..words.len()).any(|k| stop_given_named(b, words, k)) {
        own = stop_given_names(b, words);
        &own.0[..own.1]
    } else {
        words
    };
    // Leading context words (`Hi`, `Dr`) and words that are no name
    // (`Yesterday`, `Please`, `I'm`) are not part of the name; the context
    // is read before the first word that may be.
    let after_title = |k: usize| k > 0 && words[k - 1].flags & TITLE != 0;
    // (Nor a word before a title: `CALL MRS OKONJO`.)
    let before_title = |k: usize| words.get(k + 1).is_some_and(|n| n.flags & TITLE != 0);
    // (Nor a role noun, `Referred by: Engineer Sean Fitzgerald`, nor a
    // verb of contacting that is also a surname before a name: `Call Sean
    // Fitzgerald today`.)
    let verb = |k: usize| {
        k == 0
            && words[0].flags & (CONTACT | AMBIGUOUS) == CONTACT | AMBIGUOUS
            && words
                .get(1)
                .is_some_and(|n| name_flags(n) != 0 || role_noun(n))
    };
    // `MY NAME IS PRIYA SHARMA`: `Name`, a given name too, introduces.
    let name_is = |k: usize| {
        &b[words[k].start..words[k].end] == b"NAME"
            && words
                .get(k + 1)
                .is_some_and(|n| matches!(&b[n.start..n.end], b"IS" | b"WAS"))
    };
    let first = (0..words.len())
        .find(|&k| {
            let w = &words[k];
            context_word(w.flags).is_none()
                && !before_title(k)
                && !role_noun(w)
                && !verb(k)
                && match w.shape {
                    Shape::Title => {
                        name_flags(w) != 0
                            || after_title(k)
                            || greeted(b, words, k, || lower_greeting_before(pass, w.start))
                            || strong_before(pass, w.start) && !sign_off_pronoun(&b[w.start..w.end])
                            || w.flags == 0 && pass.maybe_known(w) && pass.known_word(w)
                    }
                    // (`MRS OKONJO`: after a title, any word of four letters
                    // or more not in the lexicon; not after `MS`, as often
                    // Microsoft's: `MS SQL`, `MS ACCESS`.)
                    Shape::Upper => {
                        name_flags(w) != 0 && !name_is(k)
                            || after_title(k)
                                && w.flags == 0
                                && w.end - w.start >= 4
                                && &b[words[k - 1].start..words[k - 1].end] != b"MS"
                    }
                    _ => false,
                }
        })
        .unwrap_or(words.len());
    // `Ms de la Cruz`, `Mr van der Berg`: particles after a title start
    // the name.
    let first = match words[..first]
        .iter()
        .position(|w| w.flags & TITLE != 0 && w.shape != Shape::Particle)
    {
        Some(t) if words.get(t + 1).is_some_and(|w| w.shape == Shape::Particle) => {
            let name = t
                + 1
                + words[t + 1..]
                    .iter()
                    .take_while(|w| w.shape == Shape::Particle)
                    .count();
            if words.get(name).is_some_and(|w| w.shape == Shape::Title) {
                t + 1
            } else {
                first
            }
        }
        _ => first,
    };
    // `J. Smith`, `Dr R. K. Okafor`: initials just before a title-case
    // name word are the name's (not `M.`, French for Mr: `M. Gagnon`).
    let first = if words.get(first).is_some_and(|w| w.shape == Shape::Title) {
        first
            - words[..first]
                .iter()
                .rev()
                .take_while(|w| w.shape == Shape::Initial && b[w.start] != b'M')
                .count()
    } else {
        first
    };
    // A title or greeting just before, in the run (`Prof. Grant`: the
    // full stop hides it from the text before the name).
    // `M.` before a name is French for Mr, a title.
    let lead = first.checked_sub(1).and_then(|k| {
        let w = &words[k];
        if w.shape == Shape::Initial && b[w.start] == b'M' {
            Some(Context::Strong)
        } else {
            context_word(w.flags)
        }
    });
    // `the Mr Sheen`, `the Dr Pepper machine`: a title after `the` names a
    // brand (not after `an` or `that`: `an Frau Vogt`, `note that Mr Lee`).
    if lead == Some(Context::Strong)
        && words[first - 1].flags & TITLE != 0
        && super::after_the(b, words[first - 1].start)
    {
        return;
    }
    // `From: Tanvir Chowdhury`, `Caller Siosaia Fifita`: a word the lexicon
    // does not know, just before a surname that is no given name, after a
    // contact word, greeting or title, is the given name.
    let unknown_given = first > 0
        && lead.is_none()
        && first < words.len()
        && (unknown_word(&words[first - 1]) || stop_given(b, &words[first - 1]))
        && {
            let f = name_flags(&words[first]);
            f & SURNAME != 0 && f & (GIVEN | AMBIGUOUS) == 0
                && (pass
                    .person_context(words[first - 1].start)
                    .is_some_and(|c| c >= Context::Weak)
                    || mid_sentence(b, words[first - 1].start))
                // `asked Jarrah Williams`, `for Mata'afa Leota`, `Remind
                // Seo-yeon Kim`: a surname that is a given name too, last
                // in the run, after a word the lexicon does not know in
                // mid-sentence (or shaped like a given name: `Seo-yeon`):
                // that word is the given name, not a word before the name.
                || f & (SURNAME | AMBIGUOUS) == SURNAME
                    && first + 1 == words.len()
                    && (given_shaped_before(b, &words[first - 1])
                        // `Customer: Gethin Lloyd, tel …`: or after a
                        // contact word, the surname ending the field.
                        || matches!(
                            b.get(words[first].end),
                            None | Some(b'\n' | b'\r' | b')' | b',')
                        ) && pass
                            .person_context(words[first - 1].start)
                            .is_some_and(|c| c >= Context::Weak))
                // `refund Bich Ngoc Tran`: before a given name and a
                // surname that end the run, in mid-sentence, a first given
                // name.
                || f & (GIVEN | AMBIGUOUS) == GIVEN
                    && first + 2 == words.len()
                    && name_flags(&words[first + 1]) & (SURNAME | AMBIGUOUS) == SURNAME
                    && mid_sentence(b, words[first - 1].start)
        };
    // `Nurul Huda binti Ismail`: one or two words the lexicon does not
    // know before `binti` or `ibn` and a name are given names (not `bin`:
    // `Recycle bin`).
    let patronymic = if first >= 2
        && !unknown_given
        && lead.is_none()
        && first < words.len()
        && name_flags(&words[first]) != 0
        && words[first - 1].shape == Shape::Particle
        && matches!(
            &b[words[first - 1].start..words[first - 1].end],
            b"binti" | b"bint" | b"ibn"
        ) {
        let n = words[..first - 1]
            .iter()
            .rev()
            .take(2)
            .take_while(|w| unknown_word(w))
            .count();
        if n > 0 { n + 1 } else { 0 }
    } else {
        0
    };
    // `the Whare Kai`, `our Fortitude Smith`: after a determiner, words
    // the lexicon does not know, then a name: a thing's name. (The
    // determiner, a pure test of the text, looked for only where asked,
    // with weak context or none, not at every run: corpus −0.13 a byte.)
    let after_determiner = || {
        first > 0
            && !unknown_given
            && patronymic == 0
            && lead.is_none()
            && words[..first].iter().all(unknown_word)
            && determiner_before(b, words[0].start)
    };
    let first = if unknown_given {
        first - 1
    } else {
        first - patronymic
    };
    // The run is one word, or a greeting or title and one word.
    let lone = words.len() == first + 1 && (first == 0 || lead.is_some());
    // The run opens with the name, or a greeting, title or contact word
    // does (`Customer Summer`; not `NZ Post`, `Canada Post`).
    let opens_run = first == 0 || lead.is_some() || words[first - 1].flags & CONTACT != 0;
    let words = &words[first..];
    let Some(head) = words.first() else {
        return;
    };
    // A place of several words (`Hong Kong`, `Northern Ireland`) is no
    // person; the words after it are read on their own.
    if let Some(k) = place_at(b, words) {
        if k < words.len() {
            segment_person(pass, &words[k..]);
        }
        return;
    }
    let Some(mut ctx) = pass.person_context(head.start) else {
        // (No name starts here, but one may after a preposition and a
        // title: `im Kalender von Herrn Huber`.)
        if let Some(k) = title_after_particle(words) {
            segment_person(pass, &words[k..]);
        }
        return;
    };
    if let Some(lead) = lead {
        ctx = ctx.max(lead);
    }
    // `Jack from Carraig Data Services DAC`, `Ngozi Eze from … PLC`,
    // `Takumi is from … Ltd`: the run before `from` and a firm's name with
    // its legal form is a person's name, whole (the run opens with a
    // gazetteer name and holds no stop word or brand).
    if ctx < Context::Medium
        && head.shape == Shape::Title
        && name_flags(head) != 0
        && words.iter().all(|w| w.flags & (STOP | BRAND) == 0)
        && from_firm(b, words[words.len() - 1].end)
    {
        ctx = Context::Strong;
    }
    // `J. Smith`: an initial before a name word makes a person's name as
    // a greeting would, even of a surname that is a common word.
    if head.shape == Shape::Initial
        && words
            .iter()
            .find(|w| w.shape != Shape::Initial)
            .is_some_and(|w| w.shape == Shape::Title && name_flags(w) != 0)
    {
        ctx = ctx.max(Context::Medium);
    }
    // `On Friday, Mark wrote:`: a quoted message's header names its
    // writer, as a greeting would (the run's words the gazetteer holds).
    // `Grace said the …`: so does a verb of saying after a run that opens
    // with a given name, holds no stop word or brand (`Dell confirmed`,
    // `Ward Manager says`) and, past one word, no place (`Canada Post
    // says`); a surname alone (`Redwood said`) names a server as often.
    if ctx < Context::Medium && head.shape == Shape::Title && name_flags(head) != 0 {
        let rest = &b[words[words.len() - 1].end..];
        let speaker = || {
            name_flags(head) & GIVEN != 0
                && opens_run
                && words.iter().all(|w| {
                    w.flags & (STOP | BRAND) == 0 && (words.len() == 1 || w.flags & PLACE_NAME == 0)
                })
                && says_after(rest)
        };
        // `forward to Frank in procurement`, `Grace from Payroll`: a given
        // name before the department its person works in (no place, month
        // or weekday: `Victoria in Sales` may be the state's, `May in
        // accounts` the month's).
        let staff = || {
            name_flags(head) & GIVEN != 0
                && words
                    .iter()
                    .all(|w| w.flags & (STOP | BRAND | PLACE | PLACE_NAME) == 0)
                && !month(&b[head.start..head.end])
                && department_after(rest)
        };
        // `Will can you …`, `Mark, could you …`, `Summer: can you …`: a
        // given name that opens its line or sentence, spoken to.
        let addressed = || {
            name_flags(head) & GIVEN != 0
                && words.len() == 1
                && opens_run
                && head.flags & (BRAND | PLACE | PLACE_NAME) == 0
                && sentence_start(b, head.start)
                && addressed_after(rest)
        };
        // `for Jack's desk`, `Will's laptop`: a given name owning what a
        // person at work has.
        let owner = || {
            name_flags(head) & GIVEN != 0
                && words.len() == 1
                && head.flags & (BRAND | PLACE | PLACE_NAME | STOP) == 0
                && !determiner_before(b, head.start)
                && belongings_after(rest)
        };
        // `while Jack is away`, `Grace is on leave`: a given name whose
        // person is away from work (no place, month or brand: `May is
        // quiet`; not after a determiner: `the Summer is over`).
        let away = || {
            away_after(rest)
                && name_flags(head) & GIVEN != 0
                && words.len() == 1
                && head.flags & (BRAND | PLACE | PLACE_NAME | STOP) == 0
                && !month(&b[head.start..head.end])
                && !determiner_before(b, head.start)
        };
        // `call Grace on 021 555 0134`: a given name to phone, its number
        // after it (not a place's: `call Sydney on 02 …`, the office).
        let phoned = || {
            (rest.starts_with(b" on ") || rest.starts_with(b" at "))
                && rest
                    .get(4)
                    .is_some_and(|c| c.is_ascii_digit() || matches!(c, b'+' | b'('))
                && name_flags(head) & GIVEN != 0
                && head.flags & (BRAND | PLACE_NAME) == 0
                && word_before(b, head.start).is_some_and(|(s, e)| {
                    matches!(
                        lower_ascii::<8>(&b[s..e]).as_ref().map(|l| &l[..e - s]),
                        Some(b"call" | b"ring" | b"phone" | b"text")
                    )
                })
        };
        // `Sorted now. - Nick`: a dash's signature ending a line after a
        // sentence; opening its line only as the text's last or before a
        // blank line (`\n- Aroha\n\n`), where a list's item is rare.
        let signed = || {
            words.len() <= 2
                && matches!(rest, [] | [b'\n' | b'\r', ..])
                && b[..head.start].strip_suffix(b"- ").is_some_and(|h| {
                    h.ends_with(b". ")
                        || h.ends_with(b"! ")
                        || h.ends_with(b"? ")
                        || (h.is_empty() || h.ends_with(b"\n"))
                            && (rest.is_empty()
                                || rest.starts_with(b"\n\n")
                                || rest.starts_with(b"\r\n\r\n"))
                            && !list_item_above(h)
                })
        };
        if rest.starts_with(b" wrote:")
            || speaker()
            || owner()
            || away()
            || staff()
            || chat_speaker(b, head.start, rest, name_flags(head) & GIVEN != 0)
            || pronouns_after(rest)
            || rest.first() == Some(&b'-') && super::honorific(&rest[1..])
            || addressed()
            || signed()
            || phoned()
        {
            ctx = Context::Medium;
        }
    }
    // (`MRS J PATEL`: a letter without a full stop before a word in
    // capitals is an initial of a name in capitals.)
    if head.shape == Shape::Upper
        || caps_initial(b, head) && words.get(1).is_some_and(|w| w.shape == Shape::Upper)
    {
        return upper_case_person(pass, words, ctx);
    }
    // `Charlotte Ahn … Charlotte's start date`: a word of a person found
    // earlier, alone (a common word or place only before `'s`).
    if lone && ctx < Context::Strong {
        if pass.maybe_known(head) && pass.known_word(head) {
            if known_alone(b, head, false) {
                pass.push(
                    head.start,
                    head.end,
                    K::Person,
                    super::KNOWN_SCORE,
                    RECOGNIZER,
                );
                return;
            }
            // (Not found as the person again, the word is read as any
            // other: `Frank Müller … Frank, can you check`, spoken to.)
        } else if head.shape == Shape::Title
            && name_flags(head) & GIVEN != 0
            && pass.deferred_n < DEFERRED
        {
            // (A person found later may hold it: see `Pass::known_later`.)
            pass.deferred[pass.deferred_n] = head.start;
            pass.deferred_n += 1;
        }
    }
    // The name: title-case words, initials and particles, up to the first
    // other word.
    // A stop word that is also a name, between two names, is one (`Phạm
    // Thu Hà`: `Thu` is Thursday elsewhere).
    let sandwiched = |k: usize| {
        k > 0
            && words[k].flags & NAME != 0
            && name_flags(&words[k - 1]) != 0
            && words.get(k + 1).is_some_and(|w| name_flags(w) != 0)
    };
    let mut n = 0;
    while n < words.len()
        && matches!(
            words[n].shape,
            Shape::Title | Shape::Initial | Shape::Particle
        )
        && (words[n].flags & STOP == 0 || sandwiched(n) || n == 0 && unknown_given)
        && (n == 0 || words[n].flags & TITLE == 0)
    {
        n += 1;
    }
    // `im Kalender von Herrn Huber`, `le bureau de Mme Roy`: a particle
    // before a title is a preposition; the words before it name no one,
    // and the title opens the name.
    if n > 0 && title_after_particle(words) == Some(n) {
        segment_person(pass, &words[n..]);
        return;
    }
    // `the north side of Leroy Lane`, `Karen Street`: names before a
    // street type (a stop word, so not in the name) name the street.
    if ctx < Context::Strong
        && n > 0
        && words
            .get(n)
            .is_some_and(|w| w.shape == Shape::Title && w.flags & (STREET | STOP) == STREET | STOP)
    {
        return;
    }
    // `Bondi NSW 2026`, `Columbus OH 43219`: names before a state and a
    // postcode name the town.
    if ctx < Context::Strong
        && n > 0
        && words.get(n).is_some_and(|w| {
            w.shape == Shape::Upper
                && super::address::state_code(&b[w.start..w.end])
                && super::number_follows(b, w.end)
        })
    {
        return;
    }
    // `Grey Lynn 1021,`: names without context that end the run, before
    // four digits ending a list's item, name a suburb by its postcode.
    if ctx <= Context::Weak
        && n > 0
        && n == words.len()
        && b.get(words[n - 1].end + 1).is_some_and(u8::is_ascii_digit)
        && code_after(b, words[n - 1].end)
    {
        return;
    }
    // `approved by Line Manager`, `Account Manager`: one name word before
    // a role noun names a job.
    if ctx < Context::Strong
        && n == 1
        && words
            .get(1)
            .is_some_and(|w| w.shape == Shape::Title && role_noun(w))
    {
        return;
    }
    // `Regards,\nPayroll Services`, `Microsoft Support`: words the
    // gazetteer does not hold before a department or function word sign
    // off a team, not a person (`Tom Becker Support Lead` is one).
    if ctx == Context::Strong
        && lead.is_none()
        && words
            .get(n)
            .is_some_and(|w| w.shape == Shape::Title && w.flags & STOP != 0)
        && !words[..n].iter().any(|w| {
            let f = name_flags(w);
            f & (GIVEN | SURNAME) != 0 && f & AMBIGUOUS == 0
        })
    {
        return;
    }
    // `Cheers,\nCatering`, `Regards,\nFacilities Management`: a word the
    // gazetteer does not know that ends like a trade or a function
    // (`-ing`, `-ment`, `-ics`) names a team, not a person.
    if ctx == Context::Strong
        && lead.is_none()
        && n >= 1
        && unknown_word(&words[n - 1])
        && trade_word(b, &words[n - 1])
    {
        return;
    }
    // A name just before a geographic word names a place (`Hunter
    // Valley`, `Rose Bay`, `George Street`, `Asia Pacific`; `Victoria
    // Park` after a name that is also a place or a word): it is no person,
    // nor is the rest of the run.
    // A street word (`Park`, `Hill`) after a surname that is no given name
    // names a place too (`Hyde Park`; `Jisoo Park` stays a person, and so
    // does `Full name: Ah-young Park`: a surname ending the run after a
    // person's label).
    let labelled_surname = |k: usize| {
        ctx == Context::Strong && k + 1 == words.len() && name_flags(&words[k]) & SURNAME != 0
    };
    let place = |k: usize| {
        let (w, before) = (&words[k], &words[k - 1]);
        w.shape == Shape::Title
            && (w.flags & PLACE != 0
                || w.flags & STREET != 0
                    && (before.flags & AMBIGUOUS != 0 || before.flags & GIVEN == 0)
                    && !labelled_surname(k))
    };
    if let Some(k) = (1..words.len().min(n + 1)).find(|&k| place(k)) {
        // `James Cook University`, `Marie Curie Hospice`: the words, all
        // of them, before an institution or a geographic word name it
        // (a weekday after two words or more ends the name: `Tom Becker
        // Monday`; after one it names a holiday: `Easter Monday`).
        let weekday = b[..words[k].end].ends_with(b"day");
        let named_after = k >= 2
            && words[k].flags & PLACE != 0
            && words[..k].iter().all(|w| w.shape == Shape::Title);
        n = if weekday && k >= 2 {
            k
        } else if named_after {
            0
        } else {
            k - 1
        };
    }
    // Initials alone name no one (`Plan B. Smith Street`: the street cut
    // the name).
    if words[..n].last().is_none_or(|w| w.shape == Shape::Initial)
        && words[..n].iter().all(|w| w.shape == Shape::Initial)
    {
        return;
    }
    // Capitalised particles inside a name (`Aroha Te Whata`, `Seán Ó
    // Murchú`, `Trần Thị Lan`) join it as particles. (Copied only when
    // the name holds one: most hold none, and the copy of eight words
    // cost 0.18 instructions a byte of the dev corpus.)
    let own;
    let words = if (1..n.saturating_sub(1)).any(|k| inner_particle(&words[k])) {
        own = inner_particles(&words[..n]);
        &own.0[..own.1]
    } else {
        &words[..n]
    };
    if words.is_empty() {
        return;
    }
    let mut flags = [0u16; super::MAX_RUN];
    for (f, w) in flags.iter_mut().zip(words) {
        if w.shape == Shape::Title {
            *f = if w.flags & STOP != 0 {
                // Kept only sandwiched (above).
                w.flags & NAME
            } else {
                name_flags(w)
            };
        }
    }
    if unknown_given {
        flags[0] = GIVEN;
    }
    for f in flags.iter_mut().take(patronymic.saturating_sub(1)) {
        *f = GIVEN;
    }
    if ctx < Context::Strong && email_matches(pass, words) {
        ctx = Context::Strong;
    }
    // `…today?\nRose`: a given name, even a common word (not a place:
    // `…\nRichmond\nVictoria`), alone on a text's last line signs it off.
    if ctx < Context::Medium
        && words.len() == 1
        && flags[0] & GIVEN != 0
        && words[0].flags & PLACE_NAME == 0
        && last_line_alone(b, words[0].start, words[0].end)
    {
        ctx = Context::Medium;
    }
    if ctx == Context::Medium && words.len() == 1 && words[0].flags == 0 {
        // Greeted (see `greeted`).
        if !venue_after(b, words[0].end) {
            pass.push(words[0].start, words[0].end, K::Person, 0.8, RECOGNIZER);
        }
        return;
    }
    let Some((len, score)) = judge(b, words, &flags[..words.len()], ctx) else {
        return;
    };
    // `ab Mai`, `im August`: a German month, not a name.
    if ctx < Context::Strong && len == 1 && german_month(b, &words[0]) {
        return;
    }
    let len = patronymic_after(b, words, len);
    let start = words[0].start;
    let end = words[len - 1].end;
    if ctx < Context::Strong
        && (venue_after(b, end)
            || institution_after(b, end)
            || matches!(b.get(end..end + 2), Some([b' ', b'D' | b'J']))
                && holiday_after(b, end, len))
    {
        return;
    }
    // `Morgan Stanley Tower`, `Grace Hospital`: the name's last word an
    // institution's (after one name, only a word that is no surname; never
    // `Hall`, `Church`, `Chapel`: surnames as often).
    if ctx < Context::Strong
        && (len >= 3 || len == 2 && words[1].flags == 0)
        && !matches!(
            &b[words[len - 1].start..end],
            b"Hall" | b"Church" | b"Chapel"
        )
        && institution(&b[words[len - 1].start..end])
    {
        return;
    }
    // `Name: Awhitu Depot`: a site's name, even after a person's label
    // (not a surname: `Ward`, `Hall`).
    if len >= 2 && words[len - 1].flags & SURNAME == 0 && venue_word(&b[words[len - 1].start..end])
    {
        return;
    }
    // `Whitfield, Mark <mark.whitfield@…>`: surname, comma, given name,
    // an email that carries one of them; one person.
    // `Assigned to: Nguyen, Thi Lan` at a field's end: after a contact
    // word, a surname that is no common word, then given names.
    // (Not a later item of a list split by commas, `To: Ola, Benedikt,
    // Imani Wallace`: the comma after it is the list's.)
    let surname = flags[0] & (SURNAME | AMBIGUOUS) == SURNAME;
    if len == 1
        && (ctx == Context::Strong || ctx >= Context::Weak && surname)
        && !b[..start].ends_with(b", ")
        && let Some(given) = given_after_comma(b, end, words[0].shape == Shape::Upper, false)
    {
        pass.person_end = given;
        pass.push(start, given, K::Person, score, RECOGNIZER);
        return;
    }
    // `the Hilton issue`, `our Kauri site`, `his Mac`: one name word after
    // a determiner names a thing, not a person; so do names ending in a
    // geographic word (`the Eden Park screens`).
    // After a determiner, two names that are both common words name a
    // thing too (`the Stanley Cup`, `the Victoria Police liaison`).
    let place_end = words[len - 1].flags & (STREET | PLACE) != 0;
    let common_pair = score < 0.7 && len == 2;
    if ctx <= Context::Weak
        && (after_determiner()
            || (len == 1 || place_end || common_pair) && determiner_before(b, start))
    {
        return;
    }
    // `the Kahu Health devices`, `the São Paulo team`: after a
    // determiner, a name before a lower-case noun qualifies it: a thing,
    // a place or a firm, not a person.
    // (The noun first: cheaper, and it decides most runs.)
    if ctx <= Context::Weak && noun_after(b, end) && determiner_before(b, start) {
        return;
    }
    // `Otis engineer booked`, `Dell technician`: one name before a
    // trade's worker names the firm that sends them.
    if ctx <= Context::Weak && len == 1 && worker_after(b, end) {
        return;
    }
    // `Harcourt & Sons`, `Besnard Vallée et Fils`: a family business.
    if ctx < Context::Strong && b.get(end) == Some(&b' ') && business_tail(&b[end + 1..]) {
        return;
    }
    // `Arthur's Pass`, `Hunter's Hill`, `Valentine's Day`: a name, `'s`
    // and a geographic word or `Day` name a place or a holiday.
    if ctx < Context::Strong
        && matches!(b.get(end), Some(b'\'' | 0xE2))
        && possessive_place_after(b, end)
    {
        return;
    }
    // `Hi Dev Team`, `McKenna Group`, `Kelly Services`: a word before a
    // group or business word names the group (`Teams`, the product, may
    // follow a name).
    if ctx < Context::Strong && len == 1 && group_after(b, end) {
        return;
    }
    // `Goods In`, `Check Out`, `Sign Up`: a common word before a
    // capitalised adverb names a place or an action, not a person.
    if ctx < Context::Strong && len == 1 && words[0].flags & AMBIGUOUS != 0 && phrasal_after(b, end)
    {
        return;
    }
    // `Von:` (the German `From:`), `De :`: a particle before a colon is a
    // header's label.
    if len == 1 && words[0].flags & PARTICLE != 0 && matches!(b.get(end), Some(b':')) {
        return;
    }
    // `at Albert Park`, `in Kings Cross`: a place word ending the name
    // after a preposition of place; so does a name alone there (`Outlook
    // on Mac`, `in Chelsea`; not `in Priya's team`).
    if ctx == Context::None
        && (words[len - 1].flags & STREET != 0
            || len == 1 && !matches!(b.get(end), Some(b'\'' | 0xE2)))
        && place_preposition(b, start)
    {
        return;
    }
    // `Julia 1.10.4`, `Hudson legacy plugin`, `the Julia notebooks`: one
    // name before a version or a word for software names the software.
    if ctx <= Context::Weak && len == 1 && software_after(b, end) {
        return;
    }
    // `Software: Python, Julia`, `Product: La Rosa 2-group machine`: in a
    // field that lists things, a name without context is a thing's.
    if ctx == Context::None
        && start >= 2
        && matches!(&b[start - 2..start], b", " | b": ")
        && thing_line(b, start)
    {
        return;
    }
    // `Les colis destinés…`, `Elle travaille…`, `Max. Gewicht`, `Max
    // balance per order`: a French article or pronoun, or an abbreviation
    // of a limit.
    if ctx == Context::None && len == 1 && article_or_limit(b, start, end) {
        return;
    }
    // (One word is remembered only after a title or a label: `Sgt Hohaia
    // rang … email Hohaia directly`.)
    if (len >= 2 || ctx == Context::Strong) && score >= pass.min_score {
        pass.remember(&words[0], &words[len - 1]);
    }
    pass.push(start, end, K::Person, score, RECOGNIZER);
}

/// How many of `words` (two to four, from the first) name a place of
/// several words in the lexicon (`Hong Kong`, `Hyde Park`, `New South
/// Wales`). Asked only once a name's first word is found.
fn place_at(b: &[u8], words: &[Word]) -> Option<usize> {
    let head = words.first()?;
    if head.flags & PLACE_HEAD == 0 {
        return None;
    }
    let start = head.start;
    (2..=words.len().min(4)).rev().find(|&n| {
        let end = words[n - 1].end;
        let mut buf = [0u8; MAX_NAME];
        end - start <= MAX_NAME
            && words[..n].iter().all(|w| w.shape == Shape::Title)
            && lower(&b[start..end], &mut buf)
                .and_then(|len| get(&buf, len))
                .is_some_and(|f| f & PLACE_NAME != 0)
    })
}

/// The first of `words` that is a title just after a particle (`von
/// Herrn`, `de Mme`): the particle is a preposition there.
fn title_after_particle(words: &[Word]) -> Option<usize> {
    (1..words.len()).find(|&k| words[k - 1].shape == Shape::Particle && words[k].flags & TITLE != 0)
}

/// `"van der Berg, Pieter"`, `1041|Harper, Quinn|`, `2. Wong, Kelvin —
/// Approved`: a surname (its particles before it), a comma and given
/// names, alone in a field of a list or a table, are one person, context
/// or not. Found, the person is pushed and `true` returned.
#[cold]
#[inline(never)]
fn surname_first_field(pass: &mut Pass<'_>, words: &[Word]) -> bool {
    let b = pass.b;
    let Some((last, lead)) = words.split_last() else {
        return false;
    };
    // (No place: `Hamilton, Victoria`.) A surname in capitals
    // (`PATEL, Rohan`, `NGATA, Hine`: a roster's or a directory's way) may
    // be one the gazetteer lacks, but no word the lexicon knows as
    // something else (`THANKS, Sarah`, `URGENT, Mark`) nor a common word
    // (`DONE, Sarah`).
    let caps = (last.shape == Shape::Upper || mc_in_capitals(&b[last.start..last.end]))
        && last.end - last.start >= 2
        && last.flags & !(NAME | PLACE_NAME) == 0
        // (A place only when a surname too, `MOORE, Dawn`, the place
        // making it ambiguous; otherwise ambiguous is a common word.)
        && if last.flags & PLACE_NAME != 0 {
            last.flags & SURNAME != 0
        } else {
            last.flags & AMBIGUOUS == 0
        };
    if !(caps || last.shape == Shape::Title && name_flags(last) & (SURNAME | AMBIGUOUS) == SURNAME)
        // (Particles before, capitalised too: `Van der Merwe, Pieter`.)
        || !lead
            .iter()
            .all(|w| w.shape == Shape::Particle || w.flags & PARTICLE != 0)
    {
        return false;
    }
    // Lower-case particles before the run (`van der Berg`, `de la Cruz`).
    let mut start = words[0].start;
    for _ in 0..3 {
        match word_before(b, start) {
            Some((ps, pe))
                if pe + 1 == start
                    && b[pe] == b' '
                    && b[ps].is_ascii_lowercase()
                    && pe - ps <= 4
                    && (matches!(&b[ps..pe], b"der" | b"den")
                        || lookup_lower(
                            &lower_ascii::<MAX_NAME>(&b[ps..pe]).unwrap_or_default(),
                            pe - ps,
                        ) & PARTICLE
                            != 0) =>
            {
                start = ps;
            }
            _ => break,
        }
    }
    if !field_start(b, start) {
        return false;
    }
    // (`row 4: `, `line 12: `: a numbered row's label.)
    let row = b[..start]
        .strip_suffix(b": ")
        .is_some_and(|h| h.last().is_some_and(u8::is_ascii_digit));
    let Some(given) = given_after_comma(b, last.end, caps, row) else {
        return false;
    };
    pass.person_end = given;
    pass.push(start, given, K::Person, 0.85, RECOGNIZER);
    true
}

/// `McLEOD`, `MacDONALD`: a Scots or Irish surname in capitals after its
/// prefix.
fn mc_in_capitals(w: &[u8]) -> bool {
    let rest = w
        .strip_prefix(b"Mac")
        .or_else(|| w.strip_prefix(b"Mc"))
        .unwrap_or_default();
    rest.len() >= 2 && rest.iter().all(u8::is_ascii_uppercase)
}

/// Does a field of a list or a table start at `s`: the text's or a line's
/// start, a quote, `|`, `;`, a tab, a list's number (`2. `), a dash
/// (`– `) or a label's colon before it?
fn field_start(b: &[u8], s: usize) -> bool {
    let head = &b[..s];
    if matches!(head, [] | [.., b'\n' | b'"' | b'|' | b';' | b'\t'])
        || head.ends_with(b": ")
        || head.ends_with("\u{2013} ".as_bytes())
        || head.ends_with("\u{2014} ".as_bytes())
    {
        return true;
    }
    // A list's number at the line's start: `2. `.
    let Some(rest) = head.strip_suffix(b". ") else {
        return false;
    };
    let n = rest.iter().rev().take_while(|c| c.is_ascii_digit()).count();
    n > 0
        && matches!(
            rest.len().checked_sub(n + 1).map(|k| rest[k]),
            None | Some(b'\n')
        )
}

/// `, Mark <` / `, Mark (`, or one or two given names ending a line or
/// before a date (`, Thi Lan 2024-09-05`), after a surname ending at
/// `end`: where the given names end.
fn given_after_comma(b: &[u8], end: usize, caps: bool, row: bool) -> Option<usize> {
    if b.get(end..end + 2) != Some(b", ") {
        return None;
    }
    // (In capitals after a surname in capitals: `KIM, RICHARD`.)
    let shaped = |w: &Word| w.shape == Shape::Title || caps && w.shape == Shape::Upper;
    let given = |s: usize| super::capital_word(b, s).filter(|w| shaped(w) && w.flags & GIVEN != 0);
    // (Or Vietnamese `Thị`, `Văn` before a given name.)
    let w = super::capital_word(b, end + 2).filter(|w| {
        shaped(w)
            && (w.flags & GIVEN != 0
                || w.flags & PARTICLE != 0
                    && b.get(w.end) == Some(&b' ')
                    && given(w.end + 1).is_some())
    })?;
    // A second given name (`Nguyen, Thi Lan`).
    let last = match b.get(w.end) {
        Some(b' ') => given(w.end + 1).map_or(w.end, |w| w.end),
        _ => w.end,
    };
    let after = b.get(last..).unwrap_or_default();
    let bracket = matches!(after, [b' ', b'<' | b'(', ..]);
    // The field ends: the line, or a date or time after the name (`2024-`,
    // `05/09`, `10:02`; not `Tor 3`, a gate).
    let date = || {
        let digits = after.get(1..).unwrap_or_default();
        let k = digits.iter().take_while(|c| c.is_ascii_digit()).count();
        after.first() == Some(&b' ') && k > 0 && matches!(digits.get(k), Some(b'-' | b'/' | b':'))
    };
    // (Or a table's or a list's next field: `"`, `|`, `;`, a tab, a
    // spaced dash.)
    // (A dash only before a capital: `Wong, Kelvin — Approved`, not
    // `Andrew, Sinéad — can you confirm?`; in a numbered `row`, before
    // anything: `row 4: O'Brien, Siobhan - missing postcode`.)
    let dash = [" \u{2013} ".as_bytes(), " \u{2014} ".as_bytes(), b" - "]
        .iter()
        .find(|d| after.starts_with(d))
        .is_some_and(|d| row || after.get(d.len()).is_some_and(u8::is_ascii_uppercase));
    let next_field = matches!(after, [b'"' | b'|' | b';' | b'\t', ..]) || dash;
    let field_end = matches!(after, [] | [b'\n' | b'\r', ..]) || date() || next_field;
    (bracket || field_end).then_some(last)
}

/// Determiners, in lower case (`the Whare Kai`, `our Fortitude Smith`).
const DETERMINERS: [&[u8]; 26] = [
    b"the", b"a", b"an", b"this", b"that", b"these", b"those", b"our", b"your", b"their", b"its",
    b"each", b"every", b"any", b"my", b"his", b"her",
    // German, in lower case (`die Tür`, `dem Lager`).
    b"der", b"die", b"das", b"dem", b"des", b"ein", b"eine", b"einen", b"einem",
];

/// The longest of [`DETERMINERS`]: how far [`determiner_before`] reads
/// back (a word of up to 24 lowered for each call cost more).
const DETERMINER_MAX: usize = {
    let mut max = 0;
    let mut k = 0;
    while k < DETERMINERS.len() {
        if DETERMINERS[k].len() > max {
            max = DETERMINERS[k].len();
        }
        k += 1;
    }
    max
};

/// Is the word just before `s` a determiner (`the`, `our`, `this`)?
fn determiner_before(b: &[u8], s: usize) -> bool {
    // One space, then a word no longer than the longest determiner: read
    // back one byte more than that.
    let Some(e) = s.checked_sub(1).filter(|&e| b[e] == b' ') else {
        return false;
    };
    let n = b[..e]
        .iter()
        .rev()
        .take(DETERMINER_MAX + 1)
        .take_while(|&&c| c.is_ascii_alphabetic() || c == b'\'')
        .count();
    if !(1..=DETERMINER_MAX).contains(&n) {
        return false;
    }
    let mut lower = [0u8; DETERMINER_MAX];
    lower[..n].copy_from_slice(&b[e - n..e]);
    lower.make_ascii_lowercase();
    DETERMINERS.contains(&&lower[..n])
}

/// `Ihr IT-Service`, `Your IT Team`: a possessive that signs off a team
/// on the line after a sign-off, never a name.
fn sign_off_pronoun(w: &[u8]) -> bool {
    matches!(
        w,
        b"Ihr"
            | b"Ihre"
            | b"Euer"
            | b"Eure"
            | b"Dein"
            | b"Deine"
            | b"Unser"
            | b"Your"
            | b"Our"
            | b"Votre"
    )
}

/// The lower-case word of ASCII letters after `end` (` devices`), at most
/// twelve letters.
fn lower_word_after(b: &[u8], end: usize) -> Option<([u8; 12], usize)> {
    if b.get(end) != Some(&b' ') || !b.get(end + 1).is_some_and(u8::is_ascii_lowercase) {
        return None;
    }
    let s = end + 1;
    let n = b[s..]
        .iter()
        .take(13)
        .take_while(|c| c.is_ascii_lowercase())
        .count();
    if n > 12
        || b.get(s + n)
            .is_some_and(|&c| c.is_ascii_alphanumeric() || c >= 0x80)
    {
        return None;
    }
    let mut w = [0u8; 12];
    w[..n].copy_from_slice(&b[s..s + n]);
    Some((w, n))
}

/// Does a lower-case noun follow `end` (a word of three letters or more
/// that is no pronoun, verb or function word: `the Hilton booking`, not
/// `the Sarah who called`)?
fn noun_after(b: &[u8], end: usize) -> bool {
    lower_word_after(b, end).is_some_and(|(w, n)| {
        n >= 3
            && !matches!(
                &w[..n],
                b"who"
                    | b"whom"
                    | b"whose"
                    | b"that"
                    | b"which"
                    | b"from"
                    | b"and"
                    | b"with"
                    | b"for"
                    | b"you"
                    | b"was"
                    | b"are"
                    | b"has"
                    | b"had"
                    | b"have"
                    | b"will"
                    | b"can"
                    | b"did"
                    | b"does"
                    | b"not"
                    | b"here"
                    | b"there"
                    | b"again"
                    | b"too"
                    | b"also"
                    | b"said"
                    | b"says"
                    | b"asked"
                    | b"called"
                    | b"wrote"
                    | b"mentioned"
            )
    })
}

/// Does a lower-case word for a trade's worker follow `end` (` engineer`,
/// ` technician`, ` courier`)?
fn worker_after(b: &[u8], end: usize) -> bool {
    lower_word_after(b, end).is_some_and(|(w, n)| {
        matches!(
            &w[..n],
            b"engineer"
                | b"engineers"
                | b"technician"
                | b"technicians"
                | b"tech"
                | b"techs"
                | b"installer"
                | b"installers"
                | b"courier"
                | b"couriers"
                | b"driver"
                | b"drivers"
                | b"rep"
                | b"reps"
                | b"contractor"
                | b"contractors"
        )
    })
}

/// Do a space and four digits follow `end`, then a comma, `)`, `;` or the
/// line's end (a postcode in a list, not `2024-05-01`, `10:30`, `1021.50`
/// or `2500 for the job`)?
fn code_after(b: &[u8], end: usize) -> bool {
    let Some(rest) = b.get(end..end + 5) else {
        return false;
    };
    rest[0] == b' '
        && rest[1..].iter().all(u8::is_ascii_digit)
        && matches!(
            b.get(end + 5),
            None | Some(b',' | b')' | b';' | b'\n' | b'\r')
        )
}

/// Does ` Day` follow a name of `len` words ending at `end`, after ` Jr.`
/// or a name of three words (`Martin Luther King Jr. Day`: a holiday
/// named after a person; `Sarah Day` may be one)?
fn holiday_after(b: &[u8], end: usize, len: usize) -> bool {
    let rest = b.get(end..).unwrap_or_default();
    let (rest, junior) = match rest
        .strip_prefix(b" Jr.")
        .or_else(|| rest.strip_prefix(b" Jr"))
    {
        Some(r) => (r, true),
        None => (rest, false),
    };
    (junior || len >= 3)
        && rest.starts_with(b" Day")
        && !rest.get(4).is_some_and(u8::is_ascii_alphanumeric)
}

/// Does a version (` 1.10`, ` v2`) or a lower-case word for software
/// (` plugin`, ` notebooks`; after a qualifier: ` legacy plugin`) follow
/// `end`?
fn software_after(b: &[u8], end: usize) -> bool {
    let rest = b.get(end..).unwrap_or_default();
    let version = match rest {
        [b' ', b'v' | b'V', d, ..] if d.is_ascii_digit() => true,
        [b' ', d, rest @ ..] if d.is_ascii_digit() => {
            let k = rest.iter().take_while(|c| c.is_ascii_digit()).count();
            matches!(rest.get(k..k + 2), Some([b'.', d]) if d.is_ascii_digit())
        }
        _ => false,
    };
    let software = |w: &[u8]| {
        matches!(
            w,
            b"plugin"
                | b"plugins"
                | b"jobs"
                | b"notebook"
                | b"notebooks"
                | b"kernel"
                | b"kernels"
                | b"toolchain"
                | b"toolchains"
                | b"package"
                | b"packages"
                | b"runtime"
                | b"scripts"
                | b"builds"
                | b"pipeline"
                | b"pipelines"
                | b"instance"
                | b"instances"
                | b"cluster"
                | b"workspace"
                | b"workspaces"
                | b"board"
                | b"boards"
                | b"extension"
                | b"integration"
                | b"licence"
                | b"license"
                | b"licences"
                | b"licenses"
                | b"install"
                | b"migration"
                | b"upgrade"
        )
    };
    // (Between them, only a word that dates or places the software: not
    // `tell Sarah the install is…`.)
    let qualifier = |w: &[u8]| {
        matches!(
            w,
            b"legacy" | b"old" | b"new" | b"current" | b"nightly" | b"shared" | b"local"
        )
    };
    version
        || lower_word_after(b, end).is_some_and(|(w, n)| {
            software(&w[..n])
                || qualifier(&w[..n])
                    && lower_word_after(b, end + 1 + n).is_some_and(|(v, m)| software(&v[..m]))
        })
}

/// Is `s`, after `: ` or `, `, in a field whose label names things
/// (`Software:`, `Hardware:`, `Product:`, `Equipment:`), not people?
// The last colon before `s` on its line is read as the label's (a time
// after the label, `10:02`, hides it: a miss, not a false find).
fn thing_line(b: &[u8], s: usize) -> bool {
    let window = s.saturating_sub(100);
    let Some(colon) = memchr::memrchr2(b'\n', b':', &b[window..s]).map(|k| window + k) else {
        return false;
    };
    if b[colon] != b':' {
        return false;
    }
    let label = b[window..colon]
        .rsplit(|c| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or_default();
    let Some(lower) = lower_ascii::<12>(label) else {
        return false;
    };
    matches!(
        &lower[..label.len()],
        b"software"
            | b"hardware"
            | b"product"
            | b"products"
            | b"produkt"
            | b"produit"
            | b"logiciel"
            | b"equipment"
            | b"model"
            | b"device"
            | b"devices"
            | b"application"
            | b"applications"
            | b"apps"
            | b"tools"
            | b"asset"
            | b"items"
    )
}

/// Is the word at `s..end` `Les` or `Elle` before a lower-case word in
/// French text, or `Max` as an abbreviation (`Max.`, `Max balance per
/// order`)?
#[cold]
fn article_or_limit(b: &[u8], s: usize, end: usize) -> bool {
    match &b[s..end] {
        b"Les" | b"Elle" => {
            lower_word_after(b, end).is_some() && {
                let near = &b[s.saturating_sub(300)..b.len().min(end + 300)];
                [
                    &b" les "[..],
                    b" des ",
                    b" de ",
                    b" la ",
                    b" et ",
                    b" aux ",
                    b" du ",
                    b" au ",
                    b" ne ",
                    b" plus ",
                    b" est ",
                    b" sont ",
                    b" par ",
                    b" pour ",
                    b" dans ",
                ]
                .iter()
                .any(|w| memchr::memmem::find(near, w).is_some())
            }
        }
        b"Max" => {
            b.get(end) == Some(&b'.')
                || lower_word_after(b, end).is_some_and(|(w, n)| {
                    let w = &w[..n];
                    w.ends_with(b"able")
                        || matches!(
                            w,
                            b"balance"
                                | b"amount"
                                | b"size"
                                | b"length"
                                | b"weight"
                                | b"number"
                                | b"limit"
                                | b"value"
                                | b"spend"
                                | b"per"
                                | b"capacity"
                                | b"users"
                                | b"seats"
                        )
                })
        }
        _ => false,
    }
}

/// Is the word at `s..end` alone on the text's last line (a signature)?
fn last_line_alone(b: &[u8], s: usize, end: usize) -> bool {
    s > 0 && b[s - 1] == b'\n' && b[end..].iter().all(u8::is_ascii_whitespace)
}

/// Does `rest` start with `& Sons`, `and Partners`, `et Fils`, `und
/// Söhne` (a family business's tail)?
fn business_tail(rest: &[u8]) -> bool {
    let rest = if let Some(r) = rest.strip_prefix(b"& ") {
        r
    } else if let Some(r) = rest
        .strip_prefix(b"and ")
        .or_else(|| rest.strip_prefix(b"et "))
        .or_else(|| rest.strip_prefix(b"und "))
    {
        r
    } else {
        return false;
    };
    leading_word(
        rest,
        &[
            &b"Sons"[..],
            b"Son",
            b"Fils",
            "Söhne".as_bytes(),
            b"Sohn",
            b"Co",
            b"Partners",
            b"Associates",
            b"Brothers",
            b"Daughters",
        ],
    )
    .is_some()
}

/// Does a group or business word (` Team`, ` Crew`, ` Group`, ` Dept`,
/// ` Services`, ` Solutions`, …; a word of its own) follow `end`?
fn group_after(b: &[u8], end: usize) -> bool {
    let Some(rest) = b.get(end..).and_then(|r| r.strip_prefix(b" ")) else {
        return false;
    };
    // (Each word in title case, a test checks: most words after a name,
    // in lower case, are told by their first byte, not by seventeen
    // compares; corpus −0.11 instructions a byte.)
    rest.first().is_some_and(u8::is_ascii_uppercase) && leading_word(rest, &GROUP_WORDS).is_some()
}

/// The words of [`group_after`].
const GROUP_WORDS: [&[u8]; 17] = [
    b"Team",
    b"Crew",
    b"Squad",
    b"Group",
    b"Department",
    b"Dept",
    b"Staff",
    b"Services",
    b"Solutions",
    b"Systems",
    b"Holdings",
    b"Consulting",
    b"Enterprises",
    b"Industries",
    b"Consultants",
    b"Accountants",
    b"Associates",
];

/// Does ` In`, ` Out`, ` On`, ` Off`, ` Up` or ` Down` (a word of its
/// own) follow `end`?
fn phrasal_after(b: &[u8], end: usize) -> bool {
    let Some(rest) = b.get(end..).and_then(|r| r.strip_prefix(b" ")) else {
        return false;
    };
    leading_word(rest, &[b"In", b"Out", b"On", b"Off", b"Up", b"Down"]).is_some()
}

/// May the word `w` the lexicon does not know be a given name before a
/// surname: shaped like one (`Seo-yeon`, `Mata'afa`: a lower-case letter
/// after a hyphen or apostrophe inside), or in mid-sentence, after a
/// lower-case word that is no determiner or preposition of place (`asked
/// Jarrah`; at a sentence's start it may be a verb: `Ping Kim`)?
fn given_shaped_before(b: &[u8], w: &Word) -> bool {
    let word = &b[w.start..w.end];
    if word.len() >= 5
        && word.windows(3).any(|p| {
            matches!(p[0], b'-' | b'\'') && p[1].is_ascii_lowercase() && p[2].is_ascii_lowercase()
        })
    {
        return true;
    }
    mid_sentence(b, w.start)
}

/// Does the word at `s` stand mid-sentence: after a comma, or after a
/// lower-case word that is no determiner or preposition of place (`asked
/// Jarrah`, `their CISO, Eluned`)? A capital there is a proper noun's.
fn mid_sentence(b: &[u8], s: usize) -> bool {
    matches!(b.get(s.saturating_sub(2)..s), Some(b", " | b"; "))
        || word_before(b, s).is_some_and(|(ps, pe)| {
            b[pe..s] == *b" "
                && b[ps..pe].iter().all(u8::is_ascii_lowercase)
                && !determiner_before(b, s)
                && !place_preposition(b, s)
                && !german_article(&b[ps..pe])
        })
}

/// A German article or a preposition fused with one (`beim Nachbarn
/// Kaya`): the capitalised word after it is a noun, not a given name.
fn german_article(w: &[u8]) -> bool {
    matches!(
        w,
        b"der"
            | b"die"
            | b"das"
            | b"dem"
            | b"den"
            | b"des"
            | b"ein"
            | b"eine"
            | b"einem"
            | b"einen"
            | b"einer"
            | b"beim"
            | b"vom"
            | b"zum"
            | b"zur"
            | b"am"
            | b"im"
            | b"ins"
    )
}

/// `Lane`, `Green`: a word of four letters or more that is a given name
/// but far more often a common word (a stop word), before a surname in
/// mid-sentence (`for Lane Mitchell`; see [`given_shaped_before`]).
fn stop_given(b: &[u8], w: &Word) -> bool {
    w.shape == Shape::Title
        && w.flags & (STOP | GIVEN) == STOP | GIVEN
        && w.end - w.start >= 4
        && given_shaped_before(b, w)
}

/// ` from ` or ` is from `, then a firm's name with its legal form, at
/// `end`?
fn from_firm(b: &[u8], end: usize) -> bool {
    let rest = &b[end..];
    let skip = if rest.starts_with(b" from ") {
        6
    } else if rest.starts_with(b" is from ") {
        9
    } else {
        return false;
    };
    super::organization::firm_at(b, end + skip)
}

/// Does `s` open a line or a sentence (the text's start, a line break, or
/// `. `, `! `, `? ` before it)?
fn sentence_start(b: &[u8], s: usize) -> bool {
    s == 0
        || b[s - 1] == b'\n'
        || s >= 2 && b[s - 1] == b' ' && matches!(b[s - 2], b'.' | b'!' | b'?' | b'\n')
}

/// Does `rest`, the text after a name, ask the one named (`, can you`,
/// ` could you`, `: would you`, `, please`)?
fn addressed_after(rest: &[u8]) -> bool {
    let rest = rest
        .strip_prefix(b",")
        .or_else(|| rest.strip_prefix(b":"))
        .unwrap_or(rest);
    let Some(rest) = rest.strip_prefix(b" ") else {
        return false;
    };
    const ASKS: [&[u8]; 6] = [
        b"can you",
        b"could you",
        b"would you",
        b"can u",
        b"pls ",
        b"please ",
    ];
    ASKS.iter().any(|a| {
        rest.starts_with(a)
            && (a.ends_with(b" ") || !rest.get(a.len()).is_some_and(u8::is_ascii_alphanumeric))
    })
}

/// `Agent Mark: Hi`, `Agent (Dawn): …`, `10:03 Agent Ngaio: …`, `09:14
/// Will: …`, `Customer (Jarrah Collins): …`: a chat transcript's speaker,
/// the name at `s` after their role (or a time stamp alone) at a line's
/// start and before the colon that `rest`, the text after the name, opens
/// with.
#[inline]
fn chat_speaker(b: &[u8], s: usize, rest: &[u8], given: bool) -> bool {
    match rest.first() {
        Some(b':') => chat_role_before(b, s, given),
        Some(b')') if rest.get(1) == Some(&b':') => chat_role_before(b, s, given),
        _ => false,
    }
}

/// [`chat_speaker`] past its first test: the role before `s`, or for a
/// `given` name a time stamp alone (`09:14 Will: …`; not a surname alone,
/// `[11:12] Guest: …`, a role's word as often).
#[cold]
fn chat_role_before(b: &[u8], s: usize, given: bool) -> bool {
    let head = &b[..s];
    let head = head.strip_suffix(b"(").unwrap_or(head);
    let Some(head) = head.strip_suffix(b" ") else {
        return false;
    };
    // (A time stamp and a role are short: the line's start is looked for
    // within 48 bytes, so a long line is not read back to its start at
    // every colon.)
    let Some(start) = super::line_start_within(head, head.len(), 48) else {
        return false;
    };
    let line = &head[start..];
    let stamp = |t: &[u8]| {
        t.iter()
            .all(|&c| c.is_ascii_digit() || matches!(c, b':' | b' ' | b'[' | b']'))
    };
    if given
        && line.contains(&b':')
        && line
            .first()
            .is_some_and(|&c| c.is_ascii_digit() || c == b'[')
        && stamp(line)
    {
        return true;
    }
    let role = line.iter().rposition(|&c| c == b' ').map_or(0, |n| n + 1);
    stamp(&line[..role])
        && matches!(
            &line[role..],
            b"Agent"
                | b"Customer"
                | b"Visitor"
                | b"Caller"
                | b"Technician"
                | b"Tech"
                | b"Operator"
                | b"Advisor"
                | b"Adviser"
        )
}

/// Does `rest`, the text after a name, open with ` in ` or ` from ` and a
/// department (`procurement`, `Accounts`, `HR`, `IT`) ending its word?
fn department_after(rest: &[u8]) -> bool {
    let Some(rest) = rest
        .strip_prefix(b" in")
        .or_else(|| rest.strip_prefix(b" from"))
    else {
        return false;
    };
    let Some(word) = word_after(rest, 12, u8::is_ascii_alphabetic) else {
        return false;
    };
    if rest
        .get(1 + word.len())
        .is_some_and(u8::is_ascii_alphanumeric)
    {
        return false;
    }
    let mut folded = [0u8; 12];
    let folded = &mut folded[..word.len()];
    folded.copy_from_slice(word);
    folded.make_ascii_lowercase();
    let department = matches!(
        &*folded,
        b"procurement"
            | b"purchasing"
            | b"accounts"
            | b"finance"
            | b"payroll"
            | b"sales"
            | b"marketing"
            | b"legal"
            | b"operations"
            | b"reception"
            | b"facilities"
            | b"logistics"
            | b"compliance"
            | b"engineering"
            | b"dispatch"
            | b"onboarding"
            | b"recruitment"
            | b"billing"
            | b"support"
    );
    // `Summer from Head Office here`: whoever introduces themselves.
    let here = rest.starts_with(b" ")
        && rest[1..].first().is_some_and(u8::is_ascii_uppercase)
        && rest[1..]
            .iter()
            .take(40)
            .position(|&c| !(c.is_ascii_alphabetic() || c == b' '))
            .is_some_and(|e| trim_space(&rest[1..1 + e]).ends_with(b" here"));
    // `Accounts` or `accounts`, not `ACCOUNTS` (a heading).
    here || matches!(word, b"IT" | b"HR")
        || department && word[1..].iter().all(u8::is_ascii_lowercase)
        || workplace_after(rest)
}

/// `the Dublin office`, `the Hunter Valley winery`, `the Geelong store`
/// after `rest`'s space: a workplace named by its place (one to three
/// capitalised words, then a workplace's noun ending its word).
fn workplace_after(rest: &[u8]) -> bool {
    let Some(mut r) = rest.strip_prefix(b" the ") else {
        return false;
    };
    let mut places = 0;
    while places < 3 && r.first().is_some_and(u8::is_ascii_uppercase) {
        let n = r.iter().take_while(|c| c.is_ascii_alphabetic()).count();
        let Some(next) = r[n..].strip_prefix(b" ") else {
            return false;
        };
        r = next;
        places += 1;
    }
    let n = r
        .iter()
        .take(12)
        .take_while(|c| c.is_ascii_lowercase())
        .count();
    places > 0
        && !r.get(n).is_some_and(u8::is_ascii_alphanumeric)
        && matches!(
            &r[..n],
            b"office"
                | b"branch"
                | b"store"
                | b"shop"
                | b"site"
                | b"depot"
                | b"warehouse"
                | b"clinic"
                | b"winery"
                | b"factory"
                | b"plant"
                | b"campus"
                | b"hospital"
                | b"practice"
                | b"hotel"
                | b"restaurant"
                | b"cafe"
                | b"team"
        )
}

/// Does `rest`, the text after a name, open with `'s` and a thing a person
/// at work has (`'s desk`, `'s laptop`, `’s mailbox`)?
fn belongings_after(rest: &[u8]) -> bool {
    let Some(rest) = rest
        .strip_prefix(b"'s")
        .or_else(|| rest.strip_prefix("\u{2019}s".as_bytes()))
    else {
        return false;
    };
    whole_lower_word_after(rest, 10).is_some_and(|word| {
        matches!(
            word,
            b"desk"
                | b"laptop"
                | b"phone"
                | b"mobile"
                | b"computer"
                | b"monitor"
                | b"headset"
                | b"mailbox"
                | b"inbox"
                | b"login"
                | b"password"
                | b"manager"
                | b"calendar"
                | b"workstation"
                | b"account"
        )
    })
}

/// A month that is also a given name (`May`, `June`, `April`).
fn month(w: &[u8]) -> bool {
    matches!(
        w,
        b"January" | b"April" | b"May" | b"June" | b"July" | b"August"
    )
}

/// Does `rest`, the text after a name, say its person is away from work
/// (` is away`, ` is on leave`, ` is off sick`, ` is out today`)?
fn away_after(rest: &[u8]) -> bool {
    let Some(rest) = rest.strip_prefix(b" is ") else {
        return false;
    };
    [
        &b"away"[..],
        b"on leave",
        b"off sick",
        b"out sick",
        b"off today",
        b"out today",
        b"on holiday",
        b"on vacation",
        b"off work",
    ]
    .iter()
    .any(|p| rest.starts_with(p) && !rest.get(p.len()).is_some_and(u8::is_ascii_alphanumeric))
}

/// Does `rest`, the text after a name, open with the person's pronouns
/// (` (he/him)`, ` (she/they)`)?
fn pronouns_after(rest: &[u8]) -> bool {
    let Some(rest) = rest.strip_prefix(b" (") else {
        return false;
    };
    [&b"he/"[..], b"she/", b"they/"]
        .iter()
        .any(|p| rest.len() >= p.len() && rest[..p.len()].eq_ignore_ascii_case(p))
}

/// The lower-case word after the space that opens `rest`, when it ends
/// there (no letter or digit after it) within `max` letters.
fn whole_lower_word_after(rest: &[u8], max: usize) -> Option<&[u8]> {
    let word = word_after(rest, max, u8::is_ascii_lowercase)?;
    (!rest
        .get(1 + word.len())
        .is_some_and(u8::is_ascii_alphanumeric))
    .then_some(word)
}

/// Does `rest`, the text after a name, open with a verb of saying (`
/// said`, ` asked`, ` confirmed`, …) ending its word? (` reports that`
/// only with `that`: `Miles reports are due` is a noun's plural.)
fn says_after(rest: &[u8]) -> bool {
    if rest.starts_with(b" reports that ") {
        return true;
    }
    whole_lower_word_after(rest, 12).is_some_and(|verb| {
        matches!(
            verb,
            b"said"
                | b"says"
                | b"asked"
                | b"asks"
                | b"confirmed"
                | b"confirms"
                | b"mentioned"
                | b"replied"
                | b"replies"
                | b"told"
                | b"emailed"
                | b"rang"
                | b"phoned"
                | b"reported"
                | b"agreed"
                | b"suggested"
                | b"forwarded"
                | b"explained"
                | b"noted"
                | b"promised"
        )
    })
}

/// `Hi Jan,`, `Jan Kowalski`, `Jun Hao Lim`: is `words[k]` a given name
/// that is also a stop word (a month's abbreviation) used as a name:
/// greeted alone, or just before a word that is clearly a name? `Jan 5`,
/// `Jun Park` (a street word) and `Ave Maria` (a common word) are not.
#[inline]
fn stop_given_named(b: &[u8], words: &[Word], k: usize) -> bool {
    let w = &words[k];
    if w.shape != Shape::Title || w.flags & (STOP | GIVEN | AMBIGUOUS) != STOP | GIVEN {
        return false;
    }
    let greeted = k > 0
        && words[k - 1].flags & GREETING != 0
        && k + 1 == words.len()
        && matches!(b.get(w.end), None | Some(b',' | b'!' | b'\n'));
    let before_name = b.get(w.end) == Some(&b' ')
        && words.get(k + 1).is_some_and(|n| {
            let f = name_flags(n);
            n.shape == Shape::Title && f & (GIVEN | SURNAME) != 0 && f & AMBIGUOUS == 0
        });
    greeted || before_name
}

/// Is `w`, inside a name (neither its first nor its last word), a
/// capitalised particle (`Te`, `Ó`, `Thị`) that joins the name as one?
fn inner_particle(w: &Word) -> bool {
    w.shape == Shape::Title && w.flags & PARTICLE != 0
}

/// `words`, a name, with its [`inner_particle`]s made particles (a copy:
/// the run is borrowed), and their count.
#[cold]
fn inner_particles(words: &[Word]) -> ([Word; super::MAX_RUN], usize) {
    let mut own = [Word::NONE; super::MAX_RUN];
    let n = words.len().min(own.len());
    for k in 0..n {
        own[k] = words[k];
        if k > 0 && k + 1 < n && inner_particle(&words[k]) {
            own[k].shape = Shape::Particle;
            own[k].flags = 0;
        }
    }
    (own, n)
}

/// `words` with the stop-word flag taken off the given names
/// [`stop_given_named`] finds (a copy: the run is borrowed), and their count.
#[cold]
fn stop_given_names(b: &[u8], words: &[Word]) -> ([Word; super::MAX_RUN], usize) {
    let mut own = [Word::NONE; super::MAX_RUN];
    let n = words.len().min(own.len());
    for k in 0..n {
        own[k] = words[k];
        if stop_given_named(b, words, k) {
            own[k].flags &= !STOP;
        }
    }
    (own, n)
}

/// `Nurul Huda binti Ismail`, `Ahmad bin Hassan`: a patronymic particle
/// and a title-case word after the name's first `len` words join it.
fn patronymic_after(b: &[u8], words: &[Word], len: usize) -> usize {
    match (words.get(len), words.get(len + 1)) {
        (Some(p), Some(n))
            if p.shape == Shape::Particle
                && matches!(&b[p.start..p.end], b"binti" | b"bint" | b"bin" | b"ibn")
                && n.shape == Shape::Title
                && n.flags & STOP == 0
                && n.end - n.start >= 3 =>
        {
            len + 2
        }
        _ => len,
    }
}

/// Is `w` a title-case word the lexicon does not know (`Tanvir`, `Whare`)?
fn unknown_word(w: &Word) -> bool {
    w.shape == Shape::Title && w.flags == 0 && w.end - w.start >= 3
}

/// Does `'s` and a geographic word, a street word, `Day` or `law` follow
/// `end` (`Arthur's Pass`, `Hunter's Hill`, `Valentine's Day`, `Murphy's
/// law`)?
fn possessive_place_after(b: &[u8], end: usize) -> bool {
    let s = if b.get(end..end + 3) == Some(b"'s ") {
        end + 3
    } else if b.get(end..end + 5) == Some("\u{2019}s ".as_bytes()) {
        end + 5
    } else {
        return false;
    };
    // (`Murphy's law`: a saying.)
    b[s..].starts_with(b"law") && !b.get(s + 3).is_some_and(u8::is_ascii_alphanumeric)
        || super::capital_word(b, s).is_some_and(|w| {
            w.shape == Shape::Title
                && (w.flags & (PLACE | STREET) != 0 || &b[w.start..w.end] == b"Day")
        })
}

/// Is the word before `s` a preposition of place (`at`, `in`, `near`)?
/// Compared in lower case: `At Albert Park` starts a sentence.
fn place_preposition(b: &[u8], s: usize) -> bool {
    word_before(b, s).is_some_and(|(ps, pe)| {
        let Some(lower) = lower_ascii::<8>(&b[ps..pe]) else {
            return false;
        };
        matches!(
            &lower[..pe - ps],
            b"at" | b"in" | b"near" | b"on" | b"outside" | b"opposite" | b"behind" | b"via"
        ) && b[pe..s] == *b" "
    })
}

/// `ab Mai`, `bis April`, `im August`: a German month (a given name too)
/// just after a German preposition of time.
fn german_month(b: &[u8], w: &Word) -> bool {
    matches!(&b[w.start..w.end], b"Mai" | b"April" | b"August")
        && word_before(b, w.start).is_some_and(|(ps, pe)| {
            pe + 1 == w.start
                && matches!(
                    &b[ps..pe],
                    b"ab"
                        | b"im"
                        | b"bis"
                        | b"seit"
                        | b"vom"
                        | b"zum"
                        | b"Anfang"
                        | b"Mitte"
                        | b"Ende"
                )
        })
}

/// Does a word naming a room or a site follow `end` (`the Kauri room`,
/// `the Tui Room`, `our Hamilton office`, `the Bourke meeting rooms`)?
/// Rooms and sites are named after trees, birds and people; the name is
/// then no person.
fn venue_after(b: &[u8], end: usize) -> bool {
    let Some(w) = b
        .get(end..)
        .and_then(|rest| word_after(rest, 13, u8::is_ascii_alphabetic))
    else {
        return false;
    };
    if venue_word(w) {
        return true;
    }
    // `meeting rooms`, `training room`: a kind of room, then the room.
    [&b"meeting"[..], b"conference", b"training"]
        .iter()
        .any(|kind| w.eq_ignore_ascii_case(kind))
        && word_after(&b[end + 1 + w.len()..], 6, u8::is_ascii_alphabetic)
            .is_some_and(|r| r.eq_ignore_ascii_case(b"room") || r.eq_ignore_ascii_case(b"rooms"))
}

/// Does a plural word for rooms or sites follow `end` (`sites`,
/// `universities`)?
fn plural_venue_after(b: &[u8], end: usize) -> bool {
    b.get(end..)
        .and_then(|rest| word_after(rest, 13, u8::is_ascii_alphabetic))
        .is_some_and(|w| w.last() == Some(&b's') && venue_word(w))
}

/// Is `w` (any case, a whole word) a word for a room or a site (`room`,
/// `office`, `Depot`)?
fn venue_word(w: &[u8]) -> bool {
    let Some(lower) = lower_ascii::<12>(w) else {
        return false;
    };
    matches!(
        &lower[..w.len()],
        b"room"
            | b"rooms"
            | b"rm"
            | b"boardroom"
            | b"office"
            | b"offices"
            | b"branch"
            | b"branches"
            | b"shop"
            | b"shops"
            | b"site"
            | b"sites"
            | b"campus"
            | b"building"
            | b"wing"
            | b"hall"
            | b"warehouse"
            | b"depot"
            | b"store"
            | b"stores"
            | b"lab"
            | b"labs"
            | b"studio"
            | b"theatre"
            | b"auditorium"
            | b"library"
            | b"lounge"
            | b"suite"
            | b"centre"
            | b"center"
            | b"hub"
            | b"server"
            | b"servers"
            | b"cluster"
            | b"clusters"
            | b"vm"
            | b"vms"
            | b"ward"
            | b"wards"
            | b"clinic"
            | b"cafe"
            | b"kitchen"
            | b"restaurant"
            | b"gym"
            | b"pharmacy"
            // (Lower case: `the James Cook university`, `Charles Sturt
            // and James Cook universities`.)
            | b"university"
            | b"universities"
            | b"college"
            | b"colleges"
            | b"schools"
            | b"hospitals"
            | b"campuses"
    )
}

/// Does a capitalised word for an institution or a venue named after a
/// person follow `end` (`James Cook Hotel`, `Princess Margaret Hospital`,
/// `Edmund Hillary Foundation`)?
fn institution_after(b: &[u8], end: usize) -> bool {
    b.get(end..)
        .and_then(|rest| word_after(rest, 11, u8::is_ascii_alphabetic))
        .is_some_and(|w| w.first().is_some_and(u8::is_ascii_uppercase) && institution(w))
}

/// The word after the space that opens `rest`: its first `max` bytes at
/// most, while `letter` accepts them; `None` without the space.
fn word_after(rest: &[u8], max: usize, letter: fn(&u8) -> bool) -> Option<&[u8]> {
    let word = rest.strip_prefix(b" ")?;
    let n = word.iter().take(max).take_while(|c| letter(c)).count();
    Some(&word[..n])
}

/// Is `w` a capitalised word for an institution or a venue (see
/// [`institution_after`])?
fn institution(w: &[u8]) -> bool {
    matches!(
        w,
        b"Hotel"
            | b"Motel"
            | b"Inn"
            | b"Hostel"
            | b"Resort"
            | b"Hospital"
            | b"Hospice"
            | b"School"
            | b"College"
            | b"University"
            | b"Academy"
            | b"Institute"
            | b"Foundation"
            | b"Trust"
            | b"Church"
            | b"Cathedral"
            | b"Chapel"
            | b"Museum"
            | b"Gallery"
            | b"Stadium"
            | b"Arena"
            | b"Airport"
            | b"Station"
            | b"Memorial"
            | b"Reserve"
            | b"Mall"
            | b"Plaza"
            | b"Tower"
            | b"Towers"
            | b"Pub"
            | b"Tavern"
    )
}

/// Is the word before `s` a greeting in lower case (`ta Becks,`, `hi
/// Sipho!`)?
pub(super) fn lower_greeting_before(pass: &Pass<'_>, s: usize) -> bool {
    let b = pass.b;
    s >= 2
        && b[s - 1] == b' '
        && b[s - 2].is_ascii_lowercase()
        && pass.person_context(s) == Some(Context::Medium)
        && word_before(b, s).is_some_and(|(ps, _)| b[ps].is_ascii_lowercase())
}

/// `Hi Sipho,`, `Kia ora Rāwiri,`: a word the lexicon does not know, alone
/// between a greeting in its run and a comma or `!`, is the name greeted.
/// (`ta Becks,`: the greeting in lower case before the run is read by the
/// caller, from the context before the word.)
fn greeted(b: &[u8], words: &[Word], k: usize, lower_greeting: impl FnOnce() -> bool) -> bool {
    let w = &words[k];
    w.flags == 0
        && w.end - w.start >= 3
        && k + 1 == words.len()
        && matches!(b.get(w.end), Some(b',' | b'!'))
        && if k > 0 {
            words[k - 1].flags & GREETING != 0
        } else {
            lower_greeting()
        }
}

/// `SARAH CONNOR`: two or more capitalised words, every one a name that is
/// not a common word; or `JOSEPHINE KAMAU -`, `customer MUHAMMAD ZUBAIR`: a
/// given name, then a word the lexicon does not know, ending the name
/// before a separator or after a contact word.
fn upper_case_person(pass: &mut Pass<'_>, words: &[Word], ctx: Context) {
    let b = pass.b;
    // (Initials inside: `MARCUS J. WASHINGTON`; never last.)
    let n = words
        .iter()
        .take_while(|w| matches!(w.shape, Shape::Upper | Shape::Initial) || caps_initial(b, w))
        .count();
    let n = words[..n]
        .iter()
        .rposition(|w| w.shape == Shape::Upper)
        .map_or(0, |k| k + 1);
    let clear = |w: &Word| {
        let f = name_flags(w);
        f & (GIVEN | SURNAME) != 0 && f & AMBIGUOUS == 0
    };
    let given_then_unknown = || {
        n == 2
            && words.len() == 2
            // (A common word too after a header: `FROM: FRANK DELACROIX`.)
            && (name_flags(&words[0]) & (GIVEN | AMBIGUOUS) == GIVEN
                || ctx >= Context::Medium && name_flags(&words[0]) & GIVEN != 0)
            && words[1].flags == 0
            && words[1].end - words[1].start >= 3
            && !caps_verb(&b[words[1].start..words[1].end])
            && (ctx >= Context::Weak || separator_after(b, words[1].end))
    };
    // `CONTACT: HINEMOA WALKER`: after a contact word, a given name and
    // surnames (common words too, one no common word: not `WILL CALL`),
    // ending the line, as in title case.
    let given_after_label = || {
        ctx >= Context::Weak
            && n == words.len()
            && name_flags(&words[0]) & GIVEN != 0
            && words[1..n].iter().all(|w| name_flags(w) & SURNAME != 0)
            && words[..n].iter().any(clear)
            && matches!(
                b.get(words[n - 1].end),
                None | Some(b'\n' | b'\r' | b',' | b';')
            )
    };
    // `Requester: SEO-YEON PARK`, `Signed for by: MARÍA JOSÉ QUISPE`: a
    // form's person field, the whole line in capitals (no stop word).
    // (`Cc: ROSE ADEYEMI; MARK BRENNAN`: one of a list.)
    // (`MRS FITZPATRICK-HAYES CONFIRMS COLLECTED,`: up to a verb.)
    let verb = words[..n]
        .iter()
        .position(|w| caps_verb(&b[w.start..w.end]))
        .unwrap_or(n);
    let field = || {
        ctx == Context::Strong
            && (1..=4).contains(&n)
            && verb > 0
            && words[..verb].iter().all(|w| w.flags & STOP == 0)
            && (verb < n
                || matches!(
                    b.get(words[n - 1].end),
                    None | Some(b'\n' | b'\r' | b';' | b',')
                ))
    };
    // `PRIYA NAIR IN ACCOUNTS CANNOT …`: two names or more that are no
    // common words, then a stop word, in a line of capitals.
    let names = words[..n].iter().take_while(|w| clear(w)).count();
    let n = if names >= 2 && words.get(names).is_some_and(|w| w.flags & STOP != 0) {
        names
    } else {
        n
    };
    if field() {
        pass.push(
            words[0].start,
            words[verb - 1].end,
            K::Person,
            0.75,
            RECOGNIZER,
        );
    } else if n >= 2
        && (words[..n].iter().all(clear) || given_then_unknown() || given_after_label())
    {
        pass.push(
            words[0].start,
            words[n - 1].end,
            K::Person,
            0.75,
            RECOGNIZER,
        );
    } else if ctx >= Context::Medium
        && n >= 1
        && (clear(&words[0]) || ctx == Context::Strong && words[0].flags == 0)
    {
        // `Hi MARTINA,`, `CALL MRS OKAFOR ABOUT`, `HI SARAH JONES
        // PLEASE`: the names the gazetteer holds, not common words, after
        // a greeting or a title; after a title (`MRS OKONJO ABOUT`) also a
        // first word the lexicon does not know.
        let k = 1 + words[1..n].iter().take_while(|w| clear(w)).count();
        pass.push(
            words[0].start,
            words[k - 1].end,
            K::Person,
            0.75,
            RECOGNIZER,
        );
    }
}

/// Is `w` one capital letter with no full stop (`J` in `MRS J PATEL`)?
fn caps_initial(b: &[u8], w: &Word) -> bool {
    w.shape == Shape::Title && w.end - w.start == 1 && b[w.start].is_ascii_uppercase()
}

/// A word in capitals that reports what a caller did (`SARAH RANG -`,
/// `TOM CALLED`), not a surname.
fn caps_verb(w: &[u8]) -> bool {
    w.ends_with(b"ED")
        || matches!(
            w,
            b"RANG"
                | b"CONFIRMS"
                | b"REPORTS"
                | b"STATES"
                | b"CALLS"
                | b"SAYS"
                | b"SAID"
                | b"WANTS"
                | b"NEEDS"
                | b"ASKS"
                | b"HERE"
                | b"AGAIN"
                | b"TODAY"
                | b"BACK"
                | b"WROTE"
                | b"WRITES"
        )
}

/// Does the text end, or a line, a comma, a colon or a dash follow `end`?
fn separator_after(b: &[u8], end: usize) -> bool {
    match b.get(end) {
        None | Some(b'\n' | b'\r' | b',' | b':') => true,
        Some(b' ') => {
            b[end + 1..].starts_with(b"- ") || b[end + 1..].starts_with("\u{2013} ".as_bytes())
        }
        _ => false,
    }
}

/// Is there strong context before `s` (a title, an introduction, a
/// sign-off line)? Asked of title-case words the gazetteer does not know,
/// so it first looks for the cheap signs: a line start or a short word
/// just before.
// Inline: its first test decides most capitals of prose, where the call
// cost as much as the test.
#[inline(always)]
pub(super) fn strong_before(pass: &Pass<'_>, s: usize) -> bool {
    let b = pass.b;
    // A sentence's first word (`. Then`): neither at a line start nor
    // after a word, so no strong context (the common case, decided
    // before `word_before` walks back).
    if super::after_stop(b, s) {
        return strong_after_stop(pass, s);
    }
    strong_before_word(pass, s)
}

/// [`strong_before`] a sentence's first word (`. `, `! ` or `? ` just
/// before `s`): strong only after a title's full stop (`ms. Topi`) or a
/// question for a name (`Your name? Kisuke Sugita`).
#[inline(always)]
pub(super) fn strong_after_stop(pass: &Pass<'_>, s: usize) -> bool {
    let b = pass.b;
    (match b[s - 2] {
        b'.' => lower_title_before(b, s),
        b'?' => asked_name_at(b, s),
        _ => false,
    }) && pass.person_context(s) == Some(Context::Strong)
}

/// [`strong_before`] past a sentence's first word.
#[inline(never)]
fn strong_before_word(pass: &Pass<'_>, s: usize) -> bool {
    let b = pass.b;
    let line_start =
        s == 0 || matches!(b[s - 1], b'\n') || (s >= 2 && b[s - 1] == b' ' && b[s - 2] == b'\n');
    // At a line's start, only a sign-off on the line above makes strong
    // context: no word, list separator, bullet, title's stop or question
    // is just before `s` (see `Pass::person_context`, `context_before`).
    // (Asked alone: the whole context cost some 150 instructions more, at
    // most line starts of dense tickets.)
    if line_start {
        return sign_off_line_before(b, s);
    }
    // (Or a longer one ending a person's label: `Requester: `.)
    word_before(b, s).is_some_and(|(ws, we)| {
        (we - ws <= 6 || b[we] == b':' && long_person_label(&b[ws..we]))
            && strong_word_before(pass, s, ws, we)
            && pass.person_context(s) == Some(Context::Strong)
    })
}

/// May [`Pass::person_context`] at `s` be strong, `b[ws..we]` the word
/// before `s` ([`word_before`])? Only after a list's separator, after a
/// title, or after the few words of an introduction or a person's label
/// (see [`context_before`]; no sign-off line ends on a word). Most words
/// before a capital are none of these: told here, the context is not read
/// (it cost about one instruction a byte of dense tickets).
// (Out of line: inlined, its lookup's registers were saved at every call
// of `strong_before_word`.)
#[inline(never)]
fn strong_word_before(pass: &Pass<'_>, s: usize, ws: usize, we: usize) -> bool {
    let b = pass.b;
    let Some(lower) = lower_word::<MAX_NAME>(&b[ws..we]) else {
        return false;
    };
    let prev = &lower[..we - ws];
    // (A list's separator before `s`: `Pass::list_item` may hold.)
    matches!(b[s - 1], b';' | b',')
        || s >= 2 && b[s - 1] == b' ' && matches!(b[s - 2], b';' | b',')
        || matches!(prev, b"is" | b"am" | b"me" | b"i'm" | b"card")
        || b[we..s].contains(&b':')
            && (matches!(prev, b"name" | b"engineer" | b"technician" | b"tech")
                || PERSON_LABELS.contains(&prev))
        || prev.len() <= 9 && lookup_lower(&lower, prev.len()) & TITLE != 0
}

/// A form's field for a person (`Requester: Haruka Morimoto`, `Reported
/// by: …`, `Signed for by: …`), in lower case; not `Customer:`, as often
/// a firm.
const PERSON_LABELS: [&[u8]; 26] = [
    b"requester",
    b"requestor",
    b"caller",
    b"employee",
    b"assignee",
    b"reporter",
    b"submitter",
    b"holder",
    b"cardholder",
    b"recipient",
    b"patient",
    b"passenger",
    b"cc",
    b"by",
    // A meeting's people (`Organiser: Mark Tiong`, `Apologies: Hunter`,
    // `Absent: Dean`), a form's others (`Next of kin: …`, `Previous
    // surname: Martin`; not `Return to sender:`, an address's label).
    b"organiser",
    b"organizer",
    b"facilitator",
    b"apologies",
    b"absent",
    b"attendees",
    b"attendee",
    b"participants",
    b"invitees",
    b"kin",
    b"surname",
    b"approver",
];

/// One of [`PERSON_LABELS`] longer than the six letters that
/// [`strong_before`] reads anyway, in any case.
fn long_person_label(w: &[u8]) -> bool {
    w.len() > 6 && PERSON_LABELS.iter().any(|l| w.eq_ignore_ascii_case(l))
}

/// How many of `words` form the name, and how sure it is.
#[inline]
fn judge(b: &[u8], words: &[Word], flags: &[u16], ctx: Context) -> Option<(usize, f32)> {
    let found = judge_words(b, words, flags, ctx);
    // `Te Ariki Morehu`: after a capitalised particle, the words after it
    // are judged as a name of their own (a given name, then a surname the
    // gazetteer does not know), the particle kept.
    if words.len() >= 3
        && (words[0].shape == Shape::Particle || words[0].flags & PARTICLE != 0)
        && b[words[0].start].is_ascii_uppercase()
        && let Some((n, score)) = judge_words(b, &words[1..], &flags[1..], ctx)
        && found.is_none_or(|(m, _)| n + 1 > m)
    {
        return Some((n + 1, score));
    }
    found
}

fn judge_words(b: &[u8], words: &[Word], flags: &[u16], ctx: Context) -> Option<(usize, f32)> {
    let names = |f: u16| f & (GIVEN | SURNAME) != 0;
    let clear = |f: u16| names(f) && f & AMBIGUOUS == 0;
    // The longest prefix of names (initials and particles inside, not last).
    let mut len = 0;
    for (k, w) in words.iter().enumerate() {
        if names(flags[k]) {
            len = k + 1;
        } else if w.shape == Shape::Title {
            break;
        }
    }
    if ctx == Context::Strong {
        let all = words.iter().rposition(|w| w.shape == Shape::Title)? + 1;
        return Some((all, 0.95));
    }
    if len == 0 {
        return None;
    }
    // `Wilson Parking`, `Okafor Logistics`, `Sunita Electronics`: one
    // name before a word of trade names a business.
    if len == 1
        && words
            .get(len)
            .is_some_and(|w| w.shape == Shape::Title && w.end - w.start >= 7 && trade_word(b, w))
    {
        return None;
    }
    let name_words = flags[..len].iter().filter(|&&f| names(f)).count();
    let any_clear = flags[..len].iter().any(|&f| clear(f));
    let clear_given = clear(flags[0]) && flags[0] & GIVEN != 0;
    // `Jose Rizalino Bautista`: a given name (a common word too), a
    // middle name the gazetteer does not know, then a surname that is no
    // common word.
    // (After context, the surname may be a common word too when it ends
    // the run and its line: `Tenant: Mohammed Rafiqul Islam`.)
    let line_end = |w: &Word| matches!(b.get(w.end), None | Some(b'\n' | b'\r'));
    if len == 1
        && flags[0] & GIVEN != 0
        && words.len() >= 3
        && unknown_word(&words[1])
        && !trade_word(b, &words[1])
        && (flags[2] & (SURNAME | AMBIGUOUS) == SURNAME
            || flags[2] & SURNAME != 0
                && ctx >= Context::Weak
                && words.len() == 3
                && line_end(&words[2]))
        && words[2].shape == Shape::Title
    {
        return Some((3, 0.8));
    }
    // A given name, then a title-case word the gazetteer does not know.
    if len == 1 && clear_given {
        // Past initials and particles (`Ludwig van Beethoven`).
        let next = words[1..]
            .iter()
            .position(|w| !matches!(w.shape, Shape::Initial | Shape::Particle))
            .map(|k| k + 1);
        if let Some(k) = next
            && words[k].shape == Shape::Title
            && words[k].end - words[k].start >= 3
        {
            // `Seán Mac Giolla Phádraig`: after a capitalised particle,
            // a surname of two words.
            let two = k > 1
                && words[k - 1].shape == Shape::Particle
                && b[words[k - 1].start].is_ascii_uppercase()
                && words.get(k + 1).is_some_and(unknown_word);
            // `Buyer: Alejandra Quispe Mamani`: after context, a third
            // unknown word ending the run and the line is a second surname.
            let second = !two
                && ctx >= Context::Weak
                && k + 2 == words.len()
                && unknown_word(&words[k + 1])
                && !trade_word(b, &words[k + 1])
                && !institution(&b[words[k + 1].start..words[k + 1].end])
                && matches!(b.get(words[k + 1].end), None | Some(b'\n' | b'\r'));
            return Some((k + 1 + usize::from(two || second), 0.7));
        }
    }
    // `Buyer: Alejandra Quispe Mamani`: with context before, a given name
    // and a surname, then the run's last word, unknown to the gazetteer,
    // ending a clause (a line, after weak context): a second surname.
    let clause_end = matches!(
        b.get(words[words.len() - 1].end),
        None | Some(b'\n' | b'\r')
    ) || ctx >= Context::Medium;
    if len == 2
        && ctx >= Context::Weak
        && clause_end
        && clear_given
        && flags[1] & SURNAME != 0
        && words.len() == 3
        && unknown_word(&words[2])
        && !trade_word(b, &words[2])
        && !institution(&b[words[2].start..words[2].end])
        && matches!(
            b.get(words[2].end),
            None | Some(b'\n' | b'\r' | b',' | b'.' | b';' | b')')
        )
    {
        return Some((3, 0.8));
    }
    // Given names only (`Fatima Zahra`), then the run's last word, title
    // case and unknown to the gazetteer: the surname.
    if name_words >= 2
        && flags[..len]
            .iter()
            .all(|&f| f == 0 || clear(f) && f & SURNAME == 0)
        && len + 1 == words.len()
        && words[len].shape == Shape::Title
        && words[len].end - words[len].start >= 3
        && !trade_word(b, &words[len])
        && !institution(&b[words[len].start..words[len].end])
    {
        return Some((len + 1, 0.8));
    }
    // `Customer: Mary Jane Bearspaw`, `my mother, Rosa Elena Quispe
    // Huamán.`: after context, names, then one or two words unknown to
    // the gazetteer that end the run and its line (or, after a greeting's
    // weight, its clause): the surnames.
    if name_words >= 2 && any_clear && ctx >= Context::Weak {
        let tail = &words[len..];
        let ends = tail.last().is_some_and(|w| {
            line_end(w)
                || ctx >= Context::Medium && matches!(b.get(w.end), Some(b'.' | b',' | b')'))
        });
        if (1..=2).contains(&tail.len())
            && ends
            && tail
                .iter()
                .all(|w| unknown_word(w) && !trade_word(b, w) && !institution(&b[w.start..w.end]))
        {
            return Some((words.len(), 0.85));
        }
        return Some((len, 0.85));
    }
    if name_words >= 2 && any_clear {
        return Some((len, 0.85));
    }
    // `Mark Brown`, `Will Smith`: a given name then a surname, both also
    // common words.
    if len == 2 && flags[0] & GIVEN != 0 && flags[1] & SURNAME != 0 {
        return Some((2, 0.65));
    }
    match ctx {
        // `cc Faith Mwangi`, `Hi Grace Otieno`: after a greeting, a given
        // name (a common word too), then a title-case word the lexicon
        // does not know: the surname.
        Context::Medium
            if len == 1
                && flags[0] & GIVEN != 0
                && words
                    .get(1)
                    .is_some_and(|w| unknown_word(w) && !trade_word(b, w)) =>
        {
            Some((2, 0.8))
        }
        // (Particles between: `Hi Mark de Vries`, `cc Ilse van Dijk`.)
        Context::Medium if len == 1 && flags[0] & GIVEN != 0 => {
            let k = 1 + words[1..]
                .iter()
                .take_while(|w| w.shape == Shape::Particle)
                .count();
            let surname = k > 1
                && words
                    .get(k)
                    .is_some_and(|w| unknown_word(w) && !trade_word(b, w));
            Some((if surname { k + 1 } else { 1 }, 0.8))
        }
        Context::Medium => Some((len, 0.8)),
        // `to Ngozi Adeyemi,`: a surname-listed name, then a title-case
        // word the lexicon does not know: the rest of the name.
        Context::Weak
            if len == 1
                && clear(flags[0])
                && words
                    .get(1)
                    .is_some_and(|w| unknown_word(w) && !trade_word(b, w)) =>
        {
            Some((2, 0.75))
        }
        Context::Weak if any_clear => Some((len, 0.75)),
        _ if len == 1 && clear_given => Some((1, 0.6)),
        _ => None,
    }
}

/// Does `w` end like a trade or a product, not a surname (`Trading`,
/// `Electronics`, `Imports`, `Software`; a plural in `-ies` of seven
/// letters or more, `Supplies`, not `Vries`)?
fn trade_word(b: &[u8], w: &Word) -> bool {
    let w = &b[w.start..w.end];
    if w.ends_with(b"ies") {
        return w.len() >= 7;
    }
    [
        &b"ing"[..],
        b"ics",
        b"ion",
        b"ions",
        b"ment",
        b"ery",
        b"ware",
        b"works",
        b"ports",
        b"tech",
    ]
    .iter()
    .any(|s| w.ends_with(s))
}

/// Is `w` a role noun (`Nurse`, `Manager`, `Kollegin`: a contact word that
/// is never part of a name)?
fn role_noun(w: &Word) -> bool {
    w.flags & (STOP | CONTACT) == STOP | CONTACT
}

/// The name flags of a word: none for a stop word.
pub(super) fn name_flags(w: &Word) -> u16 {
    if w.flags & STOP != 0 {
        0
    } else {
        w.flags & NAME
    }
}

/// A word that makes the words after it a name: a title (strong) or a
/// greeting (medium).
fn context_word(flags: u16) -> Option<Context> {
    if flags & TITLE != 0 {
        Some(Context::Strong)
    } else if flags & GREETING != 0 {
        Some(Context::Medium)
    } else {
        None
    }
}

impl Pass<'_> {
    /// [`context_before`] `s`, remembered for the last `s` asked: the
    /// lone-word test, the search for a name's first word and its head
    /// ask about the same word.
    pub(super) fn person_context(&self, s: usize) -> Option<Context> {
        let (at, ctx) = self.person_ctx.get();
        if at == s {
            return ctx;
        }
        let ctx = if self.list_item(s) {
            Some(Context::Strong)
        } else if s >= 2 && bullet_at(self.b, s - 2) && self.bulleted_after_person(s) {
            // (A greeting's weight: `* Finance Team (inherit)` is no one.)
            context_before(self.b, s).max(Some(Context::Medium))
        } else {
            context_before(self.b, s)
        };
        self.person_ctx.set((s, ctx));
        ctx
    }

    /// `* Kofi Mensah (read)\n* Grace Oduya (owner)`: does `s` open an
    /// item of a bulleted list (`* `, `- `) an earlier item of which, the
    /// lines between all items too, opens with a person found? (Asked
    /// after a bullet before `s`: the rest out of line.)
    #[cold]
    #[inline(never)]
    fn bulleted_after_person(&self, s: usize) -> bool {
        let b = self.b;
        let bullet = s - 2;
        if bullet == 0 || b[bullet - 1] != b'\n' {
            return false;
        }
        self.out.last().is_some_and(|f| {
            f.kind == K::Person.kind()
                && f.start >= 2
                && b[f.start - 2] == b[bullet]
                && bullet_at(b, f.start - 2)
                && (f.start == 2 || b[f.start - 3] == b'\n')
                && f.end < bullet
                // (Within a list's reach: a long text's lines are not read
                // back at every bullet.)
                && bullet - f.end <= 1024
                && memchr::memchr_iter(b'\n', &b[f.end..bullet])
                    .all(|k| b.get(f.end + k + 1) == Some(&b[bullet]))
        })
    }

    /// `Cc: ROSE ADEYEMI; MARK BRENNAN`: is `s` a later name of a header's
    /// list, after a person found just before it and `;` or `,`?
    fn list_item(&self, s: usize) -> bool {
        let b = self.b;
        let sep = match s {
            0 => return false,
            _ if matches!(b[s - 1], b';' | b',') => s - 1,
            _ if s >= 2 && b[s - 1] == b' ' && matches!(b[s - 2], b';' | b',') => s - 2,
            _ => return false,
        };
        self.out
            .last()
            .is_some_and(|f| f.end == sep && f.kind == K::Person.kind())
            && address_list_line(b, sep)
    }
}

/// Is `b[k..k + 2]` a list's bullet and its space (`* `, `- `)? (`•`
/// is three bytes: its last two are read as no bullet.)
#[inline(always)]
fn bullet_at(b: &[u8], k: usize) -> bool {
    matches!(b.get(k..k + 2), Some(b"* " | b"- "))
}

/// Context in the text before a name starting at `s`; `None` where no name
/// can start (`Saint Patrick`, `St Kilda`).
fn context_before(b: &[u8], s: usize) -> Option<Context> {
    if sign_off_line_before(b, s) {
        return Some(Context::Strong);
    }
    let Some((ps, pe)) = word_before(b, s) else {
        if s >= 4
            && matches!(&b[s - 3..s - 1], b"t." | b"e." | [0xC5, 0xB7])
            && place_prefix_unread(&b[..s])
        {
            return None;
        }
        // `@Jordan Ellis can you …`: a mention names a person as a
        // greeting does; so does a worker's role before a bracket.
        if s > 0 && (b[s - 1] == b'@' || b[s - 1] == b'(' && worker_bracket_before(b, s)) {
            return Some(Context::Medium);
        }
        return Some(if lower_title_before(b, s) || asked_name_before(b, s) {
            Context::Strong
        } else {
            Context::None
        });
    };
    let prev = &b[ps..pe];
    // Lowered once into a buffer the lexicon reads as it is (zero past
    // the word).
    let Some(lower) = lower_word::<MAX_NAME>(prev) else {
        return Some(Context::None);
    };
    let prev = &lower[..prev.len()];
    // The word before that matters only after `is`, `am`, `me`, `of`,
    // `by`, `for`, a manager's words and `card`; with `i'm` and `user`,
    // the only words the pairs below are asked of (told once: most
    // words are none of them).
    let paired = matches!(
        prev,
        b"is"
            | b"am"
            | b"me"
            | b"of"
            | b"by"
            | b"for"
            | b"manager"
            | b"boss"
            | b"supervisor"
            | b"card"
            | b"i'm"
            | b"user"
    );
    let before = if paired && !matches!(prev, b"i'm" | b"user") {
        word_before(b, ps).and_then(|(s2, e2)| {
            let w = &b[s2..e2];
            lower_word::<24>(w).map(|l| (l, w.len()))
        })
    } else {
        None
    };
    let before = before.as_ref().map(|(l, n)| &l[..*n]);
    // `name: Tama Ngata`, `my name is …`, `I'm …`, `this is …`, `call me …`
    if b[pe..s].contains(&b':') {
        match prev {
            b"name" => return Some(Context::Strong),
            // A form's field for a person (see `PERSON_LABELS`).
            label if PERSON_LABELS.contains(&label) => return Some(Context::Strong),
            // A message's `From:` or `To:` header (not strong: `From: IT
            // Support`, `To: Service Desk` name teams as often).
            b"from" | b"to" if ps == 0 || b[ps - 1] == b'\n' => return Some(Context::Medium),
            // A form's `Contact:` (a greeting's weight: `Contact: Bill
            // Ranginui`, a common word then a surname the gazetteer lacks).
            // And a ticket's or a new starter's people (`Owner: Tui
            // Mataio`, `Buddy: Keira Malone`; `Owner: IT Operations` is a
            // team's, so a greeting's weight).
            b"contact" | b"owner" | b"buddy" | b"mentor" | b"delegate"
                if ps == 0 || b[ps - 1] == b'\n' =>
            {
                return Some(Context::Medium);
            }
            // A visit report's worker (`Engineer: K. Adeyemi`, `Tech: Ray`),
            // a label only at the line's start (`the address for the
            // technician: Shop 12, …`).
            b"engineer" | b"technician" | b"tech" if ps == 0 || b[ps - 1] == b'\n' => {
                return Some(Context::Strong);
            }
            _ => {}
        }
    }
    if paired {
        match (before, prev) {
            // `the trading name is Fernhill Bakehouse`: a thing's name.
            (Some(b"name"), b"is") if thing_name(b, ps) => {}
            (Some(b"name"), b"is") | (Some(b"i"), b"am") | (Some(b"call"), b"me") | (_, b"i'm") => {
                return Some(Context::Strong);
            }
            (Some(b"this"), b"is") => return Some(Context::Medium),
            // `Name on card THIAGO ALBUQUERQUE`: a card's holder.
            (Some(b"on"), b"card")
                if b[..ps].strip_suffix(b"on ").is_some_and(|h| {
                    h.len() >= 5 && h[h.len() - 5..].eq_ignore_ascii_case(b"name ")
                }) =>
            {
                return Some(Context::Strong);
            }
            // `my manager Dawn approved`, `our boss Grace`: whom one works
            // for, addressed as kin is (see `KIN_WORDS`); not a job title's
            // word (`Service Desk Manager, Head of …`).
            (
                Some(b"my" | b"our" | b"his" | b"her" | b"their" | b"your"),
                b"manager" | b"boss" | b"supervisor",
            ) => return Some(Context::Medium),
            // `Account manager Jack Tregenza`, `store manager Skye`: a
            // manager's role, its kind before it, in lower case just before
            // the name (not `Desk Manager, Head of …`, nor `the manager Will
            // Review`).
            (Some(kind), b"manager")
                if b[ps] == b'm'
                    && pe + 1 == s
                    && !matches!(kind, b"the" | b"a" | b"an" | b"this" | b"that") =>
            {
                return Some(Context::Medium);
            }
            // `User Milan Petrović is getting …`: a ticket's user, opening its
            // sentence just before the name (`User Guide` is no name).
            (_, b"user") if b[ps] == b'U' && pe + 1 == s && sentence_start(b, ps) => {
                return Some(Context::Medium);
            }
            // `Requested for: Florence Adjei`: a service request's person.
            (Some(b"requested"), b"for") if b[pe..s].contains(&b':') => {
                return Some(Context::Medium);
            }
            // `on behalf of Tendai Moyo`: whom a ticket is for (a greeting's
            // weight: `on behalf of Contoso Pharmaceuticals` is a firm).
            (Some(b"behalf"), b"of") => return Some(Context::Medium),
            // `approved by Faith`, `raised by Abebe Girma`: who did it (a
            // greeting's weight: a team or a product is no gazetteer name).
            (Some(verb), b"by") if done_by(verb) => return Some(Context::Medium),
            _ => {}
        }
    }
    // `restart Hudson`, `reboot Jasper`: a verb done to a system; `Team
    // Kestrel`: a team's name; `MV Kaitaki`, `MSC Isabella`: a ship's.
    // (Only just before: `Finance Team, Sarah Jones` is a list.)
    if pe + 1 == s && thing_before(prev, b[ps]) {
        return None;
    }
    // One lookup tells a title, a greeting, a contact word and a place
    // prefix (`Saint Patrick`, `St Kilda`: no name starts after one).
    let flags = if prev.len() <= 9 {
        // (A word before is ASCII letters and `'`: without `'`, a word the
        // table lacks has no other form to try.)
        get(&lower, prev.len()).unwrap_or_else(|| {
            if prev.contains(&b'\'') {
                lookup_lower(&lower, prev.len())
            } else {
                0
            }
        })
    } else {
        0
    };
    if flags & PLACE_PREFIX != 0 {
        return None;
    }
    if let Some(c) = context_word(flags) {
        return Some(c);
    }
    if flags & CONTACT == 0 {
        return Some(Context::None);
    }
    // `ASK DARREN`, `CALL PRIYA`: in capitals, a verb of contacting names
    // the word in capitals after it as a greeting would (a name the
    // gazetteer holds and no common word: see `upper_case_person`).
    Some(
        if matches!(prev, b"ask" | b"call" | b"tell" | b"ring")
            && b[ps].is_ascii_uppercase()
            && b[pe - 1].is_ascii_uppercase()
            && b.get(s + 1).is_some_and(u8::is_ascii_uppercase)
        {
            Context::Medium
        } else {
            Context::Weak
        },
    )
}

/// At most this many given names alone are kept for a person found later
/// (a text's first few: a long text's are not all kept).
pub(super) const DEFERRED: usize = 8;

/// `Charlotte Ahn … Charlotte's start date`: is `head`, a word of a
/// person found elsewhere in the text, alone, that person again? A common
/// word or a place only before `'s` or as a person's word is placed (see
/// below); never before a venue's word, after a determiner or a
/// preposition of place. Before the person was found (`later`), any word
/// only as a common word is (`Les imprimantes …, Les Whitmore`, `Max.
/// attachment size … Max Hollister`).
pub(super) fn known_alone(b: &[u8], head: &Word, later: bool) -> bool {
    let end = head.end;
    let possessive = matches!(b.get(end), Some(b'\'' | 0xE2));
    // (A common word too, only in mid-sentence and before a stop or a
    // word that no noun qualifies: `go to April and Marcus`, `not Mark
    // from Payroll`; not `keeps Summer opening times`, nor a place's or a
    // brand's: `Victoria`, `the room's Alexa`.)
    // (Opening a sentence, only before a verb a person does: `Grace will
    // take minutes.`; not `Summer is our busiest season`, nor a season or
    // a month.)
    let verb = |w: &[u8]| {
        matches!(
            w,
            b"will"
                | b"can"
                | b"works"
                | b"said"
                | b"says"
                | b"asked"
                | b"needs"
                | b"wants"
                | b"takes"
        )
    };
    let common_named = || {
        let next = word_after(&b[end..], 6, u8::is_ascii_lowercase);
        head.flags & (PLACE_NAME | BRAND) == 0
            && if mid_sentence(b, head.start) {
                matches!(
                    b.get(end),
                    None | Some(b',' | b'.' | b'!' | b'?' | b';' | b')' | b'\n')
                ) || next.is_some_and(|w| {
                    matches!(
                        w,
                        b"and"
                            | b"or"
                            | b"from"
                            | b"to"
                            | b"is"
                            | b"has"
                            | b"was"
                            // (No noun: `Escalate to Amber if it goes red`.)
                            | b"if"
                            | b"when"
                            | b"once"
                            | b"until"
                            | b"before"
                            | b"after"
                            | b"about"
                            | b"today"
                            | b"tomorrow"
                    ) || verb(w)
                })
            } else {
                next.is_some_and(verb)
                    && !month(&b[head.start..end])
                    && !matches!(
                        &b[head.start..end],
                        b"Summer" | b"Winter" | b"Spring" | b"Autumn"
                    )
            }
    };
    (head.flags & AMBIGUOUS == 0 && !later || possessive || common_named())
        && !venue_after(b, end)
        && !determiner_before(b, head.start)
        && !place_preposition(b, head.start)
}

/// `the tech (Dean)`, `our courier (Mosese)`: a worker's role in lower
/// case, a space and a bracket just before `s`: a role noun of the
/// lexicon (`ROLE_NOUNS`: `engineer`, `driver`, `courier`…) or one of
/// the few it does not hold as such. (Out of line: asked only after a
/// bracket, and the sentences' first words pass by its caller.)
#[cold]
#[inline(never)]
fn worker_bracket_before(b: &[u8], s: usize) -> bool {
    s >= 3
        && &b[s - 2..s] == b" ("
        && word_before(b, s - 1).is_some_and(|(ps, pe)| {
            let role = &b[ps..pe];
            pe == s - 2
                && role[0].is_ascii_lowercase()
                && (matches!(role, b"tech" | b"installer" | b"manager" | b"guard")
                    || super::names::lookup(role) & (STOP | CONTACT) == STOP | CONTACT)
        })
}

/// Is `prev` (lower case; `first`, its first byte as written) a verb done
/// to a system (`restart`, `reboot`), `Team`, a ship's prefix in capitals
/// (`MV`, `MSC`, `HMS`), French `salle` or a German contracted preposition
/// in lower case (`im`, `zum`)?
fn thing_before(prev: &[u8], first: u8) -> bool {
    match prev {
        b"restart" | b"reboot" | b"reinstall" | b"redeploy" | b"uninstall" | b"decommission" => {
            true
        }
        b"team" => first == b'T',
        // `Cyclone Gabrielle`, `Storm Éowyn`: a storm's name.
        b"cyclone" | b"hurricane" | b"typhoon" | b"storm" => first.is_ascii_uppercase(),
        // `salle Jean-Talon`: a room; `im Sommer`, `zum Feierabend`: a
        // German noun after a preposition and its article.
        b"salle" => true,
        b"im" | b"ins" | b"zum" | b"zur" | b"vom" | b"beim" => first.is_ascii_lowercase(),
        b"mv" | b"msc" | b"ss" | b"hms" | b"hmas" | b"hmnzs" | b"hmcs" | b"rms" => {
            first.is_ascii_uppercase()
        }
        _ => false,
    }
}

/// Does `head` end with a place prefix the word reader does not read:
/// `St. Louis`, `Sault Ste. Marie`, `Mt. Eden`, the Welsh `Tŷ Gwyn` (a
/// house)?
#[cold]
#[inline(never)]
fn place_prefix_unread(head: &[u8]) -> bool {
    [
        &b" St. "[..],
        b"\nSt. ",
        b" Ste. ",
        b" Mt. ",
        b"\nMt. ",
        "Tŷ ".as_bytes(),
    ]
    .iter()
    .any(|p| head.ends_with(p))
}

/// A ticket's verbs of who did something (`approved by`, `raised by`).
fn done_by(verb: &[u8]) -> bool {
    matches!(
        verb,
        b"approved"
            | b"authorised"
            | b"authorized"
            | b"raised"
            | b"requested"
            | b"submitted"
            | b"logged"
            | b"escalated"
            | b"assigned"
            | b"reviewed"
            | b"handled"
            | b"refunded"
            | b"collected"
    )
}

/// Does the line holding `p` open with a message header's list of people
/// (`To:`, `Cc:`, `Bcc:`, any case) or a meeting's (`Attendees:`,
/// `Participants:`, `Invitees:`, `Apologies:`)?
#[cold]
fn address_list_line(b: &[u8], p: usize) -> bool {
    // (Within 200 bytes: a longer list is not read.)
    let from = p.saturating_sub(200);
    let line = match b[from..p].iter().rposition(|&c| c == b'\n') {
        Some(n) => from + n + 1,
        None if from == 0 => 0,
        None => return false,
    };
    let head = &b[line..p.min(line + 13)];
    [
        &b"to:"[..],
        b"cc:",
        b"bcc:",
        b"attendees:",
        b"participants:",
        b"invitees:",
        b"apologies:",
    ]
    .iter()
    .any(|h| head.len() >= h.len() && head[..h.len()].eq_ignore_ascii_case(h))
}

/// `What's your name? Kisuke Sugita`, `Last name? Ermakov`: a question
/// for a name just before `s` (a chat's answer follows it).
#[inline(always)]
fn asked_name_before(b: &[u8], s: usize) -> bool {
    s >= 2 && (b[s - 2] == b'?' || s >= 3 && b[s - 3] == b'?') && asked_name_at(b, s)
}

/// [`asked_name_before`] past its first test.
#[cold]
fn asked_name_at(b: &[u8], s: usize) -> bool {
    let head = &b[s.saturating_sub(12)..s];
    let head = head.strip_suffix(b" ").unwrap_or(head);
    let head = head.strip_suffix(b" ").unwrap_or(head);
    head.strip_suffix(b"?")
        .is_some_and(|q| q.len() >= 4 && q[q.len() - 4..].eq_ignore_ascii_case(b"name"))
}

/// `with ms. Topi`, `ask dr. Patel`: a title in lower case, its full stop
/// and a space just before `s` (chat text; a capitalised title is in the
/// run itself).
#[inline(always)]
fn lower_title_before(b: &[u8], s: usize) -> bool {
    // The titles end in `r`, `s` or `f` after `m`, `r`, `d` or `o`: two
    // tests for most text (`logs. The`), in one branch (the first alone
    // was mispredicted at a third of sentences).
    s >= 4
        && matches!(b[s - 3], b'r' | b's' | b'f') & matches!(b[s - 4], b'm' | b'r' | b'd' | b'o')
        && lower_title_at(b, s)
}

/// [`lower_title_before`] past its first test.
#[cold]
fn lower_title_at(b: &[u8], s: usize) -> bool {
    let Some(head) = b[..s].strip_suffix(b". ") else {
        return false;
    };
    LOWER_TITLES.iter().any(|t| {
        head.ends_with(t)
            && head
                .len()
                .checked_sub(t.len() + 1)
                .is_none_or(|k| !head[k].is_ascii_alphanumeric())
    })
}

/// The titles written in lower case (chat's `with ms. Topi`, the
/// lower-case reader's `mrs o'sullivan`).
const LOWER_TITLES: [&[u8]; 6] = [b"mr", b"ms", b"mrs", b"dr", b"prof", b"miss"];

/// The longest of [`LOWER_TITLES`].
const LOWER_TITLE_MAX: usize = {
    let (mut max, mut k) = (0, 0);
    while k < LOWER_TITLES.len() {
        if LOWER_TITLES[k].len() > max {
            max = LOWER_TITLES[k].len();
        }
        k += 1;
    }
    max
};

/// Is `w` a title written in lower case (see [`LOWER_TITLES`])?
pub(super) fn lower_title(w: &[u8]) -> bool {
    // (Most words are longer than a title: told by the length, where the
    // list was compared at each word of a line in lower case.)
    w.len() <= LOWER_TITLE_MAX && LOWER_TITLES.contains(&w)
}

/// Does a word naming a thing come before `name is` (`is` starting at
/// `is_start`): `the trading name is`, `the file name is`?
#[cold]
fn thing_name(b: &[u8], is_start: usize) -> bool {
    let Some((ns, _)) = word_before(b, is_start) else {
        return false;
    };
    word_before(b, ns).is_some_and(|(ws, we)| {
        lower_ascii::<12>(&b[ws..we]).is_some_and(|l| {
            matches!(
                &l[..we - ws],
                b"trading"
                    | b"registered"
                    | b"company"
                    | b"business"
                    | b"legal"
                    | b"brand"
                    | b"product"
                    | b"shop"
                    | b"store"
                    | b"site"
                    | b"file"
                    | b"folder"
                    | b"domain"
                    | b"host"
                    | b"device"
                    | b"project"
                    | b"team"
                    | b"group"
                    | b"network"
                    | b"server"
                    | b"printer"
                    | b"street"
                    | b"venue"
                    | b"entity"
            )
        })
    })
}

/// Does the line that `head` ends with (its `\n` included) open with a
/// list's marker (`- `, `* `, `• `)?
fn list_item_above(head: &[u8]) -> bool {
    let Some(above) = head.strip_suffix(b"\n") else {
        return false;
    };
    let line = &above[above.iter().rposition(|&c| c == b'\n').map_or(0, |p| p + 1)..];
    line.starts_with(b"- ") || line.starts_with(b"* ") || line.starts_with("• ".as_bytes())
}

/// Is the line before the one `s` starts a sign-off (`Regards,`, `Kind
/// regards`, `Ngā mihi`), with `s` at the start of its own line (both
/// past a quoted reply's markers: `> Regards,\n> Bill`)?
// (Inline, the line above read out of line: most capitals are told at
// once, and the call's saved registers cost as much as the test.)
#[inline(always)]
fn sign_off_line_before(b: &[u8], s: usize) -> bool {
    let mut p = s;
    while p > 0 && matches!(b[p - 1], b' ' | b'\t' | b'>') {
        p -= 1;
    }
    if p == 0 || b[p - 1] != b'\n' {
        return false;
    }
    let line_end = p - 1 - usize::from(p >= 2 && b[p - 2] == b'\r');
    // (Most lines above end in no sign-off's last two letters: told
    // without looking for the line's start.)
    sign_off_tail(&b[..line_end]) && sign_off_line(b, line_end)
}

/// Is the line ending at `line_end` a sign-off (see
/// [`sign_off_line_before`])?
#[cold]
#[inline(never)]
fn sign_off_line(b: &[u8], line_end: usize) -> bool {
    // No sign-off is longer than 40 bytes: look no further back.
    let Some(line_start) = super::line_start_within(b, line_end, 40) else {
        return false;
    };
    let mut line = &b[line_start..line_end];
    while let [b'>' | b' ', rest @ ..] = line {
        line = rest;
    }
    sign_off(line)
}

/// May the line ending `head` be a sign-off ([`sign_off`])? Past the
/// white space and marks that it trims, its last two bytes, in lower case,
/// must end one of [`SIGN_OFFS`] (any byte not ASCII: maybe; a test
/// checks every sign-off passes).
#[inline]
fn sign_off_tail(head: &[u8]) -> bool {
    let trimmed = |c: &u8| {
        matches!(
            c,
            b' ' | b'\t' | 0x0B | 0x0C | b'\r' | b',' | b'!' | b'.' | b'-'
        )
    };
    let n = head.iter().rev().take_while(|c| trimmed(c)).count();
    let [.., x, y] = &head[..head.len() - n] else {
        return false;
    };
    if *x >= 0x80 || *y >= 0x80 {
        return true;
    }
    // (A table's bit, not a `match` on the pair: that was a jump table,
    // an indirect branch at most lines' starts.)
    let (x, y) = (x | 0x20, y | 0x20);
    x.is_ascii_lowercase()
        && y.is_ascii_lowercase()
        && SIGN_OFF_TAILS[usize::from(x - b'a')] >> (y - b'a') & 1 == 1
}

/// The last two letters of the sign-offs (of [`SIGN_OFFS`], a test
/// checks), as bits: for each first letter, the second letters after it.
const SIGN_OFF_TAILS: [u32; 26] = tail_bits(&[
    *b"ds", *b"ks", *b"ou", *b"rs", *b"st", *b"ly", *b"hi", *b"te", *b"en", *b"nt", *b"ci", *b"es",
    *b"in", *b"ta", *b"ed", *b"ps", *b"ch", *b"ot", *b"ce", *b"hx", *b"on", *b"re",
]);

/// [`SIGN_OFF_TAILS`] from the pairs of lower-case letters.
const fn tail_bits(pairs: &[[u8; 2]]) -> [u32; 26] {
    let mut bits = [0u32; 26];
    let mut k = 0;
    while k < pairs.len() {
        bits[(pairs[k][0] - b'a') as usize] |= 1 << (pairs[k][1] - b'a');
        k += 1;
    }
    bits
}

/// Is `line` (trimmed of white space, then of trailing `,`, `!`, `.` and
/// `-`, then of white space) a sign-off, compared in lower case?
fn sign_off(line: &[u8]) -> bool {
    if !line.is_ascii() {
        // `Ngā mihi`, `Viele Grüße`, invalid bytes: Unicode trimming and
        // lowering (rare: most lines are ASCII and take no allocation).
        let line = String::from_utf8_lossy(line);
        let line = line
            .trim()
            .trim_end_matches([',', '!', '.', '-'])
            .trim()
            .to_lowercase();
        return SIGN_OFFS.contains(&line.as_bytes());
    }
    // The same on ASCII, without allocating: `char::is_whitespace` on
    // ASCII is these six bytes (vertical tab included).
    let mut line = trim_space(line);
    while let [rest @ .., b',' | b'!' | b'.' | b'-'] = line {
        line = rest;
    }
    let line = trim_space(line);
    if line.len() > SIGN_OFF_MAX {
        return false;
    }
    let mut lower = [0u8; SIGN_OFF_MAX];
    let lower = &mut lower[..line.len()];
    lower.copy_from_slice(line);
    lower.make_ascii_lowercase();
    SIGN_OFFS.contains(&&*lower)
}

/// `line` without leading and trailing white space as `str::trim` sees it
/// on ASCII (`char::is_whitespace`: these six bytes, vertical tab included).
fn trim_space(mut line: &[u8]) -> &[u8] {
    let ws = |c: &u8| matches!(c, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r');
    while let [first, rest @ ..] = line
        && ws(first)
    {
        line = rest;
    }
    while let [rest @ .., last] = line
        && ws(last)
    {
        line = rest;
    }
    line
}

/// The sign-offs, in lower case.
const SIGN_OFFS: &[&[u8]] = &[
    b"regards",
    b"kind regards",
    b"best regards",
    b"warm regards",
    b"many thanks",
    b"thanks",
    b"thank you",
    b"cheers",
    b"best",
    b"sincerely",
    b"yours sincerely",
    b"yours faithfully",
    "ngā mihi".as_bytes(),
    b"nga mihi",
    b"ka kite",
    "mit freundlichen grüßen".as_bytes(),
    "viele grüße".as_bytes(),
    b"cordialement",
    b"merci",
    b"best wishes",
    b"all the best",
    b"thanks again",
    b"ta",
    b"signed",
    b"thanks and regards",
    b"thanks & regards",
    b"with thanks",
    b"with regards",
    b"respectfully",
    b"warmly",
    // Informal ones (`Thanks heaps!\nHunter`).
    b"thanks heaps",
    b"thanks so much",
    b"thanks a lot",
    b"thanks very much",
    b"thank you so much",
    b"thanks in advance",
    b"thx",
    b"rgds",
    b"talk soon",
    b"speak soon",
    b"take care",
];

/// The longest sign-off in bytes (`mit freundlichen grüßen`).
const SIGN_OFF_MAX: usize = 25;

/// Does an email just after the name (same line, within 80 bytes) carry one
/// of its words in its local part (`Tom Becker <tom.becker@…>`)?
fn email_matches(pass: &Pass<'_>, words: &[Word]) -> bool {
    let b = pass.b;
    let Some(last) = words.last() else {
        return false;
    };
    let window = &b[last.end..b.len().min(last.end + 80)];
    // (The first `@` or line end, in one search: past a line's end there
    // is no email on the name's line.)
    let Some(at) = memchr::memchr2(b'@', b'\n', window).filter(|&k| window[k] == b'@') else {
        return false;
    };
    let local_start = window[..at]
        .iter()
        .rposition(|&c| !(c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'+')))
        .map_or(0, |p| p + 1);
    let local = &window[local_start..at];
    words
        .iter()
        .filter(|w| w.shape == Shape::Title && w.end - w.start >= 3)
        .any(|w| {
            let word = &b[w.start..w.end];
            // (The first letter first: most places are told there.)
            let first = word[0].to_ascii_lowercase();
            local
                .windows(word.len())
                .any(|x| x[0].to_ascii_lowercase() == first && x.eq_ignore_ascii_case(word))
        })
}

/// [`lower_ascii`] of a word [`word_before`] reads (ASCII letters and
/// `'`): setting each byte's 0x20 bit lowers it (`'` has the bit), without
/// a comparison a byte (corpus −0.15 instructions a byte).
fn lower_word<const N: usize>(w: &[u8]) -> Option<[u8; N]> {
    debug_assert!(w.iter().all(|&c| c.is_ascii_alphabetic() || c == b'\''));
    if w.len() > N {
        return None;
    }
    let mut out = [0u8; N];
    for (o, c) in out.iter_mut().zip(w) {
        *o = c | 0x20;
    }
    Some(out)
}

/// `w` in ASCII lower case in a fixed buffer, if it fits.
fn lower_ascii<const N: usize>(w: &[u8]) -> Option<[u8; N]> {
    if w.len() > N {
        return None;
    }
    let mut out = [0u8; N];
    for (o, c) in out.iter_mut().zip(w) {
        *o = c.to_ascii_lowercase();
    }
    Some(out)
}

/// `Czcibor Kaczmarek\n43 Gloddaeth Street`: the people named alone on
/// the line just above an address found at its line's start (`found`,
/// the pass's findings, sorted): its addressee, whose name need not be a
/// name the gazetteer holds whole. Read at the pass's end, from the
/// addresses (few), not at every line's first word (many).
#[cold]
pub(super) fn addressees(b: &[u8], found: &[Finding], min_score: f32) -> Vec<Finding> {
    let mut people = Vec::new();
    let mut before = 0;
    for f in found {
        if f.kind == K::Address.kind()
            && let Some((s, e)) = super::line_above(b, f.start)
            && s >= before
            && e - s <= 48
            && ADDRESSEE_SCORE >= min_score
            && let Some(s) = addressee(b, s, e)
        {
            people.push(Finding {
                kind: K::Person.kind(),
                start: s,
                end: e,
                score: ADDRESSEE_SCORE,
                recognizer: Cow::Borrowed(RECOGNIZER),
            });
        }
        // (A person found on the line is replaced by the whole line; any
        // other finding keeps its words.)
        if f.kind != K::Person.kind() {
            before = f.end;
        }
    }
    people
}

/// An addressee's score: a name's line above an address is context as
/// strong as a form's `Name:` label.
const ADDRESSEE_SCORE: f32 = 0.85;

/// Is the line `b[s..e]` a person's name alone: one to four words in
/// title case after a title, two to four without, one of them a name the
/// gazetteer knows, none a site's, a house's or a firm's word (`Auckland
/// Branch`, `Ivy Lodge`, `Kellogg Company`)? Where the name starts (past
/// the title: `Mrs Deborah Lamb`).
fn addressee(b: &[u8], s: usize, e: usize) -> Option<usize> {
    let line = &b[s..e];
    let title = line
        .iter()
        .position(|&c| c == b' ')
        .filter(|&k| {
            let w = &line[..k];
            super::names::lookup(w.strip_suffix(b".").unwrap_or(w)) & TITLE != 0
        })
        .map_or(0, |k| k + 1);
    let name = &line[title..];
    let words = || name.split(|&c| c == b' ').filter(|w| !w.is_empty());
    let fewest = if title > 0 { 1 } else { 2 };
    let named = (fewest..=4).contains(&words().count())
        && name.iter().all(|&c| {
            c.is_ascii_alphabetic() || c >= 0x80 || matches!(c, b' ' | b'-' | b'\'' | b'.')
        })
        && words().all(|w| w[0].is_ascii_uppercase() && !site_word(w) && !institution(w))
        && words().any(|w| {
            let flags = super::names::lookup(w);
            flags & (GIVEN | SURNAME) != 0 && flags & (STOP | PLACE | PLACE_NAME | BRAND) == 0
        });
    named.then_some(s + title)
}

/// `Branch`, `Lodge`, `Company`: a word that names a site, a house or a
/// firm, never a person (an institution's is [`institution`]'s).
pub(super) fn site_word(w: &[u8]) -> bool {
    [
        &b"branch"[..],
        b"office",
        b"store",
        b"depot",
        b"site",
        b"warehouse",
        b"team",
        b"dept",
        b"department",
        b"reception",
        b"clinic",
        b"campus",
        b"centre",
        b"center",
        b"hq",
        b"plant",
        b"factory",
        b"shop",
        b"lab",
        b"library",
        b"lodge",
        b"house",
        b"cottage",
        b"farm",
        b"manor",
        b"villa",
        b"company",
        b"co",
        b"co.",
        b"group",
        b"partners",
        b"services",
        b"solutions",
        b"systems",
        b"holdings",
        b"council",
        b"society",
        b"association",
        b"bank",
        b"corporation",
        b"sa",
        b"s.a.",
        b"ag",
        b"gmbh",
        b"ltd",
        b"ltd.",
        b"llc",
        b"inc",
        b"inc.",
        b"plc",
        b"pty",
        b"limited",
        b"bv",
        b"nv",
        b"spa",
        b"srl",
        b"llp",
        b"ulc",
        b"dac",
    ]
    .iter()
    .any(|s| w.eq_ignore_ascii_case(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `strong_before_word`'s gates answer as the whole context did (a
    /// line's start or a short word before, then `person_context` strong):
    /// a new way for `context_before` to find strong context must pass
    /// them too, or this fails.
    #[test]
    fn strong_before_word_reads_as_the_whole_context() {
        const PIECES: [&str; 40] = [
            "Hi ",
            "Dr ",
            "Dr. ",
            "Mrs ",
            "is ",
            "am ",
            "me ",
            "I'm ",
            "card ",
            "name: ",
            "Name: ",
            "Requester: ",
            "Reported by: ",
            "engineer: ",
            "Tech: ",
            "Regards,\n",
            "Thanks,\n",
            "Cheers\n",
            "Kind regards\n",
            ", ",
            "; ",
            "\n",
            "\n ",
            "\r\n",
            "- ",
            "* ",
            "? ",
            "the ",
            "our ",
            "Sean ",
            "Kim ",
            "Aroha ",
            "ticket ",
            "called ",
            "from ",
            "cc: ",
            "Contact: ",
            "my name is ",
            "Attendees: ",
            "1. ",
        ];
        let on = crate::scan::KindSet(u128::MAX);
        let mut x: u64 = 0x51A7_E5EE_D0F5_7A2B;
        let (mut asked, mut strong) = (0, 0);
        for _ in 0..20_000 {
            let n = 1 + (crate::xorshift(&mut x) % 6) as usize;
            let mut text: String = (0..n)
                .map(|_| PIECES[(crate::xorshift(&mut x) % PIECES.len() as u64) as usize])
                .collect();
            text.push_str("Sean Kim");
            let b = text.as_bytes();
            for s in (1..b.len()).filter(|&s| b[s].is_ascii_uppercase()) {
                let line_start =
                    matches!(b[s - 1], b'\n') || (s >= 2 && b[s - 1] == b' ' && b[s - 2] == b'\n');
                let short = word_before(b, s).is_some_and(|(ws, we)| {
                    we - ws <= 6 || b[we] == b':' && long_person_label(&b[ws..we])
                });
                let whole = (line_start || short)
                    && Pass::new(b, on, 0.0).person_context(s) == Some(Context::Strong);
                let gated = strong_before_word(&Pass::new(b, on, 0.0), s);
                assert_eq!(gated, whole, "{text:?} at {s}");
                asked += 1;
                strong += usize::from(whole);
            }
        }
        assert!(
            strong > 1_000 && asked - strong > 1_000,
            "{strong} of {asked}"
        );
    }

    /// A title or greeting alone that [`lone_context_word`] passes over
    /// is one `segment_person` finds nothing in: no person pushed, none
    /// remembered or deferred, no resume moved.
    #[test]
    fn a_lone_context_word_holds_no_person() {
        const PIECES: [&str; 24] = [
            "Hi", "Dear", "Dr", "Mrs", "Mr", "Ms", "Prof", "Hello", "Thanks", "Cheers", "Co",
            "Jan", "Sean", "Kim", "team", "Aroha", "my", "is", "Regards", "cc", "Sir", "Herr",
            "Madame", "Kia ora",
        ];
        const MARKS: [&str; 9] = [" ", " ", " ", ", ", ",", "!", ".\n", ":\n", ". "];
        let on = crate::scan::KindSet(u128::MAX);
        let mut x: u64 = 0x1D0E_C0DE_5EED_0B5E;
        let (mut skipped, mut asked) = (0, 0);
        for _ in 0..20_000 {
            let n = 1 + (crate::xorshift(&mut x) % 6) as usize;
            let text: String = (0..n)
                .flat_map(|_| {
                    [
                        PIECES[(crate::xorshift(&mut x) % PIECES.len() as u64) as usize],
                        MARKS[(crate::xorshift(&mut x) % MARKS.len() as u64) as usize],
                    ]
                })
                .collect();
            let b = text.as_bytes();
            for i in (0..b.len()).filter(|&i| b[i].is_ascii_uppercase()) {
                let Some(w) = super::super::capital_word(b, i) else {
                    continue;
                };
                asked += 1;
                if !lone_context_word(b, &[w]) {
                    continue;
                }
                skipped += 1;
                let mut pass = Pass::new(b, on, 0.0);
                segment_person(&mut pass, &[w]);
                assert!(
                    pass.out.is_empty()
                        && pass.person_end == 0
                        && pass.known_n == 0
                        && pass.deferred_n == 0,
                    "{text:?} at {i}"
                );
            }
        }
        assert!(
            skipped > 1_000 && asked - skipped > 1_000,
            "{skipped} of {asked}"
        );
    }

    /// [`SIGN_OFF_TAILS`]'s bits hold the pairs the `match` it stands
    /// for held, for every pair of ASCII bytes.
    #[test]
    fn sign_off_tail_bits_hold_the_pairs_matched() {
        let matched = |x: u8, y: u8| {
            matches!(
                [x | 0x20, y | 0x20],
                [b'd', b's']
                    | [b'k', b's']
                    | [b'o', b'u']
                    | [b'r', b's']
                    | [b's', b't']
                    | [b'l', b'y']
                    | [b'h', b'i']
                    | [b't', b'e']
                    | [b'e', b'n']
                    | [b'n', b't']
                    | [b'c', b'i']
                    | [b'e', b's']
                    | [b'i', b'n']
                    | [b't', b'a']
                    | [b'e', b'd']
                    | [b'p', b's']
                    | [b'c', b'h']
                    | [b'o', b't']
                    | [b'c', b'e']
                    | [b'h', b'x']
                    | [b'o', b'n']
                    | [b'r', b'e']
            )
        };
        let mut held = 0;
        for x in 0..0x80u8 {
            for y in 0..0x80u8 {
                let head = [b'a', x, y];
                // (A trimmed mark last is passed over: the pair is read
                // before it.)
                let trimmed = |c: u8| {
                    matches!(
                        c,
                        b' ' | b'\t' | 0x0B | 0x0C | b'\r' | b',' | b'!' | b'.' | b'-'
                    )
                };
                if trimmed(x) || trimmed(y) {
                    continue;
                }
                assert_eq!(sign_off_tail(&head), matched(x, y), "{x:#x} {y:#x}");
                held += usize::from(matched(x, y));
            }
        }
        assert_eq!(held, 22 * 4);
    }

    /// `sign_off_tail` lets every sign-off through, in any case, with the
    /// marks and spaces `sign_off` trims after it (and random lines that
    /// are sign-offs too: it never says no where `sign_off` says yes).
    #[test]
    fn the_sign_off_tail_passes_every_sign_off() {
        const ENDS: [&str; 8] = ["", ",", "!", " ,", "...", "-\t", " \r", ",  "];
        for s in SIGN_OFFS {
            let s = String::from_utf8_lossy(s);
            for case in [s.to_string(), s.to_uppercase(), title(&s)] {
                for end in ENDS {
                    let line = format!("{case}{end}");
                    // (`GRÜSSEN`: `ß` in capitals is no sign-off's.)
                    if case.contains("SS") {
                        continue;
                    }
                    assert!(sign_off(line.as_bytes()), "{line:?}");
                    assert!(sign_off_tail(format!("> {line}").as_bytes()), "{line:?}");
                }
            }
        }
        // Random lines of sign-off pieces: the tail never refuses one.
        const PIECES: [&str; 12] = [
            "regards",
            "Thanks",
            " ",
            ",",
            "!",
            "K",
            "\u{212A}S",
            "ß",
            "e",
            "\u{a0}",
            "-",
            "ta",
        ];
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut signed = 0;
        for _ in 0..50_000 {
            let n = 1 + (crate::xorshift(&mut x) % 4) as usize;
            let line: String = (0..n)
                .map(|_| PIECES[(crate::xorshift(&mut x) % PIECES.len() as u64) as usize])
                .collect();
            if sign_off(line.as_bytes()) {
                signed += 1;
                assert!(sign_off_tail(line.as_bytes()), "{line:?}");
            }
        }
        assert!(signed > 100, "{signed}");
        assert!(!sign_off_tail(b"Please advise.") && !sign_off_tail(b"12"));
    }

    /// `s` with each word's first letter in capitals.
    fn title(s: &str) -> String {
        s.split(' ')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect::<String>())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn group_words_open_with_a_capital() {
        assert!(GROUP_WORDS.iter().all(|w| w[0].is_ascii_uppercase()));
    }

    #[test]
    fn lower_word_lowers_as_lower_ascii_the_words_word_before_reads() {
        let letters: Vec<u8> = (b'A'..=b'Z').chain(b'a'..=b'z').chain([b'\'']).collect();
        for &x in &letters {
            for &y in &letters {
                let w = [x, y, y, x];
                assert_eq!(lower_word::<8>(&w), lower_ascii::<8>(&w), "{w:?}");
                assert_eq!(lower_word::<8>(&w[..1]), lower_ascii::<8>(&w[..1]));
            }
        }
        let long = b"O'Sullivan-free".repeat(3);
        let long: Vec<u8> = long.into_iter().filter(|&c| c != b'-').collect();
        for n in 0..=long.len() {
            assert_eq!(
                lower_word::<MAX_NAME>(&long[..n]),
                lower_ascii::<MAX_NAME>(&long[..n])
            );
            assert_eq!(lower_word::<24>(&long[..n]), lower_ascii::<24>(&long[..n]));
        }
        // Found as it was by the pass.
        let b = b"Kind regards from Ms O'Brien";
        let (s, e) = word_before(b, 21).unwrap_or_default();
        assert_eq!(
            &lower_word::<8>(&b[s..e]).unwrap_or_default()[..e - s],
            b"ms"
        );
    }

    /// A name's words as `segment_person` reads them: copied with their
    /// inner particles made particles where the name holds one, borrowed
    /// as they are where it holds none, the same words as the copy made
    /// at every name before, for names of every length and shape.
    #[test]
    fn inner_particles_copied_only_where_a_name_holds_one() {
        // The copy as `segment_person` made it for every name.
        fn always_copied(words: &[Word]) -> Vec<Word> {
            let n = words.len();
            let mut inner = [Word {
                start: 0,
                end: 0,
                shape: Shape::Particle,
                flags: 0,
            }; super::super::MAX_RUN];
            for (k, (slot, w)) in inner.iter_mut().zip(words).enumerate() {
                *slot = *w;
                if k > 0 && k + 1 < n && w.shape == Shape::Title && w.flags & PARTICLE != 0 {
                    slot.shape = Shape::Particle;
                    slot.flags = 0;
                }
            }
            inner[..n].to_vec()
        }
        let shapes = [
            Shape::Title,
            Shape::Upper,
            Shape::Initial,
            Shape::Particle,
            Shape::Mixed,
            Shape::Connector,
        ];
        let flags = [
            0,
            PARTICLE,
            PARTICLE | GIVEN,
            GIVEN,
            STOP | PARTICLE,
            SURNAME,
        ];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            let n = (crate::xorshift(&mut x) % (super::super::MAX_RUN as u64 + 1)) as usize;
            let words: Vec<Word> = (0..n)
                .map(|k| {
                    let r = crate::xorshift(&mut x);
                    Word {
                        start: 4 * k,
                        end: 4 * k + 3,
                        shape: shapes[r as usize % shapes.len()],
                        flags: flags[(r >> 8) as usize % flags.len()],
                    }
                })
                .collect();
            let copied = (1..n.saturating_sub(1)).any(|k| inner_particle(&words[k]));
            let read: Vec<Word> = if copied {
                let own = inner_particles(&words);
                own.0[..own.1].to_vec()
            } else {
                words.clone()
            };
            let want = always_copied(&words);
            let same = |a: &Word, b: &Word| {
                (a.start, a.end, a.shape, a.flags) == (b.start, b.end, b.shape, b.flags)
            };
            assert!(
                read.len() == want.len() && read.iter().zip(&want).all(|(a, b)| same(a, b)),
                "{words:?}"
            );
        }
    }
}
