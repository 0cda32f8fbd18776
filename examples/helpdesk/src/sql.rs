//! The two databases the tickets live in, behind one small interface: SQLite
//! in the data directory (the default) and PostgreSQL, where every statement
//! on tenant rows runs in a transaction bound to the tenant
//! ([`TenantTransaction`]) and row-level security shows it only that
//! tenant's rows.
//!
//! Statements are written once, with `$1`, `$2`, … placeholders numbered in
//! order of first use (SQLite numbers `$N` parameters that way, PostgreSQL
//! by N), over a handful of [`Value`]s.

use std::sync::{Mutex, MutexGuard, PoisonError};

use custodia_core::TenantId;
use custodia_tenant::pg::TenantTransaction;
use postgres::types::{ToSql, Type};

use crate::Error;

/// A value crossing either database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    /// `NULL` (bound as a text `NULL` in PostgreSQL).
    Null,
    /// Text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
    /// A 64-bit integer.
    Int(i64),
    /// A tenant id: text in SQLite, `uuid` in PostgreSQL (what its policies
    /// compare with).
    Tenant(TenantId),
}

/// One transaction's statements.
pub(crate) trait Exec {
    /// Rows of `sql`.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, Error>;
    /// Rows changed by `sql`.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, Error>;
}

/// The tickets' database.
pub(crate) enum Db {
    /// SQLite: one connection; tenants are a column like any other.
    Sqlite(Mutex<rusqlite::Connection>),
    /// PostgreSQL as the application role (no owner, no BYPASSRLS).
    Postgres(Mutex<postgres::Client>),
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Db {
    /// Runs `f` in one transaction, bound to `tenant` in PostgreSQL (RLS
    /// shows only its rows), or unbound for tables that hold no tenant rows.
    /// Commits if `f` succeeds, rolls back otherwise.
    pub(crate) fn transaction<T>(
        &self,
        tenant: Option<TenantId>,
        f: impl FnOnce(&mut dyn Exec) -> Result<T, Error>,
    ) -> Result<T, Error> {
        match self {
            Db::Sqlite(db) => {
                let mut db = lock(db);
                let mut tx = db.transaction()?;
                let value = f(&mut tx)?;
                tx.commit()?;
                Ok(value)
            }
            Db::Postgres(client) => {
                let mut client = lock(client);
                match tenant {
                    Some(tenant) => {
                        let mut tx = TenantTransaction::begin(&mut client, tenant)?;
                        let value = f(&mut tx)?;
                        tx.commit()?;
                        Ok(value)
                    }
                    None => {
                        let mut tx = client.transaction()?;
                        let value = f(&mut tx)?;
                        tx.commit()?;
                        Ok(value)
                    }
                }
            }
        }
    }
}

impl Exec for rusqlite::Transaction<'_> {
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, Error> {
        let mut stmt = self.prepare(sql)?;
        let columns = stmt.column_count();
        let rows = stmt.query_map(rusqlite::params_from_iter(params.iter().map(lite)), |row| {
            (0..columns)
                .map(|i| row.get::<_, rusqlite::types::Value>(i).map(from_lite))
                .collect()
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, Error> {
        let n = rusqlite::Connection::execute(
            self,
            sql,
            rusqlite::params_from_iter(params.iter().map(lite)),
        )?;
        Ok(n as u64)
    }
}

fn lite(value: &Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as V;
    match value {
        Value::Null => V::Null,
        Value::Text(t) => V::Text(t.clone()),
        Value::Blob(b) => V::Blob(b.clone()),
        Value::Int(i) => V::Integer(*i),
        Value::Tenant(t) => V::Text(t.to_string()),
    }
}

fn from_lite(value: rusqlite::types::Value) -> Value {
    use rusqlite::types::Value as V;
    match value {
        V::Null | V::Real(_) => Value::Null,
        V::Integer(i) => Value::Int(i),
        V::Text(t) => Value::Text(t),
        V::Blob(b) => Value::Blob(b),
    }
}

/// What PostgreSQL sends statements through: a bound or a plain transaction.
trait PgSend {
    fn rows(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<postgres::Row>, Error>;
    fn changed(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, Error>;
}

/// [`PgSend`] for a transaction type whose inherent `query` and `execute`
/// are the client's.
macro_rules! pg_send {
    ($tx:ty) => {
        impl PgSend for $tx {
            fn rows(
                &mut self,
                sql: &str,
                params: &[&(dyn ToSql + Sync)],
            ) -> Result<Vec<postgres::Row>, Error> {
                Ok(<$tx>::query(self, sql, params)?)
            }
            fn changed(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, Error> {
                Ok(<$tx>::execute(self, sql, params)?)
            }
        }
    };
}

pg_send!(TenantTransaction<'_>);
pg_send!(postgres::Transaction<'_>);

impl<T: PgSend> Exec for T {
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, Error> {
        let params = pg_params(params);
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref()).collect();
        self.rows(sql, &refs)?.iter().map(from_pg).collect()
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, Error> {
        let params = pg_params(params);
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref()).collect();
        self.changed(sql, &refs)
    }
}

fn pg_params(params: &[Value]) -> Vec<Box<dyn ToSql + Sync>> {
    params
        .iter()
        .map(|v| -> Box<dyn ToSql + Sync> {
            match v {
                Value::Null => Box::new(None::<String>),
                Value::Text(t) => Box::new(t.clone()),
                Value::Blob(b) => Box::new(b.clone()),
                Value::Int(i) => Box::new(*i),
                Value::Tenant(t) => Box::new(*t.as_uuid()),
            }
        })
        .collect()
}

fn from_pg(row: &postgres::Row) -> Result<Vec<Value>, Error> {
    (0..row.len())
        .map(|i| {
            let ty = row.columns()[i].type_().clone();
            let value = if ty == Type::UUID {
                row.try_get::<_, Option<custodia_core::uuid::Uuid>>(i)?
                    .map(|u| Value::Text(u.to_string()))
            } else if ty == Type::BYTEA {
                row.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Blob)
            } else if ty == Type::INT8 {
                row.try_get::<_, Option<i64>>(i)?.map(Value::Int)
            } else {
                row.try_get::<_, Option<String>>(i)?.map(Value::Text)
            };
            Ok(value.unwrap_or(Value::Null))
        })
        .collect()
}
