//! Properties of the RFC 9421 parsers and of signing, over generated
//! input: whatever a sender writes in `Signature-Input`, `Signature` or
//! `Content-Digest`, parsing answers without panicking; structured values
//! serialised as RFC 8941 has them parse back to themselves; and what we
//! sign verifies, and stops verifying when the body or the target changes.

use proptest::prelude::*;

use super::structured::{Bare, Member, Parameters, parse_dictionary, serialize_inner_list};
use super::*;
use crate::objects::properties::config;

use super::properties::KEYS;

/// Pieces structured fields are made of, so that generated text often gets
/// past the first character.
fn field_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("sig1".to_owned()),
        Just("=".to_owned()),
        Just("(".to_owned()),
        Just(")".to_owned()),
        Just("\"@method\"".to_owned()),
        Just("\"content-digest\"".to_owned()),
        Just(";created=".to_owned()),
        Just(";keyid=".to_owned()),
        Just(";alg=\"rsa-pss-sha512\"".to_owned()),
        Just(":".to_owned()),
        Just("\"".to_owned()),
        Just("\\".to_owned()),
        Just(",".to_owned()),
        Just(" ".to_owned()),
        Just("?1".to_owned()),
        Just("-12.5".to_owned()),
        "[ -~]{0,12}",
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

fn key() -> impl Strategy<Value = String> {
    "[a-z*][a-z0-9_.*-]{0,8}"
}

fn bare() -> impl Strategy<Value = Bare> {
    prop_oneof![
        (-999_999_999_999_999_i64..=999_999_999_999_999).prop_map(Bare::Integer),
        "[ -~]{0,16}".prop_map(Bare::String),
        "[A-Za-z*][A-Za-z0-9:/!#$%&'*+.^_`|~-]{0,8}".prop_map(Bare::Token),
        prop::collection::vec(any::<u8>(), 0..32).prop_map(Bare::Bytes),
        any::<bool>().prop_map(Bare::Boolean),
    ]
}

fn parameters() -> impl Strategy<Value = Parameters> {
    prop::collection::vec((key(), bare()), 0..4).prop_map(|params| {
        // Keys are unique in what a sender means.
        let mut unique: Parameters = Vec::new();
        for (key, value) in params {
            if !unique.iter().any(|(k, _)| *k == key) {
                unique.push((key, value));
            }
        }
        unique
    })
}

fn headers_with(pairs: &[(&HeaderName, &str)]) -> Option<HeaderMap> {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        headers.append((*name).clone(), HeaderValue::from_str(value).ok()?);
    }
    Some(headers)
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn any_text_parses_as_a_dictionary_or_is_refused(text in field_text()) {
        let _ = parse_dictionary(&text);
    }

    #[test]
    fn any_signature_headers_parse_or_are_refused(input in field_text(), signature in field_text()) {
        if let Some(headers) = headers_with(&[(&SIGNATURE_INPUT, &input), (&SIGNATURE, &signature)]) {
            let _ = parse_message_signature(&headers);
            let _ = parse_inbound(&headers);
        }
    }

    #[test]
    fn any_content_digest_is_checked_without_panicking(value in field_text(), body in any::<Vec<u8>>()) {
        let signed = {
            let url = url::Url::parse("https://remote.example/inbox").expect("url");
            let mut headers = HeaderMap::new();
            sign_message(&KEYS.0, &Method::POST, &url, &mut headers, Some(&body), UNIX_EPOCH)
                .expect("signs");
            headers
        };
        let mut headers = signed.clone();
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(CONTENT_DIGEST, value);
        }
        headers.insert(http::header::HOST, HeaderValue::from_static("remote.example"));
        let sig = parse_message_signature(&headers).expect("our own signature parses");
        let request = RequestParts {
            method: &Method::POST,
            scheme: "https",
            path_and_query: "/inbox",
            headers: &headers,
            body: Some(&body),
        };
        let _ = verify_message(&sig, &KEYS.1, &request, UNIX_EPOCH, &DateWindow::default());
    }

    #[test]
    fn inner_lists_serialise_and_parse_back(
        label in key(),
        items in prop::collection::vec((bare(), parameters()), 0..6),
        params in parameters(),
    ) {
        let text = format!("{label}={}", serialize_inner_list(&items, &params));
        let parsed = parse_dictionary(&text).expect("what RFC 8941 serialises parses");
        prop_assert_eq!(parsed, vec![(label, Member::InnerList(items, params))]);
    }

    #[test]
    fn what_we_sign_verifies_and_nothing_else(
        body in prop::option::of(prop::collection::vec(any::<u8>(), 0..512)),
        path in "/[a-z0-9/]{0,24}",
        query in prop::option::of("[a-z0-9=&]{1,16}"),
        flip in any::<prop::sample::Index>(),
    ) {
        let target = match &query {
            Some(query) => format!("{path}?{query}"),
            None => path.clone(),
        };
        let url = url::Url::parse(&format!("https://remote.example{target}")).expect("url");
        let method = if body.is_some() { Method::POST } else { Method::GET };
        let mut headers = HeaderMap::new();
        let now = UNIX_EPOCH + Duration::from_secs(1_736_251_200);
        sign_message(&KEYS.0, &method, &url, &mut headers, body.as_deref(), now).expect("signs");
        headers.insert(http::header::HOST, HeaderValue::from_static("remote.example"));
        let sig = parse_message_signature(&headers).expect("parses");
        let request = RequestParts {
            method: &method,
            scheme: "https",
            path_and_query: &target,
            headers: &headers,
            body: body.as_deref(),
        };
        let window = DateWindow::default();
        prop_assert_eq!(verify_message(&sig, &KEYS.1, &request, now, &window), Ok(()));

        let elsewhere = format!("{target}x");
        let moved = RequestParts { path_and_query: &elsewhere, ..request };
        prop_assert_eq!(
            verify_message(&sig, &KEYS.1, &moved, now, &window),
            Err(VerifyError::BadSignature)
        );
        if let Some(body) = body.as_ref().filter(|b| !b.is_empty()) {
            let mut changed = body.clone();
            let i = flip.index(changed.len());
            changed[i] ^= 1;
            let tampered = RequestParts { body: Some(&changed), ..request };
            prop_assert_eq!(
                verify_message(&sig, &KEYS.1, &tampered, now, &window),
                Err(VerifyError::DigestMismatch)
            );
        }
    }
}
