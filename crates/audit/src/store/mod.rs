//! Where audit records live: the [`AuditStore`] trait and its implementations.
//!
//! A store keeps the canonical bytes of each event, in order, append-only. It
//! knows nothing about Merkle trees except that it may record *anchors*: tree
//! heads it was told at some index (the segment store writes the root of all
//! earlier records into each new segment's header), which a verifier checks
//! against the tree it recomputes.
//!
//! * [`MemoryStore`]: a `Vec`, for tests and for short-lived logs.
//! * [`SegmentStore`]: the embedded default, append-only segment files with
//!   length-prefixed, checksummed records, configurable fsync ([`Durability`])
//!   and crash recovery that drops at most one torn record (see [`segment`]).
//! * `SqliteStore` (feature `sqlite`): one table in a SQLite database, for
//!   hosts that already run SQLite (see the `sqlite` module).
//! * [`row`]: the SQL stores' record and anchor rows, decoded and checked
//!   without a driver (what every SQL adapter runs on the columns it fetched).
//! * `PostgresStore` (feature `postgres`): appenders in several processes or
//!   machines extend one gap-free log (see the `postgres` module).
//!
//! Only the segment store ever truncates on open: the SQL stores append in
//! transactions, so a crash leaves no partial record, and their open changes
//! nothing. A writer holding a trusted checkpoint opens any store with
//! [`crate::AuditLog::open_extending`] (the segment store also with
//! [`SegmentStore::open_at_least`]) to refuse a log shorter than it.
//!
//! A store shared by several writers reports [`crate::Error::Stale`] from
//! [`AuditStore::append`] when another writer appended first; [`AuditStore::refresh`]
//! then learns the new length and [`crate::AuditLog`] reads the new records,
//! checking them and the heads recorded over them
//! ([`AuditStore::anchors_between`]) as opening checks the whole store, and
//! retries.

mod memory;
#[cfg(any(feature = "postgres", feature = "sqlx"))]
mod pgsql;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod row;
pub mod segment;
#[cfg(feature = "sqlite")]
pub mod sqlite;
#[cfg(feature = "sqlx")]
mod sqlx_pg;

pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
pub use row::{AnchorRow, RecordRow};
pub use segment::{Durability, SegmentOptions, SegmentStore};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;
#[cfg(feature = "sqlx")]
pub use sqlx_pg::{DRAIN_LINGER, SqlxAuditStore};

use crate::Error;
use crate::merkle::{MerkleTree, TreeHead};

/// What [`AuditStore::scan`] calls for each record: `(index, record)`.
pub type Visitor<'a> = dyn FnMut(u64, &[u8]) -> Result<(), Error> + 'a;

/// What [`AuditStore::scan_runs`] calls for each run of consecutive records:
/// `(index of the first, records)`.
pub type RunVisitor<'a> = dyn FnMut(u64, &[&[u8]]) -> Result<(), Error> + 'a;

/// Records per run of the default [`AuditStore::scan_runs`].
const RUN: usize = 16 * 1024;

/// [`AuditStore::scan_runs`] from [`AuditStore::scan`]: copies up to [`RUN`] records into
/// one reused buffer per run.
fn scan_runs_by_copy<S: AuditStore + ?Sized>(
    store: &S,
    from: u64,
    f: &mut RunVisitor<'_>,
) -> Result<(), Error> {
    let mut first = from;
    let mut buf = Vec::new();
    let mut ends: Vec<usize> = Vec::with_capacity(RUN);
    let mut emit = |first: u64, buf: &mut Vec<u8>, ends: &mut Vec<usize>| {
        if ends.is_empty() {
            return Ok(());
        }
        let mut start = 0;
        let records: Vec<&[u8]> = ends
            .iter()
            .map(|&end| {
                let record = &buf[start..end];
                start = end;
                record
            })
            .collect();
        let result = f(first, &records);
        buf.clear();
        ends.clear();
        result
    };
    store.scan(from, &mut |index, record| {
        if ends.is_empty() {
            first = index;
        }
        buf.extend_from_slice(record);
        ends.push(buf.len());
        if ends.len() >= RUN {
            emit(first, &mut buf, &mut ends)?;
        }
        Ok(())
    })?;
    emit(first, &mut buf, &mut ends)
}

