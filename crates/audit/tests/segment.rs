//! The segment-file store: tampering is detected, crashes are recovered,
//! durability modes, queries.

use std::fs;
use std::path::{Path, PathBuf};

use custodia_audit::store::segment::{
    HEADER_LEN, LOCK_FILE, MAX_TORN_BYTES, RECORD_HEADER_LEN, RECORD_OVERHEAD, SEGMENT_MAGIC,
    SEGMENT_VERSION, frame_record, parse_segment,
};
use custodia_audit::{
    Action, Actor, ActorKind, AuditLog, AuditStore, Checkpoint, Durability, Error, Event, EventId,
    Query, SegmentOptions, SegmentStore, Target, TreeHead, verify,
};
use custodia_core::chrono::{TimeDelta, TimeZone, Utc};
use custodia_core::{ActorId, ManualClock, SubjectId, TenantId};
use proptest::prelude::*;

const ORIGIN: &str = "audit.test/log";

fn small() -> SegmentOptions {
    SegmentOptions {
        durability: Durability::Never,
        max_segment_bytes: 2048,
    }
}

fn event(i: u32) -> Event {
    let tenant = TenantId::from_external_key(
        "crm",
        if i.is_multiple_of(3) {
            "ACME"
        } else {
            "GLOBEX"
        },
    );
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
    clock.advance(TimeDelta::minutes(i64::from(i)));
    let action =
        [Action::Create, Action::Read, Action::Update, Action::Delete][i as usize % 4].clone();
    Event::builder(
        tenant,
        Actor::new(
            ActorKind::Agent,
            ActorId::from_external_key(tenant, "user", &(i % 5).to_string()),
        ),
        action,
        Target::new(
            if i.is_multiple_of(2) {
                "ticket"
            } else {
                "contact"
            },
            format!("T-{i}"),
        )
        .unwrap(),
    )
    .subject(SubjectId::from_external_key(
        tenant,
        "contact",
        &(i % 7).to_string(),
    ))
    .request_id(format!("req-{i}"))
    .id(EventId::from_uuid(custodia_core::uuid::Uuid::from_u128(
        u128::from(i) + 1,
    )))
    .build(&clock)
    .unwrap()
}

/// A log of `n` events in `dir`; returns its head.
fn build(dir: &Path, n: u32, options: SegmentOptions) -> TreeHead {
    let mut log = AuditLog::open(SegmentStore::open(dir, options).unwrap()).unwrap();
    for i in 0..n {
        log.append(&event(i)).unwrap();
    }
    log.sync().unwrap();
    log.head()
}

fn verify_dir(dir: &Path, checkpoint: Option<&Checkpoint>) -> Result<TreeHead, Error> {
    let store = SegmentStore::open_read_only(dir)?;
    verify(store, checkpoint.map(|c| (ORIGIN, c))).map(|r| r.head)
}

fn locate(dir: &Path, index: u64) -> (PathBuf, usize, usize) {
    let store = SegmentStore::open_read_only(dir).unwrap();
    let (path, offset) = store.locate(index).unwrap();
    let len = store.get(index).unwrap().len() + RECORD_OVERHEAD;
    (path, offset as usize, len)
}

fn tampered_record(err: &Error) -> Option<u64> {
    match err {
        Error::Tampered { index, .. } => *index,
        _ => panic!("expected tampering, got {err}"),
    }
}

#[test]
fn round_trip_across_segments() {
    let dir = tempfile::tempdir().unwrap();
    let head = build(dir.path(), 60, small());
    let store = SegmentStore::open_read_only(dir.path()).unwrap();
    assert!(
        store.segment_paths().len() > 3,
        "{}",
        store.segment_paths().len()
    );
    let log = AuditLog::open(store).unwrap();
    assert_eq!(log.head(), head);
    for i in 0..60 {
        assert_eq!(log.get(u64::from(i)).unwrap(), event(i));
    }
    // Reopen for writing and continue.
    let mut log = AuditLog::open(SegmentStore::open(dir.path(), small()).unwrap()).unwrap();
    log.append(&event(60)).unwrap();
    drop(log);
    assert_eq!(verify_dir(dir.path(), None).unwrap().size, 61);
}

#[test]
fn a_flipped_byte_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 40, small());
    let (path, offset, len) = locate(dir.path(), 17);
    let mut bytes = fs::read(&path).unwrap();
    bytes[offset + len / 2] ^= 0x01;
    fs::write(&path, &bytes).unwrap();
    let err = verify_dir(dir.path(), None).unwrap_err();
    assert_eq!(tampered_record(&err), Some(17));
    assert!(err.to_string().contains("checksum"), "{err}");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    // Opening for writing refuses too, and repairs nothing.
    assert!(matches!(
        SegmentStore::open(dir.path(), small()),
        Err(Error::Tampered { .. })
    ));
    assert_eq!(fs::read(&path).unwrap(), bytes);
}

#[test]
fn a_flipped_byte_in_a_segment_header_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 40, small());
    let path = dir.path().join("00000001.seg");
    let mut bytes = fs::read(&path).unwrap();
    bytes[50] ^= 0x80; // inside the anchor
    fs::write(&path, &bytes).unwrap();
    let err = verify_dir(dir.path(), None).unwrap_err();
    assert!(err.to_string().contains("header checksum"), "{err}");
}

/// Rewrites record `index` with `payload`, recomputing its checksum, as a
/// forger who knows the format would.
fn forge(dir: &Path, index: u64, change: impl FnOnce(&mut Vec<u8>)) {
    let store = SegmentStore::open_read_only(dir).unwrap();
    let mut payload = store.get(index).unwrap();
    let (path, offset) = store.locate(index).unwrap();
    let old_len = payload.len() + RECORD_OVERHEAD;
    change(&mut payload);
    let mut framed = Vec::new();
    frame_record(&mut framed, index, &payload);
    let mut bytes = fs::read(&path).unwrap();
    bytes.splice(offset as usize..offset as usize + old_len, framed);
    fs::write(&path, &bytes).unwrap();
}

