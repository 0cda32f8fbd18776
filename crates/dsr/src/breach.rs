//! Personal-data breaches (GDPR Art. 33 and 34).
//!
//! # Model
//!
//! An [`Incident`] records what Art. 33(3) requires a notification to contain —
//! the nature of the breach, the categories and approximate numbers of people
//! and records, the contact point (DPO), the likely consequences, the measures
//! taken or proposed — and when the organisation became **aware** of it, which
//! starts every clock:
//!
//! * as **controller**: notify the supervisory authority without undue delay
//!   and where feasible within **72 hours** of awareness (Art. 33(1)); later
//!   notifications must give reasons for the delay
//!   ([`Incident::authority_deadline`], [`Incident::lateness`]);
//! * as **processor**: notify the controller "without undue delay"
//!   (Art. 33(2)). The GDPR gives no number; Custodia's operational default is
//!   **24 hours** ([`DEFAULT_PROCESSOR_DELAY_HOURS`]), leaving the controller
//!   most of its 72 hours, and is configurable per incident
//!   ([`Incident::processor_delay`]). Contracts (Art. 28 DPAs) often set 24 or
//!   48 hours; use the contractual figure where there is one.
//!
//! Affected tenants and subjects are derived from events in the breach window
//! with [`affected_in_window`], which takes any iterator of `(time, tenant,
//! subject)`: the events of a `custodia-audit` log through
//! [`AuditTrail::affected`](crate::AuditTrail::affected), or the host's own
//! access log. [`Art34Assessment`] helps decide whether the people themselves
//! must be told (Art. 34), and [`Incident::authority_draft`] /
//! [`Incident::controller_draft`] / [`Incident::subject_draft`] write Markdown
//! drafts to start from.
//!
//! Information may come in phases (Art. 33(4)): update the incident and keep
//! notifying. Every breach is documented (Art. 33(5)), notified or not.
//!
//! Since awareness starts every clock, [`BreachRegister`] refuses to record
//! (or update) an incident whose `aware_at` lies in the future by more than
//! a small clock skew ([`AWARENESS_SKEW_SECONDS`]: it would push the
//! deadlines out), or whose `window` ends before it starts
//! ([`Incident::check_times`]); and a notification of an incident whose
//! awareness is in the future ([`BreachRegister::notification`]), however
//! the incident got there. Decoding ([`Incident::from_json`]) checks no
//! times: a stored incident stays readable.
//!
//! # Example
//!
//! ```
//! use chrono::{TimeDelta, TimeZone, Utc};
//! use custodia_core::{DataCategory, Role};
//! use custodia_dsr::breach::{Art34Assessment, Art34Decision, Contact, Incident, Lateness};
//!
//! let aware = Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).unwrap();
//! let dpo = Contact { name: "DPO".into(), contact: "dpo@example.com".into() };
//! let mut incident = Incident::new(Role::Controller, aware, "Misdirected export", dpo);
//! incident.data_categories.insert(DataCategory::USER_HEALTH);
//! incident.nature.confidentiality = true;
//! assert_eq!(incident.authority_deadline(), aware + TimeDelta::hours(72));
//! assert_eq!(incident.lateness(aware + TimeDelta::hours(80)), Lateness::Late(TimeDelta::hours(8)));
//! let assessment = Art34Assessment {
//!     high_risk: Art34Assessment::suggest_high_risk(&incident),
//!     ..Default::default()
//! };
//! assert_eq!(assessment.decide(), Art34Decision::NotifySubjects);
//! assert!(incident.authority_draft(aware).contains("user.health"));
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};
use std::sync::Arc;

use chrono::TimeDelta;
use custodia_core::{ActorId, Clock, DataCategory, Role, SubjectId, TenantId, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::event::{DsrAction, DsrEvent, DsrEventSink};

/// Hours within which a controller notifies the authority (Art. 33(1)).
pub const AUTHORITY_HOURS: i64 = 72;
/// Custodia's default for "without undue delay" from processor to controller
/// (Art. 33(2)): 24 hours. An operational choice, not a legal figure.
pub const DEFAULT_PROCESSOR_DELAY_HOURS: i64 = 24;
/// How far past the register's clock an incident's `aware_at` may lie, in
/// seconds (five minutes): the time is often read from another clock (the
/// officer's browser, another server) a little ahead of the register's.
/// Beyond it, awareness is in the future ([`Error::AwareInFuture`]).
pub const AWARENESS_SKEW_SECONDS: i64 = 300;

custodia_core::uuid_id!(
    /// Identifies an incident.
    #[derive(Serialize, Deserialize)]
    #[serde(transparent)]
    IncidentId,
    "incident id",
    random
);

/// Which security property was broken (WP250 rev.01 classification).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreachNature {
    /// Unauthorised or accidental disclosure of, or access to, data.
    pub confidentiality: bool,
    /// Unauthorised or accidental alteration of data.
    pub integrity: bool,
    /// Accidental or unauthorised loss of access to, or destruction of, data.
    pub availability: bool,
}

