//! Asking a tool for its version once per run, not once per suite.
//!
//! Every suite's version probe starts a process (`python -c …`, `npx
//! playwright --version`) that competes for the CPU with the suites' tests
//! just when they start. Suites that run the same tool the same way share
//! one answer: a runner keeps a [`VersionCache`] keyed by whatever its
//! version depends on (the interpreter and working directory for a Python
//! tool, the suite directory for a Node one).

use std::collections::HashMap;
use std::hash::Hash;
use std::io::Read;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

/// The most of a file a version is read from that [`read_version_file`] reads.
pub const VERSION_FILE_LIMIT: u64 = 1024 * 1024;

/// The text of a file a runner reads a version from (Playwright's
/// `package.json`): a regular file only, opened without waiting on a FIFO,
/// and an error when it is over [`VERSION_FILE_LIMIT`]. A FIFO planted there
/// hung a run past its timeout and every signal, and a 400 MB one was read
/// whole (a hostile try, 13b #3).
pub fn read_version_file(path: &Path) -> std::io::Result<String> {
    let file = crate::junit::open_nonblocking(path, 0, "")?;
    let mut text = String::new();
    file.take(VERSION_FILE_LIMIT + 1).read_to_string(&mut text)?;
    if text.len() as u64 > VERSION_FILE_LIMIT {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("it is over {VERSION_FILE_LIMIT} bytes"),
        ));
    }
    Ok(text)
}

/// One key's answer, filled by the first asker.
type Cell = Arc<OnceLock<Option<String>>>;

/// Tool versions by key, each computed at most once, however many suites ask
/// at the same time (the others wait for the first one's answer). Cloning
/// shares the cache.
#[derive(Debug)]
pub struct VersionCache<K> {
    cells: Arc<Mutex<HashMap<K, Cell>>>,
}

impl<K> Clone for VersionCache<K> {
    fn clone(&self) -> Self {
        VersionCache {
            cells: Arc::clone(&self.cells),
        }
    }
}

impl<K> Default for VersionCache<K> {
    fn default() -> Self {
        VersionCache {
            cells: Arc::new(Mutex::new(HashMap::new())),
        }
    }
}

impl<K: Eq + Hash> VersionCache<K> {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The version for `key`: `probe`'s answer, from the first caller that
    /// asked for this key (a failed probe's `None` is remembered too).
    pub fn get_or_probe(&self, key: K, probe: impl FnOnce() -> Option<String>) -> Option<String> {
        let cell = {
            // A poisoned lock only means another probe panicked; the map is still sound.
            let mut cells = self.cells.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            Arc::clone(cells.entry(key).or_default())
        };
        cell.get_or_init(probe).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn concurrent_askers_share_one_probe_per_key() {
        let cache = VersionCache::new();
        let probes = AtomicUsize::new(0);
        let answers: Vec<Option<String>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let (cache, probes) = (&cache, &probes);
                    scope.spawn(move || {
                        cache.get_or_probe(i % 2, || {
                            probes.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(20));
                            Some(format!("v{}", i % 2))
                        })
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("no panic")).collect()
        });
        assert_eq!(probes.load(Ordering::SeqCst), 2, "one probe per key");
        for (i, answer) in answers.iter().enumerate() {
            assert_eq!(answer.as_deref(), Some(if i % 2 == 0 { "v0" } else { "v1" }));
        }
    }

    #[test]
    fn a_failed_probe_is_remembered() {
        let cache = VersionCache::new();
        assert_eq!(cache.get_or_probe("python", || None), None);
        assert_eq!(cache.get_or_probe("python", || Some("late".into())), None);
    }

    #[test]
    fn a_version_file_is_read_only_when_regular_and_small() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("package.json");
        let name = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).expect("path");
        // SAFETY: mkfifo with a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0, "mkfifo");
        assert!(read_version_file(&fifo).is_err(), "a FIFO, refused without waiting");
        let big = dir.path().join("big.json");
        std::fs::File::create(&big)
            .and_then(|file| file.set_len(VERSION_FILE_LIMIT + 1))
            .expect("sparse file");
        assert!(read_version_file(&big).is_err(), "over the limit");
        let small = dir.path().join("small.json");
        std::fs::write(&small, r#"{"version": "1.2.3"}"#).expect("write");
        assert_eq!(read_version_file(&small).expect("read"), r#"{"version": "1.2.3"}"#);
    }
}
