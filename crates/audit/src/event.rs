//! The audit event model.

use custodia_core::{echo, echo_json_error};
use std::fmt;
use std::str::FromStr;

use custodia_core::uuid::{self, Uuid};
use custodia_core::{
    ActorId, Clock, DataCategory, LegalBasis, Purpose, SubjectId, TenantId, Timestamp,
};

use serde::Deserialize;

use crate::Error;

/// The longest name of a custom action or actor kind, in bytes.
pub const MAX_NAME_LEN: usize = 64;
/// The longest target type, target id, field name or request id, in bytes.
pub const MAX_LABEL_LEN: usize = 1024;
/// The longest personal value (clear or sealed), in bytes.
pub const MAX_VALUE_LEN: usize = 1 << 20;
/// The most field changes one event may carry.
pub const MAX_CHANGES: usize = 1024;

custodia_core::uuid_id!(
    /// An event id: a UUIDv7, so ids sort by creation time.
    #[derive(serde::Serialize, serde::Deserialize)]
    #[serde(transparent)]
    EventId,
    "event id"
);

impl EventId {
    /// A new UUIDv7 whose timestamp is `time` (random bits from the OS).
    pub fn at(time: Timestamp) -> Self {
        let secs = u64::try_from(time.timestamp()).unwrap_or(0);
        let ts = uuid::Timestamp::from_unix(uuid::NoContext, secs, time.timestamp_subsec_nanos());
        Self::from_uuid(Uuid::new_v7(ts))
    }
}

/// Checks a custom name: lower-case letters, digits, `_`, `-`, `.`, starting
/// with a letter, at most [`MAX_NAME_LEN`] bytes.
pub(crate) fn check_name(what: &str, name: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidEvent(format!(
            "{what} {:?} must be 1-{MAX_NAME_LEN} bytes of a-z, 0-9, _, - and ., starting with a letter",
            echo(name)
        )))
    }
}

pub(crate) fn check_label(what: &str, label: &str, allow_empty: bool) -> Result<(), Error> {
    if (!allow_empty && label.is_empty()) || label.len() > MAX_LABEL_LEN {
        return Err(Error::InvalidEvent(format!(
            "{what} must be 1-{MAX_LABEL_LEN} bytes, got {}",
            label.len()
        )));
    }
    Ok(())
}

