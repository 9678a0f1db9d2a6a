//! What evidence is told about a finished suite: evidence's own types, so that
//! the on-disk format is defined here and nowhere else. The orchestrator maps
//! runner results into them; a change to the plugin API cannot move a key or
//! a value of `manifest.json` or `tests.jsonl`.
//!
//! A suite's cases are not copied into evidence: a [`SuiteRecord`] reaches
//! them through [`Cases`], implemented by whoever holds them, and each is
//! seen as a borrowed [`Case`] while its record is written.

use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::EvidenceError;

/// The outcome of one test case: a record's `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TestStatus {
    /// Passed (possibly on a retry; see [`Case::flaky`]).
    Passed,
    /// An assertion failed.
    Failed,
    /// The test could not run to completion.
    Error,
    /// Not run.
    Skipped,
}

impl TestStatus {
    /// The word written in `tests.jsonl`.
    pub fn as_str(self) -> &'static str {
        match self {
            TestStatus::Passed => "passed",
            TestStatus::Failed => "failed",
            TestStatus::Error => "error",
            TestStatus::Skipped => "skipped",
        }
    }

    /// True for `failed` and `error`: what a reader counts as not passing.
    pub fn is_failure(self) -> bool {
        matches!(self, TestStatus::Failed | TestStatus::Error)
    }
}

impl fmt::Display for TestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a suite ended: a manifest suite's `outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuiteOutcome {
    /// Not run.
    Skipped,
    /// Every test passed (flaky ones included).
    Passed,
    /// A test failed or errored.
    Failed,
    /// The tool or runner itself failed.
    Errored,
    /// An attempt hit its timeout.
    TimedOut,
    /// The run was interrupted while the suite ran.
    Interrupted,
}

impl SuiteOutcome {
    /// Short upper-case label for human output (`PASS`, `FAIL`, …).
    pub fn label(self) -> &'static str {
        match self {
            SuiteOutcome::Skipped => "SKIP",
            SuiteOutcome::Passed => "PASS",
            SuiteOutcome::Failed => "FAIL",
            SuiteOutcome::Errored => "ERROR",
            SuiteOutcome::TimedOut => "TIMEOUT",
            SuiteOutcome::Interrupted => "INTERRUPTED",
        }
    }
}

/// A process a suite left behind, which was killed: an entry of a manifest suite's `leaked`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeakedProcess {
    /// Its process id.
    pub pid: u32,
    /// Its command line, arguments joined by spaces.
    pub command: String,
}

/// A tool that ran, for the manifest's `tools` map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolRun {
    /// Tool name, the key in `tools`.
    pub name: String,
    /// The version it reported.
    pub version: Option<String>,
    /// Whether it was started.
    pub executed: bool,
    /// Exit code of its last run.
    pub exit_code: Option<i32>,
    /// Why it could not run or did not finish cleanly.
    pub error: Option<String>,
}

/// A failed attempt of a test that was run again: an entry of a record's
/// `metadata.previous_failures`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriorFailure<'a> {
    /// How it failed (its keys are written beside `duration`).
    #[serde(flatten)]
    pub failure: Failure<'a>,
    /// Seconds it took.
    pub duration: f64,
}

/// One failure or error: an entry of a record's `metadata.failures` (when a
/// test's attempt had several, as pytest's subtests), and what a
/// [`PriorFailure`] holds besides its duration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure<'a> {
    /// `failed` or `error`.
    pub status: TestStatus,
    /// Its failure message.
    pub message: Option<&'a str>,
    /// Its failure type.
    pub error_type: Option<&'a str>,
    /// Its failure body.
    pub details: Option<&'a str>,
}

/// One test case, as its record is written; borrowed from whoever holds the case.
#[derive(Debug, Clone, PartialEq)]
pub struct Case<'a> {
    /// The test's name as its tool reports it.
    pub name: &'a str,
    /// Its class or suite path.
    pub classname: &'a str,
    /// Its outcome (after retries).
    pub status: TestStatus,
    /// Seconds it took.
    pub duration: f64,
    /// The failure, error or skip message.
    pub message: Option<&'a str>,
    /// The failure's type.
    pub error_type: Option<&'a str>,
    /// The failure's body.
    pub details: Option<&'a str>,
    /// The file that holds it.
    pub file: Option<&'a str>,
    /// The id its runner selects it again by.
    pub selector: Option<&'a str>,
    /// Attempts that ran it.
    pub attempts: u32,
    /// Failed, then passed on a retry.
    pub flaky: bool,
    /// Its captured standard output.
    pub system_out: Option<&'a str>,
    /// Its captured standard error.
    pub system_err: Option<&'a str>,
    /// Its earlier failed attempts, oldest first.
    pub previous_failures: Vec<PriorFailure<'a>>,
    /// Every failure of its last attempt when there are several (then
    /// `message` and `details` join them); empty for a single one.
    pub failures: Vec<Failure<'a>>,
    /// The HTTP route it exercises.
    pub route: Option<String>,
    /// Files kept for this test alone (screenshots, traces), each one of
    /// the suite's `artifacts`: its record refers to these and to the
    /// suite's artifacts that no test of the suite claims (reports, logs),
    /// never to another test's.
    pub attachments: &'a [PathBuf],
    /// Why it is quarantined (`metadata.quarantined`, `metadata.quarantine_reason`), when it is.
    pub quarantine: Option<&'a str>,
}

