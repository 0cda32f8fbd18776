//! The desk on a `custodia-audit` log: `AuditTrail`.
//!
//! The documentation is on the main item; the crate root re-exports the
//! module's public items.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use custodia_audit::personal::{RECORD_TYPE, Revealed, Unreadable, read_value};
use custodia_audit::{
    Action, Actor, ActorKind, AuditLog, AuditStore, Event, Outcome, Personal, Target,
};
use custodia_core::{ActorId, LegalBasis, SubjectId, TenantId, Timestamp};
use custodia_crypt::{FieldContext, KeyStore, ShredOutcome, SubjectVault};

use crate::breach::{Affected, affected_in_window};
use crate::error::{BoxError, Error, host};
use crate::event::{DsrAction, DsrEvent, DsrEventSink};
use crate::export::{RenderedAuditEvent, SubjectAuditHistory};

/// The external-key system under which the desk's own ids are derived.
pub const DESK_SYSTEM: &str = "custodia.dsr";
/// The desk's external key (its actor id and its details subject).
pub const DESK_KEY: &str = "desk";
/// Shown in a rendered event for a value whose owner's key was shredded.
pub const ERASED: &str = "[erased]";
/// Shown in a rendered event for another person's value (Art. 15(4)).
pub const WITHHELD: &str = "[withheld: another person's data]";
/// How a rendered event shows one of the person's values that could not be
/// read though the vault works: this, the reason
/// (`custodia_audit::personal::Unreadable`: `damaged`, `not_authentic`,
/// `unknown_key`, `tenant_shredded`) and `]`, e.g.
/// `[unreadable: not_authentic]`; never a byte of the value.
pub const UNREADABLE: &str = "[unreadable: ";

/// The text shown for a value unreadable for `reason` (see [`UNREADABLE`]).
fn unreadable_text(reason: Unreadable) -> String {
    format!("{UNREADABLE}{reason}]")
}

/// Whose key seals the details (`note`) of a desk event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DetailsKey {
    /// The desk's own subject in the tenant: details survive the subject's
    /// erasure (the default).
    #[default]
    Desk,
    /// The request's subject (the desk's key for events without one): details
    /// are forgotten with the subject.
    Subject,
}

/// The desk's actor id in `tenant`.
pub fn desk_actor(tenant: TenantId) -> ActorId {
    ActorId::from_external_key(tenant, DESK_SYSTEM, DESK_KEY)
}

/// The subject that owns the desk's own sealed details in `tenant`.
pub fn desk_subject(tenant: TenantId) -> SubjectId {
    SubjectId::from_external_key(tenant, DESK_SYSTEM, DESK_KEY)
}

