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

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use evidence::{EvidenceError, LoadedRun, RunStatus, SuiteOutcome};
use runner_api::Selection;

use crate::config::FlakyPolicy;
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
    failed_run_under(root, run, unfinished, FlakyPolicy::Pass)
}

/// [`failed_run`] under the flaky policy `flaky`: where a flaky test fails a
/// run (`fail`), the flaky tests are failures to re-run too. Before, after a
/// run that failed of a real failure and a flaky test, `--rerun-failed` ran
/// the failure alone and passed (a hostile try, 14 N1).
pub fn failed_run_under(
    root: &Path,
    run: &str,
    unfinished: Unfinished,
    flaky: FlakyPolicy,
) -> Result<FailedRun, RerunError> {
    let evidence = |source| RerunError::Evidence {
        run: run.to_string(),
        source,
    };
    let loaded = evidence::load_run(root, run).map_err(evidence)?;
    let stopped = not_finished(&loaded);
    let gathered = failures(&loaded, stopped.is_some(), flaky == FlakyPolicy::Fail).map_err(evidence)?;
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

/// A recorded test as a re-run's check knows it: suite, class and name.
type TestKey = (String, String, String);

/// Whether `selector`, a `file:LINE` place (behave's), is a row of a
/// Gherkin table in the file as it is now (under `project_dir`): an outline
/// row, whatever the project names its rows
/// (`scenario_outline_annotation_schema`), named by its position, which an
/// edit since may have given to another row (a hostile try, 14 N3).
fn is_a_table_row(project_dir: &Path, selector: &str) -> bool {
    let Some((file, line)) = selector.rsplit_once(':') else {
        return false;
    };
    let Ok(line) = line.parse::<usize>() else {
        return false;
    };
    let Ok(text) = evidence::read_regular_to_string(&project_dir.join(file)) else {
        return false;
    };
    (line.checked_sub(1))
        .and_then(|at| text.lines().nth(at))
        .is_some_and(|row| row.trim_start().starts_with('|'))
}

/// True for the name behave gives a row of a Scenario Outline: the
/// outline's name, ` -- @`, the table's and the row's numbers (`vals -- @1.2`,
/// maybe followed by the examples' name).
fn is_outline_row(name: &str) -> bool {
    name.split(" -- @").skip(1).any(|rest| {
        let place = rest.split(' ').next().unwrap_or_default();
        place.split_once('.').is_some_and(|(table, row)| {
            [table, row]
                .iter()
                .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
    })
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
/// suites it did not finish run whole; flaky tests too when `flaky_fails`.
fn failures(run: &LoadedRun, stopped: bool, flaky_fails: bool) -> Result<Failures, EvidenceError> {
    let mut gathered: BTreeMap<String, Gathered> = BTreeMap::new();
    let (mut read, mut bad) = (0_u64, 0_u64);
    let mut statuses = evidence::StatusTally::default();
    // How many tests of each suite bear each (class, name), and the failed
    // ones that a re-run by place could not tell from another test.
    let mut named: HashMap<TestKey, usize> = HashMap::new();
    let mut unsure: Vec<(TestKey, Option<&'static str>)> = Vec::new();
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
        // Records of the Python qaagent may lack suite_name; their kind is the suite.
        let suite = record.suite_name.clone().unwrap_or_else(|| record.kind.clone());
        let classname = (record.metadata.get("classname").and_then(|value| value.as_str()))
            .unwrap_or_default()
            .to_string();
        let key = (suite.clone(), classname, record.name.clone());
        *named.entry(key.clone()).or_default() += 1;
        let flaky = flaky_fails && record.metadata.get("flaky").and_then(serde_json::Value::as_bool) == Some(true);
        if !record.status.is_failure() && !flaky {
            continue;
        }
        let outline_row = record.runner_type.as_deref() == Some("behave") && is_outline_row(&record.name);
        unsure.push((
            key,
            outline_row.then_some("a failed outline row is named by its place in its table"),
        ));
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
    // The check that a re-run ran the very test it names goes by name: where
    // a name does not tell the test (behave's outline rows, `vals -- @1.2`,
    // and tests sharing a name), an edit since could put another test at the
    // failed one's place and pass it (a hostile try, 13a #1).
    for ((suite, classname, name), outline_row) in unsure {
        let shared = named.get(&(suite.clone(), classname, name)).is_some_and(|&n| n > 1);
        let why = outline_row.or(shared.then_some("another of its tests has the name of a failed one"));
        if let (Some(why), Some(entry)) = (why, gathered.get_mut(&suite)) {
            entry.whole.get_or_insert(why);
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
pub fn restrict_to_failures(plan: &mut Plan, failures: &mut BTreeMap<String, SuiteRerun>) -> Vec<String> {
    let missing = failures
        .keys()
        .filter(|name| !plan.suites.iter().any(|suite| &suite.config.name == *name))
        .cloned()
        .collect();
    plan.suites.retain(|suite| failures.contains_key(&suite.config.name));
    let project_dir = plan.project_dir.clone();
    for (index, suite) in plan.suites.iter_mut().enumerate() {
        // The executor files results by index.
        suite.index = index;
        if let Some(rerun) = failures.get_mut(&suite.config.name) {
            let in_a_table = |selectors: &[String]| selectors.iter().any(|s| is_a_table_row(&project_dir, s));
            if matches!(&rerun.selection, Selection::Only(selectors) if in_a_table(selectors)) {
                rerun.selection = Selection::All;
                rerun.names.clear();
                rerun.whole = Some("a failed test's place is a row of an Examples table now, named by its position");
            }
            suite.selection = rerun.selection.clone();
            suite.expected_names = rerun.names.clone();
        }
    }
    plan.settings.workers = plan.settings.workers.clamp(1, plan.suites.len().max(1));
    missing
}

#[cfg(test)]
#[path = "rerun_tests.rs"]
mod tests;
