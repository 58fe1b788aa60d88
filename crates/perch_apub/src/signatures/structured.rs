//! The part of RFC 8941 (Structured Field Values) that RFC 9421 signatures
//! and RFC 9530 digests are written in: dictionaries whose members are
//! items or inner lists, with parameters, and the serialisation of an inner
//! list (the `@signature-params` line of a signature base).
//!
//! The parser follows the algorithms of RFC 8941 §4.2 and fails on anything
//! they fail on; it never panics, whatever the input. Decimals are kept as
//! their text: no signature or digest parameter is a decimal, and keeping
//! the text lets a signature that uses one be refused by its verification
//! rather than by the parser.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::LENIENT_BASE64;

/// A bare item (RFC 8941 §3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Bare {
    Integer(i64),
    Decimal(String),
    String(String),
    Token(String),
    Bytes(Vec<u8>),
    Boolean(bool),
}

/// Parameters, in order: key and value.
pub(super) type Parameters = Vec<(String, Bare)>;

/// A dictionary member: an item or an inner list, each with parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Member {
    Item(Bare, Parameters),
    InnerList(Vec<(Bare, Parameters)>, Parameters),
}

/// Why a field is not a structured field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Malformed(pub(super) &'static str);

/// Parses a dictionary (RFC 8941 §4.2.2). A repeated key keeps its first
/// place and takes the last value, as the RFC asks.
pub(super) fn parse_dictionary(input: &str) -> Result<Vec<(String, Member)>, Malformed> {
    let mut p = Parser {
        b: input.as_bytes(),
        i: 0,
    };
    p.skip_sp();
    let mut members: Vec<(String, Member)> = Vec::new();
    while !p.done() {
        let key = p.key()?;
        let member = if p.peek() == Some(b'=') {
            p.i += 1;
            p.member()?
        } else {
            Member::Item(Bare::Boolean(true), p.parameters()?)
        };
        match members.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = member,
            None => members.push((key, member)),
        }
        p.skip_ows();
        if p.done() {
            break;
        }
        if p.peek() != Some(b',') {
            return Err(Malformed("expected `,` between dictionary members"));
        }
        p.i += 1;
        p.skip_ows();
        if p.done() {
            return Err(Malformed("a dictionary ends with `,`"));
        }
    }
    Ok(members)
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn done(&self) -> bool {
        self.i >= self.b.len()
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn skip_sp(&mut self) {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn member(&mut self) -> Result<Member, Malformed> {
        if self.peek() == Some(b'(') {
            self.inner_list()
        } else {
            let bare = self.bare()?;
            Ok(Member::Item(bare, self.parameters()?))
        }
    }

    fn inner_list(&mut self) -> Result<Member, Malformed> {
        self.i += 1; // `(`
        let mut items = Vec::new();
        loop {
            self.skip_sp();
            match self.peek() {
                None => return Err(Malformed("an inner list is not closed")),
                Some(b')') => {
                    self.i += 1;
                    return Ok(Member::InnerList(items, self.parameters()?));
                }
                Some(_) => {
                    let bare = self.bare()?;
                    items.push((bare, self.parameters()?));
                    if !matches!(self.peek(), Some(b' ' | b')')) {
                        return Err(Malformed("expected a space or `)` in an inner list"));
                    }
                }
            }
        }
    }

    fn parameters(&mut self) -> Result<Parameters, Malformed> {
        let mut params: Parameters = Vec::new();
        while self.peek() == Some(b';') {
            self.i += 1;
            self.skip_sp();
            let key = self.key()?;
            let value = if self.peek() == Some(b'=') {
                self.i += 1;
                self.bare()?
            } else {
                Bare::Boolean(true)
            };
            match params.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => params.push((key, value)),
            }
        }
        Ok(params)
    }

    fn key(&mut self) -> Result<String, Malformed> {
        let start = self.i;
        match self.peek() {
            Some(c) if c.is_ascii_lowercase() || c == b'*' => self.i += 1,
            _ => return Err(Malformed("expected a key")),
        }
        while self.peek().is_some_and(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'_' | b'-' | b'.' | b'*')
        }) {
            self.i += 1;
        }
        Ok(String::from_utf8_lossy(&self.b[start..self.i]).into_owned())
    }

    fn bare(&mut self) -> Result<Bare, Malformed> {
        match self.peek() {
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'"') => self.string(),
            Some(b':') => self.bytes(),
            Some(b'?') => self.boolean(),
            Some(c) if c.is_ascii_alphabetic() || c == b'*' => Ok(self.token()),
            _ => Err(Malformed("expected an item")),
        }
    }

    fn number(&mut self) -> Result<Bare, Malformed> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        let digits_from = self.i;
        let mut dot = None;
        while let Some(c) = self.peek() {
            match c {
                b'0'..=b'9' => self.i += 1,
                b'.' if dot.is_none() => {
                    if self.i - digits_from > 12 {
                        return Err(Malformed("a decimal has too many digits"));
                    }
                    dot = Some(self.i);
                    self.i += 1;
                }
                _ => break,
            }
        }
        let text =
            std::str::from_utf8(&self.b[start..self.i]).map_err(|_| Malformed("not a number"))?;
        match dot {
            None => {
                let len = self.i - digits_from;
                if len == 0 || len > 15 {
                    return Err(Malformed("an integer has no or too many digits"));
                }
                text.parse()
                    .map(Bare::Integer)
                    .map_err(|_| Malformed("not an integer"))
            }
            Some(dot) => {
                let fraction = self.i - dot - 1;
                if dot == digits_from || fraction == 0 || fraction > 3 {
                    return Err(Malformed("a decimal is malformed"));
                }
                Ok(Bare::Decimal(text.to_owned()))
            }
        }
    }

    fn string(&mut self) -> Result<Bare, Malformed> {
        self.i += 1; // `"`
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(Malformed("a string is not closed")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(Bare::String(out));
                }
                Some(b'\\') => {
                    self.i += 1;
                    match self.peek() {
                        Some(c @ (b'"' | b'\\')) => {
                            out.push(char::from(c));
                            self.i += 1;
                        }
                        _ => return Err(Malformed("a string has a bad escape")),
                    }
                }
                Some(c @ 0x20..=0x7e) => {
                    out.push(char::from(c));
                    self.i += 1;
                }
                Some(_) => return Err(Malformed("a string has a character outside ASCII")),
            }
        }
    }

    fn token(&mut self) -> Bare {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~:/".contains(&c))
        {
            self.i += 1;
        }
        Bare::Token(String::from_utf8_lossy(&self.b[start..self.i]).into_owned())
    }

    fn bytes(&mut self) -> Result<Bare, Malformed> {
        self.i += 1; // `:`
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='))
        {
            self.i += 1;
        }
        if self.peek() != Some(b':') {
            return Err(Malformed("a byte sequence is not closed"));
        }
        let decoded = LENIENT_BASE64
            .decode(&self.b[start..self.i])
            .map_err(|_| Malformed("a byte sequence is not base64"))?;
        self.i += 1;
        Ok(Bare::Bytes(decoded))
    }

    fn boolean(&mut self) -> Result<Bare, Malformed> {
        self.i += 1; // `?`
        let value = match self.peek() {
            Some(b'1') => true,
            Some(b'0') => false,
            _ => return Err(Malformed("a boolean is neither ?0 nor ?1")),
        };
        self.i += 1;
        Ok(Bare::Boolean(value))
    }
}

