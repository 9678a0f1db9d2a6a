//! [`PlaywrightRunner`]: one attempt of a Playwright Test suite.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use runner_api::conclude::{conclude_streamed, Attempt, JunitOutcome};
use runner_api::junit::{self, JunitCase};
use runner_api::{parse_settings, RunnerError, SettingsError, SuiteContext, SuiteOutcome, SuiteResult, TestCase};

use crate::install::{self, InstallOutcome};
use crate::settings::PlaywrightSettings;
use crate::version::{self, Version};
use crate::{json_report, locations, reporters, selector, stream};

/// The name users write as `runner = "playwright"`.
pub const RUNNER_NAME: &str = "playwright";

/// The tool's name in the manifest.
pub const TOOL_NAME: &str = "playwright";

/// Exit codes with which `playwright test` says the tests ran: 0 all passed,
/// 1 something failed (it also uses 1 for config errors, which the JUnit
/// check in [`conclude`] catches).
const OK_CODES: &[i32] = &[0, 1];

/// Runs Playwright Test suites with `npx playwright test`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlaywrightRunner;

impl PlaywrightRunner {
    /// The runner.
    pub fn new() -> Self {
        PlaywrightRunner
    }
}

/// Where an attempt's files go, all below its output directory.
#[derive(Debug, Clone)]
struct Outputs {
    junit: PathBuf,
    json: PathBuf,
    results: PathBuf,
    test_list: PathBuf,
}

impl Outputs {
    fn new(output_dir: &Path) -> Self {
        Outputs {
            junit: output_dir.join("junit.xml"),
            json: output_dir.join("report.json"),
            results: output_dir.join("test-results"),
            test_list: output_dir.join("test-list.txt"),
        }
    }
}

impl runner_api::Runner for PlaywrightRunner {
    fn name(&self) -> &str {
        RUNNER_NAME
    }

    fn check_settings(&self, settings: &toml::Table) -> Result<(), SettingsError> {
        parse_settings::<PlaywrightSettings>(settings).map(|_| ())
    }

    fn tool_version(&self, ctx: &SuiteContext) -> Option<String> {
        install::require_node(ctx, &["node", "npx"]).ok()?;
        install::installed_version(&ctx.path)
    }

    /// Playwright that is not installed yet but will be, by the run itself;
    /// or installed, with a `package.json` that cannot be read (a FIFO, over
    /// 1 MiB: once said "not found", though the run starts it).
    fn version_unknown_because(&self, ctx: &SuiteContext) -> Option<String> {
        install::require_node(ctx, &["node", "npx"]).ok()?;
        if let Some(bin) = install::playwright_bin(&ctx.path) {
            return Some(format!(
                "installed ({}), version unknown: the package.json beside it cannot be read (-v says why)",
                bin.display()
            ));
        }
        let npm = install::needed(&ctx.path)?;
        let settings = ctx.settings_as::<PlaywrightSettings>().ok()?;
        settings.install_enabled().then(|| {
            format!(
                "not installed yet: the run will `{}` in {} first",
                npm.describe(),
                ctx.path.display()
            )
        })
    }

    /// Playwright Test runs a suite on workers of its own (`workers` in its
    /// config), so qaagent does not split it.
    fn has_own_workers(&self) -> bool {
        true
    }

    /// `playwright test --list --reporter=json`, after the install a run
    /// would do first.
    fn collect(&self, ctx: &SuiteContext) -> Result<Option<Vec<String>>, RunnerError> {
        let settings = ctx.settings_as::<PlaywrightSettings>()?;
        install::require_node(ctx, &["node", "npx"])?;
        if let Some(npm) = install::needed(&ctx.path) {
            if !settings.install_enabled() {
                return Ok(None);
            }
            if let InstallOutcome::Failed(result) = install::run(ctx, npm, RUNNER_NAME, TOOL_NAME)? {
                return Err(RunnerError::Other(result.error.clone().unwrap_or_default()));
            }
        }
        let outputs = Outputs::new(&ctx.output_dir);
        let mut list = playwright_test(ctx, &outputs);
        list.args(settings.projects().iter().map(|project| format!("--project={project}")))
            .args(&ctx.args);
        let listed = locations::list_tests(ctx, list).map_err(RunnerError::Other)?;
        Ok(Some(listed.into_iter().map(|test| test.selector).collect()))
    }

