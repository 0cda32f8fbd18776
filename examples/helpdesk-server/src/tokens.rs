//! Bearer tokens: what the server accepts ([`authenticator`]) and how a
//! deployment mints them ([`mint`], `--print-token`).
//!
//! Tokens are EdDSA (Ed25519) JWTs from issuer [`ISSUER`] for audience
//! [`AUDIENCE`], carrying the tenant's billing account in claim `org`
//! (mapped with `TenantId::from_external_key("billing.account", org)`), the
//! agent in `sub` and role names in `roles`. A real deployment takes them
//! from its identity provider; the example signs them with the data
//! directory's `token.key` so that curl users can get one.

use std::time::Duration;

use custodia_axum::jwt::{JwtAuthenticator, TenantClaim};
use custodia_core::{Clock, Region, TenantId};
use jsonwebtoken::{Algorithm, EncodingKey, Header};

use crate::Error;
use crate::config::{TENANT_SYSTEM, TokenRequest};

/// The tokens' issuer.
pub const ISSUER: &str = "https://login.helpdesk.example";
/// The tokens' audience.
pub const AUDIENCE: &str = "helpdesk-api";
/// The claim holding the tenant's billing account.
pub const TENANT_CLAIM: &str = "org";

/// PKCS#8 v1 DER of the Ed25519 key with `seed` (RFC 8410).
fn pkcs8(seed: &[u8; 32]) -> Vec<u8> {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(seed);
    der
}

/// The 32-byte Ed25519 public key of `seed`.
pub fn public_key(seed: &[u8; 32]) -> Result<Vec<u8>, Error> {
    use ring::signature::KeyPair as _;
    let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(seed)
        .map_err(|_| Error::Config("the token key is not an Ed25519 seed".into()))?;
    Ok(pair.public_key().as_ref().to_vec())
}

/// The authenticator for tokens signed with `seed`, serving only `tenants`,
/// each homed in its region (a token cannot claim another).
pub fn authenticator(
    seed: &[u8; 32],
    tenants: &[(TenantId, Region)],
) -> Result<JwtAuthenticator, Error> {
    Ok(
        JwtAuthenticator::ed25519(&public_key(seed)?, ISSUER, AUDIENCE)?
            .tenant_claim(TenantClaim::ExternalKey {
                claim: TENANT_CLAIM.into(),
                system: TENANT_SYSTEM.into(),
            })
            .serve_only(tenants.iter().map(|(id, _)| *id))
            .home_regions(tenants.iter().copied()),
    )
}

/// A token for `request`, signed with `seed`, valid from `clock`'s now.
pub fn mint(seed: &[u8; 32], request: &TokenRequest, clock: &dyn Clock) -> Result<String, Error> {
    let now = clock.now().timestamp();
    let ttl = i64::try_from(request.ttl.as_secs()).unwrap_or(i64::MAX);
    let subject = request
        .subject
        .clone()
        .or_else(|| request.roles.first().cloned())
        .unwrap_or_else(|| "agent".into());
    let claims = serde_json::json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject,
        "iat": now,
        "exp": now.saturating_add(ttl),
        TENANT_CLAIM: request.tenant,
        "roles": request.roles,
    });
    sign(seed, &claims)
}

/// `claims` signed as an EdDSA JWT with `seed` (whatever they say: for
/// tests of what the server refuses).
pub fn sign(seed: &[u8; 32], claims: &serde_json::Value) -> Result<String, Error> {
    let key = EncodingKey::from_ed_der(&pkcs8(seed));
    jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), claims, &key)
        .map_err(|e| Error::Config(format!("signing a token failed: {e}")))
}

/// A token for `tenant` with `roles` as `subject`, valid for an hour.
pub fn mint_for(
    seed: &[u8; 32],
    tenant: &str,
    roles: &[&str],
    subject: &str,
    clock: &dyn Clock,
) -> Result<String, Error> {
    mint(
        seed,
        &TokenRequest {
            tenant: tenant.into(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            subject: Some(subject.into()),
            ttl: Duration::from_secs(3600),
        },
        clock,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use custodia_core::SystemClock;

    #[test]
    fn minted_tokens_verify_for_served_tenants_only() {
        let seed = [9u8; 32];
        let acme = crate::config::tenant_id("ACME-0042");
        let auth = authenticator(&seed, &[(acme, Region::AU)]).unwrap();
        let token = mint_for(&seed, "ACME-0042", &["agent"], "sam", &SystemClock).unwrap();
        let id = auth.verify(&token).unwrap();
        assert_eq!(id.context().tenant(), acme);
        assert_eq!(id.context().region(), Region::AU);
        let other = mint_for(&seed, "GLOBEX-7", &["agent"], "kim", &SystemClock).unwrap();
        assert_eq!(auth.verify(&other).unwrap_err().kind(), "forbidden");
        let forged = mint_for(&[8u8; 32], "ACME-0042", &["agent"], "sam", &SystemClock).unwrap();
        assert_eq!(auth.verify(&forged).unwrap_err().kind(), "unauthorized");
    }
}
