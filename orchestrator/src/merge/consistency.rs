//! What a merge checks of the shares' records as they stream past.
//!
//! - No test is in two shares. The shares of one run are disjoint (each test
//!   runs on one machine), so a test seen in two means one of them is not the
//!   share it says it is: a share given twice, or a copy of one relabelled
//!   as another share (whose own tests then never ran).
//! - A finished share's manifest counts what its records hold. A share
//!   whose manifest and records disagree was edited or is corrupt; merged,
//!   its records would give the header's counts and its manifest the suite
//!   rows and the verdict, contradicting each other.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};

use evidence::{Manifest, RawRecord, StatusTally, SuiteOutcome};

/// How many tests seen in two shares a refusal names.
const NAMED: usize = 5;

/// The tests seen so far, across shares.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    /// The share (its index) each test was first seen in, by a hash of its
    /// suite and selector: 16 bytes a test where its text would take ~100
    /// (a merge of 1,000,000 records, BENCHMARKS.md target 7).
    shard_of: HashMap<u64, u32>,
    /// Tests seen in two shares, as a refusal names them (the first few).
    twice: Vec<String>,
    /// How many more there are.
    more: usize,
}

impl Seen {
    /// Notes that share `shard` holds `record`. A record without a selector
    /// is left out: a suite's own error and "the tests it never ran" are no
    /// test, and each share that saw them may record them.
    pub(crate) fn add(&mut self, shard: u32, record: &RawRecord<'_>) {
        let Some(selector) = record.meta_str("selector") else {
            return;
        };
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (record.suite(), &*selector).hash(&mut hasher);
        let first = *self.shard_of.entry(hasher.finish()).or_insert(shard);
        if first == shard {
            return;
        }
        if self.twice.len() < NAMED {
            self.twice.push(format!(
                "{} {selector} is in shard {first} and in shard {shard}",
                record.suite()
            ));
        } else {
            self.more += 1;
        }
    }

    /// Why the shares cannot be one run's, when a test was in two of them.
    pub(crate) fn problems(&self) -> Vec<String> {
        if self.twice.is_empty() {
            return Vec::new();
        }
        let more = match self.more {
            0 => String::new(),
            n => format!(", and {n} more"),
        };
        vec![format!(
            "{}{more}: the shares of one run are disjoint, so one of these is not the share it says \
             it is (a share given twice, or a copy relabelled as another share)",
            self.twice.join("; ")
        )]
    }
}

/// A share's records counted by suite.
pub(crate) type Tallies = BTreeMap<String, StatusTally>;

/// Counts `record` in `tallies`.
pub(crate) fn count(tallies: &mut Tallies, record: &RawRecord<'_>) {
    let tally = match tallies.get_mut(record.suite()) {
        Some(tally) => tally,
        None => tallies.entry(record.suite().to_string()).or_default(),
    };
    tally.add(record.status);
}

