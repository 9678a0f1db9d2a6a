//! Running a plan: suite workers on crossbeam scoped threads fed by a job
//! channel, events back on a channel to the one coordinating thread.
//!
//! Sequential runs are the same machinery with one worker, so the two modes
//! cannot drift apart. Results always come out in plan (`suite_order`) order.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{select, Receiver, Sender};
use runner_api::{
    CancelToken, LiveOutput, OutputLine, Selection, SuiteContext, SuiteOutcome, SuiteResult, TestCase, TestStatus,
    ToolRun,
};

use crate::attempts::{keep_selected, merge};
use crate::events::Event;
use crate::out_dir::{OutRoot, SuiteDir};
use crate::plan::{Plan, PlannedSuite};
use crate::retry_policy::next_selection;
use crate::split::shares::run_attempt_in_slots;
use crate::split::slots::ProcessSlots;

/// Live output lines that may wait for the coordinator at once. Bounded so
/// that a tool printing faster than the reporter can show costs memory for
/// this many lines (at most 64 KiB each), not for everything it printed: the
/// copy threads then wait, and the tool waits on its full pipe, as it would
/// writing to a slow terminal.
const LIVE_LINES_IN_FLIGHT: usize = 256;

/// How to run a plan, beyond the plan itself.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// Where each suite's output directory goes: `<out_dir>/<suite>/`.
    pub out_dir: PathBuf,
    /// Stream tool output as [`Event::Output`] lines.
    pub live_output: bool,
}

/// Runs every suite of `plan`, calling `on_event` for each event from this
/// (the calling) thread, and returns the results in plan order. Suites not
/// started when `cancel` fires are reported as skipped ("not started").
///
/// A result that `on_event` kept a share of (see [`Event::SuiteFinished`]) is
/// copied here; [`execute_shared`] avoids that.
pub fn execute(
    plan: &Plan,
    options: &ExecOptions,
    cancel: &CancelToken,
    on_event: &mut dyn FnMut(&Event),
) -> Vec<SuiteResult> {
    execute_shared(plan, options, cancel, on_event)
        .into_iter()
        .map(Arc::unwrap_or_clone)
        .collect()
}

/// [`execute`], returning the results as the same shared values the
/// [`Event::SuiteFinished`] events carried, so that a consumer still holding
/// them (the evidence writer, busy writing a large suite) costs no copy.
pub fn execute_shared(
    plan: &Plan,
    options: &ExecOptions,
    cancel: &CancelToken,
    on_event: &mut dyn FnMut(&Event),
) -> Vec<Arc<SuiteResult>> {
    let mut results: Vec<Option<Arc<SuiteResult>>> = vec![None; plan.suites.len()];
    let slots = ProcessSlots::new(plan.settings.processes);
    let (job_tx, job_rx) = crossbeam_channel::unbounded::<&PlannedSuite>();
    for suite in crate::split::start_order(plan) {
        // The receiver lives until the scope ends, so sending cannot fail.
        let _ = job_tx.send(suite);
    }
    drop(job_tx);
    let (event_tx, event_rx) = crossbeam_channel::unbounded::<Event>();
    let (line_tx, line_rx) = crossbeam_channel::bounded::<OutputLine>(LIVE_LINES_IN_FLIGHT);
    let line_tx = options.live_output.then_some(line_tx);
    let root = OutRoot::open(&options.out_dir);

    let scope_result = crossbeam_utils::thread::scope(|scope| {
        for worker in 0..plan.settings.workers.max(1) {
            let job_rx = job_rx.clone();
            let event_tx = event_tx.clone();
            let line_tx = line_tx.clone();
            let (slots, root) = (&slots, &root);
            scope
                .builder()
                .name(format!("qaagent-worker-{worker}"))
                .spawn(move |_| {
                    for suite in job_rx.iter() {
                        let result = if cancel.is_cancelled() {
                            not_started(suite)
                        } else {
                            run_suite(plan, suite, (options, slots, root), cancel, &event_tx, line_tx.as_ref())
                        };
                        let _ = event_tx.send(Event::SuiteFinished {
                            index: suite.index,
                            result: Arc::new(result),
                        });
                    }
                })
                .map(drop)
                .unwrap_or_else(|err| log::error!("cannot start a worker thread: {err}"));
        }
        drop(event_tx);
        drop(line_tx);
        coordinate(&event_rx, &line_rx, &mut results, on_event);
    });
    if scope_result.is_err() {
        // Workers catch runner panics; a panic here is our own bug. The
        // results gathered so far are still reported.
        log::error!("a suite worker panicked");
    }
    results
        .into_iter()
        .zip(&plan.suites)
        .map(|(result, suite)| {
            result.unwrap_or_else(|| {
                Arc::new(SuiteResult::errored(
                    &suite.config.name,
                    suite.runner.name(),
                    "the suite's worker died without a result",
                ))
            })
        })
        .collect()
}

