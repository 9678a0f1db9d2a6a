//! What the page's JSON blob holds, read from a stored run: the header, the
//! suites with their attempts' spans, one compact row per test, details for
//! the tests that need them (failures, flaky, skipped, quarantined, tests
//! with attachments) and the history.
//!
//! Rows are arrays, not objects, and only tests worth a closer look get a
//! detail, so that a run of 100,000 passing tests stays a few megabytes
//! (BENCHMARKS.md, target "HTML report").

use std::collections::{BTreeMap, HashMap};

use evidence::{DiagnosticRecord, GitInfo, LoadedRun, SuiteEntry, TestRecord, TestStatus, ToolStatus};
use serde::Serialize;
use serde_json::Value;

use super::history::{self, History};
use crate::report::ReportError;

/// Everything the page shows.
#[derive(Serialize)]
pub(super) struct ReportData {
    run: Header,
    /// Put before a run-relative path to link to it.
    base: String,
    suites: Vec<SuiteData>,
    /// `[suite index, name, status letter, seconds, attempts, flags, detail index | null, history]`.
    tests: Vec<Row>,
    details: Vec<Detail>,
    diagnostics: Vec<DiagnosticRecord>,
    history: History,
}

#[derive(Serialize)]
struct Header {
    id: String,
    status: String,
    project: String,
    created_at: String,
    finished_at: Option<String>,
    wall_seconds: Option<f64>,
    /// The suites' durations added up: what the run would take one suite at a time.
    suite_seconds: f64,
    qaagent_version: Option<String>,
    git: GitInfo,
    tools: BTreeMap<String, ToolStatus>,
    counts: Tally,
    diagnostics: Vec<String>,
    incomplete_reason: Option<String>,
}

/// Counts over the records; quarantined failures are apart from the real ones.
#[derive(Serialize, Default)]
struct Tally {
    tests: u64,
    passed: u64,
    failed: u64,
    errors: u64,
    skipped: u64,
    flaky: u64,
    quarantined: u64,
}

#[derive(Serialize)]
struct SuiteData {
    #[serde(flatten)]
    entry: SuiteEntry,
}

/// Flags of a row.
const FLAKY: u8 = 1;
const QUARANTINED: u8 = 2;

