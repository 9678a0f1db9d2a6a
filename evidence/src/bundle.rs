//! Portable runs: one run directory as one `.tar.gz` file (`qaagent runs
//! export`), so CI jobs can hand their evidence on as a single artifact, and
//! the safe way back.
//!
//! A bundle holds `<run_id>/…` and nothing else. Unpacking treats it as
//! hostile: only plain files and directories are taken, at paths made only
//! of normal segments below the one run directory (no absolute path, no
//! `..`, no link, hard link or device); the bytes written are bounded
//! ([`MAX_UNPACKED_BYTES`]) whatever the headers claim; and everything goes
//! into a fresh temporary directory that is removed with the [`Bundle`].
//! Exporting never follows a link and leaves links out, so a bundle we
//! write always unpacks.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;

use crate::atomic::write_atomically_with;
use crate::error::EvidenceError;
use crate::regular::open_regular_file;
use crate::run_id::parse_run_id;
use crate::scratch::Scratch;
use crate::store::{load_run_dir, LoadedRun};
use crate::tree::sorted_entries;

/// At most this many bytes are unpacked from one bundle (16 GiB): a bundle
/// that claims more is refused rather than allowed to fill the disk.
pub const MAX_UNPACKED_BYTES: u64 = 16 << 30;

/// At most this many entries are unpacked from one bundle.
const MAX_ENTRIES: u64 = 10_000_000;

/// Whether `arg` names a bundle (`*.tar.gz`, `*.tgz`) rather than a run id or directory.
pub fn is_bundle(arg: &Path) -> bool {
    let name = arg.to_string_lossy();
    name.ends_with(".tar.gz") || name.ends_with(".tgz")
}

/// Writes the run in `run_dir` to `out` as a gzip-compressed tar, atomically.
/// Returns what was left out (links and special files), relative to the run.
pub fn export_run(run_dir: &Path, out: &Path) -> Result<Vec<String>, EvidenceError> {
    let run_id = run_dir
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let (Ok(dir), Some(parent)) = (run_dir.canonicalize(), out.parent()) {
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        if parent.canonicalize().is_ok_and(|parent| parent.starts_with(&dir)) {
            return Err(bad(out, "the bundle would be inside the run it holds"));
        }
    }
    let mut skipped = Vec::new();
    write_atomically_with(out, |sink| {
        let mut tar = tar::Builder::new(GzEncoder::new(sink, Compression::fast()));
        tar.follow_symlinks(false);
        tar.mode(tar::HeaderMode::Deterministic);
        append_dir(&mut tar, run_dir, Path::new(&run_id), &mut skipped)?;
        let gz = tar.into_inner().map_err(EvidenceError::io("write", out))?;
        gz.finish().map(drop).map_err(EvidenceError::io("write", out))
    })?;
    Ok(skipped)
}

fn append_dir<W: io::Write>(
    tar: &mut tar::Builder<W>,
    dir: &Path,
    name: &Path,
    skipped: &mut Vec<String>,
) -> Result<(), EvidenceError> {
    tar.append_dir(name, dir)
        .map_err(EvidenceError::io("add to the bundle", dir))?;
    for entry in sorted_entries(dir)? {
        let path = entry.path();
        let inner = name.join(entry.file_name());
        let kind = entry.file_type().map_err(EvidenceError::io("read", &path))?;
        if kind.is_dir() {
            append_dir(tar, &path, &inner, skipped)?;
        } else if kind.is_file() {
            let mut file = File::open(&path).map_err(EvidenceError::io("open", &path))?;
            tar.append_file(&inner, &mut file)
                .map_err(EvidenceError::io("add to the bundle", &path))?;
        } else {
            log::warn!(
                "{} is not a regular file or directory; left out of the bundle",
                path.display()
            );
            skipped.push(inner.to_string_lossy().into_owned());
        }
    }
    Ok(())
}

/// A bundle unpacked into a temporary directory, removed when this is dropped.
#[derive(Debug)]
pub struct Bundle {
    /// Holds `<run_id>/`.
    dir: tempfile::TempDir,
    run: LoadedRun,
    /// `dir`, listed while it lives.
    _scratch: Scratch,
}

