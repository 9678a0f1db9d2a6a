//! The example binary end to end: `qaagent-custom` runs a `checks` suite
//! with the real checktool, and still knows the built-in runners.

use std::process::Command;

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).expect("write");
    write(
        ".qaagent.toml",
        "[project]\nname = \"example\"\n\n[tests.checks]\nrunner = \"checks\"\npath = \"project.checks\"\n",
    );
    write("README.md", "# Example\n\nInstall with cargo.\n");
    write(
        "project.checks",
        "readme-mentions-install: README.md contains Install\nlicense-exists: LICENSE exists\ndocs-later: skip not written yet\n",
    );
    dir
}

#[test]
fn checks_suite_runs_through_the_example_binary() {
    let project = project();
    let runs = tempfile::tempdir().expect("runs dir");
    let output = Command::new(env!("CARGO_BIN_EXE_qaagent-custom"))
        .current_dir(project.path())
        .env("QAAGENT_RUNS_DIR", runs.path())
        .args(["run-all"])
        .output()
        .expect("run qaagent-custom");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let describe = format!("{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.code(), Some(1), "a check fails: {describe}");
    let squashed = stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        squashed.contains("FAIL checks 1 passed, 1 failed, 0 errors, 1 skipped"),
        "{describe}"
    );
    assert!(squashed.contains("LICENSE does not exist"), "{describe}");
}

#[test]
fn unknown_setting_is_rejected_by_the_checks_runner() {
    let project = project();
    let config = project.path().join(".qaagent.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, format!("{text}strict = true\n")).expect("write");
    let output = Command::new(env!("CARGO_BIN_EXE_qaagent-custom"))
        .current_dir(project.path())
        .args(["run-all"])
        .output()
        .expect("run qaagent-custom");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("unknown key `strict` for runner `checks`"), "{stderr}");
    assert!(stderr.contains("runner `checks` takes: tool, python"), "{stderr}");
}
