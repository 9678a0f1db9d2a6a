//! `.qaagent.toml` loading and validation, through the public API: real files
//! in temporary directories, a registry of small runners whose settings check
//! is the real `runner_api::parse_settings` on a `deny_unknown_fields` type.

use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::time::Duration;

use orchestrator::config::{self, Config, ConfigError, FILE_NAME};
use orchestrator::registry::Registry;
use runner_api::{Runner, RunnerError, SettingsError, SuiteContext, SuiteResult};
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// A runner that only checks settings, as a real runner does, with `T`.
struct SettingsOnly<T> {
    name: &'static str,
    settings: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Runner for SettingsOnly<T> {
    fn name(&self) -> &str {
        self.name
    }
    fn check_settings(&self, settings: &toml::Table) -> Result<(), SettingsError> {
        runner_api::parse_settings::<T>(settings).map(|_| ())
    }
    fn tool_version(&self, _ctx: &SuiteContext) -> Option<String> {
        None
    }
    fn run(&self, _ctx: &SuiteContext) -> Result<SuiteResult, RunnerError> {
        Err(RunnerError::Other("settings-only test runner".into()))
    }
}

fn runner<T: DeserializeOwned>(name: &'static str) -> SettingsOnly<T> {
    SettingsOnly {
        name,
        settings: PhantomData,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[expect(dead_code, reason = "only the settings check is under test")]
struct PythonSettings {
    python: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoSettings {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[expect(dead_code, reason = "only the settings check is under test")]
struct CommandSettings {
    command: Vec<String>,
    junit: Option<String>,
}

fn registry() -> Registry {
    let mut registry = Registry::new();
    registry.register(runner::<PythonSettings>("pytest"));
    registry.register(runner::<PythonSettings>("behave"));
    registry.register(runner::<NoSettings>("playwright"));
    registry.register(runner::<CommandSettings>("command"));
    registry
}

/// A project directory holding `.qaagent.toml` with `text`.
fn project(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join(FILE_NAME);
    std::fs::write(&file, text).expect("write config");
    (dir, file)
}

fn load(text: &str) -> Result<Config, ConfigError> {
    let (_dir, file) = project(text);
    config::load(&file, &registry())
}

fn load_ok(text: &str) -> Config {
    match load(text) {
        Ok(config) => config,
        Err(err) => panic!("config should load: {err} (hint: {:?})", err.hint()),
    }
}

/// The (line, column, message, hint) of the error `text` must produce.
fn invalid(text: &str) -> (usize, usize, String, Option<String>) {
    invalid_with(text, &registry())
}

fn invalid_with(text: &str, registry: &Registry) -> (usize, usize, String, Option<String>) {
    let (_dir, file) = project(text);
    match config::load(&file, registry) {
        Ok(config) => panic!("config should be rejected: {config:?}"),
        Err(ConfigError::Invalid {
            file: in_file,
            line,
            column,
            message,
            hint,
        }) => {
            assert_eq!(in_file, file);
            (line, column, message, hint)
        }
        Err(other) => panic!("expected an Invalid error, got {other:?}"),
    }
}

const PROJECT: &str = "[project]\nname = \"shop\"\n";

// ---------------------------------------------------------------------------
// Valid configs.

#[test]
fn full_config_loads_with_every_value() {
    let (dir, file) = project(
        r#"[project]
name = "shop"

[app.local]

[app.dev]
base_url = "http://localhost:8000"

[run]
parallel = true
max_workers = 2
retry_count = 1
timeout = 90.5
kill_grace = 0
suite_order = ["behave", "unit"]

[tests.unit]
path = "./tests/unit"
runner = "pytest"
timeout = 120
args = ["-x", "-q"]
env = { DJANGO_SETTINGS = "shop.test", LANG = "C" }
python = ".venv/bin/python"

[tests.e2e]
enabled = false
path = "e2e"

[tests.behave]
path = "features"

[tests.api]
runner = "command"
path = "api"
command = ["go", "test", "./..."]
junit = "{junit}"

[[diagnostics.categories]]
name = "database"
pattern = "(?i)deadlock|could not connect to server"
suggestion = "check the test database"
"#,
    );
    let config = config::load(&file, &registry()).expect("valid config");
    let root = dir.path().to_path_buf();

    assert_eq!(config.file, file);
    assert_eq!(config.project_dir, root);
    assert_eq!(config.project.name, "shop");
    let apps: Vec<_> = config
        .apps
        .iter()
        .map(|app| (app.name.as_str(), app.base_url.as_deref()))
        .collect();
    assert_eq!(apps, [("local", None), ("dev", Some("http://localhost:8000"))]);

    assert!(config.run.parallel);
    assert_eq!(config.run.max_workers, Some(2));
    assert_eq!(config.run.retry_count, 1);
    assert_eq!(config.run.timeout, Duration::from_millis(90_500));
    assert_eq!(config.run.kill_grace, Duration::ZERO);
    assert_eq!(config.run.suite_order, ["behave", "unit"]);

    // suite_order first, then the other tables in file order.
    let order: Vec<_> = config.suites.iter().map(|suite| suite.name.as_str()).collect();
    assert_eq!(order, ["behave", "unit", "e2e", "api"]);

    let unit = config.suite("unit").expect("unit");
    assert!(unit.enabled);
    assert_eq!(unit.path, root.join("tests/unit"));
    assert_eq!(unit.path_display, "./tests/unit");
    assert_eq!(unit.runner, "pytest");
    assert_eq!(unit.timeout, Some(Duration::from_secs(120)));
    assert_eq!(unit.args, ["-x", "-q"]);
    assert_eq!(unit.env.get("DJANGO_SETTINGS").map(String::as_str), Some("shop.test"));
    assert_eq!(unit.env.len(), 2);
    assert_eq!(unit.settings.keys().collect::<Vec<_>>(), ["python"]);
    assert_eq!(unit.settings["python"].as_str(), Some(".venv/bin/python"));

    let e2e = config.suite("e2e").expect("e2e");
    assert!(!e2e.enabled);
    assert_eq!(e2e.runner, "playwright");
    assert_eq!(e2e.timeout, None);
    assert!(e2e.settings.is_empty());

    assert_eq!(config.suite("behave").expect("behave").runner, "behave");
    let api = config.suite("api").expect("api");
    assert_eq!(api.runner, "command");
    assert_eq!(api.settings.keys().collect::<Vec<_>>(), ["command", "junit"]);

    let enabled: Vec<_> = config.enabled_suites().map(|suite| suite.name.as_str()).collect();
    assert_eq!(enabled, ["behave", "unit", "api"]);

    assert_eq!(config.diagnostics.categories.len(), 1);
    let category = &config.diagnostics.categories[0];
    assert_eq!(category.name, "database");
    assert_eq!(category.pattern, "(?i)deadlock|could not connect to server");
    assert_eq!(category.suggestion, "check the test database");
}

#[test]
fn minimal_config_gets_the_defaults() {
    let config = load_ok(&format!(
        "{PROJECT}\n[tests.e2e]\npath = \"e2e\"\n\n[tests.unit]\npath = \"tests\"\n"
    ));
    assert!(config.apps.is_empty());
    assert!(!config.run.parallel);
    assert_eq!(config.run.max_workers, None);
    assert_eq!(config.run.retry_count, 0);
    assert_eq!(config.run.timeout, Duration::from_secs(300));
    assert_eq!(config.run.kill_grace, Duration::from_secs(5));
    // No suite_order: the tables in file order.
    assert_eq!(config.run.suite_order, ["e2e", "unit"]);
    let order: Vec<_> = config.suites.iter().map(|suite| suite.name.as_str()).collect();
    assert_eq!(order, ["e2e", "unit"]);
    let unit = config.suite("unit").expect("unit");
    assert!(unit.enabled);
    assert_eq!(unit.runner, "pytest");
    assert!(unit.args.is_empty() && unit.env.is_empty() && unit.settings.is_empty());
    assert!(config.diagnostics.categories.is_empty());
}

#[test]
fn config_without_suites_is_valid() {
    let config = load_ok(PROJECT);
    assert!(config.suites.is_empty());
    assert!(config.run.suite_order.is_empty());
}

#[test]
fn output_dir_is_an_alias_of_path() {
    let (dir, file) = project(&format!("{PROJECT}[tests.unit]\noutput_dir = \"tests/unit\"\n"));
    let config = config::load(&file, &registry()).expect("valid config");
    let unit = config.suite("unit").expect("unit");
    assert_eq!(unit.path, dir.path().join("tests/unit"));
    assert_eq!(unit.path_display, "tests/unit");
    assert!(unit.settings.is_empty(), "output_dir is not a runner setting");
}

#[test]
fn discover_walks_up_to_the_nearest_config() {
    let (dir, file) = project(PROJECT);
    let deep = dir.path().join("a/b/c");
    std::fs::create_dir_all(&deep).expect("mkdir");
    assert_eq!(config::discover(&deep).expect("found from below"), file);
    assert_eq!(config::discover(dir.path()).expect("found in place"), file);

    // A nearer config wins.
    let nearer = dir.path().join("a").join(FILE_NAME);
    std::fs::write(&nearer, PROJECT).expect("write");
    assert_eq!(config::discover(&deep).expect("found nearer"), nearer);

    // A FIFO by that name is found, then refused when read: not "missing".
    let fifo = deep.join(FILE_NAME);
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(status.success());
    assert_eq!(config::discover(&deep).expect("found the FIFO"), fifo);
    let err = config::load(&fifo, &registry()).expect_err("not a regular file");
    assert!(err.to_string().contains("not a regular file"), "{err}");
}

#[test]
fn discover_says_where_it_looked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let err = config::discover(dir.path()).expect_err("no config anywhere");
    assert!(
        matches!(&err, ConfigError::NotFound { start } if start == dir.path()),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains(".qaagent.toml"), "{message}");
    assert!(message.contains(&dir.path().display().to_string()), "{message}");
    assert!(err.hint().expect("hint").contains("qaagent init"));
}

#[test]
fn config_flag_loads_any_file_name() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sub = dir.path().join("ci");
    std::fs::create_dir(&sub).expect("mkdir");
    let file = sub.join("qaagent-ci.toml");
    std::fs::write(&file, format!("{PROJECT}[tests.unit]\npath = \"../tests\"\n")).expect("write");
    let config = config::load(&file, &registry()).expect("valid config");
    assert_eq!(config.file, file);
    assert_eq!(config.project_dir, sub);
    assert_eq!(config.suite("unit").expect("unit").path, sub.join("../tests"));
}

#[test]
fn missing_file_is_an_io_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("nope.toml");
    let err = config::load(&file, &registry()).expect_err("missing file");
    assert!(matches!(&err, ConfigError::Io { path, .. } if path == &file), "{err:?}");
}

#[test]
fn invalid_error_displays_file_line_column_message() {
    let (_dir, file) = project("[project]\nname = \"x\"\n[run]\nmax_workers = 0\n");
    let err = config::load(&file, &registry()).expect_err("max_workers = 0");
    assert_eq!(
        err.to_string(),
        format!("{}:4:15: max_workers must be 1 or more, found 0", file.display())
    );
    assert_eq!(err.location(), Some((4, 15)));
}

// ---------------------------------------------------------------------------
// [project] and syntax.

#[test]
fn project_table_is_required() {
    let (line, column, message, hint) = invalid("[tests.unit]\npath = \"t\"\n");
    assert_eq!((line, column), (1, 1));
    assert_eq!(message, "missing [project] table");
    assert!(hint.expect("hint").contains("name = \"...\""));
}

#[test]
fn project_name_is_required() {
    let (line, column, message, _) = invalid("# shop\n[project]\n");
    assert_eq!((line, column, message.as_str()), (2, 1, "[project] has no name"));
}

#[test]
fn project_name_must_not_be_empty() {
    let (line, column, message, _) = invalid("[project]\nname = \"  \"\n");
    assert_eq!((line, column, message.as_str()), (2, 8, "[project] name is empty"));
}

#[test]
fn toml_syntax_error_is_located() {
    let (line, column, message, _) = invalid("[project]\nname = \"shop\n");
    // The string runs to the end of the line, where its closing quote is missing.
    assert_eq!((line, column), (2, 13), "{message}");
    assert!(message.contains("expected `\"`"), "{message}");
}

#[test]
fn duplicate_key_is_located() {
    let (line, column, message, _) = invalid("[project]\nname = \"a\"\nname = \"b\"\n");
    assert_eq!((line, column), (3, 1));
    assert!(message.contains("duplicate key"), "{message}");
}

// ---------------------------------------------------------------------------
// Unknown keys.

#[test]
fn unknown_top_level_key() {
    let (line, column, message, hint) = invalid(&format!("{PROJECT}\n[tset.unit]\npath = \"t\"\n"));
    assert_eq!((line, column), (4, 2));
    assert_eq!(message, "unknown key `tset`");
    assert_eq!(
        hint.as_deref(),
        Some("did you mean `tests`? keys allowed here: project, app, run, tests, diagnostics, quarantine")
    );
}

#[test]
fn unknown_key_in_run() {
    let (line, column, message, hint) = invalid(&format!("{PROJECT}[run]\nretry_count = 1\n  paralel = true\n"));
    assert_eq!((line, column), (5, 3));
    assert_eq!(message, "unknown key `paralel`");
    assert_eq!(
        hint.as_deref(),
        Some("did you mean `parallel`? keys allowed here: parallel, max_workers, retry_count, timeout, kill_grace, suite_order, retry_on, flaky")
    );
}

#[test]
fn unknown_key_in_project() {
    let (line, column, message, hint) = invalid("[project]\nname = \"shop\"\nversion = \"1\"\n");
    assert_eq!((line, column), (3, 1));
    assert_eq!(message, "unknown key `version`");
    assert_eq!(hint.as_deref(), Some("keys allowed here: name"));
}

#[test]
fn unknown_key_in_app() {
    let (line, column, message, _) = invalid(&format!("{PROJECT}[app.dev]\nbaseurl = \"http://x\"\n"));
    assert_eq!((line, column, message.as_str()), (4, 1, "unknown key `baseurl`"));
}

#[test]
fn a_misspelt_path_is_an_unknown_key_not_a_missing_path() {
    let text = format!("{PROJECT}\n[tests.unit]\npth = \"tests\"\n");
    let (line, column, message, hint) = invalid(&text);
    assert_eq!((line, column), (5, 1));
    assert_eq!(message, "[tests.unit] unknown key `pth` for runner `pytest`");
    assert!(hint.is_some_and(|hint| hint.starts_with("did you mean `path`?")));
}

#[test]
fn unknown_key_in_suite_is_rejected_by_its_runner() {
    let text = format!("{PROJECT}\n[tests.unit]\npath = \"tests\"\npyhton = \".venv/bin/python\"\n");
    let (line, column, message, hint) = invalid(&text);
    assert_eq!((line, column), (6, 1));
    assert_eq!(message, "[tests.unit] unknown key `pyhton` for runner `pytest`");
    assert_eq!(
        hint.as_deref(),
        Some("did you mean `python`? runner `pytest` takes: python; every suite takes: enabled, path, output_dir, runner, timeout, args, env, split")
    );
}

#[test]
fn unknown_key_in_suite_of_a_runner_without_settings() {
    let text = format!("{PROJECT}[tests.e2e]\npath = \"e2e\"\n  browser = \"chromium\"\n");
    let (line, column, message, hint) = invalid(&text);
    assert_eq!((line, column), (5, 3));
    assert_eq!(message, "[tests.e2e] unknown key `browser` for runner `playwright`");
    assert!(hint
        .expect("hint")
        .starts_with("runner `playwright` takes no other keys"));
}

#[test]
fn runner_setting_of_the_wrong_type_is_located_at_its_key() {
    let text = format!("{PROJECT}[tests.unit]\npath = \"tests\"\npython = 3\n");
    let (line, column, message, _) = invalid(&text);
    assert_eq!((line, column), (5, 1));
    assert!(
        message.starts_with("[tests.unit] python: invalid type: integer `3`"),
        "{message}"
    );
    assert!(message.ends_with("(runner `pytest`)"), "{message}");
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[expect(dead_code, reason = "only the settings check is under test")]
struct BrowserSettings {
    browser: Option<Browser>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[expect(dead_code, reason = "only the settings check is under test")]
struct Browser {
    name: String,
}

#[test]
fn nested_runner_setting_is_located_at_its_top_level_key() {
    let mut registry = Registry::new();
    registry.register(runner::<BrowserSettings>("web"));
    let text = format!(
        "{PROJECT}[tests.ui]
runner = \"web\"\npath = \"ui\"\n[tests.ui.browser]\nnmae = \"chromium\"\n"
    );
    let (line, column, message, _) = invalid_with(&text, &registry);
    assert_eq!((line, column), (6, 11));
    assert_eq!(
        message,
        "[tests.ui] browser: unknown field `nmae`, expected `name` in `browser` (runner `web`)"
    );
}

#[test]
fn missing_runner_setting_points_at_the_table() {
    let text = format!("{PROJECT}\n[tests.api]\nrunner = \"command\"\npath = \"api\"\n");
    let (line, column, message, _) = invalid(&text);
    assert_eq!((line, column), (4, 1));
    assert_eq!(
        message,
        "[tests.api] rejected by runner `command`: missing field `command`"
    );
}

#[test]
fn unknown_key_in_a_diagnostics_category() {
    let text = format!(
        "{PROJECT}[[diagnostics.categories]]\nname = \"db\"\npattern = \"x\"\nsuggestion = \"y\"\nhint = \"z\"\n"
    );
    let (line, column, message, _) = invalid(&text);
    assert_eq!((line, column, message.as_str()), (7, 1, "unknown key `hint`"));
}

// ---------------------------------------------------------------------------
// [run] values.

#[test]
fn suite_order_naming_a_missing_table() {
    let text = format!("{PROJECT}[run]\nsuite_order = [\"unit\", \"api\"]\n[tests.unit]\npath = \"t\"\n");
    let (line, column, message, hint) = invalid(&text);
    assert_eq!((line, column), (4, 24));
    assert_eq!(message, "suite_order names `api`, but there is no [tests.api] table");
    assert_eq!(
        hint.as_deref(),
        Some("add a [tests.api] table with path = \"...\" or remove \"api\" from suite_order")
    );
}

#[test]
fn suite_order_naming_a_suite_twice() {
    let text = format!("{PROJECT}[run]\nsuite_order = [\"unit\",\n  \"unit\"]\n[tests.unit]\npath = \"t\"\n");
    let (line, column, message, _) = invalid(&text);
    assert_eq!(
        (line, column, message.as_str()),
        (5, 3, "suite_order names `unit` twice")
    );
}

#[test]
fn max_workers_zero() {
    let (line, column, message, hint) = invalid(&format!("{PROJECT}[run]\nparallel = true\nmax_workers = 0\n"));
    assert_eq!((line, column), (5, 15));
    assert_eq!(message, "max_workers must be 1 or more, found 0");
    assert_eq!(
        hint.as_deref(),
        Some("set max_workers to 1 or more, or remove it to use one worker per suite")
    );
}

#[test]
fn max_workers_negative() {
    let (line, column, message, _) = invalid(&format!("{PROJECT}[run]\nmax_workers = -3\n"));
    assert_eq!(
        (line, column, message.as_str()),
        (4, 15, "max_workers must be 1 or more, found -3")
    );
}

#[test]
fn run_timeout_zero() {
    let (line, column, message, hint) = invalid(&format!("{PROJECT}[run]\ntimeout = 0\n"));
    assert_eq!((line, column), (4, 11));
    assert_eq!(message, "timeout must be greater than 0 seconds, found 0");
    assert_eq!(hint.as_deref(), Some("write timeout = 300 (seconds, greater than 0)"));
}

#[test]
fn run_timeout_negative() {
    let (line, column, message, _) = invalid(&format!("{PROJECT}[run]\ntimeout = -2.5\n"));
    assert_eq!((line, column), (4, 11));
    assert_eq!(message, "timeout must be greater than 0 seconds, found -2.5");
}

#[test]
fn run_timeout_of_the_wrong_type() {
    let (line, column, message, _) = invalid(&format!("{PROJECT}[run]\ntimeout = \"5 fortnights\"\n"));
    assert_eq!((line, column), (4, 11));
    assert_eq!(
        message,
        "timeout must be a number of seconds or a duration such as \"90s\" or \"5m\", found \"5 fortnights\""
    );
    let (_, _, message, _) = invalid(&format!("{PROJECT}[run]\ntimeout = true\n"));
    assert!(
        message.starts_with("timeout must be a number of seconds or a duration"),
        "{message}"
    );
}

#[test]
fn huge_time_limits_are_config_errors() {
    for (key, value) in [
        ("kill_grace", "9223372036854775807"),
        ("kill_grace", "1e15"),
        ("timeout", "\"400d\""),
    ] {
        let text = format!("{PROJECT}[run]\n{key} = {value}\n");
        let (_, _, message, _) = invalid(&text);
        if value.contains('d') {
            assert!(
                message.starts_with("timeout must be a number of seconds or a duration"),
                "{message}"
            );
        } else {
            assert_eq!(message, format!("{key} is too large (a year at most), found {value}"));
        }
    }
    let text = format!("{PROJECT}[run]\ntimeout = \"8760h\"\n");
    assert_eq!(
        load_ok(&text).run.timeout,
        std::time::Duration::from_secs(365 * 24 * 3600)
    );
}

#[test]
fn timeouts_take_durations_with_units() {
    let text = format!(
        "{PROJECT}[run]\ntimeout = \"5m\"\nkill_grace = \"500ms\"\n[tests.unit]\npath = \"t\"\ntimeout = \"1.5h\"\n[tests.api]\nrunner = \"pytest\"\npath = \"a\"\ntimeout = \"90s\"\n"
    );
    let config = load_ok(&text);
    assert_eq!(config.run.timeout, std::time::Duration::from_secs(300));
    assert_eq!(config.run.kill_grace, std::time::Duration::from_millis(500));
    assert_eq!(config.suites[0].timeout, Some(std::time::Duration::from_secs(5400)));
    assert_eq!(config.suites[1].timeout, Some(std::time::Duration::from_secs(90)));
}

#[test]
fn parallel_of_the_wrong_type() {
    let (line, column, message, _) = invalid(&format!("{PROJECT}[run]\nparallel = \"yes\"\n"));
    assert_eq!((line, column), (4, 12));
    assert!(
        message.contains("invalid type: string \"yes\", expected a boolean"),
        "{message}"
    );
}

#[test]
fn kill_grace_negative() {
    let (line, column, message, hint) = invalid(&format!("{PROJECT}[run]\nkill_grace = -1\n"));
    assert_eq!((line, column), (4, 14));
    assert_eq!(message, "kill_grace must be 0 or more seconds, found -1");
    assert!(hint.expect("hint").starts_with("write kill_grace = 5"));
}

#[test]
fn retry_count_negative() {
    let (line, column, message, _) = invalid(&format!("{PROJECT}[run]\nretry_count = -1\n"));
    assert_eq!(
        (line, column, message.as_str()),
        (4, 15, "retry_count must be 0 or more, found -1")
    );
}

// ---------------------------------------------------------------------------
// [tests.NAME] common keys.

#[test]
fn suite_timeout_negative() {
    let text = format!("{PROJECT}[tests.unit]\npath = \"t\"\ntimeout = -1\n");
    let (line, column, message, hint) = invalid(&text);
    assert_eq!((line, column), (5, 11));
    assert_eq!(message, "[tests.unit] timeout must be greater than 0 seconds, found -1");
    assert!(hint
        .expect("hint")
        .starts_with("write timeout = 120 (seconds, greater than 0)"));
}

#[test]
fn suite_timeout_of_the_wrong_type() {
    let text = format!("{PROJECT}[tests.unit]\npath = \"t\"\ntimeout = \"2 fortnights\"\n");
    let (line, column, message, _) = invalid(&text);
    assert_eq!((line, column), (5, 11));
    assert_eq!(
        message,
        "[tests.unit] timeout must be a number of seconds or a duration such as \"90s\" or \"5m\", found \"2 fortnights\""
    );
}

#[test]
fn enabled_of_the_wrong_type() {
    let text = format!("{PROJECT}[tests.unit]\nenabled = \"yes\"\npath = \"t\"\n");
    let (line, column, message, hint) = invalid(&text);
    assert_eq!((line, column), (4, 11));
    assert_eq!(
        message,
        "[tests.unit] enabled must be true or false, found string \"yes\""
    );
    assert_eq!(hint.as_deref(), Some("write enabled = true or enabled = false"));
}

#[test]
fn path_of_the_wrong_type() {
    let (line, column, message, _) = invalid(&format!("{PROJECT}[tests.unit]\npath = 3\n"));
    assert_eq!(
        (line, column, message.as_str()),
        (4, 8, "[tests.unit] path must be a string, found integer 3")
    );
}

#[test]
fn args_must_be_strings() {
    let text = format!("{PROJECT}[tests.unit]\npath = \"t\"\nargs = [\"-x\", 2]\n");
    let (line, column, message, _) = invalid(&text);
    assert_eq!((line, column), (5, 8));
    assert_eq!(message, "[tests.unit] args must be an array of strings, found array");
}

#[test]
fn env_values_must_be_strings() {
    let text = format!("{PROJECT}[tests.unit]\npath = \"t\"\nenv = {{ PORT = 8000 }}\n");
    let (line, column, message, hint) = invalid(&text);
    assert_eq!((line, column), (5, 7));
    assert_eq!(message, "[tests.unit] env PORT must be a string, found integer");
    assert_eq!(hint.as_deref(), Some("quote the value: PORT = \"8000\""));
}

#[test]
fn env_names_must_be_passable_to_a_process() {
    for env in [
        r#"{ "" = "x" }"#,
        r#"{ "A=B" = "x" }"#,
        r#"{ "A\u0000" = "x" }"#,
        r#"{ A = "x\u0000y" }"#,
    ] {
        let text = format!("{PROJECT}[tests.unit]\npath = \"t\"\nenv = {env}\n");
        let (line, _, message, _) = invalid(&text);
        assert_eq!(line, 5, "{env}");
        assert!(
            message.contains("a variable's name must be non-empty without `=`"),
            "{env}: {message}"
        );
    }
}

#[test]
fn suite_without_path() {
    let text = format!("{PROJECT}\n[tests.unit]\nargs = [\"-x\"]\n");
    let (line, column, message, hint) = invalid(&text);
    assert_eq!((line, column), (4, 1));
    assert_eq!(message, "[tests.unit] has no path");
    assert!(hint.expect("hint").starts_with("add path = \"...\" to [tests.unit]"));
}

#[test]
fn suite_with_path_and_output_dir() {
    let text = format!("{PROJECT}[tests.unit]\npath = \"t\"\noutput_dir = \"t\"\n");
    let (line, column, message, _) = invalid(&text);
    assert_eq!(
        (line, column, message.as_str()),
        (5, 1, "[tests.unit] has both path and output_dir")
    );
}

#[test]
fn suite_name_must_be_a_plain_file_name() {
    let text = format!("{PROJECT}[tests.\"../up\"]\npath = \"t\"\nrunner = \"pytest\"\n");
    let (line, column, message, _) = invalid(&text);
    assert_eq!((line, column, message.as_str()), (3, 8, "invalid suite name \"../up\""));
}

#[test]
fn suite_name_is_short_enough_for_a_directory_name() {
    let long = "u".repeat(300);
    let text = format!("{PROJECT}[tests.{long}]\npath = \"t\"\nrunner = \"pytest\"\n");
    let (line, column, message, hint) = invalid(&text);
    assert_eq!((line, column), (3, 8));
    assert_eq!(message, "suite name is 300 bytes long, more than 100");
    assert!(hint.is_some_and(|hint| hint.contains("shorter name")));
    let fine = format!(
        "{PROJECT}[tests.{}]\npath = \"t\"\nrunner = \"pytest\"\n",
        "u".repeat(100)
    );
    load_ok(&fine);
}

// ---------------------------------------------------------------------------
// Runners.

#[test]
fn unknown_runner_lists_the_registered_ones() {
    let text = format!("{PROJECT}[tests.unit]\npath = \"t\"\nrunner = \"pytset\"\n");
    let (line, column, message, hint) = invalid(&text);
    assert_eq!((line, column), (5, 10));
    assert_eq!(message, "[tests.unit] unknown runner `pytset`");
    assert_eq!(hint.as_deref(), Some("use one of: behave, command, playwright, pytest"));
}

#[test]
fn unknown_runner_of_a_disabled_suite_is_still_an_error() {
    let text = format!("{PROJECT}[tests.unit]\nenabled = false\npath = \"t\"\nrunner = \"nose\"\n");
    let (line, column, message, _) = invalid(&text);
    assert_eq!((line, column), (6, 10));
    assert_eq!(
        message,
        "[tests.unit] unknown runner `nose` (the suite is disabled, but its runner is still checked)"
    );
}

#[test]
fn default_runner_missing_from_the_registry_points_at_the_table() {
    let mut only_pytest = Registry::new();
    only_pytest.register(runner::<PythonSettings>("pytest"));
    let text = format!("{PROJECT}\n[tests.e2e]\npath = \"e2e\"\n");
    let (line, column, message, hint) = invalid_with(&text, &only_pytest);
    assert_eq!((line, column), (4, 1));
    assert_eq!(message, "[tests.e2e] unknown runner `playwright`");
    assert_eq!(hint.as_deref(), Some("use one of: pytest"));
}

#[test]
fn suite_without_a_default_runner_must_name_one() {
    let text = format!("{PROJECT}[tests.unit]\npath = \"t\"\n\n[tests.api]\npath = \"api\"\n");
    let (line, column, message, hint) = invalid(&text);
    assert_eq!((line, column), (6, 1));
    assert_eq!(
        message,
        "[tests.api] has no runner, and only unit, behave and e2e have a default"
    );
    assert_eq!(
        hint.as_deref(),
        Some("add runner = \"...\" to [tests.api] (one of: behave, command, playwright, pytest)")
    );
}

// ---------------------------------------------------------------------------
// Diagnostics.

#[test]
fn bad_regex_names_the_category() {
    let text = format!(
        "{PROJECT}\n[[diagnostics.categories]]\nname = \"ok\"\npattern = \"fine\"\nsuggestion = \"s\"\n\n\
         [[diagnostics.categories]]\nname = \"db\"\npattern = \"(deadlock\"\nsuggestion = \"s\"\n"
    );
    let (line, column, message, hint) = invalid(&text);
    assert_eq!((line, column), (11, 11));
    assert!(
        message.starts_with("diagnostics category `db`: invalid pattern: "),
        "{message}"
    );
    assert!(message.contains("unclosed group"), "{message}");
    assert!(!message.contains('\n'), "{message}");
    assert!(hint.is_some());
}

#[test]
fn duplicate_category_name() {
    let text = format!(
        "{PROJECT}[[diagnostics.categories]]\nname = \"db\"\npattern = \"a\"\nsuggestion = \"s\"\n\
         [[diagnostics.categories]]\nname = \"db\"\npattern = \"b\"\nsuggestion = \"s\"\n"
    );
    let (line, column, message, _) = invalid(&text);
    assert_eq!(
        (line, column, message.as_str()),
        (8, 8, "diagnostics category `db` is defined twice")
    );
}

// ---------------------------------------------------------------------------
// Base URL.

const APPS: &str = "[project]\nname = \"shop\"\n\
    [app.local]\n\
    [app.dev]\nbase_url = \"http://dev:8000\"\n\
    [app.staging]\nbase_url = \"https://staging.example\"\n";

#[test]
fn base_url_from_the_first_app_that_has_one() {
    let config = load_ok(APPS);
    assert_eq!(
        config
            .resolve_base_url_with(None, Some("http://from-env".into()))
            .expect("resolves"),
        Some("http://dev:8000".to_string())
    );
}

#[test]
fn base_url_from_the_env_flag() {
    let config = load_ok(APPS);
    assert_eq!(
        config.resolve_base_url_with(Some("staging"), None).expect("resolves"),
        Some("https://staging.example".to_string())
    );
    // An app without base_url falls back to $BASE_URL.
    assert_eq!(
        config
            .resolve_base_url_with(Some("local"), Some("http://from-env".into()))
            .expect("resolves"),
        Some("http://from-env".to_string())
    );
}

#[test]
fn unknown_env_lists_the_apps() {
    let config = load_ok(APPS);
    let err = config
        .resolve_base_url_with(Some("prod"), None)
        .expect_err("no [app.prod]");
    match &err {
        ConfigError::UnknownEnv { name, known, .. } => {
            assert_eq!(name, "prod");
            assert_eq!(known, &["local", "dev", "staging"]);
        }
        other => panic!("expected UnknownEnv, got {other:?}"),
    }
    assert_eq!(err.hint(), Some("use one of: local, dev, staging"));
    assert!(err.to_string().contains("no environment `prod`"), "{err}");
}

#[test]
fn base_url_from_the_environment_variable_or_none() {
    let config = load_ok(PROJECT);
    assert_eq!(
        config
            .resolve_base_url_with(None, Some("http://from-env".into()))
            .expect("resolves"),
        Some("http://from-env".to_string())
    );
    assert_eq!(
        config
            .resolve_base_url_with(None, Some(String::new()))
            .expect("resolves"),
        None
    );
    assert_eq!(config.resolve_base_url_with(None, None).expect("resolves"), None);
}

#[test]
fn resolve_base_url_reads_base_url_from_the_process_environment() {
    // The only test in this binary that touches BASE_URL, so no other test races it.
    let config = load_ok(PROJECT);
    std::env::set_var("BASE_URL", "http://process-env:1234");
    let resolved = config.resolve_base_url(None);
    std::env::remove_var("BASE_URL");
    assert_eq!(resolved.expect("resolves"), Some("http://process-env:1234".to_string()));
    // A configured app still wins over the variable.
    assert_eq!(
        load_ok(APPS).resolve_base_url(None).expect("resolves"),
        Some("http://dev:8000".to_string())
    );
}

#[test]
fn paths_are_relative_to_the_project_dir() {
    let (dir, file) = project(&format!("{PROJECT}[tests.unit]\npath = \"tests/unit\"\n"));
    let config = config::load(&file, &registry()).expect("valid config");
    assert!(config.file.is_absolute() && config.project_dir.is_absolute());
    assert_eq!(config.suite("unit").expect("unit").path, dir.path().join("tests/unit"));
    assert_eq!(config.project_dir, Path::new(dir.path()));
}
