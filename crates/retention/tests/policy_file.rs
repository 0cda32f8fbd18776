//! Policy files: the pinned shape parses in TOML and JSON, and every kind of
//! mistake is reported with file, line, column and what is wrong.

use custodia_core::DataCategory;
use custodia_retention::{
    Disposition, Error, Format, Keep, Period, Problem, RetentionPolicy, Trigger,
};

const ISSUE_TOML: &str = include_str!("data/issue.toml");
const ISSUE_JSON: &str = include_str!("data/issue.json");

fn fail_toml(text: &str) -> (usize, usize, Problem) {
    match RetentionPolicy::from_toml(text, "p.toml") {
        Err(Error::Policy {
            location: Some(location),
            problem,
        }) => {
            assert_eq!(&*location.file, "p.toml");
            (location.line, location.column, problem)
        }
        other => panic!("expected a located policy error, got {other:?}"),
    }
}

fn fail_json(text: &str) -> (usize, usize, Problem) {
    match RetentionPolicy::from_json(text, "p.json") {
        Err(Error::Policy {
            location: Some(location),
            problem,
        }) => (location.line, location.column, problem),
        other => panic!("expected a located policy error, got {other:?}"),
    }
}

const HEAD: &str = "version = 1\n";

fn rule(body: &str) -> String {
    format!("{HEAD}[[rule]]\n{body}")
}

#[test]
fn the_issue_example_parses() {
    let policy = RetentionPolicy::from_toml(ISSUE_TOML, "issue.toml").unwrap();
    assert_eq!(policy.rules().len(), 2);
    let tickets = policy.rule("closed-tickets").unwrap();
    assert_eq!(tickets.trigger, Trigger::Closed);
    assert_eq!(tickets.keep, Keep::Retain("3y".parse().unwrap()));
    assert_eq!(tickets.then, Disposition::Anonymize);
    assert_eq!(
        tickets.applies_to.categories,
        [DataCategory::USER_CONTENT_TICKET]
    );
    assert_eq!(policy.holds().len(), 1);
    assert_eq!(&*policy.holds()[0].id, "case-2026-17");
    let backups = policy.backups().unwrap();
    assert_eq!(backups.keep, "30d".parse::<Period>().unwrap());
    assert_eq!(backups.copies(), Some(30));
}

#[test]
fn json_is_the_same_shape() {
    let toml = RetentionPolicy::from_toml(ISSUE_TOML, "issue.toml").unwrap();
    let json = RetentionPolicy::from_json(ISSUE_JSON, "issue.json").unwrap();
    assert_eq!(toml.rules(), json.rules());
    assert_eq!(toml.holds(), json.holds());
    assert_eq!(toml.backups(), json.backups());
}

#[test]
fn from_path_picks_the_format_by_extension() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let toml = RetentionPolicy::from_path(dir.join("issue.toml")).unwrap();
    let json = RetentionPolicy::from_path(dir.join("issue.json")).unwrap();
    assert_eq!(toml.rules(), json.rules());
    let missing = RetentionPolicy::from_path(dir.join("missing.toml")).unwrap_err();
    assert!(matches!(missing, Error::Io { .. }), "{missing:?}");
}

