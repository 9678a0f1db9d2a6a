//! `qaagent run-all` end to end with real pytest on the fixture project
//! `tests/fixtures/pytest-project`, which has one suite per situation.

use qaagent_tests::{fixture, read_json, record_by_selector, squash, tree_listing, Qaagent};

/// Expected per-suite numbers, from the fixture's own files (and what pytest
/// itself prints for them, checked in `pytest_agrees_with_the_fixture_numbers`).
const PASSING: (u64, u64, u64, u64) = (6, 0, 0, 1); // passed, failed, errors, skipped
const FAILING: (u64, u64, u64, u64) = (1, 2, 0, 0);

fn counts(record_set: &[serde_json::Value]) -> (u64, u64, u64, u64) {
    let count = |status: &str| record_set.iter().filter(|r| r["status"] == status).count() as u64;
    (count("passed"), count("failed"), count("error"), count("skipped"))
}

#[test]
fn all_passing_suite_passes_with_evidence() {
    let project = fixture("pytest-project");
    let before = tree_listing(project.path());
    let run = Qaagent::new(project.path())
        .args(["run-all", "--suite", "passing"])
        .run();
    assert_eq!(run.code(), 0, "{}", run.describe());
    let stdout = squash(&run.stdout());
    assert!(stdout.contains("running 1 suite sequentially"), "{stdout}");
    assert!(
        stdout.contains("PASS passing 6 passed, 0 failed, 0 errors, 1 skipped"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("evidence: {}", run.run_dir().display())),
        "{stdout}"
    );

    let manifest = run.manifest();
    assert_eq!(manifest["status"], "passed");
    assert_eq!(manifest["target"]["name"], "pytest-fixture");
    assert_eq!(manifest["counts"]["test_suites"], 1);
    assert_eq!(manifest["counts"]["tests"], 7);
    assert_eq!(manifest["counts"]["tests_passed"], 6);
    assert_eq!(manifest["counts"]["tests_failed"], 0);
    assert_eq!(manifest["evidence_files"]["tests"], "evidence/tests.jsonl");
    assert_eq!(manifest["tools"]["pytest"]["executed"], true);
    assert_eq!(manifest["tools"]["pytest"]["exit_code"], 0);
    assert_eq!(manifest["tools"]["pytest"]["version"], "9.2.0");

    let records = run.records();
    assert_eq!(counts(&records), PASSING);
    for record in &records {
        let keys: Vec<&str> = record.as_object().expect("object").keys().map(String::as_str).collect();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "duration",
                "error_message",
                "evidence_refs",
                "kind",
                "last_run",
                "metadata",
                "name",
                "route",
                "runner_type",
                "status",
                "suite_name",
                "tags",
                "test_id"
            ],
            "TestRecord keys are exactly the Python reader's"
        );
        assert_eq!(record["suite_name"], "passing");
        assert_eq!(record["runner_type"], "pytest");
    }
    let strip = record_by_selector(&records, "tests/passing/test_math.py::TestStrings::test_strip[a b]");
    assert_eq!(strip["status"], "passed");
    assert_eq!(strip["metadata"]["attempts"], 1);
    assert_eq!(strip["metadata"]["flaky"], false);
    record_by_selector(
        &records,
        r"tests/passing/test_math.py::TestStrings::test_strip[\xfcn\xef]",
    );
    let skipped = record_by_selector(&records, "tests/passing/test_math.py::test_skipped");
    assert_eq!(skipped["status"], "skipped");

    let artifacts = run.run_dir().join("artifacts/passing");
    for file in ["junit.xml", "stdout.log", "stderr.log"] {
        assert!(artifacts.join(file).is_file(), "{file} kept as an artifact");
    }
    assert!(std::fs::read_to_string(artifacts.join("stdout.log"))
        .expect("log")
        .contains("6 passed, 1 skipped"));
    assert_eq!(
        tree_listing(project.path()),
        before,
        "the project tree is left as it was"
    );
}

