//! The helpdesk example: its backend, its nine-step [`flow`], and the
//! personal-data source program `custodia dsr` talks to.
//!
//! This package (`examples/helpdesk/`, not published) holds everything the
//! example is: the data directory below, the flow `examples/helpdesk.rs`
//! runs and `tests/flow.rs` checks, the retention policy
//! (`retention.toml`), and the program `custodia-helpdesk-source --data DIR`
//! ([`serve_source`]), which serves the tickets to `custodia dsr export|erase`
//! over custodia-dsr's source protocol ([`custodia_dsr::remote`]). The
//! published libraries and the command know nothing of it.
//!
//! # Model
//!
//! A helpdesk **data directory** holds everything one deployment of the
//! example keeps ([`Layout`]):
//!
//! | path | what |
//! |---|---|
//! | `helpdesk.db` | SQLite: the `tickets` table ([`store::Tickets`]), contact fields sealed per contact, email blind index; the contact register (`contact_processing`: restriction and objections per contact id, [`store::CONTACT_REGISTER`]) |
//! | `keys.store` | custodia-crypt's encrypted key store: tenant data keys (random, wrapped) and one key per contact |
//! | `root.key` | the root key wrapping the key store (base64, mode 0600; in production it comes from a secrets manager) |
//! | `audit/` | the custodia-audit tamper-evident log (segment files, the embedded default) |
//! | `checkpoint.key`, `checkpoint.pub` | the Ed25519 key that signs checkpoints of the log, and its verifier key |
//! | `checkpoints/` | signed checkpoints taken (C2SP notes), `size-<n>.note` |
//! | `retention.toml` | the retention policy ([`DEFAULT_POLICY`] when created) |
//!
//! [`Helpdesk::create`] makes a fresh one, [`Helpdesk::open`] opens an
//! existing one. On PostgreSQL ([`Database::Postgres`],
//! [`Helpdesk::create_on`]) the tickets, the key store and the audit log
//! live in schema [`PG_SCHEMA`] instead of `helpdesk.db`, `keys.store` and
//! `audit/`: `tickets` and the contact register under row-level security, every statement on it in a
//! transaction bound to its tenant, and a `ticket_tenants` table that routes
//! a ticket id to its subscriber without holding any content (jobs that
//! span tenants, such as the retention sweep, bind each tenant in turn). An open helpdesk gives a custodia-dsr [`Desk`] over the
//! tickets ([`Helpdesk::desk`]) whose every step is written to the audit log
//! through [`custodia_dsr::AuditTrail`], whose erasures shred the contact's
//! key, and whose retention checks and backup horizon come from the policy
//! file through [`PolicyRetention`]. The helpdesk's own changes go to the
//! same log ([`Helpdesk::record`]).
//!
//! The key design decision: **one log, sealed per person**. Personal values in
//! audit events (the IP a contact signed in from) are sealed under that
//! contact's key before they are hashed, so an erasure makes them unreadable
//! while the log, and every checkpoint signed before the erasure, still
//! verifies.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use custodia_core::{ManualClock, Role};
//! use custodia_dsr::{RequestKind, VerificationMethod};
//! use custodia_example_helpdesk::{Helpdesk, demo};
//!
//! let dir = tempfile::tempdir()?;
//! let clock = Arc::new(ManualClock::new(demo::start_time()));
//! let hd = demo::seed(dir.path(), clock.clone())?;
//! let cast = demo::Cast::new();
//!
//! let desk = hd.desk()?;
//! let mut access = desk.receive(cast.acme, cast.alice, RequestKind::Access, Role::Controller, cast.acme_dpo)?;
//! desk.verify(&mut access, VerificationMethod::AuthenticatedSession, "portal", cast.acme_dpo)?;
//! let bundle = desk.export(&mut access, cast.acme_dpo)?;
//! assert_eq!(bundle.records.len(), 2);
//! assert!(hd.verify_log()?.head.size > 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
// Library code returns typed errors; only tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(missing_docs)]