/// Where the manifest of share `label` contradicts its records (`tallies`,
/// all of them read); empty when they agree. A suite's `errors` may count
/// one more than its errored records: the suite's own error (a timeout, a
/// crash) when no record carries it.
pub(crate) fn disagreements(label: &str, manifest: &Manifest, tallies: &Tallies) -> Vec<String> {
    let mut problems = Vec::new();
    let mut say = |what: String, manifest: &str, records: &str| {
        problems.push(format!(
            "{label}: its manifest and its records disagree: {what}: the manifest counts {manifest}, \
             {} holds {records} (edited, or corrupt: run the share again)",
            evidence::TESTS_FILE
        ));
    };
    let totals = tallies.values().fold(StatusTally::default(), |mut sum, tally| {
        sum += *tally;
        sum
    });
    let counts = &manifest.counts;
    let counted = [
        counts.tests_passed,
        counts.tests_failed,
        counts.tests_errors,
        counts.tests_skipped,
    ];
    let held = [
        totals.passed,
        totals.failed + totals.errors,
        totals.errors,
        totals.skipped,
    ];
    if counted != held {
        let words = |[passed, failed, errors, skipped]: [u64; 4]| {
            format!("{passed} passed, {failed} failed ({errors} of them errors), {skipped} skipped")
        };
        say("in all".into(), &words(counted), &words(held));
    }
    for entry in &manifest.suites {
        let tally = tallies.get(&entry.name).copied().unwrap_or_default();
        let [passed, failed, errors, skipped] =
            [entry.passed, entry.failed, entry.errors, entry.skipped].map(|n| n as u64);
        let agrees = passed == tally.passed
            && failed == tally.failed
            && skipped == tally.skipped
            && (tally.errors..=tally.errors + 1).contains(&errors);
        let words = |passed, failed, errors, skipped| {
            format!("{passed} passed, {failed} failed, {errors} errors, {skipped} skipped")
        };
        if !agrees {
            say(
                format!("suite {}", entry.name),
                &words(passed, failed, errors, skipped),
                &words(tally.passed, tally.failed, tally.errors, tally.skipped),
            );
        } else if matches!(entry.outcome, SuiteOutcome::Passed | SuiteOutcome::Skipped)
            && entry.failed + entry.errors > 0
        {
            say(
                format!("suite {}", entry.name),
                &format!(
                    "{} failed and errored but calls it {}",
                    entry.failed + entry.errors,
                    entry.outcome.label()
                ),
                "as many",
            );
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(suite: &str, selector: Option<&str>, status: &str) -> String {
        let metadata = selector.map_or(String::new(), |selector| format!(r#""selector":"{selector}""#));
        format!(r#"{{"kind":"{suite}","name":"t","status":"{status}","metadata":{{{metadata}}}}}"#)
    }

    #[test]
    fn a_test_in_two_shares_is_named_and_one_without_a_selector_is_not() {
        let mut seen = Seen::default();
        for (shard, selector) in [(1, Some("t.py::a")), (2, Some("t.py::b")), (2, None), (3, None)] {
            let line = record("unit", selector, "passed");
            seen.add(shard, &serde_json::from_str(&line).expect("record"));
        }
        assert_eq!(seen.problems(), Vec::<String>::new());
        let line = record("unit", Some("t.py::b"), "passed");
        seen.add(2, &serde_json::from_str(&line).expect("record"));
        assert_eq!(
            seen.problems(),
            Vec::<String>::new(),
            "twice in one share: a retry's record"
        );
        seen.add(3, &serde_json::from_str(&line).expect("record"));
        let problems = seen.problems();
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].starts_with("unit t.py::b is in shard 2 and in shard 3: the shares of one run are disjoint"),
            "{problems:?}"
        );
    }

    #[test]
    fn counts_that_contradict_the_records_are_told_by_suite_and_in_all() {
        let mut tallies = Tallies::new();
        for status in ["passed", "failed", "error"] {
            count(
                &mut tallies,
                &serde_json::from_str(&record("unit", None, status)).expect("record"),
            );
        }
        let mut manifest: Manifest = serde_json::from_value(serde_json::json!({
            "run_id": "r",
            "counts": {"tests": 3, "tests_passed": 1, "tests_failed": 2, "tests_errors": 1},
            "suites": [{"name": "unit", "runner": "pytest", "outcome": "failed",
                        "tests": 3, "passed": 1, "failed": 1, "errors": 2, "skipped": 0, "flaky": 0,
                        "duration": 0.0, "attempts": 1}],
        }))
        .expect("manifest");
        assert_eq!(disagreements("shard 1/2", &manifest, &tallies), Vec::<String>::new());
        manifest.suites[0].outcome = SuiteOutcome::Passed;
        let told = disagreements("shard 1/2", &manifest, &tallies);
        assert!(
            told[0].contains("suite unit: the manifest counts 3 failed and errored but calls it PASS"),
            "{told:?}"
        );
        manifest.suites[0].failed = 0;
        manifest.counts.tests_passed = 2;
        let told = disagreements("shard 1/2", &manifest, &tallies);
        assert_eq!(told.len(), 2, "{told:?}");
        assert!(
            told[0].starts_with(
                "shard 1/2: its manifest and its records disagree: in all: the manifest counts 2 passed, \
                 2 failed (1 of them errors), 0 skipped, evidence/tests.jsonl holds 1 passed"
            ),
            "{told:?}"
        );
        assert!(
            told[1].contains("suite unit: the manifest counts 1 passed, 0 failed, 2 errors"),
            "{told:?}"
        );
    }
}
