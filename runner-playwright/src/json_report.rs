//! Playwright's JSON report (`report.json`): the runner's first source for an
//! attempt's tests, read before its JUnit because it keeps what JUnit loses:
//!
//! - every run of a test Playwright retried itself (`retries` in its config,
//!   `--retries` in the suite's args). A test that failed and then passed is
//!   `passed` and flaky, with one attempt per run and the failed runs as its
//!   previous failures: the model of qaagent's own retries, whose merge adds
//!   its attempts to these. One that failed and then was skipped (Playwright
//!   calls it "flaky") is `skipped` with its failed runs as previous
//!   failures, which the engine makes a failure: it never passed;
//! - each run's error as Playwright wrote it, with the expected and received
//!   lines and the advice of a missing browser ([`failure_text`]);
//! - each run's attachments (screenshots, traces, videos), which become the
//!   test's own evidence.
//!
//! The report holds `config` (its `rootDir`), `suites` (one per file, each
//! holding describe blocks as nested `suites` and tests as `specs`; each spec
//! has one test per project, each test one result per run), `errors` (errors
//! outside any test) and `stats`.
//!
//! The report is a tool's output, so untrusted: it is read from a file of at
//! most [`MAX_REPORT_BYTES`] into typed structures that keep only what is
//! used (inline attachment bodies are skipped), and texts are bounded. A
//! report of another shape is a [`JsonReportError`] (the runner then reads
//! the JUnit report); a status it does not know makes a test an error; errors
//! outside tests, and counts the tests do not bear out, are
//! [`SuiteProblem`]s. Nothing in it can make a suite pass that its tests do
//! not.

use std::path::{Path, PathBuf};

use runner_api::case::PriorFailure;
use runner_api::junit::{SuiteProblem, KEPT_TEXT_BYTES};
use runner_api::{TestCase, TestStatus};
use serde::Deserialize;

use crate::selector;

/// The largest report read; a larger one is left to the JUnit reader, which
/// streams. Far above what tens of thousands of tests with long errors write.
pub const MAX_REPORT_BYTES: u64 = 256 * 1024 * 1024;

/// Why a JSON report could not be used.
#[derive(Debug, thiserror::Error)]
pub enum JsonReportError {
    /// It could not be opened or read.
    #[error("cannot read Playwright's JSON report {}: {source}", path.display())]
    Io {
        /// The report.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// It is larger than [`MAX_REPORT_BYTES`].
    #[error("Playwright's JSON report {} has {bytes} bytes, more than qaagent reads", path.display())]
    TooLarge {
        /// The report.
        path: PathBuf,
        /// Its size.
        bytes: u64,
    },
    /// It is not JSON of the shape Playwright writes.
    #[error("Playwright's JSON report {} is not what Playwright writes: {source}", path.display())]
    Malformed {
        /// The report.
        path: PathBuf,
        /// Where and why.
        #[source]
        source: serde_json::Error,
    },
}

/// What a JSON report says: its tests, and what went wrong beyond them.
#[derive(Debug, Default)]
pub struct JsonReport {
    /// One case per test and project, in report order.
    pub cases: Vec<TestCase>,
    /// Errors outside any test, and counts the tests do not bear out.
    pub problems: Vec<SuiteProblem>,
}

/// Reads the report at `path`; each case's `file` is made relative to
/// `suite_path` when it lies below it.
pub fn read(path: &Path, suite_path: &Path) -> Result<JsonReport, JsonReportError> {
    Ok(load(path)?.into_cases(suite_path))
}

/// One test of a listing (`playwright test --list --reporter=json`, a
/// report of the same shape with no runs): its selector, project and where
/// it is declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// `[project] › file › titles` (see [`selector`]).
    pub selector: String,
    /// Its project's name, empty for an unnamed one.
    pub project: String,
    /// The absolute path of its file.
    pub file: PathBuf,
    /// The line and column of its declaration.
    pub line: u32,
    /// See `line`.
    pub column: u32,
}

/// Every test of the listing at `path`, one per project, in report order.
pub fn list(path: &Path) -> Result<Vec<Listed>, JsonReportError> {
    let report = load(path)?;
    let root_dir = report.config.root_dir;
    let mut listed = Vec::new();
    walk_specs(report.suites, &mut |spec, name| {
        for test in spec.tests {
            listed.push(Listed {
                selector: selector::selector(&test.project_name, &spec.file, name),
                project: test.project_name,
                file: root_dir.join(&spec.file),
                line: spec.line,
                column: spec.column,
            });
        }
    });
    Ok(listed)
}

