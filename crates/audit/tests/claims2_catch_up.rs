//! wt-claims2: `AuditLog::append_encoded` says that on a shared store a lost
//! race is handled by reading "the other writers' records into its tree
//! (checking them as [`AuditLog::open`] does)", and `AsyncAuditLog` says its
//! `catch_up` checks "every tree head any writer recorded". The sync
//! `AuditLog::catch_up` checks only that each record decodes: it never
//! compares the heads other writers recorded. A record another writer
//! appended and the database owner then replaced (a valid event, checksum
//! recomputed) is taken into the tree by the next append, which succeeds
//! and records a head over the replaced record; only a later `open` sees it.
#![cfg(feature = "postgres")]

use custodia_audit::store::PostgresStore;
use custodia_audit::store::row::RecordRow;
use custodia_audit::{Action, Actor, ActorKind, AuditLog, Event, Target, canonical};
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

#[test]
fn catching_up_checks_the_heads_other_writers_recorded() {
    let mut owner = postgres::Client::connect(&env("CUSTODIA_PG_ADMIN_URL"), postgres::NoTls).unwrap();
    PostgresStore::migrate(&mut owner).unwrap();
    PostgresStore::grant(&mut owner, "custodia_app").unwrap();
    let log = format!("claims2-{}", custodia_core::uuid::Uuid::new_v4());
    let open = || AuditLog::open(PostgresStore::connect(&env("CUSTODIA_PG_APP_URL"), &log).unwrap());

    let mut a = open().unwrap();
    let mut b = open().unwrap();
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
    assert!(open().is_err(), "open detects the replaced record");

    // Writer A, open since before, loses the race and catches up.
    let appended = a.append(&event(0, 0));
    assert!(
        appended.is_err(),
        "A's catch-up took the replaced record into its tree without checking B's head: append returned {appended:?}"
    );
}
