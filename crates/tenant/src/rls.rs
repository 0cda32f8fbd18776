//! PostgreSQL row-level security for tenant tables: the SQL.
//!
//! [`RlsPolicy::sql`] generates, for each tenant table, the statements that
//! make PostgreSQL itself refuse cross-tenant rows:
//!
//! ```sql
//! ALTER TABLE "public"."tickets" ENABLE ROW LEVEL SECURITY;
//! ALTER TABLE "public"."tickets" FORCE ROW LEVEL SECURITY;
//! DROP POLICY IF EXISTS "custodia_tenant_isolation" ON "public"."tickets";
//! CREATE POLICY "custodia_tenant_isolation" ON "public"."tickets"
//!     AS PERMISSIVE FOR ALL TO "custodia_app"
//!     USING ("tenant_id" = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid))
//!     WITH CHECK ("tenant_id" = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
//! GRANT SELECT, INSERT, UPDATE, DELETE ON "public"."tickets" TO "custodia_app";
//! ```
//!
//! The details matter:
//!
//! * `ENABLE` alone exempts the table's owner; `FORCE` applies the policy to
//!   the owner too. The application role must still not own the table (an
//!   owner can switch `FORCE` off), nor be a superuser, have `BYPASSRLS`
//!   or `CREATEROLE` (before PostgreSQL 16 it may grant itself the owner),
//!   nor belong to a role that is or has one of these (`SET ROLE`): the
//!   [lint](crate::pg::lint) checks all of it.
//! * The lint takes a policy for the tenant policy only when its expressions
//!   are exactly these (as PostgreSQL prints them): edit the generated
//!   policy, or add another permissive one beside it, and the lint reports
//!   it, because permissive policies are OR-ed and any other one may let
//!   other tenants' rows through.
//! * `current_setting('app.tenant_id', true)` (`missing_ok`) gives `NULL`
//!   instead of an error when nothing was bound in this session, and `''`
//!   after a transaction that bound it with `set_config(..., true)` has ended.
//!   `NULLIF(.., '')` turns both into `NULL`, and `tenant_id = NULL` is never
//!   true: an unbound connection sees **no rows**, rather than an error or
//!   every row.
//! * `USING` filters what is read, updated and deleted; `WITH CHECK` refuses
//!   inserting or updating a row into another tenant.
//! * `USING`'s scalar subselect is evaluated once per statement (an init
//!   plan), so the comparison uses the `(tenant_id, ...)` index like a
//!   literal would. Lead every index and composite key with `tenant_id`:
//!   unique and foreign-key checks see every tenant's rows, so a key
//!   without it tells one tenant what another holds (the lint reports it).
//!   `WITH CHECK` reads the setting directly: it runs once per row written,
//!   and for the usual one-row write an init plan set up in every statement
//!   cost more (the helpdesk server's creates: CPU a request 1.40× → 1.37×
//!   the plain server's, BENCHMARKS.md).
//! * Predicates with operators PostgreSQL does not mark leakproof (`LIKE`,
//!   `ILIKE`, most JSON operators) are evaluated after the policy and may lose
//!   an index; check such queries with `EXPLAIN` as the application role.
//! * Views run with their owner's rights unless created
//!   `WITH (security_invoker = true)` (PostgreSQL 15+); materialized views
//!   ignore RLS altogether. The lint reports both.
//!
//! Bind the tenant per transaction with
//! `SELECT set_config('app.tenant_id', $1, true)` ([`BIND_TENANT_SQL`]), never
//! with a session-level `SET`, which survives on a pooled connection into the
//! next request. With feature `postgres`, [`crate::pg::TenantTransaction`]
//! does exactly that.

use std::fmt;
use std::fmt::Write as _;

use crate::Error;
use custodia_core::echo;

/// The setting the policies read: `app.tenant_id`.
pub const TENANT_SETTING: &str = "app.tenant_id";

/// The statement that binds the tenant for the current transaction only.
pub const BIND_TENANT_SQL: &str = "SELECT set_config('app.tenant_id', $1, true)";

