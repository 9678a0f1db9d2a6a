//! Errors the CLI reports, each with its exit code and an optional hint.

use orchestrator::config::ConfigError;
use orchestrator::plan::PlanError;

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
    /// The evidence store could not be written.
    #[error("evidence: {0}")]
    Evidence(String),
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
            CliError::Usage(_) | CliError::Evidence(_) | CliError::Io { .. } => None,
        }
    }

    /// The exit code it maps to.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Config(_) | CliError::Plan(_) | CliError::Usage(_) | CliError::Evidence(_) => exit::USAGE,
            CliError::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe => exit::SUCCESS,
            CliError::Io { .. } => exit::TEST_FAILED,
        }
    }
}
