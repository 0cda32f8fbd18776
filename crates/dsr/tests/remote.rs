//! The source protocol: a desk over a served source gives what it gives over
//! the source in process; the decoders refuse bad input with typed errors.

use std::io::{BufRead, BufReader, Write};
use std::sync::Arc;

use custodia_core::{
    ActorId, DataCategory, LegalBasis, ManualClock, Role, SubjectId, TenantId, Timestamp,
};
use custodia_dsr::remote::{
    MAX_LINE, PROTOCOL, ProtocolError, RemoteSources, ReplyOutcome, SourceFailureKind,
    SourceServer, SubjectDirectory, decode_hello, decode_reply, decode_request,
};
use custodia_dsr::{
    BoxError, Desk, MemorySink, MemorySource, PersonalDataSource, RecordRef, RequestKind,
    VerificationMethod,
};
use proptest::prelude::*;

struct Ids {
    tenant: TenantId,
    alice: SubjectId,
    bob: SubjectId,
    dpo: ActorId,
}

fn ids() -> Ids {
    let tenant = TenantId::from_external_key("test", "acme");
    Ids {
        tenant,
        alice: SubjectId::from_external_key(tenant, "test", "alice"),
        bob: SubjectId::from_external_key(tenant, "test", "bob"),
        dpo: ActorId::from_external_key(tenant, "test", "dpo"),
    }
}

fn tickets(ids: &Ids) -> MemorySource {
    let source = MemorySource::new("tickets");
    for (subject, id, email) in [
        (ids.alice, "T-1", "alice@example.com"),
        (ids.alice, "T-2", "alice@example.com"),
        (ids.bob, "T-3", "bob@example.org"),
    ] {
        source.insert(
            ids.tenant,
            subject,
            RecordRef::new("ticket", id),
            LegalBasis::Contract,
            [
                ("email", DataCategory::USER_CONTACT_EMAIL, email, true),
                ("body", DataCategory::USER_CONTENT_TICKET, "VPN drops", true),
            ],
        );
    }
    source
}

/// Finds Alice by her address; knows only the one tenant.
struct Directory(Ids);

impl SubjectDirectory for Directory {
    fn has_tenant(&self, tenant: TenantId) -> Result<bool, BoxError> {
        Ok(tenant == self.0.tenant)
    }
    fn find_subjects(&self, tenant: TenantId, email: &str) -> Result<Vec<SubjectId>, BoxError> {
        Ok(if tenant == self.0.tenant && email == "alice@example.com" {
            vec![self.0.alice]
        } else {
            Vec::new()
        })
    }
}

/// Serves `source` on a thread over two pipes; returns the client end.
fn served(source: Arc<MemorySource>) -> RemoteSources {
    let (server_input, to_server) = std::io::pipe().unwrap();
    let (from_server, server_output) = std::io::pipe().unwrap();
    std::thread::spawn(move || {
        let directory = Directory(ids());
        SourceServer::new(vec![source.as_ref() as &dyn PersonalDataSource])
            .with_directory(&directory)
            .serve(server_input, server_output)
    });
    RemoteSources::connect(from_server, to_server).unwrap()
}

fn desk(source: Arc<dyn PersonalDataSource>) -> Desk {
    let clock = Arc::new(ManualClock::new(Timestamp::UNIX_EPOCH));
    Desk::new(clock, Arc::new(MemorySink::default()))
        .with_source(source)
        .unwrap()
}

#[test]
fn the_hello_names_the_sources_and_the_directory_answers() {
    let ids = ids();
    let remote = served(Arc::new(tickets(&ids)));
    assert_eq!(remote.hello().protocol, PROTOCOL);
    assert_eq!(remote.hello().sources, ["tickets"]);
    assert!(remote.hello().directory);
    assert!(remote.has_tenant(ids.tenant).unwrap());
    let other = TenantId::from_external_key("test", "globex");
    assert!(!remote.has_tenant(other).unwrap());
    assert_eq!(
        remote
            .find_subjects(ids.tenant, "alice@example.com")
            .unwrap(),
        [ids.alice]
    );
    assert!(
        remote
            .find_subjects(ids.tenant, "x@y.z")
            .unwrap()
            .is_empty()
    );
}

