//! Who is acting, and the guards that keep them inside their tenant.
//!
//! A [`TenantContext`] is built once per request (after authentication) and
//! passed *explicitly* to everything that touches tenant data: no thread-local,
//! no task-local, nothing a spawned task can silently lose or inherit stale.
//!
//! Values proven to belong to the context's tenant are [`Scoped<T>`]: the only
//! ways to get one are [`TenantContext::admit`] (which checks a
//! [`TenantOwned`] value's tenant) and [`TenantContext::scope`] (for values the
//! tenant creates). The guard's refusal is [`Error::CrossTenant`], carrying
//! both tenants and the record's kind, never its content.
//!
//! Helpers for the usual leaks:
//!
//! * [`CacheKey`]: a cache key that always starts with the tenant
//!   (`t/<tenant>/<namespace>/<key>`), checked again when read back;
//! * [`TenantJob`]: a background job that carries its tenant context with it,
//!   so the worker never runs it under a stale or missing tenant;
//! * [`TenantContext::resolve`]: an id from a URL, parsed, looked up and checked
//!   against the context (insecure direct object references, IDOR).

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use custodia_core::{ActorId, Region, TenantId};
use serde::{Deserialize, Serialize};

use crate::Error;
use custodia_core::echo;

/// The longest role, team, resource or namespace name, in bytes.
pub const MAX_NAME: usize = 64;

/// Checks a lower-case slug: `[a-z][a-z0-9_.-]*`, at most [`MAX_NAME`] bytes.
pub(crate) fn check_slug(what: &'static str, input: &str) -> Result<(), Error> {
    let fail = |reason| Error::InvalidName {
        what,
        input: echo(input),
        reason,
    };
    let mut bytes = input.bytes();
    match bytes.next() {
        None => return Err(fail("must not be empty")),
        Some(b'a'..=b'z') => {}
        Some(_) => return Err(fail("must start with a lower-case ASCII letter")),
    }
    if input.len() > MAX_NAME {
        return Err(fail("longer than 64 bytes"));
    }
    if !bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.')) {
        return Err(fail("only a-z, 0-9, '_', '-' and '.' are allowed"));
    }
    Ok(())
}

macro_rules! slug_type {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates `name`: `[a-z][a-z0-9_.-]*`, at most 64 bytes.
            pub fn new(name: impl Into<String>) -> Result<Self, Error> {
                let name = name.into();
                check_slug($what, &name)?;
                Ok(Self(name))
            }

            /// The name.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                Self::new(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = Error;
            fn try_from(s: String) -> Result<Self, Error> {
                Self::new(s)
            }
        }

        impl From<$name> for String {
            fn from(name: $name) -> String {
                name.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }
    };
}

slug_type!(
    /// A role name within a tenant's access policy: `agent`, `supervisor`, `tenant-admin`.
    RoleName,
    "role name"
);
slug_type!(
    /// A team (queue, group) within a tenant, for the team sharing scope.
    TeamId,
    "team id"
);

/// Who is acting: tenant, actor, roles, teams and the tenant's home region.
///
/// Built by the host after authentication and passed explicitly. Serialisable
/// (feature-independent, serde) so a [`TenantJob`] can carry it through a queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantContext {
    tenant: TenantId,
    actor: ActorId,
    roles: BTreeSet<RoleName>,
    #[serde(default)]
    teams: BTreeSet<TeamId>,
    region: Region,
}

impl TenantContext {
    /// A context for `actor` of `tenant`, whose data lives in `region`, with no
    /// roles (and therefore no access: deny by default).
    pub fn new(tenant: TenantId, actor: ActorId, region: Region) -> Self {
        Self {
            tenant,
            actor,
            roles: BTreeSet::new(),
            teams: BTreeSet::new(),
            region,
        }
    }

    /// Adds a role.
    #[must_use]
    pub fn with_role(mut self, role: RoleName) -> Self {
        self.roles.insert(role);
        self
    }

    /// Adds a team membership.
    #[must_use]
    pub fn with_team(mut self, team: TeamId) -> Self {
        self.teams.insert(team);
        self
    }

    /// The acting tenant.
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// The acting actor.
    pub fn actor(&self) -> ActorId {
        self.actor
    }

