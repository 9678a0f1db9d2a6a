//! Installing a suite's Node dependencies before its first run.
//!
//! When the suite's path has a `package.json` but no `node_modules`, the
//! runner installs them (`npm ci` with a lockfile, else `npm install`) under
//! the same supervision as the tests: inside the suite's timeout, cancelled
//! with the run, its output in `install.stdout.log` / `install.stderr.log` of
//! the attempt's output directory.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use runner_api::conclude::describe_exit;
use runner_api::process::log_tail;
use runner_api::{OutputLine, OutputStream, RunnerError, SuiteContext, SuiteOutcome, SuiteResult, ToolRun};

/// Two suites of one run may share a path (say, one per Playwright project);
/// two `npm ci` in one directory at once would trample each other. Installs
/// in this process take turns, and each re-checks `node_modules` first.
static INSTALL_LOCK: Mutex<()> = Mutex::new(());

/// How many log lines an install failure carries.
const TAIL_LINES: usize = 30;

/// Which npm command installs a project's dependencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NpmInstall {
    /// `npm ci`: the project has a `package-lock.json` or `npm-shrinkwrap.json`.
    Ci,
    /// `npm install --no-package-lock`: no lockfile, and none is written into the project.
    Install,
}

impl NpmInstall {
    /// The command for the project in `dir`.
    pub fn for_dir(dir: &Path) -> Self {
        if dir.join("package-lock.json").is_file() || dir.join("npm-shrinkwrap.json").is_file() {
            NpmInstall::Ci
        } else {
            NpmInstall::Install
        }
    }

    /// npm's arguments.
    pub fn args(self) -> &'static [&'static str] {
        match self {
            NpmInstall::Ci => &["ci", "--no-audit", "--no-fund"],
            NpmInstall::Install => &["install", "--no-audit", "--no-fund", "--no-package-lock"],
        }
    }

    /// `npm ci` or `npm install`, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            NpmInstall::Ci => "npm ci",
            NpmInstall::Install => "npm install",
        }
    }
}

/// The `playwright` executable `npx` would run from `dir`: the first
/// `node_modules/.bin/playwright` in `dir` or above it (workspaces hoist).
pub fn playwright_bin(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|ancestor| ancestor.join("node_modules/.bin/playwright"))
        .find(|bin| bin.is_file())
}

/// The version of the Playwright that `npx playwright` runs in `dir`: the
/// `version` of the `package.json` beside the script `node_modules/.bin/playwright`
/// links to. Read from disk, it costs no Node.js start.
pub fn installed_version(dir: &Path) -> Option<String> {
    let script = std::fs::canonicalize(playwright_bin(dir)?).ok()?;
    let manifest = script.parent()?.join("package.json");
    let text = runner_api::version::read_version_file(&manifest)
        .map_err(|err| log::debug!("cannot read {}: {err}", manifest.display()))
        .ok()?;
    let package: serde_json::Value = serde_json::from_str(&text)
        .map_err(|err| log::debug!("cannot parse {}: {err}", manifest.display()))
        .ok()?;
    package["version"].as_str().map(str::to_string)
}

/// The install a suite in `dir` needs: `dir` has a `package.json` and no
/// `node_modules`, and no directory above provides Playwright.
pub fn needed(dir: &Path) -> Option<NpmInstall> {
    let needed =
        playwright_bin(dir).is_none() && dir.join("package.json").is_file() && !dir.join("node_modules").exists();
    needed.then(|| NpmInstall::for_dir(dir))
}

/// Fails with [`RunnerError::ToolMissing`] unless every program in `programs`
/// is on the tool's `PATH`.
pub fn require_node(ctx: &SuiteContext, programs: &[&str]) -> Result<(), RunnerError> {
    for program in programs {
        if ctx.which(program).is_none() {
            return Err(RunnerError::ToolMissing {
                tool: (*program).to_string(),
                hint: format!(
                    "Playwright Test needs Node.js 20 or newer with npm and npx on PATH; install them \
                     (e.g. `apt-get install nodejs npm`), then `npm install -D @playwright/test` in {}",
                    ctx.path.display()
                ),
            });
        }
    }
    Ok(())
}

/// How an install ended.
#[derive(Debug)]
pub enum InstallOutcome {
    /// Installed (or found installed by a suite that held the lock first);
    /// the time it took.
    Done(Duration),
    /// The install failed, timed out or was interrupted: the suite's result.
    Failed(Box<SuiteResult>),
}

/// Where the install's standard output goes.
pub fn stdout_log(ctx: &SuiteContext) -> PathBuf {
    ctx.output_dir.join("install.stdout.log")
}

/// Where the install's standard error goes.
pub fn stderr_log(ctx: &SuiteContext) -> PathBuf {
    ctx.output_dir.join("install.stderr.log")
}