impl Bundle {
    /// Unpacks the bundle at `path` (see the module docs for what is refused).
    pub fn open(path: &Path) -> Result<Bundle, EvidenceError> {
        Bundle::open_bounded(path, MAX_UNPACKED_BYTES)
    }

    pub(crate) fn open_bounded(path: &Path, max_bytes: u64) -> Result<Bundle, EvidenceError> {
        let dir = tempfile::Builder::new()
            .prefix("qaagent-bundle-")
            .tempdir()
            .map_err(EvidenceError::io("create a temporary directory for", path))?;
        let scratch = Scratch::new(dir.path());
        let run_id = unpack(path, dir.path(), max_bytes)?;
        let run = load_run_dir(&dir.path().join(&run_id))?;
        Ok(Bundle {
            dir,
            run,
            _scratch: scratch,
        })
    }

    /// The run it holds.
    pub fn run(&self) -> &LoadedRun {
        &self.run
    }

    /// The temporary runs root holding the run, for readers that take a root and an id.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }
}

/// Unpacks the bundle at `path` into `into`; returns the id of the run it holds.
fn unpack(path: &Path, into: &Path, max_bytes: u64) -> Result<String, EvidenceError> {
    let file = open_regular_file(path).map_err(EvidenceError::io("open", path))?;
    let mut archive = tar::Archive::new(GzDecoder::new(io::BufReader::new(file)));
    let mut run_id: Option<String> = None;
    let (mut written, mut count) = (0_u64, 0_u64);
    let entries = archive
        .entries()
        .map_err(|err| bad(path, &format!("not a tar.gz: {err}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|err| bad(path, &format!("unreadable: {err}")))?;
        count += 1;
        if count > MAX_ENTRIES {
            return Err(bad(path, &format!("more than {MAX_ENTRIES} entries")));
        }
        let name = entry
            .path()
            .map_err(|err| bad(path, &format!("an entry has an unreadable name: {err}")))?
            .into_owned();
        let kind = entry.header().entry_type();
        if matches!(kind, tar::EntryType::XGlobalHeader | tar::EntryType::XHeader) {
            continue;
        }
        let Some(rel) = inside_one_run(&name, &mut run_id) else {
            return Err(bad(
                path,
                &format!("entry {} is outside the run directory", name.display()),
            ));
        };
        let dest = into.join(&rel);
        match kind {
            tar::EntryType::Directory => {
                fs::create_dir_all(&dest).map_err(EvidenceError::io("create directory", &dest))?
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                if let Some(parent) = dest.parent() {
                    fs::create_dir_all(parent).map_err(EvidenceError::io("create directory", parent))?;
                }
                let mut out = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&dest)
                    .map_err(|err| bad(path, &format!("entry {}: {err}", name.display())))?;
                let room = max_bytes - written;
                let copied = io::copy(&mut (&mut entry).take(room + 1), &mut out)
                    .map_err(|err| bad(path, &format!("entry {}: {err}", name.display())))?;
                if copied > room {
                    return Err(bad(path, &format!("it unpacks to more than {max_bytes} bytes")));
                }
                written += copied;
            }
            other => {
                return Err(bad(
                    path,
                    &format!(
                        "entry {} is a {other:?}; only files and directories are taken",
                        name.display()
                    ),
                ))
            }
        }
    }
    let run_id = run_id.ok_or_else(|| bad(path, "it holds no run"))?;
    if !into.join(&run_id).is_dir() {
        return Err(bad(path, "it holds no run directory"));
    }
    Ok(run_id)
}

/// `name` as a path below `into`, when it is made of normal segments only and
/// its first one is a run id, the same as every earlier entry's.
fn inside_one_run(name: &Path, run_id: &mut Option<String>) -> Option<PathBuf> {
    let mut parts = Vec::new();
    for component in name.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_str()?.to_string()),
            Component::CurDir => {}
            _ => return None,
        }
    }
    let first = parts.first()?;
    parse_run_id(first)?;
    match run_id {
        Some(id) if id != first => return None,
        Some(_) => {}
        None => *run_id = Some(first.clone()),
    }
    Some(parts.iter().collect())
}

