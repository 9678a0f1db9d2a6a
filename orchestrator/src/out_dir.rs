//! Where suites write their output, and what qaagent may clear there.
//!
//! Under `--out DIR` each suite's directory (`DIR/<suite>/`) is cleared and
//! made again at the start of every run, in a directory the user shares with
//! other things. Each rule is here because a run once broke it:
//! - A suite's directory is cleared only when qaagent made it (it holds
//!   [`OWNED_MARK`]) and nothing in it changed since qaagent last finished
//!   with it: files a user put there were once wiped without a word. A
//!   non-directory at its path (a user's file named like the suite, a link)
//!   stays put and is an error; a regular file was once deleted.
//! - `--out` may not lie in a stored run or a runs directory: an earlier
//!   run's failing report was once replaced by a passing one.
//! - Two runs may not share an `--out` at once: the second once cleared the
//!   first's suite directory under its running tool, and the first read the
//!   second's passing report. The first holds a `flock` on the directory
//!   until it ends (the kernel drops it when its process dies, however).
//! - A suite's directory that a tool swapped for a link (or another
//!   directory) during an attempt is not written into or cleared for the
//!   next one ([`DirIdentity`]), and no suite's directory is made or cleared
//!   in a `--out` (or `artifacts/`) that a tool swapped ([`OutRoot`]).
//! - Clearing never crosses into a file system mounted in the directory (a
//!   test's leftover bind mount): the suite errors, naming the mount.

use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use evidence::DirIdentity;
use runner_api::outdir::{create_file, create_fresh_dir, is_qaagent_output, is_stored_run, OWNED_MARK};

/// A warning for a suite whose output directory `dir` is on a file system
/// with no room left: its tool writes its logs and reports there itself, so
/// a write that failed for want of space (ENOSPC) is the tool's, unseen
/// here, and they may be cut short. Under `--out` on a full disk, a run
/// once passed with its `stderr.log` empty and not a word said (a hostile
/// try, 13b #2).
pub(crate) fn full_disk_warning(dir: &Path) -> Option<String> {
    let path = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).ok()?;
    // SAFETY: statvfs is plain data, valid when zeroed.
    let mut stats: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a NUL-terminated path and a statvfs it writes into.
    if unsafe { libc::statvfs(path.as_ptr(), &mut stats) } != 0 {
        return None;
    }
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    // Root may also write the blocks kept for it.
    let blocks = if root { stats.f_bfree } else { stats.f_bavail };
    let inodes_out = stats.f_files > 0 && stats.f_favail == 0;
    (blocks == 0 || inodes_out).then(|| {
        format!(
            "the file system holding {} is full: the suite's logs and reports there may be cut short",
            dir.display()
        )
    })
}

/// The hold of a run on its `--out` directory: released when dropped (or
/// when the process dies).
#[derive(Debug)]
pub(crate) struct OutLock {
    _dir: File,
}

/// Makes `out` (a `--out` directory) this run's: refused, with the reason,
/// when it lies in qaagent's own output (a stored run, the runs directory
/// `runs_root`, a suite's output directory), holds stored runs, or another
/// live run uses it.
pub(crate) fn claim_out(out: &Path, runs_root: Option<&Path>) -> Result<OutLock, String> {
    let own_dir = "give --out a directory of its own";
    std::fs::create_dir_all(out).map_err(|err| format!("cannot create it: {err}"))?;
    let real = std::fs::canonicalize(out).map_err(|err| format!("cannot resolve it: {err}"))?;
    if let Some(root) = runs_root.and_then(|root| std::fs::canonicalize(root).ok()) {
        if real.starts_with(&root) {
            return Err(format!("it is in the runs directory {}: {own_dir}", root.display()));
        }
    }
    if let Some(dir) = real.ancestors().find(|dir| is_qaagent_output(dir)) {
        return Err(format!(
            "it is in qaagent's own output {} (a stored run, or a suite's output directory): {own_dir}",
            dir.display()
        ));
    }
    let entries = std::fs::read_dir(&real).map_err(|err| format!("cannot list it: {err}"))?;
    if let Some(run) = entries
        .flatten()
        .map(|entry| entry.path())
        .find(|path| is_stored_run(path))
    {
        return Err(format!("it holds stored runs ({}): {own_dir}", run.display()));
    }
    let dir = File::open(&real).map_err(|err| format!("cannot open it: {err}"))?;
    match evidence::try_lock_exclusive(&dir) {
        Ok(true) => {}
        Ok(false) => {
            return Err(format!(
                "another qaagent run is using it, and each run clears its suites' directories there: \
                 wait for that run, or {own_dir}"
            ))
        }
        Err(err) => log::warn!(
            "cannot lock --out {}: {err}; two runs sharing it at once would not be told apart",
            out.display()
        ),
    }
    Ok(OutLock { _dir: dir })
}