#[derive(Serialize)]
struct Row(usize, String, &'static str, f64, u32, u8, Option<usize>, String);

#[derive(Serialize, Default)]
struct Detail {
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    selector: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    skip_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    quarantine_reason: Option<String>,
    /// Index into the diagnostics.
    #[serde(skip_serializing_if = "Option::is_none")]
    diagnosis: Option<usize>,
    /// Earlier failed attempts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    previous: Vec<Previous>,
    /// The test's own files, run-relative.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<String>,
}

/// An earlier failed attempt of a test.
#[derive(Serialize)]
struct Previous {
    status: Option<String>,
    message: Option<String>,
    duration: Option<f64>,
}

/// The most of a message or failure body the page carries: the whole text
/// is in `tests.jsonl`, and 30,000 full tracebacks would make the page
/// slow to open (BENCHMARKS.md, target "HTML report").
const MESSAGE_CHARS: usize = 2_000;
const DETAILS_CHARS: usize = 6_000;

/// `text` cut to at most `limit` bytes on a character boundary, saying so.
fn clip(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_string();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… (cut; the whole text is in evidence/tests.jsonl)", &text[..end])
}

/// Extensions of files that are a test's own whatever refers to them.
const ATTACHMENT_EXTENSIONS: &[&str] = &[".png", ".jpg", ".jpeg", ".gif", ".webp", ".webm", ".zip"];

impl ReportData {
    /// Reads `run`'s evidence and the history of up to `history_runs` earlier runs.
    pub(super) fn read(run: &LoadedRun, base: String, history_runs: usize) -> Result<ReportData, ReportError> {
        let manifest = &run.manifest;
        let records = run.records()?.collect::<Result<Vec<TestRecord>, _>>()?;
        let diagnostics = run.diagnostics()?;
        let mut suites: Vec<SuiteData> = manifest
            .suites
            .iter()
            .map(|entry| SuiteData { entry: entry.clone() })
            .collect();
        let mut suite_index: HashMap<String, usize> = suites
            .iter()
            .enumerate()
            .map(|(i, suite)| (suite.entry.name.clone(), i))
            .collect();
        // How many records of a suite refer to each file: a file only one
        // test refers to is that test's own.
        let mut references: HashMap<(&str, &str), u32> = HashMap::new();
        let mut per_suite: HashMap<&str, u32> = HashMap::new();
        for record in &records {
            *per_suite.entry(suite_of(record)).or_default() += 1;
            for reference in &record.evidence_refs {
                *references.entry((suite_of(record), reference)).or_default() += 1;
            }
        }
        let diagnosis = DiagnosisIndex::new(&diagnostics);
        let strips = history::strips(run, &records, history_runs);
        let mut tally = Tally::default();
        let mut details = Vec::new();
        let mut rows = Vec::with_capacity(records.len());
        for (record, strip) in records.iter().zip(strips.per_test) {
            let suite = suite_of(record);
            let quarantined = record.metadata.get("quarantined").and_then(Value::as_bool) == Some(true);
            let flaky = record.metadata.get("flaky").and_then(Value::as_bool) == Some(true);
            tally.add(record.status, flaky, quarantined);
            let shared = per_suite.get(suite).copied().unwrap_or(0) > 1;
            let attachments: Vec<String> = record
                .evidence_refs
                .iter()
                .filter(|reference| {
                    ATTACHMENT_EXTENSIONS
                        .iter()
                        .any(|ext| reference.to_ascii_lowercase().ends_with(ext))
                        || (shared && references.get(&(suite, reference.as_str())) == Some(&1))
                })
                .cloned()
                .collect();
            let detail = needs_detail(record, flaky, quarantined, &attachments).then(|| {
                details.push(detail(record, attachments, diagnosis.find(record)));
                details.len() - 1
            });
            let index = match suite_index.get(suite) {
                Some(&index) => index,
                None => {
                    // A record of a suite the manifest does not list (a damaged run).
                    suite_index.insert(suite.to_string(), suites.len());
                    suites.push(SuiteData {
                        entry: serde_json::from_value(serde_json::json!({"name": suite, "outcome": "failed"}))
                            .map_err(ReportError::Html)?,
                    });
                    suites.len() - 1
                }
            };
            let flags = (u8::from(flaky) * FLAKY) | (u8::from(quarantined) * QUARANTINED);
            let attempts = record.metadata.get("attempts").and_then(Value::as_u64).unwrap_or(1);
            rows.push(Row(
                index,
                record.name.clone(),
                letter(record.status),
                (record.duration.unwrap_or(0.0) * 1000.0).round() / 1000.0,
                u32::try_from(attempts).unwrap_or(u32::MAX),
                flags,
                detail,
                strip,
            ));
        }
        let run_header = Header {
            id: run.run_id.clone(),
            status: run.status().map_or("unknown", |status| status.as_str()).to_string(),
            project: manifest.target.name.clone(),
            created_at: manifest.created_at.clone(),
            finished_at: manifest.finished_at.clone(),
            wall_seconds: manifest.wall_seconds,
            suite_seconds: manifest
                .suites
                .iter()
                .map(|suite| suite.duration)
                .filter(|d| d.is_finite())
                .sum(),
            qaagent_version: manifest.qaagent_version.clone(),
            git: manifest.target.git.clone(),
            tools: manifest.tools.clone(),
            counts: tally,
            diagnostics: manifest.diagnostics.clone(),
            incomplete_reason: manifest.incomplete_reason.clone(),
        };
        Ok(ReportData {
            run: run_header,
            base,
            suites,
            tests: rows,
            details,
            diagnostics,
            history: strips.history,
        })
    }

    /// About how many bytes the blob takes, to size the page's buffer.
    pub(super) fn size_hint(&self) -> usize {
        self.tests.len() * 80 + self.details.len() * 400
    }
}

impl Tally {
    fn add(&mut self, status: TestStatus, flaky: bool, quarantined: bool) {
        self.tests += 1;
        match status {
            _ if quarantined && status.is_failure() => self.quarantined += 1,
            TestStatus::Passed => self.passed += 1,
            TestStatus::Failed => self.failed += 1,
            TestStatus::Error => self.errors += 1,
            TestStatus::Skipped => self.skipped += 1,
        }
        if flaky {
            self.flaky += 1;
        }
    }
}

/// A record's suite: `suite_name`, else (the Python qaagent's records) `kind`.
pub(super) fn suite_of(record: &TestRecord) -> &str {
    record.suite_name.as_deref().unwrap_or(&record.kind)
}

/// The letter a status has in a row and a history strip.
pub(super) fn letter(status: TestStatus) -> &'static str {
    match status {
        TestStatus::Passed => "p",
        TestStatus::Failed => "f",
        TestStatus::Error => "e",
        TestStatus::Skipped => "s",
    }
}

