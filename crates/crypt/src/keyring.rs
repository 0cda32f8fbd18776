//! Versioned keys per tenant, with rotation, re-encryption and safe retirement.
//!
//! # Model
//!
//! A [`Keyring`] holds one or more versions of a master key; exactly one
//! version is *primary*. Each tenant's data key for version `v` is derived, not
//! stored:
//!
//! ```text
//! tenant_key(t, v) = HKDF-SHA256(ikm  = master_v,
//!                                salt = "custodia/keyring/v1",
//!                                info = len‖"custodia/tenant-data-key/v1" ‖ len‖tenant(16 bytes) ‖ len‖v(4 bytes, big-endian))
//! ```
//!
//! (each `len` a 4-byte big-endian byte count), so one master key serves every
//! tenant, and tenants' keys are independent: knowing one tenant's data key
//! tells nothing about another's.
//!
//! * [`Keyring::seal`] always uses the primary version and labels the envelope
//!   `tenant/v<primary>`.
//! * [`Keyring::open`] accepts any version still in the ring.
//! * [`Keyring::rotate`] adds a new primary; old ciphertexts keep opening.
//! * [`Keyring::reencrypt`] moves one ciphertext to the primary version.
//! * [`Keyring::retire`] removes a version, but only with a [`KeyUsage`] scan
//!   showing nothing still uses it.
//!
//! Expanded AES keys are cached per (tenant, version), so the key schedule and
//! the HKDF run once, not per field. Each cache entry counts its encryptions:
//! past [`NONCE_LIMIT`] (2^32 random nonces, NIST SP 800-38D §8.3) sealing
//! fails with [`Error::NonceLimit`] until the keyring is rotated, and
//! [`Keyring::usage`] reports how close each key is.
//!
//! ```
//! use custodia_core::TenantId;
//! use custodia_crypt::{FieldContext, KeyId, Keyring, KeyUsage, SecretKey};
//!
//! let keyring = Keyring::new(SecretKey::generate()?);
//! let tenant = TenantId::from_external_key("crm", "ACME");
//! let ctx = FieldContext::new(tenant, "contact", "1017", "email")?;
//! let old = keyring.seal(&ctx, b"alice@example.com")?;
//!
//! let v2 = keyring.rotate(SecretKey::generate()?);
//! assert_eq!(keyring.open(&ctx, &old)?, b"alice@example.com");
//!
//! // Move the old ciphertext to v2, then v1 can go.
//! let new = keyring.reencrypt(&ctx, &old)?;
//! let usage = KeyUsage::scan([new.as_slice()]);
//! keyring.retire(1, &usage)?;
//! assert_eq!(keyring.open(&ctx, &new)?, b"alice@example.com");
//! assert_eq!(usage.count(KeyId::Tenant { version: v2 }), 1);
//! # Ok::<(), custodia_crypt::Error>(())
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};

use custodia_core::TenantId;

use crate::envelope::{Envelope, seal};
use crate::kdf::{derive_key, length_prefixed};
use crate::provider::{AeadKey, CryptoProvider, RING};
use crate::{Error, FieldContext, KeyId, SecretKey};

/// Encryptions allowed per (tenant, key version) with random 96-bit nonces.
pub const NONCE_LIMIT: u64 = 1 << 32;

const SALT: &[u8] = b"custodia/keyring/v1";
const TENANT_KEY_LABEL: &[u8] = b"custodia/tenant-data-key/v1";

/// Hashes cache keys with a per-process random seed and a multiply-rotate mix:
/// a tenant id is already 128 random-looking bits, so SipHash's ~200
/// instructions per lookup (a tenth of a 64-byte seal) buy nothing here, while
/// the seed still keeps bucket placement unpredictable to outsiders.
#[derive(Clone)]
struct CacheHasherBuilder(u64);

impl Default for CacheHasherBuilder {
    fn default() -> Self {
        // RandomState is seeded from the OS once per process.
        use std::hash::BuildHasher;
        Self(std::collections::hash_map::RandomState::new().hash_one(0u8) | 1)
    }
}

impl std::hash::BuildHasher for CacheHasherBuilder {
    type Hasher = CacheHasher;

    fn build_hasher(&self) -> CacheHasher {
        CacheHasher(self.0)
    }
}

struct CacheHasher(u64);

