//! What a ciphertext is bound to.
//!
//! The associated data of every field envelope encodes the envelope header
//! (format version, algorithm, key id) and the field's place: tenant, record
//! type, record id and field name. A ciphertext copied into another row, field
//! or tenant, or relabelled with another key id, fails to decrypt. Each variable
//! part is length-prefixed (2-byte big-endian), so no two contexts encode alike.
//!
//! Not bound: when the value was written. An older ciphertext of the same
//! field of the same row (from a backup, or a log of past values), or one
//! of a deleted row whose id is later reused, still opens there. Where a
//! rolled-back field matters, put a row version into the record id, or
//! never reuse ids.

use custodia_core::TenantId;

use crate::Error;

/// The longest record type, record id or field name, in bytes.
pub const MAX_CONTEXT_PART: usize = 1024;

/// Record type of the contexts that subject keys are wrapped in, under the
/// tenant's data key.
pub(crate) const SUBJECT_KEY_RECORD: &str = "custodia.subject_key";
/// Record type of the contexts that tenant keys are wrapped in.
pub(crate) const TENANT_KEY_RECORD: &str = "custodia.tenant_key";
/// Record type of the contexts that keyring secrets are wrapped in.
pub(crate) const KEYRING_RECORD: &str = "custodia.keyring";
/// Record type of the context that a file key store's contents are sealed in.
pub(crate) const KEY_STORE_RECORD: &str = "custodia.key_store";

/// The record types of the crate's own wrapped keys, which
/// [`FieldContext::new`] refuses: the subject keys are sealed under the
/// tenant data key that also seals the host's fields, so a host context of
/// record type `custodia.subject_key` would open (or overwrite) them. The
/// other three are wrapped under keys a host never seals with, and are
/// reserved all the same so that no future change makes them reachable.
/// Exact names only: `custodia.audit_event` and any other record type stay
/// the host's.
const RESERVED_RECORD_TYPES: [&str; 4] = [
    SUBJECT_KEY_RECORD,
    TENANT_KEY_RECORD,
    KEYRING_RECORD,
    KEY_STORE_RECORD,
];

/// Where an encrypted value lives: the tenant, the record and the field.
///
/// ```
/// use custodia_core::TenantId;
/// use custodia_crypt::FieldContext;
///
/// let tenant = TenantId::from_external_key("crm", "ACME");
/// let ctx = FieldContext::new(tenant, "contact", "1017", "email")?;
/// assert_eq!(ctx.record_id(), "1017");
/// assert!(FieldContext::new(tenant, "contact", "", "email").is_err());
/// # Ok::<(), custodia_crypt::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldContext<'a> {
    tenant: TenantId,
    record_type: &'a str,
    record_id: &'a str,
    field: &'a str,
}

impl<'a> FieldContext<'a> {
    /// A context. Record type, record id and field must be non-empty and at
    /// most [`MAX_CONTEXT_PART`] bytes: an empty record id would let one
    /// ciphertext stand for every row.
    ///
    /// The record types of the crate's own wrapped keys are refused
    /// ([`Error::InvalidContext`]): `custodia.subject_key`,
    /// `custodia.tenant_key`, `custodia.keyring` and `custodia.key_store`.
    /// Subject keys are wrapped under the tenant's data key in context
    /// `("custodia.subject_key", <subject id>, "key")`, so a host context
    /// of that record type would reach them through
    /// [`Keyring::open`](crate::Keyring::open). Other `custodia.` names
    /// (`custodia.audit_event`, used by custodia-audit) are not reserved.
    pub fn new(
        tenant: TenantId,
        record_type: &'a str,
        record_id: &'a str,
        field: &'a str,
    ) -> Result<Self, Error> {
        if RESERVED_RECORD_TYPES.contains(&record_type) {
            return Err(Error::InvalidContext(
                "record type reserved for custodia-crypt's own wrapped keys",
            ));
        }
        Self::internal(tenant, record_type, record_id, field)
    }

