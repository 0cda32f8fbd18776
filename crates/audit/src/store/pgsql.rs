//! Driver-free PostgreSQL text and row rules shared by the sync
//! [`PostgresStore`](super::postgres::PostgresStore) (feature `postgres`) and
//! the async `SqlxAuditStore` (feature `sqlx`): one schema, one way to
//! serialise appenders, one checksum.

#![cfg_attr(not(all(feature = "postgres", feature = "sqlx")), allow(dead_code))]

use std::path::PathBuf;

use super::{Anchor, AnchorRow, RecordRow};
use crate::Error;

/// The schema this build creates and reads.
#[cfg_attr(not(feature = "postgres"), allow(unreachable_pub))]
pub const SCHEMA_SQL: &str = "
CREATE TABLE IF NOT EXISTS custodia_audit_records (
    log TEXT NOT NULL, idx BIGINT NOT NULL, payload BYTEA NOT NULL, crc BIGINT NOT NULL,
    PRIMARY KEY (log, idx), CHECK (idx >= 0));
CREATE TABLE IF NOT EXISTS custodia_audit_heads (
    log TEXT NOT NULL, size BIGINT NOT NULL, root BYTEA NOT NULL, PRIMARY KEY (log, size));
CREATE TABLE IF NOT EXISTS custodia_audit_outbox (
    log TEXT NOT NULL, seq BIGINT GENERATED ALWAYS AS IDENTITY, payload BYTEA NOT NULL,
    PRIMARY KEY (log, seq));
";

/// Serialises migrations and grants from several processes.
pub(crate) const MIGRATE_LOCK_SQL: &str =
    "SELECT pg_advisory_xact_lock(hashtext('custodia_audit:migrate'))";

/// Serialises appenders to log `$1`, in every process, until the transaction ends.
pub(crate) const APPEND_LOCK_SQL: &str =
    "SELECT pg_advisory_xact_lock(hashtext('custodia_audit:' || $1))";

/// The next index of log `$1` (its record count when gap-free).
pub(crate) const NEXT_INDEX_SQL: &str =
    "SELECT COALESCE(MAX(idx) + 1, 0) FROM custodia_audit_records WHERE log = $1";

/// One record: log, index, payload, [`crc`].
pub(crate) const INSERT_RECORD_SQL: &str =
    "INSERT INTO custodia_audit_records (log, idx, payload, crc) VALUES ($1, $2, $3, $4)";

/// Records in one statement: log, then arrays of index, payload, [`crc`].
pub(crate) const INSERT_RECORDS_SQL: &str =
    "INSERT INTO custodia_audit_records (log, idx, payload, crc)
     SELECT $1, * FROM UNNEST($2::bigint[], $3::bytea[], $4::bigint[])";

/// The tree head a writer computed: log, size, root.
pub(crate) const INSERT_HEAD_SQL: &str =
    "INSERT INTO custodia_audit_heads (log, size, root) VALUES ($1, $2, $3)";

/// An event staged for log `$1` in the caller's transaction: payload.
pub(crate) const STAGE_SQL: &str =
    "INSERT INTO custodia_audit_outbox (log, payload) VALUES ($1, $2)";

/// Takes the oldest `$2` events staged for log `$1`: seq, payload (any order).
pub(crate) const TAKE_STAGED_SQL: &str = "DELETE FROM custodia_audit_outbox
     WHERE log = $1 AND seq IN (
         SELECT seq FROM custodia_audit_outbox WHERE log = $1 ORDER BY seq LIMIT $2)
     RETURNING seq, payload";

/// Staged events per [`TAKE_STAGED_SQL`] page.
pub(crate) const STAGED_PAGE: i64 = 1_000;

/// Record `$2` of log `$1`: payload, crc.
pub(crate) const GET_SQL: &str =
    "SELECT payload, crc FROM custodia_audit_records WHERE log = $1 AND idx = $2";

/// Records `$2..$3` of log `$1`, at most `$4` ([`SCAN_PAGE`]): idx, payload, crc.
pub(crate) const SCAN_SQL: &str = "SELECT idx, payload, crc FROM custodia_audit_records
     WHERE log = $1 AND idx >= $2 AND idx < $3 ORDER BY idx LIMIT $4";

