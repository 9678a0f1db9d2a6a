//! qaagent's `command` runner: any tool that writes JUnit XML, declared in
//! config alone.
//!
//! ```toml
//! [tests.api]
//! runner = "command"
//! path = "api"
//! command = ["node", "--test", "--test-reporter=junit", "--test-reporter-destination={junit}"]
//! # junit = "{junit}"          file or directory the tool writes; default {out}/junit.xml
//! # cwd = "api"                working directory, relative to the project dir (the default)
//! # rerun = ["--test-name-pattern=^({selectors})$"]   how to run only the failed tests
//! # selector = "{name}"  separator = "|"  escape = "regex"
//! # ok_exit_codes = [0, 1]  version = ["node", "--version"]
//! # list = ["tool", "--list"]  one selector a line, for run-all --partition
//! ```
//!
//! - `command` is an argv, run without a shell, in `cwd` (default: the
//!   project dir; relative paths resolve against the project dir). A program
//!   with a `/` in it resolves against `cwd`; a bare name is looked up on `PATH`.
//! - Placeholders `{junit}`, `{out}`, `{path}`, `{project}` and `{base_url}`
//!   are expanded in `command`, `junit`, `cwd`, `rerun`, `version`, `list` and the
//!   suite's `env` values. `{junit}` is the report path: `junit` resolved
//!   against `cwd`, where `{junit}` itself means `{out}/junit.xml`.
//! - The suite's `args` go where an element `{args}` stands, else at the end.
//! - Retries: with a `rerun` template, each failed test's selector (formed by
//!   `selector` from its JUnit row: `{name}`, `{classname}`, `{suite}`,
//!   `{file}`) is put into `rerun` — an element that is exactly `{selectors}`
//!   becomes one argument per selector, an element holding it among other text
//!   gets them joined by `separator` — and the result goes where `{rerun}`
//!   stands, else at the very end. Without `rerun` no case gets a selector, so
//!   the orchestrator re-runs the whole suite, and the runner says so.
//! - Before each attempt, a report already at `{junit}` is moved out of the
//!   way ([`runner_api::conclude::set_aside_reports`]), so only what the tool
//!   writes can be read. A directory is read with its subdirectories, not
//!   qaagent's own output inside it ([`runner_api::report_dir`]); one
//!   holding the project is refused. Each case's record refers to its own
//!   report file. A report outside `{out}` is copied into the
//!   attempt's output dir once read, so a retry cannot overwrite it: each
//!   attempt's artifacts hold its own report.
//! - The tool's report decides the result; its exit code must be one of
//!   `ok_exit_codes` (default 0 and 1), a non-zero exit needs a failure in the
//!   report, and no report is an error carrying the log tail
//!   ([`runner_api::conclude::conclude`]).

mod report;
pub mod settings;
pub mod template;

use std::path::{Path, PathBuf};
use std::process::Command;

use runner_api::conclude::{conclude, set_aside_reports, Attempt, JunitOutcome};
use runner_api::process::ExitKind;
use runner_api::{Runner, RunnerError, SettingsError, SuiteContext, SuiteResult, TestCase};

pub use settings::{CommandSettings, Escape};
use template::Placeholders;

/// The runner's name, as written `runner = "command"`.
pub const NAME: &str = "command";

/// The argv element that marks where the suite's `args` go.
const ARGS_SLOT: &str = "{args}";

/// The argv element that marks where a retry's selection goes.
const RERUN_SLOT: &str = "{rerun}";

/// Runs any tool that writes JUnit XML, as its suite's settings describe.
#[derive(Debug, Default, Clone)]
pub struct CommandRunner;

impl CommandRunner {
    /// The runner.
    pub fn new() -> Self {
        CommandRunner
    }
}

/// Everything about one attempt that follows from the settings and the context.
#[derive(Debug)]
struct Prepared {
    cwd: PathBuf,
    junit: PathBuf,
    placeholders: Placeholders,
}

