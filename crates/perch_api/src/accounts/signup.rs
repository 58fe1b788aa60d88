//! `POST /api/v1/accounts`: sign-up through an app, with Mastodon's rules
//! and its 422 answer listing every refused field at once.

use std::collections::BTreeMap;
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use perch_core::account::{Email, Password, Username};
use perch_db::accounts::CreateAccountError;
use perch_db::{oauth, users};
use serde::Deserialize;

use crate::auth::Auth;
use crate::client_ip::ClientIp;
use crate::error::FieldError;
use crate::oauth::issue::{SessionFor, TokenResponse, start_session};
use crate::params::{Params, lenient_bool};
use crate::rate_limit::ip_key;
use crate::{ApiError, ApiState, RegistrationMode};
use perch_domain::accounts::{NewAccount, RegistrationError, create_local_account, signed_up};

/// Names people must not be able to take: they impersonate the instance or
/// its staff, or collide with the instance actor.
const RESERVED_USERNAMES: &[&str] = &[
    "abuse",
    "admin",
    "administrator",
    "hostmaster",
    "instance",
    "instance_actor",
    "mod",
    "moderator",
    "noreply",
    "perch",
    "postmaster",
    "root",
    "security",
    "staff",
    "support",
    "webmaster",
];
const MAX_REASON_CHARS: usize = 1000;

#[derive(Deserialize)]
pub struct SignUp {
    username: Option<String>,
    email: Option<String>,
    password: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    agreement: Option<bool>,
    locale: Option<String>,
    reason: Option<String>,
    phone: Option<String>,
}

fn field_error(error: &'static str, description: &str) -> FieldError {
    FieldError {
        error,
        description: description.to_owned(),
    }
}

