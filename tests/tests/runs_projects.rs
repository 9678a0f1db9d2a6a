//! `runs list`, `runs show`, `latest` and `runs prune` with the runs of two
//! projects in one runs dir, recorded by real pytest runs: each project sees
//! its own runs by default, `--all` every run, and with no project config
//! found every run is seen and `latest` is the newest in the runs dir.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use qaagent_tests::{project_with, squash, Qaagent, RunOutput};

fn project(name: &str, test: &str) -> tempfile::TempDir {
    let config = format!("[project]\nname = \"{name}\"\n\n[tests.unit]\npath = \"tests\"\n");
    project_with(name, &[(".qaagent.toml", &config), ("tests/test_it.py", test)])
}

const FAILS: &str = "def test_alpha_fails():\n    assert 1 == 2\n";
const PASSES: &str = "def test_beta_passes():\n    pass\n";

fn qaagent(dir: &Path, runs: &Path, args: &[&str]) -> RunOutput {
    Qaagent::with_runs_dir(dir, runs).args(args).run()
}

/// The run ids in the runs dir, oldest first.
fn run_ids(runs: &Path) -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(runs)
        .expect("runs dir")
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("20"))
        .collect();
    ids.sort();
    ids
}

/// The run ids listed by `runs list`, newest first.
fn listed(output: &RunOutput) -> Vec<String> {
    output
        .stdout()
        .lines()
        .filter(|line| line.starts_with("20"))
        .map(|line| line.split(' ').next().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn each_project_sees_its_own_runs_and_latest() {
    let alpha = project("alpha", FAILS);
    let beta = project("beta", PASSES);
    let runs = tempfile::tempdir().expect("runs dir");
    assert_eq!(qaagent(alpha.path(), runs.path(), &["run-all"]).code(), 1);
    assert_eq!(qaagent(beta.path(), runs.path(), &["run-all"]).code(), 0);
    let ids = run_ids(runs.path());
    let (alpha_run, beta_run) = (ids[0].clone(), ids[1].clone());

    let list = qaagent(alpha.path(), runs.path(), &["runs", "list"]);
    assert_eq!(list.code(), 0, "{}", list.describe());
    assert_eq!(listed(&list), [alpha_run.as_str()], "{}", list.describe());
    let stdout = squash(&list.stdout());
    assert!(stdout.contains("RUN PROJECT CREATED"), "{stdout}");
    assert!(stdout.contains(&format!("{alpha_run} alpha ")), "{stdout}");
    assert!(
        stdout.contains("1 other run(s) in the runs dir: --all shows every project's"),
        "{stdout}"
    );
    let all = qaagent(alpha.path(), runs.path(), &["runs", "list", "--all"]);
    assert_eq!(
        listed(&all),
        [beta_run.clone(), alpha_run.clone()],
        "{}",
        all.describe()
    );
    // -C names the project as the current directory does.
    let elsewhere = tempfile::tempdir().expect("no project here");
    let by_c = qaagent(
        elsewhere.path(),
        runs.path(),
        &["-C", &alpha.path().to_string_lossy(), "runs", "list"],
    );
    assert_eq!(listed(&by_c), [alpha_run.as_str()], "{}", by_c.describe());

    // `runs show` with no id, and `latest`, are this project's newest run.
    for args in [&["runs", "show"][..], &["runs", "show", "latest"]] {
        let show = qaagent(alpha.path(), runs.path(), args);
        assert_eq!(show.code(), 0, "{}", show.describe());
        assert!(show.stdout().contains(&alpha_run), "{args:?}: {}", show.describe());
        assert!(!show.stdout().contains(&beta_run), "{args:?}: {}", show.describe());
    }
    // So is --rerun-failed's default: alpha's failure is run again.
    let rerun = qaagent(alpha.path(), runs.path(), &["run-all", "--rerun-failed"]);
    assert_eq!(rerun.code(), 1, "{}", rerun.describe());
    assert!(
        !rerun.stderr().contains("tested project `beta`"),
        "{}",
        rerun.describe()
    );
    assert!(
        squash(&rerun.stdout()).contains("test_alpha_fails"),
        "{}",
        rerun.describe()
    );

    // No project config: every run, and `latest` is the newest in the runs dir.
    let none = qaagent(elsewhere.path(), runs.path(), &["runs", "list"]);
    assert_eq!(listed(&none).len(), 3, "{}", none.describe());
    let newest = run_ids(runs.path()).pop().expect("runs");
    let show = qaagent(elsewhere.path(), runs.path(), &["runs", "show"]);
    assert!(show.stdout().contains(&newest), "{}", show.describe());

    // A project with no runs yet: a usage error with a hint.
    let gamma = project("gamma", PASSES);
    let show = qaagent(gamma.path(), runs.path(), &["runs", "show"]);
    assert_eq!(show.code(), 2, "{}", show.describe());
    assert!(show.stderr().contains("runs list --all"), "{}", show.describe());
}

/// Copies the run `id` under `runs` to a run dir named `new_id`.
fn copy_run(runs: &Path, id: &str, new_id: &str) -> PathBuf {
    let to = runs.join(new_id);
    let status = Command::new("cp")
        .arg("-r")
        .arg(runs.join(id))
        .arg(&to)
        .status()
        .expect("cp");
    assert!(status.success());
    // A run's manifest names its own id: the copy is run `new_id`.
    let path = to.join("manifest.json");
    let mut manifest = qaagent_tests::read_json(&path);
    manifest["run_id"] = new_id.into();
    std::fs::write(&path, manifest.to_string()).expect("manifest");
    to
}

/// A process holding `<dir>/writer.lock` as a live writer does, until killed.
fn hold_writer_lock(dir: &Path) -> Child {
    let lock = dir.join("writer.lock");
    let mut child = Command::new("python3")
        .args([
            "-c",
            "import fcntl, sys, time\nf = open(sys.argv[1], 'a')\nfcntl.flock(f, fcntl.LOCK_EX)\nprint('locked', flush=True)\ntime.sleep(120)",
        ])
        .arg(&lock)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    assert_eq!(line.trim(), "locked");
    child
}

#[test]
fn prune_removes_old_runs_of_the_project_only_and_never_a_live_one() {
    let alpha = project("alpha", PASSES);
    let beta = project("beta", PASSES);
    let runs = tempfile::tempdir().expect("runs dir");
    for _ in 0..3 {
        assert_eq!(qaagent(alpha.path(), runs.path(), &["run-all"]).code(), 0);
    }
    assert_eq!(qaagent(beta.path(), runs.path(), &["run-all"]).code(), 0);
    let ids = run_ids(runs.path());
    let beta_run = ids[3].clone();

    let dry = qaagent(
        alpha.path(),
        runs.path(),
        &["runs", "prune", "--keep", "1", "--dry-run"],
    );
    assert_eq!(dry.code(), 0, "{}", dry.describe());
    assert!(
        dry.stdout().contains(&format!("would remove {} (alpha)", ids[0])),
        "{}",
        dry.describe()
    );
    assert!(
        dry.stdout().contains("would remove 2 of 3 run(s)"),
        "{}",
        dry.describe()
    );
    assert_eq!(run_ids(runs.path()), ids, "a dry run removes nothing");

    // What a prune that failed half way left (a file it could not remove):
    // the next prune removes it, and says so. Before, nothing did.
    let leftover = runs.path().join(format!(".pruning-{}", ids[0]));
    std::fs::create_dir_all(leftover.join("artifacts")).expect("leftover");
    let prune = qaagent(alpha.path(), runs.path(), &["runs", "prune", "--keep", "1"]);
    assert_eq!(prune.code(), 0, "{}", prune.describe());
    assert!(!leftover.exists(), "{}", prune.describe());
    assert!(
        prune.stdout().contains("left by an earlier prune that failed"),
        "{}",
        prune.describe()
    );
    assert!(
        prune.stdout().contains(&format!("removed {} (alpha)", ids[0])),
        "{}",
        prune.describe()
    );
    assert!(
        prune.stdout().contains(&format!("removed {} (alpha)", ids[1])),
        "{}",
        prune.describe()
    );
    assert_eq!(
        run_ids(runs.path()),
        [ids[2].clone(), beta_run.clone()],
        "beta's run is not alpha's to prune"
    );

    // Old runs (by their ids), one of them still being written, one a link out of the runs dir.
    let old = copy_run(runs.path(), &ids[2], "20200101_000000Z");
    let live = copy_run(runs.path(), &ids[2], "20200101_000001Z");
    let outside = tempfile::tempdir().expect("outside");
    let precious = outside.path().join("20200101_000002Z");
    std::fs::create_dir(&precious).expect("mkdir");
    std::fs::copy(old.join("manifest.json"), precious.join("manifest.json")).expect("copy");
    std::os::unix::fs::symlink(&precious, runs.path().join("20200101_000002Z")).expect("symlink");
    let mut writer = hold_writer_lock(&live);
    let prune = qaagent(
        alpha.path(),
        runs.path(),
        &["runs", "prune", "--all", "--older-than", "30"],
    );
    writer.kill().expect("kill");
    writer.wait().expect("wait");
    assert_eq!(prune.code(), 0, "{}", prune.describe());
    let stdout = prune.stdout();
    assert!(stdout.contains("removed 20200101_000000Z (alpha)"), "{stdout}");
    assert!(
        stdout.contains("kept 20200101_000001Z (alpha): still being written"),
        "{stdout}"
    );
    assert!(
        stdout.contains("kept 20200101_000002Z (-): a symbolic link"),
        "{stdout}"
    );
    assert!(!old.exists());
    assert!(live.join("manifest.json").is_file());
    assert!(
        precious.join("manifest.json").is_file(),
        "nothing outside the runs dir is touched"
    );
    assert!(
        runs.path().join(&ids[2]).is_dir() && runs.path().join(&beta_run).is_dir(),
        "recent runs stay"
    );
}
