//! Role-based access control with sharing scopes and field-level permissions.
//!
//! An [`AccessPolicy`] belongs to exactly one tenant. It maps each
//! [`RoleName`] to a [`RoleDef`]: [`Permission`]s (a resource, an [`Operation`],
//! and a sharing [`Scope`]: the actor's own records, their teams' records, or
//! the whole tenant) and [`FieldRule`]s (a [`DataCategory`] and a
//! [`FieldAccess`] level: hidden, masked, read, write).
//!
//! Evaluation rules, in order:
//!
//! 1. **Tenant first.** A record of another tenant, or a context of another
//!    tenant than the policy's, is denied before any grant is looked at. No
//!    grant can name another tenant: roles have no tenant field, and a policy
//!    refuses changes from administrators of other tenants
//!    ([`Error::CrossTenantGrant`]).
//! 2. **Deny by default.** Without a permission for the resource and action, the
//!    answer is no.
//! 3. **Scope.** A permission applies to a record when its scope covers it:
//!    `Own` when the actor owns the record, `Team` when the record's team is one
//!    of the actor's (or the actor owns it), `Tenant` always.
//! 4. **Fields.** Within one role, the most specific rule whose category
//!    contains the field's category applies (`user.contact: read` and
//!    `user.contact.email: masked` give masked email and readable phone);
//!    across the actor's roles the most permissive applies; with no rule the
//!    field is hidden. A role's field rules count only on records that role
//!    itself may read, and its `write` only where it may also update the
//!    record (elsewhere it gives `read`): combining roles never unmasks or
//!    opens for writing a field on a record no single role would.
//!
//! Every answer is an [`AccessDecision`] (or [`FieldDecision`]) that names the grant
//! that allowed it or the rule that denied it, for the audit log.

use std::collections::BTreeMap;
use std::fmt;

use custodia_core::{ActorId, DataCategory, TenantId};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::context::{RoleName, TeamId, TenantContext, TenantOwned, check_slug};

/// What an actor does to a resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// See the record.
    Read,
    /// Create a record.
    Create,
    /// Change the record.
    Update,
    /// Delete the record.
    Delete,
    /// Export the record out of the helpdesk (download, API bulk export).
    Export,
    /// Administer: change the tenant's access policy (on resource
    /// [`ADMIN_RESOURCE`]).
    Administer,
}

impl Operation {
    /// Every action.
    pub const ALL: [Operation; 6] = [
        Operation::Read,
        Operation::Create,
        Operation::Update,
        Operation::Delete,
        Operation::Export,
        Operation::Administer,
    ];

    /// The snake_case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Operation::Read => "read",
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Delete => "delete",
            Operation::Export => "export",
            Operation::Administer => "administer",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The resource name whose [`Operation::Administer`] permission lets an actor
/// change their tenant's access policy.
pub const ADMIN_RESOURCE: &str = "access_policy";

/// Which records of a resource a permission covers. Ordered: `Own < Team < Tenant`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Records the actor owns (their own tickets).
    Own,
    /// Records of the actor's teams, and their own.
    Team,
    /// Every record of the tenant.
    Tenant,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Scope::Own => "own",
            Scope::Team => "team",
            Scope::Tenant => "tenant",
        })
    }
}

/// How much of a field an actor gets. Ordered: `Hidden < Masked < Read < Write`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldAccess {
    /// The field is left out entirely.
    Hidden,
    /// The field is shown masked (see `custodia-mask`), never in clear.
    Masked,
    /// The field is shown in clear.
    Read,
    /// The field is shown and may be changed.
    Write,
}

impl FieldAccess {
    /// Whether the clear value may be shown.
    pub fn can_read(self) -> bool {
        self >= FieldAccess::Read
    }

    /// Whether the value may be changed.
    pub fn can_write(self) -> bool {
        self == FieldAccess::Write
    }
}

