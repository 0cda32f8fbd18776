//! [`SqliteKeyStore`]: the key store in a SQLite database (feature `sqlite`,
//! rusqlite with SQLite compiled in). The schema and its semantics are the
//! SQL core's (see [`SqlKeyRow`](crate::SqlKeyRow) and the crate's
//! `store::sql` docs): one store per database file.
//!
//! Connections run in WAL mode with `busy_timeout` 5 s, `synchronous = FULL`
//! and `secure_delete = ON`, so the bytes of a shredded key are overwritten
//! in the database file when its page is written, not left in free space.
//! Writes take `BEGIN IMMEDIATE`: one writer at a time across processes.

use std::path::{Path, PathBuf};

use rusqlite::Connection;
use rusqlite::types::ValueRef;

use super::sql::{self, Param, SqlConnection, SqlExec, SqlKeyStore, Value};
use crate::Error;

/// Wrapped keys, tombstones, the keyring record and nonce counts in a SQLite
/// database, shared safely by every process that opens the file.
pub struct SqliteKeyStore {
    inner: SqlKeyStore<SqliteConnection>,
    path: PathBuf,
}

struct SqliteConnection {
    conn: Connection,
    place: String,
}

impl SqliteConnection {
    fn error(&self, e: rusqlite::Error) -> Error {
        Error::Sqlite {
            place: self.place.clone(),
            source: e.into(),
        }
    }
}

fn bind(params: &[Param<'_>]) -> Vec<rusqlite::types::Value> {
    params
        .iter()
        .map(|p| match *p {
            Param::Int(n) => rusqlite::types::Value::Integer(n),
            Param::Bytes(b) => rusqlite::types::Value::Blob(b.to_vec()),
        })
        .collect()
}

fn value(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(n) => Value::Int(n),
        ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
        ValueRef::Text(_) => Value::Other("text"),
        ValueRef::Real(_) => Value::Other("real"),
    }
}

impl SqlExec for SqliteConnection {
    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Vec<Value>>, Error> {
        let run = || -> rusqlite::Result<Vec<Vec<Value>>> {
            let mut stmt = self.conn.prepare_cached(&sql::for_sqlite(sql))?;
            let columns = stmt.column_count();
            let mut rows = stmt.query(rusqlite::params_from_iter(bind(params)))?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(
                    (0..columns)
                        .map(|i| row.get_ref(i).map(value))
                        .collect::<rusqlite::Result<_>>()?,
                );
            }
            Ok(out)
        };
        run().map_err(|e| self.error(e))
    }

    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, Error> {
        let run = || -> rusqlite::Result<usize> {
            let mut stmt = self.conn.prepare_cached(&sql::for_sqlite(sql))?;
            stmt.execute(rusqlite::params_from_iter(bind(params)))
        };
        let changed = run().map_err(|e| self.error(e))?;
        Ok(u64::try_from(changed).unwrap_or(u64::MAX))
    }
}

impl SqlConnection for SqliteConnection {
    fn transaction<T>(
        &mut self,
        f: impl FnOnce(&mut dyn SqlExec) -> Result<T, Error>,
    ) -> Result<T, Error> {
        // IMMEDIATE takes the write lock first, so two writers never both
        // read and then fail to upgrade.
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.error(e))?;
        let result = f(self).and_then(|value| {
            self.conn
                .execute_batch("COMMIT")
                .map_err(|e| self.error(e))?;
            Ok(value)
        });
        if result.is_err() && !self.conn.is_autocommit() {
            // The error that matters is the first; a failed rollback still
            // leaves nothing committed.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        result
    }
}

