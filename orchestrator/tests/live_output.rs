//! Live output from a real process that prints far faster than its consumer
//! reads: every line arrives, in order, and the log file is complete — the
//! bounded line channel slows the tool down instead of buffering its output
//! in memory (how little memory that takes is measured by `qaagent-bench
//! big-output`, see BENCHMARKS.md).

use std::process::Command;

use orchestrator::config;
use orchestrator::events::Event;
use orchestrator::execute::{execute, ExecOptions};
use orchestrator::plan::{Overrides, Plan};
use orchestrator::registry::Registry;
use runner_api::conclude::{conclude, Attempt, JunitOutcome};
use runner_api::{CancelToken, Runner, RunnerError, SettingsError, SuiteContext, SuiteOutcome, SuiteResult};

const LINES: usize = 200_000;

/// Runs `seq 1 LINES` under supervision.
struct Counting;

impl Runner for Counting {
    fn name(&self) -> &str {
        "seq"
    }

    fn check_settings(&self, _settings: &toml::Table) -> Result<(), SettingsError> {
        Ok(())
    }

    fn tool_version(&self, _ctx: &SuiteContext) -> Option<String> {
        None
    }

    fn run(&self, ctx: &SuiteContext) -> Result<SuiteResult, RunnerError> {
        let mut cmd: Command = ctx.command("seq");
        cmd.args(["1", &LINES.to_string()]);
        let process = ctx.run_supervised(cmd)?;
        Ok(conclude(Attempt {
            ctx,
            runner: "seq",
            tool: "seq",
            process,
            junit: JunitOutcome::Read(Vec::new()),
            ok_codes: &[0],
            artifacts: Vec::new(),
        }))
    }
}

#[test]
fn a_slow_consumer_gets_every_line_of_a_fast_tool() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("s")).expect("suite dir");
    let file = dir.path().join(".qaagent.toml");
    std::fs::write(
        &file,
        "[project]\nname = \"live\"\n\n[tests.loud]\nrunner = \"seq\"\npath = \"s\"\n",
    )
    .expect("config");
    let mut registry = Registry::new();
    registry.register(Counting);
    let config = config::load(&file, &registry).expect("config loads");
    let plan = Plan::new(&config, &registry, &Overrides::default(), None).expect("plan");
    let out = dir.path().join("out");

    let mut received = 0usize;
    let mut until_pause = 0usize;
    let mut in_order = true;
    let results = execute(
        &plan,
        &ExecOptions {
            out_dir: out.clone(),
            live_output: true,
        },
        &CancelToken::new(),
        &mut |event| {
            if let Event::Output(line) = event {
                received += 1;
                in_order &= line.line == received.to_string();
                // A consumer much slower than `seq`: the channel fills up.
                if until_pause == 0 {
                    until_pause = 2_000;
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
                until_pause -= 1;
            }
        },
    );

    assert_eq!(results[0].outcome(), SuiteOutcome::Passed, "{:?}", results[0].error);
    assert_eq!(received, LINES, "every line reached the consumer");
    assert!(in_order, "lines arrive in the order printed");
    let log = std::fs::read_to_string(out.join("loud/stdout.log")).expect("log");
    assert_eq!(log.lines().count(), LINES, "the log file is complete");
    assert_eq!(log.lines().last(), Some(LINES.to_string().as_str()));
}
