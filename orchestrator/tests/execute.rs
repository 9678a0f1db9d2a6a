//! The executor with in-process fake runners: ordering, isolation of
//! failures and panics, concurrency limits, and overrides. (The real tools are
//! exercised end to end in the workspace's `tests/` crate.)

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use orchestrator::config::{self, Config};
use orchestrator::events::Event;
use orchestrator::execute::{execute, ExecOptions};
use orchestrator::plan::{Overrides, Plan};
use orchestrator::registry::Registry;
use runner_api::{
    CancelToken, Runner, RunnerError, SettingsError, SuiteContext, SuiteOutcome, SuiteResult, TestCase, TestStatus,
};

/// What a fake suite does, keyed by suite name in the fake's `behaviour` setting.
#[derive(Clone, Copy)]
enum Behaviour {
    Pass,
    Fail,
    Error,
    Panic,
}

/// A runner that sleeps `sleep_ms` (from the suite's settings), records how
/// many suites run at once, and then behaves as told.
#[derive(Default)]
struct FakeRunner {
    running: AtomicUsize,
    peak: AtomicUsize,
    order: Mutex<Vec<String>>,
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
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        self.order.lock().expect("lock").push(ctx.suite.clone());
        let sleep = ctx
            .settings
            .get("sleep_ms")
            .and_then(toml::Value::as_integer)
            .unwrap_or(0);
        std::thread::sleep(Duration::from_millis(sleep as u64));
        self.running.fetch_sub(1, Ordering::SeqCst);
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
    fn new() -> Self {
        let runner = Arc::new(FakeRunner::default());
        let mut registry = Registry::new();
        registry.register_shared(runner.clone());
        Fixture {
            dir: tempfile::tempdir().expect("tempdir"),
            runner,
            registry,
        }
    }

    /// A config with one fake suite per `(name, sleep_ms, behaviour)`.
    fn config(&self, run: &str, suites: &[(&str, u64, &str)]) -> Config {
        let mut text = format!("[project]\nname = \"fake\"\n\n[run]\n{run}\n");
        for (name, sleep, behaviour) in suites {
            std::fs::create_dir_all(self.dir.path().join(name)).expect("suite dir");
            text.push_str(&format!(
                "\n[tests.{name}]\nrunner = \"fake\"\npath = \"{name}\"\nsleep_ms = {sleep}\nbehaviour = \"{behaviour}\"\n"
            ));
        }
        let file = self.dir.path().join(".qaagent.toml");
        std::fs::write(&file, &text).expect("write config");
        config::load(&file, &self.registry).unwrap_or_else(|err| panic!("{err}\n{text}"))
    }

    fn run(&self, config: &Config, overrides: &Overrides) -> (Vec<SuiteResult>, Vec<Event>) {
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
            &mut |event: &Event| events.push(event.clone()),
        );
        (results, events)
    }

    fn peak(&self) -> usize {
        self.runner.peak.load(Ordering::SeqCst)
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

#[test]
fn default_is_sequential_in_suite_order() {
    let fx = Fixture::new();
    let config = fx.config(
        "suite_order = [\"a\", \"b\", \"c\"]",
        &[("c", 30, "pass"), ("b", 30, "pass"), ("a", 30, "pass")],
    );
    assert!(!config.run.parallel);
    let (results, events) = fx.run(&config, &Overrides::default());
    assert_eq!(fx.peak(), 1, "sequential by default");
    assert_eq!(*fx.runner.order.lock().expect("lock"), ["a", "b", "c"]);
    assert_eq!(names(&results), ["a", "b", "c"]);
    assert_eq!(finish_order(&events), ["a", "b", "c"]);
}

#[test]
fn parallel_runs_all_enabled_suites_at_once_and_reports_in_suite_order() {
    let fx = Fixture::new();
    // Completion order is the reverse of suite_order.
    let config = fx.config(
        "parallel = true\nsuite_order = [\"a\", \"b\", \"c\"]",
        &[("a", 600, "pass"), ("b", 300, "pass"), ("c", 10, "pass")],
    );
    let (results, events) = fx.run(&config, &Overrides::default());
    assert_eq!(fx.peak(), 3, "default max_workers is the number of enabled suites");
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
        let fx = Fixture::new();
        let names: Vec<String> = (0..suites).map(|i| format!("s{i}")).collect();
        let specs: Vec<(&str, u64, &str)> = names.iter().map(|n| (n.as_str(), 150, "pass")).collect();
        let config = fx.config(&format!("parallel = true\nmax_workers = {workers}"), &specs);
        let (results, _) = fx.run(&config, &Overrides::default());
        assert_eq!(results.len(), suites);
        assert_eq!(fx.peak(), workers, "at most {workers} at once");
    }
}