#[test]
fn a_forged_record_is_caught_by_the_next_segments_anchor() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 40, small());
    // Change the target id of record 3 ("T-3" -> "T-9"), checksum recomputed.
    forge(dir.path(), 3, |p| {
        let at = p.windows(3).position(|w| w == b"T-3").unwrap();
        p[at + 2] = b'9';
    });
    let err = verify_dir(dir.path(), None).unwrap_err();
    assert!(err.to_string().contains("anchor"), "{err}");
}

#[test]
fn a_forged_record_in_the_last_segment_is_caught_by_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let head = build(dir.path(), 40, small());
    let checkpoint = Checkpoint::new(ORIGIN, head);
    forge(dir.path(), 39, |p| {
        let at = p.windows(4).position(|w| w == b"T-39").unwrap();
        p[at + 3] = b'8';
    });
    // Self-consistent without a checkpoint…
    verify_dir(dir.path(), None).unwrap();
    // …but not with one.
    let err = verify_dir(dir.path(), Some(&checkpoint)).unwrap_err();
    assert!(matches!(err, Error::Forked { size: 40 }), "{err}");
}

#[test]
fn a_deleted_record_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 40, small());
    let (path, offset, len) = locate(dir.path(), 21);
    let mut bytes = fs::read(&path).unwrap();
    bytes.drain(offset..offset + len);
    fs::write(&path, &bytes).unwrap();
    let err = verify_dir(dir.path(), None).unwrap_err();
    assert_eq!(tampered_record(&err), Some(21));
    assert!(err.to_string().contains("found record 22"), "{err}");
}

#[test]
fn a_reordered_pair_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 40, small());
    let (path, a, a_len) = locate(dir.path(), 10);
    let (path_b, b, b_len) = locate(dir.path(), 11);
    assert_eq!(path, path_b, "pick two records of one segment");
    let mut bytes = fs::read(&path).unwrap();
    let first = bytes[a..a + a_len].to_vec();
    let second = bytes[b..b + b_len].to_vec();
    bytes.splice(a..b + b_len, second.into_iter().chain(first));
    fs::write(&path, &bytes).unwrap();
    let err = verify_dir(dir.path(), None).unwrap_err();
    assert_eq!(tampered_record(&err), Some(10));
    assert!(err.to_string().contains("found record 11"), "{err}");
}

#[test]
fn a_truncated_log_is_detected_against_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let head = build(dir.path(), 40, small());
    let checkpoint = Checkpoint::new(ORIGIN, head);
    verify_dir(dir.path(), Some(&checkpoint)).unwrap();
    // Cut the last segment at a record boundary.
    let (path, offset, _) = locate(dir.path(), 39);
    let file = fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(offset as u64).unwrap();
    let err = verify_dir(dir.path(), Some(&checkpoint)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Truncated {
                trusted: 40,
                found: 39
            }
        ),
        "{err}"
    );
    // Remove the whole last segment.
    let store = SegmentStore::open_read_only(dir.path()).unwrap();
    let last = store.segment_paths().pop().unwrap();
    drop(store);
    fs::remove_file(last).unwrap();
    let err = verify_dir(dir.path(), Some(&checkpoint)).unwrap_err();
    assert!(matches!(err, Error::Truncated { trusted: 40, .. }), "{err}");
}

#[test]
fn a_missing_middle_segment_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 40, small());
    fs::remove_file(dir.path().join("00000001.seg")).unwrap();
    let err = verify_dir(dir.path(), None).unwrap_err();
    assert!(err.to_string().contains("segment 1 is missing"), "{err}");
}

#[test]
fn a_replaced_segment_is_detected() {
    let ours = tempfile::tempdir().unwrap();
    let theirs = tempfile::tempdir().unwrap();
    build(ours.path(), 40, small());
    build(theirs.path(), 40, small());
    // Same events, same layout, but another log: the log id gives it away.
    fs::copy(
        theirs.path().join("00000001.seg"),
        ours.path().join("00000001.seg"),
    )
    .unwrap();
    let err = verify_dir(ours.path(), None).unwrap_err();
    assert!(err.to_string().contains("another log"), "{err}");

    // A segment swapped for another of the same log (segment 2 renamed to 1).
    let again = tempfile::tempdir().unwrap();
    build(again.path(), 40, small());
    fs::copy(
        again.path().join("00000002.seg"),
        again.path().join("00000001.seg"),
    )
    .unwrap();
    let err = verify_dir(again.path(), None).unwrap_err();
    assert!(matches!(err, Error::Tampered { .. }), "{err}");
}

#[test]
fn a_crash_at_every_byte_of_the_last_record_recovers_to_the_last_complete_record() {
    let dir = tempfile::tempdir().unwrap();
    let options = SegmentOptions {
        durability: Durability::EveryAppend,
        max_segment_bytes: 1 << 20,
    };
    build(dir.path(), 9, options);
    let complete = {
        let log = AuditLog::open(SegmentStore::open_read_only(dir.path()).unwrap()).unwrap();
        log.tree().root_at(8).unwrap()
    };
    let (path, offset, len) = locate(dir.path(), 8);
    let original = fs::read(&path).unwrap();
    assert_eq!(original.len(), offset + len);
    for cut in offset..offset + len {
        fs::write(&path, &original[..cut]).unwrap();
        // A read-only verifier reports the torn tail and the intact prefix.
        let store = SegmentStore::open_read_only(dir.path()).unwrap();
        match store.torn_tail() {
            // Cut exactly at the record's start: nothing torn, one record fewer.
            None => assert_eq!(cut, offset),
            Some(torn) => {
                assert_eq!(
                    (torn.offset as usize, torn.bytes as usize),
                    (offset, cut - offset)
                )
            }
        }
        assert_eq!(verify(store, None).unwrap().head.size, 8);
        // Opening for writing truncates the torn record and carries on.
        let mut log = AuditLog::open(SegmentStore::open(dir.path(), options).unwrap()).unwrap();
        assert_eq!(log.len(), 8, "cut at {cut}");
        assert_eq!(log.head().root, complete);
        assert_eq!(fs::metadata(&path).unwrap().len() as usize, offset);
        log.append(&event(8)).unwrap();
        drop(log);
        assert_eq!(
            fs::read(&path).unwrap(),
            original,
            "cut at {cut}: re-append differs"
        );
    }
}

