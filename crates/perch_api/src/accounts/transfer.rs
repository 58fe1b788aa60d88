//! Moving one's follows, mutes and blocks between servers as Mastodon's
//! CSV files (its web settings have no client API, so these are Perch
//! extensions under `/api/v1/perch/`):
//! - `GET /api/v1/perch/exports/follows.csv`, `mutes.csv`, `blocks.csv`:
//!   the lists as Mastodon writes them (`Account address,Show boosts,Notify
//!   on new posts,Languages`; `Account address,Hide notifications`; one
//!   address a line for blocks);
//! - `POST /api/v1/perch/imports` (multipart: `type` `following`, `muting`
//!   or `blocking`, `mode` `merge` or `overwrite`, and the file as `data`):
//!   a file of any of those shapes, with or without its header line, from
//!   Mastodon or from here. Each address is found here or through
//!   WebFinger, a few at a time; what cannot be found or followed is
//!   answered with why, and the rest goes on.

use std::collections::HashSet;

use axum::Json;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, StreamExt};
use perch_apub::resolve;
use perch_db::accounts::{self, AccountRow};
use perch_db::transfer::{self, Relations};
use perch_domain::imports::{self, Entry, MAX_ROWS, Mode};
use serde_json::{Value, json};

use super::migration::me;
use crate::auth::Auth;
use crate::{ApiError, ApiState};

/// The largest file taken.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;
/// Addresses looked up at once.
const LOOKUPS_AT_ONCE: usize = 8;

const FOLLOWS_HEADER: &str = "Account address,Show boosts,Notify on new posts,Languages";
const MUTES_HEADER: &str = "Account address,Hide notifications";

/// `GET /api/v1/perch/exports/follows.csv`.
pub async fn export_follows(
    State(state): State<ApiState>,
    auth: Auth,
) -> Result<Response, ApiError> {
    auth.require_any(&["read:follows", "read"])?;
    export(
        &state,
        &auth,
        Relations::Following,
        "following_accounts.csv",
    )
    .await
}

/// `GET /api/v1/perch/exports/mutes.csv`.
pub async fn export_mutes(State(state): State<ApiState>, auth: Auth) -> Result<Response, ApiError> {
    auth.require_any(&["read:mutes", "read"])?;
    export(&state, &auth, Relations::Muting, "muted_accounts.csv").await
}

/// `GET /api/v1/perch/exports/blocks.csv`.
pub async fn export_blocks(
    State(state): State<ApiState>,
    auth: Auth,
) -> Result<Response, ApiError> {
    auth.require_any(&["read:blocks", "read"])?;
    export(&state, &auth, Relations::Blocking, "blocked_accounts.csv").await
}

async fn export(
    state: &ApiState,
    auth: &Auth,
    relations: Relations,
    filename: &str,
) -> Result<Response, ApiError> {
    let me = me(state, auth).await?;
    let rows = transfer::related(&state.db, me.id, relations, MAX_ROWS as i64).await?;
    let mut out = match relations {
        Relations::Following => format!("{FOLLOWS_HEADER}\n"),
        Relations::Muting => format!("{MUTES_HEADER}\n"),
        Relations::Blocking => String::new(),
    };
    for row in rows {
        // Addresses hold no comma or quote: no field needs quoting.
        let address = format!(
            "{}@{}",
            row.username,
            row.domain.as_deref().unwrap_or(&state.config.domain)
        );
        let line = match relations {
            Relations::Following => format!("{address},{},{},\n", row.first, row.second),
            Relations::Muting => format!("{address},{}\n", row.first),
            Relations::Blocking => format!("{address}\n"),
        };
        out.push_str(&line);
    }
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
        .map_err(|e| ApiError::internal(&e))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        out,
    )
        .into_response())
}

/// One line of an imported file.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Line {
    address: String,
    hide_notifications: bool,
}

