//! Filters: the words and statuses an account does not want to read
//! without warning (or at all), where it reads them. The one rule of what
//! matches, used for every timeline, notification and stream.
//!
//! A filter applies in its contexts while it has not expired. It matches a
//! status when one of its keywords occurs in the status's text (see
//! [`searchable_text`]; case ignored; a `whole_word` keyword only between
//! word boundaries, as Mastodon's `\b` places them), or when it names the
//! status (or, for a reblog, the reblogged status). A `hide` filter drops
//! what it matches; `warn` (and `blur`, which clients render as warn)
//! lets the status through, marked.

use std::fmt;

/// Where a filter applies: Mastodon's five contexts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FilterContext {
    /// The home timeline and lists.
    Home,
    Notifications,
    /// The public and hashtag timelines.
    Public,
    /// A status and its conversation.
    Thread,
    /// An account's profile.
    Account,
}

impl FilterContext {
    /// Every context, in the order they are listed back.
    pub const ALL: [FilterContext; 5] = [
        FilterContext::Home,
        FilterContext::Notifications,
        FilterContext::Public,
        FilterContext::Thread,
        FilterContext::Account,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FilterContext::Home => "home",
            FilterContext::Notifications => "notifications",
            FilterContext::Public => "public",
            FilterContext::Thread => "thread",
            FilterContext::Account => "account",
        }
    }

    pub fn parse(name: &str) -> Option<FilterContext> {
        FilterContext::ALL.into_iter().find(|c| c.as_str() == name)
    }

    fn bit(self) -> u8 {
        match self {
            FilterContext::Home => 1,
            FilterContext::Notifications => 2,
            FilterContext::Public => 4,
            FilterContext::Thread => 8,
            FilterContext::Account => 16,
        }
    }
}

/// A set of contexts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Contexts(u8);

/// Why a filter's settings are refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("Context can't be blank")]
    NoContext,
    #[error("Context contains an invalid value: {0}")]
    UnknownContext(String),
    #[error("'{0}' is not a valid filter_action")]
    UnknownAction(String),
}

impl Contexts {
    /// Contexts by their names; at least one, each known.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Contexts, FilterError> {
        let mut set = Contexts(0);
        for name in names {
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            let context = FilterContext::parse(name)
                .ok_or_else(|| FilterError::UnknownContext(name.to_owned()))?;
            set.0 |= context.bit();
        }
        if set.0 == 0 {
            return Err(FilterError::NoContext);
        }
        Ok(set)
    }

    /// As stored: the names joined by commas (unknown names are dropped
    /// when read back).
    pub fn to_stored(self) -> String {
        self.iter()
            .map(FilterContext::as_str)
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn from_stored(text: &str) -> Contexts {
        Contexts(
            text.split(',')
                .filter_map(FilterContext::parse)
                .fold(0, |set, c| set | c.bit()),
        )
    }

    pub fn contains(self, context: FilterContext) -> bool {
        self.0 & context.bit() != 0
    }

    pub fn iter(self) -> impl Iterator<Item = FilterContext> {
        FilterContext::ALL
            .into_iter()
            .filter(move |c| self.contains(*c))
    }
}

/// What a filter does with what it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterAction {
    Warn,
    Hide,
    /// Mastodon 4.4's "blur the media": kept as asked, applied as a warning.
    Blur,
}

impl FilterAction {
    pub fn as_str(self) -> &'static str {
        match self {
            FilterAction::Warn => "warn",
            FilterAction::Hide => "hide",
            FilterAction::Blur => "blur",
        }
    }

    pub fn parse(name: &str) -> Result<FilterAction, FilterError> {
        match name.trim() {
            "warn" => Ok(FilterAction::Warn),
            "hide" => Ok(FilterAction::Hide),
            "blur" => Ok(FilterAction::Blur),
            other => Err(FilterError::UnknownAction(other.to_owned())),
        }
    }

    /// Read back from storage; anything unknown warns.
    pub fn from_stored(name: &str) -> FilterAction {
        FilterAction::parse(name).unwrap_or(FilterAction::Warn)
    }
}

impl fmt::Display for FilterAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One keyword of a filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keyword {
    pub id: i64,
    pub keyword: String,
    pub whole_word: bool,
    /// `keyword` lower-cased once, for matching.
    lowered: String,
}

