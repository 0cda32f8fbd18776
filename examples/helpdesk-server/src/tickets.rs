//! The ticket routes: create, list and search, read with field-level
//! access, change, delete.
//!
//! The rows are the embedded example's (`custodia_example_helpdesk::store`):
//! name, email, phone and text sealed under the contact's key, each envelope
//! bound to (tenant, `ticket`, id, field); the email blind-indexed under the
//! tenant's search key; the subject line in the clear for triage. Every
//! query runs in the request's tenant-bound transaction ([`Tx`]), so none
//! says `WHERE tenant_id`.
//!
//! A ticket whose contact restricted its processing (GDPR Art. 18, a
//! restriction request run through `/privacy/requests`) is kept but not
//! processed: it is left out of `GET /tickets` and its email search, and
//! reading it (but by the DPO, who answers the contact's requests and
//! legal claims), changing, deleting or summarising it answers 409. Only
//! the desk changes it then: an erasure request, or lifting the
//! restriction. The retention sweep keeps it too, however due (see the
//! `retention` module). A ticket whose contact objected to `ai_assistance`
//! (Art. 21) is not summarised (409). A ticket a legal hold of the
//! retention policy covers is not deleted (409), as the sweep and an
//! erasure request keep it; it can still be read and changed.
//!
//! The restriction covers the contact's new tickets too, until it is
//! lifted (Art. 18(1), (3)), and an objection covers them as well (Art.
//! 21: the contact objects, not a ticket). Both are kept per contact in
//! the embedded example's contact register (table `contact_processing`,
//! one row per contact id with something restricted or objected to, no
//! clear value; a tenant table under row-level security), which the desk
//! writes with every restriction, lift or objection (for a contact with no
//! ticket, through the request store: see the `privacy` module) and which
//! an erasure of the contact removes. `POST /tickets` for a restricted
//! contact (by `contact_key`, or by an email that finds them) accepts and
//! stores the ticket, restricted, and answers 201 with `"processing":
//! "restricted"` (else `"active"`): the caller learns nothing a 409 on the
//! contact's other tickets does not already say, and knows why the ticket
//! they just made is not listed. A ticket of a contact who objected to
//! `ai_assistance` is stored with that objection, so its summary answers
//! 409. The `INSERT` decides both columns itself, from the register (and
//! the contact's stored tickets, for a restriction recorded before the
//! register existed), after taking the contact's advisory lock
//! (`custodia_example_helpdesk::store::CONTACT_LOCK`), which the desk's
//! restriction, lift, objection and erasure take too and which they apply
//! to every ticket of the contact: a restriction landing while the ticket
//! is being created either restricts it too or is seen by it, and a lift
//! frees it with the others. A contact with no ticket is reached by their
//! contact id: a ticket found only by an email no stored ticket carries any
//! more gets a new contact id, so give `contact_key` (see the crate docs).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use custodia_audit::{FieldChange, Target};
use custodia_axum::{Audit, Identity, Json, Tenant, Tx};
use custodia_core::chrono::DateTime;
use custodia_core::{ActorId, DataCategory, Purpose, SubjectId, TenantId, Timestamp};
use custodia_crypt::{BlindIndexConfig, FieldContext, Normalization};
use custodia_example_helpdesk::store::{
    ANONYMIZED_SUBJECT, Processing, RECORD_TYPE, SEALED, contact_lock_key, new_ticket_objections,
    new_ticket_processing, ticket_retention_record,
};
use custodia_tenant::TenantContext;
use custodia_tenant::access::{FieldAccess, Operation, Ownership};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx_core::query::query;
use sqlx_core::row::Row as _;
use sqlx_postgres::{PgConnection, PgRow, Postgres};

use crate::app::{ApiError, App, Query, bad_request, forbidden, not_found};

/// The blind index of contact emails: the embedded example's, so its
/// data-subject source finds the server's tickets by email too.
pub(crate) const EMAIL_INDEX: BlindIndexConfig = BlindIndexConfig {
    output_len: 16,
    normalize: Normalization::Email,
};

/// The external-key system of contact keys given at creation (the
/// example's contacts are `psa.contact 1017`, ...).
pub(crate) const CONTACT_SYSTEM: &str = "psa.contact";

/// The statuses a ticket may have.
const STATUSES: [&str; 3] = ["open", "closed", "spam"];

