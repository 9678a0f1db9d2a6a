//! qaagent writes only what is its own: a tool cannot make it write outside
//! the run through a link planted at a temporary's name, and `--out` never
//! destroys a file qaagent did not write, nor a stored run.

use qaagent_tests::{project_with, read_text, Qaagent};

/// A project whose suite `a` fails a test and whose suite `b` runs `script`
/// (bash, in the project dir; `{out}` and `{junit}` expanded by qaagent).
fn failing_then(script: &str) -> tempfile::TempDir {
    let config = format!(
        r#"[project]
name = "writes"

[tests.a]
runner = "command"
path = "."
command = ["bash", "-c", '''echo '{FAILING_REPORT}' > {{junit}}; exit 1''']

[tests.b]
runner = "command"
path = "."
command = ["bash", "-c", '''{script}''']
"#
    );
    project_with("writes", &[(".qaagent.toml", &config)])
}

/// A report with one failing test, `c::t`.
const FAILING_REPORT: &str = r#"<testsuite name="s" tests="1" failures="1"><testcase classname="c" name="t"><failure message="boom"/></testcase></testsuite>"#;

/// A report with one passing test.
const PASSING_REPORT: &str = r#"<testsuite name="s" tests="1"><testcase classname="c" name="p"/></testsuite>"#;

#[test]
fn links_a_tool_planted_at_temporary_names_are_never_written_through() {
    let outside = tempfile::tempdir().expect("tempdir");
    let temporaries = [
        "RUN/.manifest.json.tmp",
        "RUN/evidence/.tests.jsonl.tmp",
        "RUN/evidence/.diagnostics.json.tmp",
        "RUN/.report.html.tmp",
        "PROJECT/.junit.xml.tmp",
    ];
    let mut plant = String::from("RUN=$(dirname $(dirname {out})); PROJECT=$PWD; ");
    for (i, temporary) in temporaries.iter().enumerate() {
        let victim = outside.path().join(format!("victim-{i}"));
        std::fs::write(&victim, "precious\n").expect("write victim");
        let temporary = temporary.replace("RUN", "$RUN").replace("PROJECT", "$PROJECT");
        plant.push_str(&format!("ln -s {} {temporary}; ", victim.display()));
    }
    plant.push_str(&format!("echo '{PASSING_REPORT}' > {{junit}}"));
    let project = failing_then(&plant);
    let run = Qaagent::new(project.path())
        .args(["run-all", "--no-progress", "--junit", "junit.xml"])
        .run();
    assert_eq!(run.code(), 1, "suite a failed: {}", run.describe());
    for i in 0..temporaries.len() {
        let victim = outside.path().join(format!("victim-{i}"));
        assert_eq!(
            read_text(&victim),
            "precious\n",
            "written through the link at {}: {}",
            temporaries[i],
            run.describe()
        );
    }
    let junit = project.path().join("junit.xml");
    assert!(
        std::fs::symlink_metadata(&junit).expect("junit.xml").is_file(),
        "--junit is a file of its own, not the planted link"
    );
    assert!(read_text(&junit).contains("boom"), "{}", read_text(&junit));
    assert_eq!(run.manifest()["status"], "failed", "{}", run.manifest());
    let failed: Vec<_> = run.records().into_iter().filter(|r| r["status"] == "failed").collect();
    assert_eq!(failed.len(), 1, "the failure is recorded: {}", run.describe());
    let diagnostics = read_text(&run.run_dir().join("evidence/diagnostics.json"));
    assert!(diagnostics.contains("boom"), "{diagnostics}");
    assert!(read_text(&run.run_dir().join("report.html")).contains("boom"));
    assert!(
        run.stderr().contains("removing the link"),
        "each planted link is named: {}",
        run.describe()
    );
}
