//! Totals over a run's suites.

use std::borrow::Borrow;
use std::time::Duration;

use runner_api::{SuiteOutcome, SuiteResult};
use serde::Serialize;

/// What a run amounts to, for the final line and the exit code.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunSummary {
    /// Suites that were planned.
    pub suites: usize,
    /// Suites that actually ran a tool.
    pub suites_run: usize,
    /// Passed cases (flaky ones included).
    pub passed: usize,
    /// Failed cases.
    pub failed: usize,
    /// Errored cases plus suite-level errors.
    pub errors: usize,
    /// Suites whose error no errored case carries (one each in `errors`,
    /// though not a test): see [`SuiteResult::has_error_without_case`].
    pub suite_errors: usize,
    /// Skipped cases.
    pub skipped: usize,
    /// Cases that passed only after a retry.
    pub flaky: usize,
    /// Failed and errored cases that are quarantined (counted in `failed`
    /// and `errors` too), of suites without an error of their own: they do
    /// not fail the run.
    pub quarantined: usize,
    /// Every case.
    pub tests: usize,
    /// Sum of the suites' tool wall times.
    #[serde(with = "seconds")]
    pub suites_duration: Duration,
    /// The run's own wall time.
    #[serde(with = "seconds")]
    pub wall: Duration,
    /// The run was interrupted.
    pub interrupted: bool,
}

impl RunSummary {
    /// What a run that ran no test says: `no tests ran`, and how many were
    /// skipped when every test was.
    pub fn no_tests_ran(&self) -> String {
        match self.skipped {
            0 => "no tests ran".to_string(),
            skipped => format!("no tests ran: all {skipped} skipped"),
        }
    }

    /// Totals of `results`, with the run's wall time.
    pub fn from_results<R: Borrow<SuiteResult>>(results: &[R], wall: Duration, interrupted: bool) -> Self {
        let mut summary = RunSummary {
            suites: results.len(),
            wall,
            interrupted,
            ..RunSummary::default()
        };
        for result in results.iter().map(Borrow::borrow) {
            if result.attempts > 0 && result.outcome() != SuiteOutcome::Skipped {
                summary.suites_run += 1;
            }
            summary.passed += result.passed();
            summary.failed += result.failed();
            summary.errors += result.errors();
            summary.suite_errors += usize::from(result.has_error_without_case());
            summary.skipped += result.skipped_cases();
            summary.flaky += result.flaky();
            summary.quarantined += (result.cases.iter())
                .filter(|case| crate::quarantine::excuses(result, case))
                .count();
            summary.tests += result.cases.len();
            summary.suites_duration += result.duration;
        }
        summary
    }

    /// True when nothing failed or errored but quarantined tests.
    pub fn success(&self) -> bool {
        (self.failed + self.errors).saturating_sub(self.quarantined) == 0 && !self.interrupted
    }
}

mod seconds {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(duration.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use runner_api::{TestCase, TestStatus};

    use super::*;

    #[test]
    fn quarantine_excuses_a_failing_test_never_its_suite_s_own_error() {
        let mut result = SuiteResult::new("unit", "pytest");
        let mut hung = TestCase::new("test_hangs", "tests.test_a", TestStatus::Error);
        hung.quarantine = Some("ORD-142".into());
        result.cases.push(hung);
        let clean = RunSummary::from_results(&[result.clone()], Duration::ZERO, false);
        assert_eq!((clean.errors, clean.quarantined), (1, 1));
        assert!(clean.success());
        // The same test, running when the suite timed out: the tests after it never ran.
        result.set_error(SuiteOutcome::TimedOut, "timed out after 4 s");
        let timed_out = RunSummary::from_results(&[result], Duration::ZERO, false);
        assert_eq!((timed_out.errors, timed_out.quarantined), (1, 0));
        assert!(!timed_out.success());
    }
}
