//! A directory qaagent made, known by its device and inode, so that one a
//! tool swapped for a link (or another directory) while qaagent was not
//! looking is refused rather than written into: a run's `evidence/` moved
//! aside and replaced by a link once had a victim's `tests.jsonl`
//! overwritten, and a suite's output directory swapped by its tool once had
//! a victim's files deleted by the next attempt's clearing.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A directory as it was when qaagent made it.
#[derive(Debug, Clone)]
pub struct DirIdentity {
    path: PathBuf,
    id: (u64, u64),
    /// Whether `path` may be a link to the directory.
    follow: bool,
}

impl DirIdentity {
    /// Notes what the directory at `path` is now; fails when it is not a
    /// directory (a link is not followed).
    pub fn of(path: &Path) -> std::io::Result<DirIdentity> {
        Ok(DirIdentity {
            path: path.to_path_buf(),
            id: identity(path, false)?,
            follow: false,
        })
    }

    /// As [`of`](Self::of), for a directory the user named, which may be a
    /// link of theirs (`--out build/qa` with `build` a link): what counts is
    /// the directory the path leads to, now and at each check.
    pub fn of_target(path: &Path) -> std::io::Result<DirIdentity> {
        Ok(DirIdentity {
            path: path.to_path_buf(),
            id: identity(path, true)?,
            follow: true,
        })
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Fails when the directory at the path is no longer this one: swapped
    /// for a link or another directory, or gone.
    pub fn check(&self) -> std::io::Result<()> {
        match identity(&self.path, self.follow) {
            Ok(id) if id == self.id => Ok(()),
            _ => Err(std::io::Error::other(
                "it was replaced during the run (by a link, or another directory); not writing through it",
            )),
        }
    }
}

/// The device and inode of the directory at `path` itself (or, with
/// `follow`, of the one a link there leads to).
fn identity(path: &Path, follow: bool) -> std::io::Result<(u64, u64)> {
    let meta = if follow {
        std::fs::metadata(path)?
    } else {
        std::fs::symlink_metadata(path)?
    };
    if !meta.is_dir() {
        return Err(std::io::Error::other("not a directory"));
    }
    Ok((meta.dev(), meta.ino()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_swapped_for_a_link_or_another_is_told_apart() {
        let root = tempfile::tempdir().expect("tempdir");
        let path = root.path().join("evidence");
        std::fs::create_dir(&path).expect("mkdir");
        let dir = DirIdentity::of(&path).expect("a directory");
        dir.check().expect("the same directory");
        std::fs::rename(&path, root.path().join("moved")).expect("mv");
        std::os::unix::fs::symlink(root.path().join("moved"), &path).expect("ln");
        assert!(dir.check().is_err(), "a link to the very directory is not it");
        std::fs::remove_file(&path).expect("rm");
        std::fs::create_dir(&path).expect("mkdir");
        assert!(dir.check().is_err(), "another directory");

        // A user's link to the directory is theirs to give; another target is not the directory.
        let link = root.path().join("link");
        std::os::unix::fs::symlink(root.path().join("moved"), &link).expect("ln");
        let target = DirIdentity::of_target(&link).expect("a directory");
        target.check().expect("the same directory");
        std::fs::remove_file(&link).expect("rm");
        std::os::unix::fs::symlink(&path, &link).expect("ln");
        assert!(target.check().is_err(), "a link to another directory");
    }
}
