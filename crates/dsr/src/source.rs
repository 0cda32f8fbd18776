//! Personal-data sources: the stores a host keeps people's data in.
//!
//! The documentation is on the main item; the crate root re-exports the
//! module's public items.

use std::collections::BTreeMap;

use custodia_core::{DataCategory, LegalBasis, Purpose, Region, SubjectId, TenantId, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::BoxError;
use crate::retention::ErasureException;

/// A record in a source.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RecordRef {
    /// The kind of record: `"ticket"`, `"contact"`, `"attachment"`.
    pub record_type: String,
    /// Its id in the source.
    pub id: String,
}

impl RecordRef {
    /// A record reference.
    pub fn new(record_type: impl Into<String>, id: impl Into<String>) -> Self {
        Self {
            record_type: record_type.into(),
            id: id.into(),
        }
    }
}

/// A field of a located record, without its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldInfo {
    /// The field's name in the source.
    pub name: String,
    /// What kind of personal data it holds.
    pub category: DataCategory,
    /// Whether the person provided it (Art. 20 covers only such data).
    pub provided_by_subject: bool,
}

/// A record found for the subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Located {
    /// The record.
    pub record: RecordRef,
    /// Its personal-data fields.
    pub fields: Vec<FieldInfo>,
    /// The legal basis its processing rests on.
    pub legal_basis: LegalBasis,
    /// What a retention policy needs to know about it (category, region,
    /// labels, trigger events). Empty unless the source reports it.
    #[serde(default)]
    pub meta: RecordMeta,
}

/// The metadata a retention policy evaluates a located record by: the
/// fields of `custodia_retention::RetentionRecord` that the desk does not already
/// know (the tenant and subject come from the request, the id from the
/// [`RecordRef`]). See [`PolicyRetention`](crate::PolicyRetention) for how
/// it is used.
///
/// It also says whether the record's fields are sealed under the subject's
/// key ([`sealed_under_subject_key`](Self::sealed_under_subject_key),
/// default `true`, the safe answer): a record kept by an erasure only delays
/// the subject-key shred while it needs that key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordMeta {
    /// The record's category as a whole, e.g. `user.financial.billing` for an
    /// invoice. `None`: the policy is asked about each field's category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<DataCategory>,
    /// Where the record is stored, if the source tracks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// When the record was created (the `created` trigger), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// Labels rule selectors match (`legal = "contract"`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Trigger events that happened: `closed`, `last_activity`,
    /// `account_terminated` or the policy's custom events.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub events: BTreeMap<String, Timestamp>,
    /// Whether any of the record's fields is (or may be) sealed under the
    /// subject's key, so that shredding the key would make the record
    /// unreadable. Default `true`: a source that does not say is assumed to
    /// need the key, and a kept record then delays the key shred until it
    /// is re-sealed ([`PersonalDataSource::reseal_kept`]) or released. Set it
    /// to `false` for records stored in the clear or under a key that is not
    /// the subject's (a tenant key, a legal-hold key). Absent from JSON when
    /// `true`.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub sealed_under_subject_key: bool,
}

