//! What one suite produced: its cases, counts, artifacts and overall outcome.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::case::{TestCase, TestStatus};

/// How a suite ended, from best to worst. Ordered so that combining the
/// outcomes of several attempts or suites is `max`. Not `#[non_exhaustive]`:
/// whoever maps an outcome to an exit code or a stored status must handle
/// every one, and a new one should break their build.
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
///
/// Counts and the outcome are not stored but read from the cases and the
/// suite's own error, so they cannot disagree. Built by
/// [`conclude`](crate::conclude::conclude) from what a tool did, or from
/// [`new`](Self::new), [`skipped`](Self::skipped) or
/// [`errored`](Self::errored), then filled in; a suite-level error is set
/// with [`set_error`](Self::set_error).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SuiteResult {
    /// The suite's name (`unit`, `behave`, `e2e`, …).
    pub suite: String,
    /// The runner that ran it (`pytest`, …).
    pub runner: String,
    /// Test cases, in the order the tool reported them.
    pub cases: Vec<TestCase>,
    /// Wall time of the tool (all attempts), not the sum of case times.
    pub duration: Duration,
    /// Files worth keeping (JUnit, logs, screenshots…), as absolute paths.
    pub artifacts: Vec<PathBuf>,
    /// Exit code of the tool's last attempt.
    pub return_code: Option<i32>,
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
    /// Things worth a look that do not change the result (the tool's report
    /// and its live stream disagreeing), for the run's summary.
    pub warnings: Vec<String>,
    /// For a share that chose its own tests ([`crate::context::Share`]),
    /// what it said it kept; `None` when it did not say.
    pub share_tests: Option<crate::context::ShareTests>,
    /// How the suite itself ended, when that outweighs its cases: skipped,
    /// errored, timed out, interrupted. `Passed` otherwise.
    ending: SuiteOutcome,
}

impl SuiteResult {
    /// An empty, passed result for `suite` run by `runner`, to be filled in.
    pub fn new(suite: impl Into<String>, runner: impl Into<String>) -> Self {
        SuiteResult {
            suite: suite.into(),
            runner: runner.into(),
            cases: Vec::new(),
            duration: Duration::ZERO,
            artifacts: Vec::new(),
            return_code: None,
            error: None,
            log_tail: None,
            leaked: Vec::new(),
            attempts: 1,
            tool: ToolRun::default(),
            skip_reason: None,
            output_dir: None,
            warnings: Vec::new(),
            share_tests: None,
            ending: SuiteOutcome::Passed,
        }
    }

    /// A suite that did not run, with the reason (e.g. its path is missing).
    pub fn skipped(suite: impl Into<String>, runner: impl Into<String>, reason: impl Into<String>) -> Self {
        let mut result = SuiteResult::new(suite, runner);
        result.ending = SuiteOutcome::Skipped;
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
    /// interrupt) with `message`; an earlier, worse ending stays, and an
    /// earlier, different message is kept before this one.
    pub fn set_error(&mut self, outcome: SuiteOutcome, message: impl Into<String>) {
        let message = message.into();
        self.ending = self.ending.max(outcome);
        self.error = Some(match self.error.take() {
            Some(previous) if previous != message => format!("{previous}; {message}"),
            _ => message,
        });
    }

    /// Forgets the suite's own error and ending, for a later attempt's to
    /// replace them.
    pub fn clear_error(&mut self) {
        self.error = None;
        self.ending = SuiteOutcome::Passed;
    }

    /// How the suite ended: its own ending when that is skipped or worse
    /// than a failure, else failed when a case failed or errored (or the
    /// suite has an error of its own), else passed.
    pub fn outcome(&self) -> SuiteOutcome {
        if self.ending == SuiteOutcome::Skipped || self.ending > SuiteOutcome::Failed {
            self.ending
        } else if self.failed() + self.errors() > 0 {
            SuiteOutcome::Failed
        } else {
            SuiteOutcome::Passed
        }
    }

    /// Whether the suite has an error of its own (a timeout, a crash, an
    /// unreadable report) that no errored case carries. Such an error counts
    /// once in [`errors`](Self::errors), though it is no test; when the tool
    /// reported it as an errored case too (pytest's collection errors), the
    /// case is it.
    pub fn has_error_without_case(&self) -> bool {
        self.error.is_some() && !self.cases.iter().any(|case| case.status == TestStatus::Error)
    }

    fn count(&self, status: TestStatus) -> usize {
        self.cases.iter().filter(|case| case.status == status).count()
    }

    /// Passed cases (flaky ones included).
    pub fn passed(&self) -> usize {
        self.count(TestStatus::Passed)
    }

    /// Failed cases.
    pub fn failed(&self) -> usize {
        self.count(TestStatus::Failed)
    }

    /// Errored cases, plus one for an error of the suite's own that no case
    /// carries ([`has_error_without_case`](Self::has_error_without_case)).
    pub fn errors(&self) -> usize {
        self.count(TestStatus::Error) + usize::from(self.has_error_without_case())
    }

    /// Skipped cases.
    pub fn skipped_cases(&self) -> usize {
        self.count(TestStatus::Skipped)
    }

    /// Cases that passed only after a retry.
    pub fn flaky(&self) -> usize {
        self.cases.iter().filter(|case| case.flaky).count()
    }

    /// Total number of cases.
    pub fn total(&self) -> usize {
        self.cases.len()
    }
}