pub mod demo;
pub mod flow;
mod sql;
pub mod store;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use custodia_audit::checkpoint::{self, Signer, Verifier};
use custodia_audit::{
    Action, Actor, AuditLog, AuditStore, Event, Outcome, Personal, PostgresStore, SegmentOptions,
    SegmentStore, Target, VerifyReport,
};
use custodia_core::{ActorId, Clock, DataCategory, SubjectId, TenantId};
use custodia_crypt::{
    DataKeyMode, FieldContext, FileKeyStore, KeyStore, Keyring, PostgresKeyStore, SecretKey,
    SubjectVault,
};
use custodia_dsr::remote::SourceServer;
use custodia_dsr::{
    AuditTrail, Desk, ErasureException, ErasurePolicy, FieldAction, PersonalDataSource,
    PolicyRetention, Request, RequestOutcome,
};
use custodia_retention::{Disposition, RetentionPolicy, Sweep, SweepPlan};

/// The audit crate, for hosts of this crate that reach the log.
pub use custodia_audit as audit;
pub use store::{ContactVault, NewTicket, StoredTicket, Tickets};

/// The retention policy a new data directory gets (`retention.toml`): this
/// package's `retention.toml`.
pub const DEFAULT_POLICY: &str = include_str!("../retention.toml");

/// The name (and checkpoint origin) of the log's signing key.
pub const CHECKPOINT_ORIGIN: &str = "helpdesk.example/audit";

/// The external-key system of the helpdesk's own ids (its system actor and
/// the owner of sealed notes that concern no contact).
pub const HELPDESK_SYSTEM: &str = "custodia.helpdesk";

/// The audit trail type: the segment-file or PostgreSQL log, sealed with the vault.
pub type Trail = AuditTrail<Box<dyn AuditStore>, Arc<dyn KeyStore>>;

/// The PostgreSQL schema a helpdesk on [`Database::Postgres`] keeps
/// everything in (its tickets, key store and audit log tables).
pub const PG_SCHEMA: &str = "custodia_helpdesk";

/// The name of the helpdesk's log in the PostgreSQL audit tables.
pub const PG_AUDIT_LOG: &str = "helpdesk";

/// Where a helpdesk keeps its tickets, keys and audit log. The root key,
/// checkpoint key, checkpoints and policy stay in the data directory either
/// way (in production the keys come from a secrets manager).
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// The data directory: SQLite tickets, the key file, segment files.
    Files,
    /// PostgreSQL, schema [`PG_SCHEMA`]. `app` is the connection string of
    /// the application role every app server uses (not the tables' owner,
    /// no BYPASSRLS, so row-level security applies); `owner` is the tables'
    /// owner's, which [`Helpdesk::create_on`] uses to (re)create the schema,
    /// grant the application role only what it needs and put `tickets`
    /// under row-level security.
    Postgres {
        /// The application role's connection string.
        app: String,
        /// The tables' owner's connection string.
        owner: String,
    },
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Connection strings may hold passwords: never print them.
        match self {
            Database::Files => f.write_str("Files"),
            Database::Postgres { .. } => f.write_str("Postgres { .. }"),
        }
    }
}

/// A connection to `url` whose tables are those of [`PG_SCHEMA`] (a startup
/// option, so nothing is set per session).
fn connect(url: &str) -> Result<postgres::Client, Error> {
    let mut config: postgres::Config = url.parse()?;
    config.options(&format!("-c search_path={PG_SCHEMA}"));
    Ok(config.connect(postgres::NoTls)?)
}

/// As the tables' owner: a fresh [`PG_SCHEMA`] with the key store, audit
/// log and tickets tables; `app_role` gets only what it needs (key store:
/// no DELETE; audit log: SELECT and INSERT; tickets and the contact
/// register: under row-level security).
fn postgres_setup(owner_url: &str, app_role: &str) -> Result<(), Error> {
    let mut owner = connect(owner_url)?;
    let role = custodia_tenant::rls::Ident::new(app_role)?;
    owner.batch_execute(&format!(
        "DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE;
         CREATE SCHEMA {PG_SCHEMA};
         GRANT USAGE ON SCHEMA {PG_SCHEMA} TO {role};"
    ))?;
    PostgresKeyStore::migrate(&mut owner)?;
    PostgresKeyStore::grant(&mut owner, app_role)?;
    PostgresStore::migrate(&mut owner)?;
    PostgresStore::grant(&mut owner, app_role)?;
    owner.batch_execute(store::POSTGRES_SCHEMA)?;
    owner.batch_execute(store::POSTGRES_REGISTER)?;
    let rls = custodia_tenant::rls::RlsPolicy::new(app_role)?
        .table(custodia_tenant::rls::TenantTable::new(
            PG_SCHEMA, "tickets",
        )?)
        .table(custodia_tenant::rls::TenantTable::new(
            PG_SCHEMA,
            store::CONTACT_REGISTER,
        )?);
    owner.batch_execute(&rls.sql())?;
    owner.batch_execute(&format!(
        "GRANT SELECT, INSERT ON {PG_SCHEMA}.ticket_tenants TO {role}"
    ))?;
    Ok(())
}

