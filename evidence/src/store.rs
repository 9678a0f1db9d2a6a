//! Reading runs back, for `runs list` and `runs show`.
//!
//! Listing never fails because of one bad run: a directory whose manifest is
//! missing or corrupt (a run killed while being created, a disk that filled
//! up, a hand edit) is listed with what is wrong with it. Only run-id-shaped
//! directory names count as runs; anything else in the runs root is ignored.
//!
//! A run is read with the status a reader should give it: a manifest that
//! says `running` while nobody holds the run's `writer.lock` is a run whose
//! writer died, [`RunStatus::Crashed`].

use std::fs::{self, File};
use std::io::{BufRead, BufReader, ErrorKind};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::error::{EvidenceError, ManifestProblem};
use crate::lock::writer_gone;
use crate::manifest::{Manifest, RunStatus, DIAGNOSTICS_FILE, MANIFEST_FILE, TESTS_FILE};
use crate::project::{canonical, of_project};
use crate::raw_record::RawRecord;
use crate::record::{DiagnosticRecord, TestRecord};
use crate::regular::{open_regular_file, read_regular_to_string};
use crate::run_id::{parse_run_id, run_time};

/// The word that selects the newest run.
pub const LATEST: &str = "latest";

/// One entry of the runs listing: a run directory and its manifest, or why that cannot be read.
#[derive(Debug, Clone)]
pub struct ListedRun {
    /// The run id (the directory's name).
    pub run_id: String,
    /// The run directory.
    pub dir: PathBuf,
    /// The run's manifest, or why it cannot be used.
    pub manifest: Result<Box<Manifest>, ManifestProblem>,
    /// Its manifest says `running` but its writer is gone.
    pub crashed: bool,
}

impl ListedRun {
    /// The run's status as a reader should see it: [`RunStatus::Crashed`]
    /// for a crashed run, else the manifest's (none when the manifest is
    /// unusable or, as in the Python qaagent's runs, has no status).
    pub fn status(&self) -> Option<RunStatus> {
        status(self.manifest.as_deref().ok(), self.crashed)
    }
}

/// Lists the runs under `root`, newest first. A missing root holds no runs.
pub fn list_runs(root: &Path) -> Result<Vec<ListedRun>, EvidenceError> {
    Ok(runs_newest_first(root)?.collect())
}

/// The runs under `root`, newest first, each manifest read only when the
/// iteration reaches its run: finding a project's latest runs (the live
/// display's countdown, the report's history) reads a few manifests however
/// many runs the root holds. A missing root holds no runs.
pub fn runs_newest_first(root: &Path) -> Result<impl Iterator<Item = ListedRun>, EvidenceError> {
    Ok(sorted_run_dirs(root)?.into_iter().map(|(run_id, dir)| {
        let (manifest, crashed) = read_run(&dir, Some(&run_id));
        ListedRun {
            manifest: manifest.map(Box::new),
            crashed,
            run_id,
            dir,
        }
    }))
}

/// Turns `latest` or a run id into the run's id and directory. `latest` is
/// the newest run of `project` (a project directory) when given, else the
/// newest run in `root`; a run id names its run whatever its project.
pub fn resolve_run(
    root: &Path,
    id_or_latest: &str,
    project: Option<&Path>,
) -> Result<(String, PathBuf), EvidenceError> {
    if id_or_latest == LATEST {
        let dirs = not_in_the_future(sorted_run_dirs(root)?, Utc::now());
        let Some(project) = project else {
            return dirs.into_iter().next().ok_or_else(|| EvidenceError::NoRuns {
                root: root.to_path_buf(),
            });
        };
        // Newest first, reading manifests only until one of the project's.
        let project_dir = canonical(project);
        return dirs
            .into_iter()
            .find(|(_, dir)| read_manifest(dir).is_ok_and(|manifest| of_project(&manifest, &project_dir)))
            .ok_or_else(|| EvidenceError::NoRunsOfProject {
                project: project.to_path_buf(),
                root: root.to_path_buf(),
            });
    }
    if parse_run_id(id_or_latest).is_none() {
        return Err(EvidenceError::InvalidRunId(id_or_latest.to_string()));
    }
    let dir = root.join(id_or_latest);
    // A link is found (and refused by `read_run`), not taken for "no such run".
    if !fs::symlink_metadata(&dir).is_ok_and(|meta| meta.is_dir() || meta.file_type().is_symlink()) {
        return Err(EvidenceError::RunNotFound {
            id: id_or_latest.to_string(),
            root: root.to_path_buf(),
        });
    }
    Ok((id_or_latest.to_string(), dir))
}

