//! A run's records tallied by status, held against its manifest's counts.
//!
//! The manifest's counts and `tests.jsonl` are written together by one
//! writer, so in a finished run they agree. Records edited afterwards (a
//! failure turned into a pass, a line removed) no longer do: every reader
//! that trusts the records for a verdict (`runs show`, `--rerun-failed`,
//! `merge`) checks this first, rather than report a green it cannot vouch for.

use crate::manifest::{Counts, RunStatus};
use crate::suite::TestStatus;

/// How many records of each status were read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusTally {
    /// Passed records (flaky ones included).
    pub passed: u64,
    /// Failed records.
    pub failed: u64,
    /// Errored records.
    pub errors: u64,
    /// Skipped records.
    pub skipped: u64,
}

impl std::ops::AddAssign for StatusTally {
    fn add_assign(&mut self, other: StatusTally) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.errors += other.errors;
        self.skipped += other.skipped;
    }
}

impl StatusTally {
    /// Counts one record of `status`.
    pub fn add(&mut self, status: TestStatus) {
        match status {
            TestStatus::Passed => self.passed += 1,
            TestStatus::Failed => self.failed += 1,
            TestStatus::Error => self.errors += 1,
            TestStatus::Skipped => self.skipped += 1,
        }
    }

    /// Why the records read disagree with the `counts` of a run that ended
    /// with `status`, if they do. Only a `passed` or `failed` run's counts
    /// are final: a run that did not finish counted only the suites that
    /// ended, and one without a status (the Python qaagent's) is not held
    /// to them.
    pub fn disagreement(&self, counts: &Counts, status: Option<RunStatus>) -> Option<String> {
        if !matches!(status, Some(RunStatus::Passed | RunStatus::Failed)) {
            return None;
        }
        let read = (self.passed, self.failed + self.errors, self.errors, self.skipped);
        let counted = (
            counts.tests_passed,
            counts.tests_failed,
            counts.tests_errors,
            counts.tests_skipped,
        );
        (read != counted).then(|| {
            format!(
                "{} disagrees with the manifest: its records say {} passed, {} failed, {} errors, {} skipped; \
                 the manifest {} passed, {} failed, {} errors, {} skipped (changed after the run?)",
                crate::manifest::TESTS_FILE,
                self.passed,
                self.failed,
                self.errors,
                self.skipped,
                counts.tests_passed,
                counts.tests_failed - counts.tests_errors.min(counts.tests_failed),
                counts.tests_errors,
                counts.tests_skipped
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(passed: u64, failed: u64, errors: u64, skipped: u64) -> Counts {
        Counts {
            tests: passed + failed + errors + skipped,
            tests_passed: passed,
            tests_failed: failed + errors,
            tests_errors: errors,
            tests_skipped: skipped,
            ..Counts::default()
        }
    }

    #[test]
    fn a_failure_turned_into_a_pass_disagrees_with_a_finished_runs_counts() {
        let mut tally = StatusTally::default();
        for status in [
            TestStatus::Passed,
            TestStatus::Passed,
            TestStatus::Error,
            TestStatus::Skipped,
        ] {
            tally.add(status);
        }
        let finished = Some(RunStatus::Failed);
        assert_eq!(tally.disagreement(&counts(2, 0, 1, 1), finished), None);
        let edited = tally.disagreement(&counts(1, 1, 1, 1), finished).expect("disagrees");
        assert!(edited.contains("records say 2 passed, 0 failed"), "{edited}");
        assert!(edited.contains("the manifest 1 passed, 1 failed"), "{edited}");
        assert_eq!(tally.disagreement(&counts(1, 1, 1, 1), Some(RunStatus::Crashed)), None);
        assert_eq!(tally.disagreement(&counts(1, 1, 1, 1), None), None);
    }
}
