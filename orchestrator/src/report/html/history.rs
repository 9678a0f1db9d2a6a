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
}

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
    let listed = match evidence::list_runs(root) {
        Ok(listed) => listed,
        Err(err) => {
            log::debug!("no history: {err}");
            return Vec::new();
        }
    };
    let mut runs: Vec<LoadedRun> = listed
        .into_iter()
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

/// The history of `run` over `earlier` runs, and for each of its `rows`
/// tests (placed by identity in `positions`) its outcomes in those runs,
/// oldest first: a status letter, `k` for a flaky pass, `-` where the run
/// did not have the test.
pub(super) fn history(
    run: &LoadedRun,
    earlier: &[LoadedRun],
    positions: &HashMap<String, usize>,
    rows: usize,
) -> (History, Vec<String>) {
    let mut history = History::default();
    if earlier.is_empty() {
        history.runs.push(point(run));
        return (history, vec![String::new(); rows]);
    }
    let mut strips = vec![vec![b'-'; earlier.len()]; rows];
    for (column, old) in earlier.iter().enumerate() {
        history.runs.push(point(old));
        let Ok(mut records) = old.records() else { continue };
        while let Some(Ok(record)) = records.next_raw() {
            if let Some(&row) = positions.get(&identity(&record, &record.name())) {
                strips[row][column] = outcome_letter(&record);
            }
        }
    }
    history.runs.push(point(run));
    let strips = strips
        .into_iter()
        .map(|strip| String::from_utf8_lossy(&strip).into_owned())
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
