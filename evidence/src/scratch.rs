//! What qaagent is in the middle of making outside a run — a bundle
//! unpacked into a temporary directory, a file written beside its
//! destination before it is renamed there — so that a command ended by a
//! signal can remove it first. `merge` stopped by Ctrl-C once left its
//! unpacked bundles (up to 16 GiB each) in `$TMPDIR`, and `runs export` its
//! half-written archive beside `-o`.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// The paths being made now.
static MAKING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A path listed for [`remove_scratch`] while this lives; dropping it only
/// takes the path off the list.
#[derive(Debug)]
pub(crate) struct Scratch(PathBuf);

impl Scratch {
    /// Lists `path`.
    pub(crate) fn new(path: &Path) -> Scratch {
        MAKING
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(path.to_path_buf());
        Scratch(path.to_path_buf())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let mut making = MAKING.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(at) = making.iter().rposition(|path| *path == self.0) {
            making.swap_remove(at);
        }
    }
}

/// Removes everything listed as being made (directories whole), without
/// following links: for a command about to exit on a signal.
pub fn remove_scratch() {
    let making = MAKING.lock().unwrap_or_else(PoisonError::into_inner);
    for path in making.iter() {
        let removed = match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
            Ok(_) => std::fs::remove_file(path),
            Err(_) => Ok(()),
        };
        if let Err(err) = removed {
            log::warn!("cannot remove {}: {err}", path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_listed_is_removed_and_what_was_dropped_is_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (made, done) = (dir.path().join("unpacked"), dir.path().join("kept"));
        std::fs::create_dir_all(made.join("run")).expect("dir");
        std::fs::write(&done, "").expect("file");
        let _making = Scratch::new(&made);
        drop(Scratch::new(&done));
        remove_scratch();
        assert!(!made.exists() && done.exists());
    }
}
