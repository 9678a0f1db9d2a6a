//! Text that came from a tool — test names, messages, log lines, command
//! lines — is untrusted on a terminal: a control sequence in it could clear
//! the screen, set the window title, move the cursor or start a line that
//! looks like qaagent's own verdict. Everything a reporter prints of it goes
//! through [`printable`] (or [`output_line`] for `--output immediate`).

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with every control character written as a visible escape (`\n`,
/// `\x1b`, `\u{9b}`), and the Unicode controls that reorder text shown the
/// same way; tabs are kept. Borrowed when there is nothing to escape.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        push(&mut out, c);
    }
    Cow::Owned(out)
}

/// A line of a tool's output, as `--output immediate` shows it: like
/// [`printable`], except that SGR sequences (`ESC [ 0-9; m`: colours and
/// bold) are kept when `colour` is on, so a tool's coloured output stays so.
pub fn output_line(line: &str, colour: bool) -> Cow<'_, str> {
    if !colour || !line.chars().any(needs_escape) {
        return printable(line);
    }
    let mut out = String::with_capacity(line.len() + 16);
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if let Some(len) = sgr_len(rest) {
            out.push_str(&rest[..len]);
            rest = &rest[len..];
            continue;
        }
        push(&mut out, c);
        rest = &rest[c.len_utf8()..];
    }
    Cow::Owned(out)
}

/// The length of the SGR sequence `text` starts with, if it starts with one.
fn sgr_len(text: &str) -> Option<usize> {
    let params = text.strip_prefix("\x1b[")?;
    let end = params.find(|c: char| !(c.is_ascii_digit() || c == ';'))?;
    (params[end..].starts_with('m')).then_some(2 + end + 1)
}

fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\t') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn push(out: &mut String, c: char) {
    if !needs_escape(c) {
        out.push(c);
        return;
    }
    let _ = match c {
        '\n' => out.write_str("\\n"),
        '\r' => out.write_str("\\r"),
        c if c.is_ascii() => write!(out, "\\x{:02x}", c as u32),
        c => write!(out, "\\u{{{:x}}}", c as u32),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_untouched() {
        assert!(matches!(printable("test_add[a b] — ünï\tok"), Cow::Borrowed(_)));
    }

    #[test]
    fn control_sequences_become_visible_escapes() {
        assert_eq!(printable("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(printable("\x1b]0;owned\x07"), "\\x1b]0;owned\\x07");
        assert_eq!(printable("name\nPASSED: 1 suite"), "name\\nPASSED: 1 suite");
        assert_eq!(printable("x\r\u{9b}31m\u{202e}y"), "x\\r\\u{9b}31m\\u{202e}y");
        assert_eq!(printable("del\x7f"), "del\\x7f");
    }

    #[test]
    fn output_lines_keep_colour_only_when_colour_is_on() {
        let line = "\x1b[31mFAILED\x1b[0m \x1b[2J\x1b]0;t\x07";
        assert_eq!(output_line(line, true), "\x1b[31mFAILED\x1b[0m \\x1b[2J\\x1b]0;t\\x07");
        assert_eq!(
            output_line(line, false),
            "\\x1b[31mFAILED\\x1b[0m \\x1b[2J\\x1b]0;t\\x07"
        );
        assert_eq!(output_line("\x1b[1;32mok\x1b[m", true), "\x1b[1;32mok\x1b[m");
        assert_eq!(output_line("trailing \x1b[", true), "trailing \\x1b[");
    }
}
