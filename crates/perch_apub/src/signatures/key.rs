//! Parsed RSA keys for HTTP signatures: a local actor's private key with its
//! `keyId`, and a remote actor's public key. Both are parsed once, when
//! loaded, so signing and verifying reuse AWS-LC's parsed form.

use std::fmt;

use aws_lc_rs::rsa::{KeyPair, PublicKey};
use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaParameters};
use base64::Engine;

use super::LENIENT_BASE64;

const MIN_KEY_BITS: u32 = 2048;
const MAX_KEY_BITS: u32 = 8192;

/// Why a key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("not a PEM document")]
    NotPem,
    #[error("unexpected PEM label {0:?}")]
    UnexpectedLabel(String),
    #[error("PEM body is not valid base64")]
    Base64,
    #[error("not a valid RSA key")]
    Rejected,
    #[error("RSA key of {bits} bits is too small (at least 2048 bits required)")]
    TooSmall { bits: u32 },
    #[error("RSA key of {bits} bits is too large (at most 8192 bits supported)")]
    TooLarge { bits: u32 },
    #[error("key id must be non-empty, without quotes, backslashes or control characters")]
    InvalidKeyId,
}

/// A local actor's private key, parsed once, with the `keyId` it signs as.
pub struct SigningKey {
    key_id: String,
    pub(super) pair: KeyPair,
}

impl SigningKey {
    /// Parses a PKCS#8 `PRIVATE KEY` PEM (what `perch_core::keys` generates);
    /// PKCS#1 `RSA PRIVATE KEY` is accepted too, as Mastodon stores keys
    /// that way and an imported account may bring one.
    pub fn from_pem(key_id: impl Into<String>, private_key_pem: &str) -> Result<Self, KeyError> {
        let key_id = key_id.into();
        // The id is written verbatim inside a quoted header parameter.
        if key_id.is_empty()
            || key_id
                .bytes()
                .any(|b| b == b'"' || b == b'\\' || !(b' '..=b'~').contains(&b))
        {
            return Err(KeyError::InvalidKeyId);
        }
        let (label, der) = pem_decode(private_key_pem)?;
        let pair = match label {
            "PRIVATE KEY" => KeyPair::from_pkcs8(&der),
            "RSA PRIVATE KEY" => KeyPair::from_der(&der),
            other => return Err(KeyError::UnexpectedLabel(other.to_owned())),
        }
        .map_err(|_| KeyError::Rejected)?;
        check_bits(u32::try_from(pair.public_modulus_len() * 8).unwrap_or(u32::MAX))?;
        Ok(Self { key_id, pair })
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }
}

impl fmt::Debug for SigningKey {
    // Never print key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// A remote actor's public key, parsed once for repeated verification.
#[derive(Clone)]
pub struct VerifyingKey {
    key: ParsedPublicKey,
    /// PKCS#1 DER, for the rare RSA-PSS signature (RFC 9421's
    /// `rsa-pss-sha512`), which is parsed for its algorithm when needed.
    pkcs1: std::sync::Arc<[u8]>,
    bits: u32,
}

impl VerifyingKey {
    /// Parses `publicKeyPem`: SPKI `PUBLIC KEY` (Mastodon, Pleroma, Misskey,
    /// GoToSocial) or PKCS#1 `RSA PUBLIC KEY` (some smaller servers).
    /// Surrounding whitespace, `\r\n` and a missing final newline are fine.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let (label, der) = pem_decode(pem)?;
        match label {
            "PUBLIC KEY" | "RSA PUBLIC KEY" => Self::from_der(&der),
            other => Err(KeyError::UnexpectedLabel(other.to_owned())),
        }
    }

    /// Parses a DER public key, SPKI or PKCS#1.
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        // Normalise either encoding to PKCS#1, whose size AWS-LC can report.
        let public = PublicKey::from_der(der).map_err(|_| KeyError::Rejected)?;
        let bits =
            RsaParameters::public_modulus_len(public.as_ref()).map_err(|_| KeyError::Rejected)?;
        check_bits(bits)?;
        let key = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public.as_ref())
            .map_err(|_| KeyError::Rejected)?;
        Ok(Self {
            key,
            pkcs1: public.as_ref().into(),
            bits,
        })
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> u32 {
        self.bits
    }

    pub(super) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        self.key.verify_sig(message, signature).is_ok()
    }

    pub(super) fn verifies_pss_sha512(&self, message: &[u8], signature: &[u8]) -> bool {
        aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::RSA_PSS_2048_8192_SHA512,
            &*self.pkcs1,
        )
        .verify(message, signature)
        .is_ok()
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("bits", &self.bits)
            .finish_non_exhaustive()
    }
}

fn check_bits(bits: u32) -> Result<(), KeyError> {
    if bits < MIN_KEY_BITS {
        Err(KeyError::TooSmall { bits })
    } else if bits > MAX_KEY_BITS {
        Err(KeyError::TooLarge { bits })
    } else {
        Ok(())
    }
}

/// Returns the label and DER body of the first PEM block in `pem`.
fn pem_decode(pem: &str) -> Result<(&str, Vec<u8>), KeyError> {
    const BEGIN: &str = "-----BEGIN ";
    const DASHES: &str = "-----";
    let start = pem.find(BEGIN).ok_or(KeyError::NotPem)? + BEGIN.len();
    let rest = &pem[start..];
    let label_len = rest.find(DASHES).ok_or(KeyError::NotPem)?;
    let label = &rest[..label_len];
    let body_and_end = &rest[label_len + DASHES.len()..];
    let end = body_and_end.find("-----END ").ok_or(KeyError::NotPem)?;
    let end_label = body_and_end[end + "-----END ".len()..]
        .split(DASHES)
        .next()
        .unwrap_or_default();
    if end_label != label {
        return Err(KeyError::NotPem);
    }
    // Line length and line endings vary between servers; only the base64
    // characters matter.
    let body: Vec<u8> = body_and_end[..end]
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let der = LENIENT_BASE64.decode(body).map_err(|_| KeyError::Base64)?;
    Ok((label, der))
}
