//! The PostgreSQL audit store on sqlx (feature `sqlx`), for async hosts: the
//! tables, statements, lock and checksums of the sync
//! `PostgresStore` (feature `postgres`; shared text in `pgsql`), so sync and async writers can append to the same log.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as SyncMutex, PoisonError};

use sqlx_core::query::query;
use sqlx_core::raw_sql::raw_sql;
use sqlx_core::row::Row as _;
use sqlx_postgres::{PgConnection, PgPool, Postgres};
use tokio::sync::{Mutex, MutexGuard, oneshot};

use super::pgsql::{
    ANCHOR_COUNTS_SQL, APPEND_LOCK_SQL, GET_SQL, HEADS_SQL, INSERT_HEAD_SQL, INSERT_RECORDS_SQL,
    MIGRATE_LOCK_SQL, NEXT_INDEX_SQL, SCAN_PAGE, SCAN_SQL, SCHEMA_SQL, STAGE_SQL, STAGED_PAGE,
    TAKE_STAGED_SQL, check_scanned, crc, grant_sql, heads_to_check, tampered, to_i64,
};
use crate::log::check_anchors;
use crate::merkle::{Hash, MerkleTree, TreeHead, leaf_hash};
use crate::{Error, Event, canonical};

fn db(source: sqlx_core::Error) -> Error {
    Error::Sqlx { source }
}

/// How long [`SqlxAuditStore::drain_soon`] waits before draining: a drain
/// costs a transaction of its own (lock, read, take, insert, head, commit)
/// however many events it moves, so under load it should move many.
pub const DRAIN_LINGER: std::time::Duration = std::time::Duration::from_millis(10);

/// Appends waiting for the next group commit.
struct Pending {
    records: Vec<Vec<u8>>,
    leaves: Vec<Hash>,
    done: oneshot::Sender<Result<u64, Error>>,
}

/// What this process knows of the log: the tree of the records it has read
/// or written, and up to which size the heads other writers recorded have
/// been checked against it.
#[derive(Default)]
pub(crate) struct View {
    pub(crate) tree: MerkleTree,
    heads_checked: u64,
}

/// One audit log in PostgreSQL, appended to from async tasks: `Send + Sync`,
/// shared as `Arc<SqlxAuditStore>` by every task of a process, while other
/// processes (async or sync) append to the same log.
///
/// # Semantics, and what differs from the sync store
///
/// * **Same log.** Same tables (`store::postgres::SCHEMA_SQL`), same per-log advisory lock
///   (`pg_advisory_xact_lock`) held by every appender of every process for
///   its transaction, same record checksum, and each append records the tree
///   head it computed. The log stays one gap-free sequence whoever writes.
/// * **Group commit.** Concurrent appends in one process are queued; one of
///   them at a time writes everything queued so far in one transaction (one
///   lock, one commit, one recorded head) and hands each caller its own first
///   index. The sync store commits once per `AuditLog` append call.
/// * **Catch-up under the lock.** Where the sync store reports
///   [`Error::Stale`] and `AuditLog` catches up and retries, this store reads
///   the other writers' records into its tree inside the locked transaction
///   (checking index, checksum and canonical encoding, as opening does), so
///   an append never races and never retries. It reads the log lazily: from
///   the start on its first append or [`catch_up`](Self::catch_up).
/// * **Verification, proofs and checkpoints** are
///   [`AsyncAuditLog`](crate::AsyncAuditLog)'s, over this store:
///   [`catch_up`](Self::catch_up) checks every record it reads (index,
///   checksum, canonical encoding) and every tree head another writer
///   recorded up to the new size. The store appends what it is given;
///   the log refuses clear personal values (`require_sealed`) first.
/// * **Errors.** A failed group commit fails every append in it, with the
///   cause's message ([`Error::Store`]) and nothing written. An append whose
///   task is cancelled while it commits others' records may or may not have
///   committed; the store's tree stays consistent either way (it re-reads
///   what the database holds on the next append).
/// * **Staging: the event in the caller's own transaction.** An application
///   that changes data in a transaction can [`stage`](Self::stage) that
///   change's event in the same transaction (one `INSERT` into
///   `custodia_audit_outbox`) instead of appending it first: the event is
///   then durable exactly when the change commits, and never when it rolls
///   back. [`drain`](Self::drain) moves staged events of every process into
///   the log, oldest first, under the log's lock;
///   [`drain_soon`](Self::drain_soon) does it on a background task, at most
///   one at a time per store, and is what a committer calls. Until drained
///   a staged event is durable but not yet in the tree: readers that must
///   see every committed event (a verifier, an export) drain first. A staged
///   row that is not a canonical event is [`Error::Tampered`] and stays
///   where it is.
/// * **Appending soon: no write in the caller's path.** For an event whose
///   loss in a crash is acceptable (a read of personal data, which changed
///   nothing), [`append_soon`](Self::append_soon) queues it in memory for
///   this process's next background drain, which appends it with the
///   staged events in one transaction; nothing waits for it, and it is
///   durable only once that drain commits.
/// * **Behind a transaction-pooling proxy** (pgbouncer): the lock is
///   transaction-scoped and nothing is set per session, so it works as is
///   where the proxy supports prepared statements (pgbouncer 1.21+,
///   `max_prepared_statements`), which sqlx uses.
pub struct SqlxAuditStore {
    pool: PgPool,
    log: String,
    queue: SyncMutex<Vec<Pending>>,
    /// Events given to [`SqlxAuditStore::append_soon`], encoded, waiting
    /// for the next drain.
    soon: SyncMutex<Vec<Vec<u8>>>,
    view: Mutex<View>,
    /// A background drain is running ([`SqlxAuditStore::drain_soon`]).
    draining: AtomicBool,
    /// Events were staged since the running drain began.
    staged_since: AtomicBool,
}

