//! Human output: what the run is doing and what it amounted to.
//!
//! The reporter is fed events from the coordinating thread only, so its
//! output is linear; tool output never reaches the terminal unless asked for
//! (`--output immediate`), and then one whole line at a time.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use orchestrator::events::Event;
use orchestrator::summary::RunSummary;
use runner_api::{SuiteOutcome, SuiteResult};

/// Writes human-readable progress and results.
pub struct HumanReporter<W: Write> {
    out: W,
    name_width: usize,
}

impl<W: Write> HumanReporter<W> {
    /// A reporter writing to `out`.
    pub fn new(out: W) -> Self {
        HumanReporter { out, name_width: 8 }
    }

    /// Reports one event.
    pub fn event(&mut self, event: &Event) -> std::io::Result<()> {
        match event {
            Event::RunStarted {
                parallel,
                workers,
                suites,
                ..
            } => {
                self.name_width = suites.iter().map(String::len).max().unwrap_or(8).max(8);
                let mode = if *parallel {
                    format!("in parallel ({workers} worker{})", plural(*workers))
                } else {
                    "sequentially".to_string()
                };
                writeln!(
                    self.out,
                    "qaagent: running {} suite{} {mode}",
                    suites.len(),
                    plural(suites.len())
                )?;
            }
            Event::AttemptStarted {
                suite,
                attempt,
                selected,
                ..
            } if *attempt > 1 => {
                let what = match selected {
                    Some(n) => format!("{n} failed test{}", plural(*n)),
                    None => "the whole suite".to_string(),
                };
                writeln!(
                    self.out,
                    "   RETRY {suite:<width$} attempt {attempt}: {what}",
                    width = self.name_width
                )?;
            }
            Event::AttemptStarted { .. } | Event::AttemptFinished { .. } => {}
            Event::SuiteFinished { result, .. } => self.suite_line(result)?,
            Event::Output(line) => writeln!(self.out, "[{}] {}", line.suite, line.line)?,
            Event::RunFinished(_) => {}
        }
        self.out.flush()
    }

    fn suite_line(&mut self, result: &SuiteResult) -> std::io::Result<()> {
        let width = self.name_width;
        let label = result.outcome.label();
        if result.outcome == SuiteOutcome::Skipped {
            let reason = result.skip_reason.as_deref().unwrap_or("skipped");
            return writeln!(self.out, "{label:>8} {:<width$} {reason}", result.suite);
        }
        let mut line = format!(
            "{label:>8} {:<width$} {} passed, {} failed, {} error{}, {} skipped",
            result.suite,
            result.passed,
            result.failed,
            result.errors,
            plural(result.errors),
            result.skipped,
        );
        if result.flaky > 0 {
            line.push_str(&format!(", {} flaky", result.flaky));
        }
        line.push_str(&format!("  [{}]", seconds(result.duration)));
        writeln!(self.out, "{line}")?;
        if let Some(error) = &result.error {
            writeln!(self.out, "{:>8} {:<width$} {error}", "", "")?;
        }
        for leaked in &result.leaked {
            writeln!(
                self.out,
                "{:>8} {:<width$} warning: left process {} running (killed): {}",
                "", "", leaked.pid, leaked.command
            )?;
        }
        Ok(())
    }

    /// Reports the end of a run: failures, totals and where the evidence is.
    pub fn finish(
        &mut self,
        results: &[SuiteResult],
        summary: &RunSummary,
        diagnostics: &[String],
        run_dir: Option<&Path>,
    ) -> std::io::Result<()> {
        let failures: Vec<(&str, &runner_api::TestCase)> = results
            .iter()
            .flat_map(|result| {
                result
                    .cases
                    .iter()
                    .filter(|c| c.status.is_failure())
                    .map(move |c| (result.suite.as_str(), c))
            })
            .collect();
        if !failures.is_empty() {
            writeln!(self.out)?;
            writeln!(self.out, "Failures:")?;
            for (suite, case) in failures {
                let first_line = case.message.as_deref().and_then(|m| m.lines().next()).unwrap_or("");
                writeln!(
                    self.out,
                    "  {} {suite} {} — {first_line}",
                    case.status.as_str().to_uppercase(),
                    case.display_name()
                )?;
            }
        }
        for result in results.iter().filter(|r| r.error.is_some()) {
            if let Some(tail) = &result.log_tail {
                writeln!(self.out)?;
                writeln!(self.out, "Last output of {}:", result.suite)?;
                for line in tail.lines() {
                    writeln!(self.out, "  {line}")?;
                }
            }
        }
        for result in results {
            for case in result.cases.iter().filter(|c| c.flaky) {
                writeln!(
                    self.out,
                    "   FLAKY {} {} — passed on attempt {} of {}",
                    result.suite,
                    case.display_name(),
                    case.attempts,
                    result.attempts
                )?;
            }
        }
        if let Some(first) = diagnostics.first() {
            writeln!(self.out)?;
            writeln!(self.out, "Diagnostics: {first}")?;
        }
        writeln!(self.out)?;
        let status = if summary.interrupted {
            "INTERRUPTED"
        } else if summary.success() {
            "PASSED"
        } else {
            "FAILED"
        };
        let mut totals = format!(
            "{status}: {} suite{}, {} tests: {} passed, {} failed, {} error{}, {} skipped",
            summary.suites,
            plural(summary.suites),
            summary.tests,
            summary.passed,
            summary.failed,
            summary.errors,
            plural(summary.errors),
            summary.skipped
        );
        if summary.flaky > 0 {
            totals.push_str(&format!(", {} flaky", summary.flaky));
        }
        totals.push_str(&format!(
            " in {} (suites took {})",
            seconds(summary.wall),
            seconds(summary.suites_duration)
        ));
        writeln!(self.out, "{totals}")?;
        if let Some(run_dir) = run_dir {
            writeln!(self.out, "evidence: {}", run_dir.display())?;
        }
        self.out.flush()
    }

    /// A warning line.
    pub fn warn(&mut self, message: &str) -> std::io::Result<()> {
        writeln!(self.out, "warning: {message}")
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn seconds(duration: Duration) -> String {
    format!("{:.2}s", duration.as_secs_f64())
}
