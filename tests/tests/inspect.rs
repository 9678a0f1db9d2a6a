//! `qaagent runs list`, `runs show`, `config check` and `init` through the real
//! binary: on runs recorded by the evidence writer (and by `run-all` with real
//! pytest), on run directories damaged the ways a killed run or a bad disk
//! leaves them, and on a project `init` sets up from scratch.

use std::path::Path;
use std::time::Duration;

use evidence::{DiagnosticRecord, Run, RunInfo, RunStatus};
use orchestrator::evidence_map::suite_record;
use qaagent_tests::{fixture, squash, venv, Qaagent, RunOutput};
use runner_api::{SuiteResult, TestCase, TestStatus, ToolRun};
use serde_json::Value;

/// Records a finished run in `root` with the evidence writer, as `run-all`
/// would: a flaky unit suite, an api suite with a failure and an error (and a
/// kept JUnit file), and a skipped e2e suite. Returns its run id.
fn record_run(root: &Path) -> String {
    let project = tempfile::tempdir().expect("project dir");
    let info = RunInfo {
        project_name: "shop".into(),
        project_path: project.path().to_path_buf(),
        suites: vec!["unit".into(), "api".into(), "e2e".into()],
        qaagent_version: "0.1.0".into(),
        partition: None,
    };
    let run = Run::create(root, info).expect("create run");
    let run_id = run.run_id().to_string();
    let writer = run.start_writer().expect("writer");

    let mut unit = SuiteResult::new("unit", "pytest");
    unit.cases.push(case(
        "test_add",
        "tests/test_math.py::test_add",
        TestStatus::Passed,
        None,
    ));
    let mut flaky = case("test_retry", "tests/test_math.py::test_retry", TestStatus::Passed, None);
    flaky.flaky = true;
    flaky.attempts = 2;
    unit.cases.push(flaky);
    unit.cases.push(case(
        "test_db",
        "tests/test_math.py::test_db",
        TestStatus::Skipped,
        Some("no database"),
    ));
    unit.attempts = 2;
    unit.duration = Duration::from_millis(1250);
    unit.tool = ToolRun {
        name: "pytest".into(),
        version: Some("9.2.0".into()),
        executed: true,
        exit_code: Some(0),
        error: None,
    };
    writer.suite_finished(0, suite_record(unit)).expect("unit");

    let out = tempfile::tempdir().expect("suite output dir");
    std::fs::write(out.path().join("junit.xml"), "<testsuites/>").expect("junit");
    let mut api = SuiteResult::new("api", "pytest");
    api.cases.push(case(
        "test_get_order",
        "tests/test_api.py::test_get_order",
        TestStatus::Passed,
        None,
    ));
    api.cases.push(case(
        "test_post_order",
        "tests/test_api.py::test_post_order",
        TestStatus::Failed,
        Some("AssertionError: expected 201, got 500\nassert 500 == 201"),
    ));
    api.cases.push(case(
        "test_login",
        "tests/test_api.py::test_login",
        TestStatus::Error,
        // A window-title (OSC) and a clear-screen sequence, which `runs show` must not send raw.
        Some("ConnectionRefusedError: [Errno 111] Connection refused\x1b]0;pwned\x07\x1b[2J"),
    ));
    api.duration = Duration::from_millis(2500);
    api.output_dir = Some(out.path().to_path_buf());
    api.artifacts = vec![out.path().join("junit.xml")];
    api.tool = ToolRun {
        name: "pytest".into(),
        version: Some("9.2.0".into()),
        executed: true,
        exit_code: Some(1),
        error: None,
    };
    writer.suite_finished(1, suite_record(api)).expect("api");

    writer
        .suite_finished(
            2,
            suite_record(SuiteResult::skipped("e2e", "playwright", "path e2e does not exist")),
        )
        .expect("e2e");
    let diagnosis = |name: &str, category: &str, suggestion: &str, message: &str| DiagnosticRecord {
        test_name: name.into(),
        selector: None,
        suite: "api".into(),
        category: category.into(),
        root_cause: format!("{category} failure"),
        confidence: 0.6,
        suggestion: suggestion.into(),
        error_message: Some(message.into()),
        route: None,
    };
    writer
        .diagnostics(
            vec![
                diagnosis(
                    "tests/test_api.py::test_post_order",
                    "assertion",
                    "Compare the expected and actual values.",
                    "AssertionError: expected 201, got 500",
                ),
                diagnosis(
                    "tests/test_api.py::test_login",
                    "connection",
                    "Check that the application is running at BASE_URL.",
                    "ConnectionRefusedError",
                ),
            ],
            vec!["2 test failure(s) detected. Breakdown: assertion: 1, connection: 1.".into()],
        )
        .expect("diagnostics");
    writer
        .finish(RunStatus::Failed, Duration::from_millis(4200))
        .expect("finish");
    run_id
}

