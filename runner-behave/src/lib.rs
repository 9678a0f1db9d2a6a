//! qaagent's runner for [behave](https://behave.readthedocs.io/).
//!
//! One attempt runs `<python> -m behave` on the suite path (or on the selected
//! scenario locations) with the project dir as working directory, so the
//! project's `behave.ini` / `setup.cfg` / `tox.ini` apply. It writes, below the
//! attempt's output dir:
//!
//! - `junit/TESTS-<feature>.xml`: one JUnit file per feature; every scenario
//!   and every Scenario Outline row is a case, named as behave names it
//!   (`Bulk pricing -- @1.2 `, trailing space included), with the status
//!   behave gives it (undefined steps and hook errors are errors, tag-excluded
//!   scenarios skipped);
//! - `rerun.txt`: the rerun formatter's list of failing scenarios;
//! - `behave.json`: the JSON formatter's report, from which each case gets its
//!   selector (`features/cart.feature:17`, relative to the project dir; see
//!   the `locations` module);
//! - `stdout.log` / `stderr.log`: the pretty formatter's output and behave's
//!   summary.
//!
//! A retry passes the failed cases' locations back as arguments. behave's
//! JUnit then lists the scenarios it did not select as skipped; only the
//! selected rows are kept as the retry's cases.

mod command;
mod locations;
mod stream;
mod untested;

use std::path::PathBuf;

use runner_api::conclude::{conclude_streamed, Attempt, JunitOutcome};
use runner_api::junit::{self, JunitError};
use runner_api::process::log_tail;
use runner_api::python::{distribution_version, find_python, install_hint, module_missing};
use runner_api::version::VersionCache;
use runner_api::{parse_settings, Runner, RunnerError, SettingsError, SuiteContext, SuiteResult, TestCase};
use serde::Deserialize;

pub use command::{behave_command, BehaveOutputs};

/// The name users write as `runner = "behave"` (and the default runner of a
/// suite named `behave`).
pub const RUNNER_NAME: &str = "behave";

/// The tool name recorded in the manifest.
const TOOL: &str = "behave";

/// How many log lines are searched for behave's "No module named behave".
const MISSING_MODULE_LINES: usize = 20;

/// The runner-specific keys of a behave suite's `[tests.NAME]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BehaveSettings {
    /// The Python interpreter that has behave installed (relative to the
    /// project dir, or a bare name looked up on `PATH`). Default: see
    /// [`find_python`].
    pub python: Option<PathBuf>,
}

/// Runs behave suites. One instance serves every behave suite, from any
/// number of threads; its only state is behave's version, asked once per
/// interpreter and working directory.
#[derive(Debug, Clone, Default)]
pub struct BehaveRunner {
    versions: VersionCache<(PathBuf, PathBuf)>,
}

impl BehaveRunner {
    /// The runner.
    pub fn new() -> Self {
        BehaveRunner::default()
    }
}

impl Runner for BehaveRunner {
    fn name(&self) -> &str {
        RUNNER_NAME
    }

    fn check_settings(&self, settings: &toml::Table) -> Result<(), SettingsError> {
        parse_settings::<BehaveSettings>(settings).map(|_| ())
    }

    fn tool_version(&self, ctx: &SuiteContext) -> Option<String> {
        let settings = ctx.settings_as::<BehaveSettings>().ok()?;
        let python = find_python(settings.python.as_deref(), &ctx.project_dir, TOOL).ok()?;
        let key = (python.clone(), ctx.project_dir.clone());
        self.versions
            .get_or_probe(key, || distribution_version(ctx, &python, TOOL))
    }

    /// `behave --dry-run` with the JSON formatter: every scenario's location.
    fn collect(&self, ctx: &SuiteContext) -> Result<Option<Vec<String>>, RunnerError> {
        let settings = ctx.settings_as::<BehaveSettings>()?;
        let python = find_python(settings.python.as_deref(), &ctx.project_dir, TOOL)?;
        let report = ctx.output_dir.join("collect.json");
        let mut cmd = ctx.command(&python);
        cmd.current_dir(&ctx.project_dir)
            .args(["-m", "behave"])
            .arg(&ctx.path)
            .args(["--dry-run", "--no-summary", "--show-skipped", "-f", "json", "-o"])
            .arg(&report)
            .args(&ctx.args);
        log::debug!("[{}] listing with {cmd:?}", ctx.suite);
        let process = ctx.run_supervised(cmd)?;
        if process.exit != runner_api::process::ExitKind::Code(0) {
            return Err(ctx.tool_failed("behave --dry-run", process.exit));
        }
        let locations = locations::Locations::read(&report, &ctx.project_dir)
            .map_err(|err| RunnerError::Other(format!("cannot list behave's scenarios: {err}")))?;
        Ok(Some(locations.selectors()))
    }