fn yes() -> bool {
    true
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if signature
fn is_true(b: &bool) -> bool {
    *b
}

impl Default for RecordMeta {
    fn default() -> Self {
        Self {
            category: None,
            region: None,
            created_at: None,
            labels: BTreeMap::new(),
            events: BTreeMap::new(),
            sealed_under_subject_key: true,
        }
    }
}

impl RecordMeta {
    /// Sets the record's category.
    pub fn category(mut self, category: DataCategory) -> Self {
        self.category = Some(category);
        self
    }

    /// Sets the creation time.
    pub fn created_at(mut self, at: Timestamp) -> Self {
        self.created_at = Some(at);
        self
    }

    /// Sets the region.
    pub fn region(mut self, region: Region) -> Self {
        self.region = Some(region);
        self
    }

    /// Adds a label.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Records a trigger event.
    pub fn event(mut self, name: impl Into<String>, at: Timestamp) -> Self {
        self.events.insert(name.into(), at);
        self
    }

    /// Says whether the record's fields are sealed under the subject's key
    /// (see [`RecordMeta::sealed_under_subject_key`]).
    pub fn sealed_under_subject_key(mut self, sealed: bool) -> Self {
        self.sealed_under_subject_key = sealed;
        self
    }
}

/// What [`PersonalDataSource::reseal_kept`] did with a kept record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ResealOutcome {
    /// The record's fields are now sealed under a key that is not the
    /// subject's (or stored without subject-key sealing): the record no
    /// longer needs the subject key, and `locate` reports it with
    /// [`RecordMeta::sealed_under_subject_key`] `false` from now on.
    Resealed {
        /// How many fields were re-sealed (0 if none was sealed under the
        /// subject key after all).
        fields: usize,
        /// Which key now protects them, as a label without secrets:
        /// `"tenant data key"`, `"legal hold key case-2026-17"`.
        under: String,
    },
    /// The source cannot re-seal this record: it keeps needing the subject
    /// key, and the key shred waits until the record is released.
    Unsupported,
}

/// A field with its value, as exported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldValue {
    /// The field's name.
    pub name: String,
    /// Its category.
    pub category: DataCategory,
    /// The value, as text (binary values base64-encoded by the source).
    pub value: String,
    /// Whether the person provided it.
    pub provided_by_subject: bool,
}

/// A record with its values, as exported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedRecord {
    /// The record.
    pub record: RecordRef,
    /// When it was created, if the source knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// Its personal-data fields.
    pub fields: Vec<FieldValue>,
}

/// A new value for one field (rectification).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldUpdate {
    /// The field's name.
    pub name: String,
    /// The corrected value.
    pub value: String,
}

/// What to do with one field on erasure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldAction {
    /// Remove the value.
    Delete,
    /// Replace it with a value that no longer relates to the person (a
    /// placeholder, a generalisation), keeping the record usable.
    Anonymize,
}

/// One field's erasure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldErasure {
    /// The field's name.
    pub name: String,
    /// What to do.
    pub action: FieldAction,
}

/// How to erase one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasurePlan {
    /// The record.
    pub record: RecordRef,
    /// Delete the whole record (every field's action is [`FieldAction::Delete`]).
    pub delete_record: bool,
    /// Per field.
    pub fields: Vec<FieldErasure>,
}

/// A restriction of processing (Art. 18) or an objection (Art. 21).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "restriction", rename_all = "snake_case")]
pub enum Restriction {
    /// Only store the record; no other processing without consent (Art. 18(2)).
    Restrict,
    /// End an earlier restriction.
    Lift,
    /// Stop processing the record for these purposes (Art. 21).
    StopPurposes {
        /// The purposes.
        purposes: Vec<Purpose>,
    },
}

/// The subject-level step of a request in one source: what the desk asks
/// of [`PersonalDataSource::subject_step`], once per request and source,
/// whatever records were located (none included).
///
/// Rectification has no subject-level step: a source whose subject-level
/// state holds values the person may correct reports it as a located
/// record instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SubjectStep {
    /// Access or portability: report what the source keeps about the
    /// subject as a whole ([`SubjectOutcome::Exported`]).
    Access,
    /// Restriction, its lift, or an objection: apply it to the subject
    /// as a whole, so that it also covers records stored later
    /// ([`SubjectOutcome::Applied`]).
    Restrict {
        /// What to apply.
        restriction: Restriction,
    },
    /// Erasure: remove what the source keeps about the subject as a whole
    /// ([`SubjectOutcome::Applied`], the records removed).
    Erase,
}

impl SubjectStep {
    /// The step's name in [`DsrAction::SubjectStep`](crate::DsrAction::SubjectStep)
    /// events: `access`, `restrict`, `lift`, `stop_purposes`, `erase`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Restrict {
                restriction: Restriction::Restrict,
            } => "restrict",
            Self::Restrict {
                restriction: Restriction::Lift,
            } => "lift",
            Self::Restrict {
                restriction: Restriction::StopPurposes { .. },
            } => "stop_purposes",
            Self::Erase => "erase",
        }
    }
}

