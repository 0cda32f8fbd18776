//! Key material that cleans up after itself.

use std::fmt;

use ring::rand::{SecureRandom, SystemRandom};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::Error;

/// A 256-bit secret key.
///
/// Zeroized when dropped, printed as `SecretKey([redacted])`, compared in
/// constant time. The bytes leave only through [`SecretKey::expose_secret`],
/// whose name makes every use visible in review.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey([u8; SecretKey::LEN]);

impl SecretKey {
    /// Key length in bytes.
    pub const LEN: usize = 32;

    /// Wraps key bytes. The caller should zeroize its own copy.
    pub fn from_bytes(bytes: [u8; Self::LEN]) -> Self {
        Self(bytes)
    }

    /// Copies key bytes from a slice, which must be exactly 32 bytes long.
    pub fn try_from_slice(bytes: &[u8]) -> Result<Self, Error> {
        let array: [u8; Self::LEN] = bytes.try_into().map_err(|_| Error::InvalidKeyLength {
            expected: Self::LEN,
            actual: bytes.len(),
        })?;
        Ok(Self(array))
    }

    /// A fresh key from the operating system's random source.
    pub fn generate() -> Result<Self, Error> {
        let mut bytes = [0u8; Self::LEN];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| Error::Random)?;
        Ok(Self(bytes))
    }

    /// Reads a key from environment variable `var`, holding the 32 bytes in
    /// standard or URL-safe base64 (padded or not), e.g. as made by
    /// `openssl rand -base64 32`.
    ///
    /// Errors name the variable, never its value.
    pub fn from_env(var: &str) -> Result<Self, Error> {
        let value = zeroize::Zeroizing::new(
            std::env::var(var)
                .map_err(|_| Error::Store(format!("environment variable {var} is not set")))?,
        );
        Self::from_base64(value.trim()).map_err(|_| {
            Error::Store(format!(
                "environment variable {var} does not hold a base64 32-byte key"
            ))
        })
    }

    /// Reads a key from a file holding the 32 bytes in base64 (one line).
    ///
    /// On Unix the file must not be readable or writable by group or others
    /// (mode 0600 or stricter) and must be owned by the process's effective
    /// user or root; any other file is refused (see [`read_key_file`]).
    pub fn from_file(path: &std::path::Path) -> Result<Self, Error> {
        let shown = path.display();
        let text = read_key_file(path)?;
        Self::from_base64(text.trim())
            .map_err(|_| Error::Store(format!("{shown} does not hold a base64 32-byte key")))
    }

    /// The key in standard base64, for writing a new key file once.
    pub fn to_base64(&self) -> zeroize::Zeroizing<String> {
        use base64::Engine;
        zeroize::Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(self.0))
    }

    fn from_base64(text: &str) -> Result<Self, Error> {
        use base64::Engine;
        use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
        // Padding carries nothing: without it, each alphabet is one decode,
        // and unpadded standard base64 (with `+` or `/`) reads too.
        let unpadded = text.trim_end_matches('=');
        let bytes = zeroize::Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(unpadded)
                .or_else(|_| STANDARD_NO_PAD.decode(unpadded))
                .map_err(|_| Error::Malformed("invalid base64 key"))?,
        );
        Self::try_from_slice(&bytes)
    }

    /// The key bytes. Keep the borrow short and never log it.
    pub fn expose_secret(&self) -> &[u8; Self::LEN] {
        &self.0
    }
}

/// The longest key file [`read_key_file`] reads, in bytes: a key file holds
/// one line (44 bytes of base64 for a [`SecretKey`], about 100 for an audit
/// checkpoint signer), so anything longer is not a key file.
pub const MAX_KEY_FILE: usize = 4096;

