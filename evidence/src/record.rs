//! The records of `evidence/tests.jsonl` and `evidence/diagnostics.json`.
//!
//! A [`TestRecord`] has exactly the Python qaagent's fields — older readers
//! build records from exactly these — and every extension lives in `metadata`.
//! Records are written from borrowed views of the [`TestCase`]s ([`RecordLine`]),
//! a line at a time into the (buffered) file, so writing a large suite
//! allocates little.

use runner_api::case::PriorFailure;
use runner_api::{TestCase, TestStatus};
use serde::{Deserialize, Serialize};

use crate::error::EvidenceError;
use crate::json_text;

/// One line of `tests.jsonl`, as read back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestRecord {
    /// `TST-YYYYMMDD-0001`: the run's date and a sequence number in file order.
    pub test_id: String,
    /// The suite's name (the Python qaagent's record kind).
    pub kind: String,
    /// The test's name as its tool reports it.
    pub name: String,
    /// `passed`, `failed`, `error` or `skipped`.
    pub status: String,
    /// The suite's name.
    #[serde(default)]
    pub suite_name: Option<String>,
    /// The runner that ran it (`pytest`, …).
    #[serde(default)]
    pub runner_type: Option<String>,
    /// Seconds the test took.
    #[serde(default)]
    pub duration: Option<f64>,
    /// The HTTP route the test exercises, when its name says.
    #[serde(default)]
    pub route: Option<String>,
    /// The failure or error message (failed and errored tests only).
    #[serde(default)]
    pub error_message: Option<String>,
    /// When the suite that ran it finished, `YYYY-MM-DDTHH:MM:SSZ`.
    #[serde(default)]
    pub last_run: Option<String>,
    /// The suite's artifacts, relative to the run directory.
    #[serde(default)]
    pub evidence_refs: Vec<String>,
    /// Labels (`flaky` for a test that passed on a retry).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Everything else: `classname`, `file`, `selector`, `attempts`, `flaky`,
    /// `error_type`, `details`, `skip_reason`, `system_out`, `system_err`,
    /// `previous_failures`.
    #[serde(default)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

/// One entry of `diagnostics.json`: how one failed or errored test was classified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiagnosticRecord {
    /// The test's name.
    pub test_name: String,
    /// Its suite.
    pub suite: String,
    /// `timeout`, `connection`, `auth`, `data`, `flaky`, `assertion` or `unknown`.
    pub category: String,
    /// The probable cause, in words.
    pub root_cause: String,
    /// How sure the classification is (0.6 when a rule matched, 0.3 when unknown).
    pub confidence: f64,
    /// What to do about it.
    pub suggestion: String,
    /// The test's error message.
    #[serde(default)]
    pub error_message: Option<String>,
    /// The route the test exercises.
    #[serde(default)]
    pub route: Option<String>,
}

/// Hands out `TST-YYYYMMDD-NNNN` ids in order, for one run.
#[derive(Debug)]
pub(crate) struct TestIds {
    date: String,
    last: u64,
}

impl TestIds {
    /// Ids dated `date` (`YYYYMMDD`, from the run id), starting at 0001.
    pub(crate) fn new(date: &str) -> Self {
        TestIds {
            date: date.to_string(),
            last: 0,
        }
    }

    fn next(&mut self) -> String {
        self.last += 1;
        format!("TST-{}-{:04}", self.date, self.last)
    }
}

/// What the records of one suite share.
pub(crate) struct SuiteRecordContext<'a> {
    /// Suite name.
    pub suite: &'a str,
    /// Runner name.
    pub runner: &'a str,
    /// When the suite finished.
    pub last_run: &'a str,
    /// The suite's copied artifacts, relative to the run directory.
    pub evidence_refs: &'a [String],
}

/// A record to write, borrowing from the case; field for field a
/// [`TestRecord`], written by [`RecordLine::write_json`]. (Tests check that
/// against what serde would write for it.)
#[cfg_attr(test, derive(Serialize))]
struct RecordLine<'a> {
    test_id: &'a str,
    kind: &'a str,
    name: &'a str,
    status: TestStatus,
    suite_name: &'a str,
    runner_type: &'a str,
    duration: f64,
    route: Option<&'a str>,
    error_message: Option<&'a str>,
    last_run: &'a str,
    evidence_refs: &'a [String],
    tags: &'a [&'a str],
    metadata: RecordMetadata<'a>,
}

