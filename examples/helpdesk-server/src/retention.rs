//! The retention sweep: the policy file applied to a tenant's tickets, as a
//! route (`POST /retention/sweep`) and as a periodic job over every served
//! tenant.
//!
//! Due deletions delete the row; due anonymizations empty the sealed
//! columns, unlink the contact and mark the row (`anonymized_at`), so the
//! next sweep counts it as done; reviews are only reported. Each change is
//! audited by the retention job's actor before the tenant's transaction
//! commits, and two processes sweeping at once change (and audit) each
//! ticket once: the row lock decides, and the loser's statement finds no
//! row to change.
//!
//! A ticket whose contact restricted its processing (GDPR Art. 18) is kept
//! however due it is, as a legally held one is
//! ([`custodia_example_helpdesk::store::sweep_policy`]): the outcome lists
//! it under `withheld`, with the restriction as the reason, until the
//! restriction is lifted. A restriction that lands after the sweep read the
//! rows still stops the change: each statement changes only an active row.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use custodia_audit::{Action, Actor, ActorKind, Event, Target};
use custodia_axum::{Json, Tenant, Tx};
use custodia_core::{SubjectId, TenantId, Timestamp};
use custodia_example_helpdesk::StoredTicket;
use custodia_example_helpdesk::store::{Processing, RECORD_TYPE, sweep_policy};
use custodia_retention::{Disposition, Sweep};
use custodia_tenant::access::Operation;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx_core::query::query;
use sqlx_core::row::Row as _;
use sqlx_postgres::{PgConnection, Postgres};

use crate::access::{self, RETENTION};
use crate::app::{ApiError, App, Query};
use crate::tickets::ANONYMIZED;

/// What one sweep of one tenant did.
#[derive(Debug, Default, serde::Serialize)]
pub(crate) struct Outcome {
    /// When it ran.
    pub(crate) now: Option<Timestamp>,
    /// Tickets examined.
    pub(crate) examined: u64,
    /// Not due yet, or no rule applies.
    pub(crate) kept: u64,
    /// Kept by a legal hold or a restriction, due or not.
    pub(crate) held: u64,
    /// Due but kept by a hold or a restriction: id, action, due_at, rules,
    /// holds, reason.
    pub(crate) withheld: Vec<Value>,
    /// Due items: id, action, rules.
    pub(crate) due: Vec<Value>,
    /// Deleted now.
    pub(crate) deleted: Vec<String>,
    /// Anonymized now.
    pub(crate) anonymized: Vec<String>,
    /// Left for a person to review.
    pub(crate) review: Vec<String>,
}

