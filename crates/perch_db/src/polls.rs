//! Polls: the options of a status's poll, the votes cast in it (by local
//! and remote accounts), and the totals kept in step with them.
//!
//! A local poll's totals are counted here from its votes. A remote poll's
//! are its server's: [`set_remote_totals`] replaces them with each Update of
//! its Question, and local votes are added in between, as Mastodon does.

use perch_core::time::UnixMillis;

use crate::{Db, Result, Tx};

/// A row of `polls`.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PollRow {
    pub id: i64,
    pub status_id: i64,
    pub multiple: bool,
    pub hide_totals: bool,
    /// `None`: a remote poll that names no end.
    pub expires_at: Option<i64>,
    /// When its end was handled (voters notified, final totals sent).
    pub closed_at: Option<i64>,
    pub votes_count: i64,
    pub voters_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl PollRow {
    /// Whether no vote counts any more at `now`: its time is up, or its
    /// server said it was closed.
    pub fn expired(&self, now: UnixMillis) -> bool {
        self.closed_at.is_some() || self.expires_at.is_some_and(|at| at <= now)
    }
}

/// One option of a poll, in its place.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct OptionRow {
    pub poll_id: i64,
    pub position: i32,
    pub title: String,
    pub votes_count: i64,
}

/// A poll to store with its status.
#[derive(Clone, Debug)]
pub struct NewPoll {
    pub id: i64,
    pub status_id: i64,
    pub multiple: bool,
    pub hide_totals: bool,
    pub expires_at: Option<UnixMillis>,
    /// Titles and (for a remote poll) the votes its server counted.
    pub options: Vec<(String, i64)>,
    pub voters_count: i64,
    pub created_at: UnixMillis,
}

macro_rules! poll_columns {
    () => {
        "p.id, p.status_id, p.multiple, p.hide_totals, p.expires_at, p.closed_at, \
         p.votes_count, p.voters_count, p.created_at, p.updated_at"
    };
}

/// Store a poll and its options.
pub async fn insert(tx: &mut Tx, poll: &NewPoll) -> Result<()> {
    let votes = poll
        .options
        .iter()
        .fold(0i64, |sum, (_, n)| sum.saturating_add((*n).max(0)));
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO polls (id, status_id, multiple, hide_totals, expires_at, closed_at, \
             votes_count, voters_count, remote_updated_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, NULL, $6, $7, NULL, $8, $8)",
        )
        .bind(poll.id)
        .bind(poll.status_id)
        .bind(poll.multiple)
        .bind(poll.hide_totals)
        .bind(poll.expires_at)
        .bind(votes)
        .bind(poll.voters_count.max(0))
        .bind(poll.created_at)
        .execute(&mut *conn)
        .await?;
        for (position, (title, count)) in poll.options.iter().enumerate() {
            sqlx::query(
                "INSERT INTO poll_options (poll_id, position, title, votes_count) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(poll.id)
            .bind(i32::try_from(position).unwrap_or(i32::MAX))
            .bind(title)
            .bind((*count).max(0))
            .execute(&mut *conn)
            .await?;
        }
    });
    Ok(())
}

pub async fn find(db: &Db, id: i64) -> Result<Option<PollRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!("SELECT ", poll_columns!(), " FROM polls p WHERE p.id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
    }))
}

pub async fn for_status(db: &Db, status_id: i64) -> Result<Option<PollRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", poll_columns!(), " FROM polls p WHERE p.status_id = $1"
        ))
        .bind(status_id)
        .fetch_optional(pool)
        .await?
    }))
}

/// The polls of several statuses, in no particular order.
pub async fn for_statuses(db: &Db, status_ids: &[i64]) -> Result<Vec<PollRow>> {
    if status_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(fetch_by_ids!(
        db,
        status_ids,
        query_as,
        concat!(
            "SELECT ",
            poll_columns!(),
            " FROM polls p WHERE p.status_id"
        ),
        ""
    ))
}

/// The options of several polls, by poll and place.
pub async fn options_of(db: &Db, poll_ids: &[i64]) -> Result<Vec<OptionRow>> {
    if poll_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(fetch_by_ids!(
        db,
        poll_ids,
        query_as,
        "SELECT poll_id, position, title, votes_count FROM poll_options WHERE poll_id",
        " ORDER BY poll_id, position"
    ))
}

/// The options `account_id` chose in several polls, as `(poll id, choice)`.
pub async fn choices_among(db: &Db, account_id: i64, poll_ids: &[i64]) -> Result<Vec<(i64, i32)>> {
    if poll_ids.is_empty() || account_id == 0 {
        return Ok(Vec::new());
    }
    Ok(fetch_by_ids!(
        db,
        poll_ids,
        query_as,
        "SELECT poll_id, choice FROM poll_votes WHERE poll_id",
        " AND account_id = $2 ORDER BY poll_id, choice",
        account_id
    ))
}

/// One chosen option to record.
#[derive(Clone, Debug)]
pub struct NewVote {
    pub id: i64,
    pub choice: i32,
    /// The vote Note's id.
    pub uri: Option<String>,
}

/// What [`vote`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vote {
    Counted,
    /// The account chose one of these options already.
    ChosenBefore,
    /// The poll was closed meanwhile.
    Closed,
}

