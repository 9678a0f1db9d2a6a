//! Files a tool plants where qaagent reads — FIFOs, links to devices,
//! `/proc` files, one endless line — neither hang qaagent nor exhaust its
//! memory: what cannot be read is said, and the run, or the command, ends
//! by itself.
//!
//! Every qaagent here runs through `sh` so that it is killed after a minute
//! (`timeout -s KILL`: a hang fails the test instead of hanging it) and holds
//! at most 1 GB of address space (an endless read once took all it could).

use std::os::unix::fs::FileTypeExt;
use std::path::Path;

use qaagent_tests::{project_with, qaagent_bin, Qaagent, RunOutput};

/// A project with a `command` suite per (name, script) pair, each running
/// its script with sh in the project dir (`{out}` and `{junit}` expanded by
/// qaagent), in the order given.
fn project(suites: &[(&str, &str)]) -> tempfile::TempDir {
    let order: Vec<String> = suites.iter().map(|(name, _)| format!("\"{name}\"")).collect();
    let mut config = format!(
        "[project]\nname = \"planted\"\n[run]\nsuite_order = [{}]\n",
        order.join(", ")
    );
    for (name, script) in suites {
        config.push_str(&format!(
            "\n[tests.{name}]\nrunner = \"command\"\npath = \".\"\ncommand = [\"sh\", \"-c\", '''{script}''']\n"
        ));
    }
    project_with("planted", &[(".qaagent.toml", &config)])
}

/// A script writing a report of one passing test to `{junit}`.
const PASSING: &str =
    r#"printf '%s' '<testsuite name="s" tests="1"><testcase classname="c" name="p"/></testsuite>' > {junit}"#;

/// `qaagent ARGS` in `project` with runs in `runs`, killed after a minute,
/// within 1 GB of address space.
fn bounded(project: &Path, runs: &Path, args: &[&str]) -> RunOutput {
    bounded_qaagent(project, runs).args(args).run()
}

/// qaagent in `project` with runs in `runs`, to be given its arguments, as
/// [`bounded`] runs it.
fn bounded_qaagent(project: &Path, runs: &Path) -> Qaagent {
    let limits = "ulimit -v 1000000; exec timeout -s KILL 60 \"$0\" \"$@\"";
    Qaagent::with_bin(Path::new("sh"), project)
        .env("QAAGENT_RUNS_DIR", runs)
        .args(["-c", limits])
        .args([qaagent_bin()])
}

#[test]
fn logs_a_crashing_tool_replaced_by_fifos_or_device_links_are_not_read() {
    // The end of a crashed tool's logs goes into its error: qaagent once
    // blocked for ever opening a FIFO there (past Ctrl-C and SIGTERM), and
    // read a link to /dev/zero until its memory ran out.
    for (plant, what) in [("mkfifo", "a FIFO"), ("ln -s /dev/zero", "a link")] {
        let crash = format!("cd {{out}}; rm -f stdout.log stderr.log; {plant} stdout.log; {plant} stderr.log; exit 3");
        let project = project(&[("a", &crash), ("z", PASSING)]);
        let runs = tempfile::tempdir().expect("runs");
        let run = bounded(project.path(), runs.path(), &["run-all", "--no-progress"]);
        assert_eq!(run.code(), 1, "{what}: {}", run.describe());
        let stdout = run.stdout();
        assert!(stdout.contains("ERROR a"), "{what}: {}", run.describe());
        assert!(stdout.contains("exited with code 3"), "{what}: {}", run.describe());
        assert!(stdout.contains("PASS z"), "{what}: {}", run.describe());
        assert!(
            run.stderr().contains("stdout.log: it is"),
            "{what}: the unread log is named: {}",
            run.describe()
        );
    }
}

/// A script that replaces its run's `writer.lock` by a FIFO (`{out}` is
/// `<run>/artifacts/<suite>`).
const FIFO_LOCK: &str = "RUN=$(dirname $(dirname {out})); rm -f $RUN/writer.lock; mkfifo $RUN/writer.lock";

