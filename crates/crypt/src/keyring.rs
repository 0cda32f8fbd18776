//! Versioned keys per tenant, with rotation, re-encryption, safe retirement,
//! whole-tenant shredding and rotation-stable search keys.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use custodia_core::{ActorId, Clock, SubjectId, TenantId};
use zeroize::Zeroizing;

use crate::blind::{BlindIndex, BlindIndexConfig};
use crate::deterministic::DeterministicCipher;
use crate::envelope::{Envelope, seal_into};
use crate::kdf::{derive_key, length_prefixed};
use crate::provider::{AeadKey, CryptoProvider, RING};
use crate::store::{
    DEFAULT_STALENESS_BOUND, Freshness, KeyStore, KeyStoreChanges, KeyringRecord, ShredOutcome,
    StoredTenantKeys, StoredVersion, TenantKeySlot, TenantShredReceipt, lock_or_defer, now_nanos,
    read_or_defer, write_or_defer,
};
use crate::{Error, FieldCipher, FieldContext, KeyId, SecretKey};

/// Encryptions allowed per (tenant, key version) with random 96-bit nonces
/// (NIST SP 800-38D §8.3): the most a [`NonceBudget`] may allow.
pub const NONCE_LIMIT: u64 = 1 << 32;

/// How many random-nonce encryptions each tenant data key may perform, when
/// to warn, and (for stored keyrings) how many to reserve from the store at a
/// time.
///
/// The default allows [`NONCE_LIMIT`] (2^32) encryptions per (tenant,
/// version) key, signals rotation from 2^31 ([`NonceUsage::needs_rotation`],
/// [`Keyring::needs_rotation`]) and reserves 2^20 at a time, so a stored
/// keyring writes its store once per million encryptions per key, and a
/// crash wastes at most a million of the four billion. A lower limit is
/// allowed (a stricter policy, or a test); a higher one is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NonceBudget {
    limit: u64,
    warning: u64,
    block: u64,
}

impl Default for NonceBudget {
    fn default() -> Self {
        Self {
            limit: NONCE_LIMIT,
            warning: NONCE_LIMIT / 2,
            block: 1 << 20,
        }
    }
}

impl NonceBudget {
    /// A budget of `limit` encryptions per key, signalling rotation from
    /// `warning` and reserving `block` at a time from a store. Fails with
    /// [`Error::InvalidConfig`] unless `0 < limit <= NONCE_LIMIT`,
    /// `warning <= limit` and `block > 0`.
    pub fn new(limit: u64, warning: u64, block: u64) -> Result<Self, Error> {
        if limit == 0 || limit > NONCE_LIMIT {
            return Err(Error::InvalidConfig(
                "the nonce limit must be between 1 and 2^32",
            ));
        }
        if warning > limit {
            return Err(Error::InvalidConfig(
                "the nonce warning threshold must not exceed the limit",
            ));
        }
        if block == 0 {
            return Err(Error::InvalidConfig(
                "the nonce reservation block must not be empty",
            ));
        }
        Ok(Self {
            limit,
            warning,
            block,
        })
    }

    /// Encryptions allowed per key.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Encryptions after which rotation is due.
    pub fn warning(&self) -> u64 {
        self.warning
    }

    /// Encryptions a stored keyring reserves from its store at a time.
    pub fn block(&self) -> u64 {
        self.block
    }
}

/// Attempts at the store's compare-and-swap before a reservation gives up.
const RESERVE_ATTEMPTS: u32 = 64;

const SALT: &[u8] = b"custodia/keyring/v1";
const TENANT_KEY_LABEL: &[u8] = b"custodia/tenant-data-key/v1";
const TENANT_KEK_LABEL: &[u8] = b"custodia/tenant-kek/v1";
const SEARCH_KEY_LABEL: &[u8] = b"custodia/tenant-search-key/v1";
const SEARCH_KEK_LABEL: &[u8] = b"custodia/tenant-search-kek/v1";
const RECORD_WRAP_LABEL: &[u8] = b"custodia/keyring-record-kek/v1";

// Record types of the contexts that wrapped keyring secrets and tenant keys
// are bound to (reserved: `FieldContext::new` refuses them).
use crate::context::{KEYRING_RECORD, TENANT_KEY_RECORD};

/// How a keyring makes each tenant's data keys.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum DataKeyMode {
    /// Derived from the version key with HKDF-SHA256: nothing stored per
    /// tenant, but a tenant's keys cannot be destroyed without destroying
    /// everyone's.
    #[default]
    Derived,
    /// 32 random bytes per tenant and version, stored wrapped by a
    /// key-encryption key derived from the version key: one store entry per
    /// tenant, and [`Keyring::shred_tenant`] can erase a whole tenant.
    Random,
}

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

/// Nonces a sealing thread reserves from a key's count at a time, so that
/// a seal usually updates no shared counter.
const RESERVE: u64 = 32;

/// An expanded tenant key and how many nonces it has used or handed out.
struct CachedKey {
    key: Box<dyn AeadKey>,
    /// Seals done in this process plus seals reserved by threads and not yet
    /// done. Never below the true count, never above `allowed`.
    sealed: AtomicU64,
    /// Seals this process may do: the budget's limit for an in-memory
    /// keyring; for a stored one, the sum of the blocks it reserved in the
    /// store. Only grows.
    allowed: AtomicU64,
    /// The store's count after this process's last reservation (stored
    /// keyrings only): a lower bound of the count of every process together.
    stored: AtomicU64,
    /// Serialises reservations from the store.
    refill: Mutex<()>,
}

impl CachedKey {
    fn new(key: Box<dyn AeadKey>, allowed: u64) -> Self {
        Self {
            key,
            sealed: AtomicU64::new(0),
            allowed: AtomicU64::new(allowed),
            stored: AtomicU64::new(0),
            refill: Mutex::new(()),
        }
    }

    /// Reserves up to [`RESERVE`] seals below `allowed`; returns how many
    /// (0 when the process's allowance is spent). Reservations are disjoint
    /// ranges of the count, so the seals of all threads together never pass
    /// the allowance. Runs once per [`RESERVE`] seals of a thread.
    fn try_reserve(&self) -> u64 {
        let allowed = self.allowed.load(Ordering::Acquire);
        let mut current = self.sealed.load(Ordering::Relaxed);
        loop {
            if current >= allowed {
                return 0;
            }
            let granted = (allowed - current).min(RESERVE);
            match self.sealed.compare_exchange_weak(
                current,
                current + granted,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return granted,
                Err(now) => current = now,
            }
        }
    }

    /// Gives back seals reserved and not used.
    fn release(&self, unused: u64) {
        self.sealed.fetch_sub(unused, Ordering::Relaxed);
    }
}

/// Tells keyrings apart in the per-thread cache, without reusing numbers the
/// way addresses are reused.
static NEXT_KEYRING_ID: AtomicU64 = AtomicU64::new(1);

/// The key a thread used last, so that a run of seals for one tenant takes
/// no lock and hashes nothing.
struct LastKey {
    keyring: u64,
    generation: u64,
    /// The tenant's 16 bytes as one number: two word compares, no `memcmp`.
    tenant: u128,
    version: u32,
    key: Arc<CachedKey>,
    /// Seals reserved from `key` and not yet used by this thread.
    reserved: u64,
}

impl Drop for LastKey {
    /// A thread moving to another key, or exiting, gives its reservation back.
    fn drop(&mut self) {
        self.key.release(self.reserved);
    }
}

thread_local! {
    static LAST_KEY: RefCell<Option<LastKey>> = const { RefCell::new(None) };
}

/// The version keys, and what the store last held.
struct Versions {
    keys: BTreeMap<u32, SecretKey>,
    retired: BTreeSet<u32>,
    /// The record as last loaded or saved (stored keyrings only): the
    /// expected value of the next compare-and-swap.
    record: Option<KeyringRecord>,
}

impl Versions {
    fn next_version(&self) -> Result<u32, Error> {
        let newest = self.keys.keys().chain(&self.retired).max().copied();
        newest
            .unwrap_or(0)
            .checked_add(1)
            .ok_or(Error::InvalidConfig(
                "the keyring has used every version number",
            ))
    }
}

/// The store behind a stored keyring, and the root key's wrapping cipher.
struct Backing {
    store: Box<dyn KeyStore>,
    root: FieldCipher,
    /// The store generation this keyring's caches reflect.
    seen: Mutex<u64>,
    /// When the store was last asked what changed.
    freshness: Freshness,
}

impl Backing {
    fn save(&self, expected: Option<&KeyringRecord>, new: &KeyringRecord) -> Result<(), Error> {
        if self.store.replace_keyring(expected, new.clone())? {
            Ok(())
        } else {
            Err(Error::KeyringChanged)
        }
    }
}

