//! Where keys live: the [`KeyStore`] trait, its records, and the in-memory store.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{
    Arc, LockResult, Mutex, MutexGuard, OnceLock, PoisonError, RwLock, RwLockReadGuard,
    RwLockWriteGuard, TryLockError, TryLockResult,
};
use std::time::{Duration, Instant};

use custodia_core::{ActorId, SubjectId, TenantId, Timestamp};

use crate::Error;
use crate::keyring::DataKeyMode;

#[cfg(feature = "postgres")]
pub(crate) mod postgres;
pub(crate) mod sql;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;
#[cfg(feature = "sqlx")]
pub(crate) mod sqlx_pg;

/// What the store holds for one subject.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum StoredSubjectKey {
    /// The subject's key, wrapped by the tenant's data key (a field envelope).
    Wrapped {
        /// The envelope bytes.
        envelope: Vec<u8>,
    },
    /// The key was destroyed; this is the record of it.
    Shredded(ShredReceipt),
}

/// What a shred found in the store: whether it destroyed a key or only
/// wrote the tombstone.
///
/// A shred always leaves a tombstone, so that no key can be made later for
/// the erased subject or tenant; this says whether there was anything to
/// destroy. A shred that destroyed nothing usually means the wrong tenant
/// or subject was named, or the person never had anything sealed: worth a
/// look before the erasure is certified.
///
/// Stored with the receipt (`"outcome": "key_destroyed"`, `"no_key_existed"`).
/// Receipts stored before it existed have no such field and read as
/// [`ShredOutcome::Unrecorded`]: whether they destroyed a key is not known.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ShredOutcome {
    /// A key was there and this shred destroyed it (for a tenant: at least
    /// one data key or its search key).
    KeyDestroyed,
    /// No key existed: only the tombstone was written.
    NoKeyExisted,
    /// A receipt stored before shreds recorded their outcome.
    #[default]
    Unrecorded,
}

/// Proof that a subject's key was destroyed: who did it, when, and whether
/// there was a key to destroy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ShredReceipt {
    /// The tenant.
    pub tenant: TenantId,
    /// The erased person.
    pub subject: SubjectId,
    /// Who requested the shredding.
    pub actor: ActorId,
    /// When the key was destroyed.
    pub at: Timestamp,
    /// Whether a key was destroyed or only the tombstone written. Set by the
    /// store ([`KeyStore::shred`]) from what it found; what a caller puts
    /// here is ignored. Absent in receipts stored before it existed.
    #[serde(default)]
    pub outcome: ShredOutcome,
}

/// Proof that all of a tenant's data keys were destroyed: who, when, which
/// key versions the tenant had, and whether it had any key at all.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TenantShredReceipt {
    /// The erased tenant.
    pub tenant: TenantId,
    /// Who requested the shredding.
    pub actor: ActorId,
    /// When the keys were destroyed.
    pub at: Timestamp,
    /// The data-key versions destroyed (the search key, if any, went too).
    /// Set by the store ([`KeyStore::shred_tenant`]) from what it found.
    pub key_versions: Vec<u32>,
    /// Whether any key was destroyed or only the tombstone written. Set by
    /// the store from what it found; what a caller puts here is ignored.
    /// Absent in receipts stored before it existed.
    #[serde(default)]
    pub outcome: ShredOutcome,
}

/// A tenant's keys in a [`DataKeyMode::Random`] keyring.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum StoredTenantKeys {
    /// The tenant's wrapped keys.
    Active {
        /// Data key of each keyring version, wrapped under that version's
        /// key-encryption key (a field envelope). Serialised as a list of
        /// `{"version": …, "wrapped_key": […]}`.
        #[serde(with = "versions_as_list")]
        data_keys: BTreeMap<u32, Vec<u8>>,
        /// The rotation-stable search key, wrapped under the keyring's search
        /// key-encryption key, once one was needed.
        search_key: Option<Vec<u8>>,
    },
    /// Every key of the tenant was destroyed; this is the record of it.
    Shredded(TenantShredReceipt),
}

/// Maps of version to wrapped key as lists of [`StoredVersion`]: JSON object
/// keys are strings, and a tagged enum cannot turn them back into numbers.
mod versions_as_list {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::StoredVersion;

    pub(super) fn serialize<S: Serializer>(
        map: &BTreeMap<u32, Vec<u8>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let list: Vec<StoredVersion> = map
            .iter()
            .map(|(&version, wrapped)| StoredVersion {
                version,
                wrapped_key: wrapped.clone(),
            })
            .collect();
        list.serialize(serializer)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<u32, Vec<u8>>, D::Error> {
        let list = Vec::<StoredVersion>::deserialize(deserializer)?;
        let mut map = BTreeMap::new();
        for stored in list {
            if map.insert(stored.version, stored.wrapped_key).is_some() {
                return Err(serde::de::Error::custom(format!(
                    "data key version {} listed twice",
                    stored.version
                )));
            }
        }
        Ok(map)
    }
}

/// Which of a tenant's keys a store operation concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantKeySlot {
    /// The data key of one keyring version.
    Data {
        /// The keyring version.
        version: u32,
    },
    /// The rotation-stable search key (blind indexes, deterministic encryption).
    Search,
}

/// One version of a keyring, as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredVersion {
    /// The version number.
    pub version: u32,
    /// The version key, wrapped under the root key (a field envelope).
    pub wrapped_key: Vec<u8>,
}

