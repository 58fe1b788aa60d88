//! HTTP signatures with an RSA-2048 key: verifying an inbound POST as the
//! inbox does once it holds the sender's parsed key (`parse_signature`, then
//! `verify_request`: coverage, date window, `Digest` over the body, signing
//! string, RSA; and the same for RFC 9421 with `parse_message_signature`
//! and `verify_message`), and signing an outbound POST (`sign_request`,
//! `sign_message`). Baselines,
//! in the same run: AWS-LC's bare RSASSA-PKCS1-v1_5 SHA-256 verify and sign
//! with the same key over the same signing string, so the ratios are the
//! cost of the header handling around the RSA operation.
//!
//! `cargo bench -p perch_apub --bench signatures`

mod inputs;
mod ratios;

use std::hint::black_box;
use std::time::SystemTime;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeyPair;
use aws_lc_rs::signature::{
    KeyPair as _, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use criterion::{BatchSize, Criterion, Throughput};
use http::header::{ACCEPT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, DATE, HOST, USER_AGENT};
use http::{HeaderMap, HeaderValue, Method};
use perch_apub::signatures::{
    DateWindow, RequestParts, SigningKey, VerifyingKey, parse_message_signature, parse_signature,
    sign_message, sign_request, verify_message, verify_request,
};
use ratios::Ratio;

const KEY_ID: &str = "https://mastodon.example/users/alice#main-key";
const INBOX: &str = "https://perch.example/inbox";

/// One freshly generated RSA-2048 actor key, in every form the benchmarks
/// need.
struct Keys {
    public_pem: String,
    signing: SigningKey,
    verifying: VerifyingKey,
    pair: KeyPair,
    public: ParsedPublicKey,
}

fn keys() -> Keys {
    let (public_pem, private_pem) =
        perch_core::keys::generate_actor_keys().expect("an RSA-2048 key is generated");
    let pair = KeyPair::from_pkcs8(&pem_body(&private_pem)).expect("the PKCS#8 key parses");
    let public = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pair.public_key().as_ref())
        .expect("the public key parses");
    Keys {
        signing: SigningKey::from_pem(KEY_ID, &private_pem).expect("the private key parses"),
        verifying: VerifyingKey::from_pem(&public_pem).expect("the public key parses"),
        public_pem,
        pair,
        public,
    }
}

fn pem_body(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).expect("PEM base64")
}

/// The headers Mastodon sends with a delivery, before signing.
fn unsigned_headers(body_len: usize) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/activity+json"),
    );
    headers.insert(
        USER_AGENT,
        HeaderValue::from_static("http.rb/5.2.0 (Mastodon/4.3.2; +https://mastodon.example/)"),
    );
    headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
    headers.insert(CONTENT_LENGTH, HeaderValue::from(body_len));
    headers
}

/// What `sign_request` signed, rebuilt from the headers it set, and the
/// signature from its `Signature` header: the baselines' input.
fn signed_parts(headers: &HeaderMap) -> (Vec<u8>, Vec<u8>) {
    let value = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .expect("a signed header")
    };
    let signing_string = format!(
        "(request-target): post /inbox\nhost: {}\ndate: {}\ndigest: {}\ncontent-type: {}",
        value(HOST.as_str()),
        value(DATE.as_str()),
        value("digest"),
        value(CONTENT_TYPE.as_str()),
    );
    let signature = value("signature")
        .split_once("signature=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(base64, _)| STANDARD.decode(base64).expect("base64 signature"))
        .expect("a signature parameter");
    (signing_string.into_bytes(), signature)
}

