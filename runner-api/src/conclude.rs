//! Turning what a tool did (its exit, its JUnit) into an honest
//! [`SuiteResult`]. Shared by every runner so none of them can report a pass
//! that did not happen.

use std::path::PathBuf;

use crate::case::TestCase;
use crate::context::SuiteContext;
use crate::junit::{JunitError, SuiteProblem};
use crate::process::{log_tail, ExitKind, ProcessOutcome};
use crate::result::{SuiteOutcome, SuiteResult, ToolRun};

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
        version: None,
        executed: true,
        exit_code: process.code(),
        error: None,
    };

    let junit_problem = match junit {
        JunitOutcome::Read(cases) => {
            result.cases = cases;
            None
        }
        JunitOutcome::Missing(path) => Some(format!("{tool} wrote no JUnit report (expected {})", path.display())),
        JunitOutcome::Unreadable(err) => Some(err.to_string()),
        JunitOutcome::Flagged(cases, problems) => {
            result.cases = cases;
            Some(problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))
        }
    };

    let problem = if let Some(kind) = process.cancelled {
        Some((
            SuiteOutcome::Interrupted,
            format!(
                "interrupted ({})",
                match kind {
                    crate::cancel::CancelKind::Graceful => "terminated",
                    crate::cancel::CancelKind::Immediate => "killed",
                }
            ),
        ))
    } else if process.timed_out {
        let secs = ctx.timeout.map(|t| t.as_secs_f64()).unwrap_or_default();
        Some((
            SuiteOutcome::TimedOut,
            format!("timed out after {} s", format_secs(secs)),
        ))
    } else if let Some(problem) = junit_problem {
        Some((
            SuiteOutcome::Errored,
            format!("{problem}; {}", describe_exit(tool, process.exit)),
        ))
    } else if !matches!(process.exit, ExitKind::Code(code) if ok_codes.contains(&code)) {
        Some((SuiteOutcome::Errored, describe_exit(tool, process.exit)))
    } else if process.exit != ExitKind::Code(0) && result.failed() + result.errors() == 0 {
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
    let appended = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(log)
        .and_then(|mut f| f.write_all(lines.as_bytes()));
    if let Err(err) = appended {
        log::warn!("cannot note leaked processes in {}: {err}", log.display());
    }
}
