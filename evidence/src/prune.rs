//! Removing a recorded run (`qaagent runs prune`) without harming a live one.
//!
//! A run is removed only while its `writer.lock` is ours (so no writer is in
//! it), or, when it has no usable one (none, or something a tool left in its
//! place), on its manifest's word that it finished; never while its manifest
//! says `running` with no lock to prove the writer gone, and never in the
//! first minute of a run that has no manifest yet (it may be being created).
//! The run directory is first renamed to a hidden name in the runs root, so a
//! removal that fails half way never leaves a half run to be listed; nothing
//! is followed out of the runs root: a symbolic link named like a run is left
//! alone, and removing a directory removes the links in it, never what they
//! point to. Nor does it cross into a file system mounted in the run (a
//! test's leftover bind mount): such a run is kept, naming the mount
//! ([`crate::mount_below`]).

use std::fs;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};

use crate::error::{EvidenceError, ManifestProblem};
use crate::lock::{claim, Claim};
use crate::manifest::RunStatus;
use crate::mounts::mount_below;
use crate::run_id::run_time;
use crate::store::ListedRun;

/// How long a run directory without a manifest may be one being created.
const CREATION_GRACE: Duration = Duration::from_secs(60);

/// What [`prune_run`] did with a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pruned {
    /// The run was removed (or, in a dry run, would be).
    Removed,
    /// The run was left alone, for this reason.
    Kept(String),
}

impl ListedRun {
    /// How long ago the run was created, from its id (none for a run id
    /// from the future, as from a clock that was wrong).
    pub fn age(&self) -> Option<Duration> {
        let created: DateTime<Utc> = run_time(&self.run_id)?;
        (Utc::now() - created).to_std().ok()
    }
}

/// Removes the run `run` (one of [`crate::list_runs`]'s), unless it is being
/// written, or only says what would be done when `dry_run`.
pub fn prune_run(run: &ListedRun, dry_run: bool) -> Result<Pruned, EvidenceError> {
    let metadata = fs::symlink_metadata(&run.dir).map_err(EvidenceError::io("inspect", &run.dir))?;
    if !metadata.is_dir() {
        return Ok(Pruned::Kept(
            "a symbolic link or file, not a run directory: not followed".to_string(),
        ));
    }
    let running = run.status() == Some(RunStatus::Running);
    if matches!(run.manifest, Err(ManifestProblem::Missing)) {
        let age = metadata
            .modified()
            .ok()
            .and_then(|modified| SystemTime::now().duration_since(modified).ok());
        if age.is_none_or(|age| age < CREATION_GRACE) {
            return Ok(Pruned::Kept("no manifest yet: it may be being created".to_string()));
        }
    }
    let _claim = match claim(&run.dir)? {
        Claim::Unknown if running => {
            return Ok(Pruned::Kept(
                "its writer.lock cannot be used (see the warning above): whether it is still being written \
                 cannot be told; remove it by hand once sure"
                    .to_string(),
            ))
        }
        Claim::Held => return Ok(Pruned::Kept("still being written".to_string())),
        _ if running => return Ok(Pruned::Kept("still being written".to_string())),
        claim => claim,
    };
    if let Some(mount) = mount_below(&run.dir).map_err(EvidenceError::io("inspect", &run.dir))? {
        // Debug-quoted: a tool chose the path, control characters and all.
        return Ok(Pruned::Kept(format!(
            "a file system is mounted in it at {mount:?}, whose files removing the run would delete: unmount it first"
        )));
    }
    if dry_run {
        return Ok(Pruned::Removed);
    }
    let parent = run.dir.parent().unwrap_or(&run.dir);
    let doomed = parent.join(format!(".pruning-{}", run.run_id));
    fs::rename(&run.dir, &doomed).map_err(EvidenceError::io("move aside", &run.dir))?;
    fs::remove_dir_all(&doomed).map_err(EvidenceError::io("remove", &doomed))?;
    log::info!("removed run {}", run.run_id);
    Ok(Pruned::Removed)
}

/// Removes what a prune that failed half way left under `root`: directories
/// named `.pruning-<id>` (never links), unless a file system is mounted in
/// one. Returns each one found, with what became of it. Before, such a
/// remainder was listed by no command and removed by no later prune.
pub fn remove_prune_leftovers(root: &std::path::Path) -> Vec<(std::path::PathBuf, Result<(), EvidenceError>)> {
    let Ok(entries) = fs::read_dir(root) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let is_leftover = name.to_str().is_some_and(|name| name.starts_with(".pruning-"));
        if !is_leftover || !entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            continue;
        }
        let path = entry.path();
        let removed = match mount_below(&path).map_err(EvidenceError::io("inspect", &path)) {
            Ok(Some(mount)) => Err(EvidenceError::io("remove", &path)(std::io::Error::other(format!(
                "a file system is mounted in it at {mount:?}: unmount it first"
            )))),
            Ok(None) => fs::remove_dir_all(&path).map_err(EvidenceError::io("remove", &path)),
            Err(err) => Err(err),
        };
        found.push((path, removed));
    }
    found
}
