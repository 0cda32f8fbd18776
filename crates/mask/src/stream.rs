//! Streaming: mask any `Read` into any `Write` in bounded memory, or only
//! find what masking it would mask ([`Masker::detect_stream`]), in the same
//! steps.

use std::io::{ErrorKind, Read, Write};

use std::borrow::Cow;

use crate::operator::{TOKEN_MAX, in_order};
use crate::scan::{Pem, pem_body};
use crate::{Error, Finding, Kind, KnownEntities, Masker, Report, TokenVault};

/// Bytes read per step.
pub const CHUNK: usize = 64 * 1024;
/// Bytes held back at the end of each step so a match that straddles the
/// step's end is seen whole in the next one.
pub const OVERLAP: usize = 4 * 1024;
/// The most bytes held back for one finding that is still open at the end
/// of the buffer (a private-key block whose `-----END` line has not arrived,
/// or any match longer than [`OVERLAP`]). Within the cap the masker reads on
/// until the finding is whole; past it, the held span is masked as it
/// stands and, for a key block, everything after it is masked too until
/// its end line (or the first byte that is no key material, or the end of
/// input). No part of a secret is ever written out in clear.
pub const HOLD_CAP: usize = 64 * 1024;
/// Bytes of output kept from one step to the next: as many as the longest
/// token, so that the start of a token's shape at the end of one step is
/// seen when the next step's output would complete it (see [`TokenVault`]).
const TAIL: usize = TOKEN_MAX;
/// Already-written bytes kept in front of the next step so context words
/// still count.
const CONTEXT: usize = 96;

impl Masker {
    /// Masks `input` into `output` in at most about `CHUNK + OVERLAP`
    /// bytes of buffer (`CHUNK + HOLD_CAP` while a long finding such as a
    /// private-key block is held back whole; see [`HOLD_CAP`]). Offsets in the report are global. Invalid UTF-8 is
    /// copied through unchanged (it is never part of a finding).
    pub fn mask_stream<R: Read, W: Write>(
        &self,
        input: R,
        output: W,
        known: Option<&KnownEntities>,
        vault: Option<&mut TokenVault>,
    ) -> Result<Report, Error> {
        self.stream(input, output, known, vault, true)
    }

    /// Like [`Masker::mask_stream`], but the report keeps only the counts
    /// per kind (no entries), so memory stays bounded however many findings
    /// a huge input holds.
    pub fn mask_stream_counting<R: Read, W: Write>(
        &self,
        input: R,
        output: W,
        known: Option<&KnownEntities>,
        vault: Option<&mut TokenVault>,
    ) -> Result<Report, Error> {
        self.stream(input, output, known, vault, false)
    }

    /// Finds what [`Masker::mask_stream`] acts on in `input` (what it would
    /// replace, and what its policy keeps: organisations unless named),
    /// without masking or writing anything: the findings, in order, with byte
    /// offsets over the whole input (the spans of `mask_stream`'s report
    /// entries). The input is read in the same steps, with the same overlap
    /// and holding back of long findings, so a value across a step's end is
    /// found exactly as when masking; memory is bounded as there, plus the
    /// findings.
    ///
    /// ```
    /// use custodia_mask::{Detector, Masker};
    /// let masker = Masker::new(Detector::new());
    /// let found = masker.detect_stream(&b"mail jane@example.com"[..], None)?;
    /// assert_eq!((found[0].kind.as_str(), found[0].start, found[0].end), ("EMAIL", 5, 21));
    /// # Ok::<(), custodia_mask::Error>(())
    /// ```
    pub fn detect_stream<R: Read>(
        &self,
        input: R,
        known: Option<&KnownEntities>,
    ) -> Result<Vec<Finding>, Error> {
        custodia_core::op_span!(
            DEBUG,
            "custodia.mask.detect_stream",
            bytes = tracing::field::Empty,
            findings = tracing::field::Empty
        );
        let mut found = Vec::new();
        #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
        let read = self.steps(input, known, |bytes, findings, in_off| {
            let shift = |f: &Finding| Finding {
                start: f.start + in_off,
                end: f.end + in_off,
                ..f.clone()
            };
            if in_order(findings, bytes.len()) {
                found.extend(findings.iter().map(shift));
            } else {
                // (Never so in a stream; joined as masking would join them.)
                let joined = self.merge(findings, bytes.len());
                found.extend(joined.iter().map(|(f, _)| shift(f)));
            }
            Ok(())
        })?;
        custodia_core::op_record!(bytes = read, findings = found.len());
        Ok(found)
    }

    fn stream<R: Read, W: Write>(
        &self,
        input: R,
        mut output: W,
        known: Option<&KnownEntities>,
        mut vault: Option<&mut TokenVault>,
        keep_entries: bool,
    ) -> Result<Report, Error> {
        custodia_core::op_span!(
            DEBUG,
            "custodia.mask.stream",
            bytes = tracing::field::Empty,
            findings = tracing::field::Empty
        );
        let mut report = Report::default();
        let mut out_off = 0usize; // bytes written so far
        let mut out = Vec::with_capacity(CHUNK + OVERLAP);
        let in_off = self.steps(input, known, |bytes, findings, in_off| {
            // The end of the last step's output stays in front, so text that
            // joins across steps into a token's shape is seen (see
            // `TokenVault`); only what follows it is written.
            let tail = out.len().saturating_sub(TAIL);
            out.drain(..tail);
            let written = out.len();
            self.apply_bytes(
                bytes,
                findings,
                vault.as_deref_mut(),
                &mut out,
                Some(&mut report),
                in_off,
                out_off,
            )?;
            output
                .write_all(&out[written..])
                .map_err(|source| Error::Io {
                    op: "write",
                    offset: in_off as u64,
                    source,
                })?;
            out_off += out.len() - written;
            if !keep_entries {
                report.entries.clear();
            }
            Ok(())
        })?;
        output.flush().map_err(|source| Error::Io {
            op: "write",
            offset: in_off as u64,
            source,
        })?;
        custodia_core::op_record!(bytes = in_off, findings = report.total());
        Ok(report)
    }

