//! The audit log for async hosts (feature `sqlx`): [`AsyncAuditLog`] over a
//! [`SqlxAuditStore`], with the rules, proofs and checkpoint checks of the
//! sync [`AuditLog`](crate::AuditLog) (one implementation, in `log`).

use std::sync::Arc;

use custodia_crypt::{AsyncSubjectVault, KeyStore};
use sqlx_postgres::{PgConnection, PgPool};

use crate::checkpoint::{Checkpoint, Signer};
use crate::log::{admit, check_checkpoint, prove, sign_head};
use crate::merkle::{Hash, TreeHead};
use crate::{Error, Event, InclusionProof, SqlxAuditStore, VerifyReport, canonical, personal};

/// An append-only, verifiable audit log in PostgreSQL for async tasks: the
/// async counterpart of [`AuditLog`](crate::AuditLog), `Send + Sync`, shared
/// as `Arc<AsyncAuditLog>` by every task of a process.
///
/// Writers in any number of tasks, pools and processes (async, or sync with
/// `PostgresStore`) extend one gap-free log: each process's
/// [`SqlxAuditStore`] group-commits its tasks' appends under the log's
/// advisory lock. [`AsyncAuditLog::open`] reads and checks every record and
/// every tree head any writer recorded (opening is verifying, as for the
/// sync log); [`AsyncAuditLog::catch_up`] does the same for what other
/// writers appended since. Proofs and checkpoints are of this process's view
/// of the log: everything it has read or appended.
///
/// Like the sync log it refuses events whose personal values are in the
/// clear unless told otherwise ([`AsyncAuditLog::require_sealed`]); seal
/// them with [`AsyncAuditLog::append_sealed`].
#[derive(Debug)]
pub struct AsyncAuditLog {
    store: Arc<SqlxAuditStore>,
    require_sealed: bool,
}

impl AsyncAuditLog {
    /// Opens the log in `store`, checking every record and recorded head
    /// (see [`AsyncAuditLog`]). The store may be shared with code that
    /// appends to it directly: both see one tree.
    pub async fn open(store: Arc<SqlxAuditStore>) -> Result<Self, Error> {
        let log = Self {
            store,
            require_sealed: true,
        };
        custodia_core::op_future!(log.catch_up(), DEBUG, "custodia.audit.verify").await?;
        Ok(log)
    }

    /// [`AsyncAuditLog::open`] for a writer that holds a trusted checkpoint
    /// of the log named `origin`: it must be a checkpoint of that log
    /// ([`Error::Origin`]), checked before anything is read, and the log
    /// must extend it ([`Error::Truncated`] or [`Error::Forked`] otherwise).
    pub async fn open_extending(
        store: Arc<SqlxAuditStore>,
        origin: &str,
        trusted: &Checkpoint,
    ) -> Result<Self, Error> {
        trusted.check_origin(origin)?;
        let log = Self::open(store).await?;
        log.check_checkpoint(origin, trusted).await?;
        Ok(log)
    }

    /// Verifies log `log` in `pool` from its first record, with a fresh
    /// tree, and, if given `(origin, checkpoint)`, that it extends the
    /// trusted `checkpoint` of the log named `origin` (the checkpoint
    /// origin, which need not be the table's `log` name).
    pub async fn verify(
        pool: PgPool,
        log: &str,
        trusted: Option<(&str, &Checkpoint)>,
    ) -> Result<VerifyReport, Error> {
        if let Some((origin, checkpoint)) = trusted {
            checkpoint.check_origin(origin)?;
        }
        let log = Self::open(Arc::new(SqlxAuditStore::new(pool, log)?)).await?;
        if let Some((origin, checkpoint)) = trusted {
            log.check_checkpoint(origin, checkpoint).await?;
        }
        Ok(VerifyReport {
            head: log.head().await,
            checkpoint_size: trusted.map(|(_, c)| c.size),
        })
    }

    /// Whether events with personal values not sealed are refused (default
    /// `true`), as [`AuditLog::require_sealed`](crate::AuditLog::require_sealed)
    /// decides it.
    pub fn require_sealed(mut self, require: bool) -> Self {
        self.require_sealed = require;
        self
    }

    /// The store.
    pub fn store(&self) -> &Arc<SqlxAuditStore> {
        &self.store
    }

    /// How many events this process knows of.
    pub async fn len(&self) -> u64 {
        self.head().await.size
    }

    /// Whether this process knows of no event.
    pub async fn is_empty(&self) -> bool {
        self.len().await == 0
    }

    /// The head of this process's view of the log.
    pub async fn head(&self) -> TreeHead {
        self.store.head().await
    }

    /// Appends one event; returns its index.
    pub async fn append(&self, event: &Event) -> Result<u64, Error> {
        self.append_batch(std::slice::from_ref(event)).await
    }

    /// Appends events in order, contiguously (in one group commit); returns
    /// the index of the first. Nothing is appended if one is refused.
    pub async fn append_batch(&self, events: &[Event]) -> Result<u64, Error> {
        for event in events {
            admit(event, self.require_sealed)?;
        }
        custodia_core::op_future!(
            self.store.append_batch(events),
            DEBUG,
            "custodia.audit.append",
            events = events.len()
        )
        .await
    }

