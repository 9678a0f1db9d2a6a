//! `qaagent-custom`: qaagent with its built-in runners plus `checks`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut registry = qaagent_cli::default_registry();
    registry.register(qaagent_custom_runner_example::ChecksRunner::new());
    ExitCode::from(qaagent_cli::run(registry))
}
