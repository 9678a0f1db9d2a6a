//! The Playwright runner against real Playwright Test 1.65 driving Debian's
//! chromium, on the fixture project `tests/fixtures/playwright-basic` and the
//! demo's `examples/demo/e2e`.
//!
//! The fixtures' `node_modules` come from `scripts/setup-test-env.sh`
//! (`npm ci`); the auto-install test copies a suite without them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use runner_api::{Runner, RunnerError, Selection, SuiteContext, SuiteOutcome, SuiteResult, TestStatus};
use runner_playwright::PlaywrightRunner;

const BASE_URL: &str = "http://127.0.0.1:9/qaagent-base";

const FAILING: &str = "[chromium] › cart.spec.ts › cart › checkout › rejects an expired card";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crate lives in the workspace")
        .to_path_buf()
}

fn fixture() -> PathBuf {
    repo().join("tests/fixtures/playwright-basic")
}

/// A suite path whose dependencies must already be installed.
fn installed(path: PathBuf) -> PathBuf {
    assert!(
        path.join("node_modules/.bin/playwright").is_file(),
        "{} has no node_modules: run scripts/setup-test-env.sh",
        path.display()
    );
    path
}

fn context(project_dir: &Path, path: &Path, output_dir: &Path) -> SuiteContext {
    let mut ctx = SuiteContext::new("e2e", project_dir, path, output_dir);
    ctx.base_url = Some(BASE_URL.to_string());
    ctx.timeout = Some(Duration::from_secs(300));
    ctx
}