/// The persisted state of a [`Keyring`](crate::Keyring): its version list.
///
/// Serialised (by the [`FileKeyStore`](crate::FileKeyStore)) as JSON, e.g.
/// `{"format":1,"mode":"random","primary":2,"versions":[{"version":2,
/// "wrapped_key":[1,1,1,…]}],"retired":[1],"search_root":[1,1,1,…]}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyringRecord {
    /// The record's format version, [`KeyringRecord::FORMAT`].
    pub format: u32,
    /// How tenant data keys are made.
    pub mode: DataKeyMode,
    /// The version that seals.
    pub primary: u32,
    /// The versions that still decrypt, oldest first.
    pub versions: Vec<StoredVersion>,
    /// Versions retired for good; their numbers are never reused.
    pub retired: Vec<u32>,
    /// The rotation-stable search root key, wrapped under the root key.
    pub search_root: Vec<u8>,
}

impl KeyringRecord {
    /// The record format this build writes and reads.
    pub const FORMAT: u32 = 1;
}

/// The stored nonce count of one tenant data key: random-nonce encryptions
/// reserved under it by every keyring over the store, together.
///
/// Keyrings reserve in blocks ([`NonceBudget`](crate::NonceBudget)) and only
/// ever raise the count, so it is never below the encryptions actually done;
/// a process that exits or crashes loses the unused rest of its block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NonceCount {
    /// The tenant.
    pub tenant: TenantId,
    /// The keyring version of the tenant's data key.
    pub version: u32,
    /// Nonces reserved so far.
    pub reserved: u64,
}

/// Where wrapped keys and the keyring's version list live.
///
/// Implementations must make [`KeyStore::shred`] and
/// [`KeyStore::shred_tenant`] final: no undo, no old copy kept (a soft-deleted
/// row or an append-only history would defeat erasure). Every method that
/// "inserts if absent" or "replaces if unchanged" must be atomic, so that
/// concurrent keyrings and vaults over one store agree.
///
/// Where keys live: the [`KeyStore`] trait, its records, and the in-memory store.
///
/// A store holds three kinds of record, all of them wrapped (encrypted) key
/// material plus the bookkeeping needed to use it:
///
/// * the [`KeyringRecord`]: which key versions exist, which is primary, which
///   were retired, each version key wrapped under the root key (see
///   [`Keyring::from_store`](crate::Keyring::from_store));
/// * per tenant, [`StoredTenantKeys`]: the tenant's random data key of each
///   version and its search key, each wrapped under a key-encryption key
///   (keyrings in [`DataKeyMode::Random`] only),
///   or the tombstone of a shredded tenant;
/// * per data subject, a [`StoredSubjectKey`]: the subject's key wrapped under
///   the tenant's data key, or the tombstone of a shredded subject;
/// * per (tenant, key version), a [`NonceCount`]: how many random-nonce
///   encryptions keyrings have reserved under that tenant's data key, so the
///   NIST SP 800-38D limit holds across processes and restarts (see
///   [`NonceBudget`](crate::NonceBudget)).
///
/// Shredding replaces key material by a tombstone holding the receipt. A store
/// must make that final: no undo, no soft delete, no history of old values.
/// Backups of the store itself still hold the keys until they expire, so the
/// store's backups must expire within the erasure deadline (the retention
/// crate tracks that backup horizon).
///
/// # Propagation between processes
///
/// Keyrings and vaults cache unwrapped keys. So that a shred, a tenant shred,
/// a rotation or a retirement committed by one process reaches every other
/// process sharing the store, a store counts such changes: its
/// [`KeyStore::generation`] moves with each of them (in the same transaction,
/// for the SQL stores), and [`KeyStore::changes_since`] says what changed.
/// A [`Keyring`](crate::Keyring) or [`SubjectVault`](crate::SubjectVault)
/// asks at most once per *staleness bound* ([`DEFAULT_STALENESS_BOUND`], 1 s,
/// configurable with `with_staleness_bound`): on the hot path only a clock
/// read, one small query per bound. So a value whose key was shredded
/// elsewhere stops opening at most one bound (plus one store round trip)
/// after the shred committed.
///
/// Store round trips per request, for a process with warm caches: none to
/// seal or open (keys are cached); one read of the generation per staleness
/// bound per keyring and per vault (two a second by default, whatever the
/// request rate), plus three small reads after a change; one round trip per
/// nonce block reserved (every 2^20 seals per key). A cache miss costs a
/// subject-key read (two with the creating insert) and, for a tenant key,
/// one read plus a shred check. With PostgreSQL each is one network round
/// trip; SQLite and the file store answer locally (the file store with one
/// `stat` per read).
///
/// In statements (each one PostgreSQL round trip; a transaction adds
/// `BEGIN` and `COMMIT`): a generation check with nothing changed is 1,
/// after a change 4 (plus 1 for a new keyring record); the first open of a
/// subject is 1 (plus 2 when the tenant's key is not cached yet: its row and
/// the shred check); the first seal for a subject is 3 (read, insert, read
/// back); a nonce-block reservation is 6 (read, then `BEGIN`, insert-if-absent,
/// `SELECT … FOR UPDATE`, update, `COMMIT`); a subject shred is 4 (`BEGIN`,
/// bump the generation, insert the tombstone, `COMMIT`) where the subject had
/// no entry, 6 where it had a key (the insert finds the row, which is then
/// locked and overwritten), 5 over a tombstone (which stays); a tenant shred 7 (a
/// read, then `BEGIN`, make the row if absent, lock it, bump, the tombstone,
/// `COMMIT`).
/// With [`SqlxKeyStore`](crate::SqlxKeyStore) through the async types, each
/// of these runs in one trip to tokio's blocking pool (about 25–30 µs on a
/// loaded two-core machine, see BENCHMARKS.md), and sqlx's default
/// `test_before_acquire` adds a ping each time a statement outside a
/// transaction takes a pooled connection (turn it off on the key store's
/// pool to save it); a cached seal or open makes no store call and no trip.
///
/// A wrapper forwards every method, the change tracking included: one that
/// leaves out [`KeyStore::generation`] and [`KeyStore::changes_since`] does
/// not compile (they have no default, see there why).
///
/// ```compile_fail,E0046
/// use custodia_core::{SubjectId, TenantId};
/// use custodia_crypt::*;
///
/// /// Counts store calls; forgets the change tracking.
/// struct Metered(MemoryKeyStore);
///
/// impl KeyStore for Metered {
///     fn get(&self, t: TenantId, s: SubjectId) -> Result<Option<StoredSubjectKey>, Error> {
///         self.0.get(t, s)
///     }
/// #   fn insert_if_absent(&self, t: TenantId, s: SubjectId, w: Vec<u8>) -> Result<StoredSubjectKey, Error> { self.0.insert_if_absent(t, s, w) }
/// #   fn shred(&self, r: &ShredReceipt) -> Result<ShredReceipt, Error> { self.0.shred(r) }
/// #   fn wrapped_keys(&self) -> Result<Vec<(TenantId, SubjectId, Vec<u8>)>, Error> { self.0.wrapped_keys() }
/// #   fn replace_wrapped(&self, t: TenantId, s: SubjectId, o: &[u8], n: Vec<u8>) -> Result<bool, Error> { self.0.replace_wrapped(t, s, o, n) }
/// #   fn keyring(&self) -> Result<Option<KeyringRecord>, Error> { self.0.keyring() }
/// #   fn replace_keyring(&self, e: Option<&KeyringRecord>, n: KeyringRecord) -> Result<bool, Error> { self.0.replace_keyring(e, n) }
/// #   fn tenant_keys(&self, t: TenantId) -> Result<Option<StoredTenantKeys>, Error> { self.0.tenant_keys(t) }
/// #   fn insert_tenant_key_if_absent(&self, t: TenantId, s: TenantKeySlot, w: Vec<u8>) -> Result<StoredTenantKeys, Error> { self.0.insert_tenant_key_if_absent(t, s, w) }
/// #   fn shred_tenant(&self, r: &TenantShredReceipt) -> Result<TenantShredReceipt, Error> { self.0.shred_tenant(r) }
/// #   fn remove_tenant_keys(&self, v: u32) -> Result<u64, Error> { self.0.remove_tenant_keys(v) }
/// #   fn nonces_reserved(&self, t: TenantId, v: u32) -> Result<u64, Error> { self.0.nonces_reserved(t, v) }
/// #   fn replace_nonces_reserved(&self, t: TenantId, v: u32, e: u64, n: u64) -> Result<bool, Error> { self.0.replace_nonces_reserved(t, v, e, n) }
/// #   fn nonce_counts(&self) -> Result<Vec<NonceCount>, Error> { self.0.nonce_counts() }
///     // … every other method forwarded, but not `generation` and
///     // `changes_since`: error[E0046], not all trait items implemented.
/// }
/// ```
pub trait KeyStore: Send + Sync {
    /// The stored entry for a subject, if any.
    fn get(&self, tenant: TenantId, subject: SubjectId) -> Result<Option<StoredSubjectKey>, Error>;

