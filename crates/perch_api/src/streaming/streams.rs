//! The streams of Mastodon's streaming API, the frames a client sends to
//! choose them, and the frames the server sends.

use serde::Deserialize;

use crate::auth::scopes::Scopes;
use serde_json::{Value, json};

/// A stream a connection can subscribe to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Stream {
    /// The home timeline and notifications.
    User,
    /// Notifications only.
    UserNotification,
    Public,
    PublicLocal,
    PublicRemote,
    /// The public streams' statuses that carry media (`public:media`…).
    PublicMedia,
    PublicLocalMedia,
    PublicRemoteMedia,
    /// Public statuses with a tag (lower-cased).
    Hashtag(String),
    HashtagLocal(String),
    /// Direct conversations.
    Direct,
    /// The timeline of one of the account's lists.
    List(i64),
}

/// What a connection's access token allows it to read and do, checked on
/// every subscription, every event and every client frame with the scopes
/// the REST API asks for the same thing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Grants {
    /// Timelines and statuses (`read:statuses`).
    pub statuses: bool,
    /// Notifications (`read:notifications`).
    pub notifications: bool,
    /// Chat messages, receipts, typing and presence (`read:chats`).
    pub read_chats: bool,
    /// Sending chat messages, typing and receipts (`write:chats`).
    pub write_chats: bool,
}

impl Grants {
    pub fn of(scopes: &Scopes) -> Grants {
        Grants {
            statuses: scopes.allows("read:statuses"),
            notifications: scopes.allows("read:notifications"),
            read_chats: scopes.allows("read:chats"),
            write_chats: scopes.allows("write:chats"),
        }
    }

    /// Nobody signed in: the public streams.
    pub fn anonymous() -> Grants {
        Grants {
            statuses: true,
            ..Grants::default()
        }
    }

    /// Whether the connection may subscribe to `stream`: notifications
    /// need `read:notifications` and the public, hashtag and direct streams
    /// `read:statuses` (Mastodon's rule); `user` carries statuses,
    /// notifications and chat, and needs one of their scopes. Each event
    /// on it is then sent only with its own scope.
    pub fn may_subscribe(&self, stream: &Stream) -> bool {
        match stream {
            Stream::User => self.reads_anything(),
            Stream::UserNotification => self.notifications,
            _ => self.statuses,
        }
    }

    /// Whether anything at all may be streamed to it.
    pub fn reads_anything(&self) -> bool {
        self.statuses || self.notifications || self.read_chats
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    #[error("Unknown stream type")]
    Unknown,
    #[error("No tag for hashtag stream")]
    NoTag,
    #[error("No list for list stream")]
    NoList,
}

impl Stream {
    /// Mastodon's names; `tag` for the hashtag streams, `list` (an id) for
    /// the list stream.
    pub fn parse(name: &str, tag: Option<&str>, list: Option<&str>) -> Result<Stream, StreamError> {
        let tag = || {
            tag.map(|t| t.trim_start_matches('#').to_lowercase())
                .filter(|t| !t.is_empty())
                .ok_or(StreamError::NoTag)
        };
        Ok(match name {
            "user" => Stream::User,
            "user:notification" => Stream::UserNotification,
            "public" => Stream::Public,
            "public:local" => Stream::PublicLocal,
            "public:remote" => Stream::PublicRemote,
            "public:media" => Stream::PublicMedia,
            "public:local:media" => Stream::PublicLocalMedia,
            "public:remote:media" => Stream::PublicRemoteMedia,
            "hashtag" => Stream::Hashtag(tag()?),
            "hashtag:local" => Stream::HashtagLocal(tag()?),
            "direct" => Stream::Direct,
            "list" => Stream::List(
                list.and_then(|l| l.trim().parse().ok())
                    .ok_or(StreamError::NoList)?,
            ),
            _ => return Err(StreamError::Unknown),
        })
    }

    /// Whether only a signed-in account may subscribe.
    pub fn is_private(&self) -> bool {
        matches!(
            self,
            Stream::User | Stream::UserNotification | Stream::Direct | Stream::List(_)
        )
    }