/// The coordinator: forwards events (and live output) until every worker is done.
fn coordinate(
    events: &Receiver<Event>,
    lines: &Receiver<OutputLine>,
    results: &mut [Option<Arc<SuiteResult>>],
    on_event: &mut dyn FnMut(&Event),
) {
    let mut lines_open = true;
    loop {
        let event = if lines_open {
            select! {
                recv(events) -> event => match event {
                    Ok(event) => event,
                    Err(_) => break,
                },
                recv(lines) -> line => match line {
                    Ok(line) => Event::Output(line),
                    Err(_) => {
                        lines_open = false;
                        continue;
                    }
                },
            }
        } else {
            match events.recv() {
                Ok(event) => event,
                Err(_) => break,
            }
        };
        on_event(&event);
        if let Event::SuiteFinished { index, result } = event {
            if let Some(slot) = results.get_mut(index) {
                *slot = Some(result);
            }
        }
    }
    // Lines still queued after the last worker finished.
    for line in lines.try_iter() {
        on_event(&Event::Output(line));
    }
}

fn not_started(suite: &PlannedSuite) -> SuiteResult {
    let mut result = SuiteResult::skipped(
        &suite.config.name,
        suite.runner.name(),
        "not started: the run was interrupted",
    );
    result.tool = ToolRun {
        name: suite.runner.name().to_string(),
        ..ToolRun::default()
    };
    result
}

