//! Access and portability: the export bundle.
//!
//! The documentation is on the main item; the crate root re-exports the
//! module's public items.

use std::collections::{BTreeMap, BTreeSet};

use custodia_core::{DataCategory, LegalBasis, Purpose, SubjectId, TenantId, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::{BoxError, Error};
use crate::records::ProcessingRegistry;
use crate::request::RequestId;
use crate::source::FieldValue;

/// The schema name of export bundles.
pub const BUNDLE_SCHEMA: &str = "custodia.dsr.export";

/// An audit event about the subject, rendered for a human.
///
/// [`AuditTrail`](crate::AuditTrail) produces these from a `custodia-audit`
/// log, opening the subject's personal values with the subject key (erased
/// ones shown as [`ERASED`](crate::audit_log::ERASED)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedAuditEvent {
    /// When.
    pub at: Timestamp,
    /// Who acted, as the person may see it ("agent 17", "you", "system").
    pub actor: String,
    /// What was done: `"ticket.viewed"`, `"contact.updated"`.
    pub action: String,
    /// To what.
    pub target: String,
    /// Further readable details.
    #[serde(default)]
    pub details: BTreeMap<String, String>,
}

/// Reads the subject's audit events for the export bundle.
///
/// [`AuditTrail`](crate::AuditTrail) implements it over a `custodia-audit`
/// log; a host may implement it over its own.
pub trait SubjectAuditHistory: Send + Sync {
    /// Every audit event about `subject` in `tenant`, rendered, oldest first.
    fn events_for(
        &self,
        tenant: TenantId,
        subject: SubjectId,
    ) -> Result<Vec<RenderedAuditEvent>, BoxError>;
}

/// The audit section of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditSection {
    /// Whether an audit history was connected.
    pub status: AuditStatus,
    /// How many of the person's values in `events` could not be read
    /// though the vault works (each shown as
    /// [`UNREADABLE`](crate::audit_log::UNREADABLE) with its reason, and
    /// named in its event's `unreadable` detail): the history is incomplete
    /// when this is not 0. Counted from those details; omitted when 0, and
    /// 0 in a bundle written before it existed (such a bundle's history
    /// failed as a whole instead).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unreadable: usize,
    /// The events, oldest first.
    pub events: Vec<RenderedAuditEvent>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl AuditSection {
    /// The section of `events` from a connected history, its
    /// [`unreadable`](Self::unreadable) counted from their `unreadable`
    /// details (comma-separated paths).
    pub fn included(events: Vec<RenderedAuditEvent>) -> Self {
        let unreadable = events
            .iter()
            .filter_map(|e| e.details.get("unreadable"))
            .map(|paths| paths.split(',').filter(|p| !p.is_empty()).count())
            .sum();
        Self {
            status: AuditStatus::Included,
            unreadable,
            events,
        }
    }
}

/// Whether a bundle's audit events come from a connected audit history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditStatus {
    /// The desk had a [`SubjectAuditHistory`]; its events are included.
    Included,
    /// No audit history was configured; the bundle says so rather than
    /// implying there were no events.
    NotConnected,
}

/// One line of the manifest: what came from where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// The source.
    pub source: String,
    /// The record type.
    pub record_type: String,
    /// How many records.
    pub records: usize,
    /// The categories of data in them.
    pub categories: BTreeSet<DataCategory>,
    /// The CSV file holding them: `source-type.csv`, the parts lower-cased
    /// with anything but ASCII letters, digits and `_` as `_`; where two
    /// pairs (or a pair and `audit-events.csv`) would share a name, the
    /// later in (source, type) order takes `-2`, `-3`, … before `.csv`.
    pub csv: String,
}

/// One exported record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedRecord {
    /// The source.
    pub source: String,
    /// The record type.
    pub record_type: String,
    /// The record id.
    pub id: String,
    /// The basis its processing rests on.
    pub legal_basis: LegalBasis,
    /// When it was created, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// The fields.
    pub fields: Vec<FieldValue>,
}