/// The `metadata` object of a written record; `None` and empty fields are left out.
#[cfg_attr(test, derive(Serialize))]
struct RecordMetadata<'a> {
    classname: &'a str,
    file: Option<&'a str>,
    selector: Option<&'a str>,
    attempts: u32,
    flaky: bool,
    #[cfg_attr(test, serde(skip_serializing_if = "Option::is_none"))]
    error_type: Option<&'a str>,
    #[cfg_attr(test, serde(skip_serializing_if = "Option::is_none"))]
    details: Option<&'a str>,
    #[cfg_attr(test, serde(skip_serializing_if = "Option::is_none"))]
    skip_reason: Option<&'a str>,
    #[cfg_attr(test, serde(skip_serializing_if = "Option::is_none"))]
    message: Option<&'a str>,
    #[cfg_attr(test, serde(skip_serializing_if = "Option::is_none"))]
    system_out: Option<&'a str>,
    #[cfg_attr(test, serde(skip_serializing_if = "Option::is_none"))]
    system_err: Option<&'a str>,
    #[cfg_attr(test, serde(skip_serializing_if = "<[_]>::is_empty"))]
    previous_failures: &'a [PriorFailure],
}

impl RecordLine<'_> {
    /// Appends the record as one line of compact JSON (no newline), byte for
    /// byte what `serde_json` writes for it. Written by hand because records
    /// are mostly text, and `serde_json` escapes it a byte at a time
    /// ([`json_text`]); numbers and earlier failures still go through serde.
    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        fn field(out: &mut Vec<u8>, name: &str) {
            out.push(b',');
            json_text::push_str(out, name);
            out.push(b':');
        }
        fn text(out: &mut Vec<u8>, name: &str, value: &str) {
            field(out, name);
            json_text::push_str(out, value);
        }
        fn maybe_text(out: &mut Vec<u8>, name: &str, value: Option<&str>) {
            field(out, name);
            json_text::push_opt_str(out, value);
        }
        out.extend_from_slice(b"{\"test_id\":");
        json_text::push_str(out, self.test_id);
        text(out, "kind", self.kind);
        text(out, "name", self.name);
        text(out, "status", self.status.as_str());
        text(out, "suite_name", self.suite_name);
        text(out, "runner_type", self.runner_type);
        field(out, "duration");
        serde_json::to_writer(&mut *out, &self.duration)?;
        maybe_text(out, "route", self.route);
        maybe_text(out, "error_message", self.error_message);
        text(out, "last_run", self.last_run);
        field(out, "evidence_refs");
        push_str_array(out, self.evidence_refs.iter().map(String::as_str));
        field(out, "tags");
        push_str_array(out, self.tags.iter().copied());

        let meta = &self.metadata;
        out.extend_from_slice(b",\"metadata\":{\"classname\":");
        json_text::push_str(out, meta.classname);
        maybe_text(out, "file", meta.file);
        maybe_text(out, "selector", meta.selector);
        field(out, "attempts");
        serde_json::to_writer(&mut *out, &meta.attempts)?;
        field(out, "flaky");
        out.extend_from_slice(if meta.flaky { b"true" } else { b"false" });
        let optional = [
            ("error_type", meta.error_type),
            ("details", meta.details),
            ("skip_reason", meta.skip_reason),
            ("message", meta.message),
            ("system_out", meta.system_out),
            ("system_err", meta.system_err),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                text(out, name, value);
            }
        }
        if !meta.previous_failures.is_empty() {
            field(out, "previous_failures");
            serde_json::to_writer(&mut *out, meta.previous_failures)?;
        }
        out.extend_from_slice(b"}}");
        Ok(())
    }
}

/// Appends a JSON array of strings.
fn push_str_array<'a>(out: &mut Vec<u8>, items: impl Iterator<Item = &'a str>) {
    out.push(b'[');
    for (index, item) in items.enumerate() {
        if index > 0 {
            out.push(b',');
        }
        json_text::push_str(out, item);
    }
    out.push(b']');
}

