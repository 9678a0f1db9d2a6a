//! What one suite produced: its cases, counts, artifacts and overall outcome.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::case::{TestCase, TestStatus};

/// How a suite ended, from best to worst. Ordered so that combining the
/// outcomes of several attempts or suites is `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuiteOutcome {
    /// Not run: its path does not exist, or it was never started.
    Skipped,
    /// Every test passed (flaky ones included).
    Passed,
    /// At least one test failed or errored.
    Failed,
    /// The tool or runner itself failed: crashed, missing, unreadable JUnit.
    Errored,
    /// An attempt hit its timeout and was killed.
    TimedOut,
    /// The run was interrupted (Ctrl-C / SIGTERM) while this suite ran.
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

    /// True when the suite counts as successful for the exit code.
    pub fn is_success(self) -> bool {
        matches!(self, SuiteOutcome::Passed | SuiteOutcome::Skipped)
    }
}

/// A process that was still alive in a suite's process group (or carried its
/// marker) after the tool itself exited, and was killed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeakedProcess {
    /// Its process id.
    pub pid: u32,
    /// Its command line, arguments joined by spaces.
    pub command: String,
}

/// What the manifest's `tools` map records of the tool behind a suite.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolRun {
    /// Tool name (`pytest`, `behave`, `playwright`, or the command's program).
    pub name: String,
    /// The version the tool reports, when it could be asked.
    pub version: Option<String>,
    /// Whether the tool was actually started.
    pub executed: bool,
    /// The exit code of the tool's last attempt.
    pub exit_code: Option<i32>,
    /// Why the tool could not run or did not finish cleanly.
    pub error: Option<String>,
}

/// The result of one suite: one attempt, or the merge of its attempts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteResult {
    /// The suite's name (`unit`, `behave`, `e2e`, …).
    pub suite: String,
    /// The runner that ran it (`pytest`, …).
    pub runner: String,
    /// How the suite ended.
    pub outcome: SuiteOutcome,
    /// Test cases, in the order the tool reported them.
    pub cases: Vec<TestCase>,
    /// Passed cases.
    pub passed: usize,
    /// Failed cases.
    pub failed: usize,
    /// Errored cases; at least one when the suite itself errored.
    pub errors: usize,
    /// Skipped cases.
    pub skipped: usize,
    /// Cases that passed only after a retry.
    pub flaky: usize,
    /// Wall time of the tool (all attempts), not the sum of case times.
    pub duration: Duration,
    /// Sum of the cases' own times, as the tool measured them.
    pub cases_duration: f64,
    /// Files worth keeping (JUnit, logs, screenshots…), as absolute paths.
    pub artifacts: Vec<PathBuf>,
    /// Exit code of the tool's last attempt.
    pub return_code: Option<i32>,
    /// True when the suite counts as passed.
    pub success: bool,
    /// The suite-level error: why the tool's word cannot be taken as is.
    pub error: Option<String>,
    /// The last lines of the tool's output, when it crashed or errored.
    pub log_tail: Option<String>,
    /// Processes left behind by the tool and killed.
    pub leaked: Vec<LeakedProcess>,
    /// How many attempts ran.
    pub attempts: u32,
    /// The tool, for the manifest's `tools` map.
    pub tool: ToolRun,
    /// Why the suite was skipped, when it was.
    pub skip_reason: Option<String>,
    /// The suite's output directory of its first attempt.
    pub output_dir: Option<PathBuf>,
}

impl SuiteResult {
    /// An empty result for `suite` run by `runner`, to be filled in.
    pub fn new(suite: impl Into<String>, runner: impl Into<String>) -> Self {
        SuiteResult {
            suite: suite.into(),
            runner: runner.into(),
            outcome: SuiteOutcome::Passed,
            cases: Vec::new(),
            passed: 0,
            failed: 0,
            errors: 0,
            skipped: 0,
            flaky: 0,
            duration: Duration::ZERO,
            cases_duration: 0.0,
            artifacts: Vec::new(),
            return_code: None,
            success: true,
            error: None,
            log_tail: None,
            leaked: Vec::new(),
            attempts: 1,
            tool: ToolRun::default(),
            skip_reason: None,
            output_dir: None,
        }
    }

    /// A suite that did not run, with the reason (e.g. its path is missing).
    pub fn skipped(suite: impl Into<String>, runner: impl Into<String>, reason: impl Into<String>) -> Self {
        let mut result = SuiteResult::new(suite, runner);
        result.outcome = SuiteOutcome::Skipped;
        result.skip_reason = Some(reason.into());
        result.attempts = 0;
        result
    }

    /// A suite whose runner could not produce a result (an error or a panic):
    /// `errors = 1` with the message.
    pub fn errored(suite: impl Into<String>, runner: impl Into<String>, message: impl Into<String>) -> Self {
        let mut result = SuiteResult::new(suite, runner);
        result.set_error(SuiteOutcome::Errored, message);
        result
    }

    /// Marks the suite as ended by `outcome` (an error, a timeout, an
    /// interrupt) with `message`, and recomputes its counts.
    pub fn set_error(&mut self, outcome: SuiteOutcome, message: impl Into<String>) {
        let message = message.into();
        self.outcome = self.outcome.max(outcome);
        self.error = Some(match self.error.take() {
            Some(previous) if previous != message => format!("{previous}; {message}"),
            _ => message,
        });
        self.recount();
    }

    /// Whether the suite has an error of its own (a timeout, a crash, an
    /// unreadable report) that no errored case carries. Such an error counts
    /// once in `errors`, though it is no test; when the tool reported it as
    /// an errored case too (pytest's collection errors), the case is it.
    pub fn has_error_without_case(&self) -> bool {
        self.error.is_some() && !self.cases.iter().any(|case| case.status == TestStatus::Error)
    }

    /// Recomputes counts, `success` and (unless already worse) the outcome
    /// from the cases and the suite-level error.
    pub fn recount(&mut self) {
        let (mut passed, mut failed, mut errors, mut skipped, mut flaky) = (0, 0, 0, 0, 0);
        let mut cases_duration = 0.0;
        for case in &self.cases {
            match case.status {
                TestStatus::Passed => passed += 1,
                TestStatus::Failed => failed += 1,
                TestStatus::Error => errors += 1,
                TestStatus::Skipped => skipped += 1,
            }
            if case.flaky {
                flaky += 1;
            }
            cases_duration += case.duration;
        }
        if self.has_error_without_case() {
            errors += 1;
        }
        self.passed = passed;
        self.failed = failed;
        self.errors = errors;
        self.skipped = skipped;
        self.flaky = flaky;
        self.cases_duration = cases_duration;
        if self.outcome <= SuiteOutcome::Failed && self.outcome != SuiteOutcome::Skipped {
            self.outcome = if failed + errors > 0 {
                SuiteOutcome::Failed
            } else {
                SuiteOutcome::Passed
            };
        }
        self.success = self.outcome.is_success();
    }

    /// Total number of cases.
    pub fn total(&self) -> usize {
        self.cases.len()
    }
}
