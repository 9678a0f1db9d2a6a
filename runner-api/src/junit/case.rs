//! One `<testcase>` as read from a report, laid out to cost little to keep.
//!
//! A report of 100,000 cases is read into 100,000 of these, and keeping
//! them (allocating, and touching fresh memory) cost the reader more than
//! parsing did (BENCHMARKS.md, target 3). So a case is small (88 bytes, was
//! 280): what most cases of a report have in common is shared rather than
//! copied into each (`Arc<str>` for the class name, file and failure type
//! when the previous case had the same; one `Arc` for the enclosing suite's
//! attributes), strings are `Box<str>` (no capacity slack), and what a
//! passing case lacks (message, body, output, extra failures) sits behind
//! one optional box. The fields are private for that reason; accessors give
//! them as plain `&str`.

use std::sync::Arc;

use super::values;
use crate::case::{Failure, PriorFailure, TestCase, TestStatus};

/// One `<testcase>` as read from a JUnit file: see the accessors for what
/// each attribute and child element becomes. Build one with
/// [`JunitCase::new`] (for tests and hand-made reports); the reader fills in
/// the rest.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct JunitCase {
    name: Box<str>,
    classname: Option<Arc<str>>,
    file: Option<Arc<str>>,
    suite: Option<Arc<SuiteAttributes>>,
    outcome: Option<Box<Outcome>>,
    time: Seconds,
    line: Option<u32>,
    status: TestStatus,
}

/// A case's `time`: NaN when absent (the reader keeps only finite,
/// non-negative times), so that no `Option` tag widens the case; equal to
/// itself when absent.
#[derive(Debug, Clone, Copy)]
struct Seconds(f64);

impl Seconds {
    const ABSENT: Seconds = Seconds(f64::NAN);
}

impl PartialEq for Seconds {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0 || (self.0.is_nan() && other.0.is_nan())
    }
}

/// The attributes of a `<testsuite>` that its cases carry, shared by them.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct SuiteAttributes {
    pub(super) name: Option<Box<str>>,
    pub(super) hostname: Option<Box<str>>,
}

/// What a case has when something went wrong or it printed: absent (no
/// allocation) for the usual passing case.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Outcome {
    pub(super) message: Option<Box<str>>,
    pub(super) error_type: Option<Arc<str>>,
    pub(super) details: Option<Box<str>>,
    pub(super) system_out: Option<Box<str>>,
    pub(super) system_err: Option<Box<str>>,
    pub(super) failures: Vec<Failure>,
    /// Earlier attempts, oldest first (`<flakyFailure>`, `<rerunFailure>`, …).
    pub(super) previous: Vec<PriorFailure>,
}

impl JunitCase {
    /// A case of this name, class name and status and nothing else (no
    /// file, suite, time or message).
    pub fn new(name: &str, classname: &str, status: TestStatus) -> Self {
        let mut case = JunitCase::empty(None);
        case.name = name.into();
        case.classname = (!classname.is_empty()).then(|| classname.into());
        case.status = status;
        case
    }

    /// The case with its `file` attribute set.
    pub fn with_file(mut self, file: &str) -> Self {
        self.file = Some(file.into());
        self
    }

    /// The case as if it were inside a `<testsuite name="…">`.
    pub fn with_suite_name(mut self, suite_name: &str) -> Self {
        let hostname = self.suite.as_ref().and_then(|suite| suite.hostname.clone());
        self.suite = Some(Arc::new(SuiteAttributes {
            name: Some(suite_name.into()),
            hostname,
        }));
        self
    }

    /// A passing case with no attributes, inside `suite`.
    pub(super) fn empty(suite: Option<Arc<SuiteAttributes>>) -> Self {
        JunitCase {
            name: Box::default(),
            classname: None,
            file: None,
            suite,
            outcome: None,
            time: Seconds::ABSENT,
            line: None,
            status: TestStatus::Passed,
        }
    }

    /// `name` attribute.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `classname` attribute (empty when absent).
    pub fn classname(&self) -> &str {
        self.classname.as_deref().unwrap_or_default()
    }