/// Versioned keys and the tenant keys made from them.
///
/// Shared by reference (`Arc<Keyring>`) across threads and services: rotation
/// and retirement take `&self`, so every holder sees the new primary at once.
///
/// Versioned keys per tenant, with rotation, re-encryption, safe retirement,
/// whole-tenant shredding and rotation-stable search keys.
///
/// # Model
///
/// A [`Keyring`] holds one or more versions of a key; exactly one version is
/// *primary*. Each tenant has its own data key per version, made in one of
/// two ways ([`DataKeyMode`]):
///
/// * **Derived** (the default, and the only mode of [`Keyring::new`]): the
///   tenant's data key for version `v` is derived, not stored:
///
///   ```text
///   tenant_key(t, v) = HKDF-SHA256(ikm  = version_key_v,
///                                  salt = "custodia/keyring/v1",
///                                  info = len‖"custodia/tenant-data-key/v1" ‖ len‖tenant(16 bytes) ‖ len‖v(4 bytes, big-endian))
///   ```
///
///   (each `len` a 4-byte big-endian byte count), so one key serves every
///   tenant and tenants' keys are independent. Nothing is stored per tenant —
///   and nothing per tenant can be destroyed.
/// * **Random**: the tenant's data key for version `v` is 32 bytes from the
///   OS, generated on the tenant's first seal under `v` and stored wrapped
///   (a field envelope, bound to tenant and version) under the version's
///   key-encryption key `HKDF-SHA256(version_key_v, "custodia/keyring/v1",
///   len‖"custodia/tenant-kek/v1" ‖ len‖v)`. Destroying a tenant's wrapped
///   keys erases all its data: [`Keyring::shred_tenant`].
///
/// Rotation and its bookkeeping:
///
/// * [`Keyring::seal`] always uses the primary version and labels the envelope
///   `tenant/v<primary>`.
/// * [`Keyring::open`] accepts any version still in the ring.
/// * [`Keyring::rotate`] adds a new primary; old ciphertexts keep opening.
/// * [`Keyring::reencrypt`] moves one ciphertext to the primary version.
/// * [`Keyring::retire`] removes a version, but only with a [`KeyUsage`] scan
///   showing nothing still uses it. Its number is never reused.
///
/// # Stored keyrings
///
/// [`Keyring::new`] keeps everything in memory: the caller supplies the
/// version keys again after a restart. [`Keyring::from_store`] keeps the
/// keyring in a [`KeyStore`] instead: a [`KeyringRecord`]
/// lists the versions (each version key random, wrapped under the *root key*
/// the caller supplies from the environment or a file), the primary and the
/// retired versions; random tenant data keys sit beside it. Reopening the
/// store with the same root key restores the keyring; every rotation and
/// retirement is saved (compare-and-swap, so two processes cannot silently
/// overwrite each other's rotation) before it takes effect.
///
/// ```
/// use std::sync::Arc;
/// use custodia_core::{ActorId, ManualClock, TenantId, chrono::Utc};
/// use custodia_crypt::{DataKeyMode, Error, FieldContext, Keyring, MemoryKeyStore, SecretKey};
///
/// let store = Arc::new(MemoryKeyStore::default()); // or a FileKeyStore
/// let root = SecretKey::generate()?; // e.g. SecretKey::from_env("CUSTODIA_ROOT_KEY")
/// let keyring = Keyring::from_store(store.clone(), &root, DataKeyMode::Random)?;
/// let acme = TenantId::from_external_key("crm", "ACME");
/// let ctx = FieldContext::new(acme, "ticket", "T-1", "body")?;
/// let sealed = keyring.seal(&ctx, b"printer on fire")?;
/// keyring.rotate(SecretKey::generate()?)?;
///
/// // After a restart: same store, same root key, same keyring.
/// let keyring = Keyring::from_store(store, &root, DataKeyMode::Random)?;
/// assert_eq!(keyring.versions(), [1, 2]);
/// assert_eq!(keyring.open(&ctx, &sealed)?, b"printer on fire");
///
/// // Offboarding: destroy every key of the tenant. Every copy of its data,
/// // backups included, is now unreadable, with its own error.
/// let backup_copy = sealed.clone();
/// let clock = ManualClock::new(Utc::now());
/// let admin = ActorId::from_external_key(acme, "psa.user", "offboarding");
/// let receipt = keyring.shred_tenant(acme, admin, &clock)?;
/// assert_eq!(receipt.key_versions, [1]);
/// assert_eq!(keyring.open(&ctx, &backup_copy), Err(Error::TenantShredded { tenant: acme }));
/// # Ok::<(), Error>(())
/// ```
///
/// # Search keys
///
/// Blind indexes and deterministic encryption need a key that does **not**
/// rotate: a token computed today must equal the token of the same value
/// computed after any number of rotations, or lookups would miss every row
/// indexed before. [`Keyring::blind_index`] and [`Keyring::deterministic`]
/// therefore key them with the tenant's *search key*, made from the keyring's
/// search root, which is independent of the data-key versions:
///
/// * Derived mode: `HKDF-SHA256(search_root, "custodia/keyring/v1",
///   len‖"custodia/tenant-search-key/v1" ‖ len‖tenant)`.
/// * Random mode: 32 random bytes per tenant, stored wrapped under
///   `HKDF-SHA256(search_root, "custodia/keyring/v1",
///   len‖"custodia/tenant-search-kek/v1")`, and destroyed by
///   [`Keyring::shred_tenant`] with the data keys (so deterministic
///   ciphertexts die too, and stored tokens can no longer be tested against
///   guessed values).
///
/// The search root is the version-1 master key for [`Keyring::new`] (kept
/// in memory after version 1 is retired; the distinct HKDF labels keep search
/// keys independent of data keys), and random, wrapped in the record, for a
/// stored keyring.
/// Each index and cipher then derives its own per-field key from the search
/// key (see [`BlindIndex`](crate::BlindIndex) and [`deterministic`](crate::deterministic)).
/// Rotation, re-encryption and retirement never change a token; the search
/// key itself cannot be rotated without recomputing every token.
///
/// ```
/// use custodia_core::TenantId;
/// use custodia_crypt::BlindIndexConfig;
/// use custodia_crypt::{KeyUsage, Keyring, SecretKey};
///
/// let keyring = Keyring::new(SecretKey::generate()?);
/// let acme = TenantId::from_external_key("crm", "ACME");
/// let config = BlindIndexConfig::default();
/// let token = keyring.blind_index(acme, "contact", "email", config)?.compute("a@example.com");
///
/// keyring.rotate(SecretKey::generate()?)?;
/// keyring.retire(1, &KeyUsage::default())?;
/// let index = keyring.blind_index(acme, "contact", "email", config)?;
/// assert_eq!(index.compute("a@example.com"), token);
/// # Ok::<(), custodia_crypt::Error>(())
/// ```
///
/// # Caching and the nonce limit
///
/// Expanded AES keys are cached per (tenant, version), so the key schedule and
/// the HKDF (or the unwrapping) run once, not per field. Each thread also
/// remembers the last key it used, so a run of seals for one tenant takes no
/// lock; retirement and shredding invalidate those entries at once, but the
/// expanded key stays in that thread's memory (unusable) until the thread
/// next uses a keyring or exits — as ring's expanded keys, which are not
/// zeroized, stay in freed memory anyway.
///
/// Nonces are 96 random bits from a per-thread ChaCha12 generator seeded by
/// the OS (NIST SP 800-38D §8.2.2). The deterministic construction (§8.2.1, a
/// per-process fixed field plus a counter) would lift the limit below, but
/// needs every process sealing under a tenant key to own a distinct fixed
/// field forever, which uncoordinated processes and restarts cannot promise;
/// a random per-process prefix would collide after about 2^16 process starts
/// and then repeat nonces. Random nonces need no coordination, at the price
/// of §8.3's cap: at most [`NONCE_LIMIT`] (2^32) encryptions per GCM key.
/// The GCM key is the *tenant data key* of a version — derived or random,
/// it differs per tenant — so the count is kept per (tenant, version), not
/// per version.
///
/// * A stored keyring ([`Keyring::from_store`]) keeps the count in its
///   [`KeyStore`] ([`NonceCount`](crate::NonceCount)), shared by every
///   process over the store and kept across restarts. A process reserves a
///   block of 2^20 encryptions at a time with a compare-and-swap on the
///   stored count, then seals from the block without I/O or locks; a crash
///   loses at most the unused rest of a block, which only makes the count
///   err high. Once the stored count reaches the limit, sealing fails with
///   [`Error::NonceLimit`] in every process until the keyring is rotated.
/// * An in-memory keyring ([`Keyring::new`]) counts in memory: its limit
///   holds per process only, which is why the stored form exists.
///
/// Within a process, threads reserve 32 seals at a time from the key's
/// count, so a seal rarely touches a shared counter, and the reservations
/// can never add up past what the process reserved. [`Keyring::nonce_usage`]
/// and [`Keyring::stored_nonce_usage`] report the counts (a metric);
/// [`Keyring::needs_rotation`] says when a primary key passed the warning
/// threshold (2^31 by default); [`Keyring::with_nonce_budget`] sets a lower
/// limit, threshold or block ([`NonceBudget`]).
///
/// ```
/// use std::sync::Arc;
/// use custodia_core::TenantId;
/// use custodia_crypt::{DataKeyMode, Error, FieldContext, KeyId, Keyring, MemoryKeyStore, NonceBudget, SecretKey};
///
/// let store = Arc::new(MemoryKeyStore::default());
/// let root = SecretKey::generate()?;
/// // A tiny budget to show the limit: 3 seals per key, warn from 2, blocks of 2.
/// let budget = NonceBudget::new(3, 2, 2)?;
/// let one = Keyring::from_store(store.clone(), &root, DataKeyMode::Derived)?.with_nonce_budget(budget);
/// let two = Keyring::from_store(store, &root, DataKeyMode::Derived)?.with_nonce_budget(budget);
/// let acme = TenantId::from_external_key("crm", "ACME");
/// let ctx = FieldContext::new(acme, "ticket", "T-1", "body")?;
///
/// one.seal(&ctx, b"a")?; // reserves 2 in the store
/// two.seal(&ctx, b"b")?; // reserves the last 1
/// assert!(two.needs_rotation()?);
/// assert_eq!(two.nonce_usage(acme, 1)?.reserved, 3);
/// one.seal(&ctx, b"c")?; // the rest of its block
/// assert_eq!(two.seal(&ctx, b"d"), Err(Error::NonceLimit { key: KeyId::Tenant { version: 1 } }));
/// # Ok::<(), Error>(())
/// ```
///
/// Rotation, re-encryption and retirement:
///
/// ```
/// use custodia_core::TenantId;
/// use custodia_crypt::{FieldContext, KeyId, Keyring, KeyUsage, SecretKey};
///
/// let keyring = Keyring::new(SecretKey::generate()?);
/// let tenant = TenantId::from_external_key("crm", "ACME");
/// let ctx = FieldContext::new(tenant, "contact", "1017", "email")?;
/// let old = keyring.seal(&ctx, b"alice@example.com")?;
///
/// let v2 = keyring.rotate(SecretKey::generate()?)?;
/// assert_eq!(keyring.open(&ctx, &old)?, b"alice@example.com");
///
/// // Move the old ciphertext to v2, then v1 can go.
/// let new = keyring.reencrypt(&ctx, &old)?;
/// let usage = KeyUsage::scan([new.as_slice()]);
/// keyring.retire(1, &usage)?;
/// assert_eq!(keyring.open(&ctx, &new)?, b"alice@example.com");
/// assert_eq!(usage.count(KeyId::Tenant { version: v2 }), 1);
/// # Ok::<(), custodia_crypt::Error>(())
/// ```
pub struct Keyring {
    provider: &'static dyn CryptoProvider,
    mode: DataKeyMode,
    versions: RwLock<Versions>,
    primary: AtomicU32,
    /// Rotation-stable root of the tenants' search keys.
    search_root: SecretKey,
    backing: Option<Backing>,
    /// Unique per keyring, for the per-thread cache.
    id: u64,
    /// Bumped whenever a cached key stops being valid (retirement,
    /// shredding), so that per-thread caches drop it.
    generation: AtomicU64,
    cache: RwLock<HashMap<(TenantId, u32), Arc<CachedKey>, CacheHasherBuilder>>,
    search_cache: RwLock<HashMap<TenantId, SecretKey, CacheHasherBuilder>>,
    nonce_budget: NonceBudget,
    /// Built by [`AsyncKeyring`](crate::AsyncKeyring): off the blocking
    /// pool, fail with [`Error::WouldBlock`] rather than wait for a lock
    /// another thread holds across a store call.
    defer: bool,
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

fn nil_tenant() -> TenantId {
    TenantId::from_uuid(custodia_core::uuid::Uuid::nil())
}

/// A cipher from a key derived for one wrapping purpose.
fn wrapping_cipher(
    provider: &dyn CryptoProvider,
    key: &SecretKey,
    key_id: KeyId,
    info: &[&[u8]],
) -> Result<FieldCipher, Error> {
    let kek = derive_key(key, SALT, &[&length_prefixed(info)])?;
    FieldCipher::with_provider(provider, key_id, &kek)
}

fn unwrap_key(
    cipher: &FieldCipher,
    ctx: &FieldContext<'_>,
    wrapped: &[u8],
) -> Result<SecretKey, Error> {
    let bytes = Zeroizing::new(cipher.open(ctx, wrapped)?);
    SecretKey::try_from_slice(&bytes)
}

impl Keyring {
    /// An in-memory keyring whose only (and primary) version 1 is `master`,
    /// deriving tenant keys ([`DataKeyMode::Derived`]), on ring.
    ///
    /// Nothing is stored: rotations last as long as the process, and the
    /// caller must supply the same master keys after a restart. Use
    /// [`Keyring::from_store`] to keep versions in a [`KeyStore`].
    pub fn new(master: SecretKey) -> Self {
        Self::with_provider(&RING, master)
    }