    fn run(&self, ctx: &SuiteContext) -> Result<SuiteResult, RunnerError> {
        let settings = ctx.settings_as::<PlaywrightSettings>()?;
        if let Some(arg) = ctx.args.iter().find(|arg| *arg == "--list") {
            // Playwright would list the tests, run none, and report them all skipped.
            return Err(RunnerError::Other(format!(
                "the suite's args hold `{arg}`, which lists the tests without running them; remove it"
            )));
        }
        if !ctx.path.is_dir() {
            return Err(RunnerError::Other(format!(
                "the suite's path {} is not a directory",
                ctx.path.display()
            )));
        }
        install::require_node(ctx, &["node", "npx"])?;

        let mut test_ctx = ctx.clone();
        let mut install_took = Duration::ZERO;
        if let Some(npm) = install::needed(&ctx.path) {
            if !settings.install_enabled() {
                return Err(not_installed(
                    ctx,
                    format!(
                        "node_modules is missing in {} and the suite says `install = false`; run `{}` there",
                        ctx.path.display(),
                        npm.describe()
                    ),
                ));
            }
            match install::run(ctx, npm, RUNNER_NAME, TOOL_NAME)? {
                InstallOutcome::Failed(result) => return Ok(*result),
                InstallOutcome::Done(took) => {
                    install_took = took;
                    // The install and the tests share the suite's timeout.
                    if let Some(timeout) = ctx.timeout {
                        let left = timeout.saturating_sub(took);
                        if left.is_zero() {
                            let mut result = SuiteResult::new(&ctx.suite, RUNNER_NAME);
                            result.output_dir = Some(ctx.output_dir.clone());
                            result.duration = took;
                            result.set_error(
                                SuiteOutcome::TimedOut,
                                format!(
                                    "timed out after {} s: `{}` used it all",
                                    timeout.as_secs_f64(),
                                    npm.describe()
                                ),
                            );
                            return Ok(result);
                        }
                        test_ctx.timeout = Some(left);
                    }
                }
            }
        }
        if install::playwright_bin(&ctx.path).is_none() {
            let hint = if ctx.path.join("package.json").is_file() {
                format!(
                    "@playwright/test is not installed for {}; add it with `npm install -D @playwright/test` there",
                    ctx.path.display()
                )
            } else {
                format!(
                    "{} has no package.json and no node_modules with Playwright; set it up with \
                     `npm init -y && npm install -D @playwright/test` there",
                    ctx.path.display()
                )
            };
            return Err(not_installed(ctx, hint));
        }

        let installed = install::installed_version(&ctx.path);
        if let Some(why) = installed.as_deref().and_then(version::unsupported) {
            return Err(RunnerError::Other(why));
        }
        let version = installed.as_deref().and_then(Version::parse);
        let outputs = Outputs::new(&ctx.output_dir);
        let reporter = ctx.output_dir.join(stream::REPORTER_FILE);
        runner_api::outdir::create_file(&reporter)
            .and_then(|mut file| std::io::Write::write_all(&mut file, stream::REPORTER.as_bytes()))
            .map_err(|source| RunnerError::Io {
                what: "cannot write qaagent's stream reporter",
                path: reporter.clone(),
                source,
            })?;
        let mut cmd = self.command(&test_ctx, &settings, &outputs, version, &reporter)?;
        cmd.env(runner_api::stream::STREAM_ENV, ctx.stream_file());
        log::debug!("[{}] running {cmd:?}", ctx.suite);
        let parse = |line: &str| match stream::parse(line, &ctx.path)? {
            runner_api::StreamLine::Finished(mut case) => {
                keep_own_attachments(ctx, &mut case);
                Some(runner_api::StreamLine::Finished(case))
            }
            other => Some(other),
        };
        let (process, streamed) = test_ctx.run_streaming(cmd, &ctx.stream_file(), &parse).map_err(|err| {
            if err.is_not_found() {
                RunnerError::ToolMissing {
                    tool: "npx".into(),
                    hint: "install Node.js 20 or newer with npm and npx".into(),
                }
            } else {
                err.into()
            }
        })?;

        let junit = read_cases(ctx, &outputs);
        let mut artifacts: Vec<PathBuf> = [
            install::stdout_log(ctx),
            install::stderr_log(ctx),
            outputs.junit.clone(),
            outputs.json.clone(),
            outputs.test_list.clone(),
        ]
        .into_iter()
        .filter(|path| path.is_file())
        .collect();
        collect_files(&outputs.results, &mut artifacts);
        let mut result = conclude_streamed(
            Attempt {
                ctx,
                runner: RUNNER_NAME,
                tool: TOOL_NAME,
                process,
                junit,
                ok_codes: OK_CODES,
                artifacts,
            },
            streamed,
        );
        add_attachments(&result.cases, &mut result.artifacts);
        // The suite's wall time includes its install.
        result.duration += install_took;
        if let Some(selected) = ctx.selected() {
            // A selector --test-list does not match selects nothing, and Playwright exits 0.
            let unmatched: Vec<&String> = selected
                .iter()
                .filter(|wanted| !result.cases.iter().any(|case| case.selector.as_ref() == Some(*wanted)))
                .collect();
            if !unmatched.is_empty() && result.error.is_none() {
                log::warn!(
                    "[{}] Playwright ran none of these selected tests: {}",
                    ctx.suite,
                    unmatched.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("; ")
                );
            }
        }
        Ok(result)
    }
}

