//! `custodia mask` end to end, including bad input.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn custodia(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_custodia"))
        .arg("mask")
        .args(args)
        .env_remove("CUSTODIA_MASK_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the custodia binary runs");
    // A usage error may exit before reading: a closed pipe is fine then.
    let _ = child.stdin.take().expect("stdin").write_all(stdin);
    child.wait_with_output().expect("output")
}

/// The findings of `text` as `serde_json` values, scores to three decimals:
/// what `--detect` writes, built the slow way.
fn entities_of(detector: &custodia_mask::Detector, text: &str) -> Vec<serde_json::Value> {
    detector
        .detect(text)
        .iter()
        .map(|e| {
            let score = (f64::from(e.score) * 1000.0).round() / 1000.0;
            serde_json::json!({"kind": e.kind, "start": e.start, "end": e.end, "score": score})
        })
        .collect()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8")
}

#[test]
fn masks_text_from_stdin() {
    let o = custodia(&[], b"mail jane@example.com or call +44 20 7946 0958\n");
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "mail [EMAIL] or call [PHONE]\n");
}

#[test]
fn masks_a_file_with_partial_strategy() {
    let dir = std::env::temp_dir().join(format!("custodia-mask-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("t.txt");
    std::fs::write(&path, "card 4111 1111 1111 1111").unwrap();
    let o = custodia(&[path.to_str().unwrap(), "--strategy", "partial"], b"");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(stdout(&o), "card ************1111");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn jsonl_masks_each_line_in_order() {
    let input = b"{\"id\":\"a\",\"text\":\"SSN 536-90-4399\"}\n{\"text\":\"nothing here\"}\n\n{\"id\":7,\"text\":\"jane@example.com\"}\n";
    let o = custodia(&["--jsonl"], input);
    assert_eq!(o.status.code(), Some(0));
    // The blank third line gives an empty third line.
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or(serde_json::Value::Null))
        .collect();
    assert_eq!(
        lines,
        vec![
            serde_json::json!({"id": "a", "text": "SSN [US_SSN]"}),
            serde_json::json!({"id": null, "text": "nothing here"}),
            serde_json::Value::Null,
            serde_json::json!({"id": 7, "text": "[EMAIL]"}),
        ]
    );
}

/// Found in review: a blank input line gave no output line, so without
/// ids output line N no longer answered input line N. Now it gives an
/// empty line, with --detect too, wherever it falls in a batch, and
/// `--help` says so.
#[test]
fn a_blank_jsonl_line_gives_an_empty_line_so_lines_still_match() {
    let input = b"\n{\"text\":\"jane@example.com\"}\n  \t\n\r\n{\"text\":\"nothing\"}\n\n   ";
    let o = custodia(&["--jsonl"], input);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o),
        "\n{\"id\":null,\"text\":\"[EMAIL]\"}\n\n\n{\"id\":null,\"text\":\"nothing\"}\n\n\n"
    );
    let o = custodia(&["--jsonl", "--detect"], input);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 7, "{out:?}");
    for blank in [0, 2, 3, 5, 6] {
        assert_eq!(lines[blank], "", "{out:?}");
    }
    assert!(lines[1].contains("\"kind\":\"EMAIL\""), "{out:?}");
    assert_eq!(lines[4], "{\"entities\":[],\"id\":null}");
    // Input line N is output line N however the input is split across
    // the workers and batches.
    let mut input = String::new();
    for i in 0..45_000 {
        if i % 3 == 0 {
            input.push('\n');
        } else {
            input.push_str(&format!("{{\"text\":\"line {i} {FILLER}\"}}\n"));
        }
    }
    // More than one 4 MiB batch (it once fitted in one, and the batch
    // boundary went untested).
    assert!(input.len() > 4 << 20, "{}", input.len());
    // From a file: written to stdin, the output would fill its pipe first.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.jsonl");
    std::fs::write(&path, &input).unwrap();
    let path = path.to_str().unwrap();
    let o = custodia(&[path, "--jsonl"], b"");
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 45_000);
    for (i, line) in out.lines().enumerate() {
        if i % 3 == 0 {
            assert_eq!(line, "", "line {}", i + 1);
        } else {
            assert!(
                line.contains(&format!("line {i} ")),
                "line {}: {line}",
                i + 1
            );
        }
    }
    // And with --detect: a findings line for each line of text (the
    // filler has nothing to find), an empty one for each blank.
    let o = custodia(&[path, "--jsonl", "--detect"], b"");
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 45_000);
    for (i, line) in out.lines().enumerate() {
        let expected = if i % 3 == 0 {
            ""
        } else {
            "{\"entities\":[],\"id\":null}"
        };
        assert_eq!(line, expected, "line {}", i + 1);
    }
    let help = mask_help();
    assert!(
        help.contains("a blank input line (only whitespace) gives an empty output line"),
        "{help}"
    );
}