fn case(name: &str, selector: &str, status: TestStatus, message: Option<&str>) -> TestCase {
    let mut case = TestCase::new(name, "tests", status);
    case.selector = Some(selector.into());
    case.message = message.map(str::to_string);
    case.duration = 0.01;
    case
}

/// `qaagent ARGS` started in a scratch directory, reading runs from `root`.
fn qaagent_in(root: &Path, args: &[&str]) -> RunOutput {
    let cwd = tempfile::tempdir().expect("cwd");
    Qaagent::new(cwd.path()).env("QAAGENT_RUNS_DIR", root).args(args).run()
}

fn parse_json(run: &RunOutput) -> Value {
    serde_json::from_str(&run.stdout())
        .unwrap_or_else(|err| panic!("stdout is one JSON document: {err}\n{}", run.describe()))
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '/' || c == '_' || c == '-' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

/// Snapshot settings that replace the runs root, the run id and timestamps.
fn snapshot_settings(root: &Path, run_id: &str) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&regex_escape(&root.display().to_string()), "[RUNS]");
    settings.add_filter(&regex_escape(run_id), "[RUN_ID]");
    settings.add_filter(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[TIME]");
    // The project directory is a fresh temporary directory.
    settings.add_filter(r"(?m)^(  project   shop  ).*$", "$1[PROJECT]");
    settings
}

#[test]
fn list_and_show_a_recorded_run() {
    let root = tempfile::tempdir().expect("runs root");
    let run_id = record_run(root.path());

    let list = qaagent_in(root.path(), &["runs", "list"]);
    assert_eq!(list.code(), 0, "{}", list.describe());
    let show = qaagent_in(root.path(), &["runs", "show", &run_id]);
    assert_eq!(show.code(), 0, "{}", show.describe());
    let latest = qaagent_in(root.path(), &["runs", "show", "latest"]);
    assert_eq!(latest.stdout(), show.stdout(), "latest is the only run");

    let stdout = squash(&show.stdout());
    assert!(
        !show.stdout().contains('\x1b'),
        "a tool's escape sequences are escaped: {stdout:?}"
    );
    assert!(
        stdout.contains(r"Connection refused\x1b]0;pwned\x07\x1b[2J"),
        "{stdout}"
    );
    assert!(
        stdout.contains("FAILED api tests/test_api.py::test_post_order — AssertionError: expected 201, got 500"),
        "{stdout}"
    );
    assert!(
        stdout.contains("assertion (confidence 0.6): Compare the expected and actual values."),
        "{stdout}"
    );
    assert!(
        stdout.contains("ERROR api tests/test_api.py::test_login — ConnectionRefusedError"),
        "{stdout}"
    );
    assert!(
        stdout.contains("unit tests/test_math.py::test_retry — passed on attempt 2"),
        "{stdout}"
    );
    let junit = root.path().join(&run_id).join("artifacts/api/junit.xml");
    assert!(junit.is_file());
    assert!(stdout.contains(&format!("api {}", junit.display())), "{stdout}");

    snapshot_settings(root.path(), &run_id).bind(|| {
        insta::assert_snapshot!("runs_list", list.stdout());
        insta::assert_snapshot!("runs_show", show.stdout());
    });
}