    /// Stores a wrapped key unless the subject already has an entry; returns
    /// the entry that is stored afterwards (so concurrent creators agree).
    fn insert_if_absent(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        wrapped: Vec<u8>,
    ) -> Result<StoredSubjectKey, Error>;

    /// Replaces the subject's entry with a tombstone, destroying the key,
    /// unless it is a tombstone already; returns the receipt stored
    /// afterwards. Its [`ShredReceipt::outcome`] says what the store found,
    /// atomically with the write: [`ShredOutcome::KeyDestroyed`] over a
    /// wrapped key, [`ShredOutcome::NoKeyExisted`] where there was no entry
    /// (the tombstone still goes in, so no key is made later). Over a
    /// tombstone the first receipt stays and comes back, as for
    /// [`KeyStore::shred_tenant`].
    fn shred(&self, receipt: &ShredReceipt) -> Result<ShredReceipt, Error>;

    /// Every wrapped (not shredded) subject key: tenant, subject, envelope.
    fn wrapped_keys(&self) -> Result<Vec<(TenantId, SubjectId, Vec<u8>)>, Error>;

    /// Replaces a wrapped key by its re-wrapped form, only if the entry still
    /// holds `old` (so a concurrent shred is never undone). Returns whether it did.
    fn replace_wrapped(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        old: &[u8],
        new: Vec<u8>,
    ) -> Result<bool, Error>;

    /// The keyring's version list, if one was saved.
    fn keyring(&self) -> Result<Option<KeyringRecord>, Error>;

    /// Saves `new` as the keyring's version list if the stored one still
    /// equals `expected` (`None`: nothing stored yet). Returns whether it did.
    fn replace_keyring(
        &self,
        expected: Option<&KeyringRecord>,
        new: KeyringRecord,
    ) -> Result<bool, Error>;

