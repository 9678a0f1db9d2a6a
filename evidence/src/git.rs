//! What the manifest's `target.git` records of the project: commit, branch, dirty.
//!
//! Commit and branch are read straight from the repository's files (`HEAD`,
//! loose refs, `packed-refs`; linked worktrees and `.git` files included), so
//! no process is started for them. Whether the tree is dirty cannot be read
//! cheaply from files, so it asks `git status` once, bounded by a short
//! deadline, and records `null` when git is missing or slow. That question is
//! a [`DirtyProbe`]: started first, answered later, so that the milliseconds
//! git takes overlap the rest of a run's start instead of adding to it.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// How long `git status` may take before dirtiness is recorded as unknown.
const STATUS_DEADLINE: Duration = Duration::from_secs(3);

/// The project's repository state at the start of a run. Every field is
/// omitted when unknown, so a project outside git records `{}` (the Python
/// qaagent's default, which its readers expect to be a mapping).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitInfo {
    /// The checked-out commit (full hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The checked-out branch; absent on a detached HEAD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// True when tracked files differ from the commit (untracked files do not count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dirty: Option<bool>,
}

/// Reads the git state of the repository containing `project`; empty when it is in none.
#[cfg(test)]
pub(crate) fn git_info(project: &Path) -> GitInfo {
    let probe = DirtyProbe::start(project);
    let mut info = git_refs(project);
    info.dirty = probe.and_then(DirtyProbe::wait);
    info
}

/// The commit and branch of the repository containing `project` (`dirty`
/// left unknown); empty when it is in none.
pub(crate) fn git_refs(project: &Path) -> GitInfo {
    let Some(git_dir) = find_git_dir(project) else {
        return GitInfo::default();
    };
    let common_dir = fs::read_to_string(git_dir.join("commondir"))
        .map(|rel| git_dir.join(rel.trim()))
        .unwrap_or_else(|_| git_dir.clone());
    let Ok(head) = fs::read_to_string(git_dir.join("HEAD")) else {
        return GitInfo::default();
    };
    let head = head.trim();
    let (commit, branch) = match head.strip_prefix("ref:") {
        Some(reference) => {
            let reference = reference.trim();
            let commit = resolve_ref(&git_dir, &common_dir, reference);
            (
                commit,
                Some(reference.strip_prefix("refs/heads/").unwrap_or(reference).to_string()),
            )
        }
        None => (Some(head.to_string()), None),
    };
    GitInfo {
        commit,
        branch,
        dirty: None,
    }
}

/// The git directory of the repository containing `start`, walking up.
fn find_git_dir(start: &Path) -> Option<PathBuf> {
    let start = start.canonicalize().ok()?;
    for dir in start.ancestors() {
        let dot_git = dir.join(".git");
        let Ok(meta) = fs::metadata(&dot_git) else {
            continue;
        };
        if meta.is_dir() {
            return Some(dot_git);
        }
        // A linked worktree or submodule: `.git` is a file saying `gitdir: PATH`.
        let text = fs::read_to_string(&dot_git).ok()?;
        let target = text.trim().strip_prefix("gitdir:")?.trim();
        return Some(dir.join(target));
    }
    None
}

/// The commit a ref points at: a loose ref (per-worktree, then shared), else `packed-refs`.
fn resolve_ref(git_dir: &Path, common_dir: &Path, reference: &str) -> Option<String> {
    for base in [git_dir, common_dir] {
        if let Ok(text) = fs::read_to_string(base.join(reference)) {
            let text = text.trim();
            if !text.is_empty() && !text.starts_with("ref:") {
                return Some(text.to_string());
            }
        }
    }
    let packed = fs::read_to_string(common_dir.join("packed-refs")).ok()?;
    packed.lines().find_map(|line| {
        let (hash, name) = line.split_once(' ')?;
        (name == reference && !line.starts_with('#')).then(|| hash.to_string())
    })
}

/// A running `git status` asking whether tracked files changed.
#[derive(Debug)]
pub(crate) struct DirtyProbe {
    child: std::process::Child,
    /// git's whole output, sent once its stdout closes (normally as it exits).
    output: crossbeam_channel::Receiver<std::io::Result<Vec<u8>>>,
    deadline: Instant,
    project: PathBuf,
}

