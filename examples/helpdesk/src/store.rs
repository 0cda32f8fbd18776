//! The helpdesk's `tickets` table in SQLite or PostgreSQL (under row-level
//! security, every statement bound to its tenant), with sealed contact fields.
//!
//! Name, email, phone and the ticket text are sealed under the contact's own
//! key ([`SubjectVault`], whose keys are wrapped by the tenant's random data
//! key in the [`Keyring`]); each envelope is bound to (tenant, `ticket`, id,
//! field), so it cannot be copied to another row. `email_index` is a blind
//! index (HMAC under the tenant's search key) for finding a contact by email
//! without decrypting. The same table is custodia-dsr's
//! [`PersonalDataSource`] `"tickets"`.
//!
//! When an erasure keeps a ticket (a retention rule or legal hold), the desk
//! asks the store to re-seal it ([`PersonalDataSource::reseal_kept`]): its
//! four fields move to the tenant's data key in one transaction and column
//! `sealed_by` turns from `subject` to `tenant`. The contact's key can then be
//! shredded at once, erasing every other copy (backups, audit values), while
//! the kept ticket stays readable for the reason it is kept.
//!
//! A restriction of processing (GDPR Art. 18, [`Restriction::Restrict`])
//! marks the contact's tickets `processing = 'restricted'`: they are kept
//! (storage is allowed) but no longer processed. The agents' search by
//! email ([`Tickets::find_by_email`]) leaves them out, their subject line
//! cannot be changed ([`Error::Restricted`]), and a host checks
//! [`Processing::allows`] before any other use (the helpdesk server refuses
//! the summariser, reads by agents and changes). What stays possible is
//! what Art. 18(2) and the desk need: the data-subject requests themselves
//! (access, rectification, erasure, which also ends the restriction of an
//! anonymized ticket), finding the contact for them
//! ([`Tickets::subjects_by_email`]), and lifting the restriction
//! ([`Restriction::Lift`]). While restricted, the retention sweep deletes
//! or anonymizes none of them, even past their period (Art. 18(1)(b) and
//! (c): the contact opposed erasure, or needs the data for legal claims):
//! [`sweep_policy`] adds a hold ([`RESTRICTION_HOLD`]) over the restricted
//! rows, so the sweep keeps them as it keeps legally held ones and lists
//! each one due with the restriction as the reason. Once lifted, the next
//! sweep applies the policy as usual. An erasure request is not a sweep:
//! the contact may still ask for erasure. An objection (Art. 21,
//! [`Restriction::StopPurposes`]) records the purposes objected to in
//! column `objections`; [`Processing::allows`] refuses those purposes only.
//!
//! A restriction covers the contact, not only the tickets they had when
//! they asked (Art. 18(1), (3): until it is lifted), and so does an
//! objection (Art. 21(1), (3): the contact objects, not a ticket). Both
//! are kept in the **contact register** ([`CONTACT_REGISTER`], table
//! `contact_processing`): one row per contact (tenant, contact id) whose
//! processing is restricted or who objected to a purpose, holding that
//! state and those purposes only. The contact id is the pseudonymous one
//! their tickets carry (no name, email or other clear value), and on
//! PostgreSQL the table is a tenant table under row-level security as
//! `tickets` is. A contact with nothing restricted or objected to has no
//! row: a lift that leaves no objection removes it.
//!
//! Restricting, lifting or objecting ([`Tickets::restrict_contact`], which
//! the desk reaches through [`PersonalDataSource::restrict`] for each
//! ticket it locates) writes the register and changes every ticket of the
//! contact at once. A ticket stored for the contact takes its state from
//! the register: [`Tickets::insert`] decides columns `processing` and
//! `objections` inside its `INSERT` ([`new_ticket_processing`],
//! [`new_ticket_objections`]) and says what it stored. So a contact
//! restricted while they had no ticket gets their first ticket restricted,
//! and a contact who objected to `ai_assistance` gets their next ticket
//! not summarised, even once their earlier tickets were deleted (the
//! retention sweep keeps restricted tickets, not objected ones). The
//! two cannot pass each other: SQLite runs each transaction alone, and on
//! PostgreSQL both first take the contact's transaction-scoped advisory
//! lock ([`CONTACT_LOCK`], [`contact_lock_key`]), so an insert either
//! commits before the restriction's statements read (which then restrict
//! it too) or reads the restriction's commit.
//!
//! custodia-dsr's desk reaches the register once per request, whether or
//! not the contact has a ticket, through the tickets source's
//! subject-level step ([`PersonalDataSource::subject_step`], record type
//! [`REGISTER_RECORD_TYPE`], id the pseudonymous contact id): a
//! restriction, lift or objection is written to it before the tickets are
//! located; an access request's bundle lists the contact's row (state and
//! objections, nothing else); an erasure removes it. So does `custodia dsr`
//! over [`crate::serve_source`] (the `custodia-helpdesk-source` program).
//! A desk (or `custodia dsr`) built before the step still reaches the
//! register through each located ticket for a restriction
//! ([`PersonalDataSource::restrict`]), but not for an erasure (below).
//!
//! An erasure removes the contact's register row through the
//! subject-level step alone ([`Tickets::forget_contact`]): the row is data
//! about the person, and keeping it would record that they exist and
//! restricted their processing after they asked to be forgotten. Their
//! restriction ends with it, as it already does for their anonymized
//! tickets: nothing of theirs is left to restrict, and the erasure shreds
//! their key, under which no new ticket of theirs can be sealed.
//! [`PersonalDataSource::erase`] of a ticket leaves the register alone.
//! The desk runs the step once per erasure, before any ticket, so by the
//! time it erases tickets the row the contact had is gone; a deferred
//! erasure's later pass (the key shred waited for a held ticket that could
//! not be re-sealed) never runs the step, and a row it would meet was
//! written after the erasure: a later restriction or objection, which
//! must stand (Art. 18, 21). Removing the row per ticket, as builds before
//! the step did, silently lifted it. So a desk or `custodia dsr` built
//! before the step no longer removes the row when it erases: run the
//! erasure with a current build (every source program of this build
//! offers the step, and every current client sends it).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use custodia_core::chrono::DateTime;
use custodia_core::{ActorId, DataCategory, LegalBasis, Purpose, SubjectId, TenantId, Timestamp};
use custodia_crypt::{
    BlindIndexConfig, FieldContext, KeyStore, Keyring, Normalization, SubjectVault,
};
use custodia_dsr::remote::SubjectDirectory;
use custodia_dsr::{
    BoxError, ErasurePlan, FieldAction, Located, PersonalDataSource, RecordRef, Restriction,
    SubjectOutcome, SubjectRecord, SubjectStep,
};
use custodia_dsr::{ExportedRecord, FieldInfo, FieldUpdate, FieldValue, RecordMeta, ResealOutcome};
use custodia_retention::{HoldScope, LegalHold, RetentionPolicy, RetentionRecord};
use custodia_tenant::TenantOwned;
use rusqlite::OptionalExtension;