/// Reads the text of a secret key file: the one reader of
/// [`SecretKey::from_file`] and of the other keys kept in files (the
/// `custodia` command's audit checkpoint signer keys).
///
/// On Unix the file must not be readable or writable by group or others
/// (mode 0600 or stricter): a looser file is refused, naming its mode. It
/// must also be owned by the process's effective user or by root (the rule
/// of ssh for its keys): a file another user owns is refused, naming the
/// owner's uid, so a process running as root does not take a key another
/// user planted for it. Mode and owner are those of the file opened
/// (`fstat`), not of whatever the path names a moment later. The text goes into a zeroized buffer allocated once at
/// [`MAX_KEY_FILE`] bytes and never grown, so no copy of the key is left in
/// freed memory; a longer file, or one that is not UTF-8, is refused.
/// Errors name the file, never its contents.
pub fn read_key_file(path: &std::path::Path) -> Result<zeroize::Zeroizing<String>, Error> {
    use std::io::Read;
    let io = |e: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        source: e.into(),
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    check_private(path, &file)?;
    check_owned(path, &file)?;
    // One byte over the limit tells a file that is too long.
    let mut buf = zeroize::Zeroizing::new(vec![0u8; MAX_KEY_FILE + 1]);
    let mut len = 0;
    while len < buf.len() {
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e)),
        }
    }
    if len > MAX_KEY_FILE {
        return Err(Error::Store(format!(
            "{} is longer than {MAX_KEY_FILE} bytes: not a key file",
            path.display()
        )));
    }
    buf.truncate(len);
    // The allocation moves into the String: no copy is made.
    match String::from_utf8(std::mem::take(&mut *buf)) {
        Ok(text) => Ok(zeroize::Zeroizing::new(text)),
        Err(e) => {
            zeroize::Zeroize::zeroize(&mut e.into_bytes());
            Err(Error::Store(format!(
                "{} is not UTF-8 text",
                path.display()
            )))
        }
    }
}

/// Refuses a key file, as opened, that group or others could read or
/// write: the mode checked is that of the file read, not of whatever
/// `path` names a moment later.
#[cfg(unix)]
pub(crate) fn check_private(path: &std::path::Path, file: &std::fs::File) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    let mode = file
        .metadata()
        .map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e.into(),
        })?
        .permissions()
        .mode();
    check_mode(path, mode)
}

/// Refuses a mode that lets group or others read or write.
#[cfg(unix)]
fn check_mode(path: &std::path::Path, mode: u32) -> Result<(), Error> {
    if mode & 0o077 != 0 {
        return Err(Error::Store(format!(
            "{} has mode {:o}; key files must be 0600 or stricter",
            path.display(),
            mode & 0o777
        )));
    }
    Ok(())
}

/// Refuses a key file, as opened, that neither the process's effective user
/// nor root owns.
///
/// The effective uid comes from `rustix::process::geteuid`, a safe wrapper
/// over the system call (the crate forbids `unsafe`, so no `libc` call of
/// its own). Only [`read_key_file`] checks owners: a
/// [`FileKeyStore`](crate::FileKeyStore) holds wrapped keys only and is often kept by a
/// service user that an administrator's root shell also opens.
#[cfg(unix)]
fn check_owned(path: &std::path::Path, file: &std::fs::File) -> Result<(), Error> {
    use std::os::unix::fs::MetadataExt;
    let owner = file
        .metadata()
        .map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e.into(),
        })?
        .uid();
    check_owner(path, owner, rustix::process::geteuid().as_raw())
}

/// Refuses a key file owned by `file_uid` when the process runs as
/// `process_uid`: the owner must be that user or root (uid 0), as ssh
/// requires of its keys. Another user could otherwise plant a key (or its
/// replacement) that the process takes for its own.
#[cfg(unix)]
fn check_owner(path: &std::path::Path, file_uid: u32, process_uid: u32) -> Result<(), Error> {
    if file_uid == process_uid || file_uid == 0 {
        return Ok(());
    }
    Err(Error::Store(format!(
        "{} is owned by uid {file_uid}; key files must be owned by this process's user (uid {process_uid}) or root",
        path.display()
    )))
}

