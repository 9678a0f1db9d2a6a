//! The engine's facade: one run of a plan, from `RunStarted` to `RunFinished`.
//!
//! Every front end — the `qaagent` binary, a third party's binary with runners
//! of its own, the benchmarks, the tests — runs suites through [`Run`]. It owns
//! what makes a run a run: the evidence recorder, execution, stop signals, the
//! verdict and the `--junit` report. A front end parses its arguments, builds
//! the [`Plan`], hands [`Run::execute`] a sink for the [`Event`]s, and turns the
//! [`Verdict`] into an exit code; it wires nothing else.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use evidence::RunStatus;
use runner_api::{CancelToken, SuiteOutcome, SuiteResult};

use crate::config::Config;
use crate::events::Event;
use crate::execute::{execute_shared, ExecOptions};
use crate::out_dir::{claim_out, OutLock};
use crate::partition::PartitionSpec;
use crate::plan::Plan;
use crate::report::write_junit;
use crate::session::Session;
pub use crate::session::SessionError;
use crate::signals::{SignalWatch, StopSignal};
use crate::summary::RunSummary;

/// What a run does beyond its plan.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The runs root (else `$QAAGENT_RUNS_DIR`, else `~/.qaagent/runs`).
    pub runs_dir: Option<PathBuf>,
    /// Where suites write their output; by default the run's `artifacts/`.
    pub out: Option<PathBuf>,
    /// Stream tool output as [`Event::Output`] lines.
    pub live_output: bool,
    /// Also write the run's merged JUnit report here.
    pub junit: Option<PathBuf>,
    /// What a run in which no test ran amounts to.
    pub no_tests: NoTests,
    /// Run only this machine's share of the tests (`--partition K/N`).
    pub partition: Option<PartitionSpec>,
    /// Leave out `<run>/report.html`: for a front end with a report of its
    /// own, and for timing the evidence alone (BENCHMARKS.md, target 4).
    pub skip_html_report: bool,
}

/// What a run that ran no test amounts to (`--no-tests`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NoTests {
    /// It is a verdict of its own: [`Verdict::NoTests`].
    #[default]
    Fail,
    /// It passes, with a warning.
    Warn,
    /// It passes.
    Pass,
}

/// What a run amounts to; a front end maps it to an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// Every test that ran passed (flaky ones included).
    Passed,
    /// A test failed, a suite errored, or the evidence could not be written.
    Failed,
    /// No test ran, and [`NoTests::Fail`] was asked for.
    NoTests,
    /// The run was stopped: by this signal, or through its cancel token.
    Interrupted(Option<StopSignal>),
}

impl Verdict {
    /// The status stored runs and JSON events use: `passed`, `failed` or
    /// `interrupted` (a run with no tests is `failed` unless accepted).
    pub fn status(self) -> &'static str {
        self.run_status().as_str()
    }

    /// The status the run is stored with: the Python readers know only
    /// `passed`, `failed` and `interrupted` of a finished run, and a run in
    /// which no test ran must not read as green (run-all exits 4 for it).
    pub(crate) fn run_status(self) -> RunStatus {
        match self {
            Verdict::Passed => RunStatus::Passed,
            Verdict::Failed | Verdict::NoTests => RunStatus::Failed,
            Verdict::Interrupted(_) => RunStatus::Interrupted,
        }
    }
}

/// Everything a finished run reports, carried by [`Event::RunFinished`].
#[derive(Debug)]
#[non_exhaustive]
pub struct RunReport {
    /// The evidence run id.
    pub run_id: String,
    /// The evidence run directory.
    pub run_dir: PathBuf,
    /// Suite results, in `suite_order`.
    pub results: Vec<Arc<SuiteResult>>,
    /// Totals.
    pub summary: RunSummary,
    /// The diagnostics summary lines (the first is the overview).
    pub diagnostics: Vec<String>,
    /// What the run amounts to.
    pub verdict: Verdict,
    /// Things worth a look that did not fail the run ("suite unit ran no tests").
    pub warnings: Vec<String>,
    /// What the run's policies decided that the results alone do not say:
    /// failures `retry_on` kept from a retry, and why; flaky tests that
    /// `flaky = "fail"` failed the run on.
    pub notes: Vec<String>,
    /// What the run could not record (evidence, the JUnit report); each one
    /// fails the run.
    pub errors: Vec<String>,
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The JUnit report could not be written where asked: said before any
    /// suite runs rather than after.
    #[error("cannot write the JUnit report {}: {reason}", path.display())]
    JunitDestination {
        /// The report's path.
        path: PathBuf,
        /// Why not.
        reason: String,
    },
    /// The `--out` directory is not this run's to write into: said before
    /// anything is written.
    #[error("cannot put the suites' output in {}: {reason}", path.display())]
    OutDestination {
        /// The directory.
        path: PathBuf,
        /// Why not.
        reason: String,
    },
    /// The evidence run could not be created.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The stop-signal handler could not be installed.
    #[error("cannot install the signal handler: {0}")]
    Signals(#[source] std::io::Error),
}

/// One run of a plan; see the module docs.
pub struct Run<'a> {
    config: &'a Config,
    plan: Plan,
    options: RunOptions,
    cancel: CancelToken,
    signals: Option<SignalWatch>,
    /// Held while the run writes into `--out`, so no other run clears it.
    out_lock: Option<OutLock>,
}