/// A ticket to store.
pub(crate) struct NewRow<'a> {
    /// Its id, or `None` for the next `T-<n>`.
    pub(crate) id: Option<&'a str>,
    /// Its contact, or `None` to find them by email (else a new one).
    pub(crate) subject: Option<SubjectId>,
    /// The agent it belongs to.
    pub(crate) owner: ActorId,
    pub(crate) created: Timestamp,
    pub(crate) closed: Option<Timestamp>,
    pub(crate) status: &'a str,
    pub(crate) subject_line: &'a str,
    pub(crate) name: &'a str,
    pub(crate) email: &'a str,
    pub(crate) phone: &'a str,
    pub(crate) body: &'a str,
}

/// The blind-index token of `email` in `tenant`.
pub(crate) async fn email_index(
    app: &App,
    tenant: TenantId,
    email: &str,
) -> Result<Vec<u8>, ApiError> {
    let index = app
        .keyring
        .blind_index(tenant, RECORD_TYPE, "email", EMAIL_INDEX)
        .await?;
    Ok(index.compute(email).as_bytes().to_vec())
}

/// A ticket as [`insert`] stored it.
pub(crate) struct Inserted {
    /// Its id.
    pub(crate) id: String,
    /// Its contact.
    pub(crate) subject: SubjectId,
    /// As stored: restricted if its contact's processing is, with the
    /// purposes they objected to (see the [module docs](self)).
    pub(crate) processing: Processing,
}

/// The new ticket's row in `ticket_tenants` (`$1` id, `$2` tenant), stored
/// by the statement that takes the contact's lock
/// ([`CONTACT_LOCK`](custodia_example_helpdesk::store::CONTACT_LOCK), key
/// `$3`): the lock is taken before the row is made.
const ROUTE_AND_LOCK: &str = "INSERT INTO ticket_tenants (id, tenant_id) \
     SELECT $1, $2 FROM (SELECT pg_advisory_xact_lock(hashtextextended($3, 0))) AS contact_lock";

/// Stores `row` in `tenant` (on `conn`, bound to it): seals the personal
/// fields under the contact's key, indexes the email. The row is stored
/// restricted if the contact's processing is, decided in the `INSERT`
/// under the contact's lock, which `conn`'s transaction then holds until
/// it ends (see the [module docs](self)).
pub(crate) async fn insert(
    app: &App,
    conn: &mut PgConnection,
    tenant: TenantId,
    row: &NewRow<'_>,
) -> Result<Inserted, ApiError> {
    let id = match row.id {
        Some(id) => id.to_owned(),
        None => {
            let n: i64 = query::<Postgres>("SELECT nextval('ticket_ids')")
                .fetch_one(&mut *conn)
                .await?
                .try_get(0)?;
            format!("T-{n}")
        }
    };
    let index = email_index(app, tenant, row.email).await?;
    let subject = match row.subject {
        Some(subject) => subject,
        None => {
            let known = query::<Postgres>(
                "SELECT subject_id FROM tickets WHERE email_index = $1 AND subject_id IS NOT NULL \
                 ORDER BY created_at, id LIMIT 1",
            )
            .bind(&index)
            .fetch_optional(&mut *conn)
            .await?;
            match known {
                Some(r) => parse(&r.try_get::<String, _>(0)?, "contact id")?,
                None => SubjectId::random(),
            }
        }
    };
    let mut sealed = Vec::with_capacity(SEALED.len());
    for ((field, _), value) in SEALED
        .iter()
        .zip([row.name, row.email, row.phone, row.body])
    {
        let ctx = FieldContext::new(tenant, RECORD_TYPE, &id, field)?;
        sealed.push(app.vault.seal(subject, &ctx, value.as_bytes()).await?);
    }
    // The id's route, and the contact's lock taken by the same statement
    // (one round trip), as late as before the separate lock: the lock is
    // held until the transaction ends, so the shorter the wait to the
    // commit, the less another ticket of the contact waits. The contact's
    // state is read by the INSERT after it, a later statement and so a
    // snapshot taken after the lock: a restriction or lift of this contact
    // (the desk's, on another connection) is ordered with this ticket,
    // never passes it.
    query::<Postgres>(ROUTE_AND_LOCK)
        .bind(&id)
        .bind(tenant.as_uuid())
        .bind(contact_lock_key(tenant, subject))
        .execute(&mut *conn)
        .await?;
    let stored = query::<Postgres>(&format!(
        "INSERT INTO tickets (tenant_id, id, subject_id, owner, created_at, closed_at, status, \
         subject_line, name, email, phone, body, email_index, sealed_by, processing, \
         objections) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'subject', {}, {}) \
         RETURNING processing, objections",
        new_ticket_processing(1, 3),
        new_ticket_objections(1, 3)
    ))
    .bind(tenant.as_uuid())
    .bind(&id)
    .bind(subject.to_string())
    .bind(row.owner.to_string())
    .bind(row.created.to_rfc3339())
    .bind(row.closed.map(|c| c.to_rfc3339()))
    .bind(row.status)
    .bind(row.subject_line)
    .bind(&sealed[0])
    .bind(&sealed[1])
    .bind(&sealed[2])
    .bind(&sealed[3])
    .bind(&index)
    .fetch_one(&mut *conn)
    .await?;
    let processing = Processing::from_columns(
        &stored.try_get::<String, _>(0)?,
        &stored.try_get::<String, _>(1)?,
    )
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Inserted {
        id,
        subject,
        processing,
    })
}

