//! What the federation routes and workers share.

use std::sync::Arc;

use perch_core::id::IdGenerator;
use perch_db::Db;
use perch_db::live::Bus;
use perch_domain::Domain;
use perch_domain::urls::ActorUrlLayout;
use url::Url;

use tokio::sync::Notify;

use crate::fetch::Fetcher;
use crate::inbox::heard::RecentlyHeard;
use crate::inbox::intake::Intake;
use crate::signatures::DateWindow;
use crate::signer::{SigningKeys, VerifyingKeys};

/// Settings the federation layer needs from the server's configuration.
#[derive(Clone, Debug)]
pub struct ApubConfig {
    pub public_url: Url,
    /// host[:port] of the public URL.
    pub domain: String,
    /// Instance name and description for NodeInfo.
    pub title: String,
    pub description: String,
    pub open_registrations: bool,
    /// Federation may reach loopback/private addresses (tests, development).
    pub allow_private_addresses: bool,
    /// How old (or how far in the future) a signature's date may be.
    pub signature_window: DateWindow,
    /// How long a claimed delivery or inbound activity is a worker's before
    /// another may take it (a crashed process's work is taken up after
    /// this).
    pub delivery_lease_millis: i64,
    /// Actors, objects and collections are served only to signed requests
    /// ([`crate::routes::authorized`]).
    pub secure_mode: bool,
}

/// Shared state of the federation routes. Cheap to clone.
#[derive(Clone)]
pub struct ApubState {
    pub db: Db,
    pub ids: Arc<IdGenerator>,
    pub config: Arc<ApubConfig>,
    pub layout: ActorUrlLayout,
    /// Every outbound request goes through it.
    pub fetcher: Fetcher,
    /// Parsed private keys of local actors.
    pub signing_keys: Arc<SigningKeys>,
    /// Parsed public keys of remote actors.
    pub verifying_keys: Arc<VerifyingKeys>,
    /// Queues verified activities in batches.
    pub intake: Intake,
    /// Refetches of remote keys after a signature failed, per key id
    /// (at most one per [`crate::inbox::KEY_REFETCH_INTERVAL`]).
    pub key_refetches: Arc<perch_core::rate_limit::RateLimiter>,
    /// Fetches of unknown keys, per server (at most
    /// [`crate::resolve::UNKNOWN_KEY_FETCHES_PER_MINUTE`]).
    pub key_fetches: Arc<perch_core::rate_limit::RateLimiter>,
    /// Senders whose standing with the delivery queue was just checked.
    pub recently_heard: Arc<RecentlyHeard>,
    /// The signature scheme each server accepted last.
    pub signature_schemes: Arc<crate::knock::Schemes>,
    /// Wakes the delivery worker when jobs were enqueued.
    pub delivery_wake: Arc<Notify>,
    /// Wakes the inbound queue's worker when activities were queued.
    pub inbound_wake: Arc<Notify>,
    /// Tells every process what changed, for live clients.
    pub bus: Bus,
    /// Every change a received activity causes goes through it.
    pub domain: Domain,
    /// Which servers are blocked or allowed (the fetcher holds the same).
    pub federation_policy: crate::policy::FederationPolicy,
}
