//! On GitHub Actions (`GITHUB_ACTIONS=true`): a finished run's failures as
//! annotations and its summary appended to `$GITHUB_STEP_SUMMARY`, for
//! `run-all` and `merge` alike. Neither can change the exit code: a failure
//! to write them is a warning.

use std::io::Write;
use std::path::Path;

use orchestrator::report::github;

use crate::reporter::{to_stderr, to_stdout};

/// Workflow commands paused while a run's own output (test names and
/// messages, tool output) goes by: the runner reads a command from any line
/// that starts with `::` once leading blanks are trimmed, so an indented
/// failure message could forge one. Resumed by [`Paused::resume`] before
/// qaagent's own annotations.
pub(crate) struct Paused {
    token: String,
    stderr: bool,
}

impl Paused {
    /// Pauses workflow commands, on stdout or (when stdout carries JSON) stderr.
    pub(crate) fn start(stderr: bool) -> Paused {
        use std::hash::{BuildHasher, Hasher};
        // RandomState is seeded randomly per process: a test cannot guess the token.
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        let token = format!("qaagent-{:016x}{:08x}", hasher.finish(), std::process::id());
        let paused = Paused { token, stderr };
        paused.say(&format!("::stop-commands::{}", paused.token));
        paused
    }

    /// Resumes workflow commands.
    pub(crate) fn resume(self) {
        self.say(&format!("::{}::", self.token));
    }

    fn say(&self, line: &str) {
        if self.stderr {
            to_stderr(line);
        } else {
            to_stdout(line);
        }
    }
}

/// True inside a GitHub Actions job.
pub(crate) fn active() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|value| value == "true")
}

/// Publishes the run in `run_dir` to GitHub: annotations on stdout (on
/// stderr when stdout carries JSON events) and the summary.
pub(crate) fn publish(run_dir: &Path, stdout_is_json: bool) {
    let run = match evidence::load_run_dir(run_dir) {
        Ok(run) => run,
        Err(err) => return to_stderr(&format!("warning: no GitHub annotations: {err}")),
    };
    match github::annotations(&run) {
        Ok(lines) if !lines.is_empty() => {
            let lines = lines.trim_end();
            if stdout_is_json {
                to_stderr(lines);
            } else {
                to_stdout(lines);
            }
        }
        Ok(_) => {}
        Err(err) => to_stderr(&format!("warning: no GitHub annotations: {err}")),
    }
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|path| !path.is_empty()) else {
        return;
    };
    let written = github::step_summary(&run)
        .map_err(|err| err.to_string())
        .and_then(|summary| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .and_then(|mut file| file.write_all(summary.as_bytes()))
                .map_err(|err| err.to_string())
        });
    if let Err(err) = written {
        to_stderr(&format!(
            "warning: cannot append to GITHUB_STEP_SUMMARY ({}): {err}",
            Path::new(&path).display()
        ));
    }
}
