//! The `qaagent` command as a library, so a third party can ship their own
//! binary with extra runners:
//!
//! ```no_run
//! let mut registry = qaagent_cli::default_registry();
//! // registry.register(MyRunner::new());
//! std::process::exit(i32::from(qaagent_cli::run(registry)));
//! ```

mod args;
mod cmd_config;
mod cmd_init;
mod cmd_merge;
mod cmd_run_all;
mod cmd_runs;
mod commands;
mod config_import;
mod error;
mod exit;
mod github;
mod reporter;

use clap::Parser;
use orchestrator::registry::Registry;

pub use args::Cli;

/// The registry with every runner built into qaagent: `pytest`, `behave`,
/// `playwright`, and `command` (any tool that writes JUnit XML).
pub fn default_registry() -> Registry {
    let mut registry = Registry::new();
    registry.register(runner_pytest::PytestRunner::new());
    registry.register(runner_behave::BehaveRunner::new());
    registry.register(runner_playwright::PlaywrightRunner::new());
    registry.register(runner_command::CommandRunner::new());
    registry
}

/// Parses the command line, runs the command with the runners of
/// `registry`, and returns the process exit code (see DESIGN.md).
pub fn run(registry: Registry) -> u8 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = err.print();
            return if err.use_stderr() { exit::USAGE } else { exit::SUCCESS };
        }
    };
    init_logging(cli.verbose);
    match commands::dispatch(&cli, &registry) {
        Ok(code) => code,
        Err(err) if err.is_broken_pipe() => exit::SUCCESS,
        Err(err) => {
            reporter::to_stderr(&format!("error: {}", runner_api::redact::text(&err.to_string())));
            if let Some(hint) = err.hint() {
                reporter::to_stderr(&format!("hint: {}", runner_api::redact::text(&hint)));
            }
            err.exit_code()
        }
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let env = env_logger::Env::default().default_filter_or(default);
    let inner = env_logger::Builder::from_env(env)
        .format_timestamp(None)
        .format_target(false)
        .build();
    let max_level = inner.filter();
    if log::set_boxed_logger(Box::new(RedactingLogger { inner })).is_ok() {
        log::set_max_level(max_level);
    }
}

/// Passes every log record through [`runner_api::redact::text`] before
/// env_logger formats it: log lines are written in many places (a runner
/// logging its command with `{cmd:?}` shows the tool's environment), and
/// this is the one place they all pass.
struct RedactingLogger {
    inner: env_logger::Logger,
}

impl log::Log for RedactingLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        self.inner.enabled(metadata)
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.inner.enabled(record.metadata()) {
            return;
        }
        let message = record.args().to_string();
        let redacted = runner_api::redact::text(&message);
        self.inner.log(
            &log::Record::builder()
                .metadata(record.metadata().clone())
                .args(format_args!("{redacted}"))
                .module_path(record.module_path())
                .file(record.file())
                .line(record.line())
                .build(),
        );
    }

    fn flush(&self) {
        self.inner.flush();
    }
}
