//! `runner = "command"` end to end with real JUnit writers: Node's own test
//! runner and cargo-nextest, on `tests/fixtures/command-project`. Counts are
//! checked against what each tool itself prints, not against qaagent.

use qaagent_tests::{fixture, read_jsonl, read_text, record_named, squash, tree_listing, Qaagent};
use serde_json::Value;

/// passed, failed, errors, skipped of a set of records.
fn counts(records: &[Value]) -> (u64, u64, u64, u64) {
    let count = |status: &str| records.iter().filter(|r| r["status"] == status).count() as u64;
    (count("passed"), count("failed"), count("error"), count("skipped"))
}

/// The number on Node's spec-reporter summary line `ℹ <what> N`.
fn node_summary(log: &str, what: &str) -> u64 {
    let prefix = format!("ℹ {what} ");
    log.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no `{prefix}N` line in node's output:\n{log}"))
}

/// passed, failed, skipped from nextest's `Summary [...] N tests run: X passed, Y failed, Z skipped`.
fn nextest_summary(log: &str) -> (u64, u64, u64) {
    let line = log
        .lines()
        .find(|line| line.trim_start().starts_with("Summary ["))
        .unwrap_or_else(|| panic!("no Summary line:\n{log}"));
    let number_before = |word: &str| -> u64 {
        let words: Vec<&str> = line.split_whitespace().collect();
        words
            .windows(2)
            .find(|w| w[1].trim_end_matches(',') == word)
            .and_then(|w| w[0].parse().ok())
            .unwrap_or(0)
    };
    (
        number_before("passed"),
        number_before("failed"),
        number_before("skipped"),
    )
}

#[test]
fn node_suite_counts_match_nodes_own_summary() {
    let project = fixture("command-project");
    let before = tree_listing(project.path());
    let run = Qaagent::new(project.path()).args(["run-all", "--suite", "node"]).run();
    assert_eq!(run.code(), 1, "two node tests fail: {}", run.describe());

    let artifacts = run.run_dir().join("artifacts/node");
    let log = read_text(&artifacts.join("stdout.log"));
    let records = run.suite_records("node");
    let (passed, failed, errors, skipped) = counts(&records);
    assert_eq!(passed, node_summary(&log, "pass"), "{records:#?}");
    assert_eq!(failed, node_summary(&log, "fail"), "{records:#?}");
    assert_eq!(skipped, node_summary(&log, "skipped"), "{records:#?}");
    assert_eq!(records.len() as u64, node_summary(&log, "tests"));
    assert_eq!(errors, 0);
    assert_eq!((passed, failed, skipped), (3, 2, 1), "the fixture's own numbers");
    let stdout = squash(&run.stdout());
    assert!(
        stdout.contains("FAIL node 3 passed, 2 failed, 0 errors, 1 skipped"),
        "{stdout}"
    );

    let broken = record_named(&records, "fails (on purpose)");
    assert_eq!(broken["status"], "failed");
    assert!(
        broken["error_message"]
            .as_str()
            .is_some_and(|m| m.contains("math is broken")),
        "{broken}"
    );
    assert_eq!(broken["runner_type"], "command");
    assert_eq!(
        broken["metadata"]["selector"],
        Value::Null,
        "no rerun template: nothing to select by"
    );
    assert_eq!(record_named(&records, "inner fails")["status"], "failed");
    assert_eq!(record_named(&records, "skipped one")["status"], "skipped");

    let manifest = run.manifest();
    assert_eq!(manifest["tools"]["node"]["executed"], true);
    assert_eq!(manifest["tools"]["node"]["exit_code"], 1);
    let version = manifest["tools"]["node"]["version"].as_str().unwrap_or_default();
    assert!(
        version.starts_with('v'),
        "`node --version` asked through `version`: {manifest:#}"
    );
    assert!(artifacts.join("junit.xml").is_file(), "the report is kept");
    assert_eq!(
        tree_listing(project.path()),
        before,
        "the project tree is left as it was"
    );
}