/// A subject-level record with its values, for an access bundle: state a
/// source keeps about the person as a whole (a contact register's row),
/// not about one of their records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectRecord {
    /// The record and its values. Its `record_type` should say it is
    /// subject-level (`"contact_register"`): the bundle lists it among the
    /// source's records under that type.
    pub record: ExportedRecord,
    /// The legal basis its processing rests on (a restriction's record:
    /// usually [`LegalBasis::LegalObligation`]).
    pub legal_basis: LegalBasis,
}

/// What [`PersonalDataSource::subject_step`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SubjectOutcome {
    /// The source keeps nothing about the subject outside its records: no
    /// subject-level step (the default, and what a remote source that does
    /// not serve the step is taken to answer). Nothing is recorded.
    NotKept,
    /// The answer to [`SubjectStep::Access`]: the subject-level records
    /// (none when the source holds nothing about this subject).
    Exported {
        /// The records.
        records: Vec<SubjectRecord>,
    },
    /// The answer to [`SubjectStep::Restrict`] and [`SubjectStep::Erase`]:
    /// the subject-level records the change was applied to — written,
    /// changed or removed (none when there was nothing to change, e.g. an
    /// erasure of a subject the source holds no such record of).
    Applied {
        /// The records.
        records: Vec<RecordRef>,
    },
}

/// A store of personal data, and its contract.
///
/// Personal-data sources: the stores a host keeps people's data in.
///
/// A host implements [`PersonalDataSource`] once per store — tickets,
/// contacts, attachments, chat transcripts — and registers each with a
/// [`Desk`](crate::Desk). The desk runs every request across all of them.
///
/// # Contract for implementors
///
/// * [`locate`](PersonalDataSource::locate) lists the subject's records in the
///   tenant, with each field's name and [`DataCategory`]. It must only ever
///   return records of that tenant.
/// * Every write is **idempotent**: erasing a record that is already gone,
///   restricting a restricted one or writing a value that is already there
///   succeeds. The desk may repeat a step after a failure.
/// * After an erasure, `locate` no longer returns the erased records (held
///   records excepted): anonymized records are unlinked from the subject.
/// * Kept records and the subject key: `locate` says per record whether its
///   fields are sealed under the subject's key
///   ([`RecordMeta::sealed_under_subject_key`], `true` unless the source says
///   otherwise). A source that can re-seal a kept record under another key
///   implements [`reseal_kept`](PersonalDataSource::reseal_kept) (optional;
///   the default says it cannot), so an erasure that keeps the record (legal
///   hold, Art. 17(3)) can still shred the subject key at once. Existing
///   implementors need no change: they keep the safe behaviour, where a kept
///   record defers the shred until it is released.
/// * Subject-level state: a source that keeps something about the subject
///   as a whole — a contact register saying their processing is restricted
///   or which purposes they objected to, so that records stored later
///   inherit it — implements
///   [`subject_step`](PersonalDataSource::subject_step) (optional; the
///   default keeps nothing). The desk calls it once per request and source,
///   whether or not records were located: for access and portability it
///   returns the subject-level records, which the bundle lists with the
///   source's other records; for a restriction, lift or objection it
///   applies the change before the records are located (so a record
///   stored meanwhile is covered by the state it inherits); for an erasure
///   it removes the state, also before the records (so a record's own
///   erasure, which may take the state along, does not hide it from the
///   certificate). What it did is audited
///   ([`DsrAction::SubjectStep`](crate::DsrAction::SubjectStep)), kept in
///   the request's progress ([`SourceProgress::Done::subject_records`]) and
///   reported: in the [`RestrictionReport`](crate::RestrictionReport) and,
///   for an erasure, as certificate entries marked
///   [`ErasedRecord::subject_level`].
/// * The subject-level step of a restriction or erasure runs once per
///   request and source: the progress says it ran
///   ([`SourceProgress::subject_step_ran`]), so a rerun after a later
///   failure takes its answer from there instead of asking again, and a
///   completed erasure's pass over a deferred key shred
///   ([`Desk::resume_deferred_erasures`](crate::Desk::resume_deferred_erasures))
///   never calls it: state written after the erasure (a later restriction
///   of the same person) is left alone. Records a pass locates are still
///   erased, as before (a ticket stored since, a record released from its
///   hold): only the subject-level state is not revisited. It is asked
///   again only when its run did not count (the source failed it, or its
///   audit event was not recorded) and, once, for a source done in
///   progress written before the marker existed (see
///   [`SourceProgress::Done::subject_step_ran`]). Access and portability
///   read it again on every run, as they read everything again.
/// * Errors are returned, never panicked: the desk records the failure on the
///   request's [`Progress`] and the request stays open, resumable. An error's
///   text is stored in the progress and in a
///   [`DsrAction::SourceFailed`](crate::DsrAction::SourceFailed) audit event,
///   so it must not contain the person's data (say "row 17 locked", not the
///   row).
pub trait PersonalDataSource: Send + Sync {
    /// A stable, unique name: `"tickets"`, `"contacts"`. Progress is keyed by it.
    fn name(&self) -> &str;

