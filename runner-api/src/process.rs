//! Supervised child processes: a tool runs in its own process group with its
//! output streamed to log files; a deadline or a cancel stops it (SIGTERM,
//! grace period, SIGKILL), and nothing it started outlives it.
//!
//! How "nothing outlives it" is kept:
//! - the child leads its own process group, so ordinary descendants can be
//!   signalled together;
//! - the child's environment carries [`SUITE_TOKEN_ENV`] with a token unique
//!   to this child, inherited by every descendant, including those that leave
//!   the group (`setsid`, detached browser launches); stopping signals every
//!   process whose `/proc/<pid>/environ` carries the token as well as the group;
//! - on Linux, qaagent is a child subreaper ([`become_subreaper`]), so a
//!   descendant that left the group *and* cleared its environment
//!   (`env -i setsid …`) is still found: by parentage while its parent lives,
//!   re-parented to qaagent once it is orphaned. Such a process is reported as
//!   leaked however the child ended (exit, deadline, cancel);
//! - on Linux, where this process may make cgroups (v2; usually as root),
//!   each child runs in a cgroup of its own ([`cgroup`]): its members are
//!   found however they left, killed together, and killed by a watchdog even
//!   when the supervisor itself is SIGKILLed;
//! - on Linux, the child gets `PR_SET_PDEATHSIG` = SIGKILL, so it dies if the
//!   supervisor is killed outright (SIGKILL leaves no chance to clean up);
//! - once the child exits, whatever is left in its group or carries its token
//!   is reported as leaked and stopped (SIGTERM, grace, SIGKILL) before
//!   [`run_supervised`] returns.
//!
//! Platforms: all of the above on Linux. Other Unix systems have no `/proc`
//! and no parent-death signal: a deadline or a cancel still signals the
//! process group, but processes that left it are not found, leftovers after
//! a normal exit are neither reported nor stopped, and a SIGKILLed
//! supervisor leaves its child running (`docs/writing-a-runner.md`).
//!
//! Waiting never polls: one `select!` waits on the child's exit (sent by a
//! waiter thread), the deadline, the cancel channel and the grace timer. Only
//! the final sweep for leftovers re-reads `/proc` every [`SWEEP_INTERVAL`],
//! for at most the grace period plus [`KILL_SETTLE`].
//!
//! The waiter waits with `WNOWAIT`, leaving the child unreaped (a zombie)
//! until everything else is gone: while it is unreaped its pid cannot be
//! reused, so signalling its process group can never hit a stranger.

use std::collections::hash_map::RandomState;
use std::collections::HashSet;
use std::fs::File;
use std::hash::{BuildHasher, Hash, Hasher};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{after, at, never, select, Receiver};

use crate::cancel::{CancelKind, CancelToken};
use crate::context::{LiveOutput, OutputStream};
use crate::result::LeakedProcess;

mod cgroup;
mod live;
mod spawn;
mod tree;

use tree::Tree;

/// The environment variable marking every process started for one supervised
/// child; its value is unique to that child.
pub const SUITE_TOKEN_ENV: &str = "QAAGENT_SUITE_TOKEN";

/// How often the sweep for leftover processes re-reads `/proc`.
pub const SWEEP_INTERVAL: Duration = Duration::from_millis(20);

/// How long to wait for SIGKILLed processes to disappear before giving up
/// on them (a process in uninterruptible sleep can take that long).
pub const KILL_SETTLE: Duration = Duration::from_secs(2);

/// How long, after everything is gone, to wait for the live-output threads
/// to reach the end of the pipes.
const READER_JOIN: Duration = Duration::from_secs(2);

/// How to supervise one child process.
#[derive(Debug, Clone)]
pub struct Supervision {
    /// Who the process is for (the suite name), for logs and live output.
    pub label: String,
    /// Deadline for the process, from its start; `None` for none.
    pub timeout: Option<Duration>,
    /// Time between SIGTERM and SIGKILL.
    pub kill_grace: Duration,
    /// Stops the process when cancelled: SIGTERM then SIGKILL after the grace
    /// period for [`CancelKind::Graceful`], SIGKILL at once for
    /// [`CancelKind::Immediate`] (also when it escalates during the grace).
    pub cancel: CancelToken,
    /// File receiving the child's standard output.
    pub stdout_log: PathBuf,
    /// File receiving the child's standard error.
    pub stderr_log: PathBuf,
    /// Also send whole output lines here as they come (a line longer than
    /// 64 KiB arrives in pieces, to keep memory bounded). When set, output
    /// flows through pipes and two copy threads; otherwise the child writes
    /// to the log files directly.
    pub live_output: Option<LiveOutput>,
    /// Write at most this many bytes to each log, reading and dropping the
    /// rest (output then flows through pipes, as with `live_output`): for a
    /// short command whose output is read back, never a tool's logs.
    pub log_limit: Option<u64>,
}

