//! Deterministic encryption: equal plaintexts give equal ciphertexts.
//!
//! The field [envelope](crate::envelope) draws a random nonce, so the same
//! value encrypts differently every time and a database can neither look it
//! up nor enforce its uniqueness. [`DeterministicCipher`] encrypts with
//! AES-256-SIV (RFC 5297), a deterministic authenticated cipher: the IV is
//! itself a MAC (S2V over AES-CMAC) of the associated data and the plaintext,
//! so no nonce is needed and the same input always gives the same output. An
//! exact-match query, a `UNIQUE` index or a join then works on the ciphertext
//! column, and the value can still be decrypted.
//!
//! Get a cipher from [`Keyring::deterministic`](crate::Keyring::deterministic),
//! keyed by the tenant's rotation-stable search key, or build one over a key
//! of your own with [`DeterministicCipher::new`].
//!
//! The key design decision is one SIV key per tenant, record type and field,
//! derived from the caller's key, with the associated data binding the same
//! three. Equal values therefore encrypt alike only within one column of one
//! tenant. The record id is not bound and cannot be: a deterministic
//! ciphertext must be the same in every row, so, unlike an envelope, one can
//! be copied to another row of the same column without detection. Only
//! tenant, record type (table) and field (column) are protected.
//!
//! # What it leaks, compared with the envelope
//!
//! | | envelope (AES-256-GCM, random nonce) | deterministic (AES-256-SIV) |
//! |---|---|---|
//! | equal plaintexts in one tenant's column | hidden | **visible**: equal ciphertexts |
//! | frequency of each value | hidden | **visible** |
//! | plaintext length | visible | visible |
//! | across tenants or columns | nothing | nothing |
//! | bound to the row | yes | no |
//! | a repeated nonce | catastrophic | not applicable (misuse-resistant) |
//!
//! Whoever reads the column learns which rows hold the same value and how
//! often each value occurs; for a low-entropy field (a country, a status) that
//! is close to learning the values. Prefer an envelope plus a truncated
//! [blind index](crate::BlindIndex), which hides lengths and blurs equality, unless
//! exact ciphertext matching is really needed. Pad values to a fixed length
//! first if their length is sensitive.
//!
//! # Binary format, version 1
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 1 | format version, `0x01` |
//! | 1 | 16 | SIV tag |
//! | 17 | n | AES-CTR ciphertext of the n-byte plaintext |
//!
//! # Key derivation and associated data
//!
//! The 64-byte AES-SIV key (a CMAC key, then a CTR key) is HKDF-SHA256 of the
//! caller's key with an empty salt and as info the length-prefixed parts
//! `"custodia/deterministic/v1"`, the tenant's 16 UUID bytes, the record type
//! and the field name (each part preceded by its length as a 4-byte
//! big-endian integer). The single associated-data header given to S2V is
//! the format version byte followed by that same encoding.
//!
//! # Example
//!
//! ```
//! use custodia_core::TenantId;
//! use custodia_crypt::SecretKey;
//! use custodia_crypt::deterministic::DeterministicCipher;
//!
//! let key = SecretKey::generate()?;
//! let acme = TenantId::from_external_key("crm", "ACME");
//! let cipher = DeterministicCipher::new(&key, acme, "contact", "tax_id")?;
//!
//! // Equal values give equal ciphertexts: the column can be queried and indexed.
//! let sealed = cipher.encrypt(b"GB123456789")?;
//! assert_eq!(sealed, cipher.encrypt(b"GB123456789")?);
//! assert_eq!(cipher.decrypt(&sealed)?, b"GB123456789");
//!
//! // The length shows: 1 version byte and a 16-byte tag over the plaintext.
//! assert_eq!(sealed.len(), 11 + 17);
//!
//! // Another field (or tenant) neither matches nor decrypts it.
//! let other = DeterministicCipher::new(&key, acme, "contact", "phone")?;
//! assert_ne!(other.encrypt(b"GB123456789")?, sealed);
//! assert!(other.decrypt(&sealed).is_err());
//! # Ok::<(), custodia_crypt::Error>(())
//! ```

use std::fmt;
use std::sync::{Mutex, PoisonError};

use aes_siv::siv::Aes256Siv;
use aes_siv::{KeyInit, Tag};
use custodia_core::TenantId;
use zeroize::Zeroizing;

use crate::envelope::MAX_PLAINTEXT_LEN;
use crate::{Error, SecretKey, kdf};

