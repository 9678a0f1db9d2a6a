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
//!
//! Two qaagent processes (two runs of one project at once) are kept apart
//! the same way, through `flock`s on lock files in a directory of the
//! user's own under the temporary directory, each named after a key of the
//! report path (see [`keys`]): exclusive ones on the path itself (as
//! resolved, and as the device and inode of its nearest existing directory
//! with the rest of its path, so that a bind mount is one place too), and
//! shared ones on every directory above it, so that a directory of reports
//! held by one process and a report inside it held by another are seen to
//! overlap. The resolved path is a key of its own because the nearest
//! existing directory changes when a tool makes the report's directory:
//! keyed on that alone, a second run claiming after the first one's tool
//! had made it took another lock and read the first run's report. Where the
//! directory cannot be had, only this process's suites are kept apart.

use std::fs::{DirBuilder, File, OpenOptions};
use std::hash::{Hash, Hasher};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
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
    /// The locks other qaagent processes see, released when closed.
    _locks: Vec<File>,
}

/// Holds `path` for `suite`, or names the suite already holding it, or a
/// path inside it or around it. A path in `own_dir` (the attempt's own
/// output directory, which no other process writes: a run's is new, and a
/// shared `--out` is locked whole) takes no lock files: a run of two suites
/// with their default reports once left eight more, for good (a hostile
/// try, 14 N9).
pub fn report_path(path: &Path, suite: &str, own_dir: Option<&Path>) -> Result<ReportClaim, String> {
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
    let own = own_dir.is_some_and(|dir| path.starts_with(resolved(dir)));
    let locks = if own { Vec::new() } else { other_processes(&path)? };
    held.push((path.clone(), suite.to_string()));
    Ok(ReportClaim { path, _locks: locks })
}

/// The locks on `path` (resolved) that other qaagent processes see; an
/// error when one of them holds the path, one inside it or one around it.
fn other_processes(path: &Path) -> Result<Vec<File>, String> {
    let Some(dir) = claims_dir() else {
        return Ok(Vec::new());
    };
    let mut locks = Vec::new();
    for (key, operation) in keys(path) {
        let lock_path = dir.join(format!("{key:016x}.lock"));
        match lock(&lock_path, operation) {
            Ok(Some(file)) => locks.push(file),
            Ok(None) => {}
            Err(()) => {
                return Err(format!(
                    "its report path {} is in use by another qaagent process (that path, one inside it or \
                     one around it), or by a suite running now that names it another way (a second run of \
                     this project at the same time?): each would read the other's report; give each its \
                     own report path, or run them one after the other",
                    path.display()
                ))
            }
        }
    }
    Ok(locks)
}

/// The keys of `path` (resolved), each with the `flock` operation a claim
/// takes on it: exclusive on the path (by name and by [`place`]), shared on
/// each directory above it (by name).
fn keys(path: &Path) -> Vec<(u64, i32)> {
    let mut keys = vec![(key(("path", path)), libc::LOCK_EX), (key(place(path)), libc::LOCK_EX)];
    keys.extend((path.ancestors().skip(1)).map(|dir| (key(("path", dir)), libc::LOCK_SH)));
    keys
}

/// `value`'s hash, the same in every qaagent process (fixed keys).
fn key(value: impl Hash) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// Takes `operation` (a non-blocking `flock`) on the lock file at
/// `lock_path`: the file holding it, `Err` when another process holds it
/// the other way, `None` when it cannot be checked (logged). A lock file
/// that is not a regular file (a FIFO a tool planted) is never waited on.
fn lock(lock_path: &Path, operation: i32) -> Result<Option<File>, ()> {
    let unchecked = |err: &dyn std::fmt::Display| {
        not_checked(&format!("{}: {err}", lock_path.display()));
        Ok(None)
    };
    let file = match OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(lock_path)
    {
        Ok(file) => file,
        Err(err) => return unchecked(&err),
    };
    match file.metadata() {
        Ok(meta) if meta.is_file() => {}
        Ok(_) => return unchecked(&"not a regular file"),
        Err(err) => return unchecked(&err),
    }
    // SAFETY: flock on a descriptor this function owns.
    if unsafe { libc::flock(file.as_raw_fd(), operation | libc::LOCK_NB) } == 0 {
        return Ok(Some(file));
    }
    let err = std::io::Error::last_os_error();
    if err.kind() == std::io::ErrorKind::WouldBlock {
        return Err(());
    }
    unchecked(&err)
}

