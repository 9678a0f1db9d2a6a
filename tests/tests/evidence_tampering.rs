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

/// A tool swaps its run directory for a link to the project's earlier,
/// passing run. The run says its evidence was replaced; afterwards the link
/// is no run: `runs show`, `--rerun-failed` and `merge` refuse it rather
/// than show, re-run or merge the earlier run's green records under its id.
/// Before, all three took the earlier run: exit 0, "nothing to re-run".
#[test]
fn a_run_directory_swapped_for_a_link_to_a_passing_run_is_refused_afterwards() {
    // Suite `a` fails t2 once `fail` exists; suite `b` then swaps the run.
    let swap = r#"printf '<testsuite><testcase classname="c" name="u"/></testsuite>' > "$1"
[ -e fail ] || exit 0
RUN="$(dirname "$(dirname "$(dirname "$1")")")"
PREV="$(ls -d "$(dirname "$RUN")"/2* | grep -v "$RUN" | head -1)"
mv "$RUN" "$RUN.moved" && ln -s "$PREV" "$RUN""#;
    let fail = r#"if [ -e fail ]; then f='<failure>boom</failure>'; fi
printf '<testsuite><testcase classname="c" name="t1"/><testcase classname="c" name="t2">%s</testcase></testsuite>' "$f" > "$1""#;
    let config = format!(
        "[project]\nname = \"swap\"\n\n[run]\nsuite_order = [\"a\", \"b\"]\n\n\
         [tests.a]\nrunner = \"command\"\npath = \".\"\ncommand = [\"sh\", \"-c\", {fail:?}, \"sh\", \"{{junit}}\"]\n\n\
         [tests.b]\nrunner = \"command\"\npath = \".\"\ncommand = [\"sh\", \"-c\", {swap:?}, \"sh\", \"{{junit}}\"]\n"
    );
    let project = project_with("swap", &[(".qaagent.toml", &config)]);
    let runs = tempfile::tempdir().expect("runs");
    let qaagent = || Qaagent::with_runs_dir(project.path(), runs.path());
    let first = qaagent().args(["run-all", "--no-progress"]).run();
    assert_eq!(first.code(), 0, "{}", first.describe());
    std::fs::write(project.path().join("fail"), "").expect("marker");
    let second = qaagent().args(["run-all", "--no-progress"]).run();
    assert_eq!(second.code(), 1, "{}", second.describe());
    let swapped = second
        .run_dirs()
        .into_iter()
        .find(|dir| dir.is_symlink())
        .expect("the swapped run");

    let show = qaagent().args(["runs", "show", "latest"]).run();
    assert_eq!(show.code(), 1, "{}", show.describe());
    assert!(show.stdout().contains("symbolic link"), "{}", show.describe());
    let rerun = qaagent().args(["run-all", "--rerun-failed"]).run();
    assert_eq!(rerun.code(), 2, "{}", rerun.describe());
    assert!(rerun.stderr().contains("symbolic link"), "{}", rerun.describe());
    let merged = qaagent().args(["merge"]).args([&swapped]).run();
    assert_eq!(merged.code(), 2, "{}", merged.describe());
}

/// A tool forges the reports a CI system publishes: it links
/// `<run>/report.html` to a page saying everything passed, or copies that
/// page there and blocks qaagent's write with a directory at its temporary
/// name; and it writes a green `--junit` file, blocking that write the same
/// way. Neither forged page may stand for the failed run: the link is
/// replaced by qaagent's page, and a report that could not be written is
/// removed. Before, the forged pages stayed, with a warning.
#[test]
fn reports_a_tool_forged_and_blocked_never_stand_for_the_run() {
    let fail =
        r#"printf '<testsuite><testcase classname="c" name="t"><failure>boom</failure></testcase></testsuite>' > "$1""#;
    let forge = r#"printf '<testsuite><testcase classname="c" name="u"/></testsuite>' > "$1"
RUN="$(dirname "$(dirname "$(dirname "$1")")")"
echo 'PASSED: all green' > forged.html
if [ -e plant-link ]; then ln -s "$PWD/forged.html" "$RUN/report.html"; else cp forged.html "$RUN/report.html"; mkdir "$RUN/.report.html.tmp"; fi
mkdir -p build && printf '<testsuite><testcase classname="c" name="t"/></testsuite>' > build/junit.xml && mkdir -p build/.junit.xml.tmp"#;
    let config = format!(
        "[project]\nname = \"forge\"\n\n[run]\nsuite_order = [\"a\", \"b\"]\n\n\
         [tests.a]\nrunner = \"command\"\npath = \".\"\ncommand = [\"sh\", \"-c\", {fail:?}, \"sh\", \"{{junit}}\"]\n\n\
         [tests.b]\nrunner = \"command\"\npath = \".\"\ncommand = [\"sh\", \"-c\", {forge:?}, \"sh\", \"{{junit}}\"]\n"
    );
    for link in [true, false] {
        let project = project_with("forge", &[(".qaagent.toml", &config)]);
        if link {
            std::fs::write(project.path().join("plant-link"), "").expect("marker");
        }
        let run = Qaagent::new(project.path())
            .args(["run-all", "--no-progress", "--junit", "build/junit.xml"])
            .run();
        assert_eq!(run.code(), 1, "link={link}: {}", run.describe());
        assert!(
            !project.path().join("build/junit.xml").exists(),
            "link={link}: the forged JUnit report stands\n{}",
            run.describe()
        );
        let page = run.run_dir().join("report.html");
        let meta = std::fs::symlink_metadata(&page);
        if link {
            assert!(meta.expect("report.html").is_file(), "the link is replaced");
            let text = std::fs::read_to_string(&page).expect("report.html");
            assert!(text.contains(r#""status":"failed""#), "qaagent's page");
        } else {
            assert!(meta.is_err(), "the forged page stands\n{}", run.describe());
        }
        assert_eq!(
            std::fs::read_to_string(project.path().join("forged.html")).expect("forged"),
            "PASSED: all green\n",
            "never written through"
        );
    }
}
