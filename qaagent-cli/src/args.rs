//! Command-line arguments, parsed by clap and then turned into validated
//! settings before any work starts.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// qaagent runs a project's test suites — pytest, behave, Playwright and
/// more — one after another or side by side, and records every run as evidence.
#[derive(Debug, Parser)]
#[command(name = "qaagent", version, about, propagate_version = true)]
pub struct Cli {
    /// Run as if started in DIR (where `.qaagent.toml` is looked for).
    #[arg(short = 'C', long = "directory", value_name = "DIR", global = true)]
    pub directory: Option<PathBuf>,

    /// Use this config file instead of looking for `.qaagent.toml`.
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,

    /// More logging (-v info, -vv debug, -vvv trace); `RUST_LOG` also works.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the project's enabled test suites and record the run as evidence.
    RunAll(RunAllArgs),
    /// List, show or prune recorded runs.
    #[command(subcommand)]
    Runs(crate::cmd_runs::RunsCommand),
    /// Check the project's config, or import a Python qaagent profile.
    #[command(subcommand)]
    Config(crate::cmd_config::ConfigCommand),
    /// Combine the shard runs of `run-all --partition K/N` into one run with one verdict.
    Merge(crate::cmd_merge::MergeArgs),
    /// Write a starter `.qaagent.toml` for the suites found in the project.
    Init(crate::cmd_init::InitArgs),
}

/// `qaagent run-all`.
#[derive(Debug, Args)]
pub struct RunAllArgs {
    /// Run suites side by side (overrides `run.parallel`).
    #[arg(long)]
    pub parallel: bool,

    /// Run suites one after another (overrides `run.parallel = true`).
    #[arg(long, conflicts_with = "parallel")]
    pub sequential: bool,

    /// At most N suites at once when parallel (overrides `run.max_workers`).
    #[arg(long, value_name = "N")]
    pub max_workers: Option<usize>,

    /// Give failing tests up to N more attempts (overrides `run.retry_count`).
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,

    /// Time allowed per suite attempt, in seconds or with a unit (`90s`, `5m`);
    /// overrides every configured timeout.
    #[arg(long, value_name = "S", allow_hyphen_values = true)]
    pub timeout: Option<String>,

    /// Run only this suite (repeatable); runs it even if disabled in config.
    #[arg(long = "suite", value_name = "NAME")]
    pub suites: Vec<String>,

    /// Put the suites' output directories here instead of in the run's `artifacts/`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Where evidence runs are stored [default: $QAAGENT_RUNS_DIR, else ~/.qaagent/runs].
    #[arg(long, value_name = "DIR")]
    pub runs_dir: Option<PathBuf>,

    /// The `[app.NAME]` environment whose base_url to export as BASE_URL.
    #[arg(long = "env", value_name = "NAME")]
    pub env_name: Option<String>,

    /// What to do when no test ran.
    #[arg(long, value_enum, default_value_t = NoTests::Fail)]
    pub no_tests: NoTests,

    /// `human`, or `json`: newline-delimited events on stdout (human output moves to stderr).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Tool output on the terminal: `never` (it stays in the logs) or
    /// `immediate` (every line as it comes, prefixed with its suite).
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = OutputMode::Never)]
    pub output: OutputMode,

    /// One plain line per event instead of the live display.
    #[arg(long)]
    pub no_progress: bool,

    /// Colour: `auto` (a terminal, unless NO_COLOR is set), `always` or `never`.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Also write one merged JUnit XML report of the run to FILE (for CI).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Run only the tests that failed in evidence run RUN (an id, `latest`, the
    /// default, or a bundle from `qaagent runs export`).
    #[arg(long, value_name = "RUN", num_args = 0..=1, default_missing_value = "latest")]
    pub rerun_failed: Option<String>,

    /// With --rerun-failed: also re-run from a run that did not finish (interrupted, crashed,
    /// incomplete, still running), taking the failures it recorded; they may not be all.
    #[arg(long, requires = "rerun_failed")]
    pub allow_unfinished: bool,

    /// Run only share K of N (`2/4`) of the tests, for a CI matrix of N machines that each run
    /// the same command; `auto` takes K and N from the CI's variables. Merge the N runs with
    /// `qaagent merge`.
    #[arg(long, value_name = "K/N")]
    pub partition: Option<String>,

    /// With --partition: balance the shares by the durations in FILE (from `qaagent runs
    /// durations`) instead of by count.
    #[arg(long, value_name = "FILE", requires = "partition")]
    pub durations: Option<PathBuf>,

    /// Run each suite's tests as N processes of its tool at once (`auto`: as many as are worth
    /// it), balanced by the durations of the latest runs (overrides `split` in the config;
    /// `--split 1` turns splitting off).
    /// Playwright suites are never split: they have workers of their own.
    #[arg(long, value_name = "N|auto", value_parser = parse_split)]
    pub split: Option<orchestrator::split::Split>,

    /// What a flaky test (failed, then passed on a retry) means for the exit code
    /// (overrides `run.flaky`).
    #[arg(long, value_enum, value_name = "POLICY")]
    pub flaky: Option<Flaky>,
}

/// `--flaky`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Flaky {
    /// The run passes.
    Pass,
    /// The run passes with a warning.
    Warn,
    /// The run fails.
    Fail,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people.
    Human,
    /// Newline-delimited JSON events on stdout.
    Json,
}

/// `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputMode {
    /// Tool output stays in the suites' log files.
    Never,
    /// Stream every line of tool output, prefixed with its suite.
    Immediate,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour a terminal unless NO_COLOR is set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// `--no-tests`: whether a run in which no test ran fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NoTests {
    /// Exit 0 silently.
    Pass,
    /// Exit 0 with a warning.
    Warn,
    /// Exit 4.
    Fail,
}

/// `--split N|auto`, as `split` is written in the config.
fn parse_split(text: &str) -> Result<orchestrator::split::Split, String> {
    match text {
        "auto" => Ok(orchestrator::split::Split::Auto),
        n => match n.parse::<u32>() {
            // 0 is refused with the other run options' checks.
            Ok(count) if count <= orchestrator::split::MAX_SHARES => Ok(orchestrator::split::Split::Shares(count)),
            Ok(_) => Err(format!(
                "at most {} processes, found `{n}`",
                orchestrator::split::MAX_SHARES
            )),
            Err(_) => Err(format!("expected a number of processes or `auto`, found `{n}`")),
        },
    }
}