use crate::Error;
use crate::sql::{Db, Exec, Value};

/// The vault over the example's key store (the key file, or PostgreSQL).
pub type ContactVault = SubjectVault<Arc<dyn KeyStore>>;

/// The record type in every field context and in data-subject requests.
pub const RECORD_TYPE: &str = "ticket";

/// The sealed fields and their data categories.
pub const SEALED: [(&str, DataCategory); 4] = [
    ("name", DataCategory::USER_NAME),
    ("email", DataCategory::USER_CONTACT_EMAIL),
    ("phone", DataCategory::USER_CONTACT_PHONE),
    ("body", DataCategory::USER_CONTENT_TICKET),
];

/// What an anonymized ticket's subject line becomes.
pub const ANONYMIZED_SUBJECT: &str = "[anonymized]";

/// A new ticket, in clear, as the portal receives it.
pub struct NewTicket<'a> {
    /// Ticket id.
    pub id: &'a str,
    /// The subscriber.
    pub tenant: TenantId,
    /// The contact who raised it.
    pub subject: SubjectId,
    /// The agent it is assigned to.
    pub owner: ActorId,
    /// When it was opened.
    pub created: Timestamp,
    /// When it was closed, if it was.
    pub closed: Option<Timestamp>,
    /// `open`, `closed` or `spam`.
    pub status: &'a str,
    /// Subject line (kept in clear: it is what agents triage on).
    pub subject_line: &'a str,
    /// Contact name.
    pub name: &'a str,
    /// Contact email.
    pub email: &'a str,
    /// Contact phone.
    pub phone: &'a str,
    /// The ticket text.
    pub body: &'a str,
}

/// A ticket row exactly as stored (sealed columns as envelopes): what a
/// backup holds.
#[derive(Clone, Debug)]
pub struct StoredTicket {
    /// Ticket id.
    pub id: String,
    /// The subscriber.
    pub tenant: TenantId,
    /// The contact, `None` once anonymized.
    pub subject: Option<SubjectId>,
    /// The assigned agent.
    pub owner: ActorId,
    /// When opened.
    pub created: Timestamp,
    /// When closed.
    pub closed: Option<Timestamp>,
    /// Status.
    pub status: String,
    /// Subject line, in clear.
    pub subject_line: String,
    /// Sealed fields, in [`SEALED`] order; `None` once erased.
    pub sealed: [Option<Vec<u8>>; 4],
    /// Blind index of the email.
    pub email_index: Option<Vec<u8>>,
    /// Whether the sealed fields are under the contact's own key (`true`, as
    /// written) or were re-sealed under the tenant's data key because an
    /// erasure kept the ticket (`false`; column `sealed_by = 'tenant'`).
    pub sealed_under_subject_key: bool,
    /// Whether and for what the ticket may be processed (Art. 18, 21).
    pub processing: Processing,
}

/// How far a ticket may be processed: restricted to storage (Art. 18), and
/// the purposes its contact objected to (Art. 21). Columns `processing`
/// (`active` or `restricted`) and `objections` (purpose names, one per
/// line).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Processing {
    /// Restricted to storage (GDPR Art. 18).
    pub restricted: bool,
    /// Purposes the contact objected to (GDPR Art. 21).
    pub objections: BTreeSet<Purpose>,
}

impl Processing {
    /// Whether the ticket may be processed for `purpose`: not while it is
    /// restricted, nor for a purpose objected to. Storage, and answering
    /// the contact's own requests, need no check.
    pub fn allows(&self, purpose: &Purpose) -> bool {
        !self.restricted && !self.objections.contains(purpose)
    }

    /// From the columns as stored.
    pub fn from_columns(processing: &str, objections: &str) -> Result<Self, Error> {
        let restricted = match processing {
            "active" => false,
            "restricted" => true,
            other => return Err(Error::Corrupt(format!("processing {other:?}"))),
        };
        let objections = objections
            .lines()
            .filter(|l| !l.is_empty())
            .map(parsed_purpose)
            .collect::<Result<_, _>>()?;
        Ok(Self {
            restricted,
            objections,
        })
    }

