//! Who is calling: the host's [`Authenticator`], the verified [`Identity`] it
//! yields, and the [`Tenant`] extractor handlers take.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use custodia_audit::ActorKind;
use custodia_tenant::TenantContext;

use crate::Error;

/// The future an [`Authenticator`] returns.
pub type AuthFuture<'a> = Pin<Box<dyn Future<Output = Result<Identity, Error>> + Send + 'a>>;

/// Turns a request's head into a verified [`Identity`], or refuses it.
///
/// Supplied by the host (sessions, API keys, mTLS) or the shipped
/// `JwtAuthenticator` (feature `jwt`). It sees only the request's parts, not
/// its body, and runs before any handler: a refusal answers at once with
/// [`Error::Unauthorized`] (401) or [`Error::Forbidden`] (403), and nothing
/// downstream runs. A refusal's reason is sent to the client, so it must not
/// quote the credential.
pub trait Authenticator: Send + Sync + 'static {
    /// Verifies the request's credentials.
    fn authenticate<'a>(&'a self, parts: &'a Parts) -> AuthFuture<'a>;
}

/// A verified caller: the tenant context it acts in, and what kind of actor
/// it is (for audit events).
///
/// Put in the request's extensions by `CustodiaLayer`; handlers take it (or
/// just the [`Tenant`]) as an extractor.
///
/// Cheap to clone (shared): the authenticator's cache, the request's
/// extensions and the extractors hold the same one.
#[derive(Clone, PartialEq, Eq)]
pub struct Identity(Arc<IdentityParts>);

#[derive(PartialEq, Eq)]
struct IdentityParts {
    context: TenantContext,
    kind: ActorKind,
}

impl Identity {
    /// An identity acting as `context`, of actor kind `kind`.
    pub fn new(context: TenantContext, kind: ActorKind) -> Self {
        Self(Arc::new(IdentityParts { context, kind }))
    }

    /// The tenant context: tenant, actor, roles, teams, region.
    pub fn context(&self) -> &TenantContext {
        &self.0.context
    }

    /// The kind of actor (agent, end user, API key...).
    pub fn kind(&self) -> &ActorKind {
        &self.0.kind
    }
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("context", &self.0.context)
            .field("kind", &self.0.kind)
            .finish()
    }
}

fn identity(parts: &Parts) -> Result<&Identity, Error> {
    parts
        .extensions
        .get::<Identity>()
        .ok_or(Error::Misconfigured(
            "the Identity and Tenant extractors need CustodiaLayer on the route",
        ))
}

impl<S: Send + Sync> FromRequestParts<S> for Identity {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        identity(parts).cloned()
    }
}

/// The caller's tenant context, from the verified identity.
///
/// ```
/// use custodia_axum::Tenant;
///
/// async fn whoami(Tenant(ctx): Tenant) -> String {
///     format!("tenant {} actor {}", ctx.tenant(), ctx.actor())
/// }
/// # let _ = axum::Router::<()>::new().route("/me", axum::routing::get(whoami));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tenant(pub TenantContext);

impl<S: Send + Sync> FromRequestParts<S> for Tenant {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        identity(parts).map(|id| Tenant(id.context().clone()))
    }
}

/// The token of an `Authorization: Bearer <token>` header.
///
/// A missing header, another scheme or an empty token is
/// [`Error::Unauthorized`]; the message never repeats the header.
pub fn bearer_token(parts: &Parts) -> Result<&str, Error> {
    let unauthorized = |reason: &'static str| Error::Unauthorized {
        reason: reason.into(),
    };
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("no bearer token (Authorization: Bearer <token>)"))?;
    let value = value
        .to_str()
        .map_err(|_| unauthorized("the Authorization header is not ASCII"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| unauthorized("the Authorization header is not a bearer token"))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(unauthorized(
            "the Authorization header is not a bearer token",
        ));
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(unauthorized("the bearer token is empty"));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;
    use proptest::prelude::*;

    fn parts(auth: Option<&[u8]>) -> Parts {
        let mut req = Request::builder();
        if let Some(v) = auth {
            req = req.header(header::AUTHORIZATION, v);
        }
        req.body(()).unwrap().into_parts().0
    }

    #[test]
    fn bearer_tokens_are_read_and_others_refused() {
        assert_eq!(bearer_token(&parts(Some(b"Bearer abc"))).unwrap(), "abc");
        assert_eq!(bearer_token(&parts(Some(b"bearer  abc "))).unwrap(), "abc");
        for bad in [
            None,
            Some(&b"Basic dXNlcjpwdw=="[..]),
            Some(b"Bearer "),
            Some(b"Bearer"),
        ] {
            let e = bearer_token(&parts(bad)).unwrap_err();
            assert_eq!(e.kind(), "unauthorized");
            assert!(!e.public_message().contains("dXNlcjpwdw"));
        }
    }

    proptest! {
        #[test]
        fn any_header_is_read_or_refused_without_echo(value in proptest::collection::vec(0x20u8..0x7f, 0..200)) {
            let Ok(v) = axum::http::HeaderValue::from_bytes(&value) else { return Ok(()) };
            let mut p = parts(None);
            p.headers.insert(header::AUTHORIZATION, v);
            match bearer_token(&p) {
                Ok(token) => prop_assert!(!token.is_empty()),
                Err(e) => {
                    prop_assert_eq!(e.kind(), "unauthorized");
                    // The reasons are fixed texts: the header never comes back.
                    prop_assert!(e.public_message().len() <= 100);
                }
            }
        }
    }
}
