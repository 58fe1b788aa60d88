//! Parsed text as HTML in Mastodon's shape.

use super::parse::{MentionRef, Parsed, Segment};

/// Where a resolved mention links.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MentionLink {
    /// The account's profile page.
    pub url: String,
    /// The username shown after `@`.
    pub username: String,
}

/// Characters of a link shown before it is cut with an ellipsis.
const SHOWN: usize = 30;

/// Append `text` to `out`, escaped for HTML text and for attribute values
/// in single or double quotes (and for XML alike): the one escaper every
/// page and document Perch writes uses.
pub fn push_escaped(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
}

/// `text` escaped as [`push_escaped`] does.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_escaped(text, &mut out);
    out
}

/// Text with its line breaks: a blank line ends a paragraph, a single one
/// is `<br>`.
fn text(text: &str, out: &mut String) {
    let mut newlines = 0;
    let flush = |newlines: &mut usize, out: &mut String| {
        match *newlines {
            0 => {}
            1 => out.push_str("<br>"),
            _ => out.push_str("</p><p>"),
        }
        *newlines = 0;
    };
    for c in text.chars() {
        if c == '\n' {
            newlines += 1;
            continue;
        }
        flush(&mut newlines, out);
        let mut buffer = [0u8; 4];
        push_escaped(c.encode_utf8(&mut buffer), out);
    }
    flush(&mut newlines, out);
}

fn link(url: &str, out: &mut String) {
    let (scheme, rest) = match url.find("://") {
        Some(at) => url.split_at(at + 3),
        None => ("", url),
    };
    out.push_str("<a href=\"");
    push_escaped(url, out);
    out.push_str("\" target=\"_blank\" rel=\"nofollow noopener noreferrer\" translate=\"no\">");
    out.push_str("<span class=\"invisible\">");
    push_escaped(scheme, out);
    out.push_str("</span>");
    if rest.chars().count() > SHOWN {
        let shown: String = rest.chars().take(SHOWN).collect();
        let hidden: String = rest.chars().skip(SHOWN).collect();
        out.push_str("<span class=\"ellipsis\">");
        push_escaped(&shown, out);
        out.push_str("</span><span class=\"invisible\">");
        push_escaped(&hidden, out);
        out.push_str("</span>");
    } else {
        out.push_str("<span class=\"\">");
        push_escaped(rest, out);
        out.push_str("</span>");
    }
    out.push_str("</a>");
}

/// HTML for `parsed`: `resolve` links the mentions it knows (the others
/// stay text), `tag_url` gives a tag's page.
pub fn render(
    parsed: &Parsed,
    resolve: impl Fn(&MentionRef) -> Option<MentionLink>,
    tag_url: impl Fn(&str) -> String,
) -> String {
    let mut out = String::from("<p>");
    for segment in &parsed.segments {
        match segment {
            Segment::Text(plain) => text(plain, &mut out),
            Segment::Url(url) => link(url, &mut out),
            Segment::Mention(mention) => match resolve(mention) {
                Some(found) => {
                    out.push_str("<span class=\"h-card\" translate=\"no\"><a href=\"");
                    push_escaped(&found.url, &mut out);
                    out.push_str("\" class=\"u-url mention\">@<span>");
                    push_escaped(&found.username, &mut out);
                    out.push_str("</span></a></span>");
                }
                None => {
                    out.push('@');
                    push_escaped(&mention.acct(), &mut out);
                }
            },
            Segment::Hashtag(tag) => {
                out.push_str("<a href=\"");
                push_escaped(&tag_url(&tag.to_lowercase()), &mut out);
                out.push_str("\" class=\"mention hashtag\" rel=\"tag\">#<span>");
                push_escaped(tag, &mut out);
                out.push_str("</span></a>");
            }
        }
    }
    out.push_str("</p>");
    out
}

#[cfg(test)]
mod tests {
    use super::super::parse::parse;
    use super::*;

    fn html(input: &str) -> String {
        render(
            &parse(input),
            |m| {
                (m.username == "ann").then(|| MentionLink {
                    url: "https://p.example/@ann".to_owned(),
                    username: "ann".to_owned(),
                })
            },
            |tag| format!("https://p.example/tags/{tag}"),
        )
    }

    #[test]
    fn paragraphs_breaks_and_escapes() {
        assert_eq!(html("a\nb\n\nc"), "<p>a<br>b</p><p>c</p>");
        assert_eq!(html("<b>&'\""), "<p>&lt;b&gt;&amp;&#39;&quot;</p>");
        assert_eq!(html(""), "<p></p>");
    }

    #[test]
    fn links_are_shortened_for_display() {
        assert_eq!(
            html("https://example.com"),
            "<p><a href=\"https://example.com\" target=\"_blank\" rel=\"nofollow noopener noreferrer\" translate=\"no\"><span class=\"invisible\">https://</span><span class=\"\">example.com</span></a></p>"
        );
        let long = html("https://example.com/a/very/long/path/that/goes/on");
        assert!(long.contains("<span class=\"ellipsis\">example.com/a/very/long/path/t</span><span class=\"invisible\">hat/goes/on</span>"), "{long}");
    }

    #[test]
    fn mentions_and_tags() {
        assert_eq!(
            html("@ann #Rust"),
            "<p><span class=\"h-card\" translate=\"no\"><a href=\"https://p.example/@ann\" class=\"u-url mention\">@<span>ann</span></a></span> <a href=\"https://p.example/tags/rust\" class=\"mention hashtag\" rel=\"tag\">#<span>Rust</span></a></p>"
        );
        assert_eq!(html("@nobody@x.org"), "<p>@nobody@x.org</p>");
    }

    #[test]
    fn hostile_input_cannot_make_markup() {
        for input in [
            "<script>alert(1)</script>",
            "https://x.org/\"onmouseover=\"alert(1)",
            "https://x.org/'><img src=x>",
            "javascript:alert(1)",
            "#<b>tag</b>",
            "@ann\"><i>",
        ] {
            let out = html(input);
            let without_ours = out
                .replace("<p>", "")
                .replace("</p>", "")
                .replace("<br>", "");
            // Every `<` left is one of the tags the renderer writes.
            for (at, _) in without_ours.match_indices('<') {
                let rest = &without_ours[at..];
                assert!(
                    ["<a href=\"", "</a>", "<span", "</span>"]
                        .iter()
                        .any(|t| rest.starts_with(t)),
                    "{input} gave {out}"
                );
            }
            assert!(
                !out.contains("<script") && !out.contains("<img") && !out.contains("<i>"),
                "{out}"
            );
            assert!(!out.contains("\"onmouseover"), "{out}");
        }
        assert!(!html("javascript:alert(1)").contains("href"));
    }
}
