//! What the page's JSON blob holds, read from a stored run: the header, the
//! suites with their attempts' spans, one compact row per test, details for
//! the tests that need them (failures, flaky, skipped, quarantined, tests
//! with attachments) and the history.
//!
//! Rows are arrays, not objects, and only tests worth a closer look get a
//! detail, so that a run of 100,000 passing tests stays a few megabytes
//! (BENCHMARKS.md, target "HTML report").

use std::collections::{BTreeMap, HashMap};

use evidence::{DiagnosticRecord, GitInfo, LoadedRun, RawRecord, SuiteEntry, TestStatus, ToolStatus};
use serde::{Deserialize, Serialize};

use super::history::{self, History};
use crate::report::ReportError;

/// Everything the page shows.
#[derive(Serialize)]
pub(super) struct ReportData {
    run: Header,
    /// Put before a run-relative path to link to it.
    base: String,
    suites: Vec<SuiteEntry>,
    /// For each suite, the HTML reports its tool kept (Playwright's `html`
    /// reporter of the user's config), one per attempt, run-relative.
    html_reports: Vec<Vec<String>>,
    /// `[suite index, name, status letter, seconds, attempts, flags, detail
    /// index | null, earlier outcomes, earlier durations]`.
    tests: Vec<Row>,
    /// Passed tests left out of `tests` (see [`Limits::listed`]).
    unlisted: u64,
    details: Vec<Detail>,
    /// Distinct diagnoses; details point into them.
    diagnostics: Vec<Diagnosis>,
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

/// Flags of a row.
const FLAKY: u8 = 1;
const QUARANTINED: u8 = 2;

#[derive(Serialize)]
struct Row(
    usize,
    String,
    &'static str,
    f64,
    u32,
    u8,
    Option<usize>,
    String,
    Vec<Option<f64>>,
);

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
    /// Index into the distinct diagnoses.
    #[serde(skip_serializing_if = "Option::is_none")]
    diagnosis: Option<usize>,
    /// Earlier failed attempts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    previous: Vec<Previous>,
    /// The test's own files, run-relative.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<String>,
}

impl Detail {
    /// The bytes of tool text it carries (what [`Limits::detail_text`] counts).
    fn text_len(&self) -> usize {
        let len = |text: &Option<String>| text.as_ref().map_or(0, String::len);
        let own = [
            &self.message,
            &self.error_type,
            &self.details,
            &self.selector,
            &self.file,
            &self.skip_reason,
            &self.quarantine_reason,
        ];
        let previous = self
            .previous
            .iter()
            .map(|prior| len(&prior.status) + len(&prior.message));
        own.into_iter().map(len).chain(previous).sum()
    }
}

/// An earlier failed attempt of a test.
#[derive(Serialize, Deserialize)]
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

/// How much of a very large run the page carries.
#[derive(Clone, Copy)]
pub(super) struct Limits {
    /// Passed tests are listed only while the list holds fewer rows than
    /// this; every other test is always listed.
    pub listed: usize,
    /// Message and failure text the details may carry in all before each
    /// is cut to [`SHORT_CHARS`].
    pub detail_text: usize,
}

/// The page's limits. A million passed rows made a page of 86 MB that took
/// 3.8 s and ~290 MB to write (`merge` of target 7, BENCHMARKS.md) and far
/// longer than target 10's 2 s to open; a run whose every test fails with a
/// long traceback would hold gigabytes in memory while the page is written.
pub(super) const PAGE_LIMITS: Limits = Limits {
    listed: 100_000,
    detail_text: 64 << 20,
};
const SHORT_CHARS: usize = 200;

/// Extensions of files that are a test's own whatever refers to them.
const ATTACHMENT_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "gif", "webp", "webm", "zip"];

