//! Crash-safe file updates: a reader (or a run killed at any instant) sees a file
//! either wholly before or wholly after an update, never half of one.
//!
//! Both helpers write a temporary file in the same directory, fsync it, rename it
//! over the target and fsync the directory so the rename itself is durable.
//!
//! Why `tests.jsonl` is not simply appended to with one `write(2)` per batch:
//! Linux stops a regular-file write short between pages when a fatal signal
//! (SIGKILL) is pending (`generic_perform_write` checks `fatal_signal_pending`),
//! so a killed qaagent could leave half a batch, ending mid-line. Instead the
//! existing file is cloned with `std::io::copy` (in-kernel `copy_file_range`,
//! a reflink on file systems that have them), the new complete lines are
//! appended to the clone, and the clone is renamed over the original. A batch
//! is one finished suite (or several), so this happens a handful of times per run.
//!
//! Large contents (100,000 test records are ~100 MB) are streamed into the
//! temporary file through a buffer ([`write_atomically_with`],
//! [`append_atomically_with`]) rather than built in memory first.
//!
//! [`write_atomically`] is the one way qaagent replaces a file it writes
//! (evidence, and the `--junit` report); [`replace_quickly`] skips the
//! fsyncs where durability is seen to elsewhere.
//!
//! The temporary is always a file created new (`O_CREAT|O_EXCL|O_NOFOLLOW`):
//! a tool can plant a link at `.manifest.json.tmp` (or beside `--junit`),
//! and a temporary opened through it once overwrote the link's target and
//! was then renamed into place as a link. Whatever is at the temporary's
//! name (a stale one of a killed run, a planted link) is removed first,
//! never followed; something appearing there in between is an error.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, ErrorKind, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::error::EvidenceError;
use crate::scratch::Scratch;

/// Buffer between a streaming writer and its temporary file.
const STREAM_BUFFER_BYTES: usize = 256 * 1024;

/// The buffered temporary file a streaming update writes into.
pub(crate) type Sink = BufWriter<File>;

/// Replaces `path` with `bytes`, atomically and durably: a reader, or a
/// process killed at any instant, sees the old file or the whole new one. The
/// temporary is a hidden file beside `path`, removed when anything fails.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), EvidenceError> {
    write_atomically_with(path, |sink| {
        sink.write_all(bytes)
            .map_err(EvidenceError::io("write", &temp_path(path)))
    })
}

/// Replaces `path` with what `write` writes, atomically and durably; when
/// `write` fails, `path` is left as it was.
pub(crate) fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut Sink) -> Result<(), EvidenceError>,
) -> Result<(), EvidenceError> {
    let (tmp, file) = create_temp(path)?;
    let _scratch = Scratch::new(&tmp);
    finish(file, &tmp, path, write)
}

/// Replaces `path` with `bytes` atomically but not durably: a reader, or a
/// process killed at any instant, sees the old file or the whole new one
/// (the page cache outlives the process); a power loss may leave either, or
/// an empty file. For files whose durability is seen to later or elsewhere:
/// a run's first manifest, which its writer thread fsyncs as its first act
/// ([`crate::writer`]), off the path to the run's first suite; and files
/// derived from the evidence and written again on demand (`report.html`).
pub fn replace_quickly(path: &Path, bytes: &[u8]) -> Result<(), EvidenceError> {
    let (tmp, mut file) = create_temp(path)?;
    let _scratch = Scratch::new(&tmp);
    let result = file
        .write_all(bytes)
        .map_err(EvidenceError::io("write", &tmp))
        .and_then(|()| fs::rename(&tmp, path).map_err(EvidenceError::io("rename into place", path)));
    if result.is_err() {
        // Best effort, as in `finish`.
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Fsyncs the file at `path`.
pub(crate) fn sync_file(path: &Path) -> Result<(), EvidenceError> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(EvidenceError::io("fsync", path))
}

/// Appends `bytes` (complete lines) to `path`, atomically and durably: after a
/// crash the file holds all of them or none. Creates `path` when missing.
#[cfg(test)]
pub(crate) fn append_atomically(path: &Path, bytes: &[u8]) -> Result<(), EvidenceError> {
    append_atomically_with(path, |sink| {
        sink.write_all(bytes)
            .map_err(EvidenceError::io("write", &temp_path(path)))
    })
}

/// Appends what `write` writes (complete lines) to `path`, atomically and
/// durably, as [`append_atomically`]; when `write` fails, `path` is left as it was.
pub(crate) fn append_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut Sink) -> Result<(), EvidenceError>,
) -> Result<(), EvidenceError> {
    let (tmp, mut file) = create_temp(path)?;
    let _scratch = Scratch::new(&tmp);
    // `io::copy` between two files is in-kernel (`copy_file_range`) on Linux.
    let copied = match File::open(path) {
        Ok(mut old) => std::io::copy(&mut old, &mut file).map(drop),
        Err(err) if err.kind() == ErrorKind::NotFound => Ok(()),
        Err(err) => Err(err),
    };
    if let Err(err) = copied {
        // Best effort, as in `finish`.
        let _ = fs::remove_file(&tmp);
        return Err(EvidenceError::io("copy", path)(err));
    }
    finish(file, &tmp, path, write)
}

/// Creates the temporary for an update of `path` as a new file (see the
/// module doc), after removing whatever was at its name without following it.
fn create_temp(path: &Path) -> Result<(PathBuf, File), EvidenceError> {
    let tmp = temp_path(path);
    if let Ok(meta) = fs::symlink_metadata(&tmp) {
        if meta.file_type().is_symlink() {
            // Debug-quoted: the target is a tool's text, control characters and all.
            let target = fs::read_link(&tmp).unwrap_or_default();
            log::warn!(
                "removing the link {} (to {target:?}) where qaagent writes; not following it",
                tmp.display()
            );
        }
        // A directory there is not removed: creating the file below then fails, naming it.
        if !meta.is_dir() {
            fs::remove_file(&tmp).map_err(EvidenceError::io("remove", &tmp))?;
        }
    }
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&tmp)
        .map_err(EvidenceError::io("create", &tmp))?;
    Ok((tmp, file))
}

