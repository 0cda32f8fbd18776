//! The segment-file store: the embedded default.
//!
//! A log is a directory of segment files `00000000.seg`, `00000001.seg`, …
//! numbered from 0 with no gaps. Other files in the directory (checkpoints,
//! keys, the `recovered/` directory of [`SegmentStore::recover`]) are ignored.
//!
//! # Format, version 2
//!
//! Every integer is big-endian. A segment starts with a 76-byte header:
//!
//! | bytes | field |
//! |---|---|
//! | 8 | magic `CSTAUDSG` |
//! | 2 | format version, `2` (`1` in segments written before it) |
//! | 2 | reserved, `0` |
//! | 4 | segment number (equals the file name) |
//! | 16 | log id (random, the same in every segment of one log) |
//! | 8 | index of the segment's first record |
//! | 32 | anchor: the RFC 6962 root of all records before this segment |
//! | 4 | CRC-32 (IEEE) of the 72 bytes above |
//!
//! followed by records, each
//!
//! | bytes | field |
//! |---|---|
//! | 4 | payload length |
//! | 8 | record index |
//! | 4 | header checksum: CRC-32 of the 12 bytes above |
//! | length | payload (a canonical event, see [`crate::canonical`]) |
//! | 4 | CRC-32 of everything above (length, index, header checksum, payload) |
//!
//! A record is at most [`MAX_RECORD_LEN`] bytes of payload. A new segment
//! starts when the current one would grow past
//! [`SegmentOptions::max_segment_bytes`].
//!
//! **Version 1** (read, verified and recovered, never written) has no header
//! checksum: a record is length, index, payload and a CRC-32 of those
//! ([`RECORD_OVERHEAD_V1`] bytes of framing). The header checksum of version 2
//! exists so that a damaged length is recognised as damage straight away
//! instead of being taken for a record a crash cut short. A writer that opens
//! a log whose last segment is version 1 starts a new (version 2) segment
//! before its first append; the old segments stay as they are.
//!
//! # Crashes and tampering
//!
//! A writer's append is one `write` of whole framed records at the end of the
//! last segment. A crash can therefore cut short **one record**: the one the
//! write was in the middle of when the disk stopped taking bytes. Records
//! before it that reached the disk complete are complete and valid and are
//! kept, acknowledged or not. This holds for group commit too
//! ([`Durability::Group`]): the records of an unacknowledged batch that are
//! complete on disk stay, only the one record cut short is a torn tail. (If a
//! file system persisted a *later* part of an unacknowledged batch but not an
//! earlier one, more than one record is damaged: that is refused like damage,
//! see below, and is for an operator to recover.)
//!
//! So, on [`SegmentStore::open`], the bytes after the last complete record of
//! the *last* segment are a **torn tail** — truncated away, since that record
//! was never acknowledged as durable — only when they can be the prefix of
//! one record and no more:
//!
//! * fewer bytes than a record header (16 bytes; 12 in version 1), or
//! * a record header with a valid header checksum (version 1: any length up
//!   to [`MAX_RECORD_LEN`]) and the expected index, whose record runs past the
//!   end of the file, or
//! * zero bytes after the first record header's worth (a record whose data
//!   never reached the disk), no more of them than the largest complete
//!   record of the segment,
//!
//! **and** no complete record with valid checksums and an index from the
//! expected one on starts anywhere after the start of the tail: finding one
//! means records after a damaged one are intact, so the damage is not a
//! crash. A torn tail therefore never holds a complete valid record, and is
//! never longer than [`MAX_TORN_BYTES`]. A segment header cut short (fewer
//! than 76 bytes, a prefix of a header or zeros) in the last segment is a
//! crash while the segment was being created, and the file is removed.
//!
//! Anything else is reported as [`Error::Tampered`] naming the file, the byte
//! offset and the record, and never repaired by opening: a complete record
//! with a bad checksum, a damaged record header, a record index out of
//! sequence (a deleted or reordered record), bytes after the last record that
//! are longer than a torn record could be, a segment that ends inside a record
//! while later segments exist, a missing or foreign segment (wrong number, log
//! id or first index). [`SegmentStore::open_read_only`] repairs nothing and
//! reports a torn tail through [`SegmentStore::torn_tail`].
//!
//! Removing damage is the operator's explicit decision:
//! [`SegmentStore::recover`] (the `custodia audit recover` command) cuts the
//! log at the first damaged record, after copying every byte it removes and a
//! note saying what and why into a new directory under `recovered/` beside
//! the segments. A writer given a trusted checkpoint's size
//! ([`SegmentStore::open_at_least`]) refuses to open a log that holds fewer
//! records, before it truncates anything.
//!
//! A writer checks every record when it opens. A reader checks every segment
//! header and the whole last segment when it opens, and each other segment's
//! records when it first reads that segment, against the record count the
//! next segment's header implies: so verifying ([`crate::verify`], which
//! reads everything) reads and checksums each segment once, and reports the
//! same findings a writer's open would.
//!
//! Checksums catch accidents and clumsy edits; a forger who recomputes them is
//! caught by the Merkle tree: each segment's anchor must match the recomputed
//! root, and a signed checkpoint must match the log (see [`AuditLog`](crate::AuditLog)).
//!
//! # One writer
//!
//! [`SegmentStore::open`] takes an exclusive lock on the file [`LOCK_FILE`] in
//! the directory (created if missing, never deleted; an advisory OS lock via
//! [`File::try_lock`], released when the store is dropped or the process
//! exits, so a crash leaves no stale lock). A second writer, in this process
//! or another, gets [`Error::Locked`] after waiting up to [`LOCK_WAIT`]
//! (half a second) for the lock: a program that closes its log and forks a
//! child at the same moment can hold the lock a little longer than the
//! store, until the child's `exec` closes the shared descriptor. Readers ([`SegmentStore::open_read_only`],
//! so [`crate::verify`]) take no lock and may run beside the writer.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ring::rand::{SecureRandom, SystemRandom};

use super::{Anchor, AuditStore, RunVisitor, Visitor};
use crate::Error;
use crate::error::io;
use crate::merkle::{EMPTY_ROOT, Hash, MerkleTree, TreeHead};

/// The lock file a writer holds in the segment directory.
pub const LOCK_FILE: &str = "LOCK";

/// Magic bytes of a segment file.
pub const SEGMENT_MAGIC: &[u8; 8] = b"CSTAUDSG";
/// Segment format version this build writes.
pub const SEGMENT_VERSION: u16 = 2;
/// The oldest segment format version this build reads.
pub const SEGMENT_VERSION_V1: u16 = 1;
/// Length of a segment header.
pub const HEADER_LEN: usize = 76;
/// Length of a record header (length, index, header checksum).
pub const RECORD_HEADER_LEN: usize = 16;
/// Bytes a record adds to its payload (record header, checksum).
pub const RECORD_OVERHEAD: usize = 20;
/// Bytes a version 1 record adds to its payload (length, index, checksum).
pub const RECORD_OVERHEAD_V1: usize = 16;
/// The largest record payload.
pub const MAX_RECORD_LEN: usize = 16 << 20;
/// The most bytes a torn tail can hold (less than one largest record), and
/// so the most a writer's open ever truncates.
pub const MAX_TORN_BYTES: u64 = (MAX_RECORD_LEN + RECORD_OVERHEAD) as u64;

