//! A reader's filters applied to rendered statuses, the same way for the
//! REST API and the streams: perch_core's rule decides what matches; here
//! the status's text is gathered from the entity, `filtered` is filled in
//! and a `hide` match is reported so that the caller leaves it out.

use perch_core::filter::{Candidate, Filter, FilterContext, hidden, matches, searchable_text};

use crate::entities::filter::{FilterResult, filter_result};
use crate::entities::status::Status;

/// Which of a reader's filters apply to what is rendered, and whether a
/// `hide` match leaves the status out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FilterScope {
    /// `None`: no context is the reader's (bookmarks, favourites, search,
    /// a status just posted); every filter marks, none hides, as
    /// Mastodon's API does.
    pub context: Option<FilterContext>,
    pub drop_hidden: bool,
}

impl FilterScope {
    pub const ANYWHERE: FilterScope = FilterScope {
        context: None,
        drop_hidden: false,
    };

    /// A timeline (or thread, or the notifications) of `context`: `hide`
    /// filters leave statuses out.
    pub fn timeline(context: FilterContext) -> FilterScope {
        FilterScope {
            context: Some(context),
            drop_hidden: true,
        }
    }

    /// One status asked for by id in `context`: marked, never left out.
    pub fn shown(context: FilterContext) -> FilterScope {
        FilterScope {
            context: Some(context),
            drop_hidden: false,
        }
    }
}

/// The text filters read of `status`: the reblogged status's for a reblog.
pub fn text_of(status: &Status) -> String {
    let proper = status.reblog.as_deref().unwrap_or(status);
    searchable_text(
        &proper.spoiler_text,
        &proper.content,
        proper
            .poll
            .iter()
            .flat_map(|poll| poll.options.iter().map(|o| o.title.as_str())),
        proper
            .media_attachments
            .iter()
            .filter_map(|m| m.description.as_deref()),
    )
}

/// What `filters` make of the status `id` (a reblog of `reblog_of`) whose
/// text is `text`: the results for `filtered`, and whether it is hidden.
pub fn results(
    filters: &[Filter],
    context: Option<FilterContext>,
    now: i64,
    id: i64,
    reblog_of: Option<i64>,
    text: &str,
) -> (Vec<FilterResult>, bool) {
    let found = matches(
        filters,
        context,
        now,
        Candidate {
            id,
            reblog_of,
            text,
        },
    );
    (found.iter().map(filter_result).collect(), hidden(&found))
}

/// Apply `filters` to `status` (the row `id`, a reblog of `reblog_of`) in
/// `scope`: `false` when it is to be left out, otherwise `filtered` is set
/// on it and on the status it reblogs.
pub fn apply(
    filters: &[Filter],
    scope: FilterScope,
    now: i64,
    id: i64,
    reblog_of: Option<i64>,
    status: &mut Status,
) -> bool {
    if filters.is_empty() {
        return true;
    }
    let text = text_of(status);
    let (found, is_hidden) = results(filters, scope.context, now, id, reblog_of, &text);
    if is_hidden && scope.drop_hidden {
        return false;
    }
    if let Some(original) = status.reblog.as_deref_mut() {
        original.filtered.clone_from(&found);
    }
    status.filtered = found;
    true
}
