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
    project_of(
        "features/login.feature",
        "Feature: Login\n  Scenario: log in\n    Given the flaky step\n  Scenario: log in\n    Given the broken step\n",
    )
}

/// A behave project of one feature file, `feature` (its path and text),
/// whose steps are `the flaky step` and `the broken step` (see [`project`]).
fn project_of(feature: &str, text: &str) -> tempfile::TempDir {
    project_with(
        "same-names",
        &[
            (
                ".qaagent.toml",
                "[project]\nname = \"same-names\"\n\n[tests.behave]\nrunner = \"behave\"\npath = \"features\"\n",
            ),
            (feature, text),
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

/// What `runs flaky --suggest-quarantine` says after two failing runs (the
/// flaky scenario fails in the first only).
fn suggested_after_two_runs(project: &Path, runs: &Path) -> String {
    for _ in 0..2 {
        let run = run_all(project, runs);
        assert_eq!(run.code(), 1, "{}", run.describe());
    }
    let suggested = Qaagent::with_runs_dir(project, runs)
        .args(["runs", "flaky", "--suggest-quarantine"])
        .run();
    assert_eq!(suggested.code(), 0, "{}", suggested.describe());
    suggested.stdout()
}

#[test]
fn the_suggested_entry_names_one_of_two_same_named_scenarios_and_an_entry_naming_both_is_warned_of() {
    let project = project();
    let runs = tempfile::tempdir().expect("runs");
    let entries = suggested_after_two_runs(project.path(), runs.path());
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

/// Scenarios named `login` and `logout` in `features/login_logout.feature`:
/// their selectors (`file:LINE`) hold their names, but are still only
/// places. The suggested entry names the scenario by its name, so when the
/// two swap lines the broken one still fails the run. Before, the entry was
/// the place alone (`behave::features/login_logout.feature:2`) and moved
/// to the broken scenario: exit 0.
#[test]
fn an_entry_for_a_scenario_whose_name_is_in_its_file_name_does_not_move_to_another_scenario() {
    let feature = "features/login_logout.feature";
    let project = project_of(
        feature,
        "Feature: Session\n  Scenario: login\n    Given the flaky step\n  Scenario: logout\n    Given the broken step\n",
    );
    let runs = tempfile::tempdir().expect("runs");
    let entries = suggested_after_two_runs(project.path(), runs.path());
    assert!(
        entries.starts_with("[[quarantine]]\ntest = \"behave::login_logout.Session::login\"\n"),
        "{entries}"
    );
    quarantine(project.path(), &entries);
    std::fs::write(
        project.path().join(feature),
        "Feature: Session\n  Scenario: logout\n    Given the broken step\n  Scenario: login\n    Given the flaky step\n",
    )
    .expect("swap the scenarios");
    let run = run_all(project.path(), runs.path());
    assert_eq!(run.code(), 1, "logout is broken: {}", run.describe());
    assert!(run.stdout().contains("broken for good"), "{}", run.describe());
    let newest = run.run_dirs().pop().expect("a run");
    let records = read_jsonl(&newest.join("evidence/tests.jsonl"));
    assert_eq!(records.len(), 2, "{records:?}");
    let logout = records
        .iter()
        .find(|record| record["name"] == "logout")
        .expect("logout");
    assert_eq!(
        (&logout["status"], &logout["metadata"]["quarantined"]),
        (&"failed".into(), &serde_json::Value::Null),
        "{logout}"
    );
}
