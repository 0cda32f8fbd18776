//! The canonical byte encoding of an [`Event`]: what the Merkle leaf hashes.
//!
//! One event has exactly one encoding, and [`decode`] accepts only encodings
//! [`encode`] could have produced (so `encode(decode(b)) == b` for every
//! accepted `b`): the same event always hashes the same, and no two byte
//! strings stand for one event.
//!
//! # Format, version 1
//!
//! All integers big-endian. `str` is a `u32` byte length then UTF-8;
//! `bytes` is a `u32` length then the bytes; `opt<T>` is `0x00` (absent) or
//! `0x01` then `T`; `uuid` is 16 bytes.
//!
//! | field | encoding |
//! |---|---|
//! | magic, version | `"CAE"`, `0x01` |
//! | id | uuid (a UUIDv7) |
//! | tenant | uuid |
//! | time | `i64` Unix seconds, `u32` nanoseconds (`< 2·10⁹`, leap seconds allowed) |
//! | actor kind | name (below) |
//! | actor id | uuid |
//! | actor subject | `opt<uuid>` |
//! | actor ip, actor user agent | `opt<personal>` each |
//! | action | name |
//! | target type, target id | str, str |
//! | subject | `opt<uuid>` |
//! | changes | `u32` count, then per change: field str, category str, `opt<personal>` before, `opt<personal>` after |
//! | purpose | `opt<str>` |
//! | legal basis | `u8`: 0 absent, 1–6 in the order of Art. 6(1)(a)–(f) |
//! | outcome | `u8`: 1 success, 2 failure, 3 denied |
//! | request id | `opt<str>` |
//! | note | `opt<personal>` |
//!
//! A *name* (action, actor kind) is one byte: a built-in tag (1–254), or
//! `0xFF` followed by a `str` custom name that is not a built-in name. A
//! *personal* value is `0x00` then a `str` (clear), or `0x01`, the owning
//! subject's uuid and `bytes` (a sealed `custodia-crypt` envelope).
//! Nothing may follow the note.
//!
//! ```
//! use custodia_audit::canonical;
//! # use custodia_audit::{Action, Actor, ActorKind, Event, Target};
//! # use custodia_core::{ActorId, SystemClock, TenantId};
//! # let tenant = TenantId::from_external_key("crm", "ACME");
//! # let actor = Actor::new(ActorKind::Agent, ActorId::from_external_key(tenant, "psa.user", "7"));
//! let event = Event::builder(tenant, actor, Action::Read, Target::new("ticket", "T-1")?)
//!     .build(&SystemClock)?;
//! let bytes = canonical::encode(&event);
//! assert_eq!(&bytes[..4], b"CAE\x01");
//! assert_eq!(canonical::decode(&bytes)?, event);
//! # Ok::<(), custodia_audit::Error>(())
//! ```

use std::str::FromStr;

use custodia_core::chrono::DateTime;
use custodia_core::uuid::Uuid;
use custodia_core::{ActorId, DataCategory, LegalBasis, Purpose, SubjectId, TenantId};

use crate::Error;
use crate::event::{
    Action, Actor, ActorKind, Event, EventId, FieldChange, MAX_CHANGES, MAX_LABEL_LEN,
    MAX_VALUE_LEN, Outcome, Personal, Target,
};

/// The magic bytes that open every encoded event.
pub const MAGIC: &[u8; 3] = b"CAE";
/// The encoding version this build writes and reads.
pub const VERSION: u8 = 1;

const CUSTOM_TAG: u8 = 0xff;

