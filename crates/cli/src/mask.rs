//! `custodia mask`: mask or detect personal data in text or JSON lines.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};

use clap::Args;
use custodia_core::TenantId;
use custodia_mask::{Detector, Masker, Policy, PseudonymKey, Regions, Strategy};

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
/// result is the outcome of writing. Exits 1 itself after `--detect` finds
/// something.
pub fn run(args: &MaskArgs, out: &mut impl Write) -> Result<std::io::Result<()>, String> {
    let masker = build(args)?;
    let input: Box<dyn Read> = if args.input == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(File::open(&args.input).map_err(|e| format!("cannot open {}: {e}", args.input))?)
    };
    let found = if args.jsonl {
        jsonl(&masker, args.detect, input, out)?
    } else if args.detect {
        let keep = Masker::new(detector(args)?);
        let report = keep
            .mask_stream(input, std::io::sink(), None, None)
            .map_err(|e| e.to_string())?;
        let entities: Vec<_> = report.entries.iter().map(|e| serde_json::json!({"kind": e.kind, "start": e.start, "end": e.end, "score": score(e.score)})).collect();
        let line = serde_json::json!({"id": null, "entities": entities});
        if let Err(e) = writeln!(out, "{line}") {
            return Ok(Err(e));
        }
        !entities.is_empty()
    } else {
        match masker.mask_stream_counting(input, &mut *out, None, None) {
            Ok(_) => false,
            Err(custodia_mask::Error::Io {
                op: "write",
                source,
                ..
            }) => return Ok(Err(source)),
            Err(e) => return Err(e.to_string()),
        }
    };
    if let Err(e) = out.flush() {
        return Ok(Err(e));
    }
    if found && args.detect {
        std::process::exit(1);
    }
    Ok(Ok(()))
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
        .with_policy(Policy::new(strategy))
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