/// A `custodia-audit` log and its vault, as the desk's audit sink, the
/// subject's audit history and the source of breach scoping.
///
/// The desk on a `custodia-audit` log: [`AuditTrail`].
///
/// One [`AuditTrail`] holds an [`AuditLog`] (any [`AuditStore`]) and the
/// [`SubjectVault`] that seals its personal values, and fills the desk's three
/// audit seams:
///
/// * [`DsrEventSink`]: every [`DsrEvent`] becomes one audit [`Event`];
/// * [`SubjectAuditHistory`]: the subject's events, opened with their key, go
///   into the export bundle ([`AuditTrail::events_for`]);
/// * breach scoping: [`AuditTrail::affected`] feeds the log's events in a
///   window to [`affected_in_window`].
///
/// The host appends its own events (ticket views, contact updates, with the
/// agent's IP and before/after values) to the same log through
/// [`AuditTrail::with_log`], so checkpoints and proofs cover both.
///
/// # Mapping of desk events to audit events
///
/// | [`DsrAction`] | audit [`Action`] | target | outcome |
/// |---|---|---|---|
/// | `RequestReceived` | custom `dsr.request_received` | `dsr.request` ‹id› | success |
/// | `IdentityVerified` | custom `dsr.identity_verified` | `dsr.request` ‹id› | success |
/// | `WorkStarted` | custom `dsr.work_started` | `dsr.request` ‹id› | success |
/// | `DeadlineExtended` | custom `dsr.deadline_extended` | `dsr.request` ‹id› | success |
/// | `RequestRejected` | custom `dsr.request_rejected` | `dsr.request` ‹id› | denied (`late` in the details) |
/// | `RequestCompleted` | custom `dsr.request_completed` | `dsr.request` ‹id› | success (`late` in the details) |
/// | `RequestForwarded` | `share` (to the controller) | `dsr.request` ‹id› | success |
/// | `SourceLocated` | `read` | `dsr.source` ‹name› | success |
/// | `SourceExported` | `export` | `dsr.source` ‹name› | success |
/// | `BundleProduced` | `export` | `dsr.request` ‹id› | success |
/// | `BundleNotDelivered` | custom `dsr.bundle_delivery` | `dsr.request` ‹id› | failure |
/// | `SourceRectified` | `update` | `dsr.source` ‹name› | success |
/// | `SourceErased` | `erase` | `dsr.source` ‹name› | success |
/// | `RecordKept` | `erase` | the kept record (type, id) | **denied** (Art. 17(3)) |
/// | `SubjectKeyShredded` | `erase` | `subject_key` ‹subject› | success (`outcome` in the details: `key_destroyed` or `no_key_existed`) |
/// | `SubjectKeyShredDeferred` | custom `dsr.key_shred_deferred` | `subject_key` ‹subject› | success |
/// | `SubjectKeyShredStillDeferred` | custom `dsr.key_shred_still_deferred` | `subject_key` ‹subject› | success |
/// | `RecordsResealed` | custom `dsr.records_resealed` | `dsr.source` ‹name› | success |
/// | `ResealFailed` | custom `dsr.reseal` | `dsr.source` ‹name› | failure |
/// | `CertificateIssued` | custom `dsr.certificate_issued` | `dsr.request` ‹id› | success |
/// | `SourceRestricted` | `restrict` | `dsr.source` ‹name› | success |
/// | `SubjectStep` | by `step`: `export` (access), `restrict` (restrict, lift, stop_purposes), `erase`; else custom `dsr.subject_‹step›` | `dsr.source` ‹name› | success |
/// | `SourceFailed` | the operation's action (`read`, `export`, `update`, `erase`, `restrict`; else custom `dsr.‹operation›`, keeping letters, digits and `_`) | `dsr.source` ‹name› | failure |
/// | `BreachRecorded` | custom `breach.recorded` | `breach.incident` ‹id› | success |
/// | `BreachUpdated` | custom `breach.updated` | `breach.incident` ‹id› | success |
/// | `BreachNotified` | custom `breach.notified` | `breach.incident` ‹id› | success |
///
/// Every event also carries the tenant, the subject (so the subject's export
/// and breach scoping find it), the request id (`request_id`), the legal basis
/// `legal_obligation` (answering requests and notifying breaches is the
/// controller's obligation), and the actor: the person who acted (kind
/// `agent`), or the desk itself (kind `system`, actor id
/// `ActorId::from_external_key(tenant, "custodia.dsr", "desk")`).
///
/// The details (the [`DsrAction`]'s JSON: kind, due date, counts, exception,
/// reasons) go in the event's `note`, which the audit crate treats as personal
/// and requires sealed. [`DsrEvent`]s never carry the subject's field values,
/// and the erasure record must outlive the data it erased (accountability,
/// Art. 5(2)), so by default ([`DetailsKey::Desk`]) the note is sealed under
/// the desk's own subject key in the tenant (`SubjectId::from_external_key(
/// tenant, "custodia.dsr", "desk")`, never shredded by a request) rather than
/// under the subject's: after an erasure, the log still says what was
/// erased, kept and why. [`DetailsKey::Subject`] seals them under the
/// subject's key instead, to be forgotten with them. Events without a tenant
/// (a vendor-wide incident) are logged under
/// [`AuditTrail::with_vendor_tenant`], and refused without one.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use custodia_audit::{Action, Actor, ActorKind, AuditLog, Event, MemoryStore, Target, checkpoint};
/// use custodia_core::{ActorId, DataCategory, LegalBasis, ManualClock, Role, SubjectId, TenantId};
/// use custodia_crypt::{Keyring, MemoryKeyStore, SecretKey, SubjectVault};
/// use custodia_dsr::ERASED;
/// use custodia_dsr::*;
///
/// let clock = Arc::new(ManualClock::new(custodia_core::chrono::Utc::now()));
/// let vault = Arc::new(SubjectVault::new(
///     Arc::new(Keyring::new(SecretKey::generate()?)), MemoryKeyStore::default(), clock.clone()));
/// let tenant = TenantId::from_external_key("billing.account", "ACME-0042");
/// let alice = SubjectId::from_external_key(tenant, "psa.contact", "1017");
/// let agent = ActorId::from_external_key(tenant, "psa.user", "17");
///
/// // One log for the host's events and the desk's.
/// let trail = Arc::new(AuditTrail::new(AuditLog::open(MemoryStore::new())?, vault.clone()));
/// trail.with_log(|log| {
///     let viewed = Event::builder(tenant, Actor::new(ActorKind::Agent, agent).with_ip("203.0.113.7"),
///             Action::Read, Target::new("ticket", "T-1")?)
///         .subject(alice)
///         .build(clock.as_ref())?;
///     log.append_sealed(&vault, viewed) // the IP is sealed under Alice's key
/// })?;
/// let signer = checkpoint::Signer::generate("audit.example.com/acme")?;
/// let note = trail.with_log(|log| log.checkpoint("audit.example.com/acme", &signer))?;
///
/// let tickets = Arc::new(MemorySource::new("tickets"));
/// tickets.insert(tenant, alice, RecordRef::new("ticket", "T-1"), LegalBasis::Contract,
///     [("description", DataCategory::USER_CONTENT_TICKET, "Printer on fire", true)]);
/// let desk = Desk::new(clock.clone(), trail.clone())
///     .with_source(tickets)?
///     .with_key_shredder(vault.clone())
///     .with_audit_history(trail.clone());
///
/// // Access: the bundle carries her audit events, readable.
/// let mut access = desk.receive(tenant, alice, RequestKind::Access, Role::Controller, agent)?;
/// desk.verify(&mut access, VerificationMethod::AuthenticatedSession, "", agent)?;
/// let bundle = desk.export(&mut access, agent)?;
/// assert_eq!(bundle.audit.status, AuditStatus::Included);
/// assert_eq!(bundle.audit.events[0].details["ip"], "203.0.113.7");
///
/// // Erasure: every step is in the log; her IP there is gone for good ...
/// let mut erase = desk.receive(tenant, alice, RequestKind::Erasure, Role::Controller, agent)?;
/// desk.verify(&mut erase, VerificationMethod::AuthenticatedSession, "", agent)?;
/// desk.erase(&mut erase, agent)?;
/// let history = trail.rendered_events(tenant, alice)?;
/// assert_eq!(history[0].details["ip"], ERASED);
/// assert!(history.iter().any(|e| e.action == "erase" && e.target == "dsr.source tickets"));
/// // ... while the log still extends the checkpoint taken before.
/// let trusted = checkpoint::open(&note, &signer.verifier(), "audit.example.com/acme")?;
/// trail.with_log(|log| log.check_checkpoint("audit.example.com/acme", &trusted))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct AuditTrail<S, K> {
    log: Mutex<AuditLog<S>>,
    vault: Arc<SubjectVault<K>>,
    details: DetailsKey,
    vendor_tenant: Option<TenantId>,
}

