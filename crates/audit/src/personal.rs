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
pub fn reveal_event_for<S: KeyStore>(
    vault: Option<&SubjectVault<S>>,
    event: &Event,
    subject: SubjectId,
) -> Result<RevealedEvent, Error> {
    let mut copy = event.clone();
    let tenant = event.tenant;
    let id = event.id.to_string();
    let (mut erased, mut withheld) = (Vec::new(), Vec::new());
    for_each_slot(&mut copy, |path, field_owner, slot| {
        let Some(value) = slot else {
            return Ok(());
        };
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
            match open_value(vault, tenant, &id, path, value)? {
                Revealed::Value(text) => *value = Personal::Clear(text),
                Revealed::Erased => erased.push(path.to_owned()),
            }
        }
        Ok(())
    })?;
    Ok(RevealedEvent {
        event: copy,
        erased,
        withheld,
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
