//! This process's id generator and the lease on its node number.

use std::sync::Arc;
use std::time::Duration;

use perch_core::id::IdGenerator;
use perch_core::time::now_millis;
use perch_db::Db;
use perch_db::nodes::{self, LEASE_MILLIS, LeaseError};
use rand::Rng;
use tokio_util::sync::CancellationToken;

/// An id generator whose node number is leased in the database.
pub struct LeasedIds {
    ids: Arc<IdGenerator>,
    owner: String,
}

impl LeasedIds {
    pub async fn acquire(db: &Db) -> Result<Self, LeaseError> {
        let owner = format!(
            "pid{}-{:016x}",
            std::process::id(),
            rand::thread_rng().r#gen::<u64>()
        );
        let node = nodes::acquire(db, &owner, now_millis()).await?;
        tracing::debug!(node, "leased id node number");
        let ids = IdGenerator::new(node)?;
        Ok(Self {
            ids: Arc::new(ids),
            owner,
        })
    }

    pub fn generator(&self) -> Arc<IdGenerator> {
        self.ids.clone()
    }

    /// Renew the lease until `stop` is cancelled. When the lease was lost
    /// (the database was unreachable for longer than a lease), take a new
    /// number before the old one can be reused by someone else's ids.
    pub async fn keep_renewed(&self, db: Db, stop: CancellationToken) {
        let period = Duration::from_millis(u64::try_from(LEASE_MILLIS / 4).unwrap_or(60_000));
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(period) => {}
            }
            let node = self.ids.node();
            match nodes::renew(&db, node, &self.owner, now_millis()).await {
                Ok(true) => {}
                Ok(false) => match nodes::acquire(&db, &self.owner, now_millis()).await {
                    Ok(new_node) => {
                        tracing::warn!(old = node, new = new_node, "id node lease lost; switched");
                        let _ = self.ids.set_node(new_node);
                    }
                    Err(error) => tracing::error!(%error, "cannot lease a new id node number"),
                },
                Err(error) => tracing::warn!(%error, "renewing the id node lease failed"),
            }
        }
    }

    /// Give the number back (at shutdown).
    pub async fn release(&self, db: &Db) {
        if let Err(error) = nodes::release(db, self.ids.node(), &self.owner).await {
            tracing::warn!(%error, "releasing the id node lease failed");
        }
    }
}
