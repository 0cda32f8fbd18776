//! Per-subject keys and crypto-shredding.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use custodia_core::{ActorId, Clock, SubjectId, TenantId};
use zeroize::Zeroizing;

use crate::envelope::{Envelope, seal};
use crate::provider::{AeadKey, CryptoProvider, RING};
use crate::store::{DEFAULT_STALENESS_BOUND, Freshness, lock_or_defer, now_nanos};
use crate::store::{KeyStore, ShredReceipt, StoredSubjectKey};
use crate::{Error, FieldContext, KeyId, Keyring, SecretKey};

/// The only subject-key version so far: a subject's key is never rotated, only shredded.
pub const SUBJECT_KEY_VERSION: u32 = 1;

const WRAP_RECORD_TYPE: &str = crate::context::SUBJECT_KEY_RECORD;
const WRAP_FIELD: &str = "key";

/// How many unwrapped subject keys a [`SubjectVault`] keeps in memory by
/// default ([`SubjectVault::with_cache_capacity`]).
///
/// Each cached key costs roughly 0.6 KiB (ring's expanded AES-256 key
/// schedule and GCM table, plus the map entry), so a full cache at this
/// default holds about 60 MiB.
pub const DEFAULT_CACHE_CAPACITY: usize = 100_000;

/// An unwrapped subject key and the keyring generation it was unwrapped in.
type CachedSubjectKey = (Arc<dyn AeadKey>, u64);

