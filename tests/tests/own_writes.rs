//! qaagent writes only what is its own: a tool cannot make it write outside
//! the run through a link planted at a temporary's name, and `--out` never
//! destroys a file qaagent did not write, nor a stored run.

use std::path::Path;

use qaagent_tests::{project_with, read_text, Qaagent};

/// A project with a `command` suite per (name, script) pair, each running
/// its script with bash in the project dir (`{out}` and `{junit}` expanded
/// by qaagent).
fn project(suites: &[(&str, &str)]) -> tempfile::TempDir {
    let mut config = String::from("[project]\nname = \"writes\"\n");
    for (name, script) in suites {
        config.push_str(&format!(
            "\n[tests.{name}]\nrunner = \"command\"\npath = \".\"\ncommand = [\"bash\", \"-c\", '''{script}''']\n"
        ));
    }
    project_with("writes", &[(".qaagent.toml", &config)])
}

/// A project whose suite `a` fails a test and whose suite `b` runs `script`.
fn failing_then(script: &str) -> tempfile::TempDir {
    project(&[
        ("a", &format!("echo '{FAILING_REPORT}' > {{junit}}; exit 1")),
        ("b", script),
    ])
}

/// A project with one suite `c` running `script`.
fn one_suite(script: &str) -> tempfile::TempDir {
    project(&[("c", script)])
}

/// A report with one failing test, `c::t`.
const FAILING_REPORT: &str = r#"<testsuite name="s" tests="1" failures="1"><testcase classname="c" name="t"><failure message="boom"/></testcase></testsuite>"#;

/// A report with one passing test.
const PASSING_REPORT: &str = r#"<testsuite name="s" tests="1"><testcase classname="c" name="p"/></testsuite>"#;

#[test]
fn links_a_tool_planted_at_temporary_names_are_never_written_through() {
    let outside = tempfile::tempdir().expect("tempdir");
    let temporaries = [
        "RUN/.manifest.json.tmp",
        "RUN/evidence/.tests.jsonl.tmp",
        "RUN/evidence/.diagnostics.json.tmp",
        "RUN/.report.html.tmp",
        "PROJECT/.junit.xml.tmp",
    ];
    let mut plant = String::from("RUN=$(dirname $(dirname {out})); PROJECT=$PWD; ");
    for (i, temporary) in temporaries.iter().enumerate() {
        let victim = outside.path().join(format!("victim-{i}"));
        std::fs::write(&victim, "precious\n").expect("write victim");
        let temporary = temporary.replace("RUN", "$RUN").replace("PROJECT", "$PROJECT");
        plant.push_str(&format!("ln -s {} {temporary}; ", victim.display()));
    }
    plant.push_str(&format!("echo '{PASSING_REPORT}' > {{junit}}"));
    let project = failing_then(&plant);
    let run = Qaagent::new(project.path())
        .args(["run-all", "--no-progress", "--junit", "junit.xml"])
        .run();
    assert_eq!(run.code(), 1, "suite a failed: {}", run.describe());
    for (i, temporary) in temporaries.iter().enumerate() {
        let victim = outside.path().join(format!("victim-{i}"));
        assert_eq!(
            read_text(&victim),
            "precious\n",
            "written through the link at {temporary}: {}",
            run.describe()
        );
    }
    let junit = project.path().join("junit.xml");
    assert!(
        std::fs::symlink_metadata(&junit).expect("junit.xml").is_file(),
        "--junit is a file of its own, not the planted link"
    );
    assert!(read_text(&junit).contains("boom"), "{}", read_text(&junit));
    assert_eq!(run.manifest()["status"], "failed", "{}", run.manifest());
    let failed: Vec<_> = run.records().into_iter().filter(|r| r["status"] == "failed").collect();
    assert_eq!(failed.len(), 1, "the failure is recorded: {}", run.describe());
    let diagnostics = read_text(&run.run_dir().join("evidence/diagnostics.json"));
    assert!(diagnostics.contains("boom"), "{diagnostics}");
    assert!(read_text(&run.run_dir().join("report.html")).contains("boom"));
    assert!(
        run.stderr().contains("removing the link"),
        "each planted link is named: {}",
        run.describe()
    );
}

