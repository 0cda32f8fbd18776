//! One suite, every key store: the in-memory store, the file store, SQLite
//! and (feature `postgres`) PostgreSQL, on the sync client and (feature
//! `sqlx`) on a sqlx pool, must behave identically, including across OS
//! processes sharing one store. The sqlx store runs here through its sync
//! face, from plain threads over a multi-threaded runtime; `tests/async.rs`
//! drives it from tasks.
//!
//! PostgreSQL runs against the server `scripts/postgres` starts
//! (`CUSTODIA_PG_ADMIN_URL`, a superuser, and `CUSTODIA_PG_APP_URL`, the
//! non-owner application role); without them those tests fail, they do not
//! skip: `scripts/postgres cargo test -p custodia-crypt --all-features`.
#![cfg(feature = "sqlite")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use custodia_core::chrono::{TimeZone, Utc};
use custodia_core::{ActorId, ManualClock, SubjectId, TenantId};
use custodia_crypt::{
    BlindIndexConfig, DataKeyMode, Envelope, Error, FieldContext, FileKeyStore, KeyId, KeyStore,
    KeyUsage, Keyring, MemoryKeyStore, NonceBudget, SecretKey, ShredOutcome, ShredReceipt,
    SqliteKeyStore, StoredSubjectKey, StoredTenantKeys, SubjectVault, TenantKeySlot,
    TenantShredReceipt,
};

type Handle = Arc<dyn KeyStore>;

/// One store, however many handles (connections, file openers) onto it.
trait Backend {
    /// A new handle onto the same store: another "process".
    fn handle(&self) -> Handle;
    /// How a child process opens it.
    fn spec(&self) -> String;
}

struct Memory(Arc<MemoryKeyStore>);

impl Backend for Memory {
    fn handle(&self) -> Handle {
        self.0.clone()
    }
    fn spec(&self) -> String {
        unreachable!("an in-memory store cannot be shared with another process")
    }
}

struct Files {
    _dir: tempfile::TempDir,
    path: PathBuf,
    sqlite: bool,
}

impl Backend for Files {
    fn handle(&self) -> Handle {
        open_spec(&self.spec())
    }
    fn spec(&self) -> String {
        let kind = if self.sqlite { "sqlite" } else { "file" };
        format!("{kind}:{}", self.path.display())
    }
}

fn file_master() -> SecretKey {
    SecretKey::from_bytes([3; 32])
}

fn root() -> SecretKey {
    SecretKey::from_bytes([7; 32])
}

fn open_spec(spec: &str) -> Handle {
    match spec.split_once(':') {
        Some(("file", path)) => Arc::new(FileKeyStore::open(path, &file_master()).unwrap()),
        Some(("sqlite", path)) => Arc::new(SqliteKeyStore::open(path).unwrap()),
        #[cfg(feature = "postgres")]
        Some(("postgres", schema)) => pg::handle(schema),
        #[cfg(all(feature = "postgres", feature = "sqlx"))]
        Some(("sqlx", schema)) => on_sqlx::handle(schema),
        _ => panic!("unknown store spec {spec}"),
    }
}

fn memory() -> Box<dyn Backend> {
    Box::new(Memory(Arc::new(MemoryKeyStore::default())))
}

fn file() -> Box<dyn Backend> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.cst");
    Box::new(Files {
        _dir: dir,
        path,
        sqlite: false,
    })
}

fn sqlite() -> Box<dyn Backend> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.sqlite");
    Box::new(Files {
        _dir: dir,
        path,
        sqlite: true,
    })
}

#[cfg(feature = "postgres")]
mod pg {
    use super::*;
    use custodia_crypt::PostgresKeyStore;

    fn env(name: &str) -> String {
        std::env::var(name).unwrap_or_else(|_| {
            panic!("{name} is not set: run the PostgreSQL tests through scripts/postgres, which starts the server and exports it")
        })
    }

    pub(super) fn admin() -> postgres::Client {
        postgres::Client::connect(&env("CUSTODIA_PG_ADMIN_URL"), postgres::NoTls).unwrap()
    }

    pub(super) fn app(schema: &str) -> postgres::Client {
        let mut client =
            postgres::Client::connect(&env("CUSTODIA_PG_APP_URL"), postgres::NoTls).unwrap();
        client
            .batch_execute(&format!("SET search_path TO {schema}"))
            .unwrap();
        client
    }

    pub(super) fn handle(schema: &str) -> Handle {
        Arc::new(PostgresKeyStore::with_client(app(schema)).unwrap())
    }

    pub(super) struct Pg(pub(super) String);

    impl Backend for Pg {
        fn handle(&self) -> Handle {
            handle(&self.0)
        }
        fn spec(&self) -> String {
            format!("postgres:{}", self.0)
        }
    }

    /// A fresh schema, migrated by the admin, granted to the app role.
    pub(super) fn fresh() -> Box<dyn Backend> {
        let schema = format!("keys_{}", custodia_core::uuid::Uuid::new_v4().simple());
        let mut admin = admin();
        admin
            .batch_execute(&format!(
                "CREATE SCHEMA {schema}; GRANT USAGE ON SCHEMA {schema} TO custodia_app; \
                 SET search_path TO {schema}"
            ))
            .unwrap();
        PostgresKeyStore::migrate(&mut admin).unwrap();
        PostgresKeyStore::migrate(&mut admin).unwrap(); // idempotent
        PostgresKeyStore::grant(&mut admin, "custodia_app").unwrap();
        Box::new(Pg(schema))
    }
}

/// The PostgreSQL store on sqlx: each handle its own pool, as another
/// app server would have.
#[cfg(all(feature = "postgres", feature = "sqlx"))]
mod on_sqlx {
    use std::str::FromStr;
    use std::sync::LazyLock;

    use super::*;
    use custodia_crypt::SqlxKeyStore;
    use sqlx_postgres::{PgConnectOptions, PgPoolOptions};

