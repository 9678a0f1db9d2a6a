//! How much of a failure's text is searched, and how the matched text is
//! quoted in a root cause.

/// How many bytes of each text field (message, details, output…) are searched.
pub const MAX_FIELD_BYTES: usize = 8 * 1024;

/// Longest quote of matched text kept in a root cause, in characters.
const MAX_QUOTE_CHARS: usize = 80;

/// "an" before a word that starts with a vowel letter ("an assertion
/// failure"), else "a" (category names are single words, built-in or the user's).
pub(super) fn indefinite_article(word: &str) -> &'static str {
    match word.chars().next().map(|c| c.to_ascii_lowercase()) {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

/// The first non-blank line of `text`, trimmed.
pub(super) fn first_line(text: &str) -> Option<&str> {
    text.lines().map(str::trim).find(|line| !line.is_empty())
}

/// The first [`MAX_FIELD_BYTES`] of `text`, cut on a character boundary.
pub(super) fn bounded(text: &str) -> &str {
    if text.len() <= MAX_FIELD_BYTES {
        return text;
    }
    let mut end = MAX_FIELD_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `text` on one line and at most [`MAX_QUOTE_CHARS`] characters, for quoting.
pub(super) fn quote(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= MAX_QUOTE_CHARS {
        return one_line;
    }
    let mut cut: String = one_line.chars().take(MAX_QUOTE_CHARS - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_one_line_and_short() {
        assert_eq!(quote("a\n  b"), "a b");
        let long = quote(&"x".repeat(500));
        assert_eq!(long.chars().count(), MAX_QUOTE_CHARS);
        assert!(long.ends_with('…'));
    }
}