impl Keyword {
    pub fn new(id: i64, keyword: String, whole_word: bool) -> Keyword {
        let lowered = keyword.to_lowercase();
        Keyword {
            id,
            keyword,
            whole_word,
            lowered,
        }
    }

    /// Whether the keyword occurs in `lowered` (a text lower-cased).
    fn occurs_in(&self, lowered: &str) -> bool {
        let needle = self.lowered.as_str();
        if needle.is_empty() {
            return false;
        }
        if !self.whole_word {
            return lowered.contains(needle);
        }
        // A boundary is required only on a side where the keyword has a
        // word character, as Mastodon builds its `\b…\b`: `#rust` needs
        // one after `t` only.
        let start_bound = needle.chars().next().is_some_and(is_word);
        let end_bound = needle.chars().next_back().is_some_and(is_word);
        let mut from = 0;
        while let Some(found) = lowered[from..].find(needle) {
            let at = from + found;
            let end = at + needle.len();
            let before_ok = !start_bound || !lowered[..at].chars().next_back().is_some_and(is_word);
            let after_ok = !end_bound || !lowered[end..].chars().next().is_some_and(is_word);
            if before_ok && after_ok {
                return true;
            }
            // Occurrences may overlap: go on from the next character.
            from = at + lowered[at..].chars().next().map_or(1, char::len_utf8);
        }
        false
    }
}

/// A word character, as a regular expression's `\w` sees one.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// A status a filter names: the row's id and the status's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FilterStatus {
    pub id: i64,
    pub status_id: i64,
}

/// A filter, with its keywords and statuses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    pub id: i64,
    pub title: String,
    pub contexts: Contexts,
    pub action: FilterAction,
    /// Unix milliseconds; `None`: never.
    pub expires_at: Option<i64>,
    pub keywords: Vec<Keyword>,
    pub statuses: Vec<FilterStatus>,
}

impl Filter {
    pub fn is_active(&self, now: i64) -> bool {
        self.expires_at.is_none_or(|at| at > now)
    }
}

/// How a filter matched a status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterMatch<'a> {
    pub filter: &'a Filter,
    /// The keywords that occur in the status's text, as the filter has them.
    pub keyword_matches: Vec<&'a str>,
    /// The ids of the filter's statuses that are this one.
    pub status_matches: Vec<i64>,
}

impl FilterMatch<'_> {
    pub fn hides(&self) -> bool {
        self.filter.action == FilterAction::Hide
    }
}

/// A status as filters see it: its ids and its text.
#[derive(Clone, Copy, Debug)]
pub struct Candidate<'t> {
    pub id: i64,
    /// For a reblog, the reblogged status (whose text `text` is).
    pub reblog_of: Option<i64>,
    pub text: &'t str,
}

/// The filters of `filters` that match `status` and apply: active at
/// `now`, and in `context` (`None`: whatever their contexts, where no
/// context is the reader's, as Mastodon's API marks statuses anyway).
pub fn matches<'a>(
    filters: &'a [Filter],
    context: Option<FilterContext>,
    now: i64,
    status: Candidate<'_>,
) -> Vec<FilterMatch<'a>> {
    let mut lowered: Option<String> = None;
    let mut out = Vec::new();
    for filter in filters {
        if !filter.is_active(now) || context.is_some_and(|c| !filter.contexts.contains(c)) {
            continue;
        }
        let status_matches: Vec<i64> = filter
            .statuses
            .iter()
            .filter(|s| s.status_id == status.id || Some(s.status_id) == status.reblog_of)
            .map(|s| s.id)
            .collect();
        let keyword_matches: Vec<&str> = if filter.keywords.is_empty() {
            Vec::new()
        } else {
            let text = lowered.get_or_insert_with(|| status.text.to_lowercase());
            filter
                .keywords
                .iter()
                .filter(|k| k.occurs_in(text))
                .map(|k| k.keyword.as_str())
                .collect()
        };
        if !keyword_matches.is_empty() || !status_matches.is_empty() {
            out.push(FilterMatch {
                filter,
                keyword_matches,
                status_matches,
            });
        }
    }
    out
}