/// Writes one JSON line per case to `out`, taking ids from `ids` and routes
/// from `route`. An I/O error is reported against `path` (what `out` writes to).
pub(crate) fn append_records<W: std::io::Write>(
    out: &mut W,
    path: &std::path::Path,
    ids: &mut TestIds,
    ctx: &SuiteRecordContext<'_>,
    cases: &[TestCase],
    route: &dyn Fn(&TestCase) -> Option<String>,
) -> Result<(), EvidenceError> {
    const FLAKY: &[&str] = &["flaky"];
    // One line is built in memory and handed to `out` whole: the JSON is
    // written in many small pieces, each a plain copy into a Vec.
    let mut line = Vec::with_capacity(4096);
    for case in cases {
        let test_id = ids.next();
        let route = route(case);
        let message = case.message.as_deref();
        let (error_message, skip_reason, other_message) = match case.status {
            TestStatus::Failed | TestStatus::Error => (message, None, None),
            TestStatus::Skipped => (None, message, None),
            TestStatus::Passed => (None, None, message),
        };
        let record = RecordLine {
            test_id: &test_id,
            kind: ctx.suite,
            name: &case.name,
            status: case.status,
            suite_name: ctx.suite,
            runner_type: ctx.runner,
            duration: if case.duration.is_finite() { case.duration } else { 0.0 },
            route: route.as_deref(),
            error_message,
            last_run: ctx.last_run,
            evidence_refs: ctx.evidence_refs,
            tags: if case.flaky { FLAKY } else { &[] },
            metadata: RecordMetadata {
                classname: &case.classname,
                file: case.file.as_deref(),
                selector: case.selector.as_deref(),
                attempts: case.attempts,
                flaky: case.flaky,
                error_type: case.error_type.as_deref(),
                details: case.details.as_deref(),
                skip_reason,
                message: other_message,
                system_out: case.system_out.as_deref(),
                system_err: case.system_err.as_deref(),
                previous_failures: &case.previous_failures,
            },
        };
        line.clear();
        record
            .write_json(&mut line)
            .map_err(|source| EvidenceError::Serialize {
                what: "test record",
                source,
            })?;
        line.push(b'\n');
        out.write_all(&line).map_err(EvidenceError::io("write", path))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: [&str; 13] = [
        "test_id",
        "kind",
        "name",
        "status",
        "suite_name",
        "runner_type",
        "duration",
        "route",
        "error_message",
        "last_run",
        "evidence_refs",
        "tags",
        "metadata",
    ];

    fn write(cases: &[TestCase]) -> Vec<serde_json::Value> {
        let mut buf = Vec::new();
        let mut ids = TestIds::new("20250304");
        let refs = vec!["artifacts/unit/junit.xml".to_string()];
        let ctx = SuiteRecordContext {
            suite: "unit",
            runner: "pytest",
            last_run: "2025-03-04T05:06:07Z",
            evidence_refs: &refs,
        };
        let route = |case: &TestCase| case.name.contains("get").then(|| "GET /pets".to_string());
        append_records(
            &mut buf,
            std::path::Path::new("tests.jsonl"),
            &mut ids,
            &ctx,
            cases,
            &route,
        )
        .expect("serializes");
        let text = String::from_utf8(buf).expect("utf8");
        assert!(text.ends_with('\n'));
        text.lines()
            .map(|l| serde_json::from_str(l).expect("each line parses"))
            .collect()
    }

    #[test]
    fn records_have_exactly_the_python_fields() {
        let mut failed = TestCase::new("test_get_pet", "tests.test_pets", TestStatus::Failed);
        failed.message = Some("assert 1 == 2".into());
        failed.error_type = Some("AssertionError".into());
        failed.selector = Some("tests/test_pets.py::test_get_pet".into());
        failed.file = Some("tests/test_pets.py".into());
        failed.duration = 0.25;
        let records = write(&[failed]);
        let object = records[0].as_object().expect("object");
        let keys: Vec<&str> = object.keys().map(String::as_str).collect();
        let mut expected = FIELDS.to_vec();
        expected.sort_unstable();
        let mut got = keys.clone();
        got.sort_unstable();
        assert_eq!(got, expected);
        let record: TestRecord = serde_json::from_value(records[0].clone()).expect("typed");
        assert_eq!(record.test_id, "TST-20250304-0001");
        assert_eq!(record.kind, "unit");
        assert_eq!(record.status, "failed");
        assert_eq!(record.route.as_deref(), Some("GET /pets"));
        assert_eq!(record.error_message.as_deref(), Some("assert 1 == 2"));
        assert_eq!(record.evidence_refs, ["artifacts/unit/junit.xml"]);
        assert_eq!(record.metadata["classname"], "tests.test_pets");
        assert_eq!(record.metadata["selector"], "tests/test_pets.py::test_get_pet");
        assert_eq!(record.metadata["error_type"], "AssertionError");
        assert_eq!(record.metadata["attempts"], 1);
        assert_eq!(record.metadata["flaky"], false);
    }

    #[test]
    fn skip_reasons_stay_out_of_error_message_and_flaky_is_tagged() {
        let mut skipped = TestCase::new("test_skip", "c", TestStatus::Skipped);
        skipped.message = Some("no db".into());
        let mut flaky = TestCase::new("test_flaky", "c", TestStatus::Passed);
        flaky.flaky = true;
        flaky.attempts = 2;
        flaky.previous_failures.push(PriorFailure {
            status: TestStatus::Failed,
            message: Some("first time".into()),
            error_type: None,
            details: None,
            duration: 0.1,
        });
        let records = write(&[skipped, flaky]);
        assert_eq!(records[0]["error_message"], serde_json::Value::Null);
        assert_eq!(records[0]["metadata"]["skip_reason"], "no db");
        assert_eq!(records[0]["route"], serde_json::Value::Null);
        assert_eq!(records[1]["test_id"], "TST-20250304-0002");
        assert_eq!(records[1]["tags"], serde_json::json!(["flaky"]));
        assert_eq!(records[1]["metadata"]["attempts"], 2);
        assert_eq!(records[1]["metadata"]["previous_failures"][0]["message"], "first time");
    }

    /// The hand-written JSON is what serde would write for the same record.
    #[test]
    fn records_are_written_byte_for_byte_as_serde_writes_them() {
        let prior = PriorFailure {
            status: TestStatus::Error,
            message: Some("boom \"quoted\"".into()),
            error_type: None,
            details: Some("trace\n\tline".into()),
            duration: 0.125,
        };
        let texts = ["", "plain", "tab\tquote\"back\\slash\u{1}\u{7f}", "日本 😀\r\n"];
        for (index, text) in texts.iter().enumerate() {
            let some = |on: bool| on.then_some(*text);
            for variant in 0..4u32 {
                let on = |bit: u32| (variant >> bit) & 1 == 1;
                let previous = [prior.clone()];
                let record = RecordLine {
                    test_id: "TST-20250304-0001",
                    kind: text,
                    name: text,
                    status: [
                        TestStatus::Passed,
                        TestStatus::Failed,
                        TestStatus::Error,
                        TestStatus::Skipped,
                    ][index],
                    suite_name: text,
                    runner_type: "pytest",
                    duration: [0.0, 1.0, 0.005, 1e-7][variant as usize],
                    route: some(on(0)),
                    error_message: some(on(1)),
                    last_run: "2025-03-04T05:06:07Z",
                    evidence_refs: &[text.to_string(), "artifacts/unit/junit.xml".into()][..index % 3],
                    tags: if on(0) { &["flaky"] } else { &[] },
                    metadata: RecordMetadata {
                        classname: text,
                        file: some(on(1)),
                        selector: some(on(0)),
                        attempts: variant + 1,
                        flaky: on(0),
                        error_type: some(on(1)),
                        details: some(on(0)),
                        skip_reason: some(on(1)),
                        message: some(on(0)),
                        system_out: some(on(1)),
                        system_err: some(on(0)),
                        previous_failures: if on(1) { &previous } else { &[] },
                    },
                };
                let mut ours = Vec::new();
                record.write_json(&mut ours).expect("writes");
                let serde = serde_json::to_vec(&record).expect("serializes");
                assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&serde));
            }
        }
    }

    #[test]
    fn ids_keep_counting_past_four_digits() {
        let mut ids = TestIds::new("20250304");
        for _ in 0..9999 {
            ids.next();
        }
        assert_eq!(ids.next(), "TST-20250304-10000");
    }
}
