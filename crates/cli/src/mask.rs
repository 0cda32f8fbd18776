//! `custodia mask`: mask or detect personal data in text or JSON lines.

use std::fs::File;
use std::io::{Read, Write};

use clap::Args;
use custodia_core::TenantId;
use custodia_mask::{Detector, MaskPolicy, Masker, PseudonymKey, Regions, Strategy};
use zeroize::Zeroizing;

/// Exit codes of `custodia mask`, for its `--help`.
pub const EXIT_CODES: &str =
    "Exit codes: 0 ok; 1 something found with --detect or --fail-on-find, a kept organisation \
too (after all output is written; also when standard output was closed early, e.g. `| head`: \
the rest of the input is still read to decide); 2 usage or input error, or output that could \
not be written (a full disk), even after a finding (reason on stderr; never JSON). Without --detect or --fail-on-find, a closed standard output ends the command \
with exit 0.

JSON: --detect writes JSON lines {\"id\",\"entities\":[{\"kind\",\"start\",\"end\",\"score\"}]}; \
--jsonl writes JSON lines {\"id\",\"text\"}; --json on text writes one document \
{\"version\":1,\"text\",\"counts\":{KIND:n},\"findings\":n}.";

/// Arguments of `custodia mask`.
#[derive(Debug, Args)]
pub struct MaskArgs {
    /// Input file, or `-` for standard input. Text is masked in bounded
    /// memory (64 KiB steps); --json and --detect on text keep their result
    /// (the masked text, the findings) until the end.
    #[arg(default_value = "-")]
    input: String,
    /// Each input line is `{"id"?, "text"}`; each output line `{"id", "text"}`.
    /// Only "text" is masked: "id" is copied as written, neither scanned nor
    /// masked (null if absent), so keep personal data out of ids.
    /// Output line N answers input line N: a blank input line (only
    /// whitespace) gives an empty output line, with --detect too.
    /// Lines are read in batches of about 4 MiB, so memory does not grow with
    /// the input; a line longer than 16 MiB is an input error (exit 2).
    #[arg(long)]
    jsonl: bool,
    /// Emit findings `{"id", "entities":[{"kind","start","end","score"}]}`
    /// (UTF-8 byte offsets) instead of masked text; exit 1 if any.
    #[arg(long)]
    detect: bool,
    /// Exit 1 if anything was found, after writing the masked output (for
    /// CI gates: "nothing personal may pass unmasked"). A found
    /// organisation counts, though it is kept in the output (see
    /// --strategy).
    #[arg(long)]
    fail_on_find: bool,
    /// Text input: print one JSON document
    /// {"version":1,"text","counts":{KIND:n},"findings":n} instead of the
    /// masked text (the masked text is held in memory; bytes that are not
    /// UTF-8, which plain output copies through, become U+FFFD). With --jsonl or
    /// --detect the output is already JSON lines and --json changes nothing.
    #[arg(long)]
    json: bool,
    /// redact, partial, pseudonym (needs --tenant and CUSTODIA_MASK_KEY), keep, or replace:TEXT.
    /// Every kind found is masked so, except that organisations (ORGANIZATION)
    /// are found and counted but kept, whatever the strategy (a firm's name is
    /// not a person's data; custodia_mask::MaskPolicy can name them).
    #[arg(long, default_value = "redact")]
    strategy: String,
    /// Regional recognizers: comma-separated us, uk, au, ca, nz, eu, de (Germany
    /// alone; part of eu), all, none.
    #[arg(long, default_value = "all")]
    regions: String,
    /// Drop findings scoring below this (0.0-1.0).
    #[arg(long, default_value_t = custodia_mask::DEFAULT_MIN_SCORE)]
    min_score: f32,
    /// Tenant whose pseudonym key is in CUSTODIA_MASK_KEY (for --strategy pseudonym).
    #[arg(long)]
    tenant: Option<TenantId>,
}

/// Runs the command. `Err` is a usage or input error (exit 2); the inner
/// result is the outcome of writing. Exits 1 itself after `--detect` or
/// `--fail-on-find` finds something, even when the reader of `out` went
/// away: a gate's answer does not depend on who reads the output.
pub fn run(args: &MaskArgs, out: &mut impl Write) -> Result<std::io::Result<()>, String> {
    let masker = build(args)?;
    let gate = args.detect || args.fail_on_find;
    // A gate reads the whole input whatever happens to its output.
    let out = &mut Gate {
        inner: out,
        gate,
        closed: false,
    };
    // One buffered writer: stdout is line-buffered, a write call per line.
    let out = &mut std::io::BufWriter::with_capacity(1 << 16, out);
    let progress = crate::input_progress(std::path::Path::new(&args.input));
    let input: Box<dyn Read> = if args.input == "-" {
        crate::progress_reader(&progress, std::io::stdin().lock())
    } else {
        let file =
            File::open(&args.input).map_err(|e| format!("cannot open {}: {e}", args.input))?;
        crate::progress_reader(&progress, file)
    };
    let outcome = mask_input(args, &masker, input, out);
    progress.finish_and_clear();
    let found = match outcome? {
        Ok(found) => found,
        Err(e) => return Ok(Err(e)),
    };
    // A failed write (a full disk) is exit 2 even after a finding: exit 1
    // promises the output was written. (A gate's closed pipe is absorbed.)
    if let Err(e) = out.flush() {
        return Ok(Err(e));
    }
    if found && gate {
        if args.fail_on_find && !args.detect {
            eprintln!("custodia: personal data found (--fail-on-find)");
        }
        std::process::exit(1);
    }
    if out.get_ref().closed {
        // Nothing found in the whole input; `main` treats a closed pipe as ok.
        return Ok(Err(std::io::ErrorKind::BrokenPipe.into()));
    }
    Ok(Ok(()))
}

/// The command's output. For a gate (`--detect`, `--fail-on-find`), once
/// the reader has gone (a broken pipe) writes are dropped rather than
/// failed, so the scan runs to the end of the input and the exit code still
/// says whether personal data was found; `closed` records it.
struct Gate<'a, W: Write> {
    inner: &'a mut W,
    gate: bool,
    closed: bool,
}