/// What went wrong, and where.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The directory is not a helpdesk data directory.
    #[error(
        "{0} is not a helpdesk data directory (no helpdesk.db): create one with `cargo run --example helpdesk -- --data DIR`"
    )]
    NotADataDir(PathBuf),
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The system's message.
        message: String,
    },
    /// SQLite failed.
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    /// A stored value does not parse.
    #[error("database: corrupt value: {0}")]
    Corrupt(String),
    /// The key store or a sealed field.
    #[error("keys: {0}")]
    Crypt(#[from] custodia_crypt::Error),
    /// The audit log.
    #[error("audit log: {0}")]
    Audit(#[from] custodia_audit::Error),
    /// The retention policy.
    #[error("retention policy: {0}")]
    Retention(#[from] custodia_retention::Error),
    /// A data-subject request.
    #[error("data-subject request: {0}")]
    Dsr(#[from] custodia_dsr::Error),
    /// The source protocol (`custodia-helpdesk-source`).
    #[error("{0}")]
    Protocol(#[from] custodia_dsr::remote::ProtocolError),
    /// PostgreSQL failed.
    #[error("postgres: {0}")]
    Postgres(#[from] postgres::Error),
    /// The tenant binding or the row-level security setup.
    #[error("tenant: {0}")]
    Tenant(#[from] custodia_tenant::Error),
    /// The ticket's processing is restricted (GDPR Art. 18): it is kept,
    /// and changed only by its contact's requests.
    #[error(
        "ticket {0}: processing is restricted (GDPR Art. 18): kept, not changed until the restriction is lifted"
    )]
    Restricted(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::Io {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

/// The files of a data directory (see the [crate documentation](crate)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    dir: PathBuf,
}

impl Layout {
    /// The layout under `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }
    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    /// `helpdesk.db`.
    pub fn database(&self) -> PathBuf {
        self.dir.join("helpdesk.db")
    }
    /// `keys.store`.
    pub fn key_store(&self) -> PathBuf {
        self.dir.join("keys.store")
    }
    /// `root.key`.
    pub fn root_key(&self) -> PathBuf {
        self.dir.join("root.key")
    }
    /// `audit/`.
    pub fn audit(&self) -> PathBuf {
        self.dir.join("audit")
    }
    /// `checkpoint.key` (private, mode 0600).
    pub fn checkpoint_key(&self) -> PathBuf {
        self.dir.join("checkpoint.key")
    }
    /// `checkpoint.pub` (the verifier key `name+hash+key`).
    pub fn checkpoint_verifier(&self) -> PathBuf {
        self.dir.join("checkpoint.pub")
    }
    /// `checkpoints/`.
    pub fn checkpoints(&self) -> PathBuf {
        self.dir.join("checkpoints")
    }
    /// `retention.toml`.
    pub fn policy(&self) -> PathBuf {
        self.dir.join("retention.toml")
    }
}

/// A signed checkpoint written to the data directory.
#[derive(Debug, Clone)]
pub struct SavedCheckpoint {
    /// The signed note (C2SP format).
    pub note: String,
    /// The tree size it covers.
    pub size: u64,
    /// Where it was written.
    pub path: PathBuf,
}

/// An open helpdesk data directory. See the [crate documentation](crate).
pub struct Helpdesk {
    layout: Layout,
    database: Database,
    clock: Arc<dyn Clock>,
    vault: Arc<ContactVault>,
    tickets: Arc<Tickets>,
    trail: Arc<Trail>,
    policy: Arc<RetentionPolicy>,
    signer: Signer,
}

impl std::fmt::Debug for Helpdesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Helpdesk")
            .field("dir", &self.layout.dir)
            .finish_non_exhaustive()
    }
}

/// Writes a new file readable by its owner only (0600), synced and linked
/// into place before anything that depends on it is made (the key store
/// after `root.key`): a power loss cannot leave an empty key beside a
/// surviving store. See `custodia_crypt::durable`.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    custodia_crypt::durable::write_new(path, bytes, 0o600).map_err(io(path))
}

impl Helpdesk {
    /// Creates a fresh data directory in `dir` (created if missing; the
    /// files of an earlier helpdesk there are replaced, but an `audit/` or
    /// `checkpoints/` in a directory without `helpdesk.db` is refused, not
    /// removed): a new root key, key
    /// store, empty tickets table, empty audit log, checkpoint signing key
    /// and the [`DEFAULT_POLICY`].
    pub fn create(dir: &Path, clock: Arc<dyn Clock>) -> Result<Self, Error> {
        Self::create_on(dir, clock, &Database::Files)
    }

    /// [`Helpdesk::create`] with the tickets, keys and audit log in
    /// `database`; on PostgreSQL the schema [`PG_SCHEMA`] is recreated, and
    /// the data directory keeps the root key, checkpoint key, checkpoints and
    /// policy.
    pub fn create_on(
        dir: &Path,
        clock: Arc<dyn Clock>,
        database: &Database,
    ) -> Result<Self, Error> {
        let layout = Layout::new(dir);
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        // Replace only an earlier helpdesk's files: an `audit/` or
        // `checkpoints/` beside no helpdesk.db (on PostgreSQL: no root.key)
        // belongs to someone else.
        let ours = match database {
            Database::Files => layout.database(),
            Database::Postgres { .. } => layout.root_key(),
        };
        if !ours.exists() {
            for theirs in [layout.audit(), layout.checkpoints()] {
                if theirs.exists() {
                    return Err(Error::Io {
                        path: theirs,
                        message: "exists, but the directory holds no helpdesk.db: not replacing it"
                            .into(),
                    });
                }
            }
        }
        for old in [
            layout.database(),
            layout.key_store(),
            layout.root_key(),
            layout.checkpoint_key(),
            layout.checkpoint_verifier(),
            layout.policy(),
        ] {
            if old.exists() {
                std::fs::remove_file(&old).map_err(io(&old))?;
            }
        }
        for old in [layout.audit(), layout.checkpoints()] {
            if old.exists() {
                std::fs::remove_dir_all(&old).map_err(io(&old))?;
            }
        }
        let root = SecretKey::generate()?;
        write_private(&layout.root_key(), root.to_base64().as_bytes())?;
        let signer = Signer::generate(CHECKPOINT_ORIGIN)?;
        write_private(&layout.checkpoint_key(), signer.to_key_string().as_bytes())?;
        let verifier = layout.checkpoint_verifier();
        std::fs::write(&verifier, format!("{}\n", signer.verifier())).map_err(io(&verifier))?;
        let policy = layout.policy();
        std::fs::write(&policy, DEFAULT_POLICY).map_err(io(&policy))?;
        match database {
            Database::Files => {
                let db = rusqlite::Connection::open(layout.database())?;
                Self::assemble(layout, clock, database, |keyring, vault| {
                    Tickets::create(db, keyring, vault)
                })
            }
            Database::Postgres { app, owner } => {
                let mut client = connect(app)?;
                let role: String = client.query_one("SELECT current_user::text", &[])?.get(0);
                postgres_setup(owner, &role)?;
                Self::assemble(layout, clock, database, |keyring, vault| {
                    Ok(Tickets::postgres(client, keyring, vault))
                })
            }
        }
    }

    /// Opens the existing data directory `dir`.
    pub fn open(dir: &Path, clock: Arc<dyn Clock>) -> Result<Self, Error> {
        let layout = Layout::new(dir);
        let db = existing_database(&layout)?;
        Self::assemble(layout, clock, &Database::Files, |keyring, vault| {
            Tickets::open(db, keyring, vault)
        })
    }

    fn assemble(
        layout: Layout,
        clock: Arc<dyn Clock>,
        database: &Database,
        tickets: impl FnOnce(Arc<Keyring>, Arc<ContactVault>) -> Result<Tickets, Error>,
    ) -> Result<Self, Error> {
        let (keyring, vault) = open_keys(&layout, &clock, database)?;
        let tickets = Arc::new(tickets(keyring, Arc::clone(&vault))?);
        let key_path = layout.checkpoint_key();
        let key_text = custodia_crypt::read_key_file(&key_path)?;
        let signer = Signer::from_key_string(key_text.trim())?;
        let policy_path = layout.policy();
        let policy_text = std::fs::read_to_string(&policy_path).map_err(io(&policy_path))?;
        let policy = Arc::new(RetentionPolicy::from_toml(
            &policy_text,
            &policy_path.display().to_string(),
        )?);
        let store: Box<dyn AuditStore> = match database {
            Database::Files => Box::new(SegmentStore::open(
                layout.audit(),
                SegmentOptions::default(),
            )?),
            Database::Postgres { app, .. } => {
                Box::new(PostgresStore::with_client(connect(app)?, PG_AUDIT_LOG)?)
            }
        };
        let log = AuditLog::open(store)?.require_sealed(true);
        let trail =
            Arc::new(AuditTrail::new(log, Arc::clone(&vault)).with_vendor_tenant(vendor_tenant()));
        Ok(Self {
            layout,
            database: database.clone(),
            clock,
            vault,
            tickets,
            trail,
            policy,
            signer,
        })
    }

    /// The files.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }
    /// Where the tickets, keys and audit log are.
    pub fn database(&self) -> &Database {
        &self.database
    }
    /// The clock every step is stamped with.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }
    /// The contacts' keys.
    pub fn vault(&self) -> &Arc<ContactVault> {
        &self.vault
    }
    /// The tickets table.
    pub fn tickets(&self) -> &Arc<Tickets> {
        &self.tickets
    }
    /// The audit trail (the log, and the desk's audit seams).
    pub fn trail(&self) -> &Arc<Trail> {
        &self.trail
    }
    /// The retention policy.
    pub fn policy(&self) -> &Arc<RetentionPolicy> {
        &self.policy
    }
    /// The checkpoint verifier key.
    pub fn verifier(&self) -> Verifier {
        self.signer.verifier()
    }

    /// The policy as custodia-dsr's retention check and backup horizon. The
    /// `closed-tickets` rule (kept for warranty claims) is Art. 17(3)(e).
    pub fn retention(&self) -> PolicyRetention {
        PolicyRetention::new(Arc::clone(&self.policy), Arc::clone(&self.clock))
            .exception("closed-tickets", ErasureException::LegalClaims)
    }

    /// A data-subject desk over the tickets: steps audited into the log,
    /// subject keys shredded on erasure, holds and the backup horizon from
    /// the policy, the subject's audit events in access bundles. Erasure
    /// deletes contact fields and anonymizes ticket text (so the ticket stays
    /// in the statistics).
    pub fn desk(&self) -> Result<Desk, Error> {
        let retention = Arc::new(self.retention());
        Ok(Desk::new(Arc::clone(&self.clock), self.trail.clone())
            .with_source(self.tickets.clone() as Arc<dyn PersonalDataSource>)?
            .with_key_shredder(self.vault.clone())
            .with_retention(retention.clone())
            .with_backup_horizon(retention)
            .with_audit_history(self.trail.clone())
            .with_erasure_policy(
                ErasurePolicy::delete_all()
                    .rule(DataCategory::USER_CONTENT_TICKET, FieldAction::Anonymize),
            ))
    }

    /// Runs `request` on `desk` ([`Helpdesk::desk`]) as `actor`. The
    /// contact register is the desk's to reach, through the tickets
    /// source's subject-level step (see [`store`]'s docs): a
    /// restriction or objection of a contact with no ticket still covers
    /// the tickets stored for them later, an access bundle lists their
    /// register row, and an erasure removes it.
    pub fn run_request(
        &self,
        desk: &Desk,
        request: &mut Request,
        actor: ActorId,
    ) -> Result<RequestOutcome, Error> {
        Ok(desk.run(request, actor)?)
    }

    /// [`Helpdesk::record_outcome`] with outcome success.
    pub fn record(
        &self,
        tenant: TenantId,
        subject: Option<SubjectId>,
        actor: Actor,
        action: Action,
        target: Target,
        note: &str,
    ) -> Result<u64, Error> {
        self.record_outcome(
            tenant,
            subject,
            actor,
            action,
            target,
            Outcome::Success,
            note,
        )
    }

    /// Appends one of the helpdesk's own events to the log, at the clock's
    /// time: `note` (ids and counts only) and the actor's IP are sealed under
    /// the contact's key (the actor's own subject for the IP when set), or,
    /// for an event about no contact, the note under the helpdesk's own key
    /// in the tenant. Returns the event's index in the log.
    #[allow(clippy::too_many_arguments)]
    pub fn record_outcome(
        &self,
        tenant: TenantId,
        subject: Option<SubjectId>,
        actor: Actor,
        action: Action,
        target: Target,
        outcome: Outcome,
        note: &str,
    ) -> Result<u64, Error> {
        let mut builder = Event::builder(tenant, actor, action, target).outcome(outcome);
        if let Some(subject) = subject {
            builder = builder.subject(subject).note(note);
        }
        let mut event = builder.build(self.clock.as_ref())?;
        if subject.is_none() {
            let owner = helpdesk_subject(tenant);
            let id = event.id.to_string();
            let ctx =
                FieldContext::new(tenant, custodia_audit::personal::RECORD_TYPE, &id, "note")?;
            event.note = Some(Personal::Sealed {
                subject: owner,
                sealed: self.vault.seal(owner, &ctx, note.as_bytes())?,
            });
        }
        let vault = &self.vault;
        Ok(self.trail.with_log(|log| log.append_sealed(vault, event))?)
    }

    /// Appends an event the host built itself (with before/after values,
    /// say), its personal values sealed under their owners' keys first.
    /// Returns its index in the log.
    pub fn append(&self, event: Event) -> Result<u64, Error> {
        let vault = &self.vault;
        Ok(self.trail.with_log(|log| log.append_sealed(vault, event))?)
    }

    /// An agent changes a ticket's subject line: stored, and audited as an
    /// `update` with the before and after values sealed under the contact's
    /// key (so an erasure forgets them too). Returns the log index. A
    /// ticket whose processing its contact restricted is not changed
    /// ([`Error::Restricted`]).
    pub fn update_subject_line(
        &self,
        agent: custodia_core::ActorId,
        id: &str,
        text: &str,
    ) -> Result<u64, Error> {
        let row = self
            .tickets
            .row(id)?
            .ok_or_else(|| Error::Corrupt(format!("no ticket {id}")))?;
        self.tickets.set_subject_line(id, text)?;
        let mut builder = Event::builder(
            row.tenant,
            Actor::new(custodia_audit::ActorKind::Agent, agent),
            Action::Update,
            Target::new(store::RECORD_TYPE, id)?,
        )
        .change(custodia_audit::FieldChange::new(
            "subject_line",
            DataCategory::USER_CONTENT_TICKET,
            Some(row.subject_line.as_str().into()),
            Some(text.into()),
        ));
        if let Some(subject) = row.subject {
            builder = builder.subject(subject);
        }
        self.append(builder.build(self.clock.as_ref())?)
    }

    /// Signs a checkpoint of the log's current head and writes it to
    /// `checkpoints/size-<n>.note`.
    pub fn checkpoint(&self) -> Result<SavedCheckpoint, Error> {
        let (note, size) = self.trail.with_log(|log| {
            log.sync()?;
            Ok::<_, custodia_audit::Error>((
                log.checkpoint(CHECKPOINT_ORIGIN, &self.signer)?,
                log.len(),
            ))
        })?;
        let dir = self.layout.checkpoints();
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let path = dir.join(format!("size-{size}.note"));
        std::fs::write(&path, &note).map_err(io(&path))?;
        Ok(SavedCheckpoint { note, size, path })
    }

    /// Checks the signature of `note` with the data directory's verifier key
    /// and that the log, as it is now, extends it (a consistency proof).
    pub fn check_checkpoint(&self, note: &str) -> Result<(), Error> {
        let trusted = checkpoint::open(note, &self.signer.verifier(), CHECKPOINT_ORIGIN)?;
        Ok(self
            .trail
            .with_log(|log| log.check_checkpoint(CHECKPOINT_ORIGIN, &trusted))?)
    }

    /// Re-reads the log from disk and verifies every record end to end (what
    /// `custodia audit verify DATA/audit` does).
    pub fn verify_log(&self) -> Result<VerifyReport, Error> {
        self.trail.with_log(|log| log.sync())?;
        Ok(match &self.database {
            Database::Files => {
                custodia_audit::verify(SegmentStore::open_read_only(self.layout.audit())?, None)?
            }
            Database::Postgres { app, .. } => custodia_audit::verify(
                PostgresStore::with_client(connect(app)?, PG_AUDIT_LOG)?,
                None,
            )?,
        })
    }

    /// Plans a retention sweep of every ticket at the clock's time and
    /// carries out its deletions (each audited as a `delete` by the
    /// helpdesk's retention job); anonymize and review items are left in
    /// the plan (this example runs no anonymization job, and review is a
    /// person's task). A ticket whose processing is restricted is kept
    /// as a held one is ([`store::sweep_policy`]), and listed in the plan's
    /// `withheld` if due. Returns the plan and the ids deleted.
    pub fn sweep(&self) -> Result<(SweepPlan, Vec<String>), Error> {
        let rows = self.tickets.all()?;
        let records: Vec<_> = rows.iter().map(StoredTicket::retention_record).collect();
        let now = self.clock.now();
        let policy = store::sweep_policy(&self.policy, &rows)?;
        let plan = Sweep::new(&policy, now).plan(&records)?;
        let mut deleted = Vec::new();
        for item in plan.with_action(Disposition::Delete) {
            let Some(row) = rows.iter().find(|r| r.id == item.id) else {
                continue;
            };
            if self.tickets.delete(&row.id)? {
                self.record(
                    row.tenant,
                    row.subject,
                    Actor::new(
                        custodia_audit::ActorKind::System,
                        retention_actor(row.tenant),
                    ),
                    Action::Delete,
                    Target::new(store::RECORD_TYPE, row.id.as_str())?,
                    &format!("retention sweep: rule {}", item.rules.join(", ")),
                )?;
                deleted.push(row.id.clone());
            }
        }
        Ok((plan, deleted))
    }
}

/// The database of an existing data directory.
fn existing_database(layout: &Layout) -> Result<rusqlite::Connection, Error> {
    let database = layout.database();
    if !database.is_file() {
        return Err(Error::NotADataDir(layout.dir().to_owned()));
    }
    Ok(rusqlite::Connection::open_with_flags(
        &database,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE,
    )?)
}

/// The keyring and the contacts' vault over the key store.
fn open_keys(
    layout: &Layout,
    clock: &Arc<dyn Clock>,
    database: &Database,
) -> Result<(Arc<Keyring>, Arc<ContactVault>), Error> {
    // The root key, read back the way a deployment reads its key.
    let root = SecretKey::from_file(&layout.root_key())?;
    let key_store: Arc<dyn KeyStore> = match database {
        Database::Files => Arc::new(FileKeyStore::open(layout.key_store(), &root)?),
        Database::Postgres { app, .. } => Arc::new(PostgresKeyStore::with_client(connect(app)?)?),
    };
    let keyring = Arc::new(Keyring::from_store(
        Arc::clone(&key_store),
        &root,
        DataKeyMode::Random,
    )?);
    let vault = Arc::new(SubjectVault::new(
        Arc::clone(&keyring),
        key_store,
        Arc::clone(clock),
    ));
    Ok((keyring, vault))
}

/// Serves the tickets of the data directory `dir` (database and key store;
/// not the audit log, which stays with the caller) over the custodia-dsr
/// source protocol on `input` and `output` until `input` ends, with
/// `find_subjects` through the email blind index. What the package's
/// `custodia-helpdesk-source` program runs on its stdin and stdout.
pub fn serve_source(
    dir: &Path,
    input: impl std::io::Read,
    output: impl std::io::Write,
) -> Result<(), Error> {
    let layout = Layout::new(dir);
    let db = existing_database(&layout)?;
    let clock: Arc<dyn Clock> = Arc::new(custodia_core::SystemClock);
    let (keyring, vault) = open_keys(&layout, &clock, &Database::Files)?;
    let tickets = Tickets::open(db, keyring, vault)?;
    SourceServer::new(vec![&tickets as &dyn PersonalDataSource])
        .with_directory(&tickets)
        .serve(input, output)?;
    Ok(())
}

/// The tenant under which vendor-wide events (an incident with no tenant)
/// are logged.
pub fn vendor_tenant() -> TenantId {
    TenantId::from_external_key(HELPDESK_SYSTEM, "vendor")
}

/// The helpdesk's own subject in `tenant`: owner of sealed notes that concern
/// no contact (never shredded by a request).
pub fn helpdesk_subject(tenant: TenantId) -> SubjectId {
    SubjectId::from_external_key(tenant, HELPDESK_SYSTEM, "helpdesk")
}

/// The retention job's actor id in `tenant`.
pub fn retention_actor(tenant: TenantId) -> custodia_core::ActorId {
    custodia_core::ActorId::from_external_key(tenant, HELPDESK_SYSTEM, "retention")
}
