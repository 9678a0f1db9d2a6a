//! `qaagent run-all`: plan the suites, run them through the engine's
//! [`Run`] with the reporters the flags ask for, and map the verdict to an
//! exit code.

use std::io::IsTerminal;

use orchestrator::config::{self, Config};
use orchestrator::partition::{self, PartitionSpec};
use orchestrator::plan::{Overrides, Plan, PlannedSuite};
use orchestrator::registry::Registry;
use orchestrator::rerun;
use orchestrator::run::{NoTests, Run, RunOptions};
use runner_api::Selection;

use crate::args::{Cli, Flaky, Format, NoTests as NoTestsArg, OutputMode, RunAllArgs};
use crate::commands::load_config;
use crate::error::CliError;
use crate::exit;
use crate::reporter::json::JsonReporter;
use crate::reporter::live::{LiveReporter, Stream};
use crate::reporter::plain::PlainReporter;
use crate::reporter::style::Style;
use crate::reporter::summary::plural;
use crate::reporter::{to_stderr, to_stdout, Reporter, Tee};

/// Runs `qaagent run-all`.
pub(crate) fn run(cli: &Cli, args: &RunAllArgs, registry: &Registry) -> Result<u8, CliError> {
    let config = load_config(cli, registry)?;
    let mut overrides = overrides(args)?;
    let base_url = config.resolve_base_url(args.env_name.as_deref())?;
    let mut failed = failures_to_rerun(args, &config, &mut overrides)?;
    if let Some(failed) = failed.as_ref().filter(|failed| failed.suites.is_empty()) {
        notice(
            args,
            &format!("nothing to re-run: run {} had no failures", failed.run_id),
        );
        return Ok(exit::SUCCESS);
    }
    let mut plan = Plan::new(&config, registry, &overrides, base_url)?;
    if let Some(failed) = &mut failed {
        narrow_to_failures(args, &mut plan, failed)?;
    }
    let partition = partition_spec(args)?;
    let options = RunOptions {
        runs_dir: args.runs_dir.clone(),
        // Absolute now: the tools write there from their own working directories.
        out: args
            .out
            .as_deref()
            .map(evidence::absolute_clean)
            .transpose()
            .map_err(|source| CliError::Io {
                what: "--out".into(),
                source,
            })?,
        live_output: args.output == OutputMode::Immediate,
        junit: args.junit.clone(),
        no_tests: match args.no_tests {
            NoTestsArg::Fail => NoTests::Fail,
            NoTestsArg::Warn => NoTests::Warn,
            NoTestsArg::Pass => NoTests::Pass,
        },
        partition,
        skip_html_report: false,
    };
    let mut run = Run::new(&config, plan, options)?;
    run.handle_signals()?;

    let paused = crate::github::active().then(|| crate::github::Paused::start(args.format == Format::Json));
    let mut reporter = reporter_for(args);
    let mut output_error = None;
    let report = run.execute(&mut |event| {
        if output_error.is_none() {
            output_error = reporter.event(event).err();
        }
    })?;
    // A reader that went away (`run-all | head`) ends the output, never the
    // verdict: the exit code still says whether the run passed. So does a
    // terminal that went away (EIO) with the SIGHUP that stopped the run.
    let interrupted = matches!(report.verdict, orchestrator::run::Verdict::Interrupted(_));
    if let Some(source) = output_error.filter(|err| err.kind() != std::io::ErrorKind::BrokenPipe && !interrupted) {
        return Err(CliError::Io {
            what: "cannot write output".into(),
            source,
        });
    }
    if let Some(paused) = paused {
        paused.resume();
        crate::github::publish(&report.run_dir, args.format == Format::Json);
    }
    let code = exit::for_verdict(report.verdict);
    if code == exit::NO_TESTS {
        to_stderr(&format!("error: {}", report.summary.no_tests_ran()));
        to_stderr("hint: check the suites' paths, tags and filters, or pass --no-tests=warn or --no-tests=pass");
    }
    Ok(code)
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
/// planned even if disabled since (unless `--suite` says which to run). A run
/// that did not finish is refused unless `--allow-unfinished` is given.
fn failures_to_rerun(
    args: &RunAllArgs,
    config: &Config,
    overrides: &mut Overrides,
) -> Result<Option<rerun::FailedRun>, CliError> {
    let Some(run) = &args.rerun_failed else {
        return Ok(None);
    };
    // A bundle (`runs export`) is read from where it is unpacked, for as long as this takes.
    let bundle = crate::cmd_runs::bundle::open_if_bundle(run)?;
    let (root, run) = match &bundle {
        Some(bundle) => (bundle.root().to_path_buf(), bundle.run().run_id.as_str()),
        None => (
            evidence::runs_root(args.runs_dir.clone()).map_err(CliError::Runs)?,
            run.as_str(),
        ),
    };
    let unfinished = if args.allow_unfinished {
        rerun::Unfinished::Take
    } else {
        rerun::Unfinished::Refuse
    };
    // `latest` is this project's newest run, never another project's.
    let run = match run {
        evidence::LATEST => {
            evidence::resolve_run(&root, run, Some(&config.project_dir))
                .map_err(CliError::Runs)?
                .0
        }
        id => id.to_string(),
    };
    let flaky = overrides.flaky.unwrap_or(config.run.flaky);
    let failed = rerun::failed_run_under(&root, &run, unfinished, flaky).map_err(CliError::Rerun)?;
    if let Some(why) = &failed.unfinished {
        eprintln!(
            "warning: run {} did not finish ({why}): re-running the failures it recorded, which may not be all",
            failed.run_id
        );
    }
    if failed.project_name != config.project.name {
        to_stderr(&format!(
            "warning: run {} tested project `{}`, not `{}`",
            failed.run_id, failed.project_name, config.project.name
        ));
    }
    if overrides.suites.is_empty() {
        overrides.suites = (failed.suites.keys())
            .filter(|name| config.suites.iter().any(|suite| &suite.name == *name))
            .cloned()
            .collect();
    }
    Ok(Some(failed))
}

fn narrow_to_failures(args: &RunAllArgs, plan: &mut Plan, failed: &mut rerun::FailedRun) -> Result<(), CliError> {
    let not_planned = rerun::restrict_to_failures(plan, &mut failed.suites);
    if plan.suites.is_empty() {
        return Err(CliError::Usage(format!(
            "none of the suites that failed in run {} ({}) is planned here",
            failed.run_id,
            not_planned.join(", ")
        )));
    }
    if args.suites.is_empty() && !not_planned.is_empty() {
        // Left out by the config, not by `--suite`: a green re-run of the
        // others would read as the whole run's failures cleared (a hostile
        // try, 13a #9: exit 0).
        return Err(CliError::Usage(format!(
            "suite(s) {} failed in run {} and are no longer planned (removed or disabled): re-running the \
             others cannot clear them; run the project without --rerun-failed, or choose the suites to \
             re-run with --suite",
            not_planned.join(", "),
            failed.run_id
        )));
    }
    for suite in &not_planned {
        to_stderr(&format!(
            "warning: not re-running suite `{suite}` of run {}: it is not planned",
            failed.run_id
        ));
    }
    // What each planned suite re-runs; a suite re-run whole says why, as its
    // retries do, rather than counting tests it does not single out.
    let mut whole = false;
    let mut n = 0;
    let mut parts = Vec::new();
    for suite in &plan.suites {
        let Some(rerun) = failed.suites.get(&suite.config.name) else {
            continue;
        };
        let what = match rerun.selection {
            Selection::Only(_) => {
                n += rerun.failed;
                plural(rerun.failed, "failed test")
            }
            Selection::All => {
                whole = true;
                format!("the whole suite ({})", why_whole(suite, rerun))
            }
        };
        parts.push(format!("{}: {what}", suite.config.name));
    }
    let line = if whole {
        format!("qaagent: re-running from run {}: {}", failed.run_id, parts.join("; "))
    } else {
        format!(
            "qaagent: re-running {} of run {}",
            plural(n, "failed test"),
            failed.run_id
        )
    };
    notice(args, &line);
    Ok(())
}

/// `--partition K/N|auto` with `--durations FILE`, checked.
fn partition_spec(args: &RunAllArgs) -> Result<Option<PartitionSpec>, CliError> {
    let Some(text) = &args.partition else {
        return Ok(None);
    };
    let usage = |err: &dyn std::fmt::Display| CliError::Usage(err.to_string());
    let (index, total, source) = if text == "auto" {
        let (index, total, source) =
            partition::partition_from_ci(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
                .map_err(|e| usage(&e))?;
        (index, total, format!(" (from {source})"))
    } else {
        let (index, total) = partition::parse_partition(text).map_err(|e| usage(&e))?;
        (index, total, String::new())
    };
    let durations = args
        .durations
        .as_deref()
        .map(partition::Durations::load)
        .transpose()
        .map_err(|e| usage(&e))?;
    let balance = match &args.durations {
        Some(file) => format!("balanced by the durations in {}", file.display()),
        None => "balanced by count".to_string(),
    };
    notice(
        args,
        &format!("qaagent: running share {index}/{total} of the tests{source}, {balance}"),
    );
    Ok(Some(PartitionSpec {
        index,
        total,
        durations,
    }))
}

/// Why `--rerun-failed` runs `suite` whole rather than its failed tests.
fn why_whole(suite: &PlannedSuite, rerun: &rerun::SuiteRerun) -> &'static str {
    if let Some(why) = rerun.whole {
        return why;
    }
    let no_template = suite.runner.name() == runner_command::NAME
        && runner_command::CommandSettings::from_table(&suite.config.settings).is_ok_and(|s| s.rerun.is_none());
    if no_template {
        "no rerun template"
    } else if rerun.failed == 0 {
        "it errored before naming a failing test"
    } else {
        "its failed tests were recorded without selectors"
    }
}

/// A line for people: on stdout, or on stderr when stdout carries `--format json`.
fn notice(args: &RunAllArgs, line: &str) {
    if args.format == Format::Json {
        to_stderr(line);
    } else {
        to_stdout(line);
    }
}

fn overrides(args: &RunAllArgs) -> Result<Overrides, CliError> {
    let timeout = match &args.timeout {
        None => None,
        Some(text) => {
            let secs = config::seconds_in(text).ok_or_else(|| {
                CliError::Usage(format!(
                    "--timeout must be a number of seconds or a duration such as 90s or 5m, found {text}"
                ))
            })?;
            Some(
                config::parse_seconds(secs, false)
                    .map_err(|err| CliError::Usage(format!("--timeout {err}, found {text}")))?,
            )
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
        split: args.split,
        retries: args.retries,
        timeout,
        suites: args.suites.clone(),
        flaky: args.flaky.map(|flaky| match flaky {
            Flaky::Pass => config::FlakyPolicy::Pass,
            Flaky::Warn => config::FlakyPolicy::Warn,
            Flaky::Fail => config::FlakyPolicy::Fail,
        }),
    })
}
