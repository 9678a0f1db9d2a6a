//! What a runner is given for one attempt of one suite.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::cancel::CancelToken;
use crate::probe::{Probe, ProbeError, ProbeOutput, PROBE_TIMEOUT};
use crate::process::{self, ProcessError, ProcessOutcome, Supervision};
use crate::settings::{parse_settings, ParsedSettings, SettingsError};

/// Which tests an attempt runs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Selection {
    /// The whole suite.
    #[default]
    All,
    /// Only these tests, by their selectors ([`crate::TestCase::selector`]).
    Only(Vec<String>),
}

impl Selection {
    /// Keeps, of the cases an attempt that ran this selection reported, the
    /// selected ones (by [`crate::TestCase::selector`]) and every failure;
    /// all of them for [`Selection::All`]. A tool may list the tests it left
    /// out as skipped (behave, Node's `--test-name-pattern`), which is not
    /// what happened to them; but a test it ran and reports failed, selected
    /// or not (a name filter matching more than asked), failed. When no case
    /// is a selected one, all are kept rather than lose what the tool
    /// reported, and the answer is false.
    pub fn retain_selected(&self, cases: &mut Vec<crate::TestCase>) -> bool {
        let Selection::Only(selectors) = self else {
            return true;
        };
        let selected: std::collections::HashSet<&str> = selectors.iter().map(String::as_str).collect();
        let is_selected = |case: &crate::TestCase| case.selector.as_deref().is_some_and(|s| selected.contains(s));
        if cases.iter().any(is_selected) {
            cases.retain(|case| is_selected(case) || case.status.is_failure());
            true
        } else {
            cases.is_empty()
        }
    }
}

/// One share of a split suite that its tool chooses itself, after
/// collecting the whole suite (see [`Runner::selects_own_share`]).
///
/// [`Runner::selects_own_share`]: crate::Runner::selects_own_share
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    /// Which share this is, from 1.
    pub number: usize,
    /// How many shares the suite is split into.
    pub total: usize,
    /// A JSON object of stored durations, selector → seconds, that the
    /// shares are balanced by; `None` to balance by count.
    pub durations: Option<PathBuf>,
}

/// What a share that chose its own tests said it kept, before running any:
/// whatever it then fails to report is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareTests {
    /// How many tests it collected (the whole suite), when it could tell.
    pub collected: Option<usize>,
    /// A digest of the names of every test it collected, when it could
    /// tell: the shares must all have collected the same tests, which equal
    /// counts do not show (ids drawn at random, a file one process skips).
    pub digest: Option<String>,
    /// The selectors of the tests it kept, in its order.
    pub kept: Vec<String>,
}

/// Which stream a line of tool output came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    /// The tool's standard output.
    Stdout,
    /// The tool's standard error.
    Stderr,
}

/// One whole line of a tool's output, for `--output immediate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputLine {
    /// The suite whose tool printed it.
    pub suite: String,
    /// Where it printed it.
    pub stream: OutputStream,
    /// The line, without its line ending (lossily decoded).
    pub line: String,
}

/// Where to send tool output live, besides the log files: a function given
/// every whole line as it is printed, from the threads reading the tool's
/// pipes. It may block (the tool then waits on its pipe, as on a slow
/// terminal); it returns false once nobody listens any more, and is not
/// called again for that stream.
#[derive(Clone)]
pub struct LiveOutput {
    send: Arc<dyn Fn(OutputLine) -> bool + Send + Sync>,
}

impl LiveOutput {
    /// Live output through `send`, e.g. `move |line| sender.send(line).is_ok()`
    /// for a channel.
    pub fn new(send: impl Fn(OutputLine) -> bool + Send + Sync + 'static) -> Self {
        LiveOutput { send: Arc::new(send) }
    }

    /// Hands `line` over; false once nobody listens.
    pub fn send(&self, line: OutputLine) -> bool {
        (self.send)(line)
    }
}

impl std::fmt::Debug for LiveOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LiveOutput")
    }
}

