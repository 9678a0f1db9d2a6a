//! `run-all --rerun-failed [RUN]`: which tests of an earlier run failed, and
//! a plan that runs only those, with the selectors that run recorded.
//!
//! The choice mirrors what a retry re-runs ([`crate::attempts::next_selection`]):
//! a suite's failed and errored tests by their `metadata.selector`; the whole
//! suite when one of its failures has no selector, or when the suite errored,
//! timed out or was interrupted: its tool did not finish, and the tests it
//! never got to are not among the failures it named.
//!
//! Only a run that ended and recorded everything (`passed` or `failed`, with
//! every record its manifest counts) says what failed: a run that was
//! interrupted, crashed, is still running or could not write all its evidence
//! may lack failures — and "nothing failed" from it would be a false green. Re-running
//! from one is refused unless the caller asks for [`Unfinished::Take`]; then
//! every suite it did not finish (no outcome recorded, or skipped as the run
//! stopped) runs whole, and when it recorded no failure at all, every suite
//! it planned does.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use evidence::{EvidenceError, LoadedRun, RunStatus, SuiteOutcome};
use runner_api::Selection;

use crate::plan::Plan;

/// Why the failures of an earlier run cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum RerunError {
    /// The run cannot be found or its manifest or records cannot be read.
    #[error("cannot read the failures of run {run}: {source}")]
    Evidence {
        /// The run asked for (an id or `latest`).
        run: String,
        /// What went wrong.
        #[source]
        source: EvidenceError,
    },
    /// The run did not finish, or its records are incomplete, so what
    /// failed in it is not known.
    #[error("run {run_id} did not finish ({why}): what failed in it is not known")]
    Unfinished {
        /// The run's id.
        run_id: String,
        /// What it is: `it crashed`, `it was interrupted`, `tests.jsonl has 2 bad lines`, …
        why: String,
    },
}

/// Whether failures may be taken from a run that did not finish.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Unfinished {
    /// Refuse it: [`RerunError::Unfinished`].
    #[default]
    Refuse,
    /// Take the failures it recorded (skipping records that do not read).
    Take,
}

/// What to run again of one suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteRerun {
    /// The failed tests by selector, or the whole suite.
    pub selection: Selection,
    /// How many of its tests failed or errored (0 when it errored without naming one).
    pub failed: usize,
    /// The recorded name of each selected test, by selector: the re-run
    /// must run these tests, not whatever a selector points at now.
    pub names: BTreeMap<String, String>,
    /// Why the whole suite runs again when that is not for want of
    /// selectors: `it timed out`, `it did not finish in that run`, …
    pub whole: Option<&'static str>,
}

/// The failures of one earlier run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedRun {
    /// The run's id (`latest` resolved).
    pub run_id: String,
    /// The name of the project the run tested (its manifest's `target.name`):
    /// runs roots are shared between projects, so `latest` may be another's.
    pub project_name: String,
    /// What to re-run, by suite name; empty when nothing failed.
    pub suites: BTreeMap<String, SuiteRerun>,
    /// Why the run is not whole, when it was taken all the same ([`Unfinished::Take`]).
    pub unfinished: Option<String>,
}

impl FailedRun {
    /// Failed and errored tests over all suites.
    pub fn failed_tests(&self) -> usize {
        self.suites.values().map(|suite| suite.failed).sum()
    }
}

/// The suites of run `run` (an id or `latest`) under the runs root `root`
/// that had failures, with what to re-run of each. A run that did not finish
/// is an error.
pub fn failed_selectors(root: &Path, run: &str) -> Result<BTreeMap<String, SuiteRerun>, RerunError> {
    failed_run(root, run, Unfinished::Refuse).map(|failed| failed.suites)
}

