//! `qaagent config check`: validates the config and prints the plan — the
//! suites in run order with their runners and paths, and for each enabled
//! suite the tool its runner would start and that tool's version (for Python
//! tools, the interpreter picked too).
//!
//! An invalid config is a usage error (exit 2) whose message names the file,
//! line and column. A valid config under which a suite cannot run — its tool
//! is not installed (and the run would not install it), or its path does not
//! exist — exits 1, each problem shown with a hint: the run would fail that
//! suite. Disabling the suite is how to run without it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use orchestrator::config::{Config, SuiteConfig};
use orchestrator::plan::{Overrides, Plan, PlannedSuite};
use orchestrator::registry::Registry;
use orchestrator::split::Split;
use runner_api::probe::PROBE_TIMEOUT;
use runner_api::{redact, Runner, SuiteContext};

use crate::args::Cli;
use crate::error::CliError;
use crate::exit;
use crate::reporter::summary::plural;

/// How long all the tools together get to report their versions.
const VERSION_DEADLINE: Duration = Duration::from_secs(30);

/// The runners whose tool runs under a Python interpreter picked by
/// [`runner_api::python::find_python`], with the package that provides the tool.
const PYTHON_RUNNERS: &[(&str, &str)] = &[("pytest", "pytest"), ("behave", "behave")];

/// `qaagent config …`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the config and print the plan: suites, runners, paths, tools and their versions.
    Check(CheckArgs),
    /// Write the .qaagent.toml equivalent to a Python qaagent profile (.qaagent.yaml), listing what it drops.
    Import(crate::config_import::ImportArgs),
}

/// `qaagent config check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Show the base URL of this `[app.NAME]` environment (checks that it exists).
    #[arg(long = "env", value_name = "NAME")]
    pub env_name: Option<String>,
}

/// Runs `qaagent config …`.
pub fn run(cli: &Cli, command: &ConfigCommand, registry: &Registry) -> Result<u8, CliError> {
    match command {
        ConfigCommand::Check(args) => check(cli, args, registry),
        ConfigCommand::Import(args) => crate::config_import::run(cli, args, registry),
    }
}

/// What was found out about one enabled suite's tool.
struct ToolReport {
    /// The interpreter line, for Python runners: `Ok((path, where it came from))` or why none.
    python: Option<Result<(PathBuf, &'static str), String>>,
    /// The tool's version, `None` when it could not be asked.
    version: Option<String>,
    /// Without a version: why, when the tool is there all the same.
    unknown_because: Option<String>,
    /// The probe did not answer within the deadline.
    timed_out: bool,
}

fn check(cli: &Cli, args: &CheckArgs, registry: &Registry) -> Result<u8, CliError> {
    let config = crate::commands::load_config(cli, registry)?;
    let base_url = config.resolve_base_url(args.env_name.as_deref())?;
    let plan = Plan::new(&config, registry, &Overrides::default(), base_url)?;
    let scratch = tempfile::Builder::new()
        .prefix("qaagent-config-check-")
        .tempdir()
        .map_err(|source| CliError::Io {
            what: "cannot create a temporary directory".into(),
            source,
        })?;
    let reports = probe_tools(&plan, scratch.path());

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let problems = write_check(&mut out, &config, &plan, &reports).map_err(|source| CliError::Io {
        what: "cannot write output".into(),
        source,
    })?;
    // The run would fail such a suite: so does the check.
    Ok(if problems > 0 { exit::TEST_FAILED } else { exit::SUCCESS })
}

/// Asks every planned suite's runner for its tool's version, all at once, for
/// at most [`VERSION_DEADLINE`]; a probe still busy then is reported as timed out.
fn probe_tools(plan: &Plan, scratch: &Path) -> Vec<ToolReport> {
    let (tx, rx) = crossbeam_channel::unbounded();
    for suite in &plan.suites {
        let ctx = suite_context(plan, &suite.config, scratch);
        let runner = suite.runner.clone();
        let index = suite.index;
        let tx = tx.clone();
        // Detached: a tool that hangs must not hang `config check`; it dies with the process.
        let spawned = std::thread::Builder::new()
            .name(format!("probe-{}", suite.config.name))
            .spawn(move || {
                let python = python_for(runner.as_ref(), &ctx);
                let asked = Instant::now();
                let version = runner.tool_version(&ctx);
                // The probe's own limit ran out (it says so in a warning).
                let probe_limit = ctx.timeout.map_or(PROBE_TIMEOUT, |timeout| timeout.min(PROBE_TIMEOUT));
                let timed_out = version.is_none() && asked.elapsed() >= probe_limit;
                let unknown_because = match version {
                    Some(_) => None,
                    None => runner.version_unknown_because(&ctx),
                };
                let _ = tx.send((
                    index,
                    ToolReport {
                        python,
                        version,
                        unknown_because,
                        timed_out,
                    },
                ));
            });
        if let Err(err) = spawned {
            log::warn!("cannot start a thread to ask {}'s version: {err}", suite.config.name);
        }
    }
    drop(tx);
    let mut reports: Vec<ToolReport> = plan
        .suites
        .iter()
        .map(|_| ToolReport {
            python: None,
            version: None,
            unknown_because: None,
            timed_out: true,
        })
        .collect();
    let deadline = Instant::now() + VERSION_DEADLINE;
    while let Ok((index, report)) = rx.recv_deadline(deadline) {
        if let Some(slot) = reports.get_mut(index) {
            *slot = report;
        }
    }
    reports
}

/// The context the executor would give the suite's first attempt (see
/// `orchestrator::execute`), with a scratch output directory.
fn suite_context(plan: &Plan, suite: &SuiteConfig, scratch: &Path) -> SuiteContext {
    let mut ctx = SuiteContext::new(&suite.name, &suite.path, &suite.path, scratch.join(&suite.name));
    ctx.project_dir = plan.project_dir.clone();
    ctx.base_url = plan.settings.base_url.clone();
    ctx.settings = suite.settings.clone();
    ctx.env = suite.env.clone();
    ctx.args = suite.args.clone();
    ctx.timeout = Some(plan.timeout_for(suite));
    ctx
}

/// For a Python runner, the interpreter it would use and which rule picked it.
fn python_for(runner: &dyn Runner, ctx: &SuiteContext) -> Option<Result<(PathBuf, &'static str), String>> {
    let (_, package) = PYTHON_RUNNERS.iter().find(|(name, _)| *name == runner.name())?;
    let configured = ctx
        .settings
        .get("python")
        .and_then(|value| value.as_str())
        .map(PathBuf::from);
    let found = runner_api::python::find_python(configured.as_deref(), &ctx.project_dir, package);
    Some(
        found
            .map(|path| {
                let source = python_source(&path, configured.is_some(), &ctx.project_dir);
                (path, source)
            })
            .map_err(|err| err.to_string()),
    )
}

/// Which of `find_python`'s rules gave `path`.
fn python_source(path: &Path, configured: bool, project_dir: &Path) -> &'static str {
    if configured {
        return "the suite's `python` key";
    }
    let from_venv = std::env::var_os("VIRTUAL_ENV").map(|venv| PathBuf::from(venv).join("bin/python"));
    if from_venv.as_deref() == Some(path) {
        "$VIRTUAL_ENV"
    } else if path == project_dir.join(".venv/bin/python") {
        "the project's .venv"
    } else {
        "PATH"
    }
}

