//! Row-level security against a real PostgreSQL (feature `postgres`).
//!
//! Needs `CUSTODIA_PG_ADMIN_URL` (a superuser) and `CUSTODIA_PG_APP_URL` (the
//! non-owner application role), which `scripts/test` exports after starting a
//! throwaway server with `scripts/postgres`. Without them every test here
//! fails: they never pass by skipping.

#![cfg(feature = "postgres")]

use custodia_core::TenantId;
use custodia_tenant::pg::{
    LintFinding, LintOptions, LintReport, TenantTransaction, lint, with_tenant,
};
use custodia_tenant::rls::{BIND_TENANT_SQL, RlsPolicy, TenantTable};
use postgres::error::SqlState;
use postgres::{Client, NoTls};

fn env_url(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!(
            "{var} is not set: the PostgreSQL tests need a real server. Run them through \
             scripts/test, or `scripts/postgres cargo test -p custodia-tenant --all-features`, \
             which start a throwaway PostgreSQL and export CUSTODIA_PG_ADMIN_URL and CUSTODIA_PG_APP_URL"
        )
    })
}

fn connect(var: &str) -> Client {
    let url = env_url(var);
    Client::connect(&url, NoTls).unwrap_or_else(|e| panic!("cannot connect with {var}: {e}"))
}

/// The connection settings in `var`.
fn config(var: &str) -> postgres::Config {
    env_url(var)
        .parse()
        .unwrap_or_else(|e| panic!("{var} is not a PostgreSQL URL: {e}"))
}

/// A fresh schema with a `tickets` tenant table under RLS, dropped at the end.
struct Fixture {
    admin: Client,
    /// How [`Fixture::app`] connects.
    app_config: postgres::Config,
    schema: String,
    app_role: String,
    /// More schemas, dropped with the fixture's.
    others: Vec<String>,
    /// A database of the fixture's own ([`Fixture::isolated`]), dropped at
    /// the end.
    database: Option<String>,
}

impl Fixture {
    fn new() -> Self {
        Self::in_database(None)
    }

    /// The fixture in a database of its own, for a test whose grants every
    /// other test's lint would see: `CREATE` on any schema of the database,
    /// or on the database itself, is reported whichever schemas the lint
    /// inspects, and every test lints the same application role.
    fn isolated() -> Self {
        let name = format!(
            "custodia_tenant_db_{}",
            TenantId::random().as_uuid().simple()
        );
        connect("CUSTODIA_PG_ADMIN_URL")
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        Self::in_database(Some(name))
    }

    fn in_database(database: Option<String>) -> Self {
        let (mut admin_config, mut app_config) = (
            config("CUSTODIA_PG_ADMIN_URL"),
            config("CUSTODIA_PG_APP_URL"),
        );
        if let Some(name) = &database {
            admin_config.dbname(name);
            app_config.dbname(name);
        }
        let mut admin = admin_config.connect(NoTls).unwrap();
        let mut app = app_config.connect(NoTls).unwrap();
        let app_role: String = app
            .query_one("SELECT current_user::text", &[])
            .unwrap()
            .get(0);
        let schema = format!("custodia_tenant_{}", TenantId::random().as_uuid().simple());
        admin
            .batch_execute(&format!(
                "CREATE SCHEMA {schema};
                 GRANT USAGE ON SCHEMA {schema} TO {app_role};
                 CREATE TABLE {schema}.tickets (
                     tenant_id uuid   NOT NULL,
                     id        bigint GENERATED ALWAYS AS IDENTITY,
                     subject   text   NOT NULL,
                     PRIMARY KEY (tenant_id, id)
                 );"
            ))
            .unwrap();
        let sql = RlsPolicy::new(&app_role)
            .unwrap()
            .table(TenantTable::new(&schema, "tickets").unwrap())
            .sql();
        admin.batch_execute(&sql).unwrap();
        Self {
            admin,
            app_config,
            schema,
            app_role,
            others: Vec::new(),
            database,
        }
    }

    /// Another schema, `<the fixture's>_<suffix>`, with `USAGE` for the
    /// application role; dropped with the fixture.
    fn schema_beside(&mut self, suffix: &str) -> String {
        let other = format!("{}_{suffix}", self.schema);
        self.admin
            .batch_execute(&format!(
                "CREATE SCHEMA {other}; GRANT USAGE ON SCHEMA {other} TO {};",
                self.app_role
            ))
            .unwrap();
        self.others.push(other.clone());
        other
    }

    fn seed(&mut self, tenant: TenantId, subjects: &[&str]) {
        for subject in subjects {
            self.admin
                .execute(
                    &format!(
                        "INSERT INTO {}.tickets (tenant_id, subject) VALUES ($1, $2)",
                        self.schema
                    ),
                    &[tenant.as_uuid(), subject],
                )
                .unwrap();
        }
    }

    /// The setup most tests share: a fixture, two tenants `a` and `b`, and
    /// these tickets of each.
    fn with_tenants(a_subjects: &[&str], b_subjects: &[&str]) -> (Self, TenantId, TenantId) {
        let mut f = Self::new();
        let (a, b) = tenants();
        f.seed(a, a_subjects);
        f.seed(b, b_subjects);
        (f, a, b)
    }

    /// [`Fixture::with_tenants`] in a database of its own
    /// ([`Fixture::isolated`]).
    fn isolated_with_tenants(
        a_subjects: &[&str],
        b_subjects: &[&str],
    ) -> (Self, TenantId, TenantId) {
        let mut f = Self::isolated();
        let (a, b) = tenants();
        f.seed(a, a_subjects);
        f.seed(b, b_subjects);
        (f, a, b)
    }

    /// The id of `tenant`'s first ticket, read as the administrator.
    fn first_ticket(&mut self, tenant: TenantId) -> i64 {
        self.admin
            .query_one(
                &format!(
                    "SELECT id FROM {}.tickets WHERE tenant_id = $1 ORDER BY id LIMIT 1",
                    self.schema
                ),
                &[tenant.as_uuid()],
            )
            .unwrap()
            .get(0)
    }

    /// Asserts that a constraint check is an oracle across tenants: bound to
    /// `bound`, which sees no ticket, the statement `insert(id)` succeeds for
    /// another tenant's ticket `known` and fails for an id nobody has.
    fn assert_oracle(&self, bound: TenantId, known: i64, insert: impl Fn(i64) -> String) {
        let mut app = self.app();
        let mut inserts = |id: i64| -> bool {
            let mut tx = TenantTransaction::begin(&mut app, bound).unwrap();
            let seen: i64 = tx
                .query_one(
                    &format!("SELECT count(*) FROM {}.tickets", self.schema),
                    &[],
                )
                .unwrap()
                .get(0);
            assert_eq!(seen, 0, "the bound tenant sees no ticket");
            let inserted = tx.batch_execute(&insert(id)).is_ok();
            drop(tx);
            inserted
        };
        assert!(inserts(known), "the check finds another tenant's ticket");
        assert!(!inserts(known + 1000), "and not an id nobody has");
    }

    fn app(&self) -> Client {
        self.app_config
            .connect(NoTls)
            .unwrap_or_else(|e| panic!("cannot connect as the application role: {e}"))
    }

    /// The lint's options: the application role, the fixture's schema only.
    fn options(&self) -> LintOptions {
        LintOptions::new(&self.app_role).schemas(&[&self.schema])
    }

    /// Lints the fixture's schema for the application role.
    fn lint(&self) -> LintReport {
        lint(&mut self.app(), &self.options()).unwrap()
    }

    /// The SQL `RlsPolicy` generates for a table of the fixture's schema.
    fn rls(&self, table: &str) -> String {
        RlsPolicy::new(&self.app_role)
            .unwrap()
            .table(TenantTable::new(&self.schema, table).unwrap())
            .sql()
    }

    /// The administrator's role (a superuser).
    fn admin_role(&mut self) -> String {
        self.admin
            .query_one("SELECT current_user::text", &[])
            .unwrap()
            .get(0)
    }