    /// An in-memory keyring on a chosen crypto provider.
    pub fn with_provider(provider: &'static dyn CryptoProvider, master: SecretKey) -> Self {
        // The master doubles as the search root: the HKDF labels keep search
        // keys independent of data keys, and the root outlives retirement.
        let search_root = master.clone();
        let versions = Versions {
            keys: BTreeMap::from([(1, master)]),
            retired: BTreeSet::new(),
            record: None,
        };
        Self::assemble(
            provider,
            DataKeyMode::Derived,
            versions,
            1,
            search_root,
            None,
        )
    }

    /// A keyring of `versions` with `primary` as its primary version: a
    /// fresh id, empty caches, the default nonce budget.
    fn assemble(
        provider: &'static dyn CryptoProvider,
        mode: DataKeyMode,
        versions: Versions,
        primary: u32,
        search_root: SecretKey,
        backing: Option<Backing>,
    ) -> Self {
        Self {
            provider,
            mode,
            versions: RwLock::new(versions),
            primary: AtomicU32::new(primary),
            search_root,
            backing,
            id: NEXT_KEYRING_ID.fetch_add(1, Ordering::Relaxed),
            generation: AtomicU64::new(0),
            cache: RwLock::new(HashMap::default()),
            search_cache: RwLock::new(HashMap::default()),
            nonce_budget: NonceBudget::default(),
            defer: false,
        }
    }

    /// Opens the keyring kept in `store`, or creates one there (version 1,
    /// a random version key) if the store holds none, on ring.
    ///
    /// `root` is the key-encryption key of the whole keyring (from
    /// [`SecretKey::from_env`] or [`SecretKey::from_file`]): it wraps every
    /// version key and the search root in the store's [`KeyringRecord`].
    /// Fails with [`Error::Decrypt`] under a wrong root key, and with
    /// [`Error::InvalidConfig`] if the store holds a keyring of another `mode`.
    pub fn from_store(
        store: impl KeyStore + 'static,
        root: &SecretKey,
        mode: DataKeyMode,
    ) -> Result<Self, Error> {
        Self::from_store_with_provider(&RING, store, root, mode)
    }

    /// Opens the keyring a store already holds, in the mode it was created
    /// with, on ring; `None` if the store holds no keyring (nothing is
    /// written then). For tools that open a host's existing store and must
    /// not create a keyring in it.
    pub fn open_stored(
        store: impl KeyStore + 'static,
        root: &SecretKey,
    ) -> Result<Option<Self>, Error> {
        match store.keyring()? {
            Some(record) => Self::from_store(store, root, record.mode).map(Some),
            None => Ok(None),
        }
    }

    /// [`Keyring::from_store`] on a chosen crypto provider.
    pub fn from_store_with_provider(
        provider: &'static dyn CryptoProvider,
        store: impl KeyStore + 'static,
        root: &SecretKey,
        mode: DataKeyMode,
    ) -> Result<Self, Error> {
        let mut backing = Backing {
            store: Box::new(store),
            root: wrapping_cipher(
                provider,
                root,
                KeyId::Tenant { version: 0 },
                &[RECORD_WRAP_LABEL],
            )?,
            seen: Mutex::new(0),
            freshness: Freshness::new(DEFAULT_STALENESS_BOUND),
        };
        // Read before loading: a change committed meanwhile is reported later.
        *backing
            .seen
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner) = backing.store.generation()?;
        let record = match backing.store.keyring()? {
            Some(record) => record,
            None => {
                let record = Self::first_record(&backing, mode)?;
                // Lost a race with another opener: use what it stored.
                if backing.store.replace_keyring(None, record.clone())? {
                    record
                } else {
                    backing.store.keyring()?.ok_or_else(|| {
                        Error::Store("the key store refused the new keyring record".into())
                    })?
                }
            }
        };
        let keys = unwrap_versions(&backing, &record, mode, &BTreeMap::new())?;
        let search_root = unwrap_key(&backing.root, &search_root_context()?, &record.search_root)?;
        let primary = record.primary;
        let versions = Versions {
            keys,
            retired: record.retired.iter().copied().collect(),
            record: Some(record),
        };
        Ok(Self::assemble(
            provider,
            mode,
            versions,
            primary,
            search_root,
            Some(backing),
        ))
    }

