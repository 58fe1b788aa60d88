//! HTTP Message Signatures (RFC 9421), with `Content-Digest` (RFC 9530).
//!
//! What we send: `Signature-Input: sig1=("@method" "@target-uri"
//! "content-digest");created=…;keyid="…";alg="rsa-v1_5-sha256"` (no
//! `content-digest` on a GET), a SHA-256 `Content-Digest` of the body, and
//! `Signature: sig1=:…:`.
//!
//! What we accept holds a signature to the checks a draft-cavage one meets:
//! it covers `@method`, the host (`@target-uri`, or `@authority`), the path
//! (`@target-uri`, `@request-target`, or `@path` and, when the request has
//! a query, `@query`), and `content-digest` when there is a body, whose
//! SHA-256 or SHA-512 digests must all match it; it carries `created` (or
//! covers `date`) inside the [`DateWindow`], and is not past `expires`.
//! Algorithms: `rsa-v1_5-sha256` and `rsa-pss-sha512` (both tried, in that
//! order, when `alg` is absent, since every key we can resolve is RSA);
//! `ed25519` and the others are refused by name. Components with parameters (`;sf`, `;key`,
//! `;req`…) and `@query-param` are refused: no fediverse server signs them.
//!
//! Of several signatures in one request, the first that names a key and
//! covers what is required is the one verified.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest::{SHA256, SHA512, digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderName, HeaderValue, Method};

use super::structured::{Bare, Member, Parameters, parse_dictionary, serialize_inner_list};
use super::{
    DateWindow, MAX_SIGNATURE_HEADER_LEN, SIGNATURE, SignError, SigningKey, VerifyError,
    VerifyingKey, WindowViolation, trim_ows,
};

pub const SIGNATURE_INPUT: HeaderName = HeaderName::from_static("signature-input");
pub const CONTENT_DIGEST: HeaderName = HeaderName::from_static("content-digest");

/// The label of the signature we send.
const LABEL: &str = "sig1";
/// Signatures looked at in one request, at most.
const MAX_SIGNATURES: usize = 8;

/// The algorithms we verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageAlgorithm {
    RsaV15Sha256,
    RsaPssSha512,
}

/// A parsed RFC 9421 signature: the one chosen among those of a request.
#[derive(Debug, Clone)]
pub struct MessageSignature {
    pub key_id: String,
    /// `None` when the signature does not say (`alg` is optional): every
    /// key we resolve is RSA, so both RSA algorithms are tried.
    pub algorithm: Option<MessageAlgorithm>,
    /// Component identifiers, in signing order.
    pub components: Vec<String>,
    /// The `@signature-params` line's value.
    params: String,
    created: Option<i64>,
    expires: Option<i64>,
    signature: Vec<u8>,
}

/// The parts of an inbound request a signature may cover, as received.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    pub method: &'a Method,
    /// The scheme the request reached us by, as the public URL has it
    /// (the process itself may sit behind a TLS-terminating proxy).
    pub scheme: &'a str,
    /// The raw request target (`uri.path_and_query()`).
    pub path_and_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: Option<&'a [u8]>,
}

/// Signs an outbound request with RFC 9421, setting `Content-Digest` (when
/// there is a body), `Signature-Input` and `Signature` in `headers`.
pub fn sign_message(
    key: &SigningKey,
    method: &Method,
    url: &url::Url,
    headers: &mut HeaderMap,
    body: Option<&[u8]>,
    now: SystemTime,
) -> Result<(), SignError> {
    if url.host_str().is_none() {
        return Err(SignError::NoHost);
    }
    let mut target = url.clone();
    target.set_fragment(None);
    let content_digest = body.map(|body| {
        let mut value = String::from("sha-256=:");
        STANDARD.encode_string(digest(&SHA256, body), &mut value);
        value.push(':');
        value
    });
    let created = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let mut components = vec![
        (Bare::String("@method".to_owned()), Vec::new()),
        (Bare::String("@target-uri".to_owned()), Vec::new()),
    ];
    if content_digest.is_some() {
        components.push((Bare::String("content-digest".to_owned()), Vec::new()));
    }
    let params: Parameters = vec![
        ("created".to_owned(), Bare::Integer(created)),
        ("keyid".to_owned(), Bare::String(key.key_id().to_owned())),
        ("alg".to_owned(), Bare::String("rsa-v1_5-sha256".to_owned())),
    ];
    let params = serialize_inner_list(&components, &params);

    let mut base = Vec::with_capacity(256);
    push_component(&mut base, "@method", method.as_str().as_bytes());
    push_component(&mut base, "@target-uri", target.as_str().as_bytes());
    if let Some(content_digest) = &content_digest {
        push_component(&mut base, "content-digest", content_digest.as_bytes());
    }
    push_params(&mut base, &params);

    let mut signature = vec![0; key.pair.public_modulus_len()];
    key.pair
        .sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            &base,
            &mut signature,
        )
        .map_err(|_| SignError::Rsa)?;
    let input = HeaderValue::try_from(format!("{LABEL}={params}"))
        .map_err(|_| SignError::InvalidHeaderValue)?;
    let signature = HeaderValue::try_from(format!("{LABEL}=:{}:", STANDARD.encode(&signature)))
        .map_err(|_| SignError::InvalidHeaderValue)?;
    if let Some(content_digest) = content_digest {
        let value =
            HeaderValue::try_from(content_digest).map_err(|_| SignError::InvalidHeaderValue)?;
        headers.insert(CONTENT_DIGEST, value);
    }
    headers.insert(SIGNATURE_INPUT, input);
    headers.insert(SIGNATURE, signature);
    Ok(())
}