/// A run read back: its manifest, with its records and diagnostics on demand.
#[derive(Debug, Clone)]
pub struct LoadedRun {
    /// The run id.
    pub run_id: String,
    /// The run directory.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    /// Its manifest says `running` but its writer is gone.
    pub crashed: bool,
}

/// Loads the run `id_or_latest` (a run id or `latest`) from `root`.
pub fn load_run(root: &Path, id_or_latest: &str) -> Result<LoadedRun, EvidenceError> {
    let (run_id, dir) = resolve_run(root, id_or_latest, None)?;
    loaded(run_id, dir, true)
}

/// Loads the run in directory `dir`, wherever it is (a shard run copied
/// from another machine, an unpacked bundle); its id is the directory's name.
/// A directory named like a run id is held to it as one in a runs root is.
pub fn load_run_dir(dir: &Path) -> Result<LoadedRun, EvidenceError> {
    let run_id = dir
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.display().to_string());
    let named = parse_run_id(&run_id).is_some();
    loaded(run_id, dir.to_path_buf(), named)
}

/// The run in `dir`, known as `run_id`; `named`: `dir` is named `run_id`
/// (as in a runs root), so it is no link and its manifest is that run's.
fn loaded(run_id: String, dir: PathBuf, named: bool) -> Result<LoadedRun, EvidenceError> {
    let (manifest, crashed) = read_run(&dir, named.then_some(run_id.as_str()));
    let manifest = manifest.map_err(|problem| EvidenceError::BadManifest {
        run_id: run_id.clone(),
        problem,
    })?;
    Ok(LoadedRun {
        run_id,
        dir,
        manifest,
        crashed,
    })
}

impl LoadedRun {
    /// The run's status as a reader should see it, as [`ListedRun::status`].
    pub fn status(&self) -> Option<RunStatus> {
        status(Some(&self.manifest), self.crashed)
    }

    /// The run's test records in file order. A run without `tests.jsonl` has none.
    pub fn records(&self) -> Result<Records, EvidenceError> {
        let path = self.dir.join(TESTS_FILE);
        let reader = match open_regular_file(&path) {
            Ok(file) => Some(BufReader::with_capacity(64 * 1024, file)),
            Err(err) if err.kind() == ErrorKind::NotFound => None,
            Err(err) => return Err(EvidenceError::io("open", path)(err)),
        };
        Ok(Records {
            reader,
            path,
            line: 0,
            text: Vec::new(),
            too_long: false,
        })
    }

    /// The run's diagnostics; empty when none were written.
    pub fn diagnostics(&self) -> Result<Vec<DiagnosticRecord>, EvidenceError> {
        let path = self.dir.join(DIAGNOSTICS_FILE);
        // A record per failure: 100,000 failures are ~50 MB.
        let text = match crate::regular::read_regular_within(&path, 8 * crate::regular::READ_LIMIT) {
            Ok(text) => text,
            Err(err) if err.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(EvidenceError::io("read", path)(err)),
        };
        serde_json::from_str(&text).map_err(|source| EvidenceError::BadRecord { path, line: 1, source })
    }
}

/// The longest `tests.jsonl` line read as a record; a longer one is a bad
/// record, read past without being held. A record's texts come from a
/// tool's report, each clipped to its first and last 64 KiB by the JUnit
/// reader, so even JSON-escaped (at most 6 bytes a byte) one text is under
/// 1 MiB: 64 MiB leaves room for a record with dozens of them (subtests'
/// failures), while a corrupt file of one endless line (a NUL-filled,
/// sparse one) once had every reader of history allocate all of it, and
/// abort when it could not.
const MAX_RECORD_BYTES: usize = 64 << 20;

/// The test records of a run, read one line at a time.
#[derive(Debug)]
pub struct Records {
    reader: Option<BufReader<File>>,
    path: PathBuf,
    line: usize,
    text: Vec<u8>,
    /// The line read last was over [`MAX_RECORD_BYTES`] (and `text` is empty).
    too_long: bool,
}

