//! Merging a suite's attempts into one result, and choosing what the next
//! attempt re-runs.

use std::collections::{HashMap, HashSet, VecDeque};

use runner_api::case::{Identity, PriorFailure};
use runner_api::{Selection, SuiteResult, TestCase, TestStatus};

/// What the next attempt should run, or `None` when nothing failed.
///
/// Failed and errored tests are selected by their selectors. When a failure
/// cannot be selected (no selector), or the suite errored (the tool crashed,
/// timed out, wrote no report), the whole suite runs again.
pub fn next_selection(result: &SuiteResult) -> Option<Selection> {
    selection_of(result, |_| true)
}

/// [`next_selection`] of only the failing cases `retry` keeps (`None` when
/// it keeps none of them). A suite error runs the whole suite again, as
/// there, unless `retry` keeps none of its failing cases.
pub(crate) fn selection_of(result: &SuiteResult, retry: impl Fn(&TestCase) -> bool) -> Option<Selection> {
    let failing: Vec<&TestCase> = result.cases.iter().filter(|case| case.status.is_failure()).collect();
    let retried: Vec<&TestCase> = failing.iter().copied().filter(|case| retry(case)).collect();
    if result.error.is_some() {
        // The tool did not finish: the tests it never got to are not among
        // those it named failing (behave names only the one it was running),
        // so a retry of those alone would pass a suite whose other tests
        // never ran.
        return (failing.is_empty() || !retried.is_empty()).then_some(Selection::All);
    }
    if retried.is_empty() {
        return None;
    }
    let selectors: Option<Vec<String>> = retried.iter().map(|case| case.selector.clone()).collect();
    Some(match selectors {
        Some(mut selectors) => {
            selectors.dedup();
            Selection::Only(selectors)
        }
        None => Selection::All,
    })
}

/// An attempt's result when it ran only `selection` (a retry, or the first
/// attempt of `--rerun-failed`), with only the selected tests' rows
/// ([`Selection::retain_selected`]), for every runner; a test the tool
/// itself ran again that failed, then was skipped, is failed
/// ([`fail_if_skipped_after_failure`]).
pub fn keep_selected(mut result: SuiteResult, selection: &Selection) -> SuiteResult {
    let reported = result.cases.len();
    if !selection.retain_selected(&mut result.cases) {
        log::warn!(
            "[{}] none of the {reported} reported tests is one of those selected; keeping them all",
            result.suite
        );
    }
    let warnings: Vec<String> = result
        .cases
        .iter_mut()
        .filter_map(fail_if_skipped_after_failure)
        .collect();
    result.warnings.extend(warnings);
    result
}

/// A test that failed and was skipped on a later run never passed: a skip
/// would let a failure pass the run (a test that skips itself when a
/// resource it broke is gone, a retry a tool's own rerun plugin skips). It
/// takes its last failure back as its own (status, message, type, details),
/// the failures before it stay its previous ones, and it is not flaky.
/// Returns the warning that says so; `None` (nothing changed) for any other
/// test.
fn fail_if_skipped_after_failure(case: &mut TestCase) -> Option<String> {
    if case.status != TestStatus::Skipped {
        return None;
    }
    let last = case.previous_failures.pop()?;
    let skipped = case.message.take();
    case.status = last.status;
    case.message = last.message;
    case.error_type = last.error_type;
    case.details = last.details;
    case.duration = last.duration;
    case.failures.clear();
    case.flaky = false;
    let why = skipped
        .as_deref()
        .and_then(|why| why.lines().map(str::trim).find(|line| !line.is_empty()))
        .map(|why| format!(" ({why})"))
        .unwrap_or_default();
    Some(format!(
        "{} failed, then was skipped when run again{why}: it never passed, so it counts as {}",
        case.label(),
        case.status
    ))
}

