//! The entity pass: people (`PERSON`), postal addresses (`ADDRESS`) and
//! organisations (`ORGANIZATION`), found after the scanner from capitalised
//! words, a name gazetteer and context.
//!
//! The scanner's own loop ([`crate::scan`]) walks the bytes and calls
//! [`Pass::at`] at each capital letter it stops at (ASCII, or the lead byte
//! of a multi-byte character, which may be a Unicode capital), so each byte
//! is read by one loop only. At a capital that starts a word it gathers a
//! *run*: the capitalised words that follow one another, separated by single
//! spaces, with name particles (`van`, `de`, `bin`), initials (`J.`) and
//! connectors (`&`, `and`, `of`) inside. Each run is then read, in order, as
//! an organisation (a legal form such as `Ltd` or `GmbH` after name words),
//! an address (a house number before the run and a street type in it, or a
//! German `…straße 12`), and a person (see [`person`]). Capitals before
//! the end of the last run read are passed over, so the pass is linear in
//! the input; every look-back and look-ahead is bounded. After the scan,
//! [`lower_case`] reads the lines written without capitals (chat, texts)
//! for the people named there in lower case.

mod address;
mod lower_case;
mod names;
mod organization;
mod person;
mod table;

use std::borrow::Cow;

pub(crate) use address::house_or_unit_number;
pub(crate) use lower_case::speaker_prefix;

use crate::Finding;
use crate::kind::K;
use crate::scan::KindSet;

/// At most this many words make a run.
const MAX_RUN: usize = 8;

/// What a word in a run is.
// `Connector` is 0, so that `Word::NONE` is all zeros and a run's unused
// words are cleared with a few vector stores, not copied from a constant.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Shape {
    /// `Sarah`, `McDonald`, `O'Brien`, `Smith-Jones`.
    Title = 1,
    /// `IBM`, `LLC`: two or more letters, all capitals.
    Upper,
    /// `GmbH`, `iPhone`-like mixtures that start with a capital.
    Mixed,
    /// `J.`: one capital and a full stop.
    Initial,
    /// A lower-case name particle: `van`, `de`, `bin`.
    Particle,
    /// `&`, `and`, `of`.
    Connector = 0,
}

/// One word of a run: its span (without a trailing full stop), shape and
/// lexicon flags ([`names`]; 0 for particles, connectors and initials).
#[derive(Clone, Copy, Debug)]
struct Word {
    start: usize,
    end: usize,
    shape: Shape,
    flags: u16,
}

impl Word {
    /// A placeholder past a run's last word.
    const NONE: Word = Word {
        start: 0,
        end: 0,
        shape: Shape::Connector,
        flags: 0,
    };

    fn is_capitalised(&self) -> bool {
        matches!(self.shape, Shape::Title | Shape::Upper | Shape::Mixed)
    }
}

/// Consecutive words that may form one name.
struct Run {
    words: [Word; MAX_RUN],
    n: usize,
}

impl Run {
    fn words(&self) -> &[Word] {
        &self.words[..self.n]
    }
}

/// The pass over one text, driven by the scanner.
pub(crate) struct Pass<'a> {
    b: &'a [u8],
    on: KindSet,
    min_score: f32,
    /// Capitals before this were read with an earlier run (`usize::MAX`
    /// when the pass is off).
    pub(crate) next: usize,
    out: Vec<Finding>,
    /// The person context last read and where (see
    /// [`Pass::person_context`]).
    person_ctx: std::cell::Cell<(usize, Option<person::Context>)>,
    /// Where a person found past its run ends (`Whitfield, Mark`): the
    /// scan resumes there.
    person_end: usize,
    /// The first and last words of the people found so far with two
    /// words or more (`Charlotte Ahn`): the same word alone later in the
    /// text (`Charlotte's start date`) names the same person.
    known: [Known; KNOWN],
    known_n: usize,
    /// A bit per remembered word's first byte and length (see
    /// [`known_bit`]): most words are told unknown without a look.
    known_mask: u64,
    /// Where the line the scanner is in starts, and its first colon
    /// (`usize::MAX`: none yet), for [`lower_case`].
    line_start: usize,
    line_colon: usize,
    /// The people named in lower case, found line by line.
    lower: Vec<Finding>,
    /// Eircodes and UK postcodes the scanner found by their shape after a
    /// locality or a comma, where an address may end (see
    /// [`address::units_before_codes`]).
    codes: Vec<(usize, usize)>,
    /// Given names alone that no person found so far holds: one that a
    /// person found later holds (`Rose from the Dublin office … Her full
    /// name is Rose Kinsella`) is read again at the end (see
    /// [`Pass::known_later`]). Their starts, the first
    /// [`person::DEFERRED`] (in place: a `Vec` cost an allocation a text).
    deferred: [usize; person::DEFERRED],
    deferred_n: usize,
    /// A run of capitalised words ended before ` |`: the text may hold a
    /// table split by bars (its header's names are capitalised: `Postcode
    /// | Zone`), read at the end. (A search of every text for `|` cost a
    /// tenth of an instruction a byte.)
    bars: bool,
    /// The flags of the short words looked up last, for a text long
    /// enough to pay for clearing them (see [`RECENT_FROM`]). (Boxed: 4 KB
    /// in the pass were copied with it a text.)
    recent: Option<Box<names::Recent>>,
}

/// The shortest text whose pass keeps the lexicon's recent words
/// ([`names::Recent`]): kept in every pass, their 4 KB were cleared and
/// copied with it for each text, 2.5 % of the CPU time of
/// `mask --jsonl --detect` over the dev corpus's lines (a hundred bytes a
/// text), where a long text's capitals repay them many times.
const RECENT_FROM: usize = 8 * 1024;

/// The score of a word of a person found elsewhere in the text, alone.
const KNOWN_SCORE: f32 = 0.85;

/// The bit of [`Pass::known_mask`] for a word of `len` bytes starting with
/// `first`.
#[inline(always)]
fn known_bit(first: u8, len: usize) -> u64 {
    1u64 << ((usize::from(first) ^ len.wrapping_mul(5)) & 63)
}

/// A word of a person found: where it starts, its length and its first
/// eight bytes (zero past its end), so most words are told apart in one
/// compare.
#[derive(Clone, Copy)]
struct Known {
    start: usize,
    len: usize,
    head: u64,
}

impl Known {
    const NONE: Known = Known {
        start: 0,
        len: 0,
        head: 0,
    };
}

/// The first eight bytes of `b[s..s + len]`, zero past `len`.
#[inline]
fn head8(b: &[u8], s: usize, len: usize) -> u64 {
    let v = load8(b, s);
    if len >= 8 {
        v
    } else {
        v & ((1u64 << (8 * len)) - 1)
    }
}

