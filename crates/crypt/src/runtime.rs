//! Keyrings, vaults and key stores from async code (feature `tokio`).
//!
//! [`Keyring`] and [`SubjectVault`] are synchronous and touch their
//! [`KeyStore`] only now and then: the generation check once per staleness
//! bound, a nonce block every 2^20 seals, a key on its first use, and the
//! writes (shred, rotation). Everything else is a cache hit of a few hundred
//! nanoseconds, which an async task can simply run.
//!
//! So the async types run each call **inline first**, over a store wrapped
//! in [`PoolOnly`], which refuses to be used off tokio's blocking pool with
//! [`Error::WouldBlock`] before doing anything; a keyring or vault built by
//! these types also refuses to *wait* there for a lock another thread holds
//! across a store call. On that error the call runs again on the blocking
//! pool (`spawn_blocking`), where the store may block. Store calls are
//! already all-or-nothing, so the retry is safe. Writes (shreds, rotation)
//! go to the pool directly.
//!
//! The keyring semantics stay in one place, the SQL in another
//! (`store::sql`); this module only decides which thread runs them. That
//! works for every store: [`SqlxKeyStore`](crate::SqlxKeyStore) (network,
//! awaited on sqlx), [`SqliteKeyStore`](crate::SqliteKeyStore) and
//! [`FileKeyStore`](crate::FileKeyStore) (local disk), and the in-memory one.
//!
//! Nothing here panics on a current-thread runtime: the pool thread that
//! waits for PostgreSQL is woken by the runtime thread, which drives the
//! I/O while it awaits the pool task. Outside a tokio runtime the async
//! methods fail with [`Error::Store`].

use std::cell::Cell;
use std::sync::Arc;

use custodia_core::{ActorId, Clock, SubjectId, TenantId};
use tokio::runtime::Handle;
use zeroize::Zeroizing;

use crate::store::{KeyStore, ShredReceipt, TenantShredReceipt};
use crate::{
    BlindIndex, BlindIndexConfig, DataKeyMode, Error, FieldContext, KeyUsage, Keyring, SecretKey,
    SubjectVault,
};

thread_local! {
    /// Set while this thread runs a call of [`blocking`].
    static ON_POOL: Cell<bool> = const { Cell::new(false) };
}

/// Whether this thread runs a key-store call on tokio's blocking pool.
pub(crate) fn on_blocking_pool() -> bool {
    ON_POOL.get()
}

/// Clears [`ON_POOL`] even if the call unwinds.
struct PoolMark;

impl PoolMark {
    fn enter() -> Self {
        ON_POOL.set(true);
        Self
    }
}

impl Drop for PoolMark {
    fn drop(&mut self) {
        ON_POOL.set(false);
    }
}

/// Runs `f` on tokio's blocking pool, where key-store calls may block.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    let runtime = Handle::try_current()
        .map_err(|_| Error::Store("the async key-store API needs a tokio runtime".into()))?;
    runtime
        .spawn_blocking(move || {
            let _mark = PoolMark::enter();
            f()
        })
        .await
        .map_err(|e| Error::Task { source: e.into() })?
}

/// Seals or opens `bytes` for `ctx` with `op` on `target`: inline, or on
/// the blocking pool with owned (and, for the bytes, zeroized) copies.
async fn here_or_pooled_with<K: Send + Sync + 'static>(
    target: &Arc<K>,
    ctx: &FieldContext<'_>,
    bytes: &[u8],
    op: impl Fn(&K, &FieldContext<'_>, &[u8]) -> Result<Vec<u8>, Error> + Send + 'static,
) -> Result<Vec<u8>, Error> {
    match op(target, ctx, bytes) {
        Err(Error::WouldBlock) => {}
        done => return done,
    }
    let (target, ctx, bytes) = (
        target.clone(),
        OwnedContext::of(ctx),
        Zeroizing::new(bytes.to_vec()),
    );
    blocking(move || op(&target, &ctx.get()?, &bytes)).await
}

/// A [`FieldContext`] that can move to another thread.
struct OwnedContext {
    tenant: TenantId,
    parts: [String; 3],
}

