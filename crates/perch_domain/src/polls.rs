//! Polls: votes (a local account's through the client API, a remote one's
//! received as a vote Note) in local and remote polls, the totals a remote
//! poll's server sends, and the end of polls whose time is up.
//!
//! A vote in a local poll goes out as an Update of its Question with the
//! new totals, to the status's audience and the poll's remote voters; a
//! local account's vote in a remote poll goes to the poll's author as one
//! vote Note per chosen option. A poll's end notifies its (local) author
//! and its local voters, once, whichever process sees it first.

use perch_core::outbound::{Outbound, PollNote, VoteNote};
use perch_core::time::{UnixMillis, now_millis};
use perch_db::accounts::{self, AccountRow};
use perch_db::live::LiveEvent;
use perch_db::polls::{self, NewVote, OptionRow, PollRow, RemoteTotals};
use perch_db::statuses::{self, StatusRow};
use perch_db::{Db, Tx, blocks};

use crate::describe::{actor_ref, load_status_note};
use crate::error::{DomainError, Result};
use crate::{Domain, Received};

/// A poll to post with its status ([`crate::statuses::NewPost`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostPoll {
    /// Titles and the votes counted already (a remote poll's), in order.
    pub options: Vec<(String, i64)>,
    pub multiple: bool,
    pub hide_totals: bool,
    pub expires_at: Option<UnixMillis>,
    pub voters_count: i64,
}

impl PostPoll {
    /// A local author's checked poll, with no votes yet.
    pub fn local(checked: perch_core::poll::CheckedPoll) -> Self {
        PostPoll {
            options: checked.options.into_iter().map(|t| (t, 0)).collect(),
            multiple: checked.multiple,
            hide_totals: checked.hide_totals,
            expires_at: Some(checked.expires_at),
            voters_count: 0,
        }
    }

    /// How the Question of a new local status describes it.
    pub(crate) fn note(&self, now: UnixMillis) -> PollNote {
        PollNote {
            options: self.options.clone(),
            multiple: self.multiple,
            expires_at: self.expires_at,
            closed_at: self.expires_at.filter(|at| *at <= now),
            voters_count: self.voters_count,
        }
    }
}

/// A stored poll as its Question describes it.
pub fn poll_note(poll: &PollRow, options: &[OptionRow], now: UnixMillis) -> PollNote {
    PollNote {
        options: options
            .iter()
            .map(|o| (o.title.clone(), o.votes_count))
            .collect(),
        multiple: poll.multiple,
        expires_at: poll.expires_at,
        closed_at: poll.closed_at.or(poll.expires_at.filter(|at| *at <= now)),
        voters_count: poll.voters_count,
    }
}

/// The poll of a status, described, if it has one.
pub async fn load_poll_note(db: &Db, status_id: i64) -> Result<Option<PollNote>, perch_db::Error> {
    let Some(poll) = polls::for_status(db, status_id).await? else {
        return Ok(None);
    };
    let options = polls::options_of(db, &[poll.id]).await?;
    Ok(Some(poll_note(&poll, &options, now_millis())))
}

/// A vote received from another server: the vote Note's id and the
/// activity that brought it.
#[derive(Clone, Copy, Debug)]
pub struct RemoteVote<'a> {
    pub uri: &'a str,
    pub received: &'a Received,
}

const ALREADY_VOTED: &str = "Validation failed: You have already voted on this poll";
const ENDED: &str = "Validation failed: The poll has already ended";