pub async fn sign_up(
    State(state): State<ApiState>,
    ClientIp(client): ClientIp,
    auth: Auth,
    Params(request): Params<SignUp>,
) -> Result<Json<TokenResponse>, ApiError> {
    auth.require("write:accounts")?;
    if state.config.registrations == RegistrationMode::Closed {
        return Err(ApiError::forbidden(
            "Registrations are closed on this server",
        ));
    }
    let mut details: BTreeMap<String, Vec<FieldError>> = BTreeMap::new();
    let mut refuse = |field: &str, error: FieldError| {
        details.entry(field.to_owned()).or_default().push(error);
    };

    let username_text = request
        .username
        .as_deref()
        .map(str::trim)
        .unwrap_or_default();
    let username = if username_text.is_empty() {
        refuse("username", field_error("ERR_BLANK", "can't be blank"));
        None
    } else if username_text.chars().count() > Username::MAX_CHARS {
        refuse(
            "username",
            field_error("ERR_TOO_LONG", "is too long (maximum is 30 characters)"),
        );
        None
    } else if RESERVED_USERNAMES.contains(&username_text.to_ascii_lowercase().as_str()) {
        refuse("username", field_error("ERR_RESERVED", "is reserved"));
        None
    } else {
        match Username::parse(username_text) {
            Ok(username) => Some(username),
            Err(_) => {
                refuse(
                    "username",
                    field_error(
                        "ERR_INVALID",
                        "must contain only letters, numbers and underscores",
                    ),
                );
                None
            }
        }
    };

    let email_text = request.email.as_deref().map(str::trim).unwrap_or_default();
    let email = if email_text.is_empty() {
        refuse("email", field_error("ERR_BLANK", "can't be blank"));
        None
    } else {
        match Email::parse(email_text) {
            Ok(email) => Some(email),
            Err(_) => {
                refuse("email", field_error("ERR_INVALID", "is invalid"));
                None
            }
        }
    };

    let password_text = request.password.as_deref().unwrap_or_default();
    let password = if password_text.is_empty() {
        refuse("password", field_error("ERR_BLANK", "can't be blank"));
        None
    } else {
        let chars = password_text.chars().count();
        if chars < Password::MIN_CHARS {
            refuse(
                "password",
                field_error("ERR_TOO_SHORT", "is too short (minimum is 8 characters)"),
            );
        } else if chars > Password::MAX_CHARS {
            refuse(
                "password",
                field_error("ERR_TOO_LONG", "is too long (maximum is 128 characters)"),
            );
        }
        Password::parse(password_text).ok()
    };

    if request.agreement != Some(true) {
        refuse("agreement", field_error("ERR_ACCEPTED", "must be accepted"));
    }

    let locale = request
        .locale
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .unwrap_or("en");
    if !valid_locale(locale) {
        refuse(
            "locale",
            field_error("ERR_INCLUSION", "is not included in the list"),
        );
    }

    let reason = request
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > MAX_REASON_CHARS)
    {
        refuse(
            "reason",
            field_error("ERR_TOO_LONG", "is too long (maximum is 1000 characters)"),
        );
    }

    let phone = request
        .phone
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty());
    if phone.as_deref().is_some_and(|p| !valid_e164(p)) {
        refuse(
            "phone",
            field_error(
                "ERR_INVALID",
                "must be in international format, e.g. +14155550100",
            ),
        );
    }

    let taken = users::taken(&state.db, username_text, email_text, phone.as_deref()).await?;
    if username.is_some() && taken.username {
        refuse("username", field_error("ERR_TAKEN", "is already taken"));
    }
    if email.is_some() && taken.email {
        refuse("email", field_error("ERR_TAKEN", "is already taken"));
    }
    if phone.is_some() && taken.phone {
        refuse("phone", field_error("ERR_TAKEN", "is already taken"));
    }

    let (Some(username), Some(email), Some(password), true) =
        (username, email, password, details.is_empty())
    else {
        return Err(ApiError::validation(details));
    };

    // Counted once a sign-up is valid, so that correcting a typo costs
    // nothing while mass creation from one address is held back.
    if let Err(retry) = state.sign_up_limit.check(&ip_key(client), Instant::now()) {
        return Err(ApiError::too_many_requests(retry.duration()));
    }
    let new = NewAccount {
        username,
        email,
        password,
        role: perch_core::role::Role::User,
        approved: state.config.registrations == RegistrationMode::Open,
        locale: locale.to_owned(),
        phone,
        reason,
    };
    let account =
        match create_local_account(&state.db, &state.ids, &state.config.public_url, new).await {
            Ok(account) => account,
            // A concurrent sign-up took the value between the check and the insert.
            Err(RegistrationError::Create(
                taken @ (CreateAccountError::UsernameTaken
                | CreateAccountError::EmailTaken
                | CreateAccountError::PhoneTaken),
            )) => {
                let field = match taken {
                    CreateAccountError::UsernameTaken => "username",
                    CreateAccountError::EmailTaken => "email",
                    _ => "phone",
                };
                let mut details = BTreeMap::new();
                details.insert(
                    field.to_owned(),
                    vec![field_error("ERR_TAKEN", "is already taken")],
                );
                return Err(ApiError::validation(details));
            }
            Err(error) => return Err(ApiError::internal(&error)),
        };
    // The account stands either way; a failure here only costs the staff
    // their notice.
    if let Err(error) = signed_up(&state.domain, &account).await {
        tracing::warn!(%error, account = account.id, "staff not told of a sign-up");
    }
    let app = oauth::find_app(&state.db, auth.app_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let who = SessionFor {
        app: &app,
        account_id: Some(account.id),
        scopes: &auth.scopes,
    };
    Ok(Json(start_session(&state, who).await?))
}

/// E.164: a plus sign, then 2 to 15 digits, the first not zero.
fn valid_e164(phone: &str) -> bool {
    let Some(digits) = phone.strip_prefix('+') else {
        return false;
    };
    (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// A BCP 47 tag of the simple kind clients send: `en`, `pt-BR`, `zh-Hant`.
fn valid_locale(locale: &str) -> bool {
    let mut parts = locale.split(['-', '_']);
    let language_ok = parts
        .next()
        .is_some_and(|l| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_lowercase()));
    language_ok
        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers() {
        for ok in ["+14155550100", "+33123456789", "+12"] {
            assert!(valid_e164(ok), "{ok}");
        }
        for bad in [
            "14155550100",
            "+0123",
            "+1",
            "+1415555010012345",
            "+1 415 555",
            "+1-415",
        ] {
            assert!(!valid_e164(bad), "{bad}");
        }
    }

    #[test]
    fn locales() {
        for ok in ["en", "pt-BR", "zh-Hant", "ast", "de_CH"] {
            assert!(valid_locale(ok), "{ok}");
        }
        for bad in ["", "EN", "english", "e", "en-", "en-toolongsubtag"] {
            assert!(!valid_locale(bad), "{bad}");
        }
    }
}