/// At most this many words of people found are remembered.
const KNOWN: usize = 8;

/// Does the detector look for any kind the entity pass finds?
pub(crate) fn wanted(on: KindSet) -> bool {
    on.has(K::Person) || on.has(K::Address) || on.has(K::Organization)
}

impl<'a> Pass<'a> {
    pub(crate) fn new(b: &'a [u8], on: KindSet, min_score: f32) -> Self {
        Pass {
            b,
            on,
            min_score,
            next: if wanted(on) { 0 } else { usize::MAX },
            out: Vec::new(),
            person_ctx: std::cell::Cell::new((usize::MAX, None)),
            person_end: 0,
            known: [Known::NONE; KNOWN],
            known_n: 0,
            known_mask: 0,
            line_start: 0,
            line_colon: usize::MAX,
            lower: Vec::new(),
            codes: Vec::new(),
            deferred: [0; person::DEFERRED],
            deferred_n: 0,
            bars: false,
            recent: None,
        }
    }

    /// Keeps the lexicon's recent words from here on if the text is long
    /// enough (see [`RECENT_FROM`]). (Asked once, as the scan starts: set
    /// in [`Pass::new`], the choice made the scanner build its pass and
    /// copy it, a `memcpy` a text.)
    pub(crate) fn keep_recent_words(&mut self) {
        if self.b.len() >= RECENT_FROM {
            self.recent = Some(names::Recent::boxed());
        }
    }

    /// The scanner found an Eircode or a UK postcode at `start..end` by its
    /// shape, after a locality or a comma: an address without a house
    /// number may end there (`Apartment 12, The Granary, Spencer Dock,
    /// Dublin 1, D01 K7W2`, `Unit 14, Trafford Park Industrial Estate,
    /// Manchester M17 1RX`).
    #[cold]
    #[inline(never)]
    pub(crate) fn note_code(&mut self, start: usize, end: usize) {
        if self.next != usize::MAX && self.on.has(K::Address) {
            self.codes.push((start, end));
        }
    }

    /// The scanner met a line's end at `i`: the line is read for people
    /// named in lower case.
    // (Out of line: inlined, it pushed the scan loop's registers onto the
    // stack.)
    #[inline(never)]
    pub(crate) fn newline(&mut self, i: usize) {
        self.end_line(i);
        self.line_start = i + 1;
        self.line_colon = usize::MAX;
    }

    /// The scanner met a colon at `i` (a speaker's label may end there).
    // (Out of line, as `newline`.)
    #[inline(never)]
    pub(crate) fn colon(&mut self, i: usize) {
        if self.line_colon == usize::MAX {
            self.line_colon = i;
        }
    }

    fn end_line(&mut self, e: usize) {
        // (Most lines of prose: no colon, and a capital first, so no label
        // and no message in lower case (`lower_case::line` passes no prefix
        // at a capital). Nor a form's field, `Phone: 021 …`, `Name: Aroha
        // Ngata`, `IBAN: …`: no word in lower case after its first colon,
        // so no speaker's message in lower case.)
        let s = self.line_start;
        let c = self.line_colon;
        if self.b.get(s).is_some_and(u8::is_ascii_uppercase)
            && (c >= e
                || !(self.b.get(c + 1) == Some(&b' ')
                    && self.b.get(c + 2).is_some_and(u8::is_ascii_lowercase)))
        {
            return;
        }
        let wanted = (
            self.on.has(K::Person),
            self.on.has(K::Address),
            self.on.has(K::Postcode),
            self.on.has(K::Organization),
        );
        if (wanted.0 || wanted.1 || wanted.2 || wanted.3) && s < e {
            let colon = (self.line_colon < e).then_some(self.line_colon);
            lower_case::line(self.b, (s, e), colon, wanted, &mut self.lower);
        }
    }

    /// Reads the run that starts at `i`, if a capitalised word starts
    /// there (the caller has checked `i >= self.next`).
    #[inline(never)]
    pub(crate) fn at(&mut self, i: usize) {
        let b = self.b;
        if !word_start(b, i) {
            return;
        }
        // The short ASCII word's path inline (most capitals of prose): the
        // call cost a tenth of the word's reading.
        let first = if b.get(i).is_some_and(u8::is_ascii_uppercase)
            && let Some(word) = short_capital_word(b, i, |h, n| match &mut self.recent {
                Some(recent) => recent.get_short(h, n),
                None => names::get_short(h, n).unwrap_or(0),
            }) {
            word
        } else {
            capital_word(b, i)
        };
        let Some(first) = first else {
            return;
        };
        // Most capitalised words stand alone (`The`, `Please`): a lower-case
        // word after them that no particle or connector starts with ends
        // the run at once, and if nothing can take the word, nothing is read.
        let mut greeted = false;
        let alone = match b.get(first.end) {
            Some(b' ') => {
                let s = first.end + 1;
                match b.get(s) {
                    Some(c) if c.is_ascii_lowercase() => {
                        !small_word_pair(b, s) || small_word(&b[s..small_word_end(b, s)]).is_none()
                    }
                    // (`Order 12345`, `Thanks (…)`: before a digit or a mark,
                    // `collect_run` would stop at once too; not before `&`,
                    // a connector, or `|`, a table's bar that `bars` notes.)
                    Some(&c) => ends_run_after_space(c),
                    None => true,
                }
            }
            Some(b'.') => {
                !(first.shape == Shape::Initial || abbreviation(&b[first.start..first.end]))
            }
            // (The rarer marks in one bit test, out of line: as arms of
            // this match they made it a jump table, an indirect branch
            // mispredicted at many a capital.)
            Some(&c) if rare_mark(c) => self.alone_before_mark(&first, c, &mut greeted),
            _ => true,
        };
        // Alone, the run is this word alone (`collect_run` would stop at
        // once), and `inert` need not be asked twice.
        if alone && self.inert(&first) {
            self.next = first.end.max(i + 1);
            return;
        }
        // Built in place, its unused words zeros: a `Run` returned by
        // value, or one whose words were copied from a constant, cost a
        // `memcpy` call of 200 bytes each run.
        let mut run = Run {
            words: [Word::NONE; MAX_RUN],
            n: 1,
        };
        run.words[0] = first;
        if !alone {
            collect_run(b, &mut run);
            // (A cell of a table split by bars: see `table::find_piped`.)
            self.bars |= b[run.words[run.n - 1].end..].starts_with(b" |");
        }
        self.next = if !alone && run.n == 1 && !greeted && self.inert(&first) {
            first.end
        } else {
            self.read(&run)
        }
        .max(i + 1);
    }

