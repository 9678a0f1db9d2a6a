//! Reading JUnit XML as real tools write it.
//!
//! (Placeholder API; the streaming reader lands in the next commit.)

use std::path::{Path, PathBuf};

use crate::case::{TestCase, TestStatus};

/// One `<testcase>` as read from a JUnit file.
#[derive(Debug, Clone, PartialEq)]
pub struct JunitCase {
    /// `name` attribute.
    pub name: String,
    /// `classname` attribute (empty when absent).
    pub classname: String,
    /// `file` attribute (pytest's xunit1 family, Playwright).
    pub file: Option<String>,
    /// `line` attribute, when given.
    pub line: Option<u32>,
    /// `name` of the innermost enclosing `<testsuite>`.
    pub suite_name: Option<String>,
    /// `hostname` of the innermost enclosing `<testsuite>` (Playwright puts the project there).
    pub hostname: Option<String>,
    /// `time` in seconds, when given.
    pub time: Option<f64>,
    /// Derived from the `<failure>`, `<error>`, `<skipped>` children.
    pub status: TestStatus,
    /// `message` of the failure / error / skipped element.
    pub message: Option<String>,
    /// `type` of the failure / error element.
    pub error_type: Option<String>,
    /// Text of the failure / error / skipped element.
    pub details: Option<String>,
    /// `<system-out>` text.
    pub system_out: Option<String>,
    /// `<system-err>` text.
    pub system_err: Option<String>,
}

impl JunitCase {
    /// The case as a [`TestCase`] (no selector; runners add it).
    pub fn into_test_case(self) -> TestCase {
        TestCase {
            name: self.name,
            classname: self.classname,
            file: self.file,
            selector: None,
            status: self.status,
            duration: self.time.unwrap_or(0.0),
            message: self.message,
            error_type: self.error_type,
            details: self.details,
            system_out: self.system_out,
            system_err: self.system_err,
            attempts: 1,
            flaky: false,
            previous_failures: Vec::new(),
        }
    }
}

/// A JUnit file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum JunitError {
    /// The file could not be opened or read.
    #[error("cannot read JUnit file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not well-formed JUnit XML (or is truncated).
    #[error("malformed JUnit file {}, line {line}, column {column}: {message}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: u64,
        /// 1-based column of the problem.
        column: u64,
        /// What is wrong.
        message: String,
    },
}

/// Reads every test case of one JUnit XML file.
pub fn read_file(path: &Path) -> Result<Vec<JunitCase>, JunitError> {
    Err(JunitError::Malformed {
        path: path.to_path_buf(),
        line: 1,
        column: 1,
        message: "reader not implemented yet".into(),
    })
}
