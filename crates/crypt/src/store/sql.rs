//! The SQL key stores' driver-free core: schema, statements, row codecs and
//! the compare-and-swap logic, shared by [`SqliteKeyStore`](crate::SqliteKeyStore),
//! [`PostgresKeyStore`](crate::PostgresKeyStore) and
//! [`SqlxKeyStore`](crate::SqlxKeyStore) (the async driver runs these same
//! functions on tokio's blocking pool, awaiting each statement on sqlx).
//!
//! # Schema, version 1
//!
//! ```sql
//! CREATE TABLE custodia_key_meta (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
//!     -- 'schema_version' = 1; 'generation': bumped by every shred and keyring change,
//!     -- to max(generation + 1, the clock in microseconds) (see Generations below)
//! CREATE TABLE custodia_subject_keys (
//!     tenant BYTEA NOT NULL, subject BYTEA NOT NULL,      -- 16-byte UUIDs
//!     wrapped BYTEA,                                      -- the wrapped key; NULL once shredded
//!     receipt BYTEA,                                      -- the shred receipt (JSON); NULL while wrapped
//!     generation BIGINT NOT NULL DEFAULT 0,               -- the generation of the shred
//!     PRIMARY KEY (tenant, subject));
//! CREATE TABLE custodia_tenant_keys (
//!     tenant BYTEA PRIMARY KEY, keys BYTEA NOT NULL,      -- StoredTenantKeys (JSON): wrapped keys or a tombstone
//!     generation BIGINT NOT NULL DEFAULT 0);              -- the generation of the tenant shred
//! CREATE TABLE custodia_keyring (
//!     id BIGINT PRIMARY KEY CHECK (id = 1), record BYTEA NOT NULL,  -- KeyringRecord (JSON)
//!     generation BIGINT NOT NULL);
//! CREATE TABLE custodia_nonce_counts (
//!     tenant BYTEA NOT NULL, version BIGINT NOT NULL, reserved BIGINT NOT NULL,
//!     PRIMARY KEY (tenant, version));
//! ```
//!
//! (SQLite: `BLOB` for `BYTEA`.) One key store per schema (PostgreSQL) or
//! database file (SQLite). Every key is stored wrapped; a shred overwrites
//! the wrapped key with its tombstone, so the application role needs
//! `SELECT, INSERT, UPDATE` and never `DELETE`.
//!
//! # Transactions
//!
//! Every compare-and-swap reads its row `FOR UPDATE` in a transaction
//! (SQLite: `BEGIN IMMEDIATE`, which locks the database), decides with the
//! same functions as the in-memory store, and writes. A shred, a tenant shred
//! and a keyring change bump `generation` in the same transaction and stamp
//! their row with it, so [`KeyStore::changes_since`] is one read of the
//! counter when nothing changed, and three small reads when something did.
//! The counter's row lock orders the bumps, so no reader sees generation *n*
//! before the change stamped *n* is visible.
//!
//! # Generations
//!
//! A bump sets the counter to `max(generation + 1, now)`, `now` being the
//! bumping process's clock ([`SystemTime`]) in microseconds since the Unix
//! epoch, passed as a parameter (a `CASE` in both dialects). So its values
//! never repeat, even across a restore of the store from a backup: without
//! the clock, as many bumps after the restore as it lost bring the counter
//! back to a value caches saw before it, they read "nothing changed" and
//! keep the keys of the subjects shredded since. With it, the first bump
//! after a restore lifts the counter past every value any process saw
//! before the restore (stamped at earlier times), so a cache's next
//! [`KeyStore::changes_since`] lists every shred since the restore; a cache
//! that checks before that bump sees the counter below its value and drops
//! everything, as before. Generations move by one or more: they order
//! changes, they do not count them. A store made before this rule migrates
//! by itself: its first bump jumps from its small count to the clock.
//!
//! This assumes the clocks of the processes sharing a store agree (NTP) to
//! well within the time a restore takes, and that bumps do not come faster
//! than one a microsecond for long (only then does the counter run ahead of
//! the clock). A clock that steps back, or lies before the epoch or past
//! half the `BIGINT` range (read as 0), only makes a bump add one:
//! `generation + 1` is taken whenever it is not below `now`, so a value is
//! never reused and the counter never stalls. A clock far ahead lifts the
//! counter that far for good, and until real time catches up bumps add one,
//! with no protection against restores.
//!
//! # Rows that do not decode
//!
//! A row that is not what this build writes (a wrong length of id, a
//! tombstone and a key at once, JSON that does not decode, a receipt naming
//! another tenant) is [`Error::KeyStoreRow`], naming table and key; it is
//! never rewritten or overwritten.

// Without a driver only the row codecs are used (by `SqlKeyRow`).
#![cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "sqlx")),
    allow(dead_code)
)]

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use custodia_core::uuid::Uuid;
use custodia_core::{SubjectId, TenantId};

use super::{
    KeyStore, KeyStoreChanges, KeyringRecord, NonceCount, ShredOutcome, ShredReceipt, StoreState,
    StoredSubjectKey, StoredTenantKeys, TenantKeySlot, TenantShredReceipt,
};
use crate::Error;

/// The schema version this build creates and reads.
pub const KEY_STORE_SCHEMA_VERSION: i64 = 1;