/// Whether any of `matches` hides the status.
pub fn hidden(matches: &[FilterMatch<'_>]) -> bool {
    matches.iter().any(FilterMatch::hides)
}

/// The text keywords are looked for in, as Mastodon builds it: the
/// content warning, the content without markup, the poll's options and
/// the media's descriptions, apart.
pub fn searchable_text<'a>(
    spoiler_text: &str,
    html: &str,
    poll_options: impl IntoIterator<Item = &'a str>,
    media_descriptions: impl IntoIterator<Item = &'a str>,
) -> String {
    let mut text = String::with_capacity(spoiler_text.len() + html.len() + 2);
    text.push_str(spoiler_text);
    text.push_str("\n\n");
    text.push_str(&plain_text(html));
    for part in poll_options.into_iter().chain(media_descriptions) {
        text.push_str("\n\n");
        text.push_str(part);
    }
    text
}

/// HTML as the text it shows: tags cut out (a line break or paragraph end
/// becomes a new line, inline tags nothing, so that `#<span>tag</span>`
/// reads `#tag`) and entities decoded.
pub fn plain_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        decode_entities(&rest[..open], &mut text);
        let after = &rest[open + 1..];
        let Some(close) = after.find('>') else {
            // A `<` that opens nothing is text.
            decode_entities(&rest[open..], &mut text);
            return text;
        };
        let tag = after[..close].trim().to_ascii_lowercase();
        let name = tag.trim_end_matches('/').split_whitespace().next();
        if matches!(name, Some("br" | "/p" | "p" | "/li" | "/blockquote")) {
            text.push('\n');
        }
        rest = &after[close + 1..];
    }
    decode_entities(rest, &mut text);
    text
}

