//! Flaky tests under control, end to end with real pytest on
//! `tests/fixtures/flaky-project` (see its EXPECTED.md): quarantine with an
//! expiry, retries limited by failure category, what a flaky test means for
//! the exit code, and the flaky history across stored runs.
//!
//! Every fixture test appends a line to `$FLAKY_STATE_DIR/<key>.log` each
//! time it runs, so how often pytest ran it is known from the test itself.

use std::path::Path;

use qaagent_tests::{fixture, read_text, record_by_selector, Qaagent, RunOutput};
use quick_junit::{Report, TestCaseStatus};

/// The fixture, with a config whose one suite `unit` runs `dir` (a directory
/// of the fixture's `tests/`), plus `rest` (`[run]` keys, `[[quarantine]]`).
fn project(dir: &str, run: &str, rest: &str) -> tempfile::TempDir {
    let project = fixture("flaky-project");
    let config =
        format!("[project]\nname = \"flaky\"\n\n[run]\n{run}\n\n[tests.unit]\npath = \"tests/{dir}\"\n\n{rest}");
    std::fs::write(project.path().join(".qaagent.toml"), config).expect("write config");
    project
}

/// How many times the fixture's test logging `key` ran.
fn runs_of(state: &Path, key: &str) -> usize {
    match std::fs::read_to_string(state.join(format!("{key}.log"))) {
        Ok(text) => text.lines().count(),
        Err(_) => 0,
    }
}

fn run_all(project: &Path, state: &Path, args: &[&str]) -> RunOutput {
    Qaagent::new(project)
        .env("FLAKY_STATE_DIR", state)
        .args(["run-all", "--no-progress", "--color", "never"])
        .args(args)
        .run()
}

const KNOWN_BUG: &str = "tests/quarantine/test_quarantine.py::test_known_bug";

fn quarantine_entry(test: &str, until: &str) -> String {
    format!("[[quarantine]]\ntest = \"{test}\"\nreason = \"ORD-142: upstream sandbox flaps\"\nuntil = \"{until}\"\n")
}

#[test]
fn a_quarantined_failure_leaves_the_run_green_and_is_listed_apart() {
    for test in [
        format!("unit::{KNOWN_BUG}"),
        "unit::tests/quarantine/*known*".to_string(),
    ] {
        let project = project("quarantine", "", &quarantine_entry(&test, "2999-12-31"));
        let state = tempfile::tempdir().expect("state");
        let run = Qaagent::new(project.path())
            .env("FLAKY_STATE_DIR", state.path())
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_STEP_SUMMARY", project.path().join("summary.md"))
            .args(["run-all", "--no-progress", "--color", "never", "--junit", "junit.xml"])
            .run();
        assert_eq!(run.code(), 0, "{}", run.describe());
        assert_eq!(runs_of(state.path(), "known_bug"), 1, "a quarantined test still runs");
        let stdout = run.stdout();
        let listed = stdout
            .split_once("Quarantined failures")
            .map(|(_, after)| after)
            .unwrap_or_else(|| panic!("no quarantined failures listed: {}", run.describe()));
        assert!(listed.contains(&format!("FAILED unit {KNOWN_BUG}")), "{stdout}");
        assert!(
            listed.contains("quarantined: ORD-142: upstream sandbox flaps"),
            "{stdout}"
        );
        assert!(
            !stdout.contains("\nFailures:"),
            "no failure is listed as failing the run: {stdout}"
        );
        assert!(
            stdout.contains("PASSED: 1 suite, 2 tests: 1 passed, 1 failed"),
            "{stdout}"
        );
        assert!(stdout.contains("(1 quarantined)"), "{stdout}");
        // On GitHub Actions, a warning rather than an error annotation.
        assert!(
            stdout.lines().any(|line| line.starts_with("::warning ")
                && line.contains("test_known_bug")
                && line.contains("::quarantined (ORD-142: upstream sandbox flaps): AssertionError")),
            "{stdout}"
        );
        assert!(!stdout.contains("::error "), "{stdout}");
        let summary = read_text(&project.path().join("summary.md"));
        assert!(
            summary.contains("quarantined (ORD-142: upstream sandbox flaps), does not fail the run: AssertionError"),
            "{summary}"
        );

        let records = run.records();
        let bug = record_by_selector(&records, "::test_known_bug");
        assert_eq!(bug["status"], "failed");
        assert_eq!(bug["metadata"]["quarantined"], true, "{bug}");
        assert_eq!(bug["metadata"]["quarantine_reason"], "ORD-142: upstream sandbox flaps");
        let passes = record_by_selector(&records, "::test_passes");
        assert!(passes["metadata"].get("quarantined").is_none(), "{passes}");
        assert_eq!(run.manifest()["status"], "passed");

        let junit = Report::deserialize_from_str(&read_text(&project.path().join("junit.xml"))).expect("junit");
        let case = (junit.test_suites[0].test_cases.iter())
            .find(|case| case.name.as_str() == "test_known_bug")
            .expect("case");
        match &case.status {
            TestCaseStatus::Skipped {
                message, description, ..
            } => {
                assert_eq!(message.as_deref(), Some("quarantined: ORD-142: upstream sandbox flaps"));
                assert!(
                    description
                        .as_deref()
                        .unwrap_or_default()
                        .contains("ORD-142 total is off"),
                    "{description:?}"
                );
            }
            other => panic!("a quarantined failure is a skipped case in JUnit: {other:?}"),
        }
    }
}

