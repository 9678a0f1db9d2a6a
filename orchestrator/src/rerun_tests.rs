//! Unit tests of [`super`]: failures read from recorded runs.

use std::time::Duration;

use evidence::{Run, RunInfo, RunStatus};
use runner_api::{Runner, RunnerError, SettingsError, SuiteContext, SuiteOutcome, SuiteResult, TestCase, TestStatus};

use super::*;
use crate::plan::Overrides;
use crate::registry::Registry;

fn case(name: &str, status: TestStatus, selector: Option<&str>) -> TestCase {
    let mut case = TestCase::new(name, "c", status);
    case.selector = selector.map(str::to_string);
    case
}

fn suite(name: &str, cases: Vec<TestCase>) -> SuiteResult {
    let mut result = SuiteResult::new(name, "pytest");
    result.cases = cases;
    result
}

/// Records a finished run of `results` under `root`; returns its id.
fn record_run(root: &Path, results: Vec<SuiteResult>) -> String {
    record_run_as(root, results, RunStatus::Failed)
}

/// Records a run of `results` under `root` that ended as `status`; returns its id.
fn record_run_as(root: &Path, results: Vec<SuiteResult>, status: RunStatus) -> String {
    let project = tempfile::tempdir().expect("tempdir");
    let run = Run::create(
        root,
        RunInfo {
            project_name: "p".into(),
            project_path: project.path().to_path_buf(),
            suites: results.iter().map(|r| r.suite.clone()).collect(),
            qaagent_version: "0".into(),
            partition: None,
        },
    )
    .expect("run created");
    let writer = run.start_writer().expect("writer");
    let run_id = writer.run_id().to_string();
    for (index, result) in results.into_iter().enumerate() {
        writer
            .suite_finished(index, crate::evidence_map::suite_record(result))
            .expect("sent");
    }
    writer.finish(status, Duration::ZERO).expect("finished");
    run_id
}

#[test]
fn failed_tests_by_selector_and_whole_suites_when_they_cannot_be_named() {
    let root = tempfile::tempdir().expect("tempdir");
    let mut flaky = case("d", TestStatus::Passed, Some("t.py::d"));
    flaky.flaky = true;
    let unit = suite(
        "unit",
        vec![
            case("a", TestStatus::Passed, Some("t.py::a")),
            case("b", TestStatus::Failed, Some("t.py::b[x y]")),
            case("c", TestStatus::Error, Some("t.py::c")),
            flaky,
            case("e", TestStatus::Skipped, Some("t.py::e")),
        ],
    );
    let behave = suite("behave", vec![case("unnamed", TestStatus::Failed, None)]);
    let mut e2e = SuiteResult::errored("e2e", "playwright", "npx crashed");
    e2e.cases.clear();
    let api = suite("api", vec![case("ok", TestStatus::Passed, Some("api::ok"))]);
    let mut docs = suite("docs", vec![case("slow", TestStatus::Failed, Some("docs::slow"))]);
    docs.set_error(SuiteOutcome::TimedOut, "timed out after 5 s");
    let run_id = record_run(root.path(), vec![unit, behave, e2e, api, docs]);

    let failed = failed_run(root.path(), "latest", Unfinished::Refuse).expect("read");
    assert_eq!(failed.run_id, run_id);
    assert_eq!(failed.project_name, "p");
    let expected: BTreeMap<String, SuiteRerun> = [
        (
            "unit",
            Selection::Only(vec!["t.py::b[x y]".into(), "t.py::c".into()]),
            2,
        ),
        ("behave", Selection::All, 1),
        ("e2e", Selection::All, 0),
        // Timed out: the tests after the one it named never ran.
        ("docs", Selection::All, 1),
    ]
    .into_iter()
    .map(|(name, selection, failed)| {
        (
            name.to_string(),
            SuiteRerun {
                whole: match name {
                    "e2e" => Some("it errored: its tool did not finish"),
                    "docs" => Some("it timed out"),
                    _ => None,
                },
                // Each selected test's recorded name, for the re-run to check.
                names: match &selection {
                    Selection::Only(selectors) => selectors
                        .iter()
                        .map(|selector| {
                            let name = selector.rsplit("::").next().unwrap_or_default();
                            (selector.clone(), name.split('[').next().unwrap_or_default().to_string())
                        })
                        .collect(),
                    Selection::All => BTreeMap::new(),
                },
                selection,
                failed,
            },
        )
    })
    .collect();
    assert_eq!(failed.suites, expected);
    assert_eq!(failed.failed_tests(), 4);
    assert_eq!(failed_selectors(root.path(), &run_id).expect("by id"), expected);
}

