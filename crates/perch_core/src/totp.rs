//! Two-factor authentication with time-based one-time passwords (TOTP,
//! RFC 6238) and single-use recovery codes.
//!
//! The flow this supports: [`TotpSecret::generate`] makes a secret, which the
//! user scans from [`otpauth_uri`] into an authenticator app; at sign-in,
//! [`verify`] checks the six digits they type and returns the time step that
//! matched, which the caller stores so the same code cannot be replayed.
//! [`generate_recovery_codes`] makes the codes a user writes down in case the
//! device is lost; only [`hash_recovery_code`] of each is stored.
//!
//! Parameters are the ones every authenticator app supports without asking:
//! HMAC-SHA1, 30-second steps, 6 digits. Everything here is pure apart from
//! the random number generator; storing secrets, steps and hashes is the
//! caller's business.

use std::collections::HashSet;
use std::fmt;

use aws_lc_rs::{constant_time, digest, hmac};
use rand::{Rng, RngCore};

/// Length of a secret in bytes: the 160 bits RFC 4226 recommends for
/// HMAC-SHA1.
pub const SECRET_LEN: usize = 20;
/// Seconds per time step (RFC 6238's default X, and the only value most
/// authenticator apps honour).
pub const STEP_SECONDS: i64 = 30;
/// Digits in a code.
pub const DIGITS: u32 = 6;
/// Steps either side of the current one that are accepted, to absorb clock
/// drift between the server and the user's phone and the time it takes to type.
const DRIFT_STEPS: i64 = 1;

/// The shared key from which codes are derived. It must never end up in logs,
/// so `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret([u8; SECRET_LEN]);

/// Why a base32 secret was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("secret contains a character outside the base32 alphabet")]
    InvalidCharacter,
    #[error("secret has the wrong length")]
    WrongLength,
}

