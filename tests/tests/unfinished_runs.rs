//! Runs that did not end well, through the real binary: evidence that could
//! not be written (a file-size limit standing in for a full disk), a qaagent
//! killed with SIGKILL, and `--rerun-failed` from such runs. Each must say so
//! rather than pass for a finished run.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use qaagent_tests::{qaagent_bin, read_json, squash, venv, Qaagent, RunOutput, RunsDir};
use serde_json::Value;

/// A `command` suite that writes a JUnit report of `cases` passing tests
/// and `failures` failing ones, without a shell of its own making.
fn junit_suite(name: &str, cases: usize, failures: usize) -> String {
    let script = format!(
        "awk 'BEGIN {{ print \"<testsuite name=\\\"{name}\\\">\"; \
         for (i = 0; i < {cases}; i++) printf \"<testcase classname=\\\"c\\\" name=\\\"t%d\\\"/>\\n\", i; \
         for (i = 0; i < {failures}; i++) printf \"<testcase classname=\\\"c\\\" name=\\\"f%d\\\"><failure message=\\\"boom\\\"/></testcase>\\n\", i; \
         print \"</testsuite>\" }}' > \"$1\"; exit {code}",
        code = u8::from(failures > 0),
    );
    format!(
        "[tests.{name}]\nrunner = \"command\"\npath = \".\"\ncommand = [\"sh\", \"-c\", {script:?}, \"sh\", \"{{junit}}\"]\n\n"
    )
}

/// A `command` suite that sleeps for `secs` seconds the first time it runs
/// in its project, and passes at once after that.
fn slow_suite(name: &str, secs: u32) -> String {
    let script = format!("test -e .slept || {{ touch .slept; sleep {secs}; }}");
    format!("[tests.{name}]\nrunner = \"command\"\npath = \".\"\ncommand = [\"sh\", \"-c\", {script:?}]\n\n")
}

/// A project whose config holds `suites`, run in that order, one at a time.
fn project(suites: &[String]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("project");
    let text = format!("[project]\nname = \"unfinished\"\n\n{}", suites.concat());
    std::fs::write(dir.path().join(".qaagent.toml"), text).expect("config");
    dir
}

/// `qaagent run-all` on a project of `suites`, with evidence in a runs root
/// of its own, under a file-size limit of `blocks` (as `ulimit -f` counts
/// them) set by a shell that then execs qaagent: what a full disk does to its
/// writes, without root. Returns the project and the run.
fn run_all_under_file_size_limit(suites: &[String], blocks: u64) -> (tempfile::TempDir, RunOutput) {
    let project = project(suites);
    let runs = tempfile::tempdir().expect("runs");
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -f {blocks} && exec \"$0\" \"$@\""))
        .arg(qaagent_bin())
        .args(["run-all", "--no-progress"])
        .current_dir(project.path())
        .env("QAAGENT_RUNS_DIR", runs.path())
        .env("VIRTUAL_ENV", venv())
        .env("RUST_LOG", "warn")
        .output()
        .expect("run sh");
    let run = RunOutput {
        output,
        runs_dir: RunsDir::Temp(runs),
    };
    (project, run)
}

fn runs_list(runs: &Path) -> RunOutput {
    Qaagent::with_runs_dir(runs, runs).args(["runs", "list"]).run()
}

fn runs_show(runs: &Path, json: bool) -> RunOutput {
    let mut args = vec!["runs", "show", "latest"];
    if json {
        args.push("--json");
    }
    Qaagent::with_runs_dir(runs, runs).args(args).run()
}

/// The status word `runs list` gives its only run (after its id, project and time).
fn listed_status(runs: &Path) -> String {
    let list = runs_list(runs);
    assert_eq!(list.code(), 0, "{}", list.describe());
    let stdout = list.stdout();
    let row = stdout
        .lines()
        .nth(1)
        .unwrap_or_else(|| panic!("one run listed: {stdout}"));
    row.split_whitespace().nth(3).expect("status column").to_string()
}

