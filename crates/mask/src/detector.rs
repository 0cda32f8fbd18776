//! Detection: built-in recognizers, known entities, custom recognizers and
//! deterministic overlap resolution.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::{Deserialize, Serialize};

use crate::checksum as ck;
use crate::kind::{K, Scope};
use crate::recognizer::{self, Recognizer};
use crate::scan::{AsciiForms, CONTEXT_BOOST, KindSet, Scanner, fold};
use crate::{Error, Kind};

/// One detected piece of personal data: what, where (UTF-8 byte span, end
/// exclusive), how sure, and which recognizer found it. It holds no copy of
/// the value.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// What was found.
    pub kind: Kind,
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
    /// Confidence in `0.0..=1.0`: the recognizer's base score, raised by
    /// context words.
    pub score: f32,
    /// The recognizer's stable name, e.g. `"credit_card_luhn"`.
    pub recognizer: Cow<'static, str>,
}

impl Finding {
    /// The span as a range.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start..self.end
    }
}

/// Sets of regional recognizers (global ones are always on).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Regions(u8);

impl Regions {
    /// No regional recognizer: global kinds only.
    pub const NONE: Regions = Regions(0);
    /// United States.
    pub const US: Regions = Regions(1);
    /// United Kingdom.
    pub const UK: Regions = Regions(2);
    /// Australia.
    pub const AU: Regions = Regions(4);
    /// Canada.
    pub const CA: Regions = Regions(8);
    /// New Zealand.
    pub const NZ: Regions = Regions(16);
    /// Germany alone (`de`): its recognizers are also part of [`Regions::EU`].
    pub const DE: Regions = Regions(64);
    /// The EU countries covered (DE, ES, IT, NL, PL, SE, FI, FR).
    pub const EU: Regions = Regions(32 | 64);
    /// The EU countries other than Germany (the regional tag of their kinds).
    pub(crate) const EU_OTHER: Regions = Regions(32);
    /// Every region.
    pub const ALL: Regions = Regions(127);

    /// Both sets.
    pub const fn union(self, other: Regions) -> Regions {
        Regions(self.0 | other.0)
    }

    /// Does this set include all of `other`?
    pub const fn contains(self, other: Regions) -> bool {
        self.0 & other.0 == other.0
    }
}

/// Each region's name, for parsing and display, in display order.
const REGION_NAMES: [(Regions, &str); 7] = [
    (Regions::US, "us"),
    (Regions::UK, "uk"),
    (Regions::AU, "au"),
    (Regions::CA, "ca"),
    (Regions::NZ, "nz"),
    (Regions::EU, "eu"),
    (Regions::DE, "de"),
];

impl FromStr for Regions {
    type Err = Error;
    /// A comma-separated list: `us,uk,au,ca,nz,eu,de` (`de` is Germany
    /// alone, part of `eu`), `gb` for `uk`, `all`, `none`.
    fn from_str(s: &str) -> Result<Regions, Error> {
        let mut r = Regions::NONE;
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            r = r.union(match part.to_ascii_lowercase().as_str() {
                "gb" => Regions::UK,
                "all" => Regions::ALL,
                "none" | "global" => Regions::NONE,
                name => match REGION_NAMES.iter().find(|(_, n)| *n == name) {
                    Some(&(region, _)) => region,
                    None => {
                        return Err(Error::InvalidRegion {
                            input: part.chars().take(32).collect(),
                        });
                    }
                },
            });
        }
        Ok(r)
    }
}

impl fmt::Display for Regions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list: Vec<&str> = REGION_NAMES
            .iter()
            // `de` is part of `eu`: name it alone only without the rest.
            .filter(|(r, _)| {
                self.contains(*r) && !(*r == Regions::DE && self.contains(Regions::EU))
            })
            .map(|(_, n)| *n)
            .collect();
        if list.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&list.join(","))
        }
    }
}

impl fmt::Debug for Regions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Regions({self})")
    }
}

impl Serialize for Regions {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Regions {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A checksum a custom recognizer can require of its match (applied to the
/// match's digits, or for `Iban`/`EsNif`/`ItFiscalCode` to its alphanumerics).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Validator {
    /// Luhn mod 10.
    Luhn,
    /// IBAN mod 97 with country length.
    Iban,
    /// UK NHS mod 11.
    NhsMod11,
    /// Dutch 11-test.
    Bsn,
    /// Australian TFN.
    Tfn,
    /// Australian ABN mod 89.
    Abn,
    /// New Zealand IRD.
    Ird,
    /// ISO 7064 MOD 11,10 (German tax id).
    Iso7064Mod11_10,
    /// Spanish NIF letter.
    EsNif,
    /// Italian fiscal code.
    ItFiscalCode,
}

impl Validator {
    /// Does `value` pass?
    pub fn check(self, value: &[u8]) -> bool {
        let digits: Vec<u8> = value
            .iter()
            .filter(|c| c.is_ascii_digit())
            .map(|c| c - b'0')
            .collect();
        let alnum: Vec<u8> = value
            .iter()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(u8::to_ascii_uppercase)
            .collect();
        match self {
            Validator::Luhn => ck::luhn(&digits),
            Validator::Iban => ck::iban(&alnum),
            Validator::NhsMod11 => ck::uk_nhs(&digits),
            Validator::Bsn => ck::nl_bsn(&digits),
            Validator::Tfn => ck::au_tfn(&digits),
            Validator::Abn => ck::au_abn(&digits),
            Validator::Ird => ck::nz_ird(&digits),
            Validator::Iso7064Mod11_10 => ck::de_tax_id(&digits),
            Validator::EsNif => ck::es_nif(&alnum),
            Validator::ItFiscalCode => ck::it_fiscal_code(&alnum),
        }
    }
}

/// A recognizer defined in configuration: a pattern (Rust `regex` syntax,
/// linear time), an optional validator, context words and a score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomRecognizer {
    /// Stable name, reported in findings.
    pub name: String,
    /// The kind its findings have (built-in or new upper-case name).
    pub kind: Kind,
    /// The pattern. If it has a group named `value`, that group is the span.
    pub pattern: String,
    /// A checksum the match must pass.
    #[serde(default)]
    pub validator: Option<Validator>,
    /// Lower-case words that, within a few words before the match, add 0.35.
    #[serde(default)]
    pub context: Vec<String>,
    /// Base score.
    #[serde(default = "default_custom_score")]
    pub score: f32,
}

fn default_custom_score() -> f32 {
    0.6
}

/// Detector configuration, as the host writes it (JSON with serde).
///
/// ```json
/// {"version": 1, "regions": "us,uk", "min_score": 0.5, "disabled": ["UK_POSTCODE"],
///  "custom": [{"name": "ticket_ref", "kind": "EMPLOYEE_ID", "pattern": "EMP-[0-9]{6}", "score": 0.9}]}
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorConfig {
    /// Format version, currently 1.
    #[serde(default = "one")]
    pub version: u32,
    /// Regional recognizers to enable.
    #[serde(default = "all_regions")]
    pub regions: Regions,
    /// Findings below this score are dropped.
    #[serde(default = "default_min_score")]
    pub min_score: f32,
    /// Built-in kinds to switch off, by name (`"UK_POSTCODE"`).
    ///
    /// A name that is no built-in kind (a misspelling such as
    /// `UK_POSTCOD`, a kind of a later version, or a custom recognizer's
    /// kind) would switch nothing off, so [`DetectorConfig::from_json`] and
    /// [`Detector::from_config`] refuse it with [`Error::InvalidConfig`]
    /// (`location` `disabled[i]`) rather than ignore it: a host that meant
    /// to switch a kind off hears that it did not. (To drop a custom
    /// recognizer, leave it out of [`DetectorConfig::custom`].)
    #[serde(default)]
    pub disabled: Vec<Kind>,
    /// Additional recognizers.
    #[serde(default)]
    pub custom: Vec<CustomRecognizer>,
}

fn one() -> u32 {
    1
}
fn all_regions() -> Regions {
    Regions::ALL
}
fn default_min_score() -> f32 {
    DEFAULT_MIN_SCORE
}

/// The default threshold: context-free 9-digit numbers and bare dates stay
/// below it; checksum-validated, well-formatted ids and contextual matches
/// reach it.
pub const DEFAULT_MIN_SCORE: f32 = 0.5;

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            version: 1,
            regions: Regions::ALL,
            min_score: DEFAULT_MIN_SCORE,
            disabled: Vec::new(),
            custom: Vec::new(),
        }
    }
}

