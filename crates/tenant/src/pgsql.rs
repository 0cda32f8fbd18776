//! Driver-free PostgreSQL SQL and semantics shared by the sync [`crate::pg`]
//! path (feature `postgres`) and the async sqlx path (feature `sqlx`): the
//! statement that begins a tenant-bound transaction, the isolation lint's
//! catalog queries, and how the lint turns catalog rows into findings. Each
//! driver only sends the text and decodes the columns.

use std::fmt;

use custodia_core::TenantId;

use crate::Error;
use crate::rls::TENANT_SETTING;

/// Whether a tenant-bound transaction may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxAccess {
    /// `BEGIN`: reads and writes.
    ReadWrite,
    /// `BEGIN READ ONLY`: PostgreSQL refuses any write to a table, so a
    /// read cannot change data by mistake (temporary tables excepted).
    ReadOnly,
}

/// `BEGIN [READ ONLY]; SET LOCAL app.tenant_id = '<uuid>'`: the statement
/// that begins a transaction bound to `tenant`, sent as one simple query
/// ([`begin_bound`](crate::begin_bound) sends it). Public for a host that
/// begins the transaction itself and sends more in the same round trip
/// (sqlx's `begin_with(format!("{}; …", begin_bound_sql(..)))`).
///
/// `SET LOCAL` is the statement form of `set_config('app.tenant_id', $1, true)`
/// (PostgreSQL documents the two as equivalent): the binding ends with the
/// transaction. As a utility statement it needs no planning and returns no
/// row, and it shares `BEGIN`'s round trip; in the paired bench it costs about
/// a third of what `SELECT set_config(..)` does.
/// Safe to splice: a hyphenated UUID is only hex digits and hyphens.
pub fn begin_bound_sql(tenant: TenantId, access: TxAccess) -> String {
    let mut buf = custodia_core::uuid::Uuid::encode_buffer();
    let id = tenant.as_uuid().hyphenated().encode_lower(&mut buf);
    let begin = match access {
        TxAccess::ReadWrite => "BEGIN",
        TxAccess::ReadOnly => "BEGIN READ ONLY",
    };
    format!("{begin}; SET LOCAL {TENANT_SETTING} = '{id}'")
}

/// The application role's attributes: `rolsuper`, `rolbypassrls`, the
/// roles it is a member of (directly or not) that are superusers or have
/// `BYPASSRLS`, by name (`text[]`): `SET ROLE` to one of them leaves RLS
/// behind; and the roles with `CREATEROLE` among itself and those it is a
/// member of, superusers left out (`text[]`, itself first, then by name):
/// [`LintFinding::AppRoleCanCreateRoles`]. `$1` is the role. Membership is
/// `MEMBER`, not PostgreSQL 16's `SET` option: a grant made `WITH SET
/// FALSE` is reported too (the lint errs towards a finding). A superuser is
/// a member of every role, so its lists are left empty (it is reported as a
/// superuser); so are superusers among the `CREATEROLE` holders (membership
/// in one is reported as such).
pub(crate) const ROLE_SQL: &str = "
SELECT r.rolsuper, r.rolbypassrls,
       CASE WHEN r.rolsuper THEN '{}'::text[] ELSE coalesce((
           SELECT array_agg(o.rolname::text ORDER BY o.rolname::text)
           FROM pg_roles o
           WHERE o.oid <> r.oid AND (o.rolsuper OR o.rolbypassrls)
             AND pg_has_role(r.oid, o.oid, 'MEMBER')), '{}'::text[]) END,
       CASE WHEN r.rolsuper THEN '{}'::text[] ELSE coalesce((
           SELECT array_agg(o.rolname::text ORDER BY o.oid <> r.oid, o.rolname::text)
           FROM pg_roles o
           WHERE o.rolcreaterole AND NOT o.rolsuper
             AND pg_has_role(r.oid, o.oid, 'MEMBER')), '{}'::text[]) END
FROM pg_roles r WHERE r.rolname = $1";

