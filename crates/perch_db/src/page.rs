//! Keyset pagination as Mastodon clients drive it: `max_id` (older than),
//! `since_id` (newer than, newest first), `min_id` (newer than, oldest
//! first, for catching up), and a limit. Ids are time-sortable, so a page is
//! an index range scan, never an `OFFSET`.

/// One page request.
#[derive(Clone, Debug)]
pub struct Page {
    pub max_id: Option<i64>,
    pub since_id: Option<i64>,
    pub min_id: Option<i64>,
    pub limit: i64,
}

impl Page {
    /// The newest `limit` items.
    pub fn newest(limit: i64) -> Page {
        Page {
            max_id: None,
            since_id: None,
            min_id: None,
            limit,
        }
    }

    /// Exclusive lower bound.
    pub(crate) fn lower(&self) -> i64 {
        self.min_id.or(self.since_id).unwrap_or(i64::MIN)
    }

    /// Exclusive upper bound.
    pub(crate) fn upper(&self) -> i64 {
        self.max_id.unwrap_or(i64::MAX)
    }

    /// With `min_id` the rows just above it are wanted, so the query runs
    /// oldest first and the page is reversed afterwards.
    pub(crate) fn ascending(&self) -> bool {
        self.min_id.is_some()
    }

    /// Put rows fetched for this page newest first.
    pub(crate) fn finish<T>(&self, mut rows: Vec<T>) -> Vec<T> {
        if self.ascending() {
            rows.reverse();
        }
        rows
    }
}