/// Seals and opens values under per-subject keys, and shreds those keys.
///
/// Per-subject keys and crypto-shredding.
///
/// # Model
///
/// Personal data that must outlive its row — audit trails, backups, exports —
/// cannot be deleted in place. So each data subject gets a key of their own: 32
/// random bytes, created on first use, stored only *wrapped* (sealed as an
/// ordinary field envelope under the tenant's data key from the [`Keyring`],
/// with context `("custodia.subject_key", <subject id>, "key")`, a record
/// type [`FieldContext::new`] refuses, so no host context reaches it). Values
/// sealed with [`SubjectVault::seal`] are envelopes labelled `subject/<id>/v1`.
///
/// [`SubjectVault::shred`] replaces the wrapped key in the [`KeyStore`] with a
/// tombstone and returns a [`ShredReceipt`] (who, when, and whether there was
/// a key to destroy: [`ShredReceipt::outcome`]). From then on every
/// envelope sealed under that key — in the database, in a backup restored next
/// year, inside an audit log — fails with the distinct [`Error::Shredded`],
/// because the only key that opens it no longer exists anywhere. The tombstone
/// is what lets Custodia say "erased" rather than "unknown key".
///
/// Subject keys are wrapped under a tenant-key *version*: after
/// [`Keyring::rotate`], run [`SubjectVault::rewrap`] before
/// [`Keyring::retire`], or retiring the old version would make every subject
/// key unreadable — an accidental shredding of everyone. A stored keyring
/// ([`Keyring::from_store`]) over the vault's store refuses such a
/// retirement by itself; with any other keyring include
/// [`SubjectVault::key_usage`] in the scan handed to `retire`.
///
/// # Several processes
///
/// A vault caches unwrapped subject keys. Every staleness bound (1 s by
/// default, [`SubjectVault::with_staleness_bound`]) it asks its store which
/// subjects were shredded since it last asked, and its keyring which tenants
/// (see [`Keyring::with_staleness_bound`]), and drops their keys: a shred
/// committed by any process sharing the store makes [`SubjectVault::open`]
/// fail here within the bound plus one store round trip. Between checks the
/// hot path reads the clock and nothing else.
///
/// The store must not keep old copies of wrapped keys (see
/// [`KeyStore::shred`]); backups of the key store itself must expire within the
/// erasure deadline, which is why the retention crate tracks the backup horizon.
///
/// In memory, an unwrapped key's raw bytes are zeroized as soon as its AES
/// key is expanded; the expanded key (ring's, which cannot be zeroized)
/// stays cached until the subject or tenant is shredded, the vault is
/// dropped, or the cache is full and evicts it. The cache holds at most
/// [`DEFAULT_CACHE_CAPACITY`] keys (100 000, roughly 60 MiB) unless
/// [`SubjectVault::with_cache_capacity`] says otherwise; when a new key
/// would exceed that, an eighth of the cache — arbitrary entries, not the
/// least recently used — is dropped, and those subjects' keys are unwrapped
/// from the store again at their next use. A capacity of 0 caches nothing:
/// every seal and open reads and unwraps the key from the store, which keeps
/// no subject key in memory beyond the call that uses it.
///
/// ```
/// use std::sync::Arc;
/// use custodia_core::{ActorId, ManualClock, SubjectId, TenantId, chrono::Utc};
/// use custodia_crypt::{Error, FieldContext, Keyring, MemoryKeyStore, SecretKey, SubjectVault};
///
/// let keyring = Arc::new(Keyring::new(SecretKey::generate()?));
/// let clock = Arc::new(ManualClock::new(Utc::now()));
/// let vault = SubjectVault::new(keyring, MemoryKeyStore::default(), clock);
///
/// let tenant = TenantId::from_external_key("crm", "ACME");
/// let alice = SubjectId::from_external_key(tenant, "psa.contact", "1017");
/// let ctx = FieldContext::new(tenant, "audit_event", "e-1", "ip")?;
/// let sealed = vault.seal(alice, &ctx, b"203.0.113.7")?;
/// assert_eq!(vault.open(&ctx, &sealed)?, b"203.0.113.7");
///
/// let dpo = ActorId::from_external_key(tenant, "psa.user", "dpo");
/// let receipt = vault.shred(tenant, alice, dpo)?;
/// assert_eq!(receipt.subject, alice);
/// assert_eq!(vault.open(&ctx, &sealed), Err(Error::Shredded { subject: alice }));
/// # Ok::<(), Error>(())
/// ```
pub struct SubjectVault<S> {
    keyring: Arc<Keyring>,
    store: S,
    clock: Arc<dyn Clock>,
    provider: &'static dyn CryptoProvider,
    /// Unwrapped subject keys, with the keyring generation they were
    /// unwrapped in: a tenant shredding (or a retirement) since makes the
    /// vault unwrap again, so a shredded tenant's subjects stop opening here too.
    cache: RwLock<HashMap<(TenantId, SubjectId), CachedSubjectKey>>,
    /// At most this many entries in `cache`; 0 caches nothing.
    capacity: usize,
    /// Bumped (under the cache's write lock) whenever keys are dropped from
    /// the cache, so that a load racing with the drop does not cache its key.
    epoch: AtomicU64,
    /// The keyring generation the cache was last purged for: entries
    /// unwrapped in an older one (a tenant shredded or a version retired
    /// since) are dropped at the next use, not kept in memory unusable.
    purged: AtomicU64,
    /// The store generation the cache reflects; `None` until first asked.
    seen: Mutex<Option<u64>>,
    /// When the store was last asked what changed.
    freshness: Freshness,
    /// Built by [`AsyncSubjectVault`](crate::AsyncSubjectVault): see
    /// [`Keyring`]'s field of that name.
    defer: bool,
}

impl<S: KeyStore> SubjectVault<S> {
    /// A vault wrapping subject keys with `keyring`'s tenant keys, keeping them
    /// in `store`, and timestamping receipts with `clock`.
    pub fn new(keyring: Arc<Keyring>, store: S, clock: Arc<dyn Clock>) -> Self {
        Self {
            keyring,
            store,
            clock,
            provider: &RING,
            cache: RwLock::new(HashMap::new()),
            capacity: DEFAULT_CACHE_CAPACITY,
            epoch: AtomicU64::new(0),
            purged: AtomicU64::new(0),
            seen: Mutex::new(None),
            // Due at once: the first use reads the store's generation before
            // it caches anything.
            freshness: Freshness::unchecked(DEFAULT_STALENESS_BOUND),
            defer: false,
        }
    }

    /// This vault, failing with [`Error::WouldBlock`] instead of waiting
    /// for a lock held across a store call.
    #[cfg(feature = "tokio")]
    pub(crate) fn deferring(mut self) -> Self {
        self.defer = true;
        self
    }