    /// Column `objections` for `purposes`.
    fn objections_column(purposes: &BTreeSet<Purpose>) -> String {
        purposes
            .iter()
            .map(Purpose::as_str)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The id of the hold under which a retention sweep keeps restricted
/// tickets (see [`sweep_policy`]); a policy file must not use it.
pub const RESTRICTION_HOLD: &str = "gdpr-art18-restriction";

/// The reason of [`RESTRICTION_HOLD`], in every sweep report that lists a
/// ticket it keeps.
pub const RESTRICTION_REASON: &str =
    "restriction of processing (GDPR Art. 18): kept, not processed, until lifted";

/// The policy a retention sweep of `rows` applies: `policy` itself, or, if
/// any row is restricted, `policy` with one more hold,
/// [`RESTRICTION_HOLD`], over exactly the restricted rows (by tenant and
/// id). A restricted ticket is then kept as a legally held one is, and the
/// plan lists it if due ([`custodia_retention::SweepPlan::withheld`]).
/// Only for sweeps: an erasure request uses `policy` as it is.
pub fn sweep_policy<'p, 'r>(
    policy: &'p RetentionPolicy,
    rows: impl IntoIterator<Item = &'r StoredTicket>,
) -> Result<std::borrow::Cow<'p, RetentionPolicy>, custodia_retention::Error> {
    let mut scope = HoldScope::default();
    for row in rows.into_iter().filter(|r| r.processing.restricted) {
        if !scope.tenants.contains(&row.tenant) {
            scope.tenants.push(row.tenant);
        }
        scope.records.push(row.id.clone());
    }
    if scope.records.is_empty() {
        return Ok(std::borrow::Cow::Borrowed(policy));
    }
    Ok(std::borrow::Cow::Owned(policy.with_hold(LegalHold {
        id: RESTRICTION_HOLD.into(),
        reason: RESTRICTION_REASON.into(),
        applies_to: scope,
    })?))
}

/// The statement a PostgreSQL transaction runs first when it stores a
/// ticket for a contact or restricts or lifts the contact's processing
/// (parameter `$1`: [`contact_lock_key`]). The lock is held until the
/// transaction ends, so a new ticket and a restriction of its contact are
/// ordered: whichever comes second sees the other's commit (the statements
/// after it run at `READ COMMITTED`, each on a fresh snapshot). Any host
/// writing to the tickets table takes it too (the helpdesk server does).
pub const CONTACT_LOCK: &str = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";

/// The key of [`CONTACT_LOCK`] for `subject` of `tenant`.
pub fn contact_lock_key(tenant: TenantId, subject: SubjectId) -> String {
    format!("custodia-helpdesk contact {tenant} {subject}")
}

/// The SQL value of column `processing` for a new ticket of the contact
/// bound to parameter `$subject` in the tenant bound to `$tenant`:
/// `'restricted'` while the contact's restriction stands (in the contact
/// register, [`CONTACT_REGISTER`], or on any of their tickets, as a table
/// restricted before the register existed says), else `'active'`. Written
/// into the `INSERT` itself, so the state is read by the statement that
/// stores the row (see [`CONTACT_LOCK`] for PostgreSQL).
pub fn new_ticket_processing(tenant: usize, subject: usize) -> String {
    format!(
        "(CASE WHEN EXISTS (SELECT 1 FROM {CONTACT_REGISTER} WHERE tenant_id = ${tenant} \
         AND subject_id = ${subject} AND processing = 'restricted') \
         OR EXISTS (SELECT 1 FROM tickets WHERE tenant_id = ${tenant} \
         AND subject_id = ${subject} AND processing = 'restricted') \
         THEN 'restricted' ELSE 'active' END)"
    )
}

/// The SQL value of column `objections` for a new ticket of the contact
/// bound to `$subject` in the tenant bound to `$tenant`: the purposes the
/// contact objected to, from the contact register ([`CONTACT_REGISTER`]),
/// else none. Read inside the `INSERT`, as [`new_ticket_processing`] is.
pub fn new_ticket_objections(tenant: usize, subject: usize) -> String {
    format!(
        "COALESCE((SELECT objections FROM {CONTACT_REGISTER} WHERE tenant_id = ${tenant} \
         AND subject_id = ${subject}), '')"
    )
}

/// The record type of a contact's register row in the data-subject desk's
/// documents (an access bundle, an erasure certificate): see
/// [`PersonalDataSource::subject_step`] on [`Tickets`]. Its id is the
/// contact's pseudonymous id.
pub const REGISTER_RECORD_TYPE: &str = "contact_register";

/// The contact register: one row per contact (tenant, contact id) whose
/// processing is restricted (Art. 18) or who objected to a purpose
/// (Art. 21), and none for anyone else. Columns `tenant_id`, `subject_id`
/// (the contact's pseudonymous id, as on their tickets: no name, email or
/// other clear value), `processing` and `objections` (as on tickets, see
/// [`Processing`]). See the [module docs](self).
pub const CONTACT_REGISTER: &str = "contact_processing";

/// The contact register in SQLite (created if missing: a data directory
/// written before it existed gains it on opening), with the partial index
/// of restricted tickets that [`new_ticket_processing`] reads (see
/// [`POSTGRES_REGISTER`]).
const SQLITE_REGISTER: &str = "CREATE TABLE IF NOT EXISTS contact_processing (
         tenant_id    TEXT NOT NULL,
         subject_id   TEXT NOT NULL,
         processing   TEXT NOT NULL DEFAULT 'active'
                      CHECK (processing IN ('active', 'restricted')),
         objections   TEXT NOT NULL DEFAULT '',
         PRIMARY KEY (tenant_id, subject_id)
     );
     CREATE INDEX IF NOT EXISTS tickets_restricted ON tickets (tenant_id, subject_id)
         WHERE processing = 'restricted';";

/// The contact register in PostgreSQL (run by the tables' owner after
/// [`POSTGRES_SCHEMA`], or on its own for a schema made before it existed,
/// then put under row-level security as `tickets` is), and the partial
/// index of restricted tickets that [`new_ticket_processing`] reads: without
/// it every new ticket's `INSERT` scanned the whole table (the create
/// route's cost grew with the table, 1.7 to 11.7 ms of PostgreSQL CPU a
/// request over three load rounds); with it, only restricted tickets are
/// indexed, so an active ticket's insert pays nothing more.
pub const POSTGRES_REGISTER: &str = "CREATE TABLE contact_processing (
         tenant_id    uuid NOT NULL,
         subject_id   text NOT NULL,
         processing   text NOT NULL DEFAULT 'active'
                      CHECK (processing IN ('active', 'restricted')),
         objections   text NOT NULL DEFAULT '',
         PRIMARY KEY (tenant_id, subject_id)
     );
     CREATE INDEX IF NOT EXISTS tickets_restricted ON tickets (tenant_id, subject_id)
         WHERE processing = 'restricted';";

fn parsed_purpose(name: &str) -> Result<Purpose, Error> {
    Purpose::new(name.to_owned()).map_err(|e| Error::Corrupt(format!("objection {name:?}: {e}")))
}

impl TenantOwned for StoredTicket {
    const KIND: &'static str = "ticket";
    fn tenant(&self) -> TenantId {
        self.tenant
    }
}

/// A ticket's retention metadata (no content), from its columns:
/// category `user.content.ticket`, label `status`, events `closed` and
/// `last_activity` (closing, else opening: the example keeps no other
/// activity). One definition for the sweep and for every check of a
/// ticket against the policy's holds.
pub fn ticket_retention_record(
    id: &str,
    tenant: TenantId,
    subject: Option<SubjectId>,
    created: Timestamp,
    closed: Option<Timestamp>,
    status: &str,
) -> RetentionRecord {
    let mut record = RetentionRecord::new(
        id.to_owned(),
        tenant,
        DataCategory::USER_CONTENT_TICKET,
        created,
    )
    .with_label("status", status.to_owned())
    .with_event("last_activity", closed.unwrap_or(created));
    if let Some(subject) = subject {
        record = record.with_subject(subject);
    }
    if let Some(closed) = closed {
        record = record.with_event("closed", closed);
    }
    record
}

impl StoredTicket {
    /// The ticket's retention metadata (no content): see
    /// [`ticket_retention_record`].
    pub fn retention_record(&self) -> RetentionRecord {
        ticket_retention_record(
            &self.id,
            self.tenant,
            self.subject,
            self.created,
            self.closed,
            &self.status,
        )
    }

    /// The sealed envelope of `field`.
    pub fn envelope(&self, field: &str) -> Option<&[u8]> {
        SEALED
            .iter()
            .position(|(name, _)| *name == field)
            .and_then(|i| self.sealed[i].as_deref())
    }
}

/// The tickets table.
pub struct Tickets {
    db: Db,
    keyring: Arc<Keyring>,
    vault: Arc<ContactVault>,
}

/// The columns a new row is written with.
const ROW_COLUMNS: &str = "id, tenant_id, subject_id, owner, created_at, closed_at, status, \
     subject_line, name, email, phone, body, email_index, sealed_by";

/// The columns [`Tickets::row`] reads, in [`StoredTicket`] order.
const READ_COLUMNS: &str = "id, tenant_id, subject_id, owner, created_at, closed_at, status, \
     subject_line, name, email, phone, body, email_index, sealed_by, processing, objections";

/// Columns `processing` and `objections` (see [`Processing`]), as both
/// databases declare them: what a table made before restriction was built
/// gains (name, declaration).
pub const PROCESSING_COLUMNS: [(&str, &str); 2] = [
    (
        "processing",
        "text NOT NULL DEFAULT 'active' CHECK (processing IN ('active', 'restricted'))",
    ),
    ("objections", "text NOT NULL DEFAULT ''"),
];