fn bad(path: &Path, why: &str) -> EvidenceError {
    EvidenceError::BadBundle {
        path: path.to_path_buf(),
        why: why.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "20250304_050607Z";

    /// A bundle holding the entries `add` appends.
    fn bundle(dir: &Path, add: impl FnOnce(&mut tar::Builder<GzEncoder<File>>)) -> PathBuf {
        let path = dir.join("b.tar.gz");
        let file = File::create(&path).expect("create");
        let mut tar = tar::Builder::new(GzEncoder::new(file, Compression::fast()));
        add(&mut tar);
        tar.into_inner().expect("tar").finish().expect("gz");
        path
    }

    fn file(tar: &mut tar::Builder<GzEncoder<File>>, name: &str, body: &[u8]) {
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        // set_path refuses `..`; a hostile archive writes the raw bytes.
        let raw = &mut header.as_old_mut().name;
        raw[..name.len()].copy_from_slice(name.as_bytes());
        header.set_cksum();
        tar.append(&header, body).expect("append");
    }

    fn link(tar: &mut tar::Builder<GzEncoder<File>>, name: &str, target: &str, kind: tar::EntryType) {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_size(0);
        tar.append_link(&mut header, name, target).expect("link");
    }

    fn refused(path: &Path) -> String {
        let err = Bundle::open_bounded(path, 1 << 20).expect_err("refused");
        assert!(matches!(err, EvidenceError::BadBundle { .. }), "{err}");
        err.to_string()
    }

    #[test]
    fn hostile_paths_links_and_devices_are_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let manifest = format!("{ID}/manifest.json");
        for name in ["/etc/x", "../x", &format!("{ID}/../../x")] {
            let path = bundle(tmp.path(), |tar| {
                file(tar, &manifest, b"{}");
                file(tar, name, b"x");
            });
            assert!(refused(&path).contains("outside the run directory"), "{name}");
        }
        for (kind, target) in [(tar::EntryType::Symlink, "/etc"), (tar::EntryType::Link, "/etc/passwd")] {
            let path = bundle(tmp.path(), |tar| link(tar, &format!("{ID}/artifacts"), target, kind));
            assert!(refused(&path).contains("only files and directories"), "{kind:?}");
        }
        let path = bundle(tmp.path(), |tar| {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(tar::EntryType::Char);
            header.set_size(0);
            tar.append_data(&mut header, format!("{ID}/dev"), io::empty())
                .expect("device");
        });
        assert!(refused(&path).contains("only files and directories"));
        let path = bundle(tmp.path(), |tar| file(tar, "not-a-run/manifest.json", b"{}"));
        assert!(refused(&path).contains("outside the run directory"));
        fs::write(tmp.path().join("junk.tar.gz"), "not gzip").expect("write");
        refused(&tmp.path().join("junk.tar.gz"));
    }

    #[test]
    fn unpacked_size_is_bounded_whatever_the_headers_say() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let big = vec![b'x'; (1 << 20) + 1];
        let path = bundle(tmp.path(), |tar| file(tar, &format!("{ID}/manifest.json"), &big));
        assert!(refused(&path).contains("more than"));
    }

    #[test]
    fn export_then_open_gives_the_run_back_and_cleans_up() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let run = tmp.path().join(ID);
        fs::create_dir_all(run.join("artifacts/unit")).expect("mkdir");
        let manifest = format!(r#"{{"run_id": "{ID}", "status": "passed"}}"#);
        fs::write(run.join("manifest.json"), manifest).expect("write");
        fs::write(run.join("artifacts/unit/junit.xml"), "<x/>").expect("write");
        std::os::unix::fs::symlink("/etc/passwd", run.join("artifacts/unit/passwd")).expect("link");
        let out = tmp.path().join("run.tar.gz");
        let skipped = export_run(&run, &out).expect("exported");
        assert_eq!(skipped, [format!("{ID}/artifacts/unit/passwd")]);
        let opened = Bundle::open(&out).expect("opens");
        assert_eq!(opened.run().run_id, ID);
        assert_eq!(
            fs::read_to_string(opened.run().dir.join("artifacts/unit/junit.xml")).expect("kept"),
            "<x/>"
        );
        let temp = opened.root().to_path_buf();
        drop(opened);
        assert!(!temp.exists(), "the unpacked copy is removed");
        let inside = export_run(&run, &run.join("self.tar.gz")).expect_err("inside the run");
        assert!(inside.to_string().contains("inside the run"), "{inside}");
    }
}