/// Parses the RFC 9421 signatures of a request and picks the one to
/// verify, refusing before any key lookup what no key could make
/// acceptable.
pub fn parse_message_signature(headers: &HeaderMap) -> Result<MessageSignature, VerifyError> {
    let inputs = joined(headers, &SIGNATURE_INPUT)?.ok_or(VerifyError::MissingSignature)?;
    let signatures = joined(headers, &SIGNATURE)?.ok_or(VerifyError::MalformedSignature(
        "Signature-Input without a Signature header",
    ))?;
    let inputs = parse_dictionary(&inputs).map_err(|_| {
        VerifyError::MalformedSignature("Signature-Input is not a structured dictionary")
    })?;
    let signatures = parse_dictionary(&signatures)
        .map_err(|_| VerifyError::MalformedSignature("Signature is not a structured dictionary"))?;
    if inputs.len() > MAX_SIGNATURES {
        return Err(VerifyError::MalformedSignature("too many signatures"));
    }
    let mut first_error = None;
    for (label, input) in &inputs {
        let Some((_, signature)) = signatures.iter().find(|(l, _)| l == label) else {
            continue;
        };
        match one_signature(input, signature) {
            Ok(sig) => return Ok(sig),
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    Err(first_error.unwrap_or(VerifyError::MalformedSignature(
        "no Signature-Input label has a signature",
    )))
}

/// Every line of a header, joined with `, ` as HTTP combines them.
fn joined(headers: &HeaderMap, name: &HeaderName) -> Result<Option<String>, VerifyError> {
    let mut out: Option<String> = None;
    for value in headers.get_all(name) {
        let value = value
            .to_str()
            .map_err(|_| VerifyError::MalformedSignature("not visible ASCII"))?;
        let joined = out.get_or_insert_with(String::new);
        if !joined.is_empty() {
            joined.push_str(", ");
        }
        joined.push_str(value);
        if joined.len() > MAX_SIGNATURE_HEADER_LEN {
            return Err(VerifyError::MalformedSignature("header too long"));
        }
    }
    Ok(out)
}

fn one_signature(input: &Member, signature: &Member) -> Result<MessageSignature, VerifyError> {
    let malformed = VerifyError::MalformedSignature;
    let Member::InnerList(items, params) = input else {
        return Err(malformed("a Signature-Input member is not an inner list"));
    };
    let signature = match signature {
        Member::Item(Bare::Bytes(bytes), _) if !bytes.is_empty() => bytes.clone(),
        _ => return Err(malformed("a Signature member is not a byte sequence")),
    };
    let mut components = Vec::with_capacity(items.len());
    for (item, item_params) in items {
        let Bare::String(name) = item else {
            return Err(malformed("a covered component is not a string"));
        };
        if !item_params.is_empty() {
            return Err(VerifyError::UnsupportedComponent(format!(
                "{name} with parameters"
            )));
        }
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(malformed("a covered component is not lowercase"));
        }
        if components.contains(name) {
            return Err(malformed("a component is covered twice"));
        }
        components.push(name.clone());
    }
    let mut key_id = None;
    let mut alg = None;
    let mut created = None;
    let mut expires = None;
    for (name, value) in params {
        match (name.as_str(), value) {
            ("keyid", Bare::String(s)) => key_id = Some(s.clone()),
            ("alg", Bare::String(s)) => alg = Some(s.clone()),
            ("created", Bare::Integer(n)) => created = Some(*n),
            ("expires", Bare::Integer(n)) => expires = Some(*n),
            ("keyid" | "alg", _) => return Err(malformed("keyid and alg must be strings")),
            ("created" | "expires", _) => {
                return Err(malformed("created and expires must be integers"));
            }
            _ => {} // nonce, tag and unknown parameters are signed, not read
        }
    }
    let key_id = key_id
        .filter(|id| !id.is_empty())
        .ok_or(malformed("keyid is missing"))?;
    let algorithm = match alg.as_deref() {
        None => None,
        Some("rsa-v1_5-sha256") => Some(MessageAlgorithm::RsaV15Sha256),
        Some("rsa-pss-sha512") => Some(MessageAlgorithm::RsaPssSha512),
        Some(other) => return Err(VerifyError::UnsupportedAlgorithm(other.to_owned())),
    };
    let sig = MessageSignature {
        key_id,
        algorithm,
        params: serialize_inner_list(items, params),
        components,
        created,
        expires,
        signature,
    };
    sig.check_coverage()?;
    Ok(sig)
}

impl MessageSignature {
    fn covers(&self, name: &str) -> bool {
        self.components.iter().any(|c| c == name)
    }

    /// What every request's signature must cover, whatever the request.
    fn check_coverage(&self) -> Result<(), VerifyError> {
        for component in &self.components {
            if component.starts_with('@')
                && !matches!(
                    component.as_str(),
                    "@method"
                        | "@target-uri"
                        | "@authority"
                        | "@scheme"
                        | "@request-target"
                        | "@path"
                        | "@query"
                )
            {
                return Err(VerifyError::UnsupportedComponent(component.clone()));
            }
        }
        if !self.covers("@method") {
            return Err(VerifyError::UnsignedHeader("@method"));
        }
        if !self.covers("@target-uri") && !self.covers("@authority") {
            return Err(VerifyError::UnsignedHeader("@target-uri"));
        }
        if !self.covers("@target-uri") && !self.covers("@request-target") && !self.covers("@path") {
            return Err(VerifyError::UnsignedHeader("@path"));
        }
        if self.created.is_none() && !self.covers("date") {
            return Err(VerifyError::MalformedSignature(
                "the signature has no created time",
            ));
        }
        Ok(())
    }
}

/// Verifies an inbound request against its parsed RFC 9421 signature.
/// Checks run cheapest first; the RSA operation comes last.
pub fn verify_message(
    sig: &MessageSignature,
    key: &VerifyingKey,
    request: &RequestParts<'_>,
    now: SystemTime,
    window: &DateWindow,
) -> Result<(), VerifyError> {
    sig.check_coverage()?;
    let (path, query) = match request.path_and_query.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (request.path_and_query, None),
    };
    if query.is_some()
        && !sig.covers("@target-uri")
        && !sig.covers("@request-target")
        && !sig.covers("@query")
    {
        return Err(VerifyError::UnsignedHeader("@query"));
    }
    let content_digest_signed = sig.covers("content-digest");
    if request.body.is_some() && !content_digest_signed {
        return Err(VerifyError::UnsignedHeader("content-digest"));
    }
    check_time(sig, request.headers, now, window)?;
    if content_digest_signed {
        check_content_digest(request.headers, request.body.unwrap_or_default())?;
    }

    let authority = authority(request.headers, request.scheme)?;
    let mut base = Vec::with_capacity(512);
    for name in &sig.components {
        match name.as_str() {
            "@method" => push_component(&mut base, name, request.method.as_str().as_bytes()),
            "@target-uri" => {
                let uri = format!("{}://{authority}{}", request.scheme, request.path_and_query);
                push_component(&mut base, name, uri.as_bytes());
            }
            "@authority" => push_component(&mut base, name, authority.as_bytes()),
            "@scheme" => push_component(&mut base, name, request.scheme.as_bytes()),
            "@request-target" => {
                push_component(&mut base, name, request.path_and_query.as_bytes());
            }
            "@path" => {
                let path = if path.is_empty() { "/" } else { path };
                push_component(&mut base, name, path.as_bytes());
            }
            "@query" => {
                let query = format!("?{}", query.unwrap_or_default());
                push_component(&mut base, name, query.as_bytes());
            }
            header => {
                let mut values = request.headers.get_all(header).iter();
                let first = values
                    .next()
                    .ok_or_else(|| VerifyError::MissingHeader(header.to_owned()))?;
                let mut value = trim_ows(first.as_bytes()).to_vec();
                for more in values {
                    value.extend_from_slice(b", ");
                    value.extend_from_slice(trim_ows(more.as_bytes()));
                }
                push_component(&mut base, header, &value);
            }
        }
    }
    push_params(&mut base, &sig.params);
    let verified = match sig.algorithm {
        Some(MessageAlgorithm::RsaV15Sha256) => key.verifies(&base, &sig.signature),
        Some(MessageAlgorithm::RsaPssSha512) => key.verifies_pss_sha512(&base, &sig.signature),
        None => {
            key.verifies(&base, &sig.signature) || key.verifies_pss_sha512(&base, &sig.signature)
        }
    };
    if verified {
        Ok(())
    } else {
        Err(VerifyError::BadSignature)
    }
}

