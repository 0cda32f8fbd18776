//! The helpdesk flow: nine steps, each returning what it did as a [`Step`]
//! (the readable text) plus the facts the workspace test asserts on.
//!
//! `examples/helpdesk.rs` at the workspace root prints the report and this
//! package's `tests/flow.rs` checks it, so both run the same code.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use custodia_core::chrono::{NaiveDate, TimeDelta};
use custodia_core::{
    ActorId, Clock, DataCategory, ManualClock, Region, Role, SubjectId, TenantId, Timestamp,
};
use custodia_dsr::breach::{
    Art34Assessment, Art34Decision, BreachRegister, Contact, Incident, Lateness,
};
use custodia_dsr::{
    BoxError, ErasureCertificate, ExportBundle, PersonalDataSource, RequestKind, SubjectKeyStatus,
    VerificationMethod,
};
use custodia_mask::{Detector, Kind, KnownEntities, MaskPolicy, Masker, Strategy, TokenVault};
use custodia_retention::SweepPlan;
use custodia_tenant::access::{
    AccessDecision, AccessPolicy, FieldAccess, FieldDecision, FieldRule, Operation, Ownership,
    Permission, PolicyChange, Scope,
};
use custodia_tenant::residency::{AdequacyList, Recipient, TransferDecision, TransferRules};
use custodia_tenant::{RoleName, TenantContext};

use crate::audit::{Action, Actor, ActorKind, Event, Outcome, Query, Target};
use crate::demo::{self, Cast};
use crate::{Database, Helpdesk, PG_AUDIT_LOG, PG_SCHEMA, SavedCheckpoint, StoredTicket, store};

/// Where step 2 says the tickets, the key store and the audit log are.
fn storage(hd: &Helpdesk) -> (String, String, String) {
    let layout = hd.layout();
    match hd.database() {
        Database::Files => (
            format!("SQLite database: {}", layout.database().display()),
            layout.key_store().display().to_string(),
            format!(
                "{}/ (tamper-evident Merkle log in segment files)",
                layout.audit().display()
            ),
        ),
        Database::Postgres { .. } => (
            format!(
                "PostgreSQL:      schema {PG_SCHEMA}, table tickets under row-level security (every statement bound to its tenant)"
            ),
            format!("PostgreSQL, schema {PG_SCHEMA} (shared by every app server)"),
            format!(
                "PostgreSQL log {PG_AUDIT_LOG:?} (tamper-evident Merkle log, one gap-free log for every app server)"
            ),
        ),
    }
}

/// The audit log's place, for people.
fn audit_place(hd: &Helpdesk) -> String {
    match hd.database() {
        Database::Files => format!("{}/", hd.layout().audit().display()),
        Database::Postgres { .. } => format!("{PG_AUDIT_LOG:?} in PostgreSQL schema {PG_SCHEMA}"),
    }
}

/// Errors from any crate, SQLite or the flow itself.
pub type Error = BoxError;

/// The fixed "now" of the example: output is reproducible except for random
/// ids and ciphertext.
pub fn start_time() -> Timestamp {
    demo::start_time()
}

/// The UK's own adequacy regulations (the exporter is the UK, not the EU):
/// the US is adequate only for organisations in the UK Extension to the
/// EU-US Data Privacy Framework (the "data bridge").
pub const UK_ADEQUACY_JSON: &str = r#"{
  "version": 1,
  "exporter": "UK",
  "as_of": "2026-11-01",
  "source": "UK adequacy regulations (DPA 2018 s.17A), abridged for the example",
  "countries": [
    { "region": "US", "name": "United States",
      "decision": "Data Protection (Adequacy) (United States of America) Regulations 2023",
      "condition": { "key": "uk-us-data-bridge",
                     "description": "only organisations in the UK Extension to the EU-US DPF" } }
  ]
}"#;

/// The AI summariser, as a transfer recipient: not in the UK-US data bridge.
pub const SUMMARISER: &str = "Summa AI Inc. (summariser)";

/// Where the summariser processes data homed in `home`: its Sydney endpoint
/// for AU tenants, its US one for everyone else.
pub fn summariser_region(home: Region) -> Region {
    if home == Region::AU {
        Region::AU
    } else {
        Region::US
    }
}

/// The transfer rules the example follows: the built-in adequacy lists and
/// the UK's own ([`UK_ADEQUACY_JSON`]).
pub fn transfer_rules() -> Result<TransferRules, Error> {
    let uk_rules = AdequacyList::from_json(UK_ADEQUACY_JSON)?;
    Ok(TransferRules::new(vec![AdequacyList::builtin()?, uk_rules]))
}

/// May ticket text homed in `home` go to the summariser on `today`?
pub fn summariser_transfer(home: Region, today: NaiveDate) -> Result<TransferDecision, Error> {
    let recipient = Recipient::new(SUMMARISER);
    Ok(transfer_rules()?.check(home, summariser_region(home), &recipient, today))
}

/// The retention policy the helpdesk promises in its privacy notice, loaded
/// by custodia-retention: the sweep (step 6) and the erasure's holds and
/// backup horizon (step 8) both follow it.
pub const RETENTION_TOML: &str = crate::DEFAULT_POLICY;

/// One step of the report: what happens, why, and what it showed.
#[derive(Clone, Debug)]
pub struct Step {
    /// Step number.
    pub number: u8,
    /// What happens.
    pub title: &'static str,
    /// Why, in one sentence.
    pub why: &'static str,
    /// What it showed.
    pub lines: Vec<String>,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}. {}", self.number, self.title)?;
        writeln!(f, "   why: {}", self.why)?;
        for line in &self.lines {
            writeln!(f, "   {line}")?;
        }
        Ok(())
    }
}