impl PlaywrightRunner {
    /// `npx --no -- playwright test …` with qaagent's reporters and output
    /// directory, the selection, the settings' projects and the suite's args,
    /// as Playwright `version` (`None`: unknown, taken as the newest) takes them.
    fn command(
        &self,
        ctx: &SuiteContext,
        settings: &PlaywrightSettings,
        outputs: &Outputs,
        version: Option<Version>,
        stream_reporter: &Path,
    ) -> Result<Command, RunnerError> {
        let mut projects = settings.projects().to_vec();
        let mut locations = Vec::new();
        let mut cmd = playwright_test(ctx, outputs);
        if let Some(selected) = ctx.selected() {
            if version.is_none_or(Version::has_test_list) {
                runner_api::outdir::create_file(&outputs.test_list)
                    .and_then(|mut file| std::io::Write::write_all(&mut file, selector::test_list(selected).as_bytes()))
                    .map_err(|source| RunnerError::Io {
                        what: "cannot write the Playwright test list",
                        path: outputs.test_list.clone(),
                        source,
                    })?;
                cmd.arg(format!("--test-list={}", outputs.test_list.display()));
            } else {
                let mut list = playwright_test(ctx, outputs);
                list.args(projects.iter().map(|project| format!("--project={project}")))
                    .args(&ctx.args);
                let located = locations::locate(ctx, list, selected)?;
                if !located.missing.is_empty() {
                    log::warn!(
                        "[{}] `playwright test --list` does not list these selected tests: {}",
                        ctx.suite,
                        located.missing.join("; ")
                    );
                }
                if located.args.is_empty() {
                    return Err(RunnerError::Other(format!(
                        "none of the {} selected test(s) is in the suite any more (`playwright test --list`)",
                        selected.len()
                    )));
                }
                projects = located.projects.unwrap_or(projects);
                locations = located.args;
            }
        }
        reporters::add(&mut cmd, ctx, version, Some(stream_reporter));
        cmd.args(projects.iter().map(|project| format!("--project={project}")))
            .args(&ctx.args)
            .args(locations);
        Ok(cmd)
    }
}

/// `npx --no -- playwright test` in the suite's path, with its test output,
/// JUnit and JSON reports in the attempt's output directory.
fn playwright_test(ctx: &SuiteContext, outputs: &Outputs) -> Command {
    let mut cmd = npx_playwright(ctx);
    cmd.current_dir(&ctx.path)
        .arg("test")
        .arg(format!("--output={}", outputs.results.display()))
        .env("PLAYWRIGHT_JUNIT_OUTPUT_FILE", &outputs.junit)
        .env("PLAYWRIGHT_JSON_OUTPUT_FILE", &outputs.json)
        // Selectors are built from the plain JUnit names.
        .env("PLAYWRIGHT_JUNIT_INCLUDE_PROJECT_IN_TEST_NAME", "0")
        // `.last-run.json` belongs in this attempt's --output directory.
        .env_remove("PLAYWRIGHT_LAST_RUN_OUTPUT_FILE");
    cmd
}

