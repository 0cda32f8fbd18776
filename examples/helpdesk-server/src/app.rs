//! The server's state, its router, and starting and stopping it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custodia_audit::checkpoint::Signer;
use custodia_audit::{AsyncAuditLog, Event, SqlxAuditStore};
use custodia_axum::{AuditSink, CustodiaLayer, ServerError, SinkFuture};
use custodia_core::{Clock, SystemClock, TenantId};
use custodia_crypt::{AsyncKeyring, AsyncSubjectVault, DataKeyMode, SecretKey, SqlxKeyStore};
use custodia_mask::{Detector, MaskPolicy, Masker, Strategy};
use custodia_retention::RetentionPolicy;
use custodia_tenant::access::AccessPolicy;
use serde::de::DeserializeOwned;
use sqlx_postgres::PgConnection;
use sqlx_postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use tokio::task::JoinHandle;
use tower_layer::Stack;

use crate::config::{BODY_LIMIT, DataDir, Options};
use crate::privacy::Desks;
use crate::{AUDIT_LOG, Error, access, audit, privacy, retention, setup, summary, tickets};

/// The async subject vault over the shared key store.
pub(crate) type Vault = AsyncSubjectVault<Arc<SqlxKeyStore>>;

/// What every handler shares.
pub(crate) struct App {
    /// The application role's pool for requests' own transactions (search
    /// path: the schema). The key store and the audit log have their own:
    /// a request holds its transaction while its event is appended, so
    /// sharing one pool would let busy requests starve their own audit.
    pub(crate) pool: PgPool,
    /// Tenant keys: the blind index, and fields re-sealed under the tenant.
    pub(crate) keyring: AsyncKeyring,
    /// Contact keys: sealed fields and audit values.
    pub(crate) vault: Vault,
    /// The shared audit log.
    pub(crate) log: Arc<AsyncAuditLog>,
    /// Each served tenant's access policy.
    pub(crate) policies: BTreeMap<TenantId, AccessPolicy>,
    /// The summariser behind masking.
    pub(crate) summariser: custodia_axum::completion::MaskedCompletion<summary::Summariser>,
    /// Masks a field's text for roles that see it masked.
    pub(crate) field_masker: Masker,
    /// The retention policy.
    pub(crate) retention: Arc<RetentionPolicy>,
    /// Signs checkpoints of the log.
    pub(crate) signer: Signer,
    /// Time.
    pub(crate) clock: Arc<dyn Clock>,
    /// The served tenants (billing account, id).
    pub(crate) tenants: Vec<(String, TenantId)>,
    /// How long cached keys are trusted.
    pub(crate) staleness: Duration,
    /// The data-subject desk (sync, on the blocking pool).
    pub(crate) desks: Arc<Desks>,
}

impl App {
    /// Seals `event`'s personal values under their owners' keys
    /// ([`custodia_audit::seal_event_async`]: inline while cached, else on
    /// the blocking pool, where the vault reaches the key store) and appends
    /// it to the log the desk and the retention job share. A value whose owner was erased is dropped, not refused: the event
    /// is still recorded.
    pub(crate) async fn record(&self, event: Event) -> Result<u64, custodia_audit::Error> {
        let event = custodia_audit::seal_event_async(&self.vault, event).await?;
        self.log.append(&event).await
    }

    /// What the desk's blocking threads drain staged events with.
    pub(crate) fn staged(&self) -> crate::privacy::Staged {
        crate::privacy::Staged {
            log: self.log.clone(),
            runtime: tokio::runtime::Handle::current(),
        }
    }
}

/// The layer's audit sink: [`App::record`], or staged in the request's
/// transaction and drained after its commit, so the layer's events go
/// through the same `AsyncAuditLog` as the desk's and the retention job's
/// (whose view of the log they extend).
struct VaultSink(Arc<App>);

impl AuditSink for VaultSink {
    fn record(&self, event: Event) -> SinkFuture<'_> {
        Box::pin(async move {
            let event = custodia_audit::seal_event_async(&self.0.vault, event).await?;
            self.0.log.stage_now(&event).await
        })
    }

    fn stage<'a>(&'a self, conn: &'a mut PgConnection, event: Event) -> SinkFuture<'a> {
        Box::pin(async move {
            let event = custodia_audit::seal_event_async(&self.0.vault, event).await?;
            self.0.log.stage(conn, &event).await
        })
    }

    fn committed(&self) {
        self.0.log.store().drain_soon();
    }

    fn record_soon(&self, event: Event) -> SinkFuture<'_> {
        Box::pin(async move {
            let event = custodia_audit::seal_event_async(&self.0.vault, event).await?;
            self.0.log.append_soon(&event)
        })
    }
}