/// The SQLite table.
const SQLITE_SCHEMA: &str = "DROP TABLE IF EXISTS tickets;
     DROP TABLE IF EXISTS contact_processing;
     CREATE TABLE tickets (
         id           TEXT PRIMARY KEY,
         tenant_id    TEXT NOT NULL,
         subject_id   TEXT,
         owner        TEXT NOT NULL,
         created_at   TEXT NOT NULL,
         closed_at    TEXT,
         status       TEXT NOT NULL,
         subject_line TEXT NOT NULL,
         name         BLOB,
         email        BLOB,
         phone        BLOB,
         body         BLOB,
         email_index  BLOB,
         sealed_by    TEXT NOT NULL DEFAULT 'subject'
                      CHECK (sealed_by IN ('subject', 'tenant')),
         processing   TEXT NOT NULL DEFAULT 'active'
                      CHECK (processing IN ('active', 'restricted')),
         objections   TEXT NOT NULL DEFAULT ''
     );
     CREATE INDEX tickets_email ON tickets (tenant_id, email_index);";

/// The PostgreSQL tables (run by the tables' owner; see
/// [`crate::Helpdesk::create_on`]): `tickets` under row-level security, keyed by
/// tenant first, `ticket_tenants`, which routes a ticket id to its
/// subscriber (as a web app's router does with a URL) and holds no content.
/// The contact register is [`POSTGRES_REGISTER`], run after it.
pub const POSTGRES_SCHEMA: &str = "CREATE TABLE tickets (
         tenant_id    uuid NOT NULL,
         id           text NOT NULL,
         subject_id   text,
         owner        text NOT NULL,
         created_at   text NOT NULL,
         closed_at    text,
         status       text NOT NULL,
         subject_line text NOT NULL,
         name         bytea,
         email        bytea,
         phone        bytea,
         body         bytea,
         email_index  bytea,
         sealed_by    text NOT NULL DEFAULT 'subject'
                      CHECK (sealed_by IN ('subject', 'tenant')),
         processing   text NOT NULL DEFAULT 'active'
                      CHECK (processing IN ('active', 'restricted')),
         objections   text NOT NULL DEFAULT '',
         PRIMARY KEY (tenant_id, id)
     );
     CREATE INDEX tickets_email ON tickets (tenant_id, email_index);
     CREATE TABLE ticket_tenants (id text PRIMARY KEY, tenant_id uuid NOT NULL);";

fn ts(text: &str) -> Result<Timestamp, Error> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.to_utc())
        .map_err(|e| Error::Corrupt(format!("timestamp {text:?}: {e}")))
}

fn parsed<T: std::str::FromStr>(what: &str, text: &str) -> Result<T, Error>
where
    T::Err: std::fmt::Display,
{
    text.parse()
        .map_err(|e| Error::Corrupt(format!("{what} {text:?}: {e}")))
}

/// Column `i` of `row` as optional text.
fn opt_text(row: &[Value], i: usize) -> Result<Option<String>, Error> {
    match row.get(i) {
        Some(Value::Null) => Ok(None),
        Some(Value::Text(t)) => Ok(Some(t.clone())),
        other => Err(Error::Corrupt(format!(
            "column {i}: expected text, found {other:?}"
        ))),
    }
}

/// Column `i` of `row` as text.
fn text(row: &[Value], i: usize) -> Result<String, Error> {
    opt_text(row, i)?.ok_or_else(|| Error::Corrupt(format!("column {i}: unexpected NULL")))
}

/// Column `i` of `row` as optional bytes.
fn opt_blob(row: &[Value], i: usize) -> Result<Option<Vec<u8>>, Error> {
    match row.get(i) {
        Some(Value::Null) => Ok(None),
        Some(Value::Blob(b)) => Ok(Some(b.clone())),
        _ => Err(Error::Corrupt(format!("column {i}: expected bytes"))),
    }
}

/// Column 0 of every row, as text.
fn first_texts(rows: &[Vec<Value>]) -> Result<Vec<String>, Error> {
    rows.iter().map(|row| text(row, 0)).collect()
}

fn stored_ticket(row: &[Value]) -> Result<StoredTicket, Error> {
    Ok(StoredTicket {
        id: text(row, 0)?,
        tenant: parsed("tenant id", &text(row, 1)?)?,
        subject: opt_text(row, 2)?
            .map(|s| parsed("subject id", &s))
            .transpose()?,
        owner: parsed("owner id", &text(row, 3)?)?,
        created: ts(&text(row, 4)?)?,
        closed: opt_text(row, 5)?.as_deref().map(ts).transpose()?,
        status: text(row, 6)?,
        subject_line: text(row, 7)?,
        sealed: [
            opt_blob(row, 8)?,
            opt_blob(row, 9)?,
            opt_blob(row, 10)?,
            opt_blob(row, 11)?,
        ],
        email_index: opt_blob(row, 12)?,
        sealed_under_subject_key: text(row, 13)? == "subject",
        processing: Processing::from_columns(&text(row, 14)?, &text(row, 15)?)?,
    })
}

/// The contact register's row of `subject` in `tenant`, if any.
fn registered(
    tx: &mut dyn Exec,
    tenant: TenantId,
    subject: SubjectId,
) -> Result<Option<Processing>, Error> {
    let rows = tx.query(
        "SELECT processing, objections FROM contact_processing \
         WHERE tenant_id = $1 AND subject_id = $2",
        &[Value::Tenant(tenant), Value::Text(subject.to_string())],
    )?;
    rows.first()
        .map(|row| Processing::from_columns(&text(row, 0)?, &text(row, 1)?))
        .transpose()
}

/// [`Tickets::restrict_contact`] in `tx`, the contact's lock taken;
/// whether the contact had a register row or has one now (the row the
/// change applied to: none for a lift of a contact never restricted).
fn restrict_in(
    tx: &mut dyn Exec,
    tenant: TenantId,
    subject: SubjectId,
    restriction: &Restriction,
) -> Result<bool, Error> {
    let contact = [Value::Tenant(tenant), Value::Text(subject.to_string())];
    let before = registered(tx, tenant, subject)?;
    let had_row = before.is_some();
    let mut state = before.unwrap_or_default();
    match restriction {
        Restriction::Restrict | Restriction::Lift => {
            state.restricted = matches!(restriction, Restriction::Restrict);
            let processing = if state.restricted {
                "restricted"
            } else {
                "active"
            };
            tx.execute(
                "UPDATE tickets SET processing = $1 WHERE tenant_id = $2 AND subject_id = $3",
                &[
                    Value::Text(processing.into()),
                    contact[0].clone(),
                    contact[1].clone(),
                ],
            )?;
        }
        Restriction::StopPurposes { purposes } => {
            state.objections.extend(purposes.iter().cloned());
            let rows = tx.query(
                "SELECT id, objections FROM tickets WHERE tenant_id = $1 AND subject_id = $2",
                &contact,
            )?;
            for row in &rows {
                let mut objections = Processing::from_columns("active", &text(row, 1)?)?.objections;
                objections.extend(purposes.iter().cloned());
                tx.execute(
                    "UPDATE tickets SET objections = $1 WHERE id = $2",
                    &[
                        Value::Text(Processing::objections_column(&objections)),
                        Value::Text(text(row, 0)?),
                    ],
                )?;
            }
        }
    }
    if state == Processing::default() {
        forget_in(tx, tenant, subject)?;
        return Ok(had_row);
    }
    tx.execute(
        "INSERT INTO contact_processing (tenant_id, subject_id, processing, objections) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, subject_id) \
         DO UPDATE SET processing = excluded.processing, objections = excluded.objections",
        &[
            contact[0].clone(),
            contact[1].clone(),
            Value::Text(
                if state.restricted {
                    "restricted"
                } else {
                    "active"
                }
                .into(),
            ),
            Value::Text(Processing::objections_column(&state.objections)),
        ],
    )?;
    Ok(true)
}

