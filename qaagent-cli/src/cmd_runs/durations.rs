//! `qaagent runs durations`: the durations file `run-all --partition
//! --durations` balances shares with, from stored runs.

use std::path::PathBuf;

use evidence::RunStatus;
use orchestrator::partition::Durations;

use super::{runs_in_scope, DurationsArgs};
use crate::error::CliError;
use crate::exit;
use crate::reporter::to_stdout;

/// How many of the newest finished runs are read when none are named.
const DEFAULT_RUNS: usize = 5;

/// Runs `qaagent runs durations`.
/// Without run ids it reads the newest finished runs of `project` (all
/// runs with `None`).
pub(super) fn durations(args: &DurationsArgs, project: &Option<PathBuf>) -> Result<u8, CliError> {
    let (root, listed, _) = runs_in_scope(&args.store, project)?;
    let ids: Vec<String> = if args.runs.is_empty() {
        (listed.into_iter())
            .filter(|run| matches!(run.status(), Some(RunStatus::Passed | RunStatus::Failed)))
            .take(args.last.unwrap_or(DEFAULT_RUNS))
            .map(|run| run.run_id)
            .collect()
    } else {
        args.runs.clone()
    };
    if ids.is_empty() {
        return Err(CliError::Usage(format!(
            "no finished runs in {} to take durations from",
            root.display()
        )));
    }
    let runs = ids
        .iter()
        .map(|id| evidence::load_run(&root, id))
        .collect::<Result<Vec<_>, _>>()
        .map_err(CliError::Runs)?;
    let durations = Durations::from_runs(&runs);
    evidence::write_atomically(&args.output, durations.to_json().as_bytes()).map_err(CliError::Runs)?;
    let (tests, suites) = durations.len();
    to_stdout(&format!(
        "wrote {}: {tests} tests in {suites} suites, the median of {} run(s)",
        args.output.display(),
        runs.len()
    ));
    Ok(exit::SUCCESS)
}