/// Says, once per process as a warning (then in the debug log), that other
/// processes' claims could not be checked, and why: two runs at once may
/// then share a report path unseen (a tool can make the directory unusable
/// for every later run; a hostile try, 13b #1, saw nothing said).
fn not_checked(why: &str) {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        log::debug!("report claims of other processes not checked: {why}");
    } else {
        log::warn!(
            "report paths are not kept apart from other qaagent processes (two runs at once could read \
             each other's reports): {why}"
        );
    }
}

/// The directory of this user's report locks, made private; None when it
/// cannot be made, or is not this user's private directory (said).
fn claims_dir() -> Option<PathBuf> {
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    let dir = std::env::temp_dir().join(format!("qaagent-{uid}-report-claims"));
    let _ = DirBuilder::new().mode(0o700).create(&dir);
    let usable = match std::fs::symlink_metadata(&dir) {
        Ok(meta) if meta.is_dir() && meta.uid() == uid && meta.mode() & 0o077 == 0 => Ok(()),
        // This user's own directory, opened up: made private again.
        Ok(meta) if meta.is_dir() && meta.uid() == uid => {
            std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))
                .map_err(|err| format!("cannot make it private again: {err}"))
        }
        Ok(_) => Err("not a directory of this user's".to_string()),
        Err(err) => Err(err.to_string()),
    };
    match usable {
        Ok(()) => Some(dir),
        Err(why) => {
            not_checked(&format!("{}: {why}", dir.display()));
            None
        }
    }
}

/// Where `path` (resolved) is, whatever it is called: the device and inode
/// of its nearest existing ancestor, and the rest of its path. An ancestor,
/// not `path` itself: a report is there in one run and set aside in another.
fn place(path: &Path) -> (u64, u64, PathBuf) {
    let Some(mut existing) = path.parent() else {
        return (0, 0, path.to_path_buf());
    };
    loop {
        if let Ok(meta) = std::fs::metadata(existing) {
            let rest = path.strip_prefix(existing).unwrap_or(path).to_path_buf();
            return (meta.dev(), meta.ino(), rest);
        }
        match existing.parent() {
            Some(parent) => existing = parent,
            None => return (0, 0, path.to_path_buf()),
        }
    }
}

impl Drop for ReportClaim {
    fn drop(&mut self) {
        let mut held = HELD.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(at) = held.iter().position(|(path, _)| *path == self.path) {
            held.swap_remove(at);
        }
    }
}

/// `path` with its longest existing ancestor's links resolved, links
/// beyond it that dangle followed by name (a `build/latest -> reports`
/// whose `reports` a tool makes later: two suites once shared a report
/// through one, unseen), and `.` and `..` taken out of the rest, so that two
/// spellings of one place compare equal whether or not it exists yet.
fn resolved(path: &Path) -> PathBuf {
    resolved_within(path, 0)
}