/// Relations with a tenant column, and views and materialized views that
/// read one (directly or through other views) whether or not they show the
/// column: a view that leaves `tenant_id` out still returns every tenant's
/// rows when its owner bypasses RLS. `$1` role, `$2` column, `$3` whether
/// the role exists, `$4` schemas (`text[]`, `NULL` for all). Columns:
/// schema, name, relkind, RLS enabled, RLS forced, owner, app role owns it,
/// `security_invoker`, oid, the tenant column as `pg_get_expr` prints it
/// (`quote_ident`: `tenant_id`, but `"user"`; `''` for a view without it),
/// the privileges RLS does not govern that the role holds on a table
/// (`TRUNCATE`, `REFERENCES` on the table or any of its columns,
/// `TRIGGER`), a table's unique keys without the tenant column (index
/// names, as [`LintFinding::UniqueKeyWithoutTenantColumn`] says), and its foreign keys to tenant tables that do
/// not pair the two tenant columns (constraint names, then the referenced
/// tables, in the same order), its exclusion constraints that have the
/// tenant column but compare it with no equality operator (index names),
/// the foreign keys to it from tables without the tenant column in
/// any schema (the referencing `schema.table`s, then the constraint names,
/// in the same order), and the foreign keys to it that do not pair the
/// tenant columns from tenant tables in schemas not inspected (the same
/// two arrays): a foreign key reaches across schemas, so one from a schema
/// the lint does not look at probes an inspected table all the same.
///
/// A view's reads are its rewrite rule's dependencies in `pg_depend`
/// (PostgreSQL records every relation a view's query names there).
pub(crate) const RELATIONS_SQL: &str = "
WITH RECURSIVE tenant_rel(oid) AS (
    SELECT c.oid
    FROM pg_class c
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = $2::name
                       AND a.attnum > 0 AND NOT a.attisdropped
    WHERE c.relkind IN ('r', 'p', 'v', 'm')
  UNION
    SELECT r.ev_class
    FROM pg_rewrite r
    JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                    AND d.refclassid = 'pg_class'::regclass
    JOIN tenant_rel t ON t.oid = d.refobjid
    WHERE r.ev_class <> d.refobjid
),
-- Foreign keys between two tables with the tenant column, and whether some
-- column pair is the two tenant columns (a partition's copy of its parent's
-- key is reported on the parent).
tenant_fk(conrelid, conname, target, paired, confrelid, referencing, inspected) AS (
    SELECT k.conrelid, k.conname, fn.nspname::text || '.' || fc.relname::text,
           EXISTS (SELECT 1 FROM unnest(k.conkey, k.confkey) p(here, there)
                   WHERE p.here = ha.attnum AND p.there = ta.attnum),
           k.confrelid, hn.nspname::text || '.' || hc.relname::text,
           $4::text[] IS NULL OR hn.nspname = ANY($4::text[])
    FROM pg_constraint k
    JOIN pg_attribute ha ON ha.attrelid = k.conrelid AND ha.attname = $2::name
                        AND ha.attnum > 0 AND NOT ha.attisdropped
    JOIN pg_attribute ta ON ta.attrelid = k.confrelid AND ta.attname = $2::name
                        AND ta.attnum > 0 AND NOT ta.attisdropped
    JOIN pg_class fc ON fc.oid = k.confrelid
    JOIN pg_namespace fn ON fn.oid = fc.relnamespace
    JOIN pg_class hc ON hc.oid = k.conrelid
    JOIN pg_namespace hn ON hn.oid = hc.relnamespace
    WHERE k.contype = 'f' AND k.conparentid = 0
),
-- Foreign keys to a table with the tenant column from a table without it
-- (a global table), in any schema.
global_fk(confrelid, referencing, conname) AS (
    SELECT k.confrelid, hn.nspname::text || '.' || hc.relname::text, k.conname::text
    FROM pg_constraint k
    JOIN pg_class hc ON hc.oid = k.conrelid
    JOIN pg_namespace hn ON hn.oid = hc.relnamespace
    JOIN pg_attribute ta ON ta.attrelid = k.confrelid AND ta.attname = $2::name
                        AND ta.attnum > 0 AND NOT ta.attisdropped
    WHERE k.contype = 'f' AND k.conparentid = 0
      AND NOT EXISTS (SELECT 1 FROM pg_attribute ha
                      WHERE ha.attrelid = k.conrelid AND ha.attname = $2::name
                        AND ha.attnum > 0 AND NOT ha.attisdropped)
)
SELECT n.nspname::text, c.relname::text, c.relkind::text,
       c.relrowsecurity, c.relforcerowsecurity,
       pg_get_userbyid(c.relowner)::text,
       CASE WHEN $3 THEN pg_has_role($1::name, c.relowner, 'MEMBER') ELSE false END,
       EXISTS (SELECT 1 FROM unnest(coalesce(c.reloptions, '{}')) o
               WHERE lower(o) IN ('security_invoker=true', 'security_invoker=on',
                                  'security_invoker=1', 'security_invoker=yes')),
       c.oid,
       coalesce(quote_ident(a.attname::text), ''),
       CASE WHEN $3 AND c.relkind IN ('r', 'p') THEN ARRAY(
           SELECT p FROM unnest(ARRAY['TRUNCATE', 'REFERENCES', 'TRIGGER']) WITH ORDINALITY u(p, ord)
           WHERE CASE p WHEN 'REFERENCES' THEN has_any_column_privilege($1::name, c.oid, p)
                        ELSE has_table_privilege($1::name, c.oid, p) END
           ORDER BY ord) ELSE '{}'::text[] END,
       CASE WHEN c.relkind IN ('r', 'p') THEN ARRAY(
           SELECT ic.relname::text
           FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
           WHERE i.indrelid = c.oid AND (i.indisunique OR i.indisexclusion)
             -- A partition's copy of its parent's index: reported on the parent.
             AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
             AND NOT EXISTS (
                 SELECT 1 FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                 WHERE k.ord <= i.indnkeyatts AND k.attnum = a.attnum)
             AND NOT (i.indnkeyatts = 1 AND EXISTS (
                 SELECT 1 FROM pg_attribute s
                 WHERE s.attrelid = c.oid AND s.attnum = i.indkey[0] AND s.attnum > 0
                   AND (s.atttypid = 'pg_catalog.uuid'::regtype OR s.attidentity <> ''
                        OR EXISTS (SELECT 1 FROM pg_attrdef d
                                   WHERE d.adrelid = c.oid AND d.adnum = s.attnum
                                     AND pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%'))))
           ORDER BY 1) ELSE '{}'::text[] END,
       CASE WHEN c.relkind IN ('r', 'p') THEN ARRAY(
           SELECT k.conname::text FROM tenant_fk k WHERE k.conrelid = c.oid AND NOT k.paired
           ORDER BY k.conname) ELSE '{}'::text[] END,
       CASE WHEN c.relkind IN ('r', 'p') THEN ARRAY(
           SELECT k.target FROM tenant_fk k WHERE k.conrelid = c.oid AND NOT k.paired
           ORDER BY k.conname) ELSE '{}'::text[] END,
       -- Exclusion constraints with the tenant column among their keys, none
       -- of whose uses of it is an equality (btree strategy 3, hash 1).
       CASE WHEN c.relkind IN ('r', 'p') THEN ARRAY(
           SELECT ic.relname::text
           FROM pg_index i
           JOIN pg_class ic ON ic.oid = i.indexrelid
           JOIN pg_constraint x ON x.conindid = i.indexrelid AND x.conrelid = c.oid
                               AND x.contype = 'x'
           WHERE i.indrelid = c.oid AND i.indisexclusion
             AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
             AND EXISTS (
                 SELECT 1 FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                 WHERE k.ord <= i.indnkeyatts AND k.attnum = a.attnum)
             AND NOT EXISTS (
                 SELECT 1 FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                 JOIN pg_amop o ON o.amopopr = x.conexclop[k.ord::int]
                 JOIN pg_am m ON m.oid = o.amopmethod
                 WHERE k.ord <= i.indnkeyatts AND k.attnum = a.attnum
                   AND ((m.amname = 'btree' AND o.amopstrategy = 3)
                        OR (m.amname = 'hash' AND o.amopstrategy = 1)))
           ORDER BY 1) ELSE '{}'::text[] END,
       CASE WHEN c.relkind IN ('r', 'p') THEN ARRAY(
           SELECT g.referencing FROM global_fk g WHERE g.confrelid = c.oid
           ORDER BY g.referencing, g.conname) ELSE '{}'::text[] END,
       CASE WHEN c.relkind IN ('r', 'p') THEN ARRAY(
           SELECT g.conname FROM global_fk g WHERE g.confrelid = c.oid
           ORDER BY g.referencing, g.conname) ELSE '{}'::text[] END,
       -- Unpaired foreign keys to it from tenant tables in schemas the lint
       -- does not inspect (those in inspected schemas are reported on their
       -- own row, above).
       CASE WHEN c.relkind IN ('r', 'p') THEN ARRAY(
           SELECT k.referencing FROM tenant_fk k
           WHERE k.confrelid = c.oid AND NOT k.paired AND NOT k.inspected
           ORDER BY k.referencing, k.conname) ELSE '{}'::text[] END,
       CASE WHEN c.relkind IN ('r', 'p') THEN ARRAY(
           SELECT k.conname::text FROM tenant_fk k
           WHERE k.confrelid = c.oid AND NOT k.paired AND NOT k.inspected
           ORDER BY k.referencing, k.conname) ELSE '{}'::text[] END
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = $2::name
                        AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.oid IN (SELECT oid FROM tenant_rel)
  AND (c.relkind IN ('v', 'm') OR (c.relkind IN ('r', 'p') AND a.attname IS NOT NULL))
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

/// `SECURITY DEFINER` functions and procedures in every non-system schema,
/// inspected or not, that role `$1` may execute and whose owner row-level
/// security does not bind on some table with tenant column `$2` in the
/// inspected schemas (`$3`, `NULL` for all non-system ones): a superuser, a
/// `BYPASSRLS` role, or a role with the privileges of the owner of a table
/// whose RLS is enabled but not forced, holding a privilege that reads or
/// writes the table (a superuser holds them all). A function reads tables
/// in any schema, so where it lives says nothing of what it reaches; the
/// tables it could read are what the lint inspects. `pg_catalog`,
/// `information_schema` and the TOAST schemas are left out, as in
/// [`SCHEMAS_SQL`]; temporary schemas are not (a function there is a
/// function all the same). Columns: `schema.name(argument types)`, owner.
/// Run only when the role exists.
///
/// What a function reads is not in the catalog (`pg_depend` records the
/// relations of SQL-standard bodies only, PostgreSQL 14+, and nothing of
/// PL/pgSQL or dynamic SQL), so every such function is reported. Tables
/// whose RLS is off are left out: they are reported themselves, and any
/// function reads them.
pub(crate) const FUNCTIONS_SQL: &str = "
WITH tenant_table(oid, owner, exempts_owner) AS (
    SELECT c.oid, c.relowner, c.relrowsecurity AND NOT c.relforcerowsecurity
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = $2::name
                       AND a.attnum > 0 AND NOT a.attisdropped
    WHERE c.relkind IN ('r', 'p') AND c.relrowsecurity
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_toast%'
      AND ($3::text[] IS NULL OR n.nspname = ANY($3::text[]))
)
SELECT n.nspname::text || '.' || p.proname::text || '(' || oidvectortypes(p.proargtypes) || ')',
       pg_get_userbyid(p.proowner)::text
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_roles o ON o.oid = p.proowner
WHERE p.prosecdef
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%'
  AND has_function_privilege($1::name, p.oid, 'EXECUTE')
  AND EXISTS (
      SELECT 1 FROM tenant_table t
      WHERE (o.rolsuper OR o.rolbypassrls
             OR (t.exempts_owner AND pg_has_role(o.oid, t.owner, 'USAGE')))
        AND (has_any_column_privilege(o.oid, t.oid, 'SELECT, INSERT, UPDATE')
             OR has_table_privilege(o.oid, t.oid, 'DELETE')))
ORDER BY 1";

/// Every non-system schema in which role `$1` may create objects, whether
/// or not the lint inspects it (a foreign key reaches across schemas, so a
/// table the role makes anywhere may probe an inspected tenant table), and
/// who holds that for it: the schema's owner when the role is or belongs to
/// it (owner `true`), and every grantee of `CREATE` that is the role, a
/// role it is a member of, or `PUBLIC` (spelt `PUBLIC`). Columns: schema,
/// grantee, owner. Run only when the role exists; a superuser (reported as
/// such) gives no rows. `pg_catalog`, `information_schema`, the TOAST
/// schemas and temporary schemas are left out: a temporary table's foreign
/// keys may reference only temporary tables.
///
/// Membership is `MEMBER`, as in [`ROLE_SQL`]: a grant the role holds only
/// through `SET ROLE` is reported too. A schema without an ACL has the
/// default one (its owner alone); PostgreSQL 15 and later give `PUBLIC`
/// only `USAGE` on `public`, earlier releases (and databases upgraded or
/// restored from them, which keep their ACL) also `CREATE`.
pub(crate) const SCHEMAS_SQL: &str = "
SELECT DISTINCT n.nspname::text, g.grantee, g.owner
FROM pg_namespace n
CROSS JOIN LATERAL (
    SELECT pg_get_userbyid(n.nspowner)::text AS grantee, true AS owner
    WHERE pg_has_role($1::name, n.nspowner, 'MEMBER')
  UNION ALL
    SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee)::text END,
           false
    FROM aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
    WHERE a.privilege_type = 'CREATE' AND a.grantee <> n.nspowner
      AND CASE WHEN a.grantee = 0 THEN true
               ELSE pg_has_role($1::name, a.grantee, 'MEMBER') END
) g
WHERE NOT (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = $1::name)
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%'
  AND n.nspname NOT LIKE 'pg\\_temp\\_%'
ORDER BY 1, 2";

/// Whether role `$1` may create schemas in the current database (and in
/// them tables with foreign keys to any tenant table), and who holds that
/// for it: the database's owner when the role is or belongs to it (owner
/// `true`), and every grantee of `CREATE` on the database that is the
/// role, a role it is a member of, or `PUBLIC` (spelt `PUBLIC`). Columns:
/// database, grantee, owner. Run only when the role exists; a superuser
/// (reported as such) gives no rows. Membership is `MEMBER`, as in
/// [`SCHEMAS_SQL`].
///
/// A database without an ACL has the default one: its owner holds every
/// privilege, `PUBLIC` holds `CONNECT` and `TEMPORARY` but not `CREATE`
/// (`CREATE DATABASE` gives no more, in every release since 8.x).
/// `TEMPORARY` is not reported: a temporary table's foreign keys may
/// reference only temporary tables.
pub(crate) const DATABASE_SQL: &str = "
SELECT DISTINCT d.datname::text, g.grantee, g.owner
FROM pg_database d
CROSS JOIN LATERAL (
    SELECT pg_get_userbyid(d.datdba)::text AS grantee, true AS owner
    WHERE pg_has_role($1::name, d.datdba, 'MEMBER')
  UNION ALL
    SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee)::text END,
           false
    FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
    WHERE a.privilege_type = 'CREATE' AND a.grantee <> d.datdba
      AND CASE WHEN a.grantee = 0 THEN true
               ELSE pg_has_role($1::name, a.grantee, 'MEMBER') END
) g
WHERE d.datname = current_database()
  AND NOT (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = $1::name)
ORDER BY 1, 2";

/// A catalog row as each driver reads it: the lint's rows hold only text and
/// flags, so the column layout of [`RELATIONS_SQL`] and [`POLICIES_SQL`] is
/// written once, here, beside the SQL.
pub(crate) trait CatalogRow {
    /// Column `idx` as text.
    fn text(&self, idx: usize) -> Result<String, Error>;
    /// Column `idx` as a boolean.
    fn flag(&self, idx: usize) -> Result<bool, Error>;
    /// Column `idx` as a `text[]`.
    fn texts(&self, idx: usize) -> Result<Vec<String>, Error>;
}

/// One row of [`ROLE_SQL`].
pub(crate) struct RoleAttrs {
    pub(crate) superuser: bool,
    pub(crate) bypass: bool,
    /// The superuser or `BYPASSRLS` roles it can `SET ROLE` to.
    pub(crate) can_become: Vec<String>,
    /// Itself, if it has `CREATEROLE`, and the non-superuser roles with
    /// `CREATEROLE` it can `SET ROLE` to.
    pub(crate) create_roles: Vec<String>,
}

impl RoleAttrs {
    /// Reads a [`ROLE_SQL`] row.
    pub(crate) fn from_row(row: &impl CatalogRow) -> Result<Self, Error> {
        Ok(Self {
            superuser: row.flag(0)?,
            bypass: row.flag(1)?,
            can_become: row.texts(2)?,
            create_roles: row.texts(3)?,
        })
    }
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
    /// The tenant column, quoted as `pg_get_expr` prints it.
    pub(crate) tenant_column: String,
    /// `TRUNCATE`, `REFERENCES`, `TRIGGER`: what the app role holds of them.
    pub(crate) unpoliced: Vec<String>,
    /// Unique indexes without the tenant column (names).
    pub(crate) unique_keys: Vec<String>,
    /// Foreign keys to tenant tables that do not pair the tenant columns:
    /// (constraint, referenced `schema.table`).
    pub(crate) foreign_keys: Vec<(String, String)>,
    /// Exclusion constraints that compare the tenant column with no
    /// equality (index names).
    pub(crate) exclusions: Vec<String>,
    /// Foreign keys to this table from tables without the tenant column:
    /// (referencing `schema.table`, constraint).
    pub(crate) global_references: Vec<(String, String)>,
    /// Foreign keys to this table that do not pair the tenant columns, from
    /// tenant tables in schemas not inspected: (referencing `schema.table`,
    /// constraint).
    pub(crate) uninspected_references: Vec<(String, String)>,
}

/// One row of [`SCHEMAS_SQL`] (the schema) or of [`DATABASE_SQL`] (the
/// database in `schema`).
pub(crate) struct SchemaCreate {
    pub(crate) schema: String,
    pub(crate) grantee: String,
    pub(crate) owner: bool,
}

impl SchemaCreate {
    /// Reads a [`SCHEMAS_SQL`] or [`DATABASE_SQL`] row.
    pub(crate) fn from_row(row: &impl CatalogRow) -> Result<Self, Error> {
        Ok(Self {
            schema: row.text(0)?,
            grantee: row.text(1)?,
            owner: row.flag(2)?,
        })
    }
}

/// One row of [`FUNCTIONS_SQL`].
pub(crate) struct DefinerFunction {
    pub(crate) function: String,
    pub(crate) owner: String,
}

impl DefinerFunction {
    /// Reads a [`FUNCTIONS_SQL`] row.
    pub(crate) fn from_row(row: &impl CatalogRow) -> Result<Self, Error> {
        Ok(Self {
            function: row.text(0)?,
            owner: row.text(1)?,
        })
    }
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
            tenant_column: row.text(9)?,
            unpoliced: row.texts(10)?,
            unique_keys: row.texts(11)?,
            // Two arrays in one order (constraint name).
            foreign_keys: row.texts(12)?.into_iter().zip(row.texts(13)?).collect(),
            exclusions: row.texts(14)?,
            global_references: row.texts(15)?.into_iter().zip(row.texts(16)?).collect(),
            uninspected_references: row.texts(17)?.into_iter().zip(row.texts(18)?).collect(),
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
    pub(crate) fn add_role(&mut self, role: &str, attrs: Option<RoleAttrs>) -> bool {
        match attrs {
            None => {
                self.findings.push(LintFinding::AppRoleMissing {
                    role: role.to_owned(),
                });
                false
            }
            Some(RoleAttrs {
                superuser,
                bypass,
                can_become,
                create_roles,
            }) => {
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
                for via in can_become {
                    self.findings
                        .push(LintFinding::AppRoleCanBecomeBypassingRole {
                            role: role.to_owned(),
                            via,
                        });
                }
                for holder in create_roles {
                    self.findings.push(LintFinding::AppRoleCanCreateRoles {
                        role: role.to_owned(),
                        holder,
                    });
                }
                true
            }
        }
    }

    /// Records a relation's findings; returns the table whose policies must
    /// be read next ([`POLICIES_SQL`], then [`Self::add_policies`]).
    pub(crate) fn add_relation(&mut self, rel: Relation) -> Option<PolicedTable> {
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
            // An owner holds every privilege; the ownership is the finding.
            self.findings.push(LintFinding::AppRoleOwnsTable {
                table: qualified.clone(),
                owner: rel.owner,
            });
        } else {
            for privilege in rel.unpoliced {
                self.findings
                    .push(LintFinding::AppRoleHasUnpolicedPrivilege {
                        table: qualified.clone(),
                        privilege,
                    });
            }
        }
        for index in rel.unique_keys {
            self.findings
                .push(LintFinding::UniqueKeyWithoutTenantColumn {
                    table: qualified.clone(),
                    index,
                });
        }
        for (constraint, references) in rel.foreign_keys {
            self.findings
                .push(LintFinding::ForeignKeyWithoutTenantColumn {
                    table: qualified.clone(),
                    constraint,
                    references,
                });
        }
        for index in rel.exclusions {
            self.findings
                .push(LintFinding::ExclusionWithoutTenantEquality {
                    table: qualified.clone(),
                    index,
                });
        }
        for (table, constraint) in rel.global_references {
            self.findings.push(LintFinding::ForeignKeyFromGlobalTable {
                table,
                constraint,
                references: qualified.clone(),
            });
        }
        for (table, constraint) in rel.uninspected_references {
            self.findings
                .push(LintFinding::ForeignKeyWithoutTenantColumn {
                    table,
                    constraint,
                    references: qualified.clone(),
                });
        }
        rel.enabled.then_some(PolicedTable {
            table: qualified,
            tenant_column: rel.tenant_column,
        })
    }

    /// Records the `SECURITY DEFINER` functions of [`FUNCTIONS_SQL`].
    pub(crate) fn add_functions(&mut self, functions: Vec<DefinerFunction>) {
        for DefinerFunction { function, owner } in functions {
            self.findings
                .push(LintFinding::SecurityDefinerFunction { function, owner });
        }
    }

    /// Records the schemas of [`SCHEMAS_SQL`] in which the application role
    /// may create objects.
    pub(crate) fn add_schemas(&mut self, role: &str, schemas: Vec<SchemaCreate>) {
        for SchemaCreate {
            schema,
            grantee,
            owner,
        } in schemas
        {
            self.findings.push(LintFinding::AppRoleCanCreateInSchema {
                schema,
                role: role.to_owned(),
                grantee,
                owner,
            });
        }
    }

    /// Records the rows of [`DATABASE_SQL`]: the application role may
    /// create schemas in the database.
    pub(crate) fn add_database(&mut self, role: &str, rows: Vec<SchemaCreate>) {
        for SchemaCreate {
            schema: database,
            grantee,
            owner,
        } in rows
        {
            self.findings.push(LintFinding::AppRoleCanCreateInDatabase {
                database,
                role: role.to_owned(),
                grantee,
                owner,
            });
        }
    }

    /// Records the findings about an RLS-enabled table's policies.
    ///
    /// A policy is the tenant policy only when each of its expressions is,
    /// as PostgreSQL prints it, exactly a tenant predicate that
    /// [`RlsPolicy`](crate::rls::RlsPolicy) generates for the table's tenant
    /// column ([`TenantPredicates`]). Permissive policies are OR-ed, so every
    /// other permissive policy may widen access and is a finding: one that
    /// reads [`TENANT_SETTING`] in any other way
    /// ([`LintFinding::UnrecognisedTenantPolicy`]; `tenant_id = .. OR
    /// current_setting(..) IS NULL` admits every row when no tenant is bound)
    /// as well as one that ignores it. Restrictive policies are AND-ed and
    /// only narrow access.
    pub(crate) fn add_policies(&mut self, table: PolicedTable, policies: Vec<Policy>) {
        let predicates = TenantPredicates::new(&table.tenant_column);
        let table = table.table;
        let mut tenant_policy = false;
        for p in policies {
            let is_tenant = predicates.is_tenant_policy(&p);
            tenant_policy |= is_tenant;
            if !p.permissive || is_tenant {
                continue;
            }
            let finding = if mentions_tenant_setting(&p.using) || mentions_tenant_setting(&p.check)
            {
                LintFinding::UnrecognisedTenantPolicy {
                    table: table.clone(),
                    policy: p.name,
                }
            } else {
                LintFinding::PermissivePolicyWithoutTenant {
                    table: table.clone(),
                    policy: p.name,
                }
            };
            self.findings.push(finding);
        }
        if !tenant_policy {
            self.findings.push(LintFinding::NoTenantPolicy { table });
        }
    }
}

/// An RLS-enabled tenant table whose policies the lint reads next.
pub(crate) struct PolicedTable {
    /// `schema.table`.
    pub(crate) table: String,
    /// The tenant column, quoted as `pg_get_expr` prints it.
    pub(crate) tenant_column: String,
}

/// The tenant predicates [`RlsPolicy`](crate::rls::RlsPolicy) generates for
/// one tenant column, as `pg_get_expr` prints them (checked on PostgreSQL
/// 15; were a release to print them otherwise, the lint would report
/// Custodia's own policies, never accept another, and the integration test
/// that lints the generated SQL would fail):
///
/// * `USING`: `(tenant_id = ( SELECT (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid AS "nullif"))`
/// * `WITH CHECK`: `(tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)`
///
/// Either form is accepted in either clause: both compare the column with
/// the bound tenant, and with none bound (`NULL` or `''`) with `NULL`, which
/// admits no row.
///
/// Comparing printed text is sound because `pg_get_expr` prints a
/// function, operator or type unqualified only when the lint's session
/// resolves the name to that very object: with `pg_catalog` first on the
/// search path (PostgreSQL searches it first unless `search_path` names it
/// later), `=`, `current_setting` and `uuid` are the built-ins, and a
/// look-alike in another schema prints schema-qualified and does not match.
pub(crate) struct TenantPredicates {
    forms: [String; 2],
}

impl TenantPredicates {
    /// The predicates on `column` (quoted as `pg_get_expr` prints it).
    pub(crate) fn new(column: &str) -> Self {
        let bound =
            format!("(NULLIF(current_setting('{TENANT_SETTING}'::text, true), ''::text))::uuid");
        Self {
            forms: [
                format!("({column} = ( SELECT {bound} AS \"nullif\"))"),
                format!("({column} = {bound})"),
            ],
        }
    }

    /// Whether `expr` (as `pg_get_expr` prints it) is one of the predicates,
    /// up to runs of white space.
    fn matches(&self, expr: &str) -> bool {
        let expr = normalise(expr);
        self.forms.contains(&expr)
    }

    /// Whether a policy is a tenant policy: it has an expression, and its
    /// `USING` and its `WITH CHECK`, each where present, are tenant
    /// predicates. (Without `USING` a policy admits no row to read; without
    /// `WITH CHECK`, PostgreSQL checks writes with `USING`.)
    fn is_tenant_policy(&self, p: &Policy) -> bool {
        let clauses = [p.using.as_str(), p.check.as_str()];
        clauses.iter().any(|c| !c.trim().is_empty())
            && clauses
                .iter()
                .all(|c| c.trim().is_empty() || self.matches(c))
    }
}

/// `expr` with each run of white space made one space, trimmed. Only white
/// space: case matters inside a quoted identifier or a string literal, and
/// `pg_get_expr` prints everything else in one case already. A run of white
/// space inside a literal stays at least one space, so no literal can become
/// one of the predicates' literals.
fn normalise(expr: &str) -> String {
    expr.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether `expr` names the tenant setting (setting names are
/// case-insensitive in PostgreSQL).
fn mentions_tenant_setting(expr: &str) -> bool {
    expr.to_ascii_lowercase().contains(TENANT_SETTING)
}

/// What the isolation lint inspects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LintOptions {
    /// The role the application logs in as.
    pub app_role: String,
    /// The column that marks a tenant table (`tenant_id`).
    pub tenant_column: String,
    /// Only these schemas (all non-system schemas when `None`): their
    /// tables and views. What reaches an inspected tenant table from
    /// elsewhere is reported whatever schema it is in: foreign keys to it
    /// ([`LintFinding::ForeignKeyFromGlobalTable`],
    /// [`LintFinding::ForeignKeyWithoutTenantColumn`]), `SECURITY DEFINER`
    /// functions whose owner RLS does not bind on it
    /// ([`LintFinding::SecurityDefinerFunction`]), and `CREATE` on any
    /// schema or on the database, with which the application role can make
    /// such keys ([`LintFinding::AppRoleCanCreateInSchema`],
    /// [`LintFinding::AppRoleCanCreateInDatabase`]).
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
    /// The application role is a member (directly or through other roles)
    /// of a superuser or `BYPASSRLS` role: after `SET ROLE`, which any
    /// statement it runs may send, RLS no longer applies.
    AppRoleCanBecomeBypassingRole {
        /// The application role.
        role: String,
        /// The superuser or `BYPASSRLS` role it can become.
        via: String,
    },
    /// The application role has `CREATEROLE`, or is a member (directly or
    /// through other roles) of a role that has it and can `SET ROLE` to it.
    /// `CREATEROLE` is not least privilege for an application, and what it
    /// reaches depends on the release:
    ///
    /// * PostgreSQL 15 and earlier: it may grant itself membership in any
    ///   role that is not a superuser (and alter any such role). The owner
    ///   of a tenant table is one: after `GRANT owner TO app; SET ROLE
    ///   owner`, row-level security no longer binds it unless the table
    ///   forces it, and as the owner it may turn forcing (or RLS) off, so
    ///   it reads every tenant's rows. So is a `BYPASSRLS` role, and the
    ///   predefined roles (`pg_execute_server_program`, `pg_write_server_files`)
    ///   that reach the server's files and programs: PostgreSQL's
    ///   documentation tells to regard such a role as an
    ///   "almost-superuser-role".
    /// * PostgreSQL 16 and later: it may grant and alter only roles it holds
    ///   `ADMIN OPTION` on (those it created, by default), and it cannot
    ///   give the roles it creates `BYPASSRLS` unless it has that itself;
    ///   it still creates roles and logins, which an application does not
    ///   need.
    ///
    /// The fix: `ALTER ROLE holder NOCREATEROLE` (create roles from the
    /// migration or an administrator's role), or revoke the membership in
    /// `holder`. A holder that is a superuser is not listed here: the
    /// membership is [`LintFinding::AppRoleCanBecomeBypassingRole`]. As
    /// there, a membership counts whether or not PostgreSQL 16's `SET`
    /// option is granted (the lint errs towards a finding).
    AppRoleCanCreateRoles {
        /// The application role.
        role: String,
        /// The role with `CREATEROLE`: the application role itself, or a
        /// role it is a member of.
        holder: String,
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
    /// The application role holds a privilege on a tenant table that
    /// row-level security does not govern: `TRUNCATE` empties every
    /// tenant's rows at once, and `TRIGGER` lets it attach code that runs
    /// on every tenant's writes and may copy them where RLS does not reach.
    /// `REFERENCES` (on the table or any of its columns) lets it, given
    /// `CREATE` on some schema ([`LintFinding::AppRoleCanCreateInSchema`])
    /// or on the database ([`LintFinding::AppRoleCanCreateInDatabase`]),
    /// make a table of its own with a foreign key to this one, whose check
    /// tells which keys exist in any tenant
    /// ([`LintFinding::ForeignKeyFromGlobalTable`] once made). (`GRANT ALL` gives
    /// all three; [`RlsPolicy`](crate::rls::RlsPolicy) grants none.)
    AppRoleHasUnpolicedPrivilege {
        /// `schema.table`.
        table: String,
        /// `TRUNCATE`, `REFERENCES` or `TRIGGER`.
        privilege: String,
    },
    /// A unique index, unique or primary-key constraint, or exclusion
    /// constraint on a tenant table whose key columns do not include the
    /// tenant column. PostgreSQL checks constraints against every row,
    /// whatever row-level security hides, so an insert or update that fails
    /// with a unique violation tells one tenant that another tenant holds
    /// the value (`UNIQUE (email)`: "some tenant has bob@example.com").
    /// Lead the key with the tenant column: `UNIQUE (tenant_id, email)`.
    /// A column in `INCLUDE` is not a key column and does not count.
    ///
    /// Not reported: a key on one column that the database numbers (an
    /// identity column, or a `nextval` default such as `serial`'s) or of
    /// type `uuid`. Such an id names a row, not a person: a random uuid
    /// cannot be guessed, so probing learns nothing the prober did not
    /// already hold, and a probe of sequence numbers learns only which
    /// numbers are taken, which the shared sequence tells every tenant
    /// anyway. A single-column key on anything else, primary key included
    /// (`email text PRIMARY KEY`, a ticket number the host makes), is
    /// reported: that is the natural key that makes the oracle.
    UniqueKeyWithoutTenantColumn {
        /// `schema.table`.
        table: String,
        /// The index (for a constraint, PostgreSQL names it after the
        /// constraint).
        index: String,
    },
    /// A foreign key from a tenant table to a tenant table that does not
    /// pair the two tenant columns (`FOREIGN KEY (tenant_id, contact)
    /// REFERENCES contacts (tenant_id, id)`). PostgreSQL checks it against
    /// every row, whatever row-level security hides, so a row of one tenant
    /// may reference another tenant's row, and whether the insert succeeds
    /// tells whether that row exists. Make the referenced table's key
    /// `(tenant_id, id)` and reference both.
    ///
    /// Reported for a referencing table in an inspected schema, and for one
    /// in any other schema whose key references an inspected table
    /// ([`LintOptions::schemas`]).
    ForeignKeyWithoutTenantColumn {
        /// `schema.table`: the referencing table.
        table: String,
        /// The constraint.
        constraint: String,
        /// `schema.table`: the referenced table.
        references: String,
    },
    /// A foreign key to a tenant table from a table without the tenant
    /// column (a global table, in any schema). PostgreSQL checks it
    /// against every row, whatever row-level security hides, so whoever
    /// may insert into or update the global table learns whether any
    /// tenant holds a key: the same oracle as
    /// [`LintFinding::ForeignKeyWithoutTenantColumn`]. Reported whatever
    /// the application role's privileges on the global table are (grants
    /// change; the table's owner and other roles write it too). Give the
    /// table the tenant column and pair it in the key, or drop the key and
    /// check the reference in the application, bound to the tenant.
    ForeignKeyFromGlobalTable {
        /// `schema.table`: the referencing table, which has no tenant column.
        table: String,
        /// The constraint.
        constraint: String,
        /// `schema.table`: the referenced tenant table.
        references: String,
    },
    /// An exclusion constraint on a tenant table that has the tenant
    /// column among its keys but never compares it with equality (`WITH
    /// <>`, `WITH &&`). Rows of different tenants then conflict, and the
    /// check, which sees every row whatever row-level security hides,
    /// tells one tenant about another's rows (`EXCLUDE USING gist
    /// (tenant_id WITH <>, room WITH =, during WITH &&)`: "some other
    /// tenant has booked this room then"). Compare the tenant column
    /// `WITH =` (btree_gist provides it for `uuid`). Equality is an
    /// operator of a btree (strategy 3) or hash (strategy 1) operator
    /// family; an exclusion constraint without the tenant column is a
    /// [`LintFinding::UniqueKeyWithoutTenantColumn`].
    ExclusionWithoutTenantEquality {
        /// `schema.table`.
        table: String,
        /// The constraint's index (named after the constraint).
        index: String,
    },
    /// The application role may create objects in a schema: directly,
    /// through a role it is a member of, through `PUBLIC`, or as (a member
    /// of) the schema's owner. With `REFERENCES` on a tenant
    /// table it can create a table of its own with a foreign key to it (an
    /// existence oracle across tenants), and it can plant functions and
    /// operators that other roles whose `search_path` names the schema may
    /// run (CVE-2018-1058). The application role needs neither: revoke
    /// `CREATE` (`REVOKE CREATE ON SCHEMA s FROM grantee`), or give the
    /// schema to the migration role when the application role owns it.
    ///
    /// PostgreSQL 15 and later grant `PUBLIC` only `USAGE` on schema
    /// `public`; before 15 `PUBLIC` also holds `CREATE` there, and a
    /// database upgraded or restored from an older release keeps that, so
    /// the lint reports `public` with grantee `PUBLIC` on such a database:
    /// `REVOKE CREATE ON SCHEMA public FROM PUBLIC`.
    ///
    /// Every schema but `pg_catalog`, `information_schema`, the TOAST
    /// schemas and temporary schemas is looked at, whether or not the lint
    /// inspects it ([`LintOptions::schemas`]): a foreign key reaches across
    /// schemas, so a table made in any of them may probe an inspected
    /// tenant table.
    AppRoleCanCreateInSchema {
        /// The schema.
        schema: String,
        /// The application role.
        role: String,
        /// Who holds `CREATE` for it: itself, a role it is a member of,
        /// `PUBLIC`, or (with `owner`) the schema's owner.
        grantee: String,
        /// Whether `grantee` holds it as the schema's owner, which no
        /// `REVOKE` takes away.
        owner: bool,
    },
    /// The application role may create schemas in the database the lint
    /// runs in: `CREATE` on the database is granted to it, to a role it is
    /// a member of, or to `PUBLIC`, or it is (a member of) the database's
    /// owner. In a schema it makes (and so owns), it creates what
    /// [`LintFinding::AppRoleCanCreateInSchema`] warns of: with
    /// `REFERENCES` on a tenant table, a table with a foreign key to it
    /// (an existence oracle across tenants, wherever the schema is), and
    /// functions other roles may run. The application role needs neither:
    /// `REVOKE CREATE ON DATABASE db FROM grantee`, or give the database to
    /// the migration role when the application role owns it.
    ///
    /// `CREATE DATABASE` gives `PUBLIC` `CONNECT` and `TEMPORARY` on the new
    /// database, not `CREATE` (the template's grants are not copied), so
    /// only a `GRANT CREATE ON DATABASE` or the ownership is reported.
    /// `TEMPORARY` is not: a temporary table's foreign keys may reference
    /// only temporary tables. The database's owner also owns schema
    /// `public` on PostgreSQL 15 and later (as `pg_database_owner`), which
    /// is reported as well ([`LintFinding::AppRoleCanCreateInSchema`]).
    AppRoleCanCreateInDatabase {
        /// The database (`current_database()`).
        database: String,
        /// The application role.
        role: String,
        /// Who holds `CREATE` for it: itself, a role it is a member of,
        /// `PUBLIC`, or (with `owner`) the database's owner.
        grantee: String,
        /// Whether `grantee` holds it as the database's owner, which no
        /// `REVOKE` takes away.
        owner: bool,
    },
    /// A `SECURITY DEFINER` function or procedure that the application role
    /// may execute (`EXECUTE` is granted to `PUBLIC` unless revoked) and
    /// whose owner row-level security does not bind on a tenant table: a
    /// superuser, a `BYPASSRLS` role, or the owner of a table whose RLS is
    /// not forced (or a role with its privileges), holding a privilege on
    /// it. The function runs as its owner, so it reads or writes every
    /// tenant's rows. What a function body reads is not in the catalog, so
    /// each such function is reported whatever it does; revoke `EXECUTE`
    /// from `PUBLIC` and from the application role, or make it `SECURITY
    /// INVOKER`.
    ///
    /// The lint looks for functions in every schema but `pg_catalog`,
    /// `information_schema` and the TOAST schemas, whether or not it
    /// inspects it: a function reads tables in any schema. It judges them
    /// by the tenant tables in the schemas it inspects
    /// ([`LintOptions::schemas`]; all non-system schemas when `None`): a
    /// function is reported when its owner bypasses RLS on one of those.
    /// Functions of extensions are included.
    SecurityDefinerFunction {
        /// `schema.name(argument types)`.
        function: String,
        /// Its owner.
        owner: String,
    },
    /// RLS is on but no policy is the tenant predicate
    /// [`RlsPolicy`](crate::rls::RlsPolicy) generates (the tenant column
    /// equal to the bound `app.tenant_id`).
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
    /// A permissive policy that reads the tenant setting but is not exactly
    /// the tenant predicate [`RlsPolicy`](crate::rls::RlsPolicy) generates
    /// for the table's tenant column. The lint cannot show that it admits
    /// only the bound tenant's rows, and many such policies do not: `USING
    /// (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid
    /// OR current_setting('app.tenant_id', true) IS NULL)` lets a connection
    /// with no tenant bound read every tenant's rows. Permissive policies are
    /// OR-ed, so it widens access whatever the table's other policies are.
    UnrecognisedTenantPolicy {
        /// `schema.table`.
        table: String,
        /// The policy.
        policy: String,
    },
    /// A view that reads a tenant table (with or without showing its tenant
    /// column, directly or through other views) and runs with its owner's
    /// rights (no `security_invoker = true`), so it bypasses the tables'
    /// RLS when its owner does.
    ViewWithoutSecurityInvoker {
        /// `schema.view`.
        view: String,
        /// The owner.
        owner: String,
    },
    /// A materialized view that reads a tenant table: RLS does not apply to it.
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
            LintFinding::AppRoleCanBecomeBypassingRole { role, via } => write!(
                f,
                "role {role}: is a member of {via}, a superuser or BYPASSRLS role; after SET ROLE {via} row-level security no longer applies"
            ),
            LintFinding::AppRoleCanCreateRoles { role, holder } if holder == role => write!(
                f,
                "role {role}: has CREATEROLE; on PostgreSQL 15 and earlier it may grant itself any role but a superuser, such as a tenant table's owner, which row-level security does not bind unless forced (and which may turn it off), and from 16 on it still creates roles, which an application does not need (ALTER ROLE {role} NOCREATEROLE)"
            ),
            LintFinding::AppRoleCanCreateRoles { role, holder } => write!(
                f,
                "role {role}: is a member of {holder}, which has CREATEROLE; after SET ROLE {holder}, on PostgreSQL 15 and earlier it may grant itself any role but a superuser, such as a tenant table's owner, which row-level security does not bind unless forced (and which may turn it off), and from 16 on it still creates roles, which an application does not need (ALTER ROLE {holder} NOCREATEROLE, or REVOKE {holder} FROM {role})"
            ),
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
            LintFinding::AppRoleHasUnpolicedPrivilege { table, privilege } => write!(
                f,
                "{table}: the application role has {privilege}, which row-level security does not govern (revoke it)"
            ),
            LintFinding::UniqueKeyWithoutTenantColumn { table, index } => write!(
                f,
                "{table}: unique index {index} does not include the tenant column; its check sees every tenant's rows, so a unique violation tells one tenant that another holds the value (lead the key with the tenant column)"
            ),
            LintFinding::ForeignKeyWithoutTenantColumn {
                table,
                constraint,
                references,
            } => write!(
                f,
                "{table}: foreign key {constraint} to {references} does not pair the tenant columns; a row may reference another tenant's row, and the check tells whether it exists (reference the tenant column too: FOREIGN KEY (tenant_id, ..) REFERENCES {references} (tenant_id, ..))"
            ),
            LintFinding::ForeignKeyFromGlobalTable {
                table,
                constraint,
                references,
            } => write!(
                f,
                "{table}: has no tenant column, but its foreign key {constraint} references tenant table {references}; the check sees every tenant's rows, so whoever may insert into or update {table} learns whether any tenant holds a key (give {table} the tenant column and reference it too, or drop the key and check the reference bound to the tenant)"
            ),
            LintFinding::ExclusionWithoutTenantEquality { table, index } => write!(
                f,
                "{table}: exclusion constraint {index} compares the tenant column with no equality operator, so rows of different tenants conflict and a violation tells one tenant about another's rows (compare the tenant column WITH =)"
            ),
            LintFinding::AppRoleCanCreateInSchema {
                schema,
                role,
                grantee,
                owner: true,
            } => write!(
                f,
                "schema {schema}: owned by {grantee}, which the application role {role} is or belongs to, so it may create objects there: tables with foreign keys to tenant tables (an existence oracle across tenants), functions other roles may run (ALTER SCHEMA {schema} OWNER TO the migration role)"
            ),
            LintFinding::AppRoleCanCreateInSchema {
                schema,
                role,
                grantee,
                owner: false,
            } => write!(
                f,
                "schema {schema}: the application role {role} may create objects there (CREATE is granted to {grantee}): tables with foreign keys to tenant tables (an existence oracle across tenants), functions other roles may run (REVOKE CREATE ON SCHEMA {schema} FROM {grantee})"
            ),
            LintFinding::AppRoleCanCreateInDatabase {
                database,
                role,
                grantee,
                owner: true,
            } => write!(
                f,
                "database {database}: owned by {grantee}, which the application role {role} is or belongs to, so it may create schemas there and in them tables with foreign keys to tenant tables (an existence oracle across tenants), functions other roles may run (ALTER DATABASE {database} OWNER TO the migration role)"
            ),
            LintFinding::AppRoleCanCreateInDatabase {
                database,
                role,
                grantee,
                owner: false,
            } => write!(
                f,
                "database {database}: the application role {role} may create schemas there (CREATE is granted to {grantee}), and in them tables with foreign keys to tenant tables (an existence oracle across tenants), functions other roles may run (REVOKE CREATE ON DATABASE {database} FROM {grantee})"
            ),
            LintFinding::SecurityDefinerFunction { function, owner } => write!(
                f,
                "{function}: SECURITY DEFINER, owned by {owner}, which row-level security does not bind on a tenant table, and executable by the application role: it runs across tenants (REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC and from the application role, or ALTER FUNCTION {function} SECURITY INVOKER)"
            ),
            LintFinding::NoTenantPolicy { table } => write!(
                f,
                "{table}: no row-level security policy is the tenant predicate (tenant column = the bound {TENANT_SETTING}, as rls::RlsPolicy generates it)"
            ),
            LintFinding::PermissivePolicyWithoutTenant { table, policy } => write!(
                f,
                "{table}: permissive policy {policy} ignores {TENANT_SETTING} and widens access"
            ),
            LintFinding::UnrecognisedTenantPolicy { table, policy } => write!(
                f,
                "{table}: permissive policy {policy} reads {TENANT_SETTING} but is not the tenant predicate rls::RlsPolicy generates (tenant column = the bound tenant); it may admit other tenants' rows, e.g. when no tenant is bound"
            ),
            LintFinding::ViewWithoutSecurityInvoker { view, owner } => write!(
                f,
                "{view}: view over a tenant table runs as its owner {owner} (set security_invoker = true)"
            ),
            LintFinding::MaterializedView { view } => write!(
                f,
                "{view}: materialized view over a tenant table; row-level security does not apply"
            ),
        }
    }
}

/// The lint's result.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LintReport {
    /// Tables with a tenant column, and views and materialized views over
    /// one, that were inspected (`schema.name`).
    pub checked: Vec<String>,
    /// Every problem found.
    pub findings: Vec<LintFinding>,
}