/// The directory suites' directories are made in (`--out`, or the run's
/// `artifacts/`), as it was when the run started: a tool once swapped it for
/// a link to another directory, and the next suite's directory was cleared
/// and made there.
#[derive(Debug)]
pub(crate) struct OutRoot(Result<DirIdentity, String>);

impl OutRoot {
    /// Makes `dir` if missing, and notes which directory it is.
    pub(crate) fn open(dir: &Path) -> OutRoot {
        let noted = std::fs::create_dir_all(dir).and_then(|()| DirIdentity::of_target(dir));
        OutRoot(noted.map_err(|err| format!("{}: {err}", dir.display())))
    }

    /// Fails, naming the directory, when it is no longer the one
    /// [`open`](Self::open) noted (or that one could not be made).
    pub(crate) fn check(&self) -> io::Result<()> {
        match &self.0 {
            Ok(dir) => dir
                .check()
                .map_err(|err| io::Error::other(format!("{}: {err}", dir.path().display()))),
            Err(err) => Err(io::Error::other(err.clone())),
        }
    }
}

/// A suite's output directory, made by qaagent for this run.
#[derive(Debug)]
pub(crate) struct SuiteDir(DirIdentity);

impl SuiteDir {
    /// Makes `path` (`<root>/<suite>`) a new, empty directory, marked as
    /// qaagent's; refused when what is there is not qaagent's to clear, or
    /// when `root` is no longer the directory the run started with.
    pub(crate) fn create(root: &OutRoot, path: &Path) -> io::Result<SuiteDir> {
        root.check()?;
        claim_suite_dir(path)?;
        // Again just before clearing: judging the old directory took a while.
        root.check()?;
        create_fresh_dir(path)?;
        mark(path)?;
        let dir = DirIdentity::of(path).map(SuiteDir)?;
        // The directory noted is the one in the root, not one a swap in between led to.
        root.check().map(|()| dir)
    }

    /// Fails when the directory is no longer the one [`create`](Self::create)
    /// made: swapped for a link or another directory, or gone.
    pub(crate) fn check(&self) -> io::Result<()> {
        self.0.check()
    }

    /// Marks the directory as qaagent's, as it is now: a later run clears it
    /// only if nothing in it changed after this.
    pub(crate) fn seal(&self) -> io::Result<()> {
        self.0.check()?;
        mark(self.0.path())
    }
}

/// (Re)writes `dir`'s mark, modified now: later than any change in `dir`
/// so far (the clock read here is never behind the file system's).
fn mark(dir: &Path) -> io::Result<()> {
    create_file(&dir.join(OWNED_MARK))?.set_modified(SystemTime::now())
}

/// Refuses to clear a suite's output directory that is not qaagent's alone:
/// with `--out tests`, `<out>/unit` may be the project's own `tests/unit`.
/// A directory that is empty is ours to replace; one with the mark, if
/// nothing in it changed after the mark was last written. An unmarked one
/// holding anything is not, whatever it holds: one with a `stdout.log` and a
/// `stderr.log` was once taken for an old qaagent's output, and a service's
/// log directory was wiped with it.
fn claim_suite_dir(dir: &Path) -> io::Result<()> {
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(meta) => meta,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(err),
    };
    if !meta.is_dir() {
        return Err(io::Error::other(
            "refusing to replace it: it is not a directory qaagent made (a file, or a link); \
             move it away or give --out a directory of its own",
        ));
    }
    if let Some(mount) = evidence::mount_below(dir)? {
        // Debug-quoted: a tool chose the path, control characters and all.
        return Err(io::Error::other(format!(
            "refusing to clear it: a file system is mounted in it at {mount:?} (a test's, left behind?), \
             whose files clearing would delete; unmount it first"
        )));
    }
    let mark = dir.join(OWNED_MARK);
    if let Some(mark) = std::fs::symlink_metadata(mark).ok().filter(|meta| meta.is_file()) {
        return match changed_after(dir, (mark.mtime(), mark.mtime_nsec())) {
            None => Ok(()),
            Some(path) => Err(io::Error::other(format!(
                "refusing to clear it: {} changed after qaagent last wrote there (a file or directory of yours, \
                 or a qaagent run that was killed); move it away or give --out a directory of its own",
                path.display()
            ))),
        };
    }
    if std::fs::read_dir(dir)?.next().is_none() {
        return Ok(());
    }
    Err(io::Error::other(
        "refusing to clear it: it holds files qaagent did not write; move it away or give --out a directory of its own",
    ))
}