impl std::fmt::Debug for SqlxAuditStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlxAuditStore")
            .field("log", &self.log)
            .finish_non_exhaustive()
    }
}

/// Undoes the leaves of an append that did not commit, even when its future
/// is dropped mid-way.
struct Uncommitted<'a> {
    tree: &'a mut MerkleTree,
    first: u64,
    committed: bool,
}

impl Drop for Uncommitted<'_> {
    fn drop(&mut self) {
        if !self.committed {
            self.tree.truncate(self.first);
        }
    }
}

impl SqlxAuditStore {
    /// Creates the tables if missing (needs a role that may create tables).
    /// Safe to run from several processes at once.
    pub async fn migrate(pool: &PgPool) -> Result<(), Error> {
        let mut tx = pool.begin().await.map_err(db)?;
        query::<Postgres>(MIGRATE_LOCK_SQL)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        raw_sql(SCHEMA_SQL).execute(&mut *tx).await.map_err(db)?;
        tx.commit().await.map_err(db)
    }

    /// Lets `role` read and append, and nothing else (as
    /// `PostgresStore::grant`).
    pub async fn grant(pool: &PgPool, role: &str) -> Result<(), Error> {
        let grant = grant_sql(role)?;
        let mut tx = pool.begin().await.map_err(db)?;
        query::<Postgres>(MIGRATE_LOCK_SQL)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        raw_sql(&grant).execute(&mut *tx).await.map_err(db)?;
        tx.commit().await.map_err(db)
    }

    /// Log `log` over `pool`. Reads nothing yet.
    pub fn new(pool: PgPool, log: &str) -> Result<Self, Error> {
        if log.is_empty() {
            return Err(Error::Store("empty log name".into()));
        }
        Ok(Self {
            pool,
            log: log.to_owned(),
            queue: SyncMutex::new(Vec::new()),
            soon: SyncMutex::new(Vec::new()),
            view: Mutex::new(View::default()),
            draining: AtomicBool::new(false),
            staged_since: AtomicBool::new(false),
        })
    }

    /// The log's name.
    pub fn log(&self) -> &str {
        &self.log
    }

    /// The head of the tree as this store last saw the log (after its last
    /// append or catch-up).
    pub async fn head(&self) -> TreeHead {
        self.view.lock().await.tree.head()
    }