/// The page's test rows and details, built one record at a time: from a
/// stored run's records, or by `merge` from each record as it writes it, so
/// that a merge of 1,000,000 records reads them once (target 7, where a
/// second read took 2.3 of the 5 s).
pub(crate) struct Page {
    limits: Limits,
    /// Suites in the order of their first record.
    suites: Vec<String>,
    suite_index: HashMap<String, usize>,
    tally: Tally,
    /// Their suite index is into `suites` until [`ReportData::new`].
    rows: Vec<Row>,
    /// Each row's identity, to match earlier runs; None when there are none.
    identities: Option<Vec<String>>,
    /// Their diagnosis is found in [`ReportData::new`].
    details: Vec<Detail>,
    detail_text: usize,
    unlisted: u64,
}

impl Page {
    /// An empty page within [`PAGE_LIMITS`], ready to match earlier runs.
    pub(crate) fn new() -> Page {
        Page::within(PAGE_LIMITS, true)
    }

    /// An empty page within `limits`; `identities`: keep what matches a
    /// row to earlier runs (only worth it when there are some).
    fn within(limits: Limits, identities: bool) -> Page {
        Page {
            limits,
            suites: Vec::new(),
            suite_index: HashMap::new(),
            tally: Tally::default(),
            rows: Vec::new(),
            identities: identities.then(Vec::new),
            details: Vec::new(),
            detail_text: 0,
            unlisted: 0,
        }
    }

    /// Counts `record`, and lists it unless it is one passed test too many.
    pub(crate) fn add(&mut self, record: &RawRecord<'_>) {
        let quarantined = flag(record, "quarantined");
        let flaky = record.flaky();
        self.tally.add(record.status, flaky, quarantined);
        let attachments: Vec<String> = record
            .evidence_refs
            .iter()
            .filter(|reference| is_attachment(reference))
            .map(|reference| reference.to_string())
            .collect();
        let needs_detail = needs_detail(record.status, flaky, quarantined, &attachments);
        if !needs_detail && self.rows.len() >= self.limits.listed {
            self.unlisted += 1;
            return;
        }
        let detail = needs_detail.then(|| {
            let short = self.detail_text >= self.limits.detail_text;
            let detail = detail(record, attachments, short);
            self.detail_text += detail.text_len();
            self.details.push(detail);
            self.details.len() - 1
        });
        let suite = record.suite();
        let index = match self.suite_index.get(suite) {
            Some(&index) => index,
            None => {
                self.suite_index.insert(suite.to_string(), self.suites.len());
                self.suites.push(suite.to_string());
                self.suites.len() - 1
            }
        };
        let name = record.name();
        if let Some(identities) = &mut self.identities {
            identities.push(history::identity(record, &name));
        }
        let flags = (u8::from(flaky) * FLAKY) | (u8::from(quarantined) * QUARANTINED);
        let attempts = record
            .metadata
            .get("attempts")
            .and_then(|raw| raw.get().parse().ok())
            .unwrap_or(1);
        self.rows.push(Row(
            index,
            clip(&name, MESSAGE_CHARS),
            letter(record.status),
            (record.duration().unwrap_or(0.0) * 1000.0).round() / 1000.0,
            attempts,
            flags,
            detail,
            String::new(),
            Vec::new(),
        ));
    }
}

impl ReportData {
    /// Reads `run`'s evidence and the history of up to `history_runs`
    /// earlier runs, within `limits`.
    pub(super) fn read(
        run: &LoadedRun,
        base: String,
        history_runs: usize,
        limits: Limits,
    ) -> Result<ReportData, ReportError> {
        let earlier = history::earlier_runs(run, history_runs);
        let mut page = Page::within(limits, !earlier.is_empty());
        let mut records = run.records()?;
        while let Some(record) = records.next_raw() {
            page.add(&record?);
        }
        ReportData::new(run, base, page, &earlier)
    }

