//! The trait every test runner implements.

use std::path::PathBuf;

use crate::context::SuiteContext;
use crate::result::SuiteResult;
use crate::settings::SettingsError;

/// Why a runner could not produce a [`SuiteResult`] at all. The orchestrator
/// turns it into a suite with `errors = 1` carrying this message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunnerError {
    /// The tool is not installed or cannot be found; the message says how to install it.
    #[error("{tool} not found: {hint}")]
    ToolMissing {
        /// What is missing (`pytest`, `npx`, …).
        tool: String,
        /// What to do about it.
        hint: String,
    },
    /// Starting or supervising the tool's process failed.
    #[error(transparent)]
    Process(#[from] crate::process::ProcessError),
    /// Preparing the attempt failed (a directory could not be made, a file written).
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The suite's runner-specific settings are invalid.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// Anything else the runner wants to say.
    #[error("{0}")]
    Other(String),
}

/// One test tool, driven by qaagent. Implementations must be cheap to share
/// across threads: one instance runs every suite that names it, possibly at
/// the same time.
///
/// See `docs/writing-a-runner.md` for the full contract.
pub trait Runner: Send + Sync {
    /// The name users write as `runner = "…"`.
    fn name(&self) -> &str;

    /// Checks the runner-specific keys of a `[tests.NAME]` table (everything
    /// that is not a common suite key). Runners usually call
    /// [`parse_settings`](crate::settings::parse_settings) with their own
    /// settings type here, and read them in [`run`](Self::run) and
    /// [`tool_version`](Self::tool_version) with
    /// [`SuiteContext::settings_as`], which parses once per suite.
    fn check_settings(&self, settings: &toml::Table) -> Result<(), SettingsError>;

    /// The tool's version as it reports it, for the manifest and
    /// `config check`. `None` when it cannot be asked (not installed). Read
    /// it from a file where the tool keeps one; ask the tool only through
    /// [`SuiteContext::probe`], which a time limit and the run's cancel
    /// token bound, so a version that never comes cannot hold up the run.
    fn tool_version(&self, ctx: &SuiteContext) -> Option<String>;

    /// For `config check`, when [`tool_version`](Self::tool_version) gave
    /// nothing although the tool is there: a few words on why (a `command`
    /// suite without a `version` key: "version not asked: no `version` key").
    /// `None`, the default, means the tool could not be found, and `config
    /// check` says so with an install hint.
    fn version_unknown_because(&self, _ctx: &SuiteContext) -> Option<String> {
        None
    }

    /// The selectors of the suite's tests — what [`TestCase::selector`]
    /// will say of them once they ran — listed without running them, so a
    /// run can be spread over machines (`run-all --partition K/N`) and each
    /// machine runs its share through [`Selection::Only`]. `Ok(None)`, the
    /// default, means the runner cannot list: the suite is one unit. Start
    /// the tool through [`SuiteContext::run_supervised`]; `ctx.output_dir`
    /// is scratch space that is thrown away.
    ///
    /// [`TestCase::selector`]: crate::TestCase::selector
    /// [`Selection::Only`]: crate::Selection::Only
    fn collect(&self, _ctx: &SuiteContext) -> Result<Option<Vec<String>>, RunnerError> {
        Ok(None)
    }

    /// Whether the tool spreads a suite's tests over workers of its own
    /// (Playwright Test does): such a suite is never split into several
    /// processes (`split = N`), which would only multiply those workers.
    /// `false`, the default, lets qaagent split it.
    fn has_own_workers(&self) -> bool {
        false
    }

    /// Whether the runner can run one share of a split suite by itself
    /// (from [`SuiteContext::share`]): the tool collects the whole suite and
    /// keeps its share, balanced by the stored durations, so no listing runs
    /// before the shares start. It must then say, before running any test,
    /// which tests it kept ([`SuiteResult::share_tests`]), so that a share
    /// that ends early has its unfinished tests known. `false`, the default,
    /// has qaagent list the suite first and give each share its tests.
    ///
    /// [`SuiteContext::share`]: crate::SuiteContext::share
    fn selects_own_share(&self) -> bool {
        false
    }

    /// Whether the tool says its version in its live stream as it starts
    /// ([`StreamLine::Version`], from a plugin of ours loaded into it), so
    /// that no process need be started to ask it: qaagent then calls
    /// [`tool_version`](Self::tool_version) only for a suite whose run did
    /// not say it. `false`, the default, has qaagent ask `tool_version`
    /// while the suite's first attempt runs.
    ///
    /// [`StreamLine::Version`]: crate::stream::StreamLine::Version
    fn version_in_stream(&self) -> bool {
        false
    }

    /// Runs one attempt of the suite described by `ctx`: the tests in
    /// `ctx.selection`, writing only below `ctx.output_dir`, through
    /// [`SuiteContext::run_supervised`] so timeouts and interrupts apply.
    fn run(&self, ctx: &SuiteContext) -> Result<SuiteResult, RunnerError>;
}