/// A stored value that does not parse: the database holds something this
/// server did not write.
fn parse<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, ApiError> {
    text.parse()
        .map_err(|_| ApiError::Internal(format!("a stored {what} does not parse: {text:?}")))
}

fn timestamp(text: &str) -> Result<Timestamp, ApiError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.to_utc())
        .map_err(|_| ApiError::Internal(format!("a stored time does not parse: {text:?}")))
}

/// The columns [`Stored::from_row`] reads.
pub(crate) const COLUMNS: &str = "id, subject_id, owner, created_at, closed_at, status, \
     subject_line, name, email, phone, body, sealed_by, processing, objections";

/// One ticket row as stored.
pub(crate) struct Stored {
    pub(crate) tenant: TenantId,
    pub(crate) id: String,
    pub(crate) subject: Option<SubjectId>,
    pub(crate) owner: ActorId,
    pub(crate) created: Timestamp,
    pub(crate) closed: Option<Timestamp>,
    pub(crate) status: String,
    pub(crate) subject_line: String,
    /// The sealed fields, in [`SEALED`] order.
    pub(crate) sealed: [Option<Vec<u8>>; 4],
    /// Whether the fields are under the contact's key (else the tenant's,
    /// for a ticket an erasure kept).
    pub(crate) under_subject_key: bool,
    /// Restricted (Art. 18), purposes objected to (Art. 21).
    pub(crate) processing: Processing,
}

impl Stored {
    fn from_row(tenant: TenantId, row: &PgRow) -> Result<Self, ApiError> {
        let subject: Option<String> = row.try_get("subject_id")?;
        let closed: Option<String> = row.try_get("closed_at")?;
        Ok(Self {
            tenant,
            id: row.try_get("id")?,
            subject: subject.map(|s| parse(&s, "contact id")).transpose()?,
            owner: parse(&row.try_get::<String, _>("owner")?, "agent id")?,
            created: timestamp(&row.try_get::<String, _>("created_at")?)?,
            closed: closed.as_deref().map(timestamp).transpose()?,
            status: row.try_get("status")?,
            subject_line: row.try_get("subject_line")?,
            sealed: [
                row.try_get("name")?,
                row.try_get("email")?,
                row.try_get("phone")?,
                row.try_get("body")?,
            ],
            under_subject_key: row.try_get::<String, _>("sealed_by")? == "subject",
            processing: Processing::from_columns(
                &row.try_get::<String, _>("processing")?,
                &row.try_get::<String, _>("objections")?,
            )
            .map_err(|e| ApiError::Internal(e.to_string()))?,
        })
    }

    /// 409 unless the ticket may be processed for `purpose` (see the
    /// [module docs](self)).
    pub(crate) fn processable(&self, purpose: &Purpose) -> Result<(), ApiError> {
        if self.processing.restricted {
            return Err(bad_request(
                StatusCode::CONFLICT,
                format!(
                    "ticket {}: its contact restricted its processing (GDPR Art. 18): it is kept, \
                     and only their requests change it until the restriction is lifted",
                    self.id
                ),
            ));
        }
        if !self.processing.allows(purpose) {
            return Err(bad_request(
                StatusCode::CONFLICT,
                format!(
                    "ticket {}: its contact objected to processing for {purpose} (GDPR Art. 21)",
                    self.id
                ),
            ));
        }
        Ok(())
    }

    /// 409 when a legal hold of the retention policy covers the ticket:
    /// kept for the hold, as the sweep and an erasure request keep it, so
    /// no supervisor deletes it either. The hold is not named (its id is
    /// the policy's, shared by every tenant).
    pub(crate) fn not_held(&self, app: &App) -> Result<(), ApiError> {
        let record = ticket_retention_record(
            &self.id,
            self.tenant,
            self.subject,
            self.created,
            self.closed,
            &self.status,
        );
        if app.retention.decide(&record).held_by.is_empty() {
            return Ok(());
        }
        Err(bad_request(
            StatusCode::CONFLICT,
            format!(
                "ticket {}: a legal hold of the retention policy covers it: it is kept until the hold is released",
                self.id
            ),
        ))
    }

