//! A run's evidence: the coordinating thread forwards suite results to the
//! evidence writer thread as they arrive, and finalizes the run at the end.

use std::borrow::Borrow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use evidence::{EvidenceError, EvidenceMessage, EvidenceWriter, Run, RunInfo, RunStatus};
use runner_api::SuiteResult;

use crate::config::Config;
use crate::diagnostics::{summary as diagnostics_summary, CategorySpec, Diagnoser, DiagnosticsError};
use crate::events::Event;
use crate::evidence_map::suite_record;
use crate::plan::Plan;
use crate::summary::RunSummary;

/// Where a run's evidence goes.
enum Target {
    /// A run this session created and will finalize.
    Owned(EvidenceWriter),
    /// A run someone else created (and finalizes): only suite results and
    /// diagnostics are sent.
    External {
        sender: crossbeam_channel::Sender<EvidenceMessage>,
        run_id: String,
        dir: PathBuf,
    },
}

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

/// The evidence side of one `run-all`.
pub struct Session {
    target: Target,
    /// The configured custom categories.
    categories: Vec<CategorySpec>,
    /// Built when first needed: compiling every pattern costs a few
    /// milliseconds, a large share of a run with nothing to diagnose. Custom
    /// categories are compiled up front all the same, so that a bad pattern
    /// is an error before any suite runs.
    diagnoser: Option<Diagnoser>,
    out_dir: PathBuf,
    write_error: Option<EvidenceError>,
}

impl Session {
    /// Creates an evidence run under `runs_dir` (else `$QAAGENT_RUNS_DIR`,
    /// else `~/.qaagent/runs`) for `plan`, and starts its writer thread.
    /// Suite output goes to `out` when given, else straight into the run's
    /// `artifacts/` (so nothing needs copying).
    pub fn start(
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
            },
        )?;
        let writer = run.start_writer()?;
        let out_dir = out.unwrap_or_else(|| writer.dir().join("artifacts"));
        Ok(Session {
            target: Target::Owned(writer),
            categories,
            diagnoser,
            out_dir,
            write_error: None,
        })
    }

    /// Records into a run created elsewhere, which this session will not
    /// finalize. Suite output goes to `out_dir`.
    pub fn attach(
        config: &Config,
        sender: crossbeam_channel::Sender<EvidenceMessage>,
        run_id: String,
        dir: PathBuf,
        out_dir: PathBuf,
    ) -> Result<Session, SessionError> {
        let (categories, diagnoser) = diagnostics_setup(config)?;
        Ok(Session {
            target: Target::External { sender, run_id, dir },
            categories,
            diagnoser,
            out_dir,
            write_error: None,
        })
    }

    /// The run id.
    pub fn run_id(&self) -> &str {
        match &self.target {
            Target::Owned(writer) => writer.run_id(),
            Target::External { run_id, .. } => run_id,
        }
    }

    /// The run directory.
    pub fn run_dir(&self) -> &Path {
        match &self.target {
            Target::Owned(writer) => writer.dir(),
            Target::External { dir, .. } => dir,
        }
    }

    /// Where suites write their output (`<out>/<suite>/`).
    pub fn out_dir(&self) -> &Path {
        &self.out_dir
    }

    /// Forwards what evidence needs of `event` to the writer thread (a
    /// finished suite's result is shared with it, not copied).
    pub fn record(&mut self, event: &Event) {
        if let Event::SuiteFinished { index, result } = event {
            self.send(EvidenceMessage::SuiteFinished {
                index: *index,
                result: Box::new(suite_record(Arc::clone(result))),
            });
        }
    }

    fn send(&mut self, message: EvidenceMessage) {
        let sent = match &self.target {
            Target::Owned(writer) => writer.send(message),
            Target::External { sender, .. } => sender.send(message).map_err(|_| EvidenceError::WriterGone),
        };
        if let Err(err) = sent {
            log::error!("evidence: {err}");
            self.write_error.get_or_insert(err);
        }
    }

    /// Finalizes the run (when this session owns it) with the status the
    /// results call for, and waits until everything is on disk. Once it
    /// returns, the writer holds no share of any result any more.
    pub fn finish<R: Borrow<SuiteResult>>(
        mut self,
        results: &[R],
        summary: &RunSummary,
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
        let status = if summary.interrupted {
            RunStatus::Interrupted
        } else if summary.success() {
            RunStatus::Passed
        } else {
            RunStatus::Failed
        };
        if let Some(err) = self.write_error.take() {
            return Err(err.into());
        }
        match self.target {
            Target::Owned(writer) => {
                writer.finish(status, summary.wall)?;
            }
            Target::External { .. } => {}
        }
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

fn categories(config: &Config) -> Vec<CategorySpec> {
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