    /// This vault with another staleness bound (by default
    /// [`DEFAULT_STALENESS_BOUND`], 1 s): how long it may use cached subject
    /// keys without asking the store which subjects other processes
    /// shredded. `Duration::MAX` never asks (one process alone on its
    /// store). Tenant shreds reach the vault through its keyring's bound.
    pub fn with_staleness_bound(mut self, bound: Duration) -> Self {
        self.freshness = Freshness::unchecked(bound);
        self
    }

    /// This vault keeping at most `capacity` unwrapped subject keys in
    /// memory (by default [`DEFAULT_CACHE_CAPACITY`], 100 000, roughly
    /// 0.6 KiB each). When a new key would exceed it, an eighth of the
    /// cache (at least one key; arbitrary ones, not the least recently
    /// used) is dropped and unwrapped from the store again when next used.
    /// `0` caches nothing: every [`SubjectVault::seal`] and
    /// [`SubjectVault::open`] reads the wrapped key from the store and
    /// unwraps it, and no subject key outlives the call that used it.
    pub fn with_cache_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        let cache = self.cache.get_mut().unwrap_or_else(PoisonError::into_inner);
        let excess = cache.len().saturating_sub(capacity);
        if excess > 0 {
            Self::evict(cache, excess);
        }
        self
    }

    /// Asks the store (and the keyring's store) now which subjects and
    /// tenants other processes shredded, whatever the staleness bound.
    pub fn refresh(&self) -> Result<(), Error> {
        self.keyring.refresh()?;
        self.sync(now_nanos(), true)
    }

    #[cold]
    fn sync(&self, now: u64, force: bool) -> Result<(), Error> {
        let mut seen = lock_or_defer(&self.seen, self.defer)?;
        // Another thread may have checked while this one waited.
        if !force && !self.freshness.due(now) {
            return Ok(());
        }
        let generation = match *seen {
            // Nothing was cached before this first read.
            None => self.store.generation()?,
            Some(at) => {
                let changes = self.store.changes_since(at)?;
                if !changes.complete || !changes.subjects.is_empty() {
                    let mut cache = self.cache.write().unwrap_or_else(PoisonError::into_inner);
                    if changes.complete {
                        for key in &changes.subjects {
                            cache.remove(key);
                        }
                    } else {
                        cache.clear();
                    }
                    self.epoch.fetch_add(1, Ordering::AcqRel);
                }
                changes.generation
            }
        };
        *seen = Some(generation);
        self.freshness.checked(now);
        Ok(())
    }

    /// The store, e.g. to inspect tombstones.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Seals `plaintext` for `ctx` under `subject`'s key, creating the key on
    /// first use. Fails with [`Error::Shredded`] for a shredded subject.
    ///
    /// A shredded subject never gets a new key: the tombstone stays, in
    /// every store, so a person who returns after erasure needs a new
    /// [`SubjectId`]. A shred through this vault takes effect at once; a
    /// shred by another process sharing the store, at this vault's next
    /// check (within its staleness bound, as for [`SubjectVault::open`]).
    /// Until then this vault may still seal under the key it has cached,
    /// writing nothing to the store: a value sealed in that window opens
    /// nowhere once the window closes (no store holds its key any more),
    /// so a write racing an erasure is lost rather than kept readable.
    pub fn seal(
        &self,
        subject: SubjectId,
        ctx: &FieldContext<'_>,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, Error> {
        custodia_core::op_span!(
            TRACE,
            "custodia.crypt.subject.seal",
            bytes = plaintext.len()
        );
        let key = self.subject_key(ctx.tenant(), subject, true)?;
        seal(key.as_ref(), subject_key_id(subject), ctx, plaintext)
    }

    /// Opens an envelope sealed by [`SubjectVault::seal`] (or, for convenience,
    /// any tenant-key envelope of the keyring).
    pub fn open(&self, ctx: &FieldContext<'_>, envelope: &[u8]) -> Result<Vec<u8>, Error> {
        custodia_core::op_span!(TRACE, "custodia.crypt.subject.open", bytes = envelope.len());
        let decoded = Envelope::decode(envelope)?;
        match decoded.key_id() {
            KeyId::Subject {
                subject,
                version: SUBJECT_KEY_VERSION,
            } => {
                let key = self.subject_key(ctx.tenant(), subject, false)?;
                decoded.open(key.as_ref(), ctx)
            }
            KeyId::Tenant { .. } => self.keyring.open(ctx, envelope),
            other => Err(Error::UnknownKey(other)),
        }
    }

    /// Destroys `subject`'s key in `tenant`, for good, and says who did it,
    /// when, and whether there was a key.
    ///
    /// Shredding a subject that never had a key still leaves a tombstone, so a
    /// later [`SubjectVault::seal`] cannot quietly create a fresh key for an
    /// erased person; its receipt says [`ShredOutcome::NoKeyExisted`]
    /// (often the wrong tenant or subject was named), where a real
    /// destruction says [`ShredOutcome::KeyDestroyed`]. Shredding a shredded
    /// subject returns the first receipt.
    ///
    /// [`ShredOutcome::NoKeyExisted`]: crate::ShredOutcome::NoKeyExisted
    /// [`ShredOutcome::KeyDestroyed`]: crate::ShredOutcome::KeyDestroyed
    pub fn shred(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        actor: ActorId,
    ) -> Result<ShredReceipt, Error> {
        custodia_core::op_span!(DEBUG, "custodia.crypt.subject.shred");
        let receipt = ShredReceipt {
            tenant,
            subject,
            actor,
            at: self.clock.now(),
            // The store says what it found.
            outcome: crate::ShredOutcome::Unrecorded,
        };
        let stored = self.store.shred(&receipt)?;
        let mut cache = self.cache.write().unwrap_or_else(PoisonError::into_inner);
        cache.remove(&(tenant, subject));
        self.epoch.fetch_add(1, Ordering::AcqRel);
        Ok(stored)
    }

    /// Re-wraps every subject key still wrapped under an older tenant-key
    /// version with the keyring's primary, so the old version can be retired.
    /// Returns how many keys moved. Idempotent, and safe to rerun after a failure.
    ///
    /// The keys of subjects whose tenant was shredded
    /// ([`Keyring::shred_tenant`]) stay as they are: they can no longer be
    /// unwrapped, and [`Keyring::retire`] does not count them.
    pub fn rewrap(&self) -> Result<usize, Error> {
        let primary = KeyId::Tenant {
            version: self.keyring.primary(),
        };
        let mut moved = 0;
        for (tenant, subject, wrapped) in self.store.wrapped_keys()? {
            if Envelope::decode(&wrapped)?.key_id() == primary {
                continue;
            }
            let wrap_id = subject.to_string();
            let rewrapped = match self
                .keyring
                .reencrypt(&wrap_context(tenant, &wrap_id)?, &wrapped)
            {
                Ok(rewrapped) => rewrapped,
                // Erased with its tenant: it cannot move, and need not
                // (retirement does not count it either).
                Err(Error::TenantShredded { .. }) => continue,
                Err(e) => return Err(e),
            };
            if self
                .store
                .replace_wrapped(tenant, subject, &wrapped, rewrapped)?
            {
                moved += 1;
            }
        }
        Ok(moved)
    }

    /// Which tenant-key versions the stored subject keys are wrapped under:
    /// add it to the scan of your data before [`Keyring::retire`].
    pub fn key_usage(&self) -> Result<crate::KeyUsage, Error> {
        let wrapped = self.store.wrapped_keys()?;
        Ok(crate::KeyUsage::scan(
            wrapped.iter().map(|(_, _, e)| e.as_slice()),
        ))
    }

    fn subject_key(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        create: bool,
    ) -> Result<Arc<dyn AeadKey>, Error> {
        if self.freshness.polls() || self.keyring.polls() {
            let now = now_nanos();
            self.keyring.sync_if_due(now)?;
            if self.freshness.due(now) {
                self.sync(now, false)?;
            }
        }
        let generation = self.keyring.generation();
        if self.purged.load(Ordering::Acquire) != generation {
            self.drop_stale(generation);
        }
        let epoch = self.epoch.load(Ordering::Acquire);
        if self.capacity > 0 {
            let cached = self
                .cache
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&(tenant, subject))
                .cloned();
            if let Some((key, _)) = cached.filter(|(_, at)| *at == generation) {
                return Ok(key);
            }
        }
        let wrap_id = subject.to_string();
        let wrap_ctx = wrap_context(tenant, &wrap_id)?;
        let stored = match self.store.get(tenant, subject)? {
            Some(stored) => stored,
            None if create => {
                let fresh = SecretKey::generate()?;
                let wrapped = self.keyring.seal(&wrap_ctx, fresh.expose_secret())?;
                self.store.insert_if_absent(tenant, subject, wrapped)?
            }
            None => return Err(Error::UnknownKey(subject_key_id(subject))),
        };
        let envelope = match stored {
            StoredSubjectKey::Wrapped { envelope } => envelope,
            StoredSubjectKey::Shredded(_) => return Err(Error::Shredded { subject }),
        };
        let bytes = Zeroizing::new(self.keyring.open(&wrap_ctx, &envelope)?);
        let key: Arc<dyn AeadKey> = Arc::from(
            self.provider
                .aes_256_gcm(&SecretKey::try_from_slice(&bytes)?)?,
        );
        if self.capacity == 0 {
            // Nothing cached: the key is dropped when the caller is done.
            return Ok(key);
        }
        let mut cache = self.cache.write().unwrap_or_else(PoisonError::into_inner);
        // Keys dropped since this load began may include this one: use it
        // for this call (it was current when read) but do not keep it.
        // Nor keep a key unwrapped in a keyring generation already past.
        if self.epoch.load(Ordering::Acquire) == epoch && self.keyring.generation() == generation {
            let slot = (tenant, subject);
            if cache.len() >= self.capacity && !cache.contains_key(&slot) {
                // Full: make room, under the same write lock as the insert,
                // so the cache never holds more than `capacity` keys.
                //
                // Eviction does not bump `epoch`: it drops keys that are
                // still current, not shredded ones, so a load racing with it
                // may still cache its key afterwards (even one just evicted)
                // and be right to. `epoch` only has to stop a load from
                // caching a key a *shred* dropped after the load read the
                // store; a shred still bumps it, whether or not the key was
                // evicted before, so that guarantee is unchanged.
                Self::evict(&mut cache, (self.capacity / 8).max(1));
            }
            cache.insert(slot, (key.clone(), generation));
        }
        Ok(key)
    }

    /// Drops `count` arbitrary entries from a full cache (the map's
    /// iteration order, which its random hasher makes arbitrary): cheap,
    /// and no bookkeeping on the read path, at the price of sometimes
    /// evicting a hot key, which its next use unwraps again. The keys leave
    /// memory as a shred's removal does: dropped here, or when the last
    /// call still using one finishes (zeroized then if the key type
    /// zeroizes on drop, as RustCrypto's does; ring's cannot be).
    #[cold]
    fn evict(cache: &mut HashMap<(TenantId, SubjectId), CachedSubjectKey>, count: usize) {
        let victims: Vec<_> = cache.keys().take(count).copied().collect();
        for victim in &victims {
            cache.remove(victim);
        }
    }

    /// Drops the cached keys unwrapped before keyring `generation`: they
    /// can no longer be used (see [`SubjectVault::subject_key`]), and those
    /// of a shredded tenant must not linger in memory.
    #[cold]
    fn drop_stale(&self, generation: u64) {
        let mut cache = self.cache.write().unwrap_or_else(PoisonError::into_inner);
        cache.retain(|_, (_, at)| *at == generation);
        self.purged.store(generation, Ordering::Release);
    }
}

