//! Signed bearer tokens (feature `jwt`): the shipped [`Authenticator`].
//!
//! A [`JwtAuthenticator`] accepts exactly one algorithm, fixed when it is
//! built (EdDSA with an Ed25519 public key, or HS256 with a shared secret),
//! so a token cannot choose its own verification (no `alg` confusion, no
//! `none`). It requires `iss`, `aud`, `sub` and `exp`, checks issuer and
//! audience, and checks `exp` and `nbf` against a [`Clock`] (with a leeway,
//! 30 s by default), so tests can fix the time.
//!
//! The identity it yields:
//!
//! * tenant: the tenant claim, by default `tid` holding a tenant UUID, or
//!   [`TenantClaim::ExternalKey`] for a claim holding the host's own tenant key
//!   (mapped with `TenantId::from_external_key`);
//! * actor: `ActorId::from_external_key(tenant, "jwt.sub", sub)`, so the same
//!   `sub` in two tenants is two actors;
//! * roles: the `roles` claim, an array of role names (absent means none:
//!   deny by default);
//! * region: the tenant's home region when the deployment declares it
//!   ([`JwtAuthenticator::home_regions`]), else the authenticator's
//!   default ([`JwtAuthenticator::default_region`]). Where data lives is
//!   the deployment's fact, not the caller's: the region drives residency
//!   and transfer checks, so a token's `region` claim never widens it. A
//!   claim that names another region than the deployment's for the tenant
//!   is refused (403), whether or not the tenant is declared; a claim that
//!   agrees, or none, is accepted. Only a host whose identity provider is
//!   the authority on regions opts in with
//!   [`JwtAuthenticator::trust_region_claims`]: an undeclared tenant's
//!   region is then its token's claim (declared homes still win).
//!
//! Every refusal is [`Error::Unauthorized`] (401) with a fixed reason, except
//! a tenant this deployment does not serve ([`JwtAuthenticator::serve_only`])
//! and a `region` claim against the tenant's region (above), which are
//! [`Error::Forbidden`] (403). No reason quotes the token.
//!
//! A client sends the same token with every request until it expires, and
//! verifying an Ed25519 signature costs tens of microseconds, a large part of
//! a small request. So the authenticator remembers the tokens it verified
//! (keyed by the token's SHA-256, never the token itself; 4,096 by default,
//! [`JwtAuthenticator::verified_cache`]): the same bytes under the same key
//! and rules always prove the same identity, so a repeated token is checked
//! only against the clock (`exp`, `nbf`). A token that fails is never
//! remembered, and a token one byte away is a different entry.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::http::request::Parts;
use custodia_audit::ActorKind;
use custodia_core::{ActorId, Clock, Region, SystemClock, TenantId};
use custodia_tenant::{RoleName, TenantContext};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::{AuthFuture, Authenticator, Error, Identity, bearer_token};

/// The shortest HS256 secret accepted, in bytes (the hash's output size).
pub const MIN_HS256_SECRET: usize = 32;

/// The actor system actor ids are derived under: `ActorId::from_external_key(tenant, "jwt.sub", sub)`.
pub const ACTOR_SYSTEM: &str = "jwt.sub";

/// Where the tenant is in a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TenantClaim {
    /// A claim holding the tenant's UUID.
    Uuid(String),
    /// A claim holding the host's own tenant key, mapped with
    /// `TenantId::from_external_key(system, value)`.
    ExternalKey {
        /// The claim's name.
        claim: String,
        /// The key system, e.g. `billing.account`.
        system: String,
    },
}

impl TenantClaim {
    fn name(&self) -> &str {
        match self {
            TenantClaim::Uuid(claim) | TenantClaim::ExternalKey { claim, .. } => claim,
        }
    }

    fn tenant(&self, claims: &Map<String, Value>) -> Option<TenantId> {
        let value = claims.get(self.name())?.as_str()?;
        match self {
            TenantClaim::Uuid(_) => value.parse().ok(),
            TenantClaim::ExternalKey { system, .. } if !value.is_empty() => {
                Some(TenantId::from_external_key(system, value))
            }
            TenantClaim::ExternalKey { .. } => None,
        }
    }
}

