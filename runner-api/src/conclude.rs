//! Turning what a tool did (its exit, its JUnit) into an honest
//! [`SuiteResult`]. Shared by every runner so none of them can report a pass
//! that did not happen.

use std::path::PathBuf;

use crate::case::TestCase;
use crate::context::SuiteContext;
use crate::junit::{JunitError, SuiteProblem};
use crate::process::{log_tail, ExitKind, ProcessOutcome};
use crate::result::{SuiteOutcome, SuiteResult, ToolRun};
use crate::stream::Streamed;

pub use crate::report_dir::set_aside_reports;

/// How many log lines an error result carries.
pub const LOG_TAIL_LINES: usize = 30;

/// What became of the tool's JUnit report.
#[derive(Debug)]
pub enum JunitOutcome {
    /// Read, and these are its cases (selectors already set).
    Read(Vec<TestCase>),
    /// The tool wrote no report at this path.
    Missing(PathBuf),
    /// The report exists but could not be read.
    Unreadable(JunitError),
    /// Read, and these are its cases, but the report says the suite went
    /// wrong beyond them: the suite is an error whatever its cases say.
    Flagged(Vec<TestCase>, Vec<SuiteProblem>),
}

impl JunitOutcome {
    /// A report read into `cases`: [`JunitOutcome::Read`], or
    /// [`JunitOutcome::Flagged`] when the report says more went wrong.
    pub fn read(cases: Vec<TestCase>, problems: Vec<SuiteProblem>) -> Self {
        if problems.is_empty() {
            JunitOutcome::Read(cases)
        } else {
            JunitOutcome::Flagged(cases, problems)
        }
    }
}

/// Everything one attempt produced, for [`conclude`].
#[derive(Debug)]
pub struct Attempt<'a> {
    /// The attempt's context.
    pub ctx: &'a SuiteContext,
    /// The runner's name.
    pub runner: &'a str,
    /// The tool's name for the manifest (`pytest`, …).
    pub tool: &'a str,
    /// How the tool's process ended.
    pub process: ProcessOutcome,
    /// The tool's report.
    pub junit: JunitOutcome,
    /// Exit codes with which the tool says "the tests ran" (usually 0 and 1);
    /// any other code makes the suite an error even if JUnit looks fine.
    pub ok_codes: &'a [i32],
    /// Files to keep as artifacts, besides the logs.
    pub artifacts: Vec<PathBuf>,
}

/// The honest result of an attempt:
/// - interrupted or timed out → that outcome, keeping whatever cases the tool wrote;
/// - JUnit missing or unreadable, or flagging the suite → error with the log tail;
/// - an exit code outside `ok_codes` → error with the log tail;
/// - a non-zero exit while JUnit shows no failure → error, never a pass;
/// - otherwise passed or failed from the cases.
pub fn conclude(attempt: Attempt<'_>) -> SuiteResult {
    conclude_streamed(attempt, Streamed::default())
}

