//! Opening files that may not be what their names say: a run directory or
//! a bundle handed to `merge` or `runs show` can come from anywhere, and a
//! FIFO named `manifest.json` would block the reader forever, a symlink to
//! `/dev/zero` would fill its memory.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Opens `path` for reading only if it is a regular file (after following
/// symlinks). Opening does not block on a FIFO (`O_NONBLOCK`, which regular
/// files ignore); anything else is an `InvalidInput` error saying what it is.
pub fn open_regular_file(path: &Path) -> io::Result<File> {
    open_checked(path, libc::O_NONBLOCK)
}

/// [`open_regular_file`] for a file only qaagent makes (`writer.lock`): a
/// link there was planted, and is refused rather than followed.
pub(crate) fn open_own_file(path: &Path) -> io::Result<File> {
    open_checked(path, libc::O_NONBLOCK | libc::O_NOFOLLOW).map_err(|err| match err.raw_os_error() {
        // What `O_NOFOLLOW` says of a link, in words.
        Some(libc::ELOOP) => io::Error::new(io::ErrorKind::InvalidInput, "a link, not followed"),
        _ => err,
    })
}

fn open_checked(path: &Path, flags: libc::c_int) -> io::Result<File> {
    let file = OpenOptions::new().read(true).custom_flags(flags).open(path)?;
    let kind = file.metadata()?.file_type();
    if kind.is_file() {
        Ok(file)
    } else {
        let what = if kind.is_dir() {
            "a directory"
        } else {
            "not a regular file"
        };
        Err(io::Error::new(io::ErrorKind::InvalidInput, what))
    }
}

/// The most [`read_regular_to_string`] reads: far past any manifest or
/// config qaagent writes or reads (a merged run of a million tests has a
/// manifest of a few MB), while a 300 MB manifest a tool padded once cost
/// `runs list` 621 MB and `runs flaky` 929 MB (a hostile try, 13b #7).
pub const READ_LIMIT: u64 = 64 * 1024 * 1024;

/// [`std::fs::read_to_string`] through [`open_regular_file`], of a file of
/// at most [`READ_LIMIT`] bytes; a longer one is an `InvalidData` error,
/// read no further.
pub fn read_regular_to_string(path: &Path) -> io::Result<String> {
    read_regular_within(path, READ_LIMIT)
}

/// [`read_regular_to_string`] with a limit of `limit` bytes.
pub fn read_regular_within(path: &Path, limit: u64) -> io::Result<String> {
    let file = open_regular_file(path)?;
    let too_long = || io::Error::new(io::ErrorKind::InvalidData, format!("it is over {limit} bytes"));
    if file.metadata()?.len() > limit {
        return Err(too_long());
    }
    let mut text = String::new();
    file.take(limit + 1).read_to_string(&mut text)?;
    if text.len() as u64 > limit {
        return Err(too_long());
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_or_a_device_is_refused_without_blocking() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("manifest.json");
        let name = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).expect("path");
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        let err = read_regular_to_string(&fifo).expect_err("a FIFO is refused");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let zero = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).expect("symlink");
        assert!(open_regular_file(&zero).is_err());
        assert!(open_regular_file(dir.path()).is_err());
        let plain = dir.path().join("plain");
        std::fs::write(&plain, "{}").expect("write");
        assert_eq!(read_regular_to_string(&plain).expect("read"), "{}");
        assert_eq!(
            read_regular_within(&plain, 1).expect_err("over the limit").kind(),
            io::ErrorKind::InvalidData
        );
    }
}