impl std::hash::Hasher for CacheHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0 ^ word)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29);
    }

    fn write_u32(&mut self, word: u32) {
        self.write_u64(u64::from(word));
    }

    fn write_usize(&mut self, word: usize) {
        self.write_u64(word as u64);
    }

    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 32)
    }
}

/// An expanded tenant key and how often it has sealed.
struct CachedKey {
    key: Box<dyn AeadKey>,
    sealed: AtomicU64,
}

/// Master key versions and the tenant keys derived from them.
///
/// Shared by reference (`Arc<Keyring>`) across threads and services: rotation
/// and retirement take `&self`, so every holder sees the new primary at once.
pub struct Keyring {
    provider: &'static dyn CryptoProvider,
    masters: RwLock<BTreeMap<u32, SecretKey>>,
    primary: AtomicU32,
    cache: RwLock<HashMap<(TenantId, u32), CachedKey, CacheHasherBuilder>>,
}

impl Keyring {
    /// A keyring whose only (and primary) version 1 is `master`, on ring.
    pub fn new(master: SecretKey) -> Self {
        Self::with_provider(&RING, master)
    }

    /// A keyring on a chosen crypto provider.
    pub fn with_provider(provider: &'static dyn CryptoProvider, master: SecretKey) -> Self {
        Self {
            provider,
            masters: RwLock::new(BTreeMap::from([(1, master)])),
            primary: AtomicU32::new(1),
            cache: RwLock::new(HashMap::default()),
        }
    }

    /// The primary version: the one [`Keyring::seal`] uses.
    pub fn primary(&self) -> u32 {
        self.primary.load(Ordering::Acquire)
    }

    /// Every version in the ring, oldest first.
    pub fn versions(&self) -> Vec<u32> {
        self.masters().keys().copied().collect()
    }