#[test]
fn a_run_without_failures_has_nothing_to_rerun_unless_it_failed() {
    let root = tempfile::tempdir().expect("tempdir");
    let passing = || vec![suite("unit", vec![case("a", TestStatus::Passed, Some("t.py::a"))])];
    let run_id = record_run_as(root.path(), passing(), RunStatus::Passed);
    let failed = failed_run(root.path(), "latest", Unfinished::Refuse).expect("read");
    assert_eq!(failed.run_id, run_id);
    assert!(failed.suites.is_empty());
    // Failed all the same (a flaky test under `flaky = "fail"`): the suite runs whole.
    let root = tempfile::tempdir().expect("tempdir");
    record_run(root.path(), passing());
    let failed = failed_run(root.path(), "latest", Unfinished::Refuse).expect("read");
    let unit = &failed.suites["unit"];
    assert_eq!(unit.selection, Selection::All);
    assert_eq!(unit.whole, Some("that run failed without a failing test"));
}

fn unfinished_why(root: &Path) -> String {
    match failed_run(root, "latest", Unfinished::Refuse) {
        Err(RerunError::Unfinished { why, .. }) => why,
        other => panic!("expected an unfinished run: {other:?}"),
    }
}

#[test]
fn an_interrupted_run_is_refused_unless_its_recorded_failures_are_taken() {
    let root = tempfile::tempdir().expect("tempdir");
    let failing = suite("unit", vec![case("b", TestStatus::Failed, Some("t.py::b"))]);
    record_run_as(root.path(), vec![failing], RunStatus::Interrupted);
    assert_eq!(unfinished_why(root.path()), "it was interrupted");
    let taken = failed_run(root.path(), "latest", Unfinished::Take).expect("taken");
    assert_eq!(taken.unfinished.as_deref(), Some("it was interrupted"));
    assert_eq!(taken.failed_tests(), 1);
}