    /// The subject's records in the tenant.
    fn locate(&self, tenant: TenantId, subject: SubjectId) -> Result<Vec<Located>, BoxError>;

    /// One record with its values.
    fn export(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        record: &RecordRef,
    ) -> Result<ExportedRecord, BoxError>;

    /// Writes corrected values.
    fn rectify(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        record: &RecordRef,
        updates: &[FieldUpdate],
    ) -> Result<(), BoxError>;

    /// Deletes or anonymizes a record's fields, or the whole record.
    fn erase(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        plan: &ErasurePlan,
    ) -> Result<(), BoxError>;

    /// Restricts processing, lifts a restriction, or stops purposes.
    fn restrict(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        record: &RecordRef,
        restriction: &Restriction,
    ) -> Result<(), BoxError>;

    /// Re-seals a record that an erasure keeps (legal hold, Art. 17(3)
    /// retention) under a key that is not the subject's — e.g. the tenant's
    /// data key or a legal-hold key from `custodia_crypt::Keyring` — so that
    /// the subject's key can be shredded at once while the kept record stays
    /// readable for its exception.
    ///
    /// Called by the desk only for kept records whose
    /// [`RecordMeta::sealed_under_subject_key`] is `true`, only while the
    /// subject key still exists, and possibly more than once (it must be
    /// idempotent). After [`ResealOutcome::Resealed`], `locate` must report
    /// the record with `sealed_under_subject_key` `false`. The default
    /// returns [`ResealOutcome::Unsupported`]: the record keeps needing the
    /// key and the shred is deferred until it is released. An error is
    /// recorded (without values) and treated like `Unsupported` for this run;
    /// the next run tries again.
    fn reseal_kept(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        record: &RecordRef,
    ) -> Result<ResealOutcome, BoxError> {
        let _ = (tenant, subject, record);
        Ok(ResealOutcome::Unsupported)
    }

    /// The request's step on what the source keeps about `subject` as a
    /// whole rather than in a record (see the contract above): called once
    /// per request, whatever [`locate`](Self::locate) found, and again only
    /// when that call did not count (it failed, or its audit event was not
    /// recorded) or the request was stored part-done by an older build; it
    /// must therefore be idempotent (restricting twice, or erasing what is
    /// gone, succeeds).
    ///
    /// Answers [`SubjectOutcome::Exported`] to [`SubjectStep::Access`] and
    /// [`SubjectOutcome::Applied`] to the others; the desk takes any other
    /// pairing as the source's error. The default answers
    /// [`SubjectOutcome::NotKept`]: existing sources need no change.
    fn subject_step(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        step: &SubjectStep,
    ) -> Result<SubjectOutcome, BoxError> {
        let _ = (tenant, subject, step);
        Ok(SubjectOutcome::NotKept)
    }
}

