//! Everything that renders a finished run reads it from its stored evidence
//! ([`evidence::LoadedRun`]), never from the engine's in-memory results: a
//! report written at the end of a run and one written later from the runs
//! directory cannot differ.

pub mod junit;

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
    /// The report file could not be written.
    #[error(transparent)]
    Write(#[from] crate::junit_report::JunitReportError),
}

/// Writes the merged JUnit report of `run` to `path`, atomically: a reader
/// sees the previous file or the whole new one, never a part. Missing parent
/// directories are created.
pub fn write_junit(run: &LoadedRun, path: &Path) -> Result<(), ReportError> {
    let xml = junit::junit_xml(run)?;
    Ok(crate::junit_report::write_atomically(path, xml.as_bytes())?)
}