/// The claims every token must carry, beyond those the library checks.
#[derive(Deserialize)]
struct Claims {
    // Absent is refused below as empty, with the library's own message.
    #[serde(default)]
    sub: String,
    exp: i64,
    #[serde(default)]
    nbf: Option<i64>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

/// Verifies `Authorization: Bearer <JWT>` (see the [module docs](self)).
///
/// ```
/// use custodia_axum::jwt::{JwtAuthenticator, TenantClaim};
/// use custodia_core::Region;
///
/// let auth = JwtAuthenticator::hs256(&[7u8; 32], "https://login.example.com", "helpdesk-api")?
///     .tenant_claim(TenantClaim::ExternalKey { claim: "org".into(), system: "billing.account".into() })
///     .default_region(Region::EU);
/// assert!(auth.verify("not.a.token").is_err());
/// # Ok::<(), custodia_axum::Error>(())
/// ```
pub struct JwtAuthenticator {
    key: DecodingKey,
    validation: Validation,
    tenant_claim: TenantClaim,
    region: Region,
    homes: BTreeMap<TenantId, Region>,
    trust_region_claims: bool,
    kind: ActorKind,
    served: Option<BTreeSet<TenantId>>,
    clock: Arc<dyn Clock>,
    leeway: i64,
    verified: VerifiedTokens,
}

/// The default number of verified tokens remembered.
pub const VERIFIED_CACHE: usize = 4096;

/// Tokens already verified, by the SHA-256 of their bytes: the identity each
/// proved and the times it is valid between.
struct VerifiedTokens {
    capacity: usize,
    entries: Mutex<HashMap<[u8; 32], Verified>>,
}

#[derive(Clone)]
struct Verified {
    identity: Identity,
    exp: i64,
    nbf: Option<i64>,
}

impl VerifiedTokens {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, digest: &[u8; 32]) -> Option<Verified> {
        if self.capacity == 0 {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(digest).cloned()
    }

    /// Remembers a verified token; when full, forgets the expired ones first
    /// and everything if that is not enough (a bound, not a policy: a
    /// forgotten token is only verified again).
    fn insert(&self, digest: [u8; 32], verified: Verified, now: i64) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity {
            entries.retain(|_, v| v.exp >= now);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(digest, verified);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl std::fmt::Debug for JwtAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key stays out of logs.
        f.debug_struct("JwtAuthenticator")
            .field("algorithm", &self.validation.algorithms)
            .field("issuer", &self.validation.iss)
            .field("audience", &self.validation.aud)
            .field("tenant_claim", &self.tenant_claim)
            .field("default_region", &self.region)
            .field("trust_region_claims", &self.trust_region_claims)
            .finish_non_exhaustive()
    }
}

const MISSING_CLAIM: &str = "the token lacks a required claim (iss, aud, sub, exp)";

fn unauthorized(reason: &'static str) -> Error {
    Error::Unauthorized {
        reason: reason.into(),
    }
}

impl JwtAuthenticator {
    /// Tokens signed with EdDSA by the holder of the Ed25519 key whose
    /// 32-byte public key is `public_key`, issued by `issuer` for `audience`.
    ///
    /// A key that is not a curve point, or a point of small order (the
    /// identity, all zeros, ...), is [`Error::Misconfigured`]: the
    /// verifier's check is the non-strict one, under which such a key
    /// accepts signatures that need no private key.
    pub fn ed25519(public_key: &[u8], issuer: &str, audience: &str) -> Result<Self, Error> {
        let bytes: &[u8; 32] = public_key
            .try_into()
            .map_err(|_| Error::Misconfigured("an Ed25519 public key is exactly 32 bytes"))?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(bytes)
            .map_err(|_| Error::Misconfigured("the Ed25519 public key is not a curve point"))?;
        if key.is_weak() {
            return Err(Error::Misconfigured(
                "the Ed25519 public key is of small order: anyone could sign for it",
            ));
        }
        Ok(Self::new(
            DecodingKey::from_ed_der(public_key),
            Algorithm::EdDSA,
            issuer,
            audience,
        ))
    }

