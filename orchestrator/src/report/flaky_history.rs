//! Flaky history across stored runs (`qaagent runs flaky`): per test, how
//! often it passed, failed and was flaky over the last N runs of a project,
//! and its flake rate.
//!
//! - Only finished runs (`passed`, `failed`) count: an interrupted or crashed
//!   run says nothing reliable about what it did not get to.
//! - The shares of a partitioned run are one run: a merged run stands for the
//!   shares it was merged from (its `merged_from`), and shares not merged are
//!   grouped by their plan, a share index seen twice starting a new run.
//! - A test is identified by its suite and selector, and by its class and
//!   name too where the selector is only a place (behave's `file:line`); a
//!   skipped test did not run.
//! - A test is flaky in a run when it failed, then passed on a retry. One
//!   that passed in some runs and failed in others flipped: it is flaky too.
//!   Its flake rate is the share of the runs it ran in where it failed or was
//!   flaky; a test that failed in every run it ran in is broken, not flaky,
//!   and its rate is 0 (it is still listed, with its failures).
//!
//! Records are read a line at a time, each decoded into the handful of
//! fields needed here, borrowing from the line (BENCHMARKS.md, target 9).

use std::borrow::Cow;
use std::collections::HashMap;

use evidence::{EvidenceError, ListedRun, RunStatus, TestStatus};
use serde::{Deserialize, Serialize};

use crate::quarantine;

/// One test's history over the runs read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestHistory {
    /// Its suite.
    pub suite: String,
    /// Its name, as its tool reports it.
    pub test: String,
    /// What selects it again, when its runner knows.
    pub selector: Option<String>,
    /// Its class or suite path.
    pub classname: String,
    /// Runs it ran in (not skipped).
    pub runs: usize,
    /// Runs it passed in, flaky ones included.
    pub passed: usize,
    /// Runs it failed or errored in.
    pub failed: usize,
    /// Runs it failed, then passed on a retry in.
    pub flaky: usize,
    /// It passed in some runs and failed in others.
    pub flipped: bool,
    /// The share of its runs in which it failed or was flaky, when it
    /// flipped or was flaky; else 0.
    pub flake_rate: f64,
    /// The newest run in which it failed or was flaky.
    pub last_failed: Option<String>,
    /// How a `[[quarantine]]` entry names it and no other test of these runs
    /// (see [`quarantine`](crate::quarantine)): `suite::selector::name` where
    /// another test has its `suite::classname::name`.
    #[serde(skip)]
    pub quarantine_name: String,
}

/// What `qaagent runs flaky` reports.
#[derive(Debug, Clone, PartialEq)]
pub struct FlakyHistory {
    /// The runs read, newest first (a merged or grouped partitioned run by its newest id).
    pub runs: Vec<String>,
    /// Every test that failed or was flaky in one of them, worst first.
    pub tests: Vec<TestHistory>,
    /// Records that could not be read, skipped.
    pub unreadable: usize,
    /// Runs whose records could not be read (all or the rest of them), each
    /// with why: one bad run does not hide the history of the others.
    pub unreadable_runs: Vec<String>,
}

/// The fields of a record the history needs, borrowed from its line.
#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    name: Cow<'a, str>,
    status: TestStatus,
    #[serde(borrow, default)]
    suite_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    metadata: Meta<'a>,
}

#[derive(Default, Deserialize)]
struct Meta<'a> {
    #[serde(borrow, default)]
    selector: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    classname: Option<Cow<'a, str>>,
    #[serde(default)]
    flaky: bool,
}

/// A test's outcome in one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Passed,
    Flaky,
    Failed,
}

/// What is gathered of one test.
#[derive(Debug, Default)]
struct Tally {
    /// Index of the logical run its last outcome is from, and that outcome:
    /// a test recorded twice in one run (two shares) counts once, at its worst.
    last: Option<(usize, Outcome)>,
    passed: usize,
    failed: usize,
    flaky: usize,
    last_failed: Option<usize>,
}

impl Tally {
    fn add(&mut self, run: usize, outcome: Outcome) {
        match self.last {
            Some((seen, before)) if seen == run => {
                if outcome <= before {
                    return;
                }
                self.remove(before);
            }
            _ => {}
        }
        self.last = Some((run, outcome));
        match outcome {
            Outcome::Passed => self.passed += 1,
            Outcome::Flaky => {
                self.passed += 1;
                self.flaky += 1;
            }
            Outcome::Failed => self.failed += 1,
        }
        if outcome != Outcome::Passed && self.last_failed.is_none() {
            // Runs are read newest first.
            self.last_failed = Some(run);
        }
    }

