//! What the domain tells the federation layer to publish.
//!
//! Handlers of the client API never build ActivityPub JSON: they describe
//! what happened with an [`Outbound`] event, and the federation layer turns
//! it into an activity and delivery jobs inside the same transaction.

/// One side of a relation, as the federation layer needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActorRef {
    pub account_id: i64,
    /// The actor id.
    pub uri: String,
    /// `None` for local accounts.
    pub domain: Option<String>,
    pub inbox_url: Option<String>,
}

impl ActorRef {
    pub fn is_local(&self) -> bool {
        self.domain.is_none()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outbound {
    /// `follower` (local) asks to follow `target` (remote).
    Follow {
        follow_uri: String,
        follower: ActorRef,
        target: ActorRef,
    },
    /// `follower` (local) stops following `target` (remote), or withdraws
    /// the request.
    UndoFollow {
        follow_uri: String,
        follower: ActorRef,
        target: ActorRef,
    },
    /// `target` (local) accepts `follower`'s (remote) Follow.
    AcceptFollow {
        follow_uri: String,
        follower: ActorRef,
        target: ActorRef,
    },
    /// `target` (local) refuses `follower`'s (remote) Follow, or removes an
    /// accepted follower.
    RejectFollow {
        follow_uri: String,
        follower: ActorRef,
        target: ActorRef,
    },
}
