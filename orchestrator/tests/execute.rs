//! The executor with in-process fake runners: ordering, isolation of
//! failures and panics, concurrency limits, and overrides. (The real tools are
//! exercised end to end in the workspace's `tests/` crate.)
//!
//! No test sleeps to make suites overlap: where overlap or order matters, the
//! fake suites wait in a [`Gate`] until the test lets each one go, so the test
//! sees exactly which suites run at once and decides the order they finish in.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use orchestrator::config::{self, Config};
use orchestrator::events::Event;
use orchestrator::execute::{execute, ExecOptions};
use orchestrator::plan::{Overrides, Plan};
use orchestrator::registry::Registry;
use runner_api::{
    CancelToken, Runner, RunnerError, SettingsError, SuiteContext, SuiteOutcome, SuiteResult, TestCase, TestStatus,
};

/// How long a test waits for the executor to reach a state before it calls
/// the executor stuck. A guard against hanging forever, not a measurement:
/// every wait ends as soon as the state is reached.
const STUCK: Duration = Duration::from_secs(60);

/// What a fake suite does, keyed by suite name in the fake's `behaviour` setting.
#[derive(Clone, Copy)]
enum Behaviour {
    Pass,
    Fail,
    Error,
    Panic,
}

/// Where the fake suites wait, when the gate is closed, until the test
/// releases them by name; it records which suites are inside `run` at once.
#[derive(Default)]
struct Gate {
    state: Mutex<GateState>,
    changed: Condvar,
}

#[derive(Default, Debug)]
struct GateState {
    /// Open: suites pass without waiting (tests that need no control).
    open: bool,
    /// Suites inside `run` now.
    running: BTreeSet<String>,
    /// Suites the test has let go (they may not have left `run` yet).
    released: BTreeSet<String>,
    /// The most suites inside `run` at once.
    peak: usize,
    /// Suites in the order they entered `run`.
    started: Vec<String>,
}

impl Gate {
    fn lock(&self) -> MutexGuard<'_, GateState> {
        // A test that failed while holding the lock poisons it; the state is still good.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Called by a fake suite: enters, waits until released (or the gate is open), leaves.
    fn pass(&self, suite: &str) {
        let mut state = self.lock();
        state.running.insert(suite.to_string());
        state.started.push(suite.to_string());
        state.peak = state.peak.max(state.running.len());
        self.changed.notify_all();
        while !state.open && !state.released.contains(suite) {
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        state.running.remove(suite);
        self.changed.notify_all();
    }

    /// Waits until exactly `count` suites are inside `run` and not yet
    /// released, and returns them.
    fn wait_held(&self, count: usize) -> Vec<String> {
        let deadline = Instant::now() + STUCK;
        let mut state = self.lock();
        loop {
            let held: Vec<String> = state.running.difference(&state.released).cloned().collect();
            if held.len() == count {
                return held;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "waited for {count} suites held at once; the gate: {state:?}"
            );
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
    }

    fn release(&self, suite: &str) {
        self.lock().released.insert(suite.to_string());
        self.changed.notify_all();
    }

    /// Lets every suite through from now on.
    fn open(&self) {
        self.lock().open = true;
        self.changed.notify_all();
    }

    fn peak(&self) -> usize {
        self.lock().peak
    }

    fn started(&self) -> Vec<String> {
        self.lock().started.clone()
    }
}

/// Opens the gate when dropped, so that a failing test does not leave the
/// executor's workers waiting forever (and the test with them).
struct OpenOnDrop<'a>(&'a Gate);

impl Drop for OpenOnDrop<'_> {
    fn drop(&mut self) {
        self.0.open();
    }
}

/// A runner that passes through its [`Gate`] and then behaves as its
/// suite's `behaviour` setting says.
#[derive(Default)]
struct FakeRunner {
    gate: Gate,
}

impl Runner for FakeRunner {
    fn name(&self) -> &str {
        "fake"
    }

    fn check_settings(&self, _settings: &toml::Table) -> Result<(), SettingsError> {
        Ok(())
    }

    fn tool_version(&self, _ctx: &SuiteContext) -> Option<String> {
        Some("1.0".into())
    }