impl fmt::Display for FieldAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            FieldAccess::Hidden => "hidden",
            FieldAccess::Masked => "masked",
            FieldAccess::Read => "read",
            FieldAccess::Write => "write",
        })
    }
}

/// A permission: `action` on `resource` records within `scope`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Permission {
    /// The resource (record type): `ticket`, `contact`, `attachment`.
    pub resource: String,
    /// The action.
    pub action: Operation,
    /// Which records.
    pub scope: Scope,
}

impl Permission {
    /// A permission, validating the resource name (a slug).
    pub fn new(resource: &str, action: Operation, scope: Scope) -> Result<Self, Error> {
        check_slug("resource name", resource)?;
        Ok(Self {
            resource: resource.to_owned(),
            action,
            scope,
        })
    }

    /// The permission to change the tenant's access policy.
    pub fn administer() -> Self {
        Self {
            resource: ADMIN_RESOURCE.to_owned(),
            action: Operation::Administer,
            scope: Scope::Tenant,
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} ({} scope)",
            self.action, self.resource, self.scope
        )
    }
}

/// A field rule: fields of `category` (and every category within it) get `access`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FieldRule {
    /// The category the rule covers, with its sub-categories.
    pub category: DataCategory,
    /// The access it gives.
    pub access: FieldAccess,
}

/// What a role may do.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleDef {
    /// Permissions on resources.
    pub permissions: Vec<Permission>,
    /// Field rules.
    pub fields: Vec<FieldRule>,
}

/// The facts about a record that access decisions need.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ownership {
    /// The record's tenant.
    pub tenant: TenantId,
    /// Who owns it (the requester or assignee of a ticket), if anyone.
    pub owner: Option<ActorId>,
    /// The team (queue) it belongs to, if any.
    pub team: Option<TeamId>,
}

impl TenantOwned for Ownership {
    fn tenant(&self) -> TenantId {
        self.tenant
    }
}

/// Why a decision came out as it did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccessReason {
    /// Allowed by this role's permission.
    Granted {
        /// The role.
        role: RoleName,
        /// Its permission.
        permission: Permission,
    },
    /// Denied: the record belongs to another tenant.
    CrossTenantRecord {
        /// The acting tenant.
        context: TenantId,
        /// The record's tenant.
        record: TenantId,
    },
    /// Denied: the policy consulted is another tenant's.
    ForeignPolicy {
        /// The acting tenant.
        context: TenantId,
        /// The policy's tenant.
        policy: TenantId,
    },
    /// Denied by default: no role of the actor grants this action on this resource.
    NoGrant {
        /// The resource.
        resource: String,
        /// The action.
        action: Operation,
    },
    /// Denied: a grant exists, but its scope does not reach this record.
    OutOfScope {
        /// The widest scope the actor's grants give.
        widest: Scope,
        /// The scope this record needs.
        needed: Scope,
    },
}

impl fmt::Display for AccessReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccessReason::Granted { role, permission } => {
                write!(f, "granted by role {role}: {permission}")
            }
            AccessReason::CrossTenantRecord { context, record } => write!(
                f,
                "denied: the record belongs to tenant {record}, the actor to tenant {context}"
            ),
            AccessReason::ForeignPolicy { context, policy } => write!(
                f,
                "denied: the access policy of tenant {policy} does not apply to tenant {context}"
            ),
            AccessReason::NoGrant { resource, action } => write!(
                f,
                "denied by default: no role of the actor grants {action} on {resource}"
            ),
            AccessReason::OutOfScope { widest, needed } => write!(
                f,
                "denied: the actor's grants reach {widest} scope, this record needs {needed} scope"
            ),
        }
    }
}

/// An access decision with its explanation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessDecision {
    /// Whether the action is allowed.
    pub allowed: bool,
    /// Which grant allowed it or which rule denied it.
    pub reason: AccessReason,
}

impl AccessDecision {
    fn deny(reason: AccessReason) -> Self {
        Self {
            allowed: false,
            reason,
        }
    }