/// A contact's register row as the desk exports it: the state only, under
/// the pseudonymous id `record` carries. Kept because the law requires it
/// (Art. 18, 21): legal basis `legal_obligation`; not provided by the
/// contact, so not in a portability export.
fn register_record(record: RecordRef, state: &Processing) -> SubjectRecord {
    let field = |name: &str, value: String| FieldValue {
        name: name.into(),
        category: DataCategory::USER_ACCOUNT_SETTINGS,
        value,
        provided_by_subject: false,
    };
    SubjectRecord {
        record: ExportedRecord {
            record,
            created_at: None,
            fields: vec![
                field(
                    "processing",
                    if state.restricted {
                        "restricted"
                    } else {
                        "active"
                    }
                    .into(),
                ),
                field(
                    "objections",
                    state
                        .objections
                        .iter()
                        .map(Purpose::as_str)
                        .collect::<Vec<_>>()
                        .join(","),
                ),
            ],
        },
        legal_basis: LegalBasis::LegalObligation,
    }
}

/// Removes the contact register's row of `subject` in `tx`; whether there
/// was one.
fn forget_in(tx: &mut dyn Exec, tenant: TenantId, subject: SubjectId) -> Result<bool, Error> {
    Ok(tx.execute(
        "DELETE FROM contact_processing WHERE tenant_id = $1 AND subject_id = $2",
        &[Value::Tenant(tenant), Value::Text(subject.to_string())],
    )? > 0)
}

impl Tickets {
    /// Opens the existing table in the SQLite database `db`.
    pub fn open(
        db: rusqlite::Connection,
        keyring: Arc<Keyring>,
        vault: Arc<ContactVault>,
    ) -> Result<Self, Error> {
        let found: Option<String> = db
            .query_row(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'tickets'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        if found.is_none() {
            return Err(Error::Corrupt("the database has no tickets table".into()));
        }
        // A data directory written before restriction was built gains its
        // columns, every ticket active.
        for (column, declaration) in PROCESSING_COLUMNS {
            let present: i64 = db.query_row(
                "SELECT count(*) FROM pragma_table_info('tickets') WHERE name = ?1",
                [column],
                |r| r.get(0),
            )?;
            if present == 0 {
                db.execute_batch(&format!(
                    "ALTER TABLE tickets ADD COLUMN {column} {declaration}"
                ))?;
            }
        }
        // And the contact register.
        db.execute_batch(SQLITE_REGISTER)?;
        Ok(Self::over(Db::Sqlite(Mutex::new(db)), keyring, vault))
    }

    /// Creates (or recreates, emptied) the table in the SQLite database `db`.
    pub fn create(
        db: rusqlite::Connection,
        keyring: Arc<Keyring>,
        vault: Arc<ContactVault>,
    ) -> Result<Self, Error> {
        db.execute_batch(SQLITE_SCHEMA)?;
        db.execute_batch(SQLITE_REGISTER)?;
        Ok(Self::over(Db::Sqlite(Mutex::new(db)), keyring, vault))
    }

    /// The tables in PostgreSQL, connected as the application role (the
    /// owner made them with [`POSTGRES_SCHEMA`]).
    pub fn postgres(
        client: postgres::Client,
        keyring: Arc<Keyring>,
        vault: Arc<ContactVault>,
    ) -> Self {
        Self::over(Db::Postgres(Mutex::new(client)), keyring, vault)
    }

    fn over(db: Db, keyring: Arc<Keyring>, vault: Arc<ContactVault>) -> Self {
        Self { db, keyring, vault }
    }

    /// The table that maps ticket ids to tenants without reading their rows.
    fn routes(&self) -> &'static str {
        match self.db {
            Db::Sqlite(_) => "tickets",
            Db::Postgres(_) => "ticket_tenants",
        }
    }

    /// The subscriber of ticket `id`, if it exists.
    fn tenant_of(&self, id: &str) -> Result<Option<TenantId>, Error> {
        let sql = format!("SELECT tenant_id FROM {} WHERE id = $1", self.routes());
        let rows = self
            .db
            .transaction(None, |tx| tx.query(&sql, &[Value::Text(id.into())]))?;
        first_texts(&rows)?
            .first()
            .map(|t| parsed("tenant id", t))
            .transpose()
    }

    fn email_index(&self, tenant: TenantId, email: &str) -> Result<Vec<u8>, Error> {
        let index = self.keyring.blind_index(
            tenant,
            RECORD_TYPE,
            "email",
            BlindIndexConfig {
                output_len: 16,
                normalize: Normalization::Email,
            },
        )?;
        Ok(index.compute(email).as_bytes().to_vec())
    }

    fn seal(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        id: &str,
        field: &str,
        value: &str,
    ) -> Result<Vec<u8>, Error> {
        let ctx = FieldContext::new(tenant, RECORD_TYPE, id, field)?;
        Ok(self.vault.seal(subject, &ctx, value.as_bytes())?)
    }

    /// Seals a field of `row` under whichever key its row uses now.
    fn seal_like(&self, row: &StoredTicket, field: &str, value: &str) -> Result<Vec<u8>, Error> {
        match row.subject {
            Some(subject) if row.sealed_under_subject_key => {
                self.seal(row.tenant, subject, &row.id, field, value)
            }
            _ => {
                let ctx = FieldContext::new(row.tenant, RECORD_TYPE, &row.id, field)?;
                Ok(self.keyring.seal(&ctx, value.as_bytes())?)
            }
        }
    }

    /// Opens one sealed field of a stored row (a live row or a backup copy).
    pub fn open_field(
        &self,
        row: &StoredTicket,
        field: &str,
    ) -> Result<Option<String>, custodia_crypt::Error> {
        let Some(envelope) = row.envelope(field) else {
            return Ok(None);
        };
        let ctx = FieldContext::new(row.tenant, RECORD_TYPE, &row.id, field)?;
        let clear = if row.sealed_under_subject_key {
            self.vault.open(&ctx, envelope)?
        } else {
            self.keyring.open(&ctx, envelope)?
        };
        Ok(Some(String::from_utf8_lossy(&clear).into_owned()))
    }