/// What was erased in one record (no values).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasedRecord {
    /// The source.
    pub source: String,
    /// The record.
    pub record: RecordRef,
    /// Whether the whole record was deleted.
    pub deleted_record: bool,
    /// Fields deleted.
    pub deleted_fields: Vec<String>,
    /// Fields anonymized.
    pub anonymized_fields: Vec<String>,
    /// Whether this is subject-level state the source removed
    /// ([`SubjectStep::Erase`]), not one of the located records. Absent
    /// (false) in certificates and progress written before it existed.
    #[serde(default, skip_serializing_if = "is_false")]
    pub subject_level: bool,
}

impl ErasedRecord {
    /// The entry of subject-level state `record` that `source`'s
    /// [`SubjectStep::Erase`] removed.
    pub(crate) fn subject_state_removed(source: &str, record: RecordRef) -> Self {
        Self {
            source: source.to_owned(),
            record,
            deleted_record: true,
            deleted_fields: Vec::new(),
            anonymized_fields: Vec::new(),
            subject_level: true,
        }
    }
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if signature
fn is_false(b: &bool) -> bool {
    !*b
}

/// A record kept despite the erasure request, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptRecord {
    /// The source.
    pub source: String,
    /// The record.
    pub record: RecordRef,
    /// The Art. 17(3) exception.
    pub exception: ErasureException,
    /// The reason in words (case number, statute).
    pub reason: String,
    /// Until when it is kept; `None` when there is no end date yet (a legal
    /// hold, kept until it is released; a retention whose trigger event has
    /// not happened). The reason says which.
    pub until: Option<Timestamp>,
    /// Whether the record still needs the subject's key, i.e. whether it
    /// holds up the key shred. Absent in progress and certificates written
    /// before it existed: read as [`KeptKey::Needed`].
    #[serde(default)]
    pub subject_key: KeptKey,
}

/// Whether a kept record needs the subject's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum KeptKey {
    /// Its fields are (or may be) sealed under the subject key and could not
    /// be re-sealed: the key shred waits for it. The default.
    Needed {
        /// Why it could not be re-sealed: `"the source cannot re-seal"`, or
        /// the error the source reported (no values).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        why: Option<String>,
    },
    /// The source reports its fields are not sealed under the subject key.
    NotSealed,
    /// Re-sealed under another key by this erasure.
    Resealed {
        /// When.
        at: Timestamp,
        /// Fields re-sealed.
        fields: usize,
        /// The key now protecting them (a label).
        under: String,
    },
}

impl Default for KeptKey {
    fn default() -> Self {
        Self::Needed { why: None }
    }
}

impl KeptKey {
    /// Whether the record holds up the subject-key shred.
    pub fn blocks_shred(&self) -> bool {
        matches!(self, Self::Needed { .. })
    }
}

