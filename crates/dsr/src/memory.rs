//! An in-memory [`PersonalDataSource`], for tests, examples and prototypes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, PoisonError};

use custodia_core::{DataCategory, LegalBasis, Purpose, SubjectId, TenantId};

use crate::error::BoxError;
use crate::source::{
    ErasurePlan, ExportedRecord, FieldAction, FieldInfo, FieldUpdate, FieldValue, Located,
    PersonalDataSource, RecordMeta, RecordRef, ResealOutcome, Restriction,
};

/// The placeholder an anonymized field gets.
pub const ANONYMIZED: &str = "[anonymized]";

#[derive(Debug, Clone)]
struct Stored {
    /// `None` once anonymized: the record no longer relates to the person.
    subject: Option<SubjectId>,
    legal_basis: LegalBasis,
    meta: RecordMeta,
    fields: Vec<FieldValue>,
    restricted: bool,
    stopped: BTreeSet<Purpose>,
}

/// A source keeping records in a map. Erasure deletes records or fields, and
/// anonymizes by writing [`ANONYMIZED`] and unlinking the record from the person.
///
/// ```
/// use custodia_core::{DataCategory, LegalBasis, SubjectId, TenantId};
/// use custodia_dsr::{MemorySource, PersonalDataSource, RecordRef};
///
/// let tenant = TenantId::from_external_key("crm", "acme");
/// let alice = SubjectId::from_external_key(tenant, "contact", "1");
/// let contacts = MemorySource::new("contacts");
/// contacts.insert(tenant, alice, RecordRef::new("contact", "C-1"), LegalBasis::Contract,
///     [("email", DataCategory::USER_CONTACT_EMAIL, "alice@example.com", true)]);
/// assert_eq!(contacts.locate(tenant, alice).unwrap().len(), 1);
/// ```
///
/// Records count as sealed under the subject's key unless their
/// [`RecordMeta`] says otherwise. A source built with
/// [`MemorySource::resealing_under`] can re-seal kept records
/// ([`PersonalDataSource::reseal_kept`]): it marks them as no longer sealed
/// under the subject key (the values stand for envelopes here); without it,
/// re-sealing is unsupported.
#[derive(Debug)]
pub struct MemorySource {
    name: String,
    records: Mutex<BTreeMap<(TenantId, RecordRef), Stored>>,
    reseal_key: Option<String>,
}

impl MemorySource {
    /// An empty source called `name`.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            records: Mutex::new(BTreeMap::new()),
            reseal_key: None,
        }
    }

    /// Lets the source re-seal kept records under the key labelled `key`
    /// (say `"tenant data key"`), as a store with a tenant or hold key would.
    pub fn resealing_under(mut self, key: &str) -> Self {
        self.reseal_key = Some(key.to_owned());
        self
    }

    /// Whether the record counts as sealed under its subject's key
    /// (`None`: no such record).
    pub fn is_sealed_under_subject_key(
        &self,
        tenant: TenantId,
        record: &RecordRef,
    ) -> Option<bool> {
        self.lock()
            .get(&(tenant, record.clone()))
            .map(|s| s.meta.sealed_under_subject_key)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<(TenantId, RecordRef), Stored>> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores a record of `subject`: fields as (name, category, value, provided by the person).
    pub fn insert<'a>(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        record: RecordRef,
        legal_basis: LegalBasis,
        fields: impl IntoIterator<Item = (&'a str, DataCategory, &'a str, bool)>,
    ) {
        let fields = fields
            .into_iter()
            .map(|(name, category, value, provided_by_subject)| FieldValue {
                name: name.to_owned(),
                category,
                value: value.to_owned(),
                provided_by_subject,
            })
            .collect();
        self.lock().insert(
            (tenant, record),
            Stored {
                subject: Some(subject),
                legal_basis,
                meta: RecordMeta::default(),
                fields,
                restricted: false,
                stopped: BTreeSet::new(),
            },
        );
    }

    /// Sets the retention metadata of a stored record (reported by
    /// `locate`; its creation time also by `export`). Returns whether the
    /// record exists.
    pub fn set_meta(&self, tenant: TenantId, record: &RecordRef, meta: RecordMeta) -> bool {
        match self.lock().get_mut(&(tenant, record.clone())) {
            Some(stored) => {
                stored.meta = meta;
                true
            }
            None => false,
        }
    }

    /// The record as stored now, whoever it relates to.
    pub fn get(&self, tenant: TenantId, record: &RecordRef) -> Option<ExportedRecord> {
        self.lock()
            .get(&(tenant, record.clone()))
            .map(|s| ExportedRecord {
                record: record.clone(),
                created_at: s.meta.created_at,
                fields: s.fields.clone(),
            })
    }

    /// Whether the record is restricted (Art. 18).
    pub fn is_restricted(&self, tenant: TenantId, record: &RecordRef) -> bool {
        self.lock()
            .get(&(tenant, record.clone()))
            .is_some_and(|s| s.restricted)
    }

    /// The purposes the record may no longer be processed for (Art. 21).
    pub fn stopped_purposes(&self, tenant: TenantId, record: &RecordRef) -> BTreeSet<Purpose> {
        self.lock()
            .get(&(tenant, record.clone()))
            .map(|s| s.stopped.clone())
            .unwrap_or_default()
    }

    /// How many records the source holds, for anyone.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn not_found(record: &RecordRef) -> BoxError {
    format!("no record {} {:?}", record.record_type, record.id).into()
}

