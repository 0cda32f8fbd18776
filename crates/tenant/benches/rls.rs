//! PostgreSQL row-level security overhead against the same query with an
//! explicit `WHERE tenant_id = $1` on a table without RLS, in one run, on the
//! local PostgreSQL that `scripts/postgres` starts.
//!
//! ```sh
//! scripts/postgres cargo bench -p custodia-tenant --features postgres --bench rls -- \
//!     --warm-up-time 1 --measurement-time 3
//! ```
//!
//! With feature `sqlx` too (`--features postgres,sqlx`), the async path on
//! one sqlx pool: a transaction from `begin_bound` reading the RLS table
//! against a plain `pool.begin()` transaction reading the plain table with
//! the explicit `WHERE`, each a whole request (BEGIN, query, COMMIT).
//!
//! Needs `CUSTODIA_PG_ADMIN_URL` and `CUSTODIA_PG_APP_URL` (panics without).
//! Two identical tables of 200 tenants × 500 tickets, primary key
//! `(tenant_id, id)`: `tickets_rls` under Custodia's policy, read by the
//! application role with no tenant predicate, and `tickets_plain` without RLS,
//! read with `WHERE tenant_id = $1`.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use custodia_core::TenantId;
use custodia_tenant::pg::TenantTransaction;
use custodia_tenant::rls::{RlsPolicy, TenantTable};
use postgres::{Client, NoTls};

const SCHEMA: &str = "custodia_bench_rls";
const TENANTS: u32 = 200;
const PER_TENANT: u32 = 500;
const PAIRED_ROUNDS: usize = 2000;

fn connect(var: &str) -> Client {
    let url = std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run this bench through `scripts/postgres cargo bench ...` (see the file's docs)")
    });
    Client::connect(&url, NoTls).unwrap_or_else(|e| panic!("cannot connect with {var}: {e}"))
}

fn tenant(i: u32) -> TenantId {
    TenantId::from_external_key("bench", &i.to_string())
}

fn setup() -> Client {
    let mut admin = connect("CUSTODIA_PG_ADMIN_URL");
    let mut app = connect("CUSTODIA_PG_APP_URL");
    let app_role: String = app
        .query_one("SELECT current_user::text", &[])
        .unwrap()
        .get(0);
    admin
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {SCHEMA} CASCADE;
             CREATE SCHEMA {SCHEMA};
             GRANT USAGE ON SCHEMA {SCHEMA} TO {app_role};"
        ))
        .unwrap();
    for table in ["tickets_rls", "tickets_plain"] {
        admin
            .batch_execute(&format!(
                "CREATE TABLE {SCHEMA}.{table} (
                     tenant_id uuid   NOT NULL,
                     id        bigint NOT NULL,
                     status    text   NOT NULL,
                     subject   text   NOT NULL,
                     PRIMARY KEY (tenant_id, id)
                 );
                 GRANT SELECT ON {SCHEMA}.{table} TO {app_role};"
            ))
            .unwrap();
        let mut copy = admin
            .copy_in(&format!(
                "COPY {SCHEMA}.{table} (tenant_id, id, status, subject) FROM STDIN"
            ))
            .unwrap();
        use std::io::Write;
        for t in 0..TENANTS {
            let id = tenant(t);
            for n in 0..PER_TENANT {
                let status = ["open", "pending", "closed"][(n % 3) as usize];
                writeln!(
                    copy,
                    "{id}\t{}\t{status}\tTicket {n} of tenant {t}",
                    t * PER_TENANT + n
                )
                .unwrap();
            }
        }
        copy.finish().unwrap();
    }
    let sql = RlsPolicy::new(&app_role)
        .unwrap()
        .grant_privileges(false)
        .table(TenantTable::new(SCHEMA, "tickets_rls").unwrap())
        .sql();
    admin.batch_execute(&sql).unwrap();
    admin
        .batch_execute(&format!(
            "ANALYZE {SCHEMA}.tickets_rls; ANALYZE {SCHEMA}.tickets_plain;"
        ))
        .unwrap();
    app
}