    /// A tenant's stored keys, if any.
    fn tenant_keys(&self, tenant: TenantId) -> Result<Option<StoredTenantKeys>, Error>;

    /// Stores `wrapped` in the tenant's `slot` unless that slot is filled or
    /// the tenant was shredded; returns the tenant's entry afterwards.
    fn insert_tenant_key_if_absent(
        &self,
        tenant: TenantId,
        slot: TenantKeySlot,
        wrapped: Vec<u8>,
    ) -> Result<StoredTenantKeys, Error>;

    /// Replaces all of the tenant's keys with a tombstone, destroying them,
    /// unless the tenant is a tombstone already; returns the receipt stored
    /// afterwards. So of two shreds that overlap (two processes that both
    /// read the tenant active) the first to commit keeps its receipt and the
    /// second gets it back, as a shred after the first does. The stored
    /// receipt's `key_versions` and `outcome` are what the store found,
    /// atomically with the write ([`ShredOutcome::NoKeyExisted`] for a
    /// tenant without any key).
    fn shred_tenant(&self, receipt: &TenantShredReceipt) -> Result<TenantShredReceipt, Error>;

    /// Deletes every tenant's data key of a retired `version`; returns how many.
    fn remove_tenant_keys(&self, version: u32) -> Result<u64, Error>;

    /// Random-nonce encryptions reserved so far under the tenant's data key
    /// of `version` (0 if none).
    fn nonces_reserved(&self, tenant: TenantId, version: u32) -> Result<u64, Error>;

    /// Sets the reserved count of (`tenant`, `version`) to `new` if it still
    /// equals `expected` and `new >= expected` (the count never goes down).
    /// Returns whether it did. Must be atomic: this compare-and-swap is what
    /// keeps two processes from reserving the same nonces.
    fn replace_nonces_reserved(
        &self,
        tenant: TenantId,
        version: u32,
        expected: u64,
        new: u64,
    ) -> Result<bool, Error>;

    /// Every stored nonce count, ordered by tenant and version.
    fn nonce_counts(&self) -> Result<Vec<NonceCount>, Error>;

    /// The store's change counter: it moves whenever a subject or tenant is
    /// shredded or the keyring record changes (rotation, retirement), by
    /// this process or any other sharing the store. Only comparable with
    /// values from the same store.
    ///
    /// Required, with [`KeyStore::changes_since`], so that a wrapper around
    /// another store (metrics, retries, a tenant router) cannot leave them out
    /// by accident: with a default, such a wrapper compiled and reported "no
    /// change" for ever, and every keyring and vault over it kept shredded
    /// subjects' keys in its cache. Forward both to the wrapped store. A store
    /// that really tracks no changes, used by one process alone, returns 0
    /// (and [`KeyStoreChanges::none`]): caches over it never expire.
    ///
    /// Each change moves it up by one or more: it orders changes, it does
    /// not count them. The SQL stores lift it to the clock, `max(generation + 1,
    /// now in microseconds)`, so that its values never repeat even after the
    /// store is restored from a backup: the first change after a restore
    /// passes every value a process saw before it, and
    /// [`KeyStore::changes_since`] lists the shreds since the restore instead
    /// of reporting nothing. That assumes the clocks of the processes sharing
    /// the store agree (NTP) to well within the time a restore takes; a clock
    /// stepped back only makes a change add one, never reuse a value. A store
    /// whose generation is below a value a reader saw was rolled back: its
    /// changes are incomplete, drop everything.
    fn generation(&self) -> Result<u64, Error>;

    /// What changed since generation `seen` (a value [`KeyStore::generation`]
    /// or an earlier call returned). Cheap when nothing did: one small read.
    /// Required, like [`KeyStore::generation`]; a store that tracks no
    /// changes returns [`KeyStoreChanges::none`].
    fn changes_since(&self, seen: u64) -> Result<KeyStoreChanges, Error>;
}

/// What changed in a [`KeyStore`] since a generation: what caches must drop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyStoreChanges {
    /// The generation these changes bring the reader to.
    pub generation: u64,
    /// False when the store cannot list every change (its generation went
    /// back, e.g. a restored backup, or its log was trimmed): drop every
    /// cached key and reload the keyring.
    pub complete: bool,
    /// The keyring record changed (rotation, retirement): reload it.
    pub keyring: bool,
    /// Tenants shredded.
    pub tenants: Vec<TenantId>,
    /// Subjects shredded.
    pub subjects: Vec<(TenantId, SubjectId)>,
}

impl KeyStoreChanges {
    /// Nothing changed; the reader stays at `generation`.
    pub fn none(generation: u64) -> Self {
        Self {
            generation,
            complete: true,
            keyring: false,
            tenants: Vec::new(),
            subjects: Vec::new(),
        }
    }

    /// Whether a reader at an older generation must drop or reload anything.
    pub fn is_empty(&self) -> bool {
        self.complete && !self.keyring && self.tenants.is_empty() && self.subjects.is_empty()
    }
}

/// How long a cache may go without asking its store what changed, unless
/// configured otherwise: a shred elsewhere takes effect here within this
/// bound (plus one store round trip).
pub const DEFAULT_STALENESS_BOUND: Duration = Duration::from_secs(1);

/// Nanoseconds on a monotonic clock, from 2^62 at the process's first call,
/// so that a cache that never checked (at 0) is due however young the process.
pub(crate) fn now_nanos() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let nanos = EPOCH.get_or_init(Instant::now).elapsed().as_nanos();
    u64::try_from(nanos).map_or(u64::MAX, |n| n.saturating_add(1 << 62))
}

