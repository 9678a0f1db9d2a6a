//! `qaagent merge` and portable runs (`runs export`, bundles given to
//! `merge`, `runs show` and `--rerun-failed`) through the real binary, on
//! runs of real pytest.
//!
//! Until `run-all --partition K/N` lands, the shares are whole runs of one
//! suite each whose manifests are then given the `partition` key
//! `--partition` writes ({index, total, plan}): what merge reads is the
//! same. The end-to-end test through `--partition` belongs with it.

use std::path::{Path, PathBuf};
use std::process::Command;

use qaagent_tests::{fixture, project_with, read_json, read_jsonl, Qaagent, RunOutput};
use serde_json::{json, Value};

const PLAN: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";

/// `run-all --suite SUITE` in the pytest fixture, recorded as share
/// `index/total` of PLAN; returns its run directory (and keeps its runs root alive).
fn share(project: &Path, suite: &str, index: u32, total: u32) -> (RunOutput, PathBuf) {
    let run = Qaagent::new(project)
        .args(["run-all", "--no-progress", "--suite", suite])
        .run();
    assert!(matches!(run.code(), 0 | 1), "{}", run.describe());
    let dir = run.run_dir();
    let path = dir.join("manifest.json");
    let mut manifest = read_json(&path);
    manifest["partition"] = json!({"index": index, "total": total, "plan": PLAN});
    std::fs::write(&path, manifest.to_string()).expect("manifest");
    (run, dir)
}

fn qaagent(dir: &Path, args: &[&dyn AsRef<std::ffi::OsStr>]) -> RunOutput {
    Qaagent::new(dir).args(args.iter().map(|arg| arg.as_ref())).run()
}

/// The merged run printed as `evidence: DIR`.
fn merged_dir(out: &RunOutput) -> PathBuf {
    let line = (out.stdout().lines()).find_map(|line| line.strip_prefix("evidence: ").map(PathBuf::from));
    line.unwrap_or_else(|| panic!("no evidence line\n{}", out.describe()))
}

/// (selector, status) of every record, sorted.
fn statuses(records: &[Value]) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = records
        .iter()
        .map(|r| (r["metadata"]["selector"].to_string(), r["status"].to_string()))
        .collect();
    all.sort();
    all
}

#[test]
fn shares_merge_to_the_union_of_their_records_and_exit_by_the_merged_verdict() {
    let project = fixture("pytest-project");
    let (_a, passing) = share(project.path(), "passing", 1, 2);
    let (_b, failing) = share(project.path(), "failing", 2, 2);
    let merged_runs = tempfile::tempdir().expect("runs");
    let junit = merged_runs.path().join("junit.xml");
    let out = qaagent(
        project.path(),
        &[
            &"merge",
            &passing,
            &failing,
            &"--runs-dir",
            &merged_runs.path(),
            &"--junit",
            &junit,
        ],
    );
    assert_eq!(out.code(), 1, "a test failed: {}", out.describe());
    let dir = merged_dir(&out);
    assert!(dir.starts_with(merged_runs.path()), "{}", dir.display());
    let manifest = read_json(&dir.join("manifest.json"));
    let a = read_json(&passing.join("manifest.json"));
    let b = read_json(&failing.join("manifest.json"));
    for key in ["tests", "tests_passed", "tests_failed", "tests_skipped", "test_suites"] {
        let sum = a["counts"][key].as_u64().unwrap_or(0) + b["counts"][key].as_u64().unwrap_or(0);
        assert_eq!(manifest["counts"][key], sum, "counts.{key}");
    }
    assert_eq!(manifest["status"], "failed");
    assert_eq!(manifest["suite_order"], json!(["passing", "failing"]));
    let mut expected = read_jsonl(&passing.join("evidence/tests.jsonl"));
    expected.extend(read_jsonl(&failing.join("evidence/tests.jsonl")));
    let records = read_jsonl(&dir.join("evidence/tests.jsonl"));
    assert_eq!(statuses(&records), statuses(&expected), "every record, with its status");
    assert!(records.iter().any(|r| r["status"] == "failed"));
    let xml = std::fs::read_to_string(&junit).expect("junit written");
    assert!(xml.contains("<failure"), "{xml}");
    // The page merge builds from the records as it writes them is the one
    // the stored run gives, diagnoses included.
    let page = std::fs::read_to_string(dir.join("report.html")).expect("merge wrote report.html");
    assert!(page.contains("\"diagnosis\":0"), "a failure points at its diagnosis");
    let id = dir.file_name().expect("run id");
    let again = qaagent(
        project.path(),
        &[&"runs", &"show", &id, &"--html", &"--runs-dir", &merged_runs.path()],
    );
    assert_eq!(again.code(), 0, "{}", again.describe());
    assert!(
        std::fs::read_to_string(dir.join("report.html")).expect("report.html") == page,
        "runs show --html wrote another page than merge did"
    );

    let missing = qaagent(
        project.path(),
        &[&"merge", &passing, &"--runs-dir", &merged_runs.path()],
    );
    assert_eq!(missing.code(), 2, "{}", missing.describe());
    assert!(missing.stderr().contains("shard 2/2 missing"), "{}", missing.describe());
    assert!(
        missing.stderr().contains("--allow-partial"),
        "the hint says how to merge anyway"
    );

    let twice = qaagent(project.path(), &[&"merge", &passing, &failing, &failing]);
    assert_eq!(twice.code(), 2, "{}", twice.describe());
    assert!(twice.stderr().contains("shard 2/2 given twice"), "{}", twice.describe());

    let partial = qaagent(
        project.path(),
        &[
            &"merge",
            &passing,
            &"--allow-partial",
            &"--runs-dir",
            &merged_runs.path(),
        ],
    );
    assert_eq!(
        partial.code(),
        1,
        "a partial merge never passes: {}",
        partial.describe()
    );
    assert!(
        partial.stderr().contains("partial merge: shard 2/2 missing"),
        "{}",
        partial.describe()
    );
    assert_eq!(
        read_json(&merged_dir(&partial).join("manifest.json"))["status"],
        "incomplete"
    );
}