    fn subjects_of(&mut self, tenant: TenantId) -> Vec<String> {
        self.admin
            .query(
                &format!(
                    "SELECT subject FROM {}.tickets WHERE tenant_id = $1 ORDER BY id",
                    self.schema
                ),
                &[tenant.as_uuid()],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        for schema in self.others.iter().chain([&self.schema]) {
            let _ = self
                .admin
                .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
        if let Some(name) = &self.database {
            // FORCE: the fixture's own connection is still open.
            let _ = connect("CUSTODIA_PG_ADMIN_URL")
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

fn tenants() -> (TenantId, TenantId) {
    (TenantId::random(), TenantId::random())
}

#[test]
fn a_forgotten_where_still_returns_only_the_bound_tenants_rows() {
    let (mut f, a, b) = Fixture::with_tenants(&["a1", "a2", "a3"], &["b1", "b2"]);
    let mut app = f.app();
    let select = format!(
        "SELECT tenant_id, subject FROM {}.tickets ORDER BY id",
        f.schema
    );

    let mut tx = TenantTransaction::begin(&mut app, a).unwrap();
    assert_eq!(tx.tenant(), a);
    let rows = tx.query(&select, &[]).unwrap();
    let seen: Vec<(uuid_of::Uuid, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        seen,
        vec![
            (*a.as_uuid(), "a1".to_owned()),
            (*a.as_uuid(), "a2".to_owned()),
            (*a.as_uuid(), "a3".to_owned())
        ]
    );
    // UPDATE and DELETE without WHERE touch only the bound tenant's rows too.
    let updated = tx
        .execute(
            &format!("UPDATE {}.tickets SET subject = subject || '!'", f.schema),
            &[],
        )
        .unwrap();
    assert_eq!(updated, 3);
    tx.commit().unwrap();

    let mut tx = TenantTransaction::begin(&mut app, b).unwrap();
    let deleted = tx
        .execute(&format!("DELETE FROM {}.tickets", f.schema), &[])
        .unwrap();
    assert_eq!(deleted, 2);
    tx.rollback().unwrap();

    assert_eq!(f.subjects_of(a), ["a1!", "a2!", "a3!"]);
    assert_eq!(f.subjects_of(b), ["b1", "b2"]);
}

#[test]
fn writes_into_another_tenant_fail_the_with_check() {
    let (mut f, a, b) = Fixture::with_tenants(&["a1"], &["b1"]);
    let mut app = f.app();

    let mut tx = TenantTransaction::begin(&mut app, a).unwrap();
    let err = tx
        .execute(
            &format!(
                "INSERT INTO {}.tickets (tenant_id, subject) VALUES ($1, 'planted')",
                f.schema
            ),
            &[b.as_uuid()],
        )
        .unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE), "{err}");
    let message = err
        .as_db_error()
        .map(|db| db.message().to_owned())
        .unwrap_or_default();
    assert!(message.contains("row-level security"), "{message}");
    tx.rollback().unwrap();

    let mut tx = TenantTransaction::begin(&mut app, a).unwrap();
    let err = tx
        .execute(
            &format!("UPDATE {}.tickets SET tenant_id = $1", f.schema),
            &[b.as_uuid()],
        )
        .unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE), "{err}");
    tx.rollback().unwrap();

    // Its own tenant's insert works.
    with_tenant(&mut app, a, |tx| {
        tx.execute(
            &format!(
                "INSERT INTO {}.tickets (tenant_id, subject) VALUES ($1, 'mine')",
                f.schema
            ),
            &[a.as_uuid()],
        )
        .map_err(|source| custodia_tenant::Error::Postgres {
            doing: "insert",
            source,
        })
    })
    .unwrap();
    assert_eq!(f.subjects_of(a), ["a1", "mine"]);
    assert_eq!(f.subjects_of(b), ["b1"]);
}

#[test]
fn a_pooled_connection_reused_without_binding_sees_no_rows() {
    let (f, a, _) = Fixture::with_tenants(&["a1", "a2"], &[]);
    let count = format!("SELECT count(*) FROM {}.tickets", f.schema);

    // Never bound in this session: current_setting(.., true) is NULL.
    let mut app = f.app();
    let n: i64 = app.query_one(&count, &[]).unwrap().get(0);
    assert_eq!(n, 0);

    // Bound in a committed transaction, then reused: the setting is '' now.
    let n = with_tenant(&mut app, a, |tx| {
        Ok(tx
            .query_one(&count, &[])
            .map(|r| r.get::<_, i64>(0))
            .unwrap())
    })
    .unwrap();
    assert_eq!(n, 2);
    let setting: Option<String> = app
        .query_one("SELECT current_setting('app.tenant_id', true)", &[])
        .unwrap()
        .get(0);
    assert_eq!(setting.as_deref(), Some(""));
    let n: i64 = app.query_one(&count, &[]).unwrap().get(0);
    assert_eq!(n, 0, "the binding must not outlive its transaction");

    // Inside a bound transaction the setting is the tenant.
    let mut tx = TenantTransaction::begin(&mut app, a).unwrap();
    let bound: String = tx
        .query_one("SELECT current_setting('app.tenant_id')", &[])
        .unwrap()
        .get(0);
    assert_eq!(bound, a.to_string());
    tx.commit().unwrap();

    // The documented parameterised binding, for other drivers and pools.
    let mut raw = app.transaction().unwrap();
    raw.execute(BIND_TENANT_SQL, &[&a.to_string()]).unwrap();
    let n: i64 = raw.query_one(&count, &[]).unwrap().get(0);
    assert_eq!(n, 2);
    raw.commit().unwrap();
    let n: i64 = app.query_one(&count, &[]).unwrap().get(0);
    assert_eq!(n, 0);

    // Bound, then rolled back (or dropped on error): same.
    let tx = TenantTransaction::begin(&mut app, a).unwrap();
    drop(tx);
    let n: i64 = app.query_one(&count, &[]).unwrap().get(0);
    assert_eq!(n, 0);

    // The anti-pattern the per-transaction binding avoids: a session-level SET
    // survives into the next use of the connection.
    app.batch_execute(&format!("SET app.tenant_id = '{a}'"))
        .unwrap();
    let n: i64 = app.query_one(&count, &[]).unwrap().get(0);
    assert_eq!(n, 2, "session SET leaks into the next use");
}

#[test]
fn the_lint_flags_every_unprotected_tenant_table() {
    let mut f = Fixture::new();
    let s = f.schema.clone();
    let app_role = f.app_role.clone();
    let mut app = f.app();

    let options = f.options();
    let report = lint(&mut app, &options).unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.checked, [format!("{s}.tickets")]);

    f.admin
        .batch_execute(&format!(
            "CREATE TABLE {s}.bare (tenant_id uuid NOT NULL, body text);
             CREATE TABLE {s}.no_tenant_column (id int);
             CREATE TABLE {s}.unforced (tenant_id uuid NOT NULL);
             ALTER TABLE {s}.unforced ENABLE ROW LEVEL SECURITY;
             CREATE POLICY p ON {s}.unforced USING (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid));
             CREATE TABLE {s}.owned (tenant_id uuid NOT NULL);
             {owned}
             ALTER TABLE {s}.owned OWNER TO {app_role};
             CREATE TABLE {s}.leaky (tenant_id uuid NOT NULL);
             {leaky}
             CREATE POLICY everyone ON {s}.leaky USING (true);
             CREATE TABLE {s}.no_policy (tenant_id uuid NOT NULL);
             ALTER TABLE {s}.no_policy ENABLE ROW LEVEL SECURITY;
             ALTER TABLE {s}.no_policy FORCE ROW LEVEL SECURITY;
             CREATE VIEW {s}.definer_view AS SELECT tenant_id, subject FROM {s}.tickets;
             CREATE VIEW {s}.invoker_view WITH (security_invoker = true) AS SELECT tenant_id, subject FROM {s}.tickets;
             CREATE MATERIALIZED VIEW {s}.snapshot AS SELECT tenant_id FROM {s}.tickets;",
            owned = f.rls("owned"),
            leaky = f.rls("leaky"),
        ))
        .unwrap();

    let report = lint(&mut app, &options).unwrap();
    let about = |name: &str| {
        report
            .about(&format!("{s}.{name}"))
            .cloned()
            .collect::<Vec<_>>()
    };
    let q = |name: &str| format!("{s}.{name}");
    assert_eq!(about("tickets"), []);
    assert_eq!(about("invoker_view"), []);
    assert_eq!(about("no_tenant_column"), []);
    assert!(!report.checked.contains(&q("no_tenant_column")));
    assert_eq!(
        about("bare"),
        [LintFinding::RlsDisabled { table: q("bare") }]
    );
    assert_eq!(
        about("unforced"),
        [LintFinding::RlsNotForced {
            table: q("unforced")
        }]
    );
    assert_eq!(
        about("owned"),
        [LintFinding::AppRoleOwnsTable {
            table: q("owned"),
            owner: app_role.clone()
        }]
    );
    assert_eq!(
        about("leaky"),
        [LintFinding::PermissivePolicyWithoutTenant {
            table: q("leaky"),
            policy: "everyone".into()
        }]
    );
    assert_eq!(
        about("no_policy"),
        [LintFinding::NoTenantPolicy {
            table: q("no_policy")
        }]
    );
    assert!(matches!(
        about("definer_view").as_slice(),
        [LintFinding::ViewWithoutSecurityInvoker { .. }]
    ));
    assert_eq!(
        about("snapshot"),
        [LintFinding::MaterializedView {
            view: q("snapshot")
        }]
    );
    assert_eq!(report.findings.len(), 7, "{report}");
    assert!(report.to_string().contains(&format!(
        "{s}.bare: has a tenant column but row-level security is not enabled"
    )));

    // The superuser as "application role": RLS would never apply to it.
    let admin_role = f.admin_role();
    let report = lint(&mut app, &LintOptions::new(&admin_role).schemas(&[&s])).unwrap();
    assert!(report.findings.contains(&LintFinding::AppRoleIsSuperuser {
        role: admin_role.clone()
    }));
    assert!(
        report
            .findings
            .contains(&LintFinding::AppRoleBypassesRls { role: admin_role })
    );

    let report = lint(
        &mut app,
        &LintOptions::new("no_such_role_xyz").schemas(&[&s]),
    )
    .unwrap();
    assert!(report.findings.contains(&LintFinding::AppRoleMissing {
        role: "no_such_role_xyz".into()
    }));
}

/// Found in review (sixteenth session): the lint took any policy whose text
/// contained `app.tenant_id` for the tenant policy, so this one, which lets a
/// connection with no tenant bound read every tenant's rows, linted clean.
#[test]
fn the_lint_flags_a_tenant_policy_that_an_unbound_connection_bypasses() {
    let mut f = Fixture::new();
    let (s, role) = (f.schema.clone(), f.app_role.clone());
    f.admin
        .batch_execute(&format!(
            "CREATE TABLE {s}.unbound_leak (tenant_id uuid NOT NULL, subject text NOT NULL);
             ALTER TABLE {s}.unbound_leak ENABLE ROW LEVEL SECURITY;
             ALTER TABLE {s}.unbound_leak FORCE ROW LEVEL SECURITY;
             CREATE POLICY leaky ON {s}.unbound_leak AS PERMISSIVE FOR ALL TO {role}
               USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid
                      OR current_setting('app.tenant_id', true) IS NULL);
             GRANT SELECT ON {s}.unbound_leak TO {role};
             INSERT INTO {s}.unbound_leak VALUES (gen_random_uuid(), 'a'), (gen_random_uuid(), 'b');"
        ))
        .unwrap();
    let mut app = f.app();
    // Unbound, the application role reads both tenants' rows.
    let leaked: i64 = app
        .query_one(&format!("SELECT count(*) FROM {s}.unbound_leak"), &[])
        .unwrap()
        .get(0);
    assert_eq!(leaked, 2, "the policy leaks across tenants when unbound");

    let report = f.lint();
    assert!(
        !report.is_clean(),
        "the lint passed a policy that leaks every tenant's rows: {report}"
    );
    let table = format!("{s}.unbound_leak");
    assert_eq!(
        report.about(&table).cloned().collect::<Vec<_>>(),
        [
            LintFinding::UnrecognisedTenantPolicy {
                table: table.clone(),
                policy: "leaky".into()
            },
            LintFinding::NoTenantPolicy {
                table: table.clone()
            }
        ],
        "{report}"
    );
    assert!(report.to_string().contains(&format!(
        "{table}: permissive policy leaky reads app.tenant_id but is not the tenant predicate"
    )));
}

