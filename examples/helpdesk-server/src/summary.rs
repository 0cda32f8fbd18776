//! `POST /tickets/{id}/summary`: the ticket's text, masked, to the
//! summariser; its reply, unmasked, to the agent.
//!
//! The summariser is the embedded example's fake "external AI"
//! (`custodia_example_helpdesk::flow::ai_summarise`), called in-process
//! through custodia-axum's `MaskedCompletion`: it sees the text with every
//! personal value replaced by a token (`<EMAIL_1>`), and the reply's tokens
//! are replaced back before the agent reads it. The response shows exactly
//! what left (`sent`), so the promise can be checked from outside.
//!
//! Tokenised text is still personal data (pseudonymised, GDPR Art. 4(5)),
//! so it leaves only where it may go: the transfer from the tenant's home
//! region (from the deployment's `--tenant KEY=REGION`, never the token) to
//! the summariser's endpoint is checked first, as in the embedded example
//! (`flow::summariser_transfer`): ACME's AU tickets go to the Sydney
//! endpoint; GLOBEX's UK tickets would go to the US, and the summariser is
//! not in the UK-US data bridge, so the request is refused (403) and nothing
//! leaves.

use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{Path, State};
use custodia_audit::{Action, Target};
use custodia_axum::completion::{CompletionClient, CompletionFuture};
use custodia_axum::{Audit, Json, Tenant, Tx};
use custodia_core::{DataCategory, Purpose};
use custodia_example_helpdesk::store::RECORD_TYPE;
use custodia_mask::TokenVault;
use custodia_tenant::access::Operation;
use serde_json::{Value, json};

use crate::app::{ApiError, App, forbidden};
use crate::tickets::{self, Opened};

tokio::task_local! {
    /// What the summariser was sent during one request.
    static SENT: Arc<Mutex<Vec<String>>>;
}

/// The summariser: the example's fake model, run locally. In production
/// this is the HTTP call to the model's API.
#[derive(Debug)]
pub(crate) struct Summariser;

impl CompletionClient for Summariser {
    fn complete<'a>(&'a self, prompt: &'a str) -> CompletionFuture<'a> {
        // Everything that reaches this point leaves the system.
        let _ = SENT.try_with(|sent| {
            sent.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(prompt.to_owned());
        });
        Box::pin(async move { Ok(custodia_example_helpdesk::flow::ai_summarise(prompt)) })
    }
}

/// `POST /tickets/{id}/summary`: `{"transfer": its legal basis, "sent":
/// [what left], "reply": the unmasked summary, "masked": {kind: count}}`,
/// audited as a `share` of the contact's data; 403 when the transfer is not
/// allowed; 409 when the contact restricted the ticket's processing
/// (Art. 18) or objected to `ai_assistance` (Art. 21).
pub(crate) async fn summarise(
    State(app): State<Arc<App>>,
    Tenant(ctx): Tenant,
    mut tx: Tx,
    Path(id): Path<String>,
) -> Result<(Audit, Json<Value>), ApiError> {
    let ticket = tickets::load(&mut tx, ctx.tenant(), &id).await?;
    tickets::allow(&app, &ctx, Operation::Read, Some(&ticket))?;
    // Not for a restricted ticket, nor one whose contact objected to AI use.
    ticket.processable(&Purpose::AI_ASSISTANCE)?;
    // The reply quotes the text back: only for those who may read it.
    let access = tickets::field_access(&app, &ctx, &ticket, &DataCategory::USER_CONTENT_TICKET);
    if !access.can_read() {
        return Err(forbidden("your roles may not read the ticket's text"));
    }
    let transfer = custodia_example_helpdesk::flow::summariser_transfer(
        ctx.region(),
        app.clock.now().date_naive(),
    )
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    if !transfer.allowed() {
        return Err(forbidden(format!("nothing was sent: {transfer}")));
    }
    let body = match ticket.open(&app, 3).await? {
        Opened::Value(body) => body,
        Opened::Empty | Opened::Erased => String::new(),
    };
    let prompt = format!("Summarise this support ticket for the agent.\n{body}");
    let sent = Arc::new(Mutex::new(Vec::new()));
    let mut vault = TokenVault::new();
    let done = SENT
        .scope(sent.clone(), app.summariser.complete(&mut vault, &prompt))
        .await?;
    let sent = sent.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let mut audit = Audit::new(Target::new(RECORD_TYPE, &ticket.id)?).action(Action::Share);
    if let Some(subject) = ticket.subject {
        audit = audit.subject(subject);
    }
    let masked: serde_json::Map<String, Value> = done
        .report
        .counts
        .iter()
        .map(|(kind, n)| (kind.as_str().to_owned(), (*n).into()))
        .collect();
    Ok((
        audit,
        Json(json!({
            "ticket": ticket.id,
            "transfer": transfer.to_string(),
            "sent": sent,
            "reply": done.reply,
            "masked": masked,
        })),
    ))
}
