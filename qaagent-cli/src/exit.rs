//! The one place where outcomes and errors become exit codes.

use orchestrator::run::Verdict;
use orchestrator::signals::StopSignal;

/// All tests passed.
pub const SUCCESS: u8 = 0;
/// A test failed or a suite errored.
pub const TEST_FAILED: u8 = 1;
/// `runs list` / `runs show`: the run's evidence is damaged (what could be read was shown).
pub const EVIDENCE_DAMAGED: u8 = 1;
/// Usage or config error.
pub const USAGE: u8 = 2;
/// No test ran (unless `--no-tests=pass|warn`).
pub const NO_TESTS: u8 = 4;
/// Interrupted by SIGINT.
pub const INTERRUPTED_SIGINT: u8 = 130;
/// Interrupted by SIGTERM.
pub const INTERRUPTED_SIGTERM: u8 = 143;
/// Interrupted by SIGHUP.
pub const INTERRUPTED_SIGHUP: u8 = 129;

/// The exit code of a run that ended with `verdict`.
pub fn for_verdict(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Passed => SUCCESS,
        Verdict::NoTests => NO_TESTS,
        Verdict::Interrupted(Some(StopSignal::Hangup)) => INTERRUPTED_SIGHUP,
        Verdict::Interrupted(Some(StopSignal::Terminate)) => INTERRUPTED_SIGTERM,
        // Cancelled without a signal: reported as a Ctrl-C would be.
        Verdict::Interrupted(_) => INTERRUPTED_SIGINT,
        _ => TEST_FAILED,
    }
}