    fn masters(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<u32, SecretKey>> {
        self.masters.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds `master` as a new version and makes it primary; returns its number.
    pub fn rotate(&self, master: SecretKey) -> u32 {
        let mut masters = self.masters.write().unwrap_or_else(PoisonError::into_inner);
        let version = masters
            .keys()
            .next_back()
            .map_or(1, |v| v.saturating_add(1));
        masters.insert(version, master);
        self.primary.store(version, Ordering::Release);
        version
    }

    /// Removes `version`, if it is not primary and `usage` shows no envelope
    /// still sealed under it.
    pub fn retire(&self, version: u32, usage: &KeyUsage) -> Result<(), Error> {
        let mut masters = self.masters.write().unwrap_or_else(PoisonError::into_inner);
        if version == self.primary() {
            return Err(Error::KeyInUse {
                version,
                envelopes: 0,
            });
        }
        let envelopes = usage.tenant_count(version);
        if envelopes > 0 {
            return Err(Error::KeyInUse { version, envelopes });
        }
        if masters.remove(&version).is_none() {
            return Err(Error::UnknownKey(KeyId::Tenant { version }));
        }
        self.cache
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(_, v), _| *v != version);
        Ok(())
    }

    /// Encrypts `plaintext` for `ctx` under the tenant's primary key.
    pub fn seal(&self, ctx: &FieldContext<'_>, plaintext: &[u8]) -> Result<Vec<u8>, Error> {
        let primary = self.primary();
        let key_id = KeyId::Tenant { version: primary };
        self.with_tenant_key(ctx.tenant(), primary, |cached| {
            // Count first, so concurrent sealers cannot overshoot the limit together.
            if cached.sealed.fetch_add(1, Ordering::Relaxed) >= NONCE_LIMIT {
                return Err(Error::NonceLimit { key: key_id });
            }
            seal(cached.key.as_ref(), key_id, ctx, plaintext)
        })
    }

    /// Decrypts an envelope sealed under any version still in the ring.
    pub fn open(&self, ctx: &FieldContext<'_>, envelope: &[u8]) -> Result<Vec<u8>, Error> {
        let envelope = Envelope::decode(envelope)?;
        match envelope.key_id() {
            KeyId::Tenant { version } => self.with_tenant_key(ctx.tenant(), version, |cached| {
                envelope.open(cached.key.as_ref(), ctx)
            }),
            other => Err(Error::UnknownKey(other)),
        }
    }

    /// Re-seals an envelope under the primary version; an envelope already
    /// there is returned unchanged.
    pub fn reencrypt(&self, ctx: &FieldContext<'_>, envelope: &[u8]) -> Result<Vec<u8>, Error> {
        let current = Envelope::decode(envelope)?.key_id();
        if current
            == (KeyId::Tenant {
                version: self.primary(),
            })
        {
            // Still authenticate it: re-encryption must never bless a forgery.
            self.open(ctx, envelope)?;
            return Ok(envelope.to_vec());
        }
        let plaintext = zeroize::Zeroizing::new(self.open(ctx, envelope)?);
        self.seal(ctx, &plaintext)
    }

    /// How many envelopes each cached (tenant, version) key has sealed in this
    /// process, and how many remain before [`NONCE_LIMIT`].
    pub fn usage(&self) -> Vec<NonceUsage> {
        let cache = self.cache.read().unwrap_or_else(PoisonError::into_inner);
        let mut usage: Vec<NonceUsage> = cache
            .iter()
            .map(|(&(tenant, version), key)| NonceUsage {
                tenant,
                key: KeyId::Tenant { version },
                sealed: key.sealed.load(Ordering::Relaxed).min(NONCE_LIMIT),
            })
            .collect();
        usage.sort_by_key(|u| (u.tenant, u.key));
        usage
    }

    /// Runs `f` with the expanded key of (`tenant`, `version`), deriving and
    /// caching it on first use. The common case takes one shared read lock.
    fn with_tenant_key<T>(
        &self,
        tenant: TenantId,
        version: u32,
        f: impl FnOnce(&CachedKey) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let cache = self.cache.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(cached) = cache.get(&(tenant, version)) {
            return f(cached);
        }
        drop(cache);
        let cached = self.derive_tenant_key(tenant, version)?;
        let mut cache = self.cache.write().unwrap_or_else(PoisonError::into_inner);
        f(cache.entry((tenant, version)).or_insert(cached))
    }

    fn derive_tenant_key(&self, tenant: TenantId, version: u32) -> Result<CachedKey, Error> {
        let masters = self.masters();
        let master = masters
            .get(&version)
            .ok_or(Error::UnknownKey(KeyId::Tenant { version }))?;
        let data_key = derive_key(
            master,
            SALT,
            &[&length_prefixed(&[
                TENANT_KEY_LABEL,
                tenant.as_bytes(),
                &version.to_be_bytes(),
            ])],
        )?;
        Ok(CachedKey {
            key: self.provider.aes_256_gcm(&data_key)?,
            sealed: AtomicU64::new(0),
        })
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("provider", &self.provider.name())
            .field("versions", &self.versions())
            .field("primary", &self.primary())
            .finish_non_exhaustive()
    }
}

/// How many encryptions one key has performed in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NonceUsage {
    /// The tenant.
    pub tenant: TenantId,
    /// The key.
    pub key: KeyId,
    /// Envelopes sealed (capped at [`NONCE_LIMIT`]).
    pub sealed: u64,
}

impl NonceUsage {
    /// Encryptions left before the key must be rotated.
    pub fn remaining(&self) -> u64 {
        NONCE_LIMIT - self.sealed
    }
}

/// Which keys a set of stored envelopes still uses: the evidence
/// [`Keyring::retire`] asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyUsage {
    counts: BTreeMap<KeyId, u64>,
    undecodable: u64,
}

impl KeyUsage {
    /// Scans envelopes (binary form) and counts them by key id.
    pub fn scan<'a>(envelopes: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut usage = Self::default();
        for envelope in envelopes {
            usage.add(envelope);
        }
        usage
    }

    /// Counts one more envelope.
    pub fn add(&mut self, envelope: &[u8]) {
        match Envelope::decode(envelope) {
            Ok(decoded) => *self.counts.entry(decoded.key_id()).or_default() += 1,
            Err(_) => self.undecodable += 1,
        }
    }

    /// Envelopes sealed under `key`.
    pub fn count(&self, key: KeyId) -> u64 {
        self.counts.get(&key).copied().unwrap_or(0)
    }

    /// Envelopes sealed under tenant key `version`, for any tenant.
    pub fn tenant_count(&self, version: u32) -> u64 {
        self.count(KeyId::Tenant { version })
    }

    /// Every key id seen, with its count.
    pub fn iter(&self) -> impl Iterator<Item = (KeyId, u64)> + '_ {
        self.counts.iter().map(|(k, n)| (*k, *n))
    }

    /// Values that were not envelopes at all (never silently ignored).
    pub fn undecodable(&self) -> u64 {
        self.undecodable
    }
}