/// The schema, in PostgreSQL's dialect (SQLite reads it through [`for_sqlite`]).
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS custodia_key_meta (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS custodia_subject_keys (
    tenant BYTEA NOT NULL, subject BYTEA NOT NULL, wrapped BYTEA, receipt BYTEA,
    generation BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (tenant, subject));
CREATE INDEX IF NOT EXISTS custodia_subject_keys_shredded
    ON custodia_subject_keys (generation) WHERE generation > 0;
CREATE TABLE IF NOT EXISTS custodia_tenant_keys (
    tenant BYTEA PRIMARY KEY, keys BYTEA NOT NULL, generation BIGINT NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS custodia_keyring (
    id BIGINT PRIMARY KEY CHECK (id = 1), record BYTEA NOT NULL, generation BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS custodia_nonce_counts (
    tenant BYTEA NOT NULL, version BIGINT NOT NULL, reserved BIGINT NOT NULL,
    PRIMARY KEY (tenant, version));
INSERT INTO custodia_key_meta (name, value) VALUES ('schema_version', 1), ('generation', 1)
    ON CONFLICT (name) DO NOTHING;
";

/// The tables, for grants.
#[cfg(any(feature = "postgres", feature = "sqlx"))]
const TABLES: &str = "custodia_key_meta, custodia_subject_keys, custodia_tenant_keys, \
     custodia_keyring, custodia_nonce_counts";

/// Serialises schema changes of concurrent migrations (PostgreSQL).
#[cfg(any(feature = "postgres", feature = "sqlx"))]
pub(crate) const MIGRATE_LOCK: &str =
    "SELECT pg_advisory_xact_lock(hashtext('custodia_keys:migrate'))";

/// What `grant` runs (PostgreSQL): revoke everything `role` held on the
/// tables, then give back exactly `SELECT, INSERT, UPDATE`.
#[cfg(any(feature = "postgres", feature = "sqlx"))]
pub(crate) fn grant_sql(role: &str) -> Result<String, Error> {
    if role.is_empty() || !role.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(Error::InvalidConfig(
            "a role name must be ASCII letters, digits and underscores",
        ));
    }
    Ok(format!(
        "REVOKE ALL ON {TABLES} FROM {role}; GRANT SELECT, INSERT, UPDATE ON {TABLES} TO {role}"
    ))
}

const META: &str = "SELECT value FROM custodia_key_meta WHERE name = 'schema_version'";
const GENERATION: &str = "SELECT value FROM custodia_key_meta WHERE name = 'generation'";
/// Adds one, or lifts the counter to `$1`, the bumping process's clock in
/// microseconds, if that is more: `max(value + 1, $1)` in both dialects.
const BUMP: &str = "UPDATE custodia_key_meta \
     SET value = CASE WHEN value + 1 > $1 THEN value + 1 ELSE $1 END \
     WHERE name = 'generation' RETURNING value";
const GET_SUBJECT: &str = "SELECT tenant, subject, wrapped, receipt FROM custodia_subject_keys \
     WHERE tenant = $1 AND subject = $2";
const INSERT_SUBJECT: &str = "INSERT INTO custodia_subject_keys (tenant, subject, wrapped) \
     VALUES ($1, $2, $3) ON CONFLICT (tenant, subject) DO NOTHING";
/// The tombstone of a subject without an entry: inserts nothing (and waits
/// for a concurrent insertion to commit, in PostgreSQL) if there is a row.
const TOMBSTONE_NEW_SUBJECT: &str = "INSERT INTO custodia_subject_keys \
     (tenant, subject, wrapped, receipt, generation) VALUES ($1, $2, NULL, $3, $4) \
     ON CONFLICT (tenant, subject) DO NOTHING";
const LOCK_SUBJECT: &str = "SELECT tenant, subject, wrapped, receipt FROM custodia_subject_keys \
     WHERE tenant = $1 AND subject = $2 FOR UPDATE";
const TOMBSTONE_SUBJECT: &str = "UPDATE custodia_subject_keys \
     SET wrapped = NULL, receipt = $3, generation = $4 WHERE tenant = $1 AND subject = $2";
const WRAPPED_SUBJECTS: &str = "SELECT tenant, subject, wrapped, receipt FROM custodia_subject_keys \
     WHERE wrapped IS NOT NULL ORDER BY tenant, subject";
const REPLACE_WRAPPED: &str = "UPDATE custodia_subject_keys SET wrapped = $4 \
     WHERE tenant = $1 AND subject = $2 AND wrapped = $3";
const GET_KEYRING: &str = "SELECT record FROM custodia_keyring WHERE id = 1";
const LOCK_KEYRING: &str = "SELECT record FROM custodia_keyring WHERE id = 1 FOR UPDATE";
const INSERT_KEYRING: &str = "INSERT INTO custodia_keyring (id, record, generation) \
     VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING";
const UPDATE_KEYRING: &str =
    "UPDATE custodia_keyring SET record = $1, generation = $2 WHERE id = 1";
const GET_TENANT: &str = "SELECT tenant, keys FROM custodia_tenant_keys WHERE tenant = $1";
const LOCK_TENANT: &str =
    "SELECT tenant, keys FROM custodia_tenant_keys WHERE tenant = $1 FOR UPDATE";
const LOCK_TENANTS: &str =
    "SELECT tenant, keys FROM custodia_tenant_keys ORDER BY tenant FOR UPDATE";
const ENSURE_TENANT: &str = "INSERT INTO custodia_tenant_keys (tenant, keys) VALUES ($1, $2) \
     ON CONFLICT (tenant) DO NOTHING";
const UPDATE_TENANT: &str = "UPDATE custodia_tenant_keys SET keys = $2 WHERE tenant = $1";
const TOMBSTONE_TENANT: &str =
    "UPDATE custodia_tenant_keys SET keys = $2, generation = $3 WHERE tenant = $1";
const GET_NONCES: &str = "SELECT tenant, version, reserved FROM custodia_nonce_counts WHERE tenant = $1 AND version = $2";
const LOCK_NONCES: &str = "SELECT tenant, version, reserved FROM custodia_nonce_counts \
     WHERE tenant = $1 AND version = $2 FOR UPDATE";
const ENSURE_NONCES: &str = "INSERT INTO custodia_nonce_counts (tenant, version, reserved) \
     VALUES ($1, $2, 0) ON CONFLICT (tenant, version) DO NOTHING";
const UPDATE_NONCES: &str =
    "UPDATE custodia_nonce_counts SET reserved = $3 WHERE tenant = $1 AND version = $2";
const ALL_NONCES: &str =
    "SELECT tenant, version, reserved FROM custodia_nonce_counts ORDER BY tenant, version";
const SHREDDED_SUBJECTS: &str =
    "SELECT tenant, subject FROM custodia_subject_keys WHERE generation > $1";
const SHREDDED_TENANTS: &str = "SELECT tenant FROM custodia_tenant_keys WHERE generation > $1";
const KEYRING_GENERATION: &str = "SELECT generation FROM custodia_keyring WHERE id = 1";

/// A statement in SQLite's dialect: numbered `?N` parameters, and no row
/// locks (`BEGIN IMMEDIATE` already holds the database's write lock).
#[cfg(any(feature = "sqlite", test))]
pub(crate) fn for_sqlite(sql: &str) -> String {
    sql.replace('$', "?")
        .replace(" FOR UPDATE", "")
        .replace("BYTEA", "BLOB")
}

/// A statement parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Param<'a> {
    Int(i64),
    Bytes(&'a [u8]),
}

/// A column value as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Bytes(Vec<u8>),
    /// A type the key store never writes (text, a float): a corrupted row.
    Other(&'static str),
}

/// What a driver does for the core: run a statement.
pub(crate) trait SqlExec {
    /// The rows a statement returns.
    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Vec<Value>>, Error>;
    /// How many rows a statement changed.
    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, Error>;
}

/// A connection: statements on their own (as a [`SqlExec`]), or in a write
/// transaction.
pub(crate) trait SqlConnection: SqlExec + Send + 'static {
    /// Runs `f` in a transaction that holds row locks (PostgreSQL) or the
    /// database's write lock (SQLite), committing if `f` succeeds.
    fn transaction<T>(
        &mut self,
        f: impl FnOnce(&mut dyn SqlExec) -> Result<T, Error>,
    ) -> Result<T, Error>;
}

/// The columns of one key-store row, as stored: what [`SqlKeyRow::check`]
/// decodes. For tools and fuzzing; the stores decode their rows the same way.
#[derive(Debug, Clone, Copy)]
pub enum SqlKeyRow<'a> {
    /// A row of `custodia_subject_keys`.
    Subject {
        /// `tenant`.
        tenant: &'a [u8],
        /// `subject`.
        subject: &'a [u8],
        /// `wrapped`.
        wrapped: Option<&'a [u8]>,
        /// `receipt`.
        receipt: Option<&'a [u8]>,
    },
    /// A row of `custodia_tenant_keys`.
    Tenant {
        /// `tenant`.
        tenant: &'a [u8],
        /// `keys`.
        keys: &'a [u8],
    },
    /// The row of `custodia_keyring`.
    Keyring {
        /// `record`.
        record: &'a [u8],
    },
    /// A row of `custodia_nonce_counts`.
    NonceCount {
        /// `tenant`.
        tenant: &'a [u8],
        /// `version`.
        version: i64,
        /// `reserved`.
        reserved: i64,
    },
}