#[test]
fn show_json_is_one_document_with_everything() {
    let root = tempfile::tempdir().expect("runs root");
    let run_id = record_run(root.path());
    let run = Qaagent::new(root.path())
        .args(["runs", "show", "latest", "--json", "--runs-dir"])
        .args([root.path()])
        .run();
    assert_eq!(run.code(), 0, "{}", run.describe());
    let doc = parse_json(&run);
    assert_eq!(doc["run_id"], run_id.as_str());
    assert_eq!(doc["status"], "failed");
    assert_eq!(doc["manifest"]["run_id"], run_id.as_str());
    assert_eq!(doc["manifest"]["counts"]["tests"], 6);
    assert_eq!(doc["manifest"]["target"]["name"], "shop");
    let failures: Vec<&str> = doc["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .map(|r| r["name"].as_str().expect("name"))
        .collect();
    assert_eq!(failures, ["test_post_order", "test_login"]);
    assert_eq!(doc["failures"][0]["status"], "failed");
    assert_eq!(doc["flaky"][0]["name"], "test_retry");
    assert_eq!(doc["flaky"][0]["metadata"]["attempts"], 2);
    assert_eq!(doc["diagnostics"][1]["category"], "connection");
    assert_eq!(doc["artifacts"][0]["suite"], "api");
    assert_eq!(doc["artifacts"][0]["path"], "artifacts/api/junit.xml");
    assert_eq!(doc["artifacts"][0]["exists"], true);
    assert_eq!(doc["problems"], serde_json::json!([]));
    assert_eq!(doc["records"]["total"], 6);
}

/// A runs root holding one sound run and one of each kind of damage.
struct DamagedRuns {
    root: tempfile::TempDir,
    good: String,
}

const INCOMPLETE: &str = "20200101_000001Z";
const TRUNCATED: &str = "20200101_000002Z";
const GARBAGE: &str = "20200101_000003Z";
const BAD_LINE: &str = "20200101_000004Z";

fn damaged_runs() -> DamagedRuns {
    let root = tempfile::tempdir().expect("runs root");
    let good = record_run(root.path());
    let good_dir = root.path().join(&good);
    let manifest = std::fs::read_to_string(good_dir.join("manifest.json")).expect("manifest");
    let records = std::fs::read_to_string(good_dir.join("evidence/tests.jsonl")).expect("records");

    // Killed between creating its directory and writing its manifest.
    std::fs::create_dir(root.path().join(INCOMPLETE)).expect("mkdir");
    for (id, manifest_text, records_text) in [
        // A manifest cut short, as a non-atomic writer leaves it.
        (TRUNCATED, manifest[..manifest.len() / 2].to_string(), records.clone()),
        (GARBAGE, "\u{0}\u{1}garbage".to_string(), records.clone()),
        // A sound manifest whose tests.jsonl has a torn line in the middle.
        (BAD_LINE, manifest.replace(&good, BAD_LINE), {
            let mut lines: Vec<&str> = records.lines().collect();
            lines.insert(2, "{\"test_id\": \"TST-20200101-00");
            lines.join("\n") + "\n"
        }),
    ] {
        let dir = root.path().join(id);
        std::fs::create_dir_all(dir.join("evidence")).expect("mkdir");
        std::fs::write(dir.join("manifest.json"), manifest_text).expect("manifest");
        std::fs::write(dir.join("evidence/tests.jsonl"), records_text).expect("records");
    }
    // Not a run: ignored.
    std::fs::create_dir(root.path().join("notes")).expect("mkdir");
    DamagedRuns { root, good }
}

#[test]
fn damaged_runs_are_listed_as_such() {
    let runs = damaged_runs();
    let list = qaagent_in(runs.root.path(), &["runs", "list"]);
    assert_eq!(list.code(), 0, "{}", list.describe());
    let stdout = squash(&list.stdout());
    let line = |id: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("{id} listed: {stdout}"))
            .to_string()
    };
    assert!(line(&runs.good).contains(" failed 6 3 1 1 1 1 4.20s"), "{stdout}");
    assert!(
        line(INCOMPLETE).contains("incomplete") && line(INCOMPLETE).contains("manifest.json is missing"),
        "{stdout}"
    );
    assert!(
        line(TRUNCATED).contains("corrupt") && line(TRUNCATED).contains("EOF while parsing"),
        "{stdout}"
    );
    assert!(line(GARBAGE).contains("corrupt"), "{stdout}");
    // The listing reads manifests only (their counts are the run's): a bad
    // line in tests.jsonl is for `runs show` to report (below).
    assert!(
        line(BAD_LINE).contains("failed 6 3 1 1 1 1") && !line(BAD_LINE).contains("tests.jsonl"),
        "{stdout}"
    );
    assert!(!stdout.contains("notes"), "{stdout}");
    let ids: Vec<&str> = stdout
        .lines()
        .skip(1)
        .map(|l| l.split(' ').next().expect("id"))
        .collect();
    assert_eq!(
        ids,
        [runs.good.as_str(), BAD_LINE, GARBAGE, TRUNCATED, INCOMPLETE],
        "newest first"
    );

    let limited = qaagent_in(runs.root.path(), &["runs", "list", "--limit", "2"]);
    assert_eq!(limited.code(), 0, "{}", limited.describe());
    assert_eq!(
        limited.stdout().lines().filter(|l| l.starts_with("20")).count(),
        2,
        "{}",
        limited.describe()
    );
    assert!(limited.stdout().contains("2 of 5 runs shown"), "{}", limited.describe());

    let json = qaagent_in(runs.root.path(), &["runs", "list", "--json"]);
    let rows = parse_json(&json);
    let statuses: Vec<&str> = rows
        .as_array()
        .expect("array")
        .iter()
        .map(|r| r["status"].as_str().expect("status"))
        .collect();
    assert_eq!(statuses, ["failed", "failed", "corrupt", "corrupt", "incomplete"]);
}