    fn run(&self, ctx: &SuiteContext) -> Result<SuiteResult, RunnerError> {
        self.gate.pass(&ctx.suite);
        let behaviour = match ctx
            .settings
            .get("behaviour")
            .and_then(toml::Value::as_str)
            .unwrap_or("pass")
        {
            "fail" => Behaviour::Fail,
            "error" => Behaviour::Error,
            "panic" => Behaviour::Panic,
            _ => Behaviour::Pass,
        };
        let status = match behaviour {
            Behaviour::Pass => TestStatus::Passed,
            Behaviour::Fail => TestStatus::Failed,
            Behaviour::Error => return Err(RunnerError::Other("the fake tool is broken".into())),
            Behaviour::Panic => panic!("fake runner panicked on purpose"),
        };
        let mut result = SuiteResult::new(&ctx.suite, "fake");
        let mut case = TestCase::new(format!("test_{}", ctx.suite), &ctx.suite, status);
        case.selector = Some(format!("{}::test", ctx.suite));
        result.cases.push(case);
        Ok(result)
    }
}

struct Fixture {
    dir: tempfile::TempDir,
    runner: Arc<FakeRunner>,
    registry: Registry,
}

impl Fixture {
    /// Fake suites run straight through.
    fn new() -> Self {
        let fixture = Fixture::gated();
        fixture.gate().open();
        fixture
    }

    /// Fake suites wait in the gate until the test releases them.
    fn gated() -> Self {
        let runner = Arc::new(FakeRunner::default());
        let mut registry = Registry::new();
        registry.register_shared(runner.clone());
        Fixture {
            dir: tempfile::tempdir().expect("tempdir"),
            runner,
            registry,
        }
    }

    fn gate(&self) -> &Gate {
        &self.runner.gate
    }

    /// A config with one fake suite per `(name, behaviour)`.
    fn config(&self, run: &str, suites: &[(&str, &str)]) -> Config {
        let mut text = format!("[project]\nname = \"fake\"\n\n[run]\n{run}\n");
        for (name, behaviour) in suites {
            std::fs::create_dir_all(self.dir.path().join(name)).expect("suite dir");
            text.push_str(&format!(
                "\n[tests.{name}]\nrunner = \"fake\"\npath = \"{name}\"\nbehaviour = \"{behaviour}\"\n"
            ));
        }
        let file = self.dir.path().join(".qaagent.toml");
        std::fs::write(&file, &text).expect("write config");
        config::load(&file, &self.registry).unwrap_or_else(|err| panic!("{err}\n{text}"))
    }

    fn run(&self, config: &Config, overrides: &Overrides) -> (Vec<SuiteResult>, Vec<Event>) {
        self.run_watched(config, overrides, None)
    }

    /// [`run`](Self::run), also sending the name of each finished suite to
    /// `finished` as its `SuiteFinished` event reaches the caller.
    fn run_watched(
        &self,
        config: &Config,
        overrides: &Overrides,
        finished: Option<mpsc::Sender<String>>,
    ) -> (Vec<SuiteResult>, Vec<Event>) {
        let plan = Plan::new(config, &self.registry, overrides, None).expect("plan");
        let out = self.dir.path().join("out");
        let mut events = Vec::new();
        let results = execute(
            &plan,
            &ExecOptions {
                out_dir: out,
                live_output: false,
            },
            &CancelToken::new(),
            &mut |event: &Event| {
                if let (Event::SuiteFinished { result, .. }, Some(finished)) = (event, &finished) {
                    let _ = finished.send(result.suite.clone());
                }
                events.push(event.clone());
            },
        );
        (results, events)
    }
}

fn names(results: &[SuiteResult]) -> Vec<&str> {
    results.iter().map(|r| r.suite.as_str()).collect()
}

fn finish_order(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::SuiteFinished { result, .. } => Some(result.suite.clone()),
            _ => None,
        })
        .collect()
}

/// Runs `config` with its suites held in the gate and lets them go one at a
/// time, each only once the executor runs as many suites at once as
/// `workers` allows (fewer only when fewer are left): the run can only
/// finish if the executor keeps `workers` suites going. Returns the results.
fn run_keeping_workers_busy(fx: &Fixture, config: &Config, overrides: &Overrides, workers: usize) -> Vec<SuiteResult> {
    let suites = Plan::new(config, &fx.registry, overrides, None)
        .expect("plan")
        .suites
        .len();
    std::thread::scope(|scope| {
        let run = scope.spawn(|| fx.run(config, overrides).0);
        let _open = OpenOnDrop(fx.gate());
        for done in 0..suites {
            let held = fx.gate().wait_held(workers.min(suites - done));
            fx.gate().release(&held[0]);
        }
        run.join().expect("the executor returns")
    })
}

