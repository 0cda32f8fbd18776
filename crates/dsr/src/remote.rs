//! The source protocol: a host's [`PersonalDataSource`]s served to another
//! process (the `custodia dsr` command) as JSON lines over stdin/stdout.
//!
//! A host that keeps people's data in its own program implements
//! [`PersonalDataSource`] (and, for finding a person by email,
//! [`SubjectDirectory`]) as usual, and ships a small program whose `main`
//! calls [`SourceServer::serve`] on its standard input and output. The
//! operator then runs `custodia dsr export|erase ... -- PROGRAM ARGS...`: the
//! command spawns the program, [`RemoteSources::spawn`] gives the desk one
//! [`PersonalDataSource`] per served source, and the desk runs the request
//! as if the sources were in process. The audit log, key store and retention
//! policy stay with the command.
//!
//! ```no_run
//! use custodia_dsr::MemorySource;
//! use custodia_dsr::remote::SourceServer;
//!
//! let tickets = MemorySource::new("tickets");
//! let stdin = std::io::stdin().lock();
//! let stdout = std::io::stdout().lock();
//! SourceServer::new(vec![&tickets]).serve(stdin, stdout)?;
//! # Ok::<(), custodia_dsr::remote::ProtocolError>(())
//! ```
//!
//! # Wire format, version 1
//!
//! UTF-8 JSON, one object per line (`\n`), each line at most
//! [`MAX_LINE`] bytes. The server speaks first, once ([`SourceHello`]):
//!
//! ```text
//! {"protocol":"custodia.dsr.source","version":1,"sources":["tickets"],"directory":true,"subject_step":true}
//! ```
//!
//! Then the client sends one [`SourceRequest`] per line and reads exactly one
//! [`SourceReply`] line back, with the same `id`, before sending the next:
//!
//! ```text
//! {"id":1,"op":"locate","source":"tickets","tenant":"…","subject":"…"}
//! {"id":1,"ok":[{"record":{"record_type":"ticket","id":"T-1"},"fields":[…],"legal_basis":"contract"}]}
//! {"id":2,"op":"export","source":"tickets","tenant":"…","subject":"…","record":{…}}
//! {"id":2,"error":{"kind":"source","message":"tickets: row 17 locked"}}
//! ```
//!
//! Operations ([`SourceOperation`]): `locate`, `export`, `rectify`, `erase`,
//! `restrict`, `reseal_kept` (the [`PersonalDataSource`] methods, their
//! arguments and results as this crate serializes them), and, when the
//! hello says `"directory": true`, `has_tenant` and `find_subjects`
//! ([`SubjectDirectory`]); and, when the hello says `"subject_step": true`,
//! `subject_step` ([`PersonalDataSource::subject_step`], replying a
//! [`SubjectOutcome`]). A reply is `"ok"` with the method's result
//! (`null` for none) or `"error"` with a [`SourceFailureKind`] and a message that,
//! as for any source error, names records, never their values. The session
//! ends when the client closes the server's input. A line that does not
//! decode gets a `bad_request` reply (id 0 when even the id is unreadable)
//! and the session goes on; a line over the limit, or input that is not
//! UTF-8, ends it with a [`ProtocolError`].
//!
//! ## Older servers
//!
//! `subject_step` was added within version 1. A server built before it
//! sends no `subject_step` in its hello (read as `false`), and the client
//! then never sends the operation: its sources answer
//! [`SubjectOutcome::NotKept`] themselves, so the desk runs every request
//! as before and records no subject-level step. (Sent to such a server,
//! the line would not decode and get a `bad_request` reply, which would
//! fail the source's step.) A newer client's extra hello field is
//! likewise ignored by an older client. Every [`SourceServer`] of this
//! build serves the operation, for every source: one that keeps no
//! subject-level state answers `{"outcome":"not_kept"}`.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use custodia_core::{SubjectId, TenantId};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::BoxError;
use crate::source::{
    ErasurePlan, ExportedRecord, FieldUpdate, Located, PersonalDataSource, RecordRef,
    ResealOutcome, Restriction, SubjectOutcome, SubjectStep,
};

