//! A commit that PostgreSQL turned into a rollback is reported as an error.
//!
//! When a statement inside a transaction fails and the caller handles that
//! error (e.g. a duplicate key it chose to ignore) and goes on, PostgreSQL
//! has aborted the transaction: it answers the `COMMIT` with `ROLLBACK` and
//! no error, and every write made before the failure is gone. `with_tenant`
//! and `TenantTransaction::commit` (and, on sqlx, `commit_bound`) must then
//! fail with `Error::TransactionAborted` instead of reporting a commit.
//!
//! Found by a reviewer (wt-claims2): `with_tenant` returned `Ok` while the
//! table stayed empty.
//!
//! Needs `CUSTODIA_PG_ADMIN_URL`, which `scripts/postgres` exports. Without it
//! every test here fails: they never pass by skipping.

#![cfg(any(feature = "postgres", feature = "sqlx"))]

use custodia_core::TenantId;

fn admin_url() -> String {
    std::env::var("CUSTODIA_PG_ADMIN_URL").expect(
        "CUSTODIA_PG_ADMIN_URL is not set: run `scripts/postgres cargo test -p custodia-tenant \
         --all-features --test aborted_commit`",
    )
}

/// A table name no other test uses.
fn fresh_table() -> String {
    format!("aborted_{}", TenantId::random().as_uuid().simple())
}

fn tenant() -> TenantId {
    TenantId::from_external_key("crm", "acme")
}

#[cfg(feature = "postgres")]
mod sync {
    use custodia_tenant::Error;
    use custodia_tenant::pg::{TenantTransaction, with_tenant};
    use postgres::error::SqlState;
    use postgres::{Client, NoTls};

    use super::{admin_url, fresh_table, tenant};

    /// A client and a fresh `(id int PRIMARY KEY)` table, dropped at the end.
    struct Table {
        client: Client,
        name: String,
    }

    impl Table {
        fn new(column: &str) -> Self {
            let mut client = Client::connect(&admin_url(), NoTls).unwrap();
            let name = fresh_table();
            client
                .batch_execute(&format!("CREATE TABLE {name} ({column})"))
                .unwrap();
            Self { client, name }
        }

        fn insert(&self, id: i32) -> String {
            format!("INSERT INTO {} VALUES ({id})", self.name)
        }

        fn rows(&mut self) -> i64 {
            self.client
                .query_one(&format!("SELECT count(*) FROM {}", self.name), &[])
                .unwrap()
                .get(0)
        }

        /// The connection is out of any transaction and carries no binding.
        fn assert_clean(&mut self) {
            let savepoint = self.client.batch_execute("SAVEPOINT outside").unwrap_err();
            assert_eq!(savepoint.code(), Some(&SqlState::NO_ACTIVE_SQL_TRANSACTION));
            let bound: Option<String> = self
                .client
                .query_one("SELECT current_setting('app.tenant_id', true)", &[])
                .unwrap()
                .get(0);
            assert!(bound.as_deref().unwrap_or_default().is_empty(), "{bound:?}");
        }
    }

    impl Drop for Table {
        fn drop(&mut self) {
            let _ = self
                .client
                .batch_execute(&format!("DROP TABLE IF EXISTS {}", self.name));
        }
    }

    #[test]
    fn with_tenant_returns_ok_only_when_the_writes_were_committed() {
        let mut table = Table::new("id int PRIMARY KEY");
        let (first, again) = (table.insert(1), table.insert(1));
        let outcome = with_tenant(&mut table.client, tenant(), |tx| {
            tx.execute(&first, &[]).unwrap();
            // A duplicate the caller decides to tolerate.
            let duplicate = tx.execute(&again, &[]);
            assert!(duplicate.is_err());
            Ok(())
        });
        let rows = table.rows();
        assert!(
            outcome.is_err() || rows == 1,
            "with_tenant returned {outcome:?} (committed, by its doc), but the table holds {rows} rows"
        );
        assert!(
            matches!(outcome, Err(Error::TransactionAborted)),
            "{outcome:?}"
        );
        assert_eq!(rows, 0);
        table.assert_clean();
    }

    #[test]
    fn committing_an_aborted_tenant_transaction_fails_and_leaves_the_connection_clean() {
        let mut table = Table::new("id int PRIMARY KEY");
        let (first, again) = (table.insert(1), table.insert(1));
        let mut tx = TenantTransaction::begin(&mut table.client, tenant()).unwrap();
        tx.execute(&first, &[]).unwrap();
        assert!(tx.execute(&again, &[]).is_err());
        let outcome = tx.commit();
        assert!(
            matches!(outcome, Err(Error::TransactionAborted)),
            "{outcome:?}"
        );
        assert_eq!(table.rows(), 0);
        table.assert_clean();
        // The connection is usable for the next unit of work.
        let first = table.insert(2);
        with_tenant(&mut table.client, tenant(), |tx| {
            tx.execute(&first, &[]).unwrap();
            Ok(())
        })
        .unwrap();
        assert_eq!(table.rows(), 1);
    }

    #[test]
    fn a_live_transaction_still_commits() {
        let mut table = Table::new("id int PRIMARY KEY");
        let (one, two) = (table.insert(1), table.insert(2));
        let value = with_tenant(&mut table.client, tenant(), |tx| {
            tx.execute(&one, &[]).unwrap();
            Ok(7)
        })
        .unwrap();
        assert_eq!(value, 7);
        let mut tx = TenantTransaction::begin(&mut table.client, tenant()).unwrap();
        tx.execute(&two, &[]).unwrap();
        tx.commit().unwrap();
        assert_eq!(table.rows(), 2);
        table.assert_clean();
    }