    /// The actor's roles in this tenant.
    pub fn roles(&self) -> &BTreeSet<RoleName> {
        &self.roles
    }

    /// The actor's teams in this tenant.
    pub fn teams(&self) -> &BTreeSet<TeamId> {
        &self.teams
    }

    /// The tenant's home region.
    pub fn region(&self) -> Region {
        self.region
    }

    /// The guard: `Ok` when `found` is this context's tenant, otherwise
    /// [`Error::CrossTenant`] naming both tenants and `kind`.
    #[inline]
    pub fn check_tenant(&self, found: TenantId, kind: &'static str) -> Result<(), Error> {
        if found == self.tenant {
            Ok(())
        } else {
            Err(Error::CrossTenant {
                context: self.tenant,
                found,
                kind,
            })
        }
    }

    /// The guard on a record: `Ok` when `value` belongs to this tenant.
    #[inline]
    pub fn guard<T: TenantOwned + ?Sized>(&self, value: &T) -> Result<(), Error> {
        self.check_tenant(value.tenant(), T::KIND)
    }

    /// Admits `value` into this tenant's scope after checking its tenant.
    pub fn admit<T: TenantOwned>(&self, value: T) -> Result<Scoped<T>, Error> {
        self.guard(&value)?;
        Ok(Scoped {
            tenant: self.tenant,
            value,
        })
    }

    /// Admits every value, or refuses the whole batch at the first foreign one.
    pub fn admit_all<T: TenantOwned>(
        &self,
        values: impl IntoIterator<Item = T>,
    ) -> Result<Vec<Scoped<T>>, Error> {
        values.into_iter().map(|v| self.admit(v)).collect()
    }

    /// Scopes a value this tenant creates (a new ticket, a computed report):
    /// it belongs to the context's tenant by construction.
    pub fn scope<T>(&self, value: T) -> Scoped<T> {
        Scoped {
            tenant: self.tenant,
            value,
        }
    }

    /// Resolves an id taken from a URL or request body (the IDOR check).
    ///
    /// Parses `raw` as an `I`, calls `lookup` with it and admits the result.
    /// A malformed id is [`Error::InvalidRequestId`], a missing record
    /// [`Error::NotFound`], another tenant's record [`Error::CrossTenant`].
    /// Answer the client with 404 for the last two alike.
    ///
    /// ```
    /// use custodia_core::{ActorId, Region, TenantId};
    /// use custodia_tenant::{Error, TenantContext, TenantOwned};
    ///
    /// struct Ticket { tenant: TenantId, id: u64 }
    /// impl TenantOwned for Ticket {
    ///     const KIND: &'static str = "ticket";
    ///     fn tenant(&self) -> TenantId { self.tenant }
    /// }
    ///
    /// let acme = TenantId::from_external_key("crm", "acme");
    /// let globex = TenantId::from_external_key("crm", "globex");
    /// let db = [Ticket { tenant: acme, id: 1 }, Ticket { tenant: globex, id: 2 }];
    /// let find = |id: u64| db.iter().find(|t| t.id == id);
    ///
    /// let ctx = TenantContext::new(acme, ActorId::random(), Region::EU);
    /// assert_eq!(ctx.resolve("1", find)?.id, 1);
    /// // GET /tickets/2 from an acme session: globex's ticket is refused.
    /// assert!(matches!(ctx.resolve("2", find), Err(Error::CrossTenant { .. })));
    /// assert!(matches!(ctx.resolve("3", find), Err(Error::NotFound { .. })));
    /// assert!(matches!(ctx.resolve("x", find), Err(Error::InvalidRequestId { .. })));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn resolve<I, T>(
        &self,
        raw: &str,
        lookup: impl FnOnce(I) -> Option<T>,
    ) -> Result<Scoped<T>, Error>
    where
        I: FromStr,
        T: TenantOwned,
    {
        let id = raw.parse::<I>().map_err(|_| Error::InvalidRequestId {
            kind: T::KIND,
            input: echo(raw),
        })?;
        let value = lookup(id).ok_or(Error::NotFound { kind: T::KIND })?;
        self.admit(value)
    }

    /// A cache key qualified by this tenant.
    pub fn cache_key(&self, namespace: &str, key: &str) -> Result<CacheKey, Error> {
        CacheKey::new(self.tenant, namespace, key)
    }

    /// Checks that a cache key read back (or received) belongs to this tenant.
    pub fn check_cache_key(&self, key: &CacheKey) -> Result<(), Error> {
        self.check_tenant(key.tenant, "cache key")
    }

    /// Wraps `payload` as a background job that carries this context.
    pub fn job<T>(&self, payload: T) -> TenantJob<T> {
        TenantJob {
            version: TenantJob::<T>::VERSION,
            context: self.clone(),
            payload,
        }
    }
}