#[test]
fn one_failing_suite_fails_the_run_but_not_the_others() {
    let project = fixture("pytest-project");
    let run = Qaagent::new(project.path())
        .args(["run-all", "--suite", "failing", "--suite", "passing"])
        .run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let stdout = squash(&run.stdout());
    assert!(stdout.contains("PASS passing"), "{stdout}");
    assert!(
        stdout.contains("FAIL failing 1 passed, 2 failed, 0 errors, 0 skipped"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "FAILED failing tests/failing/test_orders.py::test_post_orders_invalid_data\n AssertionError: quantity must be positive"
        ),
        "{stdout}"
    );
    // suite_order in the config puts `passing` first, whatever the command line's order.
    let passing_at = stdout.find("PASS passing").expect("passing line");
    let failing_at = stdout.find("FAIL failing").expect("failing line");
    assert!(passing_at < failing_at, "{stdout}");

    assert_eq!(counts(&run.suite_records("failing")), FAILING);
    assert_eq!(counts(&run.suite_records("passing")), PASSING);
    let manifest = run.manifest();
    assert_eq!(manifest["status"], "failed");
    assert_eq!(manifest["counts"]["tests_failed"], 2);
    let records = run.records();
    let invalid = record_by_selector(&records, "test_orders.py::test_post_orders_invalid_data");
    assert_eq!(invalid["status"], "failed");
    assert!(
        invalid["error_message"]
            .as_str()
            .is_some_and(|m| m.contains("quantity must be positive")),
        "{invalid}"
    );
    let diagnostics = read_json(&run.run_dir().join("evidence/diagnostics.json"));
    assert_eq!(diagnostics.as_array().map(Vec::len), Some(2), "{diagnostics}");
}

#[test]
fn collection_error_is_an_error_with_the_log_tail() {
    let project = fixture("pytest-project");
    let run = Qaagent::new(project.path())
        .args(["run-all", "--suite", "broken"])
        .run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let stdout = squash(&run.stdout());
    assert!(stdout.contains("ERROR broken"), "{stdout}");
    assert!(stdout.contains("pytest exited with code 2"), "{stdout}");
    assert!(
        stdout.contains("module_that_does_not_exist"),
        "the log tail is shown: {stdout}"
    );
    assert!(!stdout.contains("PASS broken"), "{stdout}");
    let manifest = run.manifest();
    assert_eq!(manifest["status"], "failed");
    assert_eq!(manifest["tools"]["pytest"]["exit_code"], 2);
    let suite = &manifest["suites"][0];
    assert_eq!(suite["outcome"], "errored");
    assert!(suite["errors"].as_u64() >= Some(1));
}

#[test]
fn truncated_junit_is_an_error_not_zero_tests() {
    let project = fixture("pytest-project");
    let run = Qaagent::new(project.path())
        .args(["run-all", "--suite", "truncated"])
        .run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let stdout = squash(&run.stdout());
    assert!(stdout.contains("ERROR truncated"), "{stdout}");
    assert!(stdout.contains("malformed JUnit file"), "{stdout}");
    assert!(stdout.contains("junit.xml, line "), "the position is named: {stdout}");
}

#[test]
fn stale_junit_in_the_output_dir_is_never_read() {
    let project = fixture("pytest-project");
    let out = project.path().join("qaagent-out");
    let stale_dir = out.join("broken");
    std::fs::create_dir_all(&stale_dir).expect("out dir");
    let stale = r#"<testsuites><testsuite name="old"><testcase classname="old" name="test_from_last_week" file="tests/broken/test_import.py"/></testsuite></testsuites>"#;
    std::fs::write(stale_dir.join("junit.xml"), stale).expect("stale junit");
    // Left by an earlier run, as qaagent leaves its output: with its logs,
    // and marked as qaagent's after them (an unmarked directory is never cleared).
    for file in ["stdout.log", "stderr.log", ".qaagent-output"] {
        std::fs::write(stale_dir.join(file), "").expect("log");
    }
    let run = Qaagent::new(project.path())
        .args(["run-all", "--suite", "broken", "--out"])
        .args([&out])
        .run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    assert!(run.stdout().contains("ERROR broken"), "{}", run.describe());
    let junit = std::fs::read_to_string(stale_dir.join("junit.xml")).expect("fresh junit");
    assert!(!junit.contains("test_from_last_week"), "the stale report was replaced");
    assert!(run.records().iter().all(|r| r["name"] != "test_from_last_week"));
    // With --out, artifacts are copied into the run.
    assert!(run.run_dir().join("artifacts/broken/junit.xml").is_file());
}

