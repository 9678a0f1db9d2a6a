//! What qaagent writes below a run's output directory is its own: a tool
//! cannot redirect it elsewhere through links it planted, and cannot pass an
//! old report off as one it just wrote.

use std::path::Path;

use qaagent_tests::{project_with, tree_listing, Qaagent};

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

/// A tool that writes no report, but touches one that is already there.
const TOUCH_ONLY: &str = "[ -e reports/junit.xml ] && touch reports/junit.xml; exit 0";

/// A passing report, as an earlier run could have left it.
const PASSING_REPORT: &str = r#"<testsuite name="s" tests="1"><testcase classname="c" name="t"/></testsuite>"#;

#[test]
fn a_report_there_before_the_run_is_set_aside_never_read() {
    let project = command_project(TOUCH_ONLY, "reports/junit.xml");
    let reports = project.path().join("reports");
    std::fs::create_dir(&reports).expect("mkdir");
    std::fs::write(reports.join("junit.xml"), PASSING_REPORT).expect("write stale report");
    let run = Qaagent::new(project.path()).args(["run-all"]).run();
    assert_eq!(run.code(), 1, "an old report is no pass: {}", run.describe());
    let suite = &run.manifest()["suites"][0];
    assert_eq!(suite["outcome"], "errored", "{suite}");
    assert!(
        suite["error"].as_str().is_some_and(|e| e.contains("no report written")),
        "{suite}"
    );
    let suite_dir = run.run_dir().join("artifacts/tool");
    assert_eq!(read(&suite_dir.join("stale-junit.xml")), PASSING_REPORT);
    assert!(
        !reports.join("junit.xml").exists(),
        "the stale report was moved, not copied"
    );
}

