//! The `qaagent` binary: the built-in runners and nothing else.

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(qaagent_cli::run(qaagent_cli::default_registry()))
}
