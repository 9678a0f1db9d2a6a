//! An example third-party runner: `runner = "checks"` drives the made-up
//! `checktool` (`tool/checktool.py`), which reads `*.checks` files and writes
//! JUnit XML. `docs/writing-a-runner.md` walks through it.
//!
//! ```toml
//! [tests.checks]
//! runner = "checks"
//! path = "checks"             # a *.checks file or a directory of them
//! # tool = "tools/checktool.py"   default: the copy built into this crate
//! # python = ".venv/bin/python"   default: as for pytest
//! ```

use std::path::{Path, PathBuf};
use std::process::Command;

use runner_api::conclude::{conclude, Attempt, JunitOutcome};
use runner_api::python::find_python;
use runner_api::{junit, parse_settings, Runner, RunnerError, SettingsError, SuiteContext, SuiteResult, TestCase};
use serde::Deserialize;

/// The checktool this crate ships, built into the binary (so it runs from
/// any machine the binary is copied to) and used when a suite names no `tool`.
const BUNDLED_TOOL: &str = include_str!("../tool/checktool.py");

/// Where checktool's code comes from.
enum Script {
    /// The suite's own copy, a file.
    File(PathBuf),
    /// The built-in copy, passed to Python with `-c`.
    Bundled,
}

/// The keys a `[tests.NAME]` table with `runner = "checks"` may hold besides the common ones.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecksSettings {
    /// The checktool script, relative to the project dir.
    pub tool: Option<PathBuf>,
    /// The Python interpreter to run it with, relative to the project dir.
    pub python: Option<PathBuf>,
}

/// Runs suites of project checks with checktool.
#[derive(Debug, Default, Clone)]
pub struct ChecksRunner;

impl ChecksRunner {
    /// The runner.
    pub fn new() -> Self {
        ChecksRunner
    }

    /// A command running checktool for a suite: its interpreter and script,
    /// the suite's environment (`ctx.command`), in the project dir, where the
    /// checks' paths are relative to.
    fn checktool(&self, ctx: &SuiteContext) -> Result<(PathBuf, Command), RunnerError> {
        let settings = ctx.settings_as::<ChecksSettings>()?;
        let python = find_python(settings.python.as_deref(), &ctx.project_dir, "checktool")?;
        let script = match &settings.tool {
            Some(tool) => Script::File(ctx.project_dir.join(tool)),
            None => Script::Bundled,
        };
        let mut cmd = ctx.command(&python);
        cmd.current_dir(&ctx.project_dir);
        match script {
            Script::File(path) if !path.is_file() => {
                return Err(RunnerError::ToolMissing {
                    tool: format!("checktool ({})", path.display()),
                    hint: "point `tool` in the suite's table at checktool.py".into(),
                });
            }
            Script::File(path) => cmd.arg(path),
            Script::Bundled => cmd.arg("-c").arg(BUNDLED_TOOL),
        };
        Ok((python, cmd))
    }
}

impl Runner for ChecksRunner {
    fn name(&self) -> &str {
        "checks"
    }

    fn check_settings(&self, settings: &toml::Table) -> Result<(), SettingsError> {
        parse_settings::<ChecksSettings>(settings).map(drop)
    }

    fn tool_version(&self, ctx: &SuiteContext) -> Option<String> {
        let (_, mut cmd) = self.checktool(ctx).ok()?;
        cmd.arg("--version");
        // Bounded by a time limit and the run's cancel token, unlike `Command::output`.
        ctx.probe(cmd).ok()?.first_line()
    }

    fn run(&self, ctx: &SuiteContext) -> Result<SuiteResult, RunnerError> {
        let (python, mut cmd) = self.checktool(ctx)?;
        // A fresh file in this attempt's own output dir: never a stale report.
        let junit_path = ctx.output_dir.join("junit.xml");
        cmd.arg("--junit").arg(&junit_path);
        if let Some(selectors) = ctx.selected() {
            // A retry: only the checks that failed, by the selector we gave them below.
            for name in selectors {
                cmd.arg("--only").arg(name);
            }
        }
        cmd.args(&ctx.args).arg(&ctx.path);

        // Supervised: own process group, logs to stdout.log / stderr.log,
        // timeout and Ctrl-C stop the whole group.
        let process = ctx.run_supervised(cmd).map_err(|err| {
            if err.is_not_found() {
                RunnerError::ToolMissing {
                    tool: python.display().to_string(),
                    hint: "install Python 3 or set `python` in the suite's table".into(),
                }
            } else {
                RunnerError::Process(err)
            }
        })?;

        let junit = read_report(&junit_path);
        let artifacts = if junit_path.is_file() {
            vec![junit_path]
        } else {
            Vec::new()
        };
        // conclude turns exit + report into an honest result: timeouts,
        // interrupts, a missing report or an odd exit code become errors with
        // the log tail.
        Ok(conclude(Attempt {
            ctx,
            runner: self.name(),
            tool: "checktool",
            process,
            junit,
            ok_codes: &[0, 1],
            artifacts,
        }))
    }
}

/// The report's cases, each selectable again by its check name, and what
/// the report says went wrong beyond them.
fn read_report(path: &Path) -> JunitOutcome {
    if !path.is_file() {
        return JunitOutcome::Missing(path.to_path_buf());
    }
    match junit::read_report(path) {
        Ok(report) => {
            let cases = (report.cases.into_iter())
                .map(|row| {
                    let selector = row.name().to_string();
                    let mut case: TestCase = row.into_test_case();
                    case.selector = Some(selector);
                    case
                })
                .collect();
            // Read, or Flagged when the report says more went wrong than its cases show.
            JunitOutcome::read(cases, report.problems)
        }
        Err(err) => JunitOutcome::Unreadable(err),
    }
}