/// `text` with its character references decoded, appended to `out`; an
/// unknown reference stays as written.
fn decode_entities(text: &str, out: &mut String) {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let decoded = after.find(';').filter(|&end| end <= 10).and_then(|end| {
            let name = &after[..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(id: i64, contexts: &[&str], action: FilterAction) -> Filter {
        Filter {
            id,
            title: format!("filter {id}"),
            contexts: Contexts::parse(contexts.iter().copied()).expect("contexts"),
            action,
            expires_at: None,
            keywords: Vec::new(),
            statuses: Vec::new(),
        }
    }

    fn with_keyword(mut f: Filter, keyword: &str, whole_word: bool) -> Filter {
        let id = f.id * 100 + f.keywords.len() as i64;
        f.keywords
            .push(Keyword::new(id, keyword.to_owned(), whole_word));
        f
    }

    fn status(text: &str) -> Candidate<'_> {
        Candidate {
            id: 1,
            reblog_of: None,
            text,
        }
    }

    fn keyword_occurs(keyword: &str, whole_word: bool, text: &str) -> bool {
        Keyword::new(1, keyword.to_owned(), whole_word).occurs_in(&text.to_lowercase())
    }

    #[test]
    fn keywords_match_ignoring_case() {
        assert!(keyword_occurs("Rust", false, "I like rust."));
        assert!(keyword_occurs("rust", false, "TRUSTED"));
        assert!(!keyword_occurs("rust", false, "ruby"));
        assert!(!keyword_occurs("", false, "anything"));
        assert!(keyword_occurs("ÉTÉ", false, "un été chaud"));
    }

    #[test]
    fn whole_words_need_word_boundaries() {
        assert!(keyword_occurs("rust", true, "rust"));
        assert!(keyword_occurs("rust", true, "I like Rust!"));
        assert!(!keyword_occurs("rust", true, "trusted"));
        assert!(!keyword_occurs("rust", true, "rusty"));
        assert!(!keyword_occurs("rust", true, "rust_lang"));
        // A later occurrence counts when an earlier one is inside a word.
        assert!(keyword_occurs("rust", true, "rusty rust"));
        // Only the sides with word characters need a boundary.
        assert!(keyword_occurs("#rust", true, "love#rust"));
        assert!(!keyword_occurs("#rust", true, "#rusty"));
        // Overlapping occurrences are each tried.
        assert!(keyword_occurs("a-a", true, "xa-a-a"));
        assert!(keyword_occurs("two words", true, "just two words."));
        assert!(!keyword_occurs("été", true, "étés"));
    }

    #[test]
    fn filters_apply_in_their_contexts_while_active() {
        let home = with_keyword(filter(1, &["home"], FilterAction::Warn), "cats", false);
        let mut expired = with_keyword(filter(2, &["home"], FilterAction::Hide), "cats", false);
        expired.expires_at = Some(1_000);
        let filters = vec![home, expired];
        let text = "Look at these cats";
        let in_home = matches(&filters, Some(FilterContext::Home), 999, status(text));
        assert_eq!(
            in_home.iter().map(|m| m.filter.id).collect::<Vec<_>>(),
            [1, 2]
        );
        assert!(hidden(&in_home));
        let later = matches(&filters, Some(FilterContext::Home), 1_000, status(text));
        assert_eq!(later.len(), 1);
        assert!(!hidden(&later));
        assert_eq!(later[0].keyword_matches, ["cats"]);
        assert!(matches(&filters, Some(FilterContext::Public), 0, status(text)).is_empty());
        assert_eq!(matches(&filters, None, 0, status(text)).len(), 2);
        assert!(matches(&filters, None, 0, status("dogs")).is_empty());
    }

    #[test]
    fn statuses_match_by_id_and_reblogs_by_the_original() {
        let mut f = filter(1, &["public"], FilterAction::Hide);
        f.statuses.push(FilterStatus {
            id: 77,
            status_id: 10,
        });
        let filters = vec![f];
        let direct = Candidate {
            id: 10,
            reblog_of: None,
            text: "",
        };
        let found = matches(&filters, Some(FilterContext::Public), 0, direct);
        assert_eq!(found[0].status_matches, [77]);
        assert!(found[0].keyword_matches.is_empty());
        let reblog = Candidate {
            id: 11,
            reblog_of: Some(10),
            text: "",
        };
        assert!(hidden(&matches(
            &filters,
            Some(FilterContext::Public),
            0,
            reblog
        )));
        let other = Candidate {
            id: 12,
            reblog_of: None,
            text: "",
        };
        assert!(matches(&filters, Some(FilterContext::Public), 0, other).is_empty());
    }

    #[test]
    fn blur_is_kept_and_warns() {
        assert_eq!(FilterAction::parse("blur"), Ok(FilterAction::Blur));
        let f = with_keyword(filter(1, &["home"], FilterAction::Blur), "x", false);
        let filters = vec![f];
        let found = matches(&filters, Some(FilterContext::Home), 0, status("x"));
        assert_eq!(found.len(), 1);
        assert!(!hidden(&found));
        assert_eq!(
            FilterAction::parse("drop"),
            Err(FilterError::UnknownAction("drop".to_owned()))
        );
    }

    #[test]
    fn contexts_parse_and_round_trip() {
        let set = Contexts::parse(["public", "home", " "]).expect("valid");
        assert_eq!(set.to_stored(), "home,public");
        assert_eq!(Contexts::from_stored("home,public,nonsense"), set);
        assert_eq!(
            Contexts::parse(std::iter::empty()),
            Err(FilterError::NoContext)
        );
        assert_eq!(
            Contexts::parse(["home", "explore"]),
            Err(FilterError::UnknownContext("explore".to_owned()))
        );
        assert!(set.contains(FilterContext::Public));
        assert!(!set.contains(FilterContext::Thread));
    }

    #[test]
    fn text_is_what_the_status_shows() {
        assert_eq!(
            plain_text(
                "<p>Hello <a href=\"x\">#<span>rust</span></a></p><p>a &amp; b &lt;3&#39;&#x41;</p>"
            ),
            "\nHello #rust\n\na & b <3'A\n"
        );
        assert_eq!(plain_text("one<br>two<br/>three"), "one\ntwo\nthree");
        assert_eq!(plain_text("1 < 2 &unknown; &"), "1 < 2 &unknown; &");
        let text = searchable_text("cw", "<p>body</p>", ["yes", "no"], ["a cat"]);
        assert!(text.starts_with("cw\n\n"));
        for part in ["body", "yes", "no", "a cat"] {
            assert!(text.contains(part), "{part} in {text:?}");
        }
        // Text in different parts does not run together.
        assert!(!keyword_occurs("yesno", false, &text));
    }
}