impl OwnedContext {
    fn of(ctx: &FieldContext<'_>) -> Self {
        Self {
            tenant: ctx.tenant(),
            parts: [ctx.record_type(), ctx.record_id(), ctx.field()].map(str::to_owned),
        }
    }

    fn get(&self) -> Result<FieldContext<'_>, Error> {
        let [record_type, record_id, field] = &self.parts;
        FieldContext::new(self.tenant, record_type, record_id, field)
    }
}

/// A [`KeyStore`] that works only on tokio's blocking pool: elsewhere every
/// call fails with [`Error::WouldBlock`] before touching `S`. What
/// [`AsyncKeyring`] and [`AsyncSubjectVault`] put under their keyring and
/// vault, so that a call needing the store is moved off the runtime worker.
#[derive(Debug)]
pub struct PoolOnly<S: ?Sized>(S);

impl<S: KeyStore + ?Sized> PoolOnly<S> {
    fn store(&self) -> Result<&S, Error> {
        if on_blocking_pool() {
            Ok(&self.0)
        } else {
            Err(Error::WouldBlock)
        }
    }
}

crate::store::delegate_key_store!(
    PoolOnly<S> where S: ?Sized + KeyStore,
    |gated| (gated.store()?)
);

/// A [`Keyring`] for async code: seals and opens inline while its keys are
/// cached (no thread switch, no store call), and runs whatever needs the
/// key store on tokio's blocking pool. Cheap to clone (one `Arc`).
///
/// See the crate's `runtime` notes in [`SqlxKeyStore`](crate::SqlxKeyStore)
/// for the store round trips; with warm caches a request makes none.
#[derive(Clone, Debug)]
pub struct AsyncKeyring {
    keyring: Arc<Keyring>,
}

impl AsyncKeyring {
    /// Opens (or creates) the keyring kept in `store`, as
    /// [`Keyring::from_store`] does, on the blocking pool.
    pub async fn from_store<S: KeyStore + 'static>(
        store: S,
        root: SecretKey,
        mode: DataKeyMode,
    ) -> Result<Self, Error> {
        Self::from_store_with(store, root, mode, |keyring| keyring).await
    }

    /// [`AsyncKeyring::from_store`], passing the keyring through `configure`
    /// first (e.g. `|k| k.with_staleness_bound(bound)`).
    pub async fn from_store_with<S: KeyStore + 'static>(
        store: S,
        root: SecretKey,
        mode: DataKeyMode,
        configure: impl FnOnce(Keyring) -> Keyring + Send + 'static,
    ) -> Result<Self, Error> {
        let keyring = blocking(move || Keyring::from_store(PoolOnly(store), &root, mode)).await?;
        Ok(Self {
            keyring: Arc::new(configure(keyring).deferring()),
        })
    }

    /// The keyring, for what never touches the store (`primary`,
    /// `versions`, `usage`). Its other methods fail with
    /// [`Error::WouldBlock`] off the blocking pool when they need the store.
    pub fn keyring(&self) -> &Arc<Keyring> {
        &self.keyring
    }

    /// [`Keyring::seal`].
    pub async fn seal(&self, ctx: &FieldContext<'_>, plaintext: &[u8]) -> Result<Vec<u8>, Error> {
        here_or_pooled_with(&self.keyring, ctx, plaintext, Keyring::seal).await
    }

    /// [`Keyring::open`].
    pub async fn open(&self, ctx: &FieldContext<'_>, envelope: &[u8]) -> Result<Vec<u8>, Error> {
        here_or_pooled_with(&self.keyring, ctx, envelope, Keyring::open).await
    }

    /// [`Keyring::blind_index`].
    pub async fn blind_index(
        &self,
        tenant: TenantId,
        record_type: &str,
        field: &str,
        config: BlindIndexConfig,
    ) -> Result<BlindIndex, Error> {
        // Here with the borrowed names first: owned copies only for the pool.
        match self.keyring.blind_index(tenant, record_type, field, config) {
            Err(Error::WouldBlock) => {}
            done => return done,
        }
        let (keyring, record_type, field) = (
            self.keyring.clone(),
            record_type.to_owned(),
            field.to_owned(),
        );
        blocking(move || keyring.blind_index(tenant, &record_type, &field, config)).await
    }

    /// [`Keyring::shred_tenant`], on the blocking pool.
    pub async fn shred_tenant(
        &self,
        tenant: TenantId,
        actor: ActorId,
        clock: Arc<dyn Clock>,
    ) -> Result<TenantShredReceipt, Error> {
        self.run(move |keyring| keyring.shred_tenant(tenant, actor, clock.as_ref()))
            .await
    }

    /// [`Keyring::rotate`], on the blocking pool.
    pub async fn rotate(&self, master: SecretKey) -> Result<u32, Error> {
        self.run(move |keyring| keyring.rotate(master)).await
    }

    /// [`Keyring::retire`], on the blocking pool.
    pub async fn retire(&self, version: u32, usage: KeyUsage) -> Result<(), Error> {
        self.run(move |keyring| keyring.retire(version, &usage))
            .await
    }

    /// [`Keyring::refresh`], on the blocking pool.
    pub async fn refresh(&self) -> Result<(), Error> {
        self.run(Keyring::refresh).await
    }

    /// Runs `f` with the keyring on the blocking pool: any other
    /// [`Keyring`] method (`reencrypt`, `deterministic`, `nonce_usage`, …).
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Keyring) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let keyring = self.keyring.clone();
        blocking(move || f(&keyring)).await
    }
}