    /// `Ok(reason)` when allowed, else [`Error::Denied`] with the explanation.
    pub fn require(self) -> Result<AccessReason, Error> {
        if self.allowed {
            Ok(self.reason)
        } else {
            Err(Error::Denied {
                reason: self.reason.to_string(),
            })
        }
    }
}

impl fmt::Display for AccessDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.reason, f)
    }
}

/// A field decision: the access level and the rule that set it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldDecision {
    /// The access the actor gets.
    pub access: FieldAccess,
    /// The role and rule that gave it; `None` when hidden by default (no rule,
    /// or the record itself is not readable).
    pub rule: Option<(RoleName, FieldRule)>,
    /// When the record itself is not readable, why.
    pub record_denied: Option<AccessReason>,
}

impl fmt::Display for FieldDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.record_denied, &self.rule) {
            (Some(reason), _) => write!(f, "hidden: the record is not readable ({reason})"),
            (None, Some((role, rule))) => {
                write!(
                    f,
                    "{} by role {role}'s rule on {}",
                    self.access, rule.category
                )?;
                if self.access != rule.access {
                    write!(
                        f,
                        " ({}, but the role may not update this record)",
                        rule.access
                    )?;
                }
                Ok(())
            }
            (None, None) => f.write_str("hidden by default: no field rule covers this category"),
        }
    }
}

/// A change to an access policy, applied by a tenant administrator.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyChange {
    /// Define a role (with nothing granted) if it does not exist.
    DefineRole(RoleName),
    /// Grant a permission to a role.
    Grant(RoleName, Permission),
    /// Revoke a permission from a role.
    Revoke(RoleName, Permission),
    /// Set a field rule on a role (replacing one for the same category).
    SetField(RoleName, FieldRule),
}

/// One tenant's access policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessPolicy {
    tenant: TenantId,
    roles: BTreeMap<RoleName, RoleDef>,
}

impl AccessPolicy {
    /// An empty policy for `tenant`: every decision is a denial.
    pub fn new(tenant: TenantId) -> Self {
        Self {
            tenant,
            roles: BTreeMap::new(),
        }
    }

    /// A policy for `tenant` whose role `admin` may administer it (the
    /// bootstrap a provisioning step performs).
    pub fn with_admin(tenant: TenantId, admin: RoleName) -> Self {
        let mut policy = Self::new(tenant);
        policy.roles.insert(
            admin,
            RoleDef {
                permissions: vec![Permission::administer()],
                fields: Vec::new(),
            },
        );
        policy
    }

    /// The tenant this policy belongs to.
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// The roles and what they grant.
    pub fn roles(&self) -> &BTreeMap<RoleName, RoleDef> {
        &self.roles
    }

    /// Applies a change on behalf of `admin`, who must be of this policy's
    /// tenant ([`Error::CrossTenantGrant`] otherwise) and hold the
    /// [`Permission::administer`] permission here ([`Error::NotAnAdministrator`]).
    pub fn apply(&mut self, admin: &TenantContext, change: PolicyChange) -> Result<(), Error> {
        if admin.tenant() != self.tenant {
            return Err(Error::CrossTenantGrant {
                admin_tenant: admin.tenant(),
                policy_tenant: self.tenant,
            });
        }
        let decision = self.decide_unowned(admin, ADMIN_RESOURCE, Operation::Administer);
        if !decision.allowed {
            return Err(Error::NotAnAdministrator {
                tenant: admin.tenant(),
                actor: admin.actor(),
                reason: decision.reason.to_string(),
            });
        }
        self.apply_unchecked(change)
    }

