//! What the manifest's `target.git` records of the project: commit, branch, dirty.
//!
//! All three come from one `git status --porcelain=v2 --branch` in the
//! project directory (its `# branch.oid` and `# branch.head` headers, and
//! whether any tracked file is listed), bounded by a short deadline: a
//! [`GitStatus`], started as a run's creation begins and awaited by its
//! writer thread.
//! A project outside git, a missing git, or one too slow to answer records
//! `{}`: never an error.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// How long `git status` may take before the git state is recorded as unknown.
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

/// The git state of the repository containing `project`, asked and awaited.
#[cfg(test)]
pub(crate) fn git_info(project: &Path) -> GitInfo {
    GitStatus::start(project).map(GitStatus::wait).unwrap_or_default()
}

/// A running `git status --porcelain=v2 --branch` in the project: started
/// first and answered later, so that the time git takes (milliseconds, or
/// seconds in a huge repository) overlaps the run instead of delaying it.
#[derive(Debug)]
pub(crate) struct GitStatus {
    child: Child,
    /// git's whole output, sent once its stdout closes (normally as it exits).
    output: crossbeam_channel::Receiver<std::io::Result<Vec<u8>>>,
    deadline: Instant,
    project: PathBuf,
}

impl GitStatus {
    /// Starts git in `project`; `None` when git cannot be started.
    pub(crate) fn start(project: &Path) -> Option<GitStatus> {
        let mut child = Command::new("git")
            .arg("-C")
            .arg(project)
            .args(["status", "--porcelain=v2", "--branch", "--untracked-files=no"])
            // Do not take index.lock: a concurrent git command in the project must not fail because of us.
            .env("GIT_OPTIONAL_LOCKS", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|err| log::debug!("git not started in {}: {err}", project.display()))
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
        Some(GitStatus {
            child,
            output,
            deadline: Instant::now() + STATUS_DEADLINE,
            project: project.to_path_buf(),
        })
    }

    /// Waits for git's answer; empty when the project is in no repository,
    /// or git failed or did not answer within [`STATUS_DEADLINE`] of its start.
    pub(crate) fn wait(mut self) -> GitInfo {
        // git's stdout closes as it exits, so its output arriving is the wait;
        // the exit status is then there, or very nearly.
        let timeout = self.deadline.saturating_duration_since(Instant::now());
        let out = self.output.recv_timeout(timeout).ok().and_then(Result::ok);
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) if out.is_some() => break status,
                Ok(None) if out.is_some() && Instant::now() < self.deadline => {
                    std::thread::sleep(Duration::from_micros(100));
                }
                _ => {
                    log::debug!(
                        "git status in {} failed or took too long; git state unknown",
                        self.project.display()
                    );
                    return GitInfo::default();
                }
            }
        };
        match out {
            Some(out) if status.success() => parse_status(&String::from_utf8_lossy(&out)),
            _ => {
                log::debug!("{} is not in a git repository", self.project.display());
                GitInfo::default()
            }
        }
    }
}

impl Drop for GitStatus {
    /// A git nobody waited for, or that took too long, is not left behind.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Reads commit, branch and dirtiness from `git status --porcelain=v2 --branch` output.
fn parse_status(text: &str) -> GitInfo {
    let mut info = GitInfo {
        dirty: Some(false),
        ..GitInfo::default()
    };
    for line in text.lines() {
        if let Some(oid) = line.strip_prefix("# branch.oid ") {
            // `(initial)` before the first commit.
            info.commit = (!oid.starts_with('(')).then(|| oid.to_string());
        } else if let Some(head) = line.strip_prefix("# branch.head ") {
            // `(detached)` on a detached HEAD.
            info.branch = (!head.starts_with('(')).then(|| head.to_string());
        } else if !line.starts_with('#') && !line.is_empty() {
            info.dirty = Some(true);
        }
    }
    info
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn reads_the_branch_headers_and_any_changed_entry() {
        let clean = "# branch.oid 0123abcd\n# branch.head main\n# branch.upstream origin/main\n# branch.ab +0 -0\n";
        assert_eq!(
            parse_status(clean),
            GitInfo {
                commit: Some("0123abcd".into()),
                branch: Some("main".into()),
                dirty: Some(false),
            }
        );
        let fresh = "# branch.oid (initial)\n# branch.head (detached)\n1 .M N... 100644 100644 100644 a b file.txt\n";
        assert_eq!(
            parse_status(fresh),
            GitInfo {
                commit: None,
                branch: None,
                dirty: Some(true),
            }
        );
    }

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
