//! qaagent's runner for [pytest](https://pytest.org).
//!
//! pytest runs with the project dir as working directory and as `--rootdir`,
//! so `pytest.ini` / `conftest.py` apply and node ids are relative to the
//! project. JUnit is written in the `xunit1` family, whose `file` attribute
//! plus the class segments of `classname` and `name` rebuild each test's node
//! id — the selector a retry passes back to pytest.

mod node_id;
mod stream;

use std::path::{Path, PathBuf};

use runner_api::case::PriorFailure;
use runner_api::conclude::{conclude_streamed, Attempt, JunitOutcome};
use runner_api::junit;
use runner_api::process::{log_tail, ExitKind};
use runner_api::python::{distribution_version, find_python, install_hint, module_missing};
use runner_api::version::VersionCache;
use runner_api::{
    parse_settings, Runner, RunnerError, SettingsError, SuiteContext, SuiteOutcome, SuiteResult, TestCase, TestStatus,
};
use serde::Deserialize;

pub use node_id::node_id;

/// pytest's "no tests were collected" exit code.
const NO_TESTS_COLLECTED: i32 = 5;

/// Keys a `[tests.NAME]` table may hold for pytest, besides the common ones.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PytestSettings {
    /// The interpreter to run pytest with (relative to the project dir).
    pub python: Option<PathBuf>,
}

/// Runs suites with `python -m pytest`.
#[derive(Debug, Default, Clone)]
pub struct PytestRunner {
    /// pytest's version by interpreter and working directory: asked once per run.
    versions: VersionCache<(PathBuf, PathBuf)>,
}

impl PytestRunner {
    /// The runner.
    pub fn new() -> Self {
        PytestRunner::default()
    }
}

impl Runner for PytestRunner {
    fn name(&self) -> &str {
        "pytest"
    }

    fn check_settings(&self, settings: &toml::Table) -> Result<(), SettingsError> {
        parse_settings::<PytestSettings>(settings).map(drop)
    }

    fn tool_version(&self, ctx: &SuiteContext) -> Option<String> {
        let settings = ctx.settings_as::<PytestSettings>().ok()?;
        let python = find_python(settings.python.as_deref(), &ctx.project_dir, "pytest").ok()?;
        let key = (python.clone(), ctx.project_dir.clone());
        self.versions
            .get_or_probe(key, || distribution_version(ctx, &python, "pytest"))
    }

    /// The shipped plugin keeps the share, as pytest-split does.
    fn selects_own_share(&self) -> bool {
        true
    }

    /// The shipped plugin says `pytest.__version__` as pytest starts.
    fn version_in_stream(&self) -> bool {
        true
    }

    /// `pytest --collect-only -q`: the node ids, one a line, before a blank
    /// line and the count.
    fn collect(&self, ctx: &SuiteContext) -> Result<Option<Vec<String>>, RunnerError> {
        let settings = ctx.settings_as::<PytestSettings>()?;
        let python = find_python(settings.python.as_deref(), &ctx.project_dir, "pytest")?;
        let mut cmd = pytest_command(ctx, &python, &[ctx.path.as_os_str()]);
        cmd.args(["--collect-only", "-q"]).args(&ctx.args);
        log::debug!("[{}] {:?}", ctx.suite, cmd);
        let process = ctx.run_supervised(cmd).map_err(|err| spawn_error(&python, err))?;
        let listed = std::fs::read_to_string(ctx.stdout_log()).map_err(|source| RunnerError::Io {
            what: "cannot read pytest's test list",
            path: ctx.stdout_log(),
            source,
        })?;
        match process.exit {
            ExitKind::Code(0) | ExitKind::Code(NO_TESTS_COLLECTED) => Ok(Some(collected_node_ids(&listed))),
            exit => Err(ctx.tool_failed("pytest --collect-only", exit)),
        }
    }

