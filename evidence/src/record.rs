//! The records of `evidence/tests.jsonl` and `evidence/diagnostics.json`.
//!
//! A [`TestRecord`] has exactly the Python qaagent's fields — older readers
//! build records from exactly these — and every extension lives in `metadata`.
//! Records are serialized by serde from a borrowed view of each case
//! ([`RecordLine`]), a line at a time into the (buffered) file, so writing a
//! large suite allocates little.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::artifacts::Kept;
use crate::error::EvidenceError;
use crate::manifest::Counts;
use crate::suite::{Cases, Failure, PriorFailure, TestStatus};

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
    pub status: TestStatus,
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
    /// Files kept for the test, relative to the run directory: its suite's
    /// reports and logs of the attempts that ran it, and its own attachments
    /// (not other tests').
    #[serde(default)]
    pub evidence_refs: Vec<String>,
    /// Labels (`flaky` for a test that passed on a retry).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Everything else: `classname`, `file`, `selector`, `attempts`, `flaky`,
    /// `error_type`, `details`, `skip_reason`, `system_out`, `system_err`,
    /// `previous_failures`, `failures` (each failure of a test that had
    /// several, e.g. pytest subtests), and on a quarantined test's record
    /// `quarantined` (`true`) and `quarantine_reason`.
    #[serde(default)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

/// One entry of `diagnostics.json`: how one failed or errored test was classified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiagnosticRecord {
    /// The test's name as its tool reports it (`Apply a coupon`,
    /// `test_discount_applied`), as the Python qaagent writes it; the suite's
    /// name for a suite's own error.
    pub test_name: String,
    /// What selects the test again (`tests/test_cart.py::test_discount_applied`,
    /// `features/cart.feature:15`), when the runner knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
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

    pub(crate) fn next(&mut self) -> String {
        self.last += 1;
        self.id(self.last)
    }

    /// The id `n` places after the last one handed out, without handing it
    /// out: records streamed while a suite runs follow the written ones.
    pub(crate) fn after(&self, n: usize) -> String {
        self.id(self.last + n as u64)
    }

    fn id(&self, n: u64) -> String {
        format!("TST-{}-{n:04}", self.date)
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
    /// The suite's kept artifacts.
    pub artifacts: &'a [Kept],
}

/// The artifacts a test's record names: the suite's files of the attempts
/// that ran it, less the attachments other tests claim. A retry's files are
/// below `attempt-N/` (those of attempt 1 are not): a test that passed in
/// attempt 1 does not point at attempt 2's report, which does not list it,
/// while one re-run in attempt 2 points at both reports, its earlier
/// failure's and its last result's. A test runs in attempts 1 to
/// `attempts`, each re-running a subset of the one before. An artifact a
/// test claims (its screenshot, the report of a directory's it came from)
/// is in that test's record only.
///
/// Worked out once per suite, so that a record costs its own references
/// and not a look at every artifact: with one claimed report per test, a
/// suite of 3,000 reports took 9 million path hashes (10 s).
struct RefIndex<'a> {
    artifacts: &'a [Kept],
    /// The attempt each of `artifacts` belongs to.
    attempts: Vec<u32>,
    /// The artifacts no test claims (the logs), in order: everyone's.
    shared: Vec<usize>,
    /// The artifacts some test claims, by the path its attachment names.
    claimed: HashMap<&'a Path, Vec<usize>>,
}

impl<'a> RefIndex<'a> {
    fn new(artifacts: &'a [Kept], claimed: &HashSet<PathBuf>) -> Self {
        let mut index = RefIndex {
            artifacts,
            attempts: artifacts.iter().map(|kept| attempt_of(&kept.reference)).collect(),
            shared: Vec::new(),
            claimed: HashMap::new(),
        };
        for (i, kept) in artifacts.iter().enumerate() {
            if claimed.contains(&kept.source) {
                index.claimed.entry(kept.source.as_path()).or_default().push(i);
            } else {
                index.shared.push(i);
            }
        }
        index
    }

