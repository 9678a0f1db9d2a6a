//! `[run] retry_on` and `[run] flaky`: which failures are retried, and what
//! a test that passed only on a retry means for the verdict.
//!
//! A failure's category is the one its diagnosis gets (the same
//! [`Diagnoser`], the project's own categories included). A suite error that
//! left no failing case is the suite's own: `timeout` when the suite timed
//! out as a whole, else `environment` (the tool crashed, was missing, left no
//! readable report). A failure of a category `retry_on` does not name runs
//! once, and the run says so ([`RetryPolicy::not_retried`]).

use std::sync::Arc;

use runner_api::{Selection, SuiteOutcome, SuiteResult, TestCase};

use crate::attempts::{next_selection as any_failure, selection_of};
use crate::config::FlakyPolicy;
use crate::diagnostics::{CategorySpec, Diagnoser, DiagnosticsError, ENVIRONMENT_CATEGORY, UNKNOWN_CATEGORY};

/// Retries limited to failures of some diagnostics categories.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    categories: Vec<String>,
    diagnoser: Diagnoser,
}

impl RetryPolicy {
    /// Retries of failures in `categories` only; `custom` are the project's
    /// own categories, which failures are classified by first.
    pub fn new(categories: Vec<String>, custom: &[CategorySpec]) -> Result<RetryPolicy, DiagnosticsError> {
        Ok(RetryPolicy {
            categories,
            diagnoser: Diagnoser::new(custom)?,
        })
    }

    /// The categories retried.
    pub fn categories(&self) -> &[String] {
        &self.categories
    }

    fn allows(&self, category: &str) -> bool {
        self.categories.iter().any(|allowed| allowed == category)
    }

    /// The category of a failing case of `suite`.
    fn category(&self, suite: &str, case: &TestCase) -> String {
        (self.diagnoser.diagnose_case(suite, case, None)).map_or_else(|| UNKNOWN_CATEGORY.to_string(), |d| d.category)
    }

    /// What the next attempt re-runs of `result`: its failures of the
    /// categories retried (see [`crate::attempts::next_selection`]).
    fn next_selection(&self, result: &SuiteResult) -> Option<Selection> {
        if self.retries_suite_error(result) {
            // Its tool did not finish: the whole suite, whatever its cases say.
            return Some(Selection::All);
        }
        if !result.cases.iter().any(|case| case.status.is_failure()) {
            return None;
        }
        selection_of(result, |case| self.allows(&self.category(&result.suite, case)))
    }

    /// Whether the suite's own error (its tool crashed or timed out) is of a
    /// category retried, failing cases or not: a suite that wrote one
    /// assertion failure and crashed is an `environment` failure too (a
    /// hostile try, 13a #12, saw it not retried under
    /// `retry_on = ["environment"]`).
    fn retries_suite_error(&self, result: &SuiteResult) -> bool {
        result.error.is_some() && self.allows(suite_error_category(result))
    }

    /// One line for each failure of `results` the policy kept from a retry,
    /// saying why (nothing when the run had no retries to give).
    pub fn not_retried(&self, results: &[Arc<SuiteResult>], retries: u32) -> Vec<String> {
        if retries == 0 {
            return Vec::new();
        }
        let retried = self.categories.join(", ");
        let mut notes = Vec::new();
        for result in results
            .iter()
            .filter(|result| result.attempts > 0 && !self.retries_suite_error(result))
        {
            let failing = result.cases.iter().filter(|case| case.status.is_failure());
            let mut any_retried = false;
            for case in failing {
                let category = self.category(&result.suite, case);
                if self.allows(&category) {
                    any_retried = true;
                } else {
                    notes.push(format!(
                        "not retried: {} {} {} with a failure of category `{category}`, and retry_on is [{retried}]",
                        result.suite,
                        case.label(),
                        case.status
                    ));
                }
            }
            let category = suite_error_category(result);
            // A suite error with a failure retried was retried whole.
            if !any_retried && result.error.is_some() {
                notes.push(format!(
                    "not retried: suite {}'s own error is of category `{category}`, and retry_on is [{retried}]",
                    result.suite
                ));
            }
        }
        notes
    }
}

/// What attempt k+1 re-runs after `result`: every failure, or under
/// `policy` those of the categories it retries.
pub(crate) fn next_selection(policy: Option<&RetryPolicy>, result: &SuiteResult) -> Option<Selection> {
    match policy {
        Some(policy) => policy.next_selection(result),
        None => any_failure(result),
    }
}

