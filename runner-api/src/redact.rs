//! Keeping secrets out of what qaagent writes: its log lines, messages and
//! `config check`. The tools themselves still get the real values; only what
//! qaagent formats for people goes through [`text`].
//!
//! Two kinds of value are masked with [`MASK`]:
//! - the value of an assignment `NAME=value` (or `NAME="value"`, as `Debug`
//!   of a `Command` prints its environment) whose name looks secret
//!   ([`is_secret_name`]), e.g. `API_TOKEN=…`, `--password=…`;
//! - the userinfo of a URL: `https://user:pass@host/` → `https://***@host/`.

use std::borrow::Cow;

/// What a redacted value is replaced with.
pub const MASK: &str = "***";

/// Parts of a variable name (compared case-insensitively) that mark its value
/// as a secret.
const SECRET_PARTS: [&str; 7] = ["TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY", "AUTH", "CREDENTIAL"];

/// True when a variable (or option) called `name` probably holds a secret:
/// its name contains TOKEN, SECRET, PASSWORD, PASSWD, KEY, AUTH or
/// CREDENTIAL, in any case.
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_PARTS.iter().any(|part| upper.contains(part))
}

/// `text` with the values of secret-looking assignments and the userinfo of
/// URLs replaced by [`MASK`]; borrowed when there was nothing to hide.
pub fn text(text: &str) -> Cow<'_, str> {
    let mut spans = url_userinfo_spans(text);
    spans.extend(secret_assignment_spans(text));
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in spans {
        if end <= at {
            continue;
        }
        let start = start.max(at);
        out.push_str(&text[at..start]);
        out.push_str(MASK);
        at = end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// Bytes that end a URL's authority, or an unquoted value, in running text.
fn ends_value(byte: u8) -> bool {
    byte.is_ascii_whitespace() || matches!(byte, b'"' | b'\'' | b'<' | b'>' | b'`' | b',' | b';' | b')' | b']')
}

/// Byte ranges of the userinfo (`user:pass`) of every `scheme://user:pass@host`.
fn url_userinfo_spans(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find("://") {
        let start = from + found + 3;
        let end = bytes[start..]
            .iter()
            .position(|&b| ends_value(b) || matches!(b, b'/' | b'?' | b'#'))
            .map_or(bytes.len(), |n| start + n);
        if let Some(at) = text[start..end].rfind('@') {
            spans.push((start, start + at));
        }
        from = start;
    }
    spans
}

/// Byte ranges of the values of `NAME=value` / `NAME="value"` whose name looks secret.
fn secret_assignment_spans(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let is_name = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut spans = Vec::new();
    for (eq, _) in text.match_indices('=') {
        let name_start = bytes[..eq].iter().rposition(|&b| !is_name(b)).map_or(0, |n| n + 1);
        if name_start == eq || !is_secret_name(&text[name_start..eq]) {
            continue;
        }
        let start = eq + 1;
        let span = if bytes.get(start) == Some(&b'"') {
            // `Debug` quoting: up to the closing quote that is not escaped.
            let mut escaped = false;
            let close = bytes[start + 1..].iter().position(|&b| {
                let close = b == b'"' && !escaped;
                escaped = b == b'\\' && !escaped;
                close
            });
            (start + 1, close.map_or(bytes.len(), |n| start + 1 + n))
        } else {
            let end = bytes[start..]
                .iter()
                .position(|&b| ends_value(b))
                .map_or(bytes.len(), |n| start + n);
            (start, end)
        };
        if span.1 > span.0 {
            spans.push(span);
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        for name in [
            "API_TOKEN",
            "db_password",
            "Passwd",
            "AWS_SECRET_ACCESS_KEY",
            "authorization",
            "GCP_CREDENTIALS",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in ["BASE_URL", "PATH", "HOME", "PYTHONPATH"] {
            assert!(!is_secret_name(name), "{name}");
        }
    }

    #[test]
    fn assignments_and_urls_are_masked() {
        let cmd = r#"API_TOKEN="t0k\"en" BASE_URL="https://bob:hunter2@shop.test:8443/api?x=1" HOME=/h "pytest" "--password=pw""#;
        assert_eq!(
            text(cmd),
            r#"API_TOKEN="***" BASE_URL="https://***@shop.test:8443/api?x=1" HOME=/h "pytest" "--password=***""#
        );
        assert_eq!(text("SECRET=abc, next"), "SECRET=***, next");
        assert_eq!(
            text("see http://u@h/a and ftp://x:y@z"),
            "see http://***@h/a and ftp://***@z"
        );
    }

    #[test]
    fn text_without_secrets_is_unchanged() {
        for plain in ["", "https://shop.test/a@b", "a=b c==d", "=x", "KEY=", "mailto:me@x"] {
            assert!(matches!(text(plain), Cow::Borrowed(_)), "{plain}");
        }
    }
}