/// One suite, all its attempts, on a worker thread.
fn run_suite(
    plan: &Plan,
    suite: &PlannedSuite,
    (options, slots, root): (&ExecOptions, &ProcessSlots, &OutRoot),
    cancel: &CancelToken,
    events: &Sender<Event>,
    lines: Option<&Sender<OutputLine>>,
) -> SuiteResult {
    let name = &suite.config.name;
    let runner_name = suite.runner.name().to_string();
    if let Some(path) = &suite.missing_path {
        let message = format!(
            "path {} does not exist (disable the suite to run without it)",
            path.display()
        );
        let mut result = SuiteResult::errored(name, &runner_name, message);
        // Its tool never started.
        result.attempts = 0;
        result.tool = ToolRun {
            name: runner_name,
            ..ToolRun::default()
        };
        return result;
    }
    let suite_out = options.out_dir.join(name);
    let mut base = suite_context(plan, suite, &suite_out, cancel);
    base.live_output = lines.map(|sink| {
        let sink = sink.clone();
        LiveOutput::new(move |line| sink.send(line).is_ok())
    });

    let started = Instant::now();
    let mut version = None;
    let mut merged: Option<SuiteResult> = None;
    let mut selection = suite.selection.clone();
    let mut previous_out: Option<PathBuf> = None;
    let mut suite_dir: Option<SuiteDir> = None;
    let max_attempts = plan.settings.retries.saturating_add(1);
    let probe_version = || {
        let mut probe_ctx = base.clone();
        probe_ctx.output_dir = suite_out.clone();
        suite.runner.tool_version(&probe_ctx)
    };
    // A tool that says its version as it runs needs no process to ask it,
    // which on a busy machine would compete with the tests for the cores.
    let version_in_stream = suite.runner.version_in_stream();
    crossbeam_utils::thread::scope(|scope| {
        // The version query overlaps the tests instead of delaying them.
        let version_probe = (!version_in_stream).then(|| scope.spawn(|_| probe_version()));
        for attempt in 1..=max_attempts {
            if cancel.is_cancelled() && attempt > 1 {
                break;
            }
            let out = if attempt == 1 { suite_out.clone() } else { suite_out.join(format!("attempt-{attempt}")) };
            // The root may exist; everything below it is created fresh, whatever
            // is there: an earlier run's output, or a link the previous
            // attempt's tool planted to make us write elsewhere.
            let prepared = match &suite_dir {
                None => SuiteDir::create(root, &out).map(|dir| suite_dir = Some(dir)),
                Some(dir) => dir.check().and_then(|()| runner_api::outdir::create_fresh_dir(&out)),
            };
            if let Err(err) = prepared {
                let result = SuiteResult::errored(name, &runner_name, format!("cannot prepare output directory {}: {err}", out.display()));
                merged = Some(fold(merged.take(), result, &selection));
                break;
            }
            let mut ctx = base.clone();
            ctx.output_dir = out.clone();
            ctx.attempt = attempt;
            ctx.selection = selection.clone();
            ctx.previous_output_dir = previous_out.clone();
            ctx.test_events = Some(crate::streaming::test_events(events, suite.index, name, attempt));
            let _ = events.send(Event::AttemptStarted {
                index: suite.index,
                suite: name.clone(),
                attempt,
                selected: ctx.selected().map(<[String]>::len),
            });
            // Counted, reported and merged: only what the attempt was asked to run.
            let attempt_result = run_attempt_in_slots(suite, &ctx, slots, &|ctx| run_attempt(suite, ctx));
            let result = keep_selected(attempt_result, &selection);
            let _ = events.send(Event::AttemptFinished {
                index: suite.index,
                suite: name.clone(),
                attempt,
                outcome: result.outcome(),
                passed: result.passed(),
                failed: result.failed(),
                errors: result.errors(),
                skipped: result.skipped_cases(),
                duration: result.duration,
                error: result.error.clone(),
            });
            let interrupted = result.outcome() == SuiteOutcome::Interrupted;
            // Everything the suite was to run ran again: to the merge of
            // attempts, the whole suite (an earlier suite error is cleared).
            let scope = if selection == suite.selection { &Selection::All } else { &selection };
            let current = fold(merged.take(), result, scope);
            let retry_on = plan.settings.retry_on.as_ref();
            let next = if attempt < max_attempts && !interrupted { next_selection(retry_on, &current) } else { None };
            merged = Some(current);
            match next {
                Some(next) => {
                    // "The whole suite" of a suite asked to run some tests
                    // (a partition's share, a re-run) is those tests: a
                    // crashed share once ran every share's tests again, and
                    // the shares no longer merged (a hostile try, 14 N6).
                    let next = match (next, &suite.selection) {
                        (Selection::All, Selection::Only(planned)) => Selection::Only(planned.clone()),
                        (next, _) => next,
                    };
                    if next == suite.selection {
                        log::info!("[{name}] attempt {attempt} failed without naming selectable tests: re-running all it was to run");
                    }
                    selection = next;
                    previous_out = Some(out);
                }
                None => break,
            }
        }
        if let Some(probe) = version_probe {
            version = probe.join().ok().flatten();
        }
    })
    .unwrap_or_else(|_| log::error!("[{name}] the version probe panicked"));

    if let Some(Err(err)) = suite_dir.as_ref().map(SuiteDir::seal) {
        log::warn!(
            "[{name}] cannot mark {} as qaagent's output: {err}",
            suite_out.display()
        );
    }
    let mut result = merged.unwrap_or_else(|| SuiteResult::errored(name, &runner_name, "no attempt ran"));
    if !cancel.is_cancelled() {
        check_selected(&mut result, suite);
    }
    plan.settings.quarantine.mark(&mut result);
    if !version_in_stream {
        result.tool.version = version;
    } else if result.tool.version.is_none() && !cancel.is_cancelled() {
        // No attempt said it (its stream broke, or the tool never started).
        result.tool.version = probe_version();
    }
    result.warnings.extend(crate::out_dir::full_disk_warning(&suite_out));
    result.output_dir = Some(suite_out);
    if result.tool.name.is_empty() {
        result.tool.name = runner_name;
    }
    log::debug!("[{name}] finished in {:?}", started.elapsed());
    result
}