impl SqlKeyRow<'_> {
    /// Decodes the row as a store would: `Ok` if a store would use it,
    /// else [`Error::KeyStoreRow`] naming it.
    pub fn check(&self) -> Result<(), Error> {
        let bytes = |b: Option<&[u8]>| b.map_or(Value::Null, |b| Value::Bytes(b.to_vec()));
        match *self {
            Self::Subject {
                tenant,
                subject,
                wrapped,
                receipt,
            } => decode_subject(&[
                bytes(Some(tenant)),
                bytes(Some(subject)),
                bytes(wrapped),
                bytes(receipt),
            ])
            .map(drop),
            Self::Tenant { tenant, keys } => {
                decode_tenant(&[bytes(Some(tenant)), bytes(Some(keys))]).map(drop)
            }
            Self::Keyring { record } => decode_keyring(&[bytes(Some(record))]).map(drop),
            Self::NonceCount {
                tenant,
                version,
                reserved,
            } => decode_nonces(&[
                bytes(Some(tenant)),
                Value::Int(version),
                Value::Int(reserved),
            ])
            .map(drop),
        }
    }
}

fn row_error(row: String, reason: impl Into<String>) -> Error {
    Error::KeyStoreRow {
        row,
        reason: reason.into(),
        source: None,
    }
}

/// An id column as text for naming a row: the UUID, or the raw bytes in hex.
fn show_id(value: Option<&Value>) -> String {
    match value {
        Some(Value::Bytes(b)) => Uuid::from_slice(b).map_or_else(
            |_| b.iter().map(|x| format!("{x:02x}")).collect::<String>(),
            |u| u.to_string(),
        ),
        Some(Value::Null) | None => "NULL".into(),
        Some(Value::Int(n)) => n.to_string(),
        Some(Value::Other(kind)) => format!("<{kind}>"),
    }
}

fn subject_row(row: &[Value]) -> String {
    format!(
        "custodia_subject_keys (tenant {}, subject {})",
        show_id(row.first()),
        show_id(row.get(1))
    )
}

