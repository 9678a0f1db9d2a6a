//! Where a tool's own account and qaagent's could part, run through the real
//! tools: pytest subtests, behave with `show_skipped = false`, a suite that
//! times out before its report is written (`tests/fixtures/tool-edges`), and
//! a command suite whose report lives outside its output dir and one without
//! a `rerun` template (`tests/fixtures/command-project`).

use qaagent_tests::{fixture, read_json, read_jsonl, read_text, record_named, squash, Qaagent};
use serde_json::Value;

fn count(records: &[Value], status: &str) -> usize {
    records.iter().filter(|r| r["status"] == status).count()
}

/// The number before `what` on behave's summary line `N scenarios passed, …`.
fn behave_scenarios(log: &str, what: &str) -> usize {
    let line = log
        .lines()
        .find(|line| line.contains("scenarios passed") || line.contains("scenario passed"))
        .unwrap_or_else(|| panic!("no scenario summary in behave's output:\n{log}"));
    line.split(", ")
        .find_map(|part| {
            let words: Vec<&str> = part.split_whitespace().collect();
            (words.last() == Some(&what)).then(|| words[0].parse().ok()).flatten()
        })
        .unwrap_or_else(|| panic!("no `N {what}` in {line:?}"))
}

/// pytest writes one `<failure>` per failing subtest (and one saying how many
/// failed) in a single `<testcase>`: every one of them reaches the record,
/// its metadata, the diagnosis, the summary and `--junit`.
#[test]
fn every_failure_of_a_test_with_failing_subtests_is_kept() {
    let project = fixture("tool-edges");
    let junit = project.path().join("merged.xml");
    let run = Qaagent::new(project.path())
        .args(["run-all", "--suite", "subtests", "--junit"])
        .args([&junit])
        .run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let stdout = squash(&run.stdout());
    assert!(
        stdout.contains("FAIL subtests 1 passed, 1 failed, 0 errors, 0 skipped"),
        "three <failure> elements counted by pytest as failures=\"3\" are one failing test, not a suite error: {stdout}"
    );
    assert!(
        stdout.contains("assert 0 == 2"),
        "the second failure is in the summary: {stdout}"
    );
    assert!(
        stdout.contains("(1 test with 3 failures in all, which the tool counts one by one)"),
        "the suite line says why pytest's own count (3 failed) differs: {stdout}"
    );

    let records = run.suite_records("subtests");
    let counts = record_named(&records, "test_counts");
    let message = counts["error_message"].as_str().unwrap_or_default();
    for failure in ["assert 0 == 1", "assert 0 == 2", "contains 2 failed subtests"] {
        assert!(message.contains(failure), "{failure:?} in {counts:#}");
    }
    let failures = counts["metadata"]["failures"].as_array().cloned().unwrap_or_default();
    let messages: Vec<&str> = failures.iter().filter_map(|f| f["message"].as_str()).collect();
    assert_eq!(
        messages,
        ["assert 0 == 1", "assert 0 == 2", "contains 2 failed subtests"],
        "{counts:#}"
    );
    assert!(
        failures[1]["details"]
            .as_str()
            .is_some_and(|d| d.contains("E               assert 0 == 2") && !d.contains("assert 0 == 1")),
        "each failure keeps its own traceback: {counts:#}"
    );

    let diagnostics = read_json(&run.run_dir().join("evidence/diagnostics.json"));
    let diagnosis = diagnostics
        .as_array()
        .and_then(|all| {
            all.iter().find(|d| {
                d["test_name"] == "test_counts" || d["selector"].as_str().is_some_and(|s| s.ends_with("::test_counts"))
            })
        })
        .unwrap_or_else(|| panic!("no diagnosis of test_counts: {diagnostics:#}"));
    assert!(
        diagnosis["error_message"]
            .as_str()
            .is_some_and(|m| m.contains("assert 0 == 2")),
        "{diagnosis:#}"
    );

    let merged = read_text(&junit);
    assert!(merged.contains("assert 0 == 2"), "{merged}");
}

