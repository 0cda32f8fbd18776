//! A [`KeyStore`] in one encrypted file.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use custodia_core::{SubjectId, TenantId};

use crate::kdf::derive_key;
use crate::store::{
    Change, ChangeLog, KeyStoreChanges, KeyringRecord, NonceCount, ShredReceipt, StoreState,
    StoredSubjectKey, StoredTenantKeys, TenantKeySlot, TenantShredReceipt,
};
use crate::{Error, FieldCipher, FieldContext, KeyId, SecretKey};

const SALT: &[u8] = b"custodia/key-store/v1";
const INFO: &[u8] = b"custodia/key-store-file/v1";
/// The JSON format this build writes.
const FORMAT: u32 = 3;

#[derive(serde::Serialize, serde::Deserialize)]
struct Entry {
    tenant: TenantId,
    subject: SubjectId,
    stored: StoredSubjectKey,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct TenantEntry {
    tenant: TenantId,
    keys: StoredTenantKeys,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Contents {
    format: u32,
    subjects: Vec<Entry>,
    tenants: Vec<TenantEntry>,
    keyring: Option<KeyringRecord>,
    /// Absent in format 2.
    #[serde(default)]
    nonces: Vec<NonceCount>,
}

/// Wrapped keys and the keyring's version list in one encrypted, atomically
/// rewritten file.
///
/// A [`KeyStore`](crate::KeyStore) in one encrypted file.
///
/// # Format
///
/// The file holds one field envelope (see [`envelope`](crate::envelope)):
/// the store's contents as JSON, sealed with AES-256-GCM under a key derived
/// from the master key (HKDF-SHA256, salt `custodia/key-store/v1`, info
/// `custodia/key-store-file/v1`), with context (nil tenant,
/// `custodia.key_store`, `v1`, `entries`). Without the master key the file shows
/// only its length; a modified file fails to open.
///
/// The JSON, format 3, is an object:
///
/// ```text
/// {"format": 3,
///  "subjects": [{"tenant": "…", "subject": "…", "stored": {"state": "wrapped", "envelope": [1, 1, 1, …]}}],
///  "tenants":  [{"tenant": "…", "keys": {"state": "active", "data_keys": [{"version": 1, "wrapped_key": [1, 1, 1, …]}], "search_key": null}}],
///  "keyring":  {"format": 1, "mode": "random", "primary": 1, "versions": […], "retired": [], "search_root": […]},
///  "nonces":   [{"tenant": "…", "version": 1, "reserved": 1048576}]}
/// ```
///
/// (a [`KeyringRecord`], [`StoredTenantKeys`] per tenant and a
/// [`NonceCount`] per tenant data key). Format 2, the same without
/// `nonces`, and format 1, a bare array of subject entries, are still read,
/// and rewritten as format 3 on the next change. An older build refuses a
/// format-3 file rather than rewriting it without its nonce counts.
///
/// # Durability
///
/// Every change rewrites the whole file atomically: write `<file>.tmp` with
/// mode 0600, fsync it, rename it over the file, fsync the directory. A crash
/// leaves the old file or the new one, never a mix, and a shredded key is gone
/// from the file as soon as [`KeyStore::shred`](crate::KeyStore::shred)
/// returns. Rewriting costs O(entries) per change: right for thousands of
/// subjects per process, not for millions (use a database-backed store there).
///
/// # Several processes
///
/// Processes may share the file. A change takes an exclusive lock on
/// `<file>.lock` (`flock`), rereads the file if another process replaced it,
/// applies the change and writes, so compare-and-swaps (keyring record, nonce
/// counts, re-wrapping) hold across processes. Every read first checks the
/// file's identity (inode, length, modification time and the envelope's
/// random nonce: an `open`, an `fstat` and a 19-byte `read`) and rereads it
/// when it changed; the shreds and keyring changes found that way feed
/// [`KeyStore::changes_since`](crate::KeyStore::changes_since), so caches
/// over this store in other processes drop shredded keys within their
/// staleness bound. Generations are local to
/// each `FileKeyStore` value.
///
/// Tombstones are final here too: a store value that read or wrote the
/// file fails with [`Error::Store`] if the file then vanishes (rather
/// than serve, or write back, keys from memory that another process may
/// have shredded since), or if it is replaced by a version that lacks a
/// tombstone the value saw, or holds a lower nonce count than it saw (an
/// older copy put back). A value opened afterwards cannot know what an
/// older copy lacks: restoring a copy of the file brings back every key
/// shredded since it was taken, and the nonce budget reserved since, as
/// any backup of a key store does.
pub struct FileKeyStore {
    path: PathBuf,
    cipher: FieldCipher,
    state: Mutex<Loaded>,
}

/// The file's contents as last read or written, and which file that was.
#[derive(Default)]
struct Loaded {
    state: StoreState,
    stamp: Option<Stamp>,
    log: ChangeLog,
}

/// What tells one version of the file from the next.
///
/// (length, modification time, inode) alone is not enough: every write
/// renames a new file into place, which frees the inode of the version
/// before, and ext4 hands a freed inode to the next file created; with a
/// coarse modification time (one clock tick for several writes), version
/// N+2 can show exactly N's length, time and inode, and a store value that
/// last read N would miss a shred in N+1 and write the shredded key back.
/// So the stamp also holds the envelope's header and nonce, the file's
/// first bytes: the nonce is 96 fresh random bits on every write, so two
/// versions share it with probability 2^-96, whatever the filesystem does
/// with inodes and timestamps. Reading those bytes costs an `open` and one
/// small `read` beside the `fstat`, and the contents, when they changed, are
/// read from the same open file, so stamp and contents always belong to one
/// version. (Keeping the last-read file open would also stop the inode's
/// reuse, but leaves the check resting on inode semantics that network and
/// FUSE filesystems do not all keep, and holds a descriptor per store value.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
    /// The envelope's header and random nonce (fewer bytes only for a file
    /// too short to be an envelope, which then fails to open anyway).
    prefix: [u8; STAMP_PREFIX],
    prefix_len: usize,
}

/// The header of a tenant-key envelope (the file's) and its nonce.
const STAMP_PREFIX: usize = 7 + crate::NONCE_LEN;

impl Stamp {
    /// Opens the file and stamps it; `None` if there is no file. The file is
    /// returned positioned after the stamped prefix.
    fn read(path: &Path) -> Result<Option<(Self, File)>, Error> {
        let io = |e: std::io::Error| Error::Io {
            path: path.to_path_buf(),
            source: e.into(),
        };
        let mut file = match File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        let meta = file.metadata().map_err(io)?;
        let mut prefix = [0; STAMP_PREFIX];
        let mut prefix_len = 0;
        while prefix_len < STAMP_PREFIX {
            match file.read(&mut prefix[prefix_len..]) {
                Ok(0) => break,
                Ok(n) => prefix_len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io(e)),
            }
        }
        let stamp = Self {
            len: meta.len(),
            modified: meta.modified().ok(),
            #[cfg(unix)]
            inode: std::os::unix::fs::MetadataExt::ino(&meta),
            #[cfg(not(unix))]
            inode: 0,
            prefix,
            prefix_len,
        };
        Ok(Some((stamp, file)))
    }
}

