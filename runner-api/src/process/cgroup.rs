//! A cgroup (v2) per supervised child, where this machine lets us make one.
//!
//! A cgroup holds every process started inside it, whatever it does to its
//! group, session, environment or parent, and `cgroup.kill` ends them all at
//! once. So each supervised child is started in a cgroup of its own
//! (created inside it, or joining it before exec: [`super::spawn`]), its members count as the tree's
//! ([`Cgroup::pids`]), and they are killed together ([`Cgroup::kill`]).
//!
//! That also covers a supervisor killed outright (SIGKILL), which cannot
//! clean up after itself: the first cgroup starts a watchdog (`/bin/sh`)
//! that waits for the end of a pipe only this process holds. When this
//! process ends, however it ends, the pipe closes and the watchdog kills
//! every cgroup of this process and removes them.
//!
//! Where cgroups are not usable (not Linux, no cgroup v2 mount, no write
//! access to our own cgroup: most non-root users, containers without a
//! writable cgroupfs), supervision works as before without them; the
//! module doc of [`super`] says what that leaves.
//!
//! Layout: `<our cgroup>/qaagent-<pid>/<token>`, one child per supervised
//! child. Our own cgroup keeps no controllers for these, so creating and
//! entering them is allowed by cgroup v2's "no internal processes" rule.

use std::ffi::CString;
use std::fs;
use std::io::ErrorKind;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long [`Cgroup`]'s drop waits for its killed members to be gone
/// before removing it; a cgroup that still has members cannot be removed
/// (the watchdog tries again when this process ends).
const EMPTY_WAIT: Duration = Duration::from_secs(2);