/// The whole run: the steps in order, and the facts behind them.
pub struct Report {
    /// The readable report.
    pub steps: Vec<Step>,
    /// Step 1: transfer decisions.
    pub transfers: Vec<TransferDecision>,
    /// Step 2: the stored `email` column of the looked-up ticket.
    pub raw_email_column: Vec<u8>,
    /// Step 2: the address looked up (spelled differently from the stored one).
    pub lookup_email: String,
    /// Step 2: ticket ids the blind index found.
    pub lookup_found: Vec<String>,
    /// Step 2: the email decrypted from the first ticket found.
    pub lookup_decrypted: Option<String>,
    /// Step 3: the ticket's clear text, email and phone.
    pub ai_original: (String, String, String),
    /// Step 3: exactly what was sent to the summariser.
    pub ai_sent: String,
    /// Step 3: the summariser's reply, as it came back.
    pub ai_reply: String,
    /// Step 3: the reply un-masked for the agent.
    pub ai_reply_for_agent: String,
    /// Step 4: the agent's decision to read the ticket.
    pub agent_read: AccessDecision,
    /// Step 4: the agent's access to the phone field.
    pub agent_phone: FieldDecision,
    /// Step 4: the fields the agent's view of the ticket contains.
    pub agent_view_fields: Vec<String>,
    /// Step 4: the other tenant's agent, refused by the guard.
    pub other_tenant_refusal: custodia_tenant::Error,
    /// Step 6: the sweep's plan.
    pub sweep: SweepPlan,
    /// Step 7: the access request's bundle.
    pub export: ExportBundle,
    /// Step 8: the erasure certificate.
    pub certificate: ErasureCertificate,
    /// Step 8: opening the pre-erasure backup copy's email.
    pub backup_after_erasure: Result<Option<String>, custodia_crypt::Error>,
    /// Step 8: the subject erased.
    pub erased_subject: SubjectId,
    /// Step 8: tickets still linked to the subject after erasure.
    pub located_after_erasure: usize,
    /// Step 8: another contact's email, still readable.
    pub other_contact_after_erasure: Option<String>,
    /// Step 9: the breach drill.
    pub incident: Incident,
    /// Step 9: what Art. 34 requires.
    pub art34: Art34Decision,
    /// Step 6: tickets the sweep deleted.
    pub sweep_deleted: Vec<String>,
    /// Step 7: the portal sign-in IP in the access bundle's audit events.
    pub login_ip_in_export: Option<String>,
    /// Step 8: the signed checkpoint taken before the erasure.
    pub checkpoint: SavedCheckpoint,
    /// Step 8: the portal sign-in IP rendered from the log after the erasure.
    pub login_ip_after_erasure: Option<String>,
    /// Step 8: the log re-read and verified after the erasure: its size.
    pub log_after_erasure: Result<u64, String>,
    /// Step 8: the log checked against the pre-erasure checkpoint.
    pub checkpoint_after_erasure: Result<(), String>,
    /// Every audit event, oldest first.
    pub audit: Vec<Event>,
    /// The data directory.
    pub dir: std::path::PathBuf,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.steps {
            writeln!(f, "{step}")?;
        }
        Ok(())
    }
}

/// The external "AI summariser": whatever it gets leaves the system. It
/// echoes the placeholders it was given, as a real model does.
pub fn ai_summarise(prompt: &str) -> String {
    let token = |prefix: &str| {
        prompt
            .split('<')
            .skip(1)
            .filter_map(|rest| rest.split_once('>').map(|(t, _)| t))
            .find(|t| t.starts_with(prefix))
            .map(|t| format!("<{t}>"))
            .unwrap_or_else(|| "the customer".into())
    };
    let first_sentence = prompt
        .lines()
        .find(|l| !l.trim().is_empty() && !l.starts_with("Summarise"))
        .and_then(|l| l.split(". ").next())
        .unwrap_or("")
        .trim_end_matches('.');
    format!(
        "{} reports: {}. Suggested next step: call {} or reply to {}.",
        token("PERSON"),
        first_sentence.to_lowercase(),
        token("PHONE"),
        token("EMAIL"),
    )
}

/// The running helpdesk: the shared backend plus ACME's access policy.
struct App {
    clock: Arc<ManualClock>,
    hd: Helpdesk,
    cast: Cast,
    policy: AccessPolicy,
}

impl App {
    /// Audits one of the helpdesk's own changes by an agent.
    fn log(
        &self,
        tenant: TenantId,
        subject: Option<SubjectId>,
        agent: ActorId,
        action: Action,
        ticket: &str,
        note: String,
    ) -> Result<(), Error> {
        self.hd.record(
            tenant,
            subject,
            Actor::new(ActorKind::Agent, agent),
            action,
            Target::new(store::RECORD_TYPE, ticket)?,
            &note,
        )?;
        Ok(())
    }

    fn tick(&self, minutes: i64) {
        self.clock.advance(TimeDelta::minutes(minutes));
    }

    /// Every event in the log, oldest first.
    fn events(&self) -> Result<Vec<(u64, Event)>, Error> {
        Ok(self.hd.trail().with_log(|log| log.query(&Query::new()))?)
    }
}

fn short(id: impl fmt::Display) -> String {
    id.to_string().chars().take(8).collect()
}

