//! The example's cast and tickets, and [`seed`] to fill a data directory
//! with them (for the `custodia dsr` tests and quick tries).
//!
//! Two subscribers: ACME (Australia) with contacts Alice Ng and Bob Li, and
//! GLOBEX (United Kingdom) with Priya Shah; six tickets between them. Ids
//! are derived from the subscribers' own keys (`billing.account ACME-0042`,
//! `psa.contact 1017`, ...), so `custodia id` gives the same ones.

use std::path::Path;
use std::sync::Arc;

use custodia_audit::{Action, Actor, ActorKind, Target};
use custodia_core::chrono::{TimeZone, Utc};
use custodia_core::{ActorId, Clock, SubjectId, TenantId, Timestamp};

use crate::store::NewTicket;
use crate::{Error, Helpdesk};

/// The example's fixed "now" (2026-11-20 09:00 UTC).
pub fn start_time() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0)
        .single()
        .unwrap_or(Timestamp::MIN_UTC)
}

/// The IP address Alice signs in to the portal from: personal data in the
/// audit log, sealed under her key.
pub const ALICE_PORTAL_IP: &str = "198.51.100.23";

/// The two subscribers and their people.
#[derive(Debug, Clone, Copy)]
pub struct Cast {
    /// ACME (billing account ACME-0042), Australia.
    pub acme: TenantId,
    /// GLOBEX (billing account GLOBEX-7), United Kingdom.
    pub globex: TenantId,
    /// Alice Ng, ACME contact 1017.
    pub alice: SubjectId,
    /// Bob Li, ACME contact 1018.
    pub bob: SubjectId,
    /// Priya Shah, GLOBEX contact 77.
    pub priya: SubjectId,
    /// ACME's agent Sam.
    pub acme_agent: ActorId,
    /// ACME's data protection officer.
    pub acme_dpo: ActorId,
    /// GLOBEX's agent Kim.
    pub globex_agent: ActorId,
}

impl Default for Cast {
    fn default() -> Self {
        Self::new()
    }
}

impl Cast {
    /// The cast, ids derived from the subscribers' keys.
    pub fn new() -> Self {
        let acme = TenantId::from_external_key("billing.account", "ACME-0042");
        let globex = TenantId::from_external_key("billing.account", "GLOBEX-7");
        Self {
            acme,
            globex,
            alice: SubjectId::from_external_key(acme, "psa.contact", "1017"),
            bob: SubjectId::from_external_key(acme, "psa.contact", "1018"),
            priya: SubjectId::from_external_key(globex, "psa.contact", "77"),
            acme_agent: ActorId::from_external_key(acme, "psa.user", "agent-sam"),
            acme_dpo: ActorId::from_external_key(acme, "psa.user", "dpo"),
            globex_agent: ActorId::from_external_key(globex, "psa.user", "agent-kim"),
        }
    }
}

/// Alice's email, as she typed it.
pub const ALICE_EMAIL: &str = "Alice.Ng@example.com";
/// Alice's phone.
pub const ALICE_PHONE: &str = "+61 412 345 678";
/// The text of Alice's VPN ticket (T-1002).
pub const VPN_BODY: &str = "Since this morning my VPN drops every 10 minutes. I'm Alice Ng, call me on +61 412 345 678 or reply to alice.ng@example.com. My laptop's address is 10.20.30.40.";

fn at(y: i32, m: u32, d: u32) -> Timestamp {
    Utc.with_ymd_and_hms(y, m, d, 10, 0, 0)
        .single()
        .unwrap_or(Timestamp::MIN_UTC)
}

