//! HTTP Signatures (draft-cavage-http-signatures-12) as the fediverse uses
//! them: signing our deliveries and fetches, verifying inbound requests.
//! RFC 9421 HTTP Message Signatures are in [`message`] (over the RFC 8941
//! parser in `structured`); [`parse_inbound`], [`verify_inbound`] and
//! [`sign_with`] take either scheme, and [`crate::knock`] chooses which a
//! server is sent.
//!
//! What we send is what Mastodon sends: `algorithm="rsa-sha256"`, a `Date`
//! header rather than `(created)`, `headers="(request-target) host date
//! digest content-type"` on POST and `"(request-target) host date"` on GET,
//! RSASSA-PKCS1-v1_5 with SHA-256.
//!
//! What we accept follows Mastodon's verifier: `rsa-sha256` or `hs2019` (or
//! no `algorithm` at all, which Mastodon reads as `hs2019`), all verified as
//! RSA-SHA256; a `Digest` with a matching SHA-256 whenever a body is sent;
//! a signed `Date` or `(created)` inside a [`DateWindow`]. We are slightly
//! stricter in one respect: the signature must always cover
//! `(request-target)` and `host`, where Mastodon lets a POST do without
//! `host`, or sign `digest` instead of `(request-target)`. Mastodon, Pleroma,
//! Misskey, GoToSocial and activitypub_federation all sign both.
//!
//! Entry points: [`sign_request`] with a [`SigningKey`]; [`parse_signature`],
//! then (after looking the `keyId` up) [`verify_request`] with a
//! [`VerifyingKey`]. Keys are parsed once and meant to be cached with the
//! actor, so the per-request path never decodes PEM or DER.
//!
//! The signing string is built here rather than with
//! `http-signature-normalization`: that crate always announces
//! `algorithm="hs2019"` where Mastodon sends `rsa-sha256`, reads the wall
//! clock instead of the `now` we pass, never refuses a future `Date`, hides
//! the signed-header list from callers, and needs every request header
//! copied into a `BTreeMap<String, String>` first. The tests still check our
//! output against it both ways, since activitypub_federation (Lemmy) signs
//! with it.

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use base64::Engine;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, DATE, HOST};
use http::{HeaderMap, HeaderName, HeaderValue, Method};

const SIGNATURE: HeaderName = HeaderName::from_static("signature");
const DIGEST: HeaderName = HeaderName::from_static("digest");

/// An RSA-8192 signature is 1,368 base64 characters; anything far beyond
/// that is not a signature we could verify, so refuse it before parsing.
const MAX_SIGNATURE_HEADER_LEN: usize = 8 * 1024;

/// Base64 as senders actually write it: some drop the `=` padding.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

mod key;
pub mod message;
mod params;
mod structured;

pub use key::{KeyError, SigningKey, VerifyingKey};
pub use message::{
    CONTENT_DIGEST, MessageAlgorithm, MessageSignature, RequestParts, SIGNATURE_INPUT,
    parse_message_signature, sign_message, verify_message,
};
use params::Params;

// ---------------------------------------------------------------------------
// Either scheme

/// The two ways of signing an HTTP request that the fediverse uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// draft-cavage-http-signatures-12, as Mastodon has long sent it.
    Cavage,
    /// RFC 9421 HTTP Message Signatures.
    Rfc9421,
}

impl Scheme {
    /// The name stored for a server that accepts this scheme.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cavage => "cavage",
            Self::Rfc9421 => "rfc9421",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "cavage" => Some(Self::Cavage),
            "rfc9421" => Some(Self::Rfc9421),
            _ => None,
        }
    }

    /// The scheme tried when this one was refused.
    pub fn other(self) -> Self {
        match self {
            Self::Cavage => Self::Rfc9421,
            Self::Rfc9421 => Self::Cavage,
        }
    }
}

/// Signs an outbound request with the given scheme.
pub fn sign_with(
    scheme: Scheme,
    key: &SigningKey,
    method: &Method,
    url: &url::Url,
    headers: &mut HeaderMap,
    body: Option<&[u8]>,
    now: SystemTime,
) -> Result<(), SignError> {
    match scheme {
        Scheme::Cavage => sign_request(key, method, url, headers, body, now),
        Scheme::Rfc9421 => sign_message(key, method, url, headers, body, now),
    }
}