/// The report at `path`, read into the typed structures below.
fn load(path: &Path) -> Result<Report, JsonReportError> {
    let io = |source| JsonReportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let bytes = file.metadata().map_err(io)?.len();
    if bytes > MAX_REPORT_BYTES {
        return Err(JsonReportError::TooLarge {
            path: path.to_path_buf(),
            bytes,
        });
    }
    serde_json::from_reader(std::io::BufReader::new(file)).map_err(|source| JsonReportError::Malformed {
        path: path.to_path_buf(),
        source,
    })
}

#[derive(Deserialize)]
struct Report {
    config: Config,
    suites: Vec<Suite>,
    errors: Vec<ReportError>,
    stats: Stats,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Config {
    root_dir: PathBuf,
}

#[derive(Deserialize)]
struct Suite {
    title: String,
    #[serde(default)]
    suites: Vec<Suite>,
    #[serde(default)]
    specs: Vec<Spec>,
}

#[derive(Deserialize)]
struct Spec {
    title: String,
    file: String,
    #[serde(default)]
    line: u32,
    #[serde(default)]
    column: u32,
    tests: Vec<Test>,
}

/// One test of a spec, over all its runs (also what the live stream's
/// reporter writes of a finished test).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Test {
    #[serde(default)]
    project_name: String,
    status: Outcome,
    /// How a run must end to count as passing (`failed` for `test.fail()`).
    #[serde(default = "passed")]
    expected_status: RunStatus,
    results: Vec<RunResult>,
    #[serde(default)]
    annotations: Vec<Annotation>,
}

fn passed() -> RunStatus {
    RunStatus::Passed
}

/// A test's outcome over all its runs.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Outcome {
    Expected,
    Unexpected,
    Flaky,
    Skipped,
    #[serde(other)]
    Unknown,
}

#[derive(Deserialize)]
struct RunResult {
    status: RunStatus,
    #[serde(default)]
    retry: u32,
    #[serde(default)]
    duration: f64,
    #[serde(default)]
    errors: Vec<ReportError>,
    #[serde(default)]
    attachments: Vec<Attachment>,
    #[serde(default)]
    stdout: Vec<Chunk>,
    #[serde(default)]
    stderr: Vec<Chunk>,
}

/// How one run of a test ended.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
enum RunStatus {
    Passed,
    Failed,
    TimedOut,
    Skipped,
    Interrupted,
    #[serde(other)]
    Unknown,
}

#[derive(Deserialize)]
struct ReportError {
    message: Option<String>,
    stack: Option<String>,
    snippet: Option<String>,
}

#[derive(Deserialize)]
struct Attachment {
    path: Option<PathBuf>,
}

/// A piece of a run's output; binary pieces (`buffer`) are left out.
#[derive(Deserialize)]
struct Chunk {
    text: Option<String>,
}

#[derive(Deserialize)]
struct Annotation {
    #[serde(rename = "type")]
    kind: String,
    description: Option<String>,
}

#[derive(Deserialize)]
struct Stats {
    expected: u64,
    unexpected: u64,
    flaky: u64,
    skipped: u64,
}

/// Tests of each outcome, as counted in `stats` or listed.
#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    expected: u64,
    unexpected: u64,
    flaky: u64,
    skipped: u64,
    unknown: u64,
}

impl Counts {
    fn add(&mut self, outcome: Outcome) {
        let count = match outcome {
            Outcome::Expected => &mut self.expected,
            Outcome::Unexpected => &mut self.unexpected,
            Outcome::Flaky => &mut self.flaky,
            Outcome::Skipped => &mut self.skipped,
            Outcome::Unknown => &mut self.unknown,
        };
        *count += 1;
    }
}

impl Report {
    fn into_cases(self, suite_path: &Path) -> JsonReport {
        let mut out = JsonReport::default();
        let mut listed = Counts::default();
        let root_dir = &self.config.root_dir;
        walk_specs(self.suites, &mut |spec, name| {
            for test in spec.tests {
                listed.add(test.status);
                out.cases.push(to_case(root_dir, suite_path, &spec.file, name, test));
            }
        });
        for error in &self.errors {
            let text = error_text(error);
            out.problems.push(SuiteProblem::Stated(format!(
                "Playwright reported an error outside any test: {}",
                headline(&text)
            )));
        }
        let stated = Counts {
            expected: self.stats.expected,
            unexpected: self.stats.unexpected,
            flaky: self.stats.flaky,
            skipped: self.stats.skipped,
            unknown: 0,
        };
        if stated != listed {
            out.problems.push(SuiteProblem::Stated(format!(
                "Playwright's JSON report counts {} passed, {} failed, {} flaky and {} skipped tests \
                 but lists {} passed, {} failed, {} flaky, {} skipped and {} of unknown status",
                stated.expected,
                stated.unexpected,
                stated.flaky,
                stated.skipped,
                listed.expected,
                listed.unexpected,
                listed.flaky,
                listed.skipped,
                listed.unknown
            )));
        }
        out
    }
}

