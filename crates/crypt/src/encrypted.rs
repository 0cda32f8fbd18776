//! `Encrypted<T>`: a struct field that is stored sealed.

use std::fmt;
use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use crate::envelope::{self, Envelope};
use crate::{Error, FieldContext, KeyId, Keyring};

/// A value of type `T`, sealed in a field envelope.
///
/// `Encrypted<T>`: a struct field that is stored sealed.
///
/// A host declares `email: Encrypted<String>` in its row type. The value
/// serializes as the envelope's `cst1.` text form, so it fits a text column or
/// a JSON document unchanged, and deserializing checks that the text really is
/// an envelope (a corrupted column fails at load, not later). The plaintext is
/// the JSON encoding of `T`; it is produced and consumed only inside
/// [`Encrypted::seal`] and [`Encrypted::open`], and wiped after use.
///
/// ```
/// use custodia_core::TenantId;
/// use custodia_crypt::{Encrypted, FieldContext, Keyring, SecretKey};
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Contact {
///     id: String,
///     email: Encrypted<String>,
/// }
///
/// let keyring = Keyring::new(SecretKey::generate()?);
/// let tenant = TenantId::from_external_key("crm", "ACME");
/// let ctx = FieldContext::new(tenant, "contact", "1017", "email")?;
/// let contact = Contact {
///     id: "1017".into(),
///     email: Encrypted::seal(&keyring, &ctx, &"alice@example.com".to_string())?,
/// };
///
/// let row = serde_json::to_string(&contact).unwrap();
/// assert!(row.contains("\"email\":\"cst1.") && !row.contains("alice"));
///
/// let loaded: Contact = serde_json::from_str(&row).unwrap();
/// assert_eq!(loaded.email.open(&keyring, &ctx)?, "alice@example.com");
/// # Ok::<(), custodia_crypt::Error>(())
/// ```
pub struct Encrypted<T> {
    envelope: Vec<u8>,
    value: PhantomData<fn() -> T>,
}

impl<T: Serialize + DeserializeOwned> Encrypted<T> {
    /// Seals `value` for `ctx` under the keyring's primary tenant key.
    pub fn seal(keyring: &Keyring, ctx: &FieldContext<'_>, value: &T) -> Result<Self, Error> {
        let plaintext = Zeroizing::new(
            serde_json::to_vec(value).map_err(|_| Error::Malformed("value does not serialize"))?,
        );
        Ok(Self::from_envelope_unchecked(
            keyring.seal(ctx, &plaintext)?,
        ))
    }

    /// Opens the value, checking it belongs to `ctx`.
    pub fn open(&self, keyring: &Keyring, ctx: &FieldContext<'_>) -> Result<T, Error> {
        let plaintext = Zeroizing::new(keyring.open(ctx, &self.envelope)?);
        serde_json::from_slice(&plaintext)
            .map_err(|_| Error::Malformed("decrypted value does not decode"))
    }
}

impl<T> Encrypted<T> {
    /// Wraps a binary envelope, e.g. read from a bytes column.
    pub fn from_envelope(envelope: Vec<u8>) -> Result<Self, Error> {
        Envelope::decode(&envelope)?;
        Ok(Self::from_envelope_unchecked(envelope))
    }

    fn from_envelope_unchecked(envelope: Vec<u8>) -> Self {
        Self {
            envelope,
            value: PhantomData,
        }
    }

    /// The binary envelope, e.g. for a bytes column.
    pub fn as_envelope(&self) -> &[u8] {
        &self.envelope
    }

    /// The key that sealed the value: what a re-encryption job checks.
    pub fn key_id(&self) -> Result<KeyId, Error> {
        Ok(Envelope::decode(&self.envelope)?.key_id())
    }

    /// The `cst1.` text form.
    pub fn to_text(&self) -> String {
        envelope::to_text(&self.envelope)
    }
}

impl<T> Clone for Encrypted<T> {
    fn clone(&self) -> Self {
        Self::from_envelope_unchecked(self.envelope.clone())
    }
}

impl<T> PartialEq for Encrypted<T> {
    fn eq(&self, other: &Self) -> bool {
        self.envelope == other.envelope
    }
}

impl<T> Eq for Encrypted<T> {}

impl<T> fmt::Debug for Encrypted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Envelope::decode(&self.envelope) {
            Ok(e) => write!(f, "Encrypted({}, {} bytes)", e.key_id(), e.plaintext_len()),
            Err(_) => f.write_str("Encrypted(<invalid>)"),
        }
    }
}

impl<T> Serialize for Encrypted<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_text())
    }
}

impl<'de, T> serde::Deserialize<'de> for Encrypted<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        let envelope = envelope::from_text(&text).map_err(serde::de::Error::custom)?;
        Self::from_envelope(envelope).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;
    use custodia_core::TenantId;

    fn setup() -> (Keyring, TenantId) {
        (
            Keyring::new(SecretKey::from_bytes([8; 32])),
            TenantId::from_external_key("t", "acme"),
        )
    }

    #[test]
    fn structured_values_round_trip_and_stay_bound() {
        let (keyring, tenant) = setup();
        let ctx = FieldContext::new(tenant, "contact", "1", "phones").unwrap();
        let phones = vec![
            "+61 2 9999 0000".to_string(),
            "+44 20 7946 0000".to_string(),
        ];
        let sealed = Encrypted::seal(&keyring, &ctx, &phones).unwrap();
        assert_eq!(sealed.open(&keyring, &ctx).unwrap(), phones);
        let other = FieldContext::new(tenant, "contact", "2", "phones").unwrap();
        assert_eq!(sealed.open(&keyring, &other), Err(Error::Decrypt));
        assert_eq!(sealed.key_id().unwrap(), KeyId::Tenant { version: 1 });
        let debug = format!("{sealed:?}");
        assert!(
            debug.starts_with("Encrypted(tenant/v1") && !debug.contains("+61"),
            "{debug}"
        );
    }

    #[test]
    fn deserializing_rejects_what_is_not_an_envelope() {
        for bad in ["\"hello\"", "\"cst1.!!!\"", "\"cst1.AAAA\"", "42"] {
            assert!(
                serde_json::from_str::<Encrypted<String>>(bad).is_err(),
                "{bad}"
            );
        }
        let (keyring, tenant) = setup();
        let ctx = FieldContext::new(tenant, "contact", "1", "email").unwrap();
        let sealed = Encrypted::seal(&keyring, &ctx, &"a@b.c".to_string()).unwrap();
        let json = serde_json::to_string(&sealed).unwrap();
        let back: Encrypted<String> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, sealed);
    }
}