#[test]
fn a_torn_segment_header_is_recovered() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 40, small());
    let store = SegmentStore::open_read_only(dir.path()).unwrap();
    let n = store.segment_paths().len();
    let records_before_last = {
        let log = AuditLog::open(store).unwrap();
        log.len()
    };
    // A crash while creating the next segment: half a header.
    let next = dir.path().join(format!("{n:08}.seg"));
    let header = fs::read(dir.path().join("00000000.seg")).unwrap()[..HEADER_LEN / 2].to_vec();
    fs::write(&next, header).unwrap();
    let log = AuditLog::open(SegmentStore::open(dir.path(), small()).unwrap()).unwrap();
    assert_eq!(log.len(), records_before_last);
    assert!(!next.exists());
}

#[test]
fn a_corrupt_final_record_is_tampering_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 9, small());
    let (path, offset, len) = locate(dir.path(), 8);
    let mut bytes = fs::read(&path).unwrap();
    bytes[offset + len - 1] ^= 0xff; // complete record, wrong checksum
    fs::write(&path, &bytes).unwrap();
    let err = SegmentStore::open(dir.path(), small()).unwrap_err();
    assert_eq!(tampered_record(&err), Some(8));
    assert_eq!(fs::read(&path).unwrap(), bytes, "nothing was truncated");
}

#[test]
fn durability_modes_write_the_same_log() {
    let mut heads = Vec::new();
    for durability in [
        Durability::EveryAppend,
        Durability::Group { records: 4 },
        Durability::Never,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let options = SegmentOptions {
            durability,
            max_segment_bytes: 4096,
        };
        let mut log = AuditLog::open(SegmentStore::open(dir.path(), options).unwrap()).unwrap();
        let batch: Vec<Event> = (0..10).map(event).collect();
        log.append_batch(&batch).unwrap();
        for i in 10..25 {
            log.append(&event(i)).unwrap();
        }
        drop(log);
        heads.push(verify_dir(dir.path(), None).unwrap());
    }
    assert!(heads.windows(2).all(|w| w[0] == w[1]));
    let dir = tempfile::tempdir().unwrap();
    let bad = SegmentOptions {
        durability: Durability::Group { records: 0 },
        max_segment_bytes: 4096,
    };
    assert!(SegmentStore::open(dir.path(), bad).is_err());
}

#[test]
fn a_second_writer_is_refused_while_readers_need_no_lock() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 3, small());
    let mut writer = AuditLog::open(SegmentStore::open(dir.path(), small()).unwrap()).unwrap();
    // A second writer on the same directory (a separate open file, as another
    // process would have) is refused with a typed error naming the lock file.
    match SegmentStore::open(dir.path(), small()) {
        Err(Error::Locked { path }) => assert_eq!(path, dir.path().join(LOCK_FILE)),
        other => panic!("expected Error::Locked, got {other:?}"),
    }
    // Readers open and verify beside the writer.
    writer.append(&event(3)).unwrap();
    writer.sync().unwrap();
    assert_eq!(verify_dir(dir.path(), None).unwrap(), writer.head());
    // Dropping the writer releases the lock.
    drop(writer);
    let reopened = AuditLog::open(SegmentStore::open(dir.path(), small()).unwrap()).unwrap();
    assert_eq!(reopened.len(), 4);
}

#[test]
fn read_only_stores_refuse_appends() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 3, small());
    let mut log = AuditLog::open(SegmentStore::open_read_only(dir.path()).unwrap()).unwrap();
    assert!(matches!(log.append(&event(3)), Err(Error::Store(_))));
    assert_eq!(log.len(), 3);
    assert_eq!(log.head(), verify_dir(dir.path(), None).unwrap());
}

#[test]
fn queries() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 60, small());
    let log = AuditLog::open(SegmentStore::open_read_only(dir.path()).unwrap()).unwrap();
    let all: Vec<Event> = (0..60).map(event).collect();
    let check = |query: Query| {
        let got: Vec<u64> = log
            .query(&query)
            .unwrap()
            .into_iter()
            .map(|(i, _)| i)
            .collect();
        let want: Vec<u64> = (0..60u64)
            .filter(|&i| query.matches(&all[i as usize]))
            .collect();
        assert_eq!(got, want);
        got.len()
    };
    let acme = TenantId::from_external_key("crm", "ACME");
    assert_eq!(check(Query::new().tenant(acme)), 20);
    let subject = SubjectId::from_external_key(acme, "contact", "3");
    assert_eq!(check(Query::new().tenant(acme).subject(subject)), 3); // i = 3, 24, 45
    let actor = ActorId::from_external_key(acme, "user", "0");
    assert_eq!(check(Query::new().actor(actor)), 4); // i = 0, 15, 30, 45
    assert_eq!(check(Query::new().target("ticket", None)), 30);
    assert_eq!(check(Query::new().target("ticket", Some("T-4".into()))), 1);
    assert_eq!(check(Query::new().action(Action::Delete)), 15);
    let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 10, 0).unwrap();
    assert_eq!(
        check(Query::new().between(start, start + TimeDelta::minutes(5))),
        5
    );
    assert_eq!(check(Query::new()), 60);
}