/// Calls `each` with every spec below `suites` (a report's file suites) and
/// its name: the titles of the describe blocks above it and its own, joined
/// as in a selector. A file's suite is titled with its path, which the specs
/// carry, so that title is not part of the name.
fn walk_specs(suites: Vec<Suite>, each: &mut impl FnMut(Spec, &str)) {
    fn walk(suite: Suite, titles: &mut Vec<String>, each: &mut impl FnMut(Spec, &str)) {
        for spec in suite.specs {
            let mut name = titles.join(selector::SEPARATOR);
            if !name.is_empty() {
                name.push_str(selector::SEPARATOR);
            }
            name.push_str(&spec.title);
            each(spec, &name);
        }
        for mut child in suite.suites {
            titles.push(std::mem::take(&mut child.title));
            walk(child, titles, each);
            titles.pop();
        }
    }
    for file_suite in suites {
        walk(file_suite, &mut Vec::new(), each);
    }
}

/// The class name of a test in `file` of `project`: `[project] › file`, or
/// the file alone for an unnamed project. With the project in it, the same
/// test in two projects is two tests to every reader of evidence and JUnit,
/// and `classname › name` is the test's selector.
pub fn classname(project: &str, file: &str) -> String {
    if project.is_empty() {
        file.to_string()
    } else {
        format!("[{project}]{}{file}", selector::SEPARATOR)
    }
}

/// The case of `test`, named `name` in `file` (relative to `root_dir`).
pub(crate) fn to_case(root_dir: &Path, suite_path: &Path, file: &str, name: &str, test: Test) -> TestCase {
    let Test {
        project_name,
        status: mut outcome,
        expected_status,
        mut results,
        annotations,
    } = test;
    results.sort_by_key(|result| result.retry);
    let mut case = TestCase::new(name, classname(&project_name, file), TestStatus::Skipped);
    case.selector = Some(selector::selector(&project_name, file, name));
    case.file = Some(selector::case_file(root_dir, file, suite_path));
    case.attachments = results
        .iter()
        .flat_map(|result| result.attachments.iter().filter_map(|a| a.path.clone()))
        .collect();
    case.system_out = output(results.iter().flat_map(|result| &result.stdout));
    case.system_err = output(results.iter().flat_map(|result| &result.stderr));
    case.attempts = u32::try_from(results.len()).unwrap_or(u32::MAX).max(1);

    if did_not_run(outcome, expected_status, results.last()) {
        return not_run(case, results);
    }
    let Some((last, earlier)) = results.split_last() else {
        // Never run: skipped by `test.skip`, or a status this reader does
        // not know.
        if outcome == Outcome::Skipped {
            case.message = skip_reason(&annotations);
        } else {
            case.status = TestStatus::Error;
            case.message = Some("Playwright's JSON report lists this test as run but has no run of it".into());
        }
        return case;
    };
    case.previous_failures = failures_of(earlier);
    case.duration = seconds(last.duration);
    let (message, details) = failure_text(&last.errors);
    let passing_end = [expected_status, RunStatus::Skipped].contains(&last.status);
    if matches!(outcome, Outcome::Expected | Outcome::Flaky) && !passing_end {
        // The report contradicts itself: its last run did not end as expected.
        outcome = Outcome::Unknown;
    }
    match outcome {
        Outcome::Expected | Outcome::Flaky if last.status == RunStatus::Skipped => {
            case.message = skip_reason(&annotations);
        }
        Outcome::Expected | Outcome::Flaky => {
            case.status = TestStatus::Passed;
            case.flaky = outcome == Outcome::Flaky && !case.previous_failures.is_empty();
        }
        Outcome::Skipped => case.message = skip_reason(&annotations),
        Outcome::Unexpected | Outcome::Unknown => {
            let (status, error_type) = run_failure(last).unwrap_or((TestStatus::Failed, None));
            case.status = status;
            case.error_type = error_type;
            case.message = message.or_else(|| {
                Some(match (outcome, last.status) {
                    (Outcome::Unknown, _) | (_, RunStatus::Unknown) => {
                        "Playwright's JSON report gives this test a status qaagent does not know".to_string()
                    }
                    (_, RunStatus::Passed) => "expected to fail, but passed".to_string(),
                    (_, RunStatus::Interrupted) => "interrupted".to_string(),
                    _ => "failed without an error message".to_string(),
                })
            });
            case.details = details;
            if outcome == Outcome::Unknown {
                case.status = TestStatus::Error;
            }
        }
    }
    case
}