/// The format version this build writes and reads.
pub const VERSION: u8 = 1;
/// Bytes a ciphertext adds to its plaintext: the version byte and the tag.
pub const OVERHEAD: usize = 1 + TAG_LEN;
/// The largest ciphertext [`DeterministicCipher::decrypt`] accepts.
pub const MAX_CIPHERTEXT_LEN: usize = MAX_PLAINTEXT_LEN + OVERHEAD;

const TAG_LEN: usize = 16;
/// AES-256-SIV takes two AES-256 keys.
const KEY_LEN: usize = 64;
/// Domain separation for deterministic-encryption keys.
const LABEL: &[u8] = b"custodia/deterministic/v1";
/// Idle expanded instances a cipher keeps for reuse.
const POOL_MAX: usize = 16;

/// AES-256-SIV for one field of one record type of one tenant.
///
/// Safe to share between threads.
pub struct DeterministicCipher {
    // Boxed so that moving the cipher does not leave key copies behind;
    // wiped on drop.
    key: Box<Zeroizing<[u8; KEY_LEN]>>,
    // Expanded instances, saving a key setup (~180 ns, a fifth of a call)
    // per call; see `with_siv`.
    pool: Mutex<Vec<Aes256Siv>>,
    aad: Box<[u8]>,
    tenant: TenantId,
    record_type: Box<str>,
    field: Box<str>,
}

impl DeterministicCipher {
    /// A cipher for `field` of `record_type` in `tenant`, keyed by a key
    /// derived from `key` (see the [module documentation](self)).
    ///
    /// `key` may be the tenant's data key: the derivation keeps uses apart.
    /// Fails if the record type or field is empty or longer than
    /// [`MAX_CONTEXT_PART`](crate::MAX_CONTEXT_PART) bytes.
    pub fn new(
        key: &SecretKey,
        tenant: TenantId,
        record_type: &str,
        field: &str,
    ) -> Result<Self, Error> {
        let info = kdf::field_info(LABEL, tenant, record_type, field)?;
        let mut siv_key = Box::new(Zeroizing::new([0u8; KEY_LEN]));
        kdf::hkdf_sha256(key.expose_secret(), &[], &[&info], siv_key.as_mut_slice())?;
        let mut aad = Vec::with_capacity(1 + info.len());
        aad.push(VERSION);
        aad.extend_from_slice(&info);
        Ok(Self {
            pool: Mutex::new(vec![expand(&siv_key)?]),
            key: siv_key,
            aad: aad.into(),
            tenant,
            record_type: record_type.into(),
            field: field.into(),
        })
    }

    /// Encrypts `plaintext`: the same plaintext always gives the same bytes.
    ///
    /// Fails only for a plaintext over [`MAX_PLAINTEXT_LEN`].
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<Vec<u8>, Error> {
        if plaintext.len() > MAX_PLAINTEXT_LEN {
            return Err(Error::PlaintextTooLarge {
                len: plaintext.len(),
                max: MAX_PLAINTEXT_LEN,
            });
        }
        let mut out = Vec::with_capacity(OVERHEAD + plaintext.len());
        out.push(VERSION);
        out.extend_from_slice(&[0; TAG_LEN]);
        out.extend_from_slice(plaintext);
        let (header, body) = out.split_at_mut(OVERHEAD);
        let tag = self
            .with_siv(|siv| siv.encrypt_in_place_detached([&*self.aad], body))?
            // S2V fails only for more than 126 headers; there is one.
            .map_err(|_| Error::InvalidContext("AES-SIV rejected the associated data"))?;
        header[1..].copy_from_slice(&tag);
        Ok(out)
    }

    /// Decrypts what [`encrypt`](Self::encrypt) produced for this tenant,
    /// record type and field.
    ///
    /// Fails with [`Error::Truncated`] below [`OVERHEAD`] bytes,
    /// [`Error::UnsupportedVersion`] for an unknown first byte,
    /// [`Error::Oversized`] above [`MAX_CIPHERTEXT_LEN`], and
    /// [`Error::Decrypt`] for a wrong key, tenant, record type or field, or
    /// modified bytes. Never panics.
    pub fn decrypt(&self, ciphertext: &[u8]) -> Result<Vec<u8>, Error> {
        if ciphertext.len() > MAX_CIPHERTEXT_LEN {
            return Err(Error::Oversized {
                len: ciphertext.len(),
                max: MAX_CIPHERTEXT_LEN,
            });
        }
        let truncated = || Error::Truncated {
            len: ciphertext.len(),
            min: OVERHEAD,
        };
        let (&version, rest) = ciphertext.split_first().ok_or_else(truncated)?;
        if version != VERSION {
            return Err(Error::UnsupportedVersion(version));
        }
        let (tag, body) = rest.split_first_chunk::<TAG_LEN>().ok_or_else(truncated)?;
        let mut plaintext = body.to_vec();
        let tag = Tag::from(*tag);
        self.with_siv(|siv| siv.decrypt_in_place_detached([&*self.aad], &mut plaintext, &tag))?
            .map_err(|_| Error::Decrypt)?;
        Ok(plaintext)
    }