impl Prepared {
    fn new(settings: &CommandSettings, ctx: &SuiteContext) -> Result<Self, RunnerError> {
        let mut placeholders = Placeholders {
            junit: ctx.output_dir.join("junit.xml").display().to_string(),
            out: ctx.output_dir.display().to_string(),
            path: ctx.path.display().to_string(),
            project: ctx.project_dir.display().to_string(),
            base_url: ctx.base_url.clone(),
        };
        let cwd = match &settings.cwd {
            Some(cwd) => ctx.project_dir.join(expand(&placeholders, "cwd", cwd)?),
            None => ctx.project_dir.clone(),
        };
        let junit = cwd.join(expand(&placeholders, "junit", &settings.junit)?);
        placeholders.junit = junit.display().to_string();
        Ok(Prepared {
            cwd,
            junit,
            placeholders,
        })
    }

    /// The argv with placeholders, `args` and the re-run selection in place.
    fn argv(&self, settings: &CommandSettings, ctx: &SuiteContext) -> Result<Vec<String>, RunnerError> {
        let rerun = match (ctx.selected(), &settings.rerun) {
            (Some(selectors), Some(template)) => {
                log::info!(
                    "[{}] attempt {}: running {} selected test(s) through the `rerun` template",
                    ctx.suite,
                    ctx.attempt,
                    selectors.len()
                );
                template::rerun_args(
                    template,
                    selectors,
                    &settings.separator,
                    settings.escape,
                    &self.placeholders,
                )
                .map_err(|err| settings_error("rerun", err))?
            }
            (Some(_), None) => {
                log::info!(
                    "[{}] attempt {}: no `rerun` template, so the whole suite runs again",
                    ctx.suite,
                    ctx.attempt
                );
                Vec::new()
            }
            (None, _) => {
                if ctx.attempt > 1 {
                    log::info!("[{}] attempt {}: re-running the whole suite", ctx.suite, ctx.attempt);
                }
                Vec::new()
            }
        };
        let mut argv = Vec::with_capacity(settings.command.len() + ctx.args.len() + rerun.len());
        let (mut args_placed, mut rerun_placed) = (false, false);
        for element in &settings.command {
            if element == ARGS_SLOT {
                argv.extend(ctx.args.iter().cloned());
                args_placed = true;
            } else if element == RERUN_SLOT {
                argv.extend(rerun.iter().cloned());
                rerun_placed = true;
            } else {
                argv.push(expand(&self.placeholders, "command", element)?);
            }
        }
        if !args_placed {
            argv.extend(ctx.args.iter().cloned());
        }
        if !rerun_placed {
            argv.extend(rerun);
        }
        Ok(argv)
    }

    /// A command for `argv` in `cwd`, with the suite's env (placeholders expanded).
    fn command(&self, argv: &[String], ctx: &SuiteContext) -> Result<Command, RunnerError> {
        let (program, args) = argv.split_first().ok_or_else(|| {
            RunnerError::Settings(SettingsError {
                key: Some("command".into()),
                message: "is empty".into(),
            })
        })?;
        let mut cmd = ctx.command(resolve_program(program, &self.cwd));
        cmd.args(args).current_dir(&self.cwd);
        for (key, value) in &ctx.env {
            let expanded = expand(&self.placeholders, "env", value)?;
            if &expanded != value {
                cmd.env(key, expanded);
            }
        }
        Ok(cmd)
    }
}

impl Runner for CommandRunner {
    fn name(&self) -> &str {
        NAME
    }

    fn check_settings(&self, settings: &toml::Table) -> Result<(), SettingsError> {
        CommandSettings::from_table(settings).map(drop)
    }

    fn tool_version(&self, ctx: &SuiteContext) -> Option<String> {
        let settings = ctx.settings_with(CommandSettings::from_table).ok()?;
        let version = settings.version.as_ref()?;
        let prepared = Prepared::new(&settings, ctx).ok()?;
        let argv: Vec<String> = version
            .iter()
            .map(|arg| prepared.placeholders.expand(arg))
            .collect::<Result<_, _>>()
            .ok()?;
        let cmd = prepared.command(&argv, ctx).ok()?;
        ctx.probe(cmd)
            .map_err(|err| log::debug!("[{}] no version: {err}", ctx.suite))
            .ok()?
            .first_line()
    }