/// A suite asked to run some tests (`--rerun-failed`, a partition's share)
/// must have run each of them, and a re-run the very test it names: one the
/// tool did not run, or a selector that now points at another test (a
/// feature file edited since, a renamed test), becomes an errored test,
/// never a silent pass. A suite that errored as a whole already fails.
fn check_selected(result: &mut SuiteResult, suite: &PlannedSuite) {
    let Selection::Only(selectors) = &suite.selection else {
        return;
    };
    if result.error.is_some() {
        return;
    }
    let mut missing = Vec::new();
    for selector in selectors {
        let at_selector: Vec<&TestCase> = (result.cases.iter())
            .filter(|case| case.selector.as_deref() == Some(selector))
            .collect();
        let expected = suite.expected_names.get(selector);
        let ran_it = match expected {
            Some(name) => at_selector.iter().any(|case| &case.name == name),
            None => !at_selector.is_empty(),
        };
        if ran_it {
            continue;
        }
        let message = match at_selector.first() {
            Some(other) => format!(
                "selected to run again, but `{selector}` now runs `{}`: the test moved or was renamed",
                other.name
            ),
            None => format!("selected to run, but the tool did not run `{selector}`"),
        };
        let mut case = TestCase::new(
            expected.map_or(selector.as_str(), String::as_str),
            "",
            TestStatus::Error,
        );
        case.selector = Some(selector.clone());
        case.message = Some(message);
        missing.push(case);
    }
    if !missing.is_empty() {
        log::warn!("[{}] {} selected test(s) did not run", suite.config.name, missing.len());
        result.cases.extend(missing);
    }
}

fn fold(merged: Option<SuiteResult>, next: SuiteResult, selection: &Selection) -> SuiteResult {
    match merged {
        None => next,
        Some(merged) => merge(merged, next, selection),
    }
}

/// Runs one attempt, turning a runner error or panic into `errors = 1`.
/// The context every attempt of `suite` starts from (also what its tests
/// are listed with): the suite's config, the run's settings, output to `out`.
pub(crate) fn suite_context(plan: &Plan, suite: &PlannedSuite, out: &Path, cancel: &CancelToken) -> SuiteContext {
    let mut ctx = SuiteContext::new(&suite.config.name, &suite.config.path, &suite.config.path, out);
    ctx.project_dir = plan.project_dir.clone();
    ctx.base_url = plan.settings.base_url.clone();
    ctx.env = suite.config.env.clone();
    ctx.args = suite.config.args.clone();
    ctx.settings = suite.config.settings.clone();
    ctx.timeout = Some(plan.timeout_for(&suite.config));
    ctx.kill_grace = plan.settings.kill_grace;
    ctx.cancel = cancel.clone();
    ctx
}

fn run_attempt(suite: &PlannedSuite, ctx: &SuiteContext) -> SuiteResult {
    let runner = suite.runner.name();
    if matches!(&ctx.selection, Selection::Only(selectors) if selectors.is_empty()) {
        // A tool told no test to select runs its whole suite: nothing to run.
        log::info!("[{}] no test selected: not run", ctx.suite);
        return SuiteResult::new(&ctx.suite, runner);
    }
    let outcome = catch_unwind(AssertUnwindSafe(|| suite.runner.run(ctx)));
    let mut result = match outcome {
        Ok(Ok(result)) => result,
        Ok(Err(err)) => {
            let mut result = SuiteResult::errored(&ctx.suite, runner, err.to_string());
            result.tool = ToolRun {
                name: runner.to_string(),
                executed: false,
                error: Some(err.to_string()),
                ..ToolRun::default()
            };
            result
        }
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            let mut result = SuiteResult::errored(&ctx.suite, runner, format!("runner `{runner}` panicked: {message}"));
            result.tool = ToolRun {
                name: runner.to_string(),
                error: result.error.clone(),
                ..ToolRun::default()
            };
            result
        }
    };
    result.suite = ctx.suite.clone();
    result
}
