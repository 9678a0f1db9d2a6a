//! Copying one run's files into another (`qaagent merge`) without ever
//! following a link, and checking the run-relative paths evidence refers to.
//!
//! Files are hard-linked where the file system allows (shard runs in the
//! same runs root cost no space), else copied. Symbolic links and special
//! files are not taken: a link could point anywhere on the machine that
//! made the run, and following it would copy what is not the run's.

use std::fs;
use std::path::{Component, Path};

use crate::error::EvidenceError;

/// Copies the tree at `from` to `to` (created), hard-linking files where it
/// can; returns what was left out (links, devices, …), relative to `from`.
/// A missing `from` is an empty tree.
pub fn copy_tree(from: &Path, to: &Path) -> Result<Vec<String>, EvidenceError> {
    let mut skipped = Vec::new();
    match fs::symlink_metadata(from) {
        Ok(meta) if meta.is_dir() => copy_dir(from, to, Path::new(""), &mut skipped)?,
        Ok(_) => skipped.push(".".to_string()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(EvidenceError::io("read", from)(err)),
    }
    Ok(skipped)
}

fn copy_dir(from: &Path, to: &Path, rel: &Path, skipped: &mut Vec<String>) -> Result<(), EvidenceError> {
    fs::create_dir_all(to).map_err(EvidenceError::io("create directory", to))?;
    for entry in sorted_entries(from)? {
        let source = entry.path();
        let dest = to.join(entry.file_name());
        let rel = rel.join(entry.file_name());
        // file_type() does not follow links.
        let kind = entry.file_type().map_err(EvidenceError::io("read", &source))?;
        if kind.is_dir() {
            copy_dir(&source, &dest, &rel, skipped)?;
        } else if kind.is_file() {
            if fs::hard_link(&source, &dest).is_err() {
                fs::copy(&source, &dest).map_err(EvidenceError::io("copy artifact to", &dest))?;
            }
        } else {
            log::warn!("{} is not a regular file or directory; not copied", source.display());
            skipped.push(rel.to_string_lossy().into_owned());
        }
    }
    Ok(())
}

/// The entries of `dir` by name, so that what is made from them is the same every time.
pub(crate) fn sorted_entries(dir: &Path) -> Result<Vec<fs::DirEntry>, EvidenceError> {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .map_err(EvidenceError::io("list", dir))?
        .collect::<Result<_, _>>()
        .map_err(EvidenceError::io("list", dir))?;
    entries.sort_by_key(|entry| entry.file_name());
    Ok(entries)
}

/// Whether `path` is a path inside a run directory as evidence writes them:
/// relative, `/`-separated, without `.`, `..` or empty segments. A path from
/// a run that is not (`/etc/passwd`, `../../x`) must not be joined to a directory.
pub fn is_run_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.contains('\\')
        && path.split('/').all(|part| !part.is_empty())
        && Path::new(path).components().all(|c| matches!(c, Component::Normal(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_files_and_directories_but_no_links() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let from = tmp.path().join("from");
        fs::create_dir_all(from.join("unit/deep")).expect("mkdir");
        fs::write(from.join("unit/deep/junit.xml"), "x").expect("write");
        std::os::unix::fs::symlink("/etc/passwd", from.join("unit/passwd")).expect("link");
        std::os::unix::fs::symlink("/", from.join("root")).expect("link");
        let to = tmp.path().join("to");
        let skipped = copy_tree(&from, &to).expect("copied");
        assert_eq!(fs::read_to_string(to.join("unit/deep/junit.xml")).expect("copied"), "x");
        assert_eq!(skipped, ["root", "unit/passwd"]);
        assert!(!to.join("unit/passwd").exists() && !to.join("root").exists());
        assert!(copy_tree(&tmp.path().join("none"), &to).expect("missing").is_empty());
    }

    #[test]
    fn only_plain_relative_paths_are_run_relative() {
        assert!(is_run_relative("artifacts/unit/junit.xml"));
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "artifacts/../../x",
            "a//b",
            "./a",
            "a/",
            "a\\..\\b",
        ] {
            assert!(!is_run_relative(bad), "{bad}");
        }
    }
}