#[test]
fn empty_suite_means_no_tests_ran() {
    let project = fixture("pytest-project");
    let run = Qaagent::new(project.path()).args(["run-all", "--suite", "empty"]).run();
    assert_eq!(run.code(), 4, "{}", run.describe());
    assert!(run.stderr().contains("no tests ran"), "{}", run.describe());
    assert!(
        squash(&run.stdout()).contains("PASS empty 0 passed"),
        "{}",
        run.describe()
    );

    let warn = Qaagent::new(project.path())
        .args(["run-all", "--suite", "empty", "--no-tests=warn"])
        .run();
    assert_eq!(warn.code(), 0, "{}", warn.describe());
    assert!(warn.stdout().contains("warning: no tests ran"), "{}", warn.describe());

    let pass = Qaagent::new(project.path())
        .args(["run-all", "--suite", "empty", "--no-tests=pass"])
        .run();
    assert_eq!(pass.code(), 0, "{}", pass.describe());

    // Tests that were all skipped ran no more than none (hostile try: a
    // filter that selects nothing passed).
    let skipped = qaagent_tests::project_with(
        "all-skipped",
        &[
            (
                ".qaagent.toml",
                "[project]\nname = \"skips\"\n\n[tests.unit]\nrunner = \"pytest\"\npath = \"tests\"\n",
            ),
            (
                "tests/test_s.py",
                "import pytest\n\n\n@pytest.mark.skip(reason='not here')\ndef test_a():\n    pass\n\n\ndef test_b():\n    pytest.skip('nor here')\n",
            ),
        ],
    );
    let all_skipped = Qaagent::new(skipped.path()).args(["run-all"]).run();
    assert_eq!(all_skipped.code(), 4, "{}", all_skipped.describe());
    assert!(
        all_skipped.stderr().contains("error: no tests ran: all 2 skipped"),
        "{}",
        all_skipped.describe()
    );

    // Among suites that ran tests, the empty one is called out, not failed.
    let among = Qaagent::new(project.path())
        .args(["run-all", "--suite", "empty", "--suite", "passing"])
        .run();
    assert_eq!(among.code(), 0, "{}", among.describe());
    assert!(
        among.stdout().contains("warning: suite empty ran no tests"),
        "{}",
        among.describe()
    );
}

/// An enabled suite whose path is missing fails the run, also beside suites
/// that passed: it is never a silent skip.
#[test]
fn missing_path_is_an_error_of_its_suite_naming_the_path() {
    let project = fixture("pytest-project");
    let run = Qaagent::new(project.path())
        .args(["run-all", "--suite", "missing", "--suite", "passing"])
        .run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let stdout = squash(&run.stdout());
    let missing = project.path().join("tests/does-not-exist");
    assert!(stdout.contains("ERROR missing"), "{stdout}");
    assert!(
        stdout.contains(&format!("path {} does not exist", missing.display())),
        "{stdout}"
    );
    assert!(stdout.contains("FAILED: 2 suites"), "{stdout}");
    let manifest = run.manifest();
    assert_eq!(manifest["status"], "failed");
    assert_eq!(manifest["suites"][1]["outcome"], "errored");
    assert!(manifest["suites"][1]["error"]
        .as_str()
        .is_some_and(|r| r.contains("does-not-exist")));
    // As in the Python qaagent, test_suites counts the suites that ran.
    assert_eq!(manifest["counts"]["test_suites"], 1);

    let only_missing = Qaagent::new(project.path())
        .args(["run-all", "--suite", "missing"])
        .run();
    assert_eq!(
        only_missing.code(),
        1,
        "an error, not 'no tests': {}",
        only_missing.describe()
    );
}

