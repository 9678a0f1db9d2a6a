//! The subcommands: turn validated arguments into orchestrator calls and
//! reporter output.

use std::time::{Duration, Instant};

use orchestrator::config::{self, Config};
use orchestrator::events::Event;
use orchestrator::execute::{execute, ExecOptions};
use orchestrator::plan::{Overrides, Plan};
use orchestrator::registry::Registry;
use orchestrator::summary::RunSummary;
use runner_api::CancelToken;

use crate::args::{Cli, Command, NoTests, RunAllArgs};
use crate::error::CliError;
use crate::exit;
use crate::reporter::HumanReporter;
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
    let cwd = std::env::current_dir().map_err(|source| CliError::Io { what: "cannot read the current directory".into(), source })?;
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
    let overrides = overrides(args)?;
    let base_url = config.resolve_base_url(args.env_name.as_deref())?;
    let plan = Plan::new(&config, registry, &overrides, base_url)?;

    let cancel = CancelToken::new();
    let interrupts = Interrupts::install(cancel.clone())
        .map_err(|source| CliError::Io { what: "cannot install the signal handler".into(), source })?;

    let started = Instant::now();
    let mut session = orchestrator::session::Session::start(&config, &plan, args.runs_dir.clone(), args.out.clone())
        .map_err(|err| CliError::Evidence(err.to_string()))?;
    let options = ExecOptions { out_dir: session.out_dir().to_path_buf(), live_output: false };

    let stdout = std::io::stdout();
    let mut reporter = HumanReporter::new(stdout.lock());
    let io_error = |source| CliError::Io { what: "cannot write output".into(), source };
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
    let results = execute(&plan, &options, &cancel, &mut |event| {
        session.record(event);
        if output_error.is_none() {
            output_error = reporter.event(event).err();
        }
    });
    let interrupted = interrupts.received().is_some();
    let summary = RunSummary::from_results(&results, started.elapsed(), interrupted);
    let run_dir = session.run_dir().to_path_buf();
    let diagnostics = session.finish(&results, &summary).map_err(|err| CliError::Evidence(err.to_string()))?;
    reporter.finish(&results, &summary, &diagnostics, Some(&run_dir)).map_err(io_error)?;
    if let Some(err) = output_error {
        return Err(io_error(err));
    }

    if let Some(code) = interrupts.exit_code() {
        return Ok(code);
    }
    if !summary.success() {
        return Ok(exit::TEST_FAILED);
    }
    if summary.tests == 0 {
        return Ok(match args.no_tests {
            NoTests::Pass => exit::SUCCESS,
            NoTests::Warn => {
                let _ = reporter.warn("no tests ran");
                exit::SUCCESS
            }
            NoTests::Fail => {
                eprintln!("error: no tests ran");
                eprintln!("hint: check the suites' paths, or pass --no-tests=warn or --no-tests=pass");
                exit::NO_TESTS
            }
        });
    }
    Ok(exit::SUCCESS)
}

fn overrides(args: &RunAllArgs) -> Result<Overrides, CliError> {
    let timeout = match args.timeout {
        None => None,
        Some(secs) if secs.is_finite() && secs > 0.0 => Some(Duration::from_secs_f64(secs)),
        Some(secs) => return Err(CliError::Usage(format!("--timeout must be a number of seconds greater than 0, not {secs}"))),
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