/// Prints the check; returns how many suites could not run as configured.
fn write_check(out: &mut impl Write, config: &Config, plan: &Plan, reports: &[ToolReport]) -> std::io::Result<usize> {
    writeln!(out, "config    {}", config.file.display())?;
    writeln!(out, "project   {}", config.project.name)?;
    let settings = &plan.settings;
    let mode = if settings.parallel {
        format!("parallel, {}", plural(settings.workers, "worker"))
    } else {
        "sequential".to_string()
    };
    writeln!(
        out,
        "run       {mode}, {} retr{}, timeout {}s per suite attempt",
        settings.retries,
        if settings.retries == 1 { "y" } else { "ies" },
        settings.timeout.as_secs_f64()
    )?;
    // Credentials in the URL are the tools' business, not the screen's.
    writeln!(
        out,
        "base_url  {}",
        redact::text(settings.base_url.as_deref().unwrap_or("none"))
    )?;
    writeln!(out)?;
    if config.suites.is_empty() {
        writeln!(
            out,
            "no suites: add a [tests.NAME] table (`qaagent init` writes one for the suites it finds)"
        )?;
        out.flush()?;
        return Ok(0);
    }

    writeln!(out, "suites, in run order:")?;
    let name_width = config.suites.iter().map(|s| s.name.len()).max().unwrap_or(0).max(6);
    let runner_width = config.suites.iter().map(|s| s.runner.len()).max().unwrap_or(0);
    let indent = " ".repeat(name_width + 4);
    let mut missing = 0;
    let mut missing_paths = 0;
    let mut too_old = 0;
    for suite in &config.suites {
        let planned = plan.suites.iter().find(|p| p.config.name == suite.name);
        let state = if planned.is_none() { "  (disabled)" } else { "" };
        writeln!(
            out,
            "  {:<name_width$}  {:<runner_width$}  {}{state}",
            suite.name, suite.runner, suite.path_display
        )?;
        let Some(planned) = planned else {
            continue;
        };
        if let Some(path) = &planned.missing_path {
            missing_paths += 1;
            writeln!(out, "{indent}error: path {} does not exist", path.display())?;
            writeln!(
                out,
                "{indent}hint: create it, fix `path`, or set `enabled = false` to run without this suite"
            )?;
        }
        if plan.timeout_for(suite) != settings.timeout {
            writeln!(out, "{indent}timeout {}s", plan.timeout_for(suite).as_secs_f64())?;
        }
        if !suite.args.is_empty() {
            writeln!(out, "{indent}args    {}", redact::text(&suite.args.join(" ")))?;
        }
        split_line(out, &indent, planned)?;
        let Some(report) = reports.get(planned.index) else {
            continue;
        };
        match &report.python {
            Some(Ok((path, source))) => writeln!(out, "{indent}python  {} (from {source})", path.display())?,
            Some(Err(why)) => writeln!(out, "{indent}python  not found: {why}")?,
            None => {}
        }
        match (&report.version, report.timed_out) {
            (Some(version), _) if suite.runner == runner_playwright::runner::RUNNER_NAME => {
                let checked = runner_playwright::version::check(version);
                let minimum = runner_playwright::version::minimum_note();
                writeln!(out, "{indent}{}  {version} ({minimum})", suite.runner)?;
                if let Some(error) = &checked.error {
                    too_old += 1;
                    writeln!(out, "{indent}error: {error}")?;
                }
                for warning in &checked.warnings {
                    writeln!(out, "{indent}warning: {warning}")?;
                }
            }
            (Some(version), _) => writeln!(out, "{indent}{}  {version}", suite.runner)?,
            (None, false) if report.unknown_because.is_some() => {
                let because = report.unknown_because.as_deref().unwrap_or_default();
                writeln!(out, "{indent}{}  {because}", suite.runner)?;
            }
            // Not a problem: the run bounds the probe the same way, and runs
            // the suite all the same (a hostile try, 13b #6, was told "not
            // found").
            (None, true) => writeln!(
                out,
                "{indent}{}  version unknown: its version probe gave no answer in time",
                suite.runner
            )?,
            (None, false) => {
                missing += 1;
                writeln!(out, "{indent}{}  not found", suite.runner)?;
                writeln!(out, "{indent}hint: {}", tool_hint(suite, report))?;
            }
        }
    }
    writeln!(out)?;
    let is_suite = |name: &str| config.suites.iter().any(|suite| suite.name == name);
    for warning in plan.settings.quarantine.config_warnings(is_suite) {
        writeln!(out, "warning: {warning}")?;
    }
    let disabled = config.suites.len() - plan.suites.len();
    let problems = missing + missing_paths + too_old;
    let verdict = if problems > 0 { "error" } else { "ok" };
    let mut summary = format!("{verdict}: {} will run", plural(plan.suites.len(), "suite"));
    if disabled > 0 {
        summary.push_str(&format!(", {disabled} disabled"));
    }
    if missing > 0 {
        summary.push_str(&format!("; {} not found", plural(missing, "tool")));
    }
    if too_old > 0 {
        summary.push_str(&format!("; {} too old", plural(too_old, "tool")));
    }
    if missing_paths > 0 {
        summary.push_str(&format!("; {} missing", plural(missing_paths, "suite path")));
    }
    writeln!(out, "{summary}")?;
    out.flush()?;
    Ok(problems)
}

