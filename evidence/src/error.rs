//! The errors of the run store, each carrying what was being done and to which path.

use std::fmt;
use std::path::PathBuf;

/// Everything that can go wrong creating, writing or reading a run.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// No `--runs-dir`, no `$QAAGENT_RUNS_DIR` and no `$HOME` to derive `~/.qaagent/runs` from.
    #[error("cannot locate the runs directory: no --runs-dir, QAAGENT_RUNS_DIR or HOME")]
    NoHome,
    /// A file system operation failed.
    #[error("cannot {what} {}: {source}", path.display())]
    Io {
        /// What was being done (`create run directory`, `write`, …).
        what: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A manifest or record could not be serialized.
    #[error("cannot serialize {what}: {source}")]
    Serialize {
        /// What was being serialized.
        what: &'static str,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// Every run id for this second, up to the last suffix, is taken.
    #[error("no free run id for {base} in {}", root.display())]
    RunIdsExhausted {
        /// The timestamp part of the id.
        base: String,
        /// The runs root.
        root: PathBuf,
    },
    /// The same suite index was reported finished twice; the second report is ignored.
    #[error("suite #{index} ({suite}) was reported finished twice")]
    DuplicateSuite {
        /// The suite's index in suite_order.
        index: usize,
        /// The suite's name in the second report.
        suite: String,
    },
    /// A file only qaagent writes was changed by something else during the
    /// run (a tool under test): its records can no longer be trusted.
    #[error("{} was changed during the run by something other than qaagent: its records cannot be trusted", path.display())]
    ChangedBehindOurBack {
        /// The file.
        path: PathBuf,
    },
    /// The writer thread has already stopped (finished or panicked); nothing more can be recorded.
    #[error("the evidence writer has stopped")]
    WriterGone,
    /// The writer thread panicked.
    #[error("the evidence writer thread panicked: {0}")]
    WriterPanicked(String),
    /// The writer thread could not be started.
    #[error("cannot start the evidence writer thread: {0}")]
    WriterSpawn(#[source] std::io::Error),
    /// A run id given by the user is not a run id (it would escape the runs root).
    #[error("invalid run id {0:?}")]
    InvalidRunId(String),
    /// No run with this id exists.
    #[error("no run {id} in {}", root.display())]
    RunNotFound {
        /// The id asked for.
        id: String,
        /// The runs root searched.
        root: PathBuf,
    },
    /// `latest` was asked for and the runs root holds no run.
    #[error("no runs in {}", root.display())]
    NoRuns {
        /// The runs root searched.
        root: PathBuf,
    },
    /// `latest` was asked for within a project and the runs root holds none of its runs.
    #[error("no runs of the project in {} in {}", project.display(), root.display())]
    NoRunsOfProject {
        /// The project directory.
        project: PathBuf,
        /// The runs root searched.
        root: PathBuf,
    },
    /// The run exists but its manifest cannot be used.
    #[error("run {run_id}: {problem}")]
    BadManifest {
        /// The run.
        run_id: String,
        /// What is wrong with its manifest.
        problem: ManifestProblem,
    },
    /// A bundle (`runs export`) that is not a gzip-compressed tar of one
    /// run, or holds what unpacking refuses (a path out of the run, a link, a device).
    #[error("bundle {}: {why}", path.display())]
    BadBundle {
        /// The bundle.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// A line of a JSON file does not parse.
    #[error("{}, line {line}: {source}", path.display())]
    BadRecord {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
}

impl EvidenceError {
    /// Wraps an I/O error with what was being done and where.
    pub(crate) fn io(what: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| EvidenceError::Io { what, path, source }
    }
}

/// Why a run directory's manifest cannot be used (shown by `runs list` instead of the run's data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestProblem {
    /// There is no manifest.json (the run was killed between creating its directory and its manifest).
    Missing,
    /// manifest.json exists but cannot be read.
    Unreadable(String),
    /// manifest.json is not a JSON manifest.
    Corrupt(String),
}

impl fmt::Display for ManifestProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManifestProblem::Missing => f.write_str("manifest.json is missing"),
            ManifestProblem::Unreadable(why) => write!(f, "manifest.json cannot be read: {why}"),
            ManifestProblem::Corrupt(why) => write!(f, "manifest.json is corrupt: {why}"),
        }
    }
}