impl BreachNature {
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.confidentiality {
            parts.push("confidentiality (disclosure or access)");
        }
        if self.integrity {
            parts.push("integrity (alteration)");
        }
        if self.availability {
            parts.push("availability (loss or destruction)");
        }
        if parts.is_empty() {
            "not yet classified".into()
        } else {
            parts.join(", ")
        }
    }
}

/// A contact point for more information (Art. 33(3)(b)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Name or role ("Data Protection Officer").
    pub name: String,
    /// Email, telephone or address.
    pub contact: String,
}

/// Who a notification went to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "to", rename_all = "snake_case")]
pub enum NotificationRecipient {
    /// A supervisory authority (Art. 33(1)).
    Authority {
        /// Which one, e.g. "Data Protection Commission (IE)".
        name: String,
    },
    /// The controller, by a processor (Art. 33(2)).
    Controller {
        /// The controller's tenant, when a subscriber.
        tenant: Option<TenantId>,
        /// Its name.
        name: String,
    },
    /// The affected people (Art. 34).
    Subjects {
        /// How many were told.
        count: u64,
    },
}

/// A notification sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// To whom.
    pub recipient: NotificationRecipient,
    /// When.
    pub at: Timestamp,
    /// Whether it came after its deadline.
    pub late: bool,
    /// Reasons for the delay (required by Art. 33(1) when late).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_reason: Option<String>,
}

/// A personal-data breach and what was done about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// Format version ([`Incident::VERSION`]).
    pub version: u32,
    /// The incident.
    pub id: IncidentId,
    /// Whether the helpdesk is controller or processor for the data breached.
    pub role: Role,
    /// When the organisation became aware: starts every clock. Not in the
    /// future ([`Incident::check_times`]).
    pub aware_at: Timestamp,
    /// When the breach began and ended, as far as known: the start no later
    /// than the end ([`Incident::check_times`]).
    #[serde(default)]
    pub window: Option<(Timestamp, Timestamp)>,
    /// What happened, in words.
    pub description: String,
    /// Which security property was broken.
    pub nature: BreachNature,
    /// Categories of personal data concerned.
    pub data_categories: BTreeSet<DataCategory>,
    /// Categories of people concerned ("end users", "agents").
    pub subject_categories: Vec<String>,
    /// Approximate number of people concerned.
    pub approx_subjects: u64,
    /// Approximate number of records concerned.
    pub approx_records: u64,
    /// Tenants concerned.
    pub tenants: BTreeSet<TenantId>,
    /// Likely consequences.
    pub consequences: String,
    /// Measures taken or proposed, including to mitigate effects.
    pub measures: Vec<String>,
    /// The DPO or other contact point.
    pub contact: Contact,
    /// For processors: hours allowed for "without undue delay" to the controller.
    pub processor_delay_hours: i64,
    /// Notifications sent.
    #[serde(default)]
    pub notifications: Vec<Notification>,
}

/// The people and tenants affected, derived from events in a window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Affected {
    /// Subjects per tenant.
    pub subjects: BTreeMap<TenantId, BTreeSet<SubjectId>>,
    /// Events counted (records touched, approximately).
    pub events: u64,
}

impl Affected {
    /// Every affected tenant.
    pub fn tenants(&self) -> BTreeSet<TenantId> {
        self.subjects.keys().copied().collect()
    }

    /// How many distinct people (a subject id is per tenant).
    pub fn subject_count(&self) -> u64 {
        self.subjects.values().map(|s| s.len() as u64).sum()
    }
}

