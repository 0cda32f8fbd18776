//! The async tenant binding and lint on sqlx against a real PostgreSQL
//! (feature `sqlx`).
//!
//! Needs `CUSTODIA_PG_ADMIN_URL` (a superuser) and `CUSTODIA_PG_APP_URL` (the
//! non-owner application role), which `scripts/postgres` exports. Without
//! them every test here fails: they never pass by skipping.

#![cfg(feature = "sqlx")]

use std::sync::Arc;

use custodia_core::TenantId;
use custodia_tenant::rls::{RlsPolicy, TenantTable};
use custodia_tenant::{
    LintFinding, LintOptions, LintReport, TxAccess, begin_bound, begin_bound_on, begin_bound_sql,
    sqlx_lint,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sqlx_core::connection::Connection as _;
use sqlx_core::query::query;
use sqlx_core::raw_sql::raw_sql;
use sqlx_core::row::Row as _;
use sqlx_postgres::{PgConnection, PgPool, PgPoolOptions, Postgres};
use tokio::runtime::Runtime;

fn env_url(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!(
            "{var} is not set: the PostgreSQL tests need a real server. Run them with \
             `scripts/postgres cargo test -p custodia-tenant --all-features --test sqlx`, \
             which starts a throwaway PostgreSQL and exports CUSTODIA_PG_ADMIN_URL and CUSTODIA_PG_APP_URL"
        )
    })
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

async fn connect(var: &str) -> PgConnection {
    let url = env_url(var);
    PgConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect with {var}: {e}"))
}

