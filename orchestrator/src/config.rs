//! The project config, `.qaagent.toml`: finding it ([`discover`]), reading and
//! validating it ([`load`], [`parse`]) into a [`Config`], and picking the base
//! URL for a run ([`Config::resolve_base_url`]).
//!
//! Everything is validated up front, before any suite runs, and every mistake
//! is a [`ConfigError::Invalid`] carrying the file, the 1-based line and column
//! of the offending key or value, and usually a hint saying what to write
//! instead.
//!
//! How the locations are kept: the file is deserialized into private raw
//! structs with `deny_unknown_fields` and [`toml::Spanned`] around every value
//! we may have to point at; the toml error for an unknown key or a wrong type
//! carries its byte span too. A `[tests.NAME]` table is read as a map of
//! spanned keys to spanned values: the common suite keys are picked out and
//! checked here, and every other key is handed to the suite's runner
//! ([`runner_api::Runner::check_settings`]). When a runner names the key it
//! rejects, the key's own span in that same map gives its line and column, so
//! no second parse of the file is needed.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::registry::Registry;

/// The config file's name, looked for in a directory and its ancestors.
pub const FILE_NAME: &str = ".qaagent.toml";

/// A suite attempt's time limit when `[run] timeout` is not given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// How long a timed-out or cancelled suite's process group gets between
/// SIGTERM and SIGKILL when `[run] kill_grace` is not given.
pub const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(5);

/// The keys every `[tests.NAME]` table may hold; any other key is a runner setting.
pub const COMMON_SUITE_KEYS: &[&str] = &["enabled", "path", "output_dir", "runner", "timeout", "args", "env"];

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

/// Why the config could not be found, read or accepted.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// No `.qaagent.toml` in the start directory or any ancestor.
    #[error("could not find {FILE_NAME} in {} or any parent directory", start.display())]
    NotFound {
        /// Where the search started (absolute).
        start: PathBuf,
    },
    /// The config file (or the current directory) could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML or not a valid config; `line` and `column`
    /// (1-based, columns in characters) point at the offending key or value.
    #[error("{}:{line}:{column}: {message}", file.display())]
    Invalid {
        /// The config file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
        /// What is wrong.
        message: String,
        /// What to write instead, when we can say.
        hint: Option<String>,
    },
    /// `--env NAME` names no `[app.NAME]` table.
    #[error("{}: no environment `{name}`: there is no [app.{name}] table", file.display())]
    UnknownEnv {
        /// The config file.
        file: PathBuf,
        /// The name asked for.
        name: String,
        /// The `[app.*]` names there are, in file order.
        known: Vec<String>,
        /// What to do instead.
        hint: String,
    },
}

impl ConfigError {
    /// What to do about the error (shown as a `hint:` line), when there is advice.
    pub fn hint(&self) -> Option<&str> {
        match self {
            ConfigError::NotFound { .. } => Some("run `qaagent init` to create one, or pass --config FILE or -C DIR"),
            ConfigError::Io { .. } => None,
            ConfigError::Invalid { hint, .. } => hint.as_deref(),
            ConfigError::UnknownEnv { hint, .. } => Some(hint),
        }
    }

    /// The (line, column) an [`Invalid`](ConfigError::Invalid) error points at.
    pub fn location(&self) -> Option<(usize, usize)> {
        match self {
            ConfigError::Invalid { line, column, .. } => Some((*line, *column)),
            _ => None,
        }
    }
}

/// Finds `.qaagent.toml` in `start` or the nearest ancestor that has one, the
/// way cargo finds `Cargo.toml`. `start` may be relative to the current directory.
pub fn discover(start: &Path) -> Result<PathBuf, ConfigError> {
    let start = absolute(start)?;
    for dir in start.ancestors() {
        let candidate = dir.join(FILE_NAME);
        if candidate.is_file() {
            log::debug!("config found at {}", candidate.display());
            return Ok(candidate);
        }
    }
    Err(ConfigError::NotFound { start })
}

