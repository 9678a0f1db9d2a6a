//! One test case as qaagent knows it, whatever tool ran it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The outcome of one test case, in the vocabulary of the evidence format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TestStatus {
    /// The test ran and passed (possibly after retries; see [`TestCase::flaky`]).
    Passed,
    /// The test ran and an assertion failed.
    Failed,
    /// The test could not run to completion (setup/teardown error, crash, undefined step).
    Error,
    /// The test was not run (skipped, excluded by tag, xfail).
    Skipped,
}

impl TestStatus {
    /// The lowercase name used in evidence and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            TestStatus::Passed => "passed",
            TestStatus::Failed => "failed",
            TestStatus::Error => "error",
            TestStatus::Skipped => "skipped",
        }
    }

    /// True for the statuses a retry should run again.
    pub fn is_failure(self) -> bool {
        matches!(self, TestStatus::Failed | TestStatus::Error)
    }
}

impl std::fmt::Display for TestStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `error_type` that marks a row of [`TestCase::unnamed_tests`].
pub const UNNAMED_TESTS: &str = "qaagent: tests that did not run";

/// The `error_type` that marks a row of [`TestCase::unreported`].
pub const UNREPORTED: &str = "qaagent: test not reported";

/// One test case of a suite attempt (or, after retries, of the merged suite).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TestCase {
    /// The test's name as the tool reports it (JUnit `name`).
    pub name: String,
    /// The tool's grouping of the test (JUnit `classname`).
    pub classname: String,
    /// The source file the test lives in, when the tool says.
    pub file: Option<String>,
    /// How to select exactly this test again with its tool (pytest node id,
    /// `features/cart.feature:12`, `[chromium] › a.spec.ts › x › y`).
    pub selector: Option<String>,
    /// Outcome of the (last) attempt.
    pub status: TestStatus,
    /// Seconds the test took, as the tool measured it.
    pub duration: f64,
    /// The failure, error or skip message.
    pub message: Option<String>,
    /// The failure's type (e.g. `AssertionError`), when given.
    pub error_type: Option<String>,
    /// The failure's body: traceback or details.
    pub details: Option<String>,
    /// Captured standard output of the test, when the tool reports it.
    pub system_out: Option<String>,
    /// Captured standard error of the test, when the tool reports it.
    pub system_err: Option<String>,
    /// How many attempts ran this test (1 without retries).
    pub attempts: u32,
    /// True when the test failed on an attempt and passed on a later one.
    pub flaky: bool,
    /// Outcomes of earlier failed attempts, oldest first (for `flakyFailure` /
    /// `rerunFailure` in merged JUnit).
    pub previous_failures: Vec<PriorFailure>,
    /// Files the tool kept for this test alone, of every attempt (Playwright's
    /// screenshots, traces, videos), as absolute paths: its record refers to
    /// these and to the suite's reports and logs, not to other tests' files.
    /// Each is also one of the suite's artifacts.
    #[serde(default)]
    pub attachments: Vec<PathBuf>,
    /// Every failure and error of this attempt, in report order, when there
    /// are several (pytest writes one `<failure>` per failing subtest); then
    /// `message` and `details` hold them all, joined. Empty for the usual
    /// single failure, which `message`, `error_type` and `details` are.
    pub failures: Vec<Failure>,
    /// Why the test is quarantined, when a `[[quarantine]]` entry of the
    /// project covers it: it still runs and is recorded, and its failure
    /// does not fail the run. Set by the engine, never by a runner.
    #[serde(default)]
    pub quarantine: Option<String>,
}

/// One of several `<failure>` / `<error>` elements of a test case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// `failed` or `error`.
    pub status: TestStatus,
    /// Its `message`.
    pub message: Option<String>,
    /// Its `type`.
    pub error_type: Option<String>,
    /// Its body.
    pub details: Option<String>,
}

/// A failed or errored attempt of a test that was run again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriorFailure {
    /// `failed` or `error`.
    pub status: TestStatus,
    /// The failure message of that attempt.
    pub message: Option<String>,
    /// The failure type of that attempt.
    pub error_type: Option<String>,
    /// The failure body of that attempt.
    pub details: Option<String>,
    /// Seconds that attempt took.
    pub duration: f64,
}

impl TestCase {
    /// A case with the given identity and status and everything else empty.
    pub fn new(name: impl Into<String>, classname: impl Into<String>, status: TestStatus) -> Self {
        TestCase {
            name: name.into(),
            classname: classname.into(),
            file: None,
            selector: None,
            status,
            duration: 0.0,
            message: None,
            error_type: None,
            details: None,
            system_out: None,
            system_err: None,
            attempts: 1,
            flaky: false,
            previous_failures: Vec::new(),
            attachments: Vec::new(),
            failures: Vec::new(),
            quarantine: None,
        }
    }

    /// Everything that tells this test from another: attempts are matched on
    /// all of it, never on the name alone (two tests named `works` in two
    /// classes, or a selector that is only the name, stay two tests).
    pub fn identity(&self) -> Identity<'_> {
        Identity {
            file: self.file.as_deref(),
            classname: &self.classname,
            name: &self.name,
            selector: self.selector.as_deref(),
        }
    }

    /// A row standing for tests that did not run and are not known by name
    /// (a tool that said it would run N tests, then stopped; split shares
    /// that did not account for the suite): an error no selection names,
    /// so that no retry of named tests can clear it; only a retry of the
    /// whole suite replaces it ([`TestCase::is_unnamed_tests`]).
    pub fn unnamed_tests(name: &str, classname: &str, message: String) -> TestCase {
        let mut case = TestCase::new(name, classname, TestStatus::Error);
        case.error_type = Some(UNNAMED_TESTS.to_string());
        case.message = Some(message);
        case
    }

    /// A row standing for one test known only by its selector that did not
    /// run (a share that died before reaching it): an error its selection
    /// re-runs, whose own row then replaces it ([`TestCase::is_unreported`]).
    pub fn unreported(selector: &str, message: String) -> TestCase {
        let mut case = TestCase::new(selector, "", TestStatus::Error);
        case.selector = Some(selector.to_string());
        case.error_type = Some(UNREPORTED.to_string());
        case.message = Some(message);
        case
    }

    /// Whether this is a row of [`TestCase::unreported`].
    pub fn is_unreported(&self) -> bool {
        self.selector.is_some() && self.error_type.as_deref() == Some(UNREPORTED)
    }

    /// Whether this is a row of [`TestCase::unnamed_tests`].
    pub fn is_unnamed_tests(&self) -> bool {
        self.selector.is_none() && self.error_type.as_deref() == Some(UNNAMED_TESTS)
    }

    /// How lists name the test: its selector, which is what re-runs it, else
    /// `classname::name`.
    pub fn label(&self) -> String {
        match &self.selector {
            Some(selector) => selector.clone(),
            None => format!("{}::{}", self.classname, self.name),
        }
    }
}

/// A test's identity: see [`TestCase::identity`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Identity<'a> {
    /// The file it is in, when the tool says.
    pub file: Option<&'a str>,
    /// Its class, suite path or feature.
    pub classname: &'a str,
    /// Its name, parametrization included.
    pub name: &'a str,
    /// What selects it again (holds the Playwright project).
    pub selector: Option<&'a str>,
}
