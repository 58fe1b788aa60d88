//! Where a local actor's ActivityPub documents live.
//!
//! These URLs are ids that other servers store forever: changing the layout
//! breaks every existing follow, so it is defined once, here.

use perch_db::accounts::ActorUrls;
use url::Url;

/// Builds actor URLs under the instance's public base URL.
#[derive(Clone, Debug)]
pub struct ActorUrlLayout {
    base: Url,
}

impl ActorUrlLayout {
    /// `base` is the instance's public URL (scheme, host and optional port).
    pub fn new(base: Url) -> Self {
        Self { base }
    }

    fn at(&self, path: &str) -> String {
        let mut url = self.base.clone();
        url.set_path(path);
        url.set_query(None);
        url.set_fragment(None);
        url.to_string()
    }

    /// The actor id: `https://host/users/alice`.
    pub fn actor_uri(&self, username: &str) -> String {
        self.at(&format!("/users/{username}"))
    }

    /// The id of the actor's signing key.
    pub fn key_id(&self, username: &str) -> String {
        format!("{}#main-key", self.actor_uri(username))
    }

    /// The actor's pinned statuses (`featured`).
    pub fn featured_uri(&self, username: &str) -> String {
        featured_of(&self.actor_uri(username))
    }

    /// The id of an activity we publish.
    pub fn activity_uri(&self, id: i64) -> String {
        self.at(&format!("/activities/{id}"))
    }

    /// A local status's id: `https://host/users/alice/statuses/123`.
    pub fn status_uri(&self, username: &str, id: i64) -> String {
        self.at(&format!("/users/{username}/statuses/{id}"))
    }

    /// A local status's page: `https://host/@alice/123`.
    pub fn status_url(&self, username: &str, id: i64) -> String {
        self.at(&format!("/@{username}/{id}"))
    }

    /// A local account's vote in a remote poll (one per chosen option):
    /// `https://host/users/alice#votes/123`, as Mastodon names them.
    pub fn vote_uri(&self, username: &str, id: i64) -> String {
        format!("{}#votes/{id}", self.actor_uri(username))
    }

    /// A local chat message's id.
    pub fn chat_message_uri(&self, username: &str, id: i64) -> String {
        self.at(&format!("/users/{username}/chat_messages/{id}"))
    }

    /// A hashtag's page (`name` lower-cased).
    pub fn tag_url(&self, name: &str) -> String {
        let mut url = self.base.clone();
        url.set_query(None);
        url.set_fragment(None);
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.clear().push("tags").push(name);
        }
        url.to_string()
    }

    /// The shared inbox, where one delivery serves every local recipient.
    pub fn shared_inbox_uri(&self) -> String {
        self.at("/inbox")
    }

    /// The instance actor, which signs fetches on behalf of the server.
    pub fn instance_actor_uri(&self) -> String {
        self.at("/actor")
    }

    /// Every address of a local actor.
    pub fn actor_urls(&self, username: &str) -> ActorUrls {
        let actor = self.actor_uri(username);
        ActorUrls {
            url: self.at(&format!("/@{username}")),
            inbox_url: format!("{actor}/inbox"),
            outbox_url: format!("{actor}/outbox"),
            followers_url: format!("{actor}/followers"),
            following_url: format!("{actor}/following"),
            shared_inbox_url: self.shared_inbox_uri(),
            uri: actor,
        }
    }
}

/// The `featured` collection (pinned statuses) of the local actor
/// `actor_uri`.
pub fn featured_of(actor_uri: &str) -> String {
    format!("{actor_uri}/collections/featured")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let base = Url::parse("https://perch.example:8443").expect("valid URL");
        let layout = ActorUrlLayout::new(base);
        let urls = layout.actor_urls("alice");
        assert_eq!(urls.uri, "https://perch.example:8443/users/alice");
        assert_eq!(urls.url, "https://perch.example:8443/@alice");
        assert_eq!(
            urls.inbox_url,
            "https://perch.example:8443/users/alice/inbox"
        );
        assert_eq!(
            urls.outbox_url,
            "https://perch.example:8443/users/alice/outbox"
        );
        assert_eq!(
            urls.followers_url,
            "https://perch.example:8443/users/alice/followers"
        );
        assert_eq!(
            urls.following_url,
            "https://perch.example:8443/users/alice/following"
        );
        assert_eq!(urls.shared_inbox_url, "https://perch.example:8443/inbox");
        assert_eq!(
            layout.key_id("alice"),
            "https://perch.example:8443/users/alice#main-key"
        );
    }
}
