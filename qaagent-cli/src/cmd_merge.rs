//! `qaagent merge`: the shares of a partitioned run, combined into one run
//! by the engine ([`orchestrator::merge`]), with a short summary and the
//! merged verdict's exit code; inputs that are not one complete partitioned
//! run exit 2 naming what is wrong.

use std::path::PathBuf;

use clap::Args;
use orchestrator::merge::{self, MergeOptions, MergeReport, Shard};
use orchestrator::run::Verdict;

use crate::error::CliError;
use crate::exit;
use crate::reporter::summary::plural;
use crate::reporter::untrusted::printable;
use crate::reporter::{to_stderr, to_stdout};

/// `qaagent merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shares: run directories, bundles from `qaagent runs export`
    /// (`*.tar.gz`), or run ids in --runs-dir.
    #[arg(value_name = "RUN_DIR_OR_BUNDLE", required = true)]
    pub runs: Vec<PathBuf>,
    /// Where to write the merged run (and find run ids) [default: $QAAGENT_RUNS_DIR, else ~/.qaagent/runs].
    #[arg(long, value_name = "DIR")]
    pub runs_dir: Option<PathBuf>,
    /// Also write the merged run's JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Merge even when shares are missing or did not finish; the merged run
    /// is marked partial (status `incomplete`) and never passes.
    #[arg(long)]
    pub allow_partial: bool,
}

/// Runs `qaagent merge`.
pub(crate) fn run(args: &MergeArgs) -> Result<u8, CliError> {
    let root = evidence::runs_root(args.runs_dir.clone()).map_err(CliError::Runs)?;
    let shards = (args.runs.iter())
        .map(|what| Shard::open(what, &root))
        .collect::<Result<Vec<_>, _>>()?;
    let options = MergeOptions {
        runs_dir: Some(root),
        junit: args.junit.clone(),
        allow_partial: args.allow_partial,
    };
    let report = merge::merge(shards, &options)?;
    let paused = crate::github::active().then(|| crate::github::Paused::start(false));
    print(&report);
    if let Some(paused) = paused {
        paused.resume();
        crate::github::publish(&report.run_dir, false);
    }
    let code = exit::for_verdict(report.verdict);
    if report.verdict == Verdict::NoTests {
        to_stderr("error: no tests ran in any shard");
    }
    Ok(code)
}

fn print(report: &MergeReport) {
    let counts = &report.manifest.counts;
    let shards = report
        .manifest
        .extra
        .get("merged_from")
        .and_then(|v| v.as_array())
        .map_or(0, Vec::len);
    to_stdout(&format!(
        "merged {}: {}, {} passed, {} failed, {} skipped{}",
        plural(shards, "shard"),
        plural(counts.tests, "test"),
        counts.tests_passed,
        counts.tests_failed,
        counts.tests_skipped,
        if counts.tests_flaky > 0 {
            format!(" ({} flaky)", counts.tests_flaky)
        } else {
            String::new()
        }
    ));
    let width = (report.manifest.suites.iter())
        .map(|suite| suite.name.chars().count())
        .max()
        .unwrap_or(0);
    for suite in &report.manifest.suites {
        to_stdout(&format!(
            "  {:<width$}  {:<5}  {}, {} failed, {} errors",
            printable(&suite.name),
            suite.outcome.label(),
            plural(suite.tests, "test"),
            suite.failed,
            suite.errors
        ));
    }
    for warning in &report.warnings {
        to_stderr(&format!("warning: {}", printable(warning)));
    }
    for reason in &report.partial {
        to_stderr(&format!("warning: partial merge: {}", printable(reason)));
    }
    for error in &report.errors {
        to_stderr(&format!("error: {}", printable(error)));
    }
    let status = report.manifest.status.map_or("unknown", |status| status.as_str());
    to_stdout(&format!("status: {status}"));
    to_stdout(&format!("evidence: {}", report.run_dir.display()));
}