/// The only run directory in `runs`.
fn only_run(runs: &Path) -> std::path::PathBuf {
    let mut dirs = runs_in(runs);
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.remove(0)
}

/// The run directories in `runs`, oldest first.
fn runs_in(runs: &Path) -> Vec<std::path::PathBuf> {
    let mut dirs: Vec<_> = std::fs::read_dir(runs)
        .expect("runs")
        .flatten()
        .map(|e| e.path())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn a_fifo_at_a_finished_runs_writer_lock_hangs_no_command_and_prune_removes_the_run() {
    let project = project(&[("a", &format!("{FIFO_LOCK}; {PASSING}"))]);
    let runs = tempfile::tempdir().expect("runs");
    let run = bounded(project.path(), runs.path(), &["run-all", "--no-progress"]);
    assert_eq!(run.code(), 0, "{}", run.describe());
    let dir = only_run(runs.path());
    assert!(std::fs::symlink_metadata(dir.join("writer.lock")).is_ok_and(|meta| meta.file_type().is_fifo()));
    for args in [
        &["runs", "list"][..],
        &["runs", "show", "latest"],
        &["runs", "prune", "--keep", "0", "--dry-run"],
    ] {
        let out = bounded(project.path(), runs.path(), args);
        assert_eq!(out.code(), 0, "{args:?}: {}", out.describe());
    }
    // `runs prune` once hung on every try: the run finished, so it goes.
    let prune = bounded(project.path(), runs.path(), &["runs", "prune", "--keep", "0"]);
    assert_eq!(prune.code(), 0, "{}", prune.describe());
    assert!(prune.stdout().contains("removed 1 of 1"), "{}", prune.describe());
    assert!(!dir.exists(), "{}", prune.describe());
}

#[test]
fn a_fifo_at_a_crashed_runs_writer_lock_is_said_and_the_run_kept_at_its_word() {
    // The tool plants the FIFO, says so, then waits to be let go; qaagent
    // is killed meanwhile, leaving its run `running` with no lock to test.
    let hold = format!("{FIFO_LOCK}; {PASSING}; touch planted; while [ ! -e release ]; do sleep 0.1; done");
    let project = project(&[("a", &hold)]);
    let runs = tempfile::tempdir().expect("runs");
    let mut child = Qaagent::with_runs_dir(project.path(), runs.path())
        .args(["run-all", "--no-progress"])
        .spawn_quiet();
    while !project.path().join("planted").exists() {
        assert!(child.try_wait().expect("poll").is_none(), "qaagent ended early");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    std::fs::write(project.path().join("release"), "").expect("let the tool go");

    // Each once hung for good (a plain open of the FIFO).
    let list = bounded(project.path(), runs.path(), &["runs", "list"]);
    assert_eq!(list.code(), 0, "{}", list.describe());
    assert!(list.stdout().contains("running"), "{}", list.describe());
    assert!(
        list.stderr().contains("writer.lock: not a regular file"),
        "the unknown writer is said: {}",
        list.describe()
    );
    let show = bounded(project.path(), runs.path(), &["runs", "show", "latest"]);
    assert!([0, 1].contains(&show.code()), "{}", show.describe());
    let prune = bounded(project.path(), runs.path(), &["runs", "prune", "--keep", "0"]);
    assert_eq!(prune.code(), 0, "{}", prune.describe());
    assert!(prune.stdout().contains("cannot be told"), "{}", prune.describe());
    assert!(only_run(runs.path()).is_dir(), "{}", prune.describe());
    let rerun = bounded(
        project.path(),
        runs.path(),
        &["run-all", "--no-progress", "--rerun-failed", "--allow-unfinished"],
    );
    assert!([0, 1, 4].contains(&rerun.code()), "{}", rerun.describe());
}

#[test]
fn an_earlier_runs_records_of_one_endless_line_or_a_fifo_are_bad_records_not_an_abort() {
    // A test passes, one fails: a run that finished.
    let failing = r#"printf '%s' '<testsuite name="s" tests="2" failures="1"><testcase classname="c" name="p"/><testcase classname="c" name="f"><failure message="boom"/></testcase></testsuite>' > {junit}"#;
    let project = project(&[("a", failing)]);
    let runs = tempfile::tempdir().expect("runs");
    let first = bounded(project.path(), runs.path(), &["run-all", "--no-progress"]);
    assert_eq!(first.code(), 1, "{}", first.describe());
    // Its records become 1.5 GB of NULs with no newline (a sparse file):
    // every reader of history once held the whole line, and aborted (exit
    // 134) when it could not.
    let old = runs_in(runs.path()).remove(0);
    let old_id = old.file_name().expect("id").to_string_lossy().into_owned();
    let records = std::fs::File::create(old.join("evidence/tests.jsonl")).expect("truncate");
    records.set_len(1536 << 20).expect("a hole");

    let show = bounded(project.path(), runs.path(), &["runs", "show", &old_id]);
    assert_eq!(show.code(), 1, "{}", show.describe());
    assert!(show.stdout().contains("1 bad line"), "{}", show.describe());
    let flaky = bounded(project.path(), runs.path(), &["runs", "flaky"]);
    assert_eq!(flaky.code(), 0, "{}", flaky.describe());
    let next = bounded(project.path(), runs.path(), &["run-all", "--no-progress"]);
    assert_eq!(next.code(), 1, "{}", next.describe());
    let newest = runs_in(runs.path()).pop().expect("a new run");
    assert!(newest.join("report.html").is_file(), "{}", next.describe());

    // The newest run's records a FIFO: `runs durations` once failed as a
    // whole (exit 2) for it; like `runs flaky`, it leaves both runs'
    // unreadable records out, saying so.
    let fifo = newest.join("evidence/tests.jsonl");
    std::fs::remove_file(&fifo).expect("rm");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let out = project.path().join("durations.json");
    let out_arg = out.to_string_lossy();
    let durations = bounded(project.path(), runs.path(), &["runs", "durations", "-o", &out_arg]);
    assert_eq!(durations.code(), 0, "{}", durations.describe());
    assert!(out.is_file(), "{}", durations.describe());
    let stderr = durations.stderr();
    assert!(stderr.contains("not a regular file"), "{}", durations.describe());
    assert!(stderr.contains("MiB long"), "{}", durations.describe());
}

#[test]
fn a_junit_path_on_proc_is_refused_unread_and_nothing_of_it_is_kept() {
    // `/proc` files look like empty regular files, so like a report a
    // killed tool had just opened: qaagent's environment, secrets and all,
    // was once copied into the artifacts (and `/proc/kmsg` drained).
    for (junit, setup) in [
        ("/proc/self/environ", ""),
        ("reports", "mkdir reports; ln -s /proc/self/environ reports/env.xml"),
    ] {
        let config = format!(
            "[project]\nname = \"planted\"\n[tests.a]\nrunner = \"command\"\npath = \".\"\njunit = \"{junit}\"\n\
             command = [\"sh\", \"-c\", \"echo ran\"]\n"
        );
        let project = project_with("planted", &[(".qaagent.toml", &config)]);
        if !setup.is_empty() {
            let made = std::process::Command::new("sh")
                .args(["-c", setup])
                .current_dir(project.path())
                .status()
                .expect("sh");
            assert!(made.success());
        }
        let runs = tempfile::tempdir().expect("runs");
        let run = bounded_qaagent(project.path(), runs.path())
            .env("API_TOKEN", "supersecret-123")
            .args(["run-all", "--no-progress"])
            .run();
        assert_eq!(run.code(), 1, "{junit}: {}", run.describe());
        assert!(run.stdout().contains("ERROR a"), "{junit}: {}", run.describe());
        assert!(
            run.stdout().contains("it is on proc, the kernel's own file system"),
            "{junit}: {}",
            run.describe()
        );
        let kept = qaagent_tests::tree_listing(runs.path());
        for name in &kept {
            let path = runs.path().join(name);
            let text = std::fs::read(&path).unwrap_or_default();
            assert!(
                !String::from_utf8_lossy(&text).contains("supersecret-123"),
                "{junit}: {name} holds qaagent's environment"
            );
        }
    }
}

/// Playwright's version is read from the `package.json` beside the script
/// `node_modules/.bin/playwright` links to: a FIFO there is not waited on.
/// Before, `config check` and `run-all` blocked opening it, past the suite's
/// timeout and every signal but SIGKILL (a hostile try, 13b #3).
#[test]
fn a_fifo_at_playwright_s_package_json_hangs_nothing() {
    let project = project_with(
        "pw-package",
        &[
            (
                ".qaagent.toml",
                "[project]\nname = \"pkg\"\n[tests.e2e]\npath = \"e2e\"\n",
            ),
            ("e2e/node_modules/@playwright/test/cli.js", "#!/bin/sh\nexit 0\n"),
        ],
    );
    let test_dir = project.path().join("e2e/node_modules/@playwright/test");
    let bin = project.path().join("e2e/node_modules/.bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    std::os::unix::fs::symlink("../@playwright/test/cli.js", bin.join("playwright")).expect("link");
    let fifo = test_dir.join("package.json");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(status.success() && std::fs::metadata(&fifo).expect("fifo").file_type().is_fifo());
    let runs = tempfile::tempdir().expect("runs");
    for args in [
        &["config", "check"][..],
        &["run-all", "--no-progress", "--timeout", "20"][..],
    ] {
        let run = bounded(project.path(), runs.path(), args);
        // 137: killed by `timeout` after a minute, hung.
        assert!(matches!(run.code(), 0 | 1), "{args:?}: {}", run.describe());
    }
    // Installed, its version unknown: not "not found" (a hostile try, 14 N11).
    let check = bounded(project.path(), runs.path(), &["config", "check"]);
    assert!(
        check
            .stdout()
            .contains("version unknown: the package.json beside it cannot be read"),
        "{}",
        check.describe()
    );
}

/// A stored run's `manifest.json` padded past 64 MiB (still valid JSON) is
/// unreadable, said without being read: before, `runs list`, `runs show`
/// and `runs flaky` read it whole, a 300 MB one costing 621–929 MB (a
/// hostile try, 13b #7).
#[test]
fn a_manifest_padded_past_the_read_limit_is_unreadable_not_read() {
    let project = project(&[("a", PASSING)]);
    let runs = tempfile::tempdir().expect("runs");
    let run = bounded(project.path(), runs.path(), &["run-all", "--no-progress"]);
    assert_eq!(run.code(), 0, "{}", run.describe());
    let run_dir = only_run(runs.path());
    let manifest = run_dir.join("manifest.json");
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&manifest)
        .expect("manifest");
    let padding = vec![b' '; 1024 * 1024];
    for _ in 0..65 {
        std::io::Write::write_all(&mut file, &padding).expect("pad");
    }
    drop(file);
    let id = run_dir.file_name().expect("id").to_string_lossy().into_owned();
    let shown = bounded(project.path(), runs.path(), &["runs", "show", &id]);
    assert_eq!(shown.code(), 1, "{}", shown.describe());
    assert!(
        shown
            .stdout()
            .contains("manifest.json cannot be read: it is over 67108864 bytes"),
        "{}",
        shown.describe()
    );
    let listed = bounded(project.path(), runs.path(), &["runs", "list", "--all"]);
    assert!(listed.stdout().contains("unreadable"), "{}", listed.describe());
}
