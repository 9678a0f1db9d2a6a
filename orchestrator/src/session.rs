//! A run's evidence: the coordinating thread forwards suite results to the
//! evidence writer thread as they arrive, and finalizes the run at the end.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use evidence::{AttemptSpan, EvidenceError, EvidenceMessage, EvidenceWriter, Run, RunInfo, RunStatus};
use runner_api::{SuiteResult, TestCase, TestEvent};

use crate::config::Config;
use crate::diagnostics::{summary as diagnostics_summary, CategorySpec, Diagnoser, DiagnosticsError};
use crate::events::Event;
use crate::evidence_map::{suite_outcome, suite_record};
use crate::out_dir::OutRoot;
use crate::plan::Plan;
use crate::summary::RunSummary;

/// Why a session could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The evidence store failed.
    #[error(transparent)]
    Evidence(#[from] EvidenceError),
    /// The diagnostics categories are invalid.
    #[error(transparent)]
    Diagnostics(#[from] DiagnosticsError),
}

/// The evidence side of one run: created by [`crate::run::Run`], which owns it.
pub(crate) struct Session {
    writer: EvidenceWriter,
    /// The configured custom categories.
    categories: Vec<CategorySpec>,
    /// Built when first needed: compiling every pattern costs a few
    /// milliseconds, a large share of a run with nothing to diagnose. Custom
    /// categories are compiled up front all the same, so that a bad pattern
    /// is an error before any suite runs.
    diagnoser: Option<Diagnoser>,
    out_dir: PathBuf,
    /// `out_dir` as the run started with it: one a tool swapped makes the run `incomplete`.
    out_root: OutRoot,
    write_error: Option<EvidenceError>,
    /// When each running attempt started, by suite index and attempt.
    attempt_started: HashMap<(usize, u32), SystemTime>,
    /// Each suite's finished attempts, by suite index, for the timeline.
    attempt_spans: HashMap<usize, Vec<AttemptSpan>>,
    /// Each planned suite's runner, for the records of its streamed tests.
    runners: Vec<String>,
}

impl Session {
    /// Creates an evidence run under `runs_dir` (else `$QAAGENT_RUNS_DIR`,
    /// else `~/.qaagent/runs`) for `plan`, and starts its writer thread.
    /// Suite output goes to `out` when given, else straight into the run's
    /// `artifacts/` (so nothing needs copying).
    pub(crate) fn start(
        config: &Config,
        plan: &Plan,
        runs_dir: Option<PathBuf>,
        out: Option<PathBuf>,
    ) -> Result<Session, SessionError> {
        let (categories, diagnoser) = diagnostics_setup(config)?;
        let root = evidence::runs_root(runs_dir)?;
        let run = Run::create(
            &root,
            RunInfo {
                project_name: config.project.name.clone(),
                project_path: config.project_dir.clone(),
                suites: plan.names(),
                qaagent_version: env!("CARGO_PKG_VERSION").to_string(),
                partition: plan.partition.clone(),
            },
        )?;
        let writer = run.start_writer()?;
        let out_dir = out.unwrap_or_else(|| writer.dir().join("artifacts"));
        Ok(Session {
            writer,
            categories,
            diagnoser,
            out_root: OutRoot::open(&out_dir),
            out_dir,
            write_error: None,
            attempt_started: HashMap::new(),
            attempt_spans: HashMap::new(),
            runners: plan
                .suites
                .iter()
                .map(|suite| suite.runner.name().to_string())
                .collect(),
        })
    }

    /// The run id.
    pub(crate) fn run_id(&self) -> &str {
        self.writer.run_id()
    }

    /// The run directory.
    pub(crate) fn run_dir(&self) -> &Path {
        self.writer.dir()
    }

    /// Where suites write their output (`<out>/<suite>/`).
    pub(crate) fn out_dir(&self) -> &Path {
        &self.out_dir
    }

    /// Forwards what evidence needs of `event` to the writer thread (a
    /// finished suite's result is shared with it, not copied). Attempts are
    /// timed here, as their events arrive, so that no runner need know.
    /// A test its tool streamed as finished in a suite's first attempt is
    /// recorded at once (a retry's tests are the suite's final word).
    pub(crate) fn record(&mut self, event: &Event) {
        match event {
            Event::AttemptStarted { index, attempt, .. } => {
                self.attempt_started.insert((*index, *attempt), SystemTime::now());
            }
            Event::AttemptFinished {
                index,
                attempt,
                outcome,
                ..
            } => {
                if let Some(started) = self.attempt_started.remove(&(*index, *attempt)) {
                    let span = AttemptSpan::new(*attempt, started, SystemTime::now(), suite_outcome(*outcome));
                    self.attempt_spans.entry(*index).or_default().push(span);
                }
            }
            Event::Test {
                index,
                suite,
                attempt: 1,
                event: TestEvent::Finished(case),
            } => {
                let runner = self.runners.get(*index).map_or("", String::as_str);
                let mut result = SuiteResult::new(suite, runner);
                result.cases.push(TestCase::clone(case));
                self.send(EvidenceMessage::TestsStreamed {
                    index: *index,
                    result: Box::new(suite_record(result)),
                });
            }
            Event::SuiteFinished { index, result } => {
                let mut record = suite_record(Arc::clone(result));
                record.attempt_spans = self.attempt_spans.remove(index).unwrap_or_default();
                self.send(EvidenceMessage::SuiteFinished {
                    index: *index,
                    result: Box::new(record),
                });
            }
            _ => {}
        }
    }

    fn send(&mut self, message: EvidenceMessage) {
        if let Err(err) = self.writer.send(message) {
            log::error!("evidence: {err}");
            self.write_error.get_or_insert(err);
        }
    }

    /// Finalizes the run with `status`, the run's verdict (a run in which no
    /// test ran is `failed` as run-all says, not `passed` as its results
    /// alone would read), and waits until everything is on disk. Once it
    /// returns, the writer holds no share of any result any more.
    pub(crate) fn finish<R: Borrow<SuiteResult>>(
        mut self,
        results: &[R],
        summary: &RunSummary,
        status: RunStatus,
    ) -> Result<Vec<String>, SessionError> {
        let diagnoses: Vec<_> = match self.diagnoser_if_needed(results) {
            Some(diagnoser) => results
                .iter()
                .flat_map(|result| diagnoser.diagnose_suite(result.borrow()))
                .collect(),
            None => Vec::new(),
        };
        let lines = diagnostics_summary(&diagnoses);
        if !diagnoses.is_empty() {
            self.send(EvidenceMessage::Diagnostics {
                records: diagnoses,
                summary: lines.clone(),
            });
        }
        if let Err(err) = self.out_root.check() {
            self.send(EvidenceMessage::Lost(format!("the suites' output directory {err}")));
        }
        if let Some(err) = self.write_error.take() {
            return Err(err.into());
        }
        self.writer.finish(status, summary.wall)?;
        Ok(lines)
    }
}

impl Session {
    /// The diagnoser, built now if needed, when any of `results` has
    /// something to diagnose (a failed, errored or flaky case, a suite error).
    fn diagnoser_if_needed<R: Borrow<SuiteResult>>(&mut self, results: &[R]) -> Option<&Diagnoser> {
        let needed = results.iter().map(Borrow::borrow).any(|result| {
            result.error.is_some() || result.cases.iter().any(|case| case.flaky || case.status.is_failure())
        });
        if !needed {
            return None;
        }
        if self.diagnoser.is_none() {
            match Diagnoser::new(&self.categories) {
                Ok(diagnoser) => self.diagnoser = Some(diagnoser),
                // The categories compiled at start; only a bug in the built-in ones gets here.
                Err(err) => log::error!("diagnostics skipped: {err}"),
            }
        }
        self.diagnoser.as_ref()
    }
}

/// The custom categories of `config`, and the diagnoser built from them when
/// there are any (so that a bad pattern fails the session's start).
fn diagnostics_setup(config: &Config) -> Result<(Vec<CategorySpec>, Option<Diagnoser>), DiagnosticsError> {
    let categories = categories(config);
    let diagnoser = if categories.is_empty() {
        None
    } else {
        Some(Diagnoser::new(&categories)?)
    };
    Ok((categories, diagnoser))
}

/// The project's own diagnostics categories, as the diagnoser takes them.
pub(crate) fn categories(config: &Config) -> Vec<CategorySpec> {
    config
        .diagnostics
        .categories
        .iter()
        .map(|c| CategorySpec {
            name: c.name.clone(),
            pattern: c.pattern.clone(),
            suggestion: c.suggestion.clone(),
        })
        .collect()
}