/// How a supervised process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// It exited with this code.
    Code(i32),
    /// It was killed by this signal.
    Signal(i32),
}

/// Everything known about a supervised process once it is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProcessOutcome {
    /// Its exit.
    pub exit: ExitKind,
    /// It was stopped because its deadline passed.
    pub timed_out: bool,
    /// It was stopped because the run was cancelled.
    pub cancelled: Option<CancelKind>,
    /// From spawn to exit.
    pub wall: Duration,
    /// Processes it left behind when it exited on its own (still in its
    /// process group or carrying its token), which were then stopped
    /// (SIGTERM, grace, SIGKILL). Empty when it was stopped by a deadline or a
    /// cancel: what remained then was part of what was being stopped.
    pub leaked: Vec<LeakedProcess>,
}

impl ProcessOutcome {
    /// The exit code, when it exited normally.
    pub fn code(&self) -> Option<i32> {
        match self.exit {
            ExitKind::Code(code) => Some(code),
            ExitKind::Signal(_) => None,
        }
    }
}

/// Starting or supervising a process failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProcessError {
    /// The program does not exist or is not executable.
    #[error("cannot run {program}: {source}")]
    Spawn {
        /// The program that was to run.
        program: String,
        /// Why it could not.
        #[source]
        source: std::io::Error,
    },
    /// A log file could not be created.
    #[error("cannot create log file {}: {source}", path.display())]
    Log {
        /// The log file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Waiting for the process failed.
    #[error("error waiting for {program}: {source}")]
    Wait {
        /// The program waited for.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl ProcessError {
    /// True when the program itself could not be found.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ProcessError::Spawn { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

/// Runs `cmd` as described by `supervision` and waits until it, its process
/// group and every process carrying its token are gone.
///
/// The child's stdin is null, and [`SUITE_TOKEN_ENV`] is set in its
/// environment (overriding any inherited value).
///
/// Of `cmd`, the child gets the program, the arguments, the working
/// directory and the environment changes (`env`, `envs`, `env_remove`, on
/// top of this process's environment): where the child can be created
/// inside a cgroup, it is started from those alone (see the `spawn`
/// module), so `env_clear`, `arg0`, `uid`/`gid`, `pre_exec` hooks and
/// stdio settings are not applied. Remove variables one by one instead of
/// clearing the environment.
///
/// Must be called from a thread that outlives the child: the parent-death
/// signal fires when the *thread* that spawned the child exits, not only the
/// process. This function blocks until the child is gone, so any caller
/// satisfies that unless it is killed.
pub fn run_supervised(mut cmd: Command, supervision: &Supervision) -> Result<ProcessOutcome, ProcessError> {
    become_subreaper();
    let program = cmd.get_program().to_string_lossy().into_owned();
    let label = supervision.label.as_str();
    let stdout_log = create_log(&supervision.stdout_log)?;
    let stderr_log = create_log(&supervision.stderr_log)?;
    let token = new_token();
    cmd.env(SUITE_TOKEN_ENV, &token);
    // A capped log needs its bytes to pass through a copy thread.
    let nobody = || LiveOutput::new(|_| false);
    let piped = (supervision.live_output.clone()).or_else(|| supervision.log_limit.map(|_| nobody()));
    let (output, live) = match piped {
        Some(live) => (spawn::Output::Pipes, Some((live, stdout_log, stderr_log))),
        None => (
            spawn::Output::Files {
                stdout: stdout_log,
                stderr: stderr_log,
            },
            None,
        ),
    };
    let cgroup = cgroup::Cgroup::create(&token);
    let start = Instant::now();
    let child = spawn::spawn(cmd, output, cgroup.as_ref()).map_err(|source| ProcessError::Spawn {
        program: program.clone(),
        source,
    })?;
    let pid = child.id();
    log::debug!("[{label}] started {program} as pid {pid} ({SUITE_TOKEN_ENV}={token})");
    let mut supervised = Supervised {
        tree: Tree::new(pid, SUITE_TOKEN_ENV, &token, cgroup),
        child,
        done: false,
    };
    let wait_error = |source| ProcessError::Wait {
        program: program.clone(),
        source,
    };

    let readers = match live {
        Some((live, stdout_log, stderr_log)) => {
            Some(start_readers(&mut supervised.child, supervision, live, stdout_log, stderr_log).map_err(wait_error)?)
        }
        None => None,
    };
    let exit_rx = spawn_waiter(pid).map_err(wait_error)?;

    let mut stopper = Stopper {
        tree: &supervised.tree,
        grace: supervision.kill_grace,
        phase: Phase::Running,
        signalled: HashSet::new(),
        escaped: Vec::new(),
    };
    let mut cancel_rx = supervision.cancel.subscribe();
    let mut deadline = supervision.timeout.map_or_else(never, after);
    let mut timed_out = false;
    let mut cancelled: Option<CancelKind> = None;
    let exited = loop {
        let grace_over = stopper.grace_over();
        select! {
            recv(exit_rx) -> exited => break exited,
            recv(deadline) -> _ => {
                log::debug!("[{label}] {program} reached its deadline");
                timed_out = true;
                deadline = never();
                stopper.stop(CancelKind::Graceful);
            }
            recv(cancel_rx) -> kind => match kind {
                Ok(kind) => {
                    log::debug!("[{label}] cancel ({kind:?}) stops {program}");
                    cancelled = cancelled.max(Some(kind));
                    stopper.stop(kind);
                }
                Err(_) => cancel_rx = never(),
            },
            recv(grace_over) -> _ => {
                log::debug!("[{label}] {program} outlived its grace period; killing");
                stopper.stop(CancelKind::Immediate);
            }
        }
    };
    let wall = start.elapsed();
    match exited {
        Ok(Ok(())) => {}
        Ok(Err(source)) => return Err(wait_error(source)),
        Err(_) => return Err(wait_error(std::io::Error::other("waiter thread vanished"))),
    }

    // Whatever is left was started by the tool. After a normal exit it leaked;
    // after a stop it is the rest of what was being stopped.
    let report_leaks = stopper.phase == Phase::Running;
    let mut leaked = Vec::new();
    let mut seen = HashSet::new();
    let mut settle_until = None;
    loop {
        let members = stopper.sweep();
        if members.is_empty() {
            break;
        }
        if report_leaks {
            for &pid in &members {
                if seen.insert(pid) {
                    let process = leaked_process(pid);
                    log::debug!("[{label}] {program} left pid {pid} running: {}", process.command);
                    leaked.push(process);
                }
            }
        }
        match stopper.phase {
            Phase::Running => stopper.stop(CancelKind::Graceful),
            Phase::Terminating { until } if Instant::now() >= until => stopper.stop(CancelKind::Immediate),
            Phase::Terminating { .. } => {}
            Phase::Killing => {
                let until = *settle_until.get_or_insert_with(|| Instant::now() + KILL_SETTLE);
                if Instant::now() >= until {
                    log::warn!(
                        "[{label}] {} process(es) of {program} survive SIGKILL: {members:?}",
                        members.len()
                    );
                    break;
                }
            }
        }
        select! {
            recv(cancel_rx) -> kind => match kind {
                Ok(kind) => {
                    if cancelled.is_some() {
                        cancelled = cancelled.max(Some(kind));
                    }
                    if kind == CancelKind::Immediate {
                        stopper.stop(kind);
                    }
                }
                Err(_) => cancel_rx = never(),
            },
            default(SWEEP_INTERVAL) => {}
        }
    }

    if !report_leaks {
        // A stop ends what is in the group or carries the token; what had
        // escaped both was leaked all the same.
        leaked = std::mem::take(&mut stopper.escaped);
    }
    let status = supervised.reap().map_err(wait_error)?;
    if let Some(readers) = readers {
        readers.join(label, READER_JOIN);
    }
    let exit = match (status.code(), status.signal()) {
        (Some(code), _) => ExitKind::Code(code),
        (None, Some(signal)) => ExitKind::Signal(signal),
        (None, None) => ExitKind::Code(-1),
    };
    log::debug!("[{label}] {program} ended: {exit:?} after {wall:?}");
    Ok(ProcessOutcome {
        exit,
        timed_out,
        cancelled,
        wall,
        leaked,
    })
}

/// The child and its tree; kills and reaps them if supervision ends early
/// (an error or a panic), so that not even a bug leaves processes behind.
struct Supervised {
    tree: Tree,
    child: spawn::Child,
    /// The child was reaped normally.
    done: bool,
}

impl Supervised {
    /// Reaps the exited child, freeing its pid.
    fn reap(&mut self) -> std::io::Result<std::process::ExitStatus> {
        let status = self.child.wait()?;
        self.done = true;
        Ok(status)
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        if !self.done {
            self.tree.signal_all(libc::SIGKILL);
            // The child was just SIGKILLed, so this returns promptly.
            let _ = self.child.wait();
        }
    }
}

/// Where a stop stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not stopping.
    Running,
    /// SIGTERM sent; SIGKILL at `until`.
    Terminating { until: Instant },
    /// SIGKILL sent.
    Killing,
}

/// Stops a tree in phases, signalling each process once per phase.
struct Stopper<'a> {
    tree: &'a Tree,
    grace: Duration,
    phase: Phase,
    /// Processes already sent the current phase's signal.
    signalled: HashSet<i32>,
    /// Processes found only by parentage (see [`tree`]): leaked, however the
    /// child ended.
    escaped: Vec<LeakedProcess>,
}

