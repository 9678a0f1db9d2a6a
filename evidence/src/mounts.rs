//! Finding a file system mounted inside a directory qaagent is about to
//! remove: a test that bind-mounted the project's fixtures into its output
//! directory, and failed before unmounting, once had the fixtures deleted
//! through the mount by the next run's clearing (and by `runs prune`).
//!
//! A bind mount of a directory of the same file system has the same
//! `st_dev`, so comparing devices (as `rm --one-file-system` does) would
//! miss it; the kernel's list of mounts names it. That list is Linux's
//! `/proc/self/mountinfo`: elsewhere no mount is found.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

/// The first mount point at `dir` or below it, if any: removing `dir`
/// whole would delete files of the mounted file system.
pub fn mount_below(dir: &Path) -> std::io::Result<Option<PathBuf>> {
    let table = match std::fs::read("/proc/self/mountinfo") {
        Ok(table) => table,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err),
    };
    let dir = std::fs::canonicalize(dir)?;
    let found = mount_points(&table).find(|point| point.starts_with(&dir));
    Ok(found)
}

/// The mount points of a `mountinfo` table (the fifth field of each line).
fn mount_points(table: &[u8]) -> impl Iterator<Item = PathBuf> + '_ {
    table
        .split(|&byte| byte == b'\n')
        .filter_map(|line| line.split(|&byte| byte == b' ').nth(4))
        .map(|field| PathBuf::from(OsString::from_vec(unescape(field))))
}

/// `field` with the kernel's octal escapes (`\040` for a space, and so on
/// for tab, newline and backslash) undone.
fn unescape(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut rest = field;
    while let Some((&byte, tail)) = rest.split_first() {
        let octal = tail
            .get(..3)
            .filter(|digits| byte == b'\\' && digits.iter().all(|d| (b'0'..=b'7').contains(d)));
        match octal {
            Some(digits) => {
                out.push(
                    digits
                        .iter()
                        .fold(0u8, |value, d| value.wrapping_mul(8).wrapping_add(d - b'0')),
                );
                rest = &tail[3..];
            }
            None => {
                out.push(byte);
                rest = tail;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_points_are_read_with_their_escapes_undone() {
        let table = b"22 1 254:0 / / rw - ext4 /dev/vda rw\n\
                      40 22 254:0 /proj/fixtures /tmp/out/a/my\\040mnt rw - ext4 /dev/vda rw\n";
        let points: Vec<_> = mount_points(table).collect();
        assert_eq!(points, [PathBuf::from("/"), PathBuf::from("/tmp/out/a/my mnt")]);
    }

    #[test]
    fn a_directory_with_no_mount_below_it_has_none() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
        assert_eq!(mount_below(dir.path()).expect("read"), None);
    }
}