/// A handler's failure: a `custodia_axum::Error` (its status and JSON body),
/// or an internal failure whose cause goes to standard error and whose
/// answer is the same 500 `{"error": "internal", "message": "internal error"}`.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// A refusal or failure the web layer knows.
    Http(custodia_axum::Error),
    /// Anything else, for the operator's log.
    Internal(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            // A 5xx's cause is logged by `log_server_errors`.
            ApiError::Http(e) => e.into_response(),
            ApiError::Internal(cause) => {
                tracing::error!(target: "helpdesk_server", "internal error: {cause}");
                custodia_axum::Error::Misconfigured("internal error").into_response()
            }
        }
    }
}

/// Logs the cause of every 5xx that carries one, whoever answered (a
/// handler, the Custodia layer, the DSR routes): the client's body says
/// only "internal error".
async fn log_server_errors(response: Response) -> Response {
    if let Some(ServerError(cause)) = response.extensions().get::<ServerError>() {
        let (status, kind) = (response.status(), cause.kind());
        tracing::error!(target: "helpdesk_server", %status, kind, "{cause}");
    }
    response
}

impl From<custodia_axum::Error> for ApiError {
    fn from(e: custodia_axum::Error) -> Self {
        ApiError::Http(e)
    }
}

macro_rules! internal {
    ($($t:ty),*) => {$(
        impl From<$t> for ApiError {
            fn from(e: $t) -> Self {
                ApiError::Internal(e.to_string())
            }
        }
    )*};
}
internal!(
    custodia_crypt::Error,
    custodia_retention::Error,
    custodia_mask::Error,
    serde_json::Error
);

impl From<custodia_audit::Error> for ApiError {
    fn from(e: custodia_audit::Error) -> Self {
        ApiError::Http(custodia_axum::Error::Audit(e))
    }
}

impl From<sqlx_core::Error> for ApiError {
    fn from(e: sqlx_core::Error) -> Self {
        ApiError::Http(e.into())
    }
}

impl From<custodia_tenant::Error> for ApiError {
    fn from(e: custodia_tenant::Error) -> Self {
        ApiError::Http(e.into())
    }
}

/// A 4xx with `message`.
pub(crate) fn bad_request(status: StatusCode, message: impl Into<String>) -> ApiError {
    ApiError::Http(custodia_axum::Error::BadRequest {
        status,
        message: message.into(),
    })
}

/// A 403 with `reason`.
pub(crate) fn forbidden(reason: impl Into<String>) -> ApiError {
    ApiError::Http(custodia_axum::Error::Forbidden {
        reason: reason.into().into(),
    })
}

/// The one 404 for a ticket that is missing or another tenant's.
pub(crate) fn not_found(kind: &'static str) -> ApiError {
    ApiError::Http(custodia_axum::Error::NotFound { kind })
}

/// `axum::extract::Query`, but a query string it cannot read is a 400 with
/// the JSON error body.
pub(crate) struct Query<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(bad_request(StatusCode::BAD_REQUEST, rejection.body_text())),
        }
    }
}

/// What `GET /health` says (no token needed, so nothing about tenants).
async fn health(State(app): State<Arc<App>>) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({
        "status": "ok",
        "audit_log": AUDIT_LOG,
        "staleness_bound_ms": u64::try_from(app.staleness.as_millis()).unwrap_or(u64::MAX),
    }))
}

/// Routes nobody serves.
async fn no_route() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({"error": "not_found", "message": "no such route"})),
    )
        .into_response()
}

/// The router: `/health` open, every other route behind `layer`.
fn router(app: Arc<App>, layer: CustodiaLayer, dsr: custodia_axum::dsr::DsrRoutes) -> Router {
    let privacy = Router::new()
        .route("/subjects", get(privacy::subjects))
        .route("/subjects/{id}/audit", get(privacy::subject_audit))
        .with_state(app.clone())
        .merge(dsr.router());
    let tenant_routes = Router::new()
        .route("/me", get(access::me))
        .route("/roles", get(access::roles))
        .route("/agents", get(access::agents))
        .route("/tickets", get(tickets::list).post(tickets::create))
        .route(
            "/tickets/{id}",
            get(tickets::read)
                .patch(tickets::update)
                .delete(tickets::delete),
        )
        .route("/tickets/{id}/summary", post(summary::summarise))
        .route("/retention/sweep", post(retention::sweep_route))
        .route("/audit/checkpoint", post(audit::checkpoint))
        .route("/audit/verify", post(audit::verify))
        .with_state(app.clone())
        .nest("/privacy", privacy)
        .fallback(no_route)
        // One stack, outermost last: each route's handler is wrapped once,
        // not in a boxed route per layer that every request clones.
        .layer(Stack::new(
            layer,
            Stack::new(
                DefaultBodyLimit::max(BODY_LIMIT),
                axum::middleware::map_response(log_server_errors),
            ),
        ));
    Router::new()
        .route("/health", get(health))
        .layer(axum::middleware::map_response(log_server_errors))
        .with_state(app)
        .merge(tenant_routes)
}