/// What the watchdog runs: `$1` is this process's cgroup directory. It
/// ignores the signals a terminal or a CI runner sends to a whole group,
/// waits for the end of its stdin, kills everything below `$1` and removes
/// the cgroups once they are empty.
const WATCHDOG: &str = r#"trap '' INT TERM HUP QUIT
while read -r _; do :; done
echo 1 > "$1/cgroup.kill"
i=0
while [ "$i" -lt 50 ]; do
  for dir in "$1"/*/; do [ -d "$dir" ] && rmdir "$dir"; done
  rmdir "$1" && exit 0
  sleep 0.1
  i=$((i + 1))
done"#;

/// The cgroup of this process's supervised children, with its watchdog.
#[derive(Debug)]
struct Parent {
    dir: PathBuf,
    /// The write end of the watchdog's stdin, never written to: kept open
    /// for as long as this process lives (it closes on exec too).
    _watchdog: std::io::PipeWriter,
}

/// The cgroup of one supervised child.
#[derive(Debug)]
pub(super) struct Cgroup {
    dir: PathBuf,
    /// `<dir>/cgroup.procs`, ready for the child to write itself into
    /// between fork and exec, where nothing may allocate.
    procs: CString,
}

impl Cgroup {
    /// A new cgroup named `token` below this process's own, or `None` where
    /// cgroups are not usable (see the module doc).
    pub(super) fn create(token: &str) -> Option<Cgroup> {
        let parent = parent()?;
        let dir = parent.dir.join(token);
        if let Err(err) = fs::create_dir(&dir) {
            log::debug!("cannot create cgroup {}: {err}", dir.display());
            return None;
        }
        let procs = CString::new(dir.join("cgroup.procs").as_os_str().as_bytes()).ok()?;
        Some(Cgroup { dir, procs })
    }

    /// Makes the child `cmd` starts join this cgroup before it runs
    /// anything, so that nothing it starts can be outside it.
    pub(super) fn enter_before_exec(&self, cmd: &mut Command) {
        use std::os::unix::process::CommandExt;
        let procs = self.procs.clone();
        // SAFETY: the closure runs between fork and exec and only calls open,
        // write and close, which are async-signal-safe, on a path built
        // before the fork.
        unsafe {
            cmd.pre_exec(move || {
                // Failing to enter is not worth failing the suite for: the
                // child then runs as it would without cgroups.
                let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                if fd >= 0 {
                    // "0" is the writing process itself.
                    libc::write(fd, b"0".as_ptr().cast(), 1);
                    libc::close(fd);
                }
                Ok(())
            });
        }
    }

    /// The cgroup's directory, opened for `clone3(CLONE_INTO_CGROUP)`.
    #[cfg(target_os = "linux")]
    pub(super) fn open_dir(&self) -> std::io::Result<fs::File> {
        use std::os::unix::fs::OpenOptionsExt;
        fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY)
            .open(&self.dir)
    }

    /// The pids of the cgroup's processes now.
    pub(super) fn pids(&self) -> Vec<i32> {
        fs::read_to_string(self.dir.join("cgroup.procs"))
            .map(|text| text.lines().filter_map(|line| line.trim().parse().ok()).collect())
            .unwrap_or_default()
    }

    /// SIGKILLs every process in the cgroup at once (Linux 5.14 and newer;
    /// on older kernels the caller's per-process signals do it).
    pub(super) fn kill(&self) {
        if let Err(err) = fs::write(self.dir.join("cgroup.kill"), "1") {
            log::trace!("cannot write {}/cgroup.kill: {err}", self.dir.display());
        }
    }

    fn is_empty(&self) -> bool {
        match fs::read_to_string(self.dir.join("cgroup.events")) {
            Ok(events) => events.lines().any(|line| line == "populated 0"),
            Err(err) => err.kind() == ErrorKind::NotFound,
        }
    }
}

impl Drop for Cgroup {
    /// Kills whatever is left (the supervisor has reported it by now) and
    /// removes the cgroup once it is empty.
    fn drop(&mut self) {
        self.kill();
        let until = Instant::now() + EMPTY_WAIT;
        while !self.is_empty() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
        if let Err(err) = fs::remove_dir(&self.dir) {
            log::debug!("cannot remove cgroup {}: {err}", self.dir.display());
        }
    }
}

/// This process's cgroup for supervised children, made (with its watchdog)
/// on first use; `None` for good once that failed.
fn parent() -> Option<&'static Parent> {
    static PARENT: OnceLock<Option<Parent>> = OnceLock::new();
    PARENT
        .get_or_init(|| match make_parent() {
            Ok(parent) => {
                log::debug!("supervised children run in cgroups below {}", parent.dir.display());
                Some(parent)
            }
            Err(why) => {
                log::debug!("supervising without cgroups: {why}");
                None
            }
        })
        .as_ref()
}

fn make_parent() -> Result<Parent, String> {
    if !cfg!(target_os = "linux") {
        return Err("cgroups are Linux only".into());
    }
    let mount = cgroup2_mount().ok_or("no cgroup v2 hierarchy is mounted")?;
    let own = own_cgroup().ok_or("this process is in no cgroup v2 cgroup")?;
    let dir = mount
        .join(own.trim_start_matches('/'))
        .join(format!("qaagent-{}", std::process::id()));
    match fs::create_dir(&dir) {
        Ok(()) => {}
        // Left by an earlier process with our pid whose watchdog could not remove it.
        Err(err) if err.kind() == ErrorKind::AlreadyExists => {}
        Err(err) => return Err(format!("cannot create {}: {err}", dir.display())),
    }
    // A cgroup we may create but not enter is no use.
    if let Err(err) = fs::OpenOptions::new().write(true).open(dir.join("cgroup.procs")) {
        let _ = fs::remove_dir(&dir);
        return Err(format!("cannot write {}/cgroup.procs: {err}", dir.display()));
    }
    let watchdog = start_watchdog(&dir).map_err(|err| {
        let _ = fs::remove_dir(&dir);
        format!("cannot start the cgroup watchdog: {err}")
    })?;
    Ok(Parent {
        dir,
        _watchdog: watchdog,
    })
}

/// Starts the watchdog for `dir` (see [`WATCHDOG`]) and returns the pipe end
/// whose closing sets it off.
fn start_watchdog(dir: &Path) -> std::io::Result<std::io::PipeWriter> {
    use std::os::unix::process::CommandExt;
    let (reader, writer) = std::io::pipe()?;
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", WATCHDOG, "qaagent-cgroup-watchdog"])
        .arg(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .stdin(reader)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // A group of its own: a Ctrl-C at the terminal reaches qaagent's
        // group, and the watchdog must outlive qaagent to do its job.
        .process_group(0);
    // Never waited for: it exits after this process, and init reaps it.
    let child = cmd.spawn()?;
    log::debug!("cgroup watchdog for {} is pid {}", dir.display(), child.id());
    Ok(writer)
}

/// Where the cgroup v2 hierarchy is mounted (`/sys/fs/cgroup`, or
/// `/sys/fs/cgroup/unified` on hybrid systems).
fn cgroup2_mount() -> Option<PathBuf> {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").ok()?;
    mountinfo.lines().find_map(|line| {
        // `… mount-point options - fstype source super-options`
        let (fields, rest) = line.split_once(" - ")?;
        let mount_point = fields.split_whitespace().nth(4)?;
        (rest.split_whitespace().next()? == "cgroup2").then(|| PathBuf::from(mount_point))
    })
}

/// Our cgroup v2 path relative to the mount, from the `0::/path` line.
fn own_cgroup() -> Option<String> {
    let cgroups = fs::read_to_string("/proc/self/cgroup").ok()?;
    cgroups
        .lines()
        .find_map(|line| line.strip_prefix("0::").map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_started_in_a_cgroup_is_listed_and_killed_with_it() {
        let Some(cgroup) = Cgroup::create(&crate::process::new_token()) else {
            // The supervision tests through the binary say whether cgroups must work here.
            eprintln!("cgroups are not usable here");
            return;
        };
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        cgroup.enter_before_exec(&mut cmd);
        let mut child = cmd.spawn().expect("spawn sleep");
        assert_eq!(cgroup.pids(), vec![child.id() as i32]);
        cgroup.kill();
        let status = child.wait().expect("wait");
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(libc::SIGKILL)
        );
        let dir = cgroup.dir.clone();
        drop(cgroup);
        assert!(!dir.exists(), "removed once empty");
    }
}
