//! The subcommands: which one runs, and the config they share.

use orchestrator::config::{self, Config};
use orchestrator::registry::Registry;

use crate::args::{Cli, Command};
use crate::error::CliError;

/// Runs the parsed command.
pub fn dispatch(cli: &Cli, registry: &Registry) -> Result<u8, CliError> {
    if !matches!(cli.command, Command::RunAll(_)) {
        // A run stops on signals its own way (see `orchestrator::run`).
        if let Err(err) = orchestrator::signals::remove_scratch_on_stop() {
            log::warn!("stop signals will leave temporary files behind: {err}");
        }
    }
    match &cli.command {
        Command::RunAll(args) => crate::cmd_run_all::run(cli, args, registry),
        Command::Runs(command) => crate::cmd_runs::run(cli, command),
        Command::Config(command) => crate::cmd_config::run(cli, command, registry),
        Command::Merge(args) => crate::cmd_merge::run(args),
        Command::Init(args) => crate::cmd_init::run(cli, args, registry),
    }
}

/// Finds and loads the config named by `--config`, or found from `-C` / the
/// current directory upwards.
pub(crate) fn load_config(cli: &Cli, registry: &Registry) -> Result<Config, CliError> {
    let file = config_file(cli)?;
    Ok(config::load(&file, registry)?)
}

/// The config file named by `--config`, or found from `-C` / the current
/// directory upwards (not read).
pub(crate) fn config_file(cli: &Cli) -> Result<std::path::PathBuf, CliError> {
    let cwd = std::env::current_dir().map_err(|source| CliError::Io {
        what: "cannot read the current directory".into(),
        source,
    })?;
    let start = match &cli.directory {
        Some(dir) if !cwd.join(dir).is_dir() => {
            return Err(CliError::Usage(format!("-C {}: no such directory", dir.display())));
        }
        Some(dir) => cwd.join(dir),
        None => cwd.clone(),
    };
    Ok(match &cli.config {
        Some(file) => cwd.join(file),
        None => config::discover(&start)?,
    })
}