/// Like [`failed_selectors`], also naming the run (useful when `run` is
/// `latest`), and taking the failures of a run that did not finish when
/// `unfinished` says so.
pub fn failed_run(root: &Path, run: &str, unfinished: Unfinished) -> Result<FailedRun, RerunError> {
    let evidence = |source| RerunError::Evidence {
        run: run.to_string(),
        source,
    };
    let loaded = evidence::load_run(root, run).map_err(evidence)?;
    let stopped = not_finished(&loaded);
    let gathered = failures(&loaded, stopped.is_some()).map_err(evidence)?;
    let why = stopped.or(gathered.incomplete);
    if let (Some(why), Unfinished::Refuse) = (&why, unfinished) {
        return Err(RerunError::Unfinished {
            run_id: loaded.run_id,
            why: why.clone(),
        });
    }
    Ok(FailedRun {
        run_id: loaded.run_id,
        project_name: loaded.manifest.target.name,
        suites: gathered.suites,
        unfinished: why,
    })
}

/// Why `run` did not finish, by its status. A run without a status (the
/// Python qaagent's, whose manifest was written once, at the end) finished.
fn not_finished(run: &LoadedRun) -> Option<String> {
    let why = match run.status()? {
        RunStatus::Passed | RunStatus::Failed => return None,
        RunStatus::Running => "it is still running".to_string(),
        RunStatus::Interrupted => "it was interrupted".to_string(),
        RunStatus::Crashed => "it crashed".to_string(),
        RunStatus::Incomplete => match &run.manifest.incomplete_reason {
            Some(reason) => format!("its evidence is incomplete: {reason}"),
            None => "its evidence is incomplete".to_string(),
        },
    };
    Some(why)
}

/// The suites `run` planned: its `suite_order`, or for a manifest without
/// one (the Python qaagent's) the suites it recorded.
fn planned(run: &LoadedRun) -> Vec<String> {
    if run.manifest.suite_order.is_empty() {
        run.manifest.suites.iter().map(|suite| suite.name.clone()).collect()
    } else {
        run.manifest.suite_order.clone()
    }
}

/// Why a suite that ended as `outcome` runs whole again, if it does: its tool
/// did not finish, so its failures do not name every test it left unrun. A
/// suite skipped in a run that stopped (`stopped`) may never have started.
fn whole_after(outcome: SuiteOutcome, stopped: bool) -> Option<&'static str> {
    match outcome {
        SuiteOutcome::Errored => Some("it errored: its tool did not finish"),
        SuiteOutcome::TimedOut => Some("it timed out"),
        SuiteOutcome::Interrupted => Some("it was interrupted"),
        SuiteOutcome::Skipped if stopped => Some("it did not run before that run stopped"),
        SuiteOutcome::Skipped | SuiteOutcome::Passed | SuiteOutcome::Failed => None,
    }
}

/// A suite's failures as they are gathered.
#[derive(Default)]
struct Gathered {
    selectors: Vec<String>,
    seen: HashSet<String>,
    names: BTreeMap<String, String>,
    failed: usize,
    unselectable: bool,
    whole: Option<&'static str>,
}

/// The failures of a run, and whether its records are short of what its
/// manifest counts.
struct Failures {
    suites: BTreeMap<String, SuiteRerun>,
    /// Why the records are incomplete.
    incomplete: Option<String>,
}

