//! The audit routes: a signed checkpoint of the shared log, and a full
//! verification of it (against a checkpoint, taken by any process).
//!
//! The log is every tenant's, so its size, root and checkpoints tell of
//! the other tenants' activity: they are for the platform's `operator`
//! role only. A tenant's `auditor` gets a verdict over the whole log and
//! the count of their own tenant's events in it (see [`crate::access`]).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use custodia_audit::checkpoint;
use custodia_audit::{AsyncAuditLog, Query};
use custodia_axum::{Json, Tenant};
use custodia_core::TenantId;
use custodia_example_helpdesk::CHECKPOINT_ORIGIN;
use custodia_tenant::access::Operation;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::access::{self, AUDIT_HEAD, AUDIT_LOG};
use crate::app::{ApiError, App, bad_request};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `POST /audit/checkpoint`: `{"size", "root", "note"}`, the log's head as
/// this process sees it after catching up with every other writer, signed
/// with the deployment's checkpoint key (C2SP signed note). The operator's
/// only: a note states the size of the log every tenant shares (403 for a
/// tenant's auditor).
pub(crate) async fn checkpoint(
    State(app): State<Arc<App>>,
    Tenant(ctx): Tenant,
) -> Result<Json<Value>, ApiError> {
    access::require(&app, &ctx, AUDIT_HEAD, Operation::Read)?;
    app.log.drain().await?;
    app.log.catch_up().await?;
    let note = app.log.checkpoint(CHECKPOINT_ORIGIN, &app.signer).await?;
    let trusted = checkpoint::open(&note, &app.signer.verifier(), CHECKPOINT_ORIGIN)?;
    Ok(Json(json!({
        "size": trusted.size,
        "root": hex(&trusted.root),
        "note": note,
    })))
}

/// The body of `POST /audit/verify`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VerifyRequest {
    /// A checkpoint note the log must extend.
    #[serde(default)]
    checkpoint: Option<String>,
}

/// `POST /audit/verify`: re-reads the whole log from the database with a
/// fresh tree and checks every record and every head any writer recorded,
/// and that it extends `checkpoint` if given; a checkpoint whose signature
/// does not verify is 422.
///
/// The operator gets `{"ok": true, "size", "root", "checkpoint_size"}`, or
/// `{"ok": false, "finding"}`. A tenant's auditor gets `{"ok": true,
/// "tenant_events"}` (their tenant's events in the verified log; with a
/// checkpoint, `"checkpoint": "extended"`), or `{"ok": false, "finding"}`
/// with a finding that names no position in the log (the operator's
/// answer, and the server's error log, have it): nothing in the answer
/// changes with another tenant's activity.
pub(crate) async fn verify(
    State(app): State<Arc<App>>,
    Tenant(ctx): Tenant,
    custodia_axum::Json(request): custodia_axum::Json<VerifyRequest>,
) -> Result<Json<Value>, ApiError> {
    access::require(&app, &ctx, AUDIT_LOG, Operation::Read)?;
    let operator = access::require(&app, &ctx, AUDIT_HEAD, Operation::Read).is_ok();
    let trusted = match &request.checkpoint {
        Some(note) => Some(
            checkpoint::open(note, &app.signer.verifier(), CHECKPOINT_ORIGIN).map_err(|e| {
                bad_request(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("the checkpoint does not verify: {e}"),
                )
            })?,
        ),
        None => None,
    };
    app.log.drain().await?;
    let verified = AsyncAuditLog::verify(
        app.pool.clone(),
        crate::AUDIT_LOG,
        trusted.as_ref().map(|c| (CHECKPOINT_ORIGIN, c)),
    )
    .await;
    match verified {
        Ok(report) if operator => Ok(Json(json!({
            "ok": true,
            "size": report.head.size,
            "root": hex(&report.head.root),
            "checkpoint_size": report.checkpoint_size,
        }))),
        Ok(_) => {
            let mut answer = json!({
                "ok": true,
                "tenant_events": tenant_events(&app, ctx.tenant()).await?,
            });
            if trusted.is_some() {
                answer["checkpoint"] = "extended".into();
            }
            Ok(Json(answer))
        }
        Err(e) if e.is_store() => Err(e.into()),
        Err(finding) if operator => {
            Ok(Json(json!({ "ok": false, "finding": finding.to_string() })))
        }
        Err(finding) => {
            // Its text may name a record's index, a lower bound on the size.
            tracing::error!(target: "helpdesk_server", "the audit log does not verify: {finding}");
            Ok(Json(json!({
                "ok": false,
                "finding": "the shared audit log does not verify: the platform operator has the finding",
            })))
        }
    }
}

/// How many of the log's events are `tenant`'s, read on the blocking pool
/// through the desk's log, caught up with every writer first.
async fn tenant_events(app: &App, tenant: TenantId) -> Result<usize, ApiError> {
    let trail = app.desks.trail()?;
    tokio::task::spawn_blocking(move || {
        trail.with_log(|log| {
            log.catch_up()?;
            Ok::<_, custodia_audit::Error>(log.query(&Query::new().tenant(tenant))?.len())
        })
    })
    .await
    .map_err(|e| ApiError::Internal(format!("counting the tenant's events failed: {e}")))?
    .map_err(ApiError::from)
}
