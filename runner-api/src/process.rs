//! Supervised child processes: a tool runs in its own process group with its
//! output streamed to log files; a deadline or a cancel stops the whole group
//! (SIGTERM, grace period, SIGKILL), and nothing it started outlives it.

use std::fs::File;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crossbeam_channel::{after, never, select};

use crate::cancel::{CancelKind, CancelToken};
use crate::context::LiveOutput;
use crate::result::LeakedProcess;

/// How to supervise one child process.
#[derive(Debug, Clone)]
pub struct Supervision {
    /// Who the process is for (the suite name), for logs and live output.
    pub label: String,
    /// Deadline for the process, from its start; `None` for none.
    pub timeout: Option<Duration>,
    /// Time between SIGTERM and SIGKILL.
    pub kill_grace: Duration,
    /// Stops the process when cancelled.
    pub cancel: CancelToken,
    /// File receiving the child's standard output.
    pub stdout_log: PathBuf,
    /// File receiving the child's standard error.
    pub stderr_log: PathBuf,
    /// Also send whole output lines here as they come.
    pub live_output: Option<LiveOutput>,
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
pub struct ProcessOutcome {
    /// Its exit.
    pub exit: ExitKind,
    /// It was stopped because its deadline passed.
    pub timed_out: bool,
    /// It was stopped because the run was cancelled.
    pub cancelled: Option<CancelKind>,
    /// From spawn to exit.
    pub wall: Duration,
    /// Processes it left behind, which were killed.
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

/// Runs `cmd` as described by `supervision` and waits until it and its
/// process group are gone.
pub fn run_supervised(mut cmd: Command, supervision: &Supervision) -> Result<ProcessOutcome, ProcessError> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let stdout = create_log(&supervision.stdout_log)?;
    let stderr = create_log(&supervision.stderr_log)?;
    cmd.stdin(Stdio::null()).stdout(stdout).stderr(stderr).process_group(0);
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|source| ProcessError::Spawn {
        program: program.clone(),
        source,
    })?;
    let pid = child.id() as i32;
    log::debug!("[{}] started {program} as pid {pid}", supervision.label);

    let (exit_tx, exit_rx) = crossbeam_channel::bounded::<std::io::Result<ExitStatus>>(1);
    let waiter = std::thread::spawn(move || {
        let _ = exit_tx.send(child.wait());
    });
    let cancel_rx = supervision.cancel.subscribe();
    let deadline = match supervision.timeout {
        Some(timeout) => after(timeout),
        None => never(),
    };
    let mut timed_out = false;
    let mut cancelled = None;
    let status = select! {
        recv(exit_rx) -> status => status,
        recv(deadline) -> _ => {
            timed_out = true;
            stop_group(pid, CancelKind::Graceful, supervision.kill_grace, &exit_rx)
        }
        recv(cancel_rx) -> kind => {
            let kind = kind.unwrap_or(CancelKind::Graceful);
            cancelled = Some(kind);
            stop_group(pid, kind, supervision.kill_grace, &exit_rx)
        }
    };
    let _ = waiter.join();
    let status = match status {
        Ok(Ok(status)) => status,
        Ok(Err(source)) => return Err(ProcessError::Wait { program, source }),
        Err(_) => {
            return Err(ProcessError::Wait {
                program,
                source: std::io::Error::other("waiter thread vanished"),
            })
        }
    };
    // Whatever the tool left in its group goes too.
    signal_group(pid, libc::SIGKILL);
    let exit = match (status.code(), status.signal()) {
        (Some(code), _) => ExitKind::Code(code),
        (None, Some(signal)) => ExitKind::Signal(signal),
        (None, None) => ExitKind::Code(-1),
    };
    Ok(ProcessOutcome {
        exit,
        timed_out,
        cancelled,
        wall: start.elapsed(),
        leaked: Vec::new(),
    })
}

fn stop_group(
    pgid: i32,
    kind: CancelKind,
    grace: Duration,
    exit_rx: &crossbeam_channel::Receiver<std::io::Result<ExitStatus>>,
) -> Result<std::io::Result<ExitStatus>, crossbeam_channel::RecvError> {
    if kind == CancelKind::Graceful {
        signal_group(pgid, libc::SIGTERM);
        if let Ok(status) = exit_rx.recv_timeout(grace) {
            return Ok(status);
        }
    }
    signal_group(pgid, libc::SIGKILL);
    exit_rx.recv()
}

fn signal_group(pgid: i32, signal: i32) {
    // SAFETY: kill(2) has no memory-safety preconditions; a negative pid
    // addresses the process group, which we created for this child.
    unsafe {
        libc::kill(-pgid, signal);
    }
}

fn create_log(path: &Path) -> Result<File, ProcessError> {
    File::create(path).map_err(|source| ProcessError::Log {
        path: path.to_path_buf(),
        source,
    })
}

/// The last `lines` lines of a log file, for error reports; `None` when the
/// file is missing or empty. Reads only the file's end.
pub fn log_tail(path: &Path, lines: usize) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    const WINDOW: u64 = 64 * 1024;
    let mut file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let start = len.saturating_sub(WINDOW);
    file.seek(SeekFrom::Start(start)).ok()?;
    let mut buf = Vec::new();
    file.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf);
    let trimmed = text.trim_end();
    if trimmed.is_empty() {
        return None;
    }
    let all: Vec<&str> = trimmed.lines().collect();
    let from = all.len().saturating_sub(lines);
    Some(all[from..].join("\n"))
}
