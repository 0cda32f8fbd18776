//! The helpdesk flow on PostgreSQL (`--database URL`): the same nine steps
//! with the same outcomes as on SQLite, its tickets under row-level
//! security, its audit log verifiable from the database alone.
//!
//! Needs `CUSTODIA_PG_ADMIN_URL` (the tables' owner) and
//! `CUSTODIA_PG_APP_URL` (the application role), which `scripts/postgres`
//! exports: `scripts/postgres cargo test -p custodia-example-helpdesk --test
//! postgres`. Without them the test fails, never skips.

use std::sync::{Mutex, MutexGuard, PoisonError};

use custodia_core::{Purpose, SubjectId};
use custodia_dsr::RequestKind;
use custodia_example_helpdesk::audit::{AuditLog, PostgresStore};
use custodia_example_helpdesk::demo::{self, Cast};
use custodia_example_helpdesk::flow::{self, Report};
use custodia_example_helpdesk::store::{CONTACT_LOCK, Processing, contact_lock_key};
use custodia_example_helpdesk::{Database, Helpdesk, NewTicket, PG_AUDIT_LOG, PG_SCHEMA};
use custodia_tenant::pg::TenantTransaction;

mod common;

use common::{clock, new_ticket, run_request};

/// Every test here recreates schema [`PG_SCHEMA`]: one at a time.
static SCHEMA: Mutex<()> = Mutex::new(());

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run `scripts/postgres cargo test -p custodia-example-helpdesk --test postgres`, which starts a server and exports it"
        )
    })
}

/// A connection to `url` in the helpdesk's schema.
fn connect(url: &str) -> postgres::Client {
    let mut config: postgres::Config = url.parse().unwrap();
    config.options(&format!("-c search_path={PG_SCHEMA}"));
    config.connect(postgres::NoTls).unwrap()
}

/// What must come out the same whichever database holds the data.
fn outcome(r: &Report) -> Vec<String> {
    let mut facts: Vec<String> = r
        .steps
        .iter()
        .filter(|s| s.number != 2)
        .map(|s| format!("step {} {}", s.number, s.title))
        .collect();
    facts.extend([
        format!("lookup {:?} -> {:?}", r.lookup_found, r.lookup_decrypted),
        format!("swept {:?}", r.sweep_deleted),
        format!(
            "erased {} kept {} located after {}",
            r.certificate.erased.len(),
            r.certificate.kept.len(),
            r.located_after_erasure
        ),
        format!(
            "backup after erasure unreadable {}",
            r.backup_after_erasure.is_err()
        ),
        format!(
            "other contact after erasure {:?}",
            r.other_contact_after_erasure
        ),
        format!(
            "login ip {:?} then {:?}",
            r.login_ip_in_export, r.login_ip_after_erasure
        ),
        format!("log after erasure {:?}", r.log_after_erasure),
        format!("checkpoint after erasure {:?}", r.checkpoint_after_erasure),
        format!("audit events {}", r.audit.len()),
    ]);
    facts
}