#[test]
fn suites_a_crashed_run_did_not_finish_run_whole() {
    let root = tempfile::tempdir().expect("tempdir");
    let mut crashed = suite("behave", vec![case("a2", TestStatus::Error, Some("f/a.feature:4"))]);
    crashed.set_error(SuiteOutcome::Errored, "behave exited with code 1");
    let unit = suite("unit", vec![case("b", TestStatus::Failed, Some("t.py::b"))]);
    let api = suite("api", vec![case("ok", TestStatus::Passed, Some("api::ok"))]);
    let docs = SuiteResult::skipped("docs", "pytest", "not started: the run stopped");
    let run_id = record_run_as(root.path(), vec![crashed, unit, api, docs], RunStatus::Crashed);
    // The run planned one more suite, which it never recorded.
    let manifest = root.path().join(&run_id).join("manifest.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).expect("manifest")).expect("json");
    json["suite_order"]
        .as_array_mut()
        .expect("suite_order")
        .push("e2e".into());
    std::fs::write(&manifest, json.to_string()).expect("manifest written");

    let taken = failed_run(root.path(), "latest", Unfinished::Take).expect("taken");
    let whole: Vec<(&str, &Selection, Option<&str>)> = (taken.suites.iter())
        .map(|(name, rerun)| (name.as_str(), &rerun.selection, rerun.whole))
        .collect();
    let only_b = Selection::Only(vec!["t.py::b".into()]);
    assert_eq!(
        whole,
        [
            // Crashed while running a2: the scenarios after it never ran.
            ("behave", &Selection::All, Some("it errored: its tool did not finish")),
            ("docs", &Selection::All, Some("it did not run before that run stopped")),
            ("e2e", &Selection::All, Some("it did not finish in that run")),
            ("unit", &only_b, None),
        ]
    );
}

#[test]
fn a_run_that_stopped_without_failures_runs_everything_it_planned() {
    let root = tempfile::tempdir().expect("tempdir");
    let api = suite("api", vec![case("ok", TestStatus::Passed, Some("api::ok"))]);
    record_run_as(root.path(), vec![api], RunStatus::Crashed);
    let taken = failed_run(root.path(), "latest", Unfinished::Take).expect("taken");
    assert_eq!(taken.suites.len(), 1, "{taken:?}");
    assert_eq!(taken.suites["api"].selection, Selection::All);
    assert_eq!(
        taken.suites["api"].whole,
        Some("that run did not finish and recorded no failure")
    );
}

#[test]
fn records_short_of_the_manifest_or_unreadable_make_a_run_unfinished() {
    let root = tempfile::tempdir().expect("tempdir");
    let cases = vec![
        case("a", TestStatus::Passed, Some("t.py::a")),
        case("b", TestStatus::Failed, Some("t.py::b")),
    ];
    let run_id = record_run(root.path(), vec![suite("unit", cases)]);
    let tests = root.path().join(&run_id).join(evidence::TESTS_FILE);
    let text = std::fs::read_to_string(&tests).expect("records");
    let lines: Vec<&str> = text.lines().collect();
    // The failure's line lost, as a disk that filled up may leave it.
    std::fs::write(&tests, format!("{}\n", lines[0])).expect("truncate");
    assert_eq!(
        unfinished_why(root.path()),
        "evidence/tests.jsonl holds 1 of the 2 records its manifest counts"
    );
    let taken = failed_run(root.path(), "latest", Unfinished::Take).expect("taken");
    // The failure is lost, but "nothing failed" it cannot say: all again.
    assert_eq!(
        (
            taken.suites.keys().map(String::as_str).collect::<Vec<_>>(),
            &taken.suites["unit"].selection
        ),
        (vec!["unit"], &Selection::All)
    );
    std::fs::write(&tests, format!("{}\n{{\"test_id\": \"TST\n", lines[0])).expect("tear");
    assert_eq!(
        unfinished_why(root.path()),
        "evidence/tests.jsonl has 1 unreadable line(s)"
    );
}

#[test]
fn missing_runs_are_typed_errors() {
    let root = tempfile::tempdir().expect("tempdir");
    let err = failed_selectors(root.path(), "latest").expect_err("no runs");
    assert!(
        matches!(
            &err,
            RerunError::Evidence {
                source: EvidenceError::NoRuns { .. },
                ..
            }
        ),
        "{err:?}"
    );
    let err = failed_selectors(root.path(), "20990101_000000Z").expect_err("no such run");
    assert!(
        matches!(
            &err,
            RerunError::Evidence {
                source: EvidenceError::RunNotFound { .. },
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("20990101_000000Z"), "{err}");
}

struct Fake;

impl Runner for Fake {
    fn name(&self) -> &str {
        "fake"
    }
    fn check_settings(&self, _settings: &toml::Table) -> Result<(), SettingsError> {
        Ok(())
    }
    fn tool_version(&self, _ctx: &SuiteContext) -> Option<String> {
        None
    }
    fn run(&self, ctx: &SuiteContext) -> Result<SuiteResult, RunnerError> {
        Ok(SuiteResult::new(&ctx.suite, "fake"))
    }
}

#[test]
fn restricting_a_plan_keeps_failing_suites_in_order_with_their_selection() {
    let project = tempfile::tempdir().expect("tempdir");
    let file = project.path().join(".qaagent.toml");
    let text = r#"
        [project]
        name = "p"
        [run]
        parallel = true
        suite_order = ["unit", "behave", "e2e"]
        [tests.unit]
        runner = "fake"
        path = "."
        [tests.behave]
        runner = "fake"
        path = "."
        [tests.e2e]
        runner = "fake"
        path = "."
    "#;
    let mut registry = Registry::new();
    registry.register(Fake);
    let config = crate::config::parse(&file, text, &registry).expect("config");
    let mut plan = Plan::new(&config, &registry, &Overrides::default(), None).expect("plan");
    assert_eq!(plan.settings.workers, 3);
    let mut failures: BTreeMap<String, SuiteRerun> = [
        ("e2e", Selection::Only(vec!["[chromium] › a.spec.ts › x".into()])),
        ("unit", Selection::All),
        ("gone", Selection::All),
    ]
    .into_iter()
    .map(|(name, selection)| {
        (
            name.to_string(),
            SuiteRerun {
                selection,
                failed: 1,
                names: BTreeMap::new(),
                whole: None,
            },
        )
    })
    .collect();
    let missing = restrict_to_failures(&mut plan, &mut failures);
    assert_eq!(missing, ["gone"]);
    assert_eq!(plan.names(), ["unit", "e2e"]);
    let indices: Vec<usize> = plan.suites.iter().map(|suite| suite.index).collect();
    assert_eq!(indices, [0, 1]);
    assert_eq!(plan.suites[0].selection, Selection::All);
    assert_eq!(
        plan.suites[1].selection,
        Selection::Only(vec!["[chromium] › a.spec.ts › x".into()])
    );
    assert_eq!(plan.settings.workers, 2);
}

#[test]
fn outline_rows_are_told_by_behave_s_row_names() {
    for name in [
        "vals -- @1.2 ",
        "vals -- @1.2",
        "vals -- @10.3 Examples: big",
        "a -- @b -- @2.1",
    ] {
        assert!(is_outline_row(name), "{name:?}");
    }
    for name in ["vals", "vals -- @1", "vals -- @x.2", "vals -- @1.", "vals - @1.2"] {
        assert!(!is_outline_row(name), "{name:?}");
    }
}

#[test]
fn a_failed_test_sharing_its_name_reruns_its_suite_whole() {
    let root = tempfile::tempdir().expect("tempdir");
    record_run(
        root.path(),
        vec![
            suite(
                "unit",
                vec![
                    case("log in", TestStatus::Failed, Some("a.feature:5")),
                    case("log in", TestStatus::Passed, Some("a.feature:8")),
                ],
            ),
            suite("other", vec![case("x", TestStatus::Failed, Some("t.py::x"))]),
        ],
    );
    let failed = failed_run(root.path(), "latest", Unfinished::Refuse).expect("read");
    let unit = &failed.suites["unit"];
    assert_eq!(unit.selection, Selection::All);
    assert_eq!(unit.whole, Some("another of its tests has the name of a failed one"));
    assert_eq!(
        failed.suites["other"].selection,
        Selection::Only(vec!["t.py::x".to_string()])
    );
}