/// [`conclude`], with what the tool's live stream said ([`crate::stream`]):
/// when the tool wrote no readable report, the tests it streamed as finished
/// keep their results and those it was running become errors saying why they
/// did not finish; when it wrote one, the report stands and a disagreement
/// with the stream is a warning, but a test the report says passed whose
/// last run the stream saw fail is failed ([`Streamed::overrule_passes`]).
pub fn conclude_streamed(attempt: Attempt<'_>, streamed: Streamed) -> SuiteResult {
    let Attempt {
        ctx,
        runner,
        tool,
        process,
        junit,
        ok_codes,
        artifacts,
    } = attempt;
    let mut result = SuiteResult::new(&ctx.suite, runner);
    result.duration = process.wall;
    result.return_code = process.code();
    result.leaked = process.leaked.clone();
    result.attempts = 1;
    result.output_dir = Some(ctx.output_dir.clone());
    result.artifacts = artifacts;
    for log in [ctx.stdout_log(), ctx.stderr_log()] {
        if log.is_file() && !result.artifacts.contains(&log) {
            result.artifacts.push(log);
        }
    }
    result.tool = ToolRun {
        name: tool.to_string(),
        // What the tool said in its stream, if it did (`Runner::version_in_stream`).
        version: streamed.version.clone(),
        executed: true,
        exit_code: process.code(),
        error: None,
    };

    let stopped = if let Some(kind) = process.cancelled {
        Some((
            SuiteOutcome::Interrupted,
            format!("interrupted ({})", kind.stopped_tool()),
        ))
    } else if process.timed_out {
        let secs = ctx.timeout.map(|t| t.as_secs_f64()).unwrap_or_default();
        Some((
            SuiteOutcome::TimedOut,
            format!("timed out after {} s", format_secs(secs)),
        ))
    } else {
        None
    };
    // A tool stopped before it wrote its report (pytest writes it at the
    // end) may have run most of its tests: say that none is recorded, so
    // "0 tests" beside the timeout is not read as "nothing ran".
    let mut unwritten = None;
    let junit_problem = match junit {
        JunitOutcome::Read(cases) => {
            result.cases = cases;
            None
        }
        JunitOutcome::Missing(path) if !streamed.is_empty() => {
            unwritten = Some(format!(
                "{tool}'s report was not written: {}",
                from_stream(tool, &streamed)
            ));
            Some(format!(
                "no report written: {tool} wrote no JUnit report (expected {}); {}",
                path.display(),
                from_stream(tool, &streamed)
            ))
        }
        JunitOutcome::Missing(path) => {
            unwritten = Some(format!(
                "{tool}'s report was not written, so none of its tests are recorded (expected {})",
                path.display()
            ));
            Some(format!(
                "no report written: {tool} wrote no JUnit report (expected {})",
                path.display()
            ))
        }
        JunitOutcome::Unreadable(err) if !streamed.is_empty() => {
            Some(format!("{err}; {}", from_stream(tool, &streamed)))
        }
        JunitOutcome::Unreadable(err) => Some(err.to_string()),
        JunitOutcome::Flagged(cases, problems) => {
            result.cases = cases;
            Some(problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))
        }
    };
    // Asked before the stream is used up below.
    let never_ran = streamed.never_ran().filter(|&n| n > 0);
    let planned = streamed.total.unwrap_or_default();
    let ended_early = (stopped.is_none() && junit_problem.is_none())
        .then(|| ended_early(tool, &streamed, &result.cases, process.exit))
        .flatten();
    if result.cases.is_empty() && junit_problem.is_some() {
        let why = match &stopped {
            Some((_, stopped)) => format!("{stopped} while running this test"),
            None => format!("{} while running this test", describe_exit(tool, process.exit)),
        };
        result.cases = streamed.into_cases(&why);
    } else if let Some((_, stopped)) = stopped.as_ref().filter(|_| !streamed.is_empty()) {
        // Stopped, with a report of part of the run (behave writes one per
        // feature as it goes): the tests of the rest are the stream's.
        let reported: std::collections::HashSet<(&str, &str)> = result.cases.iter().map(row_key).collect();
        let rest: Vec<TestCase> = (streamed
            .into_cases(&format!("{stopped} while running this test"))
            .into_iter())
        .filter(|case| !reported.contains(&row_key(case)))
        .collect();
        result.cases.extend(rest);
    } else {
        // The report stands, but not to take back a failure the stream saw.
        let overruled = streamed.overrule_passes(&mut result.cases);
        for warning in [overruled, streamed.disagreement(&result.cases)].into_iter().flatten() {
            log::warn!("[{}] {warning}", ctx.suite);
            result.warnings.push(warning);
        }
    }

    if let (Some(never_ran), None) = (never_ran, process.cancelled) {
        // Which tests never ran is not known, only how many: however the
        // attempt ended (a stop at the first failure, a crash, a timeout), a
        // retry of the tests it did name must not clear the suite, but a
        // retry of the whole suite (which this makes the next one) may.
        result.cases.push(TestCase::unnamed_tests(
            "the tests it never ran",
            "",
            format!("{tool} said it would run {planned} tests and did not run {never_ran} of them (its live stream)"),
        ));
    }
    let junit_problem = junit_problem.or(ended_early);

    let problem = if let Some((outcome, message)) = stopped {
        match unwritten {
            Some(unwritten) => Some((outcome, format!("{message}; {unwritten}"))),
            None => Some((outcome, message)),
        }
    } else if let Some(problem) = junit_problem {
        Some((
            SuiteOutcome::Errored,
            format!("{problem}; {}", describe_exit(tool, process.exit)),
        ))
    } else if !matches!(process.exit, ExitKind::Code(code) if ok_codes.contains(&code)) {
        Some((SuiteOutcome::Errored, describe_exit(tool, process.exit)))
    } else if process.exit != ExitKind::Code(0) && !names_a_failure(&result.cases) {
        Some((
            SuiteOutcome::Errored,
            format!(
                "{} but its JUnit report shows no failure",
                describe_exit(tool, process.exit)
            ),
        ))
    } else {
        None
    };
    if let Some((outcome, message)) = problem {
        result.tool.error = Some(message.clone());
        result.set_error(outcome, message);
        result.log_tail = combined_tail(ctx);
    }
    if !result.leaked.is_empty() {
        note_leaks_in_log(&ctx.stderr_log(), &result.leaked);
        log::warn!(
            "[{}] {} left {} process(es) running, killed: {}",
            ctx.suite,
            tool,
            result.leaked.len(),
            result
                .leaked
                .iter()
                .map(|p| format!("{} ({})", p.pid, p.command))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    result
}

/// Whether a failing test is named among `cases`: a row standing for tests
/// that never ran says nothing of why the tool failed.
fn names_a_failure(cases: &[TestCase]) -> bool {
    (cases.iter()).any(|case| case.status.is_failure() && !case.is_unnamed_tests())
}

/// What a report-less attempt's stream gives: "3 test(s) recorded from
/// pytest's live stream, 1 running, 2 never ran".
fn from_stream(tool: &str, streamed: &Streamed) -> String {
    let mut said = format!(
        "{} test(s) recorded from {tool}'s live stream, {} running",
        streamed.finished.len(),
        streamed.running.len()
    );
    if let Some(never) = streamed.never_ran() {
        said.push_str(&format!(", {never} never ran"));
    }
    said
}

/// "pytest exited with code 2", "pytest was killed by signal 9".
pub fn describe_exit(tool: &str, exit: ExitKind) -> String {
    match exit {
        ExitKind::Code(code) => format!("{tool} exited with code {code}"),
        ExitKind::Signal(signal) => format!("{tool} was killed by signal {signal}"),
    }
}

/// The last lines of the attempt's stderr and stdout logs.
pub fn combined_tail(ctx: &SuiteContext) -> Option<String> {
    let parts: Vec<String> = [("stderr", ctx.stderr_log()), ("stdout", ctx.stdout_log())]
        .into_iter()
        .filter_map(|(name, path)| {
            log_tail(&path, LOG_TAIL_LINES).map(|tail| format!("--- {name} ({}) ---\n{tail}", path.display()))
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("\n"))
}

fn format_secs(secs: f64) -> String {
    if secs.fract() == 0.0 {
        format!("{secs:.0}")
    } else {
        format!("{secs}")
    }
}

/// Appends one line per leaked process to the tool's stderr log, so the log
/// read on its own tells the whole story.
fn note_leaks_in_log(log: &std::path::Path, leaked: &[crate::result::LeakedProcess]) {
    use std::io::Write;
    let lines: String = leaked
        .iter()
        .map(|p| format!("qaagent: killed leaked process {} ({})\n", p.pid, p.command))
        .collect();
    let appended = crate::outdir::open_append(log).and_then(|mut f| f.write_all(lines.as_bytes()));
    if let Err(err) = appended {
        log::warn!("cannot note leaked processes in {}: {err}", log.display());
    }
}

/// How a report's row and a streamed test are matched: by class name and
/// name, as a report's rows may lack the selectors the stream has.
fn row_key(case: &TestCase) -> (&str, &str) {
    (case.classname.as_str(), case.name.as_str())
}

/// What the live stream says of a tool that exited by itself with a report
/// that reads clean: it ended in the middle of a test (an `os._exit(0)` in a
/// step, a plugin bailing out) — though a test the report holds was not cut
/// short, whatever the stream says (an xdist worker's crash) — or, exit code
/// 0, before tests it said it would run (`pytest.exit(…, returncode=0)` in a hook).
fn ended_early(tool: &str, streamed: &Streamed, report: &[TestCase], exit: ExitKind) -> Option<String> {
    let running: Vec<String> = (streamed.running.iter())
        .filter(|case| !report.iter().any(|row| row_key(row) == row_key(case)))
        .map(TestCase::label)
        .collect();
    if let Some(first) = running.first() {
        let which = match running.len() - 1 {
            0 => first.clone(),
            more => format!("{first} and {more} more"),
        };
        return Some(format!(
            "{tool} ended while running {which} (its live stream says the test started and never finished)"
        ));
    }
    let never_ran = streamed.never_ran().filter(|&n| n > 0)?;
    Some(format!(
        "{} before running {never_ran} of the {} tests it said it would run (its live stream; a stop at the first failure?)",
        describe_exit(tool, exit),
        streamed.total.unwrap_or_default()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_report_of_a_tool_that_ended_mid_test_is_a_suite_error() {
        let root = tempfile::tempdir().expect("tempdir");
        let ctx = SuiteContext::new("s", root.path(), root.path(), root.path());
        let attempt = |junit| Attempt {
            ctx: &ctx,
            runner: "r",
            tool: "tool",
            process: ProcessOutcome {
                exit: ExitKind::Code(0),
                timed_out: false,
                cancelled: None,
                wall: std::time::Duration::ZERO,
                leaked: Vec::new(),
            },
            junit,
            ok_codes: &[0, 1],
            artifacts: Vec::new(),
        };
        let passed = || TestCase::new("a", "c", crate::TestStatus::Passed);
        let mut streamed = Streamed::default();
        streamed.finished.push(passed());
        streamed
            .running
            .push(TestCase::new("b", "c", crate::TestStatus::Passed));
        let result = conclude_streamed(attempt(JunitOutcome::Read(vec![passed()])), streamed);
        assert_eq!(result.outcome(), SuiteOutcome::Errored);
        let error = result.error.expect("an error");
        assert!(error.contains("tool ended while running c::b"), "{error}");
        let mut said = Streamed::default();
        said.version = Some("9.2.0".into());
        let clean = conclude_streamed(attempt(JunitOutcome::Read(vec![passed()])), said);
        assert_eq!(clean.outcome(), SuiteOutcome::Passed);
        assert_eq!(
            clean.tool.version.as_deref(),
            Some("9.2.0"),
            "the version the stream said"
        );
        let mut stopped = Streamed::default();
        stopped.total = Some(3);
        stopped
            .finished
            .push(TestCase::new("a", "c", crate::TestStatus::Failed));
        let failed = TestCase::new("a", "c", crate::TestStatus::Failed);
        let cut = conclude_streamed(attempt(JunitOutcome::Read(vec![failed])), stopped);
        assert_eq!(cut.outcome(), SuiteOutcome::Errored);
        let unrun = cut
            .cases
            .iter()
            .find(|case| case.name == "the tests it never ran")
            .expect("a stand-in");
        assert_eq!(
            (unrun.status, unrun.selector.as_deref()),
            (crate::TestStatus::Error, None)
        );
    }
}
