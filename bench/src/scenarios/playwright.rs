//! Target 1 with Playwright: a Playwright suite through `qaagent run-all`
//! against the same `npx playwright test` alone, on two cores where the
//! browser, Node.js and qaagent compete for the CPU. Wall time is what a
//! user waits; CPU time (of the whole process tree) is what qaagent adds
//! to that competition, and stays readable on a loaded machine.

use qaagent_bench::measure::{self, Stats};
use qaagent_bench::projects;

use crate::harness::{checked, latest_run, manifest, qaagent_cmd, row, secs, Opts, Outcome};

/// Rounds of `run-all` and the tool alone, interleaved; the median
/// difference is qaagent's overhead on a Playwright suite.
pub(crate) fn run(opts: &Opts) -> Outcome {
    if !projects::playwright_node_modules().join(".bin/playwright").is_file() {
        return Err(format!(
            "no Playwright in {}: run scripts/setup-test-env.sh",
            projects::playwright_node_modules().display()
        ));
    }
    let project = opts.work.path().join("playwright");
    projects::playwright(&project).map_err(|e| e.to_string())?;
    let runs_dir = opts.work.path().join("playwright-runs");
    println!(
        "### Playwright (6 tests, 2 workers, Debian's chromium), `{}`\n",
        opts.qaagent.display()
    );
    let (mut through, mut alone) = (Vec::new(), Vec::new());
    let (mut through_cpu, mut alone_cpu) = (Vec::new(), Vec::new());
    // What the version probe qaagent no longer runs (issue 14, item 13) cost.
    let mut probe_cpu = Vec::new();
    for round in 0..opts.runs(5) {
        let qaagent = checked(
            measure::run_tree(&mut qaagent_cmd(opts, &project, &runs_dir, &[])),
            "run-all",
        )?;
        let out = opts.work.path().join(format!("playwright-alone-{round}"));
        let mut tool = projects::playwright_alone(&project, &out).map_err(|e| e.to_string())?;
        let bare = checked(measure::run_tree(&mut tool), "npx playwright test")?;
        println!(
            "round {}: run-all {:.3} s ({:.3} s CPU), npx playwright test alone {:.3} s ({:.3} s CPU)",
            round + 1,
            secs(qaagent.wall),
            secs(qaagent.cpu),
            secs(bare.wall),
            secs(bare.cpu)
        );
        through.push(secs(qaagent.wall));
        alone.push(secs(bare.wall));
        let mut probe = std::process::Command::new("npx");
        probe
            .current_dir(project.join("e2e"))
            .args(["--no", "--", "playwright", "--version"])
            .stdout(std::process::Stdio::null());
        probe_cpu.push(secs(
            checked(measure::run_tree(&mut probe), "npx playwright --version")?.cpu,
        ));
        through_cpu.push(secs(qaagent.cpu));
        alone_cpu.push(secs(bare.cpu));
    }
    let manifest = manifest(&latest_run(&runs_dir)?)?;
    if manifest["counts"]["tests"] != 6 || manifest["status"] != "passed" {
        return Err(format!("unexpected evidence: {}", manifest["counts"]));
    }
    let difference = |q: &[f64], a: &[f64]| Stats::of(&q.iter().zip(a).map(|(q, a)| q - a).collect::<Vec<_>>());
    let wall = difference(&through, &alone);
    let cpu = difference(&through_cpu, &alone_cpu);
    println!(
        "\nmedians: run-all {:.3} s ({:.3} s CPU), npx playwright test alone {:.3} s ({:.3} s CPU)",
        Stats::of(&through).median,
        Stats::of(&through_cpu).median,
        Stats::of(&alone).median,
        Stats::of(&alone_cpu).median
    );
    Ok(vec![
        row(
            "1. Playwright: run-all − npx playwright test alone",
            wall.ms(),
            "≤ 20 ms",
            wall.median <= 0.020,
        ),
        row(
            "1. Playwright: CPU of run-all − CPU of the tool alone",
            cpu.ms(),
            "(reference)",
            cpu.median <= 0.020,
        ),
        row(
            "1. Playwright: CPU of `npx playwright --version` (the probe qaagent no longer runs)",
            Stats::of(&probe_cpu).ms(),
            "(reference)",
            true,
        ),
    ])
}