impl<W: Write> Gate<'_, W> {
    fn absorb(&mut self, result: std::io::Result<()>) -> std::io::Result<()> {
        match result {
            Err(e) if self.gate && e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other,
        }
    }
}

impl<W: Write> Write for Gate<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        match self.inner.write(buf) {
            Err(e) => self.absorb(Err(e)).map(|()| buf.len()),
            written => written,
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let flushed = self.inner.flush();
        self.absorb(flushed)
    }
}

/// Masks or detects; the inner `Ok` says whether anything was found.
fn mask_input(
    args: &MaskArgs,
    masker: &Masker,
    input: Box<dyn Read>,
    out: &mut impl Write,
) -> Result<std::io::Result<bool>, String> {
    if args.jsonl {
        return jsonl(masker, args.detect, input, out).map(Ok);
    }
    if args.detect {
        // Detection only: the stream's steps, nothing masked (the strategy
        // plays no part).
        let found = masker
            .detect_stream(input, None)
            .map_err(|e| e.to_string())?;
        // Written as the JSON lines' findings are: a `json!` tree a finding
        // cost three times the detection.
        let mut line = Vec::new();
        let findings = found.iter().map(|f| (&f.kind, f.start, f.end, f.score));
        entities_to(&mut line, &mut Vec::new(), findings, b"null");
        return Ok(out.write_all(&line).map(|()| !found.is_empty()));
    }
    if args.json {
        let mut text = Vec::new();
        let report = masker
            .mask_stream_counting(input, &mut text, None, None)
            .map_err(|e| e.to_string())?;
        let findings: usize = report.counts.values().sum();
        let document = serde_json::json!({
            "version": 1,
            "text": String::from_utf8_lossy(&text),
            "counts": report.counts,
            "findings": findings,
        });
        return Ok(writeln!(out, "{document}").map(|()| findings > 0));
    }
    match masker.mask_stream_counting(input, &mut *out, None, None) {
        Ok(report) => Ok(Ok(report.counts.values().any(|&n| n > 0))),
        Err(custodia_mask::Error::Io {
            op: "write",
            source,
            ..
        }) => Ok(Err(source)),
        Err(e) => Err(e.to_string()),
    }
}