    /// The references of a test with attachments `own` whose last attempt was `last`.
    fn of(&'a self, own: &[PathBuf], last: u32) -> EvidenceRefs<'a> {
        // Nothing allocated for the usual record, whose test claims no file:
        // 100,000 such records cost ~15 % more post-processing with a
        // vector each (BENCHMARKS.md, target 4).
        let mut claimed = Vec::new();
        if !self.claimed.is_empty() {
            claimed.extend(own.iter().filter_map(|path| self.claimed.get(path.as_path())).flatten());
            claimed.sort_unstable();
            claimed.dedup();
        }
        EvidenceRefs {
            index: self,
            claimed,
            last,
        }
    }
}

/// The references of one record: [`RefIndex::of`].
struct EvidenceRefs<'a> {
    index: &'a RefIndex<'a>,
    /// The indices into `index.artifacts` of the files this test claims, in order.
    claimed: Vec<usize>,
    /// The last attempt that ran the test.
    last: u32,
}

impl Serialize for EvidenceRefs<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let index = self.index;
        let reference = |i: usize| &index.artifacts[i].reference;
        let ran = |i: &usize| index.attempts[*i] <= self.last;
        if self.claimed.is_empty() {
            return serializer.collect_seq(index.shared.iter().copied().filter(ran).map(reference));
        }
        let mut all: Vec<usize> = (index.shared.iter().chain(&self.claimed))
            .copied()
            .filter(ran)
            .collect();
        all.sort_unstable();
        all.dedup();
        serializer.collect_seq(all.into_iter().map(reference))
    }
}

/// The attempt whose output `reference` (`artifacts/<suite>/…`) is: N for a
/// file below an `attempt-N` directory, else 1.
fn attempt_of(reference: &str) -> u32 {
    reference
        .split('/')
        .skip(2)
        .find_map(|part| part.strip_prefix("attempt-")?.parse().ok())
        .unwrap_or(1)
}

/// A record as written: field for field a [`TestRecord`], borrowing from the
/// [`Case`] and its suite.
#[derive(Serialize)]
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
    evidence_refs: EvidenceRefs<'a>,
    tags: &'a [&'a str],
    metadata: RecordMetadata<'a>,
}

/// The `metadata` object of a written record; `None` and empty fields are left out.
#[derive(Serialize)]
struct RecordMetadata<'a> {
    classname: &'a str,
    file: Option<&'a str>,
    selector: Option<&'a str>,
    attempts: u32,
    flaky: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    skip_reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system_out: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system_err: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    previous_failures: &'a [PriorFailure<'a>],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    failures: &'a [Failure<'a>],
    /// Only on a quarantined test's record: `true`, and the entry's reason.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    quarantined: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    quarantine_reason: Option<&'a str>,
}

/// Writes one JSON line per case to `out`, taking ids from `ids`, and counts
/// each case in `counts`. An I/O error is reported against `path` (what `out` writes to).
pub(crate) fn append_records<W: std::io::Write>(
    out: &mut W,
    path: &std::path::Path,
    ids: &mut TestIds,
    ctx: &SuiteRecordContext<'_>,
    cases: &dyn Cases,
    counts: &mut Counts,
) -> Result<(), EvidenceError> {
    const FLAKY: &[&str] = &["flaky"];
    let refs = RefIndex::new(ctx.artifacts, &cases.attachments()?);
    cases.for_each(&mut |case| {
        counts.add_case(case.status, case.flaky);
        let test_id = ids.next();
        let (error_message, skip_reason, other_message) = match case.status {
            TestStatus::Failed | TestStatus::Error => (case.message, None, None),
            TestStatus::Skipped => (None, case.message, None),
            TestStatus::Passed => (None, None, case.message),
        };
        let record = RecordLine {
            test_id: &test_id,
            kind: ctx.suite,
            name: case.name,
            status: case.status,
            suite_name: ctx.suite,
            runner_type: ctx.runner,
            duration: if case.duration.is_finite() { case.duration } else { 0.0 },
            route: case.route.as_deref(),
            error_message,
            last_run: ctx.last_run,
            evidence_refs: refs.of(case.attachments, case.attempts.max(1)),
            tags: if case.flaky { FLAKY } else { &[] },
            metadata: RecordMetadata {
                classname: case.classname,
                file: case.file,
                selector: case.selector,
                attempts: case.attempts,
                flaky: case.flaky,
                error_type: case.error_type,
                details: case.details,
                skip_reason,
                message: other_message,
                system_out: case.system_out,
                system_err: case.system_err,
                previous_failures: &case.previous_failures,
                failures: &case.failures,
                quarantined: case.quarantine.is_some(),
                quarantine_reason: case.quarantine,
            },
        };
        serde_json::to_writer(&mut *out, &record).map_err(|source| {
            if source.is_io() {
                EvidenceError::io("write", path)(source.into())
            } else {
                EvidenceError::Serialize {
                    what: "test record",
                    source,
                }
            }
        })?;
        out.write_all(b"\n").map_err(EvidenceError::io("write", path))
    })
}