macro_rules! named_enum {
    (
        $(#[$meta:meta])* $name:ident, $what:literal,
        { $($(#[$vmeta:meta])* $variant:ident = $text:literal => $tag:literal,)* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A host-defined name (lower-case letters, digits, `_`, `-`, `.`).
            Custom(String),
        }

        impl $name {
            /// Every built-in value.
            pub const BUILTIN: &'static [$name] = &[$($name::$variant,)*];

            /// The snake_case name used by `Display`, `FromStr` and serde.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)*
                    $name::Custom(name) => name,
                }
            }

            /// A custom value, checked.
            pub fn custom(name: impl Into<String>) -> Result<Self, Error> {
                let name = name.into();
                check_name($what, &name)?;
                // A custom name equal to a built-in one would encode two ways.
                name.parse::<$name>()
            }

            pub(crate) fn tag(&self) -> u8 {
                match self {
                    $($name::$variant => $tag,)*
                    $name::Custom(_) => 0xff,
                }
            }

            pub(crate) fn from_tag(tag: u8) -> Option<Self> {
                match tag {
                    $($tag => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                match s {
                    $($text => Ok($name::$variant),)*
                    other => {
                        check_name($what, other)?;
                        Ok($name::Custom(other.to_owned()))
                    }
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

named_enum!(
    /// What was done.
    Action, "action",
    {
        /// A record was created.
        Create = "create" => 1,
        /// A record was read or viewed.
        Read = "read" => 2,
        /// A record was changed.
        Update = "update" => 3,
        /// A record was deleted.
        Delete = "delete" => 4,
        /// Data was exported (e.g. a data-subject access request).
        Export = "export" => 5,
        /// A person's data was erased (crypto-shredding included).
        Erase = "erase" => 6,
        /// Someone signed in.
        Login = "login" => 7,
        /// Someone signed out.
        Logout = "logout" => 8,
        /// A sign-in attempt failed.
        LoginFailed = "login_failed" => 9,
        /// Roles or permissions changed.
        PermissionChange = "permission_change" => 10,
        /// A key was rotated.
        KeyRotation = "key_rotation" => 11,
        /// Consent was given or withdrawn.
        ConsentChange = "consent_change" => 12,
        /// Processing was restricted (Art. 18).
        Restrict = "restrict" => 13,
        /// Data was shared with a third party or processor.
        Share = "share" => 14,
    }
);

named_enum!(
    /// What kind of actor acted.
    ActorKind, "actor kind",
    {
        /// An end user (a customer, a requester).
        User = "user" => 1,
        /// A helpdesk agent or administrator.
        Agent = "agent" => 2,
        /// The service itself (a scheduled job, a retention sweep).
        System = "system" => 3,
        /// An integration calling the API with a key.
        ApiKey = "api_key" => 4,
    }
);

/// Whether the action succeeded.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It was done.
    #[default]
    Success,
    /// It was attempted and failed.
    Failure,
    /// It was refused (permissions, policy, legal hold).
    Denied,
}

impl Outcome {
    pub(crate) fn tag(self) -> u8 {
        match self {
            Outcome::Success => 1,
            Outcome::Failure => 2,
            Outcome::Denied => 3,
        }
    }

    pub(crate) fn from_tag(tag: u8) -> Option<Self> {
        match tag {
            1 => Some(Outcome::Success),
            2 => Some(Outcome::Failure),
            3 => Some(Outcome::Denied),
            _ => None,
        }
    }
}

/// A personal value inside an event: in the clear until sealed, then an
/// envelope under the owning data subject's key.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Personal {
    /// A value not yet sealed. Never logged by a log that has a vault.
    Clear(String),
    /// A value sealed with `custodia_crypt::SubjectVault::seal`.
    Sealed {
        /// The subject whose key sealed it.
        subject: SubjectId,
        /// The field envelope (base64 in JSON).
        #[serde(with = "crate::b64")]
        sealed: Vec<u8>,
    },
}

impl Personal {
    /// A clear value.
    pub fn clear(value: impl Into<String>) -> Self {
        Personal::Clear(value.into())
    }

    /// Whether the value is sealed: a [`Personal::Sealed`] whose bytes are
    /// an envelope under the labelled subject's own key
    /// ([`Personal::sealer`]). One labelled sealed whose bytes are not (clear
    /// text, an envelope under a tenant key or another subject's) is not:
    /// it may hold clear data, which a log that requires sealed values
    /// refuses ([`AuditLog::require_sealed`](crate::AuditLog::require_sealed)).
    pub fn is_sealed(&self) -> bool {
        self.sealer().is_some()
    }

    /// The subject whose key sealed the value: its label, when its bytes
    /// decode as a `custodia-crypt` envelope
    /// (`custodia_crypt::Envelope::decode`) whose key id is that subject's
    /// own key, as `SubjectVault::seal` makes them. `None` for a clear value
    /// and for one labelled sealed that is not such an envelope. This
    /// decides whose a sealed value is in a subject's export (Art. 15(4),
    /// [`reveal_event_for`](crate::personal::reveal_event_for)) and whether
    /// it counts as sealed ([`Personal::is_sealed`]).
    pub fn sealer(&self) -> Option<SubjectId> {
        match self {
            Personal::Sealed { subject, sealed } if sealed_under(*subject, sealed) => {
                Some(*subject)
            }
            _ => None,
        }
    }
}

/// Whether `sealed` decodes as an envelope under `subject`'s own key (only
/// the header is read: whether it opens is the vault's business).
pub(crate) fn sealed_under(subject: SubjectId, sealed: &[u8]) -> bool {
    matches!(
        custodia_crypt::Envelope::decode(sealed).map(|e| e.key_id()),
        Ok(custodia_crypt::KeyId::Subject { subject: sealer, .. }) if sealer == subject
    )
}

impl fmt::Debug for Personal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Personal data stays out of logs.
            Personal::Clear(v) => write!(f, "Clear([{} bytes])", v.len()),
            Personal::Sealed { subject, sealed } => {
                write!(f, "Sealed({subject}, [{} bytes])", sealed.len())
            }
        }
    }
}

impl From<&str> for Personal {
    fn from(value: &str) -> Self {
        Personal::Clear(value.to_owned())
    }
}

impl From<String> for Personal {
    fn from(value: String) -> Self {
        Personal::Clear(value)
    }
}

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Actor {
    /// User, agent, system, API key or custom.
    pub kind: ActorKind,
    /// The actor's id.
    pub id: ActorId,
    /// The actor as a data subject, if their own personal data (IP, user
    /// agent) should be erasable with their key rather than the event subject's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<SubjectId>,
    /// The IP address the action came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<Personal>,
    /// The client's user agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<Personal>,
}

impl Actor {
    /// An actor with no network details.
    pub fn new(kind: ActorKind, id: ActorId) -> Self {
        Self {
            kind,
            id,
            subject: None,
            ip: None,
            user_agent: None,
        }
    }

    /// Sets the IP address.
    pub fn with_ip(mut self, ip: impl Into<Personal>) -> Self {
        self.ip = Some(ip.into());
        self
    }

    /// Sets the user agent.
    pub fn with_user_agent(mut self, ua: impl Into<Personal>) -> Self {
        self.user_agent = Some(ua.into());
        self
    }

    /// Names the actor as a data subject (their IP and user agent are then
    /// sealed under their own key).
    pub fn as_subject(mut self, subject: SubjectId) -> Self {
        self.subject = Some(subject);
        self
    }
}

/// The record acted on.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Target {
    /// The record type, e.g. `ticket`, `contact`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The record's id in the host.
    pub id: String,
}

impl Target {
    /// A target; type and id must be 1-[`MAX_LABEL_LEN`] bytes (id may be empty
    /// for actions on a whole collection).
    pub fn new(kind: impl Into<String>, id: impl Into<String>) -> Result<Self, Error> {
        let t = Self {
            kind: kind.into(),
            id: id.into(),
        };
        t.check()?;
        Ok(t)
    }

    pub(crate) fn check(&self) -> Result<(), Error> {
        check_label("target type", &self.kind, false)?;
        check_label("target id", &self.id, true)
    }
}

/// One field's change: which field, what kind of data, before and after.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct FieldChange {
    /// The field name.
    pub field: String,
    /// What kind of data the field holds.
    pub category: DataCategory,
    /// The value before (absent for a create or a read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Personal>,
    /// The value after (absent for a delete or a read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Personal>,
}

impl FieldChange {
    /// A change of `field` (of `category`) from `before` to `after`.
    pub fn new(
        field: impl Into<String>,
        category: DataCategory,
        before: Option<Personal>,
        after: Option<Personal>,
    ) -> Self {
        Self {
            field: field.into(),
            category,
            before,
            after,
        }
    }
}

/// One audit event. Build with [`Event::builder`].
///
/// The audit event model.
///
/// An [`Event`] says who ([`Actor`]) did what ([`Action`]) to which record
/// ([`Target`]) about whom (the data subject), when, why (purpose and legal
/// basis), with which result ([`Outcome`]), field by field ([`FieldChange`]).
///
/// Personal values inside an event — the actor's IP address and user agent,
/// the before and after values of personal fields, the free-text note — are
/// [`Personal`] values: in the clear while an event is being built, sealed
/// under the data subject's key by [`crate::personal::seal_event`] before it is
/// logged. See [`crate::personal`] for erasure.
///
/// Every type has a JSON form (serde); actions, actor
/// kinds and outcomes are snake_case strings, so a JSONL line looks like
///
/// ```json
/// {"id":"0190b9a4-...","tenant":"...","time":"2026-03-01T09:00:00Z",
///  "actor":{"kind":"agent","id":"...","ip":"203.0.113.7"},
///  "action":"update","target":{"type":"ticket","id":"T-1001"},
///  "subject":"...","changes":[{"field":"email","category":"user.contact.email",
///  "before":"old@example.com","after":"new@example.com"}],
///  "purpose":"support","legal_basis":"contract","outcome":"success"}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Event {
    /// UUIDv7 id.
    pub id: EventId,
    /// The tenant whose data this is about.
    pub tenant: TenantId,
    /// When it happened.
    pub time: Timestamp,
    /// Who did it.
    pub actor: Actor,
    /// What they did.
    pub action: Action,
    /// To which record.
    pub target: Target,
    /// About whom.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<SubjectId>,
    /// Field-level changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    /// Why (purpose of processing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<Purpose>,
    /// On which legal basis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<LegalBasis>,
    /// With which result.
    #[serde(default)]
    pub outcome: Outcome,
    /// The host's request or correlation id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Free text (a reason, a comment): personal, sealed like the rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Personal>,
}

