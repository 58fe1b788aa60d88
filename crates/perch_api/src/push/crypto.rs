//! The cryptography of Web Push: a message encrypted for one subscription
//! (RFC 8291's `aes128gcm`, and the older `aesgcm` of its drafts, which
//! some apps still ask for), and the VAPID claim that identifies this
//! server to the push service (RFC 8292, an ES256 JWT).

use aws_lc_rs::aead::{AES_128_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::agreement::{self, ECDH_P256, PrivateKey, UnparsedPublicKey};
use aws_lc_rs::hkdf::{HKDF_SHA256, KeyType, Salt};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// Why a message could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PushCryptoError {
    #[error("the subscription's key or secret is unusable")]
    BadSubscriptionKey,
    #[error("the VAPID key is unusable")]
    BadVapidKey,
    #[error("the message is too large to push")]
    TooLarge,
    #[error("encryption failed")]
    Failed,
}

/// The largest payload pushed (push services take 4,096 bytes of body).
pub const MAX_PAYLOAD: usize = 3000;

/// The record size written in an `aes128gcm` header: one record holds it all.
const RECORD_SIZE: u32 = 4096;

/// An encrypted message and the headers its encoding needs beside it.
#[derive(Debug, Clone)]
pub struct Encrypted {
    pub body: Vec<u8>,
    /// `aes128gcm` or `aesgcm`.
    pub content_encoding: &'static str,
    /// `aesgcm` only: `Encryption: salt=…`.
    pub encryption: Option<String>,
    /// `aesgcm` only: the `dh=…` part of `Crypto-Key`.
    pub crypto_key_dh: Option<String>,
}

struct Len(usize);

impl KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn hkdf(salt: &[u8], ikm: &[u8], info: &[&[u8]], len: usize) -> Result<Vec<u8>, PushCryptoError> {
    let prk = Salt::new(HKDF_SHA256, salt).extract(ikm);
    let mut out = vec![0u8; len];
    prk.expand(info, Len(len))
        .and_then(|okm| okm.fill(&mut out))
        .map_err(|_| PushCryptoError::Failed)?;
    Ok(out)
}

/// The subscription's keys, as `/api/v1/push/subscription` takes them
/// (base64url, padded or not).
pub struct SubscriptionKeys {
    /// The uncompressed P-256 point (65 bytes).
    pub p256dh: Vec<u8>,
    /// The 16-byte authentication secret.
    pub auth: Vec<u8>,
}

impl SubscriptionKeys {
    pub fn decode(p256dh: &str, auth: &str) -> Result<Self, PushCryptoError> {
        let decode = |s: &str| {
            URL_SAFE_NO_PAD
                .decode(s.trim().trim_end_matches('='))
                .map_err(|_| PushCryptoError::BadSubscriptionKey)
        };
        let keys = Self {
            p256dh: decode(p256dh)?,
            auth: decode(auth)?,
        };
        if keys.p256dh.len() != 65 || keys.p256dh[0] != 4 || keys.auth.len() < 16 {
            return Err(PushCryptoError::BadSubscriptionKey);
        }
        Ok(keys)
    }
}

/// The shared secret of a fresh key pair of ours and the subscription's
/// key, and our public key.
fn agree(keys: &SubscriptionKeys) -> Result<(Vec<u8>, Vec<u8>), PushCryptoError> {
    let ours = PrivateKey::generate(&ECDH_P256).map_err(|_| PushCryptoError::Failed)?;
    let our_public = ours
        .compute_public_key()
        .map_err(|_| PushCryptoError::Failed)?
        .as_ref()
        .to_vec();
    let theirs = UnparsedPublicKey::new(&ECDH_P256, &keys.p256dh);
    let secret = agreement::agree(&ours, theirs, PushCryptoError::BadSubscriptionKey, |s| {
        Ok(s.to_vec())
    })?;
    Ok((secret, our_public))
}

fn seal(key: &[u8], nonce: &[u8], mut data: Vec<u8>) -> Result<Vec<u8>, PushCryptoError> {
    let key =
        LessSafeKey::new(UnboundKey::new(&AES_128_GCM, key).map_err(|_| PushCryptoError::Failed)?);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| PushCryptoError::Failed)?;
    key.seal_in_place_append_tag(nonce, Aad::empty(), &mut data)
        .map_err(|_| PushCryptoError::Failed)?;
    Ok(data)
}

fn random_salt() -> Result<[u8; 16], PushCryptoError> {
    let mut salt = [0u8; 16];
    SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| PushCryptoError::Failed)?;
    Ok(salt)
}