impl DirtyProbe {
    /// Starts `git status` in `project`; `None` when it is in no repository
    /// or git cannot be started.
    pub(crate) fn start(project: &Path) -> Option<DirtyProbe> {
        find_git_dir(project)?;
        let mut child = Command::new("git")
            .arg("-C")
            .arg(project)
            .args(["status", "--porcelain", "--untracked-files=no"])
            // Do not take index.lock: a concurrent git command in the project must not fail because of us.
            .env("GIT_OPTIONAL_LOCKS", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let Some(mut stdout) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        };
        // Read on a helper thread so a large listing cannot fill the pipe and
        // stall git past the deadline, and so the answer can be awaited with a timeout.
        let (sender, output) = crossbeam_channel::bounded(1);
        std::thread::spawn(move || {
            let mut out = Vec::new();
            let _ = sender.send(stdout.read_to_end(&mut out).map(|_| out));
        });
        Some(DirtyProbe {
            child,
            output,
            deadline: Instant::now() + STATUS_DEADLINE,
            project: project.to_path_buf(),
        })
    }

    /// Waits for the answer: whether tracked files changed; `None` when git
    /// failed or did not answer within [`STATUS_DEADLINE`] of its start.
    pub(crate) fn wait(mut self) -> Option<bool> {
        // git's stdout closes as it exits, so its output arriving is the wait
        // (no polling interval added to git's own time); the exit status is
        // then there, or very nearly.
        let timeout = self.deadline.saturating_duration_since(Instant::now());
        let out = match self.output.recv_timeout(timeout) {
            Ok(out) => out.ok(),
            Err(_) => None,
        };
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) if out.is_some() => break status,
                Ok(None) if out.is_some() && Instant::now() < self.deadline => {
                    std::thread::sleep(Duration::from_micros(100));
                }
                _ => {
                    log::debug!(
                        "git status in {} failed or took too long; dirty state unknown",
                        self.project.display()
                    );
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return None;
                }
            }
        };
        status.success().then_some(!out?.is_empty())
    }
}

impl Drop for DirtyProbe {
    /// A probe nobody waited for (the run's creation failed) leaves no git behind.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) {
        let status = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("git runs");
        assert!(status.success(), "git {args:?}");
    }

    fn head_commit(dir: &Path) -> String {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["rev-parse", "HEAD"])
            .output()
            .expect("git rev-parse");
        String::from_utf8(out.stdout).expect("utf8").trim().to_string()
    }

    #[test]
    fn outside_a_repository_everything_is_unknown() {
        let dir = tempfile::tempdir().expect("tempdir");
        let info = git_info(dir.path());
        assert_eq!(info, GitInfo::default());
        assert_eq!(serde_json::to_string(&info).expect("json"), "{}");
    }

    #[test]
    fn reads_commit_branch_and_dirty_from_a_repository() {
        let dir = tempfile::tempdir().expect("tempdir");
        git(dir.path(), &["init", "-q", "-b", "trunk"]);
        fs::write(dir.path().join("a.txt"), "1").expect("write");
        git(dir.path(), &["add", "a.txt"]);
        git(dir.path(), &["commit", "-q", "-m", "one"]);
        let sub = dir.path().join("sub");
        fs::create_dir(&sub).expect("mkdir");

        let info = git_info(&sub);
        assert_eq!(info.commit.as_deref(), Some(head_commit(dir.path()).as_str()));
        assert_eq!(info.branch.as_deref(), Some("trunk"));
        assert_eq!(info.dirty, Some(false));

        fs::write(dir.path().join("a.txt"), "2").expect("modify");
        assert_eq!(git_info(dir.path()).dirty, Some(true));

        // Packed refs and a detached HEAD.
        git(dir.path(), &["pack-refs", "--all"]);
        assert_eq!(
            git_info(dir.path()).commit.as_deref(),
            Some(head_commit(dir.path()).as_str())
        );
        git(dir.path(), &["checkout", "-q", "--detach"]);
        let detached = git_info(dir.path());
        assert_eq!(detached.branch, None);
        assert_eq!(detached.commit.as_deref(), Some(head_commit(dir.path()).as_str()));
    }

    #[test]
    fn linked_worktrees_resolve_through_the_gitdir_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let main = dir.path().join("main");
        fs::create_dir(&main).expect("mkdir");
        git(&main, &["init", "-q", "-b", "trunk"]);
        fs::write(main.join("a.txt"), "1").expect("write");
        git(&main, &["add", "a.txt"]);
        git(&main, &["commit", "-q", "-m", "one"]);
        let linked = dir.path().join("linked");
        git(
            &main,
            &[
                "worktree",
                "add",
                "-q",
                "-b",
                "feature",
                linked.to_str().expect("utf8 path"),
            ],
        );

        let info = git_info(&linked);
        assert_eq!(info.branch.as_deref(), Some("feature"));
        assert_eq!(info.commit.as_deref(), Some(head_commit(&main).as_str()));
    }
}