/// The tenants and subjects touched by events from `start` to `end`, inclusive.
///
/// Takes any iterator of `(time, tenant, subject)`: a `custodia-audit` log's
/// events ([`AuditTrail::affected`](crate::AuditTrail::affected) feeds them),
/// or the host's own access log. Events without a subject count their tenant
/// as affected.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use custodia_core::{SubjectId, TenantId};
/// use custodia_dsr::breach::affected_in_window;
///
/// let t = |h| Utc.with_ymd_and_hms(2026, 5, 4, h, 0, 0).unwrap();
/// let acme = TenantId::from_external_key("crm", "acme");
/// let alice = SubjectId::from_external_key(acme, "contact", "1");
/// let bob = SubjectId::from_external_key(acme, "contact", "2");
/// let log = vec![(t(8), acme, Some(alice)), (t(10), acme, Some(bob)), (t(12), acme, Some(alice))];
/// let affected = affected_in_window(log, t(9), t(12));
/// assert_eq!(affected.subject_count(), 2);
/// assert_eq!(affected.events, 2);
/// ```
pub fn affected_in_window<I>(events: I, start: Timestamp, end: Timestamp) -> Affected
where
    I: IntoIterator<Item = (Timestamp, TenantId, Option<SubjectId>)>,
{
    let mut affected = Affected::default();
    for (at, tenant, subject) in events {
        if at < start || at > end {
            continue;
        }
        affected.events += 1;
        let subjects = affected.subjects.entry(tenant).or_default();
        if let Some(subject) = subject {
            subjects.insert(subject);
        }
    }
    affected
}

/// How late a notification is, or how much time is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lateness {
    /// Time left before the deadline.
    OnTime(TimeDelta),
    /// Time past the deadline: reasons for the delay are required.
    Late(TimeDelta),
}

/// Inputs to the Art. 34 decision: must the people be told?
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Art34Assessment {
    /// The breach is likely to result in a high risk to people's rights and
    /// freedoms (the controller's judgement; see [`Art34Assessment::suggest_high_risk`]).
    pub high_risk: bool,
    /// Art. 34(3)(a): the data was unintelligible to anyone unauthorised
    /// (e.g. encrypted and the key not compromised).
    pub unintelligible: bool,
    /// Art. 34(3)(b): later measures ensure the high risk is no longer likely.
    pub risk_mitigated: bool,
    /// Art. 34(3)(c): telling each person would involve disproportionate effort.
    pub disproportionate_effort: bool,
}

/// What Art. 34 requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Art34Decision {
    /// Tell each person without undue delay (Art. 34(1)).
    NotifySubjects,
    /// Tell them by public communication instead (Art. 34(3)(c)).
    PublicCommunication,
    /// Not required: no high risk.
    NotRequiredNoHighRisk,
    /// Not required: the data was unintelligible (Art. 34(3)(a)).
    NotRequiredUnintelligible,
    /// Not required: the risk was mitigated (Art. 34(3)(b)).
    NotRequiredMitigated,
}

impl Art34Assessment {
    /// A starting point for the high-risk judgement: special categories
    /// (Art. 9/10), financial data, government ids or credentials, with
    /// confidentiality broken and the data readable. The controller decides.
    pub fn suggest_high_risk(incident: &Incident) -> bool {
        let sensitive = incident.data_categories.iter().any(|c| {
            c.is_special()
                || c.is_within(&DataCategory::USER_FINANCIAL)
                || c.is_within(&DataCategory::USER_GOVERNMENT_ID)
                || c.is_within(&DataCategory::USER_AUTHORIZATION)
        });
        sensitive && incident.nature.confidentiality
    }

    /// The decision. Exemptions apply in the order of Art. 34(3).
    pub fn decide(&self) -> Art34Decision {
        if !self.high_risk {
            Art34Decision::NotRequiredNoHighRisk
        } else if self.unintelligible {
            Art34Decision::NotRequiredUnintelligible
        } else if self.risk_mitigated {
            Art34Decision::NotRequiredMitigated
        } else if self.disproportionate_effort {
            Art34Decision::PublicCommunication
        } else {
            Art34Decision::NotifySubjects
        }
    }
}

impl Incident {
    /// The format version this build writes and reads.
    pub const VERSION: u32 = 1;

