//! Portable runs: `qaagent runs export RUN -o FILE` writes a run as one
//! `.tar.gz`, and the commands that read a run (`runs show`,
//! `run-all --rerun-failed`, `merge`) take such a file where they take a run id.

use std::path::{Path, PathBuf};

use clap::Args;
use evidence::Bundle;

use super::RunsDirArg;
use crate::error::CliError;
use crate::exit;
use crate::reporter::untrusted::printable;
use crate::reporter::{to_stderr, to_stdout};

/// `qaagent runs export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Where to read runs from.
    #[command(flatten)]
    pub store: RunsDirArg,
    /// The run id, `latest`, or a run directory.
    #[arg(value_name = "RUN_ID|latest|DIR")]
    pub run: String,
    /// The bundle to write (`*.tar.gz`).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
}

/// Runs `qaagent runs export`.
/// `latest` is the newest run of `project` (of all with `None`).
pub(super) fn export(args: &ExportArgs, project: &Option<PathBuf>) -> Result<u8, CliError> {
    if !evidence::is_bundle(&args.output) {
        return Err(CliError::Usage(format!(
            "-o {}: a bundle's name ends in .tar.gz or .tgz, so that other commands know it for one",
            args.output.display()
        )));
    }
    let dir = if Path::new(&args.run).is_dir() {
        PathBuf::from(&args.run)
    } else {
        let root = evidence::runs_root(args.store.runs_dir.clone()).map_err(CliError::Runs)?;
        evidence::resolve_run(&root, &args.run, project.as_deref())
            .map_err(CliError::Runs)?
            .1
    };
    // Refused up front: the bundle is renamed into place, which would replace a link or a directory.
    orchestrator::report::check_destination(&args.output)
        .map_err(|err| CliError::Usage(format!("-o {}: {err}", args.output.display())))?;
    let skipped = evidence::export_run(&dir, &args.output).map_err(CliError::Runs)?;
    for path in skipped {
        to_stderr(&format!(
            "warning: {} is not a regular file or directory; left out of the bundle",
            printable(&path)
        ));
    }
    to_stdout(&args.output.display().to_string());
    Ok(exit::SUCCESS)
}

/// The bundle `run` names, unpacked, when it names one (`*.tar.gz`, `*.tgz`).
pub(crate) fn open_if_bundle(run: &str) -> Result<Option<Bundle>, CliError> {
    let path = Path::new(run);
    if !evidence::is_bundle(path) {
        return Ok(None);
    }
    Bundle::open(path).map(Some).map_err(CliError::Runs)
}
