//! The PostgreSQL store (feature `postgres`): one log shared by appenders on
//! several machines or processes.
//!
//! # Schema, version 1
//!
//! ```sql
//! CREATE TABLE custodia_audit_records (
//!     log TEXT NOT NULL, idx BIGINT NOT NULL, payload BYTEA NOT NULL, crc BIGINT NOT NULL,
//!     PRIMARY KEY (log, idx), CHECK (idx >= 0));
//! CREATE TABLE custodia_audit_heads (
//!     log TEXT NOT NULL, size BIGINT NOT NULL, root BYTEA NOT NULL, PRIMARY KEY (log, size));
//! CREATE TABLE custodia_audit_outbox (
//!     log TEXT NOT NULL, seq BIGINT GENERATED ALWAYS AS IDENTITY, payload BYTEA NOT NULL,
//!     PRIMARY KEY (log, seq));
//! ```
//!
//! Many logs share the tables, told apart by `log`. [`PostgresStore::migrate`]
//! creates them (as an owner) and [`PostgresStore::grant`] gives an
//! application role `SELECT, INSERT` only on the log: the role that appends
//! can neither update nor delete a record, so append-only is enforced by the
//! database. The outbox holds events staged in an application's own
//! transactions (`SqlxAuditStore::stage`, feature `sqlx`) until they are
//! drained into the log; the role may insert, read and delete there.
//!
//! # Concurrent appenders
//!
//! An append takes a transaction-scoped advisory lock on the log
//! (`pg_advisory_xact_lock`), reads the next index, and inserts. If another
//! appender got there first, the store reports [`Error::Stale`] and
//! [`crate::AuditLog`] catches up (reads the new records into its tree) and
//! retries, so every appender extends the same gap-free sequence and writes
//! the tree head it computed into `custodia_audit_heads`; [`crate::AuditLog::open`]
//! checks every recorded head against the recomputed tree, and
//! [`crate::AuditLog::catch_up`] the heads recorded over the records it reads,
//! so appenders that disagreed about a root, or a record replaced after its
//! writer recorded a head over it, would be caught.
//!
//! Opening never deletes or rewrites a row: a crash mid-append rolls its
//! transaction back, so there is no torn record to drop, and a gap or a bad
//! checksum is [`Error::Tampered`]. A writer holding a trusted checkpoint
//! opens with [`crate::AuditLog::open_extending`] to refuse a shorter log.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};

use postgres::{Client, NoTls};

pub use super::pgsql::SCHEMA_SQL;
use super::pgsql::{
    ANCHOR_COUNTS_SQL, APPEND_LOCK_SQL, GET_SQL, HEADS_SQL, INSERT_HEAD_SQL, INSERT_RECORD_SQL,
    MIGRATE_LOCK_SQL, NEXT_INDEX_SQL, SCAN_PAGE, SCAN_SQL, check_scanned, crc, grant_sql,
    heads_to_check, to_i64,
};
use super::{Anchor, AuditStore, Visitor};
use crate::Error;
use crate::merkle::MerkleTree;

/// Audit records of one log in PostgreSQL.
pub struct PostgresStore {
    client: Mutex<Client>,
    log: String,
    len: u64,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The connection string may hold a password: never print it.
        f.debug_struct("PostgresStore")
            .field("log", &self.log)
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

fn pg(source: postgres::Error) -> Error {
    Error::Postgres { source }
}

impl PostgresStore {
    /// Creates the tables if missing (needs a role that may create tables).
    /// Safe to run from several processes at once.
    pub fn migrate(client: &mut Client) -> Result<(), Error> {
        let mut tx = client.transaction().map_err(pg)?;
        tx.execute(MIGRATE_LOCK_SQL, &[]).map_err(pg)?;
        tx.batch_execute(SCHEMA_SQL).map_err(pg)?;
        tx.commit().map_err(pg)
    }

    /// Lets `role` read and append, and nothing else: privileges the role had
    /// on the audit tables (for instance from `ALTER DEFAULT PRIVILEGES`) are
    /// revoked first, so UPDATE and DELETE are refused even where the schema
    /// grants them to application roles by default.
    pub fn grant(client: &mut Client, role: &str) -> Result<(), Error> {
        let grant = grant_sql(role)?;
        let mut tx = client.transaction().map_err(pg)?;
        tx.execute(MIGRATE_LOCK_SQL, &[]).map_err(pg)?;
        tx.batch_execute(&grant).map_err(pg)?;
        tx.commit().map_err(pg)
    }

    /// Connects to `url` (a libpq connection string) and opens log `log`.
    pub fn connect(url: &str, log: &str) -> Result<Self, Error> {
        let client = Client::connect(url, NoTls).map_err(pg)?;
        Self::with_client(client, log)
    }

    /// Opens log `log` over an existing connection.
    pub fn with_client(client: Client, log: &str) -> Result<Self, Error> {
        if log.is_empty() {
            return Err(Error::Store("empty log name".into()));
        }
        let mut store = Self {
            client: Mutex::new(client),
            log: log.to_owned(),
            len: 0,
        };
        store.len = store.next_index()?;
        Ok(store)
    }