fn detector(args: &MaskArgs) -> Result<Detector, String> {
    let regions: Regions = args
        .regions
        .parse()
        .map_err(|e: custodia_mask::Error| format!("--regions: {e}"))?;
    let mut d = Detector::with_regions(regions);
    d.set_min_score(args.min_score)
        .map_err(|e| format!("--min-score: {e}"))?;
    Ok(d)
}

fn build(args: &MaskArgs) -> Result<Masker, String> {
    let strategy: Strategy = args
        .strategy
        .parse()
        .map_err(|e: custodia_mask::Error| format!("--strategy: {e}"))?;
    let mut masker = Masker::new(detector(args)?);
    match strategy {
        Strategy::Tokenize | Strategy::Encrypt => {
            return Err(format!(
                "--strategy {}: needs a vault or keyring the command line cannot keep; use the library",
                strategy.name()
            ));
        }
        Strategy::Pseudonym => {
            let tenant = args.tenant.ok_or("--strategy pseudonym needs --tenant")?;
            // The raw bytes, not `env::var`: its error for a key that is
            // not UTF-8 holds the key in an `OsString` dropped unwiped.
            let key = Zeroizing::new(
                std::env::var_os("CUSTODIA_MASK_KEY")
                    .ok_or("--strategy pseudonym needs the key in CUSTODIA_MASK_KEY")?
                    .into_encoded_bytes(),
            );
            if std::str::from_utf8(&key).is_err() {
                return Err("CUSTODIA_MASK_KEY: the key is not UTF-8".into());
            }
            let key =
                PseudonymKey::new(tenant, &key).map_err(|e| format!("CUSTODIA_MASK_KEY: {e}"))?;
            masker = masker.with_pseudonym_key(key);
        }
        _ => {}
    }
    masker
        .with_policy(MaskPolicy::new(strategy))
        .map_err(|e| e.to_string())
}

/// One input line of `--jsonl`: borrowed where the JSON has no escapes, the
/// id passed through as written.
#[derive(serde::Deserialize)]
struct JsonlLine<'a> {
    #[serde(default, borrow)]
    id: Option<&'a serde_json::value::RawValue>,
    #[serde(borrow)]
    text: std::borrow::Cow<'a, str>,
}

/// Lines read per batch: each batch is split across the cores and written
/// back in input order.
const JSONL_BATCH_BYTES: usize = 4 << 20;

/// What one worker made of its share of a batch: the output of every line up
/// to the first bad one, and that line's error.
#[derive(Default)]
struct JsonlShare {
    out: Vec<u8>,
    found: bool,
    error: Option<String>,
    /// Scores already written and their JSON: a handful of values recur,
    /// and formatting a float costs about 150 instructions.
    scores: Vec<(u32, Vec<u8>)>,
    /// The findings of the line being written, one buffer for the share.
    findings: Vec<custodia_mask::Finding>,
    /// The masked text of the line being written (without `--detect`).
    masked: Vec<u8>,
    /// The text of a line whose string holds escapes, decoded.
    unescaped: Vec<u8>,
    /// The lines read.
    lines: usize,
}

