//! The instance's blocks of other servers, and its allow-list: what an
//! admin changes, and the marks a block leaves on that server's accounts
//! (silenced or suspended as of the block, lifted with it; marks a
//! moderator set on an account by itself stay). The rest of a block's
//! effect is read where it applies: the inbox drops what a suspended
//! server sends, the fetcher reaches none of it (perch_apub's policy).

use perch_core::federation::Severity;
use perch_core::time::now_millis;
use perch_db::domain_blocks::{self, DomainBlockRow};

use crate::Domain;
use crate::blocks::normalize_domain;
use crate::error::{DomainError, Result};

/// What an admin sets on a block.
#[derive(Clone, Debug)]
pub struct BlockSettings {
    pub severity: Severity,
    pub reject_media: bool,
    pub reject_reports: bool,
    pub private_comment: String,
    pub public_comment: String,
    pub obfuscate: bool,
}

fn checked_domain(domain: &Domain, host: &str) -> Result<String> {
    let Some(host) = normalize_domain(host) else {
        return Err(DomainError::invalid("Validation failed: Domain is invalid"));
    };
    if host == *domain.local_domain {
        return Err(DomainError::invalid(
            "Validation failed: Domain cannot be this server's own",
        ));
    }
    Ok(host)
}

/// Block `host` (and its subdomains) for the whole instance.
pub async fn block(
    domain: &Domain,
    host: &str,
    settings: &BlockSettings,
) -> Result<DomainBlockRow> {
    let host = checked_domain(domain, host)?;
    if domain_blocks::find_by_domain(&domain.db, &host)
        .await?
        .is_some()
    {
        return Err(DomainError::invalid(
            "Validation failed: Domain is already blocked",
        ));
    }
    let now = now_millis();
    let row = DomainBlockRow {
        id: domain.next_id(),
        domain: host,
        severity: settings.severity.as_str().to_owned(),
        reject_media: settings.reject_media,
        reject_reports: settings.reject_reports,
        private_comment: settings.private_comment.clone(),
        public_comment: settings.public_comment.clone(),
        obfuscate: settings.obfuscate,
        created_at: now,
        updated_at: now,
    };
    let mut change = domain.begin().await?;
    if !domain_blocks::insert(&mut change.tx, &row).await? {
        return Err(DomainError::invalid(
            "Validation failed: Domain is already blocked",
        ));
    }
    domain_blocks::mark_accounts(
        &mut change.tx,
        &row.domain,
        settings.severity,
        row.created_at,
    )
    .await?;
    if row.reject_media {
        domain_blocks::clear_media(&mut change.tx, &row.domain).await?;
    }
    change.commit().await?;
    Ok(row)
}

/// Change a block's settings; a new severity replaces the old one's marks.
pub async fn update(
    domain: &Domain,
    row: &DomainBlockRow,
    settings: &BlockSettings,
) -> Result<DomainBlockRow> {
    let updated = DomainBlockRow {
        severity: settings.severity.as_str().to_owned(),
        reject_media: settings.reject_media,
        reject_reports: settings.reject_reports,
        private_comment: settings.private_comment.clone(),
        public_comment: settings.public_comment.clone(),
        obfuscate: settings.obfuscate,
        updated_at: now_millis(),
        ..row.clone()
    };
    let mut change = domain.begin().await?;
    domain_blocks::update(&mut change.tx, &updated).await?;
    if updated.severity() != row.severity() {
        domain_blocks::unmark_accounts(&mut change.tx, &row.domain, row.created_at).await?;
        domain_blocks::mark_accounts(
            &mut change.tx,
            &row.domain,
            updated.severity(),
            row.created_at,
        )
        .await?;
    }
    if updated.reject_media && !row.reject_media {
        domain_blocks::clear_media(&mut change.tx, &row.domain).await?;
    }
    change.commit().await?;
    Ok(updated)
}

/// Lift a block, and the marks it left.
pub async fn unblock(domain: &Domain, row: &DomainBlockRow) -> Result<()> {
    let mut change = domain.begin().await?;
    domain_blocks::delete(&mut change.tx, row.id).await?;
    domain_blocks::unmark_accounts(&mut change.tx, &row.domain, row.created_at).await?;
    change.commit().await
}

/// Allow `host` (allow-list mode); the allowance, new or not.
pub async fn allow(domain: &Domain, host: &str) -> Result<domain_blocks::DomainAllowRow> {
    let host = checked_domain(domain, host)?;
    domain_blocks::insert_allow(&domain.db, domain.next_id(), &host, now_millis()).await?;
    domain_blocks::find_allow_by_domain(&domain.db, &host)
        .await?
        .ok_or(DomainError::NotFound)
}

/// Withdraw the allowance of `host` (allow-list mode); not found when it
/// is not allowed.
pub async fn disallow(domain: &Domain, host: &str) -> Result<domain_blocks::DomainAllowRow> {
    let host = normalize_domain(host)
        .ok_or_else(|| DomainError::invalid("Validation failed: Domain is invalid"))?;
    let row = domain_blocks::find_allow_by_domain(&domain.db, &host)
        .await?
        .ok_or(DomainError::NotFound)?;
    domain_blocks::delete_allow(&domain.db, row.id).await?;
    Ok(row)
}
