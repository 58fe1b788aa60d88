//! Properties of the signature header parser and of signing, over
//! generated input: whatever a sender writes, parsing answers without
//! panicking; what a well-behaved sender writes parses back to what it
//! meant; and what we sign verifies, and stops verifying when the body
//! changes.

use std::sync::LazyLock;

use aws_lc_rs::signature::KeyPair as _;
use proptest::prelude::*;

use super::*;
use crate::objects::properties::config;

const TEST_KEY: &str = include_str!("../../fixtures/signatures/perch_test_key.pkcs8.pem");
const KEY_ID: &str = "https://perch.example/users/alice#main-key";

/// The test key pair, shared with the RFC 9421 properties.
pub(super) static KEYS: LazyLock<(SigningKey, VerifyingKey)> = LazyLock::new(|| {
    let signing = SigningKey::from_pem(KEY_ID, TEST_KEY).expect("the test key parses");
    let verifying =
        VerifyingKey::from_der(signing.pair.public_key().as_ref()).expect("its public key parses");
    (signing, verifying)
});

/// Pieces a signature header is made of, so that generated text often
/// gets past the first character.
fn header_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("keyId".to_owned()),
        Just("signature".to_owned()),
        Just("headers".to_owned()),
        Just("algorithm".to_owned()),
        Just("created".to_owned()),
        Just("expires".to_owned()),
        Just("=".to_owned()),
        Just("\"".to_owned()),
        Just("\\".to_owned()),
        Just(",".to_owned()),
        Just(" ".to_owned()),
        Just("\t".to_owned()),
        "[ -~]{0,12}",
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

/// A parameter value as a sender may quote it: `"` and `\` escaped.
fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// What a sender means by a signature header.
#[derive(Debug, Clone)]
struct Meant {
    key_id: String,
    algorithm: Option<String>,
    headers: Vec<String>,
    signature: Vec<u8>,
    created: Option<u64>,
}

fn meant() -> impl Strategy<Value = Meant> {
    let algorithm = prop_oneof![
        Just(None),
        Just(Some("rsa-sha256".to_owned())),
        Just(Some("hs2019".to_owned())),
        Just(Some("RSA-SHA256".to_owned())),
    ];
    let extra = prop::sample::subsequence(
        vec![
            "digest",
            "content-type",
            "accept",
            "user-agent",
            "Content-Length",
        ],
        0..=5,
    );
    (
        "[ -~]{1,80}",
        algorithm,
        extra,
        any::<bool>(),
        prop::collection::vec(any::<u8>(), 1..512),
        any::<u64>(),
        any::<prop::sample::Index>(),
    )
        .prop_map(
            |(key_id, algorithm, extra, use_created, signature, secs, at)| {
                let hs2019 = algorithm
                    .as_deref()
                    .is_none_or(|a| a.eq_ignore_ascii_case("hs2019"));
                let created = (hs2019 && use_created).then_some(secs);
                let mut headers: Vec<String> = ["(request-target)", "host"]
                    .into_iter()
                    .chain(extra)
                    .map(str::to_owned)
                    .collect();
                let stamp = if created.is_some() {
                    "(created)"
                } else {
                    "Date"
                };
                headers.insert(at.index(headers.len() + 1), stamp.to_owned());
                Meant {
                    key_id,
                    algorithm,
                    headers,
                    signature,
                    created,
                }
            },
        )
}

/// `meant` written as a header value: its parameters in the given order,
/// with unknown parameters and optional white space around the commas.
fn written(meant: &Meant, order: &[usize], unknown: &[(String, String)], ows: &[bool]) -> String {
    let mut params = vec![
        format!("keyId={}", quoted(&meant.key_id)),
        format!("headers={}", quoted(&meant.headers.join(" "))),
        format!("signature={}", quoted(&STANDARD.encode(&meant.signature))),
    ];
    if let Some(algorithm) = &meant.algorithm {
        params.push(format!("algorithm={}", quoted(algorithm)));
    }
    if let Some(created) = meant.created {
        params.push(format!("created={created}"));
    }
    let mut ordered: Vec<String> = order
        .iter()
        .filter_map(|&i| params.get(i).cloned())
        .collect();
    for (name, value) in unknown {
        ordered.push(format!("{name}={}", quoted(value)));
    }
    let mut out = String::new();
    for (i, param) in ordered.iter().enumerate() {
        if i > 0 {
            out.push_str(if ows.get(i).copied().unwrap_or(false) {
                " , "
            } else {
                ","
            });
        }
        out.push_str(param);
    }
    out
}

