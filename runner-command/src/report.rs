//! Finding the JUnit report a command wrote: one file, or every `*.xml` file
//! directly inside a directory — and only what this attempt wrote.
//!
//! The report may live outside the attempt's output directory (nextest writes
//! below the workspace's `target/`), where an earlier run's report can still
//! lie. What was there before the tool started is noted ([`Snapshot`]), and a
//! file counts only if it is new or changed since, so a stale report is never
//! read as this attempt's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use runner_api::conclude::JunitOutcome;
use runner_api::junit::{self, JunitReport};

/// What a file looked like before the tool ran.
type Stamp = (Option<SystemTime>, u64);

/// The report files present before the tool started.
#[derive(Debug, Default)]
pub struct Snapshot {
    files: BTreeMap<PathBuf, Stamp>,
}

impl Snapshot {
    /// Notes the report file at `path`, or the `*.xml` files in it when it is a directory.
    pub fn take(path: &Path) -> Self {
        let files = report_files(path)
            .into_iter()
            .filter_map(|file| stamp(&file).map(|s| (file, s)))
            .collect();
        Snapshot { files }
    }

    fn is_fresh(&self, file: &Path) -> bool {
        match (self.files.get(file), stamp(file)) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(before), Some(now)) => *before != now,
        }
    }
}

/// The rows of the report(s) the tool wrote at `path` since `before`, what
/// they say went wrong beyond their rows, and the files they came from (to
/// keep as artifacts).
pub fn read(path: &Path, before: &Snapshot) -> (Result<JunitReport, JunitOutcome>, Vec<PathBuf>) {
    let all = report_files(path);
    let (fresh, stale): (Vec<PathBuf>, Vec<PathBuf>) = all.into_iter().partition(|file| before.is_fresh(file));
    for file in &stale {
        log::info!(
            "ignoring {}: it was there before the tool ran and was not rewritten",
            file.display()
        );
    }
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

fn stamp(file: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(file).ok()?;
    Some((meta.modified().ok(), meta.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_report_is_missing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("junit.xml");
        let before = Snapshot::take(&path);
        let (outcome, files) = read(&path, &before);
        assert!(matches!(outcome, Err(JunitOutcome::Missing(p)) if p == path));
        assert!(files.is_empty());
    }

    #[test]
    fn a_report_left_from_before_is_not_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("junit.xml");
        std::fs::write(&path, "<testsuites/>").expect("write");
        let before = Snapshot::take(&path);
        let (outcome, _) = read(&path, &before);
        assert!(matches!(outcome, Err(JunitOutcome::Missing(_))), "{outcome:?}");
    }

    #[test]
    fn a_rewritten_report_counts_as_fresh() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("junit.xml");
        std::fs::write(&path, "<testsuites/>").expect("write");
        let before = Snapshot::take(&path);
        std::fs::write(&path, "<testsuites></testsuites>").expect("rewrite");
        assert!(before.is_fresh(&path));
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
