//! Helpers shared by the integration tests and the benchmarks (a module of
//! each that uses it, not a test target of its own).

use custodia_core::{ActorId, Role, SubjectId, TenantId};
use custodia_dsr::{Desk, Request, RequestKind, VerificationMethod};

/// A controller's request of `kind` from `subject` in `tenant`, received
/// and verified (an authenticated session) by `agent`: ready to run.
pub fn verified_request(
    desk: &Desk,
    tenant: TenantId,
    subject: SubjectId,
    kind: RequestKind,
    agent: ActorId,
) -> Request {
    let mut request = desk
        .receive(tenant, subject, kind, Role::Controller, agent)
        .unwrap();
    desk.verify(
        &mut request,
        VerificationMethod::AuthenticatedSession,
        "",
        agent,
    )
    .unwrap();
    request
}
