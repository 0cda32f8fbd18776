//! The helpdesk flow: nine steps, each returning what it did as a [`Step`]
//! (the readable text) plus the facts the workspace test asserts on.
//!
//! Shared by `examples/helpdesk.rs` (which prints the report) and
//! `tests/helpdesk_flow.rs` (which checks it), so both run the same code.

#[path = "audit.rs"]
pub mod audit;
#[path = "store.rs"]
pub mod store;

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use custodia::core::chrono::{TimeDelta, TimeZone, Utc};
use custodia::core::{
    ActorId, Clock, DataCategory, ManualClock, Region, Role, SubjectId, TenantId, Timestamp,
};
use custodia::crypt::{DataKeyMode, FileKeyStore, Keyring, SecretKey, SubjectVault};
use custodia::dsr::breach::{
    Art34Assessment, Art34Decision, BreachRegister, Contact, Incident, Lateness, affected_in_window,
};
use custodia::dsr::{
    BackupHorizon, BoxError, Desk, ErasureCertificate, ErasurePolicy, ExportBundle, FieldAction,
    PersonalDataSource, RequestKind, SubjectKeyStatus, VerificationMethod,
};
use custodia::mask::{
    Detector, Kind, KnownEntities, Masker, Policy as MaskPolicy, Strategy, Vault,
};
use custodia::retention::{Policy as RetentionPolicy, Record as RetentionRecord, Sweep, SweepPlan};
use custodia::tenant::access::{
    AccessPolicy, Action, Decision, FieldAccess, FieldDecision, FieldRule, Permission,
    PolicyChange, RecordMeta, Scope,
};
use custodia::tenant::residency::{AdequacyList, Recipient, TransferDecision, TransferRules};
use custodia::tenant::{RoleName, TenantContext};

use audit::{AuditEntry, AuditTrail, DsrAudit, MemoryTrail};
use store::{NewTicket, StoredTicket, Tickets};

/// Errors from any crate, SQLite or the flow itself.
pub type Error = BoxError;

/// The fixed "now" of the example: output is reproducible except for random
/// ids and ciphertext.
pub fn start_time() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0)
        .single()
        .unwrap_or(Timestamp::MIN_UTC)
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

/// The retention policy the helpdesk promises in its privacy notice.
pub const RETENTION_TOML: &str = r#"
version = 1

# Closed tickets are kept three years for warranty claims, then anonymized.
[[rule]]
name = "closed-tickets"
applies_to = { category = "user.content.ticket", labels = { status = "closed" } }
trigger = "closed"
retain = "3y"
then = "anonymize"

# Tickets marked as spam are deleted 30 days after they arrive.
[[rule]]
name = "spam"
applies_to = { category = "user.content.ticket", labels = { status = "spam" } }
trigger = "created"
delete_after = "30d"
then = "delete"

# Open tickets nobody touched for a year go to a person for review.
[[rule]]
name = "stale-open-tickets"
applies_to = { category = "user.content.ticket", labels = { status = "open" } }
trigger = "last_activity"
retain = "1y"
then = "review"

# Backups: daily, each kept 30 days.
[backups]
every = "1d"
keep = "30d"
"#;

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
    pub agent_read: Decision,
    /// Step 4: the agent's access to the phone field.
    pub agent_phone: FieldDecision,
    /// Step 4: the fields the agent's view of the ticket contains.
    pub agent_view_fields: Vec<String>,
    /// Step 4: the other tenant's agent, refused by the guard.
    pub other_tenant_refusal: custodia::tenant::Error,
    /// Step 6: the dry-run sweep.
    pub sweep: SweepPlan,
    /// Step 7: the access request's bundle.
    pub export: ExportBundle,
    /// Step 8: the erasure certificate.
    pub certificate: ErasureCertificate,
    /// Step 8: opening the pre-erasure backup copy's email.
    pub backup_after_erasure: Result<Option<String>, custodia::crypt::Error>,
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
    /// Every audit entry, oldest first.
    pub audit: Vec<AuditEntry>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.steps {
            writeln!(f, "{step}")?;
        }
        Ok(())
    }
}