/// The protocol's name, in the hello line.
pub const PROTOCOL: &str = "custodia.dsr.source";

/// The protocol version this build speaks.
pub const VERSION: u32 = 1;

/// The longest line either side accepts, newline excluded (16 MiB): an
/// export of one record must fit.
pub const MAX_LINE: usize = 16 << 20;

/// How long [`RemoteSources::spawn`] waits for the program's hello and for
/// each reply before it stops the program: two minutes, room for a source
/// that erases many rows in one step, not for one that hangs. Choose another
/// with [`RemoteSources::spawn_with_timeout`].
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(120);

/// What can go wrong on the wire. The messages quote no line content: a
/// line may carry personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// Reading or writing the pipe, or starting the program, failed.
    #[error("source protocol: i/o: {0}")]
    Io(String),
    /// A spawned program sent no line within its timeout
    /// ([`REPLY_TIMEOUT`] unless chosen): it was stopped, and the session
    /// is closed.
    #[error("source protocol: {expected} did not come within {after:?}; the program was stopped")]
    TimedOut {
        /// What was awaited: `"the hello line"`, `"the reply to request 3"`.
        expected: String,
        /// How long was waited.
        after: Duration,
    },
    /// The other side closed the stream before the expected line.
    #[error("source protocol: the other side closed the stream before {expected}")]
    Closed {
        /// What was awaited: `"the hello line"`, `"the reply to request 3"`.
        expected: String,
    },
    /// A line exceeds [`MAX_LINE`].
    #[error("source protocol: a line exceeds {limit} bytes")]
    LineTooLong {
        /// The limit.
        limit: usize,
    },
    /// A line is not UTF-8.
    #[error("source protocol: a line is not UTF-8")]
    NotUtf8,
    /// A line is not the JSON expected.
    #[error("source protocol: malformed {what}: {message}")]
    Malformed {
        /// Which message: `"hello"`, `"request"`, `"reply"`.
        what: &'static str,
        /// The decoder's reason (a position and an expectation, no content).
        message: String,
    },
    /// The hello names another protocol.
    #[error("source protocol: the program speaks {found:?}, not {PROTOCOL}")]
    WrongProtocol {
        /// The name it sent (shortened by `custodia_core::echo`).
        found: String,
    },
    /// The hello names a version this build does not speak.
    #[error("source protocol: version {found} is not supported (this build speaks {supported})")]
    UnsupportedVersion {
        /// The version sent.
        found: u64,
        /// The version spoken here.
        supported: u32,
    },
    /// A reply answers another request.
    #[error("source protocol: reply to request {found}, expected {expected}")]
    UnexpectedReply {
        /// The id awaited.
        expected: u64,
        /// The id received.
        found: u64,
    },
    /// The server answered with an error.
    #[error("{kind}: {message}")]
    Failed {
        /// Which kind.
        kind: SourceFailureKind,
        /// The server's message (no personal data, by the source contract).
        message: String,
    },
}

impl From<std::io::Error> for ProtocolError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e.to_string())
    }
}

/// Finds a person by a contact detail and says which tenants a host knows:
/// what `custodia dsr --email` and its "unknown tenant" check need from the
/// host besides its sources.
pub trait SubjectDirectory: Send + Sync {
    /// Whether the host holds any data of `tenant`.
    fn has_tenant(&self, tenant: TenantId) -> Result<bool, BoxError>;

    /// The subjects of `tenant` with this contact email (compared the way
    /// the host normalizes emails).
    fn find_subjects(&self, tenant: TenantId, email: &str) -> Result<Vec<SubjectId>, BoxError>;
}