/// A value that knows which tenant it belongs to: a ticket row, a contact, an
/// attachment.
pub trait TenantOwned {
    /// What the value is, for error messages and logs: `"ticket"`.
    const KIND: &'static str = "record";

    /// The tenant the value belongs to.
    fn tenant(&self) -> TenantId;
}

impl<T: TenantOwned + ?Sized> TenantOwned for &T {
    const KIND: &'static str = T::KIND;
    fn tenant(&self) -> TenantId {
        (**self).tenant()
    }
}

impl TenantOwned for TenantId {
    const KIND: &'static str = "tenant id";
    fn tenant(&self) -> TenantId {
        *self
    }
}

/// A value proven to belong to one tenant.
///
/// Obtained only from [`TenantContext::admit`], [`TenantContext::resolve`] or
/// [`TenantContext::scope`]. Functions that take a `Scoped<T>` therefore never
/// need to check the tenant again, but may re-check it against another context
/// with [`Scoped::check`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Scoped<T> {
    tenant: TenantId,
    value: T,
}

impl<T> Scoped<T> {
    /// The tenant the value belongs to.
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// The value.
    pub fn get(&self) -> &T {
        &self.value
    }

    /// The value, leaving the scope.
    pub fn into_inner(self) -> T {
        self.value
    }

    /// Transforms the value; the result stays in the same tenant.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Scoped<U> {
        Scoped {
            tenant: self.tenant,
            value: f(self.value),
        }
    }

    /// The value, if this scope is `ctx`'s tenant.
    pub fn check(&self, ctx: &TenantContext) -> Result<&T, Error> {
        ctx.check_tenant(self.tenant, "scoped value")?;
        Ok(&self.value)
    }
}

impl<T> std::ops::Deref for Scoped<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> TenantOwned for Scoped<T> {
    const KIND: &'static str = "scoped value";
    fn tenant(&self) -> TenantId {
        self.tenant
    }
}

/// A cache key qualified by its tenant: `t/<tenant uuid>/<namespace>/<key>`.
///
/// The tenant comes first so that a key can never be shared between tenants
/// (the classic leak: `ticket:42` cached for one tenant, served to another) and
/// so a whole tenant's entries can be evicted by prefix
/// ([`CacheKey::tenant_prefix`]). The namespace is a slug; the key is any text
/// (it comes last, so it needs no escaping). [`CacheKey::parse`] reads the
/// printed form back strictly.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CacheKey {
    tenant: TenantId,
    text: String,
}

impl CacheKey {
    /// The key `key` in `namespace` for `tenant`.
    pub fn new(tenant: TenantId, namespace: &str, key: &str) -> Result<Self, Error> {
        check_slug("cache namespace", namespace)?;
        let mut buf = custodia_core::uuid::Uuid::encode_buffer();
        let uuid = tenant.as_uuid().hyphenated().encode_lower(&mut buf);
        let mut text = String::with_capacity(4 + uuid.len() + namespace.len() + key.len());
        for part in ["t/", uuid, "/", namespace, "/", key] {
            text.push_str(part);
        }
        Ok(Self { tenant, text })
    }

    /// The prefix shared by every key of `tenant`, for eviction by prefix.
    pub fn tenant_prefix(tenant: TenantId) -> String {
        format!("t/{tenant}/")
    }

