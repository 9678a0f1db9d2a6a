//! Turning a config plus command-line overrides into the list of suites to
//! run and the settings to run them with — every check done before any work.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use runner_api::{Runner, Selection};

use crate::config::{Config, SuiteConfig};
use crate::registry::Registry;

/// Command-line overrides; `None` keeps the config's value. Never written back.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--parallel`.
    pub parallel: Option<bool>,
    /// `--max-workers N`.
    pub max_workers: Option<usize>,
    /// `--retries N`.
    pub retries: Option<u32>,
    /// `--timeout S` (applies to every suite).
    pub timeout: Option<Duration>,
    /// `--suite NAME`, repeated: run only these (even if disabled in config).
    pub suites: Vec<String>,
    /// `--flaky pass|warn|fail`.
    pub flaky: Option<crate::config::FlakyPolicy>,
    /// `--split N|auto`: every suite's `split` (1 turns splitting off).
    pub split: Option<crate::split::Split>,
}

/// A planning error: the command line asks for something the config lacks.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// `--suite NAME` names no `[tests.NAME]` table.
    #[error("no suite named `{name}` in {}", file.display())]
    UnknownSuite {
        /// The requested suite.
        name: String,
        /// The config file.
        file: PathBuf,
        /// The suites that exist.
        known: Vec<String>,
    },
    /// `--max-workers 0`.
    #[error("--max-workers must be at least 1")]
    ZeroWorkers,
    /// `--split 0`.
    #[error("--split must be at least 1")]
    ZeroSplit,
    /// A suite names a runner this binary does not have.
    #[error("suite `{suite}` uses runner `{runner}`, which this qaagent was not built with")]
    UnknownRunner {
        /// The suite.
        suite: String,
        /// Its runner.
        runner: String,
    },
    /// The diagnostics categories `retry_on` classifies failures by do not compile.
    #[error(transparent)]
    Diagnostics(#[from] crate::diagnostics::DiagnosticsError),
}

impl PlanError {
    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            PlanError::UnknownSuite { known, .. } => Some(format!("known suites: {}", known.join(", "))),
            PlanError::ZeroWorkers => Some("pass --max-workers 1 or more".into()),
            PlanError::ZeroSplit => Some("pass --split 1 to run each suite as one process, or 2 or more".into()),
            PlanError::UnknownRunner { .. } | PlanError::Diagnostics(_) => None,
        }
    }
}

/// One suite of the plan.
#[derive(Clone)]
pub struct PlannedSuite {
    /// Position in the plan (`suite_order`).
    pub index: usize,
    /// The suite's config.
    pub config: SuiteConfig,
    /// The runner that runs it.
    pub runner: Arc<dyn Runner>,
    /// Its path, when that does not exist: the suite errors without running
    /// (disabling it is how to run without it).
    pub missing_path: Option<PathBuf>,
    /// What its first attempt runs.
    pub selection: Selection,
    /// For a `--rerun-failed` selection, the recorded name of each selected
    /// test by selector; empty otherwise.
    pub expected_names: std::collections::BTreeMap<String, String>,
    /// The processes its first attempt is split into (see [`crate::split`]).
    pub shares: crate::split::Shares,
    /// How long its tests took in the latest stored runs, when known (set
    /// with the shares): the longest work starts first.
    pub expected_seconds: Option<f64>,
}

impl std::fmt::Debug for PlannedSuite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlannedSuite")
            .field("index", &self.index)
            .field("name", &self.config.name)
            .field("runner", &self.runner.name())
            .field("missing_path", &self.missing_path)
            .field("selection", &self.selection)
            .field("shares", &self.shares.count())
            .finish()
    }
}

/// The validated settings a run uses.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// Suites side by side.
    pub parallel: bool,
    /// Suites at once (1 when sequential).
    pub workers: usize,
    /// Tool processes at once, across suites and their shares: `max_workers`,
    /// else the larger of the suites' and the cores' number.
    pub processes: usize,
    /// Extra attempts for failing tests.
    pub retries: u32,
    /// `--timeout`, overriding every suite's.
    pub timeout_override: Option<Duration>,
    /// The run-wide default timeout.
    pub timeout: Duration,
    /// SIGTERM → SIGKILL grace.
    pub kill_grace: Duration,
    /// The base URL exported as `BASE_URL`.
    pub base_url: Option<String>,
    /// `retry_on`: retry only failures of these categories (`None`: all).
    pub retry_on: Option<crate::retry_policy::RetryPolicy>,
    /// What a flaky test means for the verdict.
    pub flaky: crate::config::FlakyPolicy,
    /// The `[[quarantine]]` entries, as they stand the day the plan is made.
    pub quarantine: crate::quarantine::Quarantine,
}

