//! `custodia mask`: mask or detect personal data in text or JSON lines.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};

use clap::Args;
use custodia_core::TenantId;
use custodia_mask::{Detector, MaskPolicy, Masker, PseudonymKey, Regions, Strategy};

/// Exit codes of `custodia mask`, for its `--help`.
pub const EXIT_CODES: &str =
    "Exit codes: 0 ok; 1 personal data found with --detect or --fail-on-find \
(after all output is written); 2 usage or input error (reason on stderr; never JSON).

JSON: --detect writes JSON lines {\"id\",\"entities\":[{\"kind\",\"start\",\"end\",\"score\"}]}; \
--jsonl writes JSON lines {\"id\",\"text\"}; --json on text writes one document \
{\"version\":1,\"text\",\"counts\":{KIND:n},\"findings\":n}.";

/// Arguments of `custodia mask`.
#[derive(Debug, Args)]
pub struct MaskArgs {
    /// Input file, or `-` for standard input.
    #[arg(default_value = "-")]
    input: String,
    /// Each input line is `{"id"?, "text"}`; each output line `{"id", "text"}`.
    #[arg(long)]
    jsonl: bool,
    /// Emit findings `{"id", "entities":[{"kind","start","end","score"}]}`
    /// (UTF-8 byte offsets) instead of masked text; exit 1 if any.
    #[arg(long)]
    detect: bool,
    /// Exit 1 if any personal data was found, after writing the masked
    /// output (for CI gates: "nothing personal may pass unmasked").
    #[arg(long)]
    fail_on_find: bool,
    /// Text input: print one JSON document
    /// {"version":1,"text","counts":{KIND:n},"findings":n} instead of the
    /// masked text (the masked text is held in memory). With --jsonl or
    /// --detect the output is already JSON lines and --json changes nothing.
    #[arg(long)]
    json: bool,
    /// redact, partial, pseudonym (needs --tenant and CUSTODIA_MASK_KEY), keep, or replace:TEXT.
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
/// `--fail-on-find` finds something.
pub fn run(args: &MaskArgs, out: &mut impl Write) -> Result<std::io::Result<()>, String> {
    let masker = build(args)?;
    let progress = crate::input_progress(std::path::Path::new(&args.input));
    let input: Box<dyn Read> = if args.input == "-" {
        Box::new(progress.wrap_read(std::io::stdin().lock()))
    } else {
        let file =
            File::open(&args.input).map_err(|e| format!("cannot open {}: {e}", args.input))?;
        Box::new(progress.wrap_read(file))
    };
    let outcome = mask_input(args, &masker, input, out);
    progress.finish_and_clear();
    let found = match outcome? {
        Ok(found) => found,
        Err(e) => return Ok(Err(e)),
    };
    if let Err(e) = out.flush() {
        return Ok(Err(e));
    }
    if found && (args.detect || args.fail_on_find) {
        if args.fail_on_find && !args.detect {
            eprintln!("custodia: personal data found (--fail-on-find)");
        }
        std::process::exit(1);
    }
    Ok(Ok(()))
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
        let keep = Masker::new(detector(args)?);
        let report = keep
            .mask_stream(input, std::io::sink(), None, None)
            .map_err(|e| e.to_string())?;
        let entities: Vec<_> = report.entries.iter().map(|e| serde_json::json!({"kind": e.kind, "start": e.start, "end": e.end, "score": score(e.score)})).collect();
        let line = serde_json::json!({"id": null, "entities": entities});
        return Ok(writeln!(out, "{line}").map(|()| !entities.is_empty()));
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
            let key = std::env::var("CUSTODIA_MASK_KEY")
                .map_err(|_| "--strategy pseudonym needs the key in CUSTODIA_MASK_KEY")?;
            let key = PseudonymKey::new(tenant, key.as_bytes())
                .map_err(|e| format!("CUSTODIA_MASK_KEY: {e}"))?;
            masker = masker.with_pseudonym_key(key);
        }
        _ => {}
    }
    masker
        .with_policy(MaskPolicy::new(strategy))
        .map_err(|e| e.to_string())
}

fn jsonl(
    masker: &Masker,
    detect: bool,
    input: Box<dyn Read>,
    out: &mut impl Write,
) -> Result<bool, String> {
    let mut reader = BufReader::new(input);
    let mut line = Vec::new();
    let mut found = false;
    let mut n = 0usize;
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("reading line {}: {e}", n + 1))?;
        if read == 0 {
            break;
        }
        n += 1;
        let text = std::str::from_utf8(&line).map_err(|e| format!("line {n}: not UTF-8: {e}"))?;
        if text.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("line {n}: not JSON: {e}"))?;
        let id = v.get("id").cloned().unwrap_or(serde_json::Value::Null);
        let body = v
            .get("text")
            .and_then(|t| t.as_str())
            .ok_or_else(|| format!("line {n}: expected an object with a string \"text\""))?;
        let outline = if detect {
            let f = masker.detector().detect(body);
            found |= !f.is_empty();
            let entities: Vec<_> = f.iter().map(|e| serde_json::json!({"kind": e.kind, "start": e.start, "end": e.end, "score": score(e.score)})).collect();
            serde_json::json!({"id": id, "entities": entities})
        } else {
            let m = masker.mask(body).map_err(|e| format!("line {n}: {e}"))?;
            found |= m.report.counts.values().any(|&count| count > 0);
            serde_json::json!({"id": id, "text": m.text})
        };
        if let Err(e) = writeln!(out, "{outline}") {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(found);
            }
            return Err(format!("writing: {e}"));
        }
    }
    Ok(found)
}

/// Scores as JSON numbers with three decimals (`0.7`, not `0.699999988`).
fn score(s: f32) -> f64 {
    (f64::from(s) * 1000.0).round() / 1000.0
}
