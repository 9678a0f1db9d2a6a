//! The typed events a run emits, in the order the coordinating thread sees them.
//!
//! Suite workers send these on a channel; the coordinator forwards each to the
//! reporter (and the evidence writer) from one thread, so output is linear.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use runner_api::{OutputLine, SuiteOutcome, SuiteResult, TestEvent};

use crate::run::RunReport;

/// Something that happened during a run.
#[derive(Debug, Clone)]
pub enum Event {
    /// The run is about to start its suites.
    RunStarted {
        /// The evidence run id.
        run_id: String,
        /// The evidence run directory.
        run_dir: PathBuf,
        /// True when suites run side by side.
        parallel: bool,
        /// How many suites may run at once.
        workers: usize,
        /// The planned suites, in `suite_order`.
        suites: Vec<String>,
        /// How long each of `suites` took in this project's latest finished
        /// run, where known: what a live display counts down from.
        expected: Vec<Option<Duration>>,
    },
    /// A suite's attempt started.
    AttemptStarted {
        /// The suite's position in the plan.
        index: usize,
        /// The suite's name.
        suite: String,
        /// 1 for the first attempt.
        attempt: u32,
        /// How many tests the attempt selects; `None` for the whole suite.
        selected: Option<usize>,
    },
    /// A suite's attempt finished (before merging with earlier attempts).
    AttemptFinished {
        /// The suite's position in the plan.
        index: usize,
        /// The suite's name.
        suite: String,
        /// Which attempt.
        attempt: u32,
        /// How the attempt ended.
        outcome: SuiteOutcome,
        /// Cases that passed in this attempt.
        passed: usize,
        /// Cases that failed in this attempt.
        failed: usize,
        /// Cases that errored in this attempt (plus one for a suite error).
        errors: usize,
        /// Cases skipped in this attempt.
        skipped: usize,
        /// The attempt's wall time.
        duration: Duration,
        /// The attempt's suite-level error.
        error: Option<String>,
    },
    /// A test of a suite's attempt started or finished, or the attempt said
    /// how many tests it will run: what the tool's live stream said, as it
    /// said it (see the `streaming` module). A finished test's case is named as
    /// its report's row will name it; the report, once written, has the
    /// last word in [`Event::SuiteFinished`].
    Test {
        /// The suite's position in the plan.
        index: usize,
        /// The suite's name.
        suite: String,
        /// Which attempt.
        attempt: u32,
        /// What happened.
        event: TestEvent,
    },
    /// A suite is done (all its attempts merged), or was skipped.
    SuiteFinished {
        /// The suite's position in the plan.
        index: usize,
        /// Its final result, shared (not copied) with whoever keeps it: a
        /// suite of 100,000 cases is tens of megabytes.
        result: Arc<SuiteResult>,
    },
    /// A line of a tool's output (only with live output on).
    Output(OutputLine),
    /// The run is over: its results, totals, diagnostics and verdict,
    /// evidence finalized. The last event of a run.
    RunFinished(Arc<RunReport>),
}
