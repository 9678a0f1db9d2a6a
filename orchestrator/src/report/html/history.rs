//! The history: the project's earlier runs in the same runs directory, as a
//! strip of outcomes per test (a test flaky across runs shows as a mixed
//! strip) and the runs' wall times (the duration trend).

use std::collections::HashMap;
use std::path::Path;

use evidence::{LoadedRun, RunStatus, TestRecord};
use serde::Serialize;
use serde_json::Value;

use super::data::{letter, suite_of};

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

/// The history, and for each record of the reported run (in order) its
/// outcomes in the earlier runs, oldest first: a status letter, `k` for a
/// flaky pass, `-` where the run did not have the test.
pub(super) struct Strips {
    pub(super) history: History,
    pub(super) per_test: Vec<String>,
}

/// The [`Strips`] of `run`'s `records` over up to `limit` earlier runs of its project.
pub(super) fn strips(run: &LoadedRun, records: &[TestRecord], limit: usize) -> Strips {
    let earlier = earlier_runs(run, limit);
    let mut history = History::default();
    if earlier.is_empty() {
        history.runs.push(point(run));
        return Strips {
            history,
            per_test: vec![String::new(); records.len()],
        };
    }
    let position: HashMap<String, usize> = records
        .iter()
        .enumerate()
        .map(|(i, record)| (identity(record), i))
        .collect();
    let mut strips = vec![vec![b'-'; earlier.len()]; records.len()];
    for (column, old) in earlier.iter().enumerate() {
        history.runs.push(point(old));
        let Ok(old_records) = old.records() else { continue };
        for record in old_records.map_while(Result::ok) {
            if let Some(&row) = position.get(&identity(&record)) {
                strips[row][column] = outcome_letter(&record);
            }
        }
    }
    history.runs.push(point(run));
    Strips {
        history,
        per_test: strips
            .into_iter()
            .map(|strip| String::from_utf8_lossy(&strip).into_owned())
            .collect(),
    }
}

/// Up to `limit` finished runs of `run`'s project that are older than it,
/// oldest first, from the directory holding `run`.
fn earlier_runs(run: &LoadedRun, limit: usize) -> Vec<LoadedRun> {
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

/// What tells a test apart from the others of its run: its suite and
/// selector, else its class and name.
fn identity(record: &TestRecord) -> String {
    let suite = suite_of(record);
    match record.metadata.get("selector").and_then(Value::as_str) {
        Some(selector) => format!("{suite}\u{1f}{selector}"),
        None => {
            let classname = record.metadata.get("classname").and_then(Value::as_str).unwrap_or("");
            format!("{suite}\u{1f}{classname}\u{1f}{}", record.name)
        }
    }
}

fn outcome_letter(record: &TestRecord) -> u8 {
    if record.metadata.get("flaky").and_then(Value::as_bool) == Some(true) {
        return b'k';
    }
    letter(record.status).as_bytes()[0]
}