    /// Tokens signed with HS256 under `secret` (at least
    /// [`MIN_HS256_SECRET`] bytes), issued by `issuer` for `audience`.
    pub fn hs256(secret: &[u8], issuer: &str, audience: &str) -> Result<Self, Error> {
        if secret.len() < MIN_HS256_SECRET {
            return Err(Error::Misconfigured(
                "an HS256 secret must be at least 32 bytes",
            ));
        }
        let key = DecodingKey::from_secret(secret)
            .map_err(|_| Error::Misconfigured("the HS256 secret was refused"))?;
        Ok(Self::new(key, Algorithm::HS256, issuer, audience))
    }

    fn new(key: DecodingKey, algorithm: Algorithm, issuer: &str, audience: &str) -> Self {
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Time is checked against the Clock below, not the system time.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        Self {
            key,
            validation,
            tenant_claim: TenantClaim::Uuid("tid".into()),
            region: Region::EU,
            homes: BTreeMap::new(),
            trust_region_claims: false,
            kind: ActorKind::Agent,
            served: None,
            clock: Arc::new(SystemClock),
            leeway: 30,
            verified: VerifiedTokens::new(VERIFIED_CACHE),
        }
    }

    /// Changes one setting; what was verified under the old settings is forgotten.
    fn with(mut self, change: impl FnOnce(&mut Self)) -> Self {
        change(&mut self);
        self.verified = VerifiedTokens::new(self.verified.capacity);
        self
    }

    /// Where the tenant is (default: claim `tid`, a UUID).
    #[must_use]
    pub fn tenant_claim(self, claim: TenantClaim) -> Self {
        self.with(|a| a.tenant_claim = claim)
    }

    /// The region of tenants not in [`home_regions`](Self::home_regions)
    /// (default: EU). A token for such a tenant whose `region` claim names
    /// another region is refused (403), unless
    /// [`trust_region_claims`](Self::trust_region_claims).
    #[must_use]
    pub fn default_region(self, region: Region) -> Self {
        self.with(|a| a.region = region)
    }

    /// Each tenant's home region: the identity's region for its tokens. A
    /// token whose `region` claim names another region is refused (403).
    #[must_use]
    pub fn home_regions(self, homes: impl IntoIterator<Item = (TenantId, Region)>) -> Self {
        let homes: BTreeMap<TenantId, Region> = homes.into_iter().collect();
        self.with(|a| a.homes = homes)
    }

    /// Takes an undeclared tenant's region (one not in
    /// [`home_regions`](Self::home_regions)) from its token's `region`
    /// claim, falling back to [`default_region`](Self::default_region)
    /// without one (default: off, and a claim that differs from the default
    /// region is refused). For hosts whose identity provider is the
    /// authority on where each tenant's data lives: whoever can get a token
    /// issued then chooses the region residency and transfer checks run
    /// against. Declared homes still win, and a claim against one is still
    /// refused.
    #[must_use]
    pub fn trust_region_claims(self) -> Self {
        self.with(|a| a.trust_region_claims = true)
    }

    /// The actor kind recorded in audit events (default: agent).
    #[must_use]
    pub fn actor_kind(self, kind: ActorKind) -> Self {
        self.with(|a| a.kind = kind)
    }

    /// Accepts only tokens for these tenants; any other tenant gets 403.
    #[must_use]
    pub fn serve_only(self, tenants: impl IntoIterator<Item = TenantId>) -> Self {
        self.with(|a| a.served = Some(tenants.into_iter().collect()))
    }

    /// The clock `exp` and `nbf` are checked against (default: system time).
    #[must_use]
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        self.with(|a| a.clock = clock)
    }

    /// How far `exp` and `nbf` may be off (default: 30 s).
    #[must_use]
    pub fn leeway(self, leeway: Duration) -> Self {
        self.with(|a| a.leeway = i64::try_from(leeway.as_secs()).unwrap_or(i64::MAX))
    }

    /// How many verified tokens to remember (default [`VERIFIED_CACHE`];
    /// 0 verifies every request's signature).
    #[must_use]
    pub fn verified_cache(self, capacity: usize) -> Self {
        self.with(|a| a.verified = VerifiedTokens::new(capacity))
    }