/// Record header length in segment format `version`.
const fn record_header_len(version: u16) -> usize {
    if version == SEGMENT_VERSION_V1 {
        12
    } else {
        RECORD_HEADER_LEN
    }
}

/// Record framing bytes in segment format `version`.
pub const fn record_overhead(version: u16) -> usize {
    if version == SEGMENT_VERSION_V1 {
        RECORD_OVERHEAD_V1
    } else {
        RECORD_OVERHEAD
    }
}

/// When appended records reach the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `fdatasync` before every append call returns: nothing acknowledged is
    /// ever lost, at the price of one disk flush per call.
    EveryAppend,
    /// Group commit: `fdatasync` once at least `records` records are waiting
    /// (and on [`AuditStore::sync`] and drop). A crash loses at most the records
    /// appended since the last flush; an append of a batch of at least
    /// `records` records is durable when it returns.
    Group {
        /// How many records to gather per flush.
        records: usize,
    },
    /// Never flush explicitly; the OS writes back when it likes. For tests
    /// and bulk imports that are re-runnable.
    Never,
}

/// How a [`SegmentStore`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentOptions {
    /// When records reach the disk.
    pub durability: Durability,
    /// Start a new segment when the current one would exceed this size.
    pub max_segment_bytes: u64,
}

impl Default for SegmentOptions {
    /// Group commit of 1,000 records, 64 MiB segments.
    fn default() -> Self {
        Self {
            durability: Durability::Group { records: 1000 },
            max_segment_bytes: 64 << 20,
        }
    }
}

#[derive(Debug, Clone)]
struct Segment {
    /// Format version (records are framed per version).
    version: u16,
    number: u32,
    path: PathBuf,
    first: u64,
    anchor: Hash,
    /// How many records. For a segment not parsed yet, what the next
    /// segment's header implies; checked when the segment is parsed.
    count: u64,
    /// Record offsets within the file, once the segment has been parsed: at
    /// open for a writer and for the last segment, on first use otherwise
    /// (so verifying a read-only store reads each segment once).
    offsets: OnceLock<Vec<u64>>,
    /// Bytes of header and complete records (once parsed).
    len: u64,
}

/// How [`SegmentStore::load`] reads a log.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// A writer: check everything, refuse fewer records than `min_records`,
    /// truncate a torn tail.
    Write { min_records: u64 },
    /// A reader: check headers and the last segment, the rest when read;
    /// change nothing.
    Read,
    /// Recovery: check everything, change nothing.
    Inspect,
}

/// A torn final record found by [`SegmentStore::open_read_only`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// The segment file.
    pub path: PathBuf,
    /// Where the complete records end.
    pub offset: u64,
    /// How many bytes follow.
    pub bytes: u64,
}

/// What [`SegmentStore::recover`] removed from a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Why: the finding (or torn tail) where the log was cut.
    pub reason: String,
    /// How many records the log holds afterwards.
    pub kept: u64,
    /// The new directory `recovered/NNNN` in the log directory that holds
    /// the copies and the note.
    pub aside: PathBuf,
    /// The recovery note, [`RECOVERY_NOTE`] in `aside`.
    pub note: PathBuf,
    /// What was removed, file by file.
    pub removed: Vec<Removed>,
}

/// Bytes [`SegmentStore::recover`] removed from one segment file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    /// The segment file.
    pub path: PathBuf,
    /// Where the removed bytes started in it (0: the whole file was removed).
    pub offset: u64,
    /// How many bytes were removed.
    pub bytes: u64,
    /// The copy of those bytes.
    pub copy: PathBuf,
}

/// What [`SegmentStore::recover`] would remove, found by
/// [`SegmentStore::recovery_plan`] without changing anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryPlan {
    /// Why: the finding (or torn tail) where the log would be cut.
    pub reason: String,
    /// How many records the log would hold afterwards, when the finding
    /// names the record (a damaged segment header does not).
    pub kept: Option<u64>,
    /// What would be removed, file by file, in segment order.
    pub cuts: Vec<Cut>,
}

/// Bytes [`SegmentStore::recover`] would remove from one segment file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    /// The segment file.
    pub path: PathBuf,
    /// Where the removed bytes start in it (0: the whole file).
    pub offset: u64,
    /// How many bytes would be removed.
    pub bytes: u64,
}

/// The directory in a log directory that [`SegmentStore::recover`] copies
/// removed bytes into (one numbered subdirectory per recovery).
pub const RECOVERED_DIR: &str = "recovered";
/// The note [`SegmentStore::recover`] writes beside the copies.
pub const RECOVERY_NOTE: &str = "RECOVERY.txt";

/// Append-only segment files in a directory (see the [module documentation](self)).
#[derive(Debug)]
pub struct SegmentStore {
    dir: PathBuf,
    options: SegmentOptions,
    log_id: [u8; 16],
    segments: Vec<Segment>,
    writer: Option<File>,
    unsynced: usize,
    torn: Option<TornTail>,
    /// Reused buffer for framing appended records.
    write_buf: Vec<u8>,
    /// The writer's exclusive lock on [`LOCK_FILE`] (held while open).
    _lock: Option<File>,
    /// An append failed and undoing it failed too: appends are refused.
    broken: bool,
}

/// Where an append began (see `SegmentStore::undo_append`).
struct AppendMark {
    /// How many segments there were.
    segments: usize,
    /// The last segment's length in bytes.
    len: u64,
    /// The last segment's record count.
    count: u64,
}

/// Takes the writer's exclusive lock on `dir`'s [`LOCK_FILE`].
/// [`lock_dir`] of a directory that must already be a log directory
/// (recovery never creates one).
fn lock_log_dir(dir: &Path) -> Result<File, Error> {
    if !fs::metadata(dir).map_err(io(dir))?.is_dir() {
        return Err(Error::Store(format!(
            "{} is not a log directory",
            dir.display()
        )));
    }
    lock_dir(dir)
}

fn lock_dir(dir: &Path) -> Result<File, Error> {
    let path = dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io(&path))?;
    // A writer that just closed the log may still hold the lock for a moment
    // through a child process forked elsewhere in its program (the child
    // shares the descriptor until its exec closes it): wait that out briefly.
    let deadline = std::time::Instant::now() + LOCK_WAIT;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(fs::TryLockError::WouldBlock) => return Err(Error::Locked { path }),
            Err(fs::TryLockError::Error(source)) => return Err(Error::Io { path, source }),
        }
    }
}

/// How long [`SegmentStore::open`] waits for another writer's lock before
/// it reports [`Error::Locked`].
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

fn segment_path(dir: &Path, number: u32) -> PathBuf {
    dir.join(format!("{number:08}.seg"))
}

fn tampered(path: &Path, offset: u64, index: Option<u64>, reason: impl Into<String>) -> Error {
    Error::Tampered {
        path: path.to_owned(),
        offset,
        index,
        reason: reason.into(),
    }
}