    fn run(&self, ctx: &SuiteContext) -> Result<SuiteResult, RunnerError> {
        let settings = ctx.settings_as::<PytestSettings>()?;
        let python = find_python(settings.python.as_deref(), &ctx.project_dir, "pytest")?;
        let junit_path = ctx.output_dir.join("junit.xml");

        // A node id never starts with `-`; one that does (evidence someone
        // edited) would be read as an option, so it goes as a path, `./-…`.
        let safe: Vec<String> = ctx
            .selected()
            .unwrap_or_default()
            .iter()
            .map(|id| {
                if id.starts_with('-') {
                    format!("./{id}")
                } else {
                    id.clone()
                }
            })
            .collect();
        // Thousands of long node ids overflow the command line (E2BIG): past
        // this many bytes they go in a file pytest reads as `@FILE` (8.2+).
        const ARGS_FILE_OVER: usize = 64 * 1024;
        let args_file;
        let targets: Vec<&std::ffi::OsStr> = match ctx.selected() {
            None => vec![ctx.path.as_os_str()],
            Some(_) if safe.iter().map(String::len).sum::<usize>() > ARGS_FILE_OVER => {
                let path = ctx.output_dir.join("selection.txt");
                runner_api::outdir::create_file(&path)
                    .and_then(|mut file| std::io::Write::write_all(&mut file, (safe.join("\n") + "\n").as_bytes()))
                    .map_err(|source| RunnerError::Io {
                        what: "cannot write the selected node ids",
                        path: path.clone(),
                        source,
                    })?;
                args_file = std::ffi::OsString::from(format!("@{}", path.display()));
                vec![args_file.as_os_str()]
            }
            Some(_) => safe.iter().map(std::ffi::OsStr::new).collect(),
        };
        let mut cmd = pytest_command(ctx, &python, &targets);
        cmd.arg("-o")
            .arg("junit_family=xunit1")
            .arg(format!("--junitxml={}", junit_path.display()))
            .args(["-p", runner_api::python::STREAM_MODULE]);
        runner_api::python::ship_stream_module(ctx, &mut cmd, stream::PLUGIN)?;
        stream::name_share(ctx, &mut cmd);
        cmd.args(&ctx.args);
        log::debug!("[{}] {:?}", ctx.suite, cmd);
        let (process, mut streamed) = ctx
            .run_streaming(cmd, &ctx.stream_file(), &stream::parse)
            .map_err(|err| spawn_error(&python, err))?;

        let junit = if junit_path.is_file() {
            match read_report(&junit_path) {
                Ok((cases, problems)) => JunitOutcome::read(cases, problems),
                Err(err) => JunitOutcome::Unreadable(err),
            }
        } else {
            let tail = log_tail(&ctx.stderr_log(), 20).unwrap_or_default();
            if process.cancelled.is_none() && !process.timed_out && module_missing(&tail, "pytest") {
                return Err(RunnerError::ToolMissing {
                    tool: "pytest".into(),
                    hint: install_hint(&python, "pytest"),
                });
            }
            JunitOutcome::Missing(junit_path.clone())
        };
        let exit = process.exit;
        let no_tests =
            exit == ExitKind::Code(NO_TESTS_COLLECTED) && matches!(&junit, JunitOutcome::Read(c) if c.is_empty());
        let mut process = process;
        if no_tests {
            // Collecting nothing is not an error for pytest's caller: the run
            // level decides (`--no-tests`).
            process.exit = ExitKind::Code(0);
        }
        let mut artifacts = Vec::new();
        if junit_path.is_file() {
            artifacts.push(junit_path);
        }
        let share_tests = streamed.take_share();
        let mut result = conclude_streamed(
            Attempt {
                ctx,
                runner: self.name(),
                tool: "pytest",
                process,
                junit,
                ok_codes: &[0, 1],
                artifacts,
            },
            streamed,
        );
        match share_tests {
            told if ctx.share.is_some() => result.share_tests = told,
            // The plugin keeps a share only when $QAAGENT_SHARE says so,
            // which qaagent sets only for a share: here something else did
            // (the project's conftest), and the rest of the suite never ran.
            Some(told) => result.set_error(
                SuiteOutcome::Errored,
                format!(
                    "pytest kept only {} of the {} tests it collected although the suite is not split \
                     ($QAAGENT_SHARE set by the project?)",
                    told.kept.len(),
                    told.collected.map_or_else(|| "?".to_string(), |n| n.to_string())
                ),
            ),
            None => {}
        }
        if no_tests {
            result.return_code = Some(NO_TESTS_COLLECTED);
            result.tool.exit_code = Some(NO_TESTS_COLLECTED);
        }
        Ok(result)
    }
}