    /// `file` attribute (pytest's xunit1 family, Playwright).
    pub fn file(&self) -> Option<&str> {
        self.file.as_deref()
    }

    /// `line` attribute, when given.
    pub fn line(&self) -> Option<u32> {
        self.line
    }

    /// `name` of the innermost enclosing `<testsuite>` (`None` for a case
    /// directly under `<testsuites>`).
    pub fn suite_name(&self) -> Option<&str> {
        self.suite.as_ref().and_then(|suite| suite.name.as_deref())
    }

    /// `hostname` of the innermost enclosing `<testsuite>` (Playwright puts
    /// the project there).
    pub fn hostname(&self) -> Option<&str> {
        self.suite.as_ref().and_then(|suite| suite.hostname.as_deref())
    }

    /// `time` in seconds, when given and a finite, non-negative number.
    pub fn time(&self) -> Option<f64> {
        (!self.time.0.is_nan()).then_some(self.time.0)
    }

    /// Derived from the `<failure>`, `<error>`, `<skipped>` children.
    pub fn status(&self) -> TestStatus {
        self.status
    }

    /// `message` of the (first) failure / error / skipped element.
    pub fn message(&self) -> Option<&str> {
        self.outcome.as_ref().and_then(|outcome| outcome.message.as_deref())
    }

    /// `type` of the (first) failure / error / skipped element (pytest marks
    /// an xfail with `<skipped type="pytest.xfail">`).
    pub fn error_type(&self) -> Option<&str> {
        self.outcome.as_ref().and_then(|outcome| outcome.error_type.as_deref())
    }

    /// Text of the (first) failure / error / skipped element: text and CDATA
    /// pieces joined, leading blank lines and trailing whitespace removed.
    pub fn details(&self) -> Option<&str> {
        self.outcome.as_ref().and_then(|outcome| outcome.details.as_deref())
    }

    /// `<system-out>` text (several elements joined by a newline), tidied
    /// like [`details`](Self::details). Of each of these texts at most the
    /// first and last [`KEPT_TEXT_BYTES`](super::KEPT_TEXT_BYTES) are kept,
    /// with a note where the middle was left out.
    pub fn system_out(&self) -> Option<&str> {
        self.outcome.as_ref().and_then(|outcome| outcome.system_out.as_deref())
    }

    /// `<system-err>` text, tidied like [`details`](Self::details).
    pub fn system_err(&self) -> Option<&str> {
        self.outcome.as_ref().and_then(|outcome| outcome.system_err.as_deref())
    }

    /// Every `<failure>` and `<error>` of the case, when it has several
    /// (pytest's subtests); [`message`](Self::message) and
    /// [`details`](Self::details) then join them all. Empty for the usual
    /// single failure.
    pub fn failures(&self) -> &[Failure] {
        self.outcome.as_ref().map_or(&[], |outcome| &outcome.failures)
    }

    /// Sets the attributes a `<testcase>` tag gives; `shared` holds the
    /// previous case's class name and file, taken again when they match.
    pub(super) fn set_attribute(&mut self, key: &str, value: &str, shared: &mut Shared) {
        match key {
            "name" => self.name = value.into(),
            // An empty class name is no class name: cases compare equal either way.
            "classname" if value.is_empty() => self.classname = None,
            "classname" => self.classname = Some(share(&mut shared.classname, value)),
            "file" => self.file = Some(share(&mut shared.file, value)),
            "line" => self.line = value.trim().parse().ok(),
            "time" => self.time = Seconds(values::parse_seconds(value).unwrap_or(f64::NAN)),
            _ => {}
        }
    }

    /// A case with no name (or only white space) that would pass is an error
    /// instead: it names no test that passed. pytest writes `<testcase time="0.000" />` for the
    /// test that `pytest.exit()` (or an interrupt) stopped.
    pub(super) fn no_pass_without_a_name(&mut self) {
        // Zero-width and byte-order-mark characters show nothing either.
        let invisible = |c: char| {
            c.is_whitespace() || c.is_control() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
        };
        if self.name.chars().all(invisible) && self.status == TestStatus::Passed {
            self.status = TestStatus::Error;
            self.outcome_mut().message =
                Some("the report lists a test case with no name, which names no test that passed".into());
        }
    }