fn signature_headers(value: &str) -> Option<HeaderMap> {
    let mut headers = HeaderMap::new();
    headers.insert(SIGNATURE, HeaderValue::from_str(value).ok()?);
    Some(headers)
}

/// Parameters whose quoted values mix escapes, quotes and text beyond
/// ASCII: the parser is handed text, not bytes, and must not cut a
/// character in two.
fn quoted_params() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec!["\\", "\"", "a", "é", "🐦", ",", " "]);
    prop::collection::vec(
        (
            prop::sample::select(vec!["keyId", "signature", "headers", "x"]),
            prop::collection::vec(piece, 0..8),
        ),
        1..4,
    )
    .prop_map(|params| {
        params
            .into_iter()
            .map(|(name, value)| format!("{name}=\"{}", value.concat()))
            .collect::<Vec<_>>()
            .join(",")
    })
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn any_text_parses_or_is_refused(text in prop_oneof![header_text(), quoted_params()]) {
        let _ = Params::parse(&text);
    }

    #[test]
    fn any_header_value_parses_or_is_refused(text in header_text()) {
        if let Some(headers) = signature_headers(&text) {
            let _ = parse_signature(&headers);
        }
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(&format!("Signature {text}")) {
            headers.insert(AUTHORIZATION, value);
            let _ = parse_signature(&headers);
        }
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn well_formed_headers_round_trip(
        meant in meant(),
        order in Just((0..5).collect::<Vec<usize>>()).prop_shuffle(),
        unknown in prop::collection::vec(("[a-z]{1,8}", "[ -~]{0,20}"), 0..3),
        ows in prop::collection::vec(any::<bool>(), 8),
    ) {
        // Unknown parameter names must not collide with known ones.
        let unknown: Vec<(String, String)> = unknown
            .into_iter()
            .map(|(name, value)| (format!("x{name}"), value))
            .collect();
        let value = written(&meant, &order, &unknown, &ows);
        let headers = signature_headers(&value).expect("visible ASCII");
        let parsed = parse_signature(&headers).map_err(|e| TestCaseError::fail(format!("{value}: {e}")))?;
        prop_assert_eq!(&parsed.key_id, &meant.key_id);
        prop_assert_eq!(&parsed.algorithm, &meant.algorithm);
        let lowered: Vec<String> = meant.headers.iter().map(|h| h.to_ascii_lowercase()).collect();
        prop_assert_eq!(&parsed.signed_headers, &lowered);
        prop_assert_eq!(&parsed.signature, &meant.signature);
        prop_assert_eq!(parsed.created.map(|c| c.secs), meant.created);
    }
}

fn path() -> impl Strategy<Value = String> {
    prop::collection::vec("[a-zA-Z0-9._~%!$&'()*+,;=:@-]{0,12}", 1..5)
        .prop_map(|segments| format!("/{}", segments.join("/")))
}

proptest! {
    // Each case signs once and verifies twice with RSA-2048.
    #![proptest_config(config(48))]

    #[test]
    fn what_we_sign_verifies_until_the_body_changes(
        path in path(),
        query in prop::option::of("[a-z0-9=&]{1,20}"),
        body in prop::option::of(prop::collection::vec(any::<u8>(), 0..256)),
        flip in any::<prop::sample::Index>(),
        port in prop::option::of(1024u16..),
    ) {
        let (signing, verifying) = &*KEYS;
        let authority = port.map_or("remote.example".to_owned(), |p| format!("remote.example:{p}"));
        let mut url = url::Url::parse(&format!("https://{authority}{path}")).expect("a URL");
        url.set_query(query.as_deref());
        let method = if body.is_some() { Method::POST } else { Method::GET };
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/activity+json"));
        let now = UNIX_EPOCH + Duration::from_secs(1_736_251_200);
        sign_request(signing, &method, &url, &mut headers, body.as_deref(), now)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;

        let target = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        let sig = parse_signature(&headers).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let verify = |body: Option<&[u8]>| {
            verify_request(&sig, verifying, &method, &target, &headers, body, now, &DateWindow::default())
        };
        prop_assert_eq!(verify(body.as_deref()), Ok(()));
        if let Some(mut changed) = body.clone() {
            if changed.is_empty() {
                changed.push(b' ');
            } else {
                let at = flip.index(changed.len());
                changed[at] ^= 0x01;
            }
            prop_assert_eq!(verify(Some(&changed)), Err(VerifyError::DigestMismatch));
        }
    }
}
