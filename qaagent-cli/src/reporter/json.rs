//! `--format json`: newline-delimited JSON events on stdout, one object per
//! line, each with `"version"` and `"event"`. The schema is documented in the
//! README ("Machine-readable output") and checked by the integration tests.

use std::io::{self, Write};

use orchestrator::events::Event;
use orchestrator::run::RunReport;
use runner_api::{OutputStream, SuiteResult, TestCase, TestEvent};
use serde_json::{json, Value};

use super::Reporter;
use crate::exit;

/// The event schema's version; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// Writes one JSON object per line to `out`.
pub struct JsonReporter<W: Write> {
    out: W,
}

impl<W: Write> JsonReporter<W> {
    /// A reporter writing to `out`.
    pub fn new(out: W) -> Self {
        JsonReporter { out }
    }

    fn emit(&mut self, event: &str, mut body: Value) -> io::Result<()> {
        if let Value::Object(map) = &mut body {
            map.insert("version".into(), json!(SCHEMA_VERSION));
            map.insert("event".into(), json!(event));
        }
        let mut line = serde_json::to_vec(&body).map_err(io::Error::other)?;
        line.push(b'\n');
        // One write per event: a reader never sees half an object.
        self.out.write_all(&line)?;
        self.out.flush()
    }
}

impl<W: Write> Reporter for JsonReporter<W> {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::RunStarted {
                run_id,
                run_dir,
                parallel,
                workers,
                suites,
                ..
            } => self.emit(
                "run-started",
                json!({
                    "run_id": run_id,
                    "run_dir": run_dir,
                    "parallel": parallel,
                    "workers": workers,
                    "suites": suites,
                }),
            ),
            Event::AttemptStarted {
                index,
                suite,
                attempt,
                selected,
            } => {
                let name = if *attempt == 1 {
                    "suite-started"
                } else {
                    "attempt-started"
                };
                self.emit(
                    name,
                    json!({ "index": index, "suite": suite, "attempt": attempt, "selected": selected }),
                )
            }
            Event::AttemptFinished {
                index,
                suite,
                attempt,
                outcome,
                passed,
                failed,
                errors,
                skipped,
                duration,
                error,
            } => self.emit(
                "attempt-finished",
                json!({
                    "index": index,
                    "suite": suite,
                    "attempt": attempt,
                    "outcome": outcome,
                    "counts": { "passed": passed, "failed": failed, "errors": errors, "skipped": skipped },
                    "duration": duration.as_secs_f64(),
                    "error": error,
                }),
            ),
            Event::Test {
                index,
                suite,
                attempt,
                event,
            } => {
                let (name, body) = match event {
                    TestEvent::Planned(total) => ("tests-planned", json!({ "total": total })),
                    TestEvent::Started(case) => ("test-started", test_id(case)),
                    TestEvent::Finished(case) => ("test-finished", case_body(case)),
                };
                let mut body = body;
                if let Value::Object(map) = &mut body {
                    map.insert("index".into(), json!(index));
                    map.insert("suite".into(), json!(suite));
                    map.insert("attempt".into(), json!(attempt));
                }
                self.emit(name, body)
            }
            Event::SuiteFinished { index, result } => self.emit("suite-finished", suite_body(*index, result)),
            Event::Output(line) => self.emit(
                "output",
                json!({
                    "suite": line.suite,
                    "stream": match line.stream { OutputStream::Stdout => "stdout", OutputStream::Stderr => "stderr" },
                    "line": line.line,
                }),
            ),
            Event::RunFinished(report) => self.run_finished(report),
        }
    }
}

impl<W: Write> JsonReporter<W> {
    fn run_finished(&mut self, report: &RunReport) -> io::Result<()> {
        let summary = &report.summary;
        self.emit(
            "run-finished",
            json!({
                "status": report.verdict.status(),
                "exit_code": exit::for_verdict(report.verdict),
                "totals": {
                    "suites": summary.suites,
                    "tests": summary.tests,
                    "passed": summary.passed,
                    "failed": summary.failed,
                    "errors": summary.errors,
                    "skipped": summary.skipped,
                    "flaky": summary.flaky,
                    "suite_errors": summary.suite_errors,
                    "quarantined": summary.quarantined,
                },
                "quarantined": quarantined_failures(report),
                "wall_seconds": summary.wall.as_secs_f64(),
                "suites_seconds": summary.suites_duration.as_secs_f64(),
                "diagnostics": report.diagnostics,
                "evidence": report.run_dir,
                "warnings": report.warnings,
                "notes": report.notes,
                "errors": report.errors,
            }),
        )
    }
}

/// The failed and errored tests that are quarantined: they did not fail the
/// run (those of a suite with an error of its own did, and are not listed).
fn quarantined_failures(report: &RunReport) -> Vec<Value> {
    (report.results.iter())
        .flat_map(|result| {
            (result.cases.iter())
                .filter(|case| orchestrator::quarantine::excuses(result, case))
                .filter_map(|case| {
                    let reason = case.quarantine.as_deref()?;
                    Some(json!({
                        "suite": result.suite,
                        "name": case.name,
                        "selector": case.selector,
                        "status": case.status,
                        "reason": reason,
                        "message": case.message,
                    }))
                })
        })
        .collect()
}

fn suite_body(index: usize, result: &SuiteResult) -> Value {
    json!({
        "index": index,
        "suite": result.suite,
        "runner": result.runner,
        "outcome": result.outcome(),
        "counts": {
            "passed": result.passed(),
            "failed": result.failed(),
            "errors": result.errors(),
            "skipped": result.skipped_cases(),
            "flaky": result.flaky(),
        },
        "duration": result.duration.as_secs_f64(),
        "attempts": result.attempts,
        "return_code": result.return_code,
        "error": result.error,
        "skip_reason": result.skip_reason,
        "leaked": result.leaked,
        "cases": result.cases.iter().map(case_body).collect::<Vec<_>>(),
    })
}

/// Who a test is: what a `test-started` event says.
fn test_id(case: &TestCase) -> Value {
    json!({
        "name": case.name,
        "classname": case.classname,
        "selector": case.selector,
    })
}

fn case_body(case: &TestCase) -> Value {
    json!({
        "name": case.name,
        "classname": case.classname,
        "selector": case.selector,
        "status": case.status,
        "duration": case.duration,
        "attempts": case.attempts,
        "flaky": case.flaky,
        "quarantine": case.quarantine,
        "message": case.message,
    })
}