struct ImportForm {
    kind: Option<String>,
    mode: Option<String>,
    data: Option<Vec<u8>>,
}

/// `POST /api/v1/perch/imports`: answers what was done.
pub async fn import(
    State(state): State<ApiState>,
    auth: Auth,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let form = read_form(request, &state).await?;
    let (relations, scope) = match form.kind.as_deref() {
        Some("following") => (Relations::Following, "write:follows"),
        Some("muting") => (Relations::Muting, "write:mutes"),
        Some("blocking") => (Relations::Blocking, "write:blocks"),
        _ => {
            return Err(ApiError::unprocessable(
                "Validation failed: type must be following, muting or blocking",
            ));
        }
    };
    auth.require_any(&[scope, "write"])?;
    let mode = match form.mode.as_deref() {
        None | Some("merge") => Mode::Merge,
        Some("overwrite") => Mode::Overwrite,
        Some(_) => {
            return Err(ApiError::unprocessable(
                "Validation failed: mode must be merge or overwrite",
            ));
        }
    };
    let data = form
        .data
        .ok_or_else(|| ApiError::unprocessable("Validation failed: data must be a CSV file"))?;
    let lines = parse(&data)?;
    let me = me(&state, &auth).await?;

    let found: Vec<(Line, Result<AccountRow, String>)> = stream::iter(lines)
        .map(|line| {
            let state = state.clone();
            async move {
                let found = find(&state, &line.address).await;
                (line, found)
            }
        })
        .buffered(LOOKUPS_AT_ONCE)
        .collect()
        .await;
    let mut entries = Vec::new();
    let mut failed: Vec<Value> = Vec::new();
    for (line, found) in found {
        match found {
            Ok(target) => entries.push(Entry {
                target,
                hide_notifications: line.hide_notifications,
            }),
            Err(error) => failed.push(json!({ "acct": line.address, "error": error })),
        }
    }
    let total = entries.len() + failed.len();
    let done = imports::import(&state.domain, &me, relations, mode, &entries).await?;
    for (uri, error) in &done.refused {
        let address = entries
            .iter()
            .find(|e| &e.target.uri == uri)
            .map(|e| address_of(&state, &e.target))
            .unwrap_or_else(|| uri.clone());
        failed.push(json!({ "acct": address, "error": error }));
    }
    tracing::info!(
        account = me.id,
        total,
        imported = done.applied,
        removed = done.removed,
        failed = failed.len(),
        "a list was imported"
    );
    Ok(Json(json!({
        "type": form.kind,
        "mode": if mode == Mode::Overwrite { "overwrite" } else { "merge" },
        "total": total,
        "imported": done.applied,
        "removed": done.removed,
        "failed": failed,
    })))
}

fn address_of(state: &ApiState, row: &AccountRow) -> String {
    format!(
        "{}@{}",
        row.username,
        row.domain.as_deref().unwrap_or(&state.config.domain)
    )
}

/// The account an address names: here, or found through WebFinger.
async fn find(state: &ApiState, address: &str) -> Result<AccountRow, String> {
    let (user, host) = address.split_once('@').unwrap_or((address, ""));
    if host.is_empty() || host.eq_ignore_ascii_case(&state.config.domain) {
        return match accounts::find_local_by_username(&state.db, user).await {
            Ok(Some(row)) if row.deleted_at.is_none() => Ok(row),
            Ok(_) => Err("no such account".to_owned()),
            Err(error) => Err(error.to_string()),
        };
    }
    resolve::actor_by_acct(&state.federation, address)
        .await
        .map(|(row, _)| row)
        .map_err(|error| error.to_string())
}