    fn version_unknown_because(&self, ctx: &SuiteContext) -> Option<String> {
        let settings = ctx.settings_with(CommandSettings::from_table).ok()?;
        if settings.version.is_some() {
            return None;
        }
        let prepared = Prepared::new(&settings, ctx).ok()?;
        let argv = prepared.argv(&settings, ctx).ok()?;
        let program = argv.first()?;
        let path = resolve_program(program, &prepared.cwd);
        let found = if path.components().count() == 1 {
            ctx.which(program)
        } else {
            path.is_file().then_some(path)
        }?;
        Some(format!(
            "{} (version not asked: the suite has no `version` key)",
            found.display()
        ))
    }

    /// The `list` command's lines, each a selector.
    fn collect(&self, ctx: &SuiteContext) -> Result<Option<Vec<String>>, RunnerError> {
        let settings = ctx.settings_with(CommandSettings::from_table)?;
        let Some(list) = &settings.list else {
            return Ok(None);
        };
        let prepared = Prepared::new(&settings, ctx)?;
        let argv: Vec<String> = list
            .iter()
            .map(|arg| expand(&prepared.placeholders, "list", arg))
            .collect::<Result<_, _>>()?;
        let cmd = prepared.command(&argv, ctx)?;
        log::debug!("[{}] listing with {argv:?}", ctx.suite);
        let process = ctx.run_supervised(cmd)?;
        if process.exit != runner_api::process::ExitKind::Code(0) {
            return Err(ctx.tool_failed("the `list` command", process.exit));
        }
        // Through `open_written`: the command may leave a FIFO there.
        let listed = runner_api::outdir::open_written(&ctx.stdout_log()).and_then(std::io::read_to_string);
        let listed = listed.map_err(|source| RunnerError::Io {
            what: "cannot read the `list` command's output",
            path: ctx.stdout_log(),
            source,
        })?;
        Ok(Some(
            listed
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .map(str::to_string)
                .collect(),
        ))
    }

    fn run(&self, ctx: &SuiteContext) -> Result<SuiteResult, RunnerError> {
        let settings = ctx.settings_with(CommandSettings::from_table)?;
        let prepared = Prepared::new(&settings, ctx)?;
        let argv = prepared.argv(&settings, ctx)?;
        let program = argv.first().cloned().unwrap_or_default();
        let tool = tool_name(&program);
        let cmd = prepared.command(&argv, ctx)?;
        if !prepared.cwd.is_dir() {
            return Err(RunnerError::Other(format!(
                "the working directory {} does not exist (`cwd` in [tests.{}], relative to the project dir)",
                prepared.cwd.display(),
                ctx.suite
            )));
        }
        log::debug!("[{}] in {}: {:?}", ctx.suite, prepared.cwd.display(), argv);
        refuse_the_project_as_report_dir(&prepared.junit, ctx)?;
        let _held = runner_api::claim::report_path(&prepared.junit, &ctx.suite, Some(&ctx.output_dir))
            .map_err(RunnerError::Other)?;

        set_aside_reports(ctx, &prepared.junit)?;
        let process = ctx.run_supervised(cmd).map_err(|err| {
            if !err.is_not_found() {
                return RunnerError::Process(err);
            }
            let hint = if program.contains('/') {
                format!(
                    "{} does not exist; a relative program path in `command` of [tests.{}] resolves against its cwd, {}",
                    resolve_program(&program, &prepared.cwd).display(),
                    ctx.suite,
                    prepared.cwd.display()
                )
            } else {
                format!("install it or put it on PATH (the first element of `command` in [tests.{}])", ctx.suite)
            };
            RunnerError::ToolMissing { tool: program.clone(), hint }
        })?;

        let (reports, report_files) = report::read(ctx, &prepared.junit);
        let (kept, artifacts) = report::keep(ctx, &prepared.junit, report_files);
        let junit = match reports {
            Ok(reports) => {
                let (mut cases, mut problems) = (Vec::new(), Vec::new());
                for (mut report, source) in reports.into_iter().zip(&kept) {
                    cases.extend(into_cases(report.cases, &settings, source));
                    problems.append(&mut report.problems);
                }
                JunitOutcome::read(cases, problems)
            }
            Err(outcome) => outcome,
        };
        let failures = match &junit {
            JunitOutcome::Read(cases) | JunitOutcome::Flagged(cases, _) => {
                cases.iter().filter(|case| case.status.is_failure()).count()
            }
            _ => 0,
        };
        let exit = process.exit;
        let mut result = conclude(Attempt {
            ctx,
            runner: NAME,
            tool: &tool,
            process,
            junit,
            ok_codes: &settings.ok_exit_codes,
            artifacts,
        });
        if let ExitKind::Code(code) = exit {
            if failures > 0 && !settings.ok_exit_codes.contains(&code) && result.error.is_some() {
                // The tool ran the tests and reported failures: most likely its
                // "tests failed" code is simply not the usual 1 (nextest says 100).
                let hint = format!("if code {code} means \"tests failed\", add it to ok_exit_codes");
                if let Some(error) = result.error.as_mut() {
                    *error = format!("{error} ({hint})");
                }
                result.tool.error = result.error.clone();
            }
        }
        Ok(result)
    }
}