/// The server's first line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceHello {
    /// [`PROTOCOL`].
    pub protocol: String,
    /// [`VERSION`].
    pub version: u64,
    /// The served sources' names, in the order the desk should run them.
    pub sources: Vec<String>,
    /// Whether `has_tenant` and `find_subjects` are served.
    #[serde(default)]
    pub directory: bool,
    /// Whether `subject_step` is served. Absent (false) in the hello of a
    /// server built before it: see [Older servers](self#older-servers).
    #[serde(default)]
    pub subject_step: bool,
}

/// One request line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRequest {
    /// Chosen by the client; the reply repeats it.
    pub id: u64,
    /// What to do.
    #[serde(flatten)]
    pub operation: SourceOperation,
}

/// The operations, each with its arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SourceOperation {
    /// [`PersonalDataSource::locate`]; replies `[Located]`.
    Locate {
        /// The source's name.
        source: String,
        /// The tenant.
        tenant: TenantId,
        /// The subject.
        subject: SubjectId,
    },
    /// [`PersonalDataSource::export`]; replies an [`ExportedRecord`].
    Export {
        /// The source's name.
        source: String,
        /// The tenant.
        tenant: TenantId,
        /// The subject.
        subject: SubjectId,
        /// The record.
        record: RecordRef,
    },
    /// [`PersonalDataSource::rectify`]; replies `null`.
    Rectify {
        /// The source's name.
        source: String,
        /// The tenant.
        tenant: TenantId,
        /// The subject.
        subject: SubjectId,
        /// The record.
        record: RecordRef,
        /// The corrected values.
        updates: Vec<FieldUpdate>,
    },
    /// [`PersonalDataSource::erase`]; replies `null`.
    Erase {
        /// The source's name.
        source: String,
        /// The tenant.
        tenant: TenantId,
        /// The subject.
        subject: SubjectId,
        /// What to erase.
        plan: ErasurePlan,
    },
    /// [`PersonalDataSource::restrict`]; replies `null`.
    Restrict {
        /// The source's name.
        source: String,
        /// The tenant.
        tenant: TenantId,
        /// The subject.
        subject: SubjectId,
        /// The record.
        record: RecordRef,
        /// The restriction.
        restriction: Restriction,
    },
    /// [`PersonalDataSource::reseal_kept`]; replies a [`ResealOutcome`].
    ResealKept {
        /// The source's name.
        source: String,
        /// The tenant.
        tenant: TenantId,
        /// The subject.
        subject: SubjectId,
        /// The record.
        record: RecordRef,
    },
    /// [`PersonalDataSource::subject_step`]; replies a [`SubjectOutcome`].
    /// Sent only when the hello says `"subject_step": true`.
    SubjectStep {
        /// The source's name.
        source: String,
        /// The tenant.
        tenant: TenantId,
        /// The subject.
        subject: SubjectId,
        /// The step.
        step: SubjectStep,
    },
    /// [`SubjectDirectory::has_tenant`]; replies a boolean.
    HasTenant {
        /// The tenant.
        tenant: TenantId,
    },
    /// [`SubjectDirectory::find_subjects`]; replies `[SubjectId]`.
    FindSubjects {
        /// The tenant.
        tenant: TenantId,
        /// The email.
        email: String,
    },
}

/// One reply line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceReply {
    /// The request's id (0 when the request's id was unreadable).
    pub id: u64,
    /// The result.
    #[serde(flatten)]
    pub outcome: ReplyOutcome,
}

/// A reply's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyOutcome {
    /// The method's result as JSON.
    Ok(serde_json::Value),
    /// Why not.
    Error(SourceFailure),
}

/// An error reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFailure {
    /// Which kind.
    pub kind: SourceFailureKind,
    /// What went wrong (no personal data).
    pub message: String,
}

/// The kinds of error reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SourceFailureKind {
    /// The source's method returned an error.
    Source,
    /// No served source has that name.
    UnknownSource,
    /// The operation is not served (no directory).
    Unsupported,
    /// The line did not decode as a request.
    BadRequest,
    /// A kind this build does not know (a newer server).
    #[serde(other)]
    Other,
}

