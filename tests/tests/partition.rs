//! `run-all --partition K/N` end to end with real pytest, behave and
//! Playwright on `tests/fixtures/retry-project` (see its EXPECTED.md): the N
//! shares are disjoint and together are exactly the unpartitioned run,
//! retries stay inside a share, and a durations file balances the shares.

use std::collections::BTreeMap;
use std::path::Path;

use qaagent_tests::{fixture, Qaagent, RunOutput};
use serde_json::Value;

/// `suite › selector` → (status, attempts) of every record of a run.
fn outcomes(run: &RunOutput) -> BTreeMap<String, (String, u64)> {
    let mut outcomes = BTreeMap::new();
    for record in run.records() {
        let key = format!(
            "{} › {}",
            record["suite_name"].as_str().unwrap_or_default(),
            record["metadata"]["selector"].as_str().unwrap_or_default()
        );
        let value = (
            record["status"].as_str().unwrap_or_default().to_string(),
            record["metadata"]["attempts"].as_u64().unwrap_or(1),
        );
        assert!(outcomes.insert(key.clone(), value).is_none(), "{key} twice in one run");
    }
    outcomes
}

/// One run of the fixture with its own execution log.
fn run_fixture(project: &Path, state: &Path, args: &[&str]) -> RunOutput {
    std::fs::create_dir_all(state).expect("state dir");
    Qaagent::new(project)
        .args(["run-all", "--no-progress", "--color", "never"])
        .args(args)
        .env("RETRY_STATE_DIR", state)
        .run()
}