    /// Verifies one token and builds the identity it proves.
    pub fn verify(&self, token: &str) -> Result<Identity, Error> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = self.clock.now().timestamp();
        if let Some(known) = self.verified.get(&digest) {
            self.check_time(known.exp, known.nbf, now)?;
            return Ok(known.identity);
        }
        let claims = jsonwebtoken::decode::<Claims>(token.as_bytes(), &self.key, &self.validation)
            .map_err(|e| refusal(e.kind()))?
            .claims;
        self.check_time(claims.exp, claims.nbf, now)?;
        let (exp, nbf) = (claims.exp, claims.nbf);
        let identity = self.identity(claims)?;
        self.verified.insert(
            digest,
            Verified {
                identity: identity.clone(),
                exp,
                nbf,
            },
            now,
        );
        Ok(identity)
    }

    fn check_time(&self, exp: i64, nbf: Option<i64>, now: i64) -> Result<(), Error> {
        if now > exp.saturating_add(self.leeway) {
            return Err(unauthorized("the token has expired"));
        }
        if nbf.is_some_and(|nbf| now < nbf.saturating_sub(self.leeway)) {
            return Err(unauthorized("the token is not valid yet"));
        }
        Ok(())
    }

    /// The identity verified claims prove, under this authenticator's rules.
    fn identity(&self, claims: Claims) -> Result<Identity, Error> {
        let tenant = self
            .tenant_claim
            .tenant(&claims.rest)
            .ok_or_else(|| unauthorized("the token's tenant claim is missing or not a tenant"))?;
        if self.served.as_ref().is_some_and(|s| !s.contains(&tenant)) {
            return Err(Error::Forbidden {
                reason: "the token's tenant is not served here".into(),
            });
        }
        if claims.sub.is_empty() {
            return Err(unauthorized(MISSING_CLAIM));
        }
        let claimed: Option<Region> = match claims.region {
            Some(r) => Some(
                r.parse()
                    .map_err(|_| unauthorized("the token's region claim is not a region"))?,
            ),
            None => None,
        };
        let region = match (self.homes.get(&tenant), claimed) {
            (Some(home), Some(claimed)) if *home != claimed => {
                return Err(Error::Forbidden {
                    reason: "the token's region is not its tenant's home region".into(),
                });
            }
            (Some(home), _) => *home,
            (None, Some(claimed)) if self.trust_region_claims => claimed,
            // The claim may confirm the deployment's region, never move it.
            (None, Some(claimed)) if claimed != self.region => {
                return Err(Error::Forbidden {
                    reason: "the token's region is not this deployment's region for its tenant"
                        .into(),
                });
            }
            (None, _) => self.region,
        };
        let actor = ActorId::from_external_key(tenant, ACTOR_SYSTEM, &claims.sub);
        let mut context = TenantContext::new(tenant, actor, region);
        for role in claims.roles {
            let role = RoleName::new(role)
                .map_err(|_| unauthorized("the token's roles claim holds an invalid role name"))?;
            context = context.with_role(role);
        }
        Ok(Identity::new(context, self.kind.clone()))
    }
}

/// The fixed reason for a token the library refused.
fn refusal(kind: &ErrorKind) -> Error {
    unauthorized(match kind {
        ErrorKind::InvalidSignature => "the token's signature does not verify",
        ErrorKind::InvalidIssuer => "the token's issuer is not accepted",
        ErrorKind::InvalidAudience => "the token's audience is not accepted",
        ErrorKind::InvalidAlgorithm => "the token's algorithm is not accepted",
        ErrorKind::MissingRequiredClaim(_) => MISSING_CLAIM,
        ErrorKind::InvalidClaimFormat(_) | ErrorKind::Json(_) => "the token's claims are malformed",
        _ => "the token is malformed",
    })
}