impl Event {
    /// Starts an event: who did what to which record, in which tenant.
    pub fn builder(tenant: TenantId, actor: Actor, action: Action, target: Target) -> EventBuilder {
        EventBuilder {
            tenant,
            actor,
            action,
            target,
            id: None,
            time: None,
            subject: None,
            changes: Vec::new(),
            purpose: None,
            legal_basis: None,
            outcome: Outcome::Success,
            request_id: None,
            note: None,
        }
    }

    /// Decodes one line of JSON (the serde form of an event, as `custodia
    /// audit append` reads it) and validates it. `id` and `time` may be left
    /// out: `time` is then `clock.now()` and `id` a fresh [`EventId::at`] that
    /// time. Whatever the line holds, the answer is an event or
    /// [`Error::InvalidEvent`] saying why, never a panic; the reason quotes
    /// at most [`MAX_ECHO`](custodia_core::MAX_ECHO) characters of any value
    /// in the line ([`echo_json_error`]).
    pub fn from_json_line(line: &str, clock: &dyn Clock) -> Result<Event, Error> {
        // serde quotes a mistyped value whole; the line is a record, so only
        // a short prefix of it may come back (SECURITY.md).
        let invalid = |e: serde_json::Error| Error::InvalidEvent(echo_json_error(e).to_string());
        let mut value: serde_json::Value = serde_json::from_str(line).map_err(invalid)?;
        let object = value
            .as_object_mut()
            .ok_or_else(|| Error::InvalidEvent("expected a JSON object".into()))?;
        let time = match object.get("time") {
            Some(time) => Timestamp::deserialize(time)
                .map_err(|e| Error::InvalidEvent(format!("time: {}", echo_json_error(e))))?,
            None => {
                let now = clock.now();
                object.insert("time".into(), serde_json::json!(now));
                now
            }
        };
        if !object.contains_key("id") {
            object.insert("id".into(), serde_json::json!(EventId::at(time)));
        }
        let event = Event::deserialize(value).map_err(invalid)?;
        event.validate()?;
        Ok(event)
    }

