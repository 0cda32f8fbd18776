//! The SQLite store (feature `sqlite`, rusqlite with bundled SQLite).
//!
//! # Schema, version 1
//!
//! ```sql
//! CREATE TABLE audit_meta    (key TEXT PRIMARY KEY, value BLOB NOT NULL);   -- 'version' = 1
//! CREATE TABLE audit_records (idx INTEGER PRIMARY KEY, payload BLOB NOT NULL, crc INTEGER NOT NULL);
//! CREATE TABLE audit_anchors (size INTEGER PRIMARY KEY, root BLOB NOT NULL);
//! ```
//!
//! `idx` is the record index from 0 (no gaps: a gap is tampering); `payload`
//! the canonical event; `crc` the CRC-32 of the 8-byte big-endian index and
//! the payload, so a changed or moved payload is caught row by row. Every
//! [`ANCHOR_EVERY`] records the root of the tree so far is kept in
//! `audit_anchors` and checked on open (and by the catch-up that reads the
//! records under it), like a segment header's anchor. Appends run in one transaction, so a batch is all or nothing, and a
//! second writer racing for the same index fails on the primary key instead of
//! forking the log (it reports [`Error::Stale`], and the log catches up and
//! retries). [`Durability`] maps to `PRAGMA synchronous`: `FULL` for
//! every append, `NORMAL` (WAL) for group commit, `OFF` for never.
//!
//! Opening never deletes or rewrites a row: a crash mid-append rolls its
//! transaction back, so there is no torn record to drop, and a gap or a bad
//! checksum is [`Error::Tampered`]. A writer holding a trusted checkpoint
//! opens with [`crate::AuditLog::open_extending`] to refuse a shorter log.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

use super::row::{tampered, to_i64};
use super::{Anchor, AnchorRow, AuditStore, Durability, RecordRow, Visitor};
use crate::Error;
use crate::merkle::MerkleTree;

/// How often (in records) an anchor is written.
pub const ANCHOR_EVERY: u64 = 1024;
/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i64 = 1;

/// Audit records in a SQLite database.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    len: u64,
}

fn db(path: &Path) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |source| Error::Sqlite {
        path: path.to_path_buf(),
        source,
    }
}

