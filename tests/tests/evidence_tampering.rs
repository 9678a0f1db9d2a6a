//! A tool under test that edits its own run's `tests.jsonl` while the run
//! goes on (it can find the run directory from its report path). The final
//! records must not carry the edit as if qaagent had written it: the run is
//! `incomplete`, and nothing that reads it takes it for a finished run.

use qaagent_tests::{project_with, Qaagent};

/// Suite `c1` fails test `b`; suite `c2`, after it, runs `edit` on the
/// run's tests.jsonl (`$EV`), then reports a passing test.
fn project_editing_its_records(edit: &str) -> tempfile::TempDir {
    let fail = r#"printf '<testsuite><testcase classname="c" name="a"/><testcase classname="c" name="b"><failure>boom</failure></testcase></testsuite>' > "$1"; exit 1"#;
    let tamper = format!(
        r#"EV="$(dirname "$(dirname "$(dirname "$1")")")/evidence/tests.jsonl"; {edit}
printf '<testsuite><testcase classname="c" name="a"/></testsuite>' > "$1""#
    );
    let config = format!(
        "[project]\nname = \"tamper\"\n\n\
         [tests.c1]\nrunner = \"command\"\npath = \".\"\ncommand = [\"sh\", \"-c\", {fail:?}, \"sh\", \"{{junit}}\"]\n\n\
         [tests.c2]\nrunner = \"command\"\npath = \".\"\ncommand = [\"sh\", \"-c\", {tamper:?}, \"sh\", \"{{junit}}\"]\n"
    );
    project_with("tamper", &[(".qaagent.toml", &config)])
}

#[test]
fn records_edited_by_a_tool_during_the_run_make_it_incomplete() {
    for (how, edit) in [
        // A new file in its place, same length: failed → passed.
        ("sed -i", r#"sed -i 's/"status":"failed"/"status":"passed"/' "$EV""#),
        // The same file, rewritten in place without the failure.
        (
            "in place",
            r#"grep -v '"failed"' "$EV" > "$EV.x"; cat "$EV.x" > "$EV"; rm "$EV.x""#,
        ),
    ] {
        let project = project_editing_its_records(edit);
        let run = Qaagent::new(project.path()).args(["run-all"]).run();
        assert_eq!(run.code(), 1, "{how}\n{}", run.describe());
        let manifest = run.manifest();
        assert_eq!(manifest["status"], "incomplete", "{how}: {manifest:#}");
        let reason = manifest["incomplete_reason"].as_str().unwrap_or_default();
        assert!(reason.contains("changed during the run"), "{how}: {reason}");

        let show = Qaagent::with_runs_dir(project.path(), run.runs_dir.path())
            .args(["runs", "show", "latest"])
            .run();
        assert_ne!(
            show.code(),
            0,
            "{how}: `runs show` of an incomplete run\n{}",
            show.describe()
        );
        let rerun = Qaagent::with_runs_dir(project.path(), run.runs_dir.path())
            .args(["run-all", "--rerun-failed"])
            .run();
        assert_eq!(
            rerun.code(),
            2,
            "{how}: what failed in it is not known\n{}",
            rerun.describe()
        );
    }
}
