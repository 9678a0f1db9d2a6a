//! Retries and `--rerun-failed` after a tool that did not finish (it crashed,
//! timed out, or qaagent itself was killed), through real behave and pytest:
//! the tests it never got to must run, so the test that always fails among
//! them fails the run. A retry of only the test the tool named (behave names
//! the one it was running) passed such runs.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use qaagent_tests::{project_with, record_named, squash, Qaagent, RunOutput};

/// A behave project: `a.feature` (a1, a2) and `b.feature` (b1, b2); b2
/// always fails; a2 runs `first_time` (Python statements) on its first run
/// only, which it notes in a file beside the steps.
fn behave_project(first_time: &str, suite_settings: &str) -> tempfile::TempDir {
    let steps = format!(
        "import os\nfrom behave import given\n\nFLAG = os.path.join(os.path.dirname(__file__), '.ran')\n\n\n\
         @given('ok')\ndef ok(context):\n    if context.scenario.name == 'a2' and not os.path.exists(FLAG):\n        \
         open(FLAG, 'w').close()\n        {first_time}\n    assert context.scenario.name != 'b2', 'b2 always fails'\n"
    );
    project_with(
        "unfinished-behave",
        &[
            (
                ".qaagent.toml",
                &format!("[project]\nname = \"unfinished\"\n\n[tests.behave]\npath = \"features\"\n{suite_settings}"),
            ),
            (
                "features/a.feature",
                "Feature: A\n  Scenario: a1\n    Given ok\n  Scenario: a2\n    Given ok\n",
            ),
            (
                "features/b.feature",
                "Feature: B\n  Scenario: b1\n    Given ok\n  Scenario: b2\n    Given ok\n",
            ),
            ("features/steps/steps.py", &steps),
        ],
    )
}

/// The run failed on b2, which ran (as did b1) though attempt 1 never reached them.
fn assert_b_ran(run: &RunOutput) {
    assert_eq!(run.code(), 1, "{}", run.describe());
    assert_eq!(run.manifest()["status"], "failed", "{}", run.describe());
    let records = run.suite_records("behave");
    assert_eq!(record_named(&records, "b1")["status"], "passed", "{records:#?}");
    assert_eq!(record_named(&records, "b2")["status"], "failed", "{records:#?}");
}

/// `run-all --retries 1` on [`behave_project`]: attempt 2 runs the whole suite.
fn assert_a_retry_runs_the_whole_suite(first_time: &str, suite_settings: &str) {
    let project = behave_project(first_time, suite_settings);
    let run = Qaagent::new(project.path())
        .args(["run-all", "--no-progress", "--retries", "1"])
        .run();
    let stdout = squash(&run.stdout());
    assert!(stdout.contains("RETRY behave attempt 2: the whole suite"), "{stdout}");
    assert_b_ran(&run);
}

#[test]
fn a_retry_after_a_behave_crash_runs_the_whole_suite() {
    assert_a_retry_runs_the_whole_suite("os._exit(1)", "");
}

#[test]
fn a_retry_after_a_behave_timeout_runs_the_whole_suite() {
    assert_a_retry_runs_the_whole_suite("import time; time.sleep(60)", "timeout = 3\n");
}

#[test]
fn rerun_failed_after_a_behave_crash_runs_the_whole_suite() {
    let project = behave_project("os._exit(1)", "");
    let crashed = Qaagent::new(project.path()).args(["run-all", "--no-progress"]).run();
    assert_eq!(crashed.code(), 1, "{}", crashed.describe());
    assert_eq!(
        crashed.manifest()["suites"][0]["outcome"],
        "errored",
        "{}",
        crashed.describe()
    );

    let rerun = Qaagent::with_runs_dir(project.path(), crashed.runs_dir.path())
        .args(["run-all", "--no-progress", "--rerun-failed"])
        .run();
    let stdout = squash(&rerun.stdout());
    assert!(
        stdout.contains("behave: the whole suite (it errored: its tool did not finish)"),
        "{stdout}"
    );
    let runs = rerun.run_dirs();
    assert_eq!(runs.len(), 2, "{runs:?}");
    let records = qaagent_tests::read_jsonl(&runs[1].join(evidence::TESTS_FILE));
    assert_eq!(record_named(&records, "b2")["status"], "failed", "{records:#?}");
    assert_eq!(rerun.code(), 1, "{}", rerun.describe());
}

/// Waits until `path` exists.
fn wait_for(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !path.exists() {
        assert!(Instant::now() < deadline, "{} never appeared", path.display());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// qaagent killed with SIGKILL while pytest ran the suite: the crashed run
/// recorded no failure (the test that always fails comes after the one it
/// was running), yet "nothing to re-run" from it is a false green: the
/// suite it did not finish runs whole.
#[test]
fn rerun_failed_from_a_killed_run_runs_the_suites_it_did_not_finish() {
    let project = project_with(
        "unfinished-killed",
        &[
            (
                ".qaagent.toml",
                "[project]\nname = \"killed\"\n\n[tests.unit]\nrunner = \"pytest\"\npath = \"tests\"\n",
            ),
            ("tests/test_1.py", "def test_1():\n    pass\n"),
            (
                "tests/test_2.py",
                "import os\nimport time\n\n\ndef test_2_hangs_once():\n    flag = os.path.join(os.path.dirname(__file__), '.started')\n    \
                 if not os.path.exists(flag):\n        open(flag, 'w').close()\n        time.sleep(60)\n",
            ),
            ("tests/test_3.py", "def test_3_fails():\n    assert False, 'always'\n"),
        ],
    );
    let runs = tempfile::tempdir().expect("runs");
    let mut qaagent = Qaagent::with_runs_dir(project.path(), runs.path()).args(["run-all", "--no-progress"]);
    qaagent.command().stdout(Stdio::null()).stderr(Stdio::null());
    let mut child = qaagent.command().spawn().expect("start qaagent");
    wait_for(&project.path().join("tests/.started"));
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");

    let rerun = Qaagent::with_runs_dir(project.path(), runs.path())
        .args(["run-all", "--no-progress", "--rerun-failed", "--allow-unfinished"])
        .run();
    let stdout = squash(&rerun.stdout());
    assert!(
        stdout.contains("unit: the whole suite (it did not finish in that run)"),
        "{}",
        rerun.describe()
    );
    assert_eq!(rerun.code(), 1, "{}", rerun.describe());
    let runs = rerun.run_dirs();
    assert_eq!(runs.len(), 2, "{runs:?}");
    let records = qaagent_tests::read_jsonl(&runs[1].join(evidence::TESTS_FILE));
    assert_eq!(
        record_named(&records, "test_3_fails")["status"],
        "failed",
        "{records:#?}"
    );
}
