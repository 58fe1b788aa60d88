//! The domain's handles and the one place where a change's effects are
//! applied after it commits.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use perch_core::id::IdGenerator;
use perch_core::outbound::Outbound;
use perch_core::role::Role;
use perch_core::time::{UnixMillis, now_millis};
use perch_db::live::{Bus, LiveEvent};
use perch_db::{Db, Tx, actors, notifications};
use tokio::sync::Notify;

use crate::error::{DomainError, Result};
use crate::urls::ActorUrlLayout;

/// Why publishing failed (an unusable URL, a remote actor without inbox).
#[derive(Debug, thiserror::Error)]
#[error("publishing failed: {0}")]
pub struct PublishError(pub String);

/// Turns an [`Outbound`] event into activities and delivery jobs inside the
/// caller's transaction (the transactional outbox). Implemented by the
/// federation layer, which alone knows ActivityPub JSON.
pub trait Publisher: Send + Sync + 'static {
    fn enqueue<'a>(
        &'a self,
        tx: &'a mut Tx,
        event: &'a Outbound,
    ) -> Pin<Box<dyn Future<Output = Result<(), PublishError>> + Send + 'a>>;
}

/// A verified activity from another server, as the change it causes
/// records it: applied at most once, whatever the redeliveries.
#[derive(Clone, Debug)]
pub struct Received {
    /// The activity's id.
    pub activity_id: String,
    /// The account of its (verified) actor.
    pub actor_account_id: i64,
}

/// What every domain function needs. Cheap to clone.
#[derive(Clone)]
pub struct Domain {
    pub db: Db,
    pub ids: Arc<IdGenerator>,
    pub layout: ActorUrlLayout,
    /// host[:port] of the public URL: the domain of local accounts.
    pub local_domain: Arc<str>,
    publisher: Arc<dyn Publisher>,
    pub(crate) bus: Bus,
    delivery_wake: Arc<Notify>,
}

impl Domain {
    pub fn new(
        db: Db,
        ids: Arc<IdGenerator>,
        layout: ActorUrlLayout,
        local_domain: &str,
        publisher: Arc<dyn Publisher>,
        bus: Bus,
        delivery_wake: Arc<Notify>,
    ) -> Self {
        Self {
            db,
            ids,
            layout,
            local_domain: Arc::from(local_domain),
            publisher,
            bus,
            delivery_wake,
        }
    }

    /// A new id.
    pub fn next_id(&self) -> i64 {
        self.ids.next_id().as_i64()
    }

    /// Open a change: a transaction and the effects gathered for after it.
    pub(crate) async fn begin(&self) -> Result<Change<'_>> {
        Ok(Change {
            domain: self,
            tx: self.db.begin().await?,
            live: Vec::new(),
            published: false,
        })
    }
}

/// One transaction and what it will cause once committed. Dropped without
/// [`Change::commit`], it rolls back and causes nothing.
pub(crate) struct Change<'d> {
    domain: &'d Domain,
    pub tx: Tx,
    live: Vec<LiveEvent>,
    published: bool,
}

impl Change<'_> {
    /// Record `received` in this transaction; false when it was applied
    /// before (the caller then changes nothing). Local changes (`None`)
    /// always go on.
    pub async fn first_time(&mut self, received: Option<&Received>) -> Result<bool> {
        let Some(received) = received else {
            return Ok(true);
        };
        Ok(actors::record_received(
            &mut self.tx,
            &received.activity_id,
            received.actor_account_id,
            now_millis(),
        )
        .await?)
    }

    /// A new id.
    pub fn next_id(&self) -> i64 {
        self.domain.next_id()
    }

    /// A live event to publish after the commit.
    pub fn live(&mut self, events: impl IntoIterator<Item = LiveEvent>) {
        self.live.extend(events);
    }

    /// Notify local `account_id` (remote accounts and one's own actions are
    /// skipped by the store) that `from` did `kind`; whether it was stored
    /// (it is not when `from` is kept from the account).
    pub async fn notify(
        &mut self,
        account_id: i64,
        from: i64,
        kind: &str,
        status_id: Option<i64>,
        at: UnixMillis,
    ) -> Result<bool> {
        let id = self.domain.next_id();
        let event =
            notifications::notify(&mut self.tx, id, account_id, from, kind, status_id, at).await?;
        let stored = event.is_some();
        self.live.extend(event);
        Ok(stored)
    }

    /// Notify the staff whose role grants `permission` (perch_core's
    /// `role::permission`) of a moderation event caused by `from`, other
    /// than `except`.
    pub async fn notify_staff(
        &mut self,
        permission: u32,
        from: i64,
        except: Option<i64>,
        kind: &str,
        report_id: Option<i64>,
        at: UnixMillis,
    ) -> Result<()> {
        let roles: Vec<&str> = Role::ALL
            .into_iter()
            .filter(|role| role.may(permission))
            .map(Role::as_str)
            .collect();
        let domain = self.domain;
        let events = notifications::notify_staff(
            &mut self.tx,
            &mut || domain.next_id(),
            &roles,
            from,
            except,
            kind,
            report_id,
            at,
        )
        .await?;
        self.live.extend(events);
        Ok(())
    }

    /// Publish `event` to other servers with this change.
    pub async fn publish(&mut self, event: Outbound) -> Result<()> {
        self.domain
            .publisher
            .enqueue(&mut self.tx, &event)
            .await
            .map_err(|e| DomainError::Internal(e.to_string()))?;
        self.published = true;
        Ok(())
    }

    /// Commit, then wake the delivery worker and tell live clients.
    pub async fn commit(self) -> Result<()> {
        let Change {
            domain,
            tx,
            live,
            published,
        } = self;
        tx.commit().await?;
        if published {
            domain.delivery_wake.notify_one();
        }
        domain.bus.publish(&live).await;
        Ok(())
    }
}