impl LintReport {
    /// Whether no problem was found.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// The findings about one table or view (`schema.name`; a foreign key
    /// is about the referencing table, a global table's too), about one
    /// function (`schema.name(argument types)`), about one schema
    /// (`schema`), or about the database (its name).
    pub fn about<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a LintFinding> + 'a {
        self.findings.iter().filter(move |f| match f {
            LintFinding::RlsDisabled { table }
            | LintFinding::RlsNotForced { table }
            | LintFinding::AppRoleOwnsTable { table, .. }
            | LintFinding::AppRoleHasUnpolicedPrivilege { table, .. }
            | LintFinding::UniqueKeyWithoutTenantColumn { table, .. }
            | LintFinding::ForeignKeyWithoutTenantColumn { table, .. }
            | LintFinding::ForeignKeyFromGlobalTable { table, .. }
            | LintFinding::ExclusionWithoutTenantEquality { table, .. }
            | LintFinding::NoTenantPolicy { table }
            | LintFinding::PermissivePolicyWithoutTenant { table, .. }
            | LintFinding::UnrecognisedTenantPolicy { table, .. } => table == name,
            LintFinding::ViewWithoutSecurityInvoker { view, .. }
            | LintFinding::MaterializedView { view } => view == name,
            LintFinding::SecurityDefinerFunction { function, .. } => function == name,
            LintFinding::AppRoleCanCreateInSchema { schema, .. } => schema == name,
            LintFinding::AppRoleCanCreateInDatabase { database, .. } => database == name,
            _ => false,
        })
    }
}