    /// Checks the limits the canonical encoding relies on.
    pub fn validate(&self) -> Result<(), Error> {
        if let ActorKind::Custom(name) = &self.actor.kind
            && ActorKind::custom(name.clone())? != self.actor.kind
        {
            return Err(Error::InvalidEvent(format!(
                "custom actor kind {name:?} is a built-in kind"
            )));
        }
        if let Action::Custom(name) = &self.action
            && Action::custom(name.clone())? != self.action
        {
            return Err(Error::InvalidEvent(format!(
                "custom action {name:?} is a built-in action"
            )));
        }
        self.target.check()?;
        if self.changes.len() > MAX_CHANGES {
            return Err(Error::InvalidEvent(format!(
                "{} field changes, at most {MAX_CHANGES}",
                self.changes.len()
            )));
        }
        for change in &self.changes {
            check_label("field name", &change.field, false)?;
        }
        if let Some(request) = &self.request_id {
            check_label("request id", request, false)?;
        }
        for value in self.personal_values() {
            let len = match value {
                Personal::Clear(v) => v.len(),
                Personal::Sealed { sealed, .. } => sealed.len(),
            };
            if len > MAX_VALUE_LEN {
                return Err(Error::InvalidEvent(format!(
                    "personal value of {len} bytes, at most {MAX_VALUE_LEN}"
                )));
            }
        }
        Ok(())
    }