/// A policy is the tenant policy only when each of its expressions is, as
/// PostgreSQL prints it, the predicate `RlsPolicy` generates for the table's
/// tenant column; any other permissive policy is a finding, because
/// permissive policies are OR-ed.
#[test]
fn the_lint_accepts_only_the_generated_tenant_predicate() {
    let mut f = Fixture::new();
    let (s, role) = (f.schema.clone(), f.app_role.clone());
    let bound = "NULLIF(current_setting('app.tenant_id', true), '')::uuid";
    let mut ddl = String::new();
    for t in [
        "coalesced",
        "wrong_column",
        "unchecked_writes",
        "widened",
        "narrowed",
        "hand_written",
    ] {
        ddl.push_str(&format!(
            "CREATE TABLE {s}.{t} (tenant_id uuid NOT NULL, owner_id uuid, subject text);
             ALTER TABLE {s}.{t} ENABLE ROW LEVEL SECURITY;
             ALTER TABLE {s}.{t} FORCE ROW LEVEL SECURITY;
             GRANT SELECT, INSERT ON {s}.{t} TO {role};\n"
        ));
    }
    f.admin
        .batch_execute(&format!(
            "{ddl}
             CREATE POLICY p ON {s}.coalesced USING (tenant_id = coalesce({bound}, tenant_id));
             CREATE POLICY p ON {s}.wrong_column USING (owner_id = {bound});
             CREATE POLICY p ON {s}.unchecked_writes
               USING (tenant_id = (SELECT {bound})) WITH CHECK (true);
             {widened}
             CREATE POLICY also_public ON {s}.widened AS PERMISSIVE FOR SELECT TO {role}
               USING (tenant_id = {bound} OR subject = 'public');
             {narrowed}
             CREATE POLICY not_archived ON {s}.narrowed AS RESTRICTIVE
               USING (subject <> 'archived' OR current_setting('app.tenant_id', true) IS NULL);
             CREATE POLICY reads ON {s}.hand_written FOR SELECT USING (tenant_id = {bound});
             CREATE POLICY writes ON {s}.hand_written FOR INSERT
               WITH CHECK (   tenant_id   =   (SELECT {bound}));",
            widened = f.rls("widened"),
            narrowed = f.rls("narrowed"),
        ))
        .unwrap();

    let report = f.lint();
    let about = |t: &str| {
        report
            .about(&format!("{s}.{t}"))
            .cloned()
            .collect::<Vec<_>>()
    };
    let unrecognised = |t: &str, policy: &str| LintFinding::UnrecognisedTenantPolicy {
        table: format!("{s}.{t}"),
        policy: policy.into(),
    };
    let no_tenant_policy = |t: &str| LintFinding::NoTenantPolicy {
        table: format!("{s}.{t}"),
    };
    for t in ["coalesced", "wrong_column", "unchecked_writes"] {
        assert_eq!(
            about(t),
            [unrecognised(t, "p"), no_tenant_policy(t)],
            "{report}"
        );
    }
    assert_eq!(about("widened"), [unrecognised("widened", "also_public")]);
    assert_eq!(about("narrowed"), []);
    assert_eq!(about("hand_written"), []);
    assert_eq!(about("tickets"), []);
    assert_eq!(report.findings.len(), 7, "{report}");

    // What the second permissive policy does: a bound tenant reads another
    // tenant's row.
    let (a, b) = tenants();
    f.admin
        .execute(
            &format!("INSERT INTO {s}.widened (tenant_id, subject) VALUES ($1, 'public')"),
            &[b.as_uuid()],
        )
        .unwrap();
    let mut app = f.app();
    let seen = with_tenant(&mut app, a, |tx| {
        Ok(tx
            .query_one(&format!("SELECT count(*) FROM {s}.widened"), &[])
            .map(|r| r.get::<_, i64>(0))
            .unwrap())
    })
    .unwrap();
    assert_eq!(seen, 1, "tenant a reads tenant b's row through also_public");
}

/// Found in review: the lint listed only views that have the tenant
/// column, so a view over a tenant table that leaves the column out, owned
/// by a role RLS does not bind (here the superuser that ran the
/// migration), handed every tenant's rows to the application role while
/// the lint reported clean.
#[test]
fn the_lint_flags_views_over_tenant_tables_without_the_tenant_column() {
    let (mut f, a, _) = Fixture::with_tenants(&["a1"], &["b1"]);
    let (s, role) = (f.schema.clone(), f.app_role.clone());
    f.admin
        .batch_execute(&format!(
            "CREATE VIEW {s}.subjects AS SELECT id, subject FROM {s}.tickets;
             CREATE VIEW {s}.subjects_safe WITH (security_invoker = true)
                 AS SELECT id, subject FROM {s}.tickets;
             CREATE VIEW {s}.nested AS SELECT subject FROM {s}.subjects;
             CREATE VIEW {s}.over_safe AS SELECT subject FROM {s}.subjects_safe;
             CREATE MATERIALIZED VIEW {s}.counts AS SELECT count(*) AS n FROM {s}.tickets;
             CREATE VIEW {s}.unrelated AS SELECT 1 AS one;
             GRANT SELECT ON {s}.subjects, {s}.subjects_safe, {s}.nested, {s}.over_safe, {s}.counts
                 TO {role};"
        ))
        .unwrap();
    let admin_role = f.admin_role();
    let mut app = f.app();
    let read = |app: &mut Client, view: &str| -> Vec<String> {
        let mut tx = TenantTransaction::begin(app, a).unwrap();
        let rows = tx
            .query(&format!("SELECT subject FROM {s}.{view} ORDER BY 1"), &[])
            .unwrap();
        tx.rollback().unwrap();
        rows.iter().map(|r| r.get(0)).collect()
    };
    // Bound to tenant a, the application role reads tenant b's row.
    assert_eq!(read(&mut app, "subjects"), ["a1", "b1"]);
    assert_eq!(read(&mut app, "nested"), ["a1", "b1"]);
    assert_eq!(read(&mut app, "subjects_safe"), ["a1"]);
    // An invoker view checks its tables as the session's role even inside a
    // definer view: this one does not leak, but runs as its owner all the
    // same and is reported (the lint does not follow what each view reads).
    assert_eq!(read(&mut app, "over_safe"), ["a1"]);

    let report = f.lint();
    let q = |name: &str| format!("{s}.{name}");
    let about = |name: &str| report.about(&q(name)).cloned().collect::<Vec<_>>();
    for view in ["subjects", "nested", "over_safe"] {
        assert_eq!(
            about(view),
            [LintFinding::ViewWithoutSecurityInvoker {
                view: q(view),
                owner: admin_role.clone()
            }],
            "{report}"
        );
    }
    assert_eq!(
        about("counts"),
        [LintFinding::MaterializedView { view: q("counts") }],
        "{report}"
    );
    assert_eq!(about("subjects_safe"), [], "{report}");
    assert!(report.checked.contains(&q("subjects_safe")), "{report}");
    assert!(!report.checked.contains(&q("unrelated")), "{report}");
    assert_eq!(report.findings.len(), 4, "{report}");
}

/// Found in review: row-level security does not govern `TRUNCATE` or
/// `TRIGGER` (nor `REFERENCES`, below), and `GRANT ALL` gives them; the lint passed an application
/// role that could empty every tenant's rows with one statement.
#[test]
fn the_lint_flags_privileges_rls_does_not_govern() {
    let (mut f, a, b) = Fixture::with_tenants(&["a1"], &["b1"]);
    let (s, role) = (f.schema.clone(), f.app_role.clone());
    f.admin
        .batch_execute(&format!("GRANT ALL ON {s}.tickets TO {role}"))
        .unwrap();
    let mut app = f.app();
    // Bound to tenant a, one statement removes tenant b's rows too.
    with_tenant(&mut app, a, |tx| {
        tx.batch_execute(&format!("TRUNCATE {s}.tickets"))
            .map_err(|source| custodia_tenant::Error::Postgres {
                doing: "truncate",
                source,
            })
    })
    .unwrap();
    assert_eq!(f.subjects_of(b), Vec::<String>::new());

    let report = f.lint();
    let table = format!("{s}.tickets");
    assert_eq!(
        report.about(&table).cloned().collect::<Vec<_>>(),
        ["TRUNCATE", "REFERENCES", "TRIGGER"].map(|privilege| {
            LintFinding::AppRoleHasUnpolicedPrivilege {
                table: table.clone(),
                privilege: privilege.into(),
            }
        }),
        "{report}"
    );
}

/// Throwaway roles (roles are cluster-wide), dropped with what they own.
struct DropRoles(Vec<String>);

impl Drop for DropRoles {
    fn drop(&mut self) {
        let mut admin = connect("CUSTODIA_PG_ADMIN_URL");
        for role in &self.0 {
            let _ = admin.batch_execute(&format!(
                "DROP OWNED BY {role} CASCADE; DROP ROLE IF EXISTS {role}"
            ));
        }
    }
}