    /// What access decisions need.
    pub(crate) fn ownership(&self) -> Ownership {
        Ownership {
            tenant: self.tenant,
            owner: Some(self.owner),
            team: None,
        }
    }

    /// Opens field `i` of [`SEALED`]: `Ok(None)` when the column is empty,
    /// `Err(Erased)` when its key was shredded.
    pub(crate) async fn open(&self, app: &App, i: usize) -> Result<Opened, ApiError> {
        let Some(envelope) = &self.sealed[i] else {
            return Ok(Opened::Empty);
        };
        let ctx = FieldContext::new(self.tenant, RECORD_TYPE, &self.id, SEALED[i].0)?;
        let opened = if self.under_subject_key {
            app.vault.open(&ctx, envelope).await
        } else {
            app.keyring.open(&ctx, envelope).await
        };
        match opened {
            // Sealed from a `&str`: valid UTF-8, so no copy but in a damaged case.
            Ok(clear) => Ok(Opened::Value(
                String::from_utf8(clear)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            )),
            Err(
                custodia_crypt::Error::Shredded { .. }
                | custodia_crypt::Error::TenantShredded { .. },
            ) => Ok(Opened::Erased),
            Err(e) => Err(e.into()),
        }
    }

    /// Seals `value` for field `field` under whichever key the row uses now.
    async fn seal(&self, app: &App, field: &str, value: &str) -> Result<Vec<u8>, ApiError> {
        let ctx = FieldContext::new(self.tenant, RECORD_TYPE, &self.id, field)?;
        Ok(match self.subject {
            Some(subject) if self.under_subject_key => {
                app.vault.seal(subject, &ctx, value.as_bytes()).await?
            }
            _ => app.keyring.seal(&ctx, value.as_bytes()).await?,
        })
    }

    /// The list entry: no personal field but the subject line, as the
    /// caller's field access shows it (left out where it is hidden).
    fn summary(&self, app: &App, ctx: &TenantContext) -> Result<Value, ApiError> {
        let mut entry = json!({
            "id": self.id,
            "status": self.status,
            "created_at": self.created,
            "closed_at": self.closed,
        });
        if let Some((line, _)) = subject_line_for(app, ctx, self)? {
            entry["subject_line"] = line.into();
        }
        Ok(entry)
    }
}

/// A sealed field, opened.
pub(crate) enum Opened {
    /// The column is empty (erased, anonymized).
    Empty,
    /// The clear value.
    Value(String),
    /// The key it was sealed under is shredded: a copy that outlived an
    /// erasure (a restored backup) reads as nothing.
    Erased,
}

/// The ticket `id` of the transaction's tenant, or the 404 a missing and a
/// foreign id share.
pub(crate) async fn load(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: &str,
) -> Result<Stored, ApiError> {
    load_with(conn, tenant, id, "").await
}

/// [`load`], the row locked until the transaction ends: a change checked
/// against the row's restriction cannot pass one that lands meanwhile.
pub(crate) async fn load_for_update(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: &str,
) -> Result<Stored, ApiError> {
    load_with(conn, tenant, id, " FOR UPDATE").await
}

async fn load_with(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: &str,
    lock: &'static str,
) -> Result<Stored, ApiError> {
    let row = query::<Postgres>(&format!(
        "SELECT {COLUMNS} FROM tickets WHERE id = $1{lock}"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    let row = row.ok_or_else(|| not_found("ticket"))?;
    Stored::from_row(tenant, &row)
}

/// `Ok` if the caller's roles allow `op` on `ticket` (a 403 that names
/// the rule otherwise: the ticket is the caller's tenant's own).
pub(crate) fn allow(
    app: &App,
    ctx: &TenantContext,
    op: Operation,
    ticket: Option<&Stored>,
) -> Result<(), ApiError> {
    let policy = app
        .policies
        .get(&ctx.tenant())
        .ok_or_else(|| forbidden("this tenant has no access policy here"))?;
    // The verdict first; the explanation (copied out of the policy) only
    // for the refusal that quotes it.
    if let Some(t) = ticket
        && policy.allows(ctx, "ticket", op, &t.ownership())
    {
        return Ok(());
    }
    let decision = match ticket {
        Some(t) => policy.decide(ctx, "ticket", op, &t.ownership()),
        None => policy.decide_unowned(ctx, "ticket", op),
    };
    if decision.allowed {
        Ok(())
    } else {
        Err(forbidden(format!(
            "{} ticket: {}",
            op.as_str(),
            decision.reason
        )))
    }
}

/// The access the caller gets to `category` in `ticket`.
pub(crate) fn field_access(
    app: &App,
    ctx: &TenantContext,
    ticket: &Stored,
    category: &DataCategory,
) -> FieldAccess {
    app.policies
        .get(&ctx.tenant())
        .map_or(FieldAccess::Hidden, |p| {
            p.field_level(ctx, "ticket", &ticket.ownership(), category)
        })
}

/// The body of `POST /tickets`. Public so that the load run's plain
/// baseline reads and checks a ticket as the helpdesk does (the input
/// rules are the helpdesk's work, not Custodia's).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTicket {
    /// The ticket's subject line (at most 200 characters).
    pub subject_line: String,
    /// The contact's name (at most 200 characters).
    pub name: String,
    /// The contact's email address (at most 254 characters).
    pub email: String,
    /// The contact's phone number (at most 50 characters; may be empty).
    #[serde(default)]
    pub phone: String,
    /// The ticket's text (at most 20,000 characters; newlines and tabs allowed).
    pub body: String,
    /// The contact's key in the tenant's own system (`psa.contact`); else
    /// the contact is found by email, or new.
    #[serde(default)]
    pub contact_key: Option<String>,
}

/// `text` unless it is longer than `max` characters or holds control
/// characters (`lines`: newlines and tabs allowed).
fn checked<'a>(field: &str, text: &'a str, max: usize, lines: bool) -> Result<&'a str, ApiError> {
    within(field, text, max, lines)
        .map_err(|why| bad_request(StatusCode::UNPROCESSABLE_ENTITY, why))?;
    Ok(text)
}

