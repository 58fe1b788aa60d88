//! Polls: the limits of a local poll (advertised in `/api/v2/instance` as
//! `configuration.polls`), their check, and what a remote poll is cut to.

use crate::time::UnixMillis;

/// Options of a local poll, at most (Mastodon's limit).
pub const MAX_OPTIONS: usize = 4;
/// Characters of one option's title, at most.
pub const MAX_OPTION_CHARACTERS: usize = 50;
/// The shortest a local poll may run, in seconds (five minutes).
pub const MIN_EXPIRATION_SECONDS: i64 = 300;
/// The longest a local poll may run, in seconds (about a month).
pub const MAX_EXPIRATION_SECONDS: i64 = 2_629_746;

/// Options kept of a received poll; further ones are dropped.
pub const MAX_REMOTE_OPTIONS: usize = 20;
/// Characters kept of a received option's title.
pub const MAX_REMOTE_OPTION_CHARACTERS: usize = 500;
/// A received total (of an option's votes, of a poll's voters) is read as
/// at most this, so that sums of them stay far from overflowing.
pub const MAX_REMOTE_VOTES: i64 = 1_000_000_000;

/// A poll as a local author asks for it, checked by [`check`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PollRequest {
    pub options: Vec<String>,
    pub expires_in_seconds: i64,
    pub multiple: bool,
    pub hide_totals: bool,
}

/// A checked local poll.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedPoll {
    /// Titles, trimmed.
    pub options: Vec<String>,
    pub expires_at: UnixMillis,
    pub multiple: bool,
    pub hide_totals: bool,
}

/// Why a poll was refused, in Mastodon's words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PollError {
    #[error("Poll options must have more than one item")]
    TooFewOptions,
    #[error("Poll options can't contain more than {MAX_OPTIONS} items")]
    TooManyOptions,
    #[error("Poll options cannot be longer than {MAX_OPTION_CHARACTERS} characters each")]
    OptionTooLong,
    #[error("Poll options can't be blank")]
    BlankOption,
    #[error("Poll options contain duplicate items")]
    DuplicateOptions,
    #[error("Poll expires at is too soon")]
    TooSoon,
    #[error("Poll expires at is too far into the future")]
    TooLate,
}

/// Check a local poll against the limits; it ends `expires_in_seconds`
/// after `now` (in whole seconds).
pub fn check(request: &PollRequest, now: UnixMillis) -> Result<CheckedPoll, PollError> {
    let options: Vec<String> = request
        .options
        .iter()
        .map(|o| o.trim().to_owned())
        .collect();
    if options.len() < 2 {
        return Err(PollError::TooFewOptions);
    }
    if options.len() > MAX_OPTIONS {
        return Err(PollError::TooManyOptions);
    }
    if options.iter().any(String::is_empty) {
        return Err(PollError::BlankOption);
    }
    if options
        .iter()
        .any(|o| o.chars().count() > MAX_OPTION_CHARACTERS)
    {
        return Err(PollError::OptionTooLong);
    }
    for (i, option) in options.iter().enumerate() {
        if options[..i].contains(option) {
            return Err(PollError::DuplicateOptions);
        }
    }
    if request.expires_in_seconds < MIN_EXPIRATION_SECONDS {
        return Err(PollError::TooSoon);
    }
    if request.expires_in_seconds > MAX_EXPIRATION_SECONDS {
        return Err(PollError::TooLate);
    }
    // In whole seconds, as a Question's `endTime` gives it.
    let expires_at = (now + request.expires_in_seconds * 1000).div_euclid(1000) * 1000;
    Ok(CheckedPoll {
        options,
        expires_at,
        multiple: request.multiple,
        hide_totals: request.hide_totals,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(options: &[&str], expires_in_seconds: i64) -> PollRequest {
        PollRequest {
            options: options.iter().map(|o| (*o).to_owned()).collect(),
            expires_in_seconds,
            multiple: false,
            hide_totals: false,
        }
    }

    #[test]
    fn a_poll_within_the_limits_ends_when_asked() {
        let checked = check(&request(&[" tea ", "coffee"], 3600), 1_250).expect("valid");
        assert_eq!(checked.options, ["tea", "coffee"]);
        assert_eq!(checked.expires_at, 1_000 + 3_600_000, "in whole seconds");
    }

    #[test]
    fn each_limit_has_its_error() {
        let long = "x".repeat(MAX_OPTION_CHARACTERS + 1);
        let cases = [
            (request(&["one"], 3600), PollError::TooFewOptions),
            (
                request(&["a", "b", "c", "d", "e"], 3600),
                PollError::TooManyOptions,
            ),
            (request(&["a", &long], 3600), PollError::OptionTooLong),
            (request(&["a", "  "], 3600), PollError::BlankOption),
            (request(&["a", "a "], 3600), PollError::DuplicateOptions),
            (request(&["a", "b"], 299), PollError::TooSoon),
            (
                request(&["a", "b"], MAX_EXPIRATION_SECONDS + 1),
                PollError::TooLate,
            ),
        ];
        for (request, error) in cases {
            assert_eq!(check(&request, 0), Err(error));
        }
        let at_limit = "x".repeat(MAX_OPTION_CHARACTERS);
        assert!(check(&request(&["a", &at_limit], MIN_EXPIRATION_SECONDS), 0).is_ok());
    }
}
