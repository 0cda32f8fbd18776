//! The PostgreSQL store (feature `postgres`) against the local server that
//! `scripts/test` starts: `CUSTODIA_PG_ADMIN_URL` (a superuser) and
//! `CUSTODIA_PG_APP_URL` (the non-owner application role `custodia_app`).
#![cfg(feature = "postgres")]

use std::process::Command;

use custodia_audit::store::PostgresStore;
use custodia_audit::{
    Action, Actor, ActorKind, AuditLog, AuditStore, Error, Event, MemoryStore, Query, Target,
};
use custodia_core::{ActorId, SystemClock, TenantId};

const WRITERS: u32 = 4;
const PER_WRITER: u32 = 40;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the PostgreSQL tests through scripts/test, which starts the server and exports it")
    })
}

fn admin() -> postgres::Client {
    postgres::Client::connect(&env("CUSTODIA_PG_ADMIN_URL"), postgres::NoTls).unwrap()
}

/// A fresh log name, with the schema in place and the app role granted.
fn fresh_log(prefix: &str) -> String {
    let mut client = admin();
    PostgresStore::migrate(&mut client).unwrap();
    PostgresStore::grant(&mut client, "custodia_app").unwrap();
    format!("{prefix}-{}", custodia_core::uuid::Uuid::new_v4())
}

fn event(writer: u32, n: u32) -> Event {
    let tenant = TenantId::from_external_key("crm", "ACME");
    Event::builder(
        tenant,
        Actor::new(
            ActorKind::System,
            ActorId::from_external_key(tenant, "writer", &writer.to_string()),
        ),
        Action::Create,
        Target::new(format!("writer-{writer}"), n.to_string()).unwrap(),
    )
    .build(&SystemClock)
    .unwrap()
}

/// Run by `concurrent_writer_processes_keep_one_gap_free_log` in child processes.
#[test]
#[ignore = "a child process of the concurrent-writer test"]
fn child_writer() {
    let (Ok(log), Ok(writer)) = (
        std::env::var("AUDIT_PG_LOG"),
        std::env::var("AUDIT_PG_WRITER"),
    ) else {
        return;
    };
    let writer: u32 = writer.parse().unwrap();
    let store = PostgresStore::connect(&env("CUSTODIA_PG_APP_URL"), &log).unwrap();
    let mut audit = AuditLog::open(store).unwrap();
    for n in 0..PER_WRITER {
        audit.append(&event(writer, n)).unwrap();
    }
}

