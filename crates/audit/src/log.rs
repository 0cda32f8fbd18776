//! The audit log: an [`AuditStore`] of canonical events and the Merkle tree over them.

use custodia_core::{ActorId, SubjectId, TenantId, Timestamp};
use custodia_crypt::{KeyStore, SubjectVault};

use crate::Error;
use crate::canonical;
use crate::checkpoint::{Checkpoint, Signer};
use crate::event::{Action, Event};
use crate::merkle::{
    Hash, MerkleTree, TreeHead, leaf_hash, leaf_hash_prefixed, verify_consistency, verify_inclusion,
};
use crate::personal;
use crate::store::{Anchor, AuditStore};

/// An append-only, verifiable audit log over an [`AuditStore`].
///
/// The audit log: an [`AuditStore`] of canonical events and the Merkle tree over them.
///
/// [`AuditLog::open`] reads every record once, checking each one decodes as a
/// canonical event, hashing it into the tree and comparing the store's
/// anchors with the recomputed roots; so opening *is* verification, and
/// [`verify`] adds the comparison with a trusted checkpoint. Afterwards the log
/// appends in `O(1)` amortised hashing and answers proofs in `O(log n)`.
///
/// Erasure: with [`AuditLog::require_sealed`] (on by default) the log refuses
/// events whose personal values are still in the clear (or labelled sealed
/// but not an envelope under the labelled subject's key); seal them with
/// [`AuditLog::append_sealed`] or [`crate::personal::seal_event`].
#[derive(Debug)]
pub struct AuditLog<S> {
    store: S,
    tree: MerkleTree,
    require_sealed: bool,
    /// Reused encoding buffer for single appends.
    scratch: Vec<u8>,
}

/// A record that failed verification: where and why.
fn tampered_at<S: AuditStore + ?Sized>(store: &S, index: u64, reason: String) -> Error {
    let (path, offset) = store.locate(index).unwrap_or_default();
    Error::Tampered {
        path,
        offset,
        index: Some(index),
        reason,
    }
}

impl<S: AuditStore> AuditLog<S> {
    /// Opens the log in `store`, verifying every record (see [`AuditLog`]).
    pub fn open(store: S) -> Result<Self, Error> {
        Self::open_with_progress(store, &mut |_, _| {})
    }

    /// [`AuditLog::open`] for a writer that holds a trusted checkpoint of
    /// the log named `origin`: a checkpoint of another log is refused with
    /// [`Error::Origin`] and a store with fewer records than the checkpoint
    /// with [`Error::Truncated`], before anything is read, and the opened
    /// log must extend the checkpoint ([`AuditLog::check_checkpoint`]). For
    /// the segment store, open it with
    /// [`SegmentStore::open_at_least`](crate::SegmentStore::open_at_least) so
    /// that not even a torn tail is truncated below the checkpoint.
    pub fn open_extending(store: S, origin: &str, trusted: &Checkpoint) -> Result<Self, Error> {
        trusted.check_origin(origin)?;
        if store.len() < trusted.size {
            return Err(Error::Truncated {
                trusted: trusted.size,
                found: store.len(),
            });
        }
        let log = Self::open(store)?;
        log.check_checkpoint(origin, trusted)?;
        Ok(log)
    }

    /// [`AuditLog::open`], calling `progress(records_verified, records_total)`
    /// as verification goes (every 65,536 records or so, and at the end of
    /// each of the store's runs), for progress bars on large logs.
    pub fn open_with_progress(
        store: S,
        progress: &mut impl FnMut(u64, u64),
    ) -> Result<Self, Error> {
        custodia_core::op_span!(DEBUG, "custodia.audit.verify", records = store.len());
        let mut tree = MerkleTree::with_capacity(usize::try_from(store.len()).unwrap_or(0));
        read_records(&store, &mut tree, progress)?;
        check_anchors(&tree, store.anchors()?)?;
        Ok(Self {
            store,
            tree,
            require_sealed: true,
            scratch: Vec::new(),
        })
    }

    /// Whether events with personal values not sealed are refused (default
    /// `true`, [`Error::ClearPersonalData`]): values in the clear, and values
    /// labelled sealed whose bytes are not an envelope under the labelled
    /// subject's own key ([`Personal::is_sealed`](crate::Personal::is_sealed):
    /// clear text in a sealed label, a tenant key's envelope, another
    /// subject's), which shredding that subject's key would not erase.
    pub fn require_sealed(mut self, require: bool) -> Self {
        self.require_sealed = require;
        self
    }

