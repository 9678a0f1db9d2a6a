//! What people see and what machines read: the plain reporter and the JSON
//! event stream (snapshots, with times and paths normalized), live tool
//! output under --parallel, colour rules, and custom diagnostics.

use qaagent_tests::{fixture, normalize, read_json, scrub_numbers, Qaagent};
use serde_json::Value;

#[test]
fn plain_reporter_output() {
    let project = fixture("pytest-project");
    let run = Qaagent::new(project.path())
        .args([
            "run-all", "--suite", "passing", "--suite", "failing", "--suite", "missing",
        ])
        .run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    insta::assert_snapshot!(normalize(&run.stdout(), project.path(), &run));
}

#[test]
fn json_event_stream() {
    let project = fixture("pytest-project");
    let run = Qaagent::new(project.path())
        .args([
            "run-all", "--format", "json", "--suite", "passing", "--suite", "failing", "--suite", "missing",
        ])
        .run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let stdout = run.stdout();
    let events: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("stdout holds only JSON lines: {e}: {line}")))
        .collect();
    for event in &events {
        assert_eq!(event["version"], 1, "{event}");
        assert!(event["event"].is_string(), "{event}");
    }
    let kinds: Vec<&str> = events.iter().map(|e| e["event"].as_str().unwrap_or("")).collect();
    assert_eq!(kinds.first(), Some(&"run-started"));
    assert_eq!(kinds.last(), Some(&"run-finished"));
    assert_eq!(kinds.iter().filter(|k| **k == "suite-finished").count(), 3);
    let finished = events.last().expect("run-finished");
    assert_eq!(finished["exit_code"], 1);
    assert_eq!(finished["totals"]["failed"], 2);
    assert_eq!(finished["evidence"], run.run_dir().display().to_string());
    // Human output moved to stderr.
    assert!(run.stderr().contains("FAIL failing"), "{}", run.describe());

    // Snapshot with times and paths normalized.
    let normalized = normalize(&stdout, project.path(), &run);
    let mut events: Vec<Value> = normalized
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    for event in &mut events {
        scrub_numbers(event);
    }
    insta::assert_json_snapshot!(events);
}

#[test]
fn immediate_output_lines_are_whole_and_prefixed_under_parallel() {
    let project = fixture("pytest-project");
    let run = Qaagent::new(project.path())
        .args([
            "run-all",
            "--parallel",
            "--output",
            "immediate",
            "--suite",
            "chatty_a",
            "--suite",
            "chatty_b",
        ])
        .run();
    assert_eq!(run.code(), 0, "{}", run.describe());
    let stdout = run.stdout();
    let mut seen = [0usize; 2];
    for line in stdout.lines().filter(|l| l.contains("chatty-")) {
        let (prefix, rest) = line.split_once(' ').expect("prefixed line");
        let which = match prefix {
            "[chatty_a]" => 0,
            "[chatty_b]" => 1,
            other => panic!("line without its suite prefix: {other:?} in {line:?}"),
        };
        let tool_line = rest
            .trim_start_matches('.')
            .trim_start_matches("tests/chatty_a/test_chatty.py ")
            .trim_start_matches("tests/chatty_b/test_chatty.py ");
        let expected_tool = ["chatty-a", "chatty-b"][which];
        assert!(
            tool_line.starts_with(expected_tool) && tool_line.ends_with(" end"),
            "a torn or mixed line: {line:?}"
        );
        seen[which] += 1;
    }
    assert_eq!(seen, [300, 300], "every line of both suites came through once");
    // The log files hold the same bytes.
    let log = std::fs::read_to_string(run.run_dir().join("artifacts/chatty_a/stdout.log")).expect("log");
    assert_eq!(log.matches(" end\n").count(), 300);
}