/// When a cache last asked its store for changes, and how often it must.
#[derive(Debug)]
pub(crate) struct Freshness {
    bound: u64,
    checked: AtomicU64,
}

impl Freshness {
    /// Checked just now; due again after `bound` (`Duration::MAX`: never).
    pub(crate) fn new(bound: Duration) -> Self {
        Self {
            bound: u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX),
            checked: AtomicU64::new(now_nanos()),
        }
    }

    /// Never checked: due at once.
    pub(crate) fn unchecked(bound: Duration) -> Self {
        let freshness = Self::new(bound);
        freshness.checked.store(0, Ordering::Relaxed);
        freshness
    }

    /// Whether this ever asks (a bound of `Duration::MAX` never does, and
    /// then the hot path does not even read the clock).
    #[inline]
    pub(crate) fn polls(&self) -> bool {
        self.bound != u64::MAX
    }

    /// Whether the last check is at least one bound old at `now`.
    #[inline]
    pub(crate) fn due(&self, now: u64) -> bool {
        now.saturating_sub(self.checked.load(Ordering::Relaxed)) >= self.bound
    }

    /// Records a check that started at `at` (its answer is at least that fresh).
    pub(crate) fn checked(&self, at: u64) {
        self.checked.fetch_max(at, Ordering::Relaxed);
    }
}

/// One change a cache must hear about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    Keyring,
    Tenant(TenantId),
    Subject(TenantId, SubjectId),
}

/// The in-process change log of the memory and file stores: generations
/// are local to the store value; the last [`ChangeLog::CAPACITY`] changes
/// are kept, and a reader further behind is told to drop everything.
#[derive(Debug, Default)]
pub(crate) struct ChangeLog {
    generation: u64,
    entries: VecDeque<(u64, Change)>,
}

impl ChangeLog {
    const CAPACITY: usize = 4096;

    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    pub(crate) fn record(&mut self, changes: impl IntoIterator<Item = Change>) {
        for change in changes {
            self.generation += 1;
            self.entries.push_back((self.generation, change));
            if self.entries.len() > Self::CAPACITY {
                self.entries.pop_front();
            }
        }
    }

    pub(crate) fn since(&self, seen: u64) -> KeyStoreChanges {
        let mut out = KeyStoreChanges::none(self.generation);
        if seen == self.generation {
            return out;
        }
        let oldest = self.entries.front().map_or(u64::MAX, |(g, _)| *g);
        if seen > self.generation || oldest > seen.saturating_add(1) {
            out.complete = false;
            return out;
        }
        for (_, change) in self.entries.iter().filter(|(g, _)| *g > seen) {
            match *change {
                Change::Keyring => out.keyring = true,
                Change::Tenant(tenant) => out.tenants.push(tenant),
                Change::Subject(tenant, subject) => out.subjects.push((tenant, subject)),
            }
        }
        out
    }
}

/// Everything a store holds, in memory: the common logic of the in-memory
/// and file stores.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StoreState {
    pub(crate) subjects: HashMap<(TenantId, SubjectId), StoredSubjectKey>,
    pub(crate) tenants: BTreeMap<TenantId, StoredTenantKeys>,
    pub(crate) keyring: Option<KeyringRecord>,
    pub(crate) nonces: BTreeMap<(TenantId, u32), u64>,
}

impl StoreState {
    /// The changes caches must hear about between `self` and `next`: new
    /// tombstones, and any change of the keyring record.
    pub(crate) fn changes_to(&self, next: &StoreState) -> Vec<Change> {
        let mut changes = Vec::new();
        if self.keyring != next.keyring {
            changes.push(Change::Keyring);
        }
        for (&tenant, keys) in &next.tenants {
            if matches!(keys, StoredTenantKeys::Shredded(_))
                && self.tenants.get(&tenant) != Some(keys)
            {
                changes.push(Change::Tenant(tenant));
            }
        }
        for (&(tenant, subject), stored) in &next.subjects {
            if matches!(stored, StoredSubjectKey::Shredded(_))
                && self.subjects.get(&(tenant, subject)) != Some(stored)
            {
                changes.push(Change::Subject(tenant, subject));
            }
        }
        changes
    }

    pub(crate) fn insert_subject(
        &mut self,
        tenant: TenantId,
        subject: SubjectId,
        wrapped: Vec<u8>,
    ) -> StoredSubjectKey {
        self.subjects
            .entry((tenant, subject))
            .or_insert(StoredSubjectKey::Wrapped { envelope: wrapped })
            .clone()
    }

    /// The tombstone's receipt: `receipt` with the outcome found, or the
    /// receipt already there; and whether the entry changed.
    pub(crate) fn shred_subject(&mut self, receipt: &ShredReceipt) -> (ShredReceipt, bool) {
        let outcome = match self.subjects.get(&(receipt.tenant, receipt.subject)) {
            Some(StoredSubjectKey::Shredded(first)) => return (first.clone(), false),
            Some(StoredSubjectKey::Wrapped { .. }) => ShredOutcome::KeyDestroyed,
            None => ShredOutcome::NoKeyExisted,
        };
        let stored = ShredReceipt {
            outcome,
            ..receipt.clone()
        };
        self.subjects.insert(
            (receipt.tenant, receipt.subject),
            StoredSubjectKey::Shredded(stored.clone()),
        );
        (stored, true)
    }

