//! `qaagent runs list`: one line (or JSON object) per recorded run, newest first.

use std::io::Write;
use std::path::PathBuf;

use evidence::{Counts, ListedRun, LoadedRun};
use serde::Serialize;

use super::records::read_records;
use super::status::{damaged_word, status_problem, status_word};
use super::{human_seconds, io_error, ListArgs};
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
                let loaded = LoadedRun {
                    run_id: run.run_id.clone(),
                    dir: run.dir.clone(),
                    manifest: (**manifest).clone(),
                    crashed: run.crashed,
                };
                let mut problems: Vec<String> = status_problem(run.status(), manifest).into_iter().collect();
                problems.extend(read_records(&loaded).problems);
                ListRow {
                    run_id: run.run_id.clone(),
                    dir: run.dir.clone(),
                    status: status_word(run.status()),
                    created_at: Some(manifest.created_at.clone()).filter(|c| !c.is_empty()),
                    finished_at: manifest.finished_at.clone(),
                    wall_seconds: manifest.wall_seconds,
                    project: Some(manifest.target.name.clone()).filter(|n| !n.is_empty()),
                    counts: Some(manifest.counts.clone()),
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

pub(super) fn list(args: &ListArgs) -> Result<u8, CliError> {
    let root = evidence::runs_root(args.store.runs_dir.clone()).map_err(CliError::Runs)?;
    let mut runs = evidence::list_runs(&root).map_err(CliError::Runs)?;
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
        writeln!(out, "no runs in {}", root.display()).map_err(io_error)?;
        return Ok(exit::SUCCESS);
    }
    write_list(&mut out, &rows).map_err(io_error)?;
    if rows.len() < total {
        writeln!(out, "({} of {total} runs shown; --limit N shows more)", rows.len()).map_err(io_error)?;
    }
    Ok(exit::SUCCESS)
}

/// The `runs list` table: left-aligned text, right-aligned numbers, the problems last.
fn write_list(out: &mut impl Write, rows: &[ListRow]) -> std::io::Result<()> {
    const HEADERS: [&str; 11] = [
        "RUN", "CREATED", "STATUS", "TESTS", "PASSED", "FAILED", "ERRORS", "SKIPPED", "FLAKY", "WALL", "NOTE",
    ];
    const NUMERIC: [bool; 11] = [false, false, false, true, true, true, true, true, true, true, false];
    let cells: Vec<[String; 11]> = rows
        .iter()
        .map(|row| {
            let count = |pick: fn(&Counts) -> u64| {
                row.counts
                    .as_ref()
                    .map_or_else(|| "-".to_string(), |c| pick(c).to_string())
            };
            [
                row.run_id.clone(),
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
