//! Tests for HTTP signatures. Fixtures under `fixtures/signatures/` were
//! signed by OpenSSL (see `generate.sh` there), so they check interoperability
//! with an independent implementation, not just self-consistency.

use super::*;
use std::collections::BTreeMap;

const REMOTE_SPKI: &str = include_str!("../../fixtures/signatures/remote_rsa2048.spki.pem");
const REMOTE_PKCS1: &str = include_str!("../../fixtures/signatures/remote_rsa2048.pkcs1.pem");
const RSA1024_SPKI: &str = include_str!("../../fixtures/signatures/rsa1024.spki.pem");
const TEST_KEY: &str = include_str!("../../fixtures/signatures/perch_test_key.pkcs8.pem");
const TEST_KEY_PKCS1: &str = include_str!("../../fixtures/signatures/perch_test_key.pkcs1.pem");
const FOLLOW_BODY: &[u8] = include_bytes!("../../fixtures/signatures/follow.body.json");
const MASTODON_POST: &str = include_str!("../../fixtures/signatures/mastodon_post.http");
const HS2019_GET: &str = include_str!("../../fixtures/signatures/hs2019_created_get.http");
const PATH_ONLY_GET: &str = include_str!("../../fixtures/signatures/path_only_target_get.http");
const PERCH_POST: &str = include_str!("../../fixtures/signatures/perch_post.http");

/// `Tue, 07 Jan 2025 12:00:00 GMT`, the instant every fixture was signed at.
const FIXTURE_TIME: u64 = 1_736_251_200;
const LOCAL_KEY_ID: &str = "https://perch.example/users/alice#main-key";

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn fixture_now() -> SystemTime {
    at(FIXTURE_TIME + 60)
}

/// Reads a request head: `METHOD target HTTP/1.1`, then `Name: value` lines.
fn parse_http(text: &str) -> (Method, String, HeaderMap) {
    let mut lines = text.lines();
    let mut request_line = lines.next().expect("request line").split(' ');
    let method =
        Method::from_bytes(request_line.next().expect("method").as_bytes()).expect("valid method");
    let target = request_line.next().expect("target").to_owned();
    let mut headers = HeaderMap::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(": ").expect("header line");
        headers.append(
            HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_str(value).expect("header value"),
        );
    }
    (method, target, headers)
}

fn verify_fixture(
    text: &str,
    key: &VerifyingKey,
    body: Option<&[u8]>,
    now: SystemTime,
) -> Result<(), VerifyError> {
    let (method, target, headers) = parse_http(text);
    let sig = parse_signature(&headers)?;
    verify_request(
        &sig,
        key,
        &method,
        &target,
        &headers,
        body,
        now,
        &DateWindow::default(),
    )
}

fn remote_key() -> VerifyingKey {
    VerifyingKey::from_pem(REMOTE_SPKI).expect("SPKI key parses")
}

/// A fresh key pair: (signing key, its verifying key).
fn fresh_keys() -> (SigningKey, VerifyingKey) {
    let (public, private) = perch_core::keys::generate_actor_keys().expect("generates");
    (
        SigningKey::from_pem(LOCAL_KEY_ID, &private).expect("private key parses"),
        VerifyingKey::from_pem(&public).expect("public key parses"),
    )
}

/// Signs a POST delivery to `https://remote.example/inbox` at `now`.
fn signed_post(key: &SigningKey, body: &[u8], now: SystemTime) -> HeaderMap {
    let url = url::Url::parse("https://remote.example/inbox").expect("url");
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/activity+json"),
    );
    sign_request(key, &Method::POST, &url, &mut headers, Some(body), now).expect("signs");
    headers
}

fn verify_post(
    headers: &HeaderMap,
    key: &VerifyingKey,
    body: &[u8],
    now: SystemTime,
) -> Result<(), VerifyError> {
    let sig = parse_signature(headers)?;
    verify_request(
        &sig,
        key,
        &Method::POST,
        "/inbox",
        headers,
        Some(body),
        now,
        &DateWindow::default(),
    )
}

