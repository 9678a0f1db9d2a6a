//! On GitHub Actions (`GITHUB_ACTIONS=true`): a finished run's failures as
//! annotations and its summary appended to `$GITHUB_STEP_SUMMARY`, for
//! `run-all` and `merge` alike. Neither can change the exit code: a failure
//! to write them is a warning.

use std::io::Write;
use std::path::Path;

use orchestrator::report::github;

use crate::reporter::{to_stderr, to_stdout};

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
