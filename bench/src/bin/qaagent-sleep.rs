//! `qaagent` with one more runner, `sleep` (see `qaagent_bench::sleep_runner`):
//! the whole-process benchmarks time qaagent's own overhead with it, because
//! its tool's duration is exact. Built the way DESIGN.md says a third party
//! adds a runner: the `qaagent` command as a library, plus a registration.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut registry = qaagent_cli::default_registry();
    registry.register(qaagent_bench::sleep_runner::SleepRunner);
    ExitCode::from(qaagent_cli::run(registry))
}
