//! The `name="value", …` parameter list of a `Signature` header
//! (draft-cavage-http-signatures-12 §2.1), parsed without copying unless a
//! value contains backslash escapes.

use std::borrow::Cow;

use super::VerifyError;

/// The known parameters of a signature header, borrowed where possible.
#[derive(Default)]
pub(super) struct Params<'a> {
    pub(super) key_id: Option<Cow<'a, str>>,
    pub(super) algorithm: Option<Cow<'a, str>>,
    pub(super) headers: Option<Cow<'a, str>>,
    pub(super) signature: Option<Cow<'a, str>>,
    pub(super) created: Option<Cow<'a, str>>,
    pub(super) expires: Option<Cow<'a, str>>,
}

impl<'a> Params<'a> {
    /// `name=value` pairs separated by commas with optional whitespace;
    /// values are quoted strings or, for `created`/`expires`, bare tokens.
    pub(super) fn parse(s: &'a str) -> Result<Self, VerifyError> {
        let malformed = VerifyError::MalformedSignature;
        let b = s.as_bytes();
        let mut params = Params::default();
        let mut i = 0;
        loop {
            skip_ows(b, &mut i);
            match b.get(i) {
                None => break,
                // Empty list elements are allowed in HTTP lists.
                Some(b',') => {
                    i += 1;
                    continue;
                }
                Some(_) => {}
            }
            let name = take_token(s, &mut i);
            if name.is_empty() {
                return Err(malformed("expected a parameter name"));
            }
            skip_ows(b, &mut i);
            if b.get(i) != Some(&b'=') {
                return Err(malformed("expected `=` after a parameter name"));
            }
            i += 1;
            skip_ows(b, &mut i);
            let value = if b.get(i) == Some(&b'"') {
                take_quoted(s, &mut i)?
            } else {
                Cow::Borrowed(take_token(s, &mut i))
            };
            let slot = match name {
                "keyId" => Some(&mut params.key_id),
                "algorithm" => Some(&mut params.algorithm),
                "headers" => Some(&mut params.headers),
                "signature" => Some(&mut params.signature),
                "created" => Some(&mut params.created),
                "expires" => Some(&mut params.expires),
                _ => None, // unknown parameters are ignored (draft §2.1)
            };
            if let Some(slot) = slot {
                if slot.is_some() {
                    // The draft forbids processing these (§2.1).
                    return Err(malformed("duplicated parameter"));
                }
                *slot = Some(value);
            }
            skip_ows(b, &mut i);
            match b.get(i) {
                None => break,
                Some(b',') => i += 1,
                Some(_) => return Err(malformed("expected `,` between parameters")),
            }
        }
        Ok(params)
    }
}

fn skip_ows(b: &[u8], i: &mut usize) {
    while matches!(b.get(*i), Some(b' ' | b'\t')) {
        *i += 1;
    }
}

fn take_token<'a>(s: &'a str, i: &mut usize) -> &'a str {
    let start = *i;
    while s
        .as_bytes()
        .get(*i)
        .is_some_and(|&c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c))
    {
        *i += 1;
    }
    &s[start..*i]
}

/// Reads a quoted string starting at the opening quote; borrows unless the
/// value contains backslash escapes.
fn take_quoted<'a>(s: &'a str, i: &mut usize) -> Result<Cow<'a, str>, VerifyError> {
    let b = s.as_bytes();
    let start = *i + 1;
    let mut j = start;
    let mut unescaped: Option<String> = None;
    loop {
        match b.get(j) {
            None => return Err(VerifyError::MalformedSignature("unterminated quoted value")),
            Some(b'"') => break,
            Some(b'\\') => {
                let owned = unescaped.get_or_insert_with(|| s[start..j].to_owned());
                let escaped = s
                    .get(j + 1..j + 2)
                    .ok_or(VerifyError::MalformedSignature("unterminated quoted value"))?;
                owned.push_str(escaped);
                j += 2;
            }
            Some(_) => {
                // The header passed `to_str`, so every byte is ASCII.
                if let Some(owned) = unescaped.as_mut() {
                    owned.push_str(&s[j..j + 1]);
                }
                j += 1;
            }
        }
    }
    *i = j + 1;
    Ok(match unescaped {
        Some(owned) => Cow::Owned(owned),
        None => Cow::Borrowed(&s[start..j]),
    })
}