fn tenant_row(row: &[Value]) -> String {
    format!("custodia_tenant_keys (tenant {})", show_id(row.first()))
}

fn nonce_row(row: &[Value]) -> String {
    format!(
        "custodia_nonce_counts (tenant {}, version {})",
        show_id(row.first()),
        show_id(row.get(1))
    )
}

const KEYRING_ROW: &str = "custodia_keyring (id 1)";

fn column<'v>(row: &'v [Value], i: usize, name: &str, row_name: &str) -> Result<&'v Value, Error> {
    row.get(i)
        .ok_or_else(|| row_error(row_name.to_owned(), format!("no column {name}")))
}

fn bytes_col<'v>(
    row: &'v [Value],
    i: usize,
    name: &str,
    row_name: &str,
) -> Result<Option<&'v [u8]>, Error> {
    match column(row, i, name, row_name)? {
        Value::Null => Ok(None),
        Value::Bytes(b) => Ok(Some(b)),
        _ => Err(row_error(
            row_name.to_owned(),
            format!("{name} is not bytes"),
        )),
    }
}

fn int_col(row: &[Value], i: usize, name: &str, row_name: &str) -> Result<i64, Error> {
    match column(row, i, name, row_name)? {
        Value::Int(n) => Ok(*n),
        _ => Err(row_error(
            row_name.to_owned(),
            format!("{name} is not an integer"),
        )),
    }
}

fn uuid_col(row: &[Value], i: usize, name: &str, row_name: &str) -> Result<Uuid, Error> {
    let bytes = bytes_col(row, i, name, row_name)?
        .ok_or_else(|| row_error(row_name.to_owned(), format!("{name} is NULL")))?;
    Uuid::from_slice(bytes).map_err(|_| {
        row_error(
            row_name.to_owned(),
            format!("{name} is {} bytes, not a 16-byte UUID", bytes.len()),
        )
    })
}

fn json<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    name: &str,
    row_name: &str,
) -> Result<T, Error> {
    serde_json::from_slice(bytes).map_err(|e| {
        // serde quotes a mistyped value whole, and a value here may be a key.
        let e = custodia_core::echo_json_error(e);
        Error::KeyStoreRow {
            row: row_name.to_owned(),
            reason: format!("{name} does not decode: {e}"),
            source: Some(e.into()),
        }
    })
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value).map_err(|e| Error::Encode { source: e.into() })
}

fn to_i64(n: u64, what: &str) -> Result<i64, Error> {
    i64::try_from(n).map_err(|_| Error::Store(format!("{what} {n} exceeds BIGINT")))
}

/// A `custodia_subject_keys` row: tenant, subject, wrapped, receipt.
fn decode_subject(row: &[Value]) -> Result<(TenantId, SubjectId, StoredSubjectKey), Error> {
    let name = subject_row(row);
    let tenant = TenantId::from_uuid(uuid_col(row, 0, "tenant", &name)?);
    let subject = SubjectId::from_uuid(uuid_col(row, 1, "subject", &name)?);
    let stored = match (
        bytes_col(row, 2, "wrapped", &name)?,
        bytes_col(row, 3, "receipt", &name)?,
    ) {
        (Some(wrapped), None) => StoredSubjectKey::Wrapped {
            envelope: wrapped.to_vec(),
        },
        (None, Some(receipt)) => {
            let receipt: ShredReceipt = json(receipt, "receipt", &name)?;
            if (receipt.tenant, receipt.subject) != (tenant, subject) {
                return Err(row_error(name, "the shred receipt names another subject"));
            }
            StoredSubjectKey::Shredded(receipt)
        }
        (Some(_), Some(_)) => return Err(row_error(name, "both a wrapped key and a tombstone")),
        (None, None) => return Err(row_error(name, "neither a wrapped key nor a tombstone")),
    };
    Ok((tenant, subject, stored))
}

/// A `custodia_tenant_keys` row: tenant, keys.
fn decode_tenant(row: &[Value]) -> Result<(TenantId, StoredTenantKeys), Error> {
    let name = tenant_row(row);
    let tenant = TenantId::from_uuid(uuid_col(row, 0, "tenant", &name)?);
    let keys =
        bytes_col(row, 1, "keys", &name)?.ok_or_else(|| row_error(name.clone(), "keys is NULL"))?;
    let keys: StoredTenantKeys = json(keys, "keys", &name)?;
    if let StoredTenantKeys::Shredded(receipt) = &keys
        && receipt.tenant != tenant
    {
        return Err(row_error(name, "the shred receipt names another tenant"));
    }
    Ok((tenant, keys))
}

/// The `custodia_keyring` row: record.
fn decode_keyring(row: &[Value]) -> Result<KeyringRecord, Error> {
    let record = bytes_col(row, 0, "record", KEYRING_ROW)?
        .ok_or_else(|| row_error(KEYRING_ROW.into(), "record is NULL"))?;
    json(record, "record", KEYRING_ROW)
}

/// A `custodia_nonce_counts` row: tenant, version, reserved.
fn decode_nonces(row: &[Value]) -> Result<NonceCount, Error> {
    let name = nonce_row(row);
    let tenant = TenantId::from_uuid(uuid_col(row, 0, "tenant", &name)?);
    let version = u32::try_from(int_col(row, 1, "version", &name)?)
        .map_err(|_| row_error(name.clone(), "version out of range"))?;
    let reserved = u64::try_from(int_col(row, 2, "reserved", &name)?)
        .map_err(|_| row_error(name.clone(), "reserved is negative"))?;
    Ok(NonceCount {
        tenant,
        version,
        reserved,
    })
}