/// Cases from the JUnit rows of the report kept at `source`, each naming
/// that report as its own (its record refers to it, not to every report of
/// a directory of thousands). Each gets a selector only when the suite can
/// select tests again (it has a `rerun` template), so retries of a suite
/// without one re-run it whole.
fn into_cases(rows: Vec<runner_api::junit::JunitCase>, settings: &CommandSettings, source: &Path) -> Vec<TestCase> {
    rows.into_iter()
        .map(|row| {
            let selector = settings
                .rerun
                .as_ref()
                .map(|_| template::selector(&settings.selector, &row));
            let mut case = row.into_test_case();
            case.selector = selector;
            case.attachments = vec![source.to_path_buf()];
            case
        })
        .collect()
}

/// A report directory holding the project (`junit = "."`) is refused:
/// every `*.xml` file below it would be read as the tool's report (a
/// `pom.xml`, test data), and any report the project keeps moved away
/// before each attempt.
fn refuse_the_project_as_report_dir(junit: &Path, ctx: &SuiteContext) -> Result<(), RunnerError> {
    let (Ok(junit), Ok(project)) = (std::fs::canonicalize(junit), std::fs::canonicalize(&ctx.project_dir)) else {
        return Ok(());
    };
    if !project.starts_with(&junit) {
        return Ok(());
    }
    Err(RunnerError::Settings(SettingsError {
        key: Some("junit".into()),
        message: format!(
            "junit: the report directory {} holds the project: every *.xml file below it would be read as the tool's report; point `junit` at the file or directory the tool writes its reports to (e.g. \"build/test-results\")",
            junit.display()
        ),
    }))
}

fn expand(placeholders: &Placeholders, key: &str, text: &str) -> Result<String, RunnerError> {
    placeholders.expand(text).map_err(|err| settings_error(key, err))
}

fn settings_error(key: &str, err: template::TemplateError) -> RunnerError {
    RunnerError::Settings(SettingsError {
        key: Some(key.to_string()),
        message: format!("{key}: {err}"),
    })
}

/// A relative program path with a `/` in it names a file below `cwd` (Rust
/// leaves unspecified whether it resolves against the parent's or the
/// child's working directory); a bare name is looked up on `PATH`.
fn resolve_program(program: &str, cwd: &Path) -> PathBuf {
    let path = Path::new(program);
    if path.is_relative() && path.components().count() > 1 {
        cwd.join(path)
    } else {
        path.to_path_buf()
    }
}

