//! OAuth scopes as Mastodon defines them, and which scope covers which.
//!
//! A scope covers itself and everything below it: `read` covers
//! `read:statuses`, `admin:read` covers `admin:read:accounts`. The legacy
//! `follow` scope covers reading and writing follows, blocks and mutes.

use std::fmt;

/// Every scope a client may ask for.
pub const KNOWN: &[&str] = &[
    "read",
    "write",
    "follow",
    "push",
    "profile",
    "read:accounts",
    "read:blocks",
    "read:bookmarks",
    "read:chats",
    "read:favourites",
    "read:filters",
    "read:follows",
    "read:lists",
    "read:mutes",
    "read:notifications",
    "read:search",
    "read:statuses",
    "write:accounts",
    "write:blocks",
    "write:bookmarks",
    "write:chats",
    "write:conversations",
    "write:favourites",
    "write:filters",
    "write:follows",
    "write:lists",
    "write:media",
    "write:mutes",
    "write:notifications",
    "write:reports",
    "write:statuses",
    "admin:read",
    "admin:write",
    "admin:read:accounts",
    "admin:read:reports",
    "admin:read:domain_allows",
    "admin:read:domain_blocks",
    "admin:read:ip_blocks",
    "admin:read:email_domain_blocks",
    "admin:read:canonical_email_blocks",
    "admin:write:accounts",
    "admin:write:reports",
    "admin:write:domain_allows",
    "admin:write:domain_blocks",
    "admin:write:ip_blocks",
    "admin:write:email_domain_blocks",
    "admin:write:canonical_email_blocks",
];

const FOLLOW_COVERS: &[&str] = &[
    "read:blocks",
    "read:follows",
    "read:mutes",
    "write:blocks",
    "write:follows",
    "write:mutes",
];

/// The scope Mastodon grants when a client asks for none.
pub const DEFAULT: &str = "read";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope `{0}`")]
pub struct UnknownScope(pub String);

/// A set of known scopes, in the order they were asked for: Mastodon
/// answers a token's `scope` in the client's order, and some clients compare
/// the string.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scopes(Vec<&'static str>);

impl Scopes {
    /// Parse a space-separated list (`+` also separates, as in URLs).
    /// Duplicates collapse; unknown scopes are refused.
    pub fn parse(text: &str) -> Result<Scopes, UnknownScope> {
        let mut list = Vec::new();
        for word in text.split([' ', '+', '\t', '\n']).filter(|w| !w.is_empty()) {
            let known = KNOWN
                .iter()
                .find(|k| **k == word)
                .ok_or_else(|| UnknownScope(word.to_owned()))?;
            if !list.contains(known) {
                list.push(*known);
            }
        }
        Ok(Scopes(list))
    }

    /// Parse, with Mastodon's default when the text is empty or absent.
    pub fn parse_or_default(text: Option<&str>) -> Result<Scopes, UnknownScope> {
        match text.map(str::trim) {
            Some(t) if !t.is_empty() => Scopes::parse(t),
            _ => Scopes::parse(DEFAULT),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().copied()
    }

    /// Some granted scope covers `required`.
    pub fn allows(&self, required: &str) -> bool {
        self.0.iter().any(|granted| covers(granted, required))
    }

    /// Every scope of `other` is covered by this set.
    pub fn covers_all(&self, other: &Scopes) -> bool {
        other.0.iter().all(|scope| self.allows(scope))
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for scope in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(scope)?;
            first = false;
        }
        Ok(())
    }
}

fn covers(granted: &str, required: &str) -> bool {
    if granted == required {
        return true;
    }
    if let Some(rest) = required.strip_prefix(granted) {
        if rest.starts_with(':') {
            return true;
        }
    }
    granted == "follow" && FOLLOW_COVERS.contains(&required)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(text: &str) -> Scopes {
        Scopes::parse(text).expect("known scopes")
    }

    #[test]
    fn parsing() {
        assert_eq!(scopes("read write").to_string(), "read write");
        assert_eq!(scopes("write+read  read").to_string(), "write read");
        assert_eq!(
            Scopes::parse("read bogus"),
            Err(UnknownScope("bogus".into()))
        );
        assert_eq!(
            Scopes::parse_or_default(None).expect("default").to_string(),
            "read"
        );
        assert_eq!(
            Scopes::parse_or_default(Some(" "))
                .expect("default")
                .to_string(),
            "read"
        );
    }

    #[test]
    fn coverage() {
        let granted = scopes("read write:statuses follow admin:read");
        assert!(granted.allows("read"));
        assert!(granted.allows("read:accounts"));
        assert!(granted.allows("write:statuses"));
        assert!(!granted.allows("write"));
        assert!(!granted.allows("write:favourites"));
        assert!(granted.allows("write:follows"));
        assert!(granted.allows("write:blocks"));
        assert!(granted.allows("admin:read:accounts"));
        assert!(!granted.allows("admin:write:accounts"));
        assert!(!granted.allows("push"));
        // `read` is not a prefix match for `readx`-like names.
        assert!(!scopes("read").allows("reader"));
    }

    #[test]
    fn subsets() {
        let app = scopes("read write follow");
        assert!(app.covers_all(&scopes("read:statuses write")));
        assert!(app.covers_all(&scopes("follow")));
        assert!(!app.covers_all(&scopes("push")));
        assert!(!scopes("read:statuses").covers_all(&scopes("read")));
    }
}