#[test]
fn detect_emits_utf8_byte_offsets_and_exits_1() {
    let text = "Zoë: zoe@example.com";
    let line = serde_json::json!({"id": "x", "text": text}).to_string();
    let o = custodia(&["--jsonl", "--detect"], line.as_bytes());
    assert_eq!(o.status.code(), Some(1), "a finding exits 1");
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let span = |e: &serde_json::Value| {
        let (s, end) = (
            e["start"].as_u64().unwrap() as usize,
            e["end"].as_u64().unwrap() as usize,
        );
        &text[s..end]
    };
    // `Zoë` (three characters, four bytes) is a given name.
    assert_eq!(span(&v["entities"][0]), "Zoë");
    assert_eq!(v["entities"][0]["kind"], "PERSON");
    let e = &v["entities"][1];
    assert_eq!(span(e), "zoe@example.com");
    assert_eq!(e["kind"], "EMAIL");
    assert!(e["score"].as_f64().unwrap() > 0.5);
    let clean = custodia(&["--jsonl", "--detect"], b"{\"id\":1,\"text\":\"hello\"}\n");
    assert_eq!(clean.status.code(), Some(0));
    assert_eq!(stdout(&clean).trim(), "{\"entities\":[],\"id\":1}");
}

#[test]
fn detect_on_plain_text_and_options() {
    let o = custodia(
        &["--detect", "--regions", "us"],
        b"TFN 123 456 782 and SSN 536-90-4399",
    );
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let kinds: Vec<&str> = v["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["US_SSN"], "only US recognizers");
    let o = custodia(&["--min-score", "1.0"], b"call 555-867-5309");
    assert_eq!(stdout(&o), "call 555-867-5309");
}

#[test]
fn pseudonyms_need_a_tenant_and_a_key() {
    let o = custodia(&["--strategy", "pseudonym"], b"x");
    assert_eq!(o.status.code(), Some(2));
    let tenant = custodia_core::TenantId::from_external_key("crm", "ACME").to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_custodia"))
        .args(["mask", "--strategy", "pseudonym", "--tenant", &tenant])
        .env("CUSTODIA_MASK_KEY", "0123456789abcdef0123456789abcdef")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"jane@example.com")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("<EMAIL_") && text.len() == "<EMAIL_>".len() + 16,
        "{text}"
    );
}

/// The key is read as bytes (and wiped when dropped, as the reading's
/// error would not be): one that is not UTF-8 is refused as such, not
/// reported missing.
#[cfg(unix)]
#[test]
fn a_pseudonym_key_that_is_not_utf8_is_refused_as_such() {
    use std::os::unix::ffi::OsStrExt;
    let tenant = custodia_core::TenantId::from_external_key("crm", "ACME").to_string();
    let key = std::ffi::OsStr::from_bytes(b"0123456789abcdef\xff0123456789abcde");
    let o = Command::new(env!("CARGO_BIN_EXE_custodia"))
        .args(["mask", "--strategy", "pseudonym", "--tenant", &tenant])
        .env("CUSTODIA_MASK_KEY", key)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("CUSTODIA_MASK_KEY: the key is not UTF-8"),
        "{err}"
    );
    assert!(!err.contains("0123456789abcdef"), "{err}");
}