impl<S, K> std::fmt::Debug for AuditTrail<S, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditTrail")
            .field("details", &self.details)
            .field("vendor_tenant", &self.vendor_tenant)
            .finish_non_exhaustive()
    }
}

impl<S: AuditStore, K: KeyStore> AuditTrail<S, K> {
    /// Desk events go to `log`, sealed with `vault` (the vault that also holds
    /// the subjects' keys the desk shreds).
    pub fn new(log: AuditLog<S>, vault: Arc<SubjectVault<K>>) -> Self {
        Self {
            log: Mutex::new(log),
            vault,
            details: DetailsKey::Desk,
            vendor_tenant: None,
        }
    }

    /// Whose key seals event details (default [`DetailsKey::Desk`]).
    pub fn with_details_key(mut self, details: DetailsKey) -> Self {
        self.details = details;
        self
    }

    /// The tenant under which events without one (vendor-wide incidents) are
    /// logged.
    pub fn with_vendor_tenant(mut self, tenant: TenantId) -> Self {
        self.vendor_tenant = Some(tenant);
        self
    }

    /// The vault.
    pub fn vault(&self) -> &Arc<SubjectVault<K>> {
        &self.vault
    }

    fn lock(&self) -> MutexGuard<'_, AuditLog<S>> {
        // A panic mid-append leaves the log as its store left it; the log
        // re-checks records on read, so carrying on is safe.
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the log: to append the host's own events (with
    /// [`AuditLog::append_sealed`] and [`AuditTrail::vault`]), take
    /// checkpoints, prove or query.
    pub fn with_log<R>(&self, f: impl FnOnce(&mut AuditLog<S>) -> R) -> R {
        f(&mut self.lock())
    }