    #[test]
    fn a_failure_undone_with_a_savepoint_keeps_the_earlier_writes() {
        let mut table = Table::new("id int PRIMARY KEY");
        let (first, again) = (table.insert(1), table.insert(1));
        with_tenant(&mut table.client, tenant(), |tx| {
            tx.execute(&first, &[]).unwrap();
            // The way to tolerate a failed statement: undo just it.
            tx.batch_execute("SAVEPOINT duplicate").unwrap();
            assert!(tx.execute(&again, &[]).is_err());
            tx.batch_execute("ROLLBACK TO SAVEPOINT duplicate").unwrap();
            Ok(())
        })
        .unwrap();
        assert_eq!(table.rows(), 1);
        table.assert_clean();
    }

    #[test]
    fn a_commit_that_fails_itself_still_reports_the_servers_error() {
        // A deferred unique key is checked only at COMMIT.
        let mut table = Table::new("id int UNIQUE DEFERRABLE INITIALLY DEFERRED");
        let (first, again) = (table.insert(1), table.insert(1));
        let mut tx = TenantTransaction::begin(&mut table.client, tenant()).unwrap();
        tx.execute(&first, &[]).unwrap();
        tx.execute(&again, &[]).unwrap();
        match tx.commit() {
            Err(Error::Postgres { source, .. }) => {
                assert_eq!(source.code(), Some(&SqlState::UNIQUE_VIOLATION));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(table.rows(), 0);
        table.assert_clean();
    }
}

#[cfg(feature = "sqlx")]
mod async_sqlx {
    use custodia_tenant::{Error, begin_bound, commit_bound};
    use sqlx_core::acquire::Acquire as _;
    use sqlx_core::query::query;
    use sqlx_core::row::Row as _;
    use sqlx_postgres::{PgPool, PgPoolOptions, Postgres};

    use super::{admin_url, fresh_table, tenant};

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// One connection, so what a test leaves on it the next use gets.
    async fn pool_and_table() -> (PgPool, String) {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect(&admin_url())
            .await
            .unwrap();
        let name = fresh_table();
        query::<Postgres>(&format!("CREATE TABLE {name} (id int PRIMARY KEY)"))
            .execute(&pool)
            .await
            .unwrap();
        (pool, name)
    }

    async fn rows(pool: &PgPool, table: &str) -> i64 {
        query::<Postgres>(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(pool)
            .await
            .unwrap()
            .get(0)
    }

    async fn drop_table(pool: &PgPool, table: &str) {
        query::<Postgres>(&format!("DROP TABLE {table}"))
            .execute(pool)
            .await
            .unwrap();
        pool.close().await;
    }

    /// The pitfall `begin_bound`'s docs describe: sqlx's own
    /// `Transaction::commit` reports success for an aborted transaction.
    #[test]
    fn sqlx_commit_reports_success_for_an_aborted_transaction() {
        runtime().block_on(async {
            let (pool, table) = pool_and_table().await;
            let mut tx = begin_bound(&pool, tenant()).await.unwrap();
            let insert = format!("INSERT INTO {table} VALUES (1)");
            query::<Postgres>(&insert).execute(&mut *tx).await.unwrap();
            assert!(query::<Postgres>(&insert).execute(&mut *tx).await.is_err());
            tx.commit().await.unwrap();
            assert_eq!(rows(&pool, &table).await, 0);
            drop_table(&pool, &table).await;
        });
    }

    #[test]
    fn commit_bound_fails_on_an_aborted_transaction_and_leaves_the_connection_clean() {
        runtime().block_on(async {
            let (pool, table) = pool_and_table().await;
            let mut tx = begin_bound(&pool, tenant()).await.unwrap();
            let insert = format!("INSERT INTO {table} VALUES (1)");
            query::<Postgres>(&insert).execute(&mut *tx).await.unwrap();
            assert!(query::<Postgres>(&insert).execute(&mut *tx).await.is_err());
            let outcome = commit_bound(tx).await;
            assert!(
                matches!(outcome, Err(Error::TransactionAborted)),
                "{outcome:?}"
            );
            assert_eq!(rows(&pool, &table).await, 0);
            // The pool's one connection: out of the transaction, unbound, usable.
            let bound: Option<String> =
                query::<Postgres>("SELECT current_setting('app.tenant_id', true)")
                    .fetch_one(&pool)
                    .await
                    .unwrap()
                    .get(0);
            assert!(bound.as_deref().unwrap_or_default().is_empty(), "{bound:?}");
            let mut tx = begin_bound(&pool, tenant()).await.unwrap();
            query::<Postgres>(&insert).execute(&mut *tx).await.unwrap();
            commit_bound(tx).await.unwrap();
            assert_eq!(rows(&pool, &table).await, 1);
            drop_table(&pool, &table).await;
        });
    }

    #[test]
    fn commit_bound_commits_a_live_transaction_and_keeps_writes_before_a_rolled_back_savepoint() {
        runtime().block_on(async {
            let (pool, table) = pool_and_table().await;
            let insert = format!("INSERT INTO {table} VALUES (1)");
            let mut tx = begin_bound(&pool, tenant()).await.unwrap();
            query::<Postgres>(&insert).execute(&mut *tx).await.unwrap();
            // The way to tolerate a failed statement: a savepoint, rolled back.
            let mut nested = tx.begin().await.unwrap();
            assert!(
                query::<Postgres>(&insert)
                    .execute(&mut *nested)
                    .await
                    .is_err()
            );
            nested.rollback().await.unwrap();
            commit_bound(tx).await.unwrap();
            assert_eq!(rows(&pool, &table).await, 1);
            drop_table(&pool, &table).await;
        });
    }
}
