//! A [`KeyStore`] in one encrypted file.
//!
//! # Format
//!
//! The file holds one field envelope (see [`envelope`](crate::envelope)):
//! the store's entries as JSON, sealed with AES-256-GCM under a key derived
//! from the master key (HKDF-SHA256, salt `custodia/key-store/v1`, info
//! `custodia/key-store-file/v1`), with context (nil tenant,
//! `custodia.key_store`, `v1`, `entries`). Without the master key the file shows
//! only its length; a modified file fails to open.
//!
//! # Durability
//!
//! Every change rewrites the whole file atomically: write `<file>.tmp` with
//! mode 0600, fsync it, rename it over the file, fsync the directory. A crash
//! leaves the old file or the new one, never a mix, and a shredded key is gone
//! from the file as soon as [`KeyStore::shred`] returns. Rewriting costs
//! O(entries) per change: right for thousands of subjects per process, not for
//! millions (use a database-backed store there).

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use custodia_core::{SubjectId, TenantId};

use crate::kdf::derive_key;
use crate::subject::{KeyStore, ShredReceipt, StoredSubjectKey, list_wrapped, swap_wrapped};
use crate::{Error, FieldCipher, FieldContext, KeyId, SecretKey};

const SALT: &[u8] = b"custodia/key-store/v1";
const INFO: &[u8] = b"custodia/key-store-file/v1";

#[derive(serde::Serialize, serde::Deserialize)]
struct Entry {
    tenant: TenantId,
    subject: SubjectId,
    stored: StoredSubjectKey,
}

/// Wrapped subject keys in one encrypted, atomically rewritten file.
pub struct FileKeyStore {
    path: PathBuf,
    cipher: FieldCipher,
    entries: Mutex<HashMap<(TenantId, SubjectId), StoredSubjectKey>>,
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
            entries: Mutex::new(HashMap::new()),
        };
        if store.path.exists() {
            let loaded = store.load()?;
            *store.entries.lock().unwrap_or_else(PoisonError::into_inner) = loaded;
        }
        Ok(store)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn context() -> Result<FieldContext<'static>, Error> {
        FieldContext::new(
            TenantId::from_uuid(custodia_core::uuid::Uuid::nil()),
            "custodia.key_store",
            "v1",
            "entries",
        )
    }

    fn load(&self) -> Result<HashMap<(TenantId, SubjectId), StoredSubjectKey>, Error> {
        crate::secret::check_private(&self.path)?;
        let shown = self.path.display();
        let sealed = fs::read(&self.path).map_err(|e| Error::Store(format!("{shown}: {e}")))?;
        let json = zeroize::Zeroizing::new(self.cipher.open(&Self::context()?, &sealed)?);
        let entries: Vec<Entry> = serde_json::from_slice(&json)
            .map_err(|e| Error::Store(format!("{shown}: entries do not decode: {e}")))?;
        Ok(entries
            .into_iter()
            .map(|e| ((e.tenant, e.subject), e.stored))
            .collect())
    }

    fn save(
        &self,
        entries: &HashMap<(TenantId, SubjectId), StoredSubjectKey>,
    ) -> Result<(), Error> {
        let mut list: Vec<Entry> = entries
            .iter()
            .map(|(&(tenant, subject), stored)| Entry {
                tenant,
                subject,
                stored: stored.clone(),
            })
            .collect();
        list.sort_by_key(|e| (e.tenant, e.subject));
        let json = zeroize::Zeroizing::new(
            serde_json::to_vec(&list)
                .map_err(|e| Error::Store(format!("encoding entries: {e}")))?,
        );
        let sealed = self.cipher.seal(&Self::context()?, &json)?;
        write_atomically(&self.path, &sealed)
    }

    /// Applies `change` to a copy of the entries and persists it before the
    /// copy becomes current, so memory never runs ahead of the file.
    fn update<T>(
        &self,
        change: impl FnOnce(&mut HashMap<(TenantId, SubjectId), StoredSubjectKey>) -> T,
    ) -> Result<T, Error> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let mut next = entries.clone();
        let result = change(&mut next);
        // A no-op (a lost rewrap race, a repeated insert) costs no file write.
        if next != *entries {
            self.save(&next)?;
            *entries = next;
        }
        Ok(result)
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let io = |e: std::io::Error| Error::Store(format!("{}: {e}", path.display()));
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    drop(file);
    fs::rename(&tmp, path).map_err(io)?;
    // Make the rename itself durable.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    }
    Ok(())
}

impl KeyStore for FileKeyStore {
    fn get(&self, tenant: TenantId, subject: SubjectId) -> Result<Option<StoredSubjectKey>, Error> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(entries.get(&(tenant, subject)).cloned())
    }

    fn insert_if_absent(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        wrapped: Vec<u8>,
    ) -> Result<StoredSubjectKey, Error> {
        if let Some(existing) = self.get(tenant, subject)? {
            return Ok(existing);
        }
        self.update(|entries| {
            entries
                .entry((tenant, subject))
                .or_insert(StoredSubjectKey::Wrapped { envelope: wrapped })
                .clone()
        })
    }

    fn shred(&self, receipt: &ShredReceipt) -> Result<(), Error> {
        self.update(|entries| {
            let tombstone = StoredSubjectKey::Shredded(receipt.clone());
            entries.insert((receipt.tenant, receipt.subject), tombstone.clone());
            tombstone
        })
        .map(|_| ())
    }

    fn wrapped_keys(&self) -> Result<Vec<(TenantId, SubjectId, Vec<u8>)>, Error> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(list_wrapped(&entries))
    }

    fn replace_wrapped(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        old: &[u8],
        new: Vec<u8>,
    ) -> Result<bool, Error> {
        self.update(|entries| swap_wrapped(entries, tenant, subject, old, new))
    }
}

impl std::fmt::Debug for FileKeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileKeyStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}