    crate::context::column_accessors!("cipher");

    /// Runs `op` on an expanded AES-SIV instance taken from the pool, and
    /// puts it back afterwards.
    ///
    /// aes-siv's methods take `&mut self` (S2V updates a CMAC state), so one
    /// instance cannot serve two threads at once. The lock is held only to
    /// take and to return an instance, never during the cryptography: threads
    /// sharing the cipher never wait for each other's work, and each
    /// concurrent caller costs one key setup once, not per call. Expanding
    /// per call instead would add about a fifth to each call (see the
    /// `deterministic` benchmark); a thread-local cache would leave key
    /// schedules behind in other threads after the cipher is dropped. The
    /// pool keeps at most [`POOL_MAX`] idle instances; an instance whose
    /// operation panicked is dropped, not returned.
    fn with_siv<R>(&self, op: impl FnOnce(&mut Aes256Siv) -> R) -> Result<R, Error> {
        let pooled = self.pool().pop();
        let mut siv = match pooled {
            Some(siv) => siv,
            None => expand(&self.key)?,
        };
        let result = op(&mut siv);
        let mut pool = self.pool();
        if pool.len() < POOL_MAX {
            pool.push(siv);
        }
        Ok(result)
    }

    /// The pool. A panic cannot happen while it is locked, and its instances
    /// are never left half-used, so a poisoned lock is safe to reuse.
    fn pool(&self) -> std::sync::MutexGuard<'_, Vec<Aes256Siv>> {
        self.pool.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A fresh AES-SIV instance; it wipes its copy of the CTR key on drop.
fn expand(key: &[u8; KEY_LEN]) -> Result<Aes256Siv, Error> {
    Aes256Siv::new_from_slice(key).map_err(|_| Error::InvalidKeyLength {
        expected: KEY_LEN,
        actual: key.len(),
    })
}

impl Clone for DeterministicCipher {
    fn clone(&self) -> Self {
        Self {
            key: self.key.clone(),
            pool: Mutex::new(Vec::new()),
            aad: self.aad.clone(),
            tenant: self.tenant,
            record_type: self.record_type.clone(),
            field: self.field.clone(),
        }
    }
}

impl fmt::Debug for DeterministicCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeterministicCipher")
            .field("tenant", &self.tenant)
            .field("record_type", &self.record_type)
            .field("field", &self.field)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use custodia_core::uuid::Uuid;
    use proptest::prelude::*;
    use serde_json::Value;

    use super::*;

    const WYCHEPROOF: &str = include_str!("../testdata/aes_siv_cmac_256_test.json");

    fn tenant(n: u128) -> TenantId {
        TenantId::from_uuid(Uuid::from_u128(n))
    }

    fn key() -> SecretKey {
        SecretKey::from_bytes([0x42; 32])
    }

    fn cipher(tenant: TenantId, record_type: &str, field: &str) -> DeterministicCipher {
        DeterministicCipher::new(&key(), tenant, record_type, field).unwrap()
    }

    fn hex_field(test: &Value, name: &str) -> Vec<u8> {
        let text = test[name]
            .as_str()
            .unwrap_or_else(|| panic!("vector lacks {name}: {test}"));
        hex::decode(text).unwrap()
    }

    /// Runs one vector against the raw primitive; returns whether it was valid.
    fn check_vector(test: &Value) -> bool {
        let id = &test["tcId"];
        let key = hex_field(test, "key");
        let (aad, msg, ct) = (
            hex_field(test, "aad"),
            hex_field(test, "msg"),
            hex_field(test, "ct"),
        );
        let mut siv = Aes256Siv::new_from_slice(&key).unwrap();
        match test["result"].as_str() {
            Some("valid") => {
                assert_eq!(siv.encrypt([&aad], &msg).unwrap(), ct, "tcId {id}");
                assert_eq!(siv.decrypt([&aad], &ct).unwrap(), msg, "tcId {id}");
                true
            }
            Some("invalid") => {
                assert!(siv.decrypt([&aad], &ct).is_err(), "tcId {id}");
                false
            }
            other => panic!("tcId {id}: unexpected result {other:?}"),
        }
    }