impl SqliteKeyStore {
    /// Opens (creating if needed) the store in the database at `path`,
    /// creating its tables ([`SqliteKeyStore::migrate`]). The file should
    /// be readable by the application only (it holds wrapped keys).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let conn = Connection::open(path).map_err(|e| Error::Sqlite {
            place: format!("sqlite:{}", path.display()),
            source: e.into(),
        })?;
        Self::migrate(&conn)?;
        Self::with_connection(conn)
    }

    /// Uses an open connection to a migrated database (its pragmas are set
    /// here as [`SqliteKeyStore::open`] sets them).
    pub fn with_connection(conn: Connection) -> Result<Self, Error> {
        let path = conn.path().map(PathBuf::from).unwrap_or_default();
        let place = format!("sqlite:{}", path.display());
        configure(&conn).map_err(|e| Error::Sqlite {
            place: place.clone(),
            source: e.into(),
        })?;
        Ok(Self {
            inner: SqlKeyStore::new(SqliteConnection { conn, place })?,
            path,
        })
    }

    /// Creates the key store's tables if missing and records the schema
    /// version (see [`KEY_STORE_SCHEMA_VERSION`](crate::KEY_STORE_SCHEMA_VERSION)).
    /// Idempotent; safe to run from several processes at once.
    pub fn migrate(conn: &Connection) -> Result<(), Error> {
        let place = format!("sqlite:{}", conn.path().unwrap_or_default());
        let sqlite = |e: rusqlite::Error| Error::Sqlite {
            place: place.clone(),
            source: e.into(),
        };
        configure(conn).map_err(sqlite)?;
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {} COMMIT;",
            sql::for_sqlite(sql::SCHEMA)
        ))
        .map_err(sqlite)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "PRAGMA busy_timeout = 5000;
         PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA secure_delete = ON;",
    )
}

super::delegate_key_store!(SqliteKeyStore, |store| store.inner);

impl std::fmt::Debug for SqliteKeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteKeyStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use super::*;

    fn generation(conn: &mut SqliteConnection) -> i64 {
        i64::try_from(sql::meta_generation(conn).unwrap()).unwrap()
    }

    /// The bump's arithmetic, run by SQLite on the shared statement:
    /// `max(generation + 1, now)`, never less than `+ 1`, whatever the clock.
    #[test]
    fn a_bump_takes_the_clock_or_adds_one() {
        let conn = Connection::open_in_memory().unwrap();
        SqliteKeyStore::migrate(&conn).unwrap();
        let mut conn = SqliteConnection {
            conn,
            place: "sqlite::memory:".into(),
        };
        let at = |micros: u64| UNIX_EPOCH + Duration::from_micros(micros);
        assert_eq!(generation(&mut conn), 1);
        // A store of small counts (made before the clock rule) jumps to the clock.
        assert_eq!(sql::bump(&mut conn, at(5_000_000)).unwrap(), 5_000_000);
        // Two bumps in one microsecond, and a clock stepped back: plus one.
        assert_eq!(sql::bump(&mut conn, at(5_000_000)).unwrap(), 5_000_001);
        assert_eq!(sql::bump(&mut conn, at(4_000_000)).unwrap(), 5_000_002);
        // A clock before the epoch, or absurdly far ahead: plus one.
        let before = UNIX_EPOCH - Duration::from_secs(1);
        assert_eq!(sql::bump(&mut conn, before).unwrap(), 5_000_003);
        let far = UNIX_EPOCH + Duration::from_secs(200_000 * 366 * 86_400);
        assert_eq!(sql::bump(&mut conn, far).unwrap(), 5_000_004);
        // The clock again.
        assert_eq!(sql::bump(&mut conn, at(6_000_000)).unwrap(), 6_000_000);
        assert_eq!(generation(&mut conn), 6_000_000);

        // Restored from a backup taken at 5_000_001: the next bump passes
        // every value seen before the restore, it does not repeat 5_000_002.
        conn.conn
            .execute_batch("UPDATE custodia_key_meta SET value = 5000001 WHERE name = 'generation'")
            .unwrap();
        assert_eq!(sql::bump(&mut conn, at(7_000_000)).unwrap(), 7_000_000);

        // Today's clock: the bump lands on it.
        let now = SystemTime::now();
        assert_eq!(sql::bump(&mut conn, now).unwrap(), sql::clock_micros(now));
    }
}
