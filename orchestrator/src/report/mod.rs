//! Everything that renders a finished run reads it from its stored evidence
//! ([`evidence::LoadedRun`]), never from the engine's in-memory results: a
//! report written at the end of a run and one written later from the runs
//! directory cannot differ: the JUnit XML (`junit`), GitHub annotations
//! (`github`) and the HTML page (`html`).

pub mod flaky_history;
pub mod github;
mod html;
pub mod junit;

pub use html::{write_html, write_run_report, REPORT_FILE};
pub(crate) use html::{write_run_report_from, Page};

use std::path::Path;

use evidence::{EvidenceError, LoadedRun};

/// Why a report could not be made or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The stored run could not be read.
    #[error(transparent)]
    Evidence(#[from] EvidenceError),
    /// The JUnit report could not be turned into XML.
    #[error("cannot serialize the JUnit report: {0}")]
    Junit(#[source] quick_junit::SerializeError),
    /// The report's directory could not be created.
    #[error("cannot create directory {}: {source}", path.display())]
    CreateDir {
        /// The directory.
        path: std::path::PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Something other than a regular file is where the report should go.
    #[error("{} is not a regular file: a report does not replace it", path.display())]
    NotAFile {
        /// The report's path.
        path: std::path::PathBuf,
    },
    /// The HTML report's data could not be turned into JSON.
    #[error("cannot serialize the HTML report's data: {0}")]
    Html(#[source] serde_json::Error),
    /// The report file could not be written.
    #[error(transparent)]
    Write(EvidenceError),
}

/// Writes the merged JUnit report of `run` to `path`, atomically: a reader
/// sees the previous file or the whole new one, never a part. Missing parent
/// directories are created.
/// When it cannot be written, a report already at `path` is removed (see
/// [`discard_stale`]).
pub fn write_junit(run: &LoadedRun, path: &Path) -> Result<(), ReportError> {
    check_destination(path)?;
    let written = junit::junit_xml(run).and_then(|xml| {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| ReportError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        evidence::write_atomically(path, xml.as_bytes()).map_err(ReportError::Write)
    });
    if written.is_err() {
        discard_stale(path);
    }
    written
}

/// Removes the regular file at `path`, where this run's report could not
/// be written: a CI system publishes the file, not qaagent's exit code, and
/// an earlier run's report (or one a tool forged there, then blocked the
/// write) would read as this run's.
pub fn discard_stale(path: &Path) {
    if !std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_file()) {
        return;
    }
    match std::fs::remove_file(path) {
        Ok(()) => log::warn!(
            "removed {}: this run's report could not replace it, and it is not this run's",
            path.display()
        ),
        Err(err) => log::warn!(
            "{} is not this run's report, and could not be removed: {err}",
            path.display()
        ),
    }
}

/// Refuses a destination that is there but is no regular file: a report is
/// renamed into place, which would replace a device, a directory or a
/// symbolic link (not write through it).
pub fn check_destination(path: &Path) -> Result<(), ReportError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.file_type().is_file() => Err(ReportError::NotAFile {
            path: path.to_path_buf(),
        }),
        _ => Ok(()),
    }
}
