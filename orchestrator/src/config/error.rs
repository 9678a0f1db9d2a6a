//! Why a config could not be found, read or accepted.

use std::path::PathBuf;

use super::FILE_NAME;

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
