//! The helpdesk's audit trail: every change and every data-subject step.
//!
//! Today the trail is an in-memory list ([`MemoryTrail`]). The helpdesk only
//! talks to the [`AuditTrail`] trait, and data-subject requests reach it
//! through custodia-dsr's [`AuditSink`] seam ([`DsrAudit`]), so the
//! tamper-evident Merkle log of `custodia-audit` can replace the list without
//! touching the flow. Entries carry ids, names and counts, never field values.

use std::sync::{Arc, Mutex, PoisonError};

use custodia::core::{ActorId, SubjectId, TenantId, Timestamp};
use custodia::dsr::{AuditSink, BoxError, DsrEvent};

/// One audited change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// When.
    pub at: Timestamp,
    /// Whose data; `None` for a vendor-wide step.
    pub tenant: Option<TenantId>,
    /// The person concerned, if one.
    pub subject: Option<SubjectId>,
    /// Who acted, if a person did.
    pub actor: Option<ActorId>,
    /// What happened: `ticket.created`, `ai.sent`, `dsr.subject_key_shredded`, ...
    pub action: String,
    /// Ids and counts (never personal values).
    pub detail: String,
}

/// Where audit entries go. `custodia-audit`'s Merkle log will implement this.
pub trait AuditTrail: Send + Sync {
    /// Records one entry durably, or says why not.
    fn append(&self, entry: AuditEntry) -> Result<(), BoxError>;
}

/// The in-memory trail used until `custodia-audit` lands.
#[derive(Debug, Default)]
pub struct MemoryTrail {
    entries: Mutex<Vec<AuditEntry>>,
}

impl MemoryTrail {
    /// Every entry so far, oldest first.
    pub fn entries(&self) -> Vec<AuditEntry> {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl AuditTrail for MemoryTrail {
    fn append(&self, entry: AuditEntry) -> Result<(), BoxError> {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(entry);
        Ok(())
    }
}

/// custodia-dsr's audit seam, writing into the helpdesk's trail.
pub struct DsrAudit(pub Arc<dyn AuditTrail>);

impl AuditSink for DsrAudit {
    fn record(&self, event: &DsrEvent) -> Result<(), BoxError> {
        // The action is a tagged enum: {"action": "subject_key_shredded", ...}.
        let mut value = serde_json::to_value(&event.action)?;
        let name = value
            .get("action")
            .and_then(|a| a.as_str())
            .unwrap_or("unknown")
            .to_owned();
        if let Some(object) = value.as_object_mut() {
            object.remove("action");
        }
        let mut detail = String::new();
        if let Some(request) = event.request {
            detail.push_str(&format!("request {request} "));
        }
        if let Some(incident) = event.incident {
            detail.push_str(&format!("incident {incident} "));
        }
        if value.as_object().is_some_and(|o| !o.is_empty()) {
            detail.push_str(&value.to_string());
        }
        self.0.append(AuditEntry {
            at: event.at,
            tenant: event.tenant,
            subject: event.subject,
            actor: event.actor,
            action: format!("dsr.{name}"),
            detail: detail.trim_end().to_owned(),
        })
    }
}
