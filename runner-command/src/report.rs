//! Finding the JUnit report a command wrote: one file, or every `*.xml` file
//! directly inside a directory — and only what this attempt wrote.
//!
//! The report may live outside the attempt's output directory (nextest writes
//! below the workspace's `target/`); whatever was there before the attempt
//! was moved away first ([`runner_api::conclude::set_aside_reports`]), so
//! every file found here is this attempt's. Such a report is copied into the
//! attempt's output dir as soon as it is read ([`keep`]), so that each
//! attempt's artifacts hold its own report.

use std::path::{Path, PathBuf};

use runner_api::conclude::JunitOutcome;
use runner_api::junit::{self, JunitReport};
use runner_api::SuiteContext;

/// The rows of the report(s) the tool wrote at `path`, what they say went
/// wrong beyond their rows, and the files they came from (to keep as
/// artifacts).
pub fn read(path: &Path) -> (Result<JunitReport, JunitOutcome>, Vec<PathBuf>) {
    let fresh = report_files(path);
    if fresh.is_empty() {
        return (Err(JunitOutcome::Missing(path.to_path_buf())), Vec::new());
    }
    let mut all = JunitReport::default();
    for file in &fresh {
        match junit::read_report(file) {
            Ok(mut report) => {
                all.cases.append(&mut report.cases);
                all.problems.append(&mut report.problems);
            }
            Err(err) => return (Err(JunitOutcome::Unreadable(err)), fresh),
        }
    }
    (Ok(all), fresh)
}

/// The report files `files` as this attempt keeps them: a report outside
/// the attempt's output dir (nextest writes below the workspace's
/// `target/`) is copied into it now, before the next attempt can overwrite
/// it, and the copy is what the attempt's artifacts name. A report that
/// cannot be copied is named where it is, with a warning.
pub fn keep(ctx: &SuiteContext, files: Vec<PathBuf>) -> Vec<PathBuf> {
    files
        .into_iter()
        .map(|file| {
            if file.starts_with(&ctx.output_dir) {
                return file;
            }
            let Some(name) = file.file_name() else { return file };
            let copy = ctx.output_dir.join(name);
            match runner_api::outdir::copy_file(&file, &copy) {
                Ok(()) => copy,
                Err(err) => {
                    log::warn!(
                        "[{}] cannot keep a copy of the report {} in {}: {err}",
                        ctx.suite,
                        file.display(),
                        copy.display()
                    );
                    file
                }
            }
        })
        .collect()
}

/// The report files at `path`: the file itself, or a directory's `*.xml`
/// files (not recursing, in name order).
fn report_files(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    if !path.is_dir() {
        return Vec::new();
    }
    junit::xml_files_in(path).unwrap_or_else(|err| {
        log::warn!("cannot list JUnit reports: {err}");
        Vec::new()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_report_is_missing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("junit.xml");
        let (outcome, files) = read(&path);
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
        let files = report_files(dir.path());
        let names: Vec<_> = files
            .iter()
            .map(|f| f.file_name().expect("name").to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["TEST-a.XML", "TEST-b.xml"]);
    }
}
