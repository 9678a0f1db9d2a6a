//! Turning the raw text of attributes and elements into the values a case
//! holds: references resolved, whitespace normalized, times parsed, text tidied.

use std::borrow::Cow;

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::BytesRef;

/// An attribute's value with references resolved and whitespace normalized
/// as XML says (a tab or line break is a space, `&#10;` a line break); an
/// entity only a DTD could define, or a stray `&`, is kept as written rather
/// than failing the whole report.
pub(super) fn attribute_value(raw: &str) -> Cow<'_, str> {
    if needs_normalizing(raw.as_bytes()) {
        Cow::Owned(normalize_attribute_value(raw))
    } else {
        Cow::Borrowed(raw)
    }
}

/// Whether raw attribute text holds a reference or whitespace that
/// [`attribute_value`] would change.
pub(super) fn needs_normalizing(raw: &[u8]) -> bool {
    // No early exit, so the compiler can check many bytes at a time: for a
    // `<testcase>` tag's attributes that is cheaper than two `memchr` calls.
    raw.iter()
        .fold(false, |found, &b| found | matches!(b, b'&' | b'\t' | b'\r' | b'\n'))
}

/// [`attribute_value`] for values that need work.
fn normalize_attribute_value(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    // A byte search: with a `char` pattern the benchmark report's 12,856
    // messages holding a reference took 37.5 M instructions, now 23.7 M
    // (callgrind; BENCHMARKS.md, target 3).
    while let Some(special) = rest.bytes().position(|b| matches!(b, b'&' | b'\t' | b'\r' | b'\n')) {
        out.push_str(&rest[..special]);
        let tail = &rest[special..];
        if !tail.starts_with('&') {
            out.push(' ');
            // `\r\n` is one line break, so one space.
            rest = tail.strip_prefix("\r\n").unwrap_or(&tail[1..]);
            continue;
        }
        match tail[1..].split_once(';') {
            Some((name, _)) if push_resolved(&mut out, name) => rest = &tail[name.len() + 2..],
            _ => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Appends what the reference `&name;` stands for, if it is a predefined
/// entity or a character reference; false (and nothing appended) otherwise.
fn push_resolved(out: &mut String, name: &str) -> bool {
    if let Some(text) = resolve_predefined_entity(name) {
        out.push_str(text);
        true
    } else if let Ok(Some(c)) = BytesRef::new(name).resolve_char_ref() {
        out.push(c);
        true
    } else {
        false
    }
}

/// Appends what the reference `&name;` in text stands for; one only a DTD
/// could define (or not a character) is kept as written rather than losing
/// the whole report over it.
pub(super) fn push_reference(out: &mut String, name: &str) {
    if !push_resolved(out, name) {
        out.push('&');
        out.push_str(name);
        out.push(';');
    }
}

/// A count attribute (`tests`, `failures`, `errors`) as a number: an
/// integer, or any other number a tool writes (`1.0`, `1e0`, one past
/// `u64::MAX`), rounded up and saturated; 0 for what is no positive number.
/// A count of 1.0 taken as unreadable, so as nothing, let a report whose
/// counts said a test failed pass (a hostile try, 13a F1).
pub(super) fn parse_count(raw: &str) -> u64 {
    let raw = raw.trim();
    raw.parse().unwrap_or_else(|_| {
        raw.parse::<f64>()
            .map_or(0, |count| if count > 0.0 { count.ceil() as u64 } else { 0 })
    })
}

/// `time` as seconds: any float syntax Rust reads (`0.5`, `8.6e-05`, `5.`),
/// plus a decimal comma (`0,5`) or thousands commas (`1,234.5`); negative,
/// infinite or unreadable times are dropped.
pub(super) fn parse_seconds(raw: &str) -> Option<f64> {
    let raw = raw.trim();
    let value = raw.parse::<f64>().ok().or_else(|| {
        if !raw.contains(',') {
            return None;
        }
        let fixed = if raw.contains('.') {
            raw.replace(',', "")
        } else {
            raw.replace(',', ".")
        };
        fixed.parse::<f64>().ok()
    })?;
    (value.is_finite() && value >= 0.0).then_some(value)
}

/// Bytes kept from the start of one collected text (a failure body,
/// `<system-out>`, `<system-err>`), and as many again from its end: a test
/// that prints a gigabyte costs a bounded amount of memory, and the full
/// text stays in the report, which is kept as an artifact.
pub const KEPT_TEXT_BYTES: usize = 64 * 1024;

/// The text of the element being collected, of which at most the first
/// and last [`KEPT_TEXT_BYTES`] are kept.
#[derive(Debug, Default)]
pub(super) struct Collected {
    /// What is kept, with the omitted middle cut out at `cut`.
    pub(super) text: String,
    /// Where the omitted middle was (0: nothing omitted).
    cut: usize,
    omitted: u64,
}

impl Collected {
    pub(super) fn clear(&mut self) {
        self.text.clear();
        self.cut = 0;
        self.omitted = 0;
    }

    /// Drops the middle of the text once it is more than twice as long as
    /// what is kept; called after every piece appended, so the text never
    /// grows far beyond that.
    pub(super) fn bound(&mut self) {
        if self.text.len() > 3 * KEPT_TEXT_BYTES {
            self.cut_middle();
        }
    }

    /// Leaves out all but the first and last [`KEPT_TEXT_BYTES`].
    fn cut_middle(&mut self) {
        let start = if self.cut > 0 {
            self.cut
        } else {
            floor_char_boundary(&self.text, KEPT_TEXT_BYTES)
        };
        let end = floor_char_boundary(&self.text, self.text.len() - KEPT_TEXT_BYTES);
        self.omitted += (end - start) as u64;
        self.text.drain(start..end);
        self.cut = start;
    }

    /// The collected text, tidied ([`tidy`]), with a note where its middle
    /// was left out.
    pub(super) fn take(&mut self) -> Option<Box<str>> {
        if self.text.len() > 2 * KEPT_TEXT_BYTES {
            self.cut_middle();
        }
        if self.omitted > 0 {
            let note = format!(
                "\n[… {} bytes left out here; the whole text is in the JUnit report …]\n",
                self.omitted
            );
            self.text.insert_str(self.cut, &note);
        }
        let text = tidy(&self.text);
        self.clear();
        text
    }
}

/// The largest char boundary of `text` at or before `index`.
fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// Collected text without its leading blank lines and trailing whitespace
/// (CDATA is usually wrapped in newlines); `None` when nothing is left.
/// Indentation of the first non-blank line is kept.
pub(super) fn tidy(text: &str) -> Option<Box<str>> {
    let text = text.trim_end();
    let first = text.find(|c: char| !c.is_whitespace())?;
    let start = text[..first].rfind('\n').map_or(0, |newline| newline + 1);
    Some(text[start..].into())
}

/// Adds a further text (a `<system-out>`, a second failure's message) to
/// what a case has, after `separator`.
pub(super) fn append(target: &mut Option<Box<str>>, more: Option<&str>, separator: &str) {
    let Some(more) = more else { return };
    *target = Some(match target.take() {
        Some(existing) => {
            let mut joined = String::from(existing);
            joined.push_str(separator);
            joined.push_str(more);
            joined.into_boxed_str()
        }
        None => more.into(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_in_any_number_syntax_count() {
        for (raw, count) in [
            ("2", 2),
            (" 1.0 ", 1),
            ("1e0", 1),
            ("+1", 1),
            ("0.5", 1),
            ("18446744073709551616", u64::MAX),
            ("inf", u64::MAX),
            ("0", 0),
            ("-1", 0),
            ("NaN", 0),
            ("many", 0),
        ] {
            assert_eq!(parse_count(raw), count, "{raw}");
        }
    }

    #[test]
    fn seconds_in_the_syntaxes_tools_write() {
        assert_eq!(parse_seconds("0.5"), Some(0.5));
        assert_eq!(parse_seconds("8.6e-05"), Some(8.6e-05));
        assert_eq!(parse_seconds("4.6E-5"), Some(4.6e-05));
        assert_eq!(parse_seconds(" 12 "), Some(12.0));
        assert_eq!(parse_seconds("5."), Some(5.0));
        assert_eq!(parse_seconds(".25"), Some(0.25));
        assert_eq!(parse_seconds("0,5"), Some(0.5));
        assert_eq!(parse_seconds("1,234.5"), Some(1234.5));
        assert_eq!(parse_seconds(""), None);
        assert_eq!(parse_seconds("fast"), None);
        assert_eq!(parse_seconds("-1"), None);
        assert_eq!(parse_seconds("inf"), None);
        assert_eq!(parse_seconds("NaN"), None);
    }

    #[test]
    fn collected_text_keeps_its_head_and_tail() {
        let mut collected = Collected::default();
        // Exactly as long as what is kept; a character across the cut is left out whole.
        let head = "h".repeat(KEPT_TEXT_BYTES - 2) + "é";
        let tail = "é".to_string() + &"t".repeat(KEPT_TEXT_BYTES);
        collected.text.push_str(&head);
        for _ in 0..100 {
            collected.text.push_str(&"m".repeat(10_000));
            collected.bound();
            assert!(collected.text.len() <= 3 * KEPT_TEXT_BYTES + 10_000);
        }
        collected.text.push_str(&tail);
        collected.bound();
        let kept = collected.take().expect("text");
        assert!(kept.starts_with(&head), "the head is kept whole");
        assert!(kept.ends_with(&tail["é".len()..]), "the tail is kept");
        assert!(kept.contains("bytes left out here; the whole text is in the JUnit report"));
        assert!(kept.len() < 2 * KEPT_TEXT_BYTES + 200, "{}", kept.len());
        assert_eq!(collected.take(), None, "taking clears");
    }

    #[test]
    fn tidy_drops_blank_lines_around_text_but_keeps_indentation() {
        assert_eq!(
            tidy("\n\n  indented\n  more\n\n  ").as_deref(),
            Some("  indented\n  more")
        );
        assert_eq!(tidy("plain").as_deref(), Some("plain"));
        assert_eq!(tidy(" \n\t\n "), None);
        assert_eq!(tidy(""), None);
    }

    #[test]
    fn attribute_values_resolve_references_and_normalize_whitespace() {
        assert_eq!(attribute_value("plain"), Cow::Borrowed("plain"));
        assert_eq!(attribute_value("a &nbsp; b &lt; &#65;&#x42;"), "a &nbsp; b < AB");
        assert_eq!(attribute_value("&quot;&apos;&amp;&gt;"), "\"'&>");
        assert_eq!(attribute_value("line&#10;break"), "line\nbreak");
        assert_eq!(attribute_value("tab\there\r\nline\nend\r"), "tab here line end ");
        assert_eq!(attribute_value("dangling & amp"), "dangling & amp");
        assert_eq!(attribute_value("bad &#xZZ; &#0; refs"), "bad &#xZZ; &#0; refs");
        assert_eq!(attribute_value("&amp"), "&amp");
        assert_eq!(attribute_value("ünï &lt;"), "ünï <");
    }
}
