//! The validated config: what a `.qaagent.toml` says once every key has been
//! checked and every default filled in, and the base URL a run gets from it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::ConfigError;

/// The config file's name, looked for in a directory and its ancestors.
pub const FILE_NAME: &str = ".qaagent.toml";

/// A suite attempt's time limit when `[run] timeout` is not given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// How long a timed-out or cancelled suite's process group gets between
/// SIGTERM and SIGKILL when `[run] kill_grace` is not given.
pub const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(5);

/// The keys every `[tests.NAME]` table may hold; any other key is a runner setting.
pub const COMMON_SUITE_KEYS: &[&str] = &[
    "enabled",
    "path",
    "output_dir",
    "runner",
    "timeout",
    "args",
    "env",
    "split",
];

/// The runner a suite uses when its table has no `runner` key, from the
/// suite's name (the Python qaagent's three fixed suites).
pub fn default_runner(suite: &str) -> Option<&'static str> {
    match suite {
        "unit" => Some("pytest"),
        "behave" => Some("behave"),
        "e2e" => Some("playwright"),
        _ => None,
    }
}

/// A validated `.qaagent.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Absolute path of the config file.
    pub file: PathBuf,
    /// The directory holding the config file (absolute); config paths are relative to it.
    pub project_dir: PathBuf,
    /// `[project]`.
    pub project: ProjectConfig,
    /// `[app.NAME]` environments, in file order.
    pub apps: Vec<AppConfig>,
    /// `[run]`, with defaults filled in.
    pub run: RunConfig,
    /// Every `[tests.NAME]` table, in run order: those named in
    /// `run.suite_order` first, in that order, then the others in file order.
    pub suites: Vec<SuiteConfig>,
    /// `[diagnostics]`.
    pub diagnostics: DiagnosticsConfig,
    /// `[[quarantine]]` entries, in file order, expired ones included.
    pub quarantine: Vec<super::QuarantineEntry>,
}

/// `[project]`: what the evidence is recorded for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectConfig {
    /// The evidence target name (required, not empty).
    pub name: String,
}

/// One `[app.NAME]` environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppConfig {
    /// The NAME in `[app.NAME]`, as given to `--env`.
    pub name: String,
    /// Exported to every suite as `BASE_URL`.
    pub base_url: Option<String>,
}

/// `[run]`: how suites are run, before command-line overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunConfig {
    /// Run suites side by side (default false: one after another).
    pub parallel: bool,
    /// At most this many suites at once (always >= 1); `None`: one worker per enabled suite.
    pub max_workers: Option<usize>,
    /// Extra attempts for the tests that failed (default 0).
    pub retry_count: u32,
    /// Time limit of one suite attempt (default [`DEFAULT_TIMEOUT`]; always > 0).
    pub timeout: Duration,
    /// Time between SIGTERM and SIGKILL when a suite is stopped (default [`DEFAULT_KILL_GRACE`]).
    pub kill_grace: Duration,
    /// `suite_order` as written, or, when absent, every `[tests.*]` table in
    /// file order. Every name in it has a `[tests.NAME]` table; [`Config::suites`]
    /// is the complete run order.
    pub suite_order: Vec<String>,
    /// `retry_on`: retry only failures of these diagnostics categories;
    /// `None` retries every failure.
    pub retry_on: Option<Vec<String>>,
    /// `flaky`: what a flaky test means for the verdict.
    pub flaky: super::FlakyPolicy,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            parallel: false,
            max_workers: None,
            retry_count: 0,
            timeout: DEFAULT_TIMEOUT,
            kill_grace: DEFAULT_KILL_GRACE,
            suite_order: Vec::new(),
            retry_on: None,
            flaky: super::FlakyPolicy::Pass,
        }
    }
}

/// One `[tests.NAME]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct SuiteConfig {
    /// The NAME in `[tests.NAME]`.
    pub name: String,
    /// Whether `run-all` runs it (default true).
    pub enabled: bool,
    /// The suite's directory (`path`, or its old alias `output_dir`), absolute:
    /// the project dir joined with the path as written, `.` segments removed.
    pub path: PathBuf,
    /// The path exactly as written in the config, for messages.
    pub path_display: String,
    /// The registered runner that runs it: `runner = "…"`, else [`default_runner`].
    pub runner: String,
    /// This suite's time limit per attempt, overriding `[run] timeout`.
    pub timeout: Option<Duration>,
    /// Extra arguments for the tool.
    pub args: Vec<String>,
    /// Extra environment variables for the tool.
    pub env: BTreeMap<String, String>,
    /// `split = N | "auto"`: run the suite's tests as several processes of its tool.
    pub split: Option<crate::split::Split>,
    /// Every other key of the table, handed to the runner (already accepted by
    /// its [`check_settings`](runner_api::Runner::check_settings)).
    pub settings: toml::Table,
}

/// `[diagnostics]`: project-specific failure categories.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DiagnosticsConfig {
    /// `[[diagnostics.categories]]`, in file order; tried before the built-in categories.
    pub categories: Vec<CustomCategory>,
}

/// A project-specific failure category: a failure whose message matches
/// `pattern` is classified as `name` and gets `suggestion`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomCategory {
    /// The category's name, as it appears in diagnostics.
    pub name: String,
    /// A regular expression (regex crate syntax), known to compile.
    pub pattern: String,
    /// What to do about such a failure.
    pub suggestion: String,
}

impl Config {
    /// The suite named `name`, if there is a `[tests.NAME]` table.
    pub fn suite(&self, name: &str) -> Option<&SuiteConfig> {
        self.suites.iter().find(|suite| suite.name == name)
    }

    /// The enabled suites, in run order.
    pub fn enabled_suites(&self) -> impl Iterator<Item = &SuiteConfig> {
        self.suites.iter().filter(|suite| suite.enabled)
    }

    /// The base URL for this run, read from the `BASE_URL` environment
    /// variable when the config has none; see [`resolve_base_url_with`](Self::resolve_base_url_with).
    pub fn resolve_base_url(&self, env_name: Option<&str>) -> Result<Option<String>, ConfigError> {
        let from_env = std::env::var("BASE_URL").ok();
        self.resolve_base_url_with(env_name, from_env)
    }

    /// The base URL for this run: with `--env NAME`, `[app.NAME]`'s base_url
    /// (an unknown NAME is an error listing the known ones); without, the first
    /// `[app.*]` in file order that has one; failing that, `base_url_var` (the
    /// value of `$BASE_URL`, ignored when empty); else `None`.
    pub fn resolve_base_url_with(
        &self,
        env_name: Option<&str>,
        base_url_var: Option<String>,
    ) -> Result<Option<String>, ConfigError> {
        let from_config = match env_name {
            Some(name) => {
                let Some(app) = self.apps.iter().find(|app| app.name == name) else {
                    let known: Vec<String> = self.apps.iter().map(|app| app.name.clone()).collect();
                    let hint = if known.is_empty() {
                        format!("add an [app.{name}] table with base_url = \"...\" to {FILE_NAME}")
                    } else {
                        format!("use one of: {}", known.join(", "))
                    };
                    return Err(ConfigError::UnknownEnv {
                        file: self.file.clone(),
                        name: name.to_string(),
                        known,
                        hint,
                    });
                };
                app.base_url.clone()
            }
            None => self.apps.iter().find_map(|app| app.base_url.clone()),
        };
        Ok(from_config.or_else(|| base_url_var.filter(|url| !url.is_empty())))
    }
}