/// Relative path → (size, modification time) of every file below `dir`,
/// `node_modules` left out.
fn listing(dir: &Path) -> BTreeMap<PathBuf, (u64, std::time::SystemTime)> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, (u64, std::time::SystemTime)>) {
        for entry in std::fs::read_dir(dir).expect("readable dir") {
            let entry = entry.expect("dir entry");
            let path = entry.path();
            if entry.file_name() == "node_modules" {
                continue;
            }
            let meta = entry.metadata().expect("metadata");
            let key = path.strip_prefix(root).expect("below root").to_path_buf();
            if meta.is_dir() {
                out.insert(key.clone(), (0, std::time::UNIX_EPOCH));
                walk(root, &path, out);
            } else {
                out.insert(key, (meta.len(), meta.modified().expect("mtime")));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Playwright's own count for `word` ("passed", "failed", …) from the line
/// reporter's summary in the suite's stdout log (`  5 passed (5.6s)`).
fn summary_count(stdout: &str, word: &str) -> usize {
    stdout
        .lines()
        .filter_map(|line| {
            let mut parts = line.split_whitespace();
            let count = parts.next()?.parse::<usize>().ok()?;
            (parts.next()? == word).then_some(count)
        })
        .next_back()
        .unwrap_or(0)
}

/// One whole run of the fixture suite, shared by the tests that inspect it,
/// with listings of the project tree taken before and after.
struct FullRun {
    result: SuiteResult,
    stdout: String,
    before: BTreeMap<PathBuf, (u64, std::time::SystemTime)>,
    after: BTreeMap<PathBuf, (u64, std::time::SystemTime)>,
    _out: tempfile::TempDir,
}

fn full_run() -> &'static FullRun {
    static RUN: OnceLock<FullRun> = OnceLock::new();
    RUN.get_or_init(|| {
        let project = fixture();
        let path = installed(project.join("e2e"));
        let before = listing(&project);
        let out = tempfile::tempdir().expect("tempdir");
        let ctx = context(&project, &path, out.path());
        let result = PlaywrightRunner::new().run(&ctx).expect("the runner runs Playwright");
        let stdout = std::fs::read_to_string(ctx.stdout_log()).expect("stdout.log");
        let after = listing(&project);
        FullRun {
            result,
            stdout,
            before,
            after,
            _out: out,
        }
    })
}

fn status_of(result: &SuiteResult, selector: &str) -> TestStatus {
    result
        .cases
        .iter()
        .find(|case| case.selector.as_deref() == Some(selector))
        .unwrap_or_else(|| panic!("no case {selector:?} in {:#?}", result.cases))
        .status
}

#[test]
fn counts_equal_playwrights_own_summary() {
    let run = full_run();
    let result = &run.result;
    assert_eq!(result.outcome(), SuiteOutcome::Failed, "{result:#?}");
    assert_eq!(result.return_code, Some(1));
    assert_eq!(result.error, None, "a failing test is not a suite error");
    assert_eq!(result.passed(), summary_count(&run.stdout, "passed"), "{}", run.stdout);
    assert_eq!(result.failed(), summary_count(&run.stdout, "failed"), "{}", run.stdout);
    assert_eq!(
        result.skipped_cases(),
        summary_count(&run.stdout, "skipped"),
        "{}",
        run.stdout
    );
    assert_eq!(
        (
            result.passed(),
            result.failed(),
            result.skipped_cases(),
            result.errors()
        ),
        (5, 1, 1, 0)
    );
    assert_eq!(result.total(), 7);
}

#[test]
fn each_case_carries_its_status_selector_and_file() {
    let result = &full_run().result;
    let expected = [
        ("[chromium] › cart.spec.ts › cart › shows the total", TestStatus::Passed),
        (
            "[chromium] › cart.spec.ts › cart › checkout › accepts a valid card",
            TestStatus::Passed,
        ),
        (FAILING, TestStatus::Failed),
        (
            "[chromium] › cart.spec.ts › cart › applies a coupon",
            TestStatus::Skipped,
        ),
        ("[chromium] › home.spec.ts › home page has a title", TestStatus::Passed),
        (
            "[chromium] › home.spec.ts › sees BASE_URL from qaagent",
            TestStatus::Passed,
        ),
        (
            "[chromium] › home.spec.ts › odd \"titles\" & <marks> › a > b and c",
            TestStatus::Passed,
        ),
    ];
    for (selector, status) in expected {
        assert_eq!(status_of(result, selector), status, "{selector}");
    }
    let failing = result
        .cases
        .iter()
        .find(|case| case.selector.as_deref() == Some(FAILING))
        .expect("failing case");
    assert_eq!(failing.name, "cart › checkout › rejects an expired card");
    // The project is part of the class name: the same test in two projects is two tests.
    assert_eq!(failing.classname, "[chromium] › cart.spec.ts");
    assert_eq!(
        failing.file.as_deref(),
        Some("tests/cart.spec.ts"),
        "file is relative to the suite path"
    );
    let message = failing.message.as_deref().unwrap_or_default();
    assert!(message.contains("toHaveText"), "{message}");
}

#[test]
fn failing_tests_screenshot_trace_and_error_context_are_artifacts() {
    let result = &full_run().result;
    let names: Vec<String> = result
        .artifacts
        .iter()
        .map(|path| path.file_name().expect("file name").to_string_lossy().into_owned())
        .collect();
    for expected in [
        "junit.xml",
        "stdout.log",
        "test-failed-1.png",
        "trace.zip",
        "error-context.md",
    ] {
        assert!(
            names.iter().any(|name| name == expected),
            "{expected} missing from {names:?}"
        );
    }
    let out = result.output_dir.as_ref().expect("output dir");
    for artifact in &result.artifacts {
        assert!(artifact.is_file(), "{} is not a file", artifact.display());
        assert!(
            artifact.starts_with(out),
            "{} is outside {}",
            artifact.display(),
            out.display()
        );
    }
    let screenshot = result
        .artifacts
        .iter()
        .find(|path| path.ends_with("test-failed-1.png"))
        .expect("screenshot");
    let png = std::fs::read(screenshot).expect("screenshot readable");
    assert!(png.starts_with(b"\x89PNG"), "the screenshot is a PNG");
}

#[test]
fn base_url_reaches_the_tests() {
    let result = &full_run().result;
    let case = result
        .cases
        .iter()
        .find(|case| case.name == "sees BASE_URL from qaagent")
        .expect("BASE_URL case");
    assert_eq!(case.status, TestStatus::Passed);
    let out = case.system_out.as_deref().unwrap_or_default();
    assert!(out.contains(&format!("BASE_URL={BASE_URL}")), "system-out: {out:?}");
}

#[test]
fn the_project_tree_stays_unchanged() {
    let run = full_run();
    assert!(!run.before.is_empty());
    assert_eq!(run.before, run.after, "the run wrote into the project tree");
}

#[test]
fn selection_reruns_exactly_the_selected_failing_test() {
    let project = fixture();
    let path = installed(project.join("e2e"));
    let out = tempfile::tempdir().expect("tempdir");
    let mut ctx = context(&project, &path, out.path());
    ctx.attempt = 2;
    ctx.selection = Selection::Only(vec![FAILING.to_string()]);
    let result = PlaywrightRunner::new().run(&ctx).expect("the runner runs Playwright");
    let selectors: Vec<_> = result
        .cases
        .iter()
        .filter_map(|case| case.selector.as_deref())
        .collect();
    assert_eq!(selectors, [FAILING], "{result:#?}");
    assert_eq!(result.cases[0].status, TestStatus::Failed);
    assert_eq!(result.outcome(), SuiteOutcome::Failed);
    let stdout = std::fs::read_to_string(ctx.stdout_log()).expect("stdout.log");
    assert_eq!(summary_count(&stdout, "failed"), 1, "{stdout}");
    assert_eq!(summary_count(&stdout, "passed"), 0, "{stdout}");
    let list = std::fs::read_to_string(out.path().join("test-list.txt")).expect("test list");
    assert_eq!(list, format!("{FAILING}\n"));
}

#[test]
fn selection_of_passing_tests_with_odd_titles_passes() {
    let project = fixture();
    let path = installed(project.join("e2e"));
    let out = tempfile::tempdir().expect("tempdir");
    let mut ctx = context(&project, &path, out.path());
    let selected = vec![
        "[chromium] › home.spec.ts › odd \"titles\" & <marks> › a > b and c".to_string(),
        "[chromium] › cart.spec.ts › cart › checkout › accepts a valid card".to_string(),
    ];
    ctx.selection = Selection::Only(selected.clone());
    let result = PlaywrightRunner::new().run(&ctx).expect("the runner runs Playwright");
    let mut selectors: Vec<String> = result.cases.iter().filter_map(|case| case.selector.clone()).collect();
    selectors.sort();
    let mut expected = selected;
    expected.sort();
    assert_eq!(selectors, expected);
    assert_eq!(result.outcome(), SuiteOutcome::Passed, "{result:#?}");
    assert_eq!(result.return_code, Some(0));
}

#[test]
fn two_runs_at_once_do_not_collide() {
    let project = fixture();
    let path = installed(project.join("e2e"));
    let outs = [
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    ];
    let results: Vec<SuiteResult> = std::thread::scope(|scope| {
        let handles: Vec<_> = outs
            .iter()
            .map(|out| {
                let mut ctx = context(&project, &path, out.path());
                // One passing and one failing test: a short run each, with a screenshot.
                ctx.selection = Selection::Only(vec![
                    "[chromium] › home.spec.ts › home page has a title".to_string(),
                    FAILING.to_string(),
                ]);
                scope.spawn(move || PlaywrightRunner::new().run(&ctx).expect("runs"))
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("no panic")).collect()
    });
    for (result, out) in results.iter().zip(&outs) {
        assert_eq!((result.passed(), result.failed()), (1, 1), "{result:#?}");
        let screenshot = result
            .artifacts
            .iter()
            .find(|path| path.ends_with("test-failed-1.png"))
            .expect("each run keeps its own screenshot");
        assert!(screenshot.starts_with(out.path()));
    }
}

#[test]
fn auto_install_runs_npm_ci_then_the_tests() {
    let demo = installed(repo().join("examples/demo/e2e"));
    let project = tempfile::tempdir().expect("tempdir");
    let path = project.path().join("e2e");
    copy_without_node_modules(&demo, &path);
    assert!(!path.join("node_modules").exists());
    let out = tempfile::tempdir().expect("tempdir");
    let ctx = context(project.path(), &path, out.path());
    let result = PlaywrightRunner::new().run(&ctx).expect("the runner installs and runs");
    let install_log = std::fs::read_to_string(out.path().join("install.stdout.log")).expect("install log");
    assert!(install_log.contains("`npm ci`"), "{install_log}");
    assert!(install_log.contains("exited with code 0"), "{install_log}");
    assert!(path.join("node_modules/.bin/playwright").is_file());
    assert_eq!(result.outcome(), SuiteOutcome::Passed, "{result:#?}");
    assert_eq!(result.passed(), 3);
    assert!(result.artifacts.iter().any(|path| path.ends_with("install.stdout.log")));
}

fn copy_without_node_modules(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("readable") {
        let entry = entry.expect("entry");
        if entry.file_name() == "node_modules" {
            continue;
        }
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_without_node_modules(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[test]
fn missing_node_is_a_tool_missing_error() {
    let project = fixture();
    let empty = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let mut ctx = context(&project, &project.join("e2e"), out.path());
    ctx.env.insert("PATH".into(), empty.path().display().to_string());
    let err = PlaywrightRunner::new().run(&ctx).expect_err("no node on PATH");
    match &err {
        RunnerError::ToolMissing { hint, .. } => assert!(hint.contains("Node.js 20"), "{hint}"),
        other => panic!("expected ToolMissing, got {other:?}"),
    }
    assert!(PlaywrightRunner::new().tool_version(&ctx).is_none());
}

#[test]
fn a_path_without_playwright_says_how_to_install_it() {
    let project = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let ctx = context(project.path(), project.path(), out.path());
    let err = PlaywrightRunner::new().run(&ctx).expect_err("nothing to run");
    let message = err.to_string();
    assert!(matches!(err, RunnerError::ToolMissing { .. }), "{err:?}");
    assert!(message.contains("npm install -D @playwright/test"), "{message}");
}

#[test]
fn install_false_refuses_to_install() {
    let project = tempfile::tempdir().expect("tempdir");
    std::fs::write(project.path().join("package.json"), "{}").expect("write");
    let out = tempfile::tempdir().expect("tempdir");
    let mut ctx = context(project.path(), project.path(), out.path());
    ctx.settings = toml::from_str("install = false").expect("toml");
    let err = PlaywrightRunner::new().run(&ctx).expect_err("install disabled");
    assert!(err.to_string().contains("install = false"), "{err}");
    assert!(!project.path().join("node_modules").exists());
}

#[test]
fn an_unknown_project_is_a_suite_error_with_playwrights_words() {
    let project = fixture();
    let path = installed(project.join("e2e"));
    let out = tempfile::tempdir().expect("tempdir");
    let mut ctx = context(&project, &path, out.path());
    ctx.settings = toml::from_str("project = ['nope']").expect("toml");
    let result = PlaywrightRunner::new().run(&ctx).expect("a result");
    assert_eq!(result.outcome(), SuiteOutcome::Errored, "{result:#?}");
    let tail = result.log_tail.as_deref().unwrap_or_default();
    assert!(tail.contains("Project(s) \"nope\" not found"), "{tail}");
}

#[test]
fn settings_are_checked() {
    let runner = PlaywrightRunner::new();
    assert!(runner
        .check_settings(&toml::from_str("project = ['chromium']").expect("toml"))
        .is_ok());
    let err = runner
        .check_settings(&toml::from_str("browser = 'firefox'").expect("toml"))
        .expect_err("unknown key");
    assert_eq!(err.key.as_deref(), Some("browser"));
    assert_eq!(runner.name(), "playwright");
}

#[test]
fn tool_version_is_playwrights() {
    let project = fixture();
    let out = tempfile::tempdir().expect("tempdir");
    let ctx = context(&project, &installed(project.join("e2e")), out.path());
    assert_eq!(PlaywrightRunner::new().tool_version(&ctx).as_deref(), Some("1.65.1"));
}

#[test]
fn a_timeout_stops_the_suite() {
    let project = fixture();
    let path = installed(project.join("e2e"));
    let out = tempfile::tempdir().expect("tempdir");
    let mut ctx = context(&project, &path, out.path());
    ctx.timeout = Some(Duration::from_millis(1500));
    ctx.kill_grace = Duration::from_secs(2);
    let started = std::time::Instant::now();
    let result = PlaywrightRunner::new().run(&ctx).expect("a result");
    assert_eq!(result.outcome(), SuiteOutcome::TimedOut, "{result:#?}");
    assert!(result
        .error
        .as_deref()
        .unwrap_or_default()
        .contains("timed out after 1.5 s"));
    assert!(started.elapsed() < Duration::from_secs(60), "did not hang");
}

/// Projects with a `testDir` of their own, inside and outside the config's
/// `testDir`: JUnit and `--test-list` both name files relative to the
/// config's `testDir` (`rootDir`), so their selectors still select.
#[test]
fn projects_with_their_own_test_dir_get_selectors_that_select() {
    let fixture_modules = installed(fixture().join("e2e")).join("node_modules");
    let project = tempfile::tempdir().expect("tempdir");
    let path = project.path().join("e2e");
    std::fs::create_dir_all(path.join("tests/api")).expect("mkdir");
    std::fs::create_dir_all(path.join("other")).expect("mkdir");
    std::os::unix::fs::symlink(&fixture_modules, path.join("node_modules")).expect("symlink node_modules");
    std::fs::write(
        path.join("playwright.config.mjs"),
        "import { defineConfig } from '@playwright/test';\n\
         export default defineConfig({ testDir: './tests', retries: 0, workers: 1,\n\
           projects: [{ name: 'api', testDir: './tests/api' }, { name: 'outside', testDir: './other' }] });\n",
    )
    .expect("write config");
    let spec = "import { test, expect } from '@playwright/test';\n\
         test.describe('orders', () => {\n\
           test('lists them', () => { expect(1 + 1).toBe(2); });\n\
           test('refuses a bad id', () => { expect('accepted').toBe('refused'); });\n\
         });\n";
    std::fs::write(path.join("tests/api/orders.spec.mjs"), spec).expect("write spec");
    std::fs::write(path.join("other/stock.spec.mjs"), spec).expect("write spec");
    let selected = [
        "[api] › api/orders.spec.mjs › orders › refuses a bad id",
        "[outside] › ../other/stock.spec.mjs › orders › refuses a bad id",
    ];

    let out = tempfile::tempdir().expect("tempdir");
    let ctx = context(project.path(), &path, out.path());
    let result = PlaywrightRunner::new().run(&ctx).expect("runs");
    assert_eq!((result.passed(), result.failed()), (2, 2), "{result:#?}");
    for selector in selected {
        assert_eq!(status_of(&result, selector), TestStatus::Failed, "{selector}");
    }
    let files: Vec<_> = result.cases.iter().filter_map(|case| case.file.as_deref()).collect();
    assert_eq!(
        files,
        [
            "tests/api/orders.spec.mjs",
            "tests/api/orders.spec.mjs",
            "other/stock.spec.mjs",
            "other/stock.spec.mjs"
        ]
    );

    let rerun_out = tempfile::tempdir().expect("tempdir");
    let mut rerun = context(project.path(), &path, rerun_out.path());
    rerun.selection = Selection::Only(selected.iter().map(|s| s.to_string()).collect());
    let result = PlaywrightRunner::new().run(&rerun).expect("runs");
    let selectors: Vec<_> = result
        .cases
        .iter()
        .filter_map(|case| case.selector.as_deref())
        .collect();
    assert_eq!(selectors, selected, "{result:#?}");
}