/// Encodes `event` canonically (appending to `out`).
pub fn encode_into(event: &Event, out: &mut Vec<u8>) {
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.extend_from_slice(event.id.as_bytes());
    out.extend_from_slice(event.tenant.as_bytes());
    out.extend_from_slice(&event.time.timestamp().to_be_bytes());
    out.extend_from_slice(&event.time.timestamp_subsec_nanos().to_be_bytes());
    put_name(out, event.actor.kind.tag(), event.actor.kind.as_str());
    out.extend_from_slice(event.actor.id.as_bytes());
    put_opt_uuid(out, event.actor.subject.as_ref().map(SubjectId::as_bytes));
    put_opt_personal(out, event.actor.ip.as_ref());
    put_opt_personal(out, event.actor.user_agent.as_ref());
    put_name(out, event.action.tag(), event.action.as_str());
    put_str(out, &event.target.kind);
    put_str(out, &event.target.id);
    put_opt_uuid(out, event.subject.as_ref().map(SubjectId::as_bytes));
    put_len(out, event.changes.len());
    for change in &event.changes {
        put_str(out, &change.field);
        put_str(out, change.category.as_str());
        put_opt_personal(out, change.before.as_ref());
        put_opt_personal(out, change.after.as_ref());
    }
    match &event.purpose {
        None => out.push(0),
        Some(p) => {
            out.push(1);
            put_str(out, p.as_str());
        }
    }
    out.push(match event.legal_basis {
        None => 0,
        Some(basis) => legal_tag(basis),
    });
    out.push(event.outcome.tag());
    match &event.request_id {
        None => out.push(0),
        Some(r) => {
            out.push(1);
            put_str(out, r);
        }
    }
    put_opt_personal(out, event.note.as_ref());
}

/// The length of `event`'s canonical encoding (an upper bound for custom
/// names, exact otherwise), to size buffers without reallocating.
pub fn encoded_len(event: &Event) -> usize {
    fn personal(v: &Option<Personal>) -> usize {
        match v {
            None => 1,
            Some(Personal::Clear(t)) => 6 + t.len(),
            Some(Personal::Sealed { sealed, .. }) => 22 + sealed.len(),
        }
    }
    let custom = |name: &str| 4 + name.len();
    let mut len = 4 + 16 + 16 + 12 + 1 + custom(event.actor.kind.as_str()) + 16 + 17;
    len += personal(&event.actor.ip) + personal(&event.actor.user_agent);
    len += 1 + custom(event.action.as_str());
    len += 8 + event.target.kind.len() + event.target.id.len() + 17 + 4;
    for change in &event.changes {
        len += 8 + change.field.len() + change.category.as_str().len();
        len += personal(&change.before) + personal(&change.after);
    }
    len += 5 + event.purpose.as_ref().map_or(0, |p| p.as_str().len()) + 2;
    len += 5 + event.request_id.as_ref().map_or(0, String::len) + personal(&event.note);
    len
}

/// Encodes `event` canonically.
pub fn encode(event: &Event) -> Vec<u8> {
    let mut out = Vec::with_capacity(encoded_len(event));
    encode_into(event, &mut out);
    out
}