/// Replaces the `Signature` header's `headers="…"` list (the signature
/// itself is then no longer valid, which these tests never reach).
fn with_signed_list(headers: &HeaderMap, list: &str) -> HeaderMap {
    let mut headers = headers.clone();
    let value = headers[SIGNATURE].to_str().expect("ascii").to_owned();
    let start = value.find("headers=\"").expect("has headers") + "headers=\"".len();
    let end = start + value[start..].find('"').expect("closing quote");
    let value = format!("{}{list}{}", &value[..start], &value[end..]);
    headers.insert(SIGNATURE, HeaderValue::from_str(&value).expect("valid"));
    headers
}

fn with_algorithm(headers: &HeaderMap, algorithm: &str) -> HeaderMap {
    let mut headers = headers.clone();
    let value = headers[SIGNATURE].to_str().expect("ascii");
    let value = value.replace("algorithm=\"rsa-sha256\"", algorithm);
    headers.insert(SIGNATURE, HeaderValue::from_str(&value).expect("valid"));
    headers
}

#[test]
fn keys_are_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SigningKey>();
    assert_send_sync::<VerifyingKey>();
    assert_send_sync::<SignatureHeader>();
}

#[test]
fn post_round_trip() {
    let (signing, verifying) = fresh_keys();
    let now = SystemTime::now();
    let headers = signed_post(&signing, FOLLOW_BODY, now);

    assert_eq!(headers[HOST], "remote.example");
    assert_eq!(headers[DATE], httpdate::fmt_http_date(now).as_str());
    assert_eq!(
        headers[DIGEST],
        "SHA-256=Ejqi09TMB21wFOJK/2J/r9nF8d2ssYT1ycJjtptT4wg="
    );
    let sig = parse_signature(&headers).expect("parses");
    assert_eq!(sig.key_id, LOCAL_KEY_ID);
    assert_eq!(sig.algorithm.as_deref(), Some("rsa-sha256"));
    assert_eq!(
        sig.signed_headers,
        ["(request-target)", "host", "date", "digest", "content-type"]
    );
    verify_post(&headers, &verifying, FOLLOW_BODY, now).expect("verifies");
}