    /// How many events.
    pub fn len(&self) -> u64 {
        self.tree.size()
    }

    /// Whether the log is empty.
    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    /// The current tree head.
    pub fn head(&self) -> TreeHead {
        self.tree.head()
    }

    /// The Merkle tree.
    pub fn tree(&self) -> &MerkleTree {
        &self.tree
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Makes every appended event durable.
    pub fn sync(&mut self) -> Result<(), Error> {
        self.store.sync()
    }

    /// Appends one event; returns its index.
    pub fn append(&mut self, event: &Event) -> Result<u64, Error> {
        admit(event, self.require_sealed)?;
        // One reused buffer: the RFC 6962 leaf prefix, then the encoding,
        // hashed in one piece; the store copies the encoding from it.
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        scratch.push(0x00);
        canonical::encode_into(event, &mut scratch);
        let leaf = leaf_hash_prefixed(&scratch);
        let result = self.append_hashed(&[&scratch[1..]], &[leaf]);
        self.scratch = scratch;
        result
    }

    /// Appends events in order (one write, and with group commit one flush);
    /// returns the index of the first.
    pub fn append_batch(&mut self, events: &[Event]) -> Result<u64, Error> {
        for event in events {
            admit(event, self.require_sealed)?;
        }
        // Each event encoded and hashed in the reused buffer, then packed
        // into one batch buffer: no allocation per event.
        let mut scratch = std::mem::take(&mut self.scratch);
        let mut packed = Vec::with_capacity(events.iter().map(canonical::encoded_len).sum());
        let mut ends = Vec::with_capacity(events.len());
        let mut leaves = Vec::with_capacity(events.len());
        for event in events {
            scratch.clear();
            scratch.push(0x00);
            canonical::encode_into(event, &mut scratch);
            leaves.push(leaf_hash_prefixed(&scratch));
            packed.extend_from_slice(&scratch[1..]);
            ends.push(packed.len());
        }
        self.scratch = scratch;
        let mut start = 0;
        let records: Vec<&[u8]> = ends
            .iter()
            .map(|&end| {
                let record = &packed[start..end];
                start = end;
                record
            })
            .collect();
        self.append_hashed(&records, &leaves)
    }

    /// Appends already encoded events; returns the index of the first.
    ///
    /// Each record is checked to be a canonical event first
    /// ([`canonical::check`]): bytes that do not decode are refused with the
    /// decoding error and nothing is appended, since a verifier would report
    /// them as tampering. With [`AuditLog::require_sealed`] (the default)
    /// the same pass ([`canonical::first_clear_field`]) refuses a record as
    /// [`AuditLog::append`] refuses its event when a personal value is in
    /// the clear ([`Error::ClearPersonalData`]): once hashed into the log,
    /// no shredding could erase it. No record is decoded into an event.
    ///
    /// On a store shared with other writers, a lost race ([`Error::Stale`])
    /// is handled here: the log reads the other writers' records into its
    /// tree (checking them as [`AuditLog::open`] does) and tries again.
    pub fn append_encoded(&mut self, records: &[&[u8]]) -> Result<u64, Error> {
        for record in records {
            // One pass, no decoding: bytes `check` accepts already meet
            // `Event::validate`, so `admit` would only add the clear values.
            if !self.require_sealed {
                canonical::check(record)?;
            } else if let Some(field) = canonical::first_clear_field(record)? {
                return Err(Error::ClearPersonalData {
                    event: canonical::event_id(record)
                        .map(|id| id.to_string())
                        .unwrap_or_default(),
                    field,
                });
            }
        }
        let leaves: Vec<Hash> = records.iter().map(|r| leaf_hash(r)).collect();
        self.append_hashed(records, &leaves)
    }

    /// [`AuditLog::append_encoded`] with the records' leaf hashes computed.
    fn append_hashed(&mut self, records: &[&[u8]], leaves: &[Hash]) -> Result<u64, Error> {
        const MAX_ATTEMPTS: usize = 1000;
        custodia_core::op_span!(
            DEBUG,
            "custodia.audit.append",
            events = records.len(),
            races = tracing::field::Empty
        );
        if records.is_empty() {
            return Ok(self.tree.size());
        }
        if self.store.len() != self.tree.size() {
            // A catch-up failed (its records were refused): retry it rather
            // than append after records the tree does not hold.
            self.catch_up()?;
        }
        for _ in 0..MAX_ATTEMPTS {
            let first = self.tree.size();
            for leaf in leaves {
                self.tree.push_hash(*leaf);
            }
            match self.store.append(records, &self.tree) {
                Ok(()) => return Ok(first),
                Err(Error::Stale { .. }) => {
                    custodia_core::op_record!(races = true);
                    self.tree.truncate(first);
                    self.catch_up()?;
                }
                Err(e) => {
                    self.tree.truncate(first);
                    return Err(e);
                }
            }
        }
        Err(Error::Store(format!(
            "gave up appending after {MAX_ATTEMPTS} races with other writers"
        )))
    }

    /// Reads records other writers appended to a shared store into the tree;
    /// returns how many.
    ///
    /// They are checked as [`AuditLog::open`] checks the whole store: each
    /// record must be a canonical event, and every tree head the store
    /// recorded for the trees they complete
    /// ([`AuditStore::anchors_between`]) must be the recomputed root. So a
    /// record another writer appended and someone then replaced is
    /// [`Error::Tampered`], as `open` reports it, and an append that lost
    /// the race to it fails rather than record a head over it. On error the
    /// tree is left as it was, and the next append or catch-up reads the
    /// records again.
    pub fn catch_up(&mut self) -> Result<u64, Error> {
        self.store.refresh()?;
        let start = self.tree.size();
        let read = read_records(&self.store, &mut self.tree, &mut |_, _| {}).and_then(|()| {
            let anchors = self.store.anchors_between(start, self.tree.size())?;
            check_anchors(&self.tree, anchors)
        });
        if let Err(e) = read {
            self.tree.truncate(start);
            return Err(e);
        }
        Ok(self.tree.size() - start)
    }

    /// Seals the event's personal values under the owners' keys, then appends it.
    pub fn append_sealed<K: KeyStore>(
        &mut self,
        vault: &SubjectVault<K>,
        mut event: Event,
    ) -> Result<u64, Error> {
        personal::seal_event(vault, &mut event)?;
        self.append(&event)
    }

    /// The event at `index`, checked against the tree.
    pub fn get(&self, index: u64) -> Result<Event, Error> {
        let record = self.store.get(index)?;
        self.check_leaf(index, &record)?;
        canonical::decode(&record)
    }

    /// The leaf hash of `record`, read from the store at `index`, when it is
    /// the leaf the tree verified there: what the log hands out (events,
    /// proofs) must be what it verified, not what the store holds now.
    fn check_leaf(&self, index: u64, record: &[u8]) -> Result<Hash, Error> {
        let leaf = leaf_hash(record);
        if Some(leaf) != self.tree.leaf(index) {
            return Err(tampered_at(
                &self.store,
                index,
                "record changed since the log was opened".into(),
            ));
        }
        Ok(leaf)
    }

    /// An inclusion proof for event `index` in the current tree.
    pub fn prove(&self, index: u64) -> Result<InclusionProof, Error> {
        prove(&self.tree, index)
    }

    /// A consistency proof from the tree of `old` events to the current tree.
    pub fn consistency_proof(&self, old: u64) -> Result<Vec<Hash>, Error> {
        self.tree.consistency_proof(old, self.tree.size())
    }

    /// A signed checkpoint of the current tree head.
    pub fn checkpoint(&self, origin: &str, signer: &Signer) -> Result<String, Error> {
        sign_head(&self.tree, origin, signer)
    }

    /// Checks the log, named `origin`, against a trusted checkpoint: it must
    /// be a checkpoint of that log ([`Error::Origin`] otherwise: one key may
    /// sign several logs), the log must hold at least the checkpoint's
    /// records, and its first `size` records must hash to the checkpoint's
    /// root. Then a consistency proof from the checkpoint to the current
    /// head is computed and verified, as a remote verifier would.
    pub fn check_checkpoint(&self, origin: &str, checkpoint: &Checkpoint) -> Result<(), Error> {
        check_checkpoint(&self.tree, origin, checkpoint)
    }

    /// Every event matching `query`, with its index, in log order.
    ///
    /// Each record read is checked against the tree verified at opening, as
    /// [`AuditLog::get`] checks it: one changed since is
    /// [`Error::Tampered`]. ([`AuditLog::export_subject`] checks the same.)
    pub fn query(&self, query: &Query) -> Result<Vec<(u64, Event)>, Error> {
        let mut found = Vec::new();
        self.store.scan(0, &mut |index, record| {
            if index >= self.tree.size() {
                return Ok(());
            }
            self.check_leaf(index, record)?;
            let event = canonical::decode(record)?;
            if query.matches(&event) {
                found.push((index, event));
            }
            Ok(())
        })?;
        Ok(found)
    }

    /// Everything the log holds about `subject` (in `tenant`, if given; subject
    /// ids are tenant-scoped, see `custodia_core::id`) (GDPR Art. 15):
    /// each event with an inclusion proof against the current head, the
    /// subject's own personal values opened with `vault` when given (values
    /// of erased subjects are listed as erased), and other people's values
    /// left out and listed as withheld (Art. 15(4); see
    /// [`personal::reveal_event_for`]).
    ///
    /// One of the subject's values that cannot be read while the vault
    /// works (a damaged or forged envelope labelled theirs, a tenant shred)
    /// does not stop the export: it is left out, listed with its reason in
    /// its event's `unreadable`, and the export is marked
    /// [`incomplete`](SubjectExport::incomplete) ([`EXPORT_FORMAT_V2`]), so
    /// the person still gets the rest and the officer sees what is missing.
    /// A vault that cannot read at all (its key store down, the wrong root
    /// key, no key for the subject) fails the export: see
    /// [`personal::read_value`] for how the two are told apart.
    pub fn export_subject<K: KeyStore>(
        &self,
        tenant: Option<TenantId>,
        subject: SubjectId,
        vault: Option<&SubjectVault<K>>,
    ) -> Result<SubjectExport, Error> {
        let head = self.head();
        let mut events = Vec::new();
        self.store.scan(0, &mut |index, record| {
            if index >= head.size {
                return Ok(());
            }
            let leaf = self.check_leaf(index, record)?;
            let event = canonical::decode(record)?;
            if tenant.is_some_and(|t| event.tenant != t) || !event.concerns(subject) {
                return Ok(());
            }
            let revealed = personal::reveal_event_for(vault, &event, subject)?;
            events.push(ExportedEvent {
                index,
                leaf_hash: leaf,
                proof: self.tree.inclusion_proof(index, head.size)?,
                event: revealed.event,
                erased: revealed.erased,
                withheld: revealed.withheld,
                unreadable: revealed.unreadable,
            });
            Ok(())
        })?;
        Ok(SubjectExport::new(tenant, subject, head, events))
    }
}

// The log logic `AuditLog` and the async `AsyncAuditLog` (feature `sqlx`)
// share: what may be appended, how recorded heads and checkpoints are
// checked, and how proofs and checkpoints are made from a tree.

/// Refuses an event the log must not take: invalid, or (with
/// `require_sealed`) carrying personal values in the clear.
pub(crate) fn admit(event: &Event, require_sealed: bool) -> Result<(), Error> {
    event.validate()?;
    if require_sealed && let Some(field) = personal::first_clear_field(event) {
        return Err(Error::ClearPersonalData {
            event: event.id.to_string(),
            field,
        });
    }
    Ok(())
}

/// Checks the heads a store recorded while it was written against the
/// recomputed `tree`.
pub(crate) fn check_anchors(tree: &MerkleTree, anchors: Vec<Anchor>) -> Result<(), Error> {
    for anchor in anchors {
        if anchor.head.size > tree.size() {
            return Err(Error::Tampered {
                path: anchor.path,
                offset: 0,
                index: Some(tree.size()),
                reason: format!(
                    "the store anchors a tree of {} records but holds {}: records were removed from the end",
                    anchor.head.size,
                    tree.size()
                ),
            });
        }
        if tree.root_at(anchor.head.size)? != anchor.head.root {
            return Err(Error::Tampered {
                path: anchor.path,
                offset: 40,
                index: None,
                reason: format!(
                    "the segment's anchor (root of the first {} records) does not match the records: an earlier record was changed or a segment replaced",
                    anchor.head.size
                ),
            });
        }
    }
    Ok(())
}

/// An inclusion proof for leaf `index` against the whole `tree`.
pub(crate) fn prove(tree: &MerkleTree, index: u64) -> Result<InclusionProof, Error> {
    let size = tree.size();
    let path = tree.inclusion_proof(index, size)?;
    Ok(InclusionProof {
        index,
        size,
        leaf_hash: tree.leaf(index).unwrap_or_default(),
        root: tree.root(),
        path,
    })
}

/// A signed checkpoint of `tree`'s head.
pub(crate) fn sign_head(tree: &MerkleTree, origin: &str, signer: &Signer) -> Result<String, Error> {
    signer.sign(&Checkpoint::new(origin, tree.head()))
}

/// Checks `tree`, of the log named `origin`, extends the trusted
/// `checkpoint`: the checkpoint is of that log, the tree holds at least the
/// checkpoint's records, its first `size` leaves hash to the checkpoint's
/// root, and a consistency proof from there to its head verifies, as a
/// remote verifier would check it.
pub(crate) fn check_checkpoint(
    tree: &MerkleTree,
    origin: &str,
    checkpoint: &Checkpoint,
) -> Result<(), Error> {
    checkpoint.check_origin(origin)?;
    let size = tree.size();
    if checkpoint.size > size {
        return Err(Error::Truncated {
            trusted: checkpoint.size,
            found: size,
        });
    }
    if tree.root_at(checkpoint.size)? != checkpoint.root {
        return Err(Error::Forked {
            size: checkpoint.size,
        });
    }
    if checkpoint.size > 0 {
        let proof = tree.consistency_proof(checkpoint.size, size)?;
        verify_consistency(
            checkpoint.size,
            size,
            &checkpoint.root,
            &tree.root(),
            &proof,
        )?;
    }
    Ok(())
}

/// Reads the records `store` holds beyond `tree` into it, checking that each
/// is a canonical event (on several threads for long runs, see
/// [`verify_run`]) and that the store yielded exactly its records: the
/// record checks of [`AuditLog::open`] and [`AuditLog::catch_up`], which then
/// check the recorded heads ([`check_anchors`]).
fn read_records<S: AuditStore>(
    store: &S,
    tree: &mut MerkleTree,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(), Error> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    store.scan_runs(tree.size(), &mut |first, records| {
        if first != tree.size() {
            return Err(Error::Store(format!(
                "store yielded record {first} after {} records",
                tree.size()
            )));
        }
        verify_run(store, tree, first, records, threads, progress)
    })?;
    if tree.size() != store.len() {
        return Err(Error::Store(format!(
            "store reported {} records but yielded {}",
            store.len(),
            tree.size()
        )));
    }
    Ok(())
}

/// Checks and leaf-hashes `records` into `hashes` (as long): the position of
/// the first record that is not a canonical event, and why.
fn hash_records(records: &[&[u8]], hashes: &mut [Hash]) -> Result<(), (usize, Error)> {
    for (i, (record, hash)) in records.iter().zip(hashes).enumerate() {
        canonical::check(record).map_err(|e| (i, e))?;
        *hash = leaf_hash(record);
    }
    Ok(())
}

/// Records checked per step of [`verify_run`] (and per progress report).
const VERIFY_STEP: usize = 64 * 1024;

/// Checks and leaf-hashes a run of records on up to `threads` threads (each
/// reading its share straight from the store's buffer), then folds the
/// leaves into `tree` in order (see [`MerkleTree::extend_hashes`]), reporting
/// `progress(records done, records total)` after each step. The first bad
/// record of the run (lowest index) is the one reported.
fn verify_run<S: AuditStore>(
    store: &S,
    tree: &mut MerkleTree,
    first: u64,
    records: &[&[u8]],
    threads: usize,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(), Error> {
    let mut hashes: Vec<Hash> = Vec::new();
    let mut at = first;
    for step in records.chunks(VERIFY_STEP) {
        let n = step.len();
        hashes.clear();
        hashes.resize(n, [0; 32]);
        let parts = threads.clamp(1, n.div_ceil(256).max(1));
        let chunk = n.div_ceil(parts);
        let failed: Option<(usize, Error)> = if parts == 1 {
            hash_records(step, &mut hashes).err()
        } else {
            std::thread::scope(|scope| {
                let mut pieces = step.chunks(chunk).zip(hashes.chunks_mut(chunk));
                let mine = pieces.next();
                let handles: Vec<_> = pieces
                    .map(|(part, out)| scope.spawn(move || hash_records(part, out)))
                    .collect();
                let mut failed = mine.and_then(|(part, out)| hash_records(part, out).err());
                for (k, handle) in handles.into_iter().enumerate() {
                    let result = handle.join().unwrap_or_else(|_| {
                        Err((0, Error::Store("a verification thread panicked".into())))
                    });
                    if let (None, Err((i, e))) = (&failed, result) {
                        failed = Some(((k + 1) * chunk + i, e));
                    }
                }
                failed
            })
        };
        if let Some((i, e)) = failed {
            let index = at + i as u64;
            return Err(tampered_at(
                store,
                index,
                format!("record is not a canonical event: {e}"),
            ));
        }
        tree.extend_hashes(&hashes, threads);
        at += n as u64;
        progress(tree.size(), store.len());
    }
    Ok(())
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// The verified tree head.
    pub head: TreeHead,
    /// The checkpoint size checked against, if any.
    pub checkpoint_size: Option<u64>,
}

/// Verifies every record of `store` (see [`AuditLog::open`]) and, if given
/// `(origin, checkpoint)`, that the log, named `origin`, extends the trusted
/// `checkpoint` ([`AuditLog::check_checkpoint`]).
pub fn verify<S: AuditStore>(
    store: S,
    trusted: Option<(&str, &Checkpoint)>,
) -> Result<VerifyReport, Error> {
    verify_with_progress(store, trusted, &mut |_, _| {})
}

/// [`verify`], calling `progress(records_verified, records_total)` as it goes
/// (see [`AuditLog::open_with_progress`]).
pub fn verify_with_progress<S: AuditStore>(
    store: S,
    trusted: Option<(&str, &Checkpoint)>,
    progress: &mut impl FnMut(u64, u64),
) -> Result<VerifyReport, Error> {
    if let Some((origin, checkpoint)) = trusted {
        // A checkpoint of another log is refused before the long read.
        checkpoint.check_origin(origin)?;
    }
    let log = AuditLog::open_with_progress(store, progress)?;
    if let Some((origin, checkpoint)) = trusted {
        log.check_checkpoint(origin, checkpoint)?;
    }
    Ok(VerifyReport {
        head: log.head(),
        checkpoint_size: trusted.map(|(_, c)| c.size),
    })
}

/// The format name and version of an [`InclusionProof`] in JSON.
pub const PROOF_FORMAT: &str = "custodia.audit.inclusion-proof/v1";

/// An inclusion proof for one event.
///
/// In JSON it names its format and version
/// ([`PROOF_FORMAT`]); hashes are base64:
///
/// ```json
/// {"format":"custodia.audit.inclusion-proof/v1","index":3,"size":10,
///  "leaf_hash":"base64…","root":"base64…","path":["base64…"]}
/// ```
///
/// Reading accepts proofs written before the `format` field existed (the
/// same fields, no `format`: read as version 1) and rejects any other format.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(into = "ProofJson", try_from = "ProofJson")]
pub struct InclusionProof {
    /// The event's index.
    pub index: u64,
    /// The tree size the proof is for.
    pub size: u64,
    /// The event's leaf hash (SHA-256 of `0x00 ‖ canonical encoding`).
    pub leaf_hash: Hash,
    /// The root of the tree of `size` events.
    pub root: Hash,
    /// The audit path, leaf to root.
    pub path: Vec<Hash>,
}

/// The JSON form of an [`InclusionProof`], with its format name.
#[derive(serde::Serialize, serde::Deserialize)]
struct ProofJson {
    /// [`PROOF_FORMAT`]; absent in proofs written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    format: Option<String>,
    index: u64,
    size: u64,
    #[serde(with = "crate::b64::hash")]
    leaf_hash: Hash,
    #[serde(with = "crate::b64::hash")]
    root: Hash,
    #[serde(with = "crate::b64::hashes")]
    path: Vec<Hash>,
}

impl From<InclusionProof> for ProofJson {
    fn from(p: InclusionProof) -> Self {
        Self {
            format: Some(PROOF_FORMAT.to_owned()),
            index: p.index,
            size: p.size,
            leaf_hash: p.leaf_hash,
            root: p.root,
            path: p.path,
        }
    }
}

impl TryFrom<ProofJson> for InclusionProof {
    type Error = String;
    fn try_from(p: ProofJson) -> Result<Self, String> {
        match p.format.as_deref() {
            None | Some(PROOF_FORMAT) => Ok(Self {
                index: p.index,
                size: p.size,
                leaf_hash: p.leaf_hash,
                root: p.root,
                path: p.path,
            }),
            Some(other) => Err(format!(
                "unsupported inclusion proof format {other:?}, expected {PROOF_FORMAT:?}"
            )),
        }
    }
}

impl InclusionProof {
    /// Checks the path leads from the leaf hash to the root.
    pub fn verify(&self) -> Result<(), Error> {
        verify_inclusion(
            self.index,
            self.size,
            &self.leaf_hash,
            &self.path,
            &self.root,
        )
    }

    /// Checks the proof is about `event` and leads to the root.
    pub fn verify_event(&self, event: &Event) -> Result<(), Error> {
        if leaf_hash(&canonical::encode(event)) != self.leaf_hash {
            return Err(Error::ProofMismatch(
                "the event does not hash to the proven leaf",
            ));
        }
        self.verify()
    }
}

/// One event of a subject export.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExportedEvent {
    /// Index in the log.
    pub index: u64,
    /// Leaf hash of the stored (sealed) encoding.
    #[serde(with = "crate::b64::hash")]
    pub leaf_hash: Hash,
    /// Inclusion proof against [`SubjectExport::head`].
    #[serde(with = "crate::b64::hashes")]
    pub proof: Vec<Hash>,
    /// The event (personal values opened where possible).
    pub event: Event,
    /// Paths of erased values.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub erased: Vec<String>,
    /// Paths of values left out because another person owns them (the
    /// agent's IP address in a customer's export, and the like).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<String>,
    /// The subject's own values left out because they could not be read
    /// though the vault works (a damaged or forged envelope labelled
    /// theirs, a tenant shred), each with the reason and no byte of the
    /// value (see [`personal::read_value`]). Format v2 only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<personal::UnreadableValue>,
}

/// The format name and version of a complete [`SubjectExport`] in JSON.
///
/// An export with values that could not be read says
/// [`EXPORT_FORMAT_V2`] instead, and carries `incomplete` and the events'
/// `unreadable`. A complete export is the same document as before those
/// fields existed, so it keeps this name: a reader of version 1 reads it as
/// ever. An incomplete one changes name because its fields change its
/// meaning (some of the subject's values are missing without being erased
/// or another person's): a reader that checks the format, as a version 1
/// reader must, refuses it rather than presenting it as complete.
pub const EXPORT_FORMAT: &str = "custodia.audit.subject-export/v1";

/// The format name and version of a [`SubjectExport`] with
/// [`SubjectExport::incomplete`] set: version 1 plus `incomplete` and each
/// event's `unreadable` (see [`EXPORT_FORMAT`]).
pub const EXPORT_FORMAT_V2: &str = "custodia.audit.subject-export/v2";

/// What of a [`SubjectExport`] could not be read: the count a data
/// protection officer checks first, and where to look.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Incomplete {
    /// How many of the subject's values were left out unreadable, over
    /// all events.
    pub unreadable: u64,
    /// The log indexes of the events with such a value, in log order.
    pub events: Vec<u64>,
}