impl Records {
    /// Reads the next non-blank line into `text`; None at the end.
    fn advance(&mut self) -> Option<Result<(), EvidenceError>> {
        let reader = self.reader.as_mut()?;
        loop {
            self.text.clear();
            self.line += 1;
            let read = read_line_within(reader, &mut self.text, MAX_RECORD_BYTES).and_then(|read| match read {
                // A file that is not text is unreadable, not one bad line.
                Some(true) if std::str::from_utf8(&self.text).is_err() => Err(std::io::Error::new(
                    ErrorKind::InvalidData,
                    "stream did not contain valid UTF-8",
                )),
                read => Ok(read),
            });
            match read {
                Ok(None) => return None,
                Ok(Some(whole)) if whole && self.text.trim_ascii().is_empty() => continue,
                Ok(Some(whole)) => {
                    self.too_long = !whole;
                    return Some(Ok(()));
                }
                Err(err) => {
                    // An unreadable file yields one error and ends.
                    self.reader = None;
                    return Some(Err(EvidenceError::io("read", self.path.clone())(err)));
                }
            }
        }
    }

    /// The line read last, parsed.
    fn parse<'a, T: serde::Deserialize<'a>>(&'a self) -> Result<T, EvidenceError> {
        let parsed = if self.too_long {
            Err(serde::de::Error::custom(format_args!(
                "the line is over {} MiB long: not read as a record",
                MAX_RECORD_BYTES >> 20
            )))
        } else {
            serde_json::from_slice(&self.text)
        };
        parsed.map_err(|source| EvidenceError::BadRecord {
            path: self.path.clone(),
            line: self.line,
            source,
        })
    }

    /// The next record, borrowed from its line as a [`RawRecord`] (for passing it on); None at the end.
    pub fn next_raw(&mut self) -> Option<Result<RawRecord<'_>, EvidenceError>> {
        self.next_as()
    }

    /// The next record decoded as `T`, borrowing from its line: a reader
    /// that needs a few fields decodes only those. None at the end.
    pub fn next_as<'a, T: serde::Deserialize<'a>>(&'a mut self) -> Option<Result<T, EvidenceError>> {
        match self.advance()? {
            Ok(()) => Some(self.parse()),
            Err(err) => Some(Err(err)),
        }
    }

    /// The record [`Records::next_raw`] returned last, again.
    pub fn current_raw(&self) -> Result<RawRecord<'_>, EvidenceError> {
        self.parse()
    }
}

impl Iterator for Records {
    type Item = Result<TestRecord, EvidenceError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.advance()? {
            Ok(()) => Some(self.parse()),
            Err(err) => Some(Err(err)),
        }
    }
}

/// Reads one line (its newline included) from `reader` into `line`: `None`
/// at the end, else whether it was at most `max` bytes long. A longer line
/// is read to its end but not kept (`line` is left empty).
fn read_line_within(reader: &mut impl BufRead, line: &mut Vec<u8>, max: usize) -> std::io::Result<Option<bool>> {
    let (mut read, mut whole) = (false, true);
    loop {
        let buf = match reader.fill_buf() {
            Ok(buf) => buf,
            Err(err) if err.kind() == ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        if buf.is_empty() {
            return Ok(read.then_some(whole));
        }
        read = true;
        let (piece, ended) = match memchr::memchr(b'\n', buf) {
            Some(at) => (&buf[..=at], true),
            None => (buf, false),
        };
        let taken = piece.len();
        if whole && line.len() + taken <= max {
            line.extend_from_slice(piece);
        } else if whole {
            whole = false;
            *line = Vec::new();
        }
        reader.consume(taken);
        if ended {
            return Ok(Some(whole));
        }
    }
}

/// How far ahead of now a run's id may be dated and still be `latest`:
/// runs are dated by the clock of the machine that ran them, and shards come
/// from other machines.
const CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// `dirs` (newest first) without the runs dated after `now` (by more than
/// [`CLOCK_SKEW`]), each left out with a warning: one made while the clock
/// was ahead, or renamed, would otherwise stay `latest` for ever, and
/// `--rerun-failed` would read it instead of the run that just failed.
fn not_in_the_future(dirs: Vec<(String, PathBuf)>, now: DateTime<Utc>) -> Vec<(String, PathBuf)> {
    dirs.into_iter()
        .filter(|(run_id, _)| {
            let ahead = run_time(run_id).is_some_and(|time| time > now + CLOCK_SKEW);
            if ahead {
                log::warn!("run {run_id} is dated in the future (a clock that was ahead?): not taken as `latest`; name it to use it");
            }
            !ahead
        })
        .collect()
}

/// The run directories under `root`, newest first.
fn sorted_run_dirs(root: &Path) -> Result<Vec<(String, PathBuf)>, EvidenceError> {
    let mut dirs = run_dirs(root)?;
    dirs.sort_by(|a, b| parse_run_id(&b.0).cmp(&parse_run_id(&a.0)));
    Ok(dirs)
}

/// Run-id-named directories under `root`, unordered.
fn run_dirs(root: &Path) -> Result<Vec<(String, PathBuf)>, EvidenceError> {
    let entries = match fs::read_dir(root) {
        Ok(entries) => entries,
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(EvidenceError::io("list runs in", root)(err)),
    };
    let mut dirs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(EvidenceError::io("list runs in", root))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        // Links are listed, to be refused as runs (see `read_run`).
        let listed = entry.file_type().is_ok_and(|kind| kind.is_dir() || kind.is_symlink());
        if parse_run_id(&name).is_some() && listed {
            dirs.push((name, entry.path()));
        }
    }
    Ok(dirs)
}