/// Record `account_id`'s `votes` in a poll and count them: each option's
/// total, the poll's votes, and its voters when these are the account's
/// first. Anything but [`Vote::Counted`] leaves part of the votes written:
/// the caller rolls back.
pub async fn vote(
    tx: &mut Tx,
    poll_id: i64,
    account_id: i64,
    votes: &[NewVote],
    now: UnixMillis,
) -> Result<Vote> {
    let voted_before: bool = on_tx!(tx, conn => {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM poll_votes WHERE poll_id = $1 AND account_id = $2)",
        )
        .bind(poll_id)
        .bind(account_id)
        .fetch_one(&mut *conn)
        .await?
    });
    for vote in votes {
        let inserted = on_tx!(tx, conn => {
            sqlx::query(
                "INSERT INTO poll_votes (id, poll_id, account_id, choice, uri, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            )
            .bind(vote.id)
            .bind(poll_id)
            .bind(account_id)
            .bind(vote.choice)
            .bind(&vote.uri)
            .bind(now)
            .execute(&mut *conn)
            .await?
            .rows_affected()
        });
        if inserted == 0 {
            return Ok(Vote::ChosenBefore);
        }
        on_tx!(tx, conn => {
            sqlx::query(
                "UPDATE poll_options SET votes_count = votes_count + 1 \
                 WHERE poll_id = $1 AND position = $2",
            )
            .bind(poll_id)
            .bind(vote.choice)
            .execute(&mut *conn)
            .await?;
        });
    }
    let count = i64::try_from(votes.len()).unwrap_or(i64::MAX);
    let updated = on_tx!(tx, conn => {
        sqlx::query(
            "UPDATE polls SET votes_count = votes_count + $1, \
             voters_count = voters_count + $2, updated_at = $3 \
             WHERE id = $4 AND closed_at IS NULL",
        )
        .bind(count)
        .bind(i64::from(!voted_before))
        .bind(now)
        .bind(poll_id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(if updated == 1 {
        Vote::Counted
    } else {
        Vote::Closed
    })
}

/// A remote poll's totals as its server last said them.
#[derive(Clone, Debug)]
pub struct RemoteTotals {
    /// Each option's votes, in place order; options beyond the stored
    /// ones are ignored.
    pub options: Vec<i64>,
    pub voters_count: Option<i64>,
    /// Its end as its server now says it (the time it was closed, for a
    /// poll closed early); `None` keeps the stored one.
    pub expires_at: Option<UnixMillis>,
}

/// Replace a remote poll's totals (and its end) with its server's. Its
/// closing here is left to [`due_to_close`]'s caller, which notifies the
/// local voters.
pub async fn set_remote_totals(
    tx: &mut Tx,
    poll_id: i64,
    totals: &RemoteTotals,
    now: UnixMillis,
) -> Result<()> {
    let votes = totals
        .options
        .iter()
        .fold(0i64, |sum, n| sum.saturating_add((*n).max(0)));
    on_tx!(tx, conn => {
        for (position, count) in totals.options.iter().enumerate() {
            sqlx::query(
                "UPDATE poll_options SET votes_count = $1 WHERE poll_id = $2 AND position = $3",
            )
            .bind((*count).max(0))
            .bind(poll_id)
            .bind(i32::try_from(position).unwrap_or(i32::MAX))
            .execute(&mut *conn)
            .await?;
        }
        sqlx::query(
            "UPDATE polls SET votes_count = $1, \
             voters_count = COALESCE($2, voters_count), \
             expires_at = COALESCE($3, expires_at), \
             remote_updated_at = $4, updated_at = $4 WHERE id = $5",
        )
        .bind(votes)
        .bind(totals.voters_count.map(|n| n.max(0)))
        .bind(totals.expires_at)
        .bind(now)
        .bind(poll_id)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// Open polls whose time is up at `now`, oldest end first, at most `limit`.
pub async fn due_to_close(db: &Db, now: UnixMillis, limit: i64) -> Result<Vec<PollRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", poll_columns!(), " FROM polls p \
             WHERE p.closed_at IS NULL AND p.expires_at IS NOT NULL AND p.expires_at <= $1 \
             ORDER BY p.expires_at LIMIT $2"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(pool)
        .await?
    }))
}

/// Mark a poll closed as of `now`. False when it was closed already (by
/// another process, or by its server): the caller then does nothing.
pub async fn close(tx: &mut Tx, poll_id: i64, now: UnixMillis) -> Result<bool> {
    let closed = on_tx!(tx, conn => {
        sqlx::query(
            "UPDATE polls SET closed_at = $1, updated_at = $1 \
             WHERE id = $2 AND closed_at IS NULL",
        )
        .bind(now)
        .bind(poll_id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(closed == 1)
}

/// The accounts (local and remote) that voted in a poll.
pub async fn voters(db: &Db, poll_id: i64) -> Result<Vec<i64>> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT DISTINCT account_id FROM poll_votes WHERE poll_id = $1 ORDER BY account_id",
        )
        .bind(poll_id)
        .fetch_all(pool)
        .await?
    }))
}

/// A poll and its options as `tx` sees them (after its own votes).
pub async fn read_in(tx: &mut Tx, poll_id: i64) -> Result<Option<(PollRow, Vec<OptionRow>)>> {
    let poll: Option<PollRow> = on_tx!(tx, conn => {
        sqlx::query_as(concat!("SELECT ", poll_columns!(), " FROM polls p WHERE p.id = $1"))
            .bind(poll_id)
            .fetch_optional(&mut *conn)
            .await?
    });
    let Some(poll) = poll else {
        return Ok(None);
    };
    let options: Vec<OptionRow> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT poll_id, position, title, votes_count FROM poll_options \
             WHERE poll_id = $1 ORDER BY position",
        )
        .bind(poll_id)
        .fetch_all(&mut *conn)
        .await?
    });
    Ok(Some((poll, options)))
}
