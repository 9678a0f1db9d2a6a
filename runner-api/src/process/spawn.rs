//! Starting a supervised child, and reaping it.
//!
//! Where the child gets a cgroup of its own ([`super::cgroup`]), it is
//! created inside it by `clone3(CLONE_INTO_CGROUP)` (Linux 5.7 and newer,
//! [`clone3`]). Elsewhere, and wherever the kernel refuses that clone (too
//! old, or a seccomp filter, as in Docker's default profile, answering
//! `ENOSYS`), std's `Command` starts it, and it joins its cgroup, if it has
//! one, between fork and exec. Which way works is found out on the first
//! child with a cgroup and kept for the rest of the process.
//!
//! Why not always std's way: joining a cgroup *moves* a process, and on
//! Linux 6.18 a move takes `cgroup_threadgroup_rwsem` for writing, which
//! waits for an RCU grace period: 7–15 ms on each suite's start, on the run's
//! critical path (`BENCHMARKS.md`, target 1). A process created inside its
//! cgroup only takes that lock for reading. `Command` cannot pass clone
//! flags, hence a spawn of our own.
//!
//! Both ways start the child alike: the command's program (looked up in the
//! child's `PATH` as `execvp` does), arguments, environment (ours with the
//! command's changes) and working directory; stdin from `/dev/null`, stdout
//! and stderr to the given files or to pipes; a process group of its own;
//! SIGPIPE back to its default; on Linux, SIGKILL as its parent-death signal.
//! An exec that fails comes back as the same `io::Error` std gives. (The
//! clone3 way also unblocks every signal, where std keeps the starting
//! thread's mask; qaagent's threads block none.)

use std::fs::File;
use std::io;
use std::io::PipeReader;
use std::os::fd::OwnedFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus, Stdio};

use super::cgroup::Cgroup;

#[cfg(target_os = "linux")]
mod clone3;
#[cfg(all(test, target_os = "linux"))]
mod tests;

/// Where the child's stdout and stderr go.
#[derive(Debug)]
pub(super) enum Output {
    /// Straight into these files.
    Files {
        /// Receives the child's stdout.
        stdout: File,
        /// Receives the child's stderr.
        stderr: File,
    },
    /// Into two pipes, whose read ends come back in [`Child`].
    Pipes,
}

/// A started child, not yet reaped.
#[derive(Debug)]
pub(super) struct Child {
    pid: i32,
    /// The read end of its stdout, with [`Output::Pipes`].
    pub(super) stdout: Option<PipeReader>,
    /// The read end of its stderr, with [`Output::Pipes`].
    pub(super) stderr: Option<PipeReader>,
}

impl Child {
    /// Its process id, which is also its process group's.
    pub(super) fn id(&self) -> i32 {
        self.pid
    }

    /// Waits for it to exit and reaps it, freeing its pid.
    pub(super) fn wait(&self) -> io::Result<ExitStatus> {
        let mut status: libc::c_int = 0;
        loop {
            // SAFETY: `status` is a valid, exclusively borrowed c_int.
            if unsafe { libc::waitpid(self.pid, &mut status, 0) } == self.pid {
                return Ok(ExitStatus::from_raw(status));
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }
}

/// Starts `cmd` as a supervised child (see the module doc), inside `cgroup`
/// when given.
pub(super) fn spawn(cmd: Command, output: Output, cgroup: Option<&Cgroup>) -> io::Result<Child> {
    #[cfg(target_os = "linux")]
    if let Some(cgroup) = cgroup {
        if let Some(child) = clone3::spawn_if_usable(&cmd, &output, cgroup)? {
            return Ok(child);
        }
    }
    spawn_command(cmd, output, cgroup)
}

/// Starts `cmd` through std's `Command`; the child joins `cgroup` before it
/// runs anything.
fn spawn_command(mut cmd: Command, output: Output, cgroup: Option<&Cgroup>) -> io::Result<Child> {
    cmd.stdin(Stdio::null()).process_group(0);
    match output {
        Output::Files { stdout, stderr } => cmd.stdout(stdout).stderr(stderr),
        Output::Pipes => cmd.stdout(Stdio::piped()).stderr(Stdio::piped()),
    };
    set_parent_death_signal(&mut cmd);
    if let Some(cgroup) = cgroup {
        cgroup.enter_before_exec(&mut cmd);
    }
    let mut child = cmd.spawn()?;
    // std's handle is dropped unwaited (that neither kills nor reaps):
    // [`Child::wait`] reaps by pid.
    Ok(Child {
        pid: child.id() as i32,
        stdout: child.stdout.take().map(|pipe| OwnedFd::from(pipe).into()),
        stderr: child.stderr.take().map(|pipe| OwnedFd::from(pipe).into()),
    })
}

/// Makes the child die with SIGKILL when the thread that spawned it dies
/// (Linux only), so that even a SIGKILLed supervisor leaves no tool running.
#[cfg(target_os = "linux")]
fn set_parent_death_signal(cmd: &mut Command) {
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs between fork and exec and only calls prctl and
    // getppid, which are async-signal-safe, and builds io::Errors from raw
    // OS codes, which does not allocate.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before prctl took effect; then no
            // signal will ever come, so do not start at all.
            if libc::getppid() != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn set_parent_death_signal(_cmd: &mut Command) {}
