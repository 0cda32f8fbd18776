//! Driver-free PostgreSQL SQL and semantics shared by the sync [`crate::pg`]
//! path (feature `postgres`) and the async sqlx path (feature `sqlx`): the
//! statement that begins a tenant-bound transaction, the isolation lint's
//! catalog queries, and how the lint turns catalog rows into findings. Each
//! driver only sends the text and decodes the columns.

use std::fmt;

use custodia_core::TenantId;

use crate::Error;
use crate::rls::TENANT_SETTING;

/// `BEGIN; SET LOCAL app.tenant_id = '<uuid>'`, sent as one simple query.
///
/// `SET LOCAL` is the statement form of `set_config('app.tenant_id', $1, true)`
/// (PostgreSQL documents the two as equivalent): the binding ends with the
/// transaction. As a utility statement it needs no planning and returns no
/// row, and it shares `BEGIN`'s round trip; in the paired bench it costs about
/// a third of what `SELECT set_config(..)` does.
/// Safe to splice: a hyphenated UUID is only hex digits and hyphens.
pub(crate) fn begin_bound_sql(tenant: TenantId) -> String {
    let mut buf = custodia_core::uuid::Uuid::encode_buffer();
    let id = tenant.as_uuid().hyphenated().encode_lower(&mut buf);
    format!("BEGIN; SET LOCAL {TENANT_SETTING} = '{id}'")
}

/// The application role's attributes: `rolsuper`, `rolbypassrls`; `$1` is the role.
pub(crate) const ROLE_SQL: &str = "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1";

/// Relations with a tenant column: `$1` role, `$2` column, `$3` whether the
/// role exists, `$4` schemas (`text[]`, `NULL` for all). Columns: schema,
/// name, relkind, RLS enabled, RLS forced, owner, app role owns it,
/// `security_invoker`, oid.
pub(crate) const RELATIONS_SQL: &str = "
SELECT n.nspname::text, c.relname::text, c.relkind::text,
       c.relrowsecurity, c.relforcerowsecurity,
       pg_get_userbyid(c.relowner)::text,
       CASE WHEN $3 THEN pg_has_role($1::name, c.relowner, 'MEMBER') ELSE false END,
       EXISTS (SELECT 1 FROM unnest(coalesce(c.reloptions, '{}')) o
               WHERE lower(o) IN ('security_invoker=true', 'security_invoker=on',
                                  'security_invoker=1', 'security_invoker=yes')),
       c.oid
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = $2::name
                   AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'p', 'v', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%'
  AND ($4::text[] IS NULL OR n.nspname = ANY($4::text[]))
ORDER BY 1, 2";

/// The policies on one relation (`$1` its oid): name, permissive, `USING`, `WITH CHECK`.
pub(crate) const POLICIES_SQL: &str = "
SELECT p.polname::text, p.polpermissive,
       coalesce(pg_get_expr(p.polqual, p.polrelid), ''),
       coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '')
FROM pg_policy p WHERE p.polrelid = $1
ORDER BY 1";

/// A catalog row as each driver reads it: the lint's rows hold only text and
/// flags, so the column layout of [`RELATIONS_SQL`] and [`POLICIES_SQL`] is
/// written once, here, beside the SQL.
pub(crate) trait CatalogRow {
    /// Column `idx` as text.
    fn text(&self, idx: usize) -> Result<String, Error>;
    /// Column `idx` as a boolean.
    fn flag(&self, idx: usize) -> Result<bool, Error>;
}

/// One row of [`RELATIONS_SQL`].
pub(crate) struct Relation {
    pub(crate) schema: String,
    pub(crate) name: String,
    pub(crate) kind: String,
    pub(crate) enabled: bool,
    pub(crate) forced: bool,
    pub(crate) owner: String,
    pub(crate) app_owns: bool,
    pub(crate) invoker: bool,
}

/// One row of [`POLICIES_SQL`].
pub(crate) struct Policy {
    pub(crate) name: String,
    pub(crate) permissive: bool,
    pub(crate) using: String,
    pub(crate) check: String,
}

impl Relation {
    /// Reads a [`RELATIONS_SQL`] row (its ninth column, the oid, is the
    /// driver's to read).
    pub(crate) fn from_row(row: &impl CatalogRow) -> Result<Self, Error> {
        Ok(Self {
            schema: row.text(0)?,
            name: row.text(1)?,
            kind: row.text(2)?,
            enabled: row.flag(3)?,
            forced: row.flag(4)?,
            owner: row.text(5)?,
            app_owns: row.flag(6)?,
            invoker: row.flag(7)?,
        })
    }
}