#[test]
fn parallel_run_of_two_pytest_suites_records_evidence_in_suite_order() {
    let project = fixture("pytest-project");
    let run = Qaagent::new(project.path())
        .args([
            "run-all",
            "--parallel",
            "--suite",
            "passing",
            "--suite",
            "failing",
            "--suite",
            "slow",
        ])
        .env("FIXTURE_SLEEP", "1")
        .run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let stdout = squash(&run.stdout());
    assert!(stdout.contains("running 3 suites in parallel (3 workers)"), "{stdout}");
    let records = run.records();
    let suites: Vec<&str> = records
        .iter()
        .map(|r| r["suite_name"].as_str().expect("suite"))
        .collect();
    let mut expected = vec!["passing"; 7];
    expected.extend(["failing"; 3]);
    expected.push("slow");
    assert_eq!(
        suites, expected,
        "tests.jsonl follows suite_order, not completion order"
    );
    let ids: Vec<&str> = records.iter().map(|r| r["test_id"].as_str().expect("id")).collect();
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "test ids are unique: {ids:?}");
    assert!(ids[0].starts_with("TST-") && ids[0].ends_with("-0001"), "{ids:?}");
    let manifest = run.manifest();
    assert_eq!(manifest["counts"]["test_suites"], 3);
    assert_eq!(manifest["counts"]["tests"], 11);
    let names: Vec<&str> = manifest["suites"]
        .as_array()
        .expect("suites")
        .iter()
        .map(|s| s["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["passing", "failing", "slow"]);
    for suite in ["passing", "failing", "slow"] {
        assert!(
            run.run_dir().join("artifacts").join(suite).join("junit.xml").is_file(),
            "{suite}"
        );
    }
}

#[test]
fn max_workers_flag_is_announced_and_respected() {
    let project = fixture("pytest-project");
    let run = Qaagent::new(project.path())
        .args([
            "run-all",
            "--parallel",
            "--max-workers",
            "1",
            "--suite",
            "passing",
            "--suite",
            "failing",
        ])
        .run();
    assert!(
        squash(&run.stdout()).contains("running 2 suites in parallel (1 worker)"),
        "{}",
        run.describe()
    );
}

#[test]
fn config_errors_exit_2_with_location_and_hint() {
    let project = fixture("pytest-project");
    let config = project.path().join(".qaagent.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, text.replace("[run]\n", "[run]\nmax_workers = 0\n")).expect("write");
    let run = Qaagent::new(project.path()).args(["run-all"]).run();
    assert_eq!(run.code(), 2, "{}", run.describe());
    let stderr = run.stderr();
    assert!(
        stderr.contains(&format!("{}:10:", config.display())),
        "file and line: {stderr}"
    );
    assert!(stderr.contains("hint:"), "{stderr}");
    assert!(run.stdout().is_empty(), "nothing ran: {}", run.describe());
}

/// Flags go through the checks the same config values get: a usage error
/// (exit 2) that names the flag and the value, never a panic.
#[test]
fn flag_values_are_checked_like_config_values() {
    let project = fixture("pytest-project");
    for (flag, value, message) in [
        (
            "--timeout",
            "1e20",
            "--timeout is too large (a year at most), found 1e20",
        ),
        (
            "--timeout",
            "400d",
            "--timeout must be a number of seconds or a duration",
        ),
        ("--timeout", "1e300", "--timeout is too large"),
        ("--timeout", "18446744073709551616", "--timeout is too large"),
        ("--timeout", "0", "--timeout must be greater than 0 seconds, found 0"),
        ("--timeout", "-1", "--timeout must be greater than 0 seconds, found -1"),
        (
            "--timeout",
            "5 fortnights",
            "--timeout must be a number of seconds or a duration",
        ),
        (
            "--timeout",
            "NaN",
            "--timeout must be a number of seconds or a duration such as 90s or 5m, found NaN",
        ),
        ("--max-workers", "0", "--max-workers must be at least 1"),
        ("-C", "no/such/dir", "-C no/such/dir: no such directory"),
    ] {
        let run = Qaagent::new(project.path())
            .args(["run-all", "--suite", "passing", flag, value])
            .run();
        assert_eq!(run.code(), 2, "{flag} {value}: {}", run.describe());
        assert!(run.stderr().contains(message), "{flag} {value}: {}", run.describe());
        assert!(run.stdout().is_empty(), "nothing ran: {}", run.describe());
    }
}

#[test]
fn pytest_agrees_with_the_fixture_numbers() {
    // The expected numbers above are pytest's own, not qaagent's.
    let project = fixture("pytest-project");
    let python = qaagent_tests::venv().join("bin/python");
    let output = std::process::Command::new(python)
        .current_dir(project.path())
        .args([
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "tests/passing",
            "tests/failing",
        ])
        .env("BASE_URL", "http://localhost:8000")
        .output()
        .expect("run pytest");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let (p, f, _, s) = (PASSING.0 + FAILING.0, PASSING.1 + FAILING.1, 0, PASSING.3 + FAILING.3);
    assert!(
        stdout.contains(&format!("{f} failed, {p} passed, {s} skipped")),
        "{stdout}"
    );
}

#[test]
fn missing_pytest_or_interpreter_says_how_to_install() {
    let project = fixture("pytest-project");
    // An interpreter without pytest.
    let bare = tempfile::tempdir().expect("tempdir");
    let status = std::process::Command::new("python3")
        .args(["-m", "venv", "--without-pip"])
        .arg(bare.path().join("venv"))
        .status()
        .expect("python3 -m venv");
    assert!(status.success());
    let run = Qaagent::new(project.path())
        .args(["run-all", "--suite", "passing"])
        .env("VIRTUAL_ENV", bare.path().join("venv"))
        .run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let stdout = squash(&run.stdout());
    assert!(stdout.contains("ERROR passing"), "{stdout}");
    assert!(stdout.contains("pip install pytest"), "says how to install: {stdout}");
    assert_eq!(
        run.manifest()["tools"]["pytest"]["executed"],
        false,
        "{}",
        run.manifest()
    );

    // A `python` key pointing nowhere.
    let config = project.path().join(".qaagent.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    let text = text.replace(
        "[tests.passing]\nrunner = \"pytest\"\n",
        "[tests.passing]\nrunner = \"pytest\"\npython = \"no-such-venv/bin/python\"\n",
    );
    std::fs::write(&config, text).expect("write config");
    let run = Qaagent::new(project.path())
        .args(["run-all", "--suite", "passing"])
        .run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let stdout = squash(&run.stdout());
    assert!(
        stdout.contains("no-such-venv/bin/python"),
        "names the interpreter: {stdout}"
    );
}

/// Relative `--runs-dir` and `--out` are relative to where qaagent was
/// started, whatever directory each tool runs in.
#[test]
fn relative_runs_dir_and_out_are_taken_from_the_current_directory() {
    let project = fixture("pytest-project");
    let here = tempfile::tempdir().expect("cwd");
    let output = std::process::Command::new(qaagent_tests::qaagent_bin())
        .arg("-C")
        .arg(project.path())
        .args([
            "run-all",
            "--suite",
            "passing",
            "--runs-dir",
            "rel-runs",
            "--out",
            "rel-out",
        ])
        .current_dir(here.path())
        .env("VIRTUAL_ENV", qaagent_tests::venv())
        .output()
        .expect("run qaagent");
    let describe = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(0), "{describe}");
    assert_eq!(
        std::fs::read_dir(here.path().join("rel-runs")).expect("runs").count(),
        1
    );
    assert!(here.path().join("rel-out/passing/junit.xml").is_file(), "{describe}");
    assert!(!project.path().join("rel-runs").exists() && !project.path().join("rel-out").exists());
}
