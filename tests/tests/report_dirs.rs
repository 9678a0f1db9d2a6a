//! A `command` suite whose `junit` names a directory: qaagent never loses a
//! file it did not write, never reads its own output or an earlier report
//! as the tool's, reads every report below it (linked subdirectories too),
//! and points each test's record at its own report only.

use std::path::Path;

use qaagent_tests::{project_with, read_text, Qaagent, RunOutput};
use serde_json::Value;

/// A project with one `command` suite `c` running `script` with sh in the
/// project dir, reading its reports from `junit`; `run` is the `[run]` table's body.
fn command_project(script: &str, junit: &str, run: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let config = format!(
        "[project]\nname = \"reports\"\n[run]\n{run}\n[tests.c]\nrunner = \"command\"\npath = \".\"\n\
         command = [\"sh\", \"-c\", '''{script}''']\njunit = \"{junit}\"\n"
    );
    let mut all = vec![(".qaagent.toml", config.as_str())];
    all.extend_from_slice(files);
    project_with("reports", &all)
}

/// A report of one test `name`, failing when `fails`.
fn report(name: &str, fails: bool) -> String {
    if fails {
        format!(
            r#"<testsuite name="s" tests="1" failures="1"><testcase classname="c" name="{name}"><failure message="no"/></testcase></testsuite>"#
        )
    } else {
        format!(r#"<testsuite name="s" tests="1"><testcase classname="c" name="{name}"/></testsuite>"#)
    }
}

/// The text of every file below `dir`.
fn texts_below(dir: &Path) -> Vec<String> {
    let mut texts = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                texts.push(read_text(&path));
            }
        }
    }
    texts
}