/// The stored `record` of `tenant`, if it belongs to `subject`.
fn subject_record<'a>(
    records: &'a mut BTreeMap<(TenantId, RecordRef), Stored>,
    tenant: TenantId,
    subject: SubjectId,
    record: &RecordRef,
) -> Result<&'a mut Stored, BoxError> {
    records
        .get_mut(&(tenant, record.clone()))
        .filter(|s| s.subject == Some(subject))
        .ok_or_else(|| not_found(record))
}

impl PersonalDataSource for MemorySource {
    fn name(&self) -> &str {
        &self.name
    }

    fn locate(&self, tenant: TenantId, subject: SubjectId) -> Result<Vec<Located>, BoxError> {
        Ok(self
            .lock()
            .iter()
            .filter(|((t, _), s)| *t == tenant && s.subject == Some(subject))
            .map(|((_, record), s)| Located {
                record: record.clone(),
                fields: s
                    .fields
                    .iter()
                    .map(|f| FieldInfo {
                        name: f.name.clone(),
                        category: f.category.clone(),
                        provided_by_subject: f.provided_by_subject,
                    })
                    .collect(),
                legal_basis: s.legal_basis,
                meta: s.meta.clone(),
            })
            .collect())
    }

    fn export(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        record: &RecordRef,
    ) -> Result<ExportedRecord, BoxError> {
        let mut records = self.lock();
        let stored = &*subject_record(&mut records, tenant, subject, record)?;
        Ok(ExportedRecord {
            record: record.clone(),
            created_at: stored.meta.created_at,
            fields: stored.fields.clone(),
        })
    }

    fn rectify(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        record: &RecordRef,
        updates: &[FieldUpdate],
    ) -> Result<(), BoxError> {
        let mut records = self.lock();
        let stored = subject_record(&mut records, tenant, subject, record)?;
        for update in updates {
            for field in stored.fields.iter_mut().filter(|f| f.name == update.name) {
                field.value.clone_from(&update.value);
            }
        }
        Ok(())
    }

    fn erase(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        plan: &ErasurePlan,
    ) -> Result<(), BoxError> {
        let mut records = self.lock();
        let key = (tenant, plan.record.clone());
        match records.get_mut(&key) {
            // Already gone, or already unlinked: idempotent.
            None => Ok(()),
            Some(stored) if stored.subject != Some(subject) => Ok(()),
            Some(_) if plan.delete_record => {
                records.remove(&key);
                Ok(())
            }
            Some(stored) => {
                for step in &plan.fields {
                    match step.action {
                        FieldAction::Delete => stored.fields.retain(|f| f.name != step.name),
                        FieldAction::Anonymize => {
                            for f in stored.fields.iter_mut().filter(|f| f.name == step.name) {
                                f.value = ANONYMIZED.to_owned();
                            }
                        }
                    }
                }
                stored.subject = None;
                Ok(())
            }
        }
    }

    fn reseal_kept(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        record: &RecordRef,
    ) -> Result<ResealOutcome, BoxError> {
        let Some(under) = &self.reseal_key else {
            return Ok(ResealOutcome::Unsupported);
        };
        let mut records = self.lock();
        let stored = subject_record(&mut records, tenant, subject, record)?;
        // Idempotent: a record already re-sealed has nothing left to move.
        let fields = if stored.meta.sealed_under_subject_key {
            stored.fields.len()
        } else {
            0
        };
        stored.meta.sealed_under_subject_key = false;
        Ok(ResealOutcome::Resealed {
            fields,
            under: under.clone(),
        })
    }

    fn restrict(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        record: &RecordRef,
        restriction: &Restriction,
    ) -> Result<(), BoxError> {
        let mut records = self.lock();
        let stored = subject_record(&mut records, tenant, subject, record)?;
        match restriction {
            Restriction::Restrict => stored.restricted = true,
            Restriction::Lift => stored.restricted = false,
            Restriction::StopPurposes { purposes } => {
                stored.stopped.extend(purposes.iter().cloned())
            }
        }
        Ok(())
    }
}