fn jsonl(
    masker: &Masker,
    detect: bool,
    input: Box<dyn Read>,
    out: &mut impl Write,
) -> Result<bool, String> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut input = input;
    // Read in bulk and cut at the last newline: the rest of a line waits in
    // `carry` for the next batch.
    let mut batch: Vec<u8> = Vec::with_capacity(JSONL_BATCH_BYTES + (1 << 16));
    let mut carry: Vec<u8> = Vec::new();
    let mut first_line = 1usize;
    let mut found = false;
    let mut eof = false;
    while !eof {
        batch.clear();
        batch.append(&mut carry);
        loop {
            let filled = batch.len();
            if filled >= JSONL_BATCH_BYTES && memchr::memchr(b'\n', &batch).is_some() {
                break;
            }
            // Into the vector's spare capacity (`read_to_end` retries an
            // interrupted read): `resize` zeroed each MiB before it was
            // read over, 2% of the command's instructions on short tickets.
            let read = Read::take(&mut input, 1 << 20)
                .read_to_end(&mut batch)
                .map_err(|e| format!("reading line {first_line}: {e}"))?;
            debug_assert_eq!(batch.len(), filled + read);
            let last_line = memchr::memrchr(b'\n', &batch).map_or(0, |end| end + 1);
            if (batch.len() - last_line) as u64 > crate::MAX_LINE {
                let number = first_line + memchr::memchr_iter(b'\n', &batch).count();
                return Err(format!("line {number}: {}", crate::line_too_long()));
            }
            if read == 0 {
                eof = true;
                break;
            }
        }
        if !eof && let Some(last) = memchr::memrchr(b'\n', &batch) {
            carry.extend_from_slice(&batch[last + 1..]);
            batch.truncate(last + 1);
        }
        if batch.is_empty() {
            break;
        }
        let parts = split_parts(&batch, workers, first_line);
        let shares: Vec<JsonlShare> = std::thread::scope(|scope| {
            let mut parts = parts.into_iter();
            let first = parts.next();
            let handles: Vec<_> = parts
                .map(|(part, start)| scope.spawn(move || jsonl_share(masker, detect, part, start)))
                .collect();
            let mut shares = Vec::with_capacity(handles.len() + 1);
            if let Some((part, start)) = first {
                shares.push(jsonl_share(masker, detect, part, start));
            }
            for handle in handles {
                shares.push(handle.join().unwrap_or_else(|_| JsonlShare {
                    error: Some("a masking thread panicked".into()),
                    ..JsonlShare::default()
                }));
            }
            shares
        });
        for share in shares {
            found |= share.found;
            first_line += share.lines;
            if let Err(e) = out.write_all(&share.out) {
                if e.kind() == std::io::ErrorKind::BrokenPipe {
                    return Ok(found);
                }
                return Err(format!("writing: {e}"));
            }
            if let Some(error) = share.error {
                return Err(error);
            }
        }
    }
    Ok(found)
}

/// `batch` cut into at most `n` parts of whole lines, about equal in
/// bytes, each with the number of its first line (`first` the batch's).
/// The lines are found as each part is read (see
/// [`custodia_cli::jsonl::plain_line_at`]): here only the parts' cuts and
/// their lines counted (the count is one vector pass, not a search a line).
fn split_parts(batch: &[u8], n: usize, first: usize) -> Vec<(&[u8], usize)> {
    let mut parts = Vec::with_capacity(n);
    let (mut rest, mut line) = (batch, first);
    for left in (1..=n.max(1)).rev() {
        if left == 1 {
            parts.push((rest, line));
            break;
        }
        let middle = rest.len() / left;
        let cut = memchr::memchr(b'\n', &rest[middle..]).map_or(rest.len(), |end| middle + end + 1);
        let (part, tail) = rest.split_at(cut);
        parts.push((part, line));
        line += memchr::memchr_iter(b'\n', part).count();
        rest = tail;
        if rest.is_empty() {
            break;
        }
    }
    parts
}

/// Masks or detects the lines of `part` (numbered from `first`), stopping
/// at the first bad one.
fn jsonl_share(masker: &Masker, detect: bool, part: &[u8], first: usize) -> JsonlShare {
    let mut share = JsonlShare {
        out: Vec::with_capacity(part.len() + 64),
        ..JsonlShare::default()
    };
    let mut rest = part;
    while !rest.is_empty() {
        let n = first + share.lines;
        share.lines += 1;
        match jsonl_line(masker, detect, rest, n, &mut share) {
            Ok(len) => rest = rest.get(len..).unwrap_or_default(),
            Err(error) => {
                share.error = Some(error);
                break;
            }
        }
    }
    share
}