/// Names for a test's own roles, `<prefix>_<suffix>` for each of
/// `prefixes` (roles are cluster-wide and the other tests lint
/// `custodia_app`), the suffix, and their dropping. Make the application
/// role with password `p<suffix>` and connect with [`own_app`].
fn own_roles<const N: usize>(prefixes: [&str; N]) -> ([String; N], String, DropRoles) {
    let suffix = TenantId::random().as_uuid().simple().to_string();
    let names = prefixes.map(|p| format!("{p}_{suffix}"));
    let roles = DropRoles(names.to_vec());
    (names, suffix, roles)
}

/// A connection as `role` (made by [`own_roles`]' caller with password
/// `p<suffix>`), and the count of schema `s`'s tickets, checked to be 0:
/// row-level security binds the role itself.
fn own_app(role: &str, suffix: &str, s: &str) -> (Client, String) {
    let mut config: postgres::Config = env_url("CUSTODIA_PG_APP_URL").parse().unwrap();
    config.user(role).password(format!("p{suffix}"));
    let mut app = config.connect(NoTls).unwrap();
    let count = format!("SELECT count(*) FROM {s}.tickets");
    let n: i64 = app.query_one(&count, &[]).unwrap().get(0);
    assert_eq!(n, 0, "row-level security binds the role itself");
    (app, count)
}

/// Found in review: the lint checked only the application role's own
/// attributes. A role it is a member of may be a superuser or have
/// `BYPASSRLS`, and `SET ROLE` to it reads every tenant's rows.
///
/// Roles are cluster-wide and the other tests lint `custodia_app`, so this
/// one makes its own application role (and drops every role it made).
#[test]
fn the_lint_flags_an_app_role_that_can_become_a_role_bypassing_rls() {
    let (mut f, _, _) = Fixture::with_tenants(&["a1"], &["b1"]);
    let s = f.schema.clone();
    let ([app_role, bypass, superuser], suffix, roles) = own_roles(["ca", "cb", "cs"]);
    f.admin
        .batch_execute(&format!(
            "CREATE ROLE {app_role} LOGIN PASSWORD 'p{suffix}' NOSUPERUSER NOBYPASSRLS;
             CREATE ROLE {bypass} NOLOGIN BYPASSRLS;
             GRANT USAGE ON SCHEMA {s} TO {app_role}, {bypass};
             GRANT SELECT ON {s}.tickets TO {app_role}, {bypass};
             GRANT {bypass} TO {app_role};"
        ))
        .unwrap();
    let (mut app, count) = own_app(&app_role, &suffix, &s);
    app.batch_execute(&format!("SET ROLE {bypass}")).unwrap();
    let n: i64 = app.query_one(&count, &[]).unwrap().get(0);
    assert_eq!(
        n, 2,
        "SET ROLE to a BYPASSRLS role reads every tenant's rows"
    );
    app.batch_execute("RESET ROLE").unwrap();

    let options = LintOptions::new(&app_role).schemas(&[&s]);
    let report = lint(&mut app, &options).unwrap();
    assert_eq!(
        report.findings,
        [LintFinding::AppRoleCanBecomeBypassingRole {
            role: app_role.clone(),
            via: bypass.clone()
        }],
        "{report}"
    );
    assert!(
        report.to_string().contains(&format!("SET ROLE {bypass}")),
        "{report}"
    );

    // Through another role too.
    f.admin
        .batch_execute(&format!(
            "CREATE ROLE {superuser} NOLOGIN SUPERUSER; GRANT {superuser} TO {bypass};"
        ))
        .unwrap();
    let report = lint(&mut app, &options).unwrap();
    assert_eq!(
        report.findings,
        [
            LintFinding::AppRoleCanBecomeBypassingRole {
                role: app_role.clone(),
                via: bypass.clone()
            },
            LintFinding::AppRoleCanBecomeBypassingRole {
                role: app_role.clone(),
                via: superuser.clone()
            }
        ],
        "{report}"
    );
    drop(app);
    drop(f);
    drop(roles);
}

/// Found in review (nineteenth session): `SECURITY DEFINER` functions were
/// not linted. `EXECUTE` is granted to `PUBLIC` by default, so a function
/// owned by a role row-level security does not bind (the superuser that ran
/// the migration, a `BYPASSRLS` role, the owner of a table whose RLS is not
/// forced) read every tenant's rows for the application role while the lint
/// reported clean.
///
/// Isolated: the lint looks for such functions in every schema, so a
/// superuser's would be reported to every other test's lint.
#[test]
fn the_lint_flags_security_definer_functions_whose_owner_bypasses_rls() {
    let (mut f, a, _) = Fixture::isolated_with_tenants(&["a1"], &["b1"]);
    let s = f.schema.clone();
    let ([bypass, plain, owner], _, roles) = own_roles(["cb", "cn", "co"]);
    let definer = |name: &str, table: &str| {
        format!(
            "CREATE FUNCTION {s}.{name}() RETURNS bigint LANGUAGE sql SECURITY DEFINER
                 AS 'SELECT count(*) FROM {s}.{table}';"
        )
    };
    f.admin
        .batch_execute(&format!(
            "CREATE ROLE {bypass} NOLOGIN BYPASSRLS;
             CREATE ROLE {plain} NOLOGIN;
             CREATE ROLE {owner} NOLOGIN;
             GRANT USAGE ON SCHEMA {s} TO {bypass}, {plain}, {owner};
             GRANT SELECT ON {s}.tickets TO {bypass}, {plain};
             CREATE TABLE {s}.unforced (tenant_id uuid NOT NULL);
             ALTER TABLE {s}.unforced ENABLE ROW LEVEL SECURITY;
             ALTER TABLE {s}.unforced OWNER TO {owner};
             {as_superuser}
             {revoked}
             REVOKE EXECUTE ON FUNCTION {s}.revoked() FROM PUBLIC;
             CREATE FUNCTION {s}.invoker() RETURNS bigint LANGUAGE sql
                 AS 'SELECT count(*) FROM {s}.tickets';
             {as_bypass}
             ALTER FUNCTION {s}.as_bypass() OWNER TO {bypass};
             {as_plain}
             ALTER FUNCTION {s}.as_plain() OWNER TO {plain};
             {as_owner}
             ALTER FUNCTION {s}.as_owner() OWNER TO {owner};",
            as_superuser = definer("as_superuser", "tickets"),
            revoked = definer("revoked", "tickets"),
            as_bypass = definer("as_bypass", "tickets"),
            as_plain = definer("as_plain", "tickets"),
            as_owner = definer("as_owner", "unforced"),
        ))
        .unwrap();
    let admin_role = f.admin_role();
    let mut app = f.app();
    let call = |app: &mut Client, function: &str| -> Result<i64, postgres::Error> {
        let mut tx = TenantTransaction::begin(app, a).unwrap();
        let n = tx
            .query_one(&format!("SELECT {s}.{function}()"), &[])
            .map(|r| r.get(0));
        drop(tx);
        n
    };
    // Bound to tenant a, the application role counts tenant b's row too.
    assert_eq!(call(&mut app, "as_superuser").unwrap(), 2);
    assert_eq!(call(&mut app, "as_bypass").unwrap(), 2);
    assert_eq!(call(&mut app, "invoker").unwrap(), 1);
    // No policy applies to the plain owner: it reads nothing.
    assert_eq!(call(&mut app, "as_plain").unwrap(), 0);
    let denied = call(&mut app, "revoked").unwrap_err();
    assert_eq!(denied.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE));

    let report = f.lint();
    let definer = |function: &str, owner: &str| LintFinding::SecurityDefinerFunction {
        function: format!("{s}.{function}()"),
        owner: owner.to_owned(),
    };
    let functions: Vec<_> = report
        .findings
        .iter()
        .filter(|f| matches!(f, LintFinding::SecurityDefinerFunction { .. }))
        .cloned()
        .collect();
    // revoked, invoker and as_plain are not reported.
    assert_eq!(
        functions,
        [
            definer("as_bypass", &bypass),
            definer("as_owner", &owner),
            definer("as_superuser", &admin_role),
        ],
        "{report}"
    );
    assert_eq!(
        report
            .about(&format!("{s}.as_superuser()"))
            .cloned()
            .collect::<Vec<_>>(),
        [definer("as_superuser", &admin_role)]
    );
    assert!(
        report.to_string().contains(&format!(
            "REVOKE EXECUTE ON FUNCTION {s}.as_bypass() FROM PUBLIC"
        )),
        "{report}"
    );
    // Arguments are part of the name, as REVOKE needs them.
    f.admin
        .batch_execute(&format!(
            "CREATE PROCEDURE {s}.move_ticket(ticket bigint, tenant uuid) LANGUAGE sql
                 SECURITY DEFINER AS 'UPDATE {s}.tickets SET tenant_id = tenant WHERE id = ticket';"
        ))
        .unwrap();
    let report = f.lint();
    assert!(
        report
            .findings
            .contains(&LintFinding::SecurityDefinerFunction {
                function: format!("{s}.move_ticket(bigint, uuid)"),
                owner: admin_role.clone(),
            }),
        "{report}"
    );
    // Revoked, it is no longer the application role's to run.
    f.admin
        .batch_execute(&format!(
            "REVOKE EXECUTE ON FUNCTION {s}.as_superuser() FROM PUBLIC;
             ALTER FUNCTION {s}.as_bypass() SECURITY INVOKER;"
        ))
        .unwrap();
    let report = f.lint();
    assert_eq!(report.about(&format!("{s}.as_superuser()")).count(), 0);
    assert_eq!(report.about(&format!("{s}.as_bypass()")).count(), 0);
    drop(app);
    drop(f);
    drop(roles);
}