fn bench(c: &mut Criterion) {
    let keys = keys();
    let body = inputs::create_activity();
    let inbox = url::Url::parse(INBOX).expect("a URL");
    let now = SystemTime::now();
    let window = DateWindow::default();

    let template = unsigned_headers(body.len());
    let mut signed = template.clone();
    sign_request(
        &keys.signing,
        &Method::POST,
        &inbox,
        &mut signed,
        Some(&body),
        now,
    )
    .expect("the request signs");
    let (signing_string, signature) = signed_parts(&signed);
    // The baseline checks the very signature the inbox checks.
    keys.public
        .verify_sig(&signing_string, &signature)
        .expect("the rebuilt signing string is what was signed");

    let mut message_signed = template.clone();
    sign_message(
        &keys.signing,
        &Method::POST,
        &inbox,
        &mut message_signed,
        Some(&body),
        now,
    )
    .expect("the request signs");
    message_signed.insert(HOST, HeaderValue::from_static("perch.example"));

    let mut group = c.benchmark_group("signature_verify");
    group.throughput(Throughput::Elements(1));
    group.bench_function("verify_message", |b| {
        b.iter(|| {
            let sig =
                parse_message_signature(black_box(&message_signed)).expect("the signature parses");
            let request = RequestParts {
                method: &Method::POST,
                scheme: "https",
                path_and_query: black_box("/inbox"),
                headers: &message_signed,
                body: Some(black_box(&body)),
            };
            verify_message(&sig, &keys.verifying, &request, now, &window)
                .expect("the signature verifies")
        })
    });
    group.bench_function("verify_request", |b| {
        b.iter(|| {
            let sig = parse_signature(black_box(&signed)).expect("the signature parses");
            verify_request(
                &sig,
                &keys.verifying,
                &Method::POST,
                black_box("/inbox"),
                &signed,
                Some(black_box(&body)),
                now,
                &window,
            )
            .expect("the signature verifies")
        })
    });
    group.bench_function("parse_signature", |b| {
        b.iter(|| parse_signature(black_box(&signed)).expect("the signature parses"))
    });
    group.bench_function("rsa2048_verify", |b| {
        b.iter(|| {
            keys.public
                .verify_sig(black_box(&signing_string), black_box(&signature))
                .expect("the signature verifies")
        })
    });
    group.bench_function("verifying_key_from_pem", |b| {
        b.iter(|| VerifyingKey::from_pem(black_box(&keys.public_pem)).expect("the key parses"))
    });
    group.finish();

    let mut group = c.benchmark_group("signature_sign");
    group.throughput(Throughput::Elements(1));
    group.bench_function("sign_request", |b| {
        b.iter_batched_ref(
            || template.clone(),
            |headers| {
                sign_request(
                    &keys.signing,
                    &Method::POST,
                    &inbox,
                    headers,
                    Some(black_box(&body)),
                    now,
                )
                .expect("the request signs")
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function("sign_message", |b| {
        b.iter_batched_ref(
            || template.clone(),
            |headers| {
                sign_message(
                    &keys.signing,
                    &Method::POST,
                    &inbox,
                    headers,
                    Some(black_box(&body)),
                    now,
                )
                .expect("the request signs")
            },
            BatchSize::SmallInput,
        )
    });
    let rng = SystemRandom::new();
    let mut out = vec![0; keys.pair.public_modulus_len()];
    group.bench_function("rsa2048_sign", |b| {
        b.iter(|| {
            keys.pair
                .sign(
                    &RSA_PKCS1_SHA256,
                    &rng,
                    black_box(&signing_string),
                    &mut out,
                )
                .expect("RSA signs")
        })
    });
    group.finish();
}

fn main() {
    ratios::run(
        bench,
        &[
            Ratio {
                label: "verify an inbound POST / bare RSA verify",
                subject: "signature_verify/verify_request",
                baseline: "signature_verify/rsa2048_verify",
            },
            Ratio {
                label: "verify an inbound RFC 9421 POST / bare RSA verify",
                subject: "signature_verify/verify_message",
                baseline: "signature_verify/rsa2048_verify",
            },
            Ratio {
                label: "parse the Signature header / bare verify",
                subject: "signature_verify/parse_signature",
                baseline: "signature_verify/rsa2048_verify",
            },
            Ratio {
                label: "parse a public key PEM / bare verify",
                subject: "signature_verify/verifying_key_from_pem",
                baseline: "signature_verify/rsa2048_verify",
            },
            Ratio {
                label: "sign an outbound POST / bare RSA sign",
                subject: "signature_sign/sign_request",
                baseline: "signature_sign/rsa2048_sign",
            },
            Ratio {
                label: "sign an outbound RFC 9421 POST / bare RSA sign",
                subject: "signature_sign/sign_message",
                baseline: "signature_sign/rsa2048_sign",
            },
        ],
    );
}
