//! Group commit for the inbox: verified activities that arrive together are
//! queued in one transaction.
//!
//! Each inbox request hands its row to one task per process and waits for
//! the answer; the task takes whatever is waiting (at most [`MAX_BATCH`])
//! and writes it in one transaction, so a burst of deliveries costs one
//! commit (on SQLite one turn of the single write lock, on PostgreSQL one
//! WAL flush) per batch instead of one per request. Nothing waits to fill
//! a batch: a lone request is written at once, and a batch is simply what
//! arrived while the previous one was being written. A request is answered
//! only after its row is committed, so a `202` still means the activity is
//! durably queued.

use perch_core::time::UnixMillis;
use perch_db::Db;
use perch_db::inbound::{self, NewInbound};
use tokio::sync::{mpsc, oneshot};

use super::InboxError;

/// Rows written in one transaction at most.
pub const MAX_BATCH: usize = 64;
/// Requests waiting for the task at most; more wait to hand theirs over.
const BACKLOG: usize = 1024;

/// A verified activity to queue.
pub struct Row {
    pub id: i64,
    pub uri: String,
    pub actor_account_id: i64,
    pub body: String,
    pub received_at: UnixMillis,
}

type Reply = oneshot::Sender<Result<bool, InboxError>>;

/// The handle requests queue through. Cheap to clone.
#[derive(Clone)]
pub struct Intake {
    rows: mpsc::Sender<(Row, Reply)>,
}

impl Intake {
    /// Starts the writing task on the current runtime; it ends when the
    /// last handle is dropped.
    pub fn start(db: Db) -> Intake {
        let (rows, receiver) = mpsc::channel(BACKLOG);
        tokio::spawn(write_batches(db, receiver));
        Intake { rows }
    }

    /// Queue `row` (with whatever else is waiting); false when it was
    /// queued or applied before.
    pub async fn enqueue(&self, row: Row) -> Result<bool, InboxError> {
        let (reply, answer) = oneshot::channel();
        self.rows.send((row, reply)).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> InboxError {
    InboxError::Internal("the inbox's queue writer has stopped".to_owned())
}

async fn write_batches(db: Db, mut receiver: mpsc::Receiver<(Row, Reply)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let rows: Vec<NewInbound<'_>> = batch
            .iter()
            .map(|(row, _)| NewInbound {
                id: row.id,
                uri: &row.uri,
                actor_account_id: row.actor_account_id,
                body: &row.body,
                received_at: row.received_at,
            })
            .collect();
        let outcome = inbound::enqueue_all(&db, &rows).await;
        drop(rows);
        metrics::histogram!("perch_inbox_batch_size").record(batch.len() as f64);
        match outcome {
            Ok(queued) => {
                for ((_, reply), queued) in batch.drain(..).zip(queued) {
                    let _ = reply.send(Ok(queued));
                }
            }
            Err(error) => {
                tracing::warn!(%error, rows = batch.len(), "queueing received activities failed");
                for (_, reply) in batch.drain(..) {
                    let _ = reply.send(Err(InboxError::Internal(format!(
                        "queueing the activity failed: {error}"
                    ))));
                }
            }
        }
    }
}