    /// This process's view of the log, held while it is read; appends in
    /// this process wait meanwhile.
    pub(crate) async fn view(&self) -> MutexGuard<'_, View> {
        self.view.lock().await
    }

    /// Appends one event; returns its index.
    pub async fn append(&self, event: &Event) -> Result<u64, Error> {
        self.append_batch(std::slice::from_ref(event)).await
    }

    /// Appends events in order, contiguously; returns the index of the first.
    pub async fn append_batch(&self, events: &[Event]) -> Result<u64, Error> {
        let mut records = Vec::with_capacity(events.len());
        for event in events {
            event.validate()?;
            let mut record = Vec::with_capacity(canonical::encoded_len(event));
            canonical::encode_into(event, &mut record);
            records.push(record);
        }
        self.enqueue(records).await
    }

    /// Appends already encoded events, each checked to be canonical first
    /// (nothing is appended otherwise); returns the index of the first.
    pub async fn append_encoded(&self, records: &[&[u8]]) -> Result<u64, Error> {
        for record in records {
            canonical::check(record)?;
        }
        self.enqueue(records.iter().map(|r| r.to_vec()).collect())
            .await
    }

    async fn enqueue(&self, records: Vec<Vec<u8>>) -> Result<u64, Error> {
        if records.is_empty() {
            return Ok(self.view.lock().await.tree.size());
        }
        let leaves = records.iter().map(|r| leaf_hash(r)).collect();
        let (done, result) = oneshot::channel();
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Pending {
                records,
                leaves,
                done,
            });
        // Whoever holds the tree commits everything queued by then: while one
        // group commits, the next group gathers.
        {
            let mut view = self.view.lock().await;
            let batch =
                std::mem::take(&mut *self.queue.lock().unwrap_or_else(PoisonError::into_inner));
            if !batch.is_empty() {
                self.commit_group(&mut view.tree, batch).await;
            }
        }
        result.await.map_err(|_| {
            Error::Store(
                "the append was abandoned while it committed (its task was cancelled): it may or may not be in the log"
                    .into(),
            )
        })?
    }

    async fn commit_group(&self, tree: &mut MerkleTree, batch: Vec<Pending>) {
        match self.write(tree, &batch, false).await {
            Ok((mut first, _)) => {
                for p in batch {
                    let _ = p.done.send(Ok(first));
                    first += p.records.len() as u64;
                }
            }
            Err(e) => {
                let source = custodia_core::Shared::new(e);
                for p in batch {
                    let _ = p.done.send(Err(Error::GroupCommit {
                        source: source.clone(),
                    }));
                }
            }
        }
    }

    /// One transaction: lock the log, read what others appended, append the
    /// batch, then (if `staged`) up to [`STAGED_PAGE`] staged events, and the
    /// new head; commit. Returns the first index and how many staged events
    /// it moved.
    async fn write(
        &self,
        tree: &mut MerkleTree,
        batch: &[Pending],
        staged: bool,
    ) -> Result<(u64, usize), Error> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        query::<Postgres>(APPEND_LOCK_SQL)
            .bind(&self.log)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        self.read_into(&mut tx, tree).await?;
        let first = tree.size();
        let mut guard = Uncommitted {
            tree,
            first,
            committed: false,
        };
        let staged_rows = if staged {
            self.take_staged(&mut tx).await?
        } else {
            Vec::new()
        };
        // Staged events first: they committed before this drain began,
        // while the batch of a drain was only queued in memory.
        let records: Vec<(&[u8], Hash)> = staged_rows
            .iter()
            .map(|r| (r.as_slice(), leaf_hash(r)))
            .chain(batch.iter().flat_map(|p| {
                p.records
                    .iter()
                    .map(Vec::as_slice)
                    .zip(p.leaves.iter().copied())
            }))
            .collect();
        self.insert_all(&mut tx, guard.tree, &records).await?;
        let index = guard.tree.size();
        if index > first {
            let root = guard.tree.root_at(index)?;
            query::<Postgres>(INSERT_HEAD_SQL)
                .bind(&self.log)
                .bind(to_i64(index)?)
                .bind(&root[..])
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        tx.commit().await.map_err(db)?;
        guard.committed = true;
        Ok((first, staged_rows.len()))
    }

    /// Inserts `records` at the tree's next indexes, in one statement, and
    /// adds their leaves.
    async fn insert_all(
        &self,
        conn: &mut PgConnection,
        tree: &mut MerkleTree,
        records: &[(&[u8], Hash)],
    ) -> Result<(), Error> {
        if records.is_empty() {
            return Ok(());
        }
        let first = tree.size();
        let (mut indexes, mut payloads, mut crcs) = (
            Vec::with_capacity(records.len()),
            Vec::with_capacity(records.len()),
            Vec::with_capacity(records.len()),
        );
        for (index, (record, _)) in (first..).zip(records) {
            indexes.push(to_i64(index)?);
            payloads.push(*record);
            crcs.push(crc(index, record));
        }
        query::<Postgres>(INSERT_RECORDS_SQL)
            .bind(&self.log)
            .bind(&indexes)
            .bind(&payloads)
            .bind(&crcs)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
        for (_, leaf) in records {
            tree.push_hash(*leaf);
        }
        Ok(())
    }

    /// Takes up to [`STAGED_PAGE`] staged events, oldest first, each checked
    /// to be a canonical event.
    async fn take_staged(&self, conn: &mut PgConnection) -> Result<Vec<Vec<u8>>, Error> {
        let mut rows = query::<Postgres>(TAKE_STAGED_SQL)
            .bind(&self.log)
            .bind(STAGED_PAGE)
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?
            .iter()
            .map(|row| Ok((row.try_get::<i64, _>(0)?, row.try_get::<Vec<u8>, _>(1)?)))
            .collect::<Result<Vec<_>, sqlx_core::Error>>()
            .map_err(db)?;
        rows.sort_unstable_by_key(|(seq, _)| *seq);
        for (seq, payload) in &rows {
            canonical::check(payload).map_err(|e| Error::Tampered {
                path: std::path::PathBuf::from(format!(
                    "postgres:custodia_audit_outbox/{}",
                    self.log
                )),
                offset: 0,
                index: u64::try_from(*seq).ok(),
                reason: format!("staged event {seq} is not a canonical event: {e}"),
            })?;
        }
        Ok(rows.into_iter().map(|(_, payload)| payload).collect())
    }

    /// Stages `event` in the transaction `conn` is in: it reaches the log
    /// (at the next [`drain`](Self::drain), in any process) if and only if
    /// that transaction commits. One `INSERT`; the log's lock is not taken.
    /// The caller's role needs `INSERT` on `custodia_audit_outbox`
    /// ([`grant`](Self::grant) gives it).
    pub async fn stage(&self, conn: &mut PgConnection, event: &Event) -> Result<(), Error> {
        event.validate()?;
        let mut record = Vec::with_capacity(canonical::encoded_len(event));
        canonical::encode_into(event, &mut record);
        query::<Postgres>(STAGE_SQL)
            .bind(&self.log)
            .bind(record)
            .execute(conn)
            .await
            .map_err(db)?;
        Ok(())
    }

    /// Stages `event` in a statement of its own on the store's pool (it is
    /// committed at once) and drains soon: for an event outside any caller's
    /// transaction that should still take its place among staged ones
    /// (in staging order) rather than ahead of them, as an append would.
    pub async fn stage_now(self: &Arc<Self>, event: &Event) -> Result<(), Error> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        self.stage(&mut conn, event).await?;
        drop(conn);
        self.drain_soon();
        Ok(())
    }

    /// Appends `event` at the next drain of this process ([`DRAIN_LINGER`]
    /// later, on a background task: see [`drain_soon`](Self::drain_soon)),
    /// without waiting for it: nothing is written now, and nothing is
    /// durable until that drain commits. A crash (or a drain that keeps
    /// failing) before then loses the event; [`settle`](Self::settle) at
    /// shutdown writes what waits.
    ///
    /// For events whose loss in a crash is acceptable for not writing in
    /// the caller's path: a read of personal data, where the request changed
    /// nothing (an audited read staged in its own transaction turns a
    /// read-only transaction into a writing one). A change's event belongs
    /// in the change's transaction ([`stage`](Self::stage)).
    pub fn append_soon(self: &Arc<Self>, event: &Event) -> Result<(), Error> {
        event.validate()?;
        let mut record = Vec::with_capacity(canonical::encoded_len(event));
        canonical::encode_into(event, &mut record);
        self.soon
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(record);
        self.drain_soon();
        Ok(())
    }

    /// Moves every event staged for this log by committed transactions, of
    /// any process, into the log, oldest first (pages of 1,000, one
    /// transaction each, under the log's lock), and after the first page the
    /// events given to [`append_soon`](Self::append_soon) in this process;
    /// returns how many staged events it moved.
    pub async fn drain(&self) -> Result<u64, Error> {
        let mut view = self.view.lock().await;
        let soon = std::mem::take(&mut *self.soon.lock().unwrap_or_else(PoisonError::into_inner));
        let batch = if soon.is_empty() {
            Vec::new()
        } else {
            let leaves = soon.iter().map(|r| leaf_hash(r)).collect();
            let (done, _) = oneshot::channel();
            vec![Pending {
                records: soon,
                leaves,
                done,
            }]
        };
        let mut moved = 0;
        let mut first = true;
        loop {
            let written = if first { &batch[..] } else { &[] };
            let page = match self.write(&mut view.tree, written, true).await {
                Ok((_, page)) => page,
                Err(e) => {
                    if first {
                        // Kept for the next drain, ahead of newer ones.
                        let mut soon = self.soon.lock().unwrap_or_else(PoisonError::into_inner);
                        let newer = std::mem::take(&mut *soon);
                        *soon = batch
                            .into_iter()
                            .flat_map(|p| p.records)
                            .chain(newer)
                            .collect();
                    }
                    return Err(e);
                }
            };
            first = false;
            moved += page as u64;
            if (page as i64) < STAGED_PAGE {
                return Ok(moved);
            }
        }
    }

    /// For a shutdown, once nothing stages any more: waits for a background
    /// drain to finish, then drains what is left; returns how many it moved.
    pub async fn settle(&self) -> Result<u64, Error> {
        while self.draining.load(Ordering::SeqCst) {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        self.drain().await
    }

    /// Drains on a background tokio task, soon ([`DRAIN_LINGER`] after the
    /// first call, so that one drain moves what many commits staged): call
    /// it after committing a transaction that staged events. At most one
    /// drain runs per store;
    /// calls while it runs make it run once more, so nothing staged before
    /// a call is left behind. Outside a tokio runtime it does nothing (the
    /// next drain, of any process, moves the events). A failed drain leaves
    /// the events staged, reports through `tracing` (feature `tracing`), and
    /// is retried by the next call.
    pub fn drain_soon(self: &Arc<Self>) {
        self.staged_since.store(true, Ordering::SeqCst);
        if self.draining.swap(true, Ordering::SeqCst) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.draining.store(false, Ordering::SeqCst);
            return;
        };
        let store = Arc::clone(self);
        runtime.spawn(async move {
            loop {
                // Gather: one drain then moves what many commits staged.
                tokio::time::sleep(DRAIN_LINGER).await;
                store.staged_since.store(false, Ordering::SeqCst);
                let result = store.drain().await;
                #[cfg(feature = "tracing")]
                if let Err(e) = &result {
                    tracing::error!(target: "custodia.audit", log = %store.log, "draining staged audit events failed: {e}");
                }
                drop(result);
                store.draining.store(false, Ordering::SeqCst);
                if !store.staged_since.load(Ordering::SeqCst)
                    || store.draining.swap(true, Ordering::SeqCst)
                {
                    break;
                }
            }
        });
    }

    /// Reads records other writers appended into the tree (as far as this
    /// transaction's snapshot shows), checking each as opening does.
    async fn read_into(&self, conn: &mut PgConnection, tree: &mut MerkleTree) -> Result<(), Error> {
        let next: i64 = query::<Postgres>(NEXT_INDEX_SQL)
            .bind(&self.log)
            .fetch_one(&mut *conn)
            .await
            .map_err(db)?
            .try_get(0)
            .map_err(db)?;
        let next = u64::try_from(next).unwrap_or(0);
        if next < tree.size() {
            return Err(tampered(
                &self.log,
                next,
                format!(
                    "this writer saw {} records but the log holds {next}: records were removed from the end",
                    tree.size()
                ),
            ));
        }
        while tree.size() < next {
            let expected = tree.size();
            let rows = query::<Postgres>(SCAN_SQL)
                .bind(&self.log)
                .bind(to_i64(expected)?)
                .bind(to_i64(next)?)
                .bind(SCAN_PAGE)
                .fetch_all(&mut *conn)
                .await
                .map_err(db)?;
            if rows.is_empty() {
                return Err(tampered(
                    &self.log,
                    expected,
                    "records are missing at the end",
                ));
            }
            for row in &rows {
                let at = tree.size();
                let idx: i64 = row.try_get(0).map_err(db)?;
                let payload: &[u8] = row.try_get(1).map_err(db)?;
                let stored: i64 = row.try_get(2).map_err(db)?;
                check_scanned(&self.log, at, idx, payload, stored)?;
                canonical::check(payload).map_err(|e| {
                    tampered(
                        &self.log,
                        at,
                        format!("record is not a canonical event: {e}"),
                    )
                })?;
                tree.push(payload);
            }
        }
        Ok(())
    }

    /// Reads the records other writers appended since this store last
    /// looked, checking each (index, checksum, canonical encoding) and every
    /// tree head a writer recorded up to the new size; returns how many.
    pub async fn catch_up(&self) -> Result<u64, Error> {
        let mut view = self.view.lock().await;
        let start = view.tree.size();
        self.check_view(&mut view).await?;
        Ok(view.tree.size() - start)
    }

    /// [`Self::catch_up`] into `view`, then checks the heads it has not
    /// checked yet.
    pub(crate) async fn check_view(&self, view: &mut View) -> Result<(), Error> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        self.read_into(&mut conn, &mut view.tree).await?;
        let counts = query::<Postgres>(ANCHOR_COUNTS_SQL)
            .bind(&self.log)
            .fetch_one(&mut *conn)
            .await
            .map_err(db)?;
        let size = view.tree.size();
        let rows = query::<Postgres>(HEADS_SQL)
            .bind(&self.log)
            .bind(to_i64(view.heads_checked)?)
            .bind(to_i64(size)?)
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?;
        let anchors = heads_to_check(
            &self.log,
            (
                counts.try_get(0).map_err(db)?,
                counts.try_get(1).map_err(db)?,
            ),
            rows.iter()
                .map(|row| Ok((row.try_get(0).map_err(db)?, row.try_get(1).map_err(db)?))),
        )?;
        check_anchors(&view.tree, anchors)?;
        view.heads_checked = size;
        Ok(())
    }

    /// The record at `index` as the database holds it now, checked against
    /// its index, its checksum and the `leaf` hash it had when read.
    pub(crate) async fn record(&self, index: u64, leaf: Hash) -> Result<Vec<u8>, Error> {
        let row = query::<Postgres>(GET_SQL)
            .bind(&self.log)
            .bind(to_i64(index)?)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .ok_or_else(|| tampered(&self.log, index, "record is missing"))?;
        let payload: Vec<u8> = row.try_get(0).map_err(db)?;
        check_scanned(
            &self.log,
            index,
            to_i64(index)?,
            &payload,
            row.try_get(1).map_err(db)?,
        )?;
        if leaf_hash(&payload) != leaf {
            return Err(tampered(
                &self.log,
                index,
                "record changed since the log read it",
            ));
        }
        Ok(payload)
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn a_driver_error_is_the_typed_source() {
        let e = db(sqlx_core::Error::PoolTimedOut);
        assert!(e.is_store());
        assert!(e.to_string().starts_with("store: postgres: "));
        let source = e
            .source()
            .and_then(|s| s.downcast_ref::<sqlx_core::Error>());
        assert!(matches!(source, Some(sqlx_core::Error::PoolTimedOut)));

        let group = Error::GroupCommit {
            source: custodia_core::Shared::new(e),
        };
        assert!(group.is_store());
        let cause = group
            .source()
            .and_then(|s| s.downcast_ref::<custodia_core::Shared<Error>>())
            .map(|shared| shared.get());
        assert!(matches!(cause, Some(Error::Sqlx { .. })));
    }
}