/// The keys a suite's tests logged, one per execution.
fn executions(state: &Path, suite: &str) -> Vec<String> {
    std::fs::read_to_string(state.join(format!("{suite}.log")))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn three_shares_are_disjoint_and_together_the_whole_run() {
    let project = fixture("retry-project");
    let state = tempfile::tempdir().expect("tempdir");
    let whole = run_fixture(project.path(), &state.path().join("whole"), &[]);
    assert_eq!(whole.code(), 1, "{}", whole.describe());
    let expected = outcomes(&whole);
    assert!(expected.len() >= 20, "{expected:?}");

    let mut union: BTreeMap<String, (String, u64)> = BTreeMap::new();
    let mut plans = Vec::new();
    let mut shares = Vec::new();
    for k in 1..=3 {
        let share = run_fixture(
            project.path(),
            &state.path().join(format!("share-{k}")),
            &["--partition", &format!("{k}/3")],
        );
        assert!([0, 1].contains(&share.code()), "{}", share.describe());
        let manifest = share.manifest();
        assert_eq!(manifest["partition"]["index"], k, "{manifest}");
        assert_eq!(manifest["partition"]["total"], 3, "{manifest}");
        plans.push(manifest["partition"]["plan"].clone());
        let records = outcomes(&share);
        assert!(!records.is_empty(), "share {k} ran nothing: {}", share.describe());
        for (key, value) in records {
            assert!(union.insert(key.clone(), value).is_none(), "{key} ran in two shares");
        }
        shares.push(share);
    }
    assert!(
        plans.iter().all(|plan| plan == &plans[0] && plan.is_string()),
        "{plans:?}"
    );
    assert_eq!(union, expected, "the shares together are the whole run");

    // Merged, the shares are the whole run again, failures and all.
    let dirs: Vec<_> = shares.iter().map(RunOutput::run_dir).collect();
    let merged = Qaagent::new(project.path()).args(["merge"]).args(&dirs).run();
    assert_eq!(merged.code(), 1, "a test failed: {}", merged.describe());
    assert_eq!(outcomes(&merged), expected, "{}", merged.describe());
    let counts = &merged.manifest()["counts"];
    assert_eq!(counts, &whole.manifest()["counts"], "{}", merged.describe());
    assert_eq!(merged.manifest()["suite_order"], whole.manifest()["suite_order"]);

    // Two of the three are not the whole run.
    let partial = Qaagent::new(project.path()).args(["merge"]).args(&dirs[..2]).run();
    assert_eq!(partial.code(), 2, "{}", partial.describe());
    assert!(partial.stderr().contains("shard 3/3 missing"), "{}", partial.describe());
}

#[test]
fn retries_on_a_share_rerun_only_its_own_failed_tests() {
    let project = fixture("retry-project");
    let state = tempfile::tempdir().expect("tempdir");
    let mut ran_somewhere: BTreeMap<String, usize> = BTreeMap::new();
    for k in 1..=2 {
        let dir = state.path().join(format!("share-{k}"));
        let share = run_fixture(
            project.path(),
            &dir,
            &["--partition", &format!("{k}/2"), "--retries", "2"],
        );
        assert!([0, 1].contains(&share.code()), "{}", share.describe());
        let records = share.records();
        for suite in ["unit", "behave", "e2e"] {
            let mine: Vec<&Value> = records.iter().filter(|r| r["suite_name"] == suite).collect();
            let ran = executions(&dir, suite);
            // Every execution is of a test of this share: attempts add up to the executions.
            let attempts: u64 = mine
                .iter()
                .filter(|r| r["status"] != "skipped")
                .map(|r| r["metadata"]["attempts"].as_u64().unwrap_or(1))
                .sum();
            assert_eq!(
                attempts as usize,
                ran.len(),
                "share {k} suite {suite}: {ran:?} vs {mine:?}"
            );
            for key in ran {
                *ran_somewhere.entry(format!("{suite}:{key}")).or_default() += 1;
            }
        }
    }
    // Flaky tests ran twice (fail, then pass) in their share only, always-failing ones three times.
    let twice = ran_somewhere.values().filter(|&&n| n == 2).count();
    let thrice = ran_somewhere.values().filter(|&&n| n == 3).count();
    assert_eq!((twice, thrice), (10, 4), "{ran_somewhere:?}");
}

#[test]
fn durations_from_stored_runs_balance_the_shares_and_are_recorded() {
    let project = fixture("retry-project");
    let state = tempfile::tempdir().expect("tempdir");
    let runs = tempfile::tempdir().expect("runs");
    let first = Qaagent::with_runs_dir(project.path(), runs.path())
        .args(["run-all", "--no-progress"])
        .env("RETRY_STATE_DIR", state.path())
        .run();
    assert_eq!(first.code(), 1, "{}", first.describe());
    let durations = state.path().join("durations.json");
    let written = Qaagent::with_runs_dir(project.path(), runs.path())
        .args(["runs", "durations", "-o"])
        .args([durations.as_os_str()])
        .run();
    assert_eq!(written.code(), 0, "{}", written.describe());
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&durations).expect("durations")).expect("json");
    let unit_tests = file["suites"]["unit"]["tests"].as_object().expect("unit tests");
    assert!(unit_tests.keys().any(|k| k.ends_with("::test_passes")), "{file}");

    let share = Qaagent::new(project.path())
        .args(["run-all", "--no-progress", "--partition", "2/2", "--durations"])
        .args([durations.as_os_str()])
        .env("RETRY_STATE_DIR", state.path().join("share"))
        .run();
    assert!([0, 1].contains(&share.code()), "{}", share.describe());
    let partition = &share.manifest()["partition"];
    assert!(
        partition["durations"].as_str().is_some_and(|h| h.len() == 16),
        "{partition}"
    );

    let broken = state.path().join("broken.json");
    std::fs::write(&broken, "{\"suites\": 3}").expect("write");
    let refused = Qaagent::new(project.path())
        .args(["run-all", "--partition", "1/2", "--durations"])
        .args([broken.as_os_str()])
        .run();
    assert_eq!(refused.code(), 2, "{}", refused.describe());
    assert!(
        refused.stderr().contains("not a qaagent durations file"),
        "{}",
        refused.describe()
    );
}

