//! The one word `runs list` and `runs show` give a run's state, and what is
//! wrong with a run that did not end well.

use evidence::{Manifest, ManifestProblem, RunStatus};

/// The status word of a run whose manifest reads: `passed`, `failed`,
/// `running`, `interrupted`, `incomplete`, `crashed`, or `unknown` when no
/// status is recorded (as in the Python qaagent's runs).
pub(super) fn status_word(status: Option<RunStatus>) -> String {
    status.map_or_else(|| "unknown".to_string(), |status| status.as_str().to_string())
}

/// The status word of a run whose manifest does not read.
pub(super) fn damaged_word(problem: &ManifestProblem) -> &'static str {
    match problem {
        ManifestProblem::Missing => "incomplete",
        ManifestProblem::Unreadable(_) => "unreadable",
        ManifestProblem::Corrupt(_) => "corrupt",
    }
}

/// What is wrong with a run whose status says its evidence cannot be
/// trusted whole, or that it holds no test result at all: listed among its
/// problems, so `runs show` exits 1 (a run that ran no test must not read as
/// sound to a CI step, as run-all exited 4 for it).
pub(super) fn status_problem(status: Option<RunStatus>, manifest: &Manifest) -> Option<String> {
    match status? {
        RunStatus::Failed if manifest.ran_no_tests() => Some(
            "no tests ran: every test was deselected or skipped (run-all exited 4; --no-tests=pass|warn accepts it)"
                .to_string(),
        ),
        RunStatus::Incomplete => Some(format!(
            "incomplete: {}",
            manifest
                .incomplete_reason
                .as_deref()
                .unwrap_or("some of its evidence could not be written")
        )),
        RunStatus::Crashed => Some(
            "crashed: the qaagent that wrote it is gone (killed?) without finishing it; only the suites \
             recorded before are in it"
                .to_string(),
        ),
        _ => None,
    }
}
