//! `qaagent config import [PROFILE]`: writes the `.qaagent.toml` equivalent
//! to a Python qaagent profile (`.qaagent.yaml`), beside it, so that users of
//! the Python tool move over in one command.
//!
//! What has no equivalent is listed (on the terminal and in a comment at the
//! top of the file), never silently lost. As `qaagent init`, it never
//! replaces a `.qaagent.toml` nor writes one below another project's without
//! `--force`, and the text is validated with this binary's runners before it
//! is written. A profile that is not YAML, or holds a value of the wrong
//! shape, is a usage error (exit 2) naming the line or the key.

mod profile;

use std::io::Write as _;
use std::path::PathBuf;

use clap::Args;
use orchestrator::config::{self, FILE_NAME};
use orchestrator::registry::Registry;

use crate::args::Cli;
use crate::cmd_init::{check_destination, start_dir, write_config};
use crate::error::CliError;
use crate::exit;
use crate::reporter::untrusted::printable;

pub(crate) use profile::ProfileError;

/// The Python qaagent's profile file name.
const PROFILE_NAME: &str = ".qaagent.yaml";

/// `qaagent config import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The Python qaagent's profile [default: .qaagent.yaml in the current directory or -C DIR].
    #[arg(value_name = "PROFILE")]
    pub profile: Option<PathBuf>,
    /// Replace an existing `.qaagent.toml`.
    #[arg(long)]
    pub force: bool,
}

/// Runs `qaagent config import`.
pub(crate) fn run(cli: &Cli, args: &ImportArgs, registry: &Registry) -> Result<u8, CliError> {
    let start = start_dir(cli, "config import writes it beside the profile")?;
    let profile = start.join(args.profile.as_deref().unwrap_or(PROFILE_NAME.as_ref()));
    let text = match evidence::read_regular_to_string(&profile) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(CliError::Usage(format!(
                "no profile at {}: pass the path of the Python qaagent's {PROFILE_NAME}",
                profile.display()
            )))
        }
        Err(source) => {
            return Err(CliError::Io {
                what: format!("cannot read the profile {}", profile.display()),
                source,
            })
        }
    };
    let dir = profile
        .parent()
        .unwrap_or(&start)
        .canonicalize()
        .map_err(|source| CliError::Io {
            what: format!("cannot open the directory of {}", profile.display()),
            source,
        })?;
    let file = dir.join(FILE_NAME);
    check_destination(&file, &dir, args.force)?;
    let imported =
        profile::convert(&text, &dir, &|runner| registry.contains(runner)).map_err(|source| CliError::Profile {
            path: profile.clone(),
            source,
        })?;
    // What we write must load; a failure here is our bug, caught before the file exists.
    config::parse(&file, &imported.text, registry)?;
    write_config(&file, &imported.text, args.force)?;

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let io_error = |source| CliError::Io {
        what: "cannot write output".into(),
        source,
    };
    writeln!(out, "wrote {} from {}", file.display(), profile.display()).map_err(io_error)?;
    for dropped in &imported.dropped {
        writeln!(out, "  dropped {}", printable(dropped)).map_err(io_error)?;
    }
    for note in &imported.notes {
        writeln!(out, "  note: {}", printable(note)).map_err(io_error)?;
    }
    writeln!(
        out,
        "next: `qaagent config check` shows the plan and the tools found, `qaagent run-all` runs the suites"
    )
    .map_err(io_error)?;
    Ok(exit::SUCCESS)
}