/// Reads and validates the config file `file` (as found by [`discover`] or
/// given with `--config`), checking runner names and runner settings against
/// `registry`.
pub fn load(file: &Path, registry: &Registry) -> Result<Config, ConfigError> {
    let file = absolute(file)?;
    let text = std::fs::read_to_string(&file).map_err(|source| ConfigError::Io {
        path: file.clone(),
        source,
    })?;
    parse(&file, &text, registry)
}

/// Validates `text` as the content of the config file `file` (which is not
/// read; it locates the project dir and names the file in errors).
pub fn parse(file: &Path, text: &str, registry: &Registry) -> Result<Config, ConfigError> {
    let file = absolute(file)?;
    let project_dir = file.parent().map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
    let src = Source { file: &file, text };

    let raw: RawConfig = toml::from_str(text).map_err(|err| src.toml_error(&err))?;

    let project = validate_project(&src, raw.project)?;
    let apps = validate_apps(&src, raw.app)?;
    let raw_run = raw.run.map(Spanned::into_inner).unwrap_or_default();
    let raw_order = raw_run.suite_order.clone();
    let mut run = validate_run(&src, raw_run)?;

    let mut tables: Vec<_> = raw.tests.into_iter().collect();
    tables.sort_by_key(|(name, _)| name.span().start);
    let mut suites = Vec::with_capacity(tables.len());
    for (name, table) in tables {
        suites.push(validate_suite(&src, name, table, &project_dir, registry)?);
    }

    let order = validate_suite_order(&src, raw_order, &suites)?;
    suites = order_suites(suites, &order);
    run.suite_order = order;

    let diagnostics = validate_diagnostics(&src, raw.diagnostics)?;

    Ok(Config {
        file: file.clone(),
        project_dir,
        project,
        apps,
        run,
        suites,
        diagnostics,
    })
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

// ---------------------------------------------------------------------------
// Raw, spanned shapes of the file.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    project: Option<Spanned<RawProject>>,
    #[serde(default)]
    app: BTreeMap<Spanned<String>, Spanned<RawApp>>,
    run: Option<Spanned<RawRun>>,
    #[serde(default)]
    tests: BTreeMap<Spanned<String>, Spanned<RawSuite>>,
    diagnostics: Option<RawDiagnostics>,
}