impl Policy {
    /// Reads a [`POLICIES_SQL`] row.
    pub(crate) fn from_row(row: &impl CatalogRow) -> Result<Self, Error> {
        Ok(Self {
            name: row.text(0)?,
            permissive: row.flag(1)?,
            using: row.text(2)?,
            check: row.text(3)?,
        })
    }
}

impl LintReport {
    /// Records the application role's findings from [`ROLE_SQL`]'s row
    /// (`None`: no such role); returns whether the role exists (`$3` of
    /// [`RELATIONS_SQL`]).
    pub(crate) fn add_role(&mut self, role: &str, attrs: Option<(bool, bool)>) -> bool {
        match attrs {
            None => {
                self.findings.push(LintFinding::AppRoleMissing {
                    role: role.to_owned(),
                });
                false
            }
            Some((superuser, bypass)) => {
                if superuser {
                    self.findings.push(LintFinding::AppRoleIsSuperuser {
                        role: role.to_owned(),
                    });
                }
                if bypass {
                    self.findings.push(LintFinding::AppRoleBypassesRls {
                        role: role.to_owned(),
                    });
                }
                true
            }
        }
    }

    /// Records a relation's findings; returns its qualified name when its
    /// policies must be read next ([`POLICIES_SQL`], then [`Self::add_policies`]).
    pub(crate) fn add_relation(&mut self, rel: Relation) -> Option<String> {
        let qualified = format!("{}.{}", rel.schema, rel.name);
        self.checked.push(qualified.clone());
        match rel.kind.as_str() {
            "v" => {
                if !rel.invoker {
                    self.findings.push(LintFinding::ViewWithoutSecurityInvoker {
                        view: qualified,
                        owner: rel.owner,
                    });
                }
                return None;
            }
            "m" => {
                self.findings
                    .push(LintFinding::MaterializedView { view: qualified });
                return None;
            }
            _ => {}
        }
        if !rel.enabled {
            self.findings.push(LintFinding::RlsDisabled {
                table: qualified.clone(),
            });
        } else if !rel.forced {
            self.findings.push(LintFinding::RlsNotForced {
                table: qualified.clone(),
            });
        }
        if rel.app_owns {
            self.findings.push(LintFinding::AppRoleOwnsTable {
                table: qualified.clone(),
                owner: rel.owner,
            });
        }
        rel.enabled.then_some(qualified)
    }

    /// Records the findings about an RLS-enabled table's policies.
    pub(crate) fn add_policies(&mut self, table: String, policies: Vec<Policy>) {
        let mut tenant_policy = false;
        for p in policies {
            let reads_tenant = p.using.contains(TENANT_SETTING)
                && (p.check.is_empty() || p.check.contains(TENANT_SETTING));
            tenant_policy |= reads_tenant;
            if p.permissive && !reads_tenant {
                self.findings
                    .push(LintFinding::PermissivePolicyWithoutTenant {
                        table: table.clone(),
                        policy: p.name,
                    });
            }
        }
        if !tenant_policy {
            self.findings.push(LintFinding::NoTenantPolicy { table });
        }
    }
}

/// What the isolation lint inspects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LintOptions {
    /// The role the application logs in as.
    pub app_role: String,
    /// The column that marks a tenant table (`tenant_id`).
    pub tenant_column: String,
    /// Only these schemas (all non-system schemas when `None`).
    pub schemas: Option<Vec<String>>,
}

impl LintOptions {
    /// Lint for `app_role`, tenant column `tenant_id`, every schema.
    pub fn new(app_role: &str) -> Self {
        Self {
            app_role: app_role.to_owned(),
            tenant_column: "tenant_id".to_owned(),
            schemas: None,
        }
    }

    /// Only these schemas.
    #[must_use]
    pub fn schemas(mut self, schemas: &[&str]) -> Self {
        self.schemas = Some(schemas.iter().map(|s| (*s).to_owned()).collect());
        self
    }
}