impl FileKeyStore {
    /// Opens the store at `path`, creating an empty one if the file does not
    /// exist. Fails if the file exists but does not open under `master`.
    pub fn open(path: impl Into<PathBuf>, master: &SecretKey) -> Result<Self, Error> {
        let path = path.into();
        let file_key = derive_key(master, SALT, &[INFO])?;
        let cipher = FieldCipher::new(KeyId::Tenant { version: 1 }, &file_key)?;
        let store = Self {
            path,
            cipher,
            state: Mutex::new(Loaded::default()),
        };
        store.refresh(&mut store.lock())?;
        Ok(store)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Decodes the decrypted contents of a key-store file as
    /// [`FileKeyStore::open`] does: `Ok` or the typed error `open` would
    /// return ([`Error::Decode`] or [`Error::Store`]), never a panic. For
    /// tools and fuzzing: the file is sealed under the master key, so only
    /// its holder can make a store read these bytes.
    pub fn check_contents(contents: &[u8]) -> Result<(), Error> {
        decode_contents(Path::new("<contents>"), contents).map(drop)
    }

    fn context() -> Result<FieldContext<'static>, Error> {
        FieldContext::internal(
            TenantId::from_uuid(custodia_core::uuid::Uuid::nil()),
            crate::context::KEY_STORE_RECORD,
            "v1",
            "entries",
        )
    }