fn one<T>(
    rows: Vec<Vec<Value>>,
    decode: impl FnOnce(&[Value]) -> Result<T, Error>,
) -> Result<Option<T>, Error> {
    rows.first().map(|row| decode(row)).transpose()
}

/// The clock values past which a bump ignores the clock: about 146,000
/// years after the epoch, half the `BIGINT` range, so that a wildly wrong
/// clock cannot push the counter near its end.
const MAX_CLOCK_MICROS: i64 = i64::MAX / 2;

/// What a bump at `now` lifts the generation to at least: microseconds since
/// the Unix epoch; 0, so that the bump adds one, for a clock before the
/// epoch or past [`MAX_CLOCK_MICROS`].
pub(crate) fn clock_micros(now: SystemTime) -> i64 {
    now.duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|since| i64::try_from(since.as_micros()).ok())
        .filter(|&micros| micros <= MAX_CLOCK_MICROS)
        .unwrap_or(0)
}

/// Moves the generation to `max(generation + 1, now in microseconds)` and
/// returns it (see the module docs, "Generations"). `now` is the caller's:
/// [`SystemTime::now`] in the stores, any time in tests.
pub(crate) fn bump(tx: &mut dyn SqlExec, now: SystemTime) -> Result<i64, Error> {
    let rows = tx.query(BUMP, &[Param::Int(clock_micros(now))])?;
    match rows
        .first()
        .map(|r| int_col(r, 0, "value", "custodia_key_meta (generation)"))
    {
        Some(generation) => generation,
        None => Err(Error::Store(
            "custodia_key_meta has no generation row: run the key store's migrate".into(),
        )),
    }
}

pub(crate) fn meta_generation(exec: &mut dyn SqlExec) -> Result<u64, Error> {
    let rows = exec.query(GENERATION, &[])?;
    let row_name = "custodia_key_meta (generation)";
    let value = match rows.first() {
        Some(row) => int_col(row, 0, "value", row_name)?,
        None => {
            return Err(row_error(
                row_name.into(),
                "missing: run the key store's migrate",
            ));
        }
    };
    u64::try_from(value).map_err(|_| row_error(row_name.into(), "negative"))
}

/// Checks the schema version recorded by `migrate`.
pub(crate) fn check_schema(exec: &mut dyn SqlExec) -> Result<(), Error> {
    let rows = exec.query(META, &[])?;
    let row_name = "custodia_key_meta (schema_version)";
    match rows.first() {
        Some(row) => match int_col(row, 0, "value", row_name)? {
            KEY_STORE_SCHEMA_VERSION => Ok(()),
            other => Err(row_error(
                row_name.into(),
                format!("schema version {other}, this build reads {KEY_STORE_SCHEMA_VERSION}"),
            )),
        },
        None => Err(row_error(
            row_name.into(),
            "missing: run the key store's migrate",
        )),
    }
}

/// A [`KeyStore`] over any [`SqlConnection`]: the SQL stores' shared body.
pub(crate) struct SqlKeyStore<C> {
    conn: Mutex<C>,
}

impl<C: SqlConnection> SqlKeyStore<C> {
    /// Wraps a connection to a migrated schema; fails if its version is not this build's.
    pub(crate) fn new(mut conn: C) -> Result<Self, Error> {
        check_schema(&mut conn)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, C> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn read<T>(&self, f: impl FnOnce(&mut dyn SqlExec) -> Result<T, Error>) -> Result<T, Error> {
        f(&mut *self.conn())
    }

    fn write<T>(&self, f: impl FnOnce(&mut dyn SqlExec) -> Result<T, Error>) -> Result<T, Error> {
        self.conn().transaction(f)
    }

    fn subject(
        exec: &mut dyn SqlExec,
        tenant: TenantId,
        subject: SubjectId,
    ) -> Result<Option<StoredSubjectKey>, Error> {
        let rows = exec.query(
            GET_SUBJECT,
            &[
                Param::Bytes(tenant.as_bytes()),
                Param::Bytes(subject.as_bytes()),
            ],
        )?;
        Ok(one(rows, decode_subject)?.map(|(_, _, stored)| stored))
    }
}

impl<C: SqlConnection> KeyStore for SqlKeyStore<C> {
    fn get(&self, tenant: TenantId, subject: SubjectId) -> Result<Option<StoredSubjectKey>, Error> {
        self.read(|exec| Self::subject(exec, tenant, subject))
    }

    fn insert_if_absent(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        wrapped: Vec<u8>,
    ) -> Result<StoredSubjectKey, Error> {
        self.read(|exec| {
            let (t, s) = (tenant.as_bytes(), subject.as_bytes());
            exec.execute(
                INSERT_SUBJECT,
                &[Param::Bytes(t), Param::Bytes(s), Param::Bytes(&wrapped)],
            )?;
            // Rows are never deleted: whoever won, the row is there now.
            Self::subject(exec, tenant, subject)?.ok_or_else(|| {
                Error::Store(format!(
                    "the key of subject {subject} in tenant {tenant} vanished after insertion"
                ))
            })
        })
    }