impl TotpSecret {
    /// A fresh secret from the thread-local CSPRNG (ChaCha, seeded from the
    /// operating system).
    pub fn generate() -> Self {
        let mut bytes = [0u8; SECRET_LEN];
        rand::thread_rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// A secret from raw bytes, e.g. as stored in the database.
    pub fn from_bytes(bytes: [u8; SECRET_LEN]) -> Self {
        Self(bytes)
    }

    /// The raw bytes, for storage.
    pub fn as_bytes(&self) -> &[u8; SECRET_LEN] {
        &self.0
    }

    /// Upper-case base32 without padding: the form authenticator apps expect
    /// in the `secret=` parameter and for manual entry.
    pub fn to_base32(&self) -> String {
        base32_encode(&self.0)
    }

    /// Parse a secret as shown to or typed by a user: case-insensitive, and
    /// whitespace (used to group the characters for reading) is ignored.
    pub fn from_base32(text: &str) -> Result<Self, SecretError> {
        let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let bytes = base32_decode(&compact)?;
        <[u8; SECRET_LEN]>::try_from(bytes.as_slice())
            .map(Self)
            .map_err(|_| SecretError::WrongLength)
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

/// The `otpauth://` URI (Google Authenticator's "Key Uri Format", understood
/// by all common apps) to show as a QR code. The issuer appears both as the
/// label prefix and as the `issuer` parameter: older apps read the former,
/// newer ones the latter.
pub fn otpauth_uri(secret: &TotpSecret, issuer: &str, account_label: &str) -> String {
    let issuer = percent_encode(issuer);
    format!(
        "otpauth://totp/{issuer}:{label}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        label = percent_encode(account_label),
        secret = secret.to_base32(),
    )
}

/// The code an authenticator shows at `unix_seconds`. Instants before the
/// epoch are treated as the epoch: RFC 6238's time counter is unsigned.
pub fn code_at(secret: &TotpSecret, unix_seconds: i64) -> String {
    let key = hmac_key(secret);
    code_for_step(&key, step_of(unix_seconds).max(0), DIGITS)
}

/// Check a code typed by the user.
///
/// Accepts the codes of the current step and of one step either side. A step
/// at or before `last_used_step` is refused, so each code works once even
/// within its validity window. On success, returns the step that matched;
/// the caller must store it as the new `last_used_step`.
///
/// Surrounding whitespace is ignored (pasted codes often carry a newline);
/// anything else that is not exactly six ASCII digits is refused.
pub fn verify(
    secret: &TotpSecret,
    code: &str,
    unix_seconds: i64,
    last_used_step: Option<i64>,
) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let key = hmac_key(secret);
    let current = step_of(unix_seconds);
    let mut matched = None;
    // Every candidate is computed and compared, without stopping at the first
    // match, so the time taken does not depend on which step matched. If two
    // steps happen to share a code, the later one is kept: it retires more.
    for step in current.saturating_sub(DRIFT_STEPS)..=current.saturating_add(DRIFT_STEPS) {
        if step < 0 || last_used_step.is_some_and(|last| step <= last) {
            continue;
        }
        let expected = code_for_step(&key, step, DIGITS);
        if constant_time::verify_slices_are_equal(expected.as_bytes(), code.as_bytes()).is_ok() {
            matched = Some(step);
        }
    }
    matched
}

/// The characters of recovery codes: lower-case letters and digits without
/// those that are easily confused when copied by hand (0/o, 1/l/i).
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
/// Characters in each half of a recovery code (`xxxxx-xxxxx`).
const RECOVERY_HALF_LEN: usize = 5;

/// `n` distinct recovery codes of the form `xxxxx-xxxxx`, about 49.5 bits of
/// entropy each. Show them once; store only [`hash_recovery_code`] of each.
pub fn generate_recovery_codes(n: usize) -> Vec<String> {
    let mut rng = rand::thread_rng();
    let mut seen = HashSet::with_capacity(n);
    let mut codes = Vec::with_capacity(n);
    while codes.len() < n {
        let mut code = String::with_capacity(2 * RECOVERY_HALF_LEN + 1);
        for i in 0..2 * RECOVERY_HALF_LEN {
            if i == RECOVERY_HALF_LEN {
                code.push('-');
            }
            let index = rng.gen_range(0..RECOVERY_ALPHABET.len());
            code.push(char::from(RECOVERY_ALPHABET[index]));
        }
        // A duplicate is astronomically unlikely, but a list with one would
        // silently hold one code fewer than promised.
        if seen.insert(code.clone()) {
            codes.push(code);
        }
    }
    codes
}

/// The stored form of a recovery code: SHA-256, hex, of the code lower-cased
/// with spaces and dashes removed, so `ABCDE-FGHJK`, `abcde fghjk` and
/// `abcdefghjk` all match.
///
/// A fast hash is enough here, unlike for passwords: the codes are random with
/// about 49.5 bits of entropy, not chosen by people, and whoever can read the
/// stored hashes can also read the TOTP secret next to them, which already
/// defeats the second factor. Hashing keeps the codes out of plain sight in
/// backups and query logs, and lets the caller look a code up by its hash.
pub fn hash_recovery_code(code: &str) -> String {
    let normalised: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    let hash = digest::digest(&digest::SHA256, normalised.as_bytes());
    hex_lower(hash.as_ref())
}

fn hmac_key(secret: &TotpSecret) -> hmac::Key {
    // SHA-1 is what RFC 6238 and every authenticator app use by default; HMAC
    // does not rely on the collision resistance that SHA-1 lacks.
    hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &secret.0)
}

fn step_of(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// HOTP (RFC 4226) of `step`, zero-padded to `digits`. `step` must not be
/// negative and `digits` must be at most 9 so that the modulus fits a `u32`.
fn code_for_step(key: &hmac::Key, step: i64, digits: u32) -> String {
    let counter = u64::try_from(step).unwrap_or(0);
    let tag = hmac::sign(key, &counter.to_be_bytes());
    let value = truncate(tag.as_ref(), digits);
    format!("{value:0width$}", width = digits as usize)
}

/// RFC 4226 §5.3 dynamic truncation: the low nibble of the last byte picks
/// an offset, the 31 bits from there (sign bit masked so the result does not
/// depend on signedness) are reduced modulo 10^digits.
fn truncate(mac: &[u8], digits: u32) -> u32 {
    let offset = mac.last().map_or(0, |b| usize::from(b & 0x0f));
    let mut word = [0u8; 4];
    if let Some(bytes) = mac.get(offset..offset + 4) {
        word.copy_from_slice(bytes);
    }
    let binary = u32::from_be_bytes(word) & 0x7fff_ffff;
    binary % 10u32.pow(digits)
}

const BASE32_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 §6 base32, upper case, without `=` padding.
fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u16 = 0;
    let mut bits = 0u32;
    for &byte in bytes {
        buffer = (buffer << 8) | u16::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(
                BASE32_ALPHABET[usize::from((buffer >> bits) & 31)],
            ));
        }
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 {
        // The last group is padded with zero bits on the right.
        out.push(char::from(
            BASE32_ALPHABET[usize::from((buffer << (5 - bits)) & 31)],
        ));
    }
    out
}