#[test]
fn get_round_trip_with_query_and_port() {
    let (signing, verifying) = fresh_keys();
    let now = SystemTime::now();
    let url = url::Url::parse("http://remote.example:8080/users/bob/outbox?page=true&min_id=1")
        .expect("url");
    let mut headers = HeaderMap::new();
    headers.insert(
        ACCEPT,
        HeaderValue::from_static("application/activity+json"),
    );
    sign_request(&signing, &Method::GET, &url, &mut headers, None, now).expect("signs");

    assert_eq!(headers[HOST], "remote.example:8080");
    assert!(!headers.contains_key(DIGEST));
    let sig = parse_signature(&headers).expect("parses");
    assert_eq!(
        sig.signed_headers,
        ["(request-target)", "host", "date", "accept"]
    );
    let target = "/users/bob/outbox?page=true&min_id=1";
    let window = DateWindow::default();
    verify_request(
        &sig,
        &verifying,
        &Method::GET,
        target,
        &headers,
        None,
        now,
        &window,
    )
    .expect("verifies");
    // The query is signed: a different one must not verify.
    let other = "/users/bob/outbox?page=true&min_id=2";
    assert_eq!(
        verify_request(
            &sig,
            &verifying,
            &Method::GET,
            other,
            &headers,
            None,
            now,
            &window
        ),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn get_without_accept_signs_the_minimum() {
    let (signing, _) = fresh_keys();
    let url = url::Url::parse("https://remote.example/users/bob").expect("url");
    let mut headers = HeaderMap::new();
    sign_request(
        &signing,
        &Method::GET,
        &url,
        &mut headers,
        None,
        at(FIXTURE_TIME),
    )
    .expect("signs");
    assert_eq!(headers[DATE], "Tue, 07 Jan 2025 12:00:00 GMT");
    let signature = headers[SIGNATURE].to_str().expect("ascii");
    assert!(signature.starts_with(
        "keyId=\"https://perch.example/users/alice#main-key\",algorithm=\"rsa-sha256\",\
         headers=\"(request-target) host date\",signature=\""
    ));
}

#[test]
fn signing_matches_openssl_byte_for_byte() {
    let (_, _, expected) = parse_http(PERCH_POST);
    for pem in [TEST_KEY, TEST_KEY_PKCS1] {
        let key = SigningKey::from_pem(LOCAL_KEY_ID, pem).expect("private key parses");
        let headers = signed_post(&key, FOLLOW_BODY, at(FIXTURE_TIME));
        for name in [HOST, DATE, DIGEST, CONTENT_TYPE, SIGNATURE] {
            assert_eq!(headers[&name], expected[&name], "{name}");
        }
    }
}

#[test]
fn verifies_openssl_signed_mastodon_delivery() {
    verify_fixture(
        MASTODON_POST,
        &remote_key(),
        Some(FOLLOW_BODY),
        fixture_now(),
    )
    .expect("verifies");
}

#[test]
fn pkcs1_public_key_is_accepted() {
    let key = VerifyingKey::from_pem(REMOTE_PKCS1).expect("PKCS#1 key parses");
    assert_eq!(key.bits(), 2048);
    verify_fixture(MASTODON_POST, &key, Some(FOLLOW_BODY), fixture_now()).expect("verifies");
}

#[test]
fn verifies_hs2019_with_created_and_expires() {
    let (_, _, headers) = parse_http(HS2019_GET);
    let sig = parse_signature(&headers).expect("parses");
    assert_eq!(sig.algorithm.as_deref(), Some("hs2019"));
    assert_eq!(sig.key_id, "https://remote.example/users/bob#main-key");
    verify_fixture(HS2019_GET, &remote_key(), None, fixture_now()).expect("verifies");

    // `expires` is created + 300 s; the window's skew margin is an hour.
    let after_grace = at(FIXTURE_TIME + 300 + 3600 + 1);
    assert_eq!(
        verify_fixture(HS2019_GET, &remote_key(), None, after_grace),
        Err(VerifyError::DateOutOfWindow(WindowViolation::Expired))
    );
}

#[test]
fn verifies_path_only_request_target() {
    verify_fixture(PATH_ONLY_GET, &remote_key(), None, fixture_now()).expect("verifies");
}

#[test]
fn tampered_body_is_a_digest_mismatch() {
    let (signing, verifying) = fresh_keys();
    let now = SystemTime::now();
    let headers = signed_post(&signing, FOLLOW_BODY, now);
    let mut tampered = FOLLOW_BODY.to_vec();
    tampered[10] ^= 1;
    assert_eq!(
        verify_post(&headers, &verifying, &tampered, now),
        Err(VerifyError::DigestMismatch)
    );
}

#[test]
fn tampered_signed_header_is_a_bad_signature() {
    let (signing, verifying) = fresh_keys();
    let now = SystemTime::now();
    let mut headers = signed_post(&signing, FOLLOW_BODY, now);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    assert_eq!(
        verify_post(&headers, &verifying, FOLLOW_BODY, now),
        Err(VerifyError::BadSignature)
    );

    // A Digest recomputed for a new body is signed too.
    let body = b"{}";
    let mut headers = signed_post(&signing, FOLLOW_BODY, now);
    let digest = format!("SHA-256={}", STANDARD.encode(digest(&SHA256, body)));
    headers.insert(DIGEST, HeaderValue::from_str(&digest).expect("valid"));
    assert_eq!(
        verify_post(&headers, &verifying, body, now),
        Err(VerifyError::BadSignature)
    );

    // So is the request target.
    let sig = parse_signature(&headers).expect("parses");
    assert_eq!(
        verify_request(
            &sig,
            &verifying,
            &Method::POST,
            "/other-inbox",
            &signed_post(&signing, FOLLOW_BODY, now),
            Some(FOLLOW_BODY),
            now,
            &DateWindow::default(),
        ),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn wrong_key_is_a_bad_signature() {
    let (signing, _) = fresh_keys();
    let now = SystemTime::now();
    let headers = signed_post(&signing, FOLLOW_BODY, now);
    assert_eq!(
        verify_post(&headers, &remote_key(), FOLLOW_BODY, now),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn required_headers_must_be_signed() {
    let (signing, verifying) = fresh_keys();
    let now = SystemTime::now();
    let headers = signed_post(&signing, FOLLOW_BODY, now);
    for (list, missing) in [
        ("(request-target) host digest content-type", "date"),
        ("(request-target) date digest content-type", "host"),
        ("host date digest content-type", "(request-target)"),
    ] {
        let err = parse_signature(&with_signed_list(&headers, list)).expect_err(list);
        assert_eq!(err, VerifyError::UnsignedHeader(missing), "{list}");
    }
    assert_eq!(
        verify_post(
            &with_signed_list(&headers, "(request-target) host date content-type"),
            &verifying,
            FOLLOW_BODY,
            now,
        ),
        Err(VerifyError::UnsignedHeader("digest"))
    );

    // verify_request re-checks a header whose public fields were altered.
    let mut sig = parse_signature(&headers).expect("parses");
    sig.signed_headers.retain(|h| h != "host");
    assert_eq!(
        verify_request(
            &sig,
            &verifying,
            &Method::POST,
            "/inbox",
            &headers,
            Some(FOLLOW_BODY),
            now,
            &DateWindow::default(),
        ),
        Err(VerifyError::UnsignedHeader("host"))
    );
}

#[test]
fn signed_header_absent_from_request_is_refused() {
    let (signing, verifying) = fresh_keys();
    let now = SystemTime::now();
    let mut headers = signed_post(&signing, FOLLOW_BODY, now);
    headers.remove(CONTENT_TYPE);
    assert_eq!(
        verify_post(&headers, &verifying, FOLLOW_BODY, now),
        Err(VerifyError::MissingHeader("content-type".to_owned()))
    );
}

#[test]
fn date_must_fall_within_the_window() {
    let (signing, verifying) = fresh_keys();
    let signed_at = at(FIXTURE_TIME);
    let headers = signed_post(&signing, FOLLOW_BODY, signed_at);
    let hours = |h: u64| Duration::from_secs(h * 3600);

    for now in [signed_at + hours(12), signed_at - hours(1)] {
        verify_post(&headers, &verifying, FOLLOW_BODY, now).expect("inside the window");
    }
    assert_eq!(
        verify_post(
            &headers,
            &verifying,
            FOLLOW_BODY,
            signed_at + hours(12) + Duration::from_secs(1)
        ),
        Err(VerifyError::DateOutOfWindow(WindowViolation::TooOld))
    );
    assert_eq!(
        verify_post(
            &headers,
            &verifying,
            FOLLOW_BODY,
            signed_at - hours(1) - Duration::from_secs(1)
        ),
        Err(VerifyError::DateOutOfWindow(WindowViolation::InFuture))
    );
    // The OpenSSL fixture, a day late.
    assert_eq!(
        verify_fixture(
            MASTODON_POST,
            &remote_key(),
            Some(FOLLOW_BODY),
            at(FIXTURE_TIME) + hours(24)
        ),
        Err(VerifyError::DateOutOfWindow(WindowViolation::TooOld))
    );
}

#[test]
fn default_window_is_mastodons() {
    let window = DateWindow::default();
    assert_eq!(window.max_age, Duration::from_secs(12 * 3600));
    assert_eq!(window.max_future, Duration::from_secs(3600));
}

#[test]
fn unsupported_algorithms_are_refused() {
    let (signing, verifying) = fresh_keys();
    let now = SystemTime::now();
    let headers = signed_post(&signing, FOLLOW_BODY, now);
    for algorithm in [
        "hmac-sha256",
        "rsa-sha1",
        "rsa-sha512",
        "ecdsa-sha256",
        "ed25519",
    ] {
        let altered = with_algorithm(&headers, &format!("algorithm=\"{algorithm}\""));
        assert_eq!(
            parse_signature(&altered).expect_err(algorithm),
            VerifyError::UnsupportedAlgorithm(algorithm.to_owned())
        );
    }
    let mut sig = parse_signature(&headers).expect("parses");
    sig.algorithm = Some("hmac-sha256".to_owned());
    assert_eq!(
        verify_request(
            &sig,
            &verifying,
            &Method::POST,
            "/inbox",
            &headers,
            Some(FOLLOW_BODY),
            now,
            &DateWindow::default(),
        ),
        Err(VerifyError::UnsupportedAlgorithm("hmac-sha256".to_owned()))
    );
}

#[test]
fn hs2019_and_absent_algorithm_verify_as_rsa_sha256() {
    let (signing, verifying) = fresh_keys();
    let now = SystemTime::now();
    let headers = signed_post(&signing, FOLLOW_BODY, now);
    // `algorithm` is not part of the signing string, so relabelling keeps
    // the signature valid.
    for algorithm in ["algorithm=\"hs2019\"", "algorithm=\"RSA-SHA256\"", ""] {
        let altered = with_algorithm(&headers, algorithm);
        verify_post(&altered, &verifying, FOLLOW_BODY, now).expect(algorithm);
    }
}

#[test]
fn created_is_refused_with_rsa_sha256() {
    let headers = with_algorithm(&parse_http(HS2019_GET).2, "");
    let value = headers[SIGNATURE]
        .to_str()
        .expect("ascii")
        .replace("algorithm=\"hs2019\"", "algorithm=\"rsa-sha256\"");
    let mut headers = headers;
    headers.insert(SIGNATURE, HeaderValue::from_str(&value).expect("valid"));
    assert!(matches!(
        parse_signature(&headers),
        Err(VerifyError::MalformedSignature(_))
    ));
}

#[test]
fn digest_variants() {
    let (signing, verifying) = fresh_keys();
    let now = SystemTime::now();
    let headers = signed_post(&signing, FOLLOW_BODY, now);
    let sig = parse_signature(&headers).expect("parses");
    let sha256 = STANDARD.encode(digest(&SHA256, FOLLOW_BODY));
    let sha512 = STANDARD.encode(digest(&aws_lc_rs::digest::SHA512, FOLLOW_BODY));

    let check = |digest_header: Option<&str>| {
        let mut headers = headers.clone();
        headers.remove(DIGEST);
        if let Some(value) = digest_header {
            headers.insert(DIGEST, HeaderValue::from_str(value).expect("valid"));
        }
        check_digest(&headers, FOLLOW_BODY)
    };
    assert_eq!(check(Some(&format!("sha-256={sha256}"))), Ok(()));
    assert_eq!(
        check(Some(&format!("SHA-512={sha512}, SHA-256={sha256}"))),
        Ok(())
    );
    assert_eq!(
        check(Some(&format!("SHA-512={sha512}"))),
        Err(VerifyError::UnsupportedDigest)
    );
    assert_eq!(
        check(Some(&format!("SHA-512={sha512},SHA-256={sha512}"))),
        Err(VerifyError::MalformedHeader("digest"))
    );
    assert_eq!(
        check(Some("SHA-256=Fjqi09TMB21wFOJK/2J/r9nF8d2ssYT1ycJjtptT4wg=")),
        Err(VerifyError::DigestMismatch)
    );
    assert_eq!(
        check(None),
        Err(VerifyError::MissingHeader("digest".to_owned()))
    );

    // The whole path: a missing Digest header is refused by verify_request.
    let mut without = headers.clone();
    without.remove(DIGEST);
    assert_eq!(
        verify_request(
            &sig,
            &verifying,
            &Method::POST,
            "/inbox",
            &without,
            Some(FOLLOW_BODY),
            now,
            &DateWindow::default(),
        ),
        Err(VerifyError::MissingHeader("digest".to_owned()))
    );
}

#[test]
fn authorization_form_is_accepted() {
    let (signing, verifying) = fresh_keys();
    let now = SystemTime::now();
    let mut headers = signed_post(&signing, FOLLOW_BODY, now);
    let signature = headers.remove(SIGNATURE).expect("signed");
    let authorization = format!("Signature {}", signature.to_str().expect("ascii"));
    headers.insert(
        AUTHORIZATION,
        HeaderValue::from_str(&authorization).expect("valid"),
    );
    verify_post(&headers, &verifying, FOLLOW_BODY, now).expect("verifies");

    // Old PeerTube: the scheme inside the Signature header.
    let mut headers = signed_post(&signing, FOLLOW_BODY, now);
    headers.remove(SIGNATURE);
    headers.insert(
        SIGNATURE,
        HeaderValue::from_str(&authorization).expect("valid"),
    );
    verify_post(&headers, &verifying, FOLLOW_BODY, now).expect("verifies");
}

#[test]
fn malformed_signature_headers() {
    assert_eq!(
        parse_signature(&HeaderMap::new()).expect_err("unsigned"),
        VerifyError::MissingSignature
    );
    let mut bearer = HeaderMap::new();
    bearer.insert(AUTHORIZATION, HeaderValue::from_static("Bearer abc"));
    assert_eq!(
        parse_signature(&bearer).expect_err("bearer"),
        VerifyError::MissingSignature
    );

    let target = "headers=\"(request-target) host date\"";
    for value in [
        format!("algorithm=\"rsa-sha256\",{target},signature=\"AAAA\""),
        format!("keyId=\"k\",{target}"),
        format!("keyId=\"k\",{target},signature=\"not base64!\""),
        format!("keyId=\"k\",keyId=\"j\",{target},signature=\"AAAA\""),
        format!("keyId=\"k,{target},signature=\"AAAA"),
        format!("keyId=\"k\" {target},signature=\"AAAA\""),
        format!("keyId=\"k\",{target},signature=\"AAAA\",created=yesterday"),
        format!("keyId=\"k\",{target},signature=\"{}\"", "A".repeat(9000)),
    ] {
        let mut headers = HeaderMap::new();
        headers.insert(SIGNATURE, HeaderValue::from_str(&value).expect("valid"));
        assert!(
            matches!(
                parse_signature(&headers),
                Err(VerifyError::MalformedSignature(_))
            ),
            "{value}"
        );
    }
}

#[test]
fn parameter_syntax_is_tolerated() {
    let mut headers = HeaderMap::new();
    headers.insert(
        SIGNATURE,
        HeaderValue::from_static(
            "keyId = \"https://a.example/u#k\\\"1\" ,, algorithm=\"hs2019\",\
             headers=\"(Request-Target) Host  Date\",extra=\"ignored\",signature=\"AAAA\"",
        ),
    );
    let sig = parse_signature(&headers).expect("parses");
    assert_eq!(sig.key_id, "https://a.example/u#k\"1");
    assert_eq!(sig.signed_headers, ["(request-target)", "host", "date"]);
}

#[test]
fn escaped_parameters_need_not_be_ascii() {
    // Header values reach the parser as visible ASCII, but the parser takes
    // any text and must not rely on it.
    let params = Params::parse("keyId=\"a\\\"é\\ü\",signature=\"AAAA\"").expect("parses");
    assert_eq!(params.key_id.as_deref(), Some("a\"éü"));
    assert_eq!(params.signature.as_deref(), Some("AAAA"));
    assert!(Params::parse("keyId=\"é\\").is_err());
    assert!(Params::parse("keyId=\"\\é").is_err());
}

#[test]
fn repeated_headers_are_joined() {
    let (signing, verifying) = fresh_keys();
    let now = SystemTime::now();
    let url = url::Url::parse("https://remote.example/users/bob").expect("url");
    let mut headers = HeaderMap::new();
    headers.insert(
        ACCEPT,
        HeaderValue::from_static("application/activity+json"),
    );
    sign_request(&signing, &Method::GET, &url, &mut headers, None, now).expect("signs");

    // Split the signed Accept value over two header lines: same signing string.
    headers.insert(
        ACCEPT,
        HeaderValue::from_static("application/activity+json"),
    );
    let sig = parse_signature(&headers).expect("parses");
    let mut split = headers.clone();
    split.insert(
        ACCEPT,
        HeaderValue::from_static("application/activity+json"),
    );
    split.append(ACCEPT, HeaderValue::from_static("text/html"));
    let window = DateWindow::default();
    let path = "/users/bob";
    verify_request(
        &sig,
        &verifying,
        &Method::GET,
        path,
        &headers,
        None,
        now,
        &window,
    )
    .expect("verifies");
    assert_eq!(
        verify_request(
            &sig,
            &verifying,
            &Method::GET,
            path,
            &split,
            None,
            now,
            &window
        ),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn pem_formatting_is_tolerated() {
    let crlf = REMOTE_SPKI.replace('\n', "\r\n");
    let trimmed = REMOTE_SPKI.trim_end();
    let padded = format!("\n\n   {REMOTE_SPKI}  \n");
    let one_line = {
        let body: String = REMOTE_SPKI
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        format!("-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----")
    };
    for pem in [crlf.as_str(), trimmed, &padded, &one_line] {
        let key = VerifyingKey::from_pem(pem).expect("parses");
        verify_fixture(MASTODON_POST, &key, Some(FOLLOW_BODY), fixture_now()).expect("verifies");
    }
}

#[test]
fn bad_keys_are_refused() {
    assert!(matches!(
        VerifyingKey::from_pem(RSA1024_SPKI),
        Err(KeyError::TooSmall { bits: 1024 })
    ));
    assert!(matches!(
        VerifyingKey::from_pem("not a key"),
        Err(KeyError::NotPem)
    ));
    assert!(matches!(
        VerifyingKey::from_pem(TEST_KEY),
        Err(KeyError::UnexpectedLabel(_))
    ));
    assert!(matches!(
        VerifyingKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"),
        Err(KeyError::Rejected)
    ));
    assert!(matches!(
        SigningKey::from_pem(LOCAL_KEY_ID, REMOTE_SPKI),
        Err(KeyError::UnexpectedLabel(_))
    ));
    assert!(matches!(
        SigningKey::from_pem("https://a.example/\"", TEST_KEY),
        Err(KeyError::InvalidKeyId)
    ));
    let debug = format!(
        "{:?}",
        SigningKey::from_pem(LOCAL_KEY_ID, TEST_KEY).expect("parses")
    );
    assert!(!debug.contains("MII"), "{debug}");
}

#[test]
fn accepts_http_signature_normalization_output() {
    // activitypub_federation (Lemmy and others) signs through this crate:
    // `hs2019` label, alphabetical header order, no `(created)`.
    let (signing, verifying) = fresh_keys();
    let now = SystemTime::now();
    let digest = format!("SHA-256={}", STANDARD.encode(digest(&SHA256, FOLLOW_BODY)));
    let date = httpdate::fmt_http_date(now);
    let signed: BTreeMap<String, String> = [
        ("Host", "remote.example"),
        ("Date", date.as_str()),
        ("Digest", digest.as_str()),
        ("Content-Type", "application/activity+json"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let header = http_signature_normalization::Config::new()
        .mastodon_compat()
        .begin_sign("POST", "/inbox", signed.clone())
        .expect("begins")
        .sign(LOCAL_KEY_ID.to_owned(), |signing_string| {
            let mut out = vec![0; signing.pair.public_modulus_len()];
            signing
                .pair
                .sign(
                    &RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    signing_string.as_bytes(),
                    &mut out,
                )
                .map(|()| STANDARD.encode(out))
        })
        .expect("signs")
        .signature_header();

    let mut headers = HeaderMap::new();
    for (name, value) in &signed {
        headers.insert(
            HeaderName::from_bytes(name.as_bytes()).expect("name"),
            HeaderValue::from_str(value).expect("value"),
        );
    }
    headers.insert(SIGNATURE, HeaderValue::from_str(&header).expect("valid"));
    let sig = parse_signature(&headers).expect("parses");
    assert_eq!(sig.algorithm.as_deref(), Some("hs2019"));
    verify_post(&headers, &verifying, FOLLOW_BODY, now).expect("verifies");
}

#[test]
fn http_signature_normalization_accepts_our_output() {
    let (signing, verifying) = fresh_keys();
    let headers = signed_post(&signing, FOLLOW_BODY, SystemTime::now());
    let map: BTreeMap<String, String> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().expect("ascii").to_owned()))
        .collect();
    let verified = http_signature_normalization::Config::new()
        .mastodon_compat()
        .require_digest()
        .begin_verify("POST", "/inbox", map)
        .expect("prepares")
        .verify(|signature, signing_string| {
            let Ok(signature) = STANDARD.decode(signature) else {
                return false;
            };
            verifying.verifies(signing_string.as_bytes(), &signature)
        });
    assert!(verified);
}