#[test]
fn a_quarantine_past_its_date_fails_the_run_and_says_expired() {
    let project = project(
        "quarantine",
        "",
        &quarantine_entry(&format!("unit::{KNOWN_BUG}"), "2020-01-31"),
    );
    let state = tempfile::tempdir().expect("state");
    let run = run_all(project.path(), state.path(), &[]);
    assert_eq!(run.code(), 1, "{}", run.describe());
    let stdout = run.stdout();
    assert!(
        stdout.contains(&format!(
            "warning: quarantine of `unit::{KNOWN_BUG}` expired on 2020-01-31"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("Failures:\n  FAILED unit {KNOWN_BUG}")),
        "{stdout}"
    );
    let records = run.records();
    assert!(record_by_selector(&records, "::test_known_bug")["metadata"]
        .get("quarantined")
        .is_none());

    let check = Qaagent::new(project.path()).args(["config", "check"]).run();
    assert!(
        check.stdout().contains(&format!(
            "warning: quarantine of `unit::{KNOWN_BUG}` expired on 2020-01-31"
        )),
        "{}",
        check.describe()
    );
}

#[test]
fn a_quarantine_entry_that_matches_nothing_is_a_warning_and_a_bad_date_a_config_error() {
    let project = project(
        "quarantine",
        "",
        &quarantine_entry("unit::tests/gone.py::test_x", "2999-12-31"),
    );
    let state = tempfile::tempdir().expect("state");
    let run = run_all(project.path(), state.path(), &[]);
    assert_eq!(run.code(), 1, "the known bug fails the run: {}", run.describe());
    assert!(
        run.stdout()
            .contains("warning: quarantine entry `unit::tests/gone.py::test_x` matches no test of this run"),
        "{}",
        run.describe()
    );

    let project = project_with_bad_date();
    let run = run_all(project.path(), state.path(), &[]);
    assert_eq!(run.code(), 2, "{}", run.describe());
    assert!(
        run.stderr()
            .contains("quarantine entry `unit::x`: until must be a date written YYYY-MM-DD, found \"31.12.2026\""),
        "{}",
        run.describe()
    );
}

fn project_with_bad_date() -> tempfile::TempDir {
    project("quarantine", "", &quarantine_entry("unit::x", "31.12.2026"))
}

#[test]
fn retry_on_retries_only_failures_of_its_categories_and_says_why_not() {
    let project = project("retry_on", "retry_count = 2\nretry_on = [\"timeout\"]", "");
    let state = tempfile::tempdir().expect("state");
    let run = run_all(project.path(), state.path(), &[]);
    assert_eq!(run.code(), 1, "{}", run.describe());
    assert_eq!(runs_of(state.path(), "wrong_total"), 1, "an assertion is not retried");
    assert_eq!(runs_of(state.path(), "slow_service"), 3, "a timeout is retried twice");
    assert!(
        run.stdout().contains(
            "note: not retried: unit tests/retry_on/test_retry_on.py::test_wrong_total failed with a failure of category `assertion`, and retry_on is [timeout]"
        ),
        "{}",
        run.describe()
    );

    // Without the policy, both are retried.
    let project = self::project("retry_on", "retry_count = 2", "");
    let state = tempfile::tempdir().expect("state");
    run_all(project.path(), state.path(), &[]);
    assert_eq!(
        (
            runs_of(state.path(), "wrong_total"),
            runs_of(state.path(), "slow_service")
        ),
        (3, 3)
    );
}

#[test]
fn flaky_fail_makes_a_flaky_run_exit_1() {
    let project = project("flaky", "retry_count = 1\nflaky = \"fail\"", "");
    let state = tempfile::tempdir().expect("state");
    let run = run_all(project.path(), state.path(), &[]);
    assert_eq!(run.code(), 1, "{}", run.describe());
    assert_eq!(runs_of(state.path(), "flaky"), 2);
    assert_eq!(
        run.manifest()["status"],
        "failed",
        "the stored run says what the exit code says"
    );
    assert!(
        run.stdout()
            .contains("note: 1 test was flaky, and [run] flaky = \"fail\" fails the run on a flaky test"),
        "{}",
        run.describe()
    );
    // That run failed, so --rerun-failed of it never finds "no failures"
    // (which exited 0: a hostile try, 13a F2): under flaky = "fail" it
    // re-runs the flaky test.
    let rerun = Qaagent::with_runs_dir(project.path(), run.run_dir().parent().expect("runs root"))
        .env("FLAKY_STATE_DIR", state.path())
        .args(["run-all", "--no-progress", "--rerun-failed"])
        .run();
    assert!(
        rerun.stdout().contains("re-running 1 failed test of run"),
        "{}",
        rerun.describe()
    );
    assert_eq!(runs_of(state.path(), "flaky"), 3, "{}", rerun.describe());
    assert_eq!(rerun.code(), 0, "it passes on its third run: {}", rerun.describe());

    // The same flaky run passes as before with --flaky pass, and warns with warn.
    for (policy, warned) in [("pass", false), ("warn", true)] {
        let state = tempfile::tempdir().expect("state");
        let run = run_all(project.path(), state.path(), &["--flaky", policy]);
        assert_eq!(run.code(), 0, "{}", run.describe());
        assert_eq!(runs_of(state.path(), "flaky"), 2);
        assert_eq!(
            run.stdout().contains("warning: 1 test was flaky"),
            warned,
            "{}",
            run.describe()
        );
    }
}

/// With `flaky = "fail"`, a run that failed of a real failure and of a
/// flaky test re-runs both with `--rerun-failed`: the flaky test failed the
/// run too. Before, the failure alone ran, passed, and so did the re-run,
/// the flaky test never run again (a hostile try, 14 N1).
#[test]
fn rerun_failed_under_flaky_fail_reruns_the_flaky_tests_too() {
    let project = project("flaky", "retry_count = 1\nflaky = \"fail\"", "");
    std::fs::write(
        project.path().join("tests/flaky/test_fixed.py"),
        "import os\n\n\ndef test_fixed():\n    assert os.environ.get('FIXED'), 'broken until FIXED is set'\n",
    )
    .expect("test file");
    let state = tempfile::tempdir().expect("state");
    let run = run_all(project.path(), state.path(), &[]);
    assert_eq!(run.code(), 1, "{}", run.describe());
    assert_eq!(runs_of(state.path(), "flaky"), 2);
    let rerun = Qaagent::with_runs_dir(project.path(), run.run_dir().parent().expect("runs root"))
        .env("FLAKY_STATE_DIR", state.path())
        .env("FIXED", "1")
        .args(["run-all", "--no-progress", "--rerun-failed"])
        .run();
    assert!(
        rerun.stdout().contains("re-running 2 failed tests"),
        "{}",
        rerun.describe()
    );
    assert_eq!(runs_of(state.path(), "flaky"), 3, "{}", rerun.describe());
    assert_eq!(rerun.code(), 0, "both pass now: {}", rerun.describe());
}

/// `runs flaky --json` of the runs in `runs`, with `args`.
fn flaky_history(project: &Path, runs: &Path, args: &[&str]) -> Vec<serde_json::Value> {
    let out = Qaagent::with_runs_dir(project, runs)
        .args(["runs", "flaky", "--json"])
        .args(args)
        .run();
    assert_eq!(out.code(), 0, "{}", out.describe());
    match serde_json::from_str(&out.stdout()) {
        Ok(serde_json::Value::Array(tests)) => tests,
        other => panic!("not a JSON array: {other:?}\n{}", out.describe()),
    }
}

const ONCE: &str = "tests/history/test_history.py::test_once";

#[test]
fn runs_flaky_reports_a_test_that_failed_once_in_three_runs_at_one_third() {
    let project = project("history", "", "");
    let (state, runs) = (tempfile::tempdir().expect("state"), tempfile::tempdir().expect("runs"));
    for expected in [0, 1, 0] {
        let run = Qaagent::with_runs_dir(project.path(), runs.path())
            .env("FLAKY_STATE_DIR", state.path())
            .args(["run-all", "--no-progress"])
            .run();
        assert_eq!(run.code(), expected, "{}", run.describe());
    }
    let tests = flaky_history(project.path(), runs.path(), &[]);
    assert_eq!(tests.len(), 1, "only the test that failed is listed: {tests:?}");
    let once = &tests[0];
    assert_eq!(
        (&once["suite"], &once["test"], &once["selector"]),
        (&"unit".into(), &"test_once".into(), &ONCE.into())
    );
    assert_eq!(
        (
            &once["runs"],
            &once["passed"],
            &once["failed"],
            &once["flaky"],
            &once["flipped"]
        ),
        (&3.into(), &2.into(), &1.into(), &0.into(), &true.into()),
        "{once}"
    );
    let rate = once["flake_rate"].as_f64().expect("rate");
    assert!((rate - 1.0 / 3.0).abs() < 1e-9, "{once}");

    let text = Qaagent::with_runs_dir(project.path(), runs.path())
        .args(["runs", "flaky"])
        .run();
    assert!(text.stdout().contains("3 finished run(s)"), "{}", text.describe());
    assert!(text.stdout().contains("33% 1/3"), "{}", text.describe());
    assert!(text.stdout().contains(&format!("unit {ONCE}")), "{}", text.describe());

    // The newest run alone: test_once passed in it.
    assert!(flaky_history(project.path(), runs.path(), &["--last", "1"]).is_empty());
    let two = flaky_history(project.path(), runs.path(), &["--last", "2"]);
    assert_eq!((&two[0]["runs"], &two[0]["flake_rate"]), (&2.into(), &0.5.into()));

    // The suggested entry pasted into the config is one the config takes, for that test.
    let suggested = Qaagent::with_runs_dir(project.path(), runs.path())
        .args(["runs", "flaky", "--suggest-quarantine"])
        .run();
    let entries = suggested.stdout();
    assert!(
        entries.contains(&format!("[[quarantine]]\ntest = \"unit::{ONCE}\"\n")),
        "{entries}"
    );
    let config = project.path().join(".qaagent.toml");
    let mut text = read_text(&config);
    text.push_str(&entries);
    std::fs::write(&config, text).expect("write config");
    let check = Qaagent::new(project.path()).args(["config", "check"]).run();
    assert_eq!(check.code(), 0, "{}", check.describe());

    // One run's records gone bad (not UTF-8): the others' history stands,
    // and the bad run is named (found by a hostile try: the whole command failed).
    let mut dirs: Vec<_> = std::fs::read_dir(runs.path())
        .expect("runs")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.join("manifest.json").is_file())
        .collect();
    dirs.sort();
    std::fs::write(dirs[0].join("evidence/tests.jsonl"), b"\xff\n").expect("spoil");
    let out = Qaagent::with_runs_dir(project.path(), runs.path())
        .args(["runs", "flaky", "--json"])
        .run();
    assert_eq!(out.code(), 0, "{}", out.describe());
    assert!(out.stderr().contains("warning: run "), "{}", out.describe());
    let tests: Vec<serde_json::Value> = serde_json::from_str(&out.stdout()).expect("json");
    assert_eq!(tests[0]["failed"], 1, "the failing run is still read: {tests:?}");
}

