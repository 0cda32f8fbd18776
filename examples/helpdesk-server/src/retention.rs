//! The retention sweep: the policy file applied to a tenant's tickets, as a
//! route (`POST /retention/sweep`) and as a periodic job over every served
//! tenant.
//!
//! Due deletions delete the row; due anonymizations empty the sealed
//! columns, unlink the contact and mark the row (`anonymized_at`), so the
//! next sweep counts it as done; archiving and reviews are only reported
//! (`archive`, `review`). Each change is
//! audited by the retention job's actor, the event staged in the tenant's
//! transaction, so it is on the record if and only if the change commits
//! (a sweep failing part-way leaves neither). Two processes sweeping at
//! once change (and audit) each ticket once: the row lock decides, and the
//! loser's statement finds no row to change.
//!
//! A ticket whose contact restricted its processing (GDPR Art. 18) is kept
//! however due it is, as a legally held one is
//! ([`custodia_example_helpdesk::store::sweep_policy`]): the outcome lists
//! it under `withheld`, with the restriction as the reason, until the
//! restriction is lifted. A restriction that lands after the sweep read the
//! rows still stops the change: each statement changes only an active row,
//! and only one still as the sweep read it (its status, dates, contact and
//! anonymization), so a ticket reopened meanwhile is left for the next
//! sweep to plan afresh.
//!
//! The policy, legal holds included, is the data directory's
//! `retention.toml` as read at start ([`crate::app::App`]'s `retention`):
//! a hold added to the file binds the sweep, `DELETE /tickets/{id}` and
//! erasures only once the process restarts, and each instance of a fleet
//! reads its own copy. Holds that bind every instance at once would be
//! kept in the shared database; this example does not.

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
    /// Due for archiving: reported only, as this server has no archive.
    pub(crate) archive: Vec<String>,
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
        let read = Read {
            subject: row.try_get(1)?,
            created: row.try_get(3)?,
            closed: row.try_get(4)?,
            status: row.try_get(5)?,
            anonymized: row.try_get(6)?,
        };
        let stored = StoredTicket {
            id: row.try_get(0)?,
            tenant,
            subject: read
                .subject
                .clone()
                .map(|s| parsed(s, "contact id"))
                .transpose()?,
            owner: parsed(row.try_get(2)?, "agent id")?,
            created: time(&read.created)?,
            closed: read.closed.as_deref().map(time).transpose()?,
            status: read.status.clone(),
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
        if let Some(at) = read.anonymized.as_deref().map(time).transpose()? {
            record = record.with_event("anonymized", at);
        }
        tickets.push((stored, record, read));
    }
    let now = app.clock.now();
    let records: Vec<_> = tickets.iter().map(|(_, r, _)| r.clone()).collect();
    let policy = sweep_policy(&app.retention, tickets.iter().map(|(t, _, _)| t))?;
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
    // The change statements, made once for every item.
    let delete = format!("DELETE FROM tickets WHERE id = $1 AND {UNCHANGED} RETURNING id");
    let anonymize = format!(
        "UPDATE tickets SET subject_line = $7, name = NULL, email = NULL, \
         phone = NULL, body = NULL, email_index = NULL, subject_id = NULL, \
         anonymized_at = $8 WHERE id = $1 AND anonymized_at IS NULL AND {UNCHANGED} \
         RETURNING id"
    );
    for item in &plan.items {
        outcome.due.push(json!({
            "id": item.id, "action": item.action, "due_at": item.due_at, "rules": item.rules,
        }));
        let Some((ticket, _, read)) = tickets.iter().find(|(t, _, _)| t.id == item.id) else {
            continue;
        };
        if dry_run {
            continue;
        }
        let done = match item.action {
            Disposition::Delete => {
                read.bind(query::<Postgres>(&delete).bind(&ticket.id))
                    .fetch_optional(&mut *conn)
                    .await?
            }
            Disposition::Anonymize => {
                read.bind(query::<Postgres>(&anonymize).bind(&ticket.id))
                    .bind(ANONYMIZED)
                    .bind(now.to_rfc3339())
                    .fetch_optional(&mut *conn)
                    .await?
            }
            Disposition::Archive => {
                outcome.archive.push(ticket.id.clone());
                continue;
            }
            Disposition::Review => {
                outcome.review.push(ticket.id.clone());
                continue;
            }
        };
        // Another process got there first, the contact restricted the
        // ticket, or someone changed what the plan was made from (a spam
        // ticket reopened) since it was read: nothing changed, nothing to
        // audit; the next sweep plans the row afresh.
        if done.is_none() {
            continue;
        }
        let action = match item.action {
            Disposition::Delete => Action::Delete,
            _ => Action::custom("anonymize")?,
        };
        record(
            app,
            conn,
            tenant,
            ticket.subject,
            action,
            &ticket.id,
            &item.rules,
        )
        .await?;
        match item.action {
            Disposition::Delete => outcome.deleted.push(ticket.id.clone()),
            _ => outcome.anonymized.push(ticket.id.clone()),
        }
    }
    Ok(outcome)
}

/// The condition a sweep's change statement re-checks (parameters `$2` to
/// `$6`, bound by [`Read::bind`] after the id `$1`): the row is still
/// active (not restricted) and still as the plan read it, in every column
/// its retention record is made from. The rows are read without a lock, so
/// a change that lands between the read and the statement (an agent
/// reopening a ticket the plan saw as spam or closed, an anonymization by
/// another sweep) must stop the change, as [`custodia_retention::SweepPlan`]
/// asks: the statement re-evaluates this on the row's newest version.
const UNCHANGED: &str = "processing = 'active' AND status = $2 AND created_at = $3 \
     AND closed_at IS NOT DISTINCT FROM $4 AND subject_id IS NOT DISTINCT FROM $5 \
     AND anonymized_at IS NOT DISTINCT FROM $6";

/// The columns of a ticket its retention record was made from, as read.
struct Read {
    subject: Option<String>,
    created: String,
    closed: Option<String>,
    status: String,
    anonymized: Option<String>,
}

impl Read {
    /// Binds `$2` to `$6` of [`UNCHANGED`]; the caller binds `$1` (the id) first.
    fn bind<'q>(
        &'q self,
        statement: sqlx_core::query::Query<'q, Postgres, sqlx_postgres::PgArguments>,
    ) -> sqlx_core::query::Query<'q, Postgres, sqlx_postgres::PgArguments> {
        statement
            .bind(&self.status)
            .bind(&self.created)
            .bind(&self.closed)
            .bind(&self.subject)
            .bind(&self.anonymized)
    }
}

/// Audits one change by the retention job; the rule goes in the note,
/// sealed under the contact's key. The event is staged in the sweep's
/// transaction (`conn`), so it reaches the log if and only if the change
/// commits: a sweep that fails part-way (a later statement, the commit)
/// rolls its changes back and leaves no event claiming one.
async fn record(
    app: &App,
    conn: &mut PgConnection,
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
    let event =
        custodia_audit::seal_event_async(&app.vault, event.build(app.clock.as_ref())?).await?;
    app.log.stage(conn, &event).await?;
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
                // Moves the events the sweep staged into the log.
                app.log.store().drain_soon();
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