    /// The audit event for `event`, details sealed (see [`AuditTrail`]).
    pub fn to_audit_event(&self, event: &DsrEvent) -> Result<Event, Error> {
        let audit = |e: custodia_audit::Error| Error::Audit(host(e));
        let tenant = event.tenant.or(self.vendor_tenant).ok_or_else(|| {
            Error::Audit(host(
                "the event has no tenant and the trail has no vendor tenant (with_vendor_tenant)",
            ))
        })?;
        let (action, target, outcome) = map_action(event).map_err(audit)?;
        let actor = match event.actor {
            Some(id) => Actor::new(ActorKind::Agent, id),
            None => Actor::new(ActorKind::System, desk_actor(tenant)),
        };
        let mut builder = Event::builder(tenant, actor, action, target)
            .outcome(outcome)
            .legal_basis(LegalBasis::LegalObligation)
            .time(event.at);
        if let Some(subject) = event.subject {
            builder = builder.subject(subject);
        }
        if let Some(request) = event.request {
            builder = builder.request_id(request.to_string());
        }
        let mut built = builder.build(&NoClock(event.at)).map_err(audit)?;
        let details = serde_json::to_string(&event.action).map_err(|e| Error::Encode {
            what: "audit event details",
            source: e.into(),
        })?;
        let owner = match (self.details, event.subject) {
            (DetailsKey::Subject, Some(subject)) => subject,
            _ => desk_subject(tenant),
        };
        let event_id = built.id.to_string();
        let ctx = FieldContext::new(tenant, RECORD_TYPE, &event_id, "note")
            .map_err(|e| Error::Audit(host(e)))?;
        let sealed = self
            .vault
            .seal(owner, &ctx, details.as_bytes())
            .map_err(|e| Error::Audit(host(e)))?;
        built.note = Some(Personal::Sealed {
            subject: owner,
            sealed,
        });
        Ok(built)
    }

    /// Every event in the log about `subject` of `tenant`, opened and
    /// rendered for the subject: the subject's own values in the clear,
    /// values of a shredded key as [`ERASED`], other people's values as
    /// [`WITHHELD`] (whose a value is: see
    /// `custodia_audit::personal::reveal_event_for`; a clear value is its
    /// field's owner's, a sealed one is the sealer's when its label agrees;
    /// the desk's own details are shown). Details keys: `index` (in the log, for proofs),
    /// `outcome`, `request`, `legal_basis`, `purpose`, `ip`, `user_agent`,
    /// `<field>.category`, `<field>.before`, `<field>.after`, `note`, `erased`
    /// (the erased paths, comma-separated), `unreadable` (likewise), and on
    /// the desk's subject-key shred (`erase` of `subject_key`, details
    /// readable) `shred_outcome`: `key_destroyed`, `no_key_existed`, or
    /// `unrecorded` for one logged before the desk recorded it.
    ///
    /// One of the person's values that cannot be read while the vault works
    /// (a damaged or forged envelope labelled theirs, a tenant shred; see
    /// `custodia_audit::personal::read_value`) is shown as [`UNREADABLE`]
    /// with its reason and its path listed under `unreadable`, and the rest
    /// is rendered: the bundle counts them
    /// ([`AuditSection::unreadable`](crate::AuditSection::unreadable)). A
    /// vault that cannot read at all (its key store down, the wrong root
    /// key) is [`Error::AuditHistory`], as before.
    pub fn rendered_events(
        &self,
        tenant: TenantId,
        subject: SubjectId,
    ) -> Result<Vec<RenderedAuditEvent>, Error> {
        let history = |e: custodia_audit::Error| Error::AuditHistory(host(e));
        let matches = self.with_log(|log| {
            log.query(&custodia_audit::Query::new().tenant(tenant).subject(subject))
        });
        let mut rendered = Vec::new();
        for (index, event) in matches.map_err(history)? {
            rendered.push(self.render(index, &event, subject).map_err(history)?);
        }
        Ok(rendered)
    }

