//! The fixture projects the whole-process benchmarks run qaagent on, each a
//! `.qaagent.toml` (plus pytest test files, for pytest suites) written into a
//! fresh directory, and the command that runs one suite's tool alone, exactly
//! as its runner would (same program, arguments, working directory and
//! environment).

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The Python interpreter with pytest: `$QAAGENT_BENCH_PYTHON`, else
/// `$VIRTUAL_ENV/bin/python`, else the repository's `.venv/bin/python`.
pub fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("QAAGENT_BENCH_PYTHON") {
        return PathBuf::from(python);
    }
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV") {
        return Path::new(&venv).join("bin/python");
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python")
}

/// One pytest suite of a fixture project.
#[derive(Debug, Clone)]
pub struct Suite {
    /// `[tests.NAME]`.
    pub name: String,
    /// Its `path`, relative to the project.
    pub path: String,
    /// Its `args`.
    pub args: Vec<String>,
}

/// Writes `.qaagent.toml` for pytest `suites` (all enabled unless `enabled`
/// is false) run with `python`, plus `extra_run` lines in `[run]`.
pub fn write_config(dir: &Path, python: &Path, suites: &[Suite], enabled: bool, extra_run: &str) -> io::Result<()> {
    let mut toml = String::from("[project]\nname = \"bench\"\n\n[run]\n");
    let order: Vec<String> = suites.iter().map(|s| format!("{:?}", s.name)).collect();
    let _ = writeln!(toml, "suite_order = [{}]", order.join(", "));
    toml.push_str(extra_run);
    for suite in suites {
        let _ = write!(
            toml,
            "\n[tests.{}]\nrunner = \"pytest\"\nenabled = {enabled}\npath = {:?}\npython = {:?}\n",
            suite.name,
            suite.path,
            python.display().to_string()
        );
        if !suite.args.is_empty() {
            let args: Vec<String> = suite.args.iter().map(|a| format!("{a:?}")).collect();
            let _ = writeln!(toml, "args = [{}]", args.join(", "));
        }
    }
    fs::write(dir.join(".qaagent.toml"), toml)
}

fn suite(name: &str, path: &str) -> Suite {
    Suite {
        name: name.to_string(),
        path: path.to_string(),
        args: Vec::new(),
    }
}

/// The tool of the [`sleep_suites`]: a shell that sleeps `$1` seconds, then
/// writes a one-case JUnit report to `$2` — a real process with a duration
/// known to the millisecond, where a Python interpreter's start-up alone
/// varies by tens of milliseconds on a busy machine.
const SLEEP_SCRIPT: &str = r#"sleep "$1" && printf '<testsuite name="sleep" tests="1"><testcase classname="sleep" name="sleeps_%s" time="%s"/></testsuite>\n' "$1" "$1" > "$2""#;

/// `sh -c SLEEP_SCRIPT sh SECONDS JUNIT`: sleep `seconds`, then write the
/// report to `junit`.
pub fn sleep_argv(seconds: f64, junit: &str) -> Vec<String> {
    ["sh", "-c", SLEEP_SCRIPT, "sh", &seconds.to_string(), junit]
        .map(String::from)
        .to_vec()
}

/// Suites of the shipped `command` runner whose tool is [`sleep_argv`] with
/// the report at `{junit}`, one per entry of `seconds`, named `sleep0`,
/// `sleep1`, …, with `extra_run` in `[run]`. No `version` key, so qaagent
/// starts no process but the tool.
pub fn sleep_suites(dir: &Path, seconds: &[f64], extra_run: &str) -> io::Result<Vec<(String, f64)>> {
    fs::create_dir_all(dir)?;
    let names: Vec<String> = (0..seconds.len()).map(|i| format!("sleep{i}")).collect();
    let mut toml = String::from("[project]\nname = \"bench\"\n\n[run]\n");
    let order: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    let _ = writeln!(toml, "suite_order = [{}]", order.join(", "));
    toml.push_str(extra_run);
    for (name, secs) in names.iter().zip(seconds) {
        let command = toml::Value::from(sleep_argv(*secs, "{junit}"));
        let _ = write!(
            toml,
            "\n[tests.{name}]\nrunner = \"command\"\npath = \".\"\ncommand = {command}\n"
        );
    }
    fs::write(dir.join(".qaagent.toml"), toml)?;
    Ok(names.into_iter().zip(seconds.iter().copied()).collect())
}

