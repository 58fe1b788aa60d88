//! Mastodon's filter entities: Filter (v2) with its FilterKeyword and
//! FilterStatus, the FilterResult a status carries in `filtered`, and the
//! V1::Filter of the older API (one keyword of a filter).

use perch_core::filter::{Filter as CoreFilter, FilterMatch, FilterStatus as CoreStatus, Keyword};
use serde::Serialize;

use super::iso8601_millis;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Filter {
    pub id: String,
    pub title: String,
    pub context: Vec<&'static str>,
    pub expires_at: Option<String>,
    /// `warn`, `hide` or `blur`.
    pub filter_action: &'static str,
    pub keywords: Vec<FilterKeyword>,
    pub statuses: Vec<FilterStatus>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FilterKeyword {
    pub id: String,
    pub keyword: String,
    pub whole_word: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FilterStatus {
    pub id: String,
    pub status_id: String,
}

/// A filter that matched a status: `null` for the kinds of match that
/// did not happen, as Mastodon renders it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FilterResult {
    pub filter: Filter,
    pub keyword_matches: Option<Vec<String>>,
    pub status_matches: Option<Vec<String>>,
}

/// The older API's filter: one keyword, with its filter's settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct V1Filter {
    pub id: String,
    pub phrase: String,
    pub context: Vec<&'static str>,
    pub whole_word: bool,
    pub expires_at: Option<String>,
    pub irreversible: bool,
}

pub fn filter_keyword(keyword: &Keyword) -> FilterKeyword {
    FilterKeyword {
        id: keyword.id.to_string(),
        keyword: keyword.keyword.clone(),
        whole_word: keyword.whole_word,
    }
}

pub fn filter_status(status: &CoreStatus) -> FilterStatus {
    FilterStatus {
        id: status.id.to_string(),
        status_id: status.status_id.to_string(),
    }
}

pub fn filter_entity(filter: &CoreFilter) -> Filter {
    Filter {
        id: filter.id.to_string(),
        title: filter.title.clone(),
        context: filter.contexts.iter().map(|c| c.as_str()).collect(),
        expires_at: filter.expires_at.map(iso8601_millis),
        filter_action: filter.action.as_str(),
        keywords: filter.keywords.iter().map(filter_keyword).collect(),
        statuses: filter.statuses.iter().map(filter_status).collect(),
    }
}

pub fn filter_result(found: &FilterMatch<'_>) -> FilterResult {
    let strings = |list: Vec<String>| (!list.is_empty()).then_some(list);
    FilterResult {
        filter: filter_entity(found.filter),
        keyword_matches: strings(
            found
                .keyword_matches
                .iter()
                .map(|k| (*k).to_owned())
                .collect(),
        ),
        status_matches: strings(
            found
                .status_matches
                .iter()
                .map(ToString::to_string)
                .collect(),
        ),
    }
}

/// The v1 filters of `filter`: one per keyword.
pub fn v1_filters(filter: &CoreFilter) -> Vec<V1Filter> {
    filter
        .keywords
        .iter()
        .map(|keyword| V1Filter {
            id: keyword.id.to_string(),
            phrase: keyword.keyword.clone(),
            context: filter.contexts.iter().map(|c| c.as_str()).collect(),
            whole_word: keyword.whole_word,
            expires_at: filter.expires_at.map(iso8601_millis),
            irreversible: filter.action == perch_core::filter::FilterAction::Hide,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entities::tests::{key_paths, paths};
    use perch_core::filter::{Candidate, Contexts, FilterAction, FilterContext, matches};

    fn sample() -> CoreFilter {
        CoreFilter {
            id: 7,
            title: "Spoilers".to_owned(),
            contexts: Contexts::parse(["public", "home"]).expect("valid"),
            action: FilterAction::Hide,
            expires_at: Some(1_795_462_765_000),
            keywords: vec![Keyword::new(8, "finale".to_owned(), true)],
            statuses: vec![CoreStatus {
                id: 9,
                status_id: 10,
            }],
        }
    }

    #[test]
    fn a_filter_has_mastodons_fields() {
        let value = serde_json::to_value(filter_entity(&sample())).expect("json");
        assert_eq!(
            key_paths(&value),
            paths("id title context expires_at filter_action keywords statuses")
        );
        assert_eq!(value["id"], "7");
        assert_eq!(value["context"], serde_json::json!(["home", "public"]));
        assert_eq!(value["expires_at"], "2026-11-23T19:39:25.000Z");
        assert_eq!(value["filter_action"], "hide");
        assert_eq!(
            value["keywords"],
            serde_json::json!([{"id": "8", "keyword": "finale", "whole_word": true}])
        );
        assert_eq!(
            value["statuses"],
            serde_json::json!([{"id": "9", "status_id": "10"}])
        );
    }

    #[test]
    fn a_result_says_how_it_matched() {
        let filters = vec![sample()];
        let found = matches(
            &filters,
            Some(FilterContext::Home),
            0,
            Candidate {
                id: 11,
                reblog_of: Some(10),
                text: "",
            },
        );
        let value = serde_json::to_value(filter_result(&found[0])).expect("json");
        assert_eq!(value["keyword_matches"], serde_json::Value::Null);
        assert_eq!(value["status_matches"], serde_json::json!(["9"]));
        assert_eq!(value["filter"]["id"], "7");
    }

    #[test]
    fn a_v1_filter_is_a_keyword_with_its_filters_settings() {
        let v1 = v1_filters(&sample());
        let value = serde_json::to_value(&v1[0]).expect("json");
        assert_eq!(
            key_paths(&value),
            paths("id phrase context whole_word expires_at irreversible")
        );
        assert_eq!(value["id"], "8");
        assert_eq!(value["phrase"], "finale");
        assert_eq!(value["irreversible"], true);
    }
}