/// Rows per [`SCAN_SQL`] page.
pub(crate) const SCAN_PAGE: i64 = 10_000;

/// Largest recorded head size and record count of log `$1`, in one snapshot.
pub(crate) const ANCHOR_COUNTS_SQL: &str =
    "SELECT (SELECT COALESCE(MAX(size), 0) FROM custodia_audit_heads WHERE log = $1),
            (SELECT COALESCE(MAX(idx) + 1, 0) FROM custodia_audit_records WHERE log = $1)";

/// Recorded heads of log `$1` with sizes in `$2 < size <= $3`: size, root.
pub(crate) const HEADS_SQL: &str = "SELECT size, root FROM custodia_audit_heads
     WHERE log = $1 AND size > $2 AND size <= $3 ORDER BY size";

/// `REVOKE ALL` then `GRANT SELECT, INSERT` on the log's tables to `role`,
/// and `SELECT, INSERT, DELETE` on the outbox (staging and draining).
pub(crate) fn grant_sql(role: &str) -> Result<String, Error> {
    if role.is_empty() || !role.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(Error::Store(format!("invalid role name {role:?}")));
    }
    Ok(format!(
        "REVOKE ALL ON custodia_audit_records, custodia_audit_heads, custodia_audit_outbox FROM {role}; \
         GRANT SELECT, INSERT ON custodia_audit_records, custodia_audit_heads TO {role}; \
         GRANT SELECT, INSERT, DELETE ON custodia_audit_outbox TO {role}"
    ))
}

/// The checksum stored with each record (see [`RecordRow::checksum`]).
pub(crate) fn crc(index: u64, payload: &[u8]) -> i64 {
    RecordRow::checksum(index, payload)
}

pub(crate) use super::row::to_i64;

/// Where errors say a record of `log` lives.
pub(crate) fn place(log: &str) -> PathBuf {
    PathBuf::from(format!("postgres:custodia_audit_records/{log}"))
}

/// A tampering error at `index` of `log`.
pub(crate) fn tampered(log: &str, index: u64, reason: impl Into<String>) -> Error {
    super::row::tampered(&place(log), index, reason)
}

/// Checks one [`SCAN_SQL`] row against the index it should have.
pub(crate) fn check_scanned(
    log: &str,
    expected: u64,
    idx: i64,
    payload: &[u8],
    stored_crc: i64,
) -> Result<(), Error> {
    let row = RecordRow {
        index: idx,
        payload,
        crc: stored_crc,
    };
    row.check(&place(log), expected)
}

/// Checks one [`ANCHOR_COUNTS_SQL`] row: a head recorded beyond the last
/// record means records were removed from the end.
pub(crate) fn check_anchor_counts(log: &str, heads: i64, records: i64) -> Result<(), Error> {
    if heads > records {
        return Err(Error::Tampered {
            path: place(log),
            offset: 0,
            index: u64::try_from(records).ok(),
            reason: format!(
                "a writer recorded a tree of {heads} records but the log holds {records}: records were removed from the end"
            ),
        });
    }
    Ok(())
}

/// The anchors a verifier checks from one [`ANCHOR_COUNTS_SQL`] row
/// (`(largest head size, record count)`, see [`check_anchor_counts`]) and
/// the [`HEADS_SQL`] rows `(size, root)` read after it: what opening and
/// catching up check, for the sync and the async store alike.
pub(crate) fn heads_to_check<'r>(
    log: &str,
    (heads, records): (i64, i64),
    rows: impl IntoIterator<Item = Result<(i64, &'r [u8]), Error>>,
) -> Result<Vec<Anchor>, Error> {
    check_anchor_counts(log, heads, records)?;
    rows.into_iter()
        .map(|row| row.and_then(|(size, root)| anchor(log, size, root)))
        .collect()
}

/// One [`HEADS_SQL`] row as the anchor a verifier checks.
pub(crate) fn anchor(log: &str, size: i64, root: &[u8]) -> Result<Anchor, Error> {
    let path = place(log);
    Ok(Anchor {
        head: AnchorRow { size, root }.decode(&path)?,
        path,
    })
}
