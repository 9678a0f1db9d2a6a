//! Copies of a suite's artifacts under `artifacts/<suite>/`.
//!
//! An artifact keeps its path relative to the suite's output directory when it
//! lies below it (`test-results/x/trace.zip` stays that), else just its file
//! name. Artifacts already inside `artifacts/<suite>/` (the orchestrator may
//! point the suite's output there) are referenced, not copied. A missing
//! artifact is a warning — tools do not always write what they could — while a
//! failure to write the copy is an error.

use std::fs;
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

use crate::error::EvidenceError;
use crate::regular::open_regular_file;
use crate::suite::SuiteRecord;

/// The directory holding a suite's artifacts inside a run directory.
pub fn suite_artifacts_dir(run_dir: &Path, suite: &str) -> PathBuf {
    run_dir.join("artifacts").join(safe_name(suite))
}

/// An artifact kept in the run directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Kept {
    /// Where the suite left it (as in `SuiteRecord::artifacts`): a case's
    /// attachments name it so.
    pub(crate) source: PathBuf,
    /// Its copy, relative to the run directory.
    pub(crate) reference: String,
}

/// Copies the artifacts of `result` into `run_dir`, returning each one kept
/// with its copy's path relative to `run_dir` (in the order of
/// `result.artifacts`). Copy failures go to `on_error`; the other artifacts
/// are still copied.
pub(crate) fn collect(run_dir: &Path, result: &SuiteRecord, on_error: &mut dyn FnMut(EvidenceError)) -> Vec<Kept> {
    let dest_root = suite_artifacts_dir(run_dir, &result.name);
    let mut refs = Vec::new();
    for source in &result.artifacts {
        if let Err(err) = fs::symlink_metadata(source) {
            if err.kind() == ErrorKind::NotFound {
                log::warn!(
                    "suite {}: artifact {} does not exist; not kept",
                    result.name,
                    source.display()
                );
            } else {
                log::warn!("suite {}: artifact {} unreadable: {err}", result.name, source.display());
            }
            continue;
        }
        if let Some(inside) = relative_to(source, &dest_root) {
            // Already in place: the suite wrote it into the run directory.
            refs.push(Kept {
                source: source.clone(),
                reference: reference(run_dir, &dest_root.join(inside)),
            });
            continue;
        }
        if dest_root.starts_with(source) || canonical(&dest_root).starts_with(canonical(source)) {
            log::warn!(
                "suite {}: artifact {} contains the run directory; not copied",
                result.name,
                source.display()
            );
            continue;
        }
        let relative = result
            .output_dir
            .as_deref()
            .and_then(|out| relative_to(source, out))
            .filter(|rel| !rel.as_os_str().is_empty())
            .or_else(|| source.file_name().map(PathBuf::from))
            .unwrap_or_default();
        let dest = dest_root.join(&relative);
        match copy_any(source, &dest) {
            Ok(()) => refs.push(Kept {
                source: source.clone(),
                reference: reference(run_dir, &dest),
            }),
            Err(err) => on_error(err),
        }
    }
    refs
}