    /// Is `w`, a mark `c` after it, alone in its run? Not before a
    /// possessive and a street type (`Lloyd's Avenue`), nor greeted in
    /// lower case before a comma or `!` (`ta Becks,`: a word the lexicon
    /// lacks is then read as a run, not left as inert; `greeted` says so).
    #[cold]
    #[inline(never)]
    fn alone_before_mark(&self, w: &Word, c: u8, greeted: &mut bool) -> bool {
        match c {
            b'\'' | 0xE2 => possessive_street(self.b, w.end).is_none(),
            _ if w.flags == 0 && person::lower_greeting_before(self, w.start) => {
                *greeted = true;
                false
            }
            _ => true,
        }
    }

    /// Appends the pass's findings to the scanner's (`scanned`: sorted,
    /// disjoint), leaving out those that start and end inside one of them
    /// (an IBAN, a passport number or a token is no name; the scanner finds
    /// an email's local part only at its `@`, after the pass has read it).
    /// The entity findings come last, sorted and disjoint.
    // By reference, the findings taken: by value, the pass (some 400
    // bytes) was copied with a `memcpy` call each text.
    ///
    /// `postal`: a postcode or a Canadian postal code is among `scanned`.
    pub(crate) fn finish(&mut self, scanned: &mut Vec<Finding>, postal: bool) {
        if self.next != usize::MAX && table::may_open(self.b) {
            let table = table::find(self.b, self.on, self.min_score);
            if !table.is_empty() {
                self.merge_over_runs(table);
            }
        }
        if self.bars {
            let table = table::find_piped(self.b, self.on, self.min_score);
            if !table.is_empty() {
                self.merge_over_runs(table);
            }
        }
        if self.next != usize::MAX {
            self.end_line(self.b.len());
            if !self.lower.is_empty() {
                self.take_lower_case();
            }
            if self.deferred_n > 0 && self.known_n > 0 {
                self.known_later();
            }
        }
        // (Most texts hold no code a box may end in: told by the scanner's
        // flag, then in line, without the call and its empty `Vec`.)
        if postal && self.on.has(K::Address) && scanned.iter().any(|f| address::box_code(self.b, f))
        {
            let boxes = address::quebec_boxes(self.b, scanned, self.min_score);
            if !boxes.is_empty() {
                self.merge_over_runs(boxes);
            }
        }
        if !self.codes.is_empty() {
            // (Only where the runs found no address: a house number read
            // whole, `Flat 12, 5 Dock Road, Galway H91 E2W7`, stays.)
            let mut units = address::units_before_codes(self.b, &self.codes, self.min_score);
            if !units.is_empty() {
                // (The runs' findings, sorted by start, and how far each
                // prefix of them reaches: a unit is asked in a binary
                // search, where a scan of them all was quadratic in a long
                // text of codes.)
                let reach: Vec<usize> = self
                    .out
                    .iter()
                    .scan(0, |m, f| {
                        *m = f.end.max(*m);
                        Some(*m)
                    })
                    .collect();
                units.retain(|u| {
                    let k = self.out.partition_point(|f| f.start < u.end);
                    k == 0 || reach[k - 1] <= u.start
                });
            }
            if !units.is_empty() {
                self.merge_over_runs(units);
            }
        }
        // (Only after an address found: told in line, most texts take no
        // call and no empty `Vec`.)
        if self.on.has(K::Person)
            && self.on.has(K::Address)
            && self.out.iter().any(|f| f.kind == K::Address.kind())
        {
            let people = person::addressees(self.b, &self.out, self.min_score);
            if !people.is_empty() {
                self.merge_over_runs(people);
            }
        }
        if self.out.is_empty() {
            return;
        }
        let mut k = 0;
        let n = scanned.len();
        for f in std::mem::take(&mut self.out) {
            while k < n && scanned[k].end <= f.start {
                k += 1;
            }
            // (One that runs past it, `token: Suite 412, 1 Brookings
            // Dr, …` an address after a secret's one word, is resolved
            // against it: dropped, its rest was left in clear.)
            if k < n && scanned[k].start <= f.start && f.end <= scanned[k].end {
                continue;
            }
            scanned.push(f);
        }
    }
}

impl Pass<'_> {
    /// Drops the pass, its vectors of findings through
    /// [`drop_unallocated`](crate::detector::drop_unallocated) (most
    /// texts' never allocated). (Inline: by value, a call copied the pass.)
    #[inline(always)]
    pub(crate) fn release(self) {
        let Pass { out, lower, .. } = self;
        crate::detector::drop_unallocated(out);
        crate::detector::drop_unallocated(lower);
    }

    /// `found` (sorted, disjoint) merged into the runs' findings, a run
    /// that overlaps one of them left out: a table's cells (see [`table`])
    /// take the place of what the runs found inside them.
    #[cold]
    fn merge_over_runs(&mut self, found: Vec<Finding>) {
        let runs = std::mem::take(&mut self.out);
        let mut merged = Vec::with_capacity(runs.len() + found.len());
        let mut cells = found.into_iter().peekable();
        // (The last cell merged: the runs may overlap one another, `Ivy
        // Lodge` as a name inside an address from its line, and only a
        // cell leaves a run out.)
        let mut cell_end = 0;
        for f in runs {
            while let Some(c) = cells.next_if(|c| c.start < f.start) {
                cell_end = c.end;
                merged.push(c);
            }
            let inside = |c: &Finding| c.start < f.end && f.start < c.end;
            if f.start >= cell_end && !cells.peek().is_some_and(inside) {
                merged.push(f);
            }
        }
        merged.extend(cells);
        self.out = merged;
    }

    /// The given names alone read before the person who holds them was
    /// found (`Rose from the Dublin office asked … Her full name is Rose
    /// Kinsella`), found now as a word of that person would have been
    /// after it (see `person::known_alone`), where nothing else was found.
    #[cold]
    fn known_later(&mut self) {
        let found: Vec<Finding> = self.deferred[..self.deferred_n]
            .iter()
            .filter_map(|&s| capital_word(self.b, s))
            .filter(|w| {
                self.maybe_known(w)
                    && self.known_word(w)
                    && !self.out.iter().any(|f| f.start < w.end && w.start < f.end)
                    && person::known_alone(self.b, w, true)
            })
            .filter(|_| KNOWN_SCORE >= self.min_score)
            .map(|w| Finding {
                kind: K::Person.kind(),
                start: w.start,
                end: w.end,
                score: KNOWN_SCORE,
                recognizer: Cow::Borrowed(person::RECOGNIZER),
            })
            .collect();
        if !found.is_empty() {
            self.merge_over_runs(found);
        }
    }

    /// The people named in lower case (see [`lower_case`]) among the
    /// runs' findings; a run's finding wins where the two overlap.
    #[cold]
    fn take_lower_case(&mut self) {
        let mut lower = std::mem::take(&mut self.lower);
        lower_case::keep(&mut lower, &self.out, self.min_score);
        if !lower.is_empty() {
            self.merge_over_runs(lower);
        }
    }

    /// Reads one run; returns where the scan resumes. An address or an
    /// organisation takes its words; the words before it may still name a
    /// person (`Ravi Kumar of Southern Cross Pty Ltd`).
    fn read(&mut self, run: &Run) -> usize {
        let words = run.words();
        let mut taken = None;
        // An address has a street type after its first word, a number
        // after a German street word, or a French street type before it.
        if self.on.has(K::Address)
            && (run.n > 1
                || number_follows(self.b, words[0].end)
                || address::bare_street_start(self.b, &words[0])
                || words[0].flags & names::STREET != 0
                    && address::number_before(self.b, words[0].start)
                || address::french_type_before(self.b, words[0].start).is_some())
        {
            taken = address::find(self, run);
        }
        if taken.is_none() && self.on.has(K::Organization) {
            taken = organization::find(self, run);
        }
        let (people, resume) = match taken {
            Some((first, end)) => (&words[..first], end),
            None => (words, words[run.n - 1].end),
        };
        if self.on.has(K::Person) {
            person::find(self, people);
        }
        resume.max(self.person_end)
    }

    fn push(&mut self, start: usize, end: usize, kind: K, score: f32, recognizer: &'static str) {
        if score >= self.min_score && start < end {
            self.out.push(Finding {
                kind: kind.kind(),
                start,
                end,
                score: score.min(1.0),
                recognizer: Cow::Borrowed(recognizer),
            });
        }
    }
}

