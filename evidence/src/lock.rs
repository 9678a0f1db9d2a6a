//! `writer.lock`: how a reader tells a live run from a crashed one.
//!
//! A run's manifest says `running` from creation until the writer finalizes
//! it; a qaagent killed with SIGKILL (or a machine that went down) never
//! does. So the writing process holds an exclusive `flock` on
//! `<run dir>/writer.lock` from before the first manifest is written until
//! after the last: the kernel drops the lock when the process dies, however
//! it dies, and unlike a recorded pid it cannot be mistaken for a later
//! process that reused the number. The file is opened close-on-exec, so the
//! tools qaagent starts (which may outlive it) never hold it.
//!
//! A reader that can take the lock knows no writer is left. Runs written
//! before the lock existed, file systems without `flock`, and a lock file a
//! tool under test replaced (by a FIFO, which is never waited on) give no
//! answer: such a run is taken at its word.

use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::os::fd::AsRawFd;
use std::path::Path;

use crate::error::EvidenceError;
use crate::regular::open_own_file;

/// The lock file's name inside a run directory.
pub const LOCK_FILE: &str = "writer.lock";

/// The writer's hold on a run: released when dropped (or when the process dies).
#[derive(Debug)]
pub(crate) struct WriterLock {
    _file: Option<File>,
}

impl WriterLock {
    /// Creates `<dir>/writer.lock` and locks it. Where the file system cannot
    /// lock, the file is removed again (a lock file nobody holds would make
    /// the live run look crashed) and the run goes on without one.
    pub(crate) fn acquire(dir: &Path) -> Result<WriterLock, EvidenceError> {
        let path = dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(EvidenceError::io("create", &path))?;
        match flock(&file, libc::LOCK_EX) {
            Ok(()) => Ok(WriterLock { _file: Some(file) }),
            Err(err) => {
                log::warn!(
                    "cannot lock {}: {err}; a crash of this run will not be detected",
                    path.display()
                );
                drop(file);
                std::fs::remove_file(&path).map_err(EvidenceError::io("remove", &path))?;
                Ok(WriterLock { _file: None })
            }
        }
    }
}

/// Whether the process that wrote the run in `dir` is gone: true only when
/// its lock file exists and nobody holds it.
pub(crate) fn writer_gone(dir: &Path) -> bool {
    let file = match open_lock(dir) {
        Lock::File(file) => file,
        Lock::Missing | Lock::Unknown => return false,
    };
    // Shared and non-blocking: taken and dropped at once (with `file`), so
    // two readers never get in each other's way, and a writer never waits.
    match flock(&file, libc::LOCK_SH | libc::LOCK_NB) {
        Ok(()) => true,
        Err(err) => {
            if err.kind() != ErrorKind::WouldBlock {
                log::debug!("cannot test the lock in {}: {err}", dir.display());
            }
            false
        }
    }
}

/// A remover's claim on a finished run, from [`claim`].
#[derive(Debug)]
pub(crate) enum Claim {
    /// Nobody held the lock; it is ours until this is dropped, so no writer can be there.
    Taken(#[expect(dead_code, reason = "held for its lock, never read")] File),
    /// The run has no lock file (written before the lock existed, or on a
    /// file system without `flock`): its manifest's word is all there is.
    NoLockFile,
    /// Its lock file cannot be used (a tool replaced it by something other
    /// than a file, or it cannot be opened): whether a writer is in the run
    /// cannot be told, and its manifest's word is all there is.
    Unknown,
    /// A live writer holds the lock: the run is being written.
    Held,
}

/// Takes the lock of the run in `dir` exclusively, without waiting, so that
/// the run can be removed with no writer in it.
pub(crate) fn claim(dir: &Path) -> Result<Claim, EvidenceError> {
    let file = match open_lock(dir) {
        Lock::File(file) => file,
        Lock::Missing => return Ok(Claim::NoLockFile),
        Lock::Unknown => return Ok(Claim::Unknown),
    };
    match try_lock_exclusive(&file) {
        Ok(true) => Ok(Claim::Taken(file)),
        Ok(false) => Ok(Claim::Held),
        Err(err) => Err(EvidenceError::io("lock", dir.join(LOCK_FILE))(err)),
    }
}

/// A run's lock file, opened for testing its lock.
enum Lock {
    /// The lock file.
    File(File),
    /// There is none.
    Missing,
    /// It cannot be opened, or is not a regular file (said in a warning).
    Unknown,
}

/// Opens `<dir>/writer.lock` without waiting: a tool under test can replace
/// it, and a FIFO there once hung `runs list`, `runs show` and `runs prune`
/// for good in a plain `open` (which waits for a FIFO's writer). Only the
/// regular file itself is used ([`open_own_file`]).
fn open_lock(dir: &Path) -> Lock {
    let path = dir.join(LOCK_FILE);
    match open_own_file(&path) {
        Ok(file) => Lock::File(file),
        Err(err) if err.kind() == ErrorKind::NotFound => Lock::Missing,
        Err(err) => {
            log::warn!(
                "cannot open {}: {err}: whether the run's writer is still at work cannot be told; \
                 its manifest is taken at its word",
                path.display()
            );
            Lock::Unknown
        }
    }
}

/// Takes an exclusive `flock` on `file` without waiting: false when another
/// open file holds one. Released when `file` is closed, or its process dies
/// however it dies, so a crashed holder never blocks anyone for long; for a
/// run's lock, and for a directory a run writes into (`--out`).
pub fn try_lock_exclusive(file: &File) -> std::io::Result<bool> {
    match flock(file, libc::LOCK_EX | libc::LOCK_NB) {
        Ok(()) => Ok(true),
        Err(err) if err.kind() == ErrorKind::WouldBlock => Ok(false),
        Err(err) => Err(err),
    }
}

fn flock(file: &File, operation: libc::c_int) -> std::io::Result<()> {
    loop {
        // SAFETY: flock only reads the descriptor, which `file` keeps open for the call.
        let rc = unsafe { libc::flock(file.as_raw_fd(), operation) };
        if rc == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_means_a_live_writer_and_a_released_one_a_gone_writer() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(!writer_gone(dir.path()), "no lock file: no answer");
        let lock = WriterLock::acquire(dir.path()).expect("lock");
        assert!(!writer_gone(dir.path()), "held");
        assert!(!writer_gone(dir.path()), "a reader's test does not take it");
        assert!(
            matches!(claim(dir.path()), Ok(Claim::Held)),
            "a remover cannot claim a live run"
        );
        drop(lock);
        assert!(writer_gone(dir.path()), "released");
        assert!(matches!(claim(dir.path()), Ok(Claim::Taken(_))));
    }
}
