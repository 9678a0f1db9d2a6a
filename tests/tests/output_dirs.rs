//! What qaagent writes below a run's output directory is its own: a tool
//! cannot redirect it elsewhere through links it planted, and cannot pass an
//! old report off as one it just wrote.

use std::path::Path;

use qaagent_tests::{project_with, Qaagent};

/// A project with one `command` suite running `script` with bash, in the
/// project dir; `{out}`, `{junit}` are expanded by qaagent.
fn command_project(script: &str, junit: &str) -> tempfile::TempDir {
    let config = format!(
        r#"[project]
name = "outdir"

[tests.tool]
runner = "command"
path = "."
command = ["bash", "-c", '''{script}''']
junit = "{junit}"
"#
    );
    project_with("outdir", &[(".qaagent.toml", &config)])
}

/// A JUnit report with one failing test.
const FAILING_REPORT: &str = r#"<testsuite name="s" tests="1" failures="1"><testcase classname="c" name="t"><failure message="no"/></testcase></testsuite>"#;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

#[test]
fn links_a_tool_planted_for_the_next_attempt_are_never_followed() {
    let outside = tempfile::tempdir().expect("tempdir");
    let victim = outside.path().join("victim.txt");
    std::fs::write(&victim, "precious\n").expect("write victim");
    let victim_dir = outside.path().join("victim-dir");
    std::fs::create_dir(&victim_dir).expect("mkdir");
    // Attempt 1 plants links where attempt 2's logs and directory will go,
    // then fails so that a retry happens.
    let script = format!(
        "mkdir -p {{out}}/attempt-2 && ln -sf {victim} {{out}}/attempt-2/stdout.log && ln -sf {victim} {{out}}/attempt-2/stderr.log \
         && ln -sfn {victim_dir} {{out}}/attempt-3; echo out; echo err >&2; echo '{FAILING_REPORT}' > {{junit}}; exit 1",
        victim = victim.display(),
        victim_dir = victim_dir.display(),
    );
    let project = command_project(&script, "{out}/junit.xml");
    let run = Qaagent::new(project.path()).args(["run-all", "--retries", "2"]).run();
    assert_eq!(run.code(), 1, "the test fails every time: {}", run.describe());
    assert_eq!(
        read(&victim),
        "precious\n",
        "the victim was written through a planted link: {}",
        run.describe()
    );
    assert_eq!(
        std::fs::read_dir(&victim_dir).expect("victim dir").count(),
        0,
        "attempt 3 wrote into a planted directory link"
    );
    let suite_dir = run.run_dir().join("artifacts/tool");
    for attempt in ["attempt-2", "attempt-3"] {
        let log = suite_dir.join(attempt).join("stdout.log");
        let meta = std::fs::symlink_metadata(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        assert!(meta.is_file(), "{} is qaagent's own file", log.display());
        assert_eq!(read(&log), "out\n");
    }
    assert_eq!(run.manifest()["suites"][0]["attempts"], 3, "{}", run.manifest());
}