/// Found in review (twenty-first session): `SECURITY DEFINER` functions
/// were looked for only in the schemas the lint inspects, so one kept in
/// another schema that reads an inspected tenant table as its superuser
/// owner read every tenant's rows for the application role while the lint
/// of the tables' schema reported clean.
#[test]
fn the_lint_flags_security_definer_functions_in_schemas_it_does_not_inspect() {
    // Isolated: a superuser's definer function is reported to every lint of
    // its database.
    let (mut f, a, _) = Fixture::isolated_with_tenants(&["a1"], &["b1"]);
    let (s, role) = (f.schema.clone(), f.app_role.clone());
    let other = f.schema_beside("functions");
    let owner = format!("co_{}", TenantId::random().as_uuid().simple());
    let roles = DropRoles(vec![owner.clone()]);
    f.admin
        .batch_execute(&format!(
            "CREATE FUNCTION {other}.count_tickets() RETURNS bigint LANGUAGE sql SECURITY DEFINER
                 AS 'SELECT count(*) FROM {s}.tickets';
             CREATE ROLE {owner} NOLOGIN;
             CREATE TABLE {other}.notes (tenant_id uuid NOT NULL);
             ALTER TABLE {other}.notes ENABLE ROW LEVEL SECURITY;
             ALTER TABLE {other}.notes OWNER TO {owner};
             CREATE FUNCTION {other}.count_notes() RETURNS bigint LANGUAGE sql SECURITY DEFINER
                 AS 'SELECT count(*) FROM {other}.notes';
             ALTER FUNCTION {other}.count_notes() OWNER TO {owner};"
        ))
        .unwrap();
    let admin_role = f.admin_role();
    let mut app = f.app();
    let mut tx = TenantTransaction::begin(&mut app, a).unwrap();
    let n: i64 = tx
        .query_one(&format!("SELECT {other}.count_tickets()"), &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 2, "bound to tenant a, it counts tenant b's ticket too");
    drop(tx);

    let count_tickets = LintFinding::SecurityDefinerFunction {
        function: format!("{other}.count_tickets()"),
        owner: admin_role,
    };
    let report = f.lint();
    // count_notes reads, as its owner, only a table in a schema not
    // inspected: the tables a function could read are judged by the
    // inspected ones.
    assert_eq!(report.findings, [count_tickets], "{report}");
    assert!(
        report.to_string().contains(&format!(
            "REVOKE EXECUTE ON FUNCTION {other}.count_tickets() FROM PUBLIC"
        )),
        "{report}"
    );
    // Inspected, its table makes count_notes' owner one RLS does not bind.
    let both = LintOptions::new(&role).schemas(&[&s, &other]);
    let report = lint(&mut app, &both).unwrap();
    assert_eq!(
        report
            .about(&format!("{other}.count_notes()"))
            .cloned()
            .collect::<Vec<_>>(),
        [LintFinding::SecurityDefinerFunction {
            function: format!("{other}.count_notes()"),
            owner: owner.clone(),
        }],
        "{report}"
    );

    f.admin
        .batch_execute(&format!(
            "REVOKE EXECUTE ON FUNCTION {other}.count_tickets() FROM PUBLIC"
        ))
        .unwrap();
    let report = f.lint();
    assert!(report.is_clean(), "{report}");
    drop(app);
    drop(f);
    drop(roles);
}

/// Found in review (twenty-first session): `CREATEROLE` was not linted. On
/// PostgreSQL 15 and earlier a role with it may grant itself membership in
/// any role that is not a superuser, a tenant table's owner among them; as
/// the owner it turns forcing off and reads every tenant's rows. A role it
/// can `SET ROLE` to does the same for it.
///
/// Roles are cluster-wide and the other tests lint `custodia_app`, so this
/// one makes its own application role (and drops every role it made).
#[test]
fn the_lint_flags_an_app_role_that_can_create_roles() {
    let (mut f, _, _) = Fixture::with_tenants(&["a1"], &["b1"]);
    let s = f.schema.clone();
    let ([app_role, owner, admins], suffix, roles) = own_roles(["ca", "co", "cr"]);
    f.admin
        .batch_execute(&format!(
            "CREATE ROLE {app_role} LOGIN PASSWORD 'p{suffix}' NOSUPERUSER NOBYPASSRLS CREATEROLE;
             CREATE ROLE {owner} NOLOGIN;
             GRANT USAGE ON SCHEMA {s} TO {app_role}, {owner};
             GRANT SELECT ON {s}.tickets TO {app_role};
             ALTER TABLE {s}.tickets OWNER TO {owner};"
        ))
        .unwrap();
    let (mut app, count) = own_app(&app_role, &suffix, &s);
    // The attack, rolled back (role grants are transactional). `first`: SET
    // ROLE to this role first (the holder of CREATEROLE).
    let attack = |app: &mut Client, first: Option<&str>| -> i64 {
        let mut tx = app.transaction().unwrap();
        if let Some(holder) = first {
            tx.batch_execute(&format!("SET LOCAL ROLE {holder}"))
                .unwrap();
        }
        tx.batch_execute(&format!(
            "GRANT {owner} TO {app_role}; SET LOCAL ROLE {owner};
             ALTER TABLE {s}.tickets NO FORCE ROW LEVEL SECURITY;"
        ))
        .unwrap();
        let n = tx.query_one(&count, &[]).unwrap().get(0);
        tx.rollback().unwrap();
        n
    };
    assert_eq!(
        attack(&mut app, None),
        2,
        "granted the owner, it reads every tenant's rows"
    );

    let options = LintOptions::new(&app_role).schemas(&[&s]);
    let report = lint(&mut app, &options).unwrap();
    assert_eq!(
        report.findings,
        [LintFinding::AppRoleCanCreateRoles {
            role: app_role.clone(),
            holder: app_role.clone(),
        }],
        "{report}"
    );
    assert!(
        report
            .to_string()
            .contains(&format!("ALTER ROLE {app_role} NOCREATEROLE")),
        "{report}"
    );

    // Through a role it is a member of.
    f.admin
        .batch_execute(&format!(
            "ALTER ROLE {app_role} NOCREATEROLE;
             CREATE ROLE {admins} NOLOGIN CREATEROLE;
             GRANT {admins} TO {app_role};"
        ))
        .unwrap();
    assert_eq!(attack(&mut app, Some(&admins)), 2);
    let report = lint(&mut app, &options).unwrap();
    assert_eq!(
        report.findings,
        [LintFinding::AppRoleCanCreateRoles {
            role: app_role.clone(),
            holder: admins.clone(),
        }],
        "{report}"
    );
    assert!(
        report
            .to_string()
            .contains(&format!("ALTER ROLE {admins} NOCREATEROLE")),
        "{report}"
    );

    f.admin
        .batch_execute(&format!("ALTER ROLE {admins} NOCREATEROLE"))
        .unwrap();
    let report = lint(&mut app, &options).unwrap();
    assert!(report.is_clean(), "{report}");
    drop(app);
    drop(f);
    drop(roles);
}

/// Checked in review (twenty-first session): membership in a tenant
/// table's owner, directly or through another role, is the ownership
/// (`SET ROLE` to it, which a `NOINHERIT` role may still do; the owner is
/// not bound by RLS unless forced, and may switch forcing off). The lint
/// reported it already (`AppRoleOwnsTable`, membership as `MEMBER`); this
/// test keeps it so.
#[test]
fn the_lint_flags_an_app_role_that_can_become_a_tenant_tables_owner() {
    let (mut f, _, _) = Fixture::with_tenants(&["a1"], &["b1"]);
    let s = f.schema.clone();
    let ([app_role, owner, group], suffix, roles) = own_roles(["ca", "co", "cg"]);
    f.admin
        .batch_execute(&format!(
            "CREATE ROLE {app_role} LOGIN PASSWORD 'p{suffix}' NOSUPERUSER NOBYPASSRLS NOINHERIT;
             CREATE ROLE {owner} NOLOGIN;
             CREATE ROLE {group} NOLOGIN;
             GRANT USAGE ON SCHEMA {s} TO {app_role}, {owner};
             GRANT SELECT ON {s}.tickets TO {app_role};
             ALTER TABLE {s}.tickets OWNER TO {owner};
             ALTER TABLE {s}.tickets NO FORCE ROW LEVEL SECURITY;
             GRANT {owner} TO {group};
             GRANT {group} TO {app_role};"
        ))
        .unwrap();
    let (mut app, count) = own_app(&app_role, &suffix, &s);
    app.batch_execute(&format!("SET ROLE {owner}")).unwrap();
    let n: i64 = app.query_one(&count, &[]).unwrap().get(0);
    assert_eq!(n, 2, "as the owner it reads every tenant's rows");
    app.batch_execute("RESET ROLE").unwrap();

    let table = format!("{s}.tickets");
    let owns = LintFinding::AppRoleOwnsTable {
        table: table.clone(),
        owner: owner.clone(),
    };
    let options = LintOptions::new(&app_role).schemas(&[&s]);
    let report = lint(&mut app, &options).unwrap();
    assert_eq!(
        report.findings,
        [
            LintFinding::RlsNotForced {
                table: table.clone()
            },
            owns.clone()
        ],
        "{report}"
    );
    // Forced, the owner may still switch it off.
    f.admin
        .batch_execute(&format!("ALTER TABLE {table} FORCE ROW LEVEL SECURITY"))
        .unwrap();
    let report = lint(&mut app, &options).unwrap();
    assert_eq!(report.findings, [owns], "{report}");
    drop(app);
    drop(f);
    drop(roles);
}