    /// A new incident the organisation became aware of at `aware_at`.
    pub fn new(role: Role, aware_at: Timestamp, description: &str, contact: Contact) -> Self {
        Self {
            version: Self::VERSION,
            id: IncidentId::random(),
            role,
            aware_at,
            window: None,
            description: description.to_owned(),
            nature: BreachNature::default(),
            data_categories: BTreeSet::new(),
            subject_categories: Vec::new(),
            approx_subjects: 0,
            approx_records: 0,
            tenants: BTreeSet::new(),
            consequences: String::new(),
            measures: Vec::new(),
            contact,
            processor_delay_hours: DEFAULT_PROCESSOR_DELAY_HOURS,
            notifications: Vec::new(),
        }
    }

    /// Sets the processor → controller delay, in hours (default 24).
    pub fn processor_delay(mut self, hours: i64) -> Self {
        self.processor_delay_hours = hours.max(0);
        self
    }

    /// Fills tenants and approximate numbers from [`affected_in_window`].
    pub fn apply_affected(&mut self, affected: &Affected) {
        self.tenants.extend(affected.tenants());
        self.approx_subjects = self.approx_subjects.max(affected.subject_count());
        self.approx_records = self.approx_records.max(affected.events);
    }

    /// The controller's deadline for the authority: awareness + 72 hours.
    pub fn authority_deadline(&self) -> Timestamp {
        self.aware_at
            .checked_add_signed(TimeDelta::hours(AUTHORITY_HOURS))
            .unwrap_or(Timestamp::MAX_UTC)
    }

    /// The processor's deadline for the controller: awareness + the
    /// configured delay (a negative delay, which only a hand-written
    /// incident can hold, counts as none; one past the calendar's range
    /// gives [`Timestamp::MAX_UTC`]).
    pub fn controller_deadline(&self) -> Timestamp {
        TimeDelta::try_hours(self.processor_delay_hours.max(0))
            .and_then(|delay| self.aware_at.checked_add_signed(delay))
            .unwrap_or(Timestamp::MAX_UTC)
    }

    /// The deadline that applies in this incident's role: the authority's as
    /// controller, the controller's as processor.
    pub fn deadline(&self) -> Timestamp {
        match self.role {
            Role::Controller => self.authority_deadline(),
            Role::Processor => self.controller_deadline(),
        }
    }

    /// `Ok` when the incident's times can be right at `now` (the register's
    /// clock): awareness no later than `now` plus [`AWARENESS_SKEW_SECONDS`]
    /// ([`Error::AwareInFuture`]: a later one would push every deadline
    /// out), and a window that does not end before it starts
    /// ([`Error::WindowReversed`]). [`BreachRegister::record`] and
    /// [`BreachRegister::update`] check it.
    pub fn check_times(&self, now: Timestamp) -> Result<(), Error> {
        self.check_awareness(now)?;
        if let Some((start, end)) = self.window
            && start > end
        {
            return Err(Error::WindowReversed {
                incident: self.id,
                start,
                end,
            });
        }
        Ok(())
    }

    /// `Ok` when awareness is no later than `now` plus
    /// [`AWARENESS_SKEW_SECONDS`], else [`Error::AwareInFuture`]: the half
    /// of [`Incident::check_times`] every deadline depends on.
    fn check_awareness(&self, now: Timestamp) -> Result<(), Error> {
        let latest = now
            .checked_add_signed(TimeDelta::seconds(AWARENESS_SKEW_SECONDS))
            .unwrap_or(Timestamp::MAX_UTC);
        if self.aware_at > latest {
            return Err(Error::AwareInFuture {
                incident: self.id,
                aware_at: self.aware_at,
                now,
            });
        }
        Ok(())
    }

    /// Time left, or time past, at `now` against [`Incident::deadline`].
    pub fn lateness(&self, now: Timestamp) -> Lateness {
        let deadline = self.deadline();
        if now <= deadline {
            Lateness::OnTime(deadline - now)
        } else {
            Lateness::Late(now - deadline)
        }
    }

    /// Serialises the incident (the Art. 33(5) documentation).
    pub fn to_json(&self) -> Result<String, Error> {
        crate::json::encode(self, "incident")
    }

    /// Reads an incident, checking its version.
    ///
    /// Its times are not checked here: whether `aware_at` is in the future
    /// depends on the clock of the moment, and a stored incident (Art. 33(5)
    /// documentation) must stay readable whatever it holds. The register
    /// checks them where they count: [`BreachRegister::record`] and
    /// [`BreachRegister::update`] ([`Incident::check_times`]), and
    /// [`BreachRegister::notification`] (awareness, which the deadline
    /// judged there depends on).
    pub fn from_json(text: &str) -> Result<Self, Error> {
        crate::json::decode_versioned(text, "incident", Self::VERSION)
    }

