//! `qaagent runs list` and `qaagent runs show`: recorded runs, read back.
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
mod list;
mod records;
mod show;
mod show_text;
mod status;

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::error::CliError;

/// `qaagent runs …`.
#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// List recorded runs, newest first: id, created, status, counts, wall time.
    List(ListArgs),
    /// Show one run: suites, failures, flaky tests, diagnostics and artifacts.
    Show(ShowArgs),
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
}

/// `qaagent runs show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Where to read runs from.
    #[command(flatten)]
    pub store: RunsDirArg,
    /// The run id, as `qaagent runs list` shows it, `latest` for the newest
    /// run, or a bundle from `qaagent runs export` (`*.tar.gz`).
    #[arg(value_name = "RUN_ID|latest|BUNDLE")]
    pub run: String,
    /// Print one JSON document on stdout: manifest, failures, flaky tests, diagnostics, artifacts.
    #[arg(long)]
    pub json: bool,
    /// Also write the run's merged JUnit XML report to FILE, as `run-all --junit` does.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// Runs `qaagent runs …`.
pub fn run(command: &RunsCommand) -> Result<u8, CliError> {
    match command {
        RunsCommand::List(args) => list::list(args),
        RunsCommand::Show(args) => show::show(args),
        RunsCommand::Export(args) => bundle::export(args),
    }
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
