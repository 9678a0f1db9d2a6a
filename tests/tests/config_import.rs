//! `qaagent config import`: a Python qaagent profile (`.qaagent.yaml`) becomes
//! a `.qaagent.toml` that `config check` accepts and `run-all` runs with real
//! pytest; what has no equivalent is listed; an existing config is not
//! replaced without `--force`; a broken profile is a usage error that says where.

use qaagent_tests::{project_with, Qaagent};

const PROFILE: &str = r#"# The Python qaagent's profile
project:
  name: shop
  type: fastapi
app:
  dev:
    base_url: http://localhost:8000
    auth:
      token_env: API_TOKEN
openapi:
  spec_path: openapi.yaml
tests:
  output_dir: tests
  unit:
    enabled: true
    output_dir: tests/unit
    framework: pytest
  behave:
    enabled: false
    output_dir: features
  e2e:
    enabled: false
    output_dir: e2e
    browsers: [chromium, firefox]
  data:
    output_dir: tests/fixtures
run:
  retry_count: 1
  timeout: 120
  parallel: false
  suite_order: [unit, behave, e2e]
llm:
  enabled: false
"#;

const TEST: &str =
    "import os\n\n\ndef test_base_url():\n    assert os.environ[\"BASE_URL\"] == \"http://localhost:8000\"\n";

#[test]
fn a_profile_becomes_a_config_that_checks_and_runs() {
    let project = project_with(
        "import",
        &[(".qaagent.yaml", PROFILE), ("tests/unit/test_app.py", TEST)],
    );
    let import = Qaagent::new(project.path()).args(["config", "import"]).run();
    assert_eq!(import.code(), 0, "{}", import.describe());
    let stdout = import.stdout();
    for dropped in [
        "dropped openapi",
        "dropped llm",
        "dropped project.type",
        "dropped app.dev.auth",
        "dropped tests.output_dir",
        "dropped tests.data",
        "dropped tests.e2e.browsers",
    ] {
        assert!(stdout.contains(dropped), "{dropped}: {stdout}");
    }
    let toml = std::fs::read_to_string(project.path().join(".qaagent.toml")).expect("written");
    for line in [
        "name = \"shop\"",
        "[app.dev]\nbase_url = \"http://localhost:8000\"",
        "retry_count = 1",
        "timeout = 120",
        "suite_order = [\"unit\", \"behave\", \"e2e\"]",
        "[tests.unit]\nenabled = true\npath = \"tests/unit\"",
        "[tests.behave]\nenabled = false\npath = \"features\"",
        "#   tests.e2e.browsers (no equivalent in qaagent)",
    ] {
        assert!(toml.contains(line), "{line}: {toml}");
    }

    let check = Qaagent::new(project.path()).args(["config", "check"]).run();
    assert_eq!(check.code(), 0, "{}", check.describe());
    let run = Qaagent::new(project.path()).args(["run-all"]).run();
    assert_eq!(run.code(), 0, "{}", run.describe());
    let manifest = run.manifest();
    assert_eq!(manifest["target"]["name"], "shop");
    assert_eq!(manifest["counts"]["tests_passed"], 1, "{manifest:#}");
}

#[test]
fn an_existing_config_is_replaced_only_with_force() {
    let project = project_with(
        "import-force",
        &[
            (".qaagent.yaml", PROFILE),
            (".qaagent.toml", "[project]\nname = \"mine\"\n"),
            ("tests/unit/test_app.py", TEST),
        ],
    );
    let refused = Qaagent::new(project.path())
        .args(["config", "import", ".qaagent.yaml"])
        .run();
    assert_eq!(refused.code(), 2, "{}", refused.describe());
    assert!(refused.stderr().contains("already exists"), "{}", refused.describe());
    assert!(refused.stderr().contains("--force"), "{}", refused.describe());
    let config = project.path().join(".qaagent.toml");
    assert_eq!(
        std::fs::read_to_string(&config).expect("kept"),
        "[project]\nname = \"mine\"\n"
    );

    let forced = Qaagent::new(project.path()).args(["config", "import", "--force"]).run();
    assert_eq!(forced.code(), 0, "{}", forced.describe());
    assert!(std::fs::read_to_string(&config)
        .expect("written")
        .contains("name = \"shop\""));
}

#[test]
fn a_broken_profile_is_a_usage_error_that_says_where() {
    for (profile, expected) in [
        ("project:\n  name: [shop\nrun:\n  timeout: 1\n", "not valid YAML"),
        (
            "project:\n  name: shop\nrun:\n  retry_count: two\n",
            "`run.retry_count`: expected a whole number, found a string",
        ),
        ("project:\n  type: generic\n", "`project.name`: missing"),
        ("- project\n- tests\n", "`(top level)`: expected a mapping"),
        (
            "project:\n  name: shop\ntests:\n  unit:\n    enabled: true\n",
            "`tests.unit.output_dir`: missing",
        ),
    ] {
        let project = project_with("import-broken", &[(".qaagent.yaml", profile)]);
        let import = Qaagent::new(project.path()).args(["config", "import"]).run();
        assert_eq!(import.code(), 2, "{profile}: {}", import.describe());
        let stderr = import.stderr();
        assert!(stderr.contains(".qaagent.yaml: "), "the file is named: {stderr}");
        assert!(stderr.contains(expected), "{expected}: {stderr}");
        assert!(stderr.contains("hint: "), "{stderr}");
        assert!(
            !project.path().join(".qaagent.toml").exists(),
            "nothing written for {profile}"
        );
    }
    let project = project_with("import-yaml-line", &[(".qaagent.yaml", "project:\n  name: [shop\n")]);
    let import = Qaagent::new(project.path()).args(["config", "import"]).run();
    assert!(import.stderr().contains("line 3 column 1"), "{}", import.describe());

    let nothing = project_with("import-none", &[]);
    let import = Qaagent::new(nothing.path()).args(["config", "import"]).run();
    assert_eq!(import.code(), 2, "{}", import.describe());
    assert!(import.stderr().contains("no profile at "), "{}", import.describe());
}

/// `--force` replaces a `.qaagent.toml` that is a link; it never writes
/// through it into the file it points at (`init --force` alike).
#[test]
fn force_replaces_a_link_and_never_writes_through_it() {
    let project = project_with("import-link", &[(".qaagent.yaml", "project:\n  name: linked\n")]);
    let victim = project.path().join("victim.txt");
    std::fs::write(&victim, "precious").expect("victim");
    std::os::unix::fs::symlink(&victim, project.path().join(".qaagent.toml")).expect("link");
    let run = Qaagent::new(project.path()).args(["config", "import", "--force"]).run();
    assert_eq!(run.code(), 0, "{}", run.describe());
    assert_eq!(std::fs::read_to_string(&victim).expect("victim"), "precious");
    let written = project.path().join(".qaagent.toml");
    assert!(!written.symlink_metadata().expect("config").file_type().is_symlink());
    assert!(std::fs::read_to_string(written).expect("config").contains("linked"));
    std::fs::remove_file(project.path().join(".qaagent.toml")).expect("remove");
    std::os::unix::fs::symlink(&victim, project.path().join(".qaagent.toml")).expect("link");
    let init = Qaagent::new(project.path()).args(["init", "--force"]).run();
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "precious",
        "{}",
        init.describe()
    );
}