/// A [`SubjectVault`] for async code: seals and opens inline while the
/// subject's key is cached and the staleness bound has not run out, and on
/// tokio's blocking pool otherwise (first use of a subject, the generation
/// check once per bound, shreds). Cheap to clone (one `Arc`).
///
/// A shred by any process sharing the store makes [`AsyncSubjectVault::open`]
/// fail with [`Error::Shredded`] within the vault's staleness bound (1 s by
/// default) plus one store round trip, as for the sync vault.
pub struct AsyncSubjectVault<S> {
    vault: Arc<SubjectVault<PoolOnly<S>>>,
}

impl<S> Clone for AsyncSubjectVault<S> {
    fn clone(&self) -> Self {
        Self {
            vault: self.vault.clone(),
        }
    }
}

impl<S> std::fmt::Debug for AsyncSubjectVault<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncSubjectVault")
            .field("vault", &self.vault)
            .finish()
    }
}

impl<S: KeyStore + 'static> AsyncSubjectVault<S> {
    /// A vault over `keyring`'s tenant keys, keeping subject keys in `store`
    /// (see [`SubjectVault::new`]). Touches nothing yet.
    pub fn new(keyring: &AsyncKeyring, store: S, clock: Arc<dyn Clock>) -> Self {
        Self::new_with(keyring, store, clock, |vault| vault)
    }

    /// [`AsyncSubjectVault::new`], passing the vault through `configure`
    /// first (e.g. `|v| v.with_staleness_bound(bound)`, or
    /// `|v| v.with_cache_capacity(n)` to bound its cache of subject keys;
    /// with `0` every use needs the store, so goes to the blocking pool).
    pub fn new_with(
        keyring: &AsyncKeyring,
        store: S,
        clock: Arc<dyn Clock>,
        configure: impl FnOnce(SubjectVault<PoolOnly<S>>) -> SubjectVault<PoolOnly<S>>,
    ) -> Self {
        let vault = SubjectVault::new(keyring.keyring.clone(), PoolOnly(store), clock);
        Self {
            vault: Arc::new(configure(vault).deferring()),
        }
    }

    /// The vault itself; its methods fail with [`Error::WouldBlock`] off
    /// the blocking pool when they need the store.
    pub fn vault(&self) -> &Arc<SubjectVault<PoolOnly<S>>> {
        &self.vault
    }

    /// [`SubjectVault::seal`].
    pub async fn seal(
        &self,
        subject: SubjectId,
        ctx: &FieldContext<'_>,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, Error> {
        here_or_pooled_with(&self.vault, ctx, plaintext, move |vault, ctx, plaintext| {
            vault.seal(subject, ctx, plaintext)
        })
        .await
    }

    /// [`SubjectVault::open`].
    pub async fn open(&self, ctx: &FieldContext<'_>, envelope: &[u8]) -> Result<Vec<u8>, Error> {
        here_or_pooled_with(&self.vault, ctx, envelope, SubjectVault::open).await
    }

    /// [`SubjectVault::shred`], on the blocking pool.
    pub async fn shred(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        actor: ActorId,
    ) -> Result<ShredReceipt, Error> {
        self.run(move |vault| vault.shred(tenant, subject, actor))
            .await
    }

    /// [`SubjectVault::refresh`], on the blocking pool.
    pub async fn refresh(&self) -> Result<(), Error> {
        self.run(SubjectVault::refresh).await
    }

    /// Runs `f` with the vault on the blocking pool: any other
    /// [`SubjectVault`] method (`rewrap`, `key_usage`, …).
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&SubjectVault<PoolOnly<S>>) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let vault = self.vault.clone();
        blocking(move || f(&vault)).await
    }
}