    fn run(&self, ctx: &SuiteContext) -> Result<SuiteResult, RunnerError> {
        let settings = ctx.settings_as::<BehaveSettings>()?;
        if let Some(arg) = ctx.args.iter().find(|arg| ["--dry-run", "-d"].contains(&arg.as_str())) {
            // behave would run no step and report every scenario skipped.
            return Err(RunnerError::Other(format!(
                "the suite's args hold `{arg}`, which runs no step; remove it"
            )));
        }
        let python = find_python(settings.python.as_deref(), &ctx.project_dir, TOOL)?;
        if ctx.selected().is_some_and(<[String]>::is_empty) {
            // Nothing to select; running behave without locations would run everything.
            log::debug!("[{}] empty selection: behave not started", ctx.suite);
            let mut result = SuiteResult::new(&ctx.suite, RUNNER_NAME);
            result.tool.name = TOOL.to_string();
            result.output_dir = Some(ctx.output_dir.clone());
            return Ok(result);
        }

        let outputs = BehaveOutputs::new(&ctx.output_dir);
        let mut cmd = behave_command(ctx, &python, &command::targets(ctx), &outputs);
        runner_api::python::ship_stream_module(ctx, &mut cmd, stream::FORMATTER)?;
        log::debug!("[{}] running {cmd:?}", ctx.suite);
        let (process, streamed) =
            ctx.run_streaming(cmd, &outputs.stream, &|line| stream::parse(line, &ctx.project_dir))?;

        // behave makes the directory only once it has a report to write.
        let junit_files = if outputs.junit_dir.is_dir() {
            junit::xml_files_in(&outputs.junit_dir)
        } else {
            Ok(Vec::new())
        };
        let no_reports = junit_files.as_ref().is_ok_and(Vec::is_empty);
        if no_reports && process.cancelled.is_none() && !process.timed_out && behave_missing(ctx) {
            return Err(RunnerError::ToolMissing {
                tool: TOOL.into(),
                hint: install_hint(&python, TOOL),
            });
        }

        let (junit, junit_files) = match junit_files {
            Ok(files) if files.is_empty() => (JunitOutcome::Missing(outputs.junit_dir.clone()), files),
            Ok(files) => match read_cases(&files) {
                Ok(ReadCases {
                    cases,
                    never_ran,
                    mut problems,
                }) => {
                    let cases = with_locations(ctx, &outputs, cases, &mut problems);
                    let mut cases = selected(ctx, cases);
                    if !never_ran.is_empty() {
                        cases.push(untested::stand_in(&never_ran));
                    }
                    (JunitOutcome::read(cases, problems), files)
                }
                Err(err) => (JunitOutcome::Unreadable(err), files),
            },
            Err(err) => (JunitOutcome::Unreadable(err), Vec::new()),
        };

        let mut artifacts = junit_files;
        artifacts.extend(
            [&outputs.rerun_file, &outputs.json_report]
                .into_iter()
                .filter(|path| path.is_file())
                .cloned(),
        );
        Ok(conclude_streamed(
            Attempt {
                ctx,
                runner: RUNNER_NAME,
                tool: TOOL,
                process,
                junit,
                ok_codes: &[0, 1],
                artifacts,
            },
            streamed,
        ))
    }
}

/// What behave's JUnit files say.
struct ReadCases {
    /// Every case of every file but those behave never ran.
    cases: Vec<TestCase>,
    /// The names of those it never ran (see [`untested`]).
    never_ran: Vec<String>,
    /// What the files say went wrong beyond the cases.
    problems: Vec<junit::SuiteProblem>,
}

/// Reads behave's JUnit `files`.
fn read_cases(files: &[PathBuf]) -> Result<ReadCases, JunitError> {
    let mut cases = Vec::new();
    let mut never_ran = Vec::new();
    let mut problems = Vec::new();
    for file in files {
        let report = junit::read_report(file)?;
        let mut read: Vec<TestCase> = (report.cases.into_iter())
            .map(|row| message_from_failing_step(row.into_test_case()))
            .collect();
        match untested::read(file) {
            Ok(untested) if !untested.is_empty() => never_ran.extend(untested::take(&mut read, untested)),
            Ok(_) => {}
            // The reader above took the file, so this is not expected; the
            // report's rows stand, and the suite says it.
            Err(err) => problems.push(junit::SuiteProblem::Stated(format!(
                "cannot tell which scenarios behave never ran: {err}"
            ))),
        }
        cases.extend(read);
        problems.extend(report.problems);
    }
    Ok(ReadCases {
        cases,
        never_ran,
        problems,
    })
}

