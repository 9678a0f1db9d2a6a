//! Diagnostics of failures produced by a real pytest run: the messages and
//! tracebacks are exactly what pytest writes into its JUnit report.
//!
//! The JUnit file is picked apart with a few string searches here, to keep this
//! test independent of the runner-api JUnit reader; what matters is that the
//! texts handed to the diagnoser are pytest's own.

use std::path::PathBuf;
use std::process::Command;

use orchestrator::diagnostics::{summary, Diagnoser};
use runner_api::{SuiteResult, TestCase, TestStatus};

const TESTS: &str = r#"
import json
import socket
import urllib.request


def closed_port():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def test_total():
    assert sum([20, 21]) == 42


def test_owner():
    pet = json.loads('{"id": 1}')
    assert pet["owner_id"] == 7


def test_api_down():
    urllib.request.urlopen(f"http://127.0.0.1:{closed_port()}/api/pets", timeout=5)


def test_slow_server():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    client = socket.create_connection(server.getsockname(), timeout=0.2)
    client.recv(1)


def test_segfault_like():
    raise RuntimeError("worker exited with signal 11")


def test_passes():
    pass
"#;

/// The Python with pytest: `$QAAGENT_TEST_PYTHON`, else `<repo>/.venv/bin/python`.
fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("QAAGENT_TEST_PYTHON") {
        return PathBuf::from(python);
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .expect("the crate lives in the workspace")
        .join(".venv/bin/python")
}

fn unescape(text: &str) -> String {
    text.replace("&#10;", "\n")
        .replace("&#13;", "\r")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = start + tag[start..].find('"')?;
    Some(unescape(&tag[start..end]))
}

/// The cases of a pytest JUnit report (one suite, no nesting).
fn cases(junit: &str) -> Vec<TestCase> {
    junit
        .split("<testcase ")
        .skip(1)
        .map(|chunk| {
            let head = &chunk[..chunk.find('>').expect("a closed tag")];
            let name = attribute(head, "name").expect("a name");
            let classname = attribute(head, "classname").unwrap_or_default();
            let end = chunk.find("</testcase>").unwrap_or(chunk.len());
            let body = &chunk[..end];
            let failure = ["<failure", "<error"].iter().find_map(|open| {
                let at = body.find(open)?;
                let tag_end = at + body[at..].find('>')?;
                let close = body[tag_end..].find("</").map_or(body.len(), |c| tag_end + c);
                Some((
                    *open,
                    attribute(&body[at..tag_end], "message"),
                    unescape(&body[tag_end + 1..close]),
                ))
            });
            let status = match failure {
                Some(("<failure", ..)) => TestStatus::Failed,
                Some(_) => TestStatus::Error,
                None => TestStatus::Passed,
            };
            let mut case = TestCase::new(name, classname, status);
            if let Some((_, message, details)) = failure {
                case.message = message;
                case.details = Some(details);
            }
            case
        })
        .collect()
}

#[test]
fn real_pytest_failures_are_classified() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("test_sample.py"), TESTS).expect("test file written");
    let junit_path = dir.path().join("junit.xml");
    let python = python();
    let output = Command::new(&python)
        .args(["-m", "pytest", "-p", "no:cacheprovider", "-q", "--junitxml"])
        .arg(&junit_path)
        .arg("test_sample.py")
        .current_dir(dir.path())
        .output()
        .unwrap_or_else(|error| panic!("cannot run {}: {error} (set QAAGENT_TEST_PYTHON)", python.display()));
    let pytest_output = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(1),
        "pytest reports failures:\n{pytest_output}"
    );
    let junit = std::fs::read_to_string(&junit_path).expect("pytest wrote its JUnit report");

    let mut result = SuiteResult::new("unit", "pytest");
    result.cases = cases(&junit);
    assert_eq!((result.passed(), result.failed()), (1, 5), "{junit}");

    let diagnoser = Diagnoser::new(&[]).expect("built-ins compile");
    let diagnoses = diagnoser.diagnose_suite(&result);
    let found: Vec<(&str, &str)> = diagnoses
        .iter()
        .map(|d| (d.test_name.rsplit("::").next().unwrap_or_default(), d.category.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("test_total", "assertion"),
            ("test_owner", "data"),
            // urllib's frames in the traceback mention `timeout`; the message decides.
            ("test_api_down", "connection"),
            ("test_slow_server", "timeout"),
            ("test_segfault_like", "unknown"),
        ],
        "{diagnoses:#?}"
    );
    let lines = summary(&diagnoses);
    assert!(
        lines[0].starts_with(
            "5 test failure(s) detected. Breakdown: assertion: 1, data: 1, connection: 1, timeout: 1, unknown: 1. \
             Suggestions: "
        ),
        "{}",
        lines[0]
    );
}
