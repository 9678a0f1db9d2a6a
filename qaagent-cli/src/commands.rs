//! The subcommands: turn validated arguments into orchestrator calls and
//! reporter output.

use std::io::IsTerminal;
use std::path::Path;
use std::time::{Duration, Instant};

use orchestrator::config::{self, Config};
use orchestrator::events::Event;
use orchestrator::execute::{execute_shared, ExecOptions};
use orchestrator::junit_report::write_junit_report;
use orchestrator::plan::{Overrides, Plan};
use orchestrator::registry::Registry;
use orchestrator::rerun;
use orchestrator::summary::RunSummary;
use runner_api::{CancelToken, SuiteOutcome};

use crate::args::{Cli, Command, Format, NoTests, OutputMode, RunAllArgs};
use crate::error::CliError;
use crate::exit;
use crate::reporter::json::JsonReporter;
use crate::reporter::live::{LiveReporter, Stream};
use crate::reporter::plain::PlainReporter;
use crate::reporter::style::Style;
use crate::reporter::{FinalReport, Reporter, Tee};
use crate::signals::Interrupts;

/// Runs the parsed command.
pub fn dispatch(cli: &Cli, registry: &Registry) -> Result<u8, CliError> {
    match &cli.command {
        Command::RunAll(args) => run_all(cli, args, registry),
        Command::Runs(command) => crate::cmd_runs::run(command),
        Command::Config(command) => crate::cmd_config::run(cli, command, registry),
        Command::Init(args) => crate::cmd_init::run(cli, args, registry),
    }
}

/// Finds and loads the config named by `--config`, or found from `-C` / the
/// current directory upwards.
pub(crate) fn load_config(cli: &Cli, registry: &Registry) -> Result<Config, CliError> {
    let cwd = std::env::current_dir().map_err(|source| CliError::Io {
        what: "cannot read the current directory".into(),
        source,
    })?;
    let start = match &cli.directory {
        Some(dir) => cwd.join(dir),
        None => cwd.clone(),
    };
    let file = match &cli.config {
        Some(file) => cwd.join(file),
        None => config::discover(&start)?,
    };
    Ok(config::load(&file, registry)?)
}

fn run_all(cli: &Cli, args: &RunAllArgs, registry: &Registry) -> Result<u8, CliError> {
    let config = load_config(cli, registry)?;
    if let Some(path) = &args.junit {
        check_junit_destination(path)?;
    }
    let mut overrides = overrides(args)?;
    let base_url = config.resolve_base_url(args.env_name.as_deref())?;
    let failed = failures_to_rerun(args, &config, &mut overrides)?;
    if let Some(failed) = failed.as_ref().filter(|failed| failed.suites.is_empty()) {
        notice(
            args,
            &format!("nothing to re-run: run {} had no failures", failed.run_id),
        );
        return Ok(exit::SUCCESS);
    }
    let mut plan = Plan::new(&config, registry, &overrides, base_url)?;
    if let Some(failed) = &failed {
        narrow_to_failures(args, &mut plan, failed)?;
    }

    let cancel = CancelToken::new();
    let interrupts = Interrupts::install(cancel.clone()).map_err(|source| CliError::Io {
        what: "cannot install the signal handler".into(),
        source,
    })?;

    let started = Instant::now();
    let mut session = orchestrator::session::Session::start(&config, &plan, args.runs_dir.clone(), args.out.clone())
        .map_err(|err| CliError::Evidence(err.to_string()))?;
    let options = ExecOptions {
        out_dir: session.out_dir().to_path_buf(),
        live_output: args.output == OutputMode::Immediate,
    };

    let mut reporter = reporter_for(args);
    let io_error = |source| CliError::Io {
        what: "cannot write output".into(),
        source,
    };
    reporter
        .event(&Event::RunStarted {
            run_id: Some(session.run_id().to_string()),
            run_dir: Some(session.run_dir().to_path_buf()),
            parallel: plan.settings.parallel,
            workers: plan.settings.workers,
            suites: plan.names(),
        })
        .map_err(io_error)?;
    let mut output_error = None;
    let results = execute_shared(&plan, &options, &cancel, &mut |event| {
        session.record(event);
        if output_error.is_none() {
            output_error = reporter.event(event).err();
        }
    });
    let interrupted = interrupts.received().is_some();
    let summary = RunSummary::from_results(&results, started.elapsed(), interrupted);
    let run_dir = session.run_dir().to_path_buf();
    let run_name = format!("qaagent run {}", session.run_id());
    let diagnostics = session
        .finish(&results, &summary)
        .map_err(|err| CliError::Evidence(err.to_string()))?;
    // The evidence writer has let go of the results: taking them back copies nothing.
    let results: Vec<_> = results.into_iter().map(std::sync::Arc::unwrap_or_clone).collect();

    let mut warnings = Vec::new();
    let code = if let Some(code) = interrupts.exit_code() {
        code
    } else if !summary.success() {
        exit::TEST_FAILED
    } else if summary.tests == 0 {
        match args.no_tests {
            NoTests::Pass => exit::SUCCESS,
            NoTests::Warn => {
                warnings.push("no tests ran".to_string());
                exit::SUCCESS
            }
            NoTests::Fail => exit::NO_TESTS,
        }
    } else {
        exit::SUCCESS
    };
    // A suite that ran nothing among suites that did is easy to miss in a
    // passing run: a wrong path or a filter that matches nothing.
    if summary.tests > 0 && !matches!(args.no_tests, NoTests::Pass) {
        for result in &results {
            let ran = result.attempts > 0 && result.outcome() == SuiteOutcome::Passed;
            if ran && result.cases.is_empty() {
                warnings.push(format!("suite {} ran no tests", result.suite));
            }
        }
    }
    let report = FinalReport {
        results: &results,
        summary: &summary,
        diagnostics: &diagnostics,
        run_dir: Some(&run_dir),
        exit_code: code,
        warnings: &warnings,
    };
    reporter.finish(&report).map_err(io_error)?;
    if let Some(err) = output_error {
        return Err(io_error(err));
    }
    if let Some(path) = &args.junit {
        write_junit_report(&results, path, &run_name).map_err(|err| CliError::Io {
            what: "--junit".into(),
            source: std::io::Error::other(err),
        })?;
    }
    if code == exit::NO_TESTS {
        eprintln!("error: no tests ran");
        eprintln!("hint: check the suites' paths, or pass --no-tests=warn or --no-tests=pass");
    }
    Ok(code)
}