/// Masks or detects the line that opens `rest` (line `n`); its length,
/// newline included.
fn jsonl_line(
    masker: &Masker,
    detect: bool,
    rest: &[u8],
    n: usize,
    share: &mut JsonlShare,
) -> Result<usize, String> {
    let parsed;
    // `text` is UTF-8 (checked on either path).
    let plain = custodia_cli::jsonl::plain_line_at(rest);
    // (A ticket of several lines holds `\n`: its text decoded by the
    // reader too, where `serde_json` cost more than a tenth of the line.)
    let fast = plain.or_else(|| custodia_cli::jsonl::escaped_line_at(rest, &mut share.unescaped));
    let (id, text, len): (&[u8], &[u8], usize) = match fast {
        Some(fast) => fast,
        None => {
            let len = memchr::memchr(b'\n', rest).map_or(rest.len(), |end| end + 1);
            let Some(line) = parse_line(rest.get(..len).unwrap_or_default(), n)? else {
                // Blank in, blank out: output line N stays input line N's.
                share.out.push(b'\n');
                return Ok(len);
            };
            parsed = line;
            let id = parsed.id.map_or("null", |id| id.get());
            (id.as_bytes(), parsed.text.as_bytes(), len)
        }
    };
    // Keys in sorted order, as the output has always been (serde_json's map).
    let out = &mut share.out;
    if detect {
        masker
            .detector()
            .detect_into(text, None, &mut share.findings);
        let findings = &share.findings;
        share.found |= !findings.is_empty();
        let findings = findings.iter().map(|f| (&f.kind, f.start, f.end, f.score));
        entities_to(out, &mut share.scores, findings, id);
    } else {
        // Into the share's buffers, with no report: `Masker::mask` built a
        // report, a string and a findings vector a line, and checked the
        // text's UTF-8 twice more.
        let masked = &mut share.masked;
        masked.clear();
        let replaced = masker
            .mask_into(text, &mut share.findings, masked)
            .map_err(|e| format!("line {n}: {e}"))?;
        share.found |= replaced > 0;
        out.extend_from_slice(b"{\"id\":");
        out.extend_from_slice(id);
        out.extend_from_slice(b",\"text\":");
        masked_to(out, masked);
        out.extend_from_slice(b"}\n");
    }
    Ok(len)
}

/// Line `n` read by `serde_json`; `None` if blank.
fn parse_line(line: &[u8], n: usize) -> Result<Option<JsonlLine<'_>>, String> {
    let whole = std::str::from_utf8(line).map_err(|e| format!("line {n}: not UTF-8: {e}"))?;
    // A line that opens an object is not blank (most: no trim to run).
    if !whole.starts_with('{') && whole.trim().is_empty() {
        return Ok(None);
    }
    serde_json::from_str(whole).map(Some).map_err(|e| {
        if e.is_data() {
            format!(
                "line {n}: expected an object with a string \"text\": {}",
                data_error(&e)
            )
        } else {
            format!("line {n}: not JSON: {e}")
        }
    })
}

/// A data error's reason without the value it quotes: serde writes a
/// mistyped number whole (``invalid type: integer `4111111111111111` ``),
/// and a number in a line to mask may be a card or an account number. A
/// field's name is ours (`text`, `id`) and stays.
fn data_error(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let reason = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(reason, _)| reason);
    let reason = if reason.starts_with("missing field `") || reason.starts_with("duplicate field `")
    {
        reason
    } else {
        reason
            .split(['`', '"', ','])
            .next()
            .unwrap_or_default()
            .trim_end()
    };
    format!("{reason} at line {} column {}", e.line(), e.column())
}

/// Appends `{"entities":[…],"id":ID}` and a newline, each entity
/// `{"end","kind","score","start"}`: keys in sorted order, as the output
/// has always been (`serde_json`'s map), numbers as it writes them.
fn entities_to<'k>(
    out: &mut Vec<u8>,
    scores: &mut Vec<(u32, Vec<u8>)>,
    findings: impl Iterator<Item = (&'k custodia_mask::Kind, usize, usize, f32)>,
    id: &[u8],
) {
    out.extend_from_slice(b"{\"entities\":[");
    // Few copies a finding, each of which checks the capacity: the kind's
    // closing quote, the score and the start's key are one.
    for (i, (kind, start, end, score)) in findings.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"end\":");
        offset_to(out, end);
        // `","score":…,"start":`, closing the kind's string.
        let score = score_piece(scores, score);
        if let custodia_mask::Kind::Custom(name) = kind {
            out.extend_from_slice(b",\"kind\":");
            str_to(out, name);
            out.extend_from_slice(score.get(1..).unwrap_or_default());
        } else {
            // A built-in kind's name is upper-case ASCII and `_`: nothing
            // to escape.
            out.extend_from_slice(b",\"kind\":\"");
            out.extend_from_slice(kind.as_str().as_bytes());
            out.extend_from_slice(score);
        }
        offset_to(out, start);
        out.push(b'}');
    }
    out.extend_from_slice(b"],\"id\":");
    out.extend_from_slice(id);
    out.extend_from_slice(b"}\n");
}