/// [`checked`]'s rule, its refusal as text.
fn within(field: &str, text: &str, max: usize, lines: bool) -> Result<(), String> {
    if text.chars().count() > max {
        return Err(format!("{field} is longer than {max} characters"));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !(lines && (c == '\n' || c == '\t' || c == '\r')))
    {
        return Err(format!("{field} holds control characters"));
    }
    Ok(())
}

impl NewTicket {
    /// Why the helpdesk refuses this ticket (`POST /tickets` answers 422
    /// with it), if it does: an empty subject line or name, an email
    /// without a local part or a domain, a field over its length, or
    /// control characters (the body may hold newlines and tabs).
    pub fn check(&self) -> Result<(), String> {
        if self.subject_line.trim().is_empty() {
            return Err("subject_line is empty".into());
        }
        if self.name.trim().is_empty() {
            return Err("name is empty".into());
        }
        let email = self.email.trim();
        if !email.contains('@') || email.starts_with('@') || email.ends_with('@') {
            return Err("email is not an email address".into());
        }
        within("subject_line", &self.subject_line, 200, false)?;
        within("name", &self.name, 200, false)?;
        within("email", &self.email, 254, false)?;
        within("phone", &self.phone, 50, false)?;
        within("body", &self.body, 20_000, true)?;
        if let Some(key) = &self.contact_key {
            within("contact_key", key, 100, false)?;
            if key.is_empty() {
                return Err("contact_key is empty".into());
            }
        }
        Ok(())
    }
}

/// `POST /tickets`: 201 `{"id", "contact", "processing"}`, `processing`
/// being `"restricted"` when the contact's processing is restricted (the
/// ticket is stored, and withheld as their others are; see the
/// [module docs](self)), else `"active"`.
pub(crate) async fn create(
    State(app): State<Arc<App>>,
    identity: Identity,
    mut tx: Tx,
    Json(new): Json<NewTicket>,
) -> Result<(StatusCode, Audit, Json<Value>), ApiError> {
    let ctx = identity.context();
    new.check()
        .map_err(|why| bad_request(StatusCode::UNPROCESSABLE_ENTITY, why))?;
    allow(&app, ctx, Operation::Create, None)?;
    let tenant = ctx.tenant();
    let row = NewRow {
        id: None,
        subject: new
            .contact_key
            .as_deref()
            .map(|key| SubjectId::from_external_key(tenant, CONTACT_SYSTEM, key)),
        owner: ctx.actor(),
        created: app.clock.now(),
        closed: None,
        status: "open",
        subject_line: new.subject_line.trim(),
        name: new.name.trim(),
        email: new.email.trim(),
        phone: new.phone.trim(),
        body: &new.body,
    };
    let stored = insert(&app, &mut tx, tenant, &row).await?;
    let audit = Audit::new(Target::new(RECORD_TYPE, &stored.id)?).subject(stored.subject);
    let processing = if stored.processing.restricted {
        "restricted"
    } else {
        "active"
    };
    Ok((
        StatusCode::CREATED,
        audit,
        Json(json!({ "id": stored.id, "contact": stored.subject, "processing": processing })),
    ))
}

/// The query of `GET /tickets`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    /// Only tickets with this status.
    status: Option<String>,
    /// Only tickets of contacts with this email (by blind index).
    email: Option<String>,
}

