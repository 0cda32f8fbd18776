//! What the data-directory and PostgreSQL tests share: the demo clock, a
//! request run to its end as ACME's DPO, a new ticket of ACME.

use std::sync::Arc;

use custodia_core::{ManualClock, Role, SubjectId};
use custodia_dsr::{Desk, Request, RequestKind, RequestOutcome, VerificationMethod};
use custodia_example_helpdesk::demo::{self, Cast};
use custodia_example_helpdesk::{Helpdesk, NewTicket};

/// A clock at the demo's start.
pub fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(demo::start_time()))
}

/// A `kind` request of `subject` of ACME received on `desk` by ACME's
/// DPO, identity verified by the portal's session.
pub fn verified(desk: &Desk, subject: SubjectId, kind: RequestKind) -> Request {
    let c = Cast::new();
    let mut request = desk
        .receive(c.acme, subject, kind, Role::Controller, c.acme_dpo)
        .unwrap();
    desk.verify(
        &mut request,
        VerificationMethod::AuthenticatedSession,
        "",
        c.acme_dpo,
    )
    .unwrap();
    request
}

/// Runs `kind` for `subject` of ACME, [`verified`], as ACME's DPO, through
/// [`Helpdesk::run_request`] (the desk reaches the contact register).
pub fn run_request(hd: &Helpdesk, subject: SubjectId, kind: RequestKind) -> RequestOutcome {
    let desk = hd.desk().unwrap();
    let mut request = verified(&desk, subject, kind);
    hd.run_request(&desk, &mut request, Cast::new().acme_dpo)
        .unwrap()
}

/// A new open ticket of ACME for `subject`, with `email`.
pub fn new_ticket<'a>(id: &'a str, subject: SubjectId, email: &'a str) -> NewTicket<'a> {
    let c = Cast::new();
    NewTicket {
        id,
        tenant: c.acme,
        subject,
        owner: c.acme_agent,
        created: demo::start_time(),
        closed: None,
        status: "open",
        subject_line: "Monitor flickers",
        name: "Someone",
        email,
        phone: "",
        body: "It flickers.",
    }
}