    fn contents(&self, md: &mut String) {
        let _ = writeln!(md, "## What happened\n\n{}\n", self.description);
        let _ = writeln!(md, "- Nature: {}", self.nature.describe());
        if let Some((start, end)) = self.window {
            let _ = writeln!(
                md,
                "- Period: {} to {}",
                start.to_rfc3339(),
                end.to_rfc3339()
            );
        }
        let _ = writeln!(md, "- Became aware: {}", self.aware_at.to_rfc3339());
        let categories: Vec<&str> = self
            .data_categories
            .iter()
            .map(DataCategory::as_str)
            .collect();
        let _ = writeln!(
            md,
            "- Categories of personal data: {}",
            if categories.is_empty() {
                "under investigation".into()
            } else {
                categories.join(", ")
            }
        );
        let _ = writeln!(
            md,
            "- Categories of data subjects: {}",
            if self.subject_categories.is_empty() {
                "under investigation".into()
            } else {
                self.subject_categories.join(", ")
            }
        );
        let _ = writeln!(
            md,
            "- Approximate number of data subjects: {}",
            self.approx_subjects
        );
        let _ = writeln!(
            md,
            "- Approximate number of records: {}",
            self.approx_records
        );
        let _ = writeln!(
            md,
            "\n## Likely consequences\n\n{}\n",
            or_pending(&self.consequences)
        );
        let _ = writeln!(md, "## Measures taken or proposed\n");
        if self.measures.is_empty() {
            let _ = writeln!(md, "- To be completed.");
        }
        for m in &self.measures {
            let _ = writeln!(md, "- {m}");
        }
        let _ = writeln!(
            md,
            "\n## Contact\n\n{}: {}\n",
            self.contact.name, self.contact.contact
        );
    }

    fn delay_note(&self, md: &mut String, now: Timestamp, limit: &str) {
        match self.lateness(now) {
            Lateness::OnTime(_) => {}
            Lateness::Late(by) => {
                let _ = writeln!(
                    md,
                    "## Reasons for the delay\n\nThis notification comes {} after the {limit} deadline. Reasons: _to be completed_.\n",
                    hours_and_minutes(by)
                );
            }
        }
    }

    /// A Markdown draft of the notification to the supervisory authority
    /// (Art. 33(3) contents), as of `now`.
    pub fn authority_draft(&self, now: Timestamp) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# Personal data breach notification (GDPR Art. 33)\n");
        let _ = writeln!(
            md,
            "Incident `{}`. Deadline: {} (72 hours from awareness).\n",
            self.id,
            self.authority_deadline().to_rfc3339()
        );
        if self.role == Role::Controller {
            self.delay_note(&mut md, now, "72-hour");
        }
        self.contents(&mut md);
        let _ = writeln!(
            md,
            "Further information will follow in phases as it becomes available (Art. 33(4))."
        );
        md
    }

    /// A Markdown draft of the processor's notification to a controller (Art. 33(2)).
    pub fn controller_draft(&self, now: Timestamp) -> String {
        let mut md = String::new();
        let _ = writeln!(
            md,
            "# Notice of a personal data breach to the controller (GDPR Art. 33(2))\n"
        );
        let _ = writeln!(
            md,
            "Incident `{}`. We became aware at {}; this notice is due by {} under our {}-hour commitment. Your 72-hour deadline to the supervisory authority runs from your own awareness.\n",
            self.id,
            self.aware_at.to_rfc3339(),
            self.controller_deadline().to_rfc3339(),
            self.processor_delay_hours
        );
        if self.role == Role::Processor {
            self.delay_note(&mut md, now, "agreed");
        }
        self.contents(&mut md);
        md
    }

    /// A Markdown draft of the communication to the people affected (Art. 34(2)).
    pub fn subject_draft(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# Important: a security incident affecting your data\n");
        let _ = writeln!(md, "{}\n", self.description);
        let _ = writeln!(
            md,
            "## What it may mean for you\n\n{}\n",
            or_pending(&self.consequences)
        );
        let _ = writeln!(md, "## What we have done\n");
        for m in &self.measures {
            let _ = writeln!(md, "- {m}");
        }
        let _ = writeln!(
            md,
            "\n## Questions\n\nContact {} at {}.",
            self.contact.name, self.contact.contact
        );
        md
    }
}