/// Inverse of [`base32_encode`], accepting either case. Input whose length
/// cannot come from whole bytes, or whose leftover bits are not zero, is
/// refused so that every secret has exactly one spelling.
fn base32_decode(text: &str) -> Result<Vec<u8>, SecretError> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let mut buffer: u16 = 0;
    let mut bits = 0u32;
    for c in text.bytes() {
        let value = match c.to_ascii_uppercase() {
            upper @ b'A'..=b'Z' => upper - b'A',
            digit @ b'2'..=b'7' => digit - b'2' + 26,
            _ => return Err(SecretError::InvalidCharacter),
        };
        buffer = (buffer << 5) | u16::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
        buffer &= (1 << bits) - 1;
    }
    if bits >= 5 || buffer != 0 {
        return Err(SecretError::WrongLength);
    }
    Ok(out)
}

/// Percent-encode everything except RFC 3986's unreserved characters and `@`
/// (a valid path and query character, left readable because account labels
/// are often addresses).
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'@') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(hex_digit(byte >> 4, b'A'));
            out.push(hex_digit(byte & 0x0f, b'A'));
        }
    }
    out
}

fn hex_lower(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        out.push(hex_digit(byte >> 4, b'a'));
        out.push(hex_digit(byte & 0x0f, b'a'));
    }
    out
}