fn meta_str(record: &TestRecord, key: &str) -> Option<String> {
    record.metadata.get(key).and_then(Value::as_str).map(str::to_string)
}

fn needs_detail(record: &TestRecord, flaky: bool, quarantined: bool, attachments: &[String]) -> bool {
    record.status != TestStatus::Passed || flaky || quarantined || !attachments.is_empty()
}

fn detail(record: &TestRecord, attachments: Vec<String>, diagnosis: Option<usize>) -> Detail {
    let message = record.error_message.clone().or_else(|| meta_str(record, "message"));
    let details = meta_str(record, "details").filter(|details| Some(details) != message.as_ref());
    Detail {
        message: message.map(|text| clip(&text, MESSAGE_CHARS)),
        error_type: meta_str(record, "error_type"),
        details: details.map(|text| clip(&text, DETAILS_CHARS)),
        selector: meta_str(record, "selector"),
        file: meta_str(record, "file"),
        skip_reason: meta_str(record, "skip_reason"),
        quarantine_reason: meta_str(record, "quarantine_reason"),
        diagnosis,
        previous: match record.metadata.get("previous_failures") {
            Some(Value::Array(failures)) => failures
                .iter()
                .map(|failure| Previous {
                    status: failure.get("status").and_then(Value::as_str).map(str::to_string),
                    message: failure
                        .get("message")
                        .and_then(Value::as_str)
                        .map(|text| clip(text, MESSAGE_CHARS)),
                    duration: failure.get("duration").and_then(Value::as_f64),
                })
                .collect(),
            _ => Vec::new(),
        },
        attachments,
    }
}

/// Finds a record's diagnosis: by its suite and selector, else its suite and name.
struct DiagnosisIndex<'a> {
    by_selector: HashMap<(&'a str, &'a str), usize>,
    by_name: HashMap<(&'a str, &'a str), usize>,
}

impl<'a> DiagnosisIndex<'a> {
    fn new(diagnostics: &'a [DiagnosticRecord]) -> Self {
        let mut index = DiagnosisIndex {
            by_selector: HashMap::new(),
            by_name: HashMap::new(),
        };
        for (i, diagnosis) in diagnostics.iter().enumerate() {
            if let Some(selector) = &diagnosis.selector {
                index.by_selector.entry((&diagnosis.suite, selector)).or_insert(i);
            }
            index
                .by_name
                .entry((&diagnosis.suite, &diagnosis.test_name))
                .or_insert(i);
        }
        index
    }

    fn find(&self, record: &TestRecord) -> Option<usize> {
        let suite = suite_of(record);
        let selector = record.metadata.get("selector").and_then(Value::as_str);
        selector
            .and_then(|selector| self.by_selector.get(&(suite, selector)))
            .or_else(|| self.by_name.get(&(suite, record.name.as_str())))
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_text_is_cut_on_a_character_boundary() {
        assert_eq!(clip("short", 10), "short");
        let cut = clip("ééé", 3);
        assert!(cut.starts_with("é…"), "{cut}");
    }
}