/// A suite's cases, in the order they are recorded, held by whoever ran them.
/// Called on the writer thread.
pub trait Cases: Send + Sync + fmt::Debug {
    /// How many there are.
    fn count(&self) -> usize;

    /// Calls `each` with every case in order, stopping at its first error.
    fn for_each(&self, each: &mut dyn FnMut(&Case<'_>) -> Result<(), EvidenceError>) -> Result<(), EvidenceError>;

    /// Every case's [`attachments`](Case::attachments): the artifacts that
    /// belong to one test rather than to the suite. Walks the cases with
    /// [`for_each`](Self::for_each); a holder that can list them without
    /// building each [`Case`] should.
    fn attachments(&self) -> Result<HashSet<PathBuf>, EvidenceError> {
        let mut claimed = HashSet::new();
        self.for_each(&mut |case| {
            claimed.extend(case.attachments.iter().cloned());
            Ok(())
        })?;
        Ok(claimed)
    }
}

/// A finished suite, as evidence records it: an entry of the manifest's
/// `suites`, its tool, its artifacts to keep and its cases.
#[derive(Debug)]
pub struct SuiteRecord {
    /// Suite name.
    pub name: String,
    /// The runner that ran it.
    pub runner: String,
    /// How it ended.
    pub outcome: SuiteOutcome,
    /// Passed cases.
    pub passed: usize,
    /// Failed cases.
    pub failed: usize,
    /// Errored cases, plus one when the suite itself errored.
    pub errors: usize,
    /// Skipped cases.
    pub skipped: usize,
    /// Cases that passed only on a retry.
    pub flaky: usize,
    /// Wall time of all its attempts.
    pub duration: Duration,
    /// Exit code of the tool's last attempt.
    pub return_code: Option<i32>,
    /// The suite-level error.
    pub error: Option<String>,
    /// The last lines of the tool's output, when it crashed or errored.
    pub log_tail: Option<String>,
    /// Why it was skipped.
    pub skip_reason: Option<String>,
    /// Attempts run.
    pub attempts: u32,
    /// Processes it left behind, which were killed.
    pub leaked: Vec<LeakedProcess>,
    /// Its tool, merged into the manifest's `tools`.
    pub tool: ToolRun,
    /// Its output directory: artifacts below it keep their relative path.
    pub output_dir: Option<PathBuf>,
    /// Files and directories to keep under `artifacts/<suite>/`.
    pub artifacts: Vec<PathBuf>,
    /// When each attempt ran.
    pub attempt_spans: Vec<crate::AttemptSpan>,
    /// Its cases.
    pub cases: Box<dyn Cases>,
}

/// Cases built in place, for tests of this crate.
#[cfg(test)]
impl Cases for Vec<Case<'static>> {
    fn count(&self) -> usize {
        self.len()
    }

    fn for_each(&self, each: &mut dyn FnMut(&Case<'_>) -> Result<(), EvidenceError>) -> Result<(), EvidenceError> {
        self.iter().try_for_each(each)
    }
}

#[cfg(test)]
impl<'a> Case<'a> {
    /// A case with this name, class name and status, and nothing else.
    pub(crate) fn new(name: &'a str, classname: &'a str, status: TestStatus) -> Self {
        Case {
            name,
            classname,
            status,
            duration: 0.0,
            message: None,
            error_type: None,
            details: None,
            file: None,
            selector: None,
            attempts: 1,
            flaky: false,
            system_out: None,
            system_err: None,
            previous_failures: Vec::new(),
            failures: Vec::new(),
            route: None,
            attachments: &[],
            quarantine: None,
        }
    }
}

#[cfg(test)]
impl SuiteRecord {
    /// A passed suite holding `cases` and nothing else.
    pub(crate) fn of(name: &str, runner: &str, cases: Vec<Case<'static>>) -> Self {
        SuiteRecord {
            name: name.to_string(),
            runner: runner.to_string(),
            outcome: SuiteOutcome::Passed,
            passed: 0,
            failed: 0,
            errors: 0,
            skipped: 0,
            flaky: 0,
            duration: Duration::ZERO,
            return_code: None,
            error: None,
            log_tail: None,
            skip_reason: None,
            attempts: 1,
            leaked: Vec::new(),
            tool: ToolRun::default(),
            output_dir: None,
            artifacts: Vec::new(),
            attempt_spans: Vec::new(),
            cases: Box::new(cases),
        }
    }
}
