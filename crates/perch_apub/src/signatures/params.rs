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
/// value contains backslash escapes (`\x` stands for `x`, whatever `x`).
fn take_quoted<'a>(s: &'a str, i: &mut usize) -> Result<Cow<'a, str>, VerifyError> {
    let unterminated = || VerifyError::MalformedSignature("unterminated quoted value");
    let start = *i + 1;
    let mut unescaped: Option<String> = None;
    // Where the text not yet copied into `unescaped` begins. Every cut is
    // next to an ASCII `"` or `\`, so on a character boundary even when the
    // value is not ASCII.
    let mut copied_to = start;
    let mut j = start;
    loop {
        match s.as_bytes().get(j) {
            None => return Err(unterminated()),
            Some(b'"') => break,
            Some(b'\\') => {
                let escaped = s[j + 1..].chars().next().ok_or_else(unterminated)?;
                let owned = unescaped.get_or_insert_with(String::new);
                owned.push_str(&s[copied_to..j]);
                owned.push(escaped);
                j += 1 + escaped.len_utf8();
                copied_to = j;
            }
            Some(_) => j += 1,
        }
    }
    *i = j + 1;
    Ok(match unescaped {
        Some(mut owned) => {
            owned.push_str(&s[copied_to..j]);
            Cow::Owned(owned)
        }
        None => Cow::Borrowed(&s[start..j]),
    })
}