fn legal_tag(basis: LegalBasis) -> u8 {
    LegalBasis::ALL
        .iter()
        .position(|b| *b == basis)
        .map_or(0, |i| i as u8 + 1)
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    // Lengths are bounded by `Event::validate`; saturate rather than wrap.
    out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_len(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn put_name(out: &mut Vec<u8>, tag: u8, name: &str) {
    out.push(tag);
    if tag == CUSTOM_TAG {
        put_str(out, name);
    }
}

fn put_opt_uuid(out: &mut Vec<u8>, id: Option<&[u8; 16]>) {
    match id {
        None => out.push(0),
        Some(bytes) => {
            out.push(1);
            out.extend_from_slice(bytes);
        }
    }
}

fn put_opt_personal(out: &mut Vec<u8>, value: Option<&Personal>) {
    match value {
        None => out.push(0),
        Some(value) => {
            out.push(1);
            match value {
                Personal::Clear(text) => {
                    out.push(0);
                    put_str(out, text);
                }
                Personal::Sealed { subject, sealed } => {
                    out.push(1);
                    out.extend_from_slice(subject.as_bytes());
                    put_len(out, sealed.len());
                    out.extend_from_slice(sealed);
                }
            }
        }
    }
}

/// A cursor over an encoded event that never reads past the end.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    #[cold]
    #[inline(never)]
    fn fail(&self, what: &str) -> Error {
        Error::Decode {
            offset: self.pos,
            reason: what.to_owned(),
        }
    }

    #[cold]
    #[inline(never)]
    fn truncated(&self, what: &str) -> Error {
        self.fail(&format!("truncated {what}"))
    }

    #[inline]
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], Error> {
        match self.bytes.get(self.pos..).and_then(|rest| rest.get(..n)) {
            Some(slice) => {
                self.pos += n;
                Ok(slice)
            }
            None => Err(self.truncated(what)),
        }
    }

    #[inline]
    fn u8(&mut self, what: &str) -> Result<u8, Error> {
        Ok(self.take(1, what)?[0])
    }

    #[inline]
    fn u32(&mut self, what: &str) -> Result<u32, Error> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    #[inline]
    fn i64(&mut self, what: &str) -> Result<i64, Error> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_be_bytes(a))
    }

    #[inline]
    fn uuid(&mut self, what: &str) -> Result<Uuid, Error> {
        let b = self.take(16, what)?;
        let mut a = [0u8; 16];
        a.copy_from_slice(b);
        Ok(Uuid::from_bytes(a))
    }

    #[inline]
    fn flag(&mut self, what: &str) -> Result<bool, Error> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            _ => {
                self.pos -= 1;
                Err(self.fail(&format!("{what}: presence flag must be 0 or 1")))
            }
        }
    }

    #[inline]
    fn bytes(&mut self, max: usize, what: &str) -> Result<&'a [u8], Error> {
        let len = self.u32(what)? as usize;
        if len > max {
            self.pos -= 4;
            return Err(self.fail(&format!("{what}: length {len} exceeds {max}")));
        }
        self.take(len, what)
    }

    #[inline]
    fn str(&mut self, max: usize, what: &str) -> Result<&'a str, Error> {
        let start = self.pos;
        let bytes = self.bytes(max, what)?;
        std::str::from_utf8(bytes).map_err(|_| Error::Decode {
            offset: start,
            reason: format!("{what}: not UTF-8"),
        })
    }

    #[inline]
    fn opt_uuid(&mut self, what: &str) -> Result<Option<Uuid>, Error> {
        if self.flag(what)? {
            Ok(Some(self.uuid(what)?))
        } else {
            Ok(None)
        }
    }

    fn opt_personal(&mut self, what: &str) -> Result<Option<Personal>, Error> {
        if !self.flag(what)? {
            return Ok(None);
        }
        Ok(Some(if self.flag(what)? {
            let subject = SubjectId::from_uuid(self.uuid(what)?);
            let sealed = self.bytes(MAX_VALUE_LEN, what)?.to_vec();
            Personal::Sealed { subject, sealed }
        } else {
            Personal::Clear(self.str(MAX_VALUE_LEN, what)?.to_owned())
        }))
    }

    fn name<T>(
        &mut self,
        what: &str,
        from_tag: fn(u8) -> Option<T>,
        custom: fn(String) -> Result<T, Error>,
        is_custom: fn(&T) -> bool,
    ) -> Result<T, Error> {
        let start = self.pos;
        let tag = self.u8(what)?;
        if tag == CUSTOM_TAG {
            let name = self.str(crate::event::MAX_NAME_LEN, what)?;
            let value = custom(name.to_owned()).map_err(|e| Error::Decode {
                offset: start,
                reason: e.to_string(),
            })?;
            if !is_custom(&value) {
                return Err(Error::Decode {
                    offset: start,
                    reason: format!("{what}: custom name {name:?} is a built-in name"),
                });
            }
            Ok(value)
        } else {
            from_tag(tag).ok_or_else(|| Error::Decode {
                offset: start,
                reason: format!("{what}: unknown tag {tag}"),
            })
        }
    }
}

/// Whether `s` is a valid purpose name (the rules of `custodia_core::Purpose`).
fn purpose_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= custodia_core::MAX_PURPOSE_LEN
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'))
}