/// The lines of a file of any of the three shapes, with or without its
/// header line; addresses once each, in order, without a leading `@`.
fn parse(data: &[u8]) -> Result<Vec<Line>, ApiError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(data);
    let mut lines: Vec<Line> = Vec::new();
    let mut seen = HashSet::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(|e| {
            ApiError::unprocessable(format!(
                "Validation failed: line {} of the file is not CSV ({e})",
                n + 1
            ))
        })?;
        let Some(first) = record.get(0).filter(|f| !f.is_empty()) else {
            continue;
        };
        if n == 0 && first.eq_ignore_ascii_case("Account address") {
            continue;
        }
        let address = first.trim_start_matches('@').to_owned();
        if !is_address(&address) {
            return Err(ApiError::unprocessable(format!(
                "Validation failed: line {} does not begin with an account address (user@domain)",
                n + 1
            )));
        }
        if !seen.insert(address.to_lowercase()) {
            continue;
        }
        if lines.len() == MAX_ROWS {
            return Err(ApiError::unprocessable(format!(
                "Validation failed: a file names at most {MAX_ROWS} accounts"
            )));
        }
        // Mutes: `Hide notifications`, true unless it says otherwise.
        let hide_notifications = !record
            .get(1)
            .is_some_and(|value| value.eq_ignore_ascii_case("false"));
        lines.push(Line {
            address,
            hide_notifications,
        });
    }
    Ok(lines)
}

/// `user` or `user@domain`: a username of letters, digits, `_`, `.` and
/// `-`, and a host name.
fn is_address(address: &str) -> bool {
    let (user, host) = address.split_once('@').unwrap_or((address, "x"));
    let user_ok = !user.is_empty()
        && user.len() <= 100
        && user
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'));
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
    user_ok && host_ok
}

async fn read_form(request: Request, state: &ApiState) -> Result<ImportForm, ApiError> {
    let failed =
        |e: axum::extract::multipart::MultipartError| ApiError::new(e.status(), e.body_text());
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|e| ApiError::new(e.status(), e.body_text()))?;
    let mut form = ImportForm {
        kind: None,
        mode: None,
        data: None,
    };
    while let Some(mut field) = multipart.next_field().await.map_err(failed)? {
        match field.name().unwrap_or_default() {
            "data" => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(failed)? {
                    if bytes.len() + chunk.len() > MAX_FILE_BYTES {
                        return Err(ApiError::unprocessable(format!(
                            "Validation failed: the file is larger than {} KiB",
                            MAX_FILE_BYTES / 1024
                        )));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                form.data = Some(bytes);
            }
            "type" => form.kind = Some(field.text().await.map_err(failed)?),
            "mode" => form.mode = Some(field.text().await.map_err(failed)?),
            _ => {}
        }
    }
    Ok(form)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_of_every_shape_read_with_or_without_their_header() {
        let follows = parse(
            b"Account address,Show boosts,Notify on new posts,Languages\n\
              alice@a.example,true,false,\n@bob@b.example,false,true,en\n",
        )
        .expect("read");
        assert_eq!(
            follows
                .iter()
                .map(|l| l.address.as_str())
                .collect::<Vec<_>>(),
            ["alice@a.example", "bob@b.example"]
        );
        let mutes =
            parse(b"Account address,Hide notifications\nann@x.example,false\nben@x.example,true\n")
                .expect("read");
        assert!(!mutes[0].hide_notifications);
        assert!(mutes[1].hide_notifications);
        let blocks = parse(b"ann@x.example\nANN@x.example\r\n\nlocal_user\n").expect("read");
        assert_eq!(
            blocks
                .iter()
                .map(|l| l.address.as_str())
                .collect::<Vec<_>>(),
            ["ann@x.example", "local_user"],
            "once each, blank lines skipped"
        );
    }

    #[test]
    fn a_line_that_names_no_account_is_refused_with_its_number() {
        let error = parse(b"ann@x.example\nnot an address\n").expect_err("refused");
        assert!(error.message().contains("line 2"), "{}", error.message());
        let error = parse(b"a\"b@x.example\n").expect_err("refused");
        assert_eq!(error.status(), axum::http::StatusCode::UNPROCESSABLE_ENTITY);
    }
}