    /// Reads `input` in steps and hands each step's bytes to `step` with
    /// its findings (offsets in those bytes) and the bytes' offset in the
    /// input; every input byte is in exactly one step, in order. Returns
    /// the input's length.
    fn steps<R: Read>(
        &self,
        mut input: R,
        known: Option<&KnownEntities>,
        mut step: impl FnMut(&[u8], &[Finding], usize) -> Result<(), Error>,
    ) -> Result<usize, Error> {
        let mut buf: Vec<u8> = Vec::with_capacity(CONTEXT + CHUNK + OVERLAP);
        let mut ctx_len = 0usize; // bytes of buf already written (context only)
        let mut in_off = 0usize; // global input offset of buf[ctx_len]
        let mut read_buf = vec![0u8; CHUNK];
        let mut eof = false;
        // Bytes to have after the context before detecting (grows while a
        // long finding is held back).
        let mut target = CHUNK + OVERLAP;
        // The previous step ended inside a key block past the cap.
        let mut in_key = false;
        while !eof || buf.len() > ctx_len {
            // Fill.
            while !eof && buf.len() - ctx_len < target {
                match input.read(&mut read_buf) {
                    Ok(0) => eof = true,
                    Ok(n) => buf.extend_from_slice(&read_buf[..n]),
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(source) => {
                        return Err(Error::Io {
                            op: "read",
                            offset: (in_off + buf.len() - ctx_len) as u64,
                            source,
                        });
                    }
                }
            }
            let mut findings = self.detector().detect_bytes(&buf, known);
            findings.retain(|f| f.start >= ctx_len);
            if in_key {
                // The rest of a key block cut at the cap: mask it up to its
                // end line (or what is no key material).
                let (e, state) = pem_body(&buf, ctx_len);
                let e = if state == Pem::Open { buf.len() } else { e };
                in_key = state == Pem::Open && !eof;
                if e > ctx_len {
                    findings.retain(|f| f.start >= e);
                    findings.insert(
                        0,
                        Finding {
                            kind: Kind::Secret,
                            start: ctx_len,
                            end: e,
                            score: 0.95,
                            recognizer: Cow::Borrowed("private_key_block_unterminated"),
                        },
                    );
                }
            }
            let mut cut = if eof {
                buf.len()
            } else {
                choose_cut(
                    &buf,
                    ctx_len,
                    buf.len().saturating_sub(OVERLAP).max(ctx_len),
                )
            };
            for f in &findings {
                if f.start < cut && f.end > cut {
                    cut = f.start;
                }
            }
            if cut == ctx_len && !eof && buf.len() > ctx_len {
                // A finding from the buffer's start runs past the cut point.
                if buf.len() - ctx_len < HOLD_CAP {
                    target = buf.len() - ctx_len + CHUNK;
                    continue;
                }
                // Over the cap: mask the whole held finding as it stands.
                for f in &findings {
                    if f.start == ctx_len {
                        cut = cut.max(f.end);
                        if f.end == buf.len() && f.recognizer.starts_with("private_key_block") {
                            in_key = true;
                        }
                    }
                }
                if cut == ctx_len {
                    cut = choose_cut(&buf, ctx_len, buf.len() - OVERLAP);
                }
            }
            target = CHUNK + OVERLAP;
            findings.retain(|f| f.end <= cut);
            for f in &mut findings {
                f.start -= ctx_len;
                f.end -= ctx_len;
            }
            step(&buf[ctx_len..cut], &findings, in_off)?;
            in_off += cut - ctx_len;
            // Keep a little written context, then the unprocessed rest.
            let keep_from = cut.saturating_sub(CONTEXT);
            buf.drain(..keep_from);
            ctx_len = cut - keep_from;
            if eof && buf.len() == ctx_len {
                break;
            }
        }
        Ok(in_off)
    }
}

/// A cut point at or before `want` (and after `lo`) that does not split a
/// token: a newline, or a space between two non-digits.
fn choose_cut(b: &[u8], lo: usize, want: usize) -> usize {
    let floor = want.saturating_sub(OVERLAP / 2).max(lo + 1);
    let mut i = want;
    while i > floor {
        if b[i - 1] == b'\n' {
            return i;
        }
        i -= 1;
    }
    i = want;
    while i > floor {
        let c = b[i - 1];
        if c == b' ' || c == b'\t' {
            let prev = if i >= 2 { b[i - 2] } else { b' ' };
            let next = b.get(i).copied().unwrap_or(b' ');
            if !prev.is_ascii_digit()
                && !next.is_ascii_digit()
                && !matches!(next, b'+' | b'(')
                && prev != b':'
                && prev != b'='
            {
                return i;
            }
        }
        i -= 1;
    }
    want.max(lo + 1)
}
