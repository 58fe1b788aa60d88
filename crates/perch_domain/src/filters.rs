//! Changing one's filters, as Mastodon's v2 and v1 APIs allow: each change
//! one transaction that checks the settings and the limits (at most
//! [`MAX_FILTERS`] filters, [`MAX_KEYWORDS`] keywords and [`MAX_STATUSES`]
//! filtered statuses per account), so that nothing is half written.
//!
//! A v1 filter is a filter with one keyword, known by the keyword's id;
//! its phrase is both the keyword and the filter's title, and
//! `irreversible` is the `hide` action.

use perch_core::filter::{Contexts, Filter, FilterAction};
use perch_core::time::{UnixMillis, now_millis};
use perch_db::filters::{self, FilterFields};

use crate::Domain;
use crate::context::Change;
use crate::error::{DomainError, Result};

/// Filters one account may have.
pub const MAX_FILTERS: i64 = 100;
/// Keywords, over all of one account's filters.
pub const MAX_KEYWORDS: i64 = 1_000;
/// Filtered statuses, over all of one account's filters.
pub const MAX_STATUSES: i64 = 1_000;
/// The longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 256;
/// The longest keyword, in characters.
pub const MAX_KEYWORD_CHARS: usize = 512;
/// The furthest expiry, in seconds from now (ten years).
pub const MAX_EXPIRES_IN: i64 = 10 * 366 * 24 * 3600;

/// A keyword to add (no `id`), change or remove (`destroy`).
#[derive(Clone, Debug, Default)]
pub struct KeywordChange {
    pub id: Option<i64>,
    pub keyword: Option<String>,
    pub whole_word: Option<bool>,
    pub destroy: bool,
}

/// What a new filter is, or what changes of one (`None`: unchanged).
#[derive(Clone, Debug, Default)]
pub struct FilterChanges {
    pub title: Option<String>,
    pub context: Option<Vec<String>>,
    pub action: Option<String>,
    /// Seconds from now; `Some(None)`: never.
    pub expires_in: Option<Option<i64>>,
    pub keywords: Vec<KeywordChange>,
}

/// A filter's settings once checked.
struct Settings {
    title: String,
    contexts: Contexts,
    action: FilterAction,
    expires_at: Option<UnixMillis>,
}

impl Settings {
    fn of(filter: &Filter) -> Settings {
        Settings {
            title: filter.title.clone(),
            contexts: filter.contexts,
            action: filter.action,
            expires_at: filter.expires_at,
        }
    }

    /// `self` with `changes` applied (each checked); `now` for expiry.
    fn apply(mut self, changes: &FilterChanges, now: UnixMillis) -> Result<Settings> {
        if let Some(title) = &changes.title {
            self.title = checked_text(title, "Title", MAX_TITLE_CHARS)?;
        }
        if let Some(context) = &changes.context {
            self.contexts = Contexts::parse(context.iter().map(String::as_str)).map_err(invalid)?;
        }
        if let Some(action) = &changes.action {
            self.action = FilterAction::parse(action).map_err(invalid)?;
        }
        if let Some(expires_in) = changes.expires_in {
            self.expires_at = expires_at(expires_in, now)?;
        }
        Ok(self)
    }

    fn fields(&self, id: i64, account_id: i64) -> FilterFields<'_> {
        FilterFields {
            id,
            account_id,
            title: &self.title,
            contexts: self.contexts,
            action: self.action,
            expires_at: self.expires_at,
        }
    }
}

fn invalid(error: impl std::fmt::Display) -> DomainError {
    DomainError::invalid(format!("Validation failed: {error}"))
}

/// `text` trimmed, neither blank nor longer than `max` characters.
fn checked_text(text: &str, what: &str, max: usize) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(invalid(format!("{what} can't be blank")));
    }
    if text.chars().count() > max {
        return Err(invalid(format!(
            "{what} is too long (maximum is {max} characters)"
        )));
    }
    Ok(text.to_owned())
}

fn expires_at(expires_in: Option<i64>, now: UnixMillis) -> Result<Option<UnixMillis>> {
    match expires_in {
        None => Ok(None),
        Some(seconds) if (0..=MAX_EXPIRES_IN).contains(&seconds) => Ok(Some(now + seconds * 1000)),
        Some(_) => Err(invalid(format!(
            "Expires in must be between 0 and {MAX_EXPIRES_IN} seconds"
        ))),
    }
}