impl Stopper<'_> {
    /// Moves to the phase `kind` asks for, unless already there or further.
    fn stop(&mut self, kind: CancelKind) {
        let signal = match (kind, self.phase) {
            (CancelKind::Graceful, Phase::Running) => {
                self.phase = Phase::Terminating {
                    until: Instant::now() + self.grace,
                };
                libc::SIGTERM
            }
            (CancelKind::Immediate, Phase::Running | Phase::Terminating { .. }) => {
                self.phase = Phase::Killing;
                libc::SIGKILL
            }
            _ => return,
        };
        self.tree.signal_group(signal);
        // Looked at before they get the signal, to note their command lines.
        let scan = self.tree.scan();
        self.note_escaped(&scan);
        for &pid in &scan.members {
            tree::send_signal(pid, signal);
        }
        self.signalled = scan.members.into_iter().collect();
    }

    fn note_escaped(&mut self, scan: &tree::Scan) {
        for &pid in &scan.escaped {
            if !self.escaped.iter().any(|p| p.pid == pid as u32) {
                self.escaped.push(leaked_process(pid));
            }
        }
    }

    /// Fires when the grace period is over, if one is running.
    fn grace_over(&self) -> Receiver<Instant> {
        match self.phase {
            Phase::Terminating { until } => at(until),
            Phase::Running | Phase::Killing => never(),
        }
    }

    /// The tree's live processes; those that appeared since the phase began
    /// get its signal too.
    fn sweep(&mut self) -> Vec<i32> {
        let scan = self.tree.scan();
        self.note_escaped(&scan);
        let members = scan.members;
        let signal = match self.phase {
            Phase::Running => None,
            Phase::Terminating { .. } => Some(libc::SIGTERM),
            Phase::Killing => Some(libc::SIGKILL),
        };
        if let Some(signal) = signal {
            for &pid in &members {
                if self.signalled.insert(pid) {
                    tree::send_signal(pid, signal);
                }
            }
        }
        members
    }
}