impl fmt::Display for LintReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "tenant isolation lint: {} tenant table(s) and view(s), {} finding(s)",
            self.checked.len(),
            self.findings.len()
        )?;
        for finding in &self.findings {
            write!(f, "\n  - {finding}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `pg_get_expr`'s printing (PostgreSQL 15) of the generated `USING`.
    const USING: &str = "(tenant_id = ( SELECT (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid AS \"nullif\"))";
    /// And of the generated `WITH CHECK`.
    const CHECK: &str =
        "(tenant_id = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)";

    fn policy(name: &str, permissive: bool, using: &str, check: &str) -> Policy {
        Policy {
            name: name.to_owned(),
            permissive,
            using: using.to_owned(),
            check: check.to_owned(),
        }
    }

    fn lint(policies: Vec<Policy>) -> Vec<LintFinding> {
        let mut report = LintReport::default();
        let table = PolicedTable {
            table: "s.t".to_owned(),
            tenant_column: "tenant_id".to_owned(),
        };
        report.add_policies(table, policies);
        report.findings
    }

    fn unrecognised(policy: &str) -> LintFinding {
        LintFinding::UnrecognisedTenantPolicy {
            table: "s.t".to_owned(),
            policy: policy.to_owned(),
        }
    }

    fn no_tenant_policy() -> LintFinding {
        LintFinding::NoTenantPolicy {
            table: "s.t".to_owned(),
        }
    }

    #[test]
    fn the_generated_predicates_in_either_clause_are_the_tenant_policy() {
        assert_eq!(lint(vec![policy("p", true, USING, CHECK)]), []);
        assert_eq!(lint(vec![policy("p", true, CHECK, USING)]), []);
        assert_eq!(lint(vec![policy("p", true, USING, "")]), []);
        // An INSERT policy has only WITH CHECK.
        assert_eq!(
            lint(vec![
                policy("p", true, USING, CHECK),
                policy("i", true, "", CHECK)
            ]),
            []
        );
        // White space is not meaning.
        let spread = USING.replace(' ', "\n   ");
        assert_eq!(lint(vec![policy("p", true, &spread, "")]), []);
    }

    #[test]
    fn any_other_expression_on_the_setting_is_unrecognised() {
        let bound = "(NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid";
        for (using, check) in [
            // The review's leak: every row when no tenant is bound.
            (
                &*format!(
                    "((tenant_id = {bound}) OR (current_setting('app.tenant_id'::text, true) IS NULL))"
                ),
                "",
            ),
            // Every row when no tenant is bound, again.
            (&*format!("(tenant_id = COALESCE({bound}, tenant_id))"), ""),
            // Another column.
            (&*format!("(owner_id = {bound})"), ""),
            // Casing is meaning inside a quoted identifier.
            (&*format!("(\"TENANT_ID\" = {bound})"), ""),
            // A look-alike function prints schema-qualified.
            (
                "(tenant_id = (NULLIF(public.current_setting('app.tenant_id'::text, true), ''::text))::uuid)",
                "",
            ),
            // The tenant read, but writes anywhere.
            (USING, "true"),
            // The setting's name in another case is the same setting.
            (
                &*format!(
                    "(tenant_id = {})",
                    bound.replace("app.tenant_id", "APP.Tenant_ID")
                ),
                "",
            ),
        ] {
            assert_eq!(
                lint(vec![policy("p", true, using, check)]),
                [unrecognised("p"), no_tenant_policy()],
                "{using} / {check}"
            );
        }
    }

    #[test]
    fn a_second_permissive_policy_widens_access_and_is_a_finding() {
        let widened = format!("({USING} OR (subject = 'public'::text))");
        assert_eq!(
            lint(vec![
                policy("custodia_tenant_isolation", true, USING, CHECK),
                policy("also_public", true, &widened, ""),
                policy("everyone", true, "true", ""),
            ]),
            [
                unrecognised("also_public"),
                LintFinding::PermissivePolicyWithoutTenant {
                    table: "s.t".to_owned(),
                    policy: "everyone".to_owned(),
                },
            ]
        );
        // Restrictive policies are AND-ed: they only narrow access.
        assert_eq!(
            lint(vec![
                policy("custodia_tenant_isolation", true, USING, CHECK),
                policy("narrower", false, &widened, ""),
                policy("open_hours", false, "true", ""),
            ]),
            []
        );
        // No policy, or one with no expression, admits no row, but leaves the
        // table without its tenant policy.
        assert_eq!(lint(vec![]), [no_tenant_policy()]);
        assert_eq!(
            lint(vec![policy("bare", true, "", "")]),
            [
                LintFinding::PermissivePolicyWithoutTenant {
                    table: "s.t".to_owned(),
                    policy: "bare".to_owned(),
                },
                no_tenant_policy()
            ]
        );
    }

    #[test]
    fn the_tenant_column_is_compared_as_printed() {
        let preds = TenantPredicates::new("\"user\"");
        assert!(preds.matches(&USING.replacen("tenant_id", "\"user\"", 1)));
        assert!(!preds.matches(USING));
        assert!(!preds.matches(&USING.replacen("tenant_id", "user", 1)));
    }
}