    /// This keyring with another [`NonceBudget`] (by default 2^32 encryptions
    /// per key, rotation due from 2^31, blocks of 2^20). Every process
    /// sharing a store should use the same budget; each enforces its own
    /// limit against the shared count, so none can exceed [`NONCE_LIMIT`].
    pub fn with_nonce_budget(mut self, budget: NonceBudget) -> Self {
        self.nonce_budget = budget;
        // Keys cached so far hold the old allowance.
        self.cache
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.generation.fetch_add(1, Ordering::AcqRel);
        self
    }

    /// This keyring with another staleness bound (by default
    /// [`DEFAULT_STALENESS_BOUND`], 1 s): how long a stored keyring may use
    /// its cached keys and version list without asking the store whether
    /// another process shredded a tenant, rotated or retired a version.
    /// `Duration::MAX` never asks (one process alone on its store). No
    /// effect on an in-memory keyring.
    pub fn with_staleness_bound(mut self, bound: Duration) -> Self {
        if let Some(backing) = &mut self.backing {
            backing.freshness = Freshness::new(bound);
        }
        self
    }

    /// Asks the store now what other processes changed (tenant shreds,
    /// rotations, retirements) and applies it, whatever the staleness bound:
    /// e.g. before retrying a rotation that lost a race. In-memory keyrings
    /// have nothing to refresh.
    pub fn refresh(&self) -> Result<(), Error> {
        match &self.backing {
            Some(backing) => self.sync(backing, now_nanos(), true),
            None => Ok(()),
        }
    }

    /// Whether this keyring asks its store for changes at all.
    #[inline]
    pub(crate) fn polls(&self) -> bool {
        self.backing.as_ref().is_some_and(|b| b.freshness.polls())
    }

    /// Syncs with the store if the last check is a staleness bound old at
    /// `now` ([`now_nanos`]): one clock compare on the hot path.
    #[inline]
    pub(crate) fn sync_if_due(&self, now: u64) -> Result<(), Error> {
        match &self.backing {
            Some(backing) if backing.freshness.due(now) => self.sync(backing, now, false),
            _ => Ok(()),
        }
    }

    #[cold]
    fn sync(&self, backing: &Backing, now: u64, force: bool) -> Result<(), Error> {
        custodia_core::op_span!(
            DEBUG,
            "custodia.crypt.sync",
            generation = tracing::field::Empty
        );
        let mut seen = lock_or_defer(&backing.seen, self.defer)?;
        // Another thread may have checked while this one waited.
        if !force && !backing.freshness.due(now) {
            return Ok(());
        }
        let changes = backing.store.changes_since(*seen)?;
        if changes.keyring || !changes.complete || !changes.tenants.is_empty() {
            self.apply(backing, &changes)?;
        }
        *seen = changes.generation;
        custodia_core::op_record!(generation = changes.generation);
        backing.freshness.checked(now);
        Ok(())
    }