impl Authenticator for JwtAuthenticator {
    fn authenticate<'a>(&'a self, parts: &'a Parts) -> AuthFuture<'a> {
        Box::pin(async move { self.verify(bearer_token(parts)?) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use custodia_core::ManualClock;
    use custodia_core::chrono::{TimeZone, Utc};
    use jsonwebtoken::{EncodingKey, Header};
    use proptest::prelude::*;

    const SECRET: [u8; 32] = [42; 32];

    fn clock() -> Arc<ManualClock> {
        Arc::new(ManualClock::new(
            Utc.timestamp_opt(1_800_000_000, 0).unwrap(),
        ))
    }

    fn auth() -> JwtAuthenticator {
        JwtAuthenticator::hs256(&SECRET, "iss", "aud")
            .unwrap()
            .with_clock(clock())
    }

    fn token(claims: Value) -> String {
        let key = EncodingKey::from_secret(&SECRET).unwrap();
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap()
    }

    fn claims(tenant: TenantId, exp: i64) -> Value {
        serde_json::json!({"iss": "iss", "aud": "aud", "sub": "agent-7", "exp": exp,
            "tid": tenant.to_string(), "roles": ["agent"]})
    }

    #[test]
    fn a_good_token_gives_its_tenant_actor_and_roles() {
        let tenant = TenantId::random();
        let id = auth()
            .verify(&token(claims(tenant, 1_800_000_100)))
            .unwrap();
        assert_eq!(id.context().tenant(), tenant);
        assert_eq!(
            id.context().actor(),
            ActorId::from_external_key(tenant, ACTOR_SYSTEM, "agent-7")
        );
        assert!(
            id.context()
                .roles()
                .contains(&RoleName::new("agent").unwrap())
        );
    }

    #[test]
    fn refusals_name_the_problem() {
        let tenant = TenantId::random();
        let cases = [
            (claims(tenant, 1_799_999_000), "expired"),
            (
                serde_json::json!({"iss": "iss", "aud": "aud", "sub": "a", "exp": 1_900_000_000}),
                "tenant claim",
            ),
            (
                serde_json::json!({"iss": "iss", "aud": "aud", "sub": "a", "exp": 1_900_000_000, "tid": "acme"}),
                "tenant claim",
            ),
            (
                serde_json::json!({"iss": "evil", "aud": "aud", "sub": "a", "exp": 1_900_000_000}),
                "issuer",
            ),
            (
                serde_json::json!({"iss": "iss", "aud": "other", "sub": "a", "exp": 1_900_000_000}),
                "audience",
            ),
            (
                serde_json::json!({"iss": "iss", "aud": "aud", "exp": 1_900_000_000}),
                "required claim",
            ),
        ];
        for (claims, expected) in cases {
            let e = auth().verify(&token(claims)).unwrap_err();
            assert_eq!(e.kind(), "unauthorized", "{e}");
            assert!(
                e.public_message().contains(expected),
                "{e} lacks {expected}"
            );
        }
    }

    #[test]
    fn another_algorithm_or_key_is_refused() {
        let tenant = TenantId::random();
        let other = EncodingKey::from_secret(&[1; 32]).unwrap();
        let forged = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims(tenant, 1_900_000_000),
            &other,
        )
        .unwrap();
        assert!(
            auth()
                .verify(&forged)
                .unwrap_err()
                .to_string()
                .contains("signature")
        );
        let hs384 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS384),
            &claims(tenant, 1_900_000_000),
            &EncodingKey::from_secret(&SECRET).unwrap(),
        )
        .unwrap();
        assert!(
            auth()
                .verify(&hs384)
                .unwrap_err()
                .to_string()
                .contains("algorithm")
        );
    }

    #[test]
    fn an_unserved_tenant_is_forbidden() {
        let tenant = TenantId::random();
        let auth = auth().serve_only([TenantId::random()]);
        let e = auth
            .verify(&token(claims(tenant, 1_900_000_000)))
            .unwrap_err();
        assert_eq!(e.kind(), "forbidden");
    }