impl<'a> Run<'a> {
    /// A run of `plan` (made from `config`). Fails when the JUnit report
    /// could not be written where `options` ask.
    pub fn new(config: &'a Config, plan: Plan, options: RunOptions) -> Result<Run<'a>, RunError> {
        if let Some(path) = &options.junit {
            check_junit_destination(path)?;
        }
        let out_lock = match &options.out {
            Some(out) => {
                let runs_root = evidence::runs_root(options.runs_dir.clone()).ok();
                let claimed = claim_out(out, runs_root.as_deref()).map_err(|reason| RunError::OutDestination {
                    path: out.clone(),
                    reason,
                })?;
                Some(claimed)
            }
            None => None,
        };
        Ok(Run {
            config,
            plan,
            options,
            cancel: CancelToken::new(),
            signals: None,
            out_lock,
        })
    }

    /// Stops the run on SIGINT, SIGTERM or SIGHUP: the first stops every
    /// running suite gracefully, a second kills them at once; the verdict is
    /// [`Verdict::Interrupted`] with the first signal. For front ends that
    /// own the process; an embedding program cancels through
    /// [`Run::cancel_token`] instead.
    pub fn handle_signals(&mut self) -> Result<(), RunError> {
        self.signals = Some(SignalWatch::install(self.cancel.clone()).map_err(RunError::Signals)?);
        Ok(())
    }

    /// A token that stops the run when cancelled.
    pub fn cancel_token(&self) -> CancelToken {
        self.cancel.clone()
    }

    /// The plan this run executes.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Runs the plan, calling `on_event` from this thread for every event,
    /// from [`Event::RunStarted`] to [`Event::RunFinished`], and returns the
    /// report the last one carried.
    pub fn execute(self, on_event: &mut dyn FnMut(&Event)) -> Result<Arc<RunReport>, RunError> {
        let started = Instant::now();
        let Run {
            config,
            mut plan,
            options,
            cancel,
            signals,
            out_lock: _out_lock,
        } = self;
        if let Some(spec) = &options.partition {
            plan.partition = Some(crate::partition::apply(&mut plan, spec, &cancel));
        }
        crate::split::apply(&mut plan, options.runs_dir.clone(), &cancel);
        let mut session = Session::start(config, &plan, options.runs_dir.clone(), options.out.clone())?;
        let run_id = session.run_id().to_string();
        let run_dir = session.run_dir().to_path_buf();
        let expected = crate::expected::last_durations(
            run_dir.parent().unwrap_or(&run_dir),
            &config.project_dir,
            &run_id,
            &plan.names(),
        );
        on_event(&Event::RunStarted {
            expected,
            run_id: run_id.clone(),
            run_dir: run_dir.clone(),
            parallel: plan.settings.parallel,
            workers: plan.settings.workers,
            suites: plan.names(),
        });
        let exec = ExecOptions {
            out_dir: session.out_dir().to_path_buf(),
            live_output: options.live_output,
        };
        let results = execute_shared(&plan, &exec, &cancel, &mut |event| {
            session.record(event);
            on_event(event);
        });
        let interrupted = cancel.is_cancelled();
        let summary = RunSummary::from_results(&results, started.elapsed(), interrupted);
        let mut errors = Vec::new();
        let flaky = crate::retry_policy::judge_flaky(plan.settings.flaky, &results);
        let mut warnings = no_tests_warnings(&results, &summary, options.no_tests);
        // Judged before the evidence is finalized, so that the stored status
        // is the verdict the front end reports.
        let mut verdict_warnings = Vec::new();
        let verdict = if interrupted {
            Verdict::Interrupted(signals.and_then(|watch| watch.received()))
        } else if !summary.success() || flaky.is_err() {
            Verdict::Failed
        } else {
            judge_no_tests(&summary, &plan, options.no_tests, &mut verdict_warnings)
        };
        let diagnostics = session
            .finish(&results, &summary, verdict.run_status())
            .unwrap_or_else(|err| {
                errors.push(format!("the evidence could not be written: {err}"));
                Vec::new()
            });
        // From the evidence just finalized, as `runs show` would.
        let stored = evidence::load_run(run_dir.parent().unwrap_or(&run_dir), &run_id);
        if let Some(path) = &options.junit {
            let written = match &stored {
                Ok(stored) => write_junit(stored, path).map_err(|err| err.to_string()),
                Err(err) => Err(err.to_string()),
            };
            if let Err(err) = written {
                crate::report::discard_stale(path);
                errors.push(format!("the JUnit report could not be written: {err}"));
            }
        }
        warnings.extend(
            results.iter().flat_map(|result| {
                (result.warnings.iter()).map(|warning| format!("suite {}: {warning}", result.suite))
            }),
        );
        if let (Ok(stored), false) = (&stored, options.skip_html_report) {
            if let Err(err) = crate::report::write_run_report(stored) {
                warnings.push(format!("the HTML report could not be written: {err}"));
            }
        }
        let is_suite = |name: &str| self.config.suites.iter().any(|suite| suite.name == name);
        warnings.extend(plan.settings.quarantine.config_warnings(is_suite));
        warnings.extend(plan.settings.quarantine.warnings(&results));
        let mut notes = (plan.settings.retry_on.as_ref())
            .map(|policy| policy.not_retried(&results, plan.settings.retries))
            .unwrap_or_default();
        match &flaky {
            Ok(warning) => warnings.extend(warning.clone()),
            Err(why) => notes.push(why.clone()),
        }
        warnings.append(&mut verdict_warnings);
        let verdict = match verdict {
            // What could not be recorded fails a run that finished.
            Verdict::Passed | Verdict::NoTests if !errors.is_empty() => Verdict::Failed,
            verdict => verdict,
        };
        let report = Arc::new(RunReport {
            run_id,
            run_dir,
            results,
            summary,
            diagnostics,
            verdict,
            warnings,
            notes,
            errors,
        });
        on_event(&Event::RunFinished(Arc::clone(&report)));
        Ok(report)
    }
}

/// The verdict of a finished run in which nothing failed: [`Verdict::Passed`],
/// or, when every test was skipped (none ran either: a tag or filter that
/// selects nothing, a platform every test skips itself on), what `policy`
/// makes of that. One share of a partitioned run may hold no tests: `merge`
/// judges the whole.
fn judge_no_tests(summary: &RunSummary, plan: &Plan, policy: NoTests, warnings: &mut Vec<String>) -> Verdict {
    if summary.tests != summary.skipped {
        return Verdict::Passed;
    }
    let policy = match &plan.partition {
        Some(share) => {
            warnings.push(format!(
                "share {}/{} ran no tests; `qaagent merge` of every share gives the run's verdict",
                share.index, share.total
            ));
            NoTests::Pass
        }
        None => policy,
    };
    match policy {
        NoTests::Fail => Verdict::NoTests,
        NoTests::Warn => {
            warnings.push(summary.no_tests_ran());
            Verdict::Passed
        }
        NoTests::Pass => Verdict::Passed,
    }
}

/// A suite that ran nothing among suites that did is easy to miss in a
/// passing run: a wrong path, or a filter that matches nothing.
fn no_tests_warnings(results: &[Arc<SuiteResult>], summary: &RunSummary, policy: NoTests) -> Vec<String> {
    if summary.tests == 0 || policy == NoTests::Pass {
        return Vec::new();
    }
    results
        .iter()
        .filter(|result| result.attempts > 0 && result.outcome() == SuiteOutcome::Passed && result.cases.is_empty())
        .map(|result| format!("suite {} ran no tests", result.suite))
        .collect()
}

/// Fails early when the JUnit report could not be written at `path`: better
/// now than after every suite has run.
fn check_junit_destination(path: &Path) -> Result<(), RunError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let refuse = |reason: String| RunError::JunitDestination {
        path: path.to_path_buf(),
        reason,
    };
    crate::report::check_destination(path)
        .map_err(|_| refuse("not a regular file, which the report would replace".to_string()))?;
    // Made now if missing, as writing the report would make it.
    std::fs::create_dir_all(dir).map_err(|err| refuse(format!("cannot create {}: {err}", dir.display())))?;
    // The report is written next to its destination and renamed into place.
    let probe = dir.join(format!(".qaagent-junit-check.{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(|err| refuse(format!("cannot write in {}: {err}", dir.display())))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}