impl std::fmt::Display for SourceFailureKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Source => "source error",
            Self::UnknownSource => "unknown source",
            Self::Unsupported => "unsupported operation",
            Self::BadRequest => "bad request",
            Self::Other => "error",
        })
    }
}

/// Reads one line of at most [`MAX_LINE`] bytes, without its newline;
/// `None` at the end of the stream.
fn read_line(input: &mut impl BufRead) -> Result<Option<String>, ProtocolError> {
    let mut line = Vec::new();
    let limit = u64::try_from(MAX_LINE)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    input.by_ref().take(limit).read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Ok(None);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    if line.len() > MAX_LINE {
        return Err(ProtocolError::LineTooLong { limit: MAX_LINE });
    }
    String::from_utf8(line)
        .map(Some)
        .map_err(|_| ProtocolError::NotUtf8)
}

fn write_line(output: &mut impl Write, value: &impl Serialize) -> Result<(), ProtocolError> {
    let mut line = serde_json::to_vec(value).map_err(|e| ProtocolError::Malformed {
        what: "outgoing line",
        message: e.to_string(),
    })?;
    if line.len() > MAX_LINE {
        return Err(ProtocolError::LineTooLong { limit: MAX_LINE });
    }
    line.push(b'\n');
    output.write_all(&line)?;
    Ok(output.flush()?)
}

/// Decodes `line` as `T`; the error says where, never what.
fn decode<T: DeserializeOwned>(line: &str, what: &'static str) -> Result<T, ProtocolError> {
    serde_json::from_str(line).map_err(|e| ProtocolError::Malformed {
        what,
        message: format!(
            "{:?} at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ),
    })
}

/// Decodes one request line (what [`SourceServer::serve`] does with each
/// line it reads).
pub fn decode_request(line: &str) -> Result<SourceRequest, ProtocolError> {
    decode(line, "request")
}

/// Decodes one reply line.
pub fn decode_reply(line: &str) -> Result<SourceReply, ProtocolError> {
    decode(line, "reply")
}

/// Decodes and checks a hello line: the protocol's name and version first,
/// so a newer server gets a version error rather than a shape error.
pub fn decode_hello(line: &str) -> Result<SourceHello, ProtocolError> {
    let value: serde_json::Value = decode(line, "hello")?;
    let protocol = value.get("protocol").and_then(serde_json::Value::as_str);
    if protocol != Some(PROTOCOL) {
        return Err(ProtocolError::WrongProtocol {
            found: custodia_core::echo(protocol.unwrap_or("")),
        });
    }
    match value.get("version").and_then(serde_json::Value::as_u64) {
        Some(found) if found == u64::from(VERSION) => {}
        found => {
            return Err(ProtocolError::UnsupportedVersion {
                found: found.unwrap_or(0),
                supported: VERSION,
            });
        }
    }
    serde_json::from_value(value).map_err(|e| ProtocolError::Malformed {
        what: "hello",
        message: format!("{:?}", e.classify()),
    })
}

/// Serves sources (and optionally a directory) over a pair of streams. See
/// the [module documentation](self).
pub struct SourceServer<'a> {
    sources: Vec<&'a dyn PersonalDataSource>,
    directory: Option<&'a dyn SubjectDirectory>,
}

impl std::fmt::Debug for SourceServer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.sources.iter().map(|s| s.name()).collect();
        f.debug_struct("SourceServer")
            .field("sources", &names)
            .field("directory", &self.directory.is_some())
            .finish()
    }
}

impl<'a> SourceServer<'a> {
    /// A server of these sources, no directory.
    pub fn new(sources: Vec<&'a dyn PersonalDataSource>) -> Self {
        Self {
            sources,
            directory: None,
        }
    }

    /// Also serves `has_tenant` and `find_subjects`.
    pub fn with_directory(mut self, directory: &'a dyn SubjectDirectory) -> Self {
        self.directory = Some(directory);
        self
    }

