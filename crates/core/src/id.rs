//! Identifiers of tenants, data subjects and actors.

use uuid::Uuid;

/// The namespace UUID under which tenant ids are derived from external keys.
///
/// Fixed forever: changing it would change every derived [`TenantId`].
///
/// Identifiers of tenants, data subjects and actors.
///
/// All three are UUIDs behind distinct newtypes, so a `SubjectId` can never be
/// passed where a `TenantId` is expected. They are `Copy`, ordered, hashable,
/// print as the hyphenated lower-case UUID and parse any form the `uuid` crate
/// accepts (hyphenated, simple, braced, URN).
///
/// # Mapping the host's own keys
///
/// A helpdesk already has stable keys: a PSA contact id, a CRM account number,
/// an agent's login. [`TenantId::from_external_key`],
/// [`SubjectId::from_external_key`] and [`ActorId::from_external_key`] turn such a
/// key into an id deterministically, with no lookup table: the same key always
/// gives the same id, on every machine, forever.
///
/// The mapping is a name-based UUID (version 5, RFC 9562 §5.5):
///
/// * tenants: namespace [`CUSTODIA_NAMESPACE`], name `tenant` ‖ `system` ‖ `key`;
/// * subjects and actors: namespace the tenant's UUID, name `subject` (or
///   `actor`) ‖ `system` ‖ `key`, so the same contact id in two tenants gives two
///   unrelated subjects, and a subject never collides with an actor;
///
/// where each part is prefixed by its length as a 4-byte big-endian integer, so
/// `("ps", "a1")` and `("psa", "1")` cannot collide. `system` names the source of
/// the key (`"psa.contact"`, `"crm"`), so keys from two systems never clash.
///
/// These ids are pseudonymous, not secret: anyone who knows the tenant id and the
/// host key can recompute them. Use `custodia-crypt`'s keyed pseudonyms where the
/// id itself must not be linkable.
pub const CUSTODIA_NAMESPACE: Uuid = Uuid::from_u128(0x6a1e_52c4_0b8e_4a57_9d3f_2c7e_8f10_c057);

/// Builds the length-prefixed name hashed into a derived id.
fn derived_name(kind: &str, system: &str, key: &str) -> Vec<u8> {
    let mut name = Vec::with_capacity(12 + kind.len() + system.len() + key.len());
    for part in [kind, system, key] {
        // A part longer than 4 GiB cannot be a key; saturating keeps this total.
        let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
        name.extend_from_slice(&len.to_be_bytes());
        name.extend_from_slice(part.as_bytes());
    }
    name
}

/// Declares a UUID newtype id the way Custodia's own are: `Copy`, ordered,
/// hashable, `Display` and `FromStr` as the hyphenated UUID (a bad one is a
/// [`Error::InvalidId`](crate::Error::InvalidId) naming `what`), `Debug` as `Name(uuid)`,
/// `from_uuid`/`as_uuid`/`as_bytes` and `From` both ways. End with `, random`
/// for a `random()` constructor (UUIDv4); leave it off for ids with their own
/// constructor (a time-ordered UUIDv7, say). Attributes, serde derives
/// included, go on the struct.
///
/// ```
/// custodia_core::uuid_id!(
///     /// A helpdesk ticket.
///     TicketId,
///     "ticket id",
///     random
/// );
/// let id = TicketId::random();
/// assert_eq!(id.to_string().parse::<TicketId>(), Ok(id));
/// assert!("T-1".parse::<TicketId>().unwrap_err().to_string().contains("ticket id"));
/// ```
#[macro_export]
macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident, $what:literal, random) => {
        $crate::uuid_id!($(#[$meta])* $name, $what);

        impl $name {
            /// A new random (version 4) id.
            pub fn random() -> Self {
                Self($crate::uuid::Uuid::new_v4())
            }
        }
    };
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name($crate::uuid::Uuid);

        impl $name {
            /// Wraps an existing UUID, for ids the host already stores as UUIDs.
            pub const fn from_uuid(uuid: $crate::uuid::Uuid) -> Self {
                Self(uuid)
            }

            /// The UUID inside.
            pub const fn as_uuid(&self) -> &$crate::uuid::Uuid {
                &self.0
            }

            /// The 16 bytes of the UUID, in RFC 9562 order.
            pub const fn as_bytes(&self) -> &[u8; 16] {
                self.0.as_bytes()
            }
        }

        impl ::core::convert::From<$crate::uuid::Uuid> for $name {
            fn from(uuid: $crate::uuid::Uuid) -> Self {
                Self(uuid)
            }
        }

        impl ::core::convert::From<$name> for $crate::uuid::Uuid {
            fn from(id: $name) -> $crate::uuid::Uuid {
                id.0
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl ::core::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0.hyphenated())
            }
        }

        impl ::core::str::FromStr for $name {
            type Err = $crate::Error;

            fn from_str(s: &str) -> ::core::result::Result<Self, $crate::Error> {
                $crate::uuid::Uuid::parse_str(s).map(Self).map_err(|e| $crate::Error::InvalidId {
                    what: $what,
                    input: $crate::echo(s),
                    source: e,
                })
            }
        }
    };
}