/// behave.ini's `show_skipped = false` leaves skipped scenarios out of
/// behave's JUnit report (a whole skipped feature gets no file at all);
/// qaagent still records each one, so its counts are behave's own.
#[test]
fn scenarios_behave_ini_hides_are_recorded_as_skipped() {
    let project = fixture("tool-edges");
    let run = Qaagent::new(project.path())
        .args(["run-all", "--suite", "behave"])
        .run();
    assert_eq!(run.code(), 0, "{}", run.describe());
    let log = read_text(&run.run_dir().join("artifacts/behave/stdout.log"));
    let records = run.suite_records("behave");
    assert_eq!(behave_scenarios(&log, "skipped"), 3, "the fixture's own number: {log}");
    assert_eq!(
        count(&records, "skipped"),
        behave_scenarios(&log, "skipped"),
        "{records:#?}"
    );
    assert_eq!(
        count(&records, "passed"),
        behave_scenarios(&log, "passed"),
        "{records:#?}"
    );
    for name in ["Gift cards", "Loyalty points", "Return an item"] {
        assert_eq!(record_named(&records, name)["status"], "skipped");
    }
    assert!(
        squash(&run.stdout()).contains("PASS behave 2 passed, 0 failed, 0 errors, 3 skipped"),
        "{}",
        run.describe()
    );
}