    fn client(&self) -> MutexGuard<'_, Client> {
        self.client.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn next_index(&self) -> Result<u64, Error> {
        let row = self
            .client()
            .query_one(NEXT_INDEX_SQL, &[&self.log])
            .map_err(pg)?;
        let next: i64 = row.get(0);
        Ok(u64::try_from(next).unwrap_or(0))
    }

    fn place(&self) -> PathBuf {
        super::pgsql::place(&self.log)
    }

    fn tampered(&self, index: u64, reason: impl Into<String>) -> Error {
        super::pgsql::tampered(&self.log, index, reason)
    }

    /// The heads recorded for trees of more than `after` and at most `upto`
    /// records, once no head is found recorded beyond the last record.
    fn heads(&self, after: u64, upto: u64) -> Result<Vec<Anchor>, Error> {
        let mut client = self.client();
        // One statement, one snapshot.
        let counts = client
            .query_one(ANCHOR_COUNTS_SQL, &[&self.log])
            .map_err(pg)?;
        let rows = client
            .query(HEADS_SQL, &[&self.log, &to_i64(after)?, &to_i64(upto)?])
            .map_err(pg)?;
        heads_to_check(
            &self.log,
            (
                counts.try_get(0).map_err(pg)?,
                counts.try_get(1).map_err(pg)?,
            ),
            rows.iter()
                .map(|row| Ok((row.try_get(0).map_err(pg)?, row.try_get(1).map_err(pg)?))),
        )
    }
}

impl AuditStore for PostgresStore {
    fn len(&self) -> u64 {
        self.len
    }

    fn append(&mut self, records: &[&[u8]], tree: &MerkleTree) -> Result<(), Error> {
        let mut client = self.client.lock().unwrap_or_else(PoisonError::into_inner);
        let mut tx = client.transaction().map_err(pg)?;
        tx.execute(APPEND_LOCK_SQL, &[&self.log]).map_err(pg)?;
        let row = tx.query_one(NEXT_INDEX_SQL, &[&self.log]).map_err(pg)?;
        let next = u64::try_from(row.get::<_, i64>(0)).unwrap_or(0);
        if next != self.len {
            return Err(Error::Stale {
                expected: self.len,
                found: next,
            });
        }
        let insert = tx.prepare(INSERT_RECORD_SQL).map_err(pg)?;
        for (index, record) in (self.len..).zip(records) {
            tx.execute(
                &insert,
                &[&self.log, &to_i64(index)?, record, &crc(index, record)],
            )
            .map_err(pg)?;
        }
        let size = self.len + records.len() as u64;
        let root = tree.root_at(size)?;
        tx.execute(INSERT_HEAD_SQL, &[&self.log, &to_i64(size)?, &&root[..]])
            .map_err(pg)?;
        tx.commit().map_err(pg)?;
        drop(client);
        self.len = size;
        Ok(())
    }

    fn sync(&mut self) -> Result<(), Error> {
        // A committed transaction is durable (synchronous_commit permitting).
        Ok(())
    }

    fn refresh(&mut self) -> Result<(), Error> {
        self.len = self.next_index()?;
        Ok(())
    }

    fn get(&self, index: u64) -> Result<Vec<u8>, Error> {
        crate::error::check_index(index, self.len)?;
        let row = self
            .client()
            .query_opt(GET_SQL, &[&self.log, &to_i64(index)?])
            .map_err(pg)?
            .ok_or_else(|| self.tampered(index, "record is missing"))?;
        let payload: Vec<u8> = row.get(0);
        if row.get::<_, i64>(1) != crc(index, &payload) {
            return Err(self.tampered(index, "record checksum mismatch"));
        }
        Ok(payload)
    }

    fn scan(&self, from: u64, f: &mut Visitor<'_>) -> Result<(), Error> {
        let mut expected = from;
        while expected < self.len {
            let rows = self
                .client()
                .query(
                    SCAN_SQL,
                    &[
                        &self.log,
                        &to_i64(expected)?,
                        &to_i64(self.len)?,
                        &SCAN_PAGE,
                    ],
                )
                .map_err(pg)?;
            if rows.is_empty() {
                return Err(self.tampered(expected, "records are missing at the end"));
            }
            for row in rows {
                let payload: &[u8] = row.get(1);
                check_scanned(&self.log, expected, row.get(0), payload, row.get(2))?;
                f(expected, payload)?;
                expected += 1;
            }
        }
        Ok(())
    }

    fn anchors(&self) -> Result<Vec<Anchor>, Error> {
        // Heads other writers added since this store last looked are checked
        // by the catch-up that reads their records (`anchors_between`).
        self.heads(0, self.len)
    }

    fn anchors_between(&self, after: u64, upto: u64) -> Result<Vec<Anchor>, Error> {
        self.heads(after, upto)
    }

    fn locate(&self, index: u64) -> Option<(PathBuf, u64)> {
        Some((self.place(), index))
    }
}