#[test]
fn default_is_sequential_in_suite_order() {
    let fx = Fixture::gated();
    let config = fx.config(
        "suite_order = [\"a\", \"b\", \"c\"]",
        &[("c", "pass"), ("b", "pass"), ("a", "pass")],
    );
    assert!(!config.run.parallel);
    let (results, events) = std::thread::scope(|scope| {
        let run = scope.spawn(|| fx.run(&config, &Overrides::default()));
        let _open = OpenOnDrop(fx.gate());
        for suite in ["a", "b", "c"] {
            assert_eq!(fx.gate().wait_held(1), [suite], "one suite at a time, in suite_order");
            fx.gate().release(suite);
        }
        run.join().expect("the executor returns")
    });
    assert_eq!(fx.gate().peak(), 1, "sequential by default");
    assert_eq!(fx.gate().started(), ["a", "b", "c"]);
    assert_eq!(names(&results), ["a", "b", "c"]);
    assert_eq!(finish_order(&events), ["a", "b", "c"]);
}

#[test]
fn parallel_runs_all_enabled_suites_at_once_and_reports_in_suite_order() {
    let fx = Fixture::gated();
    let config = fx.config(
        "parallel = true\nsuite_order = [\"a\", \"b\", \"c\"]",
        &[("a", "pass"), ("b", "pass"), ("c", "pass")],
    );
    let (finished_tx, finished_rx) = mpsc::channel();
    let (results, events) = std::thread::scope(|scope| {
        let run = scope.spawn(|| fx.run_watched(&config, &Overrides::default(), Some(finished_tx)));
        let _open = OpenOnDrop(fx.gate());
        // All three at once: the default max_workers is the number of enabled suites.
        assert_eq!(fx.gate().wait_held(3), ["a", "b", "c"]);
        // Finish them in the reverse of suite_order, each after the previous one's event.
        for suite in ["c", "b", "a"] {
            fx.gate().release(suite);
            let finished = finished_rx.recv_timeout(STUCK).expect("a SuiteFinished event");
            assert_eq!(finished, suite);
        }
        run.join().expect("the executor returns")
    });
    assert_eq!(
        fx.gate().peak(),
        3,
        "default max_workers is the number of enabled suites"
    );
    assert_eq!(
        finish_order(&events),
        ["c", "b", "a"],
        "completion order really was reversed"
    );
    assert_eq!(names(&results), ["a", "b", "c"]);
    assert!(results.iter().all(|r| r.outcome() == SuiteOutcome::Passed));
}

#[test]
fn max_workers_limits_concurrency() {
    for (workers, suites) in [(1usize, 3usize), (2, 4)] {
        let fx = Fixture::gated();
        let names: Vec<String> = (0..suites).map(|i| format!("s{i}")).collect();
        let specs: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "pass")).collect();
        let config = fx.config(&format!("parallel = true\nmax_workers = {workers}"), &specs);
        let results = run_keeping_workers_busy(&fx, &config, &Overrides::default(), workers);
        assert_eq!(results.len(), suites);
        assert!(results.iter().all(|r| r.outcome() == SuiteOutcome::Passed));
        assert_eq!(fx.gate().peak(), workers, "at most {workers} at once");
    }
}

#[test]
fn one_failing_suite_does_not_stop_the_others() {
    let fx = Fixture::new();
    let config = fx.config("", &[("a", "fail"), ("b", "pass"), ("c", "fail")]);
    let (results, _) = fx.run(&config, &Overrides::default());
    let outcomes: Vec<_> = results.iter().map(|r| r.outcome()).collect();
    assert_eq!(
        outcomes,
        [SuiteOutcome::Failed, SuiteOutcome::Passed, SuiteOutcome::Failed]
    );
    assert_eq!(results[1].passed(), 1);
}