fn encode_header(number: u32, log_id: &[u8; 16], first: u64, anchor: &Hash) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(SEGMENT_MAGIC);
    h[8..10].copy_from_slice(&SEGMENT_VERSION.to_be_bytes());
    h[12..16].copy_from_slice(&number.to_be_bytes());
    h[16..32].copy_from_slice(log_id);
    h[32..40].copy_from_slice(&first.to_be_bytes());
    h[40..72].copy_from_slice(anchor);
    let crc = crc32fast::hash(&h[..72]);
    h[72..].copy_from_slice(&crc.to_be_bytes());
    h
}

fn be_u32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    u32::from_be_bytes(a)
}

fn be_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_be_bytes(a)
}

/// Appends one framed record (format version 2) to `out`.
pub fn frame_record(out: &mut Vec<u8>, index: u64, payload: &[u8]) {
    let mut head = [0u8; RECORD_HEADER_LEN];
    head[..4].copy_from_slice(&(payload.len() as u32).to_be_bytes());
    head[4..12].copy_from_slice(&index.to_be_bytes());
    // One pass over the bytes: the header checksum is the running CRC after
    // 12 bytes, and the record checksum carries on from there.
    let mut crc = crc32fast::Hasher::new();
    crc.update(&head[..12]);
    let head_crc = crc.clone().finalize();
    head[12..].copy_from_slice(&head_crc.to_be_bytes());
    crc.update(&head[12..]);
    crc.update(payload);
    out.extend_from_slice(&head);
    out.extend_from_slice(payload);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

/// What the bytes at a record position are.
enum Step {
    /// A complete, valid record of this many bytes.
    Record(usize),
    /// A torn tail: the rest of the bytes are a crash leftover.
    Torn,
    /// Damage, with the reason.
    Damaged(String),
}

/// Whether `rest` starts with a complete record of format `version` whose
/// checksums hold and whose index is `index`; its framed length if so.
#[inline]
fn complete_record(rest: &[u8], version: u16, index: u64) -> Option<usize> {
    let head = record_header_len(version);
    if rest.len() < head {
        return None;
    }
    let len = be_u32(rest) as usize;
    let total = len.checked_add(record_overhead(version))?;
    if len > MAX_RECORD_LEN
        || rest.len() < total
        || be_u64(&rest[4..]) != index
        || (head == RECORD_HEADER_LEN && crc32fast::hash(&rest[..12]) != be_u32(&rest[12..]))
        || crc32fast::hash(&rest[..total - 4]) != be_u32(&rest[total - 4..])
    {
        return None;
    }
    Some(total)
}

/// Classifies the bytes `rest` where record `index` should start (the fast
/// path, a complete valid record, is [`complete_record`]). `largest` is the
/// largest complete record before it in the segment. See the module
/// documentation for the torn-tail rule this implements.
fn classify(rest: &[u8], version: u16, index: u64, largest: usize) -> Step {
    if let Some(total) = complete_record(rest, version, index) {
        return Step::Record(total);
    }
    let head = record_header_len(version);
    if rest.len() < head {
        return Step::Torn;
    }
    let len = be_u32(rest) as usize;
    let found = be_u64(&rest[4..]);
    let total = len + record_overhead(version);
    let header_ok = head == 12 || crc32fast::hash(&rest[..12]) == be_u32(&rest[12..]);
    let zero_after_header = rest[head..].iter().all(|&b| b == 0);
    // A record whose bytes never reached the disk (zero-filled by the file
    // system) reads as zeros after whatever of its header did.
    let zero_filled = zero_after_header && (!header_ok || rest.iter().all(|&b| b == 0));
    if zero_filled {
        if rest.len() <= largest {
            return Step::Torn;
        }
        return Step::Damaged(format!(
            "{} bytes after the last record are zero where record {index} should be: more than a record cut short by a crash (the largest record of the segment is {largest} bytes)",
            rest.len()
        ));
    }
    if !header_ok {
        return Step::Damaged(
            "record header checksum mismatch (its length or index was changed)".into(),
        );
    }
    if len > MAX_RECORD_LEN {
        return Step::Damaged(format!("record length {len} exceeds {MAX_RECORD_LEN}"));
    }
    if rest.len() >= total {
        if found != index && crc32fast::hash(&rest[..total - 4]) == be_u32(&rest[total - 4..]) {
            return Step::Damaged(format!(
                "expected record {index}, found record {found}: a record was removed, reordered or inserted"
            ));
        }
        return Step::Damaged("record checksum mismatch".into());
    }
    if found != index {
        return Step::Damaged(format!(
            "expected record {index}, found record {found}: a record was removed, reordered or inserted"
        ));
    }
    // The record runs past the end of the file: a crash, unless an intact
    // record follows somewhere in what would be its bytes.
    if let Some((at, later)) = later_record(rest, version, index) {
        return Step::Damaged(format!(
            "record {index} claims {len} bytes, past the end of the segment, but a complete record {later} follows {at} bytes later: damage, not a crash"
        ));
    }
    Step::Torn
}

/// The first complete record with valid checksums that starts after byte 0
/// of `rest` and is numbered from `index` on (up to as many records as could
/// fit): its distance from the start of `rest` and its index.
fn later_record(rest: &[u8], version: u16, index: u64) -> Option<(usize, u64)> {
    let overhead = record_overhead(version);
    let most = index.saturating_add((rest.len() / overhead) as u64);
    (1..=rest.len().saturating_sub(overhead)).find_map(|at| {
        let found = be_u64(&rest[at + 4..]);
        if found < index || found > most {
            return None;
        }
        complete_record(&rest[at..], version, found).map(|_| (at, found))
    })
}

/// What parsing a segment's bytes found.
#[derive(Debug)]
pub struct ParsedSegment {
    /// Format version from the header.
    pub version: u16,
    /// Segment number from the header.
    pub number: u32,
    /// Log id from the header.
    pub log_id: [u8; 16],
    /// First record index from the header.
    pub first: u64,
    /// The anchor root.
    pub anchor: Hash,
    /// Offsets of the complete, valid records.
    pub offsets: Vec<u64>,
    /// Where the valid records end.
    pub end: u64,
    /// Whether bytes after `end` look like a torn write.
    pub torn: bool,
}

/// Parses the bytes of one segment file. Never panics: a malformed file is
/// [`Error::Tampered`] naming `path` and the byte offset. A torn tail is
/// reported in [`ParsedSegment::torn`], not as an error; the caller decides
/// whether a torn tail is allowed (only in the last segment).
pub fn parse_segment(path: &Path, bytes: &[u8]) -> Result<ParsedSegment, Error> {
    if bytes.len() < HEADER_LEN {
        if bytes.iter().all(|&b| b == 0) || SEGMENT_MAGIC.starts_with(&bytes[..bytes.len().min(8)])
        {
            // A header cut short by a crash while the segment was created.
            return Ok(ParsedSegment {
                version: SEGMENT_VERSION,
                number: 0,
                log_id: [0; 16],
                first: 0,
                anchor: EMPTY_ROOT,
                offsets: Vec::new(),
                end: 0,
                torn: true,
            });
        }
        return Err(tampered(path, 0, None, "segment header cut short"));
    }
    let h = &bytes[..HEADER_LEN];
    if &h[..8] != SEGMENT_MAGIC {
        return Err(tampered(path, 0, None, "not a segment file (bad magic)"));
    }
    let version = u16::from_be_bytes([h[8], h[9]]);
    if version != SEGMENT_VERSION && version != SEGMENT_VERSION_V1 {
        return Err(tampered(
            path,
            8,
            None,
            format!("unsupported segment version {version}"),
        ));
    }
    if crc32fast::hash(&h[..72]) != be_u32(&h[72..]) || h[10..12] != [0, 0] {
        return Err(tampered(path, 0, None, "segment header checksum mismatch"));
    }
    let number = be_u32(&h[12..]);
    let mut log_id = [0u8; 16];
    log_id.copy_from_slice(&h[16..32]);
    let first = be_u64(&h[32..]);
    // The header's word, under a checksum anyone can recompute: every record
    // takes a byte at least, so below this bound no index of this segment,
    // nor the next segment's first, passes `u64::MAX`.
    if first > u64::MAX - bytes.len() as u64 {
        return Err(tampered(
            path,
            32,
            None,
            format!("first record index {first} leaves no room for the segment's records"),
        ));
    }
    let mut anchor = [0u8; 32];
    anchor.copy_from_slice(&h[40..72]);

    let mut offsets = Vec::new();
    let mut pos = HEADER_LEN;
    let mut torn = false;
    let mut largest = 0;
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        let index = first + offsets.len() as u64;
        // The fast path inline; the rest (damage or a torn tail) in `classify`.
        let step = match complete_record(rest, version, index) {
            Some(total) => Step::Record(total),
            None => classify(rest, version, index, largest),
        };
        match step {
            Step::Record(total) => {
                offsets.push(pos as u64);
                largest = largest.max(total);
                pos += total;
            }
            Step::Torn => {
                torn = true;
                break;
            }
            Step::Damaged(reason) => {
                return Err(tampered(path, pos as u64, Some(index), reason));
            }
        }
    }
    Ok(ParsedSegment {
        version,
        number,
        log_id,
        first,
        anchor,
        offsets,
        end: pos as u64,
        torn,
    })
}