impl Pass<'_> {
    /// Is a run of this one word sure to hold nothing: no name, title or
    /// greeting, no legal form or house number after it, no strong context
    /// before it? (Most capitalised words of tickets: `The`, `Please`,
    /// `Outlook`; the reads after a run cost several times this test.)
    #[inline(always)]
    fn inert(&self, w: &Word) -> bool {
        let b = self.b;
        // A sentence's first word (`. Then`, most capitals of prose): no
        // French street type can stand just before it.
        let s = w.start;
        let after_stop = after_stop(b, s);
        (person::name_flags(w) == 0 || self.caps_name_unheralded(w))
            // (A greeting is read for the name after it in lower case,
            // `Hi jessica`; one in title case is read on its own.)
            && (w.flags & (names::TITLE | names::GREETING) == 0
                || w.flags & names::TITLE == 0 && !lower_case_after(b, w.end))
            && !(b.get(w.end) == Some(&b' ') && organization::form_at(b, w.end + 1))
            && !(number_follows(b, w.end) && address::number_may_follow_street(b, w))
            && !address::bare_street_start(b, w)
            && !(w.flags & names::STREET != 0 && address::number_before(b, w.start))
            && (after_stop || address::french_type_before(b, s).is_none())
            && !(w.shape == Shape::Title
                && if after_stop {
                    person::strong_after_stop(self, s)
                } else {
                    person::strong_before(self, s)
                })
            // (A known word the lexicon holds is a name: not inert already.)
            // (The two tests in one branch, almost never taken: on `flags`
            // alone, a branch mispredicted at many a sentence's first word.)
            && !((w.flags == 0) & self.maybe_known(w) && self.known_word(w))
    }

    /// Is `w` a name in capitals alone (`IBAN 12…`, `SIN 269…`, `MAC
    /// 3C:…`: names in the gazetteer too) with no greeting or title before
    /// it, and no comma after it (`SMITH, JOHN`)? A lone word in capitals
    /// is a person's only after one of those.
    #[inline(never)]
    fn caps_name_unheralded(&self, w: &Word) -> bool {
        w.shape == Shape::Upper
            && self.b.get(w.end) != Some(&b',')
            && self
                .person_context(w.start)
                .is_none_or(|c| c < person::Context::Medium)
    }

    /// May `w` be a word of a person found earlier (no false negatives)?
    #[inline(always)]
    fn maybe_known(&self, w: &Word) -> bool {
        // (No branch: an empty mask has no bit.)
        self.known_mask & known_bit(self.b[w.start], w.end - w.start) != 0
    }

    /// Is `w` a word of a person found earlier in the text (see
    /// [`Pass::known`])?
    fn known_word(&self, w: &Word) -> bool {
        if w.shape != Shape::Title {
            return false;
        }
        let b = self.b;
        let len = w.end - w.start;
        let head = head8(b, w.start, len);
        self.known[..self.known_n].iter().any(|k| {
            k.head == head
                && k.len == len
                && k.start != w.start
                && (len <= 8 || b[k.start + 8..k.start + len] == b[w.start + 8..w.end])
        })
    }

    /// Remembers the first and last words of a person found (the same
    /// word for a name of one).
    fn remember(&mut self, first: &Word, last: &Word) {
        let words: &[&Word] = if first.start == last.start {
            &[first]
        } else {
            &[first, last]
        };
        for w in words {
            let len = w.end - w.start;
            if self.known_n < KNOWN && w.shape == Shape::Title && len >= 3 {
                self.known[self.known_n] = Known {
                    start: w.start,
                    len,
                    head: head8(self.b, w.start, len),
                };
                self.known_n += 1;
                self.known_mask |= known_bit(self.b[w.start], len);
            }
        }
    }
}

/// Does a word in lower case follow the word ending at `e`?
fn lower_case_after(b: &[u8], e: usize) -> bool {
    b.get(e) == Some(&b' ') && b.get(e + 1).is_some_and(u8::is_ascii_lowercase)
}

/// Is `s` a sentence's first word: `. `, `! ` or `? ` just before it?
#[inline(always)]
fn after_stop(b: &[u8], s: usize) -> bool {
    matches!(
        b.get(s.wrapping_sub(2)..s),
        Some([b'.' | b'!' | b'?', b' '])
    )
}

/// Does a number follow the word ending at `e` (` 12`, `. 12`)?
#[inline]
fn number_follows(b: &[u8], e: usize) -> bool {
    let e = if b.get(e) == Some(&b'.') { e + 1 } else { e };
    b.get(e) == Some(&b' ') && b.get(e + 1).is_some_and(u8::is_ascii_digit)
}

/// Does `the ` (any case) end just before `s`?
fn after_the(b: &[u8], s: usize) -> bool {
    s >= 4 && b[s - 4..s].eq_ignore_ascii_case(b"the ")
}

