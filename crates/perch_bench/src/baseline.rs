//! What this machine can do at all: RSA-2048 signature checks per second
//! through AWS-LC, the work every inbound activity needs at the least, and
//! RSA-2048 signatures per second, the generator's own cost per request.

use std::time::{Duration, Instant};

use anyhow::anyhow;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKey};
use aws_lc_rs::signature::{
    KeyPair as _, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};

/// A signing string of the size the inbox verifies.
const MESSAGE: &[u8] = b"(request-target): post /users/target/inbox\nhost: 127.0.0.1:40000\n\
date: Mon, 30 Nov 2026 07:00:00 GMT\ndigest: SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\
content-type: application/activity+json";

pub struct Baseline {
    /// Verifications per second on one thread.
    pub verify_one: f64,
    /// Verifications per second on `threads` threads together.
    pub verify_all: f64,
    pub threads: usize,
    /// Signatures per second on one thread.
    pub sign_one: f64,
}

/// Measures for about `per_test` each (three tests).
pub fn measure(per_test: Duration) -> anyhow::Result<Baseline> {
    let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| anyhow!("RSA key generation"))?;
    let mut signature = vec![0; pair.public_modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        MESSAGE,
        &mut signature,
    )
    .map_err(|_| anyhow!("RSA signing"))?;
    // Parsed once, as the server keeps its peers' keys.
    let public =
        PublicKey::from_der(pair.public_key().as_ref()).map_err(|_| anyhow!("RSA public key"))?;
    let key = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public.as_ref())
        .map_err(|_| anyhow!("RSA public key"))?;
    key.verify_sig(MESSAGE, &signature)
        .map_err(|_| anyhow!("the baseline signature does not verify"))?;

    let verify_loop = || -> u64 {
        let start = Instant::now();
        let mut done = 0u64;
        while start.elapsed() < per_test {
            for _ in 0..64 {
                let ok = key.verify_sig(MESSAGE, &signature).is_ok();
                done += u64::from(ok);
            }
        }
        done
    };
    let rate = |count: u64| count as f64 / per_test.as_secs_f64();

    let verify_one = rate(verify_loop());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let verify_all = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads).map(|_| scope.spawn(verify_loop)).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .sum::<u64>()
    });
    let verify_all = rate(verify_all);

    let rng = SystemRandom::new();
    let start = Instant::now();
    let mut signed = 0u64;
    while start.elapsed() < per_test {
        pair.sign(&RSA_PKCS1_SHA256, &rng, MESSAGE, &mut signature)
            .map_err(|_| anyhow!("RSA signing"))?;
        signed += 1;
    }
    Ok(Baseline {
        verify_one,
        verify_all,
        threads,
        sign_one: rate(signed),
    })
}
