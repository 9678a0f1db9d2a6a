//! Target 5: scaling with the number of suites.

use std::fs;
use std::process::Command;

use qaagent_bench::measure::Stats;
use qaagent_bench::projects;

use crate::harness::{
    latest_run, manifest, ok_run, qaagent_cmd, row, run_pool, secs, sleep_commands, tool_commands, Opts, Outcome,
};

/// Makes the commands of a project's tools, to run them without qaagent.
type ToolCommands<'a> = Box<dyn Fn() -> Result<Vec<Command>, String> + 'a>;

/// Target 5: 1, 8 and 64 trivial suites at max_workers = 8, against the same
/// tools run 8 at a time without qaagent; with `command` runner suites (tool:
/// `sh` writing a report), then with pytest.
pub(crate) fn run(opts: &Opts) -> Outcome {
    let mut rows = Vec::new();
    for pytest in [false, true] {
        let label = if pytest { "pytest" } else { "command runner" };
        println!("### {label}\n");
        let mut per_suite = Vec::new();
        for count in [1usize, 8, 64] {
            let rounds = opts
                .runs(if count == 64 { 5 } else { 10 })
                .min(if pytest && count == 64 { 3 } else { usize::MAX });
            let project = opts
                .work
                .path()
                .join(format!("scaling-{label}-{count}").replace(' ', "-"));
            let runs_dir = project.with_extension("runs");
            let commands: ToolCommands<'_> = if pytest {
                let suites = projects::trivial(&project, &opts.python, count).map_err(|e| e.to_string())?;
                let project = project.clone();
                Box::new(move || tool_commands(opts, &project, &suites, "scaling-pool"))
            } else {
                let suites = projects::sleep_suites(&project, &vec![0.0; count], "max_workers = 8\n")
                    .map_err(|e| e.to_string())?;
                let project = project.clone();
                let pool = opts.work.path().join("scaling-pool");
                Box::new(move || sleep_commands(&project, &suites, &pool))
            };
            let (mut diffs, mut qa, mut pool) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..rounds {
                let sample = ok_run(&mut qaagent_cmd(opts, &project, &runs_dir, &["--parallel"]), "run-all")?;
                let baseline = run_pool(commands()?, 8)?;
                qa.push(secs(sample.wall));
                pool.push(secs(baseline));
                diffs.push((secs(sample.wall) - secs(baseline)) / count as f64);
            }
            let manifest = manifest(&latest_run(&runs_dir)?)?;
            if manifest["counts"]["tests"] != count {
                return Err(format!("{count} suites: unexpected counts {}", manifest["counts"]));
            }
            let diff = Stats::of(&diffs);
            println!(
                "{count} suite(s): run-all {:.3} s, the same tools 8 at a time {:.3} s; overhead per suite {}",
                Stats::of(&qa).median,
                Stats::of(&pool).median,
                diff.ms()
            );
            per_suite.push((count, diff.median, Stats::of(&qa).median - Stats::of(&pool).median));
            let _ = fs::remove_dir_all(&runs_dir);
        }
        // Linear growth of the total is a per-suite overhead that does not grow with the count.
        let first = per_suite.first().map_or(0.0, |p| p.2);
        let last = per_suite.last().map_or(0.0, |p| p.2);
        let text: Vec<String> = per_suite
            .iter()
            .map(|(n, d, total)| format!("{n}: {:.1} ms/suite ({:.0} ms in all)", d * 1e3, total * 1e3))
            .collect();
        println!();
        // At most linear: 64 suites cost no more than 64 times what one costs (with 5 ms of slack for noise).
        rows.push(row(
            &format!("5. {label}: overhead per suite at 1, 8, 64 suites"),
            text.join("; "),
            "total grows at most linearly",
            last <= 64.0 * first.max(0.0) + 0.005 * 64.0,
        ));
    }
    Ok(rows)
}