    #[test]
    fn a_remembered_token_is_still_checked_against_the_clock() {
        let clock = clock();
        let auth = JwtAuthenticator::hs256(&SECRET, "iss", "aud")
            .unwrap()
            .with_clock(clock.clone());
        let mut early = claims(TenantId::random(), 1_800_000_100);
        early["nbf"] = serde_json::json!(1_800_000_050);
        let t = token(early);
        let e = auth.verify(&t).unwrap_err();
        assert!(e.public_message().contains("not valid yet"), "{e}");
        clock.advance(custodia_core::chrono::TimeDelta::seconds(60));
        assert!(auth.verify(&t).is_ok());
        assert_eq!(auth.verified.len(), 1);
        assert!(auth.verify(&t).is_ok(), "the remembered token");
        clock.advance(custodia_core::chrono::TimeDelta::seconds(100));
        let e = auth.verify(&t).unwrap_err();
        assert!(e.public_message().contains("expired"), "{e}");
    }

    #[test]
    fn only_verified_tokens_are_remembered_and_never_beyond_the_bound() {
        let auth = auth().verified_cache(3);
        let tenant = TenantId::random();
        let good = token(claims(tenant, 1_900_000_000));
        auth.verify(&good).unwrap();
        // One byte away from a remembered token is another token.
        let mut tampered = good.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(auth.verify(&tampered).is_err());
        assert!(auth.verify(&token(claims(tenant, 1_700_000_000))).is_err());
        assert_eq!(auth.verified.len(), 1, "refused tokens are not remembered");
        for exp in 0..10 {
            auth.verify(&token(claims(tenant, 1_900_000_000 + exp)))
                .unwrap();
            assert!(auth.verified.len() <= 3);
        }
        assert!(
            auth.verify(&good).is_ok(),
            "a forgotten token verifies again"
        );
        let off = auth.verified_cache(0);
        off.verify(&good).unwrap();
        assert_eq!(off.verified.len(), 0);
    }

    #[test]
    fn a_changed_setting_forgets_what_was_verified() {
        let auth = auth();
        let t = token(claims(TenantId::random(), 1_900_000_000));
        auth.verify(&t).unwrap();
        let auth = auth.serve_only([TenantId::random()]);
        assert_eq!(auth.verify(&t).unwrap_err().kind(), "forbidden");
    }

    #[test]
    fn a_declared_home_region_is_the_identitys_and_a_token_cannot_move_it() {
        let (home, elsewhere) = (TenantId::random(), TenantId::random());
        let auth = auth()
            .default_region(Region::EU)
            .home_regions([(home, Region::AU)]);
        let id = auth.verify(&token(claims(home, 1_900_000_000))).unwrap();
        assert_eq!(id.context().region(), Region::AU);
        let mut moved = claims(home, 1_900_000_000);
        moved["region"] = serde_json::json!("US");
        let e = auth.verify(&token(moved)).unwrap_err();
        assert_eq!(e.kind(), "forbidden", "{e}");
        let mut same = claims(home, 1_900_000_001);
        same["region"] = serde_json::json!("AU");
        assert_eq!(
            auth.verify(&token(same)).unwrap().context().region(),
            Region::AU
        );
        // An undeclared tenant: the default region; a claim may confirm
        // it, never move it.
        let mut claimed = claims(elsewhere, 1_900_000_000);
        claimed["region"] = serde_json::json!("CA");
        let e = auth.verify(&token(claimed)).unwrap_err();
        assert_eq!(e.kind(), "forbidden", "{e}");
        let mut confirmed = claims(elsewhere, 1_900_000_002);
        confirmed["region"] = serde_json::json!("EU");
        assert_eq!(
            auth.verify(&token(confirmed)).unwrap().context().region(),
            Region::EU
        );
        let plain = auth
            .verify(&token(claims(elsewhere, 1_900_000_001)))
            .unwrap();
        assert_eq!(plain.context().region(), Region::EU);
    }

    #[test]
    fn trusted_region_claims_place_undeclared_tenants_only() {
        let (home, elsewhere) = (TenantId::random(), TenantId::random());
        let auth = auth()
            .default_region(Region::EU)
            .home_regions([(home, Region::AU)])
            .trust_region_claims();
        let mut claimed = claims(elsewhere, 1_900_000_000);
        claimed["region"] = serde_json::json!("CA");
        assert_eq!(
            auth.verify(&token(claimed)).unwrap().context().region(),
            Region::CA
        );
        let plain = auth
            .verify(&token(claims(elsewhere, 1_900_000_001)))
            .unwrap();
        assert_eq!(plain.context().region(), Region::EU);
        // A declared home still wins over a trusted claim.
        let mut moved = claims(home, 1_900_000_000);
        moved["region"] = serde_json::json!("US");
        assert_eq!(auth.verify(&token(moved)).unwrap_err().kind(), "forbidden");
    }

