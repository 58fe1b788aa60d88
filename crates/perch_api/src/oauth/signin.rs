//! Checking a person's credentials: rate limits, password (in constant time,
//! with the same work for unknown users), standing, and the second factor.
//! Shared by the password grant and the authorization page.

use std::net::IpAddr;
use std::time::Instant;

use perch_core::password::{verify_against_nothing, verify_password};
use perch_core::time::now_millis;
use perch_core::totp::{self, TotpSecret};
use perch_db::users::{self, UserCredentials};

use crate::{ApiError, ApiState};

#[derive(Debug, PartialEq, Eq)]
pub enum SignInError {
    /// Unknown login or wrong password: the same answer for both.
    BadCredentials,
    /// The password was right; a two-factor code is needed.
    SecondFactorRequired,
    BadSecondFactor,
    PendingApproval,
    Disabled,
    RateLimited {
        retry_after: std::time::Duration,
    },
}

impl SignInError {
    pub fn message(&self) -> &'static str {
        match self {
            SignInError::BadCredentials => "Invalid email address or password",
            SignInError::SecondFactorRequired => "A two-factor authentication code is required",
            SignInError::BadSecondFactor => "Invalid two-factor authentication code",
            SignInError::PendingApproval => "Your login is currently pending approval",
            SignInError::Disabled => "Your login is currently disabled",
            SignInError::RateLimited { .. } => "Too many sign-in attempts; try again later",
        }
    }
}

/// Check `login` (email or username), `password` and, when the account has
/// two-factor authentication, `otp` (a TOTP code or a recovery code). The
/// outer error is a server failure; the inner one a refusal.
pub async fn check(
    state: &ApiState,
    ip: IpAddr,
    login: &str,
    password: &str,
    otp: Option<&str>,
) -> Result<Result<UserCredentials, SignInError>, ApiError> {
    if let Err(retry) = state.sign_in_limits.check(ip, Some(login), Instant::now()) {
        return Ok(Err(SignInError::RateLimited {
            retry_after: retry.duration(),
        }));
    }
    let user = users::find_by_login(&state.db, login).await?;
    // argon2 takes tens of milliseconds of CPU: keep it off the async
    // workers. An unknown login costs the same work as a wrong password.
    let candidate = password.to_owned();
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let matches = tokio::task::spawn_blocking(move || match stored {
        Some(hash) => verify_password(&candidate, &hash),
        None => {
            verify_against_nothing(&candidate);
            false
        }
    })
    .await
    .map_err(|e| ApiError::internal(&e))?;
    let (Some(user), true) = (user, matches) else {
        return Ok(Err(SignInError::BadCredentials));
    };
    if user.disabled_at.is_some() || user.suspended_at.is_some() {
        return Ok(Err(SignInError::Disabled));
    }
    if !user.approved {
        return Ok(Err(SignInError::PendingApproval));
    }
    if user.two_factor_enabled() {
        let Some(code) = otp.map(str::trim).filter(|c| !c.is_empty()) else {
            return Ok(Err(SignInError::SecondFactorRequired));
        };
        if !second_factor_ok(state, &user, code).await? {
            return Ok(Err(SignInError::BadSecondFactor));
        }
    }
    Ok(Ok(user))
}

/// A current TOTP code (each usable once) or an unused recovery code.
async fn second_factor_ok(
    state: &ApiState,
    user: &UserCredentials,
    code: &str,
) -> Result<bool, ApiError> {
    let Some(secret) = user
        .totp_secret
        .as_deref()
        .and_then(|s| TotpSecret::from_base32(s).ok())
    else {
        return Ok(false);
    };
    let now_seconds = now_millis() / 1000;
    if let Some(step) = totp::verify(&secret, code, now_seconds, user.totp_last_used_step) {
        return Ok(users::use_totp_step(&state.db, user.account_id, step).await?);
    }
    let hash = totp::hash_recovery_code(code);
    Ok(users::use_recovery_code(&state.db, user.account_id, &hash, now_millis()).await?)
}