    #[test]
    fn wycheproof_aes_256_siv() {
        let (valid, invalid) = crate::wycheproof::tally(
            WYCHEPROOF,
            "AES-SIV-CMAC",
            |group| assert_eq!(group["keySize"], 512, "only AES-256-SIV belongs here"),
            check_vector,
        );
        assert_eq!((valid, invalid), (39, 108));
    }

    /// Pins key derivation, associated data and format: stored ciphertexts
    /// must stay decryptable. Computed independently with Python's `hmac`
    /// and `cryptography` (`AESSIV`).
    #[test]
    fn known_answer() {
        let sealed = cipher(tenant(1), "contact", "tax_id")
            .encrypt(b"GB123456789")
            .unwrap();
        assert_eq!(
            hex::encode(sealed),
            "01613d347a58b82cc3170ea93a4b4686f86c7f4b08a259e1ba6c8d9a"
        );
    }

    #[test]
    fn empty_plaintext_round_trips() {
        let cipher = cipher(tenant(1), "contact", "tax_id");
        let sealed = cipher.encrypt(b"").unwrap();
        assert_eq!(sealed.len(), OVERHEAD);
        assert_eq!(sealed[0], VERSION);
        assert_eq!(cipher.decrypt(&sealed).unwrap(), b"");
    }

    #[test]
    fn typed_errors() {
        let cipher = cipher(tenant(1), "contact", "tax_id");
        let min = OVERHEAD;
        assert_eq!(cipher.decrypt(&[]), Err(Error::Truncated { len: 0, min }));
        assert_eq!(
            cipher.decrypt(&[VERSION; 16]),
            Err(Error::Truncated { len: 16, min })
        );
        assert_eq!(cipher.decrypt(&[2; 40]), Err(Error::UnsupportedVersion(2)));
        assert_eq!(cipher.decrypt(&[0]), Err(Error::UnsupportedVersion(0)));
        assert_eq!(cipher.decrypt(&[VERSION; 17]), Err(Error::Decrypt));

        let sealed = cipher.encrypt(b"GB123456789").unwrap();
        for bit in 8..sealed.len() * 8 {
            let mut flipped = sealed.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(cipher.decrypt(&flipped), Err(Error::Decrypt), "bit {bit}");
        }
        assert_eq!(
            cipher.decrypt(&sealed[..sealed.len() - 1]),
            Err(Error::Decrypt)
        );
    }

    #[test]
    fn size_limits() {
        let cipher = cipher(tenant(1), "contact", "tax_id");
        let big = vec![0u8; MAX_CIPHERTEXT_LEN + 1];
        assert_eq!(
            cipher.encrypt(&big[..=MAX_PLAINTEXT_LEN]),
            Err(Error::PlaintextTooLarge {
                len: MAX_PLAINTEXT_LEN + 1,
                max: MAX_PLAINTEXT_LEN
            })
        );
        assert_eq!(
            cipher.decrypt(&big),
            Err(Error::Oversized {
                len: MAX_CIPHERTEXT_LEN + 1,
                max: MAX_CIPHERTEXT_LEN
            })
        );
    }

    #[test]
    fn context_is_validated_and_separated() {
        assert!(matches!(
            DeterministicCipher::new(&key(), tenant(1), "", "tax_id"),
            Err(Error::InvalidContext(_))
        ));
        assert!(matches!(
            DeterministicCipher::new(&key(), tenant(1), "contact", ""),
            Err(Error::InvalidContext(_))
        ));
        let sealed = cipher(tenant(1), "ab", "c").encrypt(b"x").unwrap();
        assert_eq!(
            cipher(tenant(1), "a", "bc").decrypt(&sealed),
            Err(Error::Decrypt)
        );
        assert_eq!(
            cipher(tenant(1), "other", "c").decrypt(&sealed),
            Err(Error::Decrypt)
        );
        let other_key =
            DeterministicCipher::new(&SecretKey::from_bytes([1; 32]), tenant(1), "ab", "c")
                .unwrap();
        assert_eq!(other_key.decrypt(&sealed), Err(Error::Decrypt));
    }