#[test]
fn a_report_left_by_an_earlier_attempt_goes_to_its_artifacts() {
    // Attempt 1 reports a failure; attempt 2 writes nothing.
    let script = format!(
        "if [ -e attempted ]; then {TOUCH_ONLY}; fi; touch attempted; mkdir -p reports; echo '{FAILING_REPORT}' > reports/junit.xml; exit 1"
    );
    let project = command_project(&script, "reports/junit.xml");
    let run = Qaagent::new(project.path()).args(["run-all", "--retries", "1"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let suite = &run.manifest()["suites"][0];
    assert_eq!(suite["attempts"], 2, "{suite}");
    assert!(
        suite["error"].as_str().is_some_and(|e| e.contains("no report written")),
        "attempt 2 wrote no report: {suite}"
    );
    let suite_dir = run.run_dir().join("artifacts/tool");
    assert_eq!(
        read(&suite_dir.join("junit.xml")).trim(),
        FAILING_REPORT,
        "attempt 1's report"
    );
}

/// `--out` pointing into the project: a suite's output directory that holds
/// the project's own files is never cleared; one qaagent made is, next time.
#[test]
fn an_out_directory_holding_the_projects_files_is_never_cleared() {
    let project = project_with(
        "out-overlap",
        &[
            (
                ".qaagent.toml",
                "[project]\nname = \"shop\"\n[tests.unit]\npath = \"tests/unit\"\n",
            ),
            ("tests/unit/test_keep.py", "def test_a():\n    pass\n"),
        ],
    );
    let run = Qaagent::new(project.path()).args(["run-all", "--out", "tests"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    assert!(run.stdout().contains("refusing to clear it"), "{}", run.describe());
    assert_eq!(
        read(&project.path().join("tests/unit/test_keep.py")),
        "def test_a():\n    pass\n",
        "the project's test is still there"
    );

    for _ in 0..2 {
        let run = Qaagent::new(project.path()).args(["run-all", "--out", "build"]).run();
        assert_eq!(
            run.code(),
            0,
            "a directory qaagent made is cleared and reused: {}",
            run.describe()
        );
    }
    assert!(project.path().join("build/unit/junit.xml").is_file());
}

/// A passing `command` suite `tool` writing its report into its directory.
fn passing_project() -> tempfile::TempDir {
    command_project(&format!("echo '{PASSING_REPORT}' > {{junit}}"), "{out}/junit.xml")
}

/// Runs `project`'s suites with `--out out`.
fn run_with_out(project: &Path, out: &Path) -> qaagent_tests::RunOutput {
    Qaagent::new(project)
        .args(["run-all", "--no-progress", "--out"])
        .args([out])
        .run()
}

/// Moving a directory does not change the status of the files in it, only
/// its own: a tree of old files moved into a suite's directory is new there.
#[test]
fn a_directory_moved_into_a_suite_dir_under_out_is_never_cleared() {
    let project = passing_project();
    let user = tempfile::tempdir().expect("tempdir");
    let photos = user.path().join("photos");
    std::fs::create_dir(&photos).expect("mkdir");
    std::fs::write(photos.join("one.jpg"), "precious\n").expect("write");
    let out = user.path().join("out");
    let run = run_with_out(project.path(), &out);
    assert_eq!(run.code(), 0, "{}", run.describe());
    std::fs::rename(&photos, out.join("tool/photos")).expect("mv");
    let run = run_with_out(project.path(), &out);
    assert_eq!(
        run.code(),
        1,
        "the suite's directory holds a user's directory: {}",
        run.describe()
    );
    assert!(
        run.stdout().contains("refusing to clear it") && run.stdout().contains("photos"),
        "{}",
        run.describe()
    );
    assert_eq!(read(&out.join("tool/photos/one.jpg")), "precious\n");
}

/// A directory qaagent did not mark is never cleared, even one holding the
/// two logs qaagent writes (a service's log directory, say).
#[test]
fn an_unmarked_directory_holding_logs_under_out_is_never_cleared() {
    let project = passing_project();
    let logs = tempfile::tempdir().expect("tempdir");
    let web = logs.path().join("tool");
    std::fs::create_dir_all(web.join("rotated")).expect("mkdir");
    for (name, text) in [
        ("stdout.log", "service out\n"),
        ("stderr.log", "service err\n"),
        ("access.log", "access\n"),
        ("rotated/old.log", "old\n"),
    ] {
        std::fs::write(web.join(name), text).expect("write");
    }
    let run = run_with_out(project.path(), logs.path());
    assert_eq!(run.code(), 1, "{}", run.describe());
    assert!(
        run.stdout().contains("holds files qaagent did not write"),
        "{}",
        run.describe()
    );
    assert_eq!(read(&web.join("stdout.log")), "service out\n");
    assert_eq!(read(&web.join("access.log")), "access\n");
    assert_eq!(read(&web.join("rotated/old.log")), "old\n");
}

/// A project whose suite `a` runs `script` (bash), then suite `b` passes.
fn swapping_project(script: &str) -> tempfile::TempDir {
    let config = format!(
        r#"[project]
name = "swap"
[run]
suite_order = ["a", "b"]
[tests.a]
runner = "command"
path = "."
command = ["bash", "-c", '''echo '{PASSING_REPORT}' > {{junit}}; {script}''']
[tests.b]
runner = "command"
path = "."
command = ["bash", "-c", '''echo '{PASSING_REPORT}' > {{junit}}''']
"#
    );
    project_with("swap", &[(".qaagent.toml", &config)])
}

/// Suite `a`'s tool swaps the directory suites' directories are made in
/// (the run's `artifacts/`, or `--out`), or the run's `artifacts/` that
/// suites' artifacts are copied into from `--out`, for a link to a user's
/// directory: nothing is made (nor cleared) there, and the run is `incomplete`.
#[test]
fn a_tool_swapping_the_directory_suites_write_into_gets_nothing_written_through_it() {
    for (with_out, root) in [
        (false, "$(dirname {out})"),
        (true, "$(dirname {out})"),
        (true, "$(echo $QAAGENT_RUNS_DIR/2*)/artifacts"),
    ] {
        let outside = tempfile::tempdir().expect("tempdir");
        let victim = outside.path().join("victim");
        std::fs::create_dir(&victim).expect("mkdir");
        std::fs::write(victim.join("keep.txt"), "precious\n").expect("write");
        let project = swapping_project(&format!(
            "ROOT={root}; mv $ROOT $ROOT.moved; ln -s {} $ROOT",
            victim.display()
        ));
        let mut qaagent = Qaagent::new(project.path()).args(["run-all", "--no-progress"]);
        if with_out {
            qaagent = qaagent.args([Path::new("--out"), &outside.path().join("qa")]);
        }
        let run = qaagent.run();
        let context = format!("--out: {with_out}, swapped {root}: {}", run.describe());
        assert_eq!(run.code(), 1, "{context}");
        assert!(run.describe().contains("it was replaced during the run"), "{context}");
        assert_eq!(
            tree_listing(&victim),
            ["keep.txt"],
            "nothing made in the victim: {context}"
        );
        assert_eq!(read(&victim.join("keep.txt")), "precious\n");
        let manifest = run.manifest();
        assert_eq!(manifest["status"], "incomplete", "{manifest}\n{context}");
        assert!(
            manifest["incomplete_reason"]
                .as_str()
                .is_some_and(|why| why.contains("replaced during the run")),
            "{manifest}"
        );
    }
}

/// Unmounts, when dropped, every mount below its directory (lazily: a
/// failing test must not leave them behind).
struct Unmount(std::path::PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let table = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mut points: Vec<&str> = table
            .lines()
            .filter_map(|line| line.split(' ').nth(4))
            .filter(|point| Path::new(point).starts_with(&self.0))
            .collect();
        points.sort_unstable_by(|a, b| b.cmp(a));
        for point in points {
            let _ = std::process::Command::new("umount").args(["-l", point]).status();
        }
    }
}

/// Whether this process may bind-mount (root, outside a locked-down container).
fn can_bind_mount(scratch: &Path) -> bool {
    let (from, to) = (scratch.join("probe-from"), scratch.join("probe-to"));
    std::fs::create_dir(&from).expect("mkdir");
    std::fs::create_dir(&to).expect("mkdir");
    let mounted = std::process::Command::new("mount")
        .arg("--bind")
        .args([&from, &to])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if mounted {
        let unmounted = std::process::Command::new("umount").arg(&to).status();
        assert!(
            unmounted.is_ok_and(|status| status.success()),
            "umount {}",
            to.display()
        );
    }
    mounted
}

/// A test that bind-mounted the project's fixtures into its output directory
/// and left the mount: clearing that directory (`--out`, next run) and
/// pruning the run holding it refuse, naming the mount, and delete nothing.
#[test]
fn clearing_and_pruning_never_cross_into_a_mount_left_in_a_suite_dir() {
    let base = tempfile::tempdir().expect("tempdir");
    let _unmount = Unmount(base.path().to_path_buf());
    if !can_bind_mount(base.path()) {
        eprintln!("skipped: this test needs to bind-mount (root); `mount --bind` is not permitted here");
        return;
    }
    let fixtures = base.path().join("fixtures");
    std::fs::create_dir(&fixtures).expect("mkdir");
    std::fs::write(fixtures.join("users.csv"), "alice\n").expect("write");
    let project = command_project(
        &format!(
            "mkdir -p {{out}}/mnt && mount --bind {} {{out}}/mnt && echo '{PASSING_REPORT}' > {{junit}}",
            fixtures.display()
        ),
        "{out}/junit.xml",
    );
    let (runs, out) = (base.path().join("runs"), base.path().join("out"));
    let run_all = |runs: &Path, out: Option<&Path>| {
        let qaagent = Qaagent::with_runs_dir(project.path(), runs).args(["run-all", "--no-progress"]);
        match out {
            Some(out) => qaagent.args([Path::new("--out"), out]).run(),
            None => qaagent.run(),
        }
    };
    let run = run_all(&runs, Some(&out));
    assert_eq!(run.code(), 0, "{}", run.describe());
    let run = run_all(&runs, Some(&out));
    assert_eq!(run.code(), 1, "{}", run.describe());
    assert!(
        run.stdout().contains("a file system is mounted in it") && run.stdout().contains("tool/mnt"),
        "{}",
        run.describe()
    );
    assert_eq!(read(&fixtures.join("users.csv")), "alice\n", "{}", run.describe());

    let runs = base.path().join("runs-pruned");
    let run = run_all(&runs, None);
    assert_eq!(run.code(), 0, "{}", run.describe());
    let prune = Qaagent::with_runs_dir(project.path(), &runs)
        .args(["runs", "prune", "--keep", "0"])
        .run();
    assert!(
        prune.stdout().contains("a file system is mounted in it") && prune.stdout().contains("artifacts/tool/mnt"),
        "{}",
        prune.describe()
    );
    assert_eq!(read(&fixtures.join("users.csv")), "alice\n", "{}", prune.describe());
    assert!(run.run_dir().join("manifest.json").is_file(), "the run is kept whole");
}