/// Runs shares 1/2 and 2/2 with `qaagent`, each passing; returns their run directories.
fn run_two_shares(qaagent: &dyn Fn() -> Qaagent) -> Vec<std::path::PathBuf> {
    (1..=2)
        .map(|k| {
            let run = qaagent()
                .args(["run-all", "--no-progress", "--partition", &format!("{k}/2")])
                .run();
            assert_eq!(run.code(), 0, "{}", run.describe());
            run.run_dirs().last().expect("share").clone()
        })
        .collect()
}

#[test]
fn the_shares_of_a_partitioned_run_count_as_one_run_merged_or_not() {
    let project = project("history", "", "");
    let (state, runs) = (tempfile::tempdir().expect("state"), tempfile::tempdir().expect("runs"));
    let qaagent = || Qaagent::with_runs_dir(project.path(), runs.path()).env("FLAKY_STATE_DIR", state.path());
    // Runs 1 and 2: test_once passes, then fails.
    for _ in 0..2 {
        qaagent().args(["run-all", "--no-progress"]).run();
    }
    let shares = run_two_shares(&qaagent);
    let runs_of_once = |tests: Vec<serde_json::Value>| tests[0]["runs"].clone();
    let runs_read = || {
        let text = Qaagent::with_runs_dir(project.path(), runs.path())
            .args(["runs", "flaky"])
            .run();
        text.stdout()
            .lines()
            .next()
            .unwrap_or_default()
            .split(" finished")
            .next()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(runs_of_once(flaky_history(project.path(), runs.path(), &[])), 3);
    assert_eq!(runs_read(), "3", "two shares are one run");
    let merged = qaagent().args(["merge"]).args(&shares).run();
    assert_eq!(merged.code(), 0, "{}", merged.describe());
    assert_eq!(runs_of_once(flaky_history(project.path(), runs.path(), &[])), 3);
    assert_eq!(runs_read(), "3", "the merged run stands for its shares");
}

#[test]
fn the_merge_of_shares_whose_only_failure_is_quarantined_passes() {
    let project = project(
        "quarantine",
        "",
        &quarantine_entry(&format!("unit::{KNOWN_BUG}"), "2999-12-31"),
    );
    let (state, runs) = (tempfile::tempdir().expect("state"), tempfile::tempdir().expect("runs"));
    let qaagent = || Qaagent::with_runs_dir(project.path(), runs.path()).env("FLAKY_STATE_DIR", state.path());
    let shares = run_two_shares(&qaagent);
    assert_eq!(runs_of(state.path(), "known_bug"), 1);
    let merged = qaagent().args(["merge"]).args(&shares).run();
    assert_eq!(merged.code(), 0, "{}", merged.describe());
    let merged_run = merged.run_dirs().last().expect("merged").clone();
    let manifest = qaagent_tests::read_json(&merged_run.join("manifest.json"));
    assert_eq!(manifest["status"], "passed", "{manifest}");
    assert_eq!(manifest["counts"]["tests_failed"], 1, "the failure is still recorded");
}

/// A typo in an entry's suite would quarantine nothing, silently; found by
/// a hostile try.
#[test]
fn a_quarantine_entry_naming_a_suite_the_config_lacks_is_a_warning() {
    let project = project(
        "quarantine",
        "",
        &quarantine_entry(&format!("Unit::{KNOWN_BUG}"), "2999-12-31"),
    );
    let expected = format!(
        "warning: quarantine entry `Unit::{KNOWN_BUG}` names suite `Unit`, which the config does not have: it quarantines nothing"
    );
    let check = Qaagent::new(project.path()).args(["config", "check"]).run();
    assert!(check.stdout().contains(&expected), "{}", check.describe());
    let state = tempfile::tempdir().expect("state");
    let run = run_all(project.path(), state.path(), &[]);
    assert_eq!(run.code(), 1, "the failure is not quarantined: {}", run.describe());
    assert!(run.stdout().contains(&expected), "{}", run.describe());
}

/// behave's selectors are places (`features/f.feature:2`): a scenario that
/// takes another's line is another test to the history and to a quarantine
/// entry, which names a behave scenario by its class and name (hostile try:
/// a line's quarantine hid the failure of the scenario that moved onto it,
/// and its history read it as flaky).
#[test]
fn a_behave_scenario_on_another_scenarios_line_is_another_test() {
    let feature = |name: &str, step: &str| format!("Feature: F\n  Scenario: {name}\n    Then {step}\n");
    let project = qaagent_tests::project_with(
        "behave-lines",
        &[
            (
                ".qaagent.toml",
                "[project]\nname = \"lines\"\n\n[tests.behave]\npath = \"features\"\n\n[[quarantine]]\ntest = \"behave::features/f.feature:2\"\nreason = \"by its line\"\nuntil = \"2099-12-31\"\n\n[[quarantine]]\ntest = \"behave::f.F::old login test\"\nreason = \"by its name\"\nuntil = \"2099-12-31\"\n",
            ),
            ("features/f.feature", &feature("old login test", "boom")),
            (
                "features/steps/steps.py",
                "from behave import then\n\n@then('ok')\ndef ok(context):\n    pass\n\n@then('boom')\ndef boom(context):\n    assert False, 'boom'\n",
            ),
        ],
    );
    let runs = tempfile::tempdir().expect("runs");
    let first = Qaagent::with_runs_dir(project.path(), runs.path())
        .args(["run-all", "--no-progress"])
        .run();
    assert_eq!(first.code(), 0, "quarantined by its name\n{}", first.describe());
    assert!(
        first
            .stdout()
            .contains("quarantine entry `behave::features/f.feature:2` matches no test"),
        "{}",
        first.describe()
    );
    let old = qaagent_tests::record_named(&first.records(), "old login test").clone();
    assert_eq!(old["metadata"]["quarantine_reason"], "by its name", "{old:#}");

    std::fs::write(
        project.path().join("features/f.feature"),
        feature("new payment test", "boom"),
    )
    .expect("edit");
    let second = Qaagent::with_runs_dir(project.path(), runs.path())
        .args(["run-all", "--no-progress"])
        .run();
    assert_eq!(
        second.code(),
        1,
        "nothing quarantines the new scenario\n{}",
        second.describe()
    );

    let history = Qaagent::with_runs_dir(project.path(), runs.path())
        .args(["runs", "flaky", "--json"])
        .run();
    assert_eq!(history.code(), 0, "{}", history.describe());
    let tests: serde_json::Value = serde_json::from_str(&history.stdout()).expect("json");
    let new = (tests.as_array().expect("array").iter())
        .find(|test| test["test"] == "new payment test")
        .unwrap_or_else(|| panic!("{tests:#}"));
    assert_eq!(
        (&new["runs"], &new["flake_rate"]),
        (&serde_json::json!(1), &serde_json::json!(0.0)),
        "{tests:#}"
    );
}
