//! Erasable personal data: sealing event fields under the data subject's key.
//!
//! An audit log must be immutable, and a person must be forgettable. Both hold
//! when the personal values of an event — the actor's IP address and user
//! agent, before/after values, the free-text note — are sealed with
//! `custodia_crypt::SubjectVault` *before* the event is encoded and hashed:
//! the Merkle leaf covers the envelope, not the plaintext. Shredding the
//! subject's key later makes every envelope unreadable
//! (`custodia_crypt::Error::Shredded`) while every byte the log hashed stays
//! exactly as it was, so the log, its proofs and its checkpoints still verify.
//!
//! Who owns a value: the actor's IP and user agent belong to the actor's own
//! subject id when [`Actor::subject`](crate::Actor::subject) is set, else to the
//! event's subject; every other value belongs to the event's subject. A value
//! with no owner cannot be sealed ([`Error::NoSubject`]).
//!
//! Each envelope is bound (as AES-GCM associated data) to the tenant, the record
//! type [`RECORD_TYPE`], the event id and the field path (`actor.ip`,
//! `actor.user_agent`, `changes.<i>.before`, `changes.<i>.after`, `note`), so
//! a sealed value cannot be moved to another event or field.

use custodia_core::SubjectId;
use custodia_crypt::{FieldContext, KeyStore, SubjectVault};

use crate::Error;
use crate::event::{Event, Personal};

/// The record type sealed values are bound to.
pub const RECORD_TYPE: &str = "custodia.audit_event";

/// What reading a personal value gave.
#[derive(Clone, PartialEq, Eq)]
pub enum Revealed {
    /// The value.
    Value(String),
    /// The owner's key was shredded: the value is gone for good.
    Erased,
}

impl std::fmt::Debug for Revealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Revealed::Value(v) => write!(f, "Value([{} bytes])", v.len()),
            Revealed::Erased => f.write_str("Erased"),
        }
    }
}

/// Calls `f(path, owner, slot)` for every slot of `event` that may hold a
/// personal value, filled or not (`owner`: see the module documentation).
fn for_each_slot(
    event: &mut Event,
    mut f: impl FnMut(&str, Option<SubjectId>, &mut Option<Personal>) -> Result<(), Error>,
) -> Result<(), Error> {
    let subject = event.subject;
    let actor_owner = event.actor.subject.or(subject);
    f("actor.ip", actor_owner, &mut event.actor.ip)?;
    f("actor.user_agent", actor_owner, &mut event.actor.user_agent)?;
    for (i, change) in event.changes.iter_mut().enumerate() {
        f(&format!("changes.{i}.before"), subject, &mut change.before)?;
        f(&format!("changes.{i}.after"), subject, &mut change.after)?;
    }
    f("note", subject, &mut event.note)
}

/// Calls `f(path, owner, value)` for every personal value of `event`.
fn for_each_value(
    event: &mut Event,
    mut f: impl FnMut(&str, Option<SubjectId>, &mut Personal) -> Result<(), Error>,
) -> Result<(), Error> {
    for_each_slot(event, |path, owner, slot| match slot {
        Some(value) => f(path, owner, value),
        None => Ok(()),
    })
}

/// Seals every clear personal value of `event` under its owner's key (see the
/// [module documentation](self)). Values labelled sealed are left alone: one
/// that is not an envelope under its labelled subject's key
/// ([`Personal::is_sealed`]) stays as it is, and a log requiring sealed
/// values refuses it.
pub fn seal_event<S: KeyStore>(vault: &SubjectVault<S>, event: &mut Event) -> Result<(), Error> {
    let tenant = event.tenant;
    let id = event.id.to_string();
    for_each_value(event, |path, owner, value| {
        let Personal::Clear(text) = value else {
            return Ok(());
        };
        let subject = owner.ok_or_else(|| Error::NoSubject {
            event: id.clone(),
            field: path.to_owned(),
        })?;
        let ctx = FieldContext::new(tenant, RECORD_TYPE, &id, path)?;
        let sealed = vault.seal(subject, &ctx, text.as_bytes())?;
        *value = Personal::Sealed { subject, sealed };
        Ok(())
    })
}