/// The tool of a [`sleep_suites`] suite of the project in `dir`, sleeping
/// `seconds`, run alone as the `command` runner runs it (same argv, working
/// directory and environment), with its report and output in `out`.
pub fn sleep_alone(dir: &Path, seconds: f64, out: &Path) -> io::Result<Command> {
    fs::create_dir_all(out)?;
    let argv = sleep_argv(seconds, &out.join("junit.xml").display().to_string());
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .current_dir(dir)
        .stdout(fs::File::create(out.join("stdout.log"))?)
        .stderr(fs::File::create(out.join("stderr.log"))?);
    Ok(cmd)
}

/// Three suites whose single test sleeps 1 s, 2 s and 3 s.
pub fn sleepers(dir: &Path, python: &Path) -> io::Result<Vec<Suite>> {
    fs::create_dir_all(dir.join("tests"))?;
    let mut suites = Vec::new();
    for secs in 1..=3 {
        let path = format!("tests/test_sleep_{secs}.py");
        fs::write(
            dir.join(&path),
            format!("import time\n\n\ndef test_sleep():\n    time.sleep({secs})\n"),
        )?;
        suites.push(suite(&format!("sleep{secs}"), &path));
    }
    write_config(dir, python, &suites, true, "max_workers = 3\n")?;
    Ok(suites)
}

/// A project in a git repository (one commit, clean) whose suites are all disabled.
pub fn all_disabled(dir: &Path, python: &Path) -> io::Result<()> {
    fs::create_dir_all(dir.join("tests"))?;
    fs::write(dir.join("tests/test_ok.py"), "def test_ok():\n    pass\n")?;
    let suites = [suite("unit", "tests"), suite("api", "tests")];
    write_config(dir, python, &suites, false, "")?;
    git(dir, &["init", "-q", "-b", "main"])?;
    git(dir, &["add", "."])?;
    git(dir, &["commit", "-q", "-m", "fixture"])
}

fn git(dir: &Path, args: &[&str]) -> io::Result<()> {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=bench", "-c", "user.email=bench@example.com"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!("git {args:?} failed: {status}")))
    }
}

/// `count` suites, each one file with one passing test.
pub fn trivial(dir: &Path, python: &Path, count: usize) -> io::Result<Vec<Suite>> {
    fs::create_dir_all(dir.join("tests"))?;
    let mut suites = Vec::new();
    for n in 0..count {
        let path = format!("tests/test_trivial_{n}.py");
        fs::write(dir.join(&path), "def test_ok():\n    pass\n")?;
        suites.push(suite(&format!("t{n}"), &path));
    }
    write_config(dir, python, &suites, true, "max_workers = 8\n")?;
    Ok(suites)
}

/// Lines of [`big_output`]'s test: 99 `x` and a newline.
pub const BIG_OUTPUT_LINE: &[u8] =
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n";

/// One suite whose test prints `megabytes` MB to stdout (with `-s`, so
/// pytest does not capture it) as 100-byte lines.
pub fn big_output(dir: &Path, python: &Path, megabytes: usize) -> io::Result<Vec<Suite>> {
    fs::create_dir_all(dir.join("tests"))?;
    let path = "tests/test_big_output.py";
    fs::write(
        dir.join(path),
        format!(
            "import sys\n\n\ndef test_prints_a_lot():\n    chunk = (b\"x\" * 99 + b\"\\n\") * 10000\n    \
             out = sys.stdout.buffer\n    for _ in range({megabytes}):\n        out.write(chunk)\n    out.flush()\n"
        ),
    )?;
    let suites = vec![Suite {
        args: vec!["-s".to_string()],
        ..suite("loud", path)
    }];
    write_config(dir, python, &suites, true, "")?;
    Ok(suites)
}

/// One suite whose pytest run ends by putting `report` in place of its own
/// JUnit file (from `pytest_unconfigure`, after pytest wrote it).
pub fn replayed_report(dir: &Path, python: &Path, report: &Path) -> io::Result<Vec<Suite>> {
    fs::create_dir_all(dir.join("tests"))?;
    fs::write(dir.join("tests/test_ok.py"), "def test_ok():\n    pass\n")?;
    fs::write(
        dir.join("tests/conftest.py"),
        format!(
            "import shutil\n\n\ndef pytest_unconfigure(config):\n    path = getattr(config.option, \"xmlpath\", None)\n    \
             if path:\n        shutil.copyfile({:?}, path)\n",
            report.display().to_string()
        ),
    )?;
    let suites = vec![suite("big", "tests")];
    write_config(dir, python, &suites, true, "")?;
    Ok(suites)
}