async fn app_pool(max: u32) -> PgPool {
    let url = env_url("CUSTODIA_PG_APP_URL");
    PgPoolOptions::new()
        .max_connections(max)
        .connect(&url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect with CUSTODIA_PG_APP_URL: {e}"))
}

/// A fresh schema with a `tickets` tenant table under RLS and `tenants.len()`
/// tenants, tenant `i` owning `i + 1` tickets. Dropped by [`Fixture::drop_schema`].
struct Fixture {
    schema: String,
    app_role: String,
    tenants: Vec<TenantId>,
}

impl Fixture {
    async fn new(tenant_count: usize) -> Self {
        let mut admin = connect("CUSTODIA_PG_ADMIN_URL").await;
        let mut app = connect("CUSTODIA_PG_APP_URL").await;
        let app_role: String = query::<Postgres>("SELECT current_user::text")
            .fetch_one(&mut app)
            .await
            .unwrap()
            .get(0);
        let schema = format!("custodia_sqlx_{}", TenantId::random().as_uuid().simple());
        let ddl = format!(
            "CREATE SCHEMA {schema};
             GRANT USAGE ON SCHEMA {schema} TO {app_role};
             CREATE TABLE {schema}.tickets (
                 tenant_id uuid   NOT NULL,
                 id        bigint GENERATED ALWAYS AS IDENTITY,
                 subject   text   NOT NULL,
                 PRIMARY KEY (tenant_id, id)
             );"
        );
        raw_sql(&ddl).execute(&mut admin).await.unwrap();
        let rls = RlsPolicy::new(&app_role)
            .unwrap()
            .table(TenantTable::new(&schema, "tickets").unwrap())
            .sql();
        raw_sql(&rls).execute(&mut admin).await.unwrap();
        let tenants: Vec<TenantId> = (0..tenant_count).map(|_| TenantId::random()).collect();
        for (i, tenant) in tenants.iter().enumerate() {
            for j in 0..=i {
                query::<Postgres>(&format!(
                    "INSERT INTO {schema}.tickets (tenant_id, subject) VALUES ($1, $2)"
                ))
                .bind(*tenant.as_uuid())
                .bind(format!("t{i}-{j}"))
                .execute(&mut admin)
                .await
                .unwrap();
            }
        }
        Self {
            schema,
            app_role,
            tenants,
        }
    }

    async fn drop_schema(&self) {
        let mut admin = connect("CUSTODIA_PG_ADMIN_URL").await;
        raw_sql(&format!(
            "DROP SCHEMA IF EXISTS {s}_other CASCADE; DROP SCHEMA IF EXISTS {s} CASCADE",
            s = self.schema
        ))
        .execute(&mut admin)
        .await
        .unwrap();
    }
}

/// The tenant binding the connection carries now (`None` or `""` when unbound).
async fn binding(conn: &mut PgConnection) -> Option<String> {
    query::<Postgres>("SELECT current_setting('app.tenant_id', true)")
        .fetch_one(conn)
        .await
        .unwrap()
        .get(0)
}

fn is_unbound(setting: &Option<String>) -> bool {
    setting.as_deref().is_none_or(str::is_empty)
}

/// Takes every connection of the pool at once and checks none carries a
/// binding, and that unbound they see no rows.
async fn assert_pool_unbound(pool: &PgPool, max: u32, schema: &str) {
    let mut held = Vec::new();
    for _ in 0..max {
        held.push(pool.acquire().await.unwrap());
    }
    for conn in &mut held {
        let setting = binding(conn).await;
        assert!(
            is_unbound(&setting),
            "a pooled connection carries {setting:?}"
        );
        let visible: i64 = query::<Postgres>(&format!("SELECT count(*) FROM {schema}.tickets"))
            .fetch_one(&mut **conn)
            .await
            .unwrap()
            .get(0);
        assert_eq!(visible, 0, "an unbound connection sees rows");
    }
}

/// How a task ends its transaction.
#[derive(Clone, Copy, Debug)]
enum End {
    Commit,
    Rollback,
    Drop,
    /// A failing statement (a write into another tenant) and then a drop.
    Error,
}

fn end() -> impl Strategy<Value = End> {
    prop_oneof![
        Just(End::Commit),
        Just(End::Rollback),
        Just(End::Drop),
        Just(End::Error)
    ]
}

const TENANTS: usize = 4;
const POOL: u32 = 4;
const TASKS: usize = 32;

/// One task: bind tenant `i`, yield `yields` times (so other tasks interleave
/// between the binding and the reads), read twice, end as told.
async fn task(
    pool: PgPool,
    schema: Arc<str>,
    tenants: Arc<[TenantId]>,
    i: usize,
    yields: u8,
    end: End,
) {
    let tenant = tenants[i];
    let mut tx = begin_bound(&pool, tenant).await.unwrap();
    let select = format!("SELECT tenant_id, subject FROM {schema}.tickets ORDER BY id");
    for round in 0..2 {
        for _ in 0..yields {
            tokio::task::yield_now().await;
        }
        let rows = query::<Postgres>(&select)
            .fetch_all(&mut *tx)
            .await
            .unwrap();
        let seen: Vec<(custodia_core::uuid::Uuid, String)> =
            rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        let expected: Vec<(custodia_core::uuid::Uuid, String)> = (0..=i)
            .map(|j| (*tenant.as_uuid(), format!("t{i}-{j}")))
            .collect();
        assert_eq!(seen, expected, "tenant {i}, round {round}");
        let setting = binding(&mut tx).await;
        assert_eq!(setting, Some(tenant.as_uuid().to_string()));
    }
    match end {
        End::Commit => tx.commit().await.unwrap(),
        End::Rollback => tx.rollback().await.unwrap(),
        End::Drop => drop(tx),
        End::Error => {
            let other = tenants[(i + 1) % tenants.len()];
            let err = query::<Postgres>(&format!(
                "INSERT INTO {schema}.tickets (tenant_id, subject) VALUES ($1, 'planted')"
            ))
            .bind(*other.as_uuid())
            .execute(&mut *tx)
            .await
            .unwrap_err();
            assert!(err.to_string().contains("row-level security"), "{err}");
            drop(tx);
        }
    }
}

#[test]
fn concurrent_tasks_on_one_pool_see_only_their_tenant_and_leave_no_binding() {
    let rt = runtime();
    let fixture = rt.block_on(Fixture::new(TENANTS));
    let pool = rt.block_on(app_pool(POOL));
    let schema: Arc<str> = Arc::from(fixture.schema.as_str());
    let tenants: Arc<[TenantId]> = Arc::from(fixture.tenants.as_slice());

    let mut runner = TestRunner::new(Config {
        cases: 16,
        failure_persistence: None,
        ..Config::default()
    });
    let plan = prop::collection::vec((0..TENANTS, 0u8..4, end()), TASKS);
    let result = runner.run(&plan, |plan| {
        rt.block_on(async {
            let mut set = tokio::task::JoinSet::new();
            for (i, yields, end) in plan {
                set.spawn(task(
                    pool.clone(),
                    schema.clone(),
                    tenants.clone(),
                    i,
                    yields,
                    end,
                ));
            }
            while let Some(joined) = set.join_next().await {
                // A task's panic (a wrong row, a leaked binding) fails the case.
                joined.unwrap();
            }
            assert_pool_unbound(&pool, POOL, &schema).await;
        });
        Ok(())
    });
    rt.block_on(async {
        pool.close().await;
        fixture.drop_schema().await;
    });
    result.unwrap();
}

#[test]
fn an_error_or_a_panic_mid_transaction_leaves_the_connection_unbound() {
    let rt = runtime();
    rt.block_on(async {
        let fixture = Fixture::new(2).await;
        // One connection: whatever the failed task leaves on it, the next one gets.
        let pool = app_pool(1).await;
        let a = fixture.tenants[0];
        let b = fixture.tenants[1];

        // An error: a write into another tenant fails, `?` drops the transaction.
        let failed = {
            let pool = pool.clone();
            let schema = fixture.schema.clone();
            tokio::spawn(async move {
                let mut tx = begin_bound(&pool, a).await?;
                query::<Postgres>(&format!(
                    "INSERT INTO {schema}.tickets (tenant_id, subject) VALUES ($1, 'planted')"
                ))
                .bind(*b.as_uuid())
                .execute(&mut *tx)
                .await
                .map_err(|source| custodia_tenant::Error::Sqlx {
                    doing: "planting",
                    source,
                })?;
                tx.commit()
                    .await
                    .map_err(|source| custodia_tenant::Error::Sqlx {
                        doing: "committing",
                        source,
                    })
            })
            .await
            .unwrap()
        };
        assert!(failed.is_err());
        assert_pool_unbound(&pool, 1, &fixture.schema).await;

        // A panic while bound: the task dies holding the transaction.
        let panicked = {
            let pool = pool.clone();
            tokio::spawn(async move {
                let tx = begin_bound(&pool, a).await.unwrap();
                let _keep = &tx;
                panic!("handler bug while bound");
            })
            .await
        };
        assert!(panicked.is_err_and(|e| e.is_panic()));
        assert_pool_unbound(&pool, 1, &fixture.schema).await;

        // Nothing was planted.
        let mut tx = begin_bound(&pool, b).await.unwrap();
        let count: i64 =
            query::<Postgres>(&format!("SELECT count(*) FROM {}.tickets", fixture.schema))
                .fetch_one(&mut *tx)
                .await
                .unwrap()
                .get(0);
        assert_eq!(count, 2);
        tx.commit().await.unwrap();

        pool.close().await;
        fixture.drop_schema().await;
    });
}

#[test]
fn begin_bound_on_a_held_connection_binds_and_refuses_nesting() {
    let rt = runtime();
    rt.block_on(async {
        let fixture = Fixture::new(2).await;
        let mut conn = connect("CUSTODIA_PG_APP_URL").await;
        let a = fixture.tenants[0];
        {
            let mut tx = begin_bound_on(&mut conn, a).await.unwrap();
            assert_eq!(binding(&mut tx).await, Some(a.as_uuid().to_string()));
            // A binding always starts its own transaction, never a savepoint.
            assert!(begin_bound_on(&mut tx, a).await.is_err());
            tx.commit().await.unwrap();
        }
        assert!(is_unbound(&binding(&mut conn).await));
        fixture.drop_schema().await;
    });
}

#[test]
fn a_read_only_binding_reads_its_tenant_and_writes_nothing() {
    let rt = runtime();
    rt.block_on(async {
        let fixture = Fixture::new(2).await;
        let pool = app_pool(1).await;
        let (a, schema) = (fixture.tenants[0], &fixture.schema);
        let mut tx = pool
            .begin_with(begin_bound_sql(a, TxAccess::ReadOnly))
            .await
            .unwrap();
        assert_eq!(binding(&mut tx).await, Some(a.as_uuid().to_string()));
        let count: i64 = query::<Postgres>(&format!("SELECT count(*) FROM {schema}.tickets"))
            .fetch_one(&mut *tx)
            .await
            .unwrap()
            .get(0);
        assert_eq!(count, 1);
        let insert = format!("INSERT INTO {schema}.tickets (tenant_id, subject) VALUES ($1, 'x')");
        let refused = query::<Postgres>(&insert)
            .bind(*a.as_uuid())
            .execute(&mut *tx)
            .await
            .unwrap_err();
        // 25006: read_only_sql_transaction.
        assert_eq!(
            refused
                .as_database_error()
                .and_then(|e| e.code())
                .as_deref(),
            Some("25006")
        );
        drop(tx);
        // The same statement, read-write, is what `begin_bound` sends.
        let mut tx = begin_bound(&pool, a).await.unwrap();
        query::<Postgres>(&insert)
            .bind(*a.as_uuid())
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        fixture.drop_schema().await;
    });
}

#[test]
fn the_async_lint_agrees_with_the_sync_one() {
    let rt = runtime();
    let fixture = rt.block_on(async {
        let fixture = Fixture::new(1).await;
        let mut admin = connect("CUSTODIA_PG_ADMIN_URL").await;
        raw_sql(&format!(
            "CREATE TABLE {s}.notes (tenant_id uuid NOT NULL, body text);
             CREATE TABLE {s}.forced_off (tenant_id uuid NOT NULL);
             ALTER TABLE {s}.forced_off ENABLE ROW LEVEL SECURITY;
             CREATE VIEW {s}.ticket_view AS SELECT tenant_id, subject FROM {s}.tickets;
             CREATE TABLE {s}.unbound_leak (tenant_id uuid NOT NULL);
             ALTER TABLE {s}.unbound_leak ENABLE ROW LEVEL SECURITY;
             ALTER TABLE {s}.unbound_leak FORCE ROW LEVEL SECURITY;
             CREATE POLICY leaky ON {s}.unbound_leak
               USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid
                      OR current_setting('app.tenant_id', true) IS NULL);
             CREATE TABLE {s}.contacts (tenant_id uuid NOT NULL, email text UNIQUE);
             CREATE FUNCTION {s}.count_all() RETURNS bigint LANGUAGE sql SECURITY DEFINER
                 AS 'SELECT count(*) FROM {s}.tickets';
             CREATE TABLE {s}.watchers (t uuid, i bigint,
                 FOREIGN KEY (t, i) REFERENCES {s}.tickets (tenant_id, id));
             CREATE TABLE {s}.spans (tenant_id int4range NOT NULL,
                 CONSTRAINT spans_excl EXCLUDE USING gist (tenant_id WITH &&));
             GRANT CREATE ON SCHEMA {s} TO {role};
             CREATE SCHEMA {s}_other;
             GRANT CREATE ON SCHEMA {s}_other TO {role};
             CREATE TABLE {s}_other.notes (tenant_id uuid NOT NULL, t uuid, i bigint,
                 FOREIGN KEY (t, i) REFERENCES {s}.tickets (tenant_id, id));
             CREATE FUNCTION {s}_other.count_elsewhere() RETURNS bigint LANGUAGE sql
                 SECURITY DEFINER AS 'SELECT count(*) FROM {s}.tickets';",
            s = fixture.schema,
            role = fixture.app_role,
        ))
        .execute(&mut admin)
        .await
        .unwrap();
        fixture
    });
    let options = LintOptions::new(&fixture.app_role).schemas(&[&fixture.schema]);
    let report = rt.block_on(async {
        let pool = app_pool(2).await;
        // Send: a multi-threaded runtime can run it on any worker.
        let lint = tokio::spawn({
            let pool = pool.clone();
            let options = options.clone();
            async move { sqlx_lint(&pool, &options).await }
        });
        let report = lint.await.unwrap().unwrap();
        pool.close().await;
        report
    });
    let s = &fixture.schema;
    assert_eq!(report.about(&format!("{s}.tickets")).count(), 0, "{report}");
    for expected in [
        LintFinding::RlsDisabled {
            table: format!("{s}.notes"),
        },
        LintFinding::RlsNotForced {
            table: format!("{s}.forced_off"),
        },
        LintFinding::UnrecognisedTenantPolicy {
            table: format!("{s}.unbound_leak"),
            policy: "leaky".into(),
        },
        LintFinding::UniqueKeyWithoutTenantColumn {
            table: format!("{s}.contacts"),
            index: "contacts_email_key".into(),
        },
        LintFinding::ForeignKeyFromGlobalTable {
            table: format!("{s}.watchers"),
            constraint: "watchers_t_i_fkey".into(),
            references: format!("{s}.tickets"),
        },
        LintFinding::ExclusionWithoutTenantEquality {
            table: format!("{s}.spans"),
            index: "spans_excl".into(),
        },
        LintFinding::AppRoleCanCreateInSchema {
            schema: s.clone(),
            role: fixture.app_role.clone(),
            grantee: fixture.app_role.clone(),
            owner: false,
        },
        // Outside the inspected schema: CREATE on it, and an unpaired foreign
        // key from a tenant table there to an inspected one.
        LintFinding::AppRoleCanCreateInSchema {
            schema: format!("{s}_other"),
            role: fixture.app_role.clone(),
            grantee: fixture.app_role.clone(),
            owner: false,
        },
        LintFinding::ForeignKeyWithoutTenantColumn {
            table: format!("{s}_other.notes"),
            constraint: "notes_t_i_fkey".into(),
            references: format!("{s}.tickets"),
        },
    ] {
        assert!(
            report.findings.contains(&expected),
            "{expected:?} missing: {report}"
        );
    }
    assert!(
        report
            .about(&format!("{s}.ticket_view"))
            .any(|f| matches!(f, LintFinding::ViewWithoutSecurityInvoker { .. })),
        "{report}"
    );
    assert!(
        report
            .about(&format!("{s}.count_all()"))
            .any(|f| matches!(f, LintFinding::SecurityDefinerFunction { .. })),
        "{report}"
    );
    // A definer function outside the inspected schema that reads an
    // inspected tenant table.
    assert!(
        report
            .about(&format!("{s}_other.count_elsewhere()"))
            .any(|f| matches!(f, LintFinding::SecurityDefinerFunction { .. })),
        "{report}"
    );
    assert!(!report.is_clean());

    // Same SQL, same semantics: the sync client reports exactly the same.
    #[cfg(feature = "postgres")]
    {
        let mut client =
            postgres::Client::connect(&env_url("CUSTODIA_PG_APP_URL"), postgres::NoTls).unwrap();
        let sync = custodia_tenant::pg::lint(&mut client, &options).unwrap();
        assert_eq!(sync, report);
    }

    // CREATE on the database and CREATEROLE, for a role of this test's own
    // (every test lints the application role, and a database grant is seen
    // by all).
    let creator = format!("cd_{}", TenantId::random().as_uuid().simple());
    let creator_options = LintOptions::new(&creator).schemas(&[s]);
    let database = rt.block_on(async {
        let mut admin = connect("CUSTODIA_PG_ADMIN_URL").await;
        let database: String = query::<Postgres>("SELECT current_database()::text")
            .fetch_one(&mut admin)
            .await
            .unwrap()
            .get(0);
        raw_sql(&format!(
            "CREATE ROLE {creator} NOLOGIN CREATEROLE;
             GRANT CREATE ON DATABASE {database} TO {creator};"
        ))
        .execute(&mut admin)
        .await
        .unwrap();
        database
    });
    let creator_report = rt.block_on(async {
        let mut conn = connect("CUSTODIA_PG_APP_URL").await;
        sqlx_lint(&mut conn, &creator_options).await
    });
    #[cfg(feature = "postgres")]
    let creator_sync = postgres::Client::connect(&env_url("CUSTODIA_PG_APP_URL"), postgres::NoTls)
        .map_err(|source| custodia_tenant::Error::Postgres {
            doing: "connecting",
            source,
        })
        .and_then(|mut client| custodia_tenant::pg::lint(&mut client, &creator_options));
    rt.block_on(async {
        let mut admin = connect("CUSTODIA_PG_ADMIN_URL").await;
        raw_sql(&format!("DROP OWNED BY {creator}; DROP ROLE {creator};"))
            .execute(&mut admin)
            .await
            .unwrap();
    });
    let creator_report = creator_report.unwrap();
    #[cfg(feature = "postgres")]
    assert_eq!(creator_sync.unwrap(), creator_report);
    assert!(
        creator_report
            .findings
            .contains(&LintFinding::AppRoleCanCreateInDatabase {
                database,
                role: creator.clone(),
                grantee: creator.clone(),
                owner: false,
            }),
        "{creator_report}"
    );
    assert!(
        creator_report
            .findings
            .contains(&LintFinding::AppRoleCanCreateRoles {
                role: creator.clone(),
                holder: creator.clone(),
            }),
        "{creator_report}"
    );

    // A missing role is a finding, not an error.
    let missing = rt.block_on(async {
        let mut conn = connect("CUSTODIA_PG_APP_URL").await;
        sqlx_lint(
            &mut conn,
            &LintOptions::new("custodia_no_such_role").schemas(&[s]),
        )
        .await
        .unwrap()
    });
    assert!(missing.findings.contains(&LintFinding::AppRoleMissing {
        role: "custodia_no_such_role".to_owned()
    }));
    rt.block_on(fixture.drop_schema());
}

#[test]
#[should_panic(expected = "the PostgreSQL tests need a real server")]
fn missing_environment_fails_loudly() {
    env_url("CUSTODIA_PG_DEFINITELY_NOT_SET_URL");
}

/// What a multi-threaded runtime needs, checked at compile time.
#[test]
fn the_binding_is_send_and_sync() {
    fn send<T: Send>(_: &T) {}
    fn send_sync<T: Send + Sync>() {}
    send_sync::<PgPool>();
    send_sync::<custodia_tenant::Error>();
    send_sync::<LintReport>();
    let rt = runtime();
    rt.block_on(async {
        let pool = PgPoolOptions::new()
            .connect_lazy("postgres://localhost/x")
            .unwrap();
        let tenant = TenantId::random();
        let bind = begin_bound(&pool, tenant);
        send(&bind);
        drop(bind);
        let options = LintOptions::new("custodia_app");
        let lint = sqlx_lint(&pool, &options);
        send(&lint);
    });
}

// The binding's span is checked in `tests/sqlx_tracing.rs`, a process of
// its own: counting spans with a thread-scoped subscriber races the other
// tests' bindings here (see that file).
