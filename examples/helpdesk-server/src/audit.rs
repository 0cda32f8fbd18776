//! The audit routes: a signed checkpoint of the shared log, and a full
//! verification of it (against a checkpoint, taken by any process).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use custodia_audit::AsyncAuditLog;
use custodia_audit::checkpoint;
use custodia_axum::{Json, Tenant};
use custodia_example_helpdesk::CHECKPOINT_ORIGIN;
use custodia_tenant::access::Operation;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::access::{self, AUDIT_LOG};
use crate::app::{ApiError, App, bad_request};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `POST /audit/checkpoint`: `{"size", "root", "note"}`, the log's head as
/// this process sees it after catching up with every other writer, signed
/// with the deployment's checkpoint key (C2SP signed note).
pub(crate) async fn checkpoint(
    State(app): State<Arc<App>>,
    Tenant(ctx): Tenant,
) -> Result<Json<Value>, ApiError> {
    access::require(&app, &ctx, AUDIT_LOG, Operation::Read)?;
    app.log.drain().await?;
    app.log.catch_up().await?;
    let note = app.log.checkpoint(CHECKPOINT_ORIGIN, &app.signer).await?;
    let trusted = checkpoint::open(&note, &app.signer.verifier())?;
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
/// and that it extends `checkpoint` if given. `{"ok": true, "size",
/// "root", "checkpoint_size"}`, or `{"ok": false, "finding"}` when the log
/// does not verify; a checkpoint whose signature does not verify is 422.
pub(crate) async fn verify(
    State(app): State<Arc<App>>,
    Tenant(ctx): Tenant,
    custodia_axum::Json(request): custodia_axum::Json<VerifyRequest>,
) -> Result<Json<Value>, ApiError> {
    access::require(&app, &ctx, AUDIT_LOG, Operation::Read)?;
    let trusted = match &request.checkpoint {
        Some(note) => Some(checkpoint::open(note, &app.signer.verifier()).map_err(|e| {
            bad_request(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("the checkpoint does not verify: {e}"),
            )
        })?),
        None => None,
    };
    app.log.drain().await?;
    match AsyncAuditLog::verify(app.pool.clone(), crate::AUDIT_LOG, trusted.as_ref()).await {
        Ok(report) => Ok(Json(json!({
            "ok": true,
            "size": report.head.size,
            "root": hex(&report.head.root),
            "checkpoint_size": report.checkpoint_size,
        }))),
        Err(e) if e.is_store() => Err(e.into()),
        Err(finding) => Ok(Json(json!({ "ok": false, "finding": finding.to_string() }))),
    }
}
