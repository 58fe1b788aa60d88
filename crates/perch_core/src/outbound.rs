//! What the domain tells the federation layer to publish.
//!
//! Handlers of the client API never build ActivityPub JSON: they describe
//! what happened with an [`Outbound`] event, and the federation layer turns
//! it into an activity and delivery jobs inside the same transaction.

use crate::status::Visibility;
use crate::time::UnixMillis;

/// One side of a relation, as the federation layer needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActorRef {
    pub account_id: i64,
    /// The actor id.
    pub uri: String,
    /// `None` for local accounts.
    pub domain: Option<String>,
    pub inbox_url: Option<String>,
    /// The server's shared inbox, when it has one.
    pub shared_inbox_url: Option<String>,
    /// A moderator suspended the (remote) account: nothing is delivered to
    /// it.
    pub suspended: bool,
}

impl ActorRef {
    pub fn is_local(&self) -> bool {
        self.domain.is_none()
    }

    /// Whether activities may be addressed to this actor's inbox: a remote
    /// actor not suspended.
    pub fn takes_deliveries(&self) -> bool {
        !self.is_local() && !self.suspended
    }
}

/// An account a status mentions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mention {
    pub actor: ActorRef,
    /// `@user@domain`, as the `Mention` tag names it.
    pub name: String,
}

/// A file attached to a status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub url: String,
    pub media_type: String,
    pub description: Option<String>,
    pub blurhash: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
}

/// A local status, with everything its Note needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusNote {
    pub uri: String,
    /// The HTML page of the status.
    pub url: String,
    pub author: ActorRef,
    pub author_followers_url: String,
    /// Sanitised HTML.
    pub content: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub language: Option<String>,
    pub visibility: Visibility,
    /// The parent's id.
    pub in_reply_to: Option<String>,
    /// The parent's author, who hears of the reply.
    pub in_reply_to_author: Option<ActorRef>,
    pub mentions: Vec<Mention>,
    /// Hashtags as written (without `#`), with their page's URL.
    pub tags: Vec<(String, String)>,
    pub attachments: Vec<Attachment>,
    /// This server's custom emoji the text uses: shortcode, picture URL.
    pub emojis: Vec<(String, String)>,
    pub published: UnixMillis,
    pub updated: Option<UnixMillis>,
    /// The poll it carries: then it is a `Question`.
    pub poll: Option<PollNote>,
}

/// A local status's poll, with its totals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PollNote {
    /// Titles and their votes, in order.
    pub options: Vec<(String, i64)>,
    /// Several options may be chosen (`anyOf`), or one (`oneOf`).
    pub multiple: bool,
    pub expires_at: Option<UnixMillis>,
    /// When it ended (its end, or when it was closed): no more votes count.
    pub closed_at: Option<UnixMillis>,
    pub voters_count: i64,
}

/// A local account's vote for one option of a remote poll: a `Note` named
/// after the option, answering the poll, to its author only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoteNote {
    /// The vote Note's id.
    pub uri: String,
    pub voter: ActorRef,
    /// The Question's id.
    pub poll_uri: String,
    pub poll_author: ActorRef,
    /// The chosen option's title.
    pub choice: String,
    pub published: UnixMillis,
}

/// A like or a reblog of a status, by a local account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reaction {
    /// The Like or Announce activity's id.
    pub uri: String,
    pub actor: ActorRef,
    pub actor_followers_url: String,
    pub status_uri: String,
    pub status_author: ActorRef,
    pub visibility: Visibility,
    pub published: UnixMillis,
}

/// A chat message from a local account to a remote one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatNote {
    pub uri: String,
    pub sender: ActorRef,
    pub recipient: ActorRef,
    /// `@user@domain` of the recipient, for the `Mention` of a Note.
    pub recipient_name: String,
    /// HTML.
    pub content: String,
    pub published: UnixMillis,
    /// Pleroma's `ChatMessage` when the recipient takes it; otherwise a
    /// direct `Note` mentioning the recipient.
    pub as_chat_message: bool,
}

/// A follow between a local and a remote account, as the activities about
/// it name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Relation {
    /// The Follow activity's id.
    pub follow_uri: String,
    pub follower: ActorRef,
    pub target: ActorRef,
}

/// A block between a local account (`actor`) and a remote one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockNote {
    /// The Block activity's id.
    pub uri: String,
    pub actor: ActorRef,
    pub target: ActorRef,
}

/// A report forwarded to the reported account's server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlagNote {
    /// The Flag activity's id.
    pub uri: String,
    /// The instance actor: the reporter stays unnamed, as Mastodon does.
    pub actor: ActorRef,
    pub target: ActorRef,
    /// The ids of the reported statuses.
    pub statuses: Vec<String>,
    /// The reporter's comment, plain text.
    pub content: String,
}

/// A local account pinned or unpinned one of its statuses: an `Add` to (or
/// `Remove` from) its `featured` collection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinNote {
    /// The activity's id.
    pub uri: String,
    pub actor: ActorRef,
    pub status_uri: String,
    /// The actor's `featured` collection.
    pub featured_url: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outbound {
    /// `follower` (local) asks to follow `target` (remote).
    Follow(Relation),
    /// `follower` (local) stops following `target` (remote), or withdraws
    /// the request.
    UndoFollow(Relation),
    /// `target` (local) accepts `follower`'s (remote) Follow.
    AcceptFollow(Relation),
    /// `target` (local) refuses `follower`'s (remote) Follow, or removes an
    /// accepted follower.
    RejectFollow(Relation),
    /// A local status was posted.
    CreateStatus(Box<StatusNote>),
    /// A local status was edited.
    UpdateStatus(Box<StatusNote>),
    /// A local status was deleted.
    DeleteStatus(Box<StatusNote>),
    /// A local poll's totals changed (a vote, its end): an Update of its
    /// Question to its status's audience and to its remote voters.
    UpdatePoll {
        note: Box<StatusNote>,
        voters: Vec<ActorRef>,
    },
    /// A local account voted in a remote poll (one per chosen option).
    Vote(Box<VoteNote>),
    /// A local account liked a status.
    Like(Reaction),
    UndoLike(Reaction),
    /// A local account reblogged a status.
    Announce(Reaction),
    UndoAnnounce(Reaction),
    /// A local account sent a chat message to a remote one.
    ChatMessage(Box<ChatNote>),
    /// A local account blocked a remote one.
    Block(BlockNote),
    UndoBlock(BlockNote),
    /// A local account's report of a remote one, forwarded.
    Flag(Box<FlagNote>),
    /// A local account's profile changed: its followers' servers get the
    /// new actor document.
    UpdateActor(ActorRef),
    /// A local account was deleted: every server that knows of it is told.
    DeleteActor(ActorRef),
    /// A local account moved to `target` (an actor id): a `Move` to its
    /// followers' servers.
    MoveActor {
        actor: ActorRef,
        target: String,
    },
    /// A local account pinned a status (to its followers' servers).
    Pin(PinNote),
    Unpin(PinNote),
}