    #[test]
    fn shared_between_threads_and_cloned() {
        let cipher = cipher(tenant(1), "contact", "tax_id");
        let expected = cipher.encrypt(b"GB123456789").unwrap();
        // Concurrent calls take their own instances and agree.
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..200 {
                        assert_eq!(cipher.encrypt(b"GB123456789").unwrap(), expected);
                        assert_eq!(cipher.decrypt(&expected).unwrap(), b"GB123456789");
                    }
                });
            }
        });
        let clone = cipher.clone();
        assert_eq!(clone.encrypt(b"GB123456789").unwrap(), expected);
        assert_eq!(clone.decrypt(&expected).unwrap(), b"GB123456789");
    }

    #[test]
    fn a_poisoned_pool_still_works() {
        let cipher = cipher(tenant(1), "contact", "tax_id");
        let expected = cipher.encrypt(b"x").unwrap();
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _guard = cipher.pool.lock();
            panic!("poison the pool");
        }));
        assert!(cipher.pool.is_poisoned());
        assert_eq!(cipher.encrypt(b"x").unwrap(), expected);
        assert_eq!(cipher.decrypt(&expected).unwrap(), b"x");
    }

    #[test]
    fn the_pool_reuses_instances_and_stays_bounded() {
        let cipher = cipher(tenant(1), "contact", "tax_id");
        assert_eq!(cipher.pool().len(), 1, "expanded once at construction");
        for _ in 0..10 {
            cipher.encrypt(b"x").unwrap();
        }
        assert_eq!(cipher.pool().len(), 1, "one caller, one instance");
        let expected = cipher.encrypt(b"y").unwrap();
        std::thread::scope(|s| {
            for _ in 0..2 * POOL_MAX {
                s.spawn(|| assert_eq!(cipher.encrypt(b"y").unwrap(), expected));
            }
        });
        let idle = cipher.pool().len();
        assert!((1..=POOL_MAX).contains(&idle), "{idle}");
    }

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<DeterministicCipher>();
    }

    #[test]
    fn debug_never_shows_the_key() {
        let cipher = cipher(tenant(1), "contact", "tax_id");
        let printed = format!("{cipher:?} {cipher:#?}");
        assert!(
            printed.contains("tax_id") && printed.contains("contact"),
            "{printed}"
        );
        assert!(
            !printed.contains(&hex::encode(&cipher.key[..8])),
            "{printed}"
        );
        assert!(!printed.contains("aad"), "{printed}");
    }

    fn any_tenant() -> impl Strategy<Value = TenantId> {
        any::<u128>().prop_map(tenant)
    }

    fn any_bytes() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), 0..256)
    }

    proptest! {
        #[test]
        fn round_trip(t in any_tenant(), plaintext in any_bytes()) {
            let cipher = cipher(t, "contact", "tax_id");
            let sealed = cipher.encrypt(&plaintext).unwrap();
            prop_assert_eq!(sealed.len(), plaintext.len() + OVERHEAD);
            prop_assert_eq!(cipher.decrypt(&sealed).unwrap(), plaintext);
        }

        #[test]
        fn deterministic(t in any_tenant(), plaintext in any_bytes(), other in any_bytes()) {
            let first = cipher(t, "contact", "tax_id");
            let second = cipher(t, "contact", "tax_id");
            let sealed = first.encrypt(&plaintext).unwrap();
            prop_assert_eq!(&sealed, &second.encrypt(&plaintext).unwrap());
            prop_assert_eq!(sealed == first.encrypt(&other).unwrap(), plaintext == other);
        }

        #[test]
        fn other_tenant_cannot_decrypt(a in any_tenant(), b in any_tenant(), plaintext in any_bytes()) {
            prop_assume!(a != b);
            let sealed = cipher(a, "contact", "tax_id").encrypt(&plaintext).unwrap();
            prop_assert_eq!(cipher(b, "contact", "tax_id").decrypt(&sealed), Err(Error::Decrypt));
        }

        #[test]
        fn other_field_cannot_decrypt(t in any_tenant(), field in "[a-z_]{1,12}", plaintext in any_bytes()) {
            prop_assume!(field != "tax_id");
            let sealed = cipher(t, "contact", "tax_id").encrypt(&plaintext).unwrap();
            prop_assert_eq!(cipher(t, "contact", &field).decrypt(&sealed), Err(Error::Decrypt));
            prop_assert_eq!(cipher(t, &field, "tax_id").decrypt(&sealed), Err(Error::Decrypt));
        }

        #[test]
        fn decrypt_never_panics(bytes in any_bytes()) {
            let result = cipher(tenant(1), "contact", "tax_id").decrypt(&bytes);
            // Forging a 128-bit tag by chance is not going to happen.
            prop_assert!(result.is_err());
        }

        #[test]
        fn decrypt_of_versioned_noise_is_an_auth_failure(noise in proptest::collection::vec(any::<u8>(), 16..256)) {
            let mut bytes = vec![VERSION];
            bytes.extend_from_slice(&noise);
            prop_assert_eq!(cipher(tenant(1), "contact", "tax_id").decrypt(&bytes), Err(Error::Decrypt));
        }
    }
}