/// Lets `write` fill the open temporary file, syncs it and renames it to `path`.
fn finish(
    file: File,
    tmp: &Path,
    path: &Path,
    write: impl FnOnce(&mut Sink) -> Result<(), EvidenceError>,
) -> Result<(), EvidenceError> {
    let mut sink = BufWriter::with_capacity(STREAM_BUFFER_BYTES, file);
    let result = write(&mut sink)
        .and_then(|()| {
            sink.into_inner()
                .map_err(|err| EvidenceError::io("write", tmp)(err.into_error()))
        })
        .and_then(|file| file.sync_all().map_err(EvidenceError::io("fsync", tmp)))
        .and_then(|()| fs::rename(tmp, path).map_err(EvidenceError::io("rename into place", path)));
    if result.is_err() {
        // Best effort: do not leave a stale temporary behind; the error that matters is `result`.
        let _ = fs::remove_file(tmp);
        return result;
    }
    sync_dir(parent(path))
}

/// The directory holding `path`: `.` for a bare file name.
fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Fsyncs a directory so that entries created or renamed in it survive a power loss.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), EvidenceError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(EvidenceError::io("fsync directory", dir))
}

/// `dir/.name.tmp`: hidden, in the same directory (so the rename stays on one file system).
fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_replaces_content_and_leaves_no_temp() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("manifest.json");
        write_atomically(&path, b"{\"a\":1}").expect("first write");
        write_atomically(&path, b"{\"a\":2}").expect("second write");
        assert_eq!(fs::read(&path).expect("read"), b"{\"a\":2}");
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["manifest.json"]);
    }

    #[test]
    fn append_creates_then_extends() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tests.jsonl");
        append_atomically(&path, b"1\n").expect("first");
        append_atomically(&path, b"2\n3\n").expect("second");
        assert_eq!(fs::read_to_string(&path).expect("read"), "1\n2\n3\n");
    }

    #[test]
    fn streamed_content_larger_than_the_buffer_arrives_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tests.jsonl");
        let line = format!("{}\n", "x".repeat(99));
        let lines = 2 * STREAM_BUFFER_BYTES / line.len() + 7;
        append_atomically(&path, b"first\n").expect("first");
        append_atomically_with(&path, |sink| {
            for _ in 0..lines {
                sink.write_all(line.as_bytes())
                    .map_err(EvidenceError::io("write", &path))?;
            }
            Ok(())
        })
        .expect("streamed");
        let text = fs::read_to_string(&path).expect("read");
        assert_eq!(text.len(), 6 + lines * line.len());
        assert!(text.starts_with("first\nxxx"));
        assert_eq!(text.lines().count(), lines + 1);
    }

    #[test]
    fn a_failed_stream_leaves_the_file_as_it_was() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("diagnostics.json");
        write_atomically(&path, b"old").expect("first");
        let err = write_atomically_with(&path, |sink| {
            sink.write_all(b"half of the new")
                .map_err(EvidenceError::io("write", &path))?;
            Err(EvidenceError::WriterGone)
        })
        .expect_err("the writer failed");
        assert!(matches!(err, EvidenceError::WriterGone), "{err}");
        assert_eq!(fs::read(&path).expect("read"), b"old");
        assert!(!temp_path(&path).exists(), "no temporary left behind");
    }

    #[test]
    fn a_reader_holding_the_old_file_keeps_seeing_it_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tests.jsonl");
        append_atomically(&path, b"old\n").expect("first");
        let held = File::open(&path).expect("open old");
        append_atomically(&path, b"new\n").expect("second");
        let old = std::io::read_to_string(held).expect("read old");
        assert_eq!(old, "old\n", "the update went to a new inode, not into the open file");
    }

    #[test]
    fn a_link_planted_at_the_temporary_is_removed_never_written_through() {
        let dir = tempfile::tempdir().expect("tempdir");
        let victim = dir.path().join("victim");
        fs::write(&victim, "precious").expect("write");
        let path = dir.path().join("manifest.json");
        let tests = dir.path().join("tests.jsonl");
        for (target, write) in [
            (
                &path,
                &(|p: &Path| write_atomically(p, b"new")) as &dyn Fn(&Path) -> Result<(), EvidenceError>,
            ),
            (&path, &|p: &Path| replace_quickly(p, b"new")),
            (&tests, &|p: &Path| append_atomically(p, b"new")),
        ] {
            std::os::unix::fs::symlink(&victim, temp_path(target)).expect("plant");
            write(target).expect("written");
            assert_eq!(fs::read_to_string(&victim).expect("read"), "precious");
            let meta = fs::symlink_metadata(target).expect("meta");
            assert!(meta.is_file(), "{} is a file, not the planted link", target.display());
            assert!(fs::symlink_metadata(temp_path(target)).is_err(), "no temporary left");
        }
        assert_eq!(fs::read_to_string(&path).expect("read"), "new");
    }

    #[test]
    fn a_bare_file_name_is_written_in_the_current_directory() {
        assert_eq!(parent(Path::new("junit.xml")), Path::new("."));
        assert_eq!(parent(Path::new("out/junit.xml")), Path::new("out"));
    }

    #[test]
    fn failure_names_the_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("missing-dir").join("manifest.json");
        let err = write_atomically(&path, b"{}").expect_err("no such dir");
        assert!(err.to_string().contains("missing-dir"), "{err}");
    }
}
