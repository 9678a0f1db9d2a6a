//! Noticing that a file qaagent writes was changed by something else
//! between its writes.
//!
//! A tool under test can find its run's directory (its report and output
//! paths are inside it) and edit `tests.jsonl` while a later suite runs:
//! records turned from failed to passed, or lines removed. The writer
//! copies the file's earlier records into each new version, so such an edit
//! would reach the final records. One `lstat` before each write, compared
//! with the one taken after the last, tells: the device, inode, size, and
//! modification and change times of a file only qaagent writes do not move
//! in between (an edit in place moves the times, `sed -i` or a rename makes
//! a new inode, and no one can set a change time back). An edit in place of
//! the same length within one clock tick of qaagent's write could keep the
//! times on a kernel with coarse timestamps only; from Linux 6.13 the
//! `lstat` taken after each write makes the next change's times fine-grained.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::error::EvidenceError;

/// What a file looked like after qaagent last wrote it.
#[derive(Debug, Default)]
pub(crate) struct Untouched {
    seen: Option<Seen>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Seen {
    fn of(path: &Path) -> Option<Seen> {
        let meta = std::fs::symlink_metadata(path).ok()?;
        Some(Seen {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        })
    }
}

impl Untouched {
    /// Notes what `path` looks like now, right after qaagent wrote it.
    pub(crate) fn remember(&mut self, path: &Path) {
        self.seen = Seen::of(path);
    }

    /// An error when `path` changed since [`Untouched::remember`]; said
    /// once (what it remembered is forgotten).
    pub(crate) fn check(&mut self, path: &Path) -> Result<(), EvidenceError> {
        let Some(seen) = self.seen else {
            return Ok(());
        };
        if Seen::of(path) == Some(seen) {
            return Ok(());
        }
        self.seen = None;
        Err(EvidenceError::ChangedBehindOurBack {
            path: path.to_path_buf(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_in_place_or_a_replacement_is_noticed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("tests.jsonl");
        std::fs::write(&path, "failed\n").expect("write");
        let mut untouched = Untouched::default();
        untouched.remember(&path);
        assert!(untouched.check(&path).is_ok(), "nothing changed");
        std::fs::write(&path, "\n").expect("edit in place: a line removed");
        assert!(untouched.check(&path).is_err());
        assert!(untouched.check(&path).is_ok(), "said once");

        untouched.remember(&path);
        let other = dir.path().join("other");
        std::fs::write(&other, "\n").expect("write");
        std::fs::rename(&other, &path).expect("replace, as `sed -i` does");
        assert!(
            untouched.check(&path).is_err(),
            "a new file of the same length in its place"
        );
    }
}