#[test]
fn evidence_that_cannot_be_written_makes_the_run_incomplete_and_exit_1() {
    // 800 blocks: the 3,000-case report (~120 kB) fits, tests.jsonl (~1 MB) does not.
    let (_project, run) = run_all_under_file_size_limit(&[junit_suite("many", 3000, 0)], 800);
    let runs = run.runs_dir.path();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let said = format!("{}{}", run.stdout(), run.stderr());
    assert!(
        said.contains("error: the evidence could not be written: cannot write")
            && said.contains("tests.jsonl: File too large"),
        "the message names the file: {}",
        run.describe()
    );
    let dir = run.run_dir();
    let manifest = read_json(&dir.join("manifest.json"));
    assert_eq!(manifest["status"], "incomplete", "{manifest:#}");
    let reason = manifest["incomplete_reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("tests.jsonl") && reason.contains("File too large"),
        "{manifest:#}"
    );
    let leftovers: Vec<PathBuf> = std::fs::read_dir(dir.join("evidence"))
        .expect("evidence dir")
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    assert_eq!(listed_status(runs), "incomplete");
    let show = runs_show(runs, false);
    assert_eq!(show.code(), 1, "{}", show.describe());
    let stdout = squash(&show.stdout());
    assert!(stdout.contains(": incomplete"), "{stdout}");
    assert!(stdout.contains("Problems:\n incomplete: cannot write"), "{stdout}");
}

#[test]
fn a_run_that_cannot_even_be_created_exits_1_naming_the_file() {
    let (_project, run) = run_all_under_file_size_limit(&[junit_suite("one", 1, 0)], 0);
    assert_eq!(run.code(), 1, "{}", run.describe());
    assert!(
        run.stderr().contains("the evidence could not be written") && run.stderr().contains("manifest.json"),
        "{}",
        run.describe()
    );
}

/// qaagent started on `project`, its evidence in `runs`.
fn start(project: &Path, runs: &Path) -> Child {
    let mut qaagent = Qaagent::with_runs_dir(project, runs).args(["run-all", "--no-progress"]);
    qaagent
        .command()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    qaagent.command().spawn().expect("start qaagent")
}

