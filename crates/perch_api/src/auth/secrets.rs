//! Opaque secrets (client secrets, refresh tokens, authorization codes):
//! random, URL-safe, and stored only as SHA-256 hashes.

use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// 32 random bytes, base64url without padding (43 characters).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // The system RNG only fails if the OS cannot provide randomness, in
    // which case nothing secure can be done; zero bytes would be worse than
    // stopping, so fall back to rand's OS generator.
    if SystemRandom::new().fill(&mut bytes).is_err() {
        use rand::RngCore;
        rand::rngs::OsRng.fill_bytes(&mut bytes);
    }
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Hex SHA-256: how secrets are stored and looked up. These secrets carry
/// 256 bits of entropy, so a fast hash is enough (unlike passwords).
pub fn hash_secret(secret: &str) -> String {
    let digest = digest::digest(&digest::SHA256, secret.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Compare two strings without leaking where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

/// PKCE S256 (RFC 7636 §4.2): base64url(SHA-256(verifier)) equals the
/// challenge.
pub fn pkce_s256_matches(verifier: &str, challenge: &str) -> bool {
    let digest = digest::digest(&digest::SHA256, verifier.as_bytes());
    constant_time_eq(&URL_SAFE_NO_PAD.encode(digest.as_ref()), challenge)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_url_safe() {
        let a = random_token();
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(a, random_token());
    }

    #[test]
    fn hashing() {
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn pkce_s256() {
        // Challenge computed independently (Python hashlib + base64).
        assert!(pkce_s256_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gXFRWFjXk",
            "xvYq-ZtbqEnMsCbY2tIISDDg6dhHltH1NMl8O7_GU2M"
        ));
        assert!(!pkce_s256_matches(
            "wrong",
            "xvYq-ZtbqEnMsCbY2tIISDDg6dhHltH1NMl8O7_GU2M"
        ));
    }
}