#[test]
fn the_flow_on_postgres_matches_sqlite_with_tenant_rows_under_rls() {
    let _schema = SCHEMA.lock().unwrap_or_else(PoisonError::into_inner);
    let (app, owner) = (env("CUSTODIA_PG_APP_URL"), env("CUSTODIA_PG_ADMIN_URL"));
    let files = tempfile::tempdir().unwrap();
    let on_files = flow::run(files.path()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let database = Database::Postgres {
        app: app.clone(),
        owner: owner.clone(),
    };
    let on_postgres = flow::run_on(dir.path(), &database).unwrap();

    assert_eq!(outcome(&on_postgres), outcome(&on_files));
    assert!(on_postgres.to_string().contains("verified end to end"));
    assert!(!on_postgres.to_string().contains("FAILED"));
    assert!(!dir.path().join("helpdesk.db").exists());
    assert!(!dir.path().join("audit").exists());

    // The application role sees no ticket unbound, and only its tenant's
    // bound; the owner sees them all (T-1003 was swept).
    let cast = Cast::new();
    let mut client = connect(&app);
    let count = "SELECT count(*) FROM tickets";
    let unbound: i64 = client.query_one(count, &[]).unwrap().get(0);
    assert_eq!(unbound, 0);
    let mut per_tenant = 0;
    for tenant in [cast.acme, cast.globex] {
        let mut tx = TenantTransaction::begin(&mut client, tenant).unwrap();
        let tenants: Vec<custodia_core::uuid::Uuid> = tx
            .query("SELECT tenant_id FROM tickets", &[])
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect();
        assert!(!tenants.is_empty());
        assert!(tenants.iter().all(|t| t == tenant.as_uuid()));
        per_tenant += tenants.len() as i64;
        tx.commit().unwrap();
    }
    let all: i64 = connect(&owner).query_one(count, &[]).unwrap().get(0);
    assert_eq!((per_tenant, all), (5, 5));

    // The audit log is in the database, whole and verifiable by anyone.
    let log =
        AuditLog::open(PostgresStore::with_client(connect(&app), PG_AUDIT_LOG).unwrap()).unwrap();
    assert_eq!(log.len(), on_postgres.audit.len() as u64);
    let events: Vec<_> = log
        .query(&custodia_example_helpdesk::audit::Query::new())
        .unwrap()
        .into_iter()
        .map(|(_, event)| event)
        .collect();
    assert_eq!(events, on_postgres.audit);
}

/// What a ticket stored for someone of no cast is sent from.
const SOMEONE: &str = "someone@example.com";

/// A helpdesk in a fresh [`PG_SCHEMA`] with the demo's tickets, the
/// schema held for this test alone.
struct Seeded {
    hd: Helpdesk,
    /// The application role's connection string.
    app: String,
    /// The tables' owner's.
    owner: String,
    _dir: tempfile::TempDir,
    _schema: MutexGuard<'static, ()>,
}

impl Seeded {
    fn new() -> Self {
        let schema = SCHEMA.lock().unwrap_or_else(PoisonError::into_inner);
        let (app, owner) = (env("CUSTODIA_PG_APP_URL"), env("CUSTODIA_PG_ADMIN_URL"));
        let dir = tempfile::tempdir().unwrap();
        let database = Database::Postgres {
            app: app.clone(),
            owner: owner.clone(),
        };
        let hd = Helpdesk::create_on(dir.path(), clock(), &database).unwrap();
        demo::insert_tickets(&hd, &demo::tickets(&Cast::new())).unwrap();
        Self {
            hd,
            app,
            owner,
            _dir: dir,
            _schema: schema,
        }
    }
}

/// Stores `ticket` while a restriction of `subject` of ACME is landing:
/// another transaction of the application role holds the contact's lock
/// and has run `landing` (`$1` the tenant, `$2` the contact id), not yet
/// committed. Commits it once the insert waits for the lock (or, if it
/// took none, is done), and returns what the insert stored.
fn store_while_landing(
    pg: &Seeded,
    subject: SubjectId,
    landing: &str,
    ticket: &NewTicket<'_>,
) -> Processing {
    let c = Cast::new();
    let mut desk = connect(&pg.app);
    let mut restricting = TenantTransaction::begin(&mut desk, c.acme).unwrap();
    restricting
        .execute(CONTACT_LOCK, &[&contact_lock_key(c.acme, subject)])
        .unwrap();
    restricting
        .execute(landing, &[c.acme.as_uuid(), &subject.to_string()])
        .unwrap();
    let mut watcher = connect(&pg.owner);
    std::thread::scope(|scope| {
        let storing = scope.spawn(|| pg.hd.tickets().insert(ticket).unwrap());
        while !storing.is_finished() {
            let waiting: i64 = watcher
                .query_one(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted \
                     AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                    &[],
                )
                .unwrap()
                .get(0);
            if waiting > 0 {
                break;
            }
            std::thread::yield_now();
        }
        restricting.commit().unwrap();
        storing.join().unwrap()
    })
}

/// Found in review: a ticket stored for a contact while their restriction
/// stood (or while it was landing) was stored active. Now, on PostgreSQL:
/// Alice's new ticket after her restriction is restricted, Bob's is not,
/// the lift frees hers; and one stored while her restriction is landing
/// (another transaction holding her lock, her tickets restricted but not
/// yet committed) waits for it and is stored restricted, not active.
#[test]
fn a_ticket_stored_for_a_restricted_contact_on_postgres_is_restricted() {
    let pg = Seeded::new();
    let hd = &pg.hd;
    let c = Cast::new();
    let tickets = hd.tickets();
    let new = |id, subject| new_ticket(id, subject, SOMEONE);

    run_request(hd, c.alice, RequestKind::Restriction { lift: false });
    let stored = tickets.insert(&new("T-3001", c.alice)).unwrap();
    assert!(stored.restricted && !stored.allows(&Purpose::SUPPORT));
    assert!(tickets.find_by_email(c.acme, SOMEONE).unwrap().is_empty());
    assert!(!tickets.insert(&new("T-3002", c.bob)).unwrap().restricted);
    run_request(hd, c.alice, RequestKind::Restriction { lift: true });
    assert!(
        !tickets
            .row("T-3001")
            .unwrap()
            .unwrap()
            .processing
            .restricted
    );

    // Her restriction landing: its transaction holds her lock and has
    // restricted her tickets, not yet committed.
    let stored = store_while_landing(
        &pg,
        c.alice,
        "UPDATE tickets SET processing = 'restricted' WHERE tenant_id = $1 AND subject_id = $2",
        &new("T-3003", c.alice),
    );
    assert!(
        stored.restricted,
        "stored {stored:?} past a landing restriction"
    );
    assert!(
        tickets
            .row("T-3003")
            .unwrap()
            .unwrap()
            .processing
            .restricted
    );
}

/// Found in review: a contact restricted with no ticket got an active first
/// ticket, and an objection did not reach a new ticket. Now, on
/// PostgreSQL: Carol's restriction is kept in the contact register (under
/// row-level security: the application role sees no row unbound), her
/// first ticket is stored restricted and freed by the lift; Bob's
/// objection to AI use reaches his new ticket; Alice is unaffected; an
/// erasure removes the row; and a ticket stored while Carol's restriction
/// is landing (its transaction holding her lock, her register row written
/// but not committed) waits for it and is stored restricted.
#[test]
fn the_contact_register_on_postgres_covers_new_tickets_and_goes_with_an_erasure() {
    let pg = Seeded::new();
    let hd = &pg.hd;
    let c = Cast::new();
    let tickets = hd.tickets();
    let new = |id, subject| new_ticket(id, subject, SOMEONE);
    let carol = SubjectId::from_external_key(c.acme, "psa.contact", "2001");

    run_request(hd, carol, RequestKind::Restriction { lift: false });
    let register = "SELECT count(*) FROM contact_processing";
    let unbound: i64 = connect(&pg.app).query_one(register, &[]).unwrap().get(0);
    let all: i64 = connect(&pg.owner).query_one(register, &[]).unwrap().get(0);
    assert_eq!((unbound, all), (0, 1));
    assert!(
        tickets
            .contact_processing(c.acme, carol)
            .unwrap()
            .unwrap()
            .restricted
    );
    let first = tickets.insert(&new("T-3001", carol)).unwrap();
    assert!(first.restricted && !first.allows(&Purpose::SUPPORT));
    assert!(!tickets.insert(&new("T-3002", c.alice)).unwrap().restricted);
    run_request(hd, carol, RequestKind::Restriction { lift: true });
    assert_eq!(tickets.contact_processing(c.acme, carol).unwrap(), None);
    assert!(
        !tickets
            .row("T-3001")
            .unwrap()
            .unwrap()
            .processing
            .restricted
    );

    run_request(
        hd,
        c.bob,
        RequestKind::Objection {
            purposes: vec![Purpose::AI_ASSISTANCE],
        },
    );
    let bob = tickets.insert(&new("T-3003", c.bob)).unwrap();
    assert!(bob.allows(&Purpose::SUPPORT) && !bob.allows(&Purpose::AI_ASSISTANCE));
    let alice = tickets.insert(&new("T-3004", c.alice)).unwrap();
    assert!(alice.allows(&Purpose::AI_ASSISTANCE));
    run_request(hd, c.bob, RequestKind::Erasure);
    assert_eq!(tickets.contact_processing(c.acme, c.bob).unwrap(), None);

    // Her restriction landing: its transaction holds her lock and has
    // written her register row, not yet committed.
    let stored = store_while_landing(
        &pg,
        carol,
        "INSERT INTO contact_processing (tenant_id, subject_id, processing) \
         VALUES ($1, $2, 'restricted')",
        &new("T-3005", carol),
    );
    assert!(
        stored.restricted,
        "stored {stored:?} past a landing restriction"
    );
}
