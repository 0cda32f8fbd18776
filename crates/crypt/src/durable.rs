//! Durable, private file writes: the one way Custodia's key store, the
//! `custodia` command and the helpdesk example put secrets and personal data
//! on disk.
//!
//! A file is written beside its destination as `<file>.tmp` (created anew
//! with mode 0600, or the mode asked for), fsynced, then moved into place
//! and the directory fsynced, so that a crash or power loss leaves either the
//! old file or the complete new one — never an empty or half-written file
//! beside data that depends on it — and no moment exists at which the
//! contents are readable by other local users. On an error the temporary
//! file is removed.
//!
//! [`write_atomically`] and [`AtomicFile::commit`] replace the destination;
//! [`write_new`] and [`AtomicFile::commit_new`] never do (a hard link, which
//! fails when the destination exists), for keys that must not be
//! overwritten.
//!
//! The temporary name is fixed (`<file>.tmp`, replaced if a crashed writer
//! left one), so a crash never leaves a growing set of stale copies of what
//! was written; two processes writing the same destination at once must
//! coordinate (the [`FileKeyStore`](crate::FileKeyStore) holds a lock).
//!
//! ```
//! use custodia_crypt::durable;
//!
//! let dir = tempfile::tempdir()?;
//! let key = dir.path().join("signer.key");
//! durable::write_new(&key, b"secret\n", 0o600)?;
//! assert!(durable::write_new(&key, b"other\n", 0o600).is_err()); // never overwritten
//! durable::write_atomically(&key, b"rotated\n", 0o600)?; // replaced in one step
//! assert_eq!(std::fs::read(&key)?, b"rotated\n");
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A file being written beside its destination; see the [module](self).
///
/// Dropped without [`commit`](AtomicFile::commit) or
/// [`commit_new`](AtomicFile::commit_new), it removes its temporary file
/// and leaves the destination as it was.
#[derive(Debug)]
pub struct AtomicFile {
    path: PathBuf,
    tmp: PathBuf,
    file: Option<File>,
}

impl AtomicFile {
    /// Starts writing `path`: creates `<path>.tmp` (removing one a crashed
    /// writer left) with permission bits `mode` (e.g. `0o600`; set exactly,
    /// whatever the umask; ignored where there are no Unix permissions).
    pub fn create(path: impl Into<PathBuf>, mode: u32) -> io::Result<Self> {
        let path = path.into();
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        match fs::remove_file(&tmp) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let mut options = OpenOptions::new();
        // create_new: a file (or symlink) planted at the temporary name
        // meanwhile is an error, never written through.
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&tmp)?;
        #[cfg(unix)]
        if mode & 0o7777 != 0o600 {
            use std::os::unix::fs::PermissionsExt;
            if let Err(e) = file.set_permissions(fs::Permissions::from_mode(mode & 0o7777)) {
                drop(file);
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        }
        #[cfg(not(unix))]
        let _ = mode;
        Ok(Self {
            path,
            tmp,
            file: Some(file),
        })
    }

    /// The destination.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn file(&mut self) -> io::Result<&mut File> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("the file was already committed"))
    }

    /// Syncs the temporary file and closes it.
    fn finish(&mut self) -> io::Result<()> {
        let file = self.file()?;
        file.flush()?;
        file.sync_all()?;
        self.file = None;
        Ok(())
    }

    /// Makes the written bytes the destination's contents, replacing any
    /// file there: fsync, rename, fsync of the directory.
    pub fn commit(mut self) -> io::Result<()> {
        self.finish()?;
        fs::rename(&self.tmp, &self.path)?;
        // Renamed: nothing left for `drop` to remove.
        self.tmp = PathBuf::new();
        sync_parent(&self.path)
    }

    /// As [`commit`](AtomicFile::commit), but fails with
    /// [`io::ErrorKind::AlreadyExists`] (removing the temporary file) if the
    /// destination exists: a hard link, which never replaces a file, or, on a
    /// filesystem without hard links, a rename after checking that nothing
    /// is there.
    pub fn commit_new(mut self) -> io::Result<()> {
        self.finish()?;
        match fs::hard_link(&self.tmp, &self.path) {
            // The second name goes before the directory is synced, so that
            // no crash leaves the file under both.
            Ok(()) => fs::remove_file(&self.tmp)?,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(e),
            Err(_) if fs::symlink_metadata(&self.path).is_err() => {
                fs::rename(&self.tmp, &self.path)?;
            }
            Err(e) => return Err(e),
        }
        self.tmp = PathBuf::new();
        sync_parent(&self.path)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file()?.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.file()?.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file()?.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        self.file = None;
        if !self.tmp.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Replaces (or creates) `path` with `bytes`, atomically and durably, with
/// permission bits `mode`; see the [module](self).
pub fn write_atomically(path: impl Into<PathBuf>, bytes: &[u8], mode: u32) -> io::Result<()> {
    let mut file = AtomicFile::create(path, mode)?;
    file.write_all(bytes)?;
    file.commit()
}

/// Creates `path` with `bytes`, durably, with permission bits `mode`;
/// fails with [`io::ErrorKind::AlreadyExists`] if it exists. On any error
/// nothing is left behind: no empty or partial file at `path`.
pub fn write_new(path: impl Into<PathBuf>, bytes: &[u8], mode: u32) -> io::Result<()> {
    let mut file = AtomicFile::create(path, mode)?;
    file.write_all(bytes)?;
    file.commit_new()
}

/// Makes a rename or link in `path`'s directory durable.
pub fn sync_parent(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Creates directory `path` (and missing parents) with mode 0700, and makes
/// the new entry durable. An existing directory is left as it is.
pub fn create_private_dir(path: &Path) -> io::Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)?;
    sync_parent(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_replaced_file_gets_the_mode_asked_for_and_no_temporary_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.jsonl");
        fs::write(&path, "old").unwrap();
        write_atomically(&path, b"new", 0o600).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600);
        write_atomically(&path, b"newer", 0o640).unwrap();
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o640);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn write_new_never_replaces_and_leaves_nothing_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signer.key");
        write_new(&path, b"one", 0o600).unwrap();
        let err = write_new(&path, b"two", 0o600).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&path).unwrap(), b"one");
        // A file staged but never committed leaves nothing behind.
        let other = dir.path().join("other.key");
        let mut staged = AtomicFile::create(&other, 0o600).unwrap();
        staged.write_all(b"half").unwrap();
        drop(staged);
        assert!(!other.exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn commit_new_refuses_a_destination_created_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let mut staged = AtomicFile::create(&path, 0o600).unwrap();
        staged.write_all(b"mine").unwrap();
        fs::write(&path, "theirs").unwrap();
        let err = staged.commit_new().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&path).unwrap(), b"theirs");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_private_dir_is_0700() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b");
        create_private_dir(&path).unwrap();
        assert_eq!(mode(&path), 0o700);
        assert_eq!(mode(&dir.path().join("a")), 0o700);
    }
}
