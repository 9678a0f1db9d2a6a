//! `qaagent runs list`, `show`, `durations`, `flaky` and `prune`: recorded
//! runs, read back or removed.
//!
//! Runs are the current project's by default — the project whose
//! `.qaagent.toml` is found from `-C` / the current directory (or named by
//! `--config`), matched by the project directory each manifest records in
//! `target.path` — and every run in the runs dir with `--all` or where no
//! project config is found. `latest` is the newest run of that scope; an
//! explicit run id names its run whatever its project.
//!
//! Both go through the evidence crate's reading side and never give up
//! because one run is damaged. `runs list` shows a run whose `manifest.json`
//! is missing (a run killed while being created), unreadable or corrupt as
//! `incomplete` / `unreadable` / `corrupt` with what is wrong, and notes bad
//! lines in a listed run's `tests.jsonl`. A run whose writer could not write
//! all its evidence is `incomplete` with the reason; a `running` run whose
//! writer is gone is `crashed`. `runs show` prints everything it can read of
//! a damaged, incomplete or crashed run, lists the problems, and exits with
//! [`crate::exit::EVIDENCE_DAMAGED`]; a wrong run id is a usage error (exit 2)
//! with a hint.

pub(crate) mod bundle;
mod durations;
mod flaky;
mod list;
mod prune;
mod records;
mod show;
mod show_text;
mod status;

use std::path::PathBuf;

use clap::{ArgGroup, Args, Subcommand};
use orchestrator::config::ConfigError;

use crate::args::Cli;
use crate::error::CliError;

/// `qaagent runs …`.
#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// List recorded runs of this project (--all: of every project), newest first.
    List(ListArgs),
    /// Show one run (default: the latest): suites, failures, flaky tests, diagnostics and artifacts.
    Show(ShowArgs),
    /// Write the median test durations of stored runs, for `run-all --partition --durations`.
    Durations(DurationsArgs),
    /// How often each test failed or was flaky over the last runs of this project, worst first.
    Flaky(FlakyArgs),
    /// Remove old runs of this project (--all: of every project), never one still being written.
    Prune(PruneArgs),
    /// Write a run as one .tar.gz file, to hand on between CI jobs.
    Export(bundle::ExportArgs),
}

/// Where to read runs from.
#[derive(Debug, Args)]
pub struct RunsDirArg {
    /// Where evidence runs are stored [default: $QAAGENT_RUNS_DIR, else ~/.qaagent/runs].
    #[arg(long, value_name = "DIR")]
    pub runs_dir: Option<PathBuf>,
}

/// `qaagent runs list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Where to read runs from.
    #[command(flatten)]
    pub store: RunsDirArg,
    /// Show only the newest N runs.
    #[arg(long, short = 'n', value_name = "N")]
    pub limit: Option<usize>,
    /// Print one JSON array on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
    /// List the runs of every project, not only the current one's.
    #[arg(long)]
    pub all: bool,
}

/// `qaagent runs show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Where to read runs from.
    #[command(flatten)]
    pub store: RunsDirArg,
    /// The run id, as `qaagent runs list` shows it, `latest` for the newest
    /// run of this project, or a bundle from `qaagent runs export` (`*.tar.gz`).
    #[arg(value_name = "RUN_ID|latest|BUNDLE", default_value = evidence::LATEST)]
    pub run: String,
    /// Print one JSON document on stdout: manifest, failures, flaky tests, diagnostics, artifacts.
    #[arg(long)]
    pub json: bool,
    /// Also write the run's merged JUnit XML report to FILE, as `run-all --junit` does.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write the run's HTML report, to `<run>/report.html` or `-o FILE`.
    #[arg(long)]
    pub html: bool,
    /// Where `--html` writes the report [default: `<run>/report.html`; for a
    /// bundle `./report.html`, whose links to the run's files lead nowhere once
    /// the command ends: a bundle already holds its run's report.html].
    #[arg(long, short = 'o', value_name = "FILE", requires = "html")]
    pub output: Option<PathBuf>,
}

/// `qaagent runs durations`.
#[derive(Debug, Args)]
pub struct DurationsArgs {
    /// Where to read runs from.
    #[command(flatten)]
    pub store: RunsDirArg,
    /// The runs to read [default: the newest finished ones].
    #[arg(value_name = "RUN_ID")]
    pub runs: Vec<String>,
    /// Without RUN_IDs: how many of the newest finished runs to read [default: 5].
    #[arg(long, value_name = "N", conflicts_with = "runs")]
    pub last: Option<usize>,
    /// The durations file to write.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,
}