/// The failures of `run`; `stopped` when it did not finish, so that the
/// suites it did not finish run whole.
fn failures(run: &LoadedRun, stopped: bool) -> Result<Failures, EvidenceError> {
    let mut gathered: BTreeMap<String, Gathered> = BTreeMap::new();
    let (mut read, mut bad) = (0_u64, 0_u64);
    let mut statuses = evidence::StatusTally::default();
    for record in run.records()? {
        let record = match record {
            Ok(record) => record,
            Err(EvidenceError::BadRecord { line, source, .. }) => {
                log::warn!("run {}: tests.jsonl line {line} does not read: {source}", run.run_id);
                bad += 1;
                continue;
            }
            Err(err) => return Err(err),
        };
        read += 1;
        statuses.add(record.status);
        if !record.status.is_failure() {
            continue;
        }
        // Records of the Python qaagent may lack suite_name; their kind is the suite.
        let suite = record.suite_name.clone().unwrap_or_else(|| record.kind.clone());
        let entry = gathered.entry(suite).or_default();
        entry.failed += 1;
        match record.metadata.get("selector").and_then(|value| value.as_str()) {
            Some(selector) if !selector.is_empty() => {
                if entry.seen.insert(selector.to_string()) {
                    entry.selectors.push(selector.to_string());
                    entry.names.insert(selector.to_string(), record.name.clone());
                }
            }
            _ => entry.unselectable = true,
        }
    }
    for suite in &run.manifest.suites {
        if let Some(why) = whole_after(suite.outcome, stopped) {
            gathered.entry(suite.name.clone()).or_default().whole = Some(why);
        }
    }
    if run
        .manifest
        .extra
        .get("partial")
        .is_some_and(|partial| !partial.is_null())
    {
        // A merge of some shares only: the missing or unfinished ones may
        // have held tests of any suite, which no record names.
        for name in planned(run) {
            gathered.entry(name).or_default().whole = Some("a share of that merged run is missing or did not finish");
        }
    }
    if stopped {
        for name in planned(run) {
            if !run.manifest.suites.iter().any(|suite| suite.name == name) {
                // Still running, or not started, when the run stopped: the
                // failures it streamed, if any, are not all of it.
                gathered.entry(name).or_default().whole = Some("it did not finish in that run");
            }
        }
    }
    let counted = run.manifest.counts.tests;
    let incomplete = if bad > 0 {
        Some(format!("{} has {bad} unreadable line(s)", evidence::TESTS_FILE))
    } else if read < counted {
        Some(format!(
            "{} holds {read} of the {counted} records its manifest counts",
            evidence::TESTS_FILE
        ))
    } else {
        statuses.disagreement(&run.manifest.counts, run.status())
    };
    if (stopped || incomplete.is_some()) && gathered.is_empty() {
        // "Nothing failed" is what a run that did not finish cannot say.
        for name in planned(run) {
            gathered.entry(name).or_default().whole = Some("that run did not finish and recorded no failure");
        }
    }
    if gathered.is_empty() && run.status() == Some(RunStatus::Failed) {
        // Failed with no failing test (a flaky test under `flaky = "fail"`,
        // no test ran, a report it could not write): nothing narrower to
        // re-run, and "no failures" would exit 0 (a hostile try, 13a F2).
        for name in planned(run) {
            gathered.entry(name).or_default().whole = Some("that run failed without a failing test");
        }
    }
    let suites = gathered
        .into_iter()
        .map(|(suite, gathered)| {
            let rerun = if gathered.whole.is_some() || gathered.unselectable {
                SuiteRerun {
                    selection: Selection::All,
                    failed: gathered.failed,
                    names: BTreeMap::new(),
                    whole: gathered.whole,
                }
            } else {
                SuiteRerun {
                    selection: Selection::Only(gathered.selectors),
                    failed: gathered.failed,
                    names: gathered.names,
                    whole: None,
                }
            };
            (suite, rerun)
        })
        .collect();
    Ok(Failures { suites, incomplete })
}

/// Narrows `plan` to the suites of `failures`, each running only its
/// selection. Returns the suites of `failures` the plan does not have (no
/// longer configured, or left out by `--suite`), for the caller to mention.
pub fn restrict_to_failures(plan: &mut Plan, failures: &BTreeMap<String, SuiteRerun>) -> Vec<String> {
    let missing = failures
        .keys()
        .filter(|name| !plan.suites.iter().any(|suite| &suite.config.name == *name))
        .cloned()
        .collect();
    plan.suites.retain(|suite| failures.contains_key(&suite.config.name));
    for (index, suite) in plan.suites.iter_mut().enumerate() {
        // The executor files results by index.
        suite.index = index;
        if let Some(rerun) = failures.get(&suite.config.name) {
            suite.selection = rerun.selection.clone();
            suite.expected_names = rerun.names.clone();
        }
    }
    plan.settings.workers = plan.settings.workers.clamp(1, plan.suites.len().max(1));
    missing
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use evidence::{Run, RunInfo, RunStatus};
    use runner_api::{
        Runner, RunnerError, SettingsError, SuiteContext, SuiteOutcome, SuiteResult, TestCase, TestStatus,
    };

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
        let failures: BTreeMap<String, SuiteRerun> = [
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
        let missing = restrict_to_failures(&mut plan, &failures);
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
}