    /// Parses a printed key.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let fail = |reason| Error::MalformedCacheKey {
            input: echo(text),
            reason,
        };
        let rest = text
            .strip_prefix("t/")
            .ok_or_else(|| fail("does not start with \"t/\""))?;
        let (tenant, rest) = rest
            .split_once('/')
            .ok_or_else(|| fail("no '/' after the tenant"))?;
        let tenant: TenantId = tenant
            .parse()
            .map_err(|_| fail("the tenant is not a UUID"))?;
        let (namespace, key) = rest
            .split_once('/')
            .ok_or_else(|| fail("no '/' after the namespace"))?;
        check_slug("cache namespace", namespace)
            .map_err(|_| fail("the namespace is not a slug"))?;
        // Canonical form only: exactly what `new` prints.
        let key = CacheKey::new(tenant, namespace, key)?;
        if key.text != text {
            return Err(fail(
                "the tenant is not in canonical hyphenated lower-case form",
            ));
        }
        Ok(key)
    }

    /// The tenant the key belongs to.
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// The full key.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl TenantOwned for CacheKey {
    const KIND: &'static str = "cache key";
    fn tenant(&self) -> TenantId {
        self.tenant
    }
}

impl fmt::Display for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CacheKey({})", self.text)
    }
}

/// A background job that carries the context it was enqueued under.
///
/// `tokio::spawn` does not inherit task-locals and worker threads keep
/// whatever thread-local the previous job left, so a job must carry its tenant
/// as data. The worker gets the context back only together with the payload
/// ([`TenantJob::into_parts`]), and can refuse a job that does not belong to
/// the queue's tenant ([`TenantJob::check`]).
///
/// Serialised (serde) as `{"version":1,"context":{...},"payload":...}`; a job
/// of an unknown version is refused by [`TenantJob::from_json`]. The context is
/// plain data: the queue must be one only the backend writes to (or the job
/// must be authenticated, e.g. sealed with `custodia-crypt`), or anyone who can
/// enqueue can claim any tenant and role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantJob<T> {
    version: u32,
    context: TenantContext,
    payload: T,
}

impl<T> TenantJob<T> {
    /// The serialised format's version.
    pub const VERSION: u32 = 1;

    /// The context the job was enqueued under.
    pub fn context(&self) -> &TenantContext {
        &self.context
    }

    /// The job's payload.
    pub fn payload(&self) -> &T {
        &self.payload
    }

    /// The context and the payload, for running the job.
    pub fn into_parts(self) -> (TenantContext, T) {
        (self.context, self.payload)
    }

    /// Refuses the job unless it belongs to `tenant` (e.g. a per-tenant queue).
    pub fn check(&self, tenant: TenantId) -> Result<(), Error> {
        if self.context.tenant == tenant {
            Ok(())
        } else {
            Err(Error::CrossTenant {
                context: tenant,
                found: self.context.tenant,
                kind: "job",
            })
        }
    }
}

impl<T: serde::de::DeserializeOwned> TenantJob<T> {
    /// Decodes a job from JSON, refusing unknown versions.
    pub fn from_json(json: &[u8]) -> Result<Self, Error> {
        let job: Self = serde_json::from_slice(json)
            .map_err(|source| Error::json_decode("tenant job", source))?;
        if job.version != Self::VERSION {
            return Err(Error::InvalidData {
                what: "tenant job",
                location: Some("version".into()),
                reason: format!(
                    "unsupported version {}, expected {}",
                    job.version,
                    Self::VERSION
                ),
            });
        }
        Ok(job)
    }
}

