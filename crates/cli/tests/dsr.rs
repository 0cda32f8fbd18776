//! `custodia dsr export|erase` over the helpdesk example's data, seeded with
//! its tickets (custodia-example-helpdesk's `demo::seed`) and served by a
//! real source program over the source protocol: this test binary itself,
//! run with `--serve-helpdesk-source DIR`, does what
//! `custodia-helpdesk-source --data DIR` does (the same library call), so
//! the command talks to a child process on stdin/stdout as in production.
//! No libtest harness (`harness = false`): its banner would go to the
//! source's stdout.

use std::path::Path;
use std::process::{Command, ExitCode, Output};
use std::sync::Arc;

use custodia_core::ManualClock;
use custodia_example_helpdesk::demo::{self, Cast};

const SERVE: &str = "--serve-helpdesk-source";
/// The same source, as a program built before the subject-level step would
/// serve it: its hello does not offer `subject_step`.
const SERVE_OLD: &str = "--serve-old-helpdesk-source";
/// A source program with no records whose directory finds Dora (a contact
/// with no ticket) by her email ([`DoraOnly`]).
const SERVE_DIRECTORY: &str = "--serve-directory-source";

fn custodia_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_custodia"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

fn custodia(args: &[&str]) -> Output {
    custodia_in(Path::new("."), args)
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh data directory with the example's six tickets and Alice's portal
/// sign-in. The helpdesk is closed (its log lock released) on return.
fn seeded() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(demo::start_time()));
    drop(demo::seed(dir.path(), clock).unwrap());
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

/// `dsr SUB` with the options naming the data directory's log and keys and,
/// for an erasure, the example's policy, rules and checkpoint key.
fn dsr_options(sub: &str, data: &Path) -> Vec<String> {
    let path = |name: &str| data.join(name).to_str().unwrap().to_owned();
    let mut options: Vec<String> = vec!["dsr".into(), sub.into()];
    let mut add = |pairs: &[(&str, String)]| {
        for (flag, value) in pairs {
            options.extend([(*flag).to_owned(), value.clone()]);
        }
    };
    add(&[
        ("--audit", path("audit")),
        ("--master-key", path("root.key")),
        ("--subject-keys", path("keys.store")),
    ]);
    if sub == "erase" {
        add(&[
            ("--policy", path("retention.toml")),
            ("--exception", "closed-tickets=legal-claims".into()),
            ("--anonymize", "user.content.ticket".into()),
            ("--checkpoint-key", path("checkpoint.key")),
            ("--checkpoint-dir", path("checkpoints")),
        ]);
    }
    options
}

/// [`dsr_options`] over `data`, then `args`, then after `--` the source
/// program serving `source` (usually `data` too), which is also the
/// command's working directory.
fn dsr_with_source(sub: &str, data: &Path, source: &Path, args: &[&str]) -> Output {
    dsr_command(sub, data, source, args).output().unwrap()
}

/// The command [`dsr_with_source`] runs, not yet started.
fn dsr_command(sub: &str, data: &Path, source: &Path, args: &[&str]) -> Command {
    dsr_serving(SERVE, sub, data, source, args)
}

/// [`dsr_command`] with the source program served as `serve` says
/// ([`SERVE`], [`SERVE_OLD`], [`SERVE_DIRECTORY`]).
fn dsr_serving(serve: &str, sub: &str, data: &Path, source: &Path, args: &[&str]) -> Command {
    let exe = std::env::current_exe().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_custodia"));
    command
        .args(dsr_options(sub, data))
        .args(args)
        .args(["--", s(&exe), serve, s(source)])
        .current_dir(source);
    command
}

fn dsr(sub: &str, data: impl AsRef<Path>, args: &[&str]) -> Output {
    dsr_with_source(sub, data.as_ref(), data.as_ref(), args)
}

/// [`dsr`] with the source served as an older program would ([`SERVE_OLD`]).
fn dsr_old(sub: &str, data: &Path, args: &[&str]) -> Output {
    dsr_serving(SERVE_OLD, sub, data, data, args)
        .output()
        .unwrap()
}

/// Dora, ACME's contact 2003: no ticket, found by email by [`DoraOnly`].
fn dora() -> custodia_core::SubjectId {
    custodia_core::SubjectId::from_external_key(Cast::new().acme, "psa.contact", "2003")
}

/// A directory (a contact list) that holds Dora, who has no record.
struct DoraOnly;

impl custodia_dsr::remote::SubjectDirectory for DoraOnly {
    fn has_tenant(&self, tenant: custodia_core::TenantId) -> Result<bool, custodia_dsr::BoxError> {
        Ok(tenant == Cast::new().acme)
    }
    fn find_subjects(
        &self,
        tenant: custodia_core::TenantId,
        email: &str,
    ) -> Result<Vec<custodia_core::SubjectId>, custodia_dsr::BoxError> {
        Ok(
            if tenant == Cast::new().acme && email == "dora@example.com" {
                vec![dora()]
            } else {
                Vec::new()
            },
        )
    }
}

/// Standard output that drops the hello's `subject_step` offer (the
/// hello is written in one piece).
struct WithoutSubjectStep<W>(W);