    /// The page of `run` from its rows (`page`) and the `earlier` runs of its history.
    pub(super) fn new(
        run: &LoadedRun,
        base: String,
        page: Page,
        earlier: &[LoadedRun],
    ) -> Result<ReportData, ReportError> {
        let manifest = &run.manifest;
        let found = run.diagnostics()?;
        let diagnoses = Diagnoses::new(&found);
        let mut suites: Vec<SuiteEntry> = manifest.suites.clone();
        let mut in_report = Vec::with_capacity(page.suites.len());
        for name in &page.suites {
            match suites.iter().position(|suite| suite.name == *name) {
                Some(index) => in_report.push(index),
                None => {
                    // A record of a suite the manifest does not list (a damaged run).
                    suites.push(
                        serde_json::from_value(serde_json::json!({"name": name, "outcome": "failed"}))
                            .map_err(ReportError::Html)?,
                    );
                    in_report.push(suites.len() - 1);
                }
            }
        }
        let (mut rows, mut details) = (page.rows, page.details);
        for row in &mut rows {
            row.0 = in_report[row.0];
            if let Some(detail) = row.6.and_then(|index| details.get_mut(index)) {
                detail.diagnosis = diagnoses.find(&suites[row.0].name, detail.selector.as_deref(), &row.1);
                // The page shows and links a test's files in place: a link a
                // tool left among them (to /etc/passwd, say) would show a
                // file from outside the run to whoever opens the report.
                detail.attachments.retain(|path| {
                    evidence::is_run_relative(path)
                        && std::fs::symlink_metadata(run.dir.join(path)).is_ok_and(|meta| meta.is_file())
                });
            }
        }
        // Where each test is, by identity; a later row of the same test wins.
        let positions: HashMap<String, usize> = (page.identities.unwrap_or_default().into_iter())
            .enumerate()
            .map(|(row, identity)| (identity, row))
            .collect();
        let (history, strips) = history::history(run, earlier, &positions, rows.len());
        for (row, strip) in rows.iter_mut().zip(strips) {
            row.7 = strip.outcomes;
            row.8 = strip.durations;
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
            counts: page.tally,
            diagnostics: manifest.diagnostics.clone(),
            incomplete_reason: manifest.incomplete_reason.clone(),
        };
        let html_reports = suites.iter().map(|suite| html_reports(run, suite)).collect();
        Ok(ReportData {
            run: run_header,
            base,
            suites,
            html_reports,
            tests: rows,
            unlisted: page.unlisted,
            details,
            diagnostics: diagnoses.distinct,
            history,
        })
    }