/// Any [`KeyStore`] with async methods: each call runs on tokio's blocking
/// pool. The `spawn_blocking` wrapper for the SQLite and file stores, and
/// the async face of [`SqlxKeyStore`](crate::SqlxKeyStore) (inspecting
/// tombstones, nonce counts, the keyring record). Cheap to clone.
#[derive(Debug)]
pub struct AsyncKeyStore<S: ?Sized> {
    store: Arc<S>,
}

impl<S: ?Sized> Clone for AsyncKeyStore<S> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
        }
    }
}

impl<S: KeyStore + ?Sized + 'static> AsyncKeyStore<S> {
    /// Async methods over `store`.
    pub fn new(store: Arc<S>) -> Self {
        Self { store }
    }

    /// The store, shared: hand it to [`AsyncKeyring::from_store`] or
    /// [`AsyncSubjectVault::new`] too.
    pub fn store(&self) -> &Arc<S> {
        &self.store
    }

    /// Runs `f` with the store on the blocking pool, e.g. several calls in a row.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&S) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let store = self.store.clone();
        blocking(move || f(&store)).await
    }
}

/// The async form of each [`KeyStore`] method: same name, arguments owned.
macro_rules! async_key_store_methods {
    ($( fn $name:ident($($arg:ident: $ty:ty => $pass:expr),*) -> $ret:ty; )*) => {
        impl<S: KeyStore + ?Sized + 'static> AsyncKeyStore<S> {
            $(
                #[doc = concat!("[`KeyStore::", stringify!($name), "`], on the blocking pool.")]
                pub async fn $name(&self, $($arg: $ty),*) -> Result<$ret, Error> {
                    self.run(move |store| store.$name($($pass),*)).await
                }
            )*
        }
    };
}

async_key_store_methods! {
    fn get(tenant: TenantId => tenant, subject: SubjectId => subject)
        -> Option<crate::StoredSubjectKey>;
    fn insert_if_absent(tenant: TenantId => tenant, subject: SubjectId => subject,
        wrapped: Vec<u8> => wrapped) -> crate::StoredSubjectKey;
    fn shred(receipt: ShredReceipt => &receipt) -> ShredReceipt;
    fn wrapped_keys() -> Vec<(TenantId, SubjectId, Vec<u8>)>;
    fn replace_wrapped(tenant: TenantId => tenant, subject: SubjectId => subject,
        old: Vec<u8> => &old, new: Vec<u8> => new) -> bool;
    fn keyring() -> Option<crate::KeyringRecord>;
    fn replace_keyring(expected: Option<crate::KeyringRecord> => expected.as_ref(),
        new: crate::KeyringRecord => new) -> bool;
    fn tenant_keys(tenant: TenantId => tenant) -> Option<crate::StoredTenantKeys>;
    fn insert_tenant_key_if_absent(tenant: TenantId => tenant,
        slot: crate::TenantKeySlot => slot, wrapped: Vec<u8> => wrapped)
        -> crate::StoredTenantKeys;
    fn shred_tenant(receipt: TenantShredReceipt => &receipt) -> TenantShredReceipt;
    fn remove_tenant_keys(version: u32 => version) -> u64;
    fn nonces_reserved(tenant: TenantId => tenant, version: u32 => version) -> u64;
    fn replace_nonces_reserved(tenant: TenantId => tenant, version: u32 => version,
        expected: u64 => expected, new: u64 => new) -> bool;
    fn nonce_counts() -> Vec<crate::NonceCount>;
    fn generation() -> u64;
    fn changes_since(seen: u64 => seen) -> crate::KeyStoreChanges;
}