#[test]
fn bad_input_is_a_usage_error_with_a_reason() {
    for (args, stdin, needle) in [
        (
            vec!["--jsonl"],
            &b"{\"id\":1,\"text\":\"ok\"}\nnot json\n"[..],
            "line 2: not JSON",
        ),
        (
            vec!["--jsonl"],
            &b"{\"id\":1}\n"[..],
            "line 1: expected an object",
        ),
        (
            vec!["--jsonl"],
            &b"{\"text\":\"\xff\"}\n"[..],
            "line 1: not UTF-8",
        ),
        (vec!["--strategy", "shred"], &b""[..], "--strategy"),
        (vec!["--strategy", "tokenize"], &b""[..], "vault"),
        (vec!["--regions", "mars"], &b""[..], "--regions"),
        (vec!["--min-score", "3"], &b""[..], "--min-score"),
        (vec!["/nonexistent/file.txt"], &b""[..], "cannot open"),
    ] {
        let o = custodia(&args, stdin);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn invalid_utf8_text_is_copied_through() {
    let o = custodia(&[], b"\xff\xfe jane@example.com \xc3");
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(o.stdout, b"\xff\xfe [EMAIL] \xc3".to_vec());
}

#[test]
fn german_region_alone() {
    let text = b"KVNR A123456780, USt-IdNr DE136695976, SSN 536-90-4399, NIF 12345678Z";
    let o = custodia(&["--detect", "--regions", "de"], text);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let kinds: Vec<&str> = v["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["DE_KVNR", "DE_VAT_CODE"]);
    let masked = custodia(&["--regions", "eu"], text);
    assert_eq!(
        stdout(&masked),
        "KVNR [DE_KVNR], USt-IdNr [DE_VAT_CODE], SSN 536-90-4399, NIF [ES_NIF]"
    );
}

/// Ticket prose without personal data, to make lines ticket-sized.
const FILLER: &str = "The shared printer on the third floor stopped again after the update; \
    we restarted it twice and the queue still shows every job as pending since this morning.";

/// JSONL lines over several 4 MiB batches, with every shape of id, escapes,
/// non-ASCII text and PII: the output equals masking each line alone, in
/// input order, with the keys sorted as `serde_json` writes a map.
#[test]
fn jsonl_over_several_batches_equals_masking_each_line_in_order() {
    use custodia_mask::{Detector, Masker};
    let texts = [
        "Mail jane.doe@example.com about ticket 7",
        "Zoë said \"call +44 20 7946 0958\"\tplease",
        "card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00",
        "nothing personal here, just a printer on fire",
        "back\\slash and newline\n inside, SSN 536-90-4399",
    ];
    let ids = [
        serde_json::json!(7),
        serde_json::json!("T-1"),
        serde_json::Value::Null,
        serde_json::json!({"a": [1, 2]}),
    ];
    let mut input = String::new();
    let mut lines = Vec::new();
    for i in 0..40_000usize {
        let text = format!("{} #{i} {FILLER}", texts[i % texts.len()]);
        let line = if i % 9 == 8 {
            serde_json::json!({"text": text})
        } else {
            serde_json::json!({"id": ids[i % ids.len()], "text": text, "extra": true})
        };
        input.push_str(&line.to_string());
        input.push('\n');
        lines.push(line);
    }
    assert!(input.len() > 2 * (4 << 20), "spans three batches");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.jsonl");
    std::fs::write(&path, &input).unwrap();
    let masker = Masker::new(Detector::new());
    for detect in [false, true] {
        let mut args = vec![path.to_str().unwrap(), "--jsonl"];
        if detect {
            args.push("--detect");
        }
        let o = custodia(&args, b"");
        assert_eq!(o.status.code(), Some(if detect { 1 } else { 0 }));
        let out = stdout(&o);
        let got: Vec<&str> = out.lines().collect();
        assert_eq!(got.len(), lines.len());
        for (line, got) in lines.iter().zip(got) {
            let id = line.get("id").cloned().unwrap_or(serde_json::Value::Null);
            let text = line["text"].as_str().unwrap();
            let want = if detect {
                serde_json::json!({"id": id, "entities": entities_of(masker.detector(), text)})
            } else {
                serde_json::json!({"id": id, "text": masker.mask(text).unwrap().text})
            };
            assert_eq!(got, want.to_string());
        }
    }

    // A bad line in a later batch: every line before it is written, and the
    // error names it.
    let bad_at = 30_001;
    let mut broken: Vec<&str> = input.lines().collect();
    broken[bad_at - 1] = "{\"id\": 1, \"txt\": \"typo\"}";
    std::fs::write(&path, broken.join("\n")).unwrap();
    let o = custodia(&[path.to_str().unwrap(), "--jsonl"], b"");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o).lines().count(), bad_at - 1);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&format!("line {bad_at}:")), "{err}");
}