/// One isolation problem found by the isolation lint.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LintFinding {
    /// The application role does not exist.
    AppRoleMissing {
        /// The role.
        role: String,
    },
    /// The application role is a superuser: RLS never applies to it.
    AppRoleIsSuperuser {
        /// The role.
        role: String,
    },
    /// The application role has `BYPASSRLS`.
    AppRoleBypassesRls {
        /// The role.
        role: String,
    },
    /// A tenant table without row-level security enabled.
    RlsDisabled {
        /// `schema.table`.
        table: String,
    },
    /// RLS enabled but not forced: the owner bypasses it.
    RlsNotForced {
        /// `schema.table`.
        table: String,
    },
    /// The application role owns the table (or is a member of its owner), so
    /// it can turn RLS off.
    AppRoleOwnsTable {
        /// `schema.table`.
        table: String,
        /// The owner.
        owner: String,
    },
    /// RLS is on but no policy reads the tenant setting.
    NoTenantPolicy {
        /// `schema.table`.
        table: String,
    },
    /// A permissive policy whose expression ignores the tenant setting: it is
    /// OR-ed with the tenant policy and can let other tenants' rows through.
    PermissivePolicyWithoutTenant {
        /// `schema.table`.
        table: String,
        /// The policy.
        policy: String,
    },
    /// A view with a tenant column that runs with its owner's rights (no
    /// `security_invoker = true`), so it bypasses the tables' RLS when its
    /// owner does.
    ViewWithoutSecurityInvoker {
        /// `schema.view`.
        view: String,
        /// The owner.
        owner: String,
    },
    /// A materialized view with a tenant column: RLS does not apply to it.
    MaterializedView {
        /// `schema.view`.
        view: String,
    },
}

impl fmt::Display for LintFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LintFinding::AppRoleMissing { role } => write!(f, "role {role}: does not exist"),
            LintFinding::AppRoleIsSuperuser { role } => {
                write!(
                    f,
                    "role {role}: is a superuser, row-level security never applies"
                )
            }
            LintFinding::AppRoleBypassesRls { role } => {
                write!(
                    f,
                    "role {role}: has BYPASSRLS, row-level security never applies"
                )
            }
            LintFinding::RlsDisabled { table } => {
                write!(
                    f,
                    "{table}: has a tenant column but row-level security is not enabled"
                )
            }
            LintFinding::RlsNotForced { table } => write!(
                f,
                "{table}: row-level security is enabled but not forced (the owner bypasses it)"
            ),
            LintFinding::AppRoleOwnsTable { table, owner } => write!(
                f,
                "{table}: owned by {owner}, which the application role is or belongs to (it can disable RLS)"
            ),
            LintFinding::NoTenantPolicy { table } => write!(
                f,
                "{table}: no row-level security policy reads {TENANT_SETTING}"
            ),
            LintFinding::PermissivePolicyWithoutTenant { table, policy } => write!(
                f,
                "{table}: permissive policy {policy} ignores {TENANT_SETTING} and widens access"
            ),
            LintFinding::ViewWithoutSecurityInvoker { view, owner } => write!(
                f,
                "{view}: view with a tenant column runs as its owner {owner} (set security_invoker = true)"
            ),
            LintFinding::MaterializedView { view } => write!(
                f,
                "{view}: materialized view with a tenant column; row-level security does not apply"
            ),
        }
    }
}

/// The lint's result.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LintReport {
    /// Tables and views with a tenant column that were inspected (`schema.name`).
    pub checked: Vec<String>,
    /// Every problem found.
    pub findings: Vec<LintFinding>,
}

impl LintReport {
    /// Whether no problem was found.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// The findings about one table or view (`schema.name`).
    pub fn about<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a LintFinding> + 'a {
        self.findings.iter().filter(move |f| match f {
            LintFinding::RlsDisabled { table }
            | LintFinding::RlsNotForced { table }
            | LintFinding::AppRoleOwnsTable { table, .. }
            | LintFinding::NoTenantPolicy { table }
            | LintFinding::PermissivePolicyWithoutTenant { table, .. } => table == name,
            LintFinding::ViewWithoutSecurityInvoker { view, .. }
            | LintFinding::MaterializedView { view } => view == name,
            _ => false,
        })
    }
}

impl fmt::Display for LintReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "tenant isolation lint: {} relation(s) with a tenant column, {} finding(s)",
            self.checked.len(),
            self.findings.len()
        )?;
        for finding in &self.findings {
            write!(f, "\n  - {finding}")?;
        }
        Ok(())
    }
}