/// The name of the policy Custodia creates on each table.
pub const POLICY_NAME: &str = "custodia_tenant_isolation";

/// A PostgreSQL identifier Custodia accepts: `[a-z_][a-z0-9_$]*`, at most 63
/// bytes. Printed double-quoted, so it can never be read as SQL.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ident(String);

impl Ident {
    /// Validates an identifier.
    pub fn new(name: &str) -> Result<Self, Error> {
        let fail = |reason| Error::InvalidIdentifier {
            input: echo(name),
            reason,
        };
        let mut bytes = name.bytes();
        match bytes.next() {
            None => return Err(fail("must not be empty")),
            Some(b'a'..=b'z' | b'_') => {}
            Some(_) => return Err(fail("must start with a lower-case ASCII letter or '_'")),
        }
        if name.len() > 63 {
            return Err(fail("longer than PostgreSQL's 63-byte identifier limit"));
        }
        if !bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'$')) {
            return Err(fail("only a-z, 0-9, '_' and '$' are allowed"));
        }
        Ok(Self(name.to_owned()))
    }

    /// The bare name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Ident {
    /// The quoted form: `"tickets"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.0)
    }
}

impl fmt::Debug for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ident({})", self.0)
    }
}

/// A tenant table: schema, name and the tenant column (of type `uuid`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantTable {
    /// The schema.
    pub schema: Ident,
    /// The table.
    pub table: Ident,
    /// The column holding the tenant id.
    pub tenant_column: Ident,
}

impl TenantTable {
    /// A table in `schema` with tenant column `tenant_id`.
    pub fn new(schema: &str, table: &str) -> Result<Self, Error> {
        Ok(Self {
            schema: Ident::new(schema)?,
            table: Ident::new(table)?,
            tenant_column: Ident::new("tenant_id")?,
        })
    }

    /// With another tenant column.
    pub fn with_tenant_column(mut self, column: &str) -> Result<Self, Error> {
        self.tenant_column = Ident::new(column)?;
        Ok(self)
    }

    /// The qualified, quoted name: `"public"."tickets"`.
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.schema, self.table)
    }
}

/// The RLS setup for a set of tenant tables and the application role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RlsPolicy {
    app_role: Ident,
    tables: Vec<TenantTable>,
    grant: bool,
}

impl RlsPolicy {
    /// Policies that apply to `app_role` (the role the application logs in
    /// as). Other roles get no policy and therefore no rows, except superusers
    /// and `BYPASSRLS` roles, which the lint reports.
    ///
    /// `public` and `none` are refused: PostgreSQL reads a role of either
    /// name, quoted or not, as the keyword (`public` is every role, so the
    /// policy and the grant would reach every role in the cluster).
    pub fn new(app_role: &str) -> Result<Self, Error> {
        if matches!(app_role, "public" | "none") {
            return Err(Error::InvalidIdentifier {
                input: echo(app_role),
                reason: "is PostgreSQL's pseudo-role, not a role (public: every role)",
            });
        }
        Ok(Self {
            app_role: Ident::new(app_role)?,
            tables: Vec::new(),
            grant: true,
        })
    }

    /// Adds a tenant table.
    #[must_use]
    pub fn table(mut self, table: TenantTable) -> Self {
        self.tables.push(table);
        self
    }

    /// Whether to emit `GRANT SELECT, INSERT, UPDATE, DELETE` to the app role
    /// (default true).
    #[must_use]
    pub fn grant_privileges(mut self, grant: bool) -> Self {
        self.grant = grant;
        self
    }

    /// The expression a policy's `USING` compares the tenant column with: a
    /// scalar subselect, evaluated once per statement (an init plan), so a
    /// scan that filters many rows compares each with a constant.
    pub fn tenant_expr() -> String {
        format!("(SELECT {})", Self::tenant_check_expr())
    }