#[test]
fn passing_shares_merge_to_exit_0_and_an_unfinished_one_to_exit_2() {
    let project = fixture("pytest-project");
    let (_a, one) = share(project.path(), "passing", 1, 2);
    // Another suite: shares are disjoint, and a test in two is refused.
    let (_b, two) = share(project.path(), "chatty_a", 2, 2);
    let merged = qaagent(project.path(), &[&"merge", &one, &two]);
    assert_eq!(merged.code(), 0, "{}", merged.describe());
    assert!(merged.stdout().contains("status: passed"), "{}", merged.describe());

    // Shares of two commits: a test that failed on one and passed on the
    // other would merge as passed (hostile try).
    let path = two.join("manifest.json");
    let pristine = read_json(&path);
    let commit = |commit: &str, dirty: bool| json!({ "commit": commit, "dirty": dirty });
    for (first, second) in [
        (json!({}), commit("1421821aa", false)),
        (commit("75efe6d6f", false), commit("1421821aa", false)),
        (commit("1421821aa", true), commit("1421821aa", false)),
    ] {
        for (dir, git) in [(&one, first), (&two, second)] {
            let manifest_path = dir.join("manifest.json");
            let mut manifest = read_json(&manifest_path);
            manifest["target"]["git"] = git;
            std::fs::write(&manifest_path, manifest.to_string()).expect("manifest");
        }
        let mixed = qaagent(project.path(), &[&"merge", &"--allow-partial", &one, &two]);
        assert_eq!(mixed.code(), 2, "{}", mixed.describe());
        assert!(
            mixed.stderr().contains("1421821aa") && mixed.stderr().contains("must run the same commit"),
            "{}",
            mixed.describe()
        );
    }
    std::fs::write(&path, pristine.to_string()).expect("manifest");
    let mut manifest = read_json(&one.join("manifest.json"));
    manifest["target"]["git"] = json!({ "commit": "1421821aa" });
    std::fs::write(one.join("manifest.json"), manifest.to_string()).expect("manifest");
    let mut manifest = pristine;
    manifest["target"]["git"] = json!({ "commit": "1421821aa" });
    std::fs::write(&path, manifest.to_string()).expect("manifest");
    let same = qaagent(project.path(), &[&"merge", &one, &two]);
    assert_eq!(same.code(), 0, "one commit merges: {}", same.describe());

    let mut manifest = read_json(&path);
    manifest["status"] = json!("interrupted");
    std::fs::write(&path, manifest.to_string()).expect("manifest");
    let unfinished = qaagent(project.path(), &[&"merge", &one, &two]);
    assert_eq!(unfinished.code(), 2, "{}", unfinished.describe());
    assert!(
        unfinished.stderr().contains("shard 2/2") && unfinished.stderr().contains("did not finish"),
        "{}",
        unfinished.describe()
    );
}

