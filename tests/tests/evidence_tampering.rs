//! A tool under test that edits its own run's `tests.jsonl` while the run
//! goes on (it can find the run directory from its report path). The final
//! records must not carry the edit as if qaagent had written it: the run is
//! `incomplete`, and nothing that reads it takes it for a finished run. And
//! a run dated in the future is never taken for the latest one.

use qaagent_tests::{project_with, Qaagent};

/// Suite `c1` fails test `b`; suite `c2`, after it, runs `edit` on the
/// run's tests.jsonl (`$EV`) once c1's failure is in it (the evidence writer
/// may still be writing it when c2 starts), then reports a passing test.
fn project_editing_its_records(edit: &str) -> tempfile::TempDir {
    let fail = r#"printf '<testsuite><testcase classname="c" name="a"/><testcase classname="c" name="b"><failure>boom</failure></testcase></testsuite>' > "$1"; exit 1"#;
    let tamper = format!(
        r#"EV="$(dirname "$(dirname "$(dirname "$1")")")/evidence/tests.jsonl"
for i in $(seq 200); do grep -q '"failed"' "$EV" 2>/dev/null && break; sleep 0.05; done
{edit}
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
        let junit = project.path().join("junit.xml");
        let run = Qaagent::new(project.path())
            .args(["run-all", "--junit"])
            .args([&junit])
            .run();
        assert_eq!(run.code(), 1, "{how}\n{}", run.describe());
        // The JUnit, which a CI system shows rather than the exit code, says so.
        let xml = std::fs::read_to_string(&junit).expect("--junit written");
        assert!(
            xml.contains("<error") && xml.contains("changed during the run"),
            "{how}: {xml}"
        );
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

#[test]
fn a_run_dated_in_the_future_is_not_the_latest_run() {
    // A passing run stamped decades ahead (a clock that was ahead, a copy
    // renamed), then a failing run: `--rerun-failed` must re-run the failure,
    // not find "nothing to re-run" in the future run.
    let tool = r#"if [ -e fail ]; then body='<failure>boom</failure>'; code=1; else body=''; code=0; fi
printf '<testsuite><testcase classname="c" name="a">%s</testcase></testsuite>' "$body" > "$1"
exit $code
"#;
    let config = "[project]\nname = \"future\"\n\n[tests.c]\nrunner = \"command\"\npath = \".\"\n\
                  command = [\"sh\", \"tool.sh\", \"{junit}\"]\n";
    let project = project_with("future", &[(".qaagent.toml", config), ("tool.sh", tool)]);
    let first = Qaagent::new(project.path()).args(["run-all"]).run();
    assert_eq!(first.code(), 0, "{}", first.describe());
    let runs = first.runs_dir.path().to_path_buf();
    std::fs::rename(first.run_dir(), runs.join("20991130_120000Z")).expect("date it ahead");
    std::fs::write(project.path().join("fail"), "").expect("make it fail");
    let failing = Qaagent::with_runs_dir(project.path(), &runs).args(["run-all"]).run();
    assert_eq!(failing.code(), 1, "{}", failing.describe());

    let rerun = Qaagent::with_runs_dir(project.path(), &runs)
        .args(["run-all", "--rerun-failed"])
        .run();
    assert_eq!(
        rerun.code(),
        1,
        "the failure is re-run and fails again\n{}",
        rerun.describe()
    );
    assert!(
        rerun.stderr().contains("dated in the future"),
        "and the future run is named\n{}",
        rerun.describe()
    );
}

#[test]
fn records_edited_after_the_run_are_a_problem_runs_show_names() {
    let project = project_editing_its_records(":");
    let run = Qaagent::new(project.path()).args(["run-all"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let records = run.run_dir().join("evidence/tests.jsonl");
    let text = std::fs::read_to_string(&records).expect("records");
    assert!(text.contains(r#""status":"failed""#), "{text}");
    std::fs::write(&records, text.replace(r#""status":"failed""#, r#""status":"passed""#)).expect("edit");

    let show = Qaagent::with_runs_dir(project.path(), run.runs_dir.path())
        .args(["runs", "show", "latest"])
        .run();
    assert_eq!(show.code(), 1, "{}", show.describe());
    assert!(
        show.stdout().contains("tests.jsonl disagrees with the manifest"),
        "{}",
        show.describe()
    );
    // Not "nothing to re-run" from records that no longer say what failed.
    let rerun = Qaagent::with_runs_dir(project.path(), run.runs_dir.path())
        .args(["run-all", "--rerun-failed"])
        .run();
    assert_eq!(rerun.code(), 2, "{}", rerun.describe());
    assert!(
        rerun.stderr().contains("disagrees with the manifest"),
        "{}",
        rerun.describe()
    );
}
