//! Reports: a local user's report of an account (with statuses, a comment,
//! a category and the rules broken), forwarded as a Flag to a remote
//! account's server when the user asks; and a remote server's Flag of a
//! local account, which becomes a report here.

use perch_core::outbound::{FlagNote, Outbound};
use perch_core::role::permission;
use perch_core::time::now_millis;
use perch_db::accounts::AccountRow;
use perch_db::reports::{self, NewReport, ReportRow};
use perch_db::statuses::StatusRow;

use crate::describe::actor_ref;
use crate::error::{DomainError, Result};
use crate::{Domain, Received};

/// Longest comment a local user may write (Mastodon's limit).
pub const MAX_COMMENT_CHARS: usize = 1000;
/// Longest comment kept from a remote Flag; the rest is cut.
pub const MAX_REMOTE_COMMENT_CHARS: usize = 5000;
/// Most statuses one report points at.
pub const MAX_STATUSES: usize = 100;
/// Mastodon's report categories.
pub const CATEGORIES: [&str; 4] = ["spam", "legal", "violation", "other"];

/// What a report says.
#[derive(Clone, Debug)]
pub struct Report<'a> {
    pub target: &'a AccountRow,
    /// Statuses of `target` (the caller found them readable by the reporter).
    pub statuses: &'a [StatusRow],
    pub comment: &'a str,
    /// One of [`CATEGORIES`]; absent: `violation` when rules are cited,
    /// `other` otherwise.
    pub category: Option<&'a str>,
    pub rule_ids: &'a [i64],
    /// Send a Flag to the reported account's server.
    pub forward: bool,
}

/// `reporter` reports. A remote server's Flag is `received` (its sender is
/// the reporter); a local user's report is checked as Mastodon checks it.
pub async fn report(
    domain: &Domain,
    reporter: &AccountRow,
    report: &Report<'_>,
    received: Option<&Received>,
) -> Result<Option<ReportRow>> {
    let target = report.target;
    if reporter.id == target.id {
        return Err(DomainError::invalid(
            "Validation failed: you cannot report yourself",
        ));
    }
    let local_reporter = reporter.domain.is_none();
    let comment = if local_reporter {
        if report.comment.chars().count() > MAX_COMMENT_CHARS {
            return Err(DomainError::invalid(format!(
                "Validation failed: Comment is too long (maximum is {MAX_COMMENT_CHARS} characters)"
            )));
        }
        report.comment.to_owned()
    } else {
        report
            .comment
            .chars()
            .take(MAX_REMOTE_COMMENT_CHARS)
            .collect()
    };
    if report.statuses.len() > MAX_STATUSES {
        return Err(DomainError::invalid(format!(
            "Validation failed: at most {MAX_STATUSES} statuses may be reported at once"
        )));
    }
    if report.statuses.iter().any(|s| s.account_id != target.id) {
        return Err(DomainError::NotFound);
    }
    let category = match report.category {
        Some(category) if CATEGORIES.contains(&category) => category,
        Some(_) => {
            return Err(DomainError::invalid(
                "Validation failed: Category is not included in the list",
            ));
        }
        None if !report.rule_ids.is_empty() => "violation",
        None => "other",
    };
    let rule_ids: Vec<i64> = if category == "violation" {
        let known = reports::rules(&domain.db).await?;
        if let Some(unknown) = report
            .rule_ids
            .iter()
            .find(|id| !known.iter().any(|r| r.id == **id))
        {
            return Err(DomainError::invalid(format!(
                "Validation failed: no rule {unknown}"
            )));
        }
        report.rule_ids.to_vec()
    } else {
        Vec::new()
    };
    let forward = local_reporter && report.forward && target.domain.is_some();
    let instance_actor = if forward {
        perch_db::actors::find_instance_actor(&domain.db).await?
    } else {
        None
    };

    let id = domain.next_id();
    let uri = match received {
        Some(received) => received.activity_id.clone(),
        None => domain.layout.activity_uri(domain.next_id()),
    };
    let status_ids: Vec<i64> = report.statuses.iter().map(|s| s.id).collect();
    let mut change = domain.begin().await?;
    if !change.first_time(received).await? {
        return Ok(None);
    }
    let new = NewReport {
        id,
        account_id: reporter.id,
        target_account_id: target.id,
        uri: Some(&uri),
        comment: &comment,
        category,
        forwarded: instance_actor.is_some(),
        status_ids: &status_ids,
        rule_ids: &rule_ids,
        created_at: now_millis(),
    };
    if !reports::insert(&mut change.tx, &new).await? {
        change.commit().await?;
        return Ok(None);
    }
    // Mastodon tells those who handle reports, but not the reported one.
    change
        .notify_staff(
            permission::MANAGE_REPORTS,
            reporter.id,
            Some(target.id),
            "admin.report",
            Some(id),
            new.created_at,
        )
        .await?;
    if let Some(actor) = &instance_actor {
        change
            .publish(Outbound::Flag(Box::new(FlagNote {
                uri: uri.clone(),
                actor: actor_ref(actor),
                target: actor_ref(target),
                statuses: report.statuses.iter().map(|s| s.uri.clone()).collect(),
                content: comment.clone(),
            })))
            .await?;
    }
    change.commit().await?;
    Ok(reports::find(&domain.db, id).await?)
}

/// A moderator takes a report (`Some`) or lets it go (`None`); false when
/// there is no such report.
pub async fn assign(
    domain: &Domain,
    report_id: i64,
    moderator: Option<&AccountRow>,
) -> Result<bool> {
    Ok(reports::assign(&domain.db, report_id, moderator.map(|m| m.id), now_millis()).await?)
}

/// A moderator marks a report resolved (`Some`), or opens it again
/// (`None`); false when there is no such report.
pub async fn resolve(
    domain: &Domain,
    report_id: i64,
    moderator: Option<&AccountRow>,
) -> Result<bool> {
    Ok(reports::set_resolved(&domain.db, report_id, moderator.map(|m| m.id), now_millis()).await?)
}