    fn shred(&self, receipt: &ShredReceipt) -> Result<ShredReceipt, Error> {
        let (tenant, subject) = (receipt.tenant, receipt.subject);
        let no_key = ShredReceipt {
            outcome: ShredOutcome::NoKeyExisted,
            ..receipt.clone()
        };
        let encoded = encode(&no_key)?;
        self.write(|tx| {
            let generation = bump(tx, SystemTime::now())?;
            let (t, s) = (
                Param::Bytes(tenant.as_bytes()),
                Param::Bytes(subject.as_bytes()),
            );
            // No row: the tombstone goes in, saying no key existed. The
            // insert and the lock below see a concurrent insertion, so the
            // outcome is what was there when the tombstone was written.
            let params = [t, s, Param::Bytes(&encoded), Param::Int(generation)];
            if tx.execute(TOMBSTONE_NEW_SUBJECT, &params)? == 1 {
                return Ok(no_key);
            }
            let current = one(tx.query(LOCK_SUBJECT, &[t, s])?, decode_subject)?
                .ok_or_else(|| {
                    Error::Store(format!(
                        "the key of subject {subject} in tenant {tenant} vanished during a shred"
                    ))
                })?
                .2;
            // The in-memory store's rule decides: keep a tombstone, destroy a key.
            let mut state = StoreState::default();
            state.subjects.insert((tenant, subject), current);
            let (stored, changed) = state.shred_subject(receipt);
            if changed {
                let encoded = encode(&stored)?;
                let params = [t, s, Param::Bytes(&encoded), Param::Int(generation)];
                tx.execute(TOMBSTONE_SUBJECT, &params)?;
            }
            Ok(stored)
        })
    }

    fn wrapped_keys(&self) -> Result<Vec<(TenantId, SubjectId, Vec<u8>)>, Error> {
        let rows = self.read(|exec| exec.query(WRAPPED_SUBJECTS, &[]))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            if let (tenant, subject, StoredSubjectKey::Wrapped { envelope }) = decode_subject(&row)?
            {
                out.push((tenant, subject, envelope));
            }
        }
        Ok(out)
    }

    fn replace_wrapped(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        old: &[u8],
        new: Vec<u8>,
    ) -> Result<bool, Error> {
        let changed = self.read(|exec| {
            exec.execute(
                REPLACE_WRAPPED,
                &[
                    Param::Bytes(tenant.as_bytes()),
                    Param::Bytes(subject.as_bytes()),
                    Param::Bytes(old),
                    Param::Bytes(&new),
                ],
            )
        })?;
        Ok(changed == 1)
    }

    fn keyring(&self) -> Result<Option<KeyringRecord>, Error> {
        self.read(|exec| one(exec.query(GET_KEYRING, &[])?, decode_keyring))
    }

    fn replace_keyring(
        &self,
        expected: Option<&KeyringRecord>,
        new: KeyringRecord,
    ) -> Result<bool, Error> {
        let encoded = encode(&new)?;
        self.write(|tx| {
            let current = one(tx.query(LOCK_KEYRING, &[])?, decode_keyring)?;
            if current.as_ref() != expected {
                return Ok(false);
            }
            let generation = bump(tx, SystemTime::now())?;
            let params = [Param::Bytes(&encoded), Param::Int(generation)];
            let sql = if current.is_none() {
                INSERT_KEYRING
            } else {
                UPDATE_KEYRING
            };
            Ok(tx.execute(sql, &params)? == 1)
        })
    }

    fn tenant_keys(&self, tenant: TenantId) -> Result<Option<StoredTenantKeys>, Error> {
        let rows = self.read(|exec| exec.query(GET_TENANT, &[Param::Bytes(tenant.as_bytes())]))?;
        Ok(one(rows, decode_tenant)?.map(|(_, keys)| keys))
    }

    fn insert_tenant_key_if_absent(
        &self,
        tenant: TenantId,
        slot: TenantKeySlot,
        wrapped: Vec<u8>,
    ) -> Result<StoredTenantKeys, Error> {
        let empty = encode(&StoredTenantKeys::Active {
            data_keys: BTreeMap::new(),
            search_key: None,
        })?;
        self.write(|tx| {
            let t = Param::Bytes(tenant.as_bytes());
            tx.execute(ENSURE_TENANT, &[t, Param::Bytes(&empty)])?;
            let current = one(tx.query(LOCK_TENANT, &[t])?, decode_tenant)?
                .ok_or_else(|| Error::Store(format!("the keys of tenant {tenant} vanished")))?
                .1;
            // The in-memory store's rule decides: fill an empty slot of an active tenant.
            let mut state = StoreState::default();
            state.tenants.insert(tenant, current.clone());
            let next = state.insert_tenant_key(tenant, slot, wrapped);
            if next != current {
                tx.execute(UPDATE_TENANT, &[t, Param::Bytes(&encode(&next)?)])?;
            }
            Ok(next)
        })
    }

    fn shred_tenant(&self, receipt: &TenantShredReceipt) -> Result<TenantShredReceipt, Error> {
        let empty = encode(&StoredTenantKeys::Active {
            data_keys: BTreeMap::new(),
            search_key: None,
        })?;
        self.write(|tx| {
            let t = Param::Bytes(receipt.tenant.as_bytes());
            // Lock the row (made first if the tenant has none) so that of two
            // overlapping shreds the second sees the first's tombstone.
            tx.execute(ENSURE_TENANT, &[t, Param::Bytes(&empty)])?;
            let current = one(tx.query(LOCK_TENANT, &[t])?, decode_tenant)?;
            let mut state = StoreState::default();
            match current {
                Some((_, StoredTenantKeys::Shredded(first))) => return Ok(first),
                Some((_, keys)) => {
                    state.tenants.insert(receipt.tenant, keys);
                }
                None => {}
            }
            // The in-memory store's rule fills in the versions and the outcome.
            let stored = state.shred_tenant(receipt);
            let encoded = encode(&StoredTenantKeys::Shredded(stored.clone()))?;
            let generation = bump(tx, SystemTime::now())?;
            tx.execute(
                TOMBSTONE_TENANT,
                &[t, Param::Bytes(&encoded), Param::Int(generation)],
            )?;
            Ok(stored)
        })
    }