/// An append-only sequence of records (canonical event encodings).
pub trait AuditStore: Send {
    /// How many records the store holds.
    fn len(&self) -> u64;

    /// Whether the store holds no records.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends `records` in order, numbering them from [`AuditStore::len`].
    ///
    /// `tree` already holds these records' leaves (so `tree.size()` is the new
    /// length); a store may use it to anchor new segments. On error nothing of
    /// the batch may be visible afterwards.
    fn append(&mut self, records: &[&[u8]], tree: &MerkleTree) -> Result<(), Error>;

    /// Learns records other writers appended (shared stores only; the
    /// default does nothing).
    fn refresh(&mut self) -> Result<(), Error> {
        Ok(())
    }

    /// Makes every appended record durable (a no-op for memory).
    fn sync(&mut self) -> Result<(), Error>;

    /// The record at `index`.
    fn get(&self, index: u64) -> Result<Vec<u8>, Error>;

    /// Calls `f(index, record)` for every record from `from` on, in order,
    /// stopping at the first error.
    fn scan(&self, from: u64, f: &mut Visitor<'_>) -> Result<(), Error>;

    /// Calls `f(first, records)` for runs of consecutive records from `from`
    /// on, in order, stopping at the first error: the bulk form of
    /// [`AuditStore::scan`] that [`crate::AuditLog::open`] verifies with. The
    /// default copies runs out of [`AuditStore::scan`]; the segment store hands out
    /// each segment's records straight from the file buffer.
    fn scan_runs(&self, from: u64, f: &mut RunVisitor<'_>) -> Result<(), Error> {
        scan_runs_by_copy(self, from, f)
    }

    /// Tree heads the store recorded when it was written (see the
    /// [module documentation](self)), to be checked against the recomputed tree.
    fn anchors(&self) -> Result<Vec<Anchor>, Error> {
        Ok(Vec::new())
    }

    /// The [`AuditStore::anchors`] of trees of more than `after` and at most
    /// `upto` records: the heads [`crate::AuditLog::catch_up`] has still to
    /// check when its tree grew from `after` to `upto` records, so catching
    /// up checks what other writers recorded as opening does, without
    /// rereading every head. Heads beyond `upto` are left for a later catch-up:
    /// another writer may have recorded them after the store last looked.
    /// The default filters [`AuditStore::anchors`]; a store that can ask for
    /// the range alone (and check, in one snapshot, that no head was
    /// recorded beyond its last record) should.
    fn anchors_between(&self, after: u64, upto: u64) -> Result<Vec<Anchor>, Error> {
        let mut anchors = self.anchors()?;
        anchors.retain(|a| a.head.size > after && a.head.size <= upto);
        Ok(anchors)
    }

    /// Where record `index` is kept (file and byte offset), for reports.
    fn locate(&self, index: u64) -> Option<(std::path::PathBuf, u64)> {
        let _ = index;
        None
    }
}

/// A tree head a store recorded, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// The recorded head.
    pub head: TreeHead,
    /// The file that holds it.
    pub path: std::path::PathBuf,
}

impl<S: AuditStore + ?Sized> AuditStore for Box<S> {
    fn len(&self) -> u64 {
        (**self).len()
    }
    fn append(&mut self, records: &[&[u8]], tree: &MerkleTree) -> Result<(), Error> {
        (**self).append(records, tree)
    }
    fn sync(&mut self) -> Result<(), Error> {
        (**self).sync()
    }
    fn refresh(&mut self) -> Result<(), Error> {
        (**self).refresh()
    }
    fn get(&self, index: u64) -> Result<Vec<u8>, Error> {
        (**self).get(index)
    }
    fn scan(&self, from: u64, f: &mut Visitor<'_>) -> Result<(), Error> {
        (**self).scan(from, f)
    }
    fn scan_runs(&self, from: u64, f: &mut RunVisitor<'_>) -> Result<(), Error> {
        (**self).scan_runs(from, f)
    }
    fn anchors(&self) -> Result<Vec<Anchor>, Error> {
        (**self).anchors()
    }
    fn anchors_between(&self, after: u64, upto: u64) -> Result<Vec<Anchor>, Error> {
        (**self).anchors_between(after, upto)
    }
    fn locate(&self, index: u64) -> Option<(std::path::PathBuf, u64)> {
        (**self).locate(index)
    }
}