/// Found in review (nineteenth session): constraint checks bypass row-level
/// security, so a unique key without the tenant column tells one tenant
/// whether another has a value (an email address), and a foreign key
/// without it lets one tenant's row reference another tenant's row (and
/// tells whether that row exists). The lint reported neither.
#[test]
fn the_lint_flags_unique_and_foreign_keys_without_the_tenant_column() {
    let (mut f, a, b) = Fixture::with_tenants(&[], &[]);
    let (s, role) = (f.schema.clone(), f.app_role.clone());
    f.admin
        .batch_execute(&format!(
            "CREATE TABLE {s}.contacts (
                 tenant_id uuid   NOT NULL,
                 id        uuid   PRIMARY KEY DEFAULT gen_random_uuid(),
                 number    bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
                 serial_no bigserial UNIQUE,
                 email     text   NOT NULL UNIQUE,
                 handle    text,
                 UNIQUE (tenant_id, handle)
             );
             CREATE UNIQUE INDEX contacts_lower_email ON {s}.contacts (lower(email));
             CREATE UNIQUE INDEX contacts_handle_include ON {s}.contacts (handle) INCLUDE (tenant_id);
             CREATE UNIQUE INDEX contacts_lower_handle ON {s}.contacts (tenant_id, lower(handle));
             CREATE TABLE {s}.by_email (tenant_id uuid NOT NULL, email text PRIMARY KEY);
             CREATE TABLE {s}.kinds (code text PRIMARY KEY);
             CREATE TABLE {s}.notes (
                 tenant_id uuid   NOT NULL,
                 id        bigint GENERATED ALWAYS AS IDENTITY,
                 ticket_id bigint,
                 contact   uuid REFERENCES {s}.contacts (id),
                 kind      text REFERENCES {s}.kinds (code),
                 PRIMARY KEY (tenant_id, id),
                 FOREIGN KEY (tenant_id, ticket_id) REFERENCES {s}.tickets (tenant_id, id)
             );
             {contacts}
             {by_email}
             {notes}
             GRANT USAGE ON ALL SEQUENCES IN SCHEMA {s} TO {role};",
            contacts = f.rls("contacts"),
            by_email = f.rls("by_email"),
            notes = f.rls("notes"),
        ))
        .unwrap();
    let bobs: custodia_core::uuid::Uuid = f
        .admin
        .query_one(
            &format!(
                "INSERT INTO {s}.contacts (tenant_id, email) VALUES ($1, 'bob@example.com') RETURNING id"
            ),
            &[b.as_uuid()],
        )
        .unwrap()
        .get(0);
    let mut app = f.app();
    // Bound to tenant a, which sees no contact, the unique check says that
    // some tenant has bob@example.com.
    let mut tx = TenantTransaction::begin(&mut app, a).unwrap();
    let seen: i64 = tx
        .query_one(&format!("SELECT count(*) FROM {s}.contacts"), &[])
        .unwrap()
        .get(0);
    assert_eq!(seen, 0);
    let err = tx
        .execute(
            &format!("INSERT INTO {s}.contacts (tenant_id, email) VALUES ($1, 'bob@example.com')"),
            &[a.as_uuid()],
        )
        .unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::UNIQUE_VIOLATION), "{err}");
    drop(tx);
    // And tenant a's note references tenant b's contact.
    with_tenant(&mut app, a, |tx| {
        tx.execute(
            &format!("INSERT INTO {s}.notes (tenant_id, contact) VALUES ($1, $2)"),
            &[a.as_uuid(), &bobs],
        )
        .map_err(|source| custodia_tenant::Error::Postgres {
            doing: "insert",
            source,
        })
    })
    .unwrap();

    let report = f.lint();
    let q = |name: &str| format!("{s}.{name}");
    let about = |name: &str| report.about(&q(name)).cloned().collect::<Vec<_>>();
    let unique = |table: &str, index: &str| LintFinding::UniqueKeyWithoutTenantColumn {
        table: q(table),
        index: index.to_owned(),
    };
    assert_eq!(
        about("contacts"),
        [
            unique("contacts", "contacts_email_key"),
            unique("contacts", "contacts_handle_include"),
            unique("contacts", "contacts_lower_email"),
        ],
        "{report}"
    );
    assert_eq!(
        about("by_email"),
        [unique("by_email", "by_email_pkey")],
        "{report}"
    );
    assert_eq!(
        about("notes"),
        [LintFinding::ForeignKeyWithoutTenantColumn {
            table: q("notes"),
            constraint: "notes_contact_fkey".into(),
            references: q("contacts"),
        }],
        "{report}"
    );
    assert_eq!(about("tickets"), [], "{report}");
    assert_eq!(report.findings.len(), 5, "{report}");
    let text = report.to_string();
    for name in [
        "contacts_pkey",
        "contacts_number_key",
        "contacts_serial_no_key",
        "contacts_tenant_id_handle_key",
        "contacts_lower_handle",
        "notes_pkey",
        "notes_kind_fkey",
        "notes_tenant_id_ticket_id_fkey",
        "tickets_pkey",
    ] {
        assert!(!text.contains(name), "{name}: {report}");
    }
}

/// Found in review (nineteenth session): `REFERENCES` on a tenant table was
/// not reported. With `CREATE` on a schema, the application role can make a
/// table of its own with a foreign key to the tenant table, whose check
/// (row-level security does not govern it) says which keys any tenant has.
#[test]
fn the_lint_flags_references_on_a_tenant_table() {
    // Isolated: it grants the application role CREATE on a schema.
    let (mut f, (a, b)) = (Fixture::isolated(), tenants());
    f.seed(b, &["b1"]);
    let (s, role) = (f.schema.clone(), f.app_role.clone());
    let bs = f.first_ticket(b);
    f.admin
        .batch_execute(&format!(
            "GRANT CREATE ON SCHEMA {s} TO {role}; GRANT REFERENCES ON {s}.tickets TO {role};"
        ))
        .unwrap();
    let mut app = f.app();
    app.batch_execute(&format!(
        "CREATE TABLE {s}.probe (t uuid, i bigint, FOREIGN KEY (t, i) REFERENCES {s}.tickets (tenant_id, id))"
    ))
    .unwrap();
    // Bound to tenant a, which sees none of b's tickets, the check tells
    // which of b's ids exist.
    f.assert_oracle(a, bs, |id| {
        let b = b.as_uuid();
        format!("INSERT INTO {s}.probe VALUES ('{b}', {id})")
    });

    let table = format!("{s}.tickets");
    let references = [LintFinding::AppRoleHasUnpolicedPrivilege {
        table: table.clone(),
        privilege: "REFERENCES".into(),
    }];
    let options = f.options();
    let report = lint(&mut app, &options).unwrap();
    assert_eq!(
        report.about(&table).cloned().collect::<Vec<_>>(),
        references,
        "{report}"
    );
    // And the CREATE that let it make the table, and the table's key.
    assert_eq!(
        report.about(&s).cloned().collect::<Vec<_>>(),
        [LintFinding::AppRoleCanCreateInSchema {
            schema: s.clone(),
            role: role.clone(),
            grantee: role.clone(),
            owner: false,
        }],
        "{report}"
    );
    assert!(
        report
            .about(&format!("{s}.probe"))
            .any(|f| matches!(f, LintFinding::ForeignKeyFromGlobalTable { .. })),
        "{report}"
    );
    // A column's REFERENCES is enough for a foreign key on that column.
    f.admin
        .batch_execute(&format!(
            "REVOKE REFERENCES ON {s}.tickets FROM {role};
             GRANT REFERENCES (id) ON {s}.tickets TO {role};"
        ))
        .unwrap();
    let report = lint(&mut app, &options).unwrap();
    assert_eq!(
        report.about(&table).cloned().collect::<Vec<_>>(),
        references,
        "{report}"
    );
}

/// Found in review (twentieth session): a foreign key from a table without
/// the tenant column (a global table) to a tenant table was not reported.
/// Its check sees every tenant's rows, so whoever may insert into the
/// global table learns which keys any tenant holds.
#[test]
fn the_lint_flags_foreign_keys_from_global_tables_to_tenant_tables() {
    let (mut f, a, b) = Fixture::with_tenants(&[], &["b1"]);
    let (s, role) = (f.schema.clone(), f.app_role.clone());
    let bs = f.first_ticket(b);
    f.admin
        .batch_execute(&format!(
            "CREATE TABLE {s}.watchers (
                 ticket_tenant uuid   NOT NULL,
                 ticket        bigint NOT NULL,
                 FOREIGN KEY (ticket_tenant, ticket) REFERENCES {s}.tickets (tenant_id, id)
             );
             CREATE TABLE {s}.kinds (code text PRIMARY KEY);
             CREATE TABLE {s}.kind_aliases (alias text, code text REFERENCES {s}.kinds (code));
             CREATE TABLE {s}.labels (
                 tenant_id uuid NOT NULL,
                 id        bigint GENERATED ALWAYS AS IDENTITY,
                 kind      text REFERENCES {s}.kinds (code),
                 PRIMARY KEY (tenant_id, id)
             );
             {labels}
             GRANT SELECT, INSERT ON {s}.watchers TO {role};",
            labels = f.rls("labels"),
        ))
        .unwrap();
    // Bound to tenant a, which sees none of b's tickets, the check tells
    // which of b's ids exist.
    f.assert_oracle(a, bs, |id| {
        let b = b.as_uuid();
        format!("INSERT INTO {s}.watchers VALUES ('{b}', {id})")
    });

    let report = f.lint();
    let q = |name: &str| format!("{s}.{name}");
    let finding = LintFinding::ForeignKeyFromGlobalTable {
        table: q("watchers"),
        constraint: "watchers_ticket_tenant_ticket_fkey".into(),
        references: q("tickets"),
    };
    assert_eq!(
        report.about(&q("watchers")).cloned().collect::<Vec<_>>(),
        std::slice::from_ref(&finding),
        "{report}"
    );
    // Global to global, and tenant to global, are no oracle across tenants.
    for name in ["tickets", "kinds", "kind_aliases", "labels"] {
        assert_eq!(report.about(&q(name)).count(), 0, "{name}: {report}");
    }
    assert_eq!(report.findings, [finding], "{report}");
    assert!(
        report.to_string().contains(&format!(
            "{s}.watchers: has no tenant column, but its foreign key watchers_ticket_tenant_ticket_fkey references tenant table {s}.tickets"
        )),
        "{report}"
    );
    // Dropped, nothing is left to report.
    f.admin
        .batch_execute(&format!(
            "ALTER TABLE {s}.watchers DROP CONSTRAINT watchers_ticket_tenant_ticket_fkey"
        ))
        .unwrap();
    let report = f.lint();
    assert!(report.is_clean(), "{report}");
}