    /// The wrapped subject entries, in a stable order.
    pub(crate) fn wrapped_subjects(&self) -> Vec<(TenantId, SubjectId, Vec<u8>)> {
        let mut list: Vec<_> = self
            .subjects
            .iter()
            .filter_map(|(&(tenant, subject), stored)| match stored {
                StoredSubjectKey::Wrapped { envelope } => Some((tenant, subject, envelope.clone())),
                StoredSubjectKey::Shredded(_) => None,
            })
            .collect();
        list.sort_by_key(|(tenant, subject, _)| (*tenant, *subject));
        list
    }

    /// Swaps `old` for `new`, refusing tombstones and stale reads.
    pub(crate) fn swap_subject(
        &mut self,
        tenant: TenantId,
        subject: SubjectId,
        old: &[u8],
        new: Vec<u8>,
    ) -> bool {
        match self.subjects.get_mut(&(tenant, subject)) {
            Some(StoredSubjectKey::Wrapped { envelope }) if envelope.as_slice() == old => {
                *envelope = new;
                true
            }
            _ => false,
        }
    }

    pub(crate) fn swap_keyring(
        &mut self,
        expected: Option<&KeyringRecord>,
        new: KeyringRecord,
    ) -> bool {
        if self.keyring.as_ref() != expected {
            return false;
        }
        self.keyring = Some(new);
        true
    }

    pub(crate) fn insert_tenant_key(
        &mut self,
        tenant: TenantId,
        slot: TenantKeySlot,
        wrapped: Vec<u8>,
    ) -> StoredTenantKeys {
        let entry = self
            .tenants
            .entry(tenant)
            .or_insert_with(|| StoredTenantKeys::Active {
                data_keys: BTreeMap::new(),
                search_key: None,
            });
        if let StoredTenantKeys::Active {
            data_keys,
            search_key,
        } = entry
        {
            match slot {
                TenantKeySlot::Data { version } => {
                    data_keys.entry(version).or_insert(wrapped);
                }
                TenantKeySlot::Search => {
                    search_key.get_or_insert(wrapped);
                }
            }
        }
        entry.clone()
    }

    /// The tombstone's receipt: `receipt` with the versions and outcome
    /// found, or the one already there.
    pub(crate) fn shred_tenant(&mut self, receipt: &TenantShredReceipt) -> TenantShredReceipt {
        let (key_versions, outcome) = match self.tenants.get(&receipt.tenant) {
            Some(StoredTenantKeys::Shredded(first)) => return first.clone(),
            Some(StoredTenantKeys::Active {
                data_keys,
                search_key,
            }) => {
                let versions: Vec<u32> = data_keys.keys().copied().collect();
                let outcome = if versions.is_empty() && search_key.is_none() {
                    ShredOutcome::NoKeyExisted
                } else {
                    ShredOutcome::KeyDestroyed
                };
                (versions, outcome)
            }
            None => (Vec::new(), ShredOutcome::NoKeyExisted),
        };
        let stored = TenantShredReceipt {
            key_versions,
            outcome,
            ..receipt.clone()
        };
        self.tenants
            .insert(receipt.tenant, StoredTenantKeys::Shredded(stored.clone()));
        stored
    }

    pub(crate) fn swap_nonces(
        &mut self,
        tenant: TenantId,
        version: u32,
        expected: u64,
        new: u64,
    ) -> bool {
        let count = self.nonces.entry((tenant, version)).or_insert(0);
        if *count != expected || new < expected {
            return false;
        }
        *count = new;
        true
    }

    pub(crate) fn nonce_counts(&self) -> Vec<NonceCount> {
        self.nonces
            .iter()
            .map(|(&(tenant, version), &reserved)| NonceCount {
                tenant,
                version,
                reserved,
            })
            .collect()
    }

    pub(crate) fn remove_tenant_keys(&mut self, version: u32) -> u64 {
        let mut removed = 0;
        for keys in self.tenants.values_mut() {
            if let StoredTenantKeys::Active { data_keys, .. } = keys {
                removed += u64::from(data_keys.remove(&version).is_some());
            }
        }
        removed
    }
}