#[test]
fn colour_follows_the_terminal_and_no_color() {
    let project = fixture("pytest-project");
    let coloured = qaagent_tests::run_in_terminal(
        project.path(),
        "run-all --no-progress --suite passing --suite failing",
        false,
    );
    assert!(coloured.contains("\x1b[31m"), "a terminal gets colour: {coloured:?}");
    assert!(coloured.contains("FAIL"), "{coloured}");
    let plain = qaagent_tests::run_in_terminal(
        project.path(),
        "run-all --no-progress --suite passing --suite failing",
        true,
    );
    assert!(plain.contains("FAIL failing"), "{plain}");
    assert!(
        !plain.contains('\x1b'),
        "NO_COLOR output has no escape codes: {plain:?}"
    );
    let never = qaagent_tests::run_in_terminal(
        project.path(),
        "run-all --no-progress --color never --suite passing",
        false,
    );
    assert!(!never.contains('\x1b'), "{never:?}");
    let live = qaagent_tests::run_in_terminal(project.path(), "run-all --suite passing --suite failing", true);
    assert!(
        live.contains("FAIL failing"),
        "the live display ends in the same result lines: {live}"
    );
}

#[test]
fn custom_diagnostics_category_wins_over_built_ins() {
    let project = fixture("pytest-project");
    let config = project.path().join(".qaagent.toml");
    let mut text = std::fs::read_to_string(&config).expect("config");
    text.push_str(
        r#"
[[diagnostics.categories]]
name = "inventory"
pattern = "quantity must be (positive|whole)"
suggestion = "Check the stock fixtures."
"#,
    );
    std::fs::write(&config, text).expect("write config");
    let run = Qaagent::new(project.path())
        .args(["run-all", "--suite", "failing"])
        .run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let diagnostics = read_json(&run.run_dir().join("evidence/diagnostics.json"));
    let by_test = |suffix: &str| {
        diagnostics
            .as_array()
            .expect("array")
            .iter()
            .find(|d| d["test_name"].as_str().is_some_and(|n| n.ends_with(suffix)))
            .cloned()
            .unwrap_or_else(|| panic!("no diagnosis for {suffix}: {diagnostics}"))
    };
    let custom = by_test("test_post_orders_invalid_data");
    assert_eq!(custom["category"], "inventory");
    assert_eq!(custom["suggestion"], "Check the stock fixtures.");
    assert_eq!(custom["confidence"], 0.6);
    assert_eq!(
        by_test("test_delete_orders_order_id")["category"],
        "data",
        "KeyError is built-in `data`"
    );
    let manifest = run.manifest();
    let summary = manifest["diagnostics"][0].as_str().expect("summary");
    assert!(
        summary.starts_with("2 test failure(s) detected. Breakdown:"),
        "{summary}"
    );
    assert!(summary.contains("inventory: 1"), "{summary}");
    assert_eq!(manifest["evidence_files"]["diagnostics"], "evidence/diagnostics.json");
}

#[test]
fn bad_category_regex_is_a_config_error() {
    let project = fixture("pytest-project");
    let config = project.path().join(".qaagent.toml");
    let mut text = std::fs::read_to_string(&config).expect("config");
    text.push_str("\n[[diagnostics.categories]]\nname = \"broken\"\npattern = \"(unclosed\"\nsuggestion = \"x\"\n");
    std::fs::write(&config, text).expect("write config");
    let run = Qaagent::new(project.path()).args(["run-all"]).run();
    assert_eq!(run.code(), 2, "{}", run.describe());
    assert!(
        run.stderr().contains("broken"),
        "the category is named: {}",
        run.describe()
    );
}

