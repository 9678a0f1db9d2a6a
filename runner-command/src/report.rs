//! Finding the JUnit report a command wrote: one file, or every `*.xml` file
//! below a directory but qaagent's own output — and only what this attempt
//! wrote.
//!
//! The report may live outside the attempt's output directory (nextest writes
//! below the workspace's `target/`); whatever was there before the attempt
//! was moved away first ([`runner_api::conclude::set_aside_reports`]), so
//! every report found here is this attempt's; other XML left there (not
//! qaagent's to move) is read too, and is an error saying why. Such a
//! report is copied into the attempt's output dir as soon as it is read
//! ([`keep`]), so that each attempt's artifacts hold its own report. Only
//! regular files are reports: a FIFO, a device or a socket at the path (or
//! named like a report below the directory) is an error, never read or
//! copied, and a sparse file is not copied.

use std::path::{Path, PathBuf};

use runner_api::conclude::JunitOutcome;
use runner_api::junit::{self, JunitError, JunitReport};
use runner_api::report_dir::{kept_name, report_files};
use runner_api::SuiteContext;

/// What the tool wrote at `path`: each report file's rows and what it says
/// went wrong beyond them (in the order of the files), and the files (to
/// keep as artifacts).
pub fn read(ctx: &SuiteContext, path: &Path) -> (Result<Vec<JunitReport>, JunitOutcome>, Vec<PathBuf>) {
    let fresh = match report_files(ctx, path) {
        Ok(files) => files,
        Err(err) => return (Err(JunitOutcome::Unreadable(err)), Vec::new()),
    };
    if fresh.is_empty() {
        return (Err(JunitOutcome::Missing(path.to_path_buf())), Vec::new());
    }
    let mut reports = Vec::with_capacity(fresh.len());
    for file in &fresh {
        match junit::read_report(file) {
            Ok(report) => reports.push(report),
            Err(err) => return (Err(JunitOutcome::Unreadable(explained(path, file, err))), fresh),
        }
    }
    (Ok(reports), fresh)
}

/// `err`, saying why a file the tool did not write was read: every `*.xml`
/// file below a report directory is read as the tool's report, and other
/// XML is not moved out of the way (it is not qaagent's to move).
fn explained(report: &Path, file: &Path, err: JunitError) -> JunitError {
    match err {
        JunitError::Malformed {
            path,
            line,
            column,
            message,
        } if report.is_dir() && !junit::looks_like_report(file) => JunitError::Malformed {
            path,
            line,
            column,
            message: format!(
                "{message} (not a JUnit report: every *.xml file below the report directory {} is read as the tool's; point `junit` at a directory only the tool writes reports to)",
                report.display()
            ),
        },
        err => err,
    }
}

/// The report files `files` (of the report at `report`) as this attempt
/// keeps them: a report outside the attempt's output dir (nextest writes
/// below the workspace's `target/`) is copied into it now, under its path
/// below the report directory ([`kept_name`]), before the next attempt can
/// overwrite it, and the copy is what the attempt's artifacts name. A
/// report that cannot be copied is named where it is, with a warning;
/// one that must not be copied (a sparse file: its copy would be written
/// in full, 50 GB once) is left out of the artifacts too. Returns each
/// file's name (in the order of `files`) and the artifacts.
pub fn keep(ctx: &SuiteContext, report: &Path, files: Vec<PathBuf>) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut artifacts = Vec::with_capacity(files.len());
    let names = files
        .into_iter()
        .map(|file| {
            if file.starts_with(&ctx.output_dir) {
                artifacts.push(file.clone());
                return file;
            }
            let copy = ctx.output_dir.join(kept_name(report, &file));
            let copied = match copy.parent() {
                Some(parent) => std::fs::create_dir_all(parent),
                None => Ok(()),
            }
            .and_then(|()| runner_api::outdir::copy_file(&file, &copy));
            match copied {
                Ok(()) => {
                    artifacts.push(copy.clone());
                    copy
                }
                Err(err) if err.kind() == std::io::ErrorKind::InvalidInput => {
                    log::warn!(
                        "[{}] not keeping the report {} in the artifacts: {err}",
                        ctx.suite,
                        file.display()
                    );
                    file
                }
                Err(err) => {
                    log::warn!(
                        "[{}] cannot keep a copy of the report {} in {}: {err}",
                        ctx.suite,
                        file.display(),
                        copy.display()
                    );
                    artifacts.push(file.clone());
                    file
                }
            }
        })
        .collect();
    (names, artifacts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_report_is_missing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("junit.xml");
        let ctx = SuiteContext::new("s", dir.path(), dir.path(), dir.path().join("out"));
        let (outcome, files) = read(&ctx, &path);
        assert!(matches!(outcome, Err(JunitOutcome::Missing(p)) if p == path));
        assert!(files.is_empty());
    }

    #[test]
    fn directory_lists_only_its_xml_files_sorted() {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in ["TEST-b.xml", "TEST-a.XML", "notes.txt"] {
            std::fs::write(dir.path().join(name), "x").expect("write");
        }
        std::fs::create_dir(dir.path().join("nested.xml")).expect("dir");
        let ctx = SuiteContext::new("s", dir.path(), dir.path(), dir.path().join("out"));
        let files = report_files(&ctx, dir.path()).expect("listed");
        let names: Vec<_> = files
            .iter()
            .map(|f| f.file_name().expect("name").to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["TEST-a.XML", "TEST-b.xml"]);
    }
}