/// Waits until the run in `runs` has recorded `suites` suites while still `running`.
fn wait_for_running(runs: &Path, suites: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let manifest = std::fs::read_dir(runs)
            .ok()
            .and_then(|mut entries| entries.next())
            .and_then(Result::ok)
            .map(|entry| entry.path().join("manifest.json"))
            .and_then(|path| std::fs::read_to_string(path).ok())
            .and_then(|text| serde_json::from_str::<Value>(&text).ok());
        if let Some(manifest) = manifest {
            let recorded = manifest["suites"].as_array().map_or(0, Vec::len);
            if manifest["status"] == "running" && recorded == suites {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the run never got going in {}",
            runs.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A run in which suite `failing` failed one test, then qaagent was killed
/// with SIGKILL during suite `slow`. Returns the project and the runs root.
fn crashed_run() -> (tempfile::TempDir, tempfile::TempDir) {
    let project = project(&[junit_suite("failing", 2, 1), slow_suite("slow", 60)]);
    let runs = tempfile::tempdir().expect("runs");
    let mut qaagent = start(project.path(), runs.path());
    wait_for_running(runs.path(), 1);

    // Live: still running, and runs show is content.
    assert_eq!(listed_status(runs.path()), "running");
    let show = runs_show(runs.path(), false);
    assert_eq!(show.code(), 0, "{}", show.describe());
    assert!(show.stdout().contains(": running"), "{}", show.describe());

    qaagent.kill().expect("SIGKILL");
    qaagent.wait().expect("reaped");
    (project, runs)
}

#[test]
fn a_killed_run_is_shown_crashed_and_runs_show_exits_1() {
    let (_project, runs) = crashed_run();
    let manifest = read_json(&runs.path().join(latest(runs.path())).join("manifest.json"));
    assert_eq!(manifest["status"], "running", "the manifest itself was left as it was");

    assert_eq!(listed_status(runs.path()), "crashed");
    // `runs list` counts its records too, not the manifest's lagging counts.
    let list = Qaagent::with_runs_dir(runs.path(), runs.path())
        .args(["runs", "list", "--json"])
        .run();
    assert_eq!(list.code(), 0, "{}", list.describe());
    let rows: Value = serde_json::from_str(&list.stdout()).expect("one JSON document");
    let counts = &rows[0]["counts"];
    assert_eq!(
        (&counts["tests"], &counts["tests_passed"], &counts["tests_failed"]),
        (&Value::from(3), &Value::from(2), &Value::from(1)),
        "{}",
        list.describe()
    );
    let show = runs_show(runs.path(), false);
    assert_eq!(show.code(), 1, "{}", show.describe());
    let stdout = squash(&show.stdout());
    assert!(stdout.contains(": crashed"), "{stdout}");
    assert!(stdout.contains("Problems:\n crashed:"), "{stdout}");
    assert!(stdout.contains("slow not recorded"), "{stdout}");
    // Counted from the records written, which the manifest's counts of an
    // unfinished run may lag behind (a live stream's records).
    assert!(
        stdout.contains("tests 3: 2 passed, 1 failed, 0 errors, 0 skipped"),
        "{stdout}"
    );
    let json = runs_show(runs.path(), true);
    assert_eq!(json.code(), 1, "{}", json.describe());
    let doc: Value = serde_json::from_str(&json.stdout()).expect("one JSON document");
    assert_eq!(doc["status"], "crashed");
}

/// The id of the newest run in `runs`.
fn latest(runs: &Path) -> String {
    let mut ids: Vec<String> = std::fs::read_dir(runs)
        .expect("runs")
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    ids.sort();
    ids.pop().expect("a run")
}

/// `run-all --rerun-failed` (from the latest run) in `project`: a usage
/// error whose message starts with `said` and whose hint names the flag that
/// takes the run anyway.
fn assert_rerun_refused(project: &Path, runs: &Path, said: &str) {
    let refused = Qaagent::with_runs_dir(project, runs)
        .args(["run-all", "--no-progress", "--rerun-failed"])
        .run();
    assert_eq!(refused.code(), 2, "{}", refused.describe());
    let stderr = refused.stderr();
    assert!(stderr.contains(said), "{}", refused.describe());
    assert!(
        stderr.contains("hint:") && stderr.contains("--allow-unfinished"),
        "{}",
        refused.describe()
    );
}

#[test]
fn rerun_failed_from_a_run_that_did_not_finish_is_a_usage_error_unless_allowed() {
    let (project, runs) = crashed_run();
    let crashed = latest(runs.path());
    assert_rerun_refused(
        project.path(),
        runs.path(),
        &format!("error: run {crashed} did not finish (it crashed)"),
    );
    assert_eq!(latest(runs.path()), crashed, "nothing ran");

    let taken = Qaagent::with_runs_dir(project.path(), runs.path())
        .args([
            "run-all",
            "--no-progress",
            "--rerun-failed",
            &crashed,
            "--allow-unfinished",
        ])
        .run();
    assert_eq!(taken.code(), 1, "the failure fails again: {}", taken.describe());
    assert!(
        taken.stderr().contains("did not finish (it crashed)"),
        "{}",
        taken.describe()
    );
    let rerun = latest(runs.path());
    assert_ne!(rerun, crashed);
    let manifest = read_json(&runs.path().join(&rerun).join("manifest.json"));
    // `slow` never finished in the crashed run: it runs whole.
    assert_eq!(
        manifest["suite_order"],
        serde_json::json!(["failing", "slow"]),
        "{manifest:#}"
    );
    assert_eq!(manifest["status"], "failed", "{manifest:#}");
}

#[test]
fn rerun_failed_from_an_incomplete_run_is_a_usage_error() {
    let (project, run) = run_all_under_file_size_limit(&[junit_suite("many", 3000, 1)], 800);
    assert_eq!(run.code(), 1, "{}", run.describe());
    assert_rerun_refused(
        project.path(),
        run.runs_dir.path(),
        "did not finish (its evidence is incomplete: cannot write",
    );
}
