//! Plain text as the HTML that profiles show, the way Mastodon renders what
//! local users type: everything escaped, paragraphs at blank lines, `<br>`
//! at single line breaks, and http(s) URLs turned into links that open
//! elsewhere and pass no referrer or ranking.
//!
//! Links carry Mastodon's `invisible`/`ellipsis` spans, which clients use to
//! show `example.com/long/pa…` instead of the whole URL.

use perch_core::content::push_escaped;

/// URLs longer than this (without the scheme) are shown cut short.
const SHOWN_URL_CHARS: usize = 30;

/// A profile note: paragraphs, line breaks, links. Empty text gives "".
pub(super) fn note_html(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut paragraphs: Vec<Vec<&str>> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in text.split('\n') {
        if line.trim().is_empty() {
            if !current.is_empty() {
                paragraphs.push(std::mem::take(&mut current));
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }
    let mut html = String::with_capacity(text.len() + 16);
    for lines in paragraphs {
        html.push_str("<p>");
        for (index, line) in lines.into_iter().enumerate() {
            if index > 0 {
                html.push_str("<br>");
            }
            push_linked(line, &mut html);
        }
        html.push_str("</p>");
    }
    html
}

/// A profile field's value: escaped, with links, on one line.
pub(super) fn field_value_html(text: &str) -> String {
    let mut html = String::with_capacity(text.len());
    push_linked(text, &mut html);
    html
}

/// `text` escaped, with every URL in it a link.
fn push_linked(text: &str, html: &mut String) {
    let mut rest = text;
    while let Some((start, end)) = next_url(rest) {
        push_escaped(&rest[..start], html);
        push_link(&rest[start..end], html);
        rest = &rest[end..];
    }
    push_escaped(rest, html);
}

fn push_link(url: &str, html: &mut String) {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let (scheme, shown) = url.split_at(scheme_end);
    let cut = shown
        .char_indices()
        .nth(SHOWN_URL_CHARS)
        .map_or(shown.len(), |(i, _)| i);
    let (visible, hidden) = shown.split_at(cut);
    html.push_str("<a href=\"");
    push_escaped(url, html);
    html.push_str("\" target=\"_blank\" rel=\"nofollow noopener noreferrer\">");
    html.push_str("<span class=\"invisible\">");
    push_escaped(scheme, html);
    html.push_str("</span><span class=\"");
    html.push_str(if hidden.is_empty() { "" } else { "ellipsis" });
    html.push_str("\">");
    push_escaped(visible, html);
    html.push_str("</span><span class=\"invisible\">");
    push_escaped(hidden, html);
    html.push_str("</span></a>");
}

/// The byte range of the first http(s) URL in `text` that starts a word and
/// has something after the scheme.
fn next_url(text: &str) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(found) = text[from..].find("http") {
        let start = from + found;
        let starts_word = text[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let tail = &text[start..];
        let scheme = ["https://", "http://"]
            .into_iter()
            .find(|scheme| tail.starts_with(scheme))
            .map_or(0, str::len);
        if starts_word && scheme > 0 {
            let length = url_length(tail);
            if length > scheme {
                return Some((start, start + length));
            }
        }
        from = start + "http".len();
    }
    None
}

/// How much of `tail` (which starts with a scheme) is the URL: up to
/// whitespace or a character that cannot be in one, without the
/// punctuation that ends a sentence or an unmatched closing parenthesis.
fn url_length(tail: &str) -> usize {
    let mut end = tail
        .find(|c: char| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"'))
        .unwrap_or(tail.len());
    loop {
        let url = &tail[..end];
        match url.chars().next_back() {
            Some('.' | ',' | ':' | ';' | '!' | '?' | '\'') => end -= 1,
            Some(')') if url.matches('(').count() < url.matches(')').count() => end -= 1,
            _ => return end,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(url: &str, shown: &str) -> String {
        format!(
            "<a href=\"{url}\" target=\"_blank\" rel=\"nofollow noopener noreferrer\">\
             <span class=\"invisible\">https://</span><span class=\"\">{shown}</span>\
             <span class=\"invisible\"></span></a>"
        )
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            note_html("<b>\"Tom\" & 'Jerry'</b>"),
            "<p>&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;</p>"
        );
    }

    #[test]
    fn paragraphs_and_line_breaks() {
        assert_eq!(
            note_html("one\r\ntwo\n\n\n  \nthree\n"),
            "<p>one<br>two</p><p>three</p>"
        );
        assert_eq!(note_html(""), "");
        assert_eq!(note_html("\n \n"), "");
    }

    #[test]
    fn links_urls_without_trailing_punctuation() {
        assert_eq!(
            note_html("See https://a.example/x?y=1&z=2."),
            format!(
                "<p>See {}.</p>",
                link("https://a.example/x?y=1&amp;z=2", "a.example/x?y=1&amp;z=2")
            )
        );
        assert_eq!(
            field_value_html("(https://a.example/wiki/A_(b))"),
            format!(
                "({})",
                link("https://a.example/wiki/A_(b)", "a.example/wiki/A_(b)")
            )
        );
    }

    #[test]
    fn long_urls_are_cut_short_for_display() {
        let html = field_value_html("https://a.example/0123456789012345678901234567890");
        assert!(html.contains("<span class=\"ellipsis\">a.example/01234567890123456789</span>"));
        assert!(html.contains("<span class=\"invisible\">01234567890</span>"));
    }

    #[test]
    fn not_links() {
        for text in [
            "http://",
            "https:// spaced",
            "xhttps://a.example",
            "ftp://a.example",
            "javascript:alert(1)",
        ] {
            assert!(!field_value_html(text).contains("<a"), "{text}");
        }
    }

    #[test]
    fn quotes_cannot_break_out_of_the_href() {
        let html = field_value_html("https://a.example/\"onmouseover=\"x");
        assert!(
            html.starts_with("<a href=\"https://a.example/\" "),
            "{html}"
        );
        assert!(html.ends_with("&quot;onmouseover=&quot;x"), "{html}");
    }
}