/// Everything the log holds about one subject (GDPR Art. 15), as handed to
/// the subject: each event with its index, leaf hash and inclusion proof
/// against `head`, so the subject can check each event is in the log that a
/// signed checkpoint commits to. In JSON, hashes are base64:
///
/// ```json
/// {"format":"custodia.audit.subject-export/v1","subject":"…",
///  "head":{"size":12,"root":"base64…"},
///  "events":[{"index":1,"leaf_hash":"base64…","proof":["base64…"],
///             "event":{…},"erased":["actor.ip"]}]}
/// ```
///
/// When some of the subject's values could not be read though the vault
/// works (see [`personal::read_value`]), the export is still made, with
/// every other event and value, and says so ([`EXPORT_FORMAT_V2`]):
///
/// ```json
/// {"format":"custodia.audit.subject-export/v2","subject":"…",
///  "head":{…},"incomplete":{"unreadable":1,"events":[3]},
///  "events":[{"index":3,…,"unreadable":[{"path":"note","reason":"not_authentic"}]}]}
/// ```
///
/// Reasons: `damaged`, `not_authentic`, `unknown_key`, `tenant_shredded`
/// ([`personal::Unreadable`]). A vault that cannot read at all (its key
/// store down, the wrong root key) fails the export instead.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SubjectExport {
    /// [`EXPORT_FORMAT`], or [`EXPORT_FORMAT_V2`] when
    /// [`incomplete`](Self::incomplete) is set: names the format and its
    /// version.
    pub format: String,
    /// The tenant asked for, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<TenantId>,
    /// The subject.
    pub subject: SubjectId,
    /// The tree head the proofs are against.
    pub head: TreeHead,
    /// What could not be read, if anything: `None` (and no field) for a
    /// complete export.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<Incomplete>,
    /// The subject's events, in log order.
    pub events: Vec<ExportedEvent>,
}