/// Fails early, as a usage error, when the `--junit` report could not be
/// written where asked: better now than after every suite has run.
fn check_junit_destination(path: &Path) -> Result<(), CliError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    // Made now if missing, as writing the report would make it.
    std::fs::create_dir_all(dir).map_err(|err| {
        CliError::Usage(format!(
            "--junit {}: cannot create {}: {err}",
            path.display(),
            dir.display()
        ))
    })?;
    // The report is written next to its destination and renamed into place.
    let probe = dir.join(format!(".qaagent-junit-check.{}", std::process::id()));
    let created = std::fs::OpenOptions::new().write(true).create_new(true).open(&probe);
    match created {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(err) => Err(CliError::Usage(format!(
            "--junit {}: cannot write in {}: {err}",
            path.display(),
            dir.display()
        ))),
    }
}

/// The reporters `args` ask for: human (live in a terminal, else plain) on
/// stdout, or JSON on stdout with human output on stderr.
fn reporter_for(args: &RunAllArgs) -> Box<dyn Reporter> {
    let json = args.format == Format::Json;
    let human_is_terminal = if json {
        std::io::stderr().is_terminal()
    } else {
        std::io::stdout().is_terminal()
    };
    let style = Style::for_choice(args.color, human_is_terminal);
    let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
    let live = human_is_terminal && !in_ci && !args.no_progress;
    let human: Box<dyn Reporter> = match (live, json) {
        (true, false) => Box::new(LiveReporter::new(Stream::Stdout, style)),
        (true, true) => Box::new(LiveReporter::new(Stream::Stderr, style)),
        (false, false) => Box::new(PlainReporter::new(std::io::stdout(), style)),
        (false, true) => Box::new(PlainReporter::new(std::io::stderr(), style)),
    };
    if json {
        Box::new(Tee(vec![Box::new(JsonReporter::new(std::io::stdout())), human]))
    } else {
        human
    }
}

/// `--rerun-failed RUN`: that run's failures. The suites that failed are
/// planned even if disabled since (unless `--suite` says which to run).
fn failures_to_rerun(
    args: &RunAllArgs,
    config: &Config,
    overrides: &mut Overrides,
) -> Result<Option<rerun::FailedRun>, CliError> {
    let Some(run) = &args.rerun_failed else {
        return Ok(None);
    };
    let evidence_error = |err: &dyn std::fmt::Display| CliError::Evidence(err.to_string());
    let root = evidence::runs_root(args.runs_dir.clone()).map_err(|err| evidence_error(&err))?;
    let failed = rerun::failed_run(&root, run).map_err(|err| evidence_error(&err))?;
    if failed.project_name != config.project.name {
        eprintln!(
            "warning: run {} tested project `{}`, not `{}`",
            failed.run_id, failed.project_name, config.project.name
        );
    }
    if overrides.suites.is_empty() {
        overrides.suites = (failed.suites.keys())
            .filter(|name| config.suites.iter().any(|suite| &suite.name == *name))
            .cloned()
            .collect();
    }
    Ok(Some(failed))
}

fn narrow_to_failures(args: &RunAllArgs, plan: &mut Plan, failed: &rerun::FailedRun) -> Result<(), CliError> {
    let not_planned = rerun::restrict_to_failures(plan, &failed.suites);
    if plan.suites.is_empty() {
        return Err(CliError::Usage(format!(
            "none of the suites that failed in run {} ({}) is planned here",
            failed.run_id,
            not_planned.join(", ")
        )));
    }
    for suite in &not_planned {
        eprintln!(
            "warning: not re-running suite `{suite}` of run {}: it is not planned",
            failed.run_id
        );
    }
    let n: usize = (failed.suites.iter())
        .filter(|(name, _)| !not_planned.contains(name))
        .map(|(_, suite)| suite.failed)
        .sum();
    let plural = if n == 1 { "" } else { "s" };
    notice(
        args,
        &format!("qaagent: re-running {n} failed test{plural} of run {}", failed.run_id),
    );
    Ok(())
}

/// A line for people: on stdout, or on stderr when stdout carries `--format json`.
fn notice(args: &RunAllArgs, line: &str) {
    if args.format == Format::Json {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
}

fn overrides(args: &RunAllArgs) -> Result<Overrides, CliError> {
    let timeout = match args.timeout {
        None => None,
        Some(secs) if secs.is_finite() && secs > 0.0 => Some(Duration::from_secs_f64(secs)),
        Some(secs) => {
            return Err(CliError::Usage(format!(
                "--timeout must be a number of seconds greater than 0, not {secs}"
            )))
        }
    };
    Ok(Overrides {
        parallel: if args.parallel {
            Some(true)
        } else if args.sequential {
            Some(false)
        } else {
            None
        },
        max_workers: args.max_workers,
        retries: args.retries,
        timeout,
        suites: args.suites.clone(),
    })
}