/// `python -m pytest TARGETS` in the project dir, with its cache below the
/// attempt's output and `--rootdir` the project dir unless the suite's args
/// say otherwise; the caller adds its options and then the suite's args.
fn pytest_command(ctx: &SuiteContext, python: &Path, targets: &[&std::ffi::OsStr]) -> std::process::Command {
    let mut cmd = ctx.command(python);
    cmd.current_dir(&ctx.project_dir).args(["-m", "pytest"]).args(targets);
    // pytest's cache (and the plugins that rely on it) keep working, but
    // inside this attempt's output: the project tree stays clean.
    cmd.arg("-o")
        .arg(format!("cache_dir={}", ctx.output_dir.join(".pytest_cache").display()));
    if !ctx.args.iter().any(|arg| arg.starts_with("--rootdir")) {
        cmd.arg(format!("--rootdir={}", ctx.project_dir.display()));
    }
    if !ctx.env.contains_key("PYTHONDONTWRITEBYTECODE") {
        // Keeps __pycache__ (and pytest's rewritten-assert caches) out of the project tree.
        cmd.env("PYTHONDONTWRITEBYTECODE", "1");
    }
    cmd
}

fn spawn_error(python: &Path, err: runner_api::process::ProcessError) -> RunnerError {
    if err.is_not_found() {
        RunnerError::ToolMissing {
            tool: python.display().to_string(),
            hint: install_hint(python, "pytest"),
        }
    } else {
        RunnerError::Process(err)
    }
}

/// The node ids `pytest --collect-only -q` printed: the lines before the
/// first blank one that name a test (`file::name`); warnings and the count
/// come after.
fn collected_node_ids(listed: &str) -> Vec<String> {
    listed
        .lines()
        .take_while(|line| !line.trim().is_empty())
        .filter(|line| line.contains("::"))
        .map(str::to_string)
        .collect()
}

/// A low guess of a pytest report's bytes per test case, for reserving the
/// list of cases (a passing case alone is over 100 bytes of attributes).
const BYTES_PER_CASE_GUESS: u64 = 256;