/// Appends the masked text `bytes` as [`str_to`] appends it as a string:
/// printable ASCII (most lines) copied whole. (UTF-8 unless a finding cut
/// a character, which the detector never does; as `Masker::mask` did, such
/// bytes would be written as `from_utf8_lossy` reads them.)
fn masked_to(out: &mut Vec<u8>, bytes: &[u8]) {
    // No early exit: a vector loop.
    let plain = bytes.iter().fold(true, |plain, &b| {
        plain & (0x20..0x80).contains(&b) & (b != b'"') & (b != b'\\')
    });
    if plain {
        out.push(b'"');
        out.extend_from_slice(bytes);
        out.push(b'"');
    } else {
        str_to(out, &String::from_utf8_lossy(bytes));
    }
}

/// Appends `s` as a JSON string, as `serde_json` writes it: runs of bytes
/// that need no escape are copied whole.
fn str_to(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let escape = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
    let needs_escape = if bytes.len() < 32 {
        bytes.iter().any(|&b| escape(b))
    } else {
        // No early exit: a vector loop.
        bytes.iter().fold(false, |any, &b| any | escape(b))
    };
    if needs_escape {
        json_to(out, s);
    } else {
        out.push(b'"');
        out.extend_from_slice(bytes);
        out.push(b'"');
    }
}

/// Appends offset `n` in decimal, as `serde_json` writes it. Below 10^4
/// (a ticket's offsets) its digits are stored four at once, from pairs
/// looked up, and the unused cut off: `serde_json`'s writer and the copy
/// of its digits cost 60 instructions a number.
fn offset_to(out: &mut Vec<u8>, n: usize) {
    if n >= 10_000 {
        return json_to(out, &n);
    }
    let (high, low) = (n / 100, n % 100);
    let digits = match (high, low) {
        (0, 0..10) => 1,
        (0, _) => 2,
        (1..10, _) => 3,
        _ => 4,
    };
    let [a, b] = DIGIT_PAIRS[high];
    let [c, d] = DIGIT_PAIRS[low];
    // The four digits, the first in the lowest byte; the leading zeros
    // shifted out, the unused bytes stored and cut off.
    let padded = u32::from_le_bytes([a, b, c, d]) >> (8 * (4 - digits));
    let start = out.len();
    out.extend_from_slice(&padded.to_le_bytes());
    out.truncate(start + digits);
}

/// `00` to `99`.
const DIGIT_PAIRS: [[u8; 2]; 100] = {
    let mut pairs = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        pairs[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    pairs
};

/// Appends `value` as JSON (a string or a number cannot fail to serialise).
fn json_to(out: &mut Vec<u8>, value: &(impl serde::Serialize + ?Sized)) {
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.extend_from_slice(b"null");
    }
}

