//! `qaagent runs list`: one line (or JSON object) per recorded run, newest first.
//!
//! Only the manifests are read: their counts are the run's, so a listing of
//! large runs costs one small file each. A run that did not finish (running
//! or crashed) is the exception: its manifest counts only the suites that
//! ended, so its records are counted, as `runs show` does. Bad lines in a
//! run's `tests.jsonl` are reported by `runs show`.

use std::io::Write;
use std::path::{Path, PathBuf};

use evidence::{Counts, ListedRun, LoadedRun, Manifest, RunStatus};
use serde::Serialize;

use super::records::read_records;
use super::status::{damaged_word, status_problem, status_word};
use super::{human_seconds, io_error, runs_in_scope, ListArgs};
use crate::error::CliError;
use crate::exit;
use crate::reporter::untrusted::printable;

/// One row of `runs list`, also its JSON form.
#[derive(Debug, Serialize)]
struct ListRow {
    run_id: String,
    dir: PathBuf,
    /// `passed`, `failed`, `running`, `interrupted`, `incomplete` (some
    /// evidence could not be written), `crashed` (its writer died),
    /// `unknown` (no status recorded, as in the Python qaagent's runs), or
    /// for a damaged run `incomplete` (no manifest), `unreadable`, `corrupt`.
    status: String,
    created_at: Option<String>,
    finished_at: Option<String>,
    wall_seconds: Option<f64>,
    project: Option<String>,
    counts: Option<Counts>,
    /// What is wrong with the run's files, if anything.
    problems: Vec<String>,
}

impl ListRow {
    fn new(run: &ListedRun) -> Self {
        match &run.manifest {
            Ok(manifest) => {
                let problems: Vec<String> = status_problem(run.status(), manifest).into_iter().collect();
                ListRow {
                    run_id: run.run_id.clone(),
                    dir: run.dir.clone(),
                    status: status_word(run.status()),
                    created_at: Some(manifest.created_at.clone()).filter(|c| !c.is_empty()),
                    finished_at: manifest.finished_at.clone(),
                    wall_seconds: manifest.wall_seconds,
                    project: Some(manifest.target.name.clone()).filter(|n| !n.is_empty()),
                    counts: Some(listed_counts(run, manifest)),
                    problems,
                }
            }
            Err(problem) => ListRow {
                run_id: run.run_id.clone(),
                dir: run.dir.clone(),
                status: damaged_word(problem).to_string(),
                created_at: None,
                finished_at: None,
                wall_seconds: None,
                project: None,
                counts: None,
                problems: vec![problem.to_string()],
            },
        }
    }
}

/// The counts of `run`: its manifest's, or for a run that did not finish its
/// records' (the manifest's counts cover only the suites that ended).
fn listed_counts(run: &ListedRun, manifest: &Manifest) -> Counts {
    if !matches!(run.status(), Some(RunStatus::Running | RunStatus::Crashed)) {
        return manifest.counts.clone();
    }
    let tally = read_records(&LoadedRun {
        run_id: run.run_id.clone(),
        dir: run.dir.clone(),
        manifest: manifest.clone(),
        crashed: run.crashed,
    });
    if !tally.present {
        return manifest.counts.clone();
    }
    Counts {
        tests: tally.total,
        tests_passed: tally.passed,
        tests_failed: tally.failed + tally.errors,
        tests_errors: tally.errors,
        tests_skipped: tally.skipped,
        tests_flaky: tally.flaky,
        ..manifest.counts.clone()
    }
}

/// `project`: list only its runs; `None`: every run in the runs dir.
pub(super) fn list(args: &ListArgs, project: &Option<PathBuf>) -> Result<u8, CliError> {
    let (root, mut runs, everyone) = runs_in_scope(&args.store, project)?;
    let total = runs.len();
    if let Some(limit) = args.limit {
        runs.truncate(limit);
    }
    let rows: Vec<ListRow> = runs.iter().map(ListRow::new).collect();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &rows).map_err(|err| io_error(err.into()))?;
        writeln!(out).map_err(io_error)?;
        return Ok(exit::SUCCESS);
    }
    if rows.is_empty() {
        match project {
            Some(project) => writeln!(out, "no runs of {} in {}", project.display(), root.display()),
            None => writeln!(out, "no runs in {}", root.display()),
        }
        .map_err(io_error)?;
    } else {
        write_list(&mut out, &rows).map_err(io_error)?;
    }
    if rows.len() < total {
        writeln!(out, "({} of {total} runs shown; --limit N shows more)", rows.len()).map_err(io_error)?;
    }
    if let Some(project) = project.as_deref().filter(|_| everyone > total) {
        writeln!(out, "{}", others_note(project, everyone - total)).map_err(io_error)?;
    }
    Ok(exit::SUCCESS)
}

/// Says that runs of other projects were left out, and how to see them.
pub(super) fn others_note(project: &Path, others: usize) -> String {
    format!(
        "(runs of {} only; {others} other run(s) in the runs dir: --all shows every project's)",
        printable(&project.display().to_string())
    )
}

/// The `runs list` table: left-aligned text, right-aligned numbers, the problems last.
fn write_list(out: &mut impl Write, rows: &[ListRow]) -> std::io::Result<()> {
    const HEADERS: [&str; 12] = [
        "RUN", "PROJECT", "CREATED", "STATUS", "TESTS", "PASSED", "FAILED", "ERRORS", "SKIPPED", "FLAKY", "WALL",
        "NOTE",
    ];
    const NUMERIC: [bool; 12] = [
        false, false, false, false, true, true, true, true, true, true, true, false,
    ];
    let cells: Vec<[String; 12]> = rows
        .iter()
        .map(|row| {
            let count = |pick: fn(&Counts) -> u64| {
                row.counts
                    .as_ref()
                    .map_or_else(|| "-".to_string(), |c| pick(c).to_string())
            };
            [
                row.run_id.clone(),
                row.project.clone().unwrap_or_else(|| "-".into()),
                row.created_at.clone().unwrap_or_else(|| "-".into()),
                row.status.clone(),
                count(|c| c.tests),
                count(|c| c.tests_passed),
                // The manifest's `tests_failed` includes the errors (for the Python readers).
                count(|c| c.tests_failed.saturating_sub(c.tests_errors)),
                count(|c| c.tests_errors),
                count(|c| c.tests_skipped),
                count(|c| c.tests_flaky),
                row.wall_seconds.map_or_else(|| "-".into(), human_seconds),
                row.problems.join("; "),
            ]
            // A manifest or tests.jsonl may hold anything a tool (or a hand edit) put there.
            .map(|cell| printable(&cell).into_owned())
        })
        .collect();
    let mut widths = HEADERS.map(str::len);
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut line = |cells: &[String]| -> std::io::Result<()> {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i == cells.len() - 1 {
                text.push_str(cell);
            } else if NUMERIC[i] {
                text.push_str(&format!("{cell:>width$}  ", width = widths[i]));
            } else {
                text.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        writeln!(out, "{}", text.trim_end())
    };
    line(&HEADERS.map(str::to_string))?;
    for row in &cells {
        line(row)?;
    }
    Ok(())
}
