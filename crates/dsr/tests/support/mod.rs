//! Helpers shared by the integration tests and the benchmarks (a module of
//! each that uses it, not a test target of its own).

#![allow(dead_code)] // each user takes a part

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

/// The methods of a `PersonalDataSource` wrapper that hand the call to
/// field `$inner` unchanged, each named (`locate`, `export`, `rectify`,
/// `erase`, `restrict`): a test's wrapper writes only what it changes.
/// Needs `#[macro_use] mod support;`.
#[allow(unused_macros)] // not every test file wraps a source
macro_rules! pass_through {
    ($inner:tt: $($method:ident),+ $(,)?) => {
        $(pass_through!(@ $inner $method);)+
    };
    (@ $inner:tt locate) => {
        fn locate(
            &self,
            t: custodia_core::TenantId,
            s: custodia_core::SubjectId,
        ) -> Result<Vec<custodia_dsr::Located>, custodia_dsr::BoxError> {
            self.$inner.locate(t, s)
        }
    };
    (@ $inner:tt export) => {
        fn export(
            &self,
            t: custodia_core::TenantId,
            s: custodia_core::SubjectId,
            r: &custodia_dsr::RecordRef,
        ) -> Result<custodia_dsr::ExportedRecord, custodia_dsr::BoxError> {
            self.$inner.export(t, s, r)
        }
    };
    (@ $inner:tt rectify) => {
        fn rectify(
            &self,
            t: custodia_core::TenantId,
            s: custodia_core::SubjectId,
            r: &custodia_dsr::RecordRef,
            u: &[custodia_dsr::FieldUpdate],
        ) -> Result<(), custodia_dsr::BoxError> {
            self.$inner.rectify(t, s, r, u)
        }
    };
    (@ $inner:tt erase) => {
        fn erase(
            &self,
            t: custodia_core::TenantId,
            s: custodia_core::SubjectId,
            plan: &custodia_dsr::ErasurePlan,
        ) -> Result<(), custodia_dsr::BoxError> {
            self.$inner.erase(t, s, plan)
        }
    };
    (@ $inner:tt restrict) => {
        fn restrict(
            &self,
            t: custodia_core::TenantId,
            s: custodia_core::SubjectId,
            r: &custodia_dsr::RecordRef,
            x: &custodia_dsr::Restriction,
        ) -> Result<(), custodia_dsr::BoxError> {
            self.$inner.restrict(t, s, r, x)
        }
    };
}