/// No owners to check on this platform.
#[cfg(not(unix))]
fn check_owned(_path: &std::path::Path, _file: &std::fs::File) -> Result<(), Error> {
    Ok(())
}

/// No Unix permission bits to check on this platform.
#[cfg(not(unix))]
pub(crate) fn check_private(_path: &std::path::Path, _file: &std::fs::File) -> Result<(), Error> {
    Ok(())
}

impl PartialEq for SecretKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for SecretKey {}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let key = SecretKey::from_bytes([0xAB; 32]);
        let printed = format!("{key:?} {key:#?}");
        assert!(!printed.to_lowercase().contains("ab"), "{printed}");
        assert!(printed.contains("redacted"));
    }

    #[test]
    fn wrong_length_is_a_typed_error() {
        assert!(matches!(
            SecretKey::try_from_slice(&[0; 31]),
            Err(Error::InvalidKeyLength {
                expected: 32,
                actual: 31
            })
        ));
        assert_eq!(
            SecretKey::try_from_slice(&[7; 32]).unwrap(),
            SecretKey::from_bytes([7; 32])
        );
    }

    #[test]
    fn keys_load_from_env_and_private_files() {
        let key = SecretKey::generate().unwrap();
        // Setting a variable needs `unsafe` in edition 2024, which the crate
        // forbids: parse through the same path, and check what env errors say.
        assert_eq!(
            SecretKey::from_base64(key.to_base64().as_str()).unwrap(),
            key
        );
        let missing = SecretKey::from_env("CUSTODIA_TEST_UNSET_VARIABLE").unwrap_err();
        assert!(
            missing
                .to_string()
                .contains("CUSTODIA_TEST_UNSET_VARIABLE is not set")
        );
        let path_value = std::env::var("PATH").unwrap_or_default();
        let not_a_key = SecretKey::from_env("PATH").unwrap_err().to_string();
        assert!(not_a_key.contains("PATH does not hold"), "{not_a_key}");
        assert!(path_value.is_empty() || !not_a_key.contains(&path_value));

        let dir = std::env::temp_dir().join(format!("custodia-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("master.key");
        std::fs::write(&path, format!("{}\n", key.to_base64().as_str())).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let loose = SecretKey::from_file(&path).unwrap_err().to_string();
            assert!(loose.contains("0600"), "{loose}");
            assert!(!loose.contains(key.to_base64().as_str()));
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        assert_eq!(SecretKey::from_file(&path).unwrap(), key);
        std::fs::write(&path, "not a key").unwrap();
        let bad = SecretKey::from_file(&path).unwrap_err().to_string();
        assert!(bad.contains("base64 32-byte key"), "{bad}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Every key file goes through one reader: a file others can read is
    /// refused naming its mode, and what is read comes back in a zeroized
    /// buffer (the type is the test) that a long file cannot make grow.
    #[test]
    fn key_files_are_private_bounded_and_read_into_zeroized_memory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signer.key");
        std::fs::write(&path, "PRIVATE+KEY+example\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let loose = read_key_file(&path).unwrap_err().to_string();
            assert!(
                loose.contains("has mode 644; key files must be 0600 or stricter"),
                "{loose}"
            );
            assert!(!loose.contains("PRIVATE"), "{loose}");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let text: zeroize::Zeroizing<String> = read_key_file(&path).unwrap();
        assert_eq!(text.as_str(), "PRIVATE+KEY+example\n");
        assert_eq!(text.capacity(), MAX_KEY_FILE + 1, "allocated once");

        std::fs::write(&path, vec![b'A'; MAX_KEY_FILE]).unwrap();
        assert_eq!(read_key_file(&path).unwrap().len(), MAX_KEY_FILE);
        std::fs::write(&path, vec![b'A'; MAX_KEY_FILE + 1]).unwrap();
        let long = read_key_file(&path).unwrap_err().to_string();
        assert!(long.contains("not a key file"), "{long}");
        std::fs::write(&path, [0xff, 0xfe]).unwrap();
        let binary = read_key_file(&path).unwrap_err().to_string();
        assert!(binary.contains("not UTF-8"), "{binary}");
        let missing = read_key_file(&dir.path().join("missing")).unwrap_err();
        assert!(matches!(missing, Error::Io { .. }), "{missing}");
    }

    /// The owner rule on its own: the process's user or root, nobody else.
    #[cfg(unix)]
    #[test]
    fn key_file_owner_must_be_the_process_user_or_root() {
        let path = std::path::Path::new("/etc/custodia/master.key");
        assert!(check_owner(path, 1000, 1000).is_ok(), "own file");
        assert!(check_owner(path, 0, 1000).is_ok(), "root's file");
        assert!(check_owner(path, 0, 0).is_ok(), "root reads root's file");
        for (file_uid, process_uid) in [(1001, 1000), (65534, 0), (1000, 0)] {
            let refused = check_owner(path, file_uid, process_uid)
                .unwrap_err()
                .to_string();
            assert!(refused.contains("/etc/custodia/master.key"), "{refused}");
            assert!(
                refused.contains(&format!("owned by uid {file_uid}")),
                "{refused}"
            );
            assert!(
                refused.contains(&format!("(uid {process_uid})")),
                "{refused}"
            );
        }
    }

    /// A real file the current user owns is read.
    #[cfg(unix)]
    #[test]
    fn a_key_file_of_the_current_user_is_read() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("own.key");
        std::fs::write(&path, "OWN\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().uid(),
            rustix::process::geteuid().as_raw()
        );
        assert_eq!(read_key_file(&path).unwrap().as_str(), "OWN\n");
    }

    /// A `0600` key file that another user owns is refused, naming the file
    /// and the owner, never the contents. Only root can give a file away, so
    /// this test runs only as root (as CI does) and returns early, passing,
    /// for anyone else; [`key_file_owner_must_be_the_process_user_or_root`]
    /// covers the rule either way.
    #[cfg(unix)]
    #[test]
    fn a_key_file_planted_by_another_user_is_refused_as_root() {
        if !rustix::process::geteuid().is_root() {
            eprintln!("skipped: only root can chown a file to another user");
            return;
        }
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("planted.key");
        std::fs::write(&path, "PLANTED+KEY\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::chown(&path, Some(65534), None).unwrap();
        let refused = read_key_file(&path).unwrap_err().to_string();
        assert!(refused.contains("owned by uid 65534"), "{refused}");
        assert!(refused.contains("planted.key"), "{refused}");
        assert!(!refused.contains("PLANTED"), "{refused}");
        // Given back to root, the same file reads.
        std::os::unix::fs::chown(&path, Some(0), None).unwrap();
        assert_eq!(read_key_file(&path).unwrap().as_str(), "PLANTED+KEY\n");
    }

    mod key_text {
        use super::*;
        use base64::Engine;
        use base64::engine::general_purpose::{
            STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD,
        };
        use proptest::prelude::*;

        proptest! {
            /// The key-text parser behind `from_env` and `from_file` on
            /// arbitrary text: a 32-byte key or a typed error, never a panic.
            #[test]
            fn arbitrary_text_is_a_key_or_an_error(text in any::<String>()) {
                match SecretKey::from_base64(&text) {
                    Ok(_) | Err(Error::Malformed(_) | Error::InvalidKeyLength { .. }) => {}
                    Err(other) => prop_assert!(false, "{other:?}"),
                }
            }

            /// Every base64 flavour a key may come in reads back the same key.
            #[test]
            fn every_base64_flavour_reads_back(bytes in any::<[u8; 32]>()) {
                let key = SecretKey::from_bytes(bytes);
                for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
                    let text = engine.encode(bytes);
                    prop_assert_eq!(SecretKey::from_base64(&text).unwrap(), key.clone());
                }
            }
        }
    }

    #[test]
    fn generated_keys_differ() {
        assert_ne!(
            SecretKey::generate().unwrap(),
            SecretKey::generate().unwrap()
        );
    }
}