    /// The hello line this server sends.
    pub fn hello(&self) -> SourceHello {
        SourceHello {
            protocol: PROTOCOL.into(),
            version: u64::from(VERSION),
            sources: self.sources.iter().map(|s| s.name().to_owned()).collect(),
            directory: self.directory.is_some(),
            subject_step: true,
        }
    }

    /// Sends the hello, then answers requests until `input` ends. A source's
    /// error is a reply, not the end of the session; a line over
    /// [`MAX_LINE`], input that is not UTF-8 or a failed write ends it.
    pub fn serve(&self, input: impl Read, mut output: impl Write) -> Result<(), ProtocolError> {
        let mut input = BufReader::new(input);
        write_line(&mut output, &self.hello())?;
        while let Some(line) = read_line(&mut input)? {
            let reply = match decode_request(&line) {
                Ok(request) => SourceReply {
                    id: request.id,
                    outcome: self.answer(request.operation),
                },
                Err(e) => SourceReply {
                    // The id, when the rest of the line is what failed.
                    id: serde_json::from_str::<serde_json::Value>(&line)
                        .ok()
                        .and_then(|v| v.get("id").and_then(serde_json::Value::as_u64))
                        .unwrap_or(0),
                    outcome: ReplyOutcome::Error(SourceFailure {
                        kind: SourceFailureKind::BadRequest,
                        message: e.to_string(),
                    }),
                },
            };
            write_line(&mut output, &reply)?;
        }
        Ok(())
    }

    fn source(&self, name: &str) -> Result<&'a dyn PersonalDataSource, SourceFailure> {
        self.sources
            .iter()
            .find(|s| s.name() == name)
            .copied()
            .ok_or_else(|| SourceFailure {
                kind: SourceFailureKind::UnknownSource,
                message: format!("no source named {:?}", custodia_core::echo(name)),
            })
    }

    fn directory(&self) -> Result<&'a dyn SubjectDirectory, SourceFailure> {
        self.directory.ok_or_else(|| SourceFailure {
            kind: SourceFailureKind::Unsupported,
            message: "this host serves no subject directory".into(),
        })
    }

    fn answer(&self, operation: SourceOperation) -> ReplyOutcome {
        fn ok<T: Serialize>(
            result: Result<T, BoxError>,
        ) -> Result<serde_json::Value, SourceFailure> {
            let value = result.map_err(|e| SourceFailure {
                kind: SourceFailureKind::Source,
                message: e.to_string(),
            })?;
            serde_json::to_value(value).map_err(|e| SourceFailure {
                kind: SourceFailureKind::Source,
                message: format!("encoding the result: {e}"),
            })
        }
        let result = match operation {
            SourceOperation::Locate {
                source,
                tenant,
                subject,
            } => self
                .source(&source)
                .and_then(|s| ok(s.locate(tenant, subject))),
            SourceOperation::Export {
                source,
                tenant,
                subject,
                record,
            } => self
                .source(&source)
                .and_then(|s| ok(s.export(tenant, subject, &record))),
            SourceOperation::Rectify {
                source,
                tenant,
                subject,
                record,
                updates,
            } => self
                .source(&source)
                .and_then(|s| ok(s.rectify(tenant, subject, &record, &updates))),
            SourceOperation::Erase {
                source,
                tenant,
                subject,
                plan,
            } => self
                .source(&source)
                .and_then(|s| ok(s.erase(tenant, subject, &plan))),
            SourceOperation::Restrict {
                source,
                tenant,
                subject,
                record,
                restriction,
            } => self
                .source(&source)
                .and_then(|s| ok(s.restrict(tenant, subject, &record, &restriction))),
            SourceOperation::ResealKept {
                source,
                tenant,
                subject,
                record,
            } => self
                .source(&source)
                .and_then(|s| ok(s.reseal_kept(tenant, subject, &record))),
            SourceOperation::SubjectStep {
                source,
                tenant,
                subject,
                step,
            } => self
                .source(&source)
                .and_then(|s| ok(s.subject_step(tenant, subject, &step))),
            SourceOperation::HasTenant { tenant } => {
                self.directory().and_then(|d| ok(d.has_tenant(tenant)))
            }
            SourceOperation::FindSubjects { tenant, email } => self
                .directory()
                .and_then(|d| ok(d.find_subjects(tenant, &email))),
        };
        match result {
            Ok(value) => ReplyOutcome::Ok(value),
            Err(failure) => ReplyOutcome::Error(failure),
        }
    }
}

