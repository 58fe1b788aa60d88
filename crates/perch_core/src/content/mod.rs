//! Plain text as people type posts, turned into what is stored and shown:
//! safe HTML with links, mentions and hashtags, the mentions and tags found,
//! and the length that counts toward the limit.
//!
//! It follows what Mastodon does, since clients and other servers expect
//! that shape: `http(s)` links shortened for display (the scheme and
//! anything past 30 characters are wrapped in `invisible`), `@user` and
//! `@user@domain` mentions linked as `h-card`s when the account is known,
//! `#tags` linked to their page, paragraphs for blank lines and `<br>` for
//! single line breaks. Everything else is escaped, so the output is safe
//! by construction: no input can open a tag or an attribute.

mod parse;
mod render;

pub use parse::{MentionRef, Parsed, Segment, parse};
pub use render::{MentionLink, escape_html, push_escaped, render};

/// What a URL counts for toward the length limit, whatever its length (as
/// in Mastodon, so that links do not eat the limit).
pub const URL_LENGTH: usize = 23;

/// The length of `text` toward the limit: characters (Unicode scalar
/// values), every link counting [`URL_LENGTH`], and a remote mention
/// counting only its `@user` part.
pub fn length(text: &str) -> usize {
    parse(text)
        .segments
        .iter()
        .map(|segment| match segment {
            Segment::Text(text) => text.chars().count(),
            Segment::Url(_) => URL_LENGTH,
            Segment::Mention(mention) => 1 + mention.username.chars().count(),
            Segment::Hashtag(tag) => 1 + tag.chars().count(),
        })
        .sum()
}

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_counts_links_and_remote_mentions_as_mastodon_does() {
        assert_eq!(length("hello"), 5);
        assert_eq!(length("héllo 🐦"), 7);
        let long = format!("see https://example.com/{}", "a".repeat(100));
        assert_eq!(length(&long), 4 + URL_LENGTH);
        assert_eq!(length("@bob@example.social hi"), 4 + 3);
        assert_eq!(length("@bob hi"), 7);
        assert_eq!(length("#rust"), 5);
    }
}
