//! The instance's federation policy in memory: which servers are blocked
//! (and how hard), in allow-list mode which are allowed, and which remote
//! actors a moderator suspended. Every outbound request and every inbox
//! request reads it, so it is a snapshot behind a lock, loaded from the
//! database at start, again whenever this process changes it, and every
//! few seconds (other processes may have).

use std::collections::HashSet;
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
    /// Suspended remote actors whose server is not refused as a whole
    /// (those are refused by their host already).
    suspended: Arc<RwLock<HashSet<String>>>,
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
            suspended: Arc::default(),
        }
    }

    /// Whether the remote actor `uri` is suspended.
    pub fn is_suspended(&self, uri: &str) -> bool {
        self.suspended
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(uri)
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

    /// Read the blocks, allowances and suspended actors from the database.
    pub async fn reload(&self, db: &Db) -> Result<(), perch_db::Error> {
        let blocks = perch_db::domain_blocks::all_blocks(db).await?;
        let allows = perch_db::domain_blocks::all_allows(db).await?;
        let suspended = perch_db::moderation::suspended_remote_actors(db).await?;
        let rules = {
            let mut rules = self
                .rules
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            rules.blocks = blocks.iter().map(|b| b.rule()).collect();
            rules.allows = allows.into_iter().map(|a| a.domain).collect();
            rules.clone()
        };
        let suspended: HashSet<String> = suspended
            .into_iter()
            .filter(|(_, host)| !rules.refuses(host))
            .map(|(uri, _)| uri)
            .collect();
        *self
            .suspended
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = suspended;
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