impl SubjectExport {
    /// The export of `events`, its format and `incomplete` as they say.
    fn new(
        tenant: Option<TenantId>,
        subject: SubjectId,
        head: TreeHead,
        events: Vec<ExportedEvent>,
    ) -> Self {
        let mut unreadable = 0;
        let mut at = Vec::new();
        for event in events.iter().filter(|e| !e.unreadable.is_empty()) {
            unreadable += event.unreadable.len() as u64;
            at.push(event.index);
        }
        let incomplete = (unreadable > 0).then_some(Incomplete {
            unreadable,
            events: at,
        });
        Self {
            format: if incomplete.is_some() {
                EXPORT_FORMAT_V2
            } else {
                EXPORT_FORMAT
            }
            .to_owned(),
            tenant,
            subject,
            head,
            incomplete,
            events,
        }
    }
}

/// A filter over events; unset fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct Query {
    /// Only this tenant.
    pub tenant: Option<TenantId>,
    /// Only events concerning this subject (see [`Event::concerns`]).
    pub subject: Option<SubjectId>,
    /// Only this actor.
    pub actor: Option<ActorId>,
    /// Only this target type.
    pub target_type: Option<String>,
    /// Only this target id.
    pub target_id: Option<String>,
    /// Only this action.
    pub action: Option<Action>,
    /// Only events at or after this time.
    pub from: Option<Timestamp>,
    /// Only events before this time.
    pub until: Option<Timestamp>,
}