/// A delay in words, to the minute ("40 minutes", "73 hours and 5
/// minutes", "1 hour"): whole hours alone read "0 hours" for a notification
/// 40 minutes late. Seconds are dropped; a delay under a minute is "less
/// than a minute", never "0 minutes".
fn hours_and_minutes(delay: TimeDelta) -> String {
    let (hours, minutes) = (delay.num_hours(), delay.num_minutes() % 60);
    let unit = |n: i64, one: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {one}s")
        }
    };
    match (hours, minutes) {
        (0, 0) => "less than a minute".to_owned(),
        (0, m) => unit(m, "minute"),
        (h, 0) => unit(h, "hour"),
        (h, m) => format!("{} and {}", unit(h, "hour"), unit(m, "minute")),
    }
}

fn or_pending(text: &str) -> &str {
    if text.trim().is_empty() {
        "Under assessment."
    } else {
        text
    }
}

/// Records incidents and notifications, auditing each step.
pub struct BreachRegister {
    clock: Arc<dyn Clock>,
    audit: Arc<dyn DsrEventSink>,
}

impl fmt::Debug for BreachRegister {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BreachRegister").finish_non_exhaustive()
    }
}

impl BreachRegister {
    /// A register stamping with `clock` and auditing to `audit`.
    pub fn new(clock: Arc<dyn Clock>, audit: Arc<dyn DsrEventSink>) -> Self {
        Self { clock, audit }
    }

    fn emit(&self, incident: &Incident, actor: ActorId, action: DsrAction) -> Result<(), Error> {
        let tenant = match incident.tenants.len() {
            1 => incident.tenants.iter().next().copied(),
            _ => None,
        };
        self.audit
            .record(&DsrEvent {
                at: self.clock.now(),
                tenant,
                subject: None,
                actor: Some(actor),
                request: None,
                incident: Some(incident.id),
                action,
            })
            .map_err(|e| Error::Audit(crate::error::host(e)))
    }

    /// Records a new incident (Art. 33(5)). Its times are checked first
    /// against the register's clock ([`Incident::check_times`]): an
    /// awareness in the future or a reversed window is refused, unaudited.
    ///
    /// A host that keeps incidents in a store where two requests may
    /// record one id at once stores it first, with an insert that refuses
    /// an existing id, and records it only once stored: each stored
    /// incident then has one `BreachRecorded` event. It keeps the stored
    /// incident out of sight (an uncommitted insert) until this returns,
    /// so that no notification of it is recorded before it, and drops it
    /// if this fails (custodia-axum's `IncidentStore::insert` does both).
    /// It checks the incident with [`BreachRegister::check_record`] before
    /// storing, so that one `record` would refuse is never stored.
    pub fn record(&self, incident: &Incident, actor: ActorId) -> Result<(), Error> {
        self.check_record(incident)?;
        self.emit(
            incident,
            actor,
            DsrAction::BreachRecorded {
                role: incident.role,
            },
        )
    }

    /// The check [`BreachRegister::record`] makes before it audits, alone:
    /// the incident's times against the register's clock
    /// ([`Incident::check_times`]). For a host that stores a new incident
    /// before recording it (see [`BreachRegister::record`]): an incident
    /// that passes is not refused by `record` for its times a moment later
    /// (awareness only falls further behind the clock; a window does not
    /// change).
    pub fn check_record(&self, incident: &Incident) -> Result<(), Error> {
        incident.check_times(self.clock.now())
    }

    /// Records an update of an incident's details (Art. 33(4)), its times
    /// checked as [`BreachRegister::record`] checks them.
    pub fn update(&self, incident: &Incident, actor: ActorId) -> Result<(), Error> {
        incident.check_times(self.clock.now())?;
        self.emit(incident, actor, DsrAction::BreachUpdated)
    }

    /// Records a notification sent now. A late one needs `delay_reason`; an
    /// incident whose awareness is in the future is refused
    /// ([`BreachRegister::notification`]).
    ///
    /// Audits it before adding it to `incident`. A host that stores the
    /// incident with a compare-and-swap that may lose uses
    /// [`BreachRegister::notification`] and, once the store took it,
    /// [`BreachRegister::audit_notification`] instead: an attempt that
    /// stored nothing then leaves no `BreachNotified` event.
    pub fn notify(
        &self,
        incident: &mut Incident,
        recipient: NotificationRecipient,
        delay_reason: Option<&str>,
        actor: ActorId,
    ) -> Result<(), Error> {
        let notification = self.notification(incident, recipient, delay_reason)?;
        self.audit_notification(incident, &notification, actor)?;
        incident.notifications.push(notification);
        Ok(())
    }

