//! What a stored run says must be what run-all said, through the real
//! binary and real pytest: a run in which no test ran is not stored as
//! `passed`.

use std::path::Path;

use qaagent_tests::{project_with, read_json, squash, Qaagent};
use serde_json::Value;

const CONFIG: &str = "[project]\nname = \"verdict\"\n\n[tests.unit]\nrunner = \"pytest\"\npath = \"tests\"\n";

/// A conftest that deselects every test, as a plugin or a marker
/// expression selecting nothing would.
const DESELECT_ALL: &str = "def pytest_collection_modifyitems(config, items):\n    \
                            config.hook.pytest_deselected(items=list(items))\n    items[:] = []\n";

fn run_all(project: &Path, runs: &Path, args: &[&str]) -> qaagent_tests::RunOutput {
    Qaagent::with_runs_dir(project, runs)
        .args(["run-all", "--no-progress"])
        .args(args)
        .run()
}

fn runs(project: &Path, runs: &Path, args: &[&str]) -> qaagent_tests::RunOutput {
    Qaagent::with_runs_dir(project, runs).args(["runs"]).args(args).run()
}

#[test]
fn a_run_in_which_no_test_ran_is_stored_failed_and_runs_show_exits_1() {
    let project = project_with(
        "no-tests",
        &[
            (".qaagent.toml", CONFIG),
            ("tests/test_a.py", "def test_1():\n    assert 0\n"),
            ("tests/conftest.py", DESELECT_ALL),
        ],
    );
    let root = tempfile::tempdir().expect("runs");
    let run = run_all(project.path(), root.path(), &[]);
    assert_eq!(run.code(), 4, "{}", run.describe());
    assert!(run.stderr().contains("no tests ran"), "{}", run.describe());
    assert_eq!(run.manifest()["status"], "failed", "{:#}", run.manifest());

    let show = runs(project.path(), root.path(), &["show", "latest"]);
    assert_eq!(show.code(), 1, "{}", show.describe());
    let stdout = squash(&show.stdout());
    assert!(stdout.contains(": failed"), "{stdout}");
    assert!(stdout.contains("Problems:\n no tests ran"), "{stdout}");
    let json = runs(project.path(), root.path(), &["show", "latest", "--json"]);
    assert_eq!(json.code(), 1, "{}", json.describe());
    let doc: Value = serde_json::from_str(&json.stdout()).expect("one JSON document");
    assert_eq!(doc["status"], "failed");

    let list = runs(project.path(), root.path(), &["list"]);
    assert_eq!(list.code(), 0, "{}", list.describe());
    let row = squash(&list.stdout());
    assert!(
        row.contains(" failed 0 0 0 0 0 0 ") && row.contains("no tests ran"),
        "{row}"
    );

    // Accepted with `--no-tests=warn`, the same run is green, stored and shown.
    let warned = run_all(project.path(), root.path(), &["--no-tests=warn"]);
    assert_eq!(warned.code(), 0, "{}", warned.describe());
    let manifest = read_json(&warned.run_dirs().last().expect("a second run").join("manifest.json"));
    assert_eq!(manifest["status"], "passed", "{manifest:#}");
    let show = runs(project.path(), root.path(), &["show", "latest"]);
    assert_eq!(show.code(), 0, "{}", show.describe());
}

#[test]
fn a_filter_that_selects_nothing_is_stored_failed() {
    let config = format!("{CONFIG}args = [\"-k\", \"nomatch\"]\n");
    let project = project_with(
        "no-match",
        &[
            (".qaagent.toml", &config),
            ("tests/test_a.py", "def test_1():\n    pass\n"),
        ],
    );
    let root = tempfile::tempdir().expect("runs");
    let run = run_all(project.path(), root.path(), &[]);
    assert_eq!(run.code(), 4, "{}", run.describe());
    assert_eq!(run.manifest()["status"], "failed", "{:#}", run.manifest());
}