/// The character at `i` and its length, if `b[i..]` starts with a valid one.
fn char_at(b: &[u8], i: usize) -> Option<(char, usize)> {
    let first = *b.get(i)?;
    let len = match first {
        0x00..=0x7F => return Some((char::from(first), 1)),
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => return None,
    };
    let s = std::str::from_utf8(b.get(i..i + len)?).ok()?;
    s.chars().next().map(|c| (c, len))
}

/// The character ending just before `i`, if valid.
fn char_before(b: &[u8], i: usize) -> Option<char> {
    let mut s = i.checked_sub(1)?;
    while s > 0 && i - s < 4 && b[s] & 0xC0 == 0x80 {
        s -= 1;
    }
    std::str::from_utf8(&b[s..i]).ok()?.chars().next_back()
}

/// Is `i` the start of a word: not inside one, an email, a path or an
/// identifier?
// Inline (its call cost a quarter of it, at each capital the pass is
// asked about); after a non-ASCII byte, out of line.
#[inline(always)]
fn word_start(b: &[u8], i: usize) -> bool {
    let Some(&p) = i.checked_sub(1).and_then(|k| b.get(k)) else {
        return i == 0;
    };
    // After a space (most words): one test.
    if p == b' ' {
        return true;
    }
    if p < 0x80 {
        // (`@Jordan`: a mention, after a space or a line's start; not an
        // email's domain.)
        if p == b'@' {
            return i == 1 || matches!(b[i - 2], b' ' | b'\n' | b'\t' | b'(');
        }
        return !(p.is_ascii_alphanumeric()
            || matches!(p, b'.' | b'/' | b'_' | b'-' | b'\\' | b'#' | b'$'));
    }
    after_non_word_char(b, i)
}

/// Is the character before `i` (not ASCII) no letter or digit?
#[cold]
#[inline(never)]
fn after_non_word_char(b: &[u8], i: usize) -> bool {
    char_before(b, i).is_some_and(|c| !c.is_alphanumeric())
}

/// The word of letters at `i` (apostrophes and hyphens inside), if it
/// starts with a capital.
// (Inline, an ASCII byte that is no capital told without the call: a
// run's next word is often lower case, `van`, `&`, and the call's frame
// cost more than the test.)
#[inline(always)]
fn capital_word(b: &[u8], i: usize) -> Option<Word> {
    match b.get(i) {
        Some(&c) if c < 0x80 && !c.is_ascii_uppercase() => None,
        Some(_) => capital_word_at(b, i),
        None => None,
    }
}

/// [`capital_word`] at a byte that may start one.
#[inline(never)]
fn capital_word_at(b: &[u8], i: usize) -> Option<Word> {
    let first = *b.get(i)?;
    if first.is_ascii_uppercase()
        && let Some(word) = short_capital_word(b, i, |h, n| names::get_short(h, n).unwrap_or(0))
    {
        return word;
    }
    let mut buf = [0u8; names::MAX_NAME];
    // ASCII words (most): read, counted and lowered in one loop; an ASCII
    // byte that is no capital starts no word (the run's next word is
    // often lower case).
    let read = if first.is_ascii_uppercase() {
        ascii_letters(b, i, &mut buf)
    } else if first < 0x80 {
        return None;
    } else if b.get(i..i + 2) == Some("\u{2bb}".as_bytes())
        && b.get(i + 2).is_some_and(u8::is_ascii_uppercase)
    {
        // The ʻokina of Hawaiian and Tongan names (`ʻAna`, `ʻAkilisi`): a
        // letter of the name, the word read and looked up after it (an
        // ASCII capital: one level of recursion, however many ʻ).
        return capital_word(b, i + 2).map(|w| Word { start: i, ..w });
    } else {
        None
    };
    let (end, uppers, letters, lower_len) = match read {
        Some(read) => read,
        None => unicode_letters(b, i, &mut buf)?,
    };
    // Glued to an email, a path or a number: not a word of prose.
    if matches!(b.get(end), Some(b'@' | b'_' | b'/' | b'\\'))
        || b.get(end).is_some_and(u8::is_ascii_digit)
    {
        return None;
    }
    let shape = if letters == 1 {
        if b.get(end) == Some(&b'.') {
            Shape::Initial
        } else {
            Shape::Title
        }
    } else if uppers == letters {
        Shape::Upper
    } else if uppers == 1 || title_with_prefix(b, i, end) {
        Shape::Title
    } else {
        Shape::Mixed
    };
    let flags = match lower_len {
        // Letters only (`end - i == letters` in ASCII): no apostrophe or
        // hyphen to try without, one probe.
        Some(len) if shape != Shape::Initial && len == letters => {
            names::get(&buf, len).unwrap_or(0)
        }
        Some(len) if shape != Shape::Initial => {
            let flags = names::lookup_lower(&buf, len);
            // `Hyun-woo`, `Ji-hoon`: a part after a hyphen in lower case
            // makes one given name of the parts (a double-barrelled
            // surname is written `Takahashi-Brown`).
            if flags & names::SURNAME != 0
                && b[i..end]
                    .windows(2)
                    .any(|p| p[0] == b'-' && p[1].is_ascii_lowercase())
            {
                flags | names::lookup_any_given(&buf, len)
            } else {
                flags
            }
        }
        _ => 0,
    };
    Some(Word {
        start: i,
        end,
        shape,
        flags,
    })
}