/// The signature of an inbound request, in whichever scheme it came.
#[derive(Debug, Clone)]
pub enum InboundSignature {
    Cavage(SignatureHeader),
    Rfc9421(MessageSignature),
}

impl InboundSignature {
    pub fn key_id(&self) -> &str {
        match self {
            Self::Cavage(sig) => &sig.key_id,
            Self::Rfc9421(sig) => &sig.key_id,
        }
    }

    pub fn scheme(&self) -> Scheme {
        match self {
            Self::Cavage(_) => Scheme::Cavage,
            Self::Rfc9421(_) => Scheme::Rfc9421,
        }
    }
}

/// Parses an inbound request's signature: RFC 9421 when the request has a
/// `Signature-Input` header (its `Signature` header is then a dictionary),
/// draft-cavage otherwise.
pub fn parse_inbound(headers: &HeaderMap) -> Result<InboundSignature, VerifyError> {
    if headers.contains_key(SIGNATURE_INPUT) {
        parse_message_signature(headers).map(InboundSignature::Rfc9421)
    } else {
        parse_signature(headers).map(InboundSignature::Cavage)
    }
}

/// Verifies an inbound request against its signature, in either scheme.
pub fn verify_inbound(
    sig: &InboundSignature,
    key: &VerifyingKey,
    request: &RequestParts<'_>,
    now: SystemTime,
    window: &DateWindow,
) -> Result<(), VerifyError> {
    match sig {
        InboundSignature::Cavage(sig) => verify_request(
            sig,
            key,
            request.method,
            request.path_and_query,
            request.headers,
            request.body,
            now,
            window,
        ),
        InboundSignature::Rfc9421(sig) => verify_message(sig, key, request, now, window),
    }
}

// ---------------------------------------------------------------------------
// Signing

/// Why a request could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("the URL has no host to sign")]
    NoHost,
    #[error("RSA signing failed")]
    Rsa,
    #[error("the Signature header value is not a valid header value")]
    InvalidHeaderValue,
}

/// Signs an outbound request the way Mastodon expects, setting `Host`,
/// `Date`, `Digest` (when there is a body) and `Signature` in `headers`.
///
/// Covers `(request-target) host date`, then `digest` and `content-type`
/// (if set) when there is a body, or `accept` (if set) when there is none.
/// `(request-target)` carries the query string, as the draft requires and
/// Mastodon ≥ 4.3 verifies (it also still accepts path-only targets).
/// Any header signed here must reach the peer unchanged, so set
/// `Content-Type` and `Accept` before calling and let the HTTP client add
/// nothing that overrides them.
pub fn sign_request(
    key: &SigningKey,
    method: &Method,
    url: &url::Url,
    headers: &mut HeaderMap,
    body: Option<&[u8]>,
    now: SystemTime,
) -> Result<(), SignError> {
    let host = url.host_str().ok_or(SignError::NoHost)?;
    // `Url::port` is `None` for the scheme's default port, which is exactly
    // when clients leave the port out of `Host`.
    let host = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    let date = httpdate::fmt_http_date(now);
    let digest = body.map(|body| {
        let mut value = String::with_capacity(52);
        value.push_str("SHA-256=");
        STANDARD.encode_string(digest(&SHA256, body), &mut value);
        value
    });
    let extra = match body {
        Some(_) => headers.get(CONTENT_TYPE).map(|v| ("content-type", v)),
        None => headers.get(ACCEPT).map(|v| ("accept", v)),
    };

    let mut signed_names = String::from("(request-target) host date");
    let mut signing_string = Vec::with_capacity(256);
    signing_string.extend_from_slice(b"(request-target): ");
    push_request_target(&mut signing_string, method, url.path());
    if let Some(query) = url.query() {
        signing_string.push(b'?');
        signing_string.extend_from_slice(query.as_bytes());
    }
    for (name, value) in [("host", host.as_bytes()), ("date", date.as_bytes())] {
        push_line(&mut signing_string, name, value);
    }
    if let Some(digest) = &digest {
        signed_names.push_str(" digest");
        push_line(&mut signing_string, "digest", digest.as_bytes());
    }
    if let Some((name, value)) = extra {
        signed_names.push(' ');
        signed_names.push_str(name);
        push_line(&mut signing_string, name, trim_ows(value.as_bytes()));
    }

    let mut signature = vec![0; key.pair.public_modulus_len()];
    key.pair
        .sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            &signing_string,
            &mut signature,
        )
        .map_err(|_| SignError::Rsa)?;
    let header = format!(
        "keyId=\"{}\",algorithm=\"rsa-sha256\",headers=\"{signed_names}\",signature=\"{}\"",
        key.key_id(),
        STANDARD.encode(&signature),
    );
    let header = HeaderValue::try_from(header).map_err(|_| SignError::InvalidHeaderValue)?;

    // Built from a parsed URL, a formatted date and base64: always valid.
    let host = HeaderValue::try_from(host).map_err(|_| SignError::InvalidHeaderValue)?;
    let date = HeaderValue::try_from(date).map_err(|_| SignError::InvalidHeaderValue)?;
    headers.insert(HOST, host);
    headers.insert(DATE, date);
    if let Some(digest) = digest {
        let digest = HeaderValue::try_from(digest).map_err(|_| SignError::InvalidHeaderValue)?;
        headers.insert(DIGEST, digest);
    }
    headers.insert(SIGNATURE, header);
    Ok(())
}