    fn remove_tenant_keys(&self, version: u32) -> Result<u64, Error> {
        self.write(|tx| {
            let mut state = StoreState::default();
            for row in tx.query(LOCK_TENANTS, &[])? {
                let (tenant, keys) = decode_tenant(&row)?;
                state.tenants.insert(tenant, keys);
            }
            let before = state.tenants.clone();
            let removed = state.remove_tenant_keys(version);
            for (tenant, keys) in &state.tenants {
                if before.get(tenant) != Some(keys) {
                    tx.execute(
                        UPDATE_TENANT,
                        &[
                            Param::Bytes(tenant.as_bytes()),
                            Param::Bytes(&encode(keys)?),
                        ],
                    )?;
                }
            }
            Ok(removed)
        })
    }

    fn nonces_reserved(&self, tenant: TenantId, version: u32) -> Result<u64, Error> {
        let params = [
            Param::Bytes(tenant.as_bytes()),
            Param::Int(i64::from(version)),
        ];
        let rows = self.read(|exec| exec.query(GET_NONCES, &params))?;
        Ok(one(rows, decode_nonces)?.map_or(0, |n| n.reserved))
    }

    fn replace_nonces_reserved(
        &self,
        tenant: TenantId,
        version: u32,
        expected: u64,
        new: u64,
    ) -> Result<bool, Error> {
        let next = to_i64(new, "nonce count")?;
        self.write(|tx| {
            let key = [
                Param::Bytes(tenant.as_bytes()),
                Param::Int(i64::from(version)),
            ];
            tx.execute(ENSURE_NONCES, &key)?;
            let current =
                one(tx.query(LOCK_NONCES, &key)?, decode_nonces)?.map_or(0, |n| n.reserved);
            if current != expected || new < expected {
                return Ok(false);
            }
            Ok(tx.execute(UPDATE_NONCES, &[key[0], key[1], Param::Int(next)])? == 1)
        })
    }

    fn nonce_counts(&self) -> Result<Vec<NonceCount>, Error> {
        let rows = self.read(|exec| exec.query(ALL_NONCES, &[]))?;
        rows.iter().map(|row| decode_nonces(row)).collect()
    }

    fn generation(&self) -> Result<u64, Error> {
        self.read(meta_generation)
    }

    fn changes_since(&self, seen: u64) -> Result<KeyStoreChanges, Error> {
        self.read(|exec| {
            let generation = meta_generation(exec)?;
            let mut changes = KeyStoreChanges::none(generation);
            if generation == seen {
                return Ok(changes);
            }
            if generation < seen {
                // Restored from a backup, or another store: trust nothing cached.
                changes.complete = false;
                return Ok(changes);
            }
            let since = [Param::Int(to_i64(seen, "generation")?)];
            for row in exec.query(SHREDDED_SUBJECTS, &since)? {
                let name = subject_row(&row);
                changes.subjects.push((
                    TenantId::from_uuid(uuid_col(&row, 0, "tenant", &name)?),
                    SubjectId::from_uuid(uuid_col(&row, 1, "subject", &name)?),
                ));
            }
            for row in exec.query(SHREDDED_TENANTS, &since)? {
                let name = tenant_row(&row);
                changes
                    .tenants
                    .push(TenantId::from_uuid(uuid_col(&row, 0, "tenant", &name)?));
            }
            let keyring = exec.query(KEYRING_GENERATION, &[])?;
            if let Some(row) = keyring.first() {
                changes.keyring = int_col(row, 0, "generation", KEYRING_ROW)? > since_value(seen);
            }
            Ok(changes)
        })
    }
}