/// `","score":S,"start":` for score `s`, with `S` as [`score`] writes it,
/// from `cache` when it was written before. The cache has 256 slots picked
/// by a hash of the bits (a score that finds its slot taken writes over
/// it): a linear search of up to 64 scores cost 40 instructions a finding
/// on ticket lines.
#[inline(always)]
fn score_piece(cache: &mut Vec<(u32, Vec<u8>)>, s: f32) -> &[u8] {
    const SLOTS: usize = 256;
    let bits = s.to_bits();
    if cache.is_empty() {
        cache.resize_with(SLOTS, Default::default);
    }
    // (The top eight bits of a multiplicative hash: below 256.)
    let slot = (bits.wrapping_mul(0x9E37_79B9) >> 24) as usize % SLOTS;
    // (In bounds: the cache holds SLOTS entries and `slot` is below SLOTS.
    // An index, not `get`: a missing slot must not write a finding without
    // its score.)
    let (cached, piece) = &mut cache[slot];
    // (A piece is never empty: an empty slot is unwritten.)
    if *cached != bits || piece.is_empty() {
        *cached = bits;
        piece.clear();
        piece.extend_from_slice(b"\",\"score\":");
        json_to(piece, &score(s));
        piece.extend_from_slice(b",\"start\":");
    }
    piece
}