fn push_request_target(out: &mut Vec<u8>, method: &Method, target: &str) {
    out.extend(method.as_str().bytes().map(|b| b.to_ascii_lowercase()));
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
}

fn push_line(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.push(b'\n');
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
}

fn trim_ows(value: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = value.iter().position(|b| !is_ows(b)).unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !is_ows(b))
        .map_or(start, |i| i + 1);
    &value[start..end]
}

// ---------------------------------------------------------------------------
// Verification

/// How far a signature's `Date` (or `(created)`) may stray from our clock.
///
/// The default is 12 hours into the past and 1 hour into the future:
/// Mastodon's two limits (`EXPIRATION_WINDOW_LIMIT` and `CLOCK_SKEW_MARGIN`
/// in its `SignedRequest`). Mastodon combines them differently: a signature
/// without an `expires` parameter lives five minutes plus the margin there,
/// so for the usual Date-only signature this default is the more lenient.
/// `max_future` is also the grace allowed after an `expires` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateWindow {
    pub max_age: Duration,
    pub max_future: Duration,
}

impl Default for DateWindow {
    fn default() -> Self {
        Self {
            max_age: Duration::from_secs(12 * 60 * 60),
            max_future: Duration::from_secs(60 * 60),
        }
    }
}

impl DateWindow {
    fn check(&self, signed_at: SystemTime, now: SystemTime) -> Result<(), WindowViolation> {
        match now.duration_since(signed_at) {
            Ok(age) if age > self.max_age => Err(WindowViolation::TooOld),
            Ok(_) => Ok(()),
            Err(ahead) if ahead.duration() > self.max_future => Err(WindowViolation::InFuture),
            Err(_) => Ok(()),
        }
    }
}

/// How a signature's timestamps missed the [`DateWindow`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowViolation {
    TooOld,
    InFuture,
    Expired,
}

impl fmt::Display for WindowViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TooOld => "signed too long ago",
            Self::InFuture => "signed in the future",
            Self::Expired => "past its `expires` time",
        })
    }
}

