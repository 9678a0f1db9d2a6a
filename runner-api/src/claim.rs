//! Report paths held by the suites running now, so that two suites side by
//! side never share one.
//!
//! A runner that reads a report from a path the user chose (the `command`
//! runner's `junit`) holds the path for the attempt. Two suites of one run
//! writing the same report at the same time would each read whichever
//! report was written last, and a failure of one could be read as the other's
//! pass: the second suite to claim the path gets an error instead. Suites
//! that run one after the other may share a path: each sets the earlier
//! report aside before its tool starts.

use std::path::{Component, Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// The held paths, each with the suite holding it.
static HELD: Mutex<Vec<(PathBuf, String)>> = Mutex::new(Vec::new());

/// A suite's hold on a report path (a file or a directory of reports),
/// released when dropped.
#[derive(Debug)]
#[must_use = "the path is held only while the claim lives"]
pub struct ReportClaim {
    path: PathBuf,
}

/// Holds `path` for `suite`, or names the suite already holding it, or a
/// path inside it or around it.
pub fn report_path(path: &Path, suite: &str) -> Result<ReportClaim, String> {
    let path = resolved(path);
    let mut held = HELD.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((other_path, other)) = held
        .iter()
        .find(|(other, _)| other.starts_with(&path) || path.starts_with(other))
    {
        return Err(format!(
            "its report path {} overlaps {}, where suite `{other}`, running at the same time, writes its \
             report: each would read the other's; give each suite its own `junit` (the default, \
             \"{{junit}}\", is in the suite's own output directory) or run them one after the other",
            path.display(),
            other_path.display()
        ));
    }
    held.push((path.clone(), suite.to_string()));
    Ok(ReportClaim { path })
}

impl Drop for ReportClaim {
    fn drop(&mut self) {
        let mut held = HELD.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(at) = held.iter().position(|(path, _)| *path == self.path) {
            held.swap_remove(at);
        }
    }
}

/// `path` with its longest existing ancestor's links resolved and `.` and
/// `..` taken out of the rest, so that two spellings of one place compare
/// equal whether or not it exists yet.
fn resolved(path: &Path) -> PathBuf {
    let mut existing = path;
    let mut rest = Vec::new();
    let base = loop {
        if let Ok(real) = std::fs::canonicalize(existing) {
            break real;
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => break existing.to_path_buf(),
        }
    };
    let mut out = base;
    for component in rest.iter().rev().flat_map(|name| Path::new(name).components()) {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_or_one_inside_it_is_refused_while_held_and_free_once_dropped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let reports = dir.path().join("build");
        let held = report_path(&reports, "a").expect("free");
        let inside = report_path(&dir.path().join("build/./x/../junit.xml"), "b");
        let message = inside.expect_err("inside a held directory");
        assert!(message.contains("suite `a`"), "{message}");
        assert!(report_path(dir.path(), "c").is_err(), "around a held directory");
        assert!(report_path(&dir.path().join("other.xml"), "d").is_ok(), "beside it");
        drop(held);
        assert!(report_path(&reports.join("junit.xml"), "b").is_ok(), "released");
    }

    #[test]
    fn two_spellings_through_a_link_are_one_path() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("real")).expect("dir");
        std::os::unix::fs::symlink(dir.path().join("real"), dir.path().join("link")).expect("link");
        let _held = report_path(&dir.path().join("real/junit.xml"), "a").expect("free");
        assert!(report_path(&dir.path().join("link/junit.xml"), "b").is_err());
    }
}