    /// A notification of `incident` sent now, stamped with the register's
    /// clock and judged late or not, neither audited nor added: the first
    /// half of [`BreachRegister::notify`]. A late one needs `delay_reason`
    /// ([`Error::Empty`] otherwise, Art. 33(1)).
    ///
    /// Only the first notification to a recipient is judged against the
    /// deadline: a later one to the same recipient (equal
    /// [`NotificationRecipient`]) is a further phase of it (Art. 33(4):
    /// information "may be provided in phases without undue further
    /// delay"), never late, and needs no reason (one given is kept).
    ///
    /// The deadline counts from `aware_at`, so an incident whose awareness
    /// is in the future ([`Error::AwareInFuture`], as
    /// [`BreachRegister::record`] refuses it) is refused here too: one that
    /// never went through `record` (read from a store edited since, built
    /// by hand) would otherwise be judged against a deadline pushed out.
    /// Correct its `aware_at` ([`BreachRegister::update`]) and notify again.
    pub fn notification(
        &self,
        incident: &Incident,
        recipient: NotificationRecipient,
        delay_reason: Option<&str>,
    ) -> Result<Notification, Error> {
        let now = self.clock.now();
        incident.check_awareness(now)?;
        let deadline = match recipient {
            NotificationRecipient::Authority { .. } => incident.authority_deadline(),
            NotificationRecipient::Controller { .. } => incident.controller_deadline(),
            // Art. 34 says "without undue delay" with no figure: never marked late here.
            NotificationRecipient::Subjects { .. } => Timestamp::MAX_UTC,
        };
        let follow_up = incident
            .notifications
            .iter()
            .any(|n| n.recipient == recipient);
        let late = !follow_up && now > deadline;
        let delay_reason = delay_reason.map(str::trim).filter(|r| !r.is_empty());
        if late && delay_reason.is_none() {
            return Err(Error::Empty {
                what: "reason for the late notification (Art. 33(1))",
            });
        }
        Ok(Notification {
            recipient,
            at: now,
            late,
            delay_reason: delay_reason.map(str::to_owned),
        })
    }