/// `npx --no -- playwright`: `--no` keeps npx from fetching a `playwright`
/// package from the registry when the project has none installed, and `--`
/// keeps npm from taking flags like `--version` for itself.
fn npx_playwright(ctx: &SuiteContext) -> Command {
    let mut cmd = ctx.command("npx");
    cmd.args(["--no", "--", "playwright"])
        .env("NPM_CONFIG_UPDATE_NOTIFIER", "false");
    cmd
}

fn not_installed(ctx: &SuiteContext, hint: String) -> RunnerError {
    log::debug!("[{}] Playwright not runnable: {hint}", ctx.suite);
    RunnerError::ToolMissing {
        tool: "@playwright/test".into(),
        hint,
    }
}

/// The attempt's cases, each with its selector and its file (relative to the
/// suite's path when inside it): from the JSON report, which knows
/// Playwright's own retries and each test's attachments, else from the
/// JUnit report.
fn read_cases(ctx: &SuiteContext, outputs: &Outputs) -> JunitOutcome {
    if outputs.json.is_file() {
        match json_report::read(&outputs.json, &ctx.path) {
            Ok(mut report) => {
                for case in &mut report.cases {
                    keep_own_attachments(ctx, case);
                }
                return JunitOutcome::read(report.cases, report.problems);
            }
            Err(err) => log::warn!("[{}] {err}; reading the JUnit report instead", ctx.suite),
        }
    }
    if !outputs.junit.is_file() {
        return JunitOutcome::Missing(outputs.junit.clone());
    }
    let report = match junit::read_report(&outputs.junit) {
        Ok(report) => report,
        Err(err) => return JunitOutcome::Unreadable(err),
    };
    let root_dir = selector::root_dir_from_json_report(&outputs.json);
    let cases = report
        .cases
        .into_iter()
        .map(|row| to_case(ctx, root_dir.as_deref(), row))
        .collect();
    JunitOutcome::read(cases, report.problems)
}

fn to_case(ctx: &SuiteContext, root_dir: Option<&Path>, row: JunitCase) -> TestCase {
    let project = row.hostname().unwrap_or_default().to_string();
    let selector = selector::selector(&project, row.classname(), row.name());
    let file = match root_dir {
        Some(root_dir) => selector::case_file(root_dir, row.classname(), &ctx.path),
        // Without the JSON report the file is only known relative to the testDir.
        None => row.classname().to_string(),
    };
    let classname = json_report::classname(&project, row.classname());
    let mut case = row.into_test_case();
    case.classname = classname;
    case.file = Some(file);
    case.selector = Some(selector);
    case
}

/// Keeps of a case's attachments those inside the attempt's output
/// directory, where Playwright writes and copies them: a report naming a
/// file elsewhere must not make qaagent copy it into the evidence.
fn keep_own_attachments(ctx: &SuiteContext, case: &mut TestCase) {
    let inside = |path: &Path| {
        path.starts_with(&ctx.output_dir)
            && path
                .components()
                .all(|part| !matches!(part, std::path::Component::ParentDir))
    };
    if case.attachments.iter().all(|path| inside(path)) {
        return;
    }
    let label = case.label();
    case.attachments.retain(|path| {
        let kept = inside(path);
        if !kept {
            log::warn!(
                "[{}] not keeping attachment {} of {label}: it is outside the attempt's output directory",
                ctx.suite,
                path.display(),
            );
        }
        kept
    });
}

/// Adds to `artifacts` each case's attachments that are files and not
/// already there, so that a test's evidence can refer to them.
fn add_attachments(cases: &[TestCase], artifacts: &mut Vec<PathBuf>) {
    let mut known: std::collections::HashSet<PathBuf> = artifacts.iter().cloned().collect();
    for path in cases.iter().flat_map(|case| &case.attachments) {
        if path.is_file() && known.insert(path.clone()) {
            artifacts.push(path.clone());
        }
    }
}

/// Every file below `dir`, sorted, appended to `files`.
fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect_files(&path, files);
        } else if path.is_file() {
            files.push(path);
        }
    }
}