/// What the person is told about one processing activity that covers their
/// data (Art. 15(1)(a)–(d), (g)), taken from the record of processing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessingInfo {
    /// The activity.
    pub activity: String,
    /// Its purposes.
    pub purposes: Vec<Purpose>,
    /// Its legal basis, if recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<LegalBasis>,
    /// The categories of data it covers.
    pub data_categories: Vec<DataCategory>,
    /// Recipients, as `name (region)`.
    pub recipients: Vec<String>,
    /// Third-country transfers, as `destination: safeguard`.
    pub transfers: Vec<String>,
    /// How long the data is kept.
    pub retention: String,
}

impl ProcessingInfo {
    /// The activities of `registry` that cover any of `categories` (one within
    /// the other, either way round), as information for the person.
    pub fn relevant<'a>(
        registry: &ProcessingRegistry,
        categories: impl IntoIterator<Item = &'a DataCategory> + Clone,
    ) -> Vec<ProcessingInfo> {
        registry
            .activities
            .iter()
            .filter(|a| {
                a.data_categories.iter().any(|covered| {
                    categories
                        .clone()
                        .into_iter()
                        .any(|c| c.is_within(covered) || covered.is_within(c))
                })
            })
            .map(|a| ProcessingInfo {
                activity: a.name.clone(),
                purposes: a.purposes.clone(),
                legal_basis: a.legal_basis,
                data_categories: a.data_categories.clone(),
                recipients: a
                    .recipients
                    .iter()
                    .map(|r| format!("{} ({})", r.name, r.region))
                    .collect(),
                transfers: a
                    .transfers
                    .iter()
                    .map(|t| format!("{}: {}", t.destination, t.safeguard.describe()))
                    .collect(),
                retention: a.retention.clone(),
            })
            .collect()
    }
}

/// Whether the bundle answers an access or a portability request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BundleKind {
    /// Art. 15: everything.
    Access,
    /// Art. 20: what the person provided, on consent or contract.
    Portability,
}