/// [`capital_word`] at an ASCII capital, when the word is ASCII letters
/// only and ends within sixteen bytes (most words): lowered, counted and
/// looked up from the eight-byte loads that find it, in registers (no
/// buffer to clear, fill and hash again). `None` for the others, which
/// take the general path (longer words, `'` or `-` after the letters,
/// non-ASCII).
#[inline(always)]
fn short_capital_word(
    b: &[u8],
    i: usize,
    get_short: impl FnOnce(u64, usize) -> u16,
) -> Option<Option<Word>> {
    const LOWER: u64 = 0x2020_2020_2020_2020;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let v = load8(b, i);
    let (letters, capitals) = letter_masks(v);
    let first = (!letters & HIGH).trailing_zeros() as usize / 8;
    // The second eight bytes, for a word of eight letters or more.
    let (len, tail, tail_capitals) = if first < 8 {
        (first, 0, 0)
    } else {
        let v2 = load8(b, i + 8);
        let (letters2, capitals2) = letter_masks(v2);
        let second = (!letters2 & HIGH).trailing_zeros() as usize / 8;
        if second >= 8 {
            return None;
        }
        let within2 = (1u64 << (8 * second)) - 1;
        (8 + second, (v2 | LOWER) & within2, capitals2 & within2)
    };
    let end = i + len;
    let next = b.get(end).copied();
    if next.is_some_and(|c| c >= 0x80 || c == b'\'' || c == b'-') {
        return None;
    }
    // Glued to an email, a path or a number: not a word of prose.
    if matches!(next, Some(b'@' | b'_' | b'/' | b'\\' | b'0'..=b'9')) {
        return Some(None);
    }
    let within = if first < 8 {
        (1u64 << (8 * first)) - 1
    } else {
        u64::MAX
    };
    let uppers = high_bits(capitals & within) + high_bits(tail_capitals);
    let shape = if len == 1 {
        if next == Some(b'.') {
            Shape::Initial
        } else {
            Shape::Title
        }
    } else if uppers == len {
        Shape::Upper
    } else if uppers == 1 || title_with_prefix(b, i, end) {
        Shape::Title
    } else {
        Shape::Mixed
    };
    let head = (v | LOWER) & within;
    let flags = if shape == Shape::Initial {
        0
    } else if len <= 8 {
        get_short(head, len)
    } else {
        names::get_two(head, tail, len).unwrap_or(0)
    };
    Some(Some(Word {
        start: i,
        end,
        shape,
        flags,
    }))
}

/// [`letters`] for a word at `i` that starts with a Unicode capital or
/// holds non-ASCII letters, lowered into `buf`: out of line, so the ASCII
/// path stays short.
#[cold]
#[inline(never)]
#[allow(clippy::type_complexity)]
fn unicode_letters(
    b: &[u8],
    i: usize,
    buf: &mut [u8; names::MAX_NAME],
) -> Option<(usize, usize, usize, Option<usize>)> {
    let (c, _) = char_at(b, i)?;
    if !c.is_uppercase() {
        return None;
    }
    let (end, uppers, letters) = letters(b, i);
    *buf = [0u8; names::MAX_NAME];
    Some((end, uppers, letters, names::lower(&b[i..end], buf)))
}

/// [`letters`] for an ASCII word at `i`, its lower case written to `buf`
/// (with its length, `None` when longer than any lexicon word); `None`
/// when a byte of the word is not ASCII. Eight bytes a step: the letters
/// are found, counted and lowered without a branch per byte.
#[inline]
#[allow(clippy::type_complexity)]
fn ascii_letters(
    b: &[u8],
    i: usize,
    buf: &mut [u8; names::MAX_NAME],
) -> Option<(usize, usize, usize, Option<usize>)> {
    const LOWER: u64 = 0x2020_2020_2020_2020;
    let (mut e, mut uppers, mut joins) = (i, 0, 0);
    loop {
        loop {
            let v = load8(b, e);
            let (letters, capitals) = letter_masks(v);
            let run = (!letters & 0x8080_8080_8080_8080).trailing_zeros() as usize / 8;
            let within = if run == 8 {
                u64::MAX
            } else {
                (1u64 << (8 * run)) - 1
            };
            uppers += high_bits(capitals & within);
            // Letters, `'` and `-` all have bit 5 set in lower case; the
            // bytes past the run are written as zeros.
            let k = e - i;
            let lowered = ((v | LOWER) & within).to_le_bytes();
            if let Some(out) = buf.get_mut(k..k + 8) {
                out.copy_from_slice(&lowered);
            } else if let Some(out) = buf.get_mut(k..) {
                let n = out.len();
                out.copy_from_slice(&lowered[..n]);
            }
            e += run;
            if run < 8 {
                break;
            }
        }
        match b.get(e) {
            Some(&c) if c >= 0x80 => return None,
            Some(&c)
                if matches!(c, b'\'' | b'-')
                    && joins < 8
                    && b.get(e + 1)
                        .is_some_and(|&n| n.is_ascii_alphabetic() || n >= 0x80)
                    && !(c == b'\'' && contraction(&b[e + 1..]))
                    && !(c == b'-' && honorific(&b[e + 1..])) =>
            {
                if let Some(o) = buf.get_mut(e - i) {
                    *o = c;
                }
                e += 1;
                joins += 1;
            }
            _ => break,
        }
    }
    let len = e - i;
    Some((
        e,
        uppers,
        len - joins,
        (len <= names::MAX_NAME).then_some(len),
    ))
}

/// Does `rest`, after a hyphen, open with a Japanese honorific that ends
/// the word (`Yamamoto-san`, `Tanaka-sensei`)? It is no part of the name.
#[cold]
pub(super) fn honorific(rest: &[u8]) -> bool {
    ["san", "sama", "kun", "chan", "sensei"].iter().any(|h| {
        rest.starts_with(h.as_bytes())
            && !rest
                .get(h.len())
                .is_some_and(|&c| c.is_ascii_alphanumeric() || c >= 0x80)
    })
}

/// How many bytes of `v` have their high bit set (`v` has no other bits):
/// one multiply sums them into the top byte, where `count_ones` without
/// the `popcnt` instruction (not in the x86-64 baseline) costs a dozen.
#[inline]
fn high_bits(v: u64) -> usize {
    ((v >> 7).wrapping_mul(0x0101_0101_0101_0101) >> 56) as usize
}

/// The eight bytes at `i` as a little-endian word, zero past the text.
#[inline]
fn load8(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    match b.get(i..i + 8) {
        Some(s) => w.copy_from_slice(s),
        None => {
            for (o, c) in w.iter_mut().zip(b.get(i..).unwrap_or_default()) {
                *o = *c;
            }
        }
    }
    u64::from_le_bytes(w)
}

/// The high bit of each byte of `v` that is an ASCII letter, and of each
/// that is an ASCII capital (SWAR: no carry crosses a byte, since the high
/// bits are cleared before adding).
#[inline]
fn letter_masks(v: u64) -> (u64, u64) {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let ascii = v & LOW7;
    let byte = |k: u8| u64::from_le_bytes([k; 8]);
    // The high bit set from `A` (0x41), from `[` (0x5B), from `a`, from `{`.
    let from_a = ascii + byte(0x80 - 0x41);
    let from_bracket = ascii + byte(0x80 - 0x5B);
    let from_small_a = ascii + byte(0x80 - 0x61);
    let from_brace = ascii + byte(0x80 - 0x7B);
    let capitals = from_a & !from_bracket & !v & HIGH;
    let small = from_small_a & !from_brace & !v & HIGH;
    (capitals | small, capitals)
}