    /// Takes the contact's lock in `tx` on PostgreSQL ([`CONTACT_LOCK`]);
    /// SQLite needs none (one writer, each statement under its lock).
    fn lock_contact(
        &self,
        tx: &mut dyn Exec,
        tenant: TenantId,
        subject: SubjectId,
    ) -> Result<(), Error> {
        if let Db::Postgres(_) = self.db {
            tx.execute(
                CONTACT_LOCK,
                &[Value::Text(contact_lock_key(tenant, subject))],
            )?;
        }
        Ok(())
    }

    /// Stores a new ticket, sealing its personal fields. Returns how it may
    /// be processed as stored: restricted if its contact's processing is,
    /// with the purposes the contact objected to (see the
    /// [module docs](self)).
    pub fn insert(&self, t: &NewTicket<'_>) -> Result<Processing, Error> {
        let seal = |field, value| self.seal(t.tenant, t.subject, t.id, field, value);
        let (name, email, phone, body) = (
            seal("name", t.name)?,
            seal("email", t.email)?,
            seal("phone", t.phone)?,
            seal("body", t.body)?,
        );
        let index = self.email_index(t.tenant, t.email)?;
        let values = [
            Value::Text(t.id.into()),
            Value::Tenant(t.tenant),
            Value::Text(t.subject.to_string()),
            Value::Text(t.owner.to_string()),
            Value::Text(t.created.to_rfc3339()),
            t.closed
                .map_or(Value::Null, |c| Value::Text(c.to_rfc3339())),
            Value::Text(t.status.into()),
            Value::Text(t.subject_line.into()),
            Value::Blob(name),
            Value::Blob(email),
            Value::Blob(phone),
            Value::Blob(body),
            Value::Blob(index),
        ];
        if let Db::Postgres(_) = self.db {
            self.db.transaction(None, |tx| {
                tx.execute(
                    "INSERT INTO ticket_tenants (id, tenant_id) VALUES ($1, $2)",
                    &values[..2],
                )
            })?;
        }
        let stored = self.db.transaction(Some(t.tenant), |tx| {
            self.lock_contact(tx, t.tenant, t.subject)?;
            tx.execute(
                &format!(
                    "INSERT INTO tickets ({ROW_COLUMNS}, processing, objections) VALUES \
                     ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'subject', {}, {})",
                    new_ticket_processing(2, 3),
                    new_ticket_objections(2, 3)
                ),
                &values,
            )?;
            tx.query(
                "SELECT processing, objections FROM tickets WHERE id = $1",
                &values[..1],
            )
        })?;
        let row = stored
            .first()
            .ok_or_else(|| Error::Corrupt(format!("ticket {} not found once stored", t.id)))?;
        Processing::from_columns(&text(row, 0)?, &text(row, 1)?)
    }

    /// Ticket ids of `tenant` whose contact email is `email`, by blind
    /// index: the agents' search, which leaves out restricted tickets
    /// (searching is processing, Art. 18(2)).
    pub fn find_by_email(&self, tenant: TenantId, email: &str) -> Result<Vec<String>, Error> {
        self.ids_by_email(tenant, email, false)
    }

    /// Ticket ids of `tenant` whose contact email is `email`, restricted
    /// ones too with `restricted`.
    fn ids_by_email(
        &self,
        tenant: TenantId,
        email: &str,
        restricted: bool,
    ) -> Result<Vec<String>, Error> {
        let index = self.email_index(tenant, email)?;
        let sql = if restricted {
            "SELECT id FROM tickets WHERE tenant_id = $1 AND email_index = $2 ORDER BY id"
        } else {
            "SELECT id FROM tickets WHERE tenant_id = $1 AND email_index = $2 \
             AND processing = 'active' ORDER BY id"
        };
        let rows = self.db.transaction(Some(tenant), |tx| {
            tx.query(sql, &[Value::Tenant(tenant), Value::Blob(index)])
        })?;
        first_texts(&rows)
    }

    /// One row as stored, whatever its tenant (callers check with the guard).
    pub fn row(&self, id: &str) -> Result<Option<StoredTicket>, Error> {
        let Some(tenant) = self.tenant_of(id)? else {
            return Ok(None);
        };
        let rows = self.db.transaction(Some(tenant), |tx| {
            tx.query(
                &format!("SELECT {READ_COLUMNS} FROM tickets WHERE id = $1"),
                &[Value::Text(id.into())],
            )
        })?;
        rows.first().map(|row| stored_ticket(row)).transpose()
    }

    /// Every row, in id order (a nightly sweep reads this way: one tenant
    /// at a time, each in its own bound transaction).
    pub fn all(&self) -> Result<Vec<StoredTicket>, Error> {
        let sql = format!("SELECT DISTINCT tenant_id FROM {}", self.routes());
        let tenants = first_texts(&self.db.transaction(None, |tx| tx.query(&sql, &[]))?)?;
        let mut rows = Vec::new();
        for tenant in tenants {
            let tenant: TenantId = parsed("tenant id", &tenant)?;
            let found = self.db.transaction(Some(tenant), |tx| {
                tx.query(
                    &format!("SELECT {READ_COLUMNS} FROM tickets WHERE tenant_id = $1"),
                    &[Value::Tenant(tenant)],
                )
            })?;
            for row in &found {
                rows.push(stored_ticket(row)?);
            }
        }
        rows.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(rows)
    }

    /// The distinct contacts of `tenant` whose email is `email` (blind
    /// index), those whose tickets are restricted too: the data-subject
    /// desk finds a contact to answer (or lift) their request.
    pub fn subjects_by_email(
        &self,
        tenant: TenantId,
        email: &str,
    ) -> Result<Vec<SubjectId>, Error> {
        let mut subjects = Vec::new();
        for id in self.ids_by_email(tenant, email, true)? {
            if let Some(subject) = self.row(&id)?.and_then(|r| r.subject)
                && !subjects.contains(&subject)
            {
                subjects.push(subject);
            }
        }
        Ok(subjects)
    }

    /// Whether `tenant` has any ticket at all.
    pub fn has_tenant(&self, tenant: TenantId) -> Result<bool, Error> {
        let rows = self.db.transaction(Some(tenant), |tx| {
            tx.query(
                "SELECT id FROM tickets WHERE tenant_id = $1 LIMIT 1",
                &[Value::Tenant(tenant)],
            )
        })?;
        Ok(!rows.is_empty())
    }

    /// Restricts or lifts the processing of `subject` of `tenant`, or
    /// records the purposes they object to, whether or not they have a
    /// ticket: the contact register's row for them (written, or removed
    /// once nothing is restricted or objected to) and every ticket of
    /// theirs, in one transaction under the contact's lock (see the
    /// [module docs](self)). Idempotent.
    pub fn restrict_contact(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        restriction: &Restriction,
    ) -> Result<(), Error> {
        self.restrict_register(tenant, subject, restriction)
            .map(|_| ())
    }