#[test]
fn runner_error_or_panic_becomes_one_error() {
    for parallel in [false, true] {
        let fx = Fixture::new();
        let config = fx.config(
            &format!("parallel = {parallel}"),
            &[("broken", "error"), ("panics", "panic"), ("fine", "pass")],
        );
        let (results, _) = fx.run(&config, &Overrides::default());
        assert_eq!(names(&results), ["broken", "panics", "fine"]);
        assert_eq!((results[0].outcome(), results[0].errors()), (SuiteOutcome::Errored, 1));
        assert!(
            results[0]
                .error
                .as_deref()
                .is_some_and(|e| e.contains("the fake tool is broken")),
            "{:?}",
            results[0].error
        );
        assert_eq!((results[1].outcome(), results[1].errors()), (SuiteOutcome::Errored, 1));
        assert!(
            results[1]
                .error
                .as_deref()
                .is_some_and(|e| e.contains("panicked on purpose")),
            "{:?}",
            results[1].error
        );
        assert_eq!(results[2].outcome(), SuiteOutcome::Passed);
    }
}

#[test]
fn cli_overrides_config_without_mutating_it() {
    let fx = Fixture::gated();
    let config = fx.config(
        "parallel = false\nmax_workers = 1\nretry_count = 0",
        &[("a", "pass"), ("b", "pass"), ("c", "pass")],
    );
    let overrides = Overrides {
        parallel: Some(true),
        max_workers: Some(2),
        retries: Some(3),
        ..Overrides::default()
    };
    let plan = Plan::new(&config, &fx.registry, &overrides, None).expect("plan");
    assert!(plan.settings.parallel);
    assert_eq!((plan.settings.workers, plan.settings.retries), (2, 3));
    run_keeping_workers_busy(&fx, &config, &overrides, 2);
    assert_eq!(fx.gate().peak(), 2);
    assert!(
        !config.run.parallel && config.run.max_workers == Some(1),
        "the config itself is untouched"
    );
    let reread = config::load(&config.file, &fx.registry).expect("reload");
    assert!(!reread.run.parallel);
}

#[test]
fn missing_path_is_an_error_naming_the_path() {
    let fx = Fixture::new();
    let config = fx.config("", &[("a", "pass")]);
    std::fs::remove_dir(fx.dir.path().join("a")).expect("remove suite dir");
    let (results, _) = fx.run(&config, &Overrides::default());
    assert_eq!(results[0].outcome(), SuiteOutcome::Errored);
    assert_eq!(results[0].attempts, 0, "its tool never started");
    let error = results[0].error.as_deref().expect("error");
    assert!(
        error.contains(&Path::new(fx.dir.path()).join("a").display().to_string()),
        "{error}"
    );
}

#[test]
fn suite_flag_selects_suites_and_unknown_names_are_errors() {
    let fx = Fixture::new();
    let config = fx.config("", &[("a", "pass"), ("b", "pass")]);
    let overrides = Overrides {
        suites: vec!["b".into()],
        ..Overrides::default()
    };
    let (results, _) = fx.run(&config, &overrides);
    assert_eq!(names(&results), ["b"]);
    let bad = Overrides {
        suites: vec!["nope".into()],
        ..Overrides::default()
    };
    let err = Plan::new(&config, &fx.registry, &bad, None).expect_err("unknown suite");
    assert!(err.to_string().contains("nope"), "{err}");
}

#[test]
fn the_longest_expected_work_starts_first_and_results_keep_plan_order() {
    let fx = Fixture::gated();
    let config = fx.config(
        "parallel = true\nmax_workers = 2",
        &[("a", "pass"), ("b", "pass"), ("c", "pass")],
    );
    let mut plan = Plan::new(&config, &fx.registry, &Overrides::default(), None).expect("plan");
    // What `split` notes from stored durations: c is longest, a shortest.
    for (suite, seconds) in plan.suites.iter_mut().zip([1.0, 5.0, 30.0]) {
        suite.expected_seconds = Some(seconds);
    }
    let options = ExecOptions {
        out_dir: fx.dir.path().join("out"),
        live_output: false,
    };
    let results = std::thread::scope(|scope| {
        // Opened however this ends, before the scope waits for the run.
        let _open = OpenOnDrop(fx.gate());
        let run = scope.spawn(|| execute(&plan, &options, &CancelToken::new(), &mut |_| {}));
        // The two workers hold c and b; a waits for one of them.
        let mut held = fx.gate().wait_held(2);
        held.sort();
        assert_eq!(held, ["b", "c"]);
        fx.gate().open();
        run.join().expect("execute")
    });
    assert_eq!(names(&results), ["a", "b", "c"], "reported in plan order");
}