    fn render(
        &self,
        index: u64,
        event: &Event,
        subject: SubjectId,
    ) -> Result<RenderedAuditEvent, custodia_audit::Error> {
        let mut details = std::collections::BTreeMap::new();
        let (mut erased, mut unreadable) = (Vec::new(), Vec::new());
        let id = event.id.to_string();
        // Whose a value is, as `custodia_audit::personal::reveal_event_for`
        // decides it (Art. 15(4)): a clear value is its field's owner's (the
        // actor's IP and user agent the actor's, when the actor is a
        // subject); a sealed one is the sealing subject's only when its label
        // and its envelope's key id agree.
        let actor_owner = event.actor.subject.or(event.subject);
        let mut show = |key: String,
                        path: &str,
                        field_owner: Option<SubjectId>,
                        value: &Personal|
         -> Result<(), custodia_audit::Error> {
            let owner = match value {
                Personal::Sealed { .. } => value.sealer(),
                Personal::Clear(_) => field_owner,
            };
            let readable = owner == Some(subject) || owner == Some(desk_subject(event.tenant));
            // Labelled theirs but no envelope at all: nobody else's, and
            // nobody can read it.
            let undecodable = matches!(value, Personal::Sealed { subject: label, sealed }
                if *label == subject && custodia_crypt::Envelope::decode(sealed).is_err());
            let text = if undecodable {
                unreadable.push(path.to_owned());
                unreadable_text(Unreadable::Damaged)
            } else if !readable {
                WITHHELD.to_owned()
            } else {
                match read_value(&self.vault, event.tenant, &id, path, value)? {
                    Ok(Revealed::Value(text)) => text,
                    Ok(Revealed::Erased) => {
                        erased.push(path.to_owned());
                        ERASED.to_owned()
                    }
                    Err(reason) => {
                        unreadable.push(path.to_owned());
                        unreadable_text(reason)
                    }
                }
            };
            details.insert(key, text);
            Ok(())
        };
        if let Some(ip) = &event.actor.ip {
            show("ip".into(), "actor.ip", actor_owner, ip)?;
        }
        if let Some(ua) = &event.actor.user_agent {
            show("user_agent".into(), "actor.user_agent", actor_owner, ua)?;
        }
        for (i, change) in event.changes.iter().enumerate() {
            if let Some(before) = &change.before {
                show(
                    format!("{}.before", change.field),
                    &format!("changes.{i}.before"),
                    event.subject,
                    before,
                )?;
            }
            if let Some(after) = &change.after {
                show(
                    format!("{}.after", change.field),
                    &format!("changes.{i}.after"),
                    event.subject,
                    after,
                )?;
            }
        }
        if let Some(note) = &event.note {
            show("note".into(), "note", event.subject, note)?;
        }
        for change in &event.changes {
            details.insert(
                format!("{}.category", change.field),
                change.category.to_string(),
            );
        }
        // A subject-key shred: whether a key was destroyed, from its details
        // (`unrecorded` for one logged before they said).
        if event.action == Action::Erase
            && event.target.kind == "subject_key"
            && let Some(outcome) = details.get("note").and_then(|note| shred_outcome(note))
        {
            details.insert("shred_outcome".into(), outcome.into());
        }
        details.insert("index".into(), index.to_string());
        if event.outcome != Outcome::Success {
            details.insert("outcome".into(), outcome_name(event.outcome).into());
        }
        if let Some(request) = &event.request_id {
            details.insert("request".into(), request.clone());
        }
        if let Some(basis) = event.legal_basis {
            details.insert("legal_basis".into(), basis.to_string());
        }
        if let Some(purpose) = &event.purpose {
            details.insert("purpose".into(), purpose.to_string());
        }
        if !erased.is_empty() {
            details.insert("erased".into(), erased.join(","));
        }
        if !unreadable.is_empty() {
            details.insert("unreadable".into(), unreadable.join(","));
        }
        let actor = if event.actor.subject == Some(subject) {
            "you".to_owned()
        } else if event.actor.id == desk_actor(event.tenant) {
            "system".to_owned()
        } else {
            format!("{} {}", event.actor.kind, event.actor.id)
        };
        Ok(RenderedAuditEvent {
            at: event.time,
            actor,
            action: event.action.as_str().to_owned(),
            target: if event.target.id.is_empty() {
                event.target.kind.clone()
            } else {
                format!("{} {}", event.target.kind, event.target.id)
            },
            details,
        })
    }