impl DetectorConfig {
    /// Parses a JSON configuration document. Refuses an unknown field, a
    /// version other than 1, an unknown region and a name in
    /// [`DetectorConfig::disabled`] that is no built-in kind; patterns and
    /// scores are checked by [`Detector::from_config`].
    pub fn from_json(text: &str) -> Result<DetectorConfig, Error> {
        let cfg: DetectorConfig = serde_json::from_str(text).map_err(|e| Error::Json {
            what: "configuration",
            // A known entity in a mistyped place would be quoted whole.
            source: custodia_core::echo_json_error(e),
        })?;
        if cfg.version != 1 {
            return Err(Error::InvalidConfig {
                location: "version".into(),
                reason: format!("unsupported version {}", cfg.version),
            });
        }
        cfg.check_disabled()?;
        Ok(cfg)
    }

    /// Refuses a name in [`DetectorConfig::disabled`] that is no built-in
    /// kind (see there).
    fn check_disabled(&self) -> Result<(), Error> {
        match self
            .disabled
            .iter()
            .enumerate()
            .find(|(_, k)| matches!(k, Kind::Custom(_)))
        {
            Some((i, kind)) => Err(Error::InvalidConfig {
                location: format!("disabled[{i}]"),
                reason: format!(
                    "{kind} is no built-in kind, so disabling it would switch nothing off \
                     (a custom recognizer is dropped by leaving it out of \"custom\")"
                ),
            }),
            None => Ok(()),
        }
    }
}

struct CompiledCustom {
    name: Cow<'static, str>,
    kind: Kind,
    regex: regex::bytes::Regex,
    value_group: Option<usize>,
    validator: Option<Validator>,
    context: Vec<String>,
    score: f32,
}

/// The compiled recognizers. Build once, share across threads, call
/// [`Detector::detect`] per text.
pub struct Detector {
    on: KindSet,
    min_score: f32,
    custom: Vec<CompiledCustom>,
    recognizers: Vec<Arc<dyn Recognizer>>,
}

impl fmt::Debug for Detector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Detector")
            .field("kinds", &self.kinds())
            .field("min_score", &self.min_score)
            .field("custom", &self.custom.len())
            .field(
                "recognizers",
                &self
                    .recognizers
                    .iter()
                    .map(|r| r.name())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Default for Detector {
    fn default() -> Self {
        Detector::new()
    }
}

fn check_score(what: &str, v: f32) -> Result<(), Error> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(Error::InvalidScore {
            what: what.to_string(),
            value: v,
        })
    }
}

impl Detector {
    /// Every built-in recognizer, every region, threshold [`DEFAULT_MIN_SCORE`].
    pub fn new() -> Detector {
        Detector::with_regions(Regions::ALL)
    }

    /// Global recognizers plus those of `regions`.
    pub fn with_regions(regions: Regions) -> Detector {
        let mut bits = 0u128;
        for k in K::ALL {
            let on = match k.scope() {
                Scope::Global => true,
                Scope::Region(r) => regions.contains(r),
            };
            if on {
                bits |= 1 << (k as u8);
            }
        }
        Detector {
            on: KindSet(bits),
            min_score: DEFAULT_MIN_SCORE,
            custom: Vec::new(),
            recognizers: Vec::new(),
        }
    }

    /// Builds from a configuration, compiling custom patterns. A name in
    /// [`DetectorConfig::disabled`] that is no built-in kind is refused
    /// (see there), as [`DetectorConfig::from_json`] refuses it.
    pub fn from_config(cfg: &DetectorConfig) -> Result<Detector, Error> {
        cfg.check_disabled()?;
        check_score("min_score", cfg.min_score)?;
        let mut d = Detector::with_regions(cfg.regions);
        d.min_score = cfg.min_score;
        for k in K::ALL {
            if cfg.disabled.contains(&k.kind()) {
                d.on.0 &= !(1 << (k as u8));
            }
        }
        for c in &cfg.custom {
            d.add_custom(c.clone())?;
        }
        Ok(d)
    }

    /// Sets the threshold below which findings are dropped.
    pub fn set_min_score(&mut self, min_score: f32) -> Result<(), Error> {
        check_score("min_score", min_score)?;
        self.min_score = min_score;
        Ok(())
    }

    /// Adds a custom recognizer.
    pub fn add_custom(&mut self, c: CustomRecognizer) -> Result<(), Error> {
        check_score(&format!("score of custom recognizer {:?}", c.name), c.score)?;
        let regex = regex::bytes::RegexBuilder::new(&c.pattern)
            .size_limit(1 << 20)
            .build()
            .map_err(|source| Error::InvalidPattern {
                name: c.name.clone(),
                source,
            })?;
        let value_group = regex.capture_names().position(|n| n == Some("value"));
        self.custom.push(CompiledCustom {
            name: Cow::Owned(c.name),
            kind: c.kind,
            regex,
            value_group,
            validator: c.validator,
            context: c
                .context
                .iter()
                .map(|w| w.chars().map(fold).collect())
                .collect(),
            score: c.score,
        });
        Ok(())
    }

    /// Adds a host recognizer (a model, a service); its findings are
    /// checked and merged with the built-in ones (see [`Recognizer`]).
    pub fn add_recognizer(&mut self, recognizer: Arc<dyn Recognizer>) {
        self.recognizers.push(recognizer);
    }

    /// The built-in kinds switched on.
    pub fn kinds(&self) -> Vec<Kind> {
        K::ALL
            .iter()
            .filter(|k| self.on.has(**k))
            .map(|k| k.kind())
            .collect()
    }

    /// The threshold.
    pub fn min_score(&self) -> f32 {
        self.min_score
    }

    /// Findings in `text`, sorted by start, non-overlapping. Where two
    /// findings overlap, the one of higher priority (see [`resolve`])
    /// keeps its span and the other its parts outside it (trimmed of
    /// white space), so no part of a value found is left in clear.
    pub fn detect(&self, text: &str) -> Vec<Finding> {
        self.detect_bytes(text.as_bytes(), None)
    }

    /// Findings in `text`, including the host's known entities.
    pub fn detect_with(&self, text: &str, known: &KnownEntities) -> Vec<Finding> {
        self.detect_bytes(text.as_bytes(), Some(known))
    }