impl Query {
    /// Matches everything.
    pub fn new() -> Self {
        Self::default()
    }
    /// Only `tenant`.
    pub fn tenant(mut self, tenant: TenantId) -> Self {
        self.tenant = Some(tenant);
        self
    }
    /// Only events concerning `subject`.
    pub fn subject(mut self, subject: SubjectId) -> Self {
        self.subject = Some(subject);
        self
    }
    /// Only `actor`.
    pub fn actor(mut self, actor: ActorId) -> Self {
        self.actor = Some(actor);
        self
    }
    /// Only records of `kind` (and `id`, if given).
    pub fn target(mut self, kind: impl Into<String>, id: Option<String>) -> Self {
        self.target_type = Some(kind.into());
        self.target_id = id;
        self
    }
    /// Only `action`.
    pub fn action(mut self, action: Action) -> Self {
        self.action = Some(action);
        self
    }
    /// Only events in `from..until`.
    pub fn between(mut self, from: Timestamp, until: Timestamp) -> Self {
        self.from = Some(from);
        self.until = Some(until);
        self
    }

    /// Whether `event` matches.
    pub fn matches(&self, event: &Event) -> bool {
        self.tenant.is_none_or(|t| event.tenant == t)
            && self.subject.is_none_or(|s| event.concerns(s))
            && self.actor.is_none_or(|a| event.actor.id == a)
            && self
                .target_type
                .as_ref()
                .is_none_or(|k| &event.target.kind == k)
            && self
                .target_id
                .as_ref()
                .is_none_or(|i| &event.target.id == i)
            && self.action.as_ref().is_none_or(|a| &event.action == a)
            && self.from.is_none_or(|f| event.time >= f)
            && self.until.is_none_or(|u| event.time < u)
    }
}