/// Everything exported for a request.
///
/// Access and portability: the export bundle.
///
/// One bundle per request: every record found in every source (for
/// portability, only the fields the person provided, from records processed on
/// consent or contract, Art. 20(1)), a manifest of what came from where, and
/// the subject's audit events in readable form.
///
/// # Format (version 1)
///
/// [`ExportBundle::to_json`] writes (and [`ExportBundle::from_json`] reads):
///
/// ```json
/// {
///   "schema": "custodia.dsr.export",
///   "version": 1,
///   "request": "…uuid…", "kind": "access",
///   "tenant": "…uuid…", "subject": "…uuid…",
///   "generated_at": "2026-03-02T10:00:00Z",
///   "manifest": [
///     {"source": "contacts", "record_type": "contact", "records": 1,
///      "categories": ["user.contact.email", "user.name"], "csv": "contacts-contact.csv"}
///   ],
///   "records": [
///     {"source": "contacts", "record_type": "contact", "id": "C-1",
///      "legal_basis": "contract", "created_at": "2025-01-01T00:00:00Z",
///      "fields": [{"name": "email", "category": "user.contact.email",
///                  "value": "alice@example.com", "provided_by_subject": true}]}
///   ],
///   "audit": {"status": "included", "events": [
///     {"at": "2026-01-05T08:00:00Z", "actor": "agent 17", "action": "ticket.viewed",
///      "target": "ticket T-1", "details": {}}
///   ]},
///   "processing": [
///     {"activity": "Customer accounts", "purposes": ["billing"], "legal_basis": "contract",
///      "data_categories": ["user.contact.email"], "recipients": ["Payment processor (IE)"],
///      "transfers": [], "retention": "30 days after the contract ends"}
///   ]
/// }
/// ```
///
/// With a record of processing on the desk ([`Desk::with_records`](crate::Desk::with_records)),
/// an access bundle also has `"processing"`: the activities covering the
/// exported categories, with purposes, legal basis, recipients, transfers and
/// retention (Art. 15(1)); see [`ProcessingInfo`]. It is `[]` otherwise.
///
/// `audit.status` is `included` or `not_connected` (no [`SubjectAuditHistory`]
/// configured, `events` empty). `audit.unreadable`, present only when not 0,
/// counts the person's audit values that could not be read (an incomplete
/// history: see [`AuditSection::unreadable`]); it is an additive field, so
/// the format stays version 1 and a bundle without it reads as complete. `created_at` is omitted when unknown.
///
/// # CSV
///
/// [`ExportBundle::csv_files`] gives one RFC 4180 file per (source, record
/// type) — named as in the manifest's `csv`, columns `id`, `created_at`, then
/// each field name in order of first appearance — and `audit-events.csv` with
/// columns `at`, `actor`, `action`, `target`, `details` (JSON).
///
/// The headers of a file are unique, so a reader may key by header: a
/// field named `id` or `created_at` is headed `id-2` (`created_at-2`), or
/// `-3` and on when a field of the file has that name already; every other
/// field keeps its name. In the spreadsheet files, where the leading `'`
/// makes `=a` read as a field named `'=a`, the second of two such names in
/// a file takes `-2` the same way.
///
/// Which to use:
///
/// * [`ExportBundle::csv_files`] (the default) is exact: every value as it is,
///   for programs (a portability export must carry the data unchanged, Art.
///   20). Values that begin with `=`, `+`, `-` or `@` are **not** rewritten,
///   so a spreadsheet that opens the file may run them as formulas (a ticket
///   reply written by someone else can reach the person's bundle).
/// * [`ExportBundle::spreadsheet_csv_files`] is for a person who will open
///   the files in a spreadsheet: each cell that begins with `=`, `+`, `-`,
///   `@`, a tab, a carriage return, NUL or a full-width `＝＋－＠` gets a
///   leading `'`, which spreadsheets take as "text, not a formula" (OWASP,
///   CSV injection), and every cell is quoted, so that a spreadsheet whose
///   list separator is `;` or a tab (as in much of Europe) does not split a
///   value such as `x;=1+1` into a second cell that is a formula. The `'`
///   is then part of the value for any other reader, and `-5` reads `'-5`.
///
/// The JSON is the canonical form either way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportBundle {
    /// Always [`BUNDLE_SCHEMA`].
    pub schema: String,
    /// Format version ([`ExportBundle::VERSION`]).
    pub version: u32,
    /// The request.
    pub request: RequestId,
    /// Access or portability.
    pub kind: BundleKind,
    /// The tenant.
    pub tenant: TenantId,
    /// The person.
    pub subject: SubjectId,
    /// When the bundle was made.
    pub generated_at: Timestamp,
    /// What came from where.
    pub manifest: Vec<ManifestEntry>,
    /// The records.
    pub records: Vec<ExportedRecord>,
    /// The subject's audit events.
    pub audit: AuditSection,
    /// Information about the processing of the exported data (access only;
    /// empty without a record of processing on the desk).
    #[serde(default)]
    pub processing: Vec<ProcessingInfo>,
}

/// A CSV file of a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvFile {
    /// The file name.
    pub name: String,
    /// Its contents (RFC 4180, CRLF line ends).
    pub content: String,
}

/// A file-name-safe form of `part`: lower-case ASCII letters, digits, `_`; the
/// rest becomes `_`.
fn file_part(part: &str) -> String {
    let cleaned: String = part
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '_' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '_',
        })
        .collect();
    if cleaned.is_empty() {
        "_".into()
    } else {
        cleaned
    }
}

/// The audit events' CSV file (see [`ExportBundle::csv_files`]).
const AUDIT_CSV: &str = "audit-events.csv";

/// The CSV file name for a (source, record type), unique among `taken`
/// (which it joins): `source-type.csv`, or `source-type-2.csv` and on where
/// two pairs clean to the same name (`Ticket` and `ticket`) or a pair to
/// the audit file's. A suffixed name cannot clash with a plain one: the
/// cleaned parts hold no `-`.
fn csv_name(source: &str, record_type: &str, taken: &mut BTreeSet<String>) -> String {
    let base = format!("{}-{}", file_part(source), file_part(record_type));
    let mut name = format!("{base}.csv");
    let mut n = 2u64;
    while taken.contains(&name) {
        name = format!("{base}-{n}.csv");
        n += 1;
    }
    taken.insert(name.clone());
    name
}