    /// Reads and decodes the whole of `file`, the store's file as opened
    /// by [`Stamp::read`].
    fn load(&self, file: &mut File) -> Result<StoreState, Error> {
        crate::secret::check_private(&self.path, file)?;
        let mut sealed = Vec::new();
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.read_to_end(&mut sealed))
            .map_err(|e| Error::Io {
                path: self.path.clone(),
                source: e.into(),
            })?;
        let json = zeroize::Zeroizing::new(self.cipher.open(&Self::context()?, &sealed)?);
        decode_contents(&self.path, &json)
    }

    fn save(&self, state: &StoreState) -> Result<(), Error> {
        let mut subjects: Vec<Entry> = state
            .subjects
            .iter()
            .map(|(&(tenant, subject), stored)| Entry {
                tenant,
                subject,
                stored: stored.clone(),
            })
            .collect();
        subjects.sort_by_key(|e| (e.tenant, e.subject));
        let contents = Contents {
            format: FORMAT,
            subjects,
            tenants: state
                .tenants
                .iter()
                .map(|(&tenant, keys)| TenantEntry {
                    tenant,
                    keys: keys.clone(),
                })
                .collect(),
            keyring: state.keyring.clone(),
            nonces: state.nonce_counts(),
        };
        let json =
            zeroize::Zeroizing::new(serde_json::to_vec(&contents).map_err(|e| Error::Decode {
                path: self.path.clone(),
                source: e.into(),
            })?);
        let sealed = self.cipher.seal(&Self::context()?, &json)?;
        write_atomically(&self.path, &sealed)
    }

    fn lock(&self) -> MutexGuard<'_, Loaded> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Rereads the file if another process (or store value) replaced it,
    /// logging the shreds and keyring changes it brings.
    ///
    /// Refuses ([`Error::Store`]) a file that vanished after this value
    /// read or wrote it, and a file that lost a tombstone this value saw:
    /// the keys in memory may include some shredded since by another
    /// process, so they are neither served nor written back, and a key
    /// known to be shredded is never taken back from an older file.
    fn refresh(&self, loaded: &mut Loaded) -> Result<(), Error> {
        let Some((stamp, mut file)) = Stamp::read(&self.path)? else {
            if loaded.stamp.is_some() {
                return Err(Error::Store(format!(
                    "{}: the key store file vanished after this process read it; \
                     refusing to use or write back the keys held in memory, which may \
                     include keys shredded since (restore the file, or restart)",
                    self.path.display()
                )));
            }
            return Ok(());
        };
        if Some(stamp) == loaded.stamp {
            return Ok(());
        }
        let next = self.load(&mut file)?;
        refuse_lost_tombstones(&self.path, &loaded.state, &next)?;
        let changes = loaded.state.changes_to(&next);
        loaded.log.record(changes);
        loaded.state = next;
        loaded.stamp = Some(stamp);
        Ok(())
    }

    fn read<T>(&self, f: impl FnOnce(&StoreState) -> T) -> Result<T, Error> {
        let mut loaded = self.lock();
        self.refresh(&mut loaded)?;
        Ok(f(&loaded.state))
    }

    /// Applies `change` to a copy of the latest state, under the cross-process
    /// lock, and persists it before the copy becomes current, so memory never
    /// runs ahead of the file and no process overwrites another's change.
    ///
    /// What `change` says it changed is not needed: the store logs the
    /// difference of the states, as it does for other processes' changes.
    fn update<T>(
        &self,
        change: impl FnOnce(&mut StoreState) -> (T, Option<Change>),
    ) -> Result<T, Error> {
        let mut loaded = self.lock();
        let _exclusive = self.lock_file()?;
        self.refresh(&mut loaded)?;
        let mut next = loaded.state.clone();
        let (result, _) = change(&mut next);
        // A no-op (a lost rewrap race, a repeated insert) costs no file write.
        if next != loaded.state {
            self.save(&next)?;
            let changes = loaded.state.changes_to(&next);
            loaded.log.record(changes);
            loaded.state = next;
            // Under the file lock: no other process replaced it since.
            loaded.stamp = Stamp::read(&self.path)?.map(|(stamp, _)| stamp);
        }
        Ok(result)
    }

    fn read_log<T>(&self, f: impl FnOnce(&ChangeLog) -> T) -> Result<T, Error> {
        let mut loaded = self.lock();
        self.refresh(&mut loaded)?;
        Ok(f(&loaded.log))
    }

    /// Takes the exclusive lock on `<file>.lock`; dropping the handle releases it.
    fn lock_file(&self) -> Result<File, Error> {
        let mut name = self.path.as_os_str().to_owned();
        name.push(".lock");
        let lock_path = PathBuf::from(name);
        let io = |e: std::io::Error| Error::Io {
            path: lock_path.clone(),
            source: e.into(),
        };
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&lock_path).map_err(io)?;
        file.lock().map_err(io)?;
        Ok(file)
    }
}

