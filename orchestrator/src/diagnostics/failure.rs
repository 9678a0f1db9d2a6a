//! What a failure says about itself: its type and its message, the only texts
//! a failure is classified by. The test's name is never among them (a test
//! titled "flaky checkout" is not flaky), nor its traceback or captured
//! output, which quote the test's source and its libraries' frames.

use std::borrow::Cow;

use runner_api::TestCase;

use super::text::bounded;

/// Where a failure's type was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TypeSource {
    /// The report's own type attribute (JUnit `type`).
    Attribute,
    /// The start of the message (`KeyError: 'id'`, or pytest's `assert …`).
    Message,
    /// The last line of the traceback (`tests/test_a.py:12: KeyError`).
    Traceback,
}

impl TypeSource {
    /// Where the type was read, for a root-cause sentence.
    pub(super) fn describe(self) -> &'static str {
        match self {
            TypeSource::Attribute => "the failure's type",
            TypeSource::Message => "the failure message",
            TypeSource::Traceback => "the traceback's last line",
        }
    }
}

/// The texts one failure is classified by.
#[derive(Debug)]
pub(super) struct Failure<'a> {
    /// The failure's type (`AssertionError`, `expect.toHaveCount`,
    /// `requests.exceptions.ConnectionError`), when the report gives or implies one.
    pub(super) kind: Option<(&'a str, TypeSource)>,
    /// The failure's message, at most [`super::MAX_FIELD_BYTES`] of it.
    pub(super) message: &'a str,
}

/// Report types that say only "this failed": they name no kind of failure.
const GENERIC_TYPES: &[&str] = &["error", "exception", "failure", "fail", "testcodefailure"];

/// How the last segment of an exception's name ends: the words that make
/// `Foo: …` at the start of a message a type rather than prose (`Expected: 3`).
const TYPE_SUFFIXES: &[&str] = &[
    "error",
    "exception",
    "failure",
    "failed",
    "timeout",
    "exit",
    "interrupt",
    "warning",
    "fault",
];

impl<'a> Failure<'a> {
    /// The type and message of `case`'s failure. With no message, the
    /// details stand in, without the lines that name the test (Playwright's
    /// header, pytest's `def test_…():`).
    pub(super) fn of(case: &'a TestCase) -> Failure<'a> {
        let message = case.message.as_deref().filter(|text| !text.trim().is_empty());
        let message = match (message, case.details.as_deref()) {
            (Some(message), _) => message,
            (None, Some(details)) => without_lines_naming(details, &case.name),
            (None, None) => "",
        };
        let message = bounded(message);
        let attribute = case.error_type.as_deref().map(str::trim);
        let kind = specific(attribute)
            .map(|kind| (kind, TypeSource::Attribute))
            .or_else(|| specific(type_at_start(message)).map(|kind| (kind, TypeSource::Message)))
            .or_else(|| {
                // pytest's message for a bare `assert` is the rewritten assertion itself.
                message
                    .trim_start()
                    .starts_with("assert ")
                    .then_some(("AssertionError", TypeSource::Message))
            })
            .or_else(|| {
                specific(case.details.as_deref().and_then(traceback_type)).map(|kind| (kind, TypeSource::Traceback))
            });
        Failure { kind, message }
    }

    /// A failure that is no test's: a suite's error message or log.
    pub(super) fn of_text(text: &'a str) -> Failure<'a> {
        let message = bounded(text);
        let kind = specific(type_at_start(message)).map(|kind| (kind, TypeSource::Message));
        Failure { kind, message }
    }
}

/// The text of an assertion's message that may name a cause: the message
/// without what the tool adds to every expectation it retried (Playwright's
/// `Timeout: 5000ms`, `Locator: …` and call log, which mention waiting and
/// timeouts whatever the cause). Playwright before 1.57 words a failed
/// expectation it retried as `Timed out 5000ms waiting for expect(…)`: the
/// expectation is what failed, so only `expect(…)` is kept of that line.
pub(super) fn assertion_text(message: &str) -> Cow<'_, str> {
    let boilerplate = |line: &str| {
        let line = line.trim_start();
        line.starts_with("Timeout:") || line.starts_with("Locator:") || line.starts_with("Call log:")
    };
    let waited_for = |line: &str| -> Option<usize> {
        let at = line.find(" waiting for expect(")?;
        line[..at].contains("Timed out ").then_some(at + " waiting for ".len())
    };
    if !message
        .lines()
        .any(|line| boilerplate(line) || waited_for(line).is_some())
    {
        return Cow::Borrowed(message);
    }
    let kept: Vec<&str> = message
        .lines()
        .take_while(|line| !line.trim_start().starts_with("Call log:"))
        .filter(|line| !boilerplate(line))
        .map(|line| waited_for(line).map_or(line, |at| &line[at..]))
        .collect();
    Cow::Owned(kept.join("\n"))
}

/// `kind` unless it is empty or says only "this failed" (`Error`, `failure`).
fn specific(kind: Option<&str>) -> Option<&str> {
    kind.filter(|kind| !kind.is_empty() && !GENERIC_TYPES.contains(&kind.to_ascii_lowercase().as_str()))
}

/// `details` without its lines that contain `name`: a stand-in message that
/// cannot be classified by the test's title.
fn without_lines_naming<'a>(details: &'a str, name: &str) -> &'a str {
    let name = name.trim();
    if name.is_empty() || !details.contains(name) {
        return details;
    }
    // The first line that does not name the test, and the rest of the text
    // from there, which is where the tools put the error itself.
    let mut offset = 0;
    for line in details.split_inclusive('\n') {
        if !line.contains(name) && !line.trim().is_empty() {
            return &details[offset..];
        }
        offset += line.len();
    }
    ""
}