/// [`seal_event`] for an event that must be recorded even about an erased
/// person (a web request's audit event): when an owner's key was shredded,
/// the values still in the clear are dropped instead (they can be neither
/// sealed nor kept clear) and the event is kept.
pub fn seal_event_or_drop_erased<S: KeyStore>(
    vault: &SubjectVault<S>,
    event: &mut Event,
) -> Result<(), Error> {
    match seal_event(vault, event) {
        Err(Error::Crypt(
            custodia_crypt::Error::Shredded { .. } | custodia_crypt::Error::TenantShredded { .. },
        )) => {
            drop_clear_values(event);
            Ok(())
        }
        other => other,
    }
}

fn drop_clear_values(event: &mut Event) {
    // (The closure never fails.)
    let _ = for_each_slot(event, |_, _, slot| {
        if slot.as_ref().is_some_and(|p| !p.is_sealed()) {
            *slot = None;
        }
        Ok(())
    });
}

/// The first field not sealed, if any (`actor.ip`, `note`, …): in the
/// clear, or labelled sealed but not an envelope under the labelled
/// subject's key ([`Personal::is_sealed`]), which may hold clear data.
pub fn first_clear_field(event: &Event) -> Option<String> {
    let clear = |v: &Option<Personal>| v.as_ref().is_some_and(|v| !v.is_sealed());
    if clear(&event.actor.ip) {
        return Some("actor.ip".into());
    }
    if clear(&event.actor.user_agent) {
        return Some("actor.user_agent".into());
    }
    for (i, change) in event.changes.iter().enumerate() {
        if clear(&change.before) {
            return Some(format!("changes.{i}.before"));
        }
        if clear(&change.after) {
            return Some(format!("changes.{i}.after"));
        }
    }
    clear(&event.note).then(|| "note".into())
}

/// Why one of a person's sealed values could not be read although the
/// vault works: what an export shows in its place (never the value's
/// bytes). See [`read_value`] for how this is told apart from a vault that
/// cannot read at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Unreadable {
    /// Labelled the person's, but the bytes are no envelope this build
    /// reads (truncated, malformed, of an unknown version or algorithm,
    /// oversized), or they open to text that is not UTF-8.
    Damaged,
    /// The envelope does not authenticate under the person's key, which
    /// the vault does use: modified, forged, or moved from another event
    /// or field.
    NotAuthentic,
    /// The envelope names a version of the person's key that the vault
    /// does not hold (the vault holds their key).
    UnknownKey,
    /// The tenant's keys were shredded (offboarding): the value went with
    /// them.
    TenantShredded,
}

impl Unreadable {
    /// The name used in JSON: `damaged`, `not_authentic`, `unknown_key`,
    /// `tenant_shredded`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Unreadable::Damaged => "damaged",
            Unreadable::NotAuthentic => "not_authentic",
            Unreadable::UnknownKey => "unknown_key",
            Unreadable::TenantShredded => "tenant_shredded",
        }
    }
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value left out of an export because it could not be read: its path
/// (`actor.ip`, `changes.0.after`, `note`) and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UnreadableValue {
    /// Where it was in the event.
    pub path: String,
    /// Why it could not be read.
    pub reason: Unreadable,
}

/// The context of the probe [`read_value`] seals to check that the vault
/// uses a person's key (sealed, never stored).
const PROBE_ID: &str = "key-probe";

