//! The encrypted, atomically rewritten file key store.

use std::sync::Arc;

use custodia_core::{ActorId, SubjectId, SystemClock, TenantId};
use custodia_crypt::{Error, FieldContext, FileKeyStore, Keyring, SecretKey, SubjectVault};

fn vault(path: &std::path::Path, master: &SecretKey) -> SubjectVault<FileKeyStore> {
    let keyring = Arc::new(Keyring::new(master.clone()));
    SubjectVault::new(
        keyring,
        FileKeyStore::open(path, master).unwrap(),
        Arc::new(SystemClock),
    )
}

#[test]
fn keys_and_tombstones_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("subject-keys.cst");
    let master = SecretKey::from_bytes([3; 32]);
    let tenant = TenantId::from_external_key("test", "acme");
    let alice = SubjectId::from_external_key(tenant, "psa", "alice");
    let bob = SubjectId::from_external_key(tenant, "psa", "bob");
    let ctx = FieldContext::new(tenant, "audit_event", "e-1", "ip").unwrap();

    let first = vault(&path, &master);
    let alices = first.seal(alice, &ctx, b"203.0.113.7").unwrap();
    let bobs = first.seal(bob, &ctx, b"192.0.2.1").unwrap();
    drop(first);

    let second = vault(&path, &master);
    assert_eq!(second.open(&ctx, &alices).unwrap(), b"203.0.113.7");
    let dpo = ActorId::from_external_key(tenant, "psa.user", "dpo");
    second.shred(tenant, alice, dpo).unwrap();
    drop(second);

    let third = vault(&path, &master);
    assert_eq!(
        third.open(&ctx, &alices),
        Err(Error::Shredded { subject: alice })
    );
    assert_eq!(third.open(&ctx, &bobs).unwrap(), b"192.0.2.1");
}

#[test]
fn the_file_is_private_and_opaque() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.cst");
    let master = SecretKey::from_bytes([4; 32]);
    let tenant = TenantId::from_external_key("test", "acme");
    let alice = SubjectId::from_external_key(tenant, "psa", "alice");
    let ctx = FieldContext::new(tenant, "t", "1", "f").unwrap();
    vault(&path, &master).seal(alice, &ctx, b"x").unwrap();

    let bytes = std::fs::read(&path).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains(&alice.to_string()) && !text.contains("wrapped"));
    assert!(!path.with_extension("cst.tmp").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn a_wrong_master_key_or_a_modified_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.cst");
    let master = SecretKey::from_bytes([5; 32]);
    let tenant = TenantId::from_external_key("test", "acme");
    let ctx = FieldContext::new(tenant, "t", "1", "f").unwrap();
    vault(&path, &master)
        .seal(SubjectId::random(), &ctx, b"x")
        .unwrap();

    let wrong = FileKeyStore::open(&path, &SecretKey::from_bytes([6; 32])).unwrap_err();
    assert_eq!(wrong, Error::Decrypt);

    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x80;
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(
        FileKeyStore::open(&path, &master).unwrap_err(),
        Error::Decrypt
    );

    std::fs::write(&path, b"garbage").unwrap();
    assert_eq!(
        FileKeyStore::open(&path, &master).unwrap_err(),
        Error::UnsupportedVersion(b'g')
    );
}

#[cfg(unix)]
#[test]
fn a_readable_key_file_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.cst");
    let master = SecretKey::from_bytes([7; 32]);
    let tenant = TenantId::from_external_key("test", "acme");
    let ctx = FieldContext::new(tenant, "t", "1", "f").unwrap();
    vault(&path, &master)
        .seal(SubjectId::random(), &ctx, b"x")
        .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = FileKeyStore::open(&path, &master).unwrap_err();
    assert!(
        matches!(err, Error::Store(ref m) if m.contains("0600")),
        "{err}"
    );
}

#[test]
fn two_handles_on_one_file_never_write_over_each_others_changes() {
    // As a source program and `custodia dsr` share a key store: each opened
    // the file before the other changed it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.cst");
    let master = SecretKey::from_bytes([6; 32]);
    let tenant = TenantId::from_external_key("test", "acme");
    let alice = SubjectId::from_external_key(tenant, "psa", "alice");
    let bob = SubjectId::from_external_key(tenant, "psa", "bob");
    let ctx = FieldContext::new(tenant, "t", "1", "f").unwrap();
    let alices = vault(&path, &master).seal(alice, &ctx, b"a").unwrap();
    let source = vault(&path, &master);
    let command = vault(&path, &master);
    let bobs = source.seal(bob, &ctx, b"b").unwrap();
    let dpo = ActorId::from_external_key(tenant, "psa.user", "dpo");
    command.shred(tenant, alice, dpo).unwrap();
    // The command's shred kept the source's new key, and a later change by
    // the source does not bring Alice's key back.
    source.seal(bob, &ctx, b"b2").unwrap();
    drop((source, command));
    let after = vault(&path, &master);
    assert_eq!(after.open(&ctx, &bobs).unwrap(), b"b");
    assert_eq!(
        after.open(&ctx, &alices),
        Err(Error::Shredded { subject: alice })
    );
}