fn status(manifest: Option<&Manifest>, crashed: bool) -> Option<RunStatus> {
    if crashed {
        return Some(RunStatus::Crashed);
    }
    manifest.and_then(|manifest| manifest.status)
}

/// Reads the run in `dir`: its manifest, and whether its writer crashed.
/// With `run_id`, a manifest of another run (the directory was swapped for
/// a copy of another run) is a problem.
fn read_run(dir: &Path, run_id: Option<&str>) -> (Result<Manifest, ManifestProblem>, bool) {
    if run_id.is_some() && fs::symlink_metadata(dir).is_ok_and(|meta| meta.file_type().is_symlink()) {
        // A tool that swapped its run directory for a link to an earlier,
        // passing run would otherwise have that run shown, merged and
        // re-run under its id.
        let linked = "the run directory is a symbolic link (not followed)";
        return (Err(ManifestProblem::Unreadable(linked.into())), false);
    }
    let read = || {
        read_manifest(dir).and_then(|manifest| match run_id {
            Some(id) if !manifest.run_id.is_empty() && manifest.run_id != id => Err(ManifestProblem::Corrupt(format!(
                "it is the manifest of run {}, not of this one (a copy of another run?)",
                manifest.run_id
            ))),
            _ => Ok(manifest),
        })
    };
    let manifest = read();
    let running = |manifest: &Result<Manifest, ManifestProblem>| matches!(manifest, Ok(m) if m.status == Some(RunStatus::Running));
    if !running(&manifest) || !writer_gone(dir) {
        return (manifest, false);
    }
    // The writer may have finalized the run and let go of the lock since the
    // manifest was read: only a manifest still `running` now was left so.
    let again = read();
    let crashed = running(&again);
    (again, crashed)
}

/// Reads and parses `<dir>/manifest.json`.
fn read_manifest(dir: &Path) -> Result<Manifest, ManifestProblem> {
    let text = match read_regular_to_string(&dir.join(MANIFEST_FILE)) {
        Ok(text) => text,
        Err(err) if err.kind() == ErrorKind::NotFound => return Err(ManifestProblem::Missing),
        Err(err) => return Err(ManifestProblem::Unreadable(err.to_string())),
    };
    serde_json::from_str(&text).map_err(|err| ManifestProblem::Corrupt(err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_over_the_bound_is_read_past_without_being_kept() {
        let text = format!("{}\nshort\n{}", "x".repeat(100), "y".repeat(20));
        // A buffer smaller than the lines: each is read in pieces.
        let mut reader = std::io::BufReader::with_capacity(8, text.as_bytes());
        let mut line = Vec::new();
        let mut next = |line: &mut Vec<u8>| {
            line.clear();
            read_line_within(&mut reader, line, 32).expect("read")
        };
        assert_eq!(next(&mut line), Some(false));
        assert!(line.is_empty());
        assert_eq!(next(&mut line), Some(true));
        assert_eq!(line, b"short\n");
        assert_eq!(next(&mut line), Some(true), "the last line, without its newline");
        assert_eq!(line.len(), 20);
        assert_eq!(next(&mut line), None);
    }

    #[test]
    fn a_run_dated_after_now_is_not_latest_within_the_clock_skew_it_is() {
        let now = DateTime::parse_from_rfc3339("2026-11-30T12:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let dirs = ["20271130_120000Z", "20261130_120900Z", "20261130_115900Z_01"]
            .map(|id| (id.to_string(), PathBuf::from(id)))
            .to_vec();
        let kept: Vec<String> = not_in_the_future(dirs, now).into_iter().map(|(id, _)| id).collect();
        assert_eq!(kept, ["20261130_120900Z", "20261130_115900Z_01"]);
    }
}
