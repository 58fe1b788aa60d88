//! Tests for RFC 9421 signatures: what we sign verifies, and each check
//! a signature must pass refuses what fails it.

use std::sync::LazyLock;

use aws_lc_rs::signature::KeyPair as _;
use http::header::{CONTENT_TYPE, DATE, HOST};

use super::*;
use crate::signatures::{Scheme, parse_inbound, sign_request, verify_inbound};

const TEST_KEY: &str = include_str!("../../fixtures/signatures/perch_test_key.pkcs8.pem");
const KEY_ID: &str = "https://perch.example/users/alice#main-key";
const BODY: &[u8] = br#"{"type":"Follow"}"#;
const NOW: u64 = 1_736_251_200;

static KEYS: LazyLock<(SigningKey, VerifyingKey)> = LazyLock::new(|| {
    let signing = SigningKey::from_pem(KEY_ID, TEST_KEY).expect("the test key parses");
    let verifying =
        VerifyingKey::from_der(signing.pair.public_key().as_ref()).expect("its public key parses");
    (signing, verifying)
});

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// A POST to `https://remote.example/inbox` signed at `NOW`, with the
/// `Host` the receiver sees.
fn signed(method: &Method, url: &str, body: Option<&[u8]>) -> HeaderMap {
    let url = url::Url::parse(url).expect("url");
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/activity+json"),
    );
    sign_message(&KEYS.0, method, &url, &mut headers, body, at(NOW)).expect("signs");
    let host = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().expect("host")),
        None => url.host_str().expect("host").to_owned(),
    };
    headers.insert(HOST, HeaderValue::from_str(&host).expect("host"));
    headers
}

fn verify(
    headers: &HeaderMap,
    method: &Method,
    path_and_query: &str,
    body: Option<&[u8]>,
    now: SystemTime,
) -> Result<(), VerifyError> {
    let sig = parse_message_signature(headers)?;
    let request = RequestParts {
        method,
        scheme: "https",
        path_and_query,
        headers,
        body,
    };
    verify_message(&sig, &KEYS.1, &request, now, &DateWindow::default())
}

fn with(headers: &HeaderMap, name: HeaderName, value: &str) -> HeaderMap {
    let mut headers = headers.clone();
    headers.insert(name, HeaderValue::from_str(value).expect("valid"));
    headers
}

/// Signs `base` (a signature base written out by hand) and sends it with
/// the given `Signature-Input` member.
fn hand_signed(headers: &HeaderMap, input: &str, base: &str, pss: bool) -> HeaderMap {
    let signature = if pss {
        sign_pss_for_tests(&KEYS.0, base.as_bytes())
    } else {
        let mut out = vec![0; KEYS.0.pair.public_modulus_len()];
        KEYS.0
            .pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                base.as_bytes(),
                &mut out,
            )
            .expect("signs");
        out
    };
    let headers = with(headers, SIGNATURE_INPUT, &format!("sig2={input}"));
    with(
        &headers,
        SIGNATURE,
        &format!("sig2=:{}:", STANDARD.encode(signature)),
    )
}