/// Found in review (twentieth session): an exclusion constraint was judged
/// by its columns only, so one that has the tenant column but compares it
/// with `<>` (rows of different tenants conflict) linted clean, though its
/// check tells one tenant about another's rows.
#[test]
fn the_lint_flags_exclusion_constraints_without_tenant_equality() {
    let (mut f, a, b) = Fixture::with_tenants(&[], &[]);
    let s = f.schema.clone();
    let mut ddl = format!("CREATE EXTENSION btree_gist SCHEMA {s};\n");
    for (table, exclude) in [
        // One booking of a room at a time across tenants: an oracle.
        (
            "shared_rooms",
            "tenant_id WITH <>, room WITH =, during WITH &&",
        ),
        // Per tenant: no oracle.
        ("own_rooms", "tenant_id WITH =, room WITH =, during WITH &&"),
        // No tenant column at all: a unique key without it.
        ("any_rooms", "room WITH =, during WITH &&"),
        // The tenant column later in the key: its own operator counts.
        (
            "own_rooms_later",
            "room WITH =, tenant_id WITH =, during WITH &&",
        ),
        (
            "shared_rooms_later",
            "room WITH =, during WITH &&, tenant_id WITH <>",
        ),
    ] {
        ddl.push_str(&format!(
            "CREATE TABLE {s}.{table} (
                 tenant_id uuid NOT NULL,
                 room      text NOT NULL,
                 during    tstzrange NOT NULL,
                 CONSTRAINT {table}_excl EXCLUDE USING gist ({exclude})
             );
             {rls}\n",
            rls = f.rls(table),
        ));
    }
    f.admin.batch_execute(&ddl).unwrap();
    let insert = |table: &str| {
        format!(
            "INSERT INTO {s}.{table} (tenant_id, room, during)
             VALUES ($1, 'blue', tstzrange('2026-12-07 10:00Z', '2026-12-07 11:00Z'))"
        )
    };
    for table in ["shared_rooms", "own_rooms"] {
        f.admin.execute(&insert(table), &[b.as_uuid()]).unwrap();
    }
    let mut app = f.app();
    // Bound to tenant a, which sees no booking, the check says that another
    // tenant holds the blue room then.
    let mut tx = TenantTransaction::begin(&mut app, a).unwrap();
    let seen: i64 = tx
        .query_one(&format!("SELECT count(*) FROM {s}.shared_rooms"), &[])
        .unwrap()
        .get(0);
    assert_eq!(seen, 0);
    let err = tx
        .execute(&insert("shared_rooms"), &[a.as_uuid()])
        .unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::EXCLUSION_VIOLATION), "{err}");
    drop(tx);
    // Compared with =, tenant a's booking does not meet tenant b's.
    with_tenant(&mut app, a, |tx| {
        tx.execute(&insert("own_rooms"), &[a.as_uuid()])
            .map_err(|source| custodia_tenant::Error::Postgres {
                doing: "insert",
                source,
            })
    })
    .unwrap();

    let report = f.lint();
    let q = |name: &str| format!("{s}.{name}");
    let about = |name: &str| report.about(&q(name)).cloned().collect::<Vec<_>>();
    assert_eq!(
        about("shared_rooms"),
        [LintFinding::ExclusionWithoutTenantEquality {
            table: q("shared_rooms"),
            index: "shared_rooms_excl".into(),
        }],
        "{report}"
    );
    assert_eq!(about("own_rooms"), [], "{report}");
    assert_eq!(about("own_rooms_later"), [], "{report}");
    assert_eq!(
        about("shared_rooms_later"),
        [LintFinding::ExclusionWithoutTenantEquality {
            table: q("shared_rooms_later"),
            index: "shared_rooms_later_excl".into(),
        }],
        "{report}"
    );
    assert_eq!(
        about("any_rooms"),
        [LintFinding::UniqueKeyWithoutTenantColumn {
            table: q("any_rooms"),
            index: "any_rooms_excl".into(),
        }],
        "{report}"
    );
    assert_eq!(report.findings.len(), 3, "{report}");
    assert!(
        report.to_string().contains(&format!(
            "{s}.shared_rooms: exclusion constraint shared_rooms_excl compares the tenant column with no equality operator"
        )),
        "{report}"
    );
}

/// Found in review (twentieth session): `CREATE` on a schema held by the
/// application role was not reported. With it the role makes tables of
/// its own (with `REFERENCES`, foreign keys that probe tenant tables) and
/// functions other roles may run. Checked directly, through `PUBLIC`,
/// through a role it is a member of, and as the schema's owner.
#[test]
fn the_lint_flags_create_on_a_schema_the_app_role_holds() {
    let mut f = Fixture::isolated();
    let (s, role) = (f.schema.clone(), f.app_role.clone());
    // The fixture grants USAGE only: clean.
    let report = f.lint();
    assert!(report.is_clean(), "{report}");
    let create_table = |f: &Fixture| {
        f.app()
            .batch_execute(&format!(
                "CREATE TABLE {s}.mine (x int); DROP TABLE {s}.mine;"
            ))
            .is_ok()
    };
    assert!(!create_table(&f));

    let suffix = TenantId::random().as_uuid().simple().to_string();
    let creators = format!("cc_{suffix}");
    let roles = DropRoles(vec![creators.clone()]);
    let finding = |grantee: &str, owner: bool| LintFinding::AppRoleCanCreateInSchema {
        schema: s.clone(),
        role: role.clone(),
        grantee: grantee.to_owned(),
        owner,
    };
    for (grant, revoke, grantee, owner) in [
        (
            format!("GRANT CREATE ON SCHEMA {s} TO {role}"),
            format!("REVOKE CREATE ON SCHEMA {s} FROM {role}"),
            role.clone(),
            false,
        ),
        (
            format!("GRANT CREATE ON SCHEMA {s} TO PUBLIC"),
            format!("REVOKE CREATE ON SCHEMA {s} FROM PUBLIC"),
            "PUBLIC".to_owned(),
            false,
        ),
        (
            format!(
                "CREATE ROLE {creators} NOLOGIN; GRANT CREATE ON SCHEMA {s} TO {creators};
                 GRANT {creators} TO {role}"
            ),
            format!("REVOKE CREATE ON SCHEMA {s} FROM {creators}"),
            creators.clone(),
            false,
        ),
        (
            format!("ALTER SCHEMA {s} OWNER TO {creators}"),
            format!("ALTER SCHEMA {s} OWNER TO CURRENT_USER; REVOKE {creators} FROM {role}"),
            creators.clone(),
            true,
        ),
    ] {
        f.admin.batch_execute(&grant).unwrap();
        assert!(create_table(&f), "{grant}");
        let report = f.lint();
        assert_eq!(
            report.about(&s).cloned().collect::<Vec<_>>(),
            [finding(&grantee, owner)],
            "{grant}: {report}"
        );
        assert_eq!(report.findings.len(), 1, "{grant}: {report}");
        let fix = if owner {
            format!("ALTER SCHEMA {s} OWNER TO the migration role")
        } else {
            format!("REVOKE CREATE ON SCHEMA {s} FROM {grantee}")
        };
        assert!(report.to_string().contains(&fix), "{report}");
        f.admin.batch_execute(&revoke).unwrap();
        assert!(!create_table(&f), "{revoke}");
        assert!(f.lint().is_clean(), "{revoke}");
    }

    // A superuser is reported as one, not once per schema.
    let admin_role = f.admin_role();
    let report = lint(&mut f.app(), &LintOptions::new(&admin_role).schemas(&[&s])).unwrap();
    assert!(
        !report
            .findings
            .iter()
            .any(|f| matches!(f, LintFinding::AppRoleCanCreateInSchema { .. })),
        "{report}"
    );

    // Schema public: PostgreSQL 15 and later give PUBLIC only USAGE on it
    // (the fixture's server is 15 or later: nothing to report); before 15
    // PUBLIC also has CREATE there.
    let version: i32 = f
        .admin
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .unwrap()
        .get(0);
    let public_create: bool = f
        .admin
        .query_one(
            "SELECT has_schema_privilege('public', 'public', 'CREATE')",
            &[],
        )
        .unwrap()
        .get(0);
    let mut public = LintOptions::new(&role).schemas(&["public"]);
    public.tenant_column = format!("no_such_column_{suffix}");
    let report = lint(&mut f.app(), &public).unwrap();
    let expected = if public_create {
        vec![LintFinding::AppRoleCanCreateInSchema {
            schema: "public".into(),
            role: role.clone(),
            grantee: "PUBLIC".into(),
            owner: false,
        }]
    } else {
        Vec::new()
    };
    assert_eq!(
        report.about("public").cloned().collect::<Vec<_>>(),
        expected
    );
    if version >= 150_000 {
        assert!(
            !public_create,
            "PostgreSQL {version} gives PUBLIC CREATE on public"
        );
    }
    drop(f);
    drop(roles);
}