    /// Findings in raw bytes. Invalid UTF-8 is never part of a finding;
    /// on valid UTF-8 every span falls on character boundaries.
    pub fn detect_bytes(&self, bytes: &[u8], known: Option<&KnownEntities>) -> Vec<Finding> {
        let mut out = Vec::new();
        self.detect_into(bytes, known, &mut out);
        // The scanner reserved for a text dense with findings (see
        // `Scanner::new`): what a sparse one left unused is given back.
        if out.capacity() > 2 * out.len() + 16 {
            out.shrink_to_fit();
        }
        out
    }

    /// [`Detector::detect_bytes`] into `out`, which is emptied first: a
    /// caller that detects in many texts (a JSON-lines stream, say) keeps
    /// one buffer and saves an allocation a text. `out`'s capacity is left
    /// as it grew.
    pub fn detect_into(&self, bytes: &[u8], known: Option<&KnownEntities>, out: &mut Vec<Finding>) {
        custodia_core::op_span!(
            DEBUG,
            "custodia.mask.detect",
            bytes = bytes.len(),
            findings = tracing::field::Empty
        );
        let mut scanner = Scanner::new(bytes, self.on, self.min_score, std::mem::take(out));
        scanner.run();
        let unicode = scanner.may_have_unicode_forms();
        let mut found = scanner.findings;
        let scanned = found.len();
        scanner.entity.finish(&mut found, scanner.postal);
        merge(bytes, &mut found, scanned);
        let before = found.len();
        if unicode && let Some(forms) = AsciiForms::of(bytes) {
            self.find_in_ascii_forms(&forms, &mut found);
        }
        if let Some(k) = known {
            k.find(bytes, &mut found);
        }
        for c in &self.custom {
            custom_find(c, bytes, self.min_score, &mut found);
        }
        for r in &self.recognizers {
            recognizer::run(r.as_ref(), bytes, self.min_score, &mut found);
        }
        if found.len() != before {
            resolve_keeping_rest(bytes, &mut found);
        }
        custodia_core::op_record!(findings = found.len());
        // (`out` holds the empty vector `take` left: nothing to drop.)
        drop_unallocated(std::mem::replace(out, found));
        scanner.entity.release();
    }
}

impl Detector {
    /// The findings of the built-in scanner in `forms`, the text with
    /// numbers' Unicode digits and separators in ASCII, that cover one of
    /// those characters (the others the text itself gave), mapped back to
    /// the text. The entity pass is not run again: it reads words, not
    /// numbers.
    #[cold]
    #[inline(never)]
    fn find_in_ascii_forms(&self, forms: &AsciiForms, found: &mut Vec<Finding>) {
        let mut on = self.on;
        for k in [K::Person, K::Address, K::Organization] {
            on.0 &= !(1u128 << (k as u8));
        }
        let mut scanner = Scanner::new(&forms.text, on, self.min_score, Vec::new());
        scanner.run();
        for mut f in scanner.findings {
            if let Some((start, end)) = forms.original(f.start, f.end) {
                (f.start, f.end) = (start, end);
                found.push(f);
            }
        }
    }
}

/// Drops `v`, without the out-of-line call that drops its elements when
/// it never held any: a short text's vectors, most never allocated, cost
/// that call (13 instructions) each, a text at a time.
#[inline(always)]
pub(crate) fn drop_unallocated(v: Vec<Finding>) {
    if v.capacity() == 0 {
        // (No allocation and no elements: nothing leaks.)
        std::mem::forget(v);
    }
}

