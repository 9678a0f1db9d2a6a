//! Target 2: start-up.

use std::process::{Command, Stdio};

use qaagent_bench::measure::Stats;
use qaagent_bench::projects;

use crate::harness::{latest_run, manifest, ok_run, qaagent_cmd, row, secs, Opts, Outcome};

/// Target 2: `qaagent --version`, and `run-all` on a project whose suites are all disabled.
pub(crate) fn run(opts: &Opts) -> Outcome {
    let runs = opts.runs(50);
    let project = opts.work.path().join("startup");
    projects::all_disabled(&project, &opts.python).map_err(|e| e.to_string())?;
    let runs_dir = opts.work.path().join("startup-runs");
    let mut version = Vec::new();
    let mut run_all = Vec::new();
    // Warm-up: page cache, dynamic loader.
    for _ in 0..3 {
        ok_run(
            Command::new(&opts.qaagent).arg("--version").stdout(Stdio::null()),
            "qaagent --version",
        )?;
        ok_run(
            &mut qaagent_cmd(opts, &project, &runs_dir, &["--no-tests=pass"]),
            "run-all",
        )?;
    }
    for _ in 0..runs {
        let sample = ok_run(
            Command::new(&opts.qaagent).arg("--version").stdout(Stdio::null()),
            "qaagent --version",
        )?;
        version.push(secs(sample.wall));
        let sample = ok_run(
            &mut qaagent_cmd(opts, &project, &runs_dir, &["--no-tests=pass"]),
            "run-all",
        )?;
        run_all.push(secs(sample.wall));
    }
    let last = manifest(&latest_run(&runs_dir)?)?;
    if last["status"] != "passed" || last["finished_at"].is_null() || last["target"]["git"]["commit"].is_null() {
        return Err(format!("the run was not finalized as expected: {last}"));
    }
    let version = Stats::of(&version);
    let run_all = Stats::of(&run_all);
    println!("`qaagent --version`: {}", version.ms());
    println!(
        "`qaagent run-all`, every suite disabled, project in git: {}",
        run_all.ms()
    );
    Ok(vec![
        row(
            "2. `qaagent --version`",
            version.ms(),
            "≤ 5 ms",
            version.median <= 0.005,
        ),
        row(
            "2. `run-all`, all suites disabled",
            run_all.ms(),
            "≤ 15 ms",
            run_all.median <= 0.015,
        ),
    ])
}