    static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    });

    pub(super) fn handle(schema: &str) -> Handle {
        let url = std::env::var("CUSTODIA_PG_APP_URL").unwrap_or_else(|_| {
            panic!(
                "CUSTODIA_PG_APP_URL is not set: run the PostgreSQL tests through scripts/postgres"
            )
        });
        let options = PgConnectOptions::from_str(&url)
            .unwrap()
            .options([("search_path", schema)]);
        RUNTIME.block_on(async {
            let pool = PgPoolOptions::new()
                .max_connections(2)
                .connect_with(options)
                .await
                .unwrap();
            Arc::new(SqlxKeyStore::new(pool).await.unwrap()) as Handle
        })
    }

    struct Sqlx(String);

    impl Backend for Sqlx {
        fn handle(&self) -> Handle {
            handle(&self.0)
        }
        fn spec(&self) -> String {
            format!("sqlx:{}", self.0)
        }
    }

    /// A fresh schema (migrated and granted as for the sync client).
    pub(super) fn fresh() -> Box<dyn Backend> {
        let schema = pg::fresh().spec()["postgres:".len()..].to_owned();
        Box::new(Sqlx(schema))
    }
}

fn tenant(name: &str) -> TenantId {
    TenantId::from_external_key("test", name)
}

fn ctx(tenant: TenantId, record: &str) -> FieldContext<'_> {
    FieldContext::new(tenant, "ticket", record, "body").unwrap()
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap(),
    ))
}

const BOUND: Duration = Duration::from_millis(200);

fn keyring(store: Handle) -> Arc<Keyring> {
    Arc::new(
        Keyring::from_store(store, &root(), DataKeyMode::Random)
            .unwrap()
            .with_staleness_bound(BOUND),
    )
}

fn vault(store: &Handle) -> SubjectVault<Handle> {
    SubjectVault::new(keyring(store.clone()), store.clone(), clock()).with_staleness_bound(BOUND)
}

// ---------------------------------------------------------------- the suite

fn suite(fresh: fn() -> Box<dyn Backend>) {
    subject_keys_and_tombstones(&*fresh());
    the_store_primitives_compare_and_swap(&*fresh());
    keyrings_rotate_retire_and_shred_tenants(&*fresh());
    two_keyrings_share_one_nonce_budget(&*fresh());
    shreds_and_rotations_propagate_between_handles(&*fresh());
    overlapping_tenant_shreds_keep_the_first_receipt(&*fresh());
    shred_receipts_say_whether_a_key_existed(&*fresh());
}

fn subject_keys_and_tombstones(b: &dyn Backend) {
    let acme = tenant("acme");
    let (alice, bob) = (
        SubjectId::from_external_key(acme, "psa", "alice"),
        SubjectId::from_external_key(acme, "psa", "bob"),
    );
    let first = vault(&b.handle());
    let alices = first
        .seal(alice, &ctx(acme, "e-1"), b"203.0.113.7")
        .unwrap();
    let bobs = first.seal(bob, &ctx(acme, "e-1"), b"192.0.2.1").unwrap();
    drop(first);

    let store = b.handle();
    let Some(StoredSubjectKey::Wrapped { envelope }) = store.get(acme, alice).unwrap() else {
        panic!("alice's key is not stored wrapped");
    };
    assert_eq!(Envelope::decode(&envelope).unwrap().plaintext_len(), 32);

    let second = vault(&b.handle());
    assert_eq!(
        second.open(&ctx(acme, "e-1"), &alices).unwrap(),
        b"203.0.113.7"
    );
    let dpo = ActorId::from_external_key(acme, "psa.user", "dpo");
    let receipt = second.shred(acme, alice, dpo).unwrap();
    drop(second);

    let third = vault(&b.handle());
    assert_eq!(
        third.open(&ctx(acme, "e-1"), &alices),
        Err(Error::Shredded { subject: alice })
    );
    assert_eq!(
        third.seal(alice, &ctx(acme, "e-2"), b"x"),
        Err(Error::Shredded { subject: alice })
    );
    assert_eq!(third.open(&ctx(acme, "e-1"), &bobs).unwrap(), b"192.0.2.1");
    assert_eq!(
        b.handle().get(acme, alice).unwrap(),
        Some(StoredSubjectKey::Shredded(receipt))
    );
    // A subject shredded before it had a key never gets one.
    let carol = SubjectId::from_external_key(acme, "psa", "carol");
    third.shred(acme, carol, dpo).unwrap();
    assert_eq!(
        third.seal(carol, &ctx(acme, "e-3"), b"x"),
        Err(Error::Shredded { subject: carol })
    );
}