    /// Stages one event in the transaction `conn` is in, refused as
    /// [`append`](Self::append) refuses it: it reaches the log if and only
    /// if that transaction commits, at the next [`drain`](Self::drain) (see
    /// [`SqlxAuditStore::stage`]).
    pub async fn stage(&self, conn: &mut PgConnection, event: &Event) -> Result<(), Error> {
        admit(event, self.require_sealed)?;
        custodia_core::op_future!(self.store.stage(conn, event), DEBUG, "custodia.audit.stage")
            .await
    }

    /// Stages one event on its own, committed at once, refused as
    /// [`append`](Self::append) refuses it (see [`SqlxAuditStore::stage_now`]).
    pub async fn stage_now(&self, event: &Event) -> Result<(), Error> {
        admit(event, self.require_sealed)?;
        custodia_core::op_future!(self.store.stage_now(event), DEBUG, "custodia.audit.stage").await
    }

    /// Queues one event for this process's next drain, refused as
    /// [`append`](Self::append) refuses it; nothing is written now, and a
    /// crash before that drain loses it (see [`SqlxAuditStore::append_soon`]).
    pub fn append_soon(&self, event: &Event) -> Result<(), Error> {
        admit(event, self.require_sealed)?;
        self.store.append_soon(event)
    }

    /// Moves the events committed transactions staged into the log; returns
    /// how many (see [`SqlxAuditStore::drain`]).
    pub async fn drain(&self) -> Result<u64, Error> {
        custodia_core::op_future!(self.store.drain(), DEBUG, "custodia.audit.drain").await
    }

    /// Seals the event's personal values under the owners' keys (on tokio's
    /// blocking pool, where the vault reaches its store), then appends it.
    pub async fn append_sealed<K: KeyStore + 'static>(
        &self,
        vault: &AsyncSubjectVault<K>,
        event: Event,
    ) -> Result<u64, Error> {
        let sealed = vault
            .run(move |vault| {
                let mut event = event;
                Ok(personal::seal_event(vault, &mut event).map(|()| event))
            })
            .await??;
        self.append(&sealed).await
    }

    /// Reads the records other writers appended since this process last
    /// looked, checking them and the heads recorded with them; returns how
    /// many.
    pub async fn catch_up(&self) -> Result<u64, Error> {
        self.store.catch_up().await
    }

    /// The event at `index`, checked against the tree.
    pub async fn get(&self, index: u64) -> Result<Event, Error> {
        let leaf = self.store.view().await.tree.leaf(index);
        let Some(leaf) = leaf else {
            return Err(Error::IndexOutOfRange {
                index,
                size: self.len().await,
            });
        };
        let record = self.store.record(index, leaf).await?;
        canonical::decode(&record)
    }

    /// An inclusion proof for event `index` in this process's current tree.
    pub async fn prove(&self, index: u64) -> Result<InclusionProof, Error> {
        prove(&self.store.view().await.tree, index)
    }

    /// A consistency proof from the tree of `old` events to the current tree.
    pub async fn consistency_proof(&self, old: u64) -> Result<Vec<Hash>, Error> {
        let view = self.store.view().await;
        view.tree.consistency_proof(old, view.tree.size())
    }

    /// A signed checkpoint of the current tree head.
    pub async fn checkpoint(&self, origin: &str, signer: &Signer) -> Result<String, Error> {
        sign_head(&self.store.view().await.tree, origin, signer)
    }

    /// Checks the log, named `origin`, extends a trusted checkpoint of it (as
    /// [`AuditLog::check_checkpoint`](crate::AuditLog::check_checkpoint)),
    /// catching up first when the checkpoint is ahead of this process.
    pub async fn check_checkpoint(
        &self,
        origin: &str,
        checkpoint: &Checkpoint,
    ) -> Result<(), Error> {
        checkpoint.check_origin(origin)?;
        if checkpoint.size > self.len().await {
            self.catch_up().await?;
        }
        check_checkpoint(&self.store.view().await.tree, origin, checkpoint)
    }
}

/// [`personal::seal_event_or_drop_erased`] for async code: inline while the
/// owners' keys are cached (no thread switch), on tokio's blocking pool
/// (through [`AsyncSubjectVault::run`]) when the vault needs its store.
/// Sealing skips values already sealed, so the pooled pass picks up where
/// the inline one stopped.
pub async fn seal_event_async<K: KeyStore + Send + Sync + 'static>(
    vault: &AsyncSubjectVault<K>,
    mut event: Event,
) -> Result<Event, Error> {
    match personal::seal_event_or_drop_erased(vault.vault(), &mut event) {
        Err(Error::Crypt(custodia_crypt::Error::WouldBlock)) => vault
            .run(move |vault| {
                Ok(personal::seal_event_or_drop_erased(vault, &mut event).map(|()| event))
            })
            .await
            .map_err(Error::Crypt)?,
        other => other.map(|()| event),
    }
}
