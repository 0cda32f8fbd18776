//! The SQLite store (feature `sqlite`): same log, same proofs, tampering caught.
#![cfg(feature = "sqlite")]

use custodia_audit::store::SqliteStore;
use custodia_audit::{
    Action, Actor, ActorKind, AuditLog, Checkpoint, Durability, Error, Event, EventId, MemoryStore,
    Target, verify,
};
use custodia_core::chrono::{TimeZone, Utc};
use custodia_core::{ActorId, ManualClock, TenantId};

fn event(i: u32) -> Event {
    let tenant = TenantId::from_external_key("crm", "ACME");
    Event::builder(
        tenant,
        Actor::new(
            ActorKind::System,
            ActorId::from_external_key(tenant, "job", "sweep"),
        ),
        Action::Delete,
        Target::new("ticket", format!("T-{i}")).unwrap(),
    )
    .id(EventId::from_uuid(custodia_core::uuid::Uuid::from_u128(
        u128::from(i) + 1,
    )))
    .build(&ManualClock::new(
        Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap(),
    ))
    .unwrap()
}

fn fill(path: &std::path::Path, n: u32) -> custodia_audit::TreeHead {
    let mut log =
        AuditLog::open(SqliteStore::open(path, Durability::Group { records: 100 }).unwrap())
            .unwrap();
    let batch: Vec<Event> = (0..n).map(event).collect();
    log.append_batch(&batch).unwrap();
    log.head()
}

#[test]
fn same_tree_as_memory_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let head = fill(&path, 2500);
    let mut memory = AuditLog::open(MemoryStore::new()).unwrap();
    for i in 0..2500 {
        memory.append(&event(i)).unwrap();
    }
    assert_eq!(head, memory.head());
    let mut log =
        AuditLog::open(SqliteStore::open(&path, Durability::EveryAppend).unwrap()).unwrap();
    assert_eq!(log.head(), head);
    assert_eq!(log.get(1234).unwrap(), event(1234));
    log.append(&event(2500)).unwrap();
    log.prove(2500).unwrap().verify().unwrap();
    let reopened = SqliteStore::open(&path, Durability::Never).unwrap();
    assert_eq!(verify(reopened, None).unwrap().head.size, 2501);
}

fn sql(path: &std::path::Path, statement: &str) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(statement).unwrap();
}

#[test]
fn a_changed_payload_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    fill(&path, 50);
    sql(
        &path,
        "UPDATE audit_records SET payload = CAST(REPLACE(CAST(payload AS TEXT), 'T-7', 'T-9') AS BLOB) WHERE idx = 7",
    );
    let err = verify(SqliteStore::open(&path, Durability::Never).unwrap(), None).unwrap_err();
    assert!(
        matches!(err, Error::Tampered { index: Some(7), .. }),
        "{err}"
    );
}

#[test]
fn a_deleted_row_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    fill(&path, 50);
    sql(&path, "DELETE FROM audit_records WHERE idx = 20");
    let err = verify(SqliteStore::open(&path, Durability::Never).unwrap(), None).unwrap_err();
    assert!(
        err.to_string()
            .contains("expected record 20, found record 21"),
        "{err}"
    );
}

#[test]
fn rows_deleted_from_the_end_are_caught_by_anchors_or_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let head = fill(&path, 2100);
    sql(&path, "DELETE FROM audit_records WHERE idx >= 1500");
    let err = verify(SqliteStore::open(&path, Durability::Never).unwrap(), None).unwrap_err();
    assert!(err.to_string().contains("removed from the end"), "{err}");
    sql(
        &path,
        "DELETE FROM audit_records WHERE idx >= 1000; DELETE FROM audit_anchors WHERE size > 1000",
    );
    let checkpoint = Checkpoint::new("audit.test", head);
    let err = verify(
        SqliteStore::open(&path, Durability::Never).unwrap(),
        Some(("audit.test", &checkpoint)),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Truncated {
                trusted: 2100,
                found: 1000
            }
        ),
        "{err}"
    );
}

