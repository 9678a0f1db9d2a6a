//! Errors the CLI reports, each with its exit code and an optional hint.

use std::path::PathBuf;

use evidence::EvidenceError;
use orchestrator::config::ConfigError;
use orchestrator::merge::MergeError;
use orchestrator::plan::PlanError;
use orchestrator::rerun::RerunError;
use orchestrator::run::RunError;
use orchestrator::run::SessionError;

use crate::exit;

/// Why a command could not do its work.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The config could not be found, read or validated.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The command line asks for something the config lacks.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// A flag's value is invalid.
    #[error("{0}")]
    Usage(String),
    /// The run's evidence could not be created (a full disk, a file-size
    /// limit, a runs directory that cannot be written).
    #[error("the evidence could not be written: {0}")]
    Evidence(EvidenceError),
    /// `--rerun-failed`: the run's failures cannot be known.
    #[error(transparent)]
    Rerun(RerunError),
    /// A run could not be found or read back (`runs list`, `runs show`).
    #[error(transparent)]
    Runs(EvidenceError),
    /// `qaagent merge` could not merge the runs given.
    #[error(transparent)]
    Merge(#[from] MergeError),
    /// `qaagent init` would overwrite an existing config.
    #[error("{} already exists", path.display())]
    ConfigExists {
        /// The config file that is there.
        path: PathBuf,
    },
    /// `qaagent init` in a directory below a project that has a config.
    #[error("{} already configures this directory", path.display())]
    ConfigAbove {
        /// The config file of the enclosing project.
        path: PathBuf,
    },
    /// `config import`: the profile is not YAML or has a value of the wrong shape.
    #[error("{}: {source}", path.display())]
    Profile {
        /// The profile.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: crate::config_import::ProfileError,
    },
    /// Writing to the terminal or a file failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl CliError {
    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            CliError::Config(err) => err.hint().map(str::to_string),
            CliError::Plan(err) => err.hint(),
            CliError::Runs(err) | CliError::Rerun(RerunError::Evidence { source: err, .. }) => runs_hint(err),
            CliError::Rerun(RerunError::Unfinished { .. }) => Some(
                "re-run it whole, or pass --allow-unfinished to re-run the failures it recorded, which may not be all"
                    .into(),
            ),
            CliError::ConfigExists { .. } => {
                Some("check it with `qaagent config check`, or pass --force to replace it with a fresh one".into())
            }
            CliError::ConfigAbove { path } => Some(format!(
                "add a [tests.NAME] table to {} instead, or pass --force to write a separate config here that hides it",
                path.display()
            )),
            CliError::Evidence(_) => {
                Some("check that the runs directory (--runs-dir, $QAAGENT_RUNS_DIR) is writable and has room".into())
            }
            CliError::Profile { .. } => Some(
                "the profile must be the Python qaagent's .qaagent.yaml: project: {name: …}, app: {ENV: {base_url: …}}, \
                 tests: {unit: {output_dir: …, enabled: true}}, run: {…}"
                    .into(),
            ),
            CliError::Merge(MergeError::NotOneRun { .. }) => Some(
                "give every shard's run once; --allow-partial merges what is there into a run marked partial, which never passes"
                    .into(),
            ),
            CliError::Usage(_) | CliError::Io { .. } | CliError::Merge(_) => None,
        }
    }

    /// Whether stdout was closed by its reader (`qaagent runs list | head`): not an error, nothing to say.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, CliError::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
    }

    /// The exit code it maps to.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Config(_)
            | CliError::Plan(_)
            | CliError::Usage(_)
            | CliError::Rerun(_)
            | CliError::ConfigExists { .. }
            | CliError::ConfigAbove { .. }
            | CliError::Profile { .. } => exit::USAGE,
            // Never 0 (nothing was recorded) nor 2 (nothing the user typed is wrong).
            CliError::Evidence(_) => exit::TEST_FAILED,
            CliError::Runs(err) if runs_usage_error(err) => exit::USAGE,
            CliError::Runs(_) => exit::TEST_FAILED,
            CliError::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe => exit::SUCCESS,
            CliError::Io { .. } => exit::TEST_FAILED,
            CliError::Merge(err) if err.is_input_error() => exit::USAGE,
            CliError::Merge(_) => exit::TEST_FAILED,
        }
    }
}

impl From<RunError> for CliError {
    fn from(err: RunError) -> Self {
        match err {
            // The engine names the file; the user knows it by its flag.
            RunError::JunitDestination { path, reason } => {
                CliError::Usage(format!("--junit {}: {reason}", path.display()))
            }
            RunError::OutDestination { path, reason } => CliError::Usage(format!("--out {}: {reason}", path.display())),
            RunError::Session(SessionError::Evidence(err)) if runs_usage_error(&err) => CliError::Runs(err),
            RunError::Session(SessionError::Evidence(err)) => CliError::Evidence(err),
            RunError::Session(SessionError::Diagnostics(err)) => CliError::Usage(err.to_string()),
            other => CliError::Io {
                what: "cannot start the run".into(),
                source: std::io::Error::other(other),
            },
        }
    }
}

/// Whether a run-store error is the user's to fix (a wrong id, an empty
/// runs dir) rather than a damaged or unreadable store.
fn runs_usage_error(err: &EvidenceError) -> bool {
    matches!(
        err,
        EvidenceError::InvalidRunId(_)
            | EvidenceError::RunNotFound { .. }
            | EvidenceError::NoRuns { .. }
            | EvidenceError::NoRunsOfProject { .. }
            | EvidenceError::NoHome
    )
}

fn runs_hint(err: &EvidenceError) -> Option<String> {
    match err {
        EvidenceError::InvalidRunId(_) | EvidenceError::RunNotFound { .. } => Some(
            "`qaagent runs list` shows the run ids (pass the same --runs-dir); `latest` names the newest run".into(),
        ),
        EvidenceError::NoRuns { .. } => Some(
            "`qaagent run-all` records a run; pass --runs-dir DIR (or set QAAGENT_RUNS_DIR) to read runs elsewhere"
                .into(),
        ),
        EvidenceError::NoRunsOfProject { .. } => Some(
            "`qaagent runs list --all` lists the runs of every project; `qaagent runs show RUN_ID` shows any of them"
                .into(),
        ),
        EvidenceError::NoHome => Some("pass --runs-dir DIR or set QAAGENT_RUNS_DIR".into()),
        _ => None,
    }
}
