//! The raw, spanned shapes of the file as toml deserializes it, and how a byte
//! span in the file becomes a located [`ConfigError::Invalid`].

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::ConfigError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) project: Option<Spanned<RawProject>>,
    #[serde(default)]
    pub(super) app: BTreeMap<Spanned<String>, Spanned<RawApp>>,
    pub(super) run: Option<Spanned<RawRun>>,
    #[serde(default)]
    pub(super) tests: BTreeMap<Spanned<String>, Spanned<RawSuite>>,
    pub(super) diagnostics: Option<RawDiagnostics>,
    #[serde(default)]
    pub(super) quarantine: Vec<Spanned<RawQuarantine>>,
}

/// A `[tests.NAME]` table: its keys decide which are common and which go to the runner.
pub(super) type RawSuite = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProject {
    pub(super) name: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApp {
    pub(super) base_url: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRun {
    pub(super) parallel: Option<bool>,
    // Signed so that 0 and negative numbers get our message rather than serde's.
    pub(super) max_workers: Option<Spanned<i64>>,
    pub(super) retry_count: Option<Spanned<i64>>,
    // Any value: a number of seconds or a duration string, checked by `validate::seconds`.
    pub(super) timeout: Option<Spanned<toml::Value>>,
    pub(super) kill_grace: Option<Spanned<toml::Value>>,
    pub(super) suite_order: Option<Vec<Spanned<String>>>,
    pub(super) retry_on: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) flaky: Option<Spanned<String>>,
}

/// A `[[quarantine]]` entry; `reason` and `until` are required, and said so
/// with the entry's test named rather than by serde.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawQuarantine {
    pub(super) test: Spanned<String>,
    pub(super) reason: Option<Spanned<String>>,
    pub(super) until: Option<Spanned<toml::Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDiagnostics {
    #[serde(default)]
    pub(super) categories: Vec<Spanned<RawCategory>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCategory {
    pub(super) name: Spanned<String>,
    pub(super) pattern: Spanned<String>,
    pub(super) suggestion: String,
}

// ---------------------------------------------------------------------------
// Locations.

/// The file being validated, to turn byte spans into located errors.
pub(super) struct ConfigText<'a> {
    pub(super) file: &'a Path,
    pub(super) text: &'a str,
}

impl ConfigText<'_> {
    pub(super) fn invalid(&self, span: Range<usize>, message: impl Into<String>, hint: Option<String>) -> ConfigError {
        let (line, column) = line_column(self.text, span.start);
        ConfigError::Invalid {
            file: self.file.to_path_buf(),
            line,
            column,
            message: message.into(),
            hint,
        }
    }

    /// The text of `span`, as written.
    pub(super) fn written(&self, span: Range<usize>) -> &str {
        self.text.get(span).unwrap_or("")
    }

    /// A toml/serde error: syntax, unknown key, wrong type, missing key.
    pub(super) fn toml_error(&self, err: &toml::de::Error) -> ConfigError {
        let span = err.span().unwrap_or(0..0);
        let message = err.message().trim();
        match unknown_field(message) {
            Some((key, expected)) => {
                let hint = expected.map(|keys| {
                    let allowed = format!("keys allowed here: {}", keys.join(", "));
                    match closest(key, &keys) {
                        Some(near) => format!("did you mean `{near}`? {allowed}"),
                        None => allowed,
                    }
                });
                self.invalid(span, format!("unknown key `{key}`"), hint)
            }
            None => {
                // serde's own words for a value of the wrong shape; anything else is TOML syntax.
                let about_a_value = ["invalid type", "invalid value", "missing field", "unknown variant"]
                    .iter()
                    .any(|start| message.starts_with(start));
                let hint = (!about_a_value).then(|| {
                    "this is not valid TOML here: tables are written [name], strings in \"quotes\", one key = value per line"
                        .to_string()
                });
                self.invalid(span, message, hint)
            }
        }
    }
}

/// The candidate `key` was most likely meant to be, if one is close enough
/// to be a typo of it (`paralel` → `parallel`, `pth` → `path`).
pub(super) fn closest<'a>(key: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|candidate| (strsim::jaro_winkler(key, candidate), *candidate))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let line = before.matches('\n').count() + 1;
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Picks serde's "unknown field `KEY`, expected one of `a`, `b`" (or
/// "expected `a`", or "there are no fields") apart: the key, and the keys
/// allowed (`None` when serde listed none).
pub(super) fn unknown_field(message: &str) -> Option<(&str, Option<Vec<&str>>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (key, rest) = rest.split_once('`')?;
    let expected = rest.strip_prefix(", expected ").map(|list| {
        let list = list.strip_prefix("one of ").unwrap_or(list);
        // serde writes "`a`", "`a` or `b`", or "one of `a`, `b`, `c`".
        list.split(", ")
            .flat_map(|item| item.split(" or "))
            .map(|item| item.trim_matches('`'))
            .collect()
    });
    Some((key, expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_characters_from_one() {
        let text = "ab\nçd = 1\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 1), (1, 2));
        assert_eq!(line_column(text, 3), (2, 1));
        // 'd' follows the two-byte 'ç': byte 5, character column 2.
        assert_eq!(line_column(text, 5), (2, 2));
        // Inside a multi-byte character: the character's own column.
        assert_eq!(line_column(text, 4), (2, 1));
        assert_eq!(line_column(text, 999), (3, 1));
    }

    #[test]
    fn unknown_field_messages_are_picked_apart() {
        assert_eq!(
            unknown_field("unknown field `paralel`, expected one of `parallel`, `timeout`"),
            Some(("paralel", Some(vec!["parallel", "timeout"])))
        );
        assert_eq!(
            unknown_field("unknown field `nmae`, expected `name`"),
            Some(("nmae", Some(vec!["name"])))
        );
        assert_eq!(
            unknown_field("unknown field `strict`, expected `tool` or `python`"),
            Some(("strict", Some(vec!["tool", "python"])))
        );
        assert_eq!(
            unknown_field("unknown field `x`, there are no fields"),
            Some(("x", None))
        );
        assert_eq!(unknown_field("invalid type: integer `3`, expected a string"), None);
    }
}