fn the_store_primitives_compare_and_swap(b: &dyn Backend) {
    let (one, two) = (b.handle(), b.handle());
    let (acme, globex) = (tenant("acme"), tenant("globex"));
    let alice = SubjectId::from_external_key(acme, "psa", "alice");
    let wrapped = |w: &[u8]| StoredSubjectKey::Wrapped {
        envelope: w.to_vec(),
    };

    assert_eq!(one.get(acme, alice).unwrap(), None);
    assert_eq!(
        one.insert_if_absent(acme, alice, vec![1]).unwrap(),
        wrapped(&[1])
    );
    // The second creator gets the first one's key.
    assert_eq!(
        two.insert_if_absent(acme, alice, vec![2]).unwrap(),
        wrapped(&[1])
    );
    assert!(!two.replace_wrapped(acme, alice, &[9], vec![3]).unwrap());
    assert!(two.replace_wrapped(acme, alice, &[1], vec![3]).unwrap());
    assert_eq!(one.wrapped_keys().unwrap(), [(acme, alice, vec![3])]);
    let receipt = ShredReceipt {
        tenant: acme,
        subject: alice,
        actor: ActorId::from_external_key(acme, "psa.user", "dpo"),
        at: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
        outcome: ShredOutcome::Unrecorded,
    };
    let stored = one.shred(&receipt).unwrap();
    // The store says what it found, whatever the caller put there.
    let receipt = ShredReceipt {
        outcome: ShredOutcome::KeyDestroyed,
        ..receipt
    };
    assert_eq!(stored, receipt);
    // A re-wrap racing with the shred never undoes it.
    assert!(!two.replace_wrapped(acme, alice, &[3], vec![4]).unwrap());
    assert_eq!(
        two.get(acme, alice).unwrap(),
        Some(StoredSubjectKey::Shredded(receipt.clone()))
    );
    assert!(one.wrapped_keys().unwrap().is_empty());

    // Tenant slots fill once; a shredded tenant gets nothing.
    let data = TenantKeySlot::Data { version: 1 };
    one.insert_tenant_key_if_absent(globex, data, vec![5])
        .unwrap();
    let after = two
        .insert_tenant_key_if_absent(globex, data, vec![6])
        .unwrap();
    assert_eq!(
        after,
        StoredTenantKeys::Active {
            data_keys: BTreeMap::from([(1, vec![5])]),
            search_key: None
        }
    );
    two.insert_tenant_key_if_absent(globex, TenantKeySlot::Data { version: 2 }, vec![7])
        .unwrap();
    assert_eq!(one.remove_tenant_keys(1).unwrap(), 1);
    assert_eq!(
        one.tenant_keys(globex).unwrap(),
        Some(StoredTenantKeys::Active {
            data_keys: BTreeMap::from([(2, vec![7])]),
            search_key: None
        })
    );

    // Nonce counts: compare-and-swap, never down.
    assert_eq!(one.nonces_reserved(acme, 1).unwrap(), 0);
    assert!(one.replace_nonces_reserved(acme, 1, 0, 10).unwrap());
    assert!(!two.replace_nonces_reserved(acme, 1, 0, 20).unwrap());
    assert!(!two.replace_nonces_reserved(acme, 1, 10, 5).unwrap());
    assert!(two.replace_nonces_reserved(acme, 1, 10, 20).unwrap());
    assert_eq!(one.nonces_reserved(acme, 1).unwrap(), 20);
    assert!(one.replace_nonces_reserved(globex, 3, 0, 1).unwrap());
    let counts: Vec<_> = one
        .nonce_counts()
        .unwrap()
        .into_iter()
        .filter(|c| c.reserved > 0)
        .map(|c| (c.tenant, c.version, c.reserved))
        .collect();
    let mut want = vec![(acme, 1, 20), (globex, 3, 1)];
    want.sort();
    assert_eq!(counts, want);

    // The keyring record: insert once, then compare-and-swap.
    assert_eq!(one.keyring().unwrap(), None);
    let k = Keyring::from_store(one.clone(), &root(), DataKeyMode::Random).unwrap();
    let record = two.keyring().unwrap().unwrap();
    assert!(!two.replace_keyring(None, record.clone()).unwrap());
    k.rotate(SecretKey::generate().unwrap()).unwrap();
    let mut stale = record.clone();
    stale.primary = 1;
    assert!(!two.replace_keyring(Some(&record), stale).unwrap());
}

fn keyrings_rotate_retire_and_shred_tenants(b: &dyn Backend) {
    let (acme, globex) = (tenant("acme"), tenant("globex"));
    let first = keyring(b.handle());
    let v1 = first.seal(&ctx(acme, "T-1"), b"one").unwrap();
    let theirs = first.seal(&ctx(globex, "T-1"), b"globex").unwrap();
    let index = first
        .blind_index(acme, "contact", "email", BlindIndexConfig::default())
        .unwrap();
    let token = index.compute("alice@example.com");
    assert_eq!(first.rotate(SecretKey::generate().unwrap()).unwrap(), 2);
    let v2 = first.reencrypt(&ctx(acme, "T-1"), &v1).unwrap();

    // Another handle that opened before the rotation cannot overwrite it.
    let second = Keyring::from_store(b.handle(), &root(), DataKeyMode::Random).unwrap();
    let late = Keyring::from_store(b.handle(), &root(), DataKeyMode::Random).unwrap();
    assert_eq!(second.open(&ctx(acme, "T-1"), &v1).unwrap(), b"one");
    assert_eq!(second.versions(), [1, 2]);
    first.rotate(SecretKey::generate().unwrap()).unwrap();
    assert!(matches!(
        late.rotate(SecretKey::generate().unwrap()),
        Err(Error::KeyringChanged)
    ));
    // ...and, refreshed, rotates after it.
    late.refresh().unwrap();
    assert_eq!(late.rotate(SecretKey::generate().unwrap()).unwrap(), 4);

    // Retirement removes that version's data keys from the store.
    let v_theirs = first.reencrypt(&ctx(globex, "T-1"), &theirs).unwrap();
    first.refresh().unwrap();
    let usage = KeyUsage::scan([v2.as_slice(), v_theirs.as_slice()]);
    first.retire(1, &usage).unwrap();
    let Some(StoredTenantKeys::Active { data_keys, .. }) = b.handle().tenant_keys(acme).unwrap()
    else {
        panic!("acme lost its keys");
    };
    assert!(!data_keys.contains_key(&1));
    let reopened = keyring(b.handle());
    assert_eq!(reopened.retired(), [1]);
    assert_eq!(
        reopened.open(&ctx(acme, "T-1"), &v1),
        Err(Error::UnknownKey(KeyId::Tenant { version: 1 }))
    );
    assert_eq!(reopened.open(&ctx(acme, "T-1"), &v2).unwrap(), b"one");

    // A tenant shred erases every copy, the search key too.
    let dpo = ActorId::from_external_key(acme, "psa.user", "dpo");
    let receipt = reopened.shred_tenant(acme, dpo, &*clock()).unwrap();
    assert_eq!(receipt.key_versions, [2]);
    let erased = Err(Error::TenantShredded { tenant: acme });
    assert_eq!(keyring(b.handle()).open(&ctx(acme, "T-1"), &v2), erased);
    assert_eq!(keyring(b.handle()).seal(&ctx(acme, "T-2"), b"x"), erased);
    assert!(matches!(
        keyring(b.handle()).blind_index(acme, "contact", "email", BlindIndexConfig::default()),
        Err(Error::TenantShredded { .. })
    ));
    assert_eq!(index.compute("alice@example.com"), token);
    assert_eq!(
        keyring(b.handle())
            .open(&ctx(globex, "T-1"), &v_theirs)
            .unwrap(),
        b"globex"
    );
    // Shredding again returns the first receipt.
    assert_eq!(
        keyring(b.handle())
            .shred_tenant(
                acme,
                ActorId::from_external_key(acme, "psa.user", "x"),
                &*clock()
            )
            .unwrap(),
        receipt
    );
}