    /// Drops what other processes' changes made stale: the version list
    /// after a rotation or retirement, the keys of shredded tenants.
    fn apply(&self, backing: &Backing, changes: &KeyStoreChanges) -> Result<(), Error> {
        let mut stale = !changes.complete;
        if (changes.keyring || !changes.complete)
            && let Some(record) = backing.store.keyring()?
        {
            let mut versions = write(&self.versions);
            if versions.record.as_ref() != Some(&record) {
                let keys = unwrap_versions(backing, &record, self.mode, &versions.keys)?;
                write(&self.cache).retain(|(_, v), _| keys.contains_key(v));
                versions.keys = keys;
                versions.retired = record.retired.iter().copied().collect();
                self.primary.store(record.primary, Ordering::Release);
                versions.record = Some(record);
                stale = true;
            }
        }
        let mut cache = write(&self.cache);
        let mut search_cache = write(&self.search_cache);
        if changes.complete {
            for tenant in &changes.tenants {
                let before = cache.len() + search_cache.len();
                cache.retain(|(t, _), _| t != tenant);
                search_cache.remove(tenant);
                stale |= cache.len() + search_cache.len() != before;
            }
        } else {
            cache.clear();
            search_cache.clear();
        }
        if stale {
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
        Ok(())
    }

    /// This keyring, failing with [`Error::WouldBlock`] instead of waiting
    /// for a lock held across a store call (see [`crate::AsyncKeyring`]).
    #[cfg(feature = "tokio")]
    pub(crate) fn deferring(mut self) -> Self {
        self.defer = true;
        self
    }

    /// The keyring's nonce budget.
    pub fn nonce_budget(&self) -> NonceBudget {
        self.nonce_budget
    }

    fn first_record(backing: &Backing, mode: DataKeyMode) -> Result<KeyringRecord, Error> {
        let version_key = SecretKey::generate()?;
        let search_root = SecretKey::generate()?;
        Ok(KeyringRecord {
            format: KeyringRecord::FORMAT,
            mode,
            primary: 1,
            versions: vec![StoredVersion {
                version: 1,
                wrapped_key: wrap_version(backing, 1, &version_key)?,
            }],
            retired: Vec::new(),
            search_root: backing
                .root
                .seal(&search_root_context()?, search_root.expose_secret())?,
        })
    }

    /// How tenant data keys are made.
    pub fn mode(&self) -> DataKeyMode {
        self.mode
    }

    /// Changes whenever cached keys may have become invalid (a retirement,
    /// a tenant shredding), for caches layered on the keyring.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The primary version: the one [`Keyring::seal`] uses.
    pub fn primary(&self) -> u32 {
        self.primary.load(Ordering::Acquire)
    }

    /// Every version that still decrypts, oldest first.
    pub fn versions(&self) -> Vec<u32> {
        read(&self.versions).keys.keys().copied().collect()
    }

    /// Every retired version, oldest first. Version numbers are never reused.
    pub fn retired(&self) -> Vec<u32> {
        read(&self.versions).retired.iter().copied().collect()
    }

    /// Adds `master` as a new version and makes it primary; returns its number.
    ///
    /// A stored keyring saves the new version (wrapped under the root key)
    /// before it becomes primary; it fails with [`Error::Store`] if the store
    /// cannot be written, and with [`Error::KeyringChanged`] (nothing
    /// written) if another process changed the keyring meanwhile:
    /// [`Keyring::refresh`] and rotate again.
    pub fn rotate(&self, master: SecretKey) -> Result<u32, Error> {
        custodia_core::op_span!(
            DEBUG,
            "custodia.crypt.rotate",
            version = tracing::field::Empty
        );
        let mut versions = write(&self.versions);
        let version = versions.next_version()?;
        custodia_core::op_record!(version = version);
        if let Some(backing) = &self.backing {
            let old = versions.record.clone();
            let mut record = old
                .clone()
                .ok_or(Error::Store("stored keyring without a record".into()))?;
            record.versions.push(StoredVersion {
                version,
                wrapped_key: wrap_version(backing, version, &master)?,
            });
            record.primary = version;
            backing.save(old.as_ref(), &record)?;
            versions.record = Some(record);
        }
        versions.keys.insert(version, master);
        self.primary.store(version, Ordering::Release);
        Ok(version)
    }

    /// Removes `version`, if it is not primary and `usage` shows no envelope
    /// still sealed under it (binary or `cst1.` text form; values the scan
    /// could not decode, [`KeyUsage::undecodable`], keep nothing from
    /// retiring: look at them first). The version number is recorded as retired and
    /// never reused; a [`DataKeyMode::Random`] keyring also deletes every
    /// tenant's data key of that version from the store.
    ///
    /// A stored keyring also refuses ([`Error::KeyInUse`], counting them)
    /// while its store holds subject keys wrapped under `version`: a
    /// [`SubjectVault`](crate::SubjectVault) wraps each subject key under
    /// the primary of the day, and retiring that version would make every
    /// value sealed under those keys unreadable, as if each person had been
    /// erased. [`SubjectVault::rewrap`](crate::SubjectVault::rewrap) moves
    /// them to the primary. The subject keys of a shredded tenant
    /// ([`Keyring::shred_tenant`]) are not counted: they are unreadable
    /// already and can never move. (A keyring from [`Keyring::new`] knows
    /// no store: include
    /// [`SubjectVault::key_usage`](crate::SubjectVault::key_usage) in `usage`.)
    ///
    /// On a key store shared by several processes, another process learns
    /// of a [`rotate`](Keyring::rotate) only at its next sync, up to its
    /// staleness bound ([`Keyring::with_staleness_bound`]) later, and seals
    /// under the old primary until then. Take `usage` only once that bound
    /// (and the longest write then in flight) has passed since the
    /// rotation: a scan taken sooner can miss an envelope sealed under the
    /// version being retired, which would then never open again.
    pub fn retire(&self, version: u32, usage: &KeyUsage) -> Result<(), Error> {
        custodia_core::op_span!(DEBUG, "custodia.crypt.retire", version = version);
        let mut versions = write(&self.versions);
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
        if !versions.keys.contains_key(&version) {
            return Err(Error::UnknownKey(KeyId::Tenant { version }));
        }
        // The subject keys the store itself holds are data too: each is
        // wrapped under the version that was primary when it was made, and
        // no scan of the caller's data sees them.
        if let Some(backing) = &self.backing {
            let mut wrapped = backing.store.wrapped_keys()?;
            let scan = |w: &[(TenantId, SubjectId, Vec<u8>)]| {
                KeyUsage::scan(w.iter().map(|(_, _, e)| e.as_slice())).tenant_count(version)
            };
            let mut subject_keys = scan(&wrapped);
            // The keys of a shredded tenant's subjects are erased already
            // (their wrapping key is gone) and can never be re-wrapped: they
            // must not pin the version forever.
            if subject_keys > 0 && self.mode == DataKeyMode::Random {
                let mut shredded = BTreeMap::new();
                for (tenant, _, _) in &wrapped {
                    if !shredded.contains_key(tenant) {
                        let gone = matches!(
                            backing.store.tenant_keys(*tenant)?,
                            Some(StoredTenantKeys::Shredded(_))
                        );
                        shredded.insert(*tenant, gone);
                    }
                }
                wrapped.retain(|(tenant, _, _)| shredded.get(tenant) != Some(&true));
                subject_keys = scan(&wrapped);
            }
            if subject_keys > 0 {
                return Err(Error::KeyInUse {
                    version,
                    envelopes: subject_keys,
                });
            }
        }
        if let Some(backing) = &self.backing {
            let old = versions.record.clone();
            let mut record = old
                .clone()
                .ok_or(Error::Store("stored keyring without a record".into()))?;
            record.versions.retain(|v| v.version != version);
            record.retired.push(version);
            record.retired.sort_unstable();
            backing.save(old.as_ref(), &record)?;
            versions.record = Some(record);
        }
        versions.keys.remove(&version);
        versions.retired.insert(version);
        write(&self.cache).retain(|(_, v), _| *v != version);
        self.generation.fetch_add(1, Ordering::AcqRel);
        drop(versions);
        if let (Some(backing), DataKeyMode::Random) = (&self.backing, self.mode) {
            backing.store.remove_tenant_keys(version)?;
        }
        Ok(())
    }

    /// Encrypts `plaintext` for `ctx` under the tenant's primary key.
    pub fn seal(&self, ctx: &FieldContext<'_>, plaintext: &[u8]) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(crate::envelope::sealed_len(plaintext.len()));
        self.seal_into(ctx, plaintext, &mut out)?;
        Ok(out)
    }

    /// [`Keyring::seal`], appending the envelope to `out`: sealing many
    /// fields into one reused buffer saves an allocation per field. On error
    /// `out` is left as it was.
    pub fn seal_into(
        &self,
        ctx: &FieldContext<'_>,
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        custodia_core::op_span!(TRACE, "custodia.crypt.seal", bytes = plaintext.len());
        // Before reading the primary: another process may have rotated.
        if self.polls() {
            self.sync_if_due(now_nanos())?;
        }
        let primary = self.primary();
        let key_id = KeyId::Tenant { version: primary };
        self.with_tenant_key(ctx.tenant(), primary, true, |cached, reserved| {
            // Count first, so concurrent sealers cannot overshoot the limit together.
            if *reserved == 0 {
                *reserved = self.reserve(cached, ctx, key_id)?;
            }
            *reserved -= 1;
            seal_into(cached.key.as_ref(), key_id, ctx, plaintext, out)
        })
    }

    /// Reserves seals of (`tenant`, `version`) for one thread: from the
    /// process's allowance, topped up from the store (stored keyrings) when
    /// it is spent. The slow path of sealing: once per [`RESERVE`] seals.
    #[cold]
    fn reserve(
        &self,
        cached: &CachedKey,
        ctx: &FieldContext<'_>,
        key: KeyId,
    ) -> Result<u64, Error> {
        let exhausted = || Error::NonceLimit { key };
        loop {
            let granted = cached.try_reserve();
            if granted > 0 {
                return Ok(granted);
            }
            let Some(backing) = &self.backing else {
                return Err(exhausted());
            };
            let _refill = lock_or_defer(&cached.refill, self.defer)?;
            // Another thread may have topped up while this one waited.
            if cached.sealed.load(Ordering::Relaxed) < cached.allowed.load(Ordering::Acquire) {
                continue;
            }
            let KeyId::Tenant { version } = key else {
                return Err(Error::UnknownKey(key));
            };
            let (block, stored) = reserve_block(
                backing.store.as_ref(),
                ctx.tenant(),
                version,
                self.nonce_budget,
            )?;
            cached.stored.store(stored, Ordering::Relaxed);
            cached.allowed.fetch_add(block, Ordering::AcqRel);
        }
    }

    /// Decrypts an envelope sealed under any version still in the ring.
    ///
    /// Fails with [`Error::TenantShredded`] once the tenant's keys were
    /// destroyed by [`Keyring::shred_tenant`].
    pub fn open(&self, ctx: &FieldContext<'_>, envelope: &[u8]) -> Result<Vec<u8>, Error> {
        custodia_core::op_span!(TRACE, "custodia.crypt.open", bytes = envelope.len());
        if self.polls() {
            self.sync_if_due(now_nanos())?;
        }
        let envelope = Envelope::decode(envelope)?;
        match envelope.key_id() {
            KeyId::Tenant { version } => {
                self.with_tenant_key(ctx.tenant(), version, false, |cached, _| {
                    envelope.open(cached.key.as_ref(), ctx)
                })
            }
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
        let plaintext = Zeroizing::new(self.open(ctx, envelope)?);
        self.seal(ctx, &plaintext)
    }

    /// Destroys every key of `tenant` — its data key of every version and its
    /// search key — and says who did it and when: whole-tenant crypto-shredding,
    /// for offboarding ("all customer data deleted within 30 days").
    ///
    /// Afterwards every envelope of the tenant, in the database or in a
    /// backup restored later, fails with [`Error::TenantShredded`]; so do
    /// sealing, the tenant's subject keys (wrapped under its data key),
    /// [`Keyring::blind_index`] and [`Keyring::deterministic`] (so values
    /// sealed deterministically die too, and old blind tokens can no longer
    /// be tested against guesses). The tombstone stays, so the tenant id can
    /// never get keys again. Shredding a shredded tenant returns the first
    /// receipt, also when the two shreds overlap (in two processes: the
    /// store keeps the first tombstone committed). The receipt's
    /// [`outcome`](TenantShredReceipt::outcome) tells a shred that destroyed
    /// keys ([`ShredOutcome::KeyDestroyed`]) from one of a tenant that never
    /// had any ([`ShredOutcome::NoKeyExisted`]: a wrong tenant id, say),
    /// which still leaves its tombstone.
    ///
    /// Only [`DataKeyMode::Random`] keyrings can do this (a derived key can
    /// always be derived again): others fail with [`Error::InvalidConfig`].
    /// Other processes over the same store drop the tenant's cached keys
    /// within their staleness bound ([`Keyring::with_staleness_bound`]);
    /// copies of the key store in backups hold the wrapped keys until those
    /// backups expire.
    pub fn shred_tenant(
        &self,
        tenant: TenantId,
        actor: ActorId,
        clock: &dyn Clock,
    ) -> Result<TenantShredReceipt, Error> {
        custodia_core::op_span!(DEBUG, "custodia.crypt.shred_tenant");
        let backing = match (&self.backing, self.mode) {
            (Some(backing), DataKeyMode::Random) => backing,
            _ => {
                return Err(Error::InvalidConfig(
                    "only a keyring with random data keys can shred a tenant; derived keys can be derived again",
                ));
            }
        };
        // Hold both caches so that no concurrent load re-inserts a key.
        let mut cache = write(&self.cache);
        let mut search_cache = write(&self.search_cache);
        if let Some(StoredTenantKeys::Shredded(receipt)) = backing.store.tenant_keys(tenant)? {
            return Ok(receipt);
        }
        // The store fills in the versions and the outcome from what it
        // finds when it writes the tombstone.
        let receipt = TenantShredReceipt {
            tenant,
            actor,
            at: clock.now(),
            key_versions: Vec::new(),
            outcome: ShredOutcome::Unrecorded,
        };
        let stored = backing.store.shred_tenant(&receipt)?;
        cache.retain(|(t, _), _| *t != tenant);
        self.generation.fetch_add(1, Ordering::AcqRel);
        search_cache.remove(&tenant);
        Ok(stored)
    }

    /// A blind index for `field` of `record_type` in `tenant`, keyed by the
    /// tenant's search key.
    ///
    /// The search key does not depend on any data-key version: rotating,
    /// re-encrypting and retiring leave every token unchanged, so stored
    /// tokens never need recomputing. It changes only with the keyring
    /// itself (another master for [`Keyring::new`], another store for
    /// [`Keyring::from_store`]). Build the index once per field and keep it; each
    /// call derives its key.
    pub fn blind_index(
        &self,
        tenant: TenantId,
        record_type: &str,
        field: &str,
        config: BlindIndexConfig,
    ) -> Result<BlindIndex, Error> {
        BlindIndex::new(
            &self.search_key(tenant)?,
            tenant,
            record_type,
            field,
            config,
        )
    }

    /// Deterministic AES-256-SIV for `field` of `record_type` in `tenant`,
    /// keyed by the tenant's search key: rotation-stable like
    /// [`Keyring::blind_index`], so equal values keep equal ciphertexts
    /// across data-key rotations.
    pub fn deterministic(
        &self,
        tenant: TenantId,
        record_type: &str,
        field: &str,
    ) -> Result<DeterministicCipher, Error> {
        DeterministicCipher::new(&self.search_key(tenant)?, tenant, record_type, field)
    }

    /// How many envelopes each cached (tenant, version) key has sealed in this
    /// process, and how much of its budget is used.
    ///
    /// A sealing thread reserves 32 seals at a time and gives back what it
    /// did not use when it moves to another key or exits, so the count may
    /// exceed the true one by up to 32 per thread: it errs on the safe side.
    /// For a stored keyring `reserved` is the store's count as of this
    /// process's last reservation; [`Keyring::nonce_usage`] reads it afresh.
    pub fn usage(&self) -> Vec<NonceUsage> {
        let cache = read(&self.cache);
        let mut usage: Vec<NonceUsage> = cache
            .iter()
            .map(|(&(tenant, version), key)| {
                let sealed = key.sealed.load(Ordering::Relaxed);
                let reserved = if self.backing.is_some() {
                    key.stored.load(Ordering::Relaxed)
                } else {
                    sealed
                };
                self.nonce_usage_of(tenant, version, sealed, reserved)
            })
            .collect();
        usage.sort_by_key(|u| (u.tenant, u.key));
        usage
    }

    fn nonce_usage_of(
        &self,
        tenant: TenantId,
        version: u32,
        sealed: u64,
        reserved: u64,
    ) -> NonceUsage {
        NonceUsage {
            tenant,
            key: KeyId::Tenant { version },
            sealed,
            reserved: reserved.max(sealed),
            limit: self.nonce_budget.limit,
            warning: self.nonce_budget.warning,
        }
    }

    /// The nonce usage of `tenant`'s data key of `version`: seals by this
    /// process, and nonces reserved by every process together (read from the
    /// store for a stored keyring; this process's count for an in-memory one).
    pub fn nonce_usage(&self, tenant: TenantId, version: u32) -> Result<NonceUsage, Error> {
        let sealed = read(&self.cache)
            .get(&(tenant, version))
            .map_or(0, |key| key.sealed.load(Ordering::Relaxed));
        let reserved = match &self.backing {
            Some(backing) => backing.store.nonces_reserved(tenant, version)?,
            None => sealed,
        };
        Ok(self.nonce_usage_of(tenant, version, sealed, reserved))
    }

    /// The stored nonce usage of every (tenant, version) data key that has
    /// sealed anything, by every process together, ordered by tenant and
    /// version (`sealed` is this process's share). An in-memory keyring
    /// stores nothing and returns [`Keyring::usage`].
    pub fn stored_nonce_usage(&self) -> Result<Vec<NonceUsage>, Error> {
        let Some(backing) = &self.backing else {
            return Ok(self.usage());
        };
        let cache = read(&self.cache);
        Ok(backing
            .store
            .nonce_counts()?
            .into_iter()
            .map(|count| {
                let sealed = cache
                    .get(&(count.tenant, count.version))
                    .map_or(0, |key| key.sealed.load(Ordering::Relaxed));
                self.nonce_usage_of(count.tenant, count.version, sealed, count.reserved)
            })
            .collect())
    }

    /// Whether any tenant's key of the primary version has passed the
    /// budget's warning threshold (2^31 by default): time to rotate, before
    /// sealing fails with [`Error::NonceLimit`]. Counts every process for a
    /// stored keyring.
    pub fn needs_rotation(&self) -> Result<bool, Error> {
        let primary = self.primary();
        Ok(self
            .stored_nonce_usage()?
            .iter()
            .any(|u| u.key == KeyId::Tenant { version: primary } && u.needs_rotation()))
    }

    /// Runs `f` with the expanded key of (`tenant`, `version`), making and
    /// caching it on first use (a random data key is generated only when
    /// `create`).
    ///
    /// Each thread remembers the key it used last, with the seals it has
    /// reserved from it: a run of calls for one tenant takes no lock, hashes
    /// nothing and (31 times in 32) updates no shared counter, only checks a
    /// generation number that retirement and shredding bump. Other calls take
    /// one shared read lock on the keyring's cache. `f` gets the key and the
    /// thread's reservation for it.
    fn with_tenant_key<T>(
        &self,
        tenant: TenantId,
        version: u32,
        create: bool,
        f: impl FnOnce(&CachedKey, &mut u64) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let generation = self.generation.load(Ordering::Acquire);
        let tenant_bits = u128::from_ne_bytes(*tenant.as_bytes());
        LAST_KEY.with(|last| {
            // Busy only if `f` itself used a keyring, which none does.
            let Ok(mut last) = last.try_borrow_mut() else {
                let key = self.shared_key(tenant, version, create)?;
                return run_released(&key, f);
            };
            if let Some(hit) = last.as_mut().filter(|l| {
                l.keyring == self.id
                    && l.generation == generation
                    && l.version == version
                    && l.tenant == tenant_bits
            }) {
                return f(&hit.key, &mut hit.reserved);
            }
            let key = self.shared_key(tenant, version, create)?;
            // Replacing the entry gives the old key's reservation back.
            let entry = last.insert(LastKey {
                keyring: self.id,
                generation,
                tenant: tenant_bits,
                version,
                key,
                reserved: 0,
            });
            f(&entry.key, &mut entry.reserved)
        })
    }

    /// The key from the keyring's shared cache, made on a miss.
    fn shared_key(
        &self,
        tenant: TenantId,
        version: u32,
        create: bool,
    ) -> Result<Arc<CachedKey>, Error> {
        if let Some(cached) = read_or_defer(&self.cache, self.defer)?.get(&(tenant, version)) {
            return Ok(cached.clone());
        }
        let data_key = self.tenant_data_key(tenant, version, create)?;
        // A stored keyring reserves its allowance from the store on first seal.
        let allowed = if self.backing.is_some() {
            0
        } else {
            self.nonce_budget.limit
        };
        let cached = Arc::new(CachedKey::new(
            self.provider.aes_256_gcm(&data_key)?,
            allowed,
        ));
        let mut cache = write_or_defer(&self.cache, self.defer)?;
        // A shred between the load and now must not leave the key cached.
        self.check_not_shredded(tenant)?;
        Ok(cache.entry((tenant, version)).or_insert(cached).clone())
    }

    fn check_not_shredded(&self, tenant: TenantId) -> Result<(), Error> {
        match (&self.backing, self.mode) {
            (Some(backing), DataKeyMode::Random) => match backing.store.tenant_keys(tenant)? {
                Some(StoredTenantKeys::Shredded(_)) => Err(Error::TenantShredded { tenant }),
                _ => Ok(()),
            },
            _ => Ok(()),
        }
    }

    fn version_key(&self, version: u32) -> Result<SecretKey, Error> {
        read_or_defer(&self.versions, self.defer)?
            .keys
            .get(&version)
            .cloned()
            .ok_or(Error::UnknownKey(KeyId::Tenant { version }))
    }

    fn tenant_data_key(
        &self,
        tenant: TenantId,
        version: u32,
        create: bool,
    ) -> Result<SecretKey, Error> {
        let version_key = match self.version_key(version) {
            Ok(key) => key,
            Err(unknown) => {
                // A shredded tenant's envelopes say so, whatever version
                // (retired since) they were sealed under.
                self.check_not_shredded(tenant)?;
                return Err(unknown);
            }
        };
        let backing = match (&self.backing, self.mode) {
            (Some(backing), DataKeyMode::Random) => backing,
            _ => {
                return derive_key(
                    &version_key,
                    SALT,
                    &[&length_prefixed(&[
                        TENANT_KEY_LABEL,
                        tenant.as_bytes(),
                        &version.to_be_bytes(),
                    ])],
                );
            }
        };
        let kek = wrapping_cipher(
            self.provider,
            &version_key,
            KeyId::Tenant { version },
            &[TENANT_KEK_LABEL, &version.to_be_bytes()],
        )?;
        let ctx_id = format!("v{version}");
        let ctx = FieldContext::internal(tenant, TENANT_KEY_RECORD, &ctx_id, "data_key")?;
        let slot = TenantKeySlot::Data { version };
        let missing = Error::UnknownKey(KeyId::Tenant { version });
        get_or_create_key(backing, tenant, slot, &kek, &ctx, create, missing)
    }

    /// The tenant's rotation-stable search key (cached).
    fn search_key(&self, tenant: TenantId) -> Result<SecretKey, Error> {
        self.sync_if_due(now_nanos())?;
        if let Some(key) = read_or_defer(&self.search_cache, self.defer)?.get(&tenant) {
            return Ok(key.clone());
        }
        let key = match (&self.backing, self.mode) {
            (Some(backing), DataKeyMode::Random) => {
                let kek = wrapping_cipher(
                    self.provider,
                    &self.search_root,
                    KeyId::Tenant { version: 0 },
                    &[SEARCH_KEK_LABEL],
                )?;
                let ctx =
                    FieldContext::internal(tenant, TENANT_KEY_RECORD, "search", "search_key")?;
                let missing = Error::Store("the key store did not keep the new search key".into());
                get_or_create_key(
                    backing,
                    tenant,
                    TenantKeySlot::Search,
                    &kek,
                    &ctx,
                    true,
                    missing,
                )?
            }
            _ => derive_key(
                &self.search_root,
                SALT,
                &[&length_prefixed(&[SEARCH_KEY_LABEL, tenant.as_bytes()])],
            )?,
        };
        let mut cache = write_or_defer(&self.search_cache, self.defer)?;
        self.check_not_shredded(tenant)?;
        Ok(cache.entry(tenant).or_insert(key).clone())
    }
}

/// Reserves the next block of nonces of (`tenant`, `version`) in the store
/// (compare-and-swap, retried on contention); returns the block's size and
/// the store's count after it. Fails with [`Error::NonceLimit`] once the
/// store's count reached the budget's limit.
fn reserve_block(
    store: &dyn KeyStore,
    tenant: TenantId,
    version: u32,
    budget: NonceBudget,
) -> Result<(u64, u64), Error> {
    for attempt in 0..RESERVE_ATTEMPTS {
        let current = store.nonces_reserved(tenant, version)?;
        if current >= budget.limit {
            return Err(Error::NonceLimit {
                key: KeyId::Tenant { version },
            });
        }
        let next = current + budget.block.min(budget.limit - current);
        if store.replace_nonces_reserved(tenant, version, current, next)? {
            return Ok((next - current, next));
        }
        // Another reserver won this round (so the count moved on): back off
        // before retrying, or a thread that keeps losing on a busy machine
        // runs out of attempts while the others make progress.
        back_off(attempt);
    }
    Err(Error::Store(format!(
        "could not reserve nonces for tenant {tenant} version {version}: \
         the count kept changing ({RESERVE_ATTEMPTS} attempts)"
    )))
}

/// Waits after the `attempt`th lost compare-and-swap: a yield at first, then
/// sleeps doubling from 1 µs to at most 16 ms (under a second in all).
fn back_off(attempt: u32) {
    if attempt < 8 {
        std::thread::yield_now();
    } else {
        std::thread::sleep(std::time::Duration::from_micros(1 << (attempt - 8).min(14)));
    }
}

/// Reads the tenant's key in `slot`, generating and storing a random one if
/// there is none and `create` (else `missing`). The store decides races.
fn get_or_create_key(
    backing: &Backing,
    tenant: TenantId,
    slot: TenantKeySlot,
    kek: &FieldCipher,
    ctx: &FieldContext<'_>,
    create: bool,
    missing: Error,
) -> Result<SecretKey, Error> {
    let pick = |stored: &StoredTenantKeys| -> Result<Option<Vec<u8>>, Error> {
        match stored {
            StoredTenantKeys::Shredded(_) => Err(Error::TenantShredded { tenant }),
            StoredTenantKeys::Active {
                data_keys,
                search_key,
            } => Ok(match slot {
                TenantKeySlot::Data { version } => data_keys.get(&version).cloned(),
                TenantKeySlot::Search => search_key.clone(),
            }),
        }
    };
    let existing = match backing.store.tenant_keys(tenant)? {
        Some(stored) => pick(&stored)?,
        None => None,
    };
    let wrapped = match existing {
        Some(wrapped) => wrapped,
        None if create => {
            let fresh = SecretKey::generate()?;
            let wrapped = kek.seal(ctx, fresh.expose_secret())?;
            let stored = backing
                .store
                .insert_tenant_key_if_absent(tenant, slot, wrapped)?;
            pick(&stored)?.ok_or(missing)?
        }
        None => return Err(missing),
    };
    unwrap_key(kek, ctx, &wrapped)
}

/// Checks a keyring record and unwraps its version keys (reusing those in
/// `known`, unwrapped before).
fn unwrap_versions(
    backing: &Backing,
    record: &KeyringRecord,
    mode: DataKeyMode,
    known: &BTreeMap<u32, SecretKey>,
) -> Result<BTreeMap<u32, SecretKey>, Error> {
    if record.format != KeyringRecord::FORMAT {
        return Err(Error::Store(format!(
            "unsupported keyring record format {}",
            record.format
        )));
    }
    if record.mode != mode {
        return Err(Error::InvalidConfig(
            "the key store holds a keyring of another data-key mode",
        ));
    }
    check_version_list(record)?;
    let mut keys = BTreeMap::new();
    for stored in &record.versions {
        let key = match known.get(&stored.version) {
            Some(key) => key.clone(),
            None => {
                let ctx_id = format!("v{}", stored.version);
                let ctx =
                    FieldContext::internal(nil_tenant(), KEYRING_RECORD, &ctx_id, "version_key")?;
                unwrap_key(&backing.root, &ctx, &stored.wrapped_key)?
            }
        };
        keys.insert(stored.version, key);
    }
    if !keys.contains_key(&record.primary) {
        return Err(Error::Store(format!(
            "keyring record names primary version {} but does not hold it",
            record.primary
        )));
    }
    Ok(keys)
}

/// Refuses a record whose version list no sequence of rotations and
/// retirements makes: a version listed twice, both live and retired, or
/// numbered 0, or a primary that is not the newest version ever made.
///
/// The list is not sealed as a whole (each key in it is, under the root
/// key), so whoever can write the store but holds no root key can edit it;
/// the edit that matters is a primary set back to an older version, maybe
/// the one rotated away from because it leaked, which every process would
/// follow at its next sync. [`Keyring::rotate`] always makes the newest
/// number primary and [`Keyring::retire`] never retires the primary, so
/// such a record is refused. Hiding the newer versions as well still gets
/// past this, at the price of every value sealed under them failing to
/// open, loudly.
fn check_version_list(record: &KeyringRecord) -> Result<(), Error> {
    let refuse = |what: String| Err(Error::Store(format!("keyring record: {what}")));
    let mut seen = BTreeSet::new();
    for version in record
        .versions
        .iter()
        .map(|v| v.version)
        .chain(record.retired.iter().copied())
    {
        if version == 0 {
            return refuse("version 0 is never a data-key version".into());
        }
        if !seen.insert(version) {
            return refuse(format!("version {version} is listed twice"));
        }
    }
    match seen.last() {
        Some(&newest) if newest != record.primary => refuse(format!(
            "primary version {} is not the newest, {newest}; refusing a primary set back",
            record.primary
        )),
        _ => Ok(()),
    }
}

fn search_root_context() -> Result<FieldContext<'static>, Error> {
    FieldContext::internal(nil_tenant(), KEYRING_RECORD, "search", "search_root")
}

fn wrap_version(backing: &Backing, version: u32, key: &SecretKey) -> Result<Vec<u8>, Error> {
    let ctx_id = format!("v{version}");
    let ctx = FieldContext::internal(nil_tenant(), KEYRING_RECORD, &ctx_id, "version_key")?;
    backing.root.seal(&ctx, key.expose_secret())
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("provider", &self.provider.name())
            .field("mode", &self.mode)
            .field("versions", &self.versions())
            .field("primary", &self.primary())
            .field("stored", &self.backing.is_some())
            .finish_non_exhaustive()
    }
}

