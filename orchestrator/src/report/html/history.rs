//! The history: the project's earlier runs in the same runs directory, as a
//! strip of outcomes per test (a test flaky across runs shows as a mixed
//! strip) and the runs' wall times (the duration trend).

use std::collections::HashMap;
use std::path::Path;

use evidence::{LoadedRun, RawRecord, RunStatus};
use serde::Serialize;

use super::data::letter;

/// The runs the history covers, oldest first, the reported run last.
#[derive(Serialize, Default)]
pub(super) struct History {
    runs: Vec<RunPoint>,
    /// How many of the earlier runs (the newest) the tests' strips cover.
    strip_runs: usize,
}

/// At most this many earlier records are read for the strips: ten earlier
/// runs of 100,000 tests would add seconds to the end of every run, so the
/// strips of such a project cover fewer runs than its trend.
const STRIP_RECORDS: u64 = 200_000;

/// One run of the history.
#[derive(Serialize)]
struct RunPoint {
    id: String,
    status: Option<RunStatus>,
    wall_seconds: Option<f64>,
    tests: u64,
    failed: u64,
    flaky: u64,
}

/// Up to `limit` finished runs of `run`'s project that are older than it,
/// oldest first, from the directory holding `run`.
pub(super) fn earlier_runs(run: &LoadedRun, limit: usize) -> Vec<LoadedRun> {
    let Some(root) = run.dir.parent() else {
        return Vec::new();
    };
    let project = Path::new(&run.manifest.target.path);
    let listed = match evidence::runs_newest_first(root) {
        Ok(listed) => listed,
        Err(err) => {
            log::debug!("no history: {err}");
            return Vec::new();
        }
    };
    let mut runs: Vec<LoadedRun> = listed
        // Run ids sort as their times do.
        .filter(|listed| listed.run_id < run.run_id && listed.belongs_to(project))
        // A whole run's history is of whole runs, not of the shares it may be merged from.
        .filter(|listed| {
            run.manifest.partition.is_some()
                || listed
                    .manifest
                    .as_ref()
                    .is_ok_and(|manifest| manifest.partition.is_none())
        })
        .filter(|listed| !matches!(listed.status(), Some(RunStatus::Running | RunStatus::Crashed) | None))
        .take(limit)
        .filter_map(|listed| {
            let manifest = *listed.manifest.ok()?;
            Some(LoadedRun {
                run_id: listed.run_id,
                dir: listed.dir,
                manifest,
                crashed: false,
            })
        })
        .collect();
    runs.reverse();
    runs
}

/// One test's outcomes and durations in the earlier runs, oldest first.
#[derive(Clone, Default, Debug, PartialEq)]
pub(super) struct Strip {
    /// A status letter per run, `k` for a flaky pass, `-` where the run did not have the test.
    pub(super) outcomes: String,
    /// Seconds per run, `None` where the run did not have the test.
    pub(super) durations: Vec<Option<f64>>,
}

/// The history of `run` over `earlier` runs, and the [`Strip`] of each of
/// its `rows` tests (placed by identity in `positions`).
pub(super) fn history(
    run: &LoadedRun,
    earlier: &[LoadedRun],
    positions: &HashMap<String, usize>,
    rows: usize,
) -> (History, Vec<Strip>) {
    let mut history = History::default();
    if earlier.is_empty() {
        history.runs.push(point(run));
        return (history, vec![Strip::default(); rows]);
    }
    let mut budget = STRIP_RECORDS;
    let covered = earlier
        .iter()
        .rev()
        .take_while(|old| {
            let fits = old.manifest.counts.tests <= budget;
            budget = budget.saturating_sub(old.manifest.counts.tests);
            fits
        })
        .count();
    history.strip_runs = covered;
    history.runs.extend(earlier.iter().map(point));
    let mut outcomes = vec![vec![b'-'; covered]; rows];
    let mut durations = vec![vec![None; covered]; rows];
    for (column, old) in earlier[earlier.len() - covered..].iter().enumerate() {
        let Ok(mut records) = old.records() else { continue };
        while let Some(Ok(record)) = records.next_raw() {
            if let Some(&row) = positions.get(&identity(&record, &record.name())) {
                outcomes[row][column] = outcome_letter(&record);
                durations[row][column] = record.duration().map(|seconds| (seconds * 1000.0).round() / 1000.0);
            }
        }
    }
    history.runs.push(point(run));
    let strips = outcomes
        .into_iter()
        .zip(durations)
        .map(|(outcomes, durations)| Strip {
            outcomes: String::from_utf8_lossy(&outcomes).into_owned(),
            durations,
        })
        .collect();
    (history, strips)
}

fn point(run: &LoadedRun) -> RunPoint {
    RunPoint {
        id: run.run_id.clone(),
        status: run.status(),
        wall_seconds: run.manifest.wall_seconds,
        tests: run.manifest.counts.tests,
        failed: run.manifest.counts.tests_failed,
        flaky: run.manifest.counts.tests_flaky,
    }
}

/// What tells a test (named `name`) apart from the others of its run: its
/// suite and selector, else its class and name.
pub(super) fn identity(record: &RawRecord<'_>, name: &str) -> String {
    let suite = record.suite();
    match record.meta_str("selector") {
        Some(selector) => format!("{suite}\u{1f}{selector}"),
        None => {
            let classname = record.meta_str("classname").unwrap_or_default();
            format!("{suite}\u{1f}{classname}\u{1f}{name}")
        }
    }
}

fn outcome_letter(record: &RawRecord<'_>) -> u8 {
    if record.flaky() {
        return b'k';
    }
    letter(record.status).as_bytes()[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: &str, tests: u64) -> LoadedRun {
        LoadedRun {
            run_id: id.to_string(),
            dir: std::path::PathBuf::from("/nonexistent").join(id),
            manifest: serde_json::from_value(serde_json::json!({"run_id": id, "counts": {"tests": tests}}))
                .expect("manifest"),
            crashed: false,
        }
    }

    #[test]
    fn strips_of_large_runs_cover_fewer_runs_than_the_trend() {
        let earlier = [run("20260101_000000Z", 150_000), run("20260102_000000Z", 150_000)];
        let (large, strips) = history(&run("20260103_000000Z", 200_000), &earlier, &HashMap::new(), 2);
        assert_eq!((large.runs.len(), large.strip_runs), (3, 1));
        let outcomes: Vec<&str> = strips.iter().map(|strip| strip.outcomes.as_str()).collect();
        assert_eq!(outcomes, ["-", "-"]);
        assert_eq!(strips[0].durations, [None]);
        let small = [run("20260101_000000Z", 10), run("20260102_000000Z", 10)];
        let (covered, strips) = history(&run("20260103_000000Z", 10), &small, &HashMap::new(), 1);
        assert_eq!((covered.runs.len(), covered.strip_runs), (3, 2));
        assert_eq!(strips[0].outcomes, "--");
    }
}