    fn remove(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Passed => self.passed -= 1,
            Outcome::Flaky => {
                self.passed -= 1;
                self.flaky -= 1;
            }
            Outcome::Failed => self.failed -= 1,
        }
    }
}

/// The finished runs among `listed` (newest first) grouped into logical runs
/// (see the module docs), at most `last` of them, newest first.
fn logical_runs(listed: &[ListedRun], last: usize) -> Vec<Vec<&ListedRun>> {
    let finished: Vec<&ListedRun> = (listed.iter())
        .filter(|run| matches!(run.status(), Some(RunStatus::Passed | RunStatus::Failed)))
        .collect();
    let merged_shares: std::collections::HashSet<&str> = (finished.iter())
        .filter_map(|run| run.manifest.as_ref().ok()?.extra.get("merged_from")?.as_array())
        .flatten()
        .filter_map(|share| share.get("run_id")?.as_str())
        .collect();
    let mut runs: Vec<Vec<&ListedRun>> = Vec::new();
    // The group each plan's shares go to, until one of its indices repeats.
    let mut open: HashMap<&str, usize> = HashMap::new();
    for run in finished {
        if merged_shares.contains(run.run_id.as_str()) {
            continue;
        }
        let share = run
            .manifest
            .as_ref()
            .ok()
            .and_then(|manifest| manifest.partition.as_ref());
        let Some(share) = share else {
            runs.push(vec![run]);
            continue;
        };
        let index_of = |run: &ListedRun| {
            (run.manifest.as_ref().ok()).and_then(|manifest| manifest.partition.as_ref().map(|share| share.index))
        };
        match open.get(share.plan.as_str()) {
            Some(&group) if !runs[group].iter().any(|other| index_of(other) == Some(share.index)) => {
                runs[group].push(run);
            }
            _ => {
                open.insert(share.plan.as_str(), runs.len());
                runs.push(vec![run]);
            }
        }
    }
    runs.truncate(last);
    runs
}