fn when(t: Timestamp) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// One log line: time, tenant, action, target, outcome, what is sealed.
fn event_line(index: u64, e: &Event) -> String {
    let mut sealed = Vec::new();
    if e.actor.ip.is_some() {
        sealed.push("ip");
    }
    if e.note.is_some() {
        sealed.push("note");
    }
    if !e.changes.is_empty() {
        sealed.push("old+new values");
    }
    format!(
        "  #{index:<2} {} {:<8} {:<22} {:<24} {:<7} sealed: {}",
        e.time.format("%H:%M"),
        short(e.tenant),
        e.action.as_str(),
        format!("{} {}", e.target.kind, short(&e.target.id)),
        match e.outcome {
            Outcome::Success => "ok",
            Outcome::Denied => "denied",
            Outcome::Failure => "failed",
        },
        if sealed.is_empty() {
            "-".to_owned()
        } else {
            sealed.join("+")
        }
    )
}

/// Runs the whole flow with its files (SQLite database, key store, audit
/// log, checkpoint key, retention policy) in `dir`. Existing files from an
/// earlier run are replaced.
pub fn run(dir: &Path) -> Result<Report, Error> {
    run_on(dir, &Database::Files)
}

/// [`run`] with the tickets, keys and audit log in `database` (see
/// [`Helpdesk::create_on`]); the root and checkpoint keys, checkpoints and
/// policy stay in `dir`.
pub fn run_on(dir: &Path, database: &Database) -> Result<Report, Error> {
    let mut steps = Vec::new();
    let cast = Cast::new();
    let clock = Arc::new(ManualClock::new(start_time()));

    // ---- 1. Subscribers, residency, transfers --------------------------------
    let rules = transfer_rules()?;
    let today = start_time().date_naive();
    let summa_bridge = Recipient::new(SUMMARISER).certified("uk-us-data-bridge");
    let transfers = vec![
        summariser_transfer(Region::AU, today)?,
        summariser_transfer(Region::UK, today)?,
        rules.check(
            Region::UK,
            summariser_region(Region::UK),
            &summa_bridge,
            today,
        ),
    ];
    let mut lines = vec![
        format!("ACME-0042 -> tenant {}  home region AU (Australia), data stays in Sydney", cast.acme),
        format!("GLOBEX-7  -> tenant {}  home region UK (United Kingdom), data stays in London", cast.globex),
        "The AI summariser runs in AU (for ACME) and in the US (for GLOBEX). May the data go there?".into(),
    ];
    lines.extend(
        transfers
            .iter()
            .map(|d| format!("{} {d}", if d.allowed() { "ALLOWED" } else { "DENIED " })),
    );
    lines.push("=> ACME's tickets go to the AU endpoint; GLOBEX's only once the vendor joins the UK data bridge.".into());
    steps.push(Step {
        number: 1,
        title: "Two subscribers in different regions, and where their data may go",
        why: "each subscriber's data has a home region; sending it abroad needs a legal basis (GDPR Chapter V).",
        lines,
    });
    clock.advance(TimeDelta::minutes(1));

    // ---- 2. Tickets in SQLite (or PostgreSQL) with sealed contact fields ------
    let hd = Helpdesk::create_on(dir, clock.clone() as Arc<dyn Clock>, database)?;
    let app = App {
        clock: clock.clone(),
        policy: acme_access_policy(cast.acme)?,
        hd,
        cast,
    };
    let c = &app.cast;
    let tickets = app.hd.tickets().clone();
    let layout = app.hd.layout().clone();
    let new_tickets = demo::tickets(c);
    demo::insert_tickets(&app.hd, &new_tickets)?;
    app.tick(1);
    demo::portal_login(&app.hd, c.acme, c.alice, demo::ALICE_PORTAL_IP)?;
    let (alice_email, alice_phone, vpn_body) =
        (demo::ALICE_EMAIL, demo::ALICE_PHONE, demo::VPN_BODY);
    let lookup_email = "  alice.ng@EXAMPLE.com ";
    let lookup_found = tickets.find_by_email(c.acme, lookup_email)?;
    let first = lookup_found
        .first()
        .and_then(|id| tickets.row(id).ok().flatten());
    let raw_email_column = first
        .as_ref()
        .and_then(|r| r.envelope("email"))
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    let lookup_decrypted = match &first {
        Some(row) => tickets.open_field(row, "email")?,
        None => None,
    };
    let from_globex = tickets.find_by_email(c.globex, lookup_email)?;
    let hex: String = raw_email_column
        .iter()
        .take(24)
        .map(|b| format!("{b:02x}"))
        .collect();
    let (tickets_at, keys_at, log_at) = storage(&app.hd);
    let lines = vec![
        format!(
            "{tickets_at} ({} tickets, 2 tenants)",
            new_tickets.len()
        ),
        format!("key store:       {keys_at} (tenant data keys random, wrapped; one key per contact)"),
        format!(
            "root key:        {} (mode 0600; in production from a secrets manager, not beside the data)",
            layout.root_key().display()
        ),
        format!(
            "audit log:       {log_at}; checkpoint key {}",
            layout.checkpoint_key().display()
        ),
        format!(
            "each ticket's creation is audited; Alice signs in to the portal from {} (logged, the IP sealed under her key)",
            demo::ALICE_PORTAL_IP
        ),
        format!(
            "raw row T-1001, column email: {hex}... ({} bytes of AES-256-GCM envelope)",
            raw_email_column.len()
        ),
        format!(
            "raw row T-1001, other columns: subject_line {:?} (clear, for triage); {}",
            first.as_ref().map_or("", |r| r.subject_line.as_str()),
            store::SEALED
                .iter()
                .map(|(name, _)| format!(
                    "{name} {} bytes",
                    first.as_ref().and_then(|r| r.envelope(name)).map_or(0, <[u8]>::len)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        "  (an envelope names its key, subject/<contact id>/v1, and is bound to tenant, table, row and column)".into(),
        format!(
            "find contact by email {lookup_email:?}: blind index -> tickets {}",
            lookup_found.join(", ")
        ),
        format!(
            "decrypted email of {}: {:?}",
            lookup_found.first().map_or("-", String::as_str),
            lookup_decrypted.as_deref().unwrap_or("-")
        ),
        format!(
            "the same lookup inside GLOBEX finds {} tickets (indexes are keyed per tenant)",
            from_globex.len()
        ),
    ];
    steps.push(Step {
        number: 2,
        title: match app.hd.database() {
            Database::Files => "Tickets stored in SQLite with encrypted contact fields",
            Database::Postgres { .. } => "Tickets stored in PostgreSQL with encrypted contact fields",
        },
        why: "a stolen database or backup must not reveal who wrote in (GDPR Art. 32), yet agents must still find a contact by email.",
        lines,
    });
    app.tick(5);

    // ---- 3. Masking before the AI summariser ---------------------------------
    let masker = Masker::new(Detector::new()).with_policy(MaskPolicy::new(Strategy::Tokenize))?;
    let known = KnownEntities::new([(Kind::Person, "Alice Ng")])?;
    let mut token_vault = TokenVault::new();
    let prompt_text = format!("Summarise this support ticket for the agent.\n{vpn_body}");
    let masked = masker.mask_with(&prompt_text, &known, Some(&mut token_vault))?;
    let ai_sent = masked.text.clone();
    app.log(
        c.acme,
        Some(c.alice),
        c.acme_agent,
        Action::Share,
        "T-1002",
        format!(
            "ticket T-1002 to Summa AI (AU): {} values tokenised {:?}",
            masked.report.total(),
            masked
                .report
                .counts
                .iter()
                .map(|(k, n)| format!("{}x{n}", k.as_str()))
                .collect::<Vec<_>>()
        ),
    )?;
    let ai_reply = ai_summarise(&ai_sent);
    let ai_reply_for_agent = token_vault.unmask(&ai_reply);
    let mut lines = vec!["what leaves the system (exactly):".to_string()];
    lines.extend(ai_sent.lines().map(|l| format!("  | {l}")));
    lines.push(format!(
        "masked: {} values ({}); the token table stays here",
        masked.report.total(),
        masked
            .report
            .counts
            .iter()
            .map(|(k, n)| format!("{} {n}", k.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    lines.push(format!("the summariser replied:   {ai_reply}"));
    lines.push(format!("the agent sees (unmasked): {ai_reply_for_agent}"));
    steps.push(Step {
        number: 3,
        title: "Ticket text masked before the external AI summariser",
        why: "the AI vendor needs the problem, not the person (data minimisation, GDPR Art. 5(1)(c) and 28).",
        lines,
    });
    app.tick(5);

    // ---- 4. Role- and field-level access -------------------------------------
    let agent_ctx =
        TenantContext::new(c.acme, c.acme_agent, Region::AU).with_role(RoleName::new("agent")?);
    let row = tickets.row("T-1002")?.ok_or("ticket T-1002 missing")?;
    let ours = agent_ctx.admit(row.clone())?;
    let meta = Ownership {
        tenant: ours.tenant(),
        owner: Some(ours.get().owner),
        team: None,
    };
    let agent_read = app
        .policy
        .decide(&agent_ctx, "ticket", Operation::Read, &meta);
    let mut agent_view = Vec::new();
    let mut lines = vec![format!("ACME agent reads T-1002: {agent_read}")];
    let mut agent_phone = None;
    let fields = [("subject_line", DataCategory::USER_CONTENT_TICKET)]
        .into_iter()
        .chain(store::SEALED);
    for (field, category) in fields {
        let decision = app
            .policy
            .field_access(&agent_ctx, "ticket", &meta, &category);
        let shown = if decision.access.can_read() {
            agent_view.push(field.to_string());
            let value = if field == "subject_line" {
                Some(ours.get().subject_line.clone())
            } else {
                tickets.open_field(ours.get(), field)?
            };
            let value = value.unwrap_or_default();
            let value: String = value.chars().take(40).collect();
            format!("{value:?}")
        } else {
            "(not shown)".into()
        };
        lines.push(format!(
            "  {field:<12} {:<7} {shown}  [{decision}]",
            decision.access.to_string()
        ));
        if field == "phone" {
            agent_phone = Some(decision);
        }
    }
    app.log(
        c.acme,
        row.subject,
        c.acme_agent,
        Action::Read,
        "T-1002",
        format!("fields {}", agent_view.join(",")),
    )?;
    let new_line = "VPN keeps dropping (home Wi-Fi only)";
    app.hd
        .update_subject_line(c.acme_agent, "T-1002", new_line)?;
    lines.push(format!(
        "ACME agent retitles T-1002 to {new_line:?}: audited as update, old and new value sealed under Alice's key"
    ));
    let globex_ctx =
        TenantContext::new(c.globex, c.globex_agent, Region::UK).with_role(RoleName::new("agent")?);
    let other_tenant_refusal = match globex_ctx.admit(row.clone()) {
        Err(e) => e,
        Ok(_) => return Err("the guard let another tenant's agent in".into()),
    };
    app.hd.record_outcome(
        c.globex,
        None,
        Actor::new(ActorKind::Agent, c.globex_agent),
        Action::Read,
        Target::new(store::RECORD_TYPE, "T-1002")?,
        Outcome::Denied,
        &format!(
            "refused by the tenant guard: {}",
            if other_tenant_refusal.is_cross_tenant() {
                "cross-tenant"
            } else {
                "denied"
            }
        ),
    )?;
    lines.push(format!(
        "GLOBEX agent opens ACME's T-1002: refused by the guard: {other_tenant_refusal}"
    ));
    let policy_says = app
        .policy
        .decide(&globex_ctx, "ticket", Operation::Read, &meta);
    lines.push(format!("and ACME's policy would say: {policy_says}"));
    steps.push(Step {
        number: 4,
        title: "Role- and field-level access checks",
        why: "least privilege: agents see what their role needs, and no subscriber ever sees another's tickets (GDPR Art. 25, 32).",
        lines,
    });
    let agent_phone = agent_phone.ok_or("phone field not checked")?;
    app.tick(5);

    // ---- 5. Audit trail -------------------------------------------------------
    let so_far = app.events()?;
    let report = app.hd.verify_log()?;
    let mut lines = vec![format!(
        "{} events in the tamper-evident log {} so far:",
        so_far.len(),
        audit_place(&app.hd)
    )];
    lines.extend(so_far.iter().map(|(i, e)| event_line(*i, e)));
    lines.push("Ids, actions and outcomes are in the clear; notes, IP addresses and changed values are sealed under the contact's key before hashing.".into());
    lines.push(format!(
        "verified end to end: {} records, Merkle root {}",
        report.head.size,
        b64(&report.head.root)
    ));
    steps.push(Step {
        number: 5,
        title: "Every change recorded in a tamper-evident log",
        why: "accountability: who did what to whose data, and when (GDPR Art. 5(2), 30).",
        lines,
    });
    app.tick(5);

    // ---- 6. Retention sweep --------------------------------------------------
    let now = app.clock.now();
    let (sweep, sweep_deleted) = app.hd.sweep()?;
    let mut lines = vec![
        format!(
            "policy {}: closed tickets kept 3 years then anonymized, spam deleted after 30 days, open tickets idle a year anonymized, daily backups kept 30 days",
            layout.policy().display()
        ),
        format!("now = {}", when(now)),
    ];
    lines.extend(sweep.to_string().lines().map(str::to_owned));
    lines.push(format!(
        "carried out: deleted {} (audited as delete by the retention job); anonymize items are only listed here: this example runs no anonymization job",
        if sweep_deleted.is_empty() { "nothing".to_owned() } else { sweep_deleted.join(", ") }
    ));
    if let Some(clear) = app.hd.policy().erasure_complete(now) {
        lines.push(format!(
            "data deleted now has left every backup by {}",
            when(clear)
        ));
    }
    steps.push(Step {
        number: 6,
        title: "Retention sweep from a TOML policy",
        why: "keep data no longer than promised (storage limitation, GDPR Art. 5(1)(e)).",
        lines,
    });
    app.tick(5);

    // ---- 7. Access request ----------------------------------------------------
    let desk = app.hd.desk()?;
    let mut access = desk.receive(
        c.acme,
        c.alice,
        RequestKind::Access,
        Role::Controller,
        c.acme_dpo,
    )?;
    desk.verify(
        &mut access,
        VerificationMethod::AuthenticatedSession,
        "signed in to the portal",
        c.acme_dpo,
    )?;
    let export = desk.export(&mut access, c.acme_dpo)?;
    let login_ip_in_export = login_ip(&export.audit.events);
    let mut lines = vec![
        format!(
            "request {} from Alice Ng (subject {}): received {}, due {}",
            short(access.id),
            short(c.alice),
            when(access.received_at),
            when(access.due)
        ),
        format!(
            "bundle: {} records from {}, {} audit events about her, {} bytes of JSON plus {} CSV file(s)",
            export.records.len(),
            export
                .manifest
                .iter()
                .map(|m| m.source.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            export.audit.events.len(),
            export.to_json()?.len(),
            export.csv_files().len()
        ),
    ];
    for record in &export.records {
        let email = record
            .fields
            .iter()
            .find(|f| f.name == "email")
            .map_or("", |f| f.value.as_str());
        let subject = record
            .fields
            .iter()
            .find(|f| f.name == "subject_line")
            .map_or("", |f| f.value.as_str());
        lines.push(format!(
            "  {} {:?} email {email:?} ({} fields, basis {:?})",
            record.id,
            subject,
            record.fields.len(),
            record.legal_basis
        ));
    }
    lines.push(format!(
        "  her portal sign-in in the audit log, opened with her key: ip {:?}",
        login_ip_in_export.as_deref().unwrap_or("-")
    ));
    if let Some(csv) = export.csv_files().first() {
        lines.push(format!(
            "  {} header: {}",
            csv.name,
            csv.content.lines().next().unwrap_or("")
        ));
    }
    steps.push(Step {
        number: 7,
        title: "An access request answered with an export bundle",
        why: "people may get a copy of their data within a month (GDPR Art. 12(3), 15, 20).",
        lines,
    });
    app.tick(60);

    // ---- 8. Erasure with crypto-shredding -------------------------------------
    let checkpoint = app.hd.checkpoint()?;
    let backup_copy: StoredTicket = tickets.row("T-1001")?.ok_or("ticket T-1001 missing")?;
    let before = tickets.open_field(&backup_copy, "email")?;
    let mut erasure = desk.receive(
        c.acme,
        c.alice,
        RequestKind::Erasure,
        Role::Controller,
        c.acme_dpo,
    )?;
    desk.verify(
        &mut erasure,
        VerificationMethod::AuthenticatedSession,
        "signed in to the portal",
        c.acme_dpo,
    )?;
    let certificate = desk.erase(&mut erasure, c.acme_dpo)?;
    let backup_after_erasure = tickets.open_field(&backup_copy, "email");
    let located_after_erasure = tickets.locate(c.acme, c.alice)?.len();
    let bob_row = tickets.row("T-1004")?.ok_or("ticket T-1004 missing")?;
    let other_contact_after_erasure = tickets.open_field(&bob_row, "email")?;
    let live = tickets.row("T-1001")?.ok_or("ticket T-1001 missing")?;
    let rendered_after = app.hd.trail().rendered_events(c.acme, c.alice)?;
    let login_ip_after_erasure = login_ip(&rendered_after);
    let with_erased_values = rendered_after
        .iter()
        .filter(|e| e.details.contains_key("erased"))
        .count();
    let log_after_erasure = app
        .hd
        .verify_log()
        .map(|r| r.head.size)
        .map_err(|e| e.to_string());
    let checkpoint_after_erasure = app
        .hd
        .check_checkpoint(&checkpoint.note)
        .map_err(|e| e.to_string());
    let mut lines = vec![format!(
        "signed checkpoint taken first: tree size {}, Ed25519 key {} -> {}",
        checkpoint.size,
        layout.checkpoint_key().display(),
        checkpoint.path.display()
    )];
    lines.extend(checkpoint.note.lines().take(3).map(|l| format!("  | {l}")));
    lines.extend([
        "policy: contact fields (name, email, phone) deleted; ticket text anonymized so the ticket stays in the statistics".into(),
        format!("backup copy of row T-1001 taken first; its email opened then: {:?}", before.as_deref().unwrap_or("-")),
        format!("request {}: {} tickets erased, {} kept, subject key {}", short(erasure.id), certificate.erased.len(), certificate.kept.len(),
            match &certificate.subject_key {
                SubjectKeyStatus::Shredded { at, .. } => format!("SHREDDED at {}", when(*at)),
                other => other.describe(),
            }),
        format!("  {}", certificate.erased.iter().map(|e| format!("{}: deleted {}, anonymized {}", e.record.id, e.deleted_fields.join("+"), e.anonymized_fields.join("+"))).collect::<Vec<_>>().join("; ")),
        format!("live row T-1001 now: subject_line {:?}, contact {:?}, sealed columns {}",
            live.subject_line, live.subject.map(short), if live.sealed.iter().all(Option::is_none) { "all NULL" } else { "some left" }),
        format!("backup copy's email now: {}", match &backup_after_erasure {
            Ok(v) => format!("READABLE {v:?}"),
            Err(e) => format!("unreadable: {e}"),
        }),
        format!("her portal sign-in in the audit log: ip was {:?}, now {:?} (sealed under the shredded key)",
            login_ip_in_export.as_deref().unwrap_or("-"), login_ip_after_erasure.as_deref().unwrap_or("-")),
        format!("  {with_erased_values} of her {} audit events now show erased values (IP, notes, the retitle's old and new subject line); none was rewritten",
            rendered_after.len()),
        format!("audit log re-read from disk and verified end to end: {}", match &log_after_erasure {
            Ok(size) => format!("OK, {size} records (the erasure's own steps included)"),
            Err(e) => format!("FAILED: {e}"),
        }),
        format!("audit log against the pre-erasure checkpoint (signature + consistency proof): {}", match &checkpoint_after_erasure {
            Ok(()) => format!("OK, size {} extends to {}", checkpoint.size, log_after_erasure.as_ref().map_or(0, |s| *s)),
            Err(e) => format!("FAILED: {e}"),
        }),
        format!("Bob's tickets are untouched: email {:?}", other_contact_after_erasure.as_deref().unwrap_or("-")),
        format!("certificate: issued {}, backups clear by {} (the retention policy's schedule: daily backups, kept 30 days)", when(certificate.issued_at),
            certificate.backups_clear_by.map_or_else(|| "unknown".into(), when)),
    ]);
    if certificate.kept.is_empty() {
        lines.insert(8, "  the retention policy kept nothing: T-1001's 3-year warranty retention ran out in 2026-06; open tickets carry no duty to keep".into());
    }
    for kept in &certificate.kept {
        lines.insert(
            8,
            format!(
                "  kept {} ({}): {}",
                kept.record.id,
                kept.exception.article(),
                kept.reason
            ),
        );
    }
    let json = certificate.to_json()?;
    lines.push(format!(
        "certificate JSON ({} bytes), first lines:",
        json.len()
    ));
    lines.extend(json.lines().take(6).map(|l| format!("  | {l}")));
    lines.push(match app.hd.database() {
        Database::Files => format!(
            "check it yourself: custodia audit verify {} --checkpoint {} --key {}",
            layout.audit().display(),
            checkpoint.path.display(),
            layout.checkpoint_verifier().display()
        ),
        Database::Postgres { .. } => format!(
            "check it yourself: AuditLog::open_extending over PostgresStore (log {PG_AUDIT_LOG:?} in schema {PG_SCHEMA}) with {} and key {}",
            checkpoint.path.display(),
            layout.checkpoint_verifier().display()
        ),
    });
    steps.push(Step {
        number: 8,
        title: "An erasure request: anonymize, delete, shred the key",
        why: "the right to erasure reaches backups and the audit log too: without the person's key, every copy is noise, and the log still proves it was not rewritten (GDPR Art. 17).",
        lines,
    });
    app.tick(30);

    // ---- 9. Breach drill -------------------------------------------------------
    let aware = app.clock.now();
    let window = (start_time(), aware);
    let mut incident = Incident::new(
        Role::Controller,
        aware,
        "Drill: the AI summariser's vendor reports that its prompt log was readable by anyone with the link this morning.",
        Contact {
            name: "Data Protection Officer".into(),
            contact: "dpo@helpdesk.example".into(),
        },
    );
    incident.window = Some(window);
    incident.nature.confidentiality = true;
    incident
        .data_categories
        .insert(DataCategory::USER_CONTENT_TICKET);
    incident
        .subject_categories
        .push("subscribers' end users".into());
    incident.consequences = "Low: the prompts held masked ticket text only (names, emails, phones and addresses replaced by tokens).".into();
    incident
        .measures
        .push("Vendor link revoked; prompt log retention set to zero.".into());
    // Who is affected: the log's `share` events (prompts sent) in the window.
    let affected =
        app.hd
            .trail()
            .affected(&Query::new().action(Action::Share), window.0, window.1)?;
    incident.apply_affected(&affected);
    let register = BreachRegister::new(app.clock.clone() as Arc<dyn Clock>, app.hd.trail().clone());
    register.record(&incident, c.acme_dpo)?;
    let art34 = Art34Assessment {
        high_risk: Art34Assessment::suggest_high_risk(&incident),
        ..Default::default()
    }
    .decide();
    let draft = incident.authority_draft(aware);
    let mut lines = vec![
        format!(
            "aware at {}; authority deadline {} (72 hours); {}",
            when(aware),
            when(incident.authority_deadline()),
            match incident.lateness(aware) {
                Lateness::OnTime(left) => format!("{} hours left", left.num_hours()),
                Lateness::Late(by) => format!("LATE by {} hours", by.num_hours()),
            }
        ),
        format!(
            "affected, from the audit log's share events (prompts sent) in the window: {} tenant(s), {} person(s), {} prompt(s)",
            affected.tenants().len(),
            affected.subject_count(),
            affected.events
        ),
        format!("tell the people themselves (Art. 34)? {art34:?}"),
        "notification draft (excerpt):".into(),
    ];
    lines.extend(
        draft
            .lines()
            .filter(|l| !l.is_empty())
            .take(8)
            .map(|l| format!("  | {l}")),
    );
    let audit = app.events()?;
    let final_check = app.hd.verify_log()?;
    lines.push(format!(
        "audit log now holds {} events ({} from the data-subject desk and breach register); verified, root {}",
        audit.len(),
        audit
            .iter()
            .filter(|(_, e)| e.request_id.is_some() || e.target.kind.starts_with("breach."))
            .count(),
        b64(&final_check.head.root)
    ));
    steps.push(Step {
        number: 9,
        title: "A breach drill with its 72-hour clock",
        why: "a controller notifies the authority within 72 hours of becoming aware (GDPR Art. 33).",
        lines,
    });

    Ok(Report {
        steps,
        transfers,
        raw_email_column,
        lookup_email: lookup_email.into(),
        lookup_found,
        lookup_decrypted,
        ai_original: (vpn_body.into(), alice_email.into(), alice_phone.into()),
        ai_sent,
        ai_reply,
        ai_reply_for_agent,
        agent_read,
        agent_phone,
        agent_view_fields: agent_view,
        other_tenant_refusal,
        sweep,
        sweep_deleted,
        export,
        login_ip_in_export,
        checkpoint,
        certificate,
        backup_after_erasure,
        erased_subject: c.alice,
        located_after_erasure,
        other_contact_after_erasure,
        login_ip_after_erasure,
        log_after_erasure,
        checkpoint_after_erasure,
        incident,
        art34,
        audit: audit.into_iter().map(|(_, e)| e).collect(),
        dir: dir.to_owned(),
    })
}

/// The IP of the portal sign-in among rendered audit events.
fn login_ip(events: &[custodia_dsr::RenderedAuditEvent]) -> Option<String> {
    events
        .iter()
        .find(|e| e.action == Action::Login.as_str())
        .and_then(|e| e.details.get("ip").cloned())
}

fn b64(bytes: &[u8]) -> String {
    bytes
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        + "..."
}

/// ACME's access policy: agents read every ticket of the tenant, see the
/// contact's name and email, and never the phone number (calls go through
/// the phone system); supervisors also see the phone.
fn acme_access_policy(tenant: TenantId) -> Result<AccessPolicy, Error> {
    let mut policy = AccessPolicy::new(tenant);
    for change in acme_roles()? {
        policy.apply_unchecked(change)?;
    }
    Ok(policy)
}

/// ACME's roles: `agent` reads the tenant's tickets and changes their own,
/// writes the text, reads name and email, never sees the phone;
/// `supervisor` reads every ticket and every personal field. The HTTP
/// server builds its policy on these.
pub fn acme_roles() -> Result<Vec<PolicyChange>, Error> {
    let agent = RoleName::new("agent")?;
    let supervisor = RoleName::new("supervisor")?;
    let grant = |role: &RoleName, op| -> Result<PolicyChange, Error> {
        Ok(PolicyChange::Grant(
            role.clone(),
            Permission::new("ticket", op, Scope::Tenant)?,
        ))
    };
    let field = |role: &RoleName, category, access| {
        PolicyChange::SetField(role.clone(), FieldRule { category, access })
    };
    Ok(vec![
        PolicyChange::DefineRole(agent.clone()),
        grant(&agent, Operation::Read)?,
        PolicyChange::Grant(
            agent.clone(),
            Permission::new("ticket", Operation::Update, Scope::Own)?,
        ),
        field(
            &agent,
            DataCategory::USER_CONTENT_TICKET,
            FieldAccess::Write,
        ),
        field(&agent, DataCategory::USER_NAME, FieldAccess::Read),
        field(&agent, DataCategory::USER_CONTACT_EMAIL, FieldAccess::Read),
        field(
            &agent,
            DataCategory::USER_CONTACT_PHONE,
            FieldAccess::Hidden,
        ),
        PolicyChange::DefineRole(supervisor.clone()),
        grant(&supervisor, Operation::Read)?,
        field(&supervisor, DataCategory::USER, FieldAccess::Read),
    ])
}

const USAGE: &str = "usage: helpdesk [--data DIR] [--database URL [--database-owner URL]]\n\n  --data DIR  keep the SQLite database, key store, audit log and policy in DIR\n              (default: a temporary directory); its helpdesk files are replaced on every run\n  --database URL        keep the tickets, keys and audit log in PostgreSQL instead (schema\n                        custodia_helpdesk, recreated on every run), connected as URL's role\n  --database-owner URL  the tables' owner, which creates the schema and grants URL's role only\n                        what it needs (default: URL; give a separate owner so row-level\n                        security binds the application role as in production)";

/// What the command line asked for.
#[derive(Debug, Default)]
struct Args {
    data: Option<PathBuf>,
    database: Option<String>,
    owner: Option<String>,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut args = args.into_iter();
    let mut parsed = Args::default();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        let slot = match flag.as_str() {
            "--data" => None,
            "--database" => Some(&mut parsed.database),
            "--database-owner" => Some(&mut parsed.owner),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}")),
        };
        let Some(value) = inline.or_else(|| args.next()) else {
            return Err(format!("{flag} needs a value"));
        };
        match slot {
            Some(slot) => *slot = Some(value),
            None => parsed.data = Some(PathBuf::from(value)),
        }
    }
    if parsed.owner.is_some() && parsed.database.is_none() {
        return Err("--database-owner needs --database".into());
    }
    Ok(parsed)
}

/// The example's command line: runs the flow in a temporary directory or in
/// `--data DIR` and prints the report. `args` excludes the program name.
pub fn main(args: impl IntoIterator<Item = String>) -> ExitCode {
    let Args {
        data,
        database,
        owner,
    } = match parse_args(args) {
        Ok(args) => args,
        Err(problem) => {
            eprintln!("helpdesk: {problem}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let database = match database {
        Some(app) => Database::Postgres {
            owner: owner.unwrap_or_else(|| app.clone()),
            app,
        },
        None => Database::Files,
    };
    let keep = data.is_some();
    // Keep the temporary directory alive until the end of the run.
    let temp;
    let dir = match data {
        Some(dir) => {
            if let Err(e) = std::fs::create_dir_all(&dir) {
                eprintln!("helpdesk: cannot create {}: {e}", dir.display());
                return ExitCode::from(2);
            }
            dir
        }
        None => match tempfile::tempdir() {
            Ok(t) => {
                temp = t;
                temp.path().to_owned()
            }
            Err(e) => {
                eprintln!("helpdesk: cannot create a temporary directory: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    println!("Custodia helpdesk example: one backend, two subscribers, nine privacy duties.");
    println!(
        "Clock fixed at {} so the output is reproducible (ids and ciphertext are random).\n",
        start_time().format("%Y-%m-%d %H:%M UTC")
    );
    match run_on(&dir, &database) {
        Ok(report) => {
            print!("{report}");
            println!("All nine steps done.");
            if let Database::Postgres { .. } = database {
                println!(
                    "\nThe tickets, keys and audit log stay in PostgreSQL, schema {PG_SCHEMA}; the root key, checkpoint key and policy in {}.",
                    if keep {
                        dir.display().to_string()
                    } else {
                        "a temporary directory, removed now".into()
                    }
                );
            } else if keep {
                let acme = Cast::new().acme;
                println!(
                    "\nThe data stays in {0}. Try (the source program: cargo build --release -p custodia-example-helpdesk):\n  custodia audit verify {0}/audit\n  echo bob.li@example.org | custodia dsr export {keys} --tenant {acme} --email-stdin -- {source}\n  echo bob.li@example.org | custodia dsr erase {keys} --policy {0}/retention.toml --exception closed-tickets=legal-claims --anonymize user.content.ticket --checkpoint-key {0}/checkpoint.key --checkpoint-dir {0}/checkpoints --tenant {acme} --email-stdin -- {source}",
                    dir.display(),
                    keys = format_args!(
                        "--audit {0}/audit --master-key {0}/root.key --subject-keys {0}/keys.store",
                        dir.display()
                    ),
                    source = format_args!(
                        "target/release/custodia-helpdesk-source --data {}",
                        dir.display()
                    ),
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("helpdesk: {e}");
            ExitCode::FAILURE
        }
    }
}