/// The first characters that make a spreadsheet read a cell as a formula
/// (OWASP, CSV injection): `=`, `+`, `-`, `@`, tab and carriage return; and
/// NUL (OWASP ASVS 5 lists it) and the full-width forms of the four signs,
/// which spreadsheets in East Asian locales can take for them.
const FORMULA_STARTS: [char; 11] = [
    '=', '+', '-', '@', '\t', '\r', '\0', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}',
];

/// One RFC 4180 field: quoted when it holds a comma, quote, CR or LF. For a
/// spreadsheet, a value a spreadsheet would take for a formula
/// ([`FORMULA_STARTS`]) first gets a leading `'`, and every field is quoted
/// (OWASP): a spreadsheet whose list separator is `;` (the usual one in
/// much of Europe) or a tab splits an unquoted `x;=1+1` into two cells, the
/// second a formula; inside quotes no separator splits. Leading spaces do
/// not hide a formula start (` =1+1` is defused too): an import that trims
/// cells, as LibreOffice's "Trim spaces" does, would otherwise uncover it.
fn csv_field(out: &mut String, value: &str, spreadsheet: bool) {
    let defuse = spreadsheet && formula_like(value);
    if spreadsheet || value.contains([',', '"', '\r', '\n']) {
        out.push('"');
        if defuse {
            out.push('\'');
        }
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        if defuse {
            out.push('\'');
        }
        out.push_str(value);
    }
}

/// Whether a spreadsheet could take `value` for a formula: it starts with
/// one of [`FORMULA_STARTS`], after any spaces.
fn formula_like(value: &str) -> bool {
    value.trim_start_matches(' ').starts_with(FORMULA_STARTS)
}

/// The header of a record CSV: `id`, `created_at`, then one per field name
/// in `columns` (distinct, in order of first appearance). A name whose cell
/// would read as an earlier header's — `id` or `created_at`, or in the
/// `spreadsheet` files a name that reads as another once defused (`=a` and
/// `'=a` both read `'=a`) — takes `-2`, or the first `-n` whose cell no
/// other header and no field name has; every other name is written as it
/// is. Compared as a reader gets the cells (a defused name with its
/// leading `'`), so the headers of one file are unique, and the same
/// fields give the same headers.
fn headers(columns: &[&str], spreadsheet: bool) -> Vec<String> {
    let cell = |name: &str| {
        if spreadsheet && formula_like(name) {
            format!("'{name}")
        } else {
            name.to_owned()
        }
    };
    // Every field's own cell, so that a renamed header takes none of them.
    let names: BTreeSet<String> = columns.iter().map(|name| cell(name)).collect();
    let mut headers = vec!["id".to_owned(), "created_at".to_owned()];
    let mut used: BTreeSet<String> = headers.iter().cloned().collect();
    for name in columns {
        let mut header = (*name).to_owned();
        let mut n = 2u64;
        while used.contains(&cell(&header)) {
            loop {
                header = format!("{name}-{n}");
                n += 1;
                if !names.contains(&cell(&header)) {
                    break;
                }
            }
        }
        used.insert(cell(&header));
        headers.push(header);
    }
    headers
}

fn csv_row<'a>(out: &mut String, values: impl IntoIterator<Item = &'a str>, spreadsheet: bool) {
    for (i, value) in values.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_field(out, value, spreadsheet);
    }
    out.push_str("\r\n");
}

impl ExportBundle {
    /// The format version this build writes and reads.
    pub const VERSION: u32 = 1;