/// `GET /tickets`: the tenant's tickets the caller may read, newest first
/// (at most 500), without personal fields; restricted ones left out.
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    Tenant(ctx): Tenant,
    mut tx: Tx,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    if let Some(status) = &q.status
        && !STATUSES.contains(&status.as_str())
    {
        return Err(bad_request(
            StatusCode::BAD_REQUEST,
            format!("status must be one of {}", STATUSES.join(", ")),
        ));
    }
    let index = match &q.email {
        Some(email) => {
            Some(email_index(&app, ctx.tenant(), checked("email", email, 254, false)?).await?)
        }
        None => None,
    };
    let rows = query::<Postgres>(&format!(
        "SELECT {COLUMNS} FROM tickets \
         WHERE ($1::bytea IS NULL OR email_index = $1) AND ($2::text IS NULL OR status = $2) \
         AND processing = 'active' ORDER BY created_at DESC, id LIMIT 500"
    ))
    .bind(index)
    .bind(q.status)
    .fetch_all(&mut *tx)
    .await?;
    let mut out = Vec::new();
    for row in &rows {
        let ticket = Stored::from_row(ctx.tenant(), row)?;
        if allow(&app, &ctx, Operation::Read, Some(&ticket)).is_ok() {
            out.push(ticket.summary(&app, &ctx)?);
        }
    }
    Ok(Json(out))
}

/// Masks a field for a role that may see it only masked: the email's
/// first letter and domain, the phone's last three digits, the name's
/// initials, the text through the PII detector.
fn masked(masker: &custodia_mask::Masker, field: &str, value: &str) -> Result<String, ApiError> {
    Ok(match field {
        "email" => match value.split_once('@') {
            Some((local, domain)) => {
                format!("{}***@{domain}", local.chars().next().unwrap_or('*'))
            }
            None => "***".into(),
        },
        "phone" => {
            let digits = value.chars().filter(char::is_ascii_digit).count();
            let mut seen = 0;
            value
                .chars()
                .map(|c| {
                    if c.is_ascii_digit() {
                        seen += 1;
                        if seen + 3 <= digits { '*' } else { c }
                    } else {
                        c
                    }
                })
                .collect()
        }
        "name" => value
            .split_whitespace()
            .filter_map(|w| w.chars().next())
            .map(|c| format!("{c}."))
            .collect::<Vec<_>>()
            .join(" "),
        _ => masker.mask(value)?.text,
    })
}

/// The ticket's subject line as `ctx` may see it (the ticket text's
/// category): clear, masked (`true`) through the detector as the body is,
/// or `None` where it is hidden.
fn subject_line_for(
    app: &App,
    ctx: &TenantContext,
    ticket: &Stored,
) -> Result<Option<(String, bool)>, ApiError> {
    let access = field_access(app, ctx, ticket, &DataCategory::USER_CONTENT_TICKET);
    Ok(if access.can_read() {
        Some((ticket.subject_line.clone(), false))
    } else if access == FieldAccess::Masked {
        let line = masked(&app.field_masker, "subject_line", &ticket.subject_line)?;
        Some((line, true))
    } else {
        None
    })
}

/// The body of `GET /tickets/{id}`, serialized from the ticket as read (no
/// JSON tree built first). Fields in name order: the order the body had
/// when it was a `serde_json::Map`, so the bytes are the same.
#[derive(Serialize)]
pub(crate) struct Reading {
    closed_at: Option<Timestamp>,
    contact: Option<SubjectId>,
    created_at: Timestamp,
    erased: Vec<&'static str>,
    fields: BTreeMap<&'static str, String>,
    hidden: Vec<&'static str>,
    id: String,
    masked: Vec<&'static str>,
    owner: ActorId,
    status: String,
}

