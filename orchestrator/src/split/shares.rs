//! Running one attempt of a suite: as one process, or — the first attempt
//! of a split suite — as one process per share, concurrently, each in
//! `<suite out>/share-K/` and each holding a process slot, merged back into
//! one result. A share that crashes or times out makes that the suite's
//! error, and its tests that it did not report errored tests; the other
//! shares' tests keep their results. Retries select the failed tests of
//! every share at once and run as one process.

use std::collections::{HashMap, HashSet};

use runner_api::{Selection, SuiteContext, SuiteOutcome, SuiteResult, TestCase, TestStatus};

use super::slots::ProcessSlots;
use crate::attempts::keep_selected;
use crate::plan::PlannedSuite;

/// Runs the attempt `ctx` describes with `run` (the runner, errors and
/// panics already turned into results), holding process slots.
pub(crate) fn run_attempt_in_slots(
    suite: &PlannedSuite,
    ctx: &SuiteContext,
    slots: &ProcessSlots,
    run: &(dyn Fn(&SuiteContext) -> SuiteResult + Sync),
) -> SuiteResult {
    if ctx.attempt > 1 || suite.shares.len() < 2 {
        // Only a cancel makes this wait end without a slot, and the runner
        // then stops at once on the same token.
        let _slot = slots.acquire(&ctx.cancel);
        return run(ctx);
    }
    let total = suite.shares.len();
    let started = std::time::Instant::now();
    let results: Vec<SuiteResult> = crossbeam_utils::thread::scope(|scope| {
        let handles: Vec<_> = (suite.shares.iter().enumerate())
            .map(|(index, share)| {
                let runner = suite.runner.name();
                scope.spawn(move |_| run_share(ctx, slots, run, runner, (index + 1, total), share))
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle.join().unwrap_or_else(|_| {
                    SuiteResult::errored(&ctx.suite, suite.runner.name(), "a share's thread panicked")
                })
            })
            .collect()
    })
    // Every handle is joined above, so the scope itself cannot fail; were it
    // to, an empty list would read as a suite without failures.
    .unwrap_or_else(|_| {
        vec![SuiteResult::errored(
            &ctx.suite,
            suite.runner.name(),
            "a share's thread panicked",
        )]
    });
    let mut merged = merge_shares(&ctx.suite, suite.runner.name(), results);
    // From the first share's start to the last one's end: shares may wait
    // for a process slot, so the slowest share alone can be far shorter.
    merged.duration = started.elapsed();
    merged.output_dir = Some(ctx.output_dir.clone());
    // The tests in the order the tool listed them, as an unsplit run reports them.
    if let Selection::Only(listing) = &ctx.selection {
        let position: HashMap<&str, usize> = (listing.iter().enumerate())
            .map(|(index, selector)| (selector.as_str(), index))
            .collect();
        merged.cases.sort_by_key(|case| {
            (case.selector.as_deref())
                .and_then(|selector| position.get(selector).copied())
                .unwrap_or(usize::MAX)
        });
    }
    merged
}

/// Share `number` of `total`: its own output directory, its own selection.
fn run_share(
    ctx: &SuiteContext,
    slots: &ProcessSlots,
    run: &(dyn Fn(&SuiteContext) -> SuiteResult + Sync),
    runner: &str,
    (number, total): (usize, usize),
    selectors: &[String],
) -> SuiteResult {
    let mut share = ctx.clone();
    share.output_dir = ctx.output_dir.join(format!("share-{number}"));
    share.selection = Selection::Only(selectors.to_vec());
    if let Err(err) = runner_api::outdir::create_fresh_dir(&share.output_dir) {
        let message = format!("cannot prepare output directory {}: {err}", share.output_dir.display());
        return SuiteResult::errored(&ctx.suite, runner, message);
    }
    let Some(_slot) = slots.acquire(&ctx.cancel) else {
        let mut result = SuiteResult::new(&ctx.suite, runner);
        result.set_error(SuiteOutcome::Interrupted, "not started: the run was interrupted");
        return result;
    };
    log::info!(
        "[{}] share {number}/{total}: {} tests in {}",
        ctx.suite,
        selectors.len(),
        share.output_dir.display()
    );
    let mut result = keep_selected(run(&share), &share.selection);
    unreported_as_errors(&mut result, selectors, (number, total));
    result
}

/// A share that crashed or timed out may not have reported some of its
/// tests (every one, when its tool wrote no report): each becomes an errored
/// test naming why, so that a retry selects exactly them, beside the other
/// shares' failures, rather than the whole suite. An interrupted share's
/// tests just did not run.
fn unreported_as_errors(result: &mut SuiteResult, selectors: &[String], (number, total): (usize, usize)) {
    let (Some(error), SuiteOutcome::Errored | SuiteOutcome::TimedOut) = (&result.error, result.outcome()) else {
        return;
    };
    let reported: HashSet<&str> = result
        .cases
        .iter()
        .filter_map(|case| case.selector.as_deref())
        .collect();
    let missing: Vec<TestCase> = (selectors.iter())
        .filter(|selector| !reported.contains(selector.as_str()))
        .map(|selector| {
            let mut case = TestCase::new(selector.as_str(), "", TestStatus::Error);
            case.selector = Some(selector.clone());
            case.message = Some(format!("not reported: share {number}/{total} ended early: {error}"));
            case
        })
        .collect();
    result.cases.extend(missing);
}

