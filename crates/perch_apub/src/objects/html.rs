//! Remote HTML made safe to store and show.
//!
//! Other servers send profile notes and field values as HTML. Clients render
//! it, so it is cut down to what Mastodon itself produces: paragraphs, line
//! breaks, links (http, https, mailto) and spans, with the classes clients
//! style (mentions, hashtags, shortened links). Everything else is removed;
//! the text of removed elements stays, except for scripts and styles.

use std::collections::HashSet;
use std::sync::OnceLock;

fn cleaner() -> &'static ammonia::Builder<'static> {
    static CLEANER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    CLEANER.get_or_init(|| {
        let mut builder = ammonia::Builder::empty();
        builder
            .add_tags(["p", "br", "a", "span"])
            .add_tag_attributes("a", ["href"])
            .add_allowed_classes("a", ["mention", "hashtag", "u-url", "status-link"])
            .add_allowed_classes("span", ["h-card", "invisible", "ellipsis"])
            .url_schemes(HashSet::from(["http", "https", "mailto"]))
            .link_rel(Some("nofollow noopener noreferrer"))
            .set_tag_attribute_value("a", "target", "_blank");
        builder
    })
}

/// `html` with everything but the allowed markup removed.
pub fn sanitize(html: &str) -> String {
    cleaner().clean(html).to_string()
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn scripts_handlers_and_unknown_tags_go() {
        let dirty = "<p onclick=\"x()\">Hi <script>alert(1)</script><img src=x onerror=y>\
                     <b>bold</b> <a href=\"javascript:alert(1)\">bad</a></p>";
        let clean = sanitize(dirty);
        assert!(!clean.contains("script") && !clean.contains("onclick") && !clean.contains("<img"));
        assert!(!clean.contains("javascript:"), "{clean}");
        assert!(clean.starts_with("<p>Hi "), "{clean}");
        assert!(
            clean.contains("bold"),
            "the text of removed tags stays: {clean}"
        );
    }

    #[test]
    fn mastodon_markup_survives() {
        let html = "<p><span class=\"h-card\"><a href=\"https://b.example/@bob\" class=\"u-url mention\">@<span>bob</span></a></span> \
                    see <a href=\"https://example.com/long\"><span class=\"invisible\">https://</span><span class=\"ellipsis\">example.com</span></a><br>bye</p>";
        let clean = sanitize(html);
        assert!(clean.contains("class=\"u-url mention\""), "{clean}");
        assert!(
            clean.contains("<span class=\"invisible\">https://</span>"),
            "{clean}"
        );
        assert!(
            clean.contains("rel=\"nofollow noopener noreferrer\""),
            "{clean}"
        );
        assert!(clean.contains("<br>"), "{clean}");
    }
}