/// `pid` as a leaked process, its command line redacted.
fn leaked_process(pid: i32) -> LeakedProcess {
    LeakedProcess {
        pid: pid as u32,
        command: crate::redact::text(&tree::command_line(pid)).into_owned(),
    }
}

/// Starts the threads copying the child's pipes to the logs and the live sink.
fn start_readers(
    child: &mut spawn::Child,
    supervision: &Supervision,
    live: LiveOutput,
    stdout_log: File,
    stderr_log: File,
) -> std::io::Result<live::Readers> {
    let missing = || std::io::Error::other("child output pipe missing");
    let stdout = child.stdout.take().ok_or_else(missing)?;
    let stderr = child.stderr.take().ok_or_else(missing)?;
    let (mut readers, done) = live::Readers::new();
    let label = &supervision.label;
    readers.spawn(
        label,
        live::Stream {
            kind: OutputStream::Stdout,
            pipe: stdout,
            log: stdout_log,
            log_path: supervision.stdout_log.clone(),
            log_limit: supervision.log_limit,
        },
        live.clone(),
        done.clone(),
    )?;
    readers.spawn(
        label,
        live::Stream {
            kind: OutputStream::Stderr,
            pipe: stderr,
            log: stderr_log,
            log_path: supervision.stderr_log.clone(),
            log_limit: supervision.log_limit,
        },
        live.clone(),
        done,
    )?;
    Ok(readers)
}