/// Every write renames a fresh file into place, so the inode of version N
/// is free again after version N+1, and ext4 hands it to the temporary file
/// of version N+2. When N+2 also has N's length and modification time
/// (kernels before multigrain timestamps give every write in one clock tick
/// the same mtime; pinned here), (length, mtime, inode) cannot tell N+2
/// from N: a store value that last read N must still see a shred made
/// meanwhile by another process, and must not put the shredded key back
/// with its next write. (The file's envelope nonce tells them apart.)
#[test]
fn a_shred_two_writes_back_is_seen_and_never_undone_when_the_inode_is_reused() {
    use custodia_crypt::{KeyStore, ShredReceipt, StoredSubjectKey};
    use std::os::unix::fs::MetadataExt;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.cst");
    let master = SecretKey::from_bytes([9; 32]);
    let tenant = TenantId::from_external_key("test", "acme");
    let alice = SubjectId::from_external_key(tenant, "psa", "alice");
    let bob = SubjectId::from_external_key(tenant, "psa", "bob");
    let carol = SubjectId::from_external_key(tenant, "psa", "carol");

    let setup = FileKeyStore::open(&path, &master).unwrap();
    setup
        .insert_if_absent(tenant, alice, vec![200; 200])
        .unwrap();
    let bob_old = vec![0u8; 400];
    setup
        .insert_if_absent(tenant, bob, bob_old.clone())
        .unwrap();
    drop(setup);

    // Process A reads version N.
    let a = FileKeyStore::open(&path, &master).unwrap();
    let before = std::fs::metadata(&path).unwrap();

    // Process B: shreds Alice (N+1), then re-wraps Bob's key (N+2) with an
    // envelope that brings the file back to N's length.
    let b = FileKeyStore::open(&path, &master).unwrap();
    b.shred(&ShredReceipt {
        tenant,
        subject: alice,
        actor: ActorId::from_external_key(tenant, "psa.user", "dpo"),
        at: custodia_core::chrono::DateTime::UNIX_EPOCH,
        outcome: custodia_crypt::ShredOutcome::Unrecorded,
    })
    .unwrap();
    let shrunk = std::fs::metadata(&path).unwrap().len();
    let grow = usize::try_from(before.len() - shrunk).unwrap();
    assert!(grow <= 2 * bob_old.len());
    let mut bob_new = bob_old.clone();
    for byte in bob_new.iter_mut().take(grow / 2) {
        *byte = 100; // "0" -> "100": two more characters of JSON
    }
    if grow % 2 == 1 {
        bob_new[grow / 2] = 10; // one more
    }
    assert!(b.replace_wrapped(tenant, bob, &bob_old, bob_new).unwrap());
    let after = std::fs::metadata(&path).unwrap();
    assert_eq!(after.len(), before.len(), "lengths were made equal");
    if after.ino() != before.ino() {
        // Not ext4, or it chose another inode: the stamp differs anyway and
        // what follows must hold all the more.
        eprintln!("note: this filesystem did not reuse N's inode for N+2");
    }
    // Same clock tick: what a coarse-timestamp kernel records anyway.
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(before.modified().unwrap())
        .unwrap();

    // A must see the shred, and must not undo it with its next change.
    let a_sees_shred = matches!(
        a.get(tenant, alice).unwrap(),
        Some(StoredSubjectKey::Shredded(_))
    );
    a.insert_if_absent(tenant, carol, vec![1; 8]).unwrap();
    let fresh = FileKeyStore::open(&path, &master).unwrap();
    let still_shredded = matches!(
        fresh.get(tenant, alice).unwrap(),
        Some(StoredSubjectKey::Shredded(_))
    );
    assert!(
        a_sees_shred && still_shredded,
        "A sees the shred: {a_sees_shred}; the file still holds the tombstone after A's write: {still_shredded}"
    );
}

fn receipt_for(tenant: TenantId, subject: SubjectId) -> custodia_crypt::ShredReceipt {
    custodia_crypt::ShredReceipt {
        tenant,
        subject,
        actor: ActorId::from_external_key(tenant, "psa.user", "dpo"),
        at: custodia_core::chrono::DateTime::UNIX_EPOCH,
        outcome: custodia_crypt::ShredOutcome::Unrecorded,
    }
}