#[test]
fn damaged_runs_show_what_can_be_read() {
    let runs = damaged_runs();
    for id in [INCOMPLETE, TRUNCATED, GARBAGE] {
        let show = qaagent_in(runs.root.path(), &["runs", "show", id]);
        assert_eq!(show.code(), 1, "damaged evidence: {}", show.describe());
        assert!(
            show.stdout().contains("Problems:\n  manifest.json is"),
            "{}",
            show.describe()
        );
        let json = qaagent_in(runs.root.path(), &["runs", "show", id, "--json"]);
        assert_eq!(json.code(), 1, "{}", json.describe());
        let doc = parse_json(&json);
        assert_eq!(doc["manifest"], Value::Null);
        assert!(
            doc["problems"][0]
                .as_str()
                .is_some_and(|p| p.starts_with("manifest.json is")),
            "{doc}"
        );
    }
    // The records survive a lost manifest.
    let truncated = qaagent_in(runs.root.path(), &["runs", "show", TRUNCATED, "--json"]);
    let doc = parse_json(&truncated);
    assert_eq!(doc["status"], "corrupt");
    assert_eq!(doc["records"]["total"], 6);
    assert_eq!(doc["failures"].as_array().map(Vec::len), Some(2));
    let human = squash(&qaagent_in(runs.root.path(), &["runs", "show", TRUNCATED]).stdout());
    assert!(
        human.contains("tests 6: 3 passed, 1 failed, 1 error, 1 skipped, 1 flaky (read from evidence/tests.jsonl)"),
        "{human}"
    );
    assert!(
        human.contains("FAILED api tests/test_api.py::test_post_order"),
        "{human}"
    );

    let bad_line = qaagent_in(runs.root.path(), &["runs", "show", BAD_LINE, "--json"]);
    assert_eq!(bad_line.code(), 1, "{}", bad_line.describe());
    let doc = parse_json(&bad_line);
    assert_eq!(doc["manifest"]["counts"]["tests"], 6);
    assert_eq!(doc["records"]["total"], 6, "every whole line is still read");
    assert!(
        doc["problems"][0]
            .as_str()
            .is_some_and(|p| p.contains("evidence/tests.jsonl has 1 bad line (line 3:")),
        "{doc}"
    );
}

#[test]
fn unknown_run_ids_are_usage_errors_with_a_hint() {
    let runs = damaged_runs();
    for id in ["20990101_000000Z", "../etc", "yesterday"] {
        let show = qaagent_in(runs.root.path(), &["runs", "show", id]);
        assert_eq!(show.code(), 2, "{}", show.describe());
        assert!(show.stdout().is_empty(), "{}", show.describe());
        assert!(
            show.stderr().contains("hint: `qaagent runs list` shows the run ids"),
            "{}",
            show.describe()
        );
    }
    let empty = tempfile::tempdir().expect("empty root");
    let latest = qaagent_in(empty.path(), &["runs", "show", "latest"]);
    assert_eq!(latest.code(), 2, "{}", latest.describe());
    assert!(latest.stderr().contains("no runs in"), "{}", latest.describe());
    let list = qaagent_in(&empty.path().join("missing"), &["runs", "list"]);
    assert_eq!(list.code(), 0, "{}", list.describe());
    assert!(list.stdout().starts_with("no runs in "), "{}", list.describe());
}

