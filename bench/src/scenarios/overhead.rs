//! Target 1: orchestration overhead.

use std::path::Path;
use std::process::Command;

use qaagent_bench::measure::Stats;
use qaagent_bench::projects;

use crate::harness::{
    latest_run, manifest, ok_run, qaagent_cmd, row, run_pool, secs, sleep_commands, tool_commands, Opts, Outcome, Row,
};

/// One round of target 1 on a project: parallel and sequential `run-all`,
/// each tool alone, and the three tools side by side without qaagent.
struct OverheadRound {
    parallel: f64,
    sequential: f64,
    alone: Vec<f64>,
    side_by_side: f64,
}

/// Target 1: three suites sleeping 1, 2 and 3 s, in parallel and in sequence,
/// against the same tools run alone. First with `command` runner suites whose
/// tool (`sh`, `sleep`) takes a time known to the millisecond; then with
/// pytest, whose interpreter start-up alone varies by tens of milliseconds.
pub(crate) fn run(opts: &Opts) -> Outcome {
    let mut rows = Vec::new();

    let project = opts.work.path().join("overhead-sleep");
    let suites = projects::sleep_suites(&project, &[1.0, 2.0, 3.0], "max_workers = 3\n").map_err(|e| e.to_string())?;
    let runs_dir = opts.work.path().join("overhead-sleep-runs");
    let alone = |tag: &str| sleep_commands(&project, &suites, &opts.work.path().join(tag));
    println!(
        "### `command` runner (tools: `sh -c 'sleep N && printf <junit> > {{junit}}'`), `{}`\n",
        opts.qaagent.display()
    );
    let rounds = overhead_rounds(opts, opts.runs(10), &project, &runs_dir, &alone)?;
    rows.extend(overhead_rows(&rounds, "command runner"));

    let project = opts.work.path().join("overhead-pytest");
    let suites = projects::sleepers(&project, &opts.python).map_err(|e| e.to_string())?;
    let runs_dir = opts.work.path().join("overhead-pytest-runs");
    let alone = |tag: &str| tool_commands(opts, &project, &suites, tag);
    println!("\n### pytest (tests: `time.sleep(N)`), `{}`\n", opts.qaagent.display());
    let rounds = overhead_rounds(opts, opts.runs(5), &project, &runs_dir, &alone)?;
    rows.extend(overhead_rows(&rounds, "pytest"));
    Ok(rows)
}

fn overhead_rounds(
    opts: &Opts,
    rounds: usize,
    project: &Path,
    runs_dir: &Path,
    alone: &dyn Fn(&str) -> Result<Vec<Command>, String>,
) -> Result<Vec<OverheadRound>, String> {
    let mut out = Vec::new();
    for round in 0..rounds {
        let parallel = ok_run(
            &mut qaagent_cmd(opts, project, runs_dir, &["--parallel"]),
            "run-all --parallel",
        )?;
        let sequential = ok_run(&mut qaagent_cmd(opts, project, runs_dir, &["--sequential"]), "run-all")?;
        let mut times = Vec::new();
        for mut cmd in alone("overhead-alone")? {
            times.push(secs(ok_run(&mut cmd, "tool alone")?.wall));
        }
        let side_by_side = secs(run_pool(alone("overhead-pool")?, 3)?);
        println!(
            "round {}: parallel {:.3} s, sequential {:.3} s, tools alone {:?} s, tools side by side {:.3} s",
            round + 1,
            secs(parallel.wall),
            secs(sequential.wall),
            times.iter().map(|a| (a * 1e3).round() / 1e3).collect::<Vec<_>>(),
            side_by_side
        );
        out.push(OverheadRound {
            parallel: secs(parallel.wall),
            sequential: secs(sequential.wall),
            alone: times,
            side_by_side,
        });
    }
    let manifest = manifest(&latest_run(runs_dir)?)?;
    if manifest["counts"]["tests"] != 3 || manifest["status"] != "passed" {
        return Err(format!("unexpected evidence: {}", manifest["counts"]));
    }
    Ok(out)
}

fn overhead_rows(rounds: &[OverheadRound], label: &str) -> Vec<Row> {
    let max = |r: &OverheadRound| r.alone.iter().copied().fold(0.0, f64::max);
    let sum = |r: &OverheadRound| r.alone.iter().sum::<f64>();
    let par = Stats::of(&rounds.iter().map(|r| r.parallel - max(r)).collect::<Vec<_>>());
    let seq = Stats::of(&rounds.iter().map(|r| r.sequential - sum(r)).collect::<Vec<_>>());
    let pvs = Stats::of(&rounds.iter().map(|r| r.parallel - r.side_by_side).collect::<Vec<_>>());
    println!(
        "\nmedians: parallel run-all {:.3} s, slowest tool alone {:.3} s, tools side by side {:.3} s; \
         sequential run-all {:.3} s, sum of tools {:.3} s",
        Stats::of(&rounds.iter().map(|r| r.parallel).collect::<Vec<_>>()).median,
        Stats::of(&rounds.iter().map(max).collect::<Vec<_>>()).median,
        Stats::of(&rounds.iter().map(|r| r.side_by_side).collect::<Vec<_>>()).median,
        Stats::of(&rounds.iter().map(|r| r.sequential).collect::<Vec<_>>()).median,
        Stats::of(&rounds.iter().map(sum).collect::<Vec<_>>()).median,
    );
    vec![
        row(
            &format!("1. {label}: parallel − slowest tool alone"),
            par.ms(),
            "≤ 20 ms",
            par.median <= 0.020,
        ),
        row(
            &format!("1. {label}: sequential − sum of tools"),
            seq.ms(),
            "≤ 20 ms",
            seq.median <= 0.020,
        ),
        row(
            &format!("1. {label}: parallel − the 3 tools side by side"),
            pvs.ms(),
            "(reference)",
            pvs.median <= 0.020,
        ),
    ]
}
