//! Helpers for the workspace integration tests: copy a fixture project to a
//! temporary directory, run the real `qaagent` binary on it, and read back
//! what it printed and the evidence it recorded.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The `qaagent` binary built for this test run (`cargo test --workspace`
/// builds it, since `qaagent-cli` has integration tests of its own).
pub fn qaagent_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("QAAGENT_BIN") {
        return PathBuf::from(path);
    }
    workspace_bin("qaagent", "qaagent-cli")
}

/// The example plugin's binary, `qaagent-custom` (built by `cargo test
/// --workspace`, since the example crate has integration tests of its own).
pub fn custom_bin() -> PathBuf {
    workspace_bin("qaagent-custom", "qaagent-custom-runner-example")
}

/// A binary of workspace package `package` built beside this test binary.
fn workspace_bin(name: &str, package: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary lives in target/<profile>/deps");
    let bin = profile_dir.join(name);
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo build -p {package}` (or the whole `cargo test --workspace`)",
        bin.display()
    );
    bin
}

/// The Python of the test environment (`scripts/setup-test-env.sh` makes it).
pub fn venv() -> PathBuf {
    let venv = std::env::var_os("QAAGENT_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv"));
    assert!(
        venv.join("bin/python").is_file(),
        "{} has no Python: run scripts/setup-test-env.sh",
        venv.display()
    );
    venv
}

/// A copy of `tests/fixtures/<name>` in a temporary directory (without
/// `node_modules`, which is symlinked to the original's so npm is not needed
/// again).
pub fn fixture(name: &str) -> tempfile::TempDir {
    let source = repo_root().join("tests/fixtures").join(name);
    assert!(source.is_dir(), "no fixture {}", source.display());
    let dir = tempfile::Builder::new()
        .prefix(&format!("qaagent-{name}-"))
        .tempdir()
        .expect("tempdir");
    copy_tree(&source, dir.path());
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read fixture dir") {
        let entry = entry.expect("dir entry");
        let path = entry.path();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().expect("file type");
        if entry.file_name() == "node_modules"
            || entry.file_name() == "__pycache__"
            || entry.file_name() == ".pytest_cache"
        {
            if entry.file_name() == "node_modules" {
                std::os::unix::fs::symlink(&path, &target).expect("symlink node_modules");
            }
        } else if kind.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy file");
        }
    }
}

/// A project in a temporary directory (named `qaagent-<prefix>-…`) holding
/// `files`, each `(relative path, content)`: for tests whose project is a
/// config and a file or two.
pub fn project_with(prefix: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix(&format!("qaagent-{prefix}-"))
        .tempdir()
        .expect("tempdir");
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("create dir");
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
    dir
}

/// Every file below `dir` (relative paths, sorted), `node_modules` excluded:
/// to prove a run left the project tree as it was.
pub fn tree_listing(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_name() == "node_modules" {
                continue;
            }
            let rel = path.strip_prefix(base).expect("below base").display().to_string();
            if path.is_dir() && !path.is_symlink() {
                out.push(format!("{rel}/"));
                walk(base, &path, out);
            } else {
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Where a [`Qaagent`]'s evidence goes: a fresh temporary runs root, or one
/// shared with an earlier invocation.
pub enum RunsDir {
    /// A runs root of its own, deleted when dropped.
    Temp(tempfile::TempDir),
    /// A runs root someone else keeps alive.
    Given(PathBuf),
}

impl RunsDir {
    /// The runs root.
    pub fn path(&self) -> &Path {
        match self {
            RunsDir::Temp(dir) => dir.path(),
            RunsDir::Given(path) => path,
        }
    }
}

/// A `qaagent` invocation being built.
pub struct Qaagent {
    cmd: Command,
    runs_dir: RunsDir,
}

impl Qaagent {
    /// `qaagent` started in `dir`, with evidence going to a fresh temporary runs dir.
    pub fn new(dir: &Path) -> Self {
        Self::with_bin(&qaagent_bin(), dir)
    }

    /// Like [`new`](Self::new), running another qaagent-based binary (a
    /// third party's, with extra runners).
    pub fn with_bin(bin: &Path, dir: &Path) -> Self {
        let runs_dir = tempfile::Builder::new()
            .prefix("qaagent-runs-")
            .tempdir()
            .expect("tempdir");
        Self::with(bin, dir, RunsDir::Temp(runs_dir))
    }

    /// `qaagent` started in `dir`, with evidence going to `runs_dir` (e.g. an
    /// earlier invocation's, to read its runs with `--rerun-failed`).
    pub fn with_runs_dir(dir: &Path, runs_dir: &Path) -> Self {
        Self::with(&qaagent_bin(), dir, RunsDir::Given(runs_dir.to_path_buf()))
    }

    fn with(bin: &Path, dir: &Path, runs_dir: RunsDir) -> Self {
        let mut cmd = Command::new(bin);
        cmd.current_dir(dir)
            .env("QAAGENT_RUNS_DIR", runs_dir.path())
            .env("VIRTUAL_ENV", venv())
            .env_remove("BASE_URL")
            .env_remove("NO_COLOR")
            .env("RUST_LOG", "warn");
        Qaagent { cmd, runs_dir }
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    /// The command, for tests that need to drive the process themselves.
    pub fn command(&mut self) -> &mut Command {
        &mut self.cmd
    }

    /// The runs root evidence goes to.
    pub fn runs_dir(&self) -> &Path {
        self.runs_dir.path()
    }

    /// Starts qaagent, its output discarded, for a test that stops it itself.
    pub fn spawn_quiet(mut self) -> std::process::Child {
        self.cmd
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start qaagent")
    }

    /// Runs qaagent to completion.
    pub fn run(mut self) -> RunOutput {
        let output = self.cmd.output().expect("run qaagent");
        RunOutput {
            output,
            runs_dir: self.runs_dir,
        }
    }
}

/// What a finished qaagent printed and recorded.
pub struct RunOutput {
    /// Exit status and captured output.
    pub output: Output,
    /// The runs root (kept alive as long as this value, when it is its own).
    pub runs_dir: RunsDir,
}

impl RunOutput {
    /// The exit code.
    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }

    /// Standard output, lossily decoded.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    /// Standard error, lossily decoded.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// Both streams, for assertion messages.
    pub fn describe(&self) -> String {
        format!(
            "exit {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code(),
            self.stdout(),
            self.stderr()
        )
    }

    /// The single run directory recorded.
    pub fn run_dir(&self) -> PathBuf {
        let mut runs = self.run_dirs();
        assert_eq!(
            runs.len(),
            1,
            "expected exactly one run in {}: {runs:?}",
            self.runs_dir.path().display()
        );
        runs.remove(0)
    }

    /// Every run directory in the runs root, oldest first (run ids sort by time).
    pub fn run_dirs(&self) -> Vec<PathBuf> {
        let mut runs: Vec<PathBuf> = std::fs::read_dir(self.runs_dir.path())
            .expect("runs dir")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        runs.sort();
        runs
    }

    /// The run's `manifest.json`.
    pub fn manifest(&self) -> Value {
        read_json(&self.run_dir().join("manifest.json"))
    }

    /// The run's `evidence/tests.jsonl`, one value per line.
    pub fn records(&self) -> Vec<Value> {
        read_jsonl(&self.run_dir().join("evidence/tests.jsonl"))
    }

    /// The records of one suite.
    pub fn suite_records(&self, suite: &str) -> Vec<Value> {
        self.records()
            .into_iter()
            .filter(|r| r["suite_name"] == suite)
            .collect()
    }
}

/// A text file's content, with the path in the panic message.
pub fn read_text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Parses a JSON file, with the path in the panic message.
pub fn read_json(path: &Path) -> Value {
    let text = read_text(path);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}\n{text}", path.display()))
}

/// Parses a JSON-lines file; every line must be whole JSON.
pub fn read_jsonl(path: &Path) -> Vec<Value> {
    let text = read_text(path);
    text.lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("torn or invalid line in {}: {e}: {line}", path.display()))
        })
        .collect()
}

/// The record for the test named `name`.
pub fn record_named<'a>(records: &'a [Value], name: &str) -> &'a Value {
    records
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no record named {name:?} in {records:#?}"))
}

/// The record for the test whose `metadata.selector` ends with `suffix`.
pub fn record_by_selector<'a>(records: &'a [Value], suffix: &str) -> &'a Value {
    records
        .iter()
        .find(|r| r["metadata"]["selector"].as_str().is_some_and(|s| s.ends_with(suffix)))
        .unwrap_or_else(|| panic!("no record with selector ending {suffix:?} in {records:#?}"))
}

/// `text` with every run of spaces folded to one, so assertions do not depend
/// on column alignment.
pub fn squash(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last_space = false;
    for ch in text.chars() {
        if ch == ' ' {
            if !last_space {
                out.push(ch);
            }
            last_space = true;
        } else {
            out.push(ch);
            last_space = false;
        }
    }
    out
}

/// Copies `tests/fixtures/<name>/<part>` to `<dest>/<part>` (node_modules
/// symlinked), to assemble a project from several fixtures.
pub fn copy_fixture_part(name: &str, part: &str, dest: &Path) {
    let source = repo_root().join("tests/fixtures").join(name).join(part);
    let target = dest.join(part);
    if source.is_dir() {
        copy_tree(&source, &target);
    } else {
        std::fs::create_dir_all(target.parent().expect("parent")).expect("create dir");
        std::fs::copy(&source, &target).unwrap_or_else(|e| panic!("copy {}: {e}", source.display()));
    }
}

/// Replaces what changes from run to run in `text`: durations, the
/// project's temp dir, the run's directory, run ids and dates in test ids.
pub fn normalize(text: &str, project: &Path, run: &RunOutput) -> String {
    let text = text
        .replace(&run.run_dir().display().to_string(), "<RUN>")
        .replace(&project.display().to_string(), "<PROJECT>");
    let rules = [
        (r"\d+\.\d+s", "<T>s"),
        (r"\b\d{8}_\d{6}Z(_\d+)?\b", "<RUN_ID>"),
        (r"TST-\d{8}-", "TST-<DATE>-"),
        (r"in \d+\.\d+s", "in <T>s"),
    ];
    let mut text = text;
    for (pattern, replacement) in rules {
        text = regex::Regex::new(pattern)
            .expect("regex")
            .replace_all(&text, replacement)
            .into_owned();
    }
    text
}

/// Sets every float in `value` to 0: durations differ from run to run.
pub fn scrub_numbers(value: &mut Value) {
    match value {
        Value::Number(n) if n.is_f64() => *value = Value::from(0.0),
        Value::Array(items) => items.iter_mut().for_each(scrub_numbers),
        Value::Object(map) => map.values_mut().for_each(scrub_numbers),
        _ => {}
    }
}

/// Runs qaagent under a pseudo-terminal (util-linux `script`), returning what the terminal saw.
pub fn run_in_terminal(project: &Path, args: &str, no_color: bool) -> String {
    let runs = tempfile::tempdir().expect("tempdir");
    let command = format!("{} {args}", qaagent_bin().display());
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-qec", &command, "/dev/null"])
        .current_dir(project)
        .env("QAAGENT_RUNS_DIR", runs.path())
        .env("VIRTUAL_ENV", venv())
        .env_remove("CI")
        .env("TERM", "xterm-256color");
    if no_color {
        cmd.env("NO_COLOR", "1");
    } else {
        cmd.env_remove("NO_COLOR");
    }
    let output = cmd.output().expect("script");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A record's `[status, attempts, flaky]`, to compare with `json!([…])` in one assertion.
pub fn verdict(record: &Value) -> Value {
    Value::Array(vec![
        record["status"].clone(),
        record["metadata"]["attempts"].clone(),
        record["metadata"]["flaky"].clone(),
    ])
}