    /// Every personal value in the event.
    pub fn personal_values(&self) -> impl Iterator<Item = &Personal> {
        self.actor
            .ip
            .iter()
            .chain(self.actor.user_agent.iter())
            .chain(
                self.changes
                    .iter()
                    .flat_map(|c| c.before.iter().chain(c.after.iter())),
            )
            .chain(self.note.iter())
    }

    /// Whether any personal value is still in the clear, or labelled sealed
    /// but not sealed under its subject's key ([`Personal::is_sealed`]).
    pub fn has_clear_personal_data(&self) -> bool {
        self.personal_values().any(|v| !v.is_sealed())
    }

    /// Whether `subject` appears in the event: as its subject, as the actor's
    /// subject, or as the owner of a sealed value.
    pub fn concerns(&self, subject: SubjectId) -> bool {
        self.subject == Some(subject)
            || self.actor.subject == Some(subject)
            || self
                .personal_values()
                .any(|v| matches!(v, Personal::Sealed { subject: s, .. } if *s == subject))
    }
}

/// Builds an [`Event`]; see [`Event::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct EventBuilder {
    tenant: TenantId,
    actor: Actor,
    action: Action,
    target: Target,
    id: Option<EventId>,
    time: Option<Timestamp>,
    subject: Option<SubjectId>,
    changes: Vec<FieldChange>,
    purpose: Option<Purpose>,
    legal_basis: Option<LegalBasis>,
    outcome: Outcome,
    request_id: Option<String>,
    note: Option<Personal>,
}

impl EventBuilder {
    /// The data subject the event is about.
    pub fn subject(mut self, subject: SubjectId) -> Self {
        self.subject = Some(subject);
        self
    }

    /// Adds a field change.
    pub fn change(mut self, change: FieldChange) -> Self {
        self.changes.push(change);
        self
    }

    /// Purpose of processing.
    pub fn purpose(mut self, purpose: Purpose) -> Self {
        self.purpose = Some(purpose);
        self
    }

    /// Legal basis.
    pub fn legal_basis(mut self, basis: LegalBasis) -> Self {
        self.legal_basis = Some(basis);
        self
    }

    /// Outcome (default success).
    pub fn outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }

    /// The host's request id.
    pub fn request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }

    /// Free-text note (personal: sealed with the rest).
    pub fn note(mut self, note: impl Into<Personal>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// A fixed id instead of a fresh UUIDv7.
    pub fn id(mut self, id: EventId) -> Self {
        self.id = Some(id);
        self
    }

    /// A fixed time instead of the clock's.
    pub fn time(mut self, time: Timestamp) -> Self {
        self.time = Some(time);
        self
    }

    /// The event, timestamped by `clock` (unless a time was set) with a fresh
    /// UUIDv7 id (unless one was set); checked with [`Event::validate`].
    pub fn build(self, clock: &dyn Clock) -> Result<Event, Error> {
        let time = self.time.unwrap_or_else(|| clock.now());
        let event = Event {
            id: self.id.unwrap_or_else(|| EventId::at(time)),
            tenant: self.tenant,
            time,
            actor: self.actor,
            action: self.action,
            target: self.target,
            subject: self.subject,
            changes: self.changes,
            purpose: self.purpose,
            legal_basis: self.legal_basis,
            outcome: self.outcome,
            request_id: self.request_id,
            note: self.note,
        };
        event.validate()?;
        Ok(event)
    }
}