    /// [`Tickets::restrict_contact`]; whether the contact had a register
    /// row or has one now (what the subject-level step reports).
    fn restrict_register(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        restriction: &Restriction,
    ) -> Result<bool, Error> {
        self.db.transaction(Some(tenant), |tx| {
            self.lock_contact(tx, tenant, subject)?;
            restrict_in(tx, tenant, subject, restriction)
        })
    }

    /// How the contact register says `subject` of `tenant` may be
    /// processed: what a new ticket of theirs is stored with (no row:
    /// active, no objections).
    pub fn contact_processing(
        &self,
        tenant: TenantId,
        subject: SubjectId,
    ) -> Result<Option<Processing>, Error> {
        self.db
            .transaction(Some(tenant), |tx| registered(tx, tenant, subject))
    }

    /// Removes the contact register's row of `subject` of `tenant` (an
    /// erasure: see the [module docs](self)); whether there was one.
    pub fn forget_contact(&self, tenant: TenantId, subject: SubjectId) -> Result<bool, Error> {
        self.db.transaction(Some(tenant), |tx| {
            self.lock_contact(tx, tenant, subject)?;
            forget_in(tx, tenant, subject)
        })
    }

    /// Runs `sql` (parameters `params`) on ticket `id` in a transaction bound
    /// to its tenant; whether the ticket existed.
    fn update(&self, id: &str, sql: &str, params: &[Value]) -> Result<bool, Error> {
        let Some(tenant) = self.tenant_of(id)? else {
            return Ok(false);
        };
        Ok(self
            .db
            .transaction(Some(tenant), |tx| tx.execute(sql, params))?
            > 0)
    }

    /// Sets a ticket's subject line (kept in clear); whether it existed.
    /// A restricted ticket is not changed: [`Error::Restricted`].
    pub fn set_subject_line(&self, id: &str, text: &str) -> Result<bool, Error> {
        // One statement: a restriction landing meanwhile cannot be passed.
        if self.update(
            id,
            "UPDATE tickets SET subject_line = $1 WHERE id = $2 AND processing = 'active'",
            &[Value::Text(text.into()), Value::Text(id.into())],
        )? {
            return Ok(true);
        }
        match self.row(id)? {
            Some(row) if row.processing.restricted => Err(Error::Restricted(id.to_owned())),
            Some(_) => Ok(true),
            None => Ok(false),
        }
    }

    /// Deletes one ticket (a retention sweep's `delete`) unless its
    /// processing is restricted; whether it was deleted.
    pub fn delete(&self, id: &str) -> Result<bool, Error> {
        // The sweep planned on rows read earlier: a restriction landing
        // meanwhile (another process's request) still keeps the ticket.
        self.update(
            id,
            "DELETE FROM tickets WHERE id = $1 AND processing = 'active'",
            &[Value::Text(id.into())],
        )
    }

    fn owned_row(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        record: &RecordRef,
    ) -> Result<Option<StoredTicket>, BoxError> {
        if record.record_type != RECORD_TYPE {
            return Err(format!("tickets: unknown record type {:?}", record.record_type).into());
        }
        Ok(self
            .row(&record.id)?
            .filter(|row| row.tenant == tenant && row.subject == Some(subject)))
    }
}

/// The tickets find contacts by email through the blind index, so
/// `custodia dsr --email` works over the source protocol.
impl SubjectDirectory for Tickets {
    fn has_tenant(&self, tenant: TenantId) -> Result<bool, BoxError> {
        Ok(Tickets::has_tenant(self, tenant)?)
    }

    fn find_subjects(&self, tenant: TenantId, email: &str) -> Result<Vec<SubjectId>, BoxError> {
        Ok(self.subjects_by_email(tenant, email)?)
    }
}

impl PersonalDataSource for Tickets {
    fn name(&self) -> &str {
        "tickets"
    }

    fn locate(&self, tenant: TenantId, subject: SubjectId) -> Result<Vec<Located>, BoxError> {
        let rows = self.db.transaction(Some(tenant), |tx| {
            tx.query(
                "SELECT id FROM tickets WHERE tenant_id = $1 AND subject_id = $2 ORDER BY id",
                &[Value::Tenant(tenant), Value::Text(subject.to_string())],
            )
        })?;
        let ids = first_texts(&rows)?;
        let mut fields = vec![FieldInfo {
            name: "subject_line".into(),
            category: DataCategory::USER_CONTENT_TICKET,
            provided_by_subject: true,
        }];
        fields.extend(SEALED.iter().map(|(name, category)| FieldInfo {
            name: (*name).into(),
            category: category.clone(),
            provided_by_subject: true,
        }));
        let mut located = Vec::new();
        for id in ids {
            let Some(row) = self.row(&id)? else { continue };
            let sealed_under_subject_key = row.sealed_under_subject_key;
            let record = row.retention_record();
            located.push(Located {
                record: RecordRef::new(RECORD_TYPE, id),
                fields: fields.clone(),
                legal_basis: LegalBasis::Contract,
                meta: RecordMeta {
                    category: Some(record.category),
                    region: None,
                    created_at: Some(record.created),
                    labels: record.labels,
                    events: record.events,
                    // Until an erasure keeps the ticket and re-seals it.
                    sealed_under_subject_key,
                },
            });
        }
        Ok(located)
    }

    fn export(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        record: &RecordRef,
    ) -> Result<ExportedRecord, BoxError> {
        let row = self
            .owned_row(tenant, subject, record)?
            .ok_or_else(|| format!("tickets: no ticket {} for this subject", record.id))?;
        let mut fields = vec![FieldValue {
            name: "subject_line".into(),
            category: DataCategory::USER_CONTENT_TICKET,
            value: row.subject_line.clone(),
            provided_by_subject: true,
        }];
        for (name, category) in &SEALED {
            if let Some(value) = self.open_field(&row, name)? {
                fields.push(FieldValue {
                    name: (*name).into(),
                    category: category.clone(),
                    value,
                    provided_by_subject: true,
                });
            }
        }
        Ok(ExportedRecord {
            record: record.clone(),
            created_at: Some(row.created),
            fields,
        })
    }

    fn rectify(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        record: &RecordRef,
        updates: &[FieldUpdate],
    ) -> Result<(), BoxError> {
        let Some(row) = self.owned_row(tenant, subject, record)? else {
            return Err(format!("tickets: no ticket {} for this subject", record.id).into());
        };
        let id = Value::Text(record.id.clone());
        for update in updates {
            if update.name == "subject_line" {
                self.update(
                    &record.id,
                    "UPDATE tickets SET subject_line = $1 WHERE id = $2",
                    &[Value::Text(update.value.clone()), id.clone()],
                )?;
            } else if SEALED.iter().any(|(name, _)| *name == update.name) {
                let sealed = self.seal_like(&row, &update.name, &update.value)?;
                // The column name comes from SEALED, never from the caller.
                let sql = format!("UPDATE tickets SET {} = $1 WHERE id = $2", update.name);
                self.update(&record.id, &sql, &[Value::Blob(sealed), id.clone()])?;
                if update.name == "email" {
                    let index = self.email_index(tenant, &update.value)?;
                    self.update(
                        &record.id,
                        "UPDATE tickets SET email_index = $1 WHERE id = $2",
                        &[Value::Blob(index), id.clone()],
                    )?;
                }
            }
        }
        Ok(())
    }