/// Open a change of `owner`'s filters: held against other changes of
/// them until it ends.
async fn begin(domain: &Domain, owner: i64) -> Result<Change<'_>> {
    let mut change = domain.begin().await?;
    filters::hold_owner(&mut change.tx, owner).await?;
    Ok(change)
}

/// Commit `change` if `owner` is still within the limits.
async fn commit_within_limits(mut change: Change<'_>, owner: i64) -> Result<()> {
    let (count, keywords, statuses) = filters::counts(&mut change.tx, owner).await?;
    if count > MAX_FILTERS {
        return Err(invalid(format!(
            "You can have at most {MAX_FILTERS} filters"
        )));
    }
    if keywords > MAX_KEYWORDS {
        return Err(invalid(format!(
            "You can have at most {MAX_KEYWORDS} filter keywords"
        )));
    }
    if statuses > MAX_STATUSES {
        return Err(invalid(format!(
            "You can have at most {MAX_STATUSES} filtered posts"
        )));
    }
    change.commit().await
}

async fn current(change: &mut Change<'_>, owner: i64, id: i64) -> Result<Filter> {
    filters::find_in(&mut change.tx, owner, id)
        .await?
        .ok_or(DomainError::NotFound)
}

/// `owner` makes a filter; a title and a context are required, the
/// action is `warn` unless said.
pub async fn create(domain: &Domain, owner: i64, new: FilterChanges) -> Result<i64> {
    if new.context.is_none() {
        return Err(invalid("Context can't be blank"));
    }
    let now = now_millis();
    let blank = Settings {
        title: String::new(),
        contexts: Contexts::default(),
        action: FilterAction::Warn,
        expires_at: None,
    };
    let settings = blank.apply(&new, now)?;
    if settings.title.is_empty() {
        return Err(invalid("Title can't be blank"));
    }
    let id = domain.next_id();
    let mut change = begin(domain, owner).await?;
    filters::insert(&mut change.tx, &settings.fields(id, owner), now).await?;
    for keyword in new.keywords.iter().filter(|k| !k.destroy) {
        add_keyword_in(domain, &mut change, id, keyword, now).await?;
    }
    commit_within_limits(change, owner).await?;
    Ok(id)
}

async fn add_keyword_in(
    domain: &Domain,
    change: &mut Change<'_>,
    filter_id: i64,
    keyword: &KeywordChange,
    now: UnixMillis,
) -> Result<i64> {
    let text = checked_text(
        keyword.keyword.as_deref().unwrap_or_default(),
        "Keyword",
        MAX_KEYWORD_CHARS,
    )?;
    let id = domain.next_id();
    // Mastodon's default: keywords match whole words.
    let whole_word = keyword.whole_word.unwrap_or(true);
    filters::insert_keyword(&mut change.tx, id, filter_id, &text, whole_word, now).await?;
    Ok(id)
}

/// Change `owner`'s filter `id`: its settings, and keywords added,
/// changed or removed (a keyword id not of this filter is not found).
pub async fn update(domain: &Domain, owner: i64, id: i64, changes: FilterChanges) -> Result<()> {
    let now = now_millis();
    let mut change = begin(domain, owner).await?;
    let filter = current(&mut change, owner, id).await?;
    let settings = Settings::of(&filter).apply(&changes, now)?;
    filters::update(&mut change.tx, &settings.fields(id, owner), now).await?;
    for keyword in &changes.keywords {
        let Some(keyword_id) = keyword.id else {
            if !keyword.destroy {
                add_keyword_in(domain, &mut change, id, keyword, now).await?;
            }
            continue;
        };
        let existing = filter
            .keywords
            .iter()
            .find(|k| k.id == keyword_id)
            .ok_or(DomainError::NotFound)?;
        if keyword.destroy {
            filters::delete_keyword(&mut change.tx, keyword_id, id).await?;
        } else {
            let text = match &keyword.keyword {
                Some(text) => checked_text(text, "Keyword", MAX_KEYWORD_CHARS)?,
                None => existing.keyword.clone(),
            };
            let whole_word = keyword.whole_word.unwrap_or(existing.whole_word);
            filters::update_keyword(&mut change.tx, keyword_id, id, &text, whole_word).await?;
        }
    }
    commit_within_limits(change, owner).await
}