fn since_value(seen: u64) -> i64 {
    i64::try_from(seen).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use proptest::prelude::*;

    fn ids() -> (TenantId, SubjectId) {
        let tenant = TenantId::from_uuid(Uuid::from_u128(1));
        (tenant, SubjectId::from_uuid(Uuid::from_u128(2)))
    }

    /// Receipts stored before shreds recorded their outcome have no
    /// `outcome` field: their rows still decode, the receipts reading as
    /// `Unrecorded`; new receipts name theirs.
    #[test]
    fn receipts_stored_without_an_outcome_read_as_unrecorded() {
        let (tenant, subject) = ids();
        let actor = custodia_core::ActorId::from_uuid(Uuid::from_u128(4));
        let at = custodia_core::chrono::DateTime::UNIX_EPOCH;
        let receipt = ShredReceipt {
            tenant,
            subject,
            actor,
            at,
            outcome: ShredOutcome::KeyDestroyed,
        };
        let strip = |value: &mut serde_json::Value| {
            let removed = value.as_object_mut().and_then(|o| o.remove("outcome"));
            assert!(removed.is_some(), "{value}");
        };
        let mut old = serde_json::to_value(&receipt).unwrap();
        assert_eq!(old["outcome"], "key_destroyed");
        strip(&mut old);
        let old = serde_json::to_vec(&old).unwrap();
        let row = [
            Value::Bytes(tenant.as_bytes().to_vec()),
            Value::Bytes(subject.as_bytes().to_vec()),
            Value::Null,
            Value::Bytes(old),
        ];
        let (_, _, stored) = decode_subject(&row).unwrap();
        assert_eq!(
            stored,
            StoredSubjectKey::Shredded(ShredReceipt {
                outcome: ShredOutcome::Unrecorded,
                ..receipt
            })
        );

        let tenant_receipt = TenantShredReceipt {
            tenant,
            actor,
            at,
            key_versions: vec![1, 2],
            outcome: ShredOutcome::NoKeyExisted,
        };
        let mut old =
            serde_json::to_value(StoredTenantKeys::Shredded(tenant_receipt.clone())).unwrap();
        assert_eq!(old["outcome"], "no_key_existed");
        strip(&mut old);
        let row = [
            Value::Bytes(tenant.as_bytes().to_vec()),
            Value::Bytes(serde_json::to_vec(&old).unwrap()),
        ];
        assert_eq!(
            decode_tenant(&row).unwrap().1,
            StoredTenantKeys::Shredded(TenantShredReceipt {
                outcome: ShredOutcome::Unrecorded,
                ..tenant_receipt
            })
        );
    }

    /// serde quotes a mistyped value whole; a key store's values are keys.
    #[test]
    fn a_mistyped_value_in_a_row_is_not_quoted_whole() {
        let secret = "k".repeat(60) + &"s".repeat(200);
        let err = json::<u32>(format!("{secret:?}").as_bytes(), "receipt", "a row").unwrap_err();
        let shown = custodia_core::arbitrary::error_chain(&err);
        assert!(shown.contains("receipt does not decode"), "{shown}");
        assert!(!shown.contains(&secret[..100]), "{shown}");
    }

    #[test]
    fn rows_name_themselves_when_they_do_not_decode() {
        let (tenant, subject) = ids();
        let err = SqlKeyRow::Subject {
            tenant: tenant.as_bytes(),
            subject: subject.as_bytes(),
            wrapped: Some(b"k"),
            receipt: Some(b"{}"),
        }
        .check()
        .unwrap_err();
        assert_eq!(
            err,
            Error::KeyStoreRow {
                row: format!("custodia_subject_keys (tenant {tenant}, subject {subject})"),
                reason: "both a wrapped key and a tombstone".into(),
                source: None,
            }
        );
        let err = SqlKeyRow::Tenant {
            tenant: b"abc",
            keys: b"{}",
        }
        .check()
        .unwrap_err();
        assert!(
            matches!(&err, Error::KeyStoreRow { row, reason, .. }
                if row == "custodia_tenant_keys (tenant 616263)" && reason.contains("3 bytes")),
            "{err}"
        );
        // A tombstone moved from another subject's row.
        let other = SubjectId::from_uuid(Uuid::from_u128(3));
        let receipt = encode(&ShredReceipt {
            tenant,
            subject: other,
            actor: custodia_core::ActorId::from_uuid(Uuid::from_u128(4)),
            at: custodia_core::chrono::DateTime::UNIX_EPOCH,
            outcome: ShredOutcome::KeyDestroyed,
        })
        .unwrap();
        let err = SqlKeyRow::Subject {
            tenant: tenant.as_bytes(),
            subject: subject.as_bytes(),
            wrapped: None,
            receipt: Some(&receipt),
        }
        .check()
        .unwrap_err();
        assert!(
            matches!(&err, Error::KeyStoreRow { reason, .. } if reason.contains("another subject"))
        );
    }

    #[test]
    fn the_clock_is_read_in_microseconds_and_ignored_when_absurd() {
        let at = |d: Duration| UNIX_EPOCH + d;
        assert_eq!(clock_micros(UNIX_EPOCH), 0);
        assert_eq!(clock_micros(at(Duration::from_nanos(1_500_999))), 1_500);
        assert_eq!(
            clock_micros(at(Duration::from_secs(1_765_000_000))),
            1_765_000_000_000_000
        );
        // Before the epoch, or past half the BIGINT range: no floor (plus one).
        assert_eq!(clock_micros(UNIX_EPOCH - Duration::from_secs(1)), 0);
        let max = Duration::from_micros(u64::try_from(MAX_CLOCK_MICROS).unwrap());
        assert_eq!(clock_micros(at(max)), MAX_CLOCK_MICROS);
        assert_eq!(clock_micros(at(max + Duration::from_micros(1))), 0);
        // Now is well inside the range.
        assert!(clock_micros(SystemTime::now()) > 1_700_000_000_000_000);
    }

    #[test]
    fn sqlite_reads_the_same_statements() {
        assert_eq!(
            for_sqlite(LOCK_NONCES),
            "SELECT tenant, version, reserved FROM custodia_nonce_counts \
             WHERE tenant = ?1 AND version = ?2"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Whatever bytes a row holds, decoding gives a value or a typed
        /// error naming the row, never a panic.
        #[test]
        fn arbitrary_rows_decode_or_name_themselves(
            a in proptest::collection::vec(any::<u8>(), 0..40),
            b in proptest::collection::vec(any::<u8>(), 0..40),
            c in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..80)),
            d in proptest::option::of(prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..80),
                "\\{\"tenant\":\"[0-9a-f-]{0,36}\",\"subject\":.{0,40}\\}".prop_map(String::into_bytes),
            ]),
            n in any::<i64>(),
            m in any::<i64>(),
        ) {
            let rows = [
                SqlKeyRow::Subject { tenant: &a, subject: &b, wrapped: c.as_deref(), receipt: d.as_deref() },
                SqlKeyRow::Tenant { tenant: &a, keys: &b },
                SqlKeyRow::Keyring { record: &a },
                SqlKeyRow::NonceCount { tenant: &a, version: n, reserved: m },
            ];
            for row in rows {
                match row.check() {
                    Ok(()) | Err(Error::KeyStoreRow { .. }) => {}
                    Err(other) => prop_assert!(false, "unexpected {other:?}"),
                }
            }
        }
    }
}