/// Everything a runner needs to run one attempt of one suite.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SuiteContext {
    /// The suite's name (`[tests.NAME]`).
    pub suite: String,
    /// The directory holding `.qaagent.toml`; absolute.
    pub project_dir: PathBuf,
    /// The suite's test path (`path = …`), absolute.
    pub path: PathBuf,
    /// A fresh, empty, existing directory for this attempt's output; absolute.
    /// The runner writes JUnit, logs and tool output only below it.
    pub output_dir: PathBuf,
    /// The output directory of the previous attempt, for tools that re-run
    /// from their own state (`--last-failed`, rerun files).
    pub previous_output_dir: Option<PathBuf>,
    /// 1 for the first attempt, 2 for the first retry, …
    pub attempt: u32,
    /// Which tests to run.
    pub selection: Selection,
    /// The share of the suite's tests this attempt runs, chosen by the tool
    /// from [`Selection::All`]; `None` for all of them.
    pub share: Option<Share>,
    /// The application's base URL, exported to the tool as `BASE_URL`.
    pub base_url: Option<String>,
    /// Extra environment for the tool (`[tests.NAME].env`).
    pub env: BTreeMap<String, String>,
    /// Extra arguments for the tool (`[tests.NAME].args`).
    pub args: Vec<String>,
    /// Runner-specific keys of the suite's table.
    pub settings: toml::Table,
    /// Time allowed for this attempt; `None` for no limit.
    pub timeout: Option<Duration>,
    /// Time between SIGTERM and SIGKILL when stopping the tool.
    pub kill_grace: Duration,
    /// Cancelled when the run is interrupted.
    pub cancel: CancelToken,
    /// Where to stream output lines as they come, when asked.
    pub live_output: Option<LiveOutput>,
    /// Where to send each test's start and end as they happen, for runners
    /// that follow their tool's stream ([`SuiteContext::run_streaming`]).
    pub test_events: Option<crate::stream::TestEvents>,
    /// `settings` parsed into the runner's type, shared by the clones.
    parsed: ParsedSettings,
}

impl SuiteContext {
    /// A context with defaults for everything but the names and paths; used
    /// by tests and by third-party drivers.
    pub fn new(
        suite: impl Into<String>,
        project_dir: impl Into<PathBuf>,
        path: impl Into<PathBuf>,
        output_dir: impl Into<PathBuf>,
    ) -> Self {
        SuiteContext {
            suite: suite.into(),
            project_dir: project_dir.into(),
            path: path.into(),
            output_dir: output_dir.into(),
            previous_output_dir: None,
            attempt: 1,
            selection: Selection::All,
            share: None,
            base_url: None,
            env: BTreeMap::new(),
            args: Vec::new(),
            settings: toml::Table::new(),
            timeout: None,
            kill_grace: Duration::from_secs(5),
            cancel: CancelToken::new(),
            live_output: None,
            test_events: None,
            parsed: ParsedSettings::default(),
        }
    }