/// Folds attempt `next` (which ran `selection`) into `merged`.
///
/// - a selected test takes the status of its new attempt; failed then passed
///   makes it `flaky`; its attempt count grows by the runs of the new attempt
///   (more than one when the tool retried it itself), and its earlier
///   failures come before those the new attempt reports; failed, then
///   skipped, it stays failed ([`fail_if_skipped_after_failure`]);
/// - rows of one identity are as many tests, matched one to one, failing
///   ones first;
/// - rows the tool reports for tests that were not selected are ignored (behave
///   lists them as skipped), but for failures: a test the tool ran and says
///   failed fails, whether it passed before or is new;
/// - after a whole-suite re-run every reported test counts as re-run;
/// - suite-level error, exit code and log tail are those of the last attempt,
///   but an earlier suite error stands after a retry of only some tests (the
///   tool did not finish: the tests it never ran have not run); durations add up; artifacts, a test's attachments and leaked processes
///   accumulate.
pub fn merge(mut merged: SuiteResult, mut next: SuiteResult, selection: &Selection) -> SuiteResult {
    let next_outcome = next.outcome();
    if matches!(selection, Selection::All) {
        // The whole suite ran again: the tests an earlier attempt did not run
        // have had their run (if this one did not run them all either, it
        // says so with a row of its own).
        merged.cases.retain(|case| !case.is_unnamed_tests());
    }
    let selected: Option<HashSet<&str>> = match selection {
        Selection::All => None,
        Selection::Only(selectors) => Some(selectors.iter().map(String::as_str).collect()),
    };
    // An earlier suite error stands unless the whole suite ran again: a
    // retry of some tests says nothing of those the failed attempt never ran.
    let earlier_error = match (&merged.error, &selected) {
        (Some(error), Some(_)) => Some((merged.outcome(), error.clone())),
        _ => None,
    };
    if let Some(selected) = &selected {
        // A failure is kept, selected or not: the tool ran that test.
        next.cases
            .retain(|case| case.status.is_failure() || case.selector.as_deref().is_some_and(|s| selected.contains(s)));
    }
    // Where each case of `next` goes among the merged ones, matched on its
    // whole identity, else on the selector of a stand-in; `None` for a test
    // not seen before. A tool may report one identity more than once (two
    // tests it cannot tell apart, a run it repeated): each row is a test of
    // its own, as in the first attempt, and takes one merged row, the
    // failing ones first, so a failing row of the last attempt still fails.
    // Decided before any case moves, while `merged` is only borrowed.
    let targets: Vec<Option<usize>> = {
        let mut rows: HashMap<Identity<'_>, VecDeque<usize>> = HashMap::new();
        for (i, case) in merged.cases.iter().enumerate() {
            rows.entry(case.identity()).or_default().push_back(i);
        }
        for positions in rows.values_mut() {
            positions
                .make_contiguous()
                .sort_by_key(|&i| !merged.cases[i].status.is_failure());
        }
        let mut stand_ins: HashMap<&str, VecDeque<usize>> = HashMap::new();
        for (i, case) in merged.cases.iter().enumerate().filter(|(_, case)| case.is_unreported()) {
            if let Some(selector) = case.selector.as_deref() {
                stand_ins.entry(selector).or_default().push_back(i);
            }
        }
        let mut taken = HashSet::new();
        let mut take = |positions: Option<&mut VecDeque<usize>>| {
            let positions = positions?;
            while let Some(i) = positions.pop_front() {
                if taken.insert(i) {
                    return Some(i);
                }
            }
            None
        };
        next.cases
            .iter()
            .map(|case| {
                take(rows.get_mut(&case.identity()))
                    .or_else(|| take(case.selector.as_deref().and_then(|s| stand_ins.get_mut(s))))
            })
            .collect()
    };
    for (case, target) in next.cases.into_iter().zip(targets) {
        match target {
            // The test itself, where only its selector was known (it never
            // ran: a share that died, a test the tool did not run): this is
            // its first run, not a retry of a failure.
            Some(i) if merged.cases[i].is_unreported() => merged.cases[i] = case,
            Some(i) => {
                let old = &mut merged.cases[i];
                let mut updated = case;
                // The new attempt may itself have run the test more than once
                // (Playwright's own retries): its runs come after the old ones.
                updated.attempts = old.attempts.saturating_add(updated.attempts.max(1));
                let mut earlier = std::mem::take(&mut old.previous_failures);
                if old.status.is_failure() {
                    earlier.push(PriorFailure {
                        status: old.status,
                        message: old.message.take(),
                        error_type: old.error_type.take(),
                        details: old.details.take(),
                        duration: old.duration,
                    });
                }
                earlier.append(&mut updated.previous_failures);
                updated.previous_failures = earlier;
                // Every attempt's screenshots stay the test's own.
                let mut attachments = std::mem::take(&mut old.attachments);
                attachments.append(&mut updated.attachments);
                updated.attachments = attachments;
                merged.warnings.extend(fail_if_skipped_after_failure(&mut updated));
                updated.flaky = !updated.status.is_failure()
                    && updated.status != TestStatus::Skipped
                    && !updated.previous_failures.is_empty();
                *old = updated;
            }
            None => merged.cases.push(case),
        }
    }
    merged.duration += next.duration;
    merged.attempts += 1;
    merged.return_code = next.return_code;
    merged.tool.exit_code = next.tool.exit_code;
    merged.tool.error = next.tool.error;
    if merged.tool.version.is_none() {
        merged.tool.version = next.tool.version;
    }
    merged.log_tail = next.log_tail;
    for artifact in next.artifacts {
        if !merged.artifacts.contains(&artifact) {
            merged.artifacts.push(artifact);
        }
    }
    merged.leaked.extend(next.leaked);
    merged.warnings.extend(next.warnings);
    // The last attempt decides the suite-level verdict, when it re-ran the
    // whole suite.
    merged.clear_error();
    if let Some(error) = next.error {
        merged.set_error(next_outcome, error);
    } else if let Some((outcome, error)) = earlier_error {
        merged.set_error(outcome, error);
    }
    merged
}