/// The decrypted contents of a key-store file (any format it reads) as
/// [`FileKeyStore`] holds them, or [`Error::Decode`] / [`Error::Store`]
/// naming `path`.
fn decode_contents(path: &Path, json: &[u8]) -> Result<StoreState, Error> {
    let shown = path.display();
    // serde quotes a mistyped value whole, and a value here may be a key.
    let undecodable = |e: serde_json::Error| Error::Decode {
        path: path.to_path_buf(),
        source: custodia_core::echo_json_error(e).into(),
    };
    // Format 1 is a bare array of subject entries; format 2 an object.
    let legacy = json.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let (subjects, tenants, keyring, nonces) = if legacy {
        let subjects: Vec<Entry> = serde_json::from_slice(json).map_err(undecodable)?;
        (subjects, Vec::new(), None, Vec::new())
    } else {
        let c: Contents = serde_json::from_slice(json).map_err(undecodable)?;
        // Format 2 is format 3 without nonce counts.
        if c.format != FORMAT && c.format != 2 {
            return Err(Error::Store(format!(
                "{shown}: unsupported key store format {}",
                c.format
            )));
        }
        (c.subjects, c.tenants, c.keyring, c.nonces)
    };
    let mut counts = std::collections::BTreeMap::new();
    for n in nonces {
        if counts.insert((n.tenant, n.version), n.reserved).is_some() {
            return Err(Error::Store(format!(
                "{shown}: nonce count of tenant {} version {} listed twice",
                n.tenant, n.version
            )));
        }
    }
    Ok(StoreState {
        subjects: subjects
            .into_iter()
            .map(|e| ((e.tenant, e.subject), e.stored))
            .collect(),
        tenants: tenants.into_iter().map(|e| (e.tenant, e.keys)).collect(),
        keyring,
        nonces: counts,
    })
}

