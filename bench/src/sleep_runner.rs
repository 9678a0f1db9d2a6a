//! A runner whose tool is a shell that sleeps, then writes a one-case JUnit
//! report: a real, supervised process with a duration known to the
//! millisecond, so that qaagent's own overhead can be measured to the
//! millisecond (a Python interpreter's start-up alone varies by tens of
//! milliseconds on a busy machine). It does what the generic `command`
//! runner does for any JUnit-writing tool.
//!
//! ```toml
//! [tests.slow]
//! runner = "sleep"
//! path = "."
//! seconds = 2.5
//! ```

use std::path::Path;
use std::process::Command;

use runner_api::conclude::{conclude, Attempt, JunitOutcome};
use runner_api::{junit, Runner, RunnerError, SettingsError, SuiteContext, SuiteResult};

/// The shell script: `$1` seconds of sleep, then a report at `$2`.
const SCRIPT: &str = r#"sleep "$1" && printf '<testsuite name="sleep" tests="1"><testcase classname="sleep" name="sleeps_%s" time="%s"/></testsuite>\n' "$1" "$1" > "$2""#;

/// See the module docs.
#[derive(Debug, Default, Clone, Copy)]
pub struct SleepRunner;

/// Makes `sh` (a `Command` for it) sleep `seconds`, then write `junit`.
pub fn sleep_command(mut sh: Command, seconds: f64, junit: &Path) -> Command {
    sh.args(["-c", SCRIPT, "sh", &seconds.to_string()]).arg(junit);
    sh
}

fn seconds(settings: &toml::Table) -> Result<f64, SettingsError> {
    match settings.get("seconds") {
        None => Ok(0.0),
        Some(value) => value
            .as_float()
            .or_else(|| value.as_integer().map(|i| i as f64))
            .filter(|s| s.is_finite() && *s >= 0.0)
            .ok_or_else(|| SettingsError {
                key: Some("seconds".into()),
                message: "must be a number of seconds, at least 0".into(),
            }),
    }
}

impl Runner for SleepRunner {
    fn name(&self) -> &str {
        "sleep"
    }

    fn check_settings(&self, settings: &toml::Table) -> Result<(), SettingsError> {
        seconds(settings).map(drop)
    }

    fn tool_version(&self, _ctx: &SuiteContext) -> Option<String> {
        Some("1".to_string())
    }

    fn run(&self, ctx: &SuiteContext) -> Result<SuiteResult, RunnerError> {
        let junit_path = ctx.output_dir.join("junit.xml");
        let cmd = sleep_command(ctx.command("sh"), seconds(&ctx.settings)?, &junit_path);
        let process = ctx.run_supervised(cmd)?;
        let junit = if junit_path.is_file() {
            match junit::read_file(&junit_path) {
                Ok(rows) => JunitOutcome::Read(rows.into_iter().map(junit::JunitCase::into_test_case).collect()),
                Err(err) => JunitOutcome::Unreadable(err),
            }
        } else {
            JunitOutcome::Missing(junit_path.clone())
        };
        Ok(conclude(Attempt {
            ctx,
            runner: "sleep",
            tool: "sleep",
            process,
            junit,
            ok_codes: &[0],
            artifacts: vec![junit_path],
        }))
    }
}