impl FlakyHistory {
    /// The history of the last `last` finished runs among `listed` (a
    /// project's runs, newest first, as [`evidence::list_runs`] gives them).
    pub fn read(listed: &[ListedRun], last: usize) -> Result<FlakyHistory, EvidenceError> {
        let runs = logical_runs(listed, last);
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut tests: Vec<(String, Option<String>, String, String, Tally)> = Vec::new();
        let mut key = String::new();
        let mut unreadable = 0;
        let mut unreadable_runs = Vec::new();
        for (at, group) in runs.iter().enumerate() {
            for run in group {
                let opened = evidence::load_run_dir(&run.dir).and_then(|loaded| loaded.records());
                let mut records = match opened {
                    Ok(records) => records,
                    Err(err) => {
                        unreadable_runs.push(format!("run {}: {err}", run.run_id));
                        continue;
                    }
                };
                while let Some(line) = records.next_as::<Line<'_>>() {
                    let line = match line {
                        Ok(line) => line,
                        Err(EvidenceError::BadRecord { line, source, .. }) => {
                            log::warn!("run {}: tests.jsonl line {line} does not read: {source}", run.run_id);
                            unreadable += 1;
                            continue;
                        }
                        Err(err) => {
                            unreadable_runs.push(format!(
                                "run {}: {err} (its records after that are left out)",
                                run.run_id
                            ));
                            break;
                        }
                    };
                    let outcome = match line.status {
                        TestStatus::Skipped => continue,
                        TestStatus::Failed | TestStatus::Error => Outcome::Failed,
                        TestStatus::Passed if line.metadata.flaky => Outcome::Flaky,
                        TestStatus::Passed => Outcome::Passed,
                    };
                    let suite = line.suite_name.as_deref().unwrap_or(&line.kind);
                    let selector = line.metadata.selector.as_deref();
                    let classname = line.metadata.classname.as_deref().unwrap_or_default();
                    // A test is its selector where that names it: the same
                    // test recorded from a crashed share's listing has no class
                    // name. A selector that is only a place (behave's
                    // `file:line`) needs the name beside it.
                    key.clear();
                    let parts = match selector {
                        Some(selector) if quarantine::selector_names_test(selector, &line.name) => {
                            [suite, selector, "", ""]
                        }
                        Some(selector) => [suite, selector, classname, &line.name],
                        None => [suite, "", classname, &line.name],
                    };
                    for part in parts {
                        key.push_str(part);
                        key.push('\0');
                    }
                    let slot = match index.get(key.as_str()) {
                        Some(&slot) => slot,
                        None => {
                            index.insert(key.clone(), tests.len());
                            tests.push((
                                suite.to_string(),
                                selector.map(str::to_string),
                                classname.to_string(),
                                line.name.to_string(),
                                Tally::default(),
                            ));
                            tests.len() - 1
                        }
                    };
                    tests[slot].4.add(at, outcome);
                }
            }
        }
        let run_ids: Vec<String> = runs
            .iter()
            .filter_map(|group| group.first())
            .map(|run| run.run_id.clone())
            .collect();
        // How many tests each `suite::classname::name` is, counting those
        // only (a selector that names its test names it alone): where two
        // share it, an entry names each by its place too.
        let mut named: HashMap<String, usize> = HashMap::new();
        for (suite, selector, classname, test, _) in &tests {
            if !selector
                .as_deref()
                .is_some_and(|selector| quarantine::selector_names_test(selector, test))
            {
                *named
                    .entry(quarantine::recorded_test_name(suite, None, classname, test))
                    .or_default() += 1;
            }
        }
        let mut histories: Vec<TestHistory> = (tests.into_iter())
            .filter(|(.., tally)| tally.failed + tally.flaky > 0)
            .map(|(suite, selector, classname, test, tally)| {
                let recorded = quarantine::recorded_test_name(&suite, selector.as_deref(), &classname, &test);
                let placed = (selector.as_deref())
                    .filter(|_| named.get(&recorded).is_some_and(|&n| n > 1))
                    .and_then(|selector| quarantine::placed_test_name(&suite, selector, &test));
                let quarantine_name = placed.unwrap_or(recorded);
                let runs = tally.passed + tally.failed;
                let flipped = tally.passed > tally.flaky && tally.failed > 0;
                let flake_rate = if flipped || tally.flaky > 0 {
                    (tally.failed + tally.flaky) as f64 / runs as f64
                } else {
                    0.0
                };
                TestHistory {
                    suite,
                    test,
                    selector,
                    classname,
                    runs,
                    passed: tally.passed,
                    failed: tally.failed,
                    flaky: tally.flaky,
                    flipped,
                    flake_rate,
                    last_failed: tally.last_failed.and_then(|at| run_ids.get(at).cloned()),
                    quarantine_name,
                }
            })
            .collect();
        histories.sort_by(|a, b| {
            (b.flake_rate.total_cmp(&a.flake_rate))
                .then(b.failed.cmp(&a.failed))
                .then_with(|| (&a.suite, &a.selector, &a.test).cmp(&(&b.suite, &b.selector, &b.test)))
        });
        Ok(FlakyHistory {
            runs: run_ids,
            tests: histories,
            unreadable,
            unreadable_runs,
        })
    }

    /// `[[quarantine]]` entries, ready to paste into `.qaagent.toml`, for the
    /// (at most `limit`) flakiest tests, each in force for 30 days from today (UTC).
    pub fn quarantine_suggestions(&self, limit: usize) -> String {
        let until = chrono::Utc::now().date_naive() + chrono::Days::new(30);
        let mut out = String::new();
        for test in self.tests.iter().filter(|test| test.flake_rate > 0.0).take(limit) {
            let name = test.quarantine_name.clone();
            let bad = test.failed + test.flaky;
            let reason = format!(
                "flaky: failed or flaky in {bad} of {} runs (qaagent runs flaky)",
                test.runs
            );
            out.push_str(&format!(
                "[[quarantine]]\ntest = {}\nreason = {}\nuntil = \"{until}\"\n\n",
                toml::Value::String(name),
                toml::Value::String(reason)
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_recorded_twice_in_one_run_counts_once_at_its_worst() {
        let mut tally = Tally::default();
        tally.add(0, Outcome::Passed);
        tally.add(0, Outcome::Failed);
        tally.add(0, Outcome::Passed);
        tally.add(1, Outcome::Flaky);
        assert_eq!(
            (tally.passed, tally.failed, tally.flaky, tally.last_failed),
            (1, 1, 1, Some(0))
        );
    }
}