#[test]
fn subject_export_carries_proofs() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 30, small());
    let log = AuditLog::open(SegmentStore::open_read_only(dir.path()).unwrap()).unwrap();
    let acme = TenantId::from_external_key("crm", "ACME");
    let subject = SubjectId::from_external_key(acme, "contact", "3");
    let export = log
        .export_subject::<custodia_crypt::MemoryKeyStore>(Some(acme), subject, None)
        .unwrap();
    let indexes: Vec<u64> = export.events.iter().map(|e| e.index).collect();
    assert_eq!(indexes, [3, 24]);
    for e in &export.events {
        custodia_audit::merkle::verify_inclusion(
            e.index,
            export.head.size,
            &e.leaf_hash,
            &e.proof,
            &export.head.root,
        )
        .unwrap();
    }
    let json = serde_json::to_value(&export).unwrap();
    assert_eq!(json["format"], custodia_audit::EXPORT_FORMAT);
    assert_eq!(json["events"][0]["event"]["target"]["id"], "T-3");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn segment_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = parse_segment(Path::new("fuzz.seg"), &bytes);
    }

    /// A header's first index is the file's word under a checksum anyone
    /// can recompute: any value, up to `u64::MAX`, parses or is refused as
    /// tampering, never a panic, and so does opening a log of that file
    /// (found in review: `first + offsets.len()` overflowed).
    #[test]
    fn any_first_index_in_a_valid_header_never_panics(
        first in prop_oneof![any::<u64>(), (u64::MAX - 8)..=u64::MAX],
        records in 0usize..3,
        torn in any::<bool>(),
    ) {
        let mut header = [0u8; HEADER_LEN];
        header[..8].copy_from_slice(SEGMENT_MAGIC);
        header[8..10].copy_from_slice(&SEGMENT_VERSION.to_be_bytes());
        header[32..40].copy_from_slice(&first.to_be_bytes());
        let crc = crc32fast::hash(&header[..72]);
        header[72..].copy_from_slice(&crc.to_be_bytes());
        let mut bytes = header.to_vec();
        for k in 0..records as u64 {
            frame_record(&mut bytes, first.wrapping_add(k), b"x");
        }
        if torn {
            bytes.push(0);
        }
        let parsed = parse_segment(Path::new("t.seg"), &bytes);
        if first > u64::MAX - bytes.len() as u64 {
            prop_assert!(matches!(parsed, Err(Error::Tampered { .. })), "{:?}", parsed.map(|p| p.first));
        }
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("00000000.seg"), &bytes).unwrap();
        if let Ok(store) = SegmentStore::open_read_only(dir.path()) {
            let _ = verify(store, None);
        }
    }

    #[test]
    fn damaged_segments_never_panic(cut in 0usize..2048, at in 0usize..2048, byte in any::<u8>()) {
        let dir = tempfile::tempdir().unwrap();
        build(dir.path(), 6, small());
        let path = dir.path().join("00000000.seg");
        let mut bytes = fs::read(&path).unwrap();
        if !bytes.is_empty() {
            let i = at % bytes.len();
            bytes[i] = byte;
        }
        bytes.truncate(cut.min(bytes.len()));
        if let Ok(parsed) = parse_segment(&path, &bytes) {
            prop_assert!(parsed.end as usize <= bytes.len());
            // A torn tail is at most one record.
            if parsed.torn {
                prop_assert!((bytes.len() as u64 - parsed.end) <= MAX_TORN_BYTES);
            }
        }
        fs::write(&path, &bytes).unwrap();
        match SegmentStore::open_read_only(dir.path()) {
            Ok(store) => { let _ = verify(store, None); }
            Err(e) => prop_assert!(matches!(e, Error::Tampered { .. }), "{}", e),
        }
    }
}

#[test]
fn a_record_that_is_not_an_event_is_named_even_in_a_large_log() {
    // Large enough that opening checks records on several threads.
    let dir = tempfile::tempdir().unwrap();
    build(
        dir.path(),
        3000,
        SegmentOptions {
            durability: Durability::Never,
            max_segment_bytes: 1 << 20,
        },
    );
    forge(dir.path(), 2345, |p| p[0] = b'X'); // bad magic, checksum recomputed
    let err = verify_dir(dir.path(), None).unwrap_err();
    assert_eq!(tampered_record(&err), Some(2345));
    assert!(err.to_string().contains("not a canonical event"), "{err}");
}

#[test]
fn a_record_changed_after_opening_is_caught_on_read() {
    let dir = tempfile::tempdir().unwrap();
    let head = build(dir.path(), 20, small());
    let log = AuditLog::open(SegmentStore::open_read_only(dir.path()).unwrap()).unwrap();
    log.check_checkpoint(ORIGIN, &Checkpoint::new(ORIGIN, head))
        .unwrap();
    forge(dir.path(), 12, |p| {
        let at = p.windows(4).position(|w| w == b"T-12").unwrap();
        p[at + 3] = b'3';
    });
    let err = log.get(12).unwrap_err();
    assert!(
        err.to_string().contains("changed since the log was opened"),
        "{err}"
    );
    assert_eq!(log.get(11).unwrap(), event(11));
    // A checkpoint of another log's head is refused.
    let other = TreeHead {
        size: 20,
        root: [7; 32],
    };
    assert!(matches!(
        log.check_checkpoint(ORIGIN, &Checkpoint::new(ORIGIN, other)),
        Err(Error::Forked { size: 20 })
    ));
}

#[test]
fn verification_reports_progress_up_to_the_total() {
    let dir = tempfile::tempdir().unwrap();
    let head = build(dir.path(), 60, small());
    let mut seen = Vec::new();
    let report = custodia_audit::verify_with_progress(
        SegmentStore::open_read_only(dir.path()).unwrap(),
        None,
        &mut |done, total| seen.push((done, total)),
    )
    .unwrap();
    assert_eq!(report.head, head);
    // One report per segment at least (the log spans several), counts
    // rising, every total the log's length, the last one complete.
    assert!(seen.len() > 3, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "{seen:?}");
    assert!(seen.iter().all(|&(done, total)| total == 60 && done <= 60));
    assert_eq!(seen.last(), Some(&(60, 60)));
}

/// The segment holding `index`, and that segment's first and last record.
fn segment_of(dir: &Path, index: u64) -> (PathBuf, u64, u64) {
    let (path, _) = SegmentStore::open_read_only(dir)
        .unwrap()
        .locate(index)
        .unwrap();
    let mut first = index;
    while first > 0 && locate(dir, first - 1).0 == path {
        first -= 1;
    }
    let mut last = index;
    while locate(dir, last + 1).0 == path {
        last += 1;
    }
    (path, first, last)
}

