//! A `command` suite's `junit` path that is not a regular report — a
//! project file (`pom.xml`), a FIFO, a device, a link to qaagent's own
//! stdout, a sparse file — is never moved, deleted, copied or waited on:
//! the suite errors, saying what is there, and the run ends by itself.
//!
//! Every run here goes through `sh` so that it is killed after a while
//! (`timeout -s KILL`: a hang fails the test instead of hanging it), holds
//! at most 4 GB of address space (a sparse report once had qaagent take
//! the whole machine's memory) and writes no file over 1 GB (`/dev/zero`
//! was once copied until the disk was full): a regression fails the test
//! without harming the machine.

use std::os::unix::fs::FileTypeExt;
use std::path::Path;

use qaagent_tests::{project_with, qaagent_bin, read_text, Qaagent, RunOutput};

/// A project with one `command` suite `c` running `script` with sh in the
/// project dir, reading its report from `junit`; `suite` is more of `[tests.c]`.
fn command_project(script: &str, junit: &str, suite: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let config = format!(
        "[project]\nname = \"special\"\n[tests.c]\nrunner = \"command\"\npath = \".\"\n\
         command = [\"sh\", \"-c\", '''{script}''']\njunit = \"{junit}\"\n{suite}\n"
    );
    let mut all = vec![(".qaagent.toml", config.as_str())];
    all.extend_from_slice(files);
    project_with("special", &all)
}

/// A passing report of one test `a`.
const PASSING: &str = r#"<testsuite name="s" tests="1"><testcase classname="c" name="a"/></testsuite>"#;

/// `qaagent run-all` in `project`, killed after two minutes, its address
/// space and the files it writes bounded (the soft limit: a tool may
/// raise it).
fn run_all(project: &Path) -> RunOutput {
    run_all_within(project, 4_000_000)
}

/// [`run_all`] with at most `kilobytes` of address space.
fn run_all_within(project: &Path, kilobytes: u64) -> RunOutput {
    let limits = format!("ulimit -v {kilobytes}; ulimit -S -f 1000000; exec timeout -s KILL 120 \"$0\" \"$@\"");
    Qaagent::with_bin(Path::new("sh"), project)
        .args(["-c", limits.as_str()])
        .args([qaagent_bin()])
        .args(["run-all", "--no-progress"])
        .run()
}

/// Asserts that the run ended by itself with suite `c` errored, its output
/// saying `says`.
fn assert_suite_errored(run: &RunOutput, says: &str) {
    assert_eq!(run.code(), 1, "{}", run.describe());
    let stdout = run.stdout();
    assert!(stdout.contains("ERROR c"), "{}", run.describe());
    assert!(stdout.contains(says), "{}", run.describe());
    assert_eq!(run.manifest()["status"], "failed", "{}", run.describe());
}