/// Process B read the file while Alice's key was in it; process A then
/// shreds her; then the file goes (a careless host's `rm`, a volume
/// re-provisioned, an attacker who can delete but not read it). B must not
/// go on serving Alice's key from memory, nor write its memory back as the
/// new file with her key in it.
#[test]
fn a_vanished_file_is_an_error_not_a_reason_to_write_shredded_keys_back() {
    use custodia_crypt::{KeyStore, StoredSubjectKey};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.cst");
    let master = SecretKey::from_bytes([9; 32]);
    let tenant = TenantId::from_external_key("test", "acme");
    let alice = SubjectId::from_external_key(tenant, "psa", "alice");
    let bob = SubjectId::from_external_key(tenant, "psa", "bob");

    let a = FileKeyStore::open(&path, &master).unwrap();
    a.insert_if_absent(tenant, alice, vec![1; 8]).unwrap();
    let b = FileKeyStore::open(&path, &master).unwrap();
    assert!(matches!(
        b.get(tenant, alice).unwrap(),
        Some(StoredSubjectKey::Wrapped { .. })
    ));
    a.shred(&receipt_for(tenant, alice)).unwrap();
    std::fs::remove_file(&path).unwrap();

    let read = b.get(tenant, alice);
    assert!(
        matches!(&read, Err(Error::Store(m)) if m.contains("vanished")),
        "{read:?}"
    );
    let write = b.insert_if_absent(tenant, bob, vec![2; 8]);
    assert!(
        matches!(&write, Err(Error::Store(m)) if m.contains("vanished")),
        "{write:?}"
    );
    assert!(
        !path.exists(),
        "B wrote its memory, Alice's key with it, back to disk"
    );

    // A new store value (a restarted process) starts afresh.
    let fresh = FileKeyStore::open(&path, &master).unwrap();
    assert_eq!(fresh.get(tenant, alice).unwrap(), None);
}

/// A copy of the file taken before a shred is put back over it (a restored
/// backup, a config-management run). Store values that saw the tombstone
/// must not take the shredded key back from the older file: a shredded key
/// never comes back in a process that knew it was gone.
#[test]
fn a_file_rolled_back_past_a_shred_is_refused_by_those_that_saw_it() {
    use custodia_crypt::{KeyStore, StoredSubjectKey};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.cst");
    let old_copy = dir.path().join("keys.cst.bak");
    let master = SecretKey::from_bytes([9; 32]);
    let tenant = TenantId::from_external_key("test", "acme");
    let alice = SubjectId::from_external_key(tenant, "psa", "alice");
    let bob = SubjectId::from_external_key(tenant, "psa", "bob");

    let a = FileKeyStore::open(&path, &master).unwrap();
    a.insert_if_absent(tenant, alice, vec![1; 8]).unwrap();
    std::fs::copy(&path, &old_copy).unwrap();
    a.shred(&receipt_for(tenant, alice)).unwrap();
    let b = FileKeyStore::open(&path, &master).unwrap();
    assert!(matches!(
        b.get(tenant, alice).unwrap(),
        Some(StoredSubjectKey::Shredded(_))
    ));
    std::fs::copy(&old_copy, &path).unwrap();

    for store in [&a, &b] {
        let read = store.get(tenant, alice);
        assert!(
            matches!(&read, Err(Error::Store(m)) if m.contains("tombstone")),
            "{read:?}"
        );
        let write = store.insert_if_absent(tenant, bob, vec![2; 8]);
        assert!(
            matches!(&write, Err(Error::Store(m)) if m.contains("tombstone")),
            "{write:?}"
        );
    }
}

/// The same roll-back for a nonce count: a count that went down would let
/// the keys' processes reserve, and seal under random nonces, past the
/// budget that keeps GCM's collision chance negligible. Store values that
/// saw the higher count refuse the older file.
#[test]
fn a_file_rolled_back_past_a_nonce_reservation_is_refused_by_those_that_saw_it() {
    use custodia_crypt::KeyStore;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.cst");
    let old_copy = dir.path().join("keys.cst.bak");
    let master = SecretKey::from_bytes([9; 32]);
    let tenant = TenantId::from_external_key("test", "acme");

    let a = FileKeyStore::open(&path, &master).unwrap();
    assert!(a.replace_nonces_reserved(tenant, 1, 0, 100).unwrap());
    std::fs::copy(&path, &old_copy).unwrap();
    assert!(a.replace_nonces_reserved(tenant, 1, 100, 200).unwrap());
    let b = FileKeyStore::open(&path, &master).unwrap();
    assert_eq!(b.nonces_reserved(tenant, 1).unwrap(), 200);
    std::fs::copy(&old_copy, &path).unwrap();

    for store in [&a, &b] {
        let read = store.nonces_reserved(tenant, 1);
        assert!(
            matches!(&read, Err(Error::Store(m)) if m.contains("nonce count")),
            "{read:?}"
        );
        let write = store.replace_nonces_reserved(tenant, 1, 100, 300);
        assert!(
            matches!(&write, Err(Error::Store(m)) if m.contains("nonce count")),
            "{write:?}"
        );
    }
    // A count that only grew, or one first seen, is fine.
    assert!(FileKeyStore::open(&path, &master).is_ok());
}
