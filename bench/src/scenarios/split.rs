//! Target 9: `split` brings a slow suite's wall time close to its total
//! test time over the cores.
//!
//! - behave, 4 features of one 1.5 s scenario each, `split = 2`,
//!   `max_workers = 2`: wall time at most 0.65 × the same suite unsplit
//!   (`--split 1`);
//! - pytest without xdist, 12 tests of 0.5 s, `split = "auto"`: wall time
//!   within 15 % of (total test time / 2) + one pytest start-up (`pytest
//!   --collect-only` of the suite, which is what a process costs beyond its
//!   tests), printed beside `pytest -n 2` (pytest-xdist) run alone on the
//!   same suite.
//!
//! Every kind of run is taken once per round, round after round, so that a
//! noisy machine disturbs each alike; a first round, not counted, stores the
//! durations the shares are balanced by.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use qaagent_bench::measure::Stats;

use crate::harness::{latest_run, ok_run, qaagent_cmd, recorded_test_seconds, row, secs, Opts, Outcome};

const FEATURES: usize = 4;
const SCENARIO_SECONDS: f64 = 1.5;
const PYTEST_FILES: usize = 4;
const TESTS_PER_FILE: usize = 3;
const TEST_SECONDS: f64 = 0.5;

/// The runs of a round, in order: what each is, whether qaagent runs it
/// (else pytest alone), and the arguments.
const KINDS: [(&str, bool, &[&str]); 6] = [
    ("behave unsplit", true, &["--suite", "behave", "--split", "1"]),
    ("behave split = 2", true, &["--suite", "behave"]),
    ("pytest unsplit", true, &["--suite", "unit", "--split", "1"]),
    ("pytest split = auto", true, &["--suite", "unit"]),
    ("pytest -n 2", false, &["-n", "2"]),
    ("pytest --collect-only", false, &["--collect-only"]),
];

pub(crate) fn run(opts: &Opts) -> Outcome {
    let project = opts.work.path().join("split");
    write_project(&project, opts)?;
    let runs = opts.work.path().join("split-runs");
    let qaagent = |args: &[&str], what: &str| -> Result<f64, String> {
        let mut cmd = qaagent_cmd(opts, &project, &runs, args);
        Ok(secs(ok_run(&mut cmd, what)?.wall))
    };
    let python = |args: &[&str], what: &str| -> Result<f64, String> {
        let mut cmd = Command::new(&opts.python);
        cmd.current_dir(&project)
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
            .args(args)
            .arg("tests")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        Ok(secs(ok_run(&mut cmd, what)?.wall))
    };
    // Not counted: stores the durations, and the unsplit run's test time.
    qaagent(&["--suite", "unit", "--split", "1"], "pytest unsplit")?;
    let total = recorded_test_seconds(&latest_run(&runs)?)?;
    qaagent(&["--suite", "behave", "--split", "1"], "behave unsplit")?;
    let mut walls: [Vec<f64>; 6] = Default::default();
    for _ in 0..opts.runs(5) {
        for ((what, by_qaagent, args), walls) in KINDS.iter().zip(&mut walls) {
            walls.push(if *by_qaagent {
                qaagent(args, what)?
            } else {
                python(args, what)?
            });
        }
    }
    let [behave_whole, behave_split, pytest_whole, pytest_auto, xdist, startup] = &walls;
    let median = |values: &[f64]| Stats::of(values).median;
    println!("behave: unsplit {behave_whole:.2?} s, split {behave_split:.2?} s");
    println!(
        "pytest: unsplit {pytest_whole:.2?} s, split = auto {pytest_auto:.2?} s, pytest -n 2 {xdist:.2?} s, \
         start-up {startup:.2?} s; tests {total:.2} s"
    );
    let (behave_whole, behave_split) = (median(behave_whole), median(behave_split));
    let behave_ratio = behave_split / behave_whole;
    let ideal = total / 2.0 + median(startup);
    let auto = median(pytest_auto);
    Ok(vec![
        row(
            "9. behave, 4 features × 1.5 s, split = 2, max_workers = 2: wall over unsplit",
            format!("{behave_ratio:.2} × ({behave_split:.2} s over {behave_whole:.2} s)"),
            "≤ 0.65 ×",
            behave_ratio <= 0.65,
        ),
        row(
            "9. pytest without xdist, 12 × 0.5 s, split = \"auto\": wall over total / 2 + one start-up",
            format!(
                "{:+.1} % ({auto:.2} s over {ideal:.2} s; unsplit {:.2} s; pytest -n 2 alone {:.2} s)",
                (auto / ideal - 1.0) * 100.0,
                median(pytest_whole),
                median(xdist)
            ),
            "≤ +15 %",
            auto <= ideal * 1.15,
        ),
    ])
}

/// A behave suite of [`FEATURES`] slow features and a pytest suite of
/// sleeping tests, both passing.
fn write_project(dir: &Path, opts: &Opts) -> Result<(), String> {
    let write = |path: &str, text: String| {
        let path = dir.join(path);
        fs::create_dir_all(path.parent().unwrap_or(dir)).map_err(|e| e.to_string())?;
        fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
    };
    let python = format!("{:?}", opts.python.display().to_string());
    write(
        ".qaagent.toml",
        format!(
            "[project]\nname = \"split-bench\"\n\n[run]\nmax_workers = 2\n\n\
             [tests.behave]\npath = \"features\"\npython = {python}\nsplit = 2\n\n\
             [tests.unit]\npath = \"tests\"\npython = {python}\nsplit = \"auto\"\n"
        ),
    )?;
    write(
        "features/steps/steps.py",
        "import time\n\nfrom behave import given\n\n\n@given(\"work that takes {seconds:g} seconds\")\n\
         def step_work(context, seconds):\n    time.sleep(seconds)\n"
            .to_string(),
    )?;
    for feature in 0..FEATURES {
        write(
            &format!("features/f{feature}.feature"),
            format!(
                "Feature: f{feature}\n\n  Scenario: slow {feature}\n    Given work that takes {SCENARIO_SECONDS} seconds\n"
            ),
        )?;
    }
    for file in 0..PYTEST_FILES {
        let mut code = String::from("import time\n");
        for test in 0..TESTS_PER_FILE {
            code.push_str(&format!("\n\ndef test_{test}():\n    time.sleep({TEST_SECONDS})\n"));
        }
        write(&format!("tests/test_{file}.py"), code)?;
    }
    Ok(())
}
