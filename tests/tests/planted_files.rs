//! Files a tool plants where qaagent reads — FIFOs, links to devices,
//! `/proc` files, one endless line — neither hang qaagent nor exhaust its
//! memory: what cannot be read is said, and the run, or the command, ends
//! by itself.
//!
//! Every qaagent here runs through `sh` so that it is killed after a minute
//! (`timeout -s KILL`: a hang fails the test instead of hanging it) and holds
//! at most 1 GB of address space (an endless read once took all it could).

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
    let limits = "ulimit -v 1000000; exec timeout -s KILL 60 \"$0\" \"$@\"";
    Qaagent::with_bin(Path::new("sh"), project)
        .env("QAAGENT_RUNS_DIR", runs)
        .args(["-c", limits])
        .args([qaagent_bin()])
        .args(args)
        .run()
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
