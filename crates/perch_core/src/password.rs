//! Password hashing with argon2id.
//!
//! Parameters follow the OWASP Password Storage Cheat Sheet's first
//! recommendation for argon2id: 19 MiB of memory, 2 iterations, 1 lane.
//! Hashes are PHC strings, so parameters can be raised later and old hashes
//! still verify.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::account::Password;

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

impl HashError {
    pub fn from_message(message: &str) -> Self {
        Self(message.to_owned())
    }
}

/// A well-formed hash, with the same parameters as real hashes, of a password
/// nobody knows.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$ZmFrZWZha2VmYWtlZmFrZWZha2VmYWtlZmFrZWZha2U";

fn argon2() -> Argon2<'static> {
    // These constants are valid argon2 parameters; `Params::new` only fails
    // outside the ranges of RFC 9106.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hash a new password into a PHC string with a fresh random salt.
pub fn hash_password(password: &Password) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Check `candidate` against a stored PHC hash. A malformed stored hash counts
/// as a mismatch. The comparison of digests is constant-time.
pub fn verify_password(candidate: &str, stored_hash: &str) -> bool {
    match PasswordHash::new(stored_hash) {
        Ok(parsed) => argon2()
            .verify_password(candidate.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Spend the same work as [`verify_password`] when there is no account to
/// check against, so that "unknown user" and "wrong password" cannot be told
/// apart by timing.
pub fn verify_against_nothing(candidate: &str) {
    let _ = verify_password(candidate, DUMMY_HASH);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify() {
        let password = Password::parse("correct horse battery").expect("valid");
        let hash = hash_password(&password).expect("hashes");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse battery!", &hash));
        assert!(!verify_password("correct horse battery", "not a hash"));
    }

    #[test]
    fn salts_differ() {
        let password = Password::parse("same password").expect("valid");
        let a = hash_password(&password).expect("hashes");
        let b = hash_password(&password).expect("hashes");
        assert_ne!(a, b);
    }

    #[test]
    fn dummy_hash_is_well_formed() {
        // If the dummy hash stopped parsing, unknown users would answer
        // faster than wrong passwords.
        let parsed = PasswordHash::new(DUMMY_HASH).expect("dummy hash parses");
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        assert!(!verify_password("anything", DUMMY_HASH));
    }
}