    /// A token "signed" with the identity point as R and s = 0: under a
    /// small-order public key, the non-strict Ed25519 check accepts it for
    /// most messages, without any private key.
    fn forged_ed25519(claims: &Value) -> String {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64.encode(br#"{"alg":"EdDSA","typ":"JWT"}"#);
        let payload = b64.encode(serde_json::to_vec(claims).unwrap());
        let mut signature = [0u8; 64];
        signature[0] = 1; // the identity point's encoding (y = 1)
        format!("{header}.{payload}.{}", b64.encode(signature))
    }

    #[test]
    fn small_order_ed25519_keys_are_refused_at_start_up() {
        let tenant = TenantId::random();
        let mut identity = [0u8; 32];
        identity[0] = 1;
        // The identity, a point of order 4 (y = 0, the docs' old example
        // key), and one of order 8: each lets anyone sign for the issuer.
        let mut order_8 = [0u8; 32];
        order_8.copy_from_slice(&hex_bytes(
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        ));
        for weak in [identity, [0u8; 32], order_8] {
            match JwtAuthenticator::ed25519(&weak, "iss", "aud") {
                Err(e) => assert_eq!(e.kind(), "internal", "{e}"),
                Ok(auth) => {
                    let auth = auth.with_clock(clock());
                    // Some of a few messages forge; every one must be refused.
                    for exp in 1_900_000_000..1_900_000_016 {
                        let forged = forged_ed25519(&claims(tenant, exp));
                        assert!(
                            auth.verify(&forged).is_err(),
                            "a forged token verified under a small-order key"
                        );
                    }
                }
            }
        }
        // A key that is no curve point at all fails at start-up too, not
        // at every request.
        let not_a_point = (2u8..)
            .map(|y| {
                let mut bytes = [0u8; 32];
                bytes[0] = y;
                bytes
            })
            .find(|bytes| ed25519_dalek::VerifyingKey::from_bytes(bytes).is_err())
            .unwrap();
        assert!(JwtAuthenticator::ed25519(&not_a_point, "iss", "aud").is_err());
        // A real key is still accepted.
        use ring::signature::KeyPair as _;
        let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(&[7; 32]).unwrap();
        assert!(JwtAuthenticator::ed25519(pair.public_key().as_ref(), "iss", "aud").is_ok());
    }

    fn hex_bytes(hex: &str) -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn weak_keys_are_refused_at_start_up() {
        assert!(JwtAuthenticator::hs256(&[1; 16], "i", "a").is_err());
        assert!(JwtAuthenticator::ed25519(&[1; 31], "i", "a").is_err());
    }

    proptest! {
        /// The decoder on arbitrary bytes: a refusal, never a panic, never an echo.
        #[test]
        fn arbitrary_tokens_are_refused(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let text = String::from_utf8_lossy(&bytes);
            let e = auth().verify(&text).unwrap_err();
            prop_assert_eq!(e.kind(), "unauthorized");
            // A fixed reason: it never grows with (or repeats) the input.
            prop_assert!(e.public_message().len() <= 100);
        }

        /// Well-formed tokens with arbitrary claim values: verified or refused, never a panic.
        #[test]
        fn arbitrary_claims_are_verified_or_refused(
            sub in ".{0,20}", tid in ".{0,40}", exp in any::<i64>(), region in "[A-Z]{0,3}",
            roles in proptest::collection::vec(".{0,10}", 0..3),
        ) {
            let t = token(serde_json::json!({"iss": "iss", "aud": "aud", "sub": sub, "exp": exp,
                "tid": tid, "region": region, "roles": roles}));
            if let Err(e) = auth().verify(&t) {
                prop_assert_eq!(e.kind(), "unauthorized");
            }
        }
    }
}
