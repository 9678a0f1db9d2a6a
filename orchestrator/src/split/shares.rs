//! Running one attempt of a suite: as one process, or — the first attempt
//! of a split suite — as one process per share, concurrently, each in
//! `<suite out>/share-K/` and each holding a process slot, merged back into
//! one result. A share that crashes or times out makes that the suite's
//! error, and its tests that it did not report errored tests; the other
//! shares' tests keep their results. Retries select the failed tests of
//! every share at once and run as one process.
//!
//! A share that chose its own tests ([`Shares::Chosen`]) is known by what
//! it said it kept, before running any (`ShareTests`); the shares' words
//! are checked against each other ([`unaccounted`]). Where they do not
//! account for the whole suite, each test once — a share that died before
//! it said, shares that collected different tests — the suite gets an
//! errored case without a selector: no retry of some tests can clear it,
//! so the run fails, whatever a retry of the other shares' failures does.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use runner_api::{Selection, Share, ShareTests, SuiteContext, SuiteOutcome, SuiteResult, TestCase};

use super::slots::ProcessSlots;
use super::Shares;
use crate::attempts::keep_selected;
use crate::plan::PlannedSuite;

/// What one share runs.
#[derive(Clone, Copy)]
enum Part<'a> {
    /// These tests, listed by the planner.
    Listed(&'a [String]),
    /// Its own share of the whole suite, balanced by these durations (JSON,
    /// selector → seconds; `None` for by count).
    Chosen(Option<&'a str>),
}

/// Runs the attempt `ctx` describes with `run` (the runner, errors and
/// panics already turned into results), holding process slots.
pub(crate) fn run_attempt_in_slots(
    suite: &PlannedSuite,
    ctx: &SuiteContext,
    slots: &ProcessSlots,
    run: &(dyn Fn(&SuiteContext) -> SuiteResult + Sync),
) -> SuiteResult {
    if ctx.attempt > 1 || suite.shares.count() < 2 {
        // Only a cancel makes this wait end without a slot, and the runner
        // then stops at once on the same token.
        let _slot = slots.acquire(&ctx.cancel);
        return run(ctx);
    }
    let durations = match &suite.shares {
        Shares::Chosen { durations, .. } if !durations.is_empty() => serde_json::to_string(durations).ok(),
        _ => None,
    };
    let parts: Vec<Part<'_>> = match &suite.shares {
        Shares::Listed(lists) => lists.iter().map(|list| Part::Listed(list)).collect(),
        Shares::Chosen { count, .. } => vec![Part::Chosen(durations.as_deref()); *count],
        Shares::Whole => Vec::new(),
    };
    let total = parts.len();
    let started = std::time::Instant::now();
    let results: Vec<SuiteResult> = crossbeam_utils::thread::scope(|scope| {
        let handles: Vec<_> = (parts.iter().enumerate())
            .map(|(index, &part)| {
                let runner = suite.runner.name();
                scope.spawn(move |_| run_share(ctx, slots, run, runner, (index + 1, total), part))
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
    let chosen = matches!(suite.shares, Shares::Chosen { .. });
    let told: Vec<Option<ShareTests>> = results.iter().map(|result| result.share_tests.clone()).collect();
    let mut merged = merge_shares(&ctx.suite, suite.runner.name(), results);
    if chosen {
        once_at_worst(&mut merged.cases);
        // An interrupted run's shares stopped where they were: nothing to account for.
        let interrupted = merged.outcome() == SuiteOutcome::Interrupted;
        if let Some(why) = unaccounted(&told).filter(|_| !interrupted) {
            log::warn!("[{}] {why}", ctx.suite);
            merged.cases.push(TestCase::unnamed_tests(
                "the split suite's tests",
                &ctx.suite,
                format!("{why}: a test may have run twice or not at all"),
            ));
        }
    }
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

/// Share `number` of `total`: its own output directory, its own selection
/// (or, choosing its own tests, the durations to choose by).
fn run_share(
    ctx: &SuiteContext,
    slots: &ProcessSlots,
    run: &(dyn Fn(&SuiteContext) -> SuiteResult + Sync),
    runner: &str,
    (number, total): (usize, usize),
    part: Part<'_>,
) -> SuiteResult {
    let mut share = ctx.clone();
    share.output_dir = ctx.output_dir.join(format!("share-{number}"));
    let prepared = runner_api::outdir::create_fresh_dir(&share.output_dir).and_then(|()| match part {
        Part::Listed(selectors) => {
            share.selection = Selection::Only(selectors.to_vec());
            Ok(())
        }
        Part::Chosen(durations) => {
            share.share = Some(Share {
                number,
                total,
                durations: durations
                    .map(|json| write_durations(&share.output_dir, json))
                    .transpose()?,
            });
            Ok(())
        }
    });
    if let Err(err) = prepared {
        let message = format!("cannot prepare output directory {}: {err}", share.output_dir.display());
        return SuiteResult::errored(&ctx.suite, runner, message);
    }
    let Some(_slot) = slots.acquire(&ctx.cancel) else {
        let mut result = SuiteResult::new(&ctx.suite, runner);
        result.set_error(SuiteOutcome::Interrupted, "not started: the run was interrupted");
        return result;
    };
    match part {
        Part::Listed(selectors) => {
            log::info!(
                "[{}] share {number}/{total}: {} tests in {}",
                ctx.suite,
                selectors.len(),
                share.output_dir.display()
            );
            let mut result = keep_selected(run(&share), &share.selection);
            unreported_as_errors(&mut result, selectors, (number, total), false);
            result
        }
        Part::Chosen(_) => {
            log::info!(
                "[{}] share {number}/{total} in {}",
                ctx.suite,
                share.output_dir.display()
            );
            let mut result = run(&share);
            if let Some(told) = result.share_tests.take() {
                // A test it said it kept and never reported did not run,
                // whether or not the share ended early.
                unreported_as_errors(&mut result, &told.kept, (number, total), true);
                result.share_tests = Some(told);
            }
            result
        }
    }
}

/// What every share reports beyond its own tests (a module that cannot be
/// imported, collected by each) counts once, at its worst: a test two
/// shares ran (which [`unaccounted`] fails anyway) keeps its failure.
fn once_at_worst(cases: &mut Vec<TestCase>) {
    let mut kept_at: HashMap<String, usize> = HashMap::new();
    let mut keep = vec![true; cases.len()];
    for (index, case) in cases.iter().enumerate() {
        match kept_at.entry(case.label()) {
            std::collections::hash_map::Entry::Vacant(entry) => {
                entry.insert(index);
            }
            std::collections::hash_map::Entry::Occupied(mut entry) => {
                let earlier = *entry.get();
                if case.status.is_failure() && !cases[earlier].status.is_failure() {
                    keep[earlier] = false;
                    entry.insert(index);
                } else {
                    keep[index] = false;
                }
            }
        }
    }
    let mut keep = keep.into_iter();
    cases.retain(|_| keep.next().unwrap_or(true));
}

/// Writes the durations a share chooses its tests by into its output
/// directory (never the project), for its tool to read.
fn write_durations(dir: &Path, json: &str) -> std::io::Result<PathBuf> {
    let path = dir.join("durations.json");
    let mut file = runner_api::outdir::create_file(&path)?;
    std::io::Write::write_all(&mut file, json.as_bytes())?;
    Ok(path)
}

/// Why the shares that chose their own tests do not account for the whole
/// suite, each test once; `None` when they do. Each share says how many
/// tests it collected, a digest of their names, and which it kept; they
/// must all have said, have collected the same tests (equal counts are
/// not enough: ids drawn at random, a file one process skips), and kept
/// disjoint lists that together are that many.
///
/// What a share says comes from its live stream, which its tests can write
/// into too. Only the first whole list of a share counts (the plugin writes
/// it before any test runs), and its only use is to make errors of the
/// tests it names that the share did not report: naming more tests can only
/// fail the suite, and the statuses are always the report's. These checks
/// catch shares that collected differently, died or were cut short; they do
/// not stop a project's own `conftest.py` that writes consistent lists for
/// every share (it runs inside pytest, where it could as well deselect the
/// test in an unsplit run).
pub(crate) fn unaccounted(told: &[Option<ShareTests>]) -> Option<String> {
    let total = told.len();
    let mut owner: BTreeMap<&str, usize> = BTreeMap::new();
    let mut whole: Option<(usize, &str)> = None;
    for (index, tests) in told.iter().enumerate() {
        let number = index + 1;
        let Some(tests) = tests else {
            return Some(format!("share {number}/{total} did not say which tests it kept"));
        };
        let (Some(count), Some(digest)) = (tests.collected, tests.digest.as_deref()) else {
            return Some(format!("share {number}/{total} did not say which tests it collected"));
        };
        match whole {
            Some(earlier) if earlier != (count, digest) => {
                return Some(format!(
                    "the shares collected different tests (share {number}/{total}: {count})"
                ));
            }
            _ => whole = Some((count, digest)),
        }
        for selector in &tests.kept {
            if let Some(other) = owner.insert(selector, number) {
                return Some(format!("shares {other} and {number} of {total} both kept `{selector}`"));
            }
        }
    }
    match whole {
        Some((collected, _)) if collected != owner.len() => Some(format!(
            "the shares kept {} of the {collected} tests each collected",
            owner.len()
        )),
        _ => None,
    }
}

/// A share that crashed or timed out may not have reported some of its
/// tests (every one, when its tool wrote no report): each becomes an errored
/// test naming why, so that a retry selects exactly them, beside the other
/// shares' failures, rather than the whole suite. An interrupted share's
/// tests just did not run. With `always`, so does a test of a share that
/// ended by itself without reporting it.
fn unreported_as_errors(result: &mut SuiteResult, selectors: &[String], (number, total): (usize, usize), always: bool) {
    let why = match (&result.error, result.outcome()) {
        (Some(error), SuiteOutcome::Errored | SuiteOutcome::TimedOut) => format!("ended early: {error}"),
        (_, SuiteOutcome::Interrupted) => return,
        _ if always => "ended without running it".to_string(),
        _ => return,
    };
    let reported: HashSet<&str> = result
        .cases
        .iter()
        .filter_map(|case| case.selector.as_deref())
        .collect();
    let missing: Vec<TestCase> = (selectors.iter())
        .filter(|selector| !reported.contains(selector.as_str()))
        .map(|selector| TestCase::unreported(selector, format!("not reported: share {number}/{total} {why}")))
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
        if merged.tool.version.is_none() {
            merged.tool.version = share.tool.version;
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
    use runner_api::TestStatus;

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

    fn told(collected: Option<(usize, &str)>, kept: &[&str]) -> Option<ShareTests> {
        Some(ShareTests {
            collected: collected.map(|(count, _)| count),
            digest: collected.map(|(_, digest)| digest.to_string()),
            kept: kept.iter().map(|selector| selector.to_string()).collect(),
        })
    }

    #[test]
    fn shares_that_chose_their_tests_must_account_for_the_suite_each_test_once() {
        let same = |count| Some((count, "d1"));
        assert_eq!(unaccounted(&[told(same(3), &["a", "c"]), told(same(3), &["b"])]), None);
        let said = |told: &[Option<ShareTests>]| unaccounted(told).unwrap_or_default();
        assert_eq!(
            said(&[told(same(2), &["a"]), None]),
            "share 2/2 did not say which tests it kept"
        );
        assert_eq!(
            said(&[told(same(2), &["a"]), told(None, &["b"])]),
            "share 2/2 did not say which tests it collected",
            "what is not known is not taken on trust"
        );
        assert_eq!(
            said(&[told(same(3), &["a"]), told(same(3), &["b"])]),
            "the shares kept 2 of the 3 tests each collected",
            "a list cut short (or forged) hides no test"
        );
        assert_eq!(
            said(&[told(same(3), &["a", "b"]), told(same(2), &["c"])]),
            "the shares collected different tests (share 2/2: 2)"
        );
        assert_eq!(
            said(&[told(same(2), &["a"]), told(Some((2, "d2")), &["b"])]),
            "the shares collected different tests (share 2/2: 2)",
            "as many tests, not the same ones: ids drawn at random"
        );
        assert_eq!(
            said(&[told(same(2), &["a", "b"]), told(same(2), &["b"])]),
            "shares 1 and 2 of 2 both kept `b`"
        );
    }

    #[test]
    fn a_test_two_shares_reported_counts_once_with_its_failure() {
        let mut cases: Vec<TestCase> = [
            ("a", TestStatus::Passed),
            ("b", TestStatus::Passed),
            ("a", TestStatus::Failed),
        ]
        .into_iter()
        .map(|(name, status)| TestCase::new(name, "c", status))
        .collect();
        cases.push(TestCase::new("b", "c", TestStatus::Passed));
        once_at_worst(&mut cases);
        let left: Vec<(&str, TestStatus)> = cases.iter().map(|case| (case.name.as_str(), case.status)).collect();
        assert_eq!(left, [("b", TestStatus::Passed), ("a", TestStatus::Failed)]);
    }

    #[test]
    fn tests_a_crashed_share_did_not_report_are_errors_to_retry() {
        let selectors = ["a".to_string(), "b".to_string()];
        let mut reported = TestCase::new("a", "c", TestStatus::Passed);
        reported.selector = Some("a".into());
        let mut timed_out = share(&[], 4);
        timed_out.cases.push(reported);
        timed_out.set_error(SuiteOutcome::TimedOut, "timed out after 4 s");
        unreported_as_errors(&mut timed_out, &selectors, (2, 3), false);
        let b = &timed_out.cases[1];
        assert_eq!((b.selector.as_deref(), b.status), (Some("b"), TestStatus::Error));
        assert_eq!(
            b.message.as_deref(),
            Some("not reported: share 2/3 ended early: timed out after 4 s")
        );
        assert_eq!(timed_out.total(), 2, "a keeps its pass");

        let mut interrupted = share(&[], 1);
        interrupted.set_error(SuiteOutcome::Interrupted, "interrupted");
        unreported_as_errors(&mut interrupted, &selectors, (1, 3), true);
        assert_eq!(interrupted.total(), 0, "an interrupted share's tests just did not run");

        let mut finished = share(&[], 1);
        unreported_as_errors(&mut finished, &selectors, (1, 3), false);
        assert_eq!(
            finished.total(),
            0,
            "a listed share's missing tests are the planner's to check"
        );
        unreported_as_errors(&mut finished, &selectors, (1, 3), true);
        assert_eq!(finished.errors(), 2, "a share's own choice it did not run is an error");
        assert_eq!(
            finished.cases[0].message.as_deref(),
            Some("not reported: share 1/3 ended without running it")
        );
    }
}