/// Why an inbound request's signature was refused. Every variant means
/// "not authenticated"; they differ so logs and replies can say why.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("request is not signed (no Signature header)")]
    MissingSignature,
    #[error("malformed Signature header: {0}")]
    MalformedSignature(&'static str),
    #[error(
        "unsupported signature algorithm {0:?} (accepted: rsa-sha256 and hs2019 for draft-cavage \
         signatures, rsa-v1_5-sha256 and rsa-pss-sha512 for RFC 9421 ones)"
    )]
    UnsupportedAlgorithm(String),
    #[error("unsupported covered component `{0}`")]
    UnsupportedComponent(String),
    #[error("the signature must cover `{0}`")]
    UnsignedHeader(&'static str),
    #[error("signed header `{0}` is missing from the request")]
    MissingHeader(String),
    #[error("malformed `{0}` header")]
    MalformedHeader(&'static str),
    #[error("the Digest header offers no SHA-256 digest")]
    UnsupportedDigest,
    #[error("the Content-Digest header offers no SHA-256 or SHA-512 digest")]
    UnsupportedContentDigest,
    #[error("the digest does not match the body")]
    DigestMismatch,
    #[error("signature date outside the accepted window: {0}")]
    DateOutOfWindow(WindowViolation),
    #[error("signature does not verify with the key")]
    BadSignature,
}

/// A parsed `Signature` header (or `Authorization: Signature …`).
#[derive(Debug, Clone)]
pub struct SignatureHeader {
    pub key_id: String,
    /// As sent; `None` is treated as `hs2019`, like Mastodon does.
    pub algorithm: Option<String>,
    /// Lowercased, in signing order.
    pub signed_headers: Vec<String>,
    signature: Vec<u8>,
    created: Option<Timestamp>,
    expires: Option<Timestamp>,
}

/// A `created`/`expires` parameter: the raw text goes into the signing
/// string verbatim, the value into the window checks.
#[derive(Debug, Clone)]
struct Timestamp {
    raw: String,
    secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Algorithm {
    RsaSha256,
    Hs2019,
}

/// Parses the signature of an inbound request and refuses, before any key
/// lookup, what no key could make acceptable: unsupported algorithms and
/// signatures not covering `(request-target)`, `host` and `date` or
/// `(created)`.
pub fn parse_signature(headers: &HeaderMap) -> Result<SignatureHeader, VerifyError> {
    let raw = signature_header_value(headers)?;
    if raw.len() > MAX_SIGNATURE_HEADER_LEN {
        return Err(VerifyError::MalformedSignature("header too long"));
    }
    let params = Params::parse(raw)?;
    let key_id = params
        .key_id
        .filter(|id| !id.is_empty())
        .ok_or(VerifyError::MalformedSignature("keyId is missing"))?
        .into_owned();
    let signature = params
        .signature
        .ok_or(VerifyError::MalformedSignature("signature is missing"))?;
    let signature = LENIENT_BASE64
        .decode(signature.as_bytes())
        .ok()
        .filter(|s| !s.is_empty())
        .ok_or(VerifyError::MalformedSignature("signature is not base64"))?;
    let algorithm = params.algorithm.map(Cow::into_owned);
    let alg = check_algorithm(algorithm.as_deref())?;
    // Mastodon's defaults when `headers` is absent; neither passes the
    // coverage check below, but the error then names what is missing.
    let default_headers = match alg {
        Algorithm::Hs2019 => "(created)",
        Algorithm::RsaSha256 => "date",
    };
    let signed_headers = params
        .headers
        .as_deref()
        .unwrap_or(default_headers)
        .split_ascii_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    let created = params
        .created
        .map(|raw| parse_timestamp(raw, "created is not a Unix time"))
        .transpose()?;
    let expires = params
        .expires
        .map(|raw| parse_timestamp(raw, "expires is not a Unix time"))
        .transpose()?;
    let sig = SignatureHeader {
        key_id,
        algorithm,
        signed_headers,
        signature,
        created,
        expires,
    };
    check_coverage(&sig, alg)?;
    Ok(sig)
}

/// Verifies an inbound request against the signature parsed from it.
///
/// `path_and_query` is the request target exactly as received (the raw
/// `uri.path_and_query()`, not decoded or normalised). `body` is the raw
/// body, `None` for requests without one. Servers speaking HTTP/2 must copy
/// the `:authority` into a `host` header first.
///
/// Checks run cheapest first; the RSA operation comes last. When the
/// signature fails over the full target and there is a query string, it is
/// tried once more over the path alone: Misskey, Friendica and Mastodon
/// before 4.3 sign `(request-target)` without the query, and Mastodon still
/// accepts that form.
#[allow(clippy::too_many_arguments)] // the request's parts, borrowed as the caller holds them
pub fn verify_request(
    sig: &SignatureHeader,
    key: &VerifyingKey,
    method: &Method,
    path_and_query: &str,
    headers: &HeaderMap,
    body: Option<&[u8]>,
    now: SystemTime,
    window: &DateWindow,
) -> Result<(), VerifyError> {
    // The fields are public, so re-check what parse_signature enforced.
    let alg = check_algorithm(sig.algorithm.as_deref())?;
    check_coverage(sig, alg)?;
    let digest_signed = sig.covers("digest");
    if body.is_some() && !digest_signed {
        return Err(VerifyError::UnsignedHeader("digest"));
    }
    check_time(sig, headers, now, window)?;
    if digest_signed {
        check_digest(headers, body.unwrap_or_default())?;
    }

    let mut signing_string = Vec::with_capacity(512);
    build_signing_string(&mut signing_string, sig, method, path_and_query, headers)?;
    if key.verifies(&signing_string, &sig.signature) {
        return Ok(());
    }
    if let Some((path, _query)) = path_and_query.split_once('?') {
        signing_string.clear();
        build_signing_string(&mut signing_string, sig, method, path, headers)?;
        if key.verifies(&signing_string, &sig.signature) {
            return Ok(());
        }
    }
    Err(VerifyError::BadSignature)
}

impl SignatureHeader {
    fn covers(&self, name: &str) -> bool {
        self.signed_headers.iter().any(|h| h == name)
    }
}

fn signature_header_value(headers: &HeaderMap) -> Result<&str, VerifyError> {
    let mut signatures = headers.get_all(SIGNATURE).iter();
    if let Some(value) = signatures.next() {
        if signatures.next().is_some() {
            return Err(VerifyError::MalformedSignature(
                "more than one Signature header",
            ));
        }
        let value = value
            .to_str()
            .map_err(|_| VerifyError::MalformedSignature("not visible ASCII"))?;
        // Old node-http-signature (early PeerTube) put the Authorization
        // form, scheme included, into the Signature header.
        return Ok(strip_signature_scheme(value).unwrap_or(value));
    }
    headers
        .get_all(AUTHORIZATION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(strip_signature_scheme)
        .ok_or(VerifyError::MissingSignature)
}

fn strip_signature_scheme(value: &str) -> Option<&str> {
    let value = value.trim_start();
    let scheme = value.get(..10)?;
    scheme
        .eq_ignore_ascii_case("signature ")
        .then(|| &value[10..])
}

fn check_algorithm(algorithm: Option<&str>) -> Result<Algorithm, VerifyError> {
    match algorithm {
        None => Ok(Algorithm::Hs2019),
        Some(a) if a.eq_ignore_ascii_case("hs2019") => Ok(Algorithm::Hs2019),
        Some(a) if a.eq_ignore_ascii_case("rsa-sha256") => Ok(Algorithm::RsaSha256),
        Some(a) => Err(VerifyError::UnsupportedAlgorithm(a.to_owned())),
    }
}

fn check_coverage(sig: &SignatureHeader, alg: Algorithm) -> Result<(), VerifyError> {
    for pseudo in ["(created)", "(expires)"] {
        if sig.covers(pseudo) && alg != Algorithm::Hs2019 {
            // The draft forbids these with the named algorithms (§2.3).
            return Err(VerifyError::MalformedSignature(
                "(created) and (expires) are only allowed with hs2019",
            ));
        }
    }
    if sig.covers("(created)") && sig.created.is_none() {
        return Err(VerifyError::MalformedSignature(
            "(created) is signed but missing",
        ));
    }
    if sig.covers("(expires)") && sig.expires.is_none() {
        return Err(VerifyError::MalformedSignature(
            "(expires) is signed but missing",
        ));
    }
    if !sig.covers("(request-target)") {
        return Err(VerifyError::UnsignedHeader("(request-target)"));
    }
    if !sig.covers("host") {
        return Err(VerifyError::UnsignedHeader("host"));
    }
    if !sig.covers("date") && !sig.covers("(created)") {
        return Err(VerifyError::UnsignedHeader("date"));
    }
    Ok(())
}

fn check_time(
    sig: &SignatureHeader,
    headers: &HeaderMap,
    now: SystemTime,
    window: &DateWindow,
) -> Result<(), VerifyError> {
    // Only signed timestamps count: an unsigned one proves nothing.
    if sig.covers("date") {
        let date = headers
            .get(DATE)
            .ok_or_else(|| VerifyError::MissingHeader("date".to_owned()))?
            .to_str()
            .ok()
            .and_then(|d| httpdate::parse_http_date(d.trim()).ok())
            .ok_or(VerifyError::MalformedHeader("date"))?;
        window
            .check(date, now)
            .map_err(VerifyError::DateOutOfWindow)?;
    }
    if let Some(created) = sig.created.as_ref().filter(|_| sig.covers("(created)")) {
        window
            .check(created.time(), now)
            .map_err(VerifyError::DateOutOfWindow)?;
    }
    if let Some(expires) = &sig.expires {
        let deadline = expires.time().checked_add(window.max_future);
        if deadline.is_some_and(|deadline| now > deadline) {
            return Err(VerifyError::DateOutOfWindow(WindowViolation::Expired));
        }
    }
    Ok(())
}

/// `Digest: SHA-256=<base64>[, other=…]`: the algorithm name is matched
/// case-insensitively (`sha-256=` occurs), other algorithms are ignored,
/// and a SHA-256 entry is required.
fn check_digest(headers: &HeaderMap, body: &[u8]) -> Result<(), VerifyError> {
    let mut present = false;
    let mut sha256 = None;
    for value in headers.get_all(DIGEST) {
        present = true;
        for item in value.as_bytes().split(|&b| b == b',') {
            let item = trim_ows(item);
            if item.is_empty() {
                continue;
            }
            let eq = item
                .iter()
                .position(|&b| b == b'=')
                .ok_or(VerifyError::MalformedHeader("digest"))?;
            if sha256.is_none() && item[..eq].eq_ignore_ascii_case(b"sha-256") {
                sha256 = Some(trim_ows(&item[eq + 1..]));
            }
        }
    }
    if !present {
        return Err(VerifyError::MissingHeader("digest".to_owned()));
    }
    let given = sha256.ok_or(VerifyError::UnsupportedDigest)?;
    let mut decoded = [0u8; 48];
    let len = LENIENT_BASE64
        .decode_slice(given, &mut decoded)
        .map_err(|_| VerifyError::MalformedHeader("digest"))?;
    if decoded[..len] == *digest(&SHA256, body).as_ref() {
        Ok(())
    } else {
        Err(VerifyError::DigestMismatch)
    }
}

fn build_signing_string(
    out: &mut Vec<u8>,
    sig: &SignatureHeader,
    method: &Method,
    target: &str,
    headers: &HeaderMap,
) -> Result<(), VerifyError> {
    for (i, name) in sig.signed_headers.iter().enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        match name.as_str() {
            "(request-target)" => push_request_target(out, method, target),
            "(created)" | "(expires)" => {
                let stamp = if name == "(created)" {
                    &sig.created
                } else {
                    &sig.expires
                };
                let stamp = stamp.as_ref().ok_or(VerifyError::MalformedSignature(
                    "signed timestamp is missing",
                ))?;
                out.extend_from_slice(stamp.raw.as_bytes());
            }
            _ => {
                // Repeated headers are joined with ", " (draft §2.3).
                let mut values = headers.get_all(name.as_str()).iter();
                let first = values
                    .next()
                    .ok_or_else(|| VerifyError::MissingHeader(name.clone()))?;
                out.extend_from_slice(trim_ows(first.as_bytes()));
                for value in values {
                    out.extend_from_slice(b", ");
                    out.extend_from_slice(trim_ows(value.as_bytes()));
                }
            }
        }
    }
    Ok(())
}

impl Timestamp {
    fn time(&self) -> SystemTime {
        UNIX_EPOCH
            .checked_add(Duration::from_secs(self.secs))
            .unwrap_or(UNIX_EPOCH)
    }
}

fn parse_timestamp(raw: Cow<'_, str>, error: &'static str) -> Result<Timestamp, VerifyError> {
    // `expires` may carry a fraction (draft §2.1.5); whole seconds suffice.
    let whole = raw.split_once('.').map_or(&*raw, |(whole, _)| whole);
    let secs = whole
        .parse::<u64>()
        .map_err(|_| VerifyError::MalformedSignature(error))?;
    Ok(Timestamp {
        raw: raw.into_owned(),
        secs,
    })
}

#[cfg(test)]
mod message_properties;
#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;