/// The `--out` a test passes, as an argument.
fn out_arg(out: &Path) -> [String; 2] {
    ["--out".to_string(), out.display().to_string()]
}

#[test]
fn out_never_deletes_a_users_file_nor_files_added_to_a_suite_dir() {
    let project = one_suite(&format!("echo '{PASSING_REPORT}' > {{junit}}"));
    let user = tempfile::tempdir().expect("tempdir");
    let notes = user.path().join("c");
    std::fs::write(&notes, "my notes\n").expect("write");
    let run = Qaagent::new(project.path())
        .args(["run-all", "--no-progress"])
        .args(out_arg(user.path()))
        .run();
    assert_eq!(run.code(), 1, "suite c cannot have its directory: {}", run.describe());
    assert!(
        run.stdout().contains("not a directory qaagent made"),
        "{}",
        run.describe()
    );
    assert_eq!(
        read_text(&notes),
        "my notes\n",
        "the user's file named like the suite is kept"
    );

    let out = user.path().join("qa");
    for _ in 0..2 {
        // The second run clears the first one's output: it is qaagent's alone.
        let run = Qaagent::new(project.path())
            .args(["run-all", "--no-progress"])
            .args(out_arg(&out))
            .run();
        assert_eq!(run.code(), 0, "{}", run.describe());
    }
    std::fs::write(out.join("c/mine.txt"), "mine\n").expect("write");
    std::fs::create_dir(out.join("c/notes")).expect("mkdir");
    std::fs::write(out.join("c/notes/n.txt"), "mine\n").expect("write");
    let run = Qaagent::new(project.path())
        .args(["run-all", "--no-progress"])
        .args(out_arg(&out))
        .run();
    assert_eq!(
        run.code(),
        1,
        "the suite's directory holds a user's files: {}",
        run.describe()
    );
    assert!(
        run.stdout().contains("changed after qaagent last wrote there"),
        "{}",
        run.describe()
    );
    assert_eq!(read_text(&out.join("c/mine.txt")), "mine\n");
    assert_eq!(read_text(&out.join("c/notes/n.txt")), "mine\n");
}

#[test]
fn out_in_a_stored_run_or_a_runs_dir_is_refused() {
    let project = one_suite(&format!("echo '{FAILING_REPORT}' > {{junit}}; exit 1"));
    let runs = tempfile::tempdir().expect("tempdir");
    let first = Qaagent::with_runs_dir(project.path(), runs.path())
        .args(["run-all", "--no-progress"])
        .run();
    assert_eq!(first.code(), 1, "{}", first.describe());
    let stored = first.run_dir();
    let report = stored.join("artifacts/c/junit.xml");
    let failing = read_text(&report);
    std::fs::write(
        project.path().join(".qaagent.toml"),
        read_text(&project.path().join(".qaagent.toml")).replace(FAILING_REPORT, PASSING_REPORT),
    )
    .expect("now the suite passes");
    for out in [stored.join("artifacts"), stored.clone(), runs.path().to_path_buf()] {
        let run = Qaagent::with_runs_dir(project.path(), runs.path())
            .args(["run-all", "--no-progress"])
            .args(out_arg(&out))
            .run();
        assert_eq!(run.code(), 2, "--out {}: {}", out.display(), run.describe());
        assert!(
            run.stderr().contains("give --out a directory of its own"),
            "{}",
            run.describe()
        );
    }
    assert_eq!(read_text(&report), failing, "the stored run's report is untouched");
    assert_eq!(first.run_dirs().len(), 1, "no run was started");
}