/// Fails if `next`, a newer read of the file at `path`, lacks a tombstone
/// `seen` held, or holds a lower nonce count: the file was rolled back (a
/// restored copy), and neither a shredded key nor spent nonce budget may
/// come back in a process that saw them go.
fn refuse_lost_tombstones(path: &Path, seen: &StoreState, next: &StoreState) -> Result<(), Error> {
    let rolled_back = |what: String| {
        Err(Error::Store(format!(
            "{}: the key store file lost the tombstone of {what} that this process \
             saw (an older copy of the file was put back?); refusing to use it",
            path.display()
        )))
    };
    for (&(tenant, subject), stored) in &seen.subjects {
        if matches!(stored, StoredSubjectKey::Shredded(_))
            && !matches!(
                next.subjects.get(&(tenant, subject)),
                Some(StoredSubjectKey::Shredded(_))
            )
        {
            return rolled_back(format!("subject {subject} in tenant {tenant}"));
        }
    }
    for (&tenant, keys) in &seen.tenants {
        if matches!(keys, StoredTenantKeys::Shredded(_))
            && !matches!(
                next.tenants.get(&tenant),
                Some(StoredTenantKeys::Shredded(_))
            )
        {
            return rolled_back(format!("tenant {tenant}"));
        }
    }
    // Nonce counts only grow (`swap_nonces`): a lower one means an older
    // file, and trusting it would hand out again the budget already
    // reserved, letting a key seal past its random-nonce limit.
    for (&(tenant, version), &count) in &seen.nonces {
        let now = next.nonces.get(&(tenant, version)).copied().unwrap_or(0);
        if now < count {
            return Err(Error::Store(format!(
                "{}: the nonce count of tenant {tenant} version {version} went down from \
                 {count} to {now} (an older copy of the file was put back?); refusing to use it",
                path.display()
            )));
        }
    }
    Ok(())
}

/// Replaces the file at `path` by `bytes`: see [`crate::durable`].
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    crate::durable::write_atomically(path, bytes, 0o600).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e.into(),
    })
}

crate::store::state_key_store!(FileKeyStore);