/// The tool's name for the manifest: the program's file name.
fn tool_name(program: &str) -> String {
    Path::new(program)
        .file_name()
        .map_or_else(|| program.to_string(), |name| name.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(settings: &str) -> SuiteContext {
        let mut ctx = SuiteContext::new("api", "/project", "/project/api", "/out/api");
        ctx.settings = toml::from_str(settings).expect("valid toml");
        ctx
    }

    fn argv(ctx: &SuiteContext) -> Vec<String> {
        let settings = CommandSettings::from_table(&ctx.settings).expect("valid settings");
        let prepared = Prepared::new(&settings, ctx).expect("prepared");
        prepared.argv(&settings, ctx).expect("argv")
    }

    #[test]
    fn junit_defaults_to_the_output_dir_and_relative_paths_follow_cwd() {
        let c = ctx("command = ['tool', '--junit', '{junit}']");
        assert_eq!(argv(&c), ["tool", "--junit", "/out/api/junit.xml"]);
        let c = ctx("command = ['tool', '{junit}']\ncwd = 'api'\njunit = 'reports/'");
        assert_eq!(argv(&c), ["tool", "/project/api/reports/"]);
        let c = ctx("command = ['tool', '{junit}']\ncwd = '{path}'\njunit = '{out}/r.xml'");
        assert_eq!(argv(&c), ["tool", "/out/api/r.xml"]);
    }

    #[test]
    fn args_and_rerun_go_to_their_slots_or_the_end() {
        let mut c = ctx("command = ['tool', 'run']\nrerun = ['--only', '{selectors}']");
        c.args = vec!["-v".into()];
        assert_eq!(argv(&c), ["tool", "run", "-v"]);
        c.selection = runner_api::Selection::Only(vec!["a".into(), "b".into()]);
        assert_eq!(argv(&c), ["tool", "run", "-v", "--only", "a", "b"]);
        c.settings = toml::from_str("command = ['tool', '{rerun}', '{args}', 'tests/']\nrerun = ['-k={selectors}']")
            .expect("toml");
        assert_eq!(argv(&c), ["tool", "-k=a|b", "-v", "tests/"]);
        c.selection = runner_api::Selection::All;
        assert_eq!(argv(&c), ["tool", "-v", "tests/"]);
    }

    #[test]
    fn without_a_rerun_template_a_selection_runs_everything() {
        let mut c = ctx("command = ['tool']");
        c.selection = runner_api::Selection::Only(vec!["a".into()]);
        c.attempt = 2;
        assert_eq!(argv(&c), ["tool"]);
    }

    #[test]
    fn base_url_placeholder_needs_a_base_url() {
        let c = ctx("command = ['tool', '--url', '{base_url}']");
        let settings = CommandSettings::from_table(&c.settings).expect("valid");
        let prepared = Prepared::new(&settings, &c).expect("prepared");
        let err = prepared.argv(&settings, &c).expect_err("no base url");
        assert!(err.to_string().contains("no base_url is configured"), "{err}");
        let mut c = c;
        c.base_url = Some("http://localhost:9".into());
        assert_eq!(argv(&c), ["tool", "--url", "http://localhost:9"]);
    }

    #[test]
    fn selectors_only_with_a_rerun_template() {
        let row = || runner_api::junit::JunitCase::new("adds", "test", runner_api::TestStatus::Failed);
        let plain = CommandSettings::from_table(&toml::from_str("command = ['t']").expect("toml")).expect("ok");
        assert_eq!(into_cases(vec![row()], &plain, Path::new("r.xml"))[0].selector, None);
        let rerun = CommandSettings::from_table(
            &toml::from_str("command = ['t']\nrerun = ['{selectors}']\nselector = '{classname}.{name}'").expect("toml"),
        )
        .expect("ok");
        assert_eq!(
            into_cases(vec![row()], &rerun, Path::new("r.xml"))[0]
                .selector
                .as_deref(),
            Some("test.adds")
        );
    }

    #[test]
    fn program_paths() {
        assert_eq!(resolve_program("node", Path::new("/p")), PathBuf::from("node"));
        assert_eq!(
            resolve_program("./run.sh", Path::new("/p")),
            PathBuf::from("/p/./run.sh")
        );
        assert_eq!(resolve_program("/bin/sh", Path::new("/p")), PathBuf::from("/bin/sh"));
        assert_eq!(tool_name("/usr/bin/node"), "node");
        assert_eq!(tool_name("cargo"), "cargo");
    }

    #[test]
    fn version_is_the_first_line_the_version_command_prints() {
        let mut ctx = ctx("command = ['true']\nversion = ['sh', '-c', 'echo; echo \"tool 1.2.3\"; echo more']");
        ctx.project_dir = PathBuf::from("/");
        assert_eq!(CommandRunner::new().tool_version(&ctx).as_deref(), Some("tool 1.2.3"));
    }
}
