//! A sync `AuditLog` that loses an append race to another writer reads that
//! writer's records into its tree and checks them as `AuditLog::open` does:
//! each record a canonical event, and every tree head the other writers
//! recorded over them. A record another writer appended and the database
//! owner then replaced (a valid event, checksum recomputed) is refused with
//! the tampering error `open` reports, and nothing is recorded over it.
#![cfg(feature = "postgres")]

use custodia_audit::store::PostgresStore;
use custodia_audit::store::row::RecordRow;
use custodia_audit::{Action, Actor, ActorKind, AuditLog, Error, Event, Target, canonical};
use custodia_core::{ActorId, SystemClock, TenantId};

fn env(name: &str) -> String {
    std::env::var(name).expect("run under scripts/postgres")
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
