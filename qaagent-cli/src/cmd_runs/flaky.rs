//! `qaagent runs flaky`: the flaky history of the project's last runs (see
//! [`orchestrator::report::flaky_history`]), worst first; `--json` for
//! programs, `--suggest-quarantine` for `[[quarantine]]` entries to paste.

use std::io::Write;
use std::path::PathBuf;

use orchestrator::report::flaky_history::FlakyHistory;

use super::{io_error, runs_in_scope, FlakyArgs};
use crate::error::CliError;
use crate::exit;
use crate::reporter::untrusted::printable;

/// How many runs are read without `--last`.
const DEFAULT_RUNS: usize = 20;

/// How many entries `--suggest-quarantine` suggests at most.
const SUGGESTIONS: usize = 10;

/// Runs `qaagent runs flaky` over the runs of `project` (all runs with `None`).
pub(super) fn flaky(args: &FlakyArgs, project: &Option<PathBuf>) -> Result<u8, CliError> {
    let (root, listed, _) = runs_in_scope(&args.store, project)?;
    let last = args.last.unwrap_or(DEFAULT_RUNS);
    if last == 0 {
        return Err(CliError::Usage("--last must be 1 or more".into()));
    }
    let history = FlakyHistory::read(&listed, last).map_err(CliError::Runs)?;
    for run in &history.unreadable_runs {
        crate::reporter::to_stderr(&format!("warning: {run}"));
    }
    if history.unreadable > 0 {
        crate::reporter::to_stderr(&format!(
            "warning: {} record(s) could not be read and were left out",
            history.unreadable
        ));
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &history.tests).map_err(|err| io_error(err.into()))?;
        writeln!(out).map_err(io_error)?;
        return Ok(exit::SUCCESS);
    }
    if args.suggest_quarantine {
        let entries = history.quarantine_suggestions(SUGGESTIONS);
        if entries.is_empty() {
            crate::reporter::to_stderr("no flaky test in these runs: nothing to quarantine");
        }
        write!(out, "{entries}").map_err(io_error)?;
        return Ok(exit::SUCCESS);
    }
    if history.runs.is_empty() {
        writeln!(out, "no finished runs in {}", root.display()).map_err(io_error)?;
        return Ok(exit::SUCCESS);
    }
    writeln!(
        out,
        "{} finished run(s), {} to {}",
        history.runs.len(),
        history.runs.last().map_or("", String::as_str),
        history.runs[0]
    )
    .map_err(io_error)?;
    if history.tests.is_empty() {
        writeln!(out, "no test failed or was flaky in them").map_err(io_error)?;
        return Ok(exit::SUCCESS);
    }
    writeln!(
        out,
        "{:>11} {:>6} {:>6} {:>6} {:>5}  {:<19} TEST",
        "FLAKE RATE", "RUNS", "PASSED", "FAILED", "FLAKY", "LAST FAILED"
    )
    .map_err(io_error)?;
    for test in &history.tests {
        let rate = format!("{:.0}% {}/{}", test.flake_rate * 100.0, rate_numerator(test), test.runs);
        let label = match &test.selector {
            Some(selector) if selector.contains(test.test.as_str()) => selector.clone(),
            Some(selector) => format!("{selector} ({})", test.test),
            None => format!("{}::{}", test.classname, test.test),
        };
        writeln!(
            out,
            "{rate:>11} {:>6} {:>6} {:>6} {:>5}  {:<19} {} {}",
            test.runs,
            test.passed,
            test.failed,
            test.flaky,
            test.last_failed.as_deref().unwrap_or("-"),
            test.suite,
            printable(&label)
        )
        .map_err(io_error)?;
    }
    Ok(exit::SUCCESS)
}

/// The runs the flake rate counts: those it failed or was flaky in, when it is flaky at all.
fn rate_numerator(test: &orchestrator::report::flaky_history::TestHistory) -> usize {
    if test.flake_rate > 0.0 {
        test.failed + test.flaky
    } else {
        0
    }
}