    /// The tenants and subjects of the log's events from `start` to `end`
    /// (inclusive) that match `filter` (e.g. one compromised actor, one
    /// tenant, one record type; `Query::new()` for all), for the breach
    /// record ([`affected_in_window`]). The desk's own events (actor
    /// [`desk_actor`]; targets `dsr.*`, `breach.*`, `subject_key`; or a
    /// request id with legal basis `legal_obligation`, as the desk writes
    /// them) are not counted: they answer a request, they are not access to
    /// the data.
    ///
    /// Every subject an event concerns is counted, as `Query::subject`
    /// matches them (`Event::concerns`): its subject, the actor's subject,
    /// and the owner of each sealed value in it (another person's address
    /// in a note). An undercount would understate the people to notify;
    /// `events` still counts each event once.
    pub fn affected(
        &self,
        filter: &custodia_audit::Query,
        start: Timestamp,
        end: Timestamp,
    ) -> Result<Affected, Error> {
        let mut query = filter.clone();
        query.from = Some(query.from.map_or(start, |f| f.max(start)));
        let events: Vec<Event> = self
            .with_log(|log| log.query(&query))
            .map_err(|e| Error::AuditHistory(host(e)))?
            .into_iter()
            .map(|(_, e)| e)
            .filter(|e| !is_desk_event(e))
            .collect();
        let mut affected = affected_in_window(
            events.iter().map(|e| (e.time, e.tenant, e.subject)),
            start,
            end,
        );
        for e in events.iter().filter(|e| e.time >= start && e.time <= end) {
            let people = affected.subjects.entry(e.tenant).or_default();
            people.extend(e.actor.subject);
            people.extend(e.personal_values().filter_map(|v| match v {
                Personal::Sealed { subject, .. } => Some(*subject),
                Personal::Clear(_) => None,
            }));
        }
        Ok(affected)
    }
}

/// Whether `event` is one the desk logged about its own work.
fn is_desk_event(event: &Event) -> bool {
    let kind = event.target.kind.as_str();
    event.actor.id == desk_actor(event.tenant)
        || (event.request_id.is_some() && event.legal_basis == Some(LegalBasis::LegalObligation))
        || kind.starts_with("dsr.")
        || kind.starts_with("breach.")
        || kind == "subject_key"
}

/// The outcome named in the details (`note`) of a desk's subject-key shred
/// event, as the desk writes it; `None` for any other text.
fn shred_outcome(note: &str) -> Option<&'static str> {
    match serde_json::from_str::<DsrAction>(note).ok()? {
        DsrAction::SubjectKeyShredded { outcome } => Some(match outcome {
            ShredOutcome::KeyDestroyed => "key_destroyed",
            ShredOutcome::NoKeyExisted => "no_key_existed",
            ShredOutcome::Unrecorded => "unrecorded",
        }),
        _ => None,
    }
}

fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Success => "success",
        Outcome::Failure => "failure",
        Outcome::Denied => "denied",
    }
}

/// A clock that always says one time (events carry their own).
struct NoClock(Timestamp);

impl custodia_core::Clock for NoClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}