impl<T: Serialize> TenantJob<T> {
    /// Encodes the job as JSON.
    pub fn to_json(&self) -> Result<Vec<u8>, Error> {
        serde_json::to_vec(self).map_err(|source| Error::Json {
            what: "tenant job",
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Ticket {
        tenant: TenantId,
        secret_text: &'static str,
    }
    impl TenantOwned for Ticket {
        const KIND: &'static str = "ticket";
        fn tenant(&self) -> TenantId {
            self.tenant
        }
    }

    fn ctx(t: TenantId) -> TenantContext {
        TenantContext::new(t, ActorId::from_external_key(t, "u", "1"), Region::EU)
    }

    #[test]
    fn guard_refuses_another_tenants_record_without_its_content() {
        let a = TenantId::from_external_key("t", "a");
        let b = TenantId::from_external_key("t", "b");
        let ticket = Ticket {
            tenant: b,
            secret_text: "the password is hunter2",
        };
        let err = ctx(a).admit(ticket).unwrap_err();
        match &err {
            Error::CrossTenant {
                context,
                found,
                kind,
            } => {
                assert_eq!((*context, *found, *kind), (a, b, "ticket"));
            }
            other => panic!("unexpected {other:?}"),
        }
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains(&a.to_string()) && shown.contains(&b.to_string()));
        let own = Ticket {
            tenant: a,
            secret_text: "fine",
        };
        let scoped = ctx(a).admit(own).unwrap();
        assert_eq!(scoped.tenant(), a);
        assert_eq!(scoped.secret_text, "fine");
        assert!(scoped.check(&ctx(b)).is_err());
        assert!(scoped.check(&ctx(a)).is_ok());
    }

    #[test]
    fn admit_all_refuses_a_batch_with_one_foreign_record() {
        let a = TenantId::from_external_key("t", "a");
        let b = TenantId::from_external_key("t", "b");
        let batch = [a, a, b, a];
        assert!(ctx(a).admit_all(batch).unwrap_err().is_cross_tenant());
        assert_eq!(ctx(a).admit_all([a, a]).unwrap().len(), 2);
    }

    #[test]
    fn cache_keys_round_trip_and_are_checked() {
        let a = TenantId::from_external_key("t", "a");
        let b = TenantId::from_external_key("t", "b");
        let key = ctx(a).cache_key("ticket", "42/summary").unwrap();
        assert!(key.as_str().starts_with(&CacheKey::tenant_prefix(a)));
        assert_eq!(CacheKey::parse(key.as_str()).unwrap(), key);
        assert!(ctx(a).check_cache_key(&key).is_ok());
        assert!(matches!(
            ctx(b).check_cache_key(&key),
            Err(Error::CrossTenant {
                kind: "cache key",
                ..
            })
        ));
        // The same logical key differs between tenants.
        assert_ne!(
            ctx(a).cache_key("ticket", "42").unwrap().as_str(),
            ctx(b).cache_key("ticket", "42").unwrap().as_str()
        );
        for bad in [
            "ticket:42",
            "t/not-a-uuid/ticket/42",
            &format!("t/{a}/Ticket/42"),
            &format!("t/{a}/ticket"),
            &format!("t/{}/ticket/42", a.as_uuid().simple()),
        ] {
            assert!(
                matches!(CacheKey::parse(bad), Err(Error::MalformedCacheKey { .. })),
                "{bad}"
            );
        }
        assert!(ctx(a).cache_key("", "x").is_err());
    }

    #[test]
    fn jobs_carry_their_context_through_json() {
        let a = TenantId::from_external_key("t", "a");
        let b = TenantId::from_external_key("t", "b");
        let context = ctx(a)
            .with_role(RoleName::new("agent").unwrap())
            .with_team(TeamId::new("tier-1").unwrap());
        let job = context.job(vec![1u32, 2, 3]);
        let json = job.to_json().unwrap();
        let back = TenantJob::<Vec<u32>>::from_json(&json).unwrap();
        assert_eq!(back, job);
        assert!(back.check(a).is_ok());
        assert!(back.check(b).unwrap_err().is_cross_tenant());
        let (ctx_back, payload) = back.into_parts();
        assert_eq!(ctx_back, context);
        assert_eq!(payload, vec![1, 2, 3]);

        let future = String::from_utf8(json)
            .unwrap()
            .replace("\"version\":1", "\"version\":2");
        let err = TenantJob::<Vec<u32>>::from_json(future.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("unsupported version 2"), "{err}");
    }

    #[test]
    fn slugs_are_validated() {
        assert!(RoleName::new("tenant-admin").is_ok());
        for bad in ["", "Admin", "1x", "a b", &"a".repeat(65)] {
            assert!(RoleName::new(bad).is_err(), "{bad:?}");
        }
        let parsed: RoleName = serde_json::from_str("\"agent\"").unwrap();
        assert_eq!(parsed.as_str(), "agent");
        assert!(serde_json::from_str::<RoleName>("\"Agent\"").is_err());
    }
}