#[test]
fn one_failing_suite_does_not_stop_the_others() {
    let fx = Fixture::new();
    let config = fx.config("", &[("a", 0, "fail"), ("b", 0, "pass"), ("c", 0, "fail")]);
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
            &[("broken", 0, "error"), ("panics", 0, "panic"), ("fine", 0, "pass")],
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
    let fx = Fixture::new();
    let config = fx.config(
        "parallel = false\nmax_workers = 1\nretry_count = 0",
        &[("a", 150, "pass"), ("b", 150, "pass"), ("c", 150, "pass")],
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
    let (_, _) = fx.run(&config, &overrides);
    assert_eq!(fx.peak(), 2);
    assert!(
        !config.run.parallel && config.run.max_workers == Some(1),
        "the config itself is untouched"
    );
    let reread = config::load(&config.file, &fx.registry).expect("reload");
    assert!(!reread.run.parallel);
}

#[test]
fn missing_path_is_skipped_with_the_path() {
    let fx = Fixture::new();
    let config = fx.config("", &[("a", 0, "pass")]);
    std::fs::remove_dir(fx.dir.path().join("a")).expect("remove suite dir");
    let (results, _) = fx.run(&config, &Overrides::default());
    assert_eq!(results[0].outcome(), SuiteOutcome::Skipped);
    let reason = results[0].skip_reason.as_deref().expect("reason");
    assert!(
        reason.contains(&Path::new(fx.dir.path()).join("a").display().to_string()),
        "{reason}"
    );
}

#[test]
fn suite_flag_selects_suites_and_unknown_names_are_errors() {
    let fx = Fixture::new();
    let config = fx.config("", &[("a", 0, "pass"), ("b", 0, "pass")]);
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
fn an_external_run_handle_is_recorded_into_but_not_finalized() {
    let fx = Fixture::new();
    let config = fx.config("", &[("a", 0, "pass"), ("b", 0, "fail")]);
    let plan = Plan::new(&config, &fx.registry, &Overrides::default(), None).expect("plan");
    let runs = tempfile::tempdir().expect("runs dir");
    let run = evidence::Run::create(
        runs.path(),
        evidence::RunInfo {
            project_name: "outer".into(),
            project_path: fx.dir.path().to_path_buf(),
            suites: plan.names(),
            qaagent_version: "test".into(),
        },
    )
    .expect("create run");
    let writer = run.start_writer().expect("writer");
    let run_dir = writer.dir().to_path_buf();
    let mut session = orchestrator::session::Session::attach(
        &config,
        writer.sender(),
        writer.run_id().to_string(),
        run_dir.clone(),
        fx.dir.path().join("out"),
    )
    .expect("attach");
    let results = execute(
        &plan,
        &ExecOptions {
            out_dir: session.out_dir().to_path_buf(),
            live_output: false,
        },
        &CancelToken::new(),
        &mut |event: &Event| session.record(event),
    );
    let summary = orchestrator::summary::RunSummary::from_results(&results, Duration::from_millis(1), false);
    session.finish(&results, &summary).expect("session finish");
    // The owner finalizes; until then the run is still running.
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("manifest.json")).expect("manifest")).expect("json");
    assert_eq!(manifest["status"], "running");
    let manifest = writer
        .finish(evidence::RunStatus::Failed, Duration::from_millis(2))
        .expect("finish");
    assert_eq!(manifest.status, Some(evidence::RunStatus::Failed));
    let lines = std::fs::read_to_string(run_dir.join("evidence/tests.jsonl")).expect("jsonl");
    assert_eq!(
        lines.lines().count(),
        2,
        "both suites' records went to the external run"
    );
    assert!(run_dir.join("evidence/diagnostics.json").is_file(), "diagnostics too");
}