/// [`resolved`], `links` dangling links deep (at most 40, as the kernel).
fn resolved_within(path: &Path, links: usize) -> PathBuf {
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
    rest.reverse();
    let mut out = base;
    for (at, name) in rest.iter().enumerate() {
        match Path::new(name).components().next() {
            Some(Component::ParentDir) => {
                out.pop();
            }
            Some(Component::CurDir) | None => {}
            Some(_) => {
                let next = out.join(name);
                match std::fs::read_link(&next) {
                    Ok(target) if links < 40 => {
                        let mut followed = out.join(target);
                        followed.extend(&rest[at + 1..]);
                        return resolved_within(&followed, links + 1);
                    }
                    _ => out = next,
                }
            }
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
        let held = report_path(&reports, "a", None).expect("free");
        let inside = report_path(&dir.path().join("build/./x/../junit.xml"), "b", None);
        let message = inside.expect_err("inside a held directory");
        assert!(message.contains("suite `a`"), "{message}");
        assert!(report_path(dir.path(), "c", None).is_err(), "around a held directory");
        assert!(
            report_path(&dir.path().join("other.xml"), "d", None).is_ok(),
            "beside it"
        );
        drop(held);
        assert!(report_path(&reports.join("junit.xml"), "b", None).is_ok(), "released");
    }

    #[test]
    fn another_process_holding_the_place_is_named_and_one_place_has_one_lock() {
        let dir = tempfile::tempdir().expect("temp dir");
        let report = dir.path().join("junit.xml");
        // What another process holds: the lock file of the same place, locked
        // through a descriptor of its own.
        let held = other_processes(&resolved(&report)).expect("free");
        assert!(!held.is_empty(), "locks taken");
        let message = report_path(&report, "a", None).expect_err("held by another");
        assert!(message.contains("another qaagent process"), "{message}");
        drop(held);
        let claim = report_path(&report, "a", None).expect("released");
        assert_eq!(place(&report), place(&dir.path().join("./junit.xml")));
        drop(claim);
    }

    #[test]
    fn a_report_directory_made_after_another_process_claimed_is_still_its_place() {
        let dir = tempfile::tempdir().expect("temp dir");
        let report = dir.path().join("build/reports/junit.xml");
        // Another process claimed before its tool made build/reports.
        let held = other_processes(&resolved(&report)).expect("free");
        std::fs::create_dir_all(dir.path().join("build/reports")).expect("dirs");
        let message = report_path(&report, "a", None).expect_err("held by another");
        assert!(message.contains("another qaagent process"), "{message}");
        drop(held);
        drop(report_path(&report, "a", None).expect("released"));
    }

    #[test]
    fn a_directory_another_process_holds_and_a_report_inside_it_overlap() {
        let dir = tempfile::tempdir().expect("temp dir");
        let reports = dir.path().join("reports");
        let inside = reports.join("junit.xml");
        let held = other_processes(&resolved(&reports)).expect("free");
        assert!(
            report_path(&inside, "a", None).is_err(),
            "inside a directory held elsewhere"
        );
        drop(held);
        let held = other_processes(&resolved(&inside)).expect("free");
        assert!(
            report_path(&reports, "a", None).is_err(),
            "around a report held elsewhere"
        );
        let beside = report_path(&reports.join("other.xml"), "b", None).expect("beside it");
        drop((held, beside));
    }

    #[test]
    fn a_lock_file_that_is_a_fifo_is_not_waited_on() {
        let dir = tempfile::tempdir().expect("temp dir");
        let fifo = dir.path().join("planted.lock");
        let name = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).expect("path");
        // SAFETY: mkfifo with a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0, "mkfifo");
        assert!(matches!(lock(&fifo, libc::LOCK_EX), Ok(None)), "not checked, not hung");
    }

    #[test]
    fn a_claims_directory_opened_up_is_made_private_again() {
        let dir = claims_dir().expect("usable");
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
        assert_eq!(claims_dir(), Some(dir.clone()));
        let mode = std::fs::metadata(&dir).expect("dir").mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[test]
    fn a_report_in_its_own_output_dir_takes_no_lock_files_but_is_held() {
        let dir = tempfile::tempdir().expect("temp dir");
        let report = dir.path().join("out/junit.xml");
        let held = report_path(&report, "a", Some(&dir.path().join("out"))).expect("free");
        assert!(held._locks.is_empty(), "no lock files");
        assert!(report_path(&report, "b", None).is_err(), "held in this process");
    }

    #[test]
    fn a_dangling_link_is_followed_by_name() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("build")).expect("dir");
        std::os::unix::fs::symlink("reports", dir.path().join("build/latest")).expect("link");
        let _held = report_path(&dir.path().join("build/reports/junit.xml"), "a", None).expect("free");
        let message = report_path(&dir.path().join("build/latest/./junit.xml"), "b", None).expect_err("one place");
        assert!(message.contains("suite `a`"), "{message}");
    }

    #[test]
    fn two_spellings_through_a_link_are_one_path() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("real")).expect("dir");
        std::os::unix::fs::symlink(dir.path().join("real"), dir.path().join("link")).expect("link");
        let _held = report_path(&dir.path().join("real/junit.xml"), "a", None).expect("free");
        assert!(report_path(&dir.path().join("link/junit.xml"), "b", None).is_err());
    }
}