impl SegmentStore {
    /// Opens (or creates) the log in `dir` for appending, truncating a torn
    /// final record left by a crash (never more: see the
    /// [module documentation](self)). Damage is [`Error::Tampered`], and the
    /// files are left as they are.
    pub fn open(dir: impl AsRef<Path>, options: SegmentOptions) -> Result<Self, Error> {
        Self::open_at_least(dir, options, 0)
    }

    /// [`SegmentStore::open`] for a log that must hold at least
    /// `min_records` records, the size of a checkpoint the caller trusts: a
    /// log that holds fewer (counting before a torn tail is truncated, which
    /// then is not) is refused with [`Error::Truncated`] and left as it is.
    /// Check the checkpoint's root too, with
    /// [`crate::AuditLog::check_checkpoint`] once the log is open.
    pub fn open_at_least(
        dir: impl AsRef<Path>,
        options: SegmentOptions,
        min_records: u64,
    ) -> Result<Self, Error> {
        let dir = dir.as_ref();
        if options.max_segment_bytes < (HEADER_LEN + RECORD_OVERHEAD) as u64 {
            return Err(Error::Store("max_segment_bytes is too small".into()));
        }
        if let Durability::Group { records: 0 } = options.durability {
            return Err(Error::Store("group commit needs at least 1 record".into()));
        }
        fs::create_dir_all(dir).map_err(io(dir))?;
        let lock = lock_dir(dir)?;
        let mut store = Self::load(dir, options, Mode::Write { min_records })?;
        store._lock = Some(lock);
        if store.segments.is_empty() {
            let mut log_id = [0u8; 16];
            SystemRandom::new()
                .fill(&mut log_id)
                .map_err(|_| Error::Store("the system random number generator failed".into()))?;
            store.log_id = log_id;
            store.create_segment(0, 0, EMPTY_ROOT)?;
        } else {
            let last = store
                .segments
                .last()
                .map(|s| s.path.clone())
                .unwrap_or_default();
            let file = OpenOptions::new()
                .append(true)
                .open(&last)
                .map_err(io(&last))?;
            store.writer = Some(file);
        }
        Ok(store)
    }

    /// Cuts the log in `dir` at its first damaged record (or torn tail) so
    /// that a writer can open it again: the operator's explicit recovery,
    /// never done by opening. Returns `None` when there is nothing to cut.
    ///
    /// It takes the writer's lock, finds the first finding a writer's open
    /// would report, and cuts there: the rest of that segment file from the
    /// bad record on, and every later segment file (a damaged segment header
    /// removes its whole file). Before changing anything it copies every
    /// byte it will remove into a new directory `recovered/NNNN` in the log
    /// directory (a partial file as `NAME.from-OFFSET`, a whole one under its
    /// own name) and writes the note [`RECOVERY_NOTE`] there: the time, the
    /// finding, and each removal's file, byte range, copy and SHA-256; all
    /// of it is flushed to disk first, and the note gets a last line with
    /// the records kept once the cut is done.
    /// [`SegmentStore::recovery_plan`] says what it would cut, changing
    /// nothing.
    ///
    /// Findings that cutting cannot mend are returned as they are, with
    /// nothing changed: damage to the first segment's header (the cut would
    /// remove the whole log), a stray file name. A record forged with valid
    /// checksums is no finding here: [`crate::verify`] and checkpoints catch
    /// those, and recovery does not touch them.
    pub fn recover(dir: impl AsRef<Path>) -> Result<Option<Recovery>, Error> {
        let dir = dir.as_ref();
        let _lock = lock_log_dir(dir)?;
        let Some(plan) = Self::plan_recovery(dir)? else {
            return Ok(None);
        };
        let reason = plan.reason;
        let aside = new_aside_dir(dir)?;
        let mut removed = Vec::new();
        let mut lines = Vec::new();
        for &Cut {
            ref path, offset, ..
        } in &plan.cuts
        {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut bytes = Vec::new();
            read_file(path, &mut bytes)?;
            let from = usize::try_from(offset)
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            let cut = &bytes[from..];
            let copy = if offset > 0 {
                aside.join(format!("{name}.from-{offset}"))
            } else {
                aside.join(&name)
            };
            write_synced(&copy, cut)?;
            lines.push(format!(
                "removed: {} bytes {}..{} ({} bytes), copied to {}, sha256 {}",
                path.display(),
                offset,
                offset + cut.len() as u64,
                cut.len(),
                copy.display(),
                sha256_hex(cut)
            ));
            removed.push(Removed {
                path: path.clone(),
                offset,
                bytes: cut.len() as u64,
                copy,
            });
        }
        let time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let note = aside.join(RECOVERY_NOTE);
        let mut text = format!(
            "custodia audit log recovery\nlog: {}\ntime: {time} (Unix seconds)\nreason: {reason}\n",
            dir.display()
        );
        for line in &lines {
            text.push_str(line);
            text.push('\n');
        }
        write_synced(&note, text.as_bytes())?;
        sync_dir(&aside)?;
        sync_dir(&dir.join(RECOVERED_DIR))?;

        // Only now change the log: later files first, so that a crash in
        // between leaves segments numbered without gaps.
        for removal in removed.iter().rev() {
            if removal.offset == 0 {
                fs::remove_file(&removal.path).map_err(io(&removal.path))?;
            } else {
                let file = OpenOptions::new()
                    .write(true)
                    .open(&removal.path)
                    .map_err(io(&removal.path))?;
                file.set_len(removal.offset).map_err(io(&removal.path))?;
                file.sync_all().map_err(io(&removal.path))?;
            }
        }
        sync_dir(dir)?;
        let kept = Self::load(dir, SegmentOptions::default(), Mode::Inspect)?.len();
        text.push_str(&format!("done: the log holds {kept} records\n"));
        write_synced(&note, text.as_bytes())?;
        Ok(Some(Recovery {
            reason,
            kept,
            aside,
            note,
            removed,
        }))
    }