/// A started server: listening, its retention job running.
pub struct Server {
    addr: SocketAddr,
    listener: Option<tokio::net::TcpListener>,
    router: Router,
    sweeper: Option<JoinHandle<()>>,
    app: Arc<App>,
    data: DataDir,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// Connections for the key store and the audit log (whose appends group-commit).
const SERVICE_CONNECTIONS: u32 = 4;

/// Connection options for `url` with `schema` first on the search path.
pub(crate) fn connect_options(url: &str, schema: &str) -> Result<PgConnectOptions, Error> {
    Ok(PgConnectOptions::from_str(url)?.options([("search_path", schema)]))
}

/// Starts a server with `options`: creates the data directory's keys if
/// missing, sets the schema up (with an owner), opens the key store and the
/// audit log (verifying it), builds the desk, and binds the listener. Serve
/// with [`Server::run_until_signal`] or [`Server::spawn`].
pub async fn start(options: Options) -> Result<Server, Error> {
    let data = DataDir::new(&options.data);
    let secrets = {
        let data = data.clone();
        tokio::task::spawn_blocking(move || data.open_or_create())
            .await
            .map_err(|e| Error::Config(format!("reading the data directory failed: {e}")))??
    };
    let app_url = options.database.clone().ok_or_else(|| {
        Error::Config(
            "no database: give --database URL or set CUSTODIA_PG_APP_URL (scripts/postgres does)"
                .into(),
        )
    })?;
    // A plain identifier: it goes into connection options and DDL.
    custodia_tenant::rls::Ident::new(&options.schema)?;
    let schema_name = options.schema.clone();
    let created = match &options.owner {
        Some(owner) => setup::prepare(owner, &app_url, &schema_name, options.reset).await?,
        None => false,
    };
    let pool = PgPoolOptions::new()
        .max_connections(options.pool)
        .connect_with(connect_options(&app_url, &schema_name)?)
        .await?;
    let services = PgPoolOptions::new()
        .max_connections(SERVICE_CONNECTIONS)
        .connect_with(connect_options(&app_url, &schema_name)?)
        .await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let staleness = options.staleness;
    let store = Arc::new(SqlxKeyStore::new(services.clone()).await?);
    let keyring =
        AsyncKeyring::from_store_with(store.clone(), secrets.root, DataKeyMode::Random, move |k| {
            k.with_staleness_bound(staleness)
        })
        .await?;
    let vault = AsyncSubjectVault::new_with(&keyring, store, clock.clone(), move |v| {
        v.with_staleness_bound(staleness)
    });
    let log =
        Arc::new(AsyncAuditLog::open(Arc::new(SqlxAuditStore::new(services, AUDIT_LOG)?)).await?);
    let (policy_text, policy_path) = &secrets.policy;
    let retention = Arc::new(RetentionPolicy::from_toml(
        policy_text,
        &policy_path.display().to_string(),
    )?);
    let tenants = options.tenant_ids();
    let desks = {
        let (url, schema, root_path) = (app_url.clone(), schema_name.clone(), data.root_key());
        let (retention, clock) = (retention.clone(), clock.clone());
        let staged = privacy::Staged {
            log: log.clone(),
            runtime: tokio::runtime::Handle::current(),
        };
        tokio::task::spawn_blocking(move || {
            let root = SecretKey::from_file(&root_path)?;
            Desks::open(&url, &schema, &root, retention, clock, staleness, staged)
        })
        .await
        .map_err(|e| Error::Config(format!("opening the data-subject desk failed: {e}")))??
    };
    let desks = Arc::new(desks);
    let policies = tenants
        .iter()
        .map(|(_, id)| Ok((*id, access::policy(*id)?)))
        .collect::<Result<BTreeMap<_, _>, Error>>()?;
    let summariser = custodia_axum::completion::MaskedCompletion::new(
        summary::Summariser,
        Masker::new(Detector::new()).with_policy(MaskPolicy::new(Strategy::Tokenize))?,
    );
    let app = Arc::new(App {
        pool: pool.clone(),
        keyring,
        vault,
        log,
        policies,
        summariser,
        field_masker: Masker::new(Detector::new()),
        retention,
        signer: secrets.signer,
        clock,
        tenants: tenants.clone(),
        staleness,
        desks: desks.clone(),
    });
    if created && options.seed {
        setup::seed(&app).await?;
    }
    let auth = crate::tokens::authenticator(&secrets.token_seed, &options.home_regions())?;
    let layer = CustodiaLayer::new(auth, pool)
        .audit(VaultSink(app.clone()))
        .audit_reads(options.audit_reads)
        .buffer_reads(options.buffer_reads);
    let router = router(app.clone(), layer, desks.routes()?);
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|e| Error::Config(format!("cannot listen on {}: {e}", options.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Config(format!("cannot read the listening address: {e}")))?;
    let sweeper = options
        .sweep_every
        .map(|every| tokio::spawn(retention::job(app.clone(), every)));
    Ok(Server {
        addr,
        listener: Some(listener),
        router,
        sweeper,
        app,
        data,
    })
}

impl Server {
    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Prints where it listens (the first line, `helpdesk-server: listening
    /// on http://ADDR`, which tests wait for) and ready-made tokens for curl.
    pub fn print_banner(&self) {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "helpdesk-server: listening on http://{0}\nhelpdesk-server: data directory {1} (more tokens: --print-token TENANT ROLES --data {1})\ntokens for an hour (curl -H \"Authorization: Bearer TOKEN\" http://{0}/me):",
            self.addr,
            self.data.dir().display()
        );
        if let Ok(seed) = self.data.token_seed() {
            for (key, _) in self.app.tenants.iter().take(2) {
                for roles in [&["agent"][..], &["supervisor"], &["dpo"], &["auditor"]] {
                    let subject = format!("{}-{}", roles[0], key.to_lowercase());
                    if let Ok(token) = crate::tokens::mint_for(
                        &seed,
                        key,
                        roles,
                        &subject,
                        self.app.clock.as_ref(),
                    ) {
                        let _ = writeln!(out, "  {key} {:<10} {token}", roles[0]);
                    }
                }
            }
            // The platform's role (the shared log's size, root, checkpoints).
            if let Some((key, _)) = self.app.tenants.first()
                && let Ok(token) = crate::tokens::mint_for(
                    &seed,
                    key,
                    &[crate::access::OPERATOR],
                    "operator",
                    self.app.clock.as_ref(),
                )
            {
                let _ = writeln!(out, "  {key} {:<10} {token}", crate::access::OPERATOR);
            }
        }
        let _ = out.flush();
    }

    /// Serves until the process gets SIGINT (Ctrl-C) or SIGTERM, then lets
    /// requests in flight finish.
    pub async fn run_until_signal(mut self) -> Result<(), Error> {
        let listener = self.take_listener()?;
        let service = self
            .router
            .clone()
            .into_make_service_with_connect_info::<SocketAddr>();
        let served = axum::serve(listener, service)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .map_err(|e| Error::Config(format!("serving failed: {e}")));
        self.retire().await;
        served
    }

    /// Serves in a background task (for in-process use: tests, the load
    /// run); stops with [`Running::stop`].
    pub fn spawn(mut self) -> Result<Running, Error> {
        let listener = self.take_listener()?;
        let service = self
            .router
            .clone()
            .into_make_service_with_connect_info::<SocketAddr>();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, service)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Running {
            server: self,
            stop: Some(stop),
            task: Some(task),
        })
    }

    fn take_listener(&mut self) -> Result<tokio::net::TcpListener, Error> {
        self.listener
            .take()
            .ok_or_else(|| Error::Config("the server is already serving".into()))
    }

    /// Stops the retention job and closes the desk's connections on the
    /// blocking pool: the sync client must not be closed on a runtime
    /// thread, and this holds the last references to it once serving ended.
    async fn retire(mut self) {
        if let Some(job) = self.sweeper.take() {
            job.abort();
            let _ = job.await;
        }
        // Nothing staged by this process is left for another one to drain.
        if let Err(e) = self.app.log.store().settle().await {
            tracing::error!(target: "helpdesk_server", "draining the audit outbox at shutdown failed: {e}");
        }
        let _ = tokio::task::spawn_blocking(move || drop(self)).await;
    }
}

/// A server serving in a background task.
#[derive(Debug)]
pub struct Running {
    server: Server,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Running {
    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// Stops accepting, lets requests in flight finish, stops the retention
    /// job and closes the desk's connections.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.server.retire().await;
    }
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// Sends the server's messages (warnings and errors, such as the cause of
/// a 500) to standard error, and with `spans` also Custodia's spans: each
/// operation's name, counts and time when it closes (never a value).
pub fn init_logging(spans: bool) {
    use tracing::Level;
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::fmt::format::FmtSpan;
    use tracing_subscriber::prelude::*;
    let mut filter = Targets::new().with_default(Level::WARN);
    if spans {
        // Custodia's operation spans are at DEBUG; the driver's chatter stays out.
        for target in [
            "custodia_tenant",
            "custodia_crypt",
            "custodia_mask",
            "custodia_retention",
            "custodia_audit",
            "custodia_dsr",
            "custodia_axum",
        ] {
            filter = filter.with_target(target, Level::DEBUG);
        }
    }
    let format = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_span_events(if spans { FmtSpan::CLOSE } else { FmtSpan::NONE });
    let _ = tracing_subscriber::registry()
        .with(format.with_filter(filter))
        .try_init();
}