/// One hex digit of a nibble; `ten` is the letter for 10 (`a` or `A`).
fn hex_digit(nibble: u8, ten: u8) -> char {
    char::from(if nibble < 10 {
        b'0' + nibble
    } else {
        ten + nibble - 10
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B's SHA-1 seed.
    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(*b"12345678901234567890")
    }

    /// RFC 6238 Appendix B, SHA-1 rows: (time, 8-digit TOTP).
    const RFC6238_SHA1: [(i64, &str); 6] = [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ];

    #[test]
    fn rfc6238_vectors_with_eight_digits() {
        let key = hmac_key(&rfc_secret());
        for (time, expected) in RFC6238_SHA1 {
            assert_eq!(code_for_step(&key, step_of(time), 8), expected, "T={time}");
        }
    }

    #[test]
    fn six_digit_codes_are_the_last_six_of_the_rfc_values() {
        for (time, expected) in RFC6238_SHA1 {
            assert_eq!(code_at(&rfc_secret(), time), expected[2..], "T={time}");
        }
    }

    #[test]
    fn rfc4226_hotp_vectors() {
        // RFC 4226 Appendix D: HOTP for counters 0..9 with the same secret.
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        let key = hmac_key(&rfc_secret());
        for (counter, code) in expected.iter().enumerate() {
            assert_eq!(code_for_step(&key, counter as i64, 6), *code);
        }
    }

    #[test]
    fn base32_rfc4648_vectors() {
        let vectors = [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(base32_encode(plain.as_bytes()), encoded);
            assert_eq!(
                base32_decode(encoded).as_deref(),
                Ok(plain.as_bytes()),
                "{encoded}"
            );
        }
    }

    #[test]
    fn base32_refuses_bad_input() {
        assert_eq!(base32_decode("MZ1W"), Err(SecretError::InvalidCharacter));
        assert_eq!(
            base32_decode("MZXW6Y=="),
            Err(SecretError::InvalidCharacter)
        );
        // One character cannot hold a whole byte.
        assert_eq!(base32_decode("M"), Err(SecretError::WrongLength));
        // "MY" is "f"; "MZ" has non-zero leftover bits.
        assert_eq!(base32_decode("MZ"), Err(SecretError::WrongLength));
    }

    #[test]
    fn secret_round_trips_through_base32() {
        let secret = TotpSecret::generate();
        let text = secret.to_base32();
        assert_eq!(text.len(), 32);
        assert!(text.bytes().all(|b| BASE32_ALPHABET.contains(&b)));
        assert_eq!(TotpSecret::from_base32(&text), Ok(secret.clone()));

        // As a user might type it: lower case, in groups of four.
        let typed: String = text
            .to_ascii_lowercase()
            .as_bytes()
            .chunks(4)
            .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(TotpSecret::from_base32(&typed), Ok(secret));
    }

    #[test]
    fn secret_of_wrong_length_is_refused() {
        assert_eq!(
            TotpSecret::from_base32("MZXW6YTBOI"),
            Err(SecretError::WrongLength)
        );
        assert_ne!(TotpSecret::generate(), TotpSecret::generate());
    }

    #[test]
    fn debug_hides_the_secret() {
        let secret = rfc_secret();
        assert_eq!(format!("{secret:?}"), "TotpSecret(<redacted>)");
    }

    #[test]
    fn accepts_one_step_either_side() {
        let secret = rfc_secret();
        let now = 1_111_111_111;
        let step = step_of(now);
        assert_eq!(
            verify(&secret, &code_at(&secret, now), now, None),
            Some(step)
        );
        let earlier = code_at(&secret, now - STEP_SECONDS);
        assert_eq!(verify(&secret, &earlier, now, None), Some(step - 1));
        let later = code_at(&secret, now + STEP_SECONDS);
        assert_eq!(verify(&secret, &later, now, None), Some(step + 1));
    }

    #[test]
    fn refuses_two_steps_either_side() {
        let secret = rfc_secret();
        let now = 1_111_111_111;
        let too_old = code_at(&secret, now - 2 * STEP_SECONDS);
        assert_eq!(verify(&secret, &too_old, now, None), None);
        let too_new = code_at(&secret, now + 2 * STEP_SECONDS);
        assert_eq!(verify(&secret, &too_new, now, None), None);
    }

    #[test]
    fn a_code_works_once() {
        let secret = rfc_secret();
        let now = 1_234_567_890;
        let code = code_at(&secret, now);
        let used = verify(&secret, &code, now, None);
        assert_eq!(used, Some(step_of(now)));
        assert_eq!(verify(&secret, &code, now, used), None);
        // Nor can an older code be used after a newer one.
        let previous = code_at(&secret, now - STEP_SECONDS);
        assert_eq!(verify(&secret, &previous, now, used), None);
        // The next step's code is still accepted.
        let next = code_at(&secret, now + STEP_SECONDS);
        assert_eq!(
            verify(&secret, &next, now + STEP_SECONDS, used),
            Some(step_of(now) + 1)
        );
    }

    #[test]
    fn malformed_codes_are_refused() {
        let secret = rfc_secret();
        let now = 59;
        let good = code_at(&secret, now);
        assert_eq!(good, "287082");
        assert_eq!(
            verify(&secret, &format!(" {good}\n"), now, None),
            Some(step_of(now))
        );
        for bad in [
            "", "28708", "2870820", "94287082", "287 082", "28708a", "+87082", "２87082",
        ] {
            assert_eq!(verify(&secret, bad, now, None), None, "{bad:?}");
        }
    }

    #[test]
    fn otpauth_uri_format() {
        let secret = rfc_secret();
        let uri = otpauth_uri(&secret, "Perch social", "alice@example.com");
        assert_eq!(
            uri,
            "otpauth://totp/Perch%20social:alice@example.com\
             ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Perch%20social\
             &algorithm=SHA1&digits=6&period=30"
        );
        let odd = otpauth_uri(&secret, "a:b&c", "é?#");
        assert!(odd.starts_with("otpauth://totp/a%3Ab%26c:%C3%A9%3F%23?secret="));
        assert!(odd.contains("&issuer=a%3Ab%26c&"));
    }

    #[test]
    fn recovery_codes_are_distinct_and_well_formed() {
        let codes = generate_recovery_codes(10);
        assert_eq!(codes.len(), 10);
        let distinct: HashSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), 10);
        for code in &codes {
            assert_eq!(code.len(), 11, "{code}");
            assert_eq!(code.as_bytes()[5], b'-');
            assert!(
                code.bytes()
                    .filter(|&b| b != b'-')
                    .all(|b| RECOVERY_ALPHABET.contains(&b)),
                "{code}"
            );
        }
        assert!(generate_recovery_codes(0).is_empty());
    }

    #[test]
    fn recovery_code_hash_ignores_case_spaces_and_dashes() {
        let hash = hash_recovery_code("abcde-fghjk");
        assert_eq!(hash.len(), 64);
        assert!(
            hash.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_eq!(hash_recovery_code("ABCDE-FGHJK"), hash);
        assert_eq!(hash_recovery_code(" abcde fghjk "), hash);
        assert_eq!(hash_recovery_code("abcdefghjk"), hash);
        assert_ne!(hash_recovery_code("abcde-fghjm"), hash);
        // SHA-256("abc"), FIPS 180-2 Appendix B.1.
        assert_eq!(
            hash_recovery_code("a-b c"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