impl<W: std::io::Write> std::io::Write for WithoutSubjectStep<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        if text.contains(r#","subject_step":true"#) {
            self.0
                .write_all(text.replace(r#","subject_step":true"#, "").as_bytes())?;
            return Ok(buf.len());
        }
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, _] = args.as_slice()
        && flag == SERVE_DIRECTORY
    {
        let contacts = custodia_dsr::MemorySource::new("contacts");
        let served = custodia_dsr::remote::SourceServer::new(vec![&contacts])
            .with_directory(&DoraOnly)
            .serve(std::io::stdin().lock(), std::io::stdout().lock());
        return match served {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("directory source: {e}");
                ExitCode::from(2)
            }
        };
    }
    if let [_, flag, dir] = args.as_slice()
        && (flag == SERVE || flag == SERVE_OLD)
    {
        let served = if flag == SERVE {
            custodia_example_helpdesk::serve_source(
                Path::new(dir),
                std::io::stdin().lock(),
                std::io::stdout().lock(),
            )
        } else {
            custodia_example_helpdesk::serve_source(
                Path::new(dir),
                std::io::stdin().lock(),
                WithoutSubjectStep(std::io::stdout().lock()),
            )
        };
        return match served {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("helpdesk source: {e}");
                ExitCode::from(2)
            }
        };
    }
    let tests: [(&str, fn()); 16] = [
        (
            "an_export_that_cannot_be_written_leaves_no_bundle_behind",
            an_export_that_cannot_be_written_leaves_no_bundle_behind,
        ),
        (
            "an_out_that_is_a_file_is_refused_before_the_request",
            an_out_that_is_a_file_is_refused_before_the_request,
        ),
        (
            "restrict_reaches_a_contact_with_no_ticket_and_export_and_erase_show_it",
            restrict_reaches_a_contact_with_no_ticket_and_export_and_erase_show_it,
        ),
        (
            "restrict_refuses_an_unknown_subject_unless_told_it_has_no_record_yet",
            restrict_refuses_an_unknown_subject_unless_told_it_has_no_record_yet,
        ),
        (
            "a_source_program_without_the_subject_step_still_works",
            a_source_program_without_the_subject_step_still_works,
        ),
        (
            "export_says_when_an_audit_value_could_not_be_read",
            export_says_when_an_audit_value_could_not_be_read,
        ),
        (
            "the_email_comes_from_stdin_or_a_file_and_in_argv_it_warns",
            the_email_comes_from_stdin_or_a_file_and_in_argv_it_warns,
        ),
        (
            "the_export_bundle_is_readable_by_its_owner_only",
            the_export_bundle_is_readable_by_its_owner_only,
        ),
        (
            "a_source_reply_over_16_mib_is_a_clear_error",
            a_source_reply_over_16_mib_is_a_clear_error,
        ),
        (
            "erase_killed_at_random_moments_then_rerun_completes",
            erase_killed_at_random_moments_then_rerun_completes,
        ),
        (
            "export_writes_the_subjects_bundle_and_nobody_elses",
            export_writes_the_subjects_bundle_and_nobody_elses,
        ),
        (
            "erase_prints_the_certificate_and_the_log_still_verifies",
            erase_prints_the_certificate_and_the_log_still_verifies,
        ),
        (
            "erase_keeps_what_the_policy_keeps_and_says_why",
            erase_keeps_what_the_policy_keeps_and_says_why,
        ),
        (
            "bad_input_exits_2_with_a_reason",
            bad_input_exits_2_with_a_reason,
        ),
        (
            "help_documents_the_exit_codes",
            help_documents_the_exit_codes,
        ),
        (
            "audit_export_opens_the_helpdesk_keyring_and_shows_the_erasure",
            audit_export_opens_the_helpdesk_keyring_and_shows_the_erasure,
        ),
    ];
    // `cargo test -- NAME` runs the tests whose names contain NAME.
    let filter: Vec<&String> = args
        .iter()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let (mut passed, mut failed) = (0, 0);
    for (name, test) in tests {
        if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let ok = std::panic::catch_unwind(test).is_ok();
        println!("test {name} ... {}", if ok { "ok" } else { "FAILED" });
        if ok {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    println!(
        "\ntest result: {}. {passed} passed; {failed} failed; 0 ignored; 0 measured; 0 filtered out\n",
        if failed == 0 { "ok" } else { "FAILED" }
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Found in review: one of Alice's audit values that her key does not
/// open (here an envelope of hers sealed for another event) failed every
/// export of her data. Now the bundle is written with the value marked
/// unreadable, and the summary (text and JSON) and manifest count it.
fn export_says_when_an_audit_value_could_not_be_read() {
    use custodia_audit::{Action, Actor, ActorKind, Event, Personal, Target};
    let data = seeded();
    let c = Cast::new();
    {
        let clock = Arc::new(ManualClock::new(demo::start_time()));
        let hd = custodia_example_helpdesk::Helpdesk::open(data.path(), clock.clone()).unwrap();
        let ctx = custodia_crypt::FieldContext::new(
            c.acme,
            custodia_audit::personal::RECORD_TYPE,
            "another-event",
            "note",
        )
        .unwrap();
        let mut moved = Event::builder(
            c.acme,
            Actor::new(ActorKind::Agent, c.acme_agent),
            Action::Read,
            Target::new("ticket", "T-1002").unwrap(),
        )
        .subject(c.alice)
        .build(clock.as_ref())
        .unwrap();
        moved.note = Some(Personal::Sealed {
            subject: c.alice,
            sealed: hd.vault().seal(c.alice, &ctx, b"moved").unwrap(),
        });
        hd.append(moved).unwrap();
    }
    let tenant = c.acme.to_string();
    let out_dir = data.path().join("alice-export");
    let args = [
        "--tenant",
        tenant.as_str(),
        "--email",
        "alice.ng@example.com",
        "--out",
        s(&out_dir),
    ];
    let o = dsr("export", s(data.path()), &args);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        out(&o).contains("incomplete: 1 audit value(s) about them could not be read"),
        "{}",
        out(&o)
    );
    let audit = read(&out_dir.join("audit-events.csv"));
    assert!(audit.contains("[unreadable: not_authentic]"), "{audit}");
    assert!(audit.contains(demo::ALICE_PORTAL_IP), "{audit}");
    let manifest: serde_json::Value =
        serde_json::from_str(&read(&out_dir.join("manifest.json"))).unwrap();
    assert_eq!(manifest["audit_unreadable"], 1);
    let mut json = args.to_vec();
    json.push("--json");
    let o = dsr("export", s(data.path()), &json);
    assert!(o.status.success(), "{}", err(&o));
    let summary: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(summary["audit_unreadable"], 1);
}

fn export_writes_the_subjects_bundle_and_nobody_elses() {
    let data = seeded();
    let out_dir = data.path().join("alice-export");
    let c = Cast::new();
    let tenant = c.acme.to_string();
    let o = dsr(
        "export",
        s(data.path()),
        &[
            "--tenant",
            &tenant,
            "--email",
            " ALICE.NG@example.com",
            "--out",
            s(&out_dir),
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains(&c.alice.to_string()), "{}", out(&o));
    assert!(out(&o).contains("T-1001, T-1002"), "{}", out(&o));

    let bundle = read(&out_dir.join("bundle.json"));
    let csv = read(&out_dir.join("tickets-ticket.csv"));
    let audit = read(&out_dir.join("audit-events.csv"));
    let manifest: serde_json::Value =
        serde_json::from_str(&read(&out_dir.join("manifest.json"))).unwrap();
    for text in [&bundle, &csv] {
        assert!(text.contains("Alice.Ng@example.com"));
        assert!(text.contains("VPN keeps dropping"));
        // Not Bob's, not Priya's.
        assert!(!text.contains("bob.li@example.org"));
        assert!(!text.contains("Priya"));
        assert!(!text.contains("T-1004"));
    }
    // Her portal sign-in, opened with her key.
    assert!(audit.contains(demo::ALICE_PORTAL_IP), "{audit}");
    assert_eq!(manifest["subject"], c.alice.to_string());
    assert_eq!(manifest["sources"][0]["records"], 2);
    let files: Vec<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    for f in &files {
        assert!(out_dir.join(f).is_file(), "{f} listed but missing");
    }
    assert!(files.contains(&"tickets-ticket.csv"));

    // For a spreadsheet: the same files, no cell that starts a formula.
    let sheet_dir = data.path().join("alice-sheet");
    let o = dsr(
        "export",
        s(data.path()),
        &[
            "--tenant",
            &tenant,
            "--email",
            " ALICE.NG@example.com",
            "--out",
            s(&sheet_dir),
            "--spreadsheet-csv",
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    for f in &files {
        assert!(sheet_dir.join(f).is_file(), "{f} missing");
        if f.ends_with(".csv") {
            let text = read(&sheet_dir.join(f));
            for line in text.split("\r\n") {
                for cell in line.split(',') {
                    let cell = cell.trim_start_matches('"');
                    assert!(!cell.starts_with(['=', '+', '-', '@']), "{f}: {line}");
                }
            }
        }
    }
    assert!(read(&sheet_dir.join("tickets-ticket.csv")).contains("Alice.Ng@example.com"));

    // JSON summary, default output directory inside DATA/exports.
    let o = dsr(
        "export",
        s(data.path()),
        &[
            "--tenant",
            &c.globex.to_string(),
            "--subject",
            &c.priya.to_string(),
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    let summary: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(summary["records"], 2);
    // Relative to the command's working directory (here the data's).
    let dir = data.path().join(summary["out"].as_str().unwrap());
    assert!(summary["out"].as_str().unwrap().starts_with("exports"));
    assert!(read(&dir.join("bundle.json")).contains("priya.shah@example.co.uk"));
}

/// `dsr` with `args` and `stdin` on its standard input.
fn dsr_fed(sub: &str, data: &Path, args: &[&str], stdin: &str) -> Output {
    fed(dsr_command(sub, data, data, args), stdin)
}

/// Runs `command` with `stdin` on its standard input.
fn fed(mut command: Command, stdin: &str) -> Output {
    use std::io::Write;
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A refusal may come before the input is read: not a test failure.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

/// The address need not be in the command line, where `ps` and the
/// shell's history would see it: `--email-stdin` and `--email-file` read
/// it; `--email ADDR` still works and says why not to use it.
fn the_email_comes_from_stdin_or_a_file_and_in_argv_it_warns() {
    let data = seeded();
    let c = Cast::new();
    let tenant = c.acme.to_string();
    let alice = c.alice.to_string();
    let warning = "--email puts the address in the command line";
    let o = dsr_fed(
        "export",
        data.path(),
        &["--tenant", &tenant, "--email-stdin", "--json"],
        " ALICE.NG@example.com\r\nignored second line\n",
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains(&alice), "{}", out(&o));
    assert!(!err(&o).contains(warning), "{}", err(&o));

    let file = data.path().join("email.txt");
    std::fs::write(&file, "alice.ng@example.com").unwrap();
    let o = dsr(
        "export",
        data.path(),
        &["--tenant", &tenant, "--email-file", s(&file), "--json"],
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains(&alice), "{}", out(&o));
    assert!(!err(&o).contains(warning), "{}", err(&o));

    let o = dsr(
        "export",
        data.path(),
        &["--tenant", &tenant, "--email", demo::ALICE_EMAIL, "--json"],
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains(&alice), "{}", out(&o));
    assert!(err(&o).contains(warning), "{}", err(&o));
    assert!(err(&o).contains("--email-stdin"), "{}", err(&o));

    // Bad input: nothing on the line, a line too long to be an address, a
    // missing file, two ways at once. Errors never quote the input.
    let long = format!("{}@example.com\n", "a".repeat(2000));
    for (args, stdin, reason) in [
        (
            vec!["--email-stdin"],
            "",
            "no email address on the first line",
        ),
        (
            vec!["--email-stdin"],
            "  \nalice.ng@example.com\n",
            "no email address",
        ),
        (vec!["--email-stdin"], long.as_str(), "over 1024 bytes"),
        (
            vec!["--email-file", "/nonexistent/email"],
            "",
            "/nonexistent/email",
        ),
        (
            vec!["--email-stdin", "--email-file", s(&file)],
            "",
            "cannot be used with",
        ),
        (
            vec!["--email-stdin", "--subject", &alice],
            "",
            "cannot be used with",
        ),
    ] {
        let mut all = vec!["--tenant", tenant.as_str()];
        all.extend(args.iter().copied());
        let o = dsr_fed("export", data.path(), &all, stdin);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", out(&o));
        assert!(err(&o).contains(reason), "{args:?}: {}", err(&o));
        assert!(!err(&o).contains("aaaa@"), "{}", err(&o));
    }
}

fn erase_prints_the_certificate_and_the_log_still_verifies() {
    let data = seeded();
    let c = Cast::new();
    let tenant = c.acme.to_string();
    let alice = c.alice.to_string();
    let dir = s(data.path());
    let o = dsr("erase", dir, &["--tenant", &tenant, "--subject", &alice]);
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    assert!(text.contains("erased: 2"), "{text}");
    assert!(text.contains("T-1001") && text.contains("T-1002"), "{text}");
    assert!(text.contains("kept: 0"), "{text}");
    assert!(text.contains("subject key: shredded at"), "{text}");
    assert!(text.contains("backups clear by: 20"), "{text}");

    // Nothing of hers is left to export; her sign-in IP is unreadable.
    let out_dir = data.path().join("after");
    let o = dsr(
        "export",
        dir,
        &[
            "--tenant",
            &tenant,
            "--subject",
            &alice,
            "--out",
            s(&out_dir),
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    let bundle: serde_json::Value =
        serde_json::from_str(&read(&out_dir.join("bundle.json"))).unwrap();
    assert_eq!(bundle["records"].as_array().unwrap().len(), 0);
    let audit = read(&out_dir.join("audit-events.csv"));
    assert!(!audit.contains(demo::ALICE_PORTAL_IP), "{audit}");
    assert!(audit.contains("[erased]"), "{audit}");
    // Her email is gone from the blind index too.
    let o = dsr(
        "export",
        dir,
        &["--tenant", &tenant, "--email", demo::ALICE_EMAIL],
    );
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));

    // The log verifies, and extends the checkpoint taken before the erasure.
    let audit_dir = data.path().join("audit");
    let o = custodia(&["audit", "verify", s(&audit_dir)]);
    assert!(o.status.success(), "{}", err(&o));
    let checkpoint = std::fs::read_dir(data.path().join("checkpoints"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(text.contains(s(&checkpoint)), "{text}");
    let key = data.path().join("checkpoint.pub");
    let o = custodia(&[
        "audit",
        "verify",
        s(&audit_dir),
        "--checkpoint",
        s(&checkpoint),
        "--key",
        s(&key),
    ]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("signature verified"), "{}", out(&o));
}

fn erase_keeps_what_the_policy_keeps_and_says_why() {
    let data = seeded();
    let c = Cast::new();
    let o = dsr(
        "erase",
        s(data.path()),
        &[
            "--tenant",
            &c.globex.to_string(),
            "--email",
            "priya.shah@example.co.uk",
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    // One JSON document on one line.
    assert_eq!(out(&o).lines().count(), 1, "{}", out(&o));
    let cert: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(cert["schema"], "custodia.dsr.erasure_certificate");
    let checkpoint = Path::new(cert["checkpoint"].as_str().unwrap());
    assert!(checkpoint.starts_with(data.path().join("checkpoints")));
    assert!(checkpoint.is_file());
    assert_eq!(cert["subject"], c.priya.to_string());
    let erased: Vec<&str> = cert["erased"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["record"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(erased, ["T-2001"]);
    // The closed ticket is within its 3-year warranty retention.
    let kept = &cert["kept"][0];
    assert_eq!(kept["record"]["id"], "T-2002");
    assert_eq!(kept["exception"], "legal_claims");
    assert!(kept["reason"].as_str().unwrap().contains("closed-tickets"));
    assert!(kept["until"].as_str().unwrap().starts_with("2029-10-01"));
    // The store re-sealed the kept ticket under the tenant's key, so her own
    // key did not have to wait for the retention to end.
    assert_eq!(kept["subject_key"]["status"], "resealed", "{kept}");
    assert_eq!(cert["records_resealed"], 1);
    assert_eq!(cert["subject_key"]["status"], "shredded", "{cert}");
    let o = custodia(&["audit", "verify", s(&data.path().join("audit"))]);
    assert!(o.status.success(), "{}", err(&o));

    // The kept ticket is still hers and still readable: an access request
    // after the erasure returns it, and nothing else.
    let o = dsr(
        "export",
        s(data.path()),
        &[
            "--tenant",
            &c.globex.to_string(),
            "--subject",
            &c.priya.to_string(),
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    let summary: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(summary["records"], 1, "{summary}");
    let bundle = read(
        &data
            .path()
            .join(summary["out"].as_str().unwrap())
            .join("bundle.json"),
    );
    assert!(bundle.contains("T-2002"), "{bundle}");
    assert!(bundle.contains("priya.shah@example.co.uk"), "{bundle}");
}

fn bad_input_exits_2_with_a_reason() {
    let data = seeded();
    let c = Cast::new();
    let dir = s(data.path());
    let acme = c.acme.to_string();
    let alice = c.alice.to_string();
    let missing = data.path().join("missing");
    let empty = tempfile::tempdir().unwrap();
    let stranger =
        custodia_core::SubjectId::from_external_key(c.acme, "psa.contact", "9999").to_string();
    let other_tenant =
        custodia_core::TenantId::from_external_key("billing.account", "NOBODY").to_string();
    // (subcommand, data directory, source's data directory, arguments, reason)
    let cases: Vec<(&str, &Path, &Path, Vec<&str>, &str)> = vec![
        (
            "export",
            &missing,
            data.path(),
            vec!["--tenant", &acme, "--subject", &alice],
            "not a directory",
        ),
        (
            "erase",
            data.path(),
            empty.path(),
            vec!["--tenant", &acme, "--subject", &alice],
            "not a helpdesk data directory",
        ),
        (
            "export",
            data.path(),
            data.path(),
            vec!["--tenant", &acme, "--subject", &stranger],
            "unknown subject",
        ),
        (
            "erase",
            data.path(),
            data.path(),
            vec!["--tenant", &other_tenant, "--subject", &alice],
            "unknown tenant",
        ),
        (
            "export",
            data.path(),
            data.path(),
            vec!["--tenant", &acme, "--email", "nobody@example.com"],
            "no contact",
        ),
        (
            "export",
            data.path(),
            data.path(),
            vec!["--tenant", &acme, "--subject", &alice, "--email", "a@b.c"],
            "cannot be used with",
        ),
        (
            "erase",
            data.path(),
            data.path(),
            vec!["--tenant", &acme],
            "required",
        ),
        (
            "export",
            data.path(),
            data.path(),
            vec!["--tenant", "not-a-uuid", "--subject", &alice],
            "tenant",
        ),
        (
            "erase",
            data.path(),
            data.path(),
            vec![
                "--tenant",
                &acme,
                "--subject",
                &alice,
                "--exception",
                "closed-tickets=whim",
            ],
            "unknown exception",
        ),
    ];
    for (sub, data_dir, source_dir, args, reason) in cases {
        let o = dsr_with_source(sub, data_dir, source_dir, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", out(&o));
        assert!(err(&o).contains(reason), "{args:?}: {}", err(&o));
    }
    // A key store that is not there is named (`audit export` shares the check).
    let store = data.path().join("keys.store");
    let aside = data.path().join("keys.store.aside");
    std::fs::rename(&store, &aside).unwrap();
    let o = dsr("export", dir, &["--tenant", &acme, "--subject", &alice]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(
        err(&o).contains(&format!("{}: no such key store", store.display())),
        "{}",
        err(&o)
    );
    assert!(!store.exists());
    std::fs::rename(&aside, &store).unwrap();
    // A program that is not a source, and no program at all.
    let mut base = dsr_options("export", data.path());
    base.extend([
        "--tenant".into(),
        acme.clone(),
        "--subject".into(),
        alice.clone(),
    ]);
    let base: Vec<&str> = base.iter().map(String::as_str).collect();
    for (tail, reason) in [
        (&["--", "true"][..], "before the hello line"),
        (
            &["--", "/nonexistent/source"][..],
            "starting /nonexistent/source",
        ),
        (&[][..], "PROGRAM"),
        (
            &["--source-timeout", "1", "--", "sh", "-c", "exec sleep 600"][..],
            "the hello line did not come within 1s; the program was stopped",
        ),
    ] {
        let o = custodia(&[&base[..], tail].concat());
        assert_eq!(o.status.code(), Some(2), "{tail:?}: {}", out(&o));
        assert!(err(&o).contains(reason), "{tail:?}: {}", err(&o));
    }
    // A checkpoint key others can read is refused as a master key is,
    // before the source program starts.
    {
        use std::os::unix::fs::PermissionsExt;
        let key = data.path().join("checkpoint.key");
        let private = std::fs::Permissions::from_mode(0o600);
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let o = dsr("erase", dir, &["--tenant", &acme, "--subject", &alice]);
        std::fs::set_permissions(&key, private).unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", out(&o));
        assert!(
            err(&o).contains("has mode 644; key files must be 0600 or stricter"),
            "{}",
            err(&o)
        );
    }
    // Nothing was erased by the failed calls.
    let o = dsr("export", dir, &["--tenant", &acme, "--subject", &alice]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("T-1001, T-1002"), "{}", out(&o));
}

fn help_documents_the_exit_codes() {
    for sub in ["export", "erase", "restrict", ""] {
        let args: Vec<&str> = ["dsr", sub, "--help"]
            .into_iter()
            .filter(|a| !a.is_empty())
            .collect();
        let o = custodia(&args);
        assert!(o.status.success());
        let text = out(&o);
        assert!(
            text.contains("Exit codes: 0 ok; 2 usage or input error"),
            "{text}"
        );
        if !sub.is_empty() {
            assert!(text.contains("--email"), "{text}");
            assert!(text.contains("--email-stdin"), "{text}");
            assert!(text.contains("--email-file"), "{text}");
            assert!(
                text.contains("Deprecated: the address is then in the command line"),
                "{text}"
            );
            assert!(text.contains("one line of JSON"), "{text}");
        }
        if sub == "restrict" {
            assert!(
                text.contains("--no-record-yet") && text.contains("refused"),
                "{text}"
            );
        }
    }
}

fn audit_export_opens_the_helpdesk_keyring_and_shows_the_erasure() {
    let data = seeded();
    let c = Cast::new();
    let export = || {
        custodia(&[
            "audit",
            "export",
            s(&data.path().join("audit")),
            "--subject",
            &c.alice.to_string(),
            "--master-key",
            s(&data.path().join("root.key")),
            "--subject-keys",
            s(&data.path().join("keys.store")),
        ])
    };
    // The example's key store holds random, wrapped tenant keys: the
    // exporter opens the store's own keyring and her sign-in IP reads back.
    let o = export();
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains(demo::ALICE_PORTAL_IP), "{}", out(&o));

    let o = dsr(
        "erase",
        s(data.path()),
        &[
            "--tenant",
            &c.acme.to_string(),
            "--subject",
            &c.alice.to_string(),
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    // After the erasure her events are still listed, her IP no longer.
    let o = export();
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("login"), "{}", out(&o));
    assert!(!out(&o).contains(demo::ALICE_PORTAL_IP), "{}", out(&o));
}

/// `dsr erase` killed with SIGKILL at random moments (seeded delays, so a
/// failure replays): the re-run completes, the subject's records are gone,
/// the log verifies, and a third run finds nothing left to erase.
fn erase_killed_at_random_moments_then_rerun_completes() {
    let c = Cast::new();
    let (tenant, alice) = (c.acme.to_string(), c.alice.to_string());
    let args = ["--tenant", tenant.as_str(), "--subject", alice.as_str()];
    let mut state = 0x00e4_a5ed_5eed_u64;
    let mut killed = 0;
    for run in 0..6 {
        let data = seeded();
        let mut child = dsr_command("erase", data.path(), data.path(), &args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // xorshift: a delay within the ~150 ms an erasure takes here.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        std::thread::sleep(std::time::Duration::from_millis(state % 120));
        if child.try_wait().unwrap().is_none() && child.kill().is_ok() {
            killed += 1;
        }
        let _ = child.wait();

        let again = dsr("erase", data.path(), &args);
        assert!(
            again.status.success(),
            "run {run}: the re-run fails: {}",
            err(&again)
        );
        let bundle_dir = data.path().join("after");
        let export = dsr(
            "export",
            data.path(),
            &[&args[..], &["--out", s(&bundle_dir)]].concat(),
        );
        assert!(export.status.success(), "run {run}: {}", err(&export));
        let bundle: serde_json::Value =
            serde_json::from_str(&read(&bundle_dir.join("bundle.json"))).unwrap();
        assert_eq!(
            bundle["records"].as_array().map(Vec::len),
            Some(0),
            "run {run}"
        );
        let verified = custodia(&["audit", "verify", s(&data.path().join("audit"))]);
        assert!(verified.status.success(), "run {run}: {}", err(&verified));
        // Applied once: nothing is left for a third run to erase.
        let third = dsr("erase", data.path(), &args);
        assert!(
            out(&third).contains("erased: 0"),
            "run {run}: {}",
            out(&third)
        );
    }
    assert!(killed > 0, "the campaign must kill some runs");
    eprintln!("{killed} of 6 erasures killed");
}

/// A source program whose reply is longer than the protocol's 16 MiB line:
/// `dsr export` stops with exit 2 and the reason, in bounded memory, and
/// does not wait for the program to finish writing it.
fn a_source_reply_over_16_mib_is_a_clear_error() {
    let data = seeded();
    let hello =
        r#"{"protocol":"custodia.dsr.source","version":1,"sources":["tickets"],"directory":true}"#;
    let script = format!("echo '{hello}'; head -c 20000000 /dev/zero | tr '\\0' x");
    let tenant = Cast::new().acme.to_string();
    let mut args = dsr_options("export", data.path());
    args.extend(
        [
            "--tenant",
            &tenant,
            "--email",
            demo::ALICE_EMAIL,
            "--",
            "sh",
            "-c",
            &script,
        ]
        .map(String::from),
    );
    let o = custodia_in(
        data.path(),
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("exceeds"), "{}", err(&o));
}

/// The export bundle is every personal value the helpdesk holds about the
/// person, decrypted (the database keeps contact fields sealed): its
/// directory and files must not take the process umask (0755 / 0644 under
/// the usual 022), which lets every local user read them, but be 0700 and
/// 0600 like the key files the command writes; no staging file is left.
fn the_export_bundle_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let data = seeded();
    let out_dir = data.path().join("alice-export");
    let o = export_alice(data.path(), &out_dir);
    assert!(o.status.success(), "{}", err(&o));
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let bundle = out_dir.join("bundle.json");
    assert!(read(&bundle).contains("Alice.Ng@example.com"));
    let loose: Vec<String> = std::iter::once(out_dir.clone())
        .chain(
            std::fs::read_dir(&out_dir)
                .unwrap()
                .map(|e| e.unwrap().path()),
        )
        .filter(|p| mode(p) & 0o077 != 0)
        .map(|p| format!("{} {:o}", p.display(), mode(&p)))
        .collect();
    assert!(loose.is_empty(), "readable by group/others: {loose:?}");
    let staged: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(staged.is_empty(), "{staged:?}");
}

/// An export whose bundle cannot be written whole (here a name it needs is
/// taken by a directory; a full disk is the same) fails (exit 2) and
/// leaves `--out` as it was: no bundle.json with the person's data
/// decrypted, no staging directory beside it.
fn an_export_that_cannot_be_written_leaves_no_bundle_behind() {
    let data = seeded();
    let parent = data.path().join("exports");
    let out_dir = parent.join("alice");
    let export = || export_alice(data.path(), &out_dir);
    // A name every bundle has taken by a directory: refused before the
    // request is made, so the log holds nothing of it.
    std::fs::create_dir_all(out_dir.join("manifest.json")).unwrap();
    let before = alices_log(data.path());
    let o = export();
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(err(&o).contains("manifest.json"), "{}", err(&o));
    assert_eq!(alices_log(data.path()), before);
    std::fs::remove_dir(out_dir.join("manifest.json")).unwrap();

    // A name only this bundle has (its source's CSV file) is found once
    // the bundle is made.
    std::fs::create_dir_all(out_dir.join("tickets-ticket.csv")).unwrap();
    let o = export();
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(err(&o).contains("tickets-ticket.csv"), "{}", err(&o));
    let names = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(names(&out_dir), ["tickets-ticket.csv"]);
    assert_eq!(names(&parent), ["alice"]);

    // Found in review: the request was completed (and audited so) before
    // the bundle was written, so the log said an export was answered that
    // never reached anyone. Now it stays open: its bundle audited as
    // produced, its delivery as failed, never completed.
    assert!(
        err(&o).contains("not delivered") && err(&o).contains("stays open"),
        "{}",
        err(&o)
    );
    let log = alices_log(data.path());
    let failed: Vec<&(String, String)> = log
        .iter()
        .filter(|(action, _)| action == "dsr.bundle_delivery")
        .collect();
    assert_eq!(failed.len(), 1, "{log:?}");
    let request = &failed[0].1;
    let steps: Vec<&str> = log
        .iter()
        .filter(|(_, target)| target == request)
        .map(|(action, _)| action.as_str())
        .collect();
    assert_eq!(
        steps,
        [
            "dsr.request_received",
            "dsr.identity_verified",
            "dsr.work_started",
            "export",
            "dsr.bundle_delivery"
        ],
        "{log:?}"
    );
    assert!(err(&o).contains(request.as_str()), "{}", err(&o));

    // Once the way is clear, a new request is answered and completed.
    std::fs::remove_dir(out_dir.join("tickets-ticket.csv")).unwrap();
    let o = export();
    assert!(o.status.success(), "{}", err(&o));
    assert!(out_dir.join("bundle.json").is_file());
    let log = alices_log(data.path());
    let completed = log
        .iter()
        .filter(|(action, _)| action == "dsr.request_completed")
        .map(|(_, target)| target)
        .collect::<Vec<_>>();
    assert_eq!(completed.len(), 1, "{log:?}");
    assert_ne!(completed[0], request);
}

/// An `--out` that is a file is refused, as `--help` says, before the
/// request is made: the log holds nothing of it and the file is untouched.
fn an_out_that_is_a_file_is_refused_before_the_request() {
    let data = seeded();
    let out_file = data.path().join("alice.txt");
    std::fs::write(&out_file, "not a directory").unwrap();
    let before = alices_log(data.path());
    let o = export_alice(data.path(), &out_file);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(
        err(&o).contains("exists and is not a directory; nothing was written"),
        "{}",
        err(&o)
    );
    assert_eq!(alices_log(data.path()), before);
    assert_eq!(
        std::fs::read_to_string(&out_file).unwrap(),
        "not a directory"
    );
}

/// `custodia dsr export` of Alice (tenant ACME) from the data directory
/// `data` into `out`.
fn export_alice(data: &Path, out: &Path) -> std::process::Output {
    let c = Cast::new();
    dsr(
        "export",
        s(data),
        &[
            "--tenant",
            &c.acme.to_string(),
            "--subject",
            &c.alice.to_string(),
            "--out",
            s(out),
        ],
    )
}

/// Alice's events in the data directory's audit log, as `custodia audit
/// export` lists them: (action, target id), oldest first.
fn alices_log(data: &Path) -> Vec<(String, String)> {
    let c = Cast::new();
    let o = custodia(&[
        "audit",
        "export",
        s(&data.join("audit")),
        "--subject",
        &c.alice.to_string(),
        "--master-key",
        s(&data.join("root.key")),
        "--subject-keys",
        s(&data.join("keys.store")),
        "--json",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let export: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    export["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let event = &e["event"];
            (
                event["action"].as_str().unwrap().to_owned(),
                event["target"]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect()
}

/// A new ticket of `subject` of ACME stored in the data directory `dir`
/// (the helpdesk opened and closed again); whether it was stored restricted.
fn new_ticket_restricted(dir: &Path, id: &str, subject: custodia_core::SubjectId) -> bool {
    let c = Cast::new();
    let clock = Arc::new(ManualClock::new(demo::start_time()));
    let hd = custodia_example_helpdesk::Helpdesk::open(dir, clock).unwrap();
    let stored = hd
        .tickets()
        .insert(&custodia_example_helpdesk::NewTicket {
            id,
            tenant: c.acme,
            subject,
            owner: c.acme_agent,
            created: demo::start_time(),
            closed: None,
            status: "open",
            subject_line: "Monitor flickers",
            name: "Someone",
            email: "carol@example.com",
            phone: "",
            body: "It flickers.",
        })
        .unwrap();
    stored.restricted
}

/// The contact register's row of `subject` of ACME in `dir`, if any.
fn registered(dir: &Path, subject: custodia_core::SubjectId) -> Option<bool> {
    let clock = Arc::new(ManualClock::new(demo::start_time()));
    let hd = custodia_example_helpdesk::Helpdesk::open(dir, clock).unwrap();
    hd.tickets()
        .contact_processing(Cast::new().acme, subject)
        .unwrap()
        .map(|p| p.restricted)
}

/// Found in review: `custodia dsr` over `custodia-helpdesk-source` reached
/// the contact register only through located tickets, so a contact with
/// no ticket could not be restricted that way (and `dsr` had no
/// restriction at all); an export did not show the register row, and an
/// erasure left it. Now `dsr restrict` records Carol's restriction with no
/// ticket (her next ticket is stored restricted), `dsr export` lists the
/// row, and `dsr erase` removes it and says so.
fn restrict_reaches_a_contact_with_no_ticket_and_export_and_erase_show_it() {
    let data = seeded();
    let c = Cast::new();
    let tenant = c.acme.to_string();
    let carol = custodia_core::SubjectId::from_external_key(c.acme, "psa.contact", "2001");
    let carol_id = carol.to_string();
    let dir = data.path();
    let who = ["--tenant", tenant.as_str(), "--subject", carol_id.as_str()];

    // Found in review: a lift for a contact never restricted said the
    // records stored later are not covered, as though a restriction had
    // missed them. Now it says there was nothing to lift.
    let dave = custodia_core::SubjectId::from_external_key(c.acme, "psa.contact", "2002");
    let dave_id = dave.to_string();
    let o = dsr(
        "restrict",
        dir,
        &[
            "--tenant",
            tenant.as_str(),
            "--subject",
            dave_id.as_str(),
            "--lift",
            "--no-record-yet",
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        out(&o).contains("subject-level state: none held (nothing to lift)")
            && !out(&o).contains("not covered"),
        "{}",
        out(&o)
    );
    assert_eq!(registered(dir, dave), None);

    // Carol has no ticket and no audit event yet: the operator says so.
    let o = dsr(
        "restrict",
        dir,
        &[&who[..], &["--json", "--no-record-yet"]].concat(),
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        err(&o).contains("no records or audit events") && !err(&o).contains("reached nothing"),
        "{}",
        err(&o)
    );
    let report: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(report["kind"], "restriction");
    assert_eq!(report["records"], 0);
    assert_eq!(
        report["subject_records"],
        serde_json::json!([{"source": "tickets", "record_type": "contact_register", "id": carol_id}])
    );
    assert_eq!(registered(dir, carol), Some(true));
    assert!(new_ticket_restricted(dir, "T-3001", carol));

    // From now on her audit events make her known: no flag is needed.
    // Her access export lists the register row.
    let out_dir = dir.join("carol-export");
    let o = dsr("export", dir, &[&who[..], &["--out", s(&out_dir)]].concat());
    assert!(o.status.success(), "{}", err(&o));
    let csv = read(&out_dir.join("tickets-contact_register.csv"));
    assert!(
        csv.contains(&carol_id) && csv.contains("restricted"),
        "{csv}"
    );

    // Lifted in words; the row goes.
    let o = dsr("restrict", dir, &[&who[..], &["--lift"]].concat());
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).starts_with("lift for subject"), "{}", out(&o));
    assert!(
        out(&o).contains("subject-level state: tickets contact_register"),
        "{}",
        out(&o)
    );
    assert_eq!(registered(dir, carol), None);

    // An objection, then her erasure removes the row and says so.
    let o = dsr(
        "restrict",
        dir,
        &[&who[..], &["--object", "ai_assistance"]].concat(),
    );
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(registered(dir, carol), Some(false));
    let o = dsr("erase", dir, &[&who[..], &["--json"]].concat());
    assert!(o.status.success(), "{}", err(&o));
    let certificate: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    let register: Vec<_> = certificate["erased"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["subject_level"] == true)
        .collect();
    assert_eq!(register.len(), 1, "{certificate}");
    assert_eq!(register[0]["record"]["record_type"], "contact_register");
    assert_eq!(registered(dir, carol), None);
}

/// Every file under the data directory's audit log with its contents, to
/// tell that a refused command wrote nothing there.
fn audit_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir.join("audit"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// Found in review: with a source program that offers the subject-level
/// step (every one of this build), `dsr restrict` took any subject id: a
/// mistyped one was received, verified and audited as a restriction (or
/// lift, or objection) of nobody, and the contact register got a row for
/// an id nobody has, with only a note on standard error. Now an id with no
/// record and no audit event is refused (exit 2, naming what was looked
/// for and `--no-record-yet`) and nothing is written: no request or step
/// in the log, no register row. `--no-record-yet` names an id (not an
/// email), and a source program that keeps no subject-level state still
/// refuses it, since nothing would record the restriction. A person the
/// source program's directory finds by email is known to it and needs no
/// flag; when the step is offered but nothing keeps such state, a warning
/// says the restriction reached nothing.
fn restrict_refuses_an_unknown_subject_unless_told_it_has_no_record_yet() {
    let data = seeded();
    let c = Cast::new();
    let tenant = c.acme.to_string();
    let dir = data.path();
    // Carol's contact number with two digits swapped.
    let typo = custodia_core::SubjectId::from_external_key(c.acme, "psa.contact", "2010");
    let typo_id = typo.to_string();
    let who = ["--tenant", tenant.as_str(), "--subject", typo_id.as_str()];
    let before = audit_files(dir);
    let extras: [&[&str]; 4] = [
        &[],
        &["--json"],
        &["--lift"],
        &["--object", "ai_assistance"],
    ];
    for extra in extras {
        let o = dsr("restrict", dir, &[&who[..], extra].concat());
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", out(&o));
        assert_eq!(out(&o), "", "{extra:?}");
        let e = err(&o);
        assert!(
            e.contains(&format!("unknown subject {typo_id} in tenant {tenant}"))
                && e.contains("no source located a record of them")
                && e.contains("no audit event about them")
                && e.contains("nothing was recorded")
                && e.contains("--no-record-yet"),
            "{extra:?}: {e}"
        );
    }
    // Through a source program that keeps no subject-level state the flag
    // would reach nothing: still refused.
    let o = dsr_old("restrict", dir, &[&who[..], &["--no-record-yet"]].concat());
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(
        err(&o).contains("unknown subject")
            && err(&o).contains("keeps no state about a person as a whole"),
        "{}",
        err(&o)
    );
    // The flag is for an id: a person found by email is known to the
    // source program's directory.
    let o = dsr_fed(
        "restrict",
        dir,
        &["--tenant", &tenant, "--email-stdin", "--no-record-yet"],
        "alice.ng@example.com\n",
    );
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(
        err(&o).contains("'--email-stdin' cannot be used with '--no-record-yet'"),
        "{}",
        err(&o)
    );
    assert_eq!(
        audit_files(dir),
        before,
        "a refused restrict wrote to the log"
    );
    assert_eq!(registered(dir, typo), None);

    // Dora has no record and no audit event either, but the source
    // program's directory finds her by email: she is known to it, so her
    // restriction by email needs no flag. Her id alone is still refused,
    // and her export by email too, as before.
    let by_email = ["--tenant", tenant.as_str(), "--email-stdin"];
    let dora_id = dora().to_string();
    let run = |sub: &str, args: &[&str], stdin: &str| {
        fed(dsr_serving(SERVE_DIRECTORY, sub, dir, dir, args), stdin)
    };
    let o = run("export", &by_email, "dora@example.com\n");
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(err(&o).contains("unknown subject"), "{}", err(&o));
    let o = run(
        "restrict",
        &["--tenant", &tenant, "--subject", &dora_id],
        "",
    );
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(err(&o).contains("--no-record-yet"), "{}", err(&o));
    assert_eq!(
        audit_files(dir),
        before,
        "a refused request wrote to the log"
    );
    let o = run(
        "restrict",
        &[&by_email[..], &["--json"]].concat(),
        "dora@example.com\n",
    );
    assert!(o.status.success(), "{}", err(&o));
    let report: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(report["subject"], dora_id.as_str(), "{report}");
    assert_eq!(report["kind"], "restriction", "{report}");
    // This source program offers the step but keeps nothing: it says so.
    assert!(
        err(&o).contains("the restriction reached nothing and does not cover"),
        "{}",
        err(&o)
    );
    // Her request is in the log now: her id is known.
    let o = run(
        "restrict",
        &["--tenant", &tenant, "--subject", &dora_id, "--lift"],
        "",
    );
    assert!(o.status.success(), "{}", err(&o));
}

/// A source program built before the subject-level step (its hello does
/// not offer it) still serves every request: restricting Bob reaches his
/// tickets (and, through them, the register), export and erasure run as
/// before; a contact with no ticket and no events is still refused as
/// unknown, since nothing could record her restriction.
fn a_source_program_without_the_subject_step_still_works() {
    let data = seeded();
    let c = Cast::new();
    let tenant = c.acme.to_string();
    let bob = c.bob.to_string();
    let dir = data.path();
    let o = dsr_old(
        "restrict",
        dir,
        &["--tenant", &tenant, "--subject", &bob, "--json"],
    );
    assert!(o.status.success(), "{}", err(&o));
    let report: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(report["records"], 2, "{report}");
    assert_eq!(report["subject_records"], serde_json::json!([]));
    assert_eq!(registered(dir, c.bob), Some(true));

    let out_dir = dir.join("bob-export");
    let o = dsr_old(
        "export",
        dir,
        &["--tenant", &tenant, "--subject", &bob, "--out", s(&out_dir)],
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(!out_dir.join("tickets-contact_register.csv").exists());
    assert!(out_dir.join("tickets-ticket.csv").exists());

    let carol =
        custodia_core::SubjectId::from_external_key(c.acme, "psa.contact", "2001").to_string();
    let o = dsr_old("restrict", dir, &["--tenant", &tenant, "--subject", &carol]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(err(&o).contains("unknown subject"), "{}", err(&o));

    let o = dsr_old("erase", dir, &["--tenant", &tenant, "--subject", &bob]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("erased: 2"), "{}", out(&o));
}