/// Two processes that both read a tenant active and shred it: the second
/// tombstone used to overwrite the first, so the store's receipt named the
/// later actor and time while the first caller held (and audited) another.
fn overlapping_tenant_shreds_keep_the_first_receipt(b: &dyn Backend) {
    let (acme, initech) = (tenant("acme"), tenant("initech"));
    keyring(b.handle()).seal(&ctx(acme, "T-1"), b"one").unwrap();
    let receipt = |tenant, who: &str, minute| TenantShredReceipt {
        tenant,
        actor: ActorId::from_external_key(tenant, "psa.user", who),
        at: Utc.with_ymd_and_hms(2026, 11, 22, 9, minute, 0).unwrap(),
        key_versions: vec![7],
        outcome: ShredOutcome::Unrecorded,
    };
    // A tenant with keys, and one that never had any (no row yet). The
    // store fills in the versions and the outcome it finds.
    for (tenant, key_versions, outcome) in [
        (acme, vec![1], ShredOutcome::KeyDestroyed),
        (initech, vec![], ShredOutcome::NoKeyExisted),
    ] {
        let (first, second) = (receipt(tenant, "dpo", 1), receipt(tenant, "admin", 2));
        let first = TenantShredReceipt {
            key_versions,
            outcome,
            ..first
        };
        let (one, other) = (b.handle(), b.handle());
        let before = one.generation().unwrap();
        assert_eq!(one.shred_tenant(&first).unwrap(), first);
        let after = one.generation().unwrap();
        assert!(after > before);
        assert_eq!(other.shred_tenant(&second).unwrap(), first);
        assert_eq!(
            b.handle().tenant_keys(tenant).unwrap(),
            Some(StoredTenantKeys::Shredded(first))
        );
        // Nothing changed, so nothing for other processes to drop.
        assert_eq!(b.handle().generation().unwrap(), after);
    }
}

/// A shred's receipt tells a destroyed key from a tombstone written where
/// there was no key (the wrong tenant named, say), for subjects and
/// tenants, as returned and as stored; a repeated shred returns the first
/// receipt.
fn shred_receipts_say_whether_a_key_existed(b: &dyn Backend) {
    let (acme, globex, nobody) = (tenant("acme"), tenant("globex"), tenant("nobody"));
    let alice = SubjectId::from_external_key(acme, "psa", "alice");
    let dpo = ActorId::from_external_key(acme, "psa.user", "dpo");
    let v = vault(&b.handle());
    v.seal(alice, &ctx(acme, "e-1"), b"203.0.113.7").unwrap();

    let destroyed = v.shred(acme, alice, dpo).unwrap();
    assert_eq!(destroyed.outcome, ShredOutcome::KeyDestroyed);
    // The wrong tenant named: no key was there, the tombstone goes in anyway.
    let wrong = v.shred(globex, alice, dpo).unwrap();
    assert_eq!(wrong.outcome, ShredOutcome::NoKeyExisted);
    assert_eq!(
        v.seal(alice, &ctx(globex, "e-2"), b"x"),
        Err(Error::Shredded { subject: alice })
    );
    // What another handle reads back says the same.
    let store = b.handle();
    assert_eq!(
        store.get(acme, alice).unwrap(),
        Some(StoredSubjectKey::Shredded(destroyed.clone()))
    );
    assert_eq!(
        store.get(globex, alice).unwrap(),
        Some(StoredSubjectKey::Shredded(wrong.clone()))
    );
    // Shredding again, in another process, returns the first receipt.
    let admin = ActorId::from_external_key(acme, "psa.user", "admin");
    assert_eq!(
        vault(&b.handle()).shred(acme, alice, admin).unwrap(),
        destroyed
    );
    assert_eq!(
        vault(&b.handle()).shred(globex, alice, admin).unwrap(),
        wrong
    );

    let k = keyring(b.handle());
    k.seal(&ctx(acme, "T-1"), b"one").unwrap();
    let tenant_destroyed = k.shred_tenant(acme, dpo, &*clock()).unwrap();
    assert_eq!(tenant_destroyed.outcome, ShredOutcome::KeyDestroyed);
    assert_eq!(tenant_destroyed.key_versions, [1]);
    let no_tenant = k.shred_tenant(nobody, dpo, &*clock()).unwrap();
    assert_eq!(no_tenant.outcome, ShredOutcome::NoKeyExisted);
    assert!(no_tenant.key_versions.is_empty());
    assert_eq!(
        b.handle().tenant_keys(nobody).unwrap(),
        Some(StoredTenantKeys::Shredded(no_tenant))
    );
    assert_eq!(
        keyring(b.handle())
            .shred_tenant(acme, admin, &*clock())
            .unwrap(),
        tenant_destroyed
    );
}

