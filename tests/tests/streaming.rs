//! Per-test results as they happen: each built-in tool streams its tests
//! while it runs, so a suite stopped before its tool writes a report keeps
//! the tests that finished and names the one that was running.

use qaagent_tests::{project_with, record_named, Qaagent};

/// A project's config with one suite `[tests.SUITE]` at `path`, stopped
/// after `timeout` seconds, with `extra` lines in its table.
fn config(suite: &str, path: &str, timeout: u32, extra: &str) -> String {
    format!(
        "[project]\nname = \"streaming\"\n\n[run]\nkill_grace = 1\n\n\
         [tests.{suite}]\npath = \"{path}\"\ntimeout = {timeout}\n{extra}\n"
    )
}

/// Three quick tests, then one that sleeps far past the timeout, then one
/// that never gets to run.
const PYTEST_TESTS: &str = r#"import time


def test_one():
    pass


def test_two():
    pass


def test_three():
    pass


def test_four_hangs():
    time.sleep(60)


def test_five_never_runs():
    pass
"#;

/// Asserts the run recorded `passed` as passed and `hung` as an error
/// naming the timeout, in tests.jsonl and in what qaagent printed.
/// `unrun`: the tool said it would run tests after the hung one, which
/// one row then stands for.
fn assert_partial(run: &qaagent_tests::RunOutput, suite: &str, passed: &[&str], hung: &str, timeout: u32, unrun: bool) {
    let records = run.suite_records(suite);
    for name in passed {
        assert_eq!(record_named(&records, name)["status"], "passed", "{}", run.describe());
    }
    let hung_record = record_named(&records, hung);
    assert_eq!(hung_record["status"], "error", "{}", run.describe());
    assert_eq!(
        hung_record["error_message"],
        format!("timed out after {timeout} s while running this test").as_str(),
        "{}",
        run.describe()
    );
    // The tests after the hung one never ran, and are not known by name:
    // one row stands for them, so that no retry of named tests clears them.
    let never_ran: Vec<&serde_json::Value> = (records.iter())
        .filter(|record| record["name"] == "the tests it never ran")
        .collect();
    assert_eq!(never_ran.len(), usize::from(unrun), "{records:#?}");
    assert!(
        never_ran.iter().all(|record| record["status"] == "error"),
        "{records:#?}"
    );
    assert_eq!(records.len(), passed.len() + 1 + never_ran.len(), "{records:#?}");
    let printed = format!("{}{}", run.stdout(), run.stderr());
    assert!(
        printed.contains(hung),
        "the summary names the hung test: {}",
        run.describe()
    );
    assert!(
        printed.contains(&format!("timed out after {timeout} s")),
        "{}",
        run.describe()
    );
}

