//! One plain line per event: off a terminal, in CI, or with `--no-progress`.

use std::io::{self, Write};

use orchestrator::events::Event;

use super::style::Style;
use super::summary::{final_report, name_width, plural, suite_lines, LABEL_WIDTH};
use super::untrusted::output_line;
use super::Reporter;

/// Writes a line per event to `out`.
pub struct PlainReporter<W: Write> {
    out: W,
    style: Style,
    name_width: usize,
}

impl<W: Write> PlainReporter<W> {
    /// A reporter writing to `out`.
    pub fn new(out: W, style: Style) -> Self {
        PlainReporter {
            out,
            style,
            name_width: 8,
        }
    }
}

impl<W: Write> Reporter for PlainReporter<W> {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::RunStarted {
                parallel,
                workers,
                suites,
                ..
            } => {
                self.name_width = name_width(suites);
                writeln!(self.out, "{}", run_started_line(*parallel, *workers, suites.len()))?;
            }
            Event::AttemptStarted {
                suite,
                attempt,
                selected,
                ..
            } => {
                let width = self.name_width;
                if *attempt == 1 {
                    writeln!(self.out, "{:>LABEL_WIDTH$} {suite:<width$}", "START")?;
                } else {
                    writeln!(
                        self.out,
                        "{} {suite:<width$} attempt {attempt}: {}",
                        self.style.yellow(&format!("{:>LABEL_WIDTH$}", "RETRY")),
                        retry_what(*selected)
                    )?;
                }
            }
            Event::AttemptFinished { .. } | Event::Test { .. } => {}
            Event::RunFinished(report) => self.out.write_all(final_report(self.style, report).as_bytes())?,
            Event::SuiteFinished { result, .. } => {
                for line in suite_lines(self.style, self.name_width, result) {
                    writeln!(self.out, "{line}")?;
                }
            }
            Event::Output(line) => writeln!(
                self.out,
                "[{}] {}",
                line.suite,
                output_line(&line.line, self.style.enabled())
            )?,
        }
        self.out.flush()
    }
}

/// "qaagent: running 3 suites in parallel (2 workers)".
pub fn run_started_line(parallel: bool, workers: usize, suites: usize) -> String {
    let mode = if parallel {
        format!("in parallel ({})", plural(workers, "worker"))
    } else {
        "sequentially".to_string()
    };
    format!("qaagent: running {} {mode}", plural(suites, "suite"))
}

/// What a retry runs: "3 failed tests" or "the whole suite".
pub fn retry_what(selected: Option<usize>) -> String {
    match selected {
        Some(n) => format!("{} that failed", plural(n, "test")),
        None => "the whole suite".to_string(),
    }
}
