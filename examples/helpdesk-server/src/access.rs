//! Agents and roles: each tenant's access policy, and the routes that show
//! it (`/me`, `/roles`, `/agents`).
//!
//! The roles are the embedded example's ACME policy, for every tenant, plus
//! the two the server needs:
//!
//! | role | tickets | fields |
//! |---|---|---|
//! | `agent` | create; read all of the tenant's; change their own | text: write; name, email: read; phone: hidden |
//! | `supervisor` | create, read, change, delete all; run the retention sweep | every personal field: read; text: write |
//! | `dpo` | read all (to answer requests); the `/privacy` routes | every personal field: masked |
//! | `auditor` | none; `POST /audit/verify` for the tenant: a verdict and the tenant's own event count | none |
//! | `operator` | none; the `/audit` routes with the shared log's size, root and checkpoints | none |
//!
//! One audit log holds every tenant's events, so its size and root say how
//! much the other tenants did. A tenant's `auditor` gets neither: only
//! whether the whole log verifies (against a checkpoint, if they hold one)
//! and how many of the log's events are their tenant's. The log-wide
//! figures are the platform's: role `operator`, which the identity
//! provider gives the deployment's own staff and never a tenant's user
//! (the example's tokens still name a served tenant for every caller).

use std::sync::Arc;

use axum::extract::State;
use custodia_axum::{Identity, Json, Tenant, Tx};
use custodia_core::{DataCategory, TenantId};
use custodia_example_helpdesk::store::SEALED;
use custodia_tenant::access::{
    AccessPolicy, FieldAccess, FieldRule, Operation, Ownership, Permission, PolicyChange, Scope,
};
use custodia_tenant::{RoleName, TenantContext};
use serde_json::{Value, json};
use sqlx_core::query::query;
use sqlx_core::row::Row as _;
use sqlx_postgres::Postgres;

use crate::Error;
use crate::app::{ApiError, App, forbidden};

/// The role the `/privacy` routes need.
pub(crate) const DPO: &str = "dpo";
/// The role the tenant's `/audit` route needs.
pub(crate) const AUDITOR: &str = "auditor";
/// The platform role that sees the shared log's size, root and checkpoints.
pub(crate) const OPERATOR: &str = "operator";

/// The resource the retention sweep acts on (`delete` on it runs a sweep).
pub(crate) const RETENTION: &str = "retention";
/// The resource the audit routes act on.
pub(crate) const AUDIT_LOG: &str = "audit_log";
/// The shared log's head (size, root, checkpoints): every tenant's volume.
pub(crate) const AUDIT_HEAD: &str = "audit_log_head";

/// The access policy of `tenant` (see the [module docs](self)).
pub(crate) fn policy(tenant: TenantId) -> Result<AccessPolicy, Error> {
    let role = |name: &str| RoleName::new(name);
    let (agent, supervisor, dpo, auditor, operator) = (
        role("agent")?,
        role("supervisor")?,
        role(DPO)?,
        role(AUDITOR)?,
        role(OPERATOR)?,
    );
    let grant = |role: &RoleName, resource: &str, op, scope| -> Result<PolicyChange, Error> {
        Ok(PolicyChange::Grant(
            role.clone(),
            Permission::new(resource, op, scope)?,
        ))
    };
    let field = |role: &RoleName, category, access| {
        PolicyChange::SetField(role.clone(), FieldRule { category, access })
    };
    // The embedded example's roles, and what the server adds to them.
    let mut changes = custodia_example_helpdesk::flow::acme_roles()
        .map_err(|e| Error::Config(format!("the example's roles: {e}")))?;
    changes.extend([
        grant(&agent, "ticket", Operation::Create, Scope::Own)?,
        field(
            &supervisor,
            DataCategory::USER_CONTENT_TICKET,
            FieldAccess::Write,
        ),
        grant(&supervisor, RETENTION, Operation::Delete, Scope::Tenant)?,
        PolicyChange::DefineRole(dpo.clone()),
        grant(&dpo, "ticket", Operation::Read, Scope::Tenant)?,
        field(&dpo, DataCategory::USER, FieldAccess::Masked),
        PolicyChange::DefineRole(auditor.clone()),
        grant(&auditor, AUDIT_LOG, Operation::Read, Scope::Tenant)?,
        PolicyChange::DefineRole(operator.clone()),
        grant(&operator, AUDIT_LOG, Operation::Read, Scope::Tenant)?,
        grant(&operator, AUDIT_HEAD, Operation::Read, Scope::Tenant)?,
    ]);
    for op in [
        Operation::Create,
        Operation::Read,
        Operation::Update,
        Operation::Delete,
    ] {
        changes.push(grant(&supervisor, "ticket", op, Scope::Tenant)?);
    }
    let mut policy = AccessPolicy::new(tenant);
    for change in changes {
        policy.apply_unchecked(change)?;
    }
    Ok(policy)
}