/// `qaagent runs flaky`.
#[derive(Debug, Args)]
pub struct FlakyArgs {
    /// Where to read runs from.
    #[command(flatten)]
    pub store: RunsDirArg,
    /// How many of the newest finished runs to read (the shares of a partitioned run count
    /// as one) [default: 20].
    #[arg(long, value_name = "N")]
    pub last: Option<usize>,
    /// Print one JSON array on stdout: per test, suite, test, selector, runs, passed, failed,
    /// flaky, flipped, flake_rate, last_failed.
    #[arg(long, conflicts_with = "suggest_quarantine")]
    pub json: bool,
    /// Print [[quarantine]] entries for the flakiest tests, ready to paste into .qaagent.toml.
    #[arg(long)]
    pub suggest_quarantine: bool,
}

/// `qaagent runs prune`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which").required(true).multiple(true).args(["keep", "older_than"])))]
pub struct PruneArgs {
    /// Where to read runs from.
    #[command(flatten)]
    pub store: RunsDirArg,
    /// Keep the newest N runs; remove the older ones.
    #[arg(long, value_name = "N")]
    pub keep: Option<usize>,
    /// Remove the runs created more than DAYS days ago (with --keep: only
    /// those of them beyond the newest N).
    #[arg(long, value_name = "DAYS")]
    pub older_than: Option<u32>,
    /// Prune the runs of every project, not only the current one's.
    #[arg(long)]
    pub all: bool,
    /// Say what would be removed, and remove nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Runs `qaagent runs …`.
pub fn run(cli: &Cli, command: &RunsCommand) -> Result<u8, CliError> {
    match command {
        RunsCommand::List(args) => list::list(args, &project(cli, args.all)?),
        RunsCommand::Show(args) => show::show(args, &project(cli, false)?),
        RunsCommand::Prune(args) => prune::prune(args, &project(cli, args.all)?),
        RunsCommand::Durations(args) => durations::durations(args, &project(cli, false)?),
        RunsCommand::Flaky(args) => flaky::flaky(args, &project(cli, false)?),
        RunsCommand::Export(args) => bundle::export(args, &project(cli, false)?),
    }
}

/// The project whose runs a command looks at: `None` for every run, with
/// `all` or when no project config is found.
fn project(cli: &Cli, all: bool) -> Result<Option<PathBuf>, CliError> {
    if all {
        return Ok(None);
    }
    match crate::commands::config_file(cli) {
        Ok(file) => Ok(file.parent().map(PathBuf::from)),
        Err(CliError::Config(ConfigError::NotFound { .. })) => Ok(None),
        Err(err) => Err(err),
    }
}

/// The runs root, its runs of `project` (all with `None`), newest first, and
/// how many runs it holds in all.
fn runs_in_scope(
    store: &RunsDirArg,
    project: &Option<PathBuf>,
) -> Result<(PathBuf, Vec<evidence::ListedRun>, usize), CliError> {
    let root = evidence::runs_root(store.runs_dir.clone()).map_err(CliError::Runs)?;
    let mut runs = evidence::list_runs(&root).map_err(CliError::Runs)?;
    let everyone = runs.len();
    if let Some(project) = project {
        runs.retain(|run| run.belongs_to(project));
    }
    Ok((root, runs, everyone))
}

fn io_error(source: std::io::Error) -> CliError {
    CliError::Io {
        what: "cannot write output".into(),
        source,
    }
}

/// `0.42s`, `12.3s`, `4m 05s`, `1h 02m`.
fn human_seconds(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "-".into();
    }
    if secs < 10.0 {
        return format!("{secs:.2}s");
    }
    if secs < 60.0 {
        return format!("{secs:.1}s");
    }
    let whole = secs.round() as u64;
    if whole < 3600 {
        format!("{}m {:02}s", whole / 60, whole % 60)
    } else {
        format!("{}h {:02}m", whole / 3600, (whole % 3600) / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(human_seconds(0.4213), "0.42s");
        assert_eq!(human_seconds(12.34), "12.3s");
        assert_eq!(human_seconds(245.0), "4m 05s");
        assert_eq!(human_seconds(3725.0), "1h 02m");
        assert_eq!(human_seconds(f64::NAN), "-");
    }
}