/// The latest 20 tickets: from the RLS table with no tenant predicate, and
/// from the plain table with `WHERE tenant_id = $1`.
fn latest_page() -> (String, String) {
    (
        format!("SELECT id, subject FROM {SCHEMA}.tickets_rls ORDER BY id DESC LIMIT 20"),
        format!(
            "SELECT id, subject FROM {SCHEMA}.tickets_plain WHERE tenant_id = $1 ORDER BY id DESC LIMIT 20"
        ),
    )
}

/// Medians of `plain` and `rls` timed alternately (order swapped every round),
/// so slow drifts in machine load hit both sides alike.
fn paired(rounds: usize, mut plain: impl FnMut(), mut rls: impl FnMut()) -> (f64, f64) {
    let (mut p, mut r) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        f();
        start.elapsed().as_secs_f64() * 1e6
    };
    for i in 0..rounds {
        if i % 2 == 0 {
            p.push(time(&mut plain));
            r.push(time(&mut rls));
        } else {
            r.push(time(&mut rls));
            p.push(time(&mut plain));
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(&mut p), median(&mut r))
}

fn rls(c: &mut Criterion) {
    let mut app = setup();
    let target = tenant(TENANTS / 2);
    let uuid = *target.as_uuid();
    let (page_rls, page_plain) = latest_page();
    let count_rls = format!("SELECT count(*) FROM {SCHEMA}.tickets_rls WHERE status = 'open'");
    let count_plain = format!(
        "SELECT count(*) FROM {SCHEMA}.tickets_plain WHERE tenant_id = $1 AND status = 'open'"
    );

    // Sanity: both forms see the same rows.
    {
        let mut tx = TenantTransaction::begin(&mut app, target).unwrap();
        let a: Vec<i64> = tx
            .query(&page_rls, &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        let b: Vec<i64> = tx
            .query(&page_plain, &[&uuid])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(a, b);
        assert_eq!(a.len(), 20);
        let plan: Vec<String> = tx
            .query(&format!("EXPLAIN {page_rls}"), &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        eprintln!("RLS page plan:\n  {}", plan.join("\n  "));
        tx.commit().unwrap();
    }

    for (name, rls_sql, plain_sql) in [
        ("latest 20 tickets", &page_rls, &page_plain),
        ("count open tickets (~167 rows)", &count_rls, &count_plain),
    ] {
        // The paired medians first: the figure the target is judged on.
        {
            let mut tx = TenantTransaction::begin(&mut app, target).unwrap();
            let rls_stmt = tx.prepare(rls_sql).unwrap();
            let plain_stmt = tx.prepare(plain_sql).unwrap();
            let cell = std::cell::RefCell::new(&mut tx);
            let (p, r) = paired(
                PAIRED_ROUNDS,
                || {
                    drop(black_box(
                        cell.borrow_mut().query(&plain_stmt, &[&uuid]).unwrap(),
                    ))
                },
                || drop(black_box(cell.borrow_mut().query(&rls_stmt, &[]).unwrap())),
            );
            eprintln!(
                "paired medians, {name}, query only: WHERE {p:.1} µs, RLS {r:.1} µs, ratio {:.2}",
                r / p
            );
            tx.commit().unwrap();
        }
        {
            let rls_stmt = app.prepare(rls_sql).unwrap();
            let plain_stmt = app.prepare(plain_sql).unwrap();
            let cell = std::cell::RefCell::new(&mut app);
            let (p, r) = paired(
                PAIRED_ROUNDS,
                || {
                    let mut client = cell.borrow_mut();
                    let mut tx = client.transaction().unwrap();
                    black_box(tx.query(&plain_stmt, &[&uuid]).unwrap());
                    tx.commit().unwrap();
                },
                || {
                    let mut client = cell.borrow_mut();
                    let mut tx = TenantTransaction::begin(&mut client, target).unwrap();
                    black_box(tx.query(&rls_stmt, &[]).unwrap());
                    tx.commit().unwrap();
                },
            );
            eprintln!(
                "paired medians, {name}, per transaction: WHERE {p:.1} µs, RLS + binding {r:.1} µs, ratio {:.2}",
                r / p
            );
        }

        let mut group = c.benchmark_group(format!("rls/{name}"));
        // Query only: one transaction, bound once, statements prepared.
        {
            let mut tx = TenantTransaction::begin(&mut app, target).unwrap();
            let rls_stmt = tx.prepare(rls_sql).unwrap();
            let plain_stmt = tx.prepare(plain_sql).unwrap();
            group.bench_function("explicit WHERE tenant_id = $1 (no RLS)", |b| {
                b.iter(|| black_box(tx.query(&plain_stmt, &[&uuid]).unwrap().len()))
            });
            group.bench_function("RLS policy, no WHERE", |b| {
                b.iter(|| black_box(tx.query(&rls_stmt, &[]).unwrap().len()))
            });
            tx.commit().unwrap();
        }
        // Per request: a transaction each, with the binding for RLS.
        let rls_stmt = app.prepare(rls_sql).unwrap();
        let plain_stmt = app.prepare(plain_sql).unwrap();
        group.bench_function("per transaction: BEGIN, WHERE, COMMIT", |b| {
            b.iter(|| {
                let mut tx = app.transaction().unwrap();
                let n = tx.query(&plain_stmt, &[&uuid]).unwrap().len();
                tx.commit().unwrap();
                n
            })
        });
        group.bench_function("per transaction: BEGIN + SET LOCAL, RLS, COMMIT", |b| {
            b.iter(|| {
                let mut tx = TenantTransaction::begin(&mut app, target).unwrap();
                let n = tx.query(&rls_stmt, &[]).unwrap().len();
                tx.commit().unwrap();
                n
            })
        });
        group.finish();
    }
}

/// The async request on sqlx: `begin_bound` + the RLS query against a plain
/// transaction + the explicit `WHERE`, on the same pool, in the same run.
#[cfg(feature = "sqlx")]
fn rls_sqlx(c: &mut Criterion) {
    use sqlx_core::query::query;
    use sqlx_postgres::{PgPool, PgPoolOptions, Postgres};

    drop(setup());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = std::env::var("CUSTODIA_PG_APP_URL").unwrap();
    let pool: PgPool = rt
        .block_on(PgPoolOptions::new().max_connections(1).connect(&url))
        .unwrap();
    let target = tenant(TENANTS / 2);
    let uuid = *target.as_uuid();
    let (page_rls, page_plain) = latest_page();
    let bound = || async {
        let mut tx = custodia_tenant::begin_bound(&pool, target).await.unwrap();
        let rows = query::<Postgres>(&page_rls)
            .fetch_all(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        rows.len()
    };
    let plain = || async {
        let mut tx = pool.begin().await.unwrap();
        let rows = query::<Postgres>(&page_plain)
            .bind(uuid)
            .fetch_all(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        rows.len()
    };
    // Sanity: both see the tenant's page.
    assert_eq!(rt.block_on(bound()), 20);
    assert_eq!(rt.block_on(plain()), 20);

    let (p, r) = paired(
        PAIRED_ROUNDS,
        || {
            black_box(rt.block_on(plain()));
        },
        || {
            black_box(rt.block_on(bound()));
        },
    );
    eprintln!(
        "paired medians, sqlx, latest 20 tickets per transaction: WHERE {p:.1} µs, begin_bound + RLS {r:.1} µs, ratio {:.2}",
        r / p
    );
    let mut group = c.benchmark_group("rls/sqlx latest 20 tickets");
    group.bench_function("per transaction: pool.begin, WHERE, COMMIT", |b| {
        b.iter(|| black_box(rt.block_on(plain())))
    });
    group.bench_function("per transaction: begin_bound, RLS, COMMIT", |b| {
        b.iter(|| black_box(rt.block_on(bound())))
    });
    group.finish();
}

#[cfg(not(feature = "sqlx"))]
criterion_group!(benches, rls);
#[cfg(feature = "sqlx")]
criterion_group!(benches, rls, rls_sqlx);
criterion_main!(benches);