/// `Ok` if the caller's roles grant `op` on `resource` (403 naming why not).
pub(crate) fn require(
    app: &App,
    ctx: &TenantContext,
    resource: &str,
    op: Operation,
) -> Result<(), ApiError> {
    let decision = app
        .policies
        .get(&ctx.tenant())
        .map(|p| p.decide_unowned(ctx, resource, op));
    match decision {
        Some(d) if d.allowed => Ok(()),
        Some(d) => Err(forbidden(format!(
            "{} {resource}: {}",
            op.as_str(),
            d.reason
        ))),
        None => Err(forbidden("this tenant has no access policy here")),
    }
}

/// `GET /me`: who the token says the caller is, and what they get of a
/// ticket they own and of one they do not.
pub(crate) async fn me(
    State(app): State<Arc<App>>,
    identity: Identity,
) -> Result<Json<Value>, ApiError> {
    let ctx = identity.context();
    let policy = app
        .policies
        .get(&ctx.tenant())
        .ok_or_else(|| forbidden("this tenant has no access policy here"))?;
    let view = |owner| {
        let meta = Ownership {
            tenant: ctx.tenant(),
            owner,
            team: None,
        };
        let may: Vec<&str> = Operation::ALL
            .iter()
            .filter(|op| policy.decide(ctx, "ticket", **op, &meta).allowed)
            .map(|op| op.as_str())
            .collect();
        let fields: serde_json::Map<String, Value> =
            [("subject_line", DataCategory::USER_CONTENT_TICKET)]
                .into_iter()
                .chain(SEALED)
                .map(|(name, category)| {
                    let access = policy.field_access(ctx, "ticket", &meta, &category).access;
                    (name.to_owned(), access.to_string().into())
                })
                .collect();
        json!({ "may": may, "fields": fields })
    };
    let tenant_key = app
        .tenants
        .iter()
        .find(|(_, id)| *id == ctx.tenant())
        .map(|(key, _)| key.as_str());
    Ok(Json(json!({
        "tenant": ctx.tenant(),
        "billing_account": tenant_key,
        "actor": ctx.actor(),
        "kind": identity.kind().as_str(),
        "roles": ctx.roles().iter().map(RoleName::as_str).collect::<Vec<_>>(),
        "region": ctx.region().to_string(),
        "own_ticket": view(Some(ctx.actor())),
        "others_ticket": view(None),
    })))
}

/// `GET /roles`: the tenant's roles, their permissions and field rules.
pub(crate) async fn roles(
    State(app): State<Arc<App>>,
    Tenant(ctx): Tenant,
) -> Result<Json<Value>, ApiError> {
    let policy = app
        .policies
        .get(&ctx.tenant())
        .ok_or_else(|| forbidden("this tenant has no access policy here"))?;
    Ok(Json(serde_json::to_value(policy.roles())?))
}

/// `GET /agents`: the agents owning the tenant's tickets, with counts.
pub(crate) async fn agents(mut tx: Tx) -> Result<Json<Vec<Value>>, ApiError> {
    let rows = query::<Postgres>(
        "SELECT owner, count(*), count(*) FILTER (WHERE status = 'open') \
         FROM tickets GROUP BY owner ORDER BY owner",
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut agents = Vec::new();
    for row in &rows {
        let (owner, tickets, open): (String, i64, i64) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        agents.push(json!({ "agent": owner, "tickets": tickets, "open": open }));
    }
    Ok(Json(agents))
}
