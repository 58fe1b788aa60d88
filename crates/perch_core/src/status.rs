//! Statuses (posts): who may see one, and the limits of what one may hold.

use std::fmt;
use std::str::FromStr;

/// Who a status is addressed to. Stored as a small integer, ordered from the
/// widest audience to the narrowest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Visibility {
    /// Everyone, and listed on public timelines.
    Public,
    /// Everyone, but kept off public timelines.
    Unlisted,
    /// The author's followers and the accounts it mentions.
    Private,
    /// Only the accounts it mentions.
    Direct,
}

impl Visibility {
    pub fn as_i16(self) -> i16 {
        match self {
            Visibility::Public => 0,
            Visibility::Unlisted => 1,
            Visibility::Private => 2,
            Visibility::Direct => 3,
        }
    }

    /// The stored value; anything unknown is treated as the narrowest
    /// audience, so a bad row can never widen who sees a status.
    pub fn from_i16(value: i16) -> Visibility {
        match value {
            0 => Visibility::Public,
            1 => Visibility::Unlisted,
            2 => Visibility::Private,
            _ => Visibility::Direct,
        }
    }

    /// Mastodon's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Unlisted => "unlisted",
            Visibility::Private => "private",
            Visibility::Direct => "direct",
        }
    }

    /// Anyone may read it, signed in or not.
    pub fn is_public(self) -> bool {
        matches!(self, Visibility::Public | Visibility::Unlisted)
    }
}

impl fmt::Display for Visibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("visibility must be one of public, unlisted, private, direct")]
pub struct UnknownVisibility;

impl FromStr for Visibility {
    type Err = UnknownVisibility;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "public" => Ok(Visibility::Public),
            "unlisted" => Ok(Visibility::Unlisted),
            "private" => Ok(Visibility::Private),
            "direct" => Ok(Visibility::Direct),
            _ => Err(UnknownVisibility),
        }
    }
}

/// The default length limit of a status, in characters as Mastodon counts
/// them (see `content::length`).
pub const DEFAULT_MAX_CHARACTERS: usize = 500;
/// Attachments per status, as in Mastodon.
pub const MAX_MEDIA_ATTACHMENTS: usize = 4;
/// Longest content warning, in characters.
pub const MAX_SPOILER_CHARACTERS: usize = 500;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for v in [
            Visibility::Public,
            Visibility::Unlisted,
            Visibility::Private,
            Visibility::Direct,
        ] {
            assert_eq!(Visibility::from_i16(v.as_i16()), v);
            assert_eq!(v.as_str().parse::<Visibility>(), Ok(v));
        }
        assert_eq!("Public".parse::<Visibility>(), Err(UnknownVisibility));
        assert_eq!(Visibility::from_i16(9), Visibility::Direct);
        assert!(Visibility::Unlisted.is_public());
        assert!(!Visibility::Private.is_public());
    }
}
