//! Secrets stay out of what qaagent writes: the values of secret-looking
//! variables and the credentials in URLs are masked in its log lines and in
//! `config check`, while the tools still get the real values.

use qaagent_tests::{project_with, Qaagent};

const BASE_URL: &str = "https://bob:hunter2@127.0.0.1:9/shop";

/// A pytest project whose suite has secrets in its env and whose base URL
/// carries credentials; its one test passes only if it sees the real values.
fn project() -> tempfile::TempDir {
    let config = format!(
        r#"[project]
name = "secrets"

[app.dev]
base_url = "{BASE_URL}"

[tests.unit]
runner = "pytest"
path = "tests"
args = ["-p", "no:cacheprovider", "--auth-token=sekrit-4"]
env = {{ API_TOKEN = "tok-sekrit-1", db_password = "pw-sekrit-2", PLAIN_SETTING = "visible-3" }}
"#
    );
    let test = format!(
        r#"import os


def test_the_tool_gets_the_real_values():
    assert os.environ["API_TOKEN"] == "tok-sekrit-1"
    assert os.environ["db_password"] == "pw-sekrit-2"
    assert os.environ["BASE_URL"] == "{BASE_URL}"
"#
    );
    project_with(
        "secrets",
        &[
            (".qaagent.toml", &config),
            (
                "tests/conftest.py",
                "def pytest_addoption(parser):\n    parser.addoption(\"--auth-token\")\n",
            ),
            ("tests/test_env.py", &test),
        ],
    )
}

fn assert_no_secret(text: &str, what: &str) {
    for secret in ["sekrit", "hunter2"] {
        assert!(!text.contains(secret), "{what} shows a secret ({secret}):\n{text}");
    }
}

#[test]
fn verbose_logs_mask_secret_env_values_and_url_credentials() {
    let project = project();
    let mut qaagent = Qaagent::new(project.path()).args(["-vv", "run-all"]);
    // `-vv` decides the level, not the helpers' RUST_LOG.
    qaagent.command().env_remove("RUST_LOG");
    let run = qaagent.run();
    assert_eq!(run.code(), 0, "the tool saw the real values: {}", run.describe());
    let stderr = run.stderr();
    // The command line with its environment is logged, values and all…
    assert!(stderr.contains("PLAIN_SETTING=\"visible-3\""), "{stderr}");
    assert!(stderr.contains("https://***@127.0.0.1:9/shop"), "{stderr}");
    assert!(stderr.contains("API_TOKEN=\"***\""), "{stderr}");
    // …but no secret.
    assert_no_secret(&stderr, "stderr of -vv run-all");
    assert_no_secret(&run.stdout(), "stdout of -vv run-all");
}

#[test]
fn config_check_masks_url_credentials() {
    let project = project();
    let mut qaagent = Qaagent::new(project.path()).args(["-vv", "config", "check"]);
    qaagent.command().env_remove("RUST_LOG");
    let check = qaagent.run();
    let stdout = check.stdout();
    assert!(
        stdout.contains("base_url  https://***@127.0.0.1:9/shop"),
        "{}",
        check.describe()
    );
    assert!(stdout.contains("--auth-token=***"), "{stdout}");
    assert_no_secret(&stdout, "stdout of config check");
    assert_no_secret(&check.stderr(), "stderr of config check");
}