/// The names of the files in suite `c`'s artifacts.
fn artifacts(run: &RunOutput) -> Vec<String> {
    let dir = run.run_dir().join("artifacts/c");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn a_junit_file_that_is_no_report_stays_where_it_is_and_the_suite_errors() {
    let pom = "<project><artifactId>mine</artifactId></project>\n";
    let project = command_project(
        &format!("printf '%s' '{PASSING}' > pom.xml"),
        "pom.xml",
        "",
        &[("pom.xml", pom)],
    );
    let run = run_all(project.path());
    // It was once moved into the artifacts, the tool's report written in
    // its place, and the run passed.
    assert_suite_errored(&run, "not a JUnit report");
    assert_eq!(read_text(&project.path().join("pom.xml")), pom);
    assert!(
        !artifacts(&run).iter().any(|name| name.contains("pom")),
        "{:?}",
        artifacts(&run)
    );
}

#[test]
fn a_fifo_at_the_junit_path_is_an_error_not_a_hang() {
    // Left by the tool: reading it once hung qaagent past the suite's
    // timeout, SIGTERM and a double Ctrl-C.
    let project = command_project("mkfifo r.xml", "r.xml", "timeout = 5", &[]);
    let run = run_all(project.path());
    assert_suite_errored(&run, "it is a FIFO");

    // There before the run: neither moved nor read, and still a FIFO.
    let run = run_all(project.path());
    assert_suite_errored(&run, "it is a FIFO");
    let kind = std::fs::symlink_metadata(project.path().join("r.xml")).expect("still there");
    assert!(kind.file_type().is_fifo());
    assert!(
        !artifacts(&run).iter().any(|name| name.contains("r.xml")),
        "{:?}",
        artifacts(&run)
    );
}

#[test]
fn a_link_to_qaagents_own_stdout_at_the_junit_path_is_an_error_not_a_hang() {
    // `junit = "/dev/stdout"` for a tool that prints its report, as a link
    // in the project: qaagent once read its own output as the report, and
    // waited on the pipe for ever.
    let project = command_project(
        &format!("printf '%s' '{PASSING}' > out.xml"),
        "out.xml",
        "timeout = 5",
        &[],
    );
    std::os::unix::fs::symlink("/proc/self/fd/1", project.path().join("out.xml")).expect("symlink");
    let run = run_all(project.path());
    assert_suite_errored(&run, "it is a FIFO");
    let link = std::fs::symlink_metadata(project.path().join("out.xml")).expect("still there");
    assert!(link.is_symlink(), "the link is left as it was");
}

#[test]
fn a_device_at_the_junit_path_is_neither_moved_nor_copied() {
    // There before the run (`junit = "/dev/null"` to turn a report off):
    // a device node was once deleted by the move across file systems.
    let project = command_project("true", "null.xml", "", &[]);
    std::os::unix::fs::symlink("/dev/null", project.path().join("null.xml")).expect("symlink");
    let run = run_all(project.path());
    assert_suite_errored(&run, "it is a character device");
    assert!(std::fs::symlink_metadata(project.path().join("null.xml")).is_ok_and(|meta| meta.is_symlink()));
    assert!(
        artifacts(&run).iter().all(|name| !name.contains("null")),
        "{:?}",
        artifacts(&run)
    );

    // Left by the tool: `/dev/zero` was once copied into the artifacts
    // until the disk was full.
    let project = command_project("ln -s /dev/zero r.xml", "r.xml", "", &[]);
    let run = run_all(project.path());
    assert_suite_errored(&run, "it is a character device");
    assert!(
        artifacts(&run).iter().all(|name| name != "r.xml"),
        "{:?}",
        artifacts(&run)
    );
}

#[test]
fn a_fifo_or_a_device_named_like_a_report_in_a_report_dir_is_an_error_not_passed_over() {
    for special in ["mkfifo reports/TEST-x.xml", "ln -s /dev/zero reports/TEST-x.xml"] {
        let script = format!("mkdir -p reports; {special}; printf '%s' '{PASSING}' > reports/TEST-a.xml");
        let project = command_project(&script, "reports", "timeout = 5", &[]);
        let run = run_all(project.path());
        // Once skipped without a word, and the other report passed the run.
        assert_suite_errored(&run, "TEST-x.xml");
        assert!(
            run.stdout().contains("named like a report"),
            "{special}: {}",
            run.describe()
        );
    }
}

#[test]
fn a_sparse_report_is_malformed_and_never_copied_whole() {
    // A tool's report padded to 50 GB of holes: qaagent once reserved 9 GB
    // for its cases up front (and, without a memory limit, took all of the
    // machine's), and a copy would fill the disk.
    let script = format!(
        "ulimit -S -f unlimited; printf '%s' '{}' > r.xml; truncate -s 50G r.xml",
        r#"<testsuite name="s" tests="1"><testcase classname="c" name="a"/>"#
    );
    let project = command_project(&script, "r.xml", "", &[]);
    let run = run_all(project.path());
    assert_suite_errored(&run, "NUL byte");
    let kept = run.run_dir().join("artifacts/c/r.xml");
    assert!(!kept.exists(), "{}", run.describe());
    assert!(run.stderr().contains("sparse"), "{}", run.describe());
}

#[test]
fn text_directly_inside_a_suite_is_not_buffered() {
    // 100 MB of text between two cases, read within 250 MB of address
    // space (qaagent alone takes less than 150): it was once buffered
    // twice over (1 GB of it took 2 GB).
    let script = format!(
        "{{ printf '%s' '{}'; head -c 100000000 /dev/zero | tr '\\0' x; printf '%s' '{}'; }} > r.xml",
        r#"<testsuite name="s" tests="2" failures="1"><testcase classname="c" name="a"/>"#,
        r#"<testcase classname="c" name="b"><failure message="boom"/></testcase></testsuite>"#
    );
    let project = command_project(&script, "r.xml", "", &[]);
    let run = run_all_within(project.path(), 250_000);
    assert_eq!(run.code(), 1, "{}", run.describe());
    assert!(run.stdout().contains("FAIL c"), "{}", run.describe());
    assert_eq!(run.manifest()["status"], "failed", "{}", run.describe());
    let failed: Vec<_> = run
        .records()
        .into_iter()
        .filter(|record| record["status"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1, "{}", run.describe());
    assert_eq!(failed[0]["name"], "b", "{}", run.describe());
}