#[cfg(test)]
mod tests {
    use runner_api::{SuiteOutcome, TestStatus};

    use super::*;

    fn case(selector: &str, status: TestStatus) -> TestCase {
        let mut case = TestCase::new(selector, "c", status);
        case.selector = Some(selector.to_string());
        case
    }

    fn result(cases: Vec<TestCase>) -> SuiteResult {
        let mut result = SuiteResult::new("unit", "pytest");
        result.cases = cases;
        result
    }

    #[test]
    fn only_failures_are_selected() {
        let first = result(vec![
            case("a", TestStatus::Passed),
            case("b", TestStatus::Failed),
            case("c", TestStatus::Error),
        ]);
        assert_eq!(
            next_selection(&first),
            Some(Selection::Only(vec!["b".into(), "c".into()]))
        );
        assert_eq!(next_selection(&result(vec![case("a", TestStatus::Passed)])), None);
    }

    #[test]
    fn a_crash_without_tests_reruns_everything() {
        let mut crashed = result(vec![]);
        crashed.set_error(SuiteOutcome::Errored, "pytest exited with code 3");
        assert_eq!(next_selection(&crashed), Some(Selection::All));
        let unselectable = result(vec![TestCase::new("x", "y", TestStatus::Failed)]);
        assert_eq!(next_selection(&unselectable), Some(Selection::All));
    }