#[test]
fn a_signed_post_verifies_and_names_its_key() {
    let headers = signed(&Method::POST, "https://remote.example/inbox", Some(BODY));
    let input = headers[&SIGNATURE_INPUT].to_str().expect("ascii");
    assert!(
        input.starts_with(r#"sig1=("@method" "@target-uri" "content-digest");created=1736251200;keyid="https://perch.example/users/alice#main-key";alg="rsa-v1_5-sha256""#),
        "{input}"
    );
    assert_eq!(
        headers[&CONTENT_DIGEST],
        format!("sha-256=:{}:", STANDARD.encode(digest(&SHA256, BODY))).as_str()
    );
    assert_eq!(
        verify(&headers, &Method::POST, "/inbox", Some(BODY), at(NOW + 5)),
        Ok(())
    );
    let sig = parse_message_signature(&headers).expect("parses");
    assert_eq!(sig.key_id, KEY_ID);
    assert_eq!(sig.algorithm, Some(MessageAlgorithm::RsaV15Sha256));
}

#[test]
fn a_signed_get_verifies_with_its_query() {
    let headers = signed(
        &Method::GET,
        "https://remote.example/users/bob?page=1",
        None,
    );
    assert!(!headers.contains_key(CONTENT_DIGEST));
    assert_eq!(
        verify(&headers, &Method::GET, "/users/bob?page=1", None, at(NOW)),
        Ok(())
    );
    assert_eq!(
        verify(&headers, &Method::GET, "/users/bob?page=2", None, at(NOW)),
        Err(VerifyError::BadSignature)
    );
    assert_eq!(
        verify(&headers, &Method::POST, "/users/bob?page=1", None, at(NOW)),
        Err(VerifyError::BadSignature),
        "the method is covered"
    );
}

#[test]
fn a_body_other_than_the_digested_one_is_refused() {
    let headers = signed(&Method::POST, "https://remote.example/inbox", Some(BODY));
    assert_eq!(
        verify(&headers, &Method::POST, "/inbox", Some(b"{}"), at(NOW)),
        Err(VerifyError::DigestMismatch)
    );
    // A digest replaced to match the new body breaks the signature.
    let forged = with(
        &headers,
        CONTENT_DIGEST,
        &format!("sha-256=:{}:", STANDARD.encode(digest(&SHA256, b"{}"))),
    );
    assert_eq!(
        verify(&forged, &Method::POST, "/inbox", Some(b"{}"), at(NOW)),
        Err(VerifyError::BadSignature)
    );
    let unknown = with(&headers, CONTENT_DIGEST, "md5=:AAAA:");
    assert_eq!(
        verify(&unknown, &Method::POST, "/inbox", Some(BODY), at(NOW)),
        Err(VerifyError::UnsupportedContentDigest)
    );
    let mut missing = headers.clone();
    missing.remove(CONTENT_DIGEST);
    assert_eq!(
        verify(&missing, &Method::POST, "/inbox", Some(BODY), at(NOW)),
        Err(VerifyError::MissingHeader("content-digest".to_owned()))
    );
}

#[test]
fn a_get_signature_does_not_cover_a_body() {
    let headers = signed(&Method::GET, "https://remote.example/inbox", None);
    assert_eq!(
        verify(&headers, &Method::POST, "/inbox", Some(BODY), at(NOW)),
        Err(VerifyError::UnsignedHeader("content-digest"))
    );
}

#[test]
fn created_must_be_inside_the_window_and_expires_ahead() {
    let headers = signed(&Method::POST, "https://remote.example/inbox", Some(BODY));
    let window = DateWindow::default();
    let late = NOW + window.max_age.as_secs() + 1;
    assert_eq!(
        verify(&headers, &Method::POST, "/inbox", Some(BODY), at(late)),
        Err(VerifyError::DateOutOfWindow(WindowViolation::TooOld))
    );
    let early = NOW - window.max_future.as_secs() - 1;
    assert_eq!(
        verify(&headers, &Method::POST, "/inbox", Some(BODY), at(early)),
        Err(VerifyError::DateOutOfWindow(WindowViolation::InFuture))
    );

    let digest_value = headers[&CONTENT_DIGEST].to_str().expect("ascii").to_owned();
    let params = format!(
        r#"("@method" "@target-uri" "content-digest");created={NOW};expires={};keyid="{KEY_ID}""#,
        NOW + 60
    );
    let base = format!(
        "\"@method\": POST\n\"@target-uri\": https://remote.example/inbox\n\"content-digest\": {digest_value}\n\"@signature-params\": {params}"
    );
    let expiring = hand_signed(&headers, &params, &base, false);
    assert_eq!(
        verify(&expiring, &Method::POST, "/inbox", Some(BODY), at(NOW + 60)),
        Ok(())
    );
    let past = NOW + 60 + window.max_future.as_secs() + 1;
    assert_eq!(
        verify(&expiring, &Method::POST, "/inbox", Some(BODY), at(past)),
        Err(VerifyError::DateOutOfWindow(WindowViolation::Expired))
    );
}

#[test]
fn a_signature_for_another_host_does_not_verify_here() {
    let headers = signed(&Method::POST, "https://other.example/inbox", Some(BODY));
    let here = with(&headers, HOST, "remote.example");
    assert_eq!(
        verify(&here, &Method::POST, "/inbox", Some(BODY), at(NOW)),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn authority_path_and_query_may_stand_for_the_target_uri() {
    let headers = signed(&Method::GET, "https://remote.example/notes/1?x=1", None);
    let params =
        format!(r#"("@method" "@authority" "@path" "@query");created={NOW};keyid="{KEY_ID}""#);
    let base = format!(
        "\"@method\": GET\n\"@authority\": remote.example\n\"@path\": /notes/1\n\"@query\": ?x=1\n\"@signature-params\": {params}"
    );
    let parts = hand_signed(&headers, &params, &base, false);
    // The default port in `Host` is the URL's authority without it.
    let parts = with(&parts, HOST, "Remote.Example:443");
    assert_eq!(
        verify(&parts, &Method::GET, "/notes/1?x=1", None, at(NOW)),
        Ok(())
    );
    assert_eq!(
        verify(&parts, &Method::GET, "/notes/1?x=2", None, at(NOW)),
        Err(VerifyError::BadSignature)
    );

    let params = format!(r#"("@method" "@authority" "@path");created={NOW};keyid="{KEY_ID}""#);
    let base = format!(
        "\"@method\": GET\n\"@authority\": remote.example\n\"@path\": /notes/1\n\"@signature-params\": {params}"
    );
    let no_query = hand_signed(&headers, &params, &base, false);
    assert_eq!(
        verify(&no_query, &Method::GET, "/notes/1?x=1", None, at(NOW)),
        Err(VerifyError::UnsignedHeader("@query"))
    );
    assert_eq!(
        verify(&no_query, &Method::GET, "/notes/1", None, at(NOW)),
        Ok(())
    );
}

#[test]
fn rsa_pss_sha512_verifies() {
    let headers = signed(&Method::GET, "https://remote.example/notes/1", None);
    let params =
        format!(r#"("@method" "@target-uri");created={NOW};keyid="{KEY_ID}";alg="rsa-pss-sha512""#);
    let base = format!(
        "\"@method\": GET\n\"@target-uri\": https://remote.example/notes/1\n\"@signature-params\": {params}"
    );
    let pss = hand_signed(&headers, &params, &base, true);
    assert_eq!(
        parse_message_signature(&pss).expect("parses").algorithm,
        Some(MessageAlgorithm::RsaPssSha512)
    );
    assert_eq!(
        verify(&pss, &Method::GET, "/notes/1", None, at(NOW)),
        Ok(())
    );
    // The same signature claimed as PKCS#1 v1.5 does not verify.
    let claimed = hand_signed(&headers, &params, &base, true);
    let claimed = with(
        &claimed,
        SIGNATURE_INPUT,
        &format!(
            "sig2={}",
            params.replace("rsa-pss-sha512", "rsa-v1_5-sha256")
        ),
    );
    assert_eq!(
        verify(&claimed, &Method::GET, "/notes/1", None, at(NOW)),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn a_date_header_may_stand_for_created() {
    let headers = signed(&Method::GET, "https://remote.example/notes/1", None);
    let date = httpdate::fmt_http_date(at(NOW));
    let params = format!(r#"("@method" "@target-uri" "date");keyid="{KEY_ID}""#);
    let base = format!(
        "\"@method\": GET\n\"@target-uri\": https://remote.example/notes/1\n\"date\": {date}\n\"@signature-params\": {params}"
    );
    let dated = with(&hand_signed(&headers, &params, &base, false), DATE, &date);
    assert_eq!(
        verify(&dated, &Method::GET, "/notes/1", None, at(NOW)),
        Ok(())
    );
    let late = NOW + DateWindow::default().max_age.as_secs() + 1;
    assert_eq!(
        verify(&dated, &Method::GET, "/notes/1", None, at(late)),
        Err(VerifyError::DateOutOfWindow(WindowViolation::TooOld))
    );
}

#[test]
fn what_no_key_could_make_acceptable_is_refused_when_parsed() {
    let headers = signed(&Method::POST, "https://remote.example/inbox", Some(BODY));
    let refused = |input: &str| {
        parse_message_signature(&with(&headers, SIGNATURE_INPUT, input))
            .map(|_| ())
            .expect_err(input)
    };
    let keyid = format!(r#"keyid="{KEY_ID}""#);
    assert_eq!(
        refused(&format!(r#"sig1=("@target-uri");created=1;{keyid}"#)),
        VerifyError::UnsignedHeader("@method")
    );
    assert_eq!(
        refused(&format!(r#"sig1=("@method" "@path");created=1;{keyid}"#)),
        VerifyError::UnsignedHeader("@target-uri")
    );
    assert_eq!(
        refused(&format!(
            r#"sig1=("@method" "@authority");created=1;{keyid}"#
        )),
        VerifyError::UnsignedHeader("@path")
    );
    assert_eq!(
        refused(&format!(r#"sig1=("@method" "@target-uri");{keyid}"#)),
        VerifyError::MalformedSignature("the signature has no created time")
    );
    assert_eq!(
        refused(r#"sig1=("@method" "@target-uri");created=1"#),
        VerifyError::MalformedSignature("keyid is missing")
    );
    assert_eq!(
        refused(&format!(
            r#"sig1=("@method" "@target-uri");created=1;alg="ed25519";{keyid}"#
        )),
        VerifyError::UnsupportedAlgorithm("ed25519".to_owned())
    );
    assert_eq!(
        refused(&format!(
            r#"sig1=("@method" "@target-uri" "content-digest";sf);created=1;{keyid}"#
        )),
        VerifyError::UnsupportedComponent("content-digest with parameters".to_owned())
    );
    assert_eq!(
        refused(&format!(
            r#"sig1=("@method" "@target-uri" "@status");created=1;{keyid}"#
        )),
        VerifyError::UnsupportedComponent("@status".to_owned())
    );
    assert_eq!(
        refused(&format!(
            r#"sig1=("@method" "@method" "@target-uri");created=1;{keyid}"#
        )),
        VerifyError::MalformedSignature("a component is covered twice")
    );
    assert_eq!(
        refused("sig1=(\"@method\""),
        VerifyError::MalformedSignature("Signature-Input is not a structured dictionary")
    );
    assert_eq!(
        refused(&format!(
            r#"other=("@method" "@target-uri");created=1;{keyid}"#
        )),
        VerifyError::MalformedSignature("no Signature-Input label has a signature")
    );
    let mut unsigned = headers.clone();
    unsigned.remove(SIGNATURE);
    assert_eq!(
        parse_message_signature(&unsigned).map(|_| ()),
        Err(VerifyError::MalformedSignature(
            "Signature-Input without a Signature header"
        ))
    );
}

#[test]
fn the_first_usable_signature_of_several_is_chosen() {
    let headers = signed(&Method::POST, "https://remote.example/inbox", Some(BODY));
    let ours_input = headers[&SIGNATURE_INPUT]
        .to_str()
        .expect("ascii")
        .to_owned();
    let ours_signature = headers[&SIGNATURE].to_str().expect("ascii").to_owned();
    let both = with(
        &headers,
        SIGNATURE_INPUT,
        &format!(r#"proxy=("@method");created=1;keyid="x", {ours_input}"#),
    );
    let both = with(&both, SIGNATURE, &format!("proxy=:AAAA:, {ours_signature}"));
    assert_eq!(
        verify(&both, &Method::POST, "/inbox", Some(BODY), at(NOW)),
        Ok(())
    );
}

#[test]
fn a_sha_512_content_digest_is_accepted() {
    let headers = signed(&Method::POST, "https://remote.example/inbox", Some(BODY));
    let value = format!("sha-512=:{}:", STANDARD.encode(digest(&SHA512, BODY)));
    let params =
        format!(r#"("@method" "@target-uri" "content-digest");created={NOW};keyid="{KEY_ID}""#);
    let base = format!(
        "\"@method\": POST\n\"@target-uri\": https://remote.example/inbox\n\"content-digest\": {value}\n\"@signature-params\": {params}"
    );
    let signed = with(
        &hand_signed(&headers, &params, &base, false),
        CONTENT_DIGEST,
        &value,
    );
    assert_eq!(
        verify(&signed, &Method::POST, "/inbox", Some(BODY), at(NOW)),
        Ok(())
    );
    assert_eq!(
        verify(&signed, &Method::POST, "/inbox", Some(b"[]"), at(NOW)),
        Err(VerifyError::DigestMismatch)
    );
}

#[test]
fn either_scheme_is_recognised() {
    let message = signed(&Method::POST, "https://remote.example/inbox", Some(BODY));
    assert_eq!(
        parse_inbound(&message).expect("parses").scheme(),
        Scheme::Rfc9421
    );
    let mut cavage = HeaderMap::new();
    let url = url::Url::parse("https://remote.example/inbox").expect("url");
    sign_request(
        &KEYS.0,
        &Method::POST,
        &url,
        &mut cavage,
        Some(BODY),
        at(NOW),
    )
    .expect("signs");
    let sig = parse_inbound(&cavage).expect("parses");
    assert_eq!(sig.scheme(), Scheme::Cavage);
    assert_eq!(sig.key_id(), KEY_ID);
    let request = RequestParts {
        method: &Method::POST,
        scheme: "https",
        path_and_query: "/inbox",
        headers: &cavage,
        body: Some(BODY),
    };
    assert_eq!(
        verify_inbound(&sig, &KEYS.1, &request, at(NOW), &DateWindow::default()),
        Ok(())
    );
}

/// RFC 9421's own example B.2.3 (full coverage, `rsa-pss-sha512` without
/// `alg`, key `test-key-rsa-pss` of B.1.2): an independent
/// implementation's signature base and signature.
#[test]
fn verifies_the_full_coverage_example_of_rfc_9421() {
    const REQUEST: &str = include_str!("../../fixtures/signatures/rfc9421_b23_full_coverage.http");
    const KEY: &str = include_str!("../../fixtures/signatures/rfc9421_test_key_rsa_pss.spki.pem");
    const BODY: &[u8] = br#"{"hello": "world"}"#;
    let mut lines = REQUEST.lines();
    let target = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .expect("request line");
    let mut headers = HeaderMap::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(": ").expect("header line");
        headers.append(
            HeaderName::from_bytes(name.as_bytes()).expect("name"),
            HeaderValue::from_str(value).expect("value"),
        );
    }
    let key = VerifyingKey::from_pem(KEY).expect("the RFC's key parses");
    let sig = parse_message_signature(&headers).expect("parses");
    assert_eq!(sig.key_id, "test-key-rsa-pss");
    assert_eq!(sig.algorithm, None);
    let request = RequestParts {
        method: &Method::POST,
        scheme: "https",
        path_and_query: target,
        headers: &headers,
        body: Some(BODY),
    };
    let window = DateWindow::default();
    assert_eq!(
        verify_message(&sig, &key, &request, at(1_618_884_473), &window),
        Ok(())
    );
    let other = RequestParts {
        path_and_query: "/foo?param=Value&Pet=cat",
        ..request
    };
    assert_eq!(
        verify_message(&sig, &key, &other, at(1_618_884_473), &window),
        Err(VerifyError::BadSignature)
    );
    assert_eq!(
        verify_message(&sig, &KEYS.1, &request, at(1_618_884_473), &window),
        Err(VerifyError::BadSignature),
        "another key"
    );
}