/// Where a subject's wrapped key lives, as a field of the tenant: the context
/// its wrapping envelope is bound to.
fn wrap_context(tenant: TenantId, subject_id: &str) -> Result<FieldContext<'_>, Error> {
    // The reserved record type: only this path may name it.
    FieldContext::internal(tenant, WRAP_RECORD_TYPE, subject_id, WRAP_FIELD)
}

fn subject_key_id(subject: SubjectId) -> KeyId {
    KeyId::Subject {
        subject,
        version: SUBJECT_KEY_VERSION,
    }
}

impl<S> fmt::Debug for SubjectVault<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubjectVault")
            .field("keyring", &self.keyring)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DataKeyMode, MemoryKeyStore};
    use custodia_core::chrono::DateTime;

    fn cached(vault: &SubjectVault<Arc<MemoryKeyStore>>) -> usize {
        vault
            .cache
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// A subject's wrapped key is an envelope under the tenant's data key
    /// in context `("custodia.subject_key", <subject>, "key")`. A host that
    /// names that record type through the public constructor would open it
    /// with `Keyring::open` and hold the person's key: the constructor
    /// refuses it, while the vault's own path still unwraps.
    #[test]
    fn no_host_context_reaches_a_wrapped_subject_key() {
        let store = Arc::new(MemoryKeyStore::default());
        let keyring = Arc::new(Keyring::new(SecretKey::from_bytes([5; 32])));
        let clock = Arc::new(custodia_core::ManualClock::new(DateTime::UNIX_EPOCH));
        let vault = SubjectVault::new(keyring.clone(), store.clone(), clock);
        let acme = TenantId::from_external_key("t", "acme");
        let alice = SubjectId::from_external_key(acme, "psa", "alice");
        let ctx = FieldContext::new(acme, "audit_event", "e-1", "ip").unwrap();
        let sealed = vault.seal(alice, &ctx, b"203.0.113.7").unwrap();
        let Some(StoredSubjectKey::Wrapped { envelope }) = store.get(acme, alice).unwrap() else {
            panic!("alice's key is not stored wrapped");
        };
        let alice_id = alice.to_string();
        assert_eq!(
            FieldContext::new(acme, "custodia.subject_key", &alice_id, "key"),
            Err(Error::InvalidContext(
                "record type reserved for custodia-crypt's own wrapped keys"
            ))
        );
        // The crate's own context still unwraps it (this is the vault's path).
        let own = wrap_context(acme, &alice_id).unwrap();
        assert_eq!(keyring.open(&own, &envelope).unwrap().len(), 32);
        assert_eq!(vault.open(&ctx, &sealed).unwrap(), b"203.0.113.7");
    }

    /// A tenant shred makes the vault's cached subject keys of that tenant
    /// stale (their keyring generation is past); they must leave memory then,
    /// not stay there, unusable, for the life of the process.
    #[test]
    fn a_tenant_shred_evicts_the_tenants_subject_keys() {
        let store = Arc::new(MemoryKeyStore::default());
        let root = SecretKey::generate().unwrap();
        let keyring =
            Arc::new(Keyring::from_store(store.clone(), &root, DataKeyMode::Random).unwrap());
        let clock = Arc::new(custodia_core::ManualClock::new(DateTime::UNIX_EPOCH));
        let vault = SubjectVault::new(keyring.clone(), store, clock.clone());
        let (acme, globex) = (
            TenantId::from_external_key("t", "acme"),
            TenantId::from_external_key("t", "globex"),
        );
        let ctx = |t| FieldContext::new(t, "audit_event", "e-1", "ip").unwrap();
        let mut sealed = Vec::new();
        for (t, name) in [(acme, "alice"), (acme, "bob"), (globex, "gina")] {
            let subject = SubjectId::from_external_key(t, "psa", name);
            sealed.push((t, vault.seal(subject, &ctx(t), b"x").unwrap()));
        }
        assert_eq!(cached(&vault), 3);
        let actor = ActorId::from_external_key(acme, "psa.user", "dpo");
        keyring.shred_tenant(acme, actor, clock.as_ref()).unwrap();

        // Any use of the vault after the shred drops what is stale.
        let (t, gina) = &sealed[2];
        assert_eq!(vault.open(&ctx(*t), gina).unwrap(), b"x");
        assert_eq!(cached(&vault), 1, "the shredded tenant's keys stayed");
        let (t, alice) = &sealed[0];
        assert_eq!(
            vault.open(&ctx(*t), alice),
            Err(Error::TenantShredded { tenant: acme })
        );
        assert_eq!(cached(&vault), 1);
    }

    fn vault_with_capacity(capacity: usize) -> SubjectVault<Arc<MemoryKeyStore>> {
        let keyring = Arc::new(Keyring::new(SecretKey::from_bytes([3; 32])));
        let clock = Arc::new(custodia_core::ManualClock::new(DateTime::UNIX_EPOCH));
        SubjectVault::new(keyring, Arc::new(MemoryKeyStore::default()), clock)
            // Never asks the store what changed: what the vault sees of the
            // store below, it read because the key was not cached.
            .with_staleness_bound(Duration::MAX)
            .with_cache_capacity(capacity)
    }

    fn subjects(tenant: TenantId, n: usize) -> Vec<SubjectId> {
        (0..n)
            .map(|i| SubjectId::from_external_key(tenant, "psa", &i.to_string()))
            .collect()
    }

    fn receipt(tenant: TenantId, subject: SubjectId) -> ShredReceipt {
        ShredReceipt {
            tenant,
            subject,
            actor: ActorId::from_external_key(tenant, "psa.user", "dpo"),
            at: DateTime::UNIX_EPOCH,
            outcome: crate::ShredOutcome::Unrecorded,
        }
    }

    #[test]
    fn the_cache_capacity_defaults_to_the_documented_constant() {
        let keyring = Arc::new(Keyring::new(SecretKey::from_bytes([3; 32])));
        let clock = Arc::new(custodia_core::ManualClock::new(DateTime::UNIX_EPOCH));
        let vault = SubjectVault::new(keyring, MemoryKeyStore::default(), clock);
        assert_eq!(vault.capacity, DEFAULT_CACHE_CAPACITY);
    }

    /// A full cache evicts instead of growing, and an evicted subject's
    /// values still open: its key is unwrapped from the store again.
    #[test]
    fn a_full_cache_evicts_and_evicted_keys_come_back_from_the_store() {
        let vault = vault_with_capacity(3);
        let tenant = TenantId::from_external_key("t", "acme");
        let ctx = FieldContext::new(tenant, "audit_event", "e-1", "ip").unwrap();
        let people = subjects(tenant, 5);
        let mut sealed = Vec::new();
        for (i, subject) in people.iter().enumerate() {
            sealed.push(
                vault
                    .seal(*subject, &ctx, i.to_string().as_bytes())
                    .unwrap(),
            );
            assert!(cached(&vault) <= 3, "{} keys cached", cached(&vault));
        }
        assert!(cached(&vault) > 0, "a capacity of 3 still caches");
        for _ in 0..2 {
            for (i, value) in sealed.iter().enumerate() {
                assert_eq!(vault.open(&ctx, value).unwrap(), i.to_string().as_bytes());
                assert!(cached(&vault) <= 3, "{} keys cached", cached(&vault));
            }
        }
        // Eviction touched only memory: the store still holds every
        // subject's one wrapped key.
        for subject in &people {
            assert!(matches!(
                vault.store().get(tenant, *subject).unwrap(),
                Some(StoredSubjectKey::Wrapped { .. })
            ));
        }
    }

    /// Capacity 0: nothing is cached, every use reads the store (a shred
    /// written straight to the store, which this vault never polls, is seen
    /// at the next open), and seal and open work as before.
    #[test]
    fn capacity_zero_caches_nothing_and_reads_the_store_every_time() {
        let vault = vault_with_capacity(0);
        let tenant = TenantId::from_external_key("t", "acme");
        let ctx = FieldContext::new(tenant, "audit_event", "e-1", "ip").unwrap();
        let [alice, bob] = subjects(tenant, 2)[..] else {
            unreachable!()
        };
        let a1 = vault.seal(alice, &ctx, b"a1").unwrap();
        let a2 = vault.seal(alice, &ctx, b"a2").unwrap();
        let b1 = vault.seal(bob, &ctx, b"b1").unwrap();
        assert_eq!(cached(&vault), 0);
        assert_eq!(vault.open(&ctx, &a1).unwrap(), b"a1");
        assert_eq!(vault.open(&ctx, &a2).unwrap(), b"a2");
        assert_eq!(vault.open(&ctx, &b1).unwrap(), b"b1");
        assert_eq!(cached(&vault), 0);

        vault.store().shred(&receipt(tenant, alice)).unwrap();
        assert_eq!(
            vault.open(&ctx, &a1),
            Err(Error::Shredded { subject: alice })
        );
        assert_eq!(
            vault.seal(alice, &ctx, b"a3"),
            Err(Error::Shredded { subject: alice })
        );
        assert_eq!(vault.open(&ctx, &b1).unwrap(), b"b1");

        let dpo = ActorId::from_external_key(tenant, "psa.user", "dpo");
        vault.shred(tenant, bob, dpo).unwrap();
        assert_eq!(vault.open(&ctx, &b1), Err(Error::Shredded { subject: bob }));
        assert_eq!(cached(&vault), 0);
    }

    /// A shred of a subject whose key was evicted, and of one still cached,
    /// both take effect at once; the evicted key is not resurrected by a
    /// later use.
    #[test]
    fn a_shred_after_eviction_still_shreds() {
        let vault = vault_with_capacity(1);
        let tenant = TenantId::from_external_key("t", "acme");
        let ctx = FieldContext::new(tenant, "audit_event", "e-1", "ip").unwrap();
        let [alice, bob] = subjects(tenant, 2)[..] else {
            unreachable!()
        };
        let a = vault.seal(alice, &ctx, b"a").unwrap();
        let b = vault.seal(bob, &ctx, b"b").unwrap();
        assert_eq!(cached(&vault), 1, "bob's key evicted alice's");

        let dpo = ActorId::from_external_key(tenant, "psa.user", "dpo");
        vault.shred(tenant, alice, dpo).unwrap();
        assert_eq!(
            vault.open(&ctx, &a),
            Err(Error::Shredded { subject: alice })
        );
        assert_eq!(vault.open(&ctx, &b).unwrap(), b"b");
        assert_eq!(
            vault.seal(alice, &ctx, b"again"),
            Err(Error::Shredded { subject: alice })
        );

        vault.shred(tenant, bob, dpo).unwrap();
        assert_eq!(vault.open(&ctx, &b), Err(Error::Shredded { subject: bob }));
        assert_eq!(cached(&vault), 0);

        // And a shred the vault learns of only from its store (another
        // process), of a key it evicted: the reload reads the tombstone.
        let vault = vault_with_capacity(1);
        let a = vault.seal(alice, &ctx, b"a").unwrap();
        vault.seal(bob, &ctx, b"b").unwrap();
        vault.store().shred(&receipt(tenant, alice)).unwrap();
        assert_eq!(
            vault.open(&ctx, &a),
            Err(Error::Shredded { subject: alice })
        );
    }

    /// Eviction drops a batch (an eighth of the capacity) at a time, and
    /// never the key being inserted.
    #[test]
    fn eviction_drops_a_batch_and_keeps_the_new_key() {
        let vault = vault_with_capacity(16);
        let tenant = TenantId::from_external_key("t", "acme");
        let ctx = FieldContext::new(tenant, "audit_event", "e-1", "ip").unwrap();
        let people = subjects(tenant, 17);
        for subject in &people {
            vault.seal(*subject, &ctx, b"x").unwrap();
        }
        assert_eq!(cached(&vault), 15, "16 full, 2 evicted, 1 inserted");
        let last = people[16];
        assert!(
            vault
                .cache
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .contains_key(&(tenant, last))
        );
    }

    /// Lowering the capacity of a vault already in use trims its cache at
    /// once, and what was trimmed still opens.
    #[test]
    fn lowering_the_capacity_trims_the_cache() {
        let vault = vault_with_capacity(DEFAULT_CACHE_CAPACITY);
        let tenant = TenantId::from_external_key("t", "acme");
        let ctx = FieldContext::new(tenant, "audit_event", "e-1", "ip").unwrap();
        let sealed: Vec<_> = subjects(tenant, 5)
            .into_iter()
            .map(|subject| vault.seal(subject, &ctx, b"x").unwrap())
            .collect();
        assert_eq!(cached(&vault), 5);
        let vault = vault.with_cache_capacity(2);
        assert_eq!(cached(&vault), 2);
        for value in &sealed {
            assert_eq!(vault.open(&ctx, value).unwrap(), b"x");
            assert!(cached(&vault) <= 2);
        }
    }
}
