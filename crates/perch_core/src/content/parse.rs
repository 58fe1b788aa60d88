//! Finding links, mentions and hashtags in plain text.

/// A mention as written: `@username` or `@username@domain`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MentionRef {
    pub username: String,
    /// `None` for `@username` (an account of this server).
    pub domain: Option<String>,
}

impl MentionRef {
    /// `username` or `username@domain`.
    pub fn acct(&self) -> String {
        match &self.domain {
            Some(domain) => format!("{}@{domain}", self.username),
            None => self.username.clone(),
        }
    }

    fn same(&self, other: &MentionRef) -> bool {
        self.username.eq_ignore_ascii_case(&other.username)
            && match (&self.domain, &other.domain) {
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                (None, None) => true,
                _ => false,
            }
    }
}

/// A piece of the text, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    Text(String),
    Url(String),
    Mention(MentionRef),
    /// The tag as written, without `#`.
    Hashtag(String),
}

/// Text split into segments, with the distinct mentions and tags.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub segments: Vec<Segment>,
    /// Distinct mentions (case-insensitively), in order of appearance.
    pub mentions: Vec<MentionRef>,
    /// Distinct tags, lower-cased, in order of appearance.
    pub tags: Vec<String>,
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn is_username_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Characters a URL may hold (it ends at white space or a quote/bracket
/// that cannot be in a URL as typed).
fn is_url_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '<' | '>' | '"' | '`' | '{' | '}' | '|' | '\\' | '^')
}

/// Normalised line breaks, trimmed.
fn normalise(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .trim()
        .to_owned()
}

/// A URL starting at `chars[start]`, as a length in chars.
fn url_at(chars: &[char], start: usize) -> Option<usize> {
    let rest: String = chars[start..chars.len().min(start + 8)].iter().collect();
    let lower = rest.to_ascii_lowercase();
    let scheme = if lower.starts_with("https://") {
        8
    } else if lower.starts_with("http://") {
        7
    } else {
        return None;
    };
    let mut end = start + scheme;
    while end < chars.len() && is_url_char(chars[end]) {
        end += 1;
    }
    // Trailing punctuation belongs to the sentence, and a closing
    // parenthesis only when it has no opening one in the URL.
    while end > start + scheme {
        let last = chars[end - 1];
        let opens = chars[start..end].iter().filter(|&&c| c == '(').count();
        let closes = chars[start..end].iter().filter(|&&c| c == ')').count();
        if matches!(last, '.' | ',' | ':' | ';' | '!' | '?' | '\'' | '*')
            || (last == ')' && closes > opens)
        {
            end -= 1;
        } else {
            break;
        }
    }
    let host_start = start + scheme;
    let has_host = chars.get(host_start).is_some_and(|c| c.is_alphanumeric());
    has_host.then_some(end - start)
}

/// A mention starting at the `@` at `chars[start]`: its reference and
/// length in chars.
fn mention_at(chars: &[char], start: usize) -> Option<(MentionRef, usize)> {
    let mut end = start + 1;
    while end < chars.len() && (is_username_char(chars[end]) || matches!(chars[end], '.' | '-')) {
        end += 1;
    }
    // Dots and hyphens only inside a username.
    while end > start + 1 && matches!(chars[end - 1], '.' | '-') {
        end -= 1;
    }
    if end == start + 1 {
        return None;
    }
    let username: String = chars[start + 1..end].iter().collect();
    if chars.get(end) == Some(&'@') {
        let domain_start = end + 1;
        let mut domain_end = domain_start;
        while domain_end < chars.len()
            && (chars[domain_end].is_alphanumeric() || matches!(chars[domain_end], '.' | '-' | ':'))
        {
            domain_end += 1;
        }
        while domain_end > domain_start && matches!(chars[domain_end - 1], '.' | '-' | ':') {
            domain_end -= 1;
        }
        let domain: String = chars[domain_start..domain_end].iter().collect();
        let valid = !domain.is_empty()
            && (domain.contains('.') || domain.contains(':') || domain == "localhost")
            && domain.split(':').count() <= 2
            && domain
                .split(':')
                .nth(1)
                .is_none_or(|port| !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()));
        if valid {
            let reference = MentionRef {
                username,
                domain: Some(domain.to_lowercase()),
            };
            return Some((reference, domain_end - start));
        }
        // `@user@` followed by something that is not a domain: an address
        // of some other kind, not a mention.
        return None;
    }
    Some((
        MentionRef {
            username,
            domain: None,
        },
        end - start,
    ))
}

/// A hashtag starting at the `#` at `chars[start]`: its text and length.
fn hashtag_at(chars: &[char], start: usize) -> Option<(String, usize)> {
    let mut end = start + 1;
    while end < chars.len() && is_word(chars[end]) {
        end += 1;
    }
    let tag: String = chars[start + 1..end].iter().collect();
    let has_letter = tag.chars().any(|c| !c.is_ascii_digit() && c != '_');
    (has_letter && tag.chars().count() <= 100).then(|| (tag.clone(), end - start))
}