/// `path` relative to `base` when it lies below it (lexically, then after resolving symlinks).
/// Only normal components are accepted so the result cannot climb out of wherever it is joined.
fn relative_to(path: &Path, base: &Path) -> Option<PathBuf> {
    let rel = path.strip_prefix(base).ok().map(Path::to_path_buf).or_else(|| {
        canonical(path)
            .strip_prefix(canonical(base))
            .ok()
            .map(Path::to_path_buf)
    })?;
    rel.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then_some(rel)
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// `path` relative to the run directory, with `/` separators, as evidence refers to it.
fn reference(run_dir: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(run_dir).unwrap_or(path);
    let parts: Vec<_> = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect();
    parts.join("/")
}

/// A suite name usable as one path component.
fn safe_name(suite: &str) -> String {
    let name: String = suite
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match name.as_str() {
        "" | "." | ".." => "_".to_string(),
        _ => name,
    }
}

/// Copies a file, a symlink (as a symlink) or a directory tree.
fn copy_any(source: &Path, dest: &Path) -> Result<(), EvidenceError> {
    let meta = fs::symlink_metadata(source).map_err(EvidenceError::io("read", source))?;
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent).map_err(EvidenceError::io("create directory", parent))?;
    }
    let file_type = meta.file_type();
    if file_type.is_dir() {
        fs::create_dir_all(dest).map_err(EvidenceError::io("create directory", dest))?;
        let entries = fs::read_dir(source).map_err(EvidenceError::io("list", source))?;
        for entry in entries {
            let entry = entry.map_err(EvidenceError::io("list", source))?;
            copy_any(&entry.path(), &dest.join(entry.file_name()))?;
        }
        Ok(())
    } else if file_type.is_symlink() {
        // Links are kept as links: following them could copy half the disk or loop forever.
        let target = fs::read_link(source).map_err(EvidenceError::io("read link", source))?;
        let _ = fs::remove_file(dest);
        std::os::unix::fs::symlink(target, dest).map_err(EvidenceError::io("create link", dest))
    } else if file_type.is_file() {
        // Opened without waiting: a FIFO swapped in since would block the copy.
        let mut from = open_regular_file(source).map_err(EvidenceError::io("read", source))?;
        let mut to = fs::File::create(dest).map_err(EvidenceError::io("copy artifact to", dest))?;
        std::io::copy(&mut from, &mut to)
            .map(drop)
            .map_err(EvidenceError::io("copy artifact to", dest))
    } else {
        // A FIFO a test left in its output would block the copy, and the
        // run, for good; a device would never end.
        log::warn!(
            "{} is not a regular file, directory or link; left out of the artifacts",
            source.display()
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect_ok(run_dir: &Path, result: &SuiteRecord) -> Vec<String> {
        collect(run_dir, result, &mut |err| panic!("unexpected error: {err}"))
            .into_iter()
            .map(|kept| kept.reference)
            .collect()
    }

    #[test]
    fn keeps_paths_below_the_output_dir_and_file_names_otherwise() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("out");
        fs::create_dir_all(out.join("test-results/case-a")).expect("mkdir");
        fs::write(out.join("junit.xml"), "<testsuites/>").expect("write");
        fs::write(out.join("test-results/case-a/trace.zip"), "zip").expect("write");
        let elsewhere = tmp.path().join("elsewhere.log");
        fs::write(&elsewhere, "log").expect("write");
        let run_dir = tmp.path().join("run");
        fs::create_dir(&run_dir).expect("mkdir");

        let mut result = SuiteRecord::of("e2e", "playwright", Vec::new());
        result.output_dir = Some(out.clone());
        result.artifacts = vec![
            out.join("junit.xml"),
            out.join("test-results"),
            elsewhere,
            out.join("gone.txt"),
        ];
        let refs = collect_ok(&run_dir, &result);

        assert_eq!(
            refs,
            [
                "artifacts/e2e/junit.xml",
                "artifacts/e2e/test-results",
                "artifacts/e2e/elsewhere.log"
            ],
            "the missing artifact is skipped"
        );
        let copied = run_dir.join("artifacts/e2e/test-results/case-a/trace.zip");
        assert_eq!(fs::read_to_string(copied).expect("copied recursively"), "zip");
        assert_eq!(
            fs::read_to_string(run_dir.join("artifacts/e2e/elsewhere.log")).expect("copied"),
            "log"
        );
    }

    #[test]
    fn artifacts_already_in_the_run_are_referenced_not_copied() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let run_dir = tmp.path().join("run");
        let out = suite_artifacts_dir(&run_dir, "unit");
        fs::create_dir_all(&out).expect("mkdir");
        fs::write(out.join("junit.xml"), "<testsuites/>").expect("write");
        let mut result = SuiteRecord::of("unit", "pytest", Vec::new());
        result.output_dir = Some(out.clone());
        result.artifacts = vec![out.join("junit.xml"), out.clone()];
        let refs = collect_ok(&run_dir, &result);
        assert_eq!(refs, ["artifacts/unit/junit.xml", "artifacts/unit"]);
        let entries: Vec<_> = fs::read_dir(&out).expect("ls").collect();
        assert_eq!(entries.len(), 1, "nothing was duplicated");
    }

    #[test]
    fn suite_names_cannot_escape_the_artifacts_dir() {
        assert_eq!(safe_name("../x"), ".._x");
        assert_eq!(safe_name(".."), "_");
        assert_eq!(safe_name("api v2"), "api_v2");
        let run = Path::new("/r");
        assert!(suite_artifacts_dir(run, "../../etc").starts_with("/r/artifacts"));
    }

    #[test]
    fn symlinks_are_copied_as_links() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("out");
        fs::create_dir_all(out.join("d")).expect("mkdir");
        std::os::unix::fs::symlink("..", out.join("d/loop")).expect("symlink");
        let run_dir = tmp.path().join("run");
        let mut result = SuiteRecord::of("unit", "pytest", Vec::new());
        result.output_dir = Some(out.clone());
        result.artifacts = vec![out.join("d")];
        let refs = collect_ok(&run_dir, &result);
        assert_eq!(refs, ["artifacts/unit/d"]);
        let link = run_dir.join("artifacts/unit/d/loop");
        assert!(fs::symlink_metadata(&link).expect("exists").file_type().is_symlink());
    }

    #[test]
    fn fifos_and_sockets_are_left_out_never_opened() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("out");
        fs::create_dir_all(out.join("d")).expect("mkdir");
        fs::write(out.join("d/trace.txt"), "kept").expect("write");
        let _socket = std::os::unix::net::UnixListener::bind(out.join("d/sock")).expect("socket");
        let fifo = std::process::Command::new("mkfifo").arg(out.join("d/pipe")).status();
        assert!(fifo.expect("mkfifo").success());
        let run_dir = tmp.path().join("run");
        let mut result = SuiteRecord::of("e2e", "playwright", Vec::new());
        result.output_dir = Some(out.clone());
        result.artifacts = vec![out.join("d")];
        assert_eq!(collect_ok(&run_dir, &result), ["artifacts/e2e/d"]);
        let copied = run_dir.join("artifacts/e2e/d");
        assert_eq!(fs::read_to_string(copied.join("trace.txt")).expect("copied"), "kept");
        assert!(!copied.join("sock").exists() && !copied.join("pipe").exists());
    }

    #[test]
    fn a_failed_copy_is_reported() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let source = tmp.path().join("junit.xml");
        fs::write(&source, "x").expect("write");
        let run_dir = tmp.path().join("run");
        // A file where the artifacts directory should be makes every copy fail.
        fs::create_dir_all(&run_dir).expect("mkdir");
        fs::write(run_dir.join("artifacts"), "in the way").expect("write");
        let mut result = SuiteRecord::of("unit", "pytest", Vec::new());
        result.artifacts = vec![source];
        let mut errors = Vec::new();
        let refs = collect(&run_dir, &result, &mut |err| errors.push(err.to_string()));
        assert!(refs.is_empty());
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("artifacts"), "{errors:?}");
    }
}