/// Where a session's lines come from.
enum Lines {
    /// Read in the caller's thread: streams the host connected itself.
    Direct(Box<dyn BufRead + Send>),
    /// Read by a thread of their own, so a wait can end: a spawned program.
    Timed {
        lines: Receiver<Result<Option<String>, ProtocolError>>,
        timeout: Duration,
    },
}

impl Lines {
    /// Starts the reading thread; it ends at the end of `input` or when the
    /// session is dropped.
    fn timed(
        mut input: impl BufRead + Send + 'static,
        timeout: Duration,
    ) -> Result<Self, ProtocolError> {
        let (send, lines) = sync_channel(1);
        std::thread::Builder::new()
            .name("custodia-dsr-source-reader".into())
            .spawn(move || {
                loop {
                    let line = read_line(&mut input);
                    let more = matches!(line, Ok(Some(_)));
                    if send.send(line).is_err() || !more {
                        return;
                    }
                }
            })
            .map_err(|e| ProtocolError::Io(format!("starting the reader thread: {e}")))?;
        Ok(Lines::Timed { lines, timeout })
    }

    /// The next line, `None` at the end of the stream.
    fn next(&mut self, expected: impl FnOnce() -> String) -> Result<Option<String>, ProtocolError> {
        match self {
            Lines::Direct(input) => read_line(input),
            Lines::Timed { lines, timeout } => match lines.recv_timeout(*timeout) {
                Ok(line) => line,
                Err(RecvTimeoutError::Disconnected) => Ok(None),
                Err(RecvTimeoutError::Timeout) => Err(ProtocolError::TimedOut {
                    expected: expected(),
                    after: *timeout,
                }),
            },
        }
    }

    /// How long a closed program may take to exit before it is killed.
    fn grace(&self) -> Option<Duration> {
        match self {
            Lines::Direct(_) => None,
            Lines::Timed { timeout, .. } => Some(*timeout),
        }
    }
}

/// The client's end of one session: requests go out one at a time.
struct Session {
    input: Lines,
    /// `None` once closed, so the server sees the end of its input.
    output: Option<Box<dyn Write + Send>>,
    next_id: u64,
    child: Option<Child>,
}

impl Session {
    fn call<T: DeserializeOwned>(
        &mut self,
        operation: SourceOperation,
    ) -> Result<T, ProtocolError> {
        self.next_id += 1;
        let id = self.next_id;
        let output = self.output.as_mut().ok_or_else(|| ProtocolError::Closed {
            expected: format!("request {id}"),
        })?;
        write_line(output, &SourceRequest { id, operation })?;
        let expected = || format!("the reply to request {id}");
        let line = match self.input.next(expected) {
            Ok(line) => line.ok_or_else(|| ProtocolError::Closed {
                expected: expected(),
            })?,
            Err(e) => {
                if matches!(e, ProtocolError::TimedOut { .. }) {
                    self.stop();
                }
                return Err(e);
            }
        };
        let reply = decode_reply(&line)?;
        if reply.id != id {
            return Err(ProtocolError::UnexpectedReply {
                expected: id,
                found: reply.id,
            });
        }
        match reply.outcome {
            ReplyOutcome::Ok(value) => {
                serde_json::from_value(value).map_err(|e| ProtocolError::Malformed {
                    what: "reply",
                    message: format!("result of request {id}: {:?}", e.classify()),
                })
            }
            ReplyOutcome::Error(SourceFailure { kind, message }) => {
                Err(ProtocolError::Failed { kind, message })
            }
        }
    }
}