/// A `[tests.NAME]` table: its keys decide which are common and which go to the runner.
type RawSuite = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProject {
    name: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApp {
    base_url: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRun {
    parallel: Option<bool>,
    // Signed so that 0 and negative numbers get our message rather than serde's.
    max_workers: Option<Spanned<i64>>,
    retry_count: Option<Spanned<i64>>,
    // serde's f64 accepts TOML integers too, so `timeout = 300` and `= 1.5` both work.
    timeout: Option<Spanned<f64>>,
    kill_grace: Option<Spanned<f64>>,
    suite_order: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDiagnostics {
    #[serde(default)]
    categories: Vec<Spanned<RawCategory>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    name: Spanned<String>,
    pattern: Spanned<String>,
    suggestion: String,
}

// ---------------------------------------------------------------------------
// Locations.

/// The file being validated, to turn byte spans into located errors.
struct Source<'a> {
    file: &'a Path,
    text: &'a str,
}

impl Source<'_> {
    fn invalid(&self, span: Range<usize>, message: impl Into<String>, hint: Option<String>) -> ConfigError {
        let (line, column) = line_column(self.text, span.start);
        ConfigError::Invalid {
            file: self.file.to_path_buf(),
            line,
            column,
            message: message.into(),
            hint,
        }
    }

    /// The text of `span`, as written.
    fn written(&self, span: Range<usize>) -> &str {
        self.text.get(span).unwrap_or("")
    }

    /// A toml/serde error: syntax, unknown key, wrong type, missing key.
    fn toml_error(&self, err: &toml::de::Error) -> ConfigError {
        let span = err.span().unwrap_or(0..0);
        let message = err.message().trim();
        match unknown_field(message) {
            Some((key, expected)) => {
                let hint = expected.map(|keys| format!("keys allowed here: {}", keys.join(", ")));
                self.invalid(span, format!("unknown key `{key}`"), hint)
            }
            None => self.invalid(span, message, None),
        }
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let line = before.matches('\n').count() + 1;
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Picks serde's "unknown field `KEY`, expected one of `a`, `b`" (or
/// "expected `a`", or "there are no fields") apart: the key, and the keys
/// allowed (`None` when serde listed none).
fn unknown_field(message: &str) -> Option<(&str, Option<Vec<&str>>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (key, rest) = rest.split_once('`')?;
    let expected = rest.strip_prefix(", expected ").map(|list| {
        let list = list.strip_prefix("one of ").unwrap_or(list);
        // serde writes "`a`", "`a` or `b`", or "one of `a`, `b`, `c`".
        list.split(", ")
            .flat_map(|item| item.split(" or "))
            .map(|item| item.trim_matches('`'))
            .collect()
    });
    Some((key, expected))
}

// ---------------------------------------------------------------------------
// Validation, one table at a time.

fn validate_project(src: &Source<'_>, raw: Option<Spanned<RawProject>>) -> Result<ProjectConfig, ConfigError> {
    let hint = || Some("add name = \"...\" under [project] (it names the evidence target)".to_string());
    let Some(raw) = raw else {
        return Err(src.invalid(
            0..0,
            "missing [project] table",
            Some("add a [project] table with name = \"...\" (it names the evidence target)".to_string()),
        ));
    };
    let span = raw.span();
    let Some(name) = raw.into_inner().name else {
        return Err(src.invalid(span, "[project] has no name", hint()));
    };
    if name.get_ref().trim().is_empty() {
        return Err(src.invalid(name.span(), "[project] name is empty", hint()));
    }
    Ok(ProjectConfig {
        name: name.into_inner(),
    })
}

fn validate_apps(
    src: &Source<'_>,
    raw: BTreeMap<Spanned<String>, Spanned<RawApp>>,
) -> Result<Vec<AppConfig>, ConfigError> {
    let mut apps: Vec<_> = raw.into_iter().collect();
    apps.sort_by_key(|(name, _)| name.span().start);
    apps.into_iter()
        .map(|(name, app)| {
            let name = name.into_inner();
            let base_url = match app.into_inner().base_url {
                Some(url) if url.get_ref().trim().is_empty() => {
                    return Err(src.invalid(
                        url.span(),
                        format!("[app.{name}] base_url is empty"),
                        Some("write base_url = \"http://localhost:8000\", or remove it".to_string()),
                    ));
                }
                url => url.map(Spanned::into_inner),
            };
            Ok(AppConfig { name, base_url })
        })
        .collect()
}

fn validate_run(src: &Source<'_>, raw: RawRun) -> Result<RunConfig, ConfigError> {
    let max_workers = match raw.max_workers {
        None => None,
        Some(value) => {
            let hint = || Some("set max_workers to 1 or more, or remove it to use one worker per suite".to_string());
            let workers = *value.get_ref();
            if workers < 1 {
                return Err(src.invalid(
                    value.span(),
                    format!("max_workers must be 1 or more, found {workers}"),
                    hint(),
                ));
            }
            let workers = usize::try_from(workers)
                .map_err(|_| src.invalid(value.span(), format!("max_workers is too large: {workers}"), hint()))?;
            Some(workers)
        }
    };
    let retry_count = match raw.retry_count {
        None => 0,
        Some(value) => {
            let retries = *value.get_ref();
            u32::try_from(retries).map_err(|_| {
                let problem = if retries < 0 {
                    "must be 0 or more"
                } else {
                    "is too large"
                };
                src.invalid(
                    value.span(),
                    format!("retry_count {problem}, found {retries}"),
                    Some("write retry_count = 0 (no retries) or the number of extra attempts, e.g. 2".to_string()),
                )
            })?
        }
    };
    let timeout = match &raw.timeout {
        None => DEFAULT_TIMEOUT,
        Some(value) => seconds(
            src,
            value,
            "timeout",
            false,
            "write timeout = 300 (seconds, greater than 0)",
        )?,
    };
    let kill_grace = match &raw.kill_grace {
        None => DEFAULT_KILL_GRACE,
        Some(value) => seconds(
            src,
            value,
            "kill_grace",
            true,
            "write kill_grace = 5 (seconds between SIGTERM and SIGKILL, 0 or more)",
        )?,
    };
    Ok(RunConfig {
        parallel: raw.parallel.unwrap_or(false),
        max_workers,
        retry_count,
        timeout,
        kill_grace,
        suite_order: Vec::new(),
    })
}

/// A duration in seconds (integer or float); `what` names it in the message.
fn seconds(
    src: &Source<'_>,
    value: &Spanned<f64>,
    what: &str,
    allow_zero: bool,
    hint: &str,
) -> Result<Duration, ConfigError> {
    let secs = *value.get_ref();
    let written = src.written(value.span());
    let out_of_range = secs.is_nan() || secs < 0.0 || (!allow_zero && secs == 0.0);
    if out_of_range {
        let bound = if allow_zero {
            "0 or more seconds"
        } else {
            "greater than 0 seconds"
        };
        return Err(src.invalid(
            value.span(),
            format!("{what} must be {bound}, found {written}"),
            Some(hint.to_string()),
        ));
    }
    Duration::try_from_secs_f64(secs).map_err(|_| {
        src.invalid(
            value.span(),
            format!("{what} is too large: {written}"),
            Some(hint.to_string()),
        )
    })
}

/// The common keys of a `[tests.NAME]` table, type-checked, before defaults.
#[derive(Default)]
struct SuiteKeys {
    enabled: Option<bool>,
    /// (key span, value).
    path: Option<(Range<usize>, Spanned<String>)>,
    output_dir: Option<(Range<usize>, Spanned<String>)>,
    runner: Option<Spanned<String>>,
    timeout: Option<Duration>,
    args: Vec<String>,
    env: BTreeMap<String, String>,
    settings: toml::Table,
    /// Where each settings key is written, to point at the one a runner rejects.
    settings_spans: BTreeMap<String, Range<usize>>,
}

fn validate_suite(
    src: &Source<'_>,
    name: Spanned<String>,
    table: Spanned<RawSuite>,
    project_dir: &Path,
    registry: &Registry,
) -> Result<SuiteConfig, ConfigError> {
    let name_span = name.span();
    let name = name.into_inner();
    check_suite_name(src, &name, name_span)?;
    let header = table.span();
    let keys = suite_keys(src, &name, table.into_inner())?;
    let enabled = keys.enabled.unwrap_or(true);

    let path = match (keys.path, keys.output_dir) {
        (Some(_), Some((alias_span, _))) => {
            return Err(src.invalid(
                alias_span,
                format!("[tests.{name}] has both path and output_dir"),
                Some("keep only path (output_dir is its old name)".to_string()),
            ));
        }
        (Some((_, path)), None) | (None, Some((_, path))) => path.into_inner(),
        (None, None) => {
            return Err(src.invalid(
                header,
                format!("[tests.{name}] has no path"),
                Some(format!(
                    "add path = \"...\" to [tests.{name}] (the suite's directory, relative to {})",
                    project_dir.display()
                )),
            ));
        }
    };

    let runner = resolve_runner(src, &name, header.clone(), keys.runner, enabled, registry)?;
    if let Some(implementation) = registry.get(&runner) {
        if let Err(err) = implementation.check_settings(&keys.settings) {
            return Err(settings_error(src, &name, &runner, header, &keys.settings_spans, err));
        }
    }

    Ok(SuiteConfig {
        path: clean_join(project_dir, &path),
        path_display: path,
        name,
        enabled,
        runner,
        timeout: keys.timeout,
        args: keys.args,
        env: keys.env,
        settings: keys.settings,
    })
}

/// Suite names become directory names (`<out>/<suite>/`, `artifacts/<suite>/`),
/// so they must be plain file names.
fn check_suite_name(src: &Source<'_>, name: &str, span: Range<usize>) -> Result<(), ConfigError> {
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if plain {
        return Ok(());
    }
    Err(src.invalid(
        span,
        format!("invalid suite name {name:?}"),
        Some("name suites with letters, digits, '-', '_' and '.' (not first); the name becomes a directory".into()),
    ))
}

/// Sorts the keys of a suite table into common keys (type-checked) and runner settings.
fn suite_keys(src: &Source<'_>, suite: &str, table: RawSuite) -> Result<SuiteKeys, ConfigError> {
    let mut keys = SuiteKeys::default();
    for (key, value) in table {
        let key_span = key.span();
        let key = key.into_inner();
        let value_span = value.span();
        let wrong_type = |expected: &str, hint: String| {
            src.invalid(
                value_span.clone(),
                format!(
                    "[tests.{suite}] {key} must be {expected}, found {}",
                    describe(src, value.get_ref(), value_span.clone())
                ),
                Some(hint),
            )
        };
        match key.as_str() {
            "enabled" => match value.get_ref() {
                toml::Value::Boolean(enabled) => keys.enabled = Some(*enabled),
                _ => {
                    return Err(wrong_type(
                        "true or false",
                        "write enabled = true or enabled = false".into(),
                    ))
                }
            },
            "path" | "output_dir" => match value.get_ref() {
                toml::Value::String(path) => {
                    let spanned = (key_span, Spanned::new(value_span.clone(), path.clone()));
                    if key == "path" {
                        keys.path = Some(spanned);
                    } else {
                        keys.output_dir = Some(spanned);
                    }
                }
                _ => {
                    return Err(wrong_type(
                        "a string",
                        format!("write {key} = \"tests/{suite}\" (a directory)"),
                    ))
                }
            },
            "runner" => match value.get_ref() {
                toml::Value::String(runner) => keys.runner = Some(Spanned::new(value_span.clone(), runner.clone())),
                _ => {
                    return Err(wrong_type(
                        "a string",
                        "write runner = \"pytest\" (a runner's name)".into(),
                    ))
                }
            },
            "timeout" => {
                let secs = match value.get_ref() {
                    toml::Value::Integer(secs) => *secs as f64,
                    toml::Value::Float(secs) => *secs,
                    _ => {
                        return Err(wrong_type(
                            "a number of seconds",
                            "write timeout = 120 (seconds, greater than 0), or remove it to use [run] timeout".into(),
                        ));
                    }
                };
                let secs = Spanned::new(value_span.clone(), secs);
                let what = format!("[tests.{suite}] timeout");
                keys.timeout = Some(seconds(
                    src,
                    &secs,
                    &what,
                    false,
                    "write timeout = 120 (seconds, greater than 0), or remove it to use [run] timeout",
                )?);
            }
            "args" => {
                let strings = match value.get_ref() {
                    toml::Value::Array(items) => items.iter().map(|item| item.as_str().map(str::to_string)).collect(),
                    _ => None,
                };
                match strings {
                    Some(args) => keys.args = args,
                    None => {
                        return Err(wrong_type(
                            "an array of strings",
                            "write args = [\"-x\", \"--maxfail=2\"] (each argument quoted)".into(),
                        ));
                    }
                }
            }
            "env" => {
                let toml::Value::Table(vars) = value.get_ref() else {
                    return Err(wrong_type(
                        "a table of strings",
                        "write env = { KEY = \"value\" }".into(),
                    ));
                };
                for (var, var_value) in vars {
                    let Some(var_value) = var_value.as_str() else {
                        return Err(src.invalid(
                            value_span.clone(),
                            format!(
                                "[tests.{suite}] env {var} must be a string, found {}",
                                var_value.type_str()
                            ),
                            Some(format!("quote the value: {var} = \"{var_value}\"")),
                        ));
                    };
                    keys.env.insert(var.clone(), var_value.to_string());
                }
            }
            _ => {
                keys.settings_spans.insert(key.clone(), key_span);
                keys.settings.insert(key, value.into_inner());
            }
        }
    }
    Ok(keys)
}

/// "string \"yes\"", "integer 3", "array": a value's type, with the value when short.
fn describe(src: &Source<'_>, value: &toml::Value, span: Range<usize>) -> String {
    match value {
        toml::Value::Array(_) | toml::Value::Table(_) => value.type_str().to_string(),
        _ => format!("{} {}", value.type_str(), src.written(span)),
    }
}

fn resolve_runner(
    src: &Source<'_>,
    suite: &str,
    header: Range<usize>,
    explicit: Option<Spanned<String>>,
    enabled: bool,
    registry: &Registry,
) -> Result<String, ConfigError> {
    let known = || {
        if registry.is_empty() {
            "no runners are registered in this build".to_string()
        } else {
            format!("use one of: {}", registry.names().join(", "))
        }
    };
    let (runner, span) = match explicit {
        Some(runner) => {
            let span = runner.span();
            (runner.into_inner(), span)
        }
        None => match default_runner(suite) {
            Some(runner) => (runner.to_string(), header),
            None => {
                let one_of = if registry.is_empty() {
                    String::new()
                } else {
                    format!(" (one of: {})", registry.names().join(", "))
                };
                return Err(src.invalid(
                    header,
                    format!("[tests.{suite}] has no runner, and only unit, behave and e2e have a default"),
                    Some(format!("add runner = \"...\" to [tests.{suite}]{one_of}")),
                ));
            }
        },
    };
    if registry.contains(&runner) {
        return Ok(runner);
    }
    let disabled = if enabled {
        ""
    } else {
        " (the suite is disabled, but its runner is still checked)"
    };
    Err(src.invalid(
        span,
        format!("[tests.{suite}] unknown runner `{runner}`{disabled}"),
        Some(known()),
    ))
}

/// A runner's [`SettingsError`](runner_api::SettingsError), located at the key it names
/// when that key is in the table, else at the table.
fn settings_error(
    src: &Source<'_>,
    suite: &str,
    runner: &str,
    header: Range<usize>,
    spans: &BTreeMap<String, Range<usize>>,
    err: runner_api::SettingsError,
) -> ConfigError {
    let located = err
        .key
        .as_ref()
        .and_then(|key| spans.get(key).map(|span| (key, span.clone())));
    let span = located.as_ref().map_or(header, |(_, span)| span.clone());
    let common = COMMON_SUITE_KEYS.join(", ");
    // Only a top-level unknown key gets the "takes: …" hint; a nested one's message names its path.
    let top_level_unknown = unknown_field(&err.message).filter(|(field, _)| err.key.as_deref() == Some(*field));
    if let Some((key, expected)) = top_level_unknown {
        let takes = match expected {
            Some(keys) => format!("runner `{runner}` takes: {}", keys.join(", ")),
            None => format!("runner `{runner}` takes no other keys"),
        };
        return src.invalid(
            span,
            format!("[tests.{suite}] unknown key `{key}` for runner `{runner}`"),
            Some(format!("{takes}; every suite takes: {common}")),
        );
    }
    let message = match located {
        Some((key, _)) => format!("[tests.{suite}] {key}: {} (runner `{runner}`)", err.message),
        None => format!("[tests.{suite}] rejected by runner `{runner}`: {}", err.message),
    };
    src.invalid(span, message, None)
}

fn validate_suite_order(
    src: &Source<'_>,
    raw: Option<Vec<Spanned<String>>>,
    suites: &[SuiteConfig],
) -> Result<Vec<String>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(suites.iter().map(|suite| suite.name.clone()).collect());
    };
    let mut seen = BTreeSet::new();
    let mut order = Vec::with_capacity(raw.len());
    for entry in raw {
        let name = entry.get_ref();
        if !suites.iter().any(|suite| &suite.name == name) {
            return Err(src.invalid(
                entry.span(),
                format!("suite_order names `{name}`, but there is no [tests.{name}] table"),
                Some(format!(
                    "add a [tests.{name}] table with path = \"...\" or remove \"{name}\" from suite_order"
                )),
            ));
        }
        if !seen.insert(name.clone()) {
            return Err(src.invalid(
                entry.span(),
                format!("suite_order names `{name}` twice"),
                Some(format!("remove the second \"{name}\"")),
            ));
        }
        order.push(entry.into_inner());
    }
    Ok(order)
}

/// `suites` (in file order) rearranged: those in `order` first, then the rest.
fn order_suites(suites: Vec<SuiteConfig>, order: &[String]) -> Vec<SuiteConfig> {
    let (mut listed, rest): (Vec<_>, Vec<_>) = suites.into_iter().partition(|suite| order.contains(&suite.name));
    listed.sort_by_key(|suite| order.iter().position(|name| name == &suite.name));
    listed.extend(rest);
    listed
}

fn validate_diagnostics(src: &Source<'_>, raw: Option<RawDiagnostics>) -> Result<DiagnosticsConfig, ConfigError> {
    let mut categories: Vec<CustomCategory> = Vec::new();
    for category in raw.map(|raw| raw.categories).unwrap_or_default() {
        let category = category.into_inner();
        let name = category.name.get_ref();
        if name.trim().is_empty() {
            return Err(src.invalid(
                category.name.span(),
                "diagnostics category name is empty",
                Some("write name = \"database\" (it appears in diagnostics)".to_string()),
            ));
        }
        if categories.iter().any(|known| &known.name == name) {
            return Err(src.invalid(
                category.name.span(),
                format!("diagnostics category `{name}` is defined twice"),
                Some("give each category its own name, or merge their patterns with |".to_string()),
            ));
        }
        if let Err(err) = regex::Regex::new(category.pattern.get_ref()) {
            return Err(src.invalid(
                category.pattern.span(),
                format!(
                    "diagnostics category `{name}`: invalid pattern: {}",
                    regex_message(&err)
                ),
                Some("write a regular expression in Rust regex syntax, e.g. pattern = \"(?i)deadlock\"".to_string()),
            ));
        }
        categories.push(CustomCategory {
            name: category.name.into_inner(),
            pattern: category.pattern.into_inner(),
            suggestion: category.suggestion,
        });
    }
    Ok(DiagnosticsConfig { categories })
}

/// The one-line gist of a regex error (its Display spans several lines, with a caret).
fn regex_message(err: &regex::Error) -> String {
    match err {
        regex::Error::Syntax(text) => text
            .lines()
            .rev()
            .find_map(|line| line.strip_prefix("error: "))
            .map_or_else(|| text.split_whitespace().collect::<Vec<_>>().join(" "), str::to_string),
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------------------
// Paths.

/// `path` made absolute against the current directory, without touching the file system.
fn absolute(path: &Path) -> Result<PathBuf, ConfigError> {
    std::path::absolute(path).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// `base.join(path)` without `.` segments (`..` is kept: it may cross a symlink).
fn clean_join(base: &Path, path: &str) -> PathBuf {
    base.join(path)
        .components()
        .filter(|component| !matches!(component, Component::CurDir))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_characters_from_one() {
        let text = "ab\nçd = 1\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 1), (1, 2));
        assert_eq!(line_column(text, 3), (2, 1));
        // 'd' follows the two-byte 'ç': byte 5, character column 2.
        assert_eq!(line_column(text, 5), (2, 2));
        // Inside a multi-byte character: the character's own column.
        assert_eq!(line_column(text, 4), (2, 1));
        assert_eq!(line_column(text, 999), (3, 1));
    }

    #[test]
    fn unknown_field_messages_are_picked_apart() {
        assert_eq!(
            unknown_field("unknown field `paralel`, expected one of `parallel`, `timeout`"),
            Some(("paralel", Some(vec!["parallel", "timeout"])))
        );
        assert_eq!(
            unknown_field("unknown field `nmae`, expected `name`"),
            Some(("nmae", Some(vec!["name"])))
        );
        assert_eq!(
            unknown_field("unknown field `strict`, expected `tool` or `python`"),
            Some(("strict", Some(vec!["tool", "python"])))
        );
        assert_eq!(
            unknown_field("unknown field `x`, there are no fields"),
            Some(("x", None))
        );
        assert_eq!(unknown_field("invalid type: integer `3`, expected a string"), None);
    }

    #[test]
    fn clean_join_drops_current_dir_segments() {
        assert_eq!(
            clean_join(Path::new("/p"), "./tests/./unit"),
            PathBuf::from("/p/tests/unit")
        );
        assert_eq!(clean_join(Path::new("/p"), "/abs/e2e"), PathBuf::from("/abs/e2e"));
        assert_eq!(clean_join(Path::new("/p"), "../x"), PathBuf::from("/p/../x"));
    }

    #[test]
    #[expect(clippy::invalid_regex, reason = "the invalid pattern is the point of the test")]
    fn regex_message_is_one_line() {
        let err = regex::Regex::new("(abc").expect_err("unclosed group");
        let message = regex_message(&err);
        assert!(!message.contains('\n'), "{message}");
        assert!(message.contains("unclosed group"), "{message}");
    }
}
