//! Diagnostics through `qaagent run-all` with real pytest: a failure is
//! classified from its type and message, never the test's name, trying
//! DESIGN.md's categories in order; an assertion stays an assertion unless its
//! message names an earlier category; `runs show` labels the confidence.

use qaagent_tests::{project_with, read_json, Qaagent};

const CONFIG: &str = r#"
[project]
name = "diagnostics"

[tests.unit]
path = "tests"
"#;

const TESTS: &str = r#"
def test_flaky_checkout():
    raise RuntimeError("payment service returned garbage")


def test_log_is_clean():
    log = "parser said: ValueError: bad"
    assert "ValueError" not in log


def test_parse_quantity():
    int("three")


def test_create_order_status():
    status = 401
    assert status == 422, "create order returned 401 Unauthorized"


def test_list_fills():
    items = [1, 2]
    assert len(items) == 3, "waiting for the list to fill"


def test_list_count():
    items = [1, 2]
    assert len(items) == 3
"#;

#[test]
fn failures_are_classified_by_type_and_message_not_by_name() {
    let project = project_with(
        "diagnostics",
        &[(".qaagent.toml", CONFIG), ("tests/test_shop.py", TESTS)],
    );
    let run = Qaagent::new(project.path()).args(["run-all"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let diagnostics = read_json(&run.run_dir().join("evidence/diagnostics.json"));
    let category = |test: &str| {
        let found = diagnostics
            .as_array()
            .expect("an array")
            .iter()
            .find(|d| d["test_name"].as_str().is_some_and(|name| name.ends_with(test)))
            .unwrap_or_else(|| panic!("no diagnosis of {test}: {diagnostics:#}"));
        found["category"].as_str().expect("a category").to_string()
    };
    // "flaky" is in the test's name and its traceback only.
    assert_eq!(category("test_flaky_checkout"), "unknown");
    // `ValueError` is a word of the assertion, not the failure's type.
    assert_eq!(category("test_log_is_clean"), "assertion");
    assert_eq!(category("test_parse_quantity"), "data");
    assert_eq!(category("test_create_order_status"), "auth");
    assert_eq!(category("test_list_fills"), category("test_list_count"));
    assert_eq!(category("test_list_count"), "assertion");

    let show = Qaagent::with_runs_dir(project.path(), run.runs_dir.path())
        .args(["runs", "show", "latest"])
        .run();
    assert_eq!(show.code(), 0, "{}", show.describe());
    let stdout = show.stdout();
    assert!(stdout.contains("auth (confidence 0.6): "), "{stdout}");
    assert!(!stdout.contains("(0.6)"), "no bare confidence: {stdout}");
}