    /// The expression a policy's `WITH CHECK` compares the tenant column
    /// with: the same value, read where it is used. A check runs once per
    /// row written, and most writes are one row, for which setting up an
    /// init plan in every statement costs more than reading the setting.
    pub fn tenant_check_expr() -> String {
        format!("NULLIF(current_setting('{TENANT_SETTING}', true), '')::uuid")
    }

    /// The SQL: for each table, enable and force RLS and (re)create the policy.
    /// Idempotent: safe to run in every migration.
    pub fn sql(&self) -> String {
        let mut sql = String::new();
        let (tenant, check) = (Self::tenant_expr(), Self::tenant_check_expr());
        let role = &self.app_role;
        for t in &self.tables {
            let name = t.qualified();
            let col = &t.tenant_column;
            // Writing to a String cannot fail.
            let _ = writeln!(sql, "ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;");
            let _ = writeln!(sql, "ALTER TABLE {name} FORCE ROW LEVEL SECURITY;");
            let _ = writeln!(sql, "DROP POLICY IF EXISTS \"{POLICY_NAME}\" ON {name};");
            let _ = writeln!(
                sql,
                "CREATE POLICY \"{POLICY_NAME}\" ON {name}\n    AS PERMISSIVE FOR ALL TO {role}\n    USING ({col} = {tenant})\n    WITH CHECK ({col} = {check});"
            );
            if self.grant {
                let _ = writeln!(
                    sql,
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON {name} TO {role};"
                );
            }
        }
        sql
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_strict_and_quoted() {
        assert_eq!(Ident::new("tickets").unwrap().to_string(), "\"tickets\"");
        for bad in [
            "",
            "Tickets",
            "1t",
            "t;drop",
            "t\"x",
            "a b",
            &"a".repeat(64),
        ] {
            assert!(
                matches!(Ident::new(bad), Err(Error::InvalidIdentifier { .. })),
                "{bad:?}"
            );
        }
    }

    /// Found in review: PostgreSQL reads a role named `public` as the
    /// keyword `PUBLIC`, quoted or not, so `RlsPolicy::new("public")`
    /// generated a policy for every role and granted every role
    /// `SELECT, INSERT, UPDATE, DELETE`.
    #[test]
    fn the_app_role_cannot_be_a_pseudo_role() {
        for name in ["public", "none"] {
            assert!(
                matches!(RlsPolicy::new(name), Err(Error::InvalidIdentifier { .. })),
                "{name}"
            );
        }
        // As a schema, `public` is what it says.
        assert!(TenantTable::new("public", "tickets").is_ok());
    }

    #[test]
    fn sql_enables_forces_and_checks_both_ways() {
        let policy = RlsPolicy::new("custodia_app")
            .unwrap()
            .table(TenantTable::new("public", "tickets").unwrap())
            .table(
                TenantTable::new("public", "contacts")
                    .unwrap()
                    .with_tenant_column("org_id")
                    .unwrap(),
            );
        let sql = policy.sql();
        for table in ["\"public\".\"tickets\"", "\"public\".\"contacts\""] {
            assert!(sql.contains(&format!("ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;")));
            assert!(sql.contains(&format!("ALTER TABLE {table} FORCE ROW LEVEL SECURITY;")));
        }
        let expr = "(SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid)";
        assert!(sql.contains(&format!("USING (\"tenant_id\" = {expr})")));
        let check = "NULLIF(current_setting('app.tenant_id', true), '')::uuid";
        assert!(sql.contains(&format!("WITH CHECK (\"org_id\" = {check})")));
        assert!(!sql.contains(&format!("WITH CHECK (\"org_id\" = {expr})")));
        assert!(sql.contains("TO \"custodia_app\""));
        assert_eq!(sql.matches("CREATE POLICY").count(), 2);
        assert!(
            !RlsPolicy::new("custodia_app")
                .unwrap()
                .grant_privileges(false)
                .table(TenantTable::new("public", "t").unwrap())
                .sql()
                .contains("GRANT")
        );
    }
}