/// Found in review: `from_path` checked the size the file system reports
/// and then read the whole file, so a policy path that reports no size (a
/// pipe, `/dev/stdin`, a process substitution) was read to its end,
/// however long, before the size limit refused it. Now reading stops one
/// byte past the limit: the writer of a 64 MiB stream finds the pipe
/// closed, and the error is `TooLarge`.
#[cfg(unix)]
#[test]
fn from_path_stops_reading_a_stream_at_the_size_limit() {
    use std::io::Write as _;
    let dir = std::env::temp_dir().join(format!(
        "custodia-retention-fifo-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("policy.toml");
    let _ = std::fs::remove_file(&fifo);
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let writer = std::thread::spawn({
        let fifo = fifo.clone();
        move || -> std::io::Result<()> {
            let mut pipe = std::fs::OpenOptions::new().write(true).open(&fifo)?;
            let chunk = vec![b'#'; 1 << 20];
            for _ in 0..64 {
                pipe.write_all(&chunk)?;
            }
            Ok(())
        }
    });
    let error = RetentionPolicy::from_path(&fifo).unwrap_err();
    let written = writer.join().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        matches!(error, Error::TooLarge { size, .. } if size > custodia_retention::MAX_POLICY_BYTES as u64),
        "{error:?}"
    );
    assert_eq!(
        written.map_err(|e| e.kind()),
        Err(std::io::ErrorKind::BrokenPipe),
        "the whole stream was read"
    );
}

#[test]
fn unknown_trigger_points_at_the_trigger_and_suggests() {
    let text = rule(
        "name = \"a\"\napplies_to = { category = \"user\" }\ntrigger = \"closd\"\nretain = \"1y\"\nthen = \"delete\"\n",
    );
    let (line, column, problem) = fail_toml(&text);
    assert_eq!((line, column), (5, 11));
    match problem {
        Problem::UnknownTrigger {
            trigger,
            suggestion,
            ..
        } => {
            assert_eq!(trigger, "closd");
            assert_eq!(suggestion.as_deref(), Some("closed"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn custom_events_must_be_declared() {
    let body = "name = \"a\"\napplies_to = {}\ntrigger = \"contract_ended\"\nretain = \"1y\"\nthen = \"delete\"\n";
    let (_, _, problem) = fail_toml(&rule(body));
    assert!(
        matches!(problem, Problem::UnknownTrigger { .. }),
        "{problem:?}"
    );
    let declared = format!("events = [\"contract_ended\"]\n{}", rule(body));
    let policy = RetentionPolicy::from_toml(&declared, "p.toml").unwrap();
    assert_eq!(
        policy.rules()[0].trigger,
        Trigger::Custom("contract_ended".into())
    );
    let bad = format!("{HEAD}events = [\"Not A Slug\"]\n");
    let (line, _, problem) = fail_toml(&bad);
    assert_eq!(line, 2);
    assert!(problem.to_string().contains("lower-case"), "{problem}");
}

#[test]
fn bad_durations_say_why_and_where() {
    for (retain, needle) in [
        ("-3y", "negative"),
        ("three years", "expected a number"),
        ("3m", "ambiguous"),
        ("99999999999y", "longer than"),
        ("P99999999999999999999999D", "too large"),
        ("1.5y", "fractional"),
    ] {
        let text = rule(&format!(
            "name = \"a\"\napplies_to = {{}}\ntrigger = \"created\"\nretain = \"{retain}\"\nthen = \"delete\"\n"
        ));
        let (line, column, problem) = fail_toml(&text);
        assert_eq!((line, column), (6, 10), "{retain}");
        match problem {
            Problem::InvalidDuration {
                input,
                reason,
                field,
            } => {
                assert_eq!(input, retain);
                assert!(reason.contains(needle), "{retain}: {reason}");
                assert!(field.contains("retain"), "{field}");
            }
            other => panic!("{retain}: {other:?}"),
        }
    }
}

#[test]
fn rules_that_can_never_match_are_refused() {
    let typo = rule(
        "name = \"a\"\napplies_to = { category = \"user.contact.emial\" }\ntrigger = \"created\"\nretain = \"1y\"\nthen = \"delete\"\n",
    );
    let (line, _, problem) = fail_toml(&typo);
    assert_eq!(line, 4);
    let message = problem.to_string();
    assert!(
        matches!(problem, Problem::NeverMatches { .. }),
        "{problem:?}"
    );
    assert!(
        message.contains("did you mean user.contact.email"),
        "{message}"
    );

    let empty = rule(
        "name = \"a\"\napplies_to = { tenant = [] }\ntrigger = \"created\"\nretain = \"1y\"\nthen = \"delete\"\n",
    );
    let (_, _, problem) = fail_toml(&empty);
    assert!(problem.to_string().contains("selects nothing"), "{problem}");

    let region = rule(
        "name = \"a\"\napplies_to = { region = \"Atlantis\" }\ntrigger = \"created\"\nretain = \"1y\"\nthen = \"delete\"\n",
    );
    let (_, _, problem) = fail_toml(&region);
    assert!(
        matches!(problem, Problem::NeverMatches { .. }),
        "{problem:?}"
    );
}

#[test]
fn custom_categories_can_be_declared() {
    let text = format!(
        "categories = [\"user.content.ticket.internal_note\"]\n{}",
        rule(
            "name = \"a\"\napplies_to = { category = \"user.content.ticket.internal_note\" }\ntrigger = \"created\"\nretain = \"1y\"\nthen = \"delete\"\n"
        )
    );
    let policy = RetentionPolicy::from_toml(&text, "p.toml").unwrap();
    assert_eq!(
        policy.rules()[0].applies_to.categories[0].as_str(),
        "user.content.ticket.internal_note"
    );
}

#[test]
fn duplicate_rule_names_name_both_lines() {
    let one = "name = \"logs\"\napplies_to = {}\ntrigger = \"created\"\nretain = \"1y\"\nthen = \"delete\"\n";
    let text = format!("{}[[rule]]\n{one}", rule(one));
    let (line, column, problem) = fail_toml(&text);
    assert_eq!((line, column), (9, 8));
    assert_eq!(
        problem,
        Problem::DuplicateRule {
            name: "logs".into(),
            first_line: 3
        }
    );
}

#[test]
fn a_hold_needs_a_scope() {
    let text =
        format!("{HEAD}[[hold]]\nid = \"case-1\"\nreason = \"litigation\"\napplies_to = {{}}\n");
    let (line, _, problem) = fail_toml(&text);
    assert_eq!(line, 5);
    assert_eq!(
        problem,
        Problem::HoldWithoutScope {
            id: "case-1".into()
        }
    );
}

#[test]
fn duplicate_holds_are_refused() {
    let hold = "[[hold]]\nid = \"case-1\"\nreason = \"x\"\napplies_to = { records = [\"t-1\"] }\n";
    let (line, _, problem) = fail_toml(&format!("{HEAD}{hold}{hold}"));
    assert_eq!(line, 7);
    assert!(
        matches!(problem, Problem::DuplicateHold { first_line: 3, .. }),
        "{problem:?}"
    );
}

#[test]
fn version_must_be_known() {
    let (line, column, problem) = fail_toml("version = 2\n");
    assert_eq!((line, column), (1, 11));
    assert_eq!(problem, Problem::UnsupportedVersion(2));
    let (_, _, problem) = fail_toml("events = []\n");
    assert!(problem.to_string().contains("version"), "{problem}");
}

#[test]
fn unknown_keys_and_bad_syntax_are_located() {
    let text = rule("name = \"a\"\napplies_to = { categroy = \"user\" }\n");
    let (line, _, problem) = fail_toml(&text);
    assert_eq!(line, 4);
    assert!(problem.to_string().contains("categroy"), "{problem}");

    let (line, _, problem) = fail_toml("version = 1\nrule = [\n");
    assert_eq!(line, 2);
    assert!(matches!(problem, Problem::Syntax { .. }));

    let text = rule(
        "name = \"a\"\napplies_to = {}\ntrigger = \"created\"\nretain = \"1y\"\nthen = \"shred\"\n",
    );
    let (line, column, problem) = fail_toml(&text);
    assert_eq!((line, column), (7, 8));
    assert!(
        matches!(problem, Problem::UnknownAction { .. }),
        "{problem:?}"
    );
}

#[test]
fn retain_xor_delete_after() {
    let both = rule(
        "name = \"a\"\napplies_to = {}\ntrigger = \"created\"\nretain = \"1y\"\ndelete_after = \"2y\"\nthen = \"delete\"\n",
    );
    assert!(fail_toml(&both).2.to_string().contains("not both"));
    let neither = rule("name = \"a\"\napplies_to = {}\ntrigger = \"created\"\nthen = \"delete\"\n");
    assert!(fail_toml(&neither).2.to_string().contains("needs retain"));
    let archive = rule(
        "name = \"a\"\napplies_to = {}\ntrigger = \"created\"\ndelete_after = \"1y\"\nthen = \"archive\"\n",
    );
    assert!(
        fail_toml(&archive)
            .2
            .to_string()
            .contains("delete_after needs")
    );
}

#[test]
fn backups_every_must_be_fixed() {
    let (line, _, problem) = fail_toml(&format!(
        "{HEAD}[backups]\nevery = \"1mo\"\nkeep = \"3mo\"\n"
    ));
    assert_eq!(line, 3);
    assert!(problem.to_string().contains("fixed"), "{problem}");
    let (line, _, problem) = fail_toml(&format!(
        "{HEAD}[backups]\nevery = \"1d\"\nkeep = \"3mo\"\nanchor = \"yesterday\"\n"
    ));
    assert_eq!(line, 5);
    assert!(problem.to_string().contains("RFC 3339"), "{problem}");
}

#[test]
fn json_errors_are_located_too() {
    let bad_trigger = ISSUE_JSON.replace("\"trigger\": \"closed\"", "\"trigger\": \"closd\"");
    let (line, column, problem) = fail_json(&bad_trigger);
    assert_eq!((line, column), (7, 18));
    assert!(matches!(problem, Problem::UnknownTrigger { .. }));

    let bad_type = ISSUE_JSON.replace("\"retain\": \"P7D\"", "\"retain\": 7");
    let (line, column, problem) = fail_json(&bad_type);
    assert_eq!(line, 15, "{problem}");
    assert_eq!(column, 17, "{problem}");
    assert!(
        problem.to_string().contains("expected a string"),
        "{problem}"
    );

    let (line, _, problem) = fail_json("{\n  \"version\": 1,\n  \"rule\": [\n");
    assert_eq!(line, 4, "{problem}");

    let dup = ISSUE_JSON.replace("\"name\": \"app-logs\"", "\"name\": \"closed-tickets\"");
    let (line, _, problem) = fail_json(&dup);
    assert_eq!(line, 12);
    assert!(
        matches!(problem, Problem::DuplicateRule { first_line: 5, .. }),
        "{problem:?}"
    );
}

#[test]
fn errors_print_file_line_column_first() {
    let err = RetentionPolicy::parse("version = 3\n", "policies/helpdesk.toml", Format::Toml)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "policies/helpdesk.toml:1:11: unsupported policy version 3; this build reads version 1"
    );
}

#[test]
fn code_built_policies_are_validated_too() {
    let policy = RetentionPolicy::from_toml(ISSUE_TOML, "issue.toml").unwrap();
    let again = policy.with_rule(policy.rules()[0].clone()).unwrap_err();
    assert!(matches!(
        again.problem(),
        Some(Problem::DuplicateRule { .. })
    ));
    assert!(again.location().is_none());
}

#[test]
fn parser_and_core_errors_are_typed_sources() {
    use std::error::Error as _;

    // A TOML syntax error: the policy error's source is the problem, whose
    // source is toml's own error.
    let error = RetentionPolicy::from_toml("version = 1\nrule = [\n", "p.toml").unwrap_err();
    let problem = error
        .source()
        .and_then(|s| s.downcast_ref::<Problem>())
        .expect("the problem is the source");
    let parser = problem
        .source()
        .and_then(|s| {
            s.downcast_ref::<custodia_core::Shared<dyn std::error::Error + Send + Sync>>()
        })
        .expect("a shared parser error");
    assert!(parser.get().is::<toml::de::Error>());

    // The same for JSON.
    let (_, _, problem) = fail_json("{\"version\": 1,");
    let parser = problem
        .source()
        .and_then(|s| {
            s.downcast_ref::<custodia_core::Shared<dyn std::error::Error + Send + Sync>>()
        })
        .expect("a shared parser error");
    assert!(parser.get().is::<serde_json::Error>());

    // A bad backup anchor: custodia-core's timestamp error.
    let (_, _, problem) = fail_toml(
        "version = 1\n[backups]\nevery = \"1d\"\nkeep = \"30d\"\nanchor = \"not a time\"\n",
    );
    assert!(matches!(problem, Problem::Invalid { .. }), "{problem:?}");
    assert!(
        problem
            .source()
            .is_some_and(|s| s.is::<custodia_core::Shared<custodia_core::Error>>())
    );
}