/// `GET /tickets/{id}`: the ticket with each personal field as the
/// caller's roles allow: in `fields` (clear or masked), or named in
/// `hidden`; fields whose key was shredded are named in `erased`.
pub(crate) async fn read(
    State(app): State<Arc<App>>,
    identity: Identity,
    mut tx: Tx,
    Path(id): Path<String>,
) -> Result<(Audit, Json<Reading>), ApiError> {
    // The shared identity, not a copy of its context (`Tenant`).
    let ctx = identity.context();
    let ticket = load(&mut tx, ctx.tenant(), &id).await?;
    allow(&app, ctx, Operation::Read, Some(&ticket))?;
    // The DPO reads a restricted ticket to answer its contact (Art. 18(2):
    // legal claims, the person's rights); nobody else does.
    if !ctx.roles().iter().any(|r| r.as_str() == crate::access::DPO) {
        ticket.processable(&Purpose::SUPPORT)?;
    }
    let mut fields = BTreeMap::new();
    let (mut hidden, mut shown_masked, mut erased) = (Vec::new(), Vec::new(), Vec::new());
    let line = subject_line_for(&app, ctx, &ticket)?;
    match &line {
        None => hidden.push("subject_line"),
        Some((_, true)) => shown_masked.push("subject_line"),
        Some((_, false)) => {}
    }
    for (i, (field, category)) in SEALED.iter().enumerate() {
        let access = field_access(&app, ctx, &ticket, category);
        if access == FieldAccess::Hidden {
            hidden.push(*field);
            continue;
        }
        match ticket.open(&app, i).await? {
            Opened::Empty => {}
            Opened::Erased => erased.push(*field),
            Opened::Value(value) if access.can_read() => {
                fields.insert(*field, value);
            }
            Opened::Value(value) => {
                shown_masked.push(*field);
                fields.insert(*field, masked(&app.field_masker, field, &value)?);
            }
        }
    }
    let mut audit = Audit::new(Target::new(RECORD_TYPE, &ticket.id)?);
    if let Some(subject) = ticket.subject {
        audit = audit.subject(subject);
    }
    if let Some((line, _)) = line {
        fields.insert("subject_line", line);
    }
    Ok((
        audit,
        Json(Reading {
            closed_at: ticket.closed,
            contact: ticket.subject,
            created_at: ticket.created,
            erased,
            fields,
            hidden,
            id: ticket.id,
            masked: shown_masked,
            owner: ticket.owner,
            status: ticket.status,
        }),
    ))
}

/// The body of `PATCH /tickets/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Patch {
    subject_line: Option<String>,
    status: Option<String>,
    body: Option<String>,
}

/// `PATCH /tickets/{id}`: the ticket's new summary. The subject line's old
/// and new values go into the audit event, sealed under the contact's key.
pub(crate) async fn update(
    State(app): State<Arc<App>>,
    Tenant(ctx): Tenant,
    mut tx: Tx,
    Path(id): Path<String>,
    Json(patch): Json<Patch>,
) -> Result<(Audit, Json<Value>), ApiError> {
    let mut ticket = load_for_update(&mut tx, ctx.tenant(), &id).await?;
    allow(&app, &ctx, Operation::Update, Some(&ticket))?;
    ticket.processable(&Purpose::SUPPORT)?;
    if patch.subject_line.is_none() && patch.status.is_none() && patch.body.is_none() {
        return Err(bad_request(
            StatusCode::UNPROCESSABLE_ENTITY,
            "nothing to change: give subject_line, status or body",
        ));
    }
    let content = field_access(&app, &ctx, &ticket, &DataCategory::USER_CONTENT_TICKET);
    if (patch.subject_line.is_some() || patch.body.is_some()) && !content.can_write() {
        return Err(forbidden("your roles may not change the ticket's text"));
    }
    let mut audit = Audit::new(Target::new(RECORD_TYPE, &ticket.id)?);
    if let Some(subject) = ticket.subject {
        audit = audit.subject(subject);
    }
    if let Some(line) = &patch.subject_line {
        let line = checked("subject_line", line.trim(), 200, false)?;
        if line.is_empty() {
            return Err(bad_request(
                StatusCode::UNPROCESSABLE_ENTITY,
                "subject_line is empty",
            ));
        }
        query::<Postgres>("UPDATE tickets SET subject_line = $2 WHERE id = $1")
            .bind(&ticket.id)
            .bind(line)
            .execute(&mut *tx)
            .await?;
        // Values are personal: only with a contact to seal them under.
        let (before, after) = match ticket.subject {
            Some(_) => (Some(ticket.subject_line.as_str().into()), Some(line.into())),
            None => (None, None),
        };
        audit = audit.change(FieldChange::new(
            "subject_line",
            DataCategory::USER_CONTENT_TICKET,
            before,
            after,
        ));
        ticket.subject_line = line.to_owned();
    }
    if let Some(body) = &patch.body {
        let body = checked("body", body, 20_000, true)?;
        let sealed = ticket.seal(&app, "body", body).await?;
        query::<Postgres>("UPDATE tickets SET body = $2 WHERE id = $1")
            .bind(&ticket.id)
            .bind(sealed)
            .execute(&mut *tx)
            .await?;
        audit = audit.change(FieldChange::new(
            "body",
            DataCategory::USER_CONTENT_TICKET,
            None,
            None,
        ));
    }
    if let Some(status) = &patch.status {
        if !STATUSES.contains(&status.as_str()) {
            return Err(bad_request(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("status must be one of {}", STATUSES.join(", ")),
            ));
        }
        let closed = match (status.as_str(), ticket.closed) {
            ("closed", Some(at)) => Some(at),
            ("closed", None) => Some(app.clock.now()),
            _ => None,
        };
        query::<Postgres>("UPDATE tickets SET status = $2, closed_at = $3 WHERE id = $1")
            .bind(&ticket.id)
            .bind(status)
            .bind(closed.map(|c| c.to_rfc3339()))
            .execute(&mut *tx)
            .await?;
        ticket.status.clone_from(status);
        ticket.closed = closed;
    }
    Ok((audit, Json(ticket.summary(&app, &ctx)?)))
}

