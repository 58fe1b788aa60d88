//! Mastodon's List entity.

use perch_db::lists::ListRow;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct List {
    pub id: String,
    pub title: String,
    /// `followed`, `list` or `none`.
    pub replies_policy: String,
    pub exclusive: bool,
}

pub fn list_from_row(row: &ListRow) -> List {
    List {
        id: row.id.to_string(),
        title: row.title.clone(),
        replies_policy: row.replies_policy.clone(),
        exclusive: row.exclusive,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_has_mastodons_fields() {
        let row = ListRow {
            id: 42,
            account_id: 7,
            title: "Friends".to_owned(),
            replies_policy: "followed".to_owned(),
            exclusive: true,
            created_at: 0,
        };
        assert_eq!(
            serde_json::to_value(list_from_row(&row)).expect("json"),
            serde_json::json!({
                "id": "42",
                "title": "Friends",
                "replies_policy": "followed",
                "exclusive": true,
            })
        );
    }
}