/// Starts a thread that reports (once) when the child `pid` has exited,
/// without reaping it.
fn spawn_waiter(pid: i32) -> std::io::Result<Receiver<std::io::Result<()>>> {
    let (exit_tx, exit_rx) = crossbeam_channel::bounded(1);
    std::thread::Builder::new()
        .name(format!("qaagent-wait-{pid}"))
        .spawn(move || {
            let _ = exit_tx.send(wait_exited(pid));
        })?;
    Ok(exit_rx)
}

/// Blocks until `pid` has exited, leaving it a zombie for the caller to reap.
fn wait_exited(pid: i32) -> std::io::Result<()> {
    loop {
        // SAFETY: siginfo_t is plain data, valid when zeroed; waitid writes into it.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is a valid, exclusively borrowed siginfo_t.
        let rc = unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, libc::WEXITED | libc::WNOWAIT) };
        if rc == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// Makes this process a child subreaper (Linux), once: a descendant whose
/// parent dies is then re-parented to us rather than to init, so the sweep
/// finds it by parentage even after it left the process group and cleared
/// its environment (see [`tree`]).
pub(crate) fn become_subreaper() {
    #[cfg(target_os = "linux")]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes plain integers.
            if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0, 0, 0) } != 0 {
                log::warn!(
                    "cannot become a child subreaper: {}; processes that leave a suite's group and clear their environment may survive",
                    std::io::Error::last_os_error()
                );
            }
        });
    }
}

/// A token unique to one supervised child: our pid, a counter and randomness
/// (so that two qaagent runs, or a pid reused later, never share a token).
pub(crate) fn new_token() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut hasher = RandomState::new().build_hasher();
    count.hash(&mut hasher);
    SystemTime::now().hash(&mut hasher);
    format!("{}-{count}-{:016x}", std::process::id(), hasher.finish())
}

/// A new log file; never one a tool planted (see [`crate::outdir`]).
fn create_log(path: &Path) -> Result<File, ProcessError> {
    crate::outdir::create_file(path).map_err(|source| ProcessError::Log {
        path: path.to_path_buf(),
        source,
    })
}

/// Where the data of `file` (`len` bytes) ends, holes left out: a tool that
/// made its log sparse (`truncate -s 5G`) once had 64 KiB of NUL bytes
/// shown as its last lines, and what it wrote before them hidden (a hostile
/// try, 13b). `len` where the file system cannot say.
fn last_data_end(file: &File, len: u64) -> u64 {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    let (mut at, mut end) = (0_i64, None);
    // A file of many holes is given up on, rather than walked to its end.
    for _ in 0..4096 {
        // SAFETY: lseek on a descriptor `file` owns; it only moves its offset.
        let data = unsafe { libc::lseek(fd, at, libc::SEEK_DATA) };
        if data < 0 {
            return end.unwrap_or(len);
        }
        // SAFETY: as above.
        let hole = unsafe { libc::lseek(fd, data, libc::SEEK_HOLE) };
        if hole < 0 {
            return len;
        }
        end = Some(hole as u64);
        at = hole;
    }
    len
}

/// The last `lines` lines of a log file, for error reports; `None` when the
/// file is missing, empty or not a regular file (a tool can leave a FIFO or
/// a link to a device in its place: see [`crate::outdir::open_written`]).
/// Reads only the file's last 64 KiB.
pub fn log_tail(path: &Path, lines: usize) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    const WINDOW: u64 = 64 * 1024;
    let mut file = crate::outdir::open_written(path)
        .inspect_err(|err| {
            if err.kind() != std::io::ErrorKind::NotFound {
                log::warn!("cannot read the end of {}: {err}", path.display());
            }
        })
        .ok()?;
    let len = file.metadata().ok()?.len();
    let end = last_data_end(&file, len);
    file.seek(SeekFrom::Start(end.saturating_sub(WINDOW))).ok()?;
    let mut buf = Vec::new();
    // Bounded too: the tool's children may still be appending to it.
    file.take(end.min(WINDOW)).read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf);
    let trimmed = text.trim_end_matches(|c: char| c == '\0' || c.is_whitespace());
    if trimmed.is_empty() {
        return None;
    }
    let all: Vec<&str> = trimmed.lines().collect();
    let from = all.len().saturating_sub(lines);
    Some(all[from..].join("\n"))
}