fn two_keyrings_share_one_nonce_budget(b: &dyn Backend) {
    let budget = NonceBudget::new(7, 5, 2).unwrap();
    let open = || {
        Keyring::from_store(b.handle(), &root(), DataKeyMode::Derived)
            .unwrap()
            .with_nonce_budget(budget)
    };
    let (one, two) = (open(), open());
    let acme = tenant("acme");
    let mut sealed = 0;
    for i in 0..20 {
        let keyring = if i % 3 == 0 { &one } else { &two };
        match keyring.seal(&ctx(acme, "T"), b"x") {
            Ok(_) => sealed += 1,
            Err(Error::NonceLimit { .. }) => {}
            Err(other) => panic!("unexpected {other}"),
        }
    }
    assert!(sealed <= 7, "{sealed} seals passed a budget of 7");
    assert_eq!(b.handle().nonces_reserved(acme, 1).unwrap(), 7);
}

fn shreds_and_rotations_propagate_between_handles(b: &dyn Backend) {
    let acme = tenant("acme");
    let alice = SubjectId::from_external_key(acme, "psa", "alice");
    let a = vault(&b.handle());
    let sealed = a.seal(alice, &ctx(acme, "e-1"), b"ip").unwrap();
    let plain = a
        .seal(SubjectId::random(), &ctx(acme, "e-2"), b"other")
        .unwrap();
    let other_vault = vault(&b.handle());
    assert_eq!(other_vault.open(&ctx(acme, "e-1"), &sealed).unwrap(), b"ip");

    a.shred(
        acme,
        alice,
        ActorId::from_external_key(acme, "psa.user", "dpo"),
    )
    .unwrap();
    std::thread::sleep(BOUND);
    assert_eq!(
        other_vault.open(&ctx(acme, "e-1"), &sealed),
        Err(Error::Shredded { subject: alice })
    );
    assert_eq!(
        other_vault.open(&ctx(acme, "e-2"), &plain).unwrap(),
        b"other"
    );

    // Rotation reaches the other keyring too: it seals under the new primary.
    let k1 = keyring(b.handle());
    let k2 = keyring(b.handle());
    k2.seal(&ctx(acme, "T"), b"x").unwrap();
    let v = k1.rotate(SecretKey::generate().unwrap()).unwrap();
    std::thread::sleep(BOUND);
    let sealed = k2.seal(&ctx(acme, "T"), b"x").unwrap();
    assert_eq!(
        Envelope::decode(&sealed).unwrap().key_id(),
        KeyId::Tenant { version: v }
    );

    // A tenant shred reaches the other vault's cached subject keys.
    let bob = SubjectId::from_external_key(acme, "psa", "bob");
    let bobs = other_vault.seal(bob, &ctx(acme, "e-3"), b"b").unwrap();
    keyring(b.handle())
        .shred_tenant(
            acme,
            ActorId::from_external_key(acme, "psa.user", "dpo"),
            &*clock(),
        )
        .unwrap();
    std::thread::sleep(BOUND);
    assert_eq!(
        other_vault.open(&ctx(acme, "e-3"), &bobs),
        Err(Error::TenantShredded { tenant: acme })
    );
}

#[test]
fn the_memory_store_passes_the_suite() {
    suite(memory);
}

#[test]
fn the_file_store_passes_the_suite() {
    suite(file);
}

#[test]
fn the_sqlite_store_passes_the_suite() {
    suite(sqlite);
}

#[cfg(feature = "postgres")]
#[test]
fn the_postgres_store_passes_the_suite() {
    suite(pg::fresh);
}

#[cfg(all(feature = "postgres", feature = "sqlx"))]
#[test]
fn the_sqlx_store_passes_the_suite() {
    suite(on_sqlx::fresh);
}

// ----------------------------------------------------- rows that do not decode

/// Corrupts rows behind the store's back (raw SQL as the owner) and checks
/// the store names them, refuses them and leaves them and good rows alone.
fn corrupted_rows_are_named_and_never_overwritten(b: &dyn Backend, raw: &dyn Fn(&str)) {
    let (acme, globex) = (tenant("acme"), tenant("globex"));
    let alice = SubjectId::from_external_key(acme, "psa", "alice");
    let bob = SubjectId::from_external_key(acme, "psa", "bob");
    let v = vault(&b.handle());
    let bobs = v.seal(bob, &ctx(acme, "e"), b"bob").unwrap();
    v.seal(alice, &ctx(acme, "e"), b"alice").unwrap();
    let k = keyring(b.handle());
    k.seal(&ctx(globex, "T"), b"g").unwrap();
    let good_bob = b.handle().get(acme, bob).unwrap();

    let hex = |id: &[u8; 16]| id.iter().map(|x| format!("{x:02x}")).collect::<String>();
    raw(&format!(
        "UPDATE custodia_subject_keys SET receipt = X'7b7d' WHERE subject = X'{}'",
        hex(alice.as_bytes())
    ));
    raw(&format!(
        "UPDATE custodia_tenant_keys SET keys = X'00ff' WHERE tenant = X'{}'",
        hex(globex.as_bytes())
    ));
    let store = b.handle();
    let row = format!("custodia_subject_keys (tenant {acme}, subject {alice})");
    assert!(matches!(store.get(acme, alice), Err(Error::KeyStoreRow { row: r, .. }) if r == row));
    assert!(matches!(
        store.insert_if_absent(acme, alice, vec![1]),
        Err(Error::KeyStoreRow { .. })
    ));
    assert!(matches!(
        store.wrapped_keys(),
        Err(Error::KeyStoreRow { .. })
    ));
    let tenant_row = format!("custodia_tenant_keys (tenant {globex})");
    for result in [
        store.tenant_keys(globex),
        store
            .insert_tenant_key_if_absent(globex, TenantKeySlot::Search, vec![1])
            .map(Some),
    ] {
        assert!(
            matches!(&result, Err(Error::KeyStoreRow { row, .. }) if *row == tenant_row),
            "{result:?}"
        );
    }
    // A retirement meeting the bad row stops before writing anything.
    assert!(matches!(
        store.remove_tenant_keys(1),
        Err(Error::KeyStoreRow { .. })
    ));
    assert!(matches!(
        keyring(b.handle()).seal(&ctx(globex, "T"), b"x"),
        Err(Error::KeyStoreRow { .. })
    ));
    // Good rows still work, unchanged.
    assert_eq!(store.get(acme, bob).unwrap(), good_bob);
    assert_eq!(
        vault(&b.handle()).open(&ctx(acme, "e"), &bobs).unwrap(),
        b"bob"
    );
    let acme_keys = store.tenant_keys(acme).unwrap();
    assert!(matches!(acme_keys, Some(StoredTenantKeys::Active { .. })));

    // A corrupted keyring record stops every opener; none replaces it.
    raw("UPDATE custodia_keyring SET record = X'5b5d'");
    for _ in 0..2 {
        assert!(matches!(
            Keyring::from_store(b.handle(), &root(), DataKeyMode::Random),
            Err(Error::KeyStoreRow { row, .. }) if row == "custodia_keyring (id 1)"
        ));
    }
}

