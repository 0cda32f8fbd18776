//! Streaming: mask any `Read` into any `Write` in bounded memory.

use std::io::{ErrorKind, Read, Write};

use crate::{Error, KnownEntities, Masker, Report, Vault};

/// Bytes read per step.
pub const CHUNK: usize = 64 * 1024;
/// Bytes held back at the end of each step so a match that straddles the
/// step's end is seen whole in the next one. Entities longer than this (only
/// huge private-key blocks) may be cut.
pub const OVERLAP: usize = 4 * 1024;
/// Already-written bytes kept in front of the next step so context words
/// still count.
const CONTEXT: usize = 96;

impl Masker {
    /// Masks `input` into `output` in at most about `CHUNK + OVERLAP`
    /// bytes of buffer. Offsets in the report are global. Invalid UTF-8 is
    /// copied through unchanged (it is never part of a finding).
    pub fn mask_stream<R: Read, W: Write>(
        &self,
        input: R,
        output: W,
        known: Option<&KnownEntities>,
        vault: Option<&mut Vault>,
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
        vault: Option<&mut Vault>,
    ) -> Result<Report, Error> {
        self.stream(input, output, known, vault, false)
    }

    fn stream<R: Read, W: Write>(
        &self,
        mut input: R,
        mut output: W,
        known: Option<&KnownEntities>,
        mut vault: Option<&mut Vault>,
        keep_entries: bool,
    ) -> Result<Report, Error> {
        let mut report = Report::default();
        let mut buf: Vec<u8> = Vec::with_capacity(CONTEXT + CHUNK + OVERLAP);
        let mut ctx_len = 0usize; // bytes of buf already written (context only)
        let mut in_off = 0usize; // global input offset of buf[ctx_len]
        let mut out_off = 0usize; // bytes written so far
        let mut read_buf = vec![0u8; CHUNK];
        let mut eof = false;
        let mut out = Vec::with_capacity(CHUNK + OVERLAP);
        while !eof || buf.len() > ctx_len {
            // Fill.
            while !eof && buf.len() - ctx_len < CHUNK + OVERLAP {
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
            let mut cut = if eof {
                buf.len()
            } else {
                choose_cut(&buf, ctx_len, buf.len() - OVERLAP)
            };
            for f in &findings {
                if f.start < cut && f.end > cut {
                    cut = f.start;
                }
            }
            findings.retain(|f| f.end <= cut);
            for f in &mut findings {
                f.start -= ctx_len;
                f.end -= ctx_len;
            }
            out.clear();
            self.apply_bytes(
                &buf[ctx_len..cut],
                &findings,
                vault.as_deref_mut(),
                &mut out,
                &mut report,
                in_off,
                out_off,
            )?;
            output.write_all(&out).map_err(|source| Error::Io {
                op: "write",
                offset: in_off as u64,
                source,
            })?;
            out_off += out.len();
            if !keep_entries {
                report.entries.clear();
            }
            in_off += cut - ctx_len;
            // Keep a little written context, then the unprocessed rest.
            let keep_from = cut.saturating_sub(CONTEXT);
            buf.drain(..keep_from);
            ctx_len = cut - keep_from;
            if eof && buf.len() == ctx_len {
                break;
            }
        }
        output.flush().map_err(|source| Error::Io {
            op: "write",
            offset: in_off as u64,
            source,
        })?;
        Ok(report)
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
