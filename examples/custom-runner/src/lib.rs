//! An example third-party runner: `runner = "checks"` drives the made-up
//! `checktool` (`tool/checktool.py`), which reads `*.checks` files and writes
//! JUnit XML. `docs/writing-a-runner.md` walks through it.
//!
//! ```toml
//! [tests.checks]
//! runner = "checks"
//! path = "checks"             # a *.checks file or a directory of them
//! # tool = "tools/checktool.py"   default: the copy shipped with this crate
//! # python = ".venv/bin/python"   default: as for pytest
//! ```

use std::path::{Path, PathBuf};

use runner_api::conclude::{conclude, Attempt, JunitOutcome};
use runner_api::python::find_python;
use runner_api::{junit, parse_settings, Runner, RunnerError, SettingsError, SuiteContext, SuiteResult, TestCase};
use serde::Deserialize;

/// The checktool this crate ships, used when a suite names no `tool`.
pub const BUNDLED_TOOL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tool/checktool.py");

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

    /// The interpreter and the script for a suite.
    fn tool(&self, ctx: &SuiteContext) -> Result<(PathBuf, PathBuf), RunnerError> {
        let settings: ChecksSettings = parse_settings(&ctx.settings)?;
        let python = find_python(settings.python.as_deref(), &ctx.project_dir, "checktool")?;
        let script = match settings.tool {
            Some(tool) => ctx.project_dir.join(tool),
            None => PathBuf::from(BUNDLED_TOOL),
        };
        if !script.is_file() {
            return Err(RunnerError::ToolMissing {
                tool: format!("checktool ({})", script.display()),
                hint: "point `tool` in the suite's table at checktool.py".into(),
            });
        }
        Ok((python, script))
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
        let (python, script) = self.tool(ctx).ok()?;
        let output = std::process::Command::new(python)
            .arg(script)
            .arg("--version")
            .stdin(std::process::Stdio::null())
            .output()
            .ok()?;
        let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
        (output.status.success() && !version.is_empty()).then_some(version)
    }

    fn run(&self, ctx: &SuiteContext) -> Result<SuiteResult, RunnerError> {
        let (python, script) = self.tool(ctx)?;
        // A fresh file in this attempt's own output dir: never a stale report.
        let junit_path = ctx.output_dir.join("junit.xml");

        // ctx.command gives BASE_URL and the suite's env; the working
        // directory is ours to choose: the project dir, where the checks'
        // paths are relative to.
        let mut cmd = ctx.command(&python);
        cmd.current_dir(&ctx.project_dir)
            .arg(&script)
            .arg("--junit")
            .arg(&junit_path);
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

/// The report's cases, each selectable again by its check name.
fn read_report(path: &Path) -> JunitOutcome {
    if !path.is_file() {
        return JunitOutcome::Missing(path.to_path_buf());
    }
    match junit::read_file(path) {
        Ok(rows) => JunitOutcome::Read(
            rows.into_iter()
                .map(|row| {
                    let selector = row.name.clone();
                    let mut case: TestCase = row.into_test_case();
                    case.selector = Some(selector);
                    case
                })
                .collect(),
        ),
        Err(err) => JunitOutcome::Unreadable(err),
    }
}