#[test]
fn xml_below_a_report_dir_that_is_no_report_stays_put_and_makes_an_error_never_a_pass() {
    // The tool writes a failing report, so that a retry runs (and sets
    // aside again, with the first attempt's copies in place).
    let script = format!("echo '{}' > reports/TEST-r.xml", report("t", true));
    let project = command_project(
        &script,
        "reports",
        "retry_count = 1",
        &[
            ("reports/a/data.xml", "<a>first</a>\n"),
            ("reports/b/data.xml", "<b>second</b>\n"),
        ],
    );
    let run = Qaagent::new(project.path()).args(["run-all", "--no-progress"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    // Both were once moved into the run, flattened, and the second attempt
    // deleted one of them for good.
    assert_eq!(read_text(&project.path().join("reports/a/data.xml")), "<a>first</a>\n");
    assert_eq!(read_text(&project.path().join("reports/b/data.xml")), "<b>second</b>\n");
    let stdout = run.stdout();
    assert!(stdout.contains("ERROR c"), "{}", run.describe());
    assert!(
        stdout.contains("not a JUnit report: every *.xml file below the report directory"),
        "{}",
        run.describe()
    );
    assert_eq!(run.manifest()["status"], "failed");
}

#[test]
fn same_named_reports_in_two_subdirectories_are_each_kept_and_each_record_names_its_own() {
    // Each attempt writes a/TEST-r.xml (failing t) and b/TEST-r.xml (passing
    // u), each saying which attempt wrote it.
    let script = format!(
        "n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; mkdir -p reports/a reports/b; \
         echo '<!-- a '$n' -->{a}' > reports/a/TEST-r.xml; echo '<!-- b '$n' -->{b}' > reports/b/TEST-r.xml",
        a = report("t", true),
        b = report("u", false),
    );
    let stale_a = format!("<!-- stale a -->{}", report("t", false));
    let stale_b = format!("<!-- stale b -->{}", report("u", false));
    let project = command_project(
        &script,
        "reports",
        "retry_count = 1",
        &[("reports/a/TEST-r.xml", &stale_a), ("reports/b/TEST-r.xml", &stale_b)],
    );
    let run = Qaagent::new(project.path()).args(["run-all", "--no-progress"]).run();
    assert_eq!(run.code(), 1, "t fails in both attempts: {}", run.describe());
    let artifacts = run.run_dir().join("artifacts/c");
    let kept = texts_below(&artifacts);
    for marker in ["stale a", "stale b", "a 1", "b 1", "a 2", "b 2"] {
        assert!(
            kept.iter().any(|text| text.contains(&format!("<!-- {marker} -->"))),
            "the report marked `{marker}` was lost: {kept:#?}"
        );
    }
    assert_eq!(
        read_text(&artifacts.join("stale-a/TEST-r.xml")),
        stale_a,
        "a stale report keeps its path"
    );

    // Each record refers to its own report (of each attempt that ran it), not to the other's.
    let records = run.suite_records("c");
    let reports_of = |name: &str| -> Vec<String> {
        let record = records
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no record {name}: {records:#?}"));
        (record["evidence_refs"].as_array().into_iter().flatten())
            .filter_map(Value::as_str)
            .filter(|r| r.ends_with(".xml"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        reports_of("t"),
        ["artifacts/c/a/TEST-r.xml", "artifacts/c/attempt-2/a/TEST-r.xml"]
    );
    // No `rerun` template: attempt 2 ran the whole suite, u too.
    assert_eq!(
        reports_of("u"),
        ["artifacts/c/b/TEST-r.xml", "artifacts/c/attempt-2/b/TEST-r.xml"]
    );
}

#[test]
fn a_record_refers_to_its_own_report_not_to_every_report_of_the_directory() {
    let script = "mkdir -p {out}/reports; for i in 0 1 2 3; do \
                  echo \"<testsuite name='s' tests='1'><testcase classname='c' name='t$i'/></testsuite>\" > {out}/reports/r$i.xml; done";
    let project = command_project(script, "{out}/reports", "", &[]);
    let run = Qaagent::new(project.path()).args(["run-all", "--no-progress"]).run();
    assert_eq!(run.code(), 0, "{}", run.describe());
    let records = run.suite_records("c");
    assert_eq!(records.len(), 4);
    for record in &records {
        let name = record["name"].as_str().expect("a name");
        let refs: Vec<&str> = (record["evidence_refs"].as_array().into_iter().flatten())
            .filter_map(Value::as_str)
            .collect();
        let own = format!("artifacts/c/reports/r{}.xml", &name[1..]);
        let reports: Vec<&str> = refs.iter().copied().filter(|r| r.ends_with(".xml")).collect();
        assert_eq!(reports, [own.as_str()], "{record}");
        assert!(
            refs.contains(&"artifacts/c/stdout.log"),
            "the suite's logs stay: {record}"
        );
    }
}

/// Runs a project twice with `args`, evidence to `runs_dir` below it (else
/// a temporary one): its tool writes a passing report at `report` (below
/// `build/`, the report dir) the first time only, and nothing the second.
/// Only what the runs printed and their exits are left: the project is gone.
fn twice_writing_once(report_at: &str, args: &[&str], runs_dir: Option<&str>) -> [RunOutput; 2] {
    let script = format!(
        "if [ ! -f first-done ]; then mkdir -p $(dirname {report_at}); echo '{}' > {report_at}; fi; touch first-done",
        report("t", false)
    );
    let project = command_project(&script, "build", "", &[]);
    let runs = tempfile::tempdir().expect("tempdir");
    let runs_dir = runs_dir.map_or_else(|| runs.path().to_path_buf(), |dir| project.path().join(dir));
    [1, 2].map(|_| {
        Qaagent::with_runs_dir(project.path(), &runs_dir)
            .args(["run-all", "--no-progress"])
            .args(args)
            .run()
    })
}

/// The second of [`twice_writing_once`] must not pass on what the first left.
fn second_run_without_a_report(args: &[&str], runs_dir: Option<&str>) {
    let [first, second] = twice_writing_once("build/test-results/TEST-r.xml", args, runs_dir);
    assert_eq!(first.code(), 0, "{}", first.describe());
    assert_eq!(second.code(), 1, "{}", second.describe());
    assert!(second.stdout().contains("no report written"), "{}", second.describe());
}

#[test]
fn the_runs_output_dir_inside_the_report_dir_is_never_read_as_the_tools_report() {
    // qaagent's copy of run 1's report, then the report it set aside, sat
    // below build/qa and was read back: run 2 passed with no report written.
    second_run_without_a_report(&["--out", "build/qa"], None);
}

#[test]
fn a_report_dir_that_is_the_runs_output_dir_is_refused() {
    // Its suites' directories hold qaagent's copies of reports (and the
    // reports it set aside): a second run whose tool wrote nothing passed.
    for run in twice_writing_once("build/TEST-r.xml", &["--out", "build"], None) {
        assert_eq!(run.code(), 1, "{}", run.describe());
        assert!(
            run.stdout().contains("it is qaagent's own output"),
            "{}",
            run.describe()
        );
    }
}

#[test]
fn stored_runs_inside_the_report_dir_are_never_read_as_the_tools_report() {
    second_run_without_a_report(&[], Some("build/runs"));
}

#[test]
fn a_linked_subdirectory_of_the_report_dir_is_read_each_file_once() {
    let outside = tempfile::tempdir().expect("tempdir");
    std::fs::write(outside.path().join("f.xml"), report("bad", true)).expect("write");
    let script = format!(
        "mkdir -p {{junit}}; echo '{}' > {{junit}}/a.xml; ln -s {} {{junit}}/sub; ln -s . {{junit}}/loop; ln -s {} {{junit}}/again",
        report("a", false),
        outside.path().display(),
        outside.path().display(),
    );
    let project = command_project(&script, "{out}/reports", "", &[]);
    let run = Qaagent::new(project.path()).args(["run-all", "--no-progress"]).run();
    assert_eq!(
        run.code(),
        1,
        "the failing report in the linked dir counts: {}",
        run.describe()
    );
    let records = run.suite_records("c");
    let mut names: Vec<&str> = records.iter().filter_map(|r| r["name"].as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["a", "bad"], "each report read once");
}

#[test]
fn a_report_dir_holding_the_project_is_refused_and_nothing_is_moved() {
    let script = format!("echo '{}' > TEST-r.xml", report("t", false));
    let project = command_project(
        &script,
        ".",
        "",
        &[
            ("pom.xml", "<project/>\n"),
            ("src/TEST-fixture.xml", &report("kept", false)),
        ],
    );
    let run = Qaagent::new(project.path()).args(["run-all", "--no-progress"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    assert!(run.stdout().contains("holds the project"), "{}", run.describe());
    assert_eq!(read_text(&project.path().join("pom.xml")), "<project/>\n");
    assert_eq!(
        read_text(&project.path().join("src/TEST-fixture.xml")),
        report("kept", false)
    );
}

/// qaagent's own output reached another way than by being below the report
/// dir: a link to a stored run, `{out}/../other-suite`. Each made another
/// suite's or an earlier run's report pass for the tool's (hostile try).
#[test]
fn qaagent_output_reached_through_a_link_or_another_suites_dir_is_never_the_tools_report() {
    // Run 1 writes its report; run 2 writes nothing, only links the report
    // dir to run 1's copy of it.
    let runs = tempfile::tempdir().expect("runs");
    let script = format!(
        "if [ ! -f first-done ]; then mkdir -p build/rep; echo '{}' > build/rep/TEST-a.xml; touch first-done; \
         else rm -rf build/rep; ln -s \"$(ls -d {}/*/artifacts/c | head -1)\" build/rep; fi",
        report("a", false),
        runs.path().display()
    );
    let project = command_project(&script, "build/rep", "", &[]);
    let [first, second] = [1, 2].map(|_| {
        Qaagent::with_runs_dir(project.path(), runs.path())
            .args(["run-all", "--no-progress"])
            .run()
    });
    assert_eq!(first.code(), 0, "{}", first.describe());
    assert_eq!(second.code(), 1, "{}", second.describe());
    assert!(
        second.stdout().contains("it is qaagent's own output"),
        "{}",
        second.describe()
    );

    // Another suite's output, by `{out}/..`.
    let config = format!(
        "[project]\nname = \"reports\"\n[run]\nsuite_order = [\"c1\", \"c2\"]\n\
         [tests.c1]\nrunner = \"command\"\npath = \".\"\ncommand = [\"sh\", \"-c\", '''echo '{}' > \"$0\"''', \"{{junit}}\"]\n\
         [tests.c2]\nrunner = \"command\"\npath = \".\"\ncommand = [\"true\"]\njunit = \"{{out}}/../c1\"\n",
        report("a", false)
    );
    let project = project_with("reports", &[(".qaagent.toml", config.as_str())]);
    let run = Qaagent::new(project.path()).args(["run-all", "--no-progress"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    assert!(run.stdout().contains("ERROR c2"), "{}", run.describe());
}

/// An earlier report reached through a linked subdirectory lies outside the
/// report dir: it is never moved (that once emptied a shared directory); the
/// attempt errors, naming it.
#[test]
fn an_earlier_report_through_a_link_to_outside_is_not_moved() {
    let shared = tempfile::tempdir().expect("shared");
    let legacy = shared.path().join("TEST-legacy.xml");
    std::fs::write(&legacy, report("legacy", false)).expect("write");
    let script = format!("echo '{}' > reports/TEST-r.xml", report("t", false));
    let project = command_project(&script, "reports", "", &[("reports/.keep", "")]);
    std::os::unix::fs::symlink(shared.path(), project.path().join("reports/shared")).expect("link");
    let run = Qaagent::new(project.path()).args(["run-all", "--no-progress"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    assert!(
        run.stdout().contains("not moving the earlier report"),
        "{}",
        run.describe()
    );
    assert_eq!(read_text(&legacy), report("legacy", false), "still where it was");
}