#[test]
fn export_and_erasure_through_the_protocol_match_the_source_in_process() {
    let ids = ids();
    let local = Arc::new(tickets(&ids));
    let shared = Arc::new(tickets(&ids));
    let remote = served(Arc::clone(&shared));
    let [source] = remote.sources().try_into().ok().unwrap();
    assert_eq!(source.name(), "tickets");

    let run = |desk: &Desk, kind| {
        let mut r = desk
            .receive(ids.tenant, ids.alice, kind, Role::Controller, ids.dpo)
            .unwrap();
        desk.verify(
            &mut r,
            VerificationMethod::AuthenticatedSession,
            "portal",
            ids.dpo,
        )
        .unwrap();
        r
    };
    let (local_desk, remote_desk) = (desk(local.clone()), desk(source.clone()));
    let mut a = run(&local_desk, RequestKind::Access);
    let mut b = run(&remote_desk, RequestKind::Access);
    let (here, there) = (
        local_desk.export(&mut a, ids.dpo).unwrap(),
        remote_desk.export(&mut b, ids.dpo).unwrap(),
    );
    assert_eq!(here.records, there.records);
    assert_eq!(there.records.len(), 2);

    let mut a = run(&local_desk, RequestKind::Erasure);
    let mut b = run(&remote_desk, RequestKind::Erasure);
    let (here, there) = (
        local_desk.erase(&mut a, ids.dpo).unwrap(),
        remote_desk.erase(&mut b, ids.dpo).unwrap(),
    );
    assert_eq!(here.erased, there.erased);
    assert_eq!(there.erased.len(), 2);
    // The served store changed, and only Alice's records.
    assert!(source.locate(ids.tenant, ids.alice).unwrap().is_empty());
    assert_eq!(shared.len(), 1);
    assert!(
        shared
            .get(ids.tenant, &RecordRef::new("ticket", "T-3"))
            .is_some()
    );
}