/// How much of its random-nonce budget one tenant data key has used: the
/// metric behind the NIST SP 800-38D limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NonceUsage {
    /// The tenant.
    pub tenant: TenantId,
    /// The key.
    pub key: KeyId,
    /// Envelopes sealed by this process (plus up to 32 reserved per sealing
    /// thread).
    pub sealed: u64,
    /// Nonces reserved by every process together: the stored count for a
    /// stored keyring (at least the encryptions done; a process's unused
    /// block counts as used), this process's count for an in-memory one.
    pub reserved: u64,
    /// Encryptions allowed ([`NonceBudget::limit`]).
    pub limit: u64,
    /// Encryptions after which rotation is due ([`NonceBudget::warning`]).
    pub warning: u64,
}

impl NonceUsage {
    /// Encryptions left, across processes, before sealing fails with
    /// [`Error::NonceLimit`].
    pub fn remaining(&self) -> u64 {
        self.limit.saturating_sub(self.reserved)
    }

    /// Whether the key passed its warning threshold: rotate.
    pub fn needs_rotation(&self) -> bool {
        self.reserved >= self.warning
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
    /// Scans envelopes, in binary or `cst1.` text form, and counts them by
    /// key id.
    pub fn scan<'a>(envelopes: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut usage = Self::default();
        for envelope in envelopes {
            usage.add(envelope);
        }
        usage
    }