// ---------------------------------------------------------------------------
// init and config check

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// A project with one suite of each kind and no config.
fn new_project() -> tempfile::TempDir {
    let dir = tempfile::Builder::new().prefix("shop-").tempdir().expect("project");
    write(dir.path(), "tests/test_x.py", "def test_x():\n    assert True\n");
    write(
        dir.path(),
        "features/a.feature",
        "Feature: a\n  Scenario: b\n    Given nothing\n",
    );
    write(
        dir.path(),
        "features/steps/steps.py",
        "from behave import given\n\n@given('nothing')\ndef step(context):\n    pass\n",
    );
    write(dir.path(), "e2e/playwright.config.ts", "export default {};\n");
    dir
}

/// Whether the written config has `[tests.NAME]` as a live (uncommented) table.
fn has_table(config: &str, name: &str) -> bool {
    config.lines().any(|line| line.trim() == format!("[tests.{name}]"))
}

#[test]
fn init_writes_a_config_that_config_check_accepts() {
    let project = new_project();
    let init = Qaagent::new(project.path()).args(["init"]).run();
    assert_eq!(init.code(), 0, "{}", init.describe());
    let config = std::fs::read_to_string(project.path().join(".qaagent.toml")).expect("config written");
    let name = project.path().file_name().expect("name").to_string_lossy().into_owned();
    assert!(
        config.contains(&format!(
            "[project]\n# Names the run's target in the evidence (the directory's name by default).\nname = \"{name}\""
        )),
        "{config}"
    );
    assert!(
        has_table(&config, "unit") && config.contains("[tests.unit]\npath = \"tests\"\n"),
        "{config}"
    );
    // behave and e2e are live tables when this qaagent has their runners, commented out otherwise.
    assert!(
        config.contains("[tests.behave]\n") || config.contains("# [tests.behave]\n"),
        "{config}"
    );
    assert!(config.contains("path = \"features\""), "{config}");
    assert!(config.contains("[tests.e2e]"), "{config}");
    assert!(config.contains("path = \"e2e\""), "{config}");
    let stdout = squash(&init.stdout());
    assert!(
        stdout.contains("unit pytest 1 test file (test_*.py, *_test.py) under tests"),
        "{stdout}"
    );
    assert!(
        stdout.contains("behave behave 1 feature file under features"),
        "{stdout}"
    );
    assert!(
        stdout.contains("e2e playwright config e2e/playwright.config.ts"),
        "{stdout}"
    );

    let check = Qaagent::new(project.path()).args(["config", "check"]).run();
    // The config is valid; e2e's Playwright is not installed and has no
    // package.json to install it from, so that suite could not run.
    let e2e_cannot_run = has_table(&config, "e2e");
    assert_eq!(check.code(), i32::from(e2e_cannot_run), "{}", check.describe());
    let stdout = squash(&check.stdout());
    assert!(stdout.contains(&format!("project {name}")), "{stdout}");
    assert!(stdout.contains("unit pytest tests"), "{stdout}");
    let python = venv().join("bin/python");
    assert!(
        stdout.contains(&format!("python {} (from $VIRTUAL_ENV)", python.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains("pytest 9.2.0"),
        "the harness's venv has pytest 9.2.0: {stdout}"
    );
    if has_table(&config, "behave") {
        assert!(stdout.contains("behave behave features"), "{stdout}");
        assert!(
            stdout.contains("behave 1.3.3"),
            "the harness's venv has behave 1.3.3: {stdout}"
        );
    }
    if e2e_cannot_run {
        assert!(stdout.contains("e2e playwright e2e"), "{stdout}");
        assert!(stdout.contains("playwright not found"), "{stdout}");
        assert!(
            stdout.contains("error: 3 suites will run; 1 tool not found"),
            "{stdout}"
        );
    } else {
        assert!(stdout.contains("ok: "), "{stdout}");
    }
}

#[test]
fn init_refuses_to_overwrite_unless_forced() {
    let project = new_project();
    write(project.path(), ".qaagent.toml", "# mine\n");
    let init = Qaagent::new(project.path()).args(["init"]).run();
    assert_eq!(init.code(), 2, "{}", init.describe());
    assert!(
        init.stderr().contains(".qaagent.toml already exists"),
        "{}",
        init.describe()
    );
    assert!(
        init.stderr().contains("hint:") && init.stderr().contains("--force"),
        "{}",
        init.describe()
    );
    assert_eq!(
        std::fs::read_to_string(project.path().join(".qaagent.toml")).expect("kept"),
        "# mine\n"
    );

    let forced = Qaagent::new(project.path()).args(["init", "--force"]).run();
    assert_eq!(forced.code(), 0, "{}", forced.describe());
    assert!(std::fs::read_to_string(project.path().join(".qaagent.toml"))
        .expect("replaced")
        .contains("[tests.unit]"));
}

/// A config in a subdirectory would hide the project's own from every
/// command run there: init names the project's config instead.
#[test]
fn init_below_a_configured_project_refuses_unless_forced() {
    let project = new_project();
    write(project.path(), ".qaagent.toml", "# the project's\n");
    let sub = project.path().join("services/api");
    std::fs::create_dir_all(&sub).expect("subdir");
    let init = Qaagent::new(&sub).args(["init"]).run();
    assert_eq!(init.code(), 2, "{}", init.describe());
    let config = project.path().join(".qaagent.toml");
    assert!(
        init.stderr()
            .contains(&format!("{} already configures this directory", config.display())),
        "{}",
        init.describe()
    );
    assert!(
        init.stderr().contains("hint:") && init.stderr().contains("--force"),
        "{}",
        init.describe()
    );
    assert!(!sub.join(".qaagent.toml").exists(), "nothing written");

    let forced = Qaagent::new(&sub).args(["init", "--force"]).run();
    assert_eq!(forced.code(), 0, "{}", forced.describe());
    assert!(sub.join(".qaagent.toml").is_file());
}

#[test]
fn init_in_an_empty_project_writes_a_valid_skeleton() {
    let project = tempfile::tempdir().expect("project");
    let init = Qaagent::new(project.path()).args(["init"]).run();
    assert_eq!(init.code(), 0, "{}", init.describe());
    assert!(
        init.stdout().contains("warning: found no test suites"),
        "{}",
        init.describe()
    );
    let check = Qaagent::new(project.path()).args(["config", "check"]).run();
    assert_eq!(check.code(), 0, "{}", check.describe());
    assert!(
        check.stdout().contains("no suites: add a [tests.NAME] table"),
        "{}",
        check.describe()
    );
}

#[test]
fn config_check_reports_errors_with_their_location() {
    let project = tempfile::tempdir().expect("project");
    write(
        project.path(),
        ".qaagent.toml",
        "[project]\nname = \"shop\"\n\n[tests.unit]\npath = \"tests\"\npyhton = \"x\"\n",
    );
    let check = Qaagent::new(project.path()).args(["config", "check"]).run();
    assert_eq!(check.code(), 2, "{}", check.describe());
    assert!(check.stdout().is_empty(), "{}", check.describe());
    let config = project.path().join(".qaagent.toml");
    assert!(
        check.stderr().contains(&format!("error: {}:6:1: ", config.display())),
        "{}",
        check.describe()
    );
    assert!(check.stderr().contains("pyhton"), "{}", check.describe());

    write(
        project.path(),
        ".qaagent.toml",
        "[project]\nname = \"shop\"\n[run]\ntimeout = -1\n",
    );
    let check = Qaagent::new(project.path()).args(["config", "check"]).run();
    assert_eq!(check.code(), 2, "{}", check.describe());
    assert!(
        check.stderr().contains(":4:11: timeout must be greater than 0 seconds"),
        "{}",
        check.describe()
    );

    let nowhere = tempfile::tempdir().expect("no config");
    let check = Qaagent::new(nowhere.path()).args(["config", "check"]).run();
    assert_eq!(check.code(), 2, "{}", check.describe());
    assert!(check.stderr().contains("qaagent init"), "{}", check.describe());
}

#[test]
fn config_check_fails_on_a_missing_tool_or_path_with_a_hint_for_each() {
    let project = tempfile::tempdir().expect("project");
    write(
        project.path(),
        ".qaagent.toml",
        "[project]\nname = \"shop\"\n[tests.unit]\npath = \"tests\"\npython = \"no-such-python\"\n[tests.old]\nrunner = \"pytest\"\npath = \"legacy\"\nenabled = false\n",
    );
    let check = Qaagent::new(project.path()).args(["config", "check"]).run();
    assert_eq!(check.code(), 1, "the run would fail unit: {}", check.describe());
    let stdout = squash(&check.stdout());
    let tests = project.path().join("tests");
    assert!(
        stdout.contains(&format!("error: path {} does not exist", tests.display())),
        "{stdout}"
    );
    assert!(stdout.contains("enabled = false"), "{stdout}");
    assert!(
        stdout.contains("error: 1 suite will run, 1 disabled; 1 tool not found; 1 suite path missing"),
        "{stdout}"
    );

    std::fs::create_dir(&tests).expect("mkdir tests");
    let check = Qaagent::new(project.path()).args(["config", "check"]).run();
    assert_eq!(check.code(), 1, "pytest cannot run: {}", check.describe());
    let stdout = squash(&check.stdout());
    assert!(!stdout.contains("error: path"), "{stdout}");
    assert!(stdout.contains("python not found"), "{stdout}");
    assert!(stdout.contains("pytest not found"), "{stdout}");
    assert!(stdout.contains("hint: install Python 3 and pytest"), "{stdout}");
    assert!(stdout.contains("old pytest legacy (disabled)"), "{stdout}");
    assert!(
        stdout.contains("error: 1 suite will run, 1 disabled; 1 tool not found"),
        "{stdout}"
    );
}

/// Playwright that the run will install itself is not "not found": config
/// check says what the run will do first, and the suite can run.
#[test]
fn config_check_says_when_the_run_will_install_playwright() {
    let project = tempfile::tempdir().expect("project");
    for file in ["e2e/package.json", "e2e/package-lock.json", "e2e/playwright.config.ts"] {
        qaagent_tests::copy_fixture_part("playwright-basic", file, project.path());
    }
    write(
        project.path(),
        ".qaagent.toml",
        "[project]\nname = \"shop\"\n[tests.e2e]\npath = \"e2e\"\n",
    );
    let check = Qaagent::new(project.path()).args(["config", "check"]).run();
    assert_eq!(check.code(), 0, "{}", check.describe());
    let stdout = squash(&check.stdout());
    let e2e = project.path().join("e2e");
    assert!(
        stdout.contains(&format!(
            "playwright not installed yet: the run will `npm ci` in {} first",
            e2e.display()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("ok: 1 suite will run"), "{stdout}");
}

// ---------------------------------------------------------------------------
// A real run

#[test]
fn runs_show_reads_a_real_run_all() {
    let project = fixture("pytest-project");
    let runs_root = tempfile::tempdir().expect("runs root");
    let run = Qaagent::new(project.path())
        .env("QAAGENT_RUNS_DIR", runs_root.path())
        .args(["run-all", "--suite", "failing", "--suite", "passing"])
        .run();
    assert_eq!(run.code(), 1, "{}", run.describe());

    let list = qaagent_in(runs_root.path(), &["runs", "list"]);
    assert_eq!(list.code(), 0, "{}", list.describe());
    assert!(
        squash(&list.stdout()).contains(" failed 10 7 2 0 1 0 "),
        "{}",
        list.describe()
    );

    let show = qaagent_in(runs_root.path(), &["runs", "show", "latest", "--json"]);
    assert_eq!(show.code(), 0, "{}", show.describe());
    let doc = parse_json(&show);
    assert_eq!(doc["manifest"]["target"]["name"], "pytest-fixture");
    let failures: Vec<&str> = doc["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .filter_map(|r| r["metadata"]["selector"].as_str())
        .collect();
    assert!(
        failures
            .iter()
            .any(|s| s.ends_with("test_orders.py::test_post_orders_invalid_data")),
        "{failures:?}"
    );
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(
        doc["artifacts"]
            .as_array()
            .expect("artifacts")
            .iter()
            .any(|a| a["path"] == "artifacts/passing/junit.xml"),
        "{doc}"
    );
    let human = squash(&qaagent_in(runs_root.path(), &["runs", "show", "latest"]).stdout());
    assert!(
        human.contains("FAIL failing 1 passed, 2 failed, 0 errors, 0 skipped"),
        "{human}"
    );
    assert!(human.contains("AssertionError: quantity must be positive"), "{human}");
}