/// Serialises an inner list with its parameters (RFC 8941 §4.1.1.1).
pub(super) fn serialize_inner_list(items: &[(Bare, Parameters)], params: &Parameters) -> String {
    let mut out = String::with_capacity(128);
    out.push('(');
    for (i, (bare, item_params)) in items.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        serialize_bare(&mut out, bare);
        serialize_parameters(&mut out, item_params);
    }
    out.push(')');
    serialize_parameters(&mut out, params);
    out
}

fn serialize_parameters(out: &mut String, params: &Parameters) {
    for (key, value) in params {
        out.push(';');
        out.push_str(key);
        if *value != Bare::Boolean(true) {
            out.push('=');
            serialize_bare(out, value);
        }
    }
}

fn serialize_bare(out: &mut String, bare: &Bare) {
    match bare {
        Bare::Integer(n) => out.push_str(&n.to_string()),
        Bare::Decimal(text) => out.push_str(text),
        Bare::String(s) => {
            out.push('"');
            for c in s.chars() {
                if matches!(c, '"' | '\\') {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('"');
        }
        Bare::Token(t) => out.push_str(t),
        Bare::Bytes(bytes) => {
            out.push(':');
            STANDARD.encode_string(bytes, out);
            out.push(':');
        }
        Bare::Boolean(b) => out.push_str(if *b { "?1" } else { "?0" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_examples_of_rfc_9421() {
        let input = r#"sig1=("@method" "@authority" "@path" "content-digest");created=1618884473;keyid="test-key-rsa-pss""#;
        let members = parse_dictionary(input).expect("parses");
        let [(label, Member::InnerList(items, params))] = members.as_slice() else {
            panic!("one inner list: {members:?}");
        };
        assert_eq!(label, "sig1");
        assert_eq!(items.len(), 4);
        assert_eq!(items[0].0, Bare::String("@method".to_owned()));
        assert_eq!(params[0], ("created".to_owned(), Bare::Integer(1618884473)));
        assert_eq!(
            serialize_inner_list(items, params),
            &input["sig1=".len()..],
            "serialises back to the same text"
        );

        let digest = parse_dictionary(
            "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:, sha-512=:YQ==:",
        )
        .expect("parses");
        assert_eq!(digest.len(), 2);
        assert_eq!(
            digest[1].1,
            Member::Item(Bare::Bytes(b"a".to_vec()), vec![])
        );
    }

    #[test]
    fn refuses_what_rfc_8941_refuses() {
        for bad in [
            "A=1",
            "a=(1 2",
            "a=\"open",
            "a=:abc",
            "a=1,",
            "a=1 b=2",
            "a=1234567890123456",
            "a=1.2345",
            "a=?2",
            "a=\"\\n\"",
            "a=\"é\"",
        ] {
            assert!(parse_dictionary(bad).is_err(), "{bad:?} is refused");
        }
        assert_eq!(
            parse_dictionary("a, b;x=1").expect("booleans"),
            vec![
                ("a".to_owned(), Member::Item(Bare::Boolean(true), vec![])),
                (
                    "b".to_owned(),
                    Member::Item(
                        Bare::Boolean(true),
                        vec![("x".to_owned(), Bare::Integer(1))]
                    )
                ),
            ]
        );
    }
}