impl SqliteStore {
    /// Opens (or creates) the database at `path`.
    pub fn open(path: impl AsRef<Path>, durability: Durability) -> Result<Self, Error> {
        let path = path.as_ref().to_owned();
        let conn = Connection::open(&path).map_err(db(&path))?;
        let sync = match durability {
            Durability::EveryAppend => "FULL",
            Durability::Group { .. } => "NORMAL",
            Durability::Never => "OFF",
        };
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = {sync};
             PRAGMA busy_timeout = 5000;
             CREATE TABLE IF NOT EXISTS audit_meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
             CREATE TABLE IF NOT EXISTS audit_records (idx INTEGER PRIMARY KEY, payload BLOB NOT NULL, crc INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS audit_anchors (size INTEGER PRIMARY KEY, root BLOB NOT NULL);
             INSERT OR IGNORE INTO audit_meta (key, value) VALUES ('version', {SCHEMA_VERSION});"
        ))
        .map_err(db(&path))?;
        let version: i64 = conn
            .query_row(
                "SELECT value FROM audit_meta WHERE key = 'version'",
                [],
                |r| r.get(0),
            )
            .map_err(db(&path))?;
        if version != SCHEMA_VERSION {
            return Err(Error::Store(format!(
                "{}: unsupported audit schema version {version}",
                path.display()
            )));
        }
        let mut store = Self { conn, path, len: 0 };
        store.len = store.count()?;
        Ok(store)
    }

    fn count(&self) -> Result<u64, Error> {
        let next: Option<i64> = self
            .conn
            .query_row("SELECT MAX(idx) + 1 FROM audit_records", [], |r| r.get(0))
            .map_err(db(&self.path))?;
        Ok(next.map_or(0, |n| n.max(0) as u64))
    }

    /// The anchors `sql` selects (`size, root`) with `params`.
    fn anchor_rows(&self, sql: &str, params: impl rusqlite::Params) -> Result<Vec<Anchor>, Error> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(db(&self.path))?;
        let rows = stmt
            .query_map(params, |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .map_err(db(&self.path))?;
        let mut anchors = Vec::new();
        for row in rows {
            let (size, root) = row.map_err(db(&self.path))?;
            anchors.push(Anchor {
                head: AnchorRow { size, root: &root }.decode(&self.path)?,
                path: self.path.clone(),
            });
        }
        Ok(anchors)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl AuditStore for SqliteStore {
    fn len(&self) -> u64 {
        self.len
    }

    fn append(&mut self, records: &[&[u8]], tree: &MerkleTree) -> Result<(), Error> {
        let path = self.path.clone();
        // IMMEDIATE: take the write lock before reading the next index.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(db(&path))?;
        // Another writer may have appended since we looked.
        let next: Option<i64> = tx
            .query_row("SELECT MAX(idx) + 1 FROM audit_records", [], |r| r.get(0))
            .map_err(db(&path))?;
        let next = next.map_or(0, |n| n.max(0) as u64);
        if next != self.len {
            return Err(Error::Stale {
                expected: self.len,
                found: next,
            });
        }
        {
            let mut insert = tx
                .prepare_cached("INSERT INTO audit_records (idx, payload, crc) VALUES (?1, ?2, ?3)")
                .map_err(db(&path))?;
            let mut anchor = tx
                .prepare_cached("INSERT OR REPLACE INTO audit_anchors (size, root) VALUES (?1, ?2)")
                .map_err(db(&path))?;
            for (index, record) in (self.len..).zip(records) {
                if index > 0 && index % ANCHOR_EVERY == 0 {
                    let root = tree.root_at(index)?;
                    anchor
                        .execute(params![to_i64(index)?, &root[..]])
                        .map_err(db(&path))?;
                }
                insert
                    .execute(params![
                        to_i64(index)?,
                        record,
                        RecordRow::checksum(index, record)
                    ])
                    .map_err(db(&path))?;
            }
        }
        tx.commit().map_err(db(&path))?;
        self.len += records.len() as u64;
        Ok(())
    }

    fn sync(&mut self) -> Result<(), Error> {
        // Committed transactions are as durable as `synchronous` makes them.
        Ok(())
    }

    fn refresh(&mut self) -> Result<(), Error> {
        self.len = self.count()?;
        Ok(())
    }

    fn get(&self, index: u64) -> Result<Vec<u8>, Error> {
        crate::error::check_index(index, self.len)?;
        let (payload, crc): (Vec<u8>, i64) = self
            .conn
            .query_row(
                "SELECT payload, crc FROM audit_records WHERE idx = ?1",
                [to_i64(index)?],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db(&self.path))?
            .ok_or_else(|| tampered(&self.path, index, "record is missing"))?;
        RecordRow {
            index: to_i64(index)?,
            payload: &payload,
            crc,
        }
        .check(&self.path, index)?;
        Ok(payload)
    }

    fn scan(&self, from: u64, f: &mut Visitor<'_>) -> Result<(), Error> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT idx, payload, crc FROM audit_records WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
            )
            .map_err(db(&self.path))?;
        let mut rows = stmt
            .query(params![to_i64(from)?, to_i64(self.len)?])
            .map_err(db(&self.path))?;
        let mut expected = from;
        while let Some(row) = rows.next().map_err(db(&self.path))? {
            let payload = row.get_ref(1).map_err(db(&self.path))?;
            let record = RecordRow {
                index: row.get(0).map_err(db(&self.path))?,
                payload: payload
                    .as_blob()
                    .map_err(|_| tampered(&self.path, expected, "payload is not a blob"))?,
                crc: row.get(2).map_err(db(&self.path))?,
            };
            record.check(&self.path, expected)?;
            f(expected, record.payload)?;
            expected += 1;
        }
        if expected < self.len && from <= self.len {
            return Err(tampered(
                &self.path,
                expected,
                "records are missing at the end",
            ));
        }
        Ok(())
    }

    fn anchors(&self) -> Result<Vec<Anchor>, Error> {
        self.anchor_rows("SELECT size, root FROM audit_anchors ORDER BY size", [])
    }

    fn anchors_between(&self, after: u64, upto: u64) -> Result<Vec<Anchor>, Error> {
        self.anchor_rows(
            "SELECT size, root FROM audit_anchors WHERE size > ?1 AND size <= ?2 ORDER BY size",
            [to_i64(after)?, to_i64(upto)?],
        )
    }

    fn locate(&self, index: u64) -> Option<(PathBuf, u64)> {
        Some((self.path.clone(), index))
    }
}