/// Found in review (twenty-first session): `CREATE` was checked on the
/// inspected schemas only. `CREATE` on the database lets the application
/// role make a schema of its own, and in it tables whose foreign keys probe
/// tenant tables (a foreign key reaches across schemas). Checked directly,
/// through `PUBLIC`, through a role it is a member of, and as the
/// database's owner; in a database of the test's own, since every test
/// lints the same role.
#[test]
fn the_lint_flags_create_on_the_database_the_app_role_holds() {
    let mut f = Fixture::isolated();
    let (s, role) = (f.schema.clone(), f.app_role.clone());
    let db = f.database.clone().unwrap();
    // CREATE DATABASE gives PUBLIC CONNECT and TEMPORARY, not CREATE: a
    // fresh database lints clean.
    let (create, temporary): (bool, bool) = {
        let row = f
            .admin
            .query_one(
                "SELECT has_database_privilege($1::text, current_database(), 'CREATE'),
                        has_database_privilege($1::text, current_database(), 'TEMPORARY')",
                &[&role],
            )
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert!(!create && temporary);
    let report = f.lint();
    assert!(report.is_clean(), "{report}");
    let suffix = TenantId::random().as_uuid().simple().to_string();
    let create_schema = |f: &Fixture| {
        f.app()
            .batch_execute(&format!(
                "CREATE SCHEMA mine_{suffix}; CREATE TABLE mine_{suffix}.t (x int);
                 DROP SCHEMA mine_{suffix} CASCADE;"
            ))
            .is_ok()
    };
    assert!(!create_schema(&f));

    let creators = format!("cd_{suffix}");
    let roles = DropRoles(vec![creators.clone()]);
    let finding = |grantee: &str, owner: bool| LintFinding::AppRoleCanCreateInDatabase {
        database: db.clone(),
        role: role.clone(),
        grantee: grantee.to_owned(),
        owner,
    };
    for (grant, revoke, grantee, owner) in [
        (
            format!("GRANT CREATE ON DATABASE {db} TO {role}"),
            format!("REVOKE CREATE ON DATABASE {db} FROM {role}"),
            role.clone(),
            false,
        ),
        (
            format!("GRANT CREATE ON DATABASE {db} TO PUBLIC"),
            format!("REVOKE CREATE ON DATABASE {db} FROM PUBLIC"),
            "PUBLIC".to_owned(),
            false,
        ),
        (
            format!(
                "CREATE ROLE {creators} NOLOGIN; GRANT CREATE ON DATABASE {db} TO {creators};
                 GRANT {creators} TO {role}"
            ),
            format!("REVOKE CREATE ON DATABASE {db} FROM {creators}"),
            creators.clone(),
            false,
        ),
        (
            format!("ALTER DATABASE {db} OWNER TO {creators}"),
            format!("ALTER DATABASE {db} OWNER TO CURRENT_USER; REVOKE {creators} FROM {role}"),
            creators.clone(),
            true,
        ),
    ] {
        f.admin.batch_execute(&grant).unwrap();
        assert!(create_schema(&f), "{grant}");
        let report = f.lint();
        assert_eq!(
            report.about(&db).cloned().collect::<Vec<_>>(),
            [finding(&grantee, owner)],
            "{grant}: {report}"
        );
        // The database's owner also owns schema public (PostgreSQL 15 and
        // later: its owner is pg_database_owner), which is reported as such.
        for other in report
            .findings
            .iter()
            .filter(|x| **x != finding(&grantee, owner))
        {
            assert!(
                owner
                    && matches!(other, LintFinding::AppRoleCanCreateInSchema { schema, owner: true, .. } if schema == "public"),
                "{grant}: {report}"
            );
        }
        let fix = if owner {
            format!("ALTER DATABASE {db} OWNER TO the migration role")
        } else {
            format!("REVOKE CREATE ON DATABASE {db} FROM {grantee}")
        };
        assert!(report.to_string().contains(&fix), "{report}");
        f.admin.batch_execute(&revoke).unwrap();
        assert!(!create_schema(&f), "{revoke}");
        assert!(f.lint().is_clean(), "{revoke}");
    }

    // A superuser is reported as one, not for the database.
    let admin_role = f.admin_role();
    let report = lint(&mut f.app(), &LintOptions::new(&admin_role).schemas(&[&s])).unwrap();
    assert!(
        !report
            .findings
            .iter()
            .any(|f| matches!(f, LintFinding::AppRoleCanCreateInDatabase { .. })),
        "{report}"
    );
    drop(f);
    drop(roles);
}

/// Found in review (twenty-first session): `CREATE` on a schema the lint
/// does not inspect went unreported, though a table made there may have a
/// foreign key to an inspected tenant table and probe it all the same.
#[test]
fn the_lint_flags_create_on_a_schema_it_does_not_inspect() {
    // Isolated: it grants the application role CREATE on a schema.
    let (mut f, (a, b)) = (Fixture::isolated(), tenants());
    f.seed(b, &["b1"]);
    let (s, role) = (f.schema.clone(), f.app_role.clone());
    let other = f.schema_beside("other");
    let bs = f.first_ticket(b);
    f.admin
        .batch_execute(&format!(
            "GRANT CREATE ON SCHEMA {other} TO {role}; GRANT REFERENCES ON {s}.tickets TO {role};"
        ))
        .unwrap();
    let mut app = f.app();
    app.batch_execute(&format!(
        "CREATE TABLE {other}.probe (t uuid, i bigint, FOREIGN KEY (t, i) REFERENCES {s}.tickets (tenant_id, id))"
    ))
    .unwrap();
    // Bound to tenant a, the check tells which of b's ids exist.
    f.assert_oracle(a, bs, |id| {
        let b = b.as_uuid();
        format!("INSERT INTO {other}.probe VALUES ('{b}', {id})")
    });

    let create = LintFinding::AppRoleCanCreateInSchema {
        schema: other.clone(),
        role: role.clone(),
        grantee: role.clone(),
        owner: false,
    };
    let report = f.lint();
    assert_eq!(
        report.findings,
        [
            LintFinding::AppRoleHasUnpolicedPrivilege {
                table: format!("{s}.tickets"),
                privilege: "REFERENCES".into(),
            },
            LintFinding::ForeignKeyFromGlobalTable {
                table: format!("{other}.probe"),
                constraint: "probe_t_i_fkey".into(),
                references: format!("{s}.tickets"),
            },
            create.clone(),
        ],
        "{report}"
    );
    assert!(
        report
            .to_string()
            .contains(&format!("REVOKE CREATE ON SCHEMA {other} FROM {role}")),
        "{report}"
    );
    f.admin
        .batch_execute(&format!("REVOKE CREATE ON SCHEMA {other} FROM {role}"))
        .unwrap();
    let report = f.lint();
    assert!(!report.findings.contains(&create), "{report}");
    assert_eq!(report.findings.len(), 2, "{report}");
}

/// Found in review (twenty-first session): a foreign key that does not pair
/// the tenant columns, from a tenant table in a schema the lint does not
/// inspect to an inspected tenant table, was reported by neither foreign-key
/// finding: the referencing table's schema was not inspected, and it has the
/// tenant column, so it is no global table.
#[test]
fn the_lint_flags_unpaired_foreign_keys_from_tenant_tables_in_other_schemas() {
    let (mut f, a, b) = Fixture::with_tenants(&[], &["b1"]);
    let (s, role) = (f.schema.clone(), f.app_role.clone());
    let other = f.schema_beside("other");
    let bs = f.first_ticket(b);
    let rls = |table: &str| {
        RlsPolicy::new(&role)
            .unwrap()
            .table(TenantTable::new(&other, table).unwrap())
            .sql()
    };
    f.admin
        .batch_execute(&format!(
            "CREATE TABLE {other}.notes (
                 tenant_id     uuid NOT NULL,
                 ticket_tenant uuid,
                 ticket        bigint,
                 FOREIGN KEY (ticket_tenant, ticket) REFERENCES {s}.tickets (tenant_id, id)
             );
             {notes}
             CREATE TABLE {other}.paired_notes (
                 tenant_id uuid NOT NULL,
                 ticket    bigint,
                 FOREIGN KEY (tenant_id, ticket) REFERENCES {s}.tickets (tenant_id, id)
             );
             {paired}",
            notes = rls("notes"),
            paired = rls("paired_notes"),
        ))
        .unwrap();
    // Bound to tenant a, a note of a's own tells which of b's ids exist.
    f.assert_oracle(a, bs, |id| {
        let (a, b) = (a.as_uuid(), b.as_uuid());
        format!("INSERT INTO {other}.notes VALUES ('{a}', '{b}', {id})")
    });

    let finding = LintFinding::ForeignKeyWithoutTenantColumn {
        table: format!("{other}.notes"),
        constraint: "notes_ticket_tenant_ticket_fkey".into(),
        references: format!("{s}.tickets"),
    };
    // Only the referenced table's schema inspected.
    let report = f.lint();
    assert_eq!(report.checked, [format!("{s}.tickets")]);
    assert_eq!(report.findings, std::slice::from_ref(&finding), "{report}");
    // Both, or only the referencing one: reported once, on its own row.
    let mut app = f.app();
    for schemas in [vec![s.as_str(), other.as_str()], vec![other.as_str()]] {
        let report = lint(&mut app, &LintOptions::new(&role).schemas(&schemas)).unwrap();
        assert_eq!(
            report.findings,
            std::slice::from_ref(&finding),
            "{schemas:?}: {report}"
        );
    }
}

/// `RlsPolicy`'s own SQL lints clean whatever the tenant column is called,
/// including names PostgreSQL prints quoted (a keyword, a `$`).
#[test]
fn generated_policies_lint_clean_for_any_tenant_column() {
    let mut f = Fixture::new();
    let (s, role) = (f.schema.clone(), f.app_role.clone());
    for (i, column) in ["org_id", "user", "org$id"].into_iter().enumerate() {
        let table = format!("by_column_{i}");
        let sql = RlsPolicy::new(&role)
            .unwrap()
            .table(
                TenantTable::new(&s, &table)
                    .unwrap()
                    .with_tenant_column(column)
                    .unwrap(),
            )
            .sql();
        f.admin
            .batch_execute(&format!(
                "CREATE TABLE {s}.{table} (\"{column}\" uuid NOT NULL, subject text); {sql}"
            ))
            .unwrap();
        let mut options = LintOptions::new(&role).schemas(&[&s]);
        options.tenant_column = column.to_owned();
        let report = lint(&mut f.app(), &options).unwrap();
        assert_eq!(report.checked, [format!("{s}.{table}")]);
        assert!(report.is_clean(), "{column}: {report}");
    }
}

#[test]
#[should_panic(expected = "Run them through scripts/test")]
fn missing_environment_fails_loudly() {
    env_url("CUSTODIA_PG_DEFINITELY_NOT_SET_URL");
}

mod uuid_of {
    pub use custodia_core::uuid::Uuid;
}