/// Scores as JSON numbers with three decimals (`0.7`, not `0.699999988`).
fn score(s: f32) -> f64 {
    (f64::from(s) * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::JsonlLine;
    use custodia_cli::jsonl::plain_line;
    use proptest::prelude::*;

    /// Lines in and near the usual shape: objects of zero to three
    /// members whose keys, values, separators and whitespace are drawn
    /// from pieces that are valid, escaped, control, non-ASCII or stray.
    fn line() -> impl Strategy<Value = Vec<u8>> {
        let ws = prop_oneof![
            3 => Just(b"".to_vec()),
            1 => Just(b" ".to_vec()),
            1 => Just(b" \t\r".to_vec()),
            1 => Just(b" \t\r\n".to_vec()),
            1 => Just(b"\x0b".to_vec()),
        ];
        let key = prop_oneof![
            3 => Just(b"\"text\"".to_vec()),
            2 => Just(b"\"id\"".to_vec()),
            1 => Just(b"\"other\"".to_vec()),
            1 => Just(b"\"te\\u0078t\"".to_vec()),
            1 => Just(b"text".to_vec()),
        ];
        let value = prop_oneof![
            3 => Just(b"\"Sarah 021 555 0192\"".to_vec()),
            1 => Just(b"\"a\\\"b\"".to_vec()),
            1 => Just(b"\"\\u00e9\"".to_vec()),
            2 => Just("\"Māori é\"".as_bytes().to_vec()),
            1 => Just(b"\"\x01\"".to_vec()),
            1 => Just(b"\"\xff\"".to_vec()),
            1 => Just(b"\"\x7f/\"".to_vec()),
            1 => Just(b"\"unclosed".to_vec()),
            1 => Just(b"12".to_vec()),
            1 => Just(b"null".to_vec()),
            // Longer strings, across the reader's eight-byte steps.
            3 => proptest::collection::vec(
                prop_oneof![
                    12 => Just(b"ab cd, 0192".to_vec()),
                    2 => Just("é".as_bytes().to_vec()),
                    1 => Just(b"\\\"".to_vec()),
                    1 => Just(b"\"".to_vec()),
                    1 => Just(b"\\".to_vec()),
                    1 => Just(b"\x01".to_vec()),
                    1 => Just(b"\xc3".to_vec()),
                    1 => Just(b"\x7f".to_vec()),
                ],
                0..6,
            )
            .prop_map(|pieces| [b"\"".to_vec(), pieces.concat(), b"\"".to_vec()].concat()),
        ];
        let member = (ws.clone(), key, ws.clone(), ws.clone(), value, ws.clone())
            .prop_map(|(a, k, b, c, v, d)| [a, k, b, b":".to_vec(), c, v, d].concat());
        let separator = prop_oneof![4 => Just(b",".to_vec()), 1 => Just(b",,".to_vec()), 1 => Just(b"".to_vec())];
        let tail = prop_oneof![
            4 => Just(b"".to_vec()),
            1 => Just(b" x".to_vec()),
            1 => Just(b"}".to_vec()),
            1 => proptest::collection::vec(any::<u8>(), 1..3),
        ];
        (
            ws.clone(),
            proptest::collection::vec((member, separator), 0..4),
            prop_oneof![4 => Just(b"}".to_vec()), 1 => Just(b"".to_vec())],
            ws,
            tail,
        )
            .prop_map(|(lead, members, close, ws, tail)| {
                let mut line = lead;
                line.push(b'{');
                let last = members.len().saturating_sub(1);
                for (i, (member, separator)) in members.into_iter().enumerate() {
                    line.extend(member);
                    if i < last {
                        line.extend(separator);
                    }
                }
                [line, close, ws, tail].concat()
            })
    }

    proptest! {
        #[test]
        fn offsets_are_written_as_serde_json_writes_them(
            n in prop_oneof![3 => 0usize..20_000, 1 => any::<usize>()],
        ) {
            let mut out = b"x".to_vec();
            super::offset_to(&mut out, n);
            prop_assert_eq!(String::from_utf8_lossy(&out), format!("x{n}"));
        }
    }

    proptest! {
        /// The masked text's bytes are written as `Masker::mask`'s string
        /// was: whole when printable ASCII, else read as `from_utf8_lossy`
        /// reads them and escaped as `serde_json` escapes a string.
        #[test]
        fn masked_text_is_written_as_its_string_was(
            bytes in prop_oneof![
                2 => proptest::collection::vec(0x20u8..0x80, 0..80),
                1 => proptest::collection::vec(any::<u8>(), 0..80),
                1 => ".{0,40}".prop_map(String::into_bytes),
            ],
        ) {
            let mut fast = b"x".to_vec();
            super::masked_to(&mut fast, &bytes);
            let mut want = b"x".to_vec();
            serde_json::to_writer(&mut want, &String::from_utf8_lossy(&bytes))
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(fast, want);
        }
    }

    #[test]
    fn edge_offsets_are_written_whole() {
        for n in [
            0,
            9,
            10,
            99,
            100,
            101,
            999,
            1000,
            1001,
            9999,
            10_000,
            usize::MAX,
        ] {
            let mut out = Vec::new();
            super::offset_to(&mut out, n);
            assert_eq!(out, n.to_string().into_bytes());
        }
    }

    proptest! {
        /// What the fast path takes, `serde_json` reads the same way.
        #[test]
        fn the_fast_path_agrees_with_serde_json(line in line()) {
            let taken = plain_line(&line);
            if let Ok(whole) = std::str::from_utf8(&line)
                && serde_json::from_str::<JsonlLine<'_>>(whole).is_ok()
                && let Ok(serde_json::Value::Object(members)) = serde_json::from_str(whole)
                && members.values().all(serde_json::Value::is_string)
                && !whole.contains('\\')
                && !whole.contains("other")
                && !whole.contains(|c: char| c < ' ' && !" \t\r\n".contains(c))
                && whole.matches("\"id\"").count() < 2
                && !line[..line.len().saturating_sub(1)].contains(&b'\n')
            {
                // String values without escapes, known keys once each, no
                // newline but a last one: the fast path takes it.
                prop_assert!(taken.is_some(), "{whole:?}");
            }
            if let Some((id, text)) = taken {
                let Ok(whole) = std::str::from_utf8(&line) else {
                    return Err(TestCaseError::fail(format!("taken, not UTF-8: {line:?}")));
                };
                let Ok(parsed) = serde_json::from_str::<JsonlLine<'_>>(whole) else {
                    return Err(TestCaseError::fail(format!("taken, not JSON: {whole:?}")));
                };
                prop_assert_eq!(parsed.id.map_or("null", |id| id.get()).as_bytes(), id);
                prop_assert_eq!(parsed.text.as_bytes(), text);
            }
        }

        /// Read where more lines follow, a line is taken as it is alone,
        /// and found to end at its newline.
        #[test]
        fn a_line_is_read_as_alone(lines in proptest::collection::vec(line(), 1..4), last_newline: bool) {
            let mut input = lines.join(&b'\n');
            if last_newline {
                input.push(b'\n');
            }
            let mut rest = &input[..];
            while !rest.is_empty() {
                let len = memchr::memchr(b'\n', rest).map_or(rest.len(), |end| end + 1);
                let line = &rest[..len];
                let alone = plain_line(line).map(|(id, text)| (id, text, len));
                prop_assert_eq!(custodia_cli::jsonl::plain_line_at(rest), alone);
                rest = &rest[len..];
            }
        }

    }
}