/// The category of a suite's own error.
fn suite_error_category(result: &SuiteResult) -> &'static str {
    if result.outcome() == SuiteOutcome::TimedOut {
        "timeout"
    } else {
        ENVIRONMENT_CATEGORY
    }
}

/// What `policy` makes of the flaky tests of `results` (quarantined ones
/// aside): `Err` with why the run fails, `Ok` with a warning, or `Ok(None)`.
pub(crate) fn judge_flaky(policy: FlakyPolicy, results: &[Arc<SuiteResult>]) -> Result<Option<String>, String> {
    let flaky = (results.iter())
        .flat_map(|result| result.cases.iter())
        .filter(|case| case.flaky && case.quarantine.is_none())
        .count();
    let what = if flaky == 1 {
        "1 test was flaky".to_string()
    } else {
        format!("{flaky} tests were flaky")
    };
    match policy {
        _ if flaky == 0 => Ok(None),
        FlakyPolicy::Pass => Ok(None),
        FlakyPolicy::Warn => Ok(Some(format!("{what} (failed, then passed on a retry)"))),
        FlakyPolicy::Fail => Err(format!(
            "{what}, and [run] flaky = \"fail\" fails the run on a flaky test"
        )),
    }
}

#[cfg(test)]
mod tests {
    use runner_api::TestStatus;

    use super::*;

    fn failing(name: &str, message: &str) -> TestCase {
        let mut case = TestCase::new(name, "c", TestStatus::Failed);
        case.selector = Some(name.to_string());
        case.message = Some(message.to_string());
        case
    }

    #[test]
    fn only_failures_of_the_retried_categories_run_again() {
        let policy = RetryPolicy::new(vec!["timeout".into()], &[]).expect("policy");
        let mut result = SuiteResult::new("unit", "pytest");
        result.cases = vec![
            failing("slow", "TimeoutError: timed out waiting for the page"),
            failing("wrong", "assert 1 == 2"),
        ];
        assert_eq!(
            next_selection(Some(&policy), &result),
            Some(Selection::Only(vec!["slow".into()]))
        );
        let notes = policy.not_retried(&[Arc::new(result.clone())], 1);
        assert_eq!(
            notes,
            ["not retried: unit wrong failed with a failure of category `assertion`, and retry_on is [timeout]"]
        );
        assert!(policy.not_retried(&[Arc::new(result.clone())], 0).is_empty());
        result.cases.remove(0);
        assert_eq!(next_selection(Some(&policy), &result), None);
        assert_eq!(
            next_selection(None, &result),
            Some(Selection::Only(vec!["wrong".into()]))
        );
    }

    #[test]
    fn a_suite_timed_out_as_a_whole_is_a_timeout_and_a_crash_environment() {
        let timeouts = RetryPolicy::new(vec!["timeout".into()], &[]).expect("policy");
        let environment = RetryPolicy::new(vec!["environment".into()], &[]).expect("policy");
        let mut timed_out = SuiteResult::new("unit", "pytest");
        timed_out.set_error(SuiteOutcome::TimedOut, "timed out after 5 s");
        let crashed = SuiteResult::errored("unit", "pytest", "pytest exited with code 3");
        assert_eq!(next_selection(Some(&timeouts), &timed_out), Some(Selection::All));
        assert_eq!(next_selection(Some(&timeouts), &crashed), None);
        assert_eq!(next_selection(Some(&environment), &crashed), Some(Selection::All));
        assert_eq!(next_selection(Some(&environment), &timed_out), None);
    }

    #[test]
    fn flaky_tests_pass_warn_or_fail_the_run_quarantined_ones_aside() {
        let mut result = SuiteResult::new("unit", "pytest");
        let mut flaky = TestCase::new("f", "c", TestStatus::Passed);
        flaky.flaky = true;
        result.cases.push(flaky.clone());
        let results = [Arc::new(result.clone())];
        assert_eq!(judge_flaky(FlakyPolicy::Pass, &results), Ok(None));
        assert!(matches!(judge_flaky(FlakyPolicy::Warn, &results), Ok(Some(_))));
        assert!(judge_flaky(FlakyPolicy::Fail, &results).is_err());
        flaky.quarantine = Some("known".into());
        result.cases = vec![flaky];
        assert_eq!(judge_flaky(FlakyPolicy::Fail, &[Arc::new(result)]), Ok(None));
    }
}