#[test]
fn bundles_carry_runs_to_merge_runs_show_and_rerun_failed() {
    let project = fixture("pytest-project");
    let (a, passing) = share(project.path(), "passing", 1, 2);
    let (b, failing) = share(project.path(), "failing", 2, 2);
    let bundles = tempfile::tempdir().expect("bundles");
    let (one, two) = (bundles.path().join("one.tar.gz"), bundles.path().join("two.tgz"));
    let id = |dir: &Path| {
        dir.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let export = qaagent(
        project.path(),
        &[
            &"runs",
            &"export",
            &id(&passing),
            &"-o",
            &one,
            &"--runs-dir",
            &a.runs_dir.path(),
        ],
    );
    assert_eq!(export.code(), 0, "{}", export.describe());
    // A run directory is taken as well as an id.
    let export = qaagent(project.path(), &[&"runs", &"export", &failing, &"-o", &two]);
    assert_eq!(export.code(), 0, "{}", export.describe());
    drop((a, b));
    assert!(!passing.exists(), "the runs are gone: only the bundles are left");

    let shown = qaagent(project.path(), &[&"runs", &"show", &two, &"--json"]);
    assert_eq!(shown.code(), 0, "{}", shown.describe());
    let report: Value = serde_json::from_str(&shown.stdout()).expect("json");
    assert_eq!(report["status"], "failed");
    assert_eq!(report["failures"].as_array().map(Vec::len), Some(2), "{report}");

    let merged_runs = tempfile::tempdir().expect("runs");
    let merged = qaagent(
        project.path(),
        &[&"merge", &one, &two, &"--runs-dir", &merged_runs.path()],
    );
    assert_eq!(merged.code(), 1, "{}", merged.describe());
    let dir = merged_dir(&merged);
    let records = read_jsonl(&dir.join("evidence/tests.jsonl"));
    assert_eq!(records.iter().filter(|r| r["status"] == "failed").count(), 2);
    let junit_ref = records[0]["evidence_refs"][0].as_str().unwrap_or_default().to_string();
    assert!(junit_ref.starts_with("artifacts/shard-1/passing/"), "{junit_ref}");
    assert!(
        dir.join(&junit_ref).exists(),
        "{junit_ref} was copied out of the bundle"
    );

    // The merged run travels too, and its failures are re-run from the bundle.
    let whole = bundles.path().join("whole.tar.gz");
    let export = qaagent(
        project.path(),
        &[
            &"runs",
            &"export",
            &"latest",
            &"-o",
            &whole,
            &"--runs-dir",
            &merged_runs.path(),
        ],
    );
    assert_eq!(export.code(), 0, "{}", export.describe());
    let rerun = qaagent(
        project.path(),
        &[&"run-all", &"--no-progress", &"--rerun-failed", &whole],
    );
    assert_eq!(rerun.code(), 1, "they fail again: {}", rerun.describe());
    let rerun_records = rerun.records();
    assert_eq!(rerun_records.len(), 2, "only the failures: {rerun_records:?}");
    assert!(rerun_records.iter().all(|r| r["suite_name"] == "failing"));
}

/// `tar` as a hostile user would run it, in `dir`.
fn tar(dir: &Path, args: &[&str]) {
    let status = Command::new("tar").args(args).current_dir(dir).status().expect("tar");
    assert!(status.success(), "tar {args:?}");
}

#[test]
fn hostile_bundles_are_refused_and_nothing_escapes() {
    let work = tempfile::tempdir().expect("work");
    let tmp = tempfile::tempdir().expect("TMPDIR for qaagent");
    let inner = work.path().join("inner");
    let run = inner.join("20250101_000000Z");
    std::fs::create_dir_all(&run).expect("run");
    std::fs::write(run.join("manifest.json"), r#"{"status": "passed"}"#).expect("manifest");
    std::fs::write(work.path().join("outside.txt"), "x").expect("outside");
    // Unpacked as named, `../../outside.txt` would land beside the extraction dir, in TMPDIR.
    let climb = [
        "czf",
        "../climb.tar.gz",
        "-P",
        "20250101_000000Z/manifest.json",
        "20250101_000000Z/../../outside.txt",
    ];
    tar(&inner, &climb);
    std::os::unix::fs::symlink("/etc", run.join("artifacts")).expect("link");
    tar(&inner, &["czf", "../link.tar.gz", "20250101_000000Z"]);
    for (bundle, why) in [
        ("climb.tar.gz", "outside the run directory"),
        ("link.tar.gz", "only files and directories"),
    ] {
        let path = work.path().join(bundle);
        for command in [&["runs", "show"][..], &["merge"][..]] {
            let out = Qaagent::new(work.path())
                .args(command)
                .args([&path])
                .env("TMPDIR", tmp.path())
                .run();
            assert_ne!(out.code(), 0, "{}", out.describe());
            assert!(out.stderr().contains(why), "{command:?} {bundle}: {}", out.describe());
        }
    }
    let left: Vec<_> = std::fs::read_dir(tmp.path()).expect("tmp").collect();
    assert!(
        left.is_empty(),
        "nothing escaped, and the extraction dirs are removed: {left:?}"
    );
}

/// `merge --allow-partial` of share 1/2 alone, then `--rerun-failed
/// --allow-unfinished` of the merged run: the missing share may have held
/// any test of the suite, so the suite runs whole. Each test fails the first
/// time it runs: share 1's failures pass when run again, share 2's fail.
/// Before, only share 1's failures ran again, and the rerun exited 0.
#[test]
fn rerun_failed_of_a_partial_merge_runs_its_suites_whole() {
    let project = project_with(
        "partial-rerun",
        &[
            (
                ".qaagent.toml",
                "[project]\nname = \"partial\"\n\n[tests.unit]\nrunner = \"pytest\"\npath = \"tests\"\n",
            ),
            (
                "tests/test_first_time.py",
                "import os\n\nimport pytest\n\n\n@pytest.mark.parametrize('n', range(6))\n\
                 def test_fails_the_first_time(n):\n    marker = os.path.join(os.path.dirname(__file__), '.ran-%d' % n)\n    \
                 first = not os.path.exists(marker)\n    open(marker, 'w').close()\n    assert not first, 'fails the first time'\n",
            ),
        ],
    );
    let shares = tempfile::tempdir().expect("runs");
    let share = Qaagent::with_runs_dir(project.path(), shares.path())
        .args(["run-all", "--no-progress", "--partition", "1/2"])
        .run();
    assert_eq!(share.code(), 1, "{}", share.describe());
    let ran = share.records().len();
    assert!(ran > 0 && ran < 6, "share 1 ran {ran} of the 6 tests");
    let merged_runs = tempfile::tempdir().expect("runs");
    let merged = qaagent(
        project.path(),
        &[
            &"merge",
            &share.run_dir(),
            &"--allow-partial",
            &"--runs-dir",
            &merged_runs.path(),
        ],
    );
    assert_eq!(merged.code(), 1, "{}", merged.describe());
    let id = merged_dir(&merged).file_name().expect("run id").to_os_string();
    let rerun = Qaagent::with_runs_dir(project.path(), merged_runs.path())
        .args(["run-all", "--no-progress", "--allow-unfinished", "--rerun-failed"])
        .args([&id])
        .run();
    assert_eq!(rerun.code(), 1, "share 2's tests fail: {}", rerun.describe());
    assert!(
        rerun
            .describe()
            .contains("a share of that merged run is missing or did not finish"),
        "{}",
        rerun.describe()
    );
    let newest = rerun.run_dirs().pop().expect("the rerun");
    let records = read_jsonl(&newest.join("evidence/tests.jsonl"));
    assert_eq!(records.len(), 6, "the whole suite ran: {records:#?}");
}