#[test]
fn the_last_record_of_a_middle_segment_deleted_is_detected() {
    // A reader parses middle segments only when it reads them: the count
    // their successor's header implies must still be checked.
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 40, small());
    let (path, _, last) = segment_of(dir.path(), 12);
    let (_, offset, _) = locate(dir.path(), last);
    fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(offset as u64)
        .unwrap();
    for err in [
        verify_dir(dir.path(), None).unwrap_err(),
        SegmentStore::open(dir.path(), small()).unwrap_err(),
    ] {
        assert_eq!(tampered_record(&err), Some(last), "{err}");
        assert!(
            err.to_string().contains(&format!("expected {last}")),
            "{err}"
        );
    }
    // Reading a record of that segment directly is refused too.
    let store = SegmentStore::open_read_only(dir.path()).unwrap();
    assert!(matches!(store.get(last - 1), Err(Error::Tampered { .. })));
}

#[test]
fn a_middle_segment_cut_inside_a_record_is_tampering() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 40, small());
    let (path, _, last) = segment_of(dir.path(), 12);
    let (_, offset, len) = locate(dir.path(), last);
    fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len((offset + len / 2) as u64)
        .unwrap();
    let before = fs::read(&path).unwrap();
    for err in [
        verify_dir(dir.path(), None).unwrap_err(),
        SegmentStore::open(dir.path(), small()).unwrap_err(),
    ] {
        assert_eq!(tampered_record(&err), Some(last), "{err}");
        assert!(err.to_string().contains("later segments exist"), "{err}");
    }
    assert_eq!(fs::read(&path).unwrap(), before, "nothing was repaired");
}

#[test]
fn a_middle_segment_changed_after_opening_is_caught_when_read() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 40, small());
    let store = SegmentStore::open_read_only(dir.path()).unwrap();
    // Replace segment 1 with segment 2 after the reader listed the log.
    fs::copy(
        dir.path().join("00000002.seg"),
        dir.path().join("00000001.seg"),
    )
    .unwrap();
    let err = verify(store, None).unwrap_err();
    assert!(err.to_string().contains("header changed"), "{err}");
}

#[test]
fn of_two_bad_records_in_a_middle_segment_the_lower_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 40, small());
    let (path, first, last) = segment_of(dir.path(), 5);
    assert!(first <= 3 && last >= 8, "records 3..=8 share a segment");
    assert!(locate(dir.path(), last + 1).0 != path, "a middle segment");
    // Record 3: not an event (checksum recomputed); record 8: a flipped byte.
    forge(dir.path(), 3, |p| p[0] = b'X');
    let (_, offset, len) = locate(dir.path(), 8);
    let mut bytes = fs::read(&path).unwrap();
    bytes[offset + len / 2] ^= 0x01;
    fs::write(&path, &bytes).unwrap();
    let err = verify_dir(dir.path(), None).unwrap_err();
    assert_eq!(tampered_record(&err), Some(3), "{err}");
    assert!(err.to_string().contains("not a canonical event"), "{err}");
    // Repaired record 8, the record 3 finding remains.
    bytes[offset + len / 2] ^= 0x01;
    fs::write(&path, &bytes).unwrap();
    let err = verify_dir(dir.path(), None).unwrap_err();
    assert_eq!(tampered_record(&err), Some(3), "{err}");
}

// ---- Issue 19: damage is never mistaken for a crash -------------------------

fn one_segment() -> SegmentOptions {
    SegmentOptions {
        durability: Durability::Never,
        max_segment_bytes: 1 << 20,
    }
}

/// Rewrites every segment of the log in `dir` in format version 1 (no record
/// header checksum), as a log written before version 2 would be.
fn downgrade_to_v1(dir: &Path) {
    let store = SegmentStore::open_read_only(dir).unwrap();
    for path in store.segment_paths() {
        let bytes = fs::read(&path).unwrap();
        let parsed = parse_segment(&path, &bytes).unwrap();
        assert_eq!(parsed.version, 2);
        let mut out = bytes[..HEADER_LEN].to_vec();
        out[8..10].copy_from_slice(&1u16.to_be_bytes());
        let crc = crc32fast::hash(&out[..72]);
        out[72..76].copy_from_slice(&crc.to_be_bytes());
        for &offset in &parsed.offsets {
            let at = offset as usize;
            let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
            let start = out.len();
            out.extend_from_slice(&bytes[at..at + 12]);
            out.extend_from_slice(&bytes[at + 16..at + 16 + len]);
            let crc = crc32fast::hash(&out[start..]);
            out.extend_from_slice(&crc.to_be_bytes());
        }
        fs::write(&path, out).unwrap();
    }
}

/// The version of the segment file at `path`.
fn version_of(path: &Path) -> u16 {
    let bytes = fs::read(path).unwrap();
    u16::from_be_bytes([bytes[8], bytes[9]])
}

#[test]
fn version_1_segments_are_read_verified_and_continued_in_version_2() {
    let dir = tempfile::tempdir().unwrap();
    let head = build(dir.path(), 40, small());
    downgrade_to_v1(dir.path());
    let store = SegmentStore::open_read_only(dir.path()).unwrap();
    let old_paths = store.segment_paths();
    assert!(old_paths.iter().all(|p| version_of(p) == 1));
    // The tree covers payloads only: the same head as before.
    assert_eq!(verify(store, None).unwrap().head, head);
    let log = AuditLog::open(SegmentStore::open_read_only(dir.path()).unwrap()).unwrap();
    assert_eq!(log.get(17).unwrap(), event(17));
    drop(log);

    // A writer continues in a new segment of the current version.
    let mut log = AuditLog::open(SegmentStore::open(dir.path(), small()).unwrap()).unwrap();
    log.append(&event(40)).unwrap();
    drop(log);
    let store = SegmentStore::open_read_only(dir.path()).unwrap();
    let paths = store.segment_paths();
    assert_eq!(paths.len(), old_paths.len() + 1);
    assert_eq!(version_of(paths.last().unwrap()), 2);
    let reference = tempfile::tempdir().unwrap();
    assert_eq!(
        verify(store, None).unwrap().head,
        build(reference.path(), 41, small())
    );
}

/// A one-segment log as it was before a bit was flipped.
struct Intact<'a> {
    dir: &'a Path,
    path: &'a Path,
    original: &'a [u8],
    /// Record starts.
    offsets: &'a [u64],
    /// Framed record lengths.
    framed: &'a [usize],
}