/// Sweeps `tenant`'s tickets on `conn` (bound to it) at the clock's now;
/// with `dry_run`, plans only.
pub(crate) async fn sweep(
    app: &App,
    conn: &mut PgConnection,
    tenant: TenantId,
    dry_run: bool,
) -> Result<Outcome, ApiError> {
    let rows = query::<Postgres>(
        "SELECT id, subject_id, owner, created_at, closed_at, status, anonymized_at, processing, \
         objections FROM tickets ORDER BY id COLLATE \"C\"",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut tickets = Vec::with_capacity(rows.len());
    for row in &rows {
        fn parsed<T: std::str::FromStr>(text: String, what: &str) -> Result<T, ApiError> {
            text.parse()
                .map_err(|_| ApiError::Internal(format!("a stored {what} does not parse")))
        }
        let time = |text: &str| {
            custodia_core::chrono::DateTime::parse_from_rfc3339(text)
                .map(|t| t.to_utc())
                .map_err(|_| ApiError::Internal("a stored time does not parse".into()))
        };
        let subject: Option<String> = row.try_get(1)?;
        let closed: Option<String> = row.try_get(4)?;
        let anonymized: Option<String> = row.try_get(6)?;
        let stored = StoredTicket {
            id: row.try_get(0)?,
            tenant,
            subject: subject.map(|s| parsed(s, "contact id")).transpose()?,
            owner: parsed(row.try_get(2)?, "agent id")?,
            created: time(&row.try_get::<String, _>(3)?)?,
            closed: closed.as_deref().map(time).transpose()?,
            status: row.try_get(5)?,
            subject_line: String::new(),
            sealed: [None, None, None, None],
            email_index: None,
            sealed_under_subject_key: true,
            processing: Processing::from_columns(
                &row.try_get::<String, _>(7)?,
                &row.try_get::<String, _>(8)?,
            )
            .map_err(|e| ApiError::Internal(e.to_string()))?,
        };
        let mut record = stored.retention_record();
        if let Some(at) = anonymized.as_deref().map(time).transpose()? {
            record = record.with_event("anonymized", at);
        }
        tickets.push((stored, record));
    }
    let now = app.clock.now();
    let records: Vec<_> = tickets.iter().map(|(_, r)| r.clone()).collect();
    let policy = sweep_policy(&app.retention, tickets.iter().map(|(t, _)| t))?;
    let plan = Sweep::new(&policy, now).plan(&records)?;
    let mut outcome = Outcome {
        now: Some(now),
        examined: plan.examined,
        kept: plan.kept,
        held: plan.held,
        ..Outcome::default()
    };
    for item in &plan.withheld {
        outcome.withheld.push(json!({
            "id": item.id, "action": item.action, "due_at": item.due_at, "rules": item.rules,
            "holds": item.holds, "reason": item.reason,
        }));
    }
    for item in &plan.items {
        outcome.due.push(json!({
            "id": item.id, "action": item.action, "due_at": item.due_at, "rules": item.rules,
        }));
        let Some((ticket, _)) = tickets.iter().find(|(t, _)| t.id == item.id) else {
            continue;
        };
        if dry_run {
            continue;
        }
        let done = match item.action {
            Disposition::Delete => {
                query::<Postgres>(
                    "DELETE FROM tickets WHERE id = $1 AND processing = 'active' RETURNING id",
                )
                .bind(&ticket.id)
                .fetch_optional(&mut *conn)
                .await?
            }
            Disposition::Anonymize => {
                query::<Postgres>(
                    "UPDATE tickets SET subject_line = $2, name = NULL, email = NULL, \
                     phone = NULL, body = NULL, email_index = NULL, subject_id = NULL, \
                     anonymized_at = $3 WHERE id = $1 AND anonymized_at IS NULL \
                     AND processing = 'active' RETURNING id",
                )
                .bind(&ticket.id)
                .bind(ANONYMIZED)
                .bind(now.to_rfc3339())
                .fetch_optional(&mut *conn)
                .await?
            }
            _ => {
                outcome.review.push(ticket.id.clone());
                continue;
            }
        };
        // Another process got there first, or the contact restricted the
        // ticket since it was read: nothing changed, nothing to audit.
        if done.is_none() {
            continue;
        }
        let action = match item.action {
            Disposition::Delete => Action::Delete,
            _ => Action::custom("anonymize")?,
        };
        record(app, tenant, ticket.subject, action, &ticket.id, &item.rules).await?;
        match item.action {
            Disposition::Delete => outcome.deleted.push(ticket.id.clone()),
            _ => outcome.anonymized.push(ticket.id.clone()),
        }
    }
    Ok(outcome)
}

/// Audits one change by the retention job; the rule goes in the note,
/// sealed under the contact's key.
async fn record(
    app: &App,
    tenant: TenantId,
    subject: Option<SubjectId>,
    action: Action,
    id: &str,
    rules: &[String],
) -> Result<(), ApiError> {
    let actor = Actor::new(
        ActorKind::System,
        custodia_example_helpdesk::retention_actor(tenant),
    );
    let mut event = Event::builder(tenant, actor, action, Target::new(RECORD_TYPE, id)?);
    if let Some(subject) = subject {
        event = event
            .subject(subject)
            .note(format!("retention sweep: rule {}", rules.join(", ")));
    }
    app.record(event.build(app.clock.as_ref())?).await?;
    Ok(())
}

/// The query of `POST /retention/sweep`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SweepQuery {
    /// Plan only.
    #[serde(default)]
    dry_run: bool,
}

/// `POST /retention/sweep[?dry_run=true]`: sweeps the caller's tenant now.
pub(crate) async fn sweep_route(
    State(app): State<Arc<App>>,
    Tenant(ctx): Tenant,
    mut tx: Tx,
    Query(q): Query<SweepQuery>,
) -> Result<Json<Outcome>, ApiError> {
    access::require(&app, &ctx, RETENTION, Operation::Delete)?;
    Ok(Json(sweep(&app, &mut tx, ctx.tenant(), q.dry_run).await?))
}

/// Sweeps every served tenant every `every`, each in its own bound
/// transaction; a failure is reported and retried next time.
pub(crate) async fn job(app: Arc<App>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        for (key, tenant) in &app.tenants {
            let swept = async {
                let mut tx = custodia_tenant::begin_bound(&app.pool, *tenant).await?;
                let outcome = sweep(&app, &mut tx, *tenant, false).await?;
                // Not sqlx's `commit`: on a transaction PostgreSQL aborted
                // it reports success while nothing was stored.
                custodia_tenant::commit_bound(tx).await?;
                Ok::<_, ApiError>(outcome)
            };
            match swept.await {
                Ok(o)
                    if !o.deleted.is_empty()
                        || !o.anonymized.is_empty()
                        || !o.withheld.is_empty() =>
                {
                    eprintln!(
                        "helpdesk-server: retention sweep of {key}: deleted {:?}, anonymized {:?}, \
                         {} due but held (legal hold or restriction)",
                        o.deleted,
                        o.anonymized,
                        o.withheld.len()
                    )
                }
                Ok(_) => {}
                Err(e) => eprintln!("helpdesk-server: retention sweep of {key} failed: {e:?}"),
            }
        }
    }
}