#[test]
fn sqlite_rows_that_do_not_decode_are_named() {
    let b = sqlite();
    let path = b.spec()["sqlite:".len()..].to_owned();
    corrupted_rows_are_named_and_never_overwritten(&*b, &|sql| {
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(sql)
            .unwrap();
    });
    // A database of another schema version is refused, not migrated over.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("UPDATE custodia_key_meta SET value = 2 WHERE name = 'schema_version'")
        .unwrap();
    assert!(matches!(
        SqliteKeyStore::open(&path),
        Err(Error::KeyStoreRow { row, .. }) if row == "custodia_key_meta (schema_version)"
    ));
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_rows_that_do_not_decode_are_named() {
    postgres_rows_are_named(pg::fresh());
}

#[cfg(all(feature = "postgres", feature = "sqlx"))]
#[test]
fn sqlx_rows_that_do_not_decode_are_named() {
    postgres_rows_are_named(on_sqlx::fresh());
}

#[cfg(feature = "postgres")]
fn postgres_rows_are_named(b: Box<dyn Backend>) {
    let spec = b.spec();
    let schema = spec.split_once(':').unwrap().1.to_owned();
    corrupted_rows_are_named_and_never_overwritten(&*b, &|sql| {
        let mut admin = pg::admin();
        admin
            .batch_execute(&format!(
                "SET search_path TO {schema}; {}",
                sql.replace("X'", "'\\x")
            ))
            .unwrap();
    });
}

#[cfg(feature = "postgres")]
#[test]
fn the_postgres_application_role_can_only_select_insert_and_update() {
    let b = pg::fresh();
    let schema = b.spec()["postgres:".len()..].to_owned();
    vault(&b.handle())
        .seal(SubjectId::random(), &ctx(tenant("acme"), "e"), b"x")
        .unwrap();
    let mut app = pg::app(&schema);
    for sql in [
        "DELETE FROM custodia_subject_keys",
        "TRUNCATE custodia_tenant_keys",
        "DROP TABLE custodia_keyring",
        "ALTER TABLE custodia_nonce_counts ADD COLUMN x INT",
    ] {
        let err = app.batch_execute(sql).unwrap_err();
        assert_eq!(
            err.code(),
            Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{sql}: {err}"
        );
    }
    assert_eq!(
        custodia_crypt::PostgresKeyStore::grant(&mut pg::admin(), "app; DROP"),
        Err(Error::InvalidConfig(
            "a role name must be ASCII letters, digits and underscores"
        ))
    );
}

// ------------------------------------------------------ restored from a backup

/// The tables a backup holds and a restore puts back.
const TABLES: [&str; 5] = [
    "custodia_key_meta",
    "custodia_subject_keys",
    "custodia_tenant_keys",
    "custodia_keyring",
    "custodia_nonce_counts",
];

/// The store is restored from a backup older than what a live vault has
/// seen, and as many shreds follow as were lost: with a counter that only
/// adds one, the generation is back where the vault saw it, the vault reads
/// "nothing changed" and keeps the shredded subjects' keys for good. The
/// generation must never repeat a value, so its next check lists them.
fn shreds_after_a_restore_reach_a_vault_that_saw_more(
    b: &dyn Backend,
    backup: &dyn Fn(),
    restore: &dyn Fn(),
) {
    let acme = tenant("acme");
    let dpo = ActorId::from_external_key(acme, "psa.user", "dpo");
    let [alice, bob, carol, dave] = ["alice", "bob", "carol", "dave"]
        .map(|name| SubjectId::from_external_key(acme, "psa", name));
    let live = vault(&b.handle());
    let sealed = [alice, bob].map(|s| (s, live.seal(s, &ctx(acme, "e"), b"pii").unwrap()));
    let other = vault(&b.handle());
    for s in [carol, dave] {
        other.seal(s, &ctx(acme, "e"), b"pii").unwrap();
    }
    let store = b.handle();

    // The backup, then two shreds the live vault sees.
    backup();
    let at_backup = store.generation().unwrap();
    other.shred(acme, carol, dpo).unwrap();
    other.shred(acme, dave, dpo).unwrap();
    live.refresh().unwrap();
    let seen = store.generation().unwrap();
    assert!(seen > at_backup, "{seen} > {at_backup}");
    for (s, sealed) in &sealed {
        assert_eq!(live.open(&ctx(acme, "e"), sealed).unwrap(), b"pii", "{s}");
    }

    // The restore: a process checking now sees the rollback, as before.
    restore();
    assert_eq!(store.generation().unwrap(), at_backup);
    assert!(!store.changes_since(seen).unwrap().complete);

    // Two shreds by another process; the live vault did not check between.
    let after = vault(&b.handle());
    after.shred(acme, alice, dpo).unwrap();
    after.shred(acme, bob, dpo).unwrap();
    live.refresh().unwrap();
    for (s, sealed) in &sealed {
        assert_eq!(
            live.open(&ctx(acme, "e"), sealed),
            Err(Error::Shredded { subject: *s })
        );
    }
    let changes = store.changes_since(seen).unwrap();
    assert!(changes.complete && changes.generation > seen, "{changes:?}");
    let mut shredded = changes.subjects.clone();
    shredded.sort();
    let mut expected = vec![(acme, alice), (acme, bob)];
    expected.sort();
    assert_eq!(shredded, expected);
}

/// SQLite: the backup is a copy of the database file (`VACUUM INTO`, the
/// consistent copy of a WAL database); the restore puts its rows back in
/// one transaction through a connection of its own, as copying the file
/// back under live WAL connections could not do safely.
#[test]
fn sqlite_shreds_after_a_restore_reach_a_vault_that_saw_more() {
    let b = sqlite();
    let path = b.spec()["sqlite:".len()..].to_owned();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("backup.sqlite").display().to_string();
    let raw = |sql: &str| {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(&format!("PRAGMA busy_timeout = 5000; {sql}"))
            .unwrap();
    };
    let quoted = copy.replace('\'', "''");
    let restore: String = TABLES
        .iter()
        .map(|t| format!("DELETE FROM main.{t}; INSERT INTO main.{t} SELECT * FROM backup.{t}; "))
        .collect();
    shreds_after_a_restore_reach_a_vault_that_saw_more(
        &*b,
        &|| raw(&format!("VACUUM INTO '{quoted}'")),
        &|| {
            raw(&format!(
                "ATTACH '{quoted}' AS backup; BEGIN IMMEDIATE; {restore} COMMIT; DETACH backup;"
            ))
        },
    );
}

/// PostgreSQL: the backup copies the schema's tables into another schema;
/// the restore puts their rows back in one transaction.
#[cfg(feature = "postgres")]
fn postgres_shreds_after_a_restore(b: Box<dyn Backend>) {
    let spec = b.spec();
    let schema = spec.split_once(':').unwrap().1.to_owned();
    let copy = format!("{schema}_backup");
    let raw = |sql: &str| pg::admin().batch_execute(sql).unwrap();
    let backup: String = TABLES
        .iter()
        .map(|t| format!("CREATE TABLE {copy}.{t} AS TABLE {schema}.{t}; "))
        .collect();
    let restore: String = TABLES
        .iter()
        .map(|t| {
            format!("DELETE FROM {schema}.{t}; INSERT INTO {schema}.{t} SELECT * FROM {copy}.{t}; ")
        })
        .collect();
    shreds_after_a_restore_reach_a_vault_that_saw_more(
        &*b,
        &|| raw(&format!("CREATE SCHEMA {copy}; {backup}")),
        &|| raw(&format!("BEGIN; {restore} COMMIT;")),
    );
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_shreds_after_a_restore_reach_a_vault_that_saw_more() {
    postgres_shreds_after_a_restore(pg::fresh());
}

#[cfg(all(feature = "postgres", feature = "sqlx"))]
#[test]
fn sqlx_shreds_after_a_restore_reach_a_vault_that_saw_more() {
    postgres_shreds_after_a_restore(on_sqlx::fresh());
}

// ------------------------------------------------------- several OS processes

const DEADLINE: Duration = Duration::from_secs(60);

fn wait_for(path: &Path, child: &mut Child) {
    let start = Instant::now();
    while !path.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "the child exited ({status}) before writing {}",
                path.display()
            );
        }
        assert!(
            start.elapsed() < DEADLINE,
            "no {} after {DEADLINE:?}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn spawn(role: &str, spec: &str, dir: &Path, worker: u32) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "child",
            "--test-threads=1",
            "--nocapture",
        ])
        .env("CUSTODIA_KEYS_ROLE", role)
        .env("CUSTODIA_KEYS_STORE", spec)
        .env("CUSTODIA_KEYS_DIR", dir)
        .env("CUSTODIA_KEYS_WORKER", worker.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn succeeded(child: Child) {
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "a child process failed: {}\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

const WORKER_SEALS: u32 = 40;
const ROTATE_EVERY: u32 = 10;

fn worker_budget() -> NonceBudget {
    NonceBudget::new(1 << 20, 1 << 19, 3).unwrap()
}

/// The child side of the process tests (run only as a child).
#[test]
#[ignore = "a child process of the multi-process key-store tests"]
fn child() {
    let (Ok(role), Ok(spec), Ok(dir)) = (
        std::env::var("CUSTODIA_KEYS_ROLE"),
        std::env::var("CUSTODIA_KEYS_STORE"),
        std::env::var("CUSTODIA_KEYS_DIR"),
    ) else {
        return;
    };
    let dir = PathBuf::from(dir);
    let store = open_spec(&spec);
    let acme = tenant("acme");
    let alice = SubjectId::from_external_key(acme, "psa", "alice");
    match role.as_str() {
        "subject" | "tenant" => {
            let v = vault(&store);
            let sealed = std::fs::read(dir.join("sealed")).unwrap();
            assert_eq!(v.open(&ctx(acme, "e-1"), &sealed).unwrap(), b"203.0.113.7");
            std::fs::write(dir.join("ready"), b"").unwrap();
            let start = Instant::now();
            while !dir.join("shredded").exists() {
                assert!(start.elapsed() < DEADLINE, "never told of the shred");
                std::thread::sleep(Duration::from_millis(5));
            }
            // The shred committed before the signal: one bound later it holds here.
            std::thread::sleep(BOUND);
            let want = if role == "subject" {
                Error::Shredded { subject: alice }
            } else {
                Error::TenantShredded { tenant: acme }
            };
            assert_eq!(v.open(&ctx(acme, "e-1"), &sealed), Err(want));
        }
        "worker" => {
            let n: u32 = std::env::var("CUSTODIA_KEYS_WORKER")
                .unwrap()
                .parse()
                .unwrap();
            let k = keyring(store);
            let k = Arc::try_unwrap(k)
                .unwrap()
                .with_nonce_budget(worker_budget());
            let mut lines = String::new();
            for i in 0..WORKER_SEALS {
                let record = format!("w{n}-{i}");
                let sealed = k.seal(&ctx(acme, &record), record.as_bytes()).unwrap();
                let KeyId::Tenant { version } = Envelope::decode(&sealed).unwrap().key_id() else {
                    panic!("not a tenant key");
                };
                let hex: String = sealed.iter().map(|b| format!("{b:02x}")).collect();
                lines.push_str(&format!("{record} {version} {hex}\n"));
                if i % ROTATE_EVERY == ROTATE_EVERY - 1 {
                    let mut attempts = 0;
                    while let Err(e) = k.rotate(SecretKey::generate().unwrap()) {
                        assert!(matches!(e, Error::KeyringChanged), "{e}");
                        attempts += 1;
                        assert!(attempts < 100, "rotation kept losing races");
                        k.refresh().unwrap();
                    }
                }
            }
            std::fs::write(dir.join(format!("worker-{n}")), lines).unwrap();
        }
        other => panic!("unknown role {other}"),
    }
}

/// B opens a value, A shreds (the subject or the whole tenant), B's next
/// open after the bound fails.
fn a_shred_in_one_process_reaches_another(b: &dyn Backend, role: &str) {
    let dir = tempfile::tempdir().unwrap();
    let store = b.handle();
    let acme = tenant("acme");
    let alice = SubjectId::from_external_key(acme, "psa", "alice");
    let a = vault(&store);
    let sealed = a.seal(alice, &ctx(acme, "e-1"), b"203.0.113.7").unwrap();
    std::fs::write(dir.path().join("sealed"), &sealed).unwrap();
    let mut child = spawn(role, &b.spec(), dir.path(), 0);
    wait_for(&dir.path().join("ready"), &mut child);
    let dpo = ActorId::from_external_key(acme, "psa.user", "dpo");
    if role == "subject" {
        a.shred(acme, alice, dpo).unwrap();
    } else {
        keyring(store).shred_tenant(acme, dpo, &*clock()).unwrap();
    }
    std::fs::write(dir.path().join("shredded"), b"").unwrap();
    succeeded(child);
}

/// Two processes seal and rotate at once: every value opens afterwards (no
/// key lost), every rotation survives, and the stored nonce count of each
/// key covers the seals of both (no block handed out twice).
fn two_processes_rotate_and_seal_without_losing_keys_or_nonces(b: &dyn Backend) {
    let dir = tempfile::tempdir().unwrap();
    drop(keyring(b.handle())); // create the keyring before the race
    let children: Vec<_> = (0..2)
        .map(|n| spawn("worker", &b.spec(), dir.path(), n))
        .collect();
    for child in children {
        succeeded(child);
    }
    let k = keyring(b.handle());
    let acme = tenant("acme");
    let rotations = 2 * (WORKER_SEALS / ROTATE_EVERY);
    assert_eq!(k.versions(), (1..=1 + rotations).collect::<Vec<_>>());
    let mut seals: BTreeMap<u32, u64> = BTreeMap::new();
    for n in 0..2 {
        let lines = std::fs::read_to_string(dir.path().join(format!("worker-{n}"))).unwrap();
        for line in lines.lines() {
            let mut parts = line.split(' ');
            let (record, version, hex) = (
                parts.next().unwrap(),
                parts.next().unwrap().parse::<u32>().unwrap(),
                hex::decode(parts.next().unwrap()).unwrap(),
            );
            assert_eq!(k.open(&ctx(acme, record), &hex).unwrap(), record.as_bytes());
            *seals.entry(version).or_default() += 1;
        }
    }
    assert_eq!(seals.values().sum::<u64>(), u64::from(2 * WORKER_SEALS));
    let block = worker_budget().block();
    for (version, sealed) in seals {
        let reserved = b.handle().nonces_reserved(acme, version).unwrap();
        assert!(
            reserved >= sealed && reserved < sealed + 2 * block,
            "version {version}: {sealed} seals, {reserved} nonces reserved"
        );
    }
}

#[test]
fn the_file_store_across_processes() {
    a_shred_in_one_process_reaches_another(&*file(), "subject");
    a_shred_in_one_process_reaches_another(&*file(), "tenant");
    two_processes_rotate_and_seal_without_losing_keys_or_nonces(&*file());
}

#[test]
fn the_sqlite_store_across_processes() {
    a_shred_in_one_process_reaches_another(&*sqlite(), "subject");
    a_shred_in_one_process_reaches_another(&*sqlite(), "tenant");
    two_processes_rotate_and_seal_without_losing_keys_or_nonces(&*sqlite());
}

#[cfg(feature = "postgres")]
#[test]
fn the_postgres_store_across_processes() {
    a_shred_in_one_process_reaches_another(&*pg::fresh(), "subject");
    a_shred_in_one_process_reaches_another(&*pg::fresh(), "tenant");
    two_processes_rotate_and_seal_without_losing_keys_or_nonces(&*pg::fresh());
}

#[cfg(all(feature = "postgres", feature = "sqlx"))]
#[test]
fn the_sqlx_store_across_processes() {
    a_shred_in_one_process_reaches_another(&*on_sqlx::fresh(), "subject");
    a_shred_in_one_process_reaches_another(&*on_sqlx::fresh(), "tenant");
    two_processes_rotate_and_seal_without_losing_keys_or_nonces(&*on_sqlx::fresh());
}
