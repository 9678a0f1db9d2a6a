//! What people see and what machines read.
//!
//! Reporters are fed [`Event`]s from the coordinating thread only, so output
//! is linear: tool output never reaches the terminal unless asked for
//! (`--output immediate`), and then one whole line at a time, prefixed with
//! its suite. Human output is a live display in a terminal ([`live`]) or one
//! plain line per event elsewhere ([`plain`]); `--format json` writes
//! newline-delimited events ([`json`]) and moves human output to stderr.

pub mod json;
pub mod live;
pub mod plain;
pub mod style;
pub mod summary;

use std::io;
use std::path::Path;

use orchestrator::events::Event;
use orchestrator::summary::RunSummary;
use runner_api::SuiteResult;

/// Everything the end of a run reports.
pub struct FinalReport<'a> {
    /// Suite results, in suite_order.
    pub results: &'a [SuiteResult],
    /// Totals.
    pub summary: &'a RunSummary,
    /// The diagnostics summary lines (first line: the overview).
    pub diagnostics: &'a [String],
    /// The evidence run directory.
    pub run_dir: Option<&'a Path>,
    /// The exit code qaagent is about to return.
    pub exit_code: u8,
    /// Warnings to show last (e.g. "no tests ran").
    pub warnings: &'a [String],
}

/// Receives a run's events and its final report.
pub trait Reporter {
    /// One event, as it happens.
    fn event(&mut self, event: &Event) -> io::Result<()>;
    /// The end of the run.
    fn finish(&mut self, report: &FinalReport<'_>) -> io::Result<()>;
}

/// Several reporters fed the same stream (JSON on stdout, human on stderr).
pub struct Tee(pub Vec<Box<dyn Reporter>>);

impl Reporter for Tee {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        self.0.iter_mut().try_for_each(|reporter| reporter.event(event))
    }

    fn finish(&mut self, report: &FinalReport<'_>) -> io::Result<()> {
        self.0.iter_mut().try_for_each(|reporter| reporter.finish(report))
    }
}