/// The six tickets.
pub fn tickets(c: &Cast) -> Vec<NewTicket<'static>> {
    vec![
        NewTicket {
            id: "T-1001",
            tenant: c.acme,
            subject: c.alice,
            owner: c.acme_agent,
            created: at(2023, 5, 30),
            closed: Some(at(2023, 6, 1)),
            status: "closed",
            subject_line: "Printer on level 3 jams",
            name: "Alice Ng",
            email: ALICE_EMAIL,
            phone: ALICE_PHONE,
            body: "The level 3 printer jams on every job. Reach me on +61 412 345 678.",
        },
        NewTicket {
            id: "T-1002",
            tenant: c.acme,
            subject: c.alice,
            owner: c.acme_agent,
            created: at(2026, 11, 18),
            closed: None,
            status: "open",
            subject_line: "VPN keeps dropping",
            name: "Alice Ng",
            email: ALICE_EMAIL,
            phone: ALICE_PHONE,
            body: VPN_BODY,
        },
        NewTicket {
            id: "T-1003",
            tenant: c.acme,
            subject: c.bob,
            owner: c.acme_agent,
            created: at(2026, 9, 1),
            closed: None,
            status: "spam",
            subject_line: "You won a prize!!!",
            name: "Bob Li",
            email: "bob.li@example.org",
            phone: "+61 2 9374 4000",
            body: "Click here to claim your prize.",
        },
        NewTicket {
            id: "T-1004",
            tenant: c.acme,
            subject: c.bob,
            owner: c.acme_agent,
            created: at(2025, 8, 4),
            closed: None,
            status: "open",
            subject_line: "Request for a second monitor",
            name: "Bob Li",
            email: "bob.li@example.org",
            phone: "+61 2 9374 4000",
            body: "Could I get a second monitor for my desk?",
        },
        NewTicket {
            id: "T-2001",
            tenant: c.globex,
            subject: c.priya,
            owner: c.globex_agent,
            created: at(2026, 11, 1),
            closed: None,
            status: "open",
            subject_line: "Laptop will not boot",
            name: "Priya Shah",
            email: "priya.shah@example.co.uk",
            phone: "+44 20 7946 0018",
            body: "My laptop shows a black screen after the update.",
        },
        NewTicket {
            id: "T-2002",
            tenant: c.globex,
            subject: c.priya,
            owner: c.globex_agent,
            created: at(2026, 9, 20),
            closed: Some(at(2026, 10, 1)),
            status: "closed",
            subject_line: "Password reset",
            name: "Priya Shah",
            email: "priya.shah@example.co.uk",
            phone: "+44 20 7946 0018",
            body: "Please reset my password.",
        },
    ]
}

/// Stores `tickets`, auditing each as `create` by its agent.
pub fn insert_tickets(hd: &Helpdesk, tickets: &[NewTicket<'_>]) -> Result<(), Error> {
    for t in tickets {
        hd.tickets().insert(t)?;
        hd.record(
            t.tenant,
            Some(t.subject),
            Actor::new(ActorKind::Agent, t.owner),
            Action::Create,
            Target::new(crate::store::RECORD_TYPE, t.id)?,
            "fields name, email, phone, body sealed",
        )?;
    }
    Ok(())
}

/// Audits `subject`'s sign-in to the support portal from `ip` (sealed
/// under the subject's key). Returns the event's index in the log.
pub fn portal_login(
    hd: &Helpdesk,
    tenant: TenantId,
    subject: SubjectId,
    ip: &str,
) -> Result<u64, Error> {
    let actor_id = ActorId::from_external_key(tenant, "portal.user", &subject.to_string());
    hd.record(
        tenant,
        Some(subject),
        Actor::new(ActorKind::User, actor_id)
            .as_subject(subject)
            .with_ip(ip),
        Action::Login,
        Target::new("portal", "support")?,
        "signed in with password and one-time code",
    )
}

/// Creates a fresh data directory in `dir` holding the six tickets (audited)
/// and Alice's portal sign-in from [`ALICE_PORTAL_IP`].
pub fn seed(dir: &Path, clock: Arc<dyn Clock>) -> Result<Helpdesk, Error> {
    let hd = Helpdesk::create(dir, clock)?;
    let cast = Cast::new();
    insert_tickets(&hd, &tickets(&cast))?;
    portal_login(&hd, cast.acme, cast.alice, ALICE_PORTAL_IP)?;
    Ok(hd)
}