    /// A [`Command`] for `program` whose environment is the parent's plus
    /// `BASE_URL` and the suite's `env`. The runner adds arguments and the
    /// working directory.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        if let Some(base_url) = &self.base_url {
            cmd.env("BASE_URL", base_url);
        }
        cmd.envs(&self.env);
        cmd
    }

    /// The first executable named `name` on the `PATH` the tool will see:
    /// the suite's `env` may replace ours.
    pub fn which(&self, name: &str) -> Option<PathBuf> {
        match self.env.get("PATH") {
            Some(path) => which_in(name.as_ref(), path.as_ref()),
            None => which_in(name.as_ref(), &std::env::var_os("PATH")?),
        }
    }

    /// Where this attempt's standard output is logged.
    pub fn stdout_log(&self) -> PathBuf {
        self.output_dir.join("stdout.log")
    }

    /// Where this attempt's standard error is logged.
    pub fn stderr_log(&self) -> PathBuf {
        self.output_dir.join("stderr.log")
    }

    /// Runs `cmd` under supervision: its own process group, output to this
    /// attempt's log files (and live, when asked), this attempt's timeout and
    /// the run's cancel token. Returns once the tool and everything it left
    /// behind are gone.
    pub fn run_supervised(&self, cmd: Command) -> Result<ProcessOutcome, ProcessError> {
        self.run_supervised_with_logs(cmd, &self.stdout_log(), &self.stderr_log())
    }

    /// Like [`run_supervised`](Self::run_supervised), logging to other files
    /// (e.g. an install step before the tests).
    pub fn run_supervised_with_logs(
        &self,
        cmd: Command,
        stdout_log: &Path,
        stderr_log: &Path,
    ) -> Result<ProcessOutcome, ProcessError> {
        let supervision = Supervision {
            label: self.suite.clone(),
            timeout: self.timeout,
            kill_grace: self.kill_grace,
            cancel: self.cancel.clone(),
            stdout_log: stdout_log.to_path_buf(),
            stderr_log: stderr_log.to_path_buf(),
            live_output: self.live_output.clone(),
            log_limit: None,
        };
        process::run_supervised(cmd, &supervision)
    }

    /// The suite's [`settings`](Self::settings) as the runner's type `T`,
    /// parsed on the first call for this suite (its attempts and its version
    /// probe share the answer) with [`parse_settings`].
    pub fn settings_as<T: DeserializeOwned + Send + Sync + 'static>(&self) -> Result<Arc<T>, SettingsError> {
        self.parsed.get(&self.settings, parse_settings::<T>)
    }

    /// Like [`settings_as`](Self::settings_as), with the runner's own
    /// `parse` (one that checks more than serde can).
    pub fn settings_with<T, F>(&self, parse: F) -> Result<Arc<T>, SettingsError>
    where
        T: Send + Sync + 'static,
        F: FnOnce(&toml::Table) -> Result<T, SettingsError>,
    {
        self.parsed.get(&self.settings, parse)
    }

    /// Runs a short command to learn something about the tool (its version),
    /// bounded by [`PROBE_TIMEOUT`] or this
    /// attempt's timeout, whichever is shorter, and stopped by the run's
    /// cancel token. Every process a runner starts outside
    /// [`run_supervised`](Self::run_supervised) goes through here.
    pub fn probe(&self, cmd: Command) -> Result<ProbeOutput, ProbeError> {
        let timeout = self.timeout.map_or(PROBE_TIMEOUT, |timeout| timeout.min(PROBE_TIMEOUT));
        let probed = Probe::new(self.suite.clone(), timeout, self.cancel.clone()).run(cmd);
        if let Err(err @ ProbeError::TimedOut { .. }) = &probed {
            // Said here, once for every runner: a version that is missing
            // from the evidence for this reason is otherwise unexplained.
            log::warn!(
                "[{}] {err}; it was stopped, and what it would have told is unknown",
                self.suite
            );
        }
        probed
    }

    /// The error for a tool that ended with `exit` while doing `what`
    /// (`pytest --collect-only`) when only success would do: the end of
    /// its standard error, else of its standard output, says why.
    pub fn tool_failed(&self, what: &str, exit: crate::process::ExitKind) -> crate::RunnerError {
        let tail = (crate::process::log_tail(&self.stderr_log(), 5))
            .filter(|tail| !tail.trim().is_empty())
            .or_else(|| crate::process::log_tail(&self.stdout_log(), 5))
            .unwrap_or_default();
        crate::RunnerError::Other(format!("{what} ended with {exit:?}: {}", tail.trim()))
    }

    /// The selectors of this attempt, or `None` for the whole suite.
    pub fn selected(&self) -> Option<&[String]> {
        match &self.selection {
            Selection::All => None,
            Selection::Only(selectors) => Some(selectors),
        }
    }
}

/// The first executable named `name` on `path` (a `PATH`-style list).
pub fn which_in(name: &std::ffi::OsStr, path: &std::ffi::OsStr) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path).map(|dir| dir.join(name)).find(|candidate| {
        candidate
            .metadata()
            .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_looks_on_the_path_the_tool_will_see() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut ctx = SuiteContext::new("unit", dir.path(), dir.path(), dir.path());
        assert!(ctx.which("sh").is_some(), "our PATH");
        ctx.env.insert("PATH".into(), dir.path().display().to_string());
        assert_eq!(ctx.which("sh"), None, "the suite's PATH replaces ours");
        let tool = dir.path().join("tool");
        std::fs::write(&tool, "#!/bin/sh\n").expect("write");
        assert_eq!(ctx.which("tool"), None, "not executable");
        std::fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
        assert_eq!(ctx.which("tool"), Some(tool));
    }
}