/// The shares' results as one attempt of the suite: every share's tests;
/// the wall time of the slowest share; each share's error, named by its
/// share, as the suite's error (the worst ending wins); the exit code of the
/// first share that did not exit 0.
fn merge_shares(suite: &str, runner: &str, shares: Vec<SuiteResult>) -> SuiteResult {
    let total = shares.len();
    let mut merged = SuiteResult::new(suite, runner);
    for (index, share) in shares.into_iter().enumerate() {
        let outcome = share.outcome();
        if merged.tool.name.is_empty() {
            merged.tool.name = share.tool.name.clone();
        }
        merged.tool.executed |= share.tool.executed;
        // The first share that did not exit 0 (killed ones have no code) speaks for all.
        if index == 0 || (merged.return_code == Some(0) && share.return_code != Some(0)) {
            merged.return_code = share.return_code;
            merged.tool.exit_code = share.tool.exit_code;
        }
        if merged.tool.error.is_none() {
            merged.tool.error = share.tool.error;
        }
        if let Some(error) = share.error {
            merged.set_error(outcome, format!("share {}/{total}: {error}", index + 1));
            if merged.log_tail.is_none() {
                merged.log_tail = share.log_tail;
            }
        }
        merged.duration = merged.duration.max(share.duration);
        merged.cases.extend(share.cases);
        for artifact in share.artifacts {
            if !merged.artifacts.contains(&artifact) {
                merged.artifacts.push(artifact);
            }
        }
        merged.leaked.extend(share.leaked);
    }
    merged
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn share(cases: &[(&str, TestStatus)], seconds: u64) -> SuiteResult {
        let mut result = SuiteResult::new("unit", "pytest");
        result.cases = (cases.iter())
            .map(|(name, status)| TestCase::new(*name, "c", *status))
            .collect();
        result.duration = Duration::from_secs(seconds);
        result.return_code = Some(i32::from(result.failed() > 0));
        result
    }

    #[test]
    fn shares_merge_into_one_attempt() {
        let first = share(&[("a", TestStatus::Passed), ("b", TestStatus::Passed)], 3);
        let second = share(&[("c", TestStatus::Failed)], 5);
        let merged = merge_shares("unit", "pytest", vec![first, second]);
        assert_eq!((merged.passed(), merged.failed(), merged.total()), (2, 1, 3));
        assert_eq!(merged.duration, Duration::from_secs(5), "the slowest share's wall time");
        assert_eq!(merged.return_code, Some(1));
        assert_eq!((merged.attempts, merged.outcome()), (1, SuiteOutcome::Failed));
    }

    #[test]
    fn a_timed_out_share_is_the_suites_error_and_the_others_stay() {
        let first = share(&[("a", TestStatus::Passed)], 1);
        let mut second = share(&[], 10);
        second.set_error(SuiteOutcome::TimedOut, "timed out after 10 s");
        let merged = merge_shares("unit", "pytest", vec![first, second]);
        assert_eq!(merged.outcome(), SuiteOutcome::TimedOut);
        assert_eq!(merged.error.as_deref(), Some("share 2/2: timed out after 10 s"));
        assert_eq!(merged.passed(), 1);
    }

    #[test]
    fn tests_a_crashed_share_did_not_report_are_errors_to_retry() {
        let selectors = ["a".to_string(), "b".to_string()];
        let mut reported = TestCase::new("a", "c", TestStatus::Passed);
        reported.selector = Some("a".into());
        let mut timed_out = share(&[], 4);
        timed_out.cases.push(reported);
        timed_out.set_error(SuiteOutcome::TimedOut, "timed out after 4 s");
        unreported_as_errors(&mut timed_out, &selectors, (2, 3));
        let b = &timed_out.cases[1];
        assert_eq!((b.selector.as_deref(), b.status), (Some("b"), TestStatus::Error));
        assert_eq!(
            b.message.as_deref(),
            Some("not reported: share 2/3 ended early: timed out after 4 s")
        );
        assert_eq!(timed_out.total(), 2, "a keeps its pass");

        let mut interrupted = share(&[], 1);
        interrupted.set_error(SuiteOutcome::Interrupted, "interrupted");
        unreported_as_errors(&mut interrupted, &selectors, (1, 3));
        assert_eq!(interrupted.total(), 0, "an interrupted share's tests just did not run");
    }
}