/// `voter` chooses the options `choices` (indexes) of `status`'s `poll`.
/// Refused as Mastodon refuses it: a poll the voter may not see (or whose
/// author blocks or is blocked by the voter) is not found; one's own poll,
/// an ended poll, an option that does not exist, several options in a
/// single-choice poll and an option chosen already are invalid. False for
/// a redelivered vote.
pub async fn vote(
    domain: &Domain,
    status: &StatusRow,
    poll: &PollRow,
    voter: &AccountRow,
    choices: &[i64],
    remote: Option<RemoteVote<'_>>,
) -> Result<bool> {
    let now = now_millis();
    if poll.status_id != status.id
        || statuses::find_readable(&domain.db, status.id, voter.id)
            .await?
            .is_none()
        || blocks::blocked_either_way(&domain.db, voter.id, status.account_id).await?
    {
        return Err(DomainError::NotFound);
    }
    if status.account_id == voter.id {
        return Err(DomainError::invalid(
            "Validation failed: You cannot vote in your own polls",
        ));
    }
    if poll.expired(now) {
        return Err(DomainError::invalid(ENDED));
    }
    let options = polls::options_of(&domain.db, &[poll.id]).await?;
    let mut chosen: Vec<i32> = Vec::with_capacity(choices.len());
    for choice in choices {
        match i32::try_from(*choice) {
            Ok(index) if index >= 0 && (index as usize) < options.len() => {
                if !chosen.contains(&index) {
                    chosen.push(index);
                }
            }
            _ => {
                return Err(DomainError::invalid(
                    "Validation failed: The chosen vote option does not exist",
                ));
            }
        }
    }
    if chosen.is_empty() {
        return Err(DomainError::invalid(
            "Validation failed: Choices can't be blank",
        ));
    }
    if !poll.multiple && chosen.len() > 1 {
        return Err(DomainError::invalid(
            "Validation failed: This poll allows only one choice",
        ));
    }
    let before = polls::choices_among(&domain.db, voter.id, &[poll.id]).await?;
    if (!poll.multiple && !before.is_empty()) || before.iter().any(|(_, c)| chosen.contains(c)) {
        return Err(DomainError::invalid(ALREADY_VOTED));
    }
    let Some(author) =
        accounts::find_by_id(&domain.db, perch_core::id::Id::from_i64(status.account_id)).await?
    else {
        return Err(DomainError::NotFound);
    };
    // What goes out: for a local poll, the Question with its new totals;
    // for a local account's vote in a remote poll, its vote Notes.
    let update = if status.local {
        let note = load_status_note(&domain.db, &domain.layout, &domain.local_domain, status)
            .await?
            .ok_or(DomainError::NotFound)?;
        let mut voters = remote_voters(&domain.db, poll.id).await?;
        if voter.domain.is_some() && !voters.iter().any(|v| v.account_id == voter.id) {
            voters.push(actor_ref(voter));
        }
        Some((note, voters))
    } else {
        None
    };
    let votes: Vec<NewVote> = chosen
        .iter()
        .map(|choice| {
            let id = domain.next_id();
            let uri = match remote {
                Some(remote) => Some(remote.uri.to_owned()),
                None if !status.local => Some(domain.layout.vote_uri(&voter.username, id)),
                None => None,
            };
            NewVote {
                id,
                choice: *choice,
                uri,
            }
        })
        .collect();
    let mut change = domain.begin().await?;
    if !change.first_time(remote.map(|r| r.received)).await? {
        return Ok(false);
    }
    let refusal = match polls::vote(&mut change.tx, poll.id, voter.id, &votes, now).await? {
        polls::Vote::Counted => None,
        // The same vote, concurrently.
        polls::Vote::ChosenBefore => Some(ALREADY_VOTED),
        // Ended meanwhile.
        polls::Vote::Closed => Some(ENDED),
    };
    if let Some(refusal) = refusal {
        drop(change);
        return match remote {
            Some(_) => Ok(false),
            None => Err(DomainError::invalid(refusal)),
        };
    }
    if let Some((mut note, voters)) = update {
        note.poll = read_note(&mut change.tx, poll.id, now).await?;
        change
            .publish(Outbound::UpdatePoll {
                note: Box::new(note),
                voters,
            })
            .await?;
    } else if voter.domain.is_none() {
        for vote in &votes {
            let Some(option) = options.get(vote.choice as usize) else {
                continue;
            };
            change
                .publish(Outbound::Vote(Box::new(VoteNote {
                    uri: vote.uri.clone().unwrap_or_default(),
                    voter: actor_ref(voter),
                    poll_uri: status.uri.clone(),
                    poll_author: actor_ref(&author),
                    choice: option.title.clone(),
                    published: now,
                })))
                .await?;
        }
    }
    change.commit().await?;
    Ok(true)
}