/// [`open_value`] for an export that must not fail as a whole over one bad
/// value, nor hide a vault that cannot read: `Ok(Ok(_))` is the value (or
/// [`Revealed::Erased`]), `Ok(Err(reason))` a value that cannot be read
/// while the vault can ([`Unreadable`]), and `Err` a vault that cannot
/// read, which the caller reports rather than exporting around it.
///
/// How the two are told apart: errors about the envelope's bytes
/// (undecodable, not UTF-8) and a tenant shred are the value's. A failed
/// authentication is the value's only once the person's key is shown to
/// work: the vault must find the key in its store and seal a probe with it
/// (nothing is stored); a vault with the wrong root key, or a damaged
/// wrapped key, fails that probe and the error is returned. An envelope
/// naming a key version the vault does not hold is the value's when the
/// store has the person's key and it passes the same probe; a missing key
/// on the way to it (the root-key version or tenant data key that wraps
/// the person's key) is the vault's. With no key at all for the person the
/// vault (a wrong or partly restored key store) is at fault, and the error
/// is returned. Every other error (the key store down or refusing, a
/// blocked async runtime) is the vault's.
pub fn read_value<S: KeyStore>(
    vault: &SubjectVault<S>,
    tenant: custodia_core::TenantId,
    event_id: &str,
    path: &str,
    value: &Personal,
) -> Result<Result<Revealed, Unreadable>, Error> {
    use custodia_crypt::Error as Crypt;
    let sealed = match value {
        Personal::Clear(text) => return Ok(Ok(Revealed::Value(text.clone()))),
        Personal::Sealed { sealed, .. } => sealed,
    };
    let Ok(envelope) = custodia_crypt::Envelope::decode(sealed) else {
        return Ok(Err(Unreadable::Damaged));
    };
    let ctx = FieldContext::new(tenant, RECORD_TYPE, event_id, path)?;
    let failed = match vault.open(&ctx, sealed) {
        Ok(bytes) => {
            return Ok(String::from_utf8(bytes)
                .map(Revealed::Value)
                .map_err(|_| Unreadable::Damaged));
        }
        Err(Crypt::Shredded { .. }) => return Ok(Ok(Revealed::Erased)),
        Err(Crypt::TenantShredded { .. }) => return Ok(Err(Unreadable::TenantShredded)),
        Err(
            Crypt::Truncated { .. }
            | Crypt::Oversized { .. }
            | Crypt::UnsupportedVersion(_)
            | Crypt::UnsupportedAlgorithm(_)
            | Crypt::Malformed(_),
        ) => return Ok(Err(Unreadable::Damaged)),
        // A key the vault needs on the way to the envelope's (the root-key
        // version or tenant data key wrapping the person's key) is missing:
        // the vault's fault, whatever the envelope says.
        Err(Crypt::UnknownKey(id)) if id != envelope.key_id() => {
            return Err(Crypt::UnknownKey(id).into());
        }
        Err(e @ (Crypt::Decrypt | Crypt::UnknownKey(_))) => e,
        Err(e) => return Err(e.into()),
    };
    // Authentication failed, or the key is not there: the value's fault
    // only if the vault holds and uses the person's key.
    let custodia_crypt::KeyId::Subject { subject, .. } = envelope.key_id() else {
        return Err(failed.into());
    };
    match vault.store().get(tenant, subject)? {
        Some(custodia_crypt::StoredSubjectKey::Shredded(_)) => Ok(Ok(Revealed::Erased)),
        None => Err(failed.into()),
        Some(custodia_crypt::StoredSubjectKey::Wrapped { .. }) => {
            let probe = FieldContext::new(tenant, RECORD_TYPE, PROBE_ID, path)?;
            match vault.seal(subject, &probe, &[]) {
                Ok(_) if matches!(failed, Crypt::UnknownKey(_)) => Ok(Err(Unreadable::UnknownKey)),
                Ok(_) => Ok(Err(Unreadable::NotAuthentic)),
                Err(Crypt::Shredded { .. }) => Ok(Ok(Revealed::Erased)),
                Err(e) => Err(e.into()),
            }
        }
    }
}

/// An event with its personal values opened.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RevealedEvent {
    /// The event, with every readable sealed value replaced by its clear text;
    /// erased values stay sealed (unreadable).
    pub event: Event,
    /// Paths of the values that were erased (their key is shredded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub erased: Vec<String>,
    /// Paths of the values left out because another person owns them
    /// ([`reveal_event_for`] only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<String>,
    /// The owner's values left out because they could not be read though
    /// the vault works ([`reveal_event_for`] only; see [`read_value`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<UnreadableValue>,
}

/// Opens every sealed value of `event`; values whose subject's key was
/// shredded come back listed in [`RevealedEvent::erased`].
pub fn reveal_event<S: KeyStore>(
    vault: &SubjectVault<S>,
    event: &Event,
) -> Result<RevealedEvent, Error> {
    let mut copy = event.clone();
    let tenant = event.tenant;
    let id = event.id.to_string();
    let mut erased = Vec::new();
    for_each_value(&mut copy, |path, _, value| {
        if let Revealed::Value(text) = open_value(vault, tenant, &id, path, value)? {
            *value = Personal::Clear(text);
        } else {
            erased.push(path.to_owned());
        }
        Ok(())
    })?;
    Ok(RevealedEvent {
        event: copy,
        erased,
        withheld: Vec::new(),
        unreadable: Vec::new(),
    })
}