    /// What [`SegmentStore::recover`] would cut from the log in `dir`, with
    /// nothing changed: `None` when there is nothing to cut. It takes the
    /// writer's lock while it reads, so a running writer makes it fail
    /// rather than report a record being written as torn. The refusals are
    /// [`SegmentStore::recover`]'s.
    pub fn recovery_plan(dir: impl AsRef<Path>) -> Result<Option<RecoveryPlan>, Error> {
        let dir = dir.as_ref();
        let _lock = lock_log_dir(dir)?;
        Self::plan_recovery(dir)
    }

    /// [`SegmentStore::recovery_plan`] under a lock the caller holds.
    fn plan_recovery(dir: &Path) -> Result<Option<RecoveryPlan>, Error> {
        // `finding` is the Tampered error when that is what loading found.
        let (cut_path, cut_offset, reason, kept, finding) =
            match Self::load(dir, SegmentOptions::default(), Mode::Inspect) {
                Ok(store) => match store.torn.clone() {
                    None => return Ok(None),
                    Some(torn) => {
                        let reason = format!(
                            "torn final record: {} bytes at byte {} of {}",
                            torn.bytes,
                            torn.offset,
                            torn.path.display()
                        );
                        (torn.path, torn.offset, reason, Some(store.len()), None)
                    }
                },
                Err(e @ Error::Tampered { .. }) => {
                    let Error::Tampered {
                        path,
                        offset,
                        index,
                        ..
                    } = &e
                    else {
                        return Err(e);
                    };
                    let (path, offset, index) = (path.clone(), *offset, *index);
                    (path, offset, e.to_string(), index, Some(Box::new(e)))
                }
                Err(e) => return Err(e),
            };
        let refuse = |why, source| Error::Unrecoverable {
            finding: reason.clone(),
            why,
            source,
        };
        let Some(cut_number) = segment_number(dir, &cut_path) else {
            return Err(refuse(
                "not a segment file, recovery cannot cut there",
                finding,
            ));
        };
        let partial = cut_offset >= HEADER_LEN as u64;
        if cut_number == 0 && !partial && finding.is_some() {
            return Err(refuse(
                "the first segment's header is damaged, so recovery would remove the whole log",
                finding,
            ));
        }
        // Every segment file from the cut on, in order.
        let mut affected = Vec::new();
        for entry in fs::read_dir(dir).map_err(io(dir))? {
            let path = entry.map_err(io(dir))?.path();
            if let Some(number) = segment_number(dir, &path)
                && number >= cut_number
            {
                affected.push((number, path));
            }
        }
        affected.sort_unstable();
        let mut cuts = Vec::with_capacity(affected.len());
        for (number, path) in affected {
            let offset = if number == cut_number && partial {
                cut_offset
            } else {
                0
            };
            let len = fs::metadata(&path).map_err(io(&path))?.len();
            cuts.push(Cut {
                bytes: len.saturating_sub(offset),
                path,
                offset,
            });
        }
        Ok(Some(RecoveryPlan { reason, kept, cuts }))
    }

    /// Opens the log in `dir` without changing anything; a torn final record
    /// is reported by [`SegmentStore::torn_tail`].
    pub fn open_read_only(dir: impl AsRef<Path>) -> Result<Self, Error> {
        Self::load(dir.as_ref(), SegmentOptions::default(), Mode::Read)
    }