    /// Applies a change without an administrator: for provisioning code and
    /// configuration loading, which run outside any actor's context.
    pub fn apply_unchecked(&mut self, change: PolicyChange) -> Result<(), Error> {
        let tenant = self.tenant;
        fn role_mut<'a>(
            roles: &'a mut BTreeMap<RoleName, RoleDef>,
            role: &RoleName,
            tenant: TenantId,
        ) -> Result<&'a mut RoleDef, Error> {
            roles.get_mut(role).ok_or_else(|| Error::UnknownRole {
                tenant,
                role: role.to_string(),
            })
        }
        match change {
            PolicyChange::DefineRole(role) => {
                self.roles.entry(role).or_default();
            }
            PolicyChange::Grant(role, permission) => {
                let def = role_mut(&mut self.roles, &role, tenant)?;
                if !def.permissions.contains(&permission) {
                    def.permissions.push(permission);
                }
            }
            PolicyChange::Revoke(role, permission) => {
                role_mut(&mut self.roles, &role, tenant)?
                    .permissions
                    .retain(|p| *p != permission);
            }
            PolicyChange::SetField(role, rule) => {
                let def = role_mut(&mut self.roles, &role, tenant)?;
                def.fields.retain(|r| r.category != rule.category);
                def.fields.push(rule);
            }
        }
        Ok(())
    }

    /// Decides whether `ctx` may perform `action` on a `resource` record
    /// described by `record`.
    pub fn decide(
        &self,
        ctx: &TenantContext,
        resource: &str,
        action: Operation,
        record: &Ownership,
    ) -> AccessDecision {
        Self::decision(
            self.grant(ctx, resource, action, Some(record)),
            resource,
            action,
        )
    }

    /// [`decide`](Self::decide)'s verdict alone: the same rules, without
    /// copying out the grant or the reason (nothing is allocated).
    pub fn allows(
        &self,
        ctx: &TenantContext,
        resource: &str,
        action: Operation,
        record: &Ownership,
    ) -> bool {
        self.grant(ctx, resource, action, Some(record)).is_ok()
    }

    /// Decides an action that concerns no particular record (create a ticket,
    /// administer the policy): any scope suffices.
    pub fn decide_unowned(
        &self,
        ctx: &TenantContext,
        resource: &str,
        action: Operation,
    ) -> AccessDecision {
        Self::decision(self.grant(ctx, resource, action, None), resource, action)
    }

    /// The explained decision for what [`grant`](Self::grant) found.
    fn decision(
        found: Result<(&RoleName, &Permission), Option<AccessReason>>,
        resource: &str,
        action: Operation,
    ) -> AccessDecision {
        match found {
            Ok((role, permission)) => AccessDecision {
                allowed: true,
                reason: AccessReason::Granted {
                    role: role.clone(),
                    permission: permission.clone(),
                },
            },
            Err(Some(reason)) => AccessDecision::deny(reason),
            Err(None) => AccessDecision::deny(AccessReason::NoGrant {
                resource: resource.to_owned(),
                action,
            }),
        }
    }

    /// The first role and permission (in role order) that allow `action` on
    /// `record` (`None`: a record-less action, any scope suffices), or why
    /// not: `Err(None)` when no role grants the action at all.
    fn grant<'p>(
        &'p self,
        ctx: &TenantContext,
        resource: &str,
        action: Operation,
        record: Option<&Ownership>,
    ) -> Result<(&'p RoleName, &'p Permission), Option<AccessReason>> {
        if ctx.tenant() != self.tenant {
            return Err(Some(AccessReason::ForeignPolicy {
                context: ctx.tenant(),
                policy: self.tenant,
            }));
        }
        let needed = match record {
            None => Scope::Own,
            Some(record) if record.tenant != ctx.tenant() => {
                return Err(Some(AccessReason::CrossTenantRecord {
                    context: ctx.tenant(),
                    record: record.tenant,
                }));
            }
            Some(record) => Self::needed_scope(ctx, record),
        };
        let mut widest: Option<Scope> = None;
        for role in ctx.roles() {
            // The policy's copy of the name: what the answer borrows.
            let Some((role, def)) = self.roles.get_key_value(role) else {
                continue;
            };
            for permission in &def.permissions {
                if permission.action != action || permission.resource != resource {
                    continue;
                }
                if permission.scope >= needed {
                    return Ok((role, permission));
                }
                widest = widest.max(Some(permission.scope));
            }
        }
        Err(widest.map(|widest| AccessReason::OutOfScope { widest, needed }))
    }

    /// The narrowest scope that reaches `record` (of `ctx`'s tenant) for `ctx`.
    fn needed_scope(ctx: &TenantContext, record: &Ownership) -> Scope {
        if record.owner == Some(ctx.actor()) {
            Scope::Own
        } else if record
            .team
            .as_ref()
            .is_some_and(|t| ctx.teams().contains(t))
        {
            Scope::Team
        } else {
            Scope::Tenant
        }
    }

    /// Whether `def` itself grants `action` on `resource` at `needed` scope.
    fn role_reaches(def: &RoleDef, resource: &str, action: Operation, needed: Scope) -> bool {
        def.permissions
            .iter()
            .any(|p| p.action == action && p.resource == resource && p.scope >= needed)
    }

    /// The access `ctx` gets to a field of `category` in a `resource` record.
    ///
    /// Hidden unless the record is readable; then the most permissive of the
    /// actor's roles that may read this record themselves, each contributing
    /// its most specific matching rule, and `Write` only from a role that
    /// may also update it (`Read` from one that may not). A role's field
    /// rules therefore never reach records its own grants do not: a role
    /// for one's own tickets does not unmask fields on every ticket another
    /// role lets the actor read.
    pub fn field_access(
        &self,
        ctx: &TenantContext,
        resource: &str,
        record: &Ownership,
        category: &DataCategory,
    ) -> FieldDecision {
        match self.field_rule(ctx, resource, record, category) {
            Err(read) => FieldDecision {
                access: FieldAccess::Hidden,
                rule: None,
                record_denied: Some(Self::decision(Err(read), resource, Operation::Read).reason),
            },
            Ok(best) => FieldDecision {
                access: best.map_or(FieldAccess::Hidden, |(_, _, access)| access),
                rule: best.map(|(role, rule, _)| (role.clone(), rule.clone())),
                record_denied: None,
            },
        }
    }

    /// [`field_access`](Self::field_access)'s level alone: the same rules,
    /// without copying out the rule or the reason (nothing is allocated).
    pub fn field_level(
        &self,
        ctx: &TenantContext,
        resource: &str,
        record: &Ownership,
        category: &DataCategory,
    ) -> FieldAccess {
        match self.field_rule(ctx, resource, record, category) {
            Ok(Some((_, _, access))) => access,
            Ok(None) | Err(_) => FieldAccess::Hidden,
        }
    }

    /// The role and rule that set a field's access and that access (`None`:
    /// no rule), or why the record itself is not readable (as
    /// [`grant`](Self::grant)).
    fn field_rule<'p>(
        &'p self,
        ctx: &TenantContext,
        resource: &str,
        record: &Ownership,
        category: &DataCategory,
    ) -> Result<Option<(&'p RoleName, &'p FieldRule, FieldAccess)>, Option<AccessReason>> {
        self.grant(ctx, resource, Operation::Read, Some(record))?;
        let needed = Self::needed_scope(ctx, record);
        let mut best: Option<(&RoleName, &FieldRule, FieldAccess)> = None;
        for role in ctx.roles() {
            let Some((role, def)) = self.roles.get_key_value(role) else {
                continue;
            };
            // Only a role that reaches this record itself says what of it is shown.
            if !Self::role_reaches(def, resource, Operation::Read, needed) {
                continue;
            }
            let specific = def
                .fields
                .iter()
                .filter(|rule| category.is_within(&rule.category))
                .max_by_key(|rule| rule.category.depth());
            let Some(rule) = specific else { continue };
            let access = if rule.access == FieldAccess::Write
                && !Self::role_reaches(def, resource, Operation::Update, needed)
            {
                FieldAccess::Read
            } else {
                rule.access
            };
            if best.is_none_or(|(_, _, b)| access > b) {
                best = Some((role, rule, access));
            }
        }
        Ok(best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use custodia_core::Region;

    fn role(name: &str) -> RoleName {
        RoleName::new(name).unwrap()
    }

    struct Fixture {
        tenant: TenantId,
        policy: AccessPolicy,
        admin: TenantContext,
    }

    fn fixture() -> Fixture {
        let tenant = TenantId::from_external_key("t", "acme");
        let mut policy = AccessPolicy::with_admin(tenant, role("admin"));
        let admin =
            TenantContext::new(tenant, ActorId::random(), Region::EU).with_role(role("admin"));
        for change in [
            PolicyChange::DefineRole(role("agent")),
            PolicyChange::Grant(
                role("agent"),
                Permission::new("ticket", Operation::Read, Scope::Team).unwrap(),
            ),
            PolicyChange::Grant(
                role("agent"),
                Permission::new("ticket", Operation::Update, Scope::Own).unwrap(),
            ),
            PolicyChange::SetField(
                role("agent"),
                FieldRule {
                    category: DataCategory::USER_CONTACT,
                    access: FieldAccess::Read,
                },
            ),
            PolicyChange::SetField(
                role("agent"),
                FieldRule {
                    category: DataCategory::USER_CONTACT_EMAIL,
                    access: FieldAccess::Masked,
                },
            ),
            PolicyChange::DefineRole(role("supervisor")),
            PolicyChange::Grant(
                role("supervisor"),
                Permission::new("ticket", Operation::Read, Scope::Tenant).unwrap(),
            ),
            PolicyChange::SetField(
                role("supervisor"),
                FieldRule {
                    category: DataCategory::USER,
                    access: FieldAccess::Write,
                },
            ),
        ] {
            policy.apply(&admin, change).unwrap();
        }
        Fixture {
            tenant,
            policy,
            admin,
        }
    }

    #[test]
    fn scopes_own_team_tenant() {
        let f = fixture();
        let me = ActorId::random();
        let agent = TenantContext::new(f.tenant, me, Region::EU)
            .with_role(role("agent"))
            .with_team(TeamId::new("tier-1").unwrap());
        let mine = Ownership {
            tenant: f.tenant,
            owner: Some(me),
            team: None,
        };
        let teams = Ownership {
            tenant: f.tenant,
            owner: None,
            team: Some(TeamId::new("tier-1").unwrap()),
        };
        let other = Ownership {
            tenant: f.tenant,
            owner: Some(ActorId::random()),
            team: Some(TeamId::new("billing").unwrap()),
        };

        let d = f.policy.decide(&agent, "ticket", Operation::Read, &teams);
        assert!(d.allowed);
        assert_eq!(
            d.to_string(),
            "granted by role agent: read ticket (team scope)"
        );
        assert!(
            f.policy
                .decide(&agent, "ticket", Operation::Update, &mine)
                .allowed
        );
        let d = f.policy.decide(&agent, "ticket", Operation::Update, &teams);
        assert_eq!(
            d.reason,
            AccessReason::OutOfScope {
                widest: Scope::Own,
                needed: Scope::Team
            }
        );
        let d = f.policy.decide(&agent, "ticket", Operation::Read, &other);
        assert!(!d.allowed);
        let d = f.policy.decide(&agent, "ticket", Operation::Delete, &mine);
        assert_eq!(
            d.reason,
            AccessReason::NoGrant {
                resource: "ticket".into(),
                action: Operation::Delete
            }
        );
        assert!(
            d.clone()
                .require()
                .unwrap_err()
                .to_string()
                .contains("denied by default")
        );
        let nobody = TenantContext::new(f.tenant, me, Region::EU);
        assert!(
            !f.policy
                .decide(&nobody, "ticket", Operation::Read, &mine)
                .allowed
        );
    }

    #[test]
    fn field_rules_most_specific_within_a_role_most_permissive_across() {
        let f = fixture();
        let me = ActorId::random();
        let agent = TenantContext::new(f.tenant, me, Region::EU).with_role(role("agent"));
        let mine = Ownership {
            tenant: f.tenant,
            owner: Some(me),
            team: None,
        };
        let email =
            f.policy
                .field_access(&agent, "ticket", &mine, &DataCategory::USER_CONTACT_EMAIL);
        assert_eq!(email.access, FieldAccess::Masked);
        let phone =
            f.policy
                .field_access(&agent, "ticket", &mine, &DataCategory::USER_CONTACT_PHONE);
        assert_eq!(phone.access, FieldAccess::Read);
        assert_eq!(
            phone.to_string(),
            "read by role agent's rule on user.contact"
        );
        let street = f.policy.field_access(
            &agent,
            "ticket",
            &mine,
            &DataCategory::USER_CONTACT_ADDRESS_STREET,
        );
        assert_eq!(street.access, FieldAccess::Read);
        let health = f
            .policy
            .field_access(&agent, "ticket", &mine, &DataCategory::USER_HEALTH);
        assert_eq!(health.access, FieldAccess::Hidden);
        assert!(health.to_string().starts_with("hidden by default"));

        let both = agent.clone().with_role(role("supervisor"));
        let email =
            f.policy
                .field_access(&both, "ticket", &mine, &DataCategory::USER_CONTACT_EMAIL);
        // The supervisor's `write` on `user`, from a role that may read but
        // not update tickets: read.
        assert_eq!(email.access, FieldAccess::Read);
        assert_eq!(
            email.to_string(),
            "read by role supervisor's rule on user (write, but the role may not update this record)"
        );
        assert_eq!(email.rule.unwrap().0, role("supervisor"));

        // An unreadable record hides every field, whatever the field rules say.
        let others = Ownership {
            tenant: f.tenant,
            owner: Some(ActorId::random()),
            team: None,
        };
        let hidden =
            f.policy
                .field_access(&agent, "ticket", &others, &DataCategory::USER_CONTACT_PHONE);
        assert_eq!(hidden.access, FieldAccess::Hidden);
        assert!(hidden.record_denied.is_some());
    }

    /// Found in review: field rules counted from every role the actor holds,
    /// also from a role that cannot read the record at all. A "requester"
    /// role meant for the actor's own tickets (email in clear) lifted the
    /// agent role's masking on every ticket of the tenant; and `Write` was
    /// given on records no role of the actor may update.
    #[test]
    fn a_roles_field_rules_reach_only_records_that_role_may_read_and_write() {
        let tenant = TenantId::from_external_key("t", "acme");
        let mut policy = AccessPolicy::new(tenant);
        let (agent, requester) = (role("agent"), role("requester"));
        let email = DataCategory::USER_CONTACT_EMAIL;
        for change in [
            PolicyChange::DefineRole(agent.clone()),
            PolicyChange::Grant(
                agent.clone(),
                Permission::new("ticket", Operation::Read, Scope::Tenant).unwrap(),
            ),
            PolicyChange::SetField(
                agent.clone(),
                FieldRule {
                    category: DataCategory::USER,
                    access: FieldAccess::Write,
                },
            ),
            PolicyChange::SetField(
                agent.clone(),
                FieldRule {
                    category: email.clone(),
                    access: FieldAccess::Masked,
                },
            ),
            PolicyChange::DefineRole(requester.clone()),
            PolicyChange::Grant(
                requester.clone(),
                Permission::new("ticket", Operation::Read, Scope::Own).unwrap(),
            ),
            PolicyChange::Grant(
                requester.clone(),
                Permission::new("ticket", Operation::Update, Scope::Own).unwrap(),
            ),
            PolicyChange::SetField(
                requester.clone(),
                FieldRule {
                    category: email.clone(),
                    access: FieldAccess::Write,
                },
            ),
        ] {
            policy.apply_unchecked(change).unwrap();
        }
        let me = ActorId::random();
        let ctx = TenantContext::new(tenant, me, Region::EU)
            .with_role(agent.clone())
            .with_role(requester.clone());
        let mine = Ownership {
            tenant,
            owner: Some(me),
            team: None,
        };
        let theirs = Ownership {
            tenant,
            owner: Some(ActorId::random()),
            team: None,
        };
        // Someone else's ticket: only the agent role reads it, so its masking holds...
        let field = policy.field_access(&ctx, "ticket", &theirs, &email);
        assert_eq!(field.access, FieldAccess::Masked, "{field}");
        assert_eq!(
            policy.field_level(&ctx, "ticket", &theirs, &email),
            FieldAccess::Masked
        );
        // ...and no role may update it, so nothing on it is writable.
        let name = policy.field_access(&ctx, "ticket", &theirs, &DataCategory::USER_NAME);
        assert_eq!(name.access, FieldAccess::Read, "{name}");
        // The actor's own ticket: the requester role reads and updates it.
        let field = policy.field_access(&ctx, "ticket", &mine, &email);
        assert_eq!(field.access, FieldAccess::Write, "{field}");
        assert_eq!(field.rule.map(|(r, _)| r), Some(requester));
    }

    #[test]
    fn administrators_cannot_grant_across_tenants() {
        let mut f = fixture();
        let other = TenantId::from_external_key("t", "globex");
        let mut theirs = AccessPolicy::with_admin(other, role("admin"));
        theirs
            .apply_unchecked(PolicyChange::DefineRole(role("agent")))
            .unwrap();
        let err = theirs
            .apply(
                &f.admin,
                PolicyChange::Grant(
                    role("agent"),
                    Permission::new("ticket", Operation::Read, Scope::Tenant).unwrap(),
                ),
            )
            .unwrap_err();
        assert!(
            matches!(err, Error::CrossTenantGrant { admin_tenant, policy_tenant } if admin_tenant == f.tenant && policy_tenant == other)
        );
        assert!(theirs.roles()[&role("agent")].permissions.is_empty());

        // A non-admin of the right tenant cannot change the policy either.
        let agent =
            TenantContext::new(f.tenant, ActorId::random(), Region::EU).with_role(role("agent"));
        let err = f
            .policy
            .apply(&agent, PolicyChange::DefineRole(role("x")))
            .unwrap_err();
        assert!(matches!(err, Error::NotAnAdministrator { .. }), "{err}");
        let err = f
            .policy
            .apply(
                &f.admin,
                PolicyChange::Grant(role("ghost"), Permission::administer()),
            )
            .unwrap_err();
        assert!(matches!(err, Error::UnknownRole { .. }));
        f.policy
            .apply(
                &f.admin.clone(),
                PolicyChange::Revoke(
                    role("agent"),
                    Permission::new("ticket", Operation::Read, Scope::Team).unwrap(),
                ),
            )
            .unwrap();
        assert_eq!(f.policy.roles()[&role("agent")].permissions.len(), 1);
    }

    #[test]
    fn other_tenants_records_and_policies_are_denied_first() {
        let f = fixture();
        let other = TenantId::from_external_key("t", "globex");
        let me = ActorId::random();
        let sup = TenantContext::new(f.tenant, me, Region::EU).with_role(role("supervisor"));
        let foreign = Ownership {
            tenant: other,
            owner: Some(me),
            team: None,
        };
        let d = f.policy.decide(&sup, "ticket", Operation::Read, &foreign);
        assert_eq!(
            d.reason,
            AccessReason::CrossTenantRecord {
                context: f.tenant,
                record: other
            }
        );
        let outsider = TenantContext::new(other, me, Region::EU).with_role(role("supervisor"));
        let d = f
            .policy
            .decide(&outsider, "ticket", Operation::Read, &foreign);
        assert_eq!(
            d.reason,
            AccessReason::ForeignPolicy {
                context: other,
                policy: f.tenant
            }
        );
    }
}
