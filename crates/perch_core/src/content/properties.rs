//! Properties of the text → HTML renderer over generated posts: whatever
//! is typed, the HTML is well-formed, shows exactly the text typed (all of
//! it escaped), and links only to http(s); and the mentions, tags and links
//! found in text built from known pieces are those pieces.

use proptest::prelude::*;

use super::*;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Mentions of `ann` (any case, on this server) link to her profile, the
/// others stay text.
fn html(parsed: &Parsed) -> String {
    render(
        parsed,
        |m| {
            (m.username.eq_ignore_ascii_case("ann") && m.domain.is_none()).then(|| MentionLink {
                url: "https://p.example/@ann".to_owned(),
                username: "ann".to_owned(),
            })
        },
        |tag| format!("https://p.example/tags/{tag}"),
    )
}

/// What the renderer may write: an element, an attribute, its value.
const ELEMENTS: &[(&str, &[&str])] = &[
    ("p", &[]),
    ("br", &[]),
    ("a", &["href", "target", "rel", "translate", "class"]),
    ("span", &["class", "translate"]),
];

fn decode(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let (entity, c) = [
            ("&amp;", '&'),
            ("&lt;", '<'),
            ("&gt;", '>'),
            ("&quot;", '"'),
            ("&#39;", '\''),
        ]
        .into_iter()
        .find(|(entity, _)| rest.starts_with(entity))
        .ok_or_else(|| format!("a bare `&` at {rest:?}"))?;
        out.push(c);
        rest = &rest[entity.len()..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Checks that `html` is what the renderer may write: known elements with
/// known, double-quoted attributes, properly nested, `<br>` void, no link
/// inside a link, and text with every special character escaped. Returns
/// the text a reader sees (line breaks as `\n`, paragraphs as `\n\n`) and
/// the decoded `href`s.
fn read(html: &str) -> Result<(String, Vec<String>), String> {
    let mut shown = String::new();
    let mut hrefs = Vec::new();
    let mut open: Vec<&str> = Vec::new();
    let mut paragraphs = 0;
    let mut rest = html;
    while !rest.is_empty() {
        let Some(after) = rest.strip_prefix('<') else {
            let end = rest.find('<').unwrap_or(rest.len());
            let text = &rest[..end];
            if let Some(c) = text.chars().find(|c| matches!(c, '>' | '"' | '\'')) {
                return Err(format!("unescaped {c:?} in text {text:?}"));
            }
            shown.push_str(&decode(text)?);
            rest = &rest[end..];
            continue;
        };
        let end = after
            .find('>')
            .ok_or_else(|| format!("unclosed tag at {rest:?}"))?;
        let tag = &after[..end];
        rest = &after[end + 1..];
        if tag.contains('<') {
            return Err(format!("`<` inside the tag {tag:?}"));
        }
        if let Some(name) = tag.strip_prefix('/') {
            match open.pop() {
                Some(top) if top == name => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
            continue;
        }
        let (name, mut attributes) = tag.split_once(' ').unwrap_or((tag, ""));
        let (_, allowed) = ELEMENTS
            .iter()
            .find(|(element, _)| *element == name)
            .ok_or_else(|| format!("unexpected element {name:?}"))?;
        while !attributes.is_empty() {
            let (attribute, value) = attributes
                .split_once("=\"")
                .ok_or_else(|| format!("attribute without a quoted value in {tag:?}"))?;
            if !allowed.contains(&attribute) {
                return Err(format!("unexpected attribute {attribute:?} on {name}"));
            }
            let (value, after) = value
                .split_once('"')
                .ok_or_else(|| format!("unterminated value in {tag:?}"))?;
            if value.contains(['<', '>', '\'']) {
                return Err(format!("unescaped value {value:?}"));
            }
            let value = decode(value)?;
            if attribute == "href" {
                hrefs.push(value);
            }
            attributes = after.strip_prefix(' ').unwrap_or(after);
            if !after.is_empty() && !after.starts_with(' ') {
                return Err(format!("no space after a value in {tag:?}"));
            }
        }
        match name {
            "br" => shown.push('\n'),
            "p" => {
                if !open.is_empty() {
                    return Err("a paragraph inside an element".to_owned());
                }
                if paragraphs > 0 {
                    shown.push_str("\n\n");
                }
                paragraphs += 1;
                open.push("p");
            }
            "a" if open.contains(&"a") => return Err("a link inside a link".to_owned()),
            other => open.push(other),
        }
    }
    if !open.is_empty() {
        return Err(format!("left open: {open:?}"));
    }
    Ok((shown, hrefs))
}

/// What a reader should see of `text`: line breaks normalised, the text
/// trimmed, blank lines (however many) one paragraph break.
fn expected_text(text: &str) -> String {
    let normal = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::new();
    let mut newlines = 0;
    for c in normal.trim().chars() {
        if c == '\n' {
            newlines += 1;
            continue;
        }
        out.push_str(match newlines {
            0 => "",
            1 => "\n",
            _ => "\n\n",
        });
        newlines = 0;
        out.push(c);
    }
    out
}

/// Text as people type it, with the characters the parser and the
/// renderer treat specially coming up often.
fn typed() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("https://".to_owned()),
        Just("http://".to_owned()),
        Just("HTTPS://".to_owned()),
        Just("javascript:".to_owned()),
        Just("@".to_owned()),
        Just("#".to_owned()),
        Just("ann".to_owned()),
        Just("x.org".to_owned()),
        Just(":443".to_owned()),
        Just("\n".to_owned()),
        Just("\r\n".to_owned()),
        Just("\r".to_owned()),
        Just(" ".to_owned()),
        "[<>&\"'()./:;,!?*_-]{1,3}",
        "[a-zA-Z0-9]{1,6}",
        "\\PC{1,4}",
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..30).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn any_text_renders_as_well_formed_escaped_html(text in typed()) {
        let parsed = parse(&text);
        let out = html(&parsed);
        let (shown, hrefs) = read(&out).map_err(|e| TestCaseError::fail(format!("{e}\n{text:?}\n{out}")))?;
        // Every character typed is shown as typed, but for a remote
        // mention's domain, lower-cased; and a mention of ann, linked,
        // shows her name as stored.
        prop_assert_eq!(shown.to_lowercase(), expected_text(&text).to_lowercase(), "{}", out);
        for href in &hrefs {
            let lower = href.to_ascii_lowercase();
            prop_assert!(
                lower.starts_with("https://") || lower.starts_with("http://"),
                "href {:?} in {}", href, out
            );
        }
        let links = parsed.segments.iter().filter(|s| matches!(s, Segment::Url(_))).count();
        let tags = parsed.segments.iter().filter(|s| matches!(s, Segment::Hashtag(_))).count();
        prop_assert!(hrefs.len() >= links + tags, "{}", out);
    }
}

/// A piece of a post whose meaning is known.
#[derive(Clone, Debug)]
enum Piece {
    Word(String),
    Mention(String, Option<String>),
    Hashtag(String),
    Link(String),
}

impl Piece {
    fn text(&self) -> String {
        match self {
            Piece::Word(word) => word.clone(),
            Piece::Mention(user, None) => format!("@{user}"),
            Piece::Mention(user, Some(domain)) => format!("@{user}@{domain}"),
            Piece::Hashtag(tag) => format!("#{tag}"),
            Piece::Link(url) => url.clone(),
        }
    }
}

fn piece() -> impl Strategy<Value = Piece> {
    let domain = "[a-zA-Z][a-zA-Z0-9-]{0,6}[a-zA-Z0-9]\\.(org|social|example)(:[1-9][0-9]{0,3})?";
    prop_oneof![
        "[a-z]{1,8}".prop_map(Piece::Word),
        ("[a-zA-Z0-9_]{1,8}", prop::option::of(domain))
            .prop_map(|(user, domain)| Piece::Mention(user, domain)),
        "[a-zA-Zé][a-zA-Z0-9_é]{0,10}".prop_map(Piece::Hashtag),
        (
            prop_oneof![Just("https://"), Just("http://"), Just("HTTPS://")],
            "[a-z0-9]{1,8}\\.(org|example)",
            "(/[a-zA-Z0-9_~%-]{0,8}){0,3}",
            "(\\?[a-z]=[0-9]{1,3}(&[a-z]=[0-9])?)?",
            "(#[a-z@]{0,6})?",
        )
            .prop_map(|(scheme, host, path, query, fragment)| {
                Piece::Link(format!("{scheme}{host}{path}{query}{fragment}"))
            }),
    ]
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn mentions_tags_and_links_are_the_pieces_written(
        pieces in prop::collection::vec(
            (piece(), prop::sample::select(vec![" ", "\n", "\n\n", ", ", " (", ") ", ". ", "! "])),
            1..12,
        ),
    ) {
        let mut text = String::new();
        for (piece, separator) in &pieces {
            text.push_str(&piece.text());
            text.push_str(separator);
        }
        let parsed = parse(&text);

        let mut mentions: Vec<MentionRef> = Vec::new();
        let mut tags: Vec<String> = Vec::new();
        let mut links = Vec::new();
        for (piece, _) in &pieces {
            match piece {
                Piece::Mention(user, domain) => {
                    let mention = MentionRef {
                        username: user.clone(),
                        domain: domain.as_ref().map(|d| d.to_lowercase()),
                    };
                    let seen = mentions.iter().any(|m| {
                        m.username.eq_ignore_ascii_case(&mention.username) && m.domain == mention.domain
                    });
                    if !seen {
                        mentions.push(mention);
                    }
                }
                Piece::Hashtag(tag) => {
                    let tag = tag.to_lowercase();
                    if !tags.contains(&tag) {
                        tags.push(tag);
                    }
                }
                Piece::Link(url) => links.push(url.clone()),
                Piece::Word(_) => {}
            }
        }
        prop_assert_eq!(&parsed.mentions, &mentions, "{:?}", text);
        prop_assert_eq!(&parsed.tags, &tags, "{:?}", text);
        let found: Vec<String> = parsed
            .segments
            .iter()
            .filter_map(|s| match s {
                Segment::Url(url) => Some(url.clone()),
                _ => None,
            })
            .collect();
        prop_assert_eq!(&found, &links, "{:?}", text);

        let out = html(&parsed);
        let (_, hrefs) = read(&out).map_err(|e| TestCaseError::fail(format!("{e}\n{out}")))?;
        let linked_mentions = mentions
            .iter()
            .filter(|m| m.username.eq_ignore_ascii_case("ann") && m.domain.is_none())
            .count();
        prop_assert!(hrefs.len() >= links.len() + linked_mentions, "{}", out);
        for url in &links {
            prop_assert!(hrefs.contains(url), "{} not linked in {}", url, out);
        }
    }
}