#[test]
fn concurrent_writer_processes_keep_one_gap_free_log() {
    let log = fresh_log("concurrent");
    let children: Vec<_> = (0..WRITERS)
        .map(|writer| {
            Command::new(std::env::current_exe().unwrap())
                .args(["--ignored", "--exact", "child_writer", "--test-threads=1"])
                .env("AUDIT_PG_LOG", &log)
                .env("AUDIT_PG_WRITER", writer.to_string())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "a writer process failed: {}\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    // Opening verifies: no gaps, checksums, and every head a writer recorded.
    let store = PostgresStore::connect(&env("CUSTODIA_PG_APP_URL"), &log).unwrap();
    let audit = AuditLog::open(store).unwrap();
    assert_eq!(audit.len(), u64::from(WRITERS * PER_WRITER));
    let mut heads = 0;
    for anchor in audit.store().anchors().unwrap() {
        assert_eq!(
            audit.tree().root_at(anchor.head.size).unwrap(),
            anchor.head.root
        );
        heads += 1;
    }
    assert_eq!(heads, WRITERS * PER_WRITER, "one recorded head per append");
    // Every writer's events are there once, in the writer's order.
    for writer in 0..WRITERS {
        let found: Vec<String> = audit
            .query(&Query::new().target(format!("writer-{writer}"), None))
            .unwrap()
            .into_iter()
            .map(|(_, e)| e.target.id)
            .collect();
        let want: Vec<String> = (0..PER_WRITER).map(|n| n.to_string()).collect();
        assert_eq!(found, want, "writer {writer}");
    }
    // The same records in memory give the same tree.
    let mut copy = AuditLog::open(MemoryStore::new()).unwrap();
    for i in 0..audit.len() {
        copy.append(&audit.get(i).unwrap()).unwrap();
    }
    assert_eq!(copy.head(), audit.head());
}

#[test]
fn the_application_role_can_only_append() {
    let log = fresh_log("append-only");
    let mut audit =
        AuditLog::open(PostgresStore::connect(&env("CUSTODIA_PG_APP_URL"), &log).unwrap()).unwrap();
    audit.append(&event(0, 0)).unwrap();
    let mut app = postgres::Client::connect(&env("CUSTODIA_PG_APP_URL"), postgres::NoTls).unwrap();
    for statement in [
        "UPDATE custodia_audit_records SET payload = '\\x00' WHERE log = $1",
        "DELETE FROM custodia_audit_records WHERE log = $1",
        "DELETE FROM custodia_audit_heads WHERE log = $1",
    ] {
        let err = app.execute(statement, &[&log]).unwrap_err();
        let code = err.as_db_error().map(|db| db.code().code().to_owned());
        assert_eq!(code.as_deref(), Some("42501"), "{statement}: {err:?}"); // insufficient_privilege
    }
}

#[test]
fn tampering_by_the_database_owner_is_detected() {
    let log = fresh_log("tamper");
    let mut audit =
        AuditLog::open(PostgresStore::connect(&env("CUSTODIA_PG_APP_URL"), &log).unwrap()).unwrap();
    for n in 0..10 {
        audit.append(&event(0, n)).unwrap();
    }
    let mut owner = admin();
    owner
        .execute(
            "DELETE FROM custodia_audit_records WHERE log = $1 AND idx = 4",
            &[&log],
        )
        .unwrap();
    let err = AuditLog::open(PostgresStore::connect(&env("CUSTODIA_PG_APP_URL"), &log).unwrap())
        .unwrap_err();
    assert!(
        matches!(err, Error::Tampered { index: Some(4), .. }),
        "{err}"
    );
    // Deleting from the end is caught by the heads the writers recorded.
    owner
        .execute(
            "DELETE FROM custodia_audit_records WHERE log = $1 AND idx >= 4",
            &[&log],
        )
        .unwrap();
    let err = AuditLog::open(PostgresStore::connect(&env("CUSTODIA_PG_APP_URL"), &log).unwrap())
        .unwrap_err();
    assert!(err.to_string().contains("removed from the end"), "{err}");
}

// A sync `AuditLog` that loses an append race to another writer reads that
// writer's records into its tree and checks them as `AuditLog::open` does:
// each record a canonical event, and every tree head the other writers
// recorded over them. A record another writer appended and the database
// owner then replaced (a valid event, checksum recomputed) is refused with
// the tampering error `open` reports, and nothing is recorded over it.
mod catch_up {
    use custodia_audit::store::row::RecordRow;
    use custodia_audit::{AuditLog, Error, canonical};

    use super::*;

    fn owner() -> postgres::Client {
        let mut owner =
            postgres::Client::connect(&env("CUSTODIA_PG_ADMIN_URL"), postgres::NoTls).unwrap();
        PostgresStore::migrate(&mut owner).unwrap();
        PostgresStore::grant(&mut owner, "custodia_app").unwrap();
        owner
    }

    fn open(log: &str) -> Result<AuditLog<PostgresStore>, Error> {
        AuditLog::open(PostgresStore::connect(&env("CUSTODIA_PG_APP_URL"), log).unwrap())
    }

    /// How many records and recorded heads log `log` has.
    fn rows(owner: &mut postgres::Client, log: &str) -> (i64, i64) {
        let row = owner
            .query_one(
                "SELECT (SELECT COUNT(*) FROM custodia_audit_records WHERE log = $1),
                        (SELECT COUNT(*) FROM custodia_audit_heads WHERE log = $1)",
                &[&log],
            )
            .unwrap();
        (row.get(0), row.get(1))
    }

    #[test]
    fn an_append_that_catches_up_a_replaced_record_fails_as_open_does_and_records_nothing() {
        let mut owner = owner();
        let log = format!("catch-up-forged-{}", custodia_core::uuid::Uuid::new_v4());

        let mut a = open(&log).unwrap();
        let mut b = open(&log).unwrap();
        b.append(&event(1, 0)).unwrap();

        // The owner swaps writer B's record for another valid event.
        let forged = canonical::encode(&event(9, 9));
        owner
            .execute(
                "UPDATE custodia_audit_records SET payload = $2, crc = $3 WHERE log = $1 AND idx = 0",
                &[&log, &forged, &RecordRow::checksum(0, &forged)],
            )
            .unwrap();

        // A fresh open sees it: B's recorded head no longer matches.
        let opened = open(&log).unwrap_err();
        assert!(matches!(opened, Error::Tampered { .. }), "{opened:?}");

        // Writer A, open since before, loses the race and catches up: refused
        // with the error `open` gives, and again on a retry.
        for attempt in 0..2 {
            let appended = a.append(&event(0, attempt)).unwrap_err();
            assert!(matches!(appended, Error::Tampered { .. }), "{appended:?}");
            assert_eq!(appended.to_string(), opened.to_string());
            assert_eq!(a.len(), 0, "the replaced record stays out of A's tree");
        }
        let caught = a.catch_up().unwrap_err();
        assert_eq!(caught.to_string(), opened.to_string());
        assert_eq!(rows(&mut owner, &log), (1, 1), "nothing recorded over it");
    }

    #[test]
    fn a_lost_race_catches_up_the_other_writers_records_and_appends() {
        let mut owner = owner();
        let log = format!("catch-up-race-{}", custodia_core::uuid::Uuid::new_v4());

        let mut a = open(&log).unwrap();
        a.append(&event(0, 0)).unwrap();
        let mut b = open(&log).unwrap();
        b.append(&event(1, 0)).unwrap();
        b.append_batch(&[event(1, 1), event(1, 2)]).unwrap();

        // A loses the race, catches up B's three records (and their heads), then
        // appends after them; then B does the same with A's.
        assert_eq!(a.append(&event(0, 1)).unwrap(), 4);
        assert_eq!(b.append(&event(1, 3)).unwrap(), 5);
        assert_eq!(a.catch_up().unwrap(), 1);
        assert_eq!(a.head(), b.head());
        assert_eq!(rows(&mut owner, &log), (6, 5));

        let fresh = open(&log).unwrap();
        assert_eq!(fresh.head(), a.head());
        assert_eq!(a.get(2).unwrap(), event_at(&fresh, 2));
    }

    fn event_at(log: &AuditLog<PostgresStore>, index: u64) -> Event {
        log.get(index).unwrap()
    }
}