/// Split `text` (after normalising line breaks and trimming it).
pub fn parse(text: &str) -> Parsed {
    let text = normalise(text);
    let chars: Vec<char> = text.chars().collect();
    let mut parsed = Parsed::default();
    let mut plain = String::new();
    let mut i = 0;
    while i < chars.len() {
        let previous = i.checked_sub(1).map(|p| chars[p]);
        let boundary = previous.is_none_or(|p| !is_word(p));
        let found = match chars[i] {
            'h' | 'H' if boundary => url_at(&chars, i).map(|len| {
                let url: String = chars[i..i + len].iter().collect();
                (Segment::Url(url), len)
            }),
            '@' if previous.is_none_or(|p| !is_word(p) && !matches!(p, '/' | '@' | '.')) => {
                mention_at(&chars, i).map(|(m, len)| (Segment::Mention(m), len))
            }
            '#' if previous.is_none_or(|p| !is_word(p) && !matches!(p, '&' | '/' | '#')) => {
                hashtag_at(&chars, i).map(|(t, len)| (Segment::Hashtag(t), len))
            }
            _ => None,
        };
        match found {
            Some((segment, len)) => {
                if !plain.is_empty() {
                    parsed
                        .segments
                        .push(Segment::Text(std::mem::take(&mut plain)));
                }
                match &segment {
                    Segment::Mention(m) if !parsed.mentions.iter().any(|o| o.same(m)) => {
                        parsed.mentions.push(m.clone());
                    }
                    Segment::Hashtag(tag) => {
                        let lower = tag.to_lowercase();
                        if !parsed.tags.contains(&lower) {
                            parsed.tags.push(lower);
                        }
                    }
                    _ => {}
                }
                parsed.segments.push(segment);
                i += len;
            }
            None => {
                plain.push(chars[i]);
                i += 1;
            }
        }
    }
    if !plain.is_empty() {
        parsed.segments.push(Segment::Text(plain));
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<String> {
        parse(text)
            .segments
            .iter()
            .map(|s| match s {
                Segment::Text(t) => format!("T:{t}"),
                Segment::Url(u) => format!("U:{u}"),
                Segment::Mention(m) => format!("M:{}", m.acct()),
                Segment::Hashtag(h) => format!("H:{h}"),
            })
            .collect()
    }

    #[test]
    fn urls_end_before_sentence_punctuation() {
        assert_eq!(
            kinds("see https://example.com."),
            ["T:see ", "U:https://example.com", "T:."]
        );
        assert_eq!(
            kinds("(https://en.wikipedia.org/wiki/Rust_(language))"),
            [
                "T:(",
                "U:https://en.wikipedia.org/wiki/Rust_(language)",
                "T:)"
            ]
        );
        assert_eq!(
            kinds("http://x.org/a?b=1&c=2!"),
            ["U:http://x.org/a?b=1&c=2", "T:!"]
        );
        assert_eq!(kinds("nohttp://x.org"), ["T:nohttp://x.org"]);
        assert_eq!(kinds("https://"), ["T:https://"]);
        assert_eq!(kinds("ftp://x.org"), ["T:ftp://x.org"]);
    }

    #[test]
    fn mentions_local_and_remote_but_not_emails() {
        assert_eq!(kinds("@ann hi"), ["M:ann", "T: hi"]);
        assert_eq!(
            kinds("hi @bob@example.social."),
            ["T:hi ", "M:bob@example.social", "T:."]
        );
        assert_eq!(
            kinds("(@cat@127.0.0.1:4000)"),
            ["T:(", "M:cat@127.0.0.1:4000", "T:)"]
        );
        assert_eq!(kinds("mail foo@bar.com"), ["T:mail foo@bar.com"]);
        assert_eq!(kinds("line\n@dan"), ["T:line\n", "M:dan"]);
        assert_eq!(kinds("@a.b-c."), ["M:a.b-c", "T:."]);
        let parsed = parse("@Ann @ann @ANN@x.org @ann@X.org");
        assert_eq!(parsed.mentions.len(), 2, "{:?}", parsed.mentions);
    }

    #[test]
    fn hashtags_need_a_letter_and_a_boundary() {
        assert_eq!(kinds("#Rust!"), ["H:Rust", "T:!"]);
        assert_eq!(kinds("#123"), ["T:#123"]);
        assert_eq!(kinds("#café au lait"), ["H:café", "T: au lait"]);
        assert_eq!(kinds("a#b &#39;"), ["T:a#b &#39;"]);
        assert_eq!(kinds("https://x.org/#frag"), ["U:https://x.org/#frag"]);
        assert_eq!(parse("#Rust #rust #RUST").tags, ["rust"]);
    }

    #[test]
    fn text_is_normalised() {
        assert_eq!(kinds("  a\r\nb\r\n  "), ["T:a\nb"]);
        assert_eq!(parse("").segments, Vec::new());
        assert_eq!(kinds("🐦 @ann"), ["T:🐦 ", "M:ann"]);
    }
}