/// The exception type a message starts with (`KeyError: 'id'`,
/// `requests.exceptions.ConnectionError: …`, `socket.timeout: timed out`).
fn type_at_start(message: &str) -> Option<&str> {
    let line = message.trim_start().lines().next()?.trim_end();
    let candidate = line.split_once(':').map_or(line, |(head, _)| head);
    looks_like_type(candidate).then_some(candidate)
}

/// The type on the last line of a pytest traceback (`tests/test_a.py:12: KeyError`).
fn traceback_type(details: &str) -> Option<&str> {
    let last = details.lines().rev().map(str::trim).find(|line| !line.is_empty())?;
    let (location, kind) = last.rsplit_once(": ")?;
    let (_, line_number) = location.rsplit_once(':')?;
    let numeric = !line_number.is_empty() && line_number.bytes().all(|b| b.is_ascii_digit());
    (numeric && looks_like_type(kind)).then_some(kind)
}

/// Whether `text` is a dotted identifier whose last segment ends like an
/// exception's name.
fn looks_like_type(text: &str) -> bool {
    let identifier = !text.is_empty()
        && !text.starts_with('.')
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    let last = text.rsplit('.').next().unwrap_or(text).to_ascii_lowercase();
    identifier && TYPE_SUFFIXES.iter().any(|suffix| last.ends_with(suffix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_read_from_the_start_of_a_message_or_a_traceback() {
        assert_eq!(type_at_start("KeyError: 'id'"), Some("KeyError"));
        assert_eq!(type_at_start("socket.timeout: timed out"), Some("socket.timeout"));
        assert_eq!(type_at_start("Expected: 3"), None);
        assert_eq!(type_at_start("assert 1 == 2"), None);
        assert_eq!(
            traceback_type("E   KeyError: 'x'\n\ntests/test_a.py:12: KeyError\n"),
            Some("KeyError")
        );
        assert_eq!(traceback_type("at /tmp/a.spec.ts:4:36"), None);
    }

    #[test]
    fn playwright_boilerplate_is_not_part_of_an_assertion_text() {
        let message = "Error: waiting for the list\n\nexpect(locator).toHaveCount(expected) failed\n\n\
                       Locator:  locator('li')\nExpected: 3\nTimeout:  300ms\n\nCall log:\n  - with timeout 300ms";
        let text = assertion_text(message);
        assert!(!text.to_lowercase().contains("timeout"), "{text}");
        assert!(text.contains("Expected: 3"), "{text}");
    }
}