/// Flips `bit` of byte `byte` of record `record`'s header, then checks that
/// verifying detects it or sees a torn tail of at most the last record, and
/// that a writer's open keeps every intact record.
fn flip_case(log: &Intact<'_>, record: usize, byte: usize, bit: u8) {
    let Intact {
        dir,
        path,
        original,
        offsets,
        framed,
    } = *log;
    let mut bytes = original.to_vec();
    bytes[offsets[record] as usize + byte] ^= 1 << bit;
    fs::write(path, &bytes).unwrap();
    let what = format!("record {record}, header byte {byte}, bit {bit}");
    let intact = offsets.len() as u64 - 1; // every record but the flipped one
    // What `custodia audit verify` runs: opening (which parses the last
    // segment) and verifying.
    let verified = SegmentStore::open_read_only(dir).and_then(|store| {
        let torn = store.torn_tail().cloned();
        verify(store, None).map(|report| (report, torn))
    });
    match verified {
        Err(e) => {
            // Detected: tampering, naming the flipped record.
            assert_eq!(tampered_record(&e), Some(record as u64), "{what}: {e}");
        }
        Ok((report, torn)) => {
            // Not detected: only as a torn tail of at most the last record.
            let torn = torn.unwrap_or_else(|| panic!("{what}: undetected"));
            assert_eq!(
                record,
                offsets.len() - 1,
                "{what}: a torn tail before the end"
            );
            assert_eq!(torn.offset, offsets[record], "{what}");
            assert!(torn.bytes <= framed[record] as u64, "{what}: {torn:?}");
            assert_eq!(report.head.size, intact, "{what}");
        }
    }
    // A writer's open never lowers the count of intact records.
    match SegmentStore::open(dir, one_segment()) {
        Err(e) => {
            assert!(matches!(e, Error::Tampered { .. }), "{what}: {e}");
            assert_eq!(fs::read(path).unwrap(), bytes, "{what}: changed on refusal");
        }
        Ok(store) => {
            let mut log = AuditLog::open(store).unwrap();
            assert!(log.len() >= intact, "{what}: {} records left", log.len());
            log.append(&event(99)).unwrap();
            assert_eq!(log.len(), intact + 1, "{what}");
        }
    }
}

/// Flips every bit of every record header of a one-segment log of 6
/// records, in format version `v1` or the current one.
fn every_header_bit_flip(v1: bool) {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 6, one_segment());
    if v1 {
        downgrade_to_v1(dir.path());
    }
    let path = dir.path().join("00000000.seg");
    let original = fs::read(&path).unwrap();
    let parsed = parse_segment(&path, &original).unwrap();
    assert_eq!(parsed.offsets.len(), 6);
    let mut framed: Vec<usize> = parsed
        .offsets
        .windows(2)
        .map(|w| (w[1] - w[0]) as usize)
        .collect();
    framed.push(original.len() - *parsed.offsets.last().unwrap() as usize);
    let header = if v1 { 12 } else { RECORD_HEADER_LEN };
    for record in 0..6 {
        for byte in 0..header {
            for bit in 0..8 {
                let log = Intact {
                    dir: dir.path(),
                    path: &path,
                    original: &original,
                    offsets: &parsed.offsets,
                    framed: &framed,
                };
                flip_case(&log, record, byte, bit);
                // Start every case from the intact log of 6 records.
                for entry in fs::read_dir(dir.path()).unwrap() {
                    let p = entry.unwrap().path();
                    if p.extension().is_some_and(|e| e == "seg") {
                        fs::remove_file(p).unwrap();
                    }
                }
                fs::write(&path, &original).unwrap();
            }
        }
    }
}

#[test]
fn every_flipped_header_bit_is_detected_or_a_torn_last_record() {
    every_header_bit_flip(false);
}

#[test]
fn every_flipped_header_bit_of_a_version_1_log_is_detected_or_a_torn_last_record() {
    every_header_bit_flip(true);
}

/// The campaign: a length in the middle of the last segment made to
/// run past the end of the file.
fn length_past_the_end(v1: bool) {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 40, one_segment());
    if v1 {
        downgrade_to_v1(dir.path());
    }
    let (path, first, last) = {
        let store = SegmentStore::open_read_only(dir.path()).unwrap();
        let path = store.segment_paths().pop().unwrap();
        let bytes = fs::read(&path).unwrap();
        let parsed = parse_segment(&path, &bytes).unwrap();
        (
            path,
            parsed.first,
            parsed.first + parsed.offsets.len() as u64 - 1,
        )
    };
    assert!(
        last >= first + 2,
        "a record in the middle of the last segment"
    );
    let victim = (first + last) / 2;
    let (_, offset) = SegmentStore::open_read_only(dir.path())
        .unwrap()
        .locate(victim)
        .unwrap();
    let mut bytes = fs::read(&path).unwrap();
    bytes[offset as usize + 1] ^= 0x10; // length + 1 MiB: past the end
    fs::write(&path, &bytes).unwrap();
    let err = verify_dir(dir.path(), None).unwrap_err();
    assert_eq!(tampered_record(&err), Some(victim), "{err}");
    let err = SegmentStore::open(dir.path(), one_segment()).unwrap_err();
    assert_eq!(tampered_record(&err), Some(victim), "{err}");
    assert_eq!(fs::read(&path).unwrap(), bytes, "nothing was truncated");
}

#[test]
fn a_length_run_past_the_end_mid_segment_is_tampering() {
    length_past_the_end(false);
}

#[test]
fn a_length_run_past_the_end_mid_segment_of_a_version_1_log_is_tampering() {
    length_past_the_end(true);
}