fn map_action(event: &DsrEvent) -> Result<(Action, Target, Outcome), custodia_audit::Error> {
    let custom = Action::custom;
    let request = || {
        Target::new(
            "dsr.request",
            event.request.map(|r| r.to_string()).unwrap_or_default(),
        )
    };
    let source = |name: &str| Target::new("dsr.source", name);
    let incident = || {
        Target::new(
            "breach.incident",
            event.incident.map(|i| i.to_string()).unwrap_or_default(),
        )
    };
    let subject_key = || {
        Target::new(
            "subject_key",
            event.subject.map(|s| s.to_string()).unwrap_or_default(),
        )
    };
    let ok = Outcome::Success;
    Ok(match &event.action {
        DsrAction::RequestReceived { .. } => (custom("dsr.request_received")?, request()?, ok),
        DsrAction::IdentityVerified { .. } => (custom("dsr.identity_verified")?, request()?, ok),
        DsrAction::WorkStarted => (custom("dsr.work_started")?, request()?, ok),
        DsrAction::DeadlineExtended { .. } => (custom("dsr.deadline_extended")?, request()?, ok),
        DsrAction::RequestRejected { .. } => {
            (custom("dsr.request_rejected")?, request()?, Outcome::Denied)
        }
        DsrAction::RequestCompleted { .. } => (custom("dsr.request_completed")?, request()?, ok),
        DsrAction::RequestForwarded { .. } => (Action::Share, request()?, ok),
        DsrAction::SourceLocated { source: s, .. } => (Action::Read, source(s)?, ok),
        DsrAction::SourceExported { source: s, .. } => (Action::Export, source(s)?, ok),
        DsrAction::BundleProduced { .. } => (Action::Export, request()?, ok),
        DsrAction::BundleNotDelivered { .. } => {
            (custom("dsr.bundle_delivery")?, request()?, Outcome::Failure)
        }
        DsrAction::SourceRectified { source: s, .. } => (Action::Update, source(s)?, ok),
        DsrAction::SourceErased { source: s, .. } => (Action::Erase, source(s)?, ok),
        DsrAction::RecordKept {
            record_type,
            record_id,
            ..
        } => (
            Action::Erase,
            Target::new(record_type.as_str(), record_id.as_str())?,
            Outcome::Denied,
        ),
        DsrAction::SubjectKeyShredded { .. } => (Action::Erase, subject_key()?, ok),
        DsrAction::SubjectKeyShredDeferred { .. } => {
            (custom("dsr.key_shred_deferred")?, subject_key()?, ok)
        }
        DsrAction::SubjectKeyShredStillDeferred { .. } => {
            (custom("dsr.key_shred_still_deferred")?, subject_key()?, ok)
        }
        DsrAction::RecordsResealed { source: s, .. } => {
            (custom("dsr.records_resealed")?, source(s)?, ok)
        }
        DsrAction::ResealFailed { source: s, .. } => {
            (custom("dsr.reseal")?, source(s)?, Outcome::Failure)
        }
        DsrAction::CertificateIssued { .. } => (custom("dsr.certificate_issued")?, request()?, ok),
        DsrAction::SourceRestricted { source: s, .. } => (Action::Restrict, source(s)?, ok),
        DsrAction::SubjectStep {
            source: s, step, ..
        } => {
            let action = match step.as_str() {
                "access" => Action::Export,
                "erase" => Action::Erase,
                "restrict" | "lift" | "stop_purposes" => Action::Restrict,
                other => Action::custom(format!("dsr.subject_{}", sanitize(other)))?,
            };
            (action, source(s)?, ok)
        }
        DsrAction::SourceFailed {
            source: s,
            operation,
            ..
        } => {
            let action = match operation.as_str() {
                "locate" => Action::Read,
                "export" => Action::Export,
                "rectify" => Action::Update,
                "erase" => Action::Erase,
                "restrict" => Action::Restrict,
                other => Action::custom(format!("dsr.{}", sanitize(other)))?,
            };
            (action, source(s)?, Outcome::Failure)
        }
        DsrAction::BreachRecorded { .. } => (custom("breach.recorded")?, incident()?, ok),
        DsrAction::BreachUpdated => (custom("breach.updated")?, incident()?, ok),
        DsrAction::BreachNotified { .. } => (custom("breach.notified")?, incident()?, ok),
    })
}

/// A custom action name from a free operation name.
fn sanitize(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(40)
        .collect();
    if out.is_empty() {
        out.push_str("operation");
    }
    out
}

impl<S: AuditStore, K: KeyStore> DsrEventSink for AuditTrail<S, K> {
    fn record(&self, event: &DsrEvent) -> Result<(), BoxError> {
        let audit_event = self.to_audit_event(event)?;
        self.with_log(|log| log.append(&audit_event))?;
        Ok(())
    }
}

impl<S: AuditStore, K: KeyStore> SubjectAuditHistory for AuditTrail<S, K> {
    fn events_for(
        &self,
        tenant: TenantId,
        subject: SubjectId,
    ) -> Result<Vec<RenderedAuditEvent>, BoxError> {
        Ok(self.rendered_events(tenant, subject)?)
    }
}