impl Session {
    /// Kills the program at once and closes the session: later calls get
    /// [`ProtocolError::Closed`].
    fn stop(&mut self) {
        self.output = None;
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Closing the server's input ends its loop; closing its output too
        // means a server still writing (a reply we stopped reading, say one
        // over MAX_LINE) gets a broken pipe instead of blocking this wait
        // for ever. Then reap it, killing it if it outstays the timeout.
        self.output = None;
        let grace = self.input.grace();
        self.input = Lines::Direct(Box::new(std::io::empty()));
        if let Some(child) = self.child.take() {
            reap(child, grace);
        }
    }
}

/// Waits for `child` to exit; after `grace` (when there is one), kills it.
fn reap(mut child: Child, grace: Option<Duration>) {
    let Some(grace) = grace else {
        let _ = child.wait();
        return;
    };
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Ok(Some(_)) | Err(_) => return,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A session with a source program: one [`PersonalDataSource`] per source it
/// serves, and its [`SubjectDirectory`]. The program is spawned by
/// [`spawn`](Self::spawn) and ends when the last of these is dropped (its
/// input closes). See the [module documentation](self).
#[derive(Clone)]
pub struct RemoteSources {
    hello: SourceHello,
    session: Arc<Mutex<Session>>,
}

impl std::fmt::Debug for RemoteSources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteSources")
            .field("hello", &self.hello)
            .finish_non_exhaustive()
    }
}

impl RemoteSources {
    /// Starts `program` with piped stdin and stdout (its stderr is the
    /// caller's) and reads its hello, waiting at most [`REPLY_TIMEOUT`] for
    /// it and for each reply.
    pub fn spawn(program: Command) -> Result<Self, ProtocolError> {
        Self::spawn_with_timeout(program, REPLY_TIMEOUT)
    }

    /// [`spawn`](Self::spawn), waiting at most `timeout` for the hello and for
    /// each reply. A program that outstays it is killed, the call gets
    /// [`ProtocolError::TimedOut`], and the session is closed (a half-done
    /// step is redone by the next run: source steps are idempotent).
    pub fn spawn_with_timeout(
        mut program: Command,
        timeout: Duration,
    ) -> Result<Self, ProtocolError> {
        let mut child = program
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| {
                ProtocolError::Io(format!(
                    "starting {}: {e}",
                    program.get_program().to_string_lossy()
                ))
            })?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            return Err(ProtocolError::Io("the program's pipes are missing".into()));
        };
        let lines = match Lines::timed(BufReader::new(stdout), timeout) {
            Ok(lines) => lines,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
        };
        Self::start(lines, Box::new(stdin), Some(child))
    }

    /// A session over streams already connected to a server (a pipe, a
    /// socket): reads the hello from `input`. Reads wait as long as `input`
    /// does (give the stream its own timeout if it needs one).
    pub fn connect(
        input: impl Read + Send + 'static,
        output: impl Write + Send + 'static,
    ) -> Result<Self, ProtocolError> {
        let lines = Lines::Direct(Box::new(BufReader::new(input)));
        Self::start(lines, Box::new(output), None)
    }

    fn start(
        input: Lines,
        output: Box<dyn Write + Send>,
        child: Option<Child>,
    ) -> Result<Self, ProtocolError> {
        let mut session = Session {
            input,
            output: Some(output),
            next_id: 0,
            child,
        };
        let expected = || "the hello line".to_owned();
        let hello = session.input.next(expected).and_then(|line| {
            decode_hello(&line.ok_or_else(|| ProtocolError::Closed {
                expected: expected(),
            })?)
        });
        match hello {
            Ok(hello) => Ok(Self {
                hello,
                session: Arc::new(Mutex::new(session)),
            }),
            Err(e) => {
                // Not a source program (or not this version, or silent): stop it.
                session.stop();
                Err(e)
            }
        }
    }

    /// The server's hello.
    pub fn hello(&self) -> &SourceHello {
        &self.hello
    }

    /// One [`PersonalDataSource`] per served source, in the hello's order.
    pub fn sources(&self) -> Vec<Arc<dyn PersonalDataSource>> {
        self.hello
            .sources
            .iter()
            .map(|name| {
                Arc::new(RemoteSource {
                    name: name.clone(),
                    subject_step: self.hello.subject_step,
                    session: Arc::clone(&self.session),
                }) as Arc<dyn PersonalDataSource>
            })
            .collect()
    }

    fn call<T: DeserializeOwned>(&self, operation: SourceOperation) -> Result<T, ProtocolError> {
        self.session
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .call(operation)
    }
}

