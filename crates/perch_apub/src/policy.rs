//! The instance's federation policy in memory: which servers are blocked
//! (and how hard) and, in allow-list mode, which are allowed. Every
//! outbound request and every inbox request reads it, so it is a snapshot
//! behind a lock, loaded from the database at start, again whenever this
//! process changes it, and every few seconds (other processes may have).

use std::sync::{Arc, RwLock};
use std::time::Duration;

use perch_core::federation::{DomainRules, Mode};
use perch_db::Db;
use tokio_util::sync::CancellationToken;

/// How often the snapshot is read again from the database.
pub const REFRESH: Duration = Duration::from_secs(10);

#[derive(Clone, Debug, Default)]
pub struct FederationPolicy {
    rules: Arc<RwLock<DomainRules>>,
}

impl FederationPolicy {
    /// A policy of `mode` with nothing blocked yet.
    pub fn new(mode: Mode) -> Self {
        let rules = DomainRules {
            mode,
            ..DomainRules::default()
        };
        Self {
            rules: Arc::new(RwLock::new(rules)),
        }
    }

    /// The current snapshot.
    pub fn rules(&self) -> DomainRules {
        self.rules
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Whether nothing is taken from `host` nor sent to it.
    pub fn refuses(&self, host: &str) -> bool {
        self.rules
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .refuses(host)
    }

    /// Whether reports from `host` are dropped.
    pub fn rejects_reports(&self, host: &str) -> bool {
        self.rules
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .rejects_reports(host)
    }

    /// Whether media from `host` are dropped.
    pub fn rejects_media(&self, host: &str) -> bool {
        self.rules
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .rejects_media(host)
    }

    /// Read the blocks and allowances from the database.
    pub async fn reload(&self, db: &Db) -> Result<(), perch_db::Error> {
        let blocks = perch_db::domain_blocks::all_blocks(db).await?;
        let allows = perch_db::domain_blocks::all_allows(db).await?;
        let mut rules = self
            .rules
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        rules.blocks = blocks.iter().map(|b| b.rule()).collect();
        rules.allows = allows.into_iter().map(|a| a.domain).collect();
        Ok(())
    }

    /// Run until `stop`: reload every [`REFRESH`].
    pub async fn keep_fresh(self, db: Db, stop: CancellationToken) {
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(REFRESH) => {}
            }
            if let Err(error) = self.reload(&db).await {
                tracing::warn!(%error, "reading the federation policy failed");
            }
        }
    }
}