uuid_id!(
    /// A tenant: one subscriber of the helpdesk, whose data no other tenant may see.
    #[derive(serde::Serialize, serde::Deserialize)]
    #[serde(transparent)]
    TenantId,
    "tenant id",
    random
);
uuid_id!(
    /// A data subject: the natural person personal data is about (an end user,
    /// a contact, an agent in their capacity as a person).
    #[derive(serde::Serialize, serde::Deserialize)]
    #[serde(transparent)]
    SubjectId,
    "subject id",
    random
);
uuid_id!(
    /// Whoever performs an action: an agent, an end user, an API key, a system job.
    #[derive(serde::Serialize, serde::Deserialize)]
    #[serde(transparent)]
    ActorId,
    "actor id",
    random
);

impl TenantId {
    /// The tenant id for the host's own tenant key `key` from `system`.
    ///
    /// Deterministic: see [`CUSTODIA_NAMESPACE`](crate::CUSTODIA_NAMESPACE) for the exact
    /// derivation.
    ///
    /// ```
    /// use custodia_core::TenantId;
    /// let a = TenantId::from_external_key("billing.account", "ACME-0042");
    /// assert_eq!(a, TenantId::from_external_key("billing.account", "ACME-0042"));
    /// assert_ne!(a, TenantId::from_external_key("billing.account", "ACME-0043"));
    /// ```
    pub fn from_external_key(system: &str, key: &str) -> Self {
        Self(Uuid::new_v5(
            &CUSTODIA_NAMESPACE,
            &derived_name("tenant", system, key),
        ))
    }
}

impl SubjectId {
    /// The subject id for the host's key `key` from `system`, within `tenant`.
    ///
    /// ```
    /// use custodia_core::{SubjectId, TenantId};
    /// let tenant = TenantId::from_external_key("billing.account", "ACME-0042");
    /// let other = TenantId::from_external_key("billing.account", "GLOBEX-7");
    /// let alice = SubjectId::from_external_key(tenant, "psa.contact", "1017");
    /// assert_eq!(alice, SubjectId::from_external_key(tenant, "psa.contact", "1017"));
    /// // The same contact number in another tenant is another person.
    /// assert_ne!(alice, SubjectId::from_external_key(other, "psa.contact", "1017"));
    /// ```
    pub fn from_external_key(tenant: TenantId, system: &str, key: &str) -> Self {
        Self(Uuid::new_v5(
            &tenant.0,
            &derived_name("subject", system, key),
        ))
    }
}

impl ActorId {
    /// The actor id for the host's key `key` from `system`, within `tenant`.
    ///
    /// ```
    /// use custodia_core::{ActorId, SubjectId, TenantId};
    /// let tenant = TenantId::from_external_key("billing.account", "ACME-0042");
    /// let agent = ActorId::from_external_key(tenant, "psa.user", "17");
    /// // The same key never collides with a subject's id.
    /// let person = SubjectId::from_external_key(tenant, "psa.user", "17");
    /// assert_ne!(agent.as_uuid(), person.as_uuid());
    /// ```
    pub fn from_external_key(tenant: TenantId, system: &str, key: &str) -> Self {
        Self(Uuid::new_v5(&tenant.0, &derived_name("actor", system, key)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_name_based_uuids() {
        let tenant = TenantId::from_external_key("crm", "42");
        assert_eq!(tenant.as_uuid().get_version_num(), 5);
        let subject = SubjectId::from_external_key(tenant, "crm", "42");
        assert_eq!(subject.as_uuid().get_version_num(), 5);
    }

    #[test]
    fn length_prefixes_keep_system_and_key_apart() {
        let t = TenantId::from_external_key("x", "y");
        assert_ne!(
            SubjectId::from_external_key(t, "ps", "a1"),
            SubjectId::from_external_key(t, "psa", "1")
        );
        assert_ne!(
            TenantId::from_external_key("ps", "a1"),
            TenantId::from_external_key("psa", "1")
        );
    }

    #[test]
    fn derivation_is_pinned() {
        // Derived ids are stored by hosts: a change here breaks every deployment.
        let tenant = TenantId::from_external_key("billing.account", "ACME-0042");
        let expected = Uuid::new_v5(
            &CUSTODIA_NAMESPACE,
            b"\0\0\0\x06tenant\0\0\0\x0fbilling.account\0\0\0\x09ACME-0042",
        );
        assert_eq!(tenant.as_uuid(), &expected);
    }

    #[test]
    fn parse_errors_name_the_id_kind_and_input() {
        let err = "not-a-uuid".parse::<SubjectId>().unwrap_err();
        let text = err.to_string();
        assert!(text.contains("subject id"), "{text}");
        assert!(text.contains("not-a-uuid"), "{text}");
    }

    #[test]
    fn parse_accepts_other_uuid_forms() {
        let id = TenantId::random();
        let simple = id.as_uuid().simple().to_string();
        assert_eq!(simple.parse::<TenantId>().unwrap(), id);
        let urn = id.as_uuid().urn().to_string();
        assert_eq!(urn.parse::<TenantId>().unwrap(), id);
    }

    #[test]
    fn debug_names_the_type() {
        let id = ActorId::from_uuid(Uuid::from_u128(1));
        assert_eq!(
            format!("{id:?}"),
            "ActorId(00000000-0000-0000-0000-000000000001)"
        );
    }
}