/// How one source's part of a request went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SourceProgress {
    /// Done: not repeated when the request is run again, but for a
    /// restriction or erasure still open whose progress was written before
    /// [`subject_step_ran`](SourceProgress::Done::subject_step_ran) existed
    /// (absent): that source is run again once, its subject-level step
    /// included.
    Done {
        /// When it finished.
        at: Timestamp,
        /// Records the step touched.
        records: usize,
        /// For erasure: what was erased.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        erased: Vec<ErasedRecord>,
        /// For erasure: what was kept.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        kept: Vec<KeptRecord>,
        /// The categories of data the step changed: for rectification, the
        /// corrections that matched a field here; for erasure and restriction,
        /// the categories of the fields erased or restricted. Used to find the
        /// recipients to inform (Art. 19).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        categories: Vec<DataCategory>,
        /// The subject-level records the step applied to
        /// ([`PersonalDataSource::subject_step`]): for a restriction, lift
        /// or objection the state written; for an erasure the state
        /// removed (also in `erased`); for access the records exported.
        /// Empty when the source keeps no subject-level state (or held
        /// none for this subject), and in progress written before it
        /// existed.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        subject_records: Vec<RecordRef>,
        /// Whether the source's subject-level step ran for this request
        /// and its audit event was recorded (whatever it answered, "not
        /// kept" included): a restriction or erasure never runs it again,
        /// and `subject_records` is what it returned. Absent (false) in
        /// progress written before it existed, and for rectification
        /// (which has no such step): a restriction or erasure still open
        /// re-runs such a done source once, step included, as an older
        /// build either had no step or did not say it ran. Written only
        /// when true.
        #[serde(default, skip_serializing_if = "is_false")]
        subject_step_ran: bool,
    },
    /// Failed: redone when the request is run again.
    Failed {
        /// When it last failed.
        at: Timestamp,
        /// Which operation.
        operation: String,
        /// What the source said.
        error: String,
        /// How many runs failed so far.
        attempts: u32,
        /// For erasure: records erased before the failure (they will not be
        /// located again, so the certificate needs them from here).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        erased: Vec<ErasedRecord>,
        /// For erasure: records kept before the failure.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        kept: Vec<KeptRecord>,
        /// For restriction and erasure: the categories of the fields
        /// restricted or erased before the failure (an erased record is
        /// not located again, so the recipients to inform, Art. 19, need
        /// them from here). Absent in progress written before it existed.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        categories: Vec<DataCategory>,
        /// As on [`SourceProgress::Done`]: the subject-level step ran
        /// before the failure and was audited, so the rerun does not run
        /// it again. Absent (false) in progress written before it existed.
        #[serde(default, skip_serializing_if = "is_false")]
        subject_step_ran: bool,
        /// What that step returned (see `Done::subject_records`), for the
        /// rerun to report. Empty unless `subject_step_ran`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        subject_records: Vec<RecordRef>,
    },
}

impl SourceProgress {
    /// Whether the source's subject-level step ran for the request (and
    /// was audited), so that a rerun of a restriction or erasure does not
    /// run it again ([`SourceProgress::Done::subject_step_ran`]). False in
    /// progress written before the step existed.
    pub fn subject_step_ran(&self) -> bool {
        match self {
            Self::Done {
                subject_step_ran, ..
            }
            | Self::Failed {
                subject_step_ran, ..
            } => *subject_step_ran,
        }
    }

    /// What the subject-level step returned, once it ran
    /// ([`SourceProgress::subject_step_ran`]); `None` before.
    pub(crate) fn subject_step_records(&self) -> Option<&[RecordRef]> {
        match self {
            Self::Done {
                subject_step_ran: true,
                subject_records,
                ..
            }
            | Self::Failed {
                subject_step_ran: true,
                subject_records,
                ..
            } => Some(subject_records),
            _ => None,
        }
    }

    /// The categories recorded so far (see `Done::categories` and
    /// `Failed::categories`).
    pub(crate) fn categories(&self) -> &[DataCategory] {
        match self {
            Self::Done { categories, .. } | Self::Failed { categories, .. } => categories,
        }
    }
}

/// Per-source progress of a request, persisted on the [`Request`](crate::Request).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// By source name. A source absent here has not been run yet.
    #[serde(default)]
    pub sources: BTreeMap<String, SourceProgress>,
    /// The receipt of the subject-key shredding, once done (erasure only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_shredded: Option<custodia_crypt::ShredReceipt>,
}

impl Progress {
    /// Whether `source` is done.
    pub fn is_done(&self, source: &str) -> bool {
        matches!(self.sources.get(source), Some(SourceProgress::Done { .. }))
    }

    /// The sources that failed, by name.
    pub fn failed(&self) -> Vec<String> {
        self.sources
            .iter()
            .filter(|(_, p)| matches!(p, SourceProgress::Failed { .. }))
            .map(|(name, _)| name.clone())
            .collect()
    }
}