impl Reader<'_> {
    /// Skips an `opt<personal>`; true when it holds a value in the clear.
    #[inline]
    /// Skips an `opt<personal>`; whether it is a value not sealed (clear,
    /// or, when `seals` is set, labelled sealed but not an envelope under
    /// the labelled subject's key: [`Personal::is_sealed`]).
    fn skip_opt_personal(&mut self, what: &str, seals: bool) -> Result<bool, Error> {
        if self.flag(what)? {
            if self.flag(what)? {
                let subject = self.take(16, what)?;
                let sealed = self.bytes(MAX_VALUE_LEN, what)?;
                if seals {
                    let mut id = [0u8; 16];
                    id.copy_from_slice(subject);
                    let subject = SubjectId::from_uuid(Uuid::from_bytes(id));
                    return Ok(!crate::event::sealed_under(subject, sealed));
                }
            } else {
                self.str(MAX_VALUE_LEN, what)?;
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn skip_name<T>(
        &mut self,
        what: &str,
        from_tag: fn(u8) -> Option<T>,
        custom: fn(String) -> Result<T, Error>,
        is_custom: fn(&T) -> bool,
    ) -> Result<(), Error> {
        let start = self.pos;
        if self.u8(what)? == CUSTOM_TAG {
            self.pos = start;
            self.name(what, from_tag, custom, is_custom)?;
        } else {
            self.pos = start;
            let tag = self.u8(what)?;
            from_tag(tag).ok_or_else(|| Error::Decode {
                offset: start,
                reason: format!("{what}: unknown tag {tag}"),
            })?;
        }
        Ok(())
    }
}

/// Checks that `bytes` is a canonical event without building it: accepts
/// exactly what [`decode`] accepts (a property test pins this), allocating
/// only for custom names. What a verifier runs on every record.
pub fn check(bytes: &[u8]) -> Result<(), Error> {
    walk(bytes, false).map(|_| ())
}

/// [`check`], also naming the first personal value not sealed (in the
/// clear, or labelled sealed but not an envelope under the labelled
/// subject's key), as
/// [`personal::first_clear_field`](crate::personal::first_clear_field)
/// names it on the decoded event (`actor.ip`, `changes.0.after`, `note`,
/// …; a property test pins both). One pass over the bytes, building no
/// event: what [`AuditLog::append_encoded`](crate::AuditLog::append_encoded)
/// runs on each record when it refuses clear personal data.
pub fn first_clear_field(bytes: &[u8]) -> Result<Option<String>, Error> {
    Ok(walk(bytes, true)?.map(|clear| match clear {
        Clear::ActorIp => "actor.ip".to_owned(),
        Clear::ActorUserAgent => "actor.user_agent".to_owned(),
        Clear::Before(i) => format!("changes.{i}.before"),
        Clear::After(i) => format!("changes.{i}.after"),
        Clear::Note => "note".to_owned(),
    }))
}

/// The id of an event [`check`] accepted (its bytes 4 to 20).
pub(crate) fn event_id(bytes: &[u8]) -> Option<EventId> {
    let id: [u8; 16] = bytes.get(4..20)?.try_into().ok()?;
    Some(EventId::from_uuid(Uuid::from_bytes(id)))
}

/// Where [`walk`] saw the first personal value in the clear.
enum Clear {
    ActorIp,
    ActorUserAgent,
    Before(usize),
    After(usize),
    Note,
}

/// [`check`]'s pass, keeping the first personal value's place that is not
/// sealed (with `seals`, telling envelopes under the labelled subject's key
/// from other bytes labelled sealed; without, only clear values count, and
/// no envelope is read).
fn walk(bytes: &[u8], seals: bool) -> Result<Option<Clear>, Error> {
    let mut clear = None;
    let mut saw = |is_clear: bool, at: Clear| {
        if is_clear && clear.is_none() {
            clear = Some(at);
        }
    };
    let fail = |offset: usize, reason: &str| Error::Decode {
        offset,
        reason: reason.to_owned(),
    };
    let mut r = Reader { bytes, pos: 0 };
    if r.take(3, "magic")? != MAGIC {
        return Err(fail(0, "not a Custodia audit event (bad magic)"));
    }
    let version = r.u8("version")?;
    if version != VERSION {
        return Err(fail(
            3,
            &format!("unsupported event encoding version {version}"),
        ));
    }
    r.take(32, "id and tenant")?;
    let time_at = r.pos;
    let secs = r.i64("time")?;
    let nanos = r.u32("time")?;
    if DateTime::from_timestamp(secs, nanos).is_none() {
        return Err(fail(time_at, "time out of range"));
    }
    r.skip_name("actor kind", ActorKind::from_tag, ActorKind::custom, |k| {
        matches!(k, ActorKind::Custom(_))
    })?;
    r.take(16, "actor id")?;
    r.opt_uuid("actor subject")?;
    saw(r.skip_opt_personal("actor ip", seals)?, Clear::ActorIp);
    saw(
        r.skip_opt_personal("actor user agent", seals)?,
        Clear::ActorUserAgent,
    );
    r.skip_name("action", Action::from_tag, Action::custom, |a| {
        matches!(a, Action::Custom(_))
    })?;
    let target_at = r.pos;
    if r.str(MAX_LABEL_LEN, "target type")?.is_empty() {
        return Err(fail(target_at, "empty target type"));
    }
    r.str(MAX_LABEL_LEN, "target id")?;
    r.opt_uuid("subject")?;
    let count = r.u32("change count")? as usize;
    if count > MAX_CHANGES {
        return Err(fail(
            r.pos - 4,
            &format!("{count} field changes, at most {MAX_CHANGES}"),
        ));
    }
    for i in 0..count {
        let field_at = r.pos;
        if r.str(MAX_LABEL_LEN, "field name")?.is_empty() {
            return Err(fail(field_at, "empty field name"));
        }
        let category_at = r.pos;
        if !custodia_core::is_well_formed_category(r.str(255, "category")?) {
            // Let the core parser word the error.
            let text = &bytes[category_at + 4..r.pos];
            let reason = std::str::from_utf8(text)
                .ok()
                .and_then(|t| DataCategory::from_str(t).err())
                .map_or_else(|| "invalid category".to_owned(), |e| e.to_string());
            return Err(fail(category_at, &reason));
        }
        saw(
            r.skip_opt_personal("before value", seals)?,
            Clear::Before(i),
        );
        saw(r.skip_opt_personal("after value", seals)?, Clear::After(i));
    }
    if r.flag("purpose")? {
        let at = r.pos;
        if !purpose_ok(r.str(64, "purpose")?) {
            return Err(fail(at, "invalid purpose"));
        }
    }
    let basis_at = r.pos;
    let basis = r.u8("legal basis")?;
    if usize::from(basis) > LegalBasis::ALL.len() {
        return Err(fail(basis_at, &format!("legal basis: unknown tag {basis}")));
    }
    let outcome_at = r.pos;
    let outcome = r.u8("outcome")?;
    if Outcome::from_tag(outcome).is_none() {
        return Err(fail(outcome_at, &format!("outcome: unknown tag {outcome}")));
    }
    if r.flag("request id")? {
        let at = r.pos;
        if r.str(MAX_LABEL_LEN, "request id")?.is_empty() {
            return Err(fail(at, "empty request id"));
        }
    }
    saw(r.skip_opt_personal("note", seals)?, Clear::Note);
    if r.pos != bytes.len() {
        return Err(fail(
            r.pos,
            &format!("{} trailing bytes", bytes.len() - r.pos),
        ));
    }
    Ok(clear)
}

/// Decodes a canonical event. Never panics; rejects anything [`encode`] would
/// not produce, saying at which byte offset and why.
pub fn decode(bytes: &[u8]) -> Result<Event, Error> {
    let mut r = Reader { bytes, pos: 0 };
    if r.take(3, "magic")? != MAGIC {
        return Err(Error::Decode {
            offset: 0,
            reason: "not a Custodia audit event (bad magic)".into(),
        });
    }
    let version = r.u8("version")?;
    if version != VERSION {
        return Err(Error::Decode {
            offset: 3,
            reason: format!("unsupported event encoding version {version}"),
        });
    }
    let id = EventId::from_uuid(r.uuid("id")?);
    let tenant = TenantId::from_uuid(r.uuid("tenant")?);
    let time_at = r.pos;
    let secs = r.i64("time")?;
    let nanos = r.u32("time")?;
    let time = DateTime::from_timestamp(secs, nanos).ok_or(Error::Decode {
        offset: time_at,
        reason: "time out of range".into(),
    })?;
    let kind = r.name("actor kind", ActorKind::from_tag, ActorKind::custom, |k| {
        matches!(k, ActorKind::Custom(_))
    })?;
    let actor_id = ActorId::from_uuid(r.uuid("actor id")?);
    let actor_subject = r.opt_uuid("actor subject")?.map(SubjectId::from_uuid);
    let ip = r.opt_personal("actor ip")?;
    let user_agent = r.opt_personal("actor user agent")?;
    let action = r.name("action", Action::from_tag, Action::custom, |a| {
        matches!(a, Action::Custom(_))
    })?;
    let target_at = r.pos;
    let target = Target {
        kind: r.str(MAX_LABEL_LEN, "target type")?.to_owned(),
        id: r.str(MAX_LABEL_LEN, "target id")?.to_owned(),
    };
    if target.kind.is_empty() {
        return Err(Error::Decode {
            offset: target_at,
            reason: "empty target type".into(),
        });
    }
    let subject = r.opt_uuid("subject")?.map(SubjectId::from_uuid);
    let count = r.u32("change count")? as usize;
    if count > MAX_CHANGES {
        return Err(Error::Decode {
            offset: r.pos - 4,
            reason: format!("{count} field changes, at most {MAX_CHANGES}"),
        });
    }
    let mut changes = Vec::with_capacity(count.min(16));
    for _ in 0..count {
        let field_at = r.pos;
        let field = r.str(MAX_LABEL_LEN, "field name")?.to_owned();
        if field.is_empty() {
            return Err(Error::Decode {
                offset: field_at,
                reason: "empty field name".into(),
            });
        }
        let category_at = r.pos;
        let category =
            DataCategory::from_string(r.str(255, "category")?.to_owned()).map_err(|e| {
                Error::Decode {
                    offset: category_at,
                    reason: e.to_string(),
                }
            })?;
        let before = r.opt_personal("before value")?;
        let after = r.opt_personal("after value")?;
        changes.push(FieldChange {
            field,
            category,
            before,
            after,
        });
    }
    let purpose = if r.flag("purpose")? {
        let at = r.pos;
        Some(
            Purpose::new(r.str(64, "purpose")?.to_owned()).map_err(|e| Error::Decode {
                offset: at,
                reason: e.to_string(),
            })?,
        )
    } else {
        None
    };
    let basis_at = r.pos;
    let legal_basis = match r.u8("legal basis")? {
        0 => None,
        n => Some(
            *LegalBasis::ALL
                .get(usize::from(n) - 1)
                .ok_or_else(|| Error::Decode {
                    offset: basis_at,
                    reason: format!("legal basis: unknown tag {n}"),
                })?,
        ),
    };
    let outcome_at = r.pos;
    let outcome_tag = r.u8("outcome")?;
    let outcome = Outcome::from_tag(outcome_tag).ok_or_else(|| Error::Decode {
        offset: outcome_at,
        reason: format!("outcome: unknown tag {outcome_tag}"),
    })?;
    let request_id = if r.flag("request id")? {
        let at = r.pos;
        let id = r.str(MAX_LABEL_LEN, "request id")?;
        if id.is_empty() {
            return Err(Error::Decode {
                offset: at,
                reason: "empty request id".into(),
            });
        }
        Some(id.to_owned())
    } else {
        None
    };
    let note = r.opt_personal("note")?;
    if r.pos != bytes.len() {
        return Err(Error::Decode {
            offset: r.pos,
            reason: format!("{} trailing bytes", bytes.len() - r.pos),
        });
    }
    Ok(Event {
        id,
        tenant,
        time,
        actor: Actor {
            kind,
            id: actor_id,
            subject: actor_subject,
            ip,
            user_agent,
        },
        action,
        target,
        subject,
        changes,
        purpose,
        legal_basis,
        outcome,
        request_id,
        note,
    })
}