#[test]
fn zeroed_complete_records_at_the_end_are_refused_not_dropped() {
    for v1 in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        build(dir.path(), 9, one_segment());
        if v1 {
            downgrade_to_v1(dir.path());
        }
        let (path, offset) = SegmentStore::open_read_only(dir.path())
            .unwrap()
            .locate(6)
            .unwrap();
        let mut bytes = fs::read(&path).unwrap();
        bytes[offset as usize..].fill(0); // records 6, 7 and 8
        fs::write(&path, &bytes).unwrap();
        let err = verify_dir(dir.path(), None).unwrap_err();
        assert_eq!(tampered_record(&err), Some(6), "v1 {v1}: {err}");
        assert!(err.to_string().contains("zero"), "{err}");
        let err = SegmentStore::open(dir.path(), one_segment()).unwrap_err();
        assert_eq!(tampered_record(&err), Some(6), "v1 {v1}: {err}");
        assert_eq!(fs::read(&path).unwrap(), bytes, "v1 {v1}: nothing dropped");
    }
}

#[test]
fn a_crash_at_every_byte_of_a_version_1_log_recovers() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 9, one_segment());
    downgrade_to_v1(dir.path());
    let path = dir.path().join("00000000.seg");
    let original = fs::read(&path).unwrap();
    let offset = *parse_segment(&path, &original)
        .unwrap()
        .offsets
        .last()
        .unwrap() as usize;
    for cut in offset..original.len() {
        fs::write(&path, &original[..cut]).unwrap();
        let store = SegmentStore::open_read_only(dir.path()).unwrap();
        assert_eq!(
            store.torn_tail().map(|t| t.bytes as usize).unwrap_or(0),
            cut - offset
        );
        assert_eq!(verify(store, None).unwrap().head.size, 8, "cut at {cut}");
        let store = SegmentStore::open(dir.path(), one_segment()).unwrap();
        assert_eq!(store.len(), 8, "cut at {cut}");
        drop(store);
        assert_eq!(fs::metadata(&path).unwrap().len() as usize, offset);
    }
}

#[test]
fn a_writer_with_a_trusted_size_refuses_a_shorter_log_and_truncates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let head = build(dir.path(), 10, one_segment());
    match SegmentStore::open_at_least(dir.path(), one_segment(), 11) {
        Err(Error::Truncated {
            trusted: 11,
            found: 10,
        }) => {}
        other => panic!("expected Truncated, got {other:?}"),
    }
    // Record 9 cut in half: a torn tail, but the checkpoint covers record 9.
    let (path, offset, len) = locate(dir.path(), 9);
    let bytes = fs::read(&path).unwrap()[..offset + len / 2].to_vec();
    fs::write(&path, &bytes).unwrap();
    match SegmentStore::open_at_least(dir.path(), one_segment(), 10) {
        Err(Error::Truncated {
            trusted: 10,
            found: 9,
        }) => {}
        other => panic!("expected Truncated, got {other:?}"),
    }
    assert_eq!(
        fs::read(&path).unwrap(),
        bytes,
        "the torn tail is still there"
    );
    // Through the log: a checkpoint of another store is refused the same way.
    let checkpoint = Checkpoint::new(ORIGIN, head);
    let store = SegmentStore::open_read_only(dir.path()).unwrap();
    assert!(matches!(
        AuditLog::open_extending(store, ORIGIN, &checkpoint),
        Err(Error::Truncated { trusted: 10, .. })
    ));
    // A smaller trusted size lets the writer repair the tail.
    let store = SegmentStore::open_at_least(dir.path(), one_segment(), 9).unwrap();
    assert_eq!(store.len(), 9);
    assert_eq!(fs::metadata(&path).unwrap().len() as usize, offset);
}

#[test]
fn recovery_copies_what_it_removes_and_notes_why() {
    use custodia_audit::store::segment::{RECOVERED_DIR, RECOVERY_NOTE};
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 40, small());
    assert_eq!(SegmentStore::recover(dir.path()).unwrap(), None);
    let before: Vec<(PathBuf, Vec<u8>)> = SegmentStore::open_read_only(dir.path())
        .unwrap()
        .segment_paths()
        .into_iter()
        .map(|p| {
            let b = fs::read(&p).unwrap();
            (p, b)
        })
        .collect();
    // Damage record 12 (a middle segment): the log is refused.
    let (path, offset, len) = locate(dir.path(), 12);
    let mut bytes = fs::read(&path).unwrap();
    bytes[offset + len / 2] ^= 0x04;
    fs::write(&path, &bytes).unwrap();
    assert!(SegmentStore::open(dir.path(), small()).is_err());

    // The plan names the cut and changes nothing.
    let snapshot = |d: &std::path::Path| {
        let mut files: Vec<(PathBuf, Vec<u8>)> = fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .map(|p| (p.clone(), fs::read(&p).unwrap()))
            .collect();
        files.sort();
        files
    };
    let untouched = snapshot(dir.path());
    let plan = SegmentStore::recovery_plan(dir.path()).unwrap().unwrap();
    assert_eq!(snapshot(dir.path()), untouched);
    assert!(!dir.path().join(RECOVERED_DIR).exists());

    let recovery = SegmentStore::recover(dir.path()).unwrap().unwrap();
    assert_eq!(plan.reason, recovery.reason);
    assert_eq!(plan.kept, Some(recovery.kept));
    let planned: Vec<_> = plan
        .cuts
        .iter()
        .map(|c| (&c.path, c.offset, c.bytes))
        .collect();
    let done: Vec<_> = recovery
        .removed
        .iter()
        .map(|r| (&r.path, r.offset, r.bytes))
        .collect();
    assert_eq!(planned, done);
    assert_eq!(recovery.kept, 12);
    assert!(recovery.reason.contains("record 12"), "{}", recovery.reason);
    assert!(recovery.aside.starts_with(dir.path().join(RECOVERED_DIR)));
    // Every removed byte has a copy: the damaged file's tail and every later file.
    assert_eq!(recovery.removed[0].path, path);
    assert_eq!(recovery.removed[0].offset, offset as u64);
    assert_eq!(
        fs::read(&recovery.removed[0].copy).unwrap(),
        bytes[offset..]
    );
    let later: Vec<&(PathBuf, Vec<u8>)> = before.iter().filter(|(p, _)| *p > path).collect();
    assert_eq!(recovery.removed.len(), 1 + later.len());
    for (removed, (p, b)) in recovery.removed[1..].iter().zip(later) {
        assert_eq!((&removed.path, removed.offset), (p, 0));
        assert_eq!(&fs::read(&removed.copy).unwrap(), b);
        assert!(!p.exists());
    }
    let note = fs::read_to_string(recovery.aside.join(RECOVERY_NOTE)).unwrap();
    assert!(note.contains("record 12"), "{note}");
    assert!(note.contains("sha256"), "{note}");
    assert!(note.contains("done: the log holds 12 records"), "{note}");

    // The log opens, verifies and grows again; the copies are ignored.
    let mut log = AuditLog::open(SegmentStore::open(dir.path(), small()).unwrap()).unwrap();
    assert_eq!(log.len(), 12);
    log.append(&event(12)).unwrap();
    drop(log);
    assert_eq!(verify_dir(dir.path(), None).unwrap().size, 13);
    assert_eq!(SegmentStore::recovery_plan(dir.path()).unwrap(), None);
    assert_eq!(SegmentStore::recover(dir.path()).unwrap(), None);
}