    /// A context of any record type, the reserved ones included: the path
    /// of the crate's own key wrapping.
    pub(crate) fn internal(
        tenant: TenantId,
        record_type: &'a str,
        record_id: &'a str,
        field: &'a str,
    ) -> Result<Self, Error> {
        for (part, empty, long) in [
            (record_type, "empty record type", "record type too long"),
            (record_id, "empty record id", "record id too long"),
            (field, "empty field name", "field name too long"),
        ] {
            if part.is_empty() {
                return Err(Error::InvalidContext(empty));
            }
            if part.len() > MAX_CONTEXT_PART {
                return Err(Error::InvalidContext(long));
            }
        }
        Ok(Self {
            tenant,
            record_type,
            record_id,
            field,
        })
    }

    /// The tenant.
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// The record type (table).
    pub fn record_type(&self) -> &'a str {
        self.record_type
    }

    /// The record id (row).
    pub fn record_id(&self) -> &'a str {
        self.record_id
    }

    /// The field (column).
    pub fn field(&self) -> &'a str {
        self.field
    }

    /// The length of the associated data for an envelope with a
    /// `header_len`-byte header.
    pub(crate) fn aad_len(&self, header_len: usize) -> usize {
        header_len + 16 + 6 + self.record_type.len() + self.record_id.len() + self.field.len()
    }

    /// Writes the associated data for an envelope with `header` into the
    /// front of `out`, which must hold [`aad_len`](Self::aad_len) bytes, and
    /// returns its length:
    /// `header ‖ tenant ‖ len ‖ record_type ‖ len ‖ record_id ‖ len ‖ field`,
    /// each `len` 2 bytes big-endian. The header delimits itself (its key-kind
    /// byte fixes its length) and the tenant is 16 bytes, so the encoding is
    /// unambiguous; it is kept short because GCM authenticates it per call.
    pub(crate) fn write_aad(&self, header: &[u8], out: &mut [u8]) -> usize {
        let mut at = 0;
        let mut put = |bytes: &[u8]| {
            out[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        };
        put(header);
        put(self.tenant.as_bytes());
        for part in [self.record_type, self.record_id, self.field] {
            // Parts are at most MAX_CONTEXT_PART (1024) bytes: a u16 holds the length.
            put(&(part.len() as u16).to_be_bytes());
            put(part.as_bytes());
        }
        at
    }
}

/// The accessors of a type bound to one column of one tenant (fields
/// `tenant`, `record_type` and `field`): the blind index and the
/// deterministic cipher. `$what` names the type in the docs.
macro_rules! column_accessors {
    ($what:literal) => {
        #[doc = concat!("The tenant this ", $what, " belongs to.")]
        pub fn tenant(&self) -> custodia_core::TenantId {
            self.tenant
        }

        /// The record type (table).
        pub fn record_type(&self) -> &str {
            &self.record_type
        }

        /// The field (column).
        pub fn field(&self) -> &str {
            &self.field
        }
    };
}
pub(crate) use column_accessors;

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant() -> TenantId {
        TenantId::from_external_key("t", "acme")
    }

    /// Exactly the crate's own record types are refused; look-alikes, other
    /// `custodia.` names (custodia-audit's) and ordinary ones are the host's.
    #[test]
    fn the_crates_own_record_types_are_reserved() {
        for reserved in [
            "custodia.subject_key",
            "custodia.tenant_key",
            "custodia.keyring",
            "custodia.key_store",
        ] {
            assert_eq!(
                FieldContext::new(tenant(), reserved, "1", "key"),
                Err(Error::InvalidContext(
                    "record type reserved for custodia-crypt's own wrapped keys"
                )),
                "{reserved}"
            );
            let internal = FieldContext::internal(tenant(), reserved, "1", "key").unwrap();
            assert_eq!(internal.record_type(), reserved);
        }
        for free in [
            "custodia.audit_event",
            "custodia.subject_key2",
            "Custodia.Subject_Key",
            " custodia.subject_key",
            "custodia",
            "contact",
        ] {
            assert!(
                FieldContext::new(tenant(), free, "1", "key").is_ok(),
                "{free}"
            );
        }
    }

    /// The internal path checks sizes like the public one.
    #[test]
    fn the_internal_path_still_checks_parts() {
        assert!(FieldContext::internal(tenant(), SUBJECT_KEY_RECORD, "", "key").is_err());
        let long = "x".repeat(MAX_CONTEXT_PART + 1);
        assert!(FieldContext::internal(tenant(), SUBJECT_KEY_RECORD, &long, "key").is_err());
    }
}