/// The first entry below `dir` whose status changed after `mark` (seconds,
/// nanoseconds): added, written or renamed there since. Links are not
/// followed. Directories count too: moving a directory in changes its own
/// status, not its files' (a moved-in tree of old photos was once deleted).
/// Only `dir` itself is not judged: the mark's own rewrite changes it. A
/// changed file is named rather than the directory it was added to (which
/// that changed too).
fn changed_after(dir: &Path, mark: (i64, i64)) -> Option<PathBuf> {
    let own_mark = dir.join(OWNED_MARK);
    let mut changed_dir = None;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let changed = path != dir && path != own_mark && (meta.ctime(), meta.ctime_nsec()) > mark;
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                pending.extend(entries.flatten().map(|entry| entry.path()));
            }
            if changed {
                changed_dir.get_or_insert(path);
            }
        } else if changed {
            return Some(path);
        }
    }
    changed_dir
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_system_with_no_room_left_is_warned_about() {
        let roomy = tempfile::tempdir().expect("tempdir");
        assert_eq!(full_disk_warning(roomy.path()), None);
        // /proc has no blocks, so none free: what a full disk reports.
        let said = full_disk_warning(Path::new("/proc")).expect("full");
        assert!(said.contains("/proc is full"), "{said}");
    }

    #[test]
    fn a_sealed_suite_dir_is_cleared_again_unless_something_changed_in_it() {
        let out = tempfile::tempdir().expect("tempdir");
        let path = out.path().join("unit");
        let dir = SuiteDir::create(&OutRoot::open(out.path()), &path).expect("created");
        std::fs::create_dir(path.join("sub")).expect("mkdir");
        std::fs::write(path.join("sub/junit.xml"), "tool output").expect("write");
        dir.seal().expect("sealed");
        drop(SuiteDir::create(&OutRoot::open(out.path()), &path).expect("cleared: qaagent's alone"));
        assert!(!path.join("sub").exists());

        let dir = SuiteDir::create(&OutRoot::open(out.path()), &path).expect("created");
        std::fs::create_dir(path.join("sub")).expect("mkdir");
        dir.seal().expect("sealed");
        // As if the run had ended a second ago: a change in the same clock
        // tick as the mark is not told apart from qaagent's own.
        let second_ago = SystemTime::now() - std::time::Duration::from_secs(1);
        File::options()
            .write(true)
            .open(path.join(OWNED_MARK))
            .and_then(|mark| mark.set_modified(second_ago))
            .expect("backdate the mark");
        std::fs::write(path.join("sub/mine.txt"), "user's").expect("write");
        let err = SuiteDir::create(&OutRoot::open(out.path()), &path).expect_err("a user's file is there");
        assert!(err.to_string().contains("mine.txt"), "{err}");
        assert!(path.join("sub/mine.txt").is_file());
    }

    #[test]
    fn a_file_at_a_suite_dirs_path_stays_put() {
        let out = tempfile::tempdir().expect("tempdir");
        let path = out.path().join("unit");
        std::fs::write(&path, "notes").expect("write");
        let err = SuiteDir::create(&OutRoot::open(out.path()), &path).expect_err("not a directory");
        assert!(err.to_string().contains("not a directory"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "notes");
    }

    #[test]
    fn a_suite_dir_swapped_for_a_link_is_refused() {
        let out = tempfile::tempdir().expect("tempdir");
        let path = out.path().join("unit");
        let dir = SuiteDir::create(&OutRoot::open(out.path()), &path).expect("created");
        dir.check().expect("the same directory");
        std::fs::rename(&path, out.path().join("moved")).expect("mv");
        std::os::unix::fs::symlink(out.path().join("moved"), &path).expect("ln");
        assert!(dir.check().is_err());
        assert!(dir.seal().is_err());
    }

    #[test]
    fn out_in_a_stored_run_or_shared_with_a_live_run_is_refused() {
        let root = tempfile::tempdir().expect("tempdir");
        let run = root.path().join("runs/20260101_000000Z");
        std::fs::create_dir_all(run.join("evidence")).expect("mkdir");
        std::fs::write(run.join("manifest.json"), "{}").expect("write");
        let runs = root.path().join("runs");
        for out in [run.join("artifacts"), run.clone(), runs.clone()] {
            let err = claim_out(&out, None).expect_err("qaagent's own output");
            assert!(err.contains("stored run"), "{}: {err}", out.display());
        }
        let err = claim_out(&runs.join("x"), Some(&runs)).expect_err("in the runs dir");
        assert!(err.contains("runs directory"), "{err}");

        let out = root.path().join("out");
        let held = claim_out(&out, Some(&runs)).expect("free");
        let err = claim_out(&out, Some(&runs)).expect_err("held");
        assert!(err.contains("another qaagent run"), "{err}");
        drop(held);
        drop(claim_out(&out, Some(&runs)).expect("free again"));
    }
}
