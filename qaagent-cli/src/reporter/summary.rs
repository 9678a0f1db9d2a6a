//! The text shared by the plain and live reporters: a suite's result line and
//! the end-of-run report.

use std::fmt::{Display, Write as _};
use std::time::Duration;

use orchestrator::run::{RunReport, Verdict};
use runner_api::{SuiteOutcome, SuiteResult, TestCase};

use super::style::Style;
use super::untrusted::printable;

/// Width of the outcome label column (`INTERRUPTED` is the longest label).
pub const LABEL_WIDTH: usize = 11;
/// How many lines of a failure message the end of the run shows.
const MESSAGE_LINES: usize = 3;
/// How many lines of a crashed suite's log the end of the run shows.
const TAIL_LINES: usize = 15;

/// The width of the suite-name column for `suites` (at least 8).
pub fn name_width(suites: &[String]) -> usize {
    suites.iter().map(String::len).max().unwrap_or(8).max(8)
}

/// "1 test" / "2 tests": `n` and `word`, with an "s" unless `n` is 1. The
/// one place the CLI makes a count's noun plural.
pub fn plural<N: Display + PartialEq + From<u8>>(n: N, word: &str) -> String {
    if n == N::from(1) {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Seconds with two decimals: `1.25s`.
pub fn seconds(duration: Duration) -> String {
    format!("{:.2}s", duration.as_secs_f64())
}

/// How a test is named in the failure and flaky lists: its selector, which
/// is what re-runs it, plus its name when the selector does not hold it
/// (behave selects by `file:LINE`: `features/cart.feature:24 (Discount code)`).
fn case_label(case: &TestCase) -> String {
    let shown = case.label();
    let name = case.name.trim();
    let label = if name.is_empty() || shown.contains(name) {
        shown
    } else {
        format!("{shown} ({name})")
    };
    printable(&label).into_owned()
}

/// The lines announcing a finished suite: outcome, counts, time, then its
/// error and any leaked processes.
pub fn suite_lines(style: Style, name_width: usize, result: &SuiteResult) -> Vec<String> {
    let label = style.outcome(result.outcome(), LABEL_WIDTH);
    let name = format!("{:<name_width$}", result.suite);
    if result.outcome() == SuiteOutcome::Skipped {
        let reason = printable(result.skip_reason.as_deref().unwrap_or("skipped"));
        return vec![format!("{label} {name} {reason}")];
    }
    let mut line = format!(
        "{label} {name} {} passed, {} failed, {}, {} skipped",
        result.passed(),
        result.failed(),
        plural(result.errors(), "error"),
        result.skipped_cases()
    );
    if result.flaky() > 0 {
        let _ = write!(line, ", {}", style.yellow(&format!("{} flaky", result.flaky())));
    }
    if result.attempts > 1 {
        let _ = write!(line, " after {}", plural(result.attempts, "attempt"));
    }
    // pytest's subtests: the tool's own line counts each failure, qaagent each test.
    let (several, failures) = (result.cases.iter())
        .filter(|case| case.failures.len() > 1)
        .fold((0, 0), |(tests, failures), case| {
            (tests + 1, failures + case.failures.len())
        });
    if several > 0 {
        let _ = write!(
            line,
            " ({} with {failures} failures in all, which the tool counts one by one)",
            plural(several, "test")
        );
    }
    let _ = write!(line, "  {}", style.dim(&format!("[{}]", seconds(result.duration))));
    let indent = " ".repeat(LABEL_WIDTH + 1 + name_width + 1);
    let mut lines = vec![line];
    if let Some(error) = &result.error {
        for line in error.lines() {
            lines.push(format!("{indent}{}", style.red(&printable(line))));
        }
    }
    for leaked in &result.leaked {
        lines.push(format!(
            "{indent}{}",
            style.yellow(&format!(
                "warning: left process {} running (killed): {}",
                leaked.pid,
                printable(&leaked.command)
            ))
        ));
    }
    lines
}

/// The end-of-run report: the per-suite table, every failing test, the tail
/// of each crashed suite's log, flaky tests, diagnostics, totals and the
/// evidence path.
pub fn final_report(style: Style, report: &RunReport) -> String {
    let mut out = String::new();
    let results = &report.results;
    let summary = &report.summary;
    let name_width = results.iter().map(|r| r.suite.len()).max().unwrap_or(5).max(5);

    if !results.is_empty() {
        out.push('\n');
        let header = format!(
            "{:<name_width$}  {:<11} {:>6} {:>6} {:>6} {:>7} {:>5} {:>9}",
            "SUITE", "STATUS", "PASSED", "FAILED", "ERRORS", "SKIPPED", "FLAKY", "TIME"
        );
        let _ = writeln!(out, "{}", style.bold(&header));
        for result in results {
            let status = format!("{:<11}", result.outcome().label());
            let status = match result.outcome() {
                SuiteOutcome::Passed => style.green(&status),
                SuiteOutcome::Skipped | SuiteOutcome::Interrupted => style.yellow(&status),
                _ => style.red(&status),
            };
            let _ = writeln!(
                out,
                "{:<name_width$}  {status} {:>6} {:>6} {:>6} {:>7} {:>5} {:>9}",
                result.suite,
                result.passed(),
                result.failed(),
                result.errors(),
                result.skipped_cases(),
                result.flaky(),
                seconds(result.duration),
            );
        }
    }

    // As the verdict has it (`RunSummary::quarantined`).
    let (quarantined, failures): (Vec<(&SuiteResult, &TestCase)>, _) = results
        .iter()
        .flat_map(|r| r.cases.iter().filter(|c| c.status.is_failure()).map(move |c| (&**r, c)))
        .partition(|(r, c)| orchestrator::quarantine::excuses(r, c));
    for (title, list) in [
        ("Failures:", failures),
        ("Quarantined failures (they do not fail the run):", quarantined),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{}", style.bold(title));
        for (result, case) in list {
            let suite = &result.suite;
            let label = case.status.as_str().to_uppercase();
            let label = if case.quarantine.is_some() {
                style.yellow(&label)
            } else {
                style.red(&label)
            };
            let _ = writeln!(out, "  {label} {suite} {}", case_label(case));
            if let Some(reason) = &case.quarantine {
                let _ = writeln!(out, "      quarantined: {}", printable(reason));
            }
            let message = case.message.as_deref().or(case.details.as_deref()).unwrap_or("");
            for line in message.lines().filter(|l| !l.trim().is_empty()).take(MESSAGE_LINES) {
                let _ = writeln!(out, "      {}", printable(line));
            }
        }
    }

    for result in results.iter().filter(|r| r.error.is_some()) {
        let _ = writeln!(
            out,
            "\n{} {}",
            style.bold(&format!("{}:", result.suite)),
            style.red(&printable(result.error.as_deref().unwrap_or("")))
        );
        if let Some(tail) = &result.log_tail {
            let lines: Vec<&str> = tail.lines().collect();
            let from = lines.len().saturating_sub(TAIL_LINES);
            for line in &lines[from..] {
                let _ = writeln!(out, "  {}", style.dim(&printable(line)));
            }
        }
    }

    let flaky: Vec<String> = results
        .iter()
        .flat_map(|r| {
            r.cases.iter().filter(|c| c.flaky).map(move |c| {
                // A tool's own retries (Playwright's) are attempts the suite's count leaves out.
                let of = if c.attempts <= r.attempts {
                    format!(" of {}", r.attempts)
                } else {
                    String::new()
                };
                format!(
                    "{} {} {} — passed on attempt {}{of}",
                    style.yellow("   FLAKY"),
                    r.suite,
                    case_label(c),
                    c.attempts,
                )
            })
        })
        .collect();
    if !flaky.is_empty() {
        out.push('\n');
        for line in flaky {
            let _ = writeln!(out, "{line}");
        }
    }

    if let Some(first) = report.diagnostics.first() {
        let _ = writeln!(out, "\n{} {first}", style.bold("Diagnostics:"));
    }

    let status = match report.verdict {
        Verdict::Interrupted(_) => style.yellow("INTERRUPTED"),
        Verdict::Passed => style.green("PASSED"),
        _ => style.red("FAILED"),
    };
    // A suite's own error (a timeout, say) is no test: the test counts add
    // up to the number of tests, and such suites are counted apart.
    let mut totals = format!(
        "{status}: {}, {}: {} passed, {} failed, {}, {} skipped",
        plural(summary.suites, "suite"),
        plural(summary.tests, "test"),
        summary.passed,
        summary.failed,
        plural(summary.errors - summary.suite_errors, "error"),
        summary.skipped
    );
    if summary.flaky > 0 {
        let _ = write!(totals, ", {} flaky", summary.flaky);
    }
    if summary.quarantined > 0 {
        let _ = write!(totals, " ({} quarantined)", summary.quarantined);
    }
    if summary.suite_errors > 0 {
        let _ = write!(totals, "; {} errored", plural(summary.suite_errors, "suite"));
    }
    let _ = write!(totals, " in {}", seconds(summary.wall));
    let saved = summary.suites_duration.saturating_sub(summary.wall);
    if saved > Duration::from_millis(10) {
        let _ = write!(
            totals,
            " (suites took {}, parallelism saved {})",
            seconds(summary.suites_duration),
            seconds(saved)
        );
    } else {
        let _ = write!(totals, " (suites took {})", seconds(summary.suites_duration));
    }
    let _ = writeln!(out, "\n{totals}");
    for note in &report.notes {
        let _ = writeln!(out, "note: {}", printable(note));
    }
    for warning in &report.warnings {
        let _ = writeln!(out, "{}", style.yellow(&format!("warning: {warning}")));
    }
    for error in &report.errors {
        let _ = writeln!(out, "{}", style.red(&format!("error: {error}")));
    }
    let _ = writeln!(out, "evidence: {}", report.run_dir.display());
    out
}
