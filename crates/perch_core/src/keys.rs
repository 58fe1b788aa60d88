//! Actor key pairs for HTTP signatures.
//!
//! RSA-2048 is what every fediverse server can verify. Keys are generated and
//! later used through AWS-LC (`aws-lc-rs`): constant-time and several times
//! faster than the pure-Rust `rsa` crate, which matters because every
//! delivery is signed and every inbound activity verified.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

#[derive(Debug, thiserror::Error)]
#[error("generating an RSA key pair failed")]
pub struct KeyGenerationError;

/// A new RSA-2048 key pair as PEM: (public SPKI "PUBLIC KEY", private PKCS#8
/// "PRIVATE KEY"), the forms ActivityPub's `publicKeyPem` and OpenSSL expect.
pub fn generate_actor_keys() -> Result<(String, String), KeyGenerationError> {
    let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyGenerationError)?;
    let private = pair.as_der().map_err(|_| KeyGenerationError)?;
    let public = pair.public_key().as_der().map_err(|_| KeyGenerationError)?;
    Ok((
        pem("PUBLIC KEY", public.as_ref()),
        pem("PRIVATE KEY", private.as_ref()),
    ))
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        // base64 output is ASCII.
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{self, UnparsedPublicKey};

    fn der_of(pem: &str) -> Vec<u8> {
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        STANDARD.decode(body).expect("valid base64")
    }

    #[test]
    fn generated_keys_sign_and_verify() {
        let (public_pem, private_pem) = generate_actor_keys().expect("generates");
        assert!(public_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert!(private_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert!(public_pem.lines().all(|l| l.len() <= 64));

        let pair = KeyPair::from_pkcs8(&der_of(&private_pem)).expect("PKCS#8 parses");
        assert_eq!(pair.public_modulus_len(), 256);
        let message = b"(request-target): post /inbox";
        let mut sig = vec![0; pair.public_modulus_len()];
        pair.sign(
            &signature::RSA_PKCS1_SHA256,
            &aws_lc_rs::rand::SystemRandom::new(),
            message,
            &mut sig,
        )
        .expect("signs");

        let spki = der_of(&public_pem);
        let public = aws_lc_rs::rsa::PublicKey::from_der(&spki).expect("SPKI parses");
        UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, public.as_ref())
            .verify(message, &sig)
            .expect("verifies");
    }
}