/// Whether a test ended skipped though nothing skipped it: Playwright's "did
/// not run" (a `test.skip`/`fixme`, declared or called, makes the expected
/// status `skipped`). Tests after a failure in serial mode, after a failed
/// `beforeAll` or project dependency, or past `--max-failures` end so;
/// counted as skipped, a retry of the failures alone left them unrun and the
/// run passed.
fn did_not_run(outcome: Outcome, expected: RunStatus, last: Option<&RunResult>) -> bool {
    let ended_skipped = match last {
        Some(last) => last.status == RunStatus::Skipped,
        None => outcome == Outcome::Skipped,
    };
    ended_skipped && expected != RunStatus::Skipped
}

/// The row of a test that did not run ([`did_not_run`]): a stand-in its
/// selection re-runs, whose first real run replaces it; an error that keeps
/// its earlier failed runs when Playwright's own retries ran it before.
fn not_run(mut case: TestCase, results: Vec<RunResult>) -> TestCase {
    const WHY: &str = "did not run: Playwright skipped it after a failure (serial mode, a failed \
                       beforeAll or project dependency, --max-failures) or an interrupt";
    let earlier = failures_of(&results);
    if earlier.is_empty() {
        let Some(selector) = case.selector.take() else {
            case.status = TestStatus::Error;
            case.message = Some(WHY.into());
            return case;
        };
        let mut stand_in = TestCase::unreported(&selector, WHY.into());
        stand_in.name = case.name;
        stand_in.classname = case.classname;
        stand_in.file = case.file;
        stand_in.system_out = case.system_out;
        stand_in.system_err = case.system_err;
        return stand_in;
    }
    case.status = TestStatus::Error;
    case.message = Some(WHY.into());
    case.previous_failures = earlier;
    case
}

/// The failed runs among `runs`, as a test's earlier failures.
fn failures_of(runs: &[RunResult]) -> Vec<PriorFailure> {
    (runs.iter())
        .filter_map(|run| {
            let (status, error_type) = run_failure(run)?;
            let (message, details) = failure_text(&run.errors);
            Some(PriorFailure {
                status,
                message,
                error_type,
                details,
                duration: seconds(run.duration),
            })
        })
        .collect()
}

/// The status and error type a failed run gives its test, as Playwright's
/// JUnit reporter tells them apart: a failed `expect` is a failure of type
/// `expect.toHaveText`; any other error (a browser that cannot start, a
/// timeout, a throw) is an error of its own type (`Error`, `TypeError`). `None`
/// for a run that did not fail.
fn run_failure(run: &RunResult) -> Option<(TestStatus, Option<String>)> {
    match run.status {
        RunStatus::Passed | RunStatus::Skipped => return None,
        RunStatus::Interrupted | RunStatus::Unknown => return Some((TestStatus::Error, None)),
        RunStatus::Failed | RunStatus::TimedOut => {}
    }
    let Some(error) = run.errors.first() else {
        return Some((TestStatus::Failed, None));
    };
    let message = error_text(error);
    if let Some(matcher) = matcher(&message) {
        return Some((TestStatus::Failed, Some(matcher)));
    }
    let name: String = message
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    let named = !name.is_empty() && message[name.len()..].starts_with(": ");
    Some((TestStatus::Error, Some(if named { name } else { "Error".to_string() })))
}

/// `expect.toHaveText` (or `expect.not.toBe`) for a message naming a failed
/// matcher, `expect(…).toHaveText(…)` on one line.
fn matcher(message: &str) -> Option<String> {
    for (start, _) in message.match_indices("expect(") {
        let line = message[start..].lines().next().unwrap_or_default();
        let mut from = 0;
        while let Some(found) = line[from..].find(").") {
            let after = &line[from + found + 2..];
            let (not, after) = match after.strip_prefix("not.") {
                Some(rest) => ("not.", rest),
                None => ("", after),
            };
            let name: String = after.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                return Some(format!("expect.{not}{name}"));
            }
            from += found + 2;
        }
    }
    None
}

/// Milliseconds as Playwright reports them, in seconds; 0 for nonsense.
fn seconds(millis: f64) -> f64 {
    if millis.is_finite() && millis >= 0.0 {
        millis / 1000.0
    } else {
        0.0
    }
}