/// Runs `install` in the suite's path under the suite's supervision, and says
/// so: in the log, in the live output, and in a last line of its stdout log.
pub fn run(ctx: &SuiteContext, install: NpmInstall, runner: &str, tool: &str) -> Result<InstallOutcome, RunnerError> {
    let _turn = INSTALL_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
    if ctx.path.join("node_modules").exists() {
        log::info!(
            "[{}] node_modules appeared in {} meanwhile; not installing",
            ctx.suite,
            ctx.path.display()
        );
        return Ok(InstallOutcome::Done(Duration::ZERO));
    }
    require_node(ctx, &["npm"])?;
    let announce = format!(
        "qaagent: node_modules is missing in {}; running `{}` there (output in {})",
        ctx.path.display(),
        install.describe(),
        stdout_log(ctx).display()
    );
    log::info!("[{}] {announce}", ctx.suite);
    if let Some(live) = &ctx.live_output {
        // Nobody listening any more is not the install's problem.
        let _ = live.send(OutputLine {
            suite: ctx.suite.clone(),
            stream: OutputStream::Stdout,
            line: announce,
        });
    }
    let mut cmd = ctx.command("npm");
    cmd.args(install.args())
        .current_dir(&ctx.path)
        .env("NPM_CONFIG_UPDATE_NOTIFIER", "false");
    let outcome = ctx
        .run_supervised_with_logs(cmd, &stdout_log(ctx), &stderr_log(ctx))
        .map_err(|err| {
            if err.is_not_found() {
                RunnerError::ToolMissing {
                    tool: "npm".into(),
                    hint: "install Node.js 20 or newer with npm".into(),
                }
            } else {
                err.into()
            }
        })?;
    let verdict = format!(
        "qaagent: `{}` in {} {} after {:.1} s",
        install.describe(),
        ctx.path.display(),
        describe_exit("npm", outcome.exit).trim_start_matches("npm "),
        outcome.wall.as_secs_f64()
    );
    append_line(&stdout_log(ctx), &verdict);

    let problem = if let Some(kind) = outcome.cancelled {
        Some((
            SuiteOutcome::Interrupted,
            format!(
                "interrupted ({}) while `{}` ran",
                kind.stopped_tool(),
                install.describe()
            ),
        ))
    } else if outcome.timed_out {
        let secs = ctx.timeout.map(|t| t.as_secs_f64()).unwrap_or_default();
        Some((
            SuiteOutcome::TimedOut,
            format!(
                "timed out after {secs} s while `{}` ran in {}",
                install.describe(),
                ctx.path.display()
            ),
        ))
    } else if outcome.code() != Some(0) {
        Some((
            SuiteOutcome::Errored,
            format!(
                "installing the suite's dependencies failed: `{}` in {}: {}",
                install.describe(),
                ctx.path.display(),
                describe_exit("npm", outcome.exit)
            ),
        ))
    } else {
        None
    };
    let Some((kind, message)) = problem else {
        log::info!("[{}] {verdict}", ctx.suite);
        return Ok(InstallOutcome::Done(outcome.wall));
    };
    let mut result = SuiteResult::new(&ctx.suite, runner);
    result.output_dir = Some(ctx.output_dir.clone());
    result.duration = outcome.wall;
    result.return_code = outcome.code();
    result.leaked = outcome.leaked.clone();
    result.artifacts = [stdout_log(ctx), stderr_log(ctx)]
        .into_iter()
        .filter(|p| p.is_file())
        .collect();
    result.tool = ToolRun {
        name: tool.to_string(),
        version: None,
        executed: false,
        exit_code: None,
        error: Some(message.clone()),
    };
    result.set_error(kind, message);
    let tails: Vec<String> = [("stderr", stderr_log(ctx)), ("stdout", stdout_log(ctx))]
        .into_iter()
        .filter_map(|(name, path)| {
            log_tail(&path, TAIL_LINES).map(|tail| format!("--- npm {name} ({}) ---\n{tail}", path.display()))
        })
        .collect();
    result.log_tail = (!tails.is_empty()).then(|| tails.join("\n"));
    Ok(InstallOutcome::Failed(Box::new(result)))
}

fn append_line(path: &Path, line: &str) {
    let appended = runner_api::outdir::open_append(path).and_then(|mut file| writeln!(file, "{line}"));
    if let Err(err) = appended {
        log::warn!("cannot append to {}: {err}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockfile_means_npm_ci() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("package.json"), "{}").expect("write");
        assert_eq!(needed(dir.path()), Some(NpmInstall::Install));
        std::fs::write(dir.path().join("package-lock.json"), "{}").expect("write");
        assert_eq!(needed(dir.path()), Some(NpmInstall::Ci));
        std::fs::create_dir(dir.path().join("node_modules")).expect("mkdir");
        assert_eq!(needed(dir.path()), None, "node_modules exists: nothing to install");
    }

    #[test]
    fn no_package_json_means_nothing_to_install() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(needed(dir.path()), None);
    }

    #[test]
    fn playwright_is_found_in_a_parent_node_modules() {
        let dir = tempfile::tempdir().expect("tempdir");
        let bin = dir.path().join("node_modules/.bin");
        std::fs::create_dir_all(&bin).expect("mkdir");
        std::fs::write(bin.join("playwright"), "").expect("write");
        let suite = dir.path().join("packages/e2e");
        std::fs::create_dir_all(&suite).expect("mkdir");
        std::fs::write(suite.join("package.json"), "{}").expect("write");
        assert_eq!(playwright_bin(&suite), Some(bin.join("playwright")));
        assert_eq!(needed(&suite), None, "hoisted install counts");
    }
}