    #[test]
    fn a_selected_attempt_keeps_only_the_selected_rows() {
        let reported = result(vec![
            case("a", TestStatus::Skipped),
            case("b", TestStatus::Failed),
            case("c", TestStatus::Skipped),
        ]);
        let kept = keep_selected(reported.clone(), &Selection::Only(vec!["b".into()]));
        let names: Vec<&str> = kept.cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["b"]);
        assert_eq!((kept.failed(), kept.skipped_cases()), (1, 0));
        // The whole suite: everything stays.
        assert_eq!(keep_selected(reported.clone(), &Selection::All).cases.len(), 3);
        // No row is one of the selected: rather keep what the tool reported.
        assert_eq!(
            keep_selected(reported, &Selection::Only(vec!["z".into()])).cases.len(),
            3
        );
    }

    #[test]
    fn failed_then_passed_is_flaky_and_unselected_rows_are_ignored() {
        let first = result(vec![
            case("a", TestStatus::Passed),
            case("b", TestStatus::Failed),
            case("c", TestStatus::Failed),
        ]);
        let selection = Selection::Only(vec!["b".into(), "c".into()]);
        // behave lists unselected scenarios as skipped in a re-run: "a" must keep its pass.
        let second = result(vec![
            case("a", TestStatus::Skipped),
            case("b", TestStatus::Passed),
            case("c", TestStatus::Failed),
        ]);
        let merged = merge(first, second, &selection);
        let by_name = |name: &str| merged.cases.iter().find(|c| c.name == name).expect("case");
        assert_eq!(
            (by_name("a").status, by_name("a").attempts, by_name("a").flaky),
            (TestStatus::Passed, 1, false)
        );
        assert_eq!(
            (by_name("b").status, by_name("b").attempts, by_name("b").flaky),
            (TestStatus::Passed, 2, true)
        );
        assert_eq!(
            (by_name("c").status, by_name("c").attempts, by_name("c").flaky),
            (TestStatus::Failed, 2, false)
        );
        assert_eq!(by_name("c").previous_failures.len(), 1);
        assert_eq!(
            (merged.passed(), merged.failed(), merged.flaky(), merged.attempts),
            (2, 1, 1, 2)
        );
        assert_eq!(merged.outcome(), SuiteOutcome::Failed);
    }

    fn failed(selector: &str, message: &str) -> TestCase {
        let mut case = case(selector, TestStatus::Failed);
        case.message = Some(message.to_string());
        case
    }

    #[test]
    fn failed_then_skipped_stays_failed_with_its_failure() {
        let mut skipped = case("b", TestStatus::Skipped);
        skipped.message = Some("resource gone".into());
        let merged = merge(
            result(vec![case("a", TestStatus::Passed), failed("b", "real failure")]),
            result(vec![skipped]),
            &Selection::Only(vec!["b".into()]),
        );
        let b = &merged.cases[1];
        assert_eq!(
            (b.status, b.attempts, b.flaky, b.message.as_deref()),
            (TestStatus::Failed, 2, false, Some("real failure"))
        );
        assert!(b.previous_failures.is_empty(), "{:?}", b.previous_failures);
        assert_eq!(merged.outcome(), SuiteOutcome::Failed);
        assert_eq!(
            merged.warnings,
            ["b failed, then was skipped when run again (resource gone): it never passed, so it counts as failed"]
        );
    }

    #[test]
    fn a_test_the_tool_ran_again_and_skipped_is_failed_too() {
        // One attempt: the tool's own retry (Playwright, pytest-rerunfailures)
        // failed it, then skipped it.
        let mut skipped = case("t", TestStatus::Skipped);
        skipped.attempts = 2;
        skipped.previous_failures.push(PriorFailure {
            status: TestStatus::Error,
            message: Some("TypeError: x".into()),
            error_type: Some("TypeError".into()),
            details: None,
            duration: 1.5,
        });
        let kept = keep_selected(result(vec![skipped, case("s", TestStatus::Skipped)]), &Selection::All);
        let t = &kept.cases[0];
        assert_eq!(
            (t.status, t.attempts, t.message.as_deref(), t.error_type.as_deref()),
            (TestStatus::Error, 2, Some("TypeError: x"), Some("TypeError"))
        );
        assert_eq!(kept.cases[1].status, TestStatus::Skipped, "never failed: a skip");
        assert_eq!((kept.errors(), kept.skipped_cases(), kept.warnings.len()), (1, 1, 1));
    }

    #[test]
    fn rows_of_one_identity_are_as_many_tests_and_a_failing_one_keeps_failing() {
        let selection = Selection::Only(vec!["b".into()]);
        let first = result(vec![case("a", TestStatus::Passed), failed("b", "x")]);
        // The retry's report has `b` twice: failing, then passing.
        let second = result(vec![failed("b", "again"), case("b", TestStatus::Passed)]);
        let merged = merge(first, second, &selection);
        let b: Vec<(TestStatus, u32, bool)> = (merged.cases.iter())
            .filter(|c| c.name == "b")
            .map(|c| (c.status, c.attempts, c.flaky))
            .collect();
        assert_eq!(b, [(TestStatus::Failed, 2, false), (TestStatus::Passed, 1, false)]);
        assert_eq!(merged.outcome(), SuiteOutcome::Failed);
        // Two rows of `b` before, one passing row now: it is the failing
        // row's retry; the passing row stands.
        let twice = result(vec![case("b", TestStatus::Passed), failed("b", "x")]);
        let merged = merge(twice, result(vec![case("b", TestStatus::Passed)]), &selection);
        let b: Vec<(TestStatus, u32, bool)> = merged.cases.iter().map(|c| (c.status, c.attempts, c.flaky)).collect();
        assert_eq!(b, [(TestStatus::Passed, 1, false), (TestStatus::Passed, 2, true)]);
    }

    #[test]
    fn runs_the_tool_retried_itself_add_to_the_attempts() {
        // Attempt 1: Playwright ran the test twice, failing both times.
        let mut first_case = case("t", TestStatus::Failed);
        first_case.attempts = 2;
        first_case.message = Some("second run".into());
        first_case.previous_failures.push(PriorFailure {
            status: TestStatus::Failed,
            message: Some("first run".into()),
            error_type: None,
            details: None,
            duration: 1.0,
        });
        first_case.attachments.push("/o/1.png".into());
        // Attempt 2: failed once more, then passed on Playwright's retry.
        let mut second_case = case("t", TestStatus::Passed);
        second_case.attempts = 2;
        second_case.flaky = true;
        second_case.previous_failures.push(PriorFailure {
            status: TestStatus::Failed,
            message: Some("third run".into()),
            error_type: None,
            details: None,
            duration: 1.0,
        });
        second_case.attachments.push("/o/attempt-2/3.png".into());
        let merged = merge(
            result(vec![first_case]),
            result(vec![second_case]),
            &Selection::Only(vec!["t".into()]),
        );
        let t = &merged.cases[0];
        assert_eq!((t.status, t.attempts, t.flaky), (TestStatus::Passed, 4, true));
        let messages: Vec<Option<&str>> = t.previous_failures.iter().map(|p| p.message.as_deref()).collect();
        assert_eq!(messages, [Some("first run"), Some("second run"), Some("third run")]);
        assert_eq!(
            t.attachments,
            [std::path::PathBuf::from("/o/1.png"), "/o/attempt-2/3.png".into()]
        );
    }

    #[test]
    fn an_earlier_error_stands_until_the_whole_suite_runs_again() {
        let mut first = result(vec![
            case("hangs", TestStatus::Error),
            case("flaky", TestStatus::Failed),
        ]);
        first.set_error(SuiteOutcome::TimedOut, "share 3/3: timed out after 3 s");
        let retried = Selection::Only(vec!["flaky".into()]);
        let merged = merge(first.clone(), result(vec![case("flaky", TestStatus::Passed)]), &retried);
        assert_eq!(merged.error.as_deref(), Some("share 3/3: timed out after 3 s"));
        assert_eq!(merged.outcome(), SuiteOutcome::TimedOut);
        // Every test it named, passing now: the tests it never got to have
        // still not run.
        let named = Selection::Only(vec!["hangs".into(), "flaky".into()]);
        let passed = || {
            result(vec![
                case("hangs", TestStatus::Passed),
                case("flaky", TestStatus::Passed),
            ])
        };
        let merged = merge(first.clone(), passed(), &named);
        assert_eq!(merged.outcome(), SuiteOutcome::TimedOut, "{:?}", merged.error);
        assert_eq!(merge(first, passed(), &Selection::All).error, None);
    }

    #[test]
    fn a_suite_error_reruns_the_whole_suite_even_when_it_named_failures() {
        // behave crashed while running `a2`: the one it names; `b1` and `b2`
        // it never reached are not among its cases.
        let mut crashed = result(vec![case("a1", TestStatus::Passed), case("a2", TestStatus::Error)]);
        crashed.set_error(SuiteOutcome::Errored, "behave exited with code 1");
        assert_eq!(next_selection(&crashed), Some(Selection::All));
        crashed.set_error(SuiteOutcome::TimedOut, "timed out after 4 s");
        assert_eq!(next_selection(&crashed), Some(Selection::All));
        // A retry policy that keeps none of its failures does not retry it.
        assert_eq!(selection_of(&crashed, |_| false), None);
        assert_eq!(selection_of(&result(vec![]), |_| false), None);
    }

    #[test]
    fn a_test_known_only_by_its_selector_takes_its_own_row_when_it_runs() {
        let stand_in = TestCase::unreported("t/test_a.py::test_x", "not reported: share 2/2 ended early".into());
        let merged = merge(
            result(vec![stand_in]),
            result(vec![case("t/test_a.py::test_x", TestStatus::Passed)]),
            &Selection::Only(vec!["t/test_a.py::test_x".into()]),
        );
        assert_eq!(merged.cases.len(), 1, "{:?}", merged.cases);
        let test = &merged.cases[0];
        assert_eq!((test.status, test.classname.as_str()), (TestStatus::Passed, "c"));
        assert!(test.previous_failures.is_empty(), "it never ran before: not flaky");
    }

    #[test]
    fn tests_that_did_not_run_stand_until_the_whole_suite_runs_again() {
        let unnamed = || TestCase::unnamed_tests("the tests it never ran", "", "2 of 3 did not run".into());
        let first = result(vec![case("a", TestStatus::Failed), unnamed()]);
        let only_a = merge(
            first.clone(),
            result(vec![case("a", TestStatus::Passed)]),
            &Selection::Only(vec!["a".into()]),
        );
        assert!(
            only_a.cases.iter().any(TestCase::is_unnamed_tests),
            "a retry of `a` says nothing of the others"
        );
        let whole = merge(
            first,
            result(vec![case("a", TestStatus::Passed), case("b", TestStatus::Passed)]),
            &Selection::All,
        );
        assert!(!whole.cases.iter().any(TestCase::is_unnamed_tests), "{:?}", whole.cases);
        assert_eq!(whole.cases.len(), 2);
    }

    #[test]
    fn last_attempt_decides_suite_error() {
        let mut first = result(vec![]);
        first.set_error(SuiteOutcome::Errored, "crashed");
        let second = result(vec![case("a", TestStatus::Passed)]);
        let merged = merge(first, second, &Selection::All);
        assert_eq!(merged.error, None);
        assert_eq!(merged.outcome(), SuiteOutcome::Passed);
        assert!(merged.outcome().is_success());
    }
}