    /// A torn final record seen by [`SegmentStore::open_read_only`] (or
    /// repaired by [`SegmentStore::open`]).
    pub fn torn_tail(&self) -> Option<&TornTail> {
        self.torn.as_ref()
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The segment files, in order.
    pub fn segment_paths(&self) -> Vec<PathBuf> {
        self.segments.iter().map(|s| s.path.clone()).collect()
    }

    fn load(dir: &Path, options: SegmentOptions, mode: Mode) -> Result<Self, Error> {
        let repair = matches!(mode, Mode::Write { .. });
        // Repairs wait until every segment was checked (and the size against
        // a trusted checkpoint): a refused open changes nothing.
        let mut pending: Option<(PathBuf, Option<u64>)> = None;
        let mut numbers = Vec::new();
        for entry in fs::read_dir(dir).map_err(io(dir))? {
            let entry = entry.map_err(io(dir))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(stem) = name.strip_suffix(".seg") {
                match stem.parse::<u32>() {
                    Ok(n) if stem.len() == 8 => numbers.push(n),
                    _ => {
                        return Err(tampered(
                            &entry.path(),
                            0,
                            None,
                            "unexpected segment file name",
                        ));
                    }
                }
            }
        }
        numbers.sort_unstable();
        let mut store = Self {
            dir: dir.to_owned(),
            options,
            log_id: [0; 16],
            segments: Vec::new(),
            writer: None,
            unsynced: 0,
            torn: None,
            write_buf: Vec::new(),
            _lock: None,
            broken: false,
        };
        let count = numbers.len();
        let mut buf = Vec::new();
        for (position, number) in numbers.into_iter().enumerate() {
            let expected = position as u32;
            if number != expected {
                return Err(tampered(
                    &segment_path(dir, expected),
                    0,
                    None,
                    format!("segment {expected} is missing (next is {number})"),
                ));
            }
            let path = segment_path(dir, number);
            let is_last = position + 1 == count;
            // A writer checks every record now; a reader only the last
            // segment (for a torn tail) and the others' headers, parsing
            // their records when it first reads them.
            let lazy = matches!(mode, Mode::Read) && !is_last;
            if lazy {
                read_header(&path, &mut buf)?;
            } else {
                read_file(&path, &mut buf)?;
            }
            let bytes = &buf[..];
            let parsed = parse_segment(&path, bytes)?;
            if parsed.end == 0 {
                // Torn header: only a crash while creating the last segment.
                if !is_last {
                    return Err(tampered(&path, 0, None, "segment header cut short"));
                }
                store.torn = Some(TornTail {
                    path: path.clone(),
                    offset: 0,
                    bytes: bytes.len() as u64,
                });
                pending = Some((path.clone(), None));
                // The segment before is the last complete one: parse it now.
                if let Some(prev) = store.segments.last_mut()
                    && prev.offsets.get().is_none()
                {
                    read_file(&prev.path, &mut buf)?;
                    let parsed = parse_segment(&prev.path, &buf)?;
                    if parsed.torn || parsed.end == 0 {
                        return Err(tampered(
                            &prev.path,
                            parsed.end,
                            Some(prev.first + parsed.offsets.len() as u64),
                            "segment ends inside a record, but later segments exist",
                        ));
                    }
                    prev.count = parsed.offsets.len() as u64;
                    prev.len = parsed.end;
                    prev.offsets = OnceLock::from(parsed.offsets);
                }
                break;
            }
            if parsed.number != number {
                return Err(tampered(
                    &path,
                    12,
                    None,
                    format!(
                        "header says segment {}, file is segment {number}",
                        parsed.number
                    ),
                ));
            }
            if position == 0 {
                store.log_id = parsed.log_id;
            } else if parsed.log_id != store.log_id {
                return Err(tampered(
                    &path,
                    16,
                    None,
                    "segment belongs to another log (log id differs)",
                ));
            }
            // A segment not parsed yet holds the records up to this one's
            // first (checked when it is parsed).
            if let Some(prev) = store.segments.last_mut()
                && prev.offsets.get().is_none()
            {
                if parsed.first < prev.first {
                    return Err(tampered(
                        &path,
                        32,
                        Some(prev.first),
                        format!(
                            "segment starts at record {}, before the previous segment's first record {}",
                            parsed.first, prev.first
                        ),
                    ));
                }
                prev.count = parsed.first - prev.first;
            }
            let next_index = store.len();
            if parsed.first != next_index {
                return Err(tampered(
                    &path,
                    32,
                    Some(next_index),
                    format!(
                        "segment starts at record {}, expected {next_index}",
                        parsed.first
                    ),
                ));
            }
            if parsed.torn {
                if !is_last {
                    return Err(tampered(
                        &path,
                        parsed.end,
                        Some(next_index + parsed.offsets.len() as u64),
                        "segment ends inside a record, but later segments exist",
                    ));
                }
                store.torn = Some(TornTail {
                    path: path.clone(),
                    offset: parsed.end,
                    bytes: bytes.len() as u64 - parsed.end,
                });
                pending = Some((path.clone(), Some(parsed.end)));
            }
            store.segments.push(Segment {
                version: parsed.version,
                number,
                path,
                first: parsed.first,
                anchor: parsed.anchor,
                count: parsed.offsets.len() as u64,
                offsets: if lazy {
                    OnceLock::new()
                } else {
                    OnceLock::from(parsed.offsets)
                },
                len: parsed.end,
            });
        }
        if let Mode::Write { min_records } = mode
            && store.len() < min_records
        {
            return Err(Error::Truncated {
                trusted: min_records,
                found: store.len(),
            });
        }
        if let (true, Some((path, keep))) = (repair, pending) {
            match keep {
                None => {
                    fs::remove_file(&path).map_err(io(&path))?;
                    sync_dir(dir)?;
                }
                Some(len) => {
                    let file = OpenOptions::new()
                        .write(true)
                        .open(&path)
                        .map_err(io(&path))?;
                    let size = file.metadata().map_err(io(&path))?.len();
                    // The parser never calls more a torn tail; this guards
                    // the promise against a file that grew since.
                    if size.saturating_sub(len) > MAX_TORN_BYTES {
                        return Err(tampered(
                            &path,
                            len,
                            Some(store.len()),
                            format!(
                                "{} bytes after the last record: more than a torn record can be",
                                size - len
                            ),
                        ));
                    }
                    file.set_len(len).map_err(io(&path))?;
                    file.sync_all().map_err(io(&path))?;
                }
            }
        }
        Ok(store)
    }

    fn create_segment(&mut self, number: u32, first: u64, anchor: Hash) -> Result<(), Error> {
        let path = segment_path(&self.dir, number);
        let mut file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)
            .map_err(io(&path))?;
        let written = file
            .write_all(&encode_header(number, &self.log_id, first, &anchor))
            .map_err(io(&path))
            .and_then(|()| {
                if self.options.durability != Durability::Never {
                    file.sync_all().map_err(io(&path))?;
                    sync_dir(&self.dir)?;
                }
                Ok(())
            });
        if let Err(e) = written {
            // Not left behind half made: the next attempt creates it anew.
            let _ = fs::remove_file(&path);
            return Err(e);
        }
        self.segments.push(Segment {
            version: SEGMENT_VERSION,
            number,
            path,
            first,
            anchor,
            count: 0,
            offsets: OnceLock::from(Vec::new()),
            len: HEADER_LEN as u64,
        });
        self.writer = Some(file);
        Ok(())
    }

    /// Frames `records` into `chunk` and writes them, starting new segments
    /// as needed (see [`AuditStore::append`]).
    fn append_framed(
        &mut self,
        records: &[&[u8]],
        tree: &MerkleTree,
        chunk: &mut Vec<u8>,
    ) -> Result<(), Error> {
        chunk.reserve(records.iter().map(|r| r.len() + RECORD_OVERHEAD).sum());
        let mut offsets = Vec::with_capacity(records.len());
        let mut seg_len = self.segments.last().map_or(0, |s| s.len);
        let mut seg_records = self.segments.last().map_or(0, |s| s.count);
        // Records are only written in the current format: a log whose last
        // segment is older continues in a new segment.
        let mut old_format = self
            .segments
            .last()
            .is_some_and(|s| s.version != SEGMENT_VERSION);
        for (index, record) in (self.len()..).zip(records) {
            let framed = (record.len() + RECORD_OVERHEAD) as u64;
            if old_format || (seg_records > 0 && seg_len + framed > self.options.max_segment_bytes)
            {
                old_format = false;
                self.flush_chunk(chunk, std::mem::take(&mut offsets))?;
                chunk.clear();
                if self.options.durability != Durability::Never {
                    self.sync_writer()?;
                }
                let number = self.segments.last().map_or(0, |s| s.number + 1);
                let anchor = tree.root_at(index)?;
                self.create_segment(number, index, anchor)?;
                seg_len = HEADER_LEN as u64;
                seg_records = 0;
            }
            offsets.push(seg_len);
            frame_record(chunk, index, record);
            seg_len += framed;
            seg_records += 1;
        }
        self.flush_chunk(chunk, offsets)
    }

    fn flush_chunk(&mut self, chunk: &[u8], offsets: Vec<u64>) -> Result<(), Error> {
        if chunk.is_empty() {
            return Ok(());
        }
        let (Some(writer), Some(segment)) = (self.writer.as_mut(), self.segments.last_mut()) else {
            return Err(Error::Store("the store is read-only".into()));
        };
        if let Err(e) = writer.write_all(chunk) {
            // Leave no partial batch behind.
            let _ = writer.set_len(segment.len);
            return Err(Error::Io {
                path: segment.path.clone(),
                source: e,
            });
        }
        segment.len += chunk.len() as u64;
        segment.count += offsets.len() as u64;
        match segment.offsets.get_mut() {
            Some(known) => known.extend(offsets),
            None => segment.offsets = OnceLock::from(offsets),
        }
        Ok(())
    }

    /// Undoes a failed append back to `mark`: removes the segments it
    /// created and cuts the last one before it back to its old length, then
    /// writes to that segment again. An error leaves the store unusable for
    /// appends (`broken`); reopening it finds what is on disk.
    fn undo_append(&mut self, mark: &AppendMark) -> Result<(), Error> {
        self.writer = None;
        let mut removed = false;
        while self.segments.len() > mark.segments {
            if let Some(segment) = self.segments.pop() {
                fs::remove_file(&segment.path).map_err(io(&segment.path))?;
                removed = true;
            }
        }
        if removed {
            sync_dir(&self.dir)?;
        }
        let Some(last) = self.segments.last_mut() else {
            return Err(Error::Store("no segment to append to".into()));
        };
        let file = OpenOptions::new()
            .append(true)
            .open(&last.path)
            .map_err(io(&last.path))?;
        if file.metadata().map_err(io(&last.path))?.len() != mark.len {
            file.set_len(mark.len).map_err(io(&last.path))?;
        }
        last.len = mark.len;
        last.count = mark.count;
        if let Some(offsets) = last.offsets.get_mut() {
            offsets.truncate(usize::try_from(mark.count).unwrap_or(usize::MAX));
        }
        self.writer = Some(file);
        Ok(())
    }

