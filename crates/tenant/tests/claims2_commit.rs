//! wt-claims2: `with_tenant` says "Runs `f` in a transaction bound to
//! `tenant` and commits if it returns `Ok` (rolls back otherwise)", and
//! `TenantTransaction::commit` says "Commits". When a statement inside
//! failed (and `f` handled that error, e.g. a duplicate key it chose to
//! ignore), PostgreSQL answers the `COMMIT` of the aborted transaction with
//! `ROLLBACK` and no error: `with_tenant` returns `Ok`, and every write
//! made before the failure is silently gone.
#![cfg(feature = "postgres")]

use custodia_core::TenantId;
use custodia_tenant::pg::with_tenant;
use postgres::{Client, NoTls};

#[test]
fn with_tenant_returning_ok_means_the_writes_were_committed() {
    let url = std::env::var("CUSTODIA_PG_ADMIN_URL").expect("run under scripts/postgres");
    let mut client = Client::connect(&url, NoTls).unwrap();
    let table = format!("claims2_{}", TenantId::random().as_uuid().simple());
    client
        .batch_execute(&format!("CREATE TABLE {table} (id int PRIMARY KEY)"))
        .unwrap();
    let tenant = TenantId::from_external_key("crm", "acme");
    let outcome = with_tenant(&mut client, tenant, |tx| {
        tx.execute(&format!("INSERT INTO {table} VALUES (1)"), &[])
            .unwrap();
        // A duplicate the caller decides to tolerate.
        let duplicate = tx.execute(&format!("INSERT INTO {table} VALUES (1)"), &[]);
        assert!(duplicate.is_err());
        Ok(())
    });
    let rows: i64 = client
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .unwrap()
        .get(0);
    client
        .batch_execute(&format!("DROP TABLE {table}"))
        .unwrap();
    assert!(
        outcome.is_err() || rows == 1,
        "with_tenant returned {outcome:?} (committed, by its doc), but the table holds {rows} rows"
    );
}
