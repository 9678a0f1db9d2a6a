//! Quarantine entries for behave scenarios that share a name, end to end
//! with real behave: `runs flaky --suggest-quarantine` names the flaky one
//! alone (`suite::selector::name`), so the broken one beside it still fails
//! the run; and an exact entry that matches both says so, naming them.
//! Before, the suggestion was `behave::login.Login::log in`, which
//! quarantined the broken scenario too: the run exited 0.

use std::path::Path;

use qaagent_tests::{project_with, read_jsonl, read_text, Qaagent, RunOutput};

/// `log in` on line 2 fails until it has run once (a marker file), then
/// passes; `log in` on line 4 always fails.
fn project() -> tempfile::TempDir {
    project_with(
        "same-names",
        &[
            (
                ".qaagent.toml",
                "[project]\nname = \"same-names\"\n\n[tests.behave]\nrunner = \"behave\"\npath = \"features\"\n",
            ),
            (
                "features/login.feature",
                "Feature: Login\n  Scenario: log in\n    Given the flaky step\n  Scenario: log in\n    Given the broken step\n",
            ),
            (
                "features/steps/steps.py",
                "import os\nfrom behave import given\n\n\
                 @given('the flaky step')\ndef flaky(context):\n    \
                 first = not os.path.exists('ran-once')\n    open('ran-once', 'w').close()\n    \
                 assert not first, 'flaky: fails the first time'\n\n\
                 @given('the broken step')\ndef broken(context):\n    assert 0, 'broken for good'\n",
            ),
        ],
    )
}

fn run_all(project: &Path, runs: &Path) -> RunOutput {
    Qaagent::with_runs_dir(project, runs)
        .args(["run-all", "--no-progress", "--color", "never"])
        .run()
}

/// The config with `entry` (a `[[quarantine]]` table) appended.
fn quarantine(project: &Path, entry: &str) {
    let config = project.join(".qaagent.toml");
    let mut text = read_text(&config);
    text.push('\n');
    text.push_str(entry);
    std::fs::write(&config, text).expect("write config");
}

#[test]
fn the_suggested_entry_names_one_of_two_same_named_scenarios_and_an_entry_naming_both_is_warned_of() {
    let project = project();
    let runs = tempfile::tempdir().expect("runs");
    for _ in 0..2 {
        let run = run_all(project.path(), runs.path());
        assert_eq!(run.code(), 1, "{}", run.describe());
    }
    let suggested = Qaagent::with_runs_dir(project.path(), runs.path())
        .args(["runs", "flaky", "--suggest-quarantine"])
        .run();
    assert_eq!(suggested.code(), 0, "{}", suggested.describe());
    let entries = suggested.stdout();
    assert!(
        entries.starts_with("[[quarantine]]\ntest = \"behave::features/login.feature:2::log in\"\n"),
        "{entries}"
    );
    assert_eq!(
        entries.matches("[[quarantine]]").count(),
        1,
        "the broken one is not flaky: {entries}"
    );

    // The entry quarantines the flaky scenario only: the broken one fails the run.
    let config = read_text(&project.path().join(".qaagent.toml"));
    quarantine(project.path(), &entries);
    let run = run_all(project.path(), runs.path());
    assert_eq!(run.code(), 1, "{}", run.describe());
    assert!(run.stdout().contains("broken for good"), "{}", run.describe());
    assert!(
        !run.stdout().contains("quarantined"),
        "the flaky one passed: {}",
        run.describe()
    );
    let newest = run.run_dirs().pop().expect("a run");
    let both = read_jsonl(&newest.join("evidence/tests.jsonl"));
    assert_eq!(both.len(), 2, "{both:?}");
    assert!(
        both.iter().all(|record| record["metadata"]["quarantined"].is_null()
            || record["metadata"]["selector"] == "features/login.feature:2"),
        "{both:?}"
    );

    // An entry by class and name matches both: the run says so, naming them.
    std::fs::write(project.path().join(".qaagent.toml"), config).expect("config");
    quarantine(
        project.path(),
        "[[quarantine]]\ntest = \"behave::login.Login::log in\"\nreason = \"r\"\nuntil = \"2099-01-01\"\n",
    );
    let run = run_all(project.path(), runs.path());
    let warned = "quarantine entry `behave::login.Login::log in` matches 2 different tests, and quarantines them \
                  all: behave::features/login.feature:2::log in, behave::features/login.feature:4::log in";
    assert!(run.stdout().contains(warned), "{}", run.describe());
}