/// Delete `owner`'s filter `id`, its keywords and statuses with it.
pub async fn delete(domain: &Domain, owner: i64, id: i64) -> Result<()> {
    let mut change = domain.begin().await?;
    if !filters::delete(&mut change.tx, owner, id).await? {
        return Err(DomainError::NotFound);
    }
    change.commit().await
}

/// Add a keyword to `owner`'s filter `filter_id`; its id.
pub async fn add_keyword(
    domain: &Domain,
    owner: i64,
    filter_id: i64,
    keyword: KeywordChange,
) -> Result<i64> {
    let now = now_millis();
    let mut change = begin(domain, owner).await?;
    current(&mut change, owner, filter_id).await?;
    let id = add_keyword_in(domain, &mut change, filter_id, &keyword, now).await?;
    commit_within_limits(change, owner).await?;
    Ok(id)
}

/// Change `owner`'s keyword `keyword_id` (in whichever filter it is).
pub async fn update_keyword(
    domain: &Domain,
    owner: i64,
    keyword_id: i64,
    keyword: KeywordChange,
) -> Result<()> {
    let filter_id = filters::filter_of_keyword(&domain.db, owner, keyword_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    update(
        domain,
        owner,
        filter_id,
        FilterChanges {
            keywords: vec![KeywordChange {
                id: Some(keyword_id),
                destroy: false,
                ..keyword
            }],
            ..FilterChanges::default()
        },
    )
    .await
}

/// Remove `owner`'s keyword `keyword_id`.
pub async fn delete_keyword(domain: &Domain, owner: i64, keyword_id: i64) -> Result<()> {
    let filter_id = filters::filter_of_keyword(&domain.db, owner, keyword_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    let mut change = begin(domain, owner).await?;
    filters::delete_keyword(&mut change.tx, keyword_id, filter_id).await?;
    change.commit().await
}

/// Have `owner`'s filter `filter_id` name status `status_id`, one that
/// `owner` may read; the FilterStatus's id.
pub async fn add_status(
    domain: &Domain,
    owner: i64,
    filter_id: i64,
    status_id: i64,
) -> Result<i64> {
    let readable = perch_db::statuses::find_readable(&domain.db, status_id, owner)
        .await?
        .is_some();
    if !readable {
        return Err(invalid("Status must exist"));
    }
    let now = now_millis();
    let mut change = begin(domain, owner).await?;
    current(&mut change, owner, filter_id).await?;
    let id = domain.next_id();
    if !filters::insert_status(&mut change.tx, id, filter_id, status_id, now).await? {
        return Err(invalid("Status has already been taken"));
    }
    commit_within_limits(change, owner).await?;
    Ok(id)
}

/// Remove `owner`'s filtered status `row_id` (a FilterStatus's id).
pub async fn delete_status(domain: &Domain, owner: i64, row_id: i64) -> Result<()> {
    let filter_id = filters::filter_of_status(&domain.db, owner, row_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    let mut change = begin(domain, owner).await?;
    filters::delete_status(&mut change.tx, row_id, filter_id).await?;
    change.commit().await
}

/// A v1 filter's parameters (`None`: unchanged).
#[derive(Clone, Debug, Default)]
pub struct V1Changes {
    pub phrase: Option<String>,
    pub context: Option<Vec<String>>,
    pub irreversible: Option<bool>,
    pub whole_word: Option<bool>,
    /// Seconds from now; `Some(None)`: never.
    pub expires_in: Option<Option<i64>>,
}

impl V1Changes {
    fn filter_changes(&self) -> FilterChanges {
        FilterChanges {
            title: self.phrase.clone(),
            context: self.context.clone(),
            action: self
                .irreversible
                .map(|hide| if hide { "hide" } else { "warn" }.to_owned()),
            expires_in: self.expires_in,
            keywords: Vec::new(),
        }
    }
}

/// `owner` makes a v1 filter: a filter titled with its phrase, whose one
/// keyword is the phrase. The keyword's id, which is the v1 filter's.
pub async fn create_v1(domain: &Domain, owner: i64, new: V1Changes) -> Result<i64> {
    if new.phrase.as_deref().is_none_or(|p| p.trim().is_empty()) {
        return Err(invalid("Phrase can't be blank"));
    }
    let mut changes = new.filter_changes();
    changes.keywords.push(KeywordChange {
        id: None,
        keyword: new.phrase.clone(),
        whole_word: new.whole_word,
        destroy: false,
    });
    let filter_id = create(domain, owner, changes).await?;
    let filter = filters::find(&domain.db, owner, filter_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    filter
        .keywords
        .first()
        .map(|k| k.id)
        .ok_or_else(|| DomainError::Internal("the filter's keyword was not kept".to_owned()))
}

/// Change `owner`'s v1 filter `keyword_id`. Its filter's settings change
/// only when the keyword is the filter's only one (Mastodon's rule: they
/// would change the other keywords' too).
pub async fn update_v1(
    domain: &Domain,
    owner: i64,
    keyword_id: i64,
    changes: V1Changes,
) -> Result<()> {
    let filter_id = filters::filter_of_keyword(&domain.db, owner, keyword_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    let now = now_millis();
    let mut change = begin(domain, owner).await?;
    let filter = current(&mut change, owner, filter_id).await?;
    let before = Settings::of(&filter);
    let after = Settings::of(&filter).apply(&changes.filter_changes(), now)?;
    let settings_change = after.title != before.title
        || after.contexts != before.contexts
        || after.action != before.action
        || after.expires_at != before.expires_at;
    if settings_change && filter.keywords.len() > 1 {
        return Err(invalid(
            "These parameters cannot be changed from this application because they apply \
             to more than one filter keyword",
        ));
    }
    filters::update(&mut change.tx, &after.fields(filter_id, owner), now).await?;
    let existing = filter
        .keywords
        .iter()
        .find(|k| k.id == keyword_id)
        .ok_or(DomainError::NotFound)?;
    let text = match &changes.phrase {
        Some(phrase) => checked_text(phrase, "Phrase", MAX_KEYWORD_CHARS)?,
        None => existing.keyword.clone(),
    };
    let whole_word = changes.whole_word.unwrap_or(existing.whole_word);
    filters::update_keyword(&mut change.tx, keyword_id, filter_id, &text, whole_word).await?;
    change.commit().await
}

/// Delete `owner`'s v1 filter `keyword_id`: the keyword, and its filter
/// when nothing else is left in it.
pub async fn delete_v1(domain: &Domain, owner: i64, keyword_id: i64) -> Result<()> {
    let filter_id = filters::filter_of_keyword(&domain.db, owner, keyword_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    let mut change = begin(domain, owner).await?;
    let filter = current(&mut change, owner, filter_id).await?;
    if filter.keywords.len() <= 1 && filter.statuses.is_empty() {
        filters::delete(&mut change.tx, owner, filter_id).await?;
    } else {
        filters::delete_keyword(&mut change.tx, keyword_id, filter_id).await?;
    }
    change.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked() {
        let blank = || Settings {
            title: String::new(),
            contexts: Contexts::default(),
            action: FilterAction::Warn,
            expires_at: None,
        };
        let changes = FilterChanges {
            title: Some("  Spoilers ".to_owned()),
            context: Some(vec!["home".to_owned(), "public".to_owned()]),
            action: Some("hide".to_owned()),
            expires_in: Some(Some(60)),
            keywords: Vec::new(),
        };
        let settings = blank().apply(&changes, 1_000).expect("valid");
        assert_eq!(settings.title, "Spoilers");
        assert_eq!(settings.contexts.to_stored(), "home,public");
        assert_eq!(settings.action, FilterAction::Hide);
        assert_eq!(settings.expires_at, Some(61_000));
        for bad in [
            FilterChanges {
                title: Some(" ".to_owned()),
                ..FilterChanges::default()
            },
            FilterChanges {
                context: Some(vec!["explore".to_owned()]),
                ..FilterChanges::default()
            },
            FilterChanges {
                context: Some(Vec::new()),
                ..FilterChanges::default()
            },
            FilterChanges {
                action: Some("drop".to_owned()),
                ..FilterChanges::default()
            },
            FilterChanges {
                expires_in: Some(Some(-1)),
                ..FilterChanges::default()
            },
            FilterChanges {
                title: Some("x".repeat(MAX_TITLE_CHARS + 1)),
                ..FilterChanges::default()
            },
        ] {
            assert!(
                matches!(blank().apply(&bad, 0), Err(DomainError::Invalid(_))),
                "{bad:?}"
            );
        }
        let cleared = FilterChanges {
            expires_in: Some(None),
            ..FilterChanges::default()
        };
        let mut expiring = blank();
        expiring.expires_at = Some(5);
        assert_eq!(expiring.apply(&cleared, 0).expect("valid").expires_at, None);
    }
}