/// The poll as `tx` sees it, described.
async fn read_note(tx: &mut Tx, poll_id: i64, now: UnixMillis) -> Result<Option<PollNote>> {
    Ok(polls::read_in(tx, poll_id)
        .await?
        .map(|(poll, options)| poll_note(&poll, &options, now)))
}

/// The remote accounts that voted in a poll.
async fn remote_voters(
    db: &Db,
    poll_id: i64,
) -> Result<Vec<perch_core::outbound::ActorRef>, perch_db::Error> {
    let ids = polls::voters(db, poll_id).await?;
    Ok(accounts::find_many(db, &ids)
        .await?
        .iter()
        .filter(|a| a.domain.is_some())
        .map(actor_ref)
        .collect())
}

/// A remote poll's totals as its server sent them, in an Update of its
/// Question (the caller checked that the status is the actor's).
pub async fn update_remote_totals(
    domain: &Domain,
    status: &StatusRow,
    poll: &PollRow,
    totals: &RemoteTotals,
    received: Option<&Received>,
) -> Result<()> {
    if status.local || poll.status_id != status.id {
        return Err(DomainError::NotFound);
    }
    let now = now_millis();
    // Only the options stored count, in their places.
    let stored = polls::options_of(&domain.db, &[poll.id]).await?.len();
    let mut totals = totals.clone();
    totals.options.truncate(stored);
    let mut change = domain.begin().await?;
    if !change.first_time(received).await? {
        return Ok(());
    }
    polls::set_remote_totals(&mut change.tx, poll.id, &totals, now).await?;
    change.live([LiveEvent::StatusUpdated {
        id: status.id,
        author: status.account_id,
    }]);
    change.commit().await
}

/// Polls ended in one pass at most, per batch.
const CLOSE_BATCH: i64 = 100;
/// Batches one pass runs at most; the rest waits for the next pass.
const MAX_CLOSE_BATCHES: usize = 50;

/// End the polls whose time is up at `due` (housekeeping passes the
/// present): each is marked closed as of now, its local author and local
/// voters are notified (`poll`), and a local poll's final totals go out as
/// an Update of its Question. Returns how many ended.
pub async fn close_expired(domain: &Domain, due: UnixMillis) -> Result<u64> {
    let mut closed = 0;
    for _ in 0..MAX_CLOSE_BATCHES {
        let batch = polls::due_to_close(&domain.db, due, CLOSE_BATCH).await?;
        let last_batch = (batch.len() as i64) < CLOSE_BATCH;
        for poll in batch {
            if close(domain, &poll).await? {
                closed += 1;
            }
        }
        if last_batch {
            break;
        }
    }
    Ok(closed)
}

async fn close(domain: &Domain, poll: &PollRow) -> Result<bool> {
    let now = now_millis();
    let Some(status) = statuses::find_by_id(&domain.db, poll.status_id).await? else {
        return Ok(false);
    };
    let voters = polls::voters(&domain.db, poll.id).await?;
    let update = if status.local {
        match load_status_note(&domain.db, &domain.layout, &domain.local_domain, &status).await? {
            Some(note) => Some((note, remote_voters(&domain.db, poll.id).await?)),
            None => None,
        }
    } else {
        None
    };
    let mut change = domain.begin().await?;
    if !polls::close(&mut change.tx, poll.id, now).await? {
        return Ok(false);
    }
    let author = status.account_id;
    // The author hears of the end of their own poll (remote authors are
    // skipped by the store), then each local voter.
    change
        .notify(author, author, "poll", Some(status.id), now)
        .await?;
    for voter in voters {
        change
            .notify(voter, author, "poll", Some(status.id), now)
            .await?;
    }
    if let Some((mut note, voters)) = update {
        note.poll = read_note(&mut change.tx, poll.id, now).await?;
        change
            .publish(Outbound::UpdatePoll {
                note: Box::new(note),
                voters,
            })
            .await?;
    }
    change.commit().await?;
    Ok(true)
}