#[test]
fn a_second_run_sharing_a_live_runs_out_is_refused() {
    let project = one_suite(&format!(
        "if mkdir first 2>/dev/null; then touch started; while [ ! -e release ]; do sleep 0.05; done; \
         echo '{FAILING_REPORT}' > {{junit}}; else echo '{PASSING_REPORT}' > {{junit}}; fi"
    ));
    let out = project.path().join("build/qa");
    let mut first = Qaagent::new(project.path())
        .args(["run-all", "--no-progress"])
        .args(out_arg(&out));
    let mut child = first
        .command()
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the first run");
    while !project.path().join("started").exists() {
        assert!(
            child.try_wait().expect("wait").is_none(),
            "the first run ended before its tool started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let second = Qaagent::new(project.path())
        .args(["run-all", "--no-progress"])
        .args(out_arg(&out))
        .run();
    std::fs::write(project.path().join("release"), "").expect("release the first run's tool");
    let output = child.wait_with_output().expect("first run");
    assert_eq!(second.code(), 2, "{}", second.describe());
    assert!(
        second.stderr().contains("another qaagent run is using it"),
        "{}",
        second.describe()
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(1),
        "the first run's failure is its own: {stdout}"
    );
    assert!(read_text(&out.join("c/junit.xml")).contains("boom"));
}

#[test]
fn a_suite_dir_a_tool_swapped_for_a_link_is_not_written_into() {
    let outside = tempfile::tempdir().expect("tempdir");
    let victim = outside.path().join("victim");
    std::fs::create_dir_all(victim.join("attempt-2")).expect("mkdir");
    std::fs::write(victim.join("attempt-2/keep.txt"), "precious\n").expect("write");
    let project = one_suite(&format!(
        "echo '{FAILING_REPORT}' > {{junit}}; mv {{out}} {{out}}.moved; ln -s {} {{out}}; exit 1",
        victim.display()
    ));
    let run = Qaagent::new(project.path())
        .args(["run-all", "--no-progress", "--retries", "1"])
        .run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    assert!(
        run.stdout().contains("it was replaced during the run"),
        "{}",
        run.describe()
    );
    let mut found: Vec<_> = std::fs::read_dir(&victim)
        .expect("victim")
        .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    assert_eq!(
        found,
        ["attempt-2"],
        "nothing written into the victim: {}",
        run.describe()
    );
    assert_eq!(read_text(&victim.join("attempt-2/keep.txt")), "precious\n");
}

#[test]
fn a_runs_evidence_dir_a_tool_swapped_for_a_link_is_not_written_into() {
    let outside = tempfile::tempdir().expect("tempdir");
    let victim = outside.path().join("victim");
    std::fs::create_dir(&victim).expect("mkdir");
    std::fs::write(victim.join("tests.jsonl"), "precious\n").expect("write");
    // Once suite a's records are written, suite b's tool swaps evidence/.
    let project = failing_then(&format!(
        "RUN=$(dirname $(dirname {{out}})); for _ in $(seq 500); do grep -qs boom $RUN/evidence/tests.jsonl && break; sleep 0.02; done; \
         mv $RUN/evidence $RUN/evidence.old; ln -s {} $RUN/evidence; echo '{PASSING_REPORT}' > {{junit}}",
        victim.display()
    ));
    let run = Qaagent::new(project.path()).args(["run-all", "--no-progress"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    assert_eq!(
        read_text(&victim.join("tests.jsonl")),
        "precious\n",
        "{}",
        run.describe()
    );
    let found: Vec<_> = std::fs::read_dir(&victim)
        .expect("victim")
        .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        found,
        ["tests.jsonl"],
        "nothing written into the victim: {}",
        run.describe()
    );
    let manifest = run.manifest();
    assert_eq!(manifest["status"], "incomplete", "{manifest}");
    assert!(
        manifest["incomplete_reason"]
            .as_str()
            .is_some_and(|why| why.contains("replaced during the run")),
        "{manifest}"
    );
}