#[test]
fn recovery_refuses_to_remove_the_whole_log() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 5, one_segment());
    let path = dir.path().join("00000000.seg");
    let mut bytes = fs::read(&path).unwrap();
    bytes[20] ^= 1; // the log id, in the first segment's header
    fs::write(&path, &bytes).unwrap();
    let planned = SegmentStore::recovery_plan(dir.path()).unwrap_err();
    assert!(matches!(planned, Error::Unrecoverable { .. }), "{planned}");
    let err = SegmentStore::recover(dir.path()).unwrap_err();
    let Error::Unrecoverable { why, source, .. } = &err else {
        panic!("not Unrecoverable: {err}");
    };
    assert!(why.contains("whole log"), "{why}");
    // The finding travels as the typed source, and it is a finding.
    assert!(matches!(source.as_deref(), Some(Error::Tampered { .. })));
    assert!(err.is_finding() && !err.is_store());
    assert_eq!(fs::read(&path).unwrap(), bytes);
}

#[test]
fn a_recovery_plan_of_a_torn_tail_names_the_bytes_and_waits_for_no_writer() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 10, one_segment());
    let (path, offset, len) = locate(dir.path(), 9);
    let bytes = fs::read(&path).unwrap()[..offset + len / 2].to_vec();
    fs::write(&path, &bytes).unwrap();

    let plan = SegmentStore::recovery_plan(dir.path()).unwrap().unwrap();
    assert!(plan.reason.contains("torn final record"), "{}", plan.reason);
    assert_eq!(plan.kept, Some(9));
    assert_eq!(plan.cuts.len(), 1);
    assert_eq!(
        (&plan.cuts[0].path, plan.cuts[0].offset, plan.cuts[0].bytes),
        (&path, offset as u64, (len / 2) as u64)
    );
    assert_eq!(fs::read(&path).unwrap(), bytes, "the plan changed nothing");

    // A writer holds the lock: the plan is refused rather than guessed.
    let writer = SegmentStore::open(dir.path(), one_segment()).unwrap();
    assert!(matches!(
        SegmentStore::recovery_plan(dir.path()),
        Err(Error::Locked { .. })
    ));
    drop(writer);
    assert_eq!(SegmentStore::recovery_plan(dir.path()).unwrap(), None);
}

/// A batch the store took in part before failing (here: the next segment
/// file cannot be created) must not leave the log's tree and the store
/// disagreeing about which record sits at which index: the writer's own
/// proofs and checkpoints would then contradict the log it wrote.
#[test]
fn a_batch_that_fails_half_way_leaves_tree_and_store_agreeing() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = AuditLog::open(SegmentStore::open(dir.path(), small()).unwrap()).unwrap();
    for i in 0..3 {
        log.append(&event(i)).unwrap();
    }
    // Something in the way of the next segment file.
    let blocker = dir.path().join("00000001.seg");
    fs::create_dir(&blocker).unwrap();
    let batch: Vec<Event> = (3..40).map(event).collect();
    assert!(log.append_batch(&batch).is_err());
    fs::remove_dir(&blocker).unwrap();

    log.append(&event(100)).unwrap();
    log.sync().unwrap();
    // Every record the store holds is the one the tree has at its index.
    assert_eq!(log.len(), log.store().len());
    for index in 0..log.len() {
        log.get(index).unwrap();
    }
    let last = log.get(log.len() - 1).unwrap();
    assert_eq!(last, event(100));
    // And a checkpoint the writer signed holds for the log on disk.
    let head = log.head();
    drop(log);
    let report = verify(
        SegmentStore::open_read_only(dir.path()).unwrap(),
        Some((ORIGIN, &Checkpoint::new(ORIGIN, head))),
    )
    .unwrap();
    assert_eq!(report.head, head);
}

/// A record changed on disk after the log was opened (checksums
/// recomputed, as a forger would) is refused by queries and subject
/// exports, as by `get`: they hand out events with proofs against the
/// tree opening verified, so they must hold the records that tree hashed.
#[test]
fn queries_and_exports_refuse_a_record_changed_since_opening() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = AuditLog::open(SegmentStore::open(dir.path(), one_segment()).unwrap()).unwrap();
    for i in 0..10 {
        log.append(&event(i)).unwrap();
    }
    log.sync().unwrap();

    // Record 1 becomes event 5 (same length), framed with valid checksums.
    let (path, offset, len) = locate(dir.path(), 1);
    let forged_event = event(5);
    let mut forged = Vec::new();
    frame_record(
        &mut forged,
        1,
        &custodia_audit::canonical::encode(&forged_event),
    );
    assert_eq!(forged.len(), len);
    let mut bytes = fs::read(&path).unwrap();
    bytes[offset..offset + len].copy_from_slice(&forged);
    fs::write(&path, &bytes).unwrap();

    assert_eq!(tampered_record(&log.get(1).unwrap_err()), Some(1));
    let err = log.query(&Query::new()).unwrap_err();
    assert_eq!(tampered_record(&err), Some(1));
    let subject = forged_event.subject.unwrap();
    let err = log
        .export_subject::<custodia_crypt::MemoryKeyStore>(None, subject, None)
        .unwrap_err();
    assert_eq!(tampered_record(&err), Some(1));
}