fn skip_reason(annotations: &[Annotation]) -> Option<String> {
    annotations
        .iter()
        .find(|a| matches!(a.kind.as_str(), "skip" | "fixme"))
        .and_then(|a| a.description.as_deref())
        .map(|text| bounded(strip_ansi_escapes::strip_str(text)))
}

/// A run's output pieces joined, bounded.
fn output<'a>(chunks: impl Iterator<Item = &'a Chunk>) -> Option<String> {
    let mut text = String::new();
    for chunk in chunks {
        if let Some(piece) = &chunk.text {
            text.push_str(piece);
            if text.len() > 2 * KEPT_TEXT_BYTES {
                break;
            }
        }
    }
    let text = text.trim_end();
    (!text.is_empty()).then(|| bounded(text.to_string()))
}

/// A run's failure as `(message, details)`: the message is the first error's
/// [`headline`], short enough for a summary to show whole; the details are
/// every error whole (message, call log, source snippet, stack), for the
/// evidence. ANSI colours are stripped from both.
fn failure_text(errors: &[ReportError]) -> (Option<String>, Option<String>) {
    let Some(first) = errors.first() else {
        return (None, None);
    };
    let message = headline(&error_text(first));
    let details = errors.iter().map(whole_error).collect::<Vec<_>>().join("\n\n");
    (
        (!message.is_empty()).then_some(message),
        (!details.trim().is_empty()).then(|| bounded(details)),
    )
}

/// An error's message (else its stack), without colours.
fn error_text(error: &ReportError) -> String {
    let text = error.message.as_deref().or(error.stack.as_deref()).unwrap_or_default();
    strip_ansi_escapes::strip_str(text)
}

/// An error whole: its stack (which starts with its message) or its message
/// and stack, then the source snippet; without colours.
fn whole_error(error: &ReportError) -> String {
    let message = error.message.as_deref().unwrap_or_default();
    let mut text = match error.stack.as_deref() {
        Some(stack) if stack.starts_with(message) => stack.to_string(),
        Some(stack) if !message.is_empty() => format!("{message}\n{stack}"),
        Some(stack) => stack.to_string(),
        None => message.to_string(),
    };
    if let Some(snippet) = &error.snippet {
        text.push_str("\n\n");
        text.push_str(snippet);
    }
    strip_ansi_escapes::strip_str(text.trim_end())
}

/// The lines of an error message a summary shows: its first line (without
/// `Error: `), then the lines saying what was expected and received
/// (`Expected: "rejected"`, `Received: "accepted"`), and the text of a boxed
/// notice on one line (a missing browser's `npx playwright install`); for
/// an error with neither, the two lines after the first. The call log is
/// left to the details.
fn headline(message: &str) -> String {
    const BOX: &[char] = &['╔', '╗', '╚', '╝', '║', '═'];
    let body = message.split("\nCall log:").next().unwrap_or(message);
    let mut first: Option<&str> = None;
    let mut verdict = Vec::new();
    let mut boxed = Vec::new();
    let mut other = Vec::new();
    for raw in body.lines() {
        let line = raw.trim();
        let is_boxed = line.starts_with(BOX);
        let line = line.trim_matches(BOX).trim();
        if line.is_empty() {
            continue;
        }
        if first.is_none() {
            first = Some(line.strip_prefix("Error: ").unwrap_or(line));
        } else if is_boxed {
            boxed.push(line);
        } else if line.trim_start_matches(['-', '+', ' ']).starts_with("Expected")
            || line.trim_start_matches(['-', '+', ' ']).starts_with("Received")
        {
            verdict.push(line);
        } else {
            other.push(line);
        }
    }
    let mut lines: Vec<String> = first.into_iter().map(str::to_string).collect();
    lines.extend(verdict.iter().map(|line| line.to_string()));
    if !boxed.is_empty() {
        lines.push(boxed.join(" "));
    }
    if lines.len() == 1 {
        lines.extend(other.iter().take(2).map(|line| line.to_string()));
    }
    bounded(lines.join("\n"))
}

/// `text` cut to its first [`KEPT_TEXT_BYTES`] (on a character boundary),
/// with a note saying so: the whole stays in the report, an artifact.
fn bounded(mut text: String) -> String {
    if text.len() <= KEPT_TEXT_BYTES {
        return text;
    }
    let mut end = KEPT_TEXT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let left_out = text.len() - end;
    text.truncate(end);
    text.push_str(&format!("\n… ({left_out} bytes more in Playwright's JSON report)"));
    text
}

#[cfg(test)]
mod tests;