#[test]
fn bad_partitions_are_usage_errors() {
    let project = fixture("retry-project");
    for bad in ["0/3", "4/3", "two/3", "3"] {
        let run = Qaagent::new(project.path()).args(["run-all", "--partition", bad]).run();
        assert_eq!(run.code(), 2, "{bad}: {}", run.describe());
        assert!(run.stderr().contains("K/N"), "{bad}: {}", run.describe());
    }
    let auto = Qaagent::new(project.path())
        .args(["run-all", "--partition", "auto"])
        .env("CI_NODE_INDEX", "")
        .run();
    assert_eq!(auto.code(), 2, "{}", auto.describe());
}

/// A command suite with a `list` template (cargo-nextest here) is spread
/// test by test: the two shares split its tests, ignored one included, and
/// together are the whole suite.
#[test]
fn a_command_suite_with_a_list_template_is_split_by_test() {
    let project = fixture("command-project");
    let whole = Qaagent::new(project.path())
        .args(["run-all", "--no-progress", "--suite", "nextest-rerun"])
        .run();
    assert_eq!(whole.code(), 1, "{}", whole.describe());
    let expected = outcomes(&whole);
    assert!(expected.len() >= 4, "{expected:?}");
    let mut union = BTreeMap::new();
    let mut sizes = Vec::new();
    for k in 1..=2 {
        let share = Qaagent::new(project.path())
            .args(["run-all", "--no-progress", "--suite", "nextest-rerun", "--partition"])
            .args([format!("{k}/2")])
            .run();
        let records = outcomes(&share);
        sizes.push(records.len());
        for (key, value) in records {
            assert!(union.insert(key.clone(), value).is_none(), "{key} in two shares");
        }
    }
    assert!(
        sizes.iter().all(|&n| n > 0 && n < expected.len()),
        "split by test: {sizes:?}"
    );
    assert_eq!(union, expected);
}

/// With more machines than tests some shares are empty: they pass (the
/// merge judges the whole run), so a CI matrix job does not fail for them.
#[test]
fn an_empty_share_passes_and_the_merge_judges_the_run() {
    let project = qaagent_tests::project_with(
        "one-test",
        &[
            (
                ".qaagent.toml",
                "[project]\nname = \"one-test\"\n\n[tests.unit]\npath = \"tests\"\n",
            ),
            ("tests/test_only.py", "def test_only():\n    assert 1 == 2\n"),
        ],
    );
    let mut dirs = Vec::new();
    let mut shares = Vec::new();
    for k in 1..=3 {
        let share = Qaagent::new(project.path())
            .args(["run-all", "--no-progress", "--partition"])
            .args([format!("{k}/3")])
            .run();
        let ran = share.records().len();
        let expected = if ran == 1 { 1 } else { 0 };
        assert_eq!(share.code(), expected, "{}", share.describe());
        if ran == 0 {
            assert!(share.stdout().contains("ran no tests"), "{}", share.describe());
        }
        dirs.push(share.run_dir());
        shares.push(share);
    }
    let ran: usize = shares.iter().map(|share| share.records().len()).sum();
    assert_eq!(ran, 1);
    let merged = Qaagent::new(project.path()).args(["merge"]).args(&dirs).run();
    assert_eq!(merged.code(), 1, "the one test failed: {}", merged.describe());
}

