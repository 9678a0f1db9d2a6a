//! `qaagent merge` refuses shares that cannot be one run's, through the real
//! binary on real pytest shares (`run-all --partition K/3`): a share given
//! twice under another index (its run id unchanged, or changed too), and a
//! share whose manifest and records disagree. Each of these merged to a
//! verdict before: a relabelled copy of a passing share stood in for the
//! share holding the failing test, and merged as `passed`.

use std::path::{Path, PathBuf};

use qaagent_tests::{project_with, read_json, read_jsonl, Qaagent, RunOutput};
use serde_json::Value;

/// A 9-test pytest project: test_1 … test_8 pass, test_bad fails.
fn project() -> tempfile::TempDir {
    let mut tests: String = (1..=8).map(|i| format!("def test_{i}():\n    pass\n")).collect();
    tests.push_str("def test_bad():\n    assert 0, 'bad'\n");
    project_with(
        "merge-tampered",
        &[
            (
                ".qaagent.toml",
                "[project]\nname = \"tampered\"\n\n[tests.unit]\npath = \"tests\"\n",
            ),
            ("tests/test_a.py", &tests),
        ],
    )
}

/// Shares 1/3, 2/3 and 3/3 of `project`, in index order (their runs roots kept alive).
fn shares(project: &Path) -> Vec<(RunOutput, PathBuf)> {
    let shares: Vec<(RunOutput, PathBuf)> = (1..=3)
        .map(|k| {
            let share = Qaagent::new(project)
                .args(["run-all", "--no-progress", "--partition"])
                .args([format!("{k}/3")])
                .run();
            assert!(matches!(share.code(), 0 | 1), "{}", share.describe());
            let dir = share.run_dir();
            (share, dir)
        })
        .collect();
    let tests: usize = shares.iter().map(|(share, _)| share.records().len()).sum();
    assert_eq!(tests, 9, "the shares are the whole run");
    shares
}

/// A copy of run directory `dir` at `to`, its manifest changed by `edit`.
fn copy_run(dir: &Path, to: &Path, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(dir)
        .arg(to)
        .status()
        .expect("cp");
    assert!(status.success());
    let path = to.join("manifest.json");
    let mut manifest = read_json(&path);
    edit(&mut manifest);
    std::fs::write(&path, manifest.to_string()).expect("manifest");
    to.to_path_buf()
}

fn merge(project: &Path, dirs: &[&PathBuf]) -> RunOutput {
    Qaagent::new(project).args(["merge"]).args(dirs).run()
}

/// The index of a share holding `test_bad`, and of one holding tests but not it.
fn failing_and_passing(shares: &[(RunOutput, PathBuf)]) -> (usize, usize) {
    let has_bad = |share: &RunOutput| share.records().iter().any(|r| r["name"] == "test_bad");
    let bad = shares
        .iter()
        .position(|(share, _)| has_bad(share))
        .expect("test_bad ran");
    let good = (shares.iter())
        .position(|(share, _)| !has_bad(share) && !share.records().is_empty())
        .expect("a share of passing tests");
    (bad, good)
}

#[test]
fn a_share_given_again_as_another_share_is_refused() {
    let project = project();
    let shares = shares(project.path());
    let (bad, good) = failing_and_passing(&shares);
    let other = 3 - bad - good;
    let copies = tempfile::tempdir().expect("tempdir");
    // The passing share, relabelled as the failing one: that share never ran.
    let relabel = |manifest: &mut Value| manifest["partition"]["index"] = Value::from(bad as u64 + 1);
    let same_id = copy_run(&shares[good].1, &copies.path().join("same-id"), relabel);
    let out = merge(project.path(), &[&shares[other].1, &shares[good].1, &same_id]);
    assert_eq!(out.code(), 2, "{}", out.describe());
    assert!(out.stderr().contains("are the same run"), "{}", out.describe());

    let new_id = copy_run(&shares[good].1, &copies.path().join("new-id"), |manifest| {
        relabel(manifest);
        manifest["run_id"] = Value::from("20260101_000000Z");
    });
    let out = merge(project.path(), &[&shares[other].1, &shares[good].1, &new_id]);
    assert_eq!(out.code(), 2, "{}", out.describe());
    let told = format!("is in shard {} and in shard {}", good + 1, bad + 1);
    assert!(out.stderr().contains(&told), "{told}: {}", out.describe());

    let whole: Vec<&PathBuf> = shares.iter().map(|(_, dir)| dir).collect();
    let out = merge(project.path(), &whole);
    assert_eq!(
        out.code(),
        1,
        "the real shares merge, test_bad failing: {}",
        out.describe()
    );
}

#[test]
fn a_share_whose_manifest_and_records_disagree_is_refused() {
    let project = project();
    let shares = shares(project.path());
    let (bad, _) = failing_and_passing(&shares);
    let copies = tempfile::tempdir().expect("tempdir");
    let others: Vec<&PathBuf> = (shares.iter().enumerate())
        .filter(|(at, _)| *at != bad)
        .map(|(_, (_, dir))| dir)
        .collect();

    // Its records say test_bad passed; its manifest still counts the failure.
    let records_edited = copy_run(&shares[bad].1, &copies.path().join("records"), |_| {});
    let path = records_edited.join("evidence/tests.jsonl");
    let lines: Vec<String> = (read_jsonl(&path).into_iter())
        .map(|mut record| {
            if record["status"] == "failed" {
                record["status"] = Value::from("passed");
            }
            record.to_string()
        })
        .collect();
    std::fs::write(&path, lines.join("\n") + "\n").expect("records");
    let out = merge(project.path(), &[others[0], others[1], &records_edited]);
    assert_eq!(out.code(), 2, "{}", out.describe());
    assert!(
        out.stderr()
            .contains(&format!("shard {}/3: its manifest and its records disagree", bad + 1)),
        "{}",
        out.describe()
    );

    // Its manifest says unit passed with no failure; its records hold test_bad's.
    let manifest_edited = copy_run(&shares[bad].1, &copies.path().join("manifest"), |manifest| {
        let suite = &mut manifest["suites"][0];
        suite["outcome"] = Value::from("passed");
        suite["passed"] = Value::from(suite["passed"].as_u64().unwrap_or(0) + 1);
        suite["failed"] = Value::from(0);
    });
    let out = merge(project.path(), &[others[0], others[1], &manifest_edited]);
    assert_eq!(out.code(), 2, "{}", out.describe());
    assert!(
        out.stderr().contains("suite unit: the manifest counts"),
        "{}",
        out.describe()
    );
}