    /// Counts one more envelope, in binary or `cst1.` text form.
    ///
    /// The text form is what [`Encrypted`](crate::Encrypted) and text
    /// columns hold: counted as undecodable, a column of them would let
    /// [`Keyring::retire`] remove the version they all need. The two forms
    /// cannot be confused: a binary envelope starts with its format version,
    /// `0x01`, the text form with `c`.
    pub fn add(&mut self, envelope: &[u8]) {
        let key = match envelope.strip_prefix(crate::envelope::TEXT_PREFIX.as_bytes()) {
            Some(_) => std::str::from_utf8(envelope)
                .map_err(|_| Error::Malformed("text envelope is not UTF-8"))
                .and_then(crate::envelope::from_text)
                .and_then(|binary| Envelope::decode(&binary).map(|e| e.key_id())),
            None => Envelope::decode(envelope).map(|e| e.key_id()),
        };
        match key {
            Ok(key) => *self.counts.entry(key).or_default() += 1,
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

    /// Values that were not envelopes at all (never silently ignored: they
    /// do not keep a version from [`Keyring::retire`], so a caller whose
    /// scan finds some should find out what they are first).
    pub fn undecodable(&self) -> u64 {
        self.undecodable
    }
}

/// Runs `f` with a reservation on `key` that is given back as soon as `f`
/// returns (the path for a key not kept in the thread's slot).
fn run_released<T>(
    key: &CachedKey,
    f: impl FnOnce(&CachedKey, &mut u64) -> Result<T, Error>,
) -> Result<T, Error> {
    let mut reserved = 0;
    let result = f(key, &mut reserved);
    key.release(reserved);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> FieldContext<'static> {
        let tenant = TenantId::from_external_key("test", "acme");
        FieldContext::new(tenant, "ticket", "T-1", "body").unwrap()
    }

    /// Runs `f` on a thread and waits until it has exited, thread-local
    /// destructors included (a scope's end alone does not wait for those).
    fn in_thread(f: impl FnOnce() + Send) {
        std::thread::scope(|s| s.spawn(f).join().unwrap());
    }

    fn set_count(keyring: &Keyring, count: u64) {
        for key in read(&keyring.cache).values() {
            key.sealed.store(count, Ordering::Relaxed);
        }
    }

    #[test]
    fn sealing_stops_at_the_nonce_limit_until_rotation() {
        let keyring = Keyring::new(SecretKey::from_bytes([1; 32]));
        in_thread(|| {
            keyring.seal(&ctx(), b"x").unwrap();
        });
        set_count(&keyring, NONCE_LIMIT - 2);
        in_thread(|| {
            keyring.seal(&ctx(), b"x").unwrap();
            keyring.seal(&ctx(), b"x").unwrap();
            assert_eq!(
                keyring.seal(&ctx(), b"x"),
                Err(Error::NonceLimit {
                    key: KeyId::Tenant { version: 1 }
                })
            );
        });
        assert_eq!(keyring.usage()[0].remaining(), 0);
        // A fresh thread cannot go past it either.
        in_thread(|| assert!(keyring.seal(&ctx(), b"x").is_err()));
        keyring.rotate(SecretKey::from_bytes([2; 32])).unwrap();
        let sealed = keyring.seal(&ctx(), b"after").unwrap();
        assert_eq!(keyring.open(&ctx(), &sealed).unwrap(), b"after");
    }

    #[test]
    fn reservations_never_let_threads_pass_the_limit_together() {
        let keyring = Keyring::new(SecretKey::from_bytes([1; 32]));
        in_thread(|| {
            keyring.seal(&ctx(), b"x").unwrap();
        });
        let headroom = 3 * RESERVE + 5;
        set_count(&keyring, NONCE_LIMIT - headroom);
        let successes = AtomicU64::new(0);
        std::thread::scope(|s| {
            let sealer = || {
                for _ in 0..headroom {
                    if keyring.seal(&ctx(), b"x").is_ok() {
                        successes.fetch_add(1, Ordering::Relaxed);
                    }
                }
            };
            let threads: Vec<_> = (0..4).map(|_| s.spawn(sealer)).collect();
            for thread in threads {
                thread.join().unwrap();
            }
        });
        assert_eq!(successes.into_inner(), headroom);
    }

    mod reservations {
        use super::*;
        use crate::MemoryKeyStore;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(32))]