    fn sync_writer(&mut self) -> Result<(), Error> {
        if let (Some(writer), Some(segment)) = (self.writer.as_ref(), self.segments.last()) {
            writer.sync_data().map_err(io(&segment.path))?;
        }
        self.unsynced = 0;
        Ok(())
    }

    fn locate_segment(&self, index: u64) -> Option<&Segment> {
        let pos = self.segments.partition_point(|s| s.first <= index);
        let segment = self.segments.get(pos.checked_sub(1)?)?;
        (index < segment.first + segment.count).then_some(segment)
    }

    /// The record offsets of `segment` (parsing it if that has not happened yet).
    fn offsets<'s>(&'s self, segment: &'s Segment) -> Result<&'s [u64], Error> {
        if let Some(known) = segment.offsets.get() {
            return Ok(known);
        }
        let mut buf = Vec::new();
        read_file(&segment.path, &mut buf)?;
        self.parse_later(segment, &buf).map(|(offsets, _)| offsets)
    }

    /// The record offsets of `segment`, whose file holds `bytes`: the known
    /// ones (`false`: the caller must check each record it reads), or parsed
    /// now, every record checked (`true`), and kept. Parsing now checks what
    /// opening a writer checks: a torn tail (only the last segment is parsed
    /// at open, so this segment has later ones), and that the records run up
    /// to the next segment's first.
    fn parse_later<'s>(
        &'s self,
        segment: &'s Segment,
        bytes: &[u8],
    ) -> Result<(&'s [u64], bool), Error> {
        if let Some(known) = segment.offsets.get() {
            return Ok((known, false));
        }
        let path = &segment.path;
        let parsed = parse_segment(path, bytes)?;
        if parsed.end == 0
            || parsed.number != segment.number
            || parsed.log_id != self.log_id
            || parsed.first != segment.first
            || parsed.anchor != segment.anchor
        {
            return Err(tampered(
                path,
                0,
                None,
                "segment header changed since the log was opened",
            ));
        }
        let found = parsed.first + parsed.offsets.len() as u64;
        if parsed.torn {
            return Err(tampered(
                path,
                parsed.end,
                Some(found),
                "segment ends inside a record, but later segments exist",
            ));
        }
        if found != segment.first + segment.count {
            let next = self
                .segments
                .iter()
                .find(|s| s.number == segment.number + 1)
                .unwrap_or(segment);
            return Err(tampered(
                &next.path,
                32,
                Some(found),
                format!("segment starts at record {}, expected {found}", next.first),
            ));
        }
        Ok((segment.offsets.get_or_init(|| parsed.offsets), true))
    }

    /// [`AuditStore::scan_runs`] over one segment whose file holds `buf`.
    fn visit_segment(
        &self,
        segment: &Segment,
        buf: &[u8],
        from: u64,
        f: &mut RunVisitor<'_>,
    ) -> Result<(), Error> {
        let skip = from.saturating_sub(segment.first) as usize;
        let (offsets, checked) = match self.parse_later(segment, buf) {
            Ok(parsed) => parsed,
            Err(e) => {
                // The records before the bad one are sound: hand them over
                // first, so that a lower bad record the visitor finds (one
                // that is not a canonical event) is the one reported.
                if let Error::Tampered {
                    index: Some(bad), ..
                } = &e
                {
                    let records =
                        sound_prefix(&segment.path, buf, segment.first, *bad, segment.version)?;
                    if skip < records.len() {
                        f(segment.first + skip as u64, &records[skip..])?;
                    }
                }
                return Err(e);
            }
        };
        if skip >= offsets.len() {
            return Ok(());
        }
        // One slice per record into the segment buffer: no record is copied.
        let mut records: Vec<&[u8]> = Vec::with_capacity(offsets.len() - skip);
        let version = segment.version;
        for (index, &offset) in (segment.first..).zip(offsets).skip(skip) {
            let framed = framed_at(&segment.path, buf, offset, index, version)?;
            if !checked {
                check_framed(&segment.path, offset, index, version, framed)?;
            }
            records.push(payload(version, framed));
        }
        f(segment.first + skip as u64, &records)
    }

    /// Where record `index` is stored: the segment file and byte offset.
    pub fn locate(&self, index: u64) -> Option<(PathBuf, u64)> {
        let segment = self.locate_segment(index)?;
        let offset = *self
            .offsets(segment)
            .ok()?
            .get((index - segment.first) as usize)?;
        Some((segment.path.clone(), offset))
    }
}

/// The number of the segment file `path` in `dir`, if it is one by name.
fn segment_number(dir: &Path, path: &Path) -> Option<u32> {
    if path.parent() != Some(dir) {
        return None;
    }
    let stem = path.file_name()?.to_str()?.strip_suffix(".seg")?;
    (stem.len() == 8 && stem.bytes().all(|b| b.is_ascii_digit()))
        .then(|| stem.parse().ok())
        .flatten()
}

/// A new, empty `recovered/NNNN` directory in `dir`.
fn new_aside_dir(dir: &Path) -> Result<PathBuf, Error> {
    let base = dir.join(RECOVERED_DIR);
    fs::create_dir_all(&base).map_err(io(&base))?;
    for n in 1u32.. {
        let aside = base.join(format!("{n:04}"));
        match fs::create_dir(&aside) {
            Ok(()) => return Ok(aside),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(source) => {
                return Err(Error::Io {
                    path: aside,
                    source,
                });
            }
        }
    }
    Err(Error::Store(format!("{}: no free name", base.display())))
}

/// Writes `bytes` to a new file at `path` and flushes it to disk.
fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let mut file = File::create(path).map_err(io(path))?;
    file.write_all(bytes).map_err(io(path))?;
    file.sync_all().map_err(io(path))
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn sync_dir(dir: &Path) -> Result<(), Error> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

impl Drop for SegmentStore {
    fn drop(&mut self) {
        if self.unsynced > 0 && self.options.durability != Durability::Never {
            let _ = self.sync_writer();
        }
    }
}

impl AuditStore for SegmentStore {
    fn len(&self) -> u64 {
        self.segments.last().map_or(0, |s| s.first + s.count)
    }