    fn erase(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        plan: &ErasurePlan,
    ) -> Result<(), BoxError> {
        // Already gone or already unlinked: nothing to do (idempotent).
        if self.owned_row(tenant, subject, &plan.record)?.is_none() {
            return Ok(());
        }
        let id = [Value::Text(plan.record.id.clone())];
        self.db.transaction(Some(tenant), |tx| {
            // The contact's lock, so a restriction of theirs landing now
            // changes the ticket before or after this, never half of it.
            // Their register row is not removed here: that is the
            // erasure's subject-level step, which runs once, before any
            // ticket. A row found now was written after it (a deferred
            // pass erasing a released ticket meets a later restriction),
            // and removing it would lift that restriction (Art. 18).
            self.lock_contact(tx, tenant, subject)?;
            if plan.delete_record {
                tx.execute("DELETE FROM tickets WHERE id = $1", &id)?;
                return Ok(());
            }
            for field in &plan.fields {
                match (field.name.as_str(), &field.action) {
                    ("subject_line", FieldAction::Anonymize) => {
                        tx.execute(
                            "UPDATE tickets SET subject_line = $1 WHERE id = $2",
                            &[Value::Text(ANONYMIZED_SUBJECT.into()), id[0].clone()],
                        )?;
                    }
                    ("subject_line", FieldAction::Delete) => {
                        tx.execute("UPDATE tickets SET subject_line = '' WHERE id = $1", &id)?;
                    }
                    // A sealed field is removed either way: its key is about to be shredded.
                    (name, _) if SEALED.iter().any(|(n, _)| *n == name) => {
                        tx.execute(
                            &format!("UPDATE tickets SET {name} = NULL WHERE id = $1"),
                            &id,
                        )?;
                        if name == "email" {
                            tx.execute("UPDATE tickets SET email_index = NULL WHERE id = $1", &id)?;
                        }
                    }
                    (name, _) => {
                        return Err(Error::Corrupt(format!("tickets: unknown field {name:?}")));
                    }
                }
            }
            // Unlink the kept, anonymized ticket from the person: with no
            // personal data left, their restriction or objection ends too.
            tx.execute(
                "UPDATE tickets SET subject_id = NULL, processing = 'active', objections = '' \
                 WHERE id = $1",
                &id,
            )?;
            Ok(())
        })?;
        Ok(())
    }

    /// Restricts or lifts the processing of the contact, or records the
    /// purposes they object to: in the contact register and on every
    /// ticket of theirs (the desk asks for each of them anyway; one the
    /// desk did not locate, stored meanwhile, is covered too), as
    /// [`Tickets::restrict_contact`] does (see the [module docs](self)).
    /// Idempotent; a ticket no longer the subject's (erased, anonymized)
    /// is left alone.
    fn restrict(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        record: &RecordRef,
        restriction: &Restriction,
    ) -> Result<(), BoxError> {
        if self.owned_row(tenant, subject, record)?.is_none() {
            return Ok(());
        }
        Ok(self.restrict_contact(tenant, subject, restriction)?)
    }

    /// The contact register (see the [module docs](self)), once per
    /// request whether or not the contact has a ticket: access returns
    /// their row ([`REGISTER_RECORD_TYPE`], id the pseudonymous contact id;
    /// fields `processing`, `active` or `restricted`, and `objections`, the
    /// purposes objected to, comma-separated; none when there is no row);
    /// a restriction, lift or objection is applied to the contact as
    /// [`Tickets::restrict_contact`] does (the register and every ticket
    /// of theirs), reporting the row if there was one before or is one
    /// after (a lift of a contact never restricted reports none); an
    /// erasure removes their row, reporting it if there was one.
    /// Idempotent.
    fn subject_step(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        step: &SubjectStep,
    ) -> Result<SubjectOutcome, BoxError> {
        let record = RecordRef::new(REGISTER_RECORD_TYPE, subject.to_string());
        Ok(match step {
            SubjectStep::Access => {
                let row = self.contact_processing(tenant, subject)?;
                SubjectOutcome::Exported {
                    records: row
                        .map(|state| register_record(record, &state))
                        .into_iter()
                        .collect(),
                }
            }
            SubjectStep::Restrict { restriction } => SubjectOutcome::Applied {
                records: self
                    .restrict_register(tenant, subject, restriction)?
                    .then_some(record)
                    .into_iter()
                    .collect(),
            },
            SubjectStep::Erase => SubjectOutcome::Applied {
                records: self
                    .forget_contact(tenant, subject)?
                    .then_some(record)
                    .into_iter()
                    .collect(),
            },
            _ => SubjectOutcome::NotKept,
        })
    }

    /// A kept ticket's contact fields move from the contact's key to the
    /// tenant's data key, so the erasure can shred the contact's key at once
    /// while the ticket stays readable for the reason it is kept. All four
    /// fields and the marker change in one transaction; a second call finds
    /// the marker and re-seals nothing.
    fn reseal_kept(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        record: &RecordRef,
    ) -> Result<ResealOutcome, BoxError> {
        const UNDER: &str = "tenant data key";
        let Some(row) = self.owned_row(tenant, subject, record)? else {
            return Err(format!("tickets: no ticket {} for this subject", record.id).into());
        };
        if !row.sealed_under_subject_key {
            return Ok(ResealOutcome::Resealed {
                fields: 0,
                under: UNDER.into(),
            });
        }
        let mut resealed = Vec::new();
        for (name, _) in SEALED {
            let Some(clear) = self.open_field(&row, name)? else {
                continue;
            };
            let ctx = FieldContext::new(tenant, RECORD_TYPE, &row.id, name)?;
            resealed.push((name, self.keyring.seal(&ctx, clear.as_bytes())?));
        }
        let id = Value::Text(row.id.clone());
        self.db.transaction(Some(tenant), |tx| {
            for (name, envelope) in &resealed {
                // The column name comes from SEALED, never from the caller.
                let sql = format!("UPDATE tickets SET {name} = $1 WHERE id = $2");
                tx.execute(&sql, &[Value::Blob(envelope.clone()), id.clone()])?;
            }
            tx.execute(
                "UPDATE tickets SET sealed_by = 'tenant' WHERE id = $1",
                std::slice::from_ref(&id),
            )
        })?;
        Ok(ResealOutcome::Resealed {
            fields: resealed.len(),
            under: UNDER.into(),
        })
    }
}