#[test]
fn jsonl_lines_with_escapes_spaces_and_other_shapes() {
    // Plain lines take a hand-written path, the rest serde_json's: the
    // output and the errors are the same either way.
    let input = "{\"id\": \"a\", \"text\": \"h\\u00e9llo \\\"q\\\"\\n\"}\n \
                 {\"text\":\"h\u{e9}llo\"} \r\n\
                 {\"text\":\"x\",\"id\":7}\n\
                 {\"id\":\"b\",\"extra\":1,\"text\":\"x\"}\n\
                 \n\
                 {\"id\":\"c\",\"text\":\"\"}";
    let o = custodia(&["--jsonl"], input.as_bytes());
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o),
        "{\"id\":\"a\",\"text\":\"h\u{e9}llo \\\"q\\\"\\n\"}\n\
         {\"id\":null,\"text\":\"h\u{e9}llo\"}\n\
         {\"id\":7,\"text\":\"x\"}\n\
         {\"id\":\"b\",\"text\":\"x\"}\n\
         \n\
         {\"id\":\"c\",\"text\":\"\"}\n"
    );
    let o = custodia(
        &["--jsonl", "--detect"],
        b"{\"id\": \"a\" , \"text\" : \"a\\tb\"}\n",
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "{\"entities\":[],\"id\":\"a\"}\n");
    for (stdin, needle) in [
        (
            &b"{\"text\":\"a\",\"text\":\"b\"}\n"[..],
            "line 1: expected an object",
        ),
        (&b"{\"text\":\"a\tb\"}\n"[..], "line 1: not JSON"),
        (
            &b"{\"id\":\"\xff\",\"text\":\"a\"}\n"[..],
            "line 1: not UTF-8",
        ),
        (&b"{\"text\":\"\xc3\"}\n"[..], "line 1: not UTF-8"),
        (&b"{\"text\":\"a\"} x\n"[..], "line 1: not JSON"),
        (&b"{\"text\":\"a\"\n"[..], "line 1: not JSON"),
    ] {
        for args in [&["--jsonl"][..], &["--jsonl", "--detect"][..]] {
            let o = custodia(args, stdin);
            assert_eq!(o.status.code(), Some(2), "{stdin:?}");
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(err.contains(needle), "{stdin:?}: {err}");
        }
    }
}

/// Plain text's `--detect` line is the one `serde_json` writes of the
/// findings as a map (keys sorted, scores to three decimals), byte for byte.
#[test]
fn detect_on_plain_text_writes_what_serde_json_writes() {
    let text = "Hi, I'm Jane Doe (jane.doe@example.com), card 4111 1111 1111 1111, \
                call +44 20 7946 0958.\nRegards,\nAroha Ngata, 14 Harbour St, Wellington 6011 — Māori \
                Health Ltd, IBAN DE89 3704 0044 0532 0130 00.\n";
    let o = custodia(&["--detect"], text.as_bytes());
    assert_eq!(o.status.code(), Some(1));
    let entities = entities_of(&custodia_mask::Detector::new(), text);
    assert!(entities.len() >= 6, "{entities:?}");
    let want = serde_json::json!({"id": null, "entities": entities});
    assert_eq!(stdout(&o), format!("{want}\n"));
}

/// Runs `custodia mask FLAGS` with its standard output closed before it
/// writes anything (the reader of `| head -c1` gone), feeding it `input`.
fn exit_code_with_closed_stdout(flags: &[&str], input: &str) -> Option<i32> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_custodia"))
        .arg("mask")
        .args(flags)
        .env_remove("CUSTODIA_MASK_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the custodia binary runs");
    drop(child.stdout.take());
    // Without a gate the command may stop reading once its output is gone.
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes());
    child.wait().expect("exit status").code()
}