/// pytest writes its JUnit report at the end, so a suite killed at its
/// timeout leaves none: the tests its live stream reported as finished are
/// recorded all the same, the one running is an error naming the timeout,
/// and the summary says the report was not written.
#[test]
fn a_suite_that_times_out_says_its_report_was_not_written() {
    let project = fixture("tool-edges");
    let run = Qaagent::new(project.path()).args(["run-all", "--suite", "slow"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let stdout = squash(&run.stdout());
    assert!(
        stdout.contains(
            "timed out after 5 s; pytest's report was not written: 3 test(s) recorded from pytest's live stream, \
             1 running, 0 never ran"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 suite, 4 tests: 3 passed, 0 failed, 1 error, 0 skipped"),
        "{stdout}"
    );
    let failure = "ERROR slow tests/slow/test_slow.py::test_zz_sleeps\n timed out after 5 s while running this test";
    assert!(stdout.contains(failure), "{stdout}");
    let manifest = run.manifest();
    assert_eq!(manifest["suites"][0]["outcome"], "timed_out", "{manifest:#}");
    assert!(
        manifest["suites"][0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("report was not written")),
        "{manifest:#}"
    );
}

/// nextest writes its report below the crate's `target/`, outside the
/// attempt's output dir: each attempt keeps its own copy before the next
/// one starts, so attempt 1's four cases and attempt 2's one re-run survive.
#[test]
fn each_attempt_keeps_its_own_copy_of_a_report_outside_its_output_dir() {
    let project = fixture("command-project");
    let run = Qaagent::new(project.path())
        .args(["run-all", "--suite", "nextest-rerun", "--retries", "1"])
        .run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let artifacts = run.run_dir().join("artifacts/nextest-rerun");
    let first = read_text(&artifacts.join("junit.xml"));
    let second = read_text(&artifacts.join("attempt-2/junit.xml"));
    assert_eq!(first.matches("<testcase").count(), 4, "attempt 1 ran all: {first}");
    assert!(first.contains("tests::adds_negative"), "{first}");
    assert!(
        second.contains("tests::fails") && !second.contains("tests::adds_negative"),
        "attempt 2 ran only the failed test: {second}"
    );
    let records = run.suite_records("nextest-rerun");
    assert_eq!(records.len(), 4, "{records:#?}");
    assert_eq!(record_named(&records, "tests::fails")["metadata"]["attempts"], 2);
    assert_eq!(record_named(&records, "tests::adds")["metadata"]["attempts"], 1);
    // Each record names the reports of the attempts that ran its test.
    let reports = |name: &str| -> Vec<String> {
        let record = record_named(&records, name);
        (record["evidence_refs"].as_array().into_iter().flatten())
            .filter_map(Value::as_str)
            .filter(|r| r.ends_with("junit.xml"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        reports("tests::fails"),
        [
            "artifacts/nextest-rerun/junit.xml",
            "artifacts/nextest-rerun/attempt-2/junit.xml"
        ]
    );
    assert_eq!(reports("tests::adds"), ["artifacts/nextest-rerun/junit.xml"]);
}

/// A command suite without a `rerun` template cannot single out its failed
/// tests: `--rerun-failed` says it runs the whole suite, and why.
#[test]
fn rerun_failed_without_a_rerun_template_says_it_runs_the_whole_suite() {
    let project = fixture("command-project");
    let marker = tempfile::tempdir().expect("tempdir");
    let marker = marker.path().join("flaky-failed-once");
    let first = Qaagent::new(project.path())
        .args(["run-all", "--suite", "node"])
        .env("FLAKY_MARKER", &marker)
        .run();
    assert_eq!(first.code(), 1, "{}", first.describe());
    let rerun = Qaagent::with_runs_dir(project.path(), first.runs_dir.path())
        .args(["run-all", "--rerun-failed"])
        .env("FLAKY_MARKER", &marker)
        .run();
    assert_eq!(rerun.code(), 1, "{}", rerun.describe());
    let stdout = squash(&rerun.stdout());
    assert!(stdout.contains("node: the whole suite (no rerun template)"), "{stdout}");
    assert!(!stdout.contains("failed tests of run"), "{stdout}");
    let newest = rerun.run_dirs().pop().expect("the re-run's directory");
    let records = read_jsonl(&newest.join("evidence/tests.jsonl"));
    assert_eq!(records.len(), 6, "node ran every test again: {records:#?}");
}

/// pytest-rerunfailures re-runs a failing test itself and writes an empty
/// row for each run it repeated: those runs failed, so they are attempts,
/// and a test that passed on a re-run is flaky — never a plain pass.
#[test]
fn pytest_rerunfailures_reruns_are_attempts_and_a_rerun_pass_is_flaky() {
    let project = fixture("tool-edges");
    let state = tempfile::tempdir().expect("tempdir");
    let run = Qaagent::new(project.path())
        .args(["run-all", "--suite", "reruns", "--no-progress"])
        .env("RETRY_STATE_DIR", state.path())
        .run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let records = run.records();
    let by_name = |name: &str| record_named(&records, name).clone();
    let (flaky, fails, ok) = (by_name("test_flaky"), by_name("test_fails"), by_name("test_ok"));
    assert_eq!(
        (
            &flaky["status"],
            &flaky["metadata"]["attempts"],
            &flaky["metadata"]["flaky"]
        ),
        (&"passed".into(), &2.into(), &true.into()),
        "{flaky}"
    );
    assert_eq!(
        (&fails["status"], &fails["metadata"]["attempts"]),
        (&"failed".into(), &3.into()),
        "{fails}"
    );
    assert_eq!(ok["metadata"]["attempts"], 1, "{ok}");
    // A failed subtest makes the first run's row a failing one, then the re-run's passes.
    let sub = by_name("test_subtest_flaky");
    assert_eq!(
        (&sub["status"], &sub["metadata"]["attempts"], &sub["metadata"]["flaky"]),
        (&"passed".into(), &2.into(), &true.into()),
        "{sub}"
    );
    // As many attempts as the tests logged runs.
    let runs = read_text(&state.path().join("reruns.log"));
    assert_eq!(runs.lines().count(), 2 + 3 + 1 + 2, "{runs}");
    assert!(squash(&run.stdout()).contains("FLAKY"), "{}", run.describe());
    assert_eq!(run.manifest()["counts"]["tests_flaky"], 2);
}

/// `--rerun-failed` selects behave scenarios by `file:LINE`: after the file
/// is edited, that line may hold another scenario, which passes. The re-run
/// must not pass on it: the failed scenario did not run.
#[test]
fn rerun_failed_never_passes_on_a_test_that_moved_into_the_failed_ones_place() {
    let shop = "Feature: Shop\n\n  Scenario: Passing\n    Given a step that passes\n\n  Scenario: Failing\n    Given a step that fails\n";
    let project = qaagent_tests::project_with(
        "qaagent-moved-",
        &[
            (".qaagent.toml", "[project]\nname = \"moved\"\n\n[tests.behave]\npath = \"features\"\n"),
            ("features/shop.feature", shop),
            (
                "features/steps/steps.py",
                "from behave import given\n\n@given('a step that passes')\ndef ok(context):\n    pass\n\n@given('a step that fails')\ndef bad(context):\n    assert False, 'boom'\n",
            ),
        ],
    );
    let runs = tempfile::tempdir().expect("runs");
    let first = Qaagent::with_runs_dir(project.path(), runs.path())
        .args(["run-all", "--no-progress"])
        .run();
    assert_eq!(first.code(), 1, "{}", first.describe());
    // "Passing" moves down to the line "Failing" was on.
    let edited = shop.replace(
        "  Scenario: Passing",
        "  Scenario: Inserted\n    Given a step that passes\n\n  Scenario: Passing",
    );
    std::fs::write(project.path().join("features/shop.feature"), edited).expect("edit");
    let rerun = Qaagent::with_runs_dir(project.path(), runs.path())
        .args(["run-all", "--no-progress", "--rerun-failed"])
        .run();
    assert_eq!(rerun.code(), 1, "{}", rerun.describe());
    assert!(
        squash(&rerun.stdout()).contains("features/shop.feature:6` now runs `Passing`"),
        "{}",
        rerun.describe()
    );
}

/// The same where the failed scenario's name does not tell it from the one
/// that moved into its place: an outline row (`vals -- @1.2`, behave's name
/// for the table's second row, whichever row that is) and a scenario whose
/// name another one shares. The re-run runs the suite whole and meets the
/// failure where it went. Before, both passed (a hostile try, 13a #1).
#[test]
fn rerun_failed_of_a_test_its_name_cannot_tell_runs_its_suite_whole() {
    let outline = "Feature: O\n\n  Scenario Outline: vals\n    Given the value <v>\n\n    Examples:\n      | v    |\n      | good |\n      | bad  |\n";
    let twins =
        "Feature: T\n\n  Scenario: log in\n    Given the value bad\n\n  Scenario: log in\n    Given the value good\n";
    let steps =
        "from behave import given\n\n@given('the value {v}')\ndef value(context, v):\n    assert v != 'bad', v\n";
    // Rows named as the project asks: `vals (row 2)` (a hostile try, 14 N3).
    let schema = "[behave]\nscenario_outline_annotation_schema = {name} (row {row.index})\n";
    let row = ("      | good |\n", "      | good |\n      | new  |\n");
    let scenario = (
        "Feature: T\n",
        "Feature: T\n\n  Scenario: first\n    Given the value good\n",
    );
    for (feature, text, edit, ini) in [
        ("o.feature", outline, row, ""),
        ("o.feature", outline, row, schema),
        ("t.feature", twins, scenario, ""),
    ] {
        let project = qaagent_tests::project_with(
            "qaagent-unnamed-",
            &[
                (
                    ".qaagent.toml",
                    "[project]\nname = \"unnamed\"\n\n[tests.behave]\npath = \"features\"\n",
                ),
                (&format!("features/{feature}"), text),
                ("features/steps/steps.py", steps),
                ("behave.ini", ini),
            ],
        );
        let runs = tempfile::tempdir().expect("runs");
        let first = Qaagent::with_runs_dir(project.path(), runs.path())
            .args(["run-all", "--no-progress"])
            .run();
        assert_eq!(first.code(), 1, "{feature}: {}", first.describe());
        let edited = text.replace(edit.0, edit.1);
        assert_ne!(edited, text, "{feature}");
        std::fs::write(project.path().join("features").join(feature), edited).expect("edit");
        let rerun = Qaagent::with_runs_dir(project.path(), runs.path())
            .args(["run-all", "--no-progress", "--rerun-failed"])
            .run();
        assert_eq!(rerun.code(), 1, "{feature}: {}", rerun.describe());
        assert!(
            squash(&rerun.stdout()).contains("behave: the whole suite ("),
            "{feature}: {}",
            rerun.describe()
        );
    }
}

/// Stored evidence is input: a selector edited to look like an option
/// (`--debug=FILE`) is passed to pytest as a path, never as an option.
#[test]
fn an_edited_selector_is_never_an_option_of_the_tool() {
    let project = fixture("pytest-project");
    let runs = tempfile::tempdir().expect("runs");
    let first = Qaagent::with_runs_dir(project.path(), runs.path())
        .args(["run-all", "--no-progress"])
        .run();
    assert_eq!(first.code(), 1, "{}", first.describe());
    let tests = first.run_dir().join("evidence/tests.jsonl");
    let planted = runs.path().join("planted-debug.log");
    let text = read_text(&tests);
    let failing = text
        .lines()
        .find(|line| line.contains("\"status\":\"failed\""))
        .expect("a failed record")
        .to_string();
    let record: Value = serde_json::from_str(&failing).expect("json");
    let selector = record["metadata"]["selector"].as_str().expect("selector").to_string();
    let edited = text.replace(
        &format!("\"selector\":{}", serde_json::to_string(&selector).expect("json")),
        &format!("\"selector\":\"--debug={}\"", planted.display()),
    );
    assert_ne!(edited, text, "the selector was replaced");
    std::fs::write(&tests, edited).expect("edit");
    let rerun = Qaagent::with_runs_dir(project.path(), runs.path())
        .args(["run-all", "--no-progress", "--rerun-failed"])
        .run();
    assert!(!planted.exists(), "pytest took the selector as its --debug option");
    assert_eq!(rerun.code(), 1, "{}", rerun.describe());
}

/// A runs dir or `--out` given with `..` works: pytest refuses a cache dir
/// whose path climbs, so qaagent passes every path without `..`.
#[test]
fn a_runs_dir_and_out_that_climb_with_dotdot_work() {
    let project = qaagent_tests::project_with(
        "climb",
        &[
            (
                ".qaagent.toml",
                "[project]\nname = \"climb\"\n\n[tests.unit]\npath = \"tests\"\n",
            ),
            ("tests/test_ok.py", "def test_ok():\n    pass\n"),
        ],
    );
    let name = project.path().file_name().expect("name").to_string_lossy().into_owned();
    let run = Qaagent::new(project.path())
        .args(["run-all", "--no-progress", "--runs-dir"])
        .args([
            format!("../{name}-runs"),
            "--out".into(),
            format!("./x/../../{name}-out"),
        ])
        .run();
    let siblings = project.path().parent().expect("parent");
    let _ = std::fs::remove_dir_all(siblings.join(format!("{name}-runs")));
    let _ = std::fs::remove_dir_all(siblings.join(format!("{name}-out")));
    assert_eq!(run.code(), 0, "{}", run.describe());
}

/// Re-running hundreds of failed tests with long ids goes through a file
/// pytest reads as `@FILE`, not a command line that could overflow.
#[test]
fn many_long_node_ids_are_re_run_through_an_args_file() {
    let test = "import pytest\n\n@pytest.mark.parametrize('case', ['a-rather-long-parametrize-id-so-that-node-ids-add-up-quickly-{:04}'.format(i) for i in range(800)])\ndef test_many(case):\n    assert False\n";
    let project = qaagent_tests::project_with(
        "many-ids",
        &[
            (
                ".qaagent.toml",
                "[project]\nname = \"many\"\n\n[tests.unit]\npath = \"tests\"\n",
            ),
            ("tests/test_many.py", test),
        ],
    );
    let runs = tempfile::tempdir().expect("runs");
    let first = Qaagent::with_runs_dir(project.path(), runs.path())
        .args(["run-all", "--no-progress"])
        .run();
    assert_eq!(first.code(), 1, "{}", first.describe());
    assert_eq!(first.run_dirs().len(), 1);
    let rerun = Qaagent::with_runs_dir(project.path(), runs.path())
        .args(["run-all", "--no-progress", "--rerun-failed"])
        .run();
    assert_eq!(rerun.code(), 1, "{}", rerun.describe());
    let dir = rerun.run_dirs().pop().expect("the re-run");
    let records = qaagent_tests::read_jsonl(&dir.join("evidence/tests.jsonl"));
    assert_eq!(records.len(), 800, "every failed test ran again");
    assert!(records.iter().all(|r| r["status"] == "failed"));
    assert!(
        dir.join("artifacts/unit/selection.txt").is_file(),
        "through an args file"
    );
}

/// Args that make a tool run nothing (behave `--dry-run`) would report every
/// test skipped and the suite passed: the suite errors instead, saying why.
#[test]
fn args_that_run_no_test_are_a_suite_error_not_a_pass() {
    let project = qaagent_tests::project_with(
        "dry-run",
        &[
            (
                ".qaagent.toml",
                "[project]\nname = \"dry\"\n\n[tests.behave]\npath = \"features\"\nargs = [\"--dry-run\"]\n",
            ),
            (
                "features/a.feature",
                "Feature: A\n\n  Scenario: fails\n    Given a step that fails\n",
            ),
            (
                "features/steps/steps.py",
                "from behave import given\n\n@given('a step that fails')\ndef bad(context):\n    assert False\n",
            ),
        ],
    );
    let run = Qaagent::new(project.path()).args(["run-all", "--no-progress"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    assert!(
        squash(&run.stdout()).contains("`--dry-run`, which runs no step"),
        "{}",
        run.describe()
    );
}

/// pytest's `--setup-plan` and `--setup-only` report every test passed
/// without running one, whether they come from the suite's args or from the
/// project's `addopts`: the suite errors instead, saying why.
#[test]
fn setup_plan_and_setup_only_are_a_suite_error_not_a_pass() {
    for (option, ini) in [("--setup-plan", false), ("--setup-only", true)] {
        let config = if ini {
            "[project]\nname = \"setup\"\n\n[tests.unit]\nrunner = \"pytest\"\npath = \"tests\"\n".to_string()
        } else {
            format!("[project]\nname = \"setup\"\n\n[tests.unit]\nrunner = \"pytest\"\npath = \"tests\"\nargs = [\"{option}\"]\n")
        };
        let pytest_ini = if ini {
            format!("[pytest]\naddopts = {option}\n")
        } else {
            "[pytest]\n".to_string()
        };
        let project = qaagent_tests::project_with(
            "setup-plan",
            &[
                (".qaagent.toml", config.as_str()),
                ("pytest.ini", pytest_ini.as_str()),
                ("tests/test_a.py", "def test_fails():\n    assert False\n"),
            ],
        );
        let run = Qaagent::new(project.path()).args(["run-all", "--no-progress"]).run();
        assert_eq!(run.code(), 1, "{option}: {}", run.describe());
        assert!(
            squash(&run.stdout()).contains("--setup-only and --setup-plan run none of them"),
            "{option}: {}",
            run.describe()
        );
        assert_ne!(run.manifest()["status"], "passed", "{option}");
    }
}

/// Options that make the tools skip every test unattended and still call it
/// passed: pytest `--trace` (pdb reads end-of-file and quits before the
/// test body) and behave's `steps_catalog` in behave.ini (untested rows
/// without `<skipped/>`). Before, both exited 0 (a hostile try, 13a #6, #7).
#[test]
fn trace_and_a_steps_catalog_are_not_a_pass() {
    let pytest = qaagent_tests::project_with(
        "trace",
        &[
            (
                ".qaagent.toml",
                "[project]\nname = \"trace\"\n\n[tests.unit]\nrunner = \"pytest\"\npath = \"tests\"\nargs = [\"--trace\"]\n",
            ),
            ("tests/test_a.py", "def test_fails():\n    assert False\n"),
        ],
    );
    let run = Qaagent::new(pytest.path()).args(["run-all", "--no-progress"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    assert!(
        squash(&run.stdout()).contains("--trace stops each one in the debugger"),
        "{}",
        run.describe()
    );
    let behave = qaagent_tests::project_with(
        "steps-catalog",
        &[
            (
                ".qaagent.toml",
                "[project]\nname = \"catalog\"\n\n[tests.behave]\npath = \"features\"\n",
            ),
            ("behave.ini", "[behave]\nsteps_catalog = true\n"),
            (
                "features/a.feature",
                "Feature: A\n\n  Scenario: fails\n    Given a step that fails\n",
            ),
            (
                "features/steps/steps.py",
                "from behave import given\n\n@given('a step that fails')\ndef bad(context):\n    assert False\n",
            ),
        ],
    );
    let run = Qaagent::new(behave.path()).args(["run-all", "--no-progress"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    assert!(
        squash(&run.stdout()).contains("behave did not run 1 scenario(s)"),
        "{}",
        run.describe()
    );
    assert_eq!(run.manifest()["counts"]["tests_passed"], 0);
}

/// pytest `-x` stops at the first failure: the tests after it never run.
/// A retry of that one failure, passing, must not pass the run: the tests
/// the tool said it would run and did not keep the suite failing (a retry
/// of the whole suite then runs them, and meets the test that always fails).
#[test]
fn tests_a_stop_at_the_first_failure_left_unrun_keep_the_run_failing_whatever_a_retry_does() {
    let project = qaagent_tests::project_with(
        "stop-first",
        &[
            (
                ".qaagent.toml",
                "[project]\nname = \"stop\"\n\n[run]\nretry_count = 1\n\n[tests.unit]\nrunner = \"pytest\"\npath = \"tests\"\nargs = [\"-x\"]\n",
            ),
            (
                "tests/test_a.py",
                "import os\n\n\ndef test_flaky():\n    flag = os.path.join(os.path.dirname(__file__), '.failed-once')\n    if not os.path.exists(flag):\n        open(flag, 'w').close()\n        assert False, 'fails the first time'\n",
            ),
            ("tests/test_b.py", "def test_passes():\n    pass\n"),
            ("tests/test_z.py", "def test_always_fails():\n    assert False, 'always'\n"),
        ],
    );
    let run = Qaagent::new(project.path()).args(["run-all", "--no-progress"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let stdout = squash(&run.stdout());
    assert!(stdout.contains("RETRY unit attempt 2: the whole suite"), "{stdout}");
    assert!(
        stdout.contains("FAILED unit tests/test_z.py::test_always_fails"),
        "{stdout}"
    );
    assert_ne!(run.manifest()["status"], "passed", "{}", run.describe());
}

/// The same with pytest-rerunfailures: `-x --reruns 3` runs the first test
/// four times before stopping, so four "finished" runs in the stream are
/// one test, and three of the four tests never ran. Before, the reruns were
/// counted as tests, none was missing, and a retry of the first test alone
/// passed the run.
#[test]
fn reruns_before_a_stop_at_the_first_failure_are_one_test_and_the_tests_left_unrun_still_count() {
    let project = qaagent_tests::project_with(
        "stop-reruns",
        &[
            (
                ".qaagent.toml",
                "[project]\nname = \"stop\"\n\n[run]\nretry_count = 1\n\n[tests.unit]\nrunner = \"pytest\"\npath = \"tests\"\nargs = [\"-x\", \"--reruns\", \"3\"]\n",
            ),
            (
                "tests/test_a.py",
                "import os\n\nCOUNT = os.path.join(os.path.dirname(__file__), '.count')\n\n\n\
                 def test_1_fails_four_times():\n    n = int(open(COUNT).read()) if os.path.exists(COUNT) else 0\n    \
                 open(COUNT, 'w').write(str(n + 1))\n    assert n >= 4, 'run %d fails' % (n + 1)\n\n\n\
                 def test_2_passes():\n    pass\n\n\ndef test_3_always_fails():\n    assert False, 'always'\n\n\n\
                 def test_4_passes():\n    pass\n",
            ),
        ],
    );
    let run = Qaagent::new(project.path()).args(["run-all", "--no-progress"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let stdout = squash(&run.stdout());
    assert!(stdout.contains("RETRY unit attempt 2: the whole suite"), "{stdout}");
    assert!(
        stdout.contains("FAILED unit tests/test_a.py::test_3_always_fails"),
        "{stdout}"
    );
    assert_ne!(run.manifest()["status"], "passed", "{}", run.describe());
}

/// behave's `--stop` (here `stop = true` in `behave.ini`) leaves the rest of
/// the run untested, which behave's JUnit lists as skipped: they did not run,
/// so a retry of the first failure alone cannot pass the run, with or
/// without qaagent's retries, nor can `--rerun-failed` (hostile try).
#[test]
fn scenarios_behave_stop_left_unrun_keep_the_run_failing_whatever_a_retry_does() {
    let steps = "import os\nfrom behave import then\n\n@then('ok')\ndef ok(context):\n    pass\n\n@then('boom')\ndef boom(context):\n    assert False, 'always'\n\n@then('flaky once')\ndef flaky(context):\n    flag = os.path.join(os.path.dirname(__file__), '.failed-once')\n    if not os.path.exists(flag):\n        open(flag, 'w').close()\n        assert False, 'fails the first time'\n";
    let project = qaagent_tests::project_with(
        "behave-stop",
        &[
            (
                ".qaagent.toml",
                "[project]\nname = \"stop\"\n\n[tests.behave]\npath = \"features\"\n",
            ),
            ("behave.ini", "[behave]\nstop = true\n"),
            (
                "features/a.feature",
                "Feature: A\n  Scenario: flaky\n    Then flaky once\n  Scenario: fine\n    Then ok\n",
            ),
            ("features/b.feature", "Feature: B\n  Scenario: broken\n    Then boom\n"),
            ("features/steps/steps.py", steps),
        ],
    );
    let first = Qaagent::new(project.path()).args(["run-all", "--no-progress"]).run();
    assert_eq!(first.code(), 1, "{}", first.describe());
    let records = first.suite_records("behave");
    assert_eq!(count(&records, "skipped"), 0, "{records:#?}");
    let never_ran = record_named(&records, "the scenarios it never ran");
    assert_eq!(never_ran["status"], "error");
    let message = never_ran["error_message"].as_str().unwrap_or_default();
    assert!(
        message.contains("2 scenario(s)") && message.contains("\"broken\""),
        "{message}"
    );

    let rerun = Qaagent::with_runs_dir(project.path(), first.runs_dir.path())
        .args(["run-all", "--no-progress", "--rerun-failed"])
        .run();
    assert_eq!(rerun.code(), 1, "{}", rerun.describe());
    assert!(
        squash(&rerun.stdout()).contains("FAILED behave features/b.feature:2 (broken)"),
        "{}",
        rerun.describe()
    );

    std::fs::remove_file(project.path().join("features/steps/.failed-once")).expect("flag written");
    let retried = Qaagent::new(project.path())
        .args(["run-all", "--no-progress", "--retries", "1"])
        .run();
    assert_eq!(retried.code(), 1, "{}", retried.describe());
    let records = retried.suite_records("behave");
    assert_eq!(record_named(&records, "broken")["status"], "failed", "{records:#?}");
    assert_eq!(record_named(&records, "fine")["status"], "passed", "{records:#?}");
}

/// behave names each feature's JUnit file after its path with `.` for `/`:
/// `features/x/a.feature` and `features/x.a.feature` write one file, the
/// second overwriting the first. The always-failing scenario of one was then
/// re-run as the other's passing one, and a retry passed the run (hostile
/// try): the suite now says so, and no retry clears it.
#[test]
fn behave_reports_that_overwrite_each_other_keep_the_run_failing() {
    let project = qaagent_tests::project_with(
        "behave-overwrite",
        &[
            (
                ".qaagent.toml",
                "[project]\nname = \"overwrite\"\n\n[tests.behave]\npath = \"features\"\n",
            ),
            ("features/x/a.feature", "Feature: A\n  Scenario: s\n    Then boom\n"),
            ("features/x.a.feature", "Feature: A\n  Scenario: s\n    Then ok\n"),
            (
                "features/steps/steps.py",
                "from behave import then\n\n@then('ok')\ndef ok(context):\n    pass\n\n@then('boom')\ndef boom(context):\n    assert False, 'always'\n",
            ),
        ],
    );
    let run = Qaagent::new(project.path())
        .args(["run-all", "--no-progress", "--retries", "2"])
        .run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let records = run.suite_records("behave");
    let overwritten = record_named(&records, "the scenarios of overwritten reports");
    let message = overwritten["error_message"].as_str().unwrap_or_default();
    assert!(
        message.contains("features/x.a.feature and features/x/a.feature"),
        "{message}"
    );
}

/// A test inherited from a base class in a helper module is collected once
/// per subclass, and pytest's JUnit `file` names the helper for each: they
/// are two tests, each selected by where it is collected — not one test
/// whose second row reads as a retry (a failure then "flaky", or passed).
#[test]
fn tests_inherited_from_a_base_in_another_file_are_tests_of_their_own() {
    let project = qaagent_tests::project_with(
        "inherited",
        &[
            (
                ".qaagent.toml",
                "[project]\nname = \"inherited\"\n\n[run]\nretry_count = 1\n\n[tests.unit]\nrunner = \"pytest\"\npath = \"tests\"\n",
            ),
            ("tests/__init__.py", ""),
            ("tests/lib/__init__.py", ""),
            (
                "tests/lib/base.py",
                "class Base:\n    def test_one(self):\n        assert 'child_a' not in type(self).__module__\n",
            ),
            ("tests/test_child_a.py", "from tests.lib.base import Base\n\n\nclass TestChild(Base):\n    pass\n"),
            ("tests/test_child_b.py", "from tests.lib.base import Base\n\n\nclass TestChild(Base):\n    pass\n"),
        ],
    );
    let run = Qaagent::new(project.path()).args(["run-all", "--no-progress"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let records = run.records();
    let status = |selector: &str| {
        (records.iter())
            .find(|record| record["metadata"]["selector"] == selector)
            .map(|record| (record["status"].clone(), record["metadata"]["flaky"].clone()))
    };
    assert_eq!(records.len(), 2, "{records:#?}");
    assert_eq!(
        status("tests/test_child_a.py::TestChild::test_one").map(|(s, _)| s),
        Some(Value::from("failed")),
        "{records:#?}"
    );
    assert_eq!(
        status("tests/test_child_b.py::TestChild::test_one").map(|(s, _)| s),
        Some(Value::from("passed")),
        "{records:#?}"
    );
    assert!(!squash(&run.stdout()).contains("FLAKY  "), "{}", run.describe());
}

/// pytest dying in the middle of a test (`os._exit`, the OOM killer) writes
/// no report: the test that was running is an error, and the tests after it
/// never ran. A retry of the one that was running, passing, must not pass
/// the run: the retry runs the whole suite, where the test that always fails
/// fails.
#[test]
fn a_tool_that_dies_mid_test_keeps_its_unrun_tests_failing_the_run_whatever_a_retry_does() {
    let project = qaagent_tests::project_with(
        "dies-mid-test",
        &[
            (
                ".qaagent.toml",
                "[project]\nname = \"dies\"\n\n[run]\nretry_count = 1\n\n[tests.unit]\nrunner = \"pytest\"\npath = \"tests\"\n",
            ),
            ("tests/test_1.py", "def test_1():\n    pass\n"),
            (
                "tests/test_2.py",
                "import os\n\n\ndef test_2_dies_once():\n    flag = os.path.join(os.path.dirname(__file__), '.died')\n    if not os.path.exists(flag):\n        open(flag, 'w').close()\n        os._exit(1)\n",
            ),
            ("tests/test_3.py", "def test_3():\n    pass\n"),
            ("tests/test_4.py", "def test_4_would_fail():\n    assert False, 'always'\n"),
        ],
    );
    let run = Qaagent::new(project.path()).args(["run-all", "--no-progress"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    assert_ne!(run.manifest()["status"], "passed", "{}", run.describe());
    let stdout = squash(&run.stdout());
    assert!(stdout.contains("RETRY unit attempt 2: the whole suite"), "{stdout}");
}