/// The suites to run, in `suite_order`, and how.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The project directory (holding `.qaagent.toml`).
    pub project_dir: PathBuf,
    /// The suites.
    pub suites: Vec<PlannedSuite>,
    /// How to run them.
    pub settings: RunSettings,
    /// This machine's share of a partitioned run (set by the [`Run`](crate::run::Run)
    /// that narrowed the plan to it).
    pub partition: Option<evidence::Partition>,
}

impl Plan {
    /// Plans the enabled suites of `config` (or those named by `--suite`).
    pub fn new(
        config: &Config,
        registry: &Registry,
        overrides: &Overrides,
        base_url: Option<String>,
    ) -> Result<Plan, PlanError> {
        for name in &overrides.suites {
            if !config.suites.iter().any(|suite| &suite.name == name) {
                return Err(PlanError::UnknownSuite {
                    name: name.clone(),
                    file: config.file.clone(),
                    known: config.suites.iter().map(|suite| suite.name.clone()).collect(),
                });
            }
        }
        let chosen = config.suites.iter().filter(|suite| {
            if overrides.suites.is_empty() {
                suite.enabled
            } else {
                overrides.suites.contains(&suite.name)
            }
        });
        if overrides.split == Some(crate::split::Split::Shares(0)) {
            return Err(PlanError::ZeroSplit);
        }
        let mut suites = Vec::new();
        for suite in chosen {
            let runner = registry.get(&suite.runner).ok_or_else(|| PlanError::UnknownRunner {
                suite: suite.name.clone(),
                runner: suite.runner.clone(),
            })?;
            let missing_path = (!suite.path.exists()).then(|| suite.path.clone());
            let mut config = suite.clone();
            if let Some(split) = overrides.split {
                config.split = Some(split);
            }
            suites.push(PlannedSuite {
                index: suites.len(),
                config,
                runner,
                missing_path,
                selection: Selection::All,
                expected_names: Default::default(),
                shares: crate::split::Shares::Whole,
                expected_seconds: None,
            });
        }
        let parallel = overrides.parallel.unwrap_or(config.run.parallel);
        let max_workers = match overrides.max_workers {
            Some(0) => return Err(PlanError::ZeroWorkers),
            Some(n) => Some(n),
            None => config.run.max_workers,
        };
        let workers = if parallel {
            max_workers.unwrap_or(suites.len()).clamp(1, suites.len().max(1))
        } else {
            1
        };
        let retry_on = match &config.run.retry_on {
            Some(categories) => Some(crate::retry_policy::RetryPolicy::new(
                categories.clone(),
                &crate::session::categories(config),
            )?),
            None => None,
        };
        let processes = max_workers
            .unwrap_or_else(|| suites.len().max(crate::split::cores()))
            .max(workers);
        Ok(Plan {
            project_dir: config.project_dir.clone(),
            suites,
            settings: RunSettings {
                parallel,
                workers,
                processes,
                retries: overrides.retries.unwrap_or(config.run.retry_count),
                timeout_override: overrides.timeout,
                timeout: config.run.timeout,
                kill_grace: config.run.kill_grace,
                base_url,
                retry_on,
                flaky: overrides.flaky.unwrap_or(config.run.flaky),
                quarantine: crate::quarantine::Quarantine::today(&config.quarantine),
            },
            partition: None,
        })
    }

    /// The suite names, in order.
    pub fn names(&self) -> Vec<String> {
        self.suites.iter().map(|suite| suite.config.name.clone()).collect()
    }

    /// The timeout of one attempt of `suite`.
    pub fn timeout_for(&self, suite: &SuiteConfig) -> Duration {
        self.settings
            .timeout_override
            .or(suite.timeout)
            .unwrap_or(self.settings.timeout)
    }
}