fn custom_find(c: &CompiledCustom, bytes: &[u8], min: f32, out: &mut Vec<Finding>) {
    for caps in c.regex.captures_iter(bytes) {
        let m = match c.value_group.and_then(|g| caps.get(g)) {
            Some(m) => m,
            None => match caps.get(0) {
                Some(m) => m,
                None => continue,
            },
        };
        // Spans must be non-empty text on character boundaries, whatever the
        // pattern (`(?-u:\xC3)` could otherwise cut a character).
        let boundary = |i: usize| bytes.get(i).is_none_or(|&c| c & 0xC0 != 0x80);
        if m.start() == m.end()
            || std::str::from_utf8(m.as_bytes()).is_err()
            || !boundary(m.start())
            || !boundary(m.end())
        {
            continue;
        }
        if let Some(v) = c.validator
            && !v.check(m.as_bytes())
        {
            continue;
        }
        let mut score = c.score;
        if !c.context.is_empty() {
            let lo = m.start().saturating_sub(72);
            // Words compared under Unicode simple case folding
            // (`Straße`, `GEBURTSDATUM`).
            let window = String::from_utf8_lossy(&bytes[lo..m.start()]);
            if window
                .split(|ch: char| !ch.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .any(|w| c.context.iter().any(|x| x.chars().eq(w.chars().map(fold))))
            {
                score = (score + CONTEXT_BOOST).min(1.0);
            }
        }
        if score >= min {
            out.push(Finding {
                kind: c.kind.clone(),
                start: m.start(),
                end: m.end(),
                score,
                recognizer: c.name.clone(),
            });
        }
    }
}

/// Merges two runs of findings, `out[..split]` and `out[split..]`, each
/// sorted and non-overlapping (the scanner's and the entity pass's), in one
/// linear pass when no finding of one overlaps one of the other (the common
/// case); otherwise resolves them with [`resolve_keeping_rest`] in
/// `bytes`, the text. The scanner's spans never go backwards
/// (`start <= end`).
fn merge(bytes: &[u8], out: &mut Vec<Finding>, split: usize) {
    if split == out.len() {
        return;
    }
    debug_assert!(out[..split].iter().all(|f| f.start <= f.end));
    let (a, b) = out.split_at(split);
    let disjoint_sorted = |run: &[Finding]| run.windows(2).all(|w| w[0].end <= w[1].start);
    if !disjoint_sorted(b) {
        return resolve_keeping_rest(bytes, out);
    }
    // Disjoint, and the entity pass's findings are never empty, so no two
    // start alike (on a tie `interleave` takes `b` first and then sees the
    // overlap). A ticket's few are sorted in place, without allocating
    // (the stable sort's insertion sort, up to 20), as are runs with an
    // empty finding of the pass (none is made: a tie with one would pass
    // `interleave` and be sorted after the scanner's).
    if out.len() <= 20 || b.iter().any(|f| f.start >= f.end) {
        if !interleave(a, b) {
            return resolve_keeping_rest(bytes, out);
        }
        out.sort_by_key(|f| f.start);
        return;
    }
    // More are merged in place from the back: the entity pass's few
    // findings are taken out, the gap they leave
    // at the end is held by placeholders, and each block of scanner
    // findings after one of them is moved once across the gap, a block at
    // a time (swapped with placeholders, or rotated when the gap is
    // shorter than the block). A new vector of all the findings would be
    // as large as the stable sort's scratch buffer was: on a long text,
    // fresh pages the kernel faulted in on each call. The runs' order and
    // disjointness, which `interleave` would have checked first, are
    // checked as the findings are placed; when they overlap the findings,
    // all still there in another order, are resolved (`resolve` depends
    // only on which findings there are, not their order).
    let mut rest: Vec<Finding> = out.drain(split..).collect();
    out.resize_with(split + rest.len(), || Finding {
        kind: Kind::Person,
        start: 0,
        end: 0,
        score: 0.0,
        recognizer: Cow::Borrowed(""),
    });
    let mut i = split;
    let mut next_start = usize::MAX;
    let mut ok = true;
    while let Some(f) = rest.pop() {
        // The gap is `out[i..i + gap]`, the scanner's unplaced `out[..i]`.
        let gap = rest.len() + 1;
        let mut s = i;
        // (On equal starts the entity pass's finding goes first, as
        // `interleave` takes it.)
        while let Some(prev) = s.checked_sub(1).and_then(|p| out.get(p))
            && prev.start >= f.start
        {
            ok &= prev.end <= next_start;
            next_start = prev.start;
            s -= 1;
        }
        ok &= f.end <= next_start;
        next_start = f.start;
        let block = i - s;
        if block <= gap {
            let (lo, hi) = out.split_at_mut(s + gap);
            lo[s..i].swap_with_slice(&mut hi[..block]);
        } else {
            out[s..i + gap].rotate_right(gap);
        }
        out[s + gap - 1] = f;
        i = s;
    }
    // The scanner's findings before the pass's first, in place.
    for prev in out[..i].iter().rev() {
        ok &= prev.end <= next_start;
        next_start = prev.start;
    }
    if !ok {
        resolve_keeping_rest(bytes, out);
    }
}

/// Do `a` and `b` (each sorted and disjoint) interleave without overlap,
/// taken in start order (`b` first on equal starts)?
fn interleave(a: &[Finding], b: &[Finding]) -> bool {
    let (mut i, mut j) = (0, 0);
    let mut last_end = 0;
    while i < a.len() || j < b.len() {
        let take_a = j == b.len() || (i < a.len() && a[i].start < b[j].start);
        let f = if take_a { &a[i] } else { &b[j] };
        if f.start < last_end {
            return false;
        }
        last_end = f.end;
        if take_a {
            i += 1;
        } else {
            j += 1;
        }
    }
    true
}

/// Resolves overlaps deterministically: higher score first, then the longer
/// span, then the earlier start, then the kind name; a finding overlapping
/// one already kept is dropped. The result is sorted by start.
// One cluster of overlapping findings at a time: whether a finding is kept
// depends only on those it overlaps, so the order of priority need only
// be taken within a cluster. The findings of a text are sorted by start
// once (two sorted runs when the detector merges, merged in one pass),
// and most clusters hold one finding. Sorting all of a long text's
// findings by priority cost a sixth of its detection (a 700 KB text of
// tickets whose scanner and entity findings overlapped once).
pub fn resolve(findings: &mut Vec<Finding>) {
    findings.retain(|f| f.start < f.end);
    // (Stable: findings that tie on every key keep their order, as the
    // order of priority keeps it.)
    findings.sort_by_key(|f| f.start);
    let mut keep = vec![true; findings.len()];
    for c in clusters(findings) {
        if c.len() > 1 {
            keep_by_priority(&findings[c.clone()], &mut keep[c]);
        }
    }
    let mut k = 0;
    findings.retain(|_| {
        k += 1;
        keep[k - 1]
    });
}

/// [`resolve`], except that a finding which overlaps one taken before it
/// keeps its parts outside those (Presidio's rule for intersecting
/// spans): a known person's name inside an address leaves the rest of
/// the address masked as one, not in clear. Each part is trimmed of ASCII
/// white space and kept if a letter, a digit or a non-ASCII character is
/// left (parts fall on `bytes`' character boundaries, as the findings'
/// do). The result is sorted by start and disjoint.
// The taken bytes are kept as coalesced intervals: each finding merges
// those it overlaps into one, so each interval is read once after it is
// made, and a cluster costs O(n log n) whatever its findings' nesting.
pub(crate) fn resolve_keeping_rest(bytes: &[u8], findings: &mut Vec<Finding>) {
    findings.retain(|f| f.start < f.end);
    findings.sort_by_key(|f| f.start);
    let mut out = Vec::with_capacity(findings.len());
    for c in clusters(findings) {
        if c.len() == 1 {
            out.push(findings[c.start].clone());
        } else {
            let first = out.len();
            rest_by_priority(bytes, &findings[c], &mut out);
            out[first..].sort_by_key(|f| f.start);
        }
    }
    *findings = out;
}

/// The runs of `findings` (sorted by start) that overlap one another,
/// each as its range of indexes: a finding joins the run while it starts
/// before the run's furthest end.
fn clusters(findings: &[Finding]) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        let first = findings.get(i)?;
        let mut reach = first.end;
        let mut j = i + 1;
        while j < findings.len() && findings[j].start < reach {
            reach = reach.max(findings[j].end);
            j += 1;
        }
        let run = i..j;
        i = j;
        Some(run)
    })
}

/// Appends to `out` the findings of `cluster` (non-empty spans), in the
/// order of priority, each whole or, where it overlaps those before it,
/// its meaningful parts outside them (see [`resolve_keeping_rest`]).
fn rest_by_priority(bytes: &[u8], cluster: &[Finding], out: &mut Vec<Finding>) {
    let mut order: Vec<usize> = (0..cluster.len()).collect();
    order.sort_by(|&a, &b| priority(&cluster[a], &cluster[b]));
    let mut taken: BTreeMap<usize, usize> = BTreeMap::new(); // start -> end, coalesced
    let mut over: Vec<(usize, usize)> = Vec::new();
    for i in order {
        let f = &cluster[i];
        over.clear();
        over.extend(
            taken
                .range(..f.end)
                .rev()
                .take_while(|&(_, &e)| e > f.start)
                .map(|(&s, &e)| (s, e)),
        );
        over.reverse();
        if over.is_empty() {
            out.push(f.clone());
        } else {
            let mut from = f.start;
            for &(s, e) in over.iter().chain([&(f.end, f.end)]) {
                if s > from {
                    push_part(bytes, f, from, s.min(f.end), out);
                }
                from = from.max(e);
            }
        }
        let (mut lo, mut hi) = (f.start, f.end);
        for &(s, e) in &over {
            taken.remove(&s);
            (lo, hi) = (lo.min(s), hi.max(e));
        }
        taken.insert(lo, hi);
    }
}

/// Appends `f`'s part `start..end`, trimmed of ASCII white space, if a
/// letter, a digit or a non-ASCII character is left.
fn push_part(bytes: &[u8], f: &Finding, start: usize, end: usize, out: &mut Vec<Finding>) {
    let Some(part) = bytes.get(start..end) else {
        return;
    };
    let lead = part.len() - part.trim_ascii_start().len();
    let part = part.trim_ascii();
    if part
        .iter()
        .any(|&c| c.is_ascii_alphanumeric() || !c.is_ascii())
    {
        out.push(Finding {
            start: start + lead,
            end: start + lead + part.len(),
            ..f.clone()
        });
    }
}

/// Marks in `keep` the findings of `cluster` (non-empty spans) that the
/// order of priority keeps: each in turn unless it overlaps one kept.
fn keep_by_priority(cluster: &[Finding], keep: &mut [bool]) {
    let mut order: Vec<usize> = (0..cluster.len()).collect();
    order.sort_by(|&a, &b| priority(&cluster[a], &cluster[b]));
    let mut kept: BTreeMap<usize, usize> = BTreeMap::new(); // start -> end
    for i in order {
        let f = &cluster[i];
        let clash = kept
            .range(..f.end)
            .next_back()
            .is_some_and(|(_, &e)| e > f.start);
        keep[i] = !clash;
        if !clash {
            kept.insert(f.start, f.end);
        }
    }
}