/// `--detect` and `--fail-on-find` are gates: exit 1 means "personal data
/// found". A reader that goes away (`custodia mask --fail-on-find log |
/// head`) must not turn that into exit 0, in text and `--jsonl` mode alike,
/// also when the personal data comes after the output closed (the rest of
/// the input is still scanned). With nothing found, or without a gate, a
/// closed standard output is exit 0.
#[test]
fn a_closed_stdout_does_not_turn_a_finding_into_exit_0() {
    let personal = "mail jane@example.com or call +44 20 7946 0958\n";
    let clean = "the printer on floor two is out of toner again\n";
    let everywhere = personal.repeat(2000);
    let at_the_end = clean.repeat(20_000) + personal;
    let nothing = clean.repeat(20_000);
    let jsonl = |text: &str| {
        text.lines()
            .map(|line| format!("{}\n", serde_json::json!({ "text": line })))
            .collect::<String>()
    };
    for (mode, flags) in [
        ("text", &["--detect"][..]),
        ("text", &["--fail-on-find"][..]),
        ("text", &["--fail-on-find", "--json"][..]),
        ("jsonl", &["--jsonl", "--detect"][..]),
        ("jsonl", &["--jsonl", "--fail-on-find"][..]),
    ] {
        let shaped = |text: &str| {
            if mode == "jsonl" {
                jsonl(text)
            } else {
                text.to_owned()
            }
        };
        for (what, input, want) in [
            ("personal data throughout", shaped(&everywhere), 1),
            ("personal data on the last line", shaped(&at_the_end), 1),
            ("no personal data", shaped(&nothing), 0),
        ] {
            assert_eq!(
                exit_code_with_closed_stdout(flags, &input),
                Some(want),
                "mask {flags:?} on {what} with standard output closed"
            );
        }
    }
    // No gate: a closed pipe is not an error.
    assert_eq!(exit_code_with_closed_stdout(&[], &everywhere), Some(0));
    assert_eq!(
        exit_code_with_closed_stdout(&["--jsonl"], &jsonl(&everywhere)),
        Some(0)
    );
}

/// What `--detect` wrote for plain text before it had a detection-only
/// path: the entries of `mask_stream`'s report into a sink.
fn detect_line_the_old_way(text: &str) -> String {
    let masker = custodia_mask::Masker::new(custodia_mask::Detector::new());
    let report = masker
        .mask_stream(text.as_bytes(), std::io::sink(), None, None)
        .expect("masks");
    let entities: Vec<_> = report
        .entries
        .iter()
        .map(|e| {
            let score = (f64::from(e.score) * 1000.0).round() / 1000.0;
            serde_json::json!({"kind": e.kind, "start": e.start, "end": e.end, "score": score})
        })
        .collect();
    format!(
        "{}\n",
        serde_json::json!({"id": null, "entities": entities})
    )
}

/// Plain text's `--detect` writes byte for byte what it wrote when it
/// masked into a sink: on the dev corpus, and on input of several stream
/// chunks with values across the chunks' ends and a long key block.
#[test]
fn detect_on_plain_text_is_what_masking_into_a_sink_found() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../mask/tests/data/dev.jsonl");
    let mut corpus = String::new();
    for line in std::fs::read_to_string(path).expect("dev corpus").lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        corpus.push_str(v["text"].as_str().expect("a text"));
        corpus.push('\n');
    }
    let chunk = custodia_mask::stream::CHUNK;
    let mut long = String::new();
    let mut i = 0;
    while long.len() < 3 * chunk {
        long.push_str(&"pad ".repeat(i % 11));
        long.push_str("mail jane.doe@example.com card 4111 1111 1111 1111 call +44 20 7946 0958 ");
        long.push_str(&"y".repeat(i % 17));
        long.push(' ');
        i += 1;
    }
    long.push_str("\n-----BEGIN RSA PRIVATE KEY-----\n");
    for n in 0..300 {
        long.push_str(&format!(
            "MIIE{n:08}QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk\n"
        ));
    }
    long.push_str("-----END RSA PRIVATE KEY-----\n");
    while long.len() < 5 * chunk {
        long.push_str("IBAN DE89 3704 0044 0532 0130 00, SSN 150-59-7454\n");
    }
    for text in [&corpus, &long] {
        assert!(text.len() > chunk);
        let o = custodia(&["--detect"], text.as_bytes());
        assert_eq!(o.status.code(), Some(1));
        assert_eq!(stdout(&o), detect_line_the_old_way(text));
    }
}