/// The end of the letters at `i` (with `'` or `-` between letters), and how
/// many of them are capitals, of how many.
fn letters(b: &[u8], mut i: usize) -> (usize, usize, usize) {
    let (mut uppers, mut count) = (0, 0);
    while let Some((c, len)) = char_at(b, i) {
        if c.is_alphabetic() {
            uppers += usize::from(c.is_uppercase());
            count += 1;
            i += len;
        } else if matches!(c, '\'' | '’' | '-')
            && char_at(b, i + len).is_some_and(|(n, _)| n.is_alphabetic())
            // `Sarah's` and `I'm` end before the apostrophe.
            && !(matches!(c, '\'' | '’') && contraction(&b[i + len..]))
        {
            i += len;
        } else {
            break;
        }
        if count > 64 {
            break;
        }
    }
    (i, uppers, count)
}

/// Does `rest` (just after an apostrophe) start with a possessive or a
/// contraction ending a word: `s`, `m`, `d`, `t`, `ll`, `re`, `ve`?
fn contraction(rest: &[u8]) -> bool {
    let n = rest.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    let after_ok = rest.get(n).is_none_or(|&c| c < 0x80);
    after_ok
        && matches!(
            &rest[..n],
            b"s" | b"m" | b"d" | b"t" | b"ll" | b"re" | b"ve"
        )
}

/// `McDonald`, `MacKenzie`, `O'Brien`, `Smith-Jones`, `DeShawn`: a capital
/// after a name prefix or a joiner still reads as a title-case name.
fn title_with_prefix(b: &[u8], start: usize, end: usize) -> bool {
    let w = &b[start..end];
    let mut prev = 0u8;
    for (k, &c) in w.iter().enumerate().skip(1) {
        if c.is_ascii_uppercase() {
            let after_prefix = matches!(&w[..k], b"Mc" | b"Mac" | b"De" | b"Di" | b"La" | b"Le");
            if !(after_prefix || matches!(prev, b'\'' | b'-')) {
                return false;
            }
        }
        prev = c;
    }
    true
}

/// Lower-case words that may stand inside a name: particles and connectors.
// (`small_word_pair` lists the first two letters of the lower-case ones:
// keep it in step; a test checks.)
fn small_word(w: &[u8]) -> Option<Shape> {
    match w {
        b"van" | b"von" | b"de" | b"der" | b"den" | b"da" | b"di" | b"du" | b"le" | b"la"
        | b"del" | b"della" | b"dos" | b"das" | b"bin" | b"binti" | b"al" | b"el" | b"ter"
        | b"ten" | b"te" | b"zu" | b"ap" | b"ibn" | b"bint" | b"dela" | b"delos" | b"des" => {
            Some(Shape::Particle)
        }
        b"and" | b"of" | b"&" => Some(Shape::Connector),
        _ => None,
    }
}

/// The run that starts with its one word, `run.words[0]`.
#[inline(always)]
fn collect_run(b: &[u8], run: &mut Run) {
    let mut p = run.words[0].end;
    while run.n < MAX_RUN {
        let prev = run.words[run.n - 1];
        // A full stop after an initial or an abbreviation (`J.`, `St.`,
        // `Co.`) may stand inside the run.
        if b.get(p) == Some(&b'.')
            && (prev.shape == Shape::Initial || abbreviation(&b[prev.start..prev.end]))
        {
            p += 1;
        }
        // A street named for someone (`Lloyd's Avenue`, `St John's Road`):
        // past the possessive only to a street type.
        if matches!(b.get(p), Some(b'\'' | 0xE2))
            && let Some(s) = possessive_street(b, p)
        {
            run.words[run.n] = s;
            run.n += 1;
            p = s.end;
            continue;
        }
        if b.get(p) != Some(&b' ') {
            break;
        }
        let s = p + 1;
        let next = if let Some(w) = capital_word(b, s) {
            w
        } else {
            let e = small_word_end(b, s);
            match small_word(&b[s..e]) {
                // Only between capitalised words (`van der Berg` too).
                Some(shape) if capital_follows(b, e, shape) => Word {
                    start: s,
                    end: e,
                    shape,
                    flags: 0,
                },
                _ => break,
            }
        };
        // In capitals, a preposition ends the run (`… THE FINANCE TEAM AT
        // TAFF VALE PLUMBING LTD`: a run cut at its eighth word had cut
        // the firm); the next run opens with it.
        if next.shape == Shape::Upper
            && prev.shape == Shape::Upper
            && matches!(
                &b[next.start..next.end],
                b"AT" | b"TO" | b"FOR" | b"BY" | b"FROM" | b"WITH" | b"VIA"
            )
        {
            break;
        }
        run.words[run.n] = next;
        run.n += 1;
        p = next.end;
    }
    // A run does not end on a particle or connector.
    while run.n > 1
        && !run.words[run.n - 1].is_capitalised()
        && run.words[run.n - 1].shape != Shape::Initial
    {
        run.n -= 1;
    }
}

/// Does a capitalised word's run end before ` c` (`c` no lower-case
/// letter)? Yes before an ASCII byte that neither starts a capitalised
/// word nor is `&` (a connector): [`collect_run`] finds no next word
/// there. Not before `|`, which [`Pass::at`] notes after a run.
#[inline(always)]
fn ends_run_after_space(c: u8) -> bool {
    c < 0x80 && !c.is_ascii_uppercase() && c != b'&' && c != b'|'
}

/// `'`, `,`, `!` or the first byte of `’`: a mark after a capitalised word
/// that may join it to more (see [`Pass::alone_before_mark`]).
#[inline(always)]
fn rare_mark(c: u8) -> bool {
    const MARKS: u64 = 1 << b'\'' | 1 << b',' | 1 << b'!';
    c == 0xE2 || c < 64 && MARKS >> c & 1 == 1
}

/// `'s Avenue`, `’s Quay` at `p`: the street type after a possessive.
// (Out of line: rare, and inlined it cost every run's reading.)
#[cold]
#[inline(never)]
fn possessive_street(b: &[u8], p: usize) -> Option<Word> {
    let s = match b.get(p..p + 3)? {
        b"'s " => p + 3,
        [0xE2, 0x80, 0x99] if b.get(p + 3..p + 5) == Some(b"s ") => p + 5,
        _ => return None,
    };
    // (Most possessives: a lower-case word after, `It's the`, `Sarah's
    // laptop`.)
    if !b.get(s).is_some_and(u8::is_ascii_uppercase) {
        return None;
    }
    capital_word(b, s).filter(|w| w.flags & names::STREET != 0)
}

