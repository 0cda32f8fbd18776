//! Every custodia-dsr document decoder on arbitrary bytes: a typed error or a
//! value, never a panic; a decoded value re-encodes and decodes to itself;
//! an error quotes no more than `MAX_ECHO` characters of any value.
//! Desk events (`DsrEvent`, whose action is an audit event's details) too.

#![no_main]

use custodia_core::Timestamp;
use custodia_dsr::breach::Incident;
use custodia_dsr::records::ProcessingRegistry;
use custodia_dsr::{DsrEvent, ErasureCertificate, ExportBundle, Request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // A document that does not decode quotes no more than `MAX_ECHO`
    // characters of any value in it (SECURITY.md, "Errors do not leak data").
    for error in [
        Request::from_json(text).err(),
        ExportBundle::from_json(text).err(),
        ErasureCertificate::from_json(text).err(),
        ProcessingRegistry::from_json(text).err(),
        Incident::from_json(text).err(),
    ]
    .into_iter()
    .flatten()
    {
        let shown = error.to_string();
        assert_eq!(custodia_core::echo_quoted(&shown), shown);
    }
    if let Ok(bundle) = ExportBundle::from_json(text) {
        let again = ExportBundle::from_json(&bundle.to_json().unwrap()).unwrap();
        assert_eq!(again, bundle);
        // Counting the events' `unreadable` details never panics, whatever they hold.
        let counted = custodia_dsr::AuditSection::included(bundle.audit.events.clone());
        assert_eq!(counted.events, bundle.audit.events);
        let exact = bundle.csv_files();
        let safe = bundle.spreadsheet_csv_files();
        // The same files; only cells gain a leading `'`.
        assert_eq!(exact.len(), safe.len());
        for (exact, safe) in exact.iter().zip(&safe) {
            assert_eq!(exact.name, safe.name);
            assert!(safe.content.len() >= exact.content.len());
            // A reader may key by header: no two cells of one are alike.
            for file in [exact, safe] {
                let header = header(&file.content);
                let unique: std::collections::BTreeSet<&String> = header.iter().collect();
                assert_eq!(unique.len(), header.len(), "{header:?}");
            }
        }
    }
    if let Ok(cert) = ErasureCertificate::from_json(text) {
        let _ = cert.to_markdown();
        assert_eq!(
            ErasureCertificate::from_json(&cert.to_json().unwrap()).unwrap(),
            cert
        );
    }
    if let Ok(registry) = ProcessingRegistry::from_json(text) {
        let _ = registry.to_markdown();
        let _ = registry.validate();
    }
    if let Ok(request) = Request::from_json(text) {
        assert_eq!(
            Request::from_json(&request.to_json().unwrap()).unwrap(),
            request
        );
    }
    // A desk event, as its details are stored in an audit note (a subject-key
    // shred's `outcome` absent reads as `unrecorded` and is not written back).
    if let Ok(event) = serde_json::from_str::<DsrEvent>(text) {
        let again = serde_json::to_string(&event).unwrap();
        assert_eq!(serde_json::from_str::<DsrEvent>(&again).unwrap(), event);
    }
    if let Ok(incident) = Incident::from_json(text) {
        let _ = incident.authority_draft(incident.aware_at);
        // The delay note, however late (to the calendar's end).
        let _ = incident.authority_draft(Timestamp::MAX_UTC);
        let _ = incident.controller_draft(Timestamp::MAX_UTC);
        let _ = incident.lateness(incident.aware_at);
        // Decoding checks no times; checking them never panics, at any clock
        // (the skew added to the calendar's last instant saturates).
        let window_ok = incident.window.is_none_or(|(start, end)| start <= end);
        assert_eq!(incident.check_times(incident.aware_at).is_ok(), window_ok);
        let _ = incident.check_times(Timestamp::MAX_UTC);
        let _ = incident.check_times(Timestamp::MIN_UTC);
    }
});

/// The first row of an RFC 4180 file, its cells as a reader gets them.
fn header(csv: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = csv.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => cells.push(std::mem::take(&mut cell)),
            '\r' if !quoted && chars.peek() == Some(&'\n') => break,
            c => cell.push(c),
        }
    }
    cells.push(cell);
    cells
}