/// [`resolve`]'s order: `Less` for the finding taken first. (A backwards
/// span, which `resolve` drops first, measures 0.)
fn priority(x: &Finding, y: &Finding) -> std::cmp::Ordering {
    let len = |f: &Finding| f.end.saturating_sub(f.start);
    y.score
        .total_cmp(&x.score)
        .then(len(y).cmp(&len(x)))
        .then(x.start.cmp(&y.start))
        .then(x.kind.cmp(&y.kind))
        .then(x.recognizer.cmp(&y.recognizer))
}

/// Values the host knows belong to this ticket's participants (names,
/// emails, customer ids), matched case- and accent-insensitively as whole
/// words in one aho-corasick pass. Build per call or per conversation.
///
/// Case folding is Unicode-aware (`Zoë` matches `ZOË`, `Émilie` matches
/// `ÉMILIE`) and accents are ignored (`Émilie` matches `EMILIE` and
/// `Emilie`, `Νικόλαος` matches `ΝΙΚΟΛΑΟΣ`, `José` matches `Jose` and the
/// decomposed `Jose\u{301}`): values and text are folded one character at a
/// time by the same function, values once when compiled; an ASCII text is
/// searched as is (ASCII case-insensitively), and a text with non-ASCII
/// bytes is searched once in a folded copy whose offsets map back to the
/// original, so spans are always the original text's character boundaries
/// and take in the accents of the characters matched.
///
/// A match is a whole word: no letter or digit of a cased script (Latin,
/// Greek, Cyrillic, …), `_` or combining mark touches it where the value
/// itself starts or ends with one, so `René` is not found in `Renée`.
/// Scripts written without spaces between words (Chinese, Japanese, Thai)
/// are matched anywhere.
///
/// The folding removes the marks of each character's canonical
/// decomposition (those of a nonzero combining class: accents, cedillas,
/// Greek tonos and dialytika, Hebrew and Arabic vowel points), then takes
/// each remaining character's lower case, plus:
///
/// - Greek final sigma: `ς`, `σ` and `Σ` are one letter (`ΝΙΚΟΛΑΟΣ`
///   matches `Νικολαος`), as are the other simple foldings lower-casing
///   misses (`ſ` → `s`, the iota forms).
/// - Turkish dotted and dotless i: `I`, `i`, `İ` and `ı` (and `i` followed
///   by U+0307 COMBINING DOT ABOVE, which is `İ` lower-cased) are all one
///   letter `i`, so a Turkish name matches in Turkish casing and in any
///   other (`İlker` matches `ILKER`, `ilker` and `İLKER`; `Işık` matches
///   `IŞIK` and `ışık`). The price is that a word spelled with `ı` also
///   matches its spelling with `i`: a wider match, which for masking errs
///   on the safe side.
/// - German sharp s: `ß` and `ẞ` are `ss` (`Straße` matches `STRASSE`,
///   `STRAẞE` and `strasse`); a match never starts or ends inside the
///   `ss` of one `ß`.
///
/// Letters that are not a letter plus marks stay themselves (`ø`, `ł`,
/// `đ`, `æ` do not match `o`, `l`, `d`, `ae`), and characters whose upper
/// case is several letters other than `ß` (`ﬁ`) match only in the forms
/// that fold alike. The price of ignoring accents is a wider match (`Sé`
/// matches `Se`), which for masking errs on the safe side.
pub struct KnownEntities {
    ac: Option<AhoCorasick>,
    kinds: Vec<Kind>,
}

impl fmt::Debug for KnownEntities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The values themselves are personal data: never print them.
        f.debug_struct("KnownEntities")
            .field("count", &self.kinds.len())
            .finish()
    }
}

impl KnownEntities {
    /// Compiles `(kind, value)` pairs. Values that fold to fewer than 2
    /// bytes (`x`, `É`) are ignored: they would match too much.
    pub fn new<I, S>(entries: I) -> Result<KnownEntities, Error>
    where
        I: IntoIterator<Item = (Kind, S)>,
        S: AsRef<str>,
    {
        let mut pats: Vec<Vec<u8>> = Vec::new();
        let mut kinds = Vec::new();
        for (k, v) in entries {
            let v = v.as_ref().trim();
            let mut pat = Vec::with_capacity(v.len());
            for ch in v.chars() {
                fold_known(ch, &mut pat);
            }
            if pat.len() >= 2 {
                pats.push(pat);
                kinds.push(k);
            }
        }
        if pats.is_empty() {
            return Ok(KnownEntities { ac: None, kinds });
        }
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(&pats)
            .map_err(|source| Error::KnownEntities { source })?;
        Ok(KnownEntities {
            ac: Some(ac),
            kinds,
        })
    }

    /// How many values are compiled.
    pub fn len(&self) -> usize {
        self.kinds.len()
    }

    /// True if there is nothing to match.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }

    fn find(&self, bytes: &[u8], out: &mut Vec<Finding>) {
        let Some(ac) = &self.ac else { return };
        if bytes.is_ascii() {
            self.find_in(ac, bytes, bytes, None, out);
            return;
        }
        // Folded copy (as the values were folded: see `fold_known`);
        // `map[k]` is the original offset of the character that produced
        // folded byte `k` (plus one entry for the end).
        let mut lowered = Vec::with_capacity(bytes.len() + 8);
        let mut map = Vec::with_capacity(bytes.len() + 9);
        let mut pos = 0usize;
        for chunk in bytes.utf8_chunks() {
            for (off, ch) in chunk.valid().char_indices() {
                let before = lowered.len();
                fold_known(ch, &mut lowered);
                map.resize(map.len() + lowered.len() - before, pos + off);
            }
            pos += chunk.valid().len();
            // Invalid bytes become 0xFF, which no UTF-8 value contains.
            for _ in chunk.invalid() {
                lowered.push(0xFF);
                map.push(pos);
                pos += 1;
            }
        }
        map.push(bytes.len());
        self.find_in(ac, &lowered, bytes, Some(&map), out);
    }

    fn find_in(
        &self,
        ac: &AhoCorasick,
        hay: &[u8],
        bytes: &[u8],
        map: Option<&[usize]>,
        out: &mut Vec<Finding>,
    ) {
        for m in ac.find_iter(hay) {
            let (s, e) = match map {
                None => (m.start(), m.end()),
                Some(map) => {
                    // A match must cover whole original characters.
                    let (ls, le) = (m.start(), m.end());
                    if ls > 0 && map[ls] == map[ls - 1] || le < hay.len() && map[le] == map[le - 1]
                    {
                        continue;
                    }
                    (map[ls], map[le])
                }
            };
            if s >= e {
                continue;
            }
            // Whole words only where the value starts or ends with a word
            // character (`#123` may touch a letter).
            let word = |c: Option<char>| c.is_some_and(word_char);
            let first = char_at(bytes, s);
            if s > 0 && word(first) && word(char_before(bytes, s)) {
                continue;
            }
            if e < bytes.len() && word(char_before(bytes, e)) && word(char_at(bytes, e)) {
                continue;
            }
            out.push(Finding {
                kind: self.kinds[m.pattern().as_usize()].clone(),
                start: s,
                end: e,
                score: 1.0,
                recognizer: Cow::Borrowed("known_entity"),
            });
        }
    }
}