/// The command the pytest runner runs for `suite` of the project in `dir`,
/// writing its JUnit to `junit` and its output to files in `out`.
pub fn pytest_alone(dir: &Path, python: &Path, suite: &Suite, out: &Path) -> io::Result<Command> {
    fs::create_dir_all(out)?;
    let mut cmd = Command::new(python);
    cmd.current_dir(dir)
        .args(["-m", "pytest"])
        .arg(&suite.path)
        .args(["-o", "junit_family=xunit1"])
        .arg(format!("--junitxml={}", out.join("junit.xml").display()))
        .args(["-p", "no:cacheprovider"])
        .arg(format!("--rootdir={}", dir.display()))
        .args(&suite.args)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdout(fs::File::create(out.join("stdout.log"))?)
        .stderr(fs::File::create(out.join("stderr.log"))?);
    Ok(cmd)
}

/// The `node_modules` of the Playwright fixture the tests use (installed by
/// `scripts/setup-test-env.sh`), shared by the Playwright benchmark's project.
pub fn playwright_node_modules() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/playwright-basic/e2e/node_modules")
}

/// A Playwright suite `e2e` of six passing tests driving Debian's chromium
/// with two workers, its `node_modules` linked to
/// [`playwright_node_modules`].
pub fn playwright(dir: &Path) -> io::Result<()> {
    let suite = dir.join("e2e");
    fs::create_dir_all(suite.join("tests"))?;
    std::os::unix::fs::symlink(playwright_node_modules(), suite.join("node_modules"))?;
    fs::write(
        dir.join(".qaagent.toml"),
        "[project]\nname = \"bench\"\n\n[tests.e2e]\npath = \"e2e\"\n",
    )?;
    fs::write(suite.join("package.json"), "{\"private\": true}\n")?;
    fs::write(
        suite.join("playwright.config.ts"),
        "import { defineConfig } from '@playwright/test';\n\
         export default defineConfig({\n  testDir: './tests',\n  workers: 2,\n  use: { launchOptions: {\n    \
         executablePath: '/usr/bin/chromium',\n    \
         args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],\n  } },\n  \
         projects: [{ name: 'chromium' }],\n});\n",
    )?;
    let mut spec = String::from("import { test, expect } from '@playwright/test';\n");
    for i in 0..6 {
        let _ = write!(
            spec,
            "\ntest('page {i}', async ({{ page }}) => {{\n  await page.setContent('<p>{i}</p>');\n  \
             await expect(page.locator('p')).toHaveText('{i}');\n}});\n"
        );
    }
    fs::write(suite.join("tests/pages.spec.ts"), spec)
}

/// The command the Playwright runner runs for the suite of [`playwright`]
/// (Playwright 1.63 or newer), its reports and output in `out`.
pub fn playwright_alone(dir: &Path, out: &Path) -> io::Result<Command> {
    fs::create_dir_all(out)?;
    let mut cmd = Command::new("npx");
    cmd.current_dir(dir.join("e2e"))
        .args(["--no", "--", "playwright", "test"])
        .arg(format!("--output={}", out.join("test-results").display()))
        .arg("--add-reporter=junit,json")
        .env("NPM_CONFIG_UPDATE_NOTIFIER", "false")
        .env("PLAYWRIGHT_JUNIT_OUTPUT_FILE", out.join("junit.xml"))
        .env("PLAYWRIGHT_JSON_OUTPUT_FILE", out.join("report.json"))
        .env("PLAYWRIGHT_JUNIT_INCLUDE_PROJECT_IN_TEST_NAME", "0")
        .env("PLAYWRIGHT_HTML_OUTPUT_DIR", out.join("playwright-report"))
        .env("PLAYWRIGHT_HTML_OPEN", "never")
        .env("PLAYWRIGHT_BLOB_OUTPUT_FILE", out.join("blob-report/report.zip"))
        .stdout(fs::File::create(out.join("stdout.log"))?)
        .stderr(fs::File::create(out.join("stderr.log"))?);
    Ok(cmd)
}
