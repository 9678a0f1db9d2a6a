//! The live display in a terminal: a line per running suite (name, attempt,
//! tests done of the attempt's total and failures so far, when its tool
//! streams them, the time left by the suite's last run, elapsed) that turns
//! into its result line when the suite ends.

use std::collections::HashMap;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use orchestrator::events::Event;
use orchestrator::run::RunReport;
use runner_api::TestEvent;

use super::plain::{retry_what, run_started_line};
use super::style::Style;
use super::summary::{final_report, name_width, suite_lines};
use super::untrusted::output_line;
use super::Reporter;

/// Which terminal stream the display uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output (human format).
    Stdout,
    /// Standard error (when stdout carries JSON).
    Stderr,
}

/// Spinners for running suites, result lines printed above them.
pub struct LiveReporter {
    multi: MultiProgress,
    bars: HashMap<usize, ProgressBar>,
    /// What the running suites' live streams said of their current attempt.
    progress: HashMap<usize, Progress>,
    /// How long each suite took in the project's last run, by plan index.
    expected: Vec<Option<Duration>>,
    stream: Stream,
    style: Style,
    name_width: usize,
}

impl LiveReporter {
    /// A live display on `stream`.
    pub fn new(stream: Stream, style: Style) -> Self {
        let target = match stream {
            Stream::Stdout => ProgressDrawTarget::stdout(),
            Stream::Stderr => ProgressDrawTarget::stderr(),
        };
        LiveReporter {
            multi: MultiProgress::with_draw_target(target),
            bars: HashMap::new(),
            progress: HashMap::new(),
            expected: Vec::new(),
            stream,
            style,
            name_width: 8,
        }
    }

    fn println(&self, line: &str) -> io::Result<()> {
        self.multi.println(line)
    }

    fn spinner(&self, suite: &str, detail: &str) -> ProgressBar {
        let template = if self.style.enabled() {
            "{spinner:.cyan} {prefix:.bold} {msg} {elapsed:.dim}"
        } else {
            "{spinner} {prefix} {msg} {elapsed}"
        };
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner()));
        bar.set_prefix(format!("{:>7} {suite:<width$}", "RUNNING", width = self.name_width));
        bar.set_message(detail.to_string());
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    }
}

impl Reporter for LiveReporter {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::RunStarted {
                parallel,
                workers,
                suites,
                expected,
                ..
            } => {
                self.name_width = name_width(suites);
                self.expected.clone_from(expected);
                self.println(&run_started_line(*parallel, *workers, suites.len()))?;
            }
            Event::AttemptStarted {
                index,
                suite,
                attempt,
                selected,
            } => {
                let detail = if *attempt == 1 {
                    "attempt 1".to_string()
                } else {
                    format!("attempt {attempt}: {}", retry_what(*selected))
                };
                let progress = Progress {
                    attempt: detail,
                    total: *selected,
                    // A retry runs some of the tests: the last run's time says nothing of it.
                    expected: (*attempt == 1)
                        .then(|| self.expected.get(*index).copied().flatten())
                        .flatten()
                        .map(|expected| (Instant::now(), expected)),
                    ..Progress::default()
                };
                let detail = progress.to_string();
                self.progress.insert(*index, progress);
                match self.bars.get(index) {
                    Some(bar) => {
                        bar.set_message(detail);
                        bar.reset_elapsed();
                    }
                    None => {
                        let bar = self.spinner(suite, &detail);
                        self.bars.insert(*index, bar);
                    }
                }
            }
            Event::Test { index, event, .. } => {
                if let (Some(progress), Some(bar)) = (self.progress.get_mut(index), self.bars.get(index)) {
                    progress.add(event);
                    bar.set_message(progress.to_string());
                }
            }
            Event::SuiteFinished { index, result } => {
                self.progress.remove(index);
                if let Some(bar) = self.bars.remove(index) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                for line in suite_lines(self.style, self.name_width, result) {
                    self.println(&line)?;
                }
            }
            Event::Output(line) => self.println(&format!(
                "[{}] {}",
                line.suite,
                output_line(&line.line, self.style.enabled())
            ))?,
            Event::AttemptFinished { .. } => {}
            Event::RunFinished(report) => self.run_finished(report)?,
        }
        Ok(())
    }
}

impl LiveReporter {
    fn run_finished(&mut self, report: &RunReport) -> io::Result<()> {
        for (_, bar) in self.bars.drain() {
            bar.finish_and_clear();
        }
        let _ = self.multi.clear();
        let text = final_report(self.style, report);
        match self.stream {
            Stream::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(text.as_bytes())?;
                out.flush()
            }
            Stream::Stderr => io::stderr().lock().write_all(text.as_bytes()),
        }
    }
}

/// A running attempt's tests so far, from its tool's live stream.
#[derive(Debug, Default)]
struct Progress {
    /// `attempt 1`, `attempt 2: 3 failed tests`.
    attempt: String,
    /// How many tests the attempt runs, once known.
    total: Option<usize>,
    done: usize,
    failed: usize,
    /// When the attempt started, and how long the suite took last time.
    expected: Option<(Instant, Duration)>,
}

impl Progress {
    fn add(&mut self, event: &TestEvent) {
        match event {
            // The attempt's selection, when it named its tests, is the whole:
            // each share of a split suite plans only its own part.
            TestEvent::Planned(total) => {
                self.total.get_or_insert(*total);
            }
            TestEvent::Started(_) => {}
            TestEvent::Finished(case) => {
                self.done += 1;
                self.failed += usize::from(case.status.is_failure());
            }
        }
    }
}

impl std::fmt::Display for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.attempt)?;
        match self.total {
            Some(total) => write!(f, " {}/{total}", self.done)?,
            None if self.done > 0 => write!(f, " {} done", self.done)?,
            None => {}
        }
        if self.failed > 0 {
            write!(f, ", {} failed", self.failed)?;
        }
        if let Some((started, expected)) = self.expected {
            match expected.checked_sub(started.elapsed()) {
                Some(left) if left >= Duration::from_secs(1) => write!(f, ", ~{}s left", left.as_secs())?,
                Some(_) => {}
                None => write!(f, ", past the last run's {}s", expected.as_secs())?,
            }
        }
        Ok(())
    }
}