    /// The `stream` array of the frames a client that subscribed with
    /// `tag` gets: a hashtag as it spelled it (Mastodon echoes the
    /// subscription's parameters, and client libraries match events to
    /// subscriptions by them), otherwise [`Stream::names`].
    pub fn names_as_asked(&self, tag: Option<&str>) -> Value {
        let spelled = tag
            .map(|t| t.trim_start_matches('#'))
            .filter(|t| !t.is_empty());
        match (self, spelled) {
            (Stream::Hashtag(_), Some(tag)) => json!(["hashtag", tag]),
            (Stream::HashtagLocal(_), Some(tag)) => json!(["hashtag:local", tag]),
            _ => self.names(),
        }
    }

    /// The `stream` array of an event frame.
    pub fn names(&self) -> Value {
        match self {
            Stream::User => json!(["user"]),
            Stream::UserNotification => json!(["user:notification"]),
            Stream::Public => json!(["public"]),
            Stream::PublicLocal => json!(["public:local"]),
            Stream::PublicRemote => json!(["public:remote"]),
            Stream::PublicMedia => json!(["public:media"]),
            Stream::PublicLocalMedia => json!(["public:local:media"]),
            Stream::PublicRemoteMedia => json!(["public:remote:media"]),
            Stream::Hashtag(tag) => json!(["hashtag", tag]),
            Stream::HashtagLocal(tag) => json!(["hashtag:local", tag]),
            Stream::Direct => json!(["direct"]),
            Stream::List(id) => json!(["list", id.to_string()]),
        }
    }
}

/// What a client sends on an open connection.
#[derive(Debug, Deserialize)]
pub struct ClientFrame {
    #[serde(rename = "type")]
    pub kind: String,
    pub stream: Option<String>,
    pub tag: Option<String>,
    /// A list's id, as a string or a number.
    pub list: Option<Value>,
}

impl ClientFrame {
    /// The list id as text, however it was written.
    pub fn list(&self) -> Option<String> {
        match self.list.as_ref()? {
            Value::String(id) => Some(id.clone()),
            Value::Number(id) => Some(id.to_string()),
            _ => None,
        }
    }
}

/// An event frame: `payload` is the JSON of the entity as a string, or the
/// bare id for `delete`.
pub fn event_frame(stream: &Stream, event: &str, payload: &str) -> String {
    named_event_frame(&stream.names(), event, payload)
}

/// [`event_frame`] with the `stream` array `names`.
pub fn named_event_frame(names: &Value, event: &str, payload: &str) -> String {
    json!({ "stream": names, "event": event, "payload": payload }).to_string()
}

/// An error frame, as Mastodon sends them.
pub fn error_frame(message: &str, status: u16) -> String {
    json!({ "error": message, "status": status }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_frames() {
        assert_eq!(Stream::parse("user", None, None), Ok(Stream::User));
        assert_eq!(
            Stream::parse("hashtag", Some("#Rust"), None),
            Ok(Stream::Hashtag("rust".to_owned()))
        );
        assert_eq!(
            Stream::parse("hashtag", None, None),
            Err(StreamError::NoTag)
        );
        assert_eq!(
            Stream::parse("list", None, Some("42")),
            Ok(Stream::List(42))
        );
        assert_eq!(Stream::parse("list", None, None), Err(StreamError::NoList));
        assert_eq!(
            Stream::parse("list", None, Some("x")),
            Err(StreamError::NoList)
        );
        assert_eq!(Stream::List(42).names(), json!(["list", "42"]));
        assert_eq!(
            Stream::Hashtag("rust".to_owned()).names_as_asked(Some("#Rust")),
            json!(["hashtag", "Rust"])
        );
        assert_eq!(Stream::User.names_as_asked(Some("x")), json!(["user"]));
        assert_eq!(
            Stream::parse("public:local:media", None, None),
            Ok(Stream::PublicLocalMedia)
        );
        assert_eq!(
            Stream::PublicRemoteMedia.names(),
            json!(["public:remote:media"])
        );
        assert_eq!(
            Stream::parse("lists", None, None),
            Err(StreamError::Unknown)
        );
        let frame: Value = serde_json::from_str(&event_frame(
            &Stream::PublicLocal,
            "update",
            "{\"id\":\"1\"}",
        ))
        .expect("json");
        assert_eq!(frame["stream"], json!(["public:local"]));
        assert_eq!(frame["payload"], "{\"id\":\"1\"}");
        let error: Value = serde_json::from_str(&error_frame("nope", 400)).expect("json");
        assert_eq!(error, json!({"error": "nope", "status": 400}));
    }
}