    pub(crate) fn build(
        request: &crate::Request,
        kind: BundleKind,
        generated_at: Timestamp,
        records: Vec<ExportedRecord>,
        audit: AuditSection,
        registry: Option<&ProcessingRegistry>,
    ) -> Self {
        let mut manifest: BTreeMap<(String, String), ManifestEntry> = BTreeMap::new();
        for r in &records {
            let entry = manifest
                .entry((r.source.clone(), r.record_type.clone()))
                .or_insert_with(|| ManifestEntry {
                    source: r.source.clone(),
                    record_type: r.record_type.clone(),
                    records: 0,
                    categories: BTreeSet::new(),
                    csv: String::new(),
                });
            entry.records += 1;
            entry
                .categories
                .extend(r.fields.iter().map(|f| f.category.clone()));
        }
        // Named once all pairs are known, in their order: the same records
        // give the same names.
        let mut taken = BTreeSet::from([AUDIT_CSV.to_owned()]);
        for entry in manifest.values_mut() {
            entry.csv = csv_name(&entry.source, &entry.record_type, &mut taken);
        }
        let processing = match (kind, registry) {
            (BundleKind::Access, Some(registry)) => {
                let categories: BTreeSet<&DataCategory> = manifest
                    .values()
                    .flat_map(|entry| entry.categories.iter())
                    .collect();
                ProcessingInfo::relevant(registry, categories.iter().copied())
            }
            _ => Vec::new(),
        };
        Self {
            schema: BUNDLE_SCHEMA.to_owned(),
            version: Self::VERSION,
            request: request.id,
            kind,
            tenant: request.tenant,
            subject: request.subject,
            generated_at,
            manifest: manifest.into_values().collect(),
            records,
            audit,
            processing,
        }
    }

    /// The bundle as pretty JSON (format above, in [`ExportBundle`]).
    pub fn to_json(&self) -> Result<String, Error> {
        crate::json::encode(self, "export bundle")
    }