/// Whether `c` belongs to a word a known value must not start or end
/// inside: an ASCII letter, digit or `_`, a letter or digit of a cased
/// script, or a combining mark (part of the letter before it). Letters of
/// scripts without case (CJK, Thai) are not: those scripts do not space
/// their words.
fn word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    c.is_lowercase()
        || c.is_uppercase()
        || c.is_numeric()
        || unicode_normalization::char::canonical_combining_class(c) != 0
}

/// The character starting at byte `i` of `bytes` (`None` for an invalid
/// sequence or the end).
fn char_at(bytes: &[u8], i: usize) -> Option<char> {
    let rest = bytes.get(i..)?;
    let valid = rest.utf8_chunks().next()?.valid();
    valid.chars().next()
}

/// The character ending at byte `i` of `bytes` (`None` for an invalid
/// sequence or the start).
fn char_before(bytes: &[u8], i: usize) -> Option<char> {
    let head = bytes.get(i.saturating_sub(4)..i)?;
    // The last valid chunk ending exactly at `i` holds the character.
    let chunk = head.utf8_chunks().last()?;
    if !chunk.invalid().is_empty() {
        return None;
    }
    chunk.valid().chars().next_back()
}

/// Appends `ch` folded for [`KnownEntities`] to `out` (the same function
/// folds the values and the text, a character at a time, so the two
/// always fold alike): its canonical decomposition without its marks
/// (those of a nonzero combining class: `É` → `E`, `ό` → `ο`, `İ` → `I`,
/// and a mark standing alone folds to nothing), each remaining character
/// [`fold`]ed (lower case, `ς` → `σ`, `ſ` → `s`), `ı` → `i`, `ß` and `ẞ`
/// → `ss`. An ASCII character folds to its ASCII lower case, as the
/// ASCII-case-insensitive search of an ASCII text assumes.
fn fold_known(ch: char, out: &mut Vec<u8>) {
    if ch.is_ascii() {
        out.push(ch.to_ascii_lowercase() as u8);
        return;
    }
    unicode_normalization::char::decompose_canonical(ch, |c| {
        let mut buf = [0u8; 4];
        match c {
            'ı' => out.push(b'i'),
            'ß' | 'ẞ' => out.extend_from_slice(b"ss"),
            _ if unicode_normalization::char::canonical_combining_class(c) != 0 => {}
            _ => out.extend_from_slice(fold(c).encode_utf8(&mut buf).as_bytes()),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `resolve` as it was written first: every finding in one order of
    /// priority, then sorted by start.
    fn resolve_whole(findings: &mut Vec<Finding>) {
        let mut order: Vec<usize> = (0..findings.len()).collect();
        order.sort_by(|&a, &b| priority(&findings[a], &findings[b]));
        let mut kept: BTreeMap<usize, usize> = BTreeMap::new();
        let mut keep = vec![false; findings.len()];
        for i in order {
            let f = &findings[i];
            if f.start >= f.end {
                continue;
            }
            let clash = kept
                .range(..f.end)
                .next_back()
                .is_some_and(|(_, &e)| e > f.start);
            if !clash {
                kept.insert(f.start, f.end);
                keep[i] = true;
            }
        }
        let mut i = 0;
        findings.retain(|_| {
            i += 1;
            keep[i - 1]
        });
        findings.sort_by_key(|a| a.start);
    }

    fn finding() -> impl Strategy<Value = Finding> {
        let kinds = [Kind::Email, Kind::Phone, Kind::Person, Kind::Address];
        (
            0usize..60,
            0usize..12,
            0usize..4,
            prop::sample::select(vec![0.3f32, 0.5, 0.5, 0.85, 1.0]),
            prop::sample::select(vec!["a", "b"]),
            any::<bool>(),
        )
            .prop_map(move |(start, len, kind, score, recognizer, backwards)| {
                // (Some empty or backwards spans, which `resolve` drops.)
                let end = if backwards && len < 2 {
                    start.saturating_sub(len)
                } else {
                    start + len
                };
                Finding {
                    kind: kinds[kind].clone(),
                    start,
                    end,
                    score,
                    recognizer: Cow::Borrowed(recognizer),
                }
            })
    }

    proptest! {
        /// Cluster by cluster, `resolve` keeps what the whole order of
        /// priority keeps, in the same order (ties and duplicates too).
        #[test]
        fn resolve_by_clusters_is_resolve_whole(
            findings in prop::collection::vec(finding(), 0..40),
        ) {
            let mut whole = findings.clone();
            resolve_whole(&mut whole);
            let mut clusters = findings;
            resolve(&mut clusters);
            prop_assert_eq!(clusters, whole);
        }

        /// `resolve_keeping_rest` leaves no byte of a finding uncovered
        /// (in a text of letters, where no part is trimmed), its findings
        /// sorted, disjoint, each a part of one given with its kind and
        /// score; where nothing overlaps it is `resolve`.
        #[test]
        fn resolve_keeping_rest_covers_every_finding(
            findings in prop::collection::vec(finding(), 0..40),
            spaces in prop::collection::vec(0usize..80, 0..6),
        ) {
            let mut text = vec![b'a'; 80];
            let mut kept = findings.clone();
            resolve_keeping_rest(&text, &mut kept);
            let bytes = |v: &[Finding]| -> std::collections::BTreeSet<usize> {
                v.iter().flat_map(|f| f.start..f.end).collect()
            };
            prop_assert_eq!(bytes(&kept), bytes(&findings));
            for w in kept.windows(2) {
                prop_assert!(w[0].end <= w[1].start, "{:?}", kept);
            }
            for k in &kept {
                prop_assert!(k.start < k.end);
                prop_assert!(findings.iter().any(|f| f.kind == k.kind
                    && f.score == k.score
                    && f.start <= k.start
                    && k.end <= f.end));
            }
            let mut plain = findings.clone();
            resolve(&mut plain);
            if plain.len() == findings.iter().filter(|f| f.start < f.end).count() {
                prop_assert_eq!(&kept, &plain);
            }
            // With spaces in the text, only they may be left uncovered.
            for &k in &spaces {
                text[k] = b' ';
            }
            let mut kept = findings.clone();
            resolve_keeping_rest(&text, &mut kept);
            for k in bytes(&findings).difference(&bytes(&kept)) {
                prop_assert_eq!(text[*k], b' ');
            }
        }
    }

    /// `merge` as the seventeenth session left it: the runs checked by
    /// `interleave` first, then merged from the back by swaps from a copy
    /// of the entity pass's findings (overlaps resolved as `merge` now
    /// resolves them, keeping the parts of a finding outside those taken).
    fn merge_by_swaps(bytes: &[u8], out: &mut Vec<Finding>, split: usize) {
        if split == out.len() {
            return;
        }
        let (a, b) = out.split_at(split);
        let disjoint_sorted = |run: &[Finding]| run.windows(2).all(|w| w[0].end <= w[1].start);
        if !disjoint_sorted(b) || !interleave(a, b) {
            return resolve_keeping_rest(bytes, out);
        }
        if out.len() <= 20 {
            out.sort_by_key(|f| f.start);
            return;
        }
        let mut rest = b.to_vec();
        let (mut i, mut k) = (split, out.len());
        while let Some(last) = rest.last_mut() {
            k -= 1;
            if i > 0 && out[i - 1].start > last.start {
                i -= 1;
                out.swap(i, k);
            } else {
                std::mem::swap(&mut out[k], last);
                rest.pop();
            }
        }
    }

    /// Two runs as the detector merges them, the scanner's and the entity
    /// pass's, cut from one sorted, disjoint sequence (empty spans too);
    /// now and then a span moved back over its neighbour, or the second
    /// run out of order, to reach `resolve`.
    fn runs() -> impl Strategy<Value = (Vec<Finding>, usize)> {
        (
            prop::collection::vec(
                (
                    0usize..4,
                    0usize..6,
                    0usize..4,
                    prop::bool::weighted(0.25),
                    any::<bool>(),
                ),
                0..70,
            ),
            0u8..6,
        )
            .prop_map(|(items, mess)| {
                let kinds = [Kind::Email, Kind::Phone, Kind::Person, Kind::Address];
                let (mut a, mut b) = (Vec::new(), Vec::new());
                let mut at = 0usize;
                for (n, (gap, len, kind, second, odd)) in items.into_iter().enumerate() {
                    let mut start = at + gap;
                    at = start + len;
                    if mess == 0 && odd && n % 5 == 0 {
                        start = start.saturating_sub(3);
                    }
                    let f = Finding {
                        kind: kinds[kind].clone(),
                        start,
                        end: start + len,
                        score: if second { 0.85 } else { 0.5 },
                        recognizer: Cow::Borrowed(if second { "b" } else { "a" }),
                    };
                    if second { b.push(f) } else { a.push(f) }
                }
                if mess == 1 && b.len() > 2 {
                    b.swap(0, 1);
                }
                let split = a.len();
                a.extend(b);
                (a, split)
            })
    }

    proptest! {
        /// The block moves give what the swaps gave: the same findings in
        /// the same order, resolved when (and as) the swaps resolved them.
        #[test]
        fn merge_by_blocks_is_merge_by_swaps((findings, split) in runs()) {
            // (A text of letters: a finding's parts outside those taken
            // before it are kept.)
            let text = [b'a'; 1024];
            let mut swaps = findings.clone();
            merge_by_swaps(&text, &mut swaps, split);
            let mut blocks = findings;
            merge(&text, &mut blocks, split);
            prop_assert_eq!(blocks, swaps);
        }
    }

    /// Letters a known value is made of in [`known_value_in_any_case_is_found`]:
    /// ASCII, Greek (final sigma, tonos, dialytika), Latin with diacritics,
    /// Turkish dotted and dotless i, German sharp s (both cases).
    const KNOWN_LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\
        αβγδεζηθικλμνξοπρσςτυφχψωΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩάέήίόύώΆΈΉΊΌΎΏϊϋΪΫ\
        éèêëàâäçñøåæœőűłžščřÉÈÖÜÅŁŽŠČŘÇÑØÆŒ\
        İıIiŞşĞğÇçÖöÜü\
        ßẞ";

    /// `c` without its accents: its canonical decomposition less marks.
    fn unaccented(c: char) -> String {
        let mut out = String::new();
        unicode_normalization::char::decompose_canonical(c, |d| {
            if unicode_normalization::char::canonical_combining_class(d) == 0 {
                out.push(d);
            }
        });
        out
    }

    /// `c` canonically decomposed (`é` as `e` and U+0301).
    fn decomposed(c: char) -> String {
        let mut out = String::new();
        unicode_normalization::char::decompose_canonical(c, |d| out.push(d));
        out
    }

    /// The forms a letter may take in a text that mentions the value:
    /// itself, its upper and lower case (`ß` → `SS`, `İ` → `i̇`), without
    /// its accents in either case, decomposed, and for the letters cased
    /// differently in Turkish, their Turkish case.
    fn forms(c: char) -> Vec<String> {
        let bare = unaccented(c);
        let mut v = vec![
            c.to_string(),
            c.to_uppercase().collect(),
            c.to_lowercase().collect(),
            bare.to_uppercase(),
            bare.clone(),
            decomposed(c),
            c.to_uppercase().flat_map(decomposed_chars).collect(),
        ];
        match c {
            'i' => v.push("İ".into()),
            'I' => v.push("ı".into()),
            'ı' => v.push("I".into()),
            'İ' => v.push("i".into()),
            'ß' => v.push("ẞ".into()),
            _ => {}
        }
        v
    }

    fn decomposed_chars(c: char) -> Vec<char> {
        decomposed(c).chars().collect()
    }

    fn known_value() -> impl Strategy<Value = Vec<char>> {
        let letters: Vec<char> = KNOWN_LETTERS
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let letter = prop::sample::select(letters);
        // Letters, and single inner spaces and hyphens.
        prop::collection::vec(
            (
                letter.clone(),
                prop::sample::select(vec!["", "", "", " ", "-"]),
            ),
            2..10,
        )
        .prop_map(|parts| {
            let mut v = Vec::new();
            let n = parts.len();
            for (k, (c, sep)) in parts.into_iter().enumerate() {
                v.push(c);
                if k + 1 < n {
                    v.extend(sep.chars());
                }
            }
            v
        })
    }

    proptest! {
        /// A known value is found wherever a text holds it in any mix of
        /// the cases of its own letters, with or without their accents,
        /// composed or decomposed (see [`KnownEntities`]'s folding), and
        /// the span is the original text's UTF-8 byte span of it.
        #[test]
        fn known_value_in_any_case_is_found(
            value in known_value(),
            picks in prop::collection::vec(0usize..8, 12),
            prefix in prop::sample::select(vec!["", "<< ", "Kunde: «", "電話：", "#1 (", "Πελάτης: "]),
            suffix in prop::sample::select(vec!["", " >>", "» rief an.", "。", ")", " — ευχαριστώ"]),
        ) {
            let value: String = value.into_iter().collect();
            let mut shown = String::new();
            for (k, c) in value.chars().enumerate() {
                let f = forms(c);
                shown.push_str(&f[picks[k % picks.len()].wrapping_add(k) % f.len()]);
            }
            let text = format!("{prefix}{shown}{suffix}");
            let known = KnownEntities::new([(Kind::Person, value.as_str())]).unwrap();
            prop_assert_eq!(known.len(), 1);
            let mut found = Vec::new();
            known.find(text.as_bytes(), &mut found);
            prop_assert!(!found.is_empty(), "{:?} not found in {:?}", value, text);
            let f = &found[0];
            prop_assert_eq!((f.start, f.end), (prefix.len(), prefix.len() + shown.len()), "{:?} in {:?}", value, text);
            prop_assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
            prop_assert_eq!(&text[f.start..f.end], shown.as_str());
            // The same through the detector (a known value scores 1.0).
            let found = Detector::new().detect_with(&text, &known);
            prop_assert!(
                found.iter().any(|g| g.start <= prefix.len() && g.end >= prefix.len() + shown.len()),
                "{:?} not masked in {:?}: {:?}", value, text, found
            );
        }
    }

    /// The spans `value`, a known person, takes in `text` (each on
    /// character boundaries).
    fn known_spans(value: &str, text: &str) -> Vec<String> {
        let known = KnownEntities::new([(Kind::Person, value)]).unwrap();
        let mut found = Vec::new();
        known.find(text.as_bytes(), &mut found);
        found
            .iter()
            .map(|f| {
                assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
                text[f.range()].to_string()
            })
            .collect()
    }

    #[test]
    fn known_values_fold_final_sigma_turkish_i_and_sharp_s() {
        let find = known_spans;
        assert_eq!(find("ΝΙΚΟΛΑΟΣ", "Customer ΝΙΚΟΛΑΟΣ called."), ["ΝΙΚΟΛΑΟΣ"]);
        assert_eq!(
            find("ΝΙΚΟΛΑΟΣ", "ο Νικολαος, ο νικολαοσ"),
            ["Νικολαος", "νικολαοσ"]
        );
        assert_eq!(find("Νικόλαος", "ΝΙΚΌΛΑΟΣ"), ["ΝΙΚΌΛΑΟΣ"]);
        // Turkish: I, i, İ, ı are one letter; `i̇` (i, U+0307) is `İ`.
        assert_eq!(
            find(
                "İlker Işık",
                "ILKER IŞIK, ilker ışık, İLKER İŞİK, i\u{307}lker işik"
            ),
            [
                "ILKER IŞIK",
                "ilker ışık",
                "İLKER İŞİK",
                "i\u{307}lker işik"
            ]
        );
        // German: ß, ẞ and ss; never half of one ß.
        assert_eq!(
            find("Straße", "STRASSE, STRAẞE, strasse, Strasse"),
            ["STRASSE", "STRAẞE", "strasse", "Strasse"]
        );
        assert_eq!(find("Strasse", "Straße"), ["Straße"]);
        assert!(find("se", "Maße").is_empty());
        assert!(find("as", "Maß").is_empty());
        // Accents are folded away.
        assert_eq!(find("Νικόλαος", "ΝΙΚΟΛΑΟΣ"), ["ΝΙΚΟΛΑΟΣ"]);
    }

    /// Found in review: `Νικόλαος` did not match `ΝΙΚΟΛΑΟΣ` without its
    /// tonos, nor `Émilie` `EMILIE`. Accents are ignored both ways, spans
    /// are the original text's (accents and decomposed marks included),
    /// and a match is still a whole word in accented text.
    #[test]
    fn known_values_ignore_accents_and_keep_the_original_spans() {
        let find = known_spans;
        assert_eq!(
            find("Émilie", "EMILIE, Emilie, émilie, E\u{301}milie."),
            ["EMILIE", "Emilie", "émilie", "E\u{301}milie"]
        );
        assert_eq!(find("EMILIE", "Dear Émilie,"), ["Émilie"]);
        assert_eq!(
            find("Νικόλαος", "ο ΝΙΚΟΛΑΟΣ και ο Νικολαος"),
            ["ΝΙΚΟΛΑΟΣ", "Νικολαος"]
        );
        assert_eq!(find("José", "Jose\u{301} Núñez"), ["Jose\u{301}"]);
        assert_eq!(find("Jose Nunez", "— José Núñez —"), ["José Núñez"]);
        assert_eq!(find("Zoë", "«ZOE»"), ["ZOE"]);
        // The span ends after a mark that follows the last letter.
        assert_eq!(find("Rene", "Rene\u{301} called"), ["Rene\u{301}"]);
        // Whole words in accented text: not inside a longer name.
        assert!(find("René", "Renée called").is_empty());
        assert!(find("Rene", "Rene\u{301}e called").is_empty());
        assert!(find("Zoe", "Zoëlle").is_empty());
        assert!(find("ΝΙΚΟΣ", "Νικόστρατος").is_empty());
        assert!(find("Emil", "Émilie").is_empty());
        // Scripts without spaces between words still match anywhere.
        assert_eq!(find("王小明", "王小明先生来电"), ["王小明"]);
        // Letters that are not a letter plus a mark stay themselves.
        assert!(find("Søren", "Soren").is_empty());
        // A value that folds to a single byte is ignored, as a short one.
        assert!(
            KnownEntities::new([(Kind::Person, "É")])
                .unwrap()
                .is_empty()
        );
        assert!(
            KnownEntities::new([(Kind::Person, "\u{301}\u{301}")])
                .unwrap()
                .is_empty()
        );
    }

    /// `fold_known` applied to a whole string.
    fn folded(text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for ch in text.chars() {
            fold_known(ch, &mut out);
        }
        out
    }

    /// Text with accents, marks standing alone, cased and uncased scripts.
    fn accented_text() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "e", "E", "é", "É", "e\u{301}", "\u{301}", "\u{308}", "ß", "ẞ", "ı", "İ", "i\u{307}",
            "ς", "Σ", "ό", "Ό", "ΐ", "ø", "ﬁ", "王", "先", " ", "-", "_", "1", "a", "A", "ñ", "Ñ",
            "\u{345}", "한", "ᄒ", "\u{1161}",
        ]);
        prop::collection::vec(pieces, 0..24).prop_map(|p| p.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// On any text, with any values (arbitrary ones and pieces cut
        /// from the text itself), every known-entity span is non-empty,
        /// lies on the text's character boundaries and folds exactly as
        /// the value it matched: the span is the matched text. Arbitrary
        /// bytes do not panic and give spans inside them.
        #[test]
        fn known_entity_spans_are_char_boundaries_and_cover_the_match(
            text in prop_oneof![any::<String>(), accented_text()],
            cut in (any::<prop::sample::Index>(), any::<prop::sample::Index>()),
            other in prop_oneof![any::<String>(), accented_text()],
            bytes in prop::collection::vec(any::<u8>(), 0..64),
        ) {
            let starts: Vec<usize> = text
                .char_indices()
                .map(|(i, _)| i)
                .chain([text.len()])
                .collect();
            let (a, b) = (cut.0.index(starts.len()), cut.1.index(starts.len()));
            let piece = &text[starts[a.min(b)]..starts[a.max(b)]];
            let known = KnownEntities::new([
                (Kind::Person, piece),
                (Kind::Email, other.as_str()),
            ])
            .unwrap();
            let mut found = Vec::new();
            known.find(text.as_bytes(), &mut found);
            for f in &found {
                prop_assert!(f.start < f.end && f.end <= text.len(), "{:?}", f);
                prop_assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
                let value = if f.kind == Kind::Person { piece } else { other.as_str() };
                prop_assert_eq!(folded(&text[f.range()]), folded(value.trim()));
            }
            let mut found = Vec::new();
            known.find(&bytes, &mut found);
            for f in &found {
                prop_assert!(f.start < f.end && f.end <= bytes.len(), "{:?}", f);
            }
            let _ = Detector::new().detect_bytes(&bytes, Some(&known));
        }
    }

    /// `drop_unallocated` drops what a vector holds (a custom kind's name
    /// is released) and forgets only a vector that never allocated.
    #[test]
    fn drop_unallocated_drops_what_is_held() {
        let kind = Kind::custom("TICKET").unwrap();
        let Kind::Custom(custom) = &kind else {
            panic!("{kind} is built in")
        };
        let name = Arc::clone(&custom.0);
        assert_eq!(Arc::strong_count(&name), 2);
        let held = vec![Finding {
            kind: kind.clone(),
            start: 0,
            end: 1,
            score: 1.0,
            recognizer: Cow::Owned("custom".into()),
        }];
        assert_eq!(Arc::strong_count(&name), 3);
        drop_unallocated(held);
        assert_eq!(Arc::strong_count(&name), 2);
        let mut emptied = Vec::with_capacity(4);
        emptied.push(Finding {
            kind: kind.clone(),
            start: 0,
            end: 1,
            score: 1.0,
            recognizer: Cow::Borrowed("custom"),
        });
        emptied.clear();
        assert_eq!(Arc::strong_count(&name), 2);
        assert!(emptied.capacity() > 0);
        drop_unallocated(emptied);
        drop_unallocated(Vec::new());
    }
}