impl SubjectDirectory for RemoteSources {
    fn has_tenant(&self, tenant: TenantId) -> Result<bool, BoxError> {
        Ok(self.call(SourceOperation::HasTenant { tenant })?)
    }

    fn find_subjects(&self, tenant: TenantId, email: &str) -> Result<Vec<SubjectId>, BoxError> {
        Ok(self.call(SourceOperation::FindSubjects {
            tenant,
            email: email.to_owned(),
        })?)
    }
}

/// One source of a [`RemoteSources`] session.
struct RemoteSource {
    name: String,
    /// Whether the server serves `subject_step` (its hello said so).
    subject_step: bool,
    session: Arc<Mutex<Session>>,
}

impl RemoteSource {
    fn call<T: DeserializeOwned>(&self, operation: SourceOperation) -> Result<T, BoxError> {
        Ok(self
            .session
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .call(operation)?)
    }
}

impl PersonalDataSource for RemoteSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn locate(&self, tenant: TenantId, subject: SubjectId) -> Result<Vec<Located>, BoxError> {
        self.call(SourceOperation::Locate {
            source: self.name.clone(),
            tenant,
            subject,
        })
    }

    fn export(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        record: &RecordRef,
    ) -> Result<ExportedRecord, BoxError> {
        self.call(SourceOperation::Export {
            source: self.name.clone(),
            tenant,
            subject,
            record: record.clone(),
        })
    }

    fn rectify(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        record: &RecordRef,
        updates: &[FieldUpdate],
    ) -> Result<(), BoxError> {
        self.call(SourceOperation::Rectify {
            source: self.name.clone(),
            tenant,
            subject,
            record: record.clone(),
            updates: updates.to_vec(),
        })
    }

    fn erase(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        plan: &ErasurePlan,
    ) -> Result<(), BoxError> {
        self.call(SourceOperation::Erase {
            source: self.name.clone(),
            tenant,
            subject,
            plan: plan.clone(),
        })
    }

    fn restrict(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        record: &RecordRef,
        restriction: &Restriction,
    ) -> Result<(), BoxError> {
        self.call(SourceOperation::Restrict {
            source: self.name.clone(),
            tenant,
            subject,
            record: record.clone(),
            restriction: restriction.clone(),
        })
    }

    fn reseal_kept(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        record: &RecordRef,
    ) -> Result<ResealOutcome, BoxError> {
        self.call(SourceOperation::ResealKept {
            source: self.name.clone(),
            tenant,
            subject,
            record: record.clone(),
        })
    }

    /// Asks the server, if its hello said it serves the step; a server
    /// built before it keeps nothing as far as the desk can know.
    fn subject_step(
        &self,
        tenant: TenantId,
        subject: SubjectId,
        step: &SubjectStep,
    ) -> Result<SubjectOutcome, BoxError> {
        if !self.subject_step {
            return Ok(SubjectOutcome::NotKept);
        }
        self.call(SourceOperation::SubjectStep {
            source: self.name.clone(),
            tenant,
            subject,
            step: step.clone(),
        })
    }
}