#[test]
fn a_forged_row_is_caught_by_a_later_anchor() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    fill(&path, 2100);
    // Swap two rows' payloads and fix up the checksums as a forger would.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let get = |i: i64| -> Vec<u8> {
        conn.query_row(
            "SELECT payload FROM audit_records WHERE idx = ?1",
            [i],
            |r| r.get(0),
        )
        .unwrap()
    };
    let (a, b) = (get(3), get(4));
    let crc = |i: u64, p: &[u8]| {
        let mut h = crc32fast::Hasher::new();
        h.update(&i.to_be_bytes());
        h.update(p);
        i64::from(h.finalize())
    };
    conn.execute(
        "UPDATE audit_records SET payload = ?1, crc = ?2 WHERE idx = 3",
        rusqlite::params![b, crc(3, &b)],
    )
    .unwrap();
    conn.execute(
        "UPDATE audit_records SET payload = ?1, crc = ?2 WHERE idx = 4",
        rusqlite::params![a, crc(4, &a)],
    )
    .unwrap();
    drop(conn);
    let err = verify(SqliteStore::open(&path, Durability::Never).unwrap(), None).unwrap_err();
    assert!(err.to_string().contains("anchor"), "{err}");
}

#[test]
fn a_second_writer_catches_up_instead_of_forking() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    fill(&path, 10);
    let mut a = AuditLog::open(SqliteStore::open(&path, Durability::Never).unwrap()).unwrap();
    let mut b = AuditLog::open(SqliteStore::open(&path, Durability::Never).unwrap()).unwrap();
    a.append(&event(10)).unwrap();
    a.append(&event(11)).unwrap();
    // b still thinks the log holds 10 records: it catches up, then appends.
    assert_eq!(b.append(&event(12)).unwrap(), 12);
    assert_eq!(b.len(), 13);
    assert_eq!(b.get(11).unwrap(), event(11));
    let head = verify(SqliteStore::open(&path, Durability::Never).unwrap(), None)
        .unwrap()
        .head;
    assert_eq!(head, b.head());
    assert_eq!(a.catch_up().unwrap(), 1);
    assert_eq!(a.head(), head);
}

#[test]
fn catching_up_a_record_swapped_under_a_later_anchor_fails_as_open_does() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    fill(&path, 1000);
    let mut a = AuditLog::open(SqliteStore::open(&path, Durability::Never).unwrap()).unwrap();
    let mut b = AuditLog::open(SqliteStore::open(&path, Durability::Never).unwrap()).unwrap();
    // b's records cross index 1024, where the store anchors the root so far.
    let batch: Vec<Event> = (1000..1030).map(event).collect();
    b.append_batch(&batch).unwrap();
    // A forger swaps two of b's records (checksums fixed up).
    let conn = rusqlite::Connection::open(&path).unwrap();
    let get = |i: i64| -> Vec<u8> {
        conn.query_row(
            "SELECT payload FROM audit_records WHERE idx = ?1",
            [i],
            |r| r.get(0),
        )
        .unwrap()
    };
    let crc = |i: u64, p: &[u8]| {
        let mut h = crc32fast::Hasher::new();
        h.update(&i.to_be_bytes());
        h.update(p);
        i64::from(h.finalize())
    };
    let (x, y) = (get(1010), get(1011));
    for (i, p) in [(1010_u64, &y), (1011, &x)] {
        conn.execute(
            "UPDATE audit_records SET payload = ?1, crc = ?2 WHERE idx = ?3",
            rusqlite::params![p, crc(i, p), i as i64],
        )
        .unwrap();
    }
    drop(conn);
    let opened = verify(SqliteStore::open(&path, Durability::Never).unwrap(), None).unwrap_err();
    assert!(matches!(opened, Error::Tampered { .. }), "{opened}");

    // a loses the race, reads b's records and checks the anchor over them.
    let appended = a.append(&event(2000)).unwrap_err();
    assert_eq!(appended.to_string(), opened.to_string());
    assert_eq!(a.len(), 1000);
    assert_eq!(a.catch_up().unwrap_err().to_string(), opened.to_string());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let rows: i64 = conn
        .query_row("SELECT COUNT(*) FROM audit_records", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 1030, "nothing appended after the swapped records");
}
