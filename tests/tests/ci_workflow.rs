//! The GitHub Actions workflow of `docs/ci.md`, run locally: its `run:
//! qaagent …` lines in order on `tests/fixtures/retry-project`, the matrix of
//! four simulated by a loop and the artifact upload by a copy, with
//! `GITHUB_ACTIONS=true` so the annotations and step summaries are checked
//! too.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use qaagent_tests::{fixture, qaagent_bin, repo_root, venv};

/// The `run:` lines of the workflow's jobs that call qaagent: (job, command).
fn workflow_commands() -> Vec<(String, String)> {
    let doc = std::fs::read_to_string(repo_root().join("docs/ci.md")).expect("docs/ci.md");
    let workflow = doc
        .split("```yaml")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a yaml block in docs/ci.md");
    let mut job = String::new();
    let mut commands = Vec::new();
    for line in workflow.lines() {
        // Jobs are the keys indented by two under `jobs:`.
        if let Some(name) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':')) {
            if !name.starts_with(' ') {
                job = name.to_string();
            }
        }
        if let Some(command) = line.trim_start().strip_prefix("- run: qaagent ") {
            commands.push((job.clone(), format!("qaagent {}", command.trim())));
        }
    }
    commands
}

/// Runs `command` with `sh` in `dir`, as a CI step would, with the qaagent
/// under test first on PATH.
fn step(dir: &Path, command: &str, env: &[(&str, &Path)]) -> Output {
    let bin_dir = qaagent_bin().parent().expect("bin dir").to_path_buf();
    let path = std::env::join_paths(
        std::iter::once(bin_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .expect("PATH");
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .current_dir(dir)
        .env("PATH", path)
        .env("VIRTUAL_ENV", venv())
        .env("GITHUB_ACTIONS", "true")
        .env("RUST_LOG", "warn")
        .env_remove("QAAGENT_RUNS_DIR")
        .env_remove("CI_NODE_INDEX");
    for (key, value) in env {
        cmd.env(key, value);
    }
    cmd.output().expect("sh")
}

fn describe(command: &str, output: &Output) -> String {
    format!(
        "{command}: exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn the_documented_github_workflow_runs_shares_and_merges_them_into_one_failing_verdict() {
    let commands = workflow_commands();
    let test_job: Vec<&String> = commands
        .iter()
        .filter(|(job, _)| job == "test")
        .map(|(_, c)| c)
        .collect();
    let merge_job: Vec<&String> = commands
        .iter()
        .filter(|(job, _)| job == "merge")
        .map(|(_, c)| c)
        .collect();
    assert!(test_job.len() >= 2 && merge_job.len() >= 2, "{commands:?}");

    let project = fixture("retry-project");
    let scratch = tempfile::tempdir().expect("tempdir");
    let shards = project.path().join("shards");
    std::fs::create_dir_all(&shards).expect("shards");
    for k in 1..=4 {
        let state = scratch.path().join(format!("state-{k}"));
        std::fs::create_dir_all(&state).expect("state");
        let summary = scratch.path().join(format!("summary-{k}.md"));
        for command in &test_job {
            let command = command.replace("${{ matrix.k }}", &k.to_string());
            let output = step(
                project.path(),
                &command,
                &[("RETRY_STATE_DIR", &state), ("GITHUB_STEP_SUMMARY", &summary)],
            );
            assert!(
                [Some(0), Some(1)].contains(&output.status.code()),
                "{}",
                describe(&command, &output)
            );
        }
        let summary = std::fs::read_to_string(&summary).expect("the share's step summary");
        assert!(summary.starts_with("### qaagent: "), "{summary}");
        // Upload, download: the share's bundle lands in shards/ of a fresh machine.
        let bundle = project.path().join(format!("run-{k}.tar.gz"));
        std::fs::rename(&bundle, shards.join(format!("run-{k}.tar.gz"))).expect("the share's bundle");
        std::fs::remove_dir_all(project.path().join("runs")).expect("runs dir");
    }

    let summary = scratch.path().join("summary-merge.md");
    let mut outputs = Vec::new();
    for command in &merge_job {
        outputs.push((
            command,
            step(project.path(), command, &[("GITHUB_STEP_SUMMARY", &summary)]),
        ));
    }
    let (merge_command, merge) = &outputs[0];
    assert!(merge_command.starts_with("qaagent merge"), "{merge_command}");
    assert_eq!(merge.status.code(), Some(1), "{}", describe(merge_command, merge));
    let stdout = String::from_utf8_lossy(&merge.stdout);
    assert!(
        stdout.contains(
            "::error file=tests/unit/test_retry.py,title=unit › tests/unit/test_retry.py%3A%3Atest_always_fails::"
        ),
        "{}",
        describe(merge_command, merge)
    );
    assert!(stdout.contains("merged 4 shards"), "{}", describe(merge_command, merge));
    // Playwright's records name files below the suite's path, not the
    // repository's: no `file=` rather than a wrong one.
    assert!(
        stdout.lines().any(|line| line.starts_with("::error title=e2e ")),
        "{}",
        describe(merge_command, merge)
    );
    // Commands are paused while tool text goes by, and resumed for qaagent's own annotations.
    let token = stdout
        .lines()
        .find_map(|line| line.strip_prefix("::stop-commands::"))
        .expect("workflow commands paused first");
    let resumed = stdout.find(&format!("::{token}::")).expect("and resumed");
    assert!(stdout.find("::error ").is_some_and(|at| at > resumed), "{stdout}");
    for (command, output) in &outputs[1..] {
        assert_eq!(output.status.code(), Some(0), "{}", describe(command, output));
    }
    let summary = std::fs::read_to_string(&summary).expect("the merge's step summary");
    assert!(summary.starts_with("### qaagent: FAILED"), "{summary}");
    assert!(summary.contains("test\\_always\\_fails"), "{summary}");
    let junit: PathBuf = project.path().join("junit.xml");
    assert!(std::fs::read_to_string(&junit)
        .expect("junit")
        .contains("test_always_fails"));
    let durations = std::fs::read_to_string(project.path().join("qaagent-durations.json")).expect("durations");
    assert!(durations.contains("test_passes"), "{durations}");
}