/// Shares of a run in which every test is skipped: the merge exits 4 as
/// run-all does, and stores the merged run failed, so `runs show` and its
/// JUnit report say so too. Before, merge exited 4 but stored the run
/// `passed`, with a green JUnit report (a hostile try, 13a F4).
#[test]
fn a_merge_in_which_no_test_ran_is_stored_failed() {
    let pytest_skips = "import pytest\n\n\n@pytest.mark.skip(reason=\"not today\")\ndef test_a():\n    pass\n\n\n\
                        @pytest.mark.skip(reason=\"not today\")\ndef test_b():\n    pass\n";
    let project = qaagent_tests::project_with(
        "all-skipped",
        &[
            (
                ".qaagent.toml",
                "[project]\nname = \"all-skipped\"\n\n[tests.unit]\npath = \"tests\"\n",
            ),
            ("tests/test_skips.py", pytest_skips),
        ],
    );
    // Kept: each share's runs root goes with it.
    let shares: Vec<RunOutput> = (1..=2)
        .map(|k| {
            let share = Qaagent::new(project.path())
                .args(["run-all", "--no-progress", "--partition"])
                .args([format!("{k}/2")])
                .run();
            assert_eq!(share.code(), 0, "the merge judges: {}", share.describe());
            share
        })
        .collect();
    let dirs: Vec<_> = shares.iter().map(RunOutput::run_dir).collect();
    let junit = project.path().join("merged.xml");
    let merged = Qaagent::new(project.path())
        .args(["merge", "--junit"])
        .args([&junit])
        .args(&dirs)
        .run();
    assert_eq!(merged.code(), 4, "{}", merged.describe());
    assert!(merged.stdout().contains("status: failed"), "{}", merged.describe());
    let run_dir = merged.run_dir();
    let manifest = qaagent_tests::read_json(&run_dir.join("manifest.json"));
    assert_eq!(manifest["status"], "failed", "{manifest}");
    let run_id = manifest["run_id"].as_str().expect("run id").to_string();
    let runs_root = run_dir.parent().expect("runs root");
    let shown = Qaagent::with_runs_dir(project.path(), runs_root)
        .args(["runs", "show", &run_id])
        .run();
    assert_eq!(shown.code(), 1, "{}", shown.describe());
    let report = qaagent_tests::read_text(&junit);
    assert!(report.contains("errors=\"1\""), "an errored case says why: {report}");
}

/// A share whose tool crashes once is retried with the share's own tests,
/// and the shares then merge. Before, the retry ran every share's tests
/// ("the whole suite"), the share stored the other share's tests too, and
/// `merge` refused the two genuine shares as one given twice (a hostile
/// try, 14 N6).
#[test]
fn a_crashed_share_is_retried_with_its_own_tests_and_merges() {
    let tool = "out=$1; shift\n[ $# -gt 0 ] || set -- t1 t2 t3 t4\necho \"$*\" >> calls.log\n\
                body=''; for t in \"$@\"; do body=\"$body<testcase classname=\\\"c\\\" name=\\\"$t\\\"/>\"; done\n\
                printf '<testsuite name=\"s\">%s</testsuite>' \"$body\" > \"$out\"\n\
                if [ ! -f crashed ] && [ \"$SHARE\" = 1 ]; then touch crashed; exit 3; fi\n";
    let config =
        "[project]\nname = \"rshare\"\n\n[run]\nretry_count = 1\n\n[tests.api]\nrunner = \"command\"\npath = \".\"\n\
                  command = [\"sh\", \"tool.sh\", \"{junit}\"]\nrerun = [\"{selectors}\"]\n\
                  list = [\"sh\", \"-c\", \"echo t1; echo t2; echo t3; echo t4\"]\n";
    let project = qaagent_tests::project_with("crashed-share", &[(".qaagent.toml", config), ("tool.sh", tool)]);
    let shares: Vec<RunOutput> = (1..=2)
        .map(|k| {
            let share = Qaagent::new(project.path())
                .env("SHARE", k.to_string())
                .args(["run-all", "--no-progress", "--partition"])
                .args([format!("{k}/2")])
                .run();
            assert_eq!(share.code(), 0, "share {k}: {}", share.describe());
            assert_eq!(share.records().len(), 2, "share {k}: {}", share.describe());
            share
        })
        .collect();
    let calls = std::fs::read_to_string(project.path().join("calls.log")).expect("calls");
    let calls: Vec<&str> = calls.lines().collect();
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert_eq!(calls[0], calls[1], "the retry ran the share's tests: {calls:?}");
    let dirs: Vec<_> = shares.iter().map(RunOutput::run_dir).collect();
    let merged = Qaagent::new(project.path()).args(["merge"]).args(&dirs).run();
    assert_eq!(merged.code(), 0, "{}", merged.describe());
}