    /// Audits `notification` of `incident` (`BreachNotified`): the second
    /// half of [`BreachRegister::notify`], for a host to call once the
    /// incident with the notification is stored.
    pub fn audit_notification(
        &self,
        incident: &Incident,
        notification: &Notification,
        actor: ActorId,
    ) -> Result<(), Error> {
        self.emit(
            incident,
            actor,
            DsrAction::BreachNotified {
                recipient: notification.recipient.clone(),
                late: notification.late,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn aware() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 3, 28, 22, 30, 0).unwrap()
    }

    fn incident(role: Role) -> Incident {
        Incident::new(
            role,
            aware(),
            "An agent's API token leaked in a public repository.",
            Contact {
                name: "Data Protection Officer".into(),
                contact: "dpo@example.com".into(),
            },
        )
    }

    #[test]
    fn controller_has_72_hours_processor_24_by_default() {
        let c = incident(Role::Controller);
        assert_eq!(
            c.deadline(),
            Utc.with_ymd_and_hms(2026, 3, 31, 22, 30, 0).unwrap()
        );
        let p = incident(Role::Processor);
        assert_eq!(
            p.deadline(),
            Utc.with_ymd_and_hms(2026, 3, 29, 22, 30, 0).unwrap()
        );
        let p48 = incident(Role::Processor).processor_delay(48);
        assert_eq!(
            p48.deadline(),
            Utc.with_ymd_and_hms(2026, 3, 30, 22, 30, 0).unwrap()
        );
    }

    #[test]
    fn lateness() {
        let c = incident(Role::Controller);
        assert_eq!(c.lateness(aware()), Lateness::OnTime(TimeDelta::hours(72)));
        assert_eq!(
            c.lateness(aware() + TimeDelta::hours(75)),
            Lateness::Late(TimeDelta::hours(3))
        );
        assert_eq!(
            c.lateness(c.deadline()),
            Lateness::OnTime(TimeDelta::zero())
        );
    }

    #[test]
    fn art34_exemptions_in_order() {
        let base = Art34Assessment {
            high_risk: true,
            ..Default::default()
        };
        assert_eq!(base.decide(), Art34Decision::NotifySubjects);
        assert_eq!(
            Art34Assessment {
                high_risk: false,
                ..base
            }
            .decide(),
            Art34Decision::NotRequiredNoHighRisk
        );
        assert_eq!(
            Art34Assessment {
                unintelligible: true,
                ..base
            }
            .decide(),
            Art34Decision::NotRequiredUnintelligible
        );
        assert_eq!(
            Art34Assessment {
                risk_mitigated: true,
                ..base
            }
            .decide(),
            Art34Decision::NotRequiredMitigated
        );
        assert_eq!(
            Art34Assessment {
                disproportionate_effort: true,
                ..base
            }
            .decide(),
            Art34Decision::PublicCommunication
        );
    }

    #[test]
    fn high_risk_suggestion_needs_sensitive_data_and_disclosure() {
        let mut i = incident(Role::Controller);
        i.data_categories.insert(DataCategory::USER_CONTACT_EMAIL);
        i.nature.confidentiality = true;
        assert!(!Art34Assessment::suggest_high_risk(&i));
        i.data_categories.insert(DataCategory::USER_HEALTH);
        assert!(Art34Assessment::suggest_high_risk(&i));
        i.nature.confidentiality = false;
        i.nature.availability = true;
        assert!(!Art34Assessment::suggest_high_risk(&i));
    }

    #[test]
    fn drafts_carry_the_article_33_3_contents() {
        let mut i = incident(Role::Controller);
        i.data_categories.insert(DataCategory::USER_CONTACT_EMAIL);
        i.approx_subjects = 1200;
        i.approx_records = 5400;
        i.consequences = "Phishing aimed at the people concerned.".into();
        i.measures.push("Token revoked.".into());
        i.nature.confidentiality = true;
        let on_time = i.authority_draft(aware() + TimeDelta::hours(10));
        for needle in [
            "user.contact.email",
            "1200",
            "5400",
            "Phishing",
            "Token revoked.",
            "dpo@example.com",
            "confidentiality",
        ] {
            assert!(on_time.contains(needle), "{needle} missing:\n{on_time}");
        }
        assert!(!on_time.contains("Reasons for the delay"));
        let late = i.authority_draft(aware() + TimeDelta::hours(80));
        assert!(late.contains("Reasons for the delay"));
        assert!(late.contains("8 hours after"));
        let p = incident(Role::Processor);
        assert!(p.controller_draft(aware()).contains("24-hour commitment"));
        assert!(i.subject_draft().contains("Token revoked."));
    }

    /// Found in review: the delay note gave whole hours, truncated, so a
    /// notification 40 minutes late read "0 hours after". It says hours
    /// and minutes.
    #[test]
    fn the_delay_note_says_hours_and_minutes() {
        let i = incident(Role::Controller);
        let deadline = i.authority_deadline();
        let note = |late: TimeDelta| i.authority_draft(deadline + late);
        assert!(
            note(TimeDelta::minutes(40)).contains("comes 40 minutes after the 72-hour deadline"),
            "{}",
            note(TimeDelta::minutes(40))
        );
        assert!(
            note(TimeDelta::hours(73) + TimeDelta::minutes(5))
                .contains("comes 73 hours and 5 minutes after the 72-hour deadline")
        );
        assert!(note(TimeDelta::hours(1)).contains("comes 1 hour after"));
        assert!(
            note(TimeDelta::hours(2) + TimeDelta::minutes(1))
                .contains("comes 2 hours and 1 minute after")
        );
        // Seconds are not spelled out; under a minute is not "0".
        assert!(
            note(TimeDelta::minutes(40) + TimeDelta::seconds(59))
                .contains("comes 40 minutes after")
        );
        assert!(note(TimeDelta::seconds(30)).contains("comes less than a minute after"));
        let p = incident(Role::Processor);
        let due = p.controller_deadline();
        assert!(
            p.controller_draft(due + TimeDelta::minutes(40))
                .contains("comes 40 minutes after the agreed deadline")
        );
    }

    #[test]
    fn json_round_trip() {
        let mut i = incident(Role::Processor);
        i.tenants.insert(TenantId::from_external_key("crm", "a"));
        let back = Incident::from_json(&i.to_json().unwrap()).unwrap();
        assert_eq!(back, i);
    }
}
