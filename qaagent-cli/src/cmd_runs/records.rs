//! Reading a run's `tests.jsonl` back: tallied, with the failures and flaky
//! tests kept, and bad lines counted rather than fatal.

use evidence::{LoadedRun, TestRecord, TestStatus, TESTS_FILE};
use serde::Serialize;

use crate::reporter::summary::plural;

/// What `tests.jsonl` holds, tallied, with the failures and flaky tests kept.
#[derive(Debug, Default, Serialize)]
pub(super) struct RecordTally {
    pub(super) total: u64,
    pub(super) passed: u64,
    pub(super) failed: u64,
    pub(super) errors: u64,
    pub(super) skipped: u64,
    pub(super) flaky: u64,
    /// Whether `tests.jsonl` exists at all.
    pub(super) present: bool,
    #[serde(skip)]
    pub(super) failures: Vec<TestRecord>,
    #[serde(skip)]
    pub(super) flaky_records: Vec<TestRecord>,
    #[serde(skip)]
    pub(super) problems: Vec<String>,
}

/// Bad lines beyond this many are counted, not each described.
const BAD_LINES_SHOWN: usize = 3;

pub(super) fn read_records(run: &LoadedRun) -> RecordTally {
    let mut tally = RecordTally::default();
    let path = run.dir.join(TESTS_FILE);
    if !path.exists() {
        if run.manifest.counts.tests > 0 {
            tally.problems.push(format!("{TESTS_FILE} is missing"));
        }
        return tally;
    }
    tally.present = true;
    let records = match run.records() {
        Ok(records) => records,
        Err(err) => {
            tally.problems.push(err.to_string());
            return tally;
        }
    };
    let mut bad = Vec::new();
    for record in records {
        match record {
            Ok(record) => tally.add(record),
            Err(evidence::EvidenceError::BadRecord { line, source, .. }) => bad.push(format!("line {line}: {source}")),
            Err(err) => tally.problems.push(err.to_string()),
        }
    }
    if !bad.is_empty() {
        let more = bad.len().saturating_sub(BAD_LINES_SHOWN);
        let mut text = format!(
            "{TESTS_FILE} has {} ({})",
            plural(bad.len(), "bad line"),
            bad.iter().take(BAD_LINES_SHOWN).cloned().collect::<Vec<_>>().join("; ")
        );
        if more > 0 {
            text.push_str(&format!(" and {more} more"));
        }
        tally.problems.push(text);
    } else if let Some(disagreement) = tally.statuses().disagreement(&run.manifest.counts, run.status()) {
        tally.problems.push(disagreement);
    }
    tally
}

impl RecordTally {
    /// The records read, by status.
    fn statuses(&self) -> evidence::StatusTally {
        evidence::StatusTally {
            passed: self.passed,
            failed: self.failed,
            errors: self.errors,
            skipped: self.skipped,
        }
    }

    fn add(&mut self, record: TestRecord) {
        self.total += 1;
        match record.status {
            TestStatus::Passed => self.passed += 1,
            TestStatus::Failed => self.failed += 1,
            TestStatus::Error => self.errors += 1,
            TestStatus::Skipped => self.skipped += 1,
        }
        let flaky = record
            .metadata
            .get("flaky")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
            || record.tags.iter().any(|tag| tag == "flaky");
        if flaky {
            self.flaky += 1;
            self.flaky_records.push(record);
        } else if record.status.is_failure() {
            self.failures.push(record);
        }
    }
}