/// A line whose "text" is no string is refused without quoting the value:
/// serde's message names a mistyped number whole, and a number in a line
/// to mask may be a card or an account number.
#[test]
fn a_mistyped_text_is_refused_without_quoting_it() {
    for line in [
        "{\"text\": 4111111111111111}\n",
        "{\"id\": 7, \"text\": -4111111111111111}\n",
        "{\"text\": 4111111111111111.5}\n",
        "{\"text\": true}\n",
        "{\"text\": [\"4111111111111111\"]}\n",
    ] {
        for args in [&["--jsonl"][..], &["--jsonl", "--detect"][..]] {
            let o = custodia(args, line.as_bytes());
            assert_eq!(o.status.code(), Some(2), "{line}");
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(!err.contains("4111"), "{line}: {err}");
            assert!(
                err.contains("line 1: expected an object with a string \"text\""),
                "{err}"
            );
            assert!(err.contains("column"), "{err}");
        }
    }
    // The reason is still named.
    let o = custodia(&["--jsonl"], b"{\"text\": 4111111111111111}\n");
    assert!(String::from_utf8_lossy(&o.stderr).contains("invalid type: integer"));
    let o = custodia(&["--jsonl"], b"{\"id\": 1}\n");
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing field `text`"));
}

/// A gate that found something but could not write its output (a full
/// disk) exits 2 with the reason, as every failed write does: its exit 1
/// promises the output was written.
#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_is_exit_2_even_when_a_gate_found_something() {
    for args in [
        &["--detect"][..],
        &["--fail-on-find"][..],
        &["--json", "--fail-on-find"][..],
        &["--jsonl", "--fail-on-find"][..],
        &["--jsonl", "--detect"][..],
    ] {
        let input: &[u8] = if args.contains(&"--jsonl") {
            b"{\"text\":\"mail jane@example.com\"}\n"
        } else {
            b"mail jane@example.com\n"
        };
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let mut child = Command::new(env!("CARGO_BIN_EXE_custodia"))
            .arg("mask")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(full)
            .stderr(Stdio::piped())
            .spawn()
            .expect("the custodia binary runs");
        let _ = child.stdin.take().expect("stdin").write_all(input);
        let o = child.wait_with_output().expect("output");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("No space left"), "{args:?}: {err}");
    }
}

/// What the help says of organisations: found and counted (so a gate
/// fails on one), but kept in the output whatever the strategy.
#[test]
fn a_found_organisation_is_counted_and_kept() {
    let text = b"Invoice from Kiwi Fibre Networks Ltd\n";
    for strategy in ["redact", "partial", "replace:X"] {
        let o = custodia(&["--strategy", strategy, "--json"], text);
        let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
        assert_eq!(doc["counts"]["ORGANIZATION"], 1, "{doc}");
        assert_eq!(doc["findings"], 1, "{doc}");
        assert!(
            doc["text"]
                .as_str()
                .unwrap()
                .contains("Kiwi Fibre Networks Ltd")
        );
    }
    let o = custodia(&["--fail-on-find"], text);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(o.stdout, text);
    let help = mask_help();
    assert!(
        help.contains("organisations (ORGANIZATION) are found and counted but kept"),
        "{help}"
    );
}

/// `--jsonl` copies each line's "id" as written, neither scanned nor
/// masked (it keys the output to the input), and its help says so.
#[test]
fn a_jsonl_id_is_copied_as_written_and_the_help_says_so() {
    let o = custodia(
        &["--jsonl", "--fail-on-find"],
        b"{\"id\":\"jane@example.com\",\"text\":\"hi\"}\n",
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o),
        "{\"id\":\"jane@example.com\",\"text\":\"hi\"}\n"
    );
    let help = mask_help();
    assert!(
        help.contains("\"id\" is copied as written, neither scanned nor masked"),
        "{help}"
    );
}

/// `--json` writes the text as a JSON string: bytes that are not UTF-8,
/// copied through as they are in plain output, become U+FFFD there, as
/// `--help` says.
#[test]
fn json_output_replaces_invalid_utf8_as_the_help_says() {
    let o = custodia(&["--json"], b"\xff jane@example.com");
    assert_eq!(o.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["text"], "\u{fffd} [EMAIL]");
    let help = mask_help();
    assert!(
        help.contains("bytes that are not UTF-8, which plain output copies through, become U+FFFD"),
        "{help}"
    );
}

/// `custodia mask --help` with its lines joined (clap wraps them at the
/// terminal's width), so a phrase is found wherever it was wrapped.
fn mask_help() -> String {
    let o = custodia(&["--help"], b"");
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