    fn append(&mut self, records: &[&[u8]], tree: &MerkleTree) -> Result<(), Error> {
        if self.writer.is_none() {
            return Err(Error::Store("the store is read-only".into()));
        }
        if let Some(big) = records.iter().find(|r| r.len() > MAX_RECORD_LEN) {
            return Err(Error::Store(format!(
                "record of {} bytes exceeds {MAX_RECORD_LEN}",
                big.len()
            )));
        }
        if self.broken {
            return Err(Error::Store(
                "an earlier append failed and could not be undone: reopen the log".into(),
            ));
        }
        // Where the batch starts, to undo it if any part fails: the caller
        // (`AuditLog`) drops the batch's leaves on an error, so a store that
        // kept part of it would put later records at other indexes than
        // the tree's, and every proof and checkpoint after would be wrong.
        let mark = AppendMark {
            segments: self.segments.len(),
            len: self.segments.last().map_or(0, |s| s.len),
            count: self.segments.last().map_or(0, |s| s.count),
        };
        // One reused buffer, one write per batch (per segment it touches).
        let mut chunk = std::mem::take(&mut self.write_buf);
        chunk.clear();
        let mut result = self.append_framed(records, tree, &mut chunk);
        self.write_buf = chunk;
        if result.is_ok() {
            self.unsynced += records.len();
            result = match self.options.durability {
                Durability::EveryAppend => self.sync_writer(),
                Durability::Group { records } if self.unsynced >= records => self.sync_writer(),
                _ => Ok(()),
            };
        }
        if result.is_err() && self.undo_append(&mark).is_err() {
            self.broken = true;
        }
        result
    }

    fn sync(&mut self) -> Result<(), Error> {
        self.sync_writer()
    }

    fn get(&self, index: u64) -> Result<Vec<u8>, Error> {
        let segment = self.locate_segment(index).ok_or(Error::IndexOutOfRange {
            index,
            size: self.len(),
        })?;
        let offsets = self.offsets(segment)?;
        let offset =
            *offsets
                .get((index - segment.first) as usize)
                .ok_or(Error::IndexOutOfRange {
                    index,
                    size: self.len(),
                })?;
        let file = File::open(&segment.path).map_err(io(&segment.path))?;
        let mut head = [0u8; 4];
        file.read_exact_at(&mut head, offset)
            .map_err(io(&segment.path))?;
        let len = be_u32(&head) as usize;
        if len > MAX_RECORD_LEN {
            return Err(tampered(
                &segment.path,
                offset,
                Some(index),
                "record length changed",
            ));
        }
        let mut framed = vec![0u8; len + record_overhead(segment.version)];
        file.read_exact_at(&mut framed, offset)
            .map_err(io(&segment.path))?;
        check_framed(&segment.path, offset, index, segment.version, &framed)?;
        Ok(payload(segment.version, &framed).to_vec())
    }

    fn scan(&self, from: u64, f: &mut Visitor<'_>) -> Result<(), Error> {
        self.scan_runs(from, &mut |first, records| {
            for (index, record) in (first..).zip(records) {
                f(index, record)?;
            }
            Ok(())
        })
    }

    fn scan_runs(&self, from: u64, f: &mut RunVisitor<'_>) -> Result<(), Error> {
        // A segment not parsed yet is read even if it seems to end before
        // `from`: its record count is only checked by parsing.
        let wanted: Vec<&Segment> = self
            .segments
            .iter()
            .filter(|s| s.offsets.get().is_none() || (s.first + s.count > from && s.count > 0))
            .collect();
        if wanted.len() < 2 {
            let mut buf = Vec::new();
            for segment in wanted {
                read_file(&segment.path, &mut buf)?;
                self.visit_segment(segment, &buf, from, f)?;
            }
            return Ok(());
        }
        // Several segments: a reader thread reads the next segment while
        // this one is checked, two buffers taking turns (no fresh pages per
        // segment).
        let paths: Vec<PathBuf> = wanted.iter().map(|s| s.path.clone()).collect();
        std::thread::scope(|scope| {
            let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<Result<Vec<u8>, Error>>(1);
            let (empty_tx, empty_rx) = std::sync::mpsc::channel::<Vec<u8>>();
            for _ in 0..2 {
                let _ = empty_tx.send(Vec::new());
            }
            scope.spawn(move || {
                for path in paths {
                    let Ok(mut buf) = empty_rx.recv() else { return };
                    let read = read_file(&path, &mut buf).map(|()| buf);
                    if full_tx.send(read).is_err() {
                        return;
                    }
                }
            });
            for segment in wanted {
                let buf = full_rx
                    .recv()
                    .map_err(|_| Error::Store("the segment reader thread stopped".into()))??;
                self.visit_segment(segment, &buf, from, f)?;
                let _ = empty_tx.send(buf);
            }
            Ok(())
        })
    }

    fn anchors(&self) -> Result<Vec<Anchor>, Error> {
        Ok(self
            .segments
            .iter()
            .map(|s| Anchor {
                head: TreeHead {
                    size: s.first,
                    root: s.anchor,
                },
                path: s.path.clone(),
            })
            .collect())
    }

    fn locate(&self, index: u64) -> Option<(PathBuf, u64)> {
        SegmentStore::locate(self, index)
    }
}

/// The framed record at `offset` of a segment's `bytes` (its length read
/// from the record; the rest unchecked).
fn framed_at<'b>(
    path: &Path,
    bytes: &'b [u8],
    offset: u64,
    index: u64,
    version: u16,
) -> Result<&'b [u8], Error> {
    let start = offset as usize;
    let shrank = || tampered(path, offset, Some(index), "segment shrank");
    let len = bytes.get(start..start + 4).map(be_u32).ok_or_else(shrank)? as usize;
    bytes
        .get(start..start + len + record_overhead(version))
        .ok_or_else(shrank)
}

/// The payload of a framed record of format `version`.
fn payload(version: u16, framed: &[u8]) -> &[u8] {
    &framed[record_header_len(version)..framed.len() - 4]
}

/// The payloads of records `first..bad` of a segment's `bytes`, each
/// checked again: the records a failed parse got through before record `bad`.
fn sound_prefix<'b>(
    path: &Path,
    bytes: &'b [u8],
    first: u64,
    bad: u64,
    version: u16,
) -> Result<Vec<&'b [u8]>, Error> {
    let mut records = Vec::new();
    let mut offset = HEADER_LEN as u64;
    for index in first..bad.max(first) {
        let framed = framed_at(path, bytes, offset, index, version)?;
        check_framed(path, offset, index, version, framed)?;
        records.push(payload(version, framed));
        offset += framed.len() as u64;
    }
    Ok(records)
}

/// Reads the file at `path` into `buf` (replacing what it held, reusing its
/// memory).
fn read_file(path: &Path, buf: &mut Vec<u8>) -> Result<(), Error> {
    buf.clear();
    let mut file = File::open(path).map_err(io(path))?;
    let len = file.metadata().map_or(0, |m| m.len());
    buf.reserve(usize::try_from(len).unwrap_or(0));
    file.read_to_end(buf).map_err(io(path))?;
    Ok(())
}

/// Reads at most a segment header's bytes of the file at `path` into `buf`.
fn read_header(path: &Path, buf: &mut Vec<u8>) -> Result<(), Error> {
    buf.clear();
    let file = File::open(path).map_err(io(path))?;
    file.take(HEADER_LEN as u64)
        .read_to_end(buf)
        .map_err(io(path))?;
    Ok(())
}

fn check_framed(
    path: &Path,
    offset: u64,
    index: u64,
    version: u16,
    framed: &[u8],
) -> Result<(), Error> {
    if complete_record(framed, version, index) != Some(framed.len()) {
        return Err(tampered(
            path,
            offset,
            Some(index),
            "record changed since the log was opened",
        ));
    }
    Ok(())
}