/// Reads the JUnit report pytest wrote at `path` into cases with node-id
/// selectors, making one case of the rows pytest writes for one test: a
/// failed call and its teardown's error, and each run pytest-rerunfailures
/// repeated. Cases are built as the report streams by, so no second list of
/// raw rows is ever held.
/// What the report says went wrong beyond its cases comes with them.
pub fn read_report(path: &Path) -> Result<(Vec<TestCase>, Vec<junit::SuiteProblem>), junit::JunitError> {
    let file = std::fs::File::open(path).map_err(|source| junit::JunitError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let guess = file.metadata().map_or(0, |meta| meta.len() / BYTES_PER_CASE_GUESS);
    let mut cases = Vec::with_capacity(usize::try_from(guess).unwrap_or(0));
    let mut seen = Seen::default();
    let summary = junit::for_each_case(file, path, |row| push_row(&mut cases, &mut seen, row))?;
    cases.shrink_to_fit();
    Ok((cases, summary.problems))
}

/// Where each test read so far is among the cases, by a hash of its
/// identity ([`TestCase::identity`]: file, class, name with its
/// parametrization), so that finding a test's earlier row holds no second
/// copy of its names.
#[derive(Default)]
struct Seen {
    hasher: std::hash::RandomState,
    at: std::collections::HashMap<u64, usize>,
}

impl Seen {
    /// The case `case` is another row of, if any.
    fn find(&self, cases: &[TestCase], case: &TestCase) -> Option<usize> {
        let at = *self.at.get(&self.hash(case))?;
        if cases[at].identity() == case.identity() {
            Some(at)
        } else {
            // Two identities with one hash: rare enough for a scan.
            cases.iter().rposition(|earlier| earlier.identity() == case.identity())
        }
    }

    fn hash(&self, case: &TestCase) -> u64 {
        std::hash::BuildHasher::hash_one(&self.hasher, case.identity())
    }
}

/// Adds one JUnit row to `cases`, merging it into the case of the same test
/// when an earlier row named it. Under pytest-xdist the rows of other
/// workers' tests come between a test's rows, so that earlier row may be
/// anywhere before this one; tests that differ in file, class or
/// parametrization (pytest-repeat's `[1-3]` too) are never merged.
fn push_row(cases: &mut Vec<TestCase>, seen: &mut Seen, row: junit::JunitCase) {
    let selector = selector(row.file(), row.classname(), row.name());
    let mut case = row.into_test_case();
    case.selector = selector;
    if let Some(at) = seen.find(cases, &case) {
        let previous = &mut cases[at];
        // A failed call and its teardown's error are two rows of one run;
        // any other pair is a run the plugin repeated, then the next.
        let teardown = case.status == TestStatus::Error && previous.status.is_failure();
        if teardown || previous.status == TestStatus::Skipped {
            merge_rows(previous, case);
        } else {
            rerun_by_plugin(previous, case);
        }
        return;
    }
    seen.at.insert(seen.hash(&case), cases.len());
    cases.push(case);
}

/// The selector of the test a JUnit row (or the live stream, which names
/// tests as the rows do) names: its node id. A collection error names the
/// module, not a test: re-running the module is the selection.
fn selector(file: Option<&str>, classname: &str, name: &str) -> Option<String> {
    match file {
        Some(file) if classname.is_empty() => Some(file.to_string()),
        Some(file) => Some(node_id(file, classname, name)),
        None => None,
    }
}

/// pytest-rerunfailures (16.6.1 and newer) writes a row for each run it
/// repeated, then the last run's row: an empty one when the repeated run
/// failed its call (pytest keeps no details of it), a failing one when a
/// subtest failed. pytest itself never writes a second passing row of a
/// test (but with xdist's `--dist each`, which runs every test on every
/// worker: that is read as reruns too). So the earlier run failed and
/// counts as an attempt; a test that then passes is flaky.
fn rerun_by_plugin(earlier: &mut TestCase, mut last: TestCase) {
    last.previous_failures = std::mem::take(&mut earlier.previous_failures);
    let prior = if earlier.status.is_failure() {
        PriorFailure {
            status: earlier.status,
            message: earlier.message.take(),
            error_type: earlier.error_type.take(),
            details: earlier.details.take(),
            duration: earlier.duration,
        }
    } else {
        PriorFailure {
            status: TestStatus::Failed,
            message: Some("failed; pytest-rerunfailures ran it again (its report keeps no details)".into()),
            error_type: None,
            details: None,
            duration: earlier.duration,
        }
    };
    last.previous_failures.push(prior);
    last.attempts = earlier.attempts.max(1) + last.attempts.max(1);
    last.flaky = last.status == TestStatus::Passed;
    *earlier = last;
}

/// A failed call keeps its status and message; the teardown error joins the details.
fn merge_rows(first: &mut TestCase, second: TestCase) {
    if !first.status.is_failure() {
        first.status = second.status;
        first.message = second.message.clone();
        first.error_type = second.error_type.clone();
    }
    let extra = [second.message, second.details]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n");
    if !extra.is_empty() {
        first.details = Some(match first.details.take() {
            Some(details) => format!("{details}\n\n{extra}"),
            None => extra,
        });
    }
    first.duration += second.duration;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cases of a pytest report holding `rows` (`<testcase>` elements).
    fn read(rows: &str) -> Vec<TestCase> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("junit.xml");
        let xml =
            format!(r#"<?xml version="1.0"?><testsuites><testsuite name="pytest">{rows}</testsuite></testsuites>"#);
        std::fs::write(&path, xml).expect("write");
        read_report(&path).expect("a report").0
    }

    fn row(file: &str, name: &str, body: &str) -> String {
        let classname = file.trim_end_matches(".py").replace('/', ".");
        format!(r#"<testcase classname="{classname}" name="{name}" file="{file}" time="0.1">{body}</testcase>"#)
    }

    const FAILED: &str = r#"<failure message="assert 0">boom</failure>"#;

    fn summary(cases: &[TestCase]) -> Vec<(String, TestStatus, u32, bool)> {
        (cases.iter())
            .map(|case| (case.label(), case.status, case.attempts, case.flaky))
            .collect()
    }

    #[test]
    fn a_rerun_row_after_another_workers_row_is_an_attempt_of_its_test() {
        // pytest-xdist with pytest-rerunfailures: test_flaky's repeated run,
        // test_other's row from the other worker, then test_flaky's last run;
        // test_fails is repeated twice and fails every time.
        let a = "tests/test_r.py";
        let rows = [
            row(a, "test_flaky", ""),
            row(a, "test_fails", ""),
            row(a, "test_other", ""),
            row(a, "test_flaky", ""),
            row(a, "test_fails", ""),
            row(a, "test_fails", FAILED),
        ];
        let cases = read(&rows.concat());
        assert_eq!(
            summary(&cases),
            [
                ("tests/test_r.py::test_flaky".into(), TestStatus::Passed, 2, true),
                ("tests/test_r.py::test_fails".into(), TestStatus::Failed, 3, false),
                ("tests/test_r.py::test_other".into(), TestStatus::Passed, 1, false),
            ]
        );
        assert_eq!(cases[1].previous_failures.len(), 2, "{:?}", cases[1]);
    }

    #[test]
    fn a_teardown_error_after_another_workers_row_joins_its_failed_call() {
        let a = "tests/test_a.py";
        let error = r#"<error message="teardown boom">tb</error>"#;
        let rows = [row(a, "test_x", FAILED), row(a, "test_y", ""), row(a, "test_x", error)];
        let cases = read(&rows.concat());
        assert_eq!(cases.len(), 2);
        assert_eq!((cases[0].status, cases[0].attempts), (TestStatus::Failed, 1));
        assert!(
            cases[0].details.as_deref().is_some_and(|d| d.contains("teardown boom")),
            "{:?}",
            cases[0]
        );
    }

    #[test]
    fn tests_named_alike_in_other_files_or_with_other_ids_stay_apart() {
        let rows = [
            row("tests/test_a.py", "test_x", ""),
            row("tests/test_b.py", "test_x", FAILED),
            row("tests/test_a.py", "test_x[1-2]", ""),
            row("tests/test_a.py", "test_x[2-2]", ""),
        ];
        let cases = read(&rows.concat());
        assert_eq!(
            summary(&cases),
            [
                ("tests/test_a.py::test_x".into(), TestStatus::Passed, 1, false),
                ("tests/test_b.py::test_x".into(), TestStatus::Failed, 1, false),
                ("tests/test_a.py::test_x[1-2]".into(), TestStatus::Passed, 1, false),
                ("tests/test_a.py::test_x[2-2]".into(), TestStatus::Passed, 1, false),
            ]
        );
    }
}