/// `@authority`: the `Host` header, lowercased, without the scheme's
/// default port (which the sender's URL leaves out too).
fn authority(headers: &HeaderMap, scheme: &str) -> Result<String, VerifyError> {
    let mut host = headers
        .get(http::header::HOST)
        .ok_or_else(|| VerifyError::MissingHeader("host".to_owned()))?
        .to_str()
        .map_err(|_| VerifyError::MalformedHeader("host"))?
        .trim()
        .to_ascii_lowercase();
    let default_port = match scheme {
        "https" => ":443",
        "http" => ":80",
        _ => "",
    };
    if !default_port.is_empty() && host.ends_with(default_port) {
        host.truncate(host.len() - default_port.len());
    }
    Ok(host)
}

fn check_time(
    sig: &MessageSignature,
    headers: &HeaderMap,
    now: SystemTime,
    window: &DateWindow,
) -> Result<(), VerifyError> {
    if let Some(created) = sig.created {
        window
            .check(unix_time(created), now)
            .map_err(VerifyError::DateOutOfWindow)?;
    }
    if sig.covers("date") {
        let date = headers
            .get(http::header::DATE)
            .and_then(|d| d.to_str().ok())
            .and_then(|d| httpdate::parse_http_date(d.trim()).ok())
            .ok_or(VerifyError::MalformedHeader("date"))?;
        window
            .check(date, now)
            .map_err(VerifyError::DateOutOfWindow)?;
    }
    if let Some(expires) = sig.expires {
        let deadline = unix_time(expires).checked_add(window.max_future);
        if deadline.is_some_and(|deadline| now > deadline) {
            return Err(VerifyError::DateOutOfWindow(WindowViolation::Expired));
        }
    }
    Ok(())
}