/// Implements [`KeyStore`] for `$store` by delegating every method to the
/// store `$target` names, given the implementing value as `$this`: the shared
/// store `Arc<S>` delegates to `S`, the public SQL stores to their `inner`
/// `SqlKeyStore`.
macro_rules! delegate_key_store {
    ($(#[$attr:meta])* $store:ty $(where $g:ident: ?Sized + KeyStore)?, |$this:ident| $target:expr) => {
        $(#[$attr])*
        impl$(<$g: $crate::store::KeyStore + ?Sized>)? $crate::store::KeyStore for $store {
            fn get(
                &self,
                tenant: custodia_core::TenantId,
                subject: custodia_core::SubjectId,
            ) -> Result<Option<$crate::store::StoredSubjectKey>, $crate::Error> {
                let $this = self;
                $target.get(tenant, subject)
            }
            fn insert_if_absent(
                &self,
                tenant: custodia_core::TenantId,
                subject: custodia_core::SubjectId,
                wrapped: Vec<u8>,
            ) -> Result<$crate::store::StoredSubjectKey, $crate::Error> {
                let $this = self;
                $target.insert_if_absent(tenant, subject, wrapped)
            }
            fn shred(
                &self,
                receipt: &$crate::store::ShredReceipt,
            ) -> Result<$crate::store::ShredReceipt, $crate::Error> {
                let $this = self;
                $target.shred(receipt)
            }
            fn wrapped_keys(
                &self,
            ) -> Result<
                Vec<(custodia_core::TenantId, custodia_core::SubjectId, Vec<u8>)>,
                $crate::Error,
            > {
                let $this = self;
                $target.wrapped_keys()
            }
            fn replace_wrapped(
                &self,
                tenant: custodia_core::TenantId,
                subject: custodia_core::SubjectId,
                old: &[u8],
                new: Vec<u8>,
            ) -> Result<bool, $crate::Error> {
                let $this = self;
                $target.replace_wrapped(tenant, subject, old, new)
            }
            fn keyring(&self) -> Result<Option<$crate::store::KeyringRecord>, $crate::Error> {
                let $this = self;
                $target.keyring()
            }
            fn replace_keyring(
                &self,
                expected: Option<&$crate::store::KeyringRecord>,
                new: $crate::store::KeyringRecord,
            ) -> Result<bool, $crate::Error> {
                let $this = self;
                $target.replace_keyring(expected, new)
            }
            fn tenant_keys(
                &self,
                tenant: custodia_core::TenantId,
            ) -> Result<Option<$crate::store::StoredTenantKeys>, $crate::Error> {
                let $this = self;
                $target.tenant_keys(tenant)
            }
            fn insert_tenant_key_if_absent(
                &self,
                tenant: custodia_core::TenantId,
                slot: $crate::store::TenantKeySlot,
                wrapped: Vec<u8>,
            ) -> Result<$crate::store::StoredTenantKeys, $crate::Error> {
                let $this = self;
                $target.insert_tenant_key_if_absent(tenant, slot, wrapped)
            }
            fn shred_tenant(
                &self,
                receipt: &$crate::store::TenantShredReceipt,
            ) -> Result<$crate::store::TenantShredReceipt, $crate::Error> {
                let $this = self;
                $target.shred_tenant(receipt)
            }
            fn remove_tenant_keys(&self, version: u32) -> Result<u64, $crate::Error> {
                let $this = self;
                $target.remove_tenant_keys(version)
            }
            fn nonces_reserved(
                &self,
                tenant: custodia_core::TenantId,
                version: u32,
            ) -> Result<u64, $crate::Error> {
                let $this = self;
                $target.nonces_reserved(tenant, version)
            }
            fn replace_nonces_reserved(
                &self,
                tenant: custodia_core::TenantId,
                version: u32,
                expected: u64,
                new: u64,
            ) -> Result<bool, $crate::Error> {
                let $this = self;
                $target.replace_nonces_reserved(tenant, version, expected, new)
            }
            fn nonce_counts(&self) -> Result<Vec<$crate::store::NonceCount>, $crate::Error> {
                let $this = self;
                $target.nonce_counts()
            }
            fn generation(&self) -> Result<u64, $crate::Error> {
                let $this = self;
                $target.generation()
            }
            fn changes_since(
                &self,
                seen: u64,
            ) -> Result<$crate::store::KeyStoreChanges, $crate::Error> {
                let $this = self;
                $target.changes_since(seen)
            }
        }
    };
}
// The SQL stores, in submodules, and the async module's gate call it by path.
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "tokio"))]
pub(crate) use delegate_key_store;

delegate_key_store!(
    /// A shared store: several vaults and keyrings (or a vault and an admin tool)
    /// over one store.
    Arc<S> where S: ?Sized + KeyStore,
    |shared| (**shared)
);

/// Whether a keyring or vault built by the async types (`defer`) runs on a
/// thread that must not wait for a lock: one held across a store call may
/// be held for a network round trip. Such a thread gets
/// [`Error::WouldBlock`] and the call moves to the blocking pool.
fn must_not_wait(defer: bool) -> bool {
    #[cfg(feature = "tokio")]
    return defer && !crate::runtime::on_blocking_pool();
    #[cfg(not(feature = "tokio"))]
    return {
        let _ = defer;
        false
    };
}

/// Takes a lock with `wait`, or with `attempt` (failing with
/// [`Error::WouldBlock`] when it is busy) where [`must_not_wait`]. A
/// poisoned lock is taken all the same: the state it guards stays valid.
fn acquire<G>(
    defer: bool,
    attempt: impl FnOnce() -> TryLockResult<G>,
    wait: impl FnOnce() -> LockResult<G>,
) -> Result<G, Error> {
    if !must_not_wait(defer) {
        return Ok(wait().unwrap_or_else(PoisonError::into_inner));
    }
    match attempt() {
        Ok(guard) => Ok(guard),
        Err(TryLockError::Poisoned(poisoned)) => Ok(poisoned.into_inner()),
        Err(TryLockError::WouldBlock) => Err(Error::WouldBlock),
    }
}

/// Locks `mutex`, or fails with [`Error::WouldBlock`] where
/// [`must_not_wait`] and the lock is busy.
pub(crate) fn lock_or_defer<T>(mutex: &Mutex<T>, defer: bool) -> Result<MutexGuard<'_, T>, Error> {
    acquire(defer, || mutex.try_lock(), || mutex.lock())
}

/// [`lock_or_defer`] for reading.
pub(crate) fn read_or_defer<T>(
    lock: &RwLock<T>,
    defer: bool,
) -> Result<RwLockReadGuard<'_, T>, Error> {
    acquire(defer, || lock.try_read(), || lock.read())
}

/// [`lock_or_defer`] for writing.
pub(crate) fn write_or_defer<T>(
    lock: &RwLock<T>,
    defer: bool,
) -> Result<RwLockWriteGuard<'_, T>, Error> {
    acquire(defer, || lock.try_write(), || lock.write())
}