#[test]
fn a_source_error_is_a_typed_reply_and_the_session_goes_on() {
    let ids = ids();
    let remote = served(Arc::new(tickets(&ids)));
    let [source] = remote.sources().try_into().ok().unwrap();
    let e = source
        .export(ids.tenant, ids.alice, &RecordRef::new("ticket", "T-404"))
        .unwrap_err();
    let e = e.downcast_ref::<ProtocolError>().unwrap();
    assert!(
        matches!(
            e,
            ProtocolError::Failed {
                kind: SourceFailureKind::Source,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(source.locate(ids.tenant, ids.bob).unwrap().len(), 1);
}

/// A raw session: the server on a thread, the test writing lines.
fn raw_session() -> (impl Write, impl BufRead) {
    let (server_input, to_server) = std::io::pipe().unwrap();
    let (from_server, server_output) = std::io::pipe().unwrap();
    std::thread::spawn(move || {
        let source = tickets(&ids());
        SourceServer::new(vec![&source as &dyn PersonalDataSource])
            .serve(server_input, server_output)
    });
    let mut reader = BufReader::new(from_server);
    let mut hello = String::new();
    reader.read_line(&mut hello).unwrap();
    decode_hello(hello.trim_end()).unwrap();
    (to_server, reader)
}

#[test]
fn bad_requests_get_bad_request_replies_with_their_id_when_readable() {
    let (mut to, mut from) = raw_session();
    let mut reply = |line: &str| {
        writeln!(to, "{line}").unwrap();
        let mut text = String::new();
        from.read_line(&mut text).unwrap();
        decode_reply(text.trim_end()).unwrap()
    };
    let r = reply("not json");
    assert_eq!(r.id, 0);
    assert!(
        matches!(r.outcome, ReplyOutcome::Error(ref f) if f.kind == SourceFailureKind::BadRequest)
    );
    let r = reply(r#"{"id":7,"op":"locate","source":"tickets"}"#);
    assert_eq!(r.id, 7);
    assert!(
        matches!(r.outcome, ReplyOutcome::Error(ref f) if f.kind == SourceFailureKind::BadRequest)
    );
    let t = ids().tenant;
    let r = reply(&format!(r#"{{"id":8,"op":"has_tenant","tenant":"{t}"}}"#));
    assert!(
        matches!(r.outcome, ReplyOutcome::Error(ref f) if f.kind == SourceFailureKind::Unsupported)
    );
    let r = reply(&format!(
        r#"{{"id":9,"op":"locate","source":"mail","tenant":"{t}","subject":"{t}"}}"#
    ));
    assert!(
        matches!(r.outcome, ReplyOutcome::Error(ref f) if f.kind == SourceFailureKind::UnknownSource)
    );
}

#[test]
fn a_hello_of_another_protocol_or_version_is_refused() {
    assert!(matches!(
        decode_hello(r#"{"protocol":"lsp","version":1,"sources":[]}"#),
        Err(ProtocolError::WrongProtocol { .. })
    ));
    assert!(matches!(
        decode_hello(r#"{"protocol":"custodia.dsr.source","version":2,"sources":[]}"#),
        Err(ProtocolError::UnsupportedVersion { found: 2, .. })
    ));
    let hello =
        decode_hello(r#"{"protocol":"custodia.dsr.source","version":1,"sources":["a"]}"#).unwrap();
    assert!(!hello.directory);
}

#[test]
fn a_program_that_is_not_a_source_is_refused_not_waited_for() {
    // `true` exits at once without a hello.
    let e = RemoteSources::spawn(std::process::Command::new("true")).unwrap_err();
    assert!(matches!(e, ProtocolError::Closed { .. }), "{e}");
    let e = RemoteSources::spawn(std::process::Command::new("/nonexistent/source")).unwrap_err();
    assert!(matches!(e, ProtocolError::Io(_)), "{e}");
}

#[test]
fn an_overlong_line_ends_the_session_with_a_typed_error() {
    let source = tickets(&ids());
    let mut input = vec![b'x'; MAX_LINE + 1];
    input.push(b'\n');
    let mut output = Vec::new();
    let e = SourceServer::new(vec![&source as &dyn PersonalDataSource])
        .serve(input.as_slice(), &mut output)
        .unwrap_err();
    assert_eq!(e, ProtocolError::LineTooLong { limit: MAX_LINE });
    // The hello went out before.
    assert!(output.starts_with(b"{\"protocol\""));
}

#[test]
fn a_program_replying_with_an_overlong_line_is_an_error_not_a_hang() {
    // A hello, then a reply longer than MAX_LINE that the program is still
    // writing when the client gives up on it: the client must not wait for
    // it for ever (it used to keep the program's output open while reaping it).
    let hello =
        r#"{"protocol":"custodia.dsr.source","version":1,"sources":["tickets"],"directory":true}"#;
    let script = format!(
        "echo '{hello}'; head -c {} /dev/zero | tr '\\0' x",
        MAX_LINE + (4 << 20)
    );
    let mut program = std::process::Command::new("sh");
    program.args(["-c", &script]);
    let remote = RemoteSources::spawn(program).unwrap();
    let ids = ids();
    let e = remote.has_tenant(ids.tenant).unwrap_err();
    assert!(e.to_string().contains("exceeds"), "{e}");
    // Dropping the session reaps the program without waiting for it to finish writing.
    drop(remote);
}

#[test]
fn a_program_that_hangs_is_stopped_not_waited_for() {
    use std::time::Duration;
    let timeout = Duration::from_millis(200);
    // Silent: no hello at all.
    let mut silent = std::process::Command::new("sh");
    silent.args(["-c", "exec sleep 600"]);
    let e = RemoteSources::spawn_with_timeout(silent, timeout).unwrap_err();
    assert_eq!(
        e,
        ProtocolError::TimedOut {
            expected: "the hello line".into(),
            after: timeout
        }
    );
    // A hello, then no reply: the call times out and the session is closed.
    let hello =
        r#"{"protocol":"custodia.dsr.source","version":1,"sources":["tickets"],"directory":true}"#;
    let mut stuck = std::process::Command::new("sh");
    stuck.args(["-c", &format!("echo '{hello}'; exec sleep 600")]);
    let remote = RemoteSources::spawn_with_timeout(stuck, timeout).unwrap();
    let ids = ids();
    let e = remote.has_tenant(ids.tenant).unwrap_err();
    let e = e.downcast_ref::<ProtocolError>().unwrap();
    assert!(
        matches!(e, ProtocolError::TimedOut { expected, .. } if expected == "the reply to request 1"),
        "{e}"
    );
    let e = remote.has_tenant(ids.tenant).unwrap_err();
    assert!(
        matches!(
            e.downcast_ref::<ProtocolError>(),
            Some(ProtocolError::Closed { .. })
        ),
        "{e}"
    );
    drop(remote);
}

#[test]
fn a_program_that_ignores_the_end_of_its_input_is_killed_after_the_timeout() {
    use std::time::Duration;
    let hello =
        r#"{"protocol":"custodia.dsr.source","version":1,"sources":["tickets"],"directory":true}"#;
    let mut deaf = std::process::Command::new("sh");
    deaf.args(["-c", &format!("echo '{hello}'; exec sleep 600")]);
    let remote = RemoteSources::spawn_with_timeout(deaf, Duration::from_millis(200)).unwrap();
    // Dropping closes its input; it does not exit, so it is killed and the
    // drop returns (before, this waited for the program for ever).
    drop(remote);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary bytes: every decoder answers with a value or a typed error,
    /// and a server fed them replies or stops with a typed error.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = decode_request(&text);
        let _ = decode_reply(&text);
        let _ = decode_hello(&text);
        let source = MemorySource::new("tickets");
        let mut output = Vec::new();
        let _ = SourceServer::new(vec![&source as &dyn PersonalDataSource])
            .serve(bytes.as_slice(), &mut output);
        // Every line written back is one the client decodes.
        for line in output.split(|b| *b == b'\n').skip(1).filter(|l| !l.is_empty()) {
            prop_assert!(decode_reply(std::str::from_utf8(line).unwrap()).is_ok());
        }
        // A client reading them as replies after a valid hello.
        let mut served = br#"{"protocol":"custodia.dsr.source","version":1,"sources":["tickets"]}"#.to_vec();
        served.push(b'\n');
        served.extend_from_slice(&bytes);
        let remote = RemoteSources::connect(std::io::Cursor::new(served), std::io::sink()).unwrap();
        let t = TenantId::from_external_key("t", "t");
        for s in remote.sources() {
            let _ = s.locate(t, SubjectId::from_external_key(t, "t", "s"));
            let _ = s.export(t, SubjectId::from_external_key(t, "t", "s"), &RecordRef::new("ticket", "1"));
        }
        let _ = RemoteSources::connect(std::io::Cursor::new(bytes), std::io::sink());
    }
}