/// What `split` does to `suite`: how many processes, or why it runs whole.
fn split_line(out: &mut impl Write, indent: &str, suite: &PlannedSuite) -> std::io::Result<()> {
    let split = match suite.config.split {
        None | Some(Split::Shares(1)) => return Ok(()),
        Some(Split::Shares(n)) => format!("{n} processes"),
        Some(Split::Auto) => "auto (from the cores and the latest runs' durations)".to_string(),
    };
    if suite.runner.has_own_workers() {
        writeln!(
            out,
            "{indent}note: split does not apply to runner `{}`, which runs its tests on workers of its own; \
             the suite runs whole",
            suite.runner.name()
        )
    } else {
        writeln!(out, "{indent}split   {split}")
    }
}

/// How to get the tool of `suite` installed.
fn tool_hint(suite: &SuiteConfig, report: &ToolReport) -> String {
    if let Some((_, package)) = PYTHON_RUNNERS.iter().find(|(name, _)| *name == suite.runner) {
        return match &report.python {
            Some(Ok((python, _))) => runner_api::python::install_hint(python, package),
            _ => format!(
                "install Python 3 and {package}, e.g. `python3 -m venv .venv && .venv/bin/pip install {package}`"
            ),
        };
    }
    match suite.runner.as_str() {
        "playwright" => format!(
            "run `npm install -D @playwright/test` (or `npm ci`) in {}",
            suite.path.display()
        ),
        "command" => "check that the program in the suite's `command` key is installed and on PATH".to_string(),
        runner => format!("install the tool the `{runner}` runner drives"),
    }
}