    /// About how many bytes the blob takes, to size the page's buffer.
    pub(super) fn size_hint(&self) -> usize {
        self.tests.len() * 80 + self.details.len() * 1500
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

/// The letter a status has in a row and a history strip.
pub(super) fn letter(status: TestStatus) -> &'static str {
    match status {
        TestStatus::Passed => "p",
        TestStatus::Failed => "f",
        TestStatus::Error => "e",
        TestStatus::Skipped => "s",
    }
}

/// The Playwright HTML reports in `suite`'s output of each attempt
/// (`playwright-report/`, where qaagent has Playwright write them).
fn html_reports(run: &LoadedRun, suite: &SuiteEntry) -> Vec<String> {
    (1..=suite.attempts.max(1))
        .map(|attempt| match attempt {
            1 => format!("artifacts/{}/playwright-report/index.html", suite.name),
            n => format!("artifacts/{}/attempt-{n}/playwright-report/index.html", suite.name),
        })
        .filter(|path| evidence::is_run_relative(path) && run.dir.join(path).is_file())
        .collect()
}

/// Whether `metadata.KEY` is `true`.
fn flag(record: &RawRecord<'_>, key: &str) -> bool {
    record.metadata.get(key).is_some_and(|raw| raw.get() == "true")
}

/// A file that belongs to one test rather than to its suite: a picture, a
/// video or a trace, or anything in Playwright's per-test output directory.
fn is_attachment(reference: &str) -> bool {
    let extension = reference.rsplit_once('.').map_or("", |(_, ext)| ext);
    ATTACHMENT_EXTENSIONS
        .iter()
        .any(|ext| ext.eq_ignore_ascii_case(extension))
        || (reference.contains("/test-results/") && !reference.ends_with("/.last-run.json"))
}

fn needs_detail(status: TestStatus, flaky: bool, quarantined: bool, attachments: &[String]) -> bool {
    status != TestStatus::Passed || flaky || quarantined || !attachments.is_empty()
}

/// `short`: the run's details have used up [`Limits::detail_text`]. Its
/// diagnosis is left to [`ReportData::new`].
fn detail(record: &RawRecord<'_>, attachments: Vec<String>, short: bool) -> Detail {
    let (message_chars, details_chars) = match short {
        true => (SHORT_CHARS, SHORT_CHARS),
        false => (MESSAGE_CHARS, DETAILS_CHARS),
    };
    // Every text here came from a tool, and any of them can be megabytes.
    let text = |key| record.meta_str(key).map(|text| clip(&text, message_chars));
    let message = record.error_message().or_else(|| record.meta_str("message"));
    let details = record
        .meta_str("details")
        .filter(|details| Some(details) != message.as_ref());
    let selector = text("selector");
    let previous: Vec<Previous> = record
        .metadata
        .get("previous_failures")
        .and_then(|raw| serde_json::from_str(raw.get()).ok())
        .unwrap_or_default();
    Detail {
        message: message.map(|text| clip(&text, message_chars)),
        error_type: text("error_type"),
        details: details.map(|text| clip(&text, details_chars)),
        diagnosis: None,
        selector,
        file: text("file"),
        skip_reason: text("skip_reason"),
        quarantine_reason: text("quarantine_reason"),
        previous: previous
            .into_iter()
            .map(|prior| Previous {
                status: prior.status.map(|text| clip(&text, SHORT_CHARS)),
                message: prior.message.map(|text| clip(&text, message_chars)),
                ..prior
            })
            .collect(),
        attachments,
    }
}

/// The run's diagnoses without repeats (30,000 failures share a handful of
/// causes and suggestions), and which one each test has: found by its
/// suite and selector, else its suite and name.
struct Diagnoses<'a> {
    distinct: Vec<Diagnosis>,
    by_selector: HashMap<(&'a str, &'a str), usize>,
    by_name: HashMap<(&'a str, &'a str), usize>,
}

/// What the page shows of a diagnosis.
#[derive(Serialize, PartialEq, Eq, Hash, Clone)]
struct Diagnosis {
    category: String,
    root_cause: String,
    suggestion: String,
    /// Per mille, so that the type can be a hash key.
    confidence: u32,
}

impl<'a> Diagnoses<'a> {
    fn new(found: &'a [DiagnosticRecord]) -> Self {
        let mut diagnoses = Diagnoses {
            distinct: Vec::new(),
            by_selector: HashMap::new(),
            by_name: HashMap::new(),
        };
        let mut seen: HashMap<Diagnosis, usize> = HashMap::new();
        for record in found {
            let diagnosis = Diagnosis {
                category: record.category.clone(),
                root_cause: record.root_cause.clone(),
                suggestion: record.suggestion.clone(),
                confidence: (record.confidence * 1000.0).round() as u32,
            };
            let index = *seen.entry(diagnosis.clone()).or_insert_with(|| {
                diagnoses.distinct.push(diagnosis);
                diagnoses.distinct.len() - 1
            });
            if let Some(selector) = &record.selector {
                diagnoses.by_selector.entry((&record.suite, selector)).or_insert(index);
            }
            diagnoses
                .by_name
                .entry((&record.suite, &record.test_name))
                .or_insert(index);
        }
        diagnoses
    }

    fn find(&self, suite: &str, selector: Option<&str>, name: &str) -> Option<usize> {
        selector
            .and_then(|selector| self.by_selector.get(&(suite, selector)))
            .or_else(|| self.by_name.get(&(suite, name)))
            .copied()
    }
}

#[cfg(test)]
mod tests;