/// `payload` encrypted for the subscription, as RFC 8291 (`aes128gcm`) or
/// as its draft (`aesgcm`) when `standard` is false.
pub fn encrypt(
    keys: &SubscriptionKeys,
    payload: &[u8],
    standard: bool,
) -> Result<Encrypted, PushCryptoError> {
    if payload.len() > MAX_PAYLOAD {
        return Err(PushCryptoError::TooLarge);
    }
    let (secret, our_public) = agree(keys)?;
    let salt = random_salt()?;
    if standard {
        // RFC 8291, section 3.4, then RFC 8188's single record.
        let key_info = [b"WebPush: info\0".as_slice(), &keys.p256dh, &our_public].concat();
        let ikm = hkdf(&keys.auth, &secret, &[&key_info], 32)?;
        let cek = hkdf(&salt, &ikm, &[b"Content-Encoding: aes128gcm\0"], 16)?;
        let nonce = hkdf(&salt, &ikm, &[b"Content-Encoding: nonce\0"], 12)?;
        let mut record = payload.to_vec();
        record.push(2); // the last record's delimiter
        let sealed = seal(&cek, &nonce, record)?;
        let mut body = Vec::with_capacity(16 + 4 + 1 + our_public.len() + sealed.len());
        body.extend_from_slice(&salt);
        body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
        body.push(our_public.len() as u8);
        body.extend_from_slice(&our_public);
        body.extend_from_slice(&sealed);
        return Ok(Encrypted {
            body,
            content_encoding: "aes128gcm",
            encryption: None,
            crypto_key_dh: None,
        });
    }
    // draft-ietf-webpush-encryption-04 with draft-ietf-httpbis-encryption-
    // encoding-03: the keys' context in the info, two bytes of padding
    // length before the text.
    let ikm = hkdf(&keys.auth, &secret, &[b"Content-Encoding: auth\0"], 32)?;
    let length = |key: &[u8]| (key.len() as u16).to_be_bytes();
    let context = [
        b"P-256\0".as_slice(),
        &length(&keys.p256dh),
        &keys.p256dh,
        &length(&our_public),
        &our_public,
    ]
    .concat();
    let cek = hkdf(&salt, &ikm, &[b"Content-Encoding: aesgcm\0", &context], 16)?;
    let nonce = hkdf(&salt, &ikm, &[b"Content-Encoding: nonce\0", &context], 12)?;
    let record = [&[0u8, 0u8][..], payload].concat();
    Ok(Encrypted {
        body: seal(&cek, &nonce, record)?,
        content_encoding: "aesgcm",
        encryption: Some(format!("salt={}", URL_SAFE_NO_PAD.encode(salt))),
        crypto_key_dh: Some(format!("dh={}", URL_SAFE_NO_PAD.encode(&our_public))),
    })
}

/// This server's VAPID key pair.
pub struct VapidKey {
    pair: EcdsaKeyPair,
    /// The uncompressed public point, base64url without padding: what
    /// clients pass to the browser as `applicationServerKey`.
    pub public_key: String,
}

impl VapidKey {
    /// A new key pair, and its PKCS#8 document (base64) to keep.
    pub fn generate() -> Result<(Self, String), PushCryptoError> {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .map_err(|_| PushCryptoError::BadVapidKey)?;
        let stored = STANDARD.encode(pkcs8.as_ref());
        Ok((Self::from_stored(&stored)?, stored))
    }

    /// The key pair kept as base64 PKCS#8.
    pub fn from_stored(stored: &str) -> Result<Self, PushCryptoError> {
        let der = STANDARD
            .decode(stored)
            .map_err(|_| PushCryptoError::BadVapidKey)?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
            .map_err(|_| PushCryptoError::BadVapidKey)?;
        let public_key = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
        Ok(Self { pair, public_key })
    }

    /// The signed claim for a push service at `audience` (its origin),
    /// valid until `expires` (seconds since the epoch), naming `subject`
    /// (a `mailto:` or `https:` URL to reach the operator).
    pub fn claim(
        &self,
        audience: &str,
        expires: i64,
        subject: &str,
    ) -> Result<String, PushCryptoError> {
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({ "aud": audience, "exp": expires, "sub": subject });
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signing_input = format!("{header}.{claims}");
        let signature = self
            .pair
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .map_err(|_| PushCryptoError::BadVapidKey)?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_keys_must_be_a_point_and_a_secret() {
        let point = URL_SAFE_NO_PAD.encode([4u8; 65]);
        let secret = URL_SAFE_NO_PAD.encode([7u8; 16]);
        assert!(SubscriptionKeys::decode(&point, &secret).is_ok());
        assert!(SubscriptionKeys::decode(&format!("{point}="), &format!("{secret}==")).is_ok());
        assert!(SubscriptionKeys::decode(&secret, &secret).is_err());
        assert!(SubscriptionKeys::decode(&point, "c2hvcnQ").is_err());
        assert!(SubscriptionKeys::decode("not base64!", &secret).is_err());
    }

    #[test]
    fn a_vapid_key_survives_being_kept() {
        let (key, stored) = VapidKey::generate().expect("generated");
        let again = VapidKey::from_stored(&stored).expect("read back");
        assert_eq!(key.public_key, again.public_key);
        assert_eq!(
            URL_SAFE_NO_PAD.decode(&key.public_key).expect("b64").len(),
            65
        );
        let claim = key
            .claim("https://push.example", 1, "mailto:a@b.example")
            .expect("signed");
        assert_eq!(claim.split('.').count(), 3);
        assert!(VapidKey::from_stored("bm90IGEga2V5").is_err());
    }
}
