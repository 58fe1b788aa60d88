//! Whether a reaction names a Unicode emoji: a sequence of pictographs
//! with the joiners, variation selectors, skin tones, keycaps and tags
//! that compose them (flags and families included), as reactions to
//! announcements accept.

/// Characters that are emoji by themselves.
fn pictograph(c: char) -> bool {
    matches!(u32::from(c),
        0x1F000..=0x1FAFF
        | 0x2600..=0x27BF
        | 0x2300..=0x23FF
        | 0x2B00..=0x2BFF
        | 0x2190..=0x21FF
        | 0x25A0..=0x25FF
        | 0x2934..=0x2935
        | 0x3030 | 0x303D | 0x3297 | 0x3299
        | 0x00A9 | 0x00AE | 0x203C | 0x2049 | 0x2122 | 0x2139)
}

/// Characters that only modify or join pictographs.
fn modifier(c: char) -> bool {
    matches!(
        u32::from(c),
        0x200D | 0xFE0E | 0xFE0F | 0x20E3 | 0xE0020..=0xE007F
    )
}

/// Whether `text` is one emoji (or a short run of them), nothing else.
pub fn is_unicode_emoji(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() || chars.len() > 32 {
        return false;
    }
    let keycap = chars.contains(&'\u{20E3}');
    let mut pictographs = 0;
    for c in &chars {
        if pictograph(*c) {
            pictographs += 1;
        } else if !(modifier(*c) || (keycap && (c.is_ascii_digit() || *c == '#' || *c == '*'))) {
            return false;
        }
    }
    pictographs > 0 || keycap
}

#[cfg(test)]
mod tests {
    use super::is_unicode_emoji;

    #[test]
    fn emoji_and_not() {
        for yes in ["👍", "❤️", "🇫🇷", "👩‍👩‍👧", "👋🏽", "1️⃣", "⭐", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"]
        {
            assert!(is_unicode_emoji(yes), "{yes}");
        }
        for no in ["", "a", "blobcat", ":blobcat:", "👍 ok", "1", "\u{200D}"] {
            assert!(!is_unicode_emoji(no), "{no}");
        }
    }
}