#[test]
fn retry_without_a_rerun_template_runs_the_whole_suite_and_says_so() {
    let project = fixture("command-project");
    let marker = tempfile::tempdir().expect("tempdir");
    let run = Qaagent::new(project.path())
        .args(["run-all", "--suite", "node", "--retries", "1"])
        .env("FLAKY_MARKER", marker.path().join("flaky-failed-once"))
        .env("RUST_LOG", "info")
        .run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    assert!(
        squash(&run.stdout()).contains("RETRY node attempt 2: the whole suite"),
        "{}",
        run.describe()
    );
    assert!(
        run.stderr().contains("[node] attempt 2: re-running the whole suite"),
        "{}",
        run.describe()
    );

    // Node itself ran every test again.
    let second = read_text(&run.run_dir().join("artifacts/node/attempt-2/stdout.log"));
    assert_eq!(node_summary(&second, "tests"), 6, "{second}");
    assert_eq!(node_summary(&second, "fail"), 2, "{second}");

    let records = run.suite_records("node");
    let flaky = record_named(&records, "flaky until retried");
    assert_eq!(flaky["status"], "passed");
    assert_eq!(flaky["metadata"]["flaky"], true);
    assert_eq!(flaky["metadata"]["attempts"], 2);
    assert_eq!(
        record_named(&records, "adds numbers")["metadata"]["attempts"],
        2,
        "a passing test ran again too"
    );
    assert_eq!(record_named(&records, "fails (on purpose)")["metadata"]["attempts"], 2);
    assert_eq!(counts(&records), (3, 2, 0, 1), "flaky counts as passed");
}