/// An in-memory [`KeyStore`], for tests and for keys that need not survive a restart.
#[derive(Debug, Default)]
pub struct MemoryKeyStore {
    state: RwLock<StoreState>,
    log: RwLock<ChangeLog>,
}

impl MemoryKeyStore {
    /// Applies `change` and logs what it changed, under the state's lock,
    /// so a reader never sees the change without its generation.
    fn update<T>(
        &self,
        change: impl FnOnce(&mut StoreState) -> (T, Option<Change>),
    ) -> Result<T, Error> {
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        let (result, logged) = change(&mut state);
        if logged.is_some() {
            self.log
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .record(logged);
        }
        Ok(result)
    }

    fn read<T>(&self, f: impl FnOnce(&StoreState) -> T) -> Result<T, Error> {
        Ok(f(&self
            .state
            .read()
            .unwrap_or_else(PoisonError::into_inner)))
    }

    fn read_log<T>(&self, f: impl FnOnce(&ChangeLog) -> T) -> Result<T, Error> {
        Ok(f(&self.log.read().unwrap_or_else(PoisonError::into_inner)))
    }
}

/// Implements [`KeyStore`] over a [`StoreState`] for a store type with the
/// methods `read` (run a function on the latest state), `update` (apply a
/// change, given what it changes for stores that log without diffing) and
/// `read_log` (run a function on the latest [`ChangeLog`]): the memory and
/// file stores.
macro_rules! state_key_store {
    ($store:ty) => {
        impl $crate::store::KeyStore for $store {
            fn get(
                &self,
                tenant: TenantId,
                subject: SubjectId,
            ) -> Result<Option<StoredSubjectKey>, Error> {
                self.read(|s| s.subjects.get(&(tenant, subject)).cloned())
            }

            fn insert_if_absent(
                &self,
                tenant: TenantId,
                subject: SubjectId,
                wrapped: Vec<u8>,
            ) -> Result<StoredSubjectKey, Error> {
                self.update(|s| (s.insert_subject(tenant, subject, wrapped), None))
            }

            fn shred(&self, receipt: &ShredReceipt) -> Result<ShredReceipt, Error> {
                self.update(|s| {
                    let (stored, changed) = s.shred_subject(receipt);
                    let change = Change::Subject(receipt.tenant, receipt.subject);
                    (stored, changed.then_some(change))
                })
            }

            fn wrapped_keys(&self) -> Result<Vec<(TenantId, SubjectId, Vec<u8>)>, Error> {
                self.read(StoreState::wrapped_subjects)
            }

            fn replace_wrapped(
                &self,
                tenant: TenantId,
                subject: SubjectId,
                old: &[u8],
                new: Vec<u8>,
            ) -> Result<bool, Error> {
                self.update(|s| (s.swap_subject(tenant, subject, old, new), None))
            }

            fn keyring(&self) -> Result<Option<KeyringRecord>, Error> {
                self.read(|s| s.keyring.clone())
            }

            fn replace_keyring(
                &self,
                expected: Option<&KeyringRecord>,
                new: KeyringRecord,
            ) -> Result<bool, Error> {
                self.update(|s| {
                    let swapped = s.swap_keyring(expected, new);
                    (swapped, swapped.then_some(Change::Keyring))
                })
            }

            fn tenant_keys(&self, tenant: TenantId) -> Result<Option<StoredTenantKeys>, Error> {
                self.read(|s| s.tenants.get(&tenant).cloned())
            }

            fn insert_tenant_key_if_absent(
                &self,
                tenant: TenantId,
                slot: TenantKeySlot,
                wrapped: Vec<u8>,
            ) -> Result<StoredTenantKeys, Error> {
                self.update(|s| (s.insert_tenant_key(tenant, slot, wrapped), None))
            }

            fn shred_tenant(
                &self,
                receipt: &TenantShredReceipt,
            ) -> Result<TenantShredReceipt, Error> {
                self.update(|s| {
                    let was_active = !matches!(
                        s.tenants.get(&receipt.tenant),
                        Some(StoredTenantKeys::Shredded(_))
                    );
                    let stored = s.shred_tenant(receipt);
                    (stored, was_active.then_some(Change::Tenant(receipt.tenant)))
                })
            }

            fn remove_tenant_keys(&self, version: u32) -> Result<u64, Error> {
                self.update(|s| (s.remove_tenant_keys(version), None))
            }

            fn nonces_reserved(&self, tenant: TenantId, version: u32) -> Result<u64, Error> {
                self.read(|s| s.nonces.get(&(tenant, version)).copied().unwrap_or(0))
            }

            fn replace_nonces_reserved(
                &self,
                tenant: TenantId,
                version: u32,
                expected: u64,
                new: u64,
            ) -> Result<bool, Error> {
                self.update(|s| (s.swap_nonces(tenant, version, expected, new), None))
            }

            fn nonce_counts(&self) -> Result<Vec<NonceCount>, Error> {
                self.read(StoreState::nonce_counts)
            }

            fn generation(&self) -> Result<u64, Error> {
                self.read_log(ChangeLog::generation)
            }

            fn changes_since(&self, seen: u64) -> Result<KeyStoreChanges, Error> {
                self.read_log(|log| log.since(seen))
            }
        }
    };
}
pub(crate) use state_key_store;

state_key_store!(MemoryKeyStore);