/// `DELETE /tickets/{id}`: 204.
pub(crate) async fn delete(
    State(app): State<Arc<App>>,
    Tenant(ctx): Tenant,
    mut tx: Tx,
    Path(id): Path<String>,
) -> Result<(Audit, StatusCode), ApiError> {
    let ticket = load_for_update(&mut tx, ctx.tenant(), &id).await?;
    allow(&app, &ctx, Operation::Delete, Some(&ticket))?;
    // Erasing a restricted contact's data is the desk's (an erasure
    // request, with its exceptions and certificate), not a supervisor's.
    ticket.processable(&Purpose::SUPPORT)?;
    // Found in review: a held ticket the sweep withheld was deleted here.
    ticket.not_held(&app)?;
    query::<Postgres>("DELETE FROM tickets WHERE id = $1")
        .bind(&ticket.id)
        .execute(&mut *tx)
        .await?;
    let mut audit = Audit::new(Target::new(RECORD_TYPE, &ticket.id)?);
    if let Some(subject) = ticket.subject {
        audit = audit.subject(subject);
    }
    Ok((audit, StatusCode::NO_CONTENT))
}

/// What an anonymized ticket's subject line becomes (the example's).
pub(crate) const ANONYMIZED: &str = ANONYMIZED_SUBJECT;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_fields_keep_a_hint_and_never_the_value() {
        let masker = custodia_mask::Masker::new(custodia_mask::Detector::new());
        let mask = |field, value| masked(&masker, field, value).unwrap();
        assert_eq!(mask("email", "Alice.Ng@example.com"), "A***@example.com");
        assert_eq!(mask("email", "no-at-sign"), "***");
        assert_eq!(mask("phone", "+61 412 345 678"), "+** *** *** 678");
        assert_eq!(mask("phone", "12"), "12");
        assert_eq!(mask("name", "Alice  Ng"), "A. N.");
        let body = mask(
            "body",
            "Mail me at alice.ng@example.com or call +61 412 345 678.",
        );
        assert!(
            !body.contains("alice.ng") && !body.contains("412 345"),
            "{body}"
        );
    }

    #[test]
    fn a_reading_serializes_as_the_json_tree_it_replaced() {
        let (subject, owner) = (SubjectId::random(), ActorId::random());
        let created = Timestamp::from_timestamp(1_800_000_000, 123_456_000).unwrap();
        for (closed, contact) in [(None, Some(subject)), (Some(created), None)] {
            let reading = Reading {
                closed_at: closed,
                contact,
                created_at: created,
                erased: vec!["phone"],
                fields: BTreeMap::from([("name", "Ng \"A\"".to_owned()), ("email", "a@b".into())]),
                hidden: vec!["subject_line", "body"],
                id: "T-1".into(),
                masked: vec![],
                owner,
                status: "open".into(),
            };
            let mut fields = serde_json::Map::new();
            fields.insert("name".into(), "Ng \"A\"".into());
            fields.insert("email".into(), "a@b".into());
            let tree = json!({
                "id": "T-1", "status": "open", "created_at": created, "closed_at": closed,
                "contact": contact, "owner": owner, "fields": fields,
                "hidden": ["subject_line", "body"], "masked": Vec::<&str>::new(), "erased": ["phone"],
            });
            assert_eq!(
                serde_json::to_string(&reading).unwrap(),
                serde_json::to_string(&tree).unwrap()
            );
        }
    }

    #[test]
    fn long_or_control_text_is_refused_with_the_field_named() {
        assert!(checked("name", "Zoë", 3, false).is_ok());
        for (text, lines, says) in [
            ("four", false, "longer than 3"),
            ("a\u{7}", false, "control"),
            ("a\nb", false, "control"),
        ] {
            let Err(ApiError::Http(e)) = checked("name", text, 3, lines) else {
                panic!("{text:?} passed");
            };
            assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
            assert!(e.public_message().contains("name") && e.public_message().contains(says));
        }
        assert!(checked("body", "a\nb", 3, true).is_ok());
    }
}