/// The two subscribers and their people.
struct Cast {
    acme: TenantId,
    globex: TenantId,
    alice: SubjectId,
    bob: SubjectId,
    priya: SubjectId,
    acme_agent: ActorId,
    acme_dpo: ActorId,
    globex_agent: ActorId,
}

impl Cast {
    fn new() -> Self {
        let acme = TenantId::from_external_key("billing.account", "ACME-0042");
        let globex = TenantId::from_external_key("billing.account", "GLOBEX-7");
        Self {
            acme,
            globex,
            alice: SubjectId::from_external_key(acme, "psa.contact", "1017"),
            bob: SubjectId::from_external_key(acme, "psa.contact", "1018"),
            priya: SubjectId::from_external_key(globex, "psa.contact", "77"),
            acme_agent: ActorId::from_external_key(acme, "psa.user", "agent-sam"),
            acme_dpo: ActorId::from_external_key(acme, "psa.user", "dpo"),
            globex_agent: ActorId::from_external_key(globex, "psa.user", "agent-kim"),
        }
    }
}

/// Retention's backup schedule as custodia-dsr's backup horizon.
struct PolicyBackups(Arc<RetentionPolicy>);

impl BackupHorizon for PolicyBackups {
    fn clear_by(&self, _: TenantId, erased_at: Timestamp) -> Option<Timestamp> {
        self.0.erasure_complete(erased_at)
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

/// The running helpdesk.
struct Helpdesk {
    clock: Arc<ManualClock>,
    trail: Arc<MemoryTrail>,
    tickets: Arc<Tickets>,
    vault: Arc<store::Vault>,
    cast: Cast,
    policy: AccessPolicy,
}

impl Helpdesk {
    fn log(
        &self,
        tenant: Option<TenantId>,
        subject: Option<SubjectId>,
        actor: Option<ActorId>,
        action: &str,
        detail: String,
    ) -> Result<(), Error> {
        self.trail.append(AuditEntry {
            at: self.clock.now(),
            tenant,
            subject,
            actor,
            action: action.into(),
            detail,
        })
    }

    fn tick(&self, minutes: i64) {
        self.clock.advance(TimeDelta::minutes(minutes));
    }
}

fn short(id: impl fmt::Display) -> String {
    id.to_string().chars().take(8).collect()
}

fn when(t: Timestamp) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Runs the whole flow with its files (SQLite database, key store) in `dir`.
/// Existing files from an earlier run are replaced.
pub fn run(dir: &Path) -> Result<Report, Error> {
    let mut steps = Vec::new();
    let cast = Cast::new();
    let clock = Arc::new(ManualClock::new(start_time()));
    let trail = Arc::new(MemoryTrail::default());

    // ---- 1. Subscribers, residency, transfers --------------------------------
    let uk_rules = AdequacyList::from_json(UK_ADEQUACY_JSON)?;
    let rules = TransferRules::new(vec![AdequacyList::builtin()?, uk_rules]);
    let today = start_time().date_naive();
    let summa_plain = Recipient::new("Summa AI Inc. (summariser)");
    let summa_bridge = Recipient::new("Summa AI Inc. (summariser)").certified("uk-us-data-bridge");
    let transfers = vec![
        rules.check(Region::AU, Region::AU, &summa_plain, today),
        rules.check(Region::UK, Region::US, &summa_plain, today),
        rules.check(Region::UK, Region::US, &summa_bridge, today),
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

    // ---- 2. Tickets in SQLite with sealed contact fields ---------------------
    let db_path = dir.join("helpdesk.db");
    let keys_path = dir.join("keys.store");
    let root_path = dir.join("root.key");
    for old in [&db_path, &keys_path, &root_path] {
        if old.exists() {
            std::fs::remove_file(old)?;
        }
    }
    // The root key wraps every other key. A fresh one per run, in a 0600 file
    // read back the way a deployment reads its key (SecretKey::from_file or
    // from_env); in production it never sits next to the data.
    write_private(&root_path, SecretKey::generate()?.to_base64().as_bytes())?;
    let root = SecretKey::from_file(&root_path)?;
    let key_store = Arc::new(FileKeyStore::open(&keys_path, &root)?);
    let keyring = Arc::new(Keyring::from_store(
        Arc::clone(&key_store),
        &root,
        DataKeyMode::Random,
    )?);
    let vault = Arc::new(SubjectVault::new(
        Arc::clone(&keyring),
        Arc::clone(&key_store),
        clock.clone() as Arc<dyn Clock>,
    ));
    let tickets = Arc::new(Tickets::create(
        rusqlite::Connection::open(&db_path)?,
        keyring,
        Arc::clone(&vault),
    )?);
    let policy = acme_access_policy(cast.acme)?;
    let hd = Helpdesk {
        clock: clock.clone(),
        trail: trail.clone(),
        tickets: tickets.clone(),
        vault: vault.clone(),
        cast,
        policy,
    };
    let c = &hd.cast;
    let at = |y, m, d| {
        Utc.with_ymd_and_hms(y, m, d, 10, 0, 0)
            .single()
            .unwrap_or(Timestamp::MIN_UTC)
    };
    let alice_email = "Alice.Ng@example.com";
    let alice_phone = "+61 412 345 678";
    let vpn_body = "Since this morning my VPN drops every 10 minutes. I'm Alice Ng, call me on +61 412 345 678 or reply to alice.ng@example.com. My laptop's address is 10.20.30.40.";
    let new_tickets = [
        NewTicket {
            id: "T-1001",
            tenant: c.acme,
            subject: c.alice,
            owner: c.acme_agent,
            created: at(2023, 5, 30),
            closed: Some(at(2023, 6, 1)),
            status: "closed",
            subject_line: "Printer on level 3 jams",
            name: "Alice Ng",
            email: alice_email,
            phone: alice_phone,
            body: "The level 3 printer jams on every job. Reach me on +61 412 345 678.",
        },
        NewTicket {
            id: "T-1002",
            tenant: c.acme,
            subject: c.alice,
            owner: c.acme_agent,
            created: at(2026, 11, 18),
            closed: None,
            status: "open",
            subject_line: "VPN keeps dropping",
            name: "Alice Ng",
            email: alice_email,
            phone: alice_phone,
            body: vpn_body,
        },
        NewTicket {
            id: "T-1003",
            tenant: c.acme,
            subject: c.bob,
            owner: c.acme_agent,
            created: at(2026, 9, 1),
            closed: None,
            status: "spam",
            subject_line: "You won a prize!!!",
            name: "Bob Li",
            email: "bob.li@example.org",
            phone: "+61 2 9374 4000",
            body: "Click here to claim your prize.",
        },
        NewTicket {
            id: "T-1004",
            tenant: c.acme,
            subject: c.bob,
            owner: c.acme_agent,
            created: at(2025, 8, 4),
            closed: None,
            status: "open",
            subject_line: "Request for a second monitor",
            name: "Bob Li",
            email: "bob.li@example.org",
            phone: "+61 2 9374 4000",
            body: "Could I get a second monitor for my desk?",
        },
        NewTicket {
            id: "T-2001",
            tenant: c.globex,
            subject: c.priya,
            owner: c.globex_agent,
            created: at(2026, 11, 1),
            closed: None,
            status: "open",
            subject_line: "Laptop will not boot",
            name: "Priya Shah",
            email: "priya.shah@example.co.uk",
            phone: "+44 20 7946 0018",
            body: "My laptop shows a black screen after the update.",
        },
        NewTicket {
            id: "T-2002",
            tenant: c.globex,
            subject: c.priya,
            owner: c.globex_agent,
            created: at(2026, 9, 20),
            closed: Some(at(2026, 10, 1)),
            status: "closed",
            subject_line: "Password reset",
            name: "Priya Shah",
            email: "priya.shah@example.co.uk",
            phone: "+44 20 7946 0018",
            body: "Please reset my password.",
        },
    ];
    for t in &new_tickets {
        tickets.insert(t)?;
        hd.log(
            Some(t.tenant),
            Some(t.subject),
            Some(t.owner),
            "ticket.created",
            format!("ticket {} (fields name, email, phone, body sealed)", t.id),
        )?;
    }
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
    let lines = vec![
        format!(
            "SQLite database: {} ({} tickets, 2 tenants)",
            db_path.display(),
            new_tickets.len()
        ),
        format!(
            "key store:       {} (tenant data keys random, wrapped; one key per contact)",
            keys_path.display()
        ),
        format!(
            "root key:        {} (mode 0600; in production from a secrets manager, not beside the data)",
            root_path.display()
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
        title: "Tickets stored in SQLite with encrypted contact fields",
        why: "a stolen database or backup must not reveal who wrote in (GDPR Art. 32), yet agents must still find a contact by email.",
        lines,
    });
    hd.tick(5);

    // ---- 3. Masking before the AI summariser ---------------------------------
    let masker = Masker::new(Detector::new()).with_policy(MaskPolicy::new(Strategy::Tokenize))?;
    let known = KnownEntities::new([(Kind::Person, "Alice Ng")])?;
    let mut token_vault = Vault::new();
    let prompt_text = format!("Summarise this support ticket for the agent.\n{vpn_body}");
    let masked = masker.mask_with(&prompt_text, &known, Some(&mut token_vault))?;
    let ai_sent = masked.text.clone();
    hd.log(
        Some(c.acme),
        Some(c.alice),
        Some(c.acme_agent),
        "ai.sent",
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
    hd.tick(5);

    // ---- 4. Role- and field-level access -------------------------------------
    let agent_ctx =
        TenantContext::new(c.acme, c.acme_agent, Region::AU).with_role(RoleName::new("agent")?);
    let row = tickets.row("T-1002")?.ok_or("ticket T-1002 missing")?;
    let ours = agent_ctx.admit(row.clone())?;
    let meta = RecordMeta {
        tenant: ours.tenant(),
        owner: Some(ours.get().owner),
        team: None,
    };
    let agent_read = hd.policy.decide(&agent_ctx, "ticket", Action::Read, &meta);
    let mut agent_view = Vec::new();
    let mut lines = vec![format!("ACME agent reads T-1002: {agent_read}")];
    let mut agent_phone = None;
    let fields = [("subject_line", DataCategory::USER_CONTENT_TICKET)]
        .into_iter()
        .chain(store::SEALED);
    for (field, category) in fields {
        let decision = hd
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
    hd.log(
        Some(c.acme),
        row.subject,
        Some(c.acme_agent),
        "ticket.read",
        format!("ticket T-1002, fields {}", agent_view.join(",")),
    )?;
    let globex_ctx =
        TenantContext::new(c.globex, c.globex_agent, Region::UK).with_role(RoleName::new("agent")?);
    let other_tenant_refusal = match globex_ctx.admit(row.clone()) {
        Err(e) => e,
        Ok(_) => return Err("the guard let another tenant's agent in".into()),
    };
    hd.log(
        Some(c.globex),
        None,
        Some(c.globex_agent),
        "access.denied",
        format!(
            "ticket T-1002: {}",
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
    let policy_says = hd.policy.decide(&globex_ctx, "ticket", Action::Read, &meta);
    lines.push(format!("and ACME's policy would say: {policy_says}"));
    steps.push(Step {
        number: 4,
        title: "Role- and field-level access checks",
        why: "least privilege: agents see what their role needs, and no subscriber ever sees another's tickets (GDPR Art. 25, 32).",
        lines,
    });
    let agent_phone = agent_phone.ok_or("phone field not checked")?;
    hd.tick(5);

    // ---- 5. Audit trail -------------------------------------------------------
    let so_far = trail.entries();
    let mut lines = vec![format!("{} changes recorded so far:", so_far.len())];
    lines.extend(so_far.iter().map(|e| {
        format!(
            "  {} {:<8} {:<15} {}",
            e.at.format("%H:%M"),
            e.tenant.map(short).unwrap_or_else(|| "-".into()),
            e.action,
            e.detail
        )
    }));
    lines.push("No entry holds a name, email, phone or ticket text: only ids and counts.".into());
    lines.push("In-memory list for now: the tamper-evident Merkle log arrives with the custodia-audit crate.".into());
    steps.push(Step {
        number: 5,
        title: "Every change recorded",
        why: "accountability: who did what to whose data, and when (GDPR Art. 5(2), 30).",
        lines,
    });
    hd.tick(5);

    // ---- 6. Retention sweep (dry run) ----------------------------------------
    let retention = Arc::new(RetentionPolicy::from_toml(
        RETENTION_TOML,
        "helpdesk-retention.toml",
    )?);
    let records = tickets
        .all()?
        .into_iter()
        .map(|row| retention_record(&row))
        .collect::<Vec<_>>();
    let now = hd.clock.now();
    let sweep = Sweep::new(&retention, now).plan(&records)?;
    let mut lines = vec![format!(
        "policy: closed tickets anonymized after 3 years, spam deleted after 30 days, open tickets idle a year reviewed, daily backups kept 30 days; now = {}",
        when(now)
    )];
    lines.extend(sweep.to_string().lines().map(str::to_owned));
    if let Some(clear) = retention.erasure_complete(now) {
        lines.push(format!(
            "data deleted now has left every backup by {}",
            when(clear)
        ));
    }
    lines.push("dry run: nothing was changed; the nightly job would carry the plan out.".into());
    hd.log(
        None,
        None,
        None,
        "retention.planned",
        format!("examined {}, due {}", sweep.examined, sweep.items.len()),
    )?;
    steps.push(Step {
        number: 6,
        title: "Retention sweep from a TOML policy",
        why: "keep data no longer than promised (storage limitation, GDPR Art. 5(1)(e)).",
        lines,
    });
    hd.tick(5);

    // ---- 7. Access request ----------------------------------------------------
    let desk = Desk::new(
        hd.clock.clone() as Arc<dyn Clock>,
        Arc::new(DsrAudit(trail.clone())),
    )
    .with_source(hd.tickets.clone() as Arc<dyn PersonalDataSource>)?
    .with_key_shredder(hd.vault.clone())
    .with_backup_horizon(Arc::new(PolicyBackups(retention.clone())))
    .with_erasure_policy(
        ErasurePolicy::delete_all().rule(DataCategory::USER_CONTENT_TICKET, FieldAction::Anonymize),
    );
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
    let mut lines = vec![
        format!(
            "request {} from Alice Ng (subject {}): received {}, due {}",
            short(access.id),
            short(c.alice),
            when(access.received_at),
            when(access.due)
        ),
        format!(
            "bundle: {} records from {}, {} bytes of JSON plus {} CSV file(s)",
            export.records.len(),
            export
                .manifest
                .iter()
                .map(|m| m.source.as_str())
                .collect::<Vec<_>>()
                .join(", "),
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
    hd.tick(60);

    // ---- 8. Erasure with crypto-shredding -------------------------------------
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
    let mut lines = vec![
        "policy: contact fields (name, email, phone) deleted; ticket text anonymized so the ticket stays in the statistics".into(),
        format!("backup copy of row T-1001 taken first; its email opened then: {:?}", before.as_deref().unwrap_or("-")),
        format!("request {}: {} tickets erased, subject key {}", short(erasure.id), certificate.erased.len(),
            match &certificate.subject_key {
                SubjectKeyStatus::Shredded { at } => format!("shredded at {}", when(*at)),
                other => format!("{other:?}"),
            }),
        format!("  {}", certificate.erased.iter().map(|e| format!("{}: deleted {}, anonymized {}", e.record.id, e.deleted_fields.join("+"), e.anonymized_fields.join("+"))).collect::<Vec<_>>().join("; ")),
        format!("live row T-1001 now: subject_line {:?}, contact {:?}, sealed columns {}",
            live.subject_line, live.subject.map(short), if live.sealed.iter().all(Option::is_none) { "all NULL" } else { "some left" }),
        format!("backup copy's email now: {}", match &backup_after_erasure {
            Ok(v) => format!("READABLE {v:?}"),
            Err(e) => format!("unreadable: {e}"),
        }),
        format!("Bob's tickets are untouched: email {:?}", other_contact_after_erasure.as_deref().unwrap_or("-")),
        format!("certificate: issued {}, backups clear by {} (the retention policy's schedule: daily backups, kept 30 days)", when(certificate.issued_at),
            certificate.backups_clear_by.map_or_else(|| "unknown".into(), when)),
    ];
    let json = certificate.to_json()?;
    lines.push(format!(
        "certificate JSON ({} bytes), first lines:",
        json.len()
    ));
    lines.extend(json.lines().take(6).map(|l| format!("  | {l}")));
    steps.push(Step {
        number: 8,
        title: "An erasure request: anonymize, delete, shred the key",
        why: "the right to erasure reaches backups too: without the person's key, every copy is noise (GDPR Art. 17).",
        lines,
    });
    hd.tick(30);

    // ---- 9. Breach drill -------------------------------------------------------
    let aware = hd.clock.now();
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
    let sent = trail
        .entries()
        .into_iter()
        .filter(|e| e.action == "ai.sent")
        .filter_map(|e| e.tenant.map(|t| (e.at, t, e.subject)));
    let affected = affected_in_window(sent, window.0, window.1);
    incident.apply_affected(&affected);
    let register = BreachRegister::new(
        hd.clock.clone() as Arc<dyn Clock>,
        Arc::new(DsrAudit(trail.clone())),
    );
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
            "affected, from the audit trail's ai.sent entries in the window: {} tenant(s), {} person(s), {} prompt(s)",
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
    let audit = trail.entries();
    lines.push(format!("audit trail now holds {} entries ({} from the data-subject desk); Merkle log: with custodia-audit",
        audit.len(), audit.iter().filter(|e| e.action.starts_with("dsr.")).count()));
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
        export,
        certificate,
        backup_after_erasure,
        erased_subject: c.alice,
        located_after_erasure,
        other_contact_after_erasure,
        incident,
        art34,
        audit,
    })
}

/// ACME's access policy: agents read every ticket of the tenant, see the
/// contact's name and email, and never the phone number (calls go through
/// the phone system); supervisors also see the phone.
fn acme_access_policy(tenant: TenantId) -> Result<AccessPolicy, Error> {
    let agent = RoleName::new("agent")?;
    let supervisor = RoleName::new("supervisor")?;
    let mut policy = AccessPolicy::new(tenant);
    let field = |role: &RoleName, category, access| {
        PolicyChange::SetField(role.clone(), FieldRule { category, access })
    };
    for change in [
        PolicyChange::DefineRole(agent.clone()),
        PolicyChange::Grant(
            agent.clone(),
            Permission::new("ticket", Action::Read, Scope::Tenant)?,
        ),
        PolicyChange::Grant(
            agent.clone(),
            Permission::new("ticket", Action::Update, Scope::Own)?,
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
        PolicyChange::Grant(
            supervisor.clone(),
            Permission::new("ticket", Action::Read, Scope::Tenant)?,
        ),
        field(&supervisor, DataCategory::USER, FieldAccess::Read),
    ] {
        policy.apply_unchecked(change)?;
    }
    Ok(policy)
}

/// A ticket's retention metadata (no content).
fn retention_record(row: &StoredTicket) -> RetentionRecord {
    let mut record = RetentionRecord::new(
        row.id.clone(),
        row.tenant,
        DataCategory::USER_CONTENT_TICKET,
        row.created,
    )
    .with_label("status", row.status.clone())
    .with_event("last_activity", row.closed.unwrap_or(row.created));
    if let Some(subject) = row.subject {
        record = record.with_subject(subject);
    }
    if let Some(closed) = row.closed {
        record = record.with_event("closed", closed);
    }
    record
}

/// Writes a new file readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)?;
    Ok(())
}