/// Replaces `<run_dir>/evidence/diagnostics.json` with `records`, atomically.
pub(crate) fn write_diagnostics_file(
    run_dir: &std::path::Path,
    records: &[DiagnosticRecord],
) -> Result<(), EvidenceError> {
    let path = run_dir.join(crate::manifest::DIAGNOSTICS_FILE);
    crate::atomic::write_atomically_with(&path, |sink| {
        serde_json::to_writer_pretty(sink, records).map_err(|source| {
            if source.is_io() {
                EvidenceError::io("write", &path)(source.into())
            } else {
                EvidenceError::Serialize {
                    what: "diagnostics",
                    source,
                }
            }
        })
    })
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

    fn kept(source: &str, reference: &str) -> Kept {
        Kept {
            source: source.into(),
            reference: reference.to_string(),
        }
    }

    fn write(cases: Vec<crate::suite::Case<'static>>) -> Vec<serde_json::Value> {
        write_with(cases, &[kept("/out/junit.xml", "artifacts/unit/junit.xml")])
    }

    fn write_with(cases: Vec<crate::suite::Case<'static>>, artifacts: &[Kept]) -> Vec<serde_json::Value> {
        let mut buf = Vec::new();
        let mut ids = TestIds::new("20250304");
        let ctx = SuiteRecordContext {
            suite: "unit",
            runner: "pytest",
            last_run: "2025-03-04T05:06:07Z",
            artifacts,
        };
        append_records(
            &mut buf,
            std::path::Path::new("tests.jsonl"),
            &mut ids,
            &ctx,
            &cases,
            &mut Counts::default(),
        )
        .expect("serializes");
        let text = String::from_utf8(buf).expect("utf8");
        assert!(text.ends_with('\n'));
        text.lines()
            .map(|l| serde_json::from_str(l).expect("each line parses"))
            .collect()
    }

    #[test]
    fn each_record_refers_to_its_own_attachments_and_the_suites_files() {
        // `Case<'static>` for the test's `Cases`: the paths live to the end of the test.
        let a_files: &'static [std::path::PathBuf] =
            Box::leak(vec![std::path::PathBuf::from("/out/a/shot.png")].into_boxed_slice());
        let b_files: &'static [std::path::PathBuf] = Box::leak(
            vec![
                std::path::PathBuf::from("/out/b/shot.png"),
                std::path::PathBuf::from("/out/b/trace.zip"),
            ]
            .into_boxed_slice(),
        );
        let mut a = crate::suite::Case::new("a", "c", TestStatus::Failed);
        a.attachments = a_files;
        let mut b = crate::suite::Case::new("b", "c", TestStatus::Failed);
        b.attachments = b_files;
        let plain = crate::suite::Case::new("plain", "c", TestStatus::Passed);
        let artifacts = [
            kept("/out/junit.xml", "artifacts/e2e/junit.xml"),
            kept("/out/a/shot.png", "artifacts/e2e/a/shot.png"),
            kept("/out/b/shot.png", "artifacts/e2e/b/shot.png"),
            kept("/out/stdout.log", "artifacts/e2e/stdout.log"),
            kept("/out/b/trace.zip", "artifacts/e2e/b/trace.zip"),
        ];
        let records = write_with(vec![a, b, plain], &artifacts);
        let refs: Vec<&serde_json::Value> = records.iter().map(|r| &r["evidence_refs"]).collect();
        assert_eq!(
            refs,
            [
                &serde_json::json!([
                    "artifacts/e2e/junit.xml",
                    "artifacts/e2e/a/shot.png",
                    "artifacts/e2e/stdout.log"
                ]),
                &serde_json::json!([
                    "artifacts/e2e/junit.xml",
                    "artifacts/e2e/b/shot.png",
                    "artifacts/e2e/stdout.log",
                    "artifacts/e2e/b/trace.zip"
                ]),
                &serde_json::json!(["artifacts/e2e/junit.xml", "artifacts/e2e/stdout.log"]),
            ]
        );
    }

    #[test]
    fn records_have_exactly_the_python_fields() {
        let mut failed = crate::suite::Case::new("test_get_pet", "tests.test_pets", TestStatus::Failed);
        failed.message = Some("assert 1 == 2");
        failed.error_type = Some("AssertionError");
        failed.selector = Some("tests/test_pets.py::test_get_pet");
        failed.file = Some("tests/test_pets.py");
        failed.duration = 0.25;
        failed.route = Some("GET /pets".to_string());
        let records = write(vec![failed]);
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
        assert_eq!(record.status, TestStatus::Failed);
        assert_eq!(records[0]["status"], "failed");
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
        let mut skipped = crate::suite::Case::new("test_skip", "c", TestStatus::Skipped);
        skipped.message = Some("no db");
        let mut flaky = crate::suite::Case::new("test_flaky", "c", TestStatus::Passed);
        flaky.flaky = true;
        flaky.attempts = 2;
        flaky.previous_failures.push(PriorFailure {
            failure: Failure {
                status: TestStatus::Failed,
                message: Some("first time"),
                error_type: None,
                details: None,
            },
            duration: 0.1,
        });
        let records = write(vec![skipped, flaky]);
        assert_eq!(records[0]["error_message"], serde_json::Value::Null);
        assert_eq!(records[0]["metadata"]["skip_reason"], "no db");
        assert_eq!(records[0]["route"], serde_json::Value::Null);
        assert_eq!(records[1]["test_id"], "TST-20250304-0002");
        assert_eq!(records[1]["tags"], serde_json::json!(["flaky"]));
        assert_eq!(records[1]["metadata"]["attempts"], 2);
        assert_eq!(records[1]["metadata"]["previous_failures"][0]["message"], "first time");
    }

    #[test]
    fn a_record_names_the_files_of_the_attempts_that_ran_its_test() {
        assert_eq!(attempt_of("artifacts/unit/junit.xml"), 1);
        assert_eq!(attempt_of("artifacts/unit/attempt-2/junit.xml"), 2);
        assert_eq!(attempt_of("artifacts/unit/share-1/attempt-3/stdout.log"), 3);
        assert_eq!(
            attempt_of("artifacts/attempt-2/junit.xml"),
            1,
            "a suite so named is no attempt"
        );
        let kept = ["artifacts/unit/junit.xml", "artifacts/unit/attempt-2/junit.xml"].map(|reference| Kept {
            source: PathBuf::from(reference),
            reference: reference.to_string(),
        });
        let index = RefIndex::new(&kept, &HashSet::new());
        let json = |last| serde_json::to_string(&index.of(&[], last)).expect("json");
        assert_eq!(json(1), r#"["artifacts/unit/junit.xml"]"#);
        assert_eq!(
            json(2),
            r#"["artifacts/unit/junit.xml","artifacts/unit/attempt-2/junit.xml"]"#
        );
    }

    /// The exact line a case becomes: key order, `null`s, escapes and numbers
    /// as the Python qaagent's readers (and earlier qaagent versions) have them.
    #[test]
    fn a_record_line_is_written_exactly() {
        let mut case = crate::suite::Case::new("test_\"quoted\"\t日本", "tests.t", TestStatus::Error);
        case.message = Some("boom\u{1}");
        case.details = Some("trace\n\tline");
        case.duration = 0.005;
        case.flaky = true;
        case.previous_failures.push(PriorFailure {
            failure: Failure {
                status: TestStatus::Failed,
                message: None,
                error_type: Some("E"),
                details: None,
            },
            duration: 1e-7,
        });
        let mut buf = Vec::new();
        let ctx = SuiteRecordContext {
            suite: "unit",
            runner: "pytest",
            last_run: "2025-03-04T05:06:07Z",
            artifacts: &[],
        };
        append_records(
            &mut buf,
            std::path::Path::new("tests.jsonl"),
            &mut TestIds::new("20250304"),
            &ctx,
            &vec![case],
            &mut Counts::default(),
        )
        .expect("serializes");
        assert_eq!(
            String::from_utf8(buf).expect("utf8"),
            concat!(
                r#"{"test_id":"TST-20250304-0001","kind":"unit","name":"test_\"quoted\"\t日本","status":"error","#,
                r#""suite_name":"unit","runner_type":"pytest","duration":0.005,"route":null,"error_message":"boom\u0001","#,
                r#""last_run":"2025-03-04T05:06:07Z","evidence_refs":[],"tags":["flaky"],"metadata":{"classname":"tests.t","#,
                r#""file":null,"selector":null,"attempts":1,"flaky":true,"details":"trace\n\tline","#,
                r#""previous_failures":[{"status":"failed","message":null,"error_type":"E","details":null,"duration":1e-7}]}}"#,
                "\n"
            )
        );
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
