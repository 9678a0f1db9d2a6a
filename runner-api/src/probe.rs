//! Bounded probes: a short command a runner starts to learn something about
//! its tool (its version), which must never hang a run.
//!
//! A probe is supervised like a suite's tool (its own process group, the
//! suite's token, the parent-death signal; see [`crate::process`]), with a
//! time limit ([`PROBE_TIMEOUT`] unless the suite's own timeout is shorter)
//! and the run's cancel token. Its output is read as it comes and the first
//! [`PROBE_OUTPUT_LIMIT`] bytes of each stream are kept, in files in a
//! private temporary directory; the rest is dropped, so a probe that prints
//! without end neither blocks on a full pipe nor fills the disk. Whatever the probe leaves running is killed before
//! [`Probe::run`] returns.

use std::fs::{DirBuilder, File};
use std::io::Read;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::cancel::CancelToken;
use crate::process::{self, ExitKind, ProcessError, Supervision};

/// How long a probe may run when nothing shorter is asked for.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// How many bytes of each of a probe's streams are kept.
pub const PROBE_OUTPUT_LIMIT: u64 = 64 * 1024;

/// Why a probe gave no answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// The probe's program could not be started or supervised.
    #[error(transparent)]
    Process(#[from] ProcessError),
    /// Its temporary output directory could not be made or read.
    #[error("cannot capture the output of {program} in {}: {source}", dir.display())]
    Capture {
        /// The probe's program.
        program: String,
        /// The temporary directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// It ran out of time and was killed.
    #[error("{program} did not answer within {} s", timeout.as_secs_f64())]
    TimedOut {
        /// The probe's program.
        program: String,
        /// Its time limit.
        timeout: Duration,
    },
    /// The run was cancelled while it ran.
    #[error("{program} was stopped: the run was cancelled")]
    Cancelled {
        /// The probe's program.
        program: String,
    },
}

/// What a probe printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProbeOutput {
    /// How it ended.
    pub exit: ExitKind,
    /// The start of its standard output (at most [`PROBE_OUTPUT_LIMIT`]
    /// bytes, lossily decoded).
    pub stdout: String,
    /// The start of its standard error, likewise.
    pub stderr: String,
}

impl ProbeOutput {
    /// True when it exited with code 0.
    pub fn success(&self) -> bool {
        self.exit == ExitKind::Code(0)
    }

    /// The first non-blank line of its standard output, trimmed, when it
    /// exited with code 0: how most tools answer `--version`.
    pub fn first_line(&self) -> Option<String> {
        if !self.success() {
            return None;
        }
        self.stdout
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty())
            .map(str::to_string)
    }
}

/// Runs probes with a time limit and a cancel token. Runners get one from
/// [`SuiteContext::probe`](crate::SuiteContext::probe), which takes both from
/// the suite, so no probe can outlive the suite's timeout or a Ctrl-C.
#[derive(Debug, Clone)]
pub struct Probe {
    label: String,
    timeout: Duration,
    cancel: CancelToken,
}

impl Probe {
    /// A probe for the suite `label`, limited to `timeout` and stopped when
    /// `cancel` is.
    pub fn new(label: impl Into<String>, timeout: Duration, cancel: CancelToken) -> Self {
        Probe {
            label: label.into(),
            timeout,
            cancel,
        }
    }

    /// Runs `cmd` (stdin null) until it exits, its time is up or the run is
    /// cancelled, and then kills whatever it left running. Only an exit of
    /// its own gives an answer.
    pub fn run(&self, cmd: Command) -> Result<ProbeOutput, ProbeError> {
        let program = cmd.get_program().to_string_lossy().into_owned();
        let dir = CaptureDir::new().map_err(|(dir, source)| ProbeError::Capture {
            program: program.clone(),
            dir,
            source,
        })?;
        let supervision = Supervision {
            label: self.label.clone(),
            timeout: Some(self.timeout),
            // A probe has no work to save: stop it at once.
            kill_grace: Duration::ZERO,
            cancel: self.cancel.clone(),
            stdout_log: dir.path.join("stdout"),
            stderr_log: dir.path.join("stderr"),
            live_output: None,
            // `yes` as a version command wrote 18 GB to the temporary
            // directory in its 10 s, all but the first 64 KiB unread.
            log_limit: Some(PROBE_OUTPUT_LIMIT),
        };
        let outcome = process::run_supervised(cmd, &supervision)?;
        if outcome.cancelled.is_some() {
            return Err(ProbeError::Cancelled { program });
        }
        if outcome.timed_out {
            return Err(ProbeError::TimedOut {
                program,
                timeout: self.timeout,
            });
        }
        if !outcome.leaked.is_empty() {
            log::debug!(
                "[{}] probe {program} left {} process(es) running, killed",
                self.label,
                outcome.leaked.len()
            );
        }
        let read = |path: &Path| {
            head(path).map_err(|source| ProbeError::Capture {
                program: program.clone(),
                dir: dir.path.clone(),
                source,
            })
        };
        Ok(ProbeOutput {
            exit: outcome.exit,
            stdout: read(&supervision.stdout_log)?,
            stderr: read(&supervision.stderr_log)?,
        })
    }
}

/// The prefix of a capture directory's name in the temporary directory.
const CAPTURE_PREFIX: &str = "qaagent-probe-";

/// Removes the capture directories of this process's probes still running:
/// for a command about to exit on a signal, which drops nothing (`config
/// check` ended by SIGTERM once left them in `$TMPDIR`).
pub fn remove_capture_dirs() {
    let ours = format!("{CAPTURE_PREFIX}{}-", std::process::id());
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let is_ours = entry.file_name().to_str().is_some_and(|name| name.starts_with(&ours));
        if is_ours && entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A fresh directory only we can use, removed when dropped. Made with
/// `mkdir` (mode 0700), which fails rather than follow a planted name.
struct CaptureDir {
    path: PathBuf,
}

impl CaptureDir {
    fn new() -> Result<Self, (PathBuf, std::io::Error)> {
        let path = std::env::temp_dir().join(format!("{CAPTURE_PREFIX}{}", process::new_token()));
        match DirBuilder::new().mode(0o700).create(&path) {
            Ok(()) => Ok(CaptureDir { path }),
            Err(err) => Err((path, err)),
        }
    }
}

impl Drop for CaptureDir {
    fn drop(&mut self) {
        if let Err(err) = std::fs::remove_dir_all(&self.path) {
            log::debug!("cannot remove {}: {err}", self.path.display());
        }
    }
}

/// The first [`PROBE_OUTPUT_LIMIT`] bytes of `path`, lossily decoded.
fn head(path: &Path) -> std::io::Result<String> {
    let mut bytes = Vec::new();
    File::open(path)?.take(PROBE_OUTPUT_LIMIT).read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