/// `event` as shown to `subject` in their own export (GDPR Art. 15(4): an
/// access request must not disclose other people's data): the values
/// `subject` owns are opened with `vault` (when given; erased ones stay
/// sealed and are listed in [`RevealedEvent::erased`]); every value owned
/// by someone else (the agent's IP address in an event about a customer,
/// the customer's changed email in the agent's own export) is left out and
/// its path listed in [`RevealedEvent::withheld`]. A sealed value's owner is
/// the subject whose key sealed it, as both its label and its envelope's
/// key id say (a value whose two disagree, or sealed under a tenant key, is
/// withheld); a clear value's, the owner the module documentation gives its
/// field.
///
/// One of `subject`'s values that cannot be read while the vault works (a
/// damaged or forged envelope labelled theirs, a tenant shred: see
/// [`read_value`]) is left out, no byte of it kept, and listed with the
/// reason in [`RevealedEvent::unreadable`]: the rest of the event is still
/// theirs to see. A vault that cannot read (its store down, the wrong
/// root key) is an error. Without a vault, a value labelled theirs that is
/// no envelope at all is listed unreadable too (it is nobody else's).
pub fn reveal_event_for<S: KeyStore>(
    vault: Option<&SubjectVault<S>>,
    event: &Event,
    subject: SubjectId,
) -> Result<RevealedEvent, Error> {
    let mut copy = event.clone();
    let tenant = event.tenant;
    let id = event.id.to_string();
    let (mut erased, mut withheld, mut unreadable) = (Vec::new(), Vec::new(), Vec::new());
    for_each_slot(&mut copy, |path, field_owner, slot| {
        let Some(value) = slot else {
            return Ok(());
        };
        // Labelled theirs but no envelope: whoever sealed it, nobody can
        // read it, and it is not another person's to withhold.
        if let Personal::Sealed {
            subject: label,
            sealed,
        } = &*value
            && *label == subject
            && custodia_crypt::Envelope::decode(sealed).is_err()
        {
            unreadable.push(UnreadableValue {
                path: path.to_owned(),
                reason: Unreadable::Damaged,
            });
            *slot = None;
            return Ok(());
        }
        let owner = match value {
            // The label and the envelope's own key id must agree: a value
            // labelled as Alice's but sealed under another key (a tenant
            // key, Bob's) is nobody's to be shown here.
            Personal::Sealed { .. } => value.sealer(),
            Personal::Clear(_) => field_owner,
        };
        if owner != Some(subject) {
            withheld.push(path.to_owned());
            *slot = None;
            return Ok(());
        }
        if let (Some(vault), Personal::Sealed { .. }) = (vault, &*value) {
            match read_value(vault, tenant, &id, path, value)? {
                Ok(Revealed::Value(text)) => *value = Personal::Clear(text),
                Ok(Revealed::Erased) => erased.push(path.to_owned()),
                Err(reason) => {
                    unreadable.push(UnreadableValue {
                        path: path.to_owned(),
                        reason,
                    });
                    *slot = None;
                }
            }
        }
        Ok(())
    })?;
    Ok(RevealedEvent {
        event: copy,
        erased,
        withheld,
        unreadable,
    })
}

/// Opens one personal value found at `path` of event `event_id`.
pub fn open_value<S: KeyStore>(
    vault: &SubjectVault<S>,
    tenant: custodia_core::TenantId,
    event_id: &str,
    path: &str,
    value: &Personal,
) -> Result<Revealed, Error> {
    match value {
        Personal::Clear(text) => Ok(Revealed::Value(text.clone())),
        Personal::Sealed { sealed, .. } => {
            let ctx = FieldContext::new(tenant, RECORD_TYPE, event_id, path)?;
            match vault.open(&ctx, sealed) {
                Ok(bytes) => String::from_utf8(bytes)
                    .map(Revealed::Value)
                    .map_err(|_| Error::InvalidEvent(format!("sealed {path} is not UTF-8"))),
                Err(custodia_crypt::Error::Shredded { .. }) => Ok(Revealed::Erased),
                Err(e) => Err(e.into()),
            }
        }
    }
}