/// A tool's test names, messages and output cannot steer the terminal: every
/// control character qaagent prints of them is escaped, in every mode.
#[test]
fn control_sequences_from_a_tool_are_escaped_on_the_terminal() {
    let project = tempfile::tempdir().expect("project");
    // A name that clears the screen and forges a verdict line, a message that
    // sets the window title, and output with a colour and a clear-screen.
    let junit = concat!(
        "<testsuite tests=\"2\" failures=\"2\">",
        "<testcase classname=\"evil\" name=\"wipe&#27;[2J&#10;PASSED: 9 suites\"><failure message=\"x\"/></testcase>",
        "<testcase classname=\"evil\" name=\"titled\">",
        "<failure message=\"&#27;]0;pwned&#7;boom\">&#27;]0;pwned&#7;</failure></testcase>",
        "</testsuite>"
    );
    std::fs::write(project.path().join("report.xml"), junit).expect("report");
    std::fs::write(
        project.path().join(".qaagent.toml"),
        r#"[project]
name = "evil"
[tests.evil]
runner = "command"
path = "."
command = ["sh", "-c", "cp report.xml \"$1\"; printf '\\033[31mred\\033[0m \\033[2J\\n'", "sh", "{junit}"]
"#,
    )
    .expect("config");
    for extra in [
        &["--color", "never"][..],
        &["--output", "immediate", "--color", "never"][..],
    ] {
        let run = Qaagent::new(project.path()).args(["run-all"]).args(extra).run();
        assert_eq!(run.code(), 1, "{}", run.describe());
        let stdout = run.stdout();
        assert!(
            !stdout.contains('\x1b') && !stdout.contains('\x07'),
            "{extra:?}: raw control characters reached the terminal: {stdout:?}"
        );
        assert!(stdout.contains("wipe\\x1b[2J\\nPASSED: 9 suites"), "{stdout}");
        assert!(stdout.contains("\\x1b]0;pwned\\x07boom"), "{stdout}");
        assert!(!stdout.lines().any(|line| line.starts_with("PASSED")), "{stdout}");
        if extra.contains(&"immediate") {
            assert!(stdout.contains("[evil] \\x1b[31mred\\x1b[0m \\x1b[2J"), "{stdout}");
        }
    }
    // With colour on, a tool's own colours pass through; nothing else does.
    let run = Qaagent::new(project.path())
        .args(["run-all", "--output", "immediate", "--color", "always"])
        .run();
    let stdout = run.stdout();
    assert!(stdout.contains("[evil] \x1b[31mred\x1b[0m \\x1b[2J"), "{stdout:?}");
    assert!(!stdout.contains('\x07'), "{stdout:?}");
}

/// Past a file-size limit (`ulimit -f`) on the files qaagent's output goes
/// to, the run fails with exit 1; it does not panic (101) or die by SIGXFSZ.
#[test]
fn output_past_a_file_size_limit_fails_the_run_without_a_panic() {
    let project = fixture("pytest-project");
    let runs = tempfile::tempdir().expect("runs dir");
    let out = project.path().join("qaagent.out");
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -f 1; exec \"$0\" run-all --suite passing --no-progress --runs-dir \"$1\" > \"$2\" 2>&1")
        .arg(qaagent_tests::qaagent_bin())
        .arg(runs.path())
        .arg(&out)
        .current_dir(project.path())
        .env("VIRTUAL_ENV", qaagent_tests::venv())
        .status()
        .expect("run qaagent under ulimit");
    let printed = std::fs::read_to_string(&out).unwrap_or_default();
    assert_eq!(status.code(), Some(1), "{status:?}: {printed}");
    assert!(!printed.contains("panicked"), "{printed}");
}

/// A reader that goes away (`run-all | head -1` under `set -o pipefail`)
/// ends the output, never the verdict: a failed run still exits 1.
#[test]
fn a_closed_output_pipe_keeps_the_exit_code_of_the_verdict() {
    let project = fixture("pytest-project");
    let mut qaagent = Qaagent::new(project.path()).args(["run-all", "--suite", "failing", "--no-progress"]);
    let mut child = qaagent
        .command()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("qaagent starts");
    // The reader is gone before qaagent writes its first line.
    drop(child.stdout.take());
    let status = child.wait().expect("qaagent ends");
    assert_eq!(status.code(), Some(1), "the failing suite's verdict");
}