#[test]
fn retry_with_a_rerun_template_runs_only_the_failed_tests() {
    let project = fixture("command-project");
    let marker = tempfile::tempdir().expect("tempdir");
    let run = Qaagent::new(project.path())
        .args(["run-all", "--suite", "node-rerun", "--retries", "1"])
        .env("FLAKY_MARKER", marker.path().join("flaky-failed-once"))
        .run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let stdout = squash(&run.stdout());
    assert!(
        stdout.contains("RETRY node-rerun attempt 2: 3 tests that failed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("FAIL node-rerun 3 passed, 2 failed, 0 errors, 1 skipped, 1 flaky"),
        "{stdout}"
    );

    // Node ran only the three (their names escaped into one anchored pattern) and skipped the rest.
    let second = read_text(&run.run_dir().join("artifacts/node-rerun/attempt-2/stdout.log"));
    assert_eq!(node_summary(&second, "pass"), 1, "{second}");
    assert_eq!(node_summary(&second, "fail"), 2, "{second}");
    assert!(
        second.contains("adds numbers") && second.contains("# test name does not match pattern"),
        "{second}"
    );

    let records = run.suite_records("node-rerun");
    let flaky = record_named(&records, "flaky until retried");
    assert_eq!(
        (flaky["status"].as_str(), flaky["metadata"]["flaky"].as_bool()),
        (Some("passed"), Some(true))
    );
    assert_eq!(flaky["metadata"]["attempts"], 2);
    let broken = record_named(&records, "fails (on purpose)");
    assert_eq!(broken["metadata"]["selector"], "fails (on purpose)");
    // Selected and matched (parentheses escaped): failed again, not "skipped".
    assert_eq!(
        (broken["status"].as_str(), broken["metadata"]["attempts"].as_u64()),
        (Some("failed"), Some(2))
    );
    assert_eq!(record_named(&records, "inner fails")["metadata"]["attempts"], 2);
    assert_eq!(
        record_named(&records, "adds numbers")["metadata"]["attempts"],
        1,
        "a passing test was not re-run"
    );
    assert_eq!(record_named(&records, "skipped one")["status"], "skipped");
}

/// `--rerun-failed` through a `rerun` template: Node lists the tests its
/// name pattern leaves out as skipped; only the selected ones are recorded.
#[test]
fn rerun_failed_records_only_the_selected_tests() {
    let project = fixture("command-project");
    let marker = tempfile::tempdir().expect("tempdir");
    let marker = marker.path().join("flaky-failed-once");
    let first = Qaagent::new(project.path())
        .args(["run-all", "--suite", "node-rerun"])
        .env("FLAKY_MARKER", &marker)
        .run();
    assert_eq!(first.code(), 1, "{}", first.describe());

    let rerun = Qaagent::with_runs_dir(project.path(), first.runs_dir.path())
        .args(["run-all", "--suite", "node-rerun", "--rerun-failed"])
        .env("FLAKY_MARKER", &marker)
        .run();
    assert_eq!(rerun.code(), 1, "{}", rerun.describe());
    let newest = rerun.run_dirs().pop().expect("the re-run's directory");
    let log = read_text(&newest.join("artifacts/node-rerun/stdout.log"));
    assert!(
        log.contains("# test name does not match pattern"),
        "Node skipped the others: {log}"
    );
    let records = read_jsonl(&newest.join("evidence/tests.jsonl"));
    let mut seen: Vec<(&str, &str)> = records
        .iter()
        .map(|r| (r["name"].as_str().unwrap_or(""), r["status"].as_str().unwrap_or("")))
        .collect();
    seen.sort_unstable();
    assert_eq!(
        seen,
        [
            ("fails (on purpose)", "failed"),
            ("flaky until retried", "passed"),
            ("inner fails", "failed")
        ],
        "{}",
        rerun.describe()
    );
    assert!(
        squash(&rerun.stdout()).contains("FAIL node-rerun 1 passed, 2 failed, 0 errors, 0 skipped"),
        "{}",
        rerun.describe()
    );
}

#[test]
fn nextest_suite_counts_match_nextests_own_summary() {
    let project = fixture("command-project");
    let before = tree_listing(project.path());
    let run = Qaagent::new(project.path())
        .args(["run-all", "--suite", "nextest"])
        .run();
    assert_eq!(run.code(), 1, "one Rust test fails: {}", run.describe());
    let stdout = squash(&run.stdout());
    // Exit 100 is in ok_exit_codes: a test failure, not a tool error.
    assert!(
        stdout.contains("FAIL nextest 2 passed, 1 failed, 0 errors, 1 skipped"),
        "{stdout}"
    );

    let log = read_text(&run.run_dir().join("artifacts/nextest/stderr.log"));
    let (passed, failed, skipped) = nextest_summary(&log);
    let records = run.suite_records("nextest");
    // nextest leaves its ignored test out of the JUnit report unless the
    // profile says `report-skipped = "ignored"`, as the fixture's does.
    assert_eq!(counts(&records), (passed, failed, 0, skipped), "{records:#?}");
    assert_eq!(skipped, 1, "{log}");
    assert_eq!(record_named(&records, "tests::ignored")["status"], "skipped");

    let fails = record_named(&records, "tests::fails");
    assert_eq!(fails["status"], "failed");
    assert!(
        fails["error_message"].as_str().is_some_and(|m| m.contains("panicked")),
        "{fails}"
    );
    assert_eq!(fails["metadata"]["classname"], "nextest-fixture");

    let manifest = run.manifest();
    assert_eq!(manifest["tools"]["cargo"]["exit_code"], 100);
    let version = manifest["tools"]["cargo"]["version"].as_str().unwrap_or_default();
    assert!(version.starts_with("cargo-nextest"), "{manifest:#}");
    // The report lies outside the output dir and is copied into the run.
    assert!(run.run_dir().join("artifacts/nextest/junit.xml").is_file());
    // Cargo built into the suite's output; only nextest's own store is left in the crate.
    assert!(run.run_dir().join("artifacts/nextest/target").is_dir());
    let after = tree_listing(project.path());
    let added: Vec<&String> = after.iter().filter(|p| !before.contains(p)).collect();
    assert!(
        added.iter().all(|p| p.starts_with("rust/target/")),
        "only rust/target/nextest appears: {added:?}"
    );
    assert!(
        !after.iter().any(|p| p.starts_with("rust/target/debug")),
        "no build products in the project: {after:?}"
    );

    // The first run's report is still in rust/target. A run whose build fails
    // writes none, and must not take that stale one as its own.
    let lib = project.path().join("rust/src/lib.rs");
    std::fs::write(&lib, read_text(&lib).replace("a + b", "a + ")).expect("break the crate");
    let broken = Qaagent::new(project.path())
        .args(["run-all", "--suite", "nextest"])
        .run();
    assert_eq!(broken.code(), 1, "{}", broken.describe());
    let stdout = squash(&broken.stdout());
    assert!(stdout.contains("ERROR nextest"), "{stdout}");
    assert!(stdout.contains("cargo wrote no JUnit report"), "{stdout}");
    assert!(
        broken.suite_records("nextest").is_empty(),
        "no stale cases: {}",
        broken.describe()
    );
}

#[test]
fn tool_exiting_without_a_report_is_an_error_with_the_log_tail() {
    let project = fixture("command-project");
    let run = Qaagent::new(project.path()).args(["run-all", "--suite", "crash"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let stdout = squash(&run.stdout());
    assert!(stdout.contains("ERROR crash"), "{stdout}");
    assert!(stdout.contains("node wrote no JUnit report"), "{stdout}");
    assert!(stdout.contains("node exited with code 3"), "{stdout}");
    assert!(
        stdout.contains("exploding before any test ran"),
        "the log tail is shown: {stdout}"
    );
    let manifest = run.manifest();
    let suite = &manifest["suites"][0];
    assert_eq!(suite["outcome"], "errored");
    assert_eq!(suite["errors"], 1);
    assert_eq!(manifest["tools"]["node"]["exit_code"], 3);
}

#[test]
fn missing_program_is_named() {
    let project = fixture("command-project");
    let run = Qaagent::new(project.path())
        .args(["run-all", "--suite", "missing-tool"])
        .run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let stdout = squash(&run.stdout());
    assert!(stdout.contains("ERROR missing-tool"), "{stdout}");
    assert!(stdout.contains("qaagent-no-such-tool not found"), "{stdout}");
    assert!(stdout.contains("put it on PATH"), "{stdout}");
}

/// `config check`: a tool without a `version` key is there, its version not
/// asked; only a program that cannot be found is "not found".
#[test]
fn config_check_tells_a_tool_without_version_key_from_a_missing_one() {
    let project = fixture("command-project");
    let check = Qaagent::new(project.path()).args(["config", "check"]).run();
    assert_eq!(check.code(), 1, "missing-tool cannot run: {}", check.describe());
    let stdout = check.stdout();
    let node = runner_api::python::which("node".as_ref()).expect("node on PATH");
    let not_asked = format!(
        "command  {} (version not asked: the suite has no `version` key)",
        node.display()
    );
    // node-rerun and crash have no `version` key.
    assert_eq!(stdout.matches(&not_asked).count(), 2, "{stdout}");
    assert_eq!(stdout.matches("command  not found").count(), 1, "{stdout}");
    assert!(
        stdout.contains("error: 6 suites will run; 1 tool not found"),
        "{stdout}"
    );
}

/// A program found only on the suite's own `PATH` (its `env`) is found by
/// `config check` as by the run; one missing from it is "not found" there
/// even when qaagent's own `PATH` has it.
#[test]
fn config_check_looks_for_the_program_on_the_suites_path() {
    let project = tempfile::tempdir().expect("project");
    let bin = project.path().join("tools");
    std::fs::create_dir(&bin).expect("mkdir");
    let script = "#!/bin/sh\nprintf '<testsuite><testcase classname=\"c\" name=\"t\"/></testsuite>' > \"$1\"\n";
    let tool = bin.join("only-here");
    std::fs::write(&tool, script).expect("write tool");
    std::fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    let config = format!(
        "[project]\nname = \"path\"\n\n\
         [tests.own]\nrunner = \"command\"\npath = \".\"\ncommand = [\"only-here\", \"{{junit}}\"]\n\
         env = {{ PATH = \"{bin}:/usr/bin:/bin\" }}\n\n\
         [tests.lacking]\nrunner = \"command\"\npath = \".\"\ncommand = [\"sh\", \"-c\", \"true\"]\n\
         env = {{ PATH = \"{bin}\" }}\n",
        bin = bin.display()
    );
    std::fs::write(project.path().join(".qaagent.toml"), config).expect("config");

    let check = Qaagent::new(project.path()).args(["config", "check"]).run();
    let stdout = check.stdout();
    assert!(
        stdout.contains(&format!("{} (version not asked", tool.display())),
        "{}",
        check.describe()
    );
    assert_eq!(stdout.matches("command  not found").count(), 1, "{}", check.describe());
    assert_eq!(check.code(), 1, "{}", check.describe());

    let run = Qaagent::new(project.path())
        .args(["run-all", "--no-progress", "--suite", "own"])
        .run();
    assert_eq!(run.code(), 0, "the run finds it too: {}", run.describe());
}

#[test]
fn unknown_key_is_a_config_error_naming_the_runner_and_position() {
    let project = fixture("command-project");
    let config = project.path().join(".qaagent.toml");
    let text = read_text(&config);
    let text = text.replace(
        "version = [\"node\", \"--version\"]\n",
        "version = [\"node\", \"--version\"]\njunit_file = \"x.xml\"\n",
    );
    std::fs::write(&config, &text).expect("write config");
    let line = text
        .lines()
        .position(|l| l.starts_with("junit_file"))
        .expect("inserted")
        + 1;
    let run = Qaagent::new(project.path()).args(["run-all", "--suite", "node"]).run();
    assert_eq!(run.code(), 2, "{}", run.describe());
    let stderr = run.stderr();
    assert!(
        stderr.contains(&format!("{}:{line}:1", config.display())),
        "file, line and column: {stderr}"
    );
    assert!(
        stderr.contains("unknown key `junit_file` for runner `command`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("runner `command` takes: command, junit, cwd, rerun"),
        "{stderr}"
    );
    assert!(run.stdout().is_empty(), "nothing ran: {}", run.describe());
}

#[test]
fn design_example_config_parses_and_runs_its_command() {
    let project = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(project.path().join("api")).expect("suite dir");
    std::fs::write(
        project.path().join(".qaagent.toml"),
        r#"[project]
name = "shop"

[tests.api]
runner = "command"
path = "api"
command = ["go", "run", "gotest.tools/gotestsum", "--junitfile", "{junit}"]
junit = "{junit}"              # file or directory the tool writes; {junit} and {out} are expanded
"#,
    )
    .expect("config");
    // An empty PATH, so `go` is missing on every machine and nothing is downloaded.
    let empty = tempfile::tempdir().expect("tempdir");
    let run = Qaagent::new(project.path())
        .args(["run-all"])
        .env("PATH", empty.path())
        .run();
    assert_eq!(
        run.code(),
        1,
        "the config is accepted and the suite errors: {}",
        run.describe()
    );
    assert!(squash(&run.stdout()).contains("ERROR api"), "{}", run.describe());
    assert!(run.stdout().contains("go not found"), "{}", run.describe());
}

/// Two tests of one name in two classes, selected again by that name: each
/// attempt is matched to its own test on the whole identity, so the one that
/// always fails fails the run and the one that always passes is not flaky,
/// whatever order the tool reports them in.
#[test]
fn same_named_tests_in_two_classes_keep_their_own_attempts() {
    let project = tempfile::tempdir().expect("project");
    std::fs::create_dir(project.path().join("t")).expect("t");
    std::fs::write(
        project.path().join("t/dupe.py"),
        r#"import os, sys
state = os.path.join(os.path.dirname(os.path.abspath(__file__)), "state")
again = os.path.exists(state)
open(state, "w").close()
fails = '<testcase classname="c1" name="t"><failure message="c1 always fails"/></testcase>'
passes = '<testcase classname="c2" name="t"/>'
open(sys.argv[1], "w").write("<testsuite>" + ((fails + passes) if again else (passes + fails)) + "</testsuite>")
sys.exit(1)
"#,
    )
    .expect("tool");
    std::fs::write(
        project.path().join(".qaagent.toml"),
        r#"[project]
name = "dupes"
[tests.c]
runner = "command"
path = "t"
command = ["python3", "t/dupe.py", "{junit}"]
rerun = ["--only", "{selectors}"]
"#,
    )
    .expect("config");
    let run = Qaagent::new(project.path())
        .args(["run-all", "--retries", "1", "--junit", "j.xml"])
        .run();
    assert_eq!(run.code(), 1, "c1::t failed both attempts: {}", run.describe());
    let stdout = squash(&run.stdout());
    assert!(!stdout.contains("FLAKY c"), "{stdout}");
    assert!(!stdout.contains("attempt 3 of 2"), "{stdout}");
    let records = run.records();
    let by_class: Vec<(&str, &str, u64, bool)> = records
        .iter()
        .map(|r| {
            (
                r["metadata"]["classname"].as_str().unwrap_or_default(),
                r["status"].as_str().unwrap_or_default(),
                r["metadata"]["attempts"].as_u64().unwrap_or_default(),
                r["metadata"]["flaky"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        by_class,
        [("c2", "passed", 2, false), ("c1", "failed", 2, false)],
        "{records:#?}"
    );
    let junit = read_text(&project.path().join("j.xml"));
    assert_eq!(junit.matches("<testcase ").count(), 2, "{junit}");
    assert!(
        junit.contains(r#"classname="c1""#) && junit.contains(r#"classname="c2""#),
        "{junit}"
    );
    assert!(!junit.contains("flakyFailure"), "{junit}");
}

/// Two suites of `tool.sh NAME OUTCOME REPORT`: each writes a report of
/// one test, NAME, with OUTCOME, to its `junit`, both `build/junit.xml`
/// (`build/` exists), or both `build/reports/junit.xml` with `in_new_dir`
/// (each tool makes `build/reports/`, as build tools do). In `parallel`
/// each tool waits (5 s at most) for the other to have written, so that
/// side by side both reports land in one file before either tool ends.
fn suites_sharing_one_report(parallel: bool, in_new_dir: bool) -> tempfile::TempDir {
    let tool = r#"#!/bin/sh
set -e
if [ "$4" = wait ]; then
  [ "$1" = b ] && for _ in $(seq 50); do [ -e ../a.wrote ] && break; sleep 0.1; done
fi
if [ "$2" = fail ]; then body='<failure message="boom"/>'; else body=''; fi
mkdir -p "$(dirname "$3")"
printf '<testsuite><testcase classname="t" name="%s">%s</testcase></testsuite>' "$1" "$body" > "$3"
touch "../$1.wrote"
if [ "$4" = wait ] && [ "$1" = a ]; then
  for _ in $(seq 50); do [ -e ../b.wrote ] && break; sleep 0.1; done
fi
"#;
    let wait = if parallel { "wait" } else { "go" };
    let junit = if in_new_dir {
        "../build/reports/junit.xml"
    } else {
        "../build/junit.xml"
    };
    let config = format!(
        "[project]\nname = \"shared\"\n\n[run]\nparallel = {parallel}\n\n\
         [tests.a]\nrunner = \"command\"\npath = \"t\"\ncwd = \"t\"\n\
         command = [\"sh\", \"tool.sh\", \"a\", \"fail\", \"{{junit}}\", \"{wait}\"]\njunit = \"{junit}\"\n\n\
         [tests.b]\nrunner = \"command\"\npath = \"t\"\ncwd = \"t\"\n\
         command = [\"sh\", \"tool.sh\", \"b\", \"pass\", \"{{junit}}\", \"{wait}\"]\njunit = \"{junit}\"\n"
    );
    qaagent_tests::project_with(
        "shared-report",
        &[(".qaagent.toml", &config), ("t/tool.sh", tool), ("build/.keep", "")],
    )
}

#[test]
fn two_suites_side_by_side_cannot_share_a_report_path() {
    // Before, a's failing report was overwritten by b's passing one, and
    // both suites read the pass: exit 0 with a failure lost.
    let project = suites_sharing_one_report(true, false);
    let run = Qaagent::new(project.path()).args(["run-all"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let printed = squash(&format!("{}{}", run.stdout(), run.stderr()));
    assert!(
        printed.contains("overlaps") && printed.contains("running at the same time"),
        "the second suite to start is refused, naming the first\n{}",
        run.describe()
    );
    assert_no_suite_read_the_others_report(&run);
}

/// Of the two suites of [`suites_sharing_one_report`] side by side, the one
/// refused has no record and the other read its own report, if any: `a`
/// fails, and neither holds the other's test.
fn assert_no_suite_read_the_others_report(run: &qaagent_tests::RunOutput) {
    for record in &run.records() {
        let (name, suite) = (&record["name"], &record["suite_name"]);
        assert_eq!(name, suite, "a suite read the other's report\n{}", run.describe());
        if name == "a" {
            assert_eq!(record["status"], "failed", "{}", run.describe());
        }
    }
}

/// The same where one suite names the report through a link to the other's
/// report directory, which its tool has yet to make: the dangling link is
/// followed by name. Before, the two paths were not seen to overlap, and a
/// read b's pass (a hostile try, 13b #1).
#[test]
fn two_suites_side_by_side_cannot_share_a_report_path_through_a_dangling_link() {
    let project = suites_sharing_one_report(true, true);
    let config = project.path().join(".qaagent.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    let at = text.rfind("../build/reports/junit.xml").expect("b's junit");
    let linked = format!(
        "{}../build/latest/junit.xml{}",
        &text[..at],
        &text[at + "../build/reports/junit.xml".len()..]
    );
    std::fs::write(&config, linked).expect("config");
    std::os::unix::fs::symlink("reports", project.path().join("build/latest")).expect("link");
    let run = Qaagent::new(project.path()).args(["run-all"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    assert!(
        squash(&format!("{}{}", run.stdout(), run.stderr())).contains("overlaps"),
        "the second suite to start is refused\n{}",
        run.describe()
    );
    assert_no_suite_read_the_others_report(&run);
}

/// Two qaagent runs at once, one suite each, sharing one report path: the
/// second is refused (another process holds the path), and the first still
/// reads its own failure. Before, the second set the first's report aside
/// and its tool wrote a pass in its place: the first run passed.
#[test]
fn two_runs_at_once_cannot_share_a_report_path() {
    two_runs_at_once_sharing_a_report_path(false);
}

/// The same where the report's directory is made by the first run's tool,
/// after the first run claimed the path. Before, the second run's claim,
/// keyed on the nearest directory that existed, took another lock: the
/// first run read the second's pass (a hostile try, 13b #1).
#[test]
fn two_runs_at_once_cannot_share_a_report_path_in_a_directory_a_tool_makes() {
    two_runs_at_once_sharing_a_report_path(true);
}

fn two_runs_at_once_sharing_a_report_path(in_new_dir: bool) {
    let project = suites_sharing_one_report(true, in_new_dir);
    let (runs_a, runs_b) = (tempfile::tempdir().expect("runs"), tempfile::tempdir().expect("runs"));
    let (dir, runs) = (project.path().to_path_buf(), runs_a.path().to_path_buf());
    let first = std::thread::spawn(move || {
        Qaagent::with_runs_dir(&dir, &runs)
            .args(["run-all", "--suite", "a", "--no-progress"])
            .run()
    });
    // a's tool has written its report, and waits for b's.
    let wrote = project.path().join("a.wrote");
    for _ in 0..200 {
        if wrote.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(wrote.exists(), "suite a's tool never ran");
    let second = Qaagent::with_runs_dir(project.path(), runs_b.path())
        .args(["run-all", "--suite", "b", "--no-progress"])
        .run();
    std::fs::write(project.path().join("b.wrote"), "").expect("let a's tool end");
    let first = first.join().expect("the first run");
    assert_eq!(first.code(), 1, "a's failure stands\n{}", first.describe());
    assert_eq!(record_named(&first.records(), "a")["status"], "failed");
    assert_ne!(second.code(), 0, "{}", second.describe());
    assert!(
        squash(&second.describe()).contains("in use by another qaagent process"),
        "{}",
        second.describe()
    );
}

#[test]
fn suites_one_after_the_other_may_share_a_report_path() {
    let project = suites_sharing_one_report(false, false);
    let run = Qaagent::new(project.path()).args(["run-all"]).run();
    assert_eq!(run.code(), 1, "a fails\n{}", run.describe());
    let records = run.records();
    let a = record_named(&records, "a");
    let b = record_named(&records, "b");
    assert_eq!(
        (a["status"].as_str(), b["status"].as_str()),
        (Some("failed"), Some("passed"))
    );
}