fn unix_time(secs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH
            .checked_add(Duration::from_secs(secs as u64))
            .unwrap_or(UNIX_EPOCH)
    } else {
        UNIX_EPOCH
    }
}

/// `Content-Digest` (RFC 9530): a dictionary of digests; every SHA-256 and
/// SHA-512 one must match the body, and there must be one of them. Other
/// algorithms are ignored.
fn check_content_digest(headers: &HeaderMap, body: &[u8]) -> Result<(), VerifyError> {
    let value = joined(headers, &CONTENT_DIGEST)
        .map_err(|_| VerifyError::MalformedHeader("content-digest"))?
        .ok_or_else(|| VerifyError::MissingHeader("content-digest".to_owned()))?;
    let members =
        parse_dictionary(&value).map_err(|_| VerifyError::MalformedHeader("content-digest"))?;
    let mut checked = false;
    for (name, member) in members {
        let algorithm = match name.as_str() {
            "sha-256" => &SHA256,
            "sha-512" => &SHA512,
            _ => continue,
        };
        let Member::Item(Bare::Bytes(given), _) = member else {
            return Err(VerifyError::MalformedHeader("content-digest"));
        };
        if given != digest(algorithm, body).as_ref() {
            return Err(VerifyError::DigestMismatch);
        }
        checked = true;
    }
    if checked {
        Ok(())
    } else {
        Err(VerifyError::UnsupportedContentDigest)
    }
}

fn push_component(base: &mut Vec<u8>, name: &str, value: &[u8]) {
    base.push(b'"');
    base.extend_from_slice(name.as_bytes());
    base.extend_from_slice(b"\": ");
    base.extend_from_slice(value);
    base.push(b'\n');
}

fn push_params(base: &mut Vec<u8>, params: &str) {
    base.extend_from_slice(b"\"@signature-params\": ");
    base.extend_from_slice(params.as_bytes());
}

/// Signs with RSA-PSS and SHA-512, for the tests of that algorithm.
#[cfg(test)]
pub(super) fn sign_pss_for_tests(key: &SigningKey, base: &[u8]) -> Vec<u8> {
    let mut signature = vec![0; key.pair.public_modulus_len()];
    key.pair
        .sign(
            &aws_lc_rs::signature::RSA_PSS_SHA512,
            &SystemRandom::new(),
            base,
            &mut signature,
        )
        .map(|()| signature)
        .unwrap_or_default()
}

#[cfg(test)]
#[path = "message_tests.rs"]
mod tests;