    /// Reads a bundle, checking its version.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let doc: Self = crate::json::decode_versioned(text, "export bundle", Self::VERSION)?;
        crate::json::check_schema(&doc.schema, BUNDLE_SCHEMA, "export bundle")?;
        Ok(doc)
    }

    /// One CSV per (source, record type), named as the manifest says
    /// (unique, see [`ManifestEntry::csv`]), plus `audit-events.csv`: the
    /// values exactly as they are, for programs (see [CSV](ExportBundle#csv)
    /// for which variant to use).
    pub fn csv_files(&self) -> Vec<CsvFile> {
        self.csv_files_for(false)
    }

    /// [`ExportBundle::csv_files`] for a person who will open them in a
    /// spreadsheet: the same files, with a leading `'` on each cell that
    /// begins with `=`, `+`, `-`, `@`, a tab, a carriage return, NUL or a
    /// full-width `＝＋－＠`, so that a spreadsheet shows it as text rather
    /// than running it as a formula, and every cell quoted, so that one
    /// splitting lines at `;` or a tab finds no formula inside a value
    /// either (see [CSV](ExportBundle#csv)).
    pub fn spreadsheet_csv_files(&self) -> Vec<CsvFile> {
        self.csv_files_for(true)
    }

    fn csv_files_for(&self, spreadsheet: bool) -> Vec<CsvFile> {
        let mut files = Vec::new();
        for entry in &self.manifest {
            let rows: Vec<&ExportedRecord> = self
                .records
                .iter()
                .filter(|r| r.source == entry.source && r.record_type == entry.record_type)
                .collect();
            let mut columns: Vec<&str> = Vec::new();
            for r in &rows {
                for f in &r.fields {
                    if !columns.contains(&f.name.as_str()) {
                        columns.push(&f.name);
                    }
                }
            }
            let mut content = String::new();
            csv_row(
                &mut content,
                headers(&columns, spreadsheet).iter().map(String::as_str),
                spreadsheet,
            );
            for r in rows {
                let mut cells = vec![
                    r.id.clone(),
                    r.created_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                ];
                for column in &columns {
                    // A field name repeated in one record (several replies) is
                    // one cell, its values joined by newlines.
                    let joined: Vec<&str> = r
                        .fields
                        .iter()
                        .filter(|f| f.name == *column)
                        .map(|f| f.value.as_str())
                        .collect();
                    cells.push(joined.join("\n"));
                }
                csv_row(&mut content, cells.iter().map(String::as_str), spreadsheet);
            }
            files.push(CsvFile {
                name: entry.csv.clone(),
                content,
            });
        }
        let mut audit = String::new();
        csv_row(
            &mut audit,
            ["at", "actor", "action", "target", "details"],
            spreadsheet,
        );
        for e in &self.audit.events {
            let at = e.at.to_rfc3339();
            let details = serde_json::to_string(&e.details).unwrap_or_default();
            csv_row(
                &mut audit,
                [
                    at.as_str(),
                    e.actor.as_str(),
                    e.action.as_str(),
                    e.target.as_str(),
                    details.as_str(),
                ],
                spreadsheet,
            );
        }
        files.push(CsvFile {
            name: AUDIT_CSV.into(),
            content: audit,
        });
        files
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use custodia_core::Role;
    use proptest::prelude::*;

    fn record(source: &str, record_type: &str) -> ExportedRecord {
        ExportedRecord {
            source: source.into(),
            record_type: record_type.into(),
            id: "1".into(),
            legal_basis: LegalBasis::Contract,
            created_at: None,
            fields: Vec::new(),
        }
    }

    fn bundle(records: Vec<ExportedRecord>) -> ExportBundle {
        let tenant = TenantId::from_external_key("t", "1");
        let subject = SubjectId::from_external_key(tenant, "c", "1");
        let at = chrono::DateTime::UNIX_EPOCH;
        let request = crate::Request::new(
            tenant,
            subject,
            crate::RequestKind::Access,
            Role::Controller,
            at,
        );
        let request = request.unwrap_or_else(|e| panic!("{e}"));
        let audit = AuditSection {
            status: AuditStatus::NotConnected,
            unreadable: 0,
            events: Vec::new(),
        };
        ExportBundle::build(&request, BundleKind::Access, at, records, audit, None)
    }

    /// Pairs that clean to one name, or to the audit file's, get distinct
    /// files (found in review: `Ticket` and `ticket` shared one, and
    /// `audit`/`events` overwrote the audit events' file).
    #[test]
    fn pairs_that_clean_alike_get_their_own_files() {
        let b = bundle(vec![
            record("tickets", "ticket"),
            record("tickets", "Ticket"),
            record("audit", "events"),
            record("tickets", "ticket"),
        ]);
        let names: Vec<&str> = b.manifest.iter().map(|m| m.csv.as_str()).collect();
        // In (source, type) order: `Ticket` sorts before `ticket`.
        assert_eq!(
            names,
            [
                "audit-events-2.csv",
                "tickets-ticket.csv",
                "tickets-ticket-2.csv"
            ]
        );
        let files: Vec<String> = b.csv_files().into_iter().map(|f| f.name).collect();
        assert_eq!(files.len(), 4);
        assert_eq!(files.iter().collect::<BTreeSet<_>>().len(), 4, "{files:?}");
    }

    /// The spreadsheet variant defuses every cell a spreadsheet would take
    /// for a formula (OWASP: a leading `=`, `+`, `-`, `@`, tab or CR; NUL
    /// and the full-width signs) with a
    /// leading `'`, header and audit cells too, and quotes every cell (a
    /// `;` in a value splits no cell where `;` is the separator); the
    /// default CSV carries the values unchanged.
    #[test]
    fn spreadsheet_csv_defuses_formulas_and_the_default_keeps_values() {
        let value = field;
        let mut reply = record("tickets", "ticket");
        reply.id = "@T-1".into();
        reply.fields = vec![
            value("=cmd", "=HYPERLINK(\"http://x.example\",\"click\")"),
            value("plus", "+1 555"),
            value("minus", "-2"),
            value("tab", "\tx"),
            value("cr", "\rx"),
            value("plain", "fine = ok"),
            value("wide", "\u{FF1D}1+1"),
            value("nul", "\0x"),
            value("semi", "x;=1+1"),
        ];
        let mut b = bundle(vec![reply]);
        b.audit.events.push(RenderedAuditEvent {
            at: chrono::DateTime::UNIX_EPOCH,
            actor: "-agent".into(),
            action: "ticket.viewed".into(),
            target: "+T-1".into(),
            details: BTreeMap::new(),
        });
        let exact = b.csv_files();
        assert_eq!(
            exact[0].content,
            "id,created_at,=cmd,plus,minus,tab,cr,plain,wide,nul,semi\r\n\
             @T-1,,\"=HYPERLINK(\"\"http://x.example\"\",\"\"click\"\")\",+1 555,-2,\tx,\"\rx\",fine = ok,\u{FF1D}1+1,\0x,x;=1+1\r\n"
        );
        let safe = b.spreadsheet_csv_files();
        assert_eq!(
            safe.iter().map(|f| &f.name).collect::<Vec<_>>(),
            exact.iter().map(|f| &f.name).collect::<Vec<_>>()
        );
        assert_eq!(
            safe[0].content,
            "\"id\",\"created_at\",\"'=cmd\",\"plus\",\"minus\",\"tab\",\"cr\",\"plain\",\"wide\",\"nul\",\"semi\"\r\n\
             \"'@T-1\",\"\",\"'=HYPERLINK(\"\"http://x.example\"\",\"\"click\"\")\",\"'+1 555\",\"'-2\",\"'\tx\",\"'\rx\",\"fine = ok\",\"'\u{FF1D}1+1\",\"'\0x\",\"x;=1+1\"\r\n"
        );
        assert!(
            safe[1]
                .content
                .contains("\r\n\"1970-01-01T00:00:00+00:00\",\"'-agent\",\"ticket.viewed\",\"'+T-1\",\"{}\"\r\n"),
            "{}",
            safe[1].content
        );
        assert!(
            exact[1].content.contains(",-agent,ticket.viewed,+T-1,"),
            "{}",
            exact[1].content
        );
    }

    /// The cells of the first row of `csv` as a reader splitting at
    /// `separator` gets them: a `"` opens or closes a quoted part (`""`
    /// inside one is a quote), only a separator outside quotes ends a cell,
    /// and a line break inside quotes is part of the cell, one outside ends
    /// the row.
    fn cells(csv: &str, separator: char) -> Vec<String> {
        let mut cells = vec![String::new()];
        let mut quoted = false;
        let mut chars = csv.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '"' if quoted && chars.peek() == Some(&'"') => {
                    chars.next();
                    cells.last_mut().unwrap().push('"');
                }
                '"' => quoted = !quoted,
                c if c == separator && !quoted => cells.push(String::new()),
                '\r' if !quoted && chars.peek() == Some(&'\n') => break,
                c => cells.last_mut().unwrap().push(c),
            }
        }
        cells
    }

    /// The header of an RFC 4180 file, its cells as a reader gets them.
    fn header(csv: &str) -> Vec<String> {
        cells(csv, ',')
    }

    fn field(name: &str, value: &str) -> crate::source::FieldValue {
        crate::source::FieldValue {
            name: name.into(),
            category: custodia_core::DataCategory::USER_CONTENT_TICKET,
            value: value.into(),
            provided_by_subject: true,
        }
    }

    /// Found in review: a field named `id` or `created_at` gave a second
    /// column of that name, so a reader keying by header took the record's
    /// id (or the field's value) for the other. A colliding name takes
    /// `-2` (or the next number no column has); the others are unchanged.
    #[test]
    fn a_field_named_like_a_fixed_column_gets_its_own_header() {
        let mut r = record("tickets", "ticket");
        r.id = "T-1".into();
        r.fields = vec![
            field("subject", "printer"),
            field("id", "external-7"),
            field("created_at", "yesterday"),
            field("id-2", "taken"),
        ];
        let b = bundle(vec![r]);
        let exact = &b.csv_files()[0].content;
        assert_eq!(
            exact,
            "id,created_at,subject,id-3,created_at-2,id-2\r\n\
             T-1,,printer,external-7,yesterday,taken\r\n"
        );
        let safe = &b.spreadsheet_csv_files()[0].content;
        assert_eq!(
            header(safe),
            [
                "id",
                "created_at",
                "subject",
                "id-3",
                "created_at-2",
                "id-2"
            ]
        );
        // Names that collide with nothing are as they were.
        let mut plain = record("tickets", "ticket");
        plain.fields = vec![field("subject", "printer"), field("=sum", "x")];
        let b = bundle(vec![plain]);
        assert_eq!(
            header(&b.csv_files()[0].content),
            ["id", "created_at", "subject", "=sum"]
        );
    }

    proptest! {
        /// Whatever the field names, the header cells of every CSV file,
        /// exact or for a spreadsheet, are unique as a reader gets them,
        /// and one column is written per distinct name.
        #[test]
        fn every_header_is_unique(
            records in proptest::collection::vec(
                proptest::collection::vec(
                    prop_oneof![
                        "(id|created_at|id-2|id-3|created_at-2|created_at-2-2|=a|'=a|=a-2|'=a-2|-|'-|'-2|-2)",
                        any::<String>(),
                        "[a-z=',\"\r\n-]{0,4}",
                    ],
                    0..8,
                ),
                1..4,
            ),
        ) {
            let b = bundle(
                records
                    .iter()
                    .map(|names| {
                        let mut r = record("s", "t");
                        r.fields = names.iter().map(|n| field(n, "v")).collect();
                        r
                    })
                    .collect(),
            );
            let distinct: BTreeSet<&String> = records.iter().flatten().collect();
            for files in [b.csv_files(), b.spreadsheet_csv_files()] {
                for file in files {
                    let header = header(&file.content);
                    let unique: BTreeSet<&String> = header.iter().collect();
                    prop_assert_eq!(unique.len(), header.len(), "{:?}: {:?}", file.name, header);
                    if file.name != AUDIT_CSV {
                        prop_assert_eq!(header.len(), distinct.len() + 2, "{:?}", header);
                    }
                }
            }
        }

        /// Whatever a value, no cell of the spreadsheet variant begins with
        /// a formula character, whether the spreadsheet splits lines at `,`,
        /// `;` (found in review: an unquoted `x;=1+1` was two cells, the
        /// second a formula, where `;` is the list separator) or a tab; read
        /// at `,` it is the value, with a leading `'` if it began with one,
        /// and the exact CSV reads back the value unchanged. Spaces before
        /// a formula character do not hide it (found in review: ` =1+1`
        /// was left as it was, a formula once an import trims cells).
        #[test]
        fn spreadsheet_cells_never_start_a_formula(value in "[=+@ ;\t\r\n\0\u{FF1D}\u{FF20},\"a-z0-9-]{0,12}") {
            let mut r = record("s", "t");
            r.fields = vec![field("f", &value)];
            let b = bundle(vec![r]);
            // The header holds no line break: the row is what follows it.
            let row = |csv: &str| {
                let (_, row) = csv.split_once("\r\n").unwrap();
                row.strip_suffix("\r\n").unwrap().to_owned()
            };
            let exact = row(&b.csv_files()[0].content);
            let safe = row(&b.spreadsheet_csv_files()[0].content);
            prop_assert_eq!(cells(&exact, ','), ["1", "", value.as_str()]);
            let defused = if value.trim_start_matches(' ').starts_with(FORMULA_STARTS) {
                format!("'{value}")
            } else {
                value.clone()
            };
            prop_assert_eq!(cells(&safe, ','), ["1", "", defused.as_str()]);
            for separator in [',', ';', '\t'] {
                for cell in cells(&safe, separator) {
                    let trimmed = cell.trim_start_matches(' ');
                    prop_assert!(!trimmed.starts_with(FORMULA_STARTS), "{:?} at {:?}: {:?}", safe, separator, cell);
                }
            }
        }

        /// Every (source, record type) has its own file, whatever the names.
        #[test]
        fn every_pair_has_its_own_file(
            pairs in proptest::collection::vec(("(audit|Audit|a-b|a_b|A b|)", "(events|Events|b|B|)"), 0..12),
        ) {
            let b = bundle(pairs.iter().map(|(s, t)| record(s, t)).collect());
            let files: Vec<String> = b.csv_files().into_iter().map(|f| f.name).collect();
            prop_assert_eq!(files.len(), b.manifest.len() + 1);
            prop_assert_eq!(files.iter().collect::<BTreeSet<_>>().len(), files.len(), "{:?}", files);
        }
    }
}
