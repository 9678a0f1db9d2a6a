//! Creating directories and files below an output directory, where the tool
//! of an earlier attempt (or of this one) could write too.
//!
//! A tool can plant a link where qaagent is about to write (attempt 1 makes
//! `{out}/attempt-2/stdout.log -> ~/.bashrc`) so that qaagent truncates or
//! appends to a file outside the run. So every directory below an output
//! root is created by qaagent itself, after removing whatever was at its path
//! ([`create_fresh_dir`]), and files are opened without following a link at
//! their last component: [`create_file`] replaces a link, [`open_append`]
//! refuses one. A link planted in place of a *parent* directory while the
//! tool ran is not detected: the directories are fresh when each attempt
//! starts, and the tool is gone before qaagent writes there again.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

/// Makes `dir` a new, empty directory created now: whatever was at its path
/// is removed first — a directory with its contents, or a file or link
/// itself (never what a link points to). Its parent must exist.
pub fn create_fresh_dir(dir: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(dir) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(dir)?,
        Ok(_) => remove_non_dir(dir)?,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    std::fs::create_dir(dir)
}

/// The file that marks a suite's output directory as qaagent's own: a
/// later run may clear it, and no suite reads a report from it but the
/// attempt that writes there.
pub const OWNED_MARK: &str = ".qaagent-output";

/// Whether `dir` is a stored run: its `manifest.json` beside `evidence/`.
pub fn is_stored_run(dir: &Path) -> bool {
    dir.join("manifest.json").is_file() && dir.join("evidence").is_dir()
}

/// Whether `dir` is qaagent's own output: a suite's output directory
/// (marked [`OWNED_MARK`]) or a stored run ([`is_stored_run`]). Nothing
/// there is a tool's report, nor a place for another run's output.
pub fn is_qaagent_output(dir: &Path) -> bool {
    dir.join(OWNED_MARK).is_file() || is_stored_run(dir)
}

/// Creates a new file at `path` for writing, in place of a file or link
/// that was there (removed, never followed). Should something appear at
/// `path` in between, that is an error rather than a file written through.
pub fn create_file(path: &Path) -> io::Result<File> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.is_dir() => remove_non_dir(path)?,
        _ => {}
    }
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// Copies the regular file `from` (links followed) to a new file `to`
/// ([`create_file`]: a link at `to` is replaced, never written through).
/// Anything else at `from` is an error, and so is a sparse file (mostly
/// holes, over [`SPARSE_MIN_BYTES`]): a copy is written in full, and
/// `/dev/zero`, or a report a tool padded with `truncate -s 50G`, would
/// fill the disk.
pub fn copy_file(from: &Path, to: &Path) -> io::Result<()> {
    let mut source = crate::junit::open_regular(from)?;
    let meta = source.metadata()?;
    if meta.len() > SPARSE_MIN_BYTES && meta.blocks().saturating_mul(512) < meta.len() / 2 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "it is a sparse file of {} bytes, most of them never written: not copied",
                meta.len()
            ),
        ));
    }
    let mut target = create_file(to)?;
    io::copy(&mut source, &mut target).map(drop)
}

/// The size from which [`copy_file`] refuses a file that is mostly holes:
/// a small file's blocks may not be counted yet (delayed allocation).
const SPARSE_MIN_BYTES: u64 = 1 << 20;

/// Removes the file or link at `path`, saying so when it is a link.
fn remove_non_dir(path: &Path) -> io::Result<()> {
    if let Ok(target) = std::fs::read_link(path) {
        // Debug-quoted: the target is a tool's text, control characters and all.
        log::warn!(
            "removing the link {} (to {target:?}) where qaagent writes; not following it",
            path.display()
        );
    }
    std::fs::remove_file(path)
}

/// Opens for reading a file qaagent wrote below an output directory (a
/// suite's `stdout.log`), which the tool may have replaced since: a FIFO there
/// once blocked the open, and with it the suite, past Ctrl-C and SIGTERM; a
/// link to `/dev/zero` never ends. So the link itself is refused
/// (`O_NOFOLLOW`), the open does not wait for a FIFO's writer (`O_NONBLOCK`,
/// which regular files ignore), and anything but a regular file is an
/// `InvalidInput` error saying what it is.
pub fn open_written(path: &Path) -> io::Result<File> {
    crate::junit::open_nonblocking(path, libc::O_NOFOLLOW, "")
}

/// Opens the file at `path` for appending, creating it if missing; fails if
/// `path` is a link.
pub fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_regular_file_with_its_bytes_written_is_copied() {
        let dir = tempfile::tempdir().expect("tempdir");
        let to = dir.path().join("copy");
        let sparse = dir.path().join("sparse.xml");
        std::fs::write(&sparse, "<testsuite>").expect("write");
        File::options()
            .append(true)
            .open(&sparse)
            .and_then(|file| file.set_len(1 << 30))
            .expect("a hole");
        let err = copy_file(&sparse, &to).expect_err("mostly holes");
        assert!(err.to_string().contains("sparse"), "{err}");
        let err = copy_file(Path::new("/dev/zero"), &to).expect_err("a device");
        assert!(err.to_string().contains("character device"), "{err}");
        assert!(!to.exists());
        let plain = dir.path().join("plain.xml");
        std::fs::write(&plain, "x".repeat(2 << 20)).expect("write");
        copy_file(&plain, &to).expect("a regular file");
        assert_eq!(std::fs::metadata(&to).expect("copied").len(), 2 << 20);
    }

    #[test]
    fn planted_links_are_removed_or_refused_never_followed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").expect("write");
        let victim_dir = dir.path().join("victim-dir");
        std::fs::create_dir(&victim_dir).expect("mkdir");
        std::fs::write(victim_dir.join("keep"), "x").expect("write");

        let planted_dir = dir.path().join("attempt-2");
        std::os::unix::fs::symlink(&victim_dir, &planted_dir).expect("symlink");
        create_fresh_dir(&planted_dir).expect("fresh dir");
        assert!(std::fs::symlink_metadata(&planted_dir).expect("meta").is_dir());
        assert!(victim_dir.join("keep").is_file(), "the link's target is untouched");

        let log = planted_dir.join("stdout.log");
        std::os::unix::fs::symlink(&victim, &log).expect("symlink");
        assert!(open_append(&log).is_err());
        drop(create_file(&log).expect("the link is replaced"));
        assert!(std::fs::symlink_metadata(&log).expect("meta").is_file());
        assert_eq!(std::fs::read_to_string(&victim).expect("read"), "precious");

        // A real directory left there is replaced by an empty one.
        create_fresh_dir(&planted_dir).expect("fresh dir");
        assert_eq!(std::fs::read_dir(&planted_dir).expect("list").count(), 0);
        drop(create_file(&log).expect("a new file"));
    }
}