            /// Blocks reserved concurrently from one store are disjoint,
            /// leave no gap, never pass the limit, and the store's count is
            /// exactly their sum.
            #[test]
            fn blocks_never_overlap_or_undercount(
                limit in 1u64..400,
                block in 1u64..50,
                threads in 1usize..5,
            ) {
                let store = MemoryKeyStore::default();
                let tenant = TenantId::from_external_key("test", "acme");
                let budget = NonceBudget::new(limit, limit, block).unwrap();
                let ranges = std::sync::Mutex::new(Vec::new());
                std::thread::scope(|s| {
                    for _ in 0..threads {
                        s.spawn(|| loop {
                            match reserve_block(&store, tenant, 1, budget) {
                                Ok((granted, end)) => {
                                    assert!(granted > 0 && granted <= block);
                                    ranges.lock().unwrap().push((end - granted, end));
                                }
                                Err(e) => {
                                    assert!(matches!(e, Error::NonceLimit { .. }), "{e:?}");
                                    break;
                                }
                            }
                        });
                    }
                });
                let mut ranges = ranges.into_inner().unwrap();
                ranges.sort_unstable();
                let mut next = 0;
                for (start, end) in ranges {
                    prop_assert_eq!(start, next, "a gap or an overlap");
                    next = end;
                }
                prop_assert_eq!(next, limit);
                prop_assert_eq!(store.nonces_reserved(tenant, 1).unwrap(), limit);
            }
        }

        #[test]
        fn the_store_refuses_to_lower_a_count() {
            let store = MemoryKeyStore::default();
            let tenant = TenantId::from_external_key("test", "acme");
            assert!(store.replace_nonces_reserved(tenant, 1, 0, 10).unwrap());
            assert!(!store.replace_nonces_reserved(tenant, 1, 10, 5).unwrap());
            assert!(!store.replace_nonces_reserved(tenant, 1, 0, 20).unwrap());
            assert_eq!(store.nonces_reserved(tenant, 1).unwrap(), 10);
        }
    }

    /// Version numbers at the edges: 0 is never a data-key version (the
    /// keyring's own wrapping keys use that label), the last number seals
    /// and opens like any other, and a keyring that used it cannot rotate
    /// again, rather than wrap around to a number already used.
    #[test]
    fn version_numbers_at_the_edges() {
        let keyring = Keyring::new(SecretKey::from_bytes([1; 32]));
        {
            let mut versions = write(&keyring.versions);
            versions
                .keys
                .insert(u32::MAX, SecretKey::from_bytes([2; 32]));
        }
        keyring.primary.store(u32::MAX, Ordering::Release);
        let sealed = keyring.seal(&ctx(), b"x").unwrap();
        let last = KeyId::Tenant { version: u32::MAX };
        assert_eq!(Envelope::decode(&sealed).unwrap().key_id(), last);
        assert_eq!(keyring.open(&ctx(), &sealed).unwrap(), b"x");
        assert!(matches!(
            keyring.rotate(SecretKey::from_bytes([3; 32])),
            Err(Error::InvalidConfig(_))
        ));
        assert_eq!(keyring.versions(), [1, u32::MAX]);
        assert!(matches!(
            keyring.retire(u32::MAX, &KeyUsage::default()),
            Err(Error::KeyInUse {
                version: u32::MAX,
                envelopes: 0
            })
        ));
        let zero = KeyId::Tenant { version: 0 };
        assert_eq!(
            keyring.retire(0, &KeyUsage::default()),
            Err(Error::UnknownKey(zero))
        );
        // An envelope labelled version 0 (as the keyring's wrapped secrets
        // are) never opens as data.
        let mut relabelled = sealed.clone();
        relabelled[3..7].copy_from_slice(&0u32.to_be_bytes());
        assert_eq!(
            keyring.open(&ctx(), &relabelled),
            Err(Error::UnknownKey(zero))
        );
        // Relabelled to version 1, which the ring holds: the header is
        // authenticated, so the tag fails.
        relabelled[3..7].copy_from_slice(&1u32.to_be_bytes());
        assert_eq!(keyring.open(&ctx(), &relabelled), Err(Error::Decrypt));
        keyring.retire(1, &KeyUsage::default()).unwrap();
        assert_eq!(keyring.versions(), [u32::MAX]);
    }

    #[test]
    fn a_thread_gives_its_reservation_back_when_it_moves_on() {
        let keyring = Keyring::new(SecretKey::from_bytes([1; 32]));
        let acme = TenantId::from_external_key("test", "acme");
        let globex = TenantId::from_external_key("test", "globex");
        let other = FieldContext::new(globex, "t", "1", "f").unwrap();
        let count = |tenant: TenantId| {
            let usage = keyring.usage();
            usage.iter().find(|u| u.tenant == tenant).map(|u| u.sealed)
        };
        in_thread(|| {
            keyring.seal(&ctx(), b"x").unwrap();
            assert_eq!(count(acme), Some(RESERVE), "reserved, not yet used");
            keyring.seal(&other, b"x").unwrap();
            assert_eq!(count(acme), Some(1), "moving on returned the rest");
            assert_eq!(count(globex), Some(RESERVE));
        });
        assert_eq!(count(globex), Some(1), "exiting returned the rest");
    }
}
