//! The binary's own manners: version, help, usage errors. (Its presence also
//! makes `cargo test --workspace` build the `qaagent` binary that the
//! workspace integration tests in `tests/` run.)

use std::process::Command;

fn qaagent() -> Command {
    Command::new(env!("CARGO_BIN_EXE_qaagent"))
}

#[test]
fn version_prints_the_crate_version() {
    let output = qaagent().arg("--version").output().expect("run qaagent");
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("qaagent {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn help_lists_run_all() {
    let output = qaagent().arg("--help").output().expect("run qaagent");
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("run-all"));
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let output = qaagent().args(["run-all", "--bogus"]).output().expect("run qaagent");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--bogus"));
}
