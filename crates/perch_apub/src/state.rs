//! What the federation routes and workers share.

use std::sync::Arc;

use perch_core::id::IdGenerator;
use perch_db::Db;
use url::Url;

use crate::urls::ActorUrlLayout;

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
}

/// Shared state of the federation routes. Cheap to clone.
#[derive(Clone)]
pub struct ApubState {
    pub db: Db,
    pub ids: Arc<IdGenerator>,
    pub config: Arc<ApubConfig>,
    pub layout: ActorUrlLayout,
}