/// Does a capitalised word follow the small word ending at `e`, directly
/// or, after a particle, past a second particle?
fn capital_follows(b: &[u8], e: usize, shape: Shape) -> bool {
    if b.get(e) != Some(&b' ') {
        return false;
    }
    if capital_word(b, e + 1).is_some() {
        return true;
    }
    let e2 = small_word_end(b, e + 1);
    shape == Shape::Particle
        && small_word(&b[e + 1..e2]) == Some(Shape::Particle)
        && b.get(e2) == Some(&b' ')
        && capital_word(b, e2 + 1).is_some()
}

/// Do the two bytes at `s` begin one of [`small_word`]'s lower-case words
/// (`van`, `de`, `and`, `of`, …)? Most words after a capital do not, and
/// need not be measured.
// (A bit per second letter, looked up by the first: the `match` it
// replaced branched on the first letter, a jump mispredicted at many a
// sentence's second word.)
#[inline(always)]
fn small_word_pair(b: &[u8], s: usize) -> bool {
    const fn bits(seconds: &[u8]) -> u32 {
        let mut m = 0;
        let mut k = 0;
        while k < seconds.len() {
            m |= 1 << (seconds[k] - b'a');
            k += 1;
        }
        m
    }
    const fn letter(c: u8) -> usize {
        (c - b'a') as usize
    }
    const PAIRS: [u32; 26] = {
        let mut t = [0; 26];
        t[letter(b'v')] = bits(b"ao");
        t[letter(b'd')] = bits(b"aeiou");
        t[letter(b'l')] = bits(b"ae");
        t[letter(b'b')] = bits(b"i");
        t[letter(b'a')] = bits(b"lnp");
        t[letter(b'e')] = bits(b"l");
        t[letter(b't')] = bits(b"e");
        t[letter(b'z')] = bits(b"u");
        t[letter(b'i')] = bits(b"b");
        t[letter(b'o')] = bits(b"f");
        t
    };
    let Some(&[c0, c1]) = b.get(s..s + 2) else {
        return false;
    };
    let (k0, k1) = (c0.wrapping_sub(b'a'), c1.wrapping_sub(b'a'));
    // (A second byte that is no lower-case letter shifts by 26 or more:
    // no bit.)
    PAIRS
        .get(usize::from(k0))
        .is_some_and(|&m| u64::from(m) >> k1.min(63) & 1 == 1)
}

fn small_word_end(b: &[u8], s: usize) -> usize {
    if b.get(s) == Some(&b'&') {
        return s + 1;
    }
    let mut e = s;
    while e < b.len() && e - s < 6 && b[e].is_ascii_lowercase() {
        e += 1;
    }
    e
}

/// Abbreviations that a full stop may follow inside a run.
fn abbreviation(w: &[u8]) -> bool {
    matches!(
        w,
        b"Mr"
            | b"Mrs"
            | b"Ms"
            | b"Dr"
            | b"Prof"
            | b"Sgt"
            | b"Capt"
            | b"Insp"
            | b"Supt"
            | b"Det"
            | b"St"
            | b"Rd"
            | b"Ave"
            | b"Co"
            | b"Pty"
            | b"Pte"
            | b"Jr"
            | b"Sr"
            | b"Mt"
            | b"Ft"
    )
}

/// The first of `words` that `rest` starts with as a word of its own (no
/// letter or digit after it): ` Team`, ` Sons`, ` Inc.`.
fn leading_word<'w>(rest: &[u8], words: &[&'w [u8]]) -> Option<&'w [u8]> {
    // (The first bytes compared first: most words are told apart there,
    // without the call to `memcmp` that `starts_with` makes.)
    let first = rest.first();
    words.iter().copied().find(|w| {
        w.first().is_none_or(|c| first == Some(c))
            && rest.starts_with(w)
            && rest
                .get(w.len())
                .is_none_or(|&c| !(c.is_ascii_alphanumeric() || c >= 0x80))
    })
}

/// The line above the one that `start` opens (blank lines between
/// passed), trimmed: its span (an address's addressee, a chat's
/// question).
pub(super) fn line_above(b: &[u8], start: usize) -> Option<(usize, usize)> {
    let head = &b[..start];
    let opens = head
        .iter()
        .rev()
        .take_while(|&&c| c == b' ' || c == b'\t')
        .count();
    let head = &head[..head.len() - opens];
    if !head.ends_with(b"\n") {
        return None;
    }
    let e = head.trim_ascii_end().len();
    let s = b[..e]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |k| k + 1);
    let s = s + b[s..e]
        .iter()
        .take_while(|c| c.is_ascii_whitespace())
        .count();
    (s < e).then_some((s, e))
}

/// Where the line holding `end` starts, if within `reach` bytes before it
/// (`None` past that): a short label's or sign-off's line, found without
/// reading a long line back to its start at every call.
pub(super) fn line_start_within(b: &[u8], end: usize, reach: usize) -> Option<usize> {
    let from = end.saturating_sub(reach);
    match memchr::memrchr(b'\n', &b[from..end]) {
        Some(k) => Some(from + k + 1),
        None if from == 0 => Some(0),
        None => None,
    }
}

/// The previous word before `i` on the same line, lower-case ASCII in
/// `buf`, with what separates it from `i` (e.g. `", "`).
#[inline(always)]
fn word_before(b: &[u8], i: usize) -> Option<(usize, usize)> {
    let mut e = i;
    // Up to eight: a form's label may be padded (`Name:    Otniel Alonso`).
    while e > 0 && i - e < 8 && matches!(b[e - 1], b' ' | b',' | b':' | b'\t') {
        e -= 1;
    }
    // (Its last byte told first, which is often no word's; the rest over
    // a slice, one bound a byte, a byte told by a table.)
    let last = e.checked_sub(1)?;
    if !WORD_BYTE[usize::from(b[last])] {
        return None;
    }
    let letters = b[e.saturating_sub(24)..last]
        .iter()
        .rev()
        .take_while(|&&c| WORD_BYTE[usize::from(c)])
        .count();
    Some((last - letters, e))
}

/// The bytes of a word [`word_before`] reads: ASCII letters and `'`.
static WORD_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = (c as u8).is_ascii_alphabetic() || c as u8 == b'\'';
        c += 1;
    }
    t
};

/// `w` in title case (`AVENUE` as `Avenue`) if it is in capitals and
/// short, for the lists of street types, unit labels and lead words.
fn title_case(w: &[u8]) -> Option<([u8; 12], usize)> {
    if w.len() < 2 || w.len() > 12 || !w.iter().all(u8::is_ascii_uppercase) {
        return None;
    }
    let mut out = [0u8; 12];
    out[..w.len()].copy_from_slice(w);
    out[1..w.len()].make_ascii_lowercase();
    Some((out, w.len()))
}

#[cfg(test)]
mod tests;