    pub(super) fn set_status(&mut self, status: TestStatus) {
        self.status = status;
    }

    /// The case's outcome, created empty on first use.
    pub(super) fn outcome_mut(&mut self) -> &mut Outcome {
        self.outcome.get_or_insert_with(Box::default)
    }

    /// Adds `extra`, a later `<failure>` / `<error>` of the case, to its
    /// failures (the first, of status `first`, going in before it) and joins
    /// its message and body to the case's.
    pub(super) fn add_failure(&mut self, first: TestStatus, extra: Failure) {
        let outcome = self.outcome_mut();
        if outcome.failures.is_empty() {
            outcome.failures.push(Failure {
                status: first,
                message: outcome.message.as_deref().map(str::to_owned),
                error_type: outcome.error_type.as_deref().map(str::to_owned),
                details: outcome.details.as_deref().map(str::to_owned),
            });
        }
        values::append(&mut outcome.message, extra.message.as_deref(), "\n");
        values::append(&mut outcome.details, extra.details.as_deref(), "\n\n");
        outcome.failures.push(extra);
    }

    /// The case as a [`TestCase`] (no selector; runners add it).
    pub fn into_test_case(self) -> TestCase {
        let time = self.time();
        let outcome = self.outcome.map(|outcome| *outcome).unwrap_or_default();
        let mut case = TestCase::new(
            String::from(self.name),
            self.classname.as_deref().unwrap_or_default(),
            self.status,
        );
        case.file = self.file.as_deref().map(str::to_owned);
        case.duration = time.unwrap_or(0.0);
        case.message = outcome.message.map(String::from);
        case.error_type = outcome.error_type.as_deref().map(str::to_owned);
        case.details = outcome.details.map(String::from);
        case.system_out = outcome.system_out.map(String::from);
        case.system_err = outcome.system_err.map(String::from);
        case.failures = outcome.failures;
        case.attempts = u32::try_from(outcome.previous.len()).map_or(u32::MAX, |earlier| earlier.saturating_add(1));
        case.flaky = case.status == TestStatus::Passed && !outcome.previous.is_empty();
        case.previous_failures = outcome.previous;
        case
    }
}

/// The strings consecutive cases of a report usually have in common, as the
/// last case had them.
#[derive(Debug, Default)]
pub(super) struct Shared {
    classname: Option<Arc<str>>,
    file: Option<Arc<str>>,
    pub(super) error_type: Option<Arc<str>>,
}

/// `value` as an `Arc<str>`: the one in `last` when it holds the same text,
/// else a new one, which `last` then keeps.
pub(super) fn share(last: &mut Option<Arc<str>>, value: &str) -> Arc<str> {
    match last {
        Some(kept) if **kept == *value => Arc::clone(kept),
        _ => Arc::clone(last.insert(Arc::from(value))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_stays_small() {
        // Each byte here is 100 KB of a 100,000-case report touched on reading.
        assert!(
            std::mem::size_of::<JunitCase>() <= 88,
            "{}",
            std::mem::size_of::<JunitCase>()
        );
    }

    #[test]
    fn a_case_made_by_hand_equals_the_same_case_read() {
        let xml = r#"<testsuites><testcase name="a" classname=""/><testcase name="b"/></testsuites>"#;
        let read = super::super::read_reader(xml.as_bytes(), std::path::Path::new("t.xml")).expect("well-formed");
        let made = [
            JunitCase::new("a", "", TestStatus::Passed),
            JunitCase::new("b", "", TestStatus::Passed),
        ];
        assert_eq!(read, made);
    }

    #[test]
    fn equal_strings_in_a_row_are_shared() {
        let mut last = None;
        let a = share(&mut last, "tests.test_a");
        let b = share(&mut last, "tests.test_a");
        let c = share(&mut last, "tests.test_b");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!((&*a, &*c), ("tests.test_a", "tests.test_b"));
        assert!(Arc::ptr_eq(&c, &share(&mut last, "tests.test_b")));
    }
}