/// behave writes `message="None" type="NoneType"` for a step that failed
/// without an exception to quote, an undefined step above all; its report's
/// `Failing step: When I teleport ... undefined in 0.000s` line says what
/// happened, and becomes the message ("undefined step: When I teleport").
fn message_from_failing_step(mut case: TestCase) -> TestCase {
    let says_nothing = case
        .message
        .as_deref()
        .is_none_or(|message| matches!(message.trim(), "" | "None"));
    if !case.status.is_failure() || !says_nothing {
        return case;
    }
    let failing_step = case.details.as_deref().and_then(|details| {
        details
            .lines()
            .find_map(|line| line.trim().strip_prefix("Failing step:"))
    });
    let Some(line) = failing_step.map(str::trim) else {
        return case;
    };
    let (step, status) = match line.rsplit_once(" ... ") {
        Some((step, rest)) => (step, rest.split_whitespace().next().unwrap_or_default()),
        None => (line, ""),
    };
    case.message = Some(match status {
        "" => format!("failing step: {step}"),
        "undefined" => format!("undefined step: {step}"),
        status => format!("step {status}: {step}"),
    });
    if case.error_type.as_deref() == Some("NoneType") {
        case.error_type = None;
    }
    case
}

/// The cases with selectors and files from behave's JSON report, in run order.
/// A JSON report cut short is a problem of the suite: behave writes it as it
/// goes, so behave stopped early, and its JUnit files (one per feature) name
/// only the features it got through.
fn with_locations(
    ctx: &SuiteContext,
    outputs: &BehaveOutputs,
    cases: Vec<TestCase>,
    problems: &mut Vec<junit::SuiteProblem>,
) -> Vec<TestCase> {
    match locations::Locations::read(&outputs.json_report, &ctx.project_dir) {
        Ok(mut locations) => {
            let overwritten: Vec<String> = (locations.overwritten_reports().into_iter())
                .map(|(first, second)| format!("{first} and {second}"))
                .collect();
            let mut cases = locations::assign(cases, &mut locations);
            if !overwritten.is_empty() {
                // Which scenarios went missing is not known: only a retry of
                // the whole suite may replace this, and it meets the same.
                cases.push(TestCase::unnamed_tests(
                    "the scenarios of overwritten reports",
                    "",
                    format!(
                        "behave writes one JUnit file per feature, named after its path with `.` for `/`, \
                         and one overwrote another: {}; rename one of each",
                        overwritten.join(", ")
                    ),
                ));
            }
            cases
        }
        Err(err @ locations::ReportError::Json(_)) => {
            problems.push(junit::SuiteProblem::Stated(format!(
                "{err} ({}): behave stopped before the end of its run",
                outputs.json_report.display()
            )));
            cases
        }
        Err(err) => {
            log::warn!(
                "[{}] {} ({}); its scenarios cannot be re-run one by one",
                ctx.suite,
                err,
                outputs.json_report.display()
            );
            cases
        }
    }
}

/// On a re-run, only the selected scenarios' rows: behave lists the others
/// of the same feature files as skipped, which is not their new attempt.
fn selected(ctx: &SuiteContext, mut cases: Vec<TestCase>) -> Vec<TestCase> {
    ctx.selection.retain_selected(&mut cases);
    cases
}

/// True when the attempt's logs show that the interpreter has no behave.
fn behave_missing(ctx: &SuiteContext) -> bool {
    [ctx.stderr_log(), ctx.stdout_log()]
        .iter()
        .filter_map(|log| log_tail(log, MISSING_MODULE_LINES))
        .any(|tail| module_missing(&tail, TOOL))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_undefined_step_says_so_instead_of_none() {
        // As behave 1.3 writes it for `When I teleport` with no step definition.
        let mut case = TestCase::new("go", "a.teleport", runner_api::TestStatus::Error);
        case.message = Some("None".into());
        case.error_type = Some("NoneType".into());
        case.details =
            Some("Failing step: When I teleport ... undefined in 0.000s\nLocation: features/a.feature:4\nNone".into());
        let case = message_from_failing_step(case);
        assert_eq!(case.message.as_deref(), Some("undefined step: When I teleport"));
        assert_eq!(case.error_type, None);

        // A real message stays, and so does a passing case's silence.
        let mut real = TestCase::new("go", "a.teleport", runner_api::TestStatus::Failed);
        real.message = Some("Assertion Failed: 2 != 3".into());
        real.details = Some("Failing step: Then I arrive ... failed in 0.001s".into());
        assert_eq!(
            message_from_failing_step(real).message.as_deref(),
            Some("Assertion Failed: 2 != 3")
        );
        let passed = TestCase::new("go", "a.teleport", runner_api::TestStatus::Passed);
        assert_eq!(message_from_failing_step(passed).message, None);
    }

    #[test]
    fn settings_accept_python_and_reject_unknown_keys() {
        let table: toml::Table = toml::from_str("python = '.venv/bin/python'").expect("valid toml");
        assert_eq!(
            parse_settings::<BehaveSettings>(&table).expect("valid settings").python,
            Some(PathBuf::from(".venv/bin/python"))
        );
        let table: toml::Table = toml::from_str("pyhton = 'x'").expect("valid toml");
        let err = BehaveRunner::new().check_settings(&table).expect_err("unknown key");
        assert_eq!(err.key.as_deref(), Some("pyhton"));
    }
}