#[test]
fn a_pytest_suite_that_times_out_keeps_the_tests_that_finished_and_names_the_hung_one() {
    let project = project_with(
        "stream-pytest",
        &[
            (".qaagent.toml", &config("unit", "tests", 4, "")),
            ("tests/test_stream.py", PYTEST_TESTS),
        ],
    );
    let run = Qaagent::new(project.path()).args(["run-all"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    assert_partial(
        &run,
        "unit",
        &["test_one", "test_two", "test_three"],
        "test_four_hangs",
        4,
        true,
    );
    let records = run.suite_records("unit");
    let one = record_named(&records, "test_one");
    assert_eq!(
        one["metadata"]["classname"], "tests.test_stream",
        "named as its JUnit row: {one}"
    );
    assert_eq!(one["metadata"]["selector"], "tests/test_stream.py::test_one", "{one}");
    let manifest = run.manifest();
    let error = manifest["suites"][0]["error"].as_str().unwrap_or_default().to_string();
    assert!(
        error.contains("3 test(s) recorded from pytest's live stream, 1 running, 1 never ran"),
        "{manifest:#}"
    );
}

#[test]
fn under_xdist_the_controller_streams_every_workers_tests() {
    let config = config("unit", "tests", 4, r#"args = ["-n", "2"]"#);
    let project = project_with(
        "stream-xdist",
        &[(".qaagent.toml", &config), ("tests/test_stream.py", PYTEST_TESTS)],
    );
    let run = Qaagent::new(project.path()).args(["run-all"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let records = run.suite_records("unit");
    for name in ["test_one", "test_two", "test_three"] {
        assert_eq!(record_named(&records, name)["status"], "passed", "{}", run.describe());
    }
    let hung = record_named(&records, "test_four_hangs");
    assert_eq!(
        hung["error_message"], "timed out after 4 s while running this test",
        "{hung}"
    );
    let stream = std::fs::read_to_string(run.run_dir().join("artifacts/unit/qaagent-stream.jsonl")).expect("stream");
    assert_eq!(
        stream.matches("\"name\": \"test_one\"").count(),
        2,
        "started and finished once, by the controller alone: {stream}"
    );
}

const BEHAVE_FEATURE: &str = r#"Feature: Waiting

  Scenario: First
    Given I wait 0 seconds

  Scenario: Second
    Given I wait 0 seconds

  Scenario: Third
    Given I wait 0 seconds

  Scenario: Fourth hangs
    Given I wait 60 seconds

  Scenario: Fifth never runs
    Given I wait 0 seconds
"#;

const BEHAVE_STEPS: &str = r#"import time

from behave import given


@given("I wait {seconds:d} seconds")
def wait(context, seconds):
    time.sleep(seconds)
"#;

#[test]
fn a_behave_suite_that_times_out_keeps_the_scenarios_that_finished_and_names_the_hung_one() {
    let project = project_with(
        "stream-behave",
        &[
            (".qaagent.toml", &config("behave", "features", 4, "")),
            ("features/wait.feature", BEHAVE_FEATURE),
            ("features/steps/wait_steps.py", BEHAVE_STEPS),
        ],
    );
    let run = Qaagent::new(project.path()).args(["run-all"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    assert_partial(&run, "behave", &["First", "Second", "Third"], "Fourth hangs", 4, false);
    let records = run.suite_records("behave");
    let first = record_named(&records, "First");
    assert_eq!(
        first["metadata"]["classname"], "wait.Waiting",
        "named as its JUnit row: {first}"
    );
    assert_eq!(first["metadata"]["selector"], "features/wait.feature:3", "{first}");
}

/// No browser: the tests start at once and one waits forever.
const PLAYWRIGHT_TESTS: &str = r#"import { test, expect } from '@playwright/test';

test.describe('waiting', () => {
  test('first', async () => { expect(1).toBe(1); });
  test('second', async () => { expect(2).toBe(2); });
  test('third', async () => { expect(3).toBe(3); });
  test('fourth hangs', async () => { await new Promise(() => {}); });
  test('fifth never runs', async () => { expect(5).toBe(5); });
});
"#;

const PLAYWRIGHT_RUNNER_CONFIG: &str = r#"import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: './tests',
  workers: 1,
  retries: 0,
  timeout: 120000,
});
"#;

#[test]
fn a_playwright_suite_that_times_out_keeps_the_tests_that_finished_and_names_the_hung_one() {
    let project = project_with(
        "stream-playwright",
        &[
            (".qaagent.toml", &config("e2e", "e2e", 12, "")),
            ("e2e/playwright.config.ts", PLAYWRIGHT_RUNNER_CONFIG),
            ("e2e/tests/wait.spec.ts", PLAYWRIGHT_TESTS),
        ],
    );
    let fixture = qaagent_tests::repo_root().join("tests/fixtures/playwright-basic/e2e");
    for shared in ["node_modules", "package.json"] {
        std::os::unix::fs::symlink(fixture.join(shared), project.path().join("e2e").join(shared)).expect("symlink");
    }
    let run = Qaagent::new(project.path()).args(["run-all"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let passed = ["waiting › first", "waiting › second", "waiting › third"];
    assert_partial(&run, "e2e", &passed, "waiting › fourth hangs", 12, true);
    let records = run.suite_records("e2e");
    let first = record_named(&records, "waiting › first");
    assert_eq!(
        first["metadata"]["classname"], "wait.spec.ts",
        "named as its report's row: {first}"
    );
    assert_eq!(
        first["metadata"]["selector"], "wait.spec.ts › waiting › first",
        "{first}"
    );
    let manifest = run.manifest();
    let error = manifest["suites"][0]["error"].as_str().unwrap_or_default().to_string();
    assert!(error.contains("1 running, 1 never ran"), "{manifest:#}");
}

#[test]
fn format_json_prints_each_test_as_it_finishes_before_its_suite() {
    let config = config("unit", "tests", 60, "");
    let tests = "def test_a():\n    pass\n\n\ndef test_b():\n    pass\n\n\ndef test_c():\n    assert 1 == 2\n\n\n\
                 def test_d():\n    pass\n\n\ndef test_e():\n    pass\n";
    let project = project_with(
        "stream-json",
        &[(".qaagent.toml", &config), ("tests/test_five.py", tests)],
    );
    let run = Qaagent::new(project.path()).args(["run-all", "--format", "json"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let events: Vec<serde_json::Value> = run
        .stdout()
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object a line"))
        .collect();
    let names: Vec<&str> = events.iter().filter_map(|event| event["event"].as_str()).collect();
    let finished_at = names
        .iter()
        .position(|name| *name == "suite-finished")
        .expect("suite-finished");
    let test_finished: Vec<&serde_json::Value> = events[..finished_at]
        .iter()
        .filter(|event| event["event"] == "test-finished")
        .collect();
    assert_eq!(test_finished.len(), 5, "{names:?}");
    assert_eq!(
        names[finished_at..]
            .iter()
            .filter(|name| **name == "test-finished")
            .count(),
        0
    );
    let c = test_finished
        .iter()
        .find(|event| event["name"] == "test_c")
        .expect("test_c");
    assert_eq!(
        (&c["suite"], &c["attempt"], &c["status"], &c["selector"]),
        (
            &serde_json::json!("unit"),
            &serde_json::json!(1),
            &serde_json::json!("failed"),
            &serde_json::json!("tests/test_five.py::test_c")
        ),
        "{c}"
    );
    let planned = events
        .iter()
        .find(|event| event["event"] == "tests-planned")
        .expect("tests-planned");
    assert_eq!(planned["total"], 5, "{planned}");
    assert_eq!(
        names.iter().filter(|name| **name == "test-started").count(),
        5,
        "{names:?}"
    );
    let finished = events.last().expect("run-finished");
    assert_eq!(
        finished["warnings"],
        serde_json::json!([]),
        "stream and report agree: {finished}"
    );
}

#[test]
fn a_qaagent_killed_mid_suite_leaves_every_finished_test_in_tests_jsonl() {
    // The hung test says where its process group is, to be stopped once qaagent is gone.
    let tests = PYTEST_TESTS.replace(
        "def test_four_hangs():\n",
        "def test_four_hangs():\n    import os, pathlib\n    pathlib.Path('pgid').write_text(str(os.getpgid(0)))\n",
    );
    let project = project_with(
        "stream-kill",
        &[
            (".qaagent.toml", &config("unit", "tests", 120, "")),
            ("tests/test_stream.py", &tests),
        ],
    );
    let runs = tempfile::tempdir().expect("runs");
    let mut qaagent = Qaagent::with_runs_dir(project.path(), runs.path()).args(["run-all", "--no-progress"]);
    qaagent
        .command()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = qaagent.command().spawn().expect("start qaagent");
    let pgid_file = project.path().join("pgid");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !pgid_file.is_file() || std::fs::read_to_string(&pgid_file).unwrap_or_default().is_empty() {
        assert!(std::time::Instant::now() < deadline, "the hung test never started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let run_dir = std::fs::read_dir(runs.path())
        .expect("runs")
        .next()
        .expect("a run")
        .expect("entry")
        .path();
    let tests_file = run_dir.join("evidence/tests.jsonl");
    // The finished tests reach the file within moments of the hung one's start.
    while qaagent_tests::read_jsonl(&tests_file).len() < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "the finished tests never reached tests.jsonl"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let pgid = std::fs::read_to_string(&pgid_file).expect("pgid");
    let _ = std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", pgid.trim())])
        .status();

    let records = qaagent_tests::read_jsonl(&tests_file);
    let names: Vec<(&str, &str)> = records
        .iter()
        .map(|record| {
            (
                record["name"].as_str().unwrap_or_default(),
                record["status"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [("test_one", "passed"), ("test_two", "passed"), ("test_three", "passed")]
    );
    assert_eq!(
        records[0]["metadata"]["selector"], "tests/test_stream.py::test_one",
        "{}",
        records[0]
    );
    let manifest = qaagent_tests::read_json(&run_dir.join("manifest.json"));
    assert_eq!(manifest["status"], "running", "the run was killed: {manifest:#}");

    // `runs list` counts the streamed records, which the manifest of a run
    // killed mid-suite does not.
    let list = Qaagent::with_runs_dir(project.path(), runs.path())
        .args(["runs", "list", "--json"])
        .run();
    assert_eq!(list.code(), 0, "{}", list.describe());
    let rows: serde_json::Value = serde_json::from_str(&list.stdout()).expect("one JSON document");
    assert_eq!(rows[0]["status"], "crashed", "{}", list.describe());
    let counts = &rows[0]["counts"];
    assert_eq!(
        (counts["tests"].as_u64(), counts["tests_passed"].as_u64()),
        (Some(3), Some(3)),
        "{}",
        list.describe()
    );
}

#[test]
fn the_live_display_counts_the_tests_done_as_they_finish() {
    let tests = (1..=4)
        .map(|n| format!("def test_{n}():\n    import time\n    time.sleep(0.5)\n\n\n"))
        .collect::<String>();
    let project = project_with(
        "stream-live",
        &[
            (".qaagent.toml", &config("unit", "tests", 60, "")),
            ("tests/test_slow.py", &tests),
        ],
    );
    let runs = tempfile::tempdir().expect("runs");
    let run_all = format!("run-all --runs-dir {}", runs.path().display());
    let seen = qaagent_tests::run_in_terminal(project.path(), &run_all, true);
    for done in ["0/4", "1/4", "2/4", "3/4"] {
        assert!(
            seen.contains(&format!("attempt 1 {done}")),
            "{done} in the live display: {seen:?}"
        );
    }
    assert!(seen.contains("PASS unit"), "it ends in the suite's result line: {seen}");
    assert!(
        !seen.contains("s left"),
        "a first run has nothing to count down from: {seen:?}"
    );

    // Run again: the suite took ~2 s last time, and the display counts down from it.
    let seen = qaagent_tests::run_in_terminal(project.path(), &run_all, true);
    assert!(seen.contains("attempt 1 0/4, ~"), "a countdown: {seen:?}");
    assert!(seen.contains("s left"), "a countdown: {seen:?}");
}

#[test]
fn a_test_writing_into_the_stream_can_fail_the_run_but_not_add_a_pass() {
    // Lines a test writes into the live stream are untrusted: a garbage line
    // is skipped and a passing test the report does not hold is not
    // recorded (a warning says they disagree). A failure the report does not
    // hold is recorded, as a failure a rewritten report left out would be:
    // where the stream and the report cannot both be right, the run is red.
    let tests = r#"import os


def test_forges_the_stream():
    with open(os.environ["QAAGENT_STREAM"], "a") as stream:
        stream.write("not json at all\n")
        stream.write('{"event": "finished", "file": "tests/test_forge.py", "classname": "tests.test_forge", '
                     '"name": "test_ghost", "status": "failed"}\n')
        stream.write('{"event": "finished", "file": "tests/test_forge.py", "classname": "tests.test_forge", '
                     '"name": "test_ghost_pass", "status": "passed"}\n')


def test_plain():
    pass
"#;
    let project = project_with(
        "stream-forged",
        &[
            (".qaagent.toml", &config("unit", "tests", 60, "")),
            ("tests/test_forge.py", tests),
        ],
    );
    let run = Qaagent::new(project.path()).args(["run-all", "--format", "json"]).run();
    assert_eq!(run.code(), 1, "the stream says test_ghost failed: {}", run.describe());
    let records: Vec<(String, String)> = run
        .suite_records("unit")
        .iter()
        .map(|record| {
            let field = |key: &str| record[key].as_str().unwrap_or_default().to_string();
            (field("name"), field("status"))
        })
        .collect();
    let record = |name: &str, status: &str| (name.to_string(), status.to_string());
    assert_eq!(
        records,
        [
            record("test_forges_the_stream", "passed"),
            record("test_plain", "passed"),
            record("test_ghost", "failed")
        ]
    );
    let finished: serde_json::Value =
        serde_json::from_str(run.stdout().lines().last().expect("run-finished")).expect("json");
    let warnings = finished["warnings"].to_string();
    for said in [
        "suite unit: the tool's report leaves out 1 test(s) its live stream saw fail: tests/test_forge.py::test_ghost",
        "suite unit: the tool's report and its live stream disagree: 0 test(s) only in the report, 1 only in the stream",
    ] {
        assert!(warnings.contains(said), "{said}: {warnings}");
    }
    assert!(
        run.stderr().contains("disagree"),
        "people are told too: {}",
        run.describe()
    );
}

/// A tool that ends by itself, exit code 0, in the middle of a test: behave
/// has written the JUnit file of the feature before, which reads clean, and
/// never gets to the failing scenario after. Found by a hostile try: the
/// run passed.
#[test]
fn a_tool_exiting_zero_in_the_middle_of_a_test_is_a_suite_error_not_a_pass() {
    let project = project_with(
        "stream-exit-zero",
        &[
            (".qaagent.toml", &config("behave", "features", 60, "")),
            ("features/a.feature", "Feature: A\n  Scenario: passes\n    Given ok\n"),
            (
                "features/b.feature",
                "Feature: B\n  Scenario: tool dies here\n    Given exit\n  Scenario: fails\n    Given fail\n",
            ),
            (
                "features/steps/steps.py",
                "import os\nfrom behave import given\n\n\n@given(\"ok\")\ndef ok(ctx):\n    pass\n\n\n\
                 @given(\"exit\")\ndef ex(ctx):\n    os._exit(0)\n\n\n@given(\"fail\")\ndef fail(ctx):\n    assert False\n",
            ),
        ],
    );
    let run = Qaagent::new(project.path()).args(["run-all"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let printed = format!("{}{}", run.stdout(), run.stderr());
    assert!(
        printed.contains("behave stopped before the end of its run"),
        "{}",
        run.describe()
    );
    assert_eq!(run.manifest()["status"], "failed", "{}", run.describe());

    // pytest the same way: `os._exit(0)` in a test.
    let project = project_with(
        "stream-exit-zero-pytest",
        &[
            (".qaagent.toml", &config("unit", "tests", 60, "")),
            (
                "tests/test_exit.py",
                "import os\n\n\ndef test_one():\n    pass\n\n\ndef test_exits():\n    os._exit(0)\n\n\n\
                 def test_fails():\n    assert False\n",
            ),
        ],
    );
    let run = Qaagent::new(project.path()).args(["run-all"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let records = run.suite_records("unit");
    assert_eq!(
        record_named(&records, "test_one")["status"],
        "passed",
        "{}",
        run.describe()
    );
    assert_eq!(
        record_named(&records, "test_exits")["status"],
        "error",
        "{}",
        run.describe()
    );
    let printed = format!("{}{}", run.stdout(), run.stderr());
    assert!(
        printed.contains("exited with code 0 while running this test"),
        "{}",
        run.describe()
    );
}

/// Quarantine excuses a test's failure, never its suite's timeout: the test
/// running when the suite timed out is quarantined, the one after it never
/// ran, and the run fails, listing it with the failures.
#[test]
fn a_suite_timing_out_on_a_quarantined_test_fails_the_run() {
    let quarantine = "[[quarantine]]\ntest = \"unit::tests/test_stream.py::test_four_hangs\"\n\
                      reason = \"hangs\"\nuntil = \"2999-12-31\"\n";
    let project = project_with(
        "stream-quarantined-hang",
        &[
            (
                ".qaagent.toml",
                &format!("{}{quarantine}", config("unit", "tests", 4, "")),
            ),
            ("tests/test_stream.py", PYTEST_TESTS),
        ],
    );
    let run = Qaagent::new(project.path()).args(["run-all", "--no-progress"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let stdout = run.stdout();
    assert!(
        stdout.contains("Failures:\n  ERROR unit tests/test_stream.py::test_four_hangs"),
        "{stdout}"
    );
    assert!(!stdout.contains("Quarantined failures"), "{stdout}");
}

/// Found by a hostile try of the live stream, each a false green or a
/// changed test: pytest stopped by a hook with exit code 0 after one of its
/// three tests; a project module named like qaagent's plugin; a test that
/// closes the plugin's file descriptor and opens a file of its own.
#[test]
fn the_stream_catches_a_tool_that_stops_early_and_stays_out_of_the_project_s_way() {
    let conftest =
        "import pytest\n\n\n@pytest.hookimpl(tryfirst=True)\ndef pytest_runtest_protocol(item, nextitem):\n    \
                    if item.name == \"test_2\":\n        pytest.exit(\"stopping early\", returncode=0)\n";
    let tests = "def test_1():\n    pass\n\n\ndef test_2():\n    pass\n\n\ndef test_3():\n    assert 0\n";
    let project = project_with(
        "stream-exit-hook",
        &[
            (".qaagent.toml", &config("unit", "tests", 60, "")),
            ("tests/conftest.py", conftest),
            ("tests/test_a.py", tests),
        ],
    );
    let run = Qaagent::new(project.path()).args(["run-all", "--no-progress"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    assert!(
        run.stdout()
            .contains("exited with code 0 before running 2 of the 3 tests"),
        "{}",
        run.describe()
    );

    // A project's own `qaagent_stream` module is the project's, and
    // qaagent's plugin still streams; a test that closes the plugin's
    // descriptor and opens a file gets no stream lines in it.
    let tests = r#"import os

import qaagent_stream


def test_own_module():
    assert qaagent_stream.VALUE == 42


def test_reused_descriptor(tmp_path):
    for fd in range(3, 64):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").endswith("qaagent-stream.jsonl"):
                os.close(fd)
        except OSError:
            pass
    path = tmp_path / "data.txt"
    with open(path, "w") as data:
        data.write("mine\n")
        data.flush()
        os.fsync(data.fileno())
    assert path.read_text() == "mine\n"


def test_after():
    pass
"#;
    let project = project_with(
        "stream-own-module",
        &[
            (".qaagent.toml", &config("unit", "tests", 60, "")),
            ("qaagent_stream.py", "VALUE = 42\n"),
            ("tests/test_b.py", tests),
        ],
    );
    let run = Qaagent::new(project.path()).args(["run-all", "--no-progress"]).run();
    assert_eq!(run.code(), 0, "{}", run.describe());
    assert!(
        !run.stdout().contains("disagree"),
        "the stream saw every test: {}",
        run.describe()
    );
    let records = run.suite_records("unit");
    for name in ["test_own_module", "test_reused_descriptor", "test_after"] {
        assert_eq!(
            record_named(&records, name)["status"],
            "passed",
            "{name}: {}",
            run.describe()
        );
    }
}

/// behave writes a JUnit file per feature as it goes: when it is stopped in
/// the second feature, the first one's report is there, and the second
/// one's tests come from the stream (found by a hostile try: they were lost).
#[test]
fn a_behave_suite_stopped_in_its_second_feature_keeps_both_features_tests() {
    let second = "Feature: Second\n\n  Scenario: Second first\n    Given I wait 0 seconds\n\n  \
                  Scenario: Second hangs\n    Given I wait 60 seconds\n";
    let project = project_with(
        "stream-behave-two",
        &[
            (".qaagent.toml", &config("behave", "features", 5, "")),
            (
                "features/a_first.feature",
                "Feature: First\n\n  Scenario: First one\n    Given I wait 0 seconds\n",
            ),
            ("features/b_second.feature", second),
            ("features/steps/wait_steps.py", BEHAVE_STEPS),
        ],
    );
    let run = Qaagent::new(project.path()).args(["run-all", "--no-progress"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let records = run.suite_records("behave");
    assert_eq!(
        record_named(&records, "First one")["status"],
        "passed",
        "{}",
        run.describe()
    );
    assert_eq!(
        record_named(&records, "Second first")["status"],
        "passed",
        "{}",
        run.describe()
    );
    let hung = record_named(&records, "Second hangs");
    assert_eq!(hung["status"], "error", "{}", run.describe());
    assert_eq!(
        hung["error_message"], "timed out after 5 s while running this test",
        "{hung}"
    );
}
