//! Custodia for axum (tower) web backends: the tenant per request, a
//! tenant-bound sqlx transaction, audit of every mutation, and errors that
//! never leak across tenants — wired once, as a layer, instead of in every
//! handler.
//!
//! # Model
//!
//! * The host supplies an [`Authenticator`] (request head → verified
//!   [`Identity`]: tenant context and actor kind), or uses the shipped
//!   `jwt::JwtAuthenticator` (feature `jwt`: EdDSA/Ed25519 or HS256 bearer
//!   tokens with issuer, audience and expiry checks and a configurable tenant
//!   claim). The tenant comes from the verified credential only, never from
//!   the URL or body.
//! * [`CustodiaLayer`] wraps the tenant routes. It authenticates (401/403 at
//!   once on refusal), hands handlers the [`Identity`] and [`Tenant`]
//!   extractors, and a [`Tx`]: a transaction already bound to the caller's
//!   tenant for PostgreSQL row-level security
//!   (`custodia_tenant::begin_bound`).
//! * After the handler, the layer records an audit event for every mutating
//!   request through an [`AuditSink`] ([`SqlxAuditSink`] over
//!   `custodia_audit::SqlxAuditStore`, sealing the client's IP address and
//!   user agent under the data subject's key): a successful request's event
//!   is staged in its own transaction, which the layer then commits; an
//!   error response (or a panic) is rolled back and recorded as a failure.
//!   Handlers add the target and subject with an [`Audit`] response part. A
//!   read's (GET's) transaction is read-only, so no write escapes the audit
//!   of changes.
//! * Every refusal is an [`Error`]: one HTTP status and a JSON body
//!   `{"error": kind, "message": ...}`; a 5xx says only "internal error"
//!   (a 502, [`Error::Upstream`], names the service that failed and no
//!   more), and leaves its cause in the response's extensions as
//!   [`ServerError`] for the host's logs.
//!
//! The key design decision is that **the layer, not the handler, ends the
//! transaction**: the handler cannot forget to commit, cannot commit an error
//! response, and cannot commit a change without its audit event — the event
//! is written in the same transaction (staged in the log's outbox, moved
//! into the Merkle log right after the commit), so it is on the record
//! exactly when the change is. The second
//! is that **another tenant's record is not found, by construction**: the
//! bound transaction cannot see it, so the lookup is the same query finding
//! no row as for an id that exists nowhere — the same code path, the same
//! [`Error::NotFound`] body, the same time class.
//!
//! Give the audit store (and a key store in the database) a pool of their
//! own: events of requests without a transaction, failures and the drain
//! after each commit use it, and on the requests' pool a burst of requests
//! can hold every connection and leave them waiting until they time out.
//!
//! # Example
//!
//! ```no_run
//! use std::net::SocketAddr;
//! use std::sync::Arc;
//!
//! use axum::Router;
//! use axum::extract::{DefaultBodyLimit, Path};
//! use axum::routing::{get, post};
//! use custodia_audit::{SqlxAuditStore, Target};
//! use custodia_axum::jwt::JwtAuthenticator;
//! use custodia_axum::{Audit, CustodiaLayer, Error, Json, SqlxAuditSink, Tenant, Tx};
//! use custodia_core::SystemClock;
//! use custodia_crypt::{AsyncKeyring, AsyncSubjectVault, DataKeyMode, MemoryKeyStore, SecretKey};
//! use sqlx_core::row::Row as _;
//! use sqlx_postgres::Postgres;
//!
//! #[derive(serde::Deserialize)]
//! struct NewTicket { title: String }
//!
//! async fn create(Tenant(ctx): Tenant, mut tx: Tx, Json(new): Json<NewTicket>)
//!     -> Result<(Audit, String), Error> {
//!     let row = sqlx_core::query::query::<Postgres>(
//!             "INSERT INTO tickets (tenant_id, title) VALUES ($1, $2) RETURNING id")
//!         .bind(ctx.tenant().as_uuid())
//!         .bind(new.title)
//!         .fetch_one(&mut *tx)
//!         .await?;
//!     let id: i64 = row.try_get(0)?;
//!     Ok((Audit::new(Target::new("ticket", id.to_string())?), id.to_string()))
//! }
//!
//! async fn read(mut tx: Tx, Path(id): Path<i64>) -> Result<String, Error> {
//!     // No tenant filter: RLS adds it. Another tenant's id finds no row.
//!     let row = sqlx_core::query::query::<Postgres>("SELECT title FROM tickets WHERE id = $1")
//!         .bind(id)
//!         .fetch_optional(&mut *tx)
//!         .await?;
//!     Ok(Error::found(row, "ticket")?.try_get(0)?)
//! }
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let pool = sqlx_postgres::PgPool::connect("postgres://custodia_app@db/helpdesk").await?;
//! // Its own pool: requests hold theirs while their events are appended.
//! let audit_pool = sqlx_postgres::PgPool::connect("postgres://custodia_app@db/helpdesk").await?;
//! let store = Arc::new(SqlxAuditStore::new(audit_pool, "helpdesk")?);
//! // A fleet keeps its keys in the database: custodia-crypt's `SqlxKeyStore`.
//! let keys = Arc::new(MemoryKeyStore::default());
//! let root = SecretKey::from_bytes([7; 32]); // from your KMS or secret manager
//! let keyring = AsyncKeyring::from_store(keys.clone(), root, DataKeyMode::Random).await?;
//! let vault = AsyncSubjectVault::new(&keyring, keys, Arc::new(SystemClock));
//! // The identity provider's 32-byte Ed25519 public key.
//! let issuer_key = std::fs::read("/etc/helpdesk/issuer-ed25519.pub")?;
//! let auth = JwtAuthenticator::ed25519(&issuer_key, "https://login.example.com", "helpdesk-api")?;
//!
//! let app = Router::new()
//!     .route("/tickets", post(create))
//!     .route("/tickets/{id}", get(read))
//!     .layer(CustodiaLayer::new(auth, pool).audit(SqlxAuditSink::new(store, vault)))
//!     .layer(DefaultBodyLimit::max(64 * 1024));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Features
//!
//! `jwt`: the shipped bearer-token authenticator (the `jsonwebtoken` crate on
//! RustCrypto). `mask`: [`completion::MaskedCompletion`], masking for outbound
//! AI calls (prompt masked with a token vault, reply unmasked). `dsr`:
//! [`dsr::DsrRoutes`], data-subject request endpoints (intake, status,
//! export download, erasure) as a router to nest. Off by default; everything else is always on (the crate is
//! itself the opt-in).

#![forbid(unsafe_code)]
// Library code returns typed errors; only tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(missing_docs)]
#![warn(unreachable_pub)]

#[cfg(feature = "mask")]
pub mod completion;
#[cfg(feature = "dsr")]
pub mod dsr;
#[cfg(feature = "jwt")]
pub mod jwt;

mod audit;
mod error;
mod identity;
mod json;
mod layer;

pub use audit::{Audit, AuditSink, SinkFuture, SqlxAuditSink};
pub use error::{Error, ServerError};
pub use identity::{AuthFuture, Authenticator, Identity, Tenant, bearer_token};
pub use json::Json;
pub use layer::{CustodiaLayer, CustodiaService, MAX_USER_AGENT, Tx};
