//! Record metadata: what evaluation needs to know about a stored record.

use std::collections::BTreeMap;

use custodia_core::{DataCategory, Region, SubjectId, TenantId, Timestamp};

use crate::Error;
use crate::error::echo;

/// The metadata of one stored record (a ticket, a log line, a contact).
///
/// Its JSON form is one line of a records file (unknown keys are ignored, so
/// an export may carry more):
///
/// ```json
/// {"id":"t-1","tenant":"6a1e52c4-0b8e-4a57-9d3f-2c7e8f10c057","category":"user.content.ticket",
///  "subject":"0f8fad5b-d9cb-469f-a165-70867728950e","region":"EU","labels":{},
///  "created":"2026-01-01T00:00:00Z","events":{"closed":"2026-02-01T00:00:00Z"}}
/// ```
///
/// `subject`, `region`, `labels` and `events` may be left out. An event is
/// taken as having happened once it is present, whatever its timestamp, so a
/// decision depends only on the record and the policy, never on when it is
/// asked (which keeps evaluation monotone in time).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Record {
    /// The host's id for the record.
    pub id: String,
    /// The tenant it belongs to.
    pub tenant: TenantId,
    /// What kind of data it is.
    pub category: DataCategory,
    /// The person it is about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<SubjectId>,
    /// Where it is stored, if the host tracks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// Free-form labels (`legal = "contract"`), matched by rule selectors.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// When it was created: the `created` trigger.
    pub created: Timestamp,
    /// When other trigger events happened (`closed`, `last_activity`,
    /// `account_terminated`, custom events), and which dispositions were
    /// already applied (`anonymized`, `archived`, `reviewed`; see [`crate::sweep`]).
    #[serde(default)]
    pub events: BTreeMap<String, Timestamp>,
}

impl Record {
    /// A record with no subject, region, labels or events.
    pub fn new(
        id: impl Into<String>,
        tenant: TenantId,
        category: DataCategory,
        created: Timestamp,
    ) -> Self {
        Self {
            id: id.into(),
            tenant,
            category,
            subject: None,
            region: None,
            labels: BTreeMap::new(),
            created,
            events: BTreeMap::new(),
        }
    }

    /// Sets the subject.
    pub fn with_subject(mut self, subject: SubjectId) -> Self {
        self.subject = Some(subject);
        self
    }

    /// Sets the region.
    pub fn with_region(mut self, region: Region) -> Self {
        self.region = Some(region);
        self
    }

    /// Adds a label.
    pub fn with_label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Records an event.
    pub fn with_event(mut self, name: impl Into<String>, at: Timestamp) -> Self {
        self.events.insert(name.into(), at);
        self
    }

    /// Parses one JSON line; the error says which field was wrong and where.
    pub fn from_json(line: &str) -> Result<Self, Error> {
        serde_json::from_str(line).map_err(|e| Error::Record(echo(&e.to_string())))
    }
}