impl std::fmt::Debug for FileKeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileKeyStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::KeyStore;
    use std::fs;

    #[test]
    fn format_1_files_still_open_and_are_rewritten_as_format_3() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.cst");
        let master = SecretKey::from_bytes([5; 32]);
        let tenant = TenantId::from_uuid(custodia_core::uuid::Uuid::from_u128(1));
        let subject = SubjectId::from_uuid(custodia_core::uuid::Uuid::from_u128(2));
        let store = FileKeyStore::open(&path, &master).unwrap();
        let legacy = serde_json::to_vec(&[Entry {
            tenant,
            subject,
            stored: StoredSubjectKey::Wrapped {
                envelope: vec![1, 2, 3],
            },
        }])
        .unwrap();
        let sealed = store
            .cipher
            .seal(&FileKeyStore::context().unwrap(), &legacy)
            .unwrap();
        write_atomically(&path, &sealed).unwrap();

        let reopened = FileKeyStore::open(&path, &master).unwrap();
        assert_eq!(
            reopened.get(tenant, subject).unwrap(),
            Some(StoredSubjectKey::Wrapped {
                envelope: vec![1, 2, 3]
            })
        );
        assert_eq!(reopened.keyring().unwrap(), None);
        reopened
            .insert_tenant_key_if_absent(tenant, TenantKeySlot::Search, vec![9])
            .unwrap();
        let json = reopened
            .cipher
            .open(&FileKeyStore::context().unwrap(), &fs::read(&path).unwrap())
            .unwrap();
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(value["format"], FORMAT);
        assert_eq!(
            value["subjects"][0]["stored"]["envelope"],
            serde_json::json!([1, 2, 3])
        );
        assert_eq!(
            value["tenants"][0]["keys"]["search_key"],
            serde_json::json!([9])
        );
    }

    #[test]
    fn an_unknown_format_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.cst");
        let master = SecretKey::from_bytes([5; 32]);
        let store = FileKeyStore::open(&path, &master).unwrap();
        let future = br#"{"format":4,"subjects":[],"tenants":[],"keyring":null}"#;
        let sealed = store
            .cipher
            .seal(&FileKeyStore::context().unwrap(), future)
            .unwrap();
        write_atomically(&path, &sealed).unwrap();
        let err = FileKeyStore::open(&path, &master).unwrap_err();
        assert!(
            matches!(&err, Error::Store(m) if m.contains("format 4")),
            "{err}"
        );
    }

    #[test]
    fn check_contents_reads_every_format_and_names_what_it_refuses() {
        // The shapes of the fuzz seeds (fuzz/corpus/crypt_key_store_file).
        let subject = r#"{"tenant":"f40012db-2386-532a-bdec-3b6166f62532","subject":"7e7eb87a-7f47-5f11-a622-b3f5099ea418","stored":{"state":"wrapped","envelope":[1,1,1]}}"#;
        let tenant = r#"{"tenant":"f40012db-2386-532a-bdec-3b6166f62532","keys":{"state":"active","data_keys":[{"version":1,"wrapped_key":[1,1,1]}],"search_key":null}}"#;
        let nonce =
            r#"{"tenant":"f40012db-2386-532a-bdec-3b6166f62532","version":1,"reserved":1048576}"#;
        for contents in [
            format!("[{subject}]"),
            format!(r#"{{"format":2,"subjects":[{subject}],"tenants":[{tenant}],"keyring":null}}"#),
            format!(
                r#"{{"format":3,"subjects":[{subject}],"tenants":[{tenant}],"keyring":null,"nonces":[{nonce}]}}"#
            ),
        ] {
            assert!(
                FileKeyStore::check_contents(contents.as_bytes()).is_ok(),
                "{contents}"
            );
        }
        let twice = br#"{"format":3,"subjects":[],"tenants":[],"keyring":null,"nonces":[
            {"tenant":"f40012db-2386-532a-bdec-3b6166f62532","version":1,"reserved":1},
            {"tenant":"f40012db-2386-532a-bdec-3b6166f62532","version":1,"reserved":2}]}"#;
        let err = FileKeyStore::check_contents(twice).unwrap_err();
        assert!(
            matches!(&err, Error::Store(m) if m.contains("listed twice")),
            "{err}"
        );
        let err = FileKeyStore::check_contents(b"{").unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err}");
    }

    /// serde quotes a mistyped value whole; a key store's values are keys.
    #[test]
    fn a_mistyped_value_is_not_quoted_whole_by_the_error_or_its_sources() {
        let secret = "k".repeat(60) + &"s".repeat(200);
        let contents = format!(r#"{{"format":3,"subjects":"{secret}"}}"#);
        let err = FileKeyStore::check_contents(contents.as_bytes()).unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err}");
        let shown = custodia_core::arbitrary::error_chain(&err);
        assert!(shown.contains("invalid type"), "{shown}");
        assert!(!shown.contains(&secret[..100]), "{shown}");
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever authenticated bytes the file holds, opening it gives a
        /// store or a typed error, never a panic.
        #[test]
        fn authenticated_garbage_is_a_typed_error(
            contents in prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..128),
                "\\{\"format\":2,\"subjects\":\\[\\],\"tenants\":\\[.{0,60}\\],\"keyring\":.{0,40}\\}"
                    .prop_map(String::into_bytes),
            ]
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("keys.cst");
            let master = SecretKey::from_bytes([5; 32]);
            let store = FileKeyStore::open(&path, &master).unwrap();
            let sealed = store.cipher.seal(&FileKeyStore::context().unwrap(), &contents).unwrap();
            write_atomically(&path, &sealed).unwrap();
            let opened = FileKeyStore::open(&path, &master);
            match &opened {
                Ok(_) | Err(Error::Store(_) | Error::Decode { .. }) => {}
                Err(other) => prop_assert!(false, "unexpected {other:?}"),
            }
            // The decoder tools and the fuzz target call agrees with open.
            prop_assert_eq!(FileKeyStore::check_contents(&contents).is_ok(), opened.is_ok());
        }
    }
}
